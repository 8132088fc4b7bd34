/*
 * learner.h - placement policies (and, later, the boosted-tree model).
 * Library tier_learner: no FUSE headers; the daemon (fs/) and the simulator
 * (trainer/) call the same policy code through lrn_policy_place().
 *
 * A policy is a small struct of function pointers chosen at start-up
 * (STYLE.md habit 10).  Policies are thread-safe: the daemon calls
 * lrn_policy_place() from many FUSE worker threads at once.
 */
#ifndef TIERFS_LEARNER_H
#define TIERFS_LEARNER_H

#include <stddef.h>
#include <stdint.h>

/* Live state of one tier as the caller sees it at decision time. */
struct lrn_tier_state {
	const char *name;
	uint64_t capacity; /* bytes the tier may hold */
	uint64_t used;	   /* bytes held now */
};

enum lrn_kind { LRN_KIND_FILE, LRN_KIND_DIR, LRN_KIND_SPECIAL };

/* What a policy is told about the object being created. */
struct lrn_place_ctx {
	const char *path;  /* relative to the mount root, no leading '/' */
	enum lrn_kind kind;
	uint64_t need;	   /* bytes that must fit (0 for a new empty file) */
	const struct lrn_tier_state *tiers;
	size_t ntiers;
	/* Feature vector by name (V1..V11 and extras); may be empty. */
	const char *const *feature_names;
	const double *features;
	size_t nfeatures;
};

struct lrn_policy;

struct lrn_policy_ops {
	const char *name;
	/* Return a tier index in [0, ctx->ntiers) that has room, or -ENOSPC. */
	int (*place)(struct lrn_policy *p, const struct lrn_place_ctx *ctx);
	void (*destroy)(struct lrn_policy *p);
};

struct lrn_policy {
	const struct lrn_policy_ops *ops;
	void *priv;
};

enum lrn_static_kind {
	LRN_STATIC_FIRST,	/* first tier with room, in order */
	LRN_STATIC_MOST_FREE,	/* most free bytes */
	LRN_STATIC_ROUND_ROBIN, /* rotate over tiers with room */
	LRN_STATIC_RANDOM,	/* uniform over tiers with room (seeded) */
	LRN_STATIC_TIER,	/* a fixed tier; the next with room when it is full */
};

/* Create a static policy.  tier is used by LRN_STATIC_TIER; seed by
 * LRN_STATIC_RANDOM.  Returns NULL on allocation failure. */
struct lrn_policy *lrn_policy_static_create(enum lrn_static_kind kind, int tier, uint64_t seed);

/* Ask the policy; whatever it answers, the result is a tier with room or
 * -ENOSPC when none has room. */
int lrn_policy_place(struct lrn_policy *p, const struct lrn_place_ctx *ctx);

/* True when tier t can take ctx->need more bytes. */
int lrn_tier_has_room(const struct lrn_tier_state *t, uint64_t need);

const char *lrn_policy_name(const struct lrn_policy *p);

/* Destroy; accepts NULL. */
void lrn_policy_destroy(struct lrn_policy *p);

#endif
