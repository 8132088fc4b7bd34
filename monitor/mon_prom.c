/*
 * mon_prom.c - the monitor's live state in the Prometheus text exposition
 * format (version 0.0.4), for `tierctl stats --prometheus`.
 *
 * The metrics are a table: name, type, help and where the value sits in
 * struct mon_tier_state / struct mon_state, so adding one is one line and
 * names cannot drift between the table and the output.  Units are base
 * units (bytes, seconds); counters end in _total.  Rates are the moving
 * averages of mon_state; a scraper that wants exact rates uses the
 * counters.  The daemon appends its own metrics (placements, spills) after
 * these in the same reply.  Tier names ([A-Za-z0-9_.-], checked at
 * mon_create) need no escaping in a label value.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "monitor.h"

enum mon_prom_kind { K_U64, K_I64, K_DBL, K_INT };

struct mon_prom_metric {
	const char *name, *type, *help;
	enum mon_prom_kind kind;
	size_t off;
	int backing; /* only after a successful statvfs check */
};

#define TIER(n, t, k, f, h)                                                                        \
	{                                                                                          \
		"tierfs_tier_" n, t, h, k, offsetof(struct mon_tier_state, f), 0                   \
	}
#define TIER_FS(n, t, k, f, h)                                                                     \
	{                                                                                          \
		"tierfs_tier_" n, t, h, k, offsetof(struct mon_tier_state, f), 1                   \
	}
#define GLOBAL(n, t, k, f, h)                                                                      \
	{                                                                                          \
		"tierfs_" n, t, h, k, offsetof(struct mon_state, f), 0                             \
	}

static const struct mon_prom_metric mon_tier_metrics[] = {
    TIER("capacity_bytes", "gauge", K_U64, capacity, "Configured capacity of the tier."),
    TIER("used_bytes", "gauge", K_U64, used,
	 "Bytes held in the tier by the daemon's own accounting."),
    TIER("free_bytes", "gauge", K_U64, free, "Capacity minus used, 0 when full."),
    TIER("read_bytes_total", "counter", K_U64, read_bytes_total,
	 "Bytes read from files in the tier."),
    TIER("written_bytes_total", "counter", K_U64, write_bytes_total,
	 "Bytes written to files in the tier."),
    TIER("reads_total", "counter", K_U64, reads_total, "Read operations on files in the tier."),
    TIER("writes_total", "counter", K_U64, writes_total, "Write operations on files in the tier."),
    TIER("opens_total", "counter", K_U64, opens_total, "Opens of files in the tier."),
    TIER("open_files", "gauge", K_I64, open_files, "Open handles on files in the tier."),
    TIER("read_bytes_per_second", "gauge", K_DBL, read_Bps, "Read throughput, moving average."),
    TIER("write_bytes_per_second", "gauge", K_DBL, write_Bps, "Write throughput, moving average."),
    TIER("fill_bytes_per_second", "gauge", K_DBL, fill_Bps,
	 "Growth of used bytes, moving average (negative when shrinking)."),
    TIER("migrating_in_bytes", "gauge", K_U64, migrating_in_bytes,
	 "Bytes of migrations into the tier in flight."),
    TIER_FS("backing_available_bytes", "gauge", K_U64, fs_avail,
	    "Bytes available on the backing filesystem (statvfs)."),
    TIER_FS("backing_short", "gauge", K_INT, fs_short,
	    "1 when the backing filesystem has less room than the tier's free bytes."),
};

static const struct mon_prom_metric mon_global_metrics[] = {
    GLOBAL("creates_total", "counter", K_U64, creates_total, "Files created on the mount."),
    GLOBAL("meta_ops_total", "counter", K_U64, meta_total, "Metadata operations on the mount."),
    GLOBAL("creates_per_second", "gauge", K_DBL, creates_per_s,
	   "File creates per second, moving average."),
    GLOBAL("meta_ops_per_second", "gauge", K_DBL, meta_per_s,
	   "Metadata operations per second, moving average."),
    GLOBAL("migration_backlog_bytes", "gauge", K_U64, migration_backlog_bytes,
	   "Bytes of migrations begun and not ended."),
    GLOBAL("monitor_ticks_total", "counter", K_U64, ticks, "Monitor ticks (frames recorded)."),
};

static void mon_prom_value(FILE *f, const struct mon_prom_metric *mt, const void *base)
{
	const char *p = (const char *)base + mt->off;
	switch (mt->kind) {
	case K_U64:
		fprintf(f, "%llu\n", (unsigned long long)*(const uint64_t *)p);
		break;
	case K_I64:
		fprintf(f, "%lld\n", (long long)*(const int64_t *)p);
		break;
	case K_DBL:
		fprintf(f, "%.15g\n", *(const double *)p);
		break;
	case K_INT:
		fprintf(f, "%d\n", *(const int *)p);
		break;
	}
}

int mon_print_prometheus(struct mon *m, FILE *f)
{
	if (!m || !f)
		return -EINVAL;
	struct mon_state st;
	int rc = mon_snapshot(m, &st);
	if (rc)
		return rc;
	for (size_t k = 0; k < sizeof mon_tier_metrics / sizeof mon_tier_metrics[0]; k++) {
		const struct mon_prom_metric *mt = &mon_tier_metrics[k];
		int header = 0;
		for (size_t t = 0; t < st.ntiers; t++) {
			const struct mon_tier_state *ts = &st.tiers[t];
			if (mt->backing && (!ts->fs_checked || ts->fs_errno))
				continue;
			if (!header++)
				fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", mt->name, mt->help,
					mt->name, mt->type);
			fprintf(f, "%s{tier=\"%s\"} ", mt->name, ts->name);
			mon_prom_value(f, mt, ts);
		}
	}
	for (size_t k = 0; k < sizeof mon_global_metrics / sizeof mon_global_metrics[0]; k++) {
		const struct mon_prom_metric *mt = &mon_global_metrics[k];
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s ", mt->name, mt->help, mt->name,
			mt->type, mt->name);
		mon_prom_value(f, mt, &st);
	}
	errno = 0;
	if (fflush(f) != 0 || ferror(f))
		return -(errno ? errno : EIO);
	return 0;
}
