/*
 * mon_core.c - the monitor: counters fed by the I/O path, folded into rates
 * and one frame per tick.
 *
 * Hot path: events add to a counter shard chosen once per thread (round
 * robin over MON_SHARDS cache-line-aligned shards), with relaxed atomic
 * adds and no lock, so concurrent I/O threads do not bounce a shared line.
 * Counters only grow (wrapping is harmless: the tick takes differences in
 * unsigned arithmetic); gauges that must be exact at any instant (used,
 * migration bytes) are single atomics on their own line per tier.
 *
 * Lock: m->lock (one mutex) protects everything marked "lock" below: the
 * previous totals, the moving averages, the statvfs results and the ring.
 * It is taken by mon_tick, mon_snapshot and mon_copy_frames, never by an
 * event.  statvfs and the log and frame callbacks run outside it, so a hung
 * backing filesystem or a slow log sink cannot stall a snapshot.
 *
 * Assumes one ticking thread; two concurrent ticks are still correct (the
 * lock orders them) but the statvfs schedule may then run a check twice.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "monitor.h"

#define MON_SHARDS    16
#define MON_CACHELINE 64

struct mon_tier_ctr {
	_Atomic uint64_t rbytes, wbytes, reads, writes, opens, closes;
};

struct mon_shard {
	struct mon_tier_ctr t[MON_MAX_TIERS];
	_Atomic uint64_t creates, metas;
} __attribute__((aligned(MON_CACHELINE)));

/* Gauges written by the daemon on every charge: one line per tier. */
struct mon_gauge {
	_Atomic uint64_t used;
	_Atomic int64_t migrating; /* signed: an unmatched end shows as negative */
} __attribute__((aligned(MON_CACHELINE)));

/* The counters summed over all shards. */
struct mon_totals {
	uint64_t rbytes[MON_MAX_TIERS], wbytes[MON_MAX_TIERS];
	uint64_t reads[MON_MAX_TIERS], writes[MON_MAX_TIERS];
	uint64_t opens[MON_MAX_TIERS], closes[MON_MAX_TIERS];
	uint64_t creates, metas;
};

struct mon_rate {
	double last, avg;
};

struct mon_tier {
	char name[MON_NAME_MAX + 1];
	uint64_t capacity;
	char *path;
	/* lock */
	uint64_t prev_used;
	struct mon_rate rd, wr, rops, wops, fill;
	int fs_checked, fs_errno, fs_short;
	uint64_t fs_used, fs_avail;
};

struct mon {
	struct mon_shard shards[MON_SHARDS];
	struct mon_gauge gauge[MON_MAX_TIERS];

	/* immutable after mon_create */
	size_t ntiers, ncols, history;
	double half_life_s;
	unsigned statvfs_every;
	mon_clock_fn clock;
	void *clock_ud;
	mon_log_fn log;
	void *log_ud;
	mon_frame_fn on_frame;
	void *frame_ud;
	uint64_t start_ns;

	pthread_mutex_t lock;
	struct mon_tier tiers[MON_MAX_TIERS]; /* names etc. immutable; see struct */
	uint64_t last_ns;		      /* lock */
	struct mon_totals prev;		      /* lock */
	struct mon_rate creates, metas;	      /* lock */
	_Atomic uint64_t ticks;		      /* written under lock, read anywhere */
	double *ring;			      /* lock: history * ncols */
	size_t ring_head, ring_count;	      /* lock: next slot, frames held */
};

static uint64_t mon_monotonic_ns(void *ud)
{
	(void)ud;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void mon_note(const struct mon *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void mon_note(const struct mon *m, const char *fmt, ...)
{
	if (!m->log)
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	m->log(m->log_ud, buf);
}

/* Tier names become CSV column prefixes and tierctl words: the same
 * alphabet as tierfs.conf's [tier NAME]. */
static int mon_name_ok(const char *s)
{
	size_t n = 0;
	if (!s || !*s)
		return 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return n <= MON_NAME_MAX;
}

int mon_create(const struct mon_config *cfg, struct mon **out)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!cfg || cfg->ntiers < 1 || cfg->ntiers > MON_MAX_TIERS)
		return -EINVAL;
	double hl = cfg->half_life_s == 0 ? MON_DEFAULT_HALF_LIFE_S : cfg->half_life_s;
	if (!isfinite(hl) || hl <= 0)
		return -EINVAL;
	for (size_t i = 0; i < cfg->ntiers; i++) {
		if (!mon_name_ok(cfg->tiers[i].name))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (strcmp(cfg->tiers[i].name, cfg->tiers[j].name) == 0)
				return -EINVAL;
	}

	struct mon *m = NULL;
	if (posix_memalign((void **)&m, MON_CACHELINE, sizeof *m) != 0)
		return -ENOMEM;
	memset(m, 0, sizeof *m);
	m->ntiers = cfg->ntiers;
	m->ncols = mon_ncols(cfg->ntiers);
	m->history = cfg->history ? cfg->history : MON_DEFAULT_HISTORY;
	m->half_life_s = hl;
	m->statvfs_every = cfg->statvfs_every ? cfg->statvfs_every : 1;
	m->clock = cfg->clock ? cfg->clock : mon_monotonic_ns;
	m->clock_ud = cfg->clock ? cfg->clock_ud : NULL;
	m->log = cfg->log;
	m->log_ud = cfg->log_ud;
	m->on_frame = cfg->on_frame;
	m->frame_ud = cfg->frame_ud;

	int rc = -ENOMEM;
	if (m->history > SIZE_MAX / sizeof(double) / m->ncols)
		goto fail;
	m->ring = calloc(m->history * m->ncols, sizeof(double));
	if (!m->ring)
		goto fail;
	for (size_t i = 0; i < cfg->ntiers; i++) {
		struct mon_tier *t = &m->tiers[i];
		snprintf(t->name, sizeof t->name, "%s", cfg->tiers[i].name);
		t->capacity = cfg->tiers[i].capacity;
		t->prev_used = cfg->tiers[i].used;
		atomic_init(&m->gauge[i].used, cfg->tiers[i].used);
		if (cfg->tiers[i].path && !(t->path = strdup(cfg->tiers[i].path)))
			goto fail;
	}
	if ((rc = -pthread_mutex_init(&m->lock, NULL)) != 0)
		goto fail;
	m->start_ns = m->last_ns = m->clock(m->clock_ud);
	*out = m;
	return 0;
fail:
	for (size_t i = 0; i < MON_MAX_TIERS; i++)
		free(m->tiers[i].path);
	free(m->ring);
	free(m);
	return rc;
}

void mon_destroy(struct mon *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	for (size_t i = 0; i < m->ntiers; i++)
		free(m->tiers[i].path);
	free(m->ring);
	free(m);
}

/* ---- events ---------------------------------------------------------------- */

static _Atomic unsigned mon_shard_seq;
static _Thread_local unsigned mon_my_shard; /* 1 + shard index; 0 = not chosen yet */

static inline struct mon_shard *mon_shard_of_thread(struct mon *m)
{
	unsigned s = mon_my_shard;
	if (__builtin_expect(s == 0, 0)) {
		s = 1 +
		    atomic_fetch_add_explicit(&mon_shard_seq, 1, memory_order_relaxed) % MON_SHARDS;
		mon_my_shard = s;
	}
	return &m->shards[s - 1];
}

#define MON_ADD(field, v)     atomic_fetch_add_explicit(&(field), (v), memory_order_relaxed)
#define MON_BAD_TIER(m, tier) (!(m) || (unsigned)(tier) >= (m)->ntiers)

void mon_read(struct mon *m, int tier, uint64_t bytes)
{
	if (MON_BAD_TIER(m, tier))
		return;
	struct mon_tier_ctr *c = &mon_shard_of_thread(m)->t[tier];
	MON_ADD(c->rbytes, bytes);
	MON_ADD(c->reads, 1);
}

void mon_write(struct mon *m, int tier, uint64_t bytes)
{
	if (MON_BAD_TIER(m, tier))
		return;
	struct mon_tier_ctr *c = &mon_shard_of_thread(m)->t[tier];
	MON_ADD(c->wbytes, bytes);
	MON_ADD(c->writes, 1);
}

void mon_open(struct mon *m, int tier)
{
	if (!MON_BAD_TIER(m, tier))
		MON_ADD(mon_shard_of_thread(m)->t[tier].opens, 1);
}

void mon_close(struct mon *m, int tier)
{
	if (!MON_BAD_TIER(m, tier))
		MON_ADD(mon_shard_of_thread(m)->t[tier].closes, 1);
}

void mon_create_file(struct mon *m)
{
	if (m)
		MON_ADD(mon_shard_of_thread(m)->creates, 1);
}

void mon_meta_op(struct mon *m)
{
	if (m)
		MON_ADD(mon_shard_of_thread(m)->metas, 1);
}

void mon_used(struct mon *m, int tier, uint64_t used_bytes)
{
	if (!MON_BAD_TIER(m, tier))
		atomic_store_explicit(&m->gauge[tier].used, used_bytes, memory_order_relaxed);
}

void mon_used_add(struct mon *m, int tier, int64_t delta)
{
	if (!MON_BAD_TIER(m, tier))
		MON_ADD(m->gauge[tier].used, (uint64_t)delta);
}

void mon_migrate_begin(struct mon *m, int dst_tier, uint64_t bytes)
{
	if (!MON_BAD_TIER(m, dst_tier))
		MON_ADD(m->gauge[dst_tier].migrating, (int64_t)bytes);
}

void mon_migrate_end(struct mon *m, int dst_tier, uint64_t bytes)
{
	if (!MON_BAD_TIER(m, dst_tier))
		atomic_fetch_sub_explicit(&m->gauge[dst_tier].migrating, (int64_t)bytes,
					  memory_order_relaxed);
}

/* ---- folding -------------------------------------------------------------- */

#define MON_LOAD(field) atomic_load_explicit(&(field), memory_order_relaxed)

static void mon_sum(const struct mon *m, struct mon_totals *tot)
{
	memset(tot, 0, sizeof *tot);
	for (size_t s = 0; s < MON_SHARDS; s++) {
		const struct mon_shard *sh = &m->shards[s];
		for (size_t i = 0; i < m->ntiers; i++) {
			tot->rbytes[i] += MON_LOAD(sh->t[i].rbytes);
			tot->wbytes[i] += MON_LOAD(sh->t[i].wbytes);
			tot->reads[i] += MON_LOAD(sh->t[i].reads);
			tot->writes[i] += MON_LOAD(sh->t[i].writes);
			tot->opens[i] += MON_LOAD(sh->t[i].opens);
			tot->closes[i] += MON_LOAD(sh->t[i].closes);
		}
		tot->creates += MON_LOAD(sh->creates);
		tot->metas += MON_LOAD(sh->metas);
	}
}

/* mon_used_add deltas may cross zero for an instant (an uncharge seen
 * before its charge): read that as empty, not as 16 EiB. */
static uint64_t mon_used_now(const struct mon *m, size_t tier)
{
	uint64_t v = MON_LOAD(m->gauge[tier].used);
	return (int64_t)v < 0 ? 0 : v;
}

static uint64_t mon_backlog(const struct mon *m)
{
	int64_t sum = 0;
	for (size_t i = 0; i < m->ntiers; i++)
		sum += MON_LOAD(m->gauge[i].migrating);
	return sum > 0 ? (uint64_t)sum : 0;
}

/* The first sample seeds the average; later ones move it by the weight
 * that makes dt seconds of a constant rate close half the gap every
 * half-life, whatever the tick spacing. */
static void mon_rate_update(struct mon_rate *r, double v, double alpha, int first)
{
	r->last = v;
	r->avg = first ? v : r->avg + alpha * (v - r->avg);
}

struct mon_probe {
	int done, err;
	uint64_t used, avail;
};

static void mon_statvfs(const struct mon *m, struct mon_probe *p)
{
	for (size_t i = 0; i < m->ntiers; i++) {
		if (!m->tiers[i].path)
			continue;
		struct statvfs sv;
		p[i].done = 1;
		if (statvfs(m->tiers[i].path, &sv) != 0) {
			p[i].err = errno;
			continue;
		}
		p[i].used = (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
		p[i].avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	}
}

static uint64_t mon_free_of(uint64_t capacity, uint64_t used)
{
	return used < capacity ? capacity - used : 0;
}

/* What changed in a statvfs check, told after the lock is dropped. */
struct mon_fs_news {
	int err_changed, short_changed;
};

static void mon_apply_probe(struct mon_tier *t, const struct mon_probe *p, uint64_t used,
			    struct mon_fs_news *news)
{
	int was_err = t->fs_checked ? t->fs_errno : 0, was_short = t->fs_short;
	t->fs_checked = 1;
	t->fs_errno = p->err;
	if (!p->err) {
		t->fs_used = p->used;
		t->fs_avail = p->avail;
		t->fs_short = mon_free_of(t->capacity, used) > p->avail;
	}
	news->err_changed = p->err != was_err;
	news->short_changed = !p->err && t->fs_short != was_short;
}

static void mon_tell_fs_news(const struct mon *m, const struct mon_tier_state *s,
			     const struct mon_fs_news *news, const char *path)
{
	if (news->err_changed && s->fs_errno)
		mon_note(m, "tier %s: statvfs of backing directory %s failed: %s", s->name, path,
			 strerror(s->fs_errno));
	else if (news->err_changed)
		mon_note(m, "tier %s: statvfs of backing directory %s works again", s->name, path);
	if (news->short_changed && s->fs_short)
		mon_note(
		    m,
		    "tier %s: backing filesystem of %s has %llu bytes available but the tier's accounting promises %llu free (capacity %llu, used %llu)",
		    s->name, path, (unsigned long long)s->fs_avail, (unsigned long long)s->free,
		    (unsigned long long)s->capacity, (unsigned long long)s->used);
	else if (news->short_changed)
		mon_note(
		    m,
		    "tier %s: backing filesystem of %s again has room for the tier's free space (%llu bytes available)",
		    s->name, path, (unsigned long long)s->fs_avail);
}

static void mon_fill_tier_state(const struct mon *m, size_t i, const struct mon_totals *tot,
				struct mon_tier_state *s);

int mon_tick(struct mon *m)
{
	if (!m)
		return -EINVAL;
	struct mon_probe probe[MON_MAX_TIERS] = {0};
	if (MON_LOAD(m->ticks) % m->statvfs_every == 0)
		mon_statvfs(m, probe);

	double frame[1 + MON_MAX_TIERS * MON_TIER_NCOLS + MON_GLOBAL_NCOLS];
	struct mon_fs_news news[MON_MAX_TIERS] = {0};
	struct mon_tier_state told[MON_MAX_TIERS];
	struct mon_totals tot;

	pthread_mutex_lock(&m->lock);
	uint64_t now = m->clock(m->clock_ud);
	if (now <= m->last_ns) {
		pthread_mutex_unlock(&m->lock);
		return -EAGAIN;
	}
	double dt = (double)(now - m->last_ns) / 1e9;
	double alpha = -expm1(-dt * M_LN2 / m->half_life_s);
	int first = MON_LOAD(m->ticks) == 0;
	mon_sum(m, &tot);
	const struct mon_totals *pv = &m->prev;

	frame[0] = (double)(now - m->start_ns) / 1e9;
	for (size_t i = 0; i < m->ntiers; i++) {
		struct mon_tier *t = &m->tiers[i];
		uint64_t used = mon_used_now(m, i);
		mon_rate_update(&t->rd, (double)(tot.rbytes[i] - pv->rbytes[i]) / dt, alpha, first);
		mon_rate_update(&t->wr, (double)(tot.wbytes[i] - pv->wbytes[i]) / dt, alpha, first);
		mon_rate_update(&t->rops, (double)(tot.reads[i] - pv->reads[i]) / dt, alpha, first);
		mon_rate_update(&t->wops, (double)(tot.writes[i] - pv->writes[i]) / dt, alpha,
				first);
		mon_rate_update(&t->fill, ((double)used - (double)t->prev_used) / dt, alpha, first);
		t->prev_used = used;
		if (probe[i].done)
			mon_apply_probe(t, &probe[i], used, &news[i]);
		if (news[i].err_changed || news[i].short_changed)
			mon_fill_tier_state(m, i, &tot, &told[i]);

		int64_t open = (int64_t)(tot.opens[i] - tot.closes[i]);
		frame[mon_col_tier(i, MON_COL_READ_BPS)] = t->rd.last;
		frame[mon_col_tier(i, MON_COL_WRITE_BPS)] = t->wr.last;
		frame[mon_col_tier(i, MON_COL_OPS)] = t->rops.last + t->wops.last;
		frame[mon_col_tier(i, MON_COL_USED_FRAC)] =
		    t->capacity ? (double)used / (double)t->capacity : 0;
		frame[mon_col_tier(i, MON_COL_FILL_BPS)] = t->fill.last;
		frame[mon_col_tier(i, MON_COL_OPEN)] = open > 0 ? (double)open : 0;
	}
	mon_rate_update(&m->creates, (double)(tot.creates - pv->creates) / dt, alpha, first);
	mon_rate_update(&m->metas, (double)(tot.metas - pv->metas) / dt, alpha, first);
	frame[mon_col_global(m->ntiers, MON_COL_CREATES)] = m->creates.last;
	frame[mon_col_global(m->ntiers, MON_COL_META)] = m->metas.last;
	frame[mon_col_global(m->ntiers, MON_COL_BACKLOG)] = (double)mon_backlog(m);

	memcpy(m->ring + m->ring_head * m->ncols, frame, m->ncols * sizeof(double));
	m->ring_head = (m->ring_head + 1) % m->history;
	if (m->ring_count < m->history)
		m->ring_count++;
	m->prev = tot;
	m->last_ns = now;
	atomic_store(&m->ticks, MON_LOAD(m->ticks) + 1);
	pthread_mutex_unlock(&m->lock);

	for (size_t i = 0; i < m->ntiers; i++)
		if (news[i].err_changed || news[i].short_changed)
			mon_tell_fs_news(m, &told[i], &news[i], m->tiers[i].path);
	if (m->on_frame)
		m->on_frame(m->frame_ud, frame, m->ncols);
	return 0;
}

/* ---- state ---------------------------------------------------------------- */

/* Caller holds m->lock (the rates and statvfs fields). */
static void mon_fill_tier_state(const struct mon *m, size_t i, const struct mon_totals *tot,
				struct mon_tier_state *s)
{
	const struct mon_tier *t = &m->tiers[i];
	memset(s, 0, sizeof *s);
	memcpy(s->name, t->name, sizeof s->name);
	s->capacity = t->capacity;
	s->used = mon_used_now(m, i);
	s->free = mon_free_of(t->capacity, s->used);
	s->used_frac = t->capacity ? (double)s->used / (double)t->capacity : 0;
	s->read_Bps = t->rd.avg;
	s->read_Bps_last = t->rd.last;
	s->write_Bps = t->wr.avg;
	s->write_Bps_last = t->wr.last;
	s->read_ops_per_s = t->rops.avg;
	s->read_ops_per_s_last = t->rops.last;
	s->write_ops_per_s = t->wops.avg;
	s->write_ops_per_s_last = t->wops.last;
	s->fill_Bps = t->fill.avg;
	s->fill_Bps_last = t->fill.last;
	s->open_files = (int64_t)(tot->opens[i] - tot->closes[i]);
	int64_t mig = MON_LOAD(m->gauge[i].migrating);
	s->migrating_in_bytes = mig > 0 ? (uint64_t)mig : 0;
	s->read_bytes_total = tot->rbytes[i];
	s->write_bytes_total = tot->wbytes[i];
	s->reads_total = tot->reads[i];
	s->writes_total = tot->writes[i];
	s->opens_total = tot->opens[i];
	s->fs_checked = t->fs_checked;
	s->fs_errno = t->fs_errno;
	s->fs_used = t->fs_used;
	s->fs_avail = t->fs_avail;
	if (t->fs_checked && !t->fs_errno)
		s->fs_unaccounted = (int64_t)(t->fs_used - s->used);
	s->fs_short = t->fs_short;
}

int mon_snapshot(struct mon *m, struct mon_state *out)
{
	if (!m || !out)
		return -EINVAL;
	memset(out, 0, sizeof *out);
	struct mon_totals tot;
	pthread_mutex_lock(&m->lock);
	mon_sum(m, &tot);
	out->ntiers = m->ntiers;
	for (size_t i = 0; i < m->ntiers; i++)
		mon_fill_tier_state(m, i, &tot, &out->tiers[i]);
	out->creates_per_s = m->creates.avg;
	out->creates_per_s_last = m->creates.last;
	out->meta_per_s = m->metas.avg;
	out->meta_per_s_last = m->metas.last;
	out->ticks = MON_LOAD(m->ticks);
	out->frames = m->ring_count;
	pthread_mutex_unlock(&m->lock);
	out->creates_total = tot.creates;
	out->meta_total = tot.metas;
	out->migration_backlog_bytes = mon_backlog(m);
	out->uptime_s = (double)(m->clock(m->clock_ud) - m->start_ns) / 1e9;
	out->half_life_s = m->half_life_s;
	return 0;
}

uint64_t mon_free_bytes(const struct mon *m, int tier)
{
	if (MON_BAD_TIER(m, tier))
		return 0;
	return mon_free_of(m->tiers[tier].capacity, mon_used_now(m, (size_t)tier));
}

size_t mon_tier_count(const struct mon *m)
{
	return m ? m->ntiers : 0;
}

const char *mon_tier_name(const struct mon *m, int tier)
{
	return MON_BAD_TIER(m, tier) ? NULL : m->tiers[tier].name;
}

size_t mon_frame_cols(const struct mon *m)
{
	return m ? m->ncols : 0;
}

size_t mon_history(const struct mon *m)
{
	return m ? m->history : 0;
}

size_t mon_copy_frames(struct mon *m, double *dst, size_t max_frames)
{
	if (!m || !dst)
		return 0;
	pthread_mutex_lock(&m->lock);
	size_t n = m->ring_count < max_frames ? m->ring_count : max_frames;
	/* The oldest of the newest n frames sits n slots behind the head. */
	size_t start = (m->ring_head + m->history - n) % m->history;
	for (size_t k = 0; k < n; k++)
		memcpy(dst + k * m->ncols, m->ring + ((start + k) % m->history) * m->ncols,
		       m->ncols * sizeof(double));
	pthread_mutex_unlock(&m->lock);
	return n;
}

/* ---- V8 ---------------------------------------------------------------------- */

int mon_task_input_bytes(const char *const *paths, size_t n, mon_size_fn size_of, void *arg,
			 uint64_t *total, size_t *missing)
{
	if ((!paths && n) || !size_of || !total)
		return -EINVAL;
	uint64_t sum = 0;
	size_t miss = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t sz = 0;
		if (!paths[i] || size_of(arg, paths[i], &sz) != 0)
			miss++;
		else
			sum += sz;
	}
	*total = sum;
	if (missing)
		*missing = miss;
	return 0;
}
