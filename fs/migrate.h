/*
 * migrate.h - moving a file between tiers without ever losing or
 * corrupting a byte (DESIGN.md invariant 2), and putting things right at
 * mount after a crash.  No FUSE: tests drive it on plain directories.
 *
 * A move is two-phase so that a background migration does not block the
 * file's readers and writers while it copies:
 *   tfs_move_prepare(): journal the intent, charge the destination, copy to
 *     a temporary name there, fsync it (no lock held);
 *   tfs_move_commit(): with the node's io_lock and fs->mig_lock held
 *     exclusively, check that nothing changed the file since (write
 *     generation, size, the name still leads to the same inode), rename into
 *     place, journal "renamed", switch open handles, remove the source,
 *     journal "done";
 *   tfs_move_abort(): remove the temporary copy, journal "aborted".
 * The spill of invariant 3 holds the locks throughout and runs the same
 * three steps.
 *
 * Journal: state_dir/journal-<mount>.log, one line per step:
 *   B <id> <ino> <src> <dst> <hex path>   (fsynced before the copy starts)
 *   R <id>                                (fsynced after the rename)
 *   D <id> | A <id>
 * Recovery reads it: an intent with R keeps the destination and removes the
 * source; one without R keeps the source and removes the destination's
 * temporary or renamed copy.  Then every tier is scanned for temporary
 * files (removed) and for a regular file present in two tiers (the complete
 * one is kept: the larger, else the one in the earlier tier).
 */
#ifndef TIERFS_MIGRATE_H
#define TIERFS_MIGRATE_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "longpath.h"

struct tfs;
struct tfs_node;

/* Injectable backend I/O for copies (STYLE.md habit 11): tests make the
 * destination fail with ENOSPC or EIO part way through. */
struct tfs_io {
	/* Copy up to len bytes like copy_file_range; return bytes or -errno. */
	ssize_t (*copy)(void *arg, int in, off_t *off_in, int out, off_t *off_out, size_t len);
	int (*fsync)(void *arg, int fd); /* 0 or -errno */
	void *arg;
};
extern const struct tfs_io tfs_real_io;

struct tfs_journal;
int tfs_journal_open(const char *path, struct tfs_journal **out) __attribute__((warn_unused_result));
void tfs_journal_close(struct tfs_journal *j);

struct tfs_move {
	uint64_t jid;
	int src, dst;
	uint64_t ino;	       /* tierfs ino */
	ino_t src_backing_ino; /* the source's inode, to see it was not replaced */
	uint64_t size;	       /* bytes copied */
	uint64_t gen;	       /* the node's write generation when the copy began */
	uint64_t charged;      /* bytes charged to dst, given back on abort */
	char path[TFS_PATH_MAX];
	char tmp[TFS_PATH_MAX];
	struct tfs_node *owner; /* the node whose move this is (moving set), or NULL */
};

/* Copy relpath to tier dst under a temporary name (see above).  n may be
 * NULL (a file the kernel does not know).  -EXDEV if it is already there,
 * -EMLINK for a hard-linked file, -ENOSPC without room, -EBUSY while
 * another move of n is under way (two copies would share the temporary
 * name: one would publish the other's half-written copy, or write stale
 * data over the writes that followed the first move). */
int tfs_move_prepare(struct tfs *fs, const char *relpath, int dst, struct tfs_node *n, struct tfs_move *mv)
	__attribute__((warn_unused_result));
/* -EAGAIN when the file changed during the copy (the move was aborted). */
int tfs_move_commit(struct tfs *fs, struct tfs_move *mv, struct tfs_node *n) __attribute__((warn_unused_result));
void tfs_move_abort(struct tfs *fs, struct tfs_move *mv);
/* Wait until no move of n is under way (call with none of n's locks). */
void tfs_move_wait(struct tfs_node *n);

/* Move relpath to tier dst now, with the locking above (blocking). */
int tfs_migrate(struct tfs *fs, const char *relpath, int dst) __attribute__((warn_unused_result));

struct tfs_recovery {
	unsigned intents;	 /* unfinished intents found in the journal */
	unsigned rolled_forward; /* kept the destination */
	unsigned rolled_back;	 /* kept the source */
	unsigned temps_removed;
	unsigned duplicates_fixed;
};
/* At mount, before serving: finish or undo what the journal says, remove
 * temporaries, fix duplicates, empty the journal. */
int tfs_recover(struct tfs *fs, const char *journal_path, struct tfs_recovery *out)
	__attribute__((warn_unused_result));

#endif
