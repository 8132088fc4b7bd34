/*
 * kernel_io.h - the daemon's own I/O on the FUSE device (kernel_io.c):
 * FUSE passthrough and KILLPRIV_V2 negotiated behind libfuse 3.14's back.
 */
#ifndef TIERFS_KERNEL_IO_H
#define TIERFS_KERNEL_IO_H

#include <fuse_lowlevel.h>

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
/* Reply to OPEN with FOPEN_PASSTHROUGH for backing_id. */
int tfs_kio_reply_open_passthrough(fuse_req_t req, uint64_t fh, int backing_id);

#endif
