/*
 * test_mount.c - tierfs mounted for real over tmpfs and disk directories:
 * every namespace and file operation, the errno cases, the tier view from
 * the backing directories, the spill, stable inos, concurrent I/O.
 * Skips (exit 77) only where /dev/fuse is missing.
 */
#define _GNU_SOURCE
#include "mountlib.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static void setup(void)
{
	cr_assert_eq(mnt_start(NULL, NULL, NULL, NULL), 0, "tierfs did not mount");
}

static void setup_small(void)
{
	/* a 4 MiB memory tier and a 16 MiB ssd tier, to force the spill */
	cr_assert_eq(mnt_start(NULL, "4M", "16M", NULL), 0, "tierfs did not mount");
}

static void teardown(void)
{
	int pid = M.pid;
	int status = mnt_stop();
	if (pid > 0)
		cr_assert_eq(status, 0, "tierfs exited with status %d (crash or sanitizer report)", status);
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

TestSuite(mount, .init = setup, .fini = teardown, .timeout = 60);
TestSuite(spill, .init = setup_small, .fini = teardown, .timeout = 120);
TestSuite(mount_other, .fini = teardown, .timeout = 60);

Test(mount, create_write_read_lands_on_first_tier)
{
	cr_assert_eq(write_file(mp("hello"), "hello tierfs\n", 13), 0);
	char buf[64];
	cr_assert_eq(read_file(mp("hello"), buf, sizeof(buf)), 13);
	cr_assert_str_eq(buf, "hello tierfs\n");
	cr_assert_str_eq(tier_of("hello"), "mem");
	cr_assert(exists(tp(M.mem, "hello")));
	cr_assert(!exists(tp(M.ssd, "hello")) && !exists(tp(M.pfs, "hello")));
}

/* How many entries named name a listing of dir shows (-1: cannot list). */
static int listed(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		n += !strcmp(de->d_name, name);
	closedir(d);
	return n;
}

Test(mount, cached_listings_follow_changes_made_through_the_mount)
{
	/* The kernel answers repeated listings from its cache: every change
	 * through the mount must still show in the next one. */
	cr_assert_eq(mkdir(mp("ls"), 0755), 0);
	cr_assert_eq(write_file(mp("ls/a"), "A", 1), 0);
	cr_assert_eq(listed(mp("ls"), "a"), 1);
	cr_assert_eq(listed(mp("ls"), "a"), 1, "a cached listing lost an entry");
	cr_assert_eq(write_file(mp("ls/b"), "B", 1), 0);
	cr_assert_eq(listed(mp("ls"), "b"), 1, "a file created through the mount is missing from the listing");
	cr_assert_eq(rename(mp("ls/b"), mp("ls/c")), 0);
	cr_assert_eq(listed(mp("ls"), "b"), 0, "a renamed file is still listed under its old name");
	cr_assert_eq(listed(mp("ls"), "c"), 1);
	cr_assert_eq(unlink(mp("ls/a")), 0);
	cr_assert_eq(listed(mp("ls"), "a"), 0, "an unlinked file is still listed");
	cr_assert_eq(mkdir(mp("ls/sub"), 0755), 0);
	cr_assert_eq(listed(mp("ls"), "sub"), 1);
	cr_assert_eq(rmdir(mp("ls/sub")), 0);
	cr_assert_eq(listed(mp("ls"), "sub"), 0, "a removed directory is still listed");
}

Test(mount, placement_by_named_tier_and_union_readdir)
{
	/* files already in lower tiers show through the mount, once */
	cr_assert_eq(mkdir(tp(M.ssd, "d"), 0755), 0);
	cr_assert_eq(mkdir(tp(M.pfs, "d"), 0755), 0);
	cr_assert_eq(write_file(tp(M.ssd, "d/a"), "A", 1), 0);
	cr_assert_eq(write_file(tp(M.pfs, "d/b"), "B", 1), 0);
	cr_assert_eq(write_file(tp(M.pfs, "d/a"), "stale", 5), 0); /* shadowed */
	cr_assert_eq(write_file(mp("d/c"), "C", 1), 0);
	DIR *d = opendir(mp("d"));
	cr_assert_not_null(d);
	int a = 0, b = 0, c = 0, other = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, "a"))
			a++;
		else if (!strcmp(de->d_name, "b"))
			b++;
		else if (!strcmp(de->d_name, "c"))
			c++;
		else if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			other++;
	}
	closedir(d);
	cr_assert_eq(a, 1);
	cr_assert_eq(b, 1);
	cr_assert_eq(c, 1);
	cr_assert_eq(other, 0);
	char buf[16];
	read_file(mp("d/a"), buf, sizeof(buf));
	cr_assert_str_eq(buf, "A", "the first tier wins a duplicate name");
	cr_assert_str_eq(tier_of("d/a"), "ssd");
	cr_assert_str_eq(tier_of("d/b"), "pfs");
	cr_assert_str_eq(tier_of("d/c"), "mem");
	/* the new file's parent was cloned into mem with the same mode */
	struct stat st;
	cr_assert_eq(stat(tp(M.mem, "d"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0755);
}

Test(mount, open_flags_excl_trunc_append)
{
	int fd = open(mp("f"), O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "12345", 5), 5);
	close(fd);
	errno = 0;
	cr_assert_eq(open(mp("f"), O_WRONLY | O_CREAT | O_EXCL, 0600), -1);
	cr_assert_eq(errno, EEXIST);
	fd = open(mp("f"), O_WRONLY | O_APPEND);
	cr_assert_eq(write(fd, "67", 2), 2);
	close(fd);
	char buf[32];
	cr_assert_eq(read_file(mp("f"), buf, sizeof(buf)), 7);
	cr_assert_str_eq(buf, "1234567");
	fd = open(mp("f"), O_WRONLY | O_TRUNC);
	close(fd);
	struct stat st;
	cr_assert_eq(stat(mp("f"), &st), 0);
	cr_assert_eq(st.st_size, 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	errno = 0;
	cr_assert_eq(open(mp("missing"), O_RDONLY), -1);
	cr_assert_eq(errno, ENOENT);
	/* O_EXCL sees a file that exists only in a lower tier */
	cr_assert_eq(write_file(tp(M.pfs, "low"), "x", 1), 0);
	errno = 0;
	cr_assert_eq(open(mp("low"), O_WRONLY | O_CREAT | O_EXCL, 0600), -1);
	cr_assert_eq(errno, EEXIST);
}

Test(mount, setattr_chmod_chown_truncate_utimens)
{
	cr_assert_eq(write_file(mp("f"), "0123456789", 10), 0);
	cr_assert_eq(chmod(mp("f"), 04751), 0);
	struct stat st;
	cr_assert_eq(stat(mp("f"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 04751);
	cr_assert_eq(chown(mp("f"), 1234, 5678), 0);
	cr_assert_eq(stat(mp("f"), &st), 0);
	cr_assert_eq(st.st_uid, 1234);
	cr_assert_eq(st.st_gid, 5678);
	cr_assert_eq(truncate(mp("f"), 4), 0);
	cr_assert_eq(stat(mp("f"), &st), 0);
	cr_assert_eq(st.st_size, 4);
	cr_assert_eq(truncate(mp("f"), 1 << 20), 0);
	cr_assert_eq(stat(mp("f"), &st), 0);
	cr_assert_eq(st.st_size, 1 << 20);
	struct timespec ts[2] = {{1000000, 5}, {2000000, 7}};
	cr_assert_eq(utimensat(AT_FDCWD, mp("f"), ts, 0), 0);
	cr_assert_eq(stat(mp("f"), &st), 0);
	cr_assert_eq(st.st_atim.tv_sec, 1000000);
	cr_assert_eq(st.st_mtim.tv_sec, 2000000);
	cr_assert_eq(st.st_mtim.tv_nsec, 7);
	/* the backing file really changed */
	cr_assert_eq(stat(tp(M.mem, "f"), &st), 0);
	cr_assert_eq(st.st_uid, 1234);
	cr_assert_eq(st.st_size, 1 << 20);
	/* ftruncate on an open file */
	int fd = open(mp("f"), O_RDWR);
	cr_assert_eq(ftruncate(fd, 3), 0);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(st.st_size, 3);
	close(fd);
}

Test(mount, directories_mkdir_rmdir_errors)
{
	cr_assert_eq(mkdir(mp("a"), 0750), 0);
	errno = 0;
	cr_assert_eq(mkdir(mp("a"), 0750), -1);
	cr_assert_eq(errno, EEXIST);
	cr_assert_eq(mkdir(mp("a/b"), 0700), 0);
	errno = 0;
	cr_assert_eq(rmdir(mp("a")), -1);
	cr_assert_eq(errno, ENOTEMPTY);
	cr_assert_eq(write_file(mp("a/b/f"), "x", 1), 0);
	errno = 0;
	cr_assert_eq(rmdir(mp("a/b/f")), -1);
	cr_assert_eq(errno, ENOTDIR);
	errno = 0;
	cr_assert_eq(unlink(mp("a/b")), -1);
	cr_assert_eq(errno, EISDIR);
	errno = 0;
	cr_assert_eq(mkdir(mp("nope/x"), 0755), -1);
	cr_assert_eq(errno, ENOENT);
	cr_assert_eq(unlink(mp("a/b/f")), 0);
	cr_assert_eq(rmdir(mp("a/b")), 0);
	cr_assert_eq(rmdir(mp("a")), 0);
	cr_assert(!exists(mp("a")));
	/* a directory with copies in several tiers: empty only if all are */
	cr_assert_eq(mkdir(tp(M.ssd, "u"), 0755), 0);
	cr_assert_eq(mkdir(tp(M.pfs, "u"), 0755), 0);
	cr_assert_eq(write_file(tp(M.pfs, "u/x"), "x", 1), 0);
	errno = 0;
	cr_assert_eq(rmdir(mp("u")), -1);
	cr_assert_eq(errno, ENOTEMPTY);
	cr_assert(exists(tp(M.ssd, "u")), "a failed rmdir removed nothing");
	cr_assert_eq(unlink(mp("u/x")), 0);
	cr_assert_eq(rmdir(mp("u")), 0);
	cr_assert(!exists(tp(M.ssd, "u")) && !exists(tp(M.pfs, "u")));
}

Test(mount, symlink_readlink_link_mknod_fifo)
{
	cr_assert_eq(symlink("target/of/link", mp("sl")), 0);
	char buf[256];
	ssize_t n = readlink(mp("sl"), buf, sizeof(buf));
	cr_assert_eq(n, 14);
	buf[n] = '\0';
	cr_assert_str_eq(buf, "target/of/link");
	struct stat st;
	cr_assert_eq(lstat(mp("sl"), &st), 0);
	cr_assert(S_ISLNK(st.st_mode));

	cr_assert_eq(write_file(mp("orig"), "data", 4), 0);
	cr_assert_eq(link(mp("orig"), mp("hard")), 0);
	struct stat a, b;
	cr_assert_eq(stat(mp("orig"), &a), 0);
	cr_assert_eq(stat(mp("hard"), &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino);
	cr_assert_eq(a.st_nlink, 2);
	errno = 0;
	cr_assert_eq(link(mp("orig"), mp("sl")), -1);
	cr_assert_eq(errno, EEXIST);
	cr_assert_eq(unlink(mp("orig")), 0);
	cr_assert_eq(stat(mp("hard"), &b), 0);
	cr_assert_eq(b.st_nlink, 1);

	cr_assert_eq(mkfifo(mp("fifo"), 0644), 0);
	cr_assert_eq(lstat(mp("fifo"), &st), 0);
	cr_assert(S_ISFIFO(st.st_mode));
	cr_assert_eq(mknod(mp("reg"), S_IFREG | 0600, 0), 0);
	cr_assert_eq(lstat(mp("reg"), &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(mknod(mp("sock"), S_IFSOCK | 0600, 0), 0);
	cr_assert_eq(mknod(mp("chr"), S_IFCHR | 0600, makedev(1, 3)), 0);
	cr_assert_eq(lstat(mp("chr"), &st), 0);
	cr_assert(S_ISCHR(st.st_mode));
	cr_assert_eq(st.st_rdev, makedev(1, 3));
}

Test(mount, rename_files_dirs_over_targets_and_flags)
{
	cr_assert_eq(write_file(mp("a"), "AAA", 3), 0);
	cr_assert_eq(write_file(mp("b"), "BB", 2), 0);
	cr_assert_eq(rename(mp("a"), mp("b")), 0);
	char buf[16];
	read_file(mp("b"), buf, sizeof(buf));
	cr_assert_str_eq(buf, "AAA");
	cr_assert(!exists(mp("a")));

	/* over a target that lives in another tier: the old one is gone */
	cr_assert_eq(write_file(tp(M.pfs, "t"), "old", 3), 0);
	cr_assert_eq(rename(mp("b"), mp("t")), 0);
	read_file(mp("t"), buf, sizeof(buf));
	cr_assert_str_eq(buf, "AAA");
	cr_assert(!exists(tp(M.pfs, "t")), "invariant 1: one copy");

	/* a directory present in several tiers moves as a whole */
	cr_assert_eq(mkdir(tp(M.ssd, "d"), 0755), 0);
	cr_assert_eq(write_file(tp(M.ssd, "d/s"), "s", 1), 0);
	cr_assert_eq(mkdir(mp("d/sub"), 0755), 0);
	cr_assert_eq(write_file(mp("d/sub/m"), "m", 1), 0);
	cr_assert_eq(rename(mp("d"), mp("e")), 0);
	cr_assert(exists(mp("e/s")) && exists(mp("e/sub/m")));
	cr_assert(!exists(tp(M.ssd, "d")) && !exists(tp(M.mem, "d")));

	/* errors */
	cr_assert_eq(mkdir(mp("full"), 0755), 0);
	cr_assert_eq(write_file(mp("full/x"), "x", 1), 0);
	cr_assert_eq(mkdir(mp("empty"), 0755), 0);
	errno = 0;
	cr_assert_eq(rename(mp("e"), mp("full")), -1);
	cr_assert_eq(errno, ENOTEMPTY);
	errno = 0;
	cr_assert_eq(rename(mp("t"), mp("empty")), -1);
	cr_assert_eq(errno, EISDIR);
	errno = 0;
	cr_assert_eq(rename(mp("e"), mp("t")), -1);
	cr_assert_eq(errno, ENOTDIR);
	errno = 0;
	cr_assert_eq(rename(mp("e"), mp("e/sub/inside")), -1);
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_eq(rename(mp("nothing"), mp("x")), -1);
	cr_assert_eq(errno, ENOENT);
	cr_assert_eq(rename(mp("e"), mp("empty")), 0, "a directory replaces an empty one");

	/* RENAME_NOREPLACE and RENAME_EXCHANGE, across tiers */
	cr_assert_eq(write_file(mp("x"), "X", 1), 0);
	cr_assert_eq(write_file(tp(M.pfs, "y"), "Y", 1), 0);
	errno = 0;
	cr_assert_eq(renameat2(AT_FDCWD, mp("x"), AT_FDCWD, mp("y"), RENAME_NOREPLACE), -1);
	cr_assert_eq(errno, EEXIST);
	cr_assert_eq(renameat2(AT_FDCWD, mp("x"), AT_FDCWD, mp("y"), RENAME_EXCHANGE), 0);
	read_file(mp("x"), buf, sizeof(buf));
	cr_assert_str_eq(buf, "Y");
	read_file(mp("y"), buf, sizeof(buf));
	cr_assert_str_eq(buf, "X");
	cr_assert_str_eq(tier_of("x"), "pfs");
	cr_assert_str_eq(tier_of("y"), "mem");
	errno = 0;
	cr_assert_eq(renameat2(AT_FDCWD, mp("x"), AT_FDCWD, mp("zz"), RENAME_EXCHANGE), -1);
	cr_assert_eq(errno, ENOENT);
	cr_assert_eq(renameat2(AT_FDCWD, mp("x"), AT_FDCWD, mp("zz"), RENAME_NOREPLACE), 0);
}

Test(mount, open_file_survives_rename_and_unlink)
{
	int fd = open(mp("f"), O_RDWR | O_CREAT, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "abc", 3), 3);
	cr_assert_eq(rename(mp("f"), mp("g")), 0);
	cr_assert_eq(write(fd, "def", 3), 3);
	cr_assert_eq(unlink(mp("g")), 0);
	char buf[8] = {0};
	cr_assert_eq(pread(fd, buf, 6, 0), 6);
	cr_assert_str_eq(buf, "abcdef");
	struct stat st;
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(st.st_size, 6);
	close(fd);
	cr_assert(!exists(mp("g")));
}

Test(mount, xattrs_user_and_tier)
{
	cr_assert_eq(write_file(mp("f"), "x", 1), 0);
	cr_assert_eq(setxattr(mp("f"), "user.color", "blue", 4, 0), 0);
	char buf[256];
	ssize_t n = getxattr(mp("f"), "user.color", buf, sizeof(buf));
	cr_assert_eq(n, 4);
	cr_assert_eq(memcmp(buf, "blue", 4), 0);
	errno = 0;
	cr_assert_eq(setxattr(mp("f"), "user.color", "red", 3, XATTR_CREATE), -1);
	cr_assert_eq(errno, EEXIST);
	n = listxattr(mp("f"), buf, sizeof(buf));
	cr_assert_gt(n, 0);
	int color = 0, tier = 0, ino = 0;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1) {
		color += !strcmp(buf + i, "user.color");
		tier += !strcmp(buf + i, "user.tierfs.tier");
		ino += !strncmp(buf + i, "user.tierfs.ino", 15);
	}
	cr_assert_eq(color, 1);
	cr_assert_eq(tier, 1);
	cr_assert_eq(ino, 0, "internal attributes stay hidden");
	cr_assert_eq(removexattr(mp("f"), "user.color"), 0);
	errno = 0;
	cr_assert_eq(getxattr(mp("f"), "user.color", buf, sizeof(buf)), -1);
	cr_assert_eq(errno, ENODATA);
	errno = 0;
	cr_assert_eq(setxattr(mp("f"), "user.tierfs.tier", "ssd", 3, 0), -1);
	cr_assert_eq(errno, EPERM);
	errno = 0;
	cr_assert_eq(getxattr(mp("f"), "user.tierfs.tier", buf, 1), -1);
	cr_assert_eq(errno, ERANGE);
}

Test(mount, statfs_is_the_union_of_capacities)
{
	struct statvfs sv;
	cr_assert_eq(statvfs(M.mnt, &sv), 0);
	uint64_t total = (uint64_t)sv.f_blocks * sv.f_frsize;
	/* 64M + 256M + 1G configured */
	cr_assert_eq(total, (64ULL + 256 + 1024) << 20);
	cr_assert_leq((uint64_t)sv.f_bavail * sv.f_frsize, total);
}

Test(mount, fallocate_lseek_copy_file_range_fsync)
{
	int fd = open(mp("f"), O_RDWR | O_CREAT, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fallocate(fd, 0, 0, 1 << 20), 0);
	struct stat st;
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(st.st_size, 1 << 20);
	cr_assert_eq(pwrite(fd, "data", 4, 3 << 20), 4);
	cr_assert_eq(fsync(fd), 0);
	cr_assert_eq(fdatasync(fd), 0);
	off_t data = lseek(fd, 1 << 20, SEEK_DATA);
	cr_assert_eq(data, 3 << 20, "SEEK_DATA skips the hole (got %lld)", (long long)data);
	int out = open(mp("g"), O_RDWR | O_CREAT, 0644);
	loff_t in_off = 3 << 20, out_off = 0;
	ssize_t n = copy_file_range(fd, &in_off, out, &out_off, 4, 0);
	cr_assert_eq(n, 4);
	char buf[8] = {0};
	cr_assert_eq(pread(out, buf, 4, 0), 4);
	cr_assert_str_eq(buf, "data");
	close(out);
	close(fd);
}

Test(mount, stable_ino_and_hostile_names)
{
	struct stat a, b;
	cr_assert_eq(write_file(mp("f"), "x", 1), 0);
	cr_assert_eq(stat(mp("f"), &a), 0);
	cr_assert_eq(stat(mp("f"), &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino);
	char name[300];
	memset(name, 'n', 255);
	name[255] = '\0';
	cr_assert_eq(write_file(mp(name), "x", 1), 0, "a 255-byte name works");
	memset(name, 'n', 256);
	name[256] = '\0';
	errno = 0;
	cr_assert_eq(open(mp(name), O_CREAT | O_WRONLY, 0644), -1);
	cr_assert_eq(errno, ENAMETOOLONG);
	/* names that look like paths stay inside the mount */
	cr_assert_eq(write_file(mp("..evil"), "x", 1), 0);
	cr_assert(exists(tp(M.mem, "..evil")));
	cr_assert_eq(write_file(mp("sp ace\ttab\nnl"), "x", 1), 0);
	errno = 0;
	cr_assert_eq(open(mp("../../etc/passwd-tierfs"), O_CREAT | O_WRONLY, 0644) >= 0 &&
			     exists(tp(M.mem, "../../etc/passwd-tierfs")),
		     0);
}

Test(mount_other, permissions_enforced_for_other_users)
{
	cr_assert_eq(mnt_start(NULL, NULL, NULL, "allow_other"), 0);
	cr_assert_eq(write_file(mp("private"), "secret", 6), 0);
	cr_assert_eq(chmod(mp("private"), 0600), 0);
	cr_assert_eq(mkdir(mp("sticky"), 01777), 0);
	cr_assert_eq(chmod(mp("sticky"), 01777), 0);
	cr_assert_eq(write_file(mp("sticky/rootfile"), "r", 1), 0);
	/* root's own write keeps the bit (CAP_FSETID) */
	cr_assert_eq(write_file(mp("rootsuid"), "r", 1), 0);
	cr_assert_eq(chmod(mp("rootsuid"), 04755), 0);
	int rfd = open(mp("rootsuid"), O_WRONLY);
	cr_assert_eq(write(rfd, "x", 1), 1);
	close(rfd);
	struct stat rst;
	cr_assert_eq(stat(mp("rootsuid"), &rst), 0);
	cr_assert(rst.st_mode & S_ISUID);
	pid_t p = fork();
	if (p == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(10);
		if (open(mp("private"), O_RDONLY) != -1 || errno != EACCES)
			_exit(11);
		if (open(mp("newfile"), O_CREAT | O_WRONLY, 0644) != -1 || errno != EACCES)
			_exit(12);
		if (write_file(mp("sticky/mine"), "m", 1) != 0)
			_exit(13);
		struct stat st;
		if (stat(mp("sticky/mine"), &st) || st.st_uid != 65534)
			_exit(14); /* created with the caller's uid */
		if (unlink(mp("sticky/rootfile")) != -1 || (errno != EPERM && errno != EACCES))
			_exit(15); /* sticky directory */
		if (chmod(mp("private"), 0777) != -1 || errno != EPERM)
			_exit(16);
		/* writing a setuid file one may write drops its setuid bit */
		if (write_file(mp("sticky/suid"), "s", 1) || chmod(mp("sticky/suid"), 04755))
			_exit(17);
		int fd = open(mp("sticky/suid"), O_WRONLY);
		if (fd < 0 || write(fd, "x", 1) != 1)
			_exit(18);
		close(fd);
		if (stat(mp("sticky/suid"), &st) || (st.st_mode & S_ISUID))
			_exit(19);
		/* a new file keeps the setgid bit its creator may set */
		fd = open(mp("sticky/sgid"), O_CREAT | O_WRONLY, 02755);
		if (fd < 0 || fstat(fd, &st) || (st.st_mode & 07777) != 02755 || st.st_gid != 65534)
			_exit(20);
		close(fd);
		_exit(0);
	}
	int st;
	waitpid(p, &st, 0);
	cr_assert(WIFEXITED(st));
	cr_assert_eq(WEXITSTATUS(st), 0, "check %d failed as uid 65534", WEXITSTATUS(st));
}

Test(mount_other, allow_other_lets_other_users_in)
{
	cr_assert_eq(mnt_start(NULL, NULL, NULL, "allow_other"), 0);
	cr_assert_eq(mkdir(mp("shared"), 0777), 0);
	cr_assert_eq(chmod(mp("shared"), 0777), 0);
	pid_t p = fork();
	if (p == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(10);
		if (write_file(mp("shared/theirs"), "t", 1) != 0)
			_exit(11);
		_exit(0);
	}
	int st;
	waitpid(p, &st, 0);
	cr_assert_eq(WEXITSTATUS(st), 0);
	struct stat s;
	cr_assert_eq(stat(tp(M.mem, "shared/theirs"), &s), 0);
	cr_assert_eq(s.st_uid, 65534, "backing file owned by the creating user");
}

Test(mount_other, passthrough_reads_are_exact_and_writes_still_accounted)
{
	cr_assert_eq(mnt_start("passthrough = true", NULL, NULL, NULL), 0);
	size_t len = 3 << 20;
	unsigned char *buf = malloc(len), *back = malloc(len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	cr_assert_eq(write_file(mp("p"), buf, len), 0);
	int fd = open(mp("p"), O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(read(fd, back, len), (ssize_t)len);
	cr_assert_eq(memcmp(buf, back, len), 0);
	cr_assert_eq(pread(fd, back, 100, 12345), 100);
	cr_assert_eq(memcmp(buf + 12345, back, 100), 0);
	/* a writer alongside the passthrough reader */
	int w = open(mp("p"), O_WRONLY);
	cr_assert_geq(w, 0, "open for writing beside a passthrough reader: %s", strerror(errno));
	cr_assert_eq(pwrite(w, "XYZ", 3, 0), 3);
	cr_assert_eq(pwrite(w, "tail", 4, len), 4, "a passthrough writer may grow the file");
	close(w);
	close(fd);
	char small[8];
	fd = open(mp("p"), O_RDONLY);
	cr_assert_eq(read(fd, small, 3), 3);
	cr_assert_eq(memcmp(small, "XYZ", 3), 0);
	close(fd);
	/* a reader beside an open writer is served by the daemon */
	w = open(mp("p"), O_RDWR);
	cr_assert_geq(w, 0);
	fd = open(mp("p"), O_RDONLY);
	cr_assert_geq(fd, 0, "read-only open beside a writer: %s", strerror(errno));
	cr_assert_eq(pread(fd, small, 4, len), 4);
	cr_assert_eq(memcmp(small, "tail", 4), 0);
	close(fd);
	close(w);
	struct stat st;
	cr_assert_eq(stat(mp("p"), &st), 0);
	cr_assert_eq(st.st_size, (off_t)len + 4);
	cr_assert_str_eq(tier_of("p"), "mem");
	free(buf);
	free(back);
}

/* The mount's options in /proc/self/mountinfo carry "max_read=" */
static int mount_has_max_read(const char *path, const char *value)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096], want[64];
	int found = 0;
	snprintf(want, sizeof(want), "max_read=%s", value);
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, path) && strstr(line, "fuse.tierfs") && strstr(line, want))
			found = 1;
	if (f)
		fclose(f);
	return found;
}

static int uring_enabled(void)
{
	char c = 'N';
	FILE *f = fopen("/sys/module/fuse/parameters/enable_uring", "r");
	if (f) {
		if (fread(&c, 1, 1, f) != 1)
			c = 'N';
		fclose(f);
	}
	return c == 'Y';
}

/* Large reads over /dev/fuse are spliced from the tier file in pieces of
 * 1020 KiB; sizes around those pieces, a READ that crosses the end of the
 * file (spliced short: sent the plain way), reads through a descriptor
 * open for writing (past the page cache, at odd offsets) all return what
 * was written. */
Test(mount_other, spliced_reads_return_the_data_at_every_boundary)
{
	cr_assert_eq(mnt_start(NULL, NULL, NULL, NULL), 0);
	cr_assert_eq(mount_has_max_read(M.mnt, "1044480"), !uring_enabled(),
		     "max_read=1044480 (spliced replies) exactly when requests come over /dev/fuse");
	static const size_t sizes[] = {131072, 200000, 1044480, 1044481, 1048576, (2u << 20) + 17};
	size_t cap = (2u << 20) + 17;
	unsigned char *buf = malloc(cap), *back = malloc(cap);
	for (size_t i = 0; i < cap; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 11);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		char name[32];
		snprintf(name, sizeof(name), "s%zu", sizes[k]);
		cr_assert_eq(write_file(mp(name), buf, sizes[k]), 0);
		int fd = open(mp(name), O_RDONLY);
		cr_assert_geq(fd, 0);
		size_t got = 0;
		ssize_t n;
		while ((n = read(fd, back + got, 1u << 20)) > 0)
			got += (size_t)n;
		cr_assert_eq(got, sizes[k], "%s: read %zu bytes", name, got);
		cr_assert_eq(memcmp(buf, back, sizes[k]), 0, "%s: data differs", name);
		close(fd);
		fd = open(mp(name), O_RDWR);
		cr_assert_geq(fd, 0);
		off_t at = (off_t)(sizes[k] / 3) | 1;
		n = pread(fd, back, sizes[k], at);
		cr_assert_eq(n, (ssize_t)sizes[k] - at, "%s: pread at %lld", name, (long long)at);
		cr_assert_eq(memcmp(buf + at, back, (size_t)n), 0, "%s: data at an odd offset differs", name);
		close(fd);
	}
	free(buf);
	free(back);
}

Test(mount_other, splice_reads_false_keeps_the_kernels_max_read)
{
	cr_assert_eq(mnt_start("splice_reads = false", NULL, NULL, NULL), 0);
	cr_assert_not(mount_has_max_read(M.mnt, ""), "splice_reads = false still lowered max_read");
	unsigned char buf[300000];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)i;
	cr_assert_eq(write_file(mp("f"), buf, sizeof(buf)), 0);
	unsigned char back[sizeof(buf)];
	int fd = open(mp("f"), O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(read(fd, back, sizeof(back)), (ssize_t)sizeof(back));
	cr_assert_eq(memcmp(buf, back, sizeof(buf)), 0);
	close(fd);
}

static int fuse_mounted(const char *path)
{
	FILE *f = fopen("/proc/mounts", "r");
	char line[4096];
	int found = 0;
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, path) && strstr(line, "fuse.tierfs"))
			found = 1;
	if (f)
		fclose(f);
	return found;
}

/* Wait up to 20 s (within the suite's timeout) for the daemon to leave;
 * if it does not, print where each of its threads sleeps and kill it.
 * Its exit status, or -1. */
static int daemon_exit_status(void)
{
	int st = 0;
	for (int i = 0; i < 2000; i++) {
		if (waitpid(M.pid, &st, WNOHANG) == M.pid) {
			M.pid = 0;
			return st;
		}
		usleep(10000);
	}
	char path[320], wchan[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)M.pid);
	DIR *d = opendir(path);
	for (struct dirent *de; d && (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/wchan", (int)M.pid, de->d_name);
		int n = read_file(path, wchan, sizeof(wchan));
		fprintf(stderr, "daemon thread %s sleeps in %s\n", de->d_name, n > 0 ? wchan : "?");
	}
	if (d)
		closedir(d);
	kill(M.pid, SIGKILL);
	waitpid(M.pid, NULL, 0);
	M.pid = 0;
	return -1;
}

Test(mount_other, sigterm_unmounts_cleanly)
{
	cr_assert_eq(mnt_start(NULL, NULL, NULL, NULL), 0);
	cr_assert_eq(write_file(mp("kept"), "kept", 4), 0);
	kill(M.pid, SIGTERM);
	int st = daemon_exit_status();
	cr_assert_neq(st, -1, "the daemon did not leave within 20 s of SIGTERM");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d", st);
	cr_assert(!fuse_mounted(M.mnt), "SIGTERM left the mount behind");
	char buf[8];
	cr_assert_eq(read_file(tp(M.mem, "kept"), buf, sizeof(buf)), 4);
}

/* The SIGTERM of kill(1) runs its handler on any thread that does not
 * block it: the main thread as a rule, but another (the control socket's,
 * OpenBLAS's own) when the main thread blocks it for a moment.  Sent to
 * each such thread in turn (tgkill), it still ends the session.  A
 * daemon whose main thread waited on a semaphore only the handler's own
 * thread could interrupt never left (CI, once). */
Test(mount_other, sigterm_handled_on_another_thread_unmounts, .timeout = 240)
{
	int sent = 0;
	for (int round = 0; round < 8; round++) {
		cr_assert_eq(mnt_start(NULL, NULL, NULL, NULL), 0);
		cr_assert_eq(write_file(mp("kept"), "kept", 4), 0);
		/* the round-th thread, other than the main one, that takes SIGTERM */
		char path[96], line[256];
		snprintf(path, sizeof(path), "/proc/%d/task", (int)M.pid);
		DIR *d = opendir(path);
		cr_assert_not_null(d);
		int target = 0, seen = 0;
		for (struct dirent *de; !target && (de = readdir(d));) {
			int tid = atoi(de->d_name);
			if (tid <= 0 || tid == M.pid)
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)M.pid, tid);
			FILE *f = fopen(path, "r");
			unsigned long long blocked = ~0ull;
			while (f && fgets(line, sizeof(line), f))
				if (sscanf(line, "SigBlk: %llx", &blocked) == 1)
					break;
			if (f)
				fclose(f);
			if (!(blocked & (1ull << (SIGTERM - 1))) && seen++ == round)
				target = tid;
		}
		closedir(d);
		if (!target) { /* no more of them */
			cr_assert_eq(mnt_stop(), 0);
			break;
		}
		char comm[32] = "?";
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)M.pid, target);
		if (read_file(path, comm, sizeof(comm)) > 0)
			comm[strcspn(comm, "\n")] = '\0';
		cr_assert_eq(syscall(SYS_tgkill, M.pid, target, SIGTERM), 0);
		sent++;
		int st = daemon_exit_status();
		cr_assert_neq(st, -1, "SIGTERM handled on thread %d (%s): the daemon did not leave within 20 s", target,
			      comm);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d", st);
		cr_assert(!fuse_mounted(M.mnt), "SIGTERM left the mount behind");
		(void)mnt_stop(); /* the directories */
	}
	cr_assert_gt(sent, 0, "no thread but the main one takes SIGTERM: the test tested nothing");
}

Test(mount_other, killed_daemon_loses_nothing_and_remounts)
{
	cr_assert_eq(mnt_start(NULL, NULL, NULL, NULL), 0);
	cr_assert_eq(mkdir(mp("d"), 0755), 0);
	cr_assert_eq(write_file(mp("d/f"), "precious", 8), 0);
	struct stat before;
	cr_assert_eq(stat(mp("d/f"), &before), 0);
	kill(M.pid, SIGKILL);
	waitpid(M.pid, NULL, 0);
	M.pid = 0;
	struct stat st;
	/* Over io_uring the kernel ends what reaches the dead daemon's rings
	 * with ECONNABORTED (or ECANCELED) until it has torn them down, a few
	 * milliseconds, in the background; then, as over /dev/fuse, ENOTCONN. */
	int last = 0;
	for (int i = 0; i < 200 && last != ENOTCONN; i++) {
		errno = 0;
		cr_assert_eq(open(mp("d/f"), O_RDONLY), -1, "a dead daemon's mount opened a file");
		last = errno;
		cr_assert(last == ENOTCONN || last == ECONNABORTED || last == ECANCELED,
			  "a dead daemon's mount says so: %s", strerror(last));
		if (last != ENOTCONN)
			usleep(10000);
	}
	cr_assert_eq(last, ENOTCONN, "a dead daemon's mount says so: %s", strerror(last));
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "fusermount3 -u %s", M.mnt);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(mnt_restart(), 0);
	char buf[16];
	cr_assert_eq(read_file(mp("d/f"), buf, sizeof(buf)), 8);
	cr_assert_str_eq(buf, "precious");
	cr_assert_eq(stat(mp("d/f"), &st), 0);
	cr_assert_eq(st.st_ino, before.st_ino, "st_ino is the same after a remount");
}

Test(mount_other, many_files_do_not_hold_descriptors)
{
	/* More files than the 20,000 open-file limit, all looked up by the
	 * kernel at once: the daemon keeps no descriptor per file. */
	cr_assert_eq(mnt_start(NULL, NULL, NULL, NULL), 0);
	enum { N = 21000 };
	cr_assert_eq(mkdir(mp("many"), 0755), 0);
	char name[64];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "many/f%05d", i);
		int fd = open(mp(name), O_CREAT | O_WRONLY, 0644);
		cr_assert_geq(fd, 0, "create %d: %s", i, strerror(errno));
		close(fd);
	}
	int count = 0;
	struct stat st;
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "many/f%05d", i);
		count += stat(mp(name), &st) == 0;
	}
	cr_assert_eq(count, N);
	char fddir[64];
	snprintf(fddir, sizeof(fddir), "/proc/%d/fd", (int)M.pid);
	DIR *d = opendir(fddir);
	cr_assert_not_null(d);
	int fds = 0;
	while (readdir(d))
		fds++;
	closedir(d);
	cr_assert_lt(fds, 100, "daemon holds %d descriptors", fds);
	DIR *md = opendir(mp("many"));
	int listed = 0;
	struct dirent *de;
	while ((de = readdir(md)) != NULL)
		listed += de->d_name[0] == 'f';
	closedir(md);
	cr_assert_eq(listed, N);
}

Test(spill, st_ino_survives_spill_and_remount)
{
	size_t len = 5 << 20;
	unsigned char *buf = calloc(1, len);
	cr_assert_eq(write_file(mp("moved"), buf, len), 0);
	cr_assert_str_eq(tier_of("moved"), "ssd");
	struct stat a, b;
	cr_assert_eq(stat(mp("moved"), &a), 0);
	int pid = M.pid;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	M.pid = 0;
	cr_assert_eq(mnt_restart(), 0);
	cr_assert_eq(stat(mp("moved"), &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino);
	free(buf);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(mount_other, emulated_bandwidth_paces_writes_and_reads)
{
	/* The ssd tier emulates 20 MiB/s writes and 40 MiB/s reads.  A lower
	 * bound on the elapsed time follows from the throttle's own sleeps,
	 * whatever the machine's load: it is not a speed threshold. */
	cr_assert_eq(mnt_start("placement = ssd", NULL,
			       "256M\nemulate_write_bandwidth = 20M\nemulate_read_bandwidth = 40M", NULL),
		     0);
	size_t len = 10 << 20;
	unsigned char *buf = malloc(len), *back = malloc(len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 7 + (i >> 11));
	double t0 = now_s();
	cr_assert_eq(write_file(mp("slow"), buf, len), 0);
	double wt = now_s() - t0;
	cr_assert_str_eq(tier_of("slow"), "ssd");
	cr_assert_geq(wt, 0.45, "10 MiB at 20 MiB/s took only %.3f s", wt);
	/* drop the kernel's cached pages so the read reaches the daemon */
	int fd = open(mp("slow"), O_RDONLY);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	cr_assert_eq(write_file(mp("fast"), buf, 1 << 20), 0);
	t0 = now_s();
	fd = open(mp("slow"), O_RDONLY);
	size_t got = 0;
	ssize_t n;
	while (got < len && (n = read(fd, back + got, len - got)) > 0)
		got += (size_t)n;
	close(fd);
	double rt = now_s() - t0;
	cr_assert_eq(got, len);
	cr_assert_eq(memcmp(buf, back, len), 0);
	cr_assert_geq(rt, 0.2, "10 MiB at 40 MiB/s read in only %.3f s", rt);
	free(buf);
	free(back);
}

/* --- migration: readers and writers see only correct data --- */

static int ctl_request(const char *json, char *reply, size_t len)
{
	char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ssize_t n = getxattr(M.mnt, "user.tierfs.socket", sock, sizeof(sock) - 1);
	if (n <= 0)
		return -1;
	sock[n] = '\0';
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path, sock, (size_t)n + 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	if (write(fd, json, strlen(json)) < 0 || write(fd, "\n", 1) != 1) {
		close(fd);
		return -1;
	}
	size_t off = 0;
	while (off + 1 < len && (n = read(fd, reply + off, len - off - 1)) > 0)
		off += (size_t)n;
	reply[off] = '\0';
	close(fd);
	return 0;
}

static unsigned char byte_at(uint64_t off)
{
	return (unsigned char)((off * 2654435761u) >> 13 ^ (off >> 17));
}

struct mover_io {
	const char *name;
	volatile int stop;
	int bad;
	uint64_t checked;
};

static void *reader_main(void *arg)
{
	struct mover_io *io = arg;
	unsigned char buf[65536];
	unsigned seed = 1;
	while (!io->stop) {
		int fd = open(mp(io->name), O_RDONLY);
		if (fd < 0) {
			io->bad++;
			continue;
		}
		struct stat st;
		fstat(fd, &st);
		for (int k = 0; k < 32 && st.st_size > 0; k++) {
			seed = seed * 1103515245 + 12345;
			off_t off = (off_t)(seed % (unsigned)st.st_size);
			ssize_t n = pread(fd, buf, sizeof(buf), off);
			for (ssize_t i = 0; i < n; i++)
				if (buf[i] != byte_at((uint64_t)off + (uint64_t)i)) {
					io->bad++;
					break;
				}
			io->checked += n > 0 ? (uint64_t)n : 0;
		}
		close(fd);
	}
	return NULL;
}

static void *appender_main(void *arg)
{
	struct mover_io *io = arg;
	unsigned char buf[65536];
	int fd = open(mp(io->name), O_WRONLY | O_APPEND);
	uint64_t off = 0;
	struct stat st;
	fstat(fd, &st);
	off = (uint64_t)st.st_size;
	while (!io->stop && off < (24u << 20)) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = byte_at(off + i);
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			io->bad++;
		off += sizeof(buf);
		usleep(2000);
	}
	close(fd);
	return NULL;
}

Test(mount_other, readers_and_writers_during_moves_see_correct_data)
{
	cr_assert_eq(mnt_start("migrate_threads = 2", NULL, NULL, NULL), 0);
	/* a file read while it moves, and one appended to while it moves */
	size_t len = 6 << 20;
	unsigned char *buf = malloc(len);
	for (size_t i = 0; i < len; i++)
		buf[i] = byte_at(i);
	cr_assert_eq(write_file(mp("r"), buf, len), 0);
	cr_assert_eq(write_file(mp("w"), buf, 1 << 20), 0);
	struct mover_io rd = {.name = "r"}, rd2 = {.name = "w"}, wr = {.name = "w"};
	pthread_t t1, t2, t3;
	pthread_create(&t1, NULL, reader_main, &rd);
	pthread_create(&t2, NULL, reader_main, &rd2);
	pthread_create(&t3, NULL, appender_main, &wr);
	static const char *tiers[] = {"ssd", "pfs", "mem"};
	int moved = 0, refused = 0;
	char req[256], reply[1024];
	for (int i = 0; i < 18; i++) {
		snprintf(req, sizeof(req), "{\"cmd\":\"migrate\",\"path\":\"%s\",\"tier\":\"%s\"}",
			 i % 2 ? "w" : "r", tiers[(i / 2) % 3]);
		cr_assert_eq(ctl_request(req, reply, sizeof(reply)), 0);
		if (strstr(reply, "\"ok\":true"))
			moved++;
		else if (strstr(reply, "written during the copy"))
			refused++;
		else
			cr_assert_fail("migrate: %s", reply);
	}
	rd.stop = rd2.stop = wr.stop = 1;
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	pthread_join(t3, NULL);
	cr_assert_eq(rd.bad + rd2.bad + wr.bad, 0, "readers saw %d bad ranges, the writer %d failures",
		     rd.bad + rd2.bad, wr.bad);
	cr_assert_gt(rd.checked, 0);
	cr_assert_geq(moved, 9, "the file nobody writes moves every time (%d moves, %d refused)", moved, refused);
	/* the appended file is whole, wherever it ended up */
	struct stat st;
	cr_assert_eq(stat(mp("w"), &st), 0);
	unsigned char *back = malloc((size_t)st.st_size);
	int fd = open(mp("w"), O_RDONLY);
	cr_assert_eq(read(fd, back, (size_t)st.st_size), st.st_size);
	close(fd);
	for (off_t i = 0; i < st.st_size; i++)
		cr_assert_eq(back[i], byte_at((uint64_t)i), "byte %lld of the appended file", (long long)i);
	int copies = 0;
	copies += access(tp(M.mem, "w"), F_OK) == 0;
	copies += access(tp(M.ssd, "w"), F_OK) == 0;
	copies += access(tp(M.pfs, "w"), F_OK) == 0;
	cr_assert_eq(copies, 1, "one copy in the tiers");
	free(buf);
	free(back);
}

/* --- the request loop (fs/loop.c) --- */

/* A number from the "loop" object of tierctl status, or -1. */
static double loop_figure(const char *key)
{
	char reply[16384], pat[64];
	if (ctl_request("{\"cmd\":\"status\"}", reply, sizeof(reply)) != 0)
		return -1;
	const char *lo = strstr(reply, "\"loop\":");
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = lo ? strstr(lo, pat) : NULL;
	return p ? strtod(p + strlen(pat), NULL) : -1;
}

static int loop_mode_is(const char *mode)
{
	char reply[16384], pat[64];
	snprintf(pat, sizeof(pat), "\"mode\":\"%s\"", mode);
	return ctl_request("{\"cmd\":\"status\"}", reply, sizeof(reply)) == 0 && strstr(reply, pat) != NULL;
}

/* Poll tierctl status for up to 20 s until the loop is in mode. */
static int wait_loop_mode(const char *mode)
{
	for (int i = 0; i < 400; i++) {
		if (loop_mode_is(mode))
			return 1;
		usleep(50000);
	}
	return 0;
}

struct slow_read {
	int ok;
	_Atomic int done;
};

/* Both threads on CPU 0: over io_uring the kernel queues their requests
 * on CPU 0's queue, served by that CPU's ring threads. */
static void on_cpu0(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *slow_reader_main(void *arg)
{
	struct slow_read *s = arg;
	char buf[16];
	on_cpu0();
	s->ok = read_file(mp("slow"), buf, sizeof(buf)) == 4 && memcmp(buf, "slow", 4) == 0;
	atomic_store(&s->done, 1);
	return NULL;
}

/* Every read from ssd takes 3 s (emulate_latency).  While one is in
 * flight, files on mem are created, written, read and removed from the
 * same CPU: none of that may wait for it. */
static void slow_request_is_overtaken(const char *uring)
{
	cr_assert_eq(mnt_start(uring, NULL, "256M\nemulate_latency = 3s", NULL), 0);
	cr_assert_eq(write_file(tp(M.ssd, "slow"), "slow", 4), 0); /* behind tierfs's back */
	cpu_set_t was;
	pthread_getaffinity_np(pthread_self(), sizeof(was), &was);
	on_cpu0();
	struct slow_read s = {0};
	pthread_t t;
	pthread_create(&t, NULL, slow_reader_main, &s);
	usleep(300000);
	int bad = 0;
	for (int i = 0; i < 50; i++) {
		char name[32], buf[32];
		snprintf(name, sizeof(name), "quick%d", i);
		bad += write_file(mp(name), name, strlen(name)) != 0;
		bad += read_file(mp(name), buf, sizeof(buf)) != (ssize_t)strlen(name) || memcmp(buf, name, strlen(name));
		bad += unlink(mp(name)) != 0;
	}
	int overtaken = !atomic_load(&s.done);
	pthread_join(t, NULL);
	pthread_setaffinity_np(pthread_self(), sizeof(was), &was);
	cr_assert_eq(bad, 0);
	cr_assert(s.ok, "the slow read returned the wrong bytes");
	cr_assert(overtaken, "50 files on mem waited for one 3 s read on ssd (%s)", uring);
}

Test(mount_other, a_slow_request_does_not_hold_up_the_others)
{
	/* over /dev/fuse the leader takes the read itself: the watchdog
	 * hands the lead on */
	slow_request_is_overtaken("io_uring = false");
	cr_assert_geq(loop_figure("takeovers"), 1, "the watchdog never took the lead");
}

Test(mount_other, a_slow_request_does_not_hold_up_its_cpu_over_io_uring)
{
	/* where the kernel offers io_uring (the sanitizer run turns it on);
	 * else this runs over /dev/fuse again */
	slow_request_is_overtaken("io_uring = true");
}

struct churn {
	int id;
	_Atomic int stop;
	int counting; /* errors count (not after SIGTERM) */
	int errors;
	long rounds;
};

static void *churn_main(void *arg)
{
	struct churn *c = arg;
	char name[64], data[4096], back[4097]; /* read_file() NUL-terminates */
	while (!atomic_load(&c->stop)) {
		snprintf(name, sizeof(name), "churn%d_%ld", c->id, c->rounds % 8);
		for (size_t i = 0; i < sizeof(data); i++)
			data[i] = (char)(i * 31 + (size_t)c->rounds + (size_t)c->id);
		int bad = write_file(mp(name), data, sizeof(data)) != 0 ||
			  read_file(mp(name), back, sizeof(back)) != (ssize_t)sizeof(data) ||
			  memcmp(data, back, sizeof(data)) != 0 || unlink(mp(name)) != 0;
		if (bad && c->counting)
			c->errors++;
		c->rounds++;
	}
	return NULL;
}

enum { CHURNERS = 4 };

static void churn_start(struct churn *c, pthread_t *t, int counting)
{
	for (int i = 0; i < CHURNERS; i++) {
		c[i] = (struct churn){.id = i, .counting = counting};
		pthread_create(&t[i], NULL, churn_main, &c[i]);
	}
}

static int churn_stop(struct churn *c, pthread_t *t)
{
	int errors = 0;
	for (int i = 0; i < CHURNERS; i++)
		atomic_store(&c[i].stop, 1);
	for (int i = 0; i < CHURNERS; i++) {
		pthread_join(t[i], NULL);
		errors += c[i].errors;
	}
	return errors;
}

Test(mount_other, parallel_callers_read_on_all_threads_and_sigterm_ends_them)
{
	cr_assert_eq(mnt_start("io_uring = false", NULL, NULL, NULL), 0);
	/* one caller at a time: the leader reads */
	for (int i = 0; i < 300; i++) {
		char name[32];
		snprintf(name, sizeof(name), "one%d", i);
		cr_assert_eq(write_file(mp(name), "x", 1), 0);
	}
	cr_assert(loop_mode_is("one leader"));
	cr_assert_gt(loop_figure("by_leader"), 300);

	/* four callers at once: every thread reads, and the data is right */
	struct churn c[CHURNERS];
	pthread_t t[CHURNERS];
	churn_start(c, t, 1);
	int shared = wait_loop_mode("all threads");
	cr_assert_eq(churn_stop(c, t), 0, "wrong bytes or failed calls with four callers");
	cr_assert(shared, "four callers at once never made all threads read");
	cr_assert_gt(loop_figure("by_all"), 0);

	/* one caller again: back to a leader */
	for (int i = 0; i < 300; i++) {
		char name[32];
		snprintf(name, sizeof(name), "one%d", i);
		cr_assert_eq(unlink(mp(name)), 0);
		cr_assert_eq(write_file(mp(name), "y", 1), 0);
	}
	cr_assert(wait_loop_mode("one leader"), "one caller left all threads reading");
	cr_assert_geq(loop_figure("switches"), 2);

	/* SIGTERM while every thread sleeps in read(): a clean exit */
	churn_start(c, t, 0);
	cr_assert(wait_loop_mode("all threads"));
	kill(M.pid, SIGTERM);
	int st;
	cr_assert_eq(waitpid(M.pid, &st, 0), M.pid);
	M.pid = 0;
	churn_stop(c, t);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d", st);
	cr_assert(!fuse_mounted(M.mnt), "SIGTERM left the mount behind");
	char buf[4];
	cr_assert_eq(read_file(tp(M.mem, "one299"), buf, sizeof(buf)), 1);
	cr_assert_eq(buf[0], 'y');
}

Test(mount, readers_see_what_write_only_opens_wrote)
{
	/* write-only opens go past the page cache: readers must not keep
	 * stale pages, neither across opens nor while they hold the file */
	char buf[64];
	cr_assert_eq(write_file(mp("c"), "old old old", 11), 0);
	cr_assert_eq(read_file(mp("c"), buf, sizeof(buf)), 11); /* pages cached */
	int w = open(mp("c"), O_WRONLY);
	cr_assert_eq(pwrite(w, "NEW", 3, 0), 3);
	close(w);
	cr_assert_eq(read_file(mp("c"), buf, sizeof(buf)), 11);
	cr_assert_str_eq(buf, "NEW old old", "a later open sees the write");
	int r = open(mp("c"), O_RDONLY);
	cr_assert_eq(pread(r, buf, 11, 0), 11); /* this reader caches the pages */
	w = open(mp("c"), O_WRONLY);
	cr_assert_eq(pwrite(w, "xyz", 3, 4), 3);
	close(w);
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(pread(r, buf, 11, 0), 11);
	cr_assert_str_eq(buf, "NEW xyz old", "an open reader sees the write");
	close(r);
}

Test(mount, read_write_opens_map_shared_and_stay_coherent)
{
	/* read-write opens go past the page cache too: a shared mapping of
	 * one must still work and agree with writes through descriptors */
	char buf[8192], want[8192];
	memset(want, 'a', sizeof(want));
	cr_assert_eq(write_file(mp("m"), want, sizeof(want)), 0);
	int r = open(mp("m"), O_RDONLY);
	cr_assert_eq(pread(r, buf, sizeof(buf), 0), (ssize_t)sizeof(buf)); /* cached */
	int fd = open(mp("m"), O_RDWR);
	cr_assert_geq(fd, 0);
	char *map = mmap(NULL, sizeof(buf), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	cr_assert_neq(map, MAP_FAILED, "mmap MAP_SHARED of a read-write open: %s", strerror(errno));
	memcpy(map, "MAPPED", 6);
	cr_assert_eq(msync(map, sizeof(buf), MS_SYNC), 0);
	cr_assert_eq(pwrite(fd, "WRITTEN", 7, 4096), 7);
	cr_assert_eq(memcmp(map + 4096, "WRITTEN", 7), 0, "the mapping sees a write through the descriptor");
	memcpy(want, "MAPPED", 6);
	memcpy(want + 4096, "WRITTEN", 7);
	cr_assert_eq(pread(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	cr_assert_eq(memcmp(buf, want, sizeof(buf)), 0, "the read-write open reads what was written");
	cr_assert_eq(pread(r, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	cr_assert_eq(memcmp(buf, want, sizeof(buf)), 0, "an open reader sees both writes");
	munmap(map, sizeof(buf));
	close(fd);
	close(r);
	int b = open(tp(M.mem, "m"), O_RDONLY);
	cr_assert_geq(b, 0);
	cr_assert_eq(pread(b, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	close(b);
	cr_assert_eq(memcmp(buf, want, sizeof(buf)), 0, "the tier's file holds both writes");
}

Test(mount, pin_by_xattr_moves_and_marks_the_file)
{
	cr_assert_eq(write_file(mp("p"), "pinned data", 11), 0);
	cr_assert_str_eq(tier_of("p"), "mem");
	cr_assert_eq(setxattr(mp("p"), "user.tierfs.pin", "pfs", 3, 0), 0);
	cr_assert_str_eq(tier_of("p"), "pfs", "pinning moves the file");
	char v[16] = {0};
	cr_assert_eq(getxattr(mp("p"), "user.tierfs.pin", v, sizeof(v)), 3);
	cr_assert_str_eq(v, "pfs");
	char buf[32];
	cr_assert_eq(read_file(mp("p"), buf, sizeof(buf)), 11);
	cr_assert_str_eq(buf, "pinned data");
	errno = 0;
	cr_assert_eq(setxattr(mp("p"), "user.tierfs.pin", "nowhere", 7, 0), -1);
	cr_assert_eq(errno, EINVAL, "an unknown tier is refused");
	cr_assert_eq(removexattr(mp("p"), "user.tierfs.pin"), 0);
	errno = 0;
	cr_assert_eq(getxattr(mp("p"), "user.tierfs.pin", v, sizeof(v)), -1);
	cr_assert_eq(errno, ENODATA);
	cr_assert_str_eq(tier_of("p"), "pfs", "unpinning leaves it where it is");
}

/* --- spill: invariant 3 --- */

static void fill_pattern(unsigned char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)((i * 131 + seed * 7) ^ (i >> 9));
}

Test(spill, open_file_moves_to_next_tier_and_keeps_its_bytes)
{
	size_t len = 6 << 20; /* more than the 4 MiB memory tier */
	unsigned char *buf = malloc(len), *back = malloc(len);
	fill_pattern(buf, len, 1);
	int fd = open(mp("big"), O_RDWR | O_CREAT, 0644);
	cr_assert_geq(fd, 0);
	struct stat before;
	cr_assert_eq(fstat(fd, &before), 0);
	for (size_t off = 0; off < len; off += 1 << 20)
		cr_assert_eq(write(fd, buf + off, 1 << 20), 1 << 20, "write at %zu", off);
	cr_assert_eq(pread(fd, back, len, 0), (ssize_t)len, "the still-open fd reads it all");
	cr_assert_eq(memcmp(buf, back, len), 0);
	close(fd);
	cr_assert_str_eq(tier_of("big"), "ssd");
	cr_assert(!exists(tp(M.mem, "big")), "invariant 1: one copy");
	struct stat after;
	cr_assert_eq(stat(mp("big"), &after), 0);
	cr_assert_eq(after.st_ino, before.st_ino, "st_ino survives the move");
	memset(back, 0, len);
	fd = open(mp("big"), O_RDONLY);
	cr_assert_eq(read(fd, back, len), (ssize_t)len);
	close(fd);
	cr_assert_eq(memcmp(buf, back, len), 0);
	/* the memory tier has room again for small files */
	cr_assert_eq(write_file(mp("small"), "s", 1), 0);
	cr_assert_str_eq(tier_of("small"), "mem");
	free(buf);
	free(back);
}

Test(spill, enospc_only_when_no_tier_has_room)
{
	/* 4M + 16M + 1G: a 2 GiB file cannot fit anywhere, ever: that is the
	 * largest file size, EFBIG (pjdfstest's truncate/12 accepts it) */
	int fd = open(mp("huge"), O_RDWR | O_CREAT, 0644);
	cr_assert_geq(fd, 0);
	errno = 0;
	cr_assert_eq(ftruncate(fd, 2LL << 30), -1);
	cr_assert_eq(errno, EFBIG, "errno %d", errno);
	errno = 0;
	cr_assert_eq(truncate(mp("huge"), 999999999999999999LL), -1);
	cr_assert_eq(errno, EFBIG, "errno %d", errno);
	struct stat st;
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(st.st_size, 0, "a refused truncate leaves the size");
	/* a size only the last tier holds moves the file there (a hole on
	 * disk, charged in full) */
	cr_assert_eq(ftruncate(fd, 1000LL << 20), 0);
	cr_assert_str_eq(tier_of("huge"), "pfs");
	close(fd);
	/* now every tier is nearly full: a 30 MiB file fills mem, then ssd,
	 * then the pfs's last 24 MiB, and only then is ENOSPC reported */
	size_t len = 30 << 20;
	unsigned char *buf = malloc(len);
	fill_pattern(buf, len, 3);
	fd = open(mp("mid"), O_WRONLY | O_CREAT, 0644);
	cr_assert_geq(fd, 0);
	size_t done = 0;
	ssize_t n = 0;
	while (done < len && (n = write(fd, buf + done, 1 << 20)) > 0)
		done += (size_t)n;
	int err = errno;
	cr_assert_eq(n, -1, "30 MiB cannot fit in what is left");
	cr_assert_eq(err, ENOSPC, "errno %d", err);
	cr_assert_geq(done, 16u << 20, "%zu bytes written before ENOSPC: more than one tier's room", done);
	cr_assert_eq(close(fd), 0);
	cr_assert_str_eq(tier_of("mid"), "pfs");
	/* what was written is there; files already stored are untouched */
	unsigned char *back = malloc(len + 1);
	cr_assert_eq(read_file(mp("mid"), (char *)back, len + 1), (ssize_t)done);
	cr_assert_eq(memcmp(buf, back, done), 0);
	cr_assert_eq(stat(mp("huge"), &st), 0);
	cr_assert_eq(st.st_size, 1000LL << 20);
	/* freeing room makes it fit again */
	cr_assert_eq(unlink(mp("huge")), 0);
	cr_assert_eq(write_file(mp("mid"), buf, len), 0);
	free(buf);
	free(back);
}

Test(spill, new_files_go_elsewhere_when_memory_is_full)
{
	size_t len = 3 << 20;
	unsigned char *buf = malloc(len);
	fill_pattern(buf, len, 5);
	cr_assert_eq(write_file(mp("a"), buf, len), 0);
	cr_assert_str_eq(tier_of("a"), "mem");
	cr_assert_eq(write_file(mp("b"), buf, len), 0);
	cr_assert_str_eq(tier_of("b"), "ssd");
	cr_assert_eq(unlink(mp("a")), 0);
	cr_assert_eq(write_file(mp("c"), buf, len), 0);
	cr_assert_str_eq(tier_of("c"), "mem", "unlink gave the bytes back");
	free(buf);
}

/* --- concurrency --- */

struct worker {
	int id;
	int errors;
};

static uint64_t checksum(const unsigned char *b, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	size_t len = 256 << 10;
	unsigned char *buf = malloc(len), *back = malloc(len);
	for (int i = 0; i < 12; i++) {
		char name[64];
		snprintf(name, sizeof(name), "w%d/f%d", w->id, i);
		fill_pattern(buf, len, (unsigned)(w->id * 100 + i));
		uint64_t sum = checksum(buf, len);
		if (write_file(mp(name), buf, len) != 0) {
			w->errors++;
			continue;
		}
		int fd = open(mp(name), O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, back, len) : -1;
		if (fd >= 0)
			close(fd);
		if (n != (ssize_t)len || checksum(back, len) != sum)
			w->errors++;
	}
	free(buf);
	free(back);
	return NULL;
}

Test(spill, threads_write_and_read_with_checksums_across_the_spill)
{
	enum { N = 6 };
	pthread_t th[N];
	struct worker w[N];
	for (int i = 0; i < N; i++) {
		char d[16];
		snprintf(d, sizeof(d), "w%d", i);
		cr_assert_eq(mkdir(mp(d), 0755), 0);
		w[i] = (struct worker){.id = i};
		pthread_create(&th[i], NULL, worker_main, &w[i]);
	}
	int errors = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		errors += w[i].errors;
	}
	cr_assert_eq(errors, 0);
	/* 6 x 12 x 256 KiB = 18 MiB: more than memory, so several tiers */
	int on_mem = 0, on_other = 0;
	for (int i = 0; i < N; i++)
		for (int j = 0; j < 12; j++) {
			char name[64];
			snprintf(name, sizeof(name), "w%d/f%d", i, j);
			if (!strcmp(tier_of(name), "mem"))
				on_mem++;
			else
				on_other++;
		}
	cr_assert_gt(on_mem, 0);
	cr_assert_gt(on_other, 0);
}

/* --- start-up errors --- */

TestSuite(startup, .timeout = 30);

static void write_conf(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(startup, refuses_bad_configs_with_a_clear_message)
{
	char dir[] = "/tmp/tierfs-start-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char conf[256], mnt[256], tier[256], opt[300], out[4096], text[1024];
	snprintf(conf, sizeof(conf), "%s/c.conf", dir);
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	snprintf(tier, sizeof(tier), "%s/t1", dir);
	mkdir(mnt, 0755);
	mkdir(tier, 0755);
	snprintf(opt, sizeof(opt), "config=%s", conf);
	const char *argv[] = {"tierfs", mnt, "-f", "-o", opt, NULL};

	/* missing tier directory */
	snprintf(text, sizeof(text), "[tier a]\npath = %s/missing\n", dir);
	write_conf(conf, text);
	cr_assert_neq(run_tierfs(out, sizeof(out), argv), 0);
	cr_assert(strstr(out, "missing") != NULL, "message: %s", out);

	/* unknown key */
	snprintf(text, sizeof(text), "[tier a]\npath = %s\nspeed = 3\n", tier);
	write_conf(conf, text);
	cr_assert_neq(run_tierfs(out, sizeof(out), argv), 0);
	cr_assert(strstr(out, "speed") && strstr(out, ":3"), "message names key and line: %s", out);

	/* overlapping tiers */
	snprintf(text, sizeof(text), "[tier a]\npath = %s\n[tier b]\npath = %s/sub\n", dir, tier);
	mkdir(strcat(strcpy(out, tier), "/sub"), 0755);
	write_conf(conf, text);
	cr_assert_neq(run_tierfs(out, sizeof(out), argv), 0);
	cr_assert(strstr(out, "inside") || strstr(out, "overlap"), "message: %s", out);

	/* mountpoint inside a tier */
	snprintf(text, sizeof(text), "[tier a]\npath = %s\n", dir);
	write_conf(conf, text);
	cr_assert_neq(run_tierfs(out, sizeof(out), argv), 0);
	cr_assert(strstr(out, "mountpoint") || strstr(out, "inside"), "message: %s", out);

	/* missing config file */
	snprintf(opt, sizeof(opt), "config=%s/nope.conf", dir);
	cr_assert_neq(run_tierfs(out, sizeof(out), argv), 0);
	cr_assert(strstr(out, "nope.conf") != NULL, "message: %s", out);

	/* a bad -o override */
	snprintf(text, sizeof(text), "[tier a]\npath = %s\n", tier);
	write_conf(conf, text);
	snprintf(opt, sizeof(opt), "config=%s,placement=nowhere", conf);
	cr_assert_neq(run_tierfs(out, sizeof(out), argv), 0);
	cr_assert(strstr(out, "nowhere") != NULL, "message: %s", out);

	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(startup, help_and_version)
{
	char out[16384];
	const char *argv[] = {"tierfs", "--help", NULL};
	cr_assert_eq(run_tierfs(out, sizeof(out), argv), 0);
	cr_assert(strstr(out, "config=FILE") && strstr(out, "placement"), "help: %s", out);
	const char *argv2[] = {"tierfs", "--version", NULL};
	cr_assert_eq(run_tierfs(out, sizeof(out), argv2), 0);
	cr_assert(strstr(out, "tierfs version") != NULL);
}

int main(int argc, char *argv[])
{
	if (access("/dev/fuse", R_OK | W_OK) != 0) {
		fprintf(stderr, "SKIP: /dev/fuse is not usable here\n");
		return 77;
	}
	struct criterion_test_set *tests = criterion_initialize();
	int result = 0;
	if (criterion_handle_args(argc, argv, true))
		result = !criterion_run_all_tests(tests);
	criterion_finalize(tests);
	return result;
}
