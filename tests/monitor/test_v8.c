/*
 * test_v8.c - V8 task_input_bytes as the daemon will compute it: the
 * parser names the producing task's input files, the files really exist
 * in a directory, and a stat callback measures them.  The expected sum is
 * what this test wrote, so the check does not restate the code.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor.h"
#include "workflow.h"

static int stat_size(void *arg, const char *name, uint64_t *size)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", (const char *)arg, name);
	if (stat(p, &st) != 0)
		return -errno;
	*size = (uint64_t)st.st_size;
	return 0;
}

static void make_file(const char *dir, const char *name, size_t bytes)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	int fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	cr_assert_geq(fd, 0, "%s", p);
	cr_assert_eq(ftruncate(fd, (off_t)bytes), 0);
	close(fd);
}

Test(monitor_v8, producer_inputs_measured_on_disk)
{
	char err[512];
	wf_graph *g = NULL;
	int rc =
	    wf_load(TIERFS_FIXTURES_DIR "/parser/good/mini-dax36.xml", NULL, &g, err, sizeof err);
	cr_assert_eq(rc, 0, "%s", err);

	/* The producer of out.dat and its inputs, as the daemon will find them. */
	struct wf_file_features ff;
	cr_assert_eq(wf_file_features(g, "out.dat", &ff), 0);
	cr_assert_not_null(ff.producer_id);
	struct wf_task_info ti = {0};
	int found = 0;
	for (uint32_t i = 0; i < wf_task_count(g) && !found; i++) {
		cr_assert_eq(wf_task_info(g, i, &ti), 0);
		found = strcmp(ti.id, ff.producer_id) == 0;
	}
	cr_assert(found);
	cr_assert_geq(ti.n_inputs, 2, "the fixture's final task reads several files");
	const char **names = calloc(ti.n_inputs, sizeof *names);
	for (uint32_t k = 0; k < ti.n_inputs; k++) {
		struct wf_file_features in;
		cr_assert_eq(wf_file_info(g, ti.inputs[k], &in), 0);
		names[k] = in.name;
	}

	char dir[] = "/tmp/tierfs-monv8-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	uint64_t want = 0;
	for (uint32_t k = 0; k < ti.n_inputs; k++) {
		size_t sz = 1000 * (k + 1) + 7 * k; /* differs from the declared sizes */
		make_file(dir, names[k], sz);
		want += sz;
	}
	uint64_t total = 0;
	size_t missing = 99;
	cr_assert_eq(mon_task_input_bytes(names, ti.n_inputs, stat_size, dir, &total, &missing), 0);
	cr_assert_eq(total, want);
	cr_assert_eq(missing, 0);
	cr_assert_neq(total, ti.input_bytes, "actual sizes, not the declared ones");

	/* One input gone: the sum of the rest, and the miss is counted. */
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, names[0]);
	cr_assert_eq(unlink(p), 0);
	cr_assert_eq(mon_task_input_bytes(names, ti.n_inputs, stat_size, dir, &total, &missing), 0);
	cr_assert_eq(total, want - 1000);
	cr_assert_eq(missing, 1);
	cr_assert_eq(mon_task_input_bytes(names, ti.n_inputs, stat_size, dir, &total, NULL), 0);

	for (uint32_t k = 1; k < ti.n_inputs; k++) {
		snprintf(p, sizeof p, "%s/%s", dir, names[k]);
		unlink(p);
	}
	rmdir(dir);
	free(names);
	wf_destroy(g);
}

Test(monitor_v8, edge_cases)
{
	uint64_t total = 5;
	size_t missing = 5;
	cr_assert_eq(mon_task_input_bytes(NULL, 0, stat_size, "/", &total, &missing), 0,
		     "an entry task reads nothing");
	cr_assert_eq(total, 0);
	cr_assert_eq(missing, 0);
	const char *paths[] = {NULL};
	cr_assert_eq(mon_task_input_bytes(paths, 1, stat_size, "/", &total, &missing), 0);
	cr_assert_eq(missing, 1);
	cr_assert_eq(mon_task_input_bytes(NULL, 1, stat_size, "/", &total, &missing), -EINVAL);
	cr_assert_eq(mon_task_input_bytes(paths, 1, NULL, "/", &total, &missing), -EINVAL);
	cr_assert_eq(mon_task_input_bytes(paths, 1, stat_size, "/", NULL, &missing), -EINVAL);
}
