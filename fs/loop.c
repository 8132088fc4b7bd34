/*
 * loop.c - the daemon's session loop on /dev/fuse: a leader that spins
 * while requests come one at a time, all threads reading once they come
 * together.
 *
 * libfuse's multithreaded loop leaves every idle worker asleep in read()
 * on /dev/fuse, so the kernel wakes one for each request: a thread switch
 * per request on top of the caller's own.  perf put half of the daemon's
 * time in a create or unlink there (the hypervisor's irq enable, the
 * device's spinlock); tierfs's own code was under 4%.
 *
 * Leader mode, for a caller that issues its requests one after another
 * (a create or unlink loop, one reader or writer): one thread at a time,
 * the leader, reads the device, non-blocking.  It handles each request
 * itself, then polls spin_us for the next one before it sleeps in poll(),
 * so the next request finds it awake.  The other threads wait on a
 * condition variable, never on the device: the kernel has nobody to wake.
 * The leader hands the lead to a follower
 *  - before a request that may take long or sends notifications (fsync,
 *    setattr, rename, fallocate, copy_file_range, readdir);
 *  - when the watchdog thread sees it on one request for over a
 *    millisecond (a write that spills, a slow disk, a lock the migrator
 *    holds, a notification waiting for a request still queued), so no
 *    request waits behind a slow one for long.
 *
 * Shared mode, for callers in parallel: one thread cannot keep up with
 * two callers, and spinning takes a CPU they need.  The leader switches
 * when, four times in a row, it comes back from a request to find one of
 * another caller (the header's pid) already queued; then every thread
 * reads the device, blocking, as in libfuse's loop.  Every 256 requests
 * the threads look how many started while another caller's request was
 * in progress; when few did (under 16), they switch back.
 *
 * FORGET, RELEASE and INTERRUPT, which the kernel sends on its own
 * without a caller waiting, count for neither switch.
 */
#define _GNU_SOURCE
#include "loop.h"
#include "tierfs.h"
#include "kernel_io.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* A request handled by the leader itself for longer than this loses it
 * the lead. */
#define LOOP_WATCH_NS 1000000L
/* Requests in a row found queued when the leader came back for them. */
#define LOOP_QUEUED_STREAK 4
/* Shared mode: the window, and how many of it may overlap another
 * request for the threads to go back to a leader. */
#define LOOP_WINDOW 256
#define LOOP_WINDOW_OVERLAPS 16

enum { MODE_LEADER, MODE_SHARED };

struct lp_thread {
	pthread_t tid;
	struct fuse_buf buf;	 /* its request buffer */
	_Atomic uint32_t caller; /* shared mode: caller of the request it handles, or 0 */
	_Atomic int asleep;	 /* in a shared-mode read */
};

static struct {
	struct fuse_session *se;
	int fd, stopfd, flags;
	/* readable once the session should end (wait_for_the_end); never
	 * closed, since a signal handler may write to it at any time */
	int endfd;
	long spin_ns;
	pthread_mutex_t lock;
	pthread_cond_t follow; /* followers wait here for the lead */
	pthread_cond_t watch;  /* the watchdog's timed wait (CLOCK_MONOTONIC) */
	int led;	       /* lock: a thread leads */
	int watch_parked;      /* lock: the watchdog sleeps until the leader wakes it */
	_Atomic int stop;
	_Atomic int mode;
	_Atomic int idle;		  /* the leader sleeps in poll() */
	_Atomic unsigned long inline_seq; /* odd while the leader handles a request itself */
	_Atomic unsigned long epoch;	  /* bumped when the watchdog takes the lead away */
	struct lp_thread *th;
	int nthreads;
	_Atomic unsigned window, overlaps;
	_Atomic unsigned long takeovers, switches;
	_Atomic int err; /* the first read error, as errno */
	_Atomic unsigned long served[2]; /* requests read in either mode */
	int running;
} lp = {.lock = PTHREAD_MUTEX_INITIALIZER, .follow = PTHREAD_COND_INITIALIZER, .endfd = -1};

static __thread struct lp_thread *tls_self; /* NULL: not one of the loop's threads */
static __thread int tls_first_try;	    /* the last read found a request at once */
static __thread int tls_sharing;	    /* reading in shared mode */

/* *ts = now on clk plus ns. */
static void deadline_in(struct timespec *ts, clockid_t clk, long ns)
{
	clock_gettime(clk, ts);
	ts->tv_nsec += ns;
	ts->tv_sec += ts->tv_nsec / 1000000000L;
	ts->tv_nsec %= 1000000000L;
}

static void wake_watchdog(void)
{
	pthread_mutex_lock(&lp.lock);
	if (lp.watch_parked)
		pthread_cond_signal(&lp.watch);
	pthread_mutex_unlock(&lp.lock);
}

/* A thread asleep in a shared-mode read wakes only for a request: at the
 * end the main thread sends it LOOP_KICK, whose handler does nothing but
 * make read() fail with EINTR.  (Not pthread_cancel(): unwinding the
 * thread's frames leaves ASan's stack poisoning behind.) */
#define LOOP_KICK SIGUSR2

static void kicked(int sig)
{
	(void)sig;
}

static ssize_t shared_read(int fd, void *buf, size_t len)
{
	atomic_store(&tls_self->asleep, 1);
	ssize_t n = -1;
	errno = EINTR;
	if (!atomic_load(&lp.stop))
		n = read(fd, buf, len);
	atomic_store(&tls_self->asleep, 0);
	return n;
}

ssize_t tfs_loop_read(int fd, void *buf, size_t len)
{
	if (!tls_self)
		return read(fd, buf, len);
	if (tls_sharing) /* EAGAIN once back to a leader */
		return shared_read(fd, buf, len);
	/* Over io_uring the device carries FORGETs: nothing to spin for. */
	int spin = lp.spin_ns > 0 && !tfs_kio_uring_on();
	uint64_t deadline = 0;
	tls_first_try = 1;
	for (;;) {
		ssize_t n = read(fd, buf, len);
		if (n >= 0 || errno != EAGAIN)
			return n;
		tls_first_try = 0;
		if (atomic_load(&lp.stop) || atomic_load(&lp.mode) == MODE_SHARED) {
			errno = EINTR;
			return -1;
		}
		if (spin) {
			uint64_t now = tfs_real_clock.now_ns(NULL);
			if (!deadline)
				deadline = now + (uint64_t)lp.spin_ns;
			if (now < deadline)
				continue;
		}
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = lp.stopfd, .events = POLLIN}};
		atomic_store(&lp.idle, 1);
		(void)poll(p, 2, -1);
		atomic_store(&lp.idle, 0);
		wake_watchdog();
		spin = 0; /* just woken: a request is there, or it was a false alarm */
	}
}

void tfs_loop_status(struct tfs_loop_status *st)
{
	st->running = lp.running;
	st->shared = atomic_load(&lp.mode) == MODE_SHARED;
	st->spin_ns = (uint64_t)lp.spin_ns;
	st->by_leader = atomic_load(&lp.served[MODE_LEADER]);
	st->by_all = atomic_load(&lp.served[MODE_SHARED]);
	st->switches = atomic_load(&lp.switches);
	st->takeovers = atomic_load(&lp.takeovers);
}

/* Requests that may take long, or send notifications that wait for a
 * request still queued: never handled while leading. */
static int takes_long(const struct fuse_in_header *in)
{
	switch (in->opcode) {
	case FUSE_FSYNC:
	case FUSE_FSYNCDIR:
	case FUSE_SETATTR:
	case FUSE_RENAME:
	case FUSE_RENAME2:
	case FUSE_FALLOCATE:
	case FUSE_COPY_FILE_RANGE:
	case FUSE_READDIR:
	case FUSE_READDIRPLUS:
		return 1;
	default:
		return 0;
	}
}

/* Sent by the kernel on its own, with no caller waiting. */
static int unprompted(const struct fuse_in_header *in)
{
	switch (in->opcode) {
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
	case FUSE_INTERRUPT:
		return 1;
	default:
		return 0;
	}
}

static void stop_all(void)
{
	atomic_store(&lp.stop, 1);
	uint64_t one = 1;
	(void)!write(lp.stopfd, &one, sizeof(one));
	(void)!write(lp.endfd, &one, sizeof(one));
	pthread_mutex_lock(&lp.lock);
	pthread_cond_broadcast(&lp.follow);
	pthread_cond_signal(&lp.watch);
	pthread_mutex_unlock(&lp.lock);
}

/* A read that ended the loop: unmounted (0) or the device failed. */
static void read_failed(int res)
{
	if (res < 0) {
		int expected = 0;
		atomic_compare_exchange_strong(&lp.err, &expected, -res);
	}
	fuse_session_exit(lp.se);
	stop_all();
}

static void give_up_lead(void)
{
	pthread_mutex_lock(&lp.lock);
	lp.led = 0;
	pthread_cond_signal(&lp.follow);
	pthread_mutex_unlock(&lp.lock);
}

static void set_mode(int mode)
{
	/* Readers block in shared mode; the leader must not. */
	(void)fcntl(lp.fd, F_SETFL, mode == MODE_SHARED ? lp.flags & ~O_NONBLOCK : lp.flags | O_NONBLOCK);
	atomic_store(&lp.mode, mode);
	atomic_fetch_add(&lp.switches, 1);
	atomic_store(&lp.window, 0);
	atomic_store(&lp.overlaps, 0);
}

/* Read and handle requests while this thread leads (epoch: the lead it
 * was given). */
static void lead(struct fuse_buf *fb, unsigned long epoch)
{
	int streak = 0;
	uint32_t last = 0; /* the caller of the last request, 0: the kernel's own */
	while (!atomic_load(&lp.stop)) {
		int res = fuse_session_receive_buf(lp.se, fb);
		if (res == -EINTR || res == -EAGAIN) {
			if (atomic_load(&lp.mode) == MODE_SHARED)
				return;
			continue;
		}
		if (res <= 0) {
			read_failed(res);
			return;
		}
		const struct fuse_in_header *in = fb->mem;
		atomic_fetch_add(&lp.served[MODE_LEADER], 1);
		/* Another caller's request, queued while the leader was on one:
		 * the kernel's own (a FORGET after each unlink) and the same
		 * caller's next, sent while the leader finished up after its
		 * reply, do not show callers in parallel. */
		uint32_t who = unprompted(in) ? 0 : in->pid;
		if (last && who)
			streak = tls_first_try && who != last ? streak + 1 : 0;
		if (who)
			last = who;
		if (streak >= LOOP_QUEUED_STREAK && !tfs_kio_uring_on()) {
			/* The callers outpace one thread: everybody reads. */
			pthread_mutex_lock(&lp.lock);
			set_mode(MODE_SHARED);
			lp.led = 0;
			pthread_cond_broadcast(&lp.follow);
			pthread_mutex_unlock(&lp.lock);
			fuse_session_process_buf(lp.se, fb);
			return;
		}
		if (takes_long(in)) {
			give_up_lead();
			fuse_session_process_buf(lp.se, fb);
			return;
		}
		atomic_fetch_add(&lp.inline_seq, 1);
		fuse_session_process_buf(lp.se, fb);
		atomic_fetch_add(&lp.inline_seq, 1);
		if (atomic_load(&lp.epoch) != epoch)
			return; /* the watchdog handed the lead on meanwhile */
	}
}

/* Shared mode: one request, read by this thread among all the others. */
static void share(struct lp_thread *self)
{
	struct fuse_buf *fb = &self->buf;
	tls_sharing = 1;
	int res = fuse_session_receive_buf(lp.se, fb);
	tls_sharing = 0;
	if (res == -EINTR || res == -EAGAIN)
		return;
	if (res <= 0) {
		read_failed(res);
		return;
	}
	const struct fuse_in_header *in = fb->mem;
	uint32_t who = unprompted(in) ? 0 : in->pid;
	int counted = who != 0;
	atomic_fetch_add(&lp.served[MODE_SHARED], 1);
	if (counted) {
		/* another caller's request still in progress on another thread */
		for (int i = 0; i < lp.nthreads; i++) {
			uint32_t c = atomic_load(&lp.th[i].caller);
			if (&lp.th[i] != self && c && c != who) {
				atomic_fetch_add(&lp.overlaps, 1);
				break;
			}
		}
		atomic_store(&self->caller, who);
	}
	fuse_session_process_buf(lp.se, fb);
	atomic_store(&self->caller, 0);
	if (counted && atomic_fetch_add(&lp.window, 1) + 1 == LOOP_WINDOW) {
		pthread_mutex_lock(&lp.lock);
		if (atomic_load(&lp.mode) == MODE_SHARED && atomic_load(&lp.overlaps) < LOOP_WINDOW_OVERLAPS)
			set_mode(MODE_LEADER);
		else {
			atomic_store(&lp.window, 0);
			atomic_store(&lp.overlaps, 0);
		}
		pthread_mutex_unlock(&lp.lock);
	}
}

static void *worker_main(void *arg)
{
	tls_self = arg;
	sigset_t kick;
	sigemptyset(&kick);
	sigaddset(&kick, LOOP_KICK);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	while (!atomic_load(&lp.stop)) {
		if (atomic_load(&lp.mode) == MODE_SHARED) {
			share(tls_self);
			continue;
		}
		pthread_mutex_lock(&lp.lock);
		while (lp.led && atomic_load(&lp.mode) == MODE_LEADER && !atomic_load(&lp.stop))
			pthread_cond_wait(&lp.follow, &lp.lock);
		if (atomic_load(&lp.stop) || atomic_load(&lp.mode) == MODE_SHARED) {
			pthread_mutex_unlock(&lp.lock);
			continue;
		}
		lp.led = 1;
		unsigned long epoch = atomic_load(&lp.epoch);
		pthread_mutex_unlock(&lp.lock);
		lead(&tls_self->buf, epoch);
	}
	return NULL;
}

static void *watchdog_main(void *unused)
{
	(void)unused;
	pthread_setname_np(pthread_self(), "tierfs-watch");
	pthread_mutex_lock(&lp.lock);
	while (!atomic_load(&lp.stop)) {
		if (atomic_load(&lp.idle) || atomic_load(&lp.mode) == MODE_SHARED) {
			lp.watch_parked = 1;
			pthread_cond_wait(&lp.watch, &lp.lock);
			lp.watch_parked = 0;
			continue;
		}
		unsigned long seq = atomic_load(&lp.inline_seq);
		struct timespec ts;
		deadline_in(&ts, CLOCK_MONOTONIC, LOOP_WATCH_NS);
		pthread_cond_timedwait(&lp.watch, &lp.lock, &ts);
		if ((seq & 1) && atomic_load(&lp.inline_seq) == seq && !atomic_load(&lp.stop)) {
			atomic_fetch_add(&lp.epoch, 1);
			atomic_fetch_add(&lp.takeovers, 1);
			lp.led = 0;
			pthread_cond_signal(&lp.follow);
		}
	}
	pthread_mutex_unlock(&lp.lock);
	return NULL;
}

/* The end of the session: a read that failed (stop_all()) or SIGTERM,
 * SIGINT or SIGQUIT, whose libfuse handlers only mark the session exited.
 * Such a signal may run its handler on any thread that does not block it
 * (OpenBLAS starts its own at load), or on this one just before it
 * sleeps; a semaphore waited for here missed both, and the daemon never
 * left (mount_other::sigterm_unmounts_cleanly timed out on CI).  So each
 * handler is chained with a write to endfd, which is readable from then
 * on, and the main thread sleeps in poll() on it. */
static const int end_signals[] = {SIGTERM, SIGINT, SIGQUIT};
static struct sigaction end_prev[3];

static void on_end_signal(int sig)
{
	int e = errno;
	for (int i = 0; i < 3; i++)
		if (end_signals[i] == sig && end_prev[i].sa_handler != SIG_DFL && end_prev[i].sa_handler != SIG_IGN &&
		    !(end_prev[i].sa_flags & SA_SIGINFO))
			end_prev[i].sa_handler(sig);
	uint64_t one = 1;
	(void)!write(lp.endfd, &one, sizeof(one));
	errno = e;
}

static void end_signals_chain(int on)
{
	for (int i = 0; i < 3; i++) {
		if (!on) {
			sigaction(end_signals[i], &end_prev[i], NULL);
			continue;
		}
		struct sigaction sa = {.sa_handler = on_end_signal};
		sigemptyset(&sa.sa_mask);
		sigaction(end_signals[i], &sa, &end_prev[i]);
	}
}

static void wait_for_the_end(struct fuse_session *se)
{
	while (!fuse_session_exited(se) && !atomic_load(&lp.stop)) {
		struct pollfd p = {.fd = lp.endfd, .events = POLLIN};
		(void)poll(&p, 1, -1);
	}
}

int tfs_loop_run(struct fuse_session *se, int threads, uint64_t spin_ns)
{
	lp.se = se;
	lp.fd = fuse_session_fd(se);
	lp.spin_ns = spin_ns > 1000000000 ? 1000000000L : (long)spin_ns;
	atomic_store(&lp.stop, 0);
	atomic_store(&lp.err, 0);
	atomic_store(&lp.mode, MODE_LEADER);
	lp.led = 0;
	lp.flags = fcntl(lp.fd, F_GETFL);
	lp.stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t drained;
	if (lp.endfd < 0)
		lp.endfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	else
		(void)!read(lp.endfd, &drained, sizeof(drained)); /* a run before this one ended */
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int rc = pthread_cond_init(&lp.watch, &ca);
	pthread_condattr_destroy(&ca);
	if (lp.flags < 0 || lp.stopfd < 0 || lp.endfd < 0 || rc != 0 ||
	    fcntl(lp.fd, F_SETFL, lp.flags | O_NONBLOCK) != 0) {
		int e = errno;
		tfs_log(TCFG_LOG_ERROR, "cannot set up the session loop: %s", strerror(e));
		if (lp.stopfd >= 0)
			close(lp.stopfd);
		return e ? e : EIO;
	}

	end_signals_chain(1);
	/* The loop's threads take no signal but the kick. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	lp.th = calloc((size_t)threads, sizeof(*lp.th));
	lp.nthreads = threads;
	pthread_t watchdog;
	struct sigaction sa = {.sa_handler = kicked}, old_sa; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(LOOP_KICK, &sa, &old_sa);
	int started = 0;
	for (int i = 0; lp.th && i < threads; i++) {
		if (pthread_create(&lp.th[started].tid, NULL, worker_main, &lp.th[started]) != 0)
			break;
		started++;
	}
	int watching = started && pthread_create(&watchdog, NULL, watchdog_main, NULL) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	int ret = 0;
	lp.running = started > 0;
	if (!started) {
		tfs_log(TCFG_LOG_ERROR, "cannot start the session loop's threads");
		ret = EAGAIN;
	} else {
		if (started < threads)
			tfs_log(TCFG_LOG_WARN, "session loop: %d of %d threads started", started, threads);
		if (!watching)
			tfs_log(TCFG_LOG_WARN, "session loop: no watchdog, a slow request holds up the next");
		wait_for_the_end(se);
	}
	stop_all();
	lp.running = 0;
	tfs_log(TCFG_LOG_INFO,
		"session loop: %lu requests read by a leader, %lu by all threads; %lu switches, %lu slow requests "
		"handed over by the watchdog",
		atomic_load(&lp.served[MODE_LEADER]), atomic_load(&lp.served[MODE_SHARED]), atomic_load(&lp.switches),
		atomic_load(&lp.takeovers));
	for (int i = 0; i < started; i++) {
		struct timespec ts;
		do { /* kicked again if it went to sleep just after the kick */
			if (atomic_load(&lp.th[i].asleep))
				pthread_kill(lp.th[i].tid, LOOP_KICK);
			deadline_in(&ts, CLOCK_REALTIME, 20000000L);
		} while (pthread_timedjoin_np(lp.th[i].tid, NULL, &ts) == ETIMEDOUT);
	}
	if (watching)
		pthread_join(watchdog, NULL);
	sigaction(LOOP_KICK, &old_sa, NULL);
	end_signals_chain(0);
	for (int i = 0; lp.th && i < threads; i++)
		free(lp.th[i].buf.mem);
	free(lp.th);
	lp.th = NULL;
	(void)fcntl(lp.fd, F_SETFL, lp.flags);
	close(lp.stopfd);
	pthread_cond_destroy(&lp.watch);
	fuse_session_reset(se);
	return ret ? ret : atomic_load(&lp.err);
}
