/* tier_parser containers: bump arena, string->index hash map, path
 * normalisation, number parsing.
 *
 * Invariants: the map's capacity is a power of two and at most half full,
 * so probes stay short and a miss always meets an empty slot. The map stores
 * the key's full 64-bit hash, so most probes never touch the key bytes.
 */
#include "wf_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct wf_chunk {
	struct wf_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

#define WF_CHUNK_MIN ((size_t)64 << 10)

void *wf_arena_alloc(struct wf_arena *a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	struct wf_chunk *c = a->head;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > WF_CHUNK_MIN ? n : WF_CHUNK_MIN;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = cap;
		/* Keep a partly used head in front when a big block jumps in,
		 * so small strings still fill the old chunk's tail. */
		if (a->head && n > WF_CHUNK_MIN) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

char *wf_arena_strdup(struct wf_arena *a, const char *s, size_t n)
{
	char *p = wf_arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void wf_arena_free(struct wf_arena *a)
{
	struct wf_chunk *c = a->head;
	while (c) {
		struct wf_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
}

uint64_t wf_hash(const char *s, size_t n)
{
	uint64_t h = WF_FNV_OFFSET;
	while (n--)
		h = wf_hash_step(h, (unsigned char)s[n]);
	return wf_hash_finish(h);
}

struct wf_sslot {
	uint64_t hash;
	const char *key; /* NULL = empty */
	uint32_t val;
};

static int smap_grow(struct wf_smap *m)
{
	uint32_t ncap = m->cap ? m->cap * 2 : 64;
	if (ncap < m->cap)
		return -ENOMEM;
	struct wf_sslot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (uint32_t i = 0; i < m->cap; i++) {
		struct wf_sslot *s = &m->slots[i];
		if (!s->key)
			continue;
		uint32_t j = (uint32_t)s->hash & (ncap - 1);
		while (ns[j].key)
			j = (j + 1) & (ncap - 1);
		ns[j] = *s;
	}
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	return 0;
}

static struct wf_sslot *smap_find(const struct wf_smap *m, const char *key,
				  size_t n, uint64_t h)
{
	if (!m->cap)
		return NULL;
	uint32_t j = (uint32_t)h & (m->cap - 1);
	for (;;) {
		struct wf_sslot *s = &m->slots[j];
		if (!s->key)
			return s;
		if (s->hash == h && strncmp(s->key, key, n) == 0 &&
		    s->key[n] == '\0')
			return s;
		j = (j + 1) & (m->cap - 1);
	}
}

int wf_smap_put(struct wf_smap *m, const char *key, uint32_t val,
		uint32_t *existing)
{
	size_t n = strlen(key);
	uint64_t h = wf_hash(key, n);
	if ((m->count + 1) * 2 > m->cap) {
		int rc = smap_grow(m);
		if (rc)
			return rc;
	}
	struct wf_sslot *s = smap_find(m, key, n, h);
	if (s->key) {
		if (existing)
			*existing = s->val;
		return -EEXIST;
	}
	s->hash = h;
	s->key = key;
	s->val = val;
	m->count++;
	return 0;
}

bool wf_smap_get(const struct wf_smap *m, const char *key, size_t n,
		 uint64_t h, uint32_t *val)
{
	const struct wf_sslot *s = smap_find(m, key, n, h);
	if (!s || !s->key)
		return false;
	*val = s->val;
	return true;
}

void wf_smap_set(struct wf_smap *m, const char *key, uint32_t val)
{
	size_t n = strlen(key);
	struct wf_sslot *s = smap_find(m, key, n, wf_hash(key, n));
	if (s && s->key)
		s->val = val;
}

void wf_smap_free(struct wf_smap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->count = 0;
}

int wf_normalize(const char *in, size_t inlen, char *out, size_t outcap)
{
	size_t o = 0, i = 0;
	while (i < inlen) {
		while (i < inlen && in[i] == '/')
			i++;
		size_t start = i;
		while (i < inlen && in[i] != '/')
			i++;
		size_t n = i - start;
		if (n == 0 || (n == 1 && in[start] == '.'))
			continue;
		if (o + (o > 0) + n + 1 > outcap)
			return -ENAMETOOLONG;
		if (o > 0)
			out[o++] = '/';
		memcpy(out + o, in + start, n);
		o += n;
	}
	if (outcap == 0)
		return -ENAMETOOLONG;
	out[o] = '\0';
	return (int)o;
}

bool wf_parse_number(const char *s, double *out)
{
	if (!s)
		return false;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (!*s)
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	if (*end || end == s)
		return false;
	/* Overflow to inf is reported to the caller as a number so that the
	 * range check can name it as absurd rather than as non-numeric. */
	if (isnan(v))
		return false;
	*out = v;
	return true;
}
