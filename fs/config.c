/*
 * config.c - tierfs.conf: the option table, the INI reader, value parsers,
 * -o overrides and the start-up checks against the live system.
 *
 * Invariants: the option table (TCFG_OPTION_LIST) is the only list of keys;
 * defaults, the unknown-key check, --help and the man pages all read it.
 * Every error is one line "FILE:LINE: [section] key 'KEY': what (expected
 * ...)" written into the caller's buffer; the library never prints.
 *
 * Why not libinih: Debian builds it with INI_HANDLER_LINENO=0 (the handler
 * gets no line number, and redefining the macro only changes our prototype,
 * not the compiled library), a fixed 200-byte line buffer that silently
 * splits long paths, '#' not accepted as an inline comment, and behaviour
 * switched by process-wide mutable globals.  Errors must name the line, so
 * the reader below (about 60 lines) is our own.
 *
 * Assumes: single-threaded use during load/set/resolve (start-up, reload).
 */
#define _GNU_SOURCE
#include "tierfs_config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* ---- the option table ------------------------------------------------ */

#define G_OFF(f) offsetof(struct tcfg, f)
#define T_OFF(f) offsetof(struct tcfg_tier, f)

/*
 * X(key, scope, type, default, metavar, mount_option, offset, lo, hi, help)
 * lo/hi bound TCFG_T_INT values.  Tier keys are never mount options: a -o
 * option has no way to name the tier.
 */
#define TCFG_OPTION_LIST(X)                                                                        \
	X("placement", GLOBAL, ENUM, "first", "POLICY", 1, G_OFF(placement), 0, 0,                 \
	  "Policy that places new files when no model is loaded: first, most-free, round-robin, "  \
	  "random, or the name of a tier.")                                                        \
	X("model", GLOBAL, PATH, NULL, "FILE", 1, G_OFF(model), 0, 0,                              \
	  "Placement model (JSON) loaded at start-up; without one the placement policy decides.")  \
	X("state_dir", GLOBAL, PATH, NULL, "DIR", 1, G_OFF(state_dir), 0, 0,                       \
	  "Directory for the daemon's state (control socket, inode map), created with mode 0700; " \
	  "default $XDG_RUNTIME_DIR/tierfs, else /tmp/tierfs-$USER.")                              \
	X("log_level", GLOBAL, ENUM, "info", "LEVEL", 1, G_OFF(log_level), 0, 0,                   \
	  "Least severe messages logged: error, warn, info or debug.")                             \
	X("entry_timeout", GLOBAL, SECONDS, "60", "SECONDS", 1, G_OFF(entry_timeout), 0, 0,        \
	  "How long the kernel may cache a name lookup; changes made in the tier directories "     \
	  "behind tierfs's back may take this long to show.")                                      \
	X("attr_timeout", GLOBAL, SECONDS, "60", "SECONDS", 1, G_OFF(attr_timeout), 0, 0,          \
	  "How long the kernel may cache file attributes.")                                        \
	X("negative_timeout", GLOBAL, SECONDS, "1", "SECONDS", 1, G_OFF(negative_timeout), 0, 0,   \
	  "How long the kernel may cache that a name does not exist.")                             \
	X("writeback_cache", GLOBAL, BOOL, "false", "BOOL", 1, G_OFF(writeback_cache), 0, 0,       \
	  "Let the kernel buffer writes and send them in larger pieces (faster small writes; "     \
	  "the kernel refuses it together with passthrough).")                                     \
	X("passthrough", GLOBAL, BOOL, "false", "BOOL", 1, G_OFF(passthrough), 0, 0,               \
	  "Hand files opened read-only to the kernel (FUSE passthrough) so reads run at native "   \
	  "speed; needs root and Linux 6.9 or later.")                                             \
	X("splice_reads", GLOBAL, BOOL, "true", "BOOL", 1, G_OFF(splice_reads), 0, 0,              \
	  "Over /dev/fuse, send large READ replies by splicing the tier file's pages to the "      \
	  "kernel instead of copying them through the daemon (1 MiB reads ran 15-30% faster). "    \
	  "A reply and its header must fit a pipe an ordinary user may have (1 MiB), so reads "    \
	  "reach the daemon in pieces of at most 1020 KiB.")                                       \
	X("io_uring", GLOBAL, BOOL, "true", "BOOL", 1, G_OFF(io_uring), 0, 0,                      \
	  "Take requests over io_uring, one ring per CPU, where the kernel offers it (Linux 6.14+ "  \
	  "after root sets /sys/module/fuse/parameters/enable_uring to Y); else over /dev/fuse. "   \
	  "io_uring serves each request on its caller's CPU: faster for large writes and "          \
	  "parallel callers; /dev/fuse is faster for creates and one caller's small requests.")     \
	X("threads", GLOBAL, INT, "8", "N", 1, G_OFF(threads), 1, 256,                             \
	  "Maximum number of FUSE worker threads, from 1 to 256.")                                 \
	X("spin", GLOBAL, DURATION, "50us", "TIME", 1, G_OFF(spin_ns), 0, 0,                       \
	  "While requests come one at a time over /dev/fuse, how long the thread that reads them " \
	  "polls for the next before it sleeps: a caller issuing requests one after another "      \
	  "then finds it awake (creates and unlinks ran 1.5-2x faster), at the cost of up to "      \
	  "that much CPU after each request; 0 turns it off.")                                    \
	X("migrate_threads", GLOBAL, INT, "2", "N", 1, G_OFF(migrate_threads), 0, 16,              \
	  "Moves between tiers in flight at most (0 turns the background migrator off; "          \
	  "a full tier still spills).")                                                            \
	X("phase_model", GLOBAL, PATH, NULL, "FILE", 1, G_OFF(phase_model), 0, 0,                  \
	  "Phase model (JSON, from tiertrain phases): the daemon tracks the load's phase every "   \
	  "tick and shows it in tierctl status.")                                                  \
	X("proactive", GLOBAL, BOOL, "false", "BOOL", 1, G_OFF(proactive), 0, 0,                   \
	  "Demote cold files before a tier reaches its high watermark, as soon as its free space " \
	  "drops below what the phases likely to come would write (needs phase_model).")          \
	X("proactive_horizon", GLOBAL, SECONDS, "10", "SECONDS", 1, G_OFF(proactive_horizon), 0, 0, \
	  "Seconds of the coming phases' fill (their 95th percentile rate) that proactive mode "   \
	  "keeps free in each tier, at most down to the low watermark.")                           \
	X("proactive_theta", GLOBAL, FRACTION, "0.05", "FRACTION", 1, G_OFF(proactive_theta), 0, 0, \
	  "Probability above which a phase reachable within proactive_horizon counts for the "   \
	  "headroom, and the likeliest next phase counts for prefetch.")                           \
	X("proactive_prefetch", GLOBAL, BOOL, "false", "BOOL", 1, G_OFF(proactive_prefetch), 0, 0, \
	  "In proactive mode, while the current or the likeliest next phase is read-heavy, move "  \
	  "the running and next levels' inputs that are read twice or more to a faster tier "      \
	  "(off by default: in simulation it cut I/O time but sometimes raised spills).")          \
	X("plan_check", GLOBAL, BOOL, "true", "BOOL", 1, G_OFF(plan_check), 0, 0,                  \
	  "When a workflow is attached and a model is loaded, simulate the workflow with the "     \
	  "model and with each tier alone (in the tiers' free space, at its declared task "        \
	  "runtimes) and place all its files on the fastest tier (the next with room when it is "  \
	  "full) unless the model is faster still; the plan and its figures are logged and shown " \
	  "by tierctl; a workflow the simulator cannot run keeps the model.")                      \
	X("plan_check_cores", GLOBAL, INT, "0", "N", 1, G_OFF(plan_check_cores), 0, 4096,          \
	  "Cores the plan check simulates the workflow on (its tasks' parallelism); 0 means the "  \
	  "machine's online cores.")                                                               \
	X("path", TIER, PATH, NULL, "DIR", 0, T_OFF(path), 0, 0,                                   \
	  "Existing directory that holds this tier's files (required); relative paths are "        \
	  "relative to the configuration file.")                                                   \
	X("capacity", TIER, CAPACITY, "100%", "SIZE|NN%", 0, T_OFF(capacity), 0, 0,                \
	  "Bytes this tier may hold, as a size (64G, 1.5T) or a percentage of its backing "        \
	  "filesystem.")                                                                           \
	X("high_watermark", TIER, FRACTION, "0.90", "FRACTION", 0, T_OFF(high_watermark), 0, 0,    \
	  "Fill level (0..1 or NN%) at which the migrator starts moving files out of this tier.")  \
	X("low_watermark", TIER, FRACTION, "0.70", "FRACTION", 0, T_OFF(low_watermark), 0, 0,      \
	  "Fill level at which the migrator stops; must be below high_watermark.")                 \
	X("migrate_share", TIER, FRACTION, "0.5", "FRACTION", 0, T_OFF(migrate_share), 0, 0,       \
	  "Share of the declared write_bandwidth that migrations into this tier may use, so "      \
	  "they yield to the applications' own I/O.")                                              \
	X("read_bandwidth", TIER, RATE, NULL, "RATE", 0, T_OFF(read_bandwidth), 0, 0,              \
	  "Declared read bandwidth in bytes per second (e.g. 2G/s), used by the model and the "    \
	  "simulator; absent means unknown.")                                                      \
	X("write_bandwidth", TIER, RATE, NULL, "RATE", 0, T_OFF(write_bandwidth), 0, 0,            \
	  "Declared write bandwidth in bytes per second; absent means unknown.")                   \
	X("latency", TIER, DURATION, NULL, "TIME", 0, T_OFF(latency_ns), 0, 0,                     \
	  "Declared per-operation latency (e.g. 100us, 2ms); absent means unknown.")               \
	X("emulate_read_bandwidth", TIER, RATE, "0", "RATE", 0, T_OFF(emulate_read_bandwidth), 0,  \
	  0, "Throttle reads from this tier to this rate, to emulate slower storage on one "       \
	     "machine; 0 turns it off.")                                                           \
	X("emulate_write_bandwidth", TIER, RATE, "0", "RATE", 0, T_OFF(emulate_write_bandwidth),   \
	  0, 0, "Throttle writes to this tier to this rate; 0 turns it off.")                      \
	X("emulate_latency", TIER, DURATION, "0", "TIME", 0, T_OFF(emulate_latency_ns), 0, 0,      \
	  "Delay added to each operation on this tier; 0 turns it off.")

#define AS_OPTION(k, sc, ty, dv, mv, mo, off, lo, hi, hp)                                         \
	{.key = k,                                                                                 \
	 .scope = TCFG_SCOPE_##sc,                                                                 \
	 .type = TCFG_T_##ty,                                                                      \
	 .defval = dv,                                                                             \
	 .metavar = mv,                                                                            \
	 .help = hp,                                                                               \
	 .mount_option = mo},
#define AS_BINDING(k, sc, ty, dv, mv, mo, off, lo, hi, hp) {off, lo, hi},

const struct tcfg_option tcfg_options[] = {TCFG_OPTION_LIST(AS_OPTION)};
const size_t tcfg_noptions = sizeof(tcfg_options) / sizeof(tcfg_options[0]);

/* Where each option lands in struct tcfg or struct tcfg_tier; same order as
 * tcfg_options because both come from the one list above. */
static const struct binding {
	size_t offset;
	int lo, hi;
} bindings[] = {TCFG_OPTION_LIST(AS_BINDING)};

#define NOPT (sizeof(bindings) / sizeof(bindings[0]))

static const char *const placement_names[] = {
	[TCFG_PLACE_FIRST] = "first",		  [TCFG_PLACE_MOST_FREE] = "most-free",
	[TCFG_PLACE_ROUND_ROBIN] = "round-robin", [TCFG_PLACE_RANDOM] = "random",
	[TCFG_PLACE_TIER] = "tier",
};
static const char *const log_level_names[] = {
	[TCFG_LOG_ERROR] = "error",
	[TCFG_LOG_WARN] = "warn",
	[TCFG_LOG_INFO] = "info",
	[TCFG_LOG_DEBUG] = "debug",
};

const char *tcfg_placement_name(enum tcfg_placement p)
{
	if ((unsigned)p >= sizeof(placement_names) / sizeof(placement_names[0]))
		return "?";
	return placement_names[p];
}

const char *tcfg_log_level_name(enum tcfg_log_level l)
{
	if ((unsigned)l >= sizeof(log_level_names) / sizeof(log_level_names[0]))
		return "?";
	return log_level_names[l];
}

const char *tcfg_type_desc(enum tcfg_type t)
{
	switch (t) {
	case TCFG_T_STRING:
		return "a string";
	case TCFG_T_PATH:
		return "a path; $VAR, ${VAR} and a leading ~ are expanded";
	case TCFG_T_SIZE:
		return "a size in bytes with an optional K, M, G or T suffix (powers of 1024), e.g. 4096, 64K, 1.5G";
	case TCFG_T_CAPACITY:
		return "a size greater than 0 like 64G or 1.5T, or a percentage like 25%";
	case TCFG_T_RATE:
		return "bytes per second like 500M, 2G/s or 1.5G";
	case TCFG_T_FRACTION:
		return "a fraction from 0 to 1 like 0.9, or a percentage like 90%";
	case TCFG_T_DURATION:
		return "a time like 100us, 2ms or 1s; a bare number is microseconds";
	case TCFG_T_SECONDS:
		return "seconds like 1, 0.5 or 250ms";
	case TCFG_T_BOOL:
		return "true, false, yes, no, on, off, 1 or 0";
	case TCFG_T_INT:
		return "an integer";
	case TCFG_T_ENUM:
		return "one of the listed words";
	}
	return "?";
}

int tcfg_option_index(const char *key)
{
	for (size_t i = 0; i < tcfg_noptions; i++)
		if (strcmp(tcfg_options[i].key, key) == 0)
			return (int)i;
	return -1;
}

/* ---- value parsers --------------------------------------------------- */

/* A plain decimal "123" or "1.25": no sign, no exponent, no hex, no inf, so
 * "-1" and "0x10" are refused instead of wrapping or surprising. */
static int scan_decimal(const char *s, const char **end, uint64_t *ip, long double *frac)
{
	uint64_t v = 0;
	const char *p = s;
	int range = 0;

	while (*p >= '0' && *p <= '9') {
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v))
			range = 1;
		p++;
	}
	long double f = 0, scale = 0.1L;
	int ndig = (int)(p - s);
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			f += (*p - '0') * scale;
			scale /= 10;
			p++;
			ndig++;
		}
	}
	if (ndig == 0)
		return -EINVAL;
	*end = p;
	*ip = v;
	*frac = f;
	return range ? -ERANGE : 0;
}

static const char *skip_spaces(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* ip.frac * mult as an exact uint64 where possible, rounded otherwise. */
static int scale_u64(uint64_t ip, long double frac, uint64_t mult, uint64_t *out)
{
	uint64_t v;

	if (__builtin_mul_overflow(ip, mult, &v))
		return -ERANGE;
	if (frac > 0) {
		long double extra = roundl(frac * (long double)mult);
		if ((long double)v + extra >= 18446744073709551616.0L)
			return -ERANGE;
		v += (uint64_t)extra;
	}
	*out = v;
	return 0;
}

static int parse_scaled(const char *s, int per_second, uint64_t *out)
{
	const char *p;
	uint64_t ip, mult = 1;
	long double frac;
	int rc;

	if (!s)
		return -EINVAL;
	rc = scan_decimal(s, &p, &ip, &frac);
	if (rc == -EINVAL)
		return rc;
	p = skip_spaces(p);
	static const char units[] = "KMGTPE";
	const char *u = *p ? strchr(units, *p & ~0x20) : NULL;
	if (u) {
		mult = 1ULL << (10 * (u - units + 1));
		p++;
		if (*p == 'i')
			p++;
	}
	if (*p == 'B' || *p == 'b')
		p++;
	if (per_second && p[0] == '/' && (p[1] == 's' || p[1] == 'S'))
		p += 2;
	if (*p)
		return -EINVAL;
	if (rc)
		return rc;
	return scale_u64(ip, frac, mult, out);
}

int tcfg_parse_size(const char *s, uint64_t *out)
{
	return parse_scaled(s, 0, out);
}

int tcfg_parse_rate(const char *s, uint64_t *out)
{
	return parse_scaled(s, 1, out);
}

/* Scans a number and a time unit; mult is in ns, bare_ns applies to a bare
 * number (microseconds for latencies, seconds for kernel timeouts). */
static int scan_time(const char *s, uint64_t bare_ns, uint64_t *ip, long double *frac,
		     uint64_t *mult)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}};
	const char *p;
	int rc;

	if (!s)
		return -EINVAL;
	rc = scan_decimal(s, &p, ip, frac);
	if (rc == -EINVAL)
		return rc;
	p = skip_spaces(p);
	*mult = bare_ns;
	if (*p) {
		size_t i;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(p, units[i].name) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -EINVAL;
		*mult = units[i].ns;
	}
	return rc;
}

int tcfg_parse_duration_ns(const char *s, uint64_t *out)
{
	uint64_t ip, mult;
	long double frac;
	int rc = scan_time(s, 1000, &ip, &frac, &mult);

	return rc ? rc : scale_u64(ip, frac, mult, out);
}

int tcfg_parse_seconds(const char *s, double *out)
{
	uint64_t ip, mult;
	long double frac;
	int rc = scan_time(s, 1000000000, &ip, &frac, &mult);

	if (rc)
		return rc;
	long double v = ((long double)ip + frac) * (long double)mult / 1e9L;
	/* A day is far beyond any sensible kernel cache timeout; refusing more
	 * catches a unit typo ("1000000" meant as microseconds). */
	if (v > 86400.0L)
		return -ERANGE;
	*out = (double)v;
	return 0;
}

int tcfg_parse_fraction(const char *s, double *out)
{
	const char *p;
	uint64_t ip;
	long double frac, v;
	int rc;

	if (!s)
		return -EINVAL;
	rc = scan_decimal(s, &p, &ip, &frac);
	if (rc == -EINVAL)
		return rc;
	p = skip_spaces(p);
	v = (long double)ip + frac;
	if (*p == '%') {
		v /= 100;
		p++;
	}
	if (*p)
		return -EINVAL;
	if (rc || v > 1.0L)
		return -ERANGE;
	*out = (double)v;
	return 0;
}

int tcfg_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	if (!s || !((*s >= '0' && *s <= '9') || *s == '-'))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < lo || v > hi)
		return -ERANGE;
	*out = (int)v;
	return 0;
}

/* ---- errors ---------------------------------------------------------- */

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* ---- paths ----------------------------------------------------------- */

/* Lexical normalisation of an absolute path: no "//", ".", ".." or trailing
 * slash.  Lexical because tier directories need not exist at load time;
 * tcfg_resolve() compares realpath()s. */
static void normalise(char *path)
{
	char *out = path, *p = path;

	while (*p) {
		while (*p == '/')
			p++;
		char *seg = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			while (out > path && *--out != '/')
				;
			continue;
		}
		*out++ = '/';
		memmove(out, seg, n);
		out += n;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
}

struct sbuf {
	char *s;
	size_t len, cap;
	int oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *t = realloc(b->s, cap);
		if (!t) {
			b->oom = 1;
			return;
		}
		b->s = t;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/*
 * Expand $VAR, ${VAR} and a leading ~, make the result absolute against
 * base_dir (the config file's directory, or the cwd for -o options), and
 * normalise.  On error *why names the problem.
 */
static int expand_path(const char *in, const char *base_dir, char **out, char *why, size_t wlen)
{
	struct sbuf b = {0};
	const char *p = in;

	if (!*in)
		return fail(why, wlen, -EINVAL, "empty path");
	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0')) {
		const char *home = getenv("HOME");
		if (!home)
			return fail(why, wlen, -EINVAL,
				    "'~' used but environment variable 'HOME' is not set");
		sb_add(&b, home, strlen(home));
		p++;
	} else if (p[0] == '~') {
		return fail(why, wlen, -EINVAL,
			    "'~user' is not supported (expected ~/..., $HOME/... or a full path)");
	}
	while (*p) {
		if (*p != '$') {
			size_t n = strcspn(p, "$");
			sb_add(&b, p, n);
			p += n;
			continue;
		}
		const char *name = p + 1, *end;
		int braced = *name == '{';
		if (braced)
			name++;
		end = name;
		while ((*end >= 'A' && *end <= 'Z') || (*end >= 'a' && *end <= 'z') ||
		       (*end >= '0' && *end <= '9' && end > name) || *end == '_')
			end++;
		if (end == name || (braced && *end != '}')) {
			free(b.s);
			return fail(why, wlen, -EINVAL,
				    "bad variable reference at '%s' (expected $NAME or ${NAME})", p);
		}
		char var[256];
		size_t n = (size_t)(end - name);
		if (n >= sizeof(var)) {
			free(b.s);
			return fail(why, wlen, -EINVAL, "variable name too long at '%s'", p);
		}
		memcpy(var, name, n);
		var[n] = '\0';
		const char *val = getenv(var);
		if (!val && strcmp(var, "USER") == 0) {
			/* cron, systemd units and sudo -i may leave USER unset;
			 * the account is known anyway. */
			struct passwd *pw = getpwuid(geteuid());
			val = pw ? pw->pw_name : NULL;
		}
		if (!val) {
			free(b.s);
			return fail(why, wlen, -EINVAL, "environment variable '%s' is not set", var);
		}
		sb_add(&b, val, strlen(val));
		p = end + braced;
	}
	if (b.oom || !b.s) {
		free(b.s);
		return fail(why, wlen, -ENOMEM, "out of memory");
	}
	if (b.s[0] != '/') {
		char *abs;
		if (asprintf(&abs, "%s/%s", base_dir, b.s) < 0) {
			free(b.s);
			return fail(why, wlen, -ENOMEM, "out of memory");
		}
		free(b.s);
		b.s = abs;
	}
	normalise(b.s);
	*out = b.s;
	return 0;
}

static int cwd_dir(char **out)
{
	char *cwd = getcwd(NULL, 0);

	if (!cwd)
		return -errno;
	*out = cwd;
	return 0;
}

/* ---- setting one value ---------------------------------------------- */

/* A tier name appears in placement=, xattrs and tierctl: keep it a word. */
static int valid_tier_name(const char *n)
{
	if (!*n || strlen(n) > 64)
		return 0;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return 0;
	for (size_t i = 0; i < sizeof(placement_names) / sizeof(placement_names[0]); i++)
		if (strcmp(n, placement_names[i]) == 0)
			return 0;
	return 1;
}

static int set_placement(struct tcfg *c, const char *v, char *why, size_t wlen)
{
	for (int i = 0; i < TCFG_PLACE_TIER; i++)
		if (strcmp(v, placement_names[i]) == 0) {
			c->placement = (enum tcfg_placement)i;
			c->placement_tier = -1;
			return 0;
		}
	int t = tcfg_tier_index(c, v);
	if (t < 0) {
		if (c->ntiers == 0)
			return fail(why, wlen, -EINVAL,
				    "unknown policy or tier '%s' (expected first, most-free, round-robin, random or a tier name; no tiers are declared)",
				    v);
		char names[TCFG_MAX_TIERS * 70] = "";
		for (size_t i = 0; i < c->ntiers; i++) {
			strcat(names, i ? ", " : "");
			strcat(names, c->tiers[i].name);
		}
		return fail(why, wlen, -EINVAL,
			    "unknown policy or tier '%s' (expected first, most-free, round-robin, random or one of the tiers: %s)",
			    v, names);
	}
	c->placement = TCFG_PLACE_TIER;
	c->placement_tier = t;
	return 0;
}

/*
 * Parse v as option i into c (global) or tier t.  base_dir resolves relative
 * paths.  On error, *why holds "what is wrong (expected ...)".
 */
static int set_value(struct tcfg *c, struct tcfg_tier *t, size_t i, const char *v,
		     const char *base_dir, char *why, size_t wlen)
{
	const struct tcfg_option *o = &tcfg_options[i];
	const struct binding *bd = &bindings[i];
	char *field = (o->scope == TCFG_SCOPE_TIER ? (char *)t : (char *)c) + bd->offset;
	int rc = -EINVAL;

	switch (o->type) {
	case TCFG_T_STRING: {
		char *s = strdup(v);
		if (!s)
			return fail(why, wlen, -ENOMEM, "out of memory");
		free(*(char **)field);
		*(char **)field = s;
		return 0;
	}
	case TCFG_T_PATH: {
		char *s;
		rc = expand_path(v, base_dir, &s, why, wlen);
		if (rc)
			return rc;
		free(*(char **)field);
		*(char **)field = s;
		return 0;
	}
	case TCFG_T_SIZE:
		rc = tcfg_parse_size(v, (uint64_t *)field);
		break;
	case TCFG_T_RATE:
		rc = tcfg_parse_rate(v, (uint64_t *)field);
		break;
	case TCFG_T_CAPACITY: {
		size_t n = strlen(v);
		if (n && v[n - 1] == '%') {
			double f;
			rc = tcfg_parse_fraction(v, &f);
			if (rc == 0 && f <= 0)
				rc = -ERANGE;
			if (rc == 0) {
				t->capacity_pct = f * 100;
				t->capacity = 0;
			}
		} else {
			uint64_t b;
			rc = tcfg_parse_size(v, &b);
			if (rc == 0 && b == 0)
				rc = -ERANGE;
			if (rc == 0) {
				t->capacity = b;
				t->capacity_pct = 0;
			}
		}
		break;
	}
	case TCFG_T_FRACTION:
		rc = tcfg_parse_fraction(v, (double *)field);
		break;
	case TCFG_T_DURATION:
		rc = tcfg_parse_duration_ns(v, (uint64_t *)field);
		break;
	case TCFG_T_SECONDS:
		rc = tcfg_parse_seconds(v, (double *)field);
		break;
	case TCFG_T_BOOL:
		rc = tcfg_parse_bool(v, (int *)field);
		break;
	case TCFG_T_INT:
		rc = parse_int(v, bd->lo, bd->hi, (int *)field);
		if (rc)
			return fail(why, wlen, rc, "%s '%s' (expected an integer from %d to %d)",
				    rc == -ERANGE ? "value out of range" : "bad value", v, bd->lo,
				    bd->hi);
		return 0;
	case TCFG_T_ENUM:
		if (field == (char *)&c->placement)
			return set_placement(c, v, why, wlen);
		for (int k = 0; k <= TCFG_LOG_DEBUG; k++)
			if (strcmp(v, log_level_names[k]) == 0) {
				*(enum tcfg_log_level *)field = (enum tcfg_log_level)k;
				return 0;
			}
		return fail(why, wlen, -EINVAL,
			    "bad value '%s' (expected one of: error, warn, info, debug)", v);
	}
	if (rc == 0)
		return 0;
	return fail(why, wlen, rc, "%s '%s' (expected %s)",
		    rc == -ERANGE ? "value out of range" : "bad value", v, tcfg_type_desc(o->type));
}

/* ---- the INI reader -------------------------------------------------- */

#define SEC_NONE (-1)
#define SEC_GLOBAL (-2)
#define GLOBAL_SLOT TCFG_MAX_TIERS

struct loader {
	const char *file;
	char *dir; /* absolute directory of file: base for relative paths */
	struct tcfg *c;
	int section; /* SEC_NONE, SEC_GLOBAL or a tier index */
	int seen[TCFG_MAX_TIERS + 1][NOPT]; /* line where each key was set, 0 = not yet */
	char *placement;		    /* kept until all tiers are known */
	int placement_line;
	char *err;
	size_t errlen;
};

static const char *sec_label(struct loader *L, char *buf, size_t n)
{
	if (L->section == SEC_GLOBAL)
		return "[global]";
	snprintf(buf, n, "[tier %s]", L->c->tiers[L->section].name);
	return buf;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	*e = '\0';
	return s;
}

static int open_section(struct loader *L, char *name, int line)
{
	struct tcfg *c = L->c;

	if (strcmp(name, "global") == 0) {
		L->section = SEC_GLOBAL;
		return 0;
	}
	if (strcmp(name, "tier") == 0)
		return fail(L->err, L->errlen, -EINVAL, "%s:%d: [tier]: tier name missing (expected [tier NAME])", L->file, line);
	if (strncmp(name, "tier", 4) != 0 || (name[4] != ' ' && name[4] != '\t'))
		return fail(L->err, L->errlen, -EINVAL,
			    "%s:%d: [%s]: unknown section (expected [global] or [tier NAME])",
			    L->file, line, name);
	char *tn = trim(name + 4);
	if (!valid_tier_name(tn))
		return fail(L->err, L->errlen, -EINVAL,
			    "%s:%d: [tier %s]: bad tier name (expected letters, digits, '_', '-' or '.', at most 64, and not a placement policy name)",
			    L->file, line, tn);
	int dup = tcfg_tier_index(c, tn);
	if (dup >= 0)
		return fail(L->err, L->errlen, -EINVAL,
			    "%s:%d: [tier %s]: duplicate tier name (first declared on line %d)",
			    L->file, line, tn, c->tiers[dup].line);
	if (c->ntiers == TCFG_MAX_TIERS)
		return fail(L->err, L->errlen, -EINVAL,
			    "%s:%d: [tier %s]: too many tiers (expected at most %d)", L->file, line,
			    tn, TCFG_MAX_TIERS);
	struct tcfg_tier *t = &c->tiers[c->ntiers];
	t->name = strdup(tn);
	if (!t->name)
		return fail(L->err, L->errlen, -ENOMEM, "%s:%d: out of memory", L->file, line);
	t->line = line;
	L->section = (int)c->ntiers++;
	char why[TCFG_ERRLEN];
	for (size_t i = 0; i < NOPT; i++) {
		if (tcfg_options[i].scope != TCFG_SCOPE_TIER || !tcfg_options[i].defval)
			continue;
		int rc = set_value(c, t, i, tcfg_options[i].defval, L->dir, why, sizeof(why));
		if (rc)
			return fail(L->err, L->errlen, rc, "%s:%d: built-in default of '%s': %s",
				    L->file, line, tcfg_options[i].key, why);
	}
	return 0;
}

static void list_keys(enum tcfg_scope scope, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < tcfg_noptions && len < n; i++)
		if (tcfg_options[i].scope == scope)
			len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "",
						tcfg_options[i].key);
}

static int set_key(struct loader *L, char *key, char *value, int line)
{
	char sb[100], why[TCFG_ERRLEN], keys[400];
	const char *sec;

	if (L->section == SEC_NONE)
		return fail(L->err, L->errlen, -EINVAL,
			    "%s:%d: key '%s': outside any section (expected [global] or [tier NAME] first)",
			    L->file, line, key);
	sec = sec_label(L, sb, sizeof(sb));
	enum tcfg_scope scope = L->section == SEC_GLOBAL ? TCFG_SCOPE_GLOBAL : TCFG_SCOPE_TIER;
	int i = tcfg_option_index(key);
	if (i < 0 || tcfg_options[i].scope != scope) {
		list_keys(scope, keys, sizeof(keys));
		if (i >= 0)
			return fail(L->err, L->errlen, -EINVAL,
				    "%s:%d: %s key '%s': unknown key in this section, it belongs in %s (expected one of: %s)",
				    L->file, line, sec, key,
				    scope == TCFG_SCOPE_GLOBAL ? "[tier NAME]" : "[global]", keys);
		return fail(L->err, L->errlen, -EINVAL,
			    "%s:%d: %s key '%s': unknown key (expected one of: %s)", L->file, line,
			    sec, key, keys);
	}
	int slot = L->section == SEC_GLOBAL ? GLOBAL_SLOT : L->section;
	if (L->seen[slot][i])
		return fail(L->err, L->errlen, -EINVAL,
			    "%s:%d: %s key '%s': duplicate key (first set on line %d)", L->file,
			    line, sec, key, L->seen[slot][i]);
	L->seen[slot][i] = line;
	size_t vn = strlen(value);
	/* Quotes would become part of a path: say so rather than look for '"/x"'. */
	if (vn >= 2 && (value[0] == '"' || value[0] == '\'') && value[vn - 1] == value[0])
		return fail(L->err, L->errlen, -EINVAL, "%s:%d: %s key '%s': quoted value %s (expected the value without quotes)", L->file, line, sec, key, value);
	if (bindings[i].offset == G_OFF(placement) && scope == TCFG_SCOPE_GLOBAL) {
		/* A tier name may be declared further down: decide at the end. */
		L->placement = strdup(value);
		L->placement_line = line;
		return L->placement ? 0 : -ENOMEM;
	}
	struct tcfg_tier *t = L->section >= 0 ? &L->c->tiers[L->section] : NULL;
	int rc = set_value(L->c, t, (size_t)i, value, L->dir, why, sizeof(why));
	if (rc)
		return fail(L->err, L->errlen, rc, "%s:%d: %s key '%s': %s", L->file, line, sec,
			    key, why);
	return 0;
}

/* Inline comments need whitespace before # or ; so "a#b" stays a value. */
static void strip_inline_comment(char *v)
{
	for (char *p = v; *p; p++)
		if ((*p == '#' || *p == ';') && p > v && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
}

static int read_file(struct loader *L, FILE *f)
{
	char *buf = NULL;
	size_t cap = 0;
	int line = 0, rc = 0;

	errno = 0;
	while (rc == 0 && getline(&buf, &cap, f) >= 0) {
		char *s = buf;
		line++;
		if (line == 1 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
		    (unsigned char)s[2] == 0xBF)
			s += 3;
		s = trim(s);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (!close) {
				rc = fail(L->err, L->errlen, -EINVAL,
					  "%s:%d: unterminated section header '%s' (expected [global] or [tier NAME])",
					  L->file, line, s);
				break;
			}
			char *rest = trim(close + 1);
			if (*rest && *rest != '#' && *rest != ';') {
				rc = fail(L->err, L->errlen, -EINVAL,
					  "%s:%d: text '%s' after section header (expected a comment or nothing)",
					  L->file, line, rest);
				break;
			}
			*close = '\0';
			rc = open_section(L, trim(s + 1), line);
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = fail(L->err, L->errlen, -EINVAL,
				  "%s:%d: cannot read '%s' (expected 'key = value', a [section] or a # comment)",
				  L->file, line, s);
			break;
		}
		*eq = '\0';
		char *key = trim(s), *value = eq + 1;
		strip_inline_comment(value);
		value = trim(value);
		if (!*key) {
			rc = fail(L->err, L->errlen, -EINVAL,
				  "%s:%d: '= %s' has no key (expected 'key = value')", L->file, line,
				  value);
			break;
		}
		rc = set_key(L, key, value, line);
	}
	if (rc == 0 && ferror(f)) {
		rc = errno ? -errno : -EIO;
		fail(L->err, L->errlen, rc, "%s:%d: cannot read configuration file: %s", L->file,
		     line + 1, strerror(-rc));
	}
	free(buf);
	return rc;
}

/* Checks that need the whole file: required keys, watermark order, at
 * least one tier, the placement tier. */
static int finish(struct loader *L)
{
	struct tcfg *c = L->c;
	char why[TCFG_ERRLEN];
	int hi = tcfg_option_index("high_watermark"), lo = tcfg_option_index("low_watermark");

	if (c->ntiers == 0)
		return fail(L->err, L->errlen, -EINVAL,
			    "%s: no tiers declared (expected at least one [tier NAME] section with a path)",
			    L->file);
	for (size_t t = 0; t < c->ntiers; t++) {
		struct tcfg_tier *tr = &c->tiers[t];
		for (size_t i = 0; i < NOPT; i++) {
			const struct tcfg_option *o = &tcfg_options[i];
			if (o->scope == TCFG_SCOPE_TIER && o->type == TCFG_T_PATH &&
			    !L->seen[t][i])
				return fail(L->err, L->errlen, -EINVAL,
					    "%s:%d: [tier %s] key '%s': missing (expected %s = %s, the tier's directory)",
					    L->file, tr->line, tr->name, o->key, o->key, o->metavar);
		}
		if (tr->low_watermark >= tr->high_watermark) {
			int line = L->seen[t][lo] ? L->seen[t][lo] : L->seen[t][hi];
			if (!line)
				line = tr->line;
			return fail(L->err, L->errlen, -EINVAL,
				    "%s:%d: [tier %s] key 'low_watermark': %g is not below high_watermark %g (expected low_watermark < high_watermark)",
				    L->file, line, tr->name, tr->low_watermark, tr->high_watermark);
		}
	}
	if (L->placement) {
		int rc = set_placement(c, L->placement, why, sizeof(why));
		if (rc)
			return fail(L->err, L->errlen, rc, "%s:%d: [global] key 'placement': %s",
				    L->file, L->placement_line, why);
	}
	return 0;
}

static int default_state_dir(char **out)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	const char *user = getenv("USER");
	char uidbuf[32];
	int n;

	if (xdg && xdg[0] == '/') {
		n = asprintf(out, "%s/tierfs", xdg);
	} else {
		if (!user || !*user) {
			struct passwd *pw = getpwuid(getuid());
			if (pw)
				user = pw->pw_name;
			else {
				snprintf(uidbuf, sizeof(uidbuf), "%u", (unsigned)getuid());
				user = uidbuf;
			}
		}
		n = asprintf(out, "/tmp/tierfs-%s", user);
	}
	if (n < 0)
		return -ENOMEM;
	normalise(*out);
	return 0;
}

int tcfg_load(const char *file, struct tcfg **out, char *err, size_t errlen)
{
	struct loader *L = NULL;
	struct tcfg *c = NULL;
	FILE *f = NULL;
	char why[TCFG_ERRLEN];
	int rc;

	*out = NULL;
	if (!file || !*file)
		return fail(err, errlen, -EINVAL, "no configuration file given (expected -o config=FILE)");
	c = calloc(1, sizeof(*c));
	L = calloc(1, sizeof(*L));
	if (!c || !L || !(c->file = strdup(file))) {
		rc = fail(err, errlen, -ENOMEM, "%s: out of memory", file);
		goto out;
	}
	c->placement_tier = -1;
	L->file = file;
	L->c = c;
	L->section = SEC_NONE;
	L->err = err;
	L->errlen = errlen;

	/* The directory of the file, absolute: base for relative tier paths. */
	char *abs = NULL;
	if (file[0] == '/') {
		abs = strdup(file);
	} else {
		char *cwd = NULL;
		if (cwd_dir(&cwd) == 0) {
			if (asprintf(&abs, "%s/%s", cwd, file) < 0)
				abs = NULL;
			free(cwd);
		}
	}
	if (!abs) {
		rc = fail(err, errlen, -ENOMEM, "%s: cannot make the path absolute", file);
		goto out;
	}
	normalise(abs);
	*strrchr(abs, '/') = '\0';
	L->dir = *abs ? abs : (free(abs), strdup("/"));
	if (!L->dir) {
		rc = fail(err, errlen, -ENOMEM, "%s: out of memory", file);
		goto out;
	}

	for (size_t i = 0; i < NOPT; i++) {
		if (tcfg_options[i].scope != TCFG_SCOPE_GLOBAL || !tcfg_options[i].defval)
			continue;
		rc = set_value(c, NULL, i, tcfg_options[i].defval, L->dir, why, sizeof(why));
		if (rc) {
			rc = fail(err, errlen, rc, "%s: built-in default of '%s': %s", file,
				  tcfg_options[i].key, why);
			goto out;
		}
	}

	f = fopen(file, "r");
	if (!f) {
		rc = -errno;
		fail(err, errlen, rc, "%s: cannot open configuration file: %s", file,
		     strerror(-rc));
		goto out;
	}
	rc = read_file(L, f);
	if (rc == 0)
		rc = finish(L);
	if (rc == 0 && !c->state_dir && default_state_dir(&c->state_dir))
		rc = fail(err, errlen, -ENOMEM, "%s: out of memory", file);
out:
	if (f)
		fclose(f);
	if (L) {
		free(L->placement);
		free(L->dir);
		free(L);
	}
	if (rc) {
		tcfg_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int tcfg_set(struct tcfg *c, const char *key, const char *value, char *err, size_t errlen)
{
	char why[TCFG_ERRLEN], keys[400];
	char *cwd = NULL;
	int i = tcfg_option_index(key);
	int rc;

	if (i < 0 || !tcfg_options[i].mount_option) {
		list_keys(TCFG_SCOPE_GLOBAL, keys, sizeof(keys));
		return fail(err, errlen, -EINVAL,
			    "mount option '%s': unknown option%s (expected one of: %s)", key,
			    i >= 0 ? ", tier keys are set in the configuration file only" : "",
			    keys);
	}
	if (!value)
		return fail(err, errlen, -EINVAL, "mount option '%s': no value (expected %s=%s)",
			    key, key, tcfg_options[i].metavar);
	/* -o paths are relative to where the command was typed. */
	if (tcfg_options[i].type == TCFG_T_PATH && (rc = cwd_dir(&cwd)))
		return fail(err, errlen, rc, "mount option '%s': cannot get working directory: %s",
			    key, strerror(-rc));
	rc = set_value(c, NULL, (size_t)i, value, cwd ? cwd : "/", why, sizeof(why));
	free(cwd);
	if (rc)
		return fail(err, errlen, rc, "mount option '%s': %s", key, why);
	return 0;
}

int tcfg_tier_index(const struct tcfg *c, const char *name)
{
	for (size_t i = 0; i < c->ntiers; i++)
		if (strcmp(c->tiers[i].name, name) == 0)
			return (int)i;
	return -1;
}

void tcfg_free(struct tcfg *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ntiers; i++) {
		free(c->tiers[i].name);
		free(c->tiers[i].path);
	}
	free(c->file);
	free(c->state_dir);
	free(c->model);
	free(c->phase_model);
	free(c);
}

/* ---- start-up checks -------------------------------------------------- */

/* True when inner equals outer or lies below it (both canonical). */
static int path_within(const char *inner, const char *outer)
{
	size_t n = strlen(outer);

	if (strcmp(outer, "/") == 0)
		return 1;
	return strncmp(inner, outer, n) == 0 && (inner[n] == '\0' || inner[n] == '/');
}

static int mkdir_p(char *path, mode_t mode)
{
	struct stat st;

	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		int rc = mkdir(path, mode) == 0 || errno == EEXIST ? 0 : -errno;
		*p = saved;
		if (rc)
			return rc;
		if (!saved)
			break;
	}
	if (stat(path, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static void logf_(struct tcfg *c, enum tcfg_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void logf_(struct tcfg *c, enum tcfg_log_level lvl, const char *fmt, ...)
{
	char msg[TCFG_ERRLEN];
	va_list ap;

	if (!c->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->log(c->log_arg, lvl, msg);
}

int tcfg_resolve(struct tcfg *c, const char *mountpoint, char *err, size_t errlen)
{
	char *real[TCFG_MAX_TIERS] = {0};
	char *mp = NULL;
	struct stat st;
	int rc = 0;
	size_t i, j;

	for (i = 0; i < c->ntiers; i++) {
		struct tcfg_tier *t = &c->tiers[i];
		if (stat(t->path, &st) != 0) {
			rc = -errno;
			fail(err, errlen, rc,
			     "%s:%d: [tier %s] key 'path': '%s': %s (expected an existing directory)",
			     c->file, t->line, t->name, t->path, strerror(-rc));
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			rc = fail(err, errlen, -ENOTDIR,
				  "%s:%d: [tier %s] key 'path': '%s' is not a directory (expected an existing directory)",
				  c->file, t->line, t->name, t->path);
			goto out;
		}
		real[i] = realpath(t->path, NULL);
		if (!real[i]) {
			rc = -errno;
			fail(err, errlen, rc, "%s:%d: [tier %s] key 'path': '%s': %s", c->file,
			     t->line, t->name, t->path, strerror(-rc));
			goto out;
		}
	}
	for (i = 0; i < c->ntiers; i++)
		for (j = 0; j < c->ntiers; j++) {
			if (i == j || !path_within(real[i], real[j]))
				continue;
			const char *how = strcmp(real[i], real[j]) == 0 ? "is the same directory as"
									 : "lies inside";
			rc = fail(err, errlen, -EINVAL,
				  "%s:%d: [tier %s] key 'path': '%s' %s tier '%s' ('%s') (expected separate directories)",
				  c->file, c->tiers[i].line, c->tiers[i].name, real[i], how,
				  c->tiers[j].name, real[j]);
			goto out;
		}
	if (mountpoint) {
		mp = realpath(mountpoint, NULL);
		if (!mp) {
			rc = -errno;
			fail(err, errlen, rc, "mountpoint '%s': %s", mountpoint, strerror(-rc));
			goto out;
		}
		for (i = 0; i < c->ntiers; i++) {
			const char *how = NULL;
			if (path_within(mp, real[i]))
				how = "lies inside";
			else if (path_within(real[i], mp))
				how = "contains";
			if (!how)
				continue;
			rc = fail(err, errlen, -EINVAL,
				  "mountpoint '%s' %s the directory '%s' of tier '%s' (%s:%d) (expected a mountpoint outside all tier directories)",
				  mp, how, real[i], c->tiers[i].name, c->file, c->tiers[i].line);
			goto out;
		}
	}
	for (i = 0; i < c->ntiers; i++) {
		struct tcfg_tier *t = &c->tiers[i];
		struct statvfs vfs;
		if (statvfs(real[i], &vfs) != 0) {
			rc = -errno;
			fail(err, errlen, rc, "%s:%d: [tier %s] key 'path': statvfs '%s': %s",
			     c->file, t->line, t->name, real[i], strerror(-rc));
			goto out;
		}
		long double fs = (long double)vfs.f_blocks * vfs.f_frsize;
		if (t->capacity_pct > 0) {
			t->capacity = (uint64_t)(fs * t->capacity_pct / 100.0L);
			if (t->capacity == 0) {
				rc = fail(err, errlen, -EINVAL,
					  "%s:%d: [tier %s] key 'capacity': %g%% of the %llu-byte filesystem of '%s' is 0 bytes (expected a capacity above 0)",
					  c->file, t->line, t->name, t->capacity_pct,
					  (unsigned long long)fs, real[i]);
				goto out;
			}
		} else if ((long double)t->capacity > fs) {
			logf_(c, TCFG_LOG_WARN,
			      "tier '%s': capacity %llu bytes exceeds the %llu-byte filesystem of '%s'; the backend's ENOSPC will move files on before that",
			      t->name, (unsigned long long)t->capacity, (unsigned long long)fs,
			      real[i]);
		}
		free(t->path);
		t->path = real[i];
		real[i] = NULL;
	}
	if (c->state_dir) {
		rc = mkdir_p(c->state_dir, 0700);
		if (rc) {
			fail(err, errlen, rc, "state_dir '%s': %s (expected a directory it can create)",
			     c->state_dir, strerror(-rc));
			goto out;
		}
		/* The control socket lives here: a directory someone else owns or
		 * can write to (a squatted /tmp/tierfs-$USER) would hand it over. */
		if (stat(c->state_dir, &st) != 0) {
			rc = -errno;
			fail(err, errlen, rc, "state_dir '%s': %s", c->state_dir, strerror(-rc));
			goto out;
		}
		if (st.st_uid != geteuid()) {
			rc = fail(err, errlen, -EPERM, "state_dir '%s' is owned by uid %u (expected a directory owned by uid %u)", c->state_dir, (unsigned)st.st_uid, (unsigned)geteuid());
			goto out;
		}
		if (st.st_mode & 022) {
			rc = fail(err, errlen, -EPERM, "state_dir '%s' has mode %04o, writable by others (expected mode 0700 or 0755)", c->state_dir, (unsigned)(st.st_mode & 07777));
			goto out;
		}
	}
out:
	for (i = 0; i < c->ntiers; i++)
		free(real[i]);
	free(mp);
	return rc;
}

/* ---- --help ----------------------------------------------------------- */

/* Word-wrap text into columns [indent, width), first line already at col. */
static void wrap(FILE *out, const char *text, int col, int indent, int width)
{
	const char *p = text;

	while (*p) {
		size_t n = strcspn(p, " ");
		if (col > indent && col + 1 + (int)n > width) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, n, out);
		col += (int)n;
		p += n;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

static void help_line(FILE *out, const char *left, const char *text)
{
	enum { INDENT = 33, WIDTH = 79 };
	int col = fprintf(out, "    %s", left);

	if (col >= INDENT - 1) {
		fprintf(out, "\n%*s", INDENT, "");
		col = INDENT;
	} else {
		col += fprintf(out, "%*s", INDENT - col, "");
	}
	wrap(out, text, col, INDENT, WIDTH);
}

void tcfg_print_help(FILE *out)
{
	char left[128], text[TCFG_ERRLEN];

	fprintf(out, "tierfs options (the [global] keys of tierfs.conf(5); -o overrides the file):\n");
	help_line(out, "-o config=FILE",
		  "Configuration file, tierfs.conf(5), where the tiers are declared; default $XDG_CONFIG_HOME/tierfs/tierfs.conf (~/.config/tierfs/tierfs.conf), then /etc/tierfs/tierfs.conf.");
	for (size_t i = 0; i < tcfg_noptions; i++) {
		const struct tcfg_option *o = &tcfg_options[i];
		if (!o->mount_option)
			continue;
		snprintf(left, sizeof(left), "-o %s=%s", o->key, o->metavar);
		if (o->defval)
			snprintf(text, sizeof(text), "%s (default: %s)", o->help, o->defval);
		else
			snprintf(text, sizeof(text), "%s", o->help);
		help_line(out, left, text);
	}
}

void tcfg_roff(FILE *out, const char *s)
{
	/* backslashes and hyphens escaped (so they are neither broken nor
	 * typeset as dashes), a leading control character protected */
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}
