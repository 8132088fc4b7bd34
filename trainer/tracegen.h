/*
 * tracegen.h - learned I/O trace generation (issue 10): per-file I/O
 * records, a feature generator per task class and a trace generator (MLP)
 * learned from them, and a decoder that turns samples back into synthetic
 * workflows (WfFormat 1.5) with per-file operation streams.  Part of
 * tier_sim; no FUSE.  The method follows ORNL's two-step generator (Paul et
 * al., HPDC'22; ../shared/notes/seed-systems.md part B) with its quirks
 * fixed: the flow samples the base distribution it was trained on, the MLP
 * learns each file's own curves, and its output is a sigmoid.
 *
 * Records: one per file (ids, never paths, so a record set can leave the
 * site).  Sources: the daemon's recorder (STATE_DIR/files.csv, the CSV
 * below), darshan-parser text output (per-file counters, or --total: one
 * record per job), and darshan-dxt-parser text traces.
 *
 * Errors: negative errno plus one line in err naming the file, line, key or
 * column and what was expected.  Nothing here prints.  Randomness comes only
 * from the seeds passed in, so same inputs + seed give the same bytes.
 *
 * Ownership: tg_records owns its array (tg_records_free); a tg_gen is freed
 * with tg_gen_destroy (NULL ok); strings a tg_gen returns live as long as it.
 */
#ifndef TIERFS_TRAINER_TRACEGEN_H
#define TIERFS_TRAINER_TRACEGEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "recorder.h"

#define TG_WUR __attribute__((warn_unused_result))

#define TG_BINS TREC_BINS /* lifetime bins per curve (20) */
#define TG_CURVE (2 * TG_BINS)	/* read curve, then write curve */
#define TG_HIST TREC_HIST /* request-size buckets (10, Darshan's: 0-100 B ... 1 GiB+) */
#define TG_CLASS_MAX 64 /* bytes of a class name, NUL included */
#define TG_NV 7		/* V1-V7 */
/* Feature vector of a record (what the generators learn): V1-V7, size,
 * bytes read, bytes written, reads, writes, opens, lifetime, sequential
 * fraction, the read then the write size histogram. */
#define TG_NFEAT (TG_NV + 8 + 2 * TG_HIST)

/* CSV header of a record file: the columns the daemon's recorder
 * (fs/recorder.h) writes, defined there once. */
#define TG_CSV_HEADER TREC_CSV_HEADER
#define TG_CSV_COLUMNS (3 + TG_NV + 8 + 2 * TG_HIST + TG_CURVE)

struct tg_record {
	uint64_t id;		/* file id (recorder: inode; Darshan: record id) */
	uint64_t workflow;	/* run id (recorder: mount + attachment; Darshan: job id) */
	char cls[TG_CLASS_MAX]; /* producer task class: [A-Za-z0-9_.:+-], "" = unknown */
	/* V1-V7 as DESIGN.md defines them; V6/V7 are -1 when nobody reads the
	 * file (V5 = 0). */
	double v[TG_NV];
	uint64_t size, bytes_read, bytes_written;
	uint64_t reads, writes, opens;
	double lifetime; /* s, create (first open) to last close or unlink */
	double seq_frac; /* requests starting at or past the previous one's end / all */
	/* Requests per size bucket: [0,100), [100,1K), [1K,10K), [10K,100K),
	 * [100K,1M), [1M,4M), [4M,10M), [10M,100M), [100M,1G), [1G,inf). */
	uint64_t read_hist[TG_HIST], write_hist[TG_HIST];
	/* Bytes over TG_BINS equal bins of the lifetime, each curve divided by
	 * its maximum (all zero when nothing moved in that direction). */
	float curve[TG_CURVE];
};

struct tg_records {
	struct tg_record *r;
	size_t n, cap;
};

/* Request-size bucket of a request of len bytes. */
int tg_hist_bucket(uint64_t len);
/* Normalise raw per-bin byte counts into r->curve (each direction by its
 * maximum). */
void tg_record_set_curves(struct tg_record *r, const double read_bins[TG_BINS], const double write_bins[TG_BINS]);
/* Replace characters outside [A-Za-z0-9_.:+-] by '_' and cut to
 * TG_CLASS_MAX - 1 bytes. */
void tg_class_sanitise(char *dst, const char *src);

TG_WUR int tg_records_push(struct tg_records *rs, const struct tg_record *r);
void tg_records_free(struct tg_records *rs);

/* One CSV line (no newline) of r in TG_CSV_HEADER order into buf;
 * -ENOSPC if it does not fit.  The daemon's recorder formats the same. */
TG_WUR int tg_record_format(const struct tg_record *r, char *buf, size_t len);
TG_WUR int tg_records_write_csv(const struct tg_records *rs, const char *path, char *err, size_t errlen);
/* Append the records of a CSV file (strict: the exact header, every field
 * present and in range). */
TG_WUR int tg_records_read_csv(const char *path, struct tg_records *out, char *err, size_t errlen);
/* darshan-parser text output: per-file counter rows ("POSIX <rank> <id>
 * POSIX_BYTES_READ <value> ...") give one record per file; --total output
 * ("total_POSIX_BYTES_READ: <value>") gives one record for the job.  Only
 * the POSIX module is read (MPI-IO and STDIO rows are skipped).  Curves:
 * read (write) bytes spread evenly over the read (write) start..end
 * timestamps within open start..close end.  Class: the basename of the
 * executable ("# exe:"), workflow: the job id. */
TG_WUR int tg_records_read_darshan(const char *path, struct tg_records *out, char *err, size_t errlen);
/* darshan-dxt-parser text output: every X_POSIX segment (rank, read or
 * write, offset, length, start, end) of every file, folded into one record
 * per file with its real curves. */
TG_WUR int tg_records_read_dxt(const char *path, struct tg_records *out, char *err, size_t errlen);
/* Any of the three, told apart by content. */
TG_WUR int tg_records_load(const char *path, struct tg_records *out, char *err, size_t errlen);

/* ---- generators ---------------------------------------------------------- */

enum tg_fg_kind { TG_FG_JITTER, TG_FG_FLOW, TG_FG_GAUSS, TG_FG_NKINDS };
const char *tg_fg_name(enum tg_fg_kind k);
/* -EINVAL for an unknown name. */
TG_WUR int tg_fg_parse(const char *name, enum tg_fg_kind *out);

struct tg_fit_options {
	uint64_t seed;
	int epochs;	    /* trace generator epochs (0 = 300) */
	int batch;	    /* 0 = 32 */
	float lr;	    /* Adam step, 0 = 1e-3 */
	int resample_every; /* epochs between error-weighted resamplings, 0 = 25 */
	int flow_layers;    /* planar layers, 0 = 10 */
	int flow_iters;	    /* reverse-KL steps per class, 0 = 1500 */
	int keep_real;	    /* store real feature vectors for the jitter baseline */
	/* Progress (may be NULL): stage name, steps done, steps in all. */
	void (*progress)(void *ud, const char *stage, long done, long total);
	void *progress_ud;
};
void tg_fit_options_default(struct tg_fit_options *o);

struct tg_gen;

/* Learn the generators from records (at least 2; classes with one record
 * get a Gaussian of fixed width around it). */
TG_WUR int tg_fit(const struct tg_records *rs, const struct tg_fit_options *o, struct tg_gen **out, char *err,
		  size_t errlen);
void tg_gen_destroy(struct tg_gen *g);
/* The generator as JSON (malloc'd, caller frees); same generator, same bytes. */
TG_WUR int tg_gen_to_json(const struct tg_gen *g, char **out);
TG_WUR int tg_gen_save(const struct tg_gen *g, const char *path, char *err, size_t errlen);
/* Strict: every key present with the right type and length, numbers finite,
 * the flow's layers invertible; err names the key. */
TG_WUR int tg_gen_load(const char *path, struct tg_gen **out, char *err, size_t errlen);
TG_WUR int tg_gen_load_buffer(const char *buf, size_t len, const char *name, struct tg_gen **out, char *err,
			      size_t errlen);

size_t tg_gen_class_count(const struct tg_gen *g);
const char *tg_gen_class_name(const struct tg_gen *g, size_t c);
/* Records of class c the generator was fitted on. */
size_t tg_gen_class_records(const struct tg_gen *g, size_t c);
/* Class index by name, or -1. */
int tg_gen_class_index(const struct tg_gen *g, const char *name);
/* Does the generator hold real vectors (fit with keep_real)? */
int tg_gen_has_jitter(const struct tg_gen *g);

/* The feature vector of a record, scaled to [0,1] by the generator's
 * ranges (x has TG_NFEAT entries); unscaled when g is NULL (log1p). */
void tg_features(const struct tg_gen *g, const struct tg_record *r, float *x);
/* n feature vectors of class c from the chosen feature generator, scaled
 * ([0,1]); rng is advanced.  -ENOTSUP for jitter without real vectors. */
TG_WUR int tg_gen_sample_features(const struct tg_gen *g, size_t c, enum tg_fg_kind k, uint64_t *rng, size_t n,
				  float *x);
/* Curves (n x TG_CURVE, in [0,1]) the trace generator gives for n scaled
 * feature vectors of class c. */
TG_WUR int tg_gen_curves(const struct tg_gen *g, size_t c, const float *x, size_t n, float *curves);
/* A record from a scaled feature vector and its curves: the inverse of
 * tg_features (rounded, made consistent: no reads -> no read bytes, etc.). */
void tg_gen_decode_record(const struct tg_gen *g, size_t c, const float *x, const float *curves,
			  struct tg_record *out);

/* ---- evaluation ---------------------------------------------------------- */

struct tg_eval {
	size_t files;	      /* held-out records of classes the generator knows */
	double rmse_tg;	      /* mean per-file RMSE over the 40 curve points: trace generator */
	double rmse_class_mean; /* per-class mean training curve */
	double rmse_nearest;  /* curve of the nearest training file of the class (jitter baseline) */
	double frac_tg_le_02; /* share of files with rmse_tg <= 0.2 */
	/* Kolmogorov-Smirnov distance between held-out and generated feature
	 * marginals, averaged over features and classes (weighted by files),
	 * per feature generator; -1 where that generator is not available. */
	double ks_mean[TG_FG_NKINDS];
	double ks_max[TG_FG_NKINDS];
};
/* Evaluate g on held-out records test; train is the set g was fitted on
 * (for the baselines).  seed drives the generated samples. */
TG_WUR int tg_evaluate(const struct tg_gen *g, const struct tg_records *train, const struct tg_records *test,
		       uint64_t seed, struct tg_eval *out, char *err, size_t errlen);
/* Split records by workflow id (whole runs go to one side): every
 * workflow whose hash of (id, seed) falls below frac goes to test. */
TG_WUR int tg_split(const struct tg_records *rs, double frac, uint64_t seed, struct tg_records *train,
		    struct tg_records *test);

/* ---- decoder: synthetic workflows ---------------------------------------- */

struct tg_decode_options {
	uint64_t seed;
	uint32_t files;	       /* created files per workflow (0 = the training runs' mean) */
	enum tg_fg_kind fg;    /* feature generator */
	double max_ops;	       /* requests per file and direction at most (0 = 256) */
	const char *name;      /* workflow name ("" = tracegen-<index>) */
};

/* Write synthetic workflow number index: WfFormat 1.5 JSON at json_path
 * and its operation stream at ops_path (NULL = none).  Files are sampled
 * per class, attached to a level-structured DAG skeleton built from their
 * V1-V7 (producer level and width, consumers, use distances), and their
 * operations timed by their curves.
 *
 * Operation stream (text): "# tierfs-ops 1" then one line per operation,
 * in time order: "TIME OP FILE [OFFSET LENGTH | MODE]" with TIME seconds
 * from the workflow's start, OP one of open, read, write, close,
 * FILE a WfFormat file id, MODE r, w or rw for open; OFFSET and LENGTH
 * in bytes for read and write. */
TG_WUR int tg_decode_workflow(const struct tg_gen *g, const struct tg_decode_options *o, uint32_t index,
			      const char *json_path, const char *ops_path, char *err, size_t errlen);
/* The same on the DAG of a workflow generator kind (gen.h: "montage",
 * "1000genome", ...) at scale (0 = the kind's default): the skeleton keeps
 * its tasks, categories and drawn runtimes; each file whose producer's
 * category is a class of the generator (workflow inputs: class "") gets a
 * sampled size and operations, any other the drawn size and plain
 * operations.  o->files is ignored.  -EINVAL naming an unknown kind. */
TG_WUR int tg_decode_skeleton(const struct tg_gen *g, const struct tg_decode_options *o, const char *kind,
			      uint32_t scale, uint32_t index, const char *json_path, const char *ops_path, char *err,
			      size_t errlen);

#endif
