/*
 * learngen.c - synthetic placement records for the learner benchmark and
 * tests: V1-V11-like features and a tier label from a nonlinear rule
 * (reuse distance, file size against free space, fan-out) plus label noise.
 * Usage: learngen ROWS [SEED] [NOISE] > records.csv
 * The same (rows, seed, noise) always gives the same file.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t state;

static double uniform(void)
{
	uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

static double log_uniform(double lo, double hi)
{
	return exp(log(lo) + uniform() * (log(hi) - log(lo)));
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: learngen ROWS [SEED] [NOISE]\n");
		return 2;
	}
	long rows = strtol(argv[1], NULL, 10);
	state = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
	double noise = argc > 3 ? strtod(argv[3], NULL) : 0.05;
	static const char *tiers[] = {"mem", "ssd", "pfs"};
	printf("producer_level,producer_width,wf_tasks,wf_bytes,consumers,next_use_distance,last_use_distance,"
	       "task_input_bytes,free_mem,free_ssd,free_pfs,tier\n");
	for (long r = 0; r < rows; r++) {
		double tasks = floor(log_uniform(10, 20000));
		double level = floor(uniform() * 12);
		double width = floor(log_uniform(1, 256));
		double wf_bytes = floor(log_uniform(1e6, 1e12));
		double consumers = floor(uniform() * uniform() * 9);
		double next = consumers > 0 ? 1 + floor(uniform() * uniform() * 6) : 99;
		double last = consumers > 0 ? next + floor(uniform() * 4) : 99;
		double input = floor(log_uniform(1e3, 1e11));
		double free_mem = floor(uniform() * 64e9);
		double free_ssd = floor(uniform() * 1e12);
		double free_pfs = floor(log_uniform(1e11, 1e15));
		/* What the producing stage is about to write, all at once. */
		double stage = wf_bytes / tasks * width + 0.1 * input;
		int tier;
		if (consumers == 0)
			tier = stage > 0.5 * free_ssd ? 2 : (last > 98 && width > 64 ? 1 : 2);
		else if (next <= 1 && last <= 3 && stage < 0.5 * free_mem)
			tier = 0;
		else if (stage < 0.8 * free_ssd && (next <= 3 || consumers >= 3))
			tier = 1;
		else if (stage < 0.2 * free_mem && consumers >= 4)
			tier = 0;
		else
			tier = 2;
		if (uniform() < noise)
			tier = (int)(uniform() * 3);
		printf("%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%s\n", level, width, tasks, wf_bytes, consumers, next,
		       last, input, free_mem, free_ssd, free_pfs, tiers[tier]);
	}
	return 0;
}
