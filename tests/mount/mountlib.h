/*
 * mountlib.h - start a real tierfs over fresh tier directories (one on
 * /dev/shm, two on disk) for a test, and always tear it down.
 */
#ifndef TIERFS_MOUNTLIB_H
#define TIERFS_MOUNTLIB_H

#include <sys/types.h>

struct mnt {
	char root[256];	 /* scratch directory holding everything below */
	char mem[300];	 /* tier directories */
	char ssd[300];
	char pfs[300];
	char mnt[300];	 /* mountpoint */
	char conf[300];
	char log[300];
	char opts[1024];
	pid_t pid;
};

extern struct mnt M;

/* Write a config with the given [global] and per-tier extra lines
 * (capacities), start tierfs in the foreground and wait for the mount.
 * Returns 0, or -1 with the daemon's log on stderr. */
int mnt_start(const char *global_extra, const char *mem_cap, const char *ssd_cap, const char *opts);
/* Unmount, wait for the daemon, remove everything.  Returns the daemon's
 * exit status (0 = clean shutdown), 128+signal if it died, or -1. */
int mnt_stop(void);
/* Start tierfs again over the same tiers and config (after a stop or a
 * kill); returns 0 once mounted. */
int mnt_restart(void);
/* Run tierfs with argv-style extra arguments, wait for it to exit, capture
 * stderr into buf; returns the exit status. */
int run_tierfs(char *buf, size_t len, const char *const *argv);
/* path under the mountpoint / a tier */
const char *mp(const char *rel);
const char *tp(const char *tier_dir, const char *rel);
/* Tier name of a file from user.tierfs.tier, or "" */
const char *tier_of(const char *rel);
int write_file(const char *path, const void *data, size_t len);
/* Read a whole small file into buf (NUL-terminated); returns length or -1. */
ssize_t read_file(const char *path, char *buf, size_t len);

#endif
