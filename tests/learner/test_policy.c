/*
 * test_policy.c - the learned placement policy: follows the model, skips a
 * full tier for the next most probable one, falls back for files the
 * workflow does not describe, and predicts the same from many threads.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static struct lrn_model *trained(void)
{
	struct lrn_data *d = synth(3000, 0, 21);
	struct lrn_params p;
	struct lrn_model *m;
	lrn_params_default(&p);
	p.rounds = 30;
	cr_assert_eq(lrn_train(d, NULL, &p, NULL, NULL, &m), 0, "%s", lrn_last_error());
	lrn_data_destroy(d);
	return m;
}

/* Tiers named as the model's classes, in another order. */
static struct lrn_tier_state tiers[] = {
	{"pfs", 1000, 0},
	{"mem", 1000, 0},
	{"ssd", 1000, 0},
};
static const char *names[] = {"junk", "c", "b", "a", "wf_tasks"};

static int place(struct lrn_policy *p, double a, double b, double c, uint64_t need)
{
	double v[] = {1, c, b, a, 99};
	struct lrn_place_ctx ctx = {"out/f", LRN_KIND_FILE, need, tiers, 3, names, v, 5};
	return lrn_policy_place(p, &ctx);
}

Test(policy, learned_policy_follows_the_model)
{
	struct lrn_policy *p = lrn_policy_model_create(trained(), NULL);
	cr_assert_not_null(p, "%s", lrn_last_error());
	cr_expect_str_eq(lrn_policy_name(p), "learned");
	/* The rule of synth(): a < 3 && b > 4 -> mem; a * c > 30 -> ssd; else pfs. */
	cr_expect_eq(place(p, 1, 8, 1, 10), 1, "mem");
	cr_expect_eq(place(p, 8, 1, 8, 10), 2, "ssd");
	cr_expect_eq(place(p, 5, 1, 2, 10), 0, "pfs");
	lrn_policy_destroy(p);
}

Test(policy, full_tier_is_skipped_for_the_next_probable)
{
	struct lrn_policy *p = lrn_policy_model_create(trained(), NULL);
	cr_assert_not_null(p);
	tiers[1].used = 995; /* mem has 5 bytes left */
	int t = place(p, 1, 8, 1, 10);
	cr_expect_neq(t, 1, "placed 10 bytes on a tier with 5 free");
	cr_expect_geq(t, 0);
	cr_expect_eq(place(p, 1, 8, 1, 4), 1, "4 bytes still fit on mem");
	tiers[0].used = tiers[0].capacity;
	tiers[1].used = tiers[1].capacity;
	tiers[2].used = tiers[2].capacity;
	cr_expect_eq(place(p, 1, 8, 1, 10), -ENOSPC);
	tiers[0].used = tiers[1].used = tiers[2].used = 0;
	lrn_policy_destroy(p);
}

Test(policy, unknown_files_go_to_the_fallback)
{
	struct lrn_policy *fb = lrn_policy_static_create(LRN_STATIC_TIER, 2, 0);
	struct lrn_policy *p = lrn_policy_model_create(trained(), fb);
	cr_assert_not_null(p);
	/* No workflow features: a log file, say. */
	struct lrn_place_ctx ctx = {"run.log", LRN_KIND_FILE, 10, tiers, 3, NULL, NULL, 0};
	cr_expect_eq(lrn_policy_place(p, &ctx), 2);
	/* Only some of the features the model needs. */
	double v[] = {1, 2};
	struct lrn_place_ctx half = {"x", LRN_KIND_FILE, 10, tiers, 3, names, v, 2};
	cr_expect_eq(lrn_policy_place(p, &half), 2);
	lrn_policy_destroy(p);
}

Test(policy, creation_failure_frees_and_explains)
{
	cr_expect_null(lrn_policy_model_create(NULL, lrn_policy_static_create(LRN_STATIC_FIRST, 0, 0)));
	cr_expect(strstr(lrn_last_error(), "learned policy: no model"), "%s", lrn_last_error());
}

struct race {
	const struct lrn_model *m;
	const struct lrn_data *d;
	const int *expect;
	int bad;
};

static void *predict_all(void *arg)
{
	struct race *r = arg;
	float p[LRN_MAX_CLASSES];
	for (int rep = 0; rep < 5; rep++)
		for (size_t i = 0; i < lrn_data_rows(r->d); i++)
			r->bad += lrn_model_predict(r->m, lrn_data_row(r->d, i), p) != r->expect[i];
	return NULL;
}

Test(policy, prediction_is_safe_from_many_threads)
{
	struct lrn_model *m = trained();
	struct lrn_data *d = synth(2000, 0.2, 22);
	int *expect = malloc(sizeof(int) * lrn_data_rows(d));
	float p[LRN_MAX_CLASSES];
	for (size_t i = 0; i < lrn_data_rows(d); i++)
		expect[i] = lrn_model_predict(m, lrn_data_row(d, i), p);
	pthread_t th[4];
	struct race r[4];
	for (int i = 0; i < 4; i++) {
		r[i] = (struct race){m, d, expect, 0};
		cr_assert_eq(pthread_create(&th[i], NULL, predict_all, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		cr_expect_eq(r[i].bad, 0, "thread %d saw %d different answers", i, r[i].bad);
	}
	free(expect);
	lrn_data_destroy(d);
	lrn_model_destroy(m);
}
