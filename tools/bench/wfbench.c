/* wfbench: cost of tier_parser on the daemon's paths: load time and peak
 * memory of workflow files, and nanoseconds per wf_file_features() lookup
 * (the call that sits on every create).
 *
 *   wfbench FILE...                 load + lookup figures per file
 *   wfbench --synthetic TASKS FILES DIR
 *                                   write a layered WfFormat 1.5 and a
 *                                   DAX 3.6 workflow of that size to DIR,
 *                                   then measure both
 * Each load runs in a forked child so its peak RSS (ru_maxrss) is its
 * own. Load is given as wall and CPU milliseconds; lookups are timed in
 * thread CPU time, so a busy shared machine inflates them less. Lookups cycle through every file in a shuffled order, in three
 * forms: the workflow's own name, the name below two extra directories
 * (a workflow attached below the mount root), and a miss.
 */
#define _GNU_SOURCE
#include "workflow.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double clock_s(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void) { return clock_s(CLOCK_MONOTONIC); }
/* CPU time: on a shared machine wall time also counts waiting for a core */
static double cpu(void) { return clock_s(CLOCK_THREAD_CPUTIME_ID); }

struct load_result {
	int rc;
	double seconds, cpu_seconds;
	long maxrss_kib;
	uint32_t tasks, files;
	uint64_t edges;
	double ns_exact, ns_prefixed, ns_miss;
	char err[256];
};

static uint64_t rng = 88172645463325252ULL;
static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double time_lookups(const wf_graph *g, char **names, uint32_t n, long rounds)
{
	struct wf_file_features f;
	volatile uint64_t sink = 0;
	double t0 = cpu();
	for (long r = 0; r < rounds; r++)
		for (uint32_t i = 0; i < n; i++)
			if (wf_file_features(g, names[i], &f) == 0)
				sink += f.consumers;
	double dt = cpu() - t0;
	(void)sink;
	return dt * 1e9 / ((double)rounds * n);
}

static void measure_child(const char *path, struct load_result *res)
{
	char err[256];
	wf_graph *g;
	double t0 = now(), c0 = cpu();
	res->rc = wf_load(path, NULL, &g, err, sizeof(err));
	res->seconds = now() - t0;
	res->cpu_seconds = cpu() - c0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	res->maxrss_kib = ru.ru_maxrss;
	if (res->rc) {
		snprintf(res->err, sizeof(res->err), "%s", err);
		return;
	}
	struct wf_summary s;
	wf_get_summary(g, &s);
	res->tasks = s.tasks;
	res->files = s.files;
	res->edges = s.edges;
	uint32_t n = s.files;
	char **exact = calloc(n, sizeof(*exact)), **pre = calloc(n, sizeof(*pre));
	char **miss = calloc(n, sizeof(*miss));
	for (uint32_t i = 0; i < n; i++) {
		struct wf_file_features f;
		if (wf_file_info(g, i, &f))
			abort();
		exact[i] = strdup(f.name);
		if (asprintf(&pre[i], "runs/run-0042/%s", f.name) < 0 ||
		    asprintf(&miss[i], "%s.tmp~", f.name) < 0)
			abort();
	}
	for (uint32_t i = n; i > 1; i--) { /* same shuffle for all three */
		uint32_t j = (uint32_t)(xorshift() % i);
		char *t = exact[i - 1]; exact[i - 1] = exact[j]; exact[j] = t;
		t = pre[i - 1]; pre[i - 1] = pre[j]; pre[j] = t;
		t = miss[i - 1]; miss[i - 1] = miss[j]; miss[j] = t;
	}
	long rounds = n ? 2000000 / n + 1 : 1;
	res->ns_exact = time_lookups(g, exact, n, rounds);
	res->ns_prefixed = time_lookups(g, pre, n, rounds);
	res->ns_miss = time_lookups(g, miss, n, rounds);
	for (uint32_t i = 0; i < n; i++) {
		free(exact[i]);
		free(pre[i]);
		free(miss[i]);
	}
	free(exact);
	free(pre);
	free(miss);
	wf_destroy(g);
}

static int measure(const char *path)
{
	int fds[2];
	if (pipe(fds) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct load_result r = { 0 };
		close(fds[0]);
		measure_child(path, &r);
		ssize_t w = write(fds[1], &r, sizeof(r));
		_exit(w == (ssize_t)sizeof(r) ? 0 : 1);
	}
	close(fds[1]);
	struct load_result r;
	ssize_t got = read(fds[0], &r, sizeof(r));
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (got != (ssize_t)sizeof(r)) {
		printf("%-52s child failed\n", base);
		return -EIO;
	}
	if (r.rc) {
		printf("%-52s load error: %s\n", base, r.err);
		return r.rc;
	}
	printf("%-52s %7" PRIu32 " %7" PRIu32 " %8" PRIu64 " %9.1f %9.1f %8ld %7.1f %7.1f %7.1f\n", base,
	       r.tasks, r.files, r.edges, r.seconds * 1e3, r.cpu_seconds * 1e3, r.maxrss_kib / 1024, r.ns_exact,
	       r.ns_prefixed, r.ns_miss);
	return 0;
}

/* A layered workflow: `width` tasks per level; task i writes files
 * i*per .. i*per+per-1 and reads two files of random tasks of the level
 * above, so every file but the last level's is read. */
static int synth(const char *dir, uint32_t tasks, uint32_t files, char *json, char *dax, size_t len)
{
	uint32_t per = files / tasks ? files / tasks : 1, width = 1000;
	snprintf(json, len, "%s/synthetic-%u.json", dir, tasks);
	snprintf(dax, len, "%s/synthetic-%u.dax", dir, tasks);
	FILE *j = fopen(json, "w"), *d = fopen(dax, "w");
	if (!j || !d) {
		perror("fopen");
		return -1;
	}
	fprintf(j, "{\"name\":\"synthetic\",\"schemaVersion\":\"1.5\",\"workflow\":{\"specification\":{\"tasks\":[");
	fprintf(d, "<?xml version=\"1.0\"?>\n<adag xmlns=\"http://pegasus.isi.edu/schema/DAX\" version=\"3.6\" name=\"synthetic\">\n");
	uint64_t seed = rng;
	for (uint32_t i = 0; i < tasks; i++) {
		uint32_t lvl = i / width, a = 0, b = 0;
		if (lvl > 0) {
			uint32_t lo = (lvl - 1) * width;
			a = lo + (uint32_t)(xorshift() % width);
			b = lo + (uint32_t)(xorshift() % width);
		}
		fprintf(j, "%s{\"name\":\"stage%u_ID%07u\",\"id\":\"ID%07u\",\"parents\":[],\"children\":[],\"inputFiles\":[",
			i ? "," : "", lvl, i, i);
		fprintf(d, "  <job id=\"ID%07u\" name=\"stage%u\">\n", i, lvl);
		if (lvl > 0) {
			fprintf(j, "\"data/l%u/f%u_0\",\"data/l%u/f%u_1\"", lvl - 1, a, lvl - 1, b);
			fprintf(d, "    <uses name=\"data/l%u/f%u_0\" link=\"input\"/>\n"
				   "    <uses name=\"data/l%u/f%u_1\" link=\"input\"/>\n", lvl - 1, a, lvl - 1, b);
		}
		fprintf(j, "],\"outputFiles\":[");
		for (uint32_t k = 0; k < per; k++) {
			fprintf(j, "%s\"data/l%u/f%u_%u\"", k ? "," : "", lvl, i, k);
			fprintf(d, "    <uses name=\"data/l%u/f%u_%u\" link=\"output\" size=\"%u\"/>\n",
				lvl, i, k, 1000 + k);
		}
		fprintf(j, "]}");
		fprintf(d, "  </job>\n");
	}
	fprintf(j, "],\"files\":[");
	for (uint32_t i = 0; i < tasks; i++)
		for (uint32_t k = 0; k < per; k++)
			fprintf(j, "%s{\"id\":\"data/l%u/f%u_%u\",\"sizeInBytes\":%u}",
				(i || k) ? "," : "", i / width, i, k, 1000 + k);
	fprintf(j, "]}}}\n");
	fprintf(d, "</adag>\n");
	rng = seed;
	int bad = ferror(j) || ferror(d);
	bad |= fclose(j) != 0;
	bad |= fclose(d) != 0;
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: wfbench FILE...\n       wfbench --synthetic TASKS FILES DIR\n");
		return 2;
	}
	printf("%-52s %7s %7s %8s %9s %9s %8s %7s %7s %7s\n", "workflow", "tasks", "files", "edges",
	       "load_ms", "load_cpu", "rss_MiB", "ns_hit", "ns_pre", "ns_miss");
	int bad = 0;
	if (strcmp(argv[1], "--synthetic") == 0) {
		if (argc != 5) {
			fprintf(stderr, "usage: wfbench --synthetic TASKS FILES DIR\n");
			return 2;
		}
		char json[4096], dax[4096];
		uint32_t t = (uint32_t)strtoul(argv[2], NULL, 10), f = (uint32_t)strtoul(argv[3], NULL, 10);
		if (!t || synth(argv[4], t, f, json, dax, sizeof(json))) {
			fprintf(stderr, "wfbench: cannot write the synthetic workflow to %s\n", argv[4]);
			return 1;
		}
		bad |= measure(json) != 0;
		bad |= measure(dax) != 0;
		return bad;
	}
	for (int i = 1; i < argc; i++)
		bad |= measure(argv[i]) != 0;
	return bad;
}
