/* gen_dag.c - the synthetic workflow graph: building (gen_internal.h),
 * views, seeded draws from the fitted tables, and WfFormat 1.5 output.
 *
 * Invariants: task indexes are a topological order (gd_finish checks
 * every producer index is below its consumer's); parents, children and
 * consumers are ascending and duplicate-free; strings live in one pool
 * addressed by offset (the pool moves while it grows). Draws use our own
 * xoshiro256** seeded by splitmix64 and Box-Muller, in a fixed order
 * (runtimes by task index, then sizes by file index), so a seed gives the
 * same numbers everywhere; runtimes are rounded to milliseconds so the JSON
 * says exactly what the dag holds.
 */
#define _GNU_SOURCE
#include "gen_internal.h"
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void set_err(gen_dag *d, int err, const char *msg)
{
	if (d->err)
		return;
	d->err = err;
	snprintf(d->errmsg, sizeof(d->errmsg), "%s", msg);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static void vec_push(gen_dag *d, struct gen_vec *v, uint32_t x)
{
	if (v->n == v->cap) {
		uint32_t n = v->cap ? v->cap * 2 : 4;
		uint32_t *q = realloc(v->v, n * sizeof(*q));
		if (!q) {
			set_err(d, -ENOMEM, "out of memory");
			return;
		}
		v->v = q;
		v->cap = n;
	}
	v->v[v->n++] = x;
}

static uint32_t intern(gen_dag *d, const char *name)
{
	for (size_t i = 0; i < d->nnames; i++)
		if (d->names[i] == name || strcmp(d->names[i], name) == 0)
			return (uint32_t)i;
	if (grow((void **)&d->names, &d->capnames, d->nnames + 1, sizeof(*d->names))) {
		set_err(d, -ENOMEM, "out of memory");
		return 0;
	}
	d->names[d->nnames] = name;
	return (uint32_t)d->nnames++;
}

static uint32_t add_str(gen_dag *d, const char *fmt, va_list ap)
{
	char buf[256];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		set_err(d, -EINVAL, "identifier too long");
		return 0;
	}
	if (d->nstrs + (size_t)n + 1 > UINT32_MAX) {
		set_err(d, -E2BIG, "identifier pool over 4 GiB");
		return 0;
	}
	if (grow((void **)&d->strs, &d->capstrs, d->nstrs + (size_t)n + 1, 1)) {
		set_err(d, -ENOMEM, "out of memory");
		return 0;
	}
	uint32_t off = (uint32_t)d->nstrs;
	memcpy(d->strs + off, buf, (size_t)n + 1);
	d->nstrs += (size_t)n + 1;
	return off;
}

gen_dag *gd_new(const char *kind, uint32_t scale, uint32_t width)
{
	gen_dag *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	snprintf(d->kind, sizeof(d->kind), "%s", kind);
	d->scale = scale;
	d->width = width;
	return d;
}

uint32_t gd_task(gen_dag *d, const char *cat, const char *fmt, ...)
{
	if (d->err)
		return 0;
	if (d->nt >= GEN_MAX_TASKS) {
		set_err(d, -E2BIG, "more tasks than GEN_MAX_TASKS");
		return 0;
	}
	if (grow((void **)&d->t, &d->capt, d->nt + 1, sizeof(*d->t))) {
		set_err(d, -ENOMEM, "out of memory");
		return 0;
	}
	struct gen_task *t = &d->t[d->nt];
	memset(t, 0, sizeof(*t));
	va_list ap;
	va_start(ap, fmt);
	t->id = add_str(d, fmt, ap);
	va_end(ap);
	t->cat = intern(d, cat);
	t->runtime = -1;
	return (uint32_t)d->nt++;
}

static uint32_t file_v(gen_dag *d, const char *role, const char *fmt, va_list ap)
{
	if (d->err)
		return 0;
	if (d->nf >= UINT32_MAX - 1) {
		set_err(d, -E2BIG, "too many files");
		return 0;
	}
	if (grow((void **)&d->f, &d->capf, d->nf + 1, sizeof(*d->f))) {
		set_err(d, -ENOMEM, "out of memory");
		return 0;
	}
	struct gen_file *f = &d->f[d->nf];
	memset(f, 0, sizeof(*f));
	f->id = add_str(d, fmt, ap);
	f->role = intern(d, role);
	f->producer = -1;
	return (uint32_t)d->nf++;
}

uint32_t gd_file(gen_dag *d, const char *role, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	uint32_t i = file_v(d, role, fmt, ap);
	va_end(ap);
	return i;
}

void gd_in(gen_dag *d, uint32_t task, uint32_t file)
{
	if (d->err)
		return;
	vec_push(d, &d->t[task].inputs, file);
}

void gd_out(gen_dag *d, uint32_t task, uint32_t file)
{
	if (d->err)
		return;
	if (d->f[file].producer >= 0) {
		set_err(d, -EINVAL, "a file with two producers (shape bug)");
		return;
	}
	d->f[file].producer = task;
	vec_push(d, &d->t[task].outputs, file);
}

uint32_t gd_out_new(gen_dag *d, uint32_t task, const char *role, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	uint32_t i = file_v(d, role, fmt, ap);
	va_end(ap);
	gd_out(d, task, i);
	return i;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static void sort_unique(struct gen_vec *v)
{
	if (v->n < 2)
		return;
	qsort(v->v, v->n, sizeof(*v->v), cmp_u32);
	uint32_t k = 1;
	for (uint32_t i = 1; i < v->n; i++)
		if (v->v[i] != v->v[k - 1])
			v->v[k++] = v->v[i];
	v->n = k;
}

int gd_finish(gen_dag *d)
{
	if (d->err)
		return d->err;
	d->levels = 0;
	for (size_t i = 0; i < d->nt; i++) {
		struct gen_task *t = &d->t[i];
		for (uint32_t k = 0; k < t->inputs.n; k++) {
			struct gen_file *f = &d->f[t->inputs.v[k]];
			if (f->producer >= (int64_t)i) {
				set_err(d, -EINVAL, "a task reads a file produced later (shape bug)");
				return d->err;
			}
			if (f->producer >= 0)
				vec_push(d, &t->parents, (uint32_t)f->producer);
			vec_push(d, &f->consumers, (uint32_t)i);
		}
		sort_unique(&t->parents);
		uint32_t lvl = 0;
		for (uint32_t k = 0; k < t->parents.n; k++) {
			struct gen_task *p = &d->t[t->parents.v[k]];
			if (p->level + 1 > lvl)
				lvl = p->level + 1;
			vec_push(d, &p->children, (uint32_t)i);
		}
		t->level = lvl;
		if (lvl + 1 > d->levels)
			d->levels = lvl + 1;
	}
	/* consumers were pushed in ascending task order; a task reading a
	 * file twice would repeat itself */
	for (size_t i = 0; i < d->nf; i++)
		sort_unique(&d->f[i].consumers);
	return d->err;
}

void gen_dag_destroy(gen_dag *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nt; i++) {
		free(d->t[i].parents.v);
		free(d->t[i].children.v);
		free(d->t[i].inputs.v);
		free(d->t[i].outputs.v);
	}
	for (size_t i = 0; i < d->nf; i++)
		free(d->f[i].consumers.v);
	free(d->t);
	free(d->f);
	free(d->strs);
	free(d->names);
	free(d);
}

const char *gen_dag_kind(const gen_dag *d)
{
	return d->kind;
}

uint32_t gen_dag_task_count(const gen_dag *d)
{
	return (uint32_t)d->nt;
}

uint32_t gen_dag_file_count(const gen_dag *d)
{
	return (uint32_t)d->nf;
}

uint32_t gen_dag_level_count(const gen_dag *d)
{
	return d->levels;
}

int gen_dag_task(const gen_dag *d, uint32_t i, struct gen_task_view *out)
{
	if (i >= d->nt)
		return -ERANGE;
	const struct gen_task *t = &d->t[i];
	*out = (struct gen_task_view){
		.id = d->strs + t->id,
		.category = d->names[t->cat],
		.level = t->level,
		.runtime = t->runtime,
		.n_parents = t->parents.n, .n_children = t->children.n,
		.n_inputs = t->inputs.n, .n_outputs = t->outputs.n,
		.parents = t->parents.v, .children = t->children.v,
		.inputs = t->inputs.v, .outputs = t->outputs.v,
	};
	return 0;
}

int gen_dag_file(const gen_dag *d, uint32_t i, struct gen_file_view *out)
{
	if (i >= d->nf)
		return -ERANGE;
	const struct gen_file *f = &d->f[i];
	*out = (struct gen_file_view){
		.id = d->strs + f->id,
		.role = d->names[f->role],
		.producer = f->producer,
		.n_consumers = f->consumers.n,
		.consumers = f->consumers.v,
		.size = f->size,
	};
	return 0;
}

int gen_dag_set_size(gen_dag *d, uint32_t file, uint64_t bytes)
{
	if (file >= d->nf)
		return -ERANGE;
	d->f[file].size = bytes;
	return 0;
}

int gen_dag_set_runtime(gen_dag *d, uint32_t task, double seconds)
{
	if (task >= d->nt)
		return -ERANGE;
	if (!isfinite(seconds) || seconds < 0)
		return -EINVAL;
	d->t[task].runtime = seconds;
	return 0;
}

/* ---- seeded draws ---------------------------------------------------- */

struct rng {
	uint64_t s[4];
};


static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = tt_splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* uniform in (0, 1): never 0, so log() below is finite */
static double rng_unit(struct rng *r)
{
	return ((double)(rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

/* One standard normal per call (the second Box-Muller value is dropped
 * so that every draw consumes exactly two uniforms). */
static double rng_normal(struct rng *r)
{
	double u = rng_unit(r), v = rng_unit(r);
	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

static double draw(struct rng *r, const struct gen_fit *fit)
{
	double x = exp(fit->mu + fit->sigma * rng_normal(r));
	if (x < fit->lo)
		x = fit->lo;
	if (x > fit->hi)
		x = fit->hi;
	return x;
}

int gen_dag_draw(gen_dag *d, uint64_t seed, const struct gen_options *opt)
{
	double sf = opt && opt->size_factor > 0 ? opt->size_factor : 1.0;
	double rf = opt && opt->runtime_factor > 0 ? opt->runtime_factor : 1.0;
	/* resolve each interned name once: as a role and as "rt.<cat>" */
	const struct gen_fit **fit = calloc(d->nnames ? d->nnames : 1, sizeof(*fit));
	if (!fit)
		return -ENOMEM;
	int rc = 0;
	struct rng r;
	rng_seed(&r, seed);
	for (size_t i = 0; i < d->nt && !rc; i++) {
		uint32_t c = d->t[i].cat;
		if (!fit[c]) {
			char key[96];
			snprintf(key, sizeof(key), "rt.%s", d->names[c]);
			if (!(fit[c] = gen_fit_find(d->kind, key)))
				rc = -ENOENT;
		}
		if (!rc)
			d->t[i].runtime = round(draw(&r, fit[c]) * rf * 1000.0) / 1000.0;
	}
	memset(fit, 0, (d->nnames ? d->nnames : 1) * sizeof(*fit));
	for (size_t i = 0; i < d->nf && !rc; i++) {
		uint32_t c = d->f[i].role;
		if (!fit[c] && !(fit[c] = gen_fit_find(d->kind, d->names[c])))
			rc = -ENOENT;
		if (!rc)
			d->f[i].size = (uint64_t)llround(draw(&r, fit[c]) * sf);
	}
	free(fit);
	if (!rc) {
		d->seed = seed;
		d->drawn = 1;
	}
	return rc;
}

/* ---- WfFormat 1.5 ---------------------------------------------------- */

static void put_list(FILE *fp, const char *key, const gen_dag *d,
		     const struct gen_vec *v, int files)
{
	fprintf(fp, "\"%s\": [", key);
	for (uint32_t k = 0; k < v->n; k++) {
		uint32_t off = files ? d->f[v->v[k]].id : d->t[v->v[k]].id;
		fprintf(fp, "%s\"%s\"", k ? ", " : "", d->strs + off);
	}
	fputc(']', fp);
}

int gen_dag_write_json(const gen_dag *d, const char *name, FILE *fp)
{
	for (size_t i = 0; i < d->nt; i++)
		if (d->t[i].runtime < 0)
			return -EINVAL;
	/* makespan on unbounded cores: the critical path */
	double *fin = malloc((d->nt ? d->nt : 1) * sizeof(*fin)), makespan = 0;
	if (!fin)
		return -ENOMEM;
	for (size_t i = 0; i < d->nt; i++) {
		double s = 0;
		for (uint32_t k = 0; k < d->t[i].parents.n; k++)
			if (fin[d->t[i].parents.v[k]] > s)
				s = fin[d->t[i].parents.v[k]];
		fin[i] = s + d->t[i].runtime;
		if (fin[i] > makespan)
			makespan = fin[i];
	}
	free(fin);
	char defname[64];
	if (!name) {
		snprintf(defname, sizeof(defname), "%s-%u", d->kind, d->scale);
		name = defname;
	}
	fprintf(fp, "{\n  \"name\": \"");
	for (const char *p = name; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', fp);
		if ((unsigned char)*p >= 0x20)
			fputc(*p, fp);
	}
	fprintf(fp, "\",\n  \"description\": \"Synthetic %s workflow by tiertrain generate: scale %u, width %u, seed %llu (sizes and runtimes from tools/gen_fit.py)\",\n",
		d->kind, d->scale, d->width, (unsigned long long)d->seed);
	fprintf(fp, "  \"schemaVersion\": \"1.5\",\n"
		    "  \"runtimeSystem\": {\"name\": \"tiertrain-generate\", \"version\": \"1\"},\n"
		    "  \"workflow\": {\n    \"specification\": {\n      \"tasks\": [\n");
	for (size_t i = 0; i < d->nt; i++) {
		const struct gen_task *t = &d->t[i];
		const char *id = d->strs + t->id;
		fprintf(fp, "        {\"name\": \"%s\", \"id\": \"%s\", \"category\": \"%s\", ",
			id, id, d->names[t->cat]);
		put_list(fp, "parents", d, &t->parents, 0);
		fputs(", ", fp);
		put_list(fp, "children", d, &t->children, 0);
		fputs(", ", fp);
		put_list(fp, "inputFiles", d, &t->inputs, 1);
		fputs(", ", fp);
		put_list(fp, "outputFiles", d, &t->outputs, 1);
		fprintf(fp, "}%s\n", i + 1 < d->nt ? "," : "");
	}
	fputs("      ],\n      \"files\": [\n", fp);
	for (size_t i = 0; i < d->nf; i++)
		fprintf(fp, "        {\"id\": \"%s\", \"sizeInBytes\": %llu}%s\n",
			d->strs + d->f[i].id, (unsigned long long)d->f[i].size,
			i + 1 < d->nf ? "," : "");
	fprintf(fp, "      ]\n    },\n    \"execution\": {\n      \"makespanInSeconds\": %.3f,\n"
		    "      \"executedAt\": \"1970-01-01T00:00:00Z\",\n      \"tasks\": [\n", makespan);
	for (size_t i = 0; i < d->nt; i++)
		fprintf(fp, "        {\"id\": \"%s\", \"runtimeInSeconds\": %.3f, \"command\": {\"program\": \"%s\"}}%s\n",
			d->strs + d->t[i].id, d->t[i].runtime, d->names[d->t[i].cat],
			i + 1 < d->nt ? "," : "");
	fputs("      ]\n    }\n  }\n}\n", fp);
	return ferror(fp) ? -EIO : 0;
}

int gen_dag_to_json(const gen_dag *d, const char *name, char **out, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	*out = NULL;
	FILE *fp = open_memstream(&buf, &n);
	if (!fp)
		return -ENOMEM;
	int rc = gen_dag_write_json(d, name, fp);
	if (fclose(fp) && !rc)
		rc = -ENOMEM;
	if (rc) {
		free(buf);
		return rc == -EIO ? -ENOMEM : rc;
	}
	*out = buf;
	if (len)
		*len = n;
	return 0;
}
