/*
 * loop.h - the daemon's session loop on /dev/fuse (loop.c): one thread at
 * a time reads the device and spins for the next request, the others wait
 * for the lead; no thread sleeps on the device.
 */
#ifndef TIERFS_LOOP_H
#define TIERFS_LOOP_H

#include <fuse_lowlevel.h>
#include <stdint.h>
#include <sys/types.h>

/* Serve se with threads threads until it is unmounted or exited (by a
 * signal); the leader polls spin_ns nanoseconds for the next request
 * before it sleeps (0: never).  Returns 0, or an errno. */
int tfs_loop_run(struct fuse_session *se, int threads, uint64_t spin_ns);
/* The custom read of the session (kernel_io.c): on a loop thread it spins
 * (not over io_uring, where the device carries FORGETs) and then sleeps
 * until a request comes or the loop ends (-1, EINTR); elsewhere a plain
 * read(). */
ssize_t tfs_loop_read(int fd, void *buf, size_t len);
struct tfs_loop_status {
	int running;	     /* 0: libfuse's loop serves the mount (clone_fd, -s) */
	int shared;	     /* all threads read now, else one leader */
	uint64_t spin_ns;
	unsigned long by_leader, by_all; /* requests read in either mode */
	unsigned long switches;		 /* between the two modes */
	unsigned long takeovers;	 /* slow requests the watchdog took the lead from */
};
void tfs_loop_status(struct tfs_loop_status *st);

#endif
