/*
 * kernel_io.h - the daemon's own I/O on the FUSE device (kernel_io.c):
 * FUSE passthrough and KILLPRIV_V2 negotiated behind libfuse 3.14's back.
 */
#ifndef TIERFS_KERNEL_IO_H
#define TIERFS_KERNEL_IO_H

#include <fuse_lowlevel.h>
#include <sys/types.h>

struct tfs;

/* Install tierfs's read/writev on the mounted session. */
int tfs_kio_install(struct tfs *fs, struct fuse_session *se) __attribute__((warn_unused_result));
int tfs_kio_passthrough_active(void);
/* The request being handled on this thread must drop suid/sgid. */
int tfs_kio_kill_suidgid(void);
/* "on", or why passthrough is off. */
const char *tfs_kio_status(void);
/* Register fd as a backing file: returns the backing id or -errno. */
int tfs_kio_backing_open(int fd);
void tfs_kio_backing_close(int id);
/* Requests come over io_uring: /dev/fuse carries little but FORGETs. */
int tfs_kio_uring_on(void);
/* "on", or why requests do not go over io_uring. */
const char *tfs_kio_uring_status(void);
/* Stop the io_uring queues (after the session loop ended). */
void tfs_kio_stop(void);
/* A buffer for a reply of size bytes that the reply will not copy again
 * (the ring entry's payload), or NULL: use your own. */
char *tfs_kio_reply_buffer(size_t size);

/* Spliced READ replies (kernel_io.c): stage the reply to this thread's
 * READ, size bytes of fd at off; 1 if staged (send it with
 * tfs_kio_splice_send() once nothing more touches the request's file
 * handle), 0 if not (reply from a buffer). */
int tfs_kio_splice_stage(int fd, size_t size, off_t off);
void tfs_kio_splice_send(fuse_req_t req);
/* Decide before the mount (max_read is a mount option): the max_read
 * spliced replies need, or 0 when they are off. */
struct tcfg;
size_t tfs_kio_splice_plan(const struct tcfg *cfg);
size_t tfs_kio_splice_max_read(void);
/* "on: N replies, M MiB", or "off: why". */
const char *tfs_kio_splice_status(char *buf, size_t len);

/* On a ring thread, run fn(arg) on another thread and return 1; else
 * return 0 (call it yourself).  For notifications that take a directory
 * lock: a caller holding it may be waiting for a request queued behind
 * the current one on this ring. */
int tfs_kur_defer(void (*fn)(void *), void *arg);

/* Between kernel_io.c and kernel_uring.c. */
struct fuse_in_header;
struct iovec;
void tfs_kio_note_request(const struct fuse_in_header *h, const void *arg, size_t alen);
int tfs_kur_start(struct fuse_session *se, int fd, size_t payload_sz) __attribute__((warn_unused_result));
const char *tfs_kur_why(void);
void tfs_kur_stop(void);
/* On a ring thread, the reply to its request: copied into the ring and
 * committed; returns 1 with *res set, else 0 (send it on /dev/fuse). */
int tfs_kur_reply(const struct iovec *iov, int count, ssize_t *res);
/* On a ring thread, send the reply queued so far now: a notification
 * that follows it may wait for a lock the reply releases. */
void tfs_kur_flush(void);

/* Reply to OPEN with FOPEN_PASSTHROUGH for backing_id (and fi's fh and
 * noflush). */
int tfs_kio_reply_open_passthrough(fuse_req_t req, const struct fuse_file_info *fi, int backing_id);

#endif
