/*
 * test_migrate.c - moves between tiers and recovery after a crash, on plain
 * directories (no mount): a move keeps every byte and the ino; a failing
 * destination (ENOSPC, EIO injected mid-copy) leaves the source as it was;
 * a file written during the copy is not switched over; the journal lets
 * recovery finish or undo each interrupted move, and stray temporaries and
 * duplicates are cleaned up.
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

#include "tierfs.h"
#include "../common/testtmp.h"

static char root[64];
static struct tcfg *cfg;
static struct tfs fs;

static const char *tp(int t, const char *rel)
{
	static char buf[4][512];
	static int k;
	char *b = buf[k++ & 3];
	snprintf(b, sizeof(buf[0]), "%s/t%d/%s", root, t, rel);
	return b;
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/tierfs-mig-XXXXXX");
	cr_assert_not_null(testtmp_make(root));
	char conf[128], text[1024], err[TCFG_ERRLEN];
	snprintf(conf, sizeof(conf), "%s/c.conf", root);
	snprintf(text, sizeof(text),
		 "[global]\nstate_dir = %s/state\n[tier t0]\npath = %s/t0\ncapacity = 64M\n"
		 "[tier t1]\npath = %s/t1\ncapacity = 64M\n[tier t2]\npath = %s/t2\ncapacity = 64M\n",
		 root, root, root, root);
	FILE *f = fopen(conf, "w");
	fputs(text, f);
	fclose(f);
	for (int t = 0; t < 3; t++)
		cr_assert_eq(mkdir(tp(t, ""), 0755), 0);
	cr_assert_eq(tcfg_load(conf, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tcfg_resolve(cfg, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tfs_init(&fs, cfg), 0);
	fs.ntiers = 3;
	for (int t = 0; t < 3; t++) {
		fs.tiers[t].idx = t;
		fs.tiers[t].name = cfg->tiers[t].name;
		fs.tiers[t].path = cfg->tiers[t].path;
		fs.tiers[t].capacity = cfg->tiers[t].capacity;
		fs.tiers[t].rootfd = open(cfg->tiers[t].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		cr_assert_geq(fs.tiers[t].rootfd, 0);
	}
	fs.clock = tfs_real_clock;
}

static void teardown(void)
{
	for (int t = 0; t < 3; t++)
		close(fs.tiers[t].rootfd);
	tfs_journal_close(fs.journal);
	tfs_destroy(&fs);
	tcfg_free(cfg);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(migrate, .init = setup, .fini = teardown);

static void fill(unsigned char *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(i * 2654435761u >> 11 ^ seed);
}

static void put(int t, const char *rel, size_t len, unsigned seed)
{
	unsigned char *b = malloc(len);
	fill(b, len, seed);
	int fd = open(tp(t, rel), O_WRONLY | O_CREAT | O_TRUNC, 0640);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, b, len), (ssize_t)len);
	close(fd);
	free(b);
	atomic_fetch_add(&fs.tiers[t].used, len);
}

static int same(int t, const char *rel, size_t len, unsigned seed)
{
	unsigned char *b = malloc(len), *r = malloc(len + 1);
	fill(b, len, seed);
	int fd = open(tp(t, rel), O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, r, len + 1) : -1;
	if (fd >= 0)
		close(fd);
	int ok = n == (ssize_t)len && memcmp(b, r, len) == 0;
	free(b);
	free(r);
	return ok;
}

static int exists(int t, const char *rel)
{
	struct stat st;
	return lstat(tp(t, rel), &st) == 0;
}

static int temps_in(int t)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "test -z \"$(find %s -name '%s*')\"", tp(t, ""), TFS_TMP_PREFIX);
	return system(cmd) != 0;
}

Test(migrate, a_move_keeps_bytes_mode_and_ino)
{
	cr_assert_eq(mkdir(tp(0, "d"), 0750), 0);
	put(0, "d/f", 3 << 20, 1);
	cr_assert_eq(setxattr(tp(0, "d/f"), "user.color", "red", 3, 0), 0);
	struct stat before;
	cr_assert_eq(stat(tp(0, "d/f"), &before), 0);
	uint64_t ino = tfs_ino_of(&fs, 0, "d/f", &before);
	cr_assert_eq(tfs_migrate(&fs, "d/f", 2), 0);
	cr_assert(!exists(0, "d/f"));
	cr_assert(same(2, "d/f", 3 << 20, 1));
	struct stat after;
	cr_assert_eq(stat(tp(2, "d/f"), &after), 0);
	cr_assert_eq(after.st_mode & 07777, 0640);
	cr_assert_eq(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	cr_assert_eq(tfs_ino_of(&fs, 2, "d/f", &after), ino, "st_ino follows the file");
	char v[8] = {0};
	cr_assert_eq(getxattr(tp(2, "d/f"), "user.color", v, sizeof(v)), 3);
	struct stat dst;
	cr_assert_eq(stat(tp(2, "d"), &dst), 0);
	cr_assert_eq(dst.st_mode & 07777, 0750, "the parent was cloned with its mode");
	cr_assert_eq(atomic_load(&fs.tiers[0].used), 0);
	cr_assert_eq(atomic_load(&fs.tiers[2].used), 3 << 20);
	cr_assert(!temps_in(2));
	cr_assert_eq(tfs_migrate(&fs, "d/f", 2), -EXDEV, "already there");
}

struct fault {
	int err;	 /* errno to fail with */
	size_t after;	 /* bytes copied before the fault */
	size_t copied;
	int fail_fsync;
};

static ssize_t faulty_copy(void *arg, int in, off_t *off_in, int out, off_t *off_out, size_t len)
{
	struct fault *f = arg;
	if (f->err && f->copied >= f->after)
		return -f->err;
	if (len > 65536)
		len = 65536;
	ssize_t n = tfs_real_io.copy(NULL, in, off_in, out, off_out, len);
	if (n > 0)
		f->copied += (size_t)n;
	return n;
}

static int faulty_fsync(void *arg, int fd)
{
	struct fault *f = arg;
	return f->fail_fsync ? -EIO : tfs_real_io.fsync(NULL, fd);
}

static void check_fault_leaves_source(int err, int fail_fsync)
{
	struct fault f = {.err = err, .after = 1 << 20, .fail_fsync = fail_fsync};
	struct tfs_io io = {faulty_copy, faulty_fsync, &f};
	fs.io = &io;
	put(0, "f", 4 << 20, 7);
	int rc = tfs_migrate(&fs, "f", 1);
	cr_assert_eq(rc, err ? -err : -EIO, "rc %d", rc);
	cr_assert(same(0, "f", 4 << 20, 7), "the source is intact");
	cr_assert(!exists(1, "f"), "no copy in the destination");
	cr_assert(!temps_in(1), "no temporary left");
	cr_assert_eq(atomic_load(&fs.tiers[1].used), 0, "the destination is not charged");
	cr_assert_eq(atomic_load(&fs.tiers[0].used), 4 << 20);
	fs.io = &tfs_real_io;
}

Test(migrate, enospc_mid_copy_leaves_the_source)
{
	check_fault_leaves_source(ENOSPC, 0);
}

Test(migrate, eio_mid_copy_leaves_the_source)
{
	check_fault_leaves_source(EIO, 0);
}

Test(migrate, failed_fsync_leaves_the_source)
{
	check_fault_leaves_source(0, 1);
}

Test(migrate, full_destination_refuses_before_copying)
{
	put(0, "big", 1 << 20, 3);
	atomic_store(&fs.tiers[1].used, fs.tiers[1].capacity - 1000);
	cr_assert_eq(tfs_migrate(&fs, "big", 1), -ENOSPC);
	cr_assert(same(0, "big", 1 << 20, 3));
	cr_assert(!temps_in(1));
}

Test(migrate, a_file_written_during_the_copy_is_not_switched)
{
	put(0, "w", 2 << 20, 5);
	struct tfs_node n;
	memset(&n, 0, sizeof(n));
	pthread_mutex_init(&n.lock, NULL);
	struct tfs_move mv;
	cr_assert_eq(tfs_move_prepare(&fs, "w", 1, &n, &mv), 0);
	atomic_fetch_add(&n.write_gen, 1); /* a write lands meanwhile */
	cr_assert_eq(tfs_move_commit(&fs, &mv, &n), -EAGAIN);
	cr_assert(same(0, "w", 2 << 20, 5));
	cr_assert(!exists(1, "w") && !temps_in(1));
	/* and a file grown behind our back is caught by its size */
	cr_assert_eq(tfs_move_prepare(&fs, "w", 1, NULL, &mv), 0);
	int fd = open(tp(0, "w"), O_WRONLY | O_APPEND);
	cr_assert_eq(write(fd, "x", 1), 1);
	close(fd);
	cr_assert_eq(tfs_move_commit(&fs, &mv, NULL), -EAGAIN);
	cr_assert(exists(0, "w") && !exists(1, "w"));
	pthread_mutex_destroy(&n.lock);
}

/* Two writes of one file fail to fit its tier at once; the first to get
 * io_lock spills the file.  The second must find it gone from the full
 * tier and charge again, not move it on (or back) and fail with ENOSPC,
 * which writeback would report at a later close (seen in CI). */
Test(migrate, a_spill_of_a_file_already_spilled_moves_nothing)
{
	put(1, "s", 1 << 20, 9);
	struct stat st;
	cr_assert_eq(stat(tp(1, "s"), &st), 0);
	struct tfs_node *n = tfs_node_get(&fs, tfs_ino_of(&fs, 1, "s", &st), S_IFREG, &fs.root, "s", 1, 1 << 20);
	cr_assert_not_null(n);
	pthread_rwlock_wrlock(&n->io_lock);
	cr_assert_eq(tfs_spill(&fs, n, 0, 4096), 0, "the file had left tier 0 already");
	cr_assert(same(1, "s", 1 << 20, 9) && !exists(0, "s") && !exists(2, "s"));
	cr_assert_eq(n->tier, 1);
	/* while from the tier it is on, it moves to the next one */
	cr_assert_eq(tfs_spill(&fs, n, 1, 4096), 0);
	cr_assert(same(2, "s", 1 << 20, 9) && !exists(1, "s"));
	cr_assert_eq(n->tier, 2);
	pthread_rwlock_unlock(&n->io_lock);
	tfs_node_forget(&fs, n, 1);
}

Test(migrate, hard_links_and_vanished_sources)
{
	put(0, "h", 100, 1);
	cr_assert_eq(link(tp(0, "h"), tp(0, "h2")), 0);
	cr_assert_eq(tfs_migrate(&fs, "h", 1), -EMLINK);
	cr_assert_eq(tfs_migrate(&fs, "nothing", 1), -ENOENT);
}

/* --- recovery --- */

static char journal[128];

static void open_journal(void)
{
	snprintf(journal, sizeof(journal), "%s/journal.log", root);
	cr_assert_eq(tfs_journal_open(journal, &fs.journal), 0);
}

/* Stop a move at a step, as a crash would: the journal keeps what was
 * written and the files are where that step left them. */
static void crash_after_copy(const char *rel, int src, int dst)
{
	struct tfs_move mv;
	cr_assert_eq(tfs_move_prepare(&fs, rel, dst, NULL, &mv), 0);
	(void)src; /* left as is: temp in dst, journal "B" */
}

static void crash_after_rename(const char *rel, int dst)
{
	struct tfs_move mv;
	cr_assert_eq(tfs_move_prepare(&fs, rel, dst, NULL, &mv), 0);
	cr_assert_eq(renameat(fs.tiers[dst].rootfd, mv.tmp, fs.tiers[dst].rootfd, mv.path), 0);
	char line[64];
	int n = snprintf(line, sizeof(line), "R %llu\n", (unsigned long long)mv.jid);
	int fd = open(journal, O_WRONLY | O_APPEND);
	cr_assert_eq(write(fd, line, (size_t)n), n);
	close(fd);
}

static void crash_between_rename_and_journal(const char *rel, int dst)
{
	struct tfs_move mv;
	cr_assert_eq(tfs_move_prepare(&fs, rel, dst, NULL, &mv), 0);
	cr_assert_eq(renameat(fs.tiers[dst].rootfd, mv.tmp, fs.tiers[dst].rootfd, mv.path), 0);
}

Test(migrate, recovery_finishes_or_undoes_every_interrupted_move)
{
	open_journal();
	put(0, "a", 1 << 20, 11);
	put(0, "b", 1 << 20, 12);
	put(1, "c", 1 << 20, 13);
	crash_after_copy("a", 0, 1);		  /* undo: keep the source */
	crash_after_rename("b", 2);		  /* finish: keep the destination */
	crash_between_rename_and_journal("c", 2); /* undo: both complete, keep the source */
	cr_assert(exists(0, "b") && exists(2, "b"), "the crash left two copies");
	tfs_journal_close(fs.journal);
	fs.journal = NULL;

	struct tfs_recovery r;
	cr_assert_eq(tfs_recover(&fs, journal, &r), 0);
	cr_assert_eq(r.intents, 3);
	cr_assert_eq(r.rolled_forward, 1);
	cr_assert_eq(r.rolled_back, 2);
	cr_assert(same(0, "a", 1 << 20, 11) && !exists(1, "a"));
	cr_assert(same(2, "b", 1 << 20, 12) && !exists(0, "b"));
	cr_assert(same(1, "c", 1 << 20, 13) && !exists(2, "c"));
	for (int t = 0; t < 3; t++)
		cr_assert(!temps_in(t), "no temporary file in tier %d", t);
	struct stat st;
	cr_assert_eq(stat(journal, &st), 0);
	cr_assert_eq(st.st_size, 0, "the journal starts afresh");
}

Test(migrate, recovery_without_a_journal_cleans_temps_and_duplicates)
{
	put(0, "dup", 1000, 1);
	put(2, "dup", 400, 1); /* a partial copy */
	put(1, "same", 500, 2);
	put(2, "same", 500, 2);
	cr_assert_eq(mkdir(tp(2, "sub"), 0755), 0);
	put(2, "sub/" TFS_TMP_PREFIX "1234", 77, 3);
	struct tfs_recovery r;
	snprintf(journal, sizeof(journal), "%s/none.log", root);
	cr_assert_eq(tfs_recover(&fs, journal, &r), 0);
	cr_assert_eq(r.intents, 0);
	cr_assert_eq(r.temps_removed, 1);
	cr_assert_eq(r.duplicates_fixed, 2);
	cr_assert(same(0, "dup", 1000, 1) && !exists(2, "dup"), "the complete copy is kept");
	cr_assert(exists(1, "same") && !exists(2, "same"), "equal copies: the earlier tier's");
	cr_assert(!temps_in(2));
}

Test(migrate, a_garbled_journal_is_survived)
{
	put(0, "g", 100, 9);
	snprintf(journal, sizeof(journal), "%s/garbled.log", root);
	FILE *f = fopen(journal, "w");
	fputs("B 1 2 0 9 6767\nB nonsense\nR\nB 3 4 0 1 2e2e2f6574632f706173737764\nD 99\n\x01\x02\n", f);
	fclose(f);
	struct tfs_recovery r;
	cr_assert_eq(tfs_recover(&fs, journal, &r), 0);
	cr_assert(same(0, "g", 100, 9), "nothing stored was touched");
	cr_assert_eq(r.intents, 0, "out-of-range tiers and '..' paths are ignored");
}

/* --- the migrator's order --- */

static void wait_demoted(uint64_t files)
{
	struct tfs_migrator_stats st;
	for (int i = 0; i < 1000; i++) {
		tfs_migrator_stats(&fs, &st);
		if (st.demoted_files + st.failed >= files)
			return;
		usleep(10000);
	}
}

Test(migrate, demotion_order_finished_then_unknown_then_farthest_next_use)
{
	/* The sample workflow: results/report.html has no reader (finished),
	 * merged.bam is read at level 4, chunks/chunk_0.fastq at level 1;
	 * scratch.tmp is no workflow's.  Tier t0 holds 10 MiB, high watermark
	 * 50%, low 30%: 8 MiB in use means 5 MiB must go, three of the files. */
	char err[TCFG_ERRLEN];
	cfg->tiers[0].high_watermark = 0.5;
	cfg->tiers[0].low_watermark = 0.3;
	fs.tiers[0].capacity = 10 << 20;
	cr_assert_eq(tpl_create(cfg, &fs.place, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tpl_attach(fs.place, "", TIERFS_SOURCE_DIR "/etc/sample-workflow.json", err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(mkdir(tp(0, "chunks"), 0755), 0);
	cr_assert_eq(mkdir(tp(0, "results"), 0755), 0);
	put(0, "chunks/chunk_0.fastq", 2 << 20, 1);
	put(0, "merged.bam", 2 << 20, 2);
	put(0, "results/report.html", 2 << 20, 3);
	put(0, "scratch.tmp", 2 << 20, 4);
	cr_assert_eq(tfs_migrator_start(&fs), 0);
	tfs_migrator_tick(&fs);
	wait_demoted(3);
	tfs_migrator_stop(&fs);
	cr_assert(!exists(0, "results/report.html") && same(1, "results/report.html", 2 << 20, 3),
		  "a file nobody will read goes first");
	cr_assert(!exists(0, "scratch.tmp") && same(1, "scratch.tmp", 2 << 20, 4),
		  "then a file no workflow knows");
	cr_assert(!exists(0, "merged.bam") && same(1, "merged.bam", 2 << 20, 2),
		  "then the farthest next use (level 4)");
	cr_assert(same(0, "chunks/chunk_0.fastq", 2 << 20, 1), "the soonest next use (level 1) stays");
	tpl_destroy(fs.place);
	fs.place = NULL;
}

/* A file three PATH_MAX below the tier root (longpath.h): the move clones
 * every parent into the destination, keeps bytes and ino, and recovery's
 * scans reach a temporary and a duplicate that deep. */
Test(migrate, a_file_deeper_than_path_max_moves)
{
	static char path[3 * PATH_MAX + 256];
	int r0 = fs.tiers[0].rootfd, r2 = fs.tiers[2].rootfd;
	strcpy(path, "deep");
	cr_assert_eq(tfs_mkdirat(r0, path, 0750), 0);
	while (strlen(path) < 3 * PATH_MAX) {
		size_t l = strlen(path);
		path[l] = '/';
		memset(path + l + 1, 'd', 200);
		path[l + 201] = '\0';
		cr_assert_eq(tfs_mkdirat(r0, path, 0750), 0, "%s", strerror(errno));
	}
	strcat(path, "/f");
	int fd = tfs_openat(r0, path, O_WRONLY | O_CREAT | O_EXCL, 0640);
	cr_assert_geq(fd, 0, "%s", strerror(errno));
	cr_assert_eq(write(fd, "deep bytes", 10), 10);
	close(fd);
	atomic_fetch_add(&fs.tiers[0].used, 10);
	struct stat before, after;
	cr_assert_eq(tfs_fstatat(r0, path, &before, AT_SYMLINK_NOFOLLOW), 0);
	uint64_t ino = tfs_ino_of(&fs, 0, path, &before);
	cr_assert_eq(tfs_migrate(&fs, path, 2), 0);
	cr_assert_eq(tfs_fstatat(r0, path, &after, AT_SYMLINK_NOFOLLOW), -1, "gone from the source");
	cr_assert_eq(tfs_fstatat(r2, path, &after, AT_SYMLINK_NOFOLLOW), 0, "%s", strerror(errno));
	cr_assert_eq(after.st_size, 10);
	cr_assert_eq(tfs_ino_of(&fs, 2, path, &after), ino, "st_ino follows the file");
	char *slash = strrchr(path, '/');
	*slash = '\0';
	cr_assert_eq(tfs_fstatat(r2, path, &after, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert_eq(after.st_mode & 07777, 0750, "the deepest parent was cloned with its mode");
	*slash = '/';
	cr_assert(!temps_in(2));
	cr_assert_eq(atomic_load(&fs.tiers[2].used), 10);
	cr_assert_eq(tfs_migrate(&fs, path, 0), 0, "and back");
	cr_assert_eq(tfs_fstatat(r0, path, &after, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert_eq(tfs_fstatat(r2, path, &after, AT_SYMLINK_NOFOLLOW), -1);
	/* a partial copy left in tier 2 and a temporary beside it: recovery
	 * finds both that deep */
	fd = tfs_openat(r2, path, O_WRONLY | O_CREAT, 0640);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "dee", 3), 3);
	close(fd);
	static char tmp[sizeof(path) + 32];
	snprintf(tmp, sizeof(tmp), "%.*s/%s99", (int)(slash - path), path, TFS_TMP_PREFIX);
	fd = tfs_openat(r2, tmp, O_WRONLY | O_CREAT, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	struct tfs_recovery r;
	snprintf(journal, sizeof(journal), "%s/none.log", root);
	cr_assert_eq(tfs_recover(&fs, journal, &r), 0);
	cr_assert_eq(r.temps_removed, 1);
	cr_assert_eq(r.duplicates_fixed, 1);
	cr_assert_eq(tfs_fstatat(r2, path, &after, AT_SYMLINK_NOFOLLOW), -1, "the partial copy went");
	cr_assert_eq(tfs_fstatat(r0, path, &after, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert_eq(after.st_size, 10);
}
