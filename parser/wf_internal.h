/* tier_parser internals: the builder the three format readers (DAX XML,
 * WfFormat JSON, Pegasus YAML) feed, and the small containers it uses.
 *
 * Invariants: readers only call wfb_*; everything format-independent
 * (dedup, edge union, levels, cycle check, size rules, features, lookup
 * index) happens once in wfb_finish(). Strings handed to the builder are
 * copied into its arena, so readers may pass pointers into parser-owned
 * buffers. Not part of the public API.
 */
#ifndef TIER_PARSER_WF_INTERNAL_H
#define TIER_PARSER_WF_INTERNAL_H

#include "workflow.h"

#include <stdbool.h>
#include <stdio.h>

/* Bump allocator; everything it hands out lives as long as the arena. */
struct wf_arena {
	struct wf_chunk *head;
};
void *wf_arena_alloc(struct wf_arena *a, size_t n);
char *wf_arena_strdup(struct wf_arena *a, const char *s, size_t n);
void wf_arena_free(struct wf_arena *a);

/* String -> uint32 open-addressing map; keys are not copied. */
struct wf_smap {
	struct wf_sslot *slots;
	uint32_t cap, count;
};
/* FNV-1a over the bytes taken from last to first, then an avalanche so
 * the low bits used for the slot depend on every byte. Running backwards
 * lets a lookup hash every '/'-suffix of a path in one pass. */
#define WF_FNV_OFFSET 0xcbf29ce484222325ULL
static inline uint64_t wf_hash_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * 0x100000001b3ULL;
}
static inline uint64_t wf_hash_finish(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}
uint64_t wf_hash(const char *s, size_t n);
WF_WUR int wf_smap_put(struct wf_smap *m, const char *key, uint32_t val,
		       uint32_t *existing);
bool wf_smap_get(const struct wf_smap *m, const char *key, size_t n,
		 uint64_t h, uint32_t *val);
/* Replace the value of a key known to exist. */
void wf_smap_set(struct wf_smap *m, const char *key, uint32_t val);
void wf_smap_free(struct wf_smap *m);

/* Normalise a mount-relative path (see wf_file_features). Returns length
 * or -ENAMETOOLONG. */
int wf_normalize(const char *in, size_t inlen, char *out, size_t outcap);

enum wfb_link { WFB_IN = 1, WFB_OUT = 2 };
enum wfb_ref { WFB_REF_ID, WFB_REF_NAME };

struct wf_builder;

struct wf_builder *wfb_new(const char *src, const struct wf_options *opts,
			   char *err, size_t errlen);
void wfb_free(struct wf_builder *b);

/* Record an error (first one wins) and return -EINVAL. line 0 = none. */
int wfb_error(struct wf_builder *b, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int wfb_error_code(struct wf_builder *b, int code, unsigned line,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void wfb_warn(struct wf_builder *b, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *wfb_src(const struct wf_builder *b);

void wfb_set_name(struct wf_builder *b, const char *name);
/* New task; name may be NULL (= id); category NULL derives one from name.
 * runtime < 0 with has_runtime: repaired with a warning. */
WF_WUR int wfb_task(struct wf_builder *b, unsigned line, const char *id,
		    const char *name, const char *category, uint32_t *idx);
WF_WUR int wfb_task_runtime(struct wf_builder *b, uint32_t task,
			    unsigned line, double runtime);
/* The program a task runs (WfFormat command.program) becomes its category
 * when the file gave none: names such as "mapMerge_mapMerge_080603_..._ID42"
 * otherwise derive one category per task. */
WF_WUR int wfb_task_program(struct wf_builder *b, uint32_t task, const char *program);
/* A task uses a file. size < 0 = not declared; raw size value is given
 * as double so that readers of every format share one range check. */
WF_WUR int wfb_use(struct wf_builder *b, uint32_t task, unsigned line,
		   const char *file, int link, bool has_size, double size);
/* A size mention outside any task (replica catalogue, 1.5 file list). */
WF_WUR int wfb_file_size(struct wf_builder *b, unsigned line,
			 const char *file, double size);
/* Explicit dependency, resolved when all tasks are known. */
WF_WUR int wfb_edge(struct wf_builder *b, unsigned line, const char *parent,
		    const char *child, enum wfb_ref how);
/* Same with one end already known by index (WFB_NOIDX = use the ref). */
#define WFB_NOIDX UINT32_MAX
WF_WUR int wfb_edge_ix(struct wf_builder *b, unsigned line,
		       uint32_t parent_idx, const char *parent_ref,
		       uint32_t child_idx, const char *child_ref,
		       enum wfb_ref how);
/* Task index by id; false if no such task (yet). */
bool wfb_task_find(struct wf_builder *b, const char *id, uint32_t *idx);
WF_WUR int wfb_finish(struct wf_builder *b, enum wf_format fmt,
		      wf_graph **out);

/* Parse a size/runtime given as text; false if not a number. */
bool wf_parse_number(const char *s, double *out);

/* Format readers: fill the builder, return 0 or negative errno. */
WF_WUR int wf_read_dax(struct wf_builder *b, const char *buf, size_t len,
		       enum wf_format *fmt);
WF_WUR int wf_read_json(struct wf_builder *b, const char *buf, size_t len,
			enum wf_format *fmt);
WF_WUR int wf_read_yaml(struct wf_builder *b, const char *buf, size_t len,
			enum wf_format *fmt);

#endif
