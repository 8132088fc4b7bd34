/*
 * test_plancheck.c - the plan check (trainer/plancheck.h) and the daemon's
 * use of it through tier_place's hook, on crafted workflows and models:
 * - a model that sends everything to pfs, on a workflow where memory is
 *   best, is put aside for the memory tier; by default the figures are
 *   independent simulator runs at the declared task runtimes, one each;
 * - a model that mixes tiers where that wins is kept by default, however
 *   small its lead, and a margin decides when one is asked for;
 * - asked for several runtime scales, the check judges by the mean of
 *   runs at those scales times the base scale;
 * - a configuration the simulator cannot use fails the check with the
 *   reason, and tier_place then keeps the model and says why;
 * - tier_place places the files of an attached workflow on the planned
 *   tier (the next with room when it is full), others by the model.
 *
 * Expected plans follow from the rates written into the test's own
 * config; figures are recomputed from sim_run(), never copied from a run.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learner.h"
#include "place.h"
#include "plancheck.h"
#include "sim.h"
#include "tierfs_config.h"
#include "workflow.h"
#include "../common/testconf.h"
#include "../common/testtmp.h"

static char tmpdir[64];

static char *write_file(const char *name, const char *text)
{
	char *path = testtmp_write(tmpdir, "/tmp/tier_plan_test.XXXXXX", name, text);
	cr_assert_not_null(path, "cannot write %s in a temporary directory", name);
	return path;
}

/* Memory 4x faster than the SSD, the SSD 4x faster than the PFS; model=
 * names model_path when given. */
static struct tcfg *config(uint64_t mem_cap, const char *model_path, int with_rates)
{
	char text[2048];
	const char *rates[3] = {"read_bandwidth = 4000000\nwrite_bandwidth = 2000000\nlatency = 1ms\n",
				"read_bandwidth = 1000000\nwrite_bandwidth = 500000\nlatency = 2ms\n",
				"read_bandwidth = 250000\nwrite_bandwidth = 125000\nlatency = 5ms\n"};
	snprintf(text, sizeof(text),
		 "[global]\nplacement = first\nmigrate_threads = 0\n%s%s\n"
		 "[tier mem]\npath = m\ncapacity = %llu\n%s"
		 "[tier ssd]\npath = s\ncapacity = 1G\n%s"
		 "[tier pfs]\npath = p\ncapacity = 1T\n%s",
		 model_path ? "model = " : "", model_path ? model_path : "", (unsigned long long)mem_cap,
		 with_rates ? rates[0] : "", with_rates ? rates[1] : "", with_rates ? rates[2] : "");
	return testconf_load(write_file("tierfs.conf", text));
}

/* Task A writes "out" (9 MB, read by nobody) then "s" (1 MB); eight tasks
 * read "s".  All on memory: "out" fills it, "s" lands on the SSD and is
 * read eight times from there.  The mixed model below puts "out" on the
 * SSD and "s" in memory. */
static const char *const mixed_dax =
	"<job id=\"A\" name=\"w\" runtime=\"1\"><uses file=\"out\" link=\"output\" size=\"9000000\"/>"
	"<uses file=\"s\" link=\"output\" size=\"1000000\"/></job>\n"
	"<job id=\"B1\" name=\"r\" runtime=\"1\"><uses file=\"s\" link=\"input\" size=\"1000000\"/></job>\n"
	"<job id=\"B2\" name=\"r\" runtime=\"1\"><uses file=\"s\" link=\"input\" size=\"1000000\"/></job>\n"
	"<job id=\"B3\" name=\"r\" runtime=\"1\"><uses file=\"s\" link=\"input\" size=\"1000000\"/></job>\n"
	"<job id=\"B4\" name=\"r\" runtime=\"1\"><uses file=\"s\" link=\"input\" size=\"1000000\"/></job>\n"
	"<job id=\"B5\" name=\"r\" runtime=\"1\"><uses file=\"s\" link=\"input\" size=\"1000000\"/></job>\n"
	"<job id=\"B6\" name=\"r\" runtime=\"1\"><uses file=\"s\" link=\"input\" size=\"1000000\"/></job>\n"
	"<job id=\"B7\" name=\"r\" runtime=\"1\"><uses file=\"s\" link=\"input\" size=\"1000000\"/></job>\n"
	"<job id=\"B8\" name=\"r\" runtime=\"1\"><uses file=\"s\" link=\"input\" size=\"1000000\"/></job>\n";

/* A chain of three 2 MB files, each read once: memory is best. */
static const char *const chain_dax =
	"<job id=\"A\" name=\"w\" runtime=\"1\"><uses file=\"a\" link=\"output\" size=\"2000000\"/></job>\n"
	"<job id=\"B\" name=\"w\" runtime=\"1\"><uses file=\"a\" link=\"input\" size=\"2000000\"/>"
	"<uses file=\"b\" link=\"output\" size=\"2000000\"/></job>\n"
	"<job id=\"C\" name=\"w\" runtime=\"1\"><uses file=\"b\" link=\"input\" size=\"2000000\"/>"
	"<uses file=\"c\" link=\"output\" size=\"2000000\"/></job>\n"
	"<job id=\"D\" name=\"w\" runtime=\"1\"><uses file=\"c\" link=\"input\" size=\"2000000\"/></job>\n"
	"<child ref=\"B\"><parent ref=\"A\"/></child><child ref=\"C\"><parent ref=\"B\"/></child>"
	"<child ref=\"D\"><parent ref=\"C\"/></child>\n";

static char *dax_file(const char *name, const char *body)
{
	char text[8192];
	snprintf(text, sizeof(text),
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		 "<adag xmlns=\"http://pegasus.isi.edu/schema/DAX\" version=\"2.1\" name=\"%s\">\n%s</adag>\n",
		 name, body);
	char fname[64];
	snprintf(fname, sizeof(fname), "%s.xml", name);
	return write_file(fname, text);
}

static wf_graph *load_wf(const char *path)
{
	wf_graph *g;
	char err[512];
	int rc = wf_load(path, NULL, &g, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	return g;
}

/* Always pfs: one leaf per class, pfs far ahead. */
static const char *const pfs_model =
	"{\"format\":\"tierfs-gbdt\",\"version\":1,\"objective\":\"multi:softprob\","
	"\"features\":[\"consumers\"],\"classes\":[\"mem\",\"ssd\",\"pfs\"],\"base_scores\":[0,0,0],\"trees\":["
	"{\"class\":0,\"left\":[-1],\"right\":[-1],\"feature\":[0],\"threshold\":[0],\"default_left\":[0]},"
	"{\"class\":1,\"left\":[-1],\"right\":[-1],\"feature\":[0],\"threshold\":[0],\"default_left\":[0]},"
	"{\"class\":2,\"left\":[-1],\"right\":[-1],\"feature\":[0],\"threshold\":[5],\"default_left\":[0]}]}";

/* A file nobody reads to ssd, any other to mem. */
static const char *const mixed_model =
	"{\"format\":\"tierfs-gbdt\",\"version\":1,\"objective\":\"multi:softprob\","
	"\"features\":[\"consumers\"],\"classes\":[\"mem\",\"ssd\",\"pfs\"],\"base_scores\":[0,0,0],\"trees\":["
	"{\"class\":0,\"left\":[1,-1,-1],\"right\":[2,-1,-1],\"feature\":[0,0,0],\"threshold\":[0.5,-5,5],\"default_left\":[1,0,0]},"
	"{\"class\":1,\"left\":[1,-1,-1],\"right\":[2,-1,-1],\"feature\":[0,0,0],\"threshold\":[0.5,5,-5],\"default_left\":[1,0,0]},"
	"{\"class\":2,\"left\":[-1],\"right\":[-1],\"feature\":[0],\"threshold\":[-10],\"default_left\":[0]}]}";

static struct lrn_model *model(const char *json)
{
	struct lrn_model *m;
	cr_assert_eq(lrn_model_parse(json, strlen(json), "m.json", &m), 0, "%s", lrn_last_error());
	return m;
}

static struct sim_config node(void)
{
	struct sim_config sc;
	sim_config_default(&sc);
	sc.cores = 4;
	return sc;
}

/* Mean I/O time of policy plan (a tier, or PLAN_MODEL for m) over n runs
 * of sim_run at the given runtime scales. */
static double mean_io(const wf_graph *g, const struct tcfg *c, int plan, const struct lrn_model *m, size_t n,
		      const double *scales)
{
	double sum = 0;
	char err[512];
	for (size_t k = 0; k < n; k++) {
		struct sim_config sc = node();
		sc.runtime_scale = scales[k];
		struct sim *s;
		cr_assert_eq(sim_create(g, c, &sc, &s, err, sizeof(err)), 0, "%s", err);
		struct lrn_policy *pol = plan >= 0 ? lrn_policy_static_create(LRN_STATIC_TIER, plan, 0)
						   : lrn_policy_model_borrow(m, NULL);
		struct sim_result r;
		cr_assert_eq(sim_run(s, pol, NULL, &r, err, sizeof(err)), 0, "%s", err);
		sum += r.io_time;
		lrn_policy_destroy(pol);
		sim_destroy(s);
	}
	return sum / (double)n;
}

/* I/O time of policy plan at the declared task runtimes. */
static double declared_io(const wf_graph *g, const struct tcfg *c, int plan, const struct lrn_model *m)
{
	static const double one = 1.0;
	return mean_io(g, c, plan, m, 1, &one);
}

/* One workflow, config, model and node for a plan_check() test. */
struct fix {
	char *wf;
	wf_graph *g;
	struct tcfg *c;
	struct lrn_model *m;
	struct sim_config sc;
	struct plan_params pp;
};

static void fix_open(struct fix *f, const char *name, const char *body, uint64_t mem_cap, const char *model_json,
		     int with_rates)
{
	f->wf = dax_file(name, body);
	f->g = load_wf(f->wf);
	f->c = config(mem_cap, NULL, with_rates);
	f->m = model(model_json);
	f->sc = node();
	plan_params_default(&f->pp);
}

static void fix_close(struct fix *f)
{
	lrn_model_destroy(f->m);
	tcfg_free(f->c);
	wf_destroy(f->g);
	free(f->wf);
}

#define close_to(a, b) cr_assert(fabs((a) - (b)) <= 1e-9 * fmax(1.0, fabs(b)), "%s = %.12g, expected %.12g", #a, a, b)

Test(plancheck, a_model_worse_than_one_tier_gives_way_to_it)
{
	struct fix f;
	fix_open(&f, "chain", chain_dax, 64000000, pfs_model, 1);
	struct plan_result r;
	char err[512];
	cr_assert_eq(plan_check(f.g, f.c, &f.sc, f.m, &f.pp, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.plan, 0, "plan %d, expected mem (0)", r.plan);
	cr_assert_eq(r.best_tier, 0);
	/* By default one run per policy, at the declared runtimes: the
	 * figures are those runs; the model is all-pfs. */
	cr_assert_eq(r.runs, 4u);
	for (int t = 0; t < 3; t++)
		close_to(r.tier_io[t], declared_io(f.g, f.c, t, NULL));
	close_to(r.model_io, r.tier_io[2]);
	cr_assert_lt(r.tier_io[0], r.tier_io[1]);
	cr_assert_lt(r.tier_io[1], r.tier_io[2]);
	char text[512];
	plan_describe(&r, f.c, text, sizeof(text));
	char want[128];
	snprintf(want, sizeof(want), "plan mem (model %.4g s, mem %.4g s, ", r.model_io, r.tier_io[0]);
	cr_assert(strncmp(text, want, strlen(want)) == 0, "\"%s\" does not start with \"%s\"", text, want);
	cr_assert(strstr(text, " simulated)") != NULL, "%s", text);
	fix_close(&f);
}

Test(plancheck, a_faster_model_is_kept_and_a_margin_decides)
{
	struct fix f;
	fix_open(&f, "mixed", mixed_dax, 9500000, mixed_model, 1);
	/* Independent runs at the declared runtimes: the model is faster
	 * than every tier, so by default (no margin) it is kept. */
	double model_io = declared_io(f.g, f.c, PLAN_MODEL, f.m);
	double best = INFINITY;
	for (int t = 0; t < 3; t++)
		best = fmin(best, declared_io(f.g, f.c, t, NULL));
	cr_assert_lt(model_io, best, "the crafted model (%g s) should beat every tier (best %g s)", model_io, best);
	struct plan_result r;
	char err[512];
	cr_assert_eq(plan_check(f.g, f.c, &f.sc, f.m, &f.pp, &r, err, sizeof(err)), 0, "%s", err);
	close_to(r.model_io, model_io);
	close_to(r.tier_io[r.best_tier], best);
	cr_assert_eq(r.plan, PLAN_MODEL);
	char text[512];
	plan_describe(&r, f.c, text, sizeof(text));
	cr_assert(strncmp(text, "plan model (", 12) == 0, "%s", text);

	/* Asked for a lead larger than the model has: the best tier; a
	 * little smaller: the model again. */
	double lead = 1 - model_io / best;
	f.pp.margin = lead + 0.01;
	cr_assert_eq(plan_check(f.g, f.c, &f.sc, f.m, &f.pp, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.plan, r.best_tier);
	cr_assert_geq(r.best_tier, 0);
	f.pp.margin = lead * 0.9;
	cr_assert_eq(plan_check(f.g, f.c, &f.sc, f.m, &f.pp, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.plan, PLAN_MODEL);
	fix_close(&f);
}

Test(plancheck, several_scales_are_judged_by_their_mean)
{
	struct fix f;
	fix_open(&f, "mixed", mixed_dax, 9500000, mixed_model, 1);
	/* On a base scale of 2, as --plan-scales 0.98,1,1.02 would be. */
	f.sc.runtime_scale = 2;
	f.pp.nscales = 3;
	f.pp.scales[0] = 0.98;
	f.pp.scales[1] = 1;
	f.pp.scales[2] = 1.02;
	const double at[3] = {2 * 0.98, 2, 2 * 1.02};
	struct plan_result r;
	char err[512];
	cr_assert_eq(plan_check(f.g, f.c, &f.sc, f.m, &f.pp, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.runs, 12u);
	close_to(r.model_io, mean_io(f.g, f.c, PLAN_MODEL, f.m, 3, at));
	int best = -1;
	for (int t = 0; t < 3; t++) {
		close_to(r.tier_io[t], mean_io(f.g, f.c, t, NULL, 3, at));
		if (best < 0 || r.tier_io[t] < r.tier_io[best])
			best = t;
	}
	cr_assert_eq(r.best_tier, best);
	cr_assert_eq(r.plan, r.model_io < r.tier_io[best] ? PLAN_MODEL : best);
	fix_close(&f);
}

Test(plancheck, a_config_the_simulator_cannot_use_fails_with_the_reason)
{
	struct fix f;
	fix_open(&f, "chain", chain_dax, 64000000, pfs_model, 0);
	struct plan_result r;
	char err[512] = "";
	cr_assert_lt(plan_check(f.g, f.c, &f.sc, f.m, &f.pp, &r, err, sizeof(err)), 0);
	cr_assert(strstr(err, "read_bandwidth") != NULL, "error \"%s\" does not name the missing key", err);
	cr_assert_eq(r.plan, PLAN_MODEL);
	/* Bad parameters are refused too. */
	f.pp.nscales = 0;
	cr_assert_eq(plan_check(f.g, f.c, &f.sc, f.m, &f.pp, &r, err, sizeof(err)), -EINVAL);
	fix_close(&f);
}

/* ---- tier_place with the hook, as fs/main.c sets it ---- */

struct hook_ctx {
	const struct tcfg *cfg;
	int calls;
};

static int hook(void *arg, const wf_graph *g, const struct lrn_model *m, struct tpl_plan *out, char *err,
		size_t errlen)
{
	struct hook_ctx *h = arg;
	h->calls++;
	struct sim_config sc = node();
	return plan_check_place(g, h->cfg, &sc, m, out, err, errlen);
}

static struct tpl_decision decide(struct tpl *p, const char *path, uint64_t mem_used)
{
	struct lrn_tier_state ts[3] = {{"mem", 64000000, mem_used}, {"ssd", 1000000000, 0}, {"pfs", 1000000000000ull, 0}};
	struct tpl_decision d;
	tpl_decide(p, path, LRN_KIND_FILE, 0, ts, 3, NULL, NULL, &d);
	return d;
}

static void seen(void *arg, const struct tpl_attachment_info *a)
{
	*(struct tpl_attachment_info *)arg = *a;
}

Test(plancheck, tier_place_follows_the_plan_of_each_attachment)
{
	char *mpath = write_file("pfs-model.json", pfs_model);
	struct tcfg *c = config(64000000, mpath, 1);
	struct tpl *p;
	char err[512];
	cr_assert_eq(tpl_create(c, &p, err, sizeof(err)), 0, "%s", err);
	struct hook_ctx h = {c, 0};
	tpl_set_plan_check(p, hook, &h);
	char *wf = dax_file("chain", chain_dax);
	cr_assert_eq(tpl_attach(p, "run", wf, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(h.calls, 1);
	struct tpl_plan plan;
	cr_assert_eq(tpl_plan_of(p, "run", &plan), 0);
	cr_assert_eq(plan.tier, 0, "plan %d (%s), expected mem", plan.tier, plan.text);
	cr_assert(strncmp(plan.text, "plan mem (model ", 16) == 0, "%s", plan.text);
	cr_assert_eq(tpl_plan_of(p, "elsewhere", &plan), -ENOENT);
	struct tpl_attachment_info info = {0};
	tpl_list(p, seen, &info);
	cr_assert_eq(info.plan_tier, 0);
	cr_assert(info.plan && strncmp(info.plan, "plan mem", 8) == 0);

	/* The workflow's files go to mem although the model says pfs... */
	struct tpl_decision d = decide(p, "run/b", 0);
	cr_assert_eq(d.tier, 0, "tier %d (%s)", d.tier, d.reason);
	cr_assert_str_eq(d.policy, "learned");
	cr_assert(d.known);
	/* ...then to the next tier with room, as the static tier policy. */
	d = decide(p, "run/b", 63000000);
	cr_assert_eq(d.tier, 1, "tier %d (%s)", d.tier, d.reason);
	/* A file the workflow does not name: the fallback. */
	d = decide(p, "run/scratch", 0);
	cr_assert_eq(d.tier, 0);
	cr_assert_str_eq(d.policy, "first");

	/* With the check off, the model places them (pfs). */
	tpl_set_plan_check(p, NULL, NULL);
	cr_assert_eq(tpl_attach(p, "raw", wf, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tpl_plan_of(p, "raw", &plan), 0);
	cr_assert_eq(plan.tier, TPL_PLAN_MODEL);
	cr_assert_str_eq(plan.text, "plan model (no plan check)");
	d = decide(p, "raw/b", 0);
	cr_assert_eq(d.tier, 2, "tier %d (%s)", d.tier, d.reason);
	/* The first attachment keeps its plan. */
	d = decide(p, "run/c", 0);
	cr_assert_eq(d.tier, 0);
	tpl_destroy(p);
	tcfg_free(c);
	free(wf);
	free(mpath);
}

Test(plancheck, a_failed_check_keeps_the_model_and_says_why)
{
	char *mpath = write_file("pfs-model.json", pfs_model);
	struct tcfg *c = config(64000000, mpath, 1);
	struct tcfg *norates = config(64000000, NULL, 0);
	struct tpl *p;
	char err[512];
	cr_assert_eq(tpl_create(c, &p, err, sizeof(err)), 0, "%s", err);
	struct hook_ctx h = {norates, 0}; /* the simulator cannot run this one */
	tpl_set_plan_check(p, hook, &h);
	char *wf = dax_file("chain", chain_dax);
	cr_assert_eq(tpl_attach(p, "", wf, err, sizeof(err)), 0, "%s", err);
	struct tpl_plan plan;
	cr_assert_eq(tpl_plan_of(p, ".", &plan), 0);
	cr_assert_eq(plan.tier, TPL_PLAN_MODEL);
	cr_assert(strstr(plan.text, "plan model (the plan check failed: ") == plan.text, "%s", plan.text);
	cr_assert(strstr(plan.text, "read_bandwidth") != NULL, "%s", plan.text);
	struct tpl_decision d = decide(p, "b", 0);
	cr_assert_eq(d.tier, 2, "the model says pfs; got %d (%s)", d.tier, d.reason);
	tpl_destroy(p);
	tcfg_free(norates);
	tcfg_free(c);
	free(wf);
	free(mpath);
}
