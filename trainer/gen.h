/* gen.h - synthetic workflows for training and evaluation (`tiertrain
 * generate`): the binary-tree and GenBase workflows of the ASL paper and
 * Pegasus-shaped applications (Montage, CyberShake, Epigenomics, Inspiral,
 * SIPHT, 1000Genome) at any scale, written as WfFormat 1.5 JSON that
 * parser/ reads back into the intended graph.
 *
 * Two layers:
 *  - gen_workflow(): kind + scale + seed -> JSON text, in one call.
 *  - the skeleton (gen_dag): the task/file graph of a kind at a scale
 *    (tasks with categories, levels, parents; files with producer,
 *    consumers and a size "role"), with no sizes or runtimes until
 *    gen_dag_draw() fills them from the fitted tables (gen_table.c, made by
 *    tools/gen_fit.py from the real instances) or a caller sets its own
 *    with gen_dag_set_size()/gen_dag_set_runtime(); gen_dag_write_json()
 *    then writes it. A learned trace generator uses this layer.
 *
 * Invariants: output depends only on (kind, scale, seed, options): same
 * arguments, same bytes (own PRNG, splitmix64/xoshiro256**, a fixed draw
 * order; only libm's exp/log/cos could round differently on another C
 * library). Task indexes are a topological order (every
 * parent index is smaller than its child's). A file has at most one
 * producer. The library never prints and never exits: errors are a
 * negative errno plus one line in the caller's err buffer.
 */
#ifndef TIERFS_TRAINER_GEN_H
#define TIERFS_TRAINER_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GEN_WUR __attribute__((warn_unused_result))

/* Largest workflow gen_* will build (tasks); past it -E2BIG. */
#define GEN_MAX_TASKS 2000000u

/* What one kind is; static strings, valid for the life of the program. */
struct gen_kind_info {
	const char *name;        /* "montage", "1000genome", ... */
	const char *scale_means; /* what --scale counts, one line */
	const char *width_means; /* what gen_options.width sets, one line */
	uint32_t default_scale;
	uint32_t min_scale;      /* smaller scales are refused with -EINVAL */
	uint32_t default_width;
	const char *tasks;       /* task count as a formula of scale/width */
	const char *fitted_on;   /* real instance (or published source) */
};

/* Number of kinds, and the i-th (0 <= i < gen_kind_count()); NULL past
 * the end. */
size_t gen_kind_count(void);
const struct gen_kind_info *gen_kind(size_t i);
/* By name (case-sensitive); NULL if there is no such kind. */
const struct gen_kind_info *gen_kind_find(const char *name);

struct gen_options {
	/* Second shape parameter (see gen_kind_info.width_means), 0 = the
	 * kind's default: Montage bands; 1000Genome individuals jobs per
	 * chromosome; Epigenomics chunks per lane; CyberShake seismograms
	 * per rupture; Inspiral segments per group; SIPHT Patser jobs per
	 * replicon; GenBase analytic queries (1-5); bintree fan-in (2-64). */
	uint32_t width;
	double size_factor;    /* multiplies every drawn size, 0 = 1 */
	double runtime_factor; /* multiplies every drawn runtime, 0 = 1 */
	const char *name;      /* workflow name, NULL = "KIND-SCALE" */
};

/* ---- the skeleton ---------------------------------------------------- */

typedef struct gen_dag gen_dag;

struct gen_task_view {
	const char *id;        /* unique, e.g. "mProject_ID0000001" */
	const char *category;  /* e.g. "mProject" */
	uint32_t level;        /* longest-path depth, 0 = entry task */
	double runtime;        /* seconds, < 0 until drawn or set */
	uint32_t n_parents, n_children, n_inputs, n_outputs;
	const uint32_t *parents, *children; /* task indexes */
	const uint32_t *inputs, *outputs;   /* file indexes */
};

struct gen_file_view {
	const char *id;       /* unique file name */
	/* Size-distribution key: "CATEGORY.CLASS" for a file task CATEGORY
	 * writes (e.g. "mProject.fits", "mProject.area"),
	 * "input.CATEGORY.CLASS" for a workflow input, CATEGORY being its
	 * first reader (e.g. "input.mProject.fits", the raw images). Files
	 * of one role share a distribution (tools/gen_fit.py). */
	const char *role;
	int64_t producer;     /* task index, -1 for a workflow input */
	uint32_t n_consumers;
	const uint32_t *consumers; /* task indexes, ascending */
	uint64_t size;        /* bytes, 0 until drawn or set */
};

/* Build the graph of a kind at a scale. The shape depends only on
 * (kind, scale, opt->width), never on a seed, so the task count of a
 * scale is known in advance (gen_kind_info and tiertrain generate --list
 * give the formula). On success *out owns a new dag (gen_dag_destroy).
 * -EINVAL unknown kind or scale/width out of range, -E2BIG over
 * GEN_MAX_TASKS, -ENOMEM; err (if errlen > 0) says which. */
GEN_WUR int gen_skeleton(const char *kind, uint32_t scale,
			 const struct gen_options *opt, gen_dag **out,
			 char *err, size_t errlen);
void gen_dag_destroy(gen_dag *d);

/* All pointers in views are owned by the dag, valid until destroy. */
const char *gen_dag_kind(const gen_dag *d);
uint32_t gen_dag_task_count(const gen_dag *d);
uint32_t gen_dag_file_count(const gen_dag *d);
uint32_t gen_dag_level_count(const gen_dag *d);
/* 0, or -ERANGE past the end. */
GEN_WUR int gen_dag_task(const gen_dag *d, uint32_t i, struct gen_task_view *out);
GEN_WUR int gen_dag_file(const gen_dag *d, uint32_t i, struct gen_file_view *out);

/* Fill every size and runtime from the fitted tables (log-normal per
 * role / per category), seeded; overwrites earlier values. opt may be
 * NULL (factors 1). 0, or -ENOENT if a role has no table entry (a bug). */
GEN_WUR int gen_dag_draw(gen_dag *d, uint64_t seed, const struct gen_options *opt);
/* Set one value; -ERANGE bad index, -EINVAL runtime < 0 or not finite. */
GEN_WUR int gen_dag_set_size(gen_dag *d, uint32_t file, uint64_t bytes);
GEN_WUR int gen_dag_set_runtime(gen_dag *d, uint32_t task, double seconds);

/* WfFormat 1.5 JSON (specification + execution, a "category" on every
 * task; makespanInSeconds = the critical path). Every task needs a
 * runtime (draw or set first): -EINVAL otherwise. name NULL =
 * "KIND-SCALE". to_json: malloc'd NUL-terminated text, *len without the
 * NUL (len may be NULL); -ENOMEM. write_json: -EIO on a write error. */
GEN_WUR int gen_dag_to_json(const gen_dag *d, const char *name, char **out,
			    size_t *len);
GEN_WUR int gen_dag_write_json(const gen_dag *d, const char *name, FILE *fp);

/* ---- one call -------------------------------------------------------- */

/* gen_skeleton + gen_dag_draw(seed) + gen_dag_to_json. *json_out is
 * malloc'd (caller frees); len may be NULL. */
GEN_WUR int gen_workflow(const char *kind, uint32_t scale, uint64_t seed,
			 const struct gen_options *opt, char **json_out,
			 size_t *len, char *err, size_t errlen);

/* ---- the fitted tables (gen_table.c, from tools/gen_fit.py) ---------- */

struct gen_fit {
	const char *kind;  /* "montage" ... */
	const char *key;   /* a file role, or "rt.CATEGORY" for runtimes */
	double mu, sigma;  /* ln(bytes) or ln(seconds): log-normal */
	double lo, hi;     /* draws are clamped to [lo, hi] (observed range) */
	uint32_t n;        /* samples the fit used (0 = published or chosen
			    * figures, see tools/gen_fit.py) */
};
/* Entry for (kind, key), NULL if none. */
const struct gen_fit *gen_fit_find(const char *kind, const char *key);
size_t gen_fit_count(void);
const struct gen_fit *gen_fit_at(size_t i);

#ifdef __cplusplus
}
#endif
#endif
