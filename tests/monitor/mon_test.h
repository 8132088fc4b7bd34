/* Shared by the monitor tests: a clock the test moves by hand (so no test
 * sleeps) and a config builder.  The clock is atomic because the
 * concurrency test moves it from one thread while others read it. */
#ifndef MON_TEST_H
#define MON_TEST_H

#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "monitor.h"

#define MiB	 (1024.0 * 1024.0)
#define NS_PER_S 1000000000ull

struct test_clock {
	_Atomic uint64_t ns;
};

static inline uint64_t test_clock_read(void *ud)
{
	return atomic_load(&((struct test_clock *)ud)->ns);
}

static inline void test_clock_advance(struct test_clock *c, double seconds)
{
	atomic_fetch_add(&c->ns, (uint64_t)(seconds * 1e9 + 0.5));
}

/* Three tiers as the default tierfs.conf names them. */
static inline struct mon_config test_config(struct test_clock *c, uint64_t cap_mem,
					    uint64_t cap_ssd, uint64_t cap_pfs)
{
	struct mon_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.ntiers = 3;
	cfg.tiers[0] = (struct mon_tier_config){.name = "mem", .capacity = cap_mem};
	cfg.tiers[1] = (struct mon_tier_config){.name = "ssd", .capacity = cap_ssd};
	cfg.tiers[2] = (struct mon_tier_config){.name = "pfs", .capacity = cap_pfs};
	cfg.clock = test_clock_read;
	cfg.clock_ud = c;
	return cfg;
}

/* A monitor from cfg; the test stops if creation fails. */
static inline struct mon *test_mon(struct mon_config *cfg)
{
	struct mon *m = NULL;
	cr_assert_eq(mon_create(cfg, &m), 0);
	cr_assert_not_null(m);
	return m;
}

#endif
