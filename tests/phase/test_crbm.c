/*
 * test_crbm.c - the CRBM's CD-1 update against finite differences of the
 * free energy, and reproducibility of training.
 *
 * Mean-field CD-1 is not the gradient of a likelihood, but with the
 * reconstruction x- held fixed it is exactly the gradient of
 * G = mean[F(x-) - F(x+)] (F the free energy): every parameter's update
 * must match a central difference of G.  That pins the sgemm layout
 * (transposes, leading dimensions, the [W|B] split) to the maths.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mon_phase_internal.h"
#include "synth.h"

static uint64_t rs = 7;
static double urand(void)
{
	rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(rs >> 11) * 0x1.0p-53;
}

static double G(const struct mon_crbm *m, const float *X, const float *Xneg, size_t n)
{
	size_t D = m->V + m->C;
	double g = 0;
	for (size_t r = 0; r < n; r++)
		g += mon_crbm_free_energy(m, Xneg + r * D) - mon_crbm_free_energy(m, X + r * D);
	return g / (double)n;
}

/* Check every entry of one parameter array against central differences. */
static void check_array(struct mon_crbm *m, float *param, const float *grad, size_t count, const char *name,
			const float *X, const float *Xneg, size_t n)
{
	const float eps = 1e-2f;
	double maxabs = 0;
	for (size_t i = 0; i < count; i++) {
		float keep = param[i];
		param[i] = keep + eps;
		double up = G(m, X, Xneg, n);
		param[i] = keep - eps;
		double down = G(m, X, Xneg, n);
		param[i] = keep;
		double fd = (up - down) / (2.0 * (double)eps);
		cr_expect(fabs(fd - grad[i]) <= 2e-3 * (1 + fabs(fd)), "%s[%zu]: CD update %.6f, finite difference %.6f",
			  name, i, grad[i], fd);
		if (fabs(grad[i]) > maxabs)
			maxabs = fabs(grad[i]);
	}
	cr_expect(maxabs > 1e-3, "%s: the update is all but zero (%g): the check would prove nothing", name, maxabs);
}

static void fd_case(size_t V, size_t H, size_t K, size_t n)
{
	struct mon_crbm m = {0}, g = {0};
	cr_assert_eq(mon_crbm_alloc(&m, V, H, K), 0);
	cr_assert_eq(mon_crbm_alloc(&g, V, H, K), 0);
	size_t D = V + m.C;
	for (size_t i = 0; i < H * D; i++)
		m.Wh[i] = (float)(urand() - 0.5);
	for (size_t i = 0; i < V * m.C; i++)
		m.A[i] = (float)(urand() - 0.5) * 0.5f;
	for (size_t i = 0; i < V; i++)
		m.bv[i] = (float)(urand() - 0.5);
	for (size_t i = 0; i < H; i++)
		m.bh[i] = (float)(urand() - 0.5);
	float *X = malloc(n * D * sizeof(float));
	float *scratch = malloc(mon_crbm_scratch(&m, n) * sizeof(float));
	cr_assert(X && scratch);
	for (size_t i = 0; i < n * D; i++)
		X[i] = (float)(2 * urand() - 1);
	double recon = -1;
	mon_crbm_cd(&m, X, n, &g, scratch, &recon);
	cr_expect(recon > 0 && isfinite(recon));
	float *Xneg = malloc(n * D * sizeof(float));
	cr_assert(Xneg);
	memcpy(Xneg, scratch + 2 * n * H, n * D * sizeof(float));
	check_array(&m, m.Wh, g.Wh, H * D, "Wh", X, Xneg, n);
	check_array(&m, m.A, g.A, V * m.C, "A", X, Xneg, n);
	check_array(&m, m.bv, g.bv, V, "bv", X, Xneg, n);
	check_array(&m, m.bh, g.bh, H, "bh", X, Xneg, n);
	free(X);
	free(Xneg);
	free(scratch);
	mon_crbm_free(&m);
	mon_crbm_free(&g);
}

Test(crbm, cd_update_is_free_energy_gradient_minibatch)
{
	fd_case(5, 4, 2, 7);
}

Test(crbm, cd_update_is_free_energy_gradient_batch1)
{
	fd_case(6, 3, 3, 1);
}

/* ---- reproducibility ---------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert(f, "%s: cannot open", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *b = malloc((size_t)n + 1);
	cr_assert(b && fread(b, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	b[n] = 0;
	*len = (size_t)n;
	return b;
}

static void train_to(const char *csv, uint64_t seed, unsigned batch, const char *out)
{
	struct mon_series *s;
	char err[512];
	cr_assert_eq(mon_read_csv(csv, &s, err, sizeof(err)), 0, "%s", err);
	struct mon_phase_params p;
	mon_phase_defaults(&p);
	p.seed = seed;
	p.batch = batch;
	p.epochs = 30;
	p.kmax = 4;
	struct mon_phase *ph;
	const struct mon_series *ss = s;
	cr_assert_eq(mon_phase_train(&ss, 1, &p, &ph, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(mon_phase_save(ph, out, err, sizeof(err)), 0, "%s", err);
	mon_phase_destroy(ph);
	mon_series_destroy(s);
}

Test(crbm, same_seed_same_model_bytes)
{
	char dir[] = "/tmp/phase_seed.XXXXXX", csv[128], a[128], b[128], c[128], d[128];
	cr_assert(mkdtemp(dir));
	snprintf(csv, sizeof(csv), "%s/s.csv", dir);
	snprintf(a, sizeof(a), "%s/a.json", dir);
	snprintf(b, sizeof(b), "%s/b.json", dir);
	snprintf(c, sizeof(c), "%s/c.json", dir);
	snprintf(d, sizeof(d), "%s/d.json", dir);
	struct synth_seg segs[] = {{SYNTH_INGEST, 60}, {SYNTH_QUIET, 50}, {SYNTH_DRAIN, 60}, {SYNTH_QUIET, 40}};
	cr_assert_eq(synth_series(csv, segs, 4, 3, NULL), 0);
	train_to(csv, 42, 16, a);
	train_to(csv, 42, 16, b);
	train_to(csv, 43, 16, c);
	size_t la, lb, lc;
	char *ta = slurp(a, &la), *tb = slurp(b, &lb), *tc = slurp(c, &lc);
	cr_expect(la == lb && !memcmp(ta, tb, la), "two trainings with seed 42 wrote different files");
	cr_expect(la != lc || memcmp(ta, tc, la), "seeds 42 and 43 wrote the same file: the seed is not used");
	/* Batch-1 (plain SGD) trains too, and a loaded model saves to the same bytes. */
	train_to(csv, 42, 1, d);
	struct mon_phase *ph;
	char err[512];
	cr_assert_eq(mon_phase_load(a, &ph, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(mon_phase_save(ph, b, err, sizeof(err)), 0, "%s", err);
	mon_phase_destroy(ph);
	free(tb);
	tb = slurp(b, &lb);
	cr_expect(la == lb && !memcmp(ta, tb, la), "load then save changed the model file");
	free(ta);
	free(tb);
	free(tc);
	unlink(csv), unlink(a), unlink(b), unlink(c), unlink(d);
	rmdir(dir);
}
