/*
 * cmd_tracegen.c - `tiertrain tracegen` (fit, convert, check) and
 * `tiertrain generate --learned` (tt_cmd_generate_learned): the front end
 * of the learned trace generator (tracegen.h).  Progress goes to stderr
 * when it is a terminal.
 */
#include "commands.h"
#include "tracegen.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage_tracegen(FILE *fp)
{
	fprintf(fp,
		"usage: tiertrain tracegen fit RECORDS... -o GEN.json [--seed S] [--epochs N] [--flow-iters N]\n"
		"                          [--keep-real] [--holdout FRAC | --test RECORDS]... [--test-out CSV]\n"
		"       tiertrain tracegen convert INPUT... -o RECORDS.csv\n"
		"       tiertrain tracegen check RECORDS...\n"
		"\n"
		"RECORDS/INPUT: tierfs record CSV (STATE_DIR/files.csv), darshan-parser text (per-file or --total)\n"
		"or darshan-dxt-parser text, told apart by content.\n"
		"fit: learn per-class feature generators (jitter, planar flow, Gaussian) and the trace generator (MLP).\n"
		"  --holdout FRAC  keep FRAC of the runs (by workflow id) out of training and report on them:\n"
		"                  curve RMSE vs the class-mean and nearest-real baselines, KS of feature marginals\n"
		"  --test RECORDS  report on these records instead (e.g. runs of other workflows); repeatable\n"
		"  --keep-real     store the real feature vectors (the jitter baseline; the file then holds real data)\n"
		"convert: records of any input kind to the CSV form.  check: read strictly, count per class.\n");
}

static void progress(void *ud, const char *stage, long done, long total)
{
	(void)ud;
	fprintf(stderr, "\r%s: %ld/%ld", stage, done, total);
	if (done == total)
		fputc('\n', stderr);
	fflush(stderr);
}

static int parse_ulong(const char *opt, const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-' || v > max) {
		fprintf(stderr, "tiertrain: %s: expected an integer 0..%llu, got '%s'\n", opt, max, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int load_all(char **paths, int n, struct tg_records *rs)
{
	char err[512];
	for (int i = 0; i < n; i++)
		if (tg_records_load(paths[i], rs, err, sizeof(err))) {
			fprintf(stderr, "tiertrain tracegen: %s\n", err);
			return -1;
		}
	return 0;
}

static int cmd_fit(int argc, char **argv)
{
	struct tg_fit_options o;
	tg_fit_options_default(&o);
	const char *out = NULL, *test_out = NULL;
	double holdout = 0;
	char **inputs = calloc((size_t)argc, sizeof(char *)), **tests = calloc((size_t)argc, sizeof(char *));
	int ninputs = 0, ntests = 0, status = 1;
	unsigned long long v;
	struct tg_records all = {0}, train = {0}, test = {0};
	struct tg_gen *g = NULL;
	char err[512];
	if (!inputs || !tests) {
		free(inputs);
		free(tests);
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int more = i + 1 < argc;
		if (strcmp(a, "-o") == 0 && more) {
			out = argv[++i];
		} else if (strcmp(a, "--test") == 0 && more) {
			tests[ntests++] = argv[++i];
		} else if (strcmp(a, "--seed") == 0 && more) {
			if (parse_ulong(a, argv[++i], UINT64_MAX, &v))
				goto usage;
			o.seed = v;
		} else if (strcmp(a, "--epochs") == 0 && more) {
			if (parse_ulong(a, argv[++i], 1000000, &v) || !v)
				goto usage;
			o.epochs = (int)v;
		} else if (strcmp(a, "--flow-iters") == 0 && more) {
			if (parse_ulong(a, argv[++i], 10000000, &v) || !v)
				goto usage;
			o.flow_iters = (int)v;
		} else if (strcmp(a, "--keep-real") == 0) {
			o.keep_real = 1;
		} else if (strcmp(a, "--holdout") == 0 && more) {
			char *end;
			holdout = strtod(argv[++i], &end);
			if (*end || !(holdout >= 0 && holdout < 1)) {
				fprintf(stderr, "tiertrain tracegen fit: --holdout: expected a fraction in [0,1), got '%s'\n",
					argv[i]);
				goto usage;
			}
		} else if (strcmp(a, "--test-out") == 0 && more) {
			test_out = argv[++i];
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage_tracegen(stdout);
			free(inputs);
			free(tests);
			return 0;
		} else if (a[0] == '-') {
			fprintf(stderr, "tiertrain tracegen fit: unknown option '%s'\n", a);
			goto usage;
		} else {
			inputs[ninputs++] = argv[i];
		}
	}
	if (!out || !ninputs) {
		fprintf(stderr, "tiertrain tracegen fit: need RECORDS... and -o GEN.json\n");
		goto usage;
	}
	if (ntests && holdout > 0) {
		fprintf(stderr, "tiertrain tracegen fit: --holdout and --test exclude each other\n");
		goto usage;
	}
	if (isatty(STDERR_FILENO))
		o.progress = progress;
	if (load_all(inputs, ninputs, &all))
		goto done;
	if (ntests && load_all(tests, ntests, &test))
		goto done;
	if (holdout > 0) {
		if (tg_split(&all, holdout, o.seed, &train, &test)) {
			fprintf(stderr, "tiertrain tracegen fit: out of memory\n");
			goto done;
		}
	} else {
		train = all;
		all = (struct tg_records){0};
	}
	fprintf(stderr, "tiertrain tracegen fit: %zu records for training, %zu held out\n", train.n, test.n);
	if (tg_fit(&train, &o, &g, err, sizeof(err))) {
		fprintf(stderr, "tiertrain tracegen fit: %s\n", err);
		goto done;
	}
	if (tg_gen_save(g, out, err, sizeof(err))) {
		fprintf(stderr, "tiertrain tracegen fit: %s\n", err);
		goto done;
	}
	printf("classes %zu\n", tg_gen_class_count(g));
	for (size_t c = 0; c < tg_gen_class_count(g); c++)
		printf("  %-32s %zu records\n", tg_gen_class_name(g, c), tg_gen_class_records(g, c));
	if (test_out && tg_records_write_csv(&test, test_out, err, sizeof(err))) {
		fprintf(stderr, "tiertrain tracegen fit: %s\n", err);
		goto done;
	}
	if (test.n) {
		struct tg_eval e;
		if (tg_evaluate(g, &train, &test, o.seed + 1, &e, err, sizeof(err))) {
			fprintf(stderr, "tiertrain tracegen fit: evaluation: %s\n", err);
			goto done;
		}
		printf("held-out files %zu\n", e.files);
		printf("curve RMSE: trace generator %.4f, class-mean curve %.4f, nearest real file (jitter) %.4f\n",
		       e.rmse_tg, e.rmse_class_mean, e.rmse_nearest);
		printf("files with trace-generator RMSE <= 0.2: %.1f%%\n", 100 * e.frac_tg_le_02);
		for (int k = 0; k < TG_FG_NKINDS; k++) {
			if (e.ks_mean[k] < 0)
				printf("KS %-6s: n/a%s\n", tg_fg_name((enum tg_fg_kind)k),
				       k == TG_FG_JITTER && !tg_gen_has_jitter(g) ? " (fit with --keep-real)"
										  : " (no class with 5 held-out files)");
			else
				printf("KS %-6s: mean %.4f, max %.4f\n", tg_fg_name((enum tg_fg_kind)k), e.ks_mean[k],
				       e.ks_max[k]);
		}
	}
	status = 0;
	goto done;
usage:
	usage_tracegen(stderr);
	status = 2;
done:
	tg_gen_destroy(g);
	tg_records_free(&all);
	tg_records_free(&train);
	tg_records_free(&test);
	free(inputs);
	free(tests);
	return status;
}

static int cmd_convert_check(int argc, char **argv, int convert)
{
	const char *out = NULL;
	char **inputs = calloc((size_t)argc, sizeof(char *));
	int ninputs = 0, status = 1;
	struct tg_records rs = {0};
	char err[512];
	if (!inputs)
		return 1;
	for (int i = 1; i < argc; i++) {
		if (convert && strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (argv[i][0] == '-') {
			fprintf(stderr, "tiertrain tracegen %s: unknown option '%s'\n", argv[0], argv[i]);
			usage_tracegen(stderr);
			free(inputs);
			return 2;
		} else
			inputs[ninputs++] = argv[i];
	}
	if (!ninputs || (convert && !out)) {
		fprintf(stderr, "tiertrain tracegen %s: need %s\n", argv[0], convert ? "INPUT... and -o RECORDS.csv" : "RECORDS...");
		usage_tracegen(stderr);
		free(inputs);
		return 2;
	}
	if (load_all(inputs, ninputs, &rs))
		goto done;
	if (convert) {
		if (tg_records_write_csv(&rs, out, err, sizeof(err))) {
			fprintf(stderr, "tiertrain tracegen convert: %s\n", err);
			goto done;
		}
	}
	printf("%zu records\n", rs.n);
	status = 0;
done:
	tg_records_free(&rs);
	free(inputs);
	return status;
}

int tt_cmd_tracegen(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage_tracegen(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "fit") == 0)
		return cmd_fit(argc - 1, argv + 1);
	if (strcmp(argv[1], "convert") == 0)
		return cmd_convert_check(argc - 1, argv + 1, 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_convert_check(argc - 1, argv + 1, 0);
	fprintf(stderr, "tiertrain tracegen: unknown subcommand '%s'\n", argv[1]);
	usage_tracegen(stderr);
	return 2;
}

static void usage_learned(FILE *fp)
{
	fprintf(fp,
		"usage: tiertrain generate --learned GEN.json --count N -o DIR [--files N] [--fg flow|gauss|jitter]\n"
		"                          [--kind KIND [--scale N]] [--seed S] [--max-ops N] [--no-ops]\n"
		"Writes DIR/tracegen-NNNN.json (WfFormat 1.5) and DIR/tracegen-NNNN.ops (per-file operation stream:\n"
		"'TIME open FILE r|w', 'TIME read|write FILE OFFSET LENGTH', 'TIME close FILE', seconds from the start).\n"
		"--files: created files per workflow (default: the training runs' mean); --fg: feature generator\n"
		"(default flow); --max-ops: requests per file and direction at most (default 256).\n"
		"--kind: files on the DAG of a workflow generator kind (tiertrain generate --list) at --scale,\n"
		"sampled per producer category, instead of the skeleton built from the records' V1-V7.\n");
}

int tt_cmd_generate_learned(int argc, char **argv)
{
	const char *gen = NULL, *dir = NULL;
	unsigned long long count = 0, v;
	struct tg_decode_options o = {.seed = 1, .fg = TG_FG_FLOW};
	int ops = 1;
	const char *kind = NULL;
	unsigned long long scale = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int more = i + 1 < argc;
		if (strcmp(a, "--learned") == 0 && more)
			gen = argv[++i];
		else if (strncmp(a, "--learned=", 10) == 0)
			gen = a + 10;
		else if (strcmp(a, "--count") == 0 && more) {
			if (parse_ulong(a, argv[++i], 1000000, &count))
				goto usage;
		} else if (strcmp(a, "-o") == 0 && more)
			dir = argv[++i];
		else if (strcmp(a, "--files") == 0 && more) {
			if (parse_ulong(a, argv[++i], 1000000, &v))
				goto usage;
			o.files = (uint32_t)v;
		} else if (strcmp(a, "--seed") == 0 && more) {
			if (parse_ulong(a, argv[++i], UINT64_MAX, &v))
				goto usage;
			o.seed = v;
		} else if (strcmp(a, "--max-ops") == 0 && more) {
			if (parse_ulong(a, argv[++i], 100000000, &v) || !v)
				goto usage;
			o.max_ops = (double)v;
		} else if (strcmp(a, "--fg") == 0 && more) {
			if (tg_fg_parse(argv[++i], &o.fg)) {
				fprintf(stderr, "tiertrain generate: --fg: expected flow, gauss or jitter, got '%s'\n", argv[i]);
				goto usage;
			}
		} else if (strcmp(a, "--kind") == 0 && more) {
			kind = argv[++i];
		} else if (strcmp(a, "--scale") == 0 && more) {
			if (parse_ulong(a, argv[++i], 100000000, &scale))
				goto usage;
		} else if (strcmp(a, "--no-ops") == 0)
			ops = 0;
		else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage_learned(stdout);
			return 0;
		} else {
			fprintf(stderr, "tiertrain generate --learned: unknown argument '%s'\n", a);
			goto usage;
		}
	}
	if (!gen || !dir || !count) {
		fprintf(stderr, "tiertrain generate: --learned GEN.json needs --count N (N >= 1) and -o DIR\n");
		goto usage;
	}
	char err[512];
	struct tg_gen *g;
	if (tg_gen_load(gen, &g, err, sizeof(err))) {
		fprintf(stderr, "tiertrain generate: %s\n", err);
		return 1;
	}
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "tiertrain generate: %s: cannot create directory: %s\n", dir, strerror(errno));
		tg_gen_destroy(g);
		return 1;
	}
	int tty = isatty(STDERR_FILENO), status = 0;
	for (unsigned long long i = 0; i < count; i++) {
		char jp[PATH_MAX], op[PATH_MAX];
		snprintf(jp, sizeof(jp), "%s/tracegen-%04llu.json", dir, i);
		snprintf(op, sizeof(op), "%s/tracegen-%04llu.ops", dir, i);
		int rc = kind ? tg_decode_skeleton(g, &o, kind, (uint32_t)scale, (uint32_t)i, jp, ops ? op : NULL, err,
						   sizeof(err))
			      : tg_decode_workflow(g, &o, (uint32_t)i, jp, ops ? op : NULL, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "%stiertrain generate: %s\n", tty ? "\n" : "", err);
			status = 1;
			break;
		}
		if (tty)
			progress(NULL, "workflows", (long)i + 1, (long)count);
	}
	tg_gen_destroy(g);
	if (!status)
		printf("%llu workflows in %s\n", count, dir);
	return status;
usage:
	usage_learned(stderr);
	return 2;
}
