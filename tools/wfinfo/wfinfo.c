/* wfinfo: inspect a workflow description through tier_parser, without a
 * mount. The same report `tierctl workflow inspect` is to print.
 *
 *   wfinfo inspect FILE [--json]   format, counts, levels, declared bytes
 *   wfinfo lookup FILE PATH...     features V1-V7 of files as the daemon
 *                                  would look them up
 * Exit status: 0 ok, 1 the workflow did not load or a lookup missed,
 * 2 usage. Warnings about repaired values go to stderr.
 */
#include "workflow.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void log_stderr(void *ud, enum wf_log_level level, const char *msg)
{
	(void)ud;
	fprintf(stderr, "wfinfo: %s: %s\n", level == WF_LOG_WARN ? "warning" : "info", msg);
}

static int usage(void)
{
	fprintf(stderr, "usage: wfinfo inspect FILE [--json]\n       wfinfo lookup FILE PATH...\n");
	return 2;
}

static int inspect_json(const wf_graph *g)
{
	char *txt;
	int rc = wf_report_json(g, &txt);
	if (rc) {
		fprintf(stderr, "wfinfo: cannot build the JSON report: %s\n", strerror(-rc));
		return 1;
	}
	puts(txt);
	free(txt);
	return 0;
}

static void inspect_text(const struct wf_summary *s)
{
	printf("format:               %s\n", wf_format_name(s->format));
	printf("name:                 %s\n", s->name);
	printf("tasks:                %" PRIu32 "\n", s->tasks);
	printf("files:                %" PRIu32 "\n", s->files);
	printf("edges:                %" PRIu64 " (explicit %" PRIu64 ", file-implied %" PRIu64 ")\n",
	       s->edges, s->explicit_edges, s->implied_edges);
	printf("levels:               %" PRIu32 " (widest %" PRIu32 " task%s)\n", s->levels, s->max_width,
	       s->max_width == 1 ? "" : "s");
	printf("declared bytes:       %" PRIu64 "\n", s->declared_bytes);
	printf("multi-producer files: %" PRIu32 "\n", s->multi_producer_files);
	printf("size conflicts:       %" PRIu32 "\n", s->size_conflicts);
	printf("repaired:             %" PRIu32 " sizes, %" PRIu32 " runtimes\n",
	       s->repaired_sizes, s->repaired_runtimes);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	const char *cmd = argv[1], *path = argv[2];
	bool json = argc > 3 && strcmp(argv[3], "--json") == 0;
	if (strcmp(cmd, "inspect") != 0 && strcmp(cmd, "lookup") != 0)
		return usage();
	struct wf_options opts = { .log = json ? NULL : log_stderr };
	char err[1024];
	wf_graph *g;
	int rc = wf_load(path, &opts, &g, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "wfinfo: %s\n", err);
		return 1;
	}
	struct wf_summary s;
	wf_get_summary(g, &s);
	int status = 0;
	if (strcmp(cmd, "inspect") == 0) {
		if (json)
			status = inspect_json(g);
		else
			inspect_text(&s);
	} else {
		for (int i = 3; i < argc; i++) {
			struct wf_file_features f;
			rc = wf_file_features(g, argv[i], &f);
			if (rc) {
				printf("%s: not in the workflow (%s)\n", argv[i], strerror(-rc));
				status = 1;
				continue;
			}
			printf("%s -> %s: V1=%" PRIu32 " V2=%" PRIu32 " V3=%" PRIu32 " V4=%" PRIu64
			       " V5=%" PRIu32 " V6=%" PRId64 " V7=%" PRId64 " size=%" PRIu64 " producer=%s\n",
			       argv[i], f.name, f.producer_level, f.producer_width, f.wf_tasks, f.wf_bytes,
			       f.consumers,
			       f.next_use_distance == WF_DIST_NONE ? -1 : (int64_t)f.next_use_distance,
			       f.last_use_distance == WF_DIST_NONE ? -1 : (int64_t)f.last_use_distance,
			       f.size, f.producer_id ? f.producer_id : "-");
		}
	}
	wf_destroy(g);
	return status;
}
