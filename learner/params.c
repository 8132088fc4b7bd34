/*
 * params.c - training parameters: defaults and the one table that sets
 * them by name, checks their range and documents them for --help.
 */
#include "lrn_internal.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum ptype { P_INT, P_DBL, P_U64, P_WEIGHTS };

struct pdef {
	const char *name;
	enum ptype type;
	size_t off;
	double lo, hi;
	const char *help;
};

#define F(x) offsetof(struct lrn_params, x)
static const struct pdef table[] = {
	{"rounds", P_INT, F(rounds), 1, 100000, "rounds=N  boosting rounds, one tree per class each (100)"},
	{"max_depth", P_INT, F(max_depth), 1, LRN_MAX_DEPTH, "max_depth=N  tree depth limit (6)"},
	{"max_leaves", P_INT, F(max_leaves), 0, 1 << 20, "max_leaves=N  leaf limit, grown best-first; 0 = depth only (0)"},
	{"eta", P_DBL, F(eta), 1e-6, 1, "eta=X  learning rate (0.3)"},
	{"lambda", P_DBL, F(lambda), 0, 1e6, "lambda=X  L2 regularisation of leaf weights (1)"},
	{"gamma", P_DBL, F(gamma), 0, 1e12, "gamma=X  minimum gain to split (0)"},
	{"min_child_weight", P_DBL, F(min_child_weight), 0, 1e12, "min_child_weight=X  minimum hessian sum in a child (1)"},
	{"subsample", P_DBL, F(subsample), 1e-3, 1, "subsample=X  fraction of rows per round (1)"},
	{"colsample", P_DBL, F(colsample), 1e-3, 1, "colsample=X  fraction of features per tree (1)"},
	{"max_bin", P_INT, F(max_bin), 2, 256, "max_bin=N  histogram bins per feature (256)"},
	{"early_stopping", P_INT, F(early_stopping), 0, 100000, "early_stopping=N  stop after N rounds without validation gain; 0 = off (10)"},
	{"threads", P_INT, F(threads), 0, 1024, "threads=N  worker threads, 0 = all cores (0)"},
	{"seed", P_U64, F(seed), 0, 0, "seed=N  random seed for sampling (0)"},
	{"class_weight", P_WEIGHTS, 0, 0, 0, "class_weight=none|balanced|w0,w1,...  per-class row weights (none)"},
};
#undef F

void lrn_params_default(struct lrn_params *p)
{
	memset(p, 0, sizeof(*p));
	p->rounds = 100;
	p->max_depth = 6;
	p->eta = 0.3;
	p->lambda = 1;
	p->min_child_weight = 1;
	p->subsample = 1;
	p->colsample = 1;
	p->max_bin = 256;
	p->early_stopping = 10;
}

static int set_weights(struct lrn_params *p, const char *value)
{
	p->class_weight_balanced = 0;
	p->nclass_weight = 0;
	if (strcmp(value, "none") == 0)
		return 0;
	if (strcmp(value, "balanced") == 0) {
		p->class_weight_balanced = 1;
		return 0;
	}
	const char *s = value;
	while (*s) {
		char *end;
		double w = strtod(s, &end);
		if (end == s || (*end && *end != ',') || !(w >= 0 && w < 1e12))
			return lrn_err(-EINVAL, "class_weight: \"%s\" is not none, balanced or a list of non-negative weights", value);
		if (p->nclass_weight >= LRN_MAX_CLASSES)
			return lrn_err(-EINVAL, "class_weight: more than %d weights", LRN_MAX_CLASSES);
		p->class_weight[p->nclass_weight++] = w;
		s = *end ? end + 1 : end;
	}
	return 0;
}

int lrn_params_set(struct lrn_params *p, const char *key, const char *value)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct pdef *d = &table[i];
		if (strcmp(d->name, key) != 0)
			continue;
		if (d->type == P_WEIGHTS)
			return set_weights(p, value);
		char *end;
		errno = 0;
		if (d->type == P_U64) {
			unsigned long long v = strtoull(value, &end, 0);
			if (end == value || *end || errno)
				return lrn_err(-EINVAL, "%s: \"%s\" is not an unsigned integer", key, value);
			*(uint64_t *)((char *)p + d->off) = v;
			return 0;
		}
		double v = strtod(value, &end);
		if (end == value || *end || !isfinite(v))
			return lrn_err(-EINVAL, "%s: \"%s\" is not a number", key, value);
		if (v < d->lo || v > d->hi || (d->type == P_INT && v != floor(v)))
			return lrn_err(-EINVAL, "%s: %s is out of range, expected %s in %g..%g", key, value,
				       d->type == P_INT ? "an integer" : "a number", d->lo, d->hi);
		if (d->type == P_INT)
			*(int *)((char *)p + d->off) = (int)v;
		else
			*(double *)((char *)p + d->off) = v;
		return 0;
	}
	return lrn_err(-EINVAL, "unknown parameter \"%s\" (see --help for the list)", key);
}

const char *const *lrn_params_help(void)
{
	static const char *help[sizeof(table) / sizeof(table[0]) + 1];
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		help[i] = table[i].help;
	return help;
}
