/*
 * tg_eval.c - how good a trace generator is on held-out real files: curve
 * RMSE of the trace generator against two baselines (the class's mean
 * training curve, and the curve of the nearest training file of the class
 * in feature space: what jittering real vectors gives), and the
 * Kolmogorov-Smirnov distance between held-out and generated feature
 * marginals per feature generator (generated vectors decoded into records
 * and encoded again, so counts are whole as in real files).  Also the train/test split by run.
 */
#include "tg_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define D TG_NFEAT
/* Classes with fewer held-out files than this are left out of the KS
 * figures (a marginal of 3 points says little). */
#define KS_MIN_FILES 5

int tg_split(const struct tg_records *rs, double frac, uint64_t seed, struct tg_records *train, struct tg_records *test)
{
	for (size_t i = 0; i < rs->n; i++) {
		uint64_t s = rs->r[i].workflow ^ (seed * 0x9e3779b97f4a7c15ULL);
		int rc = tg_records_push(tg_rand_unif(&s) < frac ? test : train, &rs->r[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static double rmse(const float *a, const float *b)
{
	double s = 0;
	for (int i = 0; i < TG_CURVE; i++)
		s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
	return sqrt(s / TG_CURVE);
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

/* Two-sample KS statistic of sorted a (n) and b (m). */
static double ks(const float *a, size_t n, const float *b, size_t m)
{
	size_t i = 0, j = 0;
	double d = 0;
	while (i < n && j < m) {
		float v = a[i] < b[j] ? a[i] : b[j];
		while (i < n && a[i] <= v)
			i++;
		while (j < m && b[j] <= v)
			j++;
		double e = fabs((double)i / n - (double)j / m);
		if (e > d)
			d = e;
	}
	return d;
}

int tg_evaluate(const struct tg_gen *g, const struct tg_records *train, const struct tg_records *test, uint64_t seed,
		struct tg_eval *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	size_t nc = g->nclass, nt = test->n, ntr = train->n;
	float *xt = malloc((nt + 1) * D * sizeof(float)), *xtr = malloc((ntr + 1) * D * sizeof(float));
	float *curve = malloc(TG_CURVE * sizeof(float));
	int *ct = malloc((nt + 1) * sizeof(int)), *ctr = malloc((ntr + 1) * sizeof(int));
	int rc = -ENOMEM;
	float *gen = NULL, *col_a = NULL, *col_b = NULL;
	double ks_w[TG_FG_NKINDS] = {0};
	if (!xt || !xtr || !curve || !ct || !ctr)
		goto out;
	for (size_t i = 0; i < nt; i++) {
		tg_features(g, &test->r[i], xt + i * D);
		ct[i] = tg_gen_class_index(g, test->r[i].cls);
	}
	for (size_t i = 0; i < ntr; i++) {
		tg_features(g, &train->r[i], xtr + i * D);
		ctr[i] = tg_gen_class_index(g, train->r[i].cls);
	}
	size_t le = 0;
	for (size_t i = 0; i < nt; i++) {
		if (ct[i] < 0)
			continue;
		const struct tg_record *r = &test->r[i];
		if ((rc = tg_gen_curves(g, (size_t)ct[i], xt + i * D, 1, curve)))
			goto out;
		double e = rmse(curve, r->curve);
		out->rmse_tg += e;
		le += e <= 0.2;
		out->rmse_class_mean += rmse(g->cls[ct[i]].mean_curve, r->curve);
		double best = INFINITY;
		size_t bi = 0;
		for (size_t k = 0; k < ntr; k++) {
			if (ctr[k] != ct[i])
				continue;
			double s = 0;
			for (int j = 0; j < D; j++)
				s += (xt[i * D + j] - xtr[k * D + j]) * (xt[i * D + j] - xtr[k * D + j]);
			if (s < best) {
				best = s;
				bi = k;
			}
		}
		out->rmse_nearest += isfinite(best) ? rmse(train->r[bi].curve, r->curve) : rmse(curve, r->curve);
		out->files++;
	}
	if (!out->files) {
		snprintf(err, errlen, "no held-out record belongs to a class the generator knows");
		rc = -EINVAL;
		goto out;
	}
	out->rmse_tg /= (double)out->files;
	out->rmse_class_mean /= (double)out->files;
	out->rmse_nearest /= (double)out->files;
	out->frac_tg_le_02 = (double)le / (double)out->files;
	/* KS per class with enough held-out files, per feature. */
	size_t ngen = 500;
	gen = malloc(ngen * D * sizeof(float));
	col_a = malloc((nt + 1) * sizeof(float));
	col_b = malloc(ngen * sizeof(float));
	if (!gen || !col_a || !col_b) {
		rc = -ENOMEM;
		goto out;
	}
	for (int k = 0; k < TG_FG_NKINDS; k++)
		out->ks_max[k] = 0;
	for (size_t c = 0; c < nc; c++) {
		size_t n = 0;
		for (size_t i = 0; i < nt; i++)
			n += ct[i] == (int)c;
		if (n < KS_MIN_FILES)
			continue;
		for (int k = 0; k < TG_FG_NKINDS; k++) {
			uint64_t rng = seed ^ (c * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)k;
			if (tg_gen_sample_features(g, c, (enum tg_fg_kind)k, &rng, ngen, gen) != 0)
				continue;
			/* Compare what a generated file would have: decoded into
			 * a record (counts rounded) and encoded again, as the
			 * held-out files were. */
			for (size_t s = 0; s < ngen; s++) {
				struct tg_record r;
				tg_gen_decode_record(g, c, gen + s * D, NULL, &r);
				tg_features(g, &r, gen + s * D);
			}
			double sum = 0;
			for (int j = 0; j < D; j++) {
				size_t m = 0;
				for (size_t i = 0; i < nt; i++)
					if (ct[i] == (int)c)
						col_a[m++] = xt[i * D + j];
				for (size_t s = 0; s < ngen; s++)
					col_b[s] = gen[s * D + j];
				qsort(col_a, m, sizeof(float), cmp_float);
				qsort(col_b, ngen, sizeof(float), cmp_float);
				double d = ks(col_a, m, col_b, ngen);
				sum += d;
				if (d > out->ks_max[k])
					out->ks_max[k] = d;
			}
			out->ks_mean[k] += sum / D * (double)n;
			ks_w[k] += (double)n;
		}
	}
	for (int k = 0; k < TG_FG_NKINDS; k++) {
		if (ks_w[k] > 0) {
			out->ks_mean[k] /= ks_w[k];
		} else {
			out->ks_mean[k] = -1;
			out->ks_max[k] = -1;
		}
	}
	rc = 0;
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory evaluating the generator");
	free(xt);
	free(xtr);
	free(curve);
	free(ct);
	free(ctr);
	free(gen);
	free(col_a);
	free(col_b);
	return rc;
}
