/*
 * test_config.c - tier_config: real tierfs.conf files written to a mkdtemp
 * directory, parsed and checked against the live filesystem.
 *
 * Error tests assert on the file name, the line number and the key named in
 * the message, since that is what an admin greps for.  Criterion runs each
 * test in its own process, so setenv() in one test does not leak.
 */
#define _GNU_SOURCE
#include "tierfs_config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static char tmp[64]; /* /tmp/tcfg-test-XXXXXX */
static char err[TCFG_ERRLEN];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void setup(void)
{
	strcpy(tmp, "/tmp/tcfg-test-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	err[0] = '\0';
}

static void teardown(void)
{
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(config, .init = setup, .fini = teardown);

/* tmp/rel, made; returns a static buffer. */
static const char *in_tmp(const char *rel)
{
	static char buf[4][PATH_MAX];
	static int n;
	char *b = buf[n++ % 4];
	snprintf(b, PATH_MAX, "%s/%s", tmp, rel);
	return b;
}

static void mkdirs(const char *rel)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", in_tmp(rel));
	cr_assert_eq(system(cmd), 0);
}

static const char *write_file(const char *rel, const char *text)
{
	const char *p = in_tmp(rel);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f, "%s: %s", p, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	return p;
}

/* Loads text; expects failure with every needle in the message. */
static void expect_error(const char *text, int line, const char *key, const char *what)
{
	struct tcfg *c = (void *)1;
	const char *file = write_file("bad.conf", text);
	int rc = tcfg_load(file, &c, err, sizeof(err));
	char where[PATH_MAX + 32];

	cr_assert_lt(rc, 0, "accepted:\n%s", text);
	cr_assert_null(c);
	if (line > 0)
		snprintf(where, sizeof(where), "%s:%d: ", file, line);
	else
		snprintf(where, sizeof(where), "%s: ", file);
	cr_assert(strncmp(err, where, strlen(where)) == 0, "message '%s' does not start with '%s'",
		  err, where);
	if (key) {
		char k[128];
		snprintf(k, sizeof(k), "key '%s'", key);
		cr_assert_not_null(strstr(err, k), "message '%s' lacks \"%s\"", err, k);
	}
	cr_assert_not_null(strstr(err, what), "message '%s' lacks \"%s\"", err, what);
	cr_assert_null(strchr(err, '\n'), "message '%s' is not one line", err);
}

static struct tcfg *load_ok(const char *text)
{
	struct tcfg *c = NULL;
	const char *file = write_file("good.conf", text);
	int rc = tcfg_load(file, &c, err, sizeof(err));
	cr_assert_eq(rc, 0, "tcfg_load: %d: %s", rc, err);
	cr_assert_not_null(c);
	return c;
}

/* ---- good files --------------------------------------------------------- */

Test(config, full_file_all_values)
{
	setenv("TCFG_BASE", "/srv/t", 1);
	struct tcfg *c = load_ok("# a comment\n"
				 "; another\n"
				 "[global]\n"
				 "placement = ssd   # a tier declared further down\n"
				 "model = models/m.json\n"
				 "state_dir = /run/x/\n"
				 "log_level = debug\n"
				 "entry_timeout = 2.5\n"
				 "attr_timeout = 250ms\n"
				 "negative_timeout = 0\n"
				 "writeback_cache = yes\n"
				 "passthrough = On\n"
				 "threads = 16\n"
				 "spin = 0\n"
				 "\n"
				 "[tier mem]\n"
				 "path = /dev/shm/x\n"
				 "capacity = 1.5G\n"
				 "high_watermark = 90%\n"
				 "low_watermark = 0.5\n"
				 "read_bandwidth = 10G/s\n"
				 "write_bandwidth = 8G\n"
				 "latency = 1us\n"
				 "emulate_read_bandwidth = 100M/s\n"
				 "emulate_write_bandwidth = 50MiB/s\n"
				 "emulate_latency = 2ms\n"
				 "  [ tier   ssd ]  ; spaces are fine\n"
				 "path=${TCFG_BASE}/ssd\n"
				 "capacity=25%\n"
				 "[tier pfs]\n"
				 "path = $TCFG_BASE/pfs\n"
				 "latency = 1.5s\n");
	cr_assert_eq(c->ntiers, 3);
	cr_assert_str_eq(c->tiers[0].name, "mem");
	cr_assert_str_eq(c->tiers[1].name, "ssd");
	cr_assert_str_eq(c->tiers[2].name, "pfs");
	cr_assert_eq(c->tiers[0].line, 16);
	cr_assert_eq(c->placement, TCFG_PLACE_TIER);
	cr_assert_eq(c->placement_tier, 1);
	char model[PATH_MAX];
	snprintf(model, sizeof(model), "%s/models/m.json", tmp);
	cr_assert_str_eq(c->model, model);
	cr_assert_str_eq(c->state_dir, "/run/x");
	cr_assert_eq(c->log_level, TCFG_LOG_DEBUG);
	cr_assert_float_eq(c->entry_timeout, 2.5, 1e-9);
	cr_assert_float_eq(c->attr_timeout, 0.25, 1e-9);
	cr_assert_float_eq(c->negative_timeout, 0.0, 1e-9);
	cr_assert_eq(c->writeback_cache, 1);
	cr_assert_eq(c->passthrough, 1);
	cr_assert_eq(c->threads, 16);
	cr_assert_eq(c->spin_ns, 0);

	const struct tcfg_tier *m = &c->tiers[0];
	cr_assert_str_eq(m->path, "/dev/shm/x");
	cr_assert_eq(m->capacity, 3ULL << 29);
	cr_assert_float_eq(m->capacity_pct, 0.0, 1e-9);
	cr_assert_float_eq(m->high_watermark, 0.9, 1e-9);
	cr_assert_float_eq(m->low_watermark, 0.5, 1e-9);
	cr_assert_eq(m->read_bandwidth, 10ULL << 30);
	cr_assert_eq(m->write_bandwidth, 8ULL << 30);
	cr_assert_eq(m->latency_ns, 1000);
	cr_assert_eq(m->emulate_read_bandwidth, 100ULL << 20);
	cr_assert_eq(m->emulate_write_bandwidth, 50ULL << 20);
	cr_assert_eq(m->emulate_latency_ns, 2000000);

	const struct tcfg_tier *s = &c->tiers[1];
	cr_assert_str_eq(s->path, "/srv/t/ssd");
	cr_assert_float_eq(s->capacity_pct, 25.0, 1e-9);
	cr_assert_eq(s->capacity, 0);
	cr_assert_str_eq(c->tiers[2].path, "/srv/t/pfs");
	cr_assert_eq(c->tiers[2].latency_ns, 1500000000ULL);
	tcfg_free(c);
}

Test(config, defaults_come_from_the_table)
{
	setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
	struct tcfg *c = load_ok("[tier only]\npath = /x\n");
	const struct tcfg_tier *t = &c->tiers[0];

	cr_assert_eq(c->placement, TCFG_PLACE_FIRST);
	cr_assert_eq(c->placement_tier, -1);
	cr_assert_eq(c->log_level, TCFG_LOG_INFO);
	cr_assert_null(c->model);
	cr_assert_str_eq(c->state_dir, "/run/user/4242/tierfs");
	cr_assert_float_eq(c->entry_timeout, 60.0, 1e-9);
	cr_assert_float_eq(c->attr_timeout, 60.0, 1e-9);
	cr_assert_float_eq(c->negative_timeout, 1.0, 1e-9);
	cr_assert_eq(c->writeback_cache, 0);
	cr_assert_eq(c->passthrough, 0);
	cr_assert_eq(c->proactive_prefetch, 0);
	cr_assert_eq(c->plan_check, 1);
	cr_assert_eq(c->plan_check_cores, 0);
	cr_assert_eq(c->threads, 8);
	cr_assert_eq(c->spin_ns, 50000);
	cr_assert_eq(c->migrate_threads, 2);
	cr_assert_float_eq(t->migrate_share, 0.5, 1e-9);
	cr_assert_float_eq(t->capacity_pct, 100.0, 1e-9);
	cr_assert_float_eq(t->high_watermark, 0.90, 1e-9);
	cr_assert_float_eq(t->low_watermark, 0.70, 1e-9);
	cr_assert_eq(t->read_bandwidth, 0);
	cr_assert_eq(t->latency_ns, 0);
	cr_assert_eq(t->emulate_read_bandwidth, 0);
	cr_assert_eq(t->emulate_latency_ns, 0);

	/* Every default in the table must be what the struct holds. */
	for (size_t i = 0; i < tcfg_noptions; i++) {
		const struct tcfg_option *o = &tcfg_options[i];
		if (o->type == TCFG_T_FRACTION && o->defval) {
			double v;
			cr_assert_eq(tcfg_parse_fraction(o->defval, &v), 0);
			double got = !strcmp(o->key, "high_watermark")	  ? t->high_watermark
				     : !strcmp(o->key, "low_watermark")	  ? t->low_watermark
				     : !strcmp(o->key, "proactive_theta") ? c->proactive_theta
									  : t->migrate_share;
			cr_assert_float_eq(got, v, 1e-9, "%s", o->key);
		}
	}
	tcfg_free(c);
}

Test(config, state_dir_default_without_xdg)
{
	unsetenv("XDG_RUNTIME_DIR");
	setenv("USER", "alice", 1);
	struct tcfg *c = load_ok("[tier a]\npath = /x\n");
	cr_assert_str_eq(c->state_dir, "/tmp/tierfs-alice");
	tcfg_free(c);
}

/* Each key of the table is accepted by the parser in its scope, and a
 * placement policy name is refused as a tier name. */
Test(config, every_table_key_is_accepted)
{
	char text[8192] = "[global]\n";
	size_t n = strlen(text);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "[tier t]\n");
		for (size_t i = 0; i < tcfg_noptions; i++) {
			const struct tcfg_option *o = &tcfg_options[i];
			if ((int)o->scope != (pass == 0 ? TCFG_SCOPE_GLOBAL : TCFG_SCOPE_TIER))
				continue;
			const char *v = o->defval;
			if (!v)
				v = o->type == TCFG_T_PATH	 ? "/some/where"
				    : o->type == TCFG_T_RATE	 ? "1M/s"
				    : o->type == TCFG_T_DURATION ? "3ms"
								 : "1";
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s = %s\n", o->key, v);
		}
	}
	struct tcfg *c = load_ok(text);
	cr_assert_eq(c->ntiers, 1);
	tcfg_free(c);
	expect_error("[tier first]\npath = /x\n", 1, NULL, "bad tier name");
}

/* ---- errors: file, line, key ------------------------------------------- */

Test(config, unknown_section)
{
	expect_error("[global]\nthreads = 2\n\n[tiers mem]\npath=/x\n", 4, NULL,
		     "[tiers mem]: unknown section (expected [global] or [tier NAME])");
}

Test(config, unknown_key_lists_the_valid_ones)
{
	expect_error("[tier mem]\npath = /x\ncapacty = 2G\n", 3, "capacty",
		     "[tier mem] key 'capacty': unknown key (expected one of: path, capacity,");
	expect_error("[global]\nplacment = first\n[tier a]\npath=/x\n", 2, "placment",
		     "unknown key (expected one of: placement,");
}

Test(config, key_in_wrong_section)
{
	expect_error("[global]\npath = /x\n[tier a]\npath=/x\n", 2, "path", "belongs in [tier NAME]");
	expect_error("[tier a]\npath=/x\nthreads = 4\n", 3, "threads", "belongs in [global]");
}

Test(config, duplicate_key)
{
	expect_error("[tier mem]\npath = /x\ncapacity = 1G\n# again\ncapacity = 2G\n", 5, "capacity",
		     "duplicate key (first set on line 3)");
	expect_error("[global]\nthreads=2\n[tier a]\npath=/x\n[global]\nthreads = 3\n", 6, "threads",
		     "duplicate key (first set on line 2)");
}

Test(config, bad_values_name_what_was_expected)
{
	expect_error("[tier mem]\npath = /x\ncapacity = 12Q\n", 3, "capacity",
		     "bad value '12Q' (expected a size greater than 0");
	expect_error("[tier mem]\npath = /x\ncapacity = 0\n", 3, "capacity", "out of range '0'");
	expect_error("[tier mem]\npath = /x\ncapacity = 150%\n", 3, "capacity", "out of range");
	expect_error("[tier mem]\npath = /x\nhigh_watermark = 1.5\n", 3, "high_watermark",
		     "value out of range '1.5' (expected a fraction from 0 to 1");
	expect_error("[tier mem]\npath = /x\nlatency = 3 weeks\n", 3, "latency",
		     "bad value '3 weeks' (expected a time like 100us");
	expect_error("[tier mem]\npath = /x\nread_bandwidth = fast\n", 3, "read_bandwidth",
		     "bad value 'fast' (expected bytes per second");
	expect_error("[global]\nthreads = 0\n[tier a]\npath=/x\n", 2, "threads",
		     "value out of range '0' (expected an integer from 1 to 256)");
	expect_error("[global]\nthreads = 8x\n[tier a]\npath=/x\n", 2, "threads", "bad value '8x'");
	expect_error("[global]\nspin = fast\n[tier a]\npath=/x\n", 2, "spin", "bad value 'fast'");
	expect_error("[global]\nlog_level = verbose\n[tier a]\npath=/x\n", 2, "log_level",
		     "bad value 'verbose' (expected one of: error, warn, info, debug)");
	expect_error("[global]\nwriteback_cache = maybe\n[tier a]\npath=/x\n", 2,
		     "writeback_cache", "bad value 'maybe'");
	expect_error("[global]\nentry_timeout = -1\n[tier a]\npath=/x\n", 2, "entry_timeout",
		     "bad value '-1'");
	expect_error("[tier a]\npath =\n", 2, "path", "empty path");
}

Test(config, missing_path_names_the_section_line)
{
	expect_error("[tier a]\npath = /x\n\n[tier b]\ncapacity = 1G\n", 4, "path",
		     "[tier b] key 'path': missing");
}

Test(config, duplicate_tier_name)
{
	expect_error("[tier a]\npath = /x\n[tier a]\npath = /y\n", 3, NULL,
		     "[tier a]: duplicate tier name (first declared on line 1)");
}

Test(config, no_tiers)
{
	expect_error("[global]\nthreads = 2\n", 0, NULL, "no tiers declared");
	expect_error("", 0, NULL, "no tiers declared");
}

Test(config, too_many_tiers)
{
	char text[2048] = "";
	size_t n = 0;
	for (int i = 0; i <= TCFG_MAX_TIERS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[tier t%d]\npath = /x%d\n", i, i);
	expect_error(text, 2 * TCFG_MAX_TIERS + 1, NULL, "too many tiers (expected at most 8)");
}

Test(config, watermarks_out_of_order)
{
	expect_error("[tier a]\npath = /x\nhigh_watermark = 0.6\nlow_watermark = 0.8\n", 4,
		     "low_watermark", "0.8 is not below high_watermark 0.6");
	/* Only high given, below the default low: points at the high line. */
	expect_error("[tier a]\npath = /x\nhigh_watermark = 50%\n", 3, "low_watermark",
		     "not below high_watermark 0.5");
}

Test(config, placement_unknown_tier)
{
	expect_error("[global]\nplacement = nvme\n[tier mem]\npath=/x\n[tier ssd]\npath=/y\n", 2,
		     "placement",
		     "unknown policy or tier 'nvme' (expected first, most-free, round-robin, random "
		     "or one of the tiers: mem, ssd)");
}

Test(config, syntax_errors)
{
	expect_error("path = /x\n", 1, "path", "outside any section");
	expect_error("[tier a]\npath = /x\njust words\n", 3, NULL, "cannot read 'just words'");
	expect_error("[tier a\npath = /x\n", 1, NULL, "unterminated section header");
	expect_error("[tier a]\npath = /x\n= 3\n", 3, NULL, "has no key");
	expect_error("[tier a] junk\npath = /x\n", 1, NULL, "text 'junk' after section header");
}

Test(config, quoted_values_and_nameless_tier)
{
	expect_error("[tier a]\npath = \"/x y\"\n", 2, "path",
		     "quoted value \"/x y\" (expected the value without quotes)");
	expect_error("[tier a]\npath = /x\nlatency = '2ms'\n", 3, "latency", "quoted value");
	expect_error("[tier]\npath = /x\n", 1, NULL, "[tier]: tier name missing");
}

Test(config, undefined_variable)
{
	unsetenv("TCFG_NOPE");
	expect_error("[tier a]\npath = /x\n[tier b]\npath = $TCFG_NOPE/b\n", 4, "path",
		     "environment variable 'TCFG_NOPE' is not set");
	expect_error("[tier a]\npath = ${TCFG_NOPE}/b\n", 2, "path", "'TCFG_NOPE' is not set");
	expect_error("[tier a]\npath = /x/${HOME\n", 2, "path", "bad variable reference");
	expect_error("[tier a]\npath = /x/$/y\n", 2, "path", "bad variable reference at '$/y'");
	expect_error("[tier a]\npath = ~bob/x\n", 2, "path", "'~user' is not supported");
}

Test(config, missing_and_unreadable_file)
{
	struct tcfg *c = NULL;
	const char *p = in_tmp("nope.conf");
	int rc = tcfg_load(p, &c, err, sizeof(err));
	cr_assert_eq(rc, -ENOENT);
	cr_assert_null(c);
	cr_assert_not_null(strstr(err, p), "%s", err);
	cr_assert_not_null(strstr(err, strerror(ENOENT)), "%s", err);

	mkdirs("dir.conf");
	p = in_tmp("dir.conf");
	rc = tcfg_load(p, &c, err, sizeof(err));
	cr_assert_eq(rc, -EISDIR, "%d %s", rc, err);
	cr_assert_not_null(strstr(err, p), "%s", err);
	cr_assert_not_null(strstr(err, strerror(EISDIR)), "%s", err);
}

/* ---- value parsers ------------------------------------------------------- */

Test(parse, sizes)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} cases[] = {
		{"0", 0, 0},
		{"4096", 0, 4096},
		{"64K", 0, 65536},
		{"64k", 0, 65536},
		{"64KiB", 0, 65536},
		{"64KB", 0, 65536},
		{"512B", 0, 512},
		{"1.5G", 0, 3ULL << 29},
		{"2T", 0, 2ULL << 40},
		{"10 M", 0, 10ULL << 20},
		{".5K", 0, 512},
		{"1.1K", 0, 1126},
		{"15E", 0, 15ULL << 60},
		{"18446744073709551615", 0, UINT64_MAX},
		{"16E", -ERANGE, 0},
		{"18446744073709551616", -ERANGE, 0},
		{"99999999999999999999999K", -ERANGE, 0},
		{"17179869184G", -ERANGE, 0},
		{"-1", -EINVAL, 0},
		{"+1", -EINVAL, 0},
		{"", -EINVAL, 0},
		{"G", -EINVAL, 0},
		{".", -EINVAL, 0},
		{"abc", -EINVAL, 0},
		{"1.5.G", -EINVAL, 0},
		{"0x10", -EINVAL, 0},
		{"1e3", -EINVAL, 0},
		{"inf", -EINVAL, 0},
		{"1G/s", -EINVAL, 0},
		{"1Q", -EINVAL, 0},
		{" 1", -EINVAL, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		int rc = tcfg_parse_size(cases[i].s, &v);
		cr_assert_eq(rc, cases[i].rc, "'%s': rc %d, want %d", cases[i].s, rc, cases[i].rc);
		if (rc == 0)
			cr_assert_eq(v, cases[i].v, "'%s': %llu, want %llu", cases[i].s,
				     (unsigned long long)v, (unsigned long long)cases[i].v);
		else
			cr_assert_eq(v, 12345, "'%s': output written on error", cases[i].s);
	}
	cr_assert_eq(tcfg_parse_size(NULL, &(uint64_t){0}), -EINVAL);
}

Test(parse, rates)
{
	uint64_t v;
	cr_assert_eq(tcfg_parse_rate("2G/s", &v), 0);
	cr_assert_eq(v, 2ULL << 30);
	cr_assert_eq(tcfg_parse_rate("500MB/s", &v), 0);
	cr_assert_eq(v, 500ULL << 20);
	cr_assert_eq(tcfg_parse_rate("100", &v), 0);
	cr_assert_eq(v, 100);
	cr_assert_eq(tcfg_parse_rate("1G/m", &v), -EINVAL);
	cr_assert_eq(tcfg_parse_rate("1G/s/s", &v), -EINVAL);
	cr_assert_eq(tcfg_parse_rate("-5M/s", &v), -EINVAL);
	cr_assert_eq(tcfg_parse_rate("20E/s", &v), -ERANGE);
}

Test(parse, durations)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t ns;
	} cases[] = {
		{"100us", 0, 100000},
		{"2ms", 0, 2000000},
		{"1s", 0, 1000000000},
		{"1.5s", 0, 1500000000},
		{"5ns", 0, 5},
		{"7", 0, 7000}, /* bare number: microseconds */
		{"0", 0, 0},
		{"0.5us", 0, 500},
		{"2 ms", 0, 2000000},
		{"18446744073s", 0, 18446744073000000000ULL},
		{"18446744074s", -ERANGE, 0},
		{"2m", -EINVAL, 0},
		{"2MS", -EINVAL, 0},
		{"-1ms", -EINVAL, 0},
		{"ms", -EINVAL, 0},
		{"", -EINVAL, 0},
		{"1h", -EINVAL, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0;
		int rc = tcfg_parse_duration_ns(cases[i].s, &v);
		cr_assert_eq(rc, cases[i].rc, "'%s': rc %d, want %d", cases[i].s, rc, cases[i].rc);
		if (rc == 0)
			cr_assert_eq(v, cases[i].ns, "'%s': %llu", cases[i].s, (unsigned long long)v);
	}
}

Test(parse, fractions_seconds_bools)
{
	double d;
	cr_assert_eq(tcfg_parse_fraction("0.9", &d), 0);
	cr_assert_float_eq(d, 0.9, 1e-12);
	cr_assert_eq(tcfg_parse_fraction("90%", &d), 0);
	cr_assert_float_eq(d, 0.9, 1e-12);
	cr_assert_eq(tcfg_parse_fraction("100%", &d), 0);
	cr_assert_float_eq(d, 1.0, 1e-12);
	cr_assert_eq(tcfg_parse_fraction("0", &d), 0);
	cr_assert_float_eq(d, 0.0, 1e-12);
	cr_assert_eq(tcfg_parse_fraction("1.01", &d), -ERANGE);
	cr_assert_eq(tcfg_parse_fraction("101%", &d), -ERANGE);
	cr_assert_eq(tcfg_parse_fraction("-0.1", &d), -EINVAL);
	cr_assert_eq(tcfg_parse_fraction("90%%", &d), -EINVAL);
	cr_assert_eq(tcfg_parse_fraction("half", &d), -EINVAL);

	cr_assert_eq(tcfg_parse_seconds("1.5", &d), 0);
	cr_assert_float_eq(d, 1.5, 1e-12);
	cr_assert_eq(tcfg_parse_seconds("250ms", &d), 0);
	cr_assert_float_eq(d, 0.25, 1e-12);
	cr_assert_eq(tcfg_parse_seconds("86400", &d), 0);
	cr_assert_eq(tcfg_parse_seconds("86401", &d), -ERANGE);
	cr_assert_eq(tcfg_parse_seconds("1 minute", &d), -EINVAL);

	int b = -1;
	const char *yes[] = {"true", "TRUE", "yes", "on", "1"};
	const char *no[] = {"false", "No", "off", "0"};
	for (size_t i = 0; i < 5; i++) {
		cr_assert_eq(tcfg_parse_bool(yes[i], &b), 0, "%s", yes[i]);
		cr_assert_eq(b, 1);
	}
	for (size_t i = 0; i < 4; i++) {
		cr_assert_eq(tcfg_parse_bool(no[i], &b), 0, "%s", no[i]);
		cr_assert_eq(b, 0);
	}
	cr_assert_eq(tcfg_parse_bool("2", &b), -EINVAL);
	cr_assert_eq(tcfg_parse_bool("", &b), -EINVAL);
}

/* ---- paths --------------------------------------------------------------- */

Test(config, path_expansion)
{
	setenv("HOME", "/home/u", 1);
	setenv("TCFG_A", "/a//b/", 1);
	setenv("TCFG_EMPTY", "", 1);
	struct tcfg *c = load_ok("[tier home]\npath = ~/scratch/\n"
				 "[tier tilde]\npath = ~\n"
				 "[tier var]\npath = $TCFG_A/c/./d/../e\n"
				 "[tier brace]\npath = ${TCFG_A}x${TCFG_EMPTY}y\n"
				 "[tier rel]\npath = sub/../tiers/rel/\n"
				 "[tier dot]\npath = .\n"
				 "[tier up]\npath = ../../../../../../../../../..\n"
				 "[tier hash]\npath = /p#q\n");
	cr_assert_str_eq(c->tiers[0].path, "/home/u/scratch");
	cr_assert_str_eq(c->tiers[1].path, "/home/u");
	cr_assert_str_eq(c->tiers[2].path, "/a/b/c/e");
	cr_assert_str_eq(c->tiers[3].path, "/a/b/xy");
	char want[PATH_MAX];
	snprintf(want, sizeof(want), "%s/tiers/rel", tmp);
	cr_assert_str_eq(c->tiers[4].path, want);
	cr_assert_str_eq(c->tiers[5].path, tmp);
	cr_assert_str_eq(c->tiers[6].path, "/");
	cr_assert_str_eq(c->tiers[7].path, "/p#q", "'#' without a space before is not a comment");
	tcfg_free(c);
}

Test(config, relative_config_file_name)
{
	mkdirs("etc");
	write_file("etc/rel.conf", "[tier a]\npath = data\n");
	cr_assert_eq(chdir(tmp), 0);
	struct tcfg *c = NULL;
	int rc = tcfg_load("etc/rel.conf", &c, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(c->file, "etc/rel.conf");
	char want[PATH_MAX];
	snprintf(want, sizeof(want), "%s/etc/data", tmp);
	cr_assert_str_eq(c->tiers[0].path, want);
	tcfg_free(c);
}

/* ---- tcfg_set -------------------------------------------------------------- */

Test(config, set_overrides_globals)
{
	struct tcfg *c = load_ok("[global]\nplacement = random\nthreads = 4\n"
				 "[tier mem]\npath=/a\n[tier ssd]\npath=/b\n");
	cr_assert_eq(tcfg_set(c, "placement", "ssd", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c->placement, TCFG_PLACE_TIER);
	cr_assert_eq(c->placement_tier, 1);
	cr_assert_eq(tcfg_set(c, "placement", "most-free", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c->placement, TCFG_PLACE_MOST_FREE);
	cr_assert_eq(c->placement_tier, -1);
	cr_assert_eq(tcfg_set(c, "threads", "32", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c->threads, 32);
	cr_assert_eq(tcfg_set(c, "log_level", "warn", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c->log_level, TCFG_LOG_WARN);
	cr_assert_eq(tcfg_set(c, "writeback_cache", "on", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c->writeback_cache, 1);
	cr_assert_eq(tcfg_set(c, "attr_timeout", "30", err, sizeof(err)), 0, "%s", err);
	cr_assert_float_eq(c->attr_timeout, 30.0, 1e-9);

	cr_assert_eq(chdir(tmp), 0);
	cr_assert_eq(tcfg_set(c, "state_dir", "st/", err, sizeof(err)), 0, "%s", err);
	char want[PATH_MAX];
	snprintf(want, sizeof(want), "%s/st", tmp);
	cr_assert_str_eq(c->state_dir, want);
	cr_assert_eq(tcfg_set(c, "model", "/m.json", err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c->model, "/m.json");

	cr_assert_eq(tcfg_set(c, "threads", "300", err, sizeof(err)), -ERANGE);
	cr_assert_str_eq(err, "mount option 'threads': value out of range '300' (expected an "
			      "integer from 1 to 256)");
	cr_assert_eq(c->threads, 32, "a refused value leaves the old one");
	cr_assert_eq(tcfg_set(c, "placement", "hbm", err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "mount option 'placement': unknown policy or tier 'hbm'"),
			   "%s", err);
	cr_assert_eq(tcfg_set(c, "colour", "blue", err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "mount option 'colour': unknown option (expected one of: "
					"placement, model,"),
			   "%s", err);
	cr_assert_eq(tcfg_set(c, "capacity", "1G", err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "tier keys are set in the configuration file only"), "%s",
			   err);
	cr_assert_eq(tcfg_set(c, "threads", NULL, err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "no value"), "%s", err);
	tcfg_free(c);
}

/* ---- tcfg_resolve --------------------------------------------------------- */

static struct tcfg *load_tiers(const char *text)
{
	return load_ok(text); /* relative paths resolve against tmp */
}

static void expect_resolve_error(struct tcfg *c, const char *mp, const char *what)
{
	int rc = tcfg_resolve(c, mp, err, sizeof(err));
	cr_assert_lt(rc, 0, "resolve accepted");
	cr_assert_not_null(strstr(err, what), "message '%s' lacks \"%s\"", err, what);
	cr_assert_null(strchr(err, '\n'));
}

Test(config, resolve_missing_dir)
{
	mkdirs("a");
	struct tcfg *c = load_tiers("[global]\nstate_dir = st\n[tier a]\npath = a\n"
				    "[tier b]\npath = b\n");
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "good.conf:5: [tier b] key 'path': '%s/b': %s", tmp,
		 strerror(ENOENT));
	expect_resolve_error(c, NULL, want);
	struct stat st;
	cr_assert_neq(stat(in_tmp("b"), &st), 0, "a missing tier directory must not be created");
	tcfg_free(c);
}

Test(config, resolve_file_instead_of_dir)
{
	write_file("f", "x");
	struct tcfg *c = load_tiers("[tier a]\npath = f\n");
	expect_resolve_error(c, NULL, "[tier a] key 'path':");
	cr_assert_not_null(strstr(err, "is not a directory"), "%s", err);
	tcfg_free(c);
}

Test(config, resolve_nested_and_same_tiers)
{
	mkdirs("a/inner");
	struct tcfg *c = load_tiers("[tier a]\npath = a\n[tier b]\npath = a/inner\n");
	expect_resolve_error(c, NULL, "[tier b] key 'path':");
	cr_assert_not_null(strstr(err, "lies inside tier 'a'"), "%s", err);
	tcfg_free(c);

	/* The same directory through a symlink: realpath() sees through it. */
	cr_assert_eq(symlink(in_tmp("a"), in_tmp("link")), 0);
	c = load_tiers("[tier a]\npath = a\n[tier b]\npath = link\n");
	expect_resolve_error(c, NULL, "is the same directory as tier");
	tcfg_free(c);

	/* Sibling names sharing a prefix are not nested. */
	mkdirs("ab");
	c = load_tiers("[global]\nstate_dir = st\n[tier a]\npath = a\n[tier b]\npath = ab\n");
	cr_assert_eq(tcfg_resolve(c, NULL, err, sizeof(err)), 0, "%s", err);
	tcfg_free(c);
}

Test(config, resolve_mountpoint_checks)
{
	mkdirs("t/a/mnt");
	mkdirs("t/b");
	mkdirs("mnt");
	struct tcfg *c =
		load_tiers("[global]\nstate_dir = st\n[tier a]\npath = t/a\n[tier b]\npath = t/b\n");
	expect_resolve_error(c, in_tmp("t/a/mnt"), "lies inside the directory");
	cr_assert_not_null(strstr(err, "of tier 'a'"), "%s", err);
	expect_resolve_error(c, in_tmp("t"), "contains the directory");
	expect_resolve_error(c, in_tmp("t/b"), "lies inside the directory");
	expect_resolve_error(c, in_tmp("nomnt"), "mountpoint");
	cr_assert_eq(tcfg_resolve(c, in_tmp("mnt"), err, sizeof(err)), 0, "%s", err);
	tcfg_free(c);
}

struct warn_log {
	int n;
	char last[TCFG_ERRLEN];
};

static void record(void *arg, enum tcfg_log_level level, const char *msg)
{
	struct warn_log *w = arg;
	w->n++;
	snprintf(w->last, sizeof(w->last), "%s", msg);
}

Test(config, resolve_capacity_and_state_dir)
{
	mkdirs("a");
	mkdirs("b");
	cr_assert_eq(symlink(in_tmp("b"), in_tmp("blink")), 0);
	struct tcfg *c = load_tiers("[global]\nstate_dir = run/state\n"
				    "[tier a]\npath = a\ncapacity = 10%\n"
				    "[tier b]\npath = blink\ncapacity = 15E\n");
	struct warn_log w = {0};
	c->log = record;
	c->log_arg = &w;
	cr_assert_eq(tcfg_resolve(c, NULL, err, sizeof(err)), 0, "%s", err);

	struct statvfs vfs;
	cr_assert_eq(statvfs(tmp, &vfs), 0);
	uint64_t want = (uint64_t)((long double)vfs.f_blocks * vfs.f_frsize * 10 / 100);
	cr_assert_eq(c->tiers[0].capacity, want, "%llu vs %llu",
		     (unsigned long long)c->tiers[0].capacity, (unsigned long long)want);
	cr_assert_gt(c->tiers[0].capacity, 0);
	cr_assert_eq(c->tiers[1].capacity, 15ULL << 60);
	cr_assert_eq(w.n, 1);
	cr_assert_not_null(strstr(w.last, "tier 'b': capacity"), "%s", w.last);

	char real[PATH_MAX];
	cr_assert_not_null(realpath(in_tmp("b"), real));
	cr_assert_str_eq(c->tiers[1].path, real, "tier paths become realpath()s");

	struct stat st;
	cr_assert_eq(stat(in_tmp("run/state"), &st), 0, "state_dir created");
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0700);

	/* Resolving twice is harmless (the daemon does it again on reload). */
	cr_assert_eq(tcfg_resolve(c, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c->tiers[0].capacity, want);
	tcfg_free(c);
}

Test(config, resolve_state_dir_is_a_file)
{
	mkdirs("a");
	write_file("stf", "x");
	struct tcfg *c = load_tiers("[global]\nstate_dir = stf\n[tier a]\npath = a\n");
	expect_resolve_error(c, NULL, "state_dir");
	cr_assert_not_null(strstr(err, strerror(ENOTDIR)), "%s", err);
	tcfg_free(c);
}

Test(config, resolve_state_dir_must_be_private)
{
	mkdirs("a");
	mkdirs("st");
	struct tcfg *c = load_tiers("[global]\nstate_dir = st\n[tier a]\npath = a\n");
	cr_assert_eq(chmod(in_tmp("st"), 0777), 0);
	expect_resolve_error(c, NULL, "has mode 0777, writable by others");
	cr_assert_eq(chmod(in_tmp("st"), 0755), 0);
	cr_assert_eq(tcfg_resolve(c, NULL, err, sizeof(err)), 0, "%s", err);
	if (geteuid() == 0) {
		cr_assert_eq(chown(in_tmp("st"), 65534, 65534), 0);
		expect_resolve_error(c, NULL, "is owned by uid 65534 (expected a directory owned by uid 0)");
	}
	tcfg_free(c);
}

/* ---- the shipped example --------------------------------------------------- */

static int rm_tree(const char *p)
{
	return nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

Test(config, shipped_example_parses_and_resolves)
{
	char user[64], dirs[3][PATH_MAX];
	snprintf(user, sizeof(user), "tcfgtest%d", (int)getpid());
	setenv("USER", user, 1);
	struct tcfg *c = NULL;
	int rc = tcfg_load(TIERFS_SOURCE_DIR "/etc/tierfs.conf", &c, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(c->ntiers, 3);
	cr_assert_str_eq(c->tiers[0].name, "mem");
	cr_assert_str_eq(c->tiers[1].name, "ssd");
	cr_assert_str_eq(c->tiers[2].name, "pfs");
	snprintf(dirs[0], PATH_MAX, "/dev/shm/tierfs-%s", user);
	snprintf(dirs[1], PATH_MAX, "/var/tmp/tierfs-%s", user);
	cr_assert(strncmp(c->tiers[0].path, dirs[0], strlen(dirs[0])) == 0, "%s",
		  c->tiers[0].path);
	cr_assert(strncmp(c->tiers[1].path, dirs[1], strlen(dirs[1])) == 0, "%s",
		  c->tiers[1].path);
	for (size_t i = 0; i < c->ntiers; i++) {
		cr_assert_gt(c->tiers[i].read_bandwidth, 0, "%s", c->tiers[i].name);
		cr_assert_gt(c->tiers[i].latency_ns, 0, "%s", c->tiers[i].name);
	}
	cr_assert_gt(c->tiers[0].read_bandwidth, c->tiers[1].read_bandwidth);
	cr_assert_gt(c->tiers[1].read_bandwidth, c->tiers[2].read_bandwidth);
	cr_assert_lt(c->tiers[0].latency_ns, c->tiers[2].latency_ns);

	/* With its directories made, it passes the start-up checks. */
	snprintf(dirs[2], PATH_MAX, "%s/state", tmp);
	cr_assert_eq(tcfg_set(c, "state_dir", dirs[2], err, sizeof(err)), 0, "%s", err);
	char cmd[4 * PATH_MAX];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' '%s' '%s'", c->tiers[0].path, c->tiers[1].path,
		 c->tiers[2].path);
	cr_assert_eq(system(cmd), 0);
	rc = tcfg_resolve(c, NULL, err, sizeof(err));
	rm_tree(dirs[0]);
	rm_tree(dirs[1]);
	cr_assert_eq(rc, 0, "%s", err);
	for (size_t i = 0; i < c->ntiers; i++)
		cr_assert_gt(c->tiers[i].capacity, 0, "%s", c->tiers[i].name);
	tcfg_free(c);
}

/* ---- --help and the man pages --------------------------------------------- */

static char *capture_help(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	tcfg_print_help(f);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

Test(help, lists_every_mount_option_and_no_tier_key)
{
	char *h = capture_help();
	char needle[128];

	cr_assert_not_null(strstr(h, "-o config=FILE"));
	for (size_t i = 0; i < tcfg_noptions; i++) {
		const struct tcfg_option *o = &tcfg_options[i];
		snprintf(needle, sizeof(needle), "-o %s=%s", o->key, o->metavar);
		if (o->mount_option)
			cr_assert_not_null(strstr(h, needle), "--help lacks %s", needle);
		else
			cr_assert_null(strstr(h, needle), "--help offers tier key %s", needle);
		cr_assert_eq(o->mount_option, o->scope == TCFG_SCOPE_GLOBAL, "%s", o->key);
	}
	for (char *line = h; *line;) {
		size_t n = strcspn(line, "\n");
		cr_assert_leq(n, 79, "line too long: %.*s", (int)n, line);
		line += n + (line[n] == '\n');
	}
	free(h);
}

Test(help, table_is_well_formed)
{
	for (size_t i = 0; i < tcfg_noptions; i++) {
		const struct tcfg_option *o = &tcfg_options[i];
		cr_assert_eq(tcfg_option_index(o->key), (int)i, "duplicate key %s", o->key);
		cr_assert_not_null(o->metavar, "%s", o->key);
		size_t n = strlen(o->help);
		cr_assert(n > 10 && o->help[n - 1] == '.', "%s: help is one sentence", o->key);
		cr_assert_null(strchr(o->help, '\n'), "%s", o->key);
	}
	cr_assert_eq(tcfg_option_index("nope"), -1);
}

static char *run_mangen(const char *what)
{
	char cmd[PATH_MAX], *buf = NULL;
	size_t len = 0, cap = 0;
	snprintf(cmd, sizeof(cmd), "'%s' %s", TIERFS_MANGEN, what);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
		memcpy(buf + len, chunk, n);
		len += n;
	}
	cr_assert_eq(pclose(p), 0, "%s failed", cmd);
	cr_assert_not_null(buf);
	buf[len] = '\0';
	return buf;
}

Test(help, man_pages_cover_the_table)
{
	char *m8 = run_mangen("man8"), *m5 = run_mangen("man5"), *help = run_mangen("help");
	char *lib = capture_help();
	char needle[128];

	cr_assert_str_eq(help, lib, "tierfs-mangen help must print the library's text");
	cr_assert(strncmp(m8, ".TH TIERFS 8", 12) == 0);
	cr_assert(strncmp(m5, ".TH TIERFS.CONF 5", 17) == 0);
	cr_assert_not_null(strstr(m8, "tierfs /scratch fuse.tierfs config=/etc/tierfs/tierfs.conf 0 0"));
	for (const char *s = ".SH SYNOPSIS\n.SH OPTIONS\n.SH FILES\n.SH EXAMPLES\n.SH SEE ALSO\n"; *s;) {
		size_t n = strcspn(s, "\n");
		snprintf(needle, sizeof(needle), "%.*s", (int)n, s);
		cr_assert_not_null(strstr(m8, needle), "tierfs.8 lacks %s", needle);
		s += n + 1;
	}
	for (size_t i = 0; i < tcfg_noptions; i++) {
		const struct tcfg_option *o = &tcfg_options[i];
		snprintf(needle, sizeof(needle), ".BI \"%s = \"", o->key);
		cr_assert_not_null(strstr(m5, needle), "tierfs.conf.5 lacks %s", o->key);
		snprintf(needle, sizeof(needle), ".BI \"\\-o %s=\"", o->key);
		if (o->mount_option)
			cr_assert_not_null(strstr(m8, needle), "tierfs.8 lacks %s", o->key);
	}
	cr_assert_not_null(strstr(m5, "[tier mem]"), "man5 example comes from etc/tierfs.conf");
	free(m8);
	free(m5);
	free(help);
	free(lib);
}
