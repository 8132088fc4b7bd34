/*
 * tierfs.h - internals shared by the daemon's files (the .c files of fs/).  Not a public
 * header: only fs/ includes it, and only ops.c and main.c include FUSE.
 *
 * Namespace (DESIGN.md invariant 1): a file lives in exactly one tier, at
 * the same relative path in that tier's directory (up to TFS_PATH_MAX bytes,
 * reached through the wrappers of longpath.h, never a bare *at() call); a directory exists in
 * every tier that holds something below it, and its "primary" copy is the
 * first tier, in declared order, that has it.
 *
 * Node identity: the kernel's node id is the address of a struct tfs_node;
 * the st_ino we report is the node's ino, which stays the same when a file
 * moves between tiers (stored in the user.tierfs.ino xattr of every copy the
 * daemon makes, derived from (tier, backing inode) otherwise).
 *
 * Lock order (outermost first):
 *   node->io_lock  (rwlock: shared by writes, exclusive while a file moves)
 *   fs->mig_lock   (rwlock: shared around the backend calls of open, create,
 *                   rename, unlink, link; exclusive while a move switches over)
 *   fs->tree_lock  (rwlock: parent/name links of all nodes; write for rename)
 *   fs->table_lock (mutex: the ino hash table, nlookup and refs counts)
 *   node->lock     (mutex: the node's open handles, size, tier)
 */
#ifndef TIERFS_INTERNAL_H
#define TIERFS_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "learner.h"
#include "monitor.h"
#include "place.h"
#include "throttle.h"
#include "migrate.h"
#include "migrator.h"
#include "tierfs_config.h"

#define TFS_ROOT_ID 1 /* the kernel's id of the root (FUSE_ROOT_ID) */
#define TFS_XATTR_INO "user.tierfs.ino"
#define TFS_XATTR_TIER "user.tierfs.tier"
#define TFS_XATTR_PREFIX "user.tierfs."
#define TFS_TMP_PREFIX ".tierfs-tmp."
#define TFS_READAHEAD_KB 1024 /* asked for in INIT, set on the mount's device (main.c) */

struct tfs_tier {
	int idx;
	const char *name;
	const char *path;
	int rootfd;
	dev_t dev;
	uint64_t capacity;
	_Atomic uint64_t used; /* bytes of regular files held, own accounting */
	struct tfs_pipe rd;    /* emulated read speed (emulate_read_bandwidth, emulate_latency) */
	struct tfs_pipe wr;    /* emulated write speed */
	struct tfs_pipe mig;   /* migrations into this tier: their share of its bandwidth */
	int emulated;	       /* any emulate_* key set: no passthrough for its files */
	int remote;	       /* on a network filesystem: close() may report an error */
};

struct tfs_handle;
struct trec_file;
struct fuse_session;

struct tfs_node {
	uint64_t ino;		  /* reported st_ino; key of the table (immutable) */
	mode_t type;		  /* S_IFMT bits (immutable) */
	struct tfs_node *parent;  /* tree_lock */
	char *name;		  /* tree_lock; NULL once the name was removed */
	uint64_t nlookup;	  /* table_lock: kernel references */
	uint64_t refs;		  /* table_lock: children naming it parent, open handles */
	struct tfs_node *hnext;	  /* table_lock: chain by ino */
	struct tfs_node *nnext;	  /* table_lock: chain by (parent, name) */
	pthread_rwlock_t io_lock; /* see lock order */
	pthread_mutex_t lock;
	int tier;		     /* lock: files: tier holding the data; dirs: -1 */
	uint64_t size;		     /* lock: bytes charged to the tier for this file */
	struct tfs_handle *handles;  /* lock: open handles */
	int unlinked;		     /* lock: last name gone; uncharge at last release */
	int pt_handles;		     /* lock: open handles the kernel passes through */
	int backing_id;		     /* lock: their shared backing file id, 0 = none */
	int cached_handles;	     /* lock: open handles served by the daemon */
	int pt_writers;		     /* lock: passthrough handles open for writing */
	int moving;		     /* lock: a move of the file is under way (migrate.c) */
	_Atomic uint64_t write_gen;  /* bumped by every change of the data: a move checks it */
	uint64_t cached_gen;	     /* lock: write_gen when a reader last kept the kernel's pages */
	uint64_t created_ns;	     /* immutable after create: when tierfs created it, 0 = before */
	_Atomic uint64_t bytes_written; /* for the record log */
	_Atomic uint64_t bytes_read;
	struct trec_file *rec;	     /* recorder stats (recorder.h), NULL if none; taken once by exchange */
};

struct tfs_handle {
	struct tfs_node *node;
	int fd;
	int flags;		 /* backend open flags, for reopening after a move */
	int passthrough;	 /* the kernel serves this open from node->backing_id */
	struct tfs_handle *next; /* node->lock */
};

struct tfs {
	struct tcfg *cfg;
	struct tfs_tier tiers[TCFG_MAX_TIERS];
	int ntiers;
	struct tpl *place; /* placement core: policy, model, workflows, record log */
	struct mon *mon;   /* live tier state and time series; NULL-safe */
	struct mon_phase *phase; /* phase model + online tracker (phase_model =), NULL if none */
	_Atomic uint64_t headroom[TCFG_MAX_TIERS]; /* proactive mode: bytes kept free, set each tick */
	_Atomic int prefetch; /* proactive mode: the phase (or the likeliest next) is read-heavy */
	_Atomic uint64_t prefetch_keep[TCFG_MAX_TIERS]; /* bytes a prefetch leaves free (mon_phase_keep) */
	struct tfs_ctl *ctl; /* control socket (ctl.c), NULL if none */
	int is_root; /* daemon runs as root: creates are chowned to the caller */
	uid_t euid;  /* the daemon's, asked once */
	gid_t egid;
	int remote_tier; /* a tier is on a network filesystem: close reports its errors */
	int writeback;
	int kernel_perms; /* default_permissions: the kernel checks permissions (main.c) */
	struct fuse_session *se; /* for notifications to the kernel (ops.c) */

	pthread_rwlock_t tree_lock;
	pthread_mutex_t table_lock;
	struct tfs_node **table;
	size_t table_size;
	size_t table_count;
	struct tfs_node **names; /* table_lock: by (parent, name); same size as table */
	struct tfs_node root;

	_Atomic uint64_t spills;
	_Atomic uint64_t moves, moved_bytes;
	pthread_rwlock_t mig_lock; /* see lock order */
	const struct tfs_io *io;   /* backend copy I/O (tests inject faults) */
	struct tfs_journal *journal;
	struct tfs_migrator *migrator; /* NULL when migrate_threads = 0 */
	struct tfs_clock clock; /* real, or a test's */
};

/* Charge an emulated tier for bytes moved (no-op unless emulation is on). */
static inline void tfs_emulate(struct tfs *fs, struct tfs_pipe *p, uint64_t bytes)
{
	if (p->rate || p->latency_ns)
		tfs_pipe_pass(p, &fs->clock, bytes);
}

/* A file's tier read without its lock, for accounting that tolerates a
 * concurrent move. */
static inline int tfs_tier_hint(const struct tfs_node *n)
{
	return __atomic_load_n(&n->tier, __ATOMIC_RELAXED);
}

/* node.c */
int tfs_init(struct tfs *fs, struct tcfg *cfg) __attribute__((warn_unused_result));
void tfs_destroy(struct tfs *fs);
/* The node for ino, created if absent, with nlookup raised by one (the
 * caller replies an entry).  parent/name become the node's current name. */
struct tfs_node *tfs_node_get(struct tfs *fs, uint64_t ino, mode_t type, struct tfs_node *parent,
			      const char *name, int tier, uint64_t size);
struct tfs_node *tfs_node_find(struct tfs *fs, uint64_t ino); /* with a ref, or NULL */
/* Whether a node holds ino, and the tier of its file (-1 if not a regular
 * file): one table lookup, no reference taken. */
int tfs_node_tier_of(struct tfs *fs, uint64_t ino, int *tier);
void tfs_node_forget(struct tfs *fs, struct tfs_node *n, uint64_t nlookup);
void tfs_node_ref(struct tfs *fs, struct tfs_node *n);
void tfs_node_unref(struct tfs *fs, struct tfs_node *n);
/* Relative path of a node ("." for the root); -ESTALE if it has no name. */
int tfs_node_path(struct tfs *fs, struct tfs_node *n, char *buf, size_t len)
	__attribute__((warn_unused_result));
/* The same for a caller that already excludes renames (holds tree_lock or
 * runs after the session ended). */
int tfs_node_path_unlocked(struct tfs *fs, struct tfs_node *n, char *buf, size_t len)
	__attribute__((warn_unused_result));
int tfs_child_path(struct tfs *fs, struct tfs_node *parent, const char *name, char *buf, size_t len)
	__attribute__((warn_unused_result));
/* After a successful backend rename/unlink: move or detach the node that
 * had parent/name. */
void tfs_node_renamed(struct tfs *fs, struct tfs_node *oldp, const char *oldname,
		      struct tfs_node *newp, const char *newname);
void tfs_node_detach(struct tfs *fs, struct tfs_node *parent, const char *name);
/* Copies of the names of dir's children the kernel knows (a full table
 * scan: for rare operations).  The caller frees each name and the array;
 * on a shortage of memory, the names collected so far. */
char **tfs_node_child_names(struct tfs *fs, struct tfs_node *dir, size_t *count);
void tfs_node_exchanged(struct tfs *fs, struct tfs_node *p1, const char *name1, struct tfs_node *p2,
			const char *name2);

/* tier.c */
/* Names the per-mount files in state_dir (socket, journal). */
uint64_t tfs_mount_hash(const char *mountpoint);
uint64_t tfs_ino_of(struct tfs *fs, int tier, const char *path, const struct stat *st);
/* The ino of a file the daemon just created (no xattr can be there yet). */
uint64_t tfs_ino_encode(int tier, const struct stat *st);
/* The ino of a file just created in tier (fd open on it): its encoded ino,
 * unless a moved file holds that one (then a fresh ino in its xattr). */
uint64_t tfs_ino_new(struct tfs *fs, int tier, int fd, const struct stat *st);
/* An ino outside the encoded space that no node holds. */
uint64_t tfs_ino_fresh(struct tfs *fs);
/* lgetxattr of dirfd/path (getxattrat where the kernel has it). */
ssize_t tfs_getxattr_at(int dirfd, const char *path, const char *name, void *value, size_t size);
/* First tier holding path, stat filled; -ENOENT if none. */
int tfs_find(struct tfs *fs, const char *path, struct stat *st) __attribute__((warn_unused_result));
/* Bitmask of tiers holding path. */
unsigned tfs_where(struct tfs *fs, const char *path);
/* Make the parent directories of path exist in tier t, cloned from their
 * primary copies (mode, owner, times, ino). */
int tfs_clone_parents(struct tfs *fs, int t, const char *path) __attribute__((warn_unused_result));
/* Bump mtime/ctime of the primary copy of directory dirpath after its
 * contents changed in tier t, when the primary copy is elsewhere. */
void tfs_dir_touched(struct tfs *fs, const char *dirpath, int t);
/* Move an open file off tier from, where need more bytes did not fit, to
 * another tier with room (the spill of invariant 3).  Caller holds
 * n->io_lock exclusively.  0 also when the file is no longer on from (a
 * concurrent write spilled it first) or another move of it was under way
 * (io_lock was let go until it ended): the caller charges again wherever
 * the file is now. */
int tfs_spill(struct tfs *fs, struct tfs_node *n, int from, uint64_t need) __attribute__((warn_unused_result));
/* Charge delta bytes to tier t if it fits within capacity. */
int tfs_charge(struct tfs *fs, int t, uint64_t delta) __attribute__((warn_unused_result));
void tfs_uncharge(struct tfs *fs, int t, uint64_t delta);
int tfs_scan_usage(struct tfs *fs) __attribute__((warn_unused_result));
int tfs_dir_is_empty(struct tfs *fs, const char *path); /* 1, 0, or -errno */
/* dir/name into buf, dir "." (a tier root) giving name alone; 0 or
 * -ENAMETOOLONG. */
int tfs_join_path(const char *dir, const char *name, char *buf, size_t len);
/* st_nlink of the union directory path whose primary copy (in tier
 * primary) has stat st: 2 + its subdirectories across every tier, each
 * name counted once. */
nlink_t tfs_dir_nlink(struct tfs *fs, const char *path, int primary, const struct stat *st);

/* main.c */
/* Reload the model (NULL: the configured one); the old stays on failure. */
int tfs_reload(struct tfs *fs, const char *model, char *err, size_t errlen) __attribute__((warn_unused_result));

/* ops.c */
/* Pin relpath to the named tier and move it there (tier NULL: unpin). */
int tfs_pin(struct tfs *fs, const char *relpath, const char *tier) __attribute__((warn_unused_result));
/* At unmount: an "end" record for every file created in this session and
 * still known. */
void tfs_log_live_files(struct tfs *fs);
/* Write out the per-file I/O records buffered so far (files.csv). */
void tfs_records_flush(void);

/* log.c */
void tfs_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tfs_log_set_level(int level);
void tfs_log_to_syslog(int on);

#endif
