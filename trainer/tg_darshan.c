/*
 * tg_darshan.c - Darshan text inputs for the trace generator: the output of
 * darshan-parser (per-file counter rows, or --total lines) and of
 * darshan-dxt-parser (per-request segments), folded into tg_records.
 *
 * Darshan knows jobs and files, not workflows: a Darshan record is given
 * producer level 0, width = the ranks that touched it, one task, wf_bytes =
 * the job's bytes, and one consumer at distance 0 when it was read (none
 * otherwise).  Negative counters (Darshan's "unknown") count as 0.  Paths
 * in the input are never kept: the record id is Darshan's own (a hash of
 * the path), the class the executable's basename.
 */
#define _GNU_SOURCE
#include "tracegen.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
	C_OPENS, C_READS, C_WRITES, C_SEQ_READS, C_SEQ_WRITES, C_BYTES_READ, C_BYTES_WRITTEN, C_MAX_BYTE_READ,
	C_MAX_BYTE_WRITTEN, C_OPEN_START, C_READ_START, C_WRITE_START, C_READ_END, C_WRITE_END, C_CLOSE_END,
	C_RH0, C_WH0 = C_RH0 + TG_HIST, C_N = C_WH0 + TG_HIST
};

static const char *const counter_names[C_N] = {
	"OPENS", "READS", "WRITES", "SEQ_READS", "SEQ_WRITES", "BYTES_READ", "BYTES_WRITTEN", "MAX_BYTE_READ",
	"MAX_BYTE_WRITTEN", "F_OPEN_START_TIMESTAMP", "F_READ_START_TIMESTAMP", "F_WRITE_START_TIMESTAMP",
	"F_READ_END_TIMESTAMP", "F_WRITE_END_TIMESTAMP", "F_CLOSE_END_TIMESTAMP", "SIZE_READ_0_100",
	"SIZE_READ_100_1K", "SIZE_READ_1K_10K", "SIZE_READ_10K_100K", "SIZE_READ_100K_1M", "SIZE_READ_1M_4M",
	"SIZE_READ_4M_10M", "SIZE_READ_10M_100M", "SIZE_READ_100M_1G", "SIZE_READ_1G_PLUS", "SIZE_WRITE_0_100",
	"SIZE_WRITE_100_1K", "SIZE_WRITE_1K_10K", "SIZE_WRITE_10K_100K", "SIZE_WRITE_100K_1M",
	"SIZE_WRITE_1M_4M", "SIZE_WRITE_4M_10M", "SIZE_WRITE_10M_100M", "SIZE_WRITE_100M_1G",
	"SIZE_WRITE_1G_PLUS",
};

static int is_start(int c)
{
	return c == C_OPEN_START || c == C_READ_START || c == C_WRITE_START;
}
static int is_end(int c)
{
	return c == C_READ_END || c == C_WRITE_END || c == C_CLOSE_END;
}

struct dfile {
	uint64_t id;
	double c[C_N];
	int have[C_N];
	uint32_t ranks;
	int shared;
};

struct job {
	char cls[TG_CLASS_MAX];
	uint64_t jobid;
	uint32_t nprocs;
	double runtime;
};

/* Header lines common to both parsers: "# exe: ...", "# jobid: ...". */
static void header_line(const char *line, struct job *j)
{
	const char *p;
	if ((p = strstr(line, "# exe: ")) == line) {
		p += 7;
		size_t n = strcspn(p, " \t\r\n");
		const char *base = p;
		for (const char *q = p; q < p + n; q++)
			if (*q == '/')
				base = q + 1;
		char tmp[TG_CLASS_MAX];
		size_t k = (size_t)(p + n - base);
		if (k >= sizeof(tmp))
			k = sizeof(tmp) - 1;
		memcpy(tmp, base, k);
		tmp[k] = '\0';
		tg_class_sanitise(j->cls, tmp);
	} else if (strncmp(line, "# jobid: ", 9) == 0) {
		j->jobid = strtoull(line + 9, NULL, 10);
	} else if (strncmp(line, "# nprocs: ", 10) == 0) {
		j->nprocs = (uint32_t)strtoul(line + 10, NULL, 10);
	} else if (strncmp(line, "# run time: ", 12) == 0) {
		j->runtime = strtod(line + 12, NULL);
	}
}

/* Add bytes spread evenly over [lo, hi] into the bins of [t0, t0 + life]. */
static void spread(double *bins, double t0, double life, double lo, double hi, double bytes)
{
	if (bytes <= 0)
		return;
	if (life <= 0) {
		bins[0] += bytes;
		return;
	}
	double a = (lo - t0) / life * TG_BINS, b = (hi - t0) / life * TG_BINS;
	if (a < 0)
		a = 0;
	if (b > TG_BINS)
		b = TG_BINS;
	if (b <= a) {
		int i = (int)a;
		bins[i >= TG_BINS ? TG_BINS - 1 : i] += bytes;
		return;
	}
	for (int i = (int)a; i < TG_BINS && i < b; i++) {
		double lo_i = i > a ? i : a, hi_i = i + 1 < b ? i + 1 : b;
		if (hi_i > lo_i)
			bins[i] += bytes * (hi_i - lo_i) / (b - a);
	}
}

static void fill_darshan_context(struct tg_record *r, const struct job *j, uint32_t ranks)
{
	r->workflow = j->jobid;
	memcpy(r->cls, j->cls, sizeof(r->cls));
	r->v[0] = 0;
	r->v[1] = ranks ? ranks : 1;
	r->v[2] = 1;
	r->v[4] = r->reads ? 1 : 0;
	r->v[5] = r->v[6] = r->reads ? 0 : -1;
}

static uint64_t cnt(double v)
{
	return v > 0 ? (uint64_t)llround(v) : 0;
}

static void dfile_to_record(const struct dfile *f, const struct job *j, struct tg_record *r)
{
	memset(r, 0, sizeof(*r));
	const double *c = f->c;
	r->id = f->id;
	r->opens = cnt(c[C_OPENS]);
	r->reads = cnt(c[C_READS]);
	r->writes = cnt(c[C_WRITES]);
	r->bytes_read = cnt(c[C_BYTES_READ]);
	r->bytes_written = cnt(c[C_BYTES_WRITTEN]);
	double mx = fmax(c[C_MAX_BYTE_READ], c[C_MAX_BYTE_WRITTEN]);
	r->size = r->bytes_read || r->bytes_written ? cnt(mx) + 1 : 0;
	uint64_t ops = r->reads + r->writes;
	r->seq_frac = ops ? fmin(1.0, (double)(cnt(c[C_SEQ_READS]) + cnt(c[C_SEQ_WRITES])) / (double)ops) : 0;
	for (int i = 0; i < TG_HIST; i++) {
		r->read_hist[i] = cnt(c[C_RH0 + i]);
		r->write_hist[i] = cnt(c[C_WH0 + i]);
	}
	double t0 = f->have[C_OPEN_START] ? fmax(c[C_OPEN_START], 0) : 0;
	double t1 = f->have[C_CLOSE_END] ? c[C_CLOSE_END] : t0;
	t1 = fmax(t1, fmax(c[C_READ_END], c[C_WRITE_END]));
	if (t1 <= t0 && j->runtime > 0)
		t1 = t0 + j->runtime;
	r->lifetime = t1 > t0 ? t1 - t0 : 0;
	double rb[TG_BINS] = {0}, wb[TG_BINS] = {0};
	spread(rb, t0, r->lifetime, c[C_READ_START], c[C_READ_END], (double)r->bytes_read);
	spread(wb, t0, r->lifetime, c[C_WRITE_START], c[C_WRITE_END], (double)r->bytes_written);
	tg_record_set_curves(r, rb, wb);
	fill_darshan_context(r, j, f->shared ? j->nprocs : f->ranks);
}

static int find_counter(const char *name)
{
	for (int i = 0; i < C_N; i++)
		if (strcmp(name, counter_names[i]) == 0)
			return i;
	return -1;
}

static void add_counter(struct dfile *f, int c, double v)
{
	if (is_start(c)) {
		if (v > 0 && (!f->have[c] || v < f->c[c]))
			f->c[c] = v;
		if (v > 0)
			f->have[c] = 1;
	} else if (is_end(c)) {
		if (v > f->c[c])
			f->c[c] = v;
		if (v > 0)
			f->have[c] = 1;
	} else if (c == C_MAX_BYTE_READ || c == C_MAX_BYTE_WRITTEN) {
		if (v > f->c[c])
			f->c[c] = v;
	} else if (v > 0) {
		f->c[c] += v;
	}
}

static int strict_number(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !isfinite(v))
		return -1;
	while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static int open_err(const char *path, char *err, size_t errlen)
{
	int rc = -errno;
	snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
	return rc;
}

int tg_records_read_darshan(const char *path, struct tg_records *out, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return open_err(path, err, errlen);
	struct job j = {.cls = ""};
	struct dfile *files = NULL, total = {0};
	size_t nfiles = 0, cap = 0;
	int have_total = 0, rc = 0;
	unsigned line = 0;
	char *buf = NULL;
	size_t bcap = 0;
	ssize_t len;
	size_t n0 = out->n;
	while ((len = getline(&buf, &bcap, fp)) >= 0) {
		line++;
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		if (buf[0] == '#') {
			header_line(buf, &j);
			continue;
		}
		if (len == 0)
			continue;
		if (strncmp(buf, "total_", 6) == 0) {
			char *colon = strchr(buf, ':');
			double v;
			if (!colon || strict_number(colon + 1, &v)) {
				snprintf(err, errlen, "%s:%u: expected 'total_COUNTER: NUMBER', got '%.60s'", path, line, buf);
				rc = -EINVAL;
				goto out;
			}
			*colon = '\0';
			if (strncmp(buf + 6, "POSIX_", 6) != 0)
				continue;
			int c = find_counter(buf + 12);
			if (c >= 0)
				add_counter(&total, c, v);
			have_total = 1;
			continue;
		}
		/* module, rank, record id, counter, value, file name, mount, fs */
		char *fld[5];
		int n = 0;
		for (char *p = buf; n < 5;) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (!*p)
				break;
			fld[n++] = p;
			p += strcspn(p, " \t");
			if (*p)
				*p++ = '\0';
			else
				break;
		}
		if (n < 5) {
			snprintf(err, errlen,
				 "%s:%u: expected a counter row '<module> <rank> <record id> <counter> <value> <file> ...', got %d fields",
				 path, line, n);
			rc = -EINVAL;
			goto out;
		}
		if (strcmp(fld[0], "POSIX") != 0)
			continue;
		char *end;
		errno = 0;
		long rank = strtol(fld[1], &end, 10);
		if (*end || errno || rank < -1) {
			snprintf(err, errlen, "%s:%u: rank: expected an integer >= -1, got '%.30s'", path, line, fld[1]);
			rc = -EINVAL;
			goto out;
		}
		errno = 0;
		uint64_t id = strtoull(fld[2], &end, 10);
		if (*end || errno || fld[2][0] == '-') {
			snprintf(err, errlen, "%s:%u: record id: expected an unsigned integer, got '%.30s'", path, line,
				 fld[2]);
			rc = -EINVAL;
			goto out;
		}
		double v;
		if (strict_number(fld[4], &v)) {
			snprintf(err, errlen, "%s:%u: counter %s: expected a number, got '%.30s'", path, line, fld[3],
				 fld[4]);
			rc = -EINVAL;
			goto out;
		}
		if (strncmp(fld[3], "POSIX_", 6) != 0) {
			snprintf(err, errlen, "%s:%u: expected a POSIX_ counter in a POSIX row, got '%.40s'", path, line,
				 fld[3]);
			rc = -EINVAL;
			goto out;
		}
		int c = find_counter(fld[3] + 6);
		size_t k = 0;
		while (k < nfiles && files[k].id != id)
			k++;
		if (k == nfiles) {
			if (nfiles == cap) {
				size_t nc = cap ? cap * 2 : 32;
				struct dfile *p = realloc(files, nc * sizeof(*p));
				if (!p) {
					rc = -ENOMEM;
					snprintf(err, errlen, "%s:%u: out of memory", path, line);
					goto out;
				}
				files = p;
				cap = nc;
			}
			memset(&files[nfiles], 0, sizeof(files[0]));
			files[nfiles++].id = id;
		}
		if (rank == -1)
			files[k].shared = 1;
		if (c == C_OPENS)
			files[k].ranks++;
		if (c >= 0)
			add_counter(&files[k], c, v);
	}
	if (!nfiles && !have_total) {
		snprintf(err, errlen, "%s: no POSIX counters (expected darshan-parser output with the POSIX module)",
			 path);
		rc = -EINVAL;
		goto out;
	}
	struct tg_record r;
	uint64_t job_bytes = 0;
	size_t first = out->n;
	if (nfiles) {
		for (size_t k = 0; k < nfiles; k++) {
			dfile_to_record(&files[k], &j, &r);
			job_bytes += r.bytes_read + r.bytes_written;
			if ((rc = tg_records_push(out, &r)))
				goto oom;
		}
	} else {
		total.id = j.jobid;
		total.shared = 1;
		dfile_to_record(&total, &j, &r);
		job_bytes = r.bytes_read + r.bytes_written;
		if ((rc = tg_records_push(out, &r)))
			goto oom;
	}
	for (size_t k = first; k < out->n; k++)
		out->r[k].v[3] = (double)job_bytes;
	goto out;
oom:
	snprintf(err, errlen, "%s: out of memory", path);
out:
	if (rc)
		out->n = n0;
	free(buf);
	free(files);
	fclose(fp);
	return rc;
}

/* ---- DXT ------------------------------------------------------------------ */

struct seg {
	int write;
	int32_t rank;
	uint64_t off, len;
	double start, end;
};

struct xfile {
	uint64_t id;
	struct seg *s;
	size_t n, cap;
	uint32_t ranks;
};

static void xfile_to_record(struct xfile *f, const struct job *j, struct tg_record *r)
{
	memset(r, 0, sizeof(*r));
	r->id = f->id;
	r->opens = f->ranks ? f->ranks : 1;
	double t0 = INFINITY, t1 = 0;
	for (size_t i = 0; i < f->n; i++) {
		const struct seg *s = &f->s[i];
		t0 = fmin(t0, s->start);
		t1 = fmax(t1, s->end);
		if (s->off + s->len > r->size)
			r->size = s->off + s->len;
		if (s->write) {
			r->writes++;
			r->bytes_written += s->len;
			r->write_hist[tg_hist_bucket(s->len)]++;
		} else {
			r->reads++;
			r->bytes_read += s->len;
			r->read_hist[tg_hist_bucket(s->len)]++;
		}
		/* Sequential: starts at or past the end of the same rank's
		 * previous request in the same direction (Darshan's rule). */
		for (size_t k = i; k-- > 0;) {
			const struct seg *p = &f->s[k];
			if (p->rank == s->rank && p->write == s->write) {
				if (s->off >= p->off + p->len)
					r->seq_frac += 1;
				break;
			}
		}
	}
	uint64_t ops = r->reads + r->writes;
	r->seq_frac = ops ? r->seq_frac / (double)ops : 0;
	if (!f->n)
		t0 = 0;
	r->lifetime = t1 > t0 ? t1 - t0 : 0;
	double rb[TG_BINS] = {0}, wb[TG_BINS] = {0};
	for (size_t i = 0; i < f->n; i++)
		spread(f->s[i].write ? wb : rb, t0, r->lifetime, f->s[i].start, f->s[i].end, (double)f->s[i].len);
	tg_record_set_curves(r, rb, wb);
	fill_darshan_context(r, j, f->ranks);
}

int tg_records_read_dxt(const char *path, struct tg_records *out, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return open_err(path, err, errlen);
	struct job j = {.cls = ""};
	struct xfile *files = NULL, *cur = NULL;
	size_t nfiles = 0, cap = 0, n0 = out->n;
	int rc = 0;
	unsigned line = 0;
	char *buf = NULL;
	size_t bcap = 0;
	ssize_t len;
	while ((len = getline(&buf, &bcap, fp)) >= 0) {
		line++;
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		const char *p;
		if ((p = strstr(buf, "# DXT, file_id: ")) == buf) {
			char *end;
			errno = 0;
			uint64_t id = strtoull(p + 16, &end, 10);
			if (errno || end == p + 16 || (*end && *end != ',')) {
				snprintf(err, errlen, "%s:%u: file_id: expected an unsigned integer", path, line);
				rc = -EINVAL;
				goto out;
			}
			cur = NULL;
			for (size_t k = 0; k < nfiles; k++)
				if (files[k].id == id)
					cur = &files[k];
			if (!cur) {
				if (nfiles == cap) {
					size_t nc = cap ? cap * 2 : 16;
					struct xfile *q = realloc(files, nc * sizeof(*q));
					if (!q)
						goto oom;
					files = q;
					cap = nc;
				}
				cur = &files[nfiles++];
				memset(cur, 0, sizeof(*cur));
				cur->id = id;
			}
			continue;
		}
		if (strncmp(buf, "# DXT, rank: ", 13) == 0) {
			if (cur)
				cur->ranks++;
			continue;
		}
		if (buf[0] == '#') {
			header_line(buf, &j);
			continue;
		}
		const char *q = buf + strspn(buf, " \t");
		if (!*q || *q == '[')
			continue; /* blank, or a Lustre OST line */
		if (strncmp(q, "X_POSIX", 7) != 0) {
			if (strncmp(q, "X_MPIIO", 7) == 0)
				continue;
			snprintf(err, errlen, "%s:%u: expected an X_POSIX or X_MPIIO segment row, got '%.40s'", path, line,
				 q);
			rc = -EINVAL;
			goto out;
		}
		if (!cur) {
			snprintf(err, errlen, "%s:%u: segment row before any '# DXT, file_id:' line", path, line);
			rc = -EINVAL;
			goto out;
		}
		char op[16];
		long rank;
		long long segno;
		unsigned long long off, ln;
		double st, en;
		int used = 0;
		if (sscanf(q, "X_POSIX %ld %15s %lld %llu %llu %lf %lf%n", &rank, op, &segno, &off, &ln, &st, &en,
			   &used) != 7 ||
		    (strcmp(op, "read") != 0 && strcmp(op, "write") != 0) || !isfinite(st) || !isfinite(en) || en < st ||
		    st < 0) {
			snprintf(err, errlen,
				 "%s:%u: expected 'X_POSIX RANK read|write SEGMENT OFFSET LENGTH START END' with 0 <= START <= END",
				 path, line);
			rc = -EINVAL;
			goto out;
		}
		if (cur->n == cur->cap) {
			size_t nc = cur->cap ? cur->cap * 2 : 64;
			struct seg *s = realloc(cur->s, nc * sizeof(*s));
			if (!s)
				goto oom;
			cur->s = s;
			cur->cap = nc;
		}
		cur->s[cur->n++] = (struct seg){.write = op[0] == 'w', .rank = (int32_t)rank, .off = off, .len = ln,
						.start = st, .end = en};
	}
	if (!nfiles) {
		snprintf(err, errlen, "%s: no '# DXT, file_id:' section (expected darshan-dxt-parser output)", path);
		rc = -EINVAL;
		goto out;
	}
	uint64_t job_bytes = 0;
	struct tg_record r;
	for (size_t k = 0; k < nfiles; k++) {
		xfile_to_record(&files[k], &j, &r);
		job_bytes += r.bytes_read + r.bytes_written;
		if (tg_records_push(out, &r))
			goto oom;
	}
	for (size_t k = n0; k < out->n; k++)
		out->r[k].v[3] = (double)job_bytes;
	goto out;
oom:
	rc = -ENOMEM;
	snprintf(err, errlen, "%s:%u: out of memory", path, line);
out:
	if (rc)
		out->n = n0;
	for (size_t k = 0; k < nfiles; k++)
		free(files[k].s);
	free(files);
	free(buf);
	fclose(fp);
	return rc;
}
