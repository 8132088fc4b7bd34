/*
 * test_quant.c - the quantised predictor (thresholds as ranks, SIMD
 * levels) gives bit-identical class probabilities to the float walks it
 * replaces, on ordinary rows and on the values where a rank could be off
 * by one (a threshold itself, its float neighbours, -0, infinities) or
 * where it must step aside (NaN); models it cannot hold fall back.
 * Reaches into lrn_internal.h to switch between the kernels of one model.
 */
#include "helpers.h"
#include "lrn_internal.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct lrn_model *trained(int depth, int rounds, uint64_t seed)
{
	struct lrn_data *d = synth(3000, 0.1, seed);
	struct lrn_params p;
	struct lrn_model *m = NULL;
	char ds[16], rs[16];
	snprintf(ds, sizeof(ds), "%d", depth);
	snprintf(rs, sizeof(rs), "%d", rounds);
	lrn_params_default(&p);
	cr_assert_eq(lrn_params_set(&p, "max_depth", ds), 0);
	cr_assert_eq(lrn_params_set(&p, "rounds", rs), 0);
	cr_assert_eq(lrn_train(d, NULL, &p, NULL, NULL, &m), 0, "%s", lrn_last_error());
	lrn_data_destroy(d);
	return m;
}

/* Predict x with the given kernel: 2 = quantised AVX-512, 1 = quantised
 * AVX2, 0 = float walk of the complete layout, -1 = node walk. */
static int predict_with(struct lrn_model *m, int kernel, const float *x, float *p)
{
	int qd = m->qdepth, qw = m->qwide, cd = m->cdepth;
	if (kernel <= 0)
		m->qdepth = 0;
	if (kernel == 1)
		m->qwide = 0;
	if (kernel < 0)
		m->cdepth = 0;
	int c = lrn_model_predict(m, x, p);
	m->qdepth = qd;
	m->qwide = qw;
	m->cdepth = cd;
	return c;
}

static void same_on(struct lrn_model *m, const float *x, const char *what)
{
	float ref[LRN_MAX_CLASSES], p[LRN_MAX_CLASSES];
	size_t K = lrn_model_nclasses(m);
	int cref = predict_with(m, -1, x, ref);
	for (int k = 0; k <= 2; k++) {
		if (k == 2 && !m->qwide)
			continue;
		int c = predict_with(m, k, x, p);
		cr_assert_eq(c, cref, "%s: kernel %d predicts %d, the node walk %d", what, k, c, cref);
		cr_assert(memcmp(p, ref, sizeof(float) * K) == 0, "%s: kernel %d: probabilities differ in the bits (%.9g vs %.9g)",
			  what, k, (double)p[0], (double)ref[0]);
	}
}

/* Ordinary rows, then every threshold of every split feature, its float
 * neighbours and the special values, one feature at a time. */
static void check_model(struct lrn_model *m, uint64_t seed)
{
	struct lrn_data *d = synth(400, 0, seed);
	char what[128];
	for (size_t r = 0; r < lrn_data_rows(d); r++) {
		snprintf(what, sizeof(what), "row %zu", r);
		same_on(m, lrn_data_row(d, r), what);
	}
	const float special[] = {-0.0f, 0.0f, INFINITY, -INFINITY, NAN, 1e-30f, -1e30f};
	for (size_t s = 0; s < m->qnslots; s++) {
		size_t f = m->qfeat[s];
		for (uint32_t j = 0; j < m->qtn[s]; j++) {
			float t = m->qthr[s * m->qtsize + j];
			const float vals[] = {t, nextafterf(t, -INFINITY), nextafterf(t, INFINITY)};
			for (int v = 0; v < 3; v++) {
				float x[4];
				memcpy(x, lrn_data_row(d, j % lrn_data_rows(d)), sizeof(x));
				x[f] = vals[v];
				snprintf(what, sizeof(what), "feature %zu = %.9g (threshold %u%+d)", f, (double)vals[v], j, v == 2 ? 1 : -v);
				same_on(m, x, what);
			}
		}
		for (size_t v = 0; v < sizeof(special) / sizeof(special[0]); v++) {
			float x[4];
			memcpy(x, lrn_data_row(d, v), sizeof(x));
			x[f] = special[v];
			snprintf(what, sizeof(what), "feature %zu = %g", f, (double)special[v]);
			same_on(m, x, what);
		}
	}
	lrn_data_destroy(d);
}

static int have_avx2(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	return __builtin_cpu_supports("avx2");
#else
	return 0;
#endif
}

Test(quant, depth_6_model_predicts_bit_identically)
{
	struct lrn_model *m = trained(6, 30, 21);
	if (have_avx2())
		cr_assert_eq(m->qdepth, 6, "the quantised layout was not built");
	check_model(m, 22);
	/* The same trees through the per-tree class index instead of the
	 * round-robin sums in registers. */
	int cr = m->cround;
	m->cround = 0;
	check_model(m, 23);
	m->cround = cr;
	lrn_model_destroy(m);
}

Test(quant, shallow_and_deep_models_predict_bit_identically)
{
	const int depths[] = {1, 3, 7, 8};
	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		struct lrn_model *m = trained(depths[i], 12, 30 + i);
		if (have_avx2())
			cr_assert_eq(m->qdepth, depths[i] > 6 ? depths[i] : 6, "depth %d: quantised depth %d", depths[i], m->qdepth);
		check_model(m, 40 + i);
		lrn_model_destroy(m);
	}
}

/* A model of nt one-split trees of class 0 over nf features: tree t splits
 * feature t % nf at threshold t (left leaf -1, right leaf 1). */
static struct lrn_model *stumps(int nf, int nt)
{
	size_t cap = 256 + (size_t)nf * 8 + (size_t)nt * 160, len = 0;
	char *s = malloc(cap);
	len += (size_t)snprintf(s + len, cap - len,
				"{\"format\":\"tierfs-gbdt\",\"version\":1,\"objective\":\"multi:softprob\",\"features\":[");
	for (int f = 0; f < nf; f++)
		len += (size_t)snprintf(s + len, cap - len, "%s\"f%d\"", f ? "," : "", f);
	len += (size_t)snprintf(s + len, cap - len, "],\"classes\":[\"a\",\"b\"],\"base_scores\":[0,0],\"trees\":[");
	for (int t = 0; t < nt; t++)
		len += (size_t)snprintf(s + len, cap - len,
					"%s{\"class\":0,\"left\":[1,-1,-1],\"right\":[2,-1,-1],\"feature\":[%d,0,0],"
					"\"threshold\":[%d,-1,1],\"default_left\":[1,0,0]}",
					t ? "," : "", t % nf, t);
	len += (size_t)snprintf(s + len, cap - len, "]}");
	cr_assert_lt(len, cap);
	struct lrn_model *m;
	cr_assert_eq(lrn_model_parse(s, len, "stumps.json", &m), 0, "%s", lrn_last_error());
	free(s);
	return m;
}

/* Class-0 margin of stumps(nf, nt) at x: one vote per tree. */
static void stumps_expect(struct lrn_model *m, int nf, int nt, const float *x)
{
	float p[2];
	double marg = 0;
	for (int t = 0; t < nt; t++)
		marg += x[t % nf] < (float)t ? -1 : 1;
	lrn_model_predict(m, x, p);
	double e = exp(marg);
	cr_assert_float_eq(p[0], e / (e + 1), 1e-5, "margin %g: p0 %g", marg, (double)p[0]);
}

Test(quant, models_it_cannot_hold_fall_back)
{
	/* 17 split features: more than a rank register holds. */
	struct lrn_model *m = stumps(17, 34);
	cr_expect_eq(m->qdepth, 0);
	float x[17];
	for (int f = 0; f < 17; f++)
		x[f] = (float)(f * 2 + 1);
	stumps_expect(m, 17, 34, x);
	lrn_model_destroy(m);
	/* 300 distinct thresholds on one feature: more than a rank byte. */
	m = stumps(1, 300);
	cr_expect_eq(m->qdepth, 0);
	for (float v = -1; v < 302; v += 37.5f)
		stumps_expect(m, 1, 300, &v);
	lrn_model_destroy(m);
	/* 255 thresholds still fit, and predict as the float walk does. */
	m = stumps(1, 255);
	if (have_avx2())
		cr_expect_eq(m->qdepth, 6);
	for (float v = -1; v < 257; v += 0.5f) {
		stumps_expect(m, 1, 255, &v);
		same_on(m, &v, "255 stumps");
	}
	lrn_model_destroy(m);
}
