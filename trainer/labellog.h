/*
 * labellog.h - the daemon's record log (STATE_DIR/records.csv, see
 * fs/place.h tpl_log_open) read back for `tiertrain label --log`: the
 * configuration and workflows it names, the tier capacities it logged, and
 * its create lines, labelled with a placement's tiers.
 *
 * Strict: a header that is not the daemon's, a row with the wrong number
 * of fields or a feature that is not a number is refused with file, line
 * and column.  A log may hold several mounts one after the other (a
 * "config" line starts each); the last configuration and capacities win,
 * creates are kept from all of them.
 */
#ifndef TIERFS_TRAINER_LABELLOG_H
#define TIERFS_TRAINER_LABELLOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tierfs_config.h"
#include "workflow.h"

struct llog;

__attribute__((warn_unused_result)) int llog_load(const char *path, struct llog **out, char *err,
						  size_t errlen);
void llog_free(struct llog *lg);

/* The configuration file of the last "config" line, NULL if none. */
const char *llog_config(const struct llog *lg);
/* Logged capacity of tier t (bytes), 0 if unknown. */
uint64_t llog_capacity(const struct llog *lg, size_t t);
/* Distinct workflow files attached (absolute paths as logged). */
size_t llog_workflow_count(const struct llog *lg);
const char *llog_workflow(const struct llog *lg, size_t i);

/* Append one record per logged create of a file of workflow w (g its graph)
 * with features, labelled with the tier name of best[file] (files best
 * leaves at -1 are skipped).  The header (feature names, "tier") is written
 * when *header is set, then cleared.  *rows gets the count.  -EINVAL when
 * the log's tiers are not cfg's. */
__attribute__((warn_unused_result)) int llog_write_labelled(const struct llog *lg, size_t w,
							    const wf_graph *g,
							    const struct tcfg *cfg, const int *best,
							    FILE *out, int *header, size_t *rows,
							    char *err, size_t errlen);

#endif
