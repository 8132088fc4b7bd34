/*
 * test_sim.c - tier_sim on workflows small enough to check by hand (one
 * transfer, equal and max-min sharing, a chain, a spill, a remote read),
 * on real workflows at their declared sizes (tier ordering, determinism,
 * records the learner reads), and on bad input.
 *
 * Expected values are computed from the numbers written into the test's
 * own config and workflow, never copied from a run.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "learner.h"
#include "place.h"
#include "sim.h"
#include "tierfs_config.h"
#include "workflow.h"
#include "../common/testconf.h"
#include "../common/testtmp.h"

/* Bandwidths (bytes/s) and latencies (s) of the test tiers. */
#define MEM_R	4000000.0
#define MEM_W	2000000.0
#define MEM_LAT 0.001
#define SSD_R	1000000.0
#define SSD_W	500000.0
#define SSD_LAT 0.002
#define PFS_R	250000.0
#define PFS_W	100000.0
#define PFS_LAT 0.005

static char tmpdir[64];

static char *write_file(const char *name, const char *text)
{
	char *path = testtmp_write(tmpdir, "/tmp/tier_sim_test.XXXXXX", name, text);
	cr_assert_not_null(path, "cannot write %s in a temporary directory", name);
	return path;
}

/* A three-tier config with the rates above; capacities in bytes. */
static struct tcfg *config(uint64_t mem_cap, uint64_t ssd_cap, uint64_t pfs_cap)
{
	char text[2048];
	snprintf(
	    text, sizeof(text),
	    "[global]\nplacement = first\n"
	    "[tier mem]\npath = m\ncapacity = %llu\nread_bandwidth = %.0f\nwrite_bandwidth = %.0f\nlatency = %.0fus\n"
	    "[tier ssd]\npath = s\ncapacity = %llu\nread_bandwidth = %.0f\nwrite_bandwidth = %.0f\nlatency = %.0fus\n"
	    "[tier pfs]\npath = p\ncapacity = %llu\nread_bandwidth = %.0f\nwrite_bandwidth = %.0f\nlatency = %.0fus\n",
	    (unsigned long long)mem_cap, MEM_R, MEM_W, MEM_LAT * 1e6, (unsigned long long)ssd_cap,
	    SSD_R, SSD_W, SSD_LAT * 1e6, (unsigned long long)pfs_cap, PFS_R, PFS_W, PFS_LAT * 1e6);
	return testconf_load(write_file("tierfs.conf", text));
}

static wf_graph *workflow(const char *body)
{
	char text[8192];
	snprintf(
	    text, sizeof(text),
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<adag xmlns=\"http://pegasus.isi.edu/schema/DAX\" version=\"2.1\" name=\"t\">\n%s</adag>\n",
	    body);
	char *path = write_file("wf.xml", text);
	wf_graph *g;
	char err[512];
	int rc = wf_load(path, NULL, &g, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	free(path);
	return g;
}

static wf_graph *real_workflow(const char *name)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", TIERFS_WORKFLOWS_DIR, name);
	wf_graph *g;
	char err[512];
	int rc = wf_load(path, NULL, &g, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	return g;
}

static struct sim *make(const wf_graph *g, const struct tcfg *c, uint32_t nodes, uint32_t cores)
{
	struct sim_config sc;
	sim_config_default(&sc);
	sc.nodes = nodes;
	sc.cores = cores;
	struct sim *s;
	char err[512];
	int rc = sim_create(g, c, &sc, &s, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	return s;
}

static struct sim_result run_tier(struct sim *s, const struct tcfg *c, const char *tier)
{
	struct lrn_policy *p =
	    lrn_policy_static_create(LRN_STATIC_TIER, tcfg_tier_index(c, tier), 0);
	struct sim_result r;
	char err[512];
	int rc = sim_run(s, p, NULL, &r, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	lrn_policy_destroy(p);
	return r;
}

#define close_to(a, b)                                                                             \
	cr_assert(fabs((a) - (b)) <= 1e-9 * fmax(1.0, fabs(b)), "%s = %.12g, expected %.12g", #a,  \
		  (double)(a), (double)(b))

Test(sim, one_file_one_tier_is_size_over_bandwidth_plus_latency)
{
	const double B = 3000000, RT = 2.5;
	wf_graph *g = workflow("<job id=\"A\" name=\"w\" runtime=\"2.5\">"
			       "<uses file=\"out\" link=\"output\" size=\"3000000\"/></job>\n");
	struct tcfg *c = config(1ull << 30, 1ull << 32, 1ull << 40);
	struct sim *s = make(g, c, 1, 1);
	const char *tiers[] = {"mem", "ssd", "pfs"};
	const double bw[] = {MEM_W, SSD_W, PFS_W}, lat[] = {MEM_LAT, SSD_LAT, PFS_LAT};
	for (int t = 0; t < 3; t++) {
		struct sim_result r = run_tier(s, c, tiers[t]);
		close_to(r.io_time, B / bw[t] + lat[t]);
		close_to(r.write_time, r.io_time);
		close_to(r.makespan, RT + B / bw[t] + lat[t]);
		cr_assert_eq(r.tiers[t].bytes_written, (uint64_t)B);
		cr_assert_eq(r.tiers[t].peak_used, (uint64_t)B);
		cr_assert_eq(r.files_created, 1);
	}
	sim_destroy(s);
	tcfg_free(c);
	wf_destroy(g);
}

Test(sim, concurrent_writers_share_the_bandwidth)
{
	const double B = 1000000;
	wf_graph *g = workflow(
	    "<job id=\"A\" name=\"w\" runtime=\"0\"><uses file=\"a\" link=\"output\" size=\"1000000\"/></job>\n"
	    "<job id=\"B\" name=\"w\" runtime=\"0\"><uses file=\"b\" link=\"output\" size=\"1000000\"/></job>\n");
	struct tcfg *c = config(1ull << 30, 1ull << 32, 1ull << 40);

	/* Two cores: both at half the bandwidth, ending together. */
	struct sim *s = make(g, c, 1, 2);
	struct sim_result r = run_tier(s, c, "mem");
	close_to(r.makespan, MEM_LAT + 2 * B / MEM_W);
	close_to(r.io_time, 2 * (MEM_LAT + 2 * B / MEM_W));
	sim_destroy(s);

	/* One core: one after the other at full bandwidth. */
	s = make(g, c, 1, 1);
	r = run_tier(s, c, "mem");
	close_to(r.makespan, 2 * (MEM_LAT + B / MEM_W));
	close_to(r.io_time, 2 * (MEM_LAT + B / MEM_W));
	sim_destroy(s);

	/* Two nodes: each has its own memory tier, so no sharing. */
	s = make(g, c, 2, 1);
	r = run_tier(s, c, "mem");
	close_to(r.makespan, MEM_LAT + B / MEM_W);
	sim_destroy(s);

	/* ...but the PFS is one tier for all nodes. */
	s = make(g, c, 2, 1);
	r = run_tier(s, c, "pfs");
	close_to(r.makespan, PFS_LAT + 2 * B / PFS_W);
	sim_destroy(s);
	tcfg_free(c);
	wf_destroy(g);
}

Test(sim, unequal_transfers_get_max_min_shares)
{
	/* B and 2B start together: both at W/2 until B ends at 2B/W, then the
	 * rest (B) alone at W: 3B/W. */
	const double B = 1000000;
	wf_graph *g = workflow(
	    "<job id=\"A\" name=\"w\" runtime=\"0\"><uses file=\"a\" link=\"output\" size=\"1000000\"/></job>\n"
	    "<job id=\"B\" name=\"w\" runtime=\"0\"><uses file=\"b\" link=\"output\" size=\"2000000\"/></job>\n");
	struct tcfg *c = config(1ull << 30, 1ull << 32, 1ull << 40);
	struct sim *s = make(g, c, 1, 2);
	struct sim_result r = run_tier(s, c, "ssd");
	close_to(r.makespan, SSD_LAT + 3 * B / SSD_W);
	close_to(r.io_time, (SSD_LAT + 2 * B / SSD_W) + (SSD_LAT + 3 * B / SSD_W));
	sim_destroy(s);
	tcfg_free(c);
	wf_destroy(g);
}

static const char chain[] =
    "<job id=\"A\" name=\"w\" runtime=\"1\"><uses file=\"f1\" link=\"output\" size=\"1000000\"/></job>\n"
    "<job id=\"B\" name=\"w\" runtime=\"2\"><uses file=\"f1\" link=\"input\" size=\"1000000\"/>"
    "<uses file=\"f2\" link=\"output\" size=\"500000\"/></job>\n"
    "<job id=\"C\" name=\"w\" runtime=\"3\"><uses file=\"f2\" link=\"input\" size=\"500000\"/></job>\n"
    "<child ref=\"B\"><parent ref=\"A\"/></child>\n<child ref=\"C\"><parent ref=\"B\"/></child>\n";

Test(sim, a_chain_serialises)
{
	wf_graph *g = workflow(chain);
	struct tcfg *c = config(1ull << 30, 1ull << 32, 1ull << 40);
	struct sim *s = make(g, c, 1, 4);
	struct sim_result r = run_tier(s, c, "ssd");
	double io = (SSD_LAT + 1e6 / SSD_W) + (SSD_LAT + 1e6 / SSD_R) + (SSD_LAT + 5e5 / SSD_W) +
		    (SSD_LAT + 5e5 / SSD_R);
	close_to(r.io_time, io);
	close_to(r.makespan, io + 1 + 2 + 3);
	close_to(r.compute_time, 6.0);
	cr_assert_eq(r.tiers[1].bytes_read, 1500000);
	cr_assert_eq(r.tiers[1].bytes_written, 1500000);

	/* A runtime scale multiplies the compute part only. */
	struct sim_config sc;
	sim_config_default(&sc);
	sc.cores = 4;
	sc.runtime_scale = 0.5;
	struct sim *s2;
	char err[512];
	cr_assert_eq(sim_create(g, c, &sc, &s2, err, sizeof(err)), 0, "%s", err);
	r = run_tier(s2, c, "ssd");
	close_to(r.makespan, io + 3.0);
	sim_destroy(s2);
	sim_destroy(s);
	tcfg_free(c);
	wf_destroy(g);
}

Test(sim, a_file_on_another_nodes_local_tier_is_read_through_the_pfs)
{
	/* A writes f to node 0's memory; B and C start together on cores 0
	 * (node 0) and 1 (node 1): C's read goes through the shared PFS. */
	wf_graph *g = workflow(
	    "<job id=\"A\" name=\"w\" runtime=\"0\"><uses file=\"f\" link=\"output\" size=\"1000000\"/></job>\n"
	    "<job id=\"B\" name=\"w\" runtime=\"0\"><uses file=\"f\" link=\"input\" size=\"1000000\"/></job>\n"
	    "<job id=\"C\" name=\"w\" runtime=\"0\"><uses file=\"f\" link=\"input\" size=\"1000000\"/></job>\n"
	    "<child ref=\"B\"><parent ref=\"A\"/></child>\n<child ref=\"C\"><parent ref=\"A\"/></child>\n");
	struct tcfg *c = config(1ull << 30, 1ull << 32, 1ull << 40);
	struct sim *s = make(g, c, 2, 1);
	struct sim_result r = run_tier(s, c, "mem");
	cr_assert_eq(r.remote_reads, 1);
	cr_assert_eq(r.tiers[0].bytes_read, 1000000);
	cr_assert_eq(r.tiers[2].bytes_read, 1000000, "the remote read is carried by the PFS");
	double w = MEM_LAT + 1e6 / MEM_W;
	close_to(r.io_time, w + (MEM_LAT + 1e6 / MEM_R) + (PFS_LAT + 1e6 / PFS_R));
	close_to(r.makespan, w + PFS_LAT + 1e6 / PFS_R);
	sim_destroy(s);
	tcfg_free(c);
	wf_destroy(g);
}

Test(sim, a_full_tier_spills_to_the_next)
{
	wf_graph *g = workflow(chain);
	/* Memory holds f1 (1 MB) but not f2 after it. */
	struct tcfg *c = config(1200000, 1ull << 32, 1ull << 40);
	struct sim *s = make(g, c, 1, 1);
	struct sim_result r = run_tier(s, c, "mem");
	struct sim_file f1, f2;
	cr_assert_eq(sim_file(s, 0, &f1), 0);
	cr_assert_eq(sim_file(s, 1, &f2), 0);
	cr_assert_str_eq(f1.name, "f1");
	cr_assert_eq(f1.tier, 0);
	cr_assert_eq(f2.tier, 1, "f2 should spill to ssd, is in %d", f2.tier);
	cr_assert_eq(r.tiers[0].peak_used, 1000000);
	cr_assert_eq(r.tiers[1].bytes_written, 500000);

	/* A tier vector asking for memory for both spills once. */
	int vec[2] = {0, 0};
	char err[512];
	cr_assert_eq(sim_run(s, NULL, vec, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.spills, 1);
	cr_assert_eq(r.tiers[1].files, 1);

	/* Nothing fits anywhere: a clear error. */
	struct tcfg *tiny = config(1000, 1000, 1000);
	struct sim *s2 = make(g, tiny, 1, 1);
	int rc = sim_run(s2, NULL, NULL, &r, err, sizeof(err));
	cr_assert_eq(rc, -ENOSPC);
	cr_assert(strstr(err, "'f1'") && strstr(err, "fits in no tier"), "%s", err);
	sim_destroy(s2);
	tcfg_free(tiny);
	sim_destroy(s);
	tcfg_free(c);
	wf_destroy(g);
}

Test(sim, faster_tiers_give_less_io_time_on_real_workflows)
{
	const char *wfs[] = {"wfsim-Montage_1000.xml", "wfsim-Epigenomics_997.xml",
			     "wfsim-CyberShake_1000.xml"};
	struct tcfg *c = config(1ull << 40, 1ull << 40, 1ull << 50);
	for (size_t i = 0; i < 3; i++) {
		wf_graph *g = real_workflow(wfs[i]);
		struct sim *s = make(g, c, 2, 4);
		struct sim_result mem = run_tier(s, c, "mem"), ssd = run_tier(s, c, "ssd"),
				  pfs = run_tier(s, c, "pfs");
		cr_assert(mem.io_time < ssd.io_time && ssd.io_time < pfs.io_time,
			  "%s: mem %g ssd %g pfs %g", wfs[i], mem.io_time, ssd.io_time,
			  pfs.io_time);
		cr_assert(mem.makespan <= pfs.makespan, "%s", wfs[i]);
		cr_assert_eq(mem.tasks, wf_task_count(g));
		cr_assert_eq(pfs.tiers[2].files, pfs.files_created);
		sim_destroy(s);
		wf_destroy(g);
	}
	tcfg_free(c);
}

static struct sim_result run_random(struct sim *s, uint64_t seed, int *tiers)
{
	struct lrn_policy *p = lrn_policy_static_create(LRN_STATIC_RANDOM, 0, seed);
	struct sim_result r;
	char err[512];
	int rc = sim_run(s, p, NULL, &r, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	lrn_policy_destroy(p);
	for (uint32_t f = 0; f < sim_file_count(s); f++) {
		struct sim_file sf;
		cr_assert_eq(sim_file(s, f, &sf), 0);
		tiers[f] = sf.tier;
	}
	return r;
}

Test(sim, deterministic_for_a_seed)
{
	wf_graph *g = real_workflow("wfsim-Montage_1000.xml");
	struct tcfg *c = config(1ull << 33, 1ull << 36, 1ull << 50);
	struct sim *s = make(g, c, 3, 2);
	uint32_t n = sim_file_count(s);
	int *a = calloc(n, sizeof(int)), *b = calloc(n, sizeof(int)), *d = calloc(n, sizeof(int));
	struct sim_result r1 = run_random(s, 42, a), r2 = run_random(s, 42, b);
	run_random(s, 7, d);
	cr_assert_eq(memcmp(&r1, &r2, sizeof(r1)), 0);
	cr_assert_eq(memcmp(a, b, n * sizeof(int)), 0);
	cr_assert_neq(memcmp(a, d, n * sizeof(int)), 0, "another seed should place differently");

	/* Replaying the random run's placement as a tier vector gives the same run. */
	char err[512];
	struct sim_result r4;
	cr_assert_eq(sim_run(s, NULL, a, &r4, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r4.spills, 0);
	cr_assert_eq(r4.io_time, r1.io_time);
	cr_assert_eq(r4.makespan, r1.makespan);
	free(a);
	free(b);
	free(d);
	sim_destroy(s);
	tcfg_free(c);
	wf_destroy(g);
}

Test(sim, records_load_with_the_learner_and_carry_the_daemons_features)
{
	wf_graph *g = real_workflow("wfsim-Epigenomics_997.xml");
	/* Memory small enough to fill (no demotion), so free_mem varies and
	 * files spill. */
	struct tcfg *c = config(1ull << 31, 1ull << 36, 1ull << 50);
	struct sim_config sc;
	sim_config_default(&sc);
	sc.cores = 2;
	sc.migrate_threads = 0;
	struct sim *s;
	char err[512];
	cr_assert_eq(sim_create(g, c, &sc, &s, err, sizeof(err)), 0, "%s", err);
	struct sim_result r = run_tier(s, c, "mem");
	char *path = write_file("records.csv", "");
	cr_assert_eq(sim_write_records(s, path, err, sizeof(err)), 0, "%s", err);

	struct lrn_data *d;
	int rc = lrn_data_load_csv(path, NULL, &d);
	cr_assert_eq(rc, 0, "%s", lrn_last_error());
	cr_assert_eq(lrn_data_rows(d), r.files_created);

	/* The daemon's names, in its order. */
	struct lrn_tier_state st[3] = {{"mem", 1, 0}, {"ssd", 1, 0}, {"pfs", 1, 0}};
	struct wf_file_features ff0 = {0};
	struct tpl_vector v;
	tpl_features(&ff0, 0, st, 3, &v);
	cr_assert_eq(lrn_data_nfeatures(d), v.n);
	for (size_t i = 0; i < v.n; i++)
		cr_assert_str_eq(lrn_data_feature_name(d, i), v.names[i]);

	/* Each row is what tpl_features() gives for the file's workflow
	 * features, its producer's input bytes and the free bytes recorded. */
	size_t row = 0, nf;
	const char *const *names = sim_feature_names(s, &nf);
	cr_assert_str_eq(names[nf - 1], "free_pfs");
	int saw_mem = 0, saw_ssd = 0;
	for (uint32_t f = 0; f < sim_file_count(s); f++) {
		struct sim_file sf;
		cr_assert_eq(sim_file(s, f, &sf), 0);
		if (!sf.created)
			continue;
		struct wf_file_features ff;
		cr_assert_eq(wf_file_info(g, f, &ff), 0);
		struct wf_task_info ti;
		struct wf_file_features p;
		uint64_t in = 0;
		for (uint32_t k = 0; k < wf_task_count(g); k++) {
			cr_assert_eq(wf_task_info(g, k, &ti), 0);
			if (strcmp(ti.id, ff.producer_id) == 0) {
				for (uint32_t j = 0; j < ti.n_inputs; j++) {
					cr_assert_eq(wf_file_info(g, ti.inputs[j], &p), 0);
					in += p.size;
				}
				break;
			}
		}
		struct lrn_tier_state now[3];
		for (int t = 0; t < 3; t++)
			now[t] = (struct lrn_tier_state){st[t].name, 1ull << 62,
							 (1ull << 62) -
							     (uint64_t)sf.features[nf - 3 + t]};
		tpl_features(&ff, in, now, 3, &v);
		const float *x = lrn_data_row(d, row);
		for (size_t i = 0; i < v.n; i++)
			cr_assert(fabs(x[i] - (float)v.values[i]) <= 1e-6 * fabs(v.values[i]),
				  "file %u feature %s: %g vs %g", f, v.names[i], x[i], v.values[i]);
		const char *label = lrn_data_class_name(d, (size_t)lrn_data_label(d, row));
		cr_assert_str_eq(label, sim_tier_name(s, sf.tier));
		saw_mem |= sf.tier == 0;
		saw_ssd |= sf.tier == 1;
		row++;
	}
	cr_assert(saw_mem && saw_ssd, "memory should fill and spill to ssd");
	lrn_data_destroy(d);
	free(path);
	sim_destroy(s);
	tcfg_free(c);
	wf_destroy(g);
}

Test(sim, placement_csv)
{
	wf_graph *g = workflow(chain);
	struct tcfg *c = config(1ull << 30, 1ull << 32, 1ull << 40);
	struct sim *s = make(g, c, 1, 1);
	int vec[2];
	char err[512];
	char *p = write_file("ok.csv", "file,tier\nf1,pfs\n1,0\n");
	cr_assert_eq(sim_read_placement(s, p, vec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(vec[0], 2);
	cr_assert_eq(vec[1], 0);
	struct sim_result r;
	cr_assert_eq(sim_run(s, NULL, vec, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.tiers[2].files, 1);
	cr_assert_eq(r.tiers[0].files, 1);
	free(p);

	p = write_file("bad1.csv", "file,tier\nf1 pfs\n");
	cr_assert_eq(sim_read_placement(s, p, vec, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "bad1.csv:2:") && strstr(err, "FILE,TIER"), "%s", err);
	free(p);
	p = write_file("bad2.csv", "nosuch,mem\n");
	cr_assert_eq(sim_read_placement(s, p, vec, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, ":1:") && strstr(err, "\"nosuch\" is not a file"), "%s", err);
	free(p);
	p = write_file("bad3.csv", "f1,tape\n");
	cr_assert_eq(sim_read_placement(s, p, vec, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "\"tape\" is not a tier"), "%s", err);
	free(p);
	cr_assert_eq(sim_read_placement(s, "/nonexistent/x.csv", vec, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "/nonexistent/x.csv"), "%s", err);
	sim_destroy(s);
	tcfg_free(c);
	wf_destroy(g);
}

static int create_with(const char *conf_text, uint32_t nodes, uint32_t cores, double scale,
		       char *err, size_t errlen)
{
	wf_graph *g = workflow(chain);
	char *path = write_file("bad.conf", conf_text);
	struct tcfg *c;
	char cerr[TCFG_ERRLEN];
	int rc = tcfg_load(path, &c, cerr, sizeof(cerr));
	cr_assert_eq(rc, 0, "%s", cerr);
	struct sim_config sc;
	sim_config_default(&sc);
	sc.nodes = nodes;
	sc.cores = cores;
	sc.runtime_scale = scale;
	struct sim *s = NULL;
	rc = sim_create(g, c, &sc, &s, err, errlen);
	cr_assert(rc != 0 || s != NULL);
	sim_destroy(s);
	tcfg_free(c);
	wf_destroy(g);
	free(path);
	return rc;
}

Test(sim, bad_input_gets_clear_errors)
{
	char err[512];
	int rc = create_with("[tier mem]\npath = m\ncapacity = 1G\nwrite_bandwidth = 1G/s\n", 1, 1,
			     1, err, sizeof(err));
	cr_assert_eq(rc, -EINVAL);
	cr_assert(strstr(err, "bad.conf:1:") &&
		      strstr(err, "[tier mem] key 'read_bandwidth' is not set"),
		  "%s", err);

	rc = create_with(
	    "[tier mem]\npath = m\ncapacity = 25%\nread_bandwidth = 1G/s\nwrite_bandwidth = 1G/s\n",
	    1, 1, 1, err, sizeof(err));
	cr_assert_eq(rc, -EINVAL);
	cr_assert(strstr(err, "[tier mem] key 'capacity'") && strstr(err, "--capacity mem=SIZE"),
		  "%s", err);

	const char *ok =
	    "[tier mem]\npath = m\ncapacity = 1G\nread_bandwidth = 1G/s\nwrite_bandwidth = 1G/s\n";
	cr_assert_eq(create_with(ok, 1, 1, 1, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(create_with(ok, 0, 1, 1, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "nodes must be at least 1"), "%s", err);
	cr_assert_eq(create_with(ok, 1, 0, 1, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "cores per node must be at least 1"), "%s", err);
	cr_assert_eq(create_with(ok, 1, 1, -1, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "runtime scale"), "%s", err);
}

Test(sim, capacity_override_replaces_a_percentage)
{
	wf_graph *g = workflow(chain);
	char *path = write_file(
	    "pct.conf",
	    "[tier mem]\npath = m\ncapacity = 25%\nread_bandwidth = 1G/s\nwrite_bandwidth = 1G/s\n");
	struct tcfg *c;
	char err[TCFG_ERRLEN];
	cr_assert_eq(tcfg_load(path, &c, err, sizeof(err)), 0, "%s", err);
	struct sim_config sc;
	sim_config_default(&sc);
	sc.capacity[0] = 1ull << 30;
	struct sim *s;
	cr_assert_eq(sim_create(g, c, &sc, &s, err, sizeof(err)), 0, "%s", err);
	struct sim_result r;
	cr_assert_eq(sim_run(s, NULL, NULL, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.tiers[0].capacity, 1ull << 30);
	sim_destroy(s);
	tcfg_free(c);
	wf_destroy(g);
	free(path);
}

Test(sim, demotion_moves_finished_files_first_and_keeps_the_tiers_within_capacity)
{
	/* Memory 10 MB (high 90%, low 70%).  A writes f0 (3 MB, never read)
	 * and f1 (3 MB, read by C); B then writes f2 (3.5 MB): 95% > 90%, so
	 * 2.5 MB must go - f0, the finished one, not f1. */
	wf_graph *g = workflow(
	    "<job id=\"A\" name=\"w\" runtime=\"0\"><uses file=\"f0\" link=\"output\" size=\"3000000\"/>"
	    "<uses file=\"f1\" link=\"output\" size=\"3000000\"/></job>\n"
	    "<job id=\"B\" name=\"w\" runtime=\"0\"><uses file=\"f2\" link=\"output\" size=\"3500000\"/></job>\n"
	    "<job id=\"C\" name=\"w\" runtime=\"0\"><uses file=\"f1\" link=\"input\" size=\"3000000\"/></job>\n"
	    "<child ref=\"B\"><parent ref=\"A\"/></child>\n<child ref=\"C\"><parent ref=\"B\"/></child>\n");
	struct tcfg *c = config(10000000, 1ull << 32, 1ull << 40);
	struct sim *s = make(g, c, 1, 1);
	struct sim_result r = run_tier(s, c, "mem");
	cr_assert_eq(r.migrations, 1);
	cr_assert_eq(r.migrated_bytes, 3000000);
	cr_assert_eq(r.tiers[0].moved_out, 3000000);
	cr_assert_eq(r.tiers[1].moved_in, 3000000);
	for (uint32_t f = 0; f < sim_file_count(s); f++) {
		struct sim_file sf;
		cr_assert_eq(sim_file(s, f, &sf), 0);
		cr_assert_eq(sf.tier, 0, "%s placed in %d", sf.name, sf.tier);
		cr_assert_eq(sf.final_tier, strcmp(sf.name, "f0") == 0 ? 1 : 0, "%s ends in %d",
			     sf.name, sf.final_tier);
	}
	/* The move (its read of memory done in 0.75 s, before C reads) does
	 * not delay the tasks here. */
	double place_f2 = 2 * (MEM_LAT + 3e6 / MEM_W);
	close_to(r.makespan, place_f2 + MEM_LAT + 3.5e6 / MEM_W + MEM_LAT + 3e6 / MEM_R);
	sim_destroy(s);

	/* Without demotion memory stays at 95%. */
	struct sim_config sc;
	sim_config_default(&sc);
	sc.migrate_threads = 0;
	char err[512];
	cr_assert_eq(sim_create(g, c, &sc, &s, err, sizeof(err)), 0, "%s", err);
	r = run_tier(s, c, "mem");
	cr_assert_eq(r.migrations, 0);
	cr_assert_eq(r.tiers[0].peak_used, 9500000);
	cr_assert_eq(r.tiers[1].peak_used, 0);
	sim_destroy(s);
	tcfg_free(c);
	wf_destroy(g);

	/* A real workflow through a small memory: demotions happen, no tier
	 * ever holds more than its capacity, bytes moved out equal bytes in. */
	g = real_workflow("wfsim-Montage_1000.xml");
	c = config(1ull << 30, 1ull << 40, 1ull << 50);
	s = make(g, c, 2, 2);
	r = run_tier(s, c, "mem");
	cr_assert_gt(r.migrations, 0);
	uint64_t in = 0, out = 0;
	for (size_t t = 0; t < r.ntiers; t++) {
		cr_assert_leq(r.tiers[t].peak_used, r.tiers[t].capacity);
		in += r.tiers[t].moved_in;
		out += r.tiers[t].moved_out;
	}
	cr_assert_eq(in, r.migrated_bytes);
	cr_assert_eq(out, r.migrated_bytes);
	sim_destroy(s);
	tcfg_free(c);
	wf_destroy(g);
}

Test(sim, a_demotion_shares_the_destination_with_task_writes)
{
	/* A writes f0 (6 MB, never read) to memory (10 MB).  B then writes f2
	 * (3.5 MB) to memory: 95% full, f0 is moved to the SSD.  C, started
	 * with B on the second core, writes g (1 MB) to the SSD while the move
	 * writes there: g gets half the SSD's bandwidth. */
	wf_graph *g = workflow(
	    "<job id=\"A\" name=\"w\" runtime=\"0\"><uses file=\"f0\" link=\"output\" size=\"6000000\"/></job>\n"
	    "<job id=\"B\" name=\"w\" runtime=\"0\"><uses file=\"f2\" link=\"output\" size=\"3500000\"/></job>\n"
	    "<job id=\"C\" name=\"w\" runtime=\"0\"><uses file=\"g\" link=\"output\" size=\"1000000\"/></job>\n"
	    "<child ref=\"B\"><parent ref=\"A\"/></child>\n<child ref=\"C\"><parent ref=\"A\"/></child>\n");
	struct tcfg *c = config(10000000, 1ull << 32, 1ull << 40);
	struct sim *s = make(g, c, 1, 2);
	int vec[3];
	for (uint32_t f = 0; f < 3; f++) {
		struct sim_file sf;
		cr_assert_eq(sim_file(s, f, &sf), 0);
		vec[f] = strcmp(sf.name, "g") == 0 ? 1 : 0;
	}
	struct sim_result r;
	char err[512];
	cr_assert_eq(sim_run(s, NULL, vec, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.migrations, 1);
	double a = MEM_LAT + 6e6 / MEM_W, b = MEM_LAT + 3.5e6 / MEM_W;
	/* The move writes alone during C's latency, then shares. */
	double cw = SSD_LAT + 2 * 1e6 / SSD_W;
	close_to(r.io_time, a + b + cw);
	close_to(r.makespan, a + fmax(b, cw));

	/* Without demotion C gets the whole SSD. */
	struct sim_config sc;
	sim_config_default(&sc);
	sc.cores = 2;
	sc.migrate_threads = 0;
	sim_destroy(s);
	cr_assert_eq(sim_create(g, c, &sc, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(sim_run(s, NULL, vec, &r, err, sizeof(err)), 0, "%s", err);
	close_to(r.io_time, a + b + SSD_LAT + 1e6 / SSD_W);
	sim_destroy(s);
	tcfg_free(c);
	wf_destroy(g);
}

Test(sim, ticks_write_the_monitor_series_and_change_nothing_else)
{
	/* A writes f (4 MB) to memory at 2 MB/s after 1 ms: 0.5 s ticks see
	 * 2 MB/s of writes, an open file, and end at 4 MB used. */
	wf_graph *g = workflow("<job id=\"A\" name=\"w\" runtime=\"1\"><uses file=\"f\" link=\"output\" size=\"4000000\"/></job>\n");
	struct tcfg *c = config(10000000, 1ull << 32, 1ull << 40);
	struct sim *s = make(g, c, 1, 1);
	struct sim_result plain = run_tier(s, c, "mem");
	char err[512];
	cr_assert_eq(sim_write_series(s, "/nonexistent/x.csv", err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "no series recorded"), "%s", err);
	sim_destroy(s);
	struct sim_config sc;
	sim_config_default(&sc);
	sc.tick_s = 0.5;
	cr_assert_eq(sim_create(g, c, &sc, &s, err, sizeof(err)), 0, "%s", err);
	struct sim_result r = run_tier(s, c, "mem");
	close_to(r.io_time, plain.io_time);
	close_to(r.makespan, plain.makespan);
	double end = 1 + MEM_LAT + 4e6 / MEM_W;
	cr_assert_eq(r.ticks, (uint32_t)ceil(end / 0.5), "%u ticks for %.3f s", r.ticks, end);
	char *path = write_file("series.csv", "");
	cr_assert_eq(sim_write_series(s, path, err, sizeof(err)), 0, "%s", err);
	struct mon_series *ms;
	cr_assert_eq(mon_read_csv(path, &ms, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ms->nframes, r.ticks);
	cr_assert_str_eq(ms->tier_names[0], "mem");
	/* t = 1.5 .. 2.5: writing the whole tick. */
	const double *fr = ms->frames + 3 * ms->ncols;
	cr_assert_float_eq(fr[0], 2.0, 1e-9);
	cr_assert_float_eq(fr[mon_col_tier(0, MON_COL_WRITE_BPS)], MEM_W, 1.0);
	cr_assert_float_eq(fr[mon_col_tier(0, MON_COL_OPEN)], 1, 1e-9);
	const double *last = ms->frames + (ms->nframes - 1) * ms->ncols;
	cr_assert_float_eq(last[mon_col_tier(0, MON_COL_USED_FRAC)], 0.4, 1e-9);
	cr_assert_float_eq(last[mon_col_tier(0, MON_COL_OPEN)], 0, 1e-9);
	mon_series_destroy(ms);
	free(path);
	sim_destroy(s);
	/* Bad combinations are refused with the reason. */
	sc.tick_s = 0;
	sc.proactive = 1;
	cr_assert_eq(sim_create(g, c, &sc, &s, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "proactive mode a phase model"), "%s", err);
	tcfg_free(c);
	wf_destroy(g);
}

Test(sim, spills_below_the_first_tier_are_counted)
{
	/* Memory 5 MB, no demotion: f0 (4 MB) fits, f1 (2 MB) does not (80%
	 * used: not near ENOSPC), f2 (0.9 MB) fits (98% used), f3 (0.5 MB)
	 * spills near ENOSPC. */
	wf_graph *g = workflow(
	    "<job id=\"A\" name=\"w\" runtime=\"0\"><uses file=\"f0\" link=\"output\" size=\"4000000\"/>"
	    "<uses file=\"f1\" link=\"output\" size=\"2000000\"/><uses file=\"f2\" link=\"output\" size=\"900000\"/>"
	    "<uses file=\"f3\" link=\"output\" size=\"500000\"/></job>\n");
	struct tcfg *c = config(5000000, 1ull << 32, 1ull << 40);
	struct sim_config sc;
	sim_config_default(&sc);
	sc.migrate_threads = 0;
	struct sim *s;
	char err[512];
	cr_assert_eq(sim_create(g, c, &sc, &s, err, sizeof(err)), 0, "%s", err);
	struct sim_result r;
	cr_assert_eq(sim_run(s, NULL, NULL, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.place_spills, 2);
	cr_assert_eq(r.enospc_spills, 1);
	sim_destroy(s);
	tcfg_free(c);
	wf_destroy(g);
}
