/*
 * learnbench.c - prediction side of the learner benchmark: the same
 * XGBoost model served by XGBoost's C API (XGBoosterPredictFromDense, one
 * row at a time, and one batch call) and by tier_learner after import, and
 * our own model on the same test rows.
 * Usage: learnbench OURS.json XGB.json TEST.csv CLASS0,CLASS1,...
 * (the class names of the XGBoost model's 0..K-1).  Times are thread CPU
 * time, so other jobs on a shared machine do not inflate them.
 */
#include <learner.h>
#include <xgboost/c_api.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "learnbench: %s: %s\n", what, msg);
	exit(1);
}

/* Test rows in the model's feature order and labels as model classes. */
static float *rows_for(const struct lrn_model *m, const struct lrn_data *d, int *y)
{
	size_t nf = lrn_model_nfeatures(m), n = lrn_data_rows(d);
	float *x = malloc(sizeof(float) * nf * n);
	if (!x)
		die("rows", "out of memory");
	for (size_t f = 0; f < nf; f++) {
		size_t c = 0;
		while (c < lrn_data_nfeatures(d) && strcmp(lrn_data_feature_name(d, c), lrn_model_feature_name(m, f)) != 0)
			c++;
		if (c == lrn_data_nfeatures(d))
			c = f; /* positional names (f0, f1, ...) */
		for (size_t r = 0; r < n; r++)
			x[r * nf + f] = lrn_data_row(d, r)[c];
	}
	for (size_t r = 0; r < n; r++)
		y[r] = lrn_model_class_index(m, lrn_data_class_name(d, (size_t)lrn_data_label(d, r)));
	return x;
}

/* Accuracy and CPU ns per single-row call of our predictor. */
static double ours(const struct lrn_model *m, const float *x, const int *y, size_t n, double *acc, float *proba_out)
{
	size_t nf = lrn_model_nfeatures(m), K = lrn_model_nclasses(m), ok = 0;
	float p[LRN_MAX_CLASSES];
	for (size_t r = 0; r < n && r < 1000; r++)
		(void)lrn_model_predict(m, x + r * nf, p);
	double best = INFINITY;
	for (int rep = 0; rep < 3; rep++) {
		ok = 0;
		double t0 = cpu_now();
		for (size_t r = 0; r < n; r++) {
			int c = lrn_model_predict(m, x + r * nf, p);
			ok += c == y[r];
			if (proba_out)
				memcpy(proba_out + r * K, p, sizeof(float) * K);
		}
		double ns = (cpu_now() - t0) * 1e9 / (double)n;
		best = ns < best ? ns : best;
	}
	*acc = (double)ok / (double)n;
	return best;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: learnbench OURS.json XGB.json TEST.csv CLASS0,CLASS1,...\n");
		return 2;
	}
	struct lrn_model *mo, *mx;
	struct lrn_data *d;
	if (lrn_model_load(argv[1], &mo) < 0 || lrn_model_load(argv[2], &mx) < 0 || lrn_data_load_csv(argv[3], NULL, &d) < 0)
		die("load", lrn_last_error());
	const char *names[LRN_MAX_CLASSES];
	size_t nn = 0;
	for (char *s = NULL, *tok = strtok_r(argv[4], ",", &s); tok && nn < LRN_MAX_CLASSES; tok = strtok_r(NULL, ",", &s))
		names[nn++] = tok;
	if (lrn_model_set_class_names(mx, names, nn) < 0)
		die("classes", lrn_last_error());
	size_t n = lrn_data_rows(d), nf = lrn_model_nfeatures(mx), K = lrn_model_nclasses(mx);
	int *yo = malloc(sizeof(int) * n), *yx = malloc(sizeof(int) * n);
	float *xo = rows_for(mo, d, yo), *xx = rows_for(mx, d, yx);
	float *pours = malloc(sizeof(float) * n * K);

	double acc_o, acc_x, acc_xc;
	double ns_o = ours(mo, xo, yo, n, &acc_o, NULL);
	double ns_xo = ours(mx, xx, yx, n, &acc_x, pours);

	/* XGBoost's C API on the same model and rows. */
	BoosterHandle h;
	if (XGBoosterCreate(NULL, 0, &h) || XGBoosterLoadModel(h, argv[2]) || XGBoosterSetParam(h, "nthread", "1"))
		die("xgboost", XGBGetLastError());
	float *row = malloc(sizeof(float) * nf);
	char iface[256], cfg[256];
	snprintf(iface, sizeof(iface), "{\"data\": [%llu, true], \"shape\": [1, %zu], \"typestr\": \"<f4\", \"version\": 3}",
		 (unsigned long long)(uintptr_t)row, nf);
	snprintf(cfg, sizeof(cfg), "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, \"strict_shape\": false, \"missing\": NaN, \"cache_id\": 0}");
	const bst_ulong *shape;
	bst_ulong dim;
	const float *res;
	double maxdiff = 0, best = INFINITY;
	size_t agree = 0, ns1 = n < 20000 ? n : 20000; /* XGBoost's single-row path is slow: a sample of rows */
	for (int rep = 0; rep < 3; rep++) {
		double t0 = cpu_now();
		for (size_t r = 0; r < ns1; r++) {
			memcpy(row, xx + r * nf, sizeof(float) * nf);
			if (XGBoosterPredictFromDense(h, iface, cfg, NULL, &shape, &dim, &res))
				die("xgboost predict", XGBGetLastError());
			if (rep > 0)
				continue;
			size_t c = 0;
			int oc = 0;
			for (size_t k = 0; k < K; k++) {
				c = res[k] > res[c] ? k : c;
				double df = fabs((double)res[k] - (double)pours[r * K + k]);
				maxdiff = df > maxdiff ? df : maxdiff;
				if (pours[r * K + k] > pours[r * K + (size_t)oc])
					oc = (int)k;
			}
			agree += oc == (int)c;
		}
		double ns = (cpu_now() - t0) * 1e9 / (double)ns1;
		best = ns < best ? ns : best;
	}
	double ns_xc = best;

	/* Batch: one call over all rows against our loop. */
	char biface[256];
	snprintf(biface, sizeof(biface), "{\"data\": [%llu, true], \"shape\": [%zu, %zu], \"typestr\": \"<f4\", \"version\": 3}",
		 (unsigned long long)(uintptr_t)xx, n, nf);
	double t0 = cpu_now();
	if (XGBoosterPredictFromDense(h, biface, cfg, NULL, &shape, &dim, &res))
		die("xgboost batch", XGBGetLastError());
	double batch_x = (double)n / (cpu_now() - t0);
	double batch_o = 1e9 / ns_xo;
	size_t ok = 0;
	for (size_t r = 0; r < n; r++) {
		size_t c = 0;
		for (size_t k = 1; k < K; k++)
			c = res[r * K + k] > res[r * K + c] ? k : c;
		ok += (int)c == yx[r];
	}
	acc_xc = (double)ok / (double)n;

	printf("test rows %zu\n", n);
	printf("accuracy   tierfs model %.4f   xgboost model (xgboost C API) %.4f   xgboost model (tierfs import) %.4f\n", acc_o, acc_xc, acc_x);
	printf("import     max |p_tierfs - p_xgboost| = %.3g, same class on %zu/%zu rows\n", maxdiff, agree, ns1);
	printf("single-row CPU ns/row: xgboost C API %.0f   tierfs on imported model %.0f   tierfs on own model %.0f   speed-up %.1fx\n",
	       ns_xc, ns_xo, ns_o, ns_xc / ns_xo);
	printf("batch rows/s (1 thread): xgboost %.0f   tierfs %.0f\n", batch_x, batch_o);
	printf("trees: tierfs %zu, xgboost %zu\n", lrn_model_ntrees(mo), lrn_model_ntrees(mx));
	XGBoosterFree(h);
	free(row);
	free(xo);
	free(xx);
	free(yo);
	free(yx);
	free(pours);
	lrn_model_destroy(mo);
	lrn_model_destroy(mx);
	lrn_data_destroy(d);
	return 0;
}
