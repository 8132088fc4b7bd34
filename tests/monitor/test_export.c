/*
 * test_export.c - the monitor's state on a caller's stream: the CSV stream
 * is the very bytes mon_write_csv puts in its file, and the Prometheus
 * text parses back (by a small parser here, per the exposition format) to
 * the values of mon_snapshot.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mon_test.h"

static struct mon *busy_monitor(struct test_clock *clk, const char *pfs_path)
{
	struct mon_config cfg = test_config(clk, 1 << 20, 1 << 30, 1ull << 40);
	cfg.tiers[2].path = pfs_path;
	struct mon *m = test_mon(&cfg);
	for (int i = 0; i < 5; i++) {
		mon_write(m, 0, 1000 + (uint64_t)i);
		mon_write(m, 1, 123456);
		mon_read(m, 2, 777);
		mon_open(m, 1);
		mon_create_file(m);
		mon_meta_op(m);
		mon_meta_op(m);
		mon_used(m, 0, 4096 * (uint64_t)(i + 1));
		test_clock_advance(clk, 1);
		cr_assert_eq(mon_tick(m), 0);
	}
	mon_close(m, 1);
	mon_migrate_begin(m, 0, 65536);
	return m;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	char *buf = NULL;
	size_t cap = 0;
	FILE *mem = open_memstream(&buf, &cap);
	int c;
	while ((c = fgetc(f)) != EOF)
		fputc(c, mem);
	fclose(f);
	fclose(mem);
	*len = cap;
	return buf;
}

/* What print writes for m, as a string (free it). */
static char *print_to_string(int (*print)(struct mon *, FILE *), struct mon *m, size_t *len)
{
	char *buf = NULL;
	FILE *mem = open_memstream(&buf, len);
	cr_assert_not_null(mem);
	cr_assert_eq(print(m, mem), 0);
	fclose(mem);
	return buf;
}

Test(monitor_export, csv_stream_equals_file)
{
	struct test_clock clk = {0};
	struct mon *m = busy_monitor(&clk, NULL);
	size_t len = 0;
	char *buf = print_to_string(mon_print_csv, m, &len);

	char path[] = "/tmp/tierfs-monexp-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(mon_write_csv(m, path), 0);
	size_t flen;
	char *file = slurp(path, &flen);
	cr_assert_eq(flen, len);
	cr_assert(memcmp(file, buf, len) == 0);
	cr_assert_eq(strncmp(buf, "time,mem_read_Bps,", 18), 0);
	cr_assert_eq(mon_print_csv(m, NULL), -EINVAL);
	unlink(path);
	free(file);
	free(buf);
	mon_destroy(m);
}

/* One sample of the exposition: metric name, tier label ("" if none),
 * value; and what the comment lines declared. */
struct sample {
	char name[96], tier[MON_NAME_MAX + 1];
	double value;
};

struct exposition {
	struct sample s[256];
	size_t n;
	char typed[64][96], helped[64][96];
	char types[64][16];
	size_t ntyped, nhelped;
};

static void parse_exposition(char *text, struct exposition *e)
{
	memset(e, 0, sizeof *e);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "# TYPE ", 7) == 0) {
			cr_assert_lt(e->ntyped, 64);
			cr_assert_eq(
			    sscanf(line + 7, "%95s %15s", e->typed[e->ntyped], e->types[e->ntyped]),
			    2, "%s", line);
			for (size_t k = 0; k < e->ntyped; k++)
				cr_assert_str_neq(e->typed[k], e->typed[e->ntyped],
						  "TYPE twice: %s", line);
			e->ntyped++;
			continue;
		}
		if (strncmp(line, "# HELP ", 7) == 0) {
			cr_assert_lt(e->nhelped, 64);
			cr_assert_eq(sscanf(line + 7, "%95s", e->helped[e->nhelped]), 1);
			cr_assert_gt(strlen(line), 8 + strlen(e->helped[e->nhelped]),
				     "empty help: %s", line);
			e->nhelped++;
			continue;
		}
		cr_assert_neq(line[0], '#', "unknown comment: %s", line);
		struct sample *s = &e->s[e->n++];
		char *brace = strchr(line, '{'), *sp = strrchr(line, ' ');
		cr_assert_not_null(sp, "%s", line);
		char *end;
		s->value = strtod(sp + 1, &end);
		cr_assert_eq(*end, '\0', "bad value in %s", line);
		*sp = '\0';
		if (brace) {
			cr_assert_eq(sscanf(brace, "{tier=\"%64[^\"]\"}", s->tier), 1, "%s", line);
			*brace = '\0';
		}
		snprintf(s->name, sizeof s->name, "%s", line);
		/* Declared before its first sample. */
		int typed = 0;
		for (size_t k = 0; k < e->ntyped; k++)
			typed |= strcmp(e->typed[k], s->name) == 0;
		cr_assert(typed, "sample before its TYPE line: %s", s->name);
	}
}

static const struct sample *find(const struct exposition *e, const char *name, const char *tier)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->s[i].name, name) == 0 && strcmp(e->s[i].tier, tier) == 0)
			return &e->s[i];
	return NULL;
}

static double value_of(const struct exposition *e, const char *name, const char *tier)
{
	const struct sample *s = find(e, name, tier);
	cr_assert_not_null(s, "no sample %s{tier=\"%s\"}", name, tier);
	return s->value;
}

Test(monitor_export, prometheus_text_matches_snapshot)
{
	char dir[] = "/tmp/tierfs-monprom-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	struct test_clock clk = {0};
	struct mon *m = busy_monitor(&clk, dir);
	size_t len = 0;
	char *buf = print_to_string(mon_print_prometheus, m, &len);
	struct mon_state st;
	cr_assert_eq(mon_snapshot(m, &st), 0);

	static struct exposition e;
	parse_exposition(buf, &e);
	cr_assert_eq(e.ntyped, e.nhelped);
	for (size_t k = 0; k < e.ntyped; k++) {
		size_t l = strlen(e.typed[k]);
		int is_total = l > 6 && strcmp(e.typed[k] + l - 6, "_total") == 0;
		cr_assert_eq(is_total, strcmp(e.types[k], "counter") == 0, "%s is a %s", e.typed[k],
			     e.types[k]);
	}
	for (size_t t = 0; t < 3; t++) {
		const struct mon_tier_state *ts = &st.tiers[t];
		const char *n = ts->name;
		cr_assert_eq(value_of(&e, "tierfs_tier_written_bytes_total", n),
			     (double)ts->write_bytes_total);
		cr_assert_eq(value_of(&e, "tierfs_tier_read_bytes_total", n),
			     (double)ts->read_bytes_total);
		cr_assert_eq(value_of(&e, "tierfs_tier_writes_total", n), (double)ts->writes_total);
		cr_assert_eq(value_of(&e, "tierfs_tier_used_bytes", n), (double)ts->used);
		cr_assert_eq(value_of(&e, "tierfs_tier_free_bytes", n), (double)ts->free);
		cr_assert_eq(value_of(&e, "tierfs_tier_capacity_bytes", n), (double)ts->capacity);
		cr_assert_eq(value_of(&e, "tierfs_tier_open_files", n), (double)ts->open_files);
		cr_assert_eq(value_of(&e, "tierfs_tier_migrating_in_bytes", n),
			     (double)ts->migrating_in_bytes);
		cr_assert_float_eq(value_of(&e, "tierfs_tier_write_bytes_per_second", n),
				   ts->write_Bps, 1e-9 * (1 + ts->write_Bps));
	}
	cr_assert_eq(value_of(&e, "tierfs_tier_written_bytes_total", "ssd"), 5 * 123456.0);
	cr_assert_eq(value_of(&e, "tierfs_tier_open_files", "ssd"), 4);
	/* Backing-filesystem metrics only where a path was checked. */
	cr_assert_not_null(find(&e, "tierfs_tier_backing_available_bytes", "pfs"));
	cr_assert_null(find(&e, "tierfs_tier_backing_available_bytes", "mem"));
	cr_assert_eq(value_of(&e, "tierfs_tier_backing_available_bytes", "pfs"),
		     (double)st.tiers[2].fs_avail);
	cr_assert_eq(value_of(&e, "tierfs_creates_total", ""), 5);
	cr_assert_eq(value_of(&e, "tierfs_meta_ops_total", ""), 10);
	cr_assert_eq(value_of(&e, "tierfs_migration_backlog_bytes", ""), 65536);
	cr_assert_eq(value_of(&e, "tierfs_monitor_ticks_total", ""), 5);
	cr_assert_eq(mon_print_prometheus(NULL, stdout), -EINVAL);
	free(buf);
	mon_destroy(m);
	rmdir(dir);
}
