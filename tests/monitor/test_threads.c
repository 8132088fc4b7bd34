/*
 * test_threads.c - events from many threads while another thread ticks:
 * no event is lost or counted twice.  The totals in the snapshot and the
 * sum of the per-frame rates (each frame is one clock second, so rate x 1 s
 * is the bytes of that frame) must both equal what the workers fed, which
 * the test recomputes from the workers' own formula.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "mon_test.h"

#define WORKERS	  4
#define ITERS	  200000
#define LEFT_OPEN 3 /* opens each worker never closes */

struct shared {
	struct mon *m;
	struct test_clock clk;
	atomic_int running;
	/* on_frame sums, written by the ticking thread only */
	double write_bytes[3], read_bytes[3], ops[3], creates, metas;
	size_t frames;
	atomic_int failures; /* checks failed in other threads (asserted in the test's thread) */
};

static uint64_t wsize(int w, int i)
{
	return (uint64_t)((i * 7 + w) % 4096) + 1;
}

struct wargs {
	struct shared *sh;
	int w;
};

static void *work(void *arg)
{
	struct wargs *a = arg;
	struct mon *m = a->sh->m;
	for (int i = 0; i < ITERS; i++) {
		int t = (i + a->w) % 3;
		mon_write(m, t, wsize(a->w, i));
		mon_read(m, (t + 1) % 3, wsize(a->w, i) * 2);
		mon_open(m, t);
		if (i >= LEFT_OPEN)
			mon_close(m, t);
		if (i % 10 == 0)
			mon_create_file(m);
		mon_used_add(m, t, 5); /* +2 per iteration in the end */
		mon_used_add(m, t, -3);
		mon_meta_op(m);
		if (i % 1000 == 0)
			mon_migrate_begin(m, t, 100);
		if (i % 1000 == 0)
			mon_migrate_end(m, t, 100);
	}
	return NULL;
}

static void on_frame(void *ud, const double *fr, size_t ncols)
{
	struct shared *sh = ud;
	if (ncols != mon_ncols(3))
		atomic_fetch_add(&sh->failures, 1);
	for (size_t t = 0; t < 3; t++) {
		sh->write_bytes[t] += fr[mon_col_tier(t, MON_COL_WRITE_BPS)];
		sh->read_bytes[t] += fr[mon_col_tier(t, MON_COL_READ_BPS)];
		sh->ops[t] += fr[mon_col_tier(t, MON_COL_OPS)];
	}
	sh->creates += fr[mon_col_global(3, MON_COL_CREATES)];
	sh->metas += fr[mon_col_global(3, MON_COL_META)];
	sh->frames++;
}

static void *ticker(void *arg)
{
	struct shared *sh = arg;
	struct mon_state s;
	while (atomic_load(&sh->running)) {
		test_clock_advance(&sh->clk, 1.0);
		if (mon_tick(sh->m) != 0 || mon_snapshot(sh->m, &s) != 0)
			atomic_fetch_add(&sh->failures, 1);
		for (size_t t = 0; t < 3; t++)
			if (s.tiers[t].free > s.tiers[t].capacity ||
			    s.tiers[t].free !=
				(s.tiers[t].used < 1000 ? 1000 - s.tiers[t].used : 0) ||
			    mon_free_bytes(sh->m, (int)t) > 1000)
				atomic_fetch_add(&sh->failures, 1);
		sched_yield();
	}
	return NULL;
}

Test(monitor_threads, totals_exact_under_concurrent_events_and_ticks)
{
	static struct shared sh;
	memset(&sh, 0, sizeof sh);
	struct mon_config cfg = test_config(&sh.clk, 1000, 1000, 1000);
	cfg.on_frame = on_frame;
	cfg.frame_ud = &sh;
	cr_assert_eq(mon_create(&cfg, &sh.m), 0);
	atomic_store(&sh.running, 1);

	pthread_t tt, th[WORKERS];
	struct wargs wa[WORKERS];
	cr_assert_eq(pthread_create(&tt, NULL, ticker, &sh), 0);
	for (int w = 0; w < WORKERS; w++) {
		wa[w] = (struct wargs){&sh, w};
		cr_assert_eq(pthread_create(&th[w], NULL, work, &wa[w]), 0);
	}
	for (int w = 0; w < WORKERS; w++)
		pthread_join(th[w], NULL);
	atomic_store(&sh.running, 0);
	pthread_join(tt, NULL);
	test_clock_advance(&sh.clk, 1.0);
	cr_assert_eq(mon_tick(sh.m), 0); /* the last events go into a final frame */

	uint64_t want_w[3] = {0}, want_r[3] = {0}, want_n[3] = {0}, want_creates = 0;
	for (int w = 0; w < WORKERS; w++)
		for (int i = 0; i < ITERS; i++) {
			int t = (i + w) % 3;
			want_w[t] += wsize(w, i);
			want_r[(t + 1) % 3] += wsize(w, i) * 2;
			want_n[t]++;
			want_creates += i % 10 == 0;
		}
	int64_t want_open[3] = {0};
	for (int w = 0; w < WORKERS; w++)
		for (int i = 0; i < LEFT_OPEN; i++)
			want_open[(i + w) % 3]++;

	struct mon_state s;
	cr_assert_eq(mon_snapshot(sh.m, &s), 0);
	cr_assert_eq(atomic_load(&sh.failures), 0);
	cr_assert_gt(sh.frames, 1, "the ticker ran while workers did");
	for (int t = 0; t < 3; t++) {
		cr_assert_eq(s.tiers[t].write_bytes_total, want_w[t], "tier %d", t);
		cr_assert_eq(s.tiers[t].read_bytes_total, want_r[t], "tier %d", t);
		cr_assert_eq(s.tiers[t].writes_total, want_n[t]);
		cr_assert_eq(s.tiers[t].reads_total, want_n[(t + 2) % 3],
			     "reads land one tier further");
		cr_assert_eq(s.tiers[t].open_files, want_open[t], "tier %d", t);
		cr_assert_eq(s.tiers[t].used, 2 * want_n[t], "tier %d", t);
		cr_assert_eq(s.tiers[t].opens_total, want_n[t]);
		cr_assert(sh.write_bytes[t] == (double)want_w[t],
			  "tier %d: frames sum %.17g, fed %llu", t, sh.write_bytes[t],
			  (unsigned long long)want_w[t]);
		cr_assert(sh.read_bytes[t] == (double)want_r[t], "tier %d", t);
		cr_assert(sh.ops[t] == (double)(want_n[t] + want_n[(t + 2) % 3]), "tier %d ops", t);
	}
	cr_assert_eq(s.creates_total, want_creates);
	cr_assert(sh.creates == (double)want_creates);
	cr_assert_eq(s.meta_total, (uint64_t)WORKERS * ITERS);
	cr_assert(sh.metas == (double)WORKERS * ITERS);
	cr_assert_eq(s.migration_backlog_bytes, 0);
	cr_assert_eq(s.ticks, sh.frames);
	mon_destroy(sh.m);
}
