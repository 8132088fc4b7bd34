/*
 * log.c - the daemon's one log sink: stderr in the foreground, syslog once
 * daemonized.  Library code elsewhere logs through callbacks that land here.
 */
#define _GNU_SOURCE /* renameat2 in longpath.h */
#include "tierfs.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

static int log_level = TCFG_LOG_INFO;
static int use_syslog;

void tfs_log_set_level(int level)
{
	log_level = level;
}

void tfs_log_to_syslog(int on)
{
	use_syslog = on;
	if (on)
		openlog("tierfs", LOG_PID, LOG_DAEMON);
}

void tfs_log(int level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	if (level > log_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(prio[level], fmt, ap);
	} else {
		char line[1024];
		vsnprintf(line, sizeof(line), fmt, ap);
		fprintf(stderr, "tierfs: %s: %s\n", names[level], line);
	}
	va_end(ap);
}
