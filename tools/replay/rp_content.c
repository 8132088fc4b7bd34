/* tier_replay: file content and file names.
 *
 * Content: the 64-bit word at offset 8*i of a file is word_at(key, i),
 * stored little-endian; so a byte at any offset can be recomputed alone,
 * and neighbouring files or blocks never repeat each other (a block copied
 * to the wrong place is caught).
 * The key is FNV-1a of the mapped path mixed with the seed.
 *
 * Names: see rp_map_name() in replay.h. The mapping is injective on the
 * components it keeps, so two workflow files only share a path when they
 * differ by "/", "." or empty components; rp_create() refuses those.
 */
#include "replay.h"

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#define PHI 0x9E3779B97F4A7C15ull

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

uint64_t rp_content_key(const char *relpath, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)relpath; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return mix64(h ^ mix64(seed + PHI));
}

/* Two multiply-xorshift rounds: bijective in key + i, so no two words of
 * a file are equal, and cheap enough (about 1 ns per word) that checking
 * content costs far less than moving it. */
static inline uint64_t word_at(uint64_t key, uint64_t i)
{
	uint64_t x = (key + i) * 0xBF58476D1CE4E5B9ull;
	x ^= x >> 32;
	x *= 0x94D049BB133111EBull;
	return x ^ (x >> 29);
}

static inline void put_le(unsigned char *p, uint64_t w)
{
	w = htole64(w);
	memcpy(p, &w, 8);
}

static inline uint64_t get_le(const unsigned char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return le64toh(w);
}

void rp_content_fill(uint64_t key, uint64_t off, void *buf, size_t len)
{
	unsigned char *p = buf, tmp[8];
	uint64_t i = off / 8;
	size_t skip = (size_t)(off % 8);
	if (skip) {
		size_t n = 8 - skip < len ? 8 - skip : len;
		put_le(tmp, word_at(key, i++));
		memcpy(p, tmp + skip, n);
		p += n;
		len -= n;
	}
	for (; len >= 8; len -= 8, p += 8)
		put_le(p, word_at(key, i++));
	if (len) {
		put_le(tmp, word_at(key, i));
		memcpy(p, tmp, len);
	}
}

size_t rp_content_mismatch(uint64_t key, uint64_t off, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	unsigned char want[8];
	size_t done = 0;
	/* word-aligned middle compared as words; edges and the word that
	 * differs are located byte by byte */
	while (done < len) {
		uint64_t at = off + done, i = at / 8;
		size_t skip = (size_t)(at % 8);
		if (skip == 0 && len - done >= 8) {
			if (get_le(p + done) == word_at(key, i)) {
				done += 8;
				continue;
			}
		}
		size_t n = 8 - skip < len - done ? 8 - skip : len - done;
		put_le(want, word_at(key, i));
		for (size_t k = 0; k < n; k++)
			if (want[skip + k] != p[done + k])
				return done + k;
		done += n;
	}
	return len;
}

static bool needs_escape(unsigned char c)
{
	return c < 0x20 || c == 0x7f || c == '%';
}

int rp_map_name(const char *lfn, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	const char *p = lfn;
	if (!lfn || outlen == 0)
		return -EINVAL;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p), clen = 0;
		if (n == 0 || (n == 1 && p[0] == '.')) {
			p += n + (end ? 1 : 0);
			continue;
		}
		if (o > 0) {
			if (o + 1 >= outlen)
				return -ENAMETOOLONG;
			out[o++] = '/';
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (o + 6 >= outlen)
				return -ENAMETOOLONG;
			memcpy(out + o, "%2E%2E", 6);
			o += 6;
			clen = 6;
		} else {
			for (size_t k = 0; k < n; k++) {
				unsigned char c = (unsigned char)p[k];
				size_t w = needs_escape(c) ? 3 : 1;
				if (o + w >= outlen)
					return -ENAMETOOLONG;
				if (w == 3) {
					out[o++] = '%';
					out[o++] = hex[c >> 4];
					out[o++] = hex[c & 15];
				} else {
					out[o++] = (char)c;
				}
				clen += w;
			}
		}
		if (clen > NAME_MAX)
			return -ENAMETOOLONG;
		p += n + (end ? 1 : 0);
	}
	if (o == 0)
		return -EINVAL;
	out[o] = '\0';
	return 0;
}
