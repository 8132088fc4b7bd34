/* cmd_generate.c - `tiertrain generate`: synthetic workflows (gen.h) as
 * WfFormat 1.5 JSON, one file or a directory of them over scales and
 * seeds; `--list` shows the kinds and what their scale means; `--stats`
 * prints per-category figures of any workflow file (generated or real)
 * through parser/, the same numbers tests/gen compares.
 *
 * The `--learned` form belongs to the learned trace generator
 * (tt_cmd_generate_learned); it is dispatched before anything else here.
 */
#include "commands.h"
#include "gen.h"
#include "workflow.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *fp)
{
	fputs("usage: tiertrain generate KIND [--scale N[,N...]] [--width W] [--seed S] [--count C]\n"
	      "                          [--size-factor F] [--runtime-factor F] [--name NAME] [-o OUT]\n"
	      "       tiertrain generate --list\n"
	      "       tiertrain generate --stats WORKFLOW...\n"
	      "       tiertrain generate --learned GEN.json ...   (the learned trace generator)\n"
	      "\n"
	      "Writes a synthetic workflow of KIND as WfFormat 1.5 JSON: the graph shape of the\n"
	      "real application at the given scale, file sizes and task runtimes drawn (seeded,\n"
	      "deterministic) from log-normal distributions fitted to the real instances\n"
	      "(tools/gen_fit.py). Same arguments, same bytes.\n"
	      "\n"
	      "  --scale N[,N...]   the kind's scale (see --list: images, chromosomes, lanes...);\n"
	      "                     several values make one file per scale\n"
	      "  --width W          the kind's second shape parameter (see --list); 0 = default\n"
	      "  --seed S           seed of the size/runtime draws (default 1)\n"
	      "  --count C          C files per scale, seeds S, S+1, ... S+C-1 (default 1)\n"
	      "  --size-factor F    multiply every file size by F (default 1)\n"
	      "  --runtime-factor F multiply every runtime by F (default 1)\n"
	      "  --name NAME        workflow name inside the JSON (default KIND-SCALE)\n"
	      "  -o, --output OUT   one workflow: the file (default standard output); several:\n"
	      "                     a directory (created), files KIND-sSCALE-SEED.json\n"
	      "  --list             the kinds, their scale and width, task-count formula, source\n"
	      "  --stats            per task category: count, runtime and output-size figures\n"
	      "  -h, --help         this text\n", fp);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_factor(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Keep this layout: tools/make-default-model.sh reads the kinds (a bare
 * name on its own line) and "(default N" from the scale line. */
static void list_kinds(void)
{
	for (size_t i = 0; i < gen_kind_count(); i++) {
		const struct gen_kind_info *k = gen_kind(i);
		printf("%s\n  scale = %s (default %" PRIu32 ", min %" PRIu32 ")\n"
		       "  width = %s (default %" PRIu32 ")\n  tasks = %s\n  sizes and runtimes: %s\n",
		       k->name, k->scale_means, k->default_scale, k->min_scale, k->width_means,
		       k->default_width, k->tasks, k->fitted_on);
	}
}

/* ---- --stats ---------------------------------------------------------- */

struct cat_stats {
	const char *name;
	double *rt;
	size_t nrt;
	double *sz;  /* sizes of the files its tasks write */
	size_t nsz;
	uint64_t bytes;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double log_mean(const double *v, size_t n)
{
	if (!n)
		return NAN;
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += log(v[i] > 1e-3 ? v[i] : 1e-3);
	return s / (double)n;
}

static int print_stats(const char *path)
{
	char err[512];
	wf_graph *g;
	int rc = wf_load(path, NULL, &g, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "tiertrain generate: %s\n", err);
		return 1;
	}
	struct wf_summary s;
	wf_get_summary(g, &s);
	uint32_t nt = wf_task_count(g);
	struct cat_stats *cs = calloc(nt ? nt : 1, sizeof(*cs));
	size_t ncs = 0;
	rc = cs ? 0 : -ENOMEM;
	for (uint32_t i = 0; i < nt && !rc; i++) {
		struct wf_task_info ti;
		if ((rc = wf_task_info(g, i, &ti)))
			break;
		size_t c = 0;
		while (c < ncs && strcmp(cs[c].name, ti.category) != 0)
			c++;
		if (c == ncs) {
			cs[c].name = ti.category;
			cs[c].rt = calloc(nt, sizeof(double));
			if (!cs[c].rt) {
				rc = -ENOMEM;
				break;
			}
			ncs++;
		}
		if (ti.runtime >= 0)
			cs[c].rt[cs[c].nrt++] = ti.runtime;
		double *nsz = realloc(cs[c].sz, (cs[c].nsz + ti.n_outputs + 1) * sizeof(double));
		if (!nsz) {
			rc = -ENOMEM;
			break;
		}
		cs[c].sz = nsz;
		for (uint32_t k = 0; k < ti.n_outputs; k++) {
			struct wf_file_features ff;
			if ((rc = wf_file_info(g, ti.outputs[k], &ff)))
				break;
			cs[c].sz[cs[c].nsz++] = (double)ff.size;
			cs[c].bytes += ff.size;
		}
	}
	if (!rc) {
		printf("%s: %s, %u tasks, %u files, %u levels (max width %u), %" PRIu64 " edges, %" PRIu64 " declared bytes\n",
		       path, wf_format_name(s.format), s.tasks, s.files, s.levels, s.max_width,
		       s.edges, s.declared_bytes);
		printf("  %-22s %6s %12s %12s %8s %14s %14s %16s\n", "category", "tasks", "rt_median",
		       "rt_logmean", "outputs", "out_median", "out_logmean", "out_bytes");
		for (size_t c = 0; c < ncs; c++) {
			double lr = log_mean(cs[c].rt, cs[c].nrt), ls = log_mean(cs[c].sz, cs[c].nsz);
			printf("  %-22.22s %6zu %12.4g %12.4f %8zu %14.6g %14.4f %16" PRIu64 "\n",
			       cs[c].name, cs[c].nrt, median(cs[c].rt, cs[c].nrt), lr, cs[c].nsz,
			       median(cs[c].sz, cs[c].nsz), ls, cs[c].bytes);
		}
	} else {
		fprintf(stderr, "tiertrain generate: %s: %s\n", path, strerror(-rc));
	}
	for (size_t c = 0; c < ncs; c++) {
		free(cs[c].rt);
		free(cs[c].sz);
	}
	free(cs);
	wf_destroy(g);
	return rc ? 1 : 0;
}

/* ---- generation -------------------------------------------------------- */

static int write_one(const char *kind, uint32_t scale, uint64_t seed,
		     const struct gen_options *opt, const char *path)
{
	char err[512];
	gen_dag *d;
	int rc = gen_skeleton(kind, scale, opt, &d, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "tiertrain generate: %s\n", err);
		return rc == -ENOMEM ? 1 : 2;
	}
	if ((rc = gen_dag_draw(d, seed, opt))) {
		fprintf(stderr, "tiertrain generate: %s: a size role or task category has no fitted distribution (trainer/gen_table.c out of date)\n",
			kind);
		gen_dag_destroy(d);
		return 1;
	}
	FILE *fp = path ? fopen(path, "w") : stdout;
	if (!fp) {
		fprintf(stderr, "tiertrain generate: cannot create %s: %s\n", path, strerror(errno));
		gen_dag_destroy(d);
		return 1;
	}
	rc = gen_dag_write_json(d, opt->name, fp);
	if (path && fclose(fp) && !rc)
		rc = -EIO;
	if (!path && fflush(stdout) && !rc)
		rc = -EIO;
	if (rc)
		fprintf(stderr, "tiertrain generate: cannot write %s: %s\n", path ? path : "standard output",
			strerror(-rc));
	gen_dag_destroy(d);
	return rc ? 1 : 0;
}

int tt_cmd_generate(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--learned") == 0 || strncmp(argv[i], "--learned=", 10) == 0)
			return tt_cmd_generate_learned(argc, argv);

	enum { O_WIDTH = 256, O_SEED, O_COUNT, O_SF, O_RF, O_NAME, O_LIST, O_STATS, O_SCALE };
	static const struct option longopts[] = {
		{ "scale", required_argument, NULL, O_SCALE },
		{ "width", required_argument, NULL, O_WIDTH },
		{ "seed", required_argument, NULL, O_SEED },
		{ "count", required_argument, NULL, O_COUNT },
		{ "size-factor", required_argument, NULL, O_SF },
		{ "runtime-factor", required_argument, NULL, O_RF },
		{ "name", required_argument, NULL, O_NAME },
		{ "output", required_argument, NULL, 'o' },
		{ "list", no_argument, NULL, O_LIST },
		{ "stats", no_argument, NULL, O_STATS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gen_options opt = { 0 };
	const char *out = NULL, *scales = NULL;
	uint64_t seed = 1, count = 1, v;
	int list = 0, stats = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		const char *a = optarg;
		switch (c) {
		case O_SCALE:
			scales = a;
			break;
		case O_WIDTH:
			if (parse_u64(a, UINT32_MAX, &v)) {
				fprintf(stderr, "tiertrain generate: --width '%s': expected an integer 0..%u\n", a, UINT32_MAX);
				return 2;
			}
			opt.width = (uint32_t)v;
			break;
		case O_SEED:
			if (parse_u64(a, UINT64_MAX, &seed)) {
				fprintf(stderr, "tiertrain generate: --seed '%s': expected an integer 0..%" PRIu64 "\n", a, UINT64_MAX);
				return 2;
			}
			break;
		case O_COUNT:
			if (parse_u64(a, 100000, &count) || count == 0) {
				fprintf(stderr, "tiertrain generate: --count '%s': expected an integer 1..100000\n", a);
				return 2;
			}
			break;
		case O_SF:
		case O_RF:
			if (parse_factor(a, c == O_SF ? &opt.size_factor : &opt.runtime_factor)) {
				fprintf(stderr, "tiertrain generate: --%s '%s': expected a positive number\n",
					c == O_SF ? "size-factor" : "runtime-factor", a);
				return 2;
			}
			break;
		case O_NAME:
			opt.name = a;
			break;
		case 'o':
			out = a;
			break;
		case O_LIST:
			list = 1;
			break;
		case O_STATS:
			stats = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "tiertrain generate: option '%s' needs a value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "tiertrain generate: unknown option '%s' (see tiertrain generate --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (list) {
		list_kinds();
		return 0;
	}
	if (stats) {
		if (optind >= argc) {
			fprintf(stderr, "tiertrain generate: --stats needs at least one workflow file\n");
			return 2;
		}
		int rc = 0;
		for (int i = optind; i < argc; i++)
			rc |= print_stats(argv[i]);
		return rc;
	}
	if (optind >= argc) {
		fprintf(stderr, "tiertrain generate: no workflow kind given (tiertrain generate --list shows them)\n");
		return 2;
	}
	if (optind + 1 < argc) {
		fprintf(stderr, "tiertrain generate: one kind at a time; unexpected '%s'\n", argv[optind + 1]);
		return 2;
	}
	const char *kind = argv[optind];
	const struct gen_kind_info *ki = gen_kind_find(kind);
	if (!ki) {
		fprintf(stderr, "tiertrain generate: unknown workflow kind '%s' (tiertrain generate --list shows them)\n", kind);
		return 2;
	}
	/* the scale list */
	uint32_t sc[256];
	size_t nsc = 0;
	if (!scales) {
		sc[nsc++] = ki->default_scale;
	} else {
		const char *p = scales;
		while (1) {
			char tok[32];
			size_t n = strcspn(p, ",");
			if (n == 0 || n >= sizeof(tok) || nsc == sizeof(sc) / sizeof(sc[0])) {
				fprintf(stderr, "tiertrain generate: --scale '%s': expected up to 256 comma-separated integers\n", scales);
				return 2;
			}
			memcpy(tok, p, n);
			tok[n] = 0;
			if (parse_u64(tok, UINT32_MAX, &v)) {
				fprintf(stderr, "tiertrain generate: --scale '%s': '%s' is not an integer 0..%u\n", scales, tok, UINT32_MAX);
				return 2;
			}
			sc[nsc++] = (uint32_t)v;
			if (!p[n])
				break;
			p += n + 1;
		}
	}
	if (seed > UINT64_MAX - count) {
		fprintf(stderr, "tiertrain generate: --seed %" PRIu64 " with --count %" PRIu64 " overflows\n", seed, count);
		return 2;
	}
	if (nsc == 1 && count == 1)
		return write_one(kind, sc[0], seed, &opt, out);
	if (!out) {
		fprintf(stderr, "tiertrain generate: several workflows (%zu scales x %" PRIu64 " seeds) need -o DIR\n",
			nsc, count);
		return 2;
	}
	if (mkdir(out, 0777) && errno != EEXIST) {
		fprintf(stderr, "tiertrain generate: cannot create directory %s: %s\n", out, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < nsc; i++)
		for (uint64_t k = 0; k < count; k++) {
			char path[4096];
			if ((size_t)snprintf(path, sizeof(path), "%s/%s-s%u-%" PRIu64 ".json", out, kind, sc[i],
					     seed + k) >= sizeof(path)) {
				fprintf(stderr, "tiertrain generate: output path under %s too long\n", out);
				return 1;
			}
			int rc = write_one(kind, sc[i], seed + k, &opt, path);
			if (rc)
				return rc;
		}
	return 0;
}
