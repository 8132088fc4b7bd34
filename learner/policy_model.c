/*
 * policy_model.c - the learned placement policy: ask the model, place on
 * the most probable tier that has room.
 *
 * Invariant: place() allocates nothing and takes no lock (the model is
 * immutable; the fallback policy is itself thread-safe), so FUSE worker
 * threads call it concurrently.  Features are matched by name on every
 * call: the caller's feature list may change between calls (a workflow
 * attached later), and for ~11 short names this is a few hundred ns at
 * worst.
 */
#include "lrn_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POLICY_FEATURES 1024

struct model_policy {
	const struct lrn_model *m;
	struct lrn_model *owned; /* m when the policy owns it, else NULL (borrowed) */
	struct lrn_policy *fallback;
	int numeric_classes; /* class names "0".."K-1": map to tiers by index */
};

/* Tier index for class c, or -1 when no tier of ctx carries its name. */
static int class_tier(const struct model_policy *mp, const struct lrn_place_ctx *ctx, int c)
{
	if (mp->numeric_classes)
		return (size_t)c < ctx->ntiers ? c : -1;
	const char *name = lrn_model_class_name(mp->m, (size_t)c);
	for (size_t t = 0; t < ctx->ntiers; t++)
		if (ctx->tiers[t].name && strcmp(ctx->tiers[t].name, name) == 0)
			return (int)t;
	return -1;
}

static int model_place(struct lrn_policy *p, const struct lrn_place_ctx *ctx)
{
	struct model_policy *mp = p->priv;
	const struct lrn_model *m = mp->m;
	float x[MAX_POLICY_FEATURES], proba[LRN_MAX_CLASSES];
	size_t nf = lrn_model_nfeatures(m), K = lrn_model_nclasses(m);

	for (size_t f = 0; f < nf; f++) {
		const char *name = lrn_model_feature_name(m, f);
		size_t j = 0;
		while (j < ctx->nfeatures && strcmp(ctx->feature_names[j], name) != 0)
			j++;
		if (j == ctx->nfeatures) /* a file the workflow does not describe */
			return lrn_policy_place(mp->fallback, ctx);
		x[f] = (float)ctx->features[j];
	}
	lrn_model_predict(m, x, proba);
	/* Most probable first; a tier without room is skipped, not chosen. */
	uint8_t tried[LRN_MAX_CLASSES] = {0};
	for (size_t n = 0; n < K; n++) {
		int best = -1;
		for (size_t c = 0; c < K; c++)
			if (!tried[c] && (best < 0 || proba[c] > proba[best]))
				best = (int)c;
		tried[best] = 1;
		int t = class_tier(mp, ctx, best);
		if (t >= 0 && lrn_tier_has_room(&ctx->tiers[t], ctx->need))
			return t;
	}
	return lrn_policy_place(mp->fallback, ctx);
}

static void model_destroy(struct lrn_policy *p)
{
	struct model_policy *mp = p->priv;
	lrn_model_destroy(mp->owned);
	lrn_policy_destroy(mp->fallback);
	free(mp);
}

static const struct lrn_policy_ops model_ops = {"learned", model_place, model_destroy};

static struct lrn_policy *model_policy_create(const struct lrn_model *model, struct lrn_model *owned,
					       struct lrn_policy *fallback)
{
	struct lrn_policy *p = NULL;
	struct model_policy *mp = NULL;
	if (!model) {
		lrn_err(-EINVAL, "learned policy: no model");
		goto fail;
	}
	if (lrn_model_nfeatures(model) > MAX_POLICY_FEATURES) {
		lrn_err(-E2BIG, "learned policy: the model has %zu features, at most %d are supported",
			lrn_model_nfeatures(model), MAX_POLICY_FEATURES);
		goto fail;
	}
	if (!fallback && !(fallback = lrn_policy_static_create(LRN_STATIC_FIRST, 0, 0)))
		goto nomem;
	p = calloc(1, sizeof(*p));
	mp = calloc(1, sizeof(*mp));
	if (!p || !mp)
		goto nomem;
	mp->m = model;
	mp->owned = owned;
	mp->fallback = fallback;
	mp->numeric_classes = 1;
	for (size_t c = 0; c < lrn_model_nclasses(model); c++) {
		char *end;
		const char *name = lrn_model_class_name(model, c);
		if (strtoul(name, &end, 10) != c || *end || end == name)
			mp->numeric_classes = 0;
	}
	p->ops = &model_ops;
	p->priv = mp;
	return p;
nomem:
	lrn_err(-ENOMEM, "learned policy: out of memory");
fail:
	free(p);
	free(mp);
	lrn_model_destroy(owned);
	lrn_policy_destroy(fallback);
	return NULL;
}

struct lrn_policy *lrn_policy_model_create(struct lrn_model *model, struct lrn_policy *fallback)
{
	return model_policy_create(model, model, fallback);
}

struct lrn_policy *lrn_policy_model_borrow(const struct lrn_model *model, struct lrn_policy *fallback)
{
	return model_policy_create(model, NULL, fallback);
}
