/*
 * cmd_simulate.c - `tiertrain simulate`: run one workflow through the
 * tiered-storage simulator (sim.h) under a policy, a model or a per-file
 * placement, print the summary (table or JSON) and optionally write the
 * per-file records in the CSV `tiertrain fit` reads.
 *
 * The policy defaults to the config's placement= (what the daemon would
 * use with no model); a model is used only when --model names one, and
 * then as the daemon uses it: the plan check (plancheck.h) first, then the
 * model or everything on the planned tier (--no-plan-check: the model
 * alone).
 */
#include "commands.h"
#include "plancheck.h"
#include "sim.h"
#include "sweep.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: tiertrain simulate WORKFLOW -c tierfs.conf [options]\n"
		"\n"
		"Simulate WORKFLOW on the tiers of tierfs.conf and report makespan, I/O time\n"
		"and per-tier bytes and peak use.\n"
		"\n"
		"  -c, --config FILE        tier configuration (the daemon's tierfs.conf)\n"
		"      --capacity TIER=SIZE bytes per instance of TIER (needed when the config\n"
		"                           gives a percentage); repeatable\n"
		"      --nodes N            compute nodes (default 1)\n"
		"      --cores C            cores per node (default 1)\n"
		"      --policy NAME        first, most-free, round-robin, random or a tier name\n"
		"                           (default: the config's placement)\n"
		"      --model MODEL.json   learned placement; --policy is its fallback; the plan\n"
		"                           check first, as in the daemon: the model runs only\n"
		"                           when clearly better than every tier alone, else the\n"
		"                           best tier takes every file\n"
		"      --no-plan-check      with --model: the model alone\n"
		"      --placement FILE.csv per-file tiers, lines \"file,tier\"; files not listed\n"
		"                           are placed by the policy\n"
		"      --runtime-scale X    multiply task runtimes (default 1)\n"
		"      --migrate-threads N  background demotions in flight per node (default: the\n"
		"                           config's migrate_threads; 0 = none, full tiers spill)\n"
		"      --seed N             seed of the random policy (default 1)\n"
		"      --json               print the summary as JSON\n"
		"      --records OUT.csv    one row per created file: features and tier\n"
		"      --promote            the daemon's promotion of the next level's inputs at\n"
		"                           each level start (default: no promotion)\n"
		"      --tick S             one monitor frame every S simulated seconds (default 1\n"
		"                           when --series or --phase-model is given)\n"
		"      --series OUT.csv     the monitor series, as `tierctl series` writes it\n"
		"      --phase-model P.json track the load's phase each tick (tiertrain phases)\n"
		"      --proactive          the daemon's proactive = true: drain early when free space\n"
		"                           falls under the coming phases' headroom\n"
		"      --horizon S          proactive_horizon (default 10)\n"
		"      --theta P            proactive_theta (default 0.05)\n"
		"      --prefetch           with --proactive: also prefetch in read-heavy phases\n"
		"                           (the daemon's proactive_prefetch = true)\n");
}

static struct lrn_policy *make_policy(const char *name, const struct tcfg *cfg, uint64_t seed)
{
	struct lrn_policy *p;
	char err[512];
	int rc = name ? sweep_policy_create(name, cfg, seed, &p, err, sizeof(err))
		      : sweep_config_policy_create(cfg, seed, &p, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "tiertrain simulate: %s\n", err);
		return NULL;
	}
	return p;
}

static int parse_capacity(const char *arg, const struct tcfg *cfg, struct sim_config *sc)
{
	const char *eq = strchr(arg, '=');
	char tier[256];
	if (!eq || (size_t)(eq - arg) >= sizeof(tier)) {
		fprintf(
		    stderr,
		    "tiertrain simulate: --capacity \"%s\": expected TIER=SIZE (e.g. mem=64G)\n",
		    arg);
		return -1;
	}
	memcpy(tier, arg, (size_t)(eq - arg));
	tier[eq - arg] = '\0';
	int t = tcfg_tier_index(cfg, tier);
	if (t < 0) {
		fprintf(stderr, "tiertrain simulate: --capacity \"%s\": no tier \"%s\" in %s\n",
			arg, tier, cfg->file);
		return -1;
	}
	uint64_t v;
	if (tcfg_parse_size(eq + 1, &v) != 0 || v == 0) {
		fprintf(
		    stderr,
		    "tiertrain simulate: --capacity \"%s\": expected a size above 0 (4096, 64K, 1.5G, 2T)\n",
		    arg);
		return -1;
	}
	sc->capacity[t] = v;
	return 0;
}

static void print_summary(const char *wf, const char *policy, const char *plan, const struct sim_config *sc,
			  const struct sim_result *r, int json)
{
	if (json) {
		printf("{\"workflow\": ");
		tt_json_str(stdout, wf);
		printf(", \"policy\": ");
		tt_json_str(stdout, policy);
		if (plan) {
			printf(", \"plan\": ");
			tt_json_str(stdout, plan);
		}
		printf(
		    ", \"nodes\": %u, \"cores\": %u, \"runtime_scale\": %.17g, \"tasks\": %u, \"files_created\": %u, "
		    "\"makespan\": %.9f, \"io_time\": %.9f, \"read_time\": %.9f, \"write_time\": %.9f, "
		    "\"compute_time\": %.9f, \"spills\": %u, \"remote_reads\": %u, \"migrations\": %u, "
		    "\"migrated_bytes\": %llu, \"events\": %llu, ",
		    sc->nodes, sc->cores, sc->runtime_scale, r->tasks, r->files_created,
		    r->makespan, r->io_time, r->read_time, r->write_time, r->compute_time,
		    r->spills, r->remote_reads, r->migrations,
		    (unsigned long long)r->migrated_bytes, (unsigned long long)r->events);
		printf("\"place_spills\": %u, \"enospc_spills\": %u, \"promotions\": %u, "
		       "\"promoted_bytes\": %llu, \"prefetches\": %u, \"prefetched_bytes\": %llu, "
		       "\"proactive_moves\": %u, \"proactive_bytes\": %llu, \"ticks\": %u, "
		       "\"spill_ticks\": %u, \"full_ticks\": %u, \"mean_headroom\": %.17g, "
		       "\"mean_free\": %.17g, \"demoted_unread_bytes\": %llu, \"tiers\": [",
		       r->place_spills, r->enospc_spills, r->promotions,
		       (unsigned long long)r->promoted_bytes, r->prefetches,
		       (unsigned long long)r->prefetched_bytes, r->proactive_moves,
		       (unsigned long long)r->proactive_bytes, r->ticks, r->spill_ticks,
		       r->full_ticks, r->mean_headroom, r->mean_free,
		       (unsigned long long)r->demoted_unread_bytes);
		for (size_t t = 0; t < r->ntiers; t++) {
			const struct sim_tier_result *tr = &r->tiers[t];
			printf("%s{\"name\": ", t ? ", " : "");
			tt_json_str(stdout, tr->name);
			printf(
			    ", \"capacity\": %llu, \"files\": %u, \"bytes_read\": %llu, \"bytes_written\": %llu, "
			    "\"peak_used\": %llu, \"moved_in\": %llu, \"moved_out\": %llu}",
			    (unsigned long long)tr->capacity, tr->files,
			    (unsigned long long)tr->bytes_read,
			    (unsigned long long)tr->bytes_written,
			    (unsigned long long)tr->peak_used, (unsigned long long)tr->moved_in,
			    (unsigned long long)tr->moved_out);
		}
		printf("]}\n");
		return;
	}
	printf("workflow      %s\npolicy        %s\n", wf, policy);
	if (plan)
		printf("plan check    %s\n", plan);
	printf("nodes x cores %u x %u (runtime scale %g)\n", sc->nodes, sc->cores, sc->runtime_scale);
	printf("tasks         %u, files created %u, vector spills %u, remote reads %u\n", r->tasks,
	       r->files_created, r->spills, r->remote_reads);
	printf("demotions     %u (%llu bytes; %llu of files still to be read)\n", r->migrations,
	       (unsigned long long)r->migrated_bytes, (unsigned long long)r->demoted_unread_bytes);
	if (r->promotions || r->proactive_moves)
		printf("promotions    %u (%llu bytes; prefetch %u, %llu bytes), early demotions %u (%llu bytes)\n",
		       r->promotions, (unsigned long long)r->promoted_bytes, r->prefetches,
		       (unsigned long long)r->prefetched_bytes, r->proactive_moves,
		       (unsigned long long)r->proactive_bytes);
	printf("spills        %u below the first tier (%u near ENOSPC)\n", r->place_spills,
	       r->enospc_spills);
	if (r->ticks)
		printf("ticks         %u, with a spill %u, first tier >= 98%% full %u; mean headroom %.0f B, mean free %.0f B\n",
		       r->ticks, r->spill_ticks, r->full_ticks, r->mean_headroom, r->mean_free);
	printf(
	    "makespan      %.6f s\nI/O time      %.6f s (read %.6f s, write %.6f s)\ncompute time  %.6f s\n\n",
	    r->makespan, r->io_time, r->read_time, r->write_time, r->compute_time);
	printf("%-10s %16s %8s %18s %18s %16s %16s\n", "tier", "capacity", "files", "bytes read",
	       "bytes written", "peak used", "demoted in");
	for (size_t t = 0; t < r->ntiers; t++) {
		const struct sim_tier_result *tr = &r->tiers[t];
		printf("%-10s %16llu %8u %18llu %18llu %16llu %16llu\n", tr->name,
		       (unsigned long long)tr->capacity, tr->files,
		       (unsigned long long)tr->bytes_read, (unsigned long long)tr->bytes_written,
		       (unsigned long long)tr->peak_used, (unsigned long long)tr->moved_in);
	}
}

enum {
	O_NODES = 256,
	O_CORES,
	O_POLICY,
	O_MODEL,
	O_PLACEMENT,
	O_SCALE,
	O_SEED,
	O_JSON,
	O_RECORDS,
	O_CAPACITY,
	O_MIGRATE,
	O_PROMOTE,
	O_TICK,
	O_SERIES,
	O_PHASE,
	O_PROACTIVE,
	O_HORIZON,
	O_THETA,
	O_PREFETCH,
	O_NOPLAN
};

/* A number >= 0 for option opt; -1 after a message. */
static int parse_nonneg(const char *opt, const char *arg, double *out)
{
	char *end;
	*out = strtod(arg, &end);
	if (*arg == '\0' || *end != '\0' || !(*out >= 0) || *out > 1e12) {
		fprintf(stderr, "tiertrain simulate: %s \"%s\": expected a number >= 0\n", opt, arg);
		return -1;
	}
	return 0;
}

int tt_cmd_simulate(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"nodes", required_argument, NULL, O_NODES},
	    {"cores", required_argument, NULL, O_CORES},
	    {"policy", required_argument, NULL, O_POLICY},
	    {"model", required_argument, NULL, O_MODEL},
	    {"placement", required_argument, NULL, O_PLACEMENT},
	    {"runtime-scale", required_argument, NULL, O_SCALE},
	    {"seed", required_argument, NULL, O_SEED},
	    {"json", no_argument, NULL, O_JSON},
	    {"records", required_argument, NULL, O_RECORDS},
	    {"capacity", required_argument, NULL, O_CAPACITY},
	    {"help", no_argument, NULL, 'h'},
	    {"migrate-threads", required_argument, NULL, O_MIGRATE},
	    {"promote", no_argument, NULL, O_PROMOTE},
	    {"tick", required_argument, NULL, O_TICK},
	    {"series", required_argument, NULL, O_SERIES},
	    {"phase-model", required_argument, NULL, O_PHASE},
	    {"proactive", no_argument, NULL, O_PROACTIVE},
	    {"horizon", required_argument, NULL, O_HORIZON},
	    {"theta", required_argument, NULL, O_THETA},
	    {"prefetch", no_argument, NULL, O_PREFETCH},
	    {"no-plan-check", no_argument, NULL, O_NOPLAN},
	    {NULL, 0, NULL, 0}};
	const char *series = NULL, *phase_path = NULL;
	int promote = 0, proactive = 0, prefetch = 0, plan_on = 1;
	double tick = 0, horizon = 0, theta = 0;
	const char *conf = NULL, *policy_name = NULL, *model_path = NULL, *placement_path = NULL,
		   *records = NULL;
	const char *caps[TCFG_MAX_TIERS * 4];
	size_t ncaps = 0;
	uint32_t nodes = 1, cores = 1, migrate = 0;
	int have_migrate = 0;
	double scale = 1.0;
	unsigned long long seed = 1;
	int json = 0, o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			conf = optarg;
			break;
		case O_NODES:
			if (tt_parse_u32("simulate", "--nodes", optarg, &nodes))
				return 2;
			break;
		case O_CORES:
			if (tt_parse_u32("simulate", "--cores", optarg, &cores))
				return 2;
			break;
		case O_MIGRATE:
			if (tt_parse_u32("simulate", "--migrate-threads", optarg, &migrate))
				return 2;
			have_migrate = 1;
			break;
		case O_POLICY:
			policy_name = optarg;
			break;
		case O_MODEL:
			model_path = optarg;
			break;
		case O_PLACEMENT:
			placement_path = optarg;
			break;
		case O_SCALE: {
			char *end;
			scale = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' || !(scale >= 0)) {
				fprintf(
				    stderr,
				    "tiertrain simulate: --runtime-scale \"%s\": expected a number >= 0\n",
				    optarg);
				return 2;
			}
			break;
		}
		case O_SEED: {
			char *end;
			seed = strtoull(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0') {
				fprintf(
				    stderr,
				    "tiertrain simulate: --seed \"%s\": expected a whole number\n",
				    optarg);
				return 2;
			}
			break;
		}
		case O_JSON:
			json = 1;
			break;
		case O_PROMOTE:
			promote = 1;
			break;
		case O_PROACTIVE:
			proactive = 1;
			break;
		case O_PREFETCH:
			prefetch = 1;
			break;
		case O_NOPLAN:
			plan_on = 0;
			break;
		case O_SERIES:
			series = optarg;
			break;
		case O_PHASE:
			phase_path = optarg;
			break;
		case O_TICK:
			if (parse_nonneg("--tick", optarg, &tick) || tick == 0) {
				if (tick == 0)
					fprintf(stderr, "tiertrain simulate: --tick 0: expected seconds above 0\n");
				return 2;
			}
			break;
		case O_HORIZON:
			if (parse_nonneg("--horizon", optarg, &horizon))
				return 2;
			break;
		case O_THETA:
			if (parse_nonneg("--theta", optarg, &theta))
				return 2;
			if (theta >= 1) {
				fprintf(stderr, "tiertrain simulate: --theta %s: expected a probability below 1\n", optarg);
				return 2;
			}
			break;
		case O_RECORDS:
			records = optarg;
			break;
		case O_CAPACITY:
			if (ncaps == sizeof(caps) / sizeof(caps[0])) {
				fprintf(stderr,
					"tiertrain simulate: too many --capacity options\n");
				return 2;
			}
			caps[ncaps++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || !conf) {
		fprintf(stderr, "tiertrain simulate: %s\n",
			!conf ? "a tier configuration is needed (-c tierfs.conf)"
			      : "expected exactly one WORKFLOW");
		usage(stderr);
		return 2;
	}
	const char *wf_path = argv[optind];
	if (proactive && !phase_path) {
		fprintf(stderr, "tiertrain simulate: --proactive needs --phase-model P.json (tiertrain phases)\n");
		return 2;
	}
	if (tick == 0 && (series || phase_path))
		tick = 1.0;
	if (nodes == 0 || cores == 0) {
		fprintf(stderr, "tiertrain simulate: --%s 0: expected at least 1\n",
			nodes == 0 ? "nodes" : "cores");
		return 2;
	}

	int status = 1;
	char err[1024];
	struct tcfg *cfg = NULL;
	wf_graph *g = NULL;
	struct sim *s = NULL;
	struct lrn_policy *pol = NULL;
	struct mon_phase *ph = NULL;
	int *placement = NULL;
	if (tcfg_load(conf, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "tiertrain simulate: %s\n", err);
		goto out;
	}
	struct sim_config sc;
	sim_config_default(&sc);
	sc.nodes = nodes;
	sc.cores = cores;
	sc.runtime_scale = scale;
	sc.record_features = records != NULL;
	if (have_migrate)
		sc.migrate_threads = migrate > 1024 ? 1024 : (int)migrate;
	if (phase_path && mon_phase_load(phase_path, &ph, err, sizeof(err)) != 0) {
		fprintf(stderr, "tiertrain simulate: --phase-model: %s\n", err);
		goto out;
	}
	sc.promote = promote;
	sc.tick_s = tick;
	sc.phase = ph;
	sc.proactive = proactive;
	sc.proactive_horizon = horizon;
	sc.proactive_theta = theta;
	sc.prefetch = prefetch;
	for (size_t i = 0; i < ncaps; i++)
		if (parse_capacity(caps[i], cfg, &sc)) {
			status = 2;
			goto out;
		}
	if (wf_load(wf_path, NULL, &g, err, sizeof(err)) != 0) {
		fprintf(stderr, "tiertrain simulate: %s\n", err);
		goto out;
	}
	if (sim_create(g, cfg, &sc, &s, err, sizeof(err)) != 0) {
		fprintf(stderr, "tiertrain simulate: %s\n", err);
		goto out;
	}
	pol = make_policy(policy_name, cfg, seed);
	if (!pol) {
		status = policy_name ? 2 : 1;
		goto out;
	}
	char plan_text[1100] = "";
	if (model_path) {
		struct lrn_model *m;
		if (lrn_model_load(model_path, &m) != 0) {
			fprintf(stderr, "tiertrain simulate: %s\n", lrn_last_error());
			goto out;
		}
		struct plan_params pp;
		struct plan_result pr = {.plan = PLAN_MODEL};
		plan_params_default(&pp);
		if (plan_on) {
			/* As the daemon: a failed check keeps the model. */
			if (plan_check(g, cfg, &sc, m, &pp, &pr, err, sizeof(err)) == 0)
				plan_describe(&pr, cfg, plan_text, sizeof(plan_text));
			else
				snprintf(plan_text, sizeof(plan_text), "plan model (the plan check failed: %s)", err);
		}
		if (pr.plan >= 0) {
			lrn_model_destroy(m);
			lrn_policy_destroy(pol);
			pol = make_policy(cfg->tiers[pr.plan].name, cfg, seed);
			if (!pol)
				goto out;
		} else {
			pol = lrn_policy_model_create(m, pol);
		}
		if (!pol) {
			fprintf(stderr, "tiertrain simulate: %s: %s\n", model_path,
				lrn_last_error());
			goto out;
		}
	}
	if (placement_path) {
		placement = malloc(sizeof(int) * (sim_file_count(s) ? sim_file_count(s) : 1));
		if (!placement) {
			fprintf(stderr, "tiertrain simulate: out of memory\n");
			goto out;
		}
		if (sim_read_placement(s, placement_path, placement, err, sizeof(err)) != 0) {
			fprintf(stderr, "tiertrain simulate: %s\n", err);
			goto out;
		}
	}
	struct sim_result r;
	if (sim_run(s, pol, placement, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "tiertrain simulate: %s: %s\n", wf_path, err);
		goto out;
	}
	char pname[512];
	snprintf(pname, sizeof(pname), "%s%s%s", placement_path ? "placement+" : "",
		 model_path ? "learned+" : "",
		 policy_name ? policy_name : tcfg_placement_name(cfg->placement));
	print_summary(wf_path, pname, plan_text[0] ? plan_text : NULL, &sc, &r, json);
	if (records && sim_write_records(s, records, err, sizeof(err)) != 0) {
		fprintf(stderr, "tiertrain simulate: %s\n", err);
		goto out;
	}
	if (series && sim_write_series(s, series, err, sizeof(err)) != 0) {
		fprintf(stderr, "tiertrain simulate: %s\n", err);
		goto out;
	}
	status = 0;
out:
	free(placement);
	mon_phase_destroy(ph);
	lrn_policy_destroy(pol);
	sim_destroy(s);
	wf_destroy(g);
	tcfg_free(cfg);
	return status;
}
