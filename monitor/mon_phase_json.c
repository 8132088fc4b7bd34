/*
 * mon_phase_json.c - the phase model file (format "tierfs-phases",
 * version 1): written atomically, read back with every key, type, size and
 * range checked.  An error names the file and the JSON path of the
 * offending value ("p.json: centroids[2][5]: expected a number, found a
 * string"), as the placement model's loader does.
 *
 * Numbers are the float32 parameters printed by cJSON (shortest text that
 * reads back to the same double), so save, load, save gives the same bytes.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mon_phase_internal.h"

#define PHASE_FORMAT "tierfs-phases"
#define PHASE_MAX_BYTES (64u << 20)

struct jctx {
	const char *file;
	char *err;
	size_t errlen;
};

static int jerr(const struct jctx *j, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int jerr(const struct jctx *j, const char *path, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (j->err && j->errlen)
		snprintf(j->err, j->errlen, "%s: %s: %s", j->file, path, msg);
	return -EINVAL;
}

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

static int get(const struct jctx *j, const cJSON *obj, const char *key, const char *path, const cJSON **out)
{
	*out = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!*out) {
		char p[128];
		snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", key);
		return jerr(j, p, "missing");
	}
	return 0;
}

/* A finite number in [lo, hi] (integral when integral). */
static int num(const struct jctx *j, const cJSON *v, const char *path, double lo, double hi, int integral,
	       double *out)
{
	if (!cJSON_IsNumber(v))
		return jerr(j, path, "expected a number, found %s", type_name(v));
	double d = v->valuedouble;
	if (!isfinite(d) || d < lo || d > hi || (integral && d != floor(d)))
		return jerr(j, path, "%g is not %s in %g..%g", d, integral ? "an integer" : "a number", lo, hi);
	*out = d;
	return 0;
}

static int key_num(const struct jctx *j, const cJSON *obj, const char *key, const char *path, double lo, double hi,
		   int integral, double *out)
{
	const cJSON *v;
	char p[128];
	snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", key);
	int rc = get(j, obj, key, path, &v);
	return rc ? rc : num(j, v, p, lo, hi, integral, out);
}

/* An array of exactly n finite numbers into f (floats) or d (doubles). */
static int vec(const struct jctx *j, const cJSON *a, const char *path, size_t n, double lo, double hi, float *f,
	       double *d)
{
	if (!cJSON_IsArray(a))
		return jerr(j, path, "expected an array, found %s", type_name(a));
	size_t c = (size_t)cJSON_GetArraySize(a);
	if (c != n)
		return jerr(j, path, "%zu items, expected %zu", c, n);
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, a)
	{
		char p[160];
		double x = 0;
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		int rc = num(j, it, p, lo, hi, 0, &x);
		if (rc)
			return rc;
		if (f)
			f[i] = (float)x;
		else
			d[i] = x;
		i++;
	}
	return 0;
}

static int key_vec(const struct jctx *j, const cJSON *obj, const char *key, const char *path, size_t n, double lo,
		   double hi, float *f, double *d)
{
	const cJSON *v;
	char p[128];
	snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", key);
	int rc = get(j, obj, key, path, &v);
	return rc ? rc : vec(j, v, p, n, lo, hi, f, d);
}

/* An array of rows arrays of cols numbers. */
static int key_mat(const struct jctx *j, const cJSON *obj, const char *key, size_t rows, size_t cols, double lo,
		   double hi, float *f, double *d)
{
	const cJSON *v;
	int rc = get(j, obj, key, "", &v);
	if (rc)
		return rc;
	if (!cJSON_IsArray(v))
		return jerr(j, key, "expected an array, found %s", type_name(v));
	if ((size_t)cJSON_GetArraySize(v) != rows)
		return jerr(j, key, "%d rows, expected %zu", cJSON_GetArraySize(v), rows);
	size_t r = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, v)
	{
		char p[64];
		snprintf(p, sizeof(p), "%s[%zu]", key, r);
		if ((rc = vec(j, it, p, cols, lo, hi, f ? f + r * cols : NULL, d ? d + r * cols : NULL)))
			return rc;
		r++;
	}
	return 0;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > MON_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-' || *s == '.'))
			return 0;
	return 1;
}

static int from_json(const struct jctx *j, const cJSON *root, struct mon_phase **out)
{
	const cJSON *v;
	double d;
	int rc;
	if (!cJSON_IsObject(root))
		return jerr(j, "(top)", "expected a JSON object, found %s", type_name(root));
	if ((rc = get(j, root, "format", "", &v)))
		return rc;
	if (!cJSON_IsString(v) || strcmp(v->valuestring, PHASE_FORMAT))
		return jerr(j, "format", "expected \"%s\" (a phase model from tiertrain phases)", PHASE_FORMAT);
	if ((rc = key_num(j, root, "version", "", 1, 1, 1, &d)))
		return rc;
	if ((rc = get(j, root, "tiers", "", &v)))
		return rc;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 || cJSON_GetArraySize(v) > MON_MAX_TIERS)
		return jerr(j, "tiers", "expected an array of 1..%d tier names, found %s", MON_MAX_TIERS, type_name(v));
	const cJSON *tiers = v;
	size_t T = (size_t)cJSON_GetArraySize(tiers);
	double V, H, K, k;
	if ((rc = key_num(j, root, "visible", "", 1, 1e6, 1, &V)) || (rc = key_num(j, root, "hidden", "", 1, MON_PHASE_MAX_HIDDEN, 1, &H)) ||
	    (rc = key_num(j, root, "history", "", 1, MON_PHASE_MAX_HISTORY, 1, &K)) ||
	    (rc = key_num(j, root, "phases", "", 2, MON_PHASE_MAX_K, 1, &k)))
		return rc;
	if ((size_t)V != MON_PHASE_V(T))
		return jerr(j, "visible", "%g units, expected %zu for %zu tiers", V, (size_t)MON_PHASE_V(T), T);
	struct mon_phase *ph;
	if (mon_phase_alloc(&ph, T, (size_t)V, (size_t)H, (size_t)K, (size_t)k) != 0)
		return -ENOMEM;
	size_t nv = (size_t)V, nh = (size_t)H, C = ph->crbm.C, nk = (size_t)k;
	size_t i = 0;
	cJSON_ArrayForEach(v, tiers)
	{
		char p[64];
		snprintf(p, sizeof(p), "tiers[%zu]", i);
		if (!cJSON_IsString(v) || !valid_name(v->valuestring)) {
			rc = jerr(j, p, "expected a tier name (letters, digits, '_', '-', '.'; at most %d), found %s",
				  MON_NAME_MAX, cJSON_IsString(v) ? "a bad one" : type_name(v));
			goto fail;
		}
		snprintf(ph->tier_names[i], sizeof(ph->tier_names[i]), "%s", v->valuestring);
		i++;
	}
	double hy, nt;
	const double big = 1e30;
	if ((rc = key_num(j, root, "tick_s", "", 1e-6, 86400, 0, &ph->tick_s)) ||
	    (rc = key_num(j, root, "hysteresis", "", 1, 1000, 1, &hy)) ||
	    (rc = key_num(j, root, "novelty_ticks", "", 1, 1e6, 1, &nt)) ||
	    (rc = key_num(j, root, "novelty_distance", "", 0, big, 0, &ph->novelty_dist)) ||
	    (rc = key_vec(j, root, "frame_mean", "", nv, -big, big, ph->mean, NULL)) ||
	    (rc = key_vec(j, root, "frame_std", "", nv, 1e-12, big, ph->std, NULL)) ||
	    (rc = key_vec(j, root, "hidden_weights", "", nh * (nv + C), -big, big, ph->crbm.Wh, NULL)) ||
	    (rc = key_vec(j, root, "visible_weights", "", nv * C, -big, big, ph->crbm.A, NULL)) ||
	    (rc = key_vec(j, root, "visible_bias", "", nv, -big, big, ph->crbm.bv, NULL)) ||
	    (rc = key_vec(j, root, "hidden_bias", "", nh, -big, big, ph->crbm.bh, NULL)) ||
	    (rc = key_vec(j, root, "activation_mean", "", nh, 0, 1, ph->act_mean, NULL)) ||
	    (rc = key_vec(j, root, "activation_std", "", nh, 1e-12, big, ph->act_std, NULL)) ||
	    (rc = key_mat(j, root, "centroids", nk, nh, -big, big, ph->centroids, NULL)) ||
	    (rc = key_mat(j, root, "transitions", nk, nk, 0, 1, NULL, ph->trans)))
		goto fail;
	ph->hysteresis = (unsigned)hy;
	ph->novelty_ticks = (unsigned)nt;
	for (size_t r = 0; r < nk; r++) {
		double s = 0;
		for (size_t c = 0; c < nk; c++)
			s += ph->trans[r * nk + c];
		if (fabs(s - 1) > 1e-6) {
			char p[64];
			snprintf(p, sizeof(p), "transitions[%zu]", r);
			rc = jerr(j, p, "probabilities sum to %.9g, expected 1", s);
			goto fail;
		}
	}
	const cJSON *profs;
	if ((rc = get(j, root, "profiles", "", &profs)))
		goto fail;
	if (!cJSON_IsArray(profs) || (size_t)cJSON_GetArraySize(profs) != nk) {
		rc = jerr(j, "profiles", "expected an array of %zu profiles (one per phase), found %s", nk, type_name(profs));
		goto fail;
	}
	i = 0;
	cJSON_ArrayForEach(v, profs)
	{
		char p[64];
		snprintf(p, sizeof(p), "profiles[%zu]", i);
		struct mon_phase_profile *pr = &ph->prof[i++];
		double fr, vi;
		if (!cJSON_IsObject(v)) {
			rc = jerr(j, p, "expected an object, found %s", type_name(v));
			goto fail;
		}
		if ((rc = key_num(j, v, "frames", p, 0, 9e15, 1, &fr)) || (rc = key_num(j, v, "share", p, 0, 1, 0, &pr->share)) ||
		    (rc = key_num(j, v, "visits", p, 0, 9e15, 1, &vi)) ||
		    (rc = key_num(j, v, "dwell_mean_s", p, 0, big, 0, &pr->dwell_mean_s)) ||
		    (rc = key_num(j, v, "dwell_q50_s", p, 0, big, 0, &pr->dwell_q50_s)) ||
		    (rc = key_num(j, v, "dwell_max_s", p, 0, big, 0, &pr->dwell_max_s)) ||
		    (rc = key_vec(j, v, "fill_q50", p, T, -big, big, NULL, pr->fill_q50)) ||
		    (rc = key_vec(j, v, "fill_q95", p, T, -big, big, NULL, pr->fill_q95)) ||
		    (rc = key_vec(j, v, "write_q50", p, T, 0, big, NULL, pr->write_q50)) ||
		    (rc = key_vec(j, v, "write_q95", p, T, 0, big, NULL, pr->write_q95)) ||
		    (rc = key_vec(j, v, "read_q50", p, T, 0, big, NULL, pr->read_q50)) ||
		    (rc = key_vec(j, v, "read_q95", p, T, 0, big, NULL, pr->read_q95)))
			goto fail;
		pr->frames = (uint64_t)fr;
		pr->visits = (uint64_t)vi;
	}
	/* "training" is a record of how the model was made: optional. */
	const cJSON *tr = cJSON_GetObjectItemCaseSensitive(root, "training");
	if (tr) {
		double e1, e2, w, er;
		const cJSON *ho = cJSON_GetObjectItemCaseSensitive(tr, "holdout_error");
		if (!cJSON_IsObject(tr)) {
			rc = jerr(j, "training", "expected an object, found %s", type_name(tr));
			goto fail;
		}
		if ((rc = key_num(j, tr, "epochs_run", "training", 0, 1e9, 1, &e1)) ||
		    (rc = key_num(j, tr, "best_epoch", "training", 0, 1e9, 1, &e2)) ||
		    (rc = key_num(j, tr, "train_error", "training", 0, big, 0, &er)) ||
		    (rc = key_num(j, tr, "silhouette", "training", -1, 1, 0, &ph->info.silhouette)) ||
		    (rc = key_num(j, tr, "windows", "training", 0, 9e15, 1, &w)))
			goto fail;
		ph->info.epochs_run = (unsigned)e1, ph->info.best_epoch = (unsigned)e2;
		ph->info.train_error = er, ph->info.windows = (size_t)w;
		ph->info.holdout_error = NAN;
		if (ho && !cJSON_IsNull(ho) &&
		    (rc = num(j, ho, "training.holdout_error", 0, big, 0, &ph->info.holdout_error)))
			goto fail;
		const cJSON *sd = cJSON_GetObjectItemCaseSensitive(tr, "seed");
		if (cJSON_IsString(sd))
			ph->info.seed = strtoull(sd->valuestring, NULL, 10);
	}
	*out = ph;
	return 0;
fail:
	mon_phase_destroy(ph);
	return rc;
}

/* ---- writing ----------------------------------------------------------------- */

static cJSON *farr(const float *f, const double *d, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < n; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateNumber(f ? (double)f[i] : d[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

static cJSON *fmat(const float *f, const double *d, size_t rows, size_t cols)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t r = 0; a && r < rows; r++)
		if (!cJSON_AddItemToArray(a, farr(f ? f + r * cols : NULL, d ? d + r * cols : NULL, cols))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

/* cJSON_Add*ToObject with a value built by the caller: NULL values fail. */
static int put(cJSON *o, const char *key, cJSON *v)
{
	if (!v)
		return 0;
	if (!cJSON_AddItemToObject(o, key, v)) {
		cJSON_Delete(v);
		return 0;
	}
	return 1;
}

static cJSON *to_json(const struct mon_phase *ph)
{
	const struct mon_crbm *m = &ph->crbm;
	size_t T = ph->ntiers, k = ph->k;
	cJSON *root = cJSON_CreateObject(), *tiers = cJSON_CreateArray(), *profs = cJSON_CreateArray();
	cJSON *tr = cJSON_CreateObject();
	int ok = root && tiers && profs && tr;
	for (size_t t = 0; ok && t < T; t++)
		ok = cJSON_AddItemToArray(tiers, cJSON_CreateString(ph->tier_names[t]));
	char seed[32];
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)ph->info.seed);
	ok = ok && cJSON_AddStringToObject(root, "format", PHASE_FORMAT) && cJSON_AddNumberToObject(root, "version", 1) &&
	     put(root, "tiers", tiers) && cJSON_AddNumberToObject(root, "visible", (double)m->V) &&
	     cJSON_AddNumberToObject(root, "hidden", (double)m->H) &&
	     cJSON_AddNumberToObject(root, "history", (double)m->K) && cJSON_AddNumberToObject(root, "phases", (double)k) &&
	     cJSON_AddNumberToObject(root, "tick_s", ph->tick_s) &&
	     cJSON_AddNumberToObject(root, "hysteresis", ph->hysteresis) &&
	     cJSON_AddNumberToObject(root, "novelty_ticks", ph->novelty_ticks) &&
	     cJSON_AddNumberToObject(root, "novelty_distance", ph->novelty_dist) &&
	     put(root, "frame_mean", farr(ph->mean, NULL, m->V)) && put(root, "frame_std", farr(ph->std, NULL, m->V)) &&
	     put(root, "hidden_weights", farr(m->Wh, NULL, m->H * (m->V + m->C))) &&
	     put(root, "visible_weights", farr(m->A, NULL, m->V * m->C)) &&
	     put(root, "visible_bias", farr(m->bv, NULL, m->V)) && put(root, "hidden_bias", farr(m->bh, NULL, m->H)) &&
	     put(root, "activation_mean", farr(ph->act_mean, NULL, m->H)) &&
	     put(root, "activation_std", farr(ph->act_std, NULL, m->H)) &&
	     put(root, "centroids", fmat(ph->centroids, NULL, k, m->H)) &&
	     put(root, "transitions", fmat(NULL, ph->trans, k, k));
	tiers = NULL;
	for (size_t i = 0; ok && i < k; i++) {
		const struct mon_phase_profile *pr = &ph->prof[i];
		cJSON *o = cJSON_CreateObject();
		ok = o && cJSON_AddItemToArray(profs, o);
		if (!ok) {
			cJSON_Delete(o);
			break;
		}
		ok = cJSON_AddNumberToObject(o, "frames", (double)pr->frames) && cJSON_AddNumberToObject(o, "share", pr->share) &&
		     cJSON_AddNumberToObject(o, "visits", (double)pr->visits) &&
		     cJSON_AddNumberToObject(o, "dwell_mean_s", pr->dwell_mean_s) &&
		     cJSON_AddNumberToObject(o, "dwell_q50_s", pr->dwell_q50_s) &&
		     cJSON_AddNumberToObject(o, "dwell_max_s", pr->dwell_max_s) &&
		     put(o, "fill_q50", farr(NULL, pr->fill_q50, T)) && put(o, "fill_q95", farr(NULL, pr->fill_q95, T)) &&
		     put(o, "write_q50", farr(NULL, pr->write_q50, T)) && put(o, "write_q95", farr(NULL, pr->write_q95, T)) &&
		     put(o, "read_q50", farr(NULL, pr->read_q50, T)) && put(o, "read_q95", farr(NULL, pr->read_q95, T));
	}
	ok = ok && put(root, "profiles", profs);
	profs = NULL;
	ok = ok && cJSON_AddNumberToObject(tr, "epochs_run", ph->info.epochs_run) &&
	     cJSON_AddNumberToObject(tr, "best_epoch", ph->info.best_epoch) &&
	     cJSON_AddNumberToObject(tr, "train_error", ph->info.train_error) &&
	     (isfinite(ph->info.holdout_error) ? cJSON_AddNumberToObject(tr, "holdout_error", ph->info.holdout_error) != NULL
					       : cJSON_AddNullToObject(tr, "holdout_error") != NULL) &&
	     cJSON_AddNumberToObject(tr, "silhouette", ph->info.silhouette) &&
	     cJSON_AddNumberToObject(tr, "windows", (double)ph->info.windows) && cJSON_AddStringToObject(tr, "seed", seed) &&
	     put(root, "training", tr);
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

int mon_phase_save(const struct mon_phase *ph, const char *path, char *err, size_t errlen)
{
	cJSON *root = to_json(ph);
	char *text = root ? cJSON_Print(root) : NULL;
	cJSON_Delete(root);
	if (!text) {
		snprintf(err, errlen, "%s: out of memory building the phase model", path);
		return -ENOMEM;
	}
	size_t len = strlen(text), tlen = strlen(path) + 32;
	char *tmp = malloc(tlen);
	int rc = 0, fd = -1;
	if (!tmp) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	snprintf(tmp, tlen, "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
		goto out;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = w < 0 ? -errno : -EIO;
			snprintf(err, errlen, "%s: write failed: %s", tmp, strerror(-rc));
			goto out;
		}
		off += (size_t)w;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) < 0 || close(fd) < 0) {
		rc = -errno;
		fd = -1;
		snprintf(err, errlen, "%s: write failed: %s", tmp, strerror(-rc));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot rename into place: %s", path, strerror(-rc));
	}
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0 && tmp)
		unlink(tmp);
	free(tmp);
	cJSON_free(text);
	return rc;
}

int mon_phase_load(const char *path, struct mon_phase **out, char *err, size_t errlen)
{
	struct jctx j = {path, err, errlen};
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PHASE_MAX_BYTES) {
		fclose(f);
		snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path, PHASE_MAX_BYTES);
		return -EINVAL;
	}
	size_t len = (size_t)st.st_size;
	char *buf = malloc(len + 1);
	if (!buf || fread(buf, 1, len, f) != len) {
		int e = buf ? (ferror(f) ? EIO : EINVAL) : ENOMEM;
		fclose(f);
		free(buf);
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
		return -e;
	}
	fclose(f);
	buf[len] = 0;
	if (len == 0) {
		free(buf);
		snprintf(err, errlen, "%s: empty file, expected a JSON phase model", path);
		return -EINVAL;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (!root) {
		size_t off = end && end >= buf ? (size_t)(end - buf) : 0, line = 1;
		for (size_t i = 0; i < off && i < len; i++)
			line += buf[i] == '\n';
		if (off + 64 >= len)
			snprintf(err, errlen, "%s: JSON ends early at byte %zu (truncated file?)", path, len);
		else
			snprintf(err, errlen, "%s:%zu: invalid JSON near byte %zu", path, line, off);
		free(buf);
		return -EINVAL;
	}
	free(buf);
	int rc = from_json(&j, root, out);
	cJSON_Delete(root);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
	return rc;
}
