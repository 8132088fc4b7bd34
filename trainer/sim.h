/*
 * sim.h - tier_sim: an event-driven simulator of a workflow running on
 * tiered storage (issue 7, "Simulator").  No FUSE; the labeller (genetic
 * algorithm), `tiertrain simulate` and the evaluation call it.
 *
 * Model (what a run computes):
 * - Tasks are list-scheduled on nodes x cores: a task becomes ready when all
 *   its parents (explicit and producer->consumer edges) have ended; ready
 *   tasks start in topological order (level, then document order) on the
 *   lowest-numbered free core (node = core / cores).
 * - A task reads its inputs one after another, computes for runtime x
 *   runtime_scale seconds (a missing runtime counts 0), then writes its
 *   outputs one after another.  Each operation costs the tier's latency,
 *   then moves the file's declared size through the tier's read or write
 *   channel.
 * - Every tier but the last is node-local: each node has its own instance
 *   with the configured capacity and bandwidths.  The last tier (the
 *   parallel filesystem) is one instance shared by all nodes.  A file on
 *   another node's local tier is read through the last tier's read channel
 *   at its latency (DESIGN.md: the PFS is the only path between nodes).
 * - A channel's bandwidth is shared equally among the transfers on it
 *   (max-min fair: every transfer is limited by one channel only), and the
 *   shares change whenever a transfer starts or ends.
 * - Workflow inputs (files no task writes) are on the last tier from the
 *   start and count towards its use.  Files are never deleted.
 * - A file is placed when its first writer starts writing it (the daemon's
 *   create), with room reserved for its declared size: by the per-file tier
 *   vector when it names a tier, else by the policy.  A vector's tier
 *   without room spills to the next tier with room (then from the first),
 *   counted in sim_result.spills; a policy decides through
 *   lrn_policy_place(), which never answers a full tier.  A file that fits
 *   nowhere fails the run with -ENOSPC.
 * - Background demotion as the daemon's migrator does it (high/low
 *   watermarks, finished files first, then farthest next use), with the
 *   moves' reads and writes sharing the tiers' channels with the tasks
 *   (see sim.c).  Promotion is off unless asked for (sim_config.promote,
 *   or prefetch in proactive mode, below).
 * - Monitor series and phase-aware modes (tick_s > 0, issue 9): the run
 *   drives a real monitor (monitor.h) on the simulated clock and appends
 *   one frame every tick_s simulated seconds - node 0's view (its local
 *   tier instances and the shared last tier), in the CSV the daemon's
 *   `tierctl series` writes, so `tiertrain phases` trains on it.  Bytes in
 *   a frame are those the channels carried in the tick (tasks and moves);
 *   ops are the operations ended in it (at least one when bytes moved);
 *   open files are operations in progress; every operation counts one
 *   metadata op; migration backlog is the moves copying.  With a phase
 *   model the tracker steps on every frame (mon_phase_step), as in the
 *   daemon; with proactive set, each tier instance keeps free the headroom
 *   of mon_phase_reserve() (the daemon's rule): when free space drops
 *   under it below the high watermark, the watermark's drain starts early
 *   (down to the low watermark) with files no reader will open again
 *   only (never files still to be read), and, with prefetch set, while the current or
 *   the likeliest next phase is read-heavy (mon_phase_read_heavy), the inputs of tasks not
 *   yet started at levels up to the highest started + 1, still to be read
 *   at least twice (the copy costs as much as one read from where the file
 *   is: a prefetch pays off from the second read on), move up into room
 *   below the low watermark that leaves mon_phase_keep() free; once per
 *   file, one plan at a time (the daemon's prefetch).
 * - A spill, for the figures: a file created below the first tier while
 *   the first tier had no room for its declared size (what the daemon
 *   would have to put elsewhere); near-ENOSPC when the first tier was at
 *   98% of its capacity or more then.
 * - Rewrites of a file by later producers go to where it already is.
 *
 * The features of a file (tpl_features(), the daemon's code) are computed
 * at its placement: V1-V7 and the declared size from the workflow, V8 = the
 * declared sizes of the writing task's inputs, free_<tier> = free bytes of
 * each tier instance the writing node sees at that moment.
 *
 * Determinism: a run depends only on its inputs; event ties are broken by
 * insertion order.  A seeded random policy advances its state on every
 * call, so two identical runs need two policies created with one seed.
 *
 * Ownership: sim_create() keeps pointers to the graph and copies what it
 * needs of the config; the graph must outlive the sim.  Results read with
 * sim_file() and sim_feature_names() stay valid until the next sim_run()
 * or sim_destroy().  Errors: negative errno plus one line in err.
 */
#ifndef TIERFS_TRAINER_SIM_H
#define TIERFS_TRAINER_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "learner.h"
#include "monitor.h"
#include "place.h"
#include "tierfs_config.h"
#include "workflow.h"

#define SIM_WUR __attribute__((warn_unused_result))

struct sim_config {
	uint32_t nodes;	      /* >= 1 */
	uint32_t cores;	      /* per node, >= 1 */
	double runtime_scale; /* >= 0; 1 = runtimes as declared */
	/* Bytes per tier instance overriding the config's capacity, 0 = use
	 * the config (which must then give bytes, not a percentage). */
	uint64_t capacity[TCFG_MAX_TIERS];
	/* Keep every created file's feature vector (for records); a run with
	 * a policy computes them anyway, a vector-only run (the GA) skips
	 * them when this is 0. */
	int record_features;
	/* Background demotion: moves in flight per node; -1 = the config's
	 * migrate_threads (the daemon's), 0 = none (full tiers only spill). */
	int migrate_threads;
	/* The daemon's promotion at a level's start (migrator.h): the next
	 * level's inputs move up into room under the high watermark when the
	 * copy fits in the level's longest runtime.  0 = none (as before). */
	int promote;
	/* Series and phases (see above).  tick_s > 0 turns the monitor on;
	 * ring: the newest 65536 frames.  phase: stepped each tick, reset at
	 * each run; the caller owns it and must not step it meanwhile (NULL =
	 * none).  proactive needs phase.  horizon 0 = 10 s, theta 0 =
	 * MON_PHASE_DEFAULT_THETA (the daemon's defaults). */
	double tick_s;
	struct mon_phase *phase;
	int proactive;
	double proactive_horizon;
	double proactive_theta;
	int prefetch; /* with proactive: prefetch too (the daemon's proactive_prefetch) */
};

/* Defaults: 1 node, 1 core, scale 1, no overrides, features recorded,
 * demotion as the config says. */
void sim_config_default(struct sim_config *sc);

struct sim_tier_result {
	const char *name;
	uint64_t capacity;	/* per instance */
	/* Bytes tasks moved through this tier's channels, over all its
	 * instances; a read of another node's local file counts on the last
	 * tier, which carries it. */
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint64_t peak_used;	/* highest use of any one instance */
	uint32_t files;		/* files placed here */
	uint64_t moved_in;	/* bytes demoted into it */
	uint64_t moved_out;	/* bytes demoted out of it */
};

struct sim_result {
	double makespan;     /* s, from the first task's start to the last's end */
	double io_time;	     /* s, summed over tasks: time in reads and writes */
	double read_time;    /* s, the reads' part of io_time */
	double write_time;   /* s, the writes' part */
	double compute_time; /* s, summed scaled runtimes */
	uint64_t events;	   /* events taken from the queue, superseded ones included */
	uint32_t tasks, files_created, spills, remote_reads;
	uint32_t migrations;	 /* demotions done */
	uint64_t migrated_bytes; /* their bytes */
	size_t ntiers;
	struct sim_tier_result tiers[TCFG_MAX_TIERS];
	/* Spills as defined above (counted with or without ticks). */
	uint32_t place_spills, enospc_spills;
	/* Promotions done (level starts and prefetch) and their bytes; of
	 * them, the prefetches. */
	uint32_t promotions, prefetches;
	uint64_t promoted_bytes, prefetched_bytes;
	/* Bytes of demotions planned for files a reader will still open. */
	uint64_t demoted_unread_bytes;
	/* Demotions planned because free space fell under the headroom. */
	uint32_t proactive_moves;
	uint64_t proactive_bytes;
	/* Ticks (tick_s > 0): frames, ticks in which a file spilled, ticks
	 * ending with the first tier (node 0) at >= 98% of its capacity; the
	 * first tier's mean headroom and mean free bytes at the ticks. */
	uint32_t ticks, spill_ticks, full_ticks;
	double mean_headroom, mean_free;
};

/* One file after a run. */
struct sim_file {
	const char *name; /* the workflow's name of the file */
	uint64_t size;	  /* declared bytes */
	int created;	  /* written by a task (else a workflow input, or unused) */
	int tier;	  /* tier chosen at creation (the record's label) */
	int final_tier;	  /* tier at the end, after demotions */
	int node;	  /* node of its final instance (0 for the last tier) */
	double create_time;
	const double *features; /* sim_feature_names() order; NULL if not recorded */
};

struct sim;

/* Prepare a simulation of g on the tiers of cfg (loaded with tcfg_load();
 * tcfg_resolve() is not needed).  -EINVAL naming the key when a tier has no
 * read_bandwidth/write_bandwidth, a capacity given as a percentage without
 * an override, nodes or cores 0, a negative scale, fewer than one tier. */
SIM_WUR int sim_create(const wf_graph *g, const struct tcfg *cfg, const struct sim_config *sc,
		       struct sim **out, char *err, size_t errlen);
void sim_destroy(struct sim *s);

/* Run once.  placement (may be NULL) has wf_file_count() entries: a tier
 * index, or -1 to let the policy decide; policy may be NULL when every
 * created file has a tier in placement (else "first" decides).  Entries of
 * files no task writes are ignored.  res may be NULL. */
SIM_WUR int sim_run(struct sim *s, struct lrn_policy *policy, const int *placement,
		    struct sim_result *res, char *err, size_t errlen);

/* Run policy once (taken: destroyed here; NULL = its creator failed and
 * said why in err, -EINVAL) and give its I/O time and makespan, both
 * INFINITY when some file fits in no tier (-ENOSPC is not an error here:
 * that policy cannot run the workflow). */
SIM_WUR int sim_run_policy(struct sim *s, struct lrn_policy *policy, double *io, double *makespan, char *err,
			   size_t errlen);

uint32_t sim_file_count(const struct sim *s);
/* The file with workflow index i after the last run; -ERANGE past the end. */
SIM_WUR int sim_file(const struct sim *s, uint32_t i, struct sim_file *out);
/* Names of the feature vector (the daemon's, from tpl_features()). */
const char *const *sim_feature_names(const struct sim *s, size_t *n);
const char *sim_tier_name(const struct sim *s, int tier);
/* Tier index by name, or -1. */
int sim_tier_index(const struct sim *s, const char *name);

/* Write the created files of the last run as records: a header of the
 * feature names and "tier", one row per file with its tier's name; the
 * CSV `tiertrain fit` (lrn_data_load_csv) reads.  Needs recorded features
 * (-EINVAL otherwise). */
SIM_WUR int sim_write_records(const struct sim *s, const char *path, char *err, size_t errlen);
/* The same rows appended to an open stream (the header first when asked):
 * 0, -EINVAL without recorded features, -EIO on a stream error. */
SIM_WUR int sim_append_records(const struct sim *s, FILE *fp, int header);

/* The monitor series of the last run (tick_s > 0) as the daemon's CSV
 * (mon_write_csv: atomic).  -EINVAL when no series was recorded. */
SIM_WUR int sim_write_series(const struct sim *s, const char *path, char *err, size_t errlen);

/* Read a per-file tier vector from CSV lines "FILE,TIER" (an optional
 * header "file,tier"; FILE a workflow file name or index, TIER a tier name
 * or index) into placement[wf_file_count()], entries not given set to -1.
 * Errors name the file, line and what was expected. */
SIM_WUR int sim_read_placement(const struct sim *s, const char *path, int *placement, char *err,
			       size_t errlen);

#endif
