/*
 * posixcheck.c - a differential POSIX conformance checker: runs a fixed
 * list of operation sequences in a directory and prints one line per
 * assertion (the operation, who ran it, and what came back: return value,
 * errno name, stat fields, which timestamps changed).  The output holds no
 * absolute path, inode number or time value, so the lines of two runs (tmpfs
 * and tierfs) compare with diff.
 *
 *   posixcheck [-r] [-g GROUP] DIR
 *
 * -r runs root's operations only (the others print "not run"), for a
 * mount without allow_other; then an ordinary user may run it too, in
 * place of root (a user's own mount through fusermount3).
 * Must run as root: operations as other users run in forked children after
 * setgroups/setresgid/setresuid.  Each group works in DIR/<group>, which it
 * creates; DIR must exist, be empty of those names and allow others to
 * search it.  A "union" group expects DIR/pre seeded by the driver
 * (posix_check.sh) with a known tree.
 *
 * Timestamp checks sleep 15 ms between the "before" stat and the operation
 * so that a coarse clock tick has passed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

struct who {
	const char *name;
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[2];
};

/* root; two ordinary users; the first again with a supplementary group */
static const struct who ROOT = {"root", 0, 0, 0, {0}};
static const struct who U1 = {"u1", 65534, 65534, 0, {0}};
static const struct who U2 = {"u2", 65533, 65533, 0, {0}};
static const struct who U1G = {"u1+g", 65534, 65534, 1, {65532}};

static const char *group = "";
static int nrec;
static char longname[NAME_MAX + 2]; /* 255 chars, then 256 with lname_over */
static char lname_over[NAME_MAX + 3];
static char lpath_ok[PATH_MAX];	  /* PATH_MAX-1 chars, relative, directories exist */
static char lpath_over[PATH_MAX + 2];

#define A(...) ((const char *[]){__VA_ARGS__, NULL})

/* ---- the interpreter: one operation, its result as text ---- */

static void put_err(char *res, size_t len, int e)
{
	const char *n = strerrorname_np(e);
	snprintf(res, len, "%s", n ? n : "E?");
}

static int parse_flags(const char *s)
{
	static const struct {
		const char *name;
		int v;
	} tab[] = {{"O_RDONLY", O_RDONLY},   {"O_WRONLY", O_WRONLY},	   {"O_RDWR", O_RDWR},
		   {"O_CREAT", O_CREAT},     {"O_EXCL", O_EXCL},	   {"O_TRUNC", O_TRUNC},
		   {"O_APPEND", O_APPEND},   {"O_DIRECTORY", O_DIRECTORY}, {"O_NOFOLLOW", O_NOFOLLOW},
		   {"O_NONBLOCK", O_NONBLOCK}};
	int f = 0;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *save, *t = strtok_r(buf, "|", &save); t; t = strtok_r(NULL, "|", &save))
		for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
			if (!strcmp(tab[i].name, t))
				f |= tab[i].v;
	return f;
}

static mode_t M(const char *s)
{
	return (mode_t)strtoul(s, NULL, 8);
}

static long long N(const char *s)
{
	return strtoll(s, NULL, 0);
}

static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "reg";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "lnk";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "sock";
	case S_IFCHR: return "chr";
	case S_IFBLK: return "blk";
	}
	return "?";
}

static void put_stat(char *res, size_t len, const struct stat *st)
{
	int n = snprintf(res, len, "%s %04o n%lu u%u g%u", type_name(st->st_mode), (unsigned)(st->st_mode & 07777),
			 (unsigned long)st->st_nlink, (unsigned)st->st_uid, (unsigned)st->st_gid);
	if (!S_ISDIR(st->st_mode) && n > 0 && (size_t)n < len)
		snprintf(res + n, len - (size_t)n, " s%lld", (long long)st->st_size);
	if ((S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) && n > 0 && (size_t)n < len)
		snprintf(res + strlen(res), len - strlen(res), " rdev%u:%u", major(st->st_rdev), minor(st->st_rdev));
}

static struct timespec parse_ts(const char *sec, const char *nsec)
{
	struct timespec t = {(time_t)N(sec), 0};
	if (!strcmp(nsec, "NOW"))
		t.tv_nsec = UTIME_NOW;
	else if (!strcmp(nsec, "OMIT"))
		t.tv_nsec = UTIME_OMIT;
	else
		t.tv_nsec = (long)N(nsec);
	return t;
}

/* Readdir of dir: every d_ino must equal the st_ino of that name ("." and
 * ".." included); prints the names that differ. */
static void check_dino(char *res, size_t len, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		put_err(res, len, errno);
		return;
	}
	int bad = 0, cnt = 0;
	res[0] = '\0';
	struct dirent *de;
	struct stat self;
	if (fstat(dirfd(d), &self) < 0)
		self.st_dev = 0;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		cnt++;
		if (!strcmp(de->d_name, "..") && fstatat(dirfd(d), "..", &st, 0) == 0 && st.st_dev != self.st_dev)
			continue; /* a filesystem's root: its ".." is its own */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_ino != de->d_ino ||
		    (de->d_type != DT_UNKNOWN && (mode_t)DTTOIF(de->d_type) != (st.st_mode & S_IFMT))) {
			bad++;
			snprintf(res + strlen(res), len - strlen(res), "%s ", de->d_name);
		}
	}
	closedir(d);
	if (!bad)
		snprintf(res, len, "ok %d entries", cnt);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_dir(char *res, size_t len, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		put_err(res, len, errno);
		return;
	}
	char *names[256];
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < 256)
		names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
	res[0] = '\0';
	for (int i = 0; i < n; i++) {
		snprintf(res + strlen(res), len - strlen(res), "%s%s", i ? "," : "", names[i]);
		free(names[i]);
	}
}

/* Runs one operation; the result goes to res ("0", an errno name, or the
 * operation's own report). */
static void run_op(char *res, size_t len, const char *const *a)
{
	const char *op = a[0];
	int rc = 0, fd;
	struct stat st;
	res[0] = '\0';
	errno = 0;
	if (!strcmp(op, "open")) {
		fd = open(a[1], parse_flags(a[2]), a[3] ? M(a[3]) : 0);
		rc = fd < 0 ? -1 : close(fd);
	} else if (!strcmp(op, "create")) {
		fd = open(a[1], O_CREAT | O_EXCL | O_WRONLY, M(a[2]));
		rc = fd < 0 ? -1 : close(fd);
	} else if (!strcmp(op, "mkdir")) {
		rc = mkdir(a[1], M(a[2]));
	} else if (!strcmp(op, "rmdir")) {
		rc = rmdir(a[1]);
	} else if (!strcmp(op, "unlink")) {
		rc = unlink(a[1]);
	} else if (!strcmp(op, "link")) {
		rc = link(a[1], a[2]);
	} else if (!strcmp(op, "symlink")) {
		rc = symlink(a[1], a[2]);
	} else if (!strcmp(op, "rename")) {
		rc = rename(a[1], a[2]);
	} else if (!strcmp(op, "rename2")) {
		unsigned fl = !strcmp(a[3], "noreplace") ? RENAME_NOREPLACE : !strcmp(a[3], "exchange") ? RENAME_EXCHANGE : 0;
		rc = renameat2(AT_FDCWD, a[1], AT_FDCWD, a[2], fl);
	} else if (!strcmp(op, "mkfifo")) {
		rc = mkfifo(a[1], M(a[2]));
	} else if (!strcmp(op, "mknod")) {
		mode_t type = a[2][0] == 'c' ? S_IFCHR : a[2][0] == 'b' ? S_IFBLK : a[2][0] == 'f' ? S_IFIFO : S_IFREG;
		rc = mknod(a[1], type | M(a[3]), makedev((unsigned)N(a[4]), (unsigned)N(a[5])));
	} else if (!strcmp(op, "bind")) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a[1]);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		int e = errno;
		if (fd >= 0)
			close(fd);
		errno = e;
	} else if (!strcmp(op, "chmod")) {
		rc = chmod(a[1], M(a[2]));
	} else if (!strcmp(op, "lchmod")) {
		rc = fchmodat(AT_FDCWD, a[1], M(a[2]), AT_SYMLINK_NOFOLLOW);
	} else if (!strcmp(op, "fchmod") || !strcmp(op, "fchown") || !strcmp(op, "ftruncate") || !strcmp(op, "futimens")) {
		fd = open(a[1], !strcmp(op, "ftruncate") ? O_RDWR : O_RDONLY | O_NONBLOCK);
		if (fd < 0) {
			rc = -1;
		} else {
			if (!strcmp(op, "fchmod")) {
				rc = fchmod(fd, M(a[2]));
			} else if (!strcmp(op, "fchown")) {
				rc = fchown(fd, (uid_t)N(a[2]), (gid_t)N(a[3]));
			} else if (!strcmp(op, "ftruncate")) {
				rc = ftruncate(fd, (off_t)N(a[2]));
			} else {
				struct timespec ts[2] = {parse_ts(a[2], a[3]), parse_ts(a[4], a[5])};
				rc = futimens(fd, ts);
			}
			int e = errno;
			close(fd);
			errno = e;
		}
	} else if (!strcmp(op, "chown")) {
		rc = chown(a[1], (uid_t)N(a[2]), (gid_t)N(a[3]));
	} else if (!strcmp(op, "lchown")) {
		rc = lchown(a[1], (uid_t)N(a[2]), (gid_t)N(a[3]));
	} else if (!strcmp(op, "truncate")) {
		rc = truncate(a[1], (off_t)N(a[2]));
	} else if (!strcmp(op, "ftruncate_ro")) {
		fd = open(a[1], O_RDONLY);
		rc = fd < 0 ? -1 : ftruncate(fd, (off_t)N(a[2]));
		int e = errno;
		if (fd >= 0)
			close(fd);
		errno = e;
	} else if (!strcmp(op, "fallocate")) {
		fd = open(a[1], O_RDWR);
		if (fd < 0) {
			rc = -1;
		} else {
			int e = posix_fallocate(fd, (off_t)N(a[2]), (off_t)N(a[3]));
			close(fd);
			rc = e ? -1 : 0;
			errno = e;
		}
	} else if (!strcmp(op, "utimensat")) {
		struct timespec ts[2] = {parse_ts(a[2], a[3]), parse_ts(a[4], a[5])};
		rc = utimensat(AT_FDCWD, a[1], ts, a[6] && !strcmp(a[6], "nofollow") ? AT_SYMLINK_NOFOLLOW : 0);
	} else if (!strcmp(op, "utimensat_null")) {
		rc = utimensat(AT_FDCWD, a[1], NULL, 0);
	} else if (!strcmp(op, "write") || !strcmp(op, "append")) {
		fd = open(a[1], O_WRONLY | (op[0] == 'a' ? O_APPEND : 0));
		if (fd < 0) {
			rc = -1;
		} else {
			ssize_t n = write(fd, a[2], strlen(a[2]));
			int e = errno;
			close(fd);
			errno = e;
			rc = n == (ssize_t)strlen(a[2]) ? 0 : -1;
		}
	} else if (!strcmp(op, "read")) {
		char buf[128];
		fd = open(a[1], O_RDONLY);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		if (n >= 0) {
			buf[n] = '\0';
			for (char *c = buf; *c; c++)
				*c = *c == '\n' ? '|' : *c;
			snprintf(res, len, "\"%s\"", buf);
			return;
		}
		rc = -1;
	} else if (!strcmp(op, "readlink")) {
		char buf[PATH_MAX + 1];
		ssize_t n = readlink(a[1], buf, sizeof(buf) - 1);
		if (n >= 0) {
			buf[n] = '\0';
			snprintf(res, len, "-> %.60s (%zd)", buf, n);
			return;
		}
		rc = -1;
	} else if (!strcmp(op, "lstat") || !strcmp(op, "stat")) {
		rc = op[0] == 'l' ? lstat(a[1], &st) : stat(a[1], &st);
		if (!rc) {
			put_stat(res, len, &st);
			return;
		}
	} else if (!strcmp(op, "times") || !strcmp(op, "recent")) {
		/* atime and mtime: exact (explicitly set ones compare), or
		 * "now"/"old" (within 60 s of now or not) for "recent" and for
		 * times the clock gave.  A symlink's atime is left out: following
		 * it touches it on some filesystems, under relatime rules. */
		rc = lstat(a[1], &st);
		if (!rc) {
			time_t now = time(NULL);
			const struct timespec *ts[2] = {&st.st_atim, &st.st_mtim};
			for (int i = S_ISLNK(st.st_mode); i < 2; i++) {
				size_t o = strlen(res);
				if (llabs((long long)(now - ts[i]->tv_sec)) < 60)
					snprintf(res + o, len - o, "%s%cnow", o ? " " : "", "am"[i]);
				else if (op[0] == 'r')
					snprintf(res + o, len - o, "%s%cold", o ? " " : "", "am"[i]);
				else
					snprintf(res + o, len - o, "%s%c%lld.%09ld", o ? " " : "", "am"[i],
						 (long long)ts[i]->tv_sec, ts[i]->tv_nsec);
			}
			return;
		}
	} else if (!strcmp(op, "sameino")) {
		struct stat st2;
		rc = lstat(a[1], &st);
		if (!rc)
			rc = lstat(a[2], &st2);
		if (!rc) {
			snprintf(res, len, "%s", st.st_ino == st2.st_ino && st.st_dev == st2.st_dev ? "same" : "different");
			return;
		}
	} else if (!strcmp(op, "dino")) {
		check_dino(res, len, a[1]);
		return;
	} else if (!strcmp(op, "ls")) {
		list_dir(res, len, a[1]);
		return;
	} else if (!strcmp(op, "access")) {
		int m = 0;
		for (const char *c = a[2]; *c; c++)
			m |= *c == 'r' ? R_OK : *c == 'w' ? W_OK : *c == 'x' ? X_OK : F_OK;
		rc = access(a[1], m);
	} else if (!strcmp(op, "opendir")) {
		DIR *d = opendir(a[1]);
		rc = d ? closedir(d) : -1;
	} else if (!strcmp(op, "setxattr")) {
		int fl = a[4] ? (!strcmp(a[4], "create") ? XATTR_CREATE : !strcmp(a[4], "replace") ? XATTR_REPLACE : 0) : 0;
		rc = lsetxattr(a[1], a[2], a[3], strlen(a[3]), fl);
	} else if (!strcmp(op, "getxattr")) {
		char buf[256];
		size_t want = a[3] ? (size_t)N(a[3]) : sizeof(buf) - 1;
		ssize_t n = lgetxattr(a[1], a[2], want ? buf : NULL, want);
		if (n >= 0) {
			if (want)
				snprintf(res, len, "\"%.*s\"", (int)n, buf);
			else
				snprintf(res, len, "size %zd", n);
			return;
		}
		rc = -1;
	} else if (!strcmp(op, "listxattr")) {
		/* the user.* names, sorted */
		char buf[1024], *names[64];
		ssize_t n = llistxattr(a[1], buf, sizeof(buf));
		if (n >= 0) {
			int k = 0;
			for (ssize_t i = 0; i < n && k < 64; i += (ssize_t)strlen(buf + i) + 1)
				if (!strncmp(buf + i, "user.", 5))
					names[k++] = buf + i;
			qsort(names, (size_t)k, sizeof(names[0]), cmp_str);
			for (int i = 0; i < k; i++)
				snprintf(res + strlen(res), len - strlen(res), "%s%s", i ? "," : "", names[i]);
			if (!k)
				snprintf(res, len, "(none)");
			return;
		}
		rc = -1;
	} else if (!strcmp(op, "removexattr")) {
		rc = lremovexattr(a[1], a[2]);
	} else if (!strcmp(op, "pin")) {
		/* tierfs moves a file pinned to a tier (on tmpfs: a plain
		 * xattr); either way its inode number must stay */
		struct stat st2;
		rc = lstat(a[1], &st);
		if (!rc)
			rc = lsetxattr(a[1], "user.tierfs.pin", a[2], strlen(a[2]), 0);
		if (!rc)
			rc = lstat(a[1], &st2);
		if (!rc) {
			snprintf(res, len, "0 ino %s", st.st_ino == st2.st_ino ? "kept" : "changed");
			return;
		}
	} else if (!strcmp(op, "chdir")) {
		rc = chdir(a[1]);
	} else if (!strcmp(op, "umask")) {
		umask(M(a[1]));
	} else if (!strcmp(op, "unlink_open")) {
		/* an open file outlives its last name: fstat, write, read back */
		fd = open(a[1], O_RDWR);
		if (fd < 0) {
			rc = -1;
		} else {
			int u = unlink(a[1]);
			int w = (int)pwrite(fd, "xyz", 3, 0);
			char b[4] = "";
			int r = (int)pread(fd, b, 3, 0);
			fstat(fd, &st);
			snprintf(res, len, "unlink %d write %d read %d \"%.3s\" nlink %lu exists %d", u, w, r, b,
				 (unsigned long)st.st_nlink, access(a[1], F_OK) == 0);
			close(fd);
			return;
		}
	} else if (!strcmp(op, "fd_ops")) {
		/* open, then unlink or rename the name, then change the file
		 * through the descriptor only */
		fd = open(a[1], O_RDWR);
		if (fd < 0) {
			rc = -1;
		} else {
			char to[64];
			snprintf(to, sizeof(to), "%s2", a[1]);
			int gone = !strcmp(a[2], "unlink") ? unlink(a[1]) : rename(a[1], to);
			struct timespec ts[2] = {{1200000000, 0}, {1100000000, 0}};
			int r1 = fchmod(fd, 0604), r2 = fchown(fd, 65534, 65533), r3 = ftruncate(fd, 7);
			int r4 = (int)pwrite(fd, "ab", 2, 0), r5 = futimens(fd, ts);
			fstat(fd, &st);
			char sb[128];
			put_stat(sb, sizeof(sb), &st);
			snprintf(res, len, "%d %d %d %d %d %d: %s m%lld", gone, r1, r2, r3, r4, r5, sb,
				 (long long)st.st_mtim.tv_sec);
			close(fd);
			return;
		}
	} else if (!strcmp(op, "fstat_open")) {
		/* attributes through an open descriptor (create mode, umask) */
		fd = open(a[1], parse_flags(a[2]), M(a[3]));
		if (fd < 0) {
			rc = -1;
		} else {
			fstat(fd, &st);
			close(fd);
			put_stat(res, len, &st);
			return;
		}
	} else {
		snprintf(res, len, "BADOP %s", op);
		return;
	}
	if (rc < 0)
		put_err(res, len, errno);
	else
		snprintf(res, len, "0");
}

/* Run an operation as who: in this process for root, else in a child that
 * drops to the user (its umask and cwd inherited). */
static int root_only; /* -r: a mount only its owner may use */

static void run_as(const struct who *w, char *res, size_t len, const char *const *a)
{
	if (w->uid != 0 && root_only) {
		snprintf(res, len, "not run");
		return;
	}
	if (w->uid == 0) {
		run_op(res, len, a);
		return;
	}
	int p[2];
	if (pipe(p) < 0) {
		snprintf(res, len, "PIPE");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		char buf[1024];
		if (setgroups((size_t)w->ngroups, w->groups) < 0 || setresgid(w->gid, w->gid, w->gid) < 0 ||
		    setresuid(w->uid, w->uid, w->uid) < 0)
			snprintf(buf, sizeof(buf), "SETID-FAILED");
		else
			run_op(buf, sizeof(buf), a);
		ssize_t n = write(p[1], buf, strlen(buf));
		_exit(n < 0);
	}
	close(p[1]);
	size_t off = 0;
	ssize_t n;
	while (off + 1 < len && (n = read(p[0], res + off, len - off - 1)) > 0)
		off += (size_t)n;
	res[off] = '\0';
	close(p[0]);
	waitpid(pid, NULL, 0);
}

static void print_line(const struct who *w, const char *const *a, const char *res)
{
	printf("%s:%d", group, ++nrec);
	for (const char *const *p = a; *p; p++) {
		const char *s = *p;
		if (s == longname || s == lname_over || s == lpath_ok || s == lpath_over || strlen(s) > 60)
			printf(" <%zu chars>", strlen(s));
		else
			printf(" %s", s);
	}
	printf("%s%s => %s\n", w->uid ? " as " : "", w->uid ? w->name : "", res);
}

/* Record one operation's result. */
static void rec(const struct who *w, const char *const *a)
{
	char res[1024];
	run_as(w, res, sizeof(res), a);
	print_line(w, a, res);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

/* Record an operation's result and which of mtime/ctime of each watched
 * path changed ("-" none, "gone" no longer there). */
static void rec_ts(const struct who *w, const char *const *watch, const char *const *a)
{
	struct stat before[8], after;
	int had[8], nw = 0;
	for (; watch[nw] && nw < 8; nw++)
		had[nw] = lstat(watch[nw], &before[nw]) == 0;
	sleep_ms(15);
	char res[1024];
	run_as(w, res, sizeof(res), a);
	size_t off = strlen(res);
	for (int i = 0; i < nw; i++) {
		const char *what;
		char buf[8] = "";
		if (lstat(watch[i], &after) < 0) {
			what = "gone";
		} else if (!had[i]) {
			what = "new";
		} else {
			if (after.st_mtim.tv_sec != before[i].st_mtim.tv_sec || after.st_mtim.tv_nsec != before[i].st_mtim.tv_nsec)
				strcat(buf, "m");
			if (after.st_ctim.tv_sec != before[i].st_ctim.tv_sec || after.st_ctim.tv_nsec != before[i].st_ctim.tv_nsec)
				strcat(buf, "c");
			what = buf[0] ? buf : "-";
		}
		off += (size_t)snprintf(res + off, sizeof(res) - off, " | %s:%s", watch[i], what);
		if (off >= sizeof(res))
			break;
	}
	print_line(w, a, res);
}

#define R(...) rec(&ROOT, A(__VA_ARGS__))
#define U(w, ...) rec(w, A(__VA_ARGS__))
#define T(w, watch, ...) rec_ts(w, watch, A(__VA_ARGS__))
#define ST(p) R("lstat", p)

/* Quiet setup: must succeed, not recorded (a failure aborts the group
 * with a line, so a broken setup shows as a difference). */
static int setup_failed, nsetup;
static void setup(const char *const *a)
{
	char res[1024];
	nsetup++; /* every setup counts: a failing one keeps its own label */
	run_op(res, sizeof(res), a);
	if (strcmp(res, "0") != 0) {
		printf("%s:setup%d %s %s => %s\n", group, nsetup, a[0], a[1], res);
		setup_failed = 1;
	}
}
#define SET(...) setup(A(__VA_ARGS__))

/* ---- the object types every group goes over ---- */

static const char *const types[] = {"reg", "dir", "fifo", "chr", "blk", "sock", "lnk"};
#define NTYPES (sizeof(types) / sizeof(types[0]))

static void make_obj(const char *type, const char *path)
{
	if (!strcmp(type, "reg"))
		SET("create", path, "0644");
	else if (!strcmp(type, "dir"))
		SET("mkdir", path, "0755");
	else if (!strcmp(type, "fifo"))
		SET("mkfifo", path, "0644");
	else if (!strcmp(type, "chr"))
		SET("mknod", path, "c", "0644", "1", "3");
	else if (!strcmp(type, "blk"))
		SET("mknod", path, "b", "0644", "7", "200");
	else if (!strcmp(type, "sock"))
		SET("bind", path);
	else
		SET("symlink", "target", path);
}

static void rm_obj(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0)
		(void)(S_ISDIR(st.st_mode) ? rmdir(path) : unlink(path));
}

/* A name, a too-long name, a PATH_MAX-1 path that exists up to its last
 * component, a too-long path: shared by every group's errno checks. */
static void make_long_paths(void)
{
	memset(longname, 'x', NAME_MAX);
	longname[NAME_MAX] = '\0';
	memset(lname_over, 'x', NAME_MAX + 1);
	lname_over[NAME_MAX + 1] = '\0';
	/* 4095 chars of "lp/" + 253-char directory names, last name shorter */
	char *p = lpath_ok;
	size_t left = PATH_MAX - 1;
	strcpy(p, "lp");
	p += 2;
	left -= 2;
	SET("mkdir", "lp", "0755");
	while (left > 0) {
		size_t seg = left - 1 > 200 ? 200 : left - 1;
		if (left < 2)
			break;
		*p++ = '/';
		memset(p, 'd', seg);
		p[seg] = '\0';
		left -= seg + 1;
		if (left > 0)
			SET("mkdir", lpath_ok, "0755");
		p += seg;
	}
	snprintf(lpath_over, sizeof(lpath_over), "%sX", lpath_ok);
}

/* The errno cases of a path argument shared by every call taking a path:
 * ENOTDIR, ENAMETOOLONG (name and path), ENOENT, ELOOP, EACCES (search). */
static void path_errors(const char *op, const char *const *rest)
{
	/* rest: the arguments after the path, NULL-terminated (at most 6) */
	const char *argv[10];
	const char *paths[] = {"pe_file/x", longname, lname_over, lpath_ok, lpath_over, "pe_none/x", "pe_none",
			       "pe_loop1", "pe_loop1/x", "pe_nosearch/f", "pe_dirlink/f"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		argv[0] = op;
		argv[1] = paths[i];
		int k = 2;
		for (const char *const *r = rest; *r && k < 9; r++)
			argv[k++] = *r;
		argv[k] = NULL;
		rec(strcmp(paths[i], "pe_nosearch/f") ? &ROOT : &U1, argv);
		/* clean up what a successful call may have made */
		if (paths[i] == longname || paths[i] == lpath_ok)
			rm_obj(paths[i]);
	}
}

static void path_error_setup(void)
{
	SET("create", "pe_file", "0644");
	SET("symlink", "pe_loop2", "pe_loop1");
	SET("symlink", "pe_loop1", "pe_loop2");
	SET("mkdir", "pe_nosearch", "0777");
	SET("create", "pe_nosearch/f", "0666");
	SET("chmod", "pe_nosearch", "0666");
	SET("mkdir", "pe_dir", "0777");
	SET("symlink", "pe_dir", "pe_dirlink");
	make_long_paths();
}

/* ---- groups ---- */

static const char *const W1[] = {".", NULL};

static void g_chmod(void)
{
	path_error_setup();
	path_errors("chmod", A("0600"));
	char p[64];
	for (size_t i = 0; i < NTYPES; i++) {
		snprintf(p, sizeof(p), "o_%s", types[i]);
		make_obj(types[i], p);
		if (!strcmp(types[i], "lnk"))
			SET("create", "target", "0644");
		T(&ROOT, A(p, "."), "chmod", p, "0111");
		ST(p);
		R("stat", p);
		T(&ROOT, A(p), "chmod", p, "07777");
		ST(p);
		T(&ROOT, A(p), "lchmod", p, "0700");
		ST(p);
		SET("chown", p, "65534", "65534");
		T(&U1, A(p), "chmod", p, "0654");
		R("stat", p);
		T(&U2, A(p), "chmod", p, "0600");
		R("stat", p);
		T(&ROOT, A(p), "fchmod", p, "0640");
		R("stat", p);
		rm_obj(p);
		rm_obj("target");
	}
	/* setgid dropped when the owner is not in the file's group */
	SET("create", "sg", "0644");
	SET("chown", "sg", "65534", "0");
	U(&U1, "chmod", "sg", "02755");
	ST("sg");
	SET("chown", "sg", "65534", "65532");
	U(&U1, "chmod", "sg", "02755");
	ST("sg");
	U(&U1G, "chmod", "sg", "02755");
	ST("sg");
	U(&U1, "chmod", "sg", "01755");
	ST("sg");
	SET("mkdir", "sgd", "0755");
	SET("chown", "sgd", "65534", "0");
	U(&U1, "chmod", "sgd", "02755");
	ST("sgd");
	U(&U1, "chmod", "sgd", "01777");
	ST("sgd");
	/* suid cleared on write by an ordinary user, kept by root */
	const char *modes[] = {"04777", "02777", "06777", "02767", "04755"};
	for (int i = 0; i < 5; i++) {
		SET("create", "su", "0644");
		SET("chmod", "su", modes[i]);
		T(&U1, A("su"), "write", "su", "data");
		ST("su");
		R("write", "su", "more");
		ST("su");
		SET("chmod", "su", modes[i]);
		T(&U1, A("su"), "truncate", "su", "1");
		ST("su");
		SET("chmod", "su", modes[i]);
		U(&U1, "ftruncate", "su", "2");
		ST("su");
		SET("chmod", "su", modes[i]);
		U(&U1, "open", "su", "O_WRONLY|O_TRUNC");
		ST("su");
		SET("unlink", "su");
	}
}

static void g_chown(void)
{
	path_error_setup();
	path_errors("chown", A("65534", "65534"));
	char p[64];
	for (size_t i = 0; i < NTYPES; i++) {
		snprintf(p, sizeof(p), "o_%s", types[i]);
		make_obj(types[i], p);
		if (!strcmp(types[i], "lnk"))
			SET("create", "target", "0644");
		T(&ROOT, A(p, "."), "chown", p, "65534", "65533");
		ST(p);
		R("stat", p);
		T(&ROOT, A(p), "lchown", p, "65533", "65534");
		ST(p);
		T(&ROOT, A(p), "chown", p, "-1", "-1");
		ST(p);
		R("lchown", p, "65534", "65534");
		/* an owner may change only the group, and only to one of his */
		T(&U1, A(p), "lchown", p, "65533", "-1");
		T(&U1, A(p), "lchown", p, "-1", "65532");
		T(&U1G, A(p), "lchown", p, "-1", "65532");
		ST(p);
		T(&U1G, A(p), "lchown", p, "65534", "65534");
		ST(p);
		T(&U1, A(p), "lchown", p, "-1", "-1");
		T(&U2, A(p), "lchown", p, "-1", "-1");
		T(&U2, A(p), "lchown", p, "65533", "65533");
		ST(p);
		rm_obj(p);
		rm_obj("target");
	}
	/* suid/sgid cleared by chown, of files only */
	const char *modes[] = {"06555", "06755", "04755", "02755", "02745"};
	for (int i = 0; i < 5; i++) {
		SET("create", "su", "0644");
		SET("mkdir", "sud", "0755");
		SET("chmod", "su", modes[i]);
		SET("chmod", "sud", modes[i]);
		R("chown", "su", "65534", "65534");
		ST("su");
		R("chown", "sud", "65534", "65534");
		ST("sud");
		SET("chmod", "su", modes[i]);
		SET("chmod", "sud", modes[i]);
		U(&U1G, "chown", "su", "-1", "65532");
		ST("su");
		U(&U1G, "chown", "sud", "-1", "65532");
		ST("sud");
		SET("chmod", "su", modes[i]);
		U(&U1G, "chown", "su", "-1", "-1");
		ST("su");
		SET("chmod", "su", modes[i]);
		R("chown", "su", "-1", "-1");
		ST("su");
		SET("chmod", "su", modes[i]);
		R("fchown", "su", "0", "0");
		ST("su");
		SET("unlink", "su");
		SET("rmdir", "sud");
	}
}

static void g_link(void)
{
	path_error_setup();
	SET("create", "src", "0644");
	path_errors("link", A("src"));
	SET("mkdir", "d", "0777");
	path_errors("link", A("d/new"));
	const char *kinds[] = {"reg", "fifo", "chr", "sock", "lnk"};
	char p[64], q[64], r2[64];
	for (int i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "l_%s", kinds[i]);
		snprintf(q, sizeof(q), "d/l2_%s", kinds[i]);
		snprintf(r2, sizeof(r2), "l3_%s", kinds[i]);
		make_obj(kinds[i], p);
		T(&ROOT, A(p, ".", "d"), "link", p, q);
		ST(p);
		ST(q);
		R("sameino", p, q);
		T(&ROOT, A(p, q, "."), "link", q, r2);
		ST(p);
		T(&ROOT, A(p, q, "."), "unlink", p);
		ST(q);
		R("lstat", p);
		T(&ROOT, A(r2, "d"), "unlink", q);
		ST(r2);
		R("link", r2, "src");
		R("link", r2, "d");
		R("link", r2, "pe_dirlink");
		SET("unlink", r2);
	}
	R("link", "d", "d2");
	R("link", "pe_dirlink", "dl2");
	ST("pe_dirlink");
	R("unlink", "dl2");
	R("link", "nonexistent", "x");
	/* permissions: write on the target directory, search on both */
	SET("mkdir", "ro", "0755");
	SET("create", "mine", "0644");
	SET("chown", "mine", "65534", "65534");
	T(&U1, A("ro"), "link", "mine", "ro/x");
	T(&U1, A("d"), "link", "mine", "d/x");
	ST("mine");
	SET("chmod", "d", "0676");
	U(&U1, "link", "d/x", "y");
	U(&U1, "link", "mine", "d/z");
	SET("chmod", "d", "0777");
	/* protected_hardlinks: not the owner and no read/write access */
	SET("create", "rootonly", "0600");
	U(&U1, "link", "rootonly", "d/ro1");
	SET("chmod", "rootonly", "0666");
	U(&U1, "link", "rootonly", "d/ro2");
	ST("rootonly");
	/* many links, then all removed */
	SET("create", "many", "0644");
	char name[32];
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "%s/m%d", i % 2 ? "d" : ".", i);
		R("link", "many", name);
	}
	ST("many");
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "%s/m%d", i % 2 ? "d" : ".", i);
		R("unlink", name);
	}
	ST("many");
	R("dino", ".");
	R("dino", "d");
}

static void g_mkdir(void)
{
	path_error_setup();
	path_errors("mkdir", A("0755"));
	T(&ROOT, W1, "mkdir", "a", "0755");
	ST("a");
	ST(".");
	const char *modes[] = {"0000", "0777", "01777", "02777", "04777", "07777", "0123"};
	char p[32];
	for (int i = 0; i < 7; i++) {
		snprintf(p, sizeof(p), "m%d", i);
		R("mkdir", p, modes[i]);
		ST(p);
	}
	R("umask", "022");
	R("mkdir", "um1", "0777");
	ST("um1");
	R("umask", "077");
	R("mkdir", "um2", "0777");
	ST("um2");
	U(&U1, "mkdir", "um3", "0777");
	R("umask", "0");
	/* nesting: parent nlink follows subdirectories */
	SET("mkdir", "nest", "0777");
	for (int i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "nest/s%d", i);
		T(&ROOT, A("nest"), "mkdir", p, "0755");
		ST("nest");
	}
	SET("create", "nest/f", "0644");
	ST("nest");
	for (int i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "nest/s%d", i);
		T(&ROOT, A("nest"), "rmdir", p);
		ST("nest");
	}
	/* owner and group of a user's directory; setgid directories */
	U(&U1, "mkdir", "nest/u", "0755");
	ST("nest/u");
	SET("mkdir", "sgid", "02777");
	SET("chown", "sgid", "0", "65532");
	U(&U1, "mkdir", "sgid/u", "0755");
	ST("sgid/u");
	U(&U1, "mkdir", "sgid/u/v", "0700");
	ST("sgid/u/v");
	U(&U1, "create", "sgid/f", "02755");
	ST("sgid/f");
	U(&U1G, "create", "sgid/f2", "02755");
	ST("sgid/f2");
	R("create", "sgid/f3", "02755");
	ST("sgid/f3");
	/* EEXIST for every type */
	for (size_t i = 0; i < NTYPES; i++) {
		snprintf(p, sizeof(p), "e_%s", types[i]);
		make_obj(types[i], p);
		R("mkdir", p, "0755");
	}
	R("mkdir", "e_lnk/", "0755");
	R("mkdir", "dangling/", "0755");
	/* permissions of the parent */
	SET("mkdir", "ro", "0755");
	U(&U1, "mkdir", "ro/x", "0755");
	SET("chmod", "ro", "0773");
	U(&U1, "mkdir", "ro/x", "0755");
	SET("chmod", "ro", "0757");
	U(&U1, "mkdir", "ro/y", "0755");
	ST("ro/y");
	R("mkdir", ".", "0755");
	R("mkdir", "..", "0755");
	R("dino", ".");
	R("ls", "nest");
}

static void g_mkfifo(void)
{
	path_error_setup();
	path_errors("mkfifo", A("0644"));
	path_errors("mknod", A("c", "0644", "1", "3"));
	T(&ROOT, W1, "mkfifo", "f", "0644");
	ST("f");
	const char *modes[] = {"0000", "0777", "01777", "02777", "04777", "07777"};
	char p[32];
	for (int i = 0; i < 6; i++) {
		snprintf(p, sizeof(p), "m%d", i);
		R("mkfifo", p, modes[i]);
		ST(p);
		snprintf(p, sizeof(p), "n%d", i);
		R("mknod", p, "c", modes[i], "1", "5");
		ST(p);
		snprintf(p, sizeof(p), "r%d", i);
		R("mknod", p, "r", modes[i], "0", "0");
		ST(p);
	}
	R("umask", "027");
	R("mkfifo", "um", "0777");
	ST("um");
	R("mknod", "umc", "b", "0777", "7", "1");
	ST("umc");
	R("umask", "0");
	SET("mkdir", "d", "0777");
	U(&U1, "mkfifo", "d/u", "0640");
	ST("d/u");
	U(&U1, "mknod", "d/c", "c", "0640", "1", "3");
	U(&U1, "mknod", "d/r", "r", "0640", "0", "0");
	ST("d/r");
	U(&U1, "mknod", "d/p", "f", "0640", "0", "0");
	ST("d/p");
	U(&U1, "bind", "d/s");
	ST("d/s");
	SET("chmod", "d", "0755");
	U(&U1, "mkfifo", "d/u2", "0640");
	U(&U1, "bind", "d/s2");
	for (size_t i = 0; i < NTYPES; i++) {
		snprintf(p, sizeof(p), "e_%s", types[i]);
		make_obj(types[i], p);
		R("mkfifo", p, "0644");
		R("mknod", p, "c", "0644", "1", "3");
		R("bind", p);
	}
	/* a fifo opens as a fifo */
	R("open", "f", "O_RDONLY|O_NONBLOCK");
	R("open", "f", "O_WRONLY|O_NONBLOCK");
	R("open", "d/s", "O_RDONLY");
	R("open", "n1", "O_RDONLY");
	R("dino", ".");
}

static void g_open(void)
{
	path_error_setup();
	path_errors("open", A("O_RDONLY"));
	path_errors("open", A("O_CREAT|O_WRONLY", "0644"));
	T(&ROOT, W1, "open", "f", "O_CREAT|O_WRONLY", "0644");
	ST("f");
	const char *modes[] = {"0000", "0777", "01777", "02777", "04777", "07777", "0421"};
	char p[32];
	for (int i = 0; i < 7; i++) {
		snprintf(p, sizeof(p), "m%d", i);
		R("fstat_open", p, "O_CREAT|O_RDWR", modes[i]);
		ST(p);
	}
	R("umask", "022");
	R("fstat_open", "um", "O_CREAT|O_WRONLY", "0777");
	R("umask", "0");
	SET("mkdir", "d", "0777");
	U(&U1, "open", "d/u", "O_CREAT|O_WRONLY", "0640");
	ST("d/u");
	U(&U2, "open", "d/u", "O_RDONLY");
	U(&U2, "open", "d/u", "O_WRONLY");
	U(&U1, "open", "d/u", "O_RDWR");
	SET("chmod", "d/u", "0000");
	U(&U1, "open", "d/u", "O_RDONLY");
	R("open", "d/u", "O_RDWR");
	/* every mode bit against owner, group and others */
	const char *bits[] = {"0400", "0200", "0040", "0020", "0004", "0002", "0600", "0066", "0606"};
	const char *flags[] = {"O_RDONLY", "O_WRONLY", "O_RDWR"};
	const struct who *users[] = {&U1, &U2, &U1G};
	SET("create", "pm", "0644");
	SET("chown", "pm", "65534", "65532");
	for (int b = 0; b < 9; b++) {
		SET("chmod", "pm", bits[b]);
		for (int f = 0; f < 3; f++)
			for (int u = 0; u < 3; u++)
				U(users[u], "open", "pm", flags[f]);
	}
	/* O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY, O_NOFOLLOW */
	R("open", "f", "O_CREAT|O_EXCL|O_WRONLY", "0644");
	SET("write", "f", "hello");
	T(&ROOT, A("f", "."), "open", "f", "O_CREAT|O_WRONLY", "0600");
	ST("f");
	T(&ROOT, A("f", "."), "open", "f", "O_WRONLY|O_TRUNC");
	ST("f");
	T(&ROOT, A("f"), "open", "f", "O_WRONLY|O_TRUNC");
	R("write", "f", "abc");
	R("append", "f", "def");
	R("read", "f");
	ST("f");
	R("open", "f", "O_RDONLY|O_TRUNC");
	ST("f");
	U(&U1, "open", "f", "O_RDONLY|O_TRUNC");
	ST("f");
	R("open", "f", "O_RDONLY|O_DIRECTORY");
	R("open", "d", "O_RDONLY|O_DIRECTORY");
	R("open", "d", "O_WRONLY");
	R("open", "d", "O_RDWR");
	R("open", "d", "O_RDONLY|O_CREAT", "0644");
	R("open", "d", "O_RDONLY|O_TRUNC");
	SET("symlink", "f", "sl");
	SET("symlink", "nowhere", "dangle");
	R("open", "sl", "O_RDONLY|O_NOFOLLOW");
	R("open", "sl", "O_RDONLY");
	R("open", "sl", "O_CREAT|O_EXCL|O_WRONLY", "0644");
	R("open", "dangle", "O_CREAT|O_EXCL|O_WRONLY", "0644");
	R("open", "dangle", "O_CREAT|O_WRONLY", "0600");
	ST("nowhere");
	SET("mkfifo", "fifo", "0644");
	R("open", "fifo", "O_WRONLY|O_NONBLOCK");
	R("open", "fifo", "O_RDONLY|O_NONBLOCK");
	R("open", "fifo", "O_CREAT|O_EXCL|O_WRONLY", "0644");
	SET("bind", "sock");
	R("open", "sock", "O_RDONLY");
	R("open", "sock", "O_CREAT|O_WRONLY", "0644");
	SET("mknod", "null", "c", "0666", "1", "3");
	R("open", "null", "O_RDWR");
	SET("mknod", "blkdev", "b", "0666", "7", "200");
	R("open", "blkdev", "O_RDONLY");
	/* creating needs write and search on the directory */
	SET("mkdir", "ro", "0755");
	U(&U1, "open", "ro/x", "O_CREAT|O_WRONLY", "0644");
	SET("chmod", "ro", "0773");
	U(&U1, "open", "ro/x", "O_CREAT|O_WRONLY", "0644");
	SET("create", "ro/y", "0666");
	U(&U1, "open", "ro/y", "O_CREAT|O_WRONLY", "0644");
	SET("chmod", "ro", "0776");
	U(&U1, "open", "ro/y", "O_RDONLY");
	/* an open file outlives its name */
	SET("create", "uo", "0644");
	R("unlink_open", "uo");
	SET("create", "uo2", "0644");
	SET("link", "uo2", "uo3");
	R("unlink_open", "uo2");
	ST("uo3");
	R("dino", ".");
}

static void g_rename(void)
{
	path_error_setup();
	SET("create", "src", "0644");
	path_errors("rename", A("dst"));
	R("unlink", "dst");
	SET("mkdir", "d", "0777");
	SET("mkdir", "e", "0777");
	char p[64], q[64];
	for (size_t i = 0; i < NTYPES; i++) {
		snprintf(p, sizeof(p), "r_%s", types[i]);
		snprintf(q, sizeof(q), "d/r_%s", types[i]);
		make_obj(types[i], p);
		SET("rename", "src", "src_keep");
		SET("link", "src_keep", "src");
		/* to a new name in another directory, and back */
		T(&ROOT, A(p, ".", "d"), "rename", p, q);
		ST(q);
		R("lstat", p);
		R("dino", "d");
		T(&ROOT, A(q, "d", "e"), "rename", q, "e/x");
		ST("d");
		ST("e");
		T(&ROOT, A("e/x", "e"), "rename", "e/x", p);
		/* over an existing target of every type */
		for (size_t j = 0; j < NTYPES; j++) {
			snprintf(q, sizeof(q), "t_%s", types[j]);
			make_obj(types[j], q);
			if (!strcmp(types[j], "reg"))
				SET("link", q, "t_reg_keep");
			T(&ROOT, A(p, q, "."), "rename", p, q);
			if (!strcmp(types[j], "reg"))
				ST("t_reg_keep");
			R("lstat", q);
			R("lstat", p);
			struct stat pst;
			if (lstat(p, &pst) != 0)
				SET("rename", q, p);
			else
				rm_obj(q);
			rm_obj("t_reg_keep");
			ST(".");
		}
		rm_obj(p);
		SET("unlink", "src");
		SET("rename", "src_keep", "src");
	}
	/* directories: nlink of both parents, empty and full targets */
	SET("mkdir", "d/sub", "0755");
	SET("create", "d/sub/f", "0644");
	ST("d");
	ST("e");
	T(&ROOT, A("d", "e", "d/sub"), "rename", "d/sub", "e/sub");
	ST("d");
	ST("e");
	ST("e/sub");
	R("read", "e/sub/f");
	SET("mkdir", "d/empty", "0755");
	T(&ROOT, A("d", "e", "e/sub"), "rename", "e/sub", "d/empty");
	ST("d");
	ST("e");
	SET("mkdir", "e/full", "0755");
	SET("create", "e/full/x", "0644");
	R("rename", "d/empty", "e/full");
	R("rename", "e/full", "e/full/x");
	R("rename", "e/full", "e/full/y");
	R("rename", "e", "e/full/z");
	R("rename", "d/empty", "d/empty");
	R("rename", ".", "x");
	R("rename", "d/empty/.", "x");
	R("rename", "x", ".");
	R("rename", "d", "d/..");
	R("rename", "src", "/proc/posixcheck-src");
	R("rename", "src", "src");
	SET("link", "src", "src2");
	R("rename", "src", "src2");
	ST("src");
	ST("src2");
	/* renameat2 flags */
	R("rename2", "src", "src2", "noreplace");
	R("rename2", "src", "new", "noreplace");
	ST("new");
	R("rename2", "new", "e", "exchange");
	ST("e");
	ST("new");
	R("read", "e");
	R("rename2", "new", "nothere", "exchange");
	R("rename2", "e", "new", "exchange");
	R("rename2", "e", "new", "exchange");
	/* permissions: write on both directories, write on a moved directory,
	 * the sticky bit */
	SET("mkdir", "ud", "0777");
	SET("mkdir", "ro", "0755");
	U(&U1, "create", "ud/f", "0644");
	U(&U1, "mkdir", "ud/sd", "0755");
	U(&U1, "rename", "ud/f", "ro/f");
	U(&U1, "rename", "ud/f", "ud/f2");
	SET("mkdir", "ud/rootdir", "0755");
	U(&U1, "rename", "ud/rootdir", "ud/rd2");
	U(&U1, "rename", "ud/rootdir", "ud/sd/rd2");
	U(&U1, "rename", "ud/sd", "ud/sd2");
	U(&U2, "rename", "ud/sd2", "ud/sd3");
	SET("mkdir", "st", "01777");
	U(&U1, "create", "st/u1", "0644");
	U(&U2, "create", "st/u2", "0644");
	U(&U1, "mkdir", "st/u1d", "0755");
	U(&U2, "rename", "st/u1", "st/x");
	U(&U2, "rename", "st/u2", "st/u1");
	U(&U2, "rename", "st/u1d", "st/y");
	U(&U1, "rename", "st/u1", "st/u1b");
	U(&U1, "rename", "st/u1b", "st/u2");
	R("rename", "st/u1b", "st/u2");
	SET("chown", "st", "65533", "0");
	U(&U2, "rename", "st/u1d", "st/u1d2");
	ST("st/u1d2");
	R("dino", ".");
	R("ls", ".");
}

static void g_rmdir(void)
{
	path_error_setup();
	path_errors("rmdir", A(NULL));
	SET("mkdir", "d", "0777");
	SET("mkdir", "d/a", "0755");
	T(&ROOT, A("d", "d/a"), "rmdir", "d/a");
	ST("d");
	SET("mkdir", "d/b", "0755");
	SET("create", "d/b/f", "0644");
	T(&ROOT, A("d", "d/b"), "rmdir", "d/b");
	SET("unlink", "d/b/f");
	SET("mkdir", "d/b/c", "0755");
	R("rmdir", "d/b");
	SET("rmdir", "d/b/c");
	SET("symlink", "x", "d/b/l");
	R("rmdir", "d/b");
	SET("unlink", "d/b/l");
	R("rmdir", "d/b/.");
	R("rmdir", "d/b/..");
	R("rmdir", "d/b/");
	R("rmdir", "pe_dirlink");
	R("rmdir", "pe_dirlink/");
	char p[32];
	for (size_t i = 0; i < NTYPES; i++) {
		snprintf(p, sizeof(p), "t_%s", types[i]);
		make_obj(types[i], p);
		R("rmdir", p);
	}
	/* permissions and the sticky bit */
	SET("mkdir", "ro", "0755");
	SET("mkdir", "ro/x", "0777");
	U(&U1, "rmdir", "ro/x");
	SET("chmod", "ro", "0773");
	U(&U1, "rmdir", "ro/x");
	SET("chmod", "ro", "0757");
	U(&U1, "rmdir", "ro/x");
	SET("mkdir", "st", "01777");
	U(&U1, "mkdir", "st/u1", "0755");
	SET("mkdir", "st/root", "0777");
	U(&U2, "rmdir", "st/u1");
	U(&U1, "rmdir", "st/root");
	SET("chown", "st/root", "65533", "0");
	U(&U2, "rmdir", "st/root");
	U(&U1, "rmdir", "st/u1");
	SET("chown", "st", "65533", "0");
	SET("mkdir", "st/r2", "0777");
	U(&U2, "rmdir", "st/r2");
	ST("st");
	R("dino", ".");
}

static void g_symlink(void)
{
	path_error_setup();
	/* the path errors of the link name (argv order: target, name) */
	const char *names[] = {"pe_file/x", longname, lname_over, lpath_ok, lpath_over, "pe_none/x", "pe_loop1/x"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		R("symlink", "t", names[i]);
		rm_obj(names[i]);
	}
	U(&U1, "symlink", "t", "pe_nosearch/l");
	T(&ROOT, W1, "symlink", "target", "s");
	ST("s");
	R("readlink", "s");
	R("readlink", "pe_file");
	R("readlink", "none");
	SET("mkdir", "d", "0777");
	U(&U1, "symlink", "../target", "d/u");
	ST("d/u");
	R("readlink", "d/u");
	R("symlink", lpath_ok, "longtarget");
	R("readlink", "longtarget");
	R("symlink", lpath_over, "longtarget2");
	R("symlink", "", "empty");
	R("symlink", "x", "s");
	R("symlink", "x", "d");
	R("symlink", "x", "pe_file");
	R("symlink", "x", "s/");
	SET("chmod", "d", "0755");
	U(&U1, "symlink", "x", "d/u2");
	SET("create", "target", "0644");
	R("stat", "s");
	SET("symlink", "s", "s2");
	R("stat", "s2");
	R("read", "s2");
	R("dino", ".");
}

static void g_truncate(void)
{
	path_error_setup();
	path_errors("truncate", A("0"));
	SET("create", "f", "0644");
	const char *sizes[] = {"1234567", "567", "567", "0", "1048576", "-1", "999999999999999999", "9223372036854775807"};
	for (int i = 0; i < 8; i++) {
		T(&ROOT, A("f"), "truncate", "f", sizes[i]);
		ST("f");
		T(&ROOT, A("f"), "ftruncate", "f", sizes[i]);
		ST("f");
	}
	R("ftruncate_ro", "f", "5");
	SET("write", "f", "hello world");
	R("truncate", "f", "5");
	R("read", "f");
	R("truncate", "f", "8");
	R("read", "f");
	R("fallocate", "f", "0", "100");
	ST("f");
	R("fallocate", "f", "200", "100");
	ST("f");
	SET("mkdir", "d", "0777");
	R("truncate", "d", "0");
	SET("mkfifo", "fifo", "0666");
	R("truncate", "fifo", "0");
	SET("symlink", "f", "sl");
	R("truncate", "sl", "3");
	ST("f");
	SET("chown", "f", "65534", "65534");
	SET("chmod", "f", "0644");
	U(&U1, "truncate", "f", "1");
	U(&U2, "truncate", "f", "1");
	SET("chmod", "f", "0606");
	U(&U2, "truncate", "f", "2");
	U(&U1, "truncate", "f", "2");
	SET("chmod", "f", "0466");
	U(&U1, "truncate", "f", "2");
	U(&U1G, "truncate", "f", "3");
	ST("f");
	R("truncate", "f", "4");
	SET("chmod", "f", "0000");
	R("truncate", "f", "5");
	ST("f");
	R("dino", ".");
}

static void g_unlink(void)
{
	path_error_setup();
	path_errors("unlink", A(NULL));
	SET("mkdir", "d", "0777");
	char p[32];
	for (size_t i = 0; i < NTYPES; i++) {
		snprintf(p, sizeof(p), "d/u_%s", types[i]);
		make_obj(types[i], p);
		if (strcmp(types[i], "dir"))
			SET("link", p, "keep");
		T(&ROOT, A(p, "d", "keep"), "unlink", p);
		if (strcmp(types[i], "dir"))
			ST("keep");
		R("lstat", p);
		rm_obj("keep");
		rm_obj(p);
	}
	SET("create", "target", "0644");
	SET("symlink", "target", "sl");
	R("unlink", "sl");
	ST("target");
	R("unlink", "d/");
	R("unlink", "target/");
	/* permissions and the sticky bit */
	SET("mkdir", "ro", "0755");
	SET("create", "ro/x", "0666");
	U(&U1, "unlink", "ro/x");
	SET("chmod", "ro", "0773");
	U(&U1, "unlink", "ro/x");
	SET("chmod", "ro", "0757");
	U(&U1, "unlink", "ro/x");
	SET("mkdir", "st", "01777");
	U(&U1, "create", "st/u1", "0666");
	SET("create", "st/root", "0666");
	U(&U2, "unlink", "st/u1");
	U(&U1, "unlink", "st/root");
	SET("chown", "st/root", "65533", "0");
	U(&U2, "unlink", "st/root");
	U(&U1, "unlink", "st/u1");
	SET("chown", "st", "65533", "0");
	SET("create", "st/r2", "0666");
	U(&U2, "unlink", "st/r2");
	ST("st");
	/* an unlinked open file */
	SET("create", "open", "0644");
	R("unlink_open", "open");
	R("dino", ".");
}

static void g_utimensat(void)
{
	path_error_setup();
	path_errors("utimensat", A("0", "0", "0", "0"));
	SET("create", "f", "0644");
	SET("mkdir", "d", "0755");
	SET("symlink", "f", "sl");
	const char *objs[] = {"f", "d", "sl"};
	for (int i = 0; i < 3; i++) {
		const char *o = objs[i];
		T(&ROOT, A(o), "utimensat", o, "1900000000", "123456789", "1800000000", "987654321");
		R("times", o);
		R("times", "f");
		T(&ROOT, A(o), "utimensat", o, "0", "OMIT", "0", "OMIT");
		R("times", o);
		T(&ROOT, A(o), "utimensat", o, "0", "OMIT", "1700000000", "0");
		R("times", o);
		T(&ROOT, A(o), "utimensat", o, "1700000001", "5", "0", "OMIT");
		R("times", o);
		T(&ROOT, A(o), "utimensat", o, "0", "NOW", "0", "NOW");
		R("recent", o);
		T(&ROOT, A(o), "utimensat", o, "-1", "0", "-100", "0");
		R("times", o);
		T(&ROOT, A(o), "utimensat", o, "0", "1000000000", "0", "0");
		T(&ROOT, A(o), "utimensat", o, "0", "-1", "0", "0");
		T(&ROOT, A(o), "utimensat", o, "1600000000", "0", "1600000000", "0", "nofollow");
		R("times", o);
		R("times", "f");
		T(&ROOT, A(o), "utimensat_null", o);
		R("recent", o);
	}
	/* who may set what: the owner anything, a writer only "now", others nothing */
	SET("create", "u", "0644");
	SET("chown", "u", "65534", "65534");
	const char *modes[] = {"0644", "0666", "0444", "0600", "0662"};
	const struct who *users[] = {&U1, &U2};
	for (int m = 0; m < 5; m++) {
		SET("chmod", "u", modes[m]);
		for (int k = 0; k < 2; k++) {
			T(users[k], A("u"), "utimensat", "u", "1500000000", "0", "1500000000", "0");
			T(users[k], A("u"), "utimensat", "u", "0", "NOW", "0", "NOW");
			T(users[k], A("u"), "utimensat", "u", "0", "NOW", "0", "OMIT");
			T(users[k], A("u"), "utimensat", "u", "0", "OMIT", "0", "OMIT");
			T(users[k], A("u"), "utimensat", "u", "0", "OMIT", "1500000000", "0");
			T(users[k], A("u"), "utimensat_null", "u");
			T(users[k], A("u"), "futimens", "u", "0", "NOW", "0", "NOW");
		}
	}
	/* what the other calls do to the times of a file */
	SET("create", "g", "0644");
	T(&ROOT, A("g", "."), "write", "g", "x");
	T(&ROOT, A("g", "."), "chmod", "g", "0600");
	T(&ROOT, A("g", "."), "chown", "g", "1", "1");
	T(&ROOT, A("g", "."), "link", "g", "g2");
	T(&ROOT, A("g", "."), "rename", "g2", "g3");
	T(&ROOT, A("g", "."), "unlink", "g3");
	T(&ROOT, A("g", "."), "truncate", "g", "100");
	T(&ROOT, A("g", "."), "read", "g");
	T(&ROOT, A("g", "."), "open", "g", "O_RDONLY");
	R("dino", ".");
}

/* default_permissions on directories and files: each mode bit against
 * the owner, a group member and others, for the calls that need search,
 * read or write permission; and operations through a descriptor whose
 * name is gone or changed. */
static void g_perm(void)
{
	const char *dmodes[] = {"0700", "0500", "0300", "0100", "0070", "0050", "0030", "0007", "0005", "0003", "0001", "0000"};
	const struct who *users[] = {&U1, &U1G, &U2};
	char d[32], f[48], g[48];
	for (int m = 0; m < 12; m++) {
		snprintf(d, sizeof(d), "d%s", dmodes[m]);
		snprintf(f, sizeof(f), "%s/f", d);
		snprintf(g, sizeof(g), "%s/new", d);
		SET("mkdir", d, "0777");
		SET("create", f, "0666");
		SET("mkdir", "tmpd", "0777");
		SET("rename", "tmpd", g); /* a subdirectory, maybe in another tier */
		SET("rmdir", g);
		SET("chown", d, "65534", "65532");
		SET("chmod", d, dmodes[m]);
		for (int u = 0; u < 3; u++) {
			U(users[u], "opendir", d);
			U(users[u], "lstat", f);
			U(users[u], "access", d, "rwx");
			U(users[u], "create", g, "0644");
			U(users[u], "unlink", g);
			U(users[u], "mkdir", g, "0755");
			U(users[u], "rmdir", g);
			U(users[u], "rename", f, g);
			U(users[u], "rename", g, f);
			U(users[u], "chdir", d);
		}
	}
	const char *fmodes[] = {"0700", "0400", "0200", "0100", "0070", "0040", "0020", "0007", "0004", "0002"};
	SET("mkdir", "fd", "0777");
	for (int m = 0; m < 10; m++) {
		snprintf(f, sizeof(f), "fd/f%s", fmodes[m]);
		SET("create", f, "0644");
		SET("write", f, "abc");
		SET("chown", f, "65534", "65532");
		SET("chmod", f, fmodes[m]);
		for (int u = 0; u < 3; u++) {
			U(users[u], "read", f);
			U(users[u], "write", f, "x");
			U(users[u], "access", f, "r");
			U(users[u], "access", f, "w");
			U(users[u], "access", f, "x");
			U(users[u], "truncate", f, "1");
		}
	}
	/* a descriptor outlives its name or follows its renamed file */
	SET("create", "fdn", "0644");
	R("fd_ops", "fdn", "unlink");
	SET("create", "fdr", "0644");
	R("fd_ops", "fdr", "rename");
	ST("fdr2");
	R("times", "fdr2");
	R("dino", ".");
}

/* Extended attributes (user.*): flags, sizes, absent names, who may set
 * them on what, and ctime. */
static void g_xattr(void)
{
	char p[32];
	for (size_t i = 0; i < NTYPES; i++) {
		snprintf(p, sizeof(p), "o_%s", types[i]);
		make_obj(types[i], p);
		T(&ROOT, A(p), "setxattr", p, "user.a", "one");
		R("getxattr", p, "user.a");
	}
	SET("create", "f", "0644");
	T(&ROOT, A("f"), "setxattr", "f", "user.k", "v1");
	R("setxattr", "f", "user.k", "v2", "create");
	T(&ROOT, A("f"), "setxattr", "f", "user.k", "v3", "replace");
	R("setxattr", "f", "user.none", "v", "replace");
	R("getxattr", "f", "user.k");
	R("getxattr", "f", "user.k", "0");
	R("getxattr", "f", "user.k", "1");
	R("getxattr", "f", "user.none");
	R("setxattr", "f", "user.empty", "");
	R("getxattr", "f", "user.empty");
	R("listxattr", "f");
	T(&ROOT, A("f"), "removexattr", "f", "user.k");
	R("removexattr", "f", "user.k");
	R("listxattr", "f");
	R("setxattr", "f", "bogus.name", "v");
	R("setxattr", "f", "user.", "v");
	R("getxattr", "none", "user.k");
	/* user.* needs write permission on the file */
	SET("chown", "f", "65534", "65534");
	const char *modes[] = {"0644", "0666", "0444", "0604"};
	const struct who *users[] = {&U1, &U2};
	for (int m = 0; m < 4; m++) {
		SET("chmod", "f", modes[m]);
		for (int u = 0; u < 2; u++) {
			U(users[u], "setxattr", "f", "user.u", "x");
			U(users[u], "getxattr", "f", "user.u");
			U(users[u], "removexattr", "f", "user.u");
		}
	}
	/* and on a sticky directory only the owner */
	SET("mkdir", "st", "01777");
	U(&U2, "setxattr", "st", "user.s", "x");
	SET("chown", "st", "65533", "0");
	U(&U2, "setxattr", "st", "user.s", "x");
	U(&U1, "getxattr", "st", "user.s");
	/* a file keeps its xattrs through a rename into another directory */
	SET("mkdir", "d", "0755");
	SET("setxattr", "f", "user.keep", "yes");
	R("rename", "f", "d/f");
	R("getxattr", "d/f", "user.keep");
}

/* The seeded tree (see posix_check.sh): DIR/pre with entries the driver
 * put in several tiers. */
static void g_union(void)
{
	if (chdir("pre") < 0) {
		printf("union:setup chdir pre => %s\n", strerrorname_np(errno));
		return;
	}
	ST(".");
	R("ls", ".");
	R("dino", ".");
	R("dino", "s1");
	ST("s1");
	ST("s2");
	ST("s3");
	R("read", "a");
	R("read", "b");
	R("read", "c");
	R("read", "s1/x");
	R("rmdir", "s1");
	/* files moved between tiers keep their inode (stat and readdir),
	 * owner, mode, times and data */
	SET("chown", "a", "65534", "65533");
	SET("chmod", "a", "04751");
	SET("utimensat", "a", "1400000000", "7", "1300000000", "9");
	SET("link", "s1/x", "s1/x2");
	T(&ROOT, A("a", "."), "pin", "a", "pfs");
	ST("a");
	R("times", "a");
	T(&ROOT, A("s1/x", "s1/x2", "s1"), "pin", "s1/x", "mem");
	ST("s1/x");
	R("sameino", "s1/x", "s1/x2");
	SET("unlink", "s1/x2");
	T(&ROOT, A("s1/x", "s1"), "pin", "s1/x", "mem");
	ST("s1/x");
	ST("..");
	R("dino", "..");
	R("dino", ".");
	R("dino", "s1");
	R("read", "s1/x");
	T(&ROOT, A(".", "s1"), "rmdir", "s3");
	ST(".");
	T(&ROOT, A(".", "s1"), "create", "s1/new", "0644");
	T(&ROOT, A(".", "s1"), "unlink", "s1/x");
	ST("s1");
	T(&ROOT, A(".", "s2"), "mkdir", "s2/n", "0755");
	ST("s2");
	T(&ROOT, A(".", "s2"), "rename", "b", "s2/b");
	T(&ROOT, A(".", "s1", "s2"), "rename", "s2/b", "s1/b");
	T(&ROOT, A(".", "s1", "s2"), "rename", "s2/n", "s1/n");
	ST("s1");
	ST("s2");
	R("dino", "s1");
	R("ls", "s1");
	T(&ROOT, A("s1"), "chmod", "s1", "0700");
	U(&U1, "lstat", "s1/b");
	U(&U1, "ls", "s1");
	T(&ROOT, A("s1"), "chown", "s1", "65534", "65534");
	U(&U1, "lstat", "s1/b");
	U(&U1, "create", "s1/ufile", "0600");
	U(&U1, "mkdir", "s1/n/udir", "0700");
	ST("s1/n/udir");
	T(&ROOT, A("s1"), "utimensat", "s1", "1500000000", "0", "1500000000", "0");
	R("times", "s1");
	R("rename", "s2", "s1");
	R("rename", "s1", "s2");
	ST("s2");
	R("ls", "s2");
	R("rename", "s2", "s3");
	R("rename", "c", "s3/c");
	R("rename", "a", "s3/c");
	R("read", "s3/c");
	R("rename2", "s3", "s1", "exchange");
	R("ls", "s1");
	R("ls", "s3");
	R("dino", ".");
	R("dino", "s3");
}

/* A tree more than three PATH_MAX deep from DIR (each call's own path
 * argument stays short: every level of 16 names of 200 characters is
 * entered with chdir), a file at its bottom moved between tiers (the
 * "pin" of the union group; the driver checks where it ended up), the
 * usual calls on it, and a deep directory renamed. */
/* 16 directories of 200 characters, one in the other, made below the
 * current directory; chain is their path (3215 characters). */
static void make_chain(char *chain)
{
	char *p = chain;
	for (int i = 0; i < 16; i++) {
		if (i)
			*p++ = '/';
		memset(p, 'a' + i, 200);
		p += 200;
		*p = '\0';
		SET("mkdir", chain, "0755");
	}
}

static void g_deep(void)
{
	char chain[16 * 201], name[3][201];
	for (int level = 0; level < 4; level++) {
		make_chain(chain);
		R("chdir", chain);
	}
	for (int i = 0; i < 3; i++) { /* the names of the last three levels: n, o, p */
		memcpy(name[i], chain + (13 + i) * 201, 200);
		name[i][200] = '\0';
	}
	T(&ROOT, A("."), "create", "f", "0644");
	R("write", "f", "deep data");
	T(&ROOT, A("f", "."), "pin", "f", "pfs");
	ST("f");
	R("read", "f");
	T(&ROOT, A("f", "."), "pin", "f", "mem");
	R("read", "f");
	T(&ROOT, A("f", "."), "chmod", "f", "0640");
	T(&ROOT, A("f"), "chown", "f", "65534", "65533");
	T(&ROOT, A("f"), "truncate", "f", "4");
	R("utimensat", "f", "1400000000", "7", "1300000000", "9");
	R("times", "f");
	R("setxattr", "f", "user.k", "v");
	R("getxattr", "f", "user.k");
	T(&ROOT, A("f", "."), "link", "f", "h");
	R("sameino", "f", "h");
	T(&ROOT, A("."), "symlink", "f", "s");
	R("readlink", "s");
	T(&ROOT, A("."), "mkfifo", "p", "0600");
	T(&ROOT, A("."), "mkdir", "d", "0750");
	T(&ROOT, A(".", "d"), "rename", "h", "d/h");
	R("ls", ".");
	R("dino", ".");
	R("access", "f", "r");
	T(&ROOT, A(".", "d"), "unlink", "d/h");
	T(&ROOT, A("."), "rmdir", "d");
	T(&ROOT, A("."), "unlink", "p");
	T(&ROOT, A("."), "rename", "f", "moved");
	T(&ROOT, A("moved", "."), "pin", "moved", "pfs");
	R("read", "moved");
	/* a deep directory renamed: everything below it changes its
	 * backing path */
	R("chdir", "../../..");
	T(&ROOT, A("."), "rename", name[0], "renamed");
	R("ls", ".");
	char down[2 * 201 + 10];
	snprintf(down, sizeof(down), "renamed/%s/%s", name[1], name[2]);
	R("chdir", down);
	R("read", "moved");
	ST("moved");
}

static const struct {
	const char *name;
	void (*fn)(void);
} groups[] = {{"chmod", g_chmod},   {"chown", g_chown},	    {"link", g_link},	    {"mkdir", g_mkdir},
	      {"mkfifo", g_mkfifo}, {"open", g_open},	    {"rename", g_rename},   {"rmdir", g_rmdir},
	      {"symlink", g_symlink}, {"truncate", g_truncate}, {"unlink", g_unlink}, {"utimensat", g_utimensat},
	      {"perm", g_perm},	    {"xattr", g_xattr},	    {"union", g_union},
	      {"deep", g_deep}};

int main(int argc, char **argv)
{
	const char *only = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "g:r")) != -1) {
		if (opt == 'g') {
			only = optarg;
		} else if (opt == 'r') {
			root_only = 1;
		} else {
			fprintf(stderr, "usage: posixcheck [-r] [-g GROUP] DIR\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: posixcheck [-r] [-g GROUP] DIR\n");
		return 2;
	}
	if (geteuid() != 0 && !root_only) {
		fprintf(stderr, "posixcheck: must run as root (it switches to uids 65533, 65534), or with -r\n");
		return 2;
	}
	const char *dir = argv[optind];
	setvbuf(stdout, NULL, _IOLBF, 0);
	umask(0);
	int found = 0;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (only && strcmp(only, groups[i].name))
			continue;
		found = 1;
		group = groups[i].name;
		nrec = nsetup = 0;
		setup_failed = 0;
		char gdir[PATH_MAX];
		snprintf(gdir, sizeof(gdir), "%s/%s", dir, group);
		if (chdir(dir) < 0 || (strcmp(group, "union") && (mkdir(group, 0755) < 0 || chdir(group) < 0))) {
			fprintf(stderr, "posixcheck: cannot make %s: %s\n", gdir, strerror(errno));
			return 1;
		}
		groups[i].fn();
		fflush(stdout);
	}
	if (!found) {
		fprintf(stderr, "posixcheck: no group %s\n", only);
		return 2;
	}
	return 0;
}
