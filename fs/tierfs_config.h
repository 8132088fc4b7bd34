/*
 * tierfs_config.h - the tierfs.conf model shared by the daemon (fs/), the
 * simulator (trainer/) and tierctl.  Library tier_config: no FUSE headers.
 *
 * One option table (tcfg_options) is the single source of truth for the keys
 * accepted in tierfs.conf, the -o mount options, --help and the man pages.
 *
 * Ownership: tcfg_load() returns a struct the caller frees with tcfg_free();
 * every string inside is owned by the struct.  Functions return 0 or a
 * negative errno and, on error, write one grep-able line into err
 * ("FILE:LINE: [tier mem] key 'capacity': ...").
 */
#ifndef TIERFS_CONFIG_H
#define TIERFS_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TCFG_MAX_TIERS 8
#define TCFG_ERRLEN 512

enum tcfg_placement {
	TCFG_PLACE_FIRST,	/* first tier with room, in declared order */
	TCFG_PLACE_MOST_FREE,	/* tier with most free bytes */
	TCFG_PLACE_ROUND_ROBIN, /* rotate over tiers with room */
	TCFG_PLACE_RANDOM,	/* uniform over tiers with room */
	TCFG_PLACE_TIER,	/* a named tier (placement = NAME) */
};

enum tcfg_log_level { TCFG_LOG_ERROR, TCFG_LOG_WARN, TCFG_LOG_INFO, TCFG_LOG_DEBUG };

struct tcfg_tier {
	char *name;		   /* section name: [tier NAME] */
	char *path;		   /* absolute, variables expanded */
	uint64_t capacity;	   /* bytes; resolved from capacity_pct by tcfg_resolve() */
	double capacity_pct;	   /* > 0 when given as "NN%" of the backing filesystem */
	double high_watermark;	   /* fraction of capacity, default 0.90 */
	double low_watermark;	   /* fraction of capacity, default 0.70 */
	double migrate_share;	   /* of write_bandwidth for migrations in, default 0.5 */
	uint64_t read_bandwidth;   /* declared bytes/s, 0 = unknown */
	uint64_t write_bandwidth;  /* declared bytes/s, 0 = unknown */
	uint64_t latency_ns;	   /* declared per-operation latency */
	uint64_t emulate_read_bandwidth;  /* token-bucket limit in the daemon, 0 = off */
	uint64_t emulate_write_bandwidth; /* 0 = off */
	uint64_t emulate_latency_ns;	  /* 0 = off */
	int line;		   /* line of the section header, for messages */
};

struct tcfg {
	char *file; /* the config file as given */
	struct tcfg_tier tiers[TCFG_MAX_TIERS];
	size_t ntiers;

	/* [global] */
	enum tcfg_placement placement;
	int placement_tier; /* index into tiers when placement == TCFG_PLACE_TIER, else -1 */
	char *state_dir;    /* absolute; default $XDG_RUNTIME_DIR/tierfs or /tmp/tierfs-$USER */
	enum tcfg_log_level log_level;
	char *model;	    /* placement model path or NULL */
	double entry_timeout;	 /* seconds the kernel caches lookups */
	double attr_timeout;	 /* seconds the kernel caches attributes */
	double negative_timeout; /* seconds the kernel caches "no such file" */
	int writeback_cache;	 /* bool */
	int passthrough;	 /* bool: kernel passthrough for read-only opens (root only) */
	int splice_reads;	 /* bool: READ replies spliced from the tier file (/dev/fuse) */
	int io_uring;		 /* bool: requests over io_uring where the kernel offers it */
	int threads;		 /* max FUSE worker threads */
	uint64_t spin_ns;	 /* /dev/fuse reader polls this long before it sleeps */
	int migrate_threads;	 /* moves in flight at most, 0 = no background migrator */
	char *phase_model;	 /* phase model (tiertrain phases) path or NULL */
	int proactive;		 /* bool: demote ahead of the coming phases' fill (needs phase_model) */
	double proactive_horizon; /* seconds of coming load the headroom covers */
	double proactive_theta;	  /* probability above which a coming phase counts */
	int proactive_prefetch;	  /* bool: prefetch in read-heavy phases (proactive mode) */
	int plan_check;		  /* bool: simulate an attached workflow, maybe one tier for all */
	int plan_check_cores;	  /* cores of the plan check's simulated node, 0 = online cores */

	/* Optional sink for warnings from tcfg_resolve() (e.g. a capacity larger
	 * than the backing filesystem); NULL = none.  Set by the caller. */
	void (*log)(void *arg, enum tcfg_log_level level, const char *msg);
	void *log_arg;
};

/* One entry of the option table. */
enum tcfg_scope { TCFG_SCOPE_GLOBAL, TCFG_SCOPE_TIER };
enum tcfg_type { TCFG_T_STRING, TCFG_T_PATH, TCFG_T_SIZE, TCFG_T_CAPACITY, TCFG_T_RATE,
		 TCFG_T_FRACTION, TCFG_T_DURATION, TCFG_T_SECONDS, TCFG_T_BOOL, TCFG_T_INT,
		 TCFG_T_ENUM };

struct tcfg_option {
	const char *key;
	enum tcfg_scope scope;
	enum tcfg_type type;
	const char *defval;  /* as written in the file, or NULL (required / unset) */
	const char *metavar; /* e.g. "SIZE" */
	const char *help;    /* one sentence, no trailing newline */
	int mount_option;    /* also accepted as -o key=value (overrides the file) */
};

extern const struct tcfg_option tcfg_options[];
extern const size_t tcfg_noptions;

/* Parse FILE.  Unknown sections or keys, bad values, duplicate tier names,
 * missing path, low >= high watermark: error naming file, line and key.
 * A relative path is relative to the directory of FILE. */
int tcfg_load(const char *file, struct tcfg **out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Apply one global key=value (a -o mount option) over a loaded config. */
int tcfg_set(struct tcfg *c, const char *key, const char *value, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Start-up checks against the live system: every tier directory exists and is
 * a directory, no tier is inside another, percentages resolved to bytes via
 * statvfs.  mountpoint may be NULL; if given, it must not lie inside a tier
 * nor contain one.  On success each tier path is replaced by its realpath()
 * and state_dir exists (created mode 0700 if missing).  Tier directories are
 * never created: a missing tier is a start-up error. */
int tcfg_resolve(struct tcfg *c, const char *mountpoint, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Index of the tier named name, or -1. */
int tcfg_tier_index(const struct tcfg *c, const char *name);

void tcfg_free(struct tcfg *c);

/* Value parsers, exposed for tierctl and tests.  Return 0 or -EINVAL/-ERANGE. */
int tcfg_parse_size(const char *s, uint64_t *out);	   /* 4096, 64K, 1.5G, 2T (powers of 1024) */
int tcfg_parse_duration_ns(const char *s, uint64_t *out); /* 100us, 2ms, 1s, 1.5s; bare number = us */
int tcfg_parse_bool(const char *s, int *out);		   /* true/false/yes/no/on/off/1/0 */

const char *tcfg_placement_name(enum tcfg_placement p);

/* Write text for a troff man page (escapes backslashes, hyphens and a
 * leading control character); used by every man page generator. */
void tcfg_roff(FILE *out, const char *text);

/* Additions (config.c). */
int tcfg_parse_rate(const char *s, uint64_t *out);	   /* a size, optional "/s": 500M, 2G/s */
int tcfg_parse_fraction(const char *s, double *out);	   /* 0..1 or "NN%"; > 1 is -ERANGE */
int tcfg_parse_seconds(const char *s, double *out);	   /* 1, 0.5, 250ms; bare = s; <= 1 day */
const char *tcfg_log_level_name(enum tcfg_log_level l);	   /* "error" .. "debug" */
int tcfg_option_index(const char *key);			   /* index into tcfg_options or -1 */
const char *tcfg_type_desc(enum tcfg_type t);		   /* "a fraction from 0 to 1 ..." */

/* The mount-option section of --help: -o config=FILE and every mount_option
 * key of the table with metavar, help and default, wrapped at 79 columns. */
void tcfg_print_help(FILE *out);

#endif
