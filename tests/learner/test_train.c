/*
 * test_train.c - the trainer learns known problems to their known
 * accuracy, is reproducible (same seed, any thread count), honours its
 * parameters, and its models survive save and load unchanged; CSV records
 * are read with clear errors.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct lrn_model *train_with(const struct lrn_data *tr, const struct lrn_data *va, const char *const *kv)
{
	struct lrn_params p;
	struct lrn_model *m = NULL;
	lrn_params_default(&p);
	for (; kv && *kv; kv += 2)
		cr_assert_eq(lrn_params_set(&p, kv[0], kv[1]), 0, "%s", lrn_last_error());
	cr_assert_eq(lrn_train(tr, va, &p, NULL, NULL, &m), 0, "%s", lrn_last_error());
	return m;
}

/* Bitwise equal predictions on every row of d. */
static void same_predictions(const struct lrn_model *a, const struct lrn_model *b, const struct lrn_data *d)
{
	float pa[LRN_MAX_CLASSES], pb[LRN_MAX_CLASSES];
	for (size_t r = 0; r < lrn_data_rows(d); r++) {
		lrn_model_predict(a, lrn_data_row(d, r), pa);
		lrn_model_predict(b, lrn_data_row(d, r), pb);
		cr_assert(memcmp(pa, pb, sizeof(float) * lrn_model_nclasses(a)) == 0, "row %zu differs", r);
	}
}

Test(train, separable_problem_is_learned)
{
	struct lrn_data *tr = synth(4000, 0, 1), *te = synth(2000, 0, 2);
	struct lrn_model *m = train_with(tr, NULL, (const char *[]){"rounds", "60", NULL});
	double acc = accuracy_on(m, te);
	cr_expect_geq(acc, 0.98, "test accuracy %.4f on a noiseless problem", acc);
	cr_expect_eq(lrn_model_ntrees(m), 60 * 3);
	lrn_model_destroy(m);
	lrn_data_destroy(tr);
	lrn_data_destroy(te);
}

Test(train, noisy_problem_reaches_bayes_accuracy)
{
	/* 30% labels redrawn: the best possible accuracy is 0.80. */
	struct lrn_data *all = synth(10000, 0.3, 3), *tr, *va, *te = synth(5000, 0.3, 4);
	cr_assert_eq(lrn_data_split(all, 0.2, 9, &tr, &va), 0);
	struct lrn_model *m = train_with(tr, va, (const char *[]){"rounds", "300", "eta", "0.1", NULL});
	double acc = accuracy_on(m, te);
	cr_expect_geq(acc, 0.77, "test accuracy %.4f, best possible 0.80", acc);
	cr_expect_leq(acc, 0.83, "test accuracy %.4f above what the noise allows", acc);
	/* Early stopping cut the 300 rounds short on noisy data. */
	cr_expect_lt(lrn_model_ntrees(m), 300 * 3);
	lrn_model_destroy(m);
	lrn_data_destroy(all);
	lrn_data_destroy(tr);
	lrn_data_destroy(va);
	lrn_data_destroy(te);
}

Test(train, same_seed_same_model_any_thread_count)
{
	struct lrn_data *d = synth(6000, 0.1, 5);
	const char *kv1[] = {"rounds", "20", "subsample", "0.7", "colsample", "0.6", "seed", "42", "threads", "1", NULL};
	const char *kv2[] = {"rounds", "20", "subsample", "0.7", "colsample", "0.6", "seed", "42", "threads", "2", NULL};
	const char *kv3[] = {"rounds", "20", "subsample", "0.7", "colsample", "0.6", "seed", "43", "threads", "2", NULL};
	struct lrn_model *a = train_with(d, NULL, kv1), *b = train_with(d, NULL, kv1), *c = train_with(d, NULL, kv2);
	struct lrn_model *e = train_with(d, NULL, kv3);
	same_predictions(a, b, d);
	same_predictions(a, c, d);
	/* Best-first growth (a leaf limit) is just as reproducible. */
	const char *kl1[] = {"rounds", "10", "max_leaves", "12", "max_depth", "10", "subsample", "0.8", "threads", "1", NULL};
	const char *kl2[] = {"rounds", "10", "max_leaves", "12", "max_depth", "10", "subsample", "0.8", "threads", "2", NULL};
	struct lrn_model *l1 = train_with(d, NULL, kl1), *l2 = train_with(d, NULL, kl2);
	same_predictions(l1, l2, d);
	lrn_model_destroy(l1);
	lrn_model_destroy(l2);
	/* Another seed samples other rows: some prediction must change. */
	float pa[LRN_MAX_CLASSES], pe[LRN_MAX_CLASSES];
	size_t differ = 0;
	for (size_t r = 0; r < lrn_data_rows(d); r++) {
		lrn_model_predict(a, lrn_data_row(d, r), pa);
		lrn_model_predict(e, lrn_data_row(d, r), pe);
		differ += memcmp(pa, pe, sizeof(pa[0]) * 3) != 0;
	}
	cr_expect_gt(differ, 0);
	lrn_model_destroy(a);
	lrn_model_destroy(b);
	lrn_model_destroy(c);
	lrn_model_destroy(e);
	lrn_data_destroy(d);
}

Test(train, save_load_predicts_identically)
{
	struct lrn_data *d = synth(3000, 0.1, 6);
	struct lrn_model *m = train_with(d, NULL, (const char *[]){"rounds", "15", "max_depth", "9", NULL}), *l = NULL;
	char *dir = temp_dir(), path[512], path2[512];
	snprintf(path, sizeof(path), "%s/m.json", dir);
	snprintf(path2, sizeof(path2), "%s/m2.json", dir);
	cr_assert_eq(lrn_model_save(m, path), 0, "%s", lrn_last_error());
	cr_assert_eq(lrn_model_load(path, &l), 0, "%s", lrn_last_error());
	cr_expect_str_eq(lrn_model_source(l), "tierfs-gbdt");
	cr_expect_eq(lrn_model_ntrees(l), lrn_model_ntrees(m));
	cr_expect_str_eq(lrn_model_feature_name(l, 3), "junk");
	cr_expect_str_eq(lrn_model_class_name(l, 1), "ssd");
	same_predictions(m, l, d);
	/* Saving the loaded model writes the same bytes. */
	cr_assert_eq(lrn_model_save(l, path2), 0);
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "cmp -s %s %s", path, path2);
	cr_expect_eq(system(cmd), 0, "re-saved model differs");
	lrn_model_destroy(m);
	lrn_model_destroy(l);
	lrn_data_destroy(d);
	free(dir);
}

/* Largest node count of any tree in m, read back from its saved file;
 * *trees gets the number of trees. */
static int max_nodes(const struct lrn_model *m, size_t *trees)
{
	char *dir = temp_dir(), path[512];
	snprintf(path, sizeof(path), "%s/m.json", dir);
	cr_assert_eq(lrn_model_save(m, path), 0);
	FILE *fp = fopen(path, "r");
	char *text = NULL;
	size_t cap = 0;
	cr_assert(getdelim(&text, &cap, 0, fp) > 0);
	fclose(fp);
	unlink(path);
	rmdir(dir);
	free(dir);
	int most = 0;
	*trees = 0;
	for (char *s = strstr(text, "\"left\":["); s; s = strstr(s + 1, "\"left\":[")) {
		int items = 1;
		for (char *q = s + 8; *q != ']'; q++)
			items += *q == ',';
		most = items > most ? items : most;
		(*trees)++;
	}
	free(text);
	return most;
}

Test(train, depth_and_leaf_limits_hold)
{
	struct lrn_data *d = synth(3000, 0.05, 7);
	struct lrn_model *m = train_with(d, NULL, (const char *[]){"rounds", "5", "max_depth", "3", NULL});
	struct lrn_model *l = train_with(d, NULL, (const char *[]){"rounds", "5", "max_depth", "12", "max_leaves", "5", NULL});
	size_t trees;
	/* 5 leaves: 9 nodes; depth 3: 15 nodes at most. */
	cr_expect_leq(max_nodes(l, &trees), 9);
	cr_expect_eq(trees, 15);
	cr_expect_leq(max_nodes(m, &trees), 15);
	cr_expect_eq(trees, 15);
	lrn_model_destroy(m);
	lrn_model_destroy(l);
	lrn_data_destroy(d);
}

Test(train, class_weights_shift_predictions)
{
	struct lrn_data *d = synth(4000, 0.3, 8);
	struct lrn_model *a = train_with(d, NULL, (const char *[]){"rounds", "20", NULL});
	struct lrn_model *b = train_with(d, NULL, (const char *[]){"rounds", "20", "class_weight", "1,1,6", NULL});
	size_t na = 0, nb = 0;
	float p[LRN_MAX_CLASSES];
	for (size_t r = 0; r < lrn_data_rows(d); r++) {
		na += lrn_model_predict(a, lrn_data_row(d, r), p) == 2;
		nb += lrn_model_predict(b, lrn_data_row(d, r), p) == 2;
	}
	cr_expect_gt(nb, na + na / 10, "weighting class 2 by 6 predicted it %zu times against %zu", nb, na);
	lrn_model_destroy(a);
	lrn_model_destroy(b);
	lrn_data_destroy(d);
}

Test(train, bad_parameters_are_named)
{
	struct lrn_params p;
	lrn_params_default(&p);
	cr_expect_eq(lrn_params_set(&p, "depth", "3"), -EINVAL);
	cr_expect(strstr(lrn_last_error(), "unknown parameter \"depth\""), "%s", lrn_last_error());
	cr_expect_eq(lrn_params_set(&p, "max_depth", "0"), -EINVAL);
	cr_expect(strstr(lrn_last_error(), "max_depth: 0 is out of range"), "%s", lrn_last_error());
	cr_expect_eq(lrn_params_set(&p, "eta", "fast"), -EINVAL);
	cr_expect(strstr(lrn_last_error(), "eta: \"fast\" is not a number"), "%s", lrn_last_error());
	cr_expect_eq(lrn_params_set(&p, "class_weight", "1,x"), -EINVAL);
	cr_expect(strstr(lrn_last_error(), "class_weight"), "%s", lrn_last_error());
	/* Three classes, two weights. */
	struct lrn_data *d = synth(100, 0, 1);
	struct lrn_model *m = NULL;
	cr_assert_eq(lrn_params_set(&p, "class_weight", "1,2"), 0);
	cr_expect_eq(lrn_train(d, NULL, &p, NULL, NULL, &m), -EINVAL);
	cr_expect(strstr(lrn_last_error(), "2 weights for 3 classes"), "%s", lrn_last_error());
	cr_expect_null(m);
	lrn_data_destroy(d);
}

Test(data, csv_records_load_with_labels_by_name)
{
	const char *csv = "x,tier,y\n1,ssd,2\n3,mem,\n5,ssd,nan\n";
	char *path = write_temp("r.csv", csv, strlen(csv));
	struct lrn_data *d;
	cr_assert_eq(lrn_data_load_csv(path, NULL, &d), 0, "%s", lrn_last_error());
	cr_expect_eq(lrn_data_rows(d), 3);
	cr_expect_eq(lrn_data_nfeatures(d), 2);
	cr_expect_str_eq(lrn_data_feature_name(d, 1), "y");
	cr_expect_str_eq(lrn_data_class_name(d, 0), "ssd");
	cr_expect_str_eq(lrn_data_class_name(d, 1), "mem");
	cr_expect_eq(lrn_data_label(d, 1), 1);
	cr_expect(isnan(lrn_data_row(d, 1)[1]));
	cr_expect(isnan(lrn_data_row(d, 2)[1]));
	cr_expect_eq(lrn_data_row(d, 2)[0], 5.0f);
	lrn_data_destroy(d);
	free(path);
}

Test(data, numeric_labels_keep_their_number)
{
	const char *csv = "a,label\n1,2\n2,0\n3,1\n";
	char *path = write_temp("n.csv", csv, strlen(csv));
	struct lrn_data *d;
	cr_assert_eq(lrn_data_load_csv(path, NULL, &d), 0, "%s", lrn_last_error());
	cr_expect_eq(lrn_data_label(d, 0), 2);
	cr_expect_eq(lrn_data_label(d, 1), 0);
	cr_expect_str_eq(lrn_data_class_name(d, 2), "2");
	lrn_data_destroy(d);
	free(path);
}

Test(data, bad_csv_is_named_by_line_and_column)
{
	const char *short_row = "a,b,tier\n1,2,mem\n3,mem\n";
	char *p1 = write_temp("s.csv", short_row, strlen(short_row));
	struct lrn_data *d = NULL;
	cr_expect_eq(lrn_data_load_csv(p1, NULL, &d), -EINVAL);
	cr_expect(strstr(lrn_last_error(), "s.csv:3: 2 fields, expected 3"), "%s", lrn_last_error());
	const char *text = "a,b,tier\n1,2,mem\n3,big,ssd\n";
	char *p2 = write_temp("t.csv", text, strlen(text));
	cr_expect_eq(lrn_data_load_csv(p2, NULL, &d), -EINVAL);
	cr_expect(strstr(lrn_last_error(), "t.csv:3: column b: \"big\" is not a finite number"), "%s", lrn_last_error());
	cr_expect_eq(lrn_data_load_csv(p2, "class", &d), -EINVAL);
	cr_expect(strstr(lrn_last_error(), "no column named \"class\""), "%s", lrn_last_error());
	cr_expect_eq(lrn_data_load_csv("/nonexistent/r.csv", NULL, &d), -ENOENT);
	cr_expect(strstr(lrn_last_error(), "/nonexistent/r.csv: cannot open"), "%s", lrn_last_error());
	cr_expect_null(d);
	free(p1);
	free(p2);
}

Test(data, split_is_stratified_and_seeded)
{
	struct lrn_data *d = synth(1000, 0, 11), *a, *b, *a2, *b2;
	cr_assert_eq(lrn_data_split(d, 0.25, 5, &a, &b), 0);
	cr_assert_eq(lrn_data_split(d, 0.25, 5, &a2, &b2), 0);
	cr_expect_eq(lrn_data_rows(a) + lrn_data_rows(b), 1000);
	size_t cnt[3] = {0}, cntb[3] = {0};
	for (size_t r = 0; r < 1000; r++)
		cnt[lrn_data_label(d, r)]++;
	for (size_t r = 0; r < lrn_data_rows(b); r++) {
		cntb[lrn_data_label(b, r)]++;
		cr_expect(memcmp(lrn_data_row(b, r), lrn_data_row(b2, r), 4 * sizeof(float)) == 0);
	}
	for (int c = 0; c < 3; c++)
		cr_expect_leq(fabs((double)cntb[c] - 0.25 * (double)cnt[c]), 1.0, "class %d: %zu of %zu", c, cntb[c], cnt[c]);
	lrn_data_destroy(d);
	lrn_data_destroy(a);
	lrn_data_destroy(b);
	lrn_data_destroy(a2);
	lrn_data_destroy(b2);
}
