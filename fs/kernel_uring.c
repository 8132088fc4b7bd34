/*
 * kernel_uring.c - FUSE over io_uring (Linux 6.14+), beside libfuse 3.14,
 * which predates it.
 *
 * Why: through /dev/fuse every request wakes whichever daemon thread is
 * waiting, usually on the other core, and each round trip costs a
 * cross-core wakeup plus a read and a writev.  With io_uring the kernel
 * queues a request on the queue of the core the caller runs on; a thread
 * pinned to that core takes it, and its reply and the wait for the next
 * request are one io_uring_enter.
 *
 * How (the kernel's Documentation/filesystems/fuse-io-uring.rst): the INIT
 * reply carries FUSE_OVER_IO_URING when the kernel offered it (it does
 * only when the admin set /sys/module/fuse/parameters/enable_uring); then
 * the threads of each CPU register ring entries for its queue, each a
 * 288-byte header (in_out: the
 * fuse_in_header, later the fuse_out_header; op_in: the request's first,
 * per-opcode argument; ring_ent_in_out: commit id and payload size) and a
 * payload buffer for the other arguments.  The kernel uses the rings once
 * every possible CPU has a queue; FORGET, INTERRUPT and notifications stay
 * on /dev/fuse, so libfuse's own loop keeps running beside the rings.
 *
 * libfuse 3.14 parses only contiguous requests, so each payload buffer has
 * a page of room in front: the in-header and the op argument are copied
 * there (at most 168 bytes) and the whole request is handed to
 * fuse_session_process_buf() without moving the payload (a write's data).
 * Its reply reaches kio_writev() on the same thread (tierfs replies
 * synchronously), which copies it into the entry and queues the commit;
 * a read's data is read straight into the payload buffer
 * (tfs_kio_reply_buffer()), so nothing is copied twice.
 */
#define _GNU_SOURCE
#include "tierfs.h"
#include "kernel_io.h"

#include <errno.h>
#include <liburing.h>
#include <linux/fuse.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Newer than the installed kernel headers (Linux 6.14). */
struct kur_ent_in_out {
	uint64_t flags;
	uint64_t commit_id;
	uint32_t payload_sz;
	uint32_t padding;
	uint64_t reserved;
};
struct kur_req_header {
	char in_out[128];
	char op_in[128];
	struct kur_ent_in_out ent;
};
struct kur_cmd_req {
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};
enum { KUR_CMD_REGISTER = 1, KUR_CMD_COMMIT_AND_FETCH = 2 };

/* Per CPU, KUR_THREADS threads, each with its own ring of KUR_DEPTH
 * entries registered for that CPU's queue.  The kernel hands a request to
 * a free entry of the queue, the one freed last first.  With one entry per
 * thread, a thread inside a request that blocks (a spill, a read from a
 * slow tier, a lock the migrator holds) has no free entry, so the next
 * requests go to the CPU's other threads.  With four entries per thread,
 * one 3 s emulated read held up every request from its CPU for 3 s;
 * creates cost 10-20% more this way, as an asynchronous RELEASE and the
 * next LOOKUP now land on two threads.  Payload buffers are touched only
 * as far as requests fill them. */
enum {
	KUR_THREADS = 3,
	KUR_DEPTH = 1,
	KUR_HEADROOM = 4096,   /* room for the in-header and op argument */
	KUR_MAX_CPUS = 1024    /* possible CPUs we set rings up for */
};

struct kur_queue;

struct kur_ent {
	struct kur_queue *q;
	struct kur_req_header *hdr;
	char *buf;     /* KUR_HEADROOM, then the payload */
	char *payload; /* buf + KUR_HEADROOM */
	uint64_t commit_id;
	int last_cmd;
	int committed;
	struct iovec iov[2];
};

struct kur_queue {
	int qid; /* the CPU */
	int evfd;
	int ring_ok;
	pthread_t tid;
	int started;
	struct io_uring ring;
	struct kur_ent ent[KUR_DEPTH];
};

static struct {
	struct fuse_session *se;
	int fd;
	size_t payload_sz;
	int nq;
	struct kur_queue *q;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ready, failed;
	char why[160];
} kur = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static __thread struct kur_ent *tls_ent;

/* Work a ring thread must not do itself (see tfs_kur_defer()). */
struct kur_job {
	struct kur_job *next;
	void (*fn)(void *);
	void *arg;
};
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct kur_job *head, **tail;
	pthread_t tid;
	int running, stop;
} kdef = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .tail = &kdef.head};

static void *defer_main(void *unused)
{
	(void)unused;
	pthread_setname_np(pthread_self(), "tierfs-defer");
	pthread_mutex_lock(&kdef.lock);
	for (;;) {
		while (!kdef.head && !kdef.stop)
			pthread_cond_wait(&kdef.cond, &kdef.lock);
		struct kur_job *j = kdef.head;
		if (!j)
			break; /* stopping, and nothing left */
		kdef.head = j->next;
		if (!kdef.head)
			kdef.tail = &kdef.head;
		pthread_mutex_unlock(&kdef.lock);
		j->fn(j->arg);
		free(j);
		pthread_mutex_lock(&kdef.lock);
	}
	pthread_mutex_unlock(&kdef.lock);
	return NULL;
}

int tfs_kur_defer(void (*fn)(void *), void *arg)
{
	if (!tls_ent)
		return 0;
	struct kur_job *j = malloc(sizeof(*j));
	if (!j)
		return 0; /* run it here: a stall beats losing it */
	*j = (struct kur_job){.fn = fn, .arg = arg};
	pthread_mutex_lock(&kdef.lock);
	if (!kdef.running && pthread_create(&kdef.tid, NULL, defer_main, NULL) == 0)
		kdef.running = 1;
	if (!kdef.running) {
		pthread_mutex_unlock(&kdef.lock);
		free(j);
		return 0;
	}
	*kdef.tail = j;
	kdef.tail = &j->next;
	pthread_cond_signal(&kdef.cond);
	pthread_mutex_unlock(&kdef.lock);
	return 1;
}

/* Possible CPUs (the kernel's nr_queues): "0-N" or a list. */
static int possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	int lo, hi, max = -1;
	if (f) {
		char c;
		while (fscanf(f, "%d", &lo) == 1) {
			hi = lo;
			if (fscanf(f, "%c", &c) == 1 && c == '-' && fscanf(f, "%d%c", &hi, &c) < 1)
				break;
			if (hi > max)
				max = hi;
		}
		fclose(f);
	}
	return max >= 0 ? max + 1 : (int)sysconf(_SC_NPROCESSORS_CONF);
}

/* Queue cmd for entry e; the queue's loop submits it with its next wait.
 * There is one SQE per entry, so the ring never runs out. */
static int queue_cmd(struct kur_ent *e, int cmd)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->q->ring);
	if (!sqe)
		return -EBUSY;
	memset(sqe, 0, 128); /* an SQE128 slot */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = kur.fd;
	sqe->cmd_op = (uint32_t)cmd;
	if (cmd == KUR_CMD_REGISTER) {
		sqe->addr = (uint64_t)(uintptr_t)e->iov;
		sqe->len = 2;
	}
	struct kur_cmd_req *r = (struct kur_cmd_req *)sqe->cmd;
	r->qid = (uint16_t)e->q->qid;
	r->commit_id = cmd == KUR_CMD_REGISTER ? 0 : e->commit_id;
	io_uring_sqe_set_data(sqe, e);
	e->last_cmd = cmd;
	return 0;
}

/* Commit the reply in e (its out-header with error and len payload bytes)
 * and fetch the next request. */
static int commit(struct kur_ent *e, int32_t error, uint64_t unique, size_t len)
{
	struct fuse_out_header out = {.len = (uint32_t)(sizeof(out) + len), .error = error, .unique = unique};
	memcpy(e->hdr->in_out, &out, sizeof(out));
	e->hdr->ent.payload_sz = (uint32_t)len;
	int rc = queue_cmd(e, KUR_CMD_COMMIT_AND_FETCH);
	e->committed = rc == 0;
	return rc < 0 ? rc : (int)out.len;
}

static int queue_setup(struct kur_queue *q)
{
	struct io_uring_params p = {.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQSIZE,
				    .cq_entries = 2 * (KUR_DEPTH + 1)};
	int rc = io_uring_queue_init_params(KUR_DEPTH + 1, &q->ring, &p);
	if (rc < 0)
		return rc;
	q->ring_ok = 1;
	for (int i = 0; i < KUR_DEPTH; i++) {
		struct kur_ent *e = &q->ent[i];
		e->q = q;
		e->hdr = aligned_alloc(4096, 4096);
		e->buf = aligned_alloc(4096, KUR_HEADROOM + kur.payload_sz);
		if (!e->hdr || !e->buf)
			return -ENOMEM;
		memset(e->hdr, 0, sizeof(*e->hdr));
		e->payload = e->buf + KUR_HEADROOM;
		e->iov[0] = (struct iovec){.iov_base = e->hdr, .iov_len = sizeof(*e->hdr)};
		e->iov[1] = (struct iovec){.iov_base = e->payload, .iov_len = kur.payload_sz};
		if ((rc = queue_cmd(e, KUR_CMD_REGISTER)) < 0)
			return rc;
	}
	/* The stop signal: a poll on the queue's eventfd. */
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, q->evfd, POLLIN);
	io_uring_sqe_set_data(sqe, q);
	rc = io_uring_submit(&q->ring);
	return rc < 0 ? rc : 0;
}

/* One request: make it contiguous in front of its payload, let libfuse
 * dispatch it; the reply comes back through tfs_kur_reply(). */
static void handle(struct kur_ent *e)
{
	struct fuse_in_header in;
	memcpy(&in, e->hdr->in_out, sizeof(in));
	size_t psz = e->hdr->ent.payload_sz;
	e->commit_id = e->hdr->ent.commit_id;
	e->committed = 0;
	/* in.len counts the header and every argument; what is not payload
	 * is the op argument in op_in. */
	size_t oplen = in.len >= sizeof(in) + psz ? in.len - sizeof(in) - psz : SIZE_MAX;
	if (oplen > sizeof(e->hdr->op_in) || psz > kur.payload_sz) {
		tfs_log(TCFG_LOG_ERROR, "io_uring: malformed request (opcode %u, length %u, payload %zu)", in.opcode,
			in.len, psz);
		(void)commit(e, -EIO, in.unique, 0);
		return;
	}
	char *start = e->payload - oplen - sizeof(in);
	in.len = (uint32_t)(sizeof(in) + oplen + psz);
	memcpy(start, &in, sizeof(in));
	memcpy(start + sizeof(in), e->hdr->op_in, oplen);
	tfs_kio_note_request(&in, start + sizeof(in), oplen + psz);
	struct fuse_buf fb = {.size = in.len, .mem = start};
	tls_ent = e;
	fuse_session_process_buf(kur.se, &fb);
	tls_ent = NULL;
	if (!e->committed)
		tfs_log(TCFG_LOG_ERROR, "io_uring: request %llu (opcode %u) got no reply; its ring entry is lost",
			(unsigned long long)in.unique, in.opcode);
}

int tfs_kur_reply(const struct iovec *iov, int count, ssize_t *res)
{
	struct kur_ent *e = tls_ent;
	if (!e || count < 1 || iov[0].iov_len < sizeof(struct fuse_out_header))
		return 0;
	const struct fuse_out_header *oh = iov[0].iov_base;
	if (oh->unique != e->commit_id || e->committed)
		return 0; /* a notification, or not this request's reply */
	size_t len = 0;
	for (int i = 1; i < count; i++) {
		if (len + iov[i].iov_len > kur.payload_sz) {
			*res = -EINVAL;
			return 1;
		}
		if (iov[i].iov_base != e->payload + len)
			memcpy(e->payload + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	*res = commit(e, oh->error, oh->unique, len);
	return 1;
}

void tfs_kur_flush(void)
{
	struct kur_ent *e = tls_ent;
	if (e && e->committed && io_uring_submit(&e->q->ring) < 0)
		tfs_log(TCFG_LOG_WARN, "io_uring CPU %d: cannot submit a reply before a notification", e->q->qid);
}

char *tfs_kio_reply_buffer(size_t size)
{
	struct kur_ent *e = tls_ent;
	return e && size <= kur.payload_sz ? e->payload : NULL;
}

static void set_ready(int failed, const char *why)
{
	pthread_mutex_lock(&kur.lock);
	kur.ready++;
	if (failed && !kur.failed) {
		kur.failed = 1;
		snprintf(kur.why, sizeof(kur.why), "%s", why);
	}
	pthread_cond_broadcast(&kur.cond);
	pthread_mutex_unlock(&kur.lock);
}

static void *queue_main(void *arg)
{
	struct kur_queue *q = arg;
	char name[16];
	snprintf(name, sizeof(name), "tierfs-ring%d", (int)(q - kur.q));
	pthread_setname_np(pthread_self(), name);
	/* The kernel queues a request on the ring of the caller's CPU: the
	 * thread that serves it belongs there (cheaper wakeup, warm cache). */
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(q->qid, &set);
	(void)sched_setaffinity(0, sizeof(set), &set);
	int rc = queue_setup(q);
	char why[128];
	snprintf(why, sizeof(why), "CPU %d: %s", q->qid, strerror(-rc));
	set_ready(rc < 0, why);
	if (rc < 0)
		return NULL;
	for (;;) {
		rc = io_uring_submit_and_wait(&q->ring, 1);
		if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
			tfs_log(TCFG_LOG_ERROR, "io_uring CPU %d: %s", q->qid, strerror(-rc));
			return NULL;
		}
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		int stop = 0;
		io_uring_for_each_cqe(&q->ring, head, cqe)
		{
			n++;
			void *data = io_uring_cqe_get_data(cqe);
			if (data == q) {
				stop = 1;
				continue;
			}
			struct kur_ent *e = data;
			if (cqe->res == -EINTR || cqe->res == -EAGAIN) {
				(void)queue_cmd(e, e->last_cmd);
			} else if (cqe->res < 0) {
				/* ENOTCONN/ENODEV: unmounted; ECANCELED: ring torn down. */
				if (cqe->res == -EOPNOTSUPP)
					tfs_log(TCFG_LOG_ERROR,
						"io_uring CPU %d: the kernel refuses the ring (was "
						"/sys/module/fuse/parameters/enable_uring turned off while mounted?); "
						"requests from this CPU may wait until the mount is aborted",
						q->qid);
				else if (cqe->res != -ENOTCONN && cqe->res != -ENODEV && cqe->res != -ECANCELED)
					tfs_log(TCFG_LOG_ERROR, "io_uring CPU %d: %s failed: %s", q->qid,
						e->last_cmd == KUR_CMD_REGISTER ? "register" : "commit",
						strerror(-cqe->res));
				stop = 1;
			} else {
				handle(e);
			}
		}
		io_uring_cq_advance(&q->ring, n);
		if (stop)
			return NULL;
	}
}

int tfs_kur_start(struct fuse_session *se, int fd, size_t payload_sz)
{
	kur.se = se;
	kur.fd = fd;
	kur.payload_sz = (payload_sz + 4095) & ~(size_t)4095;
	int ncpu = possible_cpus();
	if (ncpu < 1 || ncpu > KUR_MAX_CPUS) {
		snprintf(kur.why, sizeof(kur.why), "%d possible CPUs (rings for at most %d)", ncpu, KUR_MAX_CPUS);
		return -EINVAL;
	}
	kur.nq = ncpu * KUR_THREADS;
	kur.q = calloc((size_t)kur.nq, sizeof(*kur.q));
	if (!kur.q)
		return -ENOMEM;
	for (int i = 0; i < kur.nq; i++)
		kur.q[i].evfd = -1;
	for (int i = 0; i < kur.nq; i++) {
		kur.q[i].qid = i / KUR_THREADS;
		kur.q[i].evfd = eventfd(0, EFD_CLOEXEC);
		if (kur.q[i].evfd < 0 || pthread_create(&kur.q[i].tid, NULL, queue_main, &kur.q[i]) != 0) {
			snprintf(kur.why, sizeof(kur.why), "CPU %d: cannot start a ring thread", i / KUR_THREADS);
			return -EAGAIN;
		}
		kur.q[i].started = 1;
	}
	pthread_mutex_lock(&kur.lock);
	while (kur.ready < kur.nq)
		pthread_cond_wait(&kur.cond, &kur.lock);
	int failed = kur.failed;
	pthread_mutex_unlock(&kur.lock);
	return failed ? -EIO : 0;
}

const char *tfs_kur_why(void)
{
	return kur.why;
}

void tfs_kur_stop(void)
{
	pthread_mutex_lock(&kdef.lock);
	kdef.stop = 1;
	pthread_cond_signal(&kdef.cond);
	int running = kdef.running;
	pthread_mutex_unlock(&kdef.lock);
	if (running)
		pthread_join(kdef.tid, NULL); /* runs what is queued first */
	for (int i = 0; kur.q && i < kur.nq; i++) {
		struct kur_queue *q = &kur.q[i];
		if (q->started) {
			uint64_t one = 1;
			if (write(q->evfd, &one, sizeof(one)) != sizeof(one))
				tfs_log(TCFG_LOG_WARN, "io_uring CPU %d: cannot wake a ring thread to stop", q->qid);
			pthread_join(q->tid, NULL);
		}
		if (q->ring_ok)
			io_uring_queue_exit(&q->ring);
		if (q->evfd >= 0)
			close(q->evfd);
		for (int k = 0; k < KUR_DEPTH; k++) {
			free(q->ent[k].hdr);
			free(q->ent[k].buf);
		}
	}
	free(kur.q);
	kur.q = NULL;
	kur.nq = 0;
}
