/*
 * test_longpath.c - longpath.h on plain directories: every wrapper works on
 * a path three PATH_MAX long (the kernel alone refuses it), the result is
 * where an independent component-by-component walk finds it, a symlink in
 * the prefix of a long path is refused (it could lead out of the tier), and
 * a component longer than PATH_MAX is ENAMETOOLONG.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "longpath.h"
#include "../common/testtmp.h"

static char root[64];
static int rootfd = -1;
static char deep[3 * PATH_MAX + 512]; /* "d/<200 x a>/<200 x b>/..." */

/* Directories of 200 characters below "d" until deep is at least len long,
 * each made through tfs_mkdirat on the whole path so far. */
static void make_deep(size_t len)
{
	cr_assert_eq(tfs_mkdirat(rootfd, "d", 0755), 0);
	strcpy(deep, "d");
	for (int i = 0; strlen(deep) < len; i++) {
		size_t l = strlen(deep);
		deep[l] = '/';
		memset(deep + l + 1, 'a' + i % 26, 200);
		deep[l + 201] = '\0';
		cr_assert_eq(tfs_mkdirat(rootfd, deep, 0755), 0, "mkdir at %zu: %s", l + 201, strerror(errno));
	}
}

/* fd of the directory deep names, reached one component at a time. */
static int walk(const char *path)
{
	char copy[sizeof(deep)];
	snprintf(copy, sizeof(copy), "%s", path);
	int fd = dup(rootfd);
	for (char *save, *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int sub = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW);
		close(fd);
		if (sub < 0)
			return -1;
		fd = sub;
	}
	return fd;
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/tierfs-lp-XXXXXX");
	cr_assert_not_null(testtmp_make(root));
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(rootfd, 0);
}

static void teardown(void)
{
	close(rootfd);
}

TestSuite(longpath, .init = setup, .fini = teardown);

Test(longpath, every_call_on_a_path_three_path_max_long)
{
	make_deep(3 * PATH_MAX);
	cr_assert_eq(openat(rootfd, deep, O_PATH), -1, "the kernel alone refuses it");
	cr_assert_eq(errno, ENAMETOOLONG);
	char f[sizeof(deep) + 16], g[sizeof(deep) + 16], s[sizeof(deep) + 16];
	snprintf(f, sizeof(f), "%s/f", deep);
	snprintf(g, sizeof(g), "%s/g", deep);
	snprintf(s, sizeof(s), "%s/s", deep);
	int fd = tfs_openat(rootfd, f, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0, "%s", strerror(errno));
	cr_assert_eq(write(fd, "deep", 4), 4);
	close(fd);
	struct stat st;
	cr_assert_eq(tfs_fstatat(rootfd, f, &st, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert_eq(st.st_size, 4);
	cr_assert_eq(tfs_fchmodat(rootfd, f, 0640, 0), 0);
	cr_assert_eq(tfs_fchownat(rootfd, f, getuid(), getgid(), AT_SYMLINK_NOFOLLOW), 0);
	struct timespec ts[2] = {{1400000000, 7}, {1300000000, 9}};
	cr_assert_eq(tfs_utimensat(rootfd, f, ts, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert_eq(tfs_faccessat(rootfd, f, R_OK, AT_EACCESS), 0);
	cr_assert_eq(tfs_linkat(rootfd, f, rootfd, g, 0), 0);
	cr_assert_eq(tfs_symlinkat("f", rootfd, s), 0);
	char buf[16] = {0};
	cr_assert_eq(tfs_readlinkat(rootfd, s, buf, sizeof(buf)), 1);
	cr_assert_str_eq(buf, "f");
	struct tfs_proc p;
	cr_assert_eq(tfs_proc_path(rootfd, f, &p), 0);
	cr_assert_lt(strlen(p.path), PATH_MAX);
	int xrc = lsetxattr(p.path, "user.k", "v", 1, 0);
	tfs_proc_done(&p);
	cr_assert(xrc == 0 || errno == ENOTSUP, "%s", strerror(errno));
	cr_assert_eq(tfs_unlinkat(rootfd, g, 0), 0);
	cr_assert_eq(tfs_renameat2(rootfd, f, rootfd, g, RENAME_NOREPLACE), 0);

	/* an independent walk finds what the calls made, and nothing else */
	int dfd = walk(deep);
	cr_assert_geq(dfd, 0);
	cr_assert_eq(fstatat(dfd, "g", &st, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert_eq(st.st_mode & 07777, 0640);
	cr_assert_eq(st.st_mtim.tv_sec, 1300000000);
	cr_assert_eq(st.st_nlink, 1);
	cr_assert_eq(fstatat(dfd, "f", &st, AT_SYMLINK_NOFOLLOW), -1);
	cr_assert_eq(fstatat(dfd, "s", &st, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert(S_ISLNK(st.st_mode));
	close(dfd);
	cr_assert_eq(tfs_unlinkat(rootfd, s, 0), 0);
	cr_assert_eq(tfs_unlinkat(rootfd, g, 0), 0);
	cr_assert_eq(tfs_unlinkat(rootfd, deep, AT_REMOVEDIR), 0);
	cr_assert_eq(tfs_fstatat(rootfd, deep, &st, 0), -1);
	cr_assert_eq(errno, ENOENT);
}

Test(longpath, a_symlink_in_the_prefix_is_not_followed)
{
	make_deep(PATH_MAX + 300);
	/* replace a middle component by a symlink to a directory outside */
	char out[64] = "/tmp/tierfs-lp-out-XXXXXX";
	cr_assert_not_null(testtmp_make(out));
	char *mid = strchr(deep + 2, '/'); /* the second component ends here */
	*mid = '\0';
	char moved[sizeof(deep) + 8];
	snprintf(moved, sizeof(moved), "%s.real", deep);
	cr_assert_eq(tfs_renameat2(rootfd, deep, rootfd, moved, 0), 0);
	cr_assert_eq(tfs_symlinkat(out, rootfd, deep), 0);
	*mid = '/';
	char f[sizeof(deep) + 16];
	snprintf(f, sizeof(f), "%s/f", deep);
	cr_assert_eq(tfs_openat(rootfd, f, O_WRONLY | O_CREAT, 0600), -1);
	cr_assert(errno == ELOOP || errno == ENOTDIR || errno == EXDEV, "%s", strerror(errno));
	struct stat st;
	cr_assert_eq(tfs_fstatat(rootfd, f, &st, 0), -1);
	cr_assert_eq(tfs_mkdirat(rootfd, f, 0755), -1);
	cr_assert_eq(rmdir(out), 0, "nothing was made outside");
}

Test(longpath, a_component_longer_than_path_max_is_enametoolong)
{
	char name[PATH_MAX + 100];
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	struct stat st;
	cr_assert_eq(tfs_fstatat(rootfd, name, &st, 0), -1);
	cr_assert_eq(errno, ENAMETOOLONG);
	struct tfs_at at;
	cr_assert_eq(tfs_at_split(rootfd, name, PATH_MAX, &at), -ENAMETOOLONG);
	/* a short path is not split: the root fd and the path itself */
	cr_assert_eq(tfs_at_split(rootfd, "a/b", PATH_MAX, &at), 0);
	cr_assert_eq(at.fd, rootfd);
	cr_assert_str_eq(at.rest, "a/b");
	tfs_at_done(&at);
}
