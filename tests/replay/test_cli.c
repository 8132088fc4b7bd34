/* tierreplay, the command: real runs into temporary directories on our own
 * fixtures and on real workflows read in place. Every expected figure is
 * recomputed here from the workflow through the parser, and every file is
 * read back and verified independently of the run that wrote it. */
#define _GNU_SOURCE
#include "replay.h"
#include "replay_run.h"
#include "workflow.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static wf_graph *load(const char *path)
{
	char err[512] = "";
	wf_graph *g = NULL;
	cr_assert_eq(wf_load(path, NULL, &g, err, sizeof(err)), 0, "%s", err);
	return g;
}

static uint64_t scaled(const wf_graph *g, uint32_t file, double scale)
{
	struct wf_file_features f;
	cr_assert_eq(wf_file_info(g, file, &f), 0);
	return (uint64_t)llround((double)f.size * scale);
}

/* Read dir/rel whole and check it against the content stream. */
static void verify_file(const char *dir, const char *rel, uint64_t size, uint64_t seed)
{
	char p[PATH_MAX * 2];
	unsigned char buf[65536];
	uint64_t off = 0, key = rp_content_key(rel, seed);
	ssize_t n;
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	int fd = open(p, O_RDONLY);
	cr_assert_geq(fd, 0, "%s: %s", p, strerror(errno));
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		size_t bad = rp_content_mismatch(key, off, buf, (size_t)n);
		cr_assert_eq(bad, (size_t)n, "%s: byte %lu wrong", p, (unsigned long)(off + bad));
		off += (uint64_t)n;
	}
	close(fd);
	cr_assert_eq(off, size, "%s: %lu bytes, expected %lu", p, (unsigned long)off, (unsigned long)size);
}

static const cJSON *item(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	cr_assert_not_null(v, "JSON key '%s' missing", key);
	return v;
}

/* Everything a verified --json run into dir must satisfy. */
static void check_replay(const char *wf, const char *dir, double scale, uint64_t seed, const cJSON *js)
{
	wf_graph *g = load(wf);
	uint32_t nt = wf_task_count(g), nf = wf_file_count(g);
	uint64_t all_bytes = 0, read_total = 0, write_total = 0, tier_total = 0;
	double io_total = 0, verify_total = 0, type_io = 0, type_tasks = 0;
	const cJSON *tasks = item(js, "tasks"), *t, *types;
	char rel[PATH_MAX];

	cr_assert(cJSON_IsTrue(item(js, "verified")), "%s: not verified", wf);
	cr_assert(cJSON_IsNull(item(js, "error")));
	for (uint32_t f = 0; f < nf; f++) {
		struct wf_file_features ff;
		cr_assert_eq(wf_file_info(g, f, &ff), 0);
		cr_assert_eq(rp_map_name(ff.name, rel, sizeof(rel)), 0);
		uint64_t want = scaled(g, f, scale);
		cr_assert_eq(rr_size(dir, rel), (long long)want, "%s: %s: size %lld, expected %lu", wf, rel,
			     rr_size(dir, rel), (unsigned long)want);
		verify_file(dir, rel, want, seed);
		all_bytes += want;
	}
	/* bytes per tier add up to every file once (a plain dir: all unknown) */
	cJSON_ArrayForEach(t, item(js, "bytes_per_tier"))
	{
		cr_assert_str_eq(t->string, RP_TIER_UNKNOWN);
		tier_total += (uint64_t)t->valuedouble;
	}
	cr_assert_eq(tier_total, all_bytes, "%s: tiers hold %lu bytes, files %lu", wf, (unsigned long)tier_total,
		     (unsigned long)all_bytes);

	cr_assert_eq((uint32_t)cJSON_GetArraySize(tasks), nt);
	for (uint32_t i = 0; i < nt; i++) {
		struct wf_task_info ti;
		const cJSON *e = cJSON_GetArrayItem(tasks, (int)i);
		uint64_t rb = 0, wb = 0;
		cr_assert_eq(wf_task_info(g, i, &ti), 0);
		cr_assert_str_eq(cJSON_GetStringValue(item(e, "name")), ti.id);
		cr_assert_str_eq(cJSON_GetStringValue(item(e, "type")), ti.category);
		cr_assert(cJSON_IsTrue(item(e, "done")));
		for (uint32_t k = 0; k < ti.n_inputs; k++)
			rb += scaled(g, ti.inputs[k], scale);
		for (uint32_t k = 0; k < ti.n_outputs; k++)
			wb += scaled(g, ti.outputs[k], scale);
		cr_assert_eq((uint64_t)rr_num(e, "read_bytes"), rb, "%s: task %s read", wf, ti.id);
		cr_assert_eq((uint64_t)rr_num(e, "write_bytes"), wb, "%s: task %s wrote", wf, ti.id);
		cr_assert_leq(rr_num(e, "start"), rr_num(e, "end"));
		cr_assert_leq(rr_num(e, "io_s") + rr_num(e, "verify_s") + rr_num(e, "compute_s"),
			      rr_num(e, "end") - rr_num(e, "start") + 1e-9, "%s: task %s: parts exceed its span", wf, ti.id);
		/* dependency order: no task starts before each parent ended */
		for (uint32_t k = 0; k < ti.n_parents; k++) {
			const cJSON *p = cJSON_GetArrayItem(tasks, (int)ti.parents[k]);
			cr_assert_geq(rr_num(e, "start"), rr_num(p, "end"), "%s: task %s started at %.9f before parent %s ended at %.9f",
				      wf, ti.id, rr_num(e, "start"), cJSON_GetStringValue(item(p, "name")), rr_num(p, "end"));
		}
		read_total += rb;
		write_total += wb;
		io_total += rr_num(e, "io_s");
		verify_total += rr_num(e, "verify_s");
		cr_assert_leq(rr_num(e, "end"), rr_num(js, "makespan_s"));
	}
	cr_assert_eq((uint64_t)rr_num(js, "read_bytes"), read_total);
	cr_assert_eq((uint64_t)rr_num(js, "write_bytes"), write_total);
	cr_assert_float_eq(rr_num(js, "io_time_s"), io_total, 1e-6);
	cr_assert_float_eq(rr_num(js, "verify_time_s"), verify_total, 1e-6);
	types = item(js, "io_by_type");
	cJSON_ArrayForEach(t, types)
	{
		type_io += rr_num(t, "io_s");
		type_tasks += rr_num(t, "tasks");
	}
	cr_assert_eq((uint32_t)type_tasks, nt);
	cr_assert_float_eq(type_io, io_total, 1e-6);
	wf_destroy(g);
}

static void replay_ok(const char *wf, const char *workers, const char *scale)
{
	char *dir = rr_tmpdir();
	struct rr_result r;
	rr_run(&r, (const char *const[]){ wf, dir, "--json", "--workers", workers, "--scale", scale, NULL });
	cr_assert_eq(r.status, 0, "%s: exit %d: %s", wf, r.status, r.err);
	cr_assert_not_null(r.json, "%s: stdout is not JSON: %s", wf, r.out);
	check_replay(wf, dir, strtod(scale, NULL), 0, r.json);
	rr_free(&r);
	rr_rmtree(dir);
	free(dir);
}

Test(replay, fixtures_in_three_formats_with_1_2_and_4_workers)
{
	static const char *const wfs[] = { FIX "diamond-wf14.json", FIX "chain-dax36.xml",
					   TIERFS_FIXTURES_DIR "/parser/good/mini-p5.yml" };
	static const char *const workers[] = { "1", "2", "4" };
	for (size_t i = 0; i < 3; i++)
		for (size_t w = 0; w < 3; w++)
			replay_ok(wfs[i], workers[w], "1");
}

Test(replay, scale_rounds_sizes_and_keeps_empty_files_empty)
{
	replay_ok(FIX "diamond-wf14.json", "2", "0.37");
	replay_ok(FIX "diamond-wf14.json", "3", "2.5");
}

/* --no-cache drops each input's cached pages before reading it (so a
 * reader reaches the storage, not the page cache the writer or another
 * reader filled), --chunk makes every call small (diamond's files at
 * scale 10 span up to ten 4 KiB chunks): the run reads and verifies the same bytes. */
Test(replay, no_cache_and_small_chunks_read_and_verify_every_byte)
{
	char *dir = rr_tmpdir();
	struct rr_result r;
	rr_run(&r, (const char *const[]){ FIX "diamond-wf14.json", dir, "--json", "--workers", "2", "--no-cache",
					  "--chunk", "4096", "--scale", "10", NULL });
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert_not_null(r.json, "stdout is not JSON: %s", r.out);
	cr_assert(cJSON_IsTrue(item(r.json, "no_cache")), "no_cache is not reported true");
	cr_assert_eq(rr_num(r.json, "chunk"), 4096);
	check_replay(FIX "diamond-wf14.json", dir, 10, 0, r.json);
	rr_free(&r);
	rr_rmtree(dir);
	free(dir);
}

Test(replay, stages_only_what_no_parent_writes)
{
	char *dir = rr_tmpdir();
	struct rr_result r;
	rr_run(&r, (const char *const[]){ FIX "diamond-wf14.json", dir, "--stage-only", "--json", NULL });
	cr_assert_eq(r.status, 0, "%s", r.err);
	/* entry inputs data/raw.dat, data/ref.db, and state.ckpt, which its
	 * only writer also reads (inout) */
	cr_assert_eq(rr_num(r.json, "staged_files"), 3);
	cr_assert_eq(rr_num(r.json, "staged_bytes"), 4000 + 700 + 50);
	cr_assert_eq(rr_size(dir, "data/raw.dat"), 4000);
	cr_assert_eq(rr_size(dir, "data/ref.db"), 700);
	cr_assert_eq(rr_size(dir, "state.ckpt"), 50);
	cr_assert_eq(rr_size(dir, "work/part1"), -1, "a produced file was staged");
	cr_assert_null(cJSON_GetObjectItem(r.json, "makespan_s"), "--stage-only ran tasks");
	rr_free(&r);
	rr_rmtree(dir);
	free(dir);
}

Test(replay, a_second_run_into_the_same_directory_recreates_outputs)
{
	char *dir = rr_tmpdir();
	struct rr_result r;
	for (int i = 0; i < 2; i++) {
		rr_run(&r, (const char *const[]){ FIX "diamond-wf14.json", dir, "--json", NULL });
		cr_assert_eq(r.status, 0, "run %d: %s", i, r.err);
		check_replay(FIX "diamond-wf14.json", dir, 1, 0, r.json);
		if (i == 1)
			cr_assert(strstr(r.err, "removed 8 outputs"), "stderr: %s", r.err);
		rr_free(&r);
	}
	rr_rmtree(dir);
	free(dir);
}

Test(replay, table_report_names_makespan_verification_and_tiers)
{
	char *dir = rr_tmpdir();
	struct rr_result r;
	rr_run(&r, (const char *const[]){ FIX "chain-dax36.xml", dir, NULL });
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_null(r.json);
	cr_expect(strstr(r.out, "chain (dax-3)") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "makespan") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "verified   yes") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "project ") && strstr(r.out, "diff ") && strstr(r.out, "add "), "%s", r.out);
	/* 20000 + 18000 + 9000 + 40000 bytes, all on no tier we know of */
	const char *line = strstr(r.out, "\nunknown ");
	unsigned files = 0;
	unsigned long long bytes = 0;
	cr_assert_not_null(line, "%s", r.out);
	cr_assert_eq(sscanf(line, " unknown %u %llu", &files, &bytes), 2, "%s", r.out);
	cr_expect_eq(files, 4);
	cr_expect_eq(bytes, 87000);
	rr_free(&r);
	rr_rmtree(dir);
	free(dir);
}

Test(replay, seed_changes_the_content_and_readers_can_tell)
{
	char *a = rr_tmpdir(), *b = rr_tmpdir();
	struct rr_result r;
	rr_run(&r, (const char *const[]){ FIX "chain-dax36.xml", a, "--json", "--seed", "1", NULL });
	cr_assert_eq(r.status, 0, "%s", r.err);
	check_replay(FIX "chain-dax36.xml", a, 1, 1, r.json);
	rr_free(&r);
	rr_run(&r, (const char *const[]){ FIX "chain-dax36.xml", b, "--json", "--seed", "2", NULL });
	cr_assert_eq(r.status, 0, "%s", r.err);
	rr_free(&r);
	/* inputs staged with seed 1 do not pass for a run with seed 2 */
	rr_run(&r, (const char *const[]){ FIX "chain-dax36.xml", a, "--json", "--seed", "2", "--no-stage", NULL });
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.err, "input.fits: byte at offset 0 differs"), "%s", r.err);
	rr_free(&r);
	rr_rmtree(a);
	rr_rmtree(b);
	free(a);
	free(b);
}

Test(replay, compute_sleep_lasts_at_least_the_scaled_runtime)
{
	char *dir = rr_tmpdir();
	struct rr_result r;
	wf_graph *g = load(FIX "diamond-wf14.json");
	rr_run(&r, (const char *const[]){ FIX "diamond-wf14.json", dir, "--json", "--compute", "sleep", "--time-scale",
					  "0.01", "--workers", "2", NULL });
	cr_assert_eq(r.status, 0, "%s", r.err);
	for (uint32_t i = 0; i < wf_task_count(g); i++) {
		struct wf_task_info ti;
		cr_assert_eq(wf_task_info(g, i, &ti), 0);
		const cJSON *e = cJSON_GetArrayItem(item(r.json, "tasks"), (int)i);
		/* nanosleep never returns early: a lower bound, not a timing test */
		cr_assert_geq(rr_num(e, "compute_s"), ti.runtime * 0.01, "task %s", ti.id);
	}
	check_replay(FIX "diamond-wf14.json", dir, 1, 0, r.json);
	wf_destroy(g);
	rr_free(&r);
	rr_rmtree(dir);
	free(dir);
}

/* Stage, damage one staged input, then run on what is there. */
static void tamper_case(void (*damage)(const char *path), const char *expect1, const char *expect2)
{
	char *dir = rr_tmpdir(), p[PATH_MAX];
	struct rr_result r;
	rr_run(&r, (const char *const[]){ FIX "diamond-wf14.json", dir, "--stage-only", NULL });
	cr_assert_eq(r.status, 0, "%s", r.err);
	rr_free(&r);
	snprintf(p, sizeof(p), "%s/data/ref.db", dir);
	damage(p);
	rr_run(&r, (const char *const[]){ FIX "diamond-wf14.json", dir, "--no-stage", "--json", "--workers", "2", NULL });
	cr_assert_eq(r.status, 1, "damaged input passed: %s", r.out);
	cr_assert_not_null(r.json, "%s", r.out);
	cr_assert(cJSON_IsFalse(item(r.json, "verified")));
	const char *msg = cJSON_GetStringValue(item(r.json, "error"));
	cr_assert_not_null(msg);
	cr_assert(strstr(msg, "data/ref.db") && strstr(msg, expect1) && strstr(msg, expect2), "error: %s", msg);
	cr_assert(strstr(r.err, msg), "stderr lacks the message: %s", r.err);
	rr_free(&r);
	rr_rmtree(dir);
	free(dir);
}

static void flip_byte_517(const char *p)
{
	int fd = open(p, O_RDWR);
	unsigned char c;
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &c, 1, 517), 1);
	c ^= 0x20;
	cr_assert_eq(pwrite(fd, &c, 1, 517), 1);
	close(fd);
}

static void cut_to_300(const char *p)
{
	cr_assert_eq(truncate(p, 300), 0);
}

static void append_one(const char *p)
{
	int fd = open(p, O_WRONLY | O_APPEND);
	cr_assert_eq(write(fd, "z", 1), 1);
	close(fd);
}

static void remove_it(const char *p)
{
	cr_assert_eq(unlink(p), 0);
}

Test(replay, a_changed_byte_fails_the_run_naming_file_and_offset)
{
	tamper_case(flip_byte_517, "byte at offset 517", "differs");
}

Test(replay, a_short_long_or_missing_input_fails_the_run)
{
	tamper_case(cut_to_300, "is short", "ends at offset 300, expected 700 bytes");
	tamper_case(append_one, "longer than expected", "past offset 700");
	tamper_case(remove_it, "is missing", "expected 700 bytes");
}

static void list_dir(const char *dir, char *out, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t o = 0;
	out[0] = '\0';
	cr_assert_not_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			o += (size_t)snprintf(out + o, len - o, "%s ", e->d_name);
	closedir(d);
}

Test(replay, hostile_names_stay_inside_the_directory)
{
	char *root = rr_tmpdir(), dir[PATH_MAX], seen[4096];
	struct rr_result r;
	static const struct {
		const char *path;
		long long size;
	} expect[] = {
		{ "tmp/tierreplay-escape-abs", 10 },
		{ "%2E%2E/%2E%2E/tierreplay-escape-up", 11 },
		{ "a/%2E%2E/%2E%2E/%2E%2E/tierreplay-escape-b", 12 },
		{ "ctl%01name%0Ax", 13 },
		{ "dot/slash/name", 14 },
		{ "pct%252F", 15 },
		{ "...", 16 },
		{ "%2E%2E/%2E%2E/tierreplay-escape-c", 17 },
	};
	/* below root/x/y, so "../../" climbing out would land in root */
	snprintf(dir, sizeof(dir), "%s/x", root);
	cr_assert_eq(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/x/y", root);
	cr_assert_eq(mkdir(dir, 0755), 0);
	unlink("/tmp/tierreplay-escape-abs");
	rr_run(&r, (const char *const[]){ FIX "hostile-wf14.json", dir, "--json", NULL });
	cr_assert_eq(r.status, 0, "%s", r.err);
	check_replay(FIX "hostile-wf14.json", dir, 1, 0, r.json);
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		cr_expect_eq(rr_size(dir, expect[i].path), expect[i].size, "%s", expect[i].path);
	list_dir(root, seen, sizeof(seen));
	cr_expect_str_eq(seen, "x ", "something was written beside the directory");
	snprintf(dir, sizeof(dir), "%s/x", root);
	list_dir(dir, seen, sizeof(seen));
	cr_expect_str_eq(seen, "y ", "something was written beside the directory");
	cr_expect_neq(access("/tmp/tierreplay-escape-abs", F_OK), 0, "an absolute name was written as is");
	rr_free(&r);
	rr_rmtree(root);
	free(root);
}

Test(replay, a_symlink_in_the_directory_is_not_followed)
{
	char *root = rr_tmpdir(), dir[PATH_MAX], out[PATH_MAX], link[PATH_MAX + 8], seen[256];
	struct rr_result r;
	snprintf(dir, sizeof(dir), "%s/dir", root);
	snprintf(out, sizeof(out), "%s/outside", root);
	snprintf(link, sizeof(link), "%s/link", dir);
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(mkdir(out, 0755), 0);
	cr_assert_eq(symlink(out, link), 0);
	rr_run(&r, (const char *const[]){ FIX "escape-link-wf14.json", dir, NULL });
	cr_assert_eq(r.status, 1, "%s", r.out);
	cr_assert(strstr(r.err, "link/victim") && strstr(r.err, "symlink"), "%s", r.err);
	list_dir(out, seen, sizeof(seen));
	cr_assert_str_eq(seen, "", "written through the symlink");
	rr_free(&r);
	rr_rmtree(root);
	free(root);
}

struct bad_case {
	const char *args[8];
	const char *expect;
	bool usage;
};

Test(replay, bad_input_exits_2_naming_the_problem)
{
	char *dir = rr_tmpdir(), file[PATH_MAX], missing[PATH_MAX];
	snprintf(file, sizeof(file), "%s/plain", dir);
	snprintf(missing, sizeof(missing), "%s/none", dir);
	FILE *f = fopen(file, "w");
	fclose(f);
	const char *const D = FIX "diamond-wf14.json";
	const struct bad_case cases[] = {
		{ { FIX "bad-truncated.json", dir }, "bad-truncated.json:2: malformed JSON", false },
		{ { missing, dir }, "cannot load the workflow", false },
		{ { FIX "collide-wf14.json", dir }, "files '/out/x' and 'out/x' both map to the path 'out/x'", false },
		{ { FIX "noname-wf14.json", dir }, "file '/./': name has no usable path component", false },
		{ { D, missing }, "does not exist", true },
		{ { D, file }, "is not a directory", true },
		{ { D, dir, "--workers", "0" }, "--workers '0': expected a whole number from 1 to 1024", true },
		{ { D, dir, "--workers", "1025" }, "--workers '1025'", true },
		{ { D, dir, "--workers", "2x" }, "--workers '2x'", true },
		{ { D, dir, "--workers" }, "'--workers' is unknown or lacks its value", true },
		{ { D, dir, "--scale", "0" }, "--scale '0': expected a number greater than 0", true },
		{ { D, dir, "--scale", "-1" }, "--scale '-1'", true },
		{ { D, dir, "--scale", "nan" }, "--scale 'nan'", true },
		{ { D, dir, "--time-scale", "-2" }, "--time-scale '-2'", true },
		{ { D, dir, "--compute", "fast" }, "--compute 'fast': expected none, sleep or spin", true },
		{ { D, dir, "--seed", "-1" }, "--seed '-1'", true },
		{ { D, dir, "--chunk", "4095" }, "--chunk '4095': expected a whole number of bytes from 4096 to 67108864", true },
		{ { D, dir, "--chunk", "1M" }, "--chunk '1M'", true },
		{ { D, dir, "--bogus" }, "'--bogus' is unknown", true },
		{ { D, dir, "--stage-only", "--no-stage" }, "exclude each other", true },
		{ { D }, "expected a WORKFLOW file and a DIR", true },
		{ { D, dir, dir }, "too many arguments", true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rr_result r;
		rr_run(&r, cases[i].args);
		cr_expect_eq(r.status, 2, "case %zu: exit %d", i, r.status);
		cr_expect(strstr(r.err, cases[i].expect) != NULL, "case %zu: stderr: %s", i, r.err);
		cr_expect_eq(strstr(r.err, "usage: tierreplay") != NULL, cases[i].usage, "case %zu: stderr: %s", i, r.err);
		rr_free(&r);
	}
	/* bad input never touched the directory */
	char seen[256];
	list_dir(dir, seen, sizeof(seen));
	cr_expect_str_eq(seen, "plain ");
	rr_rmtree(dir);
	free(dir);
}

Test(replay, real_workflows_at_a_small_scale)
{
	static const char *const wfs[] = {
		"wfi-montage-chameleon-dss-10d-001.json", /* WfFormat 1.5, 472 tasks */
		"nfi-rnaseq-dirt02-001.json",             /* absolute names, no explicit edges */
		"pegasus-broadband.dax",                  /* no sizes, directories, re-writes */
		"wfsim-Montage_25.xml",                   /* generator DAX with size conflicts */
	};
	char path[PATH_MAX];
	for (size_t i = 0; i < sizeof(wfs) / sizeof(wfs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", TIERFS_WORKFLOWS_DIR, wfs[i]);
		if (access(path, R_OK) != 0)
			cr_skip_test("%s not readable: the real workflows are not beside the checkout", path);
		replay_ok(path, "2", "0.001");
	}
}
