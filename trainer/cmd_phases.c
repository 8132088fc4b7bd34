/*
 * cmd_phases.c - `tiertrain phases`: learn the phases of a mount's load
 * from monitor series (`tierctl series`, the series.csv a mount leaves in
 * its state directory) and report them: per-phase profiles (share, dwell
 * times, quantiles of fill and write rates per tier), the transition
 * matrix, and how well the matrix predicts the next phase (F1 over the
 * phase changes seen in the series).
 *
 * With --model the phases of an existing model are reported on the given
 * series instead of training a new one (evaluation on series it has not
 * seen).  All the learning is in monitor/ (mon_phase_*); this file parses
 * options and prints.
 */
#include "commands.h"
#include "monitor.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: tiertrain phases SERIES.csv... -o PHASES.json [options]\n"
		"       tiertrain phases SERIES.csv... --model PHASES.json [--json]\n"
		"\n"
		"Learn the load phases of monitor series (a conditional RBM over the frames,\n"
		"k-means++ over its hidden activations, k by silhouette), save the model and\n"
		"print per-phase profiles and the transition matrix.\n"
		"\n"
		"  -o, --output FILE     write the phase model (JSON) here\n"
		"  -m, --model FILE      report an existing model's phases on the series\n"
		"      --hidden N        hidden units (default 16)\n"
		"      --history K       previous frames conditioning each frame (default 4)\n"
		"      --epochs N        at most (default 200)\n"
		"      --batch N         windows per CD-1 step, 1 = plain SGD (default 64)\n"
		"      --lr X            learning rate (default 0.01)\n"
		"      --patience N      epochs without held-out improvement (default 8)\n"
		"      --holdout X       share of each series held out for early stop (default 0.2)\n"
		"      --kmin N, --kmax N  phases tried (default 2..8)\n"
		"      --hysteresis N    ticks before a phase change is adopted (default 2)\n"
		"      --seed N          seed of every random choice (default 1)\n"
		"  -j, --json            print the report as JSON\n"
		"  -q, --quiet           no training progress on stderr\n");
}

static void progress(void *ud, const char *msg)
{
	(void)ud;
	fprintf(stderr, "tiertrain phases: %s\n", msg);
}

static int parse_u(const char *opt, const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi || *s == '-') {
		fprintf(stderr, "tiertrain phases: %s \"%s\": expected an integer from %lu to %lu\n", opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_d(const char *opt, const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !isfinite(v)) {
		fprintf(stderr, "tiertrain phases: %s \"%s\": expected a number\n", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* Next-phase prediction from the transition matrix: at each change of the
 * labelled phase, the predicted next phase is the likeliest other one. */
struct f1 {
	size_t k, changes, correct;
	size_t tp[16], fp[16], fn[16];
};

static void score_changes(const struct mon_phase *ph, const int *lab, size_t n, struct f1 *f)
{
	for (size_t t = 1; t < n; t++) {
		if (lab[t - 1] < 0 || lab[t] < 0 || lab[t] == lab[t - 1])
			continue;
		int pred = -1;
		double best = 0;
		for (size_t j = 0; j < f->k; j++) {
			double p = mon_phase_transition(ph, (size_t)lab[t - 1], j);
			if ((int)j != lab[t - 1] && p > best)
				best = p, pred = (int)j;
		}
		f->changes++;
		if (pred == lab[t]) {
			f->correct++;
			f->tp[lab[t]]++;
		} else {
			f->fn[lab[t]]++;
			if (pred >= 0)
				f->fp[pred]++;
		}
	}
}

static double macro_f1(const struct f1 *f)
{
	double sum = 0;
	size_t n = 0;
	for (size_t j = 0; j < f->k; j++) {
		if (!f->tp[j] && !f->fp[j] && !f->fn[j])
			continue; /* a phase never entered nor predicted */
		double prec = f->tp[j] + f->fp[j] ? (double)f->tp[j] / (double)(f->tp[j] + f->fp[j]) : 0;
		double rec = f->tp[j] + f->fn[j] ? (double)f->tp[j] / (double)(f->tp[j] + f->fn[j]) : 0;
		sum += prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
		n++;
	}
	return n ? sum / (double)n : NAN;
}

static const char *human(double bps, char *buf, size_t len)
{
	static const char *const unit[] = {"", "K", "M", "G", "T"};
	double a = fabs(bps);
	int u = 0;
	while (a >= 1024 && u < 4)
		a /= 1024, u++;
	snprintf(buf, len, "%s%.3g%s", bps < 0 ? "-" : "", a, unit[u]);
	return buf;
}

static void print_table(const struct mon_phase *ph, const struct f1 *f, size_t nseries)
{
	const struct mon_phase_info *in = mon_phase_info(ph);
	printf("phases: %zu (silhouette %.3f) from %zu windows of %zu series; CRBM V %zu H %zu K %zu, %u epochs (best %u), reconstruction error %.4f train, %.4f held out; tick %.3g s\n",
	       in->k, in->silhouette, in->windows, nseries, in->visible, in->hidden, in->history, in->epochs_run,
	       in->best_epoch, in->train_error, in->holdout_error, mon_phase_tick_s(ph));
	printf("\n%-5s %6s %7s %6s %9s %9s %9s", "phase", "share", "frames", "visits", "dwell_avg", "dwell_q50",
	       "dwell_max");
	for (size_t t = 0; t < in->ntiers; t++) {
		const char *n = mon_phase_tier_name(ph, t);
		char h1[80], h2[80];
		snprintf(h1, sizeof(h1), "%s_fill_q50/q95", n);
		snprintf(h2, sizeof(h2), "%s_write_q50/q95", n);
		printf(" %17s %17s", h1, h2);
	}
	printf("\n");
	for (size_t i = 0; i < in->k; i++) {
		const struct mon_phase_profile *p = mon_phase_profile(ph, i);
		printf("%-5zu %5.1f%% %7llu %6llu %8.1fs %8.1fs %8.1fs", i, 100 * p->share, (unsigned long long)p->frames,
		       (unsigned long long)p->visits, p->dwell_mean_s, p->dwell_q50_s, p->dwell_max_s);
		for (size_t t = 0; t < in->ntiers; t++) {
			char a[24], b[24], c[24], d[24], s1[64], s2[64];
			snprintf(s1, sizeof(s1), "%s/%s", human(p->fill_q50[t], a, sizeof(a)), human(p->fill_q95[t], b, sizeof(b)));
			snprintf(s2, sizeof(s2), "%s/%s", human(p->write_q50[t], c, sizeof(c)),
				 human(p->write_q95[t], d, sizeof(d)));
			printf(" %17s %17s", s1, s2);
		}
		printf("\n");
	}
	printf("\ntransitions P(next tick | phase):\n%-5s", "from");
	for (size_t j = 0; j < in->k; j++)
		printf(" %7zu", j);
	printf("\n");
	for (size_t i = 0; i < in->k; i++) {
		printf("%-5zu", i);
		for (size_t j = 0; j < in->k; j++)
			printf(" %7.4f", mon_phase_transition(ph, i, j));
		printf("\n");
	}
	printf("\nnext-phase prediction (likeliest other phase at each change): %zu changes, %zu right, macro F1 %.3f\n",
	       f->changes, f->correct, macro_f1(f));
}

static int print_json(const struct mon_phase *ph, const struct f1 *f)
{
	const struct mon_phase_info *in = mon_phase_info(ph);
	cJSON *o = cJSON_CreateObject(), *ps = cJSON_AddArrayToObject(o, "phases");
	cJSON *tr = cJSON_AddArrayToObject(o, "transitions");
	if (!o || !ps || !tr) {
		cJSON_Delete(o);
		return -1;
	}
	cJSON_AddNumberToObject(o, "k", (double)in->k);
	cJSON_AddNumberToObject(o, "silhouette", in->silhouette);
	cJSON_AddNumberToObject(o, "windows", (double)in->windows);
	cJSON_AddNumberToObject(o, "epochs_run", in->epochs_run);
	cJSON_AddNumberToObject(o, "train_error", in->train_error);
	cJSON_AddNumberToObject(o, "holdout_error", in->holdout_error);
	cJSON_AddNumberToObject(o, "tick_s", mon_phase_tick_s(ph));
	cJSON_AddNumberToObject(o, "changes", (double)f->changes);
	cJSON_AddNumberToObject(o, "next_phase_correct", (double)f->correct);
	cJSON_AddNumberToObject(o, "next_phase_f1", macro_f1(f));
	for (size_t i = 0; i < in->k; i++) {
		const struct mon_phase_profile *p = mon_phase_profile(ph, i);
		cJSON *q = cJSON_CreateObject(), *row = cJSON_CreateArray();
		cJSON_AddItemToArray(ps, q);
		cJSON_AddItemToArray(tr, row);
		for (size_t j = 0; j < in->k; j++)
			cJSON_AddItemToArray(row, cJSON_CreateNumber(mon_phase_transition(ph, i, j)));
		cJSON_AddNumberToObject(q, "phase", (double)i);
		cJSON_AddNumberToObject(q, "share", p->share);
		cJSON_AddNumberToObject(q, "frames", (double)p->frames);
		cJSON_AddNumberToObject(q, "visits", (double)p->visits);
		cJSON_AddNumberToObject(q, "dwell_mean_s", p->dwell_mean_s);
		cJSON_AddNumberToObject(q, "dwell_q50_s", p->dwell_q50_s);
		cJSON_AddNumberToObject(q, "dwell_max_s", p->dwell_max_s);
		cJSON *tiers = cJSON_AddObjectToObject(q, "tiers");
		for (size_t t = 0; t < in->ntiers; t++) {
			cJSON *x = cJSON_AddObjectToObject(tiers, mon_phase_tier_name(ph, t));
			cJSON_AddNumberToObject(x, "fill_q50", p->fill_q50[t]);
			cJSON_AddNumberToObject(x, "fill_q95", p->fill_q95[t]);
			cJSON_AddNumberToObject(x, "write_q50", p->write_q50[t]);
			cJSON_AddNumberToObject(x, "write_q95", p->write_q95[t]);
			cJSON_AddNumberToObject(x, "read_q50", p->read_q50[t]);
			cJSON_AddNumberToObject(x, "read_q95", p->read_q95[t]);
		}
	}
	char *s = cJSON_Print(o);
	cJSON_Delete(o);
	if (!s)
		return -1;
	puts(s);
	cJSON_free(s);
	return 0;
}

int tt_cmd_phases(int argc, char **argv)
{
	enum { O_HIDDEN = 256, O_HISTORY, O_EPOCHS, O_BATCH, O_LR, O_PATIENCE, O_HOLDOUT, O_KMIN, O_KMAX, O_HYST, O_SEED };
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},	   {"model", required_argument, NULL, 'm'},
	    {"hidden", required_argument, NULL, O_HIDDEN},   {"history", required_argument, NULL, O_HISTORY},
	    {"epochs", required_argument, NULL, O_EPOCHS},   {"batch", required_argument, NULL, O_BATCH},
	    {"lr", required_argument, NULL, O_LR},	   {"patience", required_argument, NULL, O_PATIENCE},
	    {"holdout", required_argument, NULL, O_HOLDOUT}, {"kmin", required_argument, NULL, O_KMIN},
	    {"kmax", required_argument, NULL, O_KMAX},	   {"hysteresis", required_argument, NULL, O_HYST},
	    {"seed", required_argument, NULL, O_SEED},	   {"json", no_argument, NULL, 'j'},
	    {"quiet", no_argument, NULL, 'q'},		   {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	struct mon_phase_params p;
	mon_phase_defaults(&p);
	p.log = progress;
	const char *output = NULL, *model = NULL;
	int json = 0, c;
	unsigned long u;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:m:jqh", opts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'o': output = optarg; break;
		case 'm': model = optarg; break;
		case 'j': json = 1; break;
		case 'q': p.log = NULL; break;
		case 'h': usage(stdout); return 0;
		case O_HIDDEN: bad = parse_u("--hidden", optarg, 1, 256, &u); p.hidden = u; break;
		case O_HISTORY: bad = parse_u("--history", optarg, 1, 32, &u); p.history = u; break;
		case O_EPOCHS: bad = parse_u("--epochs", optarg, 1, 100000, &u); p.epochs = (unsigned)u; break;
		case O_BATCH: bad = parse_u("--batch", optarg, 1, 65536, &u); p.batch = (unsigned)u; break;
		case O_PATIENCE: bad = parse_u("--patience", optarg, 1, 100000, &u); p.patience = (unsigned)u; break;
		case O_KMIN: bad = parse_u("--kmin", optarg, 2, 16, &u); p.kmin = (unsigned)u; break;
		case O_KMAX: bad = parse_u("--kmax", optarg, 2, 16, &u); p.kmax = (unsigned)u; break;
		case O_HYST: bad = parse_u("--hysteresis", optarg, 1, 1000, &u); p.hysteresis = (unsigned)u; break;
		case O_SEED: bad = parse_u("--seed", optarg, 0, ~0UL, &u); p.seed = u; break;
		case O_LR: bad = parse_d("--lr", optarg, &p.lr); break;
		case O_HOLDOUT: bad = parse_d("--holdout", optarg, &p.holdout); break;
		default: usage(stderr); return 2;
		}
		if (bad)
			return 2;
	}
	size_t n = (size_t)(argc - optind);
	if (!n || (!output && !model) || (output && model)) {
		fprintf(stderr, "tiertrain phases: give SERIES.csv files and either -o PHASES.json (train) or --model PHASES.json (report)\n");
		usage(stderr);
		return 2;
	}
	struct mon_series **s = calloc(n, sizeof(*s));
	struct mon_phase *ph = NULL;
	char err[512];
	int ret = 1;
	if (!s)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (mon_read_csv(argv[optind + (int)i], &s[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "tiertrain phases: %s\n", err);
			goto out;
		}
	if (model) {
		if (mon_phase_load(model, &ph, err, sizeof(err)) != 0) {
			fprintf(stderr, "tiertrain phases: %s\n", err);
			goto out;
		}
	} else {
		if (mon_phase_train((const struct mon_series *const *)s, n, &p, &ph, err, sizeof(err)) != 0) {
			fprintf(stderr, "tiertrain phases: %s\n", err);
			goto out;
		}
		if (mon_phase_save(ph, output, err, sizeof(err)) != 0) {
			fprintf(stderr, "tiertrain phases: %s\n", err);
			goto out;
		}
	}
	struct f1 f = {.k = mon_phase_info(ph)->k};
	for (size_t i = 0; i < n; i++) {
		int *lab = malloc((s[i]->nframes ? s[i]->nframes : 1) * sizeof(int));
		if (!lab || mon_phase_label(ph, s[i], lab, err, sizeof(err)) != 0) {
			fprintf(stderr, "tiertrain phases: %s: %s\n", argv[optind + (int)i], lab ? err : "out of memory");
			free(lab);
			goto out;
		}
		score_changes(ph, lab, s[i]->nframes, &f);
		free(lab);
	}
	if (json) {
		if (print_json(ph, &f) != 0) {
			fprintf(stderr, "tiertrain phases: out of memory\n");
			goto out;
		}
	} else
		print_table(ph, &f, n);
	if (output && !json)
		printf("\nmodel written to %s\n", output);
	ret = 0;
out:
	mon_phase_destroy(ph);
	for (size_t i = 0; s && i < n; i++)
		mon_series_destroy(s[i]);
	free(s);
	return ret;
}
