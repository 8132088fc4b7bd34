/* tier_parser graph builder and queries: format readers describe tasks,
 * file uses and explicit dependencies; wfb_finish() turns that into the
 * immutable wf_graph every query runs on.
 *
 * Rules (from notes/workflow-formats.md and issue 3):
 * - edges = explicit U file-implied (producer -> consumer), counted as
 *   distinct task pairs; a cycle is an error naming tasks on it;
 * - a file written by several tasks is owned by the first in topological
 *   order (level, then document order); the others are re-writes. A task
 *   that reads a file does not depend on a writer declared after it, so
 *   inout re-write chains stay acyclic;
 * - declared size: the largest size a producer declares for its output,
 *   else the largest mention; negative sizes and runtimes are made
 *   positive with a warning; missing sizes count as 0;
 * - levels are longest-path depths over the union graph.
 * Invariants of the result: tasks and files keep document order of first
 * mention; every index in the u32 pool is in range; the lookup map's
 * keys are suffixes (at '/') of normalised file names held in the arena.
 */
#include "wf_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define WF_MAX_ITEMS ((uint32_t)1 << 30)
#define WF_MAX_EDGES ((uint64_t)64 << 20)
#define WF_MAX_SIZE 1e18    /* an exabyte: anything above is a typo or hostile */
#define WF_MAX_RUNTIME 1e10 /* ~300 years of seconds */
#define LOOKUP_FULL 0x80000000u
#define LOOKUP_AMBIG 0x7fffffffu

struct btask {
	const char *id, *name, *category;
	bool category_given; /* from the file, not derived from the name */
	unsigned line;
	double runtime;
};

struct buse {
	uint32_t task, file;
	uint8_t flags;
};

struct bfile {
	const char *name;
	uint64_t out_size, any_size, first_size;
	bool has_out, has_any, conflict;
};

struct bedge {
	const char *parent, *child; /* NULL when the index is known */
	uint32_t p_idx, c_idx;
	unsigned line;
	enum wfb_ref how;
};

struct bcat {
	const char *name;
	uint64_t size;
};

#define VEC(T) struct { T *v; size_t n, cap; }

struct wf_builder {
	const char *src; /* malloc'd: messages outlive the arena hand-over */
	struct wf_options opts;
	char *err;
	size_t errlen;
	bool failed;
	struct wf_arena arena;
	const char *wfname;
	VEC(struct btask) tasks;
	VEC(struct buse) uses;
	VEC(struct bfile) files;
	VEC(struct bedge) edges;
	VEC(struct bcat) catalog;
	struct wf_smap task_ids, task_names, file_map;
	uint32_t warnings, repaired_sizes, repaired_runtimes;
};

struct gtask {
	const char *id, *category;
	double runtime;
	uint32_t level;
	uint32_t in_off, n_in, out_off, n_out, par_off, n_par, ch_off, n_ch;
	uint64_t in_bytes, out_bytes;
};

/* Everything a lookup returns is copied in at load, so a lookup touches
 * one slot, one key and one gfile: three cache misses on a big graph. */
struct gfile {
	const char *name;
	const char *producer_id, *producer_category; /* NULL: no producer */
	uint64_t size, producer_input_bytes;
	uint32_t owner; /* UINT32_MAX = no producer */
	uint32_t producers, consumers, next, last;
	uint32_t producer_level, producer_width;
};

struct wf_graph {
	struct wf_arena arena;
	struct gtask *tasks;
	struct gfile *files;
	uint32_t *pool, *topo, *width;
	struct wf_smap lookup;
	struct wf_summary sum;
};

#define VEC_PUSH(b, vec, item)                                               \
	({                                                                   \
		int _rc = 0;                                                 \
		if ((vec).n == (vec).cap) {                                  \
			size_t _nc = (vec).cap ? (vec).cap * 2 : 64;         \
			void *_p = realloc((vec).v, _nc * sizeof(*(vec).v)); \
			if (!_p)                                             \
				_rc = wfb_error_code(b, -ENOMEM, 0,          \
						     "out of memory");       \
			else {                                               \
				(vec).v = _p;                                \
				(vec).cap = _nc;                             \
			}                                                    \
		}                                                            \
		if (!_rc)                                                    \
			(vec).v[(vec).n++] = (item);                         \
		_rc;                                                         \
	})

struct wf_builder *wfb_new(const char *src, const struct wf_options *opts,
			   char *err, size_t errlen)
{
	struct wf_builder *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	if (opts)
		b->opts = *opts;
	if (!b->opts.max_warnings)
		b->opts.max_warnings = 20;
	b->err = err;
	b->errlen = errlen;
	b->src = strdup(src ? src : "<buffer>");
	b->wfname = "";
	if (!b->src) {
		free(b);
		return NULL;
	}
	return b;
}

void wfb_free(struct wf_builder *b)
{
	if (!b)
		return;
	free(b->tasks.v);
	free(b->uses.v);
	free(b->files.v);
	free(b->edges.v);
	free(b->catalog.v);
	wf_smap_free(&b->task_ids);
	wf_smap_free(&b->task_names);
	wf_smap_free(&b->file_map);
	wf_arena_free(&b->arena);
	free((char *)b->src);
	free(b);
}

const char *wfb_src(const struct wf_builder *b) { return b->src; }

static void vmsg(struct wf_builder *b, char *buf, size_t len, unsigned line,
		 const char *fmt, va_list ap)
{
	int n = line ? snprintf(buf, len, "%s:%u: ", b->src, line)
		     : snprintf(buf, len, "%s: ", b->src);
	if (n < 0 || (size_t)n >= len)
		return;
	vsnprintf(buf + n, len - (size_t)n, fmt, ap);
}

static int verror(struct wf_builder *b, int code, unsigned line,
		  const char *fmt, va_list ap)
{
	if (!b->failed && b->err && b->errlen)
		vmsg(b, b->err, b->errlen, line, fmt, ap);
	b->failed = true;
	return code;
}

int wfb_error_code(struct wf_builder *b, int code, unsigned line,
		   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	code = verror(b, code, line, fmt, ap);
	va_end(ap);
	return code;
}

int wfb_error(struct wf_builder *b, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int code = verror(b, -EINVAL, line, fmt, ap);
	va_end(ap);
	return code;
}

void wfb_warn(struct wf_builder *b, unsigned line, const char *fmt, ...)
{
	b->warnings++;
	if (!b->opts.log || b->warnings > b->opts.max_warnings)
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vmsg(b, buf, sizeof(buf), line, fmt, ap);
	va_end(ap);
	if (b->warnings == b->opts.max_warnings) {
		size_t n = strlen(buf);
		snprintf(buf + n, sizeof(buf) - n,
			 " (further warnings are only counted)");
	}
	b->opts.log(b->opts.log_ud, WF_LOG_WARN, buf);
}

static const char *bdup(struct wf_builder *b, const char *s)
{
	return wf_arena_strdup(&b->arena, s, strlen(s));
}

void wfb_set_name(struct wf_builder *b, const char *name)
{
	const char *n = name ? bdup(b, name) : NULL;
	if (n)
		b->wfname = n;
}

/* Generators name tasks "<category>_ID0000042" or "<category>_00042";
 * formats without a category field get the part before that suffix. */
static const char *derive_category(struct wf_builder *b, const char *name)
{
	size_t n = strlen(name), i = n;
	while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
		i--;
	if (i == n)
		return name;
	if (i >= 2 && name[i - 2] == 'I' && name[i - 1] == 'D')
		i -= 2;
	if (i >= 2 && name[i - 1] == '_')
		return wf_arena_strdup(&b->arena, name, i - 1);
	return name;
}

int wfb_task(struct wf_builder *b, unsigned line, const char *id,
	     const char *name, const char *category, uint32_t *idx)
{
	if (!id || !*id)
		return wfb_error(b, line, "task without an id");
	if (b->tasks.n >= WF_MAX_ITEMS)
		return wfb_error_code(b, -E2BIG, line, "more than %u tasks",
				      WF_MAX_ITEMS);
	struct btask t = { .line = line, .runtime = -1 };
	t.id = bdup(b, id);
	t.name = name ? bdup(b, name) : t.id;
	if (!t.id || !t.name)
		return wfb_error_code(b, -ENOMEM, line, "out of memory");
	t.category_given = category && *category;
	t.category = t.category_given ? bdup(b, category) : derive_category(b, t.name);
	if (!t.category)
		return wfb_error_code(b, -ENOMEM, line, "out of memory");
	uint32_t i = (uint32_t)b->tasks.n, prev;
	int rc = wf_smap_put(&b->task_ids, t.id, i, &prev);
	if (rc == -EEXIST && b->tasks.v[prev].line)
		return wfb_error(b, line,
				 "duplicate task id '%s' (first defined at line %u)",
				 id, b->tasks.v[prev].line);
	if (rc == -EEXIST)
		return wfb_error(b, line, "duplicate task id '%s' (tasks #%u and #%zu)",
				 id, prev, b->tasks.n);
	if (rc)
		return wfb_error_code(b, rc, line, "out of memory");
	rc = wf_smap_put(&b->task_names, t.name, i, &prev);
	if (rc == -EEXIST)
		wf_smap_set(&b->task_names, t.name, UINT32_MAX);
	else if (rc)
		return wfb_error_code(b, rc, line, "out of memory");
	rc = VEC_PUSH(b, b->tasks, t);
	if (rc)
		return rc;
	*idx = i;
	return 0;
}

int wfb_task_program(struct wf_builder *b, uint32_t task, const char *program)
{
	struct btask *t = &b->tasks.v[task];
	if (t->category_given || !program || !*program)
		return 0;
	const char *c = bdup(b, program);
	if (!c)
		return wfb_error_code(b, -ENOMEM, 0, "out of memory");
	t->category = c;
	return 0;
}

int wfb_task_runtime(struct wf_builder *b, uint32_t task, unsigned line,
		     double runtime)
{
	struct btask *t = &b->tasks.v[task];
	if (!isfinite(runtime) || fabs(runtime) > WF_MAX_RUNTIME)
		return wfb_error(b, line,
				 "task '%s': runtime %g is absurd (expected 0..%g seconds)",
				 t->id, runtime, WF_MAX_RUNTIME);
	if (runtime < 0) {
		b->repaired_runtimes++;
		wfb_warn(b, line, "task '%s': negative runtime %g, using %g",
			 t->id, runtime, -runtime);
		runtime = -runtime;
	}
	t->runtime = runtime;
	return 0;
}

static int check_size(struct wf_builder *b, unsigned line, const char *file,
		      double size, uint64_t *out)
{
	if (!isfinite(size) || fabs(size) > WF_MAX_SIZE)
		return wfb_error(b, line,
				 "file '%s': size %g is absurd (expected 0..%g bytes)",
				 file, size, WF_MAX_SIZE);
	if (size < 0) {
		b->repaired_sizes++;
		wfb_warn(b, line, "file '%s': negative size %.0f, using %.0f",
			 file, size, -size);
		size = -size;
	}
	*out = (uint64_t)llround(size);
	return 0;
}

static int file_index(struct wf_builder *b, unsigned line, const char *file,
		      uint32_t *idx)
{
	if (!file || !*file)
		return wfb_error(b, line, "file use without a file name");
	size_t n = strlen(file);
	if (wf_smap_get(&b->file_map, file, n, wf_hash(file, n), idx))
		return 0;
	if (b->files.n >= WF_MAX_ITEMS / 2)
		return wfb_error_code(b, -E2BIG, line, "more than %u files",
				      WF_MAX_ITEMS / 2);
	struct bfile f = { .name = wf_arena_strdup(&b->arena, file, n) };
	if (!f.name)
		return wfb_error_code(b, -ENOMEM, line, "out of memory");
	*idx = (uint32_t)b->files.n;
	int rc = wf_smap_put(&b->file_map, f.name, *idx, NULL);
	if (rc)
		return wfb_error_code(b, rc, line, "out of memory");
	return VEC_PUSH(b, b->files, f);
}

static void note_size(struct bfile *f, uint64_t s, bool out)
{
	if (f->has_any && s != f->first_size)
		f->conflict = true;
	if (!f->has_any)
		f->first_size = s;
	f->has_any = true;
	if (s > f->any_size)
		f->any_size = s;
	if (out) {
		f->has_out = true;
		if (s > f->out_size)
			f->out_size = s;
	}
}

int wfb_use(struct wf_builder *b, uint32_t task, unsigned line,
	    const char *file, int link, bool has_size, double size)
{
	uint32_t fi;
	int rc = file_index(b, line, file, &fi);
	if (rc)
		return rc;
	if (has_size) {
		uint64_t s = 0;
		rc = check_size(b, line, file, size, &s);
		if (rc)
			return rc;
		note_size(&b->files.v[fi], s, link & WFB_OUT);
	}
	if (!(link & (WFB_IN | WFB_OUT)))
		return 0;
	struct buse u = { task, fi, (uint8_t)link };
	return VEC_PUSH(b, b->uses, u);
}

int wfb_file_size(struct wf_builder *b, unsigned line, const char *file,
		  double size)
{
	/* Catalogues list files no task may use: applied in wfb_finish to
	 * files that tasks mention, so they never add files of their own. */
	struct bcat c = { .name = file ? bdup(b, file) : NULL };
	if (!c.name)
		return wfb_error_code(b, -ENOMEM, line, "out of memory");
	int rc = check_size(b, line, file, size, &c.size);
	return rc ? rc : VEC_PUSH(b, b->catalog, c);
}

int wfb_edge_ix(struct wf_builder *b, unsigned line, uint32_t parent_idx,
		const char *parent_ref, uint32_t child_idx, const char *child_ref,
		enum wfb_ref how)
{
	struct bedge e = { NULL, NULL, parent_idx, child_idx, line, how };
	if ((parent_idx == WFB_NOIDX && (!parent_ref || !*parent_ref)) ||
	    (child_idx == WFB_NOIDX && (!child_ref || !*child_ref)))
		return wfb_error(b, line, "dependency with an empty task reference");
	if (parent_idx == WFB_NOIDX && !(e.parent = bdup(b, parent_ref)))
		return wfb_error_code(b, -ENOMEM, line, "out of memory");
	if (child_idx == WFB_NOIDX && !(e.child = bdup(b, child_ref)))
		return wfb_error_code(b, -ENOMEM, line, "out of memory");
	return VEC_PUSH(b, b->edges, e);
}

int wfb_edge(struct wf_builder *b, unsigned line, const char *parent,
	     const char *child, enum wfb_ref how)
{
	return wfb_edge_ix(b, line, WFB_NOIDX, parent, WFB_NOIDX, child, how);
}

bool wfb_task_find(struct wf_builder *b, const char *id, uint32_t *idx)
{
	size_t n = strlen(id);
	return wf_smap_get(&b->task_ids, id, n, wf_hash(id, n), idx);
}

/* ---- wfb_finish ---------------------------------------------------- */

struct eset {
	uint64_t *keys;
	uint8_t *flags;
	uint64_t cap, count;
};
#define ESET_EMPTY UINT64_MAX

static int eset_add(struct eset *s, uint32_t p, uint32_t c, uint8_t flag)
{
	if ((s->count + 1) * 2 > s->cap) {
		uint64_t ncap = s->cap ? s->cap * 2 : 1024;
		uint64_t *nk = malloc(ncap * sizeof(*nk));
		uint8_t *nf = calloc(ncap, 1);
		if (!nk || !nf) {
			free(nk);
			free(nf);
			return -ENOMEM;
		}
		memset(nk, 0xff, ncap * sizeof(*nk));
		for (uint64_t i = 0; i < s->cap; i++) {
			if (s->keys[i] == ESET_EMPTY)
				continue;
			uint64_t j = wf_hash((const char *)&s->keys[i], 8) & (ncap - 1);
			while (nk[j] != ESET_EMPTY)
				j = (j + 1) & (ncap - 1);
			nk[j] = s->keys[i];
			nf[j] = s->flags[i];
		}
		free(s->keys);
		free(s->flags);
		s->keys = nk;
		s->flags = nf;
		s->cap = ncap;
	}
	uint64_t k = (uint64_t)p << 32 | c;
	uint64_t j = wf_hash((const char *)&k, 8) & (s->cap - 1);
	while (s->keys[j] != ESET_EMPTY && s->keys[j] != k)
		j = (j + 1) & (s->cap - 1);
	if (s->keys[j] == ESET_EMPTY) {
		s->keys[j] = k;
		s->count++;
	}
	s->flags[j] |= flag;
	return 0;
}

static int resolve(struct wf_builder *b, const struct bedge *e,
		   const char *ref, const char *role, uint32_t *out)
{
	size_t n = strlen(ref);
	uint64_t h = wf_hash(ref, n);
	if (e->how == WFB_REF_NAME && wf_smap_get(&b->task_names, ref, n, h, out) &&
	    *out != UINT32_MAX)
		return 0;
	if (wf_smap_get(&b->task_ids, ref, n, h, out))
		return 0;
	if (e->how == WFB_REF_NAME && wf_smap_get(&b->task_names, ref, n, h, out))
		return wfb_error(b, e->line,
				 "dependency %s '%s' is ambiguous: several tasks have that name and none has it as id",
				 role, ref);
	return wfb_error(b, e->line,
			 "dependency %s '%s' is not a task of this workflow (dangling reference)",
			 role, ref);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_use(const void *a, const void *b)
{
	const struct buse *x = a, *y = b;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->task != y->task)
		return x->task < y->task ? -1 : 1;
	return 0;
}

static int report_cycle(struct wf_builder *b, uint32_t nt, const uint32_t *indeg,
			const uint32_t *par_off, const uint32_t *par)
{
	uint32_t v = 0;
	while (v < nt && indeg[v] == 0)
		v++;
	/* Walk to unprocessed parents until a task repeats: every unprocessed
	 * task has one, so the walk must close a cycle. */
	uint32_t *seen = calloc(nt, sizeof(*seen));
	uint32_t *path = malloc((size_t)nt * sizeof(*path));
	if (!seen || !path) {
		free(seen);
		free(path);
		return wfb_error(b, 0, "dependency cycle (out of memory while naming it)");
	}
	uint32_t len = 0, last = v;
	while (!seen[v]) {
		last = v;
		seen[v] = ++len;
		path[len - 1] = v;
		for (uint32_t k = par_off[v]; k < par_off[v + 1]; k++)
			if (indeg[par[k]] > 0) {
				v = par[k];
				break;
			}
	}
	uint32_t start = seen[v] - 1;
	char msg[600];
	size_t o = 0;
	/* path runs child -> parent; print parent -> child */
	for (uint32_t i = len; i-- > start && o < sizeof(msg) - 80;)
		o += (size_t)snprintf(msg + o, sizeof(msg) - o, "'%s' -> ",
				      b->tasks.v[path[i]].id);
	if (o < sizeof(msg) - 80)
		snprintf(msg + o, sizeof(msg) - o, "'%s'", b->tasks.v[last].id);
	else
		snprintf(msg + o, sizeof(msg) - o, "...");
	free(seen);
	free(path);
	return wfb_error(b, b->tasks.v[v].line, "dependency cycle: %s", msg);
}

static int build_lookup(struct wf_graph *g, struct wf_builder *b)
{
	char buf[PATH_MAX];
	for (uint32_t f = 0; f < g->sum.files; f++) {
		const char *name = g->files[f].name;
		int n = wf_normalize(name, strlen(name), buf, sizeof(buf));
		if (n < 0) {
			wfb_warn(b, 0, "file name longer than %d bytes cannot be looked up: '%.60s...'",
				 PATH_MAX, name);
			continue;
		}
		const char *key = wf_arena_strdup(&g->arena, buf, (size_t)n);
		if (!key)
			return -ENOMEM;
		for (const char *s = key; s; s = strchr(s, '/')) {
			if (*s == '/')
				s++;
			uint32_t val = (s == key ? LOOKUP_FULL : 0) | f, old;
			int rc = wf_smap_put(&g->lookup, s, val, &old);
			if (rc == -EEXIST) {
				bool oldfull = old & LOOKUP_FULL, full = s == key;
				if (full && !oldfull)
					wf_smap_set(&g->lookup, s, val);
				else if (full == oldfull && (old & ~LOOKUP_FULL) != f)
					wf_smap_set(&g->lookup, s,
						    (old & LOOKUP_FULL) | LOOKUP_AMBIG);
			} else if (rc) {
				return rc;
			}
		}
	}
	return 0;
}

static void apply_catalog(struct wf_builder *b)
{
	for (size_t i = 0; i < b->catalog.n; i++) {
		const char *name = b->catalog.v[i].name;
		size_t n = strlen(name);
		uint32_t fi;
		if (wf_smap_get(&b->file_map, name, n, wf_hash(name, n), &fi))
			note_size(&b->files.v[fi], b->catalog.v[i].size, false);
	}
}

/* Leaves one use per (file, task) with flags merged, sorted by file. */
static void merge_uses(struct wf_builder *b)
{
	if (b->uses.n)
		qsort(b->uses.v, b->uses.n, sizeof(*b->uses.v), cmp_use);
	size_t nu = 0;
	for (size_t i = 0; i < b->uses.n; i++) {
		if (nu && b->uses.v[nu - 1].file == b->uses.v[i].file &&
		    b->uses.v[nu - 1].task == b->uses.v[i].task)
			b->uses.v[nu - 1].flags |= b->uses.v[i].flags;
		else
			b->uses.v[nu++] = b->uses.v[i];
	}
	b->uses.n = nu;
}

/* Explicit edges (flag 1) and file-implied ones (flag 2) into one set;
 * needs merge_uses() first. */
static int collect_edges(struct wf_builder *b, struct eset *es)
{
	int rc;
	for (size_t i = 0; i < b->edges.n; i++) {
		const struct bedge *e = &b->edges.v[i];
		uint32_t p = e->p_idx, c = e->c_idx;
		if ((e->parent && (rc = resolve(b, e, e->parent, "parent", &p))) ||
		    (e->child && (rc = resolve(b, e, e->child, "child", &c))))
			return rc;
		if (p == c)
			return wfb_error(b, e->line, "dependency cycle: task '%s' lists itself as its own parent",
					 b->tasks.v[p].id);
		if (eset_add(es, p, c, 1))
			return -ENOMEM;
	}
	const struct buse *u = b->uses.v;
	size_t nu = b->uses.n;
	for (size_t i = 0, j; i < nu; i = j) {
		uint64_t np = 0, nc = 0;
		for (j = i; j < nu && u[j].file == u[i].file; j++) {
			np += !!(u[j].flags & WFB_OUT);
			nc += !!(u[j].flags & WFB_IN);
		}
		if (np * nc > WF_MAX_EDGES)
			return wfb_error_code(b, -E2BIG, 0,
					      "file '%s' has %llu writers and %llu readers: too many implied dependencies",
					      b->files.v[u[i].file].name,
					      (unsigned long long)np, (unsigned long long)nc);
		for (size_t p = i; p < j; p++) {
			if (!(u[p].flags & WFB_OUT))
				continue;
			for (size_t c = i; c < j; c++) {
				if (!(u[c].flags & WFB_IN) || c == p)
					continue;
				if ((u[c].flags & WFB_OUT) && u[c].task < u[p].task)
					continue;
				if (eset_add(es, u[p].task, u[c].task, 2))
					return -ENOMEM;
			}
		}
		if (es->count > WF_MAX_EDGES)
			return wfb_error_code(b, -E2BIG, 0, "more than %llu dependencies",
					      (unsigned long long)WF_MAX_EDGES);
	}
	return 0;
}

/* The union graph as sorted parent and child lists (compressed rows). */
struct csr {
	uint32_t *par_off, *ch_off, *par, *ch;
};

static void csr_free(struct csr *a)
{
	free(a->par_off);
	free(a->ch_off);
	free(a->par);
	free(a->ch);
}

static int build_csr(const struct eset *es, uint32_t nt, struct csr *a,
		     struct wf_summary *sum)
{
	a->par_off = calloc((size_t)nt + 1, sizeof(*a->par_off));
	a->ch_off = calloc((size_t)nt + 1, sizeof(*a->ch_off));
	a->par = malloc((es->count + 1) * sizeof(*a->par));
	a->ch = malloc((es->count + 1) * sizeof(*a->ch));
	uint32_t *pfill = calloc((size_t)nt + 1, sizeof(*pfill));
	uint32_t *cfill = calloc((size_t)nt + 1, sizeof(*cfill));
	if (!a->par_off || !a->ch_off || !a->par || !a->ch || !pfill || !cfill) {
		free(pfill);
		free(cfill);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < es->cap; i++) {
		if (es->keys[i] == ESET_EMPTY)
			continue;
		uint32_t p = (uint32_t)(es->keys[i] >> 32), c = (uint32_t)es->keys[i];
		a->par_off[c + 1]++;
		a->ch_off[p + 1]++;
		sum->explicit_edges += es->flags[i] & 1;
		sum->implied_edges += (es->flags[i] >> 1) & 1;
	}
	sum->edges = es->count;
	for (uint32_t t = 0; t < nt; t++) {
		a->par_off[t + 1] += a->par_off[t];
		a->ch_off[t + 1] += a->ch_off[t];
	}
	for (uint64_t i = 0; i < es->cap; i++) {
		if (es->keys[i] == ESET_EMPTY)
			continue;
		uint32_t p = (uint32_t)(es->keys[i] >> 32), c = (uint32_t)es->keys[i];
		a->par[a->par_off[c] + pfill[c]++] = p;
		a->ch[a->ch_off[p] + cfill[p]++] = c;
	}
	free(pfill);
	free(cfill);
	/* hash order is arbitrary: sort neighbour lists for stable output */
	for (uint32_t t = 0; t < nt; t++) {
		qsort(a->par + a->par_off[t], a->par_off[t + 1] - a->par_off[t], sizeof(*a->par), cmp_u32);
		qsort(a->ch + a->ch_off[t], a->ch_off[t + 1] - a->ch_off[t], sizeof(*a->ch), cmp_u32);
	}
	return 0;
}

/* Kahn's algorithm with longest-path levels, then widths and the
 * topological order (by level, stable in document order). */
static int compute_levels(struct wf_builder *b, struct wf_graph *g, const struct csr *a)
{
	uint32_t nt = g->sum.tasks, qh = 0, qt = 0;
	uint32_t *indeg = malloc((size_t)nt * sizeof(*indeg));
	uint32_t *queue = malloc((size_t)nt * sizeof(*queue));
	int rc = -ENOMEM;
	if (!indeg || !queue)
		goto out;
	for (uint32_t t = 0; t < nt; t++) {
		indeg[t] = a->par_off[t + 1] - a->par_off[t];
		if (!indeg[t])
			queue[qt++] = t;
	}
	while (qh < qt) {
		uint32_t p = queue[qh++];
		for (uint32_t k = a->ch_off[p]; k < a->ch_off[p + 1]; k++) {
			uint32_t c = a->ch[k];
			if (g->tasks[c].level < g->tasks[p].level + 1)
				g->tasks[c].level = g->tasks[p].level + 1;
			if (--indeg[c] == 0)
				queue[qt++] = c;
		}
	}
	if (qt < nt) {
		rc = report_cycle(b, nt, indeg, a->par_off, a->par);
		goto out;
	}
	uint32_t nlev = 0;
	for (uint32_t t = 0; t < nt; t++)
		if (g->tasks[t].level + 1 > nlev)
			nlev = g->tasks[t].level + 1;
	g->width = calloc(nlev, sizeof(*g->width));
	if (!g->width)
		goto out;
	for (uint32_t t = 0; t < nt; t++)
		g->width[g->tasks[t].level]++;
	/* queue becomes the cursor of each level's run in topo[] */
	for (uint32_t l = 0, start = 0; l < nlev; l++) {
		queue[l] = start;
		start += g->width[l];
		if (g->width[l] > g->sum.max_width)
			g->sum.max_width = g->width[l];
	}
	for (uint32_t t = 0; t < nt; t++)
		g->topo[queue[g->tasks[t].level]++] = t;
	g->sum.levels = nlev;
	rc = 0;
out:
	free(indeg);
	free(queue);
	return rc;
}

/* Declared size, owning producer, consumers and use distances per file. */
static void compute_files(const struct wf_builder *b, struct wf_graph *g)
{
	for (uint32_t f = 0; f < g->sum.files; f++) {
		const struct bfile *bf = &b->files.v[f];
		struct gfile *gf = &g->files[f];
		gf->name = bf->name;
		gf->size = bf->has_out ? bf->out_size : bf->any_size;
		gf->owner = UINT32_MAX;
		gf->next = gf->last = WF_DIST_NONE;
		g->sum.declared_bytes += gf->size;
		g->sum.size_conflicts += bf->conflict;
	}
	for (size_t i = 0; i < b->uses.n; i++) {
		const struct buse *u = &b->uses.v[i];
		struct gfile *gf = &g->files[u->file];
		if (!(u->flags & WFB_OUT))
			continue;
		gf->producers++;
		/* uses are in task order per file: ties keep the first */
		if (gf->owner == UINT32_MAX ||
		    g->tasks[u->task].level < g->tasks[gf->owner].level)
			gf->owner = u->task;
	}
	for (size_t i = 0; i < b->uses.n; i++) {
		const struct buse *u = &b->uses.v[i];
		struct gfile *gf = &g->files[u->file];
		if (!(u->flags & WFB_IN) || u->task == gf->owner)
			continue;
		int64_t from = gf->owner == UINT32_MAX ? -1 : (int64_t)g->tasks[gf->owner].level;
		int64_t d = (int64_t)g->tasks[u->task].level - from;
		uint32_t du = d < 0 ? 0 : (uint32_t)d;
		gf->consumers++;
		if (gf->next == WF_DIST_NONE || du < gf->next)
			gf->next = du;
		if (gf->last == WF_DIST_NONE || du > gf->last)
			gf->last = du;
	}
}

/* Task records with their input, output, parent and child lists in one
 * pool; then copy each file's producer facts into the file record. */
static int build_tasks(const struct wf_builder *b, struct wf_graph *g, const struct csr *a)
{
	const struct buse *u = b->uses.v;
	uint64_t pool_n = 2 * g->sum.edges;
	for (size_t i = 0; i < b->uses.n; i++) {
		struct gtask *t = &g->tasks[u[i].task];
		t->n_in += !!(u[i].flags & WFB_IN);
		t->n_out += !!(u[i].flags & WFB_OUT);
		pool_n += !!(u[i].flags & WFB_IN) + !!(u[i].flags & WFB_OUT);
	}
	g->pool = malloc((pool_n + 1) * sizeof(*g->pool));
	if (!g->pool)
		return -ENOMEM;
	uint32_t off = 0;
	for (uint32_t t = 0; t < g->sum.tasks; t++) {
		struct gtask *gt = &g->tasks[t];
		const struct btask *bt = &b->tasks.v[t];
		gt->id = bt->id;
		gt->category = bt->category;
		gt->runtime = bt->runtime;
		gt->in_off = off;
		off += gt->n_in;
		gt->out_off = off;
		off += gt->n_out;
		gt->n_in = gt->n_out = 0; /* refilled below */
		gt->par_off = off;
		gt->n_par = a->par_off[t + 1] - a->par_off[t];
		memcpy(g->pool + off, a->par + a->par_off[t], gt->n_par * sizeof(*a->par));
		off += gt->n_par;
		gt->ch_off = off;
		gt->n_ch = a->ch_off[t + 1] - a->ch_off[t];
		memcpy(g->pool + off, a->ch + a->ch_off[t], gt->n_ch * sizeof(*a->ch));
		off += gt->n_ch;
	}
	for (size_t i = 0; i < b->uses.n; i++) {
		struct gtask *t = &g->tasks[u[i].task];
		uint64_t s = g->files[u[i].file].size;
		if (u[i].flags & WFB_IN) {
			g->pool[t->in_off + t->n_in++] = u[i].file;
			t->in_bytes += s;
		}
		if (u[i].flags & WFB_OUT) {
			g->pool[t->out_off + t->n_out++] = u[i].file;
			t->out_bytes += s;
		}
	}
	for (uint32_t f = 0; f < g->sum.files; f++) {
		struct gfile *gf = &g->files[f];
		g->sum.multi_producer_files += gf->producers > 1;
		if (gf->owner == UINT32_MAX)
			continue;
		const struct gtask *p = &g->tasks[gf->owner];
		gf->producer_id = p->id;
		gf->producer_category = p->category;
		gf->producer_input_bytes = p->in_bytes;
		gf->producer_level = p->level;
		gf->producer_width = g->width[p->level];
	}
	return 0;
}

int wfb_finish(struct wf_builder *b, enum wf_format fmt, wf_graph **out)
{
	uint32_t nt = (uint32_t)b->tasks.n, nf = (uint32_t)b->files.n;
	struct eset es = { 0 };
	struct csr a = { 0 };
	struct wf_graph *g = NULL;
	int rc;

	if (nt == 0)
		return wfb_error(b, 0, "workflow has no tasks (expected at least one job/task)");
	apply_catalog(b);
	merge_uses(b);
	if ((rc = collect_edges(b, &es)))
		goto out;
	g = calloc(1, sizeof(*g));
	if (!g || !(g->tasks = calloc(nt, sizeof(*g->tasks))) ||
	    !(g->files = calloc(nf ? nf : 1, sizeof(*g->files))) ||
	    !(g->topo = malloc((size_t)nt * sizeof(*g->topo)))) {
		rc = -ENOMEM;
		goto out;
	}
	g->sum.format = fmt;
	g->sum.name = b->wfname;
	g->sum.tasks = nt;
	g->sum.files = nf;
	g->sum.repaired_sizes = b->repaired_sizes;
	g->sum.repaired_runtimes = b->repaired_runtimes;
	if ((rc = build_csr(&es, nt, &a, &g->sum)) || (rc = compute_levels(b, g, &a)))
		goto out;
	compute_files(b, g);
	if ((rc = build_tasks(b, g, &a)))
		goto out;
	/* the names live in the builder's arena: hand it over first */
	g->arena = b->arena;
	b->arena.head = NULL;
	if ((rc = build_lookup(g, b)))
		goto out;
	g->sum.warnings = b->warnings;
	*out = g;
	g = NULL;
out:
	if (rc == -ENOMEM)
		wfb_error_code(b, rc, 0, "out of memory while building the workflow graph");
	wf_destroy(g);
	csr_free(&a);
	free(es.keys);
	free(es.flags);
	return rc;
}

/* ---- queries ------------------------------------------------------- */

void wf_destroy(wf_graph *g)
{
	if (!g)
		return;
	free(g->tasks);
	free(g->files);
	free(g->pool);
	free(g->topo);
	free(g->width);
	wf_smap_free(&g->lookup);
	wf_arena_free(&g->arena);
	free(g);
}

void wf_get_summary(const wf_graph *g, struct wf_summary *out)
{
	*out = g->sum;
}

uint32_t wf_task_count(const wf_graph *g) { return g->sum.tasks; }
uint32_t wf_file_count(const wf_graph *g) { return g->sum.files; }

int wf_task_info(const wf_graph *g, uint32_t index, struct wf_task_info *out)
{
	if (index >= g->sum.tasks)
		return -ERANGE;
	const struct gtask *t = &g->tasks[index];
	*out = (struct wf_task_info){
		.id = t->id, .category = t->category, .level = t->level,
		.index = index, .runtime = t->runtime,
		.input_bytes = t->in_bytes, .output_bytes = t->out_bytes,
		.n_inputs = t->n_in, .n_outputs = t->n_out,
		.n_parents = t->n_par, .n_children = t->n_ch,
		.inputs = g->pool + t->in_off, .outputs = g->pool + t->out_off,
		.parents = g->pool + t->par_off, .children = g->pool + t->ch_off,
	};
	return 0;
}

int wf_task_topo(const wf_graph *g, uint32_t i, struct wf_task_info *out)
{
	if (i >= g->sum.tasks)
		return -ERANGE;
	return wf_task_info(g, g->topo[i], out);
}

int wf_file_info(const wf_graph *g, uint32_t index, struct wf_file_features *out)
{
	if (index >= g->sum.files)
		return -ERANGE;
	const struct gfile *f = &g->files[index];
	*out = (struct wf_file_features){
		.producer_level = f->producer_level,
		.producer_width = f->producer_width,
		.wf_tasks = g->sum.tasks,
		.wf_bytes = g->sum.declared_bytes,
		.consumers = f->consumers,
		.next_use_distance = f->next,
		.last_use_distance = f->last,
		.size = f->size,
		.producers = f->producers,
		.file_index = index,
		.name = f->name,
		.producer_id = f->producer_id,
		.producer_category = f->producer_category,
		.producer_input_bytes = f->producer_input_bytes,
	};
	return 0;
}

int wf_file_features(const wf_graph *g, const char *relpath,
		     struct wf_file_features *out)
{
	char buf[PATH_MAX];
	int n = wf_normalize(relpath, strlen(relpath), buf, sizeof(buf));
	if (n < 0)
		return n;
	/* one backward pass hashes every suffix that starts a component;
	 * probe them longest first */
	uint32_t starts[PATH_MAX / 2 + 1];
	uint64_t hashes[PATH_MAX / 2 + 1];
	uint32_t ns = 0;
	uint64_t h = WF_FNV_OFFSET;
	for (int i = n; i-- > 0;) {
		h = wf_hash_step(h, (unsigned char)buf[i]);
		if (i == 0 || buf[i - 1] == '/') {
			starts[ns] = (uint32_t)i;
			hashes[ns++] = wf_hash_finish(h);
		}
	}
	while (ns-- > 0) {
		const char *s = buf + starts[ns];
		uint32_t val;
		if (wf_smap_get(&g->lookup, s, (size_t)n - starts[ns], hashes[ns], &val)) {
			/* A longer match that is ambiguous is not made unique
			 * by cutting more: every shorter suffix matches at
			 * least the same files. */
			if ((val & ~LOOKUP_FULL) == LOOKUP_AMBIG)
				return -ENOENT;
			return wf_file_info(g, val & ~LOOKUP_FULL, out);
		}
	}
	return -ENOENT;
}

const char *wf_format_name(enum wf_format f)
{
	switch (f) {
	case WF_FORMAT_DAX2: return "dax-2";
	case WF_FORMAT_DAX3: return "dax-3";
	case WF_FORMAT_PEGASUS5: return "pegasus-5-yaml";
	case WF_FORMAT_WFJSON_JOBS: return "wfformat-1.0-jobs";
	case WF_FORMAT_WFJSON_TASKS: return "wfformat-1.3-tasks";
	case WF_FORMAT_WFJSON_SPEC: return "wfformat-1.5";
	default: return "unknown";
	}
}
