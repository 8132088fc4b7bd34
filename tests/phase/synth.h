/*
 * synth.h - piecewise-stationary load series for the phase tests, made by
 * driving a real monitor (tier_monitor) with an injected clock: each
 * segment is one regime (a kind of load) held for a number of ticks, with
 * seeded noise, so the change points and the true regime of every frame
 * are known.
 */
#ifndef TIERFS_TEST_PHASE_SYNTH_H
#define TIERFS_TEST_PHASE_SYNTH_H

#include <stddef.h>
#include <stdint.h>

enum synth_regime {
	SYNTH_INGEST, /* heavy writes into mem, many creates, mem filling */
	SYNTH_QUIET,  /* compute: almost no I/O */
	SYNTH_DRAIN,  /* mem read out, pfs written, mem emptying, migration backlog */
	SYNTH_NREGIMES
};

struct synth_seg {
	enum synth_regime regime;
	size_t ticks;
};

/* Write the series (3 tiers mem, ssd, pfs; one frame per 1 s tick) to
 * path as the monitor's CSV.  truth, when not NULL, gets the regime of
 * each frame (sum of ticks entries).  Returns 0 or a negative errno. */
int synth_series(const char *path, const struct synth_seg *segs, size_t nseg, uint64_t seed, int *truth);

#endif
