/* tier_parser on hostile and broken input: every case must fail with the
 * right errno and a one-line message that names the file, the line where
 * the format has lines, and the cause; nothing may crash or hang.
 * Fixtures are in tests/fixtures/parser/bad/; the big and deep cases are
 * generated here (a sparse 2 GiB file costs no disk).
 */
#include "workflow.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BAD TIERFS_FIXTURES_DIR "/parser/bad/"

/* Load must fail with code; err must contain every needle. */
static void expect_fail_path(const char *path, int code, const char *const *needles)
{
	char err[1024] = "";
	wf_graph *g = (wf_graph *)0x1;
	int rc = wf_load(path, NULL, &g, err, sizeof(err));
	cr_expect_eq(rc, code, "%s: rc %d (want %d): %s", path, rc, code, err);
	cr_expect_null(g, "%s: graph left behind on failure", path);
	cr_expect_null(strchr(err, '\n'), "%s: message spans lines: %s", path, err);
	cr_expect(strstr(err, path) != NULL, "%s: message does not name the file: %s", path, err);
	for (; needles && *needles; needles++)
		cr_expect(strstr(err, *needles) != NULL, "%s: message lacks '%s': %s", path, *needles, err);
	if (!rc)
		wf_destroy(g);
}

#define FAIL(file, code, ...)                                                  \
	do {                                                                   \
		static const char *const _n[] = { __VA_ARGS__, NULL };         \
		expect_fail_path(BAD file, code, _n);                          \
	} while (0)

Test(bad, malformed_and_truncated)
{
	FAIL("truncated.json", -EINVAL, "truncated.json:1:", "unexpected end of input");
	FAIL("truncated.xml", -EINVAL, "truncated.xml:10:", "malformed XML");
	FAIL("truncated.yml", -EINVAL, "truncated.yml:22:", "malformed YAML");
	FAIL("trailing.json", -EINVAL, "trailing.json:1:", "trailing data");
	FAIL("nonutf8.xml", -EINVAL, "nonutf8.xml:3:", "UTF-8");
}

Test(bad, not_a_workflow)
{
	FAIL("not-a-workflow.yml", -ENOTSUP, "not a recognised workflow");
	FAIL("array.json", -ENOTSUP, "JSON array");
	FAIL("wrong-root.xml", -ENOTSUP, "<html>", "expected <adag>");
	FAIL("no-tasks.json", -EINVAL, "no tasks");
}

Test(bad, graph_errors)
{
	FAIL("cycle.json", -EINVAL, "dependency cycle", "'A'", "'B'", "'C'");
	FAIL("cycle-files.xml", -EINVAL, "dependency cycle", "'P'", "'Q'");
	FAIL("selfloop.xml", -EINVAL, "selfloop.xml:4:", "'A' lists itself");
	FAIL("dangling.xml", -EINVAL, "dangling.xml:6:", "'NOPE'", "dangling");
	FAIL("dangling.json", -EINVAL, "'ghost'", "dangling");
	FAIL("dup-task.json", -EINVAL, "duplicate task id 'A'");
	FAIL("dup-task.xml", -EINVAL, "dup-task.xml:5:", "duplicate task id 'J1'", "line 3");
}

Test(bad, values)
{
	FAIL("absurd-size.json", -EINVAL, "'huge.dat'", "absurd");
	FAIL("absurd-size.xml", -EINVAL, "absurd-size.xml:3:", "'huge.dat'", "absurd");
	FAIL("bad-size.yml", -EINVAL, "bad-size.yml:7:", "'twelve' is not a number");
	FAIL("bad-link.xml", -EINVAL, "bad-link.xml:4:", "link=\"sideways\"");
	FAIL("missing-name.json", -EINVAL, "files[0]", "missing string 'name'");
}

Test(bad, entities_are_refused)
{
	/* neither expanded (billion laughs) nor fetched (/etc/passwd) */
	FAIL("billion-laughs.xml", -EINVAL, "billion-laughs.xml:2:", "DOCTYPE");
	FAIL("xxe.xml", -EINVAL, "xxe.xml:2:", "DOCTYPE");
}

Test(bad, huge_file_refused_before_reading)
{
	char path[256];
	snprintf(path, sizeof(path), "/tmp/tierfs-parser-%d-huge.json", (int)getpid());
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)2 << 30), 0); /* sparse: no disk used */
	close(fd);
	static const char *const n[] = { "2147483648 bytes", "over the limit", NULL };
	expect_fail_path(path, -EFBIG, n);
	/* a lower limit applies to small files too */
	char err[256];
	wf_graph *g;
	struct wf_options o = { .max_bytes = 100 };
	cr_expect_eq(wf_load(TIERFS_FIXTURES_DIR "/parser/good/mini-wf15.json", &o, &g, err, sizeof(err)), -EFBIG);
	cr_expect(strstr(err, "limit of 100 bytes") != NULL, "%s", err);
	unlink(path);
}

Test(bad, missing_empty_and_directory)
{
	char err[256];
	wf_graph *g;
	cr_expect_eq(wf_load("/nonexistent/wf.json", NULL, &g, err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "/nonexistent/wf.json: cannot open workflow") != NULL, "%s", err);
	cr_expect_eq(wf_load("/tmp", NULL, &g, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "not a regular file") != NULL, "%s", err);
	cr_expect_eq(wf_load_buffer(" \n\t", 3, "blank", NULL, &g, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "blank: empty workflow file") != NULL, "%s", err);
	/* a zero-length error buffer is allowed */
	cr_expect_eq(wf_load_buffer("{", 1, "x", NULL, &g, NULL, 0), -EINVAL);
}

static char *repeat(const char *open, const char *close, size_t depth, const char *mid,
		    size_t *len)
{
	size_t lo = strlen(open), lc = strlen(close), lm = strlen(mid);
	char *buf = malloc(depth * (lo + lc) + lm + 1);
	cr_assert_not_null(buf);
	size_t o = 0;
	for (size_t i = 0; i < depth; i++, o += lo)
		memcpy(buf + o, open, lo);
	memcpy(buf + o, mid, lm);
	o += lm;
	for (size_t i = 0; i < depth; i++, o += lc)
		memcpy(buf + o, close, lc);
	buf[o] = '\0';
	*len = o;
	return buf;
}

/* head + depth x open + depth x close + tail must fail naming `want` */
static void expect_deep(const char *name, const char *head, const char *open,
			const char *close, const char *tail, const char *want)
{
	size_t len;
	char *inner = repeat(open, close, 100000, "", &len);
	size_t cap = len + strlen(head) + strlen(tail) + 1;
	char *doc = malloc(cap);
	int n = snprintf(doc, cap, "%s%s%s", head, inner, tail);
	char err[512];
	wf_graph *g;
	int rc = wf_load_buffer(doc, (size_t)n, name, NULL, &g, err, sizeof(err));
	cr_expect_eq(rc, -EINVAL, "%s: rc %d: %s", name, rc, err);
	cr_expect(strstr(err, want) != NULL, "%s: %s", name, err);
	free(inner);
	free(doc);
}

Test(bad, deep_nesting)
{
	/* 100000 levels each: cJSON stops at its nesting limit, libxml2 at
	 * 256 levels, YAML at the reader's depth pre-pass (libyaml alone would
	 * take half a minute: its scanner is quadratic in flow depth) */
	expect_deep("deep.json", "{\"workflow\": {\"tasks\": ", "[", "]", "}}",
		    "deep.json:1: malformed JSON");
	expect_deep("deep.xml", "<adag version=\"3.6\"><job id=\"a\" name=\"a\">", "<x>", "</x>",
		    "</job></adag>", "deep.xml:1: malformed XML");
	expect_deep("deep.yml", "pegasus: '5.0'\njobs:\n  - {id: a, uses: ", "[", "]", "}\n",
		    "deep.yml:3: YAML nested deeper than");
}

Test(bad, yaml_alias_bomb)
{
	/* 3000 jobs whose uses are all one aliased list of 3000 entries: a
	 * 70 KB document that would walk 9 million uses */
	size_t cap = 1 << 20, o = 0;
	char *doc = malloc(cap);
	o += (size_t)snprintf(doc + o, cap - o, "pegasus: '5.0'\nu: &u [");
	for (int i = 0; i < 3000; i++)
		o += (size_t)snprintf(doc + o, cap - o, "%s{lfn: f%d}", i ? "," : "", i);
	o += (size_t)snprintf(doc + o, cap - o, "]\njobs:\n");
	for (int i = 0; i < 3000; i++)
		o += (size_t)snprintf(doc + o, cap - o, "  - {id: j%d, uses: *u}\n", i);
	char err[512];
	wf_graph *g;
	int rc = wf_load_buffer(doc, o, "bomb.yml", NULL, &g, err, sizeof(err));
	cr_expect_eq(rc, -EINVAL, "rc %d: %s", rc, err);
	cr_expect(strstr(err, "alias") != NULL, "%s", err);
	free(doc);
}

Test(bad, non_utf8_names_in_json_are_kept_as_bytes)
{
	/* JSON strings are bytes to us: a Linux file name may be any bytes */
	static const char doc[] = "{\"workflow\":{\"tasks\":[{\"name\":\"t\",\"files\":["
				  "{\"link\":\"output\",\"name\":\"caf\xe9.dat\",\"sizeInBytes\":5}]}]}}";
	char err[256];
	wf_graph *g;
	cr_assert_eq(wf_load_buffer(doc, sizeof(doc) - 1, "latin1.json", NULL, &g, err, sizeof(err)), 0, "%s", err);
	struct wf_file_features f;
	cr_expect_eq(wf_file_features(g, "caf\xe9.dat", &f), 0);
	wf_destroy(g);
}

Test(bad, every_prefix_of_a_good_file_fails_cleanly)
{
	/* truncation at every byte: an error or (for a prefix that happens to
	 * be complete) a graph, never a crash; run under ASan in CI */
	static const char *const files[] = { "mini-dax36.xml", "mini-wf14.json", "mini-p5.yml" };
	for (int k = 0; k < 3; k++) {
		char path[512];
		snprintf(path, sizeof(path), TIERFS_FIXTURES_DIR "/parser/good/%s", files[k]);
		FILE *f = fopen(path, "rb");
		cr_assert_not_null(f);
		char buf[8192];
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		int failures = 0;
		for (size_t cut = 0; cut < len; cut++) {
			char err[512] = "";
			wf_graph *g;
			int rc = wf_load_buffer(buf, cut, files[k], NULL, &g, err, sizeof(err));
			if (rc) {
				failures++;
				cr_expect(err[0] != '\0', "%s cut at %zu: no message", files[k], cut);
			}
			wf_destroy(g);
		}
		cr_expect_gt(failures, (int)len / 2, "%s: only %d of %zu prefixes failed", files[k], failures, len);
	}
}
