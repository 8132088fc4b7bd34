/*
 * model_quant.c - the quantised predictor: thresholds replaced by their
 * rank among the feature's thresholds, and each tree's top six levels
 * decided at once with byte SIMD (AVX2, or AVX-512BW when the CPU has
 * it), so a row's walk down a tree is a chain of register bit tests
 * instead of dependent loads.  Levels below six (trees of depth 7-8) go
 * node by node on the same bytes.  A row's ranks come first, by a binary
 * search over every split feature at once (AVX2 gathers).
 *
 * Exactness: for a feature's sorted distinct thresholds T[0..n) and
 * rank(x) = #{j : T[j] <= x}, x < T[k] exactly when rank(x) <= k.  So a
 * node compares small integers and takes the same branch as the float
 * compare, for every non-NaN x (infinities included); leaves are the same
 * floats added in the same order, so the class sums are bit-identical to
 * the float walk.  Rows with a NaN take the float walk (model.c), which
 * knows each node's default direction.
 *
 * Built only when it applies: x86-64 with AVX2 at run time, every tree at
 * most LRN_COMPLETE_DEPTH deep, at most LRN_QSLOTS distinct split features
 * (a rank vector is one 16-byte register: pshufb gathers from it) and at
 * most 255 distinct thresholds per feature (a rank is a byte).  Otherwise
 * qdepth stays 0 and model.c predicts as before.
 *
 * Layout of tree t at qtree + t * qstride, a complete tree of depth Q =
 * qdepth >= 6 as a 1-based heap (node i has children 2i, 2i+1; byte 0 is
 * unused), W = 2^Q: W slot bytes (feature slot of node i), W key bytes
 * (k ^ 0x80 where T[k] is node i's threshold, so a signed byte compare
 * "rank ^ 0x80 > key" means x >= T[k]: go right), then W float leaves.
 * Below a leaf shallower than Q both sides lead to copies of it.
 */
#include "lrn_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define QUANT_X86 1
#endif

#define QMIN_DEPTH 6 /* the top levels decided at once: 63 nodes, 64 bytes */

void lrn_quant_free(struct lrn_model *m)
{
	free(m->qtree);
	free(m->qthr);
	m->qtree = NULL;
	m->qthr = NULL;
	m->qdepth = 0;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

/* Index of thr in the sorted distinct T[0..n) (it is there by construction). */
static unsigned key_of(const float *T, unsigned n, float thr)
{
	unsigned lo = 0, hi = n;
	while (hi - lo > 1) {
		unsigned mid = (lo + hi) / 2;
		if (thr < T[mid])
			hi = mid;
		else
			lo = mid;
	}
	return lo;
}

/* Write compiled node c as node i (depth d) of tree t's complete tree. */
static void qfill(struct lrn_model *m, uint8_t *tree, const int *slot_of, int32_t c, size_t i, int d)
{
	const size_t W = (size_t)1 << m->qdepth;
	const struct lrn_cnode *n = &m->nodes[c];
	if (d == m->qdepth) {
		memcpy(tree + 2 * W + 4 * (i - W), &n->thr, sizeof(float));
		return;
	}
	int leaf = n->next[0] == c;
	if (leaf) {
		tree[i] = 0;
		tree[W + i] = 0;
	} else {
		int s = slot_of[n->featdl & ~LRN_MISSING_RIGHT];
		tree[i] = (uint8_t)s;
		tree[W + i] = (uint8_t)(key_of(m->qthr + s * m->qtsize, m->qtn[s], n->thr) ^ 0x80u);
	}
	qfill(m, tree, slot_of, leaf ? c : n->next[0], 2 * i, d + 1);
	qfill(m, tree, slot_of, leaf ? c : n->next[1], 2 * i + 1, d + 1);
}

int lrn_quant_build(struct lrn_model *m)
{
	m->qdepth = 0;
#ifndef QUANT_X86
	return 0;
#else
	if (m->cdepth == 0 || m->ntrees == 0 || !__builtin_cpu_supports("avx2"))
		return 0;
	int *slot_of = malloc(sizeof(int) * m->nfeatures);
	uint32_t count[LRN_QSLOTS] = {0}, off[LRN_QSLOTS + 1], fill[LRN_QSLOTS];
	float *all = NULL;
	size_t nslots = 0;
	if (!slot_of)
		return -ENOMEM;
	for (size_t f = 0; f < m->nfeatures; f++)
		slot_of[f] = -1;
	memset(m->qfeat, 0, sizeof(m->qfeat));
	/* Slots in order of first use; count thresholds per slot. */
	for (size_t c = 0; c < m->nnodes; c++) {
		const struct lrn_cnode *n = &m->nodes[c];
		if (n->next[0] == (int32_t)c)
			continue;
		uint32_t f = n->featdl & ~LRN_MISSING_RIGHT;
		if (slot_of[f] < 0) {
			if (nslots == LRN_QSLOTS)
				goto unsuitable;
			m->qfeat[nslots] = f;
			slot_of[f] = (int)nslots++;
		}
		count[slot_of[f]]++;
	}
	m->qnslots = nslots;
	off[0] = 0;
	for (size_t s = 0; s < nslots; s++)
		off[s + 1] = off[s] + count[s];
	all = malloc(sizeof(float) * (off[nslots] ? off[nslots] : 1));
	if (!all)
		goto nomem;
	memcpy(fill, off, sizeof(fill));
	for (size_t c = 0; c < m->nnodes; c++) {
		const struct lrn_cnode *n = &m->nodes[c];
		if (n->next[0] != (int32_t)c)
			all[fill[slot_of[n->featdl & ~LRN_MISSING_RIGHT]]++] = n->thr;
	}
	/* Sorted distinct thresholds per slot, in place. */
	uint32_t maxn = 0;
	for (size_t s = 0; s < nslots; s++) {
		float *T = all + off[s];
		uint32_t k = 0;
		qsort(T, count[s], sizeof(float), cmp_float);
		for (uint32_t j = 0; j < count[s]; j++)
			if (k == 0 || T[j] != T[k - 1])
				T[k++] = T[j];
		if (k > 255)
			goto unsuitable;
		m->qtn[s] = k;
		maxn = k > maxn ? k : maxn;
	}
	/* Tables of 2^levels - 1 entries, padded with NaN (never <= x), so
	 * every slot's search takes the same levels side by side. */
	m->qlevels = 0;
	while (((1u << m->qlevels) - 1) < maxn)
		m->qlevels++;
	m->qtsize = (1u << m->qlevels) - 1;
	m->qthr = malloc(sizeof(float) * (nslots * m->qtsize + 1));
	if (!m->qthr)
		goto nomem;
	for (size_t s = 0; s < nslots; s++)
		for (uint32_t j = 0; j < m->qtsize; j++)
			m->qthr[s * m->qtsize + j] = j < m->qtn[s] ? all[off[s] + j] : NAN;

	m->qdepth = m->cdepth > QMIN_DEPTH ? m->cdepth : QMIN_DEPTH;
	const size_t W = (size_t)1 << m->qdepth;
	m->qstride = 6 * W; /* a multiple of 64: aligned loads */
	m->qtree = aligned_alloc(64, m->qstride * m->ntrees);
	if (!m->qtree)
		goto nomem;
	memset(m->qtree, 0, m->qstride * m->ntrees);
	for (size_t t = 0; t < m->ntrees; t++)
		qfill(m, m->qtree + t * m->qstride, slot_of, m->root[t], 1, 0);
	m->qwide = __builtin_cpu_supports("avx512bw");
	free(all);
	free(slot_of);
	return 0;
unsuitable:
	free(all);
	free(slot_of);
	lrn_quant_free(m);
	return 0;
nomem:
	free(all);
	free(slot_of);
	lrn_quant_free(m);
	return -ENOMEM;
#endif
}

#ifdef QUANT_X86
/* One level: i = 2i + (bit i of mask), two instructions and no load.
 * bt takes the bit index modulo the register width: with 32-bit masks
 * that is what the second half (nodes 32..63, bits 0..31 of hi) needs. */
static inline __attribute__((always_inline)) size_t bstep32(uint32_t mask, size_t i)
{
	__asm__("bt %k[i], %k[m]\n\t"
		"adc %[i], %[i]"
		: [i] "+r"(i)
		: [m] "r"(mask)
		: "cc");
	return i;
}

static inline __attribute__((always_inline)) size_t bstep64(uint64_t mask, size_t i)
{
	__asm__("bt %[i], %[m]\n\t"
		"adc %[i], %[i]"
		: [i] "+r"(i)
		: [m] "r"(mask)
		: "cc");
	return i;
}

/* Leaf of the complete tree T after its walk reached node i. */
static inline __attribute__((always_inline)) float qleaf(const uint8_t *T, size_t i, int Q)
{
	const size_t W = (size_t)1 << Q;
	const float *L = (const float *)(T + 2 * W);
	return L[i - W];
}

/* Levels below the sixth, one node at a time (in SIMD they would read
 * four times the bytes of a tree for two levels: measured slower on 120
 * depth-8 trees); then the leaf. */
static inline __attribute__((always_inline)) float qtail(const uint8_t *T, const uint8_t *r, size_t i, int Q)
{
	const size_t W = (size_t)1 << Q;
	for (int d = QMIN_DEPTH; d < Q; d++)
		i = 2 * i + ((int8_t)r[T[i]] > (int8_t)T[W + i]);
	return qleaf(T, i, Q);
}

/* Leaf of tree T for the row whose rank bytes r are broadcast in R: the
 * top 63 nodes compared at once, their outcomes as bits, then one bit
 * test per level down the path (AVX2: two 32-bit halves, the first for
 * depths 0-4, the second for depth 5; AVX-512BW: one 64-bit mask). */
__attribute__((target("avx2"))) static inline __attribute__((always_inline)) float
qtree_leaf256(const uint8_t *T, __m256i R, const uint8_t *r, int Q)
{
	const size_t W = (size_t)1 << Q;
	const __m256i s0 = _mm256_load_si256((const __m256i *)T), s1 = _mm256_load_si256((const __m256i *)(T + 32));
	const __m256i k0 = _mm256_load_si256((const __m256i *)(T + W)),
		      k1 = _mm256_load_si256((const __m256i *)(T + W + 32));
	uint32_t lo = (uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi8(_mm256_shuffle_epi8(R, s0), k0));
	uint32_t hi = (uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi8(_mm256_shuffle_epi8(R, s1), k1));
	size_t i = 1;
	i = bstep32(lo, i);
	i = bstep32(lo, i);
	i = bstep32(lo, i);
	i = bstep32(lo, i);
	i = bstep32(lo, i);
	i = bstep32(hi, i);
	return qtail(T, r, i, Q);
}

__attribute__((target("avx512bw"))) static inline __attribute__((always_inline)) float
qtree_leaf512(const uint8_t *T, __m512i R, const uint8_t *r, int Q)
{
	const size_t W = (size_t)1 << Q;
	uint64_t mk = _mm512_cmpgt_epi8_mask(_mm512_shuffle_epi8(R, _mm512_load_si512(T)), _mm512_load_si512(T + W));
	size_t i = 1;
	i = bstep64(mk, i);
	i = bstep64(mk, i);
	i = bstep64(mk, i);
	i = bstep64(mk, i);
	i = bstep64(mk, i);
	i = bstep64(mk, i);
	return qtail(T, r, i, Q);
}

/* Sum the trees into marg with LEAF(T) the leaf of the tree at T.  K == 3
 * or 1: tree t adds to margin t % K (m->cround), sums in registers;
 * K == 0: margin tcls[t] through memory.  Tree order per margin, as
 * XGBoost adds them: the sums match to the bit. */
#define QSUM_BODY(LEAF)                                                     \
	do {                                                                \
		const size_t S = m->qstride, nt = m->ntrees;                \
		const uint8_t *T = m->qtree;                                \
		size_t t = 0;                                               \
		if (K == 3) {                                               \
			float a0 = marg[0], a1 = marg[1], a2 = marg[2];     \
			for (; t + 3 <= nt; t += 3, T += 3 * S) {           \
				a0 += LEAF(T);                              \
				a1 += LEAF(T + S);                          \
				a2 += LEAF(T + 2 * S);                      \
			}                                                   \
			marg[0] = a0;                                       \
			marg[1] = a1;                                       \
			marg[2] = a2;                                       \
			for (; t < nt; t++, T += S)                         \
				marg[t % 3] += LEAF(T);                     \
		} else if (K == 1) {                                        \
			float a0 = marg[0];                                 \
			for (; t < nt; t++, T += S)                         \
				a0 += LEAF(T);                              \
			marg[0] = a0;                                       \
		} else {                                                    \
			for (; t < nt; t++, T += S)                         \
				marg[m->tcls[t]] += LEAF(T);                \
		}                                                           \
	} while (0)

__attribute__((target("avx2"))) static inline __attribute__((always_inline)) void
qsum256_impl(const struct lrn_model *m, const uint8_t *r, float *marg, int Q, int K)
{
	const __m256i R = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)r));
#define LEAF256(T) qtree_leaf256(T, R, r, Q)
	QSUM_BODY(LEAF256);
#undef LEAF256
}

__attribute__((target("avx512bw"))) static inline __attribute__((always_inline)) void
qsum512_impl(const struct lrn_model *m, const uint8_t *r, float *marg, int Q, int K)
{
	const __m512i R = _mm512_broadcast_i32x4(_mm_load_si128((const __m128i *)r));
#define LEAF512(T) qtree_leaf512(T, R, r, Q)
	QSUM_BODY(LEAF512);
#undef LEAF512
}

/* Depth and round-robin classes as constants: the walks unroll and the
 * sums stay in registers. */
#define QCASE(impl, q)                                 \
	case q:                                        \
		if (m->cround == 3)                    \
			impl(m, r, marg, q, 3);        \
		else if (m->cround == 1)               \
			impl(m, r, marg, q, 1);        \
		else                                   \
			impl(m, r, marg, q, 0);        \
		return

__attribute__((target("avx2"))) static void qsum256(const struct lrn_model *m, const uint8_t *r, float *marg)
{
	switch (m->qdepth) {
		QCASE(qsum256_impl, 6);
		QCASE(qsum256_impl, 7);
		QCASE(qsum256_impl, 8);
	}
}

__attribute__((target("avx512bw"))) static void qsum512(const struct lrn_model *m, const uint8_t *r, float *marg)
{
	switch (m->qdepth) {
		QCASE(qsum512_impl, 6);
		QCASE(qsum512_impl, 7);
		QCASE(qsum512_impl, 8);
	}
}
#endif

#ifdef QUANT_X86
/* The row's rank bytes (rank ^ 0x80) per slot into r; 0 when a split
 * feature is missing.  rank = #{T[j] <= x}, one bit of it per level with
 * all slots side by side in two vectors: no branch on the data, and the
 * loads of a level are independent. */
__attribute__((target("avx2"))) static int qranks(const struct lrn_model *m, const float *x, uint8_t *r)
{
	const __m256i lanes0 = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	const __m256i lanes1 = _mm256_add_epi32(lanes0, _mm256_set1_epi32(8));
	const __m256i ns = _mm256_set1_epi32((int)m->qnslots);
	const __m256i use0 = _mm256_cmpgt_epi32(ns, lanes0), use1 = _mm256_cmpgt_epi32(ns, lanes1);
	const __m256 ninf = _mm256_set1_ps(-INFINITY);
	/* Unused lanes read -inf: no threshold is <= it, so their rank is 0. */
	const __m256i fi0 = _mm256_loadu_si256((const __m256i *)m->qfeat),
		      fi1 = _mm256_loadu_si256((const __m256i *)(m->qfeat + 8));
	const __m256 v0 = _mm256_mask_i32gather_ps(ninf, x, fi0, _mm256_castsi256_ps(use0), 4);
	const __m256 v1 = _mm256_mask_i32gather_ps(ninf, x, fi1, _mm256_castsi256_ps(use1), 4);
	if (_mm256_movemask_ps(_mm256_or_ps(_mm256_cmp_ps(v0, v0, _CMP_UNORD_Q), _mm256_cmp_ps(v1, v1, _CMP_UNORD_Q))))
		return 0;
	const __m256i ts = _mm256_set1_epi32((int)m->qtsize);
	__m256i b0 = _mm256_and_si256(_mm256_mullo_epi32(lanes0, ts), use0);
	__m256i b1 = _mm256_and_si256(_mm256_mullo_epi32(lanes1, ts), use1);
	for (int l = m->qlevels - 1; l >= 0; l--) {
		const __m256i h = _mm256_set1_epi32(1 << l), h1 = _mm256_set1_epi32((1 << l) - 1);
		__m256 t0 = _mm256_i32gather_ps(m->qthr, _mm256_add_epi32(b0, h1), 4);
		__m256 t1 = _mm256_i32gather_ps(m->qthr, _mm256_add_epi32(b1, h1), 4);
		b0 = _mm256_add_epi32(b0, _mm256_and_si256(h, _mm256_castps_si256(_mm256_cmp_ps(t0, v0, _CMP_LE_OQ))));
		b1 = _mm256_add_epi32(b1, _mm256_and_si256(h, _mm256_castps_si256(_mm256_cmp_ps(t1, v1, _CMP_LE_OQ))));
	}
	/* Positions back to ranks, then to 16 bytes in slot order. */
	b0 = _mm256_sub_epi32(b0, _mm256_and_si256(_mm256_mullo_epi32(lanes0, ts), use0));
	b1 = _mm256_sub_epi32(b1, _mm256_and_si256(_mm256_mullo_epi32(lanes1, ts), use1));
	__m256i w = _mm256_permute4x64_epi64(_mm256_packus_epi32(b0, b1), 0xD8);
	__m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
	_mm_store_si128((__m128i *)r, _mm_xor_si128(bytes, _mm_set1_epi8((char)0x80)));
	return 1;
}
#endif

int lrn_quant_sum(const struct lrn_model *m, const float *x, float *marg)
{
#ifdef QUANT_X86
	_Alignas(16) uint8_t r[16];
	if (!qranks(m, x, r))
		return 0;
	if (m->qwide)
		qsum512(m, r, marg);
	else
		qsum256(m, r, marg);
	return 1;
#else
	(void)m;
	(void)x;
	(void)marg;
	return 0;
#endif
}
