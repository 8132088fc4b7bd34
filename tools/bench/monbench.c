/*
 * monbench - cost of tier_monitor on the I/O path: ns per mon_write() call
 * from 1 and 2 threads at once, beside a naive single shared atomic
 * counter (what the sharding avoids), and the cost of the once-a-second
 * calls (mon_tick, mon_snapshot) and of mon_free_bytes (placement).
 * A benchmark, not a test: it prints figures and never fails on them.
 * It does check that the monitor's totals equal the calls made.
 *
 * Usage: monbench [-n CALLS_PER_THREAD] [-r RUNS]   (median of RUNS)
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"

#define MAX_THREADS 2

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The naive alternative: every thread adds to the same two counters. */
static struct {
	_Atomic uint64_t bytes, ops;
} naive;

enum what { W_MON_WRITE, W_NAIVE };

struct run {
	enum what what;
	struct mon *m;
	long n;
	pthread_barrier_t *bar;
	double ns_per_call, cpu_ns_per_call;
};

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *thread_main(void *arg)
{
	struct run *r = arg;
	pthread_barrier_wait(r->bar);
	uint64_t t0 = now_ns(), c0 = thread_cpu_ns();
	if (r->what == W_MON_WRITE) {
		for (long i = 0; i < r->n; i++)
			mon_write(r->m, (int)(i & 1), 4096);
	} else {
		for (long i = 0; i < r->n; i++) {
			atomic_fetch_add_explicit(&naive.bytes, 4096, memory_order_relaxed);
			atomic_fetch_add_explicit(&naive.ops, 1, memory_order_relaxed);
		}
	}
	r->cpu_ns_per_call = (double)(thread_cpu_ns() - c0) / (double)r->n;
	r->ns_per_call = (double)(now_ns() - t0) / (double)r->n;
	return NULL;
}

/* Mean ns per call over the threads of one run: wall clock into *wall,
 * the threads' own CPU time (what a loaded machine does not inflate) as
 * the result. */
static double one_run(enum what what, struct mon *m, int threads, long n, double *wall)
{
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, (unsigned)threads);
	pthread_t th[MAX_THREADS];
	struct run r[MAX_THREADS];
	for (int t = 0; t < threads; t++) {
		r[t] = (struct run){.what = what, .m = m, .n = n, .bar = &bar};
		if (pthread_create(&th[t], NULL, thread_main, &r[t]) != 0) {
			fprintf(stderr, "monbench: pthread_create failed\n");
			exit(1);
		}
	}
	double sum = 0, cpu = 0;
	for (int t = 0; t < threads; t++) {
		pthread_join(th[t], NULL);
		sum += r[t].ns_per_call;
		cpu += r[t].cpu_ns_per_call;
	}
	pthread_barrier_destroy(&bar);
	*wall = sum / threads;
	return cpu / threads;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	long n = 20000000;
	int runs = 5, opt;
	while ((opt = getopt(argc, argv, "n:r:h")) != -1) {
		switch (opt) {
		case 'n':
			n = strtol(optarg, NULL, 10);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: monbench [-n CALLS_PER_THREAD] [-r RUNS]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (n < 1 || runs < 1 || runs > 100) {
		fprintf(stderr, "monbench: -n must be >= 1 and -r between 1 and 100\n");
		return 2;
	}

	struct mon_config cfg = {.ntiers = 3};
	cfg.tiers[0] =
	    (struct mon_tier_config){.name = "mem", .capacity = 1ull << 34, .path = "/dev/shm"};
	cfg.tiers[1] =
	    (struct mon_tier_config){.name = "ssd", .capacity = 1ull << 40, .path = "/var/tmp"};
	cfg.tiers[2] =
	    (struct mon_tier_config){.name = "pfs", .capacity = 1ull << 50, .path = "/tmp"};
	struct mon *m = NULL;
	int rc = mon_create(&cfg, &m);
	if (rc) {
		fprintf(stderr, "monbench: mon_create: %s\n", strerror(-rc));
		return 1;
	}

	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	printf("monbench: %ld calls per thread, median of %d runs, %ld CPUs online\n", n, runs,
	       cpus);
	double loadavg[1] = {-1};
	if (getloadavg(loadavg, 1) == 1)
		printf(
		    "load average before the runs: %.2f (other processes inflate wall time, not CPU time)\n",
		    loadavg[0]);
	printf("%-34s %8s %10s %10s\n", "operation", "threads", "cpu ns", "wall ns");
	double v[100], w[100];
	uint64_t calls = 0;
	for (int threads = 1; threads <= MAX_THREADS; threads++) {
		for (int i = 0; i < runs; i++)
			v[i] = one_run(W_MON_WRITE, m, threads, n, &w[i]);
		calls += (uint64_t)runs * (uint64_t)threads * (uint64_t)n;
		printf("%-34s %8d %10.2f %10.2f\n", "mon_write (sharded)", threads, median(v, runs),
		       median(w, runs));
		for (int i = 0; i < runs; i++)
			v[i] = one_run(W_NAIVE, NULL, threads, n, &w[i]);
		printf("%-34s %8d %10.2f %10.2f\n", "one shared atomic pair (naive)", threads,
		       median(v, runs), median(w, runs));
	}
	printf("per call, per thread; medians of the runs\n");

	/* The once-a-second and per-create calls, single thread. */
	const int reps = 2000;
	uint64_t t0 = now_ns();
	for (int i = 0; i < reps; i++) {
		int r = mon_tick(m);
		if (r != 0 && r != -EAGAIN)
			return 1;
	}
	double tick_ns = (double)(now_ns() - t0) / reps;
	struct mon_state st;
	t0 = now_ns();
	for (int i = 0; i < reps; i++)
		if (mon_snapshot(m, &st) != 0)
			return 1;
	double snap_ns = (double)(now_ns() - t0) / reps;
	volatile uint64_t sink = 0;
	t0 = now_ns();
	for (long i = 0; i < 1000000; i++)
		sink += mon_free_bytes(m, (int)(i % 3));
	double free_ns = (double)(now_ns() - t0) / 1e6;
	printf("%-34s %8d %10s %10.0f\n", "mon_tick (3 tiers, 3 statvfs)", 1, "", tick_ns);
	printf("%-34s %8d %10s %10.0f\n", "mon_snapshot", 1, "", snap_ns);
	printf("%-34s %8d %10s %10.2f\n", "mon_free_bytes", 1, "", free_ns);

	if (mon_snapshot(m, &st) != 0)
		return 1;
	uint64_t got = st.tiers[0].writes_total + st.tiers[1].writes_total;
	printf("totals: %llu mon_write calls made, %llu counted: %s\n", (unsigned long long)calls,
	       (unsigned long long)got, got == calls ? "ok" : "MISMATCH");
	mon_destroy(m);
	return got == calls ? 0 : 1;
}
