/*
 * test_tracegen.c - the trace generator (trainer/tracegen.h): Darshan and
 * DXT text fixtures read into records, the CSV form round-trips, the MLP's
 * and the planar flow's gradients and log-determinants agree with finite
 * differences, a fit is a function of its seed, the decoder's workflows
 * parse with our own WfFormat reader and their operation streams are well
 * formed, and malformed inputs are refused naming what is wrong.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "recorder.h"
#include "tg_internal.h"
#include "gen.h"
#include "tracegen.h"
#include "workflow.h"

#define FIX TIERFS_FIXTURES_DIR "/tracegen/"

static char tmpdir[64];

static void mk_tmp(void)
{
	strcpy(tmpdir, "/tmp/tgtest-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

static const char *tmp_file(const char *name, const char *content)
{
	static char path[4][256];
	static int k;
	char *p = path[k++ % 4];
	snprintf(p, 256, "%s/%s", tmpdir, name);
	if (content) {
		FILE *f = fopen(p, "w");
		cr_assert_not_null(f);
		fputs(content, f);
		fclose(f);
	}
	return p;
}

/* ---- readers ---------------------------------------------------------------- */

Test(records, darshan_per_file_counters)
{
	struct tg_records rs = {0};
	char err[512];
	cr_assert_eq(tg_records_load(FIX "darshan-posix.txt", &rs, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rs.n, 2, "two POSIX records (STDIO skipped)");
	const struct tg_record *w = &rs.r[0], *r = &rs.r[1];
	cr_assert_eq(w->id, 9457796068806373448ULL);
	cr_assert_str_eq(w->cls, "hacc_io", "class is the executable's basename, not its path");
	cr_assert_eq(w->workflow, 424242);
	cr_assert_eq(w->bytes_written, 67108864);
	cr_assert_eq(w->writes, 64);
	cr_assert_eq(w->write_hist[5], 64, "1M_4M is bucket 5");
	cr_assert_eq(w->size, 67108864, "size = max byte + 1");
	cr_assert_float_eq(w->lifetime, 40.0, 1e-9);
	cr_assert_eq(w->v[1], 4, "a shared record (rank -1) spans nprocs ranks");
	cr_assert_eq(w->v[4], 0, "never read: no consumer");
	/* Writes ran from 2 s to 40 s of a life from 1 s to 41 s: nothing in
	 * the read curve, the write curve flat inside and half in the edge bins. */
	for (int i = 0; i < TG_BINS; i++)
		cr_assert_eq(w->curve[i], 0.0f);
	cr_assert_float_eq(w->curve[TG_BINS + 10], 1.0f, 1e-6);
	cr_assert_float_eq(w->curve[TG_BINS + 0], 0.5f, 1e-6);
	cr_assert_eq(r->reads, 100);
	cr_assert_eq(r->bytes_read, 409600);
	cr_assert_float_eq(r->seq_frac, 0.99, 1e-9);
	cr_assert_eq(r->v[4], 1);
	cr_assert_eq(r->v[3], 67108864.0 + 409600.0, "wf_bytes is the job's bytes");
	tg_records_free(&rs);
}

Test(records, darshan_total_is_one_job_record)
{
	struct tg_records rs = {0};
	char err[512];
	cr_assert_eq(tg_records_load(FIX "darshan-total.txt", &rs, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rs.n, 1);
	cr_assert_eq(rs.r[0].bytes_read, 409600);
	cr_assert_eq(rs.r[0].bytes_written, 67108864);
	cr_assert_eq(rs.r[0].opens, 5);
	cr_assert_float_eq(rs.r[0].lifetime, 59.0, 1e-9);
	tg_records_free(&rs);
}

Test(records, dxt_segments_fold_into_records)
{
	struct tg_records rs = {0};
	char err[512];
	cr_assert_eq(tg_records_load(FIX "dxt.txt", &rs, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rs.n, 2);
	const struct tg_record *a = &rs.r[0], *b = &rs.r[1];
	cr_assert_str_eq(a->cls, "ior");
	cr_assert_eq(a->writes, 4);
	cr_assert_eq(a->reads, 4);
	cr_assert_eq(a->bytes_written, 4 * 262144);
	cr_assert_eq(a->size, 4 * 262144);
	cr_assert_float_eq(a->seq_frac, 6.0 / 8.0, 1e-9, "the first request per direction is not sequential");
	cr_assert_float_eq(a->lifetime, 2.0, 1e-9);
	/* Writes in the first 0.4 s (bins 0-3), reads from 1.0 s (bins 10-19). */
	cr_assert_gt(a->curve[TG_BINS + 0], 0.0f);
	cr_assert_eq(a->curve[TG_BINS + 5], 0.0f);
	cr_assert_eq(a->curve[5], 0.0f);
	cr_assert_gt(a->curve[12], 0.0f);
	cr_assert_eq(b->writes, 2);
	cr_assert_eq(b->write_hist[0], 2, "50-byte writes are bucket 0");
	tg_records_free(&rs);
}

static int same_record(const struct tg_record *a, const struct tg_record *b)
{
	if (a->id != b->id || a->workflow != b->workflow || strcmp(a->cls, b->cls) || a->size != b->size ||
	    a->bytes_read != b->bytes_read || a->bytes_written != b->bytes_written || a->reads != b->reads ||
	    a->writes != b->writes || a->opens != b->opens || fabs(a->lifetime - b->lifetime) > 1e-6 * (1 + a->lifetime) ||
	    fabs(a->seq_frac - b->seq_frac) > 1e-5)
		return 0;
	for (int i = 0; i < TG_NV; i++)
		if (a->v[i] != b->v[i])
			return 0;
	for (int i = 0; i < TG_HIST; i++)
		if (a->read_hist[i] != b->read_hist[i] || a->write_hist[i] != b->write_hist[i])
			return 0;
	for (int i = 0; i < TG_CURVE; i++)
		if (fabsf(a->curve[i] - b->curve[i]) > 1e-5f)
			return 0;
	return 1;
}

Test(records, csv_round_trip, .init = mk_tmp, .fini = rm_tmp)
{
	struct tg_records rs = {0}, back = {0};
	char err[512];
	cr_assert_eq(tg_records_load(FIX "darshan-posix.txt", &rs, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tg_records_load(FIX "dxt.txt", &rs, err, sizeof(err)), 0, "%s", err);
	const char *p = tmp_file("r.csv", NULL);
	cr_assert_eq(tg_records_write_csv(&rs, p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tg_records_load(p, &back, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(back.n, rs.n);
	for (size_t i = 0; i < rs.n; i++)
		cr_assert(same_record(&rs.r[i], &back.r[i]), "record %zu differs after the round trip", i);
	tg_records_free(&rs);
	tg_records_free(&back);
}

Test(records, daemon_recorder_lines_read_back, .init = mk_tmp, .fini = rm_tmp)
{
	/* The daemon's recorder (fs/recorder.c) without a mount: its lines
	 * must be what the trainer's strict reader takes. */
	struct trec *r;
	char err[512];
	const char *p = tmp_file("files.csv", NULL);
	cr_assert_eq(trec_create(p, NULL, &r, err, sizeof(err)), 0, "%s", err);
	/* A decision as the placement core gives it for a known file: large
	 * wf_bytes stay, "no consumer" distances become -1. */
	struct tpl_decision dec = {.known = 1};
	const double vals[7] = {2, 3, 40, 5e12, 0, TPL_DIST_NONE, TPL_DIST_NONE};
	dec.v.n = 7;
	memcpy(dec.v.values, vals, sizeof(vals));
	struct trec_file *f = trec_file_new(r, "out/a.dat", NULL), *g = trec_file_new(r, "b", &dec);
	cr_assert(f && g);
	trec_file_open(f);
	for (int i = 0; i < 4; i++)
		trec_io(f, 1, (uint64_t)i * 65536, 65536);
	trec_file_open(f);
	trec_io(f, 0, 500000, 50);
	trec_io(f, 0, 0, 1000); /* back: not sequential (forward would be, as in Darshan) */
	trec_file_finish(f, 262144);
	trec_file_open(g);
	trec_file_finish(g, 0);
	cr_assert_eq(trec_count(r), 2);
	trec_destroy(r);
	struct tg_records rs = {0};
	cr_assert_eq(tg_records_read_csv(p, &rs, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rs.n, 2);
	const struct tg_record *a = &rs.r[0];
	cr_assert_neq(a->id, rs.r[1].id, "ids are unique");
	cr_assert_eq(a->workflow, rs.r[1].workflow, "one run");
	cr_assert_str_eq(a->cls, "");
	cr_assert_eq(a->size, 262144);
	cr_assert_eq(a->bytes_written, 262144);
	cr_assert_eq(a->writes, 4);
	cr_assert_eq(a->write_hist[3], 4);
	cr_assert_eq(a->bytes_read, 1050);
	cr_assert_eq(a->reads, 2);
	cr_assert_eq(a->read_hist[2], 1);
	cr_assert_eq(a->read_hist[0], 1);
	cr_assert_eq(a->opens, 2);
	cr_assert_float_eq(a->seq_frac, 3.0 / 6.0, 1e-6, "3 appends follow a write; neither read does");
	cr_assert_eq(a->v[5], -1, "no workflow: no next use");
	float mx = 0;
	for (int i = 0; i < TG_BINS; i++)
		mx = fmaxf(mx, a->curve[TG_BINS + i]);
	cr_assert_float_eq(mx, 1.0f, 1e-6, "the write curve is normalised by its maximum");
	cr_assert_eq(rs.r[1].v[0], 2);
	cr_assert_eq(rs.r[1].v[3], 5e12, "wf_bytes is kept however large");
	cr_assert_eq(rs.r[1].v[5], -1);
	cr_assert_eq(rs.r[1].v[6], -1);
	cr_assert_eq(rs.r[1].opens, 1);
	cr_assert_eq(rs.r[1].bytes_written, 0);
	tg_records_free(&rs);
}

/* The bin of a curve's maximum (1 after normalising), and how many bins
 * are not empty. */
static void curve_shape(const float *c, int *top, int *used)
{
	*top = -1;
	*used = 0;
	for (int i = 0; i < TG_BINS; i++) {
		if (c[i] > 0)
			(*used)++;
		if (c[i] >= 1.0f - 1e-6f && *top < 0)
			*top = i;
	}
}

Test(records, packed_profile_of_a_closed_file_is_kept, .init = mk_tmp, .fini = rm_tmp)
{
	/* A file nobody has open has its time profile packed
	 * (trec_file_idle) and unpacked at its next request: the record is
	 * the one of a file never packed that saw the same requests at the
	 * same moments (a bin apart at most: the two were created a few
	 * microseconds apart). */
	struct trec *r;
	char err[512];
	const char *p = tmp_file("files.csv", NULL);
	cr_assert_eq(trec_create(p, NULL, &r, err, sizeof(err)), 0, "%s", err);
	struct trec_file *plain = trec_file_new(r, "plain", NULL), *packed = trec_file_new(r, "packed", NULL);
	cr_assert(plain && packed);
	trec_file_idle(packed); /* nothing to pack yet */
	const struct timespec gap = {0, 20 * 1000000L};
	for (int burst = 0; burst < 3; burst++) {
		struct trec_file *both[2] = {plain, packed};
		for (int k = 0; k < 2; k++) {
			trec_io(both[k], 1, (uint64_t)burst << 20, (uint64_t)(burst + 1) << 16);
			if (burst > 0)
				trec_io(both[k], 0, 0, (uint64_t)burst << 12);
		}
		trec_file_idle(packed);
		trec_file_idle(packed); /* twice: already packed */
		nanosleep(&gap, NULL);
	}
	trec_file_finish(plain, 3 << 20);
	trec_file_finish(packed, 3 << 20);
	trec_destroy(r);
	struct tg_records rs = {0};
	cr_assert_eq(tg_records_read_csv(p, &rs, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rs.n, 2);
	const struct tg_record *a = &rs.r[0], *b = &rs.r[1];
	cr_assert_eq(b->bytes_written, a->bytes_written);
	cr_assert_eq(b->bytes_read, a->bytes_read);
	for (int d = 0; d < 2; d++) {
		int ta, ua, tb, ub;
		curve_shape(a->curve + d * TG_BINS, &ta, &ua);
		curve_shape(b->curve + d * TG_BINS, &tb, &ub);
		cr_assert_geq(tb, 0, "the packed file's %s curve is empty", d ? "write" : "read");
		cr_assert_leq(abs(ta - tb), 1, "%s peak in bin %d, unpacked %d", d ? "write" : "read", tb, ta);
		cr_assert_leq(abs(ua - ub), 1, "%s bins used %d, unpacked %d", d ? "write" : "read", ub, ua);
		cr_assert_geq(ub, d ? 3 : 2, "every burst is in the %s curve", d ? "write" : "read");
	}
	tg_records_free(&rs);
}

static void expect_refused(const char *path, const char *needle1, const char *needle2)
{
	struct tg_records rs = {0};
	char err[512] = "";
	cr_assert_neq(tg_records_load(path, &rs, err, sizeof(err)), 0, "%s was accepted", path);
	cr_assert_eq(rs.n, 0, "a refused file adds no records");
	cr_assert(strstr(err, needle1) && strstr(err, needle2), "message '%s' should name '%s' and '%s'", err, needle1,
		  needle2);
}

Test(records, malformed_darshan_and_dxt_refused)
{
	expect_refused(FIX "bad-darshan-value.txt", ":40:", "POSIX_BYTES_READ");
	expect_refused(FIX "bad-darshan-row.txt", ":40:", "counter row");
	expect_refused(FIX "bad-dxt-row.txt", ":23:", "START <= END");
	expect_refused(FIX "bad-dxt-orphan.txt", ":2:", "before any '# DXT, file_id:'");
}

Test(records, malformed_csv_refused, .init = mk_tmp, .fini = rm_tmp)
{
	char good[4096], err[512];
	struct tg_records rs = {0};
	cr_assert_eq(tg_records_load(FIX "dxt.txt", &rs, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tg_record_format(&rs.r[0], good, sizeof(good)), 0);
	tg_records_free(&rs);
	char buf[12288]; /* the header and two 4 KiB rows */
	snprintf(buf, sizeof(buf), "id,workflow,klass\n%s\n", good);
	expect_refused(tmp_file("h.csv", buf), "not a record file", "id,workflow,class");
	snprintf(buf, sizeof(buf), "%s\n%s\n", TG_CSV_HEADER, "1,2,ior,0,1");
	expect_refused(tmp_file("short.csv", buf), ":2:", "5 columns, expected 78");
	/* Column 12 (bytes_read) made negative. */
	char bad[4096];
	strcpy(bad, good);
	char *p = bad;
	for (int i = 0; i < 11; i++)
		p = strchr(p, ',') + 1;
	memmove(p + 1, p, strlen(p) + 1);
	*p = '-';
	snprintf(buf, sizeof(buf), "%s\n%s\n%s\n", TG_CSV_HEADER, good, bad);
	expect_refused(tmp_file("neg.csv", buf), ":3:", "'bytes_read'");
	/* A curve point above 1. */
	strcpy(bad, good);
	char *last = strrchr(bad, ',');
	strcpy(last, ",1.5");
	snprintf(buf, sizeof(buf), "%s\n%s\n", TG_CSV_HEADER, bad);
	expect_refused(tmp_file("curve.csv", buf), "'wc19'", "[0,1]");
	strcpy(bad, good);
	p = strstr(bad, ",ior,");
	cr_assert_not_null(p);
	memcpy(p + 1, "i/r", 3);
	snprintf(buf, sizeof(buf), "%s\n%s\n", TG_CSV_HEADER, bad);
	expect_refused(tmp_file("path.csv", buf), "column 3", "class name");
}

/* ---- kernels ------------------------------------------------------------- */

static void mlp_fd_check(int bce)
{
	uint64_t rng = 42;
	struct tg_mlp m;
	const int widths[2] = {7, 5};
	cr_assert_eq(tg_mlp_init(&m, 6, 4, widths, 2, 2, &rng), 0);
	m.bce = bce;
	enum { ROWS = 5 };
	float X[ROWS * 6], T[ROWS * 4];
	for (int i = 0; i < ROWS * 6; i++)
		X[i] = (float)(2 * tg_rand_unif(&rng) - 1);
	for (int i = 0; i < ROWS * 4; i++)
		T[i] = (float)tg_rand_unif(&rng);
	/* Blocks start near the identity; perturb so every path matters. */
	for (size_t i = 0; i < m.np; i++)
		m.p[i] += (float)(0.3 * (tg_rand_unif(&rng) - 0.5));
	float *g = malloc(m.np * sizeof(float));
	tg_mlp_loss_grad(&m, X, T, ROWS, g, NULL);
	size_t checked = 0;
	for (size_t i = 0; i < m.np; i++) {
		float keep = m.p[i];
		/* Small enough not to cross a LeakyReLU kink, large enough for float. */
		const float h = 1e-3f;
		m.p[i] = keep + h;
		double lp = tg_mlp_loss_grad(&m, X, T, ROWS, NULL, NULL);
		m.p[i] = keep - h;
		double lm = tg_mlp_loss_grad(&m, X, T, ROWS, NULL, NULL);
		m.p[i] = keep;
		double fd = (lp - lm) / (2 * h);
		checked += fabs(fd) > 1e-4;
		cr_assert(fabs(fd - g[i]) < 2e-3 + 0.05 * fabs(fd), "%s: param %zu: backprop %g, finite difference %g",
			  bce ? "cross-entropy" : "squared error", i, (double)g[i], fd);
	}
	cr_assert_gt(checked, m.np / 2, "most parameters have a visible gradient (%zu of %zu)", checked, m.np);
	free(g);
	tg_mlp_free(&m);
}

Test(kernels, mlp_backprop_matches_finite_differences)
{
	mlp_fd_check(0);
	mlp_fd_check(1);
}

/* A log-density with a known gradient for the KL check: N(c, 0.5^2 I). */
static double gauss_lp(void *ud, const double *x, double *grad)
{
	const double *c = ud;
	double s = 0;
	for (int i = 0; i < 4; i++) {
		double d = x[i] - c[i];
		s += d * d;
		if (grad)
			grad[i] = -d / 0.25;
	}
	return -s / 0.5;
}

static void random_flow(struct tg_flow *f, uint64_t *rng)
{
	cr_assert_eq(tg_flow_alloc(f, 4, 3), 0);
	for (int i = 0; i < 12; i++) {
		f->u[i] = 2 * tg_rand_unif(rng) - 1;
		f->w[i] = 2 * tg_rand_unif(rng) - 1;
	}
	for (int k = 0; k < 3; k++)
		f->b[k] = tg_rand_unif(rng) - 0.5;
	/* Layer 1: raw u opposite to w (w.u < -1), which the
	 * parameterisation must still make invertible. */
	for (int i = 0; i < 4; i++)
		f->u[4 + i] = -2 * f->w[4 + i];
}

/* log|det| of a 4x4 matrix by Gaussian elimination with pivoting. */
static double logabsdet4(double a[4][4])
{
	double ld = 0;
	for (int c = 0; c < 4; c++) {
		int p = c;
		for (int r = c + 1; r < 4; r++)
			if (fabs(a[r][c]) > fabs(a[p][c]))
				p = r;
		for (int k = 0; k < 4; k++) {
			double t = a[c][k];
			a[c][k] = a[p][k];
			a[p][k] = t;
		}
		ld += log(fabs(a[c][c]));
		for (int r = c + 1; r < 4; r++) {
			double m = a[r][c] / a[c][c];
			for (int k = c; k < 4; k++)
				a[r][k] -= m * a[c][k];
		}
	}
	return ld;
}

Test(kernels, planar_logdet_matches_numeric_jacobian)
{
	uint64_t rng = 7;
	struct tg_flow f;
	random_flow(&f, &rng);
	for (int trial = 0; trial < 5; trial++) {
		double z[4], y[4], yp[4], ym[4], J[4][4];
		for (int i = 0; i < 4; i++)
			z[i] = 1.5 * tg_rand_normal(&rng);
		double ld = tg_flow_forward(&f, z, y);
		for (int j = 0; j < 4; j++) {
			double zz[4];
			memcpy(zz, z, sizeof(zz));
			zz[j] += 1e-6;
			tg_flow_forward(&f, zz, yp);
			zz[j] -= 2e-6;
			tg_flow_forward(&f, zz, ym);
			for (int i = 0; i < 4; i++)
				J[i][j] = (yp[i] - ym[i]) / 2e-6;
		}
		double num = logabsdet4(J);
		cr_assert_float_eq(ld, num, 1e-5, "trial %d: flow log|det| %g, numeric Jacobian %g", trial, ld, num);
	}
	tg_flow_free(&f);
}

Test(kernels, planar_kl_gradient_matches_finite_differences)
{
	uint64_t rng = 9;
	struct tg_flow f;
	random_flow(&f, &rng);
	double Z[6 * 4], c[4] = {0.5, -0.3, 1.0, 0.2};
	for (int i = 0; i < 24; i++)
		Z[i] = tg_rand_normal(&rng);
	double gu[12], gw[12], gb[3];
	tg_flow_kl(&f, Z, 6, gauss_lp, c, gu, gw, gb);
	double *params[3] = {f.u, f.w, f.b}, *grads[3] = {gu, gw, gb};
	int sizes[3] = {12, 12, 3};
	for (int a = 0; a < 3; a++)
		for (int i = 0; i < sizes[a]; i++) {
			double keep = params[a][i];
			params[a][i] = keep + 1e-6;
			double lp = tg_flow_kl(&f, Z, 6, gauss_lp, c, NULL, NULL, NULL);
			params[a][i] = keep - 1e-6;
			double lm = tg_flow_kl(&f, Z, 6, gauss_lp, c, NULL, NULL, NULL);
			params[a][i] = keep;
			double fd = (lp - lm) / 2e-6;
			cr_assert(fabs(fd - grads[a][i]) < 1e-5 + 1e-4 * fabs(fd), "%s[%d]: analytic %g, finite difference %g",
				  a == 0 ? "u" : a == 1 ? "w" : "b", i, grads[a][i], fd);
		}
	tg_flow_free(&f);
}

/* ---- fit, determinism, decoder --------------------------------------------- */

/* Records of three classes whose curves depend on their own features
 * (where the write peak sits follows the lifetime), so a trace generator
 * that pairs files with their own curves can learn them. */
static void synth_records(struct tg_records *rs, uint64_t seed, int runs)
{
	static const char *const cls[3] = {"stage_in", "align", "merge"};
	uint64_t rng = seed;
	for (int wf = 0; wf < runs; wf++)
		for (int c = 0; c < 3; c++)
			for (int k = 0; k < 4; k++) {
				struct tg_record r = {0};
				r.id = (uint64_t)(wf * 100 + c * 10 + k);
				r.workflow = (uint64_t)wf;
				strcpy(r.cls, cls[c]);
				r.v[0] = c;
				r.v[1] = 4;
				r.v[2] = 12;
				r.v[3] = 1e9;
				r.v[4] = c < 2 ? 1 + k % 2 : 0;
				r.v[5] = c < 2 ? 1 : -1;
				r.v[6] = c < 2 ? 1 + k % 2 : -1;
				double life = 1 + 50 * tg_rand_unif(&rng);
				r.lifetime = life;
				r.size = (uint64_t)exp(10 + 6 * tg_rand_unif(&rng));
				r.bytes_written = r.size;
				r.writes = 1 + r.size / 1000000;
				r.write_hist[tg_hist_bucket(r.size / r.writes)] = r.writes;
				if (c < 2) {
					r.bytes_read = r.size * (1 + (uint64_t)k % 2);
					r.reads = 2 * r.writes;
					r.read_hist[tg_hist_bucket(r.bytes_read / r.reads)] = r.reads;
				}
				r.opens = 1 + r.v[4];
				r.seq_frac = 0.5 + 0.5 * tg_rand_unif(&rng);
				double rb[TG_BINS] = {0}, wb[TG_BINS] = {0};
				int peak = (int)(life / 52 * 9);
				for (int i = 0; i < TG_BINS; i++) {
					wb[i] = exp(-(i - peak) * (i - peak) / 4.0);
					rb[i] = c < 2 ? exp(-(i - peak - 10) * (i - peak - 10) / 6.0) : 0;
				}
				tg_record_set_curves(&r, rb, wb);
				cr_assert_eq(tg_records_push(rs, &r), 0);
			}
}

static struct tg_gen *fit_small(const struct tg_records *rs, uint64_t seed)
{
	struct tg_fit_options o;
	tg_fit_options_default(&o);
	o.seed = seed;
	o.epochs = 20;
	o.flow_iters = 40;
	o.flow_layers = 4;
	o.keep_real = 1;
	struct tg_gen *g = NULL;
	char err[512];
	cr_assert_eq(tg_fit(rs, &o, &g, err, sizeof(err)), 0, "%s", err);
	return g;
}

Test(fit, same_seed_same_bytes_and_save_load_round_trip, .init = mk_tmp, .fini = rm_tmp)
{
	struct tg_records rs = {0};
	synth_records(&rs, 5, 10);
	struct tg_gen *a = fit_small(&rs, 11), *b = fit_small(&rs, 11), *c = fit_small(&rs, 12);
	char *ja, *jb, *jc, *jl, err[512];
	cr_assert_eq(tg_gen_to_json(a, &ja), 0);
	cr_assert_eq(tg_gen_to_json(b, &jb), 0);
	cr_assert_eq(tg_gen_to_json(c, &jc), 0);
	cr_assert_str_eq(ja, jb, "same records and seed must give the same generator bytes");
	cr_assert_str_neq(ja, jc, "another seed gives another generator");
	const char *p = tmp_file("gen.json", NULL);
	cr_assert_eq(tg_gen_save(a, p, err, sizeof(err)), 0, "%s", err);
	struct tg_gen *l;
	cr_assert_eq(tg_gen_load(p, &l, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tg_gen_to_json(l, &jl), 0);
	cr_assert_str_eq(ja, jl, "load(save(g)) writes the same bytes");
	cr_assert_eq(tg_gen_class_count(l), 3);
	cr_assert_geq(tg_gen_class_index(l, "align"), 0);
	free(ja);
	free(jb);
	free(jc);
	free(jl);
	tg_gen_destroy(a);
	tg_gen_destroy(b);
	tg_gen_destroy(c);
	tg_gen_destroy(l);
	tg_records_free(&rs);
}

Test(fit, trace_generator_learns_own_curves)
{
	struct tg_records all = {0}, train = {0}, test = {0};
	synth_records(&all, 3, 24);
	cr_assert_eq(tg_split(&all, 0.25, 1, &train, &test), 0);
	cr_assert_gt(test.n, 0);
	cr_assert_gt(train.n, test.n);
	struct tg_fit_options o;
	tg_fit_options_default(&o);
	o.epochs = 120;
	o.flow_iters = 60;
	struct tg_gen *g = NULL;
	char err[512];
	cr_assert_eq(tg_fit(&train, &o, &g, err, sizeof(err)), 0, "%s", err);
	struct tg_eval e;
	cr_assert_eq(tg_evaluate(g, &train, &test, 2, &e, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(e.files, test.n);
	/* The curves follow the lifetime, which the class mean ignores. */
	cr_assert_lt(e.rmse_tg, e.rmse_class_mean, "trace generator %g vs class mean %g", e.rmse_tg,
		     e.rmse_class_mean);
	cr_assert_leq(e.rmse_tg, 0.2);
	cr_assert_eq(e.ks_mean[TG_FG_JITTER], -1, "no real vectors kept: no jitter figure");
	cr_assert_geq(e.ks_mean[TG_FG_FLOW], 0);
	cr_assert_leq(e.ks_mean[TG_FG_FLOW], 1);
	tg_gen_destroy(g);
	tg_records_free(&all);
	tg_records_free(&train);
	tg_records_free(&test);
}

/* Parse an operation stream: times never go back, every read and write
 * of a file lies between an open of it and its close, writes only under
 * an open for writing (w or rw), reads under r or rw, no file left open.
 * Files are named as the workflow names them.  Returns the number of
 * operations. */
static size_t check_ops(const char *path, size_t nfiles)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	char line[512];
	cr_assert_not_null(fgets(line, sizeof(line), f));
	cr_assert_str_eq(line, "# tierfs-ops 1\n");
	char **names = calloc(nfiles, sizeof(char *));
	int *open_mode = calloc(nfiles, sizeof(int)); /* 0 closed, 'r', 'w', 'b' */
	size_t known = 0, n = 0;
	double last = 0;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		double t;
		char op[8], file[256], a[32] = "";
		unsigned long long len = 0;
		int k = sscanf(line, "%lf %7s %255s %31s %llu", &t, op, file, a, &len);
		cr_assert_geq(k, 3, "line '%s'", line);
		cr_assert_geq(t, last, "time goes back at '%s'", line);
		last = t;
		size_t idx = 0;
		while (idx < known && strcmp(names[idx], file) != 0)
			idx++;
		if (idx == known) {
			cr_assert_lt(known, nfiles, "more files in the stream than in the workflow");
			names[known++] = strdup(file);
		}
		if (strcmp(op, "open") == 0) {
			cr_assert_eq(open_mode[idx], 0, "'%s': already open", line);
			cr_assert(strcmp(a, "r") == 0 || strcmp(a, "w") == 0 || strcmp(a, "rw") == 0, "'%s'", line);
			open_mode[idx] = a[1] ? 'b' : a[0];
		} else if (strcmp(op, "close") == 0) {
			cr_assert_neq(open_mode[idx], 0, "'%s': not open", line);
			open_mode[idx] = 0;
		} else {
			cr_assert(strcmp(op, "read") == 0 || strcmp(op, "write") == 0, "'%s'", line);
			cr_assert_eq(k, 5, "'%s'", line);
			cr_assert_gt(len, 0);
			cr_assert(open_mode[idx] == 'b' || open_mode[idx] == (op[0] == 'w' ? 'w' : 'r'),
				  "'%s' outside a matching open", line);
		}
		n++;
	}
	for (size_t i = 0; i < known; i++) {
		cr_assert_eq(open_mode[i], 0, "file %s left open", names[i]);
		free(names[i]);
	}
	free(names);
	free(open_mode);
	fclose(f);
	return n;
}

Test(decode, workflows_parse_with_our_reader, .init = mk_tmp, .fini = rm_tmp)
{
	struct tg_records rs = {0};
	synth_records(&rs, 8, 8);
	struct tg_gen *g = fit_small(&rs, 4);
	char err[512];
	for (int fg = 0; fg < TG_FG_NKINDS; fg++) {
		struct tg_decode_options o = {.seed = 3, .files = 30, .fg = (enum tg_fg_kind)fg};
		char jp[256], op[256];
		snprintf(jp, sizeof(jp), "%s/wf%d.json", tmpdir, fg);
		snprintf(op, sizeof(op), "%s/wf%d.ops", tmpdir, fg);
		cr_assert_eq(tg_decode_workflow(g, &o, (uint32_t)fg, jp, op, err, sizeof(err)), 0, "%s", err);
		wf_graph *w;
		cr_assert_eq(wf_load(jp, NULL, &w, err, sizeof(err)), 0, "%s", err);
		struct wf_summary s;
		wf_get_summary(w, &s);
		cr_assert_eq(s.format, WF_FORMAT_WFJSON_SPEC);
		cr_assert_eq(s.files, 30);
		cr_assert_gt(s.tasks, 0);
		cr_assert_eq(s.warnings, 0);
		/* Every file has its producer, at the level it was sampled for:
		 * the skeleton's classes sit at levels 0, 1, 2. */
		for (uint32_t i = 0; i < s.files; i++) {
			struct wf_file_features ff;
			cr_assert_eq(wf_file_info(w, i, &ff), 0);
			cr_assert_not_null(ff.producer_id, "file %s has no producer", ff.name);
			cr_assert_leq(ff.producer_level, 2);
		}
		wf_destroy(w);
		cr_assert_gt(check_ops(op, 30), 60);
	}
	/* Same seed, same workflow. */
	struct tg_decode_options o = {.seed = 3, .files = 30, .fg = TG_FG_FLOW};
	const char *p1 = tmp_file("a.json", NULL), *p2 = tmp_file("b.json", NULL);
	cr_assert_eq(tg_decode_workflow(g, &o, 1, p1, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tg_decode_workflow(g, &o, 1, p2, NULL, err, sizeof(err)), 0, "%s", err);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "cmp -s %s %s", p1, p2);
	cr_assert_eq(system(cmd), 0, "same seed and index must give the same workflow");
	tg_gen_destroy(g);
	tg_records_free(&rs);
}

Test(decode, files_on_a_generator_skeleton, .init = mk_tmp, .fini = rm_tmp)
{
	/* Records whose classes are Montage categories ("" = staged inputs):
	 * those files get sampled sizes, the rest the skeleton's drawn ones. */
	struct tg_records rs = {0};
	synth_records(&rs, 8, 8);
	for (size_t i = 0; i < rs.n; i++)
		strcpy(rs.r[i].cls, strcmp(rs.r[i].cls, "stage_in") == 0 ? "" :
				    strcmp(rs.r[i].cls, "align") == 0  ? "mProject" : "mDiffFit");
	struct tg_gen *g = fit_small(&rs, 4);
	char err[512], jp[256], op[256];
	snprintf(jp, sizeof(jp), "%s/m.json", tmpdir);
	snprintf(op, sizeof(op), "%s/m.ops", tmpdir);
	struct tg_decode_options o = {.seed = 5, .fg = TG_FG_GAUSS};
	cr_assert_eq(tg_decode_skeleton(g, &o, "montage", 2, 0, jp, op, err, sizeof(err)), 0, "%s", err);
	gen_dag *dag;
	cr_assert_eq(gen_skeleton("montage", 2, NULL, &dag, err, sizeof(err)), 0, "%s", err);
	wf_graph *w;
	cr_assert_eq(wf_load(jp, NULL, &w, err, sizeof(err)), 0, "%s", err);
	struct wf_summary s;
	wf_get_summary(w, &s);
	cr_assert_eq(s.tasks, gen_dag_task_count(dag), "the skeleton's tasks");
	cr_assert_eq(s.files, gen_dag_file_count(dag), "the skeleton's files");
	/* mProject outputs carry sizes the generator sampled: within the
	 * training records' range (e^10 .. e^16 bytes). */
	uint32_t sampled = 0;
	for (uint32_t i = 0; i < s.files; i++) {
		struct wf_file_features ff;
		cr_assert_eq(wf_file_info(w, i, &ff), 0);
		if (ff.producer_category && strcmp(ff.producer_category, "mProject") == 0) {
			cr_assert_geq(ff.size, (uint64_t)exp(9.5), "%s: %llu bytes", ff.name, (unsigned long long)ff.size);
			cr_assert_leq(ff.size, (uint64_t)exp(16.5), "%s: %llu bytes", ff.name, (unsigned long long)ff.size);
			sampled++;
		}
	}
	cr_assert_gt(sampled, 0);
	cr_assert_gt(check_ops(op, s.files), s.files);
	wf_destroy(w);
	gen_dag_destroy(dag);
	char bad[64] = "";
	cr_assert_eq(tg_decode_skeleton(g, &o, "nosuchkind", 0, 0, jp, NULL, bad, sizeof(bad)), -EINVAL);
	cr_assert(strstr(bad, "nosuchkind"), "%s", bad);
	tg_gen_destroy(g);
	tg_records_free(&rs);
}

/* ---- malformed generator files --------------------------------------------- */

static void expect_gen_refused(const char *json, const char *needle)
{
	struct tg_gen *g = (struct tg_gen *)1;
	char err[512] = "";
	cr_assert_neq(tg_gen_load_buffer(json, strlen(json), "gen.json", &g, err, sizeof(err)), 0, "accepted: %.80s",
		      json);
	cr_assert_null(g);
	cr_assert(strstr(err, needle), "message '%s' should name '%s'", err, needle);
}

Test(decode, malformed_generator_refused)
{
	struct tg_records rs = {0};
	synth_records(&rs, 8, 4);
	struct tg_gen *g = fit_small(&rs, 4);
	char *good;
	cr_assert_eq(tg_gen_to_json(g, &good), 0);
	size_t n = strlen(good);
	char *cut = strndup(good, n / 2);
	expect_gen_refused(cut, "malformed JSON");
	expect_gen_refused("{\"format\": \"something-else\"}", "format");
	expect_gen_refused("[1, 2]", "format");
	/* Edit one key at a time in an otherwise good file. */
	struct {
		const char *from, *to, *needle;
	} edits[] = {
		{"\"version\":1", "\"version\":2", "version"},
		{"\"fmin\":[", "\"fmin\":[\"x\",", "fmin"},
		{"\"mean_curve\":[", "\"mean_curve\":[0.5,", "classes[0].mean_curve: expected 40 numbers, got 41"},
		{"\"chol\":", "\"cholesky\":", "classes[0].gauss.chol: missing"},
		{"\"sigma\":[", "\"sigma\":[-1,", "classes[0].flow.sigma"},
		{"\"params\":[", "\"params\":[1,", "trace.params: expected"},
		{"\"name\":\"align\"", "\"name\":\"../etc\"", "classes[0]: name"},
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char *at = strstr(good, edits[i].from);
		cr_assert_not_null(at, "fixture edit %zu: '%s' not found", i, edits[i].from);
		size_t pre = (size_t)(at - good);
		char *bad = malloc(n + 64);
		memcpy(bad, good, pre);
		strcpy(bad + pre, edits[i].to);
		strcat(bad, at + strlen(edits[i].from));
		expect_gen_refused(bad, edits[i].needle);
		free(bad);
	}
	/* The first fmax (a log1p value) made absurd: past 2^64 bytes. */
	char *fm = strstr(good, "\"fmax\":[");
	cr_assert_not_null(fm);
	char *comma = strchr(fm, ',');
	char *bad = malloc(n + 64);
	size_t pre = (size_t)(fm - good) + 8;
	memcpy(bad, good, pre);
	strcpy(bad + pre, "99");
	strcat(bad, comma);
	expect_gen_refused(bad, "fmax: expected log1p-scaled values in [0, 45]");
	free(bad);
	free(cut);
	free(good);
	tg_gen_destroy(g);
	tg_records_free(&rs);
}
