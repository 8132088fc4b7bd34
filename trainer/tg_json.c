/*
 * tg_json.c - the generator file (JSON, cJSON): writing it, and a strict
 * loader that checks every key, type, array length and number before a
 * generator is built (a file cut short or edited by hand is refused with
 * the key that is wrong, never half-loaded).
 *
 * Layout: {"format": "tierfs-tracegen", "version": 1, "seed", "features":
 * [names], "bins": 20, "fmin": [D], "fmax": [D], "files_per_workflow",
 * "classes": [{"name", "records", "mean_curve": [40], "gauss": {"mean":
 * [D], "chol": [D*D]}, "flow": {"mu": [D], "sigma": [D], "h", "u": [K*D],
 * "w": [K*D], "b": [K]}, "real": [n*D] (only when kept)}], "trace":
 * {"input": D + classes, "widths": [128, 64, 32], "blocks": 2, "params":
 * [...]}}.
 */
#include "tg_internal.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D TG_NFEAT
#define FORMAT "tierfs-tracegen"

static const char *const feature_names[D] = {
	"producer_level", "producer_width", "wf_tasks", "wf_bytes", "consumers", "next_use_distance",
	"last_use_distance", "size", "bytes_read", "bytes_written", "reads", "writes", "opens", "lifetime",
	"seq_frac", "rh0", "rh1", "rh2", "rh3", "rh4", "rh5", "rh6", "rh7", "rh8", "rh9", "wh0", "wh1", "wh2",
	"wh3", "wh4", "wh5", "wh6", "wh7", "wh8", "wh9",
};

static cJSON *farr(const float *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < n; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

static cJSON *darr(const double *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < n; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

/* Attach item to o under key; NULL item or failure -> -ENOMEM. */
static int add(cJSON *o, const char *key, cJSON *item)
{
	if (!item)
		return -ENOMEM;
	if (!cJSON_AddItemToObject(o, key, item)) {
		cJSON_Delete(item);
		return -ENOMEM;
	}
	return 0;
}

int tg_gen_to_json(const struct tg_gen *g, char **out)
{
	cJSON *root = cJSON_CreateObject(), *classes, *names;
	int rc = -ENOMEM;
	*out = NULL;
	if (!root)
		return -ENOMEM;
	if ((rc = add(root, "format", cJSON_CreateString(FORMAT))) || (rc = add(root, "version", cJSON_CreateNumber(1))) ||
	    (rc = add(root, "seed", cJSON_CreateNumber((double)g->seed))) ||
	    (rc = add(root, "features", names = cJSON_CreateStringArray(feature_names, D))) ||
	    (rc = add(root, "bins", cJSON_CreateNumber(TG_BINS))) || (rc = add(root, "fmin", darr(g->fmin, D))) ||
	    (rc = add(root, "fmax", darr(g->fmax, D))) ||
	    (rc = add(root, "files_per_workflow", cJSON_CreateNumber(g->files_per_workflow))) ||
	    (rc = add(root, "classes", classes = cJSON_CreateArray())))
		goto out;
	for (size_t c = 0; c < g->nclass; c++) {
		const struct tg_class_model *m = &g->cls[c];
		cJSON *o = cJSON_CreateObject(), *ga, *fl;
		if ((rc = add(classes, "", o)))
			goto out;
		size_t kd = (size_t)m->flow.k * D;
		if ((rc = add(o, "name", cJSON_CreateString(m->name))) ||
		    (rc = add(o, "records", cJSON_CreateNumber((double)m->n))) ||
		    (rc = add(o, "mean_curve", farr(m->mean_curve, TG_CURVE))) ||
		    (rc = add(o, "gauss", ga = cJSON_CreateObject())) || (rc = add(ga, "mean", farr(m->gmean, D))) ||
		    (rc = add(ga, "chol", farr(m->gchol, D * D))) || (rc = add(o, "flow", fl = cJSON_CreateObject())) ||
		    (rc = add(fl, "mu", darr(m->mu, D))) || (rc = add(fl, "sigma", darr(m->sigma, D))) ||
		    (rc = add(fl, "h", cJSON_CreateNumber(m->h))) || (rc = add(fl, "u", darr(m->flow.u, kd))) ||
		    (rc = add(fl, "w", darr(m->flow.w, kd))) || (rc = add(fl, "b", darr(m->flow.b, (size_t)m->flow.k))))
			goto out;
		if (m->real && (rc = add(o, "real", farr(m->real, m->n * D))))
			goto out;
	}
	cJSON *t;
	if ((rc = add(root, "trace", t = cJSON_CreateObject())) ||
	    (rc = add(t, "input", cJSON_CreateNumber(g->mlp.in))) ||
	    (rc = add(t, "widths", cJSON_CreateIntArray(tg_widths, TG_NWIDTHS))) ||
	    (rc = add(t, "blocks", cJSON_CreateNumber(TG_BLOCKS))) || (rc = add(t, "params", farr(g->mlp.p, g->mlp.np))))
		goto out;
	*out = cJSON_PrintUnformatted(root);
	rc = *out ? 0 : -ENOMEM;
out:
	cJSON_Delete(root);
	return rc;
}

int tg_gen_save(const struct tg_gen *g, const char *path, char *err, size_t errlen)
{
	char *s;
	int rc = tg_gen_to_json(g, &s);
	if (rc) {
		snprintf(err, errlen, "%s: out of memory writing the generator", path);
		return rc;
	}
	FILE *f = fopen(path, "w");
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(-rc));
		free(s);
		return rc;
	}
	size_t n = strlen(s);
	int ok = fwrite(s, 1, n, f) == n && fputc('\n', f) != EOF;
	ok = (fclose(f) == 0) && ok;
	free(s);
	if (!ok) {
		snprintf(err, errlen, "%s: write failed", path);
		return -EIO;
	}
	return 0;
}

/* ---- strict loading --------------------------------------------------------- */

struct ld {
	const char *name;
	char *err;
	size_t errlen;
};

static int bad(struct ld *l, const char *where, const char *what)
{
	snprintf(l->err, l->errlen, "%s: %s: %s", l->name, where, what);
	return -EINVAL;
}

static const cJSON *need(struct ld *l, const cJSON *o, const char *key, const char *where, int (*is)(const cJSON *),
			 const char *type, int *rc)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v || !is(v)) {
		char w[160], msg[96];
		snprintf(w, sizeof(w), "%s%s%s", where, *where ? "." : "", key);
		snprintf(msg, sizeof(msg), v ? "expected %s" : "missing (expected %s)", type);
		*rc = bad(l, w, msg);
		return NULL;
	}
	return v;
}

static int is_num(const cJSON *v)
{
	return cJSON_IsNumber(v) && isfinite(v->valuedouble);
}
static int is_str(const cJSON *v)
{
	return cJSON_IsString(v);
}
static int is_arr(const cJSON *v)
{
	return cJSON_IsArray(v);
}
static int is_obj(const cJSON *v)
{
	return cJSON_IsObject(v);
}

static int get_num(struct ld *l, const cJSON *o, const char *key, const char *where, double lo, double hi, double *out)
{
	int rc = 0;
	const cJSON *v = need(l, o, key, where, is_num, "a finite number", &rc);
	if (!v)
		return rc;
	if (v->valuedouble < lo || v->valuedouble > hi) {
		char w[160], msg[96];
		snprintf(w, sizeof(w), "%s%s%s", where, *where ? "." : "", key);
		snprintf(msg, sizeof(msg), "%g is out of range [%g, %g]", v->valuedouble, lo, hi);
		return bad(l, w, msg);
	}
	*out = v->valuedouble;
	return 0;
}

/* An array of exactly n finite numbers into fout or dout. */
static int get_arr(struct ld *l, const cJSON *o, const char *key, const char *where, size_t n, float *fout,
		   double *dout)
{
	int rc = 0;
	const cJSON *a = need(l, o, key, where, is_arr, "an array of numbers", &rc);
	if (!a)
		return rc;
	char w[160];
	snprintf(w, sizeof(w), "%s%s%s", where, *where ? "." : "", key);
	size_t got = (size_t)cJSON_GetArraySize(a);
	if (got != n) {
		char msg[96];
		snprintf(msg, sizeof(msg), "expected %zu numbers, got %zu", n, got);
		return bad(l, w, msg);
	}
	size_t i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, a) {
		if (!is_num(e)) {
			char msg[96];
			snprintf(msg, sizeof(msg), "element %zu is not a finite number", i);
			return bad(l, w, msg);
		}
		if (fout)
			fout[i] = (float)e->valuedouble;
		else
			dout[i] = e->valuedouble;
		i++;
	}
	return 0;
}

int tg_gen_load_buffer(const char *buf, size_t len, const char *name, struct tg_gen **out, char *err, size_t errlen)
{
	struct ld l = {name, err, errlen};
	struct tg_gen *g = NULL;
	int rc = 0;
	double v;
	*out = NULL;
	cJSON *root = cJSON_ParseWithLength(buf, len);
	if (!root) {
		snprintf(err, errlen, "%s: malformed JSON near byte %zu", name,
			 cJSON_GetErrorPtr() ? (size_t)(cJSON_GetErrorPtr() - buf) : (size_t)0);
		return -EINVAL;
	}
	const cJSON *fmt = need(&l, root, "format", "", is_str, "a string", &rc);
	if (!fmt)
		goto out;
	if (strcmp(fmt->valuestring, FORMAT) != 0) {
		rc = bad(&l, "format", "expected \"" FORMAT "\" (not a trace generator file)");
		goto out;
	}
	if ((rc = get_num(&l, root, "version", "", 1, 1, &v)) || (rc = get_num(&l, root, "bins", "", TG_BINS, TG_BINS, &v)))
		goto out;
	const cJSON *feats = need(&l, root, "features", "", is_arr, "an array of feature names", &rc);
	if (!feats)
		goto out;
	if (cJSON_GetArraySize(feats) != D) {
		rc = bad(&l, "features", "expected the 35 features of this version");
		goto out;
	}
	for (int i = 0; i < D; i++) {
		const cJSON *e = cJSON_GetArrayItem(feats, i);
		if (!cJSON_IsString(e) || strcmp(e->valuestring, feature_names[i]) != 0) {
			char w[48];
			snprintf(w, sizeof(w), "features[%d]", i);
			rc = bad(&l, w, "unexpected feature name (generator written by another version?)");
			goto out;
		}
	}
	const cJSON *classes = need(&l, root, "classes", "", is_arr, "an array of classes", &rc);
	if (!classes)
		goto out;
	size_t nc = (size_t)cJSON_GetArraySize(classes);
	if (nc == 0 || nc > 100000) {
		rc = bad(&l, "classes", "expected 1 to 100000 classes");
		goto out;
	}
	if (!(g = tg_gen_alloc(nc))) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", name);
		goto out;
	}
	double seed;
	if ((rc = get_num(&l, root, "seed", "", 0, 18446744073709551615.0, &seed)) ||
	    (rc = get_arr(&l, root, "fmin", "", D, NULL, g->fmin)) || (rc = get_arr(&l, root, "fmax", "", D, NULL, g->fmax)) ||
	    (rc = get_num(&l, root, "files_per_workflow", "", 1, 1e9, &g->files_per_workflow)))
		goto out;
	g->seed = (uint64_t)seed;
	for (int i = 0; i < D; i++) {
		if (g->fmax[i] < g->fmin[i]) {
			rc = bad(&l, "fmax", "below fmin");
			goto out;
		}
		/* log1p of counts, bytes and seconds: 45 is past 2^64. */
		if (g->fmin[i] < 0 || g->fmax[i] > 45) {
			rc = bad(&l, g->fmin[i] < 0 ? "fmin" : "fmax", "expected log1p-scaled values in [0, 45]");
			goto out;
		}
	}
	size_t c = 0;
	const cJSON *co;
	cJSON_ArrayForEach(co, classes) {
		struct tg_class_model *m = &g->cls[c];
		char w[64];
		snprintf(w, sizeof(w), "classes[%zu]", c);
		if (!cJSON_IsObject(co)) {
			rc = bad(&l, w, "expected an object");
			goto out;
		}
		const cJSON *nm = need(&l, co, "name", w, is_str, "a string", &rc);
		if (!nm)
			goto out;
		char clean[TG_CLASS_MAX];
		tg_class_sanitise(clean, nm->valuestring);
		if (strcmp(clean, nm->valuestring) != 0) {
			rc = bad(&l, w, "name: expected [A-Za-z0-9_.:+-], under 64 bytes");
			goto out;
		}
		for (size_t k = 0; k < c; k++)
			if (strcmp(g->cls[k].name, clean) == 0) {
				rc = bad(&l, w, "name: duplicate class");
				goto out;
			}
		memcpy(m->name, clean, sizeof(clean));
		if ((rc = get_num(&l, co, "records", w, 1, 1e12, &v)))
			goto out;
		m->n = (size_t)v;
		if ((rc = get_arr(&l, co, "mean_curve", w, TG_CURVE, m->mean_curve, NULL)))
			goto out;
		char w2[96];
		snprintf(w2, sizeof(w2), "%s.gauss", w);
		const cJSON *ga = need(&l, co, "gauss", w, is_obj, "an object", &rc);
		if (!ga || (rc = get_arr(&l, ga, "mean", w2, D, m->gmean, NULL)) ||
		    (rc = get_arr(&l, ga, "chol", w2, D * D, m->gchol, NULL)))
			goto out;
		for (int i = 0; i < D; i++)
			if (!(m->gchol[i * D + i] > 0)) {
				rc = bad(&l, w2, "chol: diagonal must be positive");
				goto out;
			}
		snprintf(w2, sizeof(w2), "%s.flow", w);
		const cJSON *fl = need(&l, co, "flow", w, is_obj, "an object", &rc);
		if (!fl)
			goto out;
		const cJSON *fb = need(&l, fl, "b", w2, is_arr, "an array of numbers", &rc);
		if (!fb)
			goto out;
		int K = cJSON_GetArraySize(fb);
		if (K > 1000) {
			rc = bad(&l, w2, "b: more than 1000 layers");
			goto out;
		}
		if ((rc = tg_flow_alloc(&m->flow, D, K))) {
			snprintf(err, errlen, "%s: out of memory", name);
			goto out;
		}
		if ((rc = get_arr(&l, fl, "mu", w2, D, NULL, m->mu)) || (rc = get_arr(&l, fl, "sigma", w2, D, NULL, m->sigma)) ||
		    (rc = get_num(&l, fl, "h", w2, 1e-9, 1e9, &m->h)) ||
		    (rc = get_arr(&l, fl, "u", w2, (size_t)K * D, NULL, m->flow.u)) ||
		    (rc = get_arr(&l, fl, "w", w2, (size_t)K * D, NULL, m->flow.w)) ||
		    (rc = get_arr(&l, fl, "b", w2, (size_t)K, NULL, m->flow.b)))
			goto out;
		for (int i = 0; i < D; i++)
			if (!(m->sigma[i] > 0)) {
				rc = bad(&l, w2, "sigma: every entry must be positive");
				goto out;
			}
		if (cJSON_GetObjectItemCaseSensitive(co, "real")) {
			if (m->n > 10000000 || !(m->real = malloc(m->n * D * sizeof(float)))) {
				rc = -ENOMEM;
				snprintf(err, errlen, "%s: %s: out of memory", name, w);
				goto out;
			}
			if ((rc = get_arr(&l, co, "real", w, m->n * D, m->real, NULL)))
				goto out;
		}
		if (c > 0 && (m->real != NULL) != (g->cls[0].real != NULL)) {
			rc = bad(&l, w, "real: present in some classes only");
			goto out;
		}
		c++;
	}
	const cJSON *t = need(&l, root, "trace", "", is_obj, "an object", &rc);
	if (!t)
		goto out;
	double in, blocks;
	if ((rc = get_num(&l, t, "input", "trace", (double)(D + nc), (double)(D + nc), &in)) ||
	    (rc = get_num(&l, t, "blocks", "trace", TG_BLOCKS, TG_BLOCKS, &blocks)))
		goto out;
	double wd[TG_NWIDTHS];
	if ((rc = get_arr(&l, t, "widths", "trace", TG_NWIDTHS, NULL, wd)))
		goto out;
	for (int i = 0; i < TG_NWIDTHS; i++)
		if (wd[i] != tg_widths[i]) {
			rc = bad(&l, "trace.widths", "expected [128, 64, 32]");
			goto out;
		}
	if ((rc = tg_mlp_layout(&g->mlp, (int)in, TG_CURVE, tg_widths, TG_NWIDTHS, TG_BLOCKS))) {
		snprintf(err, errlen, "%s: out of memory", name);
		goto out;
	}
	if ((rc = get_arr(&l, t, "params", "trace", g->mlp.np, g->mlp.p, NULL)))
		goto out;
out:
	cJSON_Delete(root);
	if (rc) {
		tg_gen_destroy(g);
		return rc;
	}
	*out = g;
	return 0;
}

int tg_gen_load(const char *path, struct tg_gen **out, char *err, size_t errlen)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		int rc = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	char chunk[65536];
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n > ((size_t)1 << 30)) {
			free(buf);
			fclose(f);
			snprintf(err, errlen, "%s: larger than 1 GiB", path);
			return -EFBIG;
		}
		if (len + n > cap) {
			cap = (len + n) * 2;
			char *p = realloc(buf, cap);
			if (!p) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "%s: out of memory", path);
				return -ENOMEM;
			}
			buf = p;
		}
		memcpy(buf + len, chunk, n);
		len += n;
	}
	fclose(f);
	int rc = tg_gen_load_buffer(buf ? buf : "", len, path, out, err, errlen);
	free(buf);
	return rc;
}
