/*
 * tier.c - what the daemon does to the tier directories: find an object,
 * clone parent directories into another tier, charge capacity, and move an
 * open file to another tier when the one it is on is full (invariant 3).
 *
 * Every path here is relative to a tier root and resolved with the *at()
 * calls on the tier's root fd (through longpath.h, so that a path of any
 * depth works), never following a symlink in the last component.
 */
#define _GNU_SOURCE
#include "tierfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/random.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* getxattrat(2), Linux 6.13: an xattr by (dirfd, path) without the /proc
 * walk of the fallback, on the lookup path of every file. */
#ifndef SYS_getxattrat
#define SYS_getxattrat 464
#endif
struct tfs_xattr_args {
	uint64_t value;
	uint32_t size;
	uint32_t flags;
};
static _Atomic int no_getxattrat;

ssize_t tfs_getxattr_at(int dirfd, const char *path, const char *name, void *value, size_t size)
{
	if (!atomic_load_explicit(&no_getxattrat, memory_order_relaxed)) {
		struct tfs_xattr_args a = {(uint64_t)(uintptr_t)value, (uint32_t)size, 0};
		struct tfs_at at;
		int rc = tfs_at_split(dirfd, path, PATH_MAX, &at);
		if (rc) {
			errno = -rc;
			return -1;
		}
		long n = syscall(SYS_getxattrat, at.fd, at.rest, AT_SYMLINK_NOFOLLOW, name, &a, sizeof(a));
		tfs_at_done(&at);
		if (n >= 0 || (errno != ENOSYS && errno != EINVAL))
			return n;
		atomic_store(&no_getxattrat, 1);
	}
	struct tfs_proc p;
	int rc = tfs_proc_path(dirfd, path, &p);
	if (rc) {
		errno = -rc;
		return -1;
	}
	ssize_t n = lgetxattr(p.path, name, value, size);
	tfs_proc_done(&p);
	return n;
}

uint64_t tfs_ino_encode(int tier, const struct stat *st)
{
	return ((uint64_t)(tier + 1) << 58) | ((uint64_t)st->st_ino & ((1ULL << 58) - 1));
}

static int set_ino_xattr(struct tfs *fs, int t, const char *path, uint64_t ino);

uint64_t tfs_ino_fresh(struct tfs *fs)
{
	for (;;) {
		uint64_t r;
		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			r = ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) * 0x9e3779b97f4a7c15ULL;
		}
		r |= 1ULL << 63; /* never an encoded ino (tier bits stop at 62) */
		int t;
		if (!tfs_node_tier_of(fs, r, &t))
			return r;
	}
}

/* Whether an encoded ino of a file in tier t belongs to a node that now
 * lives elsewhere: a file moved away keeps the ino its first tier gave it
 * (in an xattr), and that tier may give the freed backing inode number to
 * a new file.  Two files would then share one FUSE inode, and the kernel
 * one page cache. */
static int ino_taken(struct tfs *fs, uint64_t ino, int tier, int creating)
{
	int t;
	return tfs_node_tier_of(fs, ino, &t) && (creating || (t >= 0 && t != tier));
}

/* The ino is 58 bits of the backing inode with the tier index above, so two
 * tiers never collide; a copy the daemon made carries the original's ino in
 * an xattr, which wins.  An encoded ino another file already holds (see
 * ino_taken) is replaced by a fresh one, recorded in the file's xattr. */
uint64_t tfs_ino_of(struct tfs *fs, int tier, const char *path, const struct stat *st)
{
	uint64_t ino;
	if (!S_ISLNK(st->st_mode) &&
	    tfs_getxattr_at(fs->tiers[tier].rootfd, path, TFS_XATTR_INO, &ino, sizeof(ino)) == (ssize_t)sizeof(ino) &&
	    ino > 1)
		return ino;
	ino = tfs_ino_encode(tier, st);
	if (S_ISREG(st->st_mode) && ino_taken(fs, ino, tier, 0)) {
		uint64_t fresh = tfs_ino_fresh(fs);
		if (set_ino_xattr(fs, tier, path, fresh) == 0)
			return fresh;
		tfs_log(TCFG_LOG_WARN, "%s in tier %s shares an inode number with a moved file and cannot be given another (no user xattrs)",
			path, fs->tiers[tier].name);
	}
	return ino;
}

uint64_t tfs_ino_new(struct tfs *fs, int tier, int fd, const struct stat *st)
{
	uint64_t ino = tfs_ino_encode(tier, st);
	if (!ino_taken(fs, ino, tier, 1))
		return ino;
	uint64_t fresh = tfs_ino_fresh(fs);
	if (fsetxattr(fd, TFS_XATTR_INO, &fresh, sizeof(fresh), 0) == 0)
		return fresh;
	tfs_log(TCFG_LOG_WARN, "a new file in tier %s shares an inode number with a moved file and cannot be given another: %s",
		fs->tiers[tier].name, strerror(errno));
	return ino;
}

uint64_t tfs_mount_hash(const char *mountpoint)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const char *s = mountpoint; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

int tfs_find(struct tfs *fs, const char *path, struct stat *st)
{
	for (int t = 0; t < fs->ntiers; t++) {
		if (tfs_fstatat(fs->tiers[t].rootfd, path, st, AT_SYMLINK_NOFOLLOW) == 0)
			return t;
		if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
	}
	return -ENOENT;
}

unsigned tfs_where(struct tfs *fs, const char *path)
{
	unsigned mask = 0;
	struct stat st;
	for (int t = 0; t < fs->ntiers; t++)
		if (tfs_fstatat(fs->tiers[t].rootfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
			mask |= 1u << t;
	return mask;
}

static int set_ino_xattr(struct tfs *fs, int t, const char *path, uint64_t ino)
{
	struct tfs_proc p;
	int rc = tfs_proc_path(fs->tiers[t].rootfd, path, &p);
	if (rc)
		return rc;
	rc = lsetxattr(p.path, TFS_XATTR_INO, &ino, sizeof(ino), 0) < 0 ? -errno : 0;
	tfs_proc_done(&p);
	return rc;
}

/* Clone one directory from its primary copy into tier t. */
static int clone_dir(struct tfs *fs, int t, const char *path)
{
	struct stat st;
	int src = tfs_find(fs, path, &st);
	if (src < 0)
		return src;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	uint64_t ino = tfs_ino_of(fs, src, path, &st);
	int rootfd = fs->tiers[t].rootfd;
	if (tfs_mkdirat(rootfd, path, st.st_mode & 07777) < 0)
		return errno == EEXIST ? 0 : -errno;
	if (fs->is_root && tfs_fchownat(rootfd, path, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		tfs_log(TCFG_LOG_WARN, "cannot set owner of %s in tier %s: %s", path, fs->tiers[t].name,
			strerror(errno));
	/* mkdir applied the umask-free mode; chmod again for setgid/sticky */
	(void)tfs_fchmodat(rootfd, path, st.st_mode & 07777, 0);
	(void)set_ino_xattr(fs, t, path, ino);
	struct timespec ts[2] = {st.st_atim, st.st_mtim};
	(void)tfs_utimensat(rootfd, path, ts, AT_SYMLINK_NOFOLLOW);
	return 0;
}

int tfs_clone_parents(struct tfs *fs, int t, const char *path)
{
	char buf[TFS_PATH_MAX];
	size_t len = strlen(path);
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	char *slash = strrchr(buf, '/');
	if (!slash)
		return 0; /* parent is the root */
	*slash = '\0';
	struct stat st;
	if (tfs_fstatat(fs->tiers[t].rootfd, buf, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	/* Walk down from the top, creating what is missing. */
	for (char *p = buf; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		int rc = tfs_fstatat(fs->tiers[t].rootfd, buf, &st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : clone_dir(fs, t, buf);
		*p = '/';
		if (rc)
			return rc;
	}
	return clone_dir(fs, t, buf);
}

void tfs_dir_touched(struct tfs *fs, const char *dirpath, int t)
{
	if (t == 0)
		return; /* the first tier's copy is the primary one: changed already */
	struct stat st;
	int primary = tfs_find(fs, dirpath, &st);
	if (primary < 0 || primary == t)
		return;
	struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
	(void)tfs_utimensat(fs->tiers[primary].rootfd, dirpath, ts, AT_SYMLINK_NOFOLLOW);
}

int tfs_charge(struct tfs *fs, int t, uint64_t delta)
{
	struct tfs_tier *tr = &fs->tiers[t];
	uint64_t cur = atomic_load(&tr->used);
	do {
		if (cur + delta > tr->capacity || cur + delta < cur)
			return -ENOSPC;
	} while (!atomic_compare_exchange_weak(&tr->used, &cur, cur + delta));
	return 0;
}

void tfs_uncharge(struct tfs *fs, int t, uint64_t delta)
{
	struct tfs_tier *tr = &fs->tiers[t];
	uint64_t cur = atomic_load(&tr->used);
	uint64_t next;
	do {
		next = cur > delta ? cur - delta : 0;
	} while (!atomic_compare_exchange_weak(&tr->used, &cur, next));
}

int tfs_spill(struct tfs *fs, struct tfs_node *n, int from, uint64_t need)
{
	int src = tfs_tier_hint(n);
	if (src != from)
		return 0; /* another write spilled it while we waited for io_lock */
	char path[TFS_PATH_MAX];
	int rc = tfs_node_path(fs, n, path, sizeof(path));
	if (rc)
		return rc == -ESTALE ? -ENOSPC : rc; /* unlinked while open: cannot move */
	/* The next slower tiers first, then the faster ones. */
	for (int k = 1; k < fs->ntiers; k++) {
		int dst = (src + k) % fs->ntiers;
		struct tfs_tier *d = &fs->tiers[dst];
		struct tfs_move mv;
		rc = tfs_move_prepare(fs, path, dst, n, &mv);
		if (rc == -EMLINK)
			return -ENOSPC; /* moving one name of a hard-linked file would split it */
		if (rc == -EBUSY) {
			/* The migrator is moving it, and needs io_lock to finish:
			 * let go, wait, and have the caller charge again wherever
			 * the file landed. */
			pthread_rwlock_unlock(&n->io_lock);
			tfs_move_wait(n);
			pthread_rwlock_wrlock(&n->io_lock);
			return 0;
		}
		if (rc)
			continue;
		if (atomic_load(&d->used) + need > d->capacity) {
			tfs_move_abort(fs, &mv); /* the file fits there, its growth does not */
			continue;
		}
		pthread_rwlock_wrlock(&fs->mig_lock);
		rc = tfs_move_commit(fs, &mv, n);
		pthread_rwlock_unlock(&fs->mig_lock);
		if (rc)
			continue;
		atomic_fetch_add(&fs->spills, 1);
		tfs_log(TCFG_LOG_INFO, "moved %s from tier %s to tier %s (full)", path, fs->tiers[src].name, d->name);
		return 0;
	}
	return -ENOSPC;
}

/* Sum the sizes of regular files (each hard-linked inode once) in a tier. */
static int scan_dir(int dirfd, uint64_t *sum, int depth)
{
	if (depth > 1024)
		return -ELOOP;
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return -errno;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			*sum += (uint64_t)st.st_size / (st.st_nlink ? st.st_nlink : 1);
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				(void)scan_dir(sub, sum, depth + 1);
		}
	}
	closedir(d);
	return 0;
}

int tfs_scan_usage(struct tfs *fs)
{
	for (int t = 0; t < fs->ntiers; t++) {
		uint64_t sum = 0;
		int fd = openat(fs->tiers[t].rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		int rc = scan_dir(fd, &sum, 0);
		if (rc)
			return rc;
		atomic_store(&fs->tiers[t].used, sum);
	}
	return 0;
}

int tfs_dir_is_empty(struct tfs *fs, const char *path)
{
	for (int t = 0; t < fs->ntiers; t++) {
		int fd = tfs_openat(fs->tiers[t].rootfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		DIR *d = fdopendir(fd);
		if (!d) {
			close(fd);
			return -errno;
		}
		struct dirent *de;
		int empty = 1;
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
				empty = 0;
				break;
			}
		closedir(d);
		if (!empty)
			return 0;
	}
	return 1;
}

int tfs_join_path(const char *dir, const char *name, char *buf, size_t len)
{
	int n = strcmp(dir, ".") ? snprintf(buf, len, "%s/%s", dir, name) : snprintf(buf, len, "%s", name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Whether name in directory path is a directory in some tier before t. */
static int subdir_seen(struct tfs *fs, const char *path, const char *name, int t)
{
	char child[TFS_PATH_MAX];
	if (tfs_join_path(path, name, child, sizeof(child)))
		return 0;
	struct stat st;
	for (int u = 0; u < t; u++)
		if (tfs_fstatat(fs->tiers[u].rootfd, child, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
			return 1;
	return 0;
}

nlink_t tfs_dir_nlink(struct tfs *fs, const char *path, int primary, const struct stat *st)
{
	if (st->st_nlink < 2)
		return st->st_nlink; /* a backend that does not count subdirectories */
	nlink_t nlink = st->st_nlink;
	for (int t = primary + 1; t < fs->ntiers; t++) {
		struct stat cst;
		/* the usual case costs one stat per other copy: none, or no subdirectories */
		if (tfs_fstatat(fs->tiers[t].rootfd, path, &cst, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(cst.st_mode) ||
		    cst.st_nlink == 2)
			continue;
		int fd = tfs_openat(fs->tiers[t].rootfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
		DIR *d = fd < 0 ? NULL : fdopendir(fd);
		if (!d) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			struct stat est;
			int is_dir = de->d_type == DT_DIR ||
				     (de->d_type == DT_UNKNOWN && fstatat(dirfd(d), de->d_name, &est, AT_SYMLINK_NOFOLLOW) == 0 &&
				      S_ISDIR(est.st_mode));
			if (is_dir && !subdir_seen(fs, path, de->d_name, t))
				nlink++;
		}
		closedir(d);
	}
	return nlink;
}
