/*
 * lrn_internal.h - shared between the learner's own files, not installed.
 * The compiled model layout lives here because training builds it directly
 * and the loader checks untrusted input into the same form.
 */
#ifndef TIERFS_LRN_INTERNAL_H
#define TIERFS_LRN_INTERNAL_H

#include "learner.h"

#include <stdarg.h>

/* Record the error message for this thread, pass it to the log callback,
 * and return code (a negative errno) so callers can `return lrn_err(...)`. */
int lrn_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lrn_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A tree as the loaders and the trainer hand it over, before checking:
 * XGBoost's parallel arrays.  left[i] == -1 marks a leaf whose value is
 * thr[i]; otherwise go left when x[feat[i]] < thr[i], and a missing value
 * goes left when dleft[i].
 */
struct lrn_rawtree {
	int cls;
	int n;
	int32_t *left, *right, *feat;
	float *thr;
	uint8_t *dleft;
	float *gain; /* split gain, 0 on leaves; may be NULL */
};

/*
 * Compiled node, 16 bytes.  A leaf points to itself on both sides, so a
 * walk can run a fixed number of steps with no test for leaves; its
 * value is thr.  featdl holds the feature index, with bit 31 set when a
 * missing value goes right.
 */
struct lrn_cnode {
	float thr;
	uint32_t featdl;
	int32_t next[2];
};
#define LRN_MISSING_RIGHT 0x80000000u
#define LRN_COMPLETE_DEPTH 8
/* Trees walked side by side in predict (see lrn_model): more walks hide
 * more load latency, until their indexes spill (15-18 measured best on
 * 300 depth-6 trees).  A multiple of 3, so three round-robin classes get
 * the same sum slot for the same j in every group. */
#define LRN_CGROUP 18
/* Split features the quantised layout can hold: one byte register's worth. */
#define LRN_QSLOTS 16

/* Internal node of the complete layout, 8 bytes: a step reads one. */
struct lrn_inode {
	float thr;
	uint32_t feat;
};

struct lrn_model {
	char *source; /* "tierfs-gbdt" or "xgboost" */
	int binary_logistic; /* one margin, sigmoid: class 1 = p, class 0 = 1 - p */
	size_t nfeatures, nclasses, nmargins;
	char **features, **classes;
	float *base; /* per margin */
	size_t ntrees;
	struct lrn_cnode *nodes; /* all trees, each tree's nodes contiguous */
	int32_t *root;		 /* per tree */
	uint8_t *depth;		 /* per tree: steps to reach any leaf */
	uint16_t *tcls;		 /* per tree: margin it adds to */
	size_t nnodes;
	double *importance; /* per feature: total split gain */
	/* When every tree is at most LRN_COMPLETE_DEPTH deep, all trees are
	 * also laid out as complete trees of depth cdepth (a shallower leaf
	 * repeated below itself): node i has children 2i+1 and 2i+2, so a
	 * walk is cdepth steps of compare-and-index with no pointers.  With
	 * w = 2^cdepth, node i of tree t is cnode[t * w + i] (slot w - 1 is
	 * unused) and leaf k is cleaf[t * w + k]: the trees of a group of
	 * LRN_CGROUP walked together then sit at constant distances from the
	 * first one, so one base register serves them all.  The arrays have
	 * room for whole groups; the slots past the last tree are zeros and
	 * their leaves are never added.  cmiss, indexed as cnode, is 1 where a
	 * missing value goes right; only rows with a NaN read it.
	 * cdepth == 0 when the model does not fit this layout. */
	int cdepth;
	int cround; /* 1 or 3 when tree t adds to margin t % cround, else 0 */
	struct lrn_inode *cnode;
	uint8_t *cmiss;
	float *cleaf;
	/* The quantised layout (model_quant.c), qdepth == 0 when not built:
	 * qnslots split features qfeat[s]; slot s's qtn[s] sorted distinct
	 * thresholds at qthr + s * qtsize, padded to qtsize = 2^qlevels - 1
	 * with NaN; the trees at qtree + t * qstride (64-byte aligned).
	 * qwide: the CPU has AVX-512BW (one 64-byte step per tree). */
	int qdepth, qlevels, qwide;
	size_t qstride, qnslots, qtsize;
	uint8_t *qtree;
	float *qthr;
	uint32_t qfeat[LRN_QSLOTS], qtn[LRN_QSLOTS]; /* qfeat: 0 past qnslots */
	/* Kept for saving: the trees as handed over, in node order. */
	struct lrn_rawtree *raw;
};

/* Build the quantised layout when the model and the CPU suit it (else
 * leave qdepth 0); -ENOMEM on allocation failure. */
int lrn_quant_build(struct lrn_model *m) __attribute__((warn_unused_result));
void lrn_quant_free(struct lrn_model *m);
/* Add the trees' leaves for row x to marg and return 1, or return 0 with
 * marg untouched when the row has a missing value the layout cannot take. */
int lrn_quant_sum(const struct lrn_model *m, const float *x, float *marg);

/* Check raw trees and compile them into m (which has nfeatures, nmargins
 * set).  Takes ownership of raw[0..ntrees) and the raw array.  what names
 * the source in messages. */
int lrn_model_compile(struct lrn_model *m, struct lrn_rawtree *raw, size_t ntrees, const char *what);
void lrn_rawtree_free(struct lrn_rawtree *t);
int lrn_rawtree_alloc(struct lrn_rawtree *t, int n);
/* A model with names copied in; trees added by lrn_model_compile. */
struct lrn_model *lrn_model_new(const char *source, size_t nfeatures, const char *const *features, size_t nclasses,
				const char *const *classes);

/* Parse our own format from a parsed cJSON document. */
struct cJSON;
int lrn_model_from_ours(const struct cJSON *root, const char *what, struct lrn_model **out);
int lrn_model_from_xgboost(const struct cJSON *root, const char *what, struct lrn_model **out);

/* A small fixed pool of threads running parallel-for loops. */
struct lrn_pool;
typedef void (*lrn_task_fn)(void *arg, size_t task, int worker);
int lrn_pool_create(int nthreads, struct lrn_pool **out);
/* Run fn(arg, i, worker) for i in [0, ntasks); returns when all are done. */
void lrn_pool_run(struct lrn_pool *p, lrn_task_fn fn, void *arg, size_t ntasks);
int lrn_pool_size(const struct lrn_pool *p);
void lrn_pool_destroy(struct lrn_pool *p);

uint64_t lrn_splitmix64(uint64_t *state);

#endif
