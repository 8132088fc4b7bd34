/*
 * sweep.h - what `tiertrain label` and `tiertrain eval` share: policies by
 * name, capacity sweeps, and the tier capacities of a simulated node.
 *
 * Capacities.  The daemon's tierfs.conf may give a tier's capacity as a
 * percentage of its filesystem; a simulated node has no filesystem, so a
 * percentage is taken of a reference node sized to the workflow: four
 * times the workflow's declared bytes (the shipped configuration's mem 25%,
 * ssd 50%, pfs 100% become 1x, 2x and 4x the workflow).  A sweep value is
 * either a size ("60G") or a multiple of the workflow's declared bytes
 * ("0.25x"), so one sweep means the same pressure at every scale.
 */
#ifndef TIERFS_TRAINER_SWEEP_H
#define TIERFS_TRAINER_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

#define SWEEP_MAX_VALUES 64
#define SWEEP_REFERENCE_MULTIPLE 4.0

struct sweep_value {
	double v;     /* bytes, or a multiple of the workflow's bytes */
	int relative; /* v is a multiple ("0.25x") */
};

struct sweep_axis {
	int tier; /* index in the configuration */
	size_t n;
	struct sweep_value values[SWEEP_MAX_VALUES];
};

/* Parse "TIER=SPEC" where SPEC is a comma list of values, or A..B (five
 * values evenly spaced, ends included) or A..B/N (N values); a value is a
 * size (60G, 1.5T) or a multiple of the workflow's bytes (0.1x).  Both ends
 * of a range must be of one kind.  -EINVAL with the problem in err. */
__attribute__((warn_unused_result)) int sweep_parse_axis(const char *arg, const struct tcfg *cfg,
							  struct sweep_axis *out, char *err,
							  size_t errlen);

/* Fixed capacities "TIER=SIZE" (one size each) into sc->capacity[]. */
__attribute__((warn_unused_result)) int sweep_apply_capacities(const char *const *caps, size_t n,
								const struct tcfg *cfg, struct sim_config *sc,
								char *err, size_t errlen);

/* Bytes of one value for workflow g. */
uint64_t sweep_value_bytes(const struct sweep_value *v, const wf_graph *g);

/* Fill sc->capacity[] for every tier whose capacity the configuration
 * gives as a percentage and sc leaves 0: that percentage of the reference
 * node for g (see above). */
void sweep_node_capacities(const struct tcfg *cfg, const wf_graph *g, struct sim_config *sc);

/* A placement policy by name: first, most-free, round-robin, random or a
 * tier of cfg (everything on it).  -EINVAL naming the choices. */
__attribute__((warn_unused_result)) int sweep_policy_create(const char *name, const struct tcfg *cfg,
							     uint64_t seed, struct lrn_policy **out,
							     char *err, size_t errlen);

/* The policy the configuration's placement= names (what the daemon uses
 * without a model, and as the model's fallback). */
__attribute__((warn_unused_result)) int sweep_config_policy_create(const struct tcfg *cfg, uint64_t seed,
								    struct lrn_policy **out, char *err,
								    size_t errlen);

/* The learned policy as the daemon runs it: the model at model_path with
 * the configuration's placement as its fallback.  Errors name the file. */
__attribute__((warn_unused_result)) int sweep_learned_policy_create(const char *model_path,
								     const struct tcfg *cfg, uint64_t seed,
								     struct lrn_policy **out, char *err,
								     size_t errlen);

/* A printable size: "512M", "1.5G" (buf of at least 32 bytes). */
const char *sweep_size_str(uint64_t bytes, char *buf, size_t len);

#endif
