/*
 * ops.c - the FUSE low-level operations of tierfs.
 *
 * Errno contract at the FUSE boundary: every helper here returns 0 or a
 * negative errno; only the reply_* wrappers and the op functions turn that
 * into fuse_reply_err(req, positive errno).  Nothing else replies.
 *
 * The node id handed to the kernel is the address of a struct tfs_node
 * (FUSE_ROOT_ID for the root); st_ino in every reply is node->ino.
 * Permission checks are the kernel's (default_permissions) when other users
 * can reach the mount; see dir_rights_changed() for when they are not.
 */
#define _GNU_SOURCE
#include "tierfs.h"
#include "kernel_io.h"
#include "ctl.h"
#include "recorder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#define READ_BUF_MAX (1u << 20)

static void op_release_handle(struct tfs *fs, struct fuse_file_info *fi);

/* The per-file I/O recorder (recorder.h): opened at init, its records
 * finished at unmount by tfs_log_live_files().  One session per process. */
static struct trec *recorder;

void tfs_records_flush(void)
{
	trec_flush(recorder);
}

/* Take a node's recorder stats (once: whoever gets them writes the record). */
static struct trec_file *take_rec(struct tfs_node *n)
{
	return __atomic_exchange_n(&n->rec, NULL, __ATOMIC_ACQ_REL);
}

static struct tfs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct tfs_node *node_of(struct tfs *fs, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? &fs->root : (struct tfs_node *)(uintptr_t)ino;
}

static fuse_ino_t id_of(struct tfs *fs, struct tfs_node *n)
{
	return n == &fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}

static int node_tier(struct tfs_node *n)
{
	pthread_mutex_lock(&n->lock);
	int t = n->tier;
	pthread_mutex_unlock(&n->lock);
	return t;
}

/* The /proc path of a tier object, for the calls that have no *at form;
 * tfs_proc_done(p) after use (longpath.h). */
static int proc_path(struct tfs *fs, int t, const char *path, struct tfs_proc *p)
{
	return tfs_proc_path(fs->tiers[t].rootfd, path, p);
}

/* Stat a node: its own tier for a file (searching again if it moved behind
 * our back), the primary copy for a directory. */
static int stat_node(struct tfs *fs, struct tfs_node *n, const char *path, struct stat *st, int *tier)
{
	int t = S_ISDIR(n->type) ? -1 : node_tier(n);
	if (t >= 0 && tfs_fstatat(fs->tiers[t].rootfd, path, st, AT_SYMLINK_NOFOLLOW) == 0) {
		*tier = t;
	} else {
		t = tfs_find(fs, path, st);
		if (t < 0)
			return t;
		*tier = t;
		if (!S_ISDIR(n->type)) {
			pthread_mutex_lock(&n->lock);
			n->tier = t;
			pthread_mutex_unlock(&n->lock);
		}
	}
	if (S_ISDIR(st->st_mode))
		st->st_nlink = tfs_dir_nlink(fs, path, *tier, st);
	st->st_ino = n->ino;
	return 0;
}

/* A descriptor of an open node whose name is gone (unlinked or replaced
 * while open): the kernel's fstat/fchmod on it come without a handle. */
static int node_dup_fd(struct tfs_node *n)
{
	pthread_mutex_lock(&n->lock);
	int fd = n->handles ? fcntl(n->handles->fd, F_DUPFD_CLOEXEC, 0) : -1;
	pthread_mutex_unlock(&n->lock);
	return fd < 0 ? -ESTALE : fd;
}

/* Whether the caller of req is in group gid (its primary or a
 * supplementary group) or may act as if (root, standing in for
 * CAP_FSETID: the kernel flags a chown's request whoever makes it). */
static int caller_in_group(fuse_req_t req, gid_t gid)
{
	if (fuse_req_ctx(req)->gid == gid || fuse_req_ctx(req)->uid == 0)
		return 1;
	gid_t groups[64];
	int n = fuse_req_getgroups(req, 64, groups);
	for (int i = 0; i < n && i < 64; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

/* Drop suid, and sgid when group-executable or when the caller is not in
 * the file's group, as the kernel does for a caller without CAP_FSETID
 * (setattr_should_drop_suidgid; FUSE_HANDLE_KILLPRIV_V2 makes that our
 * job, and the kernel flags only such callers' requests). */
static void kill_suidgid(fuse_req_t req, int fd)
{
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	int drop_gid = (st.st_mode & S_ISGID) && ((st.st_mode & S_IXGRP) || !caller_in_group(req, st.st_gid));
	mode_t drop = S_ISUID | (drop_gid ? S_ISGID : 0);
	if (st.st_mode & drop)
		(void)fchmod(fd, st.st_mode & ~drop & 07777);
	(void)fremovexattr(fd, "security.capability");
}

static void fill_entry(struct tfs *fs, struct fuse_entry_param *e, struct tfs_node *n, const struct stat *st)
{
	memset(e, 0, sizeof(*e));
	e->ino = id_of(fs, n);
	e->attr = *st;
	e->attr.st_ino = n->ino;
	e->attr_timeout = fs->cfg->attr_timeout;
	e->entry_timeout = fs->cfg->entry_timeout;
}

/* Look parent/name up in the tiers and take a kernel reference on its node. */
static int do_lookup(struct tfs *fs, struct tfs_node *parent, const char *name, struct fuse_entry_param *e)
{
	char path[TFS_PATH_MAX];
	struct stat st;
	int rc = tfs_child_path(fs, parent, name, path, sizeof(path));
	if (rc)
		return rc;
	int t = tfs_find(fs, path, &st);
	if (t < 0)
		return t;
	if (S_ISDIR(st.st_mode))
		st.st_nlink = tfs_dir_nlink(fs, path, t, &st);
	uint64_t ino = tfs_ino_of(fs, t, path, &st);
	struct tfs_node *n = tfs_node_get(fs, ino, st.st_mode, parent, name, t,
					  S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0);
	if (!n)
		return -ENOMEM;
	fill_entry(fs, e, n, &st);
	return 0;
}

static void reply_entry_or_err(fuse_req_t req, int rc, const struct fuse_entry_param *e)
{
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_entry(req, e);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct tfs *fs = userdata;
	if (fs->cfg->writeback_cache && (conn->capable & FUSE_CAP_WRITEBACK_CACHE)) {
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
		fs->writeback = 1;
	}
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	conn->want &= ~(unsigned)FUSE_CAP_POSIX_ACL;
	conn->max_readahead = TFS_READAHEAD_KB * 1024u;
	size_t max_read = tfs_kio_splice_max_read();
	if (max_read)
		conn->max_read = (unsigned)max_read;
	conn->time_gran = 1;
	tfs_log(TCFG_LOG_INFO, "kernel protocol %u.%u, writeback cache %s", conn->proto_major,
		conn->proto_minor, fs->writeback ? "on" : "off");
	char path[PATH_MAX], err[PATH_MAX + 128];
	if (fs->cfg->state_dir) {
		snprintf(path, sizeof(path), "%s/files.csv", fs->cfg->state_dir);
		if (trec_create(path, fs->place, &recorder, err, sizeof(err)) != 0)
			tfs_log(TCFG_LOG_WARN, "%s: per-file I/O records are off", err);
	}
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct tfs *fs = fs_of(req);
	mon_meta_op(fs->mon);
	struct fuse_entry_param e;
	int rc = do_lookup(fs, node_of(fs, parent), name, &e);
	if (rc == -ENOENT && fs->cfg->negative_timeout > 0) {
		memset(&e, 0, sizeof(e));
		e.entry_timeout = fs->cfg->negative_timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	reply_entry_or_err(req, rc, &e);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct tfs *fs = fs_of(req);
	tfs_node_forget(fs, node_of(fs, ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct tfs *fs = fs_of(req);
	for (size_t i = 0; i < count; i++)
		tfs_node_forget(fs, node_of(fs, forgets[i].ino), forgets[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct tfs *fs = fs_of(req);
	mon_meta_op(fs->mon);
	struct tfs_node *n = node_of(fs, ino);
	struct stat st;
	int rc, t;
	if (fi && fi->fh && !S_ISDIR(n->type)) {
		struct tfs_handle *h = (struct tfs_handle *)(uintptr_t)fi->fh;
		rc = fstat(h->fd, &st) < 0 ? -errno : 0;
		st.st_ino = n->ino;
	} else {
		char path[TFS_PATH_MAX];
		rc = tfs_node_path(fs, n, path, sizeof(path));
		if (!rc) {
			rc = stat_node(fs, n, path, &st, &t);
		} else if (rc == -ESTALE && (t = node_dup_fd(n)) >= 0) {
			rc = fstat(t, &st) < 0 ? -errno : 0;
			st.st_ino = n->ino;
			close(t);
		}
	}
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, fs->cfg->attr_timeout);
}

/* Set the charge of a file to new_size (only ever up with grow_only),
 * spilling it to another tier when it does not fit.  Caller holds
 * n->io_lock shared; it may be dropped and retaken. */
static int resize_charge(struct tfs *fs, struct tfs_node *n, uint64_t new_size, int grow_only)
{
	for (int attempt = 0; attempt < TCFG_MAX_TIERS + 1; attempt++) {
		pthread_mutex_lock(&n->lock);
		int t = n->tier;
		uint64_t old = n->size;
		int rc = 0;
		if (grow_only && new_size <= old) {
			pthread_mutex_unlock(&n->lock);
			return 0;
		}
		if (new_size > old)
			rc = tfs_charge(fs, t, new_size - old);
		else
			tfs_uncharge(fs, t, old - new_size);
		if (!rc)
			n->size = new_size;
		pthread_mutex_unlock(&n->lock);
		if (!rc)
			return 0;
		pthread_rwlock_unlock(&n->io_lock);
		pthread_rwlock_wrlock(&n->io_lock);
		rc = tfs_spill(fs, n, t, new_size > old ? new_size - old : 0);
		pthread_rwlock_unlock(&n->io_lock);
		pthread_rwlock_rdlock(&n->io_lock);
		if (rc)
			return rc;
	}
	return -ENOSPC;
}

static int apply_to_copies(struct tfs *fs, struct tfs_node *n, const char *path,
			   int (*fn)(struct tfs *fs, int t, const char *path, void *arg), void *arg)
{
	if (!S_ISDIR(n->type)) {
		struct stat st;
		int t;
		int rc = stat_node(fs, n, path, &st, &t);
		return rc ? rc : fn(fs, t, path, arg);
	}
	unsigned mask = tfs_where(fs, path);
	if (!mask)
		return -ENOENT;
	int first_rc = 0;
	for (int t = 0; t < fs->ntiers; t++)
		if (mask & (1u << t)) {
			int rc = fn(fs, t, path, arg);
			if (rc && !first_rc)
				first_rc = rc;
		}
	return first_rc;
}

static int chmod_fn(struct tfs *fs, int t, const char *path, void *arg)
{
	return tfs_fchmodat(fs->tiers[t].rootfd, path, *(mode_t *)arg, 0) < 0 ? -errno : 0;
}

struct owner {
	uid_t uid;
	gid_t gid;
};

static int chown_fn(struct tfs *fs, int t, const char *path, void *arg)
{
	struct owner *o = arg;
	return tfs_fchownat(fs->tiers[t].rootfd, path, o->uid, o->gid, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int utimens_fn(struct tfs *fs, int t, const char *path, void *arg)
{
	return tfs_utimensat(fs->tiers[t].rootfd, path, arg, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* The largest file tierfs can hold: a file lives in one tier. */
static uint64_t max_file_size(const struct tfs *fs)
{
	uint64_t max = 0;
	for (int t = 0; t < fs->ntiers; t++)
		if (fs->tiers[t].capacity > max)
			max = fs->tiers[t].capacity;
	return max;
}

static int do_truncate(struct tfs *fs, struct tfs_node *n, struct tfs_handle *h, const char *path, off_t size)
{
	/* Beyond the largest tier no tier will ever hold it: that is this
	 * filesystem's maximum file size, EFBIG as truncate(2) says, not the
	 * ENOSPC of a full tier (which frees up). */
	if (S_ISREG(n->type) && (uint64_t)size > max_file_size(fs))
		return -EFBIG;
	pthread_rwlock_rdlock(&n->io_lock);
	pthread_mutex_lock(&n->lock);
	uint64_t before = n->size;
	pthread_mutex_unlock(&n->lock);
	int rc = S_ISREG(n->type) ? resize_charge(fs, n, (uint64_t)size, 0) : 0;
	int charged = S_ISREG(n->type) && !rc;
	atomic_fetch_add(&n->write_gen, 1);
	if (!rc) {
		if (h) {
			rc = ftruncate(h->fd, size) < 0 ? -errno : 0;
		} else {
			/* truncate(2), not ftruncate: to the same size it leaves
			 * mtime and ctime alone (the kernel asks for them itself
			 * when the caller's call sets them) */
			struct tfs_proc p;
			rc = proc_path(fs, node_tier(n), path, &p);
			if (!rc) {
				rc = truncate(p.path, size) < 0 ? -errno : 0;
				tfs_proc_done(&p);
			}
		}
		/* the backend refused (EFBIG of a smaller filesystem, EPERM):
		 * the size did not change, nor may the charge */
		if (rc && charged && resize_charge(fs, n, before, 0) < 0)
			tfs_log(TCFG_LOG_WARN, "a refused truncate left %s charged at its new size", path);
	}
	pthread_rwlock_unlock(&n->io_lock);
	return rc;
}

/* Without default_permissions (a mount that only the daemon's user can
 * reach, see main.c) the kernel checks no permissions: the tier
 * filesystem's checks decide, made with the daemon's credentials, which
 * are the caller's.  Two things differ from a native directory.  Names in
 * the kernel's cache are reached without a lookup, so an owner who takes
 * their own search right from a directory would still reach the cached
 * names below it: after a change of a directory's mode, owner or ACL its
 * children leave the kernel's cache (called after the reply, as the
 * kernel holds the directory's lock until then); cached negative entries
 * stay for negative_timeout.  And a file may be executed when any of its
 * x bits is set (the kernel's rule without default_permissions). */
/* Before the reply: the directory to pass to dir_rights_changed(), with a
 * reference (once replied, the kernel may forget the node at any time), or
 * NULL when there is nothing to do. */
static struct tfs_node *dir_rights_hold(struct tfs *fs, struct tfs_node *n)
{
	if (fs->kernel_perms || !fs->se || !S_ISDIR(n->type))
		return NULL;
	tfs_node_ref(fs, n);
	return n;
}

struct dir_rights_job {
	struct tfs *fs;
	struct tfs_node *dir;
};

static void dir_rights_notify(struct tfs *fs, struct tfs_node *dir)
{
	size_t count;
	char **names = tfs_node_child_names(fs, dir, &count);
	for (size_t i = 0; i < count; i++) {
		(void)fuse_lowlevel_notify_inval_entry(fs->se, id_of(fs, dir), names[i], strlen(names[i]));
		free(names[i]);
	}
	free(names);
	tfs_node_unref(fs, dir);
}

static void dir_rights_job_run(void *arg)
{
	struct dir_rights_job *j = arg;
	dir_rights_notify(j->fs, j->dir);
	free(j);
}

/* After the reply; drops the reference dir_rights_hold() took.  On an
 * io_uring thread the notifications go to another thread: they wait for
 * the directory's lock, whose holder may wait for a request on this
 * thread's ring. */
static void dir_rights_changed(struct tfs *fs, struct tfs_node *dir)
{
	if (!dir)
		return;
	struct dir_rights_job *j = malloc(sizeof(*j));
	if (j) {
		*j = (struct dir_rights_job){fs, dir};
		if (tfs_kur_defer(dir_rights_job_run, j))
			return;
		free(j);
	}
	dir_rights_notify(fs, dir);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	struct tfs *fs = fs_of(req);
	struct tfs_node *n = node_of(fs, ino);
	mon_meta_op(fs->mon);
	struct tfs_handle *h = fi && fi->fh && !S_ISDIR(n->type) ? (struct tfs_handle *)(uintptr_t)fi->fh : NULL;
	struct tfs_handle nameless = {.node = n, .fd = -1};
	char path[TFS_PATH_MAX];
	struct stat st;
	int t, rc = tfs_node_path(fs, n, path, sizeof(path));
	if (rc && !h) {
		if (rc != -ESTALE || (nameless.fd = node_dup_fd(n)) < 0)
			goto out;
		h = &nameless;
	}
	rc = 0;

	if (to_set & FUSE_SET_ATTR_MODE) {
		mode_t m = attr->st_mode & 07777;
		rc = h ? (fchmod(h->fd, m) < 0 ? -errno : 0) : apply_to_copies(fs, n, path, chmod_fn, &m);
		if (rc)
			goto out;
	}
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		struct owner o = {(to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1,
				  (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1};
		rc = h ? (fchown(h->fd, o.uid, o.gid) < 0 ? -errno : 0) : apply_to_copies(fs, n, path, chown_fn, &o);
		if (rc)
			goto out;
	}
	if (!(to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID | FUSE_SET_ATTR_SIZE |
			FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
		/* chown(path, -1, -1), the one call that sends an empty
		 * setattr (FUSE_SET_ATTR_CTIME with writeback cache only):
		 * nothing changes but ctime, and a file's suid/sgid go as with
		 * any chown; the backend does both. */
		struct owner o = {(uid_t)-1, (gid_t)-1};
		rc = h ? (fchown(h->fd, o.uid, o.gid) < 0 ? -errno : 0) : apply_to_copies(fs, n, path, chown_fn, &o);
		if (rc)
			goto out;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		rc = do_truncate(fs, n, h, path, attr->st_size);
		if (rc)
			goto out;
	}
	if (tfs_kio_kill_suidgid() && !(to_set & FUSE_SET_ATTR_MODE) && S_ISREG(n->type)) {
		int fd = h ? h->fd : tfs_openat(fs->tiers[node_tier(n)].rootfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
		kill_suidgid(req, fd);
		if (!h && fd >= 0)
			close(fd);
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
		struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
		if (to_set & FUSE_SET_ATTR_ATIME_NOW)
			ts[0].tv_nsec = UTIME_NOW;
		else if (to_set & FUSE_SET_ATTR_ATIME)
			ts[0] = attr->st_atim;
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			ts[1].tv_nsec = UTIME_NOW;
		else if (to_set & FUSE_SET_ATTR_MTIME)
			ts[1] = attr->st_mtim;
		rc = h ? (futimens(h->fd, ts) < 0 ? -errno : 0) : apply_to_copies(fs, n, path, utimens_fn, ts);
		if (rc)
			goto out;
	}
	if (h) {
		rc = fstat(h->fd, &st) < 0 ? -errno : 0;
		st.st_ino = n->ino;
	} else {
		rc = stat_node(fs, n, path, &st, &t);
	}
out:
	if (nameless.fd >= 0)
		close(nameless.fd);
	struct tfs_node *held = !rc && (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))
					? dir_rights_hold(fs, n) : NULL;
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, fs->cfg->attr_timeout);
	dir_rights_changed(fs, held);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct tfs *fs = fs_of(req);
	struct tfs_node *n = node_of(fs, ino);
	char path[TFS_PATH_MAX], buf[PATH_MAX + 1];
	struct stat st;
	int t, rc = tfs_node_path(fs, n, path, sizeof(path));
	if (!rc)
		rc = stat_node(fs, n, path, &st, &t);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	ssize_t len = tfs_readlinkat(fs->tiers[t].rootfd, path, buf, sizeof(buf) - 1);
	if (len < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	buf[len] = '\0';
	fuse_reply_readlink(req, buf);
}

static uint64_t size_on_mount(void *arg, const char *relpath)
{
	struct stat st;
	return tfs_find(arg, relpath, &st) >= 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
}

/* Ask the placement core for a tier for a new object; files' decisions go
 * to the record log. */
static int choose_tier(struct tfs *fs, const char *path, enum lrn_kind kind, struct tpl_decision *d)
{
	struct lrn_tier_state ts[TCFG_MAX_TIERS];
	for (int t = 0; t < fs->ntiers; t++) {
		ts[t].name = fs->tiers[t].name;
		ts[t].capacity = fs->tiers[t].capacity;
		ts[t].used = atomic_load(&fs->tiers[t].used);
	}
	tpl_decide(fs->place, path, kind, 0, ts, (size_t)fs->ntiers, size_on_mount, fs, d);
	int t = d->tier;
	if (t < 0 && kind != LRN_KIND_FILE)
		t = 0; /* directories and special files take no capacity */
	if (d->level_started >= 0)
		tfs_migrator_level_started(fs, d->workflow_dir, d->level_started);
	if (kind == LRN_KIND_FILE) {
		mon_create_file(fs->mon);
		tpl_log_decision(fs->place, tfs_now_ns(), path, d, t >= 0 ? fs->tiers[t].name : "");
	}
	return t;
}

static void log_end(struct tfs *fs, struct tfs_node *n, const char *path)
{
	if (!n->created_ns)
		return;
	uint64_t now = tfs_now_ns();
	tpl_log_end(fs->place, now, path, fs->tiers[tfs_tier_hint(n)].name, atomic_load(&n->bytes_written),
		    atomic_load(&n->bytes_read), (double)(now - n->created_ns) / 1e9);
}

/* Choose the tier of a new object and make its parent directory exist
 * there; returns the tier or a negative errno. */
static int tier_for_new(struct tfs *fs, const char *path, enum lrn_kind kind, struct tpl_decision *d)
{
	int t = choose_tier(fs, path, kind, d);
	if (t < 0)
		return t;
	int rc = tfs_clone_parents(fs, t, path);
	return rc ? rc : t;
}

/* Give a new object the caller's ownership when the daemon runs as root;
 * the group follows a setgid parent as the kernel would.  chown clears
 * setuid/setgid, so the requested mode is put back afterwards. */
static void set_owner(struct tfs *fs, fuse_req_t req, int t, const char *path, mode_t mode)
{
	if (!fs->is_root)
		return;
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	if (ctx->uid == fs->euid && ctx->gid == fs->egid)
		return; /* created as the caller already, setgid parents included */
	gid_t gid = ctx->gid;
	char parent[TFS_PATH_MAX];
	const char *slash = strrchr(path, '/');
	snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	struct stat pst;
	if (tfs_fstatat(fs->tiers[t].rootfd, parent, &pst, 0) == 0 && (pst.st_mode & S_ISGID))
		gid = pst.st_gid;
	struct stat st;
	if (tfs_fstatat(fs->tiers[t].rootfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_uid == ctx->uid &&
	    st.st_gid == gid)
		return;
	if (tfs_fchownat(fs->tiers[t].rootfd, path, ctx->uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
		tfs_log(TCFG_LOG_WARN, "cannot give %s to uid %u: %s", path, (unsigned)ctx->uid, strerror(errno));
		return;
	}
	if (!S_ISLNK(st.st_mode) && (mode & (S_ISUID | S_ISGID)))
		(void)tfs_fchmodat(fs->tiers[t].rootfd, path, st.st_mode & 07777, 0);
}

static void parent_changed(struct tfs *fs, const char *path, int t)
{
	char parent[TFS_PATH_MAX];
	const char *slash = strrchr(path, '/');
	snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	tfs_dir_touched(fs, parent, t);
}

enum mk_kind { MK_DIR, MK_NOD, MK_SYMLINK };

static void make_node(fuse_req_t req, fuse_ino_t parent, const char *name, enum mk_kind kind, mode_t mode,
		      dev_t rdev, const char *target)
{
	struct tfs *fs = fs_of(req);
	struct tfs_node *p = node_of(fs, parent);
	struct fuse_entry_param e;
	char path[TFS_PATH_MAX];
	mon_meta_op(fs->mon);
	int rc = tfs_child_path(fs, p, name, path, sizeof(path));
	if (rc)
		goto out;
	if (tfs_where(fs, path)) {
		rc = -EEXIST;
		goto out;
	}
	enum lrn_kind lk = kind == MK_DIR ? LRN_KIND_DIR : S_ISREG(mode) && kind == MK_NOD ? LRN_KIND_FILE : LRN_KIND_SPECIAL;
	struct tpl_decision d;
	int t = tier_for_new(fs, path, lk, &d);
	if (t < 0) {
		rc = t;
		goto out;
	}
	int root = fs->tiers[t].rootfd;
	if (kind == MK_DIR)
		rc = tfs_mkdirat(root, path, mode) < 0 ? -errno : 0;
	else if (kind == MK_NOD)
		rc = tfs_mknodat(root, path, mode, rdev) < 0 ? -errno : 0;
	else
		rc = tfs_symlinkat(target, root, path) < 0 ? -errno : 0;
	if (rc)
		goto out;
	set_owner(fs, req, t, path, kind == MK_SYMLINK ? 0 : mode);
	parent_changed(fs, path, t);
	rc = do_lookup(fs, p, name, &e);
	if (!rc && lk == LRN_KIND_FILE)
		tfs_ctl_note_decision(fs, e.attr.st_ino, &d);
out:
	reply_entry_or_err(req, rc, &e);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	make_node(req, parent, name, MK_DIR, mode, 0, NULL);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	make_node(req, parent, name, MK_NOD, mode, rdev, NULL);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	make_node(req, parent, name, MK_SYMLINK, 0, 0, link);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct tfs *fs = fs_of(req);
	struct tfs_node *n = node_of(fs, ino), *np = node_of(fs, newparent);
	struct fuse_entry_param e;
	char oldpath[TFS_PATH_MAX], newpath[TFS_PATH_MAX];
	struct stat st;
	int t, rc = tfs_node_path(fs, n, oldpath, sizeof(oldpath));
	if (!rc)
		rc = tfs_child_path(fs, np, newname, newpath, sizeof(newpath));
	if (rc)
		goto out;
	pthread_rwlock_rdlock(&fs->mig_lock);
	rc = stat_node(fs, n, oldpath, &st, &t);
	if (!rc && tfs_where(fs, newpath))
		rc = -EEXIST;
	if (!rc)
		rc = tfs_clone_parents(fs, t, newpath);
	if (!rc)
		rc = tfs_linkat(fs->tiers[t].rootfd, oldpath, fs->tiers[t].rootfd, newpath, 0) < 0 ? -errno : 0;
	pthread_rwlock_unlock(&fs->mig_lock);
	if (!rc) {
		parent_changed(fs, newpath, t);
		rc = do_lookup(fs, np, newname, &e);
	}
out:
	reply_entry_or_err(req, rc, &e);
}

/* A regular file lost a name: when it was the last, give its bytes back to
 * the tier now, or at the last close if it is still open. */
static void file_unlinked(struct tfs *fs, int t, uint64_t ino, const struct stat *st, const char *path)
{
	if (!S_ISREG(st->st_mode) || st->st_nlink > 1)
		return;
	struct tfs_node *n = tfs_node_find(fs, ino);
	if (!n) {
		tfs_uncharge(fs, t, (uint64_t)st->st_size);
		return;
	}
	log_end(fs, n, path);
	struct trec_file *rec = NULL;
	uint64_t size = 0;
	pthread_mutex_lock(&n->lock);
	if (n->handles) {
		n->unlinked = 1;
	} else {
		rec = take_rec(n);
		size = n->size;
		tfs_uncharge(fs, n->tier, n->size);
		n->size = 0;
	}
	pthread_mutex_unlock(&n->lock);
	trec_file_finish(rec, size);
	tfs_node_unref(fs, n);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct tfs *fs = fs_of(req);
	mon_meta_op(fs->mon);
	struct tfs_node *p = node_of(fs, parent);
	char path[TFS_PATH_MAX];
	struct stat st;
	int rc = tfs_child_path(fs, p, name, path, sizeof(path));
	pthread_rwlock_rdlock(&fs->mig_lock); /* the name stays in one tier meanwhile */
	int t = rc ? rc : tfs_find(fs, path, &st);
	if (t < 0) {
		pthread_rwlock_unlock(&fs->mig_lock);
		fuse_reply_err(req, -t);
		return;
	}
	/* the ino only matters when the last name of a regular file goes */
	uint64_t ino = S_ISREG(st.st_mode) && st.st_nlink <= 1 ? tfs_ino_of(fs, t, path, &st) : 0;
	if (tfs_unlinkat(fs->tiers[t].rootfd, path, 0) < 0) {
		rc = errno;
		pthread_rwlock_unlock(&fs->mig_lock);
		fuse_reply_err(req, rc);
		return;
	}
	pthread_rwlock_unlock(&fs->mig_lock);
	file_unlinked(fs, t, ino, &st, path);
	tfs_node_detach(fs, p, name);
	parent_changed(fs, path, t);
	fuse_reply_err(req, 0);
}

static int remove_dir_copies(struct tfs *fs, const char *path, unsigned mask)
{
	int rc = 0;
	for (int t = 0; t < fs->ntiers; t++)
		if ((mask & (1u << t)) && tfs_unlinkat(fs->tiers[t].rootfd, path, AT_REMOVEDIR) < 0 && !rc)
			rc = -errno;
	return rc;
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct tfs *fs = fs_of(req);
	mon_meta_op(fs->mon);
	struct tfs_node *p = node_of(fs, parent);
	char path[TFS_PATH_MAX];
	struct stat st;
	int rc = tfs_child_path(fs, p, name, path, sizeof(path));
	int t = rc ? rc : tfs_find(fs, path, &st);
	if (t < 0) {
		fuse_reply_err(req, -t);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	unsigned mask = tfs_where(fs, path);
	if (mask & (mask - 1)) { /* several copies: the union must be empty */
		rc = tfs_dir_is_empty(fs, path);
		if (rc <= 0) {
			fuse_reply_err(req, rc == 0 ? ENOTEMPTY : -rc);
			return;
		}
	}
	rc = remove_dir_copies(fs, path, mask);
	if (!rc) {
		tfs_node_detach(fs, p, name);
		parent_changed(fs, path, t);
	}
	fuse_reply_err(req, -rc);
}

/* rename(2) across tiers: each tier holding the source renames its copy;
 * a target that lives only in other tiers is removed there afterwards. */
static int do_rename(struct tfs *fs, const char *src, const char *dst, unsigned flags, int *tier)
{
	struct stat sst, dst_st;
	int st_tier = tfs_find(fs, src, &sst);
	if (st_tier < 0)
		return st_tier;
	*tier = st_tier;
	unsigned smask = tfs_where(fs, src);
	int dt_tier = tfs_find(fs, dst, &dst_st);
	unsigned dmask = dt_tier >= 0 ? tfs_where(fs, dst) : 0;
	if (dt_tier < 0 && dt_tier != -ENOENT)
		return dt_tier;
	uint64_t dst_ino = dmask && S_ISREG(dst_st.st_mode) && dst_st.st_nlink <= 1
				   ? tfs_ino_of(fs, dt_tier, dst, &dst_st) : 0;

	if (flags & RENAME_EXCHANGE) {
		if (!dmask)
			return -ENOENT;
		for (int t = 0; t < fs->ntiers; t++) {
			unsigned b = 1u << t;
			int root = fs->tiers[t].rootfd, rc = 0;
			if ((smask & b) && (dmask & b))
				rc = tfs_renameat2(root, src, root, dst, RENAME_EXCHANGE) < 0 ? -errno : 0;
			else if (smask & b)
				rc = tfs_clone_parents(fs, t, dst) ?: (tfs_renameat2(root, src, root, dst, RENAME_NOREPLACE) < 0 ? -errno : 0);
			else if (dmask & b)
				rc = tfs_clone_parents(fs, t, src) ?: (tfs_renameat2(root, dst, root, src, RENAME_NOREPLACE) < 0 ? -errno : 0);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (dmask) {
		if (flags & RENAME_NOREPLACE)
			return -EEXIST;
		if (st_tier == dt_tier && sst.st_ino == dst_st.st_ino && !S_ISDIR(sst.st_mode))
			return 0; /* two names of one file: POSIX says do nothing */
		if (S_ISDIR(sst.st_mode) && !S_ISDIR(dst_st.st_mode))
			return -ENOTDIR;
		if (!S_ISDIR(sst.st_mode) && S_ISDIR(dst_st.st_mode))
			return -EISDIR;
		if (S_ISDIR(dst_st.st_mode)) {
			int e = tfs_dir_is_empty(fs, dst);
			if (e <= 0)
				return e == 0 ? -ENOTEMPTY : e;
		}
	}
	unsigned done = 0;
	int rc = 0;
	for (int t = 0; t < fs->ntiers && !rc; t++) {
		if (!(smask & (1u << t)))
			continue;
		int root = fs->tiers[t].rootfd;
		rc = tfs_clone_parents(fs, t, dst);
		if (!rc)
			rc = tfs_renameat2(root, src, root, dst, flags & RENAME_NOREPLACE) < 0 ? -errno : 0;
		if (!rc)
			done |= 1u << t;
	}
	if (rc) {
		/* Put back the copies already moved, so the source stays whole. */
		for (int t = 0; t < fs->ntiers; t++)
			if (done & (1u << t))
				(void)tfs_renameat2(fs->tiers[t].rootfd, dst, fs->tiers[t].rootfd, src, RENAME_NOREPLACE);
		return rc;
	}
	unsigned stale = dmask & ~smask;
	for (int t = 0; t < fs->ntiers; t++)
		if (stale & (1u << t))
			(void)tfs_unlinkat(fs->tiers[t].rootfd, dst, S_ISDIR(dst_st.st_mode) ? AT_REMOVEDIR : 0);
	if (dmask && !S_ISDIR(dst_st.st_mode))
		file_unlinked(fs, dt_tier, dst_ino, &dst_st, dst);
	return 0;
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct tfs *fs = fs_of(req);
	struct tfs_node *p = node_of(fs, parent), *np = node_of(fs, newparent);
	char src[TFS_PATH_MAX], dst[TFS_PATH_MAX];
	int tier = -1; /* where the source's first copy was renamed */
	mon_meta_op(fs->mon);
	int rc = tfs_child_path(fs, p, name, src, sizeof(src));
	if (!rc)
		rc = tfs_child_path(fs, np, newname, dst, sizeof(dst));
	if (!rc && (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)))
		rc = -EINVAL;
	if (!rc && (flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		rc = -EINVAL;
	if (!rc) {
		pthread_rwlock_rdlock(&fs->mig_lock);
		rc = do_rename(fs, src, dst, flags, &tier);
		pthread_rwlock_unlock(&fs->mig_lock);
	}
	if (!rc) {
		if (flags & RENAME_EXCHANGE)
			tfs_node_exchanged(fs, p, name, np, newname);
		else
			tfs_node_renamed(fs, p, name, np, newname);
		parent_changed(fs, src, tier);
		parent_changed(fs, dst, tier);
	}
	fuse_reply_err(req, -rc);
}

static int backend_flags(struct tfs *fs, int flags)
{
	flags &= ~(O_CREAT | O_EXCL | O_NOCTTY);
	if (fs->writeback) {
		/* The kernel may read to fill pages of a write-only file and
		 * computes append offsets itself. */
		if ((flags & O_ACCMODE) == O_WRONLY)
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		flags &= ~O_APPEND;
	}
	return flags | O_NOFOLLOW | O_CLOEXEC;
}

static int attach_handle(struct tfs *fs, struct tfs_node *n, int fd, int flags, struct fuse_file_info *fi)
{
	struct tfs_handle *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->node = n;
	h->fd = fd;
	h->flags = flags;
	tfs_node_ref(fs, n);
	pthread_mutex_lock(&n->lock);
	h->next = n->handles;
	n->handles = h;
	n->cached_handles++;
	mon_open(fs->mon, n->tier);
	/* An open for writing skips the page cache, one copy fewer per
	 * write (the kernel drops the written range from the cache of open
	 * readers, and keeps a shared mapping of it coherent where it
	 * granted FUSE_DIRECT_IO_ALLOW_MMAP, see kernel_io.c); reads through
	 * a read-write open then go past the cache too, as on mergerfs.
	 * Read-only opens keep the kernel's cached pages unless the data
	 * changed since they were cached. */
	uint64_t gen = atomic_load(&n->write_gen);
	if ((fi->flags & O_ACCMODE) != O_RDONLY && !fs->writeback) {
		fi->direct_io = 1;
	} else {
		fi->keep_cache = n->cached_gen == gen;
		n->cached_gen = gen;
	}
	/* FLUSH is for close-time errors of a network tier (op_flush): a
	 * file on a local tier goes without (FOPEN_NOFLUSH), one round trip
	 * fewer per close where another tier is remote. */
	fi->noflush = !fs->tiers[n->tier].remote;
	pthread_mutex_unlock(&n->lock);
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

/* Open an existing file of node n (path known) with the caller's flags. */
static int open_node(fuse_req_t req, struct tfs *fs, struct tfs_node *n, const char *path, struct fuse_file_info *fi)
{
	struct stat st;
	int t, rc = stat_node(fs, n, path, &st, &t);
	if (rc)
		return rc;
	int flags = backend_flags(fs, fi->flags);
	pthread_rwlock_rdlock(&n->io_lock);
	if ((flags & O_TRUNC) && S_ISREG(st.st_mode)) {
		(void)resize_charge(fs, n, 0, 0);
		atomic_fetch_add(&n->write_gen, 1);
	}
	pthread_rwlock_rdlock(&fs->mig_lock); /* not while the file switches tiers */
	t = node_tier(n);
	int fd = tfs_openat(fs->tiers[t].rootfd, path, flags, 0);
	pthread_rwlock_unlock(&fs->mig_lock);
	pthread_rwlock_unlock(&n->io_lock);
	if (fd < 0)
		return -errno;
	if ((flags & O_TRUNC) && tfs_kio_kill_suidgid())
		kill_suidgid(req, fd);
	rc = attach_handle(fs, n, fd, flags, fi);
	if (rc) {
		close(fd);
	} else {
		tfs_access_note(fs, n->ino, (fi->flags & O_ACCMODE) != O_WRONLY);
		trec_file_open(n->rec);
	}
	return rc;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct tfs *fs = fs_of(req);
	struct tfs_node *n = node_of(fs, ino);
	char path[TFS_PATH_MAX];
	int rc = tfs_node_path(fs, n, path, sizeof(path));
	if (!rc)
		rc = open_node(req, fs, n, path, fi);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	struct tfs_handle *h = (struct tfs_handle *)(uintptr_t)fi->fh;
	if (tfs_kio_passthrough_active() && S_ISREG(n->type)) {
		/* The kernel wants every open of an inode with a passthrough
		 * open to pass through too, and no passthrough open beside
		 * cached ones: read-only opens pass through when they can, a
		 * writer only when it must (its bytes are settled at release). */
		pthread_mutex_lock(&n->lock);
		int pass = n->pt_handles > 0 ||
			   ((fi->flags & O_ACCMODE) == O_RDONLY && n->cached_handles == 1 &&
			    !fs->tiers[n->tier].emulated);
		int id = 0;
		if (pass) {
			/* One backing file per inode: the kernel opens its own
			 * per-open file from it with the caller's flags. */
			if (n->backing_id <= 0)
				n->backing_id = tfs_kio_backing_open(h->fd);
			id = n->backing_id;
		}
		if (id > 0) {
			h->passthrough = 1;
			n->pt_handles++;
			n->pt_writers += (fi->flags & O_ACCMODE) != O_RDONLY;
			n->cached_handles--;
		} else {
			n->backing_id = 0;
		}
		pthread_mutex_unlock(&n->lock);
		if (id > 0) {
			if (tfs_kio_reply_open_passthrough(req, fi, id) == -ENOENT)
				op_release_handle(fs, fi);
			return;
		}
		if (pass)
			tfs_log(TCFG_LOG_DEBUG, "passthrough refused for %s: %s", path, strerror(-id));
	}
	if (fuse_reply_open(req, fi) == -ENOENT)
		op_release_handle(fs, fi); /* the caller was interrupted */
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	struct tfs *fs = fs_of(req);
	struct tfs_node *p = node_of(fs, parent);
	struct fuse_entry_param e;
	char path[TFS_PATH_MAX];
	struct stat st;
	int rc = tfs_child_path(fs, p, name, path, sizeof(path));
	if (rc)
		goto out;
	pthread_rwlock_rdlock(&fs->mig_lock);
	int exists = tfs_find(fs, path, &st) >= 0;
	pthread_rwlock_unlock(&fs->mig_lock);
	if (exists) {
		/* Exists in some tier (maybe not the kernel's cached view). */
		if (fi->flags & O_EXCL) {
			rc = -EEXIST;
			goto out;
		}
		rc = do_lookup(fs, p, name, &e);
		if (!rc) {
			rc = open_node(req, fs, node_of(fs, e.ino), path, fi);
			if (rc)
				tfs_node_forget(fs, node_of(fs, e.ino), 1);
		}
		goto out;
	}
	struct tpl_decision d;
	int t = tier_for_new(fs, path, LRN_KIND_FILE, &d);
	if (t < 0) {
		rc = t;
		goto out;
	}
	int flags = backend_flags(fs, fi->flags);
	pthread_rwlock_rdlock(&fs->mig_lock);
	int fd = tfs_openat(fs->tiers[t].rootfd, path, flags | O_CREAT | O_EXCL, mode);
	pthread_rwlock_unlock(&fs->mig_lock);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	set_owner(fs, req, t, path, mode);
	parent_changed(fs, path, t);
	/* The entry from the new descriptor: a new file has no ino xattr. */
	if (fstat(fd, &st) < 0) {
		rc = -errno;
	} else {
		struct tfs_node *n = tfs_node_get(fs, tfs_ino_new(fs, t, fd, &st), st.st_mode, p, name, t, 0);
		if (!n)
			rc = -ENOMEM;
		else
			fill_entry(fs, &e, n, &st);
	}
	if (!rc) {
		struct tfs_node *cn = node_of(fs, e.ino);
		cn->created_ns = tfs_now_ns();
		struct trec_file *rec = trec_file_new(recorder, path, &d);
		trec_file_open(rec);
		pthread_mutex_lock(&cn->lock); /* a release may be packing the old stats */
		struct trec_file *old = __atomic_exchange_n(&cn->rec, rec, __ATOMIC_ACQ_REL);
		pthread_mutex_unlock(&cn->lock);
		trec_file_drop(old);
		tfs_ctl_note_decision(fs, e.attr.st_ino, &d);
		rc = attach_handle(fs, cn, fd, flags & ~O_TRUNC, fi);
		if (rc)
			tfs_node_forget(fs, cn, 1);
	}
	if (rc)
		close(fd);
out:
	if (rc)
		fuse_reply_err(req, -rc);
	else if (fuse_reply_create(req, &e, fi) == -ENOENT)
		op_release_handle(fs, fi);
}

/* Per-thread read buffer, faulted in once and reused: a fresh 1 MiB buffer
 * per reply costs more in page faults than the copy itself. */
static pthread_key_t rbuf_key;
static pthread_once_t rbuf_once = PTHREAD_ONCE_INIT;

static void rbuf_key_init(void)
{
	(void)pthread_key_create(&rbuf_key, free);
}

static char *read_buffer(void)
{
	pthread_once(&rbuf_once, rbuf_key_init);
	char *b = pthread_getspecific(rbuf_key);
	if (!b) {
		b = malloc(READ_BUF_MAX);
		if (b)
			(void)pthread_setspecific(rbuf_key, b);
	}
	return b;
}

/* Count n bytes read at off through h. */
static void read_done(struct tfs *fs, struct tfs_handle *h, off_t off, size_t n)
{
	atomic_fetch_add_explicit(&h->node->bytes_read, (uint64_t)n, memory_order_relaxed);
	trec_io(h->node->rec, 0, (uint64_t)off, (uint64_t)n);
	mon_read(fs->mon, tfs_tier_hint(h->node), (uint64_t)n);
	tfs_emulate(fs, &fs->tiers[tfs_tier_hint(h->node)].rd, (uint64_t)n);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct tfs_handle *h = (struct tfs_handle *)(uintptr_t)fi->fh;
	if (tfs_kio_splice_stage(h->fd, size, off) > 0) {
		read_done(fs_of(req), h, off, size);
		tfs_kio_splice_send(req); /* the handle may be gone after this */
		return;
	}
	char *buf = tfs_kio_reply_buffer(size);
	if (!buf)
		buf = read_buffer();
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (size > READ_BUF_MAX)
		size = READ_BUF_MAX;
	ssize_t n = pread(h->fd, buf, size, off);
	if (n < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	read_done(fs_of(req), h, off, (size_t)n);
	fuse_reply_buf(req, buf, (size_t)n);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct tfs *fs = fs_of(req);
	struct tfs_handle *h = (struct tfs_handle *)(uintptr_t)fi->fh;
	struct tfs_node *n = h->node;
	int rc = 0;
	ssize_t res = -1;
	for (int attempt = 0; attempt <= TCFG_MAX_TIERS; attempt++) {
		pthread_rwlock_rdlock(&n->io_lock);
		pthread_mutex_lock(&n->lock);
		uint64_t end = (h->flags & O_APPEND) ? n->size + size : (uint64_t)off + size;
		pthread_mutex_unlock(&n->lock);
		rc = resize_charge(fs, n, end, 1);
		int charged = !rc;
		int t = tfs_tier_hint(n); /* where h->fd is: moves take io_lock exclusively */
		if (!rc && attempt == 0 && tfs_kio_kill_suidgid())
			kill_suidgid(req, h->fd);
		if (!rc) {
			atomic_fetch_add(&n->write_gen, 1);
			res = pwrite(h->fd, buf, size, off);
			if (res < 0)
				rc = -errno;
			else
				tfs_emulate(fs, &fs->tiers[t].wr, (uint64_t)res);
			if (res > 0) {
				atomic_fetch_add_explicit(&n->bytes_written, (uint64_t)res, memory_order_relaxed);
				trec_io(n->rec, 1, (uint64_t)off, (uint64_t)res);
			}
			mon_write(fs->mon, t, (uint64_t)(res > 0 ? res : 0));
		}
		pthread_rwlock_unlock(&n->io_lock);
		/* resize_charge has spilled already when no tier had room */
		if (!charged || (rc != -ENOSPC && rc != -EDQUOT))
			break;
		/* The backend is full although our accounting let it in: move. */
		pthread_rwlock_wrlock(&n->io_lock);
		rc = tfs_spill(fs, n, t, size);
		pthread_rwlock_unlock(&n->io_lock);
		if (rc)
			break;
	}
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_write(req, (size_t)res);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct tfs *fs = fs_of(req);
	if (!fs->remote_tier) {
		/* Local tiers report nothing at close: ENOSYS tells the kernel
		 * to stop sending FLUSH, one round trip fewer per close. */
		fuse_reply_err(req, ENOSYS);
		return;
	}
	struct tfs_handle *h = (struct tfs_handle *)(uintptr_t)fi->fh;
	/* Report close-time errors of network filesystems (an NFS tier). */
	int fd = dup(h->fd);
	int rc = fd < 0 ? errno : (close(fd) < 0 ? errno : 0);
	fuse_reply_err(req, rc);
}

static void op_release_handle(struct tfs *fs, struct fuse_file_info *fi)
{
	struct tfs_handle *h = (struct tfs_handle *)(uintptr_t)fi->fh;
	struct tfs_node *n = h->node;
	if (h->passthrough && (h->flags & O_ACCMODE) != O_RDONLY) {
		/* Its writes went past us: charge what the file grew by now. */
		struct stat st;
		if (fstat(h->fd, &st) == 0) {
			pthread_rwlock_rdlock(&n->io_lock);
			if (resize_charge(fs, n, (uint64_t)st.st_size, 0) < 0)
				tfs_log(TCFG_LOG_WARN, "a file written through passthrough overfills every tier");
			pthread_rwlock_unlock(&n->io_lock);
		}
	}
	pthread_mutex_lock(&n->lock);
	struct tfs_handle **pp = &n->handles;
	while (*pp && *pp != h)
		pp = &(*pp)->next;
	if (*pp)
		*pp = h->next;
	int close_id = 0;
	mon_close(fs->mon, n->tier);
	if (h->passthrough) {
		n->pt_writers -= (h->flags & O_ACCMODE) != O_RDONLY;
		if (--n->pt_handles == 0) {
			close_id = n->backing_id;
			n->backing_id = 0;
		}
	} else {
		n->cached_handles--;
	}
	struct trec_file *rec = NULL;
	uint64_t rec_size = n->size;
	if (!n->handles && n->unlinked) {
		rec = take_rec(n); /* the last close after the unlink */
		tfs_uncharge(fs, n->tier, n->size);
		n->size = 0;
		n->unlinked = 0;
	} else if (!n->handles) {
		trec_file_idle(n->rec); /* no request can touch it until an open */
	}
	pthread_mutex_unlock(&n->lock);
	trec_file_finish(rec, rec_size);
	if (close_id > 0)
		tfs_kio_backing_close(close_id);
	close(h->fd);
	free(h);
	tfs_node_unref(fs, n);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	op_release_handle(fs_of(req), fi);
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct tfs_handle *h = (struct tfs_handle *)(uintptr_t)fi->fh;
	int rc = datasync ? fdatasync(h->fd) : fsync(h->fd);
	fuse_reply_err(req, rc < 0 ? errno : 0);
}

/* A directory stream: the merged entries of every tier's copy, read at
 * opendir and at rewind, first tier winning on duplicate names. */
struct dir_entry {
	char *name;
	uint64_t ino;
	unsigned char type;
};

struct dir_handle {
	struct tfs_node *node;
	struct dir_entry *ents;
	size_t n, cap;
	pthread_mutex_t lock;
};

static void dir_clear(struct dir_handle *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->ents[i].name);
	free(d->ents);
	d->ents = NULL;
	d->n = d->cap = 0;
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h;
}

/* The st_ino a lookup of this entry would give: "." and ".." are nodes we
 * know; a copy the daemon made (a moved file, a cloned directory) carries
 * its ino in an xattr; anything else is the encoded backing ino. */
static uint64_t entry_ino(struct tfs *fs, struct tfs_node *dir, int t, const char *path, const struct dirent *de)
{
	if (!strcmp(de->d_name, "."))
		return dir->ino;
	if (!strcmp(de->d_name, "..")) {
		pthread_rwlock_rdlock(&fs->tree_lock);
		uint64_t ino = dir == &fs->root || !dir->parent ? fs->root.ino : dir->parent->ino;
		pthread_rwlock_unlock(&fs->tree_lock);
		return ino;
	}
	struct stat st = {.st_ino = de->d_ino, .st_mode = DTTOIF(de->d_type)};
	if (de->d_type == DT_LNK)
		return tfs_ino_encode(t, &st); /* symlinks carry no xattr */
	char child[TFS_PATH_MAX];
	if (tfs_join_path(path, de->d_name, child, sizeof(child)) ||
	    (de->d_type == DT_UNKNOWN && tfs_fstatat(fs->tiers[t].rootfd, child, &st, AT_SYMLINK_NOFOLLOW) < 0))
		return tfs_ino_encode(t, &st);
	return tfs_ino_of(fs, t, child, &st);
}

static int dir_load(struct tfs *fs, struct dir_handle *d, const char *path)
{
	dir_clear(d);
	size_t hsize = 64;
	size_t *hset = calloc(hsize, sizeof(*hset)); /* index+1 into ents, 0 = empty */
	int found = 0, rc = 0;
	if (!hset)
		return -ENOMEM;
	for (int t = 0; t < fs->ntiers && !rc; t++) {
		int fd = tfs_openat(fs->tiers[t].rootfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
		if (fd < 0)
			continue;
		DIR *dp = fdopendir(fd);
		if (!dp) {
			close(fd);
			continue;
		}
		found = 1;
		struct dirent *de;
		while ((de = readdir(dp)) != NULL) {
			if (!strncmp(de->d_name, TFS_TMP_PREFIX, sizeof(TFS_TMP_PREFIX) - 1))
				continue; /* a move in progress */
			if (d->n * 2 >= hsize) {
				size_t nh = hsize * 2;
				size_t *ns = calloc(nh, sizeof(*ns));
				if (!ns) {
					rc = -ENOMEM;
					break;
				}
				for (size_t i = 0; i < d->n; i++) {
					size_t s = name_hash(d->ents[i].name) & (nh - 1);
					while (ns[s])
						s = (s + 1) & (nh - 1);
					ns[s] = i + 1;
				}
				free(hset);
				hset = ns;
				hsize = nh;
			}
			size_t s = name_hash(de->d_name) & (hsize - 1);
			int dup = 0;
			while (hset[s]) {
				if (!strcmp(d->ents[hset[s] - 1].name, de->d_name)) {
					dup = 1;
					break;
				}
				s = (s + 1) & (hsize - 1);
			}
			if (dup)
				continue;
			if (d->n == d->cap) {
				size_t nc = d->cap ? d->cap * 2 : 32;
				struct dir_entry *ne = realloc(d->ents, nc * sizeof(*ne));
				if (!ne) {
					rc = -ENOMEM;
					break;
				}
				d->ents = ne;
				d->cap = nc;
			}
			struct dir_entry *ent = &d->ents[d->n];
			ent->name = strdup(de->d_name);
			if (!ent->name) {
				rc = -ENOMEM;
				break;
			}
			ent->ino = entry_ino(fs, d->node, t, path, de);
			ent->type = de->d_type;
			hset[s] = ++d->n;
		}
		closedir(dp);
	}
	free(hset);
	if (!rc && !found)
		rc = -ENOENT;
	return rc;
}

/* Whether the directory can be read: 0, or the error of opening it in
 * the tiers (-ENOENT where no tier has it).  The union itself is read at
 * the first READDIR; a mount without default_permissions still refuses
 * an unreadable directory at opendir, as the kernel would (an error of a
 * READDIR does not reach the caller once the kernel caches listings). */
static int dir_readable(struct tfs *fs, const char *path)
{
	int rc = -ENOENT;
	for (int t = 0; t < fs->ntiers; t++) {
		int fd = tfs_openat(fs->tiers[t].rootfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (errno != ENOENT && rc == -ENOENT)
			rc = -errno;
	}
	return rc;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct tfs *fs = fs_of(req);
	struct tfs_node *n = node_of(fs, ino);
	char path[TFS_PATH_MAX];
	mon_meta_op(fs->mon);
	int rc = tfs_node_path(fs, n, path, sizeof(path));
	if (!rc && !fs->kernel_perms)
		rc = dir_readable(fs, path);
	struct dir_handle *d = rc ? NULL : calloc(1, sizeof(*d));
	if (!rc && !d)
		rc = -ENOMEM;
	if (rc) {
		free(d);
		fuse_reply_err(req, -rc);
		return;
	}
	d->node = n;
	pthread_mutex_init(&d->lock, NULL);
	tfs_node_ref(fs, n);
	fi->fh = (uint64_t)(uintptr_t)d;
	/* The kernel keeps what READDIR returned and answers the next
	 * listings itself until the directory changes through the mount (or
	 * its mtime does, once its attributes time out); the union is read
	 * at the first READDIR, so an open served from that cache costs no
	 * scan of the tiers. */
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	if (fuse_reply_open(req, fi) == -ENOENT) {
		tfs_node_unref(fs, n);
		dir_clear(d);
		free(d);
	}
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi,
		       int plus)
{
	struct tfs *fs = fs_of(req);
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	char *buf = calloc(1, size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&d->lock);
	int rc = 0;
	if (off == 0 || !d->ents) {
		/* The first READDIR of this open, or a rewinddir: read the
		 * union now (rewinddir sees new entries). */
		char path[TFS_PATH_MAX];
		rc = tfs_node_path(fs, d->node, path, sizeof(path));
		if (!rc)
			rc = dir_load(fs, d, path);
	}
	size_t pos = 0;
	for (size_t i = (size_t)off; !rc && i < d->n; i++) {
		struct dir_entry *ent = &d->ents[i];
		size_t room = size - pos, used;
		if (plus) {
			struct fuse_entry_param e;
			int is_dot = !strcmp(ent->name, ".") || !strcmp(ent->name, "..");
			if (fuse_add_direntry_plus(req, NULL, 0, ent->name, NULL, 0) > room)
				break;
			if (is_dot) {
				memset(&e, 0, sizeof(e));
				e.attr.st_ino = ent->ino;
				e.attr.st_mode = (mode_t)ent->type << 12;
			} else if (do_lookup(fs, d->node, ent->name, &e) < 0) {
				continue; /* gone since opendir */
			}
			used = fuse_add_direntry_plus(req, buf + pos, room, ent->name, &e, (off_t)(i + 1));
		} else {
			struct stat st = {.st_ino = ent->ino, .st_mode = (mode_t)ent->type << 12};
			used = fuse_add_direntry(req, buf + pos, room, ent->name, &st, (off_t)(i + 1));
			if (used > room)
				break;
		}
		pos += used;
	}
	pthread_mutex_unlock(&d->lock);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, buf, pos);
	free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 0);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 1);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct tfs *fs = fs_of(req);
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	tfs_node_unref(fs, d->node);
	dir_clear(d);
	pthread_mutex_destroy(&d->lock);
	free(d);
	fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct tfs *fs = fs_of(req);
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	char path[TFS_PATH_MAX];
	int rc = tfs_node_path(fs, d->node, path, sizeof(path));
	for (int t = 0; !rc && t < fs->ntiers; t++) {
		int fd = tfs_openat(fs->tiers[t].rootfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if ((datasync ? fdatasync(fd) : fsync(fd)) < 0)
			rc = -errno;
		close(fd);
	}
	fuse_reply_err(req, -rc);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct tfs *fs = fs_of(req);
	struct statvfs out;
	memset(&out, 0, sizeof(out));
	out.f_bsize = out.f_frsize = 4096;
	out.f_namemax = NAME_MAX;
	for (int t = 0; t < fs->ntiers; t++) {
		struct statvfs sv;
		if (fstatvfs(fs->tiers[t].rootfd, &sv) < 0) {
			fuse_reply_err(req, errno);
			return;
		}
		uint64_t cap = fs->tiers[t].capacity, used = atomic_load(&fs->tiers[t].used);
		uint64_t backing_free = (uint64_t)sv.f_bavail * sv.f_frsize;
		uint64_t free_b = used >= cap ? 0 : cap - used;
		if (free_b > backing_free)
			free_b = backing_free;
		out.f_blocks += cap / 4096;
		out.f_bfree += free_b / 4096;
		out.f_bavail += free_b / 4096;
		out.f_files += sv.f_files;
		out.f_ffree += sv.f_ffree;
		out.f_favail += sv.f_favail;
		if (sv.f_namemax < out.f_namemax)
			out.f_namemax = sv.f_namemax;
	}
	fuse_reply_statfs(req, &out);
}

static int reserved_xattr(const char *name)
{
	return !strncmp(name, TFS_XATTR_PREFIX, sizeof(TFS_XATTR_PREFIX) - 1);
}

static int xattr_target(struct tfs *fs, fuse_ino_t ino, struct tfs_proc *proc, int *tier)
{
	struct tfs_node *n = node_of(fs, ino);
	char path[TFS_PATH_MAX];
	struct stat st;
	int rc = tfs_node_path(fs, n, path, sizeof(path));
	if (!rc)
		rc = stat_node(fs, n, path, &st, tier);
	if (!rc)
		rc = proc_path(fs, *tier, path, proc);
	return rc;
}

/* Pin a file to a tier (NULL: unpin): the mark lives on the backing file,
 * moves with it, and keeps the migrator's hands off; pinning also moves it. */
int tfs_pin(struct tfs *fs, const char *relpath, const char *tier)
{
	struct stat st;
	int t = tfs_find(fs, relpath, &st);
	if (t < 0)
		return t;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	struct tfs_proc p;
	int rc = proc_path(fs, t, relpath, &p);
	if (rc)
		return rc;
	int dst = -1;
	for (int i = 0; tier && i < fs->ntiers; i++)
		if (!strcmp(fs->tiers[i].name, tier))
			dst = i;
	if (!tier)
		rc = lremovexattr(p.path, TFS_XATTR_PIN) < 0 && errno != ENODATA ? -errno : 0;
	else if (dst < 0)
		rc = -ENOENT;
	else if (lsetxattr(p.path, TFS_XATTR_PIN, tier, strlen(tier), 0) < 0)
		rc = -errno;
	tfs_proc_done(&p);
	if (rc || !tier)
		return rc;
	return dst == t ? 0 : tfs_migrate(fs, relpath, dst);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
			int flags)
{
	struct tfs *fs = fs_of(req);
	struct tfs_proc p;
	if (!strcmp(name, TFS_XATTR_PIN)) {
		char path[TFS_PATH_MAX], tier[NAME_MAX + 1];
		int rc = tfs_node_path(fs, node_of(fs, ino), path, sizeof(path));
		if (!rc && (size == 0 || size > NAME_MAX))
			rc = -EINVAL;
		if (!rc) {
			memcpy(tier, value, size);
			tier[size] = '\0';
			rc = tfs_pin(fs, path, tier);
			if (rc == -ENOENT)
				rc = -EINVAL; /* no tier of that name */
		}
		fuse_reply_err(req, -rc);
		return;
	}
	int t, rc = reserved_xattr(name) ? -EPERM : xattr_target(fs, ino, &p, &t);
	if (!rc) {
		rc = lsetxattr(p.path, name, value, size, flags) < 0 ? -errno : 0;
		tfs_proc_done(&p);
	}
	struct tfs_node *held = !rc && !strncmp(name, "system.posix_acl", 16) ? dir_rights_hold(fs, node_of(fs, ino)) : NULL;
	fuse_reply_err(req, -rc);
	dir_rights_changed(fs, held);
}

static void reply_xattr_value(fuse_req_t req, size_t size, const char *val, size_t len)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, val, len);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct tfs *fs = fs_of(req);
	struct tfs_node *n = node_of(fs, ino);
	struct tfs_proc p;
	int t, rc;
	if (!strcmp(name, TFS_XATTR_TIER)) {
		char val[TCFG_MAX_TIERS * (NAME_MAX + 1)];
		size_t len = 0;
		char path[TFS_PATH_MAX];
		rc = tfs_node_path(fs, n, path, sizeof(path));
		if (S_ISDIR(n->type)) {
			unsigned mask = rc ? 0 : tfs_where(fs, path);
			for (int i = 0; i < fs->ntiers; i++)
				if (mask & (1u << i))
					len += (size_t)snprintf(val + len, sizeof(val) - len, "%s%s", len ? "," : "",
								fs->tiers[i].name);
		} else {
			struct stat st;
			if (!rc)
				rc = stat_node(fs, n, path, &st, &t);
			if (!rc)
				len = (size_t)snprintf(val, sizeof(val), "%s", fs->tiers[t].name);
		}
		if (rc)
			fuse_reply_err(req, -rc);
		else
			reply_xattr_value(req, size, val, len);
		return;
	}
	if (ino == FUSE_ROOT_ID && !strcmp(name, TFS_XATTR_SOCKET) && tfs_ctl_socket(fs)) {
		const char *sock = tfs_ctl_socket(fs);
		reply_xattr_value(req, size, sock, strlen(sock));
		return;
	}
	if (reserved_xattr(name) && strcmp(name, TFS_XATTR_PIN) != 0) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	rc = xattr_target(fs, ino, &p, &t);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	char small[4096];
	char *buf = size > sizeof(small) ? malloc(size) : small;
	if (!buf) {
		tfs_proc_done(&p);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ssize_t len = lgetxattr(p.path, name, size ? buf : NULL, size);
	tfs_proc_done(&p);
	if (len < 0)
		fuse_reply_err(req, errno);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)len);
	else
		fuse_reply_buf(req, buf, (size_t)len);
	if (buf != small)
		free(buf);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct tfs *fs = fs_of(req);
	struct tfs_proc p;
	int t, rc = xattr_target(fs, ino, &p, &t);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	ssize_t len = llistxattr(p.path, NULL, 0);
	if (len < 0) {
		tfs_proc_done(&p);
		fuse_reply_err(req, errno);
		return;
	}
	char *raw = malloc((size_t)len + 1), *out = malloc((size_t)len + sizeof(TFS_XATTR_TIER) + 1);
	if (!raw || !out) {
		free(raw);
		free(out);
		tfs_proc_done(&p);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	len = llistxattr(p.path, raw, (size_t)len);
	tfs_proc_done(&p);
	size_t olen = 0;
	for (ssize_t i = 0; len > 0 && i < len; i += (ssize_t)strlen(raw + i) + 1)
		if (!reserved_xattr(raw + i)) {
			size_t l = strlen(raw + i) + 1;
			memcpy(out + olen, raw + i, l);
			olen += l;
		}
	memcpy(out + olen, TFS_XATTR_TIER, sizeof(TFS_XATTR_TIER));
	olen += sizeof(TFS_XATTR_TIER);
	reply_xattr_value(req, size, out, olen);
	free(raw);
	free(out);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct tfs *fs = fs_of(req);
	struct tfs_proc p;
	if (!strcmp(name, TFS_XATTR_PIN)) {
		char path[TFS_PATH_MAX];
		int rc = tfs_node_path(fs, node_of(fs, ino), path, sizeof(path));
		fuse_reply_err(req, rc ? -rc : -tfs_pin(fs, path, NULL));
		return;
	}
	int t, rc = reserved_xattr(name) ? -EPERM : xattr_target(fs, ino, &p, &t);
	if (!rc) {
		rc = lremovexattr(p.path, name) < 0 ? -errno : 0;
		tfs_proc_done(&p);
	}
	struct tfs_node *held = !rc && !strncmp(name, "system.posix_acl", 16) ? dir_rights_hold(fs, node_of(fs, ino)) : NULL;
	fuse_reply_err(req, -rc);
	dir_rights_changed(fs, held);
}

static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct tfs *fs = fs_of(req);
	struct tfs_node *n = node_of(fs, ino);
	char path[TFS_PATH_MAX];
	struct stat st;
	int t, rc = tfs_node_path(fs, n, path, sizeof(path));
	if (!rc)
		rc = stat_node(fs, n, path, &st, &t);
	if (!rc && tfs_faccessat(fs->tiers[t].rootfd, path, mask, AT_EACCESS) < 0)
		rc = -errno;
	fuse_reply_err(req, -rc);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
			 struct fuse_file_info *fi)
{
	struct tfs *fs = fs_of(req);
	struct tfs_handle *h = (struct tfs_handle *)(uintptr_t)fi->fh;
	struct tfs_node *n = h->node;
	pthread_rwlock_rdlock(&n->io_lock);
	int rc = 0;
	if (!(mode & (FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)))
		rc = resize_charge(fs, n, (uint64_t)offset + (uint64_t)length, 1);
	atomic_fetch_add(&n->write_gen, 1);
	if (!rc && fallocate(h->fd, mode, offset, length) < 0)
		rc = -errno;
	pthread_rwlock_unlock(&n->io_lock);
	fuse_reply_err(req, -rc);
}

static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi)
{
	struct tfs_handle *h = (struct tfs_handle *)(uintptr_t)fi->fh;
	off_t res = lseek(h->fd, off, whence);
	if (res < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_lseek(req, res);
}

static void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in, struct fuse_file_info *fi_in,
			       fuse_ino_t ino_out, off_t off_out, struct fuse_file_info *fi_out, size_t len,
			       int flags)
{
	struct tfs *fs = fs_of(req);
	struct tfs_handle *in = (struct tfs_handle *)(uintptr_t)fi_in->fh;
	struct tfs_handle *out = (struct tfs_handle *)(uintptr_t)fi_out->fh;
	struct tfs_node *n = out->node;
	pthread_rwlock_rdlock(&n->io_lock);
	int rc = resize_charge(fs, n, (uint64_t)off_out + len, 1);
	ssize_t res = -1;
	if (!rc) {
		atomic_fetch_add(&n->write_gen, 1);
		res = copy_file_range(in->fd, &off_in, out->fd, &off_out, len, (unsigned)flags);
		if (res < 0) {
			rc = -errno;
		} else {
			tfs_emulate(fs, &fs->tiers[tfs_tier_hint(in->node)].rd, (uint64_t)res);
			tfs_emulate(fs, &fs->tiers[tfs_tier_hint(n)].wr, (uint64_t)res);
		}
	}
	pthread_rwlock_unlock(&n->io_lock);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_write(req, (size_t)res);
}

void tfs_log_live_files(struct tfs *fs)
{
	char path[TFS_PATH_MAX];
	pthread_mutex_lock(&fs->table_lock);
	for (size_t i = 0; i < fs->table_size; i++)
		for (struct tfs_node *n = fs->table[i]; n; n = n->hnext)
			if (n->created_ns && S_ISREG(n->type)) {
				/* tree links are stable: the session is over */
				if (tfs_node_path_unlocked(fs, n, path, sizeof(path)) == 0)
					log_end(fs, n, path);
			}
	/* Per-file records of the files still alive; the recorder closes. */
	for (size_t i = 0; i < fs->table_size; i++)
		for (struct tfs_node *n = fs->table[i]; n; n = n->hnext)
			trec_file_finish(take_rec(n), n->size);
	pthread_mutex_unlock(&fs->table_lock);
	tpl_log_flush(fs->place);
	trec_destroy(recorder);
	recorder = NULL;
}

const struct fuse_lowlevel_ops tfs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.access = op_access,
	.create = op_create,
	.fallocate = op_fallocate,
	.lseek = op_lseek,
	.copy_file_range = op_copy_file_range,
};
