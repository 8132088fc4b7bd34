/* Helpers for the tierreplay tests (see replay_run.h): posix_spawn with
 * stdout and stderr sent to temporary files, read back whole. */
#define _GNU_SOURCE
#include "replay_run.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	cr_assert_not_null(f, "cannot read %s", path);
	FILE *m = open_memstream(&buf, &len);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	return buf;
}

void rr_run(struct rr_result *res, const char *const *args)
{
	char out[] = "/tmp/rr-out-XXXXXX", err[] = "/tmp/rr-err-XXXXXX";
	const char *argv[64];
	int n = 0, fo = mkstemp(out), fe = mkstemp(err), st;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	cr_assert(fo >= 0 && fe >= 0);
	argv[n++] = TIERREPLAY_BIN;
	while (*args && n < 63)
		argv[n++] = *args++;
	argv[n] = NULL;
	/* a sanitizer report must not pass for the run failure a test expects */
	setenv("ASAN_OPTIONS", "exitcode=86", 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fo, 1);
	posix_spawn_file_actions_adddup2(&fa, fe, 2);
	cr_assert_eq(posix_spawn(&pid, TIERREPLAY_BIN, &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	close(fo);
	close(fe);
	res->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	res->out = slurp(out);
	res->err = slurp(err);
	unlink(out);
	unlink(err);
	res->json = cJSON_Parse(res->out);
}

void rr_free(struct rr_result *res)
{
	free(res->out);
	free(res->err);
	cJSON_Delete(res->json);
	memset(res, 0, sizeof(*res));
}

char *rr_tmpdir(void)
{
	char *d = strdup("/tmp/tierreplay-test-XXXXXX");
	cr_assert_not_null(mkdtemp(d));
	return d;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

void rr_rmtree(const char *dir)
{
	nftw(dir, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

long long rr_size(const char *dir, const char *rel)
{
	char p[8192];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return lstat(p, &st) < 0 ? -1 : (long long)st.st_size;
}

double rr_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	cr_assert(cJSON_IsNumber(v), "JSON key '%s' missing or not a number", key);
	return v->valuedouble;
}
