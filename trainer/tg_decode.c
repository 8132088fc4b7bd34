/*
 * tg_decode.c - the decoder: samples of the trace generator become a
 * synthetic workflow (WfFormat 1.5 JSON) and its per-file operation
 * stream.
 *
 * Skeleton: each sampled file is created by a task of its class at its
 * producer level (V1); a (level, class) group has about V2 tasks (never
 * more than its files); its V5 consumers sit at levels V1 + V6 .. V1 + V7
 * (a distance 0, as Darshan records have, counts as 1), chosen among the
 * tasks there (a level without one gets a task of the producer's class).
 * Every task above level 0 gets one explicit parent on the level below, so
 * our parser's longest-path levels are the sampled ones.
 *
 * Or on a skeleton of the workflow generators (gen.h, tg_decode_skeleton):
 * the kind's DAG with its own categories and drawn runtimes; a file whose
 * producer's category is a class of the generator (a workflow input: the
 * class "", as the recorder writes inputs staged through a mount) gets a
 * sampled record and its size; any other keeps the drawn size and plain
 * operations (one sequential write, one full read per consumer).
 *
 * Timing: a task runs for the longest write span of its outputs (at least
 * 10 ms); levels run one after another.  A file's operations start at its
 * producer's start and follow its own curves over its lifetime: bin i
 * holds curve[i] / sum of the curve of its bytes and requests; within a
 * bin the writes come first, then the reads.  The writer's open lasts
 * from its first to its last write; reads after it come in opens - 1
 * sessions, and a file read before its last write has one read-write
 * session instead.  Request sizes are drawn
 * from the file's size histogram, then scaled so the bin's bytes add up.
 * Writes append (or, with probability 1 - seq_frac, rewrite a random
 * offset below the current end); reads continue from the last read or
 * start at a random offset, wrapping at the end of the file.
 */
#include "gen.h"
#include "tg_internal.h"

#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D TG_NFEAT
#define MAX_LEVELS 64

struct dfile {
	struct tg_record r;
	size_t cls;
	uint32_t level;
	int producer;	/* task index */
	double t0;	  /* its producer's start: where its operations begin */
	const char *name; /* file id in the output, NULL = f%06d */
};

struct dtask {
	size_t cls;
	uint32_t level;
	int parent; /* explicit parent, -1 none */
	double runtime, start;
	int *in, *out;
	int nin, nout, cin, cout;
};

struct op {
	double t;
	uint64_t seq;
	int file;
	char kind; /* o open to read, O to write, B both; r, w, c(lose) */
	uint64_t off, len;
};

struct dec {
	struct dfile *f;
	size_t nf;
	struct dtask *t;
	size_t nt, ct;
	struct op *ops;
	size_t nops, cops;
	uint64_t rng;
};

static int push_int(int **a, int *n, int *cap, int v)
{
	for (int i = 0; i < *n; i++)
		if ((*a)[i] == v)
			return 0;
	if (*n == *cap) {
		int nc = *cap ? *cap * 2 : 4;
		int *p = realloc(*a, (size_t)nc * sizeof(int));
		if (!p)
			return -ENOMEM;
		*a = p;
		*cap = nc;
	}
	(*a)[(*n)++] = v;
	return 0;
}

static int new_task(struct dec *d, size_t cls, uint32_t level)
{
	if (d->nt == d->ct) {
		size_t nc = d->ct ? d->ct * 2 : 32;
		struct dtask *p = realloc(d->t, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		d->t = p;
		d->ct = nc;
	}
	d->t[d->nt] = (struct dtask){.cls = cls, .level = level, .parent = -1};
	return (int)d->nt++;
}

static int add_op(struct dec *d, double t, int file, char kind, uint64_t off, uint64_t len)
{
	if (d->nops == d->cops) {
		size_t nc = d->cops ? d->cops * 2 : 1024;
		struct op *p = realloc(d->ops, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		d->ops = p;
		d->cops = nc;
	}
	d->ops[d->nops] = (struct op){t, d->nops, file, kind, off, len};
	d->nops++;
	return 0;
}

static int cmp_op(const void *a, const void *b)
{
	const struct op *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A request size from bucket weights hist (sum > 0). */
static double draw_size(const uint64_t *hist, uint64_t *rng)
{
	static const double lo[TG_HIST] = {1, 100, 1e3, 1e4, 1e5, 1e6, 4e6, 1e7, 1e8, 1e9};
	static const double hi[TG_HIST] = {100, 1e3, 1e4, 1e5, 1e6, 4e6, 1e7, 1e8, 1e9, 4e9};
	uint64_t sum = 0;
	for (int i = 0; i < TG_HIST; i++)
		sum += hist[i];
	uint64_t pick = tg_rand_u64(rng) % sum;
	int b = 0;
	while (pick >= hist[b]) {
		pick -= hist[b];
		b++;
	}
	return exp(log(lo[b]) + tg_rand_unif(rng) * (log(hi[b]) - log(lo[b])));
}

/* Requests of one direction of file fi, timed from t0.  For writes,
 * *end is the file's current end (grows); reads wrap at size. */
static int emit_dir(struct dec *d, int fi, int write, double t0, double *first, double *last, uint64_t max_ops)
{
	const struct tg_record *r = &d->f[fi].r;
	uint64_t bytes = write ? r->bytes_written : r->bytes_read, ops = write ? r->writes : r->reads;
	const uint64_t *hist = write ? r->write_hist : r->read_hist;
	const float *c = r->curve + (write ? TG_BINS : 0);
	if (!bytes || !ops)
		return 0;
	if (ops > max_ops)
		ops = max_ops;
	double cs = 0;
	for (int i = 0; i < TG_BINS; i++)
		cs += c[i];
	float flat[TG_BINS];
	if (cs <= 0) {
		for (int i = 0; i < TG_BINS; i++)
			flat[i] = 1;
		c = flat;
		cs = TG_BINS;
	}
	double bin = r->lifetime / TG_BINS;
	uint64_t pos = 0, end = 0, size = r->size ? r->size : bytes;
	uint64_t left = bytes;
	*first = -1;
	for (int i = 0; i < TG_BINS && left; i++) {
		uint64_t b = i == TG_BINS - 1 ? left : (uint64_t)llround((double)bytes * c[i] / cs);
		if (b > left)
			b = left;
		if (!b)
			continue;
		left -= b;
		uint64_t n = (uint64_t)llround((double)ops * c[i] / cs);
		if (n < 1 || n > ops)
			n = n < 1 ? 1 : ops;
		if (n > b)
			n = b;
		double *sz = malloc(n * sizeof(double)), tot = 0;
		if (!sz)
			return -ENOMEM;
		for (uint64_t k = 0; k < n; k++)
			tot += sz[k] = draw_size(hist, &d->rng);
		uint64_t given = 0;
		for (uint64_t k = 0; k < n; k++) {
			uint64_t len = k == n - 1 ? b - given : (uint64_t)((double)b * sz[k] / tot);
			if (!len)
				continue;
			given += len;
			double t = t0 + bin * (i + (write ? 0.0 : 0.5) + 0.5 * ((double)k + tg_rand_unif(&d->rng)) / (double)n);
			uint64_t off;
			int seq = tg_rand_unif(&d->rng) < r->seq_frac;
			if (write) {
				off = seq || end == 0 ? end : tg_rand_u64(&d->rng) % end;
				if (off + len > end)
					end = off + len;
			} else {
				if (!seq)
					pos = tg_rand_u64(&d->rng) % size;
				if (pos >= size)
					pos = 0;
				off = pos;
				pos += len;
			}
			if (*first < 0)
				*first = t;
			*last = t;
			int rc = add_op(d, t, fi, write ? 'w' : 'r', off, len);
			if (rc) {
				free(sz);
				return rc;
			}
		}
		free(sz);
	}
	return 0;
}

static int build(struct dec *d, const struct tg_gen *g, const struct tg_decode_options *o)
{
	/* Class by record frequency, then features, curves, records. */
	size_t total = 0;
	for (size_t c = 0; c < g->nclass; c++)
		total += g->cls[c].n;
	float x[D], curve[TG_CURVE];
	int rc;
	for (size_t i = 0; i < d->nf; i++) {
		uint64_t pick = tg_rand_u64(&d->rng) % total;
		size_t c = 0;
		while (pick >= g->cls[c].n)
			pick -= g->cls[c++].n;
		if ((rc = tg_gen_sample_features(g, c, o->fg, &d->rng, 1, x)) || (rc = tg_gen_curves(g, c, x, 1, curve)))
			return rc;
		tg_gen_decode_record(g, c, x, curve, &d->f[i].r);
		d->f[i].cls = c;
		d->f[i].level = d->f[i].r.v[0] < MAX_LEVELS - 1 ? (uint32_t)d->f[i].r.v[0] : MAX_LEVELS - 2;
		d->f[i].producer = -1;
	}
	/* Producers: per (level, class), about V2 tasks, files round-robin. */
	for (uint32_t lv = 0; lv < MAX_LEVELS; lv++)
		for (size_t c = 0; c < g->nclass; c++) {
			size_t n = 0;
			double w = 0;
			for (size_t i = 0; i < d->nf; i++)
				if (d->f[i].level == lv && d->f[i].cls == c) {
					n++;
					w += d->f[i].r.v[1];
				}
			if (!n)
				continue;
			size_t ntask = (size_t)llround(w / (double)n);
			ntask = ntask < 1 ? 1 : ntask > n ? n : ntask;
			int first = -1;
			for (size_t k = 0; k < ntask; k++) {
				int t = new_task(d, c, lv);
				if (t < 0)
					return t;
				if (first < 0)
					first = t;
			}
			size_t k = 0;
			for (size_t i = 0; i < d->nf; i++)
				if (d->f[i].level == lv && d->f[i].cls == c) {
					int t = first + (int)(k++ % ntask);
					d->f[i].producer = t;
					if ((rc = push_int(&d->t[t].out, &d->t[t].nout, &d->t[t].cout, (int)i)))
						return rc;
				}
		}
	/* Consumers. */
	for (size_t i = 0; i < d->nf; i++) {
		struct dfile *f = &d->f[i];
		uint32_t nc = (uint32_t)f->r.v[4];
		if (!nc)
			continue;
		uint32_t d1 = f->r.v[5] < 1 ? 1 : (uint32_t)f->r.v[5], d2 = f->r.v[6] < d1 ? d1 : (uint32_t)f->r.v[6];
		for (uint32_t k = 0; k < nc && k < 64; k++) {
			uint32_t lv = f->level + (k == 0 ? d1 : k == 1 ? d2 : d1 + (uint32_t)(tg_rand_u64(&d->rng) % (d2 - d1 + 1)));
			if (lv >= MAX_LEVELS)
				lv = MAX_LEVELS - 1;
			int cand[256], nc2 = 0;
			for (size_t t = 0; t < d->nt && nc2 < 256; t++)
				if (d->t[t].level == lv)
					cand[nc2++] = (int)t;
			int t = nc2 ? cand[tg_rand_u64(&d->rng) % (uint64_t)nc2] : new_task(d, f->cls, lv);
			if (t < 0)
				return t;
			if ((rc = push_int(&d->t[t].in, &d->t[t].nin, &d->t[t].cin, (int)i)))
				return rc;
		}
	}
	/* Fill empty levels below the deepest and give each task a parent. */
	uint32_t top = 0;
	for (size_t t = 0; t < d->nt; t++)
		if (d->t[t].level > top)
			top = d->t[t].level;
	for (uint32_t lv = 0; lv <= top; lv++) {
		int any = -1;
		for (size_t t = 0; t < d->nt && any < 0; t++)
			if (d->t[t].level == lv)
				any = (int)t;
		if (any < 0 && (rc = new_task(d, d->f[tg_rand_u64(&d->rng) % d->nf].cls, lv)) < 0)
			return rc;
	}
	for (size_t t = 0; t < d->nt; t++) {
		if (!d->t[t].level)
			continue;
		int cand[256], n = 0;
		for (size_t p = 0; p < d->nt && n < 256; p++)
			if (d->t[p].level + 1 == d->t[t].level)
				cand[n++] = (int)p;
		d->t[t].parent = cand[tg_rand_u64(&d->rng) % (uint64_t)n];
	}
	return 0;
}

static int emit_ops(struct dec *d, uint64_t max_ops);

static int schedule_and_ops(struct dec *d, uint64_t max_ops)
{
	double lvl_start[MAX_LEVELS] = {0}, lvl_dur[MAX_LEVELS] = {0};
	for (size_t t = 0; t < d->nt; t++) {
		struct dtask *k = &d->t[t];
		k->runtime = 0.01;
		for (int j = 0; j < k->nout; j++) {
			const struct tg_record *r = &d->f[k->out[j]].r;
			int lastbin = -1;
			for (int i = 0; i < TG_BINS; i++)
				if (r->curve[TG_BINS + i] > 0)
					lastbin = i;
			double span = r->bytes_written ? r->lifetime * (lastbin + 1) / TG_BINS : 0;
			if (span > k->runtime)
				k->runtime = span;
		}
		if (k->runtime > lvl_dur[k->level])
			lvl_dur[k->level] = k->runtime;
	}
	for (int lv = 1; lv < MAX_LEVELS; lv++)
		lvl_start[lv] = lvl_start[lv - 1] + lvl_dur[lv - 1];
	for (size_t t = 0; t < d->nt; t++)
		d->t[t].start = lvl_start[d->t[t].level];
	for (size_t i = 0; i < d->nf; i++)
		d->f[i].t0 = d->t[d->f[i].producer].start;
	return emit_ops(d, max_ops);
}

/* Every file's operations, from its t0 along its own curves. */
static int emit_ops(struct dec *d, uint64_t max_ops)
{
	int rc;
	for (size_t i = 0; i < d->nf; i++) {
		const struct tg_record *r = &d->f[i].r;
		double t0 = d->f[i].t0, first, wlast = t0, rlast = t0;
		size_t open_at = d->nops;
		if ((rc = add_op(d, t0, (int)i, 'O', 0, 0)) || (rc = emit_dir(d, (int)i, 1, t0, &first, &wlast, max_ops)))
			return rc;
		size_t mark = d->nops;
		if ((rc = emit_dir(d, (int)i, 0, t0, &first, &rlast, max_ops)))
			return rc;
		size_t nreads = d->nops - mark;
		if (nreads && first < wlast) {
			/* Reads among the writes: one read-write session. */
			d->ops[open_at].kind = 'B';
			if ((rc = add_op(d, fmax(wlast, rlast), (int)i, 'c', 0, 0)))
				return rc;
			continue;
		}
		if ((rc = add_op(d, wlast, (int)i, 'c', 0, 0)))
			return rc;
		/* Read sessions after the writer closed: opens - 1 of them
		 * (at least one), splitting the reads evenly. */
		uint64_t sessions = r->opens > 1 ? r->opens - 1 : 1;
		if (sessions > nreads)
			sessions = nreads;
		for (uint64_t s = 0; s < sessions; s++) {
			size_t a = mark + nreads * s / sessions, b = mark + nreads * (s + 1) / sessions - 1;
			double ta = d->ops[a].t, tb = d->ops[b].t;
			uint64_t sa = d->ops[a].seq;
			if ((rc = add_op(d, ta, (int)i, 'o', 0, 0)) || (rc = add_op(d, tb, (int)i, 'c', 0, 0)))
				return rc;
			d->ops[d->nops - 2].seq = sa - 1; /* the open sorts before its first read */
		}
	}
	return 0;
}

static void task_id(const struct dec *d, size_t t, const struct tg_gen *g, char *buf, size_t len)
{
	snprintf(buf, len, "%s_L%u_%zu", g->cls[d->t[t].cls].name, d->t[t].level, t);
}

static int write_json(const struct dec *d, const struct tg_gen *g, const char *name, const char *path, char *err,
		      size_t errlen)
{
	cJSON *root = cJSON_CreateObject(), *wf, *spec, *tasks, *files, *exec, *etasks;
	char id[128], fid[32];
	int rc = -ENOMEM;
	if (!root || !cJSON_AddStringToObject(root, "name", name) ||
	    !cJSON_AddStringToObject(root, "description", "synthetic workflow from tiertrain tracegen (learned I/O traces)") ||
	    !cJSON_AddStringToObject(root, "createdAt", "2026-01-01T00:00:00Z") ||
	    !cJSON_AddStringToObject(root, "schemaVersion", "1.5") || !(wf = cJSON_AddObjectToObject(root, "workflow")) ||
	    !(spec = cJSON_AddObjectToObject(wf, "specification")) || !(tasks = cJSON_AddArrayToObject(spec, "tasks")) ||
	    !(files = cJSON_AddArrayToObject(spec, "files")) || !(exec = cJSON_AddObjectToObject(wf, "execution")) ||
	    !(etasks = cJSON_AddArrayToObject(exec, "tasks")))
		goto out;
	double makespan = 0;
	for (size_t i = 0; i < d->nf; i++) {
		cJSON *f = cJSON_CreateObject();
		snprintf(fid, sizeof(fid), "f%06zu", i);
		if (!f || !cJSON_AddItemToArray(files, f) || !cJSON_AddStringToObject(f, "id", fid) ||
		    !cJSON_AddNumberToObject(f, "sizeInBytes", (double)d->f[i].r.size))
			goto out;
	}
	for (size_t t = 0; t < d->nt; t++) {
		const struct dtask *k = &d->t[t];
		cJSON *o = cJSON_CreateObject(), *in, *outf, *par, *ch, *e;
		task_id(d, t, g, id, sizeof(id));
		if (!o || !cJSON_AddItemToArray(tasks, o) || !cJSON_AddStringToObject(o, "name", id) ||
		    !cJSON_AddStringToObject(o, "id", id) || !cJSON_AddStringToObject(o, "category", g->cls[k->cls].name) ||
		    !(in = cJSON_AddArrayToObject(o, "inputFiles")) || !(outf = cJSON_AddArrayToObject(o, "outputFiles")) ||
		    !(par = cJSON_AddArrayToObject(o, "parents")) || !(ch = cJSON_AddArrayToObject(o, "children")))
			goto out;
		for (int j = 0; j < k->nin; j++) {
			snprintf(fid, sizeof(fid), "f%06d", k->in[j]);
			if (!cJSON_AddItemToArray(in, cJSON_CreateString(fid)))
				goto out;
		}
		for (int j = 0; j < k->nout; j++) {
			snprintf(fid, sizeof(fid), "f%06d", k->out[j]);
			if (!cJSON_AddItemToArray(outf, cJSON_CreateString(fid)))
				goto out;
		}
		if (k->parent >= 0) {
			task_id(d, (size_t)k->parent, g, id, sizeof(id));
			if (!cJSON_AddItemToArray(par, cJSON_CreateString(id)))
				goto out;
		}
		for (size_t c = 0; c < d->nt; c++)
			if (d->t[c].parent == (int)t) {
				task_id(d, c, g, id, sizeof(id));
				if (!cJSON_AddItemToArray(ch, cJSON_CreateString(id)))
					goto out;
			}
		task_id(d, t, g, id, sizeof(id));
		if (!(e = cJSON_CreateObject()) || !cJSON_AddItemToArray(etasks, e) || !cJSON_AddStringToObject(e, "id", id) ||
		    !cJSON_AddNumberToObject(e, "runtimeInSeconds", k->runtime))
			goto out;
		if (k->start + k->runtime > makespan)
			makespan = k->start + k->runtime;
	}
	if (!cJSON_AddNumberToObject(exec, "makespanInSeconds", makespan) ||
	    !cJSON_AddStringToObject(exec, "executedAt", "2026-01-01T00:00:00Z"))
		goto out;
	char *s = cJSON_Print(root);
	if (!s)
		goto out;
	FILE *fp = fopen(path, "w");
	if (!fp) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(-rc));
		free(s);
		cJSON_Delete(root);
		return rc;
	}
	int ok = fputs(s, fp) >= 0 && fputc('\n', fp) != EOF;
	ok = fclose(fp) == 0 && ok;
	free(s);
	rc = ok ? 0 : -EIO;
	if (!ok)
		snprintf(err, errlen, "%s: write failed", path);
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory building the workflow", path);
	cJSON_Delete(root);
	return rc;
}

static int write_ops(struct dec *d, const char *path, char *err, size_t errlen)
{
	qsort(d->ops, d->nops, sizeof(*d->ops), cmp_op);
	FILE *fp = fopen(path, "w");
	if (!fp) {
		int rc = -errno;
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(-rc));
		return rc;
	}
	fprintf(fp, "# tierfs-ops 1\n# time_s op file [offset length | mode]\n");
	for (size_t i = 0; i < d->nops; i++) {
		const struct op *o = &d->ops[i];
		char fid[32];
		const char *name = d->f[o->file].name;
		if (!name) {
			snprintf(fid, sizeof(fid), "f%06d", o->file);
			name = fid;
		}
		switch (o->kind) {
		case 'O':
		case 'o':
		case 'B':
			fprintf(fp, "%.6f open %s %s\n", o->t, name, o->kind == 'O' ? "w" : o->kind == 'o' ? "r" : "rw");
			break;
		case 'c':
			fprintf(fp, "%.6f close %s\n", o->t, name);
			break;
		default:
			fprintf(fp, "%.6f %s %s %" PRIu64 " %" PRIu64 "\n", o->t, o->kind == 'w' ? "write" : "read", name, o->off,
				o->len);
		}
	}
	if (fclose(fp) != 0) {
		snprintf(err, errlen, "%s: write failed", path);
		return -EIO;
	}
	return 0;
}

int tg_decode_workflow(const struct tg_gen *g, const struct tg_decode_options *o, uint32_t index, const char *json_path,
		       const char *ops_path, char *err, size_t errlen)
{
	struct dec d = {0};
	uint32_t nf = o->files ? o->files : (uint32_t)llround(g->files_per_workflow);
	if (nf < 1)
		nf = 1;
	if (nf > 1000000) {
		snprintf(err, errlen, "--files: at most 1000000 files per workflow, got %u", nf);
		return -EINVAL;
	}
	if (o->fg == TG_FG_JITTER && !tg_gen_has_jitter(g)) {
		snprintf(err, errlen, "the jitter feature generator needs real vectors: fit with --keep-real");
		return -ENOTSUP;
	}
	d.rng = o->seed ^ ((uint64_t)index * 0xd1b54a32d192ed03ULL) ^ 0x6465636f6465ULL;
	d.nf = nf;
	d.f = calloc(nf, sizeof(*d.f));
	int rc = -ENOMEM;
	char name[160];
	if (o->name && *o->name)
		snprintf(name, sizeof(name), "%s-%u", o->name, index);
	else
		snprintf(name, sizeof(name), "tracegen-%u", index);
	if (!d.f)
		goto out;
	if ((rc = build(&d, g, o)) || (rc = schedule_and_ops(&d, o->max_ops >= 1 ? (uint64_t)o->max_ops : 256)))
		goto out;
	if ((rc = write_json(&d, g, name, json_path, err, errlen)))
		goto done;
	if (ops_path && (rc = write_ops(&d, ops_path, err, errlen)))
		goto done;
	rc = 0;
	goto done;
out:
	if (rc)
		snprintf(err, errlen, "out of memory decoding workflow %u", index);
done:
	for (size_t t = 0; t < d.nt; t++) {
		free(d.t[t].in);
		free(d.t[t].out);
	}
	free(d.t);
	free(d.f);
	free(d.ops);
	return rc;
}

/* ---- on a generator skeleton (gen.h) ------------------------------------- */

/* A plain record for a file of a class the generator does not know: one
 * sequential write of its size at its producer's start, one full read by
 * each consumer at the consumer's start. */
static void plain_record(struct tg_record *r, uint64_t size, double t0, const double *reads_at, uint32_t nreads)
{
	memset(r, 0, sizeof(*r));
	uint64_t chunk = (uint64_t)1 << 20;
	r->size = size;
	r->bytes_written = size;
	r->writes = size ? (size + chunk - 1) / chunk : 0;
	if (r->writes)
		r->write_hist[tg_hist_bucket(size < chunk ? size : chunk)] = r->writes;
	r->bytes_read = size * nreads;
	r->reads = r->writes * nreads;
	if (r->reads)
		r->read_hist[tg_hist_bucket(size < chunk ? size : chunk)] = r->reads;
	r->opens = 1 + nreads;
	r->seq_frac = 1;
	double end = t0;
	for (uint32_t k = 0; k < nreads; k++)
		end = fmax(end, reads_at[k]);
	r->lifetime = end > t0 ? (end - t0) * (1.0 + 1.0 / TG_BINS) : 1.0;
	double rb[TG_BINS] = {0}, wb[TG_BINS] = {0};
	wb[0] = (double)size;
	for (uint32_t k = 0; k < nreads; k++) {
		int b = (int)((reads_at[k] - t0) / r->lifetime * TG_BINS);
		rb[b < 0 ? 0 : b >= TG_BINS ? TG_BINS - 1 : b] += (double)size;
	}
	tg_record_set_curves(r, rb, wb);
}

int tg_decode_skeleton(const struct tg_gen *g, const struct tg_decode_options *o, const char *kind, uint32_t scale,
		       uint32_t index, const char *json_path, const char *ops_path, char *err, size_t errlen)
{
	const struct gen_kind_info *ki = gen_kind_find(kind);
	if (!ki) {
		snprintf(err, errlen, "--kind: unknown workflow kind '%s' (tiertrain generate --list names them)", kind);
		return -EINVAL;
	}
	if (o->fg == TG_FG_JITTER && !tg_gen_has_jitter(g)) {
		snprintf(err, errlen, "the jitter feature generator needs real vectors: fit with --keep-real");
		return -ENOTSUP;
	}
	uint64_t seed = o->seed ^ ((uint64_t)index * 0xd1b54a32d192ed03ULL);
	struct gen_options gopt = {.name = NULL};
	gen_dag *dag = NULL;
	struct dec d = {0};
	double *start = NULL, *end = NULL, *at = NULL;
	char name[160];
	int rc = gen_skeleton(kind, scale ? scale : ki->default_scale, &gopt, &dag, err, errlen);
	if (rc)
		return rc;
	if ((rc = gen_dag_draw(dag, seed, NULL))) {
		snprintf(err, errlen, "%s: drawing sizes and runtimes failed: %s", kind, strerror(-rc));
		goto out;
	}
	uint32_t nt = gen_dag_task_count(dag), nf = gen_dag_file_count(dag);
	d.rng = seed ^ 0x736b656c65746f6eULL;
	d.nf = nf;
	d.f = calloc(nf ? nf : 1, sizeof(*d.f));
	start = calloc(nt ? nt : 1, sizeof(double));
	end = calloc(nt ? nt : 1, sizeof(double));
	at = calloc(nt ? nt : 1, sizeof(double));
	rc = -ENOMEM;
	if (!d.f || !start || !end || !at) {
		snprintf(err, errlen, "out of memory decoding a %s workflow", kind);
		goto out;
	}
	/* Start times with unlimited cores: the time ops are laid out on. */
	struct gen_task_view tv;
	for (uint32_t t = 0; t < nt; t++) {
		if ((rc = gen_dag_task(dag, t, &tv)))
			goto out;
		for (uint32_t p = 0; p < tv.n_parents; p++)
			start[t] = fmax(start[t], end[tv.parents[p]]);
		end[t] = start[t] + (tv.runtime > 0 ? tv.runtime : 0);
	}
	float x[TG_NFEAT], curve[TG_CURVE];
	for (uint32_t i = 0; i < nf; i++) {
		struct gen_file_view fv;
		if ((rc = gen_dag_file(dag, i, &fv)))
			goto out;
		const char *cat = "";
		if (fv.producer >= 0) {
			if ((rc = gen_dag_task(dag, (uint32_t)fv.producer, &tv)))
				goto out;
			cat = tv.category;
		}
		struct dfile *f = &d.f[i];
		f->name = fv.id;
		f->t0 = fv.producer >= 0 ? start[fv.producer] : 0;
		f->producer = (int)fv.producer;
		int c = tg_gen_class_index(g, cat);
		if (c >= 0) {
			if ((rc = tg_gen_sample_features(g, (size_t)c, o->fg, &d.rng, 1, x)) ||
			    (rc = tg_gen_curves(g, (size_t)c, x, 1, curve)))
				goto out;
			tg_gen_decode_record(g, (size_t)c, x, curve, &f->r);
			if (f->r.size && (rc = gen_dag_set_size(dag, i, f->r.size)))
				goto out;
		} else {
			for (uint32_t k = 0; k < fv.n_consumers; k++)
				at[k] = start[fv.consumers[k]];
			plain_record(&f->r, fv.size, f->t0, at, fv.n_consumers < nt ? fv.n_consumers : nt);
		}
	}
	if (o->name && *o->name)
		snprintf(name, sizeof(name), "%s-%u", o->name, index);
	else
		snprintf(name, sizeof(name), "tracegen-%s-%u", kind, index);
	FILE *fp = fopen(json_path, "w");
	if (!fp) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot create: %s", json_path, strerror(-rc));
		goto out;
	}
	rc = gen_dag_write_json(dag, name, fp);
	if (fclose(fp) != 0 && !rc)
		rc = -EIO;
	if (rc) {
		snprintf(err, errlen, "%s: write failed: %s", json_path, strerror(-rc));
		goto out;
	}
	if (ops_path) {
		if ((rc = emit_ops(&d, o->max_ops >= 1 ? (uint64_t)o->max_ops : 256))) {
			snprintf(err, errlen, "out of memory laying out operations");
			goto out;
		}
		rc = write_ops(&d, ops_path, err, errlen);
	}
out:
	free(start);
	free(end);
	free(at);
	free(d.f);
	free(d.ops);
	gen_dag_destroy(dag);
	return rc;
}
