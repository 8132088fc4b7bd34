/*
 * throttle.h - emulated tier speed: a bandwidth pipe and a per-operation
 * latency, so that tmpfs and disk directories on one machine behave like
 * memory, SSD and a parallel filesystem of chosen speeds (testing and
 * evaluation only; off unless emulate_* keys are set).
 *
 * The pipe is a virtual clock: each transfer of b bytes occupies the tier
 * for b/rate seconds after the previous one ends, so concurrent transfers
 * share the bandwidth.  Time and sleeping are injected (STYLE.md habit 11)
 * so tests never sleep.  No FUSE here.
 */
#ifndef TIERFS_THROTTLE_H
#define TIERFS_THROTTLE_H

#include <stdatomic.h>
#include <stdint.h>

struct tfs_clock {
	uint64_t (*now_ns)(void *arg);
	void (*sleep_until_ns)(void *arg, uint64_t deadline_ns);
	void *arg;
};

struct tfs_pipe {
	uint64_t rate;		  /* bytes per second, 0 = unlimited */
	uint64_t latency_ns;	  /* added to every operation, 0 = none */
	_Atomic uint64_t free_at; /* when the pipe is next free (ns) */
};

/* The real clock: CLOCK_MONOTONIC and clock_nanosleep. */
extern const struct tfs_clock tfs_real_clock;
/* The wall clock (CLOCK_REALTIME) in ns: for the record log and times
 * compared with a file's. */
uint64_t tfs_now_ns(void);

void tfs_pipe_init(struct tfs_pipe *p, uint64_t rate, uint64_t latency_ns);
/* Reserve the pipe for a transfer of bytes; returns the time it completes. */
uint64_t tfs_pipe_reserve(struct tfs_pipe *p, uint64_t bytes, uint64_t now_ns);
/* Reserve and wait until the transfer would have completed. */
void tfs_pipe_pass(struct tfs_pipe *p, const struct tfs_clock *clk, uint64_t bytes);

#endif
