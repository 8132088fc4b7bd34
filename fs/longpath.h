/*
 * longpath.h - backend calls on paths of any depth below a tier root.
 *
 * The daemon names every backing object by its path from its tier's root
 * (tierfs.h) and reaches it with one *at() call on the tier's root fd.  The
 * kernel limits each syscall's path argument to PATH_MAX bytes (NUL
 * included), but not the depth of a tree: FUSE hands the daemon a parent
 * node and a name, so a tree may go deeper than PATH_MAX from the mount
 * root, as on tmpfs.  Hence:
 *
 * Invariant: every path from a tier root handed to the kernel goes through
 * tfs_at_split() or one of the tfs_<call>() wrappers below, never straight
 * to the *at() call, unless it is known to be short (a d_name on a dirfd).
 * A short path (strlen < PATH_MAX) goes straight to the *at() call on the
 * root, exactly as before (one strnlen more); a long one is split at '/'
 * into pieces shorter than PATH_MAX, the leading ones opened as directories
 * with O_PATH and without following any symlink (a symlink in the prefix
 * could lead out of the tier), and the call made on (last dirfd, rest).
 *
 * The wrappers keep the libc convention (-1 and errno) so a call site only
 * changes its function's name.  Paths up to TFS_PATH_MAX bytes are built by
 * the daemon (node.c); the split itself has no limit.  Needs _GNU_SOURCE
 * (renameat2), like every file of fs/.
 */
#ifndef TIERFS_LONGPATH_H
#define TIERFS_LONGPATH_H

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Longest path from a tier root the daemon builds (buffers are this big):
 * four syscall PATH_MAXes, so a tree three PATH_MAX deep below a test
 * directory still works. */
#define TFS_PATH_MAX (4 * PATH_MAX)

/* Room for "/proc/self/fd/<fd>/" before a split path (tfs_proc_path). */
#define TFS_PROC_PREFIX 32

struct tfs_at {
	int fd;		  /* directory to resolve rest from: rootfd, or an O_PATH fd we own */
	const char *rest; /* points into the caller's path; strlen(rest) < limit */
	int own;	  /* fd is ours: tfs_at_done() closes it */
};

/* Resolve path (relative to rootfd) into a->fd/a->rest with strlen(rest)
 * < limit (limit <= PATH_MAX).  0, or -errno (-ENOTDIR, -ELOOP for a
 * symlink in the prefix, -ENOENT ...).  On success call tfs_at_done(). */
int tfs_at_split(int rootfd, const char *path, size_t limit, struct tfs_at *a)
	__attribute__((warn_unused_result));
/* Close a->fd if it is ours; errno is left as it was. */
void tfs_at_done(struct tfs_at *a);

/* "/proc/self/fd/<fd>/<rest>" for calls with no *at() form (xattrs,
 * truncate), in a buffer that holds the fd it names until tfs_proc_done(). */
struct tfs_proc {
	char path[PATH_MAX];
	struct tfs_at at;
};
int tfs_proc_path(int rootfd, const char *path, struct tfs_proc *p) __attribute__((warn_unused_result));
void tfs_proc_done(struct tfs_proc *p);

static inline int tfs_path_short(const char *path)
{
	return __builtin_expect(strnlen(path, PATH_MAX) < PATH_MAX, 1);
}

/* The slow halves of the wrappers below (longpath.c). */
int tfs_long_openat(int root, const char *path, int flags, mode_t mode);
int tfs_long_fstatat(int root, const char *path, struct stat *st, int flags);
int tfs_long_unlinkat(int root, const char *path, int flags);
int tfs_long_mkdirat(int root, const char *path, mode_t mode);
int tfs_long_mknodat(int root, const char *path, mode_t mode, dev_t dev);
int tfs_long_symlinkat(const char *target, int root, const char *path);
ssize_t tfs_long_readlinkat(int root, const char *path, char *buf, size_t len);
int tfs_long_fchmodat(int root, const char *path, mode_t mode, int flags);
int tfs_long_fchownat(int root, const char *path, uid_t uid, gid_t gid, int flags);
int tfs_long_utimensat(int root, const char *path, const struct timespec ts[2], int flags);
int tfs_long_faccessat(int root, const char *path, int mode, int flags);
int tfs_long_linkat(int oroot, const char *opath, int nroot, const char *npath, int flags);
int tfs_long_renameat2(int oroot, const char *opath, int nroot, const char *npath, unsigned flags);

static inline int tfs_openat(int root, const char *path, int flags, mode_t mode)
{
	return tfs_path_short(path) ? openat(root, path, flags, mode) : tfs_long_openat(root, path, flags, mode);
}
static inline int tfs_fstatat(int root, const char *path, struct stat *st, int flags)
{
	return tfs_path_short(path) ? fstatat(root, path, st, flags) : tfs_long_fstatat(root, path, st, flags);
}
static inline int tfs_unlinkat(int root, const char *path, int flags)
{
	return tfs_path_short(path) ? unlinkat(root, path, flags) : tfs_long_unlinkat(root, path, flags);
}
static inline int tfs_mkdirat(int root, const char *path, mode_t mode)
{
	return tfs_path_short(path) ? mkdirat(root, path, mode) : tfs_long_mkdirat(root, path, mode);
}
static inline int tfs_mknodat(int root, const char *path, mode_t mode, dev_t dev)
{
	return tfs_path_short(path) ? mknodat(root, path, mode, dev) : tfs_long_mknodat(root, path, mode, dev);
}
static inline int tfs_symlinkat(const char *target, int root, const char *path)
{
	return tfs_path_short(path) ? symlinkat(target, root, path) : tfs_long_symlinkat(target, root, path);
}
static inline ssize_t tfs_readlinkat(int root, const char *path, char *buf, size_t len)
{
	return tfs_path_short(path) ? readlinkat(root, path, buf, len) : tfs_long_readlinkat(root, path, buf, len);
}
static inline int tfs_fchmodat(int root, const char *path, mode_t mode, int flags)
{
	return tfs_path_short(path) ? fchmodat(root, path, mode, flags) : tfs_long_fchmodat(root, path, mode, flags);
}
static inline int tfs_fchownat(int root, const char *path, uid_t uid, gid_t gid, int flags)
{
	return tfs_path_short(path) ? fchownat(root, path, uid, gid, flags)
				    : tfs_long_fchownat(root, path, uid, gid, flags);
}
static inline int tfs_utimensat(int root, const char *path, const struct timespec ts[2], int flags)
{
	return tfs_path_short(path) ? utimensat(root, path, ts, flags) : tfs_long_utimensat(root, path, ts, flags);
}
static inline int tfs_faccessat(int root, const char *path, int mode, int flags)
{
	return tfs_path_short(path) ? faccessat(root, path, mode, flags) : tfs_long_faccessat(root, path, mode, flags);
}
static inline int tfs_linkat(int oroot, const char *opath, int nroot, const char *npath, int flags)
{
	return tfs_path_short(opath) && tfs_path_short(npath) ? linkat(oroot, opath, nroot, npath, flags)
							      : tfs_long_linkat(oroot, opath, nroot, npath, flags);
}
static inline int tfs_renameat2(int oroot, const char *opath, int nroot, const char *npath, unsigned flags)
{
	return tfs_path_short(opath) && tfs_path_short(npath) ? renameat2(oroot, opath, nroot, npath, flags)
							      : tfs_long_renameat2(oroot, opath, nroot, npath, flags);
}

#endif
