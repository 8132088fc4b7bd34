/* tier_parser on hand-written fixtures (tests/fixtures/parser/good/).
 *
 * The seven mini-* files describe one workflow in every format and layout
 * the parser reads, so they must give one graph:
 *
 *   A (pre)  reads in.dat(100)  writes b1(200) b2(300)     level 0
 *   B (mid)  reads b1           writes c1(400)             level 1
 *   C (mid)  reads b2           writes c2(500)             level 1
 *   D (post) reads c1 c2 b1     writes out.dat(600)        level 2
 *
 * explicit edges A-B A-C B-D C-D (4); file-implied edges are those plus
 * A-D through b1 (5); union 5; 3 levels, widest 2; 2100 declared bytes.
 * The expected features below are worked out by hand from that picture.
 */
#include "workflow.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define GOOD TIERFS_FIXTURES_DIR "/parser/good/"
#define NONE WF_DIST_NONE

struct expect_file {
	const char *name;
	uint32_t v1, v2, v5, v6, v7;
	uint64_t size, producer_input_bytes;
	const char *producer_category;
};

static const struct expect_file mini[] = {
	/* in.dat: no producer, read at level 0 = one level after stage-in */
	{ "in.dat", 0, 0, 1, 1, 1, 100, 0, NULL },
	{ "b1", 0, 1, 2, 1, 2, 200, 100, "pre" },
	{ "b2", 0, 1, 1, 1, 1, 300, 100, "pre" },
	{ "c1", 1, 2, 1, 1, 1, 400, 200, "mid" },
	{ "c2", 1, 2, 1, 1, 1, 500, 300, "mid" },
	{ "out.dat", 2, 1, 0, NONE, NONE, 600, 1100, "post" },
};

static wf_graph *load_ok(const char *path)
{
	char err[512] = "";
	wf_graph *g = NULL;
	int rc = wf_load(path, NULL, &g, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s: rc %d: %s", path, rc, err);
	cr_assert_not_null(g);
	return g;
}

/* The counts every graph test starts with. */
static void expect_shape(const wf_graph *g, const char *what, uint32_t tasks, uint32_t files,
			 uint64_t edges, uint64_t explicit_edges, uint64_t implied_edges,
			 uint32_t levels)
{
	struct wf_summary s;
	wf_get_summary(g, &s);
	cr_expect_eq(s.tasks, tasks, "%s: tasks %u", what, s.tasks);
	cr_expect_eq(s.files, files, "%s: files %u", what, s.files);
	cr_expect_eq(s.edges, edges, "%s: edges %lu", what, (unsigned long)s.edges);
	cr_expect_eq(s.explicit_edges, explicit_edges, "%s: explicit %lu", what,
		     (unsigned long)s.explicit_edges);
	cr_expect_eq(s.implied_edges, implied_edges, "%s: implied %lu", what,
		     (unsigned long)s.implied_edges);
	cr_expect_eq(s.levels, levels, "%s: levels %u", what, s.levels);
}

static void check_mini(const char *file, enum wf_format fmt)
{
	wf_graph *g = load_ok(file);
	struct wf_summary s;
	wf_get_summary(g, &s);
	cr_expect_eq(s.format, fmt, "%s: format %s", file, wf_format_name(s.format));
	cr_expect_str_eq(s.name, "mini");
	expect_shape(g, file, 4, 6, 5, 4, 5, 3);
	cr_expect_eq(s.max_width, 2);
	cr_expect_eq(s.declared_bytes, 2100, "%s: bytes %lu", file, (unsigned long)s.declared_bytes);
	cr_expect_eq(s.multi_producer_files, 0);
	for (size_t i = 0; i < sizeof(mini) / sizeof(mini[0]); i++) {
		const struct expect_file *e = &mini[i];
		struct wf_file_features f;
		int rc = wf_file_features(g, e->name, &f);
		cr_assert_eq(rc, 0, "%s: lookup %s: %d", file, e->name, rc);
		cr_expect_str_eq(f.name, e->name);
		cr_expect_eq(f.producer_level, e->v1, "%s %s V1 %u", file, e->name, f.producer_level);
		cr_expect_eq(f.producer_width, e->v2, "%s %s V2 %u", file, e->name, f.producer_width);
		cr_expect_eq(f.wf_tasks, 4);
		cr_expect_eq(f.wf_bytes, 2100);
		cr_expect_eq(f.consumers, e->v5, "%s %s V5 %u", file, e->name, f.consumers);
		cr_expect_eq(f.next_use_distance, e->v6, "%s %s V6 %u", file, e->name, f.next_use_distance);
		cr_expect_eq(f.last_use_distance, e->v7, "%s %s V7 %u", file, e->name, f.last_use_distance);
		cr_expect_eq(f.size, e->size, "%s %s size %lu", file, e->name, (unsigned long)f.size);
		cr_expect_eq(f.producer_input_bytes, e->producer_input_bytes,
			     "%s %s producer input %lu", file, e->name,
			     (unsigned long)f.producer_input_bytes);
		if (e->producer_category)
			cr_expect_str_eq(f.producer_category, e->producer_category, "%s %s", file, e->name);
		else
			cr_expect_null(f.producer_id, "%s %s", file, e->name);
	}
	/* topological iteration: levels never decrease, parents come first */
	uint32_t seen_level = 0;
	bool done[4] = { 0 };
	for (uint32_t i = 0; i < 4; i++) {
		struct wf_task_info t;
		cr_assert_eq(wf_task_topo(g, i, &t), 0);
		cr_expect_geq(t.level, seen_level);
		seen_level = t.level;
		for (uint32_t k = 0; k < t.n_parents; k++)
			cr_expect(done[t.parents[k]], "%s: parent after child", file);
		done[t.index] = true;
	}
	struct wf_task_info t;
	cr_expect_eq(wf_task_topo(g, 4, &t), -ERANGE);
	wf_destroy(g);
}

Test(fixtures, mini_dax21) { check_mini(GOOD "mini-dax21.xml", WF_FORMAT_DAX2); }
Test(fixtures, mini_dax36) { check_mini(GOOD "mini-dax36.xml", WF_FORMAT_DAX3); }
Test(fixtures, mini_pegasus5_yaml) { check_mini(GOOD "mini-p5.yml", WF_FORMAT_PEGASUS5); }
Test(fixtures, mini_wfformat10) { check_mini(GOOD "mini-wf10.json", WF_FORMAT_WFJSON_JOBS); }
Test(fixtures, mini_wfformat12) { check_mini(GOOD "mini-wf12.json", WF_FORMAT_WFJSON_JOBS); }
Test(fixtures, mini_wfformat14) { check_mini(GOOD "mini-wf14.json", WF_FORMAT_WFJSON_TASKS); }
Test(fixtures, mini_wfformat15) { check_mini(GOOD "mini-wf15.json", WF_FORMAT_WFJSON_SPEC); }

static void log_count(void *ud, enum wf_log_level level, const char *msg)
{
	(void)level;
	(void)msg;
	(*(int *)ud)++;
}

static void expect_runtimes(const wf_graph *g, const double want[4])
{
	for (uint32_t i = 0; i < 4; i++) {
		struct wf_task_info t;
		cr_assert_eq(wf_task_info(g, i, &t), 0);
		cr_expect_float_eq(t.runtime, want[i], 1e-9, "task %s runtime %g", t.id, t.runtime);
	}
}

Test(fixtures, runtimes_and_repairs)
{
	/* DAX 2.1: job@runtime, C's -30 repaired with one warning; b1's
	 * conflicting 999 from its reader is a size conflict */
	int warned = 0;
	struct wf_options o = { .log = log_count, .log_ud = &warned };
	char err[256];
	wf_graph *g;
	cr_assert_eq(wf_load(GOOD "mini-dax21.xml", &o, &g, err, sizeof(err)), 0, "%s", err);
	struct wf_summary s;
	wf_get_summary(g, &s);
	cr_expect_eq(s.repaired_runtimes, 1);
	cr_expect_eq(s.repaired_sizes, 0);
	cr_expect_eq(s.size_conflicts, 1);
	cr_expect_eq(warned, 1);
	expect_runtimes(g, (const double[]){ 10.5, 20, 30, 40 });
	wf_destroy(g);

	/* DAX 3.6: pegasus profile beats metadata time (A), metadata alone
	 * (B), none (C: negative = unknown) */
	g = load_ok(GOOD "mini-dax36.xml");
	expect_runtimes(g, (const double[]){ 10.5, 20, -1, -1 });
	wf_destroy(g);

	/* 1.5: runtimes come from the execution join */
	g = load_ok(GOOD "mini-wf15.json");
	struct wf_task_info t;
	cr_assert_eq(wf_task_info(g, 3, &t), 0);
	cr_expect_str_eq(t.id, "D");
	cr_expect_float_eq(t.runtime, 40, 1e-9);
	cr_expect_str_eq(t.category, "post"); /* derived from "post_ID04" */
	wf_destroy(g);
}

Test(fixtures, rewrite_and_subworkflow)
{
	wf_graph *g = load_ok(GOOD "rewrite-dax36.xml");
	struct wf_summary s;
	wf_get_summary(g, &s);
	/* T1 -> T2 (meta, T2 rewrites), T1 -> T3, T2 -> T3 (meta), T3 -> S;
	 * files meta.txt final.txt sub.log */
	expect_shape(g, "rewrite", 4, 3, 4, 0, 4, 4);
	cr_expect_eq(s.multi_producer_files, 1);
	struct wf_file_features f;
	cr_assert_eq(wf_file_features(g, "meta.txt", &f), 0);
	cr_expect_str_eq(f.producer_id, "T1"); /* first writer owns placement */
	cr_expect_eq(f.producers, 2);
	cr_expect_eq(f.size, 12); /* largest producer size (T2's rewrite) */
	cr_expect_eq(f.consumers, 2); /* T2 and T3 read it */
	cr_expect_eq(f.next_use_distance, 1);
	cr_expect_eq(f.last_use_distance, 2);
	cr_assert_eq(wf_file_features(g, "sub.log", &f), 0);
	cr_expect_str_eq(f.producer_id, "S");
	cr_expect_str_eq(f.producer_category, "dax");
	cr_expect_eq(f.producer_level, 3);
	cr_expect_eq(f.consumers, 0);
	cr_expect_eq(f.next_use_distance, WF_DIST_NONE);
	wf_destroy(g);
}

Test(lookup, paths_relative_to_the_workflow_directory)
{
	/* Nextflow style: identity is path + name; URLs stay inputs */
	wf_graph *g = load_ok(GOOD "nf-paths.json");
	expect_shape(g, "nf-paths", 3, 4, 2, 0, 2, 2);
	struct wf_file_features f;
	/* exact, with leading "/" and "./" and doubled "/" */
	cr_assert_eq(wf_file_features(g, "ab/1111/sample.bam", &f), 0);
	cr_expect_eq(f.size, 10);
	cr_assert_eq(wf_file_features(g, "/ab//1111/./sample.bam", &f), 0);
	cr_expect_eq(f.size, 10);
	cr_assert_eq(wf_file_features(g, "./cd/2222/sample.bam", &f), 0);
	cr_expect_eq(f.size, 20); /* path without trailing '/' joined right */
	/* the workflow's work dir below a deeper mount directory */
	cr_assert_eq(wf_file_features(g, "run7/work/ab/1111/sample.bam", &f), 0);
	cr_expect_eq(f.size, 10);
	cr_expect_str_eq(f.producer_id, "1");
	/* tail of the name: "1111/sample.bam" is unique */
	cr_assert_eq(wf_file_features(g, "1111/sample.bam", &f), 0);
	cr_expect_eq(f.size, 10);
	/* bare basename shared by two files: ambiguous = unknown */
	cr_expect_eq(wf_file_features(g, "sample.bam", &f), -ENOENT);
	cr_expect_eq(wf_file_features(g, "elsewhere/sample.bam", &f), -ENOENT);
	/* unique basename found from any directory */
	cr_assert_eq(wf_file_features(g, "results/merged.bam", &f), 0);
	cr_expect_str_eq(f.producer_category, "MERGE");
	cr_expect_eq(f.producer_level, 1);
	cr_expect_eq(f.producer_input_bytes, 30);
	cr_expect_eq(wf_file_features(g, "nothing.txt", &f), -ENOENT);
	cr_expect_eq(wf_file_features(g, "", &f), -ENOENT);
	char longp[5000];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	cr_expect_eq(wf_file_features(g, longp, &f), -ENAMETOOLONG);
	wf_destroy(g);
}

Test(lookup, full_name_beats_tail_of_another)
{
	/* "a" is a whole file name and also the tail of "x/a" */
	static const char doc[] =
		"{\"name\":\"t\",\"workflow\":{\"tasks\":["
		"{\"name\":\"p\",\"type\":\"compute\",\"files\":["
		"{\"link\":\"output\",\"name\":\"a\",\"sizeInBytes\":1},"
		"{\"link\":\"output\",\"name\":\"a\",\"path\":\"x/\",\"sizeInBytes\":2}]}]}}";
	char err[256];
	wf_graph *g;
	cr_assert_eq(wf_load_buffer(doc, sizeof(doc) - 1, "inline", NULL, &g, err, sizeof(err)), 0, "%s", err);
	struct wf_file_features f;
	cr_assert_eq(wf_file_features(g, "a", &f), 0);
	cr_expect_eq(f.size, 1);
	cr_assert_eq(wf_file_features(g, "x/a", &f), 0);
	cr_expect_eq(f.size, 2);
	cr_assert_eq(wf_file_features(g, "y/a", &f), 0);
	cr_expect_eq(f.size, 1);
	wf_destroy(g);
}

Test(report, json_report_carries_summary_tasks_and_files)
{
	wf_graph *g = load_ok(GOOD "mini-dax36.xml");
	char *txt = NULL;
	cr_assert_eq(wf_report_json(g, &txt), 0);
	cr_assert_not_null(txt);
	static const char *const keys[] = {
		"\"format\":\t\"dax-3\"", "\"tasks\":\t4,", "\"files\":\t6,", "\"edges\":\t5,",
		"\"explicit_edges\":\t4,", "\"implied_edges\":\t5,", "\"levels\":\t3,",
		"\"max_width\":\t2,", "\"declared_bytes\":\t2100,", "\"multi_producer_files\":\t0,",
		/* out.dat has no consumer: distances are null, not a sentinel */
		"\"name\":\t\"out.dat\"", "\"next_use_distance\":\tnull",
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_expect(strstr(txt, keys[i]) != NULL, "report lacks %s", keys[i]);
	/* tasks in topological order: A first, D last */
	const char *a = strstr(txt, "\"id\":\t\"A\""), *d = strstr(txt, "\"id\":\t\"D\"");
	cr_expect(a && d && a < d);
	free(txt);
	wf_destroy(g);
}

Test(fixtures, decaf_dataflow_and_unknown_node)
{
	wf_graph *g = load_ok(GOOD "dflow-dax36.xml");
	struct wf_summary s;
	wf_get_summary(g, &s);
	/* P -> F -> Z and G -> Z; the dataflow's inner jobs F1, F2 are not
	 * tasks and their inner.tmp is no file of the workflow */
	expect_shape(g, "dflow", 4, 4, 3, 3, 2, 3);
	cr_expect_eq(s.declared_bytes, 5057, "bytes %lu", (unsigned long)s.declared_bytes);
	cr_expect_eq(s.warnings, 1, "warnings %u (the unknown <glue>)", s.warnings);
	struct wf_file_features f;
	cr_assert_eq(wf_file_features(g, "field", &f), 0);
	cr_expect_str_eq(f.producer_id, "F");
	cr_expect_str_eq(f.producer_category, "flow");
	cr_expect_eq(f.producer_level, 1);
	cr_expect_eq(f.consumers, 1);
	cr_assert_eq(wf_file_features(g, "note", &f), 0);
	cr_expect_str_eq(f.producer_id, "G");
	cr_expect_eq(wf_file_features(g, "inner.tmp", &f), -ENOENT);
	wf_destroy(g);
}
