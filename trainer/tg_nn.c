/*
 * tg_nn.c - the numeric kernels of the trace generator: a residual MLP on
 * OpenBLAS (float32, row-major; weights out x in so Y = X W^T + b), Adam,
 * and a planar normalizing flow with an invertibility-preserving
 * parameterisation and closed-form gradients (double: small, and the
 * tests compare it with finite differences).
 *
 * MLP units: LIN (no activation: blocks supply it), BLOCK(d) = LReLU(x +
 * W2 LReLU(W1 x + b1) + b2), OUT = sigmoid(W x + b).  Loss: mean squared
 * error over rows and outputs.
 */
#include "tg_internal.h"
#include "rng.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

uint64_t tg_rand_u64(uint64_t *s)
{
	return tt_splitmix64(s);
}

double tg_rand_unif(uint64_t *s)
{
	return tt_rand01(s);
}

double tg_rand_normal(uint64_t *s)
{
	double u1 = tg_rand_unif(s), u2 = tg_rand_unif(s);
	return sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
}

/* ---- MLP ------------------------------------------------------------------ */

int tg_mlp_layout(struct tg_mlp *m, int in, int out, const int *widths, int nwidths, int blocks)
{
	memset(m, 0, sizeof(*m));
	m->in = in;
	m->out = out;
	size_t np = 0;
	int prev = in;
	for (int i = 0; i < nwidths; i++) {
		if (m->nu + blocks + 2 > TG_MLP_MAX_UNITS || widths[i] <= 0)
			return -EINVAL;
		struct tg_unit *u = &m->u[m->nu++];
		*u = (struct tg_unit){.kind = TG_U_LIN, .in = prev, .out = widths[i], .w = np};
		np += (size_t)u->in * (size_t)u->out;
		u->b = np;
		np += (size_t)u->out;
		for (int k = 0; k < blocks; k++) {
			u = &m->u[m->nu++];
			int d = widths[i];
			*u = (struct tg_unit){.kind = TG_U_BLOCK, .in = d, .out = d, .w = np};
			np += (size_t)d * (size_t)d;
			u->b = np;
			np += (size_t)d;
			u->w2 = np;
			np += (size_t)d * (size_t)d;
			u->b2 = np;
			np += (size_t)d;
		}
		prev = widths[i];
	}
	struct tg_unit *u = &m->u[m->nu++];
	*u = (struct tg_unit){.kind = TG_U_OUT, .in = prev, .out = out, .w = np};
	np += (size_t)prev * (size_t)out;
	u->b = np;
	np += (size_t)out;
	m->np = np;
	m->p = calloc(np, sizeof(float));
	return m->p ? 0 : -ENOMEM;
}

int tg_mlp_init(struct tg_mlp *m, int in, int out, const int *widths, int nwidths, int blocks, uint64_t *rng)
{
	int rc = tg_mlp_layout(m, in, out, widths, nwidths, blocks);
	if (rc)
		return rc;
	for (int i = 0; i < m->nu; i++) {
		const struct tg_unit *u = &m->u[i];
		float a = 1.0f / sqrtf((float)u->in);
		size_t end = u->kind == TG_U_BLOCK ? u->b2 + (size_t)u->out : u->b + (size_t)u->out;
		for (size_t k = u->w; k < end; k++)
			m->p[k] = a * (float)(2.0 * tg_rand_unif(rng) - 1.0);
		/* A block starts close to the identity: its inner branch small. */
		if (u->kind == TG_U_BLOCK)
			for (size_t k = u->w2; k < u->b2; k++)
				m->p[k] *= 0.1f;
	}
	return 0;
}

void tg_mlp_free(struct tg_mlp *m)
{
	if (!m)
		return;
	free(m->p);
	m->p = NULL;
}

static void linear(const float *X, int rows, int in, int out, const float *W, const float *b, float *Y)
{
	for (int r = 0; r < rows; r++)
		memcpy(Y + (size_t)r * out, b, (size_t)out * sizeof(float));
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f, X, in, W, in, 1.0f, Y, out);
}

static float lrelu(float x)
{
	return x > 0 ? x : TG_LRELU * x;
}

/* Activations of one forward pass: per unit its input, and for a block
 * h1 (pre-activation), a1, s (pre-activation sum); then the output. */
struct acts {
	float *buf;
	float *in[TG_MLP_MAX_UNITS + 1];
	float *h1[TG_MLP_MAX_UNITS], *a1[TG_MLP_MAX_UNITS], *s[TG_MLP_MAX_UNITS];
};

static int forward(const struct tg_mlp *m, const float *X, int rows, struct acts *a)
{
	size_t total = 0;
	for (int i = 0; i < m->nu; i++)
		total += (size_t)rows * ((size_t)m->u[i].in + (m->u[i].kind == TG_U_BLOCK ? 3u * (size_t)m->u[i].out : 0));
	total += (size_t)rows * (size_t)m->out;
	a->buf = malloc(total * sizeof(float));
	if (!a->buf)
		return -ENOMEM;
	float *p = a->buf;
	for (int i = 0; i < m->nu; i++) {
		const struct tg_unit *u = &m->u[i];
		a->in[i] = p;
		p += (size_t)rows * (size_t)u->in;
		if (u->kind == TG_U_BLOCK) {
			a->h1[i] = p;
			p += (size_t)rows * (size_t)u->out;
			a->a1[i] = p;
			p += (size_t)rows * (size_t)u->out;
			a->s[i] = p;
			p += (size_t)rows * (size_t)u->out;
		}
	}
	a->in[m->nu] = p;
	memcpy(a->in[0], X, (size_t)rows * (size_t)m->in * sizeof(float));
	for (int i = 0; i < m->nu; i++) {
		const struct tg_unit *u = &m->u[i];
		const float *x = a->in[i];
		float *y = a->in[i + 1];
		size_t n = (size_t)rows * (size_t)u->out;
		switch (u->kind) {
		case TG_U_LIN:
			linear(x, rows, u->in, u->out, m->p + u->w, m->p + u->b, y);
			break;
		case TG_U_OUT:
			linear(x, rows, u->in, u->out, m->p + u->w, m->p + u->b, y);
			for (size_t k = 0; k < n; k++)
				y[k] = 1.0f / (1.0f + expf(-y[k]));
			break;
		case TG_U_BLOCK:
			linear(x, rows, u->in, u->out, m->p + u->w, m->p + u->b, a->h1[i]);
			for (size_t k = 0; k < n; k++)
				a->a1[i][k] = lrelu(a->h1[i][k]);
			linear(a->a1[i], rows, u->out, u->out, m->p + u->w2, m->p + u->b2, a->s[i]);
			for (size_t k = 0; k < n; k++) {
				a->s[i][k] += x[k];
				y[k] = lrelu(a->s[i][k]);
			}
			break;
		}
	}
	return 0;
}

int tg_mlp_forward(const struct tg_mlp *m, const float *X, int rows, float *Y)
{
	struct acts a;
	int rc = forward(m, X, rows, &a);
	if (rc)
		return rc;
	memcpy(Y, a.in[m->nu], (size_t)rows * (size_t)m->out * sizeof(float));
	free(a.buf);
	return 0;
}

/* dW += dZ^T X, db += column sums of dZ, and dX = dZ W when dX != NULL. */
static void linear_back(const float *X, const float *dZ, int rows, int in, int out, const float *W, float *dW,
			float *db, float *dX)
{
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, rows, 1.0f, dZ, out, X, in, 1.0f, dW, in);
	for (int r = 0; r < rows; r++)
		for (int j = 0; j < out; j++)
			db[j] += dZ[(size_t)r * out + j];
	if (dX)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, in, out, 1.0f, dZ, out, W, in, 0.0f, dX, in);
}

float tg_mlp_loss_grad(const struct tg_mlp *m, const float *X, const float *T, int rows, float *grad, float *err)
{
	struct acts a;
	if (forward(m, X, rows, &a))
		return NAN;
	const float *Y = a.in[m->nu];
	size_t n = (size_t)rows * (size_t)m->out;
	double loss = 0;
	for (int r = 0; r < rows; r++) {
		double e = 0;
		for (int j = 0; j < m->out; j++) {
			double y = Y[(size_t)r * m->out + j], t = T[(size_t)r * m->out + j], d = y - t;
			e += d * d;
			if (m->bce) {
				y = y < 1e-7 ? 1e-7 : y > 1 - 1e-7 ? 1 - 1e-7 : y;
				loss -= t * log(y) + (1 - t) * log(1 - y);
			}
		}
		if (!m->bce)
			loss += e;
		if (err)
			err[r] = (float)(e / m->out);
	}
	loss /= (double)n;
	if (!grad) {
		free(a.buf);
		return (float)loss;
	}
	int maxw = m->in;
	for (int i = 0; i < m->nu; i++)
		if (m->u[i].out > maxw)
			maxw = m->u[i].out;
	float *d = malloc(4 * (size_t)rows * (size_t)maxw * sizeof(float));
	if (!d) {
		free(a.buf);
		return NAN;
	}
	float *dy = d, *dx = d + (size_t)rows * maxw, *t1 = dx + (size_t)rows * maxw, *t2 = t1 + (size_t)rows * maxw;
	memset(grad, 0, m->np * sizeof(float));
	/* Through the sigmoid: MSE keeps its y(1-y) factor, which vanishes
	 * where a curve sits at 0 or 1; cross-entropy's gradient does not. */
	float scale = (m->bce ? 1.0f : 2.0f) / (float)n;
	for (size_t k = 0; k < n; k++)
		dy[k] = scale * (Y[k] - T[k]) * (m->bce ? 1.0f : Y[k] * (1.0f - Y[k]));
	for (int i = m->nu - 1; i >= 0; i--) {
		const struct tg_unit *u = &m->u[i];
		const float *x = a.in[i];
		float *dxi = i > 0 ? dx : NULL;
		size_t no = (size_t)rows * (size_t)u->out;
		if (u->kind != TG_U_BLOCK) {
			linear_back(x, dy, rows, u->in, u->out, m->p + u->w, grad + u->w, grad + u->b, dxi);
		} else {
			float *dS = t1, *da1 = t2;
			for (size_t k = 0; k < no; k++)
				dS[k] = dy[k] * (a.s[i][k] > 0 ? 1.0f : TG_LRELU);
			linear_back(a.a1[i], dS, rows, u->out, u->out, m->p + u->w2, grad + u->w2, grad + u->b2, da1);
			for (size_t k = 0; k < no; k++)
				da1[k] *= a.h1[i][k] > 0 ? 1.0f : TG_LRELU;
			linear_back(x, da1, rows, u->in, u->out, m->p + u->w, grad + u->w, grad + u->b, dxi);
			if (dxi)
				for (size_t k = 0; k < no; k++)
					dxi[k] += dS[k];
		}
		float *tmp = dy;
		dy = dx;
		dx = tmp;
	}
	free(d);
	free(a.buf);
	return (float)loss;
}

int tg_adam_init(struct tg_adam *a, size_t n, float lr)
{
	a->n = n;
	a->t = 0;
	a->lr = lr;
	a->m = calloc(n, sizeof(float));
	a->v = calloc(n, sizeof(float));
	if (!a->m || !a->v) {
		tg_adam_free(a);
		return -ENOMEM;
	}
	return 0;
}

void tg_adam_step(struct tg_adam *a, float *p, const float *g)
{
	const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
	a->t++;
	float c1 = 1.0f - powf(b1, (float)a->t), c2 = 1.0f - powf(b2, (float)a->t);
	for (size_t i = 0; i < a->n; i++) {
		a->m[i] = b1 * a->m[i] + (1 - b1) * g[i];
		a->v[i] = b2 * a->v[i] + (1 - b2) * g[i] * g[i];
		p[i] -= a->lr * (a->m[i] / c1) / (sqrtf(a->v[i] / c2) + eps);
	}
}

void tg_adam_free(struct tg_adam *a)
{
	free(a->m);
	free(a->v);
	a->m = a->v = NULL;
}

/* ---- planar flow ---------------------------------------------------------- */

int tg_flow_alloc(struct tg_flow *f, int d, int k)
{
	f->d = d;
	f->k = k;
	f->u = calloc((size_t)d * (size_t)k, sizeof(double));
	f->w = calloc((size_t)d * (size_t)k, sizeof(double));
	f->b = calloc((size_t)k, sizeof(double));
	if (!f->u || !f->w || !f->b) {
		tg_flow_free(f);
		return -ENOMEM;
	}
	return 0;
}

void tg_flow_free(struct tg_flow *f)
{
	if (!f)
		return;
	free(f->u);
	free(f->w);
	free(f->b);
	f->u = f->w = f->b = NULL;
}

static double dot(const double *a, const double *b, int n)
{
	double s = 0;
	for (int i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

static double softplus(double x)
{
	return x > 30 ? x : log1p(exp(x));
}

/* uh of layer k (d values), and the pieces its gradient needs. */
static void layer_uhat(const struct tg_flow *f, int k, double *uh, double *c_out, double *wn_out, double *pr_out)
{
	const double *u = f->u + (size_t)k * f->d, *w = f->w + (size_t)k * f->d;
	double pr = dot(w, u, f->d), wn = dot(w, w, f->d) + 1e-12;
	double c = (-1.0 + softplus(pr) - pr) / wn;
	for (int i = 0; i < f->d; i++)
		uh[i] = u[i] + c * w[i];
	if (c_out)
		*c_out = c;
	if (wn_out)
		*wn_out = wn;
	if (pr_out)
		*pr_out = pr;
}

double tg_flow_forward(const struct tg_flow *f, const double *z, double *out)
{
	double uh[f->d];
	double ld = 0;
	memmove(out, z, (size_t)f->d * sizeof(double));
	for (int k = 0; k < f->k; k++) {
		const double *w = f->w + (size_t)k * f->d;
		layer_uhat(f, k, uh, NULL, NULL, NULL);
		double h = tanh(dot(w, out, f->d) + f->b[k]);
		double psi = dot(w, uh, f->d);
		for (int i = 0; i < f->d; i++)
			out[i] += uh[i] * h;
		ld += log(fabs(1.0 + (1.0 - h * h) * psi));
	}
	return ld;
}

double tg_flow_kl(const struct tg_flow *f, const double *Z, int n, tg_logp_fn lp, void *ud, double *gu, double *gw,
		  double *gb)
{
	const int d = f->d, K = f->k;
	double *zs = malloc((size_t)(K + 1) * (size_t)d * sizeof(double));
	double *uh = malloc((size_t)K * (size_t)d * sizeof(double));
	double *g = malloc(2 * (size_t)d * sizeof(double));
	if (!zs || !uh || !g) {
		free(zs);
		free(uh);
		free(g);
		return NAN;
	}
	double *G = g + d;
	if (gu) {
		memset(gu, 0, (size_t)K * d * sizeof(double));
		memset(gw, 0, (size_t)K * d * sizeof(double));
		memset(gb, 0, (size_t)K * sizeof(double));
	}
	for (int k = 0; k < K; k++)
		layer_uhat(f, k, uh + (size_t)k * d, NULL, NULL, NULL);
	double total = 0;
	for (int s = 0; s < n; s++) {
		const double *z = Z + (size_t)s * d;
		memcpy(zs, z, (size_t)d * sizeof(double));
		double ld = 0;
		for (int k = 0; k < K; k++) {
			const double *w = f->w + (size_t)k * d, *u = uh + (size_t)k * d;
			double *zi = zs + (size_t)k * d, *zo = zi + d;
			double h = tanh(dot(w, zi, d) + f->b[k]);
			for (int i = 0; i < d; i++)
				zo[i] = zi[i] + u[i] * h;
			ld += log(fabs(1.0 + (1.0 - h * h) * dot(w, u, d)));
		}
		double logn = -0.5 * dot(z, z, d) - 0.5 * d * log(2 * M_PI);
		double lpx = lp(ud, zs + (size_t)K * d, gu ? g : NULL);
		total += logn - ld - lpx;
		if (!gu)
			continue;
		/* g = dL/dz_K = -grad log p; walk the layers back. */
		for (int i = 0; i < d; i++)
			g[i] = -g[i] / n;
		for (int k = K - 1; k >= 0; k--) {
			const double *w = f->w + (size_t)k * d, *u = uh + (size_t)k * d, *zi = zs + (size_t)k * d;
			const double *ur = f->u + (size_t)k * d;
			double h = tanh(dot(w, zi, d) + f->b[k]), hp = 1.0 - h * h;
			double psi = dot(w, u, d), det = 1.0 + hp * psi, gu_dot = dot(g, u, d);
			/* dL/da for a = w.z + b, with the -log|det|/n term. */
			double dA = gu_dot * hp + (2.0 * h * hp * psi / det) / n;
			/* dL/d(uh) = g h - (hp/det)/n w; dL/dw (direct) = dA z - (hp/det)/n uh. */
			for (int i = 0; i < d; i++)
				G[i] = g[i] * h - (hp / det) / n * w[i];
			double *gwk = gw + (size_t)k * d, *guk = gu + (size_t)k * d;
			for (int i = 0; i < d; i++)
				gwk[i] += dA * zi[i] - (hp / det) / n * u[i];
			gb[k] += dA;
			/* Through uh = u + c(w.u, |w|^2) w. */
			double c, wn, pr;
			double tmp[d];
			layer_uhat(f, k, tmp, &c, &wn, &pr);
			double sig = 1.0 / (1.0 + exp(-pr)), Gw = dot(G, w, d);
			double dc_dpr = (sig - 1.0) / wn, dc_dwn = -c / wn;
			for (int i = 0; i < d; i++) {
				guk[i] += G[i] + Gw * dc_dpr * w[i];
				gwk[i] += c * G[i] + Gw * (dc_dpr * ur[i] + dc_dwn * 2.0 * w[i]);
			}
			for (int i = 0; i < d; i++)
				g[i] += w[i] * dA;
		}
	}
	free(zs);
	free(uh);
	free(g);
	return total / n;
}
