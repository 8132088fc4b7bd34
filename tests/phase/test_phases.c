/*
 * test_phases.c - phases recovered from piecewise-stationary series with
 * known change points (made by a real monitor, synth.c), the online step
 * agreeing with offline labelling, early stopping, the headroom rule, and
 * malformed model files refused with an error naming file and JSON path.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mon_phase_internal.h"
#include "synth.h"

static char dir[64];

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof(dir), "/tmp/phase_test.XXXXXX");
	cr_assert(mkdtemp(dir));
}

static void rm_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(phases, .init = mkdir_tmp, .fini = rm_tmp);

static const struct synth_seg train1[] = {{SYNTH_INGEST, 120}, {SYNTH_QUIET, 100}, {SYNTH_DRAIN, 120},
					   {SYNTH_QUIET, 80},	{SYNTH_INGEST, 100}, {SYNTH_DRAIN, 100},
					   {SYNTH_QUIET, 100}};
static const struct synth_seg train2[] = {{SYNTH_QUIET, 60}, {SYNTH_DRAIN, 90}, {SYNTH_INGEST, 110},
					   {SYNTH_QUIET, 90}, {SYNTH_DRAIN, 80}};
static const struct synth_seg test1[] = {{SYNTH_INGEST, 90}, {SYNTH_DRAIN, 70}, {SYNTH_QUIET, 80},
					  {SYNTH_INGEST, 60}, {SYNTH_QUIET, 70}};

#define NSEG(a) (sizeof(a) / sizeof(a[0]))

static size_t total_ticks(const struct synth_seg *s, size_t n)
{
	size_t t = 0;
	for (size_t i = 0; i < n; i++)
		t += s[i].ticks;
	return t;
}

static struct mon_series *make(const char *name, const struct synth_seg *segs, size_t n, uint64_t seed, int **truth)
{
	char path[128], err[512];
	snprintf(path, sizeof(path), "%s/%s.csv", dir, name);
	*truth = malloc(total_ticks(segs, n) * sizeof(int));
	cr_assert(*truth);
	cr_assert_eq(synth_series(path, segs, n, seed, *truth), 0);
	struct mon_series *s;
	cr_assert_eq(mon_read_csv(path, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s->nframes, total_ticks(segs, n));
	return s;
}

static struct mon_phase *train(struct mon_series **s, size_t n, struct mon_phase_params *p)
{
	struct mon_phase *ph;
	char err[512];
	cr_assert_eq(mon_phase_train((const struct mon_series *const *)s, n, p, &ph, err, sizeof(err)), 0, "%s", err);
	return ph;
}

/* Frames within `settle` ticks after a true change are excluded: the CRBM
 * window straddles the change and hysteresis delays adoption on purpose. */
static void check_recovery(const struct mon_phase *ph, const struct mon_series *s, const int *truth,
			   const struct synth_seg *segs, size_t nseg, int map[SYNTH_NREGIMES], const char *what)
{
	const struct mon_phase_info *in = mon_phase_info(ph);
	size_t settle = in->history + 2 + 3;
	int *lab = malloc(s->nframes * sizeof(int));
	char err[512];
	cr_assert_eq(mon_phase_label(ph, s, lab, err, sizeof(err)), 0, "%s", err);
	for (size_t f = 0; f < in->history; f++)
		cr_expect_eq(lab[f], -1, "%s: frame %zu is warm-up, labelled %d", what, f, lab[f]);
	size_t start = 0, agree = 0, counted = 0;
	for (size_t g = 0; g < nseg; g++) {
		size_t from = start + (g ? settle : in->history + 2), to = start + segs[g].ticks;
		/* The phase the segment mostly got. */
		int votes[MON_PHASE_MAX_K] = {0}, best = 0;
		for (size_t f = from; f < to; f++)
			if (lab[f] >= 0)
				votes[lab[f]]++;
		for (int j = 1; j < MON_PHASE_MAX_K; j++)
			if (votes[j] > votes[best])
				best = j;
		int r = truth[from];
		if (map[r] < 0)
			map[r] = best;
		cr_expect_eq(map[r], best, "%s: segment %zu (regime %d, ticks %zu..%zu) mostly phase %d, earlier ones %d",
			     what, g, r, from, to, best, map[r]);
		for (size_t f = from; f < to; f++, counted++)
			agree += lab[f] == map[r];
		/* The change into this segment is seen within settle ticks. */
		if (g) {
			size_t seen = 0;
			for (size_t f = start; f < start + settle + 1 && f < to; f++)
				if (lab[f] == map[r]) {
					seen = 1;
					break;
				}
			cr_expect(seen, "%s: change at frame %zu into regime %d not adopted within %zu ticks", what, start, r,
				  settle);
		}
		start = to;
	}
	cr_expect(agree >= counted * 95 / 100, "%s: %zu of %zu settled frames in their regime's phase (want 95%%)", what,
		  agree, counted);
	for (int a = 0; a < SYNTH_NREGIMES; a++)
		for (int b = a + 1; b < SYNTH_NREGIMES; b++)
			cr_expect(map[a] < 0 || map[a] != map[b], "%s: regimes %d and %d share phase %d", what, a, b, map[a]);
	free(lab);
}

Test(phases, recovered_with_change_points)
{
	int *t1, *t2, *t3;
	struct mon_series *s[2] = {make("a", train1, NSEG(train1), 11, &t1), make("b", train2, NSEG(train2), 12, &t2)};
	struct mon_series *unseen = make("c", test1, NSEG(test1), 13, &t3);
	struct mon_phase_params p;
	mon_phase_defaults(&p);
	struct mon_phase *ph = train(s, 2, &p);
	const struct mon_phase_info *in = mon_phase_info(ph);
	cr_expect_eq(in->k, 3, "three regimes, %zu phases found (silhouette %.3f)", in->k, in->silhouette);
	cr_expect(in->silhouette > 0.5, "silhouette %.3f: phases not well separated", in->silhouette);
	cr_expect(isfinite(in->holdout_error) && in->holdout_error < 1.0, "held-out error %g", in->holdout_error);
	int map[SYNTH_NREGIMES] = {-1, -1, -1};
	check_recovery(ph, s[0], t1, train1, NSEG(train1), map, "series a");
	check_recovery(ph, s[1], t2, train2, NSEG(train2), map, "series b");
	check_recovery(ph, unseen, t3, test1, NSEG(test1), map, "unseen series c");
	/* Profiles: the ingest phase fills mem, the drain phase empties it. */
	if (map[SYNTH_INGEST] >= 0 && map[SYNTH_DRAIN] >= 0) {
		const struct mon_phase_profile *pi = mon_phase_profile(ph, (size_t)map[SYNTH_INGEST]);
		const struct mon_phase_profile *pd = mon_phase_profile(ph, (size_t)map[SYNTH_DRAIN]);
		cr_expect(pi->fill_q50[0] > 200e6, "ingest mem fill q50 %g", pi->fill_q50[0]);
		cr_expect(pd->fill_q50[0] < -100e6, "drain mem fill q50 %g", pd->fill_q50[0]);
		cr_expect(pd->write_q95[2] > pd->write_q50[2] && pd->write_q50[2] > 150e6);
		cr_expect(pi->dwell_mean_s >= 80 && pi->dwell_mean_s <= 130, "ingest dwell %g s", pi->dwell_mean_s);
		/* Headroom: from quiet, ingest comes next in these series, so mem
		 * must keep its q95 fill for the horizon; pfs never fills fast in
		 * ingest or quiet, but drain reaches it. */
		uint64_t hq = mon_phase_headroom(ph, map[SYNTH_QUIET], 0, 60, 0.05);
		cr_expect(hq >= (uint64_t)(pi->fill_q95[0] * 60 * 0.99), "headroom from quiet %llu < ingest's q95 fill",
			  (unsigned long long)hq);
		cr_expect_eq(mon_phase_headroom(ph, map[SYNTH_INGEST], 0, 0, 0.05), 0);
		cr_expect_eq(mon_phase_headroom(ph, -1, 0, 60, 0.05), 0);
		cr_expect_eq(mon_phase_headroom(ph, 0, 7, 60, 0.05), 0);
	}
	for (size_t i = 0; i < in->k; i++) {
		double row = 0;
		for (size_t j = 0; j < in->k; j++)
			row += mon_phase_transition(ph, i, j);
		cr_expect(fabs(row - 1) < 1e-9, "transition row %zu sums to %g", i, row);
		cr_expect(mon_phase_profile(ph, i)->frames > 0, "phase %zu holds no frame", i);
		cr_expect(mon_phase_transition(ph, i, i) > 0.9, "phase %zu stays only %g of ticks", i,
			  mon_phase_transition(ph, i, i));
	}

	/* Online: the daemon's per-tick step gives the offline labels. */
	int *lab = malloc(unseen->nframes * sizeof(int));
	char err[512];
	cr_assert_eq(mon_phase_label(ph, unseen, lab, err, sizeof(err)), 0, "%s", err);
	struct mon_phase_status st;
	for (size_t f = 0; f < unseen->nframes; f++) {
		cr_assert_eq(mon_phase_step(ph, unseen->frames + f * unseen->ncols, unseen->ncols), 0);
		mon_phase_status(ph, &st);
		cr_expect_eq(st.phase, lab[f], "frame %zu: online %d, offline %d", f, st.phase, lab[f]);
	}
	cr_expect_eq(st.ticks, unseen->nframes);
	cr_expect_eq(st.changes, NSEG(test1) - 1, "%llu phase changes online for %zu true ones",
		     (unsigned long long)st.changes, NSEG(test1) - 1);
	cr_expect(!st.novel, "a known regime flagged as novel");
	cr_expect(st.next >= 0 && st.next != st.phase);
	cr_expect_eq(mon_phase_step(ph, unseen->frames, unseen->ncols - 1), -EINVAL);
	mon_phase_reset(ph);
	mon_phase_status(ph, &st);
	cr_expect_eq(st.phase, -1);
	cr_expect_eq(st.ticks, 0);

	/* Novelty: a load never seen (everything at once, far beyond training)
	 * is flagged after novelty_ticks ticks. */
	double *odd = malloc(unseen->ncols * sizeof(double));
	memcpy(odd, unseen->frames, unseen->ncols * sizeof(double));
	for (size_t t = 0; t < 3; t++) {
		odd[mon_col_tier(t, MON_COL_READ_BPS)] = 5e10;
		odd[mon_col_tier(t, MON_COL_WRITE_BPS)] = 5e10;
		odd[mon_col_tier(t, MON_COL_OPEN)] = 5000;
	}
	odd[mon_col_global(3, MON_COL_META)] = 1e6;
	for (unsigned i = 0; i < p.history + p.novelty_ticks; i++)
		cr_assert_eq(mon_phase_step(ph, odd, unseen->ncols), 0);
	mon_phase_status(ph, &st);
	cr_expect(st.novel, "distance %g beyond the training q99 for %u ticks, not flagged", st.distance,
		  p.novelty_ticks);
	free(odd);
	free(lab);
	mon_phase_destroy(ph);
	mon_series_destroy(s[0]);
	mon_series_destroy(s[1]);
	mon_series_destroy(unseen);
	free(t1), free(t2), free(t3);
}

Test(phases, early_stop_fires_and_keeps_the_best)
{
	int *t1;
	struct mon_series *s = make("a", train1, NSEG(train1), 5, &t1);
	struct mon_phase_params p;
	mon_phase_defaults(&p);
	p.epochs = 2000;
	p.patience = 3;
	p.kmax = 4;
	struct mon_phase *ph = train(&s, 1, &p);
	const struct mon_phase_info *in = mon_phase_info(ph);
	cr_expect(in->epochs_run < 2000, "ran all %u epochs: early stopping never fired", in->epochs_run);
	cr_expect_eq(in->epochs_run, in->best_epoch + p.patience, "stopped at %u, best %u, patience %u", in->epochs_run,
		     in->best_epoch, p.patience);
	mon_phase_destroy(ph);
	mon_series_destroy(s);
	free(t1);
}

Test(phases, bad_training_input)
{
	int *t1;
	struct synth_seg tiny[] = {{SYNTH_QUIET, 10}};
	struct mon_series *s = make("t", tiny, 1, 1, &t1);
	struct mon_phase_params p;
	mon_phase_defaults(&p);
	struct mon_phase *ph = NULL;
	char err[512];
	cr_expect_eq(mon_phase_train((const struct mon_series *const *)&s, 1, &p, &ph, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "too few"), "error: %s", err);
	cr_expect_null(ph);
	p.kmin = 1;
	cr_expect_eq(mon_phase_train((const struct mon_series *const *)&s, 1, &p, &ph, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "kmin"), "error: %s", err);
	mon_series_destroy(s);
	free(t1);
}

/* ---- malformed model files ------------------------------------------------------ */

static char *model_text(size_t *len)
{
	int *t1;
	struct mon_series *s = make("m", train1, 4, 9, &t1);
	struct mon_phase_params p;
	mon_phase_defaults(&p);
	p.epochs = 10;
	p.kmin = p.kmax = 3;
	struct mon_phase *ph = train(&s, 1, &p);
	char path[128], err[512];
	snprintf(path, sizeof(path), "%s/good.json", dir);
	cr_assert_eq(mon_phase_save(ph, path, err, sizeof(err)), 0, "%s", err);
	mon_phase_destroy(ph);
	mon_series_destroy(s);
	free(t1);
	FILE *f = fopen(path, "rb");
	cr_assert(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	char *b = calloc(1, *len + 1);
	cr_assert(fread(b, 1, *len, f) == *len);
	fclose(f);
	return b;
}

/* Replace the first occurrence of from in text by to, write, load, and
 * expect a refusal whose message holds want. */
static void refused(const char *text, const char *from, const char *to, const char *want)
{
	const char *at = strstr(text, from);
	cr_assert(at, "fixture lacks \"%s\"", from);
	char path[128], err[512] = "";
	snprintf(path, sizeof(path), "%s/bad.json", dir);
	FILE *f = fopen(path, "wb");
	cr_assert(f);
	fwrite(text, 1, (size_t)(at - text), f);
	fputs(to, f);
	fputs(at + strlen(from), f);
	fclose(f);
	struct mon_phase *ph = (struct mon_phase *)1;
	int rc = mon_phase_load(path, &ph, err, sizeof(err));
	cr_expect_eq(rc, -EINVAL, "\"%s\" -> \"%s\": loaded (rc %d)", from, to, rc);
	cr_expect_null(ph);
	cr_expect(strstr(err, path) && strstr(err, want), "\"%s\" -> \"%s\": error \"%s\" lacks the file or \"%s\"", from,
		  to, err, want);
	if (rc == 0)
		mon_phase_destroy(ph);
}

Test(phases, malformed_model_refused)
{
	size_t len;
	char *t = model_text(&len);
	char path[128], err[512];
	snprintf(path, sizeof(path), "%s/good.json", dir);
	struct mon_phase *ph;
	cr_assert_eq(mon_phase_load(path, &ph, err, sizeof(err)), 0, "%s", err);
	mon_phase_destroy(ph);

	refused(t, "\"tierfs-phases\"", "\"tierfs-gbdt\"", "format: expected \"tierfs-phases\"");
	refused(t, "\"version\":\t1", "\"version\":\t2", "version: 2 is not an integer in 1..1");
	refused(t, "\"hidden\":", "\"hidden_units\":", "hidden: missing");
	refused(t, "\"visible\":\t18", "\"visible\":\t17", "visible: 17 units, expected 18 for 3 tiers");
	refused(t, "\"frame_std\":\t[", "\"frame_std\":\t[-1, ", "frame_std");
	refused(t, "\"hidden_bias\":\t[", "\"hidden_bias\":\t[0, ", "hidden_bias: 17 items, expected 16");
	refused(t, "\"hysteresis\":\t2", "\"hysteresis\":\t\"2\"", "hysteresis: expected a number, found a string");
	refused(t, "\"centroids\":\t[[", "\"centroids\":\t[[1], [", "centroids: 4 rows, expected 3");
	refused(t, "\"transitions\":\t[[", "\"transitions\":\t[[0.5, ", "transitions[0]");
	refused(t, "\"tiers\":\t[\"mem\"", "\"tiers\":\t[\"m/em\"", "tiers[0]: expected a tier name");
	refused(t, "\"profiles\":\t[", "\"profiles\":\t[{}, ", "profiles");
	refused(t, "\"tick_s\":\t1", "\"tick_s\":\t-1", "tick_s: -1 is not a number in");
	/* Truncated and empty files. */
	snprintf(path, sizeof(path), "%s/cut.json", dir);
	FILE *f = fopen(path, "wb");
	fwrite(t, 1, len / 2, f);
	fclose(f);
	cr_expect_eq(mon_phase_load(path, &ph, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "truncated") || strstr(err, "invalid JSON"), "%s", err);
	f = fopen(path, "wb");
	fclose(f);
	cr_expect_eq(mon_phase_load(path, &ph, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "empty file"), "%s", err);
	snprintf(path, sizeof(path), "%s/none.json", dir);
	cr_expect_eq(mon_phase_load(path, &ph, err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "cannot open"), "%s", err);
	free(t);
}

/* A hand-made two-phase model: a long calm (phase 0) and a short write
 * burst (phase 1, mem fill q95 100 MB/s), entered with p = 0.0067 per
 * tick.  The burst's long-run share (0.04) never exceeds theta 0.05, but
 * within 10 ticks the calm reaches it with p = 1 - 0.9933^10 = 0.065: the
 * headroom must count it then, and not within 5 ticks (p = 0.033). */
static struct mon_phase *burst_model(void)
{
	struct mon_phase *ph;
	cr_assert_eq(mon_phase_alloc(&ph, 3, MON_PHASE_V(3), 4, 2, 2), 0);
	ph->tick_s = 1;
	ph->trans[0] = 0.9933, ph->trans[1] = 0.0067;
	ph->trans[2] = 0.1622, ph->trans[3] = 0.8378;
	ph->prof[1].fill_q50[0] = 20e6, ph->prof[1].fill_q95[0] = 100e6;
	ph->prof[1].write_q50[0] = 20e6, ph->prof[1].read_q50[2] = 5e6;
	ph->prof[0].read_q50[2] = 50e6, ph->prof[0].write_q50[0] = 1e6;
	return ph;
}

Test(phases, headroom_counts_a_short_burst_the_calm_will_visit)
{
	struct mon_phase *ph = burst_model();
	cr_expect_eq(mon_phase_headroom(ph, 0, 0, 10, 0.05), (uint64_t)1e9);
	cr_expect_eq(mon_phase_headroom(ph, 0, 0, 5, 0.05), 0);
	cr_expect_eq(mon_phase_headroom(ph, 0, 0, 10, 0.07), 0);
	cr_expect_eq(mon_phase_headroom(ph, 1, 0, 10, 0.05), (uint64_t)1e9);
	cr_expect_eq(mon_phase_headroom(ph, 0, 1, 10, 0.05), 0); /* ssd never fills */
	/* The rule: capped at (1 - low) x capacity; none while the phase
	 * itself fills the tier, but a prefetch still leaves it free. */
	cr_expect_eq(mon_phase_reserve(ph, 0, 0, 1000000000, 0.7, 10, 0.05), 300000000);
	cr_expect_eq(mon_phase_reserve(ph, 0, 0, 10000000000ull, 0.7, 10, 0.05), (uint64_t)1e9);
	cr_expect_eq(mon_phase_reserve(ph, 1, 0, 1000000000, 0.7, 10, 0.05), 0);
	cr_expect_eq(mon_phase_keep(ph, 1, 0, 1000000000, 0.7, 10, 0.05), 300000000);
	cr_expect_eq(mon_phase_reserve(ph, -1, 0, 1000000000, 0.7, 10, 0.05), 0);
	/* Read-heavy: the calm reads 50 MB/s and writes 1; the burst writes. */
	cr_expect(mon_phase_read_heavy(ph, 0));
	cr_expect(!mon_phase_read_heavy(ph, 1));
	cr_expect(!mon_phase_read_heavy(ph, -1) && !mon_phase_read_heavy(ph, 2));
	mon_phase_destroy(ph);
}
