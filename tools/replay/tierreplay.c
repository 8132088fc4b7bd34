/* tierreplay: run a workflow's I/O against a directory and report how long
 * it took, which tiers the files went to, and whether every byte read back
 * was the byte written.
 *
 *   tierreplay WORKFLOW DIR [--workers N] [--scale S] [--time-scale T]
 *              [--compute none|sleep|spin] [--json] [--seed N] [--no-cache]
 *              [--chunk BYTES]
 *              [--stage-only | --no-stage] [--ops STREAM]
 *
 * Exit status: 0 the run completed and verified, 1 the run failed (a
 * mismatch, a missing or short input, an I/O error), 2 bad usage or bad
 * input (options, workflow file, directory, file names). The report goes
 * to stdout, diagnostics to stderr.
 */
#define _GNU_SOURCE
#include "replay.h"
#include "workflow.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum stage_mode { STAGE_NORMAL, STAGE_ONLY, STAGE_NONE };

struct args {
	const char *workflow, *dir;
	struct rp_options o;
	bool json, time_scale_set;
	enum stage_mode stage;
	const char *ops; /* --ops: play this operation stream instead of the tasks */
};

struct type_row {
	const char *name;
	uint32_t tasks;
	double io_s;
	uint64_t read_bytes, write_bytes;
};

static const char *const compute_names[] = { "none", "sleep", "spin" };

static void usage(FILE *to)
{
	fprintf(to, "usage: tierreplay WORKFLOW DIR [--workers N] [--scale S] [--time-scale T] [--compute none|sleep|spin] [--json] [--seed N] [--no-cache] [--chunk BYTES] [--stage-only | --no-stage] [--ops STREAM]\n");
}

static void help(void)
{
	usage(stdout);
	printf("\n"
	       "Run the I/O of WORKFLOW (Pegasus DAX 2.1/3.x, Pegasus 5 YAML, WfFormat JSON 1.0-1.5) against\n"
	       "directory DIR (a tierfs mount or any directory) and report makespan, I/O time and bytes per tier.\n"
	       "Files no task produces are staged first, outside the clock; each task then reads its inputs,\n"
	       "verifying every byte, optionally computes, and writes its outputs.\n"
	       "\n"
	       "  --workers N        tasks run at once on N threads (1..%d, default 1)\n"
	       "  --scale S          bytes written = declared size x S (default 1)\n"
	       "  --time-scale T     compute seconds = declared runtime x T (default S)\n"
	       "  --compute MODE     none (default), sleep or spin for the scaled runtime\n"
	       "  --json             print the report as JSON\n"
	       "  --seed N           varies the content of every file (default 0)\n"
	       "  --no-cache         drop an input's cached pages before reading it, so every read\n"
	       "                     reaches the storage (as the simulator assumes)\n"
	       "  --chunk BYTES      bytes per read and write call (4096..67108864, default 1048576)\n"
	       "  --stage-only       stage the input files and stop\n"
	       "  --no-stage         run with the input files already in DIR (from --stage-only)\n"
	       "  --ops STREAM       play the per-file operation stream STREAM (tiertrain generate --learned)\n"
	       "                     instead of the tasks: its opens, reads, writes and closes in time order,\n"
	       "                     paced by --time-scale (0 = full speed); no staging\n"
	       "\n"
	       "Exit status: 0 verified run, 1 failed run (mismatch, missing input, I/O error), 2 bad usage or input.\n",
	       RP_MAX_WORKERS);
}

/* A usage error: message, usage line, exit status 2. */
__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "tierreplay: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	return 2;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static bool parse_nonneg(const char *s, double *out)
{
	char *end;
	double v;
	if (!s || !*s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0)
		return false;
	*out = v;
	return true;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "workers", required_argument, NULL, 'w' },  { "scale", required_argument, NULL, 's' },
		{ "time-scale", required_argument, NULL, 'T' }, { "compute", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },            { "seed", required_argument, NULL, 'S' },
		{ "stage-only", no_argument, NULL, 'O' },      { "no-stage", no_argument, NULL, 'N' },
		{ "chunk", required_argument, NULL, 'K' },
		{ "no-cache", no_argument, NULL, 'C' },        { "help", no_argument, NULL, 'h' },
		{ "ops", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	uint64_t u;
	memset(a, 0, sizeof(*a));
	a->o.workers = 1;
	a->o.scale = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (!parse_u64(optarg, &u) || u < 1 || u > RP_MAX_WORKERS)
				return bad("--workers '%s': expected a whole number from 1 to 1024", optarg);
			a->o.workers = (unsigned)u;
			break;
		case 's':
			if (!parse_nonneg(optarg, &a->o.scale) || a->o.scale <= 0)
				return bad("--scale '%s': expected a number greater than 0", optarg);
			break;
		case 'T':
			if (!parse_nonneg(optarg, &a->o.time_scale))
				return bad("--time-scale '%s': expected a number 0 or greater", optarg);
			a->time_scale_set = true;
			break;
		case 'c':
			for (c = 0; c < 3 && strcmp(optarg, compute_names[c]); c++)
				;
			if (c == 3)
				return bad("--compute '%s': expected none, sleep or spin", optarg);
			a->o.compute = (enum rp_compute)c;
			break;
		case 'j':
			a->json = true;
			break;
		case 'S':
			if (!parse_u64(optarg, &a->o.seed))
				return bad("--seed '%s': expected a whole number 0 or greater", optarg);
			break;
		case 'C':
			a->o.no_cache = true;
			break;
		case 'K':
			if (!parse_u64(optarg, &u) || u < 4096 || u > ((uint64_t)64 << 20))
				return bad("--chunk '%s': expected a whole number of bytes from 4096 to 67108864", optarg);
			a->o.chunk = (size_t)u;
			break;
		case 'O':
		case 'N':
			if (a->stage != STAGE_NORMAL)
				return bad("%s: --stage-only and --no-stage exclude each other", argv[optind - 1]);
			a->stage = c == 'O' ? STAGE_ONLY : STAGE_NONE;
			break;
		case 'P':
			a->ops = optarg;
			break;
		case 'h':
			help();
			return 0;
		default:
			return bad("option '%s' is unknown or lacks its value", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return bad("%s", argc - optind < 2 ? "expected a WORKFLOW file and a DIR" : "too many arguments: expected only WORKFLOW and DIR");
	a->workflow = argv[optind];
	a->dir = argv[optind + 1];
	if (!a->time_scale_set)
		a->o.time_scale = a->o.scale;
	return -1;
}

static void log_note(void *ud, const char *msg)
{
	(void)ud;
	fprintf(stderr, "tierreplay: %s\n", msg);
}

static void log_wf(void *ud, enum wf_log_level level, const char *msg)
{
	(void)ud;
	fprintf(stderr, "tierreplay: %s: %s\n", level == WF_LOG_WARN ? "warning" : "note", msg);
}

/* Per-type totals in order of first appearance; few types, linear search. */
static struct type_row *by_type(const rp_run *r, uint32_t ntasks, uint32_t *nrows)
{
	struct type_row *rows = calloc(ntasks ? ntasks : 1, sizeof(*rows));
	uint32_t n = 0;
	if (!rows)
		return NULL;
	for (uint32_t t = 0; t < ntasks; t++) {
		struct rp_task_result res;
		uint32_t k;
		if (rp_task_result(r, t, &res) < 0)
			continue;
		for (k = 0; k < n && strcmp(rows[k].name, res.category); k++)
			;
		if (k == n)
			rows[n++].name = res.category;
		rows[k].tasks++;
		rows[k].io_s += res.io_s;
		rows[k].read_bytes += res.read_bytes;
		rows[k].write_bytes += res.write_bytes;
	}
	*nrows = n;
	return rows;
}

static int report_json(const struct args *a, const struct wf_summary *ws, const rp_run *r, bool ran)
{
	struct rp_summary s;
	uint32_t nrows = 0;
	struct type_row *rows;
	cJSON *root = cJSON_CreateObject(), *o;
	char *text;
	rp_get_summary(r, &s);
	cJSON_AddStringToObject(root, "workflow", ws->name);
	cJSON_AddStringToObject(root, "format", wf_format_name(ws->format));
	cJSON_AddStringToObject(root, "dir", a->dir);
	cJSON_AddNumberToObject(root, "workers", a->o.workers);
	cJSON_AddNumberToObject(root, "scale", a->o.scale);
	cJSON_AddNumberToObject(root, "time_scale", a->o.time_scale);
	cJSON_AddStringToObject(root, "compute", compute_names[a->o.compute]);
	cJSON_AddNumberToObject(root, "seed", (double)a->o.seed);
	cJSON_AddBoolToObject(root, "no_cache", a->o.no_cache);
	cJSON_AddNumberToObject(root, "chunk", (double)(a->o.chunk ? a->o.chunk : (size_t)1 << 20));
	cJSON_AddNumberToObject(root, "staged_files", s.staged_files);
	cJSON_AddNumberToObject(root, "staged_bytes", (double)s.staged_bytes);
	cJSON_AddNumberToObject(root, "stage_s", s.stage_s);
	if (ran) {
		cJSON_AddNumberToObject(root, "makespan_s", s.makespan_s);
		cJSON_AddNumberToObject(root, "io_time_s", s.io_time_s);
		cJSON_AddNumberToObject(root, "verify_time_s", s.verify_time_s);
		cJSON_AddNumberToObject(root, "read_bytes", (double)s.read_bytes);
		cJSON_AddNumberToObject(root, "write_bytes", (double)s.write_bytes);
		cJSON_AddNumberToObject(root, "tasks_done", s.tasks_done);
		o = cJSON_AddObjectToObject(root, "bytes_per_tier");
		for (uint32_t i = 0; i < rp_tier_count(r); i++) {
			const char *name;
			uint64_t bytes;
			if (rp_tier_bytes(r, i, &name, &bytes, NULL) == 0)
				cJSON_AddNumberToObject(o, name, (double)bytes);
		}
		cJSON_AddBoolToObject(root, "verified", s.verified);
	}
	if (rp_error(r)[0])
		cJSON_AddStringToObject(root, "error", rp_error(r));
	else
		cJSON_AddNullToObject(root, "error");
	if (ran) {
		rows = by_type(r, s.tasks, &nrows);
		o = cJSON_AddObjectToObject(root, "io_by_type");
		for (uint32_t k = 0; rows && k < nrows; k++) {
			cJSON *t = cJSON_AddObjectToObject(o, rows[k].name);
			cJSON_AddNumberToObject(t, "tasks", rows[k].tasks);
			cJSON_AddNumberToObject(t, "io_s", rows[k].io_s);
			cJSON_AddNumberToObject(t, "read_bytes", (double)rows[k].read_bytes);
			cJSON_AddNumberToObject(t, "write_bytes", (double)rows[k].write_bytes);
		}
		free(rows);
		o = cJSON_AddArrayToObject(root, "tasks");
		for (uint32_t t = 0; t < s.tasks; t++) {
			struct rp_task_result res;
			cJSON *e;
			if (rp_task_result(r, t, &res) < 0)
				continue;
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "name", res.id);
			cJSON_AddStringToObject(e, "type", res.category);
			cJSON_AddBoolToObject(e, "done", res.done);
			cJSON_AddNumberToObject(e, "start", res.start);
			cJSON_AddNumberToObject(e, "end", res.end);
			cJSON_AddNumberToObject(e, "read_bytes", (double)res.read_bytes);
			cJSON_AddNumberToObject(e, "write_bytes", (double)res.write_bytes);
			cJSON_AddNumberToObject(e, "io_s", res.io_s);
			cJSON_AddNumberToObject(e, "verify_s", res.verify_s);
			cJSON_AddNumberToObject(e, "compute_s", res.compute_s);
			cJSON_AddItemToArray(o, e);
		}
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text) {
		fprintf(stderr, "tierreplay: out of memory printing the JSON report\n");
		return -ENOMEM;
	}
	puts(text);
	free(text);
	return 0;
}

static const char *human(uint64_t b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return buf;
}

static void report_table(const struct args *a, const struct wf_summary *ws, const rp_run *r, bool ran)
{
	struct rp_summary s;
	char h1[32], h2[32];
	uint32_t nrows = 0;
	struct type_row *rows;
	rp_get_summary(r, &s);
	printf("workflow   %s (%s): %u tasks, %u files\n", ws->name[0] ? ws->name : "(unnamed)",
	       wf_format_name(ws->format), ws->tasks, ws->files);
	printf("replay     into %s: %u workers, scale %g, compute %s (time scale %g), seed %" PRIu64 "\n", a->dir,
	       a->o.workers, a->o.scale, compute_names[a->o.compute], a->o.time_scale, a->o.seed);
	printf("staged     %u files, %s in %.3f s\n", s.staged_files, human(s.staged_bytes, h1, sizeof(h1)), s.stage_s);
	if (!ran)
		return;
	printf("makespan   %.3f s\n", s.makespan_s);
	printf("I/O time   %.3f s in file system calls over %u of %u tasks; read %s, written %s\n", s.io_time_s,
	       s.tasks_done, s.tasks, human(s.read_bytes, h1, sizeof(h1)), human(s.write_bytes, h2, sizeof(h2)));
	printf("checking   %.3f s making and verifying content\n", s.verify_time_s);
	printf("verified   %s\n", s.verified ? "yes, every byte read matched" : "NO");
	rows = by_type(r, s.tasks, &nrows);
	printf("\n%-24s %6s %10s %15s %15s\n", "TASK TYPE", "TASKS", "I/O S", "READ BYTES", "WRITTEN BYTES");
	for (uint32_t k = 0; rows && k < nrows; k++)
		printf("%-24s %6u %10.3f %15" PRIu64 " %15" PRIu64 "\n", rows[k].name, rows[k].tasks, rows[k].io_s,
		       rows[k].read_bytes, rows[k].write_bytes);
	free(rows);
	printf("\n%-24s %6s %15s\n", "TIER", "FILES", "BYTES");
	for (uint32_t i = 0; i < rp_tier_count(r); i++) {
		const char *name;
		uint64_t bytes;
		uint32_t files;
		if (rp_tier_bytes(r, i, &name, &bytes, &files) == 0)
			printf("%-24s %6u %15" PRIu64 "\n", name, files, bytes);
	}
}

/* --ops: play a synthetic operation stream (tiertrain generate --learned)
 * instead of the workflow's tasks; the time scale paces it (0 = full speed). */
static int play_ops(const struct args *a, const wf_graph *g)
{
	struct rp_ops_summary s;
	char err[1024];
	int rc = rp_play_ops(g, a->ops, a->dir, &a->o, &s, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "tierreplay: %s\n", err);
		return rc == -EINVAL ? 2 : 1;
	}
	if (a->json)
		printf("{\"ops\": %" PRIu64 ", \"opens\": %" PRIu64 ", \"reads\": %" PRIu64 ", \"writes\": %" PRIu64
		       ", \"read_bytes\": %" PRIu64 ", \"write_bytes\": %" PRIu64 ", \"short_reads\": %" PRIu64
		       ", \"elapsed_s\": %.6f, \"io_s\": %.6f}\n",
		       s.ops, s.opens, s.reads, s.writes, s.read_bytes, s.write_bytes, s.short_reads, s.elapsed_s, s.io_s);
	else
		printf("operations %" PRIu64 " (%" PRIu64 " opens, %" PRIu64 " reads, %" PRIu64 " writes)\n"
		       "bytes read %" PRIu64 ", written %" PRIu64 ", reads past the end %" PRIu64 "\n"
		       "elapsed %.3f s, I/O time %.3f s\n",
		       s.ops, s.opens, s.reads, s.writes, s.read_bytes, s.write_bytes, s.short_reads, s.elapsed_s, s.io_s);
	return 0;
}

int main(int argc, char **argv)
{
	struct args a;
	struct wf_options wo = { .log = log_wf };
	struct wf_summary ws;
	struct stat st;
	wf_graph *g = NULL;
	rp_run *r = NULL;
	char err[1024];
	int rc, status = 2;
	bool ran = false;

	rc = parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	if (stat(a.dir, &st) < 0)
		return bad("directory '%s' does not exist or cannot be reached", a.dir);
	if (!S_ISDIR(st.st_mode))
		return bad("'%s' is not a directory", a.dir);
	rc = wf_load(a.workflow, &wo, &g, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "tierreplay: cannot load the workflow: %s\n", err);
		return 2;
	}
	wf_get_summary(g, &ws);
	a.o.log = log_note;
	if (a.ops) {
		status = play_ops(&a, g);
		goto out;
	}
	rc = rp_create(g, a.dir, &a.o, &r, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "tierreplay: %s: %s\n", a.workflow, err);
		goto out;
	}
	status = 1;
	if (a.stage == STAGE_NONE)
		rc = rp_clean(r);
	else
		rc = rp_stage(r);
	if (rc == 0 && a.stage != STAGE_ONLY) {
		ran = true;
		rc = rp_execute(r);
		if (rp_tier_scan(r) < 0 && rc == 0)
			rc = -ENOMEM;
	}
	if (rp_error(r)[0])
		fprintf(stderr, "tierreplay: %s\n", rp_error(r));
	if (a.json) {
		if (report_json(&a, &ws, r, ran) < 0)
			rc = -ENOMEM;
	} else {
		report_table(&a, &ws, r, ran);
	}
	if (rc == 0)
		status = 0;
out:
	rp_destroy(r);
	wf_destroy(g);
	return status;
}
