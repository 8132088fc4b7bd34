/*
 * migrator.c - see migrator.h.
 *
 * Lock order: the queue mutex is a leaf (nothing is taken while it is
 * held); moves run with no migrator lock held.
 */
#define _GNU_SOURCE
#include "migrator.h"
#include "tierfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define QUEUE_MAX 4096
#define ACCESS_SLOTS 65536 /* power of two */
#define MAX_CANDIDATES 200000

struct request {
	char *path;
	int dst;
	int promote; /* 1: promotion; 0: demotion or manual */
	int rank;    /* demotions: 0 finished, 1 unknown, 2 still to be read */
	int attempts;
	/* Bytes the plan charged (planned[] of the source tier for a
	 * demotion, incoming[] of dst for a promotion), given back exactly
	 * once when the request ends: a file that grew or moved meanwhile
	 * must not leave a charge behind (a planned[] stuck above 0 stopped
	 * every later demotion plan of that tier). */
	int charged_tier;
	uint64_t charged;
};

struct access_slot {
	_Atomic uint64_t ino;
	_Atomic uint32_t reads;
	_Atomic uint32_t prefetched; /* queued once by a prefetch: never again */
	_Atomic uint64_t last_ns;
};

struct tfs_migrator {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct request q[QUEUE_MAX];
	size_t head, count;
	int stop;
	int nthreads;
	pthread_t threads[16];
	uint64_t planned[TCFG_MAX_TIERS]; /* bytes queued out of each tier */
	uint64_t incoming[TCFG_MAX_TIERS]; /* bytes queued into each tier by promotions */
	_Atomic uint64_t demoted_files, demoted_bytes, promoted_files, promoted_bytes, failed, retried, queued;
	_Atomic uint64_t demoted_rank_bytes[3];
	_Atomic uint64_t proactive_bytes, proactive_plans; /* planned ahead of the watermark */
	struct {
		char dir[PATH_MAX];
		int64_t level;
	} levels[16]; /* level starts waiting for the next tick */
	int nlevels;
	struct {
		char dir[PATH_MAX];
		int64_t level;
	} current[16]; /* highest level started per attachment, for prefetch */
	int ncurrent;
	_Atomic uint64_t prefetch_plans, prefetch_files, prefetch_bytes;
	struct access_slot access[ACCESS_SLOTS];
};

static struct access_slot *slot_of(struct tfs_migrator *m, uint64_t ino)
{
	return &m->access[(ino * 0x9e3779b97f4a7c15ULL) >> 48 & (ACCESS_SLOTS - 1)];
}

/* ino's slot, taken over from whatever file held it (the newest file
 * takes the slot, with nothing counted yet). */
static struct access_slot *claim_slot(struct tfs_migrator *m, uint64_t ino)
{
	struct access_slot *s = slot_of(m, ino);
	if (atomic_load(&s->ino) != ino) {
		atomic_store(&s->ino, ino);
		atomic_store(&s->reads, 0);
		atomic_store(&s->prefetched, 0);
	}
	return s;
}

void tfs_access_note(struct tfs *fs, uint64_t ino, int read_open)
{
	struct tfs_migrator *m = fs->migrator;
	if (!m)
		return;
	struct access_slot *s = claim_slot(m, ino);
	if (read_open)
		atomic_fetch_add(&s->reads, 1);
	atomic_store(&s->last_ns, tfs_now_ns()); /* wall clock: compared with mtimes */
}

static void access_of(struct tfs_migrator *m, uint64_t ino, uint32_t *reads, uint64_t *last)
{
	struct access_slot *s = slot_of(m, ino);
	*reads = 0;
	*last = 0;
	if (atomic_load(&s->ino) == ino) {
		*reads = atomic_load(&s->reads);
		*last = atomic_load(&s->last_ns);
	}
}

static int enqueue(struct tfs *fs, const char *relpath, int dst, int promote, int rank, int charged_tier,
		   uint64_t charged);

int tfs_migrator_enqueue(struct tfs *fs, const char *relpath, int dst, int promote)
{
	return enqueue(fs, relpath, dst, promote, 1, -1, 0);
}

/* Queue a move; when charged > 0, also charge it (under the queue lock, so
 * the worker cannot give it back first). */
static int enqueue(struct tfs *fs, const char *relpath, int dst, int promote, int rank, int charged_tier,
		   uint64_t charged)
{
	struct tfs_migrator *m = fs->migrator;
	if (!m || dst < 0 || dst >= fs->ntiers)
		return -EINVAL;
	char *dup = strdup(relpath);
	if (!dup)
		return -ENOMEM;
	pthread_mutex_lock(&m->lock);
	if (m->count == QUEUE_MAX) {
		pthread_mutex_unlock(&m->lock);
		free(dup);
		return -EBUSY;
	}
	m->q[(m->head + m->count++) % QUEUE_MAX] = (struct request){dup, dst, promote, rank, 0, charged_tier, charged};
	if (charged && charged_tier >= 0)
		(promote ? m->incoming : m->planned)[charged_tier] += charged;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
	atomic_fetch_add(&m->queued, 1);
	return 0;
}

static void *worker(void *arg)
{
	struct tfs *fs = arg;
	struct tfs_migrator *m = fs->migrator;
	pthread_mutex_lock(&m->lock);
	for (;;) {
		while (!m->stop && m->count == 0)
			pthread_cond_wait(&m->cond, &m->lock);
		if (m->stop)
			break;
		struct request r = m->q[m->head];
		m->head = (m->head + 1) % QUEUE_MAX;
		m->count--;
		pthread_mutex_unlock(&m->lock);

		struct stat st;
		int src = tfs_find(fs, r.path, &st);
		uint64_t size = src >= 0 ? (uint64_t)st.st_size : 0;
		int rc = src < 0 ? src : tfs_migrate(fs, r.path, r.dst);
		if (rc == 0) {
			atomic_fetch_add(r.promote ? &m->promoted_files : &m->demoted_files, 1);
			atomic_fetch_add(r.promote ? &m->promoted_bytes : &m->demoted_bytes, size);
			if (!r.promote)
				atomic_fetch_add(&m->demoted_rank_bytes[r.rank], size);
			tfs_log(TCFG_LOG_DEBUG, "%s %s from tier %s to %s", r.promote ? "promoted" : "demoted", r.path,
				fs->tiers[src].name, fs->tiers[r.dst].name);
		} else if (rc == -EAGAIN && r.attempts < 3) {
			/* written during the copy: try again later (its charge
			 * stays with it) */
			atomic_fetch_add(&m->retried, 1);
			r.attempts++;
			pthread_mutex_lock(&m->lock);
			if (m->count < QUEUE_MAX) {
				m->q[(m->head + m->count++) % QUEUE_MAX] = r;
				r.path = NULL;
				r.charged = 0;
			}
			pthread_mutex_unlock(&m->lock);
		} else if (rc != -EXDEV && rc != -ENOENT) {
			atomic_fetch_add(&m->failed, 1);
			tfs_log(TCFG_LOG_INFO, "could not move %s to tier %s: %s", r.path, fs->tiers[r.dst].name,
				strerror(-rc));
		}
		pthread_mutex_lock(&m->lock);
		if (r.charged && r.charged_tier >= 0) {
			uint64_t *c = &(r.promote ? m->incoming : m->planned)[r.charged_tier];
			*c = *c >= r.charged ? *c - r.charged : 0;
		}
		free(r.path);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

int tfs_migrator_start(struct tfs *fs)
{
	int n = fs->cfg->migrate_threads;
	if (n <= 0)
		return 0;
	struct tfs_migrator *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	fs->migrator = m;
	for (int i = 0; i < n && i < 16; i++)
		if (pthread_create(&m->threads[m->nthreads], NULL, worker, fs) == 0)
			m->nthreads++;
	return m->nthreads ? 0 : -EAGAIN;
}

void tfs_migrator_stop(struct tfs *fs)
{
	struct tfs_migrator *m = fs->migrator;
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = 1;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	for (int i = 0; i < m->nthreads; i++)
		pthread_join(m->threads[i], NULL);
	for (size_t i = 0; i < m->count; i++)
		free(m->q[(m->head + i) % QUEUE_MAX].path);
	fs->migrator = NULL;
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void tfs_migrator_stats(struct tfs *fs, struct tfs_migrator_stats *out)
{
	memset(out, 0, sizeof(*out));
	struct tfs_migrator *m = fs->migrator;
	if (!m)
		return;
	out->demoted_files = atomic_load(&m->demoted_files);
	out->demoted_bytes = atomic_load(&m->demoted_bytes);
	out->promoted_files = atomic_load(&m->promoted_files);
	out->promoted_bytes = atomic_load(&m->promoted_bytes);
	out->failed = atomic_load(&m->failed);
	out->retried = atomic_load(&m->retried);
	out->queued = atomic_load(&m->queued);
	for (int r = 0; r < 3; r++)
		out->demoted_rank_bytes[r] = atomic_load(&m->demoted_rank_bytes[r]);
	out->proactive_bytes = atomic_load(&m->proactive_bytes);
	out->proactive_plans = atomic_load(&m->proactive_plans);
	out->prefetch_plans = atomic_load(&m->prefetch_plans);
	out->prefetch_files = atomic_load(&m->prefetch_files);
	out->prefetch_bytes = atomic_load(&m->prefetch_bytes);
}

/* ---- demotion ---------------------------------------------------------------- */

struct candidate {
	char *path;
	uint64_t size;
	int rank;	   /* 0 finished, 1 unknown to the workflow, 2 still to be read */
	int64_t left;	   /* levels until its next use (rank 2) */
	uint64_t last_use; /* ns, our record of the last open, else mtime */
};

struct scan {
	struct tfs *fs;
	int tier;
	struct candidate *c;
	size_t n, cap;
};

static int pinned(int dirfd, const char *name)
{
	char proc[64 + NAME_MAX];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", dirfd, name);
	char v[8];
	return lgetxattr(proc, TFS_XATTR_PIN, v, sizeof(v)) > 0;
}

static void collect(struct scan *s, int dirfd, char *path, size_t plen, int depth)
{
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL && s->n < MAX_CANDIDATES) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strncmp(de->d_name, TFS_TMP_PREFIX, sizeof(TFS_TMP_PREFIX) - 1))
			continue;
		size_t nl = strlen(de->d_name), l = plen;
		if (plen + nl + 2 >= TFS_PATH_MAX)
			continue;
		if (plen)
			path[l++] = '/';
		memcpy(path + l, de->d_name, nl + 1);
		struct stat st;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISDIR(st.st_mode) && depth < 256) {
				int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (sub >= 0)
					collect(s, sub, path, l + nl, depth + 1);
			} else if (S_ISREG(st.st_mode) && st.st_nlink == 1 && st.st_size > 0 &&
				   !pinned(dirfd, de->d_name)) {
				if (s->n == s->cap) {
					size_t nc = s->cap ? s->cap * 2 : 256;
					struct candidate *nv = realloc(s->c, nc * sizeof(*nv));
					if (!nv)
						break;
					s->c = nv;
					s->cap = nc;
				}
				struct candidate *c = &s->c[s->n];
				c->path = strdup(path);
				if (c->path) {
					struct tpl_file_status fst;
					tpl_file_status(s->fs->place, path, &fst);
					uint32_t reads;
					uint64_t last;
					access_of(s->fs->migrator, tfs_ino_of(s->fs, s->tier, path, &st), &reads, &last);
					c->size = (uint64_t)st.st_size;
					c->last_use = last ? last
							   : (uint64_t)st.st_mtim.tv_sec * 1000000000ULL +
								     (uint64_t)st.st_mtim.tv_nsec;
					if (!fst.known) {
						c->rank = 1;
					} else if (fst.consumers == 0 || reads >= fst.consumers) {
						c->rank = 0;
					} else {
						/* Past its first reader's level is not
						 * finished: that level's other readers
						 * may still wait for a core (a hot input
						 * read by 271 tasks went first that way);
						 * it is then the nearest use. */
						c->rank = 2;
						c->left = fst.levels_left < 0 ? 0 : fst.levels_left;
					}
					s->n++;
				}
			}
		}
		path[plen] = '\0';
	}
	closedir(d);
}

static int by_eviction_order(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank - y->rank;
	if (x->rank == 2 && x->left != y->left)
		return x->left > y->left ? -1 : 1; /* farthest next use first */
	return x->last_use < y->last_use ? -1 : x->last_use > y->last_use;
}

/* The next slower tier that stays under its high watermark with size more. */
static int demotion_target(struct tfs *fs, int t, uint64_t size, const uint64_t *extra)
{
	for (int d = t + 1; d < fs->ntiers; d++) {
		struct tfs_tier *tr = &fs->tiers[d];
		double hw = fs->cfg->tiers[d].high_watermark;
		if ((double)(atomic_load(&tr->used) + extra[d] + size) <= hw * (double)tr->capacity)
			return d;
	}
	return -1;
}

static void plan_demotions(struct tfs *fs, int t)
{
	struct tfs_migrator *m = fs->migrator;
	struct tfs_tier *tr = &fs->tiers[t];
	const struct tcfg_tier *ct = &fs->cfg->tiers[t];
	uint64_t used = atomic_load(&tr->used);
	pthread_mutex_lock(&m->lock);
	uint64_t planned = m->planned[t];
	pthread_mutex_unlock(&m->lock);
	/* Proactive mode (phase model): headroom is what the phases likely to
	 * come would write within the horizon, capped by the low watermark;
	 * free space under it starts the watermark's drain early - down to
	 * the low watermark as well, with cold files only.  (A drain that
	 * stopped once the headroom was free held the tier just under the
	 * high watermark for good, fuller than the watermark's 0.9-to-0.7
	 * swing, and a level start's promotion found no room.) */
	uint64_t cap = tr->capacity, free_b = used >= cap ? 0 : cap - used;
	uint64_t need = atomic_load(&fs->headroom[t]);
	int over = (double)used > ct->high_watermark * (double)cap;
	int short_of_room = !over && need > free_b;
	if ((!over && !short_of_room) || planned > 0)
		return; /* under the mark, or a plan is still being carried out */
	uint64_t low = (uint64_t)(ct->low_watermark * (double)cap);
	uint64_t goal = used > low ? used - low : 0;

	struct scan s = {.fs = fs, .tier = t};
	char path[TFS_PATH_MAX] = "";
	int fd = openat(tr->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		collect(&s, fd, path, 0, 0);
	qsort(s.c, s.n, sizeof(*s.c), by_eviction_order);
	uint64_t freed = 0, extra[TCFG_MAX_TIERS] = {0};
	for (size_t i = 0; i < s.n && freed < goal; i++) {
		if (short_of_room && s.c[i].rank == 2)
			break; /* still to be read: only the watermark moves those */
		int dst = demotion_target(fs, t, s.c[i].size, extra);
		if (dst < 0 || enqueue(fs, s.c[i].path, dst, 0, s.c[i].rank, t, s.c[i].size) != 0)
			continue;
		extra[dst] += s.c[i].size;
		freed += s.c[i].size;
	}
	if (freed && short_of_room) {
		atomic_fetch_add(&m->proactive_bytes, freed);
		atomic_fetch_add(&m->proactive_plans, 1);
		tfs_log(TCFG_LOG_INFO, "tier %s: %llu bytes free, the coming phases need %llu: moving %llu cold bytes out early",
			tr->name, (unsigned long long)free_b, (unsigned long long)need, (unsigned long long)freed);
	} else if (freed)
		tfs_log(TCFG_LOG_INFO, "tier %s above its high watermark: moving %llu bytes out", tr->name,
			(unsigned long long)freed);
	for (size_t i = 0; i < s.n; i++)
		free(s.c[i].path);
	free(s.c);
}

static void plan_promotions(struct tfs *fs, const char *dir, int64_t level);
static void plan_prefetch(struct tfs *fs);

/* Remember the highest level started in dir (m->lock held). */
static void note_current(struct tfs_migrator *m, const char *dir, int64_t level)
{
	int i = 0;
	while (i < m->ncurrent && strcmp(m->current[i].dir, dir))
		i++;
	if (i == m->ncurrent) {
		if (m->ncurrent == (int)(sizeof(m->current) / sizeof(m->current[0])))
			return;
		snprintf(m->current[m->ncurrent++].dir, sizeof(m->current[0].dir), "%s", dir);
		m->current[i].level = -1;
	}
	if (level > m->current[i].level)
		m->current[i].level = level;
}

void tfs_migrator_tick(struct tfs *fs)
{
	struct tfs_migrator *m = fs->migrator;
	if (!m)
		return;
	for (int t = 0; t + 1 < fs->ntiers; t++)
		plan_demotions(fs, t);
	for (;;) {
		char dir[PATH_MAX];
		int64_t level;
		pthread_mutex_lock(&m->lock);
		int have = m->nlevels > 0;
		if (have) {
			m->nlevels--;
			snprintf(dir, sizeof(dir), "%s", m->levels[m->nlevels].dir);
			level = m->levels[m->nlevels].level;
			note_current(m, dir, level);
		}
		pthread_mutex_unlock(&m->lock);
		if (!have)
			break;
		plan_promotions(fs, dir, level);
	}
	if (atomic_load(&fs->prefetch))
		plan_prefetch(fs);
}

/* ---- promotion ------------------------------------------------------------------ */

struct promo {
	struct tfs *fs;
	int prefetch; /* a read-heavy phase's prefetch, not a level start's promotion */
	uint64_t queued, files;
	uint64_t ino; /* prefetch: the file being considered */
};

static void consider_promotion(void *arg, const char *relpath, uint64_t declared, double runtime_s)
{
	struct promo *pr = arg;
	struct tfs *fs = pr->fs;
	struct tfs_migrator *m = fs->migrator;
	struct stat st;
	int src = tfs_find(fs, relpath, &st);
	if (src <= 0 || !S_ISREG(st.st_mode) || st.st_nlink > 1)
		return;
	if (pr->prefetch) {
		/* Only files still to be read at least twice: the copy costs
		 * as much as one read from where the file is, so a prefetch
		 * pays off from the second read on (the simulator showed
		 * single-read prefetches only churning the fast tier). */
		struct tpl_file_status fst;
		tpl_file_status(fs->place, relpath, &fst);
		uint32_t reads;
		uint64_t last;
		uint64_t ino = tfs_ino_of(fs, src, relpath, &st);
		access_of(m, ino, &reads, &last);
		if (!fst.known || fst.levels_left < 0 || reads + 2 > fst.consumers)
			return;
		/* Once per file: a prefetched file the watermark sends down
		 * again is not brought back (the simulator showed such files
		 * going round, 20x the moves for nothing). */
		struct access_slot *sl = slot_of(m, ino);
		if (atomic_load(&sl->ino) == ino && atomic_load(&sl->prefetched))
			return;
		pr->ino = ino;
	}
	char v[8];
	if (tfs_getxattr_at(fs->tiers[src].rootfd, relpath, TFS_XATTR_PIN, v, sizeof(v)) > 0)
		return;
	uint64_t size = (uint64_t)st.st_size;
	for (int d = 0; d < src; d++) {
		struct tfs_tier *tr = &fs->tiers[d];
		const struct tcfg_tier *ct = &fs->cfg->tiers[d];
		pthread_mutex_lock(&m->lock);
		uint64_t incoming = m->incoming[d];
		pthread_mutex_unlock(&m->lock);
		/* Only into room under the high watermark: never evict for it. */
		double room = ct->high_watermark * (double)tr->capacity;
		/* A prefetch fills at most to the low watermark, leaving the band
		 * above it to the applications' writes, and leaves the headroom
		 * the running and coming phases write into. */
		if (pr->prefetch) {
			double keep = (double)tr->capacity - (double)atomic_load(&fs->prefetch_keep[d]);
			room = ct->low_watermark * (double)tr->capacity;
			if (keep < room)
				room = keep;
		}
		if ((double)(atomic_load(&tr->used) + incoming + size) > room)
			continue;
		/* Worth it only if the copy can be done before the readers start
		 * (a prefetch runs in a read-heavy phase: no deadline known). */
		uint64_t bw = fs->cfg->tiers[src].read_bandwidth;
		if (ct->write_bandwidth && (!bw || ct->write_bandwidth < bw))
			bw = ct->write_bandwidth;
		if (!pr->prefetch && runtime_s > 0 && bw && (double)size / (double)bw > runtime_s)
			continue;
		if (enqueue(fs, relpath, d, 1, 1, d, size) == 0) {
			pr->queued += size;
			pr->files++;
			if (pr->prefetch) {
				atomic_store(&claim_slot(m, pr->ino)->prefetched, 1);
			}
		}
		break;
	}
	(void)declared;
}

/* Proactive mode in a read-heavy phase: the inputs of the running and the
 * next level of each workflow, still to be read twice or more and on a
 * slower tier, move up into room left above the headroom.  One plan at a time: a new one
 * only once every promotion queued before has been carried out, so a file
 * is never queued twice. */
static void plan_prefetch(struct tfs *fs)
{
	struct tfs_migrator *m = fs->migrator;
	struct promo pr = {fs, 1, 0, 0, 0};
	pthread_mutex_lock(&m->lock);
	int busy = 0, n = m->ncurrent;
	for (int t = 0; t < fs->ntiers; t++)
		busy |= m->incoming[t] > 0;
	pthread_mutex_unlock(&m->lock);
	for (int i = 0; i < n && !busy; i++) {
		char dir[PATH_MAX];
		pthread_mutex_lock(&m->lock);
		snprintf(dir, sizeof(dir), "%s", m->current[i].dir);
		int64_t level = m->current[i].level;
		pthread_mutex_unlock(&m->lock);
		for (int64_t l = level; l <= level + 1; l++)
			tpl_level_inputs(fs->place, dir, (uint32_t)l, consider_promotion, &pr);
	}
	if (!pr.queued)
		return;
	atomic_fetch_add(&m->prefetch_plans, 1);
	atomic_fetch_add(&m->prefetch_files, pr.files);
	atomic_fetch_add(&m->prefetch_bytes, pr.queued);
	tfs_log(TCFG_LOG_INFO, "read-heavy phase: prefetching %llu bytes in %llu files of the running and next levels",
		(unsigned long long)pr.queued, (unsigned long long)pr.files);
}

/* On the create path: only note it; the tick plans the promotions. */
void tfs_migrator_level_started(struct tfs *fs, const char *dir, int64_t level)
{
	struct tfs_migrator *m = fs->migrator;
	if (!m || level < 0)
		return;
	pthread_mutex_lock(&m->lock);
	if (m->nlevels < (int)(sizeof(m->levels) / sizeof(m->levels[0]))) {
		snprintf(m->levels[m->nlevels].dir, sizeof(m->levels[0].dir), "%s", dir ? dir : "");
		m->levels[m->nlevels++].level = level;
	}
	pthread_mutex_unlock(&m->lock);
}

static void plan_promotions(struct tfs *fs, const char *dir, int64_t level)
{
	struct promo pr = {fs, 0, 0, 0, 0};
	tpl_level_inputs(fs->place, dir, (uint32_t)level + 1, consider_promotion, &pr);
	if (pr.queued)
		tfs_log(TCFG_LOG_INFO, "level %lld of the workflow at %s started: promoting %llu bytes for the next",
			(long long)level, dir[0] ? dir : ".", (unsigned long long)pr.queued);
}
