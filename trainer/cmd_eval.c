/*
 * cmd_eval.c - `tiertrain eval`: every placement policy over the paper's
 * two sweeps (workflow scale, memory capacity) in the simulator, with the
 * GA optimum as the bound, and the model's accuracy against GA labels.
 *
 * A configuration is a workflow at one scale and one point of the capacity
 * sweep.  A WORKFLOW argument is a file (its own scale: its task count) or
 * gen:KIND, which generates KIND at each --scales value (seeded) so the
 * scale sweep has real steps.  Policies: each tier alone, random,
 * most-free, the learned policy as the daemon runs it (the plan check of
 * plancheck.h on the configuration, then the model with the
 * configuration's placement as its fallback, or everything on the planned
 * tier), and the GA seeded with all of them and the unchecked model (so
 * the bound is never above any policy).  The unchecked model's I/O time is
 * kept beside the columns (model_io_time), so the check's effect shows.  Accuracy and the confusion matrix
 * compare the model's prediction on the features of the GA's own run with
 * the GA's tier, file by file.
 *
 * Output: a table (or --json in the form the issue fixes), and with --out
 * DIR a report (report.md), the JSON, the plot data and, when gnuplot is
 * installed, fig-scale.svg and fig-memory.svg in the manner of the ASL
 * paper's Figures 3 and 4.
 */
#include "commands.h"
#include "ga.h"
#include "gen.h"
#include "plancheck.h"
#include "sweep.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_POL (TCFG_MAX_TIERS + 4)
#define MAX_SCALES 32

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: tiertrain eval [options] WORKFLOW...\n"
		"\n"
		"Simulate every placement policy on each WORKFLOW over a memory-capacity sweep\n"
		"and, for generated workflows, a scale sweep; the GA optimum is the bound.\n"
		"WORKFLOW is a workflow file or gen:KIND (tiertrain generate --list), generated\n"
		"at every --scales value.\n"
		"\n"
		"  -m, --model MODEL.json   learned policy (default: the shipped etc/tierfs-model.json)\n"
		"  -t, --tiers CONF         tier configuration (default: the shipped etc/tierfs.conf)\n"
		"      --vary TIER=VALUES   capacity sweep (60G..420G, 1G,4G, 0.1x..1x of the\n"
		"                           workflow's bytes); default mem=0.05x,0.1x,0.2x,0.4x,0.8x\n"
		"      --capacity TIER=SIZE fixed capacity of TIER (else a percentage of a node of\n"
		"                           4x the workflow's bytes)\n"
		"      --scales N,N,...     scales of gen:KIND workflows (default: half, one and\n"
		"                           two times the kind's default scale)\n"
		"      --seed S             seed of generation, random policy and GA (default 1)\n"
		"      --nodes N, --cores C simulated nodes and cores per node (default 1 x 4)\n"
		"      --population P, --generations G, --patience K   the GA's (40, 250, 25)\n"
		"      --no-ga              skip the GA bound and the accuracy (fast)\n"
		"      --jitter N           also run the static tiers and the learned policy at N\n"
		"                           task-runtime scales 1 +- 0.5%%, 1%%, ... (default 4; 0 =\n"
		"                           off) and judge by the mean and the spread; the learned\n"
		"                           policy keeps the plan chosen at the declared runtimes\n"
		"      --no-plan-check      the learned column is the model alone (no plan check)\n"
		"      --plan-margin F      the plan check's margin (default %.3g: the model is kept\n"
		"                           when its mean is below the best tier's by this fraction)\n"
		"      --plan-scales X,...  the plan check's runtime scales, each policy judged by\n"
		"                           its mean over them (default 1: the declared runtimes)\n"
		"  -o, --out DIR            write report.md, eval.json, plot data and SVG plots\n"
		"      --json               print {\"configs\": [...]} on stdout instead of the table\n"
		"  -q, --quiet              no progress on the terminal\n",
		PLAN_DEFAULT_MARGIN);
}

struct ev_config {
	char *workflow; /* as given (file path or gen:KIND) */
	char *kind;	/* generator kind or NULL */
	uint32_t scale; /* tasks */
	uint64_t mem;	/* capacity of the swept tier */
	double io[MAX_POL];
	double span[MAX_POL];
	/* With --jitter: the mean I/O time over the runtime scales (1 and
	 * the jittered ones), NAN for the policies not jittered, and the
	 * spread (max - min) of the best static tier's I/O time over them. */
	double io_mean[MAX_POL];
	double noise;
	/* The plan check (when on): its plan and figures, whether it failed
	 * (then the model runs, as in the daemon); the unchecked model's I/O
	 * time and, with --jitter, its mean. */
	int plan, plan_failed;
	struct plan_result pr;
	double model_io, model_io_mean;
};

struct ev {
	const char *model_path;
	struct lrn_model *model; /* for scoring against GA labels */
	struct tcfg *cfg;
	struct sweep_axis axis;
	const char *caps[TCFG_MAX_TIERS];
	size_t ncaps;
	uint32_t nodes, cores;
	uint64_t seed;
	struct ga_params ga;
	int no_ga, quiet, json;
	uint32_t jitter; /* extra runs per policy at runtime scales 1 +- k * JITTER_STEP */
	int plan_check;	 /* the learned column runs the plan check's policy */
	struct plan_params pp;
	size_t npol;
	char pol_names[MAX_POL][64];
	struct ev_config *c;
	size_t nc, capc;
	/* Accuracy of the model against the GA's labels. */
	uint64_t confusion[TCFG_MAX_TIERS][TCFG_MAX_TIERS]; /* [ga][model] */
	uint64_t predicted;
};

static int add_config(struct ev *e, struct ev_config *c)
{
	if (e->nc == e->capc) {
		size_t n = e->capc ? e->capc * 2 : 16;
		struct ev_config *nc = realloc(e->c, n * sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		e->c = nc;
		e->capc = n;
	}
	e->c[e->nc++] = *c;
	return 0;
}

/* The index of the column named name, or -1. */
static int column_of(const struct ev *e, const char *name)
{
	for (size_t p = 0; p < e->npol; p++)
		if (strcmp(e->pol_names[p], name) == 0)
			return (int)p;
	return -1;
}

/* The policy a plan stands for (PLAN_MODEL: the unchecked model). */
static struct lrn_policy *planned_policy(const struct ev *e, int plan, char *err, size_t errlen)
{
	struct lrn_policy *p;
	return plan_policy_create(plan, e->model, e->cfg, e->seed, &p, err, errlen) == 0 ? p : NULL;
}

/* The policy of column i for configuration c (fresh: the random one is
 * seeded per run); the learned column follows c's plan. */
static struct lrn_policy *column_policy(const struct ev *e, const struct ev_config *c, size_t i, char *err,
					size_t errlen)
{
	if (strcmp(e->pol_names[i], "learned") == 0)
		return planned_policy(e, c->plan, err, errlen);
	struct lrn_policy *p;
	if (sweep_policy_create(e->pol_names[i], e->cfg, e->seed, &p, err, errlen) != 0)
		return NULL;
	return p;
}

/* The model against the GA's labels, on the features of the GA's run. */
static int score_model(struct ev *e, const wf_graph *g, const struct sim_config *sc, const int *best,
		       char *err, size_t errlen)
{
	const struct lrn_model *m = e->model;
	struct sim_config rsc = *sc;
	rsc.record_features = 1;
	struct sim *s = NULL;
	int rc = sim_create(g, e->cfg, &rsc, &s, err, errlen);
	if (rc == 0)
		rc = sim_run(s, NULL, best, NULL, err, errlen);
	size_t nf = lrn_model_nfeatures(m), nsf;
	const char *const *names = rc == 0 ? sim_feature_names(s, &nsf) : NULL;
	int map[256];
	int cls_tier[64];
	for (size_t i = 0; rc == 0 && i < nf; i++) {
		map[i] = -1;
		for (size_t j = 0; j < nsf; j++)
			if (strcmp(names[j], lrn_model_feature_name(m, i)) == 0)
				map[i] = (int)j;
		if (nf > 256 || map[i] < 0) {
			snprintf(err, errlen, "%s: feature \"%s\" is not one the simulator computes", e->model_path,
				 lrn_model_feature_name(m, i));
			rc = -EINVAL;
		}
	}
	size_t ncls = lrn_model_nclasses(m);
	for (size_t c = 0; rc == 0 && c < ncls && c < 64; c++)
		cls_tier[c] = tcfg_tier_index(e->cfg, lrn_model_class_name(m, c));
	float x[256], proba[64];
	for (uint32_t f = 0; rc == 0 && f < sim_file_count(s); f++) {
		struct sim_file sf;
		if (sim_file(s, f, &sf) != 0 || !sf.created || !sf.features || sf.tier < 0)
			continue;
		for (size_t i = 0; i < nf; i++)
			x[i] = (float)sf.features[map[i]];
		int c = lrn_model_predict(m, x, proba);
		int t = c >= 0 && (size_t)c < ncls && c < 64 ? cls_tier[c] : -1;
		if (t >= 0)
			e->confusion[sf.tier][t]++;
		e->predicted++;
	}
	sim_destroy(s);
	return rc;
}

struct progress {
	int tty;
	char what[256];
};

static void show(void *arg, uint32_t gen, double best)
{
	struct progress *p = arg;
	if (p->tty) {
		fprintf(stderr, "\r\033[K%s  GA generation %u  best %.4f s", p->what, gen, best);
		fflush(stderr);
	}
}

/* Runtime scale of jitter run k (0-based) of n: 1 - n/2 * JITTER_STEP ..
 * 1 + n/2 * JITTER_STEP without 1 itself. */
#define JITTER_STEP 0.005
static double jitter_scale(uint32_t k, uint32_t n)
{
	int32_t off = (int32_t)k - (int32_t)(n / 2);
	return 1.0 + (off >= 0 ? off + 1 : off) * JITTER_STEP;
}

/* The static tiers and the learned policy again at jittered task runtimes:
 * the simulated I/O time of a workflow whose tasks contend for a shared
 * tier moves by several percent when runtimes move by half a percent (the
 * order in which transfers meet changes), so a difference smaller than
 * that spread says nothing about the policies. */
static int jitter_config(const struct ev *e, const wf_graph *g, const struct sim_config *sc, struct ev_config *c,
			 char *err, size_t errlen)
{
	int best_tier = -1;
	for (size_t t = 0; t < e->cfg->ntiers; t++)
		if (isfinite(c->io[t]) && (best_tier < 0 || c->io[t] < c->io[best_tier]))
			best_tier = (int)t;
	double sum[MAX_POL], lo = INFINITY, hi = -INFINITY;
	if (best_tier >= 0)
		lo = hi = c->io[best_tier];
	int jittered[MAX_POL] = {0};
	/* The unchecked model, when the plan is a tier (else it is the
	 * learned column). */
	double model_sum = c->model_io;
	int model_extra = c->plan != PLAN_MODEL && isfinite(c->model_io);
	for (size_t p = 0; p < e->npol; p++) {
		jittered[p] = (p < e->cfg->ntiers || strcmp(e->pol_names[p], "learned") == 0) && isfinite(c->io[p]);
		sum[p] = c->io[p];
	}
	int rc = 0;
	/* One simulator per runtime scale, run with every jittered column;
	 * each run gets a fresh policy, as in eval_workflow(). */
	for (uint32_t k = 0; k < e->jitter && rc == 0; k++) {
		struct sim_config jsc = *sc;
		jsc.runtime_scale = sc->runtime_scale * jitter_scale(k, e->jitter);
		struct sim *s = NULL;
		rc = sim_create(g, e->cfg, &jsc, &s, err, errlen);
		for (size_t p = 0; p < e->npol && rc == 0; p++) {
			if (!jittered[p] || !isfinite(sum[p]))
				continue;
			double io, span;
			rc = sim_run_policy(s, column_policy(e, c, p, err, errlen), &io, &span, err, errlen);
			if (rc != 0)
				break;
			sum[p] += io;
			if ((int)p == best_tier && isfinite(io)) {
				lo = fmin(lo, io);
				hi = fmax(hi, io);
			}
		}
		if (rc == 0 && model_extra && isfinite(model_sum)) {
			double io, span;
			rc = sim_run_policy(s, planned_policy(e, PLAN_MODEL, err, errlen), &io, &span, err, errlen);
			model_sum += io;
		}
		sim_destroy(s);
	}
	for (size_t p = 0; p < e->npol; p++)
		c->io_mean[p] = jittered[p] ? sum[p] / (e->jitter + 1) : NAN;
	c->noise = best_tier >= 0 && isfinite(hi) ? hi - lo : NAN;
	int learned = column_of(e, "learned");
	c->model_io_mean = model_extra ? model_sum / (e->jitter + 1) : learned >= 0 ? c->io_mean[learned] : NAN;
	return rc;
}

/* Every policy on one workflow at every point of the sweep. */
static int eval_workflow(struct ev *e, const char *label, const char *kind, const wf_graph *g, size_t *done,
			 size_t total)
{
	char err[1024];
	int *best = malloc(sizeof(int) * (wf_file_count(g) ? wf_file_count(g) : 1));
	if (!best)
		return -ENOMEM;
	int rc = 0;
	for (size_t v = 0; v < e->axis.n && rc == 0; v++) {
		struct sim_config sc;
		sim_config_default(&sc);
		sc.nodes = e->nodes;
		sc.cores = e->cores;
		sc.record_features = 0;
		if (sweep_apply_capacities(e->caps, e->ncaps, e->cfg, &sc, err, sizeof(err)) != 0) {
			fprintf(stderr, "tiertrain eval: --capacity %s\n", err);
			free(best);
			return -EINVAL;
		}
		uint64_t mem = sweep_value_bytes(&e->axis.values[v], g);
		sc.capacity[e->axis.tier] = mem;
		sweep_node_capacities(e->cfg, g, &sc);

		struct ev_config c = {.workflow = strdup(label), .kind = kind ? strdup(kind) : NULL,
				      .scale = wf_task_count(g), .mem = mem};
		struct progress pr = {!e->quiet && isatty(2), ""};
		char sz[32];
		snprintf(pr.what, sizeof(pr.what), "[%zu/%zu] %s %s=%s", *done + 1, total, label,
			 e->cfg->tiers[e->axis.tier].name, sweep_size_str(mem, sz, sizeof(sz)));
		if (pr.tty) {
			fprintf(stderr, "\r\033[K%s", pr.what);
			fflush(stderr);
		}
		/* The plan, chosen once at the declared runtimes (as the
		 * daemon does at attach); a failed check keeps the model. */
		c.plan = PLAN_MODEL;
		c.model_io = c.model_io_mean = NAN;
		if (e->plan_check && plan_check(g, e->cfg, &sc, e->model, &e->pp, &c.pr, err, sizeof(err)) < 0) {
			c.plan_failed = 1;
			c.pr.plan = PLAN_MODEL;
		}
		if (e->plan_check)
			c.plan = c.pr.plan;
		struct sim *s = NULL;
		rc = sim_create(g, e->cfg, &sc, &s, err, sizeof(err));
		struct ga_seed seeds[MAX_POL + 1];
		size_t nseeds = 0;
		for (size_t p = 0; rc == 0 && p < e->npol; p++) {
			if (strcmp(e->pol_names[p], "ga") == 0) {
				c.io[p] = c.span[p] = NAN;
				continue;
			}
			/* INFINITY: this policy cannot run it */
			rc = sim_run_policy(s, column_policy(e, &c, p, err, sizeof(err)), &c.io[p], &c.span[p], err,
					    sizeof(err));
			if (rc != 0)
				break;
			/* Seed the GA with every non-static policy (the static
			 * tiers it seeds itself). */
			if (rc == 0 && tcfg_tier_index(e->cfg, e->pol_names[p]) < 0) {
				struct lrn_policy *sp = column_policy(e, &c, p, err, sizeof(err));
				if (!sp)
					rc = -EINVAL;
				else
					seeds[nseeds++] = (struct ga_seed){e->pol_names[p], sp};
			}
			if (rc == 0 && strcmp(e->pol_names[p], "learned") == 0)
				c.model_io = c.io[p];
		}
		/* The unchecked model, when the plan put it aside; it seeds
		 * the GA too. */
		if (rc == 0 && c.plan != PLAN_MODEL) {
			double span;
			rc = sim_run_policy(s, planned_policy(e, PLAN_MODEL, err, sizeof(err)), &c.model_io, &span, err,
					    sizeof(err));
			struct lrn_policy *sp = rc == 0 ? planned_policy(e, PLAN_MODEL, err, sizeof(err)) : NULL;
			if (sp)
				seeds[nseeds++] = (struct ga_seed){"model", sp};
			else if (rc == 0)
				rc = -EINVAL;
		}
		sim_destroy(s);
		c.noise = NAN;
		for (size_t p = 0; p < MAX_POL; p++)
			c.io_mean[p] = NAN;
		if (rc == 0 && e->jitter)
			rc = jitter_config(e, g, &sc, &c, err, sizeof(err));
		if (rc == 0 && !e->no_ga) {
			struct ga_result gr;
			size_t gcol = e->npol - 1;
			rc = ga_search(g, e->cfg, &sc, &e->ga, seeds, nseeds, best, &gr, show, &pr, err, sizeof(err));
			if (rc == 0) {
				c.io[gcol] = gr.best_io_time;
				c.span[gcol] = gr.best_makespan;
				rc = score_model(e, g, &sc, best, err, sizeof(err));
			}
		}
		for (size_t i = 0; i < nseeds; i++)
			lrn_policy_destroy(seeds[i].policy);
		if (pr.tty)
			fprintf(stderr, "\r\033[K");
		if (rc != 0) {
			fprintf(stderr, "tiertrain eval: %s (%s): %s\n", label, pr.what, err);
			free(c.workflow);
			free(c.kind);
			break;
		}
		if (add_config(e, &c) != 0) {
			rc = -ENOMEM;
			break;
		}
		(*done)++;
		if (!e->json) {
			const struct ev_config *k = &e->c[e->nc - 1];
			const char *base = strrchr(k->workflow, '/');
			printf("%-34.34s %7u %9s", base ? base + 1 : k->workflow, k->scale,
			       sweep_size_str(k->mem, sz, sizeof(sz)));
			for (size_t p = 0; p < e->npol; p++)
				printf(" %10.4f", k->io[p]);
			if (e->plan_check)
				printf("  %s", k->plan_failed ? "model(check failed)"
					   : k->plan >= 0 ? e->cfg->tiers[k->plan].name : "model");
			putchar('\n');
			fflush(stdout);
		}
	}
	free(best);
	return rc;
}

static int parse_scales(const char *s, uint32_t *out, size_t *n)
{
	*n = 0;
	for (const char *p = s;;) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p || v == 0 || v > UINT32_MAX || (*end != ',' && *end != '\0') || *n == MAX_SCALES) {
			fprintf(stderr, "tiertrain eval: --scales \"%s\": expected up to %d whole numbers above 0, comma-separated\n",
				s, MAX_SCALES);
			return -1;
		}
		out[(*n)++] = (uint32_t)v;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

/* Seconds, or null when not finite (could not run, or not measured). */
static void json_seconds(FILE *fp, double v)
{
	fprintf(fp, isfinite(v) ? "%.9g" : "null", v);
}

/* {POLICY: seconds, ...} for the policies with a value (NAN: not run;
 * infinite: the policy could not run the workflow, null). */
static void json_policy_values(FILE *fp, const struct ev *e, const double *v)
{
	int first = 1;
	fputc('{', fp);
	for (size_t p = 0; p < e->npol; p++) {
		if (isnan(v[p]))
			continue;
		fprintf(fp, "%s", first ? "" : ", ");
		first = 0;
		tt_json_str(fp, e->pol_names[p]);
		fprintf(fp, ": ");
		json_seconds(fp, v[p]);
	}
	fputc('}', fp);
}

/* , "key": seconds (null: could not run; NAN: not measured, also null) */
static void json_number(FILE *fp, const char *key, double v)
{
	fprintf(fp, ", \"%s\": ", key);
	json_seconds(fp, v);
}

static void print_json(FILE *fp, const struct ev *e)
{
	fprintf(fp, "{\"tiers\": ");
	tt_json_str(fp, e->cfg->file);
	fprintf(fp, ", \"model\": ");
	tt_json_str(fp, e->model_path);
	fprintf(fp, ", \"swept_tier\": ");
	tt_json_str(fp, e->cfg->tiers[e->axis.tier].name);
	fprintf(fp, ", \"configs\": [");
	for (size_t i = 0; i < e->nc; i++) {
		const struct ev_config *c = &e->c[i];
		fprintf(fp, "%s\n  {\"workflow\": ", i ? "," : "");
		tt_json_str(fp, c->workflow);
		fprintf(fp, ", \"scale\": %u, \"mem_capacity\": %llu, \"io_time\": ", c->scale,
			(unsigned long long)c->mem);
		json_policy_values(fp, e, c->io);
		fprintf(fp, ", \"makespan\": ");
		json_policy_values(fp, e, c->span);
		if (e->jitter) {
			fprintf(fp, ", \"io_time_mean\": ");
			json_policy_values(fp, e, c->io_mean);
			json_number(fp, "noise", c->noise);
		}
		/* Outside io_time, whose keys the issue fixes: the plan the
		 * learned column followed and the unchecked model. */
		fprintf(fp, ", \"learned_plan\": ");
		tt_json_str(fp, c->plan >= 0 ? e->cfg->tiers[c->plan].name : "model");
		json_number(fp, "model_io_time", c->model_io);
		if (e->jitter)
			json_number(fp, "model_io_time_mean", c->model_io_mean);
		fprintf(fp, ", \"plan_check\": ");
		if (!e->plan_check || c->plan_failed) {
			fprintf(fp, e->plan_check ? "\"failed\"" : "null");
		} else {
			fprintf(fp, "{\"model\": ");
			json_seconds(fp, c->pr.model_io);
			for (size_t t = 0; t < e->cfg->ntiers; t++) {
				fprintf(fp, ", ");
				tt_json_str(fp, e->cfg->tiers[t].name);
				fprintf(fp, ": ");
				json_seconds(fp, c->pr.tier_io[t]);
			}
			fprintf(fp, "}");
		}
		fprintf(fp, "}");
	}
	fprintf(fp, "\n]");
	if (e->predicted) {
		uint64_t right = 0;
		for (size_t t = 0; t < e->cfg->ntiers; t++)
			right += e->confusion[t][t];
		fprintf(fp, ", \"accuracy\": %.6f, \"confusion\": {\"rows\": \"ga\", \"columns\": \"model\", \"tiers\": [",
			(double)right / (double)e->predicted);
		for (size_t t = 0; t < e->cfg->ntiers; t++) {
			fprintf(fp, "%s", t ? ", " : "");
			tt_json_str(fp, e->cfg->tiers[t].name);
		}
		fprintf(fp, "], \"counts\": [");
		for (size_t a = 0; a < e->cfg->ntiers; a++) {
			fprintf(fp, "%s[", a ? ", " : "");
			for (size_t b = 0; b < e->cfg->ntiers; b++)
				fprintf(fp, "%s%llu", b ? ", " : "", (unsigned long long)e->confusion[a][b]);
			fprintf(fp, "]");
		}
		fprintf(fp, "]}");
	}
	fprintf(fp, "}\n");
}

/* The verdicts the issue asks for: learned vs the best static policy in
 * every configuration, and vs the GA on average. */
struct verdict {
	size_t at_or_below, configs;
	size_t mean_at_or_below; /* by the mean over the jittered runtimes */
	size_t beyond_noise;	 /* learned above the best static by more than its spread */
	size_t jittered;
	double mean_over_ga; /* mean of learned/ga - 1 */
	double worst_vs_static; /* largest learned/best static - 1 */
	const char *worst_cfg;
	uint32_t worst_scale;
	uint64_t worst_mem;
	size_t plans[TCFG_MAX_TIERS]; /* configurations whose plan was each tier */
	size_t plan_failed;
};

/* Judge the learned column (model = 0) or the unchecked model (1). */
static void judge(const struct ev *e, int model, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	int learned = column_of(e, "learned"), ga = column_of(e, "ga");
	size_t nga = 0;
	v->worst_vs_static = -INFINITY;
	for (size_t i = 0; i < e->nc && learned >= 0; i++) {
		const struct ev_config *c = &e->c[i];
		double best_static = INFINITY;
		for (size_t t = 0; t < e->cfg->ntiers; t++)
			if (c->io[t] < best_static)
				best_static = c->io[t];
		double io = model ? c->model_io : c->io[learned];
		double io_mean = model ? c->model_io_mean : c->io_mean[learned];
		v->configs++;
		if (io <= best_static * (1 + 1e-9))
			v->at_or_below++;
		if (c->plan >= 0)
			v->plans[c->plan]++;
		v->plan_failed += c->plan_failed;
		if (e->jitter && isfinite(io_mean)) {
			double best_mean = INFINITY;
			for (size_t t = 0; t < e->cfg->ntiers; t++)
				if (c->io_mean[t] < best_mean)
					best_mean = c->io_mean[t];
			v->jittered++;
			if (io_mean <= best_mean * (1 + 1e-9))
				v->mean_at_or_below++;
			if (io > best_static + (isfinite(c->noise) ? c->noise : 0) + 1e-9 * best_static)
				v->beyond_noise++;
		}
		double r = io / best_static - 1;
		if (r > v->worst_vs_static) {
			v->worst_vs_static = r;
			v->worst_cfg = c->workflow;
			v->worst_scale = c->scale;
			v->worst_mem = c->mem;
		}
		if (ga >= 0 && isfinite(c->io[ga]) && c->io[ga] > 0) {
			v->mean_over_ga += io / c->io[ga] - 1;
			nga++;
		}
	}
	v->mean_over_ga = nga ? v->mean_over_ga / (double)nga : NAN;
}

static int write_file(const char *dir, const char *name, char *path, size_t len, FILE **fp)
{
	snprintf(path, len, "%s/%s", dir, name);
	*fp = fopen(path, "w");
	if (!*fp) {
		fprintf(stderr, "tiertrain eval: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int close_file(FILE *fp, const char *path)
{
	int bad = ferror(fp);
	if (fclose(fp) != 0 || bad) {
		fprintf(stderr, "tiertrain eval: writing %s failed\n", path);
		return -1;
	}
	return 0;
}

/* Plot data and gnuplot scripts: I/O time against scale (per generated
 * kind, at the middle sweep point) and against memory (per workflow, at
 * its largest scale). */
static int write_plots(const struct ev *e, const char *dir, int *plotted)
{
	char path[4096];
	FILE *fp;
	*plotted = 0;
	if (write_file(dir, "plot-data.tsv", path, sizeof(path), &fp))
		return -1;
	fprintf(fp, "# workflow\tkind\tscale\tmem_bytes");
	for (size_t p = 0; p < e->npol; p++)
		fprintf(fp, "\t%s", e->pol_names[p]);
	fputc('\n', fp);
	for (size_t i = 0; i < e->nc; i++) {
		const struct ev_config *c = &e->c[i];
		fprintf(fp, "%s\t%s\t%u\t%llu", c->workflow, c->kind ? c->kind : "-", c->scale,
			(unsigned long long)c->mem);
		for (size_t p = 0; p < e->npol; p++)
			fprintf(fp, isfinite(c->io[p]) ? "\t%.9g" : "\tNaN", c->io[p]);
		fputc('\n', fp);
	}
	if (close_file(fp, path))
		return -1;

	/* One block per curve: fig-memory.dat (x = mem GiB), fig-scale.dat
	 * (x = tasks), separated by two blank lines for gnuplot's index. */
	FILE *fm, *fs;
	char pm[4096], ps[4096];
	if (write_file(dir, "fig-memory.dat", pm, sizeof(pm), &fm))
		return -1;
	if (write_file(dir, "fig-scale.dat", ps, sizeof(ps), &fs)) {
		fclose(fm);
		return -1;
	}
	size_t mem_blocks = 0, scale_blocks = 0;
	char titles_m[16][128], titles_s[16][128];
	for (size_t i = 0; i < e->nc; i++) {
		const struct ev_config *c = &e->c[i];
		int first_of_wf = i == 0 || strcmp(e->c[i - 1].workflow, c->workflow) != 0 ||
				  e->c[i - 1].scale != c->scale;
		if (!first_of_wf)
			continue;
		/* Memory sweep of the largest scale of this workflow. */
		int largest = 1;
		for (size_t j = 0; j < e->nc; j++)
			if (strcmp(e->c[j].workflow, c->workflow) == 0 && e->c[j].scale > c->scale)
				largest = 0;
		if (largest && mem_blocks < 16) {
			snprintf(titles_m[mem_blocks++], sizeof(titles_m[0]), "%s (%u tasks)", c->workflow, c->scale);
			for (size_t j = i; j < e->nc && strcmp(e->c[j].workflow, c->workflow) == 0 &&
					   e->c[j].scale == c->scale;
			     j++) {
				fprintf(fm, "%.6g", (double)e->c[j].mem / 1073741824.0);
				for (size_t p = 0; p < e->npol; p++)
					fprintf(fm, isfinite(e->c[j].io[p]) ? " %.9g" : " NaN", e->c[j].io[p]);
				fputc('\n', fm);
			}
			fprintf(fm, "\n\n");
		}
		/* Scale sweep of generated kinds, at the middle sweep point. */
		int first_of_kind = c->kind != NULL;
		for (size_t j = 0; first_of_kind && j < i; j++)
			if (strcmp(e->c[j].workflow, c->workflow) == 0)
				first_of_kind = 0;
		if (first_of_kind && scale_blocks < 16) {
			size_t mid = e->axis.n / 2, k = 0, pts = 0;
			for (size_t j = 0; j < e->nc; j++) {
				if (strcmp(e->c[j].workflow, c->workflow) != 0)
					continue;
				if (k++ % e->axis.n != mid)
					continue;
				fprintf(fs, "%u", e->c[j].scale);
				for (size_t p = 0; p < e->npol; p++)
					fprintf(fs, isfinite(e->c[j].io[p]) ? " %.9g" : " NaN", e->c[j].io[p]);
				fputc('\n', fs);
				pts++;
			}
			fprintf(fs, "\n\n");
			snprintf(titles_s[scale_blocks++], sizeof(titles_s[0]), "%s", c->workflow);
		}
	}
	if (close_file(fm, pm) || close_file(fs, ps))
		return -1;

	static const char *const figs[2] = {"memory", "scale"};
	for (int f = 0; f < 2; f++) {
		size_t nb = f == 0 ? mem_blocks : scale_blocks;
		if (nb == 0)
			continue;
		char name[64];
		snprintf(name, sizeof(name), "fig-%s.gp", figs[f]);
		if (write_file(dir, name, path, sizeof(path), &fp))
			return -1;
		size_t cols = nb < 3 ? nb : 3, rows = (nb + cols - 1) / cols;
		fprintf(fp,
			"set terminal svg size %zu,%zu dynamic font 'sans,11'\nset output 'fig-%s.svg'\n"
			"set multiplot layout %zu,%zu title 'Simulated workflow I/O time by placement policy (%s sweep)'\n"
			"set key top left font ',9'\nset grid\nset ylabel 'I/O time (s)'\nset xlabel '%s'\n",
			cols * 480, rows * 360, figs[f], rows, cols, figs[f],
			f == 0 ? "memory capacity (GiB)" : "workflow scale (tasks)");
		if (f == 1)
			fprintf(fp, "set logscale x 2\n");
		for (size_t b = 0; b < nb; b++) {
			fprintf(fp, "set title '%s' noenhanced\nplot ", f == 0 ? titles_m[b] : titles_s[b]);
			for (size_t p = 0; p < e->npol; p++)
				fprintf(fp, "%s'fig-%s.dat' index %zu using 1:%zu with linespoints title '%s'", p ? ", " : "",
					figs[f], b, p + 2, e->pol_names[p]);
			fputc('\n', fp);
		}
		fprintf(fp, "unset multiplot\n");
		if (close_file(fp, path))
			return -1;
		if (access("/usr/bin/gnuplot", X_OK) == 0) {
			char cmd[8192];
			snprintf(cmd, sizeof(cmd), "cd '%s' && /usr/bin/gnuplot %s", dir, name);
			if (system(cmd) == 0)
				(*plotted)++;
			else
				fprintf(stderr, "tiertrain eval: gnuplot failed on %s/%s\n", dir, name);
		}
	}
	return 0;
}

static void print_judged(FILE *fp, const struct ev *e, const char *who, const struct verdict *v)
{
	char sz[32];
	if (v->configs)
		fprintf(fp,
			"%s at or below the best static policy in %zu of %zu configurations (worst: %+.1f%% on %s, %u tasks, %s=%s)\n",
			who, v->at_or_below, v->configs, 100 * v->worst_vs_static, v->worst_cfg ? v->worst_cfg : "-",
			v->worst_scale, e->cfg->tiers[e->axis.tier].name, sweep_size_str(v->worst_mem, sz, sizeof(sz)));
	if (v->jittered)
		fprintf(fp,
			"with task runtimes jittered by up to %.1f%% (%u more runs): %s at or below the best static policy's mean I/O time in %zu of %zu configurations; above the best static policy by more than that policy's own spread in %zu\n",
			100 * JITTER_STEP * (e->jitter / 2 + (e->jitter % 2)), e->jitter, who, v->mean_at_or_below,
			v->jittered, v->beyond_noise);
	if (!isnan(v->mean_over_ga))
		fprintf(fp, "%s above the GA optimum by %.1f%% on average\n", who, 100 * v->mean_over_ga);
}

static void print_verdict(FILE *fp, const struct ev *e, const struct verdict *v, const struct verdict *mv)
{
	print_judged(fp, e, e->plan_check ? "learned (plan-checked)" : "learned", v);
	if (e->plan_check && v->configs) {
		size_t fell = 0;
		for (size_t t = 0; t < e->cfg->ntiers; t++)
			fell += v->plans[t];
		fprintf(fp, "plan check (margin %.3g, runtime scales", e->pp.margin);
		for (size_t k = 0; k < e->pp.nscales; k++)
			fprintf(fp, "%s%g", k ? "," : " ", e->pp.scales[k]);
		fprintf(fp, "): model kept in %zu of %zu configurations, fell back in %zu (", v->configs - fell,
			v->configs, fell);
		for (size_t t = 0; t < e->cfg->ntiers; t++)
			fprintf(fp, "%s%s %zu", t ? ", " : "", e->cfg->tiers[t].name, v->plans[t]);
		fprintf(fp, "); check failed (model kept) in %zu\n", v->plan_failed);
		print_judged(fp, e, "unchecked model", mv);
	}
	if (e->predicted) {
		uint64_t right = 0;
		for (size_t t = 0; t < e->cfg->ntiers; t++)
			right += e->confusion[t][t];
		fprintf(fp, "model accuracy against GA labels: %.1f%% of %llu files\nconfusion (rows: GA tier, columns: model tier):\n%8s",
			100.0 * (double)right / (double)e->predicted, (unsigned long long)e->predicted, "");
		for (size_t b = 0; b < e->cfg->ntiers; b++)
			fprintf(fp, " %8s", e->cfg->tiers[b].name);
		fputc('\n', fp);
		for (size_t a = 0; a < e->cfg->ntiers; a++) {
			fprintf(fp, "%8s", e->cfg->tiers[a].name);
			for (size_t b = 0; b < e->cfg->ntiers; b++)
				fprintf(fp, " %8llu", (unsigned long long)e->confusion[a][b]);
			fputc('\n', fp);
		}
	}
}

static int write_report(const struct ev *e, const char *dir, const struct verdict *v, const struct verdict *mv)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "tiertrain eval: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	char path[4096];
	FILE *fp;
	if (write_file(dir, "eval.json", path, sizeof(path), &fp))
		return -1;
	print_json(fp, e);
	if (close_file(fp, path))
		return -1;
	int plotted = 0;
	if (write_plots(e, dir, &plotted))
		return -1;
	if (write_file(dir, "report.md", path, sizeof(path), &fp))
		return -1;
	fprintf(fp, "# tiertrain eval\n\nTiers: `%s`; model: `%s`; %u node(s) x %u cores; simulated I/O time in seconds (summed over tasks).\n\n",
		e->cfg->file, e->model_path, e->nodes, e->cores);
	if (e->plan_check)
		fprintf(fp, "learned: the daemon's learned policy, plan check included (the model, or every file on the tier of the plan column when the model is not clearly better in simulation); unchecked model: the model alone.\n\n");
	if (e->jitter)
		fprintf(fp, "spread: how far the best static tier's I/O time moves when every task runtime is scaled by 1 +- up to %.1f%% (%u runs); a difference between policies smaller than that is noise of the schedule, not a property of the placement.\n\n",
			100 * JITTER_STEP * (e->jitter / 2 + (e->jitter % 2)), e->jitter);
	fprintf(fp, "| workflow | tasks | %s |", e->cfg->tiers[e->axis.tier].name);
	for (size_t p = 0; p < e->npol; p++)
		fprintf(fp, " %s |", e->pol_names[p]);
	if (e->jitter)
		fprintf(fp, " spread |");
	fprintf(fp, " unchecked model | plan |");
	fprintf(fp, "\n|---|---:|---:|");
	for (size_t p = 0; p < e->npol + (e->jitter > 0) + 1; p++)
		fprintf(fp, "---:|");
	fprintf(fp, "---|");
	fputc('\n', fp);
	for (size_t i = 0; i < e->nc; i++) {
		const struct ev_config *c = &e->c[i];
		char sz[32];
		fprintf(fp, "| %s | %u | %s |", c->workflow, c->scale, sweep_size_str(c->mem, sz, sizeof(sz)));
		for (size_t p = 0; p < e->npol; p++)
			fprintf(fp, isfinite(c->io[p]) ? " %.3f |" : " - |", c->io[p]);
		if (e->jitter)
			fprintf(fp, isfinite(c->noise) ? " %.3f |" : " - |", c->noise);
		fprintf(fp, isfinite(c->model_io) ? " %.3f |" : " - |", c->model_io);
		fprintf(fp, " %s |\n", !e->plan_check ? "-" : c->plan_failed ? "model (check failed)"
							: c->plan >= 0 ? e->cfg->tiers[c->plan].name : "model");
	}
	fprintf(fp, "\n```\n");
	print_verdict(fp, e, v, mv);
	fprintf(fp, "```\n");
	if (plotted)
		fprintf(fp, "\n![I/O time against memory](fig-memory.svg)\n\n![I/O time against scale](fig-scale.svg)\n");
	return close_file(fp, path);
}

enum { O_VARY = 256, O_CAPACITY, O_SCALES, O_SEED, O_NOGA, O_JSON, O_JITTER, O_NOPLAN, O_PMARGIN, O_PSCALES };

/* --plan-scales: 1..PLAN_MAX_SCALES numbers above 0, comma-separated. */
static int parse_plan_scales(const char *s, struct plan_params *pp)
{
	pp->nscales = 0;
	for (const char *p = s;;) {
		char *end;
		double v = strtod(p, &end);
		if (end == p || !(v > 0) || v > 100 || (*end != ',' && *end != '\0') || pp->nscales == PLAN_MAX_SCALES) {
			fprintf(stderr, "tiertrain eval: --plan-scales \"%s\": expected 1 to %d numbers above 0, comma-separated\n",
				s, PLAN_MAX_SCALES);
			return -1;
		}
		pp->scales[pp->nscales++] = v;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

int tt_cmd_eval(int argc, char **argv)
{
	static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
					     {"tiers", required_argument, NULL, 't'},
					     {"vary", required_argument, NULL, O_VARY},
					     {"capacity", required_argument, NULL, O_CAPACITY},
					     {"scales", required_argument, NULL, O_SCALES},
					     {"seed", required_argument, NULL, O_SEED},
					     TT_SIM_OPTIONS,
					     {"no-ga", no_argument, NULL, O_NOGA},
					     {"jitter", required_argument, NULL, O_JITTER},
					     {"no-plan-check", no_argument, NULL, O_NOPLAN},
					     {"plan-margin", required_argument, NULL, O_PMARGIN},
					     {"plan-scales", required_argument, NULL, O_PSCALES},
					     {"out", required_argument, NULL, 'o'},
					     {"json", no_argument, NULL, O_JSON},
					     {"quiet", no_argument, NULL, 'q'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct ev e = {.nodes = 1, .cores = 4, .seed = 1, .jitter = 4, .plan_check = 1};
	ga_params_default(&e.ga);
	plan_params_default(&e.pp);
	const char *tiers = NULL, *vary = NULL, *out_dir = NULL;
	uint32_t scales[MAX_SCALES];
	size_t nscales = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "m:t:o:qh", opts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'm':
			e.model_path = optarg;
			break;
		case 't':
			tiers = optarg;
			break;
		case O_VARY:
			vary = optarg;
			break;
		case O_CAPACITY:
			if (e.ncaps == TCFG_MAX_TIERS) {
				fprintf(stderr, "tiertrain eval: at most %d --capacity options\n", TCFG_MAX_TIERS);
				return 2;
			}
			e.caps[e.ncaps++] = optarg;
			break;
		case O_SCALES:
			bad = parse_scales(optarg, scales, &nscales);
			break;
		case O_SEED:
			bad = tt_parse_u64("eval", "--seed", optarg, &e.seed);
			break;
		case O_NOGA:
			e.no_ga = 1;
			break;
		case O_JITTER:
			bad = tt_parse_u32("eval", "--jitter", optarg, &e.jitter);
			if (!bad && e.jitter > 20) {
				fprintf(stderr, "tiertrain eval: --jitter %s: at most 20 runs (runtimes +-5%%)\n", optarg);
				bad = 1;
			}
			break;
		case O_NOPLAN:
			e.plan_check = 0;
			break;
		case O_PMARGIN: {
			char *end;
			e.pp.margin = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' || !(e.pp.margin >= 0 && e.pp.margin < 1)) {
				fprintf(stderr, "tiertrain eval: --plan-margin \"%s\": expected a fraction in [0, 1)\n", optarg);
				bad = 1;
			}
			break;
		}
		case O_PSCALES:
			bad = parse_plan_scales(optarg, &e.pp);
			break;
		case 'o':
			out_dir = optarg;
			break;
		case O_JSON:
			e.json = 1;
			break;
		case 'q':
			e.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			bad = tt_sim_option("eval", c, optarg, &e.nodes, &e.cores, &e.ga);
			if (bad < 0) {
				usage(stderr);
				return 2;
			}
		}
		if (bad)
			return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "tiertrain eval: expected at least one WORKFLOW (a file or gen:KIND)\n");
		usage(stderr);
		return 2;
	}
	e.ga.seed = e.seed;
	char conf_buf[4096], model_buf[4096], err[1024];
	if (!tiers)
		tiers = tt_etc_path("tierfs.conf", conf_buf, sizeof(conf_buf));
	if (!e.model_path)
		e.model_path = tt_etc_path("tierfs-model.json", model_buf, sizeof(model_buf));
	if (tcfg_load(tiers, &e.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "tiertrain eval: %s\n", err);
		return 1;
	}
	int status = 1;
	if (lrn_model_load(e.model_path, &e.model) != 0) {
		fprintf(stderr, "tiertrain eval: %s\n", lrn_last_error());
		goto out;
	}
	/* Refuse a model that cannot be used before spending minutes. */
	struct lrn_policy *probe = planned_policy(&e, PLAN_MODEL, err, sizeof(err));
	if (!probe) {
		fprintf(stderr, "tiertrain eval: %s: %s\n", e.model_path, err);
		goto out;
	}
	lrn_policy_destroy(probe);
	char spec[256];
	if (!vary) {
		int mem = tcfg_tier_index(e.cfg, "mem");
		snprintf(spec, sizeof(spec), "%s=0.05x,0.1x,0.2x,0.4x,0.8x", e.cfg->tiers[mem >= 0 ? mem : 0].name);
		vary = spec;
	}
	if (sweep_parse_axis(vary, e.cfg, &e.axis, err, sizeof(err)) != 0) {
		fprintf(stderr, "tiertrain eval: --vary %s\n", err);
		status = 2;
		goto out;
	}
	for (size_t t = 0; t < e.cfg->ntiers; t++)
		snprintf(e.pol_names[e.npol++], sizeof(e.pol_names[0]), "%s", e.cfg->tiers[t].name);
	static const char *const others[] = {"random", "most-free", "learned", "ga"};
	for (size_t i = 0; i < 4; i++)
		if (!(e.no_ga && strcmp(others[i], "ga") == 0))
			snprintf(e.pol_names[e.npol++], sizeof(e.pol_names[0]), "%s", others[i]);

	/* Check every argument before the first simulation. */
	size_t total = 0;
	for (int a = optind; a < argc; a++) {
		if (strncmp(argv[a], "gen:", 4) == 0) {
			const struct gen_kind_info *k = gen_kind_find(argv[a] + 4);
			if (!k) {
				fprintf(stderr, "tiertrain eval: %s: no such generator kind (tiertrain generate --list)\n",
					argv[a]);
				status = 2;
				goto out;
			}
			total += (nscales ? nscales : 3) * e.axis.n;
		} else {
			if (access(argv[a], R_OK) != 0) {
				fprintf(stderr, "tiertrain eval: %s: %s\n", argv[a], strerror(errno));
				goto out;
			}
			total += e.axis.n;
		}
	}
	if (!e.json) {
		char sz[32];
		printf("%-34s %7s %9s", "workflow", "tasks", e.cfg->tiers[e.axis.tier].name);
		for (size_t p = 0; p < e.npol; p++)
			printf(" %10s", e.pol_names[p]);
		printf("%s   (simulated I/O time, s; sweep %s from %s)\n", e.plan_check ? "  plan" : "", e.cfg->tiers[e.axis.tier].name,
		       e.axis.values[0].relative ? "multiples of each workflow's bytes" : sweep_size_str((uint64_t)e.axis.values[0].v, sz, sizeof(sz)));
	}
	size_t done = 0;
	for (int a = optind; a < argc; a++) {
		if (strncmp(argv[a], "gen:", 4) == 0) {
			const struct gen_kind_info *k = gen_kind_find(argv[a] + 4);
			uint32_t def[3] = {k->default_scale / 2 > k->min_scale ? k->default_scale / 2 : k->min_scale,
					   k->default_scale, k->default_scale * 2};
			const uint32_t *sc = nscales ? scales : def;
			size_t ns = nscales ? nscales : 3;
			for (size_t i = 0; i < ns; i++) {
				char *json = NULL;
				size_t len = 0;
				wf_graph *g = NULL;
				if (gen_workflow(k->name, sc[i], e.seed, NULL, &json, &len, err, sizeof(err)) != 0 ||
				    wf_load_buffer(json, len, argv[a], NULL, &g, err, sizeof(err)) != 0) {
					fprintf(stderr, "tiertrain eval: %s at scale %u: %s\n", argv[a], sc[i], err);
					free(json);
					goto out;
				}
				free(json);
				int rc = eval_workflow(&e, argv[a], k->name, g, &done, total);
				wf_destroy(g);
				if (rc != 0)
					goto out;
			}
		} else {
			wf_graph *g;
			if (wf_load(argv[a], NULL, &g, err, sizeof(err)) != 0) {
				fprintf(stderr, "tiertrain eval: %s\n", err);
				goto out;
			}
			int rc = eval_workflow(&e, argv[a], NULL, g, &done, total);
			wf_destroy(g);
			if (rc != 0)
				goto out;
		}
	}
	struct verdict v, mv;
	judge(&e, 0, &v);
	judge(&e, 1, &mv);
	if (e.json)
		print_json(stdout, &e);
	else
		print_verdict(stdout, &e, &v, &mv);
	if (out_dir && write_report(&e, out_dir, &v, &mv) != 0)
		goto out;
	if (out_dir && !e.json)
		printf("report: %s/report.md\n", out_dir);
	status = 0;
out:
	for (size_t i = 0; i < e.nc; i++) {
		free(e.c[i].workflow);
		free(e.c[i].kind);
	}
	free(e.c);
	lrn_model_destroy(e.model);
	tcfg_free(e.cfg);
	return status;
}
