/*
 * cmd_label.c - `tiertrain label`: the labelled records the placement
 * model learns from.  For every workflow and every point of the capacity
 * sweep, the genetic algorithm (ga.h) finds the per-file tiers with the
 * least simulated I/O time; the winning run is then replayed with features
 * recorded, so each record is what the daemon would have seen at that
 * file's create (V1-V11) and its label is the tier the optimum chose.
 *
 * Daemon record logs (--log) are the retraining loop: their create lines
 * carry the features a real mount measured, and the workflow and tier
 * configuration the log names (its "attach" and "config" lines) give the
 * GA its problem; each logged file is labelled with the optimum's tier.
 */
#include "commands.h"
#include "ga.h"
#include "labellog.h"
#include "sweep.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: tiertrain label WORKFLOW... --tiers CONF -o RECORDS.csv [options]\n"
		"       tiertrain label --log RECORDS_LOG.csv [--log ...] -o RECORDS.csv [options]\n"
		"\n"
		"Label every file each task creates with the tier of the placement that gives the\n"
		"least simulated I/O time (genetic algorithm), at every point of the capacity sweep,\n"
		"and write one record per file: its features at create time and that tier.  The\n"
		"output is what `tiertrain fit` reads.\n"
		"\n"
		"  -t, --tiers CONF         tier configuration (default: the shipped etc/tierfs.conf)\n"
		"  -o, --output FILE        records (CSV)\n"
		"      --vary TIER=VALUES   capacity sweep of TIER: 60G..420G (5 points), 60G..420G/7,\n"
		"                           a list 1G,4G, or multiples of the workflow's bytes\n"
		"                           (0.1x..1x); repeatable (every combination is labelled).\n"
		"                           Default: mem=0.05x,0.1x,0.2x,0.4x,0.8x\n"
		"      --capacity TIER=SIZE fixed capacity of TIER (tiers given as a percentage\n"
		"                           otherwise get it of a node of 4x the workflow's bytes)\n"
		"      --log FILE           a daemon record log (STATE_DIR/records.csv): label the\n"
		"                           files it logged, with the features it logged; repeatable\n"
		"      --model MODEL.json   also seed the search with this model's placement\n"
		"      --nodes N            compute nodes (default 1)\n"
		"      --cores C            cores per node (default 4)\n"
		"      --runtime-scale X    multiply task runtimes (default 1)\n"
		"      --population P       individuals per generation (default 40)\n"
		"      --generations G      at most G generations (default 250)\n"
		"      --patience K         stop after K generations without improvement (default 25)\n"
		"      --seed S             random seed (default 1)\n"
		"      --threads T          simulations in parallel (default 2)\n"
		"      --json               one JSON line per labelled configuration on stdout\n"
		"  -q, --quiet              no progress on the terminal\n");
}

struct progress {
	int tty;
	const char *what;
	double t0;
};

static void show(void *arg, uint32_t gen, double best)
{
	struct progress *p = arg;
	if (!p->tty)
		return;
	fprintf(stderr, "\r\033[K%s  generation %u  best I/O time %.4f s  %.1f s", p->what, gen, best,
		tt_now() - p->t0);
	fflush(stderr);
}

struct label_opts {
	const char *tiers, *out, *model;
	const char *logs[64];
	size_t nlogs;
	const char *vary[TCFG_MAX_TIERS];
	size_t nvary;
	const char *caps[TCFG_MAX_TIERS];
	size_t ncaps;
	uint32_t nodes, cores;
	double runtime_scale;
	struct ga_params ga;
	int json, quiet;
};

/* Every combination of the sweep axes, one after the other. */
struct combo {
	size_t naxes;
	struct sweep_axis axes[TCFG_MAX_TIERS];
	size_t idx[TCFG_MAX_TIERS];
};

static int combo_next(struct combo *c)
{
	for (size_t a = 0; a < c->naxes; a++) {
		if (++c->idx[a] < c->axes[a].n)
			return 1;
		c->idx[a] = 0;
	}
	return 0;
}

/* Labels of one configuration: the GA's optimum, replayed with features.
 * Rows go to out (header when *header is set, then cleared). */
static int label_one(const struct label_opts *o, const char *wf_path, const wf_graph *g,
		     const struct tcfg *cfg, const struct sim_config *sc, const char *cfg_desc,
		     FILE *out, int *header, int *best_out, size_t *rows)
{
	char err[1024];
	struct ga_seed seeds[4];
	size_t nseeds = 0;
	static const char *const seed_names[] = {"most-free", "round-robin", "random"};
	int rc = 0;
	for (size_t i = 0; i < 3; i++) {
		struct lrn_policy *p;
		if (sweep_policy_create(seed_names[i], cfg, o->ga.seed, &p, err, sizeof(err)) != 0) {
			fprintf(stderr, "tiertrain label: %s\n", err);
			rc = -1;
			goto out;
		}
		seeds[nseeds++] = (struct ga_seed){seed_names[i], p};
	}
	if (o->model) {
		struct lrn_policy *p;
		if (sweep_learned_policy_create(o->model, cfg, o->ga.seed, &p, err, sizeof(err)) != 0) {
			fprintf(stderr, "tiertrain label: %s\n", err);
			rc = -1;
			goto out;
		}
		seeds[nseeds++] = (struct ga_seed){"learned", p};
	}
	struct progress pr = {!o->quiet && isatty(2), cfg_desc, tt_now()};
	struct ga_result res;
	int *best = best_out;
	rc = ga_search(g, cfg, sc, &o->ga, seeds, nseeds, best, &res, show, &pr, err, sizeof(err));
	if (pr.tty)
		fprintf(stderr, "\r\033[K");
	if (rc < 0) {
		fprintf(stderr, "tiertrain label: %s (%s): %s\n", wf_path, cfg_desc, err);
		rc = -1;
		goto out;
	}
	if (out) {
		struct sim_config rsc = *sc;
		rsc.record_features = 1;
		struct sim *s;
		struct sim_result r;
		if (sim_create(g, cfg, &rsc, &s, err, sizeof(err)) != 0 ||
		    sim_run(s, NULL, best, &r, err, sizeof(err)) != 0) {
			fprintf(stderr, "tiertrain label: %s (%s): replaying the optimum: %s\n", wf_path,
				cfg_desc, err);
			rc = -1;
			goto out;
		}
		if (sim_append_records(s, out, *header) != 0) {
			sim_destroy(s);
			fprintf(stderr, "tiertrain label: %s: write failed\n", o->out);
			rc = -1;
			goto out;
		}
		*header = 0;
		*rows += r.files_created;
		sim_destroy(s);
	}
	double gain = res.seed_io_time > 0 ? 100.0 * (1 - res.best_io_time / res.seed_io_time) : 0;
	if (o->json) {
		printf("{\"workflow\": ");
		tt_json_str(stdout, wf_path);
		printf(", \"config\": ");
		tt_json_str(stdout, cfg_desc);
		printf(", \"files\": %u, \"ga_io_time\": %.9g, \"best_seed\": ", res.genes, res.best_io_time);
		tt_json_str(stdout, res.seed_name);
		printf(", \"best_seed_io_time\": %.9g, \"generations\": %u, \"evaluations\": %llu, \"seconds\": %.3f}\n",
		       res.seed_io_time, res.generations, (unsigned long long)res.evaluations,
		       tt_now() - pr.t0);
	} else {
		printf("%-28s %-24s %6u files  GA %10.4f s  best seed %-11s %10.4f s  (%5.1f%% less)  %3u gen %6llu runs %6.1f s\n",
		       wf_path, cfg_desc, res.genes, res.best_io_time, res.seed_name, res.seed_io_time,
		       gain, res.generations, (unsigned long long)res.evaluations, tt_now() - pr.t0);
	}
	fflush(stdout);
out:
	for (size_t i = 0; i < nseeds; i++)
		lrn_policy_destroy(seeds[i].policy);
	return rc;
}

static int parse_caps(const struct label_opts *o, const struct tcfg *cfg, struct sim_config *sc)
{
	char err[512];
	if (sweep_apply_capacities(o->caps, o->ncaps, cfg, sc, err, sizeof(err)) != 0) {
		fprintf(stderr, "tiertrain label: --capacity %s\n", err);
		return -1;
	}
	return 0;
}

/* Label every workflow over the sweep. */
static int label_workflows(const struct label_opts *o, char **wfs, int nwf, FILE *out, int *header,
			   size_t *rows, size_t *configs)
{
	char err[1024];
	struct tcfg *cfg = NULL;
	if (tcfg_load(o->tiers, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "tiertrain label: %s\n", err);
		return -1;
	}
	struct combo base = {0};
	for (size_t i = 0; i < o->nvary; i++)
		if (sweep_parse_axis(o->vary[i], cfg, &base.axes[base.naxes++], err, sizeof(err)) != 0) {
			fprintf(stderr, "tiertrain label: --vary %s\n", err);
			tcfg_free(cfg);
			return -1;
		}
	if (o->nvary == 0) {
		int mem = tcfg_tier_index(cfg, "mem");
		char spec[128];
		snprintf(spec, sizeof(spec), "%s=0.05x,0.1x,0.2x,0.4x,0.8x", cfg->tiers[mem >= 0 ? mem : 0].name);
		if (sweep_parse_axis(spec, cfg, &base.axes[base.naxes++], err, sizeof(err)) != 0) {
			fprintf(stderr, "tiertrain label: %s\n", err);
			tcfg_free(cfg);
			return -1;
		}
	}
	int rc = 0;
	for (int w = 0; w < nwf && rc == 0; w++) {
		wf_graph *g;
		if (wf_load(wfs[w], NULL, &g, err, sizeof(err)) != 0) {
			fprintf(stderr, "tiertrain label: %s\n", err);
			rc = -1;
			break;
		}
		int *best = malloc(sizeof(int) * (wf_file_count(g) ? wf_file_count(g) : 1));
		struct combo c = base;
		do {
			struct sim_config sc;
			sim_config_default(&sc);
			sc.nodes = o->nodes;
			sc.cores = o->cores;
			sc.runtime_scale = o->runtime_scale;
			if (!best || parse_caps(o, cfg, &sc) != 0) {
				rc = -1;
				break;
			}
			char desc[256] = "";
			size_t dl = 0;
			for (size_t a = 0; a < c.naxes; a++) {
				const struct sweep_value *v = &c.axes[a].values[c.idx[a]];
				uint64_t b = sweep_value_bytes(v, g);
				sc.capacity[c.axes[a].tier] = b;
				char sz[32];
				dl += (size_t)snprintf(desc + dl, sizeof(desc) - dl, "%s%s=%s", a ? "," : "",
						       cfg->tiers[c.axes[a].tier].name,
						       sweep_size_str(b, sz, sizeof(sz)));
				if (dl >= sizeof(desc))
					dl = sizeof(desc) - 1;
			}
			sweep_node_capacities(cfg, g, &sc);
			rc = label_one(o, wfs[w], g, cfg, &sc, desc, out, header, best, rows);
			(*configs)++;
		} while (rc == 0 && combo_next(&c));
		free(best);
		wf_destroy(g);
	}
	tcfg_free(cfg);
	return rc;
}

/* Label the files a daemon logged, with the features it logged. */
static int label_log(const struct label_opts *o, const char *path, FILE *out, int *header, size_t *rows,
		     size_t *configs)
{
	char err[1024];
	struct llog *lg;
	if (llog_load(path, &lg, err, sizeof(err)) != 0) {
		fprintf(stderr, "tiertrain label: %s\n", err);
		return -1;
	}
	int rc = 0;
	struct tcfg *cfg = NULL;
	const char *conf = o->tiers && o->tiers[0] ? o->tiers : llog_config(lg);
	if (!conf) {
		fprintf(stderr, "tiertrain label: %s names no tier configuration (no config line); give --tiers\n",
			path);
		rc = -1;
		goto out;
	}
	if (tcfg_load(conf, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "tiertrain label: %s (named by %s)\n", err, path);
		rc = -1;
		goto out;
	}
	for (size_t w = 0; w < llog_workflow_count(lg) && rc == 0; w++) {
		const char *wf_path = llog_workflow(lg, w);
		wf_graph *g;
		if (wf_load(wf_path, NULL, &g, err, sizeof(err)) != 0) {
			fprintf(stderr, "tiertrain label: %s (named by %s)\n", err, path);
			rc = -1;
			break;
		}
		int *best = malloc(sizeof(int) * (wf_file_count(g) ? wf_file_count(g) : 1));
		struct sim_config sc;
		sim_config_default(&sc);
		sc.nodes = o->nodes;
		sc.cores = o->cores;
		sc.runtime_scale = o->runtime_scale;
		for (size_t t = 0; t < cfg->ntiers; t++)
			sc.capacity[t] = llog_capacity(lg, t);
		if (!best || parse_caps(o, cfg, &sc) != 0) {
			rc = -1;
		} else {
			sweep_node_capacities(cfg, g, &sc);
			rc = label_one(o, wf_path, g, cfg, &sc, "as logged", NULL, header, best, rows);
		}
		if (rc == 0) {
			size_t n = 0;
			rc = llog_write_labelled(lg, w, g, cfg, best, out, header, &n, err, sizeof(err));
			if (rc < 0)
				fprintf(stderr, "tiertrain label: %s\n", err);
			*rows += n;
			(*configs)++;
		}
		free(best);
		wf_destroy(g);
	}
out:
	tcfg_free(cfg);
	llog_free(lg);
	return rc;
}

enum { O_VARY = 256, O_CAPACITY, O_LOG, O_MODEL, O_RTS, O_SEED, O_THREADS, O_JSON };

int tt_cmd_label(int argc, char **argv)
{
	static const struct option opts[] = {{"tiers", required_argument, NULL, 't'},
					     {"output", required_argument, NULL, 'o'},
					     {"vary", required_argument, NULL, O_VARY},
					     {"capacity", required_argument, NULL, O_CAPACITY},
					     {"log", required_argument, NULL, O_LOG},
					     {"model", required_argument, NULL, O_MODEL},
					     TT_SIM_OPTIONS,
					     {"runtime-scale", required_argument, NULL, O_RTS},
					     {"seed", required_argument, NULL, O_SEED},
					     {"threads", required_argument, NULL, O_THREADS},
					     {"json", no_argument, NULL, O_JSON},
					     {"quiet", no_argument, NULL, 'q'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct label_opts o = {.nodes = 1, .cores = 4, .runtime_scale = 1};
	ga_params_default(&o.ga);
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:o:qh", opts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 't':
			o.tiers = optarg;
			break;
		case 'o':
			o.out = optarg;
			break;
		case O_VARY:
			if (o.nvary == TCFG_MAX_TIERS) {
				fprintf(stderr, "tiertrain label: at most %d --vary options\n", TCFG_MAX_TIERS);
				return 2;
			}
			o.vary[o.nvary++] = optarg;
			break;
		case O_CAPACITY:
			if (o.ncaps == TCFG_MAX_TIERS) {
				fprintf(stderr, "tiertrain label: at most %d --capacity options\n", TCFG_MAX_TIERS);
				return 2;
			}
			o.caps[o.ncaps++] = optarg;
			break;
		case O_LOG:
			if (o.nlogs == sizeof(o.logs) / sizeof(o.logs[0])) {
				fprintf(stderr, "tiertrain label: too many --log options\n");
				return 2;
			}
			o.logs[o.nlogs++] = optarg;
			break;
		case O_MODEL:
			o.model = optarg;
			break;
		case O_RTS:
			bad = tt_parse_double("label", "--runtime-scale", optarg, 0, &o.runtime_scale);
			break;
		case O_SEED:
			bad = tt_parse_u64("label", "--seed", optarg, &o.ga.seed);
			break;
		case O_THREADS:
			bad = tt_parse_u32("label", "--threads", optarg, &o.ga.threads);
			break;
		case O_JSON:
			o.json = 1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			bad = tt_sim_option("label", c, optarg, &o.nodes, &o.cores, &o.ga);
			if (bad < 0) {
				usage(stderr);
				return 2;
			}
		}
		if (bad)
			return 2;
	}
	int nwf = argc - optind;
	if (!o.out || (nwf == 0 && o.nlogs == 0)) {
		fprintf(stderr, "tiertrain label: %s\n",
			!o.out ? "an output file is needed (-o RECORDS.csv)"
			       : "expected at least one WORKFLOW or --log");
		usage(stderr);
		return 2;
	}
	char conf_buf[4096];
	const char *user_tiers = o.tiers;
	if (!o.tiers)
		o.tiers = tt_etc_path("tierfs.conf", conf_buf, sizeof(conf_buf));

	/* Write beside the output and rename at the end: a failed run leaves
	 * the previous records whole. */
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", o.out);
	FILE *out = fopen(tmp, "w");
	if (!out) {
		fprintf(stderr, "tiertrain label: cannot create %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	int header = 1, rc = 0;
	size_t rows = 0, configs = 0;
	double t0 = tt_now();
	if (nwf > 0)
		rc = label_workflows(&o, argv + optind, nwf, out, &header, &rows, &configs);
	for (size_t i = 0; i < o.nlogs && rc == 0; i++) {
		struct label_opts lo = o;
		lo.tiers = user_tiers; /* a log names its own configuration */
		rc = label_log(&lo, o.logs[i], out, &header, &rows, &configs);
	}
	if (fflush(out) != 0 || ferror(out)) {
		fprintf(stderr, "tiertrain label: writing %s: %s\n", tmp, strerror(errno));
		rc = -1;
	}
	fclose(out);
	if (rc == 0 && rename(tmp, o.out) != 0) {
		fprintf(stderr, "tiertrain label: cannot rename %s to %s: %s\n", tmp, o.out, strerror(errno));
		rc = -1;
	}
	if (rc != 0) {
		unlink(tmp);
		return 1;
	}
	if (!o.json)
		printf("%zu records from %zu configurations in %.1f s -> %s\n", rows, configs, tt_now() - t0,
		       o.out);
	return 0;
}
