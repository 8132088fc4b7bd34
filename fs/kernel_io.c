/*
 * kernel_io.c - tierfs's own read/writev on the FUSE device, installed with
 * fuse_session_custom_io(), to negotiate what Debian's libfuse 3.14 cannot:
 * kernel FUSE passthrough (Linux 6.9+) for files opened read-only,
 * FUSE_HANDLE_KILLPRIV_V2, without which the kernel asks getxattr
 * "security.capability" before every single write (one more round trip),
 * and FUSE_DIRECT_IO_ALLOW_MMAP (Linux 6.6+), which lets a file opened for
 * writing (past the page cache) still be mapped shared.
 *
 * With KILLPRIV_V2 the kernel flags the requests that must drop suid/sgid
 * (a write, truncate, chown or O_TRUNC open by a caller without
 * CAP_FSETID).  libfuse 3.14 drops those flags, so read() notes them in a
 * thread-local: libfuse handles each request on the thread that read it.
 *
 * How (verified facts in ../shared/notes/fuse-passthrough.md): read() sees
 * the kernel's INIT request and remembers whether FUSE_PASSTHROUGH is
 * offered; writev() amends libfuse's INIT reply with FUSE_INIT_EXT,
 * FUSE_PASSTHROUGH in flags2 and max_stack_depth.  An OPEN reply for a
 * passthrough file is sent by tfs_kio_reply_open_passthrough() with
 * FOPEN_PASSTHROUGH and the backing id from FUSE_DEV_IOC_BACKING_OPEN.
 *
 * Not done together with the writeback cache: the kernel refuses the pair.
 * Registering a backing file needs CAP_SYS_ADMIN: an ordinary user's mount
 * falls back to the daemon's read path, and the log says why.
 */
#define _GNU_SOURCE
#include "tierfs.h"
#include "kernel_io.h"
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

/* Newer than the installed kernel headers (Linux 6.6 and 6.9). */
#define TFS_FUSE_DIRECT_IO_ALLOW_MMAP_FLAGS2 (1u << 4) /* bit 36 of the 64-bit init flags */
#define TFS_FUSE_PASSTHROUGH_FLAGS2 (1u << 5) /* bit 37 */
#define TFS_FOPEN_PASSTHROUGH (1u << 7)
#define TFS_FUSE_OVER_IO_URING_FLAGS2 (1u << 9) /* bit 41, Linux 6.14 */
struct tfs_backing_map {
	int32_t fd;
	uint32_t flags;
	uint64_t padding;
};
#define TFS_DEV_IOC_BACKING_OPEN _IOW(229, 1, struct tfs_backing_map)
#define TFS_DEV_IOC_BACKING_CLOSE _IOW(229, 2, uint32_t)

#ifndef FUSE_INIT_EXT
#define FUSE_INIT_EXT (1u << 30)
#endif

static __thread int tls_kill_suidgid;
/* The request this thread read last: a spliced reply writes its own
 * header. */
static __thread uint64_t tls_unique;
static __thread uint32_t tls_opcode;

static struct tfs_kio {
	int killpriv;		 /* the kernel offered FUSE_HANDLE_KILLPRIV_V2 */
	int dio_mmap;		 /* the kernel offered FUSE_DIRECT_IO_ALLOW_MMAP */
	int want;		 /* passthrough requested in the config */
	int offered;		 /* the kernel offered it in INIT */
	_Atomic int active;	 /* negotiated: opens may pass through */
	uint64_t init_unique;	 /* INIT request id, 0 once answered */
	int session_fd;
	int stack_depth;
	char why_not[160];
	int uring_want;	       /* io_uring = true in the config */
	int uring_offered;     /* the kernel offered FUSE_OVER_IO_URING */
	_Atomic int uring_on;  /* the rings serve requests */
	char uring_why[200];   /* why not, for the log and tierctl */
	struct fuse_session *se;
	int splice;	       /* READ replies may be spliced */
} kio;

void tfs_kio_note_request(const struct fuse_in_header *h, const void *arg, size_t alen)
{
	tls_kill_suidgid = 0;
	tls_unique = h->unique;
	tls_opcode = h->opcode;
	switch (h->opcode) {
	case FUSE_INIT:
		if (alen >= offsetof(struct fuse_init_in, flags2) + 4) {
			const struct fuse_init_in *in = arg;
			kio.init_unique = h->unique;
			kio.offered = (in->flags & FUSE_INIT_EXT) && (in->flags2 & TFS_FUSE_PASSTHROUGH_FLAGS2);
			kio.killpriv = (in->flags & FUSE_HANDLE_KILLPRIV_V2) != 0;
			kio.dio_mmap = (in->flags & FUSE_INIT_EXT) &&
				       (in->flags2 & TFS_FUSE_DIRECT_IO_ALLOW_MMAP_FLAGS2);
			kio.uring_offered = (in->flags & FUSE_INIT_EXT) && (in->flags2 & TFS_FUSE_OVER_IO_URING_FLAGS2);
		}
		break;
	case FUSE_WRITE:
		if (alen >= sizeof(struct fuse_write_in))
			tls_kill_suidgid = (((const struct fuse_write_in *)arg)->write_flags & FUSE_WRITE_KILL_SUIDGID) != 0;
		break;
	case FUSE_SETATTR:
		if (alen >= sizeof(struct fuse_setattr_in))
			tls_kill_suidgid = (((const struct fuse_setattr_in *)arg)->valid & FATTR_KILL_SUIDGID) != 0;
		break;
	case FUSE_OPEN:
		if (alen >= sizeof(struct fuse_open_in))
			tls_kill_suidgid = (((const struct fuse_open_in *)arg)->open_flags & FUSE_OPEN_KILL_SUIDGID) != 0;
		break;
	case FUSE_CREATE:
		if (alen >= sizeof(struct fuse_create_in))
			tls_kill_suidgid = (((const struct fuse_create_in *)arg)->open_flags & FUSE_OPEN_KILL_SUIDGID) != 0;
		break;
	}
}

/* Over io_uring, /dev/fuse carries little but FORGETs, one per inode the
 * kernel drops (every unlinked file): one thread at a time reads it, and
 * after a FORGET it waits a millisecond, so a burst arrives as one
 * BATCH_FORGET instead of a thread wakeup per file. */
static pthread_mutex_t dev_lock = PTHREAD_MUTEX_INITIALIZER;
static int dev_after_forget;

static ssize_t kio_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t n;
	if (atomic_load(&kio.uring_on)) {
		pthread_mutex_lock(&dev_lock);
		if (dev_after_forget) {
			struct timespec ms = {0, 1000000};
			nanosleep(&ms, NULL);
		}
		n = tfs_loop_read(fd, buf, len);
		dev_after_forget = n >= (ssize_t)sizeof(struct fuse_in_header) &&
				   (((struct fuse_in_header *)buf)->opcode == FUSE_FORGET ||
				    ((struct fuse_in_header *)buf)->opcode == FUSE_BATCH_FORGET);
		pthread_mutex_unlock(&dev_lock);
	} else {
		n = tfs_loop_read(fd, buf, len);
	}
	tls_kill_suidgid = 0;
	if (n < (ssize_t)sizeof(struct fuse_in_header))
		return n;
	const struct fuse_in_header *h = buf;
	tfs_kio_note_request(h, h + 1, (size_t)n - sizeof(*h));
	return n;
}

static ssize_t kio_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	struct tfs *fs = userdata;
	ssize_t res;
	if (tfs_kur_reply(iov, count, &res))
		return res;
	tfs_kur_flush();
	size_t uring_payload = 0;
	int init_reply = 0;
	if (kio.init_unique && count >= 2 && iov[0].iov_len >= sizeof(struct fuse_out_header) &&
	    iov[1].iov_len >= sizeof(struct fuse_init_out)) {
		struct fuse_out_header *oh = iov[0].iov_base;
		if (oh->unique == kio.init_unique && oh->error == 0) {
			struct fuse_init_out *out = iov[1].iov_base;
			kio.init_unique = 0;
			init_reply = 1;
			if (kio.killpriv)
				out->flags |= FUSE_HANDLE_KILLPRIV_V2;
			if (kio.dio_mmap) {
				/* Opens for writing bypass the page cache (ops.c):
				 * without this a shared mapping of them fails. */
				out->flags |= FUSE_INIT_EXT;
				out->flags2 |= TFS_FUSE_DIRECT_IO_ALLOW_MMAP_FLAGS2;
			}
			if (!kio.want)
				snprintf(kio.why_not, sizeof(kio.why_not), "not requested (passthrough = false)");
			else if (!kio.offered)
				snprintf(kio.why_not, sizeof(kio.why_not),
					 "the kernel does not offer it (needs Linux 6.9+ with CONFIG_FUSE_PASSTHROUGH)");
			else if (out->flags & FUSE_WRITEBACK_CACHE)
				snprintf(kio.why_not, sizeof(kio.why_not),
					 "the writeback cache is on and the kernel refuses both together");
			else if (!fs->is_root)
				snprintf(kio.why_not, sizeof(kio.why_not),
					 "registering backing files needs CAP_SYS_ADMIN (mount as root)");
			else {
				out->flags |= FUSE_INIT_EXT;
				out->flags2 |= TFS_FUSE_PASSTHROUGH_FLAGS2;
				out->unused[0] = (uint32_t)kio.stack_depth; /* max_stack_depth */
				atomic_store(&kio.active, 1);
			}
			if (atomic_load(&kio.active))
				tfs_log(TCFG_LOG_INFO, "passthrough on: read-only opens are served by the kernel");
			else if (kio.want)
				tfs_log(TCFG_LOG_WARN, "passthrough off: %s", kio.why_not);
			if (!kio.uring_want)
				snprintf(kio.uring_why, sizeof(kio.uring_why), "not requested (io_uring = false)");
			else if (!kio.uring_offered)
				snprintf(kio.uring_why, sizeof(kio.uring_why),
					 "the kernel does not offer it (needs Linux 6.14+ and, set by root, "
					 "/sys/module/fuse/parameters/enable_uring = Y)");
			else {
				out->flags |= FUSE_INIT_EXT;
				out->flags2 |= TFS_FUSE_OVER_IO_URING_FLAGS2;
				/* The kernel's bound on a request's payload. */
				uring_payload = out->max_write > 8192 ? out->max_write : 8192;
				if ((out->flags & FUSE_MAX_PAGES) && (size_t)out->max_pages * 4096 > uring_payload)
					uring_payload = (size_t)out->max_pages * 4096;
			}
		}
	}
	res = writev(fd, iov, count);
	if (uring_payload && res >= 0) {
		/* The kernel has taken the INIT reply: rings may register now. */
		if (tfs_kur_start(kio.se, fd, uring_payload) == 0) {
			atomic_store(&kio.uring_on, 1);
			tfs_log(TCFG_LOG_INFO, "io_uring on: requests are served on a ring per CPU");
		} else {
			snprintf(kio.uring_why, sizeof(kio.uring_why), "ring setup failed: %s", tfs_kur_why());
		}
	}
	if (init_reply && kio.uring_want && !atomic_load(&kio.uring_on))
		tfs_log(TCFG_LOG_WARN, "io_uring off: %s", kio.uring_why);
	return res;
}

int tfs_kio_install(struct tfs *fs, struct fuse_session *se)
{
	static const struct fuse_custom_io io = {.writev = kio_writev, .read = kio_read};
	kio.want = fs->cfg->passthrough;
	kio.uring_want = fs->cfg->io_uring;
	kio.se = se;
	kio.session_fd = fuse_session_fd(se);
	/* A tier that is itself a stacking filesystem (overlay, ecryptfs)
	 * needs one more level. */
	kio.stack_depth = 1;
	return fuse_session_custom_io(se, &io, kio.session_fd);
}

int tfs_kio_kill_suidgid(void)
{
	return tls_kill_suidgid;
}

int tfs_kio_passthrough_active(void)
{
	return atomic_load(&kio.active);
}

int tfs_kio_uring_on(void)
{
	return atomic_load(&kio.uring_on);
}

const char *tfs_kio_uring_status(void)
{
	return atomic_load(&kio.uring_on) ? "on" : kio.uring_why[0] ? kio.uring_why : "off";
}

void tfs_kio_stop(void)
{
	atomic_store(&kio.uring_on, 0);
	tfs_kur_stop(); /* also the threads of a setup that failed half-way */
}

const char *tfs_kio_status(void)
{
	return atomic_load(&kio.active) ? "on" : kio.why_not[0] ? kio.why_not : "off";
}

int tfs_kio_backing_open(int fd)
{
	struct tfs_backing_map map = {.fd = fd};
	int id = ioctl(kio.session_fd, TFS_DEV_IOC_BACKING_OPEN, &map);
	return id < 0 ? -errno : id;
}

void tfs_kio_backing_close(int id)
{
	uint32_t bid = (uint32_t)id;
	(void)ioctl(kio.session_fd, TFS_DEV_IOC_BACKING_CLOSE, &bid);
}

int tfs_kio_reply_open_passthrough(fuse_req_t req, const struct fuse_file_info *fi, int backing_id)
{
	struct fuse_open_out out = {.fh = fi->fh,
				    .open_flags = TFS_FOPEN_PASSTHROUGH | (fi->noflush ? FOPEN_NOFLUSH : 0),
				    .padding = (uint32_t)backing_id};
	struct iovec iov = {.iov_base = &out, .iov_len = sizeof(out)};
	return fuse_reply_iov(req, &iov, 1);
}

/* Spliced READ replies: the tier file's pages go into a per-thread pipe
 * behind the reply's header, and the pipe into /dev/fuse, so the data is
 * copied once (into the mount's page cache) instead of twice (into the
 * daemon's buffer, then out of it).  A reply and its header must fit one
 * pipe, and an ordinary user's pipes stop at /proc/sys/fs/pipe-max-size
 * (1 MiB by default, 256 pages): hence max_read of 255 pages. */
#define KIO_PIPE_SZ (1u << 20)
#define KIO_SPLICE_MIN (128u << 10)

static _Atomic uint64_t spliced, spliced_bytes;
static _Atomic int pipe_refused;
static char splice_why[96];

static __thread int tls_pipe[2] = {-1, -1};
static __thread int tls_pipe_state; /* 0 untried, 1 ready, -1 none */
static __thread size_t tls_staged;  /* bytes of the reply waiting in the pipe */

/* Over /dev/fuse only: not when io_uring is asked for and the kernel
 * has it enabled (its replies go through the ring). */
static int uring_enabled(void)
{
	char c = 'N';
	FILE *f = fopen("/sys/module/fuse/parameters/enable_uring", "re");
	if (f) {
		if (fread(&c, 1, 1, f) != 1)
			c = 'N';
		fclose(f);
	}
	return c == 'Y';
}

size_t tfs_kio_splice_plan(const struct tcfg *cfg)
{
	kio.splice = 0;
	if (!cfg->splice_reads)
		snprintf(splice_why, sizeof(splice_why), "not requested (splice_reads = false)");
	else if (cfg->io_uring && uring_enabled())
		snprintf(splice_why, sizeof(splice_why), "requests come over io_uring");
	else
		kio.splice = 1;
	return tfs_kio_splice_max_read();
}

size_t tfs_kio_splice_max_read(void)
{
	return kio.splice ? KIO_PIPE_SZ - 4096 : 0;
}

static int thread_pipe(void)
{
	static atomic_flag logged = ATOMIC_FLAG_INIT;
	if (tls_pipe_state == 0) {
		tls_pipe_state = -1;
		const char *what = "pipe";
		if (pipe2(tls_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
			goto fail;
		what = "a pipe of 1 MiB";
		if (fcntl(tls_pipe[1], F_SETPIPE_SZ, KIO_PIPE_SZ) < (int)KIO_PIPE_SZ) {
			int e = errno;
			close(tls_pipe[0]);
			close(tls_pipe[1]);
			errno = e;
			goto fail;
		}
		tls_pipe_state = 1;
		return 0;
	fail:
		/* Over /proc/sys/fs/pipe-user-pages-soft, say: copy instead. */
		atomic_store(&pipe_refused, 1);
		if (!atomic_flag_test_and_set(&logged))
			tfs_log(TCFG_LOG_INFO, "spliced reads off on a thread: %s: %s; its replies are copied", what,
				strerror(errno));
	}
	return tls_pipe_state > 0 ? 0 : -1;
}

static void drain_pipe(void)
{
	char scratch[4096];
	while (read(tls_pipe[0], scratch, sizeof(scratch)) > 0)
		;
}

int tfs_kio_splice_stage(int fd, size_t size, off_t off)
{
	if (!kio.splice || atomic_load(&kio.uring_on) || tls_opcode != FUSE_READ || size < KIO_SPLICE_MIN ||
	    size > KIO_PIPE_SZ - 4096 || (off & 4095) || thread_pipe() != 0)
		return 0;
	struct fuse_out_header oh = {.len = (uint32_t)(sizeof(oh) + size), .error = 0, .unique = tls_unique};
	if (write(tls_pipe[1], &oh, sizeof(oh)) != (ssize_t)sizeof(oh)) {
		drain_pipe();
		return 0;
	}
	size_t got = 0;
	while (got < size) {
		loff_t at = off + (off_t)got;
		ssize_t n = splice(fd, &at, tls_pipe[1], NULL, size - got, SPLICE_F_NONBLOCK);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < size) { /* end of file, an error, a full pipe: the plain way */
		drain_pipe();
		return 0;
	}
	tls_staged = oh.len;
	return 1;
}

void tfs_kio_splice_send(fuse_req_t req)
{
	size_t len = tls_staged;
	ssize_t n = splice(tls_pipe[0], NULL, kio.session_fd, NULL, len, 0);
	if (n != (ssize_t)len) {
		drain_pipe(); /* the request was interrupted: the kernel has forgotten it */
	} else {
		atomic_fetch_add_explicit(&spliced, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&spliced_bytes, len - sizeof(struct fuse_out_header), memory_order_relaxed);
	}
	tls_opcode = 0;
	fuse_reply_none(req);
}

const char *tfs_kio_splice_status(char *buf, size_t len)
{
	if (!kio.splice || atomic_load(&kio.uring_on)) {
		snprintf(buf, len, "off: %s", kio.splice ? "requests come over io_uring" : splice_why);
		return buf;
	}
	snprintf(buf, len, "on: %llu replies, %.1f MiB%s", (unsigned long long)atomic_load(&spliced),
		 (double)atomic_load(&spliced_bytes) / 1048576.0,
		 atomic_load(&pipe_refused) ? " (some threads copy: a pipe of 1 MiB was refused)" : "");
	return buf;
}
