/*
 * mon_phase.c - phases of a mount's load: a conditional RBM over the
 * monitor's frames, k-means++ over its hidden activations, per-phase
 * profiles and the transition matrix, and the online step the daemon runs
 * once per tick.
 *
 * Differences from AI4DL on purpose (notes/seed-systems.md A.5): the
 * activation of window t describes frame t (no off-by-one); the K warm-up
 * frames are never clustered nor labelled; activations are standardised
 * per unit before k-means so that phases do not rest on tiny differences
 * near 0.5; k comes from the silhouette; every random choice (init,
 * shuffle, seeding, silhouette sample) derives from one seed, and OpenBLAS
 * is only asked for sums whose order is fixed for a given size, so one
 * seed gives the same model bytes; early stopping compares each epoch with
 * the best held-out error so far and restores the best parameters.
 *
 * The series is taken tick by tick as the monitor recorded it (one frame
 * one step); tick_s, the median tick, turns tick counts into seconds.
 */
#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mon_phase_internal.h"

#define SILHOUETTE_SAMPLE 1500 /* points the silhouette is computed on, at most */
#define KMEANS_INIT 4	       /* k-means++ restarts per k */
#define KMEANS_ITER 100

static int perr(char *err, size_t errlen, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int perr(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static void note(const struct mon_phase_params *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const struct mon_phase_params *p, const char *fmt, ...)
{
	if (!p->log)
		return;
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	p->log(p->log_ud, buf);
}

/* ---- randomness (splitmix64: small, seedable, same stream everywhere) ---- */

static uint64_t rnd_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rnd_unit(uint64_t *s) /* [0, 1) */
{
	return (double)(rnd_next(s) >> 11) * 0x1.0p-53;
}

static double rnd_normal(uint64_t *s)
{
	double u = rnd_unit(s), v = rnd_unit(s);
	return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

static void rnd_shuffle(uint64_t *s, size_t *a, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(rnd_next(s) % i), t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

/* ---- frames ------------------------------------------------------------------ */

static float slog1p(double x)
{
	return (float)(x < 0 ? -log1p(-x) : log1p(x));
}

void mon_phase_frame(size_t ntiers, const double *frame, const float *mean, const float *std, float *v)
{
	size_t u = 0;
	for (size_t t = 0; t < ntiers; t++) {
		v[u++] = slog1p(frame[mon_col_tier(t, MON_COL_READ_BPS)]);
		v[u++] = slog1p(frame[mon_col_tier(t, MON_COL_WRITE_BPS)]);
		v[u++] = (float)frame[mon_col_tier(t, MON_COL_USED_FRAC)];
		v[u++] = slog1p(frame[mon_col_tier(t, MON_COL_FILL_BPS)]);
		v[u++] = slog1p(frame[mon_col_tier(t, MON_COL_OPEN)]);
	}
	v[u++] = slog1p(frame[mon_col_global(ntiers, MON_COL_BACKLOG)]);
	v[u++] = slog1p(frame[mon_col_global(ntiers, MON_COL_CREATES)]);
	v[u++] = slog1p(frame[mon_col_global(ntiers, MON_COL_META)]);
	if (mean)
		for (size_t i = 0; i < u; i++)
			v[i] = (v[i] - mean[i]) / std[i];
}

/* ---- the CRBM ------------------------------------------------------------------ */

int mon_crbm_alloc(struct mon_crbm *m, size_t V, size_t H, size_t K)
{
	m->V = V, m->H = H, m->K = K, m->C = V * K;
	m->Wh = calloc(H * (V + m->C), sizeof(float));
	m->A = calloc(V * m->C + 1, sizeof(float));
	m->bv = calloc(V, sizeof(float));
	m->bh = calloc(H, sizeof(float));
	if (!m->Wh || !m->A || !m->bv || !m->bh) {
		mon_crbm_free(m);
		return -ENOMEM;
	}
	return 0;
}

void mon_crbm_free(struct mon_crbm *m)
{
	free(m->Wh);
	free(m->A);
	free(m->bv);
	free(m->bh);
	m->Wh = m->A = m->bv = m->bh = NULL;
}

size_t mon_crbm_nparams(const struct mon_crbm *m)
{
	return m->H * (m->V + m->C) + m->V * m->C + m->V + m->H;
}

static void crbm_copy(struct mon_crbm *dst, const struct mon_crbm *src)
{
	memcpy(dst->Wh, src->Wh, src->H * (src->V + src->C) * sizeof(float));
	memcpy(dst->A, src->A, src->V * src->C * sizeof(float));
	memcpy(dst->bv, src->bv, src->V * sizeof(float));
	memcpy(dst->bh, src->bh, src->H * sizeof(float));
}

/* m += a * g, all arrays. */
static void crbm_axpy(struct mon_crbm *m, float a, const struct mon_crbm *g)
{
	cblas_saxpy((int)(m->H * (m->V + m->C)), a, g->Wh, 1, m->Wh, 1);
	cblas_saxpy((int)(m->V * m->C), a, g->A, 1, m->A, 1);
	cblas_saxpy((int)m->V, a, g->bv, 1, m->bv, 1);
	cblas_saxpy((int)m->H, a, g->bh, 1, m->bh, 1);
}

static float sigmoidf(float x)
{
	return 1.0f / (1.0f + expf(-x));
}

double mon_crbm_free_energy(const struct mon_crbm *m, const float *x)
{
	size_t D = m->V + m->C;
	double f = 0;
	for (size_t i = 0; i < m->V; i++) {
		double a = m->bv[i];
		for (size_t j = 0; j < m->C; j++)
			a += (double)m->A[i * m->C + j] * x[m->V + j];
		f += 0.5 * (x[i] - a) * (x[i] - a);
	}
	for (size_t h = 0; h < m->H; h++) {
		double z = m->bh[h];
		for (size_t j = 0; j < D; j++)
			z += (double)m->Wh[h * D + j] * x[j];
		f -= z > 30 ? z : log1p(exp(z));
	}
	return f;
}

size_t mon_crbm_scratch(const struct mon_crbm *m, size_t n)
{
	return n * (2 * m->H + (m->V + m->C) + m->V);
}

/* Hidden probabilities of n window rows: Hp = sigma(X Wh^T + bh). */
static void crbm_hidden(const struct mon_crbm *m, const float *X, size_t n, float *Hp)
{
	size_t D = m->V + m->C;
	for (size_t r = 0; r < n; r++)
		memcpy(Hp + r * m->H, m->bh, m->H * sizeof(float));
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)m->H, (int)D, 1.0f, X, (int)D, m->Wh,
		    (int)D, 1.0f, Hp, (int)m->H);
	for (size_t i = 0; i < n * m->H; i++)
		Hp[i] = sigmoidf(Hp[i]);
}

void mon_crbm_cd(const struct mon_crbm *m, const float *X, size_t n, struct mon_crbm *g, float *scratch,
		 double *recon)
{
	size_t V = m->V, C = m->C, H = m->H, D = V + C;
	float *Hpos = scratch, *Hneg = Hpos + n * H, *Xneg = Hneg + n * H, *Dv = Xneg + n * D;
	float s = 1.0f / (float)n;

	crbm_hidden(m, X, n, Hpos);
	/* v- = W^T h+ + A c + bv (mean field, no noise); c is copied along. */
	for (size_t r = 0; r < n; r++) {
		memcpy(Xneg + r * D, m->bv, V * sizeof(float));
		memcpy(Xneg + r * D + V, X + r * D + V, C * sizeof(float));
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)V, (int)H, 1.0f, Hpos, (int)H, m->Wh,
		    (int)D, 1.0f, Xneg, (int)D);
	if (C)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)V, (int)C, 1.0f, X + V, (int)D, m->A,
			    (int)C, 1.0f, Xneg, (int)D);
	crbm_hidden(m, Xneg, n, Hneg);

	/* dWh = (Hpos^T X - Hneg^T Xneg) / n covers W and B at once. */
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)H, (int)D, (int)n, s, Hpos, (int)H, X, (int)D, 0.0f,
		    g->Wh, (int)D);
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)H, (int)D, (int)n, -s, Hneg, (int)H, Xneg, (int)D,
		    1.0f, g->Wh, (int)D);
	double err = 0;
	for (size_t r = 0; r < n; r++)
		for (size_t i = 0; i < V; i++) {
			float d = X[r * D + i] - Xneg[r * D + i];
			Dv[r * V + i] = d;
			err += (double)d * d;
		}
	if (C)
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)V, (int)C, (int)n, s, Dv, (int)V, X + V,
			    (int)D, 0.0f, g->A, (int)C);
	for (size_t i = 0; i < V; i++) {
		double a = 0;
		for (size_t r = 0; r < n; r++)
			a += Dv[r * V + i];
		g->bv[i] = (float)(a * s);
	}
	for (size_t h = 0; h < H; h++) {
		double a = 0;
		for (size_t r = 0; r < n; r++)
			a += Hpos[r * H + h] - Hneg[r * H + h];
		g->bh[h] = (float)(a * s);
	}
	if (recon)
		*recon = err / (double)(n * V);
}

/* ---- model allocation -------------------------------------------------------- */

int mon_phase_alloc(struct mon_phase **out, size_t ntiers, size_t V, size_t H, size_t K, size_t k)
{
	struct mon_phase *ph = calloc(1, sizeof(*ph));
	if (!ph)
		return -ENOMEM;
	ph->ntiers = ntiers;
	ph->k = k;
	ph->track.phase = -1;
	pthread_mutex_init(&ph->lock, NULL);
	if (mon_crbm_alloc(&ph->crbm, V, H, K) != 0)
		goto fail;
	ph->mean = calloc(V, sizeof(float));
	ph->std = calloc(V, sizeof(float));
	ph->act_mean = calloc(H, sizeof(float));
	ph->act_std = calloc(H, sizeof(float));
	ph->centroids = calloc(k * H, sizeof(float));
	ph->trans = calloc(k * k, sizeof(double));
	ph->prof = calloc(k, sizeof(*ph->prof));
	if (!ph->mean || !ph->std || !ph->act_mean || !ph->act_std || !ph->centroids || !ph->trans || !ph->prof)
		goto fail;
	ph->info.ntiers = ntiers, ph->info.visible = V, ph->info.hidden = H, ph->info.history = K, ph->info.k = k;
	*out = ph;
	return 0;
fail:
	mon_phase_destroy(ph);
	return -ENOMEM;
}

void mon_phase_destroy(struct mon_phase *ph)
{
	if (!ph)
		return;
	mon_phase_track_free(&ph->track);
	mon_crbm_free(&ph->crbm);
	free(ph->mean);
	free(ph->std);
	free(ph->act_mean);
	free(ph->act_std);
	free(ph->centroids);
	free(ph->trans);
	free(ph->prof);
	pthread_mutex_destroy(&ph->lock);
	free(ph);
}

void mon_phase_defaults(struct mon_phase_params *p)
{
	*p = (struct mon_phase_params){.hidden = 16,
				       .history = 4,
				       .epochs = 200,
				       .batch = 64,
				       .patience = 8,
				       .lr = 0.01,
				       .holdout = 0.2,
				       .seed = 1,
				       .kmin = 2,
				       .kmax = 8,
				       .hysteresis = 2,
				       .novelty_ticks = 5};
}

/* ---- online tracking ----------------------------------------------------------- */

int mon_phase_track_init(const struct mon_phase *ph, struct mon_phase_track *t)
{
	mon_phase_track_free(t);
	const struct mon_crbm *m = &ph->crbm;
	t->ring = calloc(m->C ? m->C : 1, sizeof(float));
	t->x = calloc(m->V + m->C, sizeof(float));
	t->h = calloc(m->H, sizeof(float));
	if (!t->ring || !t->x || !t->h) {
		mon_phase_track_free(t);
		return -ENOMEM;
	}
	t->have = 0;
	t->phase = t->cand = -1;
	t->streak = t->far = 0;
	memset(&t->st, 0, sizeof(t->st));
	t->st.phase = t->st.nearest = t->st.next = -1;
	return 0;
}

void mon_phase_track_free(struct mon_phase_track *t)
{
	free(t->ring);
	free(t->x);
	free(t->h);
	t->ring = t->x = t->h = NULL;
}

/* Standardised hidden activations of window x into out (H). */
static void phase_activation(const struct mon_phase *ph, const float *x, float *out)
{
	const struct mon_crbm *m = &ph->crbm;
	memcpy(out, m->bh, m->H * sizeof(float));
	cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)m->H, (int)(m->V + m->C), 1.0f, m->Wh, (int)(m->V + m->C), x,
		    1, 1.0f, out, 1);
	for (size_t h = 0; h < m->H; h++)
		out[h] = (sigmoidf(out[h]) - ph->act_mean[h]) / ph->act_std[h];
}

static int nearest_centroid(const float *c, size_t k, size_t H, const float *p, double *dist)
{
	int best = 0;
	double bd = INFINITY;
	for (size_t j = 0; j < k; j++) {
		double d = 0;
		for (size_t h = 0; h < H; h++) {
			double e = (double)p[h] - c[j * H + h];
			d += e * e;
		}
		if (d < bd)
			bd = d, best = (int)j;
	}
	if (dist)
		*dist = sqrt(bd);
	return best;
}

/* The likeliest other phase after i, and its share of the moves out of i. */
static int next_phase(const struct mon_phase *ph, int i, double *prob)
{
	int best = -1;
	double bp = 0, out = 0;
	for (size_t j = 0; j < ph->k; j++) {
		if ((int)j == i)
			continue;
		double p = ph->trans[(size_t)i * ph->k + j];
		out += p;
		if (p > bp)
			bp = p, best = (int)j;
	}
	*prob = out > 0 ? bp / out : 0;
	return best;
}

void mon_phase_track_step(const struct mon_phase *ph, struct mon_phase_track *t, const double *frame)
{
	const struct mon_crbm *m = &ph->crbm;
	float *v = t->x; /* the current frame goes first in the window row */
	mon_phase_frame(ph->ntiers, frame, ph->mean, ph->std, v);
	t->st.ticks++;
	if (t->have >= m->K) {
		memcpy(t->x + m->V, t->ring, m->C * sizeof(float));
		phase_activation(ph, t->x, t->h);
		double d;
		int near = nearest_centroid(ph->centroids, ph->k, m->H, t->h, &d);
		t->st.nearest = near;
		t->st.distance = d;
		if (t->phase < 0) {
			t->phase = near;
			t->streak = 0;
		} else if (near == t->phase) {
			t->streak = 0;
		} else {
			if (near == t->cand)
				t->streak++;
			else
				t->cand = near, t->streak = 1;
			if (t->streak >= ph->hysteresis) {
				t->phase = near;
				t->streak = 0;
				t->st.changes++;
				t->st.ticks_in_phase = 0;
			}
		}
		t->st.ticks_in_phase++;
		t->far = d > ph->novelty_dist ? t->far + 1 : 0;
		t->st.novel = t->far >= ph->novelty_ticks;
		t->st.phase = t->phase;
		t->st.next = next_phase(ph, t->phase, &t->st.next_prob);
	}
	/* Shift the ring: drop the oldest, append this frame. */
	if (m->K) {
		if (t->have >= m->K)
			memmove(t->ring, t->ring + m->V, (m->C - m->V) * sizeof(float));
		size_t slot = t->have < m->K ? t->have : m->K - 1;
		memcpy(t->ring + slot * m->V, v, m->V * sizeof(float));
	}
	if (t->have < m->K)
		t->have++;
}

static int check_ncols(const struct mon_phase *ph, size_t ncols, char *err, size_t errlen)
{
	if (ncols != mon_ncols(ph->ntiers))
		return perr(err, errlen, -EINVAL,
			    "frames have %zu columns, the phase model expects %zu (%zu tiers); it was trained on another tier layout",
			    ncols, mon_ncols(ph->ntiers), ph->ntiers);
	return 0;
}

int mon_phase_step(struct mon_phase *ph, const double *frame, size_t ncols)
{
	if (!ph || !frame || check_ncols(ph, ncols, NULL, 0) < 0)
		return -EINVAL;
	pthread_mutex_lock(&ph->lock);
	int rc = ph->track.ring ? 0 : mon_phase_track_init(ph, &ph->track);
	if (rc == 0)
		mon_phase_track_step(ph, &ph->track, frame);
	pthread_mutex_unlock(&ph->lock);
	return rc;
}

void mon_phase_status(struct mon_phase *ph, struct mon_phase_status *st)
{
	pthread_mutex_lock(&ph->lock);
	*st = ph->track.st;
	if (!ph->track.ring)
		st->phase = st->nearest = st->next = -1;
	pthread_mutex_unlock(&ph->lock);
}

void mon_phase_reset(struct mon_phase *ph)
{
	pthread_mutex_lock(&ph->lock);
	mon_phase_track_free(&ph->track);
	memset(&ph->track.st, 0, sizeof(ph->track.st));
	pthread_mutex_unlock(&ph->lock);
}

int mon_phase_label(const struct mon_phase *ph, const struct mon_series *s, int *labels, char *err, size_t errlen)
{
	if (s->ntiers != ph->ntiers)
		return perr(err, errlen, -EINVAL, "series has %zu tiers, the phase model %zu", s->ntiers, ph->ntiers);
	int rc = check_ncols(ph, s->ncols, err, errlen);
	if (rc < 0)
		return rc;
	struct mon_phase_track t = {0};
	if (mon_phase_track_init(ph, &t) != 0)
		return perr(err, errlen, -ENOMEM, "out of memory");
	for (size_t f = 0; f < s->nframes; f++) {
		mon_phase_track_step(ph, &t, s->frames + f * s->ncols);
		labels[f] = t.st.phase;
	}
	mon_phase_track_free(&t);
	return 0;
}

/* ---- queries ----------------------------------------------------------------------- */

const struct mon_phase_info *mon_phase_info(const struct mon_phase *ph)
{
	return &ph->info;
}

const char *mon_phase_tier_name(const struct mon_phase *ph, size_t tier)
{
	return tier < ph->ntiers ? ph->tier_names[tier] : NULL;
}

double mon_phase_tick_s(const struct mon_phase *ph)
{
	return ph->tick_s;
}

double mon_phase_transition(const struct mon_phase *ph, size_t i, size_t j)
{
	return i < ph->k && j < ph->k ? ph->trans[i * ph->k + j] : 0;
}

const struct mon_phase_profile *mon_phase_profile(const struct mon_phase *ph, size_t i)
{
	return i < ph->k ? &ph->prof[i] : NULL;
}

uint64_t mon_phase_headroom(const struct mon_phase *ph, int phase, size_t tier, double horizon_s, double theta)
{
	if (!ph || phase < 0 || (size_t)phase >= ph->k || tier >= ph->ntiers || !(horizon_s > 0))
		return 0;
	size_t k = ph->k, steps = (size_t)ceil(horizon_s / (ph->tick_s > 0 ? ph->tick_s : 1));
	if (steps > 3600)
		steps = 3600;
	/* Per phase j, the probability that the chain started in phase
	 * visits j within the horizon (j made absorbing).  Not the chance of
	 * being in j at some tick: a short burst phase (a few ticks between
	 * long calms) never has that above a few percent, yet comes surely. */
	double need = ph->prof[phase].fill_q95[tier] * horizon_s;
	for (size_t j = 0; j < k; j++) {
		if ((int)j == phase || !(ph->prof[j].fill_q95[tier] * horizon_s > need))
			continue;
		double d[MON_PHASE_MAX_K] = {0}, nd[MON_PHASE_MAX_K], hit = 0;
		d[phase] = 1;
		for (size_t s = 0; s < steps && hit <= theta; s++) {
			for (size_t l = 0; l < k; l++) {
				nd[l] = 0;
				for (size_t i = 0; i < k; i++)
					if (i != j)
						nd[l] += d[i] * ph->trans[i * k + l];
			}
			hit += nd[j];
			nd[j] = 0;
			memcpy(d, nd, k * sizeof(double));
		}
		if (hit > theta)
			need = ph->prof[j].fill_q95[tier] * horizon_s;
	}
	return need > 0 ? (uint64_t)need : 0;
}

static uint64_t capped_headroom(const struct mon_phase *ph, int phase, size_t tier, uint64_t capacity,
				double low_watermark, double horizon_s, double theta)
{
	double need = (double)mon_phase_headroom(ph, phase, tier, horizon_s, theta);
	double cap = (1.0 - low_watermark) * (double)capacity;
	if (need > cap)
		need = cap;
	return need > 0 ? (uint64_t)need : 0;
}

uint64_t mon_phase_reserve(const struct mon_phase *ph, int phase, size_t tier, uint64_t capacity,
			   double low_watermark, double horizon_s, double theta)
{
	if (!ph || phase < 0 || (size_t)phase >= ph->k || tier >= ph->ntiers)
		return 0;
	/* Room is made ahead, in the calm: while the tier is filling, a
	 * demotion would compete with the writes (the watermarks still act
	 * then). */
	if (ph->prof[phase].fill_q50[tier] > 0)
		return 0;
	return capped_headroom(ph, phase, tier, capacity, low_watermark, horizon_s, theta);
}

uint64_t mon_phase_keep(const struct mon_phase *ph, int phase, size_t tier, uint64_t capacity,
			double low_watermark, double horizon_s, double theta)
{
	if (!ph || phase < 0 || (size_t)phase >= ph->k || tier >= ph->ntiers)
		return 0;
	return capped_headroom(ph, phase, tier, capacity, low_watermark, horizon_s, theta);
}

int mon_phase_read_heavy(const struct mon_phase *ph, int phase)
{
	if (!ph || phase < 0 || (size_t)phase >= ph->k)
		return 0;
	double r = 0, w = 0;
	for (size_t t = 0; t < ph->ntiers; t++) {
		r += ph->prof[phase].read_q50[t];
		w += ph->prof[phase].write_q50[t];
	}
	return r > 0 && r > w;
}

/* ---- training ------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* q-quantile of n values (sorted in place), linear interpolation. */
static double quantile(double *a, size_t n, double q)
{
	if (!n)
		return 0;
	qsort(a, n, sizeof(double), cmp_double);
	double pos = q * (double)(n - 1);
	size_t lo = (size_t)pos;
	if (lo + 1 >= n)
		return a[n - 1];
	return a[lo] + (pos - (double)lo) * (a[lo + 1] - a[lo]);
}

/* k-means++ seeding and Lloyd iterations on P (n x H); returns the inertia,
 * centroids in C (k x H), assignments in asg. */
static double kmeans(const float *P, size_t n, size_t H, size_t k, uint64_t *rng, float *C, int *asg, double *d2)
{
	size_t first = (size_t)(rnd_next(rng) % n);
	memcpy(C, P + first * H, H * sizeof(float));
	for (size_t i = 0; i < n; i++)
		d2[i] = INFINITY;
	for (size_t c = 1; c < k; c++) {
		double sum = 0;
		for (size_t i = 0; i < n; i++) {
			double d = 0;
			for (size_t h = 0; h < H; h++) {
				double e = (double)P[i * H + h] - C[(c - 1) * H + h];
				d += e * e;
			}
			if (d < d2[i])
				d2[i] = d;
			sum += d2[i];
		}
		size_t pick = n - 1;
		double r = rnd_unit(rng) * sum, acc = 0;
		for (size_t i = 0; i < n; i++) {
			acc += d2[i];
			if (acc > r) {
				pick = i;
				break;
			}
		}
		memcpy(C + c * H, P + pick * H, H * sizeof(float));
	}
	double inertia = INFINITY;
	double *sum = calloc(k * H, sizeof(double));
	size_t *cnt = calloc(k, sizeof(size_t));
	if (!sum || !cnt)
		goto out;
	for (unsigned it = 0; it < KMEANS_ITER; it++) {
		int moved = 0;
		double in = 0;
		for (size_t i = 0; i < n; i++) {
			double d;
			int a = nearest_centroid(C, k, H, P + i * H, &d);
			moved |= it == 0 || a != asg[i];
			asg[i] = a;
			in += d * d;
		}
		inertia = in;
		if (!moved)
			break;
		memset(sum, 0, k * H * sizeof(double));
		memset(cnt, 0, k * sizeof(size_t));
		for (size_t i = 0; i < n; i++) {
			cnt[asg[i]]++;
			for (size_t h = 0; h < H; h++)
				sum[(size_t)asg[i] * H + h] += P[i * H + h];
		}
		for (size_t c = 0; c < k; c++)
			if (cnt[c]) /* an emptied cluster keeps its place */
				for (size_t h = 0; h < H; h++)
					C[c * H + h] = (float)(sum[c * H + h] / (double)cnt[c]);
	}
out:
	free(sum);
	free(cnt);
	return inertia;
}

/* Mean silhouette of the points idx[0..m) under assignment asg. */
static double silhouette(const float *P, size_t H, const size_t *idx, size_t m, const int *asg, size_t k)
{
	double *sum = malloc(k * sizeof(double)), total = 0;
	size_t *cnt = malloc(k * sizeof(size_t));
	if (!sum || !cnt) {
		free(sum);
		free(cnt);
		return -1;
	}
	for (size_t a = 0; a < m; a++) {
		memset(sum, 0, k * sizeof(double));
		memset(cnt, 0, k * sizeof(size_t));
		for (size_t b = 0; b < m; b++) {
			if (a == b)
				continue;
			double d = 0;
			for (size_t h = 0; h < H; h++) {
				double e = (double)P[idx[a] * H + h] - P[idx[b] * H + h];
				d += e * e;
			}
			sum[asg[idx[b]]] += sqrt(d);
			cnt[asg[idx[b]]]++;
		}
		int own = asg[idx[a]];
		if (!cnt[own])
			continue; /* a singleton scores 0 */
		double ai = sum[own] / (double)cnt[own], bi = INFINITY;
		for (size_t c = 0; c < k; c++)
			if ((int)c != own && cnt[c] && sum[c] / (double)cnt[c] < bi)
				bi = sum[c] / (double)cnt[c];
		if (isfinite(bi) && (ai > 0 || bi > 0))
			total += (bi - ai) / (ai > bi ? ai : bi);
	}
	free(sum);
	free(cnt);
	return total / (double)m;
}

struct train_data {
	size_t nwin, ntrain, nhold;
	float *X;	  /* nwin x (V + C): training windows first, then held-out */
	size_t *order;	  /* ntrain */
	double *tick_gap; /* time gaps, for the median tick */
	size_t ngaps;
};

static int build_windows(const struct mon_series *const *series, size_t nseries, const struct mon_phase_params *p,
			 struct mon_phase *ph, struct train_data *td, char *err, size_t errlen)
{
	size_t V = ph->crbm.V, K = ph->crbm.K, D = V + ph->crbm.C, total = 0;
	for (size_t s = 0; s < nseries; s++)
		total += series[s]->nframes;
	float *F = malloc((total ? total : 1) * V * sizeof(float));
	double *sum = calloc(V, sizeof(double)), *sq = calloc(V, sizeof(double));
	td->tick_gap = malloc((total ? total : 1) * sizeof(double));
	if (!F || !sum || !sq || !td->tick_gap) {
		free(F);
		free(sum);
		free(sq);
		return perr(err, errlen, -ENOMEM, "out of memory for %zu frames", total);
	}
	size_t row = 0;
	for (size_t s = 0; s < nseries; s++) {
		const struct mon_series *se = series[s];
		for (size_t f = 0; f < se->nframes; f++, row++) {
			mon_phase_frame(ph->ntiers, se->frames + f * se->ncols, NULL, NULL, F + row * V);
			for (size_t i = 0; i < V; i++) {
				sum[i] += F[row * V + i];
				sq[i] += (double)F[row * V + i] * F[row * V + i];
			}
			if (f > 0)
				td->tick_gap[td->ngaps++] = se->frames[f * se->ncols] - se->frames[(f - 1) * se->ncols];
		}
	}
	for (size_t i = 0; i < V; i++) {
		double mu = sum[i] / (double)total, var = sq[i] / (double)total - mu * mu;
		ph->mean[i] = (float)mu;
		/* A constant unit (an idle tier) stays at 0 rather than blowing up. */
		ph->std[i] = var > 1e-8 ? (float)sqrt(var) : 1.0f;
	}
	free(sum);
	free(sq);
	for (size_t r = 0; r < total; r++)
		for (size_t i = 0; i < V; i++)
			F[r * V + i] = (F[r * V + i] - ph->mean[i]) / ph->std[i];

	/* Per series: the last holdout share of its windows is held out. */
	size_t nwin = 0, nhold = 0;
	for (size_t s = 0; s < nseries; s++) {
		size_t w = series[s]->nframes > K ? series[s]->nframes - K : 0;
		size_t h = (size_t)floor((double)w * p->holdout);
		nwin += w, nhold += h;
	}
	if (nwin - nhold < 2 * (size_t)(p->kmax ? p->kmax : 2) || nwin - nhold < 16) {
		free(F);
		return perr(err, errlen, -EINVAL,
			    "%zu frames in %zu series give %zu training windows after %zu warm-up frames per series: too few (need at least %u)",
			    total, nseries, nwin - nhold, K, 2 * p->kmax > 16 ? 2 * p->kmax : 16);
	}
	td->X = malloc(nwin * D * sizeof(float));
	td->order = malloc((nwin - nhold) * sizeof(size_t));
	if (!td->X || !td->order) {
		free(F);
		return perr(err, errlen, -ENOMEM, "out of memory for %zu windows", nwin);
	}
	td->nwin = nwin, td->nhold = nhold, td->ntrain = nwin - nhold;
	size_t ti = 0, hi = td->ntrain, base = 0;
	for (size_t s = 0; s < nseries; s++) {
		size_t n = series[s]->nframes, w = n > K ? n - K : 0, h = (size_t)floor((double)w * p->holdout);
		for (size_t t = K; t < n; t++) {
			size_t dst = t - K < w - h ? ti++ : hi++;
			float *x = td->X + dst * D;
			memcpy(x, F + (base + t) * V, V * sizeof(float));
			memcpy(x + V, F + (base + t - K) * V, K * V * sizeof(float));
		}
		base += n;
	}
	for (size_t i = 0; i < td->ntrain; i++)
		td->order[i] = i;
	free(F);
	return 0;
}

/* Mean squared reconstruction error per unit over rows [from, from + n). */
static double recon_error(const struct mon_crbm *m, const struct mon_crbm *g, const float *X, size_t n,
			  float *scratch, size_t chunk)
{
	double total = 0;
	size_t D = m->V + m->C;
	for (size_t r = 0; r < n; r += chunk) {
		size_t b = n - r < chunk ? n - r : chunk;
		double e;
		mon_crbm_cd(m, X + r * D, b, (struct mon_crbm *)g, scratch, &e);
		total += e * (double)b;
	}
	return total / (double)n;
}

static int train_crbm(struct mon_phase *ph, const struct mon_phase_params *p, struct train_data *td, uint64_t *rng,
		      char *err, size_t errlen)
{
	struct mon_crbm *m = &ph->crbm, g = {0}, best = {0};
	size_t D = m->V + m->C, batch = p->batch ? p->batch : 1, chunk = 256;
	size_t sc = mon_crbm_scratch(m, batch > chunk ? batch : chunk);
	float *scratch = malloc(sc * sizeof(float)), *Xb = malloc(batch * D * sizeof(float));
	int rc = 0;
	if (!scratch || !Xb || mon_crbm_alloc(&g, m->V, m->H, m->K) || mon_crbm_alloc(&best, m->V, m->H, m->K)) {
		rc = perr(err, errlen, -ENOMEM, "out of memory for the CRBM");
		goto out;
	}
	/* Small random weights; the scale keeps v- near the data at the start. */
	double scale = 0.1 / sqrt((double)D);
	for (size_t i = 0; i < m->H * D; i++)
		m->Wh[i] = (float)(rnd_normal(rng) * scale);
	for (size_t i = 0; i < m->V * m->C; i++)
		m->A[i] = (float)(rnd_normal(rng) * scale);
	const float *Xh = td->X + td->ntrain * D;
	int use_hold = td->nhold > 0;
	double best_err = INFINITY;
	unsigned bad = 0, epoch;
	for (epoch = 1; epoch <= p->epochs; epoch++) {
		rnd_shuffle(rng, td->order, td->ntrain);
		for (size_t r = 0; r < td->ntrain; r += batch) {
			size_t b = td->ntrain - r < batch ? td->ntrain - r : batch;
			for (size_t i = 0; i < b; i++)
				memcpy(Xb + i * D, td->X + td->order[r + i] * D, D * sizeof(float));
			mon_crbm_cd(m, Xb, b, &g, scratch, NULL);
			crbm_axpy(m, (float)p->lr, &g);
		}
		double e = use_hold ? recon_error(m, &g, Xh, td->nhold, scratch, chunk)
				    : recon_error(m, &g, td->X, td->ntrain, scratch, chunk);
		if (!isfinite(e))
			break;
		if (e < best_err * (1 - 1e-4)) {
			best_err = e;
			bad = 0;
			crbm_copy(&best, m);
			ph->info.best_epoch = epoch;
		} else if (++bad >= p->patience) {
			note(p, "epoch %u: %s error %.5f, no improvement on %.5f for %u epochs: stop", epoch,
			     use_hold ? "held-out" : "training", e, best_err, bad);
			break;
		}
		if (epoch % 10 == 0 || epoch == 1)
			note(p, "epoch %u: %s reconstruction error %.5f", epoch, use_hold ? "held-out" : "training", e);
	}
	ph->info.epochs_run = epoch > p->epochs ? p->epochs : epoch;
	if (!isfinite(best_err)) {
		rc = perr(err, errlen, -ERANGE, "CRBM training diverged in epoch 1 (learning rate %g too high?)", p->lr);
		goto out;
	}
	crbm_copy(m, &best);
	ph->info.holdout_error = use_hold ? best_err : NAN;
	ph->info.train_error = recon_error(m, &g, td->X, td->ntrain, scratch, chunk);
out:
	mon_crbm_free(&g);
	mon_crbm_free(&best);
	free(scratch);
	free(Xb);
	return rc;
}

static int profile(struct mon_phase *ph, const struct mon_series *const *series, size_t nseries, char *err,
		   size_t errlen);

/* Take centroids C (k of them) as the model's phases, numbered by size
 * (largest first), with the novelty distance they imply. */
static void adopt(struct mon_phase *ph, const float *C, size_t k, const float *P, size_t n, double *d2)
{
	size_t H = ph->crbm.H, cnt[MON_PHASE_MAX_K] = {0}, order[MON_PHASE_MAX_K];
	for (size_t i = 0; i < n; i++)
		cnt[nearest_centroid(C, k, H, P + i * H, NULL)]++;
	for (size_t j = 0; j < k; j++)
		order[j] = j;
	for (size_t a = 1; a < k; a++)
		for (size_t b = a; b > 0 && cnt[order[b]] > cnt[order[b - 1]]; b--) {
			size_t t = order[b];
			order[b] = order[b - 1];
			order[b - 1] = t;
		}
	ph->k = ph->info.k = k;
	for (size_t j = 0; j < k; j++)
		memcpy(ph->centroids + j * H, C + order[j] * H, H * sizeof(float));
	/* Novelty: farther than 99% of the training windows were. */
	for (size_t i = 0; i < n; i++)
		(void)nearest_centroid(ph->centroids, k, H, P + i * H, &d2[i]);
	ph->novelty_dist = quantile(d2, n, 0.99);
}

/* Standardised hidden activations of every window into P; then k-means++
 * for each k, the best of KMEANS_INIT runs by inertia.  The k with the best
 * silhouette (on a seeded sample) wins, unless one of its clusters holds
 * no frame once the series are labelled with hysteresis (a cluster of the
 * transient windows at changes, which the daemon would never adopt): then
 * the next best k is tried.  Phases are numbered by size, largest first. */
static int cluster(struct mon_phase *ph, const struct mon_phase_params *p, const struct train_data *td,
		   const struct mon_series *const *series, size_t nseries, uint64_t *rng, char *err, size_t errlen)
{
	size_t H = ph->crbm.H, n = td->nwin, K = MON_PHASE_MAX_K;
	float *P = malloc(n * H * sizeof(float)), *C = malloc(K * H * sizeof(float));
	float *cand = malloc((K + 1) * K * H * sizeof(float));
	int *asg = malloc(n * sizeof(int)), *runasg = malloc(n * sizeof(int));
	double *d2 = malloc(n * sizeof(double)), sil[MON_PHASE_MAX_K + 1];
	size_t *idx = malloc(n * sizeof(size_t));
	int rc = 0;
	if (!P || !C || !cand || !asg || !runasg || !d2 || !idx) {
		rc = perr(err, errlen, -ENOMEM, "out of memory for clustering %zu windows", n);
		goto out;
	}
	crbm_hidden(&ph->crbm, td->X, n, P);
	for (size_t h = 0; h < H; h++) {
		double s = 0, q = 0;
		for (size_t i = 0; i < n; i++)
			s += P[i * H + h], q += (double)P[i * H + h] * P[i * H + h];
		double mu = s / (double)n, var = q / (double)n - mu * mu;
		ph->act_mean[h] = (float)mu;
		ph->act_std[h] = var > 1e-8 ? (float)sqrt(var) : 1.0f;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t h = 0; h < H; h++)
			P[i * H + h] = (P[i * H + h] - ph->act_mean[h]) / ph->act_std[h];
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	rnd_shuffle(rng, idx, n);
	size_t m = n < SILHOUETTE_SAMPLE ? n : SILHOUETTE_SAMPLE;
	size_t kmax = p->kmax < n / 2 ? p->kmax : n / 2;
	for (size_t k = 0; k <= K; k++)
		sil[k] = -INFINITY;
	for (size_t k = p->kmin; k <= kmax; k++) {
		double best_in = INFINITY;
		for (unsigned r = 0; r < KMEANS_INIT; r++) {
			double in = kmeans(P, n, H, k, rng, C, asg, d2);
			if (in < best_in) {
				best_in = in;
				memcpy(cand + k * K * H, C, k * H * sizeof(float));
				memcpy(runasg, asg, n * sizeof(int));
			}
		}
		sil[k] = silhouette(P, H, idx, m, runasg, k);
		note(p, "k %zu: inertia %.1f, silhouette %.3f", k, best_in, sil[k]);
	}
	ph->info.windows = n;
	size_t first = 0;
	double first_sil = 0;
	for (;;) {
		size_t k = 0;
		for (size_t c = p->kmin; c <= kmax; c++) /* best untried; ties: fewer phases */
			if (isfinite(sil[c]) && (!k || sil[c] > sil[k] + 1e-9))
				k = c;
		if (!k)
			break;
		if (!first)
			first = k, first_sil = sil[k];
		adopt(ph, cand + k * K * H, k, P, n, d2);
		ph->info.silhouette = sil[k];
		if ((rc = profile(ph, series, nseries, err, errlen)) < 0)
			goto out;
		size_t empty = 0;
		for (size_t j = 0; j < k; j++)
			empty += ph->prof[j].frames == 0;
		if (!empty)
			goto out;
		note(p, "k %zu: %zu phases hold no frame under hysteresis; next best k", k, empty);
		sil[k] = -INFINITY;
	}
	if (!first) {
		rc = perr(err, errlen, -EINVAL, "no k in %u..%u fits %zu windows", p->kmin, p->kmax, n);
		goto out;
	}
	/* No k without empty phases: the best silhouette; the caller drops
	 * the empty ones. */
	adopt(ph, cand + first * K * H, first, P, n, d2);
	ph->info.silhouette = first_sil;
	rc = profile(ph, series, nseries, err, errlen);
out:
	free(P);
	free(C);
	free(cand);
	free(asg);
	free(runasg);
	free(d2);
	free(idx);
	return rc;
}

/* Profiles and transitions from the series labelled as the daemon would
 * label them (hysteresis on). */
static int profile(struct mon_phase *ph, const struct mon_series *const *series, size_t nseries, char *err,
		   size_t errlen)
{
	size_t k = ph->k, T = ph->ntiers, total = 0;
	for (size_t s = 0; s < nseries; s++)
		total += series[s]->nframes;
	int *lab = malloc(total * sizeof(int));
	double *vals = malloc(total * sizeof(double)), *dw = malloc(total * sizeof(double));
	double *cnt = calloc(k * k, sizeof(double));
	int rc = 0;
	if (!lab || !vals || !dw || !cnt) {
		rc = perr(err, errlen, -ENOMEM, "out of memory for the phase profiles");
		goto out;
	}
	size_t off = 0;
	for (size_t s = 0; s < nseries; s++) {
		if ((rc = mon_phase_label(ph, series[s], lab + off, err, errlen)) < 0)
			goto out;
		for (size_t f = off + 1; f < off + series[s]->nframes; f++)
			if (lab[f - 1] >= 0 && lab[f] >= 0)
				cnt[(size_t)lab[f - 1] * k + (size_t)lab[f]] += 1;
		off += series[s]->nframes;
	}
	size_t labelled = 0;
	for (size_t f = 0; f < total; f++)
		labelled += lab[f] >= 0;
	for (size_t i = 0; i < k; i++) {
		double row = 0;
		for (size_t j = 0; j < k; j++)
			row += cnt[i * k + j];
		for (size_t j = 0; j < k; j++) /* a phase never left stays */
			ph->trans[i * k + j] = row > 0 ? cnt[i * k + j] / row : (double)(i == j);
	}
	for (size_t ph_i = 0; ph_i < k; ph_i++) {
		struct mon_phase_profile *pr = &ph->prof[ph_i];
		memset(pr, 0, sizeof(*pr));
		/* Dwell: runs of the phase within one series. */
		size_t nd = 0;
		off = 0;
		for (size_t s = 0; s < nseries; s++) {
			size_t run = 0, n = series[s]->nframes;
			for (size_t f = 0; f <= n; f++) {
				if (f < n && lab[off + f] == (int)ph_i) {
					run++;
					continue;
				}
				if (run)
					dw[nd++] = (double)run * ph->tick_s;
				run = 0;
			}
			off += n;
		}
		pr->visits = nd;
		double sum = 0;
		for (size_t i = 0; i < nd; i++)
			sum += dw[i];
		pr->dwell_mean_s = nd ? sum / (double)nd : 0;
		pr->dwell_max_s = nd ? quantile(dw, nd, 1.0) : 0;
		pr->dwell_q50_s = quantile(dw, nd, 0.5);
		for (size_t t = 0; t < T; t++) {
			static const enum mon_tier_col cols[3] = {MON_COL_FILL_BPS, MON_COL_WRITE_BPS, MON_COL_READ_BPS};
			double *q50[3] = {&pr->fill_q50[t], &pr->write_q50[t], &pr->read_q50[t]};
			double *q95[3] = {&pr->fill_q95[t], &pr->write_q95[t], &pr->read_q95[t]};
			for (int c = 0; c < 3; c++) {
				size_t nv = 0;
				off = 0;
				for (size_t s = 0; s < nseries; s++) {
					for (size_t f = 0; f < series[s]->nframes; f++)
						if (lab[off + f] == (int)ph_i)
							vals[nv++] = series[s]->frames[f * series[s]->ncols + mon_col_tier(t, cols[c])];
					off += series[s]->nframes;
				}
				pr->frames = nv;
				*q50[c] = quantile(vals, nv, 0.5);
				*q95[c] = quantile(vals, nv, 0.95);
			}
		}
		pr->share = labelled ? (double)pr->frames / (double)labelled : 0;
	}
out:
	free(lab);
	free(vals);
	free(dw);
	free(cnt);
	return rc;
}

/* The novelty distance of the current centroids over the training
 * windows (their q99), as adopt() sets it. */
static int renovelty(struct mon_phase *ph, const struct train_data *td, char *err, size_t errlen)
{
	size_t H = ph->crbm.H, n = td->nwin;
	float *P = malloc(n * H * sizeof(float));
	double *d = malloc(n * sizeof(double));
	if (!P || !d) {
		free(P);
		free(d);
		return perr(err, errlen, -ENOMEM, "out of memory for the novelty distance of %zu windows", n);
	}
	crbm_hidden(&ph->crbm, td->X, n, P);
	for (size_t i = 0; i < n; i++) {
		for (size_t h = 0; h < H; h++)
			P[i * H + h] = (P[i * H + h] - ph->act_mean[h]) / ph->act_std[h];
		(void)nearest_centroid(ph->centroids, ph->k, H, P + i * H, &d[i]);
	}
	ph->novelty_dist = quantile(d, n, 0.99);
	free(P);
	free(d);
	return 0;
}

int mon_phase_train(const struct mon_series *const *series, size_t nseries, const struct mon_phase_params *p,
		    struct mon_phase **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!nseries)
		return perr(err, errlen, -EINVAL, "no series to train on");
	if (!p->hidden || p->hidden > MON_PHASE_MAX_HIDDEN)
		return perr(err, errlen, -EINVAL, "hidden units %zu: expected 1..%d", p->hidden, MON_PHASE_MAX_HIDDEN);
	if (!p->history || p->history > MON_PHASE_MAX_HISTORY)
		return perr(err, errlen, -EINVAL, "history %zu: expected 1..%d frames", p->history, MON_PHASE_MAX_HISTORY);
	if (p->kmin < 2 || p->kmax < p->kmin || p->kmax > MON_PHASE_MAX_K)
		return perr(err, errlen, -EINVAL, "phases %u..%u: expected 2 <= kmin <= kmax <= %d", p->kmin, p->kmax,
			    MON_PHASE_MAX_K);
	if (!(p->lr > 0 && p->lr < 1) || !(p->holdout >= 0 && p->holdout < 0.9) || !p->epochs || !p->patience ||
	    !p->hysteresis || !p->novelty_ticks)
		return perr(err, errlen, -EINVAL,
			    "bad training parameters: learning rate in (0,1), holdout in [0,0.9), epochs, patience, hysteresis and novelty ticks at least 1");
	size_t T = series[0]->ntiers;
	for (size_t s = 1; s < nseries; s++) {
		int same = series[s]->ntiers == T;
		for (size_t t = 0; same && t < T; t++)
			same = !strcmp(series[s]->tier_names[t], series[0]->tier_names[t]);
		if (!same)
			return perr(err, errlen, -EINVAL, "series %zu has other tiers than series 1: all must share one layout",
				    s + 1);
	}
	struct mon_phase *ph;
	if (mon_phase_alloc(&ph, T, MON_PHASE_V(T), p->hidden, p->history, MON_PHASE_MAX_K) != 0)
		return perr(err, errlen, -ENOMEM, "out of memory");
	for (size_t t = 0; t < T; t++)
		memcpy(ph->tier_names[t], series[0]->tier_names[t], MON_NAME_MAX + 1);
	ph->hysteresis = p->hysteresis;
	ph->novelty_ticks = p->novelty_ticks;
	ph->info.seed = p->seed;
	uint64_t rng = p->seed;
	struct train_data td = {0};
	int rc = build_windows(series, nseries, p, ph, &td, err, errlen);
	if (rc == 0) {
		ph->tick_s = td.ngaps ? quantile(td.tick_gap, td.ngaps, 0.5) : 1.0;
		if (!(ph->tick_s > 0))
			ph->tick_s = 1.0;
		rc = train_crbm(ph, p, &td, &rng, err, errlen);
	}
	if (rc == 0)
		rc = cluster(ph, p, &td, series, nseries, &rng, err, errlen);
	/* A cluster of transient windows (a tick or two at each change) is
	 * never adopted under hysteresis: it would be a phase with no frames.
	 * Drop such clusters and label again, keeping at least two phases. */
	while (rc == 0 && ph->k > 2) {
		size_t j = 0;
		while (j < ph->k && ph->prof[j].frames)
			j++;
		if (j == ph->k)
			break;
		size_t H = ph->crbm.H;
		memmove(ph->centroids + j * H, ph->centroids + (j + 1) * H, (ph->k - j - 1) * H * sizeof(float));
		ph->k--;
		ph->info.k = ph->k;
		note(p, "phase %zu: no frame stays in it under hysteresis; dropped (%zu phases left)", j, ph->k);
		rc = profile(ph, series, nseries, err, errlen);
		/* The windows that were nearest the dropped centroid are now
		 * farther from every phase: the novelty distance moves too. */
		if (rc == 0)
			rc = renovelty(ph, &td, err, errlen);
	}
	free(td.X);
	free(td.order);
	free(td.tick_gap);
	if (rc < 0) {
		mon_phase_destroy(ph);
		return rc;
	}
	*out = ph;
	return 0;
}
