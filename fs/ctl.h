/*
 * ctl.h - the daemon's control socket (ctl.c), spoken by tierctl.
 *
 * Protocol: a client connects to the Unix socket (path: the mount root's
 * user.tierfs.socket xattr), writes one JSON object, at most
 * TFS_CTL_MAX_REQUEST bytes, ending with a newline or by shutting down
 * its write side, and reads one JSON object back:
 *   {"ok": true, ...}  or  {"ok": false, "error": "one line"}.
 * Requests ({"cmd": ...}):
 *   status                          tiers, policy, model, workflows, passthrough
 *   where   {"paths": [REL...]}     tier of each file and why it went there
 *   stats                           counters and gauges; {"format":"prometheus"} → "text"
 *   series                          the time series as CSV → "csv"
 *   attach  {"dir": REL, "workflow": ABS}   detach {"dir": REL}   list
 *   reload  {"model": ABS?}         reload the model (the configured one if absent)
 *   migrate {"path": REL, "tier": NAME}   move a file now (-> error if it cannot)
 *   pin     {"path": REL, "tier": NAME}   pin (and move) a file; unpin {"path": REL}
 * REL paths are relative to the mount root and may not leave it ("..",
 * absolute paths and NUL bytes are refused).  Only the daemon's own user
 * (and root) may connect: the socket is mode 0600 and peers are checked.
 */
#ifndef TIERFS_CTL_H
#define TIERFS_CTL_H

#include <stddef.h>
#include <stdint.h>

#define TFS_CTL_MAX_REQUEST (64 * 1024)
#define TFS_XATTR_SOCKET "user.tierfs.socket"

struct tfs;
struct tpl_decision;

/* Start listening at a socket in state_dir named after the mountpoint. */
int tfs_ctl_start(struct tfs *fs, const char *mountpoint) __attribute__((warn_unused_result));
void tfs_ctl_stop(struct tfs *fs);
/* The socket path (for the root's user.tierfs.socket), or NULL. */
const char *tfs_ctl_socket(struct tfs *fs);

/* Attach the workflow file wf_path to directory dir of the mount ("" =
 * all of it) and log the plan check's plan; as tpl_attach(). */
int tfs_attach_workflow(struct tfs *fs, const char *dir, const char *wf_path, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Remember why a file was placed, for "where" (bounded: the newest win). */
void tfs_ctl_note_decision(struct tfs *fs, uint64_t ino, const struct tpl_decision *d);

#endif
