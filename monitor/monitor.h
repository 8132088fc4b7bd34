/*
 * monitor.h - tier_monitor: live state of the storage tiers (features
 * V8-V11, DESIGN.md), a per-second time series of it, and that series as
 * CSV.  No FUSE headers: the daemon (fs/) feeds plain events and reads the
 * state; the simulator can drive the same code with its own clock.
 *
 * Threads: the event functions (mon_read ... mon_migrate_end) are called
 * from any number of I/O threads at once.  They take no lock and allocate
 * nothing: each is one or two relaxed atomic adds on a counter shard chosen
 * per thread, so two threads rarely touch the same cache line.  mon_tick()
 * folds the shards into rates once per tick; mon_snapshot(),
 * mon_free_bytes(), mon_copy_frames() and mon_write_csv() may run from any
 * thread at any time.  All of them accept a NULL monitor (events are then
 * dropped), so the daemon can run without one.
 *
 * Errors: functions that can fail return 0 or a negative errno.  The
 * library never prints or exits; notes (a statvfs failure, a backing
 * filesystem with less room than the accounting promises) go to the log
 * callback of struct mon_config.
 */
#ifndef TIERFS_MONITOR_H
#define TIERFS_MONITOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MON_WUR __attribute__((warn_unused_result))

#define MON_MAX_TIERS		8
#define MON_NAME_MAX		64   /* tier name: letters, digits, '_', '-', '.' */
#define MON_DEFAULT_HISTORY	3600 /* frames kept: one hour at one tick per second */
#define MON_DEFAULT_HALF_LIFE_S 5.0  /* EWMA half-life of the rates in mon_state */

struct mon;

/* Monotonic time in nanoseconds.  Default: CLOCK_MONOTONIC. */
typedef uint64_t (*mon_clock_fn)(void *ud);
/* One message, one line, no trailing newline. */
typedef void (*mon_log_fn)(void *ud, const char *msg);
/* Called by mon_tick() after a frame was appended, outside the monitor's
 * lock, from the ticking thread; frame holds mon_frame_cols() values laid
 * out as the CSV columns (MON_COL_* below).  Must not call mon_tick(). */
typedef void (*mon_frame_fn)(void *ud, const double *frame, size_t ncols);

struct mon_tier_config {
	const char *name;  /* copied; MON_NAME_MAX chars at most */
	uint64_t capacity; /* bytes the tier may hold (0: always full) */
	uint64_t used;	   /* own accounting at start (after the daemon's scan) */
	const char *path;  /* backing directory checked with statvfs, or NULL; copied */
};

struct mon_config {
	size_t ntiers; /* 1..MON_MAX_TIERS */
	struct mon_tier_config tiers[MON_MAX_TIERS];
	double half_life_s;	/* EWMA half-life in seconds; 0 = MON_DEFAULT_HALF_LIFE_S */
	size_t history;		/* frames kept in the ring; 0 = MON_DEFAULT_HISTORY */
	unsigned statvfs_every; /* ticks between statvfs checks; 0 = every tick */
	mon_clock_fn clock;	/* NULL = CLOCK_MONOTONIC */
	void *clock_ud;
	mon_log_fn log; /* NULL = notes dropped */
	void *log_ud;
	mon_frame_fn on_frame; /* NULL = none (the phase detector hooks in here) */
	void *frame_ud;
};

/* Returns 0 and a new monitor in *out, -EINVAL for a bad config (no tiers,
 * too many, a bad or duplicate name, a half-life that is not a positive
 * finite number), -ENOMEM.  The clock's first reading is time 0 of the
 * series. */
MON_WUR int mon_create(const struct mon_config *cfg, struct mon **out);
/* Frees everything; accepts NULL.  No event may run concurrently. */
void mon_destroy(struct mon *m);

/* ---- events (I/O path: lock-free, never fail) --------------------------
 * tier is the index in mon_config.tiers; an index out of range is ignored. */
void mon_read(struct mon *m, int tier, uint64_t bytes);	 /* one read op of bytes */
void mon_write(struct mon *m, int tier, uint64_t bytes); /* one write op of bytes */
/* An open handle on a file of that tier.  When a file with open handles
 * moves, call mon_close(from) and mon_open(to) once per handle, so the
 * gauge follows the data. */
void mon_open(struct mon *m, int tier);
void mon_close(struct mon *m, int tier);
void mon_create_file(struct mon *m); /* a file created on the mount */
void mon_meta_op(struct mon *m);     /* any metadata operation (lookup, getattr, rename, ...) */
/* The daemon's own accounting of bytes held in the tier.  Either set the
 * total (mon_used: a plain store, so two threads racing may leave the older
 * value until the next call; calling it before each mon_tick() bounds that)
 * or move it by the same deltas the daemon charges (mon_used_add: an
 * atomic add, exact under any concurrency; clamped at 0 when read). */
void mon_used(struct mon *m, int tier, uint64_t used_bytes);
void mon_used_add(struct mon *m, int tier, int64_t delta);
/* Bytes of a migration into dst_tier start / finish (done or abandoned):
 * the migration backlog is the sum of what has begun and not ended. */
void mon_migrate_begin(struct mon *m, int dst_tier, uint64_t bytes);
void mon_migrate_end(struct mon *m, int dst_tier, uint64_t bytes);

/* ---- tick -----------------------------------------------------------------
 * Once per second from one daemon thread (any interval works: rates are
 * divided by the time the clock says passed).  Folds the counters into
 * rates, updates the moving averages, checks statvfs when due, appends one
 * frame to the ring (the oldest is dropped once history frames are held)
 * and calls on_frame.  Returns 0, -EAGAIN when the clock has not advanced
 * since the previous tick (nothing is recorded), -EINVAL for NULL. */
MON_WUR int mon_tick(struct mon *m);

/* ---- state ----------------------------------------------------------------
 * Rates are per second.  "_last" is the rate over the last tick interval;
 * the plain names are exponentially weighted moving averages with the
 * configured half-life (time-weighted: one tick of 4 s moves the average as
 * far as four ticks of 1 s).  Before the first tick all rates are 0. */
struct mon_tier_state {
	char name[MON_NAME_MAX + 1];
	uint64_t capacity;
	uint64_t used;	  /* live: last mon_used() */
	uint64_t free;	  /* live: capacity - used, 0 when used >= capacity */
	double used_frac; /* used / capacity (may exceed 1; 0 when capacity is 0) */
	double read_Bps, write_Bps;
	double read_Bps_last, write_Bps_last;
	double read_ops_per_s, write_ops_per_s;
	double read_ops_per_s_last, write_ops_per_s_last;
	double fill_Bps, fill_Bps_last; /* growth of used; negative when it shrinks */
	int64_t open_files;		/* live: opens - closes */
	uint64_t migrating_in_bytes;	/* live: migrations into this tier in flight */
	/* live totals since mon_create */
	uint64_t read_bytes_total, write_bytes_total, reads_total, writes_total, opens_total;
	/* Backing filesystem, as of the last statvfs check (path given only).
	 * fs_used counts everything on that filesystem, ours or not. */
	int fs_checked;		    /* a check has run */
	int fs_errno;		    /* errno of the last statvfs, 0 = fine */
	uint64_t fs_used, fs_avail; /* bytes */
	int64_t fs_unaccounted;	    /* fs_used - used: bytes there our accounting does not hold */
	int fs_short; /* free (within capacity) > fs_avail: the promise cannot be kept */
};

struct mon_state {
	size_t ntiers;
	struct mon_tier_state tiers[MON_MAX_TIERS];
	double creates_per_s, creates_per_s_last;
	double meta_per_s, meta_per_s_last;
	uint64_t creates_total, meta_total; /* live */
	uint64_t migration_backlog_bytes;   /* live */
	uint64_t ticks;			    /* successful mon_tick() calls */
	size_t frames;			    /* frames held in the ring */
	double uptime_s;		    /* by the monitor's clock, at snapshot time */
	double half_life_s;
};

/* Fills *out (fully; unused tiers zeroed).  Returns 0, -EINVAL for NULL. */
MON_WUR int mon_snapshot(struct mon *m, struct mon_state *out);
/* Free bytes of a tier within its configured capacity, from the live used
 * gauge (features V9-V11).  Never negative: 0 when full, for a bad tier
 * index or a NULL monitor. */
uint64_t mon_free_bytes(const struct mon *m, int tier);
size_t mon_tier_count(const struct mon *m);
const char *mon_tier_name(const struct mon *m, int tier); /* NULL if out of range */

/* ---- frames and CSV ---------------------------------------------------------
 * A frame is one row of the series: time (seconds since mon_create, by the
 * monitor's clock), then per tier the columns below in this order, named
 * "<tier>_<suffix>", then the global columns.  Rates in a frame are the
 * rates over that tick's interval (not the moving averages), so the series
 * keeps the raw signal. */
enum mon_tier_col {
	MON_COL_READ_BPS,  /* <tier>_read_Bps */
	MON_COL_WRITE_BPS, /* <tier>_write_Bps */
	MON_COL_OPS,	   /* <tier>_ops_per_s: reads + writes */
	MON_COL_USED_FRAC, /* <tier>_used_frac */
	MON_COL_FILL_BPS,  /* <tier>_fill_Bps (signed) */
	MON_COL_OPEN,	   /* <tier>_open: open handles at the tick */
	MON_TIER_NCOLS
};
enum mon_global_col {
	MON_COL_CREATES, /* creates_per_s */
	MON_COL_META,	 /* meta_per_s */
	MON_COL_BACKLOG, /* migration_backlog_bytes */
	MON_GLOBAL_NCOLS
};
/* Column index of a tier column / a global column in a frame of ntiers. */
static inline size_t mon_col_tier(size_t tier, enum mon_tier_col c)
{
	return 1 + tier * MON_TIER_NCOLS + (size_t)c;
}
static inline size_t mon_col_global(size_t ntiers, enum mon_global_col c)
{
	return 1 + ntiers * MON_TIER_NCOLS + (size_t)c;
}
static inline size_t mon_ncols(size_t ntiers)
{
	return 1 + ntiers * MON_TIER_NCOLS + MON_GLOBAL_NCOLS;
}
const char *mon_tier_col_suffix(enum mon_tier_col c);	/* "read_Bps", ... */
const char *mon_global_col_name(enum mon_global_col c); /* "creates_per_s", ... */
size_t mon_frame_cols(const struct mon *m);		/* mon_ncols(ntiers) */
size_t mon_history(const struct mon *m);		/* frames the ring holds at most */

/* Copy the newest frames, oldest first, into dst (max_frames rows of
 * mon_frame_cols() doubles).  Returns the number of frames copied. */
size_t mon_copy_frames(struct mon *m, double *dst, size_t max_frames);

/* Write the ring as CSV (header line, one line per frame, oldest first) to
 * path atomically: a temporary file in the same directory, fsync, rename.
 * Numbers are printed so that they read back to the same double.  Returns
 * 0 or a negative errno (the temporary file is removed on failure). */
MON_WUR int mon_write_csv(struct mon *m, const char *path);

/* The same CSV to a stream the caller owns (a socket reply built with
 * open_memstream, stdout in a tool); flushed, not closed.  Returns 0,
 * -ENOMEM, or the stream's error. */
MON_WUR int mon_print_csv(struct mon *m, FILE *f);

/* The live state (mon_snapshot) in the Prometheus text format: metrics
 * tierfs_tier_*{tier="NAME"} and tierfs_*, each with HELP and TYPE lines;
 * counters end in _total, rates are the moving averages.  The caller may
 * append its own metrics after them.  Returns 0 or the stream's error. */
MON_WUR int mon_print_prometheus(struct mon *m, FILE *f);

/* A series read back from CSV.  frames is row-major: nframes rows of ncols
 * (= mon_ncols(ntiers)) values, columns as in a frame. */
struct mon_series {
	size_t ntiers;
	char tier_names[MON_MAX_TIERS][MON_NAME_MAX + 1];
	size_t nframes, ncols;
	double *frames;
};
/* Read a CSV written by mon_write_csv().  The header must have exactly the
 * layout above; every value must be a finite number, non-negative except
 * <tier>_fill_Bps, and time must not decrease.  Returns 0 and *out (free
 * with mon_series_destroy), or -EINVAL for malformed content with one line
 * in err naming file, line, column and what was expected, -errno from
 * open/read (also described in err), -ENOMEM. */
MON_WUR int mon_read_csv(const char *path, struct mon_series **out, char *err, size_t errlen);
void mon_series_destroy(struct mon_series *s); /* accepts NULL */

/* ---- phases (mon_phase_*) ------------------------------------------------------
 * A phase model learns the recurring states of a mount's load from
 * recorded series (AI4DL's idea: a conditional RBM over the frames, then
 * k-means over its hidden activations) and tells, online, which phase the
 * live frames are in.  A frame's visible units are, per tier, log1p of the
 * read and write rates, the used fraction, the signed log1p of the fill
 * rate and log1p of the open files, then log1p of the migration backlog,
 * creates/s and metadata ops/s; each is z-scored with statistics stored in
 * the model.  The first `history` frames of a series (or after
 * mon_phase_reset) are warm-up: no phase.
 *
 * struct mon_phase is one model plus one online tracker.  The model part
 * is immutable after train/load; mon_phase_step() and mon_phase_status()
 * lock the tracker, so one thread may step while others read the status.
 * Errors: 0 or a negative errno, with one line in err naming the problem. */
struct mon_phase;

struct mon_phase_params {
	size_t hidden;		/* H hidden units (default 16) */
	size_t history;		/* K previous frames conditioning a frame (default 4) */
	unsigned epochs;	/* at most (default 200) */
	unsigned batch;		/* windows per CD-1 step; 1 = plain SGD (default 64) */
	unsigned patience;	/* epochs without held-out improvement before stopping (default 8) */
	double lr;		/* learning rate (default 0.01) */
	double holdout;		/* last share of each series' windows held out for early stopping (default 0.2) */
	uint64_t seed;		/* every random choice derives from it (default 1) */
	unsigned kmin, kmax;	/* phases tried; the silhouette picks (default 2..8) */
	unsigned hysteresis;	/* ticks a new nearest phase must hold before it is adopted (default 2) */
	unsigned novelty_ticks; /* ticks beyond the training q99 distance that flag novelty (default 5) */
	mon_log_fn log;		/* progress notes (per epoch, per k); NULL = none */
	void *log_ud;
};
void mon_phase_defaults(struct mon_phase_params *p);

/* What training found; also stored in the model file. */
struct mon_phase_info {
	size_t ntiers, visible, hidden, history, k;
	unsigned epochs_run, best_epoch;
	double train_error, holdout_error; /* mean squared reconstruction error per unit */
	double silhouette;		   /* of the chosen k */
	size_t windows;			   /* clustered frames (warm-up excluded) */
	uint64_t seed;
};

/* Per-phase profile from the training series (labels after hysteresis).
 * Rates in bytes/s; dwell times in seconds (tick_s per tick). */
struct mon_phase_profile {
	uint64_t frames;
	double share; /* of all labelled frames */
	uint64_t visits;
	double dwell_mean_s, dwell_q50_s, dwell_max_s;
	double fill_q50[MON_MAX_TIERS], fill_q95[MON_MAX_TIERS];
	double write_q50[MON_MAX_TIERS], write_q95[MON_MAX_TIERS];
	double read_q50[MON_MAX_TIERS], read_q95[MON_MAX_TIERS];
};

struct mon_phase_status {
	int phase;	  /* adopted phase, -1 during warm-up */
	int nearest;	  /* nearest centroid this tick, -1 during warm-up */
	int next;	  /* most likely different phase to come (transition matrix), -1 if none */
	double next_prob; /* its share among the transitions out of phase */
	double distance;  /* standardised distance to the nearest centroid */
	int novel;	  /* distance above the training q99 for novelty_ticks ticks running */
	uint64_t ticks;	  /* frames stepped */
	uint64_t ticks_in_phase, changes;
};

/* Train from nseries series (all with the same tiers).  Returns 0 and
 * *out, -EINVAL (too few frames, mismatched tiers, bad parameters),
 * -ERANGE (training diverged), -ENOMEM; err says which. */
MON_WUR int mon_phase_train(const struct mon_series *const *series, size_t nseries,
			    const struct mon_phase_params *p, struct mon_phase **out, char *err, size_t errlen);
/* JSON model file (format "tierfs-phases"), written atomically. */
MON_WUR int mon_phase_save(const struct mon_phase *ph, const char *path, char *err, size_t errlen);
/* Read a model file; every key, type, size and range is checked and an
 * error names the file and the JSON path ("p.json: centroids[2]: ..."). */
MON_WUR int mon_phase_load(const char *path, struct mon_phase **out, char *err, size_t errlen);
void mon_phase_destroy(struct mon_phase *ph); /* accepts NULL */

const struct mon_phase_info *mon_phase_info(const struct mon_phase *ph);
const char *mon_phase_tier_name(const struct mon_phase *ph, size_t tier); /* NULL if out of range */
double mon_phase_tick_s(const struct mon_phase *ph);
/* P(phase j at the next tick | phase i); 0 for indexes out of range. */
double mon_phase_transition(const struct mon_phase *ph, size_t i, size_t j);
const struct mon_phase_profile *mon_phase_profile(const struct mon_phase *ph, size_t i); /* NULL if out of range */

/* Labels of every frame of s (after hysteresis, as the daemon would have
 * seen them; -1 for warm-up) into labels[s->nframes].  -EINVAL when s has
 * other tiers than the model. */
MON_WUR int mon_phase_label(const struct mon_phase *ph, const struct mon_series *s, int *labels, char *err,
			    size_t errlen);

/* Online: one frame in the monitor's layout (mon_on_frame's argument);
 * one sgemv and k distances.  -EINVAL when ncols does not fit the model's
 * tiers. */
MON_WUR int mon_phase_step(struct mon_phase *ph, const double *frame, size_t ncols);
void mon_phase_status(struct mon_phase *ph, struct mon_phase_status *st);
void mon_phase_reset(struct mon_phase *ph); /* back to warm-up */

/* Bytes of tier that the phases reachable from phase within horizon_s
 * (the current one, and each the chain visits within the horizon with
 * probability above theta) would write into it at their q95 fill rate:
 * the largest of them, the headroom proactive demotion keeps free.  0 for
 * phase -1 or a bad tier. */
uint64_t mon_phase_headroom(const struct mon_phase *ph, int phase, size_t tier, double horizon_s, double theta);

/* The proactive rule, one definition for the daemon and the simulator:
 * the bytes of tier (of capacity bytes) to keep free while in phase -
 * mon_phase_headroom() - except 0 while the phase itself fills the tier
 * (its median fill rate there is positive: a drain would then compete
 * with the writes, and the watermarks still act), and at most
 * (1 - low_watermark) x capacity, so it is never more than a watermark
 * drain would free.  0 for phase -1 or a bad tier. */
uint64_t mon_phase_reserve(const struct mon_phase *ph, int phase, size_t tier, uint64_t capacity,
			   double low_watermark, double horizon_s, double theta);
/* The same headroom, capped alike, without the exception for a filling
 * phase: the room a prefetch leaves free (a prefetch must not take the
 * room the running or a coming phase writes into). */
uint64_t mon_phase_keep(const struct mon_phase *ph, int phase, size_t tier, uint64_t capacity,
			double low_watermark, double horizon_s, double theta);
/* Default probability above which a coming phase counts for the headroom. */
#define MON_PHASE_DEFAULT_THETA 0.05
/* 1 when phase reads more than it writes (summed median rates over the
 * tiers, reads above 0): the phases in which prefetch runs.  0 else, and
 * for phase -1. */
int mon_phase_read_heavy(const struct mon_phase *ph, int phase);

/* ---- V8 task_input_bytes ------------------------------------------------------
 * Sum of the actual sizes of a task's input files: size_of(arg, path,
 * &size) returns 0 with the size, or a negative errno when the file cannot
 * be measured (not there yet, removed).  *total gets the sum of the sizes
 * measured, *missing (may be NULL) the number of paths that could not be
 * measured; the caller decides what a partial sum means.  Returns 0, or
 * -EINVAL when paths/size_of/total is NULL (paths may be NULL when n is 0). */
typedef int (*mon_size_fn)(void *arg, const char *path, uint64_t *size);
MON_WUR int mon_task_input_bytes(const char *const *paths, size_t n, mon_size_fn size_of, void *arg,
				 uint64_t *total, size_t *missing);

#ifdef __cplusplus
}
#endif
#endif
