/*
 * migrate.c - see migrate.h.
 */
#define _GNU_SOURCE
#include "migrate.h"
#include "tierfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* ---- backend I/O ----------------------------------------------------------- */

static ssize_t real_copy(void *arg, int in, off_t *off_in, int out, off_t *off_out, size_t len)
{
	ssize_t n = copy_file_range(in, off_in, out, off_out, len, 0);
	if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
		/* across filesystems on older kernels: sendfile from the offset */
		if (lseek(out, *off_out, SEEK_SET) < 0)
			return -errno;
		n = sendfile(out, in, off_in, len);
		if (n > 0)
			*off_out += n;
	}
	return n < 0 ? -errno : n;
}

static int real_fsync(void *arg, int fd)
{
	return fsync(fd) < 0 ? -errno : 0;
}

const struct tfs_io tfs_real_io = {real_copy, real_fsync, NULL};

/* ---- journal ----------------------------------------------------------------- */

struct tfs_journal {
	int fd;
	pthread_mutex_t lock;
	uint64_t next_id;
	unsigned open_intents;
};

int tfs_journal_open(const char *path, struct tfs_journal **out)
{
	struct tfs_journal *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		int rc = -errno;
		free(j);
		return rc;
	}
	pthread_mutex_init(&j->lock, NULL);
	j->next_id = 1;
	*out = j;
	return 0;
}

void tfs_journal_close(struct tfs_journal *j)
{
	if (!j)
		return;
	close(j->fd);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

static int journal_write(struct tfs_journal *j, const char *line, size_t len, int sync)
{
	if (!j)
		return 0;
	ssize_t n = write(j->fd, line, len);
	if (n != (ssize_t)len)
		return n < 0 ? -errno : -EIO;
	return sync && fdatasync(j->fd) < 0 ? -errno : 0;
}

static int journal_begin(struct tfs *fs, struct tfs_move *mv)
{
	struct tfs_journal *j = fs->journal;
	if (!j)
		return 0;
	char line[2 * TFS_PATH_MAX + 128];
	int n;
	pthread_mutex_lock(&j->lock);
	mv->jid = j->next_id++;
	n = snprintf(line, sizeof(line), "B %llu %llu %d %d ", (unsigned long long)mv->jid,
		     (unsigned long long)mv->ino, mv->src, mv->dst);
	for (const unsigned char *p = (const unsigned char *)mv->path; *p && n < (int)sizeof(line) - 3; p++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%02x", *p);
	line[n++] = '\n';
	int rc = journal_write(j, line, (size_t)n, 1);
	if (!rc)
		j->open_intents++;
	pthread_mutex_unlock(&j->lock);
	return rc;
}

static int journal_mark(struct tfs *fs, struct tfs_move *mv, char kind)
{
	struct tfs_journal *j = fs->journal;
	if (!j)
		return 0;
	char line[64];
	int n = snprintf(line, sizeof(line), "%c %llu\n", kind, (unsigned long long)mv->jid);
	pthread_mutex_lock(&j->lock);
	int rc = journal_write(j, line, (size_t)n, kind == 'R');
	if (kind != 'R' && j->open_intents && --j->open_intents == 0)
		(void)ftruncate(j->fd, 0); /* nothing in flight: start afresh */
	pthread_mutex_unlock(&j->lock);
	return rc;
}

/* ---- the copy ------------------------------------------------------------------ */

static void tmp_name(const char *path, uint64_t ino, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path) : 0;
	snprintf(out, len, "%.*s%s%s%llx", dirlen, path, dirlen ? "/" : "", TFS_TMP_PREFIX, (unsigned long long)ino);
}

static int fsync_parent(struct tfs *fs, int t, const char *path)
{
	char dir[TFS_PATH_MAX];
	const char *slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	int fd = tfs_openat(fs->tiers[t].rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = fs->io->fsync(fs->io->arg, fd);
	close(fd);
	return rc;
}

static void copy_xattrs(int in, int out)
{
	char names[4096];
	ssize_t len = flistxattr(in, names, sizeof(names));
	for (ssize_t i = 0; i < len; i += (ssize_t)strlen(names + i) + 1) {
		char val[4096];
		ssize_t vl = fgetxattr(in, names + i, val, sizeof(val));
		if (vl >= 0)
			(void)fsetxattr(out, names + i, val, (size_t)vl, 0);
	}
}

/* Copy data, mode, owner, times and xattrs of mv->path from mv->src to
 * mv->tmp in mv->dst, and fsync it. */
static int copy_to_temp(struct tfs *fs, struct tfs_move *mv)
{
	int in = -1, out = -1, rc;
	int sroot = fs->tiers[mv->src].rootfd, droot = fs->tiers[mv->dst].rootfd;
	rc = tfs_clone_parents(fs, mv->dst, mv->path);
	if (rc)
		return rc;
	in = tfs_openat(sroot, mv->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (in < 0)
		return -errno;
	struct stat st;
	if (fstat(in, &st) < 0) {
		rc = -errno;
		goto out_in;
	}
	(void)tfs_unlinkat(droot, mv->tmp, 0); /* a leftover of an interrupted move */
	out = tfs_openat(droot, mv->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
	if (out < 0) {
		rc = -errno;
		goto out_in;
	}
	off_t off_in = 0, off_out = 0;
	while ((uint64_t)off_in < (uint64_t)st.st_size) {
		size_t chunk = (uint64_t)st.st_size - (uint64_t)off_in;
		if (chunk > (8u << 20))
			chunk = 8u << 20; /* room for the rate limit to act */
		ssize_t n = fs->io->copy(fs->io->arg, in, &off_in, out, &off_out, chunk);
		if (n == -EINTR)
			continue;
		if (n < 0) {
			rc = (int)n;
			goto out_tmp;
		}
		if (n == 0)
			break; /* the source shrank: the commit will see it */
		tfs_emulate(fs, &fs->tiers[mv->src].rd, (uint64_t)n);
		tfs_emulate(fs, &fs->tiers[mv->dst].wr, (uint64_t)n);
		tfs_emulate(fs, &fs->tiers[mv->dst].mig, (uint64_t)n);
	}
	mv->size = (uint64_t)off_out;
	if (fs->is_root && fchown(out, st.st_uid, st.st_gid) < 0) {
		rc = -errno;
		goto out_tmp;
	}
	(void)fchmod(out, st.st_mode & 07777);
	copy_xattrs(in, out);
	if (fsetxattr(out, TFS_XATTR_INO, &mv->ino, sizeof(mv->ino), 0) < 0 && errno != ENOTSUP)
		tfs_log(TCFG_LOG_WARN, "cannot record the ino of %s in tier %s: %s", mv->path,
			fs->tiers[mv->dst].name, strerror(errno));
	struct timespec ts[2] = {st.st_atim, st.st_mtim};
	(void)futimens(out, ts);
	rc = fs->io->fsync(fs->io->arg, out);
	if (rc)
		goto out_tmp;
	mon_read(fs->mon, mv->src, mv->size);
	mon_write(fs->mon, mv->dst, mv->size);
	close(out);
	close(in);
	return 0;
out_tmp:
	close(out);
	(void)tfs_unlinkat(droot, mv->tmp, 0);
out_in:
	close(in);
	return rc;
}

static uint64_t node_gen(struct tfs_node *n)
{
	return n ? atomic_load(&n->write_gen) : 0;
}

/* The move of mv->owner is over (committed or not). */
static void move_done(struct tfs_move *mv)
{
	struct tfs_node *n = mv->owner;
	if (n) {
		pthread_mutex_lock(&n->lock);
		n->moving = 0;
		pthread_mutex_unlock(&n->lock);
		mv->owner = NULL;
	}
}

int tfs_move_prepare(struct tfs *fs, const char *relpath, int dst, struct tfs_node *n, struct tfs_move *mv)
{
	memset(mv, 0, sizeof(*mv));
	if (strlen(relpath) >= sizeof(mv->path) - sizeof(TFS_TMP_PREFIX) - 20)
		return -ENAMETOOLONG;
	struct stat st;
	int src = tfs_find(fs, relpath, &st);
	if (src < 0)
		return src;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (src == dst)
		return -EXDEV;
	if (st.st_nlink > 1)
		return -EMLINK; /* moving one name would split the file */
	if (n) {
		pthread_mutex_lock(&n->lock);
		int busy = n->moving;
		n->moving = 1;
		pthread_mutex_unlock(&n->lock);
		if (busy)
			return -EBUSY;
		mv->owner = n;
	}
	snprintf(mv->path, sizeof(mv->path), "%s", relpath);
	mv->src = src;
	mv->dst = dst;
	mv->ino = tfs_ino_of(fs, src, relpath, &st);
	mv->src_backing_ino = st.st_ino;
	mv->gen = node_gen(n);
	tmp_name(relpath, mv->ino, mv->tmp, sizeof(mv->tmp));
	int rc = tfs_charge(fs, dst, (uint64_t)st.st_size);
	if (rc) {
		move_done(mv);
		return rc;
	}
	mv->charged = (uint64_t)st.st_size;
	mon_migrate_begin(fs->mon, dst, (uint64_t)st.st_size);
	rc = journal_begin(fs, mv);
	if (!rc)
		rc = copy_to_temp(fs, mv);
	if (rc) {
		tfs_move_abort(fs, mv);
		return rc;
	}
	/* the charge follows what was copied */
	if (mv->size != mv->charged) {
		tfs_uncharge(fs, dst, mv->charged);
		mv->charged = 0;
		rc = tfs_charge(fs, dst, mv->size);
		if (rc) {
			tfs_move_abort(fs, mv);
			return rc;
		}
		mv->charged = mv->size;
	}
	return 0;
}

void tfs_move_wait(struct tfs_node *n)
{
	const struct timespec ms = {0, 1000000};
	for (;;) {
		pthread_mutex_lock(&n->lock);
		int busy = n->moving;
		pthread_mutex_unlock(&n->lock);
		if (!busy)
			return;
		nanosleep(&ms, NULL);
	}
}

void tfs_move_abort(struct tfs *fs, struct tfs_move *mv)
{
	if (mv->tmp[0])
		(void)tfs_unlinkat(fs->tiers[mv->dst].rootfd, mv->tmp, 0);
	if (mv->charged)
		tfs_uncharge(fs, mv->dst, mv->charged);
	mv->charged = 0;
	mon_migrate_end(fs->mon, mv->dst, mv->size);
	(void)journal_mark(fs, mv, 'A');
	move_done(mv);
}

int tfs_move_commit(struct tfs *fs, struct tfs_move *mv, struct tfs_node *n)
{
	int sroot = fs->tiers[mv->src].rootfd, droot = fs->tiers[mv->dst].rootfd;
	struct stat st;
	/* Nothing wrote to it, renamed or replaced it since the copy began. */
	if (tfs_fstatat(sroot, mv->path, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_ino != mv->src_backing_ino ||
	    (uint64_t)st.st_size != mv->size || node_gen(n) != mv->gen || st.st_nlink > 1 ||
	    (n && n->pt_writers)) {
		tfs_move_abort(fs, mv);
		return -EAGAIN;
	}
	if (tfs_renameat2(droot, mv->tmp, droot, mv->path, 0) < 0) {
		int rc = -errno;
		tfs_move_abort(fs, mv);
		return rc;
	}
	mv->tmp[0] = '\0';
	int rc = fsync_parent(fs, mv->dst, mv->path);
	if (!rc)
		rc = journal_mark(fs, mv, 'R');
	if (rc) {
		/* Not durable: undo while the source is still there. */
		(void)tfs_unlinkat(droot, mv->path, 0);
		tfs_move_abort(fs, mv);
		return rc;
	}
	if (n) {
		pthread_mutex_lock(&n->lock);
		for (struct tfs_handle *h = n->handles; h; h = h->next) {
			int fd = tfs_openat(droot, mv->path,
					(h->flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOFOLLOW | O_CLOEXEC, 0);
			if (fd < 0 || dup3(fd, h->fd, O_CLOEXEC) < 0)
				tfs_log(TCFG_LOG_ERROR, "cannot reopen %s in tier %s: %s", mv->path,
					fs->tiers[mv->dst].name, strerror(errno));
			if (fd >= 0)
				close(fd);
			mon_close(fs->mon, mv->src);
			mon_open(fs->mon, mv->dst);
		}
		n->tier = mv->dst;
		n->size = mv->size;
		pthread_mutex_unlock(&n->lock);
	}
	if (tfs_unlinkat(sroot, mv->path, 0) < 0)
		tfs_log(TCFG_LOG_ERROR, "moved %s but cannot remove it from tier %s: %s", mv->path,
			fs->tiers[mv->src].name, strerror(errno));
	tfs_uncharge(fs, mv->src, mv->size);
	mv->charged = 0;
	mon_migrate_end(fs->mon, mv->dst, mv->size);
	(void)journal_mark(fs, mv, 'D');
	atomic_fetch_add(&fs->moves, 1);
	atomic_fetch_add(&fs->moved_bytes, mv->size);
	move_done(mv);
	return 0;
}

int tfs_migrate(struct tfs *fs, const char *relpath, int dst)
{
	struct stat st;
	int src = tfs_find(fs, relpath, &st);
	if (src < 0)
		return src;
	uint64_t ino = tfs_ino_of(fs, src, relpath, &st);
	struct tfs_node *n = tfs_node_find(fs, ino);
	struct tfs_move mv;
	int rc = tfs_move_prepare(fs, relpath, dst, n, &mv);
	for (int wait = 0; rc == -EBUSY && wait < 3; wait++) {
		tfs_move_wait(n); /* a spill of the file: it may be where we want it now */
		rc = tfs_move_prepare(fs, relpath, dst, n, &mv);
	}
	if (!rc) {
		/* The lock order (tierfs.h): the file's io_lock, then mig_lock.
		 * The other way round, a spill holding the file's io_lock and
		 * waiting for mig_lock deadlocked with this commit. */
		if (n)
			pthread_rwlock_wrlock(&n->io_lock);
		pthread_rwlock_wrlock(&fs->mig_lock);
		rc = tfs_move_commit(fs, &mv, n);
		pthread_rwlock_unlock(&fs->mig_lock);
		if (n)
			pthread_rwlock_unlock(&n->io_lock);
	}
	if (n)
		tfs_node_unref(fs, n);
	return rc;
}

/* ---- recovery -------------------------------------------------------------------- */

struct intent {
	uint64_t id, ino;
	int src, dst;
	char path[TFS_PATH_MAX];
	int renamed, closed;
};

static int unhex(const char *s, char *out, size_t len)
{
	size_t o = 0;
	while (s[0] && s[1] && s[0] != '\n') {
		unsigned v;
		if (o + 1 >= len || sscanf(s, "%2x", &v) != 1)
			return -EINVAL;
		out[o++] = (char)v;
		s += 2;
	}
	out[o] = '\0';
	return o ? 0 : -EINVAL;
}

static void remove_temps(struct tfs *fs, int t, int dirfd, unsigned *count, int depth)
{
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!strncmp(de->d_name, TFS_TMP_PREFIX, sizeof(TFS_TMP_PREFIX) - 1)) {
			if (unlinkat(dirfd, de->d_name, 0) == 0)
				(*count)++;
			continue;
		}
		if (de->d_type == DT_DIR && depth < 1024) {
			int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				remove_temps(fs, t, sub, count, depth + 1);
		}
	}
	closedir(d);
}

/* A regular file found in tier t and in an earlier tier: keep one. */
static void fix_duplicates(struct tfs *fs, int t, int dirfd, char *path, size_t plen, unsigned *count,
			   int depth)
{
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		size_t nl = strlen(de->d_name);
		if (plen + nl + 2 >= TFS_PATH_MAX)
			continue;
		size_t l = plen;
		if (plen)
			path[l++] = '/';
		memcpy(path + l, de->d_name, nl + 1);
		struct stat st;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			goto next;
		if (S_ISDIR(st.st_mode) && depth < 1024) {
			int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				fix_duplicates(fs, t, sub, path, l + nl, count, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			for (int e = 0; e < t; e++) {
				struct stat est;
				if (tfs_fstatat(fs->tiers[e].rootfd, path, &est, AT_SYMLINK_NOFOLLOW) < 0 ||
				    !S_ISREG(est.st_mode))
					continue;
				/* A partial copy is the shorter one; equal: keep the earlier tier. */
				int drop_here = st.st_size <= est.st_size;
				int rc = drop_here ? unlinkat(dirfd, de->d_name, 0)
						   : tfs_unlinkat(fs->tiers[e].rootfd, path, 0);
				if (rc == 0) {
					(*count)++;
					tfs_log(TCFG_LOG_WARN, "recovery: %s was in tiers %s and %s; kept the copy in %s",
						path, fs->tiers[e].name, fs->tiers[t].name,
						drop_here ? fs->tiers[e].name : fs->tiers[t].name);
				}
				break;
			}
		}
	next:
		path[plen] = '\0';
	}
	closedir(d);
}

int tfs_recover(struct tfs *fs, const char *journal_path, struct tfs_recovery *out)
{
	memset(out, 0, sizeof(*out));
	FILE *f = fopen(journal_path, "r");
	struct intent *list = NULL;
	size_t n = 0, cap = 0;
	if (f) {
		char line[2 * TFS_PATH_MAX + 128];
		while (fgets(line, sizeof(line), f)) {
			unsigned long long id, ino;
			int src, dst, off = 0;
			if (line[0] == 'B' && sscanf(line, "B %llu %llu %d %d %n", &id, &ino, &src, &dst, &off) == 4 &&
			    off > 0 && src >= 0 && dst >= 0 && src < fs->ntiers && dst < fs->ntiers) {
				if (n == cap) {
					cap = cap ? cap * 2 : 16;
					struct intent *nl = realloc(list, cap * sizeof(*nl));
					if (!nl)
						break;
					list = nl;
				}
				struct intent *it = &list[n];
				memset(it, 0, sizeof(*it));
				it->id = id;
				it->ino = ino;
				it->src = src;
				it->dst = dst;
				if (unhex(line + off, it->path, sizeof(it->path)) == 0 && !strstr(it->path, ".."))
					n++;
			} else if ((line[0] == 'R' || line[0] == 'D' || line[0] == 'A') &&
				   sscanf(line + 1, "%llu", &id) == 1) {
				for (size_t i = 0; i < n; i++)
					if (list[i].id == id) {
						if (line[0] == 'R')
							list[i].renamed = 1;
						else
							list[i].closed = 1;
					}
			}
		}
		fclose(f);
	}
	for (size_t i = 0; i < n; i++) {
		struct intent *it = &list[i];
		if (it->closed)
			continue;
		out->intents++;
		char tmp[TFS_PATH_MAX];
		tmp_name(it->path, it->ino, tmp, sizeof(tmp));
		(void)tfs_unlinkat(fs->tiers[it->dst].rootfd, tmp, 0);
		struct stat st;
		int in_src = tfs_fstatat(fs->tiers[it->src].rootfd, it->path, &st, AT_SYMLINK_NOFOLLOW) == 0;
		int in_dst = tfs_fstatat(fs->tiers[it->dst].rootfd, it->path, &st, AT_SYMLINK_NOFOLLOW) == 0;
		if (it->renamed && in_dst) {
			if (in_src)
				(void)tfs_unlinkat(fs->tiers[it->src].rootfd, it->path, 0);
			out->rolled_forward++;
		} else {
			/* Not durable in the destination: the source is the file. */
			if (in_dst && in_src)
				(void)tfs_unlinkat(fs->tiers[it->dst].rootfd, it->path, 0);
			out->rolled_back++;
		}
		tfs_log(TCFG_LOG_WARN, "recovery: move of %s from tier %s to %s %s", it->path,
			fs->tiers[it->src].name, fs->tiers[it->dst].name,
			it->renamed && in_dst ? "finished" : "undone");
	}
	free(list);
	char path[TFS_PATH_MAX];
	for (int t = 0; t < fs->ntiers; t++) {
		int fd = openat(fs->tiers[t].rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0)
			remove_temps(fs, t, fd, &out->temps_removed, 0);
		if (t == 0)
			continue;
		fd = openat(fs->tiers[t].rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		path[0] = '\0';
		if (fd >= 0)
			fix_duplicates(fs, t, fd, path, 0, &out->duplicates_fixed, 0);
	}
	int fd = open(journal_path, O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}
