/*
 * test_gen.c - the synthetic workflow generator (trainer/gen.h) and
 * `tiertrain generate`: every kind at several scales parses with
 * parser/ into the graph the skeleton describes (tasks, files, edges,
 * levels, sizes, runtimes), with the task count and level count the
 * kind's shape implies (recomputed here independently); same seed, same
 * bytes; the per-category statistics of generated Montage, 1000Genome,
 * Epigenomics and CyberShake match the real instance they were fitted on;
 * bad arguments are refused with messages that name the problem.
 *
 * Statistical tolerance: the generator draws log-normals whose mu is the
 * real sample's mean of ln(x), so the generated mean of ln(x) over n
 * draws has standard error sigma/sqrt(n) (sigma the real sample's
 * standard deviation of ln(x)). We accept 4 standard errors plus 0.02
 * (rounding of sizes to bytes and runtimes to milliseconds, clamping to
 * the observed range): a real mismatch (a wrong role, a swapped
 * category, sizes in the wrong unit) is off by far more.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gen.h"
#include "workflow.h"

static wf_graph *load_json(const char *json, size_t len, const char *what)
{
	char err[512] = "";
	wf_graph *g = NULL;
	int rc = wf_load_buffer(json, len, what, NULL, &g, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s does not parse: %s", what, err);
	return g;
}

static gen_dag *skeleton(const char *kind, uint32_t scale, uint32_t width)
{
	struct gen_options o = { .width = width };
	char err[256] = "";
	gen_dag *d = NULL;
	int rc = gen_skeleton(kind, scale, &o, &d, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s scale %u width %u: %s", kind, scale, width, err);
	return d;
}

/* Task count and levels of each shape, worked out from its description
 * in gen_shapes.c by other means than the generator uses. */
static uint64_t montage_pairs_bruteforce(uint32_t n)
{
	uint32_t c = 1;
	while (c * c < n)
		c++;
	uint64_t k = 0;
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = i + 1; j < n; j++) {
			int dr = (int)(j / c) - (int)(i / c), dc = (int)(j % c) - (int)(i % c);
			if (abs(dr) <= 1 && abs(dc) <= 1)
				k++;
		}
	return k;
}

static void expected_shape(const char *kind, uint32_t s, uint32_t w, uint64_t *tasks,
			   uint32_t *levels)
{
	if (!strcmp(kind, "montage")) {
		*tasks = w * (2ull * s + montage_pairs_bruteforce(s) + 5) + (w > 1);
		*levels = 8;
	} else if (!strcmp(kind, "1000genome")) {
		*tasks = (uint64_t)s * (w + 1 + 1 + 7 * 2);
		*levels = 3;
	} else if (!strcmp(kind, "epigenomics")) {
		*tasks = (uint64_t)s * (1 + 4ull * w + 1) + 3;
		*levels = 9;
	} else if (!strcmp(kind, "cybershake")) {
		*tasks = (uint64_t)s * (1 + 2ull * w) + 2;
		*levels = 4;
	} else if (!strcmp(kind, "inspiral")) {
		*tasks = (uint64_t)s * (2ull * (2 * w + 1));
		*levels = 6;
	} else if (!strcmp(kind, "sipht")) {
		*tasks = (uint64_t)s * (w + 12);
		*levels = 5;
	} else if (!strcmp(kind, "genbase")) {
		*tasks = (uint64_t)s * (1 + w) + w + 1;
		*levels = 4;
	} else if (!strcmp(kind, "bintree")) {
		uint64_t n = s, t = s;
		uint32_t l = 1;
		while (n > 1) {
			n = (n + w - 1) / w;
			t += n;
			l++;
		}
		*tasks = t;
		*levels = l;
	} else {
		cr_assert_fail("no expected shape for kind %s", kind);
	}
}

/* Generate, parse, and check the parsed graph against the skeleton. */
static void check_kind(const char *kind, uint32_t scale, uint32_t width)
{
	gen_dag *d = skeleton(kind, scale, width);
	const struct gen_kind_info *ki = gen_kind_find(kind);
	uint32_t w = width ? width : ki->default_width;
	uint64_t et;
	uint32_t el;
	expected_shape(kind, scale, w, &et, &el);
	cr_assert_eq(gen_dag_task_count(d), et, "%s scale %u width %u: %u tasks, expected %llu",
		     kind, scale, w, gen_dag_task_count(d), (unsigned long long)et);
	cr_assert_eq(gen_dag_level_count(d), el, "%s scale %u: %u levels, expected %u", kind, scale,
		     gen_dag_level_count(d), el);
	cr_assert_eq(gen_dag_draw(d, 7, NULL), 0, "%s: a role without a fitted distribution", kind);
	char *json;
	size_t len;
	cr_assert_eq(gen_dag_to_json(d, NULL, &json, &len), 0);
	cr_assert_eq(strlen(json), len);
	wf_graph *g = load_json(json, len, kind);
	struct wf_summary s;
	wf_get_summary(g, &s);
	cr_assert_eq(s.format, WF_FORMAT_WFJSON_SPEC);
	cr_assert_eq(s.tasks, gen_dag_task_count(d));
	cr_assert_eq(s.files, gen_dag_file_count(d));
	cr_assert_eq(s.levels, gen_dag_level_count(d));
	cr_assert_eq(s.warnings, 0, "%s: the parser warned %u times", kind, s.warnings);
	cr_assert_eq(s.multi_producer_files, 0);
	/* explicit parents/children are exactly the data dependencies */
	cr_assert_eq(s.explicit_edges, s.implied_edges);
	cr_assert_eq(s.edges, s.implied_edges);
	uint64_t edges = 0, bytes = 0;
	for (uint32_t i = 0; i < gen_dag_task_count(d); i++) {
		struct gen_task_view t;
		struct wf_task_info ti;
		cr_assert_eq(gen_dag_task(d, i, &t), 0);
		cr_assert_eq(wf_task_info(g, i, &ti), 0);
		cr_assert_str_eq(ti.id, t.id);
		cr_assert_str_eq(ti.category, t.category);
		cr_assert_eq(ti.level, t.level, "%s: task %s level %u, parser says %u", kind, t.id,
			     t.level, ti.level);
		cr_assert(fabs(ti.runtime - t.runtime) < 5e-4, "%s: task %s runtime %.4f vs %.4f", kind,
			  t.id, t.runtime, ti.runtime);
		cr_assert(t.runtime >= 0);
		cr_assert_eq(ti.n_parents, t.n_parents);
		cr_assert_eq(ti.n_inputs, t.n_inputs);
		cr_assert_eq(ti.n_outputs, t.n_outputs);
		/* topological indexes: acyclic by construction, and levels
		 * are longest paths */
		uint32_t lvl = 0;
		for (uint32_t k = 0; k < t.n_parents; k++) {
			cr_assert_lt(t.parents[k], i);
			struct gen_task_view p;
			cr_assert_eq(gen_dag_task(d, t.parents[k], &p), 0);
			if (p.level + 1 > lvl)
				lvl = p.level + 1;
		}
		cr_assert_eq(t.level, lvl);
		edges += t.n_parents;
	}
	cr_assert_eq(edges, s.edges);
	for (uint32_t i = 0; i < gen_dag_file_count(d); i++) {
		struct gen_file_view f;
		struct wf_file_features ff;
		cr_assert_eq(gen_dag_file(d, i, &f), 0);
		cr_assert_eq(wf_file_features(g, f.id, &ff), 0, "%s: file %s not found", kind, f.id);
		cr_assert_eq(ff.size, f.size, "%s: file %s size", kind, f.id);
		cr_assert_eq(ff.consumers, f.n_consumers, "%s: file %s consumers", kind, f.id);
		cr_assert_eq(ff.producers, f.producer >= 0 ? 1u : 0u);
		/* roles say who writes the file */
		struct gen_task_view p;
		if (f.producer >= 0) {
			cr_assert_eq(gen_dag_task(d, (uint32_t)f.producer, &p), 0);
			cr_assert(strncmp(f.role, p.category, strlen(p.category)) == 0 &&
				  f.role[strlen(p.category)] == '.',
				  "%s: file %s role %s, producer %s", kind, f.id, f.role, p.category);
		} else {
			cr_assert(strncmp(f.role, "input.", 6) == 0, "%s: input %s role %s", kind, f.id, f.role);
			cr_assert_gt(f.n_consumers, 0, "%s: input %s read by nobody", kind, f.id);
		}
		bytes += f.size;
	}
	cr_assert_eq(bytes, s.declared_bytes);
	cr_assert_eq(gen_dag_task(d, gen_dag_task_count(d), &(struct gen_task_view){ 0 }), -ERANGE);
	cr_assert_eq(gen_dag_file(d, gen_dag_file_count(d), &(struct gen_file_view){ 0 }), -ERANGE);
	wf_destroy(g);
	free(json);
	gen_dag_destroy(d);
}

Test(gen, every_kind_parses_into_its_shape)
{
	cr_assert_eq(gen_kind_count(), 8);
	for (size_t i = 0; i < gen_kind_count(); i++) {
		const struct gen_kind_info *k = gen_kind(i);
		cr_assert_not_null(k);
		cr_assert_eq(gen_kind_find(k->name), k);
		check_kind(k->name, k->min_scale, 0);
		check_kind(k->name, k->min_scale + 3, 0);
		check_kind(k->name, k->default_scale, 0);
	}
	cr_assert_null(gen_kind(gen_kind_count()));
}

Test(gen, width_changes_the_shape)
{
	check_kind("montage", 5, 1);
	check_kind("montage", 30, 2);
	check_kind("1000genome", 3, 4);
	check_kind("epigenomics", 2, 3);
	check_kind("cybershake", 3, 5);
	check_kind("inspiral", 2, 1);
	check_kind("sipht", 2, 1);
	check_kind("genbase", 7, 1);
	check_kind("bintree", 100, 3);
	check_kind("bintree", 2, 64);
}

/* 1000Genome at 22 chromosomes is the shape of the real 22ch instance. */
Test(gen, genome_matches_the_real_instance_shape)
{
	char err[512];
	wf_graph *real;
	cr_assert_eq(wf_load(TIERFS_WORKFLOWS_DIR "/wfi-1000genome-chameleon-22ch-250k-001.json", NULL,
			     &real, err, sizeof(err)), 0, "%s", err);
	struct wf_summary rs, gs;
	wf_get_summary(real, &rs);
	char *json;
	size_t len;
	cr_assert_eq(gen_workflow("1000genome", 22, 1, NULL, &json, &len, err, sizeof(err)), 0, "%s", err);
	wf_graph *g = load_json(json, len, "1000genome-22");
	wf_get_summary(g, &gs);
	cr_assert_eq(gs.tasks, rs.tasks);
	cr_assert_eq(gs.files, rs.files);
	cr_assert_eq(gs.edges, rs.edges);
	cr_assert_eq(gs.levels, rs.levels);
	cr_assert_eq(gs.max_width, rs.max_width);
	wf_destroy(g);
	wf_destroy(real);
	free(json);
}

Test(gen, same_seed_same_bytes)
{
	for (size_t i = 0; i < gen_kind_count(); i++) {
		const char *k = gen_kind(i)->name;
		uint32_t sc = gen_kind(i)->min_scale + 2;
		char err[256], *a, *b, *c;
		size_t la, lb, lc;
		cr_assert_eq(gen_workflow(k, sc, 42, NULL, &a, &la, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(gen_workflow(k, sc, 42, NULL, &b, &lb, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(gen_workflow(k, sc, 43, NULL, &c, &lc, err, sizeof(err)), 0, "%s", err);
		cr_assert(la == lb && memcmp(a, b, la) == 0, "%s: seed 42 twice gives different bytes", k);
		cr_assert(la != lc || memcmp(a, c, la) != 0, "%s: seeds 42 and 43 give the same bytes", k);
		free(a);
		free(b);
		free(c);
	}
}

Test(gen, options_scale_sizes_and_runtimes)
{
	gen_dag *d = skeleton("sipht", 2, 0);
	cr_assert_eq(gen_dag_draw(d, 5, NULL), 0);
	uint32_t nf = gen_dag_file_count(d), nt = gen_dag_task_count(d);
	uint64_t *sz = calloc(nf, sizeof(*sz));
	double *rt = calloc(nt, sizeof(*rt));
	for (uint32_t i = 0; i < nf; i++) {
		struct gen_file_view f;
		cr_assert_eq(gen_dag_file(d, i, &f), 0);
		sz[i] = f.size;
	}
	for (uint32_t i = 0; i < nt; i++) {
		struct gen_task_view t;
		cr_assert_eq(gen_dag_task(d, i, &t), 0);
		rt[i] = t.runtime;
	}
	struct gen_options o = { .size_factor = 3, .runtime_factor = 0.5 };
	cr_assert_eq(gen_dag_draw(d, 5, &o), 0);
	for (uint32_t i = 0; i < nf; i++) {
		struct gen_file_view f;
		cr_assert_eq(gen_dag_file(d, i, &f), 0);
		cr_assert(llabs((long long)f.size - 3 * (long long)sz[i]) <= 2, "file %s: %llu vs 3 x %llu",
			  f.id, (unsigned long long)f.size, (unsigned long long)sz[i]);
	}
	for (uint32_t i = 0; i < nt; i++) {
		struct gen_task_view t;
		cr_assert_eq(gen_dag_task(d, i, &t), 0);
		cr_assert(fabs(t.runtime - rt[i] / 2) <= 1.5e-3, "task %s", t.id);
	}
	/* a caller's own values (the learned trace generator's path) */
	cr_assert_eq(gen_dag_set_size(d, 0, 12345), 0);
	cr_assert_eq(gen_dag_set_runtime(d, 0, 2.5), 0);
	cr_assert_eq(gen_dag_set_size(d, nf, 1), -ERANGE);
	cr_assert_eq(gen_dag_set_runtime(d, nt, 1), -ERANGE);
	cr_assert_eq(gen_dag_set_runtime(d, 0, -1), -EINVAL);
	cr_assert_eq(gen_dag_set_runtime(d, 0, NAN), -EINVAL);
	char *json;
	size_t len;
	cr_assert_eq(gen_dag_to_json(d, "custom \"name\"", &json, &len), 0);
	wf_graph *g = load_json(json, len, "custom");
	struct wf_summary s;
	wf_get_summary(g, &s);
	cr_assert_str_eq(s.name, "custom \"name\"");
	struct gen_file_view f0;
	struct wf_file_features ff;
	cr_assert_eq(gen_dag_file(d, 0, &f0), 0);
	cr_assert_eq(wf_file_features(g, f0.id, &ff), 0);
	cr_assert_eq(ff.size, 12345);
	struct wf_task_info t0;
	cr_assert_eq(wf_task_info(g, 0, &t0), 0);
	cr_assert_float_eq(t0.runtime, 2.5, 1e-9);
	wf_destroy(g);
	free(json);
	free(sz);
	free(rt);
	gen_dag_destroy(d);
}

Test(gen, skeleton_without_runtimes_is_not_written)
{
	gen_dag *d = skeleton("genbase", 2, 0);
	struct gen_task_view t;
	cr_assert_eq(gen_dag_task(d, 0, &t), 0);
	cr_assert_lt(t.runtime, 0);
	char *json = (char *)1;
	cr_assert_eq(gen_dag_to_json(d, NULL, &json, NULL), -EINVAL);
	cr_assert_null(json);
	gen_dag_destroy(d);
}

Test(gen, bad_arguments_are_refused_by_name)
{
	char err[256];
	gen_dag *d = (gen_dag *)1;
	cr_assert_eq(gen_skeleton("montag", 4, NULL, &d, err, sizeof(err)), -EINVAL);
	cr_assert_null(d);
	cr_assert(strstr(err, "unknown workflow kind 'montag'"), "%s", err);
	cr_assert_eq(gen_skeleton("montage", 1, NULL, &d, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "scale 1 is below the minimum 2"), "%s", err);
	cr_assert_eq(gen_skeleton("bintree", 8, &(struct gen_options){ .width = 1 }, &d, err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "width 1 is out of range 2..64"), "%s", err);
	cr_assert_eq(gen_skeleton("genbase", 8, &(struct gen_options){ .width = 6 }, &d, err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "width 6 is out of range 1..5"), "%s", err);
	cr_assert_eq(gen_skeleton("cybershake", 100000, NULL, &d, err, sizeof(err)), -E2BIG);
	cr_assert(strstr(err, "over the limit"), "%s", err);
	cr_assert_eq(gen_skeleton(NULL, 8, NULL, &d, err, sizeof(err)), -EINVAL);
	char *json = (char *)1;
	cr_assert_eq(gen_workflow("nope", 3, 1, NULL, &json, NULL, err, sizeof(err)), -EINVAL);
	cr_assert_null(json);
	cr_assert_null(gen_kind_find("nope"));
}

Test(gen, every_role_and_category_has_a_fit)
{
	for (size_t i = 0; i < gen_fit_count(); i++) {
		const struct gen_fit *f = gen_fit_at(i);
		cr_assert(isfinite(f->mu) && f->sigma >= 0 && f->lo > 0 && f->lo <= f->hi,
			  "%s %s: bad fit", f->kind, f->key);
		cr_assert_eq(gen_fit_find(f->kind, f->key), f);
	}
	cr_assert_null(gen_fit_at(gen_fit_count()));
	for (size_t i = 0; i < gen_kind_count(); i++) {
		const struct gen_kind_info *k = gen_kind(i);
		gen_dag *d = skeleton(k->name, k->min_scale + 1, 0);
		for (uint32_t t = 0; t < gen_dag_task_count(d); t++) {
			struct gen_task_view v;
			cr_assert_eq(gen_dag_task(d, t, &v), 0);
			char key[96];
			snprintf(key, sizeof(key), "rt.%s", v.category);
			cr_assert_not_null(gen_fit_find(k->name, key), "%s: no %s", k->name, key);
		}
		for (uint32_t f = 0; f < gen_dag_file_count(d); f++) {
			struct gen_file_view v;
			cr_assert_eq(gen_dag_file(d, f, &v), 0);
			cr_assert_not_null(gen_fit_find(k->name, v.role), "%s: no %s", k->name, v.role);
		}
		gen_dag_destroy(d);
	}
}

/* ---- statistics against the real instances --------------------------- */

struct acc {
	char cat[64];
	double rs, rs2, ss, ss2; /* sums of ln runtime, ln size and squares */
	size_t nr, ns;
};

static size_t find_acc(struct acc *a, size_t *n, const char *cat)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(a[i].cat, cat))
			return i;
	cr_assert_lt(*n, 32);
	memset(&a[*n], 0, sizeof(a[*n]));
	snprintf(a[*n].cat, sizeof(a[*n].cat), "%s", cat);
	return (*n)++;
}

/* Per category: ln runtimes, ln sizes of the files it writes. Real
 * categories are mapped to the longest generated category that prefixes
 * them (the real Epigenomics names carry the read name after it). */
static void accumulate(const wf_graph *g, struct acc *a, size_t *n, const struct acc *names,
		       size_t nnames)
{
	for (uint32_t i = 0; i < wf_task_count(g); i++) {
		struct wf_task_info t;
		cr_assert_eq(wf_task_info(g, i, &t), 0);
		const char *cat = t.category;
		if (names) {
			size_t best = 0;
			cat = NULL;
			for (size_t k = 0; k < nnames; k++) {
				size_t l = strlen(names[k].cat);
				if (!strncmp(t.category, names[k].cat, l) && l > best) {
					best = l;
					cat = names[k].cat;
				}
			}
			cr_assert_not_null(cat, "real category %s has no generated counterpart", t.category);
		}
		struct acc *c = &a[find_acc(a, n, cat)];
		double lr = log(t.runtime > 1e-3 ? t.runtime : 1e-3);
		c->rs += lr;
		c->rs2 += lr * lr;
		c->nr++;
		for (uint32_t k = 0; k < t.n_outputs; k++) {
			struct wf_file_features f;
			cr_assert_eq(wf_file_info(g, t.outputs[k], &f), 0);
			double ls = log(f.size > 1 ? (double)f.size : 1.0);
			c->ss += ls;
			c->ss2 += ls * ls;
			c->ns++;
		}
	}
}

static void compare_with_real(const char *kind, uint32_t scale, const char *real_file)
{
	char err[512], path[1024];
	snprintf(path, sizeof(path), "%s/%s", TIERFS_WORKFLOWS_DIR, real_file);
	wf_graph *real;
	cr_assert_eq(wf_load(path, NULL, &real, err, sizeof(err)), 0, "%s", err);
	char *json;
	size_t len;
	cr_assert_eq(gen_workflow(kind, scale, 2019, NULL, &json, &len, err, sizeof(err)), 0, "%s", err);
	wf_graph *g = load_json(json, len, kind);
	struct acc ga[32], ra[32];
	size_t ng = 0, nr = 0;
	accumulate(g, ga, &ng, NULL, 0);
	accumulate(real, ra, &nr, ga, ng);
	cr_assert_eq(nr, ng, "%s: %zu real categories, %zu generated", kind, nr, ng);
	for (size_t i = 0; i < nr; i++) {
		struct acc *r = &ra[i], *x = &ga[find_acc(ga, &ng, r->cat)];
		cr_assert_gt(x->nr, 0, "%s: no generated %s task", kind, r->cat);
		double mr = r->rs / r->nr, sr = sqrt(fmax(0, r->rs2 / r->nr - mr * mr));
		double mg = x->rs / x->nr;
		double tol = 4 * sr / sqrt((double)x->nr) + 0.02;
		cr_assert(fabs(mg - mr) <= tol, "%s %s: runtime log-mean %.3f generated vs %.3f real (tolerance %.3f)",
			  kind, r->cat, mg, mr, tol);
		if (!r->ns)
			continue;
		cr_assert_gt(x->ns, 0, "%s: generated %s writes nothing", kind, r->cat);
		mr = r->ss / r->ns;
		sr = sqrt(fmax(0, r->ss2 / r->ns - mr * mr));
		mg = x->ss / x->ns;
		tol = 4 * sr / sqrt((double)x->ns) + 0.02;
		cr_assert(fabs(mg - mr) <= tol, "%s %s: output size log-mean %.3f generated vs %.3f real (tolerance %.3f)",
			  kind, r->cat, mg, mr, tol);
	}
	/* whole-workflow data volume: dominated by a few large inputs */
	struct wf_summary rs, gs;
	wf_get_summary(real, &rs);
	wf_get_summary(g, &gs);
	double ratio = (double)gs.declared_bytes / (double)rs.declared_bytes;
	cr_assert(ratio > 0.9 && ratio < 1.1, "%s: %llu bytes generated vs %llu real", kind,
		  (unsigned long long)gs.declared_bytes, (unsigned long long)rs.declared_bytes);
	wf_destroy(g);
	wf_destroy(real);
	free(json);
}

Test(gen_stats, montage_like_its_real_instance)
{
	compare_with_real("montage", 16, "wfi-montage-chameleon-dss-10d-001.json");
}

Test(gen_stats, genome_like_its_real_instance)
{
	compare_with_real("1000genome", 22, "wfi-1000genome-chameleon-22ch-250k-001.json");
}

Test(gen_stats, epigenomics_like_its_real_instance)
{
	compare_with_real("epigenomics", 4, "wfi-epigenomics-chameleon-ilmn-4seq-50k-001.json");
}

Test(gen_stats, cybershake_like_its_real_instance)
{
	compare_with_real("cybershake", 4, "wfsim-CyberShake_1000.xml");
}

/* ---- the command ------------------------------------------------------- */

static int run(const char *args, char *out, size_t outlen)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "%s generate %s 2>&1", TIERTRAIN_BIN, args);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t n = fread(out, 1, outlen - 1, p);
	out[n] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(gen_cli, writes_parseable_files_and_refuses_bad_usage)
{
	char dir[] = "/tmp/tier_gen_test.XXXXXX", out[8192], args[1024];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(args, sizeof(args), "montage --scale 4 --seed 9 -o %s/a.json", dir);
	cr_assert_eq(run(args, out, sizeof(out)), 0, "%s", out);
	snprintf(args, sizeof(args), "montage --scale 4 --seed 9 -o %s/b.json", dir);
	cr_assert_eq(run(args, out, sizeof(out)), 0, "%s", out);
	char pa[128], pb[128];
	snprintf(pa, sizeof(pa), "%s/a.json", dir);
	snprintf(pb, sizeof(pb), "%s/b.json", dir);
	char err[512];
	wf_graph *g;
	cr_assert_eq(wf_load(pa, NULL, &g, err, sizeof(err)), 0, "%s", err);
	wf_destroy(g);
	snprintf(args, sizeof(args), "cmp -s %s %s", pa, pb);
	cr_assert_eq(system(args), 0, "same arguments gave different files");

	/* several scales and seeds into a directory */
	snprintf(args, sizeof(args), "sipht --scale 1,3 --count 2 --seed 5 -o %s/many", dir);
	cr_assert_eq(run(args, out, sizeof(out)), 0, "%s", out);
	static const char *const names[] = { "sipht-s1-5.json", "sipht-s1-6.json", "sipht-s3-5.json",
					     "sipht-s3-6.json" };
	for (int i = 0; i < 4; i++) {
		char p[1200];
		snprintf(p, sizeof(p), "%s/many/%s", dir, names[i]);
		cr_assert_eq(wf_load(p, NULL, &g, err, sizeof(err)), 0, "%s", err);
		wf_destroy(g);
	}

	cr_assert_eq(run("--list", out, sizeof(out)), 0);
	for (size_t i = 0; i < gen_kind_count(); i++)
		cr_assert(strstr(out, gen_kind(i)->name), "--list lacks %s", gen_kind(i)->name);
	cr_assert_eq(run("--help", out, sizeof(out)), 0);
	cr_assert(strstr(out, "--scale"));
	snprintf(args, sizeof(args), "--stats %s", pa);
	cr_assert_eq(run(args, out, sizeof(out)), 0, "%s", out);
	cr_assert(strstr(out, "mDiffFit"), "%s", out);

	cr_assert_eq(run("nosuchkind", out, sizeof(out)), 2);
	cr_assert(strstr(out, "unknown workflow kind 'nosuchkind'"), "%s", out);
	cr_assert_eq(run("montage --scale 1", out, sizeof(out)), 2);
	cr_assert(strstr(out, "scale 1 is below the minimum 2"), "%s", out);
	cr_assert_eq(run("montage --scale x", out, sizeof(out)), 2);
	cr_assert(strstr(out, "--scale 'x'"), "%s", out);
	cr_assert_eq(run("montage --scale 4,", out, sizeof(out)), 2);
	cr_assert_eq(run("montage --width -1", out, sizeof(out)), 2);
	cr_assert(strstr(out, "--width '-1'"), "%s", out);
	cr_assert_eq(run("montage --count 0", out, sizeof(out)), 2);
	cr_assert(strstr(out, "--count '0'"), "%s", out);
	cr_assert_eq(run("montage --size-factor 0", out, sizeof(out)), 2);
	cr_assert(strstr(out, "--size-factor '0'"), "%s", out);
	cr_assert_eq(run("montage --scale 4,8", out, sizeof(out)), 2);
	cr_assert(strstr(out, "need -o DIR"), "%s", out);
	cr_assert_eq(run("montage --bogus", out, sizeof(out)), 2);
	cr_assert(strstr(out, "unknown option '--bogus'"), "%s", out);
	cr_assert_eq(run("montage --seed", out, sizeof(out)), 2);
	cr_assert(strstr(out, "needs a value"), "%s", out);
	cr_assert_eq(run("", out, sizeof(out)), 2);
	cr_assert(strstr(out, "no workflow kind"), "%s", out);
	cr_assert_eq(run("montage -o /nonexistent-dir/x.json", out, sizeof(out)), 1);
	cr_assert(strstr(out, "cannot create /nonexistent-dir/x.json"), "%s", out);
	snprintf(args, sizeof(args), "rm -rf %s", dir);
	cr_assert_eq(system(args), 0);
}
