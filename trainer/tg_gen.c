/*
 * tg_gen.c - fitting, storing and sampling the trace generator
 * (tracegen.h): per class a feature generator of each kind and the mean
 * curve, one MLP trace generator over all classes.
 *
 * Feature space: tg_features() takes log1p of every count, byte and
 * second (the sequential fraction stays as it is) and scales each feature
 * to [0,1] by the training set's range.  Per class the real vectors are
 * standardised (mu, sigma); the jitter baseline is a Gaussian kernel
 * density there (bandwidth h by Scott's rule) and the flow is trained by
 * reverse KL against that same density, starting from and sampled with
 * the same base N(0, I) (the original trained on N(0, 0.01^2 I) and
 * sampled N(0, I)).  The Gaussian FG uses the class covariance in scaled
 * space, factored with LAPACK spotrf.
 *
 * The trace generator maps [scaled features, one-hot class] to the 40
 * curve points of the same file, trained by Adam on the binary
 * cross-entropy of its sigmoid outputs (squared error's gradient vanishes
 * at the 0s and 1s of the curves), on mini-batches drawn
 * with probability half uniform, half proportional to each file's last
 * measured error (re-measured every resample_every epochs).
 */
#include "tg_internal.h"

#include <cJSON.h>
#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define D TG_NFEAT
#define KDE_MAX_POINTS 1000
#define SIGMA_FLOOR 0.02

const int tg_widths[TG_NWIDTHS] = {128, 64, 32};

const char *tg_fg_name(enum tg_fg_kind k)
{
	static const char *const names[] = {"jitter", "flow", "gauss"};
	return k < TG_FG_NKINDS ? names[k] : "?";
}

int tg_fg_parse(const char *name, enum tg_fg_kind *out)
{
	for (int k = 0; k < TG_FG_NKINDS; k++)
		if (strcmp(name, tg_fg_name((enum tg_fg_kind)k)) == 0) {
			*out = (enum tg_fg_kind)k;
			return 0;
		}
	return -EINVAL;
}

void tg_fit_options_default(struct tg_fit_options *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->epochs = 300;
	o->batch = 32;
	o->lr = 1e-3f;
	o->resample_every = 25;
	o->flow_layers = 10;
	o->flow_iters = 1500;
}

static void raw_features(const struct tg_record *r, double *f)
{
	for (int i = 0; i < TG_NV; i++)
		f[i] = log1p(r->v[i] > 0 ? r->v[i] : 0);
	const double c[7] = {(double)r->size,	(double)r->bytes_read, (double)r->bytes_written, (double)r->reads,
			     (double)r->writes, (double)r->opens,      r->lifetime};
	for (int i = 0; i < 7; i++)
		f[TG_NV + i] = log1p(c[i]);
	f[TG_NV + 7] = r->seq_frac;
	for (int i = 0; i < TG_HIST; i++) {
		f[TG_NV + 8 + i] = log1p((double)r->read_hist[i]);
		f[TG_NV + 8 + TG_HIST + i] = log1p((double)r->write_hist[i]);
	}
}

void tg_features(const struct tg_gen *g, const struct tg_record *r, float *x)
{
	double f[D];
	raw_features(r, f);
	for (int i = 0; i < D; i++) {
		if (!g) {
			x[i] = (float)f[i];
			continue;
		}
		double range = g->fmax[i] - g->fmin[i];
		double v = range > 0 ? (f[i] - g->fmin[i]) / range : 0;
		x[i] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
	}
}

size_t tg_gen_class_count(const struct tg_gen *g)
{
	return g->nclass;
}
const char *tg_gen_class_name(const struct tg_gen *g, size_t c)
{
	return c < g->nclass ? g->cls[c].name : NULL;
}
size_t tg_gen_class_records(const struct tg_gen *g, size_t c)
{
	return c < g->nclass ? g->cls[c].n : 0;
}
int tg_gen_class_index(const struct tg_gen *g, const char *name)
{
	for (size_t c = 0; c < g->nclass; c++)
		if (strcmp(g->cls[c].name, name) == 0)
			return (int)c;
	return -1;
}
int tg_gen_has_jitter(const struct tg_gen *g)
{
	return g->nclass > 0 && g->cls[0].real != NULL;
}

struct tg_gen *tg_gen_alloc(size_t nclass)
{
	struct tg_gen *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->cls = calloc(nclass ? nclass : 1, sizeof(*g->cls));
	if (!g->cls) {
		free(g);
		return NULL;
	}
	g->nclass = nclass;
	return g;
}

void tg_gen_destroy(struct tg_gen *g)
{
	if (!g)
		return;
	for (size_t c = 0; c < g->nclass; c++) {
		tg_flow_free(&g->cls[c].flow);
		free(g->cls[c].real);
	}
	free(g->cls);
	tg_mlp_free(&g->mlp);
	free(g);
}

/* ---- sampling -------------------------------------------------------------- */

/* Into [0,1]; NaN (a generator file with absurd weights) becomes 0. */
static float clip01(double v)
{
	return (float)(!(v > 0) ? 0 : v > 1 ? 1 : v);
}

int tg_gen_sample_features(const struct tg_gen *g, size_t c, enum tg_fg_kind k, uint64_t *rng, size_t n, float *x)
{
	if (c >= g->nclass)
		return -ERANGE;
	const struct tg_class_model *m = &g->cls[c];
	if (k == TG_FG_JITTER && !m->real)
		return -ENOTSUP;
	double z[D], y[D];
	for (size_t s = 0; s < n; s++) {
		float *o = x + s * D;
		for (int i = 0; i < D; i++)
			z[i] = tg_rand_normal(rng);
		switch (k) {
		case TG_FG_JITTER: {
			const float *r = m->real + (tg_rand_u64(rng) % m->n) * D;
			for (int i = 0; i < D; i++)
				o[i] = clip01(r[i] + m->sigma[i] * m->h * z[i]);
			break;
		}
		case TG_FG_FLOW:
			tg_flow_forward(&m->flow, z, y);
			for (int i = 0; i < D; i++)
				o[i] = clip01(m->mu[i] + m->sigma[i] * y[i]);
			break;
		case TG_FG_GAUSS:
			for (int i = 0; i < D; i++) {
				double v = m->gmean[i];
				for (int j = 0; j <= i; j++)
					v += (double)m->gchol[j * D + i] * z[j];
				o[i] = clip01(v);
			}
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

static void tg_input(const struct tg_gen *g, size_t c, const float *x, float *in)
{
	memcpy(in, x, D * sizeof(float));
	for (size_t k = 0; k < g->nclass; k++)
		in[D + k] = k == c ? 1.0f : 0.0f;
}

int tg_gen_curves(const struct tg_gen *g, size_t c, const float *x, size_t n, float *curves)
{
	if (c >= g->nclass)
		return -ERANGE;
	size_t in = D + g->nclass;
	float *X = malloc((n ? n : 1) * in * sizeof(float));
	if (!X)
		return -ENOMEM;
	for (size_t s = 0; s < n; s++)
		tg_input(g, c, x + s * D, X + s * in);
	int rc = n ? tg_mlp_forward(&g->mlp, X, (int)n, curves) : 0;
	free(X);
	return rc;
}

static uint64_t unscale_count(const struct tg_gen *g, const float *x, int i)
{
	double f = g->fmin[i] + (double)x[i] * (g->fmax[i] - g->fmin[i]);
	double v = expm1(f);
	return v > 0 ? v < 1e18 ? (uint64_t)llround(v) : (uint64_t)1e18 : 0;
}

void tg_gen_decode_record(const struct tg_gen *g, size_t c, const float *x, const float *curves,
			  struct tg_record *r)
{
	memset(r, 0, sizeof(*r));
	if (c < g->nclass)
		memcpy(r->cls, g->cls[c].name, TG_CLASS_MAX);
	for (int i = 0; i < TG_NV; i++)
		r->v[i] = (double)unscale_count(g, x, i);
	uint64_t *ints[6] = {&r->size, &r->bytes_read, &r->bytes_written, &r->reads, &r->writes, &r->opens};
	for (int i = 0; i < 6; i++)
		*ints[i] = unscale_count(g, x, TG_NV + i);
	r->lifetime = expm1(g->fmin[TG_NV + 6] + (double)x[TG_NV + 6] * (g->fmax[TG_NV + 6] - g->fmin[TG_NV + 6]));
	if (r->lifetime < 0)
		r->lifetime = 0;
	r->seq_frac = g->fmin[TG_NV + 7] + (double)x[TG_NV + 7] * (g->fmax[TG_NV + 7] - g->fmin[TG_NV + 7]);
	r->seq_frac = r->seq_frac < 0 ? 0 : r->seq_frac > 1 ? 1 : r->seq_frac;
	for (int i = 0; i < TG_HIST; i++) {
		r->read_hist[i] = unscale_count(g, x, TG_NV + 8 + i);
		r->write_hist[i] = unscale_count(g, x, TG_NV + 8 + TG_HIST + i);
	}
	/* Make the pieces agree: a direction with no requests or no bytes has
	 * neither, and a histogram sums to its request count. */
	uint64_t *ops[2] = {&r->reads, &r->writes}, *bytes[2] = {&r->bytes_read, &r->bytes_written};
	uint64_t *hist[2] = {r->read_hist, r->write_hist};
	for (int d = 0; d < 2; d++) {
		if (!*ops[d] || !*bytes[d]) {
			*ops[d] = *bytes[d] = 0;
			memset(hist[d], 0, TG_HIST * sizeof(uint64_t));
			for (int i = 0; i < TG_BINS; i++)
				r->curve[d * TG_BINS + i] = 0;
			continue;
		}
		for (int i = 0; i < TG_BINS; i++)
			r->curve[d * TG_BINS + i] = curves ? clip01(curves[d * TG_BINS + i]) : 1.0f;
		uint64_t hs = 0;
		for (int i = 0; i < TG_HIST; i++)
			hs += hist[d][i];
		if (!hs)
			hist[d][tg_hist_bucket(*bytes[d] / *ops[d])] = *ops[d];
	}
	if (!r->opens)
		r->opens = 1;
	if (r->size < r->bytes_written && !r->bytes_read)
		r->size = r->bytes_written;
	if (!r->v[4])
		r->v[5] = r->v[6] = -1;
	if (r->v[6] < r->v[5])
		r->v[6] = r->v[5];
}

/* ---- fitting --------------------------------------------------------------- */

struct kde {
	const double *pts; /* n x D standardised */
	int n;
	double h;
};

static double kde_logp(void *ud, const double *x, double *grad)
{
	const struct kde *k = ud;
	double mx = -INFINITY;
	double *lw = malloc((size_t)k->n * sizeof(double));
	if (!lw)
		return NAN;
	double inv = 1.0 / (2 * k->h * k->h);
	for (int i = 0; i < k->n; i++) {
		const double *p = k->pts + (size_t)i * D;
		double s = 0;
		for (int j = 0; j < D; j++)
			s += (x[j] - p[j]) * (x[j] - p[j]);
		lw[i] = -s * inv;
		if (lw[i] > mx)
			mx = lw[i];
	}
	double sum = 0;
	for (int i = 0; i < k->n; i++) {
		lw[i] = exp(lw[i] - mx);
		sum += lw[i];
	}
	if (grad) {
		for (int j = 0; j < D; j++)
			grad[j] = 0;
		for (int i = 0; i < k->n; i++) {
			const double *p = k->pts + (size_t)i * D;
			double w = lw[i] / sum / (k->h * k->h);
			for (int j = 0; j < D; j++)
				grad[j] += w * (p[j] - x[j]);
		}
	}
	free(lw);
	return mx + log(sum) - log((double)k->n) - D * log(k->h * sqrt(2 * M_PI));
}

/* Adam on doubles, for the flow. */
static void adam_d(double *p, const double *g, double *m, double *v, size_t n, long t, double lr)
{
	double c1 = 1 - pow(0.9, (double)t), c2 = 1 - pow(0.999, (double)t);
	for (size_t i = 0; i < n; i++) {
		m[i] = 0.9 * m[i] + 0.1 * g[i];
		v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
		p[i] -= lr * (m[i] / c1) / (sqrt(v[i] / c2) + 1e-8);
	}
}

static int fit_flow(struct tg_class_model *m, const float *X, const size_t *idx, const struct tg_fit_options *o,
		    uint64_t *rng)
{
	int rc = tg_flow_alloc(&m->flow, D, o->flow_layers);
	if (rc)
		return rc;
	for (size_t i = 0; i < (size_t)D * o->flow_layers; i++) {
		m->flow.u[i] = 0.02 * (2 * tg_rand_unif(rng) - 1);
		m->flow.w[i] = 0.02 * (2 * tg_rand_unif(rng) - 1);
	}
	int np = m->n < KDE_MAX_POINTS ? (int)m->n : KDE_MAX_POINTS;
	size_t nparam = 2 * (size_t)D * o->flow_layers + (size_t)o->flow_layers;
	double *pts = malloc((size_t)np * D * sizeof(double));
	double *work = calloc(4 * nparam + 32 * D, sizeof(double));
	if (!pts || !work) {
		free(pts);
		free(work);
		return -ENOMEM;
	}
	for (int i = 0; i < np; i++) {
		size_t r = m->n <= KDE_MAX_POINTS ? (size_t)i : tg_rand_u64(rng) % m->n;
		for (int j = 0; j < D; j++)
			pts[(size_t)i * D + j] = ((double)X[idx[r] * D + j] - m->mu[j]) / m->sigma[j];
	}
	struct kde k = {pts, np, m->h};
	double *grad = work, *am = work + nparam, *av = work + 2 * nparam, *params = work + 3 * nparam;
	double *Z = work + 4 * nparam;
	size_t ku = (size_t)D * o->flow_layers;
	const int batch = 32;
	for (long it = 1; it <= o->flow_iters; it++) {
		for (int i = 0; i < batch * D; i++)
			Z[i] = tg_rand_normal(rng);
		tg_flow_kl(&m->flow, Z, batch, kde_logp, &k, grad, grad + ku, grad + 2 * ku);
		memcpy(params, m->flow.u, ku * sizeof(double));
		memcpy(params + ku, m->flow.w, ku * sizeof(double));
		memcpy(params + 2 * ku, m->flow.b, (size_t)o->flow_layers * sizeof(double));
		adam_d(params, grad, am, av, nparam, it, 2e-3);
		memcpy(m->flow.u, params, ku * sizeof(double));
		memcpy(m->flow.w, params + ku, ku * sizeof(double));
		memcpy(m->flow.b, params + 2 * ku, (size_t)o->flow_layers * sizeof(double));
	}
	free(pts);
	free(work);
	return 0;
}

extern void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);

static int fit_gauss(struct tg_class_model *m, const float *X, const size_t *idx)
{
	double cov[D * D] = {0};
	for (int j = 0; j < D; j++) {
		double s = 0;
		for (size_t r = 0; r < m->n; r++)
			s += X[idx[r] * D + j];
		m->gmean[j] = (float)(s / (double)m->n);
	}
	for (size_t r = 0; r < m->n; r++)
		for (int i = 0; i < D; i++)
			for (int j = 0; j <= i; j++)
				cov[i * D + j] += ((double)X[idx[r] * D + i] - m->gmean[i]) *
						  ((double)X[idx[r] * D + j] - m->gmean[j]);
	for (int i = 0; i < D; i++)
		for (int j = 0; j <= i; j++) {
			double v = cov[i * D + j] / (double)(m->n > 1 ? m->n - 1 : 1);
			if (i == j)
				v += SIGMA_FLOOR * SIGMA_FLOOR * 0.25 + 1e-6;
			m->gchol[j * D + i] = m->gchol[i * D + j] = (float)v;
		}
	int n = D, info = 0;
	spotrf_("L", &n, m->gchol, &n, &info);
	if (info != 0)
		return -EDOM;
	/* Fortran's lower triangle is row-major's upper: zero the rest. */
	for (int i = 0; i < D; i++)
		for (int j = 0; j < i; j++)
			m->gchol[i * D + j] = 0;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void progress(const struct tg_fit_options *o, const char *stage, long done, long total)
{
	if (o->progress)
		o->progress(o->progress_ud, stage, done, total);
}

static int fit_tg(struct tg_gen *g, const struct tg_records *rs, const float *X, const size_t *cls_of,
		  const struct tg_fit_options *o, uint64_t *rng)
{
	size_t N = rs->n, in = D + g->nclass;
	int rc = tg_mlp_init(&g->mlp, (int)in, TG_CURVE, tg_widths, TG_NWIDTHS, TG_BLOCKS, rng);
	if (rc)
		return rc;
	g->mlp.bce = 1;
	int B = o->batch;
	float *XI = malloc(N * in * sizeof(float));
	float *bx = malloc((size_t)B * in * sizeof(float)), *bt = malloc((size_t)B * TG_CURVE * sizeof(float));
	float *grad = malloc(g->mlp.np * sizeof(float)), *err = malloc(N * sizeof(float));
	double *cum = malloc(N * sizeof(double));
	float *Y = malloc(N * TG_CURVE * sizeof(float)), *T = malloc(N * TG_CURVE * sizeof(float));
	struct tg_adam adam = {0};
	if (!XI || !bx || !bt || !grad || !err || !cum || !Y || !T || tg_adam_init(&adam, g->mlp.np, o->lr)) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < N; i++) {
		tg_input(g, cls_of[i], X + i * D, XI + i * in);
		memcpy(T + i * TG_CURVE, rs->r[i].curve, sizeof(rs->r[i].curve));
	}
	for (size_t i = 0; i < N; i++)
		cum[i] = (double)(i + 1) / (double)N;
	size_t steps = (N + (size_t)B - 1) / (size_t)B;
	for (int ep = 0; ep < o->epochs; ep++) {
		if (ep > 0 && ep % o->resample_every == 0) {
			/* Error-weighted resampling on each file's own curve. */
			float loss = tg_mlp_loss_grad(&g->mlp, XI, T, (int)N, NULL, err);
			if (isnan(loss)) {
				rc = -ENOMEM;
				goto out;
			}
			double se = 0, acc = 0;
			for (size_t i = 0; i < N; i++)
				se += err[i];
			for (size_t i = 0; i < N; i++) {
				acc += 0.5 / (double)N + (se > 0 ? 0.5 * err[i] / se : 0.5 / (double)N);
				cum[i] = acc;
			}
		}
		for (size_t s = 0; s < steps; s++) {
			for (int b = 0; b < B; b++) {
				double u = tg_rand_unif(rng) * cum[N - 1];
				size_t lo = 0, hi = N - 1;
				while (lo < hi) {
					size_t mid = (lo + hi) / 2;
					if (cum[mid] > u)
						hi = mid;
					else
						lo = mid + 1;
				}
				memcpy(bx + (size_t)b * in, XI + lo * in, in * sizeof(float));
				memcpy(bt + (size_t)b * TG_CURVE, T + lo * TG_CURVE, TG_CURVE * sizeof(float));
			}
			if (isnan(tg_mlp_loss_grad(&g->mlp, bx, bt, B, grad, NULL))) {
				rc = -ENOMEM;
				goto out;
			}
			tg_adam_step(&adam, g->mlp.p, grad);
		}
		progress(o, "trace generator", ep + 1, o->epochs);
	}
out:
	tg_adam_free(&adam);
	free(XI);
	free(bx);
	free(bt);
	free(grad);
	free(err);
	free(cum);
	free(Y);
	free(T);
	return rc;
}

int tg_fit(const struct tg_records *rs, const struct tg_fit_options *opt, struct tg_gen **out, char *err,
	   size_t errlen)
{
	struct tg_fit_options o;
	tg_fit_options_default(&o);
	if (opt) {
		o = *opt;
		struct tg_fit_options d;
		tg_fit_options_default(&d);
		if (o.epochs <= 0)
			o.epochs = d.epochs;
		if (o.batch <= 0)
			o.batch = d.batch;
		if (!(o.lr > 0))
			o.lr = d.lr;
		if (o.resample_every <= 0)
			o.resample_every = d.resample_every;
		if (o.flow_layers <= 0)
			o.flow_layers = d.flow_layers;
		if (o.flow_iters <= 0)
			o.flow_iters = d.flow_iters;
	}
	*out = NULL;
	if (rs->n < 2) {
		snprintf(err, errlen, "need at least 2 records to fit a generator, got %zu", rs->n);
		return -EINVAL;
	}
	uint64_t rng = o.seed ^ 0x7472616365676e31ULL;
	const char **names = malloc(rs->n * sizeof(*names));
	float *X = malloc(rs->n * D * sizeof(float));
	size_t *cls_of = malloc(rs->n * sizeof(size_t)), *idx = malloc(rs->n * sizeof(size_t));
	struct tg_gen *g = NULL;
	int rc = -ENOMEM;
	if (!names || !X || !cls_of || !idx)
		goto fail;
	for (size_t i = 0; i < rs->n; i++)
		names[i] = rs->r[i].cls;
	qsort(names, rs->n, sizeof(*names), cmp_str);
	size_t nc = 0;
	for (size_t i = 0; i < rs->n; i++)
		if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
			names[nc++] = names[i];
	if (!(g = tg_gen_alloc(nc)))
		goto fail;
	g->seed = o.seed;
	for (size_t c = 0; c < nc; c++)
		memcpy(g->cls[c].name, names[c], TG_CLASS_MAX);
	for (int j = 0; j < D; j++) {
		g->fmin[j] = INFINITY;
		g->fmax[j] = -INFINITY;
	}
	double f[D];
	size_t nwf = 0;
	for (size_t i = 0; i < rs->n; i++) {
		raw_features(&rs->r[i], f);
		for (int j = 0; j < D; j++) {
			g->fmin[j] = fmin(g->fmin[j], f[j]);
			g->fmax[j] = fmax(g->fmax[j], f[j]);
		}
		cls_of[i] = (size_t)tg_gen_class_index(g, rs->r[i].cls);
		g->cls[cls_of[i]].n++;
		size_t k = 0;
		while (k < i && rs->r[k].workflow != rs->r[i].workflow)
			k++;
		nwf += k == i;
	}
	g->files_per_workflow = (double)rs->n / (double)nwf;
	for (size_t i = 0; i < rs->n; i++)
		tg_features(g, &rs->r[i], X + i * D);
	for (size_t c = 0; c < nc; c++) {
		struct tg_class_model *m = &g->cls[c];
		size_t n = 0;
		for (size_t i = 0; i < rs->n; i++)
			if (cls_of[i] == c) {
				idx[n++] = i;
				for (int k = 0; k < TG_CURVE; k++)
					m->mean_curve[k] += rs->r[i].curve[k];
			}
		for (int k = 0; k < TG_CURVE; k++)
			m->mean_curve[k] /= (float)n;
		for (int j = 0; j < D; j++) {
			double s = 0, s2 = 0;
			for (size_t r = 0; r < n; r++)
				s += X[idx[r] * D + j];
			m->mu[j] = s / (double)n;
			for (size_t r = 0; r < n; r++)
				s2 += (X[idx[r] * D + j] - m->mu[j]) * (X[idx[r] * D + j] - m->mu[j]);
			m->sigma[j] = fmax(sqrt(s2 / (double)(n > 1 ? n - 1 : 1)), SIGMA_FLOOR);
		}
		m->h = pow((double)n, -1.0 / (D + 4));
		if ((rc = fit_gauss(m, X, idx))) {
			snprintf(err, errlen, "class '%s': covariance not positive definite (spotrf)", m->name);
			goto fail;
		}
		if ((rc = fit_flow(m, X, idx, &o, &rng)))
			goto fail;
		if (o.keep_real) {
			if (!(m->real = malloc(n * D * sizeof(float)))) {
				rc = -ENOMEM;
				goto fail;
			}
			for (size_t r = 0; r < n; r++)
				memcpy(m->real + r * D, X + idx[r] * D, D * sizeof(float));
		}
		progress(&o, "feature generators", (long)c + 1, (long)nc);
	}
	/* Batches of 32 rows: OpenBLAS threads would only spin on them. */
	int threads = openblas_get_num_threads();
	openblas_set_num_threads(1);
	rc = fit_tg(g, rs, X, cls_of, &o, &rng);
	openblas_set_num_threads(threads);
	if (rc)
		goto fail;
	free(names);
	free(X);
	free(cls_of);
	free(idx);
	*out = g;
	return 0;
fail:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory fitting the generator");
	tg_gen_destroy(g);
	free(names);
	free(X);
	free(cls_of);
	free(idx);
	return rc;
}
