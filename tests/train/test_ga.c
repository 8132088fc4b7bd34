/*
 * test_ga.c - the labeller: the genetic algorithm finds the optimum of
 * crafted workflows (the optimum found independently by trying every
 * assignment in the simulator), never ends above its seeds, is
 * deterministic for a seed whatever the thread count; capacity sweeps
 * parse; the daemon's record log is read back strictly.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ga.h"
#include "labellog.h"
#include "sim.h"
#include "sweep.h"
#include "../common/testconf.h"
#include "../common/testtmp.h"

static char tmpdir[64];

static char *write_file(const char *name, const char *text)
{
	char *path = testtmp_write(tmpdir, "/tmp/tier_ga_test.XXXXXX", name, text);
	cr_assert_not_null(path, "cannot write %s in a temporary directory", name);
	return path;
}

/* Three tiers: a fast small one, a slower one, a slow shared one. */
static struct tcfg *config(uint64_t mem_cap)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "[global]\nplacement = first\n"
		 "[tier mem]\npath = m\ncapacity = %llu\nread_bandwidth = 4000000\nwrite_bandwidth = 3000000\nlatency = 10us\n"
		 "[tier ssd]\npath = s\ncapacity = 100000000\nread_bandwidth = 2000000\nwrite_bandwidth = 1000000\nlatency = 100us\n"
		 "[tier pfs]\npath = p\ncapacity = 1000000000\nread_bandwidth = 500000\nwrite_bandwidth = 400000\nlatency = 1ms\n",
		 (unsigned long long)mem_cap);
	return testconf_load(write_file("tierfs.conf", text));
}

/* Four tasks in parallel each write two files of different sizes, two
 * readers on the next level read them: eight created files, so every one
 * of the 3^8 assignments can be tried. */
static wf_graph *crafted(void)
{
	static const char *const text =
	    "{\"name\": \"ga-crafted\", \"schemaVersion\": \"1.4\", \"workflow\": {\"tasks\": ["
	    "{\"name\": \"w1\", \"type\": \"compute\", \"runtimeInSeconds\": 0.1, \"parents\": [], \"files\": ["
	    "{\"link\": \"output\", \"name\": \"a1\", \"sizeInBytes\": 900000},"
	    "{\"link\": \"output\", \"name\": \"b1\", \"sizeInBytes\": 100000}]},"
	    "{\"name\": \"w2\", \"type\": \"compute\", \"runtimeInSeconds\": 0.1, \"parents\": [], \"files\": ["
	    "{\"link\": \"output\", \"name\": \"a2\", \"sizeInBytes\": 700000},"
	    "{\"link\": \"output\", \"name\": \"b2\", \"sizeInBytes\": 300000}]},"
	    "{\"name\": \"w3\", \"type\": \"compute\", \"runtimeInSeconds\": 0.1, \"parents\": [], \"files\": ["
	    "{\"link\": \"output\", \"name\": \"a3\", \"sizeInBytes\": 500000},"
	    "{\"link\": \"output\", \"name\": \"b3\", \"sizeInBytes\": 200000}]},"
	    "{\"name\": \"w4\", \"type\": \"compute\", \"runtimeInSeconds\": 0.1, \"parents\": [], \"files\": ["
	    "{\"link\": \"output\", \"name\": \"a4\", \"sizeInBytes\": 1200000},"
	    "{\"link\": \"output\", \"name\": \"b4\", \"sizeInBytes\": 50000}]},"
	    "{\"name\": \"r1\", \"type\": \"compute\", \"runtimeInSeconds\": 0.1, \"parents\": [\"w1\", \"w2\"], \"files\": ["
	    "{\"link\": \"input\", \"name\": \"a1\", \"sizeInBytes\": 900000},"
	    "{\"link\": \"input\", \"name\": \"a2\", \"sizeInBytes\": 700000},"
	    "{\"link\": \"input\", \"name\": \"b1\", \"sizeInBytes\": 100000}]},"
	    "{\"name\": \"r2\", \"type\": \"compute\", \"runtimeInSeconds\": 0.1, \"parents\": [\"w3\", \"w4\"], \"files\": ["
	    "{\"link\": \"input\", \"name\": \"a3\", \"sizeInBytes\": 500000},"
	    "{\"link\": \"input\", \"name\": \"a4\", \"sizeInBytes\": 1200000},"
	    "{\"link\": \"input\", \"name\": \"b4\", \"sizeInBytes\": 50000}]}"
	    "]}}";
	wf_graph *g;
	char err[512];
	int rc = wf_load_buffer(text, strlen(text), "crafted", NULL, &g, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	return g;
}

static struct sim_config node(uint32_t cores)
{
	struct sim_config sc;
	sim_config_default(&sc);
	sc.cores = cores;
	sc.migrate_threads = 0;
	return sc;
}

/* The best I/O time over every assignment of the created files. */
static double exhaustive(const wf_graph *g, const struct tcfg *c, const struct sim_config *sc)
{
	struct sim *s;
	char err[512];
	cr_assert_eq(sim_create(g, c, sc, &s, err, sizeof(err)), 0, "%s", err);
	uint32_t nf = sim_file_count(s);
	int *place = calloc(nf, sizeof(int));
	uint32_t created[16], n = 0;
	struct lrn_policy *first = lrn_policy_static_create(LRN_STATIC_FIRST, 0, 1);
	for (uint32_t f = 0; f < nf; f++)
		place[f] = -1;
	cr_assert_eq(sim_run(s, first, place, NULL, err, sizeof(err)), 0, "%s", err);
	lrn_policy_destroy(first);
	for (uint32_t f = 0; f < nf; f++) {
		struct sim_file sf;
		cr_assert_eq(sim_file(s, f, &sf), 0);
		if (sf.created)
			created[n++] = f;
	}
	cr_assert_eq(n, 8);
	double best = INFINITY;
	uint32_t combos = 1;
	for (uint32_t i = 0; i < n; i++)
		combos *= 3;
	for (uint32_t k = 0; k < combos; k++) {
		uint32_t v = k;
		for (uint32_t i = 0; i < n; i++, v /= 3)
			place[created[i]] = (int)(v % 3);
		struct sim_result r;
		int rc = sim_run(s, NULL, place, &r, err, sizeof(err));
		cr_assert_eq(rc, 0, "%s", err);
		if (r.io_time < best)
			best = r.io_time;
	}
	free(place);
	sim_destroy(s);
	return best;
}

static double run_vector(const wf_graph *g, const struct tcfg *c, const struct sim_config *sc, const int *v)
{
	struct sim *s;
	char err[512];
	cr_assert_eq(sim_create(g, c, sc, &s, err, sizeof(err)), 0, "%s", err);
	struct sim_result r;
	cr_assert_eq(sim_run(s, NULL, v, &r, err, sizeof(err)), 0, "%s", err);
	sim_destroy(s);
	return r.io_time;
}

static void check_optimum(uint64_t mem_cap, uint32_t cores)
{
	struct tcfg *c = config(mem_cap);
	wf_graph *g = crafted();
	struct sim_config sc = node(cores);
	double opt = exhaustive(g, c, &sc);
	struct ga_params p;
	ga_params_default(&p);
	p.seed = 7;
	int best[64];
	struct ga_result r;
	char err[512];
	int rc = ga_search(g, c, &sc, &p, NULL, 0, best, &r, NULL, NULL, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(r.genes, 8);
	cr_assert(fabs(r.best_io_time - opt) <= 1e-9 * opt, "GA %.9f, exhaustive optimum %.9f (mem %llu, %u cores)",
		  r.best_io_time, opt, (unsigned long long)mem_cap, cores);
	/* The vector it returns gives that time when run again. */
	double again = run_vector(g, c, &sc, best);
	cr_assert(fabs(again - r.best_io_time) <= 1e-12 * opt);
	cr_assert(r.best_io_time <= r.seed_io_time);
	wf_destroy(g);
	tcfg_free(c);
}

Test(ga, finds_the_exhaustive_optimum_with_room_in_memory)
{
	check_optimum(100000000, 4);
}

Test(ga, finds_the_exhaustive_optimum_with_memory_short)
{
	/* Memory holds about a third of the bytes: the optimum must choose. */
	check_optimum(1500000, 4);
}

Test(ga, finds_the_exhaustive_optimum_on_one_core)
{
	check_optimum(2000000, 1);
}

Test(ga, beats_its_seeds_where_sharing_channels_pays)
{
	/* With memory for everything, all-in-memory makes the four writers
	 * share one channel; spreading them over tiers is faster, and the
	 * best static seed is strictly worse than the optimum. */
	struct tcfg *c = config(100000000);
	wf_graph *g = crafted();
	struct sim_config sc = node(4);
	struct ga_params p;
	ga_params_default(&p);
	struct ga_result r;
	char err[512];
	cr_assert_eq(ga_search(g, c, &sc, &p, NULL, 0, NULL, &r, NULL, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert(r.best_io_time < r.seed_io_time * 0.999, "GA %.6f vs seed %s %.6f", r.best_io_time, r.seed_name,
		  r.seed_io_time);
	wf_destroy(g);
	tcfg_free(c);
}

Test(ga, same_seed_same_answer_whatever_the_threads)
{
	struct tcfg *c = config(1500000);
	char path[1024];
	snprintf(path, sizeof(path), "%s/wfsim-Montage_25.xml", TIERFS_WORKFLOWS_DIR);
	wf_graph *g;
	char err[512];
	cr_assert_eq(wf_load(path, NULL, &g, err, sizeof(err)), 0, "%s", err);
	struct sim_config sc = node(4);
	uint32_t nf = wf_file_count(g);
	int *a = calloc(nf, sizeof(int)), *b = calloc(nf, sizeof(int));
	struct ga_result ra, rb;
	struct ga_params p;
	ga_params_default(&p);
	p.max_generations = 40;
	p.threads = 1;
	cr_assert_eq(ga_search(g, c, &sc, &p, NULL, 0, a, &ra, NULL, NULL, err, sizeof(err)), 0, "%s", err);
	p.threads = 2;
	cr_assert_eq(ga_search(g, c, &sc, &p, NULL, 0, b, &rb, NULL, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ra.best_io_time, rb.best_io_time);
	cr_assert_eq(ra.generations, rb.generations);
	cr_assert_eq(memcmp(a, b, nf * sizeof(int)), 0);
	/* Files no task writes are left to the workflow (-1). */
	int inputs = 0;
	for (uint32_t f = 0; f < nf; f++)
		inputs += a[f] == -1;
	cr_assert_eq(inputs, (int)(nf - ra.genes));
	cr_assert_gt(inputs, 0);
	free(a);
	free(b);
	wf_destroy(g);
	tcfg_free(c);
}

Test(ga, seeded_policy_is_a_floor)
{
	/* A seed policy's own run is in the first generation, so the result
	 * is never above it. */
	struct tcfg *c = config(1500000);
	wf_graph *g = crafted();
	struct sim_config sc = node(2);
	struct lrn_policy *mf = lrn_policy_static_create(LRN_STATIC_MOST_FREE, 0, 1);
	struct ga_seed seeds[1] = {{"most-free", mf}};
	struct ga_params p;
	ga_params_default(&p);
	p.max_generations = 1; /* no breeding: only the seeds and random ones */
	struct ga_result r;
	char err[512];
	cr_assert_eq(ga_search(g, c, &sc, &p, seeds, 1, NULL, &r, NULL, NULL, err, sizeof(err)), 0, "%s", err);
	struct sim *s;
	cr_assert_eq(sim_create(g, c, &sc, &s, err, sizeof(err)), 0);
	struct lrn_policy *mf2 = lrn_policy_static_create(LRN_STATIC_MOST_FREE, 0, 1);
	struct sim_result sr;
	cr_assert_eq(sim_run(s, mf2, NULL, &sr, err, sizeof(err)), 0);
	cr_assert_leq(r.best_io_time, sr.io_time);
	cr_assert_leq(r.seed_io_time, sr.io_time);
	lrn_policy_destroy(mf);
	lrn_policy_destroy(mf2);
	sim_destroy(s);
	wf_destroy(g);
	tcfg_free(c);
}

Test(ga, bad_parameters_are_named)
{
	struct tcfg *c = config(1500000);
	wf_graph *g = crafted();
	struct sim_config sc = node(2);
	struct ga_params p;
	ga_params_default(&p);
	p.population = 2;
	char err[512] = "";
	cr_assert_eq(ga_search(g, c, &sc, &p, NULL, 0, NULL, NULL, NULL, NULL, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "population"), "%s", err);
	ga_params_default(&p);
	p.crossover_rate = 1.5;
	cr_assert_eq(ga_search(g, c, &sc, &p, NULL, 0, NULL, NULL, NULL, NULL, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "rates"), "%s", err);
	wf_destroy(g);
	tcfg_free(c);
}

Test(sweep, axes_parse_and_bad_ones_are_named)
{
	struct tcfg *c = config(1000);
	struct sweep_axis ax;
	char err[512];
	cr_assert_eq(sweep_parse_axis("mem=60G..420G", c, &ax, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ax.n, 5);
	cr_assert_eq(ax.tier, 0);
	cr_assert_eq(ax.values[0].v, 60.0 * (1 << 30));
	cr_assert_eq(ax.values[4].v, 420.0 * (1 << 30));
	cr_assert_eq(ax.values[2].v, 240.0 * (1 << 30));
	cr_assert_eq(sweep_parse_axis("ssd=0.1x..1x/10", c, &ax, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ax.n, 10);
	cr_assert_eq(ax.tier, 1);
	cr_assert(ax.values[9].relative && fabs(ax.values[9].v - 1.0) < 1e-12);
	cr_assert_eq(sweep_parse_axis("mem=1G,0.5x,4096", c, &ax, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ax.n, 3);
	cr_assert(!ax.values[0].relative && ax.values[1].relative && ax.values[2].v == 4096);

	static const struct {
		const char *arg, *says;
	} bad[] = {{"mem", "TIER=VALUES"},
		   {"nvme=1G", "no tier \"nvme\""},
		   {"mem=1G..0.5x", "range"},
		   {"mem=4G..1G", "LOW below HIGH"},
		   {"mem=1G..2G/1", "count after /"},
		   {"mem=lots", "\"lots\""},
		   {"mem=1G,,2G", "neither a size"}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(sweep_parse_axis(bad[i].arg, c, &ax, err, sizeof(err)), -EINVAL, "%s", bad[i].arg);
		cr_assert(strstr(err, bad[i].says), "%s: \"%s\" does not say %s", bad[i].arg, err, bad[i].says);
	}
	tcfg_free(c);
}

Test(sweep, percentages_are_of_a_node_four_times_the_workflow)
{
	char *path = write_file("pct.conf", "[tier mem]\npath = m\ncapacity = 25%\nread_bandwidth = 1G\nwrite_bandwidth = 1G\n"
					    "[tier disk]\npath = d\ncapacity = 100%\nread_bandwidth = 1G\nwrite_bandwidth = 1G\n");
	struct tcfg *c;
	char err[TCFG_ERRLEN];
	cr_assert_eq(tcfg_load(path, &c, err, sizeof(err)), 0, "%s", err);
	wf_graph *g = crafted();
	struct wf_summary sum;
	wf_get_summary(g, &sum);
	struct sim_config sc;
	sim_config_default(&sc);
	sc.capacity[1] = 12345;
	sweep_node_capacities(c, g, &sc);
	cr_assert_eq(sc.capacity[0], sum.declared_bytes); /* 25% of 4x */
	cr_assert_eq(sc.capacity[1], 12345);		   /* given: kept */
	wf_destroy(g);
	tcfg_free(c);
	free(path);
}

/* ---- the daemon's record log ------------------------------------------ */

#define LOG_HEADER                                                                                         \
	"time_s,event,path,workflow,producer_level,producer_width,wf_tasks,wf_bytes,consumers,"            \
	"next_use_distance,last_use_distance,task_input_bytes,declared_size,free_mem,free_ssd,free_pfs,"   \
	"tier,policy,reason,bytes_written,bytes_read,lifetime_s\n"

Test(labellog, reads_config_attach_and_creates)
{
	char *wf = write_file("crafted.json", "");
	(void)wf;
	char text[4096];
	snprintf(text, sizeof(text),
		 LOG_HEADER "1.0,config,/etc/tierfs.conf,,,,,,,,,,,1000,2000,3000,,,,,,\n"
			    "1.0,attach,/data/wf.json,run1,,,,,,,,,,,,,,,,,,\n"
			    "2.0,create,run1/a1,run1,0,4,6,1,2,1,1,0,900000,100,200,300,mem,learned,,,,\n"
			    "2.5,create,\"run1/odd,name\",run1,,,,,,,,,,,,,pfs,learned,the workflow does not name this file,,,\n"
			    "3.0,end,run1/a1,,,,,,,,,,,,,,mem,,,900000,0,1.0\n");
	char *path = write_file("records.csv", text);
	struct llog *lg;
	char err[512];
	cr_assert_eq(llog_load(path, &lg, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(llog_config(lg), "/etc/tierfs.conf");
	cr_assert_eq(llog_capacity(lg, 0), 1000);
	cr_assert_eq(llog_capacity(lg, 2), 3000);
	cr_assert_eq(llog_workflow_count(lg), 1);
	cr_assert_str_eq(llog_workflow(lg, 0), "/data/wf.json");

	/* Labelled against the crafted workflow: a1 is its file 0's name. */
	struct tcfg *c = config(1000);
	wf_graph *g = crafted();
	int best[64];
	for (int i = 0; i < 64; i++)
		best[i] = -1;
	struct wf_file_features ff;
	cr_assert_eq(wf_file_features(g, "a1", &ff), 0);
	best[ff.file_index] = 1;
	char *out = NULL;
	size_t outlen = 0;
	FILE *fp = open_memstream(&out, &outlen);
	int header = 1;
	size_t rows;
	cr_assert_eq(llog_write_labelled(lg, 0, g, c, best, fp, &header, &rows, err, sizeof(err)), 0, "%s", err);
	fclose(fp);
	cr_assert_eq(rows, 1);
	cr_assert(strstr(out, "free_pfs,tier\n0,4,6,1,2,1,1,0,900000,100,200,300,ssd\n"), "%s", out);
	free(out);
	llog_free(lg);
	wf_destroy(g);
	tcfg_free(c);
	free(path);
	free(wf);
}

Test(labellog, malformed_logs_are_refused_with_the_line)
{
	static const struct {
		const char *text, *says;
	} bad[] = {
	    {"", "empty"},
	    {"a,b,c\n", "not a tierfs record log"},
	    {LOG_HEADER "1.0,create,x,.,1,2,3\n", ":2: 7 fields"},
	    {LOG_HEADER "1.0,config,/c,,,,,,,,,,,1000,big,3000,,,,,,\n", ":2: config line"},
	    {LOG_HEADER "1.0,create,x,.,0,4,6,1,2,1,1,0,nan?,1,2,3,mem,learned,,,,\n", ":2: column declared_size"},
	    {LOG_HEADER "1.0,create,\"x,.,0,4,6,1,2,1,1,0,9,1,2,3,mem,learned,,,,\n", ":2: malformed CSV"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path = write_file("bad.csv", bad[i].text);
		struct llog *lg = NULL;
		char err[512] = "";
		cr_assert_eq(llog_load(path, &lg, err, sizeof(err)), -EINVAL, "case %zu", i);
		cr_assert_null(lg);
		cr_assert(strstr(err, bad[i].says), "case %zu: \"%s\" does not say \"%s\"", i, err, bad[i].says);
		free(path);
	}
}
