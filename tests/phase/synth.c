/*
 * synth.c - see synth.h.  The load of a regime is fed through the same
 * event calls the daemon makes (mon_write, mon_used, mon_open, ...), so
 * the frames carry the monitor's own rate arithmetic, not numbers made up
 * to look like it.
 */
#include "synth.h"
#include "monitor.h"

#include <errno.h>
#include <math.h>

struct clk {
	uint64_t ns;
};

static uint64_t clk_read(void *ud)
{
	return ((struct clk *)ud)->ns;
}

static double unit(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

/* x times a factor in [1 - j, 1 + j]. */
static double jit(uint64_t *s, double x, double j)
{
	return x * (1 - j + 2 * j * unit(s));
}

int synth_series(const char *path, const struct synth_seg *segs, size_t nseg, uint64_t seed, int *truth)
{
	enum { MEM, SSD, PFS };
	const double MB = 1048576.0;
	struct clk c = {0};
	struct mon_config mc = {.ntiers = 3, .clock = clk_read, .clock_ud = &c, .history = 100000};
	mc.tiers[MEM] = (struct mon_tier_config){"mem", 64ull << 30, 0, NULL};
	mc.tiers[SSD] = (struct mon_tier_config){"ssd", 512ull << 30, 0, NULL};
	mc.tiers[PFS] = (struct mon_tier_config){"pfs", 100ull << 40, 0, NULL};
	struct mon *m;
	int rc = mon_create(&mc, &m);
	if (rc)
		return rc;
	double used[3] = {8.0 * (1 << 30), 100.0 * (1 << 30), 1e12};
	int open[3] = {0, 0, 0};
	size_t f = 0;
	uint64_t backlog = 0;
	for (size_t s = 0; s < nseg; s++) {
		for (size_t t = 0; t < segs[s].ticks; t++, f++) {
			double w[3] = {0}, r[3] = {0}, creates = 0, meta = 0;
			int want_open[3] = {0};
			uint64_t want_backlog = 0;
			switch (segs[s].regime) {
			case SYNTH_INGEST:
				w[MEM] = jit(&seed, 400 * MB, 0.25);
				r[SSD] = jit(&seed, 20 * MB, 0.5);
				creates = jit(&seed, 40, 0.3), meta = jit(&seed, 150, 0.3);
				want_open[MEM] = (int)jit(&seed, 16, 0.25);
				break;
			case SYNTH_QUIET:
				r[MEM] = jit(&seed, 0.5 * MB, 0.5);
				meta = jit(&seed, 3, 0.6);
				want_open[MEM] = 2;
				break;
			case SYNTH_DRAIN:
				r[MEM] = jit(&seed, 250 * MB, 0.25);
				w[PFS] = jit(&seed, 250 * MB, 0.25);
				meta = jit(&seed, 20, 0.4);
				want_open[PFS] = (int)jit(&seed, 4, 0.5);
				want_backlog = (uint64_t)jit(&seed, 512 * MB, 0.3);
				break;
			default:
				mon_destroy(m);
				return -EINVAL;
			}
			for (int i = 0; i < 3; i++) {
				for (int op = 0; op < 8; op++) {
					if (w[i] > 0)
						mon_write(m, i, (uint64_t)(w[i] / 8));
					if (r[i] > 0)
						mon_read(m, i, (uint64_t)(r[i] / 8));
				}
				for (; open[i] < want_open[i]; open[i]++)
					mon_open(m, i);
				for (; open[i] > want_open[i]; open[i]--)
					mon_close(m, i);
			}
			/* Writes fill their tier; a drain moves mem's bytes to pfs. */
			used[MEM] += w[MEM] - (segs[s].regime == SYNTH_DRAIN ? r[MEM] : 0);
			used[PFS] += w[PFS];
			if (used[MEM] < 0)
				used[MEM] = 0;
			if (used[MEM] > 60.0 * (1 << 30))
				used[MEM] = 60.0 * (1 << 30);
			for (int i = 0; i < 3; i++)
				mon_used(m, i, (uint64_t)used[i]);
			for (long n = lround(creates); n > 0; n--)
				mon_create_file(m);
			for (long n = lround(meta); n > 0; n--)
				mon_meta_op(m);
			if (backlog)
				mon_migrate_end(m, PFS, backlog);
			if (want_backlog)
				mon_migrate_begin(m, PFS, want_backlog);
			backlog = want_backlog;
			c.ns += 1000000000ull;
			if ((rc = mon_tick(m)) != 0) {
				mon_destroy(m);
				return rc;
			}
			if (truth)
				truth[f] = (int)segs[s].regime;
		}
	}
	rc = mon_write_csv(m, path);
	mon_destroy(m);
	return rc;
}
