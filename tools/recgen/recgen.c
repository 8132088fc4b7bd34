/*
 * recgen - generate placement training records from workflow files, with
 * the features the daemon computes (tpl_features(), the same code) and a
 * label from a documented rule.  It stands in for the simulator and the
 * genetic-algorithm labels of the trainer (issue 7) so that tierfs can ship
 * a default model now; records from real runs (state_dir/records.csv) and
 * the trainer replace it.
 *
 *   recgen -c tierfs.conf [-n SAMPLES] [-s SEED] WORKFLOW... > records.csv
 *
 * For every file of every workflow, SAMPLES records are drawn, each with
 * every tier's free bytes drawn log-uniformly between 1 MiB and 1 TiB, so
 * that the model sees the range of nodes it may run on (the config gives
 * the tier names and order only).  V8 is the producer's declared input
 * bytes.
 *
 * The rule (tiers in the config's order, fastest first; "need" is the
 * file's declared size):
 *   1. a final output (no consumer) goes to the last tier: it must outlive
 *      the run, and on a cluster that is the parallel filesystem;
 *   2. a file read by the next level that fits in half of the first tier's
 *      free space goes to the first tier;
 *   3. else, with three tiers or more, a file that fits in half of the
 *      second tier's free space goes there;
 *   4. else the last tier.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "place.h"
#include "tierfs_config.h"
#include "workflow.h"

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int label(const struct wf_file_features *ff, const struct lrn_tier_state *ts, size_t n)
{
	uint64_t need = ff->size;
	uint64_t free0 = ts[0].capacity - ts[0].used;
	if (ff->consumers == 0)
		return (int)n - 1;
	if (ff->next_use_distance <= 1 && need <= free0 / 2)
		return 0;
	if (n >= 3 && need <= (ts[1].capacity - ts[1].used) / 2)
		return 1;
	return (int)n - 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: recgen -c CONFIG [-n SAMPLES] [-s SEED] WORKFLOW... > records.csv\n"
		   "  Writes placement training records (the daemon's features and a tier label\n"
		   "  from a documented rule; see the comment at the top of recgen.c).\n");
}

int main(int argc, char **argv)
{
	const char *conf = NULL;
	long samples = 4;
	uint64_t seed = 1;
	int opt;
	while ((opt = getopt(argc, argv, "c:n:s:h")) != -1) {
		switch (opt) {
		case 'c':
			conf = optarg;
			break;
		case 'n':
			samples = strtol(optarg, NULL, 10);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!conf || optind >= argc || samples < 1 || samples > 10000) {
		usage(stderr);
		return 2;
	}
	char err[TCFG_ERRLEN];
	struct tcfg *cfg;
	if (tcfg_load(conf, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "recgen: %s\n", err);
		return 1;
	}
	struct lrn_tier_state ts[TCFG_MAX_TIERS];
	size_t n = cfg->ntiers;
	for (size_t t = 0; t < n; t++)
		ts[t].name = cfg->tiers[t].name;
	int header = 0, rc = 0;
	for (int a = optind; a < argc; a++) {
		wf_graph *g;
		if (wf_load(argv[a], NULL, &g, err, sizeof(err)) != 0) {
			fprintf(stderr, "recgen: %s\n", err);
			rc = 1;
			continue;
		}
		for (uint32_t i = 0; i < wf_file_count(g); i++) {
			struct wf_file_features ff;
			if (wf_file_info(g, i, &ff) != 0)
				continue;
			for (long k = 0; k < samples; k++) {
				for (size_t t = 0; t < n; t++) {
					double u = (double)(splitmix(&seed) >> 11) / 9007199254740992.0;
					ts[t].capacity = (uint64_t)exp(log(1048576.0) + u * log(1048576.0));
					ts[t].used = 0;
				}
				struct tpl_vector v;
				tpl_features(&ff, ff.producer_input_bytes, ts, n, &v);
				if (!header) {
					for (size_t j = 0; j < v.n; j++)
						printf("%s,", v.names[j]);
					printf("tier\n");
					header = 1;
				}
				for (size_t j = 0; j < v.n; j++)
					printf("%.17g,", v.values[j]);
				printf("%s\n", ts[label(&ff, ts, n)].name);
			}
		}
		wf_destroy(g);
	}
	tcfg_free(cfg);
	return rc;
}
