/*
 * mon_phase_internal.h - the phase model's insides, shared by mon_phase.c
 * (training, online step), mon_phase_json.c (files) and the unit tests
 * (finite-difference check of the CRBM update).  Not installed, not
 * included by anything outside monitor/ and tests/phase/.
 *
 * Layout (row-major, float32): a window row x = [v_t | c_t] has V + C
 * values, c_t being the K frames before t, oldest first (C = V*K).  The
 * hidden weights Wh (H x (V+C)) hold W in their first V columns and B in
 * the rest, so one sgemv/sgemm gives the hidden pre-activation of [v; c].
 */
#ifndef TIERFS_MON_PHASE_INTERNAL_H
#define TIERFS_MON_PHASE_INTERNAL_H

#include <pthread.h>

#include "monitor.h"

#define MON_PHASE_MAX_K 16	 /* phases at most */
#define MON_PHASE_MAX_HIDDEN 256 /* hidden units at most */
#define MON_PHASE_MAX_HISTORY 32 /* K at most */
/* Visible units per frame: per tier read, write, used fraction, fill, open;
 * then migration backlog, creates/s, metadata ops/s. */
#define MON_PHASE_TIER_UNITS 5
#define MON_PHASE_GLOBAL_UNITS 3
#define MON_PHASE_V(ntiers) ((ntiers) * MON_PHASE_TIER_UNITS + MON_PHASE_GLOBAL_UNITS)

struct mon_crbm {
	size_t V, H, K, C; /* C = V * K */
	float *Wh;	   /* H x (V + C): [W | B] */
	float *A;	   /* V x C: the condition's pull on the visible means */
	float *bv;	   /* V */
	float *bh;	   /* H */
};

/* Online tracking state; one per daemon model, one per labelled series. */
struct mon_phase_track {
	float *ring;	 /* K frames, oldest first, already transformed */
	size_t have;	 /* frames in the ring (< K: warm-up) */
	float *x, *h;	 /* scratch: one window, its hidden activations */
	int phase, cand; /* adopted phase (-1 none yet), candidate */
	unsigned streak; /* ticks the candidate has been nearest */
	unsigned far;	 /* consecutive ticks beyond the novelty distance */
	struct mon_phase_status st;
};

struct mon_phase {
	size_t ntiers;
	char tier_names[MON_MAX_TIERS][MON_NAME_MAX + 1];
	struct mon_crbm crbm;
	float *mean, *std;	   /* V: frame z-scoring, after log1p */
	float *act_mean, *act_std; /* H: hidden activation standardising */
	size_t k;
	float *centroids;	  /* k x H, in standardised activation space */
	double *trans;		  /* k x k: P(next tick's phase | phase), rows sum to 1 */
	struct mon_phase_profile *prof; /* k */
	double novelty_dist;	  /* training q99 of the nearest-centroid distance */
	double tick_s;		  /* median tick of the training series */
	unsigned hysteresis, novelty_ticks;
	struct mon_phase_info info;

	pthread_mutex_t lock; /* guards track (step and status from two threads) */
	struct mon_phase_track track;
};

/* Allocate the CRBM's arrays (zeroed); -ENOMEM. */
int mon_crbm_alloc(struct mon_crbm *m, size_t V, size_t H, size_t K) __attribute__((warn_unused_result));
void mon_crbm_free(struct mon_crbm *m);
size_t mon_crbm_nparams(const struct mon_crbm *m);
/* Free energy F(v|c) = 1/2 |v - A c - bv|^2 - sum_j softplus(Wh_j x + bh_j)
 * of one window row x, in double. */
double mon_crbm_free_energy(const struct mon_crbm *m, const float *x);
/* The mean-field CD-1 update direction over n window rows X (n x (V+C)),
 * averaged: g = mean[grad F(x-) - grad F(x+)] with x- held fixed, written
 * into g (allocated like m).  Training adds lr * g.  Also returns, when
 * recon is not NULL, the mean squared reconstruction error per unit.
 * scratch: at least mon_crbm_scratch(m, n) floats; on return it holds
 * h+ (n x H), h- (n x H), then x- (n x (V+C)). */
void mon_crbm_cd(const struct mon_crbm *m, const float *X, size_t n, struct mon_crbm *g, float *scratch,
		 double *recon);
size_t mon_crbm_scratch(const struct mon_crbm *m, size_t n);

/* Transform one monitor frame (mon layout) into V visible values, z-scored
 * when mean/std are given (log1p on rates and counts, signed for fill). */
void mon_phase_frame(size_t ntiers, const double *frame, const float *mean, const float *std, float *v);

int mon_phase_alloc(struct mon_phase **out, size_t ntiers, size_t V, size_t H, size_t K, size_t k)
	__attribute__((warn_unused_result));
/* Clear and (re)size the online state for the model. */
int mon_phase_track_init(const struct mon_phase *ph, struct mon_phase_track *t) __attribute__((warn_unused_result));
void mon_phase_track_free(struct mon_phase_track *t);
/* One frame through the tracker; updates t->st. */
void mon_phase_track_step(const struct mon_phase *ph, struct mon_phase_track *t, const double *frame);

#endif
