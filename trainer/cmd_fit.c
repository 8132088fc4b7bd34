/*
 * cmd_fit.c - `tiertrain fit` and `tiertrain predict`: train a model on CSV
 * records, and run a model (ours or XGBoost's) over records reporting
 * accuracy, the confusion matrix and single-row prediction time.
 * Both print the same evaluation, hence one file.
 */
#include "commands.h"

#include <learner.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* Rows of d gathered into model feature order: by name, or by position
 * when the model only knows positional names (f0, f1, ...). */
static float *gather(const struct lrn_model *m, const struct lrn_data *d, const char *path)
{
	size_t nf = lrn_model_nfeatures(m), rows = lrn_data_rows(d);
	int *col = calloc(nf, sizeof(int));
	float *x = malloc(sizeof(float) * nf * (rows ? rows : 1));
	if (!col || !x) {
		fprintf(stderr, "tiertrain: out of memory for %zu rows\n", rows);
		goto fail;
	}
	int positional = 1;
	for (size_t f = 0; f < nf; f++) {
		char tmp[32];
		snprintf(tmp, sizeof(tmp), "f%zu", f);
		if (strcmp(lrn_model_feature_name(m, f), tmp) != 0)
			positional = 0;
	}
	for (size_t f = 0; f < nf; f++) {
		const char *name = lrn_model_feature_name(m, f);
		col[f] = -1;
		for (size_t c = 0; c < lrn_data_nfeatures(d); c++)
			if (strcmp(lrn_data_feature_name(d, c), name) == 0)
				col[f] = (int)c;
		if (col[f] < 0 && positional && f < lrn_data_nfeatures(d))
			col[f] = (int)f;
		if (col[f] < 0) {
			fprintf(stderr, "tiertrain: %s: no column \"%s\", which the model needs\n", path, name);
			goto fail;
		}
	}
	for (size_t r = 0; r < rows; r++) {
		const float *row = lrn_data_row(d, r);
		for (size_t f = 0; f < nf; f++)
			x[r * nf + f] = row[col[f]];
	}
	free(col);
	return x;
fail:
	free(col);
	free(x);
	return NULL;
}

/* Model class of each row's label (-1 when unlabelled), by name, else by
 * number for a model whose classes are unnamed. */
static int map_labels(const struct lrn_model *m, const struct lrn_data *d, const char *path, int *y)
{
	int map[LRN_MAX_CLASSES];
	for (size_t c = 0; c < lrn_data_nclasses(d); c++) {
		map[c] = lrn_model_class_index(m, lrn_data_class_name(d, c));
		if (map[c] < 0) {
			fprintf(stderr, "tiertrain: %s: label \"%s\" is not a class of the model (name the model's classes with --classes)\n",
				path, lrn_data_class_name(d, c));
			return -1;
		}
	}
	for (size_t r = 0; r < lrn_data_rows(d); r++) {
		int l = lrn_data_label(d, r);
		y[r] = l < 0 ? -1 : map[l];
	}
	return 0;
}

struct eval {
	size_t rows, labelled, correct, K;
	size_t *conf; /* K * K: true row, predicted column */
	double ns_per_row;
};

/* Predict every row one at a time (the daemon's way), timing the loop. */
static int evaluate(const struct lrn_model *m, const float *x, const int *y, size_t rows, struct eval *ev)
{
	size_t nf = lrn_model_nfeatures(m), K = lrn_model_nclasses(m);
	float proba[LRN_MAX_CLASSES];
	int *pred = malloc(sizeof(int) * (rows ? rows : 1));
	memset(ev, 0, sizeof(*ev));
	ev->conf = calloc(K * K, sizeof(size_t));
	if (!pred || !ev->conf) {
		free(pred);
		free(ev->conf);
		return -ENOMEM;
	}
	ev->rows = rows;
	ev->K = K;
	/* Warm the caches once, then time the best of three passes in thread
	 * CPU time: steady state is what a mount sees, and on a shared
	 * machine wall time mostly measures the other jobs. */
	size_t warm = rows < 1000 ? rows : 1000;
	for (size_t r = 0; r < warm; r++)
		pred[r] = lrn_model_predict(m, x + r * nf, proba);
	ev->ns_per_row = INFINITY;
	for (int pass = 0; pass < 3 && rows; pass++) {
		double t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		for (size_t r = 0; r < rows; r++)
			pred[r] = lrn_model_predict(m, x + r * nf, proba);
		double ns = (clock_s(CLOCK_THREAD_CPUTIME_ID) - t0) * 1e9 / (double)rows;
		ev->ns_per_row = ns < ev->ns_per_row ? ns : ev->ns_per_row;
	}
	if (!rows)
		ev->ns_per_row = 0;
	for (size_t r = 0; r < rows; r++) {
		if (y[r] < 0)
			continue;
		ev->labelled++;
		ev->correct += pred[r] == y[r];
		ev->conf[(size_t)y[r] * K + (size_t)pred[r]]++;
	}
	free(pred);
	return 0;
}

static double accuracy(const struct eval *ev)
{
	return ev->labelled ? (double)ev->correct / (double)ev->labelled : NAN;
}

static void print_confusion(FILE *fp, const struct lrn_model *m, const struct eval *ev)
{
	fprintf(fp, "confusion matrix (rows: true tier, columns: predicted)\n%12s", "");
	for (size_t c = 0; c < ev->K; c++)
		fprintf(fp, " %10s", lrn_model_class_name(m, c));
	fprintf(fp, "\n");
	for (size_t t = 0; t < ev->K; t++) {
		fprintf(fp, "%12s", lrn_model_class_name(m, t));
		for (size_t c = 0; c < ev->K; c++)
			fprintf(fp, " %10zu", ev->conf[t * ev->K + c]);
		fprintf(fp, "\n");
	}
}

static void print_importance(FILE *fp, const struct lrn_model *m)
{
	size_t nf = lrn_model_nfeatures(m);
	double *g = calloc(nf, sizeof(double)), total = 0;
	size_t *order = calloc(nf, sizeof(size_t));
	if (!g || !order)
		goto out;
	lrn_model_importance(m, g);
	for (size_t f = 0; f < nf; f++) {
		total += g[f];
		order[f] = f;
	}
	for (size_t i = 1; i < nf; i++)
		for (size_t j = i; j > 0 && g[order[j]] > g[order[j - 1]]; j--) {
			size_t t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	fprintf(fp, "feature importance (total split gain)\n");
	for (size_t i = 0; i < nf; i++)
		fprintf(fp, "  %-24s %12.1f %6.1f%%\n", lrn_model_feature_name(m, order[i]), g[order[i]],
			total > 0 ? 100 * g[order[i]] / total : 0.0);
out:
	free(g);
	free(order);
}

/* Evaluate model m on table d; prints nothing. */
static int eval_table(const struct lrn_model *m, const struct lrn_data *d, const char *path, struct eval *ev)
{
	size_t rows = lrn_data_rows(d);
	int *y = malloc(sizeof(int) * (rows ? rows : 1));
	float *x = gather(m, d, path);
	int rc = -1;
	if (!y || !x || map_labels(m, d, path, y) < 0)
		goto out;
	if (evaluate(m, x, y, rows, ev) < 0) {
		fprintf(stderr, "tiertrain: out of memory evaluating %zu rows\n", rows);
		goto out;
	}
	rc = 0;
out:
	free(y);
	free(x);
	return rc;
}

/* ---- fit ----------------------------------------------------------------------- */

struct progress_state {
	int tty;
	double t0;
};

static void show_progress(void *ud, const struct lrn_progress *pr)
{
	struct progress_state *ps = ud;
	if (!ps->tty)
		return;
	fprintf(stderr, "\rround %d/%d  train loss %.4f  valid loss %.4f  best round %d  %.1f s   ", pr->round, pr->rounds,
		pr->train_loss, pr->valid_loss, pr->best_round, now_s() - ps->t0);
	fflush(stderr);
}

static void fit_usage(FILE *fp)
{
	fprintf(fp, "usage: tiertrain fit RECORDS.csv -o MODEL.json [--param k=v ...] [--valid FRACTION] [--label COLUMN] [--quiet]\n"
		    "  Trains softmax-boosted trees on CSV records (header: feature names and a label column, \"tier\" by default).\n"
		    "  --valid FRACTION  rows held out for validation and early stopping (0.2; 0 = none)\n"
		    "parameters (--param name=value):\n");
	for (const char *const *h = lrn_params_help(); *h; h++)
		fprintf(fp, "  %s\n", *h);
}

int tt_cmd_fit(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'}, {"param", required_argument, NULL, 'p'},
		{"valid", required_argument, NULL, 'v'},  {"label", required_argument, NULL, 'l'},
		{"quiet", no_argument, NULL, 'q'},	  {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct lrn_params p;
	const char *out = NULL, *label = NULL;
	double valid_frac = 0.2;
	int quiet = 0, c;
	lrn_params_default(&p);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:p:v:l:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'p': {
			char *eq = strchr(optarg, '=');
			if (!eq) {
				fprintf(stderr, "tiertrain fit: --param \"%s\": expected name=value\n", optarg);
				return 2;
			}
			*eq = 0;
			if (lrn_params_set(&p, optarg, eq + 1) < 0) {
				fprintf(stderr, "tiertrain fit: --param %s\n", lrn_last_error());
				return 2;
			}
			break;
		}
		case 'v': {
			char *end;
			valid_frac = strtod(optarg, &end);
			if (*end || end == optarg || !(valid_frac >= 0 && valid_frac < 1)) {
				fprintf(stderr, "tiertrain fit: --valid \"%s\": expected a fraction in [0, 1)\n", optarg);
				return 2;
			}
			break;
		}
		case 'l':
			label = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fit_usage(stdout);
			return 0;
		default:
			fit_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || !out) {
		fprintf(stderr, "tiertrain fit: expected one RECORDS.csv and -o MODEL.json\n");
		fit_usage(stderr);
		return 2;
	}
	const char *path = argv[optind];
	struct lrn_data *all = NULL, *train = NULL, *valid = NULL;
	struct lrn_model *m = NULL;
	struct eval et = {0}, ev = {0};
	int rc = 1;
	if (lrn_data_load_csv(path, label, &all) < 0) {
		fprintf(stderr, "tiertrain fit: %s\n", lrn_last_error());
		goto out;
	}
	if (valid_frac > 0) {
		if (lrn_data_split(all, valid_frac, p.seed, &train, &valid) < 0) {
			fprintf(stderr, "tiertrain fit: %s\n", lrn_last_error());
			goto out;
		}
	}
	struct progress_state ps = {!quiet && isatty(2), now_s()};
	double cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	const struct lrn_data *tr = train ? train : all;
	if (lrn_train(tr, valid, &p, show_progress, &ps, &m) < 0) {
		if (ps.tty)
			fprintf(stderr, "\n");
		fprintf(stderr, "tiertrain fit: %s: %s\n", path, lrn_last_error());
		goto out;
	}
	double secs = now_s() - ps.t0, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	if (ps.tty)
		fprintf(stderr, "\n");
	if (lrn_model_save(m, out) < 0) {
		fprintf(stderr, "tiertrain fit: %s\n", lrn_last_error());
		goto out;
	}
	if (eval_table(m, tr, path, &et) < 0 || (valid && eval_table(m, valid, path, &ev) < 0))
		goto out;
	if (!quiet) {
		printf("records %s: %zu rows, %zu features, %zu classes\n", path, lrn_data_rows(all), lrn_data_nfeatures(all),
		       lrn_data_nclasses(all));
		printf("trained %zu trees (%zu rounds) on %zu rows in %.2f s (%.2f s CPU); model written to %s\n",
		       lrn_model_ntrees(m), lrn_model_ntrees(m) / lrn_model_nclasses(m), lrn_data_rows(tr), secs, cpu, out);
		printf("training accuracy   %.4f\n", accuracy(&et));
		if (valid)
			printf("validation accuracy %.4f (%zu rows)\n", accuracy(&ev), ev.rows);
		print_confusion(stdout, m, valid ? &ev : &et);
		print_importance(stdout, m);
	}
	rc = 0;
out:
	free(et.conf);
	free(ev.conf);
	lrn_model_destroy(m);
	lrn_data_destroy(all);
	lrn_data_destroy(train);
	lrn_data_destroy(valid);
	return rc;
}

/* ---- predict ------------------------------------------------------------------- */

static void predict_usage(FILE *fp)
{
	fprintf(fp, "usage: tiertrain predict MODEL.json RECORDS.csv [--json] [--classes a,b,...] [--label COLUMN]\n"
		    "  Predicts every record one row at a time; reports accuracy (when labelled), the confusion matrix and CPU ns per row.\n"
		    "  MODEL.json is a tierfs model or an XGBoost JSON model (told apart by content).\n"
		    "  --classes  names for the model's classes (an XGBoost model only numbers them)\n");
}

static int set_classes(struct lrn_model *m, char *list)
{
	const char *names[LRN_MAX_CLASSES];
	size_t n = 0;
	for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == LRN_MAX_CLASSES)
			break;
		names[n++] = tok;
	}
	return lrn_model_set_class_names(m, names, n);
}

int tt_cmd_predict(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},	     {"classes", required_argument, NULL, 'c'},
		{"label", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int json = 0, c, rc = 1;
	char *classes = NULL;
	const char *label = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jc:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'c':
			classes = optarg;
			break;
		case 'l':
			label = optarg;
			break;
		case 'h':
			predict_usage(stdout);
			return 0;
		default:
			predict_usage(stderr);
			return 2;
		}
	}
	if (optind + 2 != argc) {
		fprintf(stderr, "tiertrain predict: expected MODEL.json and RECORDS.csv\n");
		predict_usage(stderr);
		return 2;
	}
	const char *mpath = argv[optind], *path = argv[optind + 1];
	struct lrn_model *m = NULL;
	struct lrn_data *d = NULL;
	struct eval ev = {0};
	if (lrn_model_load(mpath, &m) < 0 || (classes && set_classes(m, classes) < 0) ||
	    lrn_data_load_csv(path, label, &d) < 0) {
		fprintf(stderr, "tiertrain predict: %s\n", lrn_last_error());
		goto out;
	}
	if (eval_table(m, d, path, &ev) < 0)
		goto out;
	size_t K = lrn_model_nclasses(m);
	if (json) {
		printf("{\"rows\": %zu, \"accuracy\": ", ev.rows);
		if (ev.labelled)
			printf("%.6f", accuracy(&ev));
		else
			printf("null");
		printf(", \"ns_per_row\": %.1f, \"labelled\": %zu, \"model\": {\"source\": \"%s\", \"trees\": %zu, "
		       "\"features\": %zu}, \"classes\": [",
		       ev.ns_per_row, ev.labelled, lrn_model_source(m), lrn_model_ntrees(m), lrn_model_nfeatures(m));
		for (size_t k = 0; k < K; k++) {
			/* Class names come from files: escape what JSON needs. */
			printf("%s\"", k ? ", " : "");
			for (const char *s = lrn_model_class_name(m, k); *s; s++)
				if (*s == '"' || *s == '\\')
					printf("\\%c", *s);
				else if ((unsigned char)*s < 0x20)
					printf("\\u%04x", *s);
				else
					putchar(*s);
			printf("\"");
		}
		printf("], \"confusion\": [");
		for (size_t t = 0; t < K; t++) {
			printf("%s[", t ? ", " : "");
			for (size_t k = 0; k < K; k++)
				printf("%s%zu", k ? ", " : "", ev.conf[t * K + k]);
			printf("]");
		}
		printf("]}\n");
	} else {
		printf("model %s: %s, %zu trees, %zu features, %zu classes\n", mpath, lrn_model_source(m), lrn_model_ntrees(m),
		       lrn_model_nfeatures(m), K);
		printf("records %s: %zu rows (%zu labelled)\n", path, ev.rows, ev.labelled);
		if (ev.labelled) {
			printf("accuracy %.4f\n", accuracy(&ev));
			print_confusion(stdout, m, &ev);
		}
		printf("single-row prediction: %.1f ns per row (thread CPU time, best of 3 passes)\n", ev.ns_per_row);
	}
	rc = 0;
out:
	free(ev.conf);
	lrn_model_destroy(m);
	lrn_data_destroy(d);
	return rc;
}
