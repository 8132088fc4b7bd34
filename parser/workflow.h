/* tier_parser: workflow descriptions -> one workflow graph -> per-file
 * workflow features V1-V7 (see DESIGN.md, "Features").
 *
 * Formats (detected from content, never from the file name): Pegasus DAX
 * 2.1 and 3.x XML, Pegasus 5 YAML, WfCommons WfFormat JSON 1.0-1.5.
 *
 * Invariants: a loaded wf_graph is immutable, so every query is safe from
 * any number of threads at once without locking. Every string and array a
 * query returns is owned by the graph and stays valid until wf_destroy().
 * The library never prints and never exits: errors come back as a negative
 * errno plus a message in the caller's buffer (file, line where the format
 * has one, key, what was expected); warnings (repaired values) go to the
 * optional log callback in struct wf_options.
 *
 * Assumes nothing about FUSE: the daemon passes the path of a created file
 * relative to the directory the workflow is attached to.
 */
#ifndef TIER_PARSER_WORKFLOW_H
#define TIER_PARSER_WORKFLOW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WF_WUR __attribute__((warn_unused_result))

/* Distance reported by V6/V7 for a file nobody reads (a final output). */
#define WF_DIST_NONE UINT32_MAX
/* Files larger than this are refused unless wf_options.max_bytes says so. */
#define WF_DEFAULT_MAX_BYTES ((size_t)512 << 20)

typedef struct wf_graph wf_graph;

enum wf_format {
	WF_FORMAT_UNKNOWN = 0,
	WF_FORMAT_DAX2,      /* Pegasus DAX 2.x XML */
	WF_FORMAT_DAX3,      /* Pegasus DAX 3.x XML */
	WF_FORMAT_PEGASUS5,  /* Pegasus 5 YAML */
	WF_FORMAT_WFJSON_JOBS,  /* WfFormat 1.0-1.2: workflow.jobs[] */
	WF_FORMAT_WFJSON_TASKS, /* WfFormat 1.3-1.4: workflow.tasks[] */
	WF_FORMAT_WFJSON_SPEC,  /* WfFormat 1.5: specification + execution */
};

enum wf_log_level { WF_LOG_WARN = 1, WF_LOG_INFO = 2 };
typedef void (*wf_log_fn)(void *ud, enum wf_log_level level, const char *msg);

struct wf_options {
	size_t max_bytes;  /* 0 = WF_DEFAULT_MAX_BYTES */
	wf_log_fn log;     /* NULL = warnings dropped (still counted) */
	void *log_ud;
	unsigned max_warnings; /* per load, 0 = 20; the rest are only counted */
};

/* Per-file answer to "what does the workflow say about this file". */
struct wf_file_features {
	/* V1-V7 as DESIGN.md defines them. A file no task writes (a workflow
	 * input) has producer_level 0, producer_width 0, and distances counted
	 * from a virtual stage-in level -1. */
	uint32_t producer_level;     /* V1 */
	uint32_t producer_width;     /* V2 */
	uint32_t wf_tasks;           /* V3 */
	uint64_t wf_bytes;           /* V4 */
	uint32_t consumers;          /* V5 */
	uint32_t next_use_distance;  /* V6, WF_DIST_NONE if no consumer */
	uint32_t last_use_distance;  /* V7, WF_DIST_NONE if no consumer */
	uint64_t size;               /* declared size of this file (0 = none) */
	uint32_t producers;          /* writers; > 1 means later re-writes */
	uint32_t file_index;         /* for wf_file_info() */
	const char *name;            /* the workflow's identity of the file */
	const char *producer_id;     /* owning producer's task id, NULL if none */
	const char *producer_category; /* its transformation / category */
	uint64_t producer_input_bytes; /* declared bytes of its input files */
};

struct wf_task_info {
	const char *id;
	const char *category;  /* transformation name or WfFormat category */
	uint32_t level;        /* longest-path depth, 0 = entry task */
	uint32_t index;        /* position in document order */
	double runtime;        /* seconds, < 0 if the description has none */
	uint64_t input_bytes;  /* declared bytes read */
	uint64_t output_bytes; /* declared bytes written */
	uint32_t n_inputs, n_outputs, n_parents, n_children;
	const uint32_t *inputs, *outputs;   /* file indexes */
	const uint32_t *parents, *children; /* task indexes (union graph) */
};

struct wf_summary {
	enum wf_format format;
	const char *name;          /* workflow name, "" if none */
	uint32_t tasks, files;
	uint64_t edges;            /* explicit U implied, distinct pairs */
	uint64_t explicit_edges;   /* distinct explicit pairs */
	uint64_t implied_edges;    /* distinct producer->consumer pairs */
	uint32_t levels;           /* number of distinct depths */
	uint32_t max_width;        /* most tasks on one level */
	uint64_t declared_bytes;   /* V4 */
	uint32_t multi_producer_files;
	uint32_t size_conflicts;   /* files whose mentions disagree on size */
	uint32_t repaired_sizes;   /* negative sizes made positive */
	uint32_t repaired_runtimes;
	uint32_t warnings;
};

/* Load a workflow. On success *out owns a new graph (free with
 * wf_destroy). On failure returns a negative errno, *out is NULL and err
 * (if errlen > 0) holds one line naming file, line, key and cause:
 * -ENOENT/-EACCES/... from open, -EFBIG over the size limit, -EINVAL for
 * malformed or inconsistent content (dangling reference, cycle, absurd
 * value, duplicate task id, DOCTYPE/entities, nesting too deep, YAML alias
 * blow-up), -ENOTSUP for an unrecognised format, -E2BIG past 2^30 tasks or
 * 64 Mi dependencies, -ENOMEM. opts may be NULL. */
WF_WUR int wf_load(const char *path, const struct wf_options *opts,
		   wf_graph **out, char *err, size_t errlen);
/* Same from memory; name is used in messages only. buf need not be
 * NUL-terminated and is not kept. */
WF_WUR int wf_load_buffer(const char *buf, size_t len, const char *name,
			  const struct wf_options *opts, wf_graph **out,
			  char *err, size_t errlen);
void wf_destroy(wf_graph *g);

const char *wf_format_name(enum wf_format f);
void wf_get_summary(const wf_graph *g, struct wf_summary *out);

/* Features of the file a task creates at relpath (relative to the
 * directory the workflow is attached to; leading "/" and "./", repeated
 * "/" and "." components are ignored). Matching, in order: the whole path
 * equals a file's name; else the longest trailing part of relpath (cut at
 * "/") that equals a trailing part of exactly one file's name, down to the
 * bare basename. Returns 0, -ENOENT if the workflow does not know the file
 * or the match is ambiguous, -ENAMETOOLONG past PATH_MAX. O(components of
 * relpath) hash probes, no allocation. */
WF_WUR int wf_file_features(const wf_graph *g, const char *relpath,
			    struct wf_file_features *out);

uint32_t wf_task_count(const wf_graph *g);
uint32_t wf_file_count(const wf_graph *g);
/* i-th task in topological order (by level, then document order);
 * -ERANGE past the end, like the two below. */
WF_WUR int wf_task_topo(const wf_graph *g, uint32_t i, struct wf_task_info *out);
/* Task by document-order index (as in wf_task_info.parents). */
WF_WUR int wf_task_info(const wf_graph *g, uint32_t index, struct wf_task_info *out);
/* File by index (as in wf_task_info.inputs/outputs). */
WF_WUR int wf_file_info(const wf_graph *g, uint32_t index,
			struct wf_file_features *out);

/* The whole graph as a JSON report (see wf_report.c for its keys), in a
 * malloc'd string the caller frees. 0 or -ENOMEM. */
WF_WUR int wf_report_json(const wf_graph *g, char **out);

#ifdef __cplusplus
}
#endif
#endif
