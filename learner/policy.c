/*
 * policy.c - the static placement policies and the common entry point.
 *
 * Invariant: lrn_policy_place() never returns a tier without room, whatever
 * the policy behind it answers; a policy's choice of a full tier falls back
 * to the first tier with room, in declared order.
 */
#include "learner.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

struct static_policy {
	enum lrn_static_kind kind;
	int tier;
	atomic_uint_fast64_t counter; /* round-robin position or random state */
};

int lrn_tier_has_room(const struct lrn_tier_state *t, uint64_t need)
{
	if (t->used > t->capacity)
		return 0;
	/* A new empty file still needs a block; a full tier takes nothing. */
	uint64_t want = need ? need : 1;
	return t->capacity - t->used >= want;
}

static int first_with_room(const struct lrn_place_ctx *ctx, size_t start)
{
	for (size_t i = 0; i < ctx->ntiers; i++) {
		size_t t = (start + i) % ctx->ntiers;
		if (lrn_tier_has_room(&ctx->tiers[t], ctx->need))
			return (int)t;
	}
	return -ENOSPC;
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int static_place(struct lrn_policy *p, const struct lrn_place_ctx *ctx)
{
	struct static_policy *sp = p->priv;
	size_t n = ctx->ntiers;

	switch (sp->kind) {
	case LRN_STATIC_FIRST:
		return first_with_room(ctx, 0);
	case LRN_STATIC_TIER:
		if (sp->tier >= 0 && (size_t)sp->tier < n)
			return first_with_room(ctx, (size_t)sp->tier);
		return first_with_room(ctx, 0);
	case LRN_STATIC_MOST_FREE: {
		int best = -ENOSPC;
		uint64_t best_free = 0;
		for (size_t t = 0; t < n; t++) {
			const struct lrn_tier_state *ts = &ctx->tiers[t];
			if (!lrn_tier_has_room(ts, ctx->need))
				continue;
			uint64_t fr = ts->capacity - ts->used;
			if (best < 0 || fr > best_free) {
				best = (int)t;
				best_free = fr;
			}
		}
		return best;
	}
	case LRN_STATIC_ROUND_ROBIN: {
		uint64_t k = atomic_fetch_add(&sp->counter, 1);
		return first_with_room(ctx, n ? (size_t)(k % n) : 0);
	}
	case LRN_STATIC_RANDOM: {
		/* Lock-free: each caller advances the shared state once. */
		uint64_t s = atomic_fetch_add(&sp->counter, 0x9e3779b97f4a7c15ULL);
		uint64_t r = splitmix64(&s);
		size_t room = 0;
		for (size_t t = 0; t < n; t++)
			room += lrn_tier_has_room(&ctx->tiers[t], ctx->need) ? 1 : 0;
		if (room == 0)
			return -ENOSPC;
		size_t pick = (size_t)(r % room);
		for (size_t t = 0; t < n; t++) {
			if (!lrn_tier_has_room(&ctx->tiers[t], ctx->need))
				continue;
			if (pick-- == 0)
				return (int)t;
		}
		return -ENOSPC;
	}
	}
	return -EINVAL;
}

static void static_destroy(struct lrn_policy *p)
{
	free(p->priv);
}

static const struct lrn_policy_ops static_ops[] = {
	[LRN_STATIC_FIRST] = {"first", static_place, static_destroy},
	[LRN_STATIC_MOST_FREE] = {"most-free", static_place, static_destroy},
	[LRN_STATIC_ROUND_ROBIN] = {"round-robin", static_place, static_destroy},
	[LRN_STATIC_RANDOM] = {"random", static_place, static_destroy},
	[LRN_STATIC_TIER] = {"tier", static_place, static_destroy},
};

struct lrn_policy *lrn_policy_static_create(enum lrn_static_kind kind, int tier, uint64_t seed)
{
	if ((unsigned)kind > LRN_STATIC_TIER)
		return NULL;
	struct lrn_policy *p = calloc(1, sizeof(*p));
	struct static_policy *sp = calloc(1, sizeof(*sp));
	if (!p || !sp) {
		free(p);
		free(sp);
		return NULL;
	}
	sp->kind = kind;
	sp->tier = tier;
	atomic_init(&sp->counter, kind == LRN_STATIC_RANDOM ? seed : 0);
	p->ops = &static_ops[kind];
	p->priv = sp;
	return p;
}

int lrn_policy_place(struct lrn_policy *p, const struct lrn_place_ctx *ctx)
{
	if (!ctx || ctx->ntiers == 0)
		return -EINVAL;
	int t = p ? p->ops->place(p, ctx) : -EINVAL;
	if (t >= 0 && (size_t)t < ctx->ntiers && lrn_tier_has_room(&ctx->tiers[t], ctx->need))
		return t;
	return first_with_room(ctx, 0);
}

const char *lrn_policy_name(const struct lrn_policy *p)
{
	return p ? p->ops->name : "none";
}

void lrn_policy_destroy(struct lrn_policy *p)
{
	if (!p)
		return;
	if (p->ops->destroy)
		p->ops->destroy(p);
	free(p);
}
