/*
 * learner.h - placement policies and the boosted-tree model behind them.
 * Library tier_learner: no FUSE headers; the daemon (fs/) and the simulator
 * (trainer/) call the same policy code through lrn_policy_place().
 *
 * Errors: functions return 0 (or a count/index) on success and a negative
 * errno on failure; the message naming the problem is kept per thread and
 * read with lrn_last_error(), and also handed to the log callback if one is
 * set.  Nothing here prints or exits.
 *
 * A policy is a small struct of function pointers chosen at start-up
 * (STYLE.md habit 10).  Policies are thread-safe: the daemon calls
 * lrn_policy_place() from many FUSE worker threads at once.
 */
#ifndef TIERFS_LEARNER_H
#define TIERFS_LEARNER_H

#include <stddef.h>
#include <stdint.h>

#define LRN_WUR __attribute__((warn_unused_result))

/* Live state of one tier as the caller sees it at decision time. */
struct lrn_tier_state {
	const char *name;
	uint64_t capacity; /* bytes the tier may hold */
	uint64_t used;	   /* bytes held now */
};

enum lrn_kind { LRN_KIND_FILE, LRN_KIND_DIR, LRN_KIND_SPECIAL };

/* What a policy is told about the object being created. */
struct lrn_place_ctx {
	const char *path;  /* relative to the mount root, no leading '/' */
	enum lrn_kind kind;
	uint64_t need;	   /* bytes that must fit (0 for a new empty file) */
	const struct lrn_tier_state *tiers;
	size_t ntiers;
	/* Feature vector by name (V1..V11 and extras); may be empty. */
	const char *const *feature_names;
	const double *features;
	size_t nfeatures;
};

struct lrn_policy;

struct lrn_policy_ops {
	const char *name;
	/* Return a tier index in [0, ctx->ntiers) that has room, or -ENOSPC. */
	int (*place)(struct lrn_policy *p, const struct lrn_place_ctx *ctx);
	void (*destroy)(struct lrn_policy *p);
};

struct lrn_policy {
	const struct lrn_policy_ops *ops;
	void *priv;
};

enum lrn_static_kind {
	LRN_STATIC_FIRST,	/* first tier with room, in order */
	LRN_STATIC_MOST_FREE,	/* most free bytes */
	LRN_STATIC_ROUND_ROBIN, /* rotate over tiers with room */
	LRN_STATIC_RANDOM,	/* uniform over tiers with room (seeded) */
	LRN_STATIC_TIER,	/* a fixed tier; the next with room when it is full */
};

/* Create a static policy.  tier is used by LRN_STATIC_TIER; seed by
 * LRN_STATIC_RANDOM.  Returns NULL on allocation failure. */
struct lrn_policy *lrn_policy_static_create(enum lrn_static_kind kind, int tier, uint64_t seed);

/* Ask the policy; whatever it answers, the result is a tier with room or
 * -ENOSPC when none has room. */
int lrn_policy_place(struct lrn_policy *p, const struct lrn_place_ctx *ctx);

/* True when tier t can take ctx->need more bytes. */
int lrn_tier_has_room(const struct lrn_tier_state *t, uint64_t need);

const char *lrn_policy_name(const struct lrn_policy *p);

/* Destroy; accepts NULL. */
void lrn_policy_destroy(struct lrn_policy *p);

/* ---- learned policy ---------------------------------------------------- */

struct lrn_model;

/* A policy that asks the model.  The vector is built by feature name from
 * ctx->feature_names; the model's classes are matched to ctx->tiers by
 * name (or, for numeric class names such as an imported XGBoost model's,
 * by index).  When a feature the model needs is absent (a file the
 * workflow does not know) or no predicted tier has room, the fallback
 * decides.  Tiers are tried in order of decreasing probability, so a full
 * tier is never chosen while a probable one has room.
 * Takes ownership of model and fallback: both are destroyed with the
 * policy, or at once when creation fails (NULL is returned, last error
 * set).  fallback may be NULL (then "first"). */
struct lrn_policy *lrn_policy_model_create(struct lrn_model *model, struct lrn_policy *fallback);
/* The same policy over a model it only borrows: model must outlive the
 * policy and is never destroyed by it (fallback is still owned).  For one
 * model shared by many short-lived policies (the plan check's runs). */
struct lrn_policy *lrn_policy_model_borrow(const struct lrn_model *model, struct lrn_policy *fallback);

/* ---- errors ------------------------------------------------------------- */

/* Message of the last failure in this thread ("" when none).  Valid until
 * the next learner call in the same thread. */
const char *lrn_last_error(void);

/* Library messages (errors and, during training, progress notes) go to fn;
 * NULL silences them.  Set once at start-up, before threads start. */
typedef void (*lrn_log_fn)(void *ud, const char *msg);
void lrn_set_log(lrn_log_fn fn, void *ud);

/* ---- records ------------------------------------------------------------ */

/* A table of records: rows of float features (NaN = missing) and an
 * optional class label per row.  Row-major, one contiguous array. */
struct lrn_data;

/* Read CSV records: a header line of column names, then one row per line.
 * The label column is label_col when given, else the column named "tier",
 * else "label"; a file without one loads unlabelled (labels -1).  Labels
 * are class names; classes are numbered in order of first appearance,
 * except that all-integer labels 0..K-1 keep their number.  Empty cells,
 * "nan" and "NA" are missing.  Errors name file, line and column. */
LRN_WUR int lrn_data_load_csv(const char *path, const char *label_col, struct lrn_data **out);

/* An empty table to fill with lrn_data_add_row (generators, tests). */
LRN_WUR int lrn_data_create(size_t nfeatures, const char *const *feature_names, size_t nclasses,
			    const char *const *class_names, struct lrn_data **out);
/* label in [0, nclasses) or -1 for none; x has nfeatures values. */
LRN_WUR int lrn_data_add_row(struct lrn_data *d, const float *x, int label);

/* Split rows into two new tables, a fraction (0..1) of them, drawn with the
 * seed, going to *second; stratified by label so each class keeps its
 * share.  d is left unchanged. */
LRN_WUR int lrn_data_split(const struct lrn_data *d, double fraction, uint64_t seed, struct lrn_data **first,
			   struct lrn_data **second);

size_t lrn_data_rows(const struct lrn_data *d);
size_t lrn_data_nfeatures(const struct lrn_data *d);
size_t lrn_data_nclasses(const struct lrn_data *d);
const char *lrn_data_feature_name(const struct lrn_data *d, size_t i);
const char *lrn_data_class_name(const struct lrn_data *d, size_t c);
/* Pointer into the table, valid until the next add_row or destroy. */
const float *lrn_data_row(const struct lrn_data *d, size_t r);
int lrn_data_label(const struct lrn_data *d, size_t r);
void lrn_data_destroy(struct lrn_data *d);

/* ---- the model ------------------------------------------------------------ */

/* Limits the loader enforces against hostile files. */
#define LRN_MODEL_MAX_BYTES (256u << 20)
#define LRN_MAX_FEATURES 4096
#define LRN_MAX_CLASSES 256
#define LRN_MAX_DEPTH 64
#define LRN_MAX_TREES 1000000
#define LRN_MAX_NODES 50000000

/* Load a model file: ours ("format": "tierfs-gbdt") or an XGBoost JSON
 * model (save_model("m.json"): gbtree, multi:softprob, multi:softmax or
 * binary:logistic), told apart by content.  Everything is checked (types,
 * index ranges, cycles, finite numbers, depth, size) and the trees are
 * compiled into flat arrays.  Errors name the file and the JSON path. */
LRN_WUR int lrn_model_load(const char *path, struct lrn_model **out);
/* The same from memory; name is used in messages. */
LRN_WUR int lrn_model_parse(const char *json, size_t len, const char *name, struct lrn_model **out);
/* Write our format (atomically: temporary file, fsync, rename). */
LRN_WUR int lrn_model_save(const struct lrn_model *m, const char *path);
void lrn_model_destroy(struct lrn_model *m);

/* Probabilities of each class for one row: x holds lrn_model_nfeatures()
 * values in the model's feature order (NaN = missing), proba receives
 * lrn_model_nclasses() values.  Returns the most probable class.
 * Allocates nothing, takes no lock; safe from many threads at once. */
int lrn_model_predict(const struct lrn_model *m, const float *x, float *proba);

size_t lrn_model_nfeatures(const struct lrn_model *m);
size_t lrn_model_nclasses(const struct lrn_model *m);
size_t lrn_model_ntrees(const struct lrn_model *m);
const char *lrn_model_feature_name(const struct lrn_model *m, size_t i);
const char *lrn_model_class_name(const struct lrn_model *m, size_t c);
/* Index of a feature or class by name, or -ENOENT. */
int lrn_model_feature_index(const struct lrn_model *m, const char *name);
int lrn_model_class_index(const struct lrn_model *m, const char *name);
/* "tierfs-gbdt" or "xgboost". */
const char *lrn_model_source(const struct lrn_model *m);
/* Rename the classes (an imported XGBoost model only knows "0", "1", ...). */
LRN_WUR int lrn_model_set_class_names(struct lrn_model *m, const char *const *names, size_t n);
/* Total split gain per feature into gain[lrn_model_nfeatures()]. */
void lrn_model_importance(const struct lrn_model *m, double *gain);

/* ---- training ------------------------------------------------------------- */

/* Histogram gradient boosting, softmax over the classes.  Deterministic for
 * a given seed, and the same model for any number of threads. */
struct lrn_params {
	int rounds;		 /* boosting rounds (trees per class) */
	int max_depth;		 /* 1..LRN_MAX_DEPTH */
	int max_leaves;		 /* 0 = depth only, trees grown level by level; else best-first growth to this many leaves */
	double eta;		 /* learning rate */
	double lambda;		 /* L2 on leaf weights */
	double gamma;		 /* minimum gain to split */
	double min_child_weight; /* minimum hessian sum per child */
	double subsample;	 /* row fraction per round */
	double colsample;	 /* feature fraction per tree */
	int max_bin;		 /* histogram bins per feature, 2..256 */
	int early_stopping;	 /* stop after this many rounds without validation gain; 0 = off */
	int threads;		 /* 0 = all cores */
	uint64_t seed;
	int class_weight_balanced; /* weight classes by n / (k * n_c) */
	double class_weight[LRN_MAX_CLASSES]; /* explicit weights when nclass_weight > 0 */
	size_t nclass_weight;
};

void lrn_params_default(struct lrn_params *p);
/* Set one parameter by name from text ("eta", "0.1").  Names: rounds,
 * max_depth, max_leaves, eta, lambda, gamma, min_child_weight, subsample,
 * colsample, max_bin, early_stopping, threads, seed, class_weight
 * (none | balanced | w0,w1,...). */
LRN_WUR int lrn_params_set(struct lrn_params *p, const char *key, const char *value);
/* The parameter table, for --help: name and one-line description, NULL-terminated. */
const char *const *lrn_params_help(void);

struct lrn_progress {
	int round;	   /* rounds done */
	int rounds;	   /* rounds asked */
	double train_loss; /* log loss on the training rows before this round (free with the gradients) */
	double valid_loss; /* on the validation rows, or NaN */
	int best_round;	   /* round with the best validation loss so far */
};
typedef void (*lrn_progress_fn)(void *ud, const struct lrn_progress *pr);

/* Train on train; valid (may be NULL) drives early stopping, and the model
 * keeps the rounds up to the best one.  Class names and feature names come
 * from train; valid must have the same columns.  progress is called after
 * every round from the calling thread. */
LRN_WUR int lrn_train(const struct lrn_data *train, const struct lrn_data *valid, const struct lrn_params *p,
		      lrn_progress_fn progress, void *ud, struct lrn_model **out);

#endif
