/*
 * mon_csv.c - the monitor's time series as CSV: written atomically for
 * `tierctl series` and at unmount, read back (strictly) by the phase
 * trainer.
 *
 * Format: a header line "time,<tier>_read_Bps,...,migration_backlog_bytes"
 * (layout in monitor.h), then one line per frame, plain numbers, no quoting
 * (tier names cannot hold a comma or a quote).  Numbers are printed with
 * the fewest digits (15 or 17) that read back to the same double, so a
 * round trip is exact.
 *
 * The reader trusts nothing: every error names file, line, column and what
 * was expected; a line longer than MON_CSV_MAX_LINE is refused rather than
 * buffered (a NUL byte cuts a line short, which then fails its column
 * count or a number).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"

#define MON_CSV_MAX_LINE 65536
#define MON_CSV_MAX_COLS (1 + MON_MAX_TIERS * MON_TIER_NCOLS + MON_GLOBAL_NCOLS)

static const char *const mon_tier_suffix[MON_TIER_NCOLS] = {
    [MON_COL_READ_BPS] = "read_Bps", [MON_COL_WRITE_BPS] = "write_Bps",
    [MON_COL_OPS] = "ops_per_s",     [MON_COL_USED_FRAC] = "used_frac",
    [MON_COL_FILL_BPS] = "fill_Bps", [MON_COL_OPEN] = "open",
};
static const char *const mon_global_name[MON_GLOBAL_NCOLS] = {
    [MON_COL_CREATES] = "creates_per_s",
    [MON_COL_META] = "meta_per_s",
    [MON_COL_BACKLOG] = "migration_backlog_bytes",
};

const char *mon_tier_col_suffix(enum mon_tier_col c)
{
	return (unsigned)c < MON_TIER_NCOLS ? mon_tier_suffix[c] : NULL;
}

const char *mon_global_col_name(enum mon_global_col c)
{
	return (unsigned)c < MON_GLOBAL_NCOLS ? mon_global_name[c] : NULL;
}

/* ---- writing ------------------------------------------------------------------ */

static void mon_put_double(FILE *f, double v)
{
	char buf[40];
	snprintf(buf, sizeof buf, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof buf, "%.17g", v);
	fputs(buf, f);
}

/* fsync the directory holding path so the rename survives a crash; a
 * failure here is not worth failing the write for. */
static void mon_sync_dir(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

int mon_print_csv(struct mon *m, FILE *f)
{
	if (!m || !f)
		return -EINVAL;
	size_t ntiers = mon_tier_count(m), ncols = mon_frame_cols(m), hist = mon_history(m);
	double *frames = malloc(hist * ncols * sizeof(double));
	if (!frames)
		return -ENOMEM;
	/* Copy first: the ring lock is not held while the stream is written. */
	size_t n = mon_copy_frames(m, frames, hist);
	fputs("time", f);
	for (size_t t = 0; t < ntiers; t++)
		for (size_t c = 0; c < MON_TIER_NCOLS; c++)
			fprintf(f, ",%s_%s", mon_tier_name(m, (int)t), mon_tier_suffix[c]);
	for (size_t g = 0; g < MON_GLOBAL_NCOLS; g++)
		fprintf(f, ",%s", mon_global_name[g]);
	fputc('\n', f);
	for (size_t r = 0; r < n; r++) {
		for (size_t c = 0; c < ncols; c++) {
			if (c)
				fputc(',', f);
			mon_put_double(f, frames[r * ncols + c]);
		}
		fputc('\n', f);
	}
	free(frames);
	errno = 0;
	if (fflush(f) != 0 || ferror(f))
		return -(errno ? errno : EIO);
	return 0;
}

int mon_write_csv(struct mon *m, const char *path)
{
	if (!m || !path || !*path)
		return -EINVAL;
	int rc = -ENOMEM;
	char *tmp = NULL;
	FILE *f = NULL;
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return -ENOMEM;
	int fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		free(tmp);
		return rc;
	}
	if (!(f = fdopen(fd, "w"))) {
		rc = -errno;
		close(fd);
		goto out;
	}
	if ((rc = mon_print_csv(m, f)) != 0)
		goto out;
	if (fsync(fileno(f)) != 0) {
		rc = -errno;
		goto out;
	}
	rc = fclose(f) == 0 ? 0 : -errno;
	f = NULL;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc == 0)
		mon_sync_dir(path);
out:
	if (f)
		fclose(f);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* ---- reading ------------------------------------------------------------------ */

struct mon_reader {
	const char *path;
	char *err;
	size_t errlen;
	size_t line;
	char *fields[MON_CSV_MAX_COLS];
	size_t nfields; /* may exceed MON_CSV_MAX_COLS: only the first ones are kept */
};

static int mon_rd_fail(struct mon_reader *r, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int mon_rd_fail(struct mon_reader *r, size_t col, const char *fmt, ...)
{
	if (r->err && r->errlen) {
		int k = col ? snprintf(r->err, r->errlen, "%s:%zu:%zu: ", r->path, r->line, col)
			    : snprintf(r->err, r->errlen, "%s:%zu: ", r->path, r->line);
		if (k >= 0 && (size_t)k < r->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(r->err + k, r->errlen - (size_t)k, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

/* Split line at commas in place.  Returns 0 or the error for a quote. */
static int mon_rd_split(struct mon_reader *r, char *line)
{
	r->nfields = 0;
	for (char *p = line;;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		if (strchr(p, '"'))
			return mon_rd_fail(
			    r, r->nfields + 1,
			    "quoted field %s (the series has plain numbers and names only)", p);
		if (r->nfields < MON_CSV_MAX_COLS)
			r->fields[r->nfields] = p;
		r->nfields++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* Header: time, then groups of MON_TIER_NCOLS "<tier>_<suffix>", then the
 * global columns.  Fills the tier names of s. */
static int mon_rd_header(struct mon_reader *r, struct mon_series *s)
{
	size_t nf = r->nfields;
	if (strcmp(r->fields[0], "time") != 0)
		return mon_rd_fail(r, 1, "expected column 'time' first, found '%s'", r->fields[0]);
	if (nf > MON_CSV_MAX_COLS)
		return mon_rd_fail(r, 0, "header has %zu columns, more than the %d of %d tiers", nf,
				   MON_CSV_MAX_COLS, MON_MAX_TIERS);
	if (nf < mon_ncols(1) || (nf - 1 - MON_GLOBAL_NCOLS) % MON_TIER_NCOLS != 0)
		return mon_rd_fail(
		    r, 0,
		    "header has %zu columns (expected time, %d per tier for at least one tier, then %d global columns)",
		    nf, MON_TIER_NCOLS, MON_GLOBAL_NCOLS);
	s->ntiers = (nf - 1 - MON_GLOBAL_NCOLS) / MON_TIER_NCOLS;
	s->ncols = nf;
	for (size_t t = 0; t < s->ntiers; t++) {
		for (size_t c = 0; c < MON_TIER_NCOLS; c++) {
			size_t col = mon_col_tier(t, c);
			const char *f = r->fields[col], *suf = mon_tier_suffix[c];
			size_t fl = strlen(f), sl = strlen(suf);
			if (fl <= sl + 1 || f[fl - sl - 1] != '_' || strcmp(f + fl - sl, suf) != 0)
				return mon_rd_fail(
				    r, col + 1,
				    "expected a column '<tier>_%s' (per tier: read_Bps, write_Bps, ops_per_s, used_frac, fill_Bps, open), found '%s'",
				    suf, f);
			size_t nl = fl - sl - 1;
			if (c == 0) {
				if (nl > MON_NAME_MAX)
					return mon_rd_fail(
					    r, col + 1,
					    "tier name in '%s' is longer than %d characters", f,
					    MON_NAME_MAX);
				memcpy(s->tier_names[t], f, nl);
				s->tier_names[t][nl] = '\0';
				for (size_t u = 0; u < t; u++)
					if (strcmp(s->tier_names[u], s->tier_names[t]) == 0)
						return mon_rd_fail(
						    r, col + 1,
						    "tier '%s' appears twice in the header",
						    s->tier_names[t]);
			} else if (nl != strlen(s->tier_names[t]) ||
				   strncmp(f, s->tier_names[t], nl) != 0) {
				return mon_rd_fail(
				    r, col + 1,
				    "expected column '%s_%s' (tier '%s' continues), found '%s'",
				    s->tier_names[t], suf, s->tier_names[t], f);
			}
		}
	}
	for (size_t g = 0; g < MON_GLOBAL_NCOLS; g++) {
		size_t col = mon_col_global(s->ntiers, g);
		if (strcmp(r->fields[col], mon_global_name[g]) != 0)
			return mon_rd_fail(r, col + 1, "expected column '%s', found '%s'",
					   mon_global_name[g], r->fields[col]);
	}
	return 0;
}

/* Fill rates are the only values that may be negative. */
static int mon_col_signed(size_t ntiers, size_t col)
{
	return col >= 1 && col < 1 + ntiers * MON_TIER_NCOLS &&
	       (col - 1) % MON_TIER_NCOLS == MON_COL_FILL_BPS;
}

static int mon_rd_row(struct mon_reader *r, const struct mon_series *s, char *const *names,
		      double *row, double prev_time)
{
	if (r->nfields != s->ncols)
		return mon_rd_fail(r, 0, "%zu values, the header has %zu columns", r->nfields,
				   s->ncols);
	for (size_t c = 0; c < s->ncols; c++) {
		const char *f = r->fields[c];
		char *end;
		errno = 0;
		double v = *f ? strtod(f, &end) : 0;
		if (!*f)
			return mon_rd_fail(r, c + 1, "column '%s': empty value (expected a number)",
					   names[c]);
		if (*end || end == f)
			return mon_rd_fail(r, c + 1, "column '%s': '%s' is not a number", names[c],
					   f);
		if (!isfinite(v) || errno == ERANGE)
			return mon_rd_fail(r, c + 1, "column '%s': '%s' is not a finite number",
					   names[c], f);
		if (v < 0 && !mon_col_signed(s->ntiers, c))
			return mon_rd_fail(r, c + 1,
					   "column '%s': negative value %s (expected >= 0)",
					   names[c], f);
		if (c == 0 && v < prev_time)
			return mon_rd_fail(
			    r, 1,
			    "time %s is before the previous line's %.17g (time must not decrease)",
			    f, prev_time);
		row[c] = v;
	}
	return 0;
}

int mon_read_csv(const char *path, struct mon_series **out, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!path)
		return -EINVAL;
	struct mon_reader r = {.path = path, .err = err, .errlen = errlen};
	char *names[MON_CSV_MAX_COLS] = {0};
	char *line = NULL;
	size_t rows_cap = 0;
	int rc;
	struct mon_series *s = calloc(1, sizeof *s);
	FILE *f = fopen(path, "re");
	if (!s) {
		rc = -ENOMEM;
		goto out;
	}
	if (!f) {
		rc = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	if (!(line = malloc(MON_CSV_MAX_LINE + 2))) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		errno = 0;
		if (!fgets(line, MON_CSV_MAX_LINE + 2, f)) {
			if (ferror(f)) {
				rc = -(errno ? errno : EIO);
				if (err && errlen)
					snprintf(err, errlen, "%s:%zu: read error: %s", path,
						 r.line + 1, strerror(-rc));
				goto out;
			}
			break;
		}
		r.line++;
		size_t len = strlen(line);
		if (len > MON_CSV_MAX_LINE && line[len - 1] != '\n') {
			rc = mon_rd_fail(&r, 0,
					 "line is longer than the %d bytes a series line may have",
					 MON_CSV_MAX_LINE);
			goto out;
		}
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0) {
			rc = mon_rd_fail(
			    &r, 0,
			    r.line == 1 ? "empty header line (expected 'time,<tier>_read_Bps,...')"
					: "empty line (expected a line of numbers)");
			goto out;
		}
		if ((rc = mon_rd_split(&r, line)) != 0)
			goto out;
		if (r.line == 1) {
			if ((rc = mon_rd_header(&r, s)) != 0)
				goto out;
			for (size_t c = 0; c < s->ncols; c++)
				if (!(names[c] = strdup(r.fields[c]))) {
					rc = -ENOMEM;
					goto out;
				}
			continue;
		}
		if (s->nframes == rows_cap) {
			size_t nc = rows_cap ? rows_cap * 2 : 256;
			double *nf = reallocarray(s->frames, nc, s->ncols * sizeof(double));
			if (!nf) {
				rc = -ENOMEM;
				goto out;
			}
			s->frames = nf;
			rows_cap = nc;
		}
		double *row = s->frames + s->nframes * s->ncols;
		double prev = s->nframes ? row[-(ptrdiff_t)s->ncols] : -INFINITY;
		if ((rc = mon_rd_row(&r, s, names, row, prev)) != 0)
			goto out;
		s->nframes++;
	}
	if (r.line == 0) {
		r.line = 1;
		rc = mon_rd_fail(&r, 0, "empty file (expected a header line starting with 'time')");
		goto out;
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	for (size_t c = 0; c < MON_CSV_MAX_COLS; c++)
		free(names[c]);
	free(line);
	if (f)
		fclose(f);
	mon_series_destroy(s);
	return rc;
}

void mon_series_destroy(struct mon_series *s)
{
	if (!s)
		return;
	free(s->frames);
	free(s);
}
