/*
 * labellog.c - the daemon's record log read back (labellog.h).
 *
 * The whole file is read into memory (a log of a million creates is a few
 * hundred MB at most; refused past 2 GiB) and split into records by RFC
 * 4180 rules, since a file name may hold commas, quotes or newlines and the
 * daemon quotes those fields.
 */
#include "labellog.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LLOG_MAX_BYTES ((size_t)2 << 30)
#define LLOG_TAIL 6 /* tier,policy,reason,bytes_written,bytes_read,lifetime_s */

struct lcreate {
	char *path;
	int wf;		/* index into wfs, -1 = no workflow attached at its dir */
	double *v;	/* nfeat values */
};

struct llog {
	char *path;
	char *config;
	size_t nfeat;
	char **feat;	/* feature names */
	size_t ntier;	/* free_<tier> columns, the last ntier features */
	uint64_t cap[TCFG_MAX_TIERS];
	char **wfs;	/* distinct workflow files */
	size_t nwfs;
	char **att_dir; /* attach lines: dir -> wfs index (latest wins) */
	int *att_wf;
	size_t natt;
	struct lcreate *cr;
	size_t ncr, cap_cr;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* One CSV record from *pos: fields unquoted in place (buf is modified),
 * pointers in f[0..*nf).  Returns 0, 1 at the end of the buffer, -EINVAL on
 * a broken quote or more than maxf fields.  *lines counts newlines seen. */
static int next_record(char **pos, char *end, char **f, size_t maxf, size_t *nf, size_t *lines)
{
	char *p = *pos;
	if (p >= end)
		return 1;
	*nf = 0;
	for (;;) {
		if (*nf == maxf)
			return -EINVAL;
		char *w = p, *start = p;
		if (p < end && *p == '"') {
			p++;
			for (;;) {
				if (p >= end)
					return -EINVAL;
				if (*p == '"') {
					if (p + 1 < end && p[1] == '"') {
						*w++ = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				if (*p == '\n')
					(*lines)++;
				*w++ = *p++;
			}
			if (p < end && *p != ',' && *p != '\n' && *p != '\r')
				return -EINVAL;
		} else {
			while (p < end && *p != ',' && *p != '\n' && *p != '\r')
				p++;
			w = p;
		}
		f[(*nf)++] = start;
		char sep = p < end ? *p : '\n';
		if (p < end && *p == '\r')
			p++, sep = p < end ? *p : '\n';
		*w = '\0';
		if (p < end)
			p++;
		if (sep == '\n') {
			(*lines)++;
			break;
		}
	}
	*pos = p;
	return 0;
}

static int add_wf(struct llog *lg, const char *file)
{
	for (size_t i = 0; i < lg->nwfs; i++)
		if (strcmp(lg->wfs[i], file) == 0)
			return (int)i;
	char **n = realloc(lg->wfs, (lg->nwfs + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	lg->wfs = n;
	if (!(lg->wfs[lg->nwfs] = strdup(file)))
		return -ENOMEM;
	return (int)lg->nwfs++;
}

static int add_attach(struct llog *lg, const char *dir, int wf)
{
	for (size_t i = 0; i < lg->natt; i++)
		if (strcmp(lg->att_dir[i], dir) == 0) {
			lg->att_wf[i] = wf;
			return 0;
		}
	char **d = realloc(lg->att_dir, (lg->natt + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	lg->att_dir = d;
	int *w = realloc(lg->att_wf, (lg->natt + 1) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	lg->att_wf = w;
	if (!(lg->att_dir[lg->natt] = strdup(dir)))
		return -ENOMEM;
	lg->att_wf[lg->natt++] = wf;
	return 0;
}

static int attached_wf(const struct llog *lg, const char *dir)
{
	for (size_t i = 0; i < lg->natt; i++)
		if (strcmp(lg->att_dir[i], dir) == 0)
			return lg->att_wf[i];
	return -1;
}

static int read_all(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		int rc = -errno;
		seterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return rc;
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > LLOG_MAX_BYTES) {
		fclose(f);
		seterr(err, errlen, "%s: not a regular file of at most 2 GiB", path);
		return -EINVAL;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		fclose(f);
		seterr(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	*len = fread(*buf, 1, (size_t)st.st_size, f);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		seterr(err, errlen, "%s: read error", path);
		return -EIO;
	}
	(*buf)[*len] = '\0';
	return 0;
}

static const char *const tail_names[LLOG_TAIL] = {"tier", "policy", "reason", "bytes_written", "bytes_read",
						  "lifetime_s"};

static int parse_header(struct llog *lg, char **f, size_t nf, char *err, size_t errlen)
{
	int ok = nf > 4 + LLOG_TAIL && strcmp(f[0], "time_s") == 0 && strcmp(f[1], "event") == 0 &&
		 strcmp(f[2], "path") == 0 && strcmp(f[3], "workflow") == 0;
	for (size_t i = 0; ok && i < LLOG_TAIL; i++)
		ok = strcmp(f[nf - LLOG_TAIL + i], tail_names[i]) == 0;
	if (!ok) {
		seterr(err, errlen,
		       "%s:1: not a tierfs record log (expected the header time_s,event,path,workflow,FEATURES...,tier,policy,reason,bytes_written,bytes_read,lifetime_s)",
		       lg->path);
		return -EINVAL;
	}
	lg->nfeat = nf - 4 - LLOG_TAIL;
	lg->feat = calloc(lg->nfeat, sizeof(*lg->feat));
	if (!lg->feat)
		return -ENOMEM;
	for (size_t i = 0; i < lg->nfeat; i++) {
		if (!(lg->feat[i] = strdup(f[4 + i])))
			return -ENOMEM;
		if (strncmp(f[4 + i], "free_", 5) == 0)
			lg->ntier++;
		else if (lg->ntier) {
			seterr(err, errlen, "%s:1: column \"%s\" after the free_<tier> columns", lg->path, f[4 + i]);
			return -EINVAL;
		}
	}
	if (lg->ntier == 0 || lg->ntier > TCFG_MAX_TIERS) {
		seterr(err, errlen, "%s:1: expected 1..%d free_<tier> columns, found %zu", lg->path, TCFG_MAX_TIERS,
		       lg->ntier);
		return -EINVAL;
	}
	return 0;
}

static int parse_number(const char *s, double *out)
{
	char *end;
	*out = strtod(s, &end);
	return *s && *end == '\0' && isfinite(*out) ? 0 : -EINVAL;
}

static int parse_row(struct llog *lg, char **f, size_t line, char *err, size_t errlen)
{
	const char *ev = f[1];
	double *v = NULL;
	if (strcmp(ev, "config") == 0) {
		free(lg->config);
		lg->config = f[2][0] ? strdup(f[2]) : NULL;
		for (size_t t = 0; t < lg->ntier; t++) {
			double c;
			const char *s = f[4 + lg->nfeat - lg->ntier + t];
			if (parse_number(s, &c) != 0 || c < 0) {
				seterr(err, errlen, "%s:%zu: config line: capacity of %s \"%s\" is not a number", lg->path,
				       line, lg->feat[lg->nfeat - lg->ntier + t], s);
				return -EINVAL;
			}
			lg->cap[t] = (uint64_t)c;
		}
		return 0;
	}
	if (strcmp(ev, "attach") == 0) {
		int w = add_wf(lg, f[2]);
		return w < 0 ? w : add_attach(lg, f[3], w);
	}
	if (strcmp(ev, "create") != 0)
		return 0; /* "end" and any later kinds carry no features */
	if (f[4][0] == '\0')
		return 0; /* a file the workflow does not know: no features */
	v = malloc(lg->nfeat * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < lg->nfeat; i++)
		if (parse_number(f[4 + i], &v[i]) != 0) {
			seterr(err, errlen, "%s:%zu: column %s: \"%s\" is not a number", lg->path, line, lg->feat[i],
			       f[4 + i]);
			free(v);
			return -EINVAL;
		}
	if (lg->ncr == lg->cap_cr) {
		size_t nc = lg->cap_cr ? lg->cap_cr * 2 : 64;
		struct lcreate *n = realloc(lg->cr, nc * sizeof(*n));
		if (!n) {
			free(v);
			return -ENOMEM;
		}
		lg->cr = n;
		lg->cap_cr = nc;
	}
	struct lcreate *c = &lg->cr[lg->ncr];
	c->path = strdup(f[2]);
	c->v = v;
	c->wf = attached_wf(lg, f[3]);
	if (!c->path) {
		free(v);
		return -ENOMEM;
	}
	/* Make the path relative to the workflow's directory. */
	const char *dir = f[3];
	size_t dl = strlen(dir);
	if (strcmp(dir, ".") != 0 && strncmp(c->path, dir, dl) == 0 && c->path[dl] == '/')
		memmove(c->path, c->path + dl + 1, strlen(c->path + dl + 1) + 1);
	lg->ncr++;
	return 0;
}

int llog_load(const char *path, struct llog **out, char *err, size_t errlen)
{
	*out = NULL;
	char *buf = NULL;
	size_t len = 0;
	int rc = read_all(path, &buf, &len, err, errlen);
	if (rc < 0)
		return rc;
	struct llog *lg = calloc(1, sizeof(*lg));
	char **f = calloc(4 + 2 * 1024 + LLOG_TAIL, sizeof(*f));
	size_t maxf = 4 + 2 * 1024 + LLOG_TAIL;
	if (!lg || !f || !(lg->path = strdup(path))) {
		rc = -ENOMEM;
		seterr(err, errlen, "%s: out of memory", path);
		goto out;
	}
	char *p = buf, *end = buf + len;
	size_t lines = 0, nf;
	rc = next_record(&p, end, f, maxf, &nf, &lines);
	if (rc != 0) {
		seterr(err, errlen, "%s: %s", path, rc == 1 ? "empty (no header)" : "line 1: malformed CSV");
		rc = -EINVAL;
		goto out;
	}
	rc = parse_header(lg, f, nf, err, errlen);
	if (rc < 0)
		goto out;
	for (;;) {
		size_t line = lines + 1;
		rc = next_record(&p, end, f, maxf, &nf, &lines);
		if (rc == 1)
			break;
		if (rc < 0) {
			seterr(err, errlen, "%s:%zu: malformed CSV (an unclosed quote or too many fields)", path, line);
			goto out;
		}
		if (nf == 1 && f[0][0] == '\0')
			continue; /* blank line */
		if (nf != 4 + lg->nfeat + LLOG_TAIL) {
			seterr(err, errlen, "%s:%zu: %zu fields, the header has %zu", path, line, nf,
			       4 + lg->nfeat + LLOG_TAIL);
			rc = -EINVAL;
			goto out;
		}
		rc = parse_row(lg, f, line, err, errlen);
		if (rc < 0) {
			if (rc == -ENOMEM)
				seterr(err, errlen, "%s: out of memory", path);
			goto out;
		}
	}
	rc = 0;
	*out = lg;
	lg = NULL;
out:
	free(f);
	free(buf);
	llog_free(lg);
	return rc;
}

void llog_free(struct llog *lg)
{
	if (!lg)
		return;
	for (size_t i = 0; i < lg->nfeat; i++)
		free(lg->feat[i]);
	free(lg->feat);
	for (size_t i = 0; i < lg->nwfs; i++)
		free(lg->wfs[i]);
	free(lg->wfs);
	for (size_t i = 0; i < lg->natt; i++)
		free(lg->att_dir[i]);
	free(lg->att_dir);
	free(lg->att_wf);
	for (size_t i = 0; i < lg->ncr; i++) {
		free(lg->cr[i].path);
		free(lg->cr[i].v);
	}
	free(lg->cr);
	free(lg->config);
	free(lg->path);
	free(lg);
}

const char *llog_config(const struct llog *lg)
{
	return lg->config;
}

uint64_t llog_capacity(const struct llog *lg, size_t t)
{
	return t < lg->ntier ? lg->cap[t] : 0;
}

size_t llog_workflow_count(const struct llog *lg)
{
	return lg->nwfs;
}

const char *llog_workflow(const struct llog *lg, size_t i)
{
	return i < lg->nwfs ? lg->wfs[i] : NULL;
}

int llog_write_labelled(const struct llog *lg, size_t w, const wf_graph *g, const struct tcfg *cfg,
			const int *best, FILE *out, int *header, size_t *rows, char *err, size_t errlen)
{
	*rows = 0;
	if (cfg->ntiers != lg->ntier) {
		seterr(err, errlen, "%s: logged %zu tiers, the configuration %s has %zu", lg->path, lg->ntier,
		       cfg->file, cfg->ntiers);
		return -EINVAL;
	}
	for (size_t t = 0; t < lg->ntier; t++) {
		const char *col = lg->feat[lg->nfeat - lg->ntier + t];
		if (strcmp(col + 5, cfg->tiers[t].name) != 0) {
			seterr(err, errlen, "%s: column %s does not match tier %zu (\"%s\") of %s", lg->path, col,
			       t + 1, cfg->tiers[t].name, cfg->file);
			return -EINVAL;
		}
	}
	if (*header) {
		for (size_t i = 0; i < lg->nfeat; i++)
			fprintf(out, "%s,", lg->feat[i]);
		fputs("tier\n", out);
		*header = 0;
	}
	for (size_t i = 0; i < lg->ncr; i++) {
		const struct lcreate *c = &lg->cr[i];
		if (c->wf != (int)w)
			continue;
		struct wf_file_features ff;
		if (wf_file_features(g, c->path, &ff) != 0)
			continue;
		int t = best[ff.file_index];
		if (t < 0 || (size_t)t >= cfg->ntiers)
			continue;
		for (size_t k = 0; k < lg->nfeat; k++)
			fprintf(out, "%.17g,", c->v[k]);
		fprintf(out, "%s\n", cfg->tiers[t].name);
		(*rows)++;
	}
	return ferror(out) ? -EIO : 0;
}
