/*
 * placebench - cost of the placement decision the daemon makes on every
 * create (tpl_decide: workflow lookup, V1-V11, model predict, fallback)
 * and of appending its record, measured without a mount on the daemon's own
 * code.  Prints ns per decision; no thresholds.
 *
 *   placebench CONFIG WORKFLOW [MODEL] [ROUNDS]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "place.h"

static double cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t no_size(void *arg, const char *path)
{
	(void)arg;
	(void)path;
	return 4096;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: placebench CONFIG WORKFLOW [MODEL] [ROUNDS]\n");
		return 2;
	}
	char err[TCFG_ERRLEN];
	struct tcfg *cfg;
	if (tcfg_load(argv[1], &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "placebench: %s\n", err);
		return 1;
	}
	free(cfg->model);
	cfg->model = argc > 3 ? strdup(argv[3]) : NULL;
	struct tpl *p;
	if (tpl_create(cfg, &p, err, sizeof(err)) != 0 || tpl_attach(p, "", argv[2], err, sizeof(err)) != 0) {
		fprintf(stderr, "placebench: %s\n", err);
		return 1;
	}
	int rounds = argc > 4 ? atoi(argv[4]) : 20;
	wf_graph *g;
	if (wf_load(argv[2], NULL, &g, err, sizeof(err)) != 0) {
		fprintf(stderr, "placebench: %s\n", err);
		return 1;
	}
	uint32_t nf = wf_file_count(g);
	char **names = calloc(nf, sizeof(*names));
	for (uint32_t i = 0; i < nf; i++) {
		struct wf_file_features ff;
		if (wf_file_info(g, i, &ff) == 0)
			names[i] = strdup(ff.name);
	}
	struct lrn_tier_state ts[TCFG_MAX_TIERS];
	for (size_t t = 0; t < cfg->ntiers; t++)
		ts[t] = (struct lrn_tier_state){cfg->tiers[t].name, 64ULL << 30, 1ULL << 30};
	char logpath[] = "/tmp/placebench-XXXXXX";
	int lfd = mkstemp(logpath);
	if (lfd < 0 || tpl_log_open(p, logpath, err, sizeof(err)) != 0) {
		fprintf(stderr, "placebench: %s\n", err);
		return 1;
	}
	struct tpl_decision d;
	double t0 = cpu_ns();
	for (uint32_t i = 0; i < nf; i++) /* first decisions: V8 measured per task */
		if (names[i])
			tpl_decide(p, names[i], LRN_KIND_FILE, 0, ts, cfg->ntiers, no_size, NULL, &d);
	double cold = (cpu_ns() - t0) / nf;
	long n = 0, learned = 0;
	t0 = cpu_ns();
	for (int r = 0; r < rounds; r++)
		for (uint32_t i = 0; i < nf; i++)
			if (names[i]) {
				tpl_decide(p, names[i], LRN_KIND_FILE, 0, ts, cfg->ntiers, no_size, NULL, &d);
				learned += d.policy && !strcmp(d.policy, "learned");
				n++;
			}
	double warm = (cpu_ns() - t0) / (double)n;
	t0 = cpu_ns();
	for (int r = 0; r < rounds; r++)
		for (uint32_t i = 0; i < nf; i++)
			tpl_decide(p, "not/in/the/workflow.tmp", LRN_KIND_FILE, 0, ts, cfg->ntiers, no_size, NULL, &d);
	double unknown = (cpu_ns() - t0) / ((double)rounds * nf);
	t0 = cpu_ns();
	for (int r = 0; r < rounds; r++)
		for (uint32_t i = 0; i < nf; i++)
			if (names[i])
				tpl_log_decision(p, 0, names[i], &d, "mem");
	tpl_log_flush(p);
	double logc = (cpu_ns() - t0) / (double)n;
	printf("workflow %s: %u files, model %s\n", argv[2], nf, argc > 3 ? argv[3] : "(none)");
	printf("%-44s %10s\n", "decision (CPU ns per create)", "ns");
	printf("%-44s %10.0f\n", "known file, first of its task (V8 measured)", cold);
	printf("%-44s %10.0f   (%ld of %ld by the model)\n", "known file, V8 cached", warm, learned, n);
	printf("%-44s %10.0f\n", "file the workflow does not know (fallback)", unknown);
	printf("%-44s %10.0f\n", "record log line (buffered append)", logc);
	unlink(logpath);
	close(lfd);
	tpl_destroy(p);
	wf_destroy(g);
	for (uint32_t i = 0; i < nf; i++)
		free(names[i]);
	free(names);
	tcfg_free(cfg);
	return 0;
}
