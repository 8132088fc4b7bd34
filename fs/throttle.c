/*
 * throttle.c - see throttle.h.
 */
#define _GNU_SOURCE
#include "throttle.h"

#include <errno.h>
#include <time.h>

static uint64_t real_now(void *arg)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void real_sleep_until(void *arg, uint64_t deadline)
{
	struct timespec ts = {(time_t)(deadline / 1000000000ULL), (long)(deadline % 1000000000ULL)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

const struct tfs_clock tfs_real_clock = {real_now, real_sleep_until, NULL};

uint64_t tfs_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void tfs_pipe_init(struct tfs_pipe *p, uint64_t rate, uint64_t latency_ns)
{
	p->rate = rate;
	p->latency_ns = latency_ns;
	atomic_init(&p->free_at, 0);
}

uint64_t tfs_pipe_reserve(struct tfs_pipe *p, uint64_t bytes, uint64_t now)
{
	uint64_t done = now + p->latency_ns;
	if (!p->rate)
		return done;
	/* ns = bytes * 1e9 / rate, without overflow for any realistic size */
	uint64_t cost = (uint64_t)((unsigned __int128)bytes * 1000000000ULL / p->rate);
	uint64_t start = atomic_load(&p->free_at), end;
	do {
		end = (start > now ? start : now) + cost;
	} while (!atomic_compare_exchange_weak(&p->free_at, &start, end));
	return end + p->latency_ns;
}

void tfs_pipe_pass(struct tfs_pipe *p, const struct tfs_clock *clk, uint64_t bytes)
{
	if (!p->rate && !p->latency_ns)
		return;
	uint64_t now = clk->now_ns(clk->arg);
	uint64_t done = tfs_pipe_reserve(p, bytes, now);
	if (done > now)
		clk->sleep_until_ns(clk->arg, done);
}
