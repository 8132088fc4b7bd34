/*
 * simbench - speed of the tiered-storage simulator (tier_sim): ms per
 * simulated workflow and ns per event, for each static policy, for a
 * replayed per-file tier vector without feature records (what the genetic
 * algorithm will run thousands of times), with records on, and the plan
 * check the daemon runs at attach (plancheck.h: the model and each tier,
 * at the declared task runtimes by default).  Thread CPU time, best of
 * several passes, so other jobs on a shared machine matter little.
 * Prints figures; no thresholds.
 *
 *   simbench [-c CONF] [-m MODEL] [--capacity TIER=SIZE]... [--nodes N] [--cores C] WORKFLOW...
 *
 * Without -c it reads the shipped etc/tierfs.conf with mem=64G, ssd=512G,
 * pfs=100T (its capacities are percentages of filesystems); without -m the
 * shipped etc/tierfs-model.json.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plancheck.h"
#include "sim.h"

static double cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Best ns per run over 5 passes of enough runs to last about 50 ms. */
static int measure(struct sim *s, enum lrn_static_kind kind, int tier, const int *vec,
		   double *ns_run, struct sim_result *r)
{
	char err[512];
	*ns_run = 1e300;
	int reps = 1;
	for (int pass = 0; pass < 6; pass++) {
		double t0 = cpu_ns();
		for (int i = 0; i < reps; i++) {
			struct lrn_policy *p = vec ? NULL : lrn_policy_static_create(kind, tier, 1);
			int rc = sim_run(s, p, vec, r, err, sizeof(err));
			lrn_policy_destroy(p);
			if (rc) {
				fprintf(stderr, "simbench: %s\n", err);
				return rc;
			}
		}
		double per = (cpu_ns() - t0) / reps;
		if (pass == 0)
			reps = per > 0 ? (int)(50e6 / per) + 1 : 1000;
		else if (per < *ns_run)
			*ns_run = per;
	}
	return 0;
}

/* Best ms per plan check over 5 passes (the first sizes the passes). */
static int measure_check(const wf_graph *g, const struct tcfg *cfg, const struct sim_config *sc,
			 const struct lrn_model *m, double *ns_check, struct plan_result *r)
{
	char err[512];
	struct plan_params pp;
	plan_params_default(&pp);
	*ns_check = 1e300;
	int reps = 1;
	for (int pass = 0; pass < 6; pass++) {
		double t0 = cpu_ns();
		for (int i = 0; i < reps; i++)
			if (plan_check(g, cfg, sc, m, &pp, r, err, sizeof(err)) != 0) {
				fprintf(stderr, "simbench: plan check: %s\n", err);
				return -1;
			}
		double per = (cpu_ns() - t0) / reps;
		if (pass == 0)
			reps = per > 0 ? (int)(50e6 / per) + 1 : 100;
		else if (per < *ns_check)
			*ns_check = per;
	}
	return 0;
}

static void row(const char *wf, const char *what, double ns_run, const struct sim_result *r)
{
	printf("%-28s %-22s %10.3f %10llu %10.1f %14.3f\n", wf, what, ns_run / 1e6,
	       (unsigned long long)r->events, ns_run / (double)(r->events ? r->events : 1),
	       r->io_time);
}

int main(int argc, char **argv)
{
	const char *conf = TIERFS_SOURCE_DIR "/etc/tierfs.conf";
	const char *model_path = TIERFS_SOURCE_DIR "/etc/tierfs-model.json";
	const char *caps[TCFG_MAX_TIERS * 2];
	size_t ncaps = 0;
	uint32_t nodes = 1, cores = 4;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
			model_path = argv[++i];
		else if (strcmp(argv[i], "--capacity") == 0 && i + 1 < argc &&
			 ncaps < sizeof(caps) / sizeof(caps[0]))
			caps[ncaps++] = argv[++i];
		else if (strcmp(argv[i], "--nodes") == 0 && i + 1 < argc)
			nodes = (uint32_t)atoi(argv[++i]);
		else if (strcmp(argv[i], "--cores") == 0 && i + 1 < argc)
			cores = (uint32_t)atoi(argv[++i]);
		else {
			fprintf(
			    stderr,
			    "usage: simbench [-c CONF] [-m MODEL] [--capacity TIER=SIZE]... [--nodes N] [--cores C] WORKFLOW...\n");
			return 2;
		}
	}
	if (i == argc) {
		fprintf(
		    stderr,
		    "usage: simbench [-c CONF] [-m MODEL] [--capacity TIER=SIZE]... [--nodes N] [--cores C] WORKFLOW...\n");
		return 2;
	}
	char err[1024];
	struct tcfg *cfg;
	/* The shipped config names tier paths with $USER; the simulator never
	 * touches them, so any value does where a batch job has none. */
	setenv("USER", "simbench", 0);
	if (tcfg_load(conf, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "simbench: %s\n", err);
		return 1;
	}
	struct lrn_model *model;
	if (lrn_model_load(model_path, &model) != 0) {
		fprintf(stderr, "simbench: %s\n", lrn_last_error());
		tcfg_free(cfg);
		return 1;
	}
	struct sim_config sc;
	sim_config_default(&sc);
	sc.nodes = nodes;
	sc.cores = cores;
	if (ncaps == 0) {
		static const char *const def[] = {"mem=64G", "ssd=512G", "pfs=100T"};
		for (size_t k = 0; k < 3; k++)
			caps[ncaps++] = def[k];
	}
	for (size_t k = 0; k < ncaps; k++) {
		char name[64];
		const char *eq = strchr(caps[k], '=');
		int t = -1;
		if (eq && (size_t)(eq - caps[k]) < sizeof(name)) {
			memcpy(name, caps[k], (size_t)(eq - caps[k]));
			name[eq - caps[k]] = '\0';
			t = tcfg_tier_index(cfg, name);
		}
		if (t < 0 || tcfg_parse_size(eq + 1, &sc.capacity[t]) != 0) {
			fprintf(stderr,
				"simbench: --capacity %s: expected TIER=SIZE with a tier of %s\n",
				caps[k], conf);
			return 2;
		}
	}
	printf("config %s, %u node(s) x %u cores; thread CPU time, best of 5 passes\n", conf, nodes,
	       cores);
	printf("%-28s %-22s %10s %10s %10s %14s\n", "workflow", "placement", "ms/run", "events",
	       "ns/event", "sim I/O time s");
	int status = 0;
	for (; i < argc; i++) {
		wf_graph *g;
		if (wf_load(argv[i], NULL, &g, err, sizeof(err)) != 0) {
			fprintf(stderr, "simbench: %s\n", err);
			status = 1;
			continue;
		}
		const char *base = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
		struct sim *s = NULL, *sv = NULL;
		struct sim_config scv = sc;
		scv.record_features = 0;
		int *vec = malloc(sizeof(int) * (wf_file_count(g) + 1));
		if (!vec || sim_create(g, cfg, &sc, &s, err, sizeof(err)) != 0 ||
		    sim_create(g, cfg, &scv, &sv, err, sizeof(err)) != 0) {
			fprintf(stderr, "simbench: %s: %s\n", base, err);
			status = 1;
			goto next;
		}
		struct sim_result r;
		double ns;
		for (size_t t = 0; t < cfg->ntiers; t++) {
			char what[64];
			snprintf(what, sizeof(what), "all %s (+records)", cfg->tiers[t].name);
			if (measure(s, LRN_STATIC_TIER, (int)t, NULL, &ns, &r) == 0)
				row(base, what, ns, &r);
		}
		if (measure(s, LRN_STATIC_RANDOM, 0, NULL, &ns, &r) == 0)
			row(base, "random (+records)", ns, &r);
		/* The random run's placement as a vector, features off: the GA's loop. */
		for (uint32_t f = 0; f < sim_file_count(s); f++) {
			struct sim_file sf;
			vec[f] = sim_file(s, f, &sf) == 0 ? sf.tier : -1;
		}
		if (measure(sv, 0, 0, vec, &ns, &r) == 0)
			row(base, "tier vector (GA)", ns, &r);
		struct plan_result pr;
		if (measure_check(g, cfg, &sc, model, &ns, &pr) == 0) {
			char what[64];
			snprintf(what, sizeof(what), "plan check (%u runs)", pr.runs);
			printf("%-28s %-22s %10.3f %10s %10s %14.3f  plan %s\n", base, what, ns / 1e6, "-", "-",
			       pr.plan >= 0 ? pr.tier_io[pr.plan] : pr.model_io,
			       pr.plan >= 0 ? cfg->tiers[pr.plan].name : "model");
		}
	next:
		free(vec);
		sim_destroy(s);
		sim_destroy(sv);
		wf_destroy(g);
	}
	lrn_model_destroy(model);
	tcfg_free(cfg);
	return status;
}
