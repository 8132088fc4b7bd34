/* tier_replay engine: plan, stage, execute, scan tiers.
 *
 * Scheduling: pending[t] counts t's parent edges not yet finished (taken
 * from the parents' children lists, so duplicates cannot unbalance it);
 * a task enters the FIFO ready queue when it reaches 0. Workers take tasks
 * until all are finished or one failed; the first failure wins and is the
 * one reported.
 *
 * Lock: one mutex (run.lock) guards queue, qhead, qtail, pending, running,
 * finished, failed, go, err and err_rc. A task's result is written only by the
 * worker running it and read only after the workers are joined.
 *
 * Files written by several tasks (re-writes) and files both staged and
 * written are opened without O_TRUNC and cut to size afterwards: every
 * writer writes the same bytes at the same offsets, so concurrent writers
 * and a concurrent reader never see anything but valid content.
 */
#define _GNU_SOURCE
#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define TIER_XATTR "user.tierfs.tier"
#define DEFAULT_CHUNK ((size_t)1 << 20)

struct rfile {
	char *path;        /* mapped, relative to dir */
	uint64_t bytes;    /* declared size x scale */
	uint64_t key;
	uint32_t writers;  /* tasks that list it as an output */
	bool staged;       /* must exist before the first task */
};

struct rtask {
	struct wf_task_info info; /* arrays owned by the graph */
	uint32_t pending;         /* run.lock */
	struct rp_task_result res;
};

struct rtier {
	char *name;
	uint64_t bytes;
	uint32_t files;
};

struct rp_run {
	const wf_graph *g;
	struct rp_options o;
	char *dir;
	int dirfd;
	uint32_t ntasks, nfiles;
	struct rtask *tasks;
	struct rfile *files;
	uint32_t *topo;        /* document indexes in topological order */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint32_t *queue, qhead, qtail;
	uint32_t running, finished;
	bool failed;
	bool go;               /* set once every worker exists, with t0 */
	int err_rc;
	char err[1024];

	double t0;
	struct rp_summary sum;
	struct rtier *tiers;
	uint32_t ntiers;
};

struct worker {
	rp_run *r;
	pthread_t th;
	unsigned char *buf;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* First failure wins; later ones are consequences or noise. */
__attribute__((format(printf, 3, 4))) static int fail(rp_run *r, int rc, const char *fmt, ...)
{
	pthread_mutex_lock(&r->lock);
	if (!r->failed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->err, sizeof(r->err), fmt, ap);
		va_end(ap);
		r->failed = true;
		r->err_rc = rc;
	}
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

static void note(rp_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(rp_run *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!r->o.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->o.log(r->o.log_ud, msg);
}

/* Descriptor of the directory holding path's last component, walked one
 * component at a time below dirfd without following symlinks (O_DIRECTORY
 * refuses a symlink opened with O_NOFOLLOW). *last points into path. The
 * caller closes the result unless it equals dirfd. */
static int walk_parent(int dirfd, const char *path, bool create, const char **last)
{
	const char *slash = strrchr(path, '/');
	char comp[NAME_MAX + 1];
	int fd = dirfd;
	if (!slash) {
		*last = path;
		return dirfd;
	}
	*last = slash + 1;
	for (const char *p = path; p < slash;) {
		const char *e = memchr(p, '/', (size_t)(slash - p));
		size_t n = e ? (size_t)(e - p) : (size_t)(slash - p);
		int nfd;
		memcpy(comp, p, n);
		comp[n] = '\0';
		/* open first: on a mount every mkdir of an existing directory
		 * is a round trip the workflow itself would not make */
		nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0777) == 0 || errno == EEXIST)
				nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd < 0) {
			int e2 = -errno;
			if (fd != dirfd)
				close(fd);
			return e2;
		}
		if (fd != dirfd)
			close(fd);
		fd = nfd;
		p += n + 1;
	}
	return fd;
}

/* ENOTDIR and ELOOP here mostly mean a symlink on the way, which the walk
 * refuses on purpose; say so rather than leave the user guessing. */
static const char *hint(int rc)
{
	return rc == -ENOTDIR || rc == -ELOOP ? " (a component is not a directory or is a symlink, which tierreplay never follows)" : "";
}

static int open_below(rp_run *r, const char *path, int flags, bool create_dirs)
{
	const char *last;
	int pfd = walk_parent(r->dirfd, path, create_dirs, &last), fd;
	if (pfd < 0)
		return pfd;
	fd = openat(pfd, last, flags | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0)
		fd = -errno;
	if (pfd != r->dirfd)
		close(pfd);
	return fd;
}

static int write_all(int fd, const unsigned char *buf, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Time spent in system calls (io) and in making or checking content
 * (verify), kept apart so content checks do not count as storage time. */
struct acct {
	double io, verify;
};

/* who: "task X" or "staging", for the message. */
static int write_file(rp_run *r, unsigned char *buf, uint32_t fi, const char *who, struct acct *ac)
{
	const struct rfile *f = &r->files[fi];
	bool shared = f->writers > 1 || f->staged;
	uint64_t off = 0;
	int fd, rc = 0;
	double t0 = now(), t1, t2;
	fd = open_below(r, f->path, O_WRONLY | O_CREAT | (shared ? 0 : O_TRUNC), true);
	t1 = now();
	ac->io += t1 - t0;
	if (fd < 0)
		return fail(r, fd, "%s: cannot create %s/%s: %s%s", who, r->dir, f->path, strerror(-fd), hint(fd));
	while (off < f->bytes) {
		size_t n = f->bytes - off < r->o.chunk ? (size_t)(f->bytes - off) : r->o.chunk;
		t0 = now();
		rp_content_fill(f->key, off, buf, n);
		t1 = now();
		rc = write_all(fd, buf, n, off);
		t2 = now();
		ac->verify += t1 - t0;
		ac->io += t2 - t1;
		if (rc < 0) {
			rc = fail(r, rc, "%s: write %s/%s at offset %" PRIu64 ": %s", who, r->dir, f->path, off,
				  strerror(-rc));
			break;
		}
		off += n;
	}
	t0 = now();
	if (rc == 0 && shared && ftruncate(fd, (off_t)f->bytes) < 0)
		rc = fail(r, -errno, "%s: truncate %s/%s to %" PRIu64 " bytes: %s", who, r->dir, f->path,
			  f->bytes, strerror(errno));
	if (close(fd) < 0 && rc == 0)
		rc = fail(r, -errno, "%s: close %s/%s after writing: %s", who, r->dir, f->path, strerror(errno));
	ac->io += now() - t0;
	return rc;
}

static int read_file(rp_run *r, unsigned char *buf, uint32_t fi, const char *who, struct acct *ac)
{
	const struct rfile *f = &r->files[fi];
	uint64_t off = 0;
	double t0 = now(), t1;
	int fd = open_below(r, f->path, O_RDONLY, false), rc = 0;
	ac->io += now() - t0;
	if (fd == -ENOENT || fd == -ENOTDIR)
		return fail(r, -ENODATA, "%s: input file %s/%s is missing (expected %" PRIu64 " bytes)", who,
			    r->dir, f->path, f->bytes);
	if (fd < 0)
		return fail(r, fd, "%s: cannot open input %s/%s: %s%s", who, r->dir, f->path, strerror(-fd), hint(fd));
	if (r->o.no_cache) {
		/* Advice only: a file system that keeps no pages ignores it. */
		t0 = now();
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		ac->io += now() - t0;
	}
	for (;;) {
		t0 = now();
		ssize_t n = read(fd, buf, r->o.chunk);
		size_t good, cmp;
		t1 = now();
		ac->io += t1 - t0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = fail(r, -errno, "%s: read %s/%s at offset %" PRIu64 ": %s", who, r->dir, f->path, off,
				  strerror(errno));
			break;
		}
		if (n == 0) {
			if (off < f->bytes)
				rc = fail(r, -ENODATA,
					  "%s: input file %s/%s is short: it ends at offset %" PRIu64 ", expected %" PRIu64 " bytes",
					  who, r->dir, f->path, off, f->bytes);
			break;
		}
		cmp = off >= f->bytes ? 0 : (f->bytes - off < (uint64_t)n ? (size_t)(f->bytes - off) : (size_t)n);
		good = rp_content_mismatch(f->key, off, buf, cmp);
		ac->verify += now() - t1;
		if (good < cmp) {
			rc = fail(r, -EILSEQ, "%s: input file %s/%s: byte at offset %" PRIu64 " differs from the expected content",
				  who, r->dir, f->path, off + good);
			break;
		}
		if (cmp < (size_t)n) {
			rc = fail(r, -EILSEQ, "%s: input file %s/%s is longer than expected: data past offset %" PRIu64,
				  who, r->dir, f->path, f->bytes);
			break;
		}
		off += (uint64_t)n;
	}
	t0 = now();
	close(fd);
	ac->io += now() - t0;
	return rc;
}

static int cmp_path(const void *a, const void *b, void *files)
{
	const struct rfile *f = files;
	return strcmp(f[*(const uint32_t *)a].path, f[*(const uint32_t *)b].path);
}

static int plan(rp_run *r, char *err, size_t errlen)
{
	uint32_t *wstart = NULL, *wlist = NULL, *mark = NULL, *fill = NULL;
	int rc = 0;
	char path[PATH_MAX];

	for (uint32_t i = 0; i < r->nfiles; i++) {
		struct wf_file_features ff;
		rc = wf_file_info(r->g, i, &ff);
		if (rc < 0) {
			snprintf(err, errlen, "file #%u: wf_file_info: %s", i, strerror(-rc));
			return rc;
		}
		rc = rp_map_name(ff.name, path, sizeof(path));
		if (rc < 0) {
			snprintf(err, errlen, "file '%s': %s", ff.name,
				 rc == -ENAMETOOLONG ? "name too long for a path below the directory"
						     : "name has no usable path component");
			return -EINVAL;
		}
		r->files[i].path = strdup(path);
		if (!r->files[i].path)
			return -ENOMEM;
		r->files[i].bytes = (uint64_t)llround((double)ff.size * r->o.scale);
		r->files[i].key = rp_content_key(path, r->o.seed);
	}
	for (uint32_t t = 0; t < r->ntasks; t++) {
		rc = wf_task_info(r->g, t, &r->tasks[t].info);
		if (rc < 0) {
			snprintf(err, errlen, "task #%u: wf_task_info: %s", t, strerror(-rc));
			return rc;
		}
		r->tasks[t].res.id = r->tasks[t].info.id;
		r->tasks[t].res.category = r->tasks[t].info.category;
		for (uint32_t k = 0; k < r->tasks[t].info.n_outputs; k++)
			r->files[r->tasks[t].info.outputs[k]].writers++;
	}
	for (uint32_t i = 0; i < r->ntasks; i++) {
		struct wf_task_info ti;
		rc = wf_task_topo(r->g, i, &ti);
		if (rc < 0) {
			snprintf(err, errlen, "topological task #%u: %s", i, strerror(-rc));
			return rc;
		}
		r->topo[i] = ti.index;
	}

	/* Two names on one path would make one file with two contents. */
	{
		uint32_t *ord = malloc(sizeof(*ord) * (r->nfiles ? r->nfiles : 1));
		if (!ord)
			return -ENOMEM;
		for (uint32_t i = 0; i < r->nfiles; i++)
			ord[i] = i;
		struct rfile *files = r->files;
		qsort_r(ord, r->nfiles, sizeof(*ord), cmp_path, files);
		for (uint32_t i = 1; i < r->nfiles; i++) {
			if (strcmp(files[ord[i - 1]].path, files[ord[i]].path) == 0) {
				struct wf_file_features a, b;
				if (wf_file_info(r->g, ord[i - 1], &a) == 0 && wf_file_info(r->g, ord[i], &b) == 0)
					snprintf(err, errlen, "files '%s' and '%s' both map to the path '%s' below the directory",
						 a.name, b.name, files[ord[i]].path);
				free(ord);
				return -EINVAL;
			}
		}
		free(ord);
	}

	/* A file must be staged when a reader has no parent that writes it:
	 * no writer at all, the reader's own inout, or a writer the parser
	 * put after the reader. */
	wstart = calloc((size_t)r->nfiles + 1, sizeof(*wstart));
	fill = calloc((size_t)r->nfiles + 1, sizeof(*fill));
	mark = calloc((size_t)r->ntasks + 1, sizeof(*mark));
	if (!wstart || !fill || !mark) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < r->nfiles; i++)
		wstart[i + 1] = wstart[i] + r->files[i].writers;
	wlist = malloc(sizeof(*wlist) * ((size_t)wstart[r->nfiles] + 1));
	if (!wlist) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t t = 0; t < r->ntasks; t++)
		for (uint32_t k = 0; k < r->tasks[t].info.n_outputs; k++) {
			uint32_t f = r->tasks[t].info.outputs[k];
			wlist[wstart[f] + fill[f]++] = t;
		}
	for (uint32_t t = 0; t < r->ntasks; t++) {
		const struct wf_task_info *ti = &r->tasks[t].info;
		for (uint32_t k = 0; k < ti->n_parents; k++)
			mark[ti->parents[k]] = t + 1;
		for (uint32_t k = 0; k < ti->n_inputs; k++) {
			uint32_t f = ti->inputs[k];
			bool fed = false;
			for (uint32_t w = wstart[f]; w < wstart[f + 1] && !fed; w++)
				fed = mark[wlist[w]] == t + 1;
			if (!fed)
				r->files[f].staged = true;
		}
	}
	rc = 0;
out:
	free(wstart);
	free(wlist);
	free(mark);
	free(fill);
	return rc;
}

int rp_create(const wf_graph *g, const char *dir, const struct rp_options *opts, rp_run **out,
	      char *err, size_t errlen)
{
	rp_run *r;
	int rc;
	char dummy[1];
	if (!err || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->dirfd = -1;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	if (opts)
		r->o = *opts;
	if (r->o.workers == 0)
		r->o.workers = 1;
	if (r->o.scale == 0)
		r->o.scale = 1;
	if (r->o.chunk == 0)
		r->o.chunk = DEFAULT_CHUNK;
	if (r->o.workers > RP_MAX_WORKERS || !isfinite(r->o.scale) || r->o.scale < 0 ||
	    !isfinite(r->o.time_scale) || r->o.time_scale < 0) {
		snprintf(err, errlen, "options out of range: workers %u (1..%d), scale %g, time scale %g (finite, >= 0)",
			 r->o.workers, RP_MAX_WORKERS, r->o.scale, r->o.time_scale);
		rc = -EINVAL;
		goto fail;
	}
	r->g = g;
	r->dir = strdup(dir);
	if (!r->dir) {
		rc = -ENOMEM;
		goto fail;
	}
	r->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "directory %s: %s", dir, strerror(errno));
		goto fail;
	}
	r->ntasks = wf_task_count(g);
	r->nfiles = wf_file_count(g);
	r->tasks = calloc((size_t)r->ntasks + 1, sizeof(*r->tasks));
	r->files = calloc((size_t)r->nfiles + 1, sizeof(*r->files));
	r->topo = calloc((size_t)r->ntasks + 1, sizeof(*r->topo));
	r->queue = calloc((size_t)r->ntasks + 1, sizeof(*r->queue));
	if (!r->tasks || !r->files || !r->topo || !r->queue) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = plan(r, err, errlen);
	if (rc < 0)
		goto fail;
	r->sum.tasks = r->ntasks;
	*out = r;
	return 0;
fail:
	if (rc == -ENOMEM && !err[0])
		snprintf(err, errlen, "out of memory planning the replay");
	rp_destroy(r);
	return rc;
}

void rp_destroy(rp_run *r)
{
	if (!r)
		return;
	if (r->files)
		for (uint32_t i = 0; i < r->nfiles; i++)
			free(r->files[i].path);
	for (uint32_t i = 0; i < r->ntiers; i++)
		free(r->tiers[i].name);
	free(r->tiers);
	free(r->files);
	free(r->tasks);
	free(r->topo);
	free(r->queue);
	if (r->dirfd >= 0)
		close(r->dirfd);
	free(r->dir);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
}

int rp_clean(rp_run *r)
{
	for (uint32_t i = 0; i < r->nfiles; i++) {
		const struct rfile *f = &r->files[i];
		const char *last;
		int pfd;
		if (f->staged || f->writers == 0)
			continue;
		pfd = walk_parent(r->dirfd, f->path, false, &last);
		if (pfd == -ENOENT || pfd == -ENOTDIR)
			continue;
		if (pfd < 0)
			return fail(r, pfd, "cleaning: cannot reach %s/%s: %s", r->dir, f->path, strerror(-pfd));
		if (unlinkat(pfd, last, 0) == 0)
			r->sum.removed_files++;
		else if (errno != ENOENT) {
			int e = errno;
			if (pfd != r->dirfd)
				close(pfd);
			return fail(r, -e, "cleaning: cannot remove the old output %s/%s: %s", r->dir, f->path,
				    strerror(e));
		}
		if (pfd != r->dirfd)
			close(pfd);
	}
	if (r->sum.removed_files)
		note(r, "removed %u outputs of an earlier run", r->sum.removed_files);
	return 0;
}

int rp_stage(rp_run *r)
{
	unsigned char *buf;
	double t = now();
	struct acct ac = { 0, 0 };
	int rc = rp_clean(r);
	if (rc < 0)
		return rc;
	buf = malloc(r->o.chunk);
	if (!buf)
		return fail(r, -ENOMEM, "staging: out of memory for a %zu-byte buffer", r->o.chunk);
	for (uint32_t i = 0; i < r->nfiles && rc == 0; i++) {
		if (!r->files[i].staged)
			continue;
		rc = write_file(r, buf, i, "staging", &ac);
		if (rc == 0) {
			r->sum.staged_files++;
			r->sum.staged_bytes += r->files[i].bytes;
		}
	}
	free(buf);
	r->sum.stage_s = now() - t;
	return rc;
}

static void compute(rp_run *r, struct rtask *t)
{
	double secs = t->info.runtime > 0 ? t->info.runtime * r->o.time_scale : 0, end;
	if (r->o.compute == RP_COMPUTE_NONE || secs <= 0)
		return;
	end = now() + secs;
	if (r->o.compute == RP_COMPUTE_SLEEP) {
		struct timespec ts = { .tv_sec = (time_t)secs, .tv_nsec = (long)((secs - floor(secs)) * 1e9) };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	} else {
		volatile uint64_t x = 1;
		while (now() < end)
			for (int i = 0; i < 10000; i++)
				x = x * 6364136223846793005ull + 1442695040888963407ull;
	}
}

static int run_task(struct worker *w, struct rtask *t)
{
	rp_run *r = w->r;
	char who[300];
	struct acct ac = { 0, 0 };
	double a;
	int rc = 0;
	snprintf(who, sizeof(who), "task %s", t->info.id);
	t->res.start = now() - r->t0;
	for (uint32_t k = 0; k < t->info.n_inputs && rc == 0; k++) {
		rc = read_file(r, w->buf, t->info.inputs[k], who, &ac);
		if (rc == 0)
			t->res.read_bytes += r->files[t->info.inputs[k]].bytes;
	}
	if (rc == 0) {
		a = now();
		compute(r, t);
		t->res.compute_s = now() - a;
	}
	for (uint32_t k = 0; k < t->info.n_outputs && rc == 0; k++) {
		rc = write_file(r, w->buf, t->info.outputs[k], who, &ac);
		if (rc == 0)
			t->res.write_bytes += r->files[t->info.outputs[k]].bytes;
	}
	t->res.end = now() - r->t0;
	t->res.io_s = ac.io;
	t->res.verify_s = ac.verify;
	t->res.done = rc == 0;
	return rc;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	rp_run *r = w->r;
	pthread_mutex_lock(&r->lock);
	while (!r->go)
		pthread_cond_wait(&r->cond, &r->lock);
	for (;;) {
		while (!r->failed && r->finished < r->ntasks && r->qhead == r->qtail && r->running > 0)
			pthread_cond_wait(&r->cond, &r->lock);
		if (r->failed || r->finished == r->ntasks)
			break;
		if (r->qhead == r->qtail) {
			/* nothing ready, nothing running, tasks left: the graph
			 * promised to be acyclic, so this is a bug, not input */
			pthread_mutex_unlock(&r->lock);
			fail(r, -EDEADLK, "scheduler: %u of %u tasks can never become ready", r->ntasks - r->finished,
			     r->ntasks);
			pthread_mutex_lock(&r->lock);
			break;
		}
		struct rtask *t = &r->tasks[r->queue[r->qhead++]];
		r->running++;
		pthread_mutex_unlock(&r->lock);
		int rc = run_task(w, t);
		pthread_mutex_lock(&r->lock);
		r->running--;
		if (rc == 0) {
			r->finished++;
			for (uint32_t k = 0; k < t->info.n_children; k++) {
				struct rtask *c = &r->tasks[t->info.children[k]];
				if (--c->pending == 0)
					r->queue[r->qtail++] = t->info.children[k];
			}
		}
		pthread_cond_broadcast(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int rp_execute(rp_run *r)
{
	struct worker *ws;
	unsigned started = 0;
	int rc = 0;
	double last = 0;

	for (uint32_t t = 0; t < r->ntasks; t++)
		for (uint32_t k = 0; k < r->tasks[t].info.n_children; k++)
			r->tasks[r->tasks[t].info.children[k]].pending++;
	for (uint32_t i = 0; i < r->ntasks; i++)
		if (r->tasks[r->topo[i]].pending == 0)
			r->queue[r->qtail++] = r->topo[i];
	ws = calloc(r->o.workers, sizeof(*ws));
	if (!ws)
		return fail(r, -ENOMEM, "out of memory for %u workers", r->o.workers);
	for (unsigned i = 0; i < r->o.workers; i++) {
		ws[i].r = r;
		ws[i].buf = malloc(r->o.chunk);
		if (!ws[i].buf) {
			rc = fail(r, -ENOMEM, "out of memory for a %zu-byte buffer", r->o.chunk);
			break;
		}
		rc = -pthread_create(&ws[i].th, NULL, worker_main, &ws[i]);
		if (rc < 0) {
			free(ws[i].buf);
			rc = fail(r, rc, "cannot start worker thread %u: %s", i + 1, strerror(-rc));
			break;
		}
		started++;
	}
	/* the clock starts when all workers can run, not while threads spawn */
	pthread_mutex_lock(&r->lock);
	r->t0 = now();
	r->go = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	for (unsigned i = 0; i < started; i++) {
		pthread_join(ws[i].th, NULL);
		free(ws[i].buf);
	}
	free(ws);

	for (uint32_t t = 0; t < r->ntasks; t++) {
		const struct rp_task_result *res = &r->tasks[t].res;
		if (res->done && res->end > last)
			last = res->end;
		if (res->done)
			r->sum.tasks_done++;
		r->sum.io_time_s += res->io_s;
		r->sum.verify_time_s += res->verify_s;
		r->sum.read_bytes += res->read_bytes;
		r->sum.write_bytes += res->write_bytes;
	}
	r->sum.makespan_s = last;
	r->sum.verified = !r->failed && r->sum.tasks_done == r->ntasks;
	return r->failed ? r->err_rc : 0;
}

static int add_tier(rp_run *r, const char *name, uint64_t bytes)
{
	for (uint32_t i = 0; i < r->ntiers; i++)
		if (strcmp(r->tiers[i].name, name) == 0) {
			r->tiers[i].bytes += bytes;
			r->tiers[i].files++;
			return 0;
		}
	struct rtier *nt = realloc(r->tiers, sizeof(*nt) * (r->ntiers + 1));
	if (!nt)
		return -ENOMEM;
	r->tiers = nt;
	nt[r->ntiers].name = strdup(name);
	if (!nt[r->ntiers].name)
		return -ENOMEM;
	nt[r->ntiers].bytes = bytes;
	nt[r->ntiers].files = 1;
	r->ntiers++;
	return 0;
}

int rp_tier_scan(rp_run *r)
{
	for (uint32_t i = 0; i < r->ntiers; i++)
		free(r->tiers[i].name);
	free(r->tiers);
	r->tiers = NULL;
	r->ntiers = 0;
	for (uint32_t i = 0; i < r->nfiles; i++) {
		const char *last;
		char proc[PATH_MAX + 64], tier[256];
		struct stat st;
		ssize_t n;
		int rc, pfd = walk_parent(r->dirfd, r->files[i].path, false, &last);
		if (pfd < 0)
			continue; /* never written: the run stopped early */
		if (fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) {
			if (pfd != r->dirfd)
				close(pfd);
			continue;
		}
		/* the xattr of the entry itself, through the parent we walked */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", pfd, last);
		n = lgetxattr(proc, TIER_XATTR, tier, sizeof(tier) - 1);
		if (pfd != r->dirfd)
			close(pfd);
		if (n <= 0)
			snprintf(tier, sizeof(tier), "%s", RP_TIER_UNKNOWN);
		else
			tier[n] = '\0';
		rc = add_tier(r, tier, (uint64_t)st.st_size);
		if (rc < 0)
			return fail(r, rc, "tier scan: out of memory");
	}
	return 0;
}

const char *rp_error(const rp_run *r)
{
	return r->err;
}

void rp_get_summary(const rp_run *r, struct rp_summary *out)
{
	*out = r->sum;
}

int rp_task_result(const rp_run *r, uint32_t index, struct rp_task_result *out)
{
	if (index >= r->ntasks)
		return -ERANGE;
	*out = r->tasks[index].res;
	return 0;
}

uint64_t rp_file_bytes(const rp_run *r, uint32_t file_index)
{
	return file_index < r->nfiles ? r->files[file_index].bytes : 0;
}

const char *rp_file_path(const rp_run *r, uint32_t file_index)
{
	return file_index < r->nfiles ? r->files[file_index].path : NULL;
}

uint32_t rp_tier_count(const rp_run *r)
{
	return r->ntiers;
}

int rp_tier_bytes(const rp_run *r, uint32_t i, const char **name, uint64_t *bytes, uint32_t *files)
{
	if (i >= r->ntiers)
		return -ERANGE;
	*name = r->tiers[i].name;
	*bytes = r->tiers[i].bytes;
	if (files)
		*files = r->tiers[i].files;
	return 0;
}
