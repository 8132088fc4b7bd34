/* Helpers for the tierreplay tests: run the real binary with its output
 * captured, temporary directories, and reading back what a run reports.
 * Every helper asserts (Criterion) instead of returning errors. */
#ifndef TESTS_REPLAY_RUN_H
#define TESTS_REPLAY_RUN_H

#include <cjson/cJSON.h>
#include <stdint.h>

#define FIX TIERFS_FIXTURES_DIR "/replay/"

struct rr_result {
	int status;    /* exit status, or 128 + signal */
	char *out, *err;
	cJSON *json;   /* stdout parsed when it is JSON, else NULL */
};

/* Run tierreplay with args (NULL-terminated, without argv[0]). */
void rr_run(struct rr_result *res, const char *const *args);
void rr_free(struct rr_result *res);
/* A new empty directory under /tmp; free() the result. */
char *rr_tmpdir(void);
void rr_rmtree(const char *dir);
/* Size of dir/rel, -1 if it does not exist. */
long long rr_size(const char *dir, const char *rel);
double rr_num(const cJSON *o, const char *key);

#endif
