/* gen_internal.h - what gen_shapes.c (the kinds) and gen_dag.c (the graph,
 * draws, JSON) share; not part of the public API (gen.h).
 *
 * Building: a shape calls gd_task()/gd_file()/gd_in()/gd_out() in
 * topological order (a task's input files are produced by tasks created
 * before it), then gd_finish() derives parents, children, consumers and
 * levels. Builder calls never fail loudly: the first error (ENOMEM, a
 * second producer, a task reading a file produced later) is kept in
 * d->err and returned by gd_finish(), so shapes stay straight-line code.
 */
#ifndef TIERFS_TRAINER_GEN_INTERNAL_H
#define TIERFS_TRAINER_GEN_INTERNAL_H

#include "gen.h"

struct gen_vec {
	uint32_t *v;
	uint32_t n, cap;
};

struct gen_task {
	uint32_t id;       /* offset in strs */
	uint32_t cat;      /* index in names */
	uint32_t level;
	double runtime;
	struct gen_vec parents, children, inputs, outputs;
};

struct gen_file {
	uint32_t id;       /* offset in strs */
	uint32_t role;     /* index in names */
	int64_t producer;
	struct gen_vec consumers;
	uint64_t size;
};

struct gen_dag {
	char kind[32];
	uint32_t scale, width;
	struct gen_task *t;
	size_t nt, capt;
	struct gen_file *f;
	size_t nf, capf;
	char *strs;          /* NUL-separated ids */
	size_t nstrs, capstrs;
	const char **names;  /* interned categories and roles (static strings) */
	size_t nnames, capnames;
	uint32_t levels;
	uint64_t seed;       /* of the last draw */
	int drawn;
	int err;             /* first builder error, 0 if none */
	char errmsg[160];
};

gen_dag *gd_new(const char *kind, uint32_t scale, uint32_t width);
/* Returns the new task's / file's index. id is printf-formatted. cat and
 * role must be string literals (kept by pointer). */
uint32_t gd_task(gen_dag *d, const char *cat, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint32_t gd_file(gen_dag *d, const char *role, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void gd_in(gen_dag *d, uint32_t task, uint32_t file);
void gd_out(gen_dag *d, uint32_t task, uint32_t file);
/* gd_file() + gd_out(): a new file the task writes; returns its index. */
uint32_t gd_out_new(gen_dag *d, uint32_t task, const char *role, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
GEN_WUR int gd_finish(gen_dag *d);

#endif
