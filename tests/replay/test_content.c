/* tier_replay library: the content stream (any range recomputable, every
 * change caught) and the mapping of workflow names to paths below DIR. */
#include "replay.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

Test(content, any_range_equals_the_same_range_of_the_whole)
{
	unsigned char whole[3000], part[700];
	uint64_t key = rp_content_key("work/part1", 7);
	rp_content_fill(key, 0, whole, sizeof(whole));
	/* unaligned starts and lengths hit the partial-word paths */
	for (uint64_t off = 0; off < 40; off += 3)
		for (size_t len = 0; len < 30; len += 7) {
			rp_content_fill(key, off, part, len);
			cr_assert_eq(memcmp(part, whole + off, len), 0, "off %lu len %zu", (unsigned long)off, len);
		}
	rp_content_fill(key, 1234, part, sizeof(part));
	cr_assert_eq(memcmp(part, whole + 1234, sizeof(part)), 0);
	cr_assert_eq(rp_content_mismatch(key, 5, whole + 5, 2000), 2000);
}

Test(content, every_single_byte_change_is_found_where_it_is)
{
	unsigned char buf[9000];
	uint64_t key = rp_content_key("x", 0);
	rp_content_fill(key, 100, buf, sizeof(buf));
	for (size_t at = 0; at < sizeof(buf); at += 997) {
		buf[at] ^= 0x01;
		cr_assert_eq(rp_content_mismatch(key, 100, buf, sizeof(buf)), at);
		buf[at] ^= 0x01;
	}
}

Test(content, depends_on_name_seed_and_offset)
{
	unsigned char a[64], b[64];
	uint64_t k = rp_content_key("a/b", 0);
	cr_assert_neq(k, rp_content_key("a/c", 0));
	cr_assert_neq(k, rp_content_key("a/b", 1));
	rp_content_fill(k, 0, a, sizeof(a));
	/* a block copied to another offset of the same file must not pass */
	cr_assert_lt(rp_content_mismatch(k, 64, a, sizeof(a)), sizeof(a));
	cr_assert_lt(rp_content_mismatch(rp_content_key("a/c", 0), 0, a, sizeof(a)), sizeof(a));
	/* zeros (a hole, a truncated-and-extended file) are not content */
	memset(b, 0, sizeof(b));
	cr_assert_lt(rp_content_mismatch(k, 0, b, sizeof(b)), 8);
}

struct map_case {
	const char *in, *out;
};

Test(names, map_keeps_everything_below_the_directory)
{
	static const struct map_case cases[] = {
		{ "plain.dat", "plain.dat" },
		{ "s001_8725973_ucsb/s001.srf", "s001_8725973_ucsb/s001.srf" },
		{ "/c3/9397/samplesheet.valid.csv", "c3/9397/samplesheet.valid.csv" },
		{ "../../etc/passwd", "%2E%2E/%2E%2E/etc/passwd" },
		{ "a/../../b", "a/%2E%2E/%2E%2E/b" },
		{ "./a//b/./c/", "a/b/c" },
		{ "...", "..." },
		{ "..x", "..x" },
		{ "tab\there\nnl", "tab%09here%0Anl" },
		{ "100%", "100%25" },
		{ "%2E%2E", "%252E%252E" },
		{ "del\x7f", "del%7F" },
	};
	char out[PATH_MAX];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(rp_map_name(cases[i].in, out, sizeof(out)), 0, "'%s'", cases[i].in);
		cr_expect_str_eq(out, cases[i].out, "'%s'", cases[i].in);
	}
}

Test(names, map_refuses_names_with_no_path_or_too_long)
{
	char out[PATH_MAX], longc[NAME_MAX + 2];
	static const char *const empty[] = { "", "/", "//", ".", "./.", "/./" };
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++)
		cr_expect_eq(rp_map_name(empty[i], out, sizeof(out)), -EINVAL, "'%s'", empty[i]);
	memset(longc, 'a', NAME_MAX + 1);
	longc[NAME_MAX + 1] = '\0';
	cr_expect_eq(rp_map_name(longc, out, sizeof(out)), -ENAMETOOLONG);
	longc[NAME_MAX] = '\0';
	cr_expect_eq(rp_map_name(longc, out, sizeof(out)), 0);
	/* escaping counts: 100 '%' become 300 bytes, past NAME_MAX */
	memset(longc, '%', 100);
	longc[100] = '\0';
	cr_expect_eq(rp_map_name(longc, out, sizeof(out)), -ENAMETOOLONG);
	cr_expect_eq(rp_map_name("abcdef", out, 4), -ENAMETOOLONG);
}

Test(names, create_refuses_two_names_on_one_path)
{
	char err[512] = "";
	wf_graph *g = NULL;
	rp_run *r = NULL;
	cr_assert_eq(wf_load(TIERFS_FIXTURES_DIR "/replay/collide-wf14.json", NULL, &g, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rp_create(g, "/tmp", NULL, &r, err, sizeof(err)), -EINVAL);
	cr_assert_null(r);
	cr_expect(strstr(err, "'/out/x'") && strstr(err, "'out/x'"), "message: %s", err);
	wf_destroy(g);
}
