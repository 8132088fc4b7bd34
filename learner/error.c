/*
 * error.c - the learner's per-thread last-error message and log callback.
 * The callback is set once at start-up, before other threads call in, so
 * it is read without a lock.
 */
#include "lrn_internal.h"

#include <stdio.h>

static _Thread_local char last_error[512];
static lrn_log_fn log_fn;
static void *log_ud;

const char *lrn_last_error(void)
{
	return last_error;
}

void lrn_set_log(lrn_log_fn fn, void *ud)
{
	log_fn = fn;
	log_ud = ud;
}

int lrn_err(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	if (log_fn)
		log_fn(log_ud, last_error);
	return code;
}

void lrn_note(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	if (!log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_fn(log_ud, buf);
}

uint64_t lrn_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
