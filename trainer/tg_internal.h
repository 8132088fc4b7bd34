/*
 * tg_internal.h - what the tg_*.c files of the trace generator share and
 * nobody else sees: the random source, the MLP and the planar flow kernels
 * (tg_nn.c), exposed here so the tests can check their gradients.
 */
#ifndef TIERFS_TRAINER_TG_INTERNAL_H
#define TIERFS_TRAINER_TG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tracegen.h"

/* splitmix64: small, seedable, the same on every platform. */
uint64_t tg_rand_u64(uint64_t *s);
double tg_rand_unif(uint64_t *s); /* [0,1) */
double tg_rand_normal(uint64_t *s);

/* ---- MLP: [LIN(in,w0), BLOCK(w0) x blocks, LIN(w0,w1), ..., OUT(wl,out)] ---- */
enum tg_unit_kind { TG_U_LIN, TG_U_BLOCK, TG_U_OUT };
struct tg_unit {
	enum tg_unit_kind kind;
	int in, out;
	size_t w, b, w2, b2; /* offsets into the parameter array */
};
#define TG_MLP_MAX_UNITS 64
#define TG_LRELU 0.01f
struct tg_mlp {
	int in, out, nu;
	int bce; /* loss: 0 mean squared error, 1 binary cross-entropy */
	struct tg_unit u[TG_MLP_MAX_UNITS];
	size_t np;
	float *p;
};
/* Lay out and initialise (uniform +-1/sqrt(fan-in)) an MLP; -EINVAL past
 * TG_MLP_MAX_UNITS, -ENOMEM. */
TG_WUR int tg_mlp_init(struct tg_mlp *m, int in, int out, const int *widths, int nwidths, int blocks,
		       uint64_t *rng);
/* Lay out only (p allocated, zero). */
TG_WUR int tg_mlp_layout(struct tg_mlp *m, int in, int out, const int *widths, int nwidths, int blocks);
void tg_mlp_free(struct tg_mlp *m);
/* Y (rows x out) = the network applied to X (rows x in). */
TG_WUR int tg_mlp_forward(const struct tg_mlp *m, const float *X, int rows, float *Y);
/* The loss (m->bce: mean binary cross-entropy, else mean squared error)
 * over rows x out of the network on X against T (in [0,1]); grad (np
 * entries, may be NULL) receives its gradient, err (rows, may be NULL)
 * each row's mean squared error.  Returns the loss, NAN on -ENOMEM. */
float tg_mlp_loss_grad(const struct tg_mlp *m, const float *X, const float *T, int rows, float *grad,
		       float *err);

struct tg_adam {
	size_t n;
	float *m, *v;
	long t;
	float lr;
};
TG_WUR int tg_adam_init(struct tg_adam *a, size_t n, float lr);
void tg_adam_step(struct tg_adam *a, float *p, const float *g);
void tg_adam_free(struct tg_adam *a);

/* ---- planar flow x = mu + sigma * f_K(...f_1(z)), z ~ N(0, I) ---------- */
/* Layer k: f(z) = z + uh_k tanh(w_k.z + b_k), with uh = u + (m(w.u) - w.u)
 * w / |w|^2, m(a) = -1 + softplus(a), so w.uh > -1 and f is invertible. */
struct tg_flow {
	int d, k;
	double *u, *w, *b; /* k x d, k x d, k */
};
TG_WUR int tg_flow_alloc(struct tg_flow *f, int d, int k);
void tg_flow_free(struct tg_flow *f);
/* z (d) -> out (d) through every layer; returns sum of log|det J_k|. */
double tg_flow_forward(const struct tg_flow *f, const double *z, double *out);
/* The reverse-KL objective for a batch of base samples Z (n x d) against a
 * target log-density lp (and its gradient): mean over the batch of
 * log N(z) - sum log|det| - lp(f(z)).  grad (3 arrays shaped like u, w, b,
 * may be NULL) receives its gradient. */
typedef double (*tg_logp_fn)(void *ud, const double *x, double *grad_x);
double tg_flow_kl(const struct tg_flow *f, const double *Z, int n, tg_logp_fn lp, void *ud, double *gu,
		  double *gw, double *gb);

/* ---- the generator (tg_gen.c fits it, tg_json.c stores it) ---- */
#define TG_NWIDTHS 3
#define TG_BLOCKS 2
extern const int tg_widths[TG_NWIDTHS]; /* 128, 64, 32 */

struct tg_class_model {
	char name[TG_CLASS_MAX];
	size_t n;
	float mean_curve[TG_CURVE];
	float gmean[TG_NFEAT];
	float gchol[TG_NFEAT * TG_NFEAT]; /* U (row-major upper), covariance = U^T U */
	double mu[TG_NFEAT], sigma[TG_NFEAT];
	double h; /* kernel bandwidth in standardised units */
	struct tg_flow flow;
	float *real; /* n x D scaled vectors, or NULL */
};

struct tg_gen {
	uint64_t seed;
	size_t nclass;
	struct tg_class_model *cls;
	double fmin[TG_NFEAT], fmax[TG_NFEAT];
	double files_per_workflow;
	struct tg_mlp mlp;
};

/* A generator with nclass zeroed classes (NULL on -ENOMEM). */
struct tg_gen *tg_gen_alloc(size_t nclass);

#endif
