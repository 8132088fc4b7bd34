/* rp_ops.c - play a per-file operation stream (the "# tierfs-ops 1" text
 * that `tiertrain generate --learned` writes beside each synthetic
 * workflow; format in trainer/tracegen.h) against a directory: every open,
 * read, write and close in time order, optionally paced by its timestamps.
 *
 * Every file the stream names must be a file of the workflow; its path is
 * rp_map_name()'s, as for a task replay, and its content the same
 * counter-mode hash (rp_content_fill), so a later task replay could verify
 * it.  Reads past the end of a file are counted, not errors: a synthetic
 * stream may read a range its writer never reached.  The stream's order is
 * one thread's order; a stream holds at most one open per file at a time
 * (the decoder writes it so), and a second open of an open file is
 * refused as malformed.
 */
#define _GNU_SOURCE
#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct pfile {
	const char *name; /* the workflow's (owned by the graph) */
	char path[PATH_MAX];
	int fd;
	bool created;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct pfile *)a)->name, ((const struct pfile *)b)->name);
}

/* Make the directories above path (relative to dirfd). */
static int make_parents(int dirfd, const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = strchr(buf, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdirat(dirfd, buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static int fail(char *err, size_t errlen, int rc, const char *fmt, const char *path, unsigned line, const char *what)
{
	char msg[600];
	snprintf(msg, sizeof(msg), fmt, what);
	snprintf(err, errlen, "%s:%u: %s", path, line, msg);
	return rc;
}

int rp_play_ops(const wf_graph *g, const char *ops_path, const char *dir, const struct rp_options *opts,
		struct rp_ops_summary *out, char *err, size_t errlen)
{
	struct rp_options o = opts ? *opts : (struct rp_options){ 0 };
	size_t chunk = o.chunk ? o.chunk : ((size_t)1 << 20);
	uint32_t nf = wf_file_count(g);
	struct pfile *files = calloc(nf ? nf : 1, sizeof(*files));
	char *buf = malloc(chunk), *line = NULL;
	size_t lcap = 0;
	FILE *fp = NULL;
	int dirfd = -1, rc = 0;
	unsigned lineno = 0;
	memset(out, 0, sizeof(*out));
	if (!files || !buf) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	for (uint32_t i = 0; i < nf; i++) {
		struct wf_file_features ff;
		if ((rc = wf_file_info(g, i, &ff)) < 0)
			goto done;
		files[i].name = ff.name;
		files[i].fd = -1;
		if ((rc = rp_map_name(ff.name, files[i].path, sizeof(files[i].path))) < 0) {
			snprintf(err, errlen, "file '%s' cannot be mapped to a path below %s", ff.name, dir);
			goto done;
		}
	}
	qsort(files, nf, sizeof(*files), cmp_name);
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto done;
	}
	if (!(fp = fopen(ops_path, "r"))) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", ops_path, strerror(errno));
		goto done;
	}
	double t0 = now_s(), last = 0;
	ssize_t len;
	while ((len = getline(&line, &lcap, fp)) >= 0) {
		lineno++;
		if (lineno == 1) {
			if (strcmp(line, "# tierfs-ops 1\n") != 0) {
				rc = fail(err, errlen, -EINVAL, "%s", ops_path, 1, "not an operation stream: expected the line '# tierfs-ops 1'");
				goto done;
			}
			continue;
		}
		if (line[0] == '#' || line[0] == '\n')
			continue;
		double t;
		char op[8], name[1024], a[32] = "";
		unsigned long long b = 0;
		int k = sscanf(line, "%lf %7s %1023s %31s %llu", &t, op, name, a, &b);
		if (k < 3 || !isfinite(t) || t < last) {
			rc = fail(err, errlen, -EINVAL, "%s", ops_path, lineno,
				  "expected 'TIME OP FILE ...' with TIME not before the line above");
			goto done;
		}
		last = t;
		struct pfile key = { .name = name }, *f = bsearch(&key, files, nf, sizeof(*files), cmp_name);
		if (!f) {
			rc = fail(err, errlen, -EINVAL, "file '%.200s' is not a file of the workflow", ops_path, lineno, name);
			goto done;
		}
		if (o.time_scale > 0) {
			double wait = t0 + t * o.time_scale - now_s();
			if (wait > 0) {
				struct timespec ts = { (time_t)wait, (long)((wait - floor(wait)) * 1e9) };
				nanosleep(&ts, NULL);
			}
		}
		double s = now_s();
		if (strcmp(op, "open") == 0) {
			int flags = strcmp(a, "r") == 0 ? O_RDONLY : strcmp(a, "w") == 0 ? O_WRONLY | O_CREAT :
				    strcmp(a, "rw") == 0 ? O_RDWR | O_CREAT : -1;
			if (flags < 0 || k != 4) {
				rc = fail(err, errlen, -EINVAL, "%s", ops_path, lineno, "open: expected mode r, w or rw");
				goto done;
			}
			if (f->fd >= 0) {
				rc = fail(err, errlen, -EINVAL, "open: '%.200s' is already open", ops_path, lineno, name);
				goto done;
			}
			if ((flags & O_CREAT) && !f->created) {
				flags |= O_TRUNC; /* the stream's first writer makes it afresh */
				if ((rc = make_parents(dirfd, f->path)) < 0) {
					snprintf(err, errlen, "%s: mkdir: %s", f->path, strerror(-rc));
					goto done;
				}
			}
			f->fd = openat(dirfd, f->path, flags | O_CLOEXEC | O_NOFOLLOW, 0644);
			if (f->fd < 0) {
				rc = -errno;
				snprintf(err, errlen, "%s:%u: open %s: %s", ops_path, lineno, f->path, strerror(errno));
				goto done;
			}
			f->created |= (flags & O_CREAT) != 0;
			out->opens++;
		} else if (strcmp(op, "close") == 0) {
			if (f->fd < 0) {
				rc = fail(err, errlen, -EINVAL, "close: '%.200s' is not open", ops_path, lineno, name);
				goto done;
			}
			close(f->fd);
			f->fd = -1;
		} else if (strcmp(op, "read") == 0 || strcmp(op, "write") == 0) {
			char *end;
			errno = 0;
			unsigned long long off = strtoull(a, &end, 10);
			if (k != 5 || *end || errno || a[0] == '-' || b == 0) {
				rc = fail(err, errlen, -EINVAL, "%s", ops_path, lineno, "expected OFFSET and a LENGTH above 0");
				goto done;
			}
			if (f->fd < 0) {
				rc = fail(err, errlen, -EINVAL, "'%.200s' is not open", ops_path, lineno, name);
				goto done;
			}
			bool w = op[0] == 'w';
			uint64_t key_c = rp_content_key(f->path, o.seed);
			for (uint64_t done_b = 0; done_b < b;) {
				size_t n = b - done_b < chunk ? (size_t)(b - done_b) : chunk;
				ssize_t r;
				if (w) {
					rp_content_fill(key_c, off + done_b, buf, n);
					r = pwrite(f->fd, buf, n, (off_t)(off + done_b));
				} else {
					r = pread(f->fd, buf, n, (off_t)(off + done_b));
				}
				if (r < 0) {
					rc = -errno;
					snprintf(err, errlen, "%s:%u: %s %s: %s", ops_path, lineno, op, f->path, strerror(errno));
					goto done;
				}
				if (w)
					out->write_bytes += (uint64_t)r;
				else
					out->read_bytes += (uint64_t)r;
				if ((size_t)r < n) {
					if (w) {
						rc = -EIO;
						snprintf(err, errlen, "%s:%u: short write to %s", ops_path, lineno, f->path);
						goto done;
					}
					out->short_reads++;
					break;
				}
				done_b += (uint64_t)r;
			}
			if (w)
				out->writes++;
			else
				out->reads++;
		} else {
			rc = fail(err, errlen, -EINVAL, "unknown operation '%.200s' (open, read, write, close)", ops_path, lineno, op);
			goto done;
		}
		out->io_s += now_s() - s;
		out->ops++;
	}
	if (lineno == 0) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: empty (expected the line '# tierfs-ops 1')", ops_path);
		goto done;
	}
	out->elapsed_s = now_s() - t0;
done:
	for (uint32_t i = 0; files && i < nf; i++)
		if (files[i].fd >= 0) {
			close(files[i].fd);
			if (!rc)
				out->left_open++;
		}
	if (fp)
		fclose(fp);
	if (dirfd >= 0)
		close(dirfd);
	free(line);
	free(buf);
	free(files);
	return rc;
}
