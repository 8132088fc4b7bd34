/*
 * tg_records.c - the per-file I/O record (tracegen.h): the CSV form the
 * daemon's recorder writes and the trainer reads, and detection of the
 * input kind (CSV, darshan-parser text, DXT text).
 *
 * The CSV reader is strict: the exact TG_CSV_HEADER, every column present,
 * integers without sign, finite numbers, curves and fractions in [0,1];
 * any other line is refused with its file, line and column.
 */
#define _GNU_SOURCE
#include "tracegen.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const column_names[TG_CSV_COLUMNS] = {
	"id", "workflow", "class", "producer_level", "producer_width", "wf_tasks", "wf_bytes", "consumers",
	"next_use_distance", "last_use_distance", "size", "bytes_read", "bytes_written", "reads", "writes",
	"opens", "lifetime", "seq_frac", "rh0", "rh1", "rh2", "rh3", "rh4", "rh5", "rh6", "rh7", "rh8", "rh9",
	"wh0", "wh1", "wh2", "wh3", "wh4", "wh5", "wh6", "wh7", "wh8", "wh9", "rc0", "rc1", "rc2", "rc3", "rc4",
	"rc5", "rc6", "rc7", "rc8", "rc9", "rc10", "rc11", "rc12", "rc13", "rc14", "rc15", "rc16", "rc17",
	"rc18", "rc19", "wc0", "wc1", "wc2", "wc3", "wc4", "wc5", "wc6", "wc7", "wc8", "wc9", "wc10", "wc11",
	"wc12", "wc13", "wc14", "wc15", "wc16", "wc17", "wc18", "wc19",
};

int tg_hist_bucket(uint64_t len)
{
	return trec_hist_bucket(len);
}

void tg_record_set_curves(struct tg_record *r, const double read_bins[TG_BINS], const double write_bins[TG_BINS])
{
	const double *src[2] = {read_bins, write_bins};
	for (int d = 0; d < 2; d++) {
		double mx = 0;
		for (int i = 0; i < TG_BINS; i++)
			if (src[d][i] > mx)
				mx = src[d][i];
		for (int i = 0; i < TG_BINS; i++)
			r->curve[d * TG_BINS + i] = mx > 0 && src[d][i] > 0 ? (float)(src[d][i] / mx) : 0.0f;
	}
}

void tg_class_sanitise(char *dst, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i < TG_CLASS_MAX - 1; i++)
		dst[i] = trec_class_char(src[i]) ? src[i] : '_';
	dst[i] = '\0';
}

int tg_records_push(struct tg_records *rs, const struct tg_record *r)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct tg_record *p = realloc(rs->r, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		rs->r = p;
		rs->cap = cap;
	}
	rs->r[rs->n++] = *r;
	return 0;
}

void tg_records_free(struct tg_records *rs)
{
	if (!rs)
		return;
	free(rs->r);
	rs->r = NULL;
	rs->n = rs->cap = 0;
}

/* snprintf at *pos, tracking overflow in *pos > len. */
static void put(char *buf, size_t len, size_t *pos, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(*pos < len ? buf + *pos : NULL, *pos < len ? len - *pos : 0, fmt, ap);
	va_end(ap);
	*pos += n > 0 ? (size_t)n : 0;
}

int tg_record_format(const struct tg_record *r, char *buf, size_t len)
{
	size_t pos = 0;
	char cls[TG_CLASS_MAX];
	tg_class_sanitise(cls, r->cls);
	put(buf, len, &pos, "%" PRIu64 ",%" PRIu64 ",%s", r->id, r->workflow, cls);
	for (int i = 0; i < TG_NV; i++)
		put(buf, len, &pos, ",%.17g", r->v[i]);
	put(buf, len, &pos, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.9g,%.6g",
	    r->size, r->bytes_read, r->bytes_written, r->reads, r->writes, r->opens, r->lifetime, r->seq_frac);
	for (int i = 0; i < TG_HIST; i++)
		put(buf, len, &pos, ",%" PRIu64, r->read_hist[i]);
	for (int i = 0; i < TG_HIST; i++)
		put(buf, len, &pos, ",%" PRIu64, r->write_hist[i]);
	for (int i = 0; i < TG_CURVE; i++)
		put(buf, len, &pos, ",%.6g", (double)r->curve[i]);
	return pos < len ? 0 : -ENOSPC;
}

int tg_records_write_csv(const struct tg_records *rs, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		int rc = -errno;
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(-rc));
		return rc;
	}
	char line[4096];
	fprintf(f, "%s\n", TG_CSV_HEADER);
	for (size_t i = 0; i < rs->n; i++) {
		if (tg_record_format(&rs->r[i], line, sizeof(line)) == 0)
			fprintf(f, "%s\n", line);
	}
	if (fclose(f) != 0) {
		int rc = -errno;
		snprintf(err, errlen, "%s: write failed: %s", path, strerror(-rc));
		return rc;
	}
	return 0;
}

/* ---- strict reader -------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *out)
{
	if (!*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
	if (!*s)
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int bad_field(const char *path, unsigned line, int col, const char *val, const char *expected, char *err,
		     size_t errlen)
{
	snprintf(err, errlen, "%s:%u: column %d ('%s'): expected %s, got '%.40s'", path, line, col + 1,
		 column_names[col], expected, val);
	return -EINVAL;
}

static int parse_line(const char *path, unsigned line, char *s, struct tg_record *r, char *err, size_t errlen)
{
	char *f[TG_CSV_COLUMNS];
	int n = 0;
	for (char *p = s;;) {
		if (n == TG_CSV_COLUMNS) {
			snprintf(err, errlen, "%s:%u: more than %d columns", path, line, TG_CSV_COLUMNS);
			return -EINVAL;
		}
		f[n++] = p;
		char *c = strchr(p, ',');
		if (!c)
			break;
		*c = '\0';
		p = c + 1;
	}
	if (n != TG_CSV_COLUMNS) {
		snprintf(err, errlen, "%s:%u: %d columns, expected %d (after '%s')", path, line, n, TG_CSV_COLUMNS,
			 column_names[n - 1]);
		return -EINVAL;
	}
	memset(r, 0, sizeof(*r));
	int c = 0;
	if (parse_u64(f[c], &r->id))
		return bad_field(path, line, c, f[c], "a non-negative integer", err, errlen);
	c++;
	if (parse_u64(f[c], &r->workflow))
		return bad_field(path, line, c, f[c], "a non-negative integer", err, errlen);
	c++;
	if (strlen(f[c]) >= TG_CLASS_MAX)
		return bad_field(path, line, c, f[c], "a class name shorter than 64 bytes", err, errlen);
	for (const char *p = f[c]; *p; p++)
		if (!trec_class_char(*p))
			return bad_field(path, line, c, f[c], "a class name of [A-Za-z0-9_.:+-]", err, errlen);
	strcpy(r->cls, f[c]);
	c++;
	for (int i = 0; i < TG_NV; i++, c++)
		if (parse_num(f[c], i >= 5 ? -1 : 0, 1e300, &r->v[i]))
			return bad_field(path, line, c, f[c], i >= 5 ? "a number >= -1" : "a number >= 0", err, errlen);
	uint64_t *ints[6] = {&r->size, &r->bytes_read, &r->bytes_written, &r->reads, &r->writes, &r->opens};
	for (int i = 0; i < 6; i++, c++)
		if (parse_u64(f[c], ints[i]))
			return bad_field(path, line, c, f[c], "a non-negative integer", err, errlen);
	if (parse_num(f[c], 0, 1e12, &r->lifetime))
		return bad_field(path, line, c, f[c], "seconds >= 0", err, errlen);
	c++;
	if (parse_num(f[c], 0, 1, &r->seq_frac))
		return bad_field(path, line, c, f[c], "a fraction in [0,1]", err, errlen);
	c++;
	for (int i = 0; i < TG_HIST; i++, c++)
		if (parse_u64(f[c], &r->read_hist[i]))
			return bad_field(path, line, c, f[c], "a non-negative integer", err, errlen);
	for (int i = 0; i < TG_HIST; i++, c++)
		if (parse_u64(f[c], &r->write_hist[i]))
			return bad_field(path, line, c, f[c], "a non-negative integer", err, errlen);
	for (int i = 0; i < TG_CURVE; i++, c++) {
		double v;
		if (parse_num(f[c], 0, 1, &v))
			return bad_field(path, line, c, f[c], "a curve value in [0,1]", err, errlen);
		r->curve[i] = (float)v;
	}
	return 0;
}

int tg_records_read_csv(const char *path, struct tg_records *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		int rc = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned line = 0;
	int rc = 0;
	size_t n0 = out->n;
	while ((len = getline(&buf, &cap, f)) >= 0) {
		line++;
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		if ((size_t)len != strlen(buf)) {
			snprintf(err, errlen, "%s:%u: NUL byte in the line", path, line);
			rc = -EINVAL;
			break;
		}
		if (line == 1) {
			if (strcmp(buf, TG_CSV_HEADER) != 0) {
				snprintf(err, errlen,
					 "%s:1: not a tracegen record file: the header must be the %d columns id,workflow,class,...,wc19",
					 path, TG_CSV_COLUMNS);
				rc = -EINVAL;
				break;
			}
			continue;
		}
		if (len == 0)
			continue;
		struct tg_record r;
		if ((rc = parse_line(path, line, buf, &r, err, errlen)))
			break;
		if ((rc = tg_records_push(out, &r))) {
			snprintf(err, errlen, "%s:%u: out of memory", path, line);
			break;
		}
	}
	if (!rc && line == 0) {
		snprintf(err, errlen, "%s: empty file (expected the header line)", path);
		rc = -EINVAL;
	}
	free(buf);
	fclose(f);
	if (rc)
		out->n = n0;
	return rc;
}

int tg_records_load(const char *path, struct tg_records *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		int rc = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	char line[512];
	/* CSV by its header; else DXT if any DXT marker or segment row shows
	 * (its header looks like darshan-parser's), else darshan-parser. */
	int kind = 0, darshan = 0; /* kind: 1 CSV, 2 darshan, 3 DXT */
	for (int i = 0; i < 5000 && kind != 1 && kind != 3 && fgets(line, sizeof(line), f); i++) {
		const char *q = line + strspn(line, " \t");
		if (i == 0 && strncmp(line, "id,workflow,class,", 18) == 0)
			kind = 1;
		else if (strncmp(line, "# DXT,", 6) == 0 || strncmp(q, "X_POSIX", 7) == 0)
			kind = 3;
		else if (strncmp(line, "total_POSIX_", 12) == 0 || strncmp(line, "POSIX\t", 6) == 0 ||
			 strncmp(line, "# darshan log version", 21) == 0)
			darshan = 1;
	}
	if (!kind && darshan)
		kind = 2;
	fclose(f);
	switch (kind) {
	case 1:
		return tg_records_read_csv(path, out, err, errlen);
	case 2:
		return tg_records_read_darshan(path, out, err, errlen);
	case 3:
		return tg_records_read_dxt(path, out, err, errlen);
	}
	snprintf(err, errlen,
		 "%s: not a record file: expected a tracegen CSV (header id,workflow,class,...), darshan-parser text or darshan-dxt-parser text",
		 path);
	return -EINVAL;
}
