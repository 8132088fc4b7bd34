/*
 * test_csv.c - the time series as CSV: exact round trip of what the ring
 * holds, atomic replacement, and refusal of malformed files with an error
 * naming file, line and column (data-driven: input text, then the error
 * it must produce).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mon_test.h"

static char tmpdir[64];

static void mkdir_tmp(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/tierfs-moncsv-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmp(void)
{
	DIR *d = opendir(tmpdir);
	if (!d)
		return;
	struct dirent *e;
	char p[512];
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(tmpdir);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* Values that do not print exactly in a few digits (thirds, tenths, large
 * and tiny magnitudes, negative fill) so the round trip is really tested. */
static struct mon *fill_monitor(struct test_clock *clk, size_t ticks)
{
	struct mon_config cfg = test_config(clk, 3000000007ull, 1ull << 40, 0);
	cfg.tiers[0].name = "mem";
	cfg.tiers[1].name = "local_ssd";
	struct mon *m = test_mon(&cfg);
	uint64_t used = 0;
	for (size_t i = 1; i <= ticks; i++) {
		mon_write(m, 0, 1000003 * i);
		mon_read(m, 1, 7 * i + 1);
		if (i % 3 == 0)
			mon_open(m, 0);
		used = i % 4 == 0 ? used / 3 : used + 999999937ull * i % 3000000007ull;
		mon_used(m, 0, used);
		mon_used(m, 1, i * 77777);
		for (size_t k = 0; k < i % 5; k++)
			mon_create_file(m);
		mon_meta_op(m);
		if (i == 2)
			mon_migrate_begin(m, 1, 123456789);
		test_clock_advance(clk, 1.0 / 3.0 + (double)(i % 7) * 0.1);
		cr_assert_eq(mon_tick(m), 0);
	}
	return m;
}

Test(monitor_csv, round_trip_is_exact, .init = mkdir_tmp, .fini = rm_tmp)
{
	struct test_clock clk = {0};
	const size_t ticks = 50;
	struct mon *m = fill_monitor(&clk, ticks);
	char path[128];
	snprintf(path, sizeof path, "%s/series.csv", tmpdir);
	cr_assert_eq(mon_write_csv(m, path), 0);
	cr_assert_eq(count_entries(tmpdir), 1, "no temporary file is left behind");

	/* The header as monitor.h lays it out. */
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	char line[4096];
	cr_assert_not_null(fgets(line, sizeof line, f));
	fclose(f);
	char want[4096] = "time";
	const char *tiers[] = {"mem", "local_ssd", "pfs"};
	for (int t = 0; t < 3; t++)
		for (int c = 0; c < MON_TIER_NCOLS; c++)
			snprintf(want + strlen(want), sizeof want - strlen(want), ",%s_%s",
				 tiers[t], mon_tier_col_suffix(c));
	strcat(want, ",creates_per_s,meta_per_s,migration_backlog_bytes\n");
	cr_assert_str_eq(line, want);
	cr_assert(strstr(
	    want, "mem_read_Bps,mem_write_Bps,mem_ops_per_s,mem_used_frac,mem_fill_Bps,mem_open,"));

	struct mon_series *s = NULL;
	char err[512];
	cr_assert_eq(mon_read_csv(path, &s, err, sizeof err), 0, "%s", err);
	cr_assert_eq(s->ntiers, 3);
	for (int t = 0; t < 3; t++)
		cr_assert_str_eq(s->tier_names[t], tiers[t]);
	cr_assert_eq(s->ncols, mon_frame_cols(m));
	cr_assert_eq(s->nframes, ticks);
	double *fr = malloc(ticks * s->ncols * sizeof *fr);
	cr_assert_eq(mon_copy_frames(m, fr, ticks), ticks);
	int negative_fill = 0;
	for (size_t i = 0; i < ticks * s->ncols; i++) {
		cr_assert(fr[i] == s->frames[i], "value %zu: wrote %.17g, read %.17g", i, fr[i],
			  s->frames[i]);
		negative_fill |= i % s->ncols == mon_col_tier(0, MON_COL_FILL_BPS) && fr[i] < 0;
	}
	cr_assert(negative_fill, "the series exercises a negative fill rate");
	cr_assert_float_eq(s->frames[mon_col_global(3, MON_COL_BACKLOG) + (ticks - 1) * s->ncols],
			   123456789, 0);

	/* Rewriting replaces the file atomically (same name, still one entry). */
	test_clock_advance(&clk, 1);
	cr_assert_eq(mon_tick(m), 0);
	cr_assert_eq(mon_write_csv(m, path), 0);
	cr_assert_eq(count_entries(tmpdir), 1);
	mon_series_destroy(s);
	cr_assert_eq(mon_read_csv(path, &s, err, sizeof err), 0, "%s", err);
	cr_assert_eq(s->nframes, ticks + 1);
	mon_series_destroy(s);
	mon_series_destroy(NULL);
	free(fr);
	mon_destroy(m);
}

/* An empty ring still writes the header; a write that cannot happen leaves
 * nothing behind. */
Test(monitor_csv, empty_ring_and_write_errors, .init = mkdir_tmp, .fini = rm_tmp)
{
	struct test_clock clk = {0};
	struct mon_config cfg = test_config(&clk, 1, 1, 1);
	struct mon *m = test_mon(&cfg);
	char path[128], err[256];
	snprintf(path, sizeof path, "%s/empty.csv", tmpdir);
	cr_assert_eq(mon_write_csv(m, path), 0);
	struct mon_series *s = NULL;
	cr_assert_eq(mon_read_csv(path, &s, err, sizeof err), 0, "%s", err);
	cr_assert_eq(s->nframes, 0);
	cr_assert_eq(s->ntiers, 3);
	mon_series_destroy(s);
	cr_assert_eq(unlink(path), 0);

	snprintf(path, sizeof path, "%s/no/such/dir/s.csv", tmpdir);
	cr_assert_eq(mon_write_csv(m, path), -ENOENT);
	cr_assert_eq(count_entries(tmpdir), 0);
	cr_assert_eq(mon_write_csv(NULL, path), -EINVAL);
	cr_assert_eq(mon_write_csv(m, NULL), -EINVAL);
	mon_destroy(m);
}

static const char HDR1[] =
    "time,mem_read_Bps,mem_write_Bps,mem_ops_per_s,mem_used_frac,mem_fill_Bps,mem_open,"
    "creates_per_s,meta_per_s,migration_backlog_bytes\n";

/* One malformed file per row: its content and the "line:column: ..." part
 * the error must contain. */
static const struct bad_case {
	const char *name, *content, *expect;
} bad_cases[] = {
    {"empty", "", ":1: empty file (expected a header line starting with 'time')"},
    {"no_time", "when,mem_read_Bps\n", ":1:1: expected column 'time' first, found 'when'"},
    {"few_columns", "time,mem_read_Bps,creates_per_s\n", ":1: header has 3 columns"},
    {"wrong_order",
     "time,mem_write_Bps,mem_read_Bps,mem_ops_per_s,mem_used_frac,mem_fill_Bps,mem_open,creates_per_s,meta_per_s,"
     "migration_backlog_bytes\n",
     ":1:2: expected a column '<tier>_read_Bps'"},
    {"tier_changes",
     "time,mem_read_Bps,mem_write_Bps,mem_ops_per_s,ssd_used_frac,mem_fill_Bps,mem_open,creates_per_s,meta_per_s,"
     "migration_backlog_bytes\n",
     ":1:5: expected column 'mem_used_frac' (tier 'mem' continues), found 'ssd_used_frac'"},
    {"global_missing",
     "time,mem_read_Bps,mem_write_Bps,mem_ops_per_s,mem_used_frac,mem_fill_Bps,mem_open,creates_per_s,"
     "backlog,meta_per_s\n",
     ":1:9: expected column 'meta_per_s', found 'backlog'"},
    {"quoted", "time,\"mem_read_Bps\"\n", ":1:2: quoted field"},
    {"short_row", "%s1,2,3\n", ":2: 3 values, the header has 10 columns"},
    {"long_row", "%s1,0,0,0,0,0,0,0,0,0,0\n", ":2: 11 values, the header has 10 columns"},
    {"not_a_number", "%s1,0,0,0,0,0,0,0,0,0\n2,0,0,x7,0,0,0,0,0,0\n",
     ":3:4: column 'mem_ops_per_s': 'x7' is not a number"},
    {"trailing_junk", "%s1,0,0,0,0.5kg,0,0,0,0,0\n",
     ":2:5: column 'mem_used_frac': '0.5kg' is not a number"},
    {"empty_value", "%s1,0,0,0,0,0,,0,0,0\n", ":2:7: column 'mem_open': empty value"},
    {"nan", "%s1,0,nan,0,0,0,0,0,0,0\n",
     ":2:3: column 'mem_write_Bps': 'nan' is not a finite number"},
    {"inf", "%s1,0,0,0,0,0,0,0,0,inf\n",
     ":2:10: column 'migration_backlog_bytes': 'inf' is not a finite number"},
    {"negative_rate", "%s1,-5,0,0,0,0,0,0,0,0\n",
     ":2:2: column 'mem_read_Bps': negative value -5 (expected >= 0)"},
    {"time_back", "%s5,0,0,0,0,0,0,0,0,0\n4,0,0,0,0,0,0,0,0,0\n",
     ":3:1: time 4 is before the previous line's 5"},
    {"blank_line", "%s1,0,0,0,0,0,0,0,0,0\n\n2,0,0,0,0,0,0,0,0,0\n", ":3: empty line"},
    {"dup_tier",
     "time,a_read_Bps,a_write_Bps,a_ops_per_s,a_used_frac,a_fill_Bps,a_open,a_read_Bps,a_write_Bps,a_ops_per_s,"
     "a_used_frac,a_fill_Bps,a_open,creates_per_s,meta_per_s,migration_backlog_bytes\n",
     ":1:8: tier 'a' appears twice in the header"},
};

static void write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	if (strncmp(content, "%s", 2) == 0) {
		fputs(HDR1, f);
		content += 2;
	}
	fputs(content, f);
	cr_assert_eq(fclose(f), 0);
}

Test(monitor_csv, malformed_files_are_refused_with_line_and_column, .init = mkdir_tmp,
     .fini = rm_tmp)
{
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		const struct bad_case *bc = &bad_cases[i];
		char path[128], err[512];
		snprintf(path, sizeof path, "%s/%s.csv", tmpdir, bc->name);
		write_file(path, bc->content);
		struct mon_series *s = (struct mon_series *)path;
		int rc = mon_read_csv(path, &s, err, sizeof err);
		cr_expect_eq(rc, -EINVAL, "%s: rc %d", bc->name, rc);
		cr_expect_null(s, "%s", bc->name);
		cr_expect(strncmp(err, path, strlen(path)) == 0,
			  "%s: error does not start with the file name: %s", bc->name, err);
		cr_expect(strstr(err, bc->expect) != NULL, "%s:\n  got:  %s\n  want: ...%s...",
			  bc->name, err, bc->expect);
	}
}

Test(monitor_csv, good_variants_are_accepted, .init = mkdir_tmp, .fini = rm_tmp)
{
	char path[128], err[512];
	snprintf(path, sizeof path, "%s/crlf.csv", tmpdir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	/* CRLF line ends, no newline at the end, negative fill, equal times. */
	fputs(
	    "time,mem_read_Bps,mem_write_Bps,mem_ops_per_s,mem_used_frac,mem_fill_Bps,mem_open,creates_per_s,"
	    "meta_per_s,migration_backlog_bytes\r\n1,0,0,0,0.25,-3.5e3,2,0,0,0\r\n1,1e6,0,0,0,0,0,0,0,7",
	    f);
	fclose(f);
	struct mon_series *s = NULL;
	cr_assert_eq(mon_read_csv(path, &s, err, sizeof err), 0, "%s", err);
	cr_assert_eq(s->nframes, 2);
	cr_assert_str_eq(s->tier_names[0], "mem");
	cr_assert_float_eq(s->frames[mon_col_tier(0, MON_COL_FILL_BPS)], -3500, 0);
	cr_assert_float_eq(s->frames[s->ncols + mon_col_global(1, MON_COL_BACKLOG)], 7, 0);
	mon_series_destroy(s);
}

Test(monitor_csv, missing_file_and_long_line, .init = mkdir_tmp, .fini = rm_tmp)
{
	char path[128], err[512];
	struct mon_series *s = NULL;
	snprintf(path, sizeof path, "%s/absent.csv", tmpdir);
	cr_assert_eq(mon_read_csv(path, &s, err, sizeof err), -ENOENT);
	cr_assert(strstr(err, path) && strstr(err, strerror(ENOENT)), "%s", err);

	snprintf(path, sizeof path, "%s/long.csv", tmpdir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(HDR1, f);
	for (int i = 0; i < 70000; i++)
		fputc('1', f);
	fputc('\n', f);
	fclose(f);
	cr_assert_eq(mon_read_csv(path, &s, err, sizeof err), -EINVAL);
	cr_assert(strstr(err, ":2: line is longer than the 65536 bytes"), "%s", err);
}
