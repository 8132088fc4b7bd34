/*
 * test_rates.c - tier_monitor rates, moving averages, the ring, used/free
 * and the statvfs check, all on a clock the test moves (nothing sleeps).
 * Expected values are derived from the events the test feeds and the
 * definitions in monitor.h (rate = bytes / seconds; EWMA closes half the
 * gap per half-life).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mon_test.h"

static struct mon_state snap(struct mon *m)
{
	struct mon_state s;
	cr_assert_eq(mon_snapshot(m, &s), 0);
	return s;
}

static void tick(struct mon *m)
{
	cr_assert_eq(mon_tick(m), 0);
}

Test(monitor_rates, ten_mib_in_one_second_is_ten_mib_per_s)
{
	struct test_clock clk = {5 * NS_PER_S};
	struct mon_config cfg = test_config(&clk, 1 << 30, 1ull << 34, 1ull << 40);
	struct mon *m = test_mon(&cfg);

	/* 10 MiB in 160 writes of 64 KiB on ssd, 3 MiB read on mem. */
	for (int i = 0; i < 160; i++)
		mon_write(m, 1, 64 * 1024);
	for (int i = 0; i < 3; i++)
		mon_read(m, 0, 1 << 20);
	for (int i = 0; i < 7; i++)
		mon_create_file(m);
	for (int i = 0; i < 11; i++)
		mon_meta_op(m);
	test_clock_advance(&clk, 1.0);
	tick(m);

	struct mon_state s = snap(m);
	cr_assert_eq(s.ntiers, 3);
	cr_assert_str_eq(s.tiers[1].name, "ssd");
	cr_assert_float_eq(s.tiers[1].write_Bps_last, 10 * MiB, 1e-6);
	cr_assert_float_eq(s.tiers[1].write_Bps, 10 * MiB, 1e-6,
			   "the first tick seeds the average");
	cr_assert_float_eq(s.tiers[1].write_ops_per_s_last, 160, 1e-9);
	cr_assert_float_eq(s.tiers[1].read_Bps_last, 0, 1e-9);
	cr_assert_float_eq(s.tiers[0].read_Bps_last, 3 * MiB, 1e-6);
	cr_assert_float_eq(s.tiers[0].read_ops_per_s_last, 3, 1e-9);
	cr_assert_float_eq(s.tiers[0].write_Bps_last, 0, 1e-9);
	cr_assert_float_eq(s.tiers[2].write_Bps_last + s.tiers[2].read_Bps_last, 0, 1e-9);
	cr_assert_float_eq(s.creates_per_s_last, 7, 1e-9);
	cr_assert_float_eq(s.meta_per_s_last, 11, 1e-9);
	cr_assert_eq(s.tiers[1].write_bytes_total, 10 << 20);
	cr_assert_eq(s.tiers[1].writes_total, 160);
	cr_assert_eq(s.creates_total, 7);
	cr_assert_eq(s.ticks, 1);
	cr_assert_eq(s.frames, 1);

	/* Half a second with 5 MiB is 10 MiB/s too; the rate is per interval. */
	mon_write(m, 1, 5 << 20);
	test_clock_advance(&clk, 0.5);
	tick(m);
	s = snap(m);
	cr_assert_float_eq(s.tiers[1].write_Bps_last, 10 * MiB, 1e-6);
	cr_assert_float_eq(s.tiers[1].write_ops_per_s_last, 2, 1e-9);
	cr_assert_float_eq(s.creates_per_s_last, 0, 1e-9);

	/* The frame holds the interval's values, at seconds since create. */
	double fr[2 * mon_ncols(3)];
	cr_assert_eq(mon_copy_frames(m, fr, 2), 2);
	size_t nc = mon_ncols(3);
	cr_assert_float_eq(fr[0], 1.0, 1e-12);
	cr_assert_float_eq(fr[nc], 1.5, 1e-12);
	cr_assert_float_eq(fr[mon_col_tier(1, MON_COL_WRITE_BPS)], 10 * MiB, 1e-6);
	cr_assert_float_eq(fr[mon_col_tier(1, MON_COL_OPS)], 160, 1e-9);
	cr_assert_float_eq(fr[mon_col_tier(0, MON_COL_OPS)], 3, 1e-9);
	cr_assert_float_eq(fr[mon_col_global(3, MON_COL_CREATES)], 7, 1e-9);
	cr_assert_float_eq(fr[mon_col_global(3, MON_COL_META)], 11, 1e-9);
	mon_destroy(m);
}

Test(monitor_rates, tick_without_time_records_nothing)
{
	struct test_clock clk = {0};
	struct mon_config cfg = test_config(&clk, 100, 100, 100);
	struct mon *m = test_mon(&cfg);
	cr_assert_eq(mon_tick(m), -EAGAIN, "no time has passed since create");
	mon_write(m, 0, 1000);
	test_clock_advance(&clk, 2.0);
	tick(m);
	cr_assert_eq(mon_tick(m), -EAGAIN);
	struct mon_state s = snap(m);
	cr_assert_eq(s.ticks, 1);
	cr_assert_eq(s.frames, 1);
	cr_assert_float_eq(s.tiers[0].write_Bps_last, 500, 1e-9);
	cr_assert_eq(mon_tick(NULL), -EINVAL);
	mon_destroy(m);
}

/* EWMA with half-life H: after a step from 0 to R, H seconds of R bring the
 * average to R/2 whether they come as H ticks of 1 s or as one tick of H s;
 * after 2H seconds, 3R/4; a step back down halves the remainder again. */
Test(monitor_rates, ewma_closes_half_the_gap_per_half_life)
{
	const double H = 4.0, R = 8 * MiB;
	struct test_clock clk = {0}, clk2 = {0};
	struct mon_config cfg = test_config(&clk, 1 << 30, 1 << 30, 1 << 30);
	cfg.half_life_s = H;
	struct mon *m = test_mon(&cfg);
	struct mon_config cfg2 = test_config(&clk2, 1 << 30, 1 << 30, 1 << 30);
	cfg2.half_life_s = H;
	struct mon *m2 = test_mon(&cfg2);

	/* One idle second seeds both averages at 0. */
	test_clock_advance(&clk, 1);
	test_clock_advance(&clk2, 1);
	tick(m);
	tick(m2);
	for (int i = 0; i < (int)H; i++) {
		mon_write(m, 2, (uint64_t)R);
		test_clock_advance(&clk, 1);
		tick(m);
	}
	mon_write(m2, 2, (uint64_t)(R * H));
	test_clock_advance(&clk2, H);
	tick(m2);

	struct mon_state s = snap(m), s2 = snap(m2);
	cr_assert_float_eq(s.tiers[2].write_Bps, R / 2, R * 1e-12);
	cr_assert_float_eq(s2.tiers[2].write_Bps, R / 2, R * 1e-12);
	cr_assert_float_eq(s.tiers[2].write_Bps_last, R, 1e-6);
	cr_assert_float_eq(s.half_life_s, H, 0);
	/* The ops average follows the same law: 1 op/s step -> 1/2. */
	cr_assert_float_eq(s.tiers[2].write_ops_per_s, 0.5, 1e-12);

	for (int i = 0; i < (int)H; i++) {
		mon_write(m, 2, (uint64_t)R);
		test_clock_advance(&clk, 1);
		tick(m);
	}
	s = snap(m);
	cr_assert_float_eq(s.tiers[2].write_Bps, 3 * R / 4, R * 1e-12);

	for (int i = 0; i < (int)H; i++) {
		test_clock_advance(&clk, 1);
		tick(m);
	}
	s = snap(m);
	cr_assert_float_eq(s.tiers[2].write_Bps, 3 * R / 8, R * 1e-12);
	cr_assert_float_eq(s.tiers[2].write_Bps_last, 0, 0);
	mon_destroy(m);
	mon_destroy(m2);
}

Test(monitor_rates, default_half_life_is_documented_value)
{
	struct test_clock clk = {0};
	struct mon_config cfg = test_config(&clk, 1, 1, 1);
	struct mon *m = test_mon(&cfg);
	cr_assert_float_eq(snap(m).half_life_s, MON_DEFAULT_HALF_LIFE_S, 0);
	mon_destroy(m);
}

/* The ring keeps the newest MON_DEFAULT_HISTORY frames, oldest first. */
Test(monitor_rates, ring_wraps_at_3600)
{
	struct test_clock clk = {0};
	struct mon_config cfg = test_config(&clk, 1 << 30, 1 << 30, 1 << 30);
	struct mon *m = test_mon(&cfg);
	const size_t extra = 17, total = MON_DEFAULT_HISTORY + extra;
	cr_assert_eq(mon_history(m), 3600);
	for (size_t i = 1; i <= total; i++) {
		mon_write(m, 0, i); /* frame i carries write rate i */
		test_clock_advance(&clk, 1);
		tick(m);
	}
	size_t nc = mon_frame_cols(m);
	double *fr = malloc((MON_DEFAULT_HISTORY + 5) * nc * sizeof *fr);
	cr_assert_not_null(fr);
	size_t n = mon_copy_frames(m, fr, MON_DEFAULT_HISTORY + 5);
	cr_assert_eq(n, MON_DEFAULT_HISTORY);
	cr_assert_eq(snap(m).frames, MON_DEFAULT_HISTORY);
	cr_assert_eq(snap(m).ticks, total);
	for (size_t k = 0; k < n; k++) {
		double want = (double)(extra + 1 + k);
		cr_assert_float_eq(fr[k * nc], want, 1e-9, "frame %zu time", k);
		cr_assert_float_eq(fr[k * nc + mon_col_tier(0, MON_COL_WRITE_BPS)], want, 1e-9,
				   "frame %zu rate", k);
	}
	/* Asking for fewer gives the newest ones. */
	cr_assert_eq(mon_copy_frames(m, fr, 3), 3);
	cr_assert_float_eq(fr[0], (double)(total - 2), 1e-9);
	cr_assert_float_eq(fr[2 * nc], (double)total, 1e-9);
	free(fr);
	mon_destroy(m);
}

Test(monitor_rates, small_history_wraps_too)
{
	struct test_clock clk = {0};
	struct mon_config cfg = test_config(&clk, 1, 1, 1);
	cfg.history = 5;
	struct mon *m = test_mon(&cfg);
	for (int i = 0; i < 12; i++) {
		test_clock_advance(&clk, 1);
		tick(m);
	}
	double fr[5 * mon_ncols(3)];
	cr_assert_eq(mon_copy_frames(m, fr, 5), 5);
	for (int k = 0; k < 5; k++)
		cr_assert_float_eq(fr[k * mon_ncols(3)], 8.0 + k, 1e-9);
	mon_destroy(m);
}

Test(monitor_rates, used_free_fill_and_open)
{
	struct test_clock clk = {0};
	struct mon_config cfg = test_config(&clk, 1000, 5000, 0);
	cfg.tiers[1].used = 4000; /* the daemon's scan at mount */
	struct mon *m = test_mon(&cfg);

	cr_assert_eq(mon_free_bytes(m, 0), 1000);
	cr_assert_eq(mon_free_bytes(m, 1), 1000);
	cr_assert_eq(mon_free_bytes(m, 2), 0, "a tier of capacity 0 is always full");
	mon_used(m, 0, 300);
	cr_assert_eq(mon_free_bytes(m, 0), 700, "free follows mon_used at once, without a tick");
	mon_used(m, 0, 1500); /* over capacity: free stays 0, never wraps */
	cr_assert_eq(mon_free_bytes(m, 0), 0);
	cr_assert_eq(mon_free_bytes(m, 7), 0);
	cr_assert_eq(mon_free_bytes(m, -1), 0);
	mon_used_add(m, 2, -7); /* an uncharge seen before its charge */
	cr_assert_eq(snap(m).tiers[2].used, 0, "read as empty, not as 2^64 - 7");
	mon_used_add(m, 2, 7);
	cr_assert_eq(snap(m).tiers[2].used, 0);
	cr_assert_eq(mon_free_bytes(NULL, 0), 0);

	mon_used(m, 1, 5000);
	mon_open(m, 1);
	mon_open(m, 1);
	mon_open(m, 0);
	mon_close(m, 1);
	test_clock_advance(&clk, 2);
	tick(m);
	struct mon_state s = snap(m);
	cr_assert_eq(s.tiers[0].used, 1500);
	cr_assert_eq(s.tiers[0].free, 0);
	cr_assert_float_eq(s.tiers[0].used_frac, 1.5, 1e-12);
	cr_assert_float_eq(s.tiers[0].fill_Bps_last, 750, 1e-9, "0 -> 1500 bytes in 2 s");
	cr_assert_float_eq(s.tiers[1].fill_Bps_last, 500, 1e-9, "starts from the configured used");
	cr_assert_float_eq(s.tiers[1].used_frac, 1.0, 1e-12);
	cr_assert_eq(s.tiers[1].open_files, 1);
	cr_assert_eq(s.tiers[0].open_files, 1);
	cr_assert_eq(s.tiers[1].opens_total, 2);

	mon_used_add(m, 0, -1200); /* files removed: negative fill */
	mon_used_add(m, 0, 200);
	test_clock_advance(&clk, 1);
	tick(m);
	s = snap(m);
	cr_assert_float_eq(s.tiers[0].fill_Bps_last, -1000, 1e-9);
	cr_assert_eq(s.tiers[0].free, 500);
	double fr[mon_ncols(3)];
	cr_assert_eq(mon_copy_frames(m, fr, 1), 1);
	cr_assert_float_eq(fr[mon_col_tier(0, MON_COL_USED_FRAC)], 0.5, 1e-12);
	cr_assert_float_eq(fr[mon_col_tier(0, MON_COL_FILL_BPS)], -1000, 1e-9);
	cr_assert_float_eq(fr[mon_col_tier(1, MON_COL_OPEN)], 1, 0);
	cr_assert_float_eq(fr[mon_col_tier(2, MON_COL_USED_FRAC)], 0, 0);
	mon_destroy(m);
}

Test(monitor_rates, migration_backlog)
{
	struct test_clock clk = {0};
	struct mon_config cfg = test_config(&clk, 1, 1, 1);
	struct mon *m = test_mon(&cfg);
	mon_migrate_begin(m, 1, 4096);
	mon_migrate_begin(m, 2, 1000);
	mon_migrate_begin(m, 2, 24);
	mon_migrate_end(m, 2, 1000);
	struct mon_state s = snap(m);
	cr_assert_eq(s.migration_backlog_bytes, 4096 + 24);
	cr_assert_eq(s.tiers[1].migrating_in_bytes, 4096);
	cr_assert_eq(s.tiers[2].migrating_in_bytes, 24);
	test_clock_advance(&clk, 1);
	tick(m);
	double fr[mon_ncols(3)];
	cr_assert_eq(mon_copy_frames(m, fr, 1), 1);
	cr_assert_float_eq(fr[mon_col_global(3, MON_COL_BACKLOG)], 4120, 0);
	mon_migrate_end(m, 1, 4096);
	mon_migrate_end(m, 2, 24);
	cr_assert_eq(snap(m).migration_backlog_bytes, 0);
	mon_destroy(m);
}

struct log_capture {
	int n;
	char last[1024];
};

static void capture(void *ud, const char *msg)
{
	struct log_capture *c = ud;
	c->n++;
	snprintf(c->last, sizeof c->last, "%s", msg);
}

/* The real statvfs of a real directory: a capacity beyond the filesystem's
 * size cannot be kept and is reported (once); a tiny one can. */
Test(monitor_rates, statvfs_discrepancy_is_reported_not_fixed)
{
	char dir[] = "/tmp/tierfs-montest-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	struct test_clock clk = {0};
	struct log_capture lc = {0};
	struct mon_config cfg = test_config(&clk, UINT64_MAX / 2, 4096, 1);
	cfg.tiers[0].path = dir;
	cfg.tiers[1].path = dir;
	cfg.tiers[2].path = "/nonexistent/tierfs-montest";
	cfg.log = capture;
	cfg.log_ud = &lc;
	struct mon *m = test_mon(&cfg);
	mon_used(m, 0, 123);

	test_clock_advance(&clk, 1);
	tick(m);
	struct mon_state s = snap(m);
	cr_assert(s.tiers[0].fs_checked);
	cr_assert_eq(s.tiers[0].fs_errno, 0);
	cr_assert_gt(s.tiers[0].fs_used, 0);
	cr_assert(s.tiers[0].fs_short, "free %llu > available %llu",
		  (unsigned long long)s.tiers[0].free, (unsigned long long)s.tiers[0].fs_avail);
	cr_assert_eq(s.tiers[0].fs_unaccounted, (int64_t)(s.tiers[0].fs_used - 123));
	cr_assert_eq(s.tiers[0].free, UINT64_MAX / 2 - 123,
		     "the accounting is reported, not corrected");
	cr_assert_eq(mon_free_bytes(m, 0), UINT64_MAX / 2 - 123);
	cr_assert_not(s.tiers[1].fs_short);
	cr_assert_eq(s.tiers[2].fs_errno, ENOENT);
	cr_assert_eq(lc.n, 2, "one note for mem being short, one for pfs's statvfs");

	/* Nothing changed: no repeated notes. */
	test_clock_advance(&clk, 1);
	tick(m);
	cr_assert_eq(lc.n, 2);

	/* mem's accounting now holds its whole capacity: no longer short. */
	mon_used(m, 0, UINT64_MAX / 2);
	test_clock_advance(&clk, 1);
	tick(m);
	cr_assert_not(snap(m).tiers[0].fs_short);
	cr_assert_eq(lc.n, 3);
	cr_assert(strstr(lc.last, "tier mem") && strstr(lc.last, dir), "%s", lc.last);
	mon_destroy(m);
	rmdir(dir);
}

Test(monitor_rates, statvfs_failure_names_tier_and_path)
{
	struct test_clock clk = {0};
	struct log_capture lc = {0};
	struct mon_config cfg = test_config(&clk, 1, 1, 1);
	cfg.tiers[1].path = "/nonexistent/tierfs-montest";
	cfg.log = capture;
	cfg.log_ud = &lc;
	cfg.statvfs_every = 3;
	struct mon *m = test_mon(&cfg);
	test_clock_advance(&clk, 1);
	tick(m);
	cr_assert_eq(lc.n, 1);
	cr_assert(strstr(lc.last, "tier ssd") && strstr(lc.last, "/nonexistent/tierfs-montest") &&
		      strstr(lc.last, strerror(ENOENT)),
		  "%s", lc.last);
	cr_assert_not(snap(m).tiers[0].fs_checked, "no path, no check");
	mon_destroy(m);
}

Test(monitor_rates, bad_config_refused)
{
	struct test_clock clk = {0};
	struct mon *m = (struct mon *)&clk;
	struct mon_config cfg = test_config(&clk, 1, 1, 1);
	cfg.ntiers = 0;
	cr_assert_eq(mon_create(&cfg, &m), -EINVAL);
	cr_assert_null(m, "*out is cleared on failure");
	cfg.ntiers = MON_MAX_TIERS + 1;
	cr_assert_eq(mon_create(&cfg, &m), -EINVAL);
	cfg = test_config(&clk, 1, 1, 1);
	cfg.tiers[2].name = "mem";
	cr_assert_eq(mon_create(&cfg, &m), -EINVAL, "duplicate name");
	cfg.tiers[2].name = "p,fs";
	cr_assert_eq(mon_create(&cfg, &m), -EINVAL, "a comma would break the CSV header");
	cfg.tiers[2].name = "";
	cr_assert_eq(mon_create(&cfg, &m), -EINVAL);
	cfg.tiers[2].name = NULL;
	cr_assert_eq(mon_create(&cfg, &m), -EINVAL);
	cfg = test_config(&clk, 1, 1, 1);
	cfg.half_life_s = -1;
	cr_assert_eq(mon_create(&cfg, &m), -EINVAL);
	cfg.half_life_s = NAN;
	cr_assert_eq(mon_create(&cfg, &m), -EINVAL);
	cr_assert_eq(mon_create(NULL, &m), -EINVAL);
	cfg = test_config(&clk, 1, 1, 1);
	cr_assert_eq(mon_create(&cfg, NULL), -EINVAL);
	cfg.tiers[0].name = "fast_ssd-2.a";
	cr_assert_eq(mon_create(&cfg, &m), 0);
	cr_assert_str_eq(mon_tier_name(m, 0), "fast_ssd-2.a");
	cr_assert_null(mon_tier_name(m, 3));
	mon_destroy(m);
}

Test(monitor_rates, null_and_bad_tier_are_safe)
{
	mon_destroy(NULL);
	mon_read(NULL, 0, 1);
	mon_write(NULL, 0, 1);
	mon_open(NULL, 0);
	mon_close(NULL, 0);
	mon_create_file(NULL);
	mon_meta_op(NULL);
	mon_used(NULL, 0, 1);
	mon_migrate_begin(NULL, 0, 1);
	mon_migrate_end(NULL, 0, 1);
	struct mon_state s;
	cr_assert_eq(mon_snapshot(NULL, &s), -EINVAL);
	cr_assert_eq(mon_tier_count(NULL), 0);
	cr_assert_eq(mon_copy_frames(NULL, NULL, 1), 0);

	struct test_clock clk = {0};
	struct mon_config cfg = test_config(&clk, 1, 1, 1);
	struct mon *m = test_mon(&cfg);
	mon_write(m, 3, 100);
	mon_read(m, -1, 100);
	mon_open(m, 99);
	mon_used(m, 3, 5);
	test_clock_advance(&clk, 1);
	tick(m);
	s = snap(m);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(s.tiers[i].write_bytes_total + s.tiers[i].read_bytes_total, 0);
		cr_assert_eq(s.tiers[i].open_files, 0);
	}
	mon_destroy(m);
}
