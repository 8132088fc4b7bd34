/*
 * migrator.h - the background migrator: which files move, and when.
 *
 *  - Demotion when a tier passes high_watermark, down to low_watermark, in
 *    this order: files the workflow says nobody will read any more (all
 *    their consumers have opened them, or they have none), then files the
 *    workflow does not know, least recently used first, then files still to
 *    be read, the farthest next use first (one whose readers' level has
 *    started but not every reader has opened it counts as the nearest).
 *    Each goes to the next slower tier that stays under its own high
 *    watermark.
 *  - Proactive mode (proactive = true, with a phase model): also when a
 *    tier's free space drops below fs->headroom[t], the bytes the phases
 *    likely to come would write (main.c sets it each tick); then only the
 *    files no reader will open again or the workflow does not know go,
 *    down to the low watermark (the watermark's drain, started early).
 *  - Prefetch (proactive mode with proactive_prefetch = true, while the
 *    current or the likeliest next phase is read-heavy): each tick, the inputs of the running and the
 *    next level that are still to be read at least twice move up, into
 *    room below the low watermark that also leaves the headroom free;
 *    once per file, one plan at a time.
 *  - Promotion when a level of a workflow starts: the files the next
 *    level's tasks will read that sit on a slower tier move up, when the
 *    faster tier has room under its high watermark and the copy would be
 *    done within the running level's declared runtime.  Nothing is evicted
 *    to make room for a promotion.
 *  - Pinned files (user.tierfs.pin, tierctl pin) never move by themselves;
 *    hard-linked files never move.
 * Moves run on migrate_threads worker threads through tfs_migrate().
 */
#ifndef TIERFS_MIGRATOR_H
#define TIERFS_MIGRATOR_H

#include <stdint.h>

struct tfs;

#define TFS_XATTR_PIN "user.tierfs.pin"

int tfs_migrator_start(struct tfs *fs) __attribute__((warn_unused_result));
void tfs_migrator_stop(struct tfs *fs);
/* Once a second: look at the watermarks and plan demotions. */
void tfs_migrator_tick(struct tfs *fs);
/* A new level of the workflow attached at dir started: plan promotions. */
void tfs_migrator_level_started(struct tfs *fs, const char *dir, int64_t level);
/* Queue a move (relpath to tier dst); -EBUSY when the queue is full. */
int tfs_migrator_enqueue(struct tfs *fs, const char *relpath, int dst, int promote);
/* A file was opened for reading (for "all consumers have read it"). */
void tfs_access_note(struct tfs *fs, uint64_t ino, int read_open);

struct tfs_migrator_stats {
	uint64_t demoted_files, demoted_bytes;
	uint64_t promoted_files, promoted_bytes;
	uint64_t failed, retried, queued;
	/* demoted bytes by why they could go: [0] nobody reads them any more,
	 * [1] no workflow knows them, [2] still to be read */
	uint64_t demoted_rank_bytes[3];
	/* proactive mode: demotions planned because free space fell under the
	 * headroom the coming phases need, before the high watermark */
	uint64_t proactive_plans, proactive_bytes;
	/* proactive mode, read-heavy phase: inputs of the running and next
	 * levels promoted ahead of their reads (counted in promoted_* too) */
	uint64_t prefetch_plans, prefetch_files, prefetch_bytes;
};
void tfs_migrator_stats(struct tfs *fs, struct tfs_migrator_stats *out);

#endif
