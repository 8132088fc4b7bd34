/*
 * test_model.c - model files: ours predicts what its trees say, XGBoost
 * models predict exactly as XGBoost does (a fixture in the repository,
 * and fresh models trained at test time when xgboost is installed), and
 * every broken or hostile file is refused with an error naming the place.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Two features, two classes; tree 0: a < 0.5 ? -1 : 1 (missing goes
 * left), tree 1: a single leaf 0.25. */
static const char *base_model =
	"{\"format\":\"tierfs-gbdt\",\"version\":1,\"objective\":\"multi:softprob\","
	"\"features\":[\"a\",\"b\"],\"classes\":[\"mem\",\"ssd\"],\"base_scores\":[0,0],\"trees\":["
	"{\"class\":0,\"left\":[1,-1,-1],\"right\":[2,-1,-1],\"feature\":[0,0,0],\"threshold\":[0.5,-1,1],\"default_left\":[1,0,0]},"
	"{\"class\":1,\"left\":[-1],\"right\":[-1],\"feature\":[0],\"threshold\":[0.25],\"default_left\":[0]}]}";

/* base_model with the first occurrence of from replaced by to. */
static char *mutate(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	cr_assert_not_null(at, "test bug: \"%s\" not in the model", from);
	size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);
	snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	return out;
}

static void refused(const char *text, size_t len, const char *fragment)
{
	struct lrn_model *m = (struct lrn_model *)1;
	int rc = lrn_model_parse(text, len, "m.json", &m);
	cr_expect_lt(rc, 0, "model accepted, expected an error with \"%s\"", fragment);
	cr_expect_null(m);
	cr_expect(strstr(lrn_last_error(), fragment) != NULL, "error \"%s\" does not say \"%s\"", lrn_last_error(), fragment);
}

static void refused_mut(const char *from, const char *to, const char *fragment)
{
	char *t = mutate(base_model, from, to);
	refused(t, strlen(t), fragment);
	free(t);
}

Test(model, our_format_predicts_its_trees)
{
	struct lrn_model *m;
	cr_assert_eq(lrn_model_parse(base_model, strlen(base_model), "m.json", &m), 0, "%s", lrn_last_error());
	float p[2], x[2] = {0.2f, 0};
	double e0 = exp(-1.0), e1 = exp(0.25);
	cr_expect_eq(lrn_model_predict(m, x, p), 1);
	cr_expect_float_eq(p[0], e0 / (e0 + e1), 1e-6);
	x[0] = 0.5f; /* not < 0.5: right */
	cr_expect_eq(lrn_model_predict(m, x, p), 0);
	cr_expect_float_eq(p[0], exp(1.0) / (exp(1.0) + e1), 1e-6);
	x[0] = NAN; /* default_left */
	lrn_model_predict(m, x, p);
	cr_expect_float_eq(p[0], e0 / (e0 + e1), 1e-6);
	cr_expect_eq(lrn_model_feature_index(m, "b"), 1);
	cr_expect_eq(lrn_model_class_index(m, "ssd"), 1);
	cr_expect_eq(lrn_model_class_index(m, "tape"), -ENOENT);
	lrn_model_destroy(m);
}

Test(model, hostile_models_are_refused)
{
	refused_mut("\"left\":[1,-1,-1]", "\"left\":[\"1\",-1,-1]", "m.json: trees[0].left[0]: expected an integer, found a string");
	refused_mut("\"left\":[1,-1,-1]", "\"left\":{\"x\":1}", "trees[0].left: expected an array, found an object");
	refused_mut("\"right\":[2,-1,-1]", "\"right\":[7,-1,-1]", "trees[0].right[0]: 7 is not an integer in -1..2");
	refused_mut("\"right\":[2,-1,-1]", "\"right\":[1.5,-1,-1]", "trees[0].right[0]: 1.5 is not an integer");
	refused_mut("\"feature\":[0,0,0]", "\"feature\":[5,0,0]", "trees[0].feature[0]: 5 is not an integer in 0..1");
	refused_mut("\"feature\":[0,0,0]", "\"feature\":[-1,0,0]", "trees[0].feature[0]: -1 is not an integer in 0..1");
	/* A child pointing back at the root. */
	refused_mut("\"left\":[1,-1,-1],\"right\":[2,-1,-1]", "\"left\":[1,0,-1],\"right\":[2,2,-1]",
		    "tree 0 node 1 points back to a node already reached (a cycle or a shared child)");
	/* A self loop. */
	refused_mut("\"left\":[1,-1,-1],\"right\":[2,-1,-1]", "\"left\":[0,-1,-1],\"right\":[2,-1,-1]",
		    "tree 0 node 0 points back to a node already reached");
	refused_mut("\"left\":[1,-1,-1],\"right\":[2,-1,-1]", "\"left\":[1,-1,-1],\"right\":[-1,-1,-1]",
		    "tree 0 node 0 has one child (left 1, right -1)");
	refused_mut("\"threshold\":[0.5,-1,1]", "\"threshold\":[NaN,-1,1]", "m.json:1: invalid JSON near byte");
	refused_mut("\"threshold\":[0.5,-1,1]", "\"threshold\":[1e999,-1,1]", "tree 0 node 0 has threshold inf, expected a finite number");
	refused_mut("\"threshold\":[0.5,-1,1]", "\"threshold\":[0.5,-1e999,1]", "tree 0 leaf 1 has value -inf, expected a finite number");
	refused_mut("\"threshold\":[0.5,-1,1]", "\"threshold\":[0.5,-1,true]", "trees[0].threshold[2]: expected a number, found a boolean");
	refused_mut("\"default_left\":[1,0,0]", "\"default_left\":[1,0]", "trees[0].default_left: 2 items, expected 3 (one per node)");
	refused_mut("\"default_left\":[1,0,0]", "\"default_left\":[1,0,2]", "trees[0].default_left[2]: 2 is not an integer in 0..1");
	refused_mut("\"class\":1", "\"class\":5", "trees[1].class: 5 is not an integer in 0..1");
	refused_mut("\"class\":1,", "", "trees[1].class: missing");
	refused_mut("\"classes\":[\"mem\",\"ssd\"],", "", "m.json: classes: missing");
	refused_mut("\"classes\":[\"mem\",\"ssd\"]", "\"classes\":[\"mem\",\"mem\"]", "classes[1]: \"mem\" appears twice");
	refused_mut("\"features\":[\"a\",\"b\"]", "\"features\":[\"a\",7]", "features[1]: expected a non-empty string, found a number");
	refused_mut("\"base_scores\":[0,0]", "\"base_scores\":[0]", "base_scores: 1 items, expected 2");
	refused_mut("\"version\":1", "\"version\":2", "version: 2, this build reads version 1");
	refused_mut("\"tierfs-gbdt\"", "\"lightgbm\"", "format: expected \"tierfs-gbdt\"");
	refused_mut("\"multi:softprob\"", "\"reg:squarederror\"", "objective: \"reg:squarederror\"");
	refused_mut("\"left\":[-1],\"right\":[-1],\"feature\":[0],\"threshold\":[0.25],\"default_left\":[0]",
		    "\"left\":[],\"right\":[],\"feature\":[],\"threshold\":[],\"default_left\":[]", "trees[1].left: 0 nodes");
	refused("", 0, "m.json: empty file");
	refused("[1,2]", 5, "expected a JSON object at the top");
	refused("{\"name\":\"x\"}", 12, "neither a tierfs model");
	/* Truncated anywhere: a clear message, never a crash. */
	size_t n = strlen(base_model);
	for (size_t cut = 1; cut < n; cut += 7) {
		struct lrn_model *m = NULL;
		cr_expect_lt(lrn_model_parse(base_model, cut, "m.json", &m), 0, "accepted a model cut at byte %zu", cut);
		cr_expect_null(m);
	}
	refused(base_model, n - 20, "m.json: JSON ends early at byte");
}

Test(model, too_deep_tree_is_refused)
{
	/* A chain of 70 splits: deeper than the predictor allows. */
	int nodes = 141;
	char *t = malloc(20000), *p = t;
	p += sprintf(p, "{\"format\":\"tierfs-gbdt\",\"version\":1,\"features\":[\"a\"],\"classes\":[\"x\",\"y\"],"
			"\"base_scores\":[0,0],\"trees\":[{\"class\":0,\"left\":[");
	for (int i = 0; i < nodes; i++) /* node 2k splits into leaf 2k+1 and node 2k+2 */
		p += sprintf(p, "%s%d", i ? "," : "", i % 2 == 0 && i + 2 < nodes ? i + 1 : -1);
	p += sprintf(p, "],\"right\":[");
	for (int i = 0; i < nodes; i++)
		p += sprintf(p, "%s%d", i ? "," : "", i % 2 == 0 && i + 2 < nodes ? i + 2 : -1);
	p += sprintf(p, "],\"feature\":[");
	for (int i = 0; i < nodes; i++)
		p += sprintf(p, "%s0", i ? "," : "");
	p += sprintf(p, "],\"threshold\":[");
	for (int i = 0; i < nodes; i++)
		p += sprintf(p, "%s%d", i ? "," : "", i);
	p += sprintf(p, "],\"default_left\":[");
	for (int i = 0; i < nodes; i++)
		p += sprintf(p, "%s1", i ? "," : "");
	p += sprintf(p, "]}]}");
	refused(t, strlen(t), "m.json: tree 0 is deeper than 64 levels");
	free(t);
}

Test(model, huge_and_missing_files_are_refused_without_reading)
{
	char *dir = temp_dir(), path[512];
	snprintf(path, sizeof(path), "%s/huge.json", dir);
	int fd = open(path, O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)1 << 30), 0); /* 1 GiB, sparse */
	close(fd);
	struct lrn_model *m = NULL;
	cr_expect_eq(lrn_model_load(path, &m), -EFBIG);
	cr_expect(strstr(lrn_last_error(), "huge.json: 1073741824 bytes, more than the 268435456 a model may have"), "%s",
		  lrn_last_error());
	cr_expect_null(m);
	unlink(path);
	cr_expect_eq(lrn_model_load(dir, &m), -EINVAL);
	cr_expect(strstr(lrn_last_error(), "not a regular file"), "%s", lrn_last_error());
	snprintf(path, sizeof(path), "%s/none.json", dir);
	cr_expect_eq(lrn_model_load(path, &m), -ENOENT);
	cr_expect(strstr(lrn_last_error(), "none.json: cannot open"), "%s", lrn_last_error());
	rmdir(dir);
	free(dir);
}

/* ---- XGBoost ---------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "r");
	cr_assert_not_null(fp, "cannot open %s", path);
	char *text = NULL;
	size_t cap = 0;
	ssize_t n = getdelim(&text, &cap, 0, fp);
	fclose(fp);
	cr_assert_gt(n, 0);
	*len = (size_t)n;
	return text;
}

/* Our import of dir/model.json against XGBoost's probabilities in
 * dir/proba.csv for the rows of dir/rows.csv. */
static void matches_xgboost(const char *dir)
{
	char path[512];
	struct lrn_model *m;
	struct lrn_data *d;
	snprintf(path, sizeof(path), "%s/model.json", dir);
	cr_assert_eq(lrn_model_load(path, &m), 0, "%s", lrn_last_error());
	cr_expect_str_eq(lrn_model_source(m), "xgboost");
	snprintf(path, sizeof(path), "%s/rows.csv", dir);
	cr_assert_eq(lrn_data_load_csv(path, NULL, &d), 0, "%s", lrn_last_error());
	cr_assert_eq(lrn_data_nfeatures(d), lrn_model_nfeatures(m));
	snprintf(path, sizeof(path), "%s/proba.csv", dir);
	FILE *fp = fopen(path, "r");
	cr_assert_not_null(fp);
	size_t K = lrn_model_nclasses(m), missing = 0;
	float p[LRN_MAX_CLASSES];
	for (size_t r = 0; r < lrn_data_rows(d); r++) {
		const float *x = lrn_data_row(d, r);
		for (size_t f = 0; f < lrn_data_nfeatures(d); f++)
			missing += isnan(x[f]);
		int c = lrn_model_predict(m, x, p);
		int xc = 0;
		float xp[LRN_MAX_CLASSES];
		for (size_t k = 0; k < K; k++) {
			cr_assert_eq(fscanf(fp, k ? ",%f" : "%f", &xp[k]), 1, "proba.csv row %zu", r + 1);
			cr_expect_float_eq(p[k], xp[k], 2e-7, "row %zu class %zu: tierfs %.9g, xgboost %.9g", r + 1, k, (double)p[k], (double)xp[k]);
			if (xp[k] > xp[xc])
				xc = (int)k;
		}
		cr_expect_eq(c, xc, "row %zu: tierfs predicts %d, xgboost %d", r + 1, c, xc);
	}
	cr_expect_gt(missing, 0, "the rows should exercise missing values");
	fclose(fp);
	lrn_model_destroy(m);
	lrn_data_destroy(d);
}

Test(xgboost, fixture_predicts_as_xgboost)
{
	matches_xgboost(TIERFS_FIXTURES_DIR "/learner/xgb-softprob");
}

/* Train a fresh XGBoost model now, when xgboost is installed. */
static void fresh(const char *objective, int seed)
{
	char *dir = temp_dir(), cmd[1024];
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s %d %s 300", TIERFS_XGB_FIXTURE_SCRIPT, dir, seed, objective);
	int st = system(cmd);
	if (access("/usr/bin/python3", X_OK) != 0 || (WIFEXITED(st) && WEXITSTATUS(st) == 77)) {
		free(dir);
		cr_skip_test("python3-xgboost is not installed");
	}
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s failed", cmd);
	matches_xgboost(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
	free(dir);
}

Test(xgboost, fresh_softprob_model_predicts_as_xgboost, .timeout = 120)
{
	fresh("multi:softprob", 11);
}

Test(xgboost, fresh_softmax_model_predicts_as_xgboost, .timeout = 120)
{
	fresh("multi:softmax", 12);
}

Test(xgboost, fresh_binary_model_predicts_as_xgboost, .timeout = 120)
{
	fresh("binary:logistic", 13);
}

Test(xgboost, broken_xgboost_models_are_refused)
{
	size_t len;
	char *text = slurp(TIERFS_FIXTURES_DIR "/learner/xgb-softprob/model.json", &len);
	struct {
		const char *from, *to, *fragment;
	} cases[] = {
		{"\"tree_info\":[0,", "\"tree_info\":[3,", "learner.gradient_booster.model.tree_info[0]: 3 is not an integer in 0..2"},
		{"\"tree_info\":[0,1,2,", "\"tree_info\":[", "tree_info: 33 items, expected 36"},
		{"\"name\":\"gbtree\"", "\"name\":\"dart\"", "expected \"gbtree\" (dart and gblinear are not supported)"},
		{"\"name\":\"multi:softprob\"", "\"name\":\"reg:squarederror\"", "\"reg:squarederror\" is not supported"},
		{"\"split_type\":[0,", "\"split_type\":[1,", "trees[0].split_type: categorical splits are not supported"},
		{"\"num_feature\":\"5\",\"num_target\"", "\"num_feature\":\"five\",\"num_target\"", "num_feature: \"five\" is not a number"},
		{"\"split_indices\":[", "\"split_indices\":[9,", "trees[0].split_indices"},
		{"\"num_class\":\"3\"", "\"num_class\":\"2\"", "tree_info[2]: 2 is not an integer in 0..1"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = mutate(text, cases[i].from, cases[i].to);
		refused(t, strlen(t), cases[i].fragment);
		free(t);
	}
	free(text);
}

Test(xgboost, renamed_classes)
{
	struct lrn_model *m;
	cr_assert_eq(lrn_model_load(TIERFS_FIXTURES_DIR "/learner/xgb-softprob/model.json", &m), 0, "%s", lrn_last_error());
	cr_expect_str_eq(lrn_model_class_name(m, 2), "2");
	cr_expect_eq(lrn_model_set_class_names(m, (const char *[]){"mem", "ssd", "pfs"}, 3), 0);
	cr_expect_str_eq(lrn_model_class_name(m, 2), "pfs");
	cr_expect_eq(lrn_model_set_class_names(m, (const char *[]){"mem", "ssd"}, 2), -EINVAL);
	cr_expect(strstr(lrn_last_error(), "2 class names given, but the model has 3 classes"), "%s", lrn_last_error());
	lrn_model_destroy(m);
}
