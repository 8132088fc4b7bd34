/*
 * rng.h - the trainer's one random stream: splitmix64 (small, fast,
 * seedable, the same numbers on every machine).  The GA, the workflow
 * generators and the trace generator draw from it.
 */
#ifndef TIERFS_TRAINER_RNG_H
#define TIERFS_TRAINER_RNG_H

#include <stdint.h>

static inline uint64_t tt_splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1), 53 bits. */
static inline double tt_rand01(uint64_t *s)
{
	return (double)(tt_splitmix64(s) >> 11) * 0x1.0p-53;
}

#endif
