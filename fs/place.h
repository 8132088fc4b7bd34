/*
 * place.h - the placement core: which tier a new file goes to, and why.
 * Library tier_place, no FUSE: the daemon calls it on create, tools call it
 * for a dry run, and the simulator (trainer/) builds its feature vectors with
 * the same tpl_features() so what it learns is what the daemon sees.
 *
 * Workflows are attached to directories of the mount ("" = the whole
 * mount); a new file is looked up in the attachment whose directory is the
 * longest prefix of its path.  Files no workflow knows go to the fallback
 * policy (the configured placement).  The model and the attachments can be
 * swapped while decisions are being made (readers-writer lock; decisions
 * take it shared).
 *
 * The plan check (trainer/plancheck.h) runs through a hook the daemon sets
 * (tier_place must not depend on the simulator, which depends on it): at
 * attach, with a model loaded, the hook simulates the workflow and says
 * whether the model places its files or one tier takes them all; the plan
 * is kept per attachment and tpl_decide() follows it.
 *
 * Ownership: tpl_create() returns a core freed with tpl_destroy() (NULL ok).
 * Strings in a tpl_decision point into the core and stay valid until the
 * next tpl_detach()/tpl_reload() — copy what you keep.
 */
#ifndef TIERFS_PLACE_H
#define TIERFS_PLACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "learner.h"
#include "tierfs_config.h"
#include "workflow.h"

#define TPL_WUR __attribute__((warn_unused_result))

/* Value of V6/V7 when the file has no consumer. */
#define TPL_DIST_NONE 1.0e6

/* The feature names the core provides: V1..V8, then free_<tier> for each
 * tier (V9..V11 are free_mem, free_ssd, free_pfs with the default tier
 * names), then extras. */
enum tpl_feature {
	TPL_F_PRODUCER_LEVEL,
	TPL_F_PRODUCER_WIDTH,
	TPL_F_WF_TASKS,
	TPL_F_WF_BYTES,
	TPL_F_CONSUMERS,
	TPL_F_NEXT_USE,
	TPL_F_LAST_USE,
	TPL_F_TASK_INPUT_BYTES,
	TPL_F_DECLARED_SIZE, /* extra: the file's declared size */
	TPL_F_NSTATIC
};
#define TPL_MAX_FEATURES (TPL_F_NSTATIC + TCFG_MAX_TIERS)

struct tpl_vector {
	size_t n;
	const char *names[TPL_MAX_FEATURES];
	double values[TPL_MAX_FEATURES];
};

/* Fill v from what the workflow says of a file (V1-V7, declared size), its
 * producer's actual input bytes (V8) and the tiers' free bytes (V9..).
 * Shared by the daemon and the simulator. */
void tpl_features(const struct wf_file_features *ff, uint64_t task_input_bytes,
		  const struct lrn_tier_state *tiers, size_t ntiers, struct tpl_vector *v);

/* Size of a file of the mount (relative path), for V8; return 0 if absent. */
typedef uint64_t (*tpl_size_fn)(void *arg, const char *relpath);

struct tpl;

/* Build the core from a resolved config: the fallback policy from
 * placement=, the model from model= (if set). */
TPL_WUR int tpl_create(const struct tcfg *cfg, struct tpl **out, char *err, size_t errlen);
void tpl_destroy(struct tpl *p);

/* Load the model at path (NULL: the config's model=) and swap it in; on
 * failure the old one stays and err says why. */
TPL_WUR int tpl_reload(struct tpl *p, const char *path, char *err, size_t errlen);

/* A path relative to the mount, normalised: "", "." and "/" become "",
 * "a/./b//" becomes "a/b"; -EINVAL for a ".." component, -ENAMETOOLONG. */
TPL_WUR int tpl_normalise_path(const char *in, char *out, size_t len);

/* Attach the workflow file wf_path to directory dir (relative to the mount
 * root, "" or "." for all of it), replacing an earlier attachment there. */
TPL_WUR int tpl_attach(struct tpl *p, const char *dir, const char *wf_path, char *err, size_t errlen);
/* -ENOENT if nothing is attached at dir. */
TPL_WUR int tpl_detach(struct tpl *p, const char *dir);

/* ---- the plan check ---- */
#define TPL_PLAN_MODEL (-1)
struct tpl_plan {
	/* TPL_PLAN_MODEL: the model places each file of the workflow; else
	 * every file it describes goes to this tier, or the next with room
	 * (the static tier policy's rule). */
	int tier;
	char text[384]; /* "plan ssd (model 12.3 s, mem 13.0 s, ...)", or why the model stays */
};
/* Decide the plan of workflow g under model (borrowed for the call; the
 * core's lock is held shared meanwhile, so do not call back into it).
 * Return 0 with out filled, or a negative errno with the reason in err:
 * the model then stays, and the reason is kept as the plan's text. */
typedef int (*tpl_plan_fn)(void *arg, const wf_graph *g, const struct lrn_model *model, struct tpl_plan *out,
			   char *err, size_t errlen);
/* Set (or clear, fn NULL) the hook; later attachments use it.  Call
 * before the core is shared between threads. */
void tpl_set_plan_check(struct tpl *p, tpl_plan_fn fn, void *arg);

struct tpl_attachment_info {
	const char *dir;
	const char *file;
	const char *name;   /* the workflow's own name */
	const char *format;
	uint32_t tasks, files;
	int plan_tier;	    /* the plan: TPL_PLAN_MODEL or a tier */
	const char *plan;   /* the plan's text */
};
/* Call fn for each attachment (under the lock: do not call back into p). */
void tpl_list(struct tpl *p, void (*fn)(void *arg, const struct tpl_attachment_info *a), void *arg);
/* The plan of the attachment at dir, copied into out; -ENOENT if none. */
TPL_WUR int tpl_plan_of(struct tpl *p, const char *dir, struct tpl_plan *out);

struct tpl_decision {
	int tier;		  /* chosen tier, or -ENOSPC */
	const char *policy;	  /* "learned", "first", ... */
	const char *workflow_dir; /* attachment used, NULL if none matched */
	const char *reason;	  /* why the fallback decided, or NULL */
	int known;		  /* the workflow described the file */
	struct tpl_vector v;	  /* the features used (empty for unknown files) */
	float proba[TCFG_MAX_TIERS]; /* per tier, when a model decided */
	int have_proba;
	int64_t level_started; /* a new level of workflow_dir started: its number, else -1 */
};

/* Decide the tier of a new object at relpath. need: bytes that must fit;
 * a file the workflow declares goes where its declared size fits when some
 * tier has room for it.
 * size_of (may be NULL) measures files for V8. */
void tpl_decide(struct tpl *p, const char *relpath, enum lrn_kind kind, uint64_t need,
		const struct lrn_tier_state *tiers, size_t ntiers, tpl_size_fn size_of, void *size_arg,
		struct tpl_decision *out);

/* What the workflow says of an existing file, for the migrator. */
struct tpl_file_status {
	int known;
	uint32_t consumers;	/* V5 */
	int64_t next_use_level; /* level of its first reader, -1 if none */
	int64_t levels_left;	/* next_use_level - the highest level started; < 0: past */
};
void tpl_file_status(struct tpl *p, const char *relpath, struct tpl_file_status *out);

/* The highest level of the workflow that has started in an attachment
 * rises when a file of a new level is created: tpl_decide() reports it in
 * d->level_started (else -1).  For prefetch: call fn for every input file
 * of the tasks at level (paths relative to the mount), with its declared
 * size and the longest declared runtime at the level before (-1 unknown). */
void tpl_level_inputs(struct tpl *p, const char *dir, uint32_t level,
		      void (*fn)(void *arg, const char *relpath, uint64_t declared_size, double runtime_s),
		      void *arg);

const char *tpl_policy_name(struct tpl *p);
const char *tpl_model_path(struct tpl *p); /* NULL when no model is loaded */
/* The load phase from the monitor's phase model (-1 = none known), given
 * to a model whose features include TPL_FEATURE_PHASE; any thread.  The
 * simulator never sets it, so such a model sees -1 there. */
#define TPL_FEATURE_PHASE "current_phase"
#define TPL_PHASE_SLOT (-2) /* model_map value: not a vector slot */
void tpl_set_phase(struct tpl *p, int phase);

/* ---- the I/O record log -------------------------------------------------- */

/* Open (append) the record log at path, writing the header if it is new,
 * then a "config" line (path = the configuration file, free_<tier> = each
 * tier's capacity) and an "attach" line per attached workflow (path = the
 * workflow file, absolute; workflow = its directory); later attaches log
 * theirs.  `tiertrain label --log` rebuilds the problem from these. */
TPL_WUR int tpl_log_open(struct tpl *p, const char *path, char *err, size_t errlen);
/* One line per create decision (buffered; tpl_log_flush() writes). */
void tpl_log_decision(struct tpl *p, uint64_t time_ns, const char *relpath, const struct tpl_decision *d,
		      const char *tier_name);
/* One line when a file's life ends (unlink) or at unmount for live files. */
void tpl_log_end(struct tpl *p, uint64_t time_ns, const char *relpath, const char *tier_name,
		 uint64_t bytes_written, uint64_t bytes_read, double lifetime_s);
void tpl_log_flush(struct tpl *p);

#endif
