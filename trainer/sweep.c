/*
 * sweep.c - policies by name, capacity sweeps and the simulated node's
 * capacities (sweep.h).  No printing: errors go to the caller's buffer.
 */
#include "sweep.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One value: a size or a multiple ("0.25x"). */
static int parse_value(const char *s, size_t len, struct sweep_value *out)
{
	char buf[64];
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (buf[len - 1] == 'x') {
		char *end;
		buf[len - 1] = '\0';
		double v = strtod(buf, &end);
		if (end == buf || *end != '\0' || !(v > 0) || !isfinite(v))
			return -EINVAL;
		*out = (struct sweep_value){v, 1};
		return 0;
	}
	uint64_t b;
	if (tcfg_parse_size(buf, &b) != 0 || b == 0)
		return -EINVAL;
	*out = (struct sweep_value){(double)b, 0};
	return 0;
}

int sweep_parse_axis(const char *arg, const struct tcfg *cfg, struct sweep_axis *out, char *err,
		     size_t errlen)
{
	const char *eq = strchr(arg, '=');
	char tier[128];
	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(tier)) {
		snprintf(err, errlen, "\"%s\": expected TIER=VALUES (e.g. mem=60G..420G or mem=0.1x,0.5x)",
			 arg);
		return -EINVAL;
	}
	memcpy(tier, arg, (size_t)(eq - arg));
	tier[eq - arg] = '\0';
	memset(out, 0, sizeof(*out));
	out->tier = tcfg_tier_index(cfg, tier);
	if (out->tier < 0) {
		snprintf(err, errlen, "\"%s\": no tier \"%s\" in %s", arg, tier, cfg->file);
		return -EINVAL;
	}
	const char *spec = eq + 1;
	const char *dots = strstr(spec, "..");
	if (dots) {
		const char *hi = dots + 2;
		const char *slash = strchr(hi, '/');
		size_t n = 5;
		if (slash) {
			char *end;
			unsigned long v = strtoul(slash + 1, &end, 10);
			if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || v < 2 ||
			    v > SWEEP_MAX_VALUES) {
				snprintf(err, errlen, "\"%s\": the count after / must be 2..%d", arg,
					 SWEEP_MAX_VALUES);
				return -EINVAL;
			}
			n = v;
		}
		struct sweep_value a, b;
		size_t hl = slash ? (size_t)(slash - hi) : strlen(hi);
		if (parse_value(spec, (size_t)(dots - spec), &a) || parse_value(hi, hl, &b) ||
		    a.relative != b.relative || !(b.v > a.v)) {
			snprintf(err, errlen,
				 "\"%s\": expected a range LOW..HIGH of two sizes (60G..420G) or two multiples (0.1x..1x), LOW below HIGH",
				 arg);
			return -EINVAL;
		}
		out->n = n;
		for (size_t i = 0; i < n; i++)
			out->values[i] = (struct sweep_value){a.v + (b.v - a.v) * (double)i / (double)(n - 1),
							      a.relative};
		return 0;
	}
	for (const char *p = spec;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (out->n == SWEEP_MAX_VALUES) {
			snprintf(err, errlen, "\"%s\": more than %d values", arg, SWEEP_MAX_VALUES);
			return -EINVAL;
		}
		if (parse_value(p, len, &out->values[out->n])) {
			snprintf(err, errlen,
				 "\"%s\": \"%.*s\" is neither a size (60G) nor a multiple of the workflow's bytes (0.25x)",
				 arg, (int)len, p);
			return -EINVAL;
		}
		out->n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

int sweep_apply_capacities(const char *const *caps, size_t n, const struct tcfg *cfg, struct sim_config *sc,
			   char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		struct sweep_axis ax;
		int rc = sweep_parse_axis(caps[i], cfg, &ax, err, errlen);
		if (rc == 0 && (ax.n != 1 || ax.values[0].relative)) {
			snprintf(err, errlen, "\"%s\": expected TIER=SIZE (one size, e.g. ssd=512G)", caps[i]);
			rc = -EINVAL;
		}
		if (rc < 0)
			return rc;
		sc->capacity[ax.tier] = (uint64_t)ax.values[0].v;
	}
	return 0;
}

static uint64_t workflow_bytes(const wf_graph *g)
{
	struct wf_summary sum;
	wf_get_summary(g, &sum);
	return sum.declared_bytes ? sum.declared_bytes : 1;
}

uint64_t sweep_value_bytes(const struct sweep_value *v, const wf_graph *g)
{
	double b = v->relative ? v->v * (double)workflow_bytes(g) : v->v;
	if (b < 1)
		b = 1;
	return b >= 0x1p62 ? (uint64_t)1 << 62 : (uint64_t)b;
}

void sweep_node_capacities(const struct tcfg *cfg, const wf_graph *g, struct sim_config *sc)
{
	double ref = SWEEP_REFERENCE_MULTIPLE * (double)workflow_bytes(g);
	for (size_t t = 0; t < cfg->ntiers; t++) {
		if (sc->capacity[t] || !(cfg->tiers[t].capacity_pct > 0))
			continue;
		double b = ref * cfg->tiers[t].capacity_pct / 100.0;
		sc->capacity[t] = b < 1 ? 1 : b >= 0x1p62 ? (uint64_t)1 << 62 : (uint64_t)b;
	}
}

int sweep_policy_create(const char *name, const struct tcfg *cfg, uint64_t seed, struct lrn_policy **out,
			char *err, size_t errlen)
{
	static const struct {
		const char *name;
		enum lrn_static_kind kind;
	} names[] = {{"first", LRN_STATIC_FIRST},
		     {"most-free", LRN_STATIC_MOST_FREE},
		     {"round-robin", LRN_STATIC_ROUND_ROBIN},
		     {"random", LRN_STATIC_RANDOM}};
	*out = NULL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i].name) == 0)
			*out = lrn_policy_static_create(names[i].kind, 0, seed);
	if (!*out) {
		int t = tcfg_tier_index(cfg, name);
		if (t < 0) {
			snprintf(err, errlen,
				 "unknown policy \"%s\": expected first, most-free, round-robin, random or a tier of %s",
				 name, cfg->file);
			return -EINVAL;
		}
		*out = lrn_policy_static_create(LRN_STATIC_TIER, t, seed);
	}
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int sweep_config_policy_create(const struct tcfg *cfg, uint64_t seed, struct lrn_policy **out, char *err,
			       size_t errlen)
{
	const char *name = cfg->placement == TCFG_PLACE_TIER ? cfg->tiers[cfg->placement_tier].name
							     : tcfg_placement_name(cfg->placement);
	return sweep_policy_create(name, cfg, seed, out, err, errlen);
}

int sweep_learned_policy_create(const char *model_path, const struct tcfg *cfg, uint64_t seed,
				struct lrn_policy **out, char *err, size_t errlen)
{
	*out = NULL;
	struct lrn_model *m;
	if (lrn_model_load(model_path, &m) != 0) {
		snprintf(err, errlen, "%s", lrn_last_error());
		return -EINVAL;
	}
	struct lrn_policy *fb;
	int rc = sweep_config_policy_create(cfg, seed, &fb, err, errlen);
	if (rc < 0) {
		lrn_model_destroy(m);
		return rc;
	}
	*out = lrn_policy_model_create(m, fb);
	if (!*out) {
		snprintf(err, errlen, "%s: %s", model_path, lrn_last_error());
		return -EINVAL;
	}
	return 0;
}

const char *sweep_size_str(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "BKMGTP";
	double v = (double)bytes;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) - 1) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.4g%c", v, units[u]);
	return buf;
}
