/*
 * synth_main.c - phase_synth: write a synthetic monitor series for the
 * CLI test.  Usage: phase_synth OUT.csv SEED PATTERN, where PATTERN is a
 * list of regime letters and tick counts, e.g. "i60q40d60" (i ingest,
 * q quiet, d drain).
 */
#include "synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: phase_synth OUT.csv SEED PATTERN (e.g. i60q40d60)\n");
		return 2;
	}
	struct synth_seg segs[64];
	size_t n = 0;
	for (const char *p = argv[3]; *p;) {
		const char *at = strchr("iqd", *p);
		char *end;
		if (!at || n == 64) {
			fprintf(stderr, "phase_synth: pattern \"%s\": expected letters i, q, d each followed by a tick count\n",
				argv[3]);
			return 2;
		}
		long t = strtol(p + 1, &end, 10);
		if (end == p + 1 || t <= 0) {
			fprintf(stderr, "phase_synth: pattern \"%s\": '%c' needs a positive tick count\n", argv[3], *p);
			return 2;
		}
		segs[n++] = (struct synth_seg){(enum synth_regime)(at - "iqd"), (size_t)t};
		p = end;
	}
	int rc = synth_series(argv[1], segs, n, strtoull(argv[2], NULL, 10), NULL);
	if (rc) {
		fprintf(stderr, "phase_synth: %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	return 0;
}
