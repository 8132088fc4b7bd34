/*
 * test_throttle.c - the emulated tier pipe, on a fake clock: bandwidth is
 * shared by concurrent transfers, latency is per operation, off is free.
 */
#include <criterion/criterion.h>

#include "throttle.h"

struct fake {
	uint64_t now;
	uint64_t slept_until;
	int sleeps;
};

static uint64_t fake_now(void *arg)
{
	return ((struct fake *)arg)->now;
}

static void fake_sleep(void *arg, uint64_t deadline)
{
	struct fake *f = arg;
	f->slept_until = deadline;
	f->sleeps++;
	f->now = deadline;
}

Test(throttle, bandwidth_paces_a_single_stream)
{
	struct tfs_pipe p;
	struct fake f = {.now = 1000};
	struct tfs_clock clk = {fake_now, fake_sleep, &f};
	tfs_pipe_init(&p, 100ULL << 20, 0); /* 100 MiB/s */
	for (int i = 0; i < 10; i++)
		tfs_pipe_pass(&p, &clk, 10ULL << 20);
	/* 100 MiB at 100 MiB/s: one second */
	cr_assert_eq(f.now - 1000, 1000000000ULL);
	cr_assert_eq(f.sleeps, 10);
}

Test(throttle, concurrent_transfers_share_the_pipe)
{
	struct tfs_pipe p;
	tfs_pipe_init(&p, 1000, 0); /* 1000 B/s */
	/* two transfers arriving at once: the second ends after both */
	uint64_t a = tfs_pipe_reserve(&p, 500, 0);
	uint64_t b = tfs_pipe_reserve(&p, 500, 0);
	cr_assert_eq(a, 500000000ULL);
	cr_assert_eq(b, 1000000000ULL);
	/* an idle pipe does not bank credit for later bursts */
	uint64_t c = tfs_pipe_reserve(&p, 1000, 5000000000ULL);
	cr_assert_eq(c, 6000000000ULL);
}

Test(throttle, latency_is_per_operation_and_not_serialised)
{
	struct tfs_pipe p;
	tfs_pipe_init(&p, 0, 2000000); /* 2 ms, unlimited bandwidth */
	cr_assert_eq(tfs_pipe_reserve(&p, 1 << 20, 100), 2000100ULL);
	cr_assert_eq(tfs_pipe_reserve(&p, 1 << 20, 100), 2000100ULL);
}

Test(throttle, off_means_no_sleep)
{
	struct tfs_pipe p;
	struct fake f = {.now = 42};
	struct tfs_clock clk = {fake_now, fake_sleep, &f};
	tfs_pipe_init(&p, 0, 0);
	tfs_pipe_pass(&p, &clk, 1ULL << 30);
	cr_assert_eq(f.sleeps, 0);
	cr_assert_eq(f.now, 42);
}

Test(throttle, huge_transfers_do_not_overflow)
{
	struct tfs_pipe p;
	tfs_pipe_init(&p, 1, 0); /* 1 B/s */
	uint64_t end = tfs_pipe_reserve(&p, 1ULL << 33, 0);
	cr_assert_eq(end, (1ULL << 33) * 1000000000ULL);
}
