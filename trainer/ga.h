/*
 * ga.h - the labeller's search: a genetic algorithm over per-file tier
 * assignments whose fitness is the simulated workflow I/O time (issue 7,
 * "Labelling by genetic algorithm"; the ASL paper's labelling step).
 *
 * Individual: one tier per file a task creates (files no task writes are
 * workflow inputs and stay where they are).  Fitness: sim_result.io_time of
 * a sim_run() with that vector (lower is better; a run that fails, e.g. a
 * file that fits nowhere, is worst).  A generation keeps the elite, then
 * fills the rest with children of parents drawn from the above-average
 * individuals: uniform crossover, per-gene mutation, and a group mutation
 * that moves every file of one (producer category, level) group to one
 * tier (files of a group look alike to the model, so the optimum tends to
 * treat them alike; plain per-gene mutation alone needs thousands of
 * generations to find that on a 10,000-file workflow).
 *
 * Seeding: the population starts with the assignment of every static tier
 * and of every seed policy's run (most-free, round-robin, random, and the
 * learned model when given), so with elitism the result is never worse
 * than any of them.  Stops when the best has not improved by more than
 * ga_params.tolerance (relative) for `patience` generations, or at
 * max_generations.
 *
 * Parallel: each thread owns a sim; a generation's evaluations are split
 * between them.  Every random draw happens on the calling thread, so the
 * result depends on the seed only, never on the thread count.
 */
#ifndef TIERFS_TRAINER_GA_H
#define TIERFS_TRAINER_GA_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

struct ga_params {
	uint32_t population;	  /* >= 4 */
	uint32_t max_generations; /* >= 1 */
	uint32_t patience;	  /* generations without improvement before stopping */
	double tolerance;	  /* relative improvement that counts, e.g. 1e-4 */
	uint32_t elite;		  /* kept unchanged each generation, < population */
	double crossover_rate;	  /* chance a child mixes two parents, else copies one */
	double mutation_rate;	  /* per-gene; 0 = 1.5 / genes */
	double group_mutation_rate; /* chance per child of one group move */
	uint64_t seed;
	uint32_t threads; /* >= 1 */
	/* After the search, move each file back to the best static tier
	 * where that costs no I/O time (canonical labels; see ga.c). */
	int polish;
};

void ga_params_default(struct ga_params *p);

struct ga_result {
	double best_io_time;
	double best_makespan;
	/* The best seed's time (what the GA had to beat) and its name. */
	double seed_io_time;
	char seed_name[64];
	uint32_t generations;
	uint64_t evaluations;
	uint32_t genes; /* files placed by the vector */
};

/* Progress after each generation (may be NULL). */
typedef void (*ga_progress_fn)(void *arg, uint32_t generation, double best_io_time);

/* Seed policies beyond the static tiers (NULL-terminated arrays, may be
 * empty): each is run once and its resulting assignment joins the first
 * generation.  Policies must be fresh (a seeded random policy advances). */
struct ga_seed {
	const char *name;
	struct lrn_policy *policy;
};

/* Search the best placement of g on cfg under sc.  best (may be NULL) gets
 * wf_file_count(g) entries: the tier index per created file, -1 for the
 * others (the form sim_run() takes).  Errors: negative errno, one line in
 * err. */
__attribute__((warn_unused_result)) int
ga_search(const wf_graph *g, const struct tcfg *cfg, const struct sim_config *sc,
	  const struct ga_params *p, const struct ga_seed *seeds, size_t nseeds, int *best,
	  struct ga_result *res, ga_progress_fn progress, void *progress_arg, char *err,
	  size_t errlen);

#endif
