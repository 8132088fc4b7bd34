/*
 * mountlib.c - see mountlib.h.  The daemon runs as a child in the
 * foreground; teardown unmounts with fusermount3 and waits for it, and
 * kills it if it does not leave, so no test leaves a mount behind.
 */
#define _GNU_SOURCE
#include "mountlib.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define FUSE_SUPER_MAGIC 0x65735546

struct mnt M;

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void dump_log(void)
{
	char buf[8192];
	int fd = open(M.log, O_RDONLY);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		fprintf(stderr, "--- tierfs log ---\n%s------------------\n", buf);
	}
}

static int is_mounted(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC;
}

int mnt_start(const char *global_extra, const char *mem_cap, const char *ssd_cap, const char *opts)
{
	memset(&M, 0, sizeof(M));
	snprintf(M.root, sizeof(M.root), "/tmp/tierfs-test-XXXXXX");
	if (!mkdtemp(M.root) || chmod(M.root, 0755) != 0)
		return -1;
	snprintf(M.mem, sizeof(M.mem), "/dev/shm/%s-mem", strrchr(M.root, '/') + 1);
	snprintf(M.ssd, sizeof(M.ssd), "%s/ssd", M.root);
	snprintf(M.pfs, sizeof(M.pfs), "%s/pfs", M.root);
	snprintf(M.mnt, sizeof(M.mnt), "%s/mnt", M.root);
	snprintf(M.conf, sizeof(M.conf), "%s/tierfs.conf", M.root);
	snprintf(M.log, sizeof(M.log), "%s/tierfs.log", M.root);
	if (mkdir(M.mem, 0755) || mkdir(M.ssd, 0755) || mkdir(M.pfs, 0755) || mkdir(M.mnt, 0755))
		return -1;
	FILE *f = fopen(M.conf, "w");
	if (!f)
		return -1;
	fprintf(f, "[global]\nstate_dir = %s/state\n%s\n", M.root,
		global_extra && strstr(global_extra, "placement") ? "" : "placement = first");
	fprintf(f, "%s\n", global_extra ? global_extra : "");
	fprintf(f, "[tier mem]\npath = %s\ncapacity = %s\n", M.mem, mem_cap ? mem_cap : "64M");
	fprintf(f, "[tier ssd]\npath = %s\ncapacity = %s\n", M.ssd, ssd_cap ? ssd_cap : "256M");
	fprintf(f, "[tier pfs]\npath = %s\ncapacity = 1G\n", M.pfs);
	fclose(f);

	snprintf(M.opts, sizeof(M.opts), "config=%s%s%s", M.conf, opts ? "," : "", opts ? opts : "");
	return mnt_restart();
}

int mnt_restart(void)
{
	M.pid = fork();
	if (M.pid < 0)
		return -1;
	if (M.pid == 0) {
		int fd = open(M.log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(TIERFS_BIN, "tierfs", M.mnt, "-f", "-o", M.opts, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		if (is_mounted(M.mnt))
			return 0;
		int st;
		if (waitpid(M.pid, &st, WNOHANG) == M.pid) {
			M.pid = 0;
			dump_log();
			return -1;
		}
		sleep_ms(10);
	}
	dump_log();
	return -1;
}

static void rm_rf(const char *path)
{
	pid_t p = fork();
	if (p == 0) {
		execlp("rm", "rm", "-rf", "--one-file-system", path, (char *)NULL);
		_exit(127);
	}
	if (p > 0)
		waitpid(p, NULL, 0);
}

/* Also when the daemon is gone: one that died without unmounting leaves
 * a dead mount behind, which only an unmount removes. */
static void unmount_lazily(void)
{
	pid_t p = fork();
	if (p == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 2); /* "not mounted" is fine */
		execlp("fusermount3", "fusermount3", "-u", "-z", M.mnt, (char *)NULL);
		_exit(127);
	}
	if (p > 0)
		waitpid(p, NULL, 0);
}

int mnt_stop(void)
{
	int status = -1;
	if (M.mnt[0])
		unmount_lazily();
	if (M.pid > 0) {
		int st = 0, done = 0;
		for (int i = 0; i < 300 && !done; i++) {
			if (waitpid(M.pid, &st, WNOHANG) == M.pid)
				done = 1;
			else
				sleep_ms(10);
		}
		if (!done) {
			kill(M.pid, SIGKILL);
			waitpid(M.pid, &st, 0);
		}
		status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (status != 0)
			dump_log();
		M.pid = 0;
	}
	if (M.root[0]) {
		rm_rf(M.mem);
		rm_rf(M.root);
	}
	return status;
}

int run_tierfs(char *buf, size_t len, const char *const *argv)
{
	int pfd[2];
	if (pipe(pfd) < 0)
		return -1;
	pid_t p = fork();
	if (p == 0) {
		dup2(pfd[1], 2);
		dup2(pfd[1], 1);
		close(pfd[0]);
		execv(TIERFS_BIN, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	size_t off = 0;
	ssize_t n;
	while (off + 1 < len && (n = read(pfd[0], buf + off, len - off - 1)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
	close(pfd[0]);
	int st = 0;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

const char *mp(const char *rel)
{
	static __thread char buf[4][1024];
	static __thread int k;
	char *b = buf[k++ & 3];
	snprintf(b, sizeof(buf[0]), "%s/%s", M.mnt, rel);
	return b;
}

const char *tp(const char *tier_dir, const char *rel)
{
	static __thread char buf[4][1024];
	static __thread int k;
	char *b = buf[k++ & 3];
	snprintf(b, sizeof(buf[0]), "%s/%s", tier_dir, rel);
	return b;
}

const char *tier_of(const char *rel)
{
	static __thread char buf[256];
	ssize_t n = getxattr(mp(rel), "user.tierfs.tier", buf, sizeof(buf) - 1);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, len);
	int rc = close(fd);
	return n == (ssize_t)len && rc == 0 ? 0 : -1;
}

ssize_t read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}
