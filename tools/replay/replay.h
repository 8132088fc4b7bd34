/* tier_replay: run a workflow's I/O against a directory (a tierfs mount or
 * any other) and measure it; the engine behind tierreplay(1).
 *
 * A run has three steps, each callable on its own so a test can tamper
 * with files between them: rp_stage() removes stale outputs and writes the
 * files no task produces before it runs; rp_execute() runs the tasks in
 * dependency order on N threads (each reads its inputs fully, verifying
 * every byte, optionally computes, then writes its outputs); rp_tier_scan()
 * reads user.tierfs.tier of every file afterwards.
 *
 * File content is a pure function of (mapped path, offset, seed): 64-bit
 * words of a counter-mode hash, so any reader can verify any byte range
 * without the writer. Sizes are the declared sizes times the scale.
 *
 * File names: a workflow's logical name becomes a path below DIR by
 * rp_map_name(); every open walks that path one component at a time below
 * a descriptor of DIR without following symlinks, so nothing a workflow
 * names can be read or written outside DIR.
 *
 * Ownership: rp_create() borrows the graph; it must outlive the run.
 * Strings returned by accessors are owned by the run (or the graph) and
 * stay valid until rp_destroy(). The library never prints and never exits;
 * errors are a negative errno plus one message (rp_error()).
 */
#ifndef TIER_REPLAY_REPLAY_H
#define TIER_REPLAY_REPLAY_H

#include "workflow.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RP_WUR __attribute__((warn_unused_result))
#define RP_MAX_WORKERS 1024
/* Tier name reported for files without a user.tierfs.tier attribute. */
#define RP_TIER_UNKNOWN "unknown"

typedef struct rp_run rp_run;

enum rp_compute { RP_COMPUTE_NONE = 0, RP_COMPUTE_SLEEP, RP_COMPUTE_SPIN };

typedef void (*rp_log_fn)(void *ud, const char *msg);

struct rp_options {
	unsigned workers;        /* 1..RP_MAX_WORKERS; 0 = 1 */
	double scale;            /* bytes = round(declared size x scale); 0 = 1 */
	double time_scale;       /* compute seconds = runtime x time_scale */
	enum rp_compute compute;
	uint64_t seed;           /* mixed into every file's content */
	size_t chunk;            /* bytes per read/write call; 0 = 1 MiB */
	bool no_cache;           /* drop an input's cached pages before reading
				  * it, so every read reaches the storage (as
				  * the simulator assumes), not the page cache
				  * a previous reader filled */
	rp_log_fn log;           /* progress notes; NULL = none */
	void *log_ud;
};

struct rp_task_result {
	const char *id, *category;
	bool done;               /* false if the run stopped before it ended */
	double start, end;       /* seconds since rp_execute() started */
	double io_s;             /* time inside this task's file system calls:
				  * walking and opening paths, read, write,
				  * truncate, close */
	double verify_s;         /* making and checking content (CPU) */
	double compute_s;
	uint64_t read_bytes, write_bytes;
};

struct rp_summary {
	double makespan_s;       /* clock start (workers ready) to last task end */
	double io_time_s;        /* sum of rp_task_result.io_s */
	double verify_time_s;    /* sum of rp_task_result.verify_s */
	double stage_s;
	uint64_t read_bytes, write_bytes;
	uint64_t staged_bytes;
	uint32_t staged_files, removed_files;
	uint32_t tasks, tasks_done;
	bool verified;           /* every task ran and every byte read matched */
};

/* Content of a file: key from its mapped path and the seed. */
uint64_t rp_content_key(const char *relpath, uint64_t seed);
void rp_content_fill(uint64_t key, uint64_t off, void *buf, size_t len);
/* Index of the first byte of buf that differs from the content at off,
 * len if none does. */
size_t rp_content_mismatch(uint64_t key, uint64_t off, const void *buf, size_t len);

/* Map a workflow file name to a relative path below DIR: a leading "/" and
 * empty or "." components are dropped (absolute names such as Nextflow's
 * land below DIR); '%', control bytes and DEL become %XX, and a ".."
 * component becomes "%2E%2E", so distinct names stay distinct and none
 * climbs out. Returns 0; -EINVAL if nothing is left; -ENAMETOOLONG if a
 * component exceeds NAME_MAX or the path outlen. */
RP_WUR int rp_map_name(const char *lfn, char *out, size_t outlen);

/* Prepare a run of g against the existing directory dir: map every file
 * name, plan staging. Fails with -EINVAL (and a message in err naming the
 * file) when a name cannot be mapped or two names map to one path, with
 * -errno when dir cannot be opened. opts may be NULL. */
RP_WUR int rp_create(const wf_graph *g, const char *dir, const struct rp_options *opts,
		     rp_run **out, char *err, size_t errlen);
void rp_destroy(rp_run *r);

/* Remove outputs left by an earlier run (so each is created afresh) and
 * write every file that must exist before the first task: files no task
 * writes, and files a task reads without any parent writing them. */
RP_WUR int rp_stage(rp_run *r);
/* Remove stale outputs only; for runs whose inputs were staged earlier. */
RP_WUR int rp_clean(rp_run *r);
/* Run the tasks. Returns 0 when every task ran and every byte read
 * matched; -EILSEQ on a content mismatch, -ENODATA on a missing or short
 * input, another -errno on an I/O error (rp_error() names the file and
 * offset). The first failure stops the workers from taking new tasks. */
RP_WUR int rp_execute(rp_run *r);
/* Sum the bytes of every workflow file present in dir per tier named by
 * its user.tierfs.tier attribute (RP_TIER_UNKNOWN where there is none). */
RP_WUR int rp_tier_scan(rp_run *r);

const char *rp_error(const rp_run *r);
void rp_get_summary(const rp_run *r, struct rp_summary *out);
/* Task by document-order index, as in wf_task_info(). */
RP_WUR int rp_task_result(const rp_run *r, uint32_t index, struct rp_task_result *out);
/* Scaled size and mapped path of a file by its wf_file_info() index. */
uint64_t rp_file_bytes(const rp_run *r, uint32_t file_index);
const char *rp_file_path(const rp_run *r, uint32_t file_index);
uint32_t rp_tier_count(const rp_run *r);
RP_WUR int rp_tier_bytes(const rp_run *r, uint32_t i, const char **name, uint64_t *bytes,
			 uint32_t *files);

/* ---- operation streams (rp_ops.c; issue 10, learned trace generation) ---- */

struct rp_ops_summary {
	uint64_t ops, opens, reads, writes;
	uint64_t read_bytes, write_bytes;
	uint64_t short_reads; /* reads that met the end of the file */
	uint64_t left_open;   /* files the stream never closed */
	double elapsed_s;     /* first to last operation */
	double io_s;	      /* inside open/read/write/close */
};

/* Play the operation stream at ops_path ("# tierfs-ops 1": one "TIME OP
 * FILE ..." line per open r|w|rw, read OFFSET LENGTH, write OFFSET
 * LENGTH, close, in time order; trainer/tracegen.h) against dir, whose
 * files are g's (paths by rp_map_name, content by rp_content_fill with
 * opts->seed).  opts->time_scale > 0 paces it: an operation at TIME waits
 * until TIME x time_scale seconds after the start; 0 plays it at full
 * speed.  opts->chunk bounds one system call (0 = 1 MiB).  -EINVAL with
 * err naming the stream's line for a malformed line, a file g does not
 * name, or an open of an open file; -errno for an I/O error. */
RP_WUR int rp_play_ops(const wf_graph *g, const char *ops_path, const char *dir, const struct rp_options *opts,
		       struct rp_ops_summary *out, char *err, size_t errlen);

#endif
