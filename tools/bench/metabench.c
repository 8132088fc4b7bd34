/* metabench: metadata micro-benchmark for tools/bench/fsbench.
 *
 * Creates a fresh directory DIR/metabench.<pid>, then runs three timed
 * phases over N empty files: create (open O_CREAT|O_EXCL + close), stat,
 * unlink; finally removes the directory. Each phase is timed with
 * CLOCK_MONOTONIC and reported as operations per second, on stdout, as one
 * JSON object so the driver script can parse it without new dependencies.
 *
 * Assumptions: DIR exists and is writable; nothing else touches the
 * benchmark directory while it runs. Single-threaded on purpose: it
 * measures the latency of one metadata round trip, which is what a FUSE
 * daemon adds, not the parallelism of the backing filesystem.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { METABENCH_DEFAULT_FILES = 20000 };

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: metabench [-n FILES] DIR\n"
		     "Creates, stats and unlinks FILES empty files (default %d) in a new directory under DIR and prints ops/s for each phase as JSON.\n",
		METABENCH_DEFAULT_FILES);
}

/* Names are short and fixed-width so every phase does the same path work. */
static void file_name(char *buf, size_t len, const char *dir, long i)
{
	snprintf(buf, len, "%s/f%07ld", dir, i);
}

int main(int argc, char **argv)
{
	long nfiles = METABENCH_DEFAULT_FILES;
	char dir[PATH_MAX - 16];
	char path[PATH_MAX];
	double t0, t_create, t_stat, t_unlink;
	struct stat st;
	int opt;

	while ((opt = getopt(argc, argv, "n:h")) != -1) {
		switch (opt) {
		case 'n': {
			char *end;

			errno = 0;
			nfiles = strtol(optarg, &end, 10);
			if (errno || *end || nfiles <= 0 || nfiles > 9999999) {
				fprintf(stderr, "metabench: -n expects a file count between 1 and 9999999, got '%s'\n", optarg);
				return 2;
			}
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/metabench.%ld", argv[optind], (long)getpid()) >= sizeof(dir)) {
		fprintf(stderr, "metabench: directory path too long: %s\n", argv[optind]);
		return 2;
	}
	if (mkdir(dir, 0755) != 0) {
		fprintf(stderr, "metabench: mkdir %s: %s\n", dir, strerror(errno));
		return 1;
	}

	t0 = now_s();
	for (long i = 0; i < nfiles; i++) {
		int fd;

		file_name(path, sizeof(path), dir, i);
		fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "metabench: create %s: %s\n", path, strerror(errno));
			return 1;
		}
		if (close(fd) != 0) {
			fprintf(stderr, "metabench: close %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	t_create = now_s() - t0;

	t0 = now_s();
	for (long i = 0; i < nfiles; i++) {
		file_name(path, sizeof(path), dir, i);
		if (stat(path, &st) != 0) {
			fprintf(stderr, "metabench: stat %s: %s\n", path, strerror(errno));
			return 1;
		}
		if (!S_ISREG(st.st_mode) || st.st_size != 0) {
			fprintf(stderr, "metabench: stat %s: expected an empty regular file, got mode %o size %lld\n", path,
				(unsigned)st.st_mode, (long long)st.st_size);
			return 1;
		}
	}
	t_stat = now_s() - t0;

	t0 = now_s();
	for (long i = 0; i < nfiles; i++) {
		file_name(path, sizeof(path), dir, i);
		if (unlink(path) != 0) {
			fprintf(stderr, "metabench: unlink %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	t_unlink = now_s() - t0;

	if (rmdir(dir) != 0) {
		fprintf(stderr, "metabench: rmdir %s: %s\n", dir, strerror(errno));
		return 1;
	}
	printf("{\"files\": %ld, \"create\": %.1f, \"stat\": %.1f, \"unlink\": %.1f}\n", nfiles, nfiles / t_create,
	       nfiles / t_stat, nfiles / t_unlink);
	return 0;
}
