/*
 * model_json.c - reading model files: our own format and XGBoost's JSON
 * model, both into raw trees that lrn_model_compile() then checks.
 *
 * Assumes nothing of the input: every key is looked up, every value's
 * type and range checked, and each error names the file and the JSON path
 * of the offending value (e.g. "m.json: trees[3].left[7]: ...").
 */
#include "lrn_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *type_name(const cJSON *v)
{
	if (!v)
		return "nothing";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "null";
}

static int need(const cJSON *obj, const char *key, const char *what, const char *path, const cJSON **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = v;
	if (!v)
		return lrn_err(-EINVAL, "%s: %s%s%s: missing", what, path, *path ? "." : "", key);
	return 0;
}

/* An integral number in [lo, hi]; XGBoost writes its parameters as strings
 * ("3"), so a string holding one is accepted where str_ok. */
static int as_int(const cJSON *v, long lo, long hi, int str_ok, const char *what, const char *path, long *out)
{
	double d;
	if (cJSON_IsNumber(v))
		d = v->valuedouble;
	else if (cJSON_IsBool(v))
		d = cJSON_IsTrue(v);
	else if (str_ok && cJSON_IsString(v)) {
		char *end;
		d = strtod(v->valuestring, &end);
		if (end == v->valuestring || *end)
			return lrn_err(-EINVAL, "%s: %s: \"%s\" is not a number", what, path, v->valuestring);
	} else
		return lrn_err(-EINVAL, "%s: %s: expected an integer, found %s", what, path, type_name(v));
	if (!isfinite(d) || d != floor(d) || d < (double)lo || d > (double)hi)
		return lrn_err(-EINVAL, "%s: %s: %g is not an integer in %ld..%ld", what, path, d, lo, hi);
	*out = (long)d;
	return 0;
}

static int as_float(const cJSON *v, int str_ok, const char *what, const char *path, float *out)
{
	double d;
	if (cJSON_IsNumber(v))
		d = v->valuedouble;
	else if (str_ok && cJSON_IsString(v)) {
		char *end;
		d = strtod(v->valuestring, &end);
		if (end == v->valuestring || *end)
			return lrn_err(-EINVAL, "%s: %s: \"%s\" is not a number", what, path, v->valuestring);
	} else
		return lrn_err(-EINVAL, "%s: %s: expected a number, found %s", what, path, type_name(v));
	/* Finiteness is checked per use: a leaf value or threshold must be
	 * finite; cJSON already turns NaN/Infinity text into parse errors. */
	*out = (float)d;
	return 0;
}

/* An array of n (or, when n < 0, any number of) items; count returned. */
static int as_array(const cJSON *v, int n, const char *what, const char *path, int *count)
{
	if (!cJSON_IsArray(v))
		return lrn_err(-EINVAL, "%s: %s: expected an array, found %s", what, path, type_name(v));
	int c = cJSON_GetArraySize(v);
	if (n >= 0 && c != n)
		return lrn_err(-EINVAL, "%s: %s: %d items, expected %d (one per node)", what, path, c, n);
	*count = c;
	return 0;
}

/* n items into ints (integers in lo..hi) or floats (numbers). */
static int num_items(const cJSON *arr, int n, long lo, long hi, const char *what, const char *path, int32_t *ints,
		     float *floats)
{
	int c = 0, rc = as_array(arr, n, what, path, &c);
	if (rc < 0)
		return rc;
	int i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		char p[256];
		long v = 0;
		snprintf(p, sizeof(p), "%s[%d]", path, i);
		if (ints) {
			if ((rc = as_int(it, lo, hi, 0, what, p, &v)) < 0)
				return rc;
			ints[i] = (int32_t)v;
		} else if ((rc = as_float(it, 0, what, p, &floats[i])) < 0)
			return rc;
		i++;
	}
	return 0;
}

static int int_items(const cJSON *arr, int n, long lo, long hi, const char *what, const char *path, int32_t *out)
{
	return num_items(arr, n, lo, hi, what, path, out, NULL);
}

static int float_items(const cJSON *arr, int n, const char *what, const char *path, float *out)
{
	return num_items(arr, n, 0, 0, what, path, NULL, out);
}

/* Names: an array of distinct non-empty strings. */
static int names(const cJSON *arr, int min, int max, const char *what, const char *path, const char ***out, int *count)
{
	int c = 0, rc = as_array(arr, -1, what, path, &c);
	if (rc < 0)
		return rc;
	if (c < min || c > max)
		return lrn_err(-EINVAL, "%s: %s: %d names, expected %d..%d", what, path, c, min, max);
	const char **v = calloc(c ? (size_t)c : 1, sizeof(char *));
	if (!v)
		return lrn_err(-ENOMEM, "%s: out of memory", what);
	int i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		if (!cJSON_IsString(it) || !it->valuestring[0]) {
			free(v);
			return lrn_err(-EINVAL, "%s: %s[%d]: expected a non-empty string, found %s", what, path, i, type_name(it));
		}
		for (int j = 0; j < i; j++)
			if (strcmp(v[j], it->valuestring) == 0) {
				free(v);
				return lrn_err(-EINVAL, "%s: %s[%d]: \"%s\" appears twice", what, path, i, it->valuestring);
			}
		v[i++] = it->valuestring;
	}
	*out = v;
	*count = c;
	return 0;
}

/* The node arrays of one tree; keys differ between the two formats. */
struct tree_keys {
	const char *left, *right, *feat, *thr, *dleft, *gain;
};

/* The array under key in tree object t, its path written to p. */
static int tree_array(const cJSON *t, const char *key, const char *what, const char *tpath, char *p, size_t plen,
		      const cJSON **out)
{
	snprintf(p, plen, "%s.%s", tpath, key);
	return need(t, key, what, tpath, out);
}

static int read_tree(const cJSON *t, const struct tree_keys *k, const char *what, const char *tpath, size_t nfeat,
		     struct lrn_rawtree *rt)
{
	const cJSON *a = NULL;
	char p[256];
	int n = 0, rc;
	if (!cJSON_IsObject(t))
		return lrn_err(-EINVAL, "%s: %s: expected an object, found %s", what, tpath, type_name(t));
	if ((rc = tree_array(t, k->left, what, tpath, p, sizeof(p), &a)) < 0 || (rc = as_array(a, -1, what, p, &n)) < 0)
		return rc;
	if (n < 1 || n > LRN_MAX_NODES)
		return lrn_err(-EINVAL, "%s: %s: %d nodes, expected 1..%d", what, p, n, LRN_MAX_NODES);
	if (lrn_rawtree_alloc(rt, n) < 0)
		return lrn_err(-ENOMEM, "%s: out of memory", what);
	if ((rc = int_items(a, n, -1, n - 1, what, p, rt->left)) < 0)
		return rc;
	if ((rc = tree_array(t, k->right, what, tpath, p, sizeof(p), &a)) < 0 ||
	    (rc = int_items(a, n, -1, n - 1, what, p, rt->right)) < 0)
		return rc;
	if ((rc = tree_array(t, k->feat, what, tpath, p, sizeof(p), &a)) < 0 ||
	    (rc = int_items(a, n, 0, (long)nfeat - 1, what, p, rt->feat)) < 0)
		return rc;
	if ((rc = tree_array(t, k->thr, what, tpath, p, sizeof(p), &a)) < 0 ||
	    (rc = float_items(a, n, what, p, rt->thr)) < 0)
		return rc;
	/* default_left is 0/1 in XGBoost 1.x and may be boolean elsewhere;
	 * as_int takes both. */
	int32_t *dl = malloc(sizeof(int32_t) * (size_t)n);
	if (!dl)
		return lrn_err(-ENOMEM, "%s: out of memory", what);
	if ((rc = tree_array(t, k->dleft, what, tpath, p, sizeof(p), &a)) == 0)
		rc = int_items(a, n, 0, 1, what, p, dl);
	for (int i = 0; rc == 0 && i < n; i++)
		rt->dleft[i] = (uint8_t)dl[i];
	free(dl);
	if (rc < 0)
		return rc;
	a = k->gain ? cJSON_GetObjectItemCaseSensitive(t, k->gain) : NULL;
	if (a) {
		snprintf(p, sizeof(p), "%s.%s", tpath, k->gain);
		if ((rc = float_items(a, n, what, p, rt->gain)) < 0)
			return rc;
	}
	return 0;
}

static void free_raw(struct lrn_rawtree *raw, size_t n)
{
	for (size_t t = 0; raw && t < n; t++)
		lrn_rawtree_free(&raw[t]);
	free(raw);
}

/* The trees array: its count checked, zeroed raw trees to fill. */
static int tree_slots(const cJSON *trees, const char *what, const char *path, int *nt, struct lrn_rawtree **raw)
{
	int rc = as_array(trees, -1, what, path, nt);
	if (rc < 0)
		return rc;
	if (*nt > LRN_MAX_TREES)
		return lrn_err(-E2BIG, "%s: %s: %d trees, more than the %d allowed", what, path, *nt, LRN_MAX_TREES);
	*raw = calloc(*nt ? (size_t)*nt : 1, sizeof(**raw));
	if (!*raw)
		return lrn_err(-ENOMEM, "%s: out of memory", what);
	return 0;
}

static const struct tree_keys our_keys = {"left", "right", "feature", "threshold", "default_left", "gain"};
static const struct tree_keys xgb_keys = {"left_children", "right_children", "split_indices", "split_conditions", "default_left", "loss_changes"};

int lrn_model_from_ours(const cJSON *root, const char *what, struct lrn_model **out)
{
	const cJSON *v = NULL, *feat = NULL, *cls = NULL, *base = NULL, *trees = NULL;
	const char **fnames = NULL, **cnames = NULL;
	struct lrn_rawtree *raw = NULL;
	struct lrn_model *m = NULL;
	int nf = 0, nc = 0, nt = 0, rc, binary = 0;
	long ver = 0;

	if ((rc = need(root, "format", what, "", &v)) < 0)
		return rc;
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "tierfs-gbdt") != 0)
		return lrn_err(-EINVAL, "%s: format: expected \"tierfs-gbdt\"", what);
	if ((rc = need(root, "version", what, "", &v)) < 0 || (rc = as_int(v, 0, 1000, 0, what, "version", &ver)) < 0)
		return rc;
	if (ver != 1)
		return lrn_err(-EINVAL, "%s: version: %ld, this build reads version 1", what, ver);
	v = cJSON_GetObjectItemCaseSensitive(root, "objective");
	if (v) {
		if (!cJSON_IsString(v))
			return lrn_err(-EINVAL, "%s: objective: expected a string, found %s", what, type_name(v));
		if (strcmp(v->valuestring, "binary:logistic") == 0)
			binary = 1;
		else if (strcmp(v->valuestring, "multi:softprob") != 0)
			return lrn_err(-EINVAL, "%s: objective: \"%s\", expected \"multi:softprob\" or \"binary:logistic\"", what, v->valuestring);
	}
	if ((rc = need(root, "features", what, "", &feat)) < 0 ||
	    (rc = names(feat, 1, LRN_MAX_FEATURES, what, "features", &fnames, &nf)) < 0)
		goto out;
	if ((rc = need(root, "classes", what, "", &cls)) < 0 ||
	    (rc = names(cls, 2, binary ? 2 : LRN_MAX_CLASSES, what, "classes", &cnames, &nc)) < 0)
		goto out;
	m = lrn_model_new("tierfs-gbdt", (size_t)nf, fnames, (size_t)nc, cnames);
	if (!m) {
		rc = lrn_err(-ENOMEM, "%s: out of memory", what);
		goto out;
	}
	m->binary_logistic = binary;
	m->nmargins = binary ? 1 : (size_t)nc;
	if ((rc = need(root, "base_scores", what, "", &base)) < 0 ||
	    (rc = float_items(base, (int)m->nmargins, what, "base_scores", m->base)) < 0)
		goto out;
	for (size_t k = 0; k < m->nmargins; k++)
		if (!isfinite(m->base[k])) {
			rc = lrn_err(-EINVAL, "%s: base_scores[%zu]: expected a finite number", what, k);
			goto out;
		}
	if ((rc = need(root, "trees", what, "", &trees)) < 0 || (rc = tree_slots(trees, what, "trees", &nt, &raw)) < 0)
		goto out;
	int i = 0;
	const cJSON *t;
	cJSON_ArrayForEach(t, trees)
	{
		char p[64];
		long c = 0;
		snprintf(p, sizeof(p), "trees[%d]", i);
		if ((rc = read_tree(t, &our_keys, what, p, (size_t)nf, &raw[i])) < 0)
			goto out;
		snprintf(p, sizeof(p), "trees[%d]", i);
		if ((rc = need(t, "class", what, p, &v)) < 0)
			goto out;
		snprintf(p, sizeof(p), "trees[%d].class", i);
		if ((rc = as_int(v, 0, (long)m->nmargins - 1, 0, what, p, &c)) < 0)
			goto out;
		raw[i++].cls = (int)c;
	}
	rc = lrn_model_compile(m, raw, (size_t)nt, what);
	raw = NULL; /* owned by m now */
out:
	free_raw(raw, (size_t)nt);
	free(fnames);
	free(cnames);
	if (rc < 0) {
		lrn_model_destroy(m);
		m = NULL;
	}
	*out = m;
	return rc;
}

int lrn_model_from_xgboost(const cJSON *root, const char *what, struct lrn_model **out)
{
	const cJSON *learner = NULL, *mp = NULL, *obj = NULL, *v = NULL, *gb = NULL, *model = NULL, *trees = NULL, *info = NULL;
	const char **fnames = NULL;
	struct lrn_rawtree *raw = NULL;
	struct lrn_model *m = NULL;
	int nt = 0, ni = 0, nfn = 0, rc, binary = 0;
	long nfeat = 0, nclass = 0;
	float base_score = 0;

	if ((rc = need(root, "learner", what, "", &learner)) < 0)
		return rc;
	if (!cJSON_IsObject(learner))
		return lrn_err(-EINVAL, "%s: learner: expected an object, found %s", what, type_name(learner));
	if ((rc = need(learner, "objective", what, "learner", &obj)) < 0 || (rc = need(obj, "name", what, "learner.objective", &v)) < 0)
		return rc;
	if (!cJSON_IsString(v))
		return lrn_err(-EINVAL, "%s: learner.objective.name: expected a string, found %s", what, type_name(v));
	if (strcmp(v->valuestring, "binary:logistic") == 0)
		binary = 1;
	else if (strcmp(v->valuestring, "multi:softprob") != 0 && strcmp(v->valuestring, "multi:softmax") != 0)
		return lrn_err(-EINVAL, "%s: learner.objective.name: \"%s\" is not supported; expected multi:softprob, multi:softmax or binary:logistic", what, v->valuestring);
	if ((rc = need(learner, "learner_model_param", what, "learner", &mp)) < 0)
		return rc;
	if ((rc = need(mp, "num_feature", what, "learner.learner_model_param", &v)) < 0 ||
	    (rc = as_int(v, 1, LRN_MAX_FEATURES, 1, what, "learner.learner_model_param.num_feature", &nfeat)) < 0)
		return rc;
	if ((rc = need(mp, "num_class", what, "learner.learner_model_param", &v)) < 0 ||
	    (rc = as_int(v, 0, LRN_MAX_CLASSES, 1, what, "learner.learner_model_param.num_class", &nclass)) < 0)
		return rc;
	if (binary)
		nclass = 2;
	else if (nclass < 2)
		return lrn_err(-EINVAL, "%s: learner.learner_model_param.num_class: %ld, a multi-class model has at least 2", what, nclass);
	if ((rc = need(mp, "base_score", what, "learner.learner_model_param", &v)) < 0 ||
	    (rc = as_float(v, 1, what, "learner.learner_model_param.base_score", &base_score)) < 0)
		return rc;
	if (!isfinite(base_score) || (binary && (base_score <= 0 || base_score >= 1)))
		return lrn_err(-EINVAL, "%s: learner.learner_model_param.base_score: %g is out of range", what, (double)base_score);
	v = cJSON_GetObjectItemCaseSensitive(learner, "feature_names");
	if (v && cJSON_GetArraySize(v) > 0) {
		if ((rc = names(v, 1, LRN_MAX_FEATURES, what, "learner.feature_names", &fnames, &nfn)) < 0)
			return rc;
		if (nfn != nfeat) {
			free(fnames);
			return lrn_err(-EINVAL, "%s: learner.feature_names: %d names for %ld features", what, nfn, nfeat);
		}
	}
	m = lrn_model_new("xgboost", (size_t)nfeat, fnames, (size_t)nclass, NULL);
	free(fnames);
	if (!m)
		return lrn_err(-ENOMEM, "%s: out of memory", what);
	m->binary_logistic = binary;
	m->nmargins = binary ? 1 : (size_t)nclass;
	for (size_t k = 0; k < m->nmargins; k++)
		m->base[k] = binary ? -logf(1.0f / base_score - 1.0f) : base_score;

	if ((rc = need(learner, "gradient_booster", what, "learner", &gb)) < 0 ||
	    (rc = need(gb, "name", what, "learner.gradient_booster", &v)) < 0)
		goto out;
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "gbtree") != 0) {
		rc = lrn_err(-EINVAL, "%s: learner.gradient_booster.name: expected \"gbtree\" (dart and gblinear are not supported)", what);
		goto out;
	}
	if ((rc = need(gb, "model", what, "learner.gradient_booster", &model)) < 0 ||
	    (rc = need(model, "trees", what, "learner.gradient_booster.model", &trees)) < 0 ||
	    (rc = tree_slots(trees, what, "learner.gradient_booster.model.trees", &nt, &raw)) < 0 ||
	    (rc = need(model, "tree_info", what, "learner.gradient_booster.model", &info)) < 0 ||
	    (rc = as_array(info, nt, what, "learner.gradient_booster.model.tree_info", &ni)) < 0)
		goto out;
	int i = 0;
	const cJSON *t, *c = info->child;
	cJSON_ArrayForEach(t, trees)
	{
		char p[96];
		long cls = 0;
		snprintf(p, sizeof(p), "learner.gradient_booster.model.trees[%d]", i);
		if ((rc = read_tree(t, &xgb_keys, what, p, (size_t)nfeat, &raw[i])) < 0)
			goto out;
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(t, "split_type");
		const cJSON *s;
		cJSON_ArrayForEach(s, st)
		{
			if (!cJSON_IsNumber(s) || s->valuedouble != 0) {
				rc = lrn_err(-EINVAL, "%s: %s.split_type: categorical splits are not supported", what, p);
				goto out;
			}
		}
		snprintf(p, sizeof(p), "learner.gradient_booster.model.tree_info[%d]", i);
		if ((rc = as_int(c, 0, (long)m->nmargins - 1, 0, what, p, &cls)) < 0)
			goto out;
		raw[i++].cls = (int)cls;
		c = c->next;
	}
	rc = lrn_model_compile(m, raw, (size_t)nt, what);
	raw = NULL;
out:
	free_raw(raw, (size_t)nt);
	if (rc < 0) {
		lrn_model_destroy(m);
		m = NULL;
	}
	*out = m;
	return rc;
}
