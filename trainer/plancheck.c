/*
 * plancheck.c - the plan check (plancheck.h).
 *
 * Scales and margin.  One run per policy at the declared runtimes, and
 * the model kept when it is faster at all.  On the training workflows
 * (`tiertrain generate` seeds 1 and 2 over the memory sweep of
 * make-default-model.sh, 192 configurations) this put the learned policy
 * at or below the best tier at the declared runtimes in all 192, against
 * 186 for the former default (the mean over 0.98, 1 and 1.02, 1% margin),
 * for 181 against 186 by the mean over the eval's jittered runtimes (in 5
 * no plan meets both).  Over five positions of the declared runtimes
 * (moved by 0, +-0.5% and +-1%) the former default lost on both counts
 * (912 and 894 of 960, against 960 and 917): its runs at +-2% decide on
 * noise.  Weights 0.25/0.5/0.25 and narrower scales (0.99, 1, 1.01) did
 * worse at the declared runtimes; a tie-break (the tier best by that mean
 * unless another within 2% of it is faster at the declared runtimes) came
 * out level but is two rules for one.  README "Plan check" gives the
 * figures.  The parameters stay, for `tiertrain eval --plan-scales` and
 * `--plan-margin`.
 *
 * Assumes: the model is immutable while the check runs (the daemon holds
 * its placement lock shared around the call).
 */
#include "plancheck.h"
#include "sweep.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void plan_params_default(struct plan_params *pp)
{
	static const double scales[] = PLAN_DEFAULT_SCALES;
	memset(pp, 0, sizeof(*pp));
	pp->margin = PLAN_DEFAULT_MARGIN;
	pp->nscales = sizeof(scales) / sizeof(scales[0]);
	memcpy(pp->scales, scales, sizeof(scales));
}

int plan_policy_create(int plan, const struct lrn_model *model, const struct tcfg *cfg, uint64_t seed,
		       struct lrn_policy **out, char *err, size_t errlen)
{
	*out = NULL;
	if (plan >= 0) {
		if ((size_t)plan >= cfg->ntiers) {
			snprintf(err, errlen, "plan names tier %d; %s has %zu tiers", plan, cfg->file, cfg->ntiers);
			return -EINVAL;
		}
		return sweep_policy_create(cfg->tiers[plan].name, cfg, seed, out, err, errlen);
	}
	struct lrn_policy *fb;
	int rc = sweep_config_policy_create(cfg, seed, &fb, err, errlen);
	if (rc < 0)
		return rc;
	*out = lrn_policy_model_borrow(model, fb);
	if (!*out) {
		snprintf(err, errlen, "learned policy: %s", lrn_last_error());
		return -EINVAL;
	}
	return 0;
}

/* One run of one policy; INFINITY when a file fits nowhere. */
static int run_one(struct sim *s, int plan, const struct lrn_model *model, const struct tcfg *cfg, double *io,
		   char *err, size_t errlen)
{
	struct lrn_policy *pol;
	double span;
	int rc = plan_policy_create(plan, model, cfg, 1, &pol, err, errlen);
	return rc < 0 ? rc : sim_run_policy(s, pol, io, &span, err, errlen);
}

int plan_check(const wf_graph *g, const struct tcfg *cfg, const struct sim_config *sc,
	       const struct lrn_model *model, const struct plan_params *pp, struct plan_result *out, char *err,
	       size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->plan = PLAN_MODEL;
	out->best_tier = -1;
	out->ntiers = cfg->ntiers;
	if (!model || pp->nscales == 0 || pp->nscales > PLAN_MAX_SCALES || !(pp->margin >= 0 && pp->margin < 1)) {
		snprintf(err, errlen, "plan check: %s", !model ? "no model" : "bad parameters (1-8 scales, margin in [0, 1))");
		return -EINVAL;
	}
	double sum[TCFG_MAX_TIERS + 1] = {0}; /* [0] the model, [1 + t] tier t */
	for (size_t k = 0; k < pp->nscales; k++) {
		struct sim_config ksc = *sc;
		ksc.runtime_scale = sc->runtime_scale * pp->scales[k];
		ksc.record_features = 0;
		/* No monitor series or phase-aware modes: the daemon's
		 * check runs without them (a phase model steps on a live
		 * load, not on a simulated one). */
		ksc.tick_s = 0;
		ksc.phase = NULL;
		ksc.proactive = ksc.prefetch = 0;
		struct sim *s = NULL;
		int rc = sim_create(g, cfg, &ksc, &s, err, errlen);
		for (int p = -1; rc == 0 && p < (int)cfg->ntiers; p++) {
			double io = 0;
			rc = run_one(s, p, model, cfg, &io, err, errlen);
			sum[p + 1] += io;
			out->runs++;
		}
		sim_destroy(s);
		if (rc < 0)
			return rc;
	}
	out->model_io = sum[0] / (double)pp->nscales;
	for (size_t t = 0; t < cfg->ntiers; t++) {
		out->tier_io[t] = sum[t + 1] / (double)pp->nscales;
		if (isfinite(out->tier_io[t]) && (out->best_tier < 0 || out->tier_io[t] < out->tier_io[out->best_tier]))
			out->best_tier = (int)t;
	}
	if (out->best_tier < 0 && !isfinite(out->model_io)) {
		snprintf(err, errlen, "plan check: no policy can hold the workflow's files in the tiers' capacities");
		return -ENOSPC;
	}
	if (out->best_tier >= 0 && !(out->model_io < (1 - pp->margin) * out->tier_io[out->best_tier]))
		out->plan = out->best_tier;
	return 0;
}

static int put_time(char *buf, size_t len, size_t *o, const char *name, double v)
{
	int n = isfinite(v) ? snprintf(buf + *o, len - *o, "%s %.4g s", name, v)
			    : snprintf(buf + *o, len - *o, "%s cannot hold it", name);
	if (n < 0 || (size_t)n >= len - *o)
		return -1;
	*o += (size_t)n;
	return 0;
}

void plan_describe(const struct plan_result *r, const struct tcfg *cfg, char *buf, size_t len)
{
	size_t o = 0;
	int n = snprintf(buf, len, "plan %s (", r->plan >= 0 ? cfg->tiers[r->plan].name : "model");
	if (n < 0 || (size_t)n >= len)
		return;
	o = (size_t)n;
	if (put_time(buf, len, &o, "model", r->model_io))
		return;
	for (size_t t = 0; t < r->ntiers; t++) {
		if (o + 2 >= len)
			return;
		buf[o++] = ',';
		buf[o++] = ' ';
		buf[o] = '\0';
		if (put_time(buf, len, &o, cfg->tiers[t].name, r->tier_io[t]))
			return;
	}
	snprintf(buf + o, len - o, " simulated)");
}

int plan_check_place(const wf_graph *g, const struct tcfg *cfg, const struct sim_config *sc,
		     const struct lrn_model *model, struct tpl_plan *out, char *err, size_t errlen)
{
	struct plan_params pp;
	plan_params_default(&pp);
	struct plan_result r;
	int rc = plan_check(g, cfg, sc, model, &pp, &r, err, errlen);
	if (rc < 0)
		return rc;
	out->tier = r.plan >= 0 ? r.plan : TPL_PLAN_MODEL;
	plan_describe(&r, cfg, out->text, sizeof(out->text));
	return 0;
}
