/*
 * longpath.c - the slow path of longpath.h: a path from a tier root of
 * PATH_MAX bytes or more, split into directory pieces opened one after the
 * other (O_PATH, no symlink followed anywhere in them), then the call on
 * the last directory and the short rest.
 *
 * Invariant: no piece handed to the kernel reaches PATH_MAX bytes, and no
 * piece of the prefix follows a symlink: openat2(RESOLVE_NO_SYMLINKS |
 * RESOLVE_BENEATH) per piece, or, on a kernel without openat2, openat()
 * with O_NOFOLLOW one component at a time.  The rest may contain '/', as a
 * short path does on the fast path.  Each fd opened here is closed before
 * return (tfs_at_done) except the one tfs_at_split hands back.
 */
#define _GNU_SOURCE
#include "longpath.h"

#include <errno.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

static _Atomic int no_openat2;

/* A directory fd for piece (no trailing '/') below dirfd, no symlink
 * followed; -errno on failure. */
static int open_piece(int dirfd, char *piece)
{
	if (!atomic_load_explicit(&no_openat2, memory_order_relaxed)) {
		struct open_how how = {
			.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH,
		};
		long fd = syscall(SYS_openat2, dirfd, piece, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno != ENOSYS)
			return -errno;
		atomic_store(&no_openat2, 1);
	}
	/* one component at a time: O_NOFOLLOW only guards the last one */
	int fd = dirfd, own = 0;
	for (char *c = piece, *next; c; c = next) {
		next = strchr(c, '/');
		if (next)
			*next++ = '\0';
		if (!*c)
			continue;
		int sub = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int err = errno;
		if (own)
			close(fd);
		if (sub < 0)
			return -err;
		fd = sub;
		own = 1;
	}
	if (!own) /* nothing but slashes: the directory itself */
		fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int tfs_at_split(int rootfd, const char *path, size_t limit, struct tfs_at *a)
{
	a->fd = rootfd;
	a->rest = path;
	a->own = 0;
	if (limit > PATH_MAX)
		limit = PATH_MAX;
	char piece[PATH_MAX];
	while (strnlen(a->rest, limit) >= limit) {
		/* the last '/' that leaves a piece shorter than limit */
		const char *cut = memrchr(a->rest, '/', limit - 1);
		if (!cut || cut == a->rest) {
			tfs_at_done(a);
			return -ENAMETOOLONG; /* a component longer than the limit */
		}
		size_t plen = (size_t)(cut - a->rest);
		memcpy(piece, a->rest, plen);
		piece[plen] = '\0';
		int fd = open_piece(a->fd, piece);
		tfs_at_done(a);
		if (fd < 0)
			return fd;
		a->fd = fd;
		a->own = 1;
		a->rest = cut + 1;
	}
	return 0;
}

void tfs_at_done(struct tfs_at *a)
{
	if (a->own) {
		int err = errno;
		close(a->fd);
		errno = err;
		a->own = 0;
	}
}

int tfs_proc_path(int rootfd, const char *path, struct tfs_proc *p)
{
	int rc = tfs_at_split(rootfd, path, PATH_MAX - TFS_PROC_PREFIX, &p->at);
	if (rc)
		return rc;
	int n = snprintf(p->path, sizeof(p->path), "/proc/self/fd/%d/%s", p->at.fd, p->at.rest);
	if (n < 0 || (size_t)n >= sizeof(p->path)) {
		tfs_at_done(&p->at);
		return -ENAMETOOLONG;
	}
	return 0;
}

void tfs_proc_done(struct tfs_proc *p)
{
	tfs_at_done(&p->at);
}

/* Run call on (dirfd, rest) of root/path, with the libc convention. */
#define ON_SPLIT(root, path, call)                                    \
	do {                                                           \
		struct tfs_at at_;                                     \
		int rc_ = tfs_at_split(root, path, PATH_MAX, &at_);    \
		if (rc_) {                                             \
			errno = -rc_;                                  \
			return -1;                                     \
		}                                                      \
		int fd_ = at_.fd;                                      \
		const char *rest_ = at_.rest;                          \
		__typeof__(call) r_ = call;                            \
		tfs_at_done(&at_);                                     \
		return r_;                                             \
	} while (0)

int tfs_long_openat(int root, const char *path, int flags, mode_t mode)
{
	ON_SPLIT(root, path, openat(fd_, rest_, flags, mode));
}

int tfs_long_fstatat(int root, const char *path, struct stat *st, int flags)
{
	ON_SPLIT(root, path, fstatat(fd_, rest_, st, flags));
}

int tfs_long_unlinkat(int root, const char *path, int flags)
{
	ON_SPLIT(root, path, unlinkat(fd_, rest_, flags));
}

int tfs_long_mkdirat(int root, const char *path, mode_t mode)
{
	ON_SPLIT(root, path, mkdirat(fd_, rest_, mode));
}

int tfs_long_mknodat(int root, const char *path, mode_t mode, dev_t dev)
{
	ON_SPLIT(root, path, mknodat(fd_, rest_, mode, dev));
}

int tfs_long_symlinkat(const char *target, int root, const char *path)
{
	ON_SPLIT(root, path, symlinkat(target, fd_, rest_));
}

ssize_t tfs_long_readlinkat(int root, const char *path, char *buf, size_t len)
{
	ON_SPLIT(root, path, readlinkat(fd_, rest_, buf, len));
}

int tfs_long_fchmodat(int root, const char *path, mode_t mode, int flags)
{
	ON_SPLIT(root, path, fchmodat(fd_, rest_, mode, flags));
}

int tfs_long_fchownat(int root, const char *path, uid_t uid, gid_t gid, int flags)
{
	ON_SPLIT(root, path, fchownat(fd_, rest_, uid, gid, flags));
}

int tfs_long_utimensat(int root, const char *path, const struct timespec ts[2], int flags)
{
	ON_SPLIT(root, path, utimensat(fd_, rest_, ts, flags));
}

int tfs_long_faccessat(int root, const char *path, int mode, int flags)
{
	ON_SPLIT(root, path, faccessat(fd_, rest_, mode, flags));
}

/* Two paths: both split, the call on both pairs. */
#define ON_SPLIT2(oroot, opath, nroot, npath, call)                              \
	do {                                                                      \
		struct tfs_at o_, n_;                                             \
		int rc_ = tfs_at_split(oroot, opath, PATH_MAX, &o_);              \
		if (!rc_) {                                                       \
			rc_ = tfs_at_split(nroot, npath, PATH_MAX, &n_);          \
			if (rc_)                                                  \
				tfs_at_done(&o_);                                 \
		}                                                                 \
		if (rc_) {                                                        \
			errno = -rc_;                                             \
			return -1;                                                \
		}                                                                 \
		int ofd_ = o_.fd, nfd_ = n_.fd;                                   \
		const char *orest_ = o_.rest, *nrest_ = n_.rest;                  \
		int r_ = call;                                                    \
		tfs_at_done(&n_);                                                 \
		tfs_at_done(&o_);                                                 \
		return r_;                                                        \
	} while (0)

int tfs_long_linkat(int oroot, const char *opath, int nroot, const char *npath, int flags)
{
	ON_SPLIT2(oroot, opath, nroot, npath, linkat(ofd_, orest_, nfd_, nrest_, flags));
}

int tfs_long_renameat2(int oroot, const char *opath, int nroot, const char *npath, unsigned flags)
{
	ON_SPLIT2(oroot, opath, nroot, npath, renameat2(ofd_, orest_, nfd_, nrest_, flags));
}
