/*
 * recorder.c - the per-file I/O recorder (recorder.h).
 *
 * Lock order: trec_file.lock (slot doubling, packing, unpacking) is a leaf; trec.lock
 * (the output stream and the workflow cache) is taken by trec_file_new and
 * trec_file_finish only, never with a file's lock held.
 */
#define _GNU_SOURCE
#include "recorder.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define TREC_SLOTS 320		 /* 16 per final bin at the narrowest */
#define TREC_SLOT0_NS 1000000ULL /* first slot width: 1 ms */
#define TREC_CLASS_MAX 64
#define TREC_MAX_WF 16 /* workflows kept loaded for class lookups */

struct wf_cache {
	char *dir, *file;
	wf_graph *g;
	uint64_t run; /* the run id of this attachment in this mount */
};

struct trec {
	pthread_mutex_t lock;
	FILE *out;
	struct tpl *place;
	uint64_t start_ns;
	_Atomic uint64_t count;
	_Atomic uint64_t files; /* trec_file_new calls: the ids */
	/* lock: finished files, oldest first, not yet formatted */
	struct trec_file *ended, **ended_tail;
	struct wf_cache wf[TREC_MAX_WF];
	int nwf;
};

struct trec_slots {
	_Atomic uint64_t v[2][TREC_SLOTS];
};

struct trec_packed {
	uint32_t n;
	struct {
		uint32_t at; /* direction * TREC_SLOTS + slot */
		uint64_t v;
	} e[];
};

static void unpack(const struct trec_packed *p, struct trec_slots *sl)
{
	for (uint32_t i = 0; i < p->n; i++)
		atomic_store_explicit(&sl->v[p->e[i].at / TREC_SLOTS][p->e[i].at % TREC_SLOTS], p->e[i].v,
				      memory_order_relaxed);
}

struct trec_file {
	struct trec *rec;
	uint64_t t0_ns; /* CLOCK_MONOTONIC at create */
	uint64_t id;	/* unique in the run: backing inodes are reused after unlink */
	uint64_t workflow;
	char cls[TREC_CLASS_MAX];
	double v[7];
	_Atomic uint64_t ops[2], bytes[2], seq, opens;
	_Atomic uint64_t last_end[2]; /* UINT64_MAX: no request yet */
	_Atomic uint64_t hist[2][TREC_HIST];
	_Atomic uint64_t slot_ns; /* width of a slot */
	/* bytes per slot and direction, allocated at the first request (5 KiB:
	 * a file never read or written, a marker or lock file, goes without) */
	_Atomic(struct trec_slots *) slots;
	/* lock: the slots of a file nobody has open, nonzero ones only (a
	 * workflow's files wait closed for most of their lives, in numbers) */
	struct trec_packed *packed;
	uint64_t size, life_ns;	/* at trec_file_finish() */
	double (*bins)[TREC_BINS]; /* [2]: the time profile, at trec_file_finish() */
	struct trec_file *next; /* on trec.ended */
	pthread_mutex_t lock; /* doubling the slot width */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

int trec_create(const char *path, struct tpl *place, struct trec **out, char *err, size_t errlen)
{
	*out = NULL;
	struct trec *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->out = fopen(path, "a");
	if (!r->out) {
		int rc = -errno;
		snprintf(err, errlen, "record file %s: %s", path, strerror(-rc));
		free(r);
		return rc;
	}
	struct stat st;
	if (fstat(fileno(r->out), &st) == 0 && st.st_size == 0) {
		fprintf(r->out, "%s\n", TREC_CSV_HEADER);
		fflush(r->out);
	}
	pthread_mutex_init(&r->lock, NULL);
	r->place = place;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	r->start_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	r->ended_tail = &r->ended;
	*out = r;
	return 0;
}

static void write_record(struct trec_file *f);

void trec_flush(struct trec *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	struct trec_file *f = r->ended;
	r->ended = NULL;
	r->ended_tail = &r->ended;
	pthread_mutex_unlock(&r->lock);
	while (f) {
		struct trec_file *next = f->next;
		write_record(f);
		f = next;
	}
	pthread_mutex_lock(&r->lock);
	fflush(r->out);
	pthread_mutex_unlock(&r->lock);
}

void trec_destroy(struct trec *r)
{
	if (!r)
		return;
	trec_flush(r);
	fclose(r->out);
	for (int i = 0; i < r->nwf; i++) {
		free(r->wf[i].dir);
		free(r->wf[i].file);
		wf_destroy(r->wf[i].g);
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
}

uint64_t trec_count(const struct trec *r)
{
	return r ? atomic_load(&((struct trec *)r)->count) : 0;
}

struct find_attach {
	const char *dir;
	char file[4096];
	int found;
};

static void find_attach_fn(void *arg, const struct tpl_attachment_info *a)
{
	struct find_attach *f = arg;
	if (!f->found && strcmp(a->dir, f->dir) == 0) {
		snprintf(f->file, sizeof(f->file), "%s", a->file);
		f->found = 1;
	}
}

/* The class of the file's producer, from our own copy of the attached
 * workflow (loaded on the first file of an attachment).  Under r->lock. */
static void lookup_class(struct trec *r, struct trec_file *f, const char *relpath, const char *wdir)
{
	struct find_attach fa = {.dir = wdir};
	tpl_list(r->place, find_attach_fn, &fa);
	if (!fa.found)
		return;
	struct wf_cache *c = NULL;
	for (int i = 0; i < r->nwf && !c; i++)
		if (strcmp(r->wf[i].dir, wdir) == 0 && strcmp(r->wf[i].file, fa.file) == 0)
			c = &r->wf[i];
	if (!c) {
		wf_graph *g;
		char err[256];
		if (wf_load(fa.file, NULL, &g, err, sizeof(err)) != 0)
			return;
		if (r->nwf == TREC_MAX_WF) {
			/* Drop the oldest: attachments come and go with runs. */
			free(r->wf[0].dir);
			free(r->wf[0].file);
			wf_destroy(r->wf[0].g);
			memmove(&r->wf[0], &r->wf[1], (TREC_MAX_WF - 1) * sizeof(r->wf[0]));
			r->nwf--;
		}
		c = &r->wf[r->nwf];
		c->dir = strdup(wdir);
		c->file = strdup(fa.file);
		c->g = g;
		c->run = fnv(fnv(0xcbf29ce484222325ULL ^ r->start_ns, wdir), fa.file) >> 1;
		if (!c->dir || !c->file) {
			free(c->dir);
			free(c->file);
			wf_destroy(g);
			return;
		}
		r->nwf++;
	}
	f->workflow = c->run;
	size_t dl = strlen(wdir);
	const char *rel = dl && strncmp(relpath, wdir, dl) == 0 ? relpath + dl : relpath;
	struct wf_file_features ff;
	if (wf_file_features(c->g, rel, &ff) == 0 && ff.producer_category) {
		size_t i = 0;
		for (const char *p = ff.producer_category; *p && i < TREC_CLASS_MAX - 1; p++, i++) {
			f->cls[i] = trec_class_char(*p) ? *p : '_';
		}
		f->cls[i] = '\0';
	}
}

struct trec_file *trec_file_new(struct trec *r, const char *relpath, const struct tpl_decision *d)
{
	if (!r)
		return NULL;
	struct trec_file *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->rec = r;
	f->t0_ns = mono_ns();
	f->id = fnv(r->start_ns ^ 0x9e3779b97f4a7c15ULL, "") ^ (atomic_fetch_add(&r->files, 1) + 1);
	f->slot_ns = TREC_SLOT0_NS;
	f->last_end[0] = f->last_end[1] = UINT64_MAX;
	pthread_mutex_init(&f->lock, NULL);
	f->workflow = r->start_ns >> 1; /* files of no workflow: the mount's run */
	for (int i = 0; i < 7; i++)
		f->v[i] = 0;
	f->v[5] = f->v[6] = -1;
	if (d && d->known) {
		for (size_t i = 0; i < d->v.n && i < 7; i++)
			f->v[i] = i >= 5 && d->v.values[i] >= TPL_DIST_NONE ? -1 : d->v.values[i];
		if (r->place && d->workflow_dir) {
			pthread_mutex_lock(&r->lock);
			lookup_class(r, f, relpath, d->workflow_dir);
			pthread_mutex_unlock(&r->lock);
		}
	}
	return f;
}

void trec_file_open(struct trec_file *f)
{
	if (f)
		atomic_fetch_add_explicit(&f->opens, 1, memory_order_relaxed);
}

void trec_io(struct trec_file *f, int write, uint64_t off, uint64_t done)
{
	if (!f || !done)
		return;
	int d = write ? 1 : 0;
	atomic_fetch_add_explicit(&f->ops[d], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&f->bytes[d], done, memory_order_relaxed);
	atomic_fetch_add_explicit(&f->hist[d][trec_hist_bucket(done)], 1, memory_order_relaxed);
	uint64_t prev = atomic_exchange_explicit(&f->last_end[d], off + done, memory_order_relaxed);
	if (prev != UINT64_MAX && off >= prev)
		atomic_fetch_add_explicit(&f->seq, 1, memory_order_relaxed);
	struct trec_slots *sl = atomic_load_explicit(&f->slots, memory_order_acquire);
	if (!sl) { /* the first request, or the first since the file was packed */
		pthread_mutex_lock(&f->lock);
		sl = atomic_load_explicit(&f->slots, memory_order_acquire);
		if (!sl && (sl = calloc(1, sizeof(*sl))) != NULL) {
			if (f->packed) {
				unpack(f->packed, sl);
				free(f->packed);
				f->packed = NULL;
			}
			atomic_store_explicit(&f->slots, sl, memory_order_release);
		}
		pthread_mutex_unlock(&f->lock);
		if (!sl)
			return; /* the totals are kept; the time profile misses it */
	}
	uint64_t t = mono_ns() - f->t0_ns;
	uint64_t w = atomic_load_explicit(&f->slot_ns, memory_order_relaxed);
	uint64_t s = t / w;
	if (s >= TREC_SLOTS) {
		pthread_mutex_lock(&f->lock);
		w = atomic_load_explicit(&f->slot_ns, memory_order_relaxed);
		while (t / w >= TREC_SLOTS) {
			for (int k = 0; k < 2; k++)
				for (int i = 0; i < TREC_SLOTS; i++) {
					uint64_t v = atomic_exchange_explicit(&sl->v[k][i], 0, memory_order_relaxed);
					atomic_fetch_add_explicit(&sl->v[k][i / 2], v, memory_order_relaxed);
				}
			w *= 2;
			atomic_store_explicit(&f->slot_ns, w, memory_order_relaxed);
		}
		pthread_mutex_unlock(&f->lock);
		s = t / w;
	}
	atomic_fetch_add_explicit(&sl->v[d][s], done, memory_order_relaxed);
}

void trec_file_idle(struct trec_file *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	struct trec_slots *sl = atomic_load_explicit(&f->slots, memory_order_acquire);
	uint32_t n = 0;
	for (int k = 0; sl && k < 2; k++)
		for (int i = 0; i < TREC_SLOTS; i++)
			n += atomic_load_explicit(&sl->v[k][i], memory_order_relaxed) != 0;
	struct trec_packed *p = sl ? malloc(sizeof(*p) + n * sizeof(p->e[0])) : NULL;
	if (p) { /* else it stays unpacked */
		p->n = 0;
		for (int k = 0; k < 2; k++)
			for (int i = 0; i < TREC_SLOTS; i++) {
				uint64_t v = atomic_load_explicit(&sl->v[k][i], memory_order_relaxed);
				if (v) {
					p->e[p->n].at = (uint32_t)(k * TREC_SLOTS + i);
					p->e[p->n++].v = v;
				}
			}
		f->packed = p;
		atomic_store_explicit(&f->slots, NULL, memory_order_release);
		free(sl);
	}
	pthread_mutex_unlock(&f->lock);
}

void trec_file_drop(struct trec_file *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->lock);
	free(f->packed);
	free(atomic_load(&f->slots));
	free(f->bins);
	free(f);
}

/* Spread each slot's bytes (slots of w ns) over the TREC_BINS bins of a
 * life of life_ns. */
static void spread_slots(const struct trec_slots *sl, uint64_t w, uint64_t life_ns, double (*bins)[TREC_BINS])
{
	double life = (double)(life_ns ? life_ns : 1);
	for (int k = 0; k < 2; k++)
		for (uint64_t i = 0; i < TREC_SLOTS; i++) {
			uint64_t v = atomic_load(&sl->v[k][i]);
			if (!v)
				continue;
			double a = (double)(i * w) / life * TREC_BINS, b = (double)((i + 1) * w) / life * TREC_BINS;
			if (a >= TREC_BINS) {
				bins[k][TREC_BINS - 1] += (double)v;
				continue;
			}
			if (b > TREC_BINS)
				b = TREC_BINS;
			for (int j = (int)a; j < TREC_BINS && j < b; j++) {
				double lo = j > a ? j : a, hi = j + 1 < b ? j + 1 : b;
				if (hi > lo)
					bins[k][j] += (double)v * (hi - lo) / (b - a);
			}
		}
}

/* The record is formatted by trec_flush(), on the daemon's ticker: its
 * forty-odd numbers took a tenth of the time of an unlink's request. */
void trec_file_finish(struct trec_file *f, uint64_t size)
{
	if (!f)
		return;
	struct trec *r = f->rec;
	f->size = size;
	f->life_ns = mono_ns() - f->t0_ns;
	struct trec_slots *sl = atomic_exchange(&f->slots, NULL);
	if (!sl && f->packed && (sl = calloc(1, sizeof(*sl))) != NULL)
		unpack(f->packed, sl);
	free(f->packed);
	f->packed = NULL;
	if (sl && (f->bins = calloc(2, sizeof(*f->bins))) != NULL)
		spread_slots(sl, atomic_load(&f->slot_ns), f->life_ns, f->bins);
	free(sl); /* 5 KiB down to 320 bytes until the ticker writes it */
	f->next = NULL;
	pthread_mutex_lock(&r->lock);
	*r->ended_tail = f;
	r->ended_tail = &f->next;
	pthread_mutex_unlock(&r->lock);
	atomic_fetch_add(&r->count, 1);
}

static void write_record(struct trec_file *f)
{
	struct trec *r = f->rec;
	uint64_t size = f->size, life_ns = f->life_ns;
	static const double none[2][TREC_BINS];
	const double(*bins)[TREC_BINS] = f->bins ? (const double(*)[TREC_BINS])f->bins : none;
	uint64_t ops = atomic_load(&f->ops[0]) + atomic_load(&f->ops[1]);
	char line[4096];
	int n = snprintf(line, sizeof(line), "%" PRIu64 ",%" PRIu64 ",%s", f->id, f->workflow, f->cls);
	for (int i = 0; i < 7; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ",%.17g", f->v[i]);
	n += snprintf(line + n, sizeof(line) - (size_t)n,
		      ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.9g,%.6g", size,
		      atomic_load(&f->bytes[0]), atomic_load(&f->bytes[1]), atomic_load(&f->ops[0]),
		      atomic_load(&f->ops[1]), atomic_load(&f->opens), (double)life_ns / 1e9,
		      ops ? fmin(1.0, (double)atomic_load(&f->seq) / (double)ops) : 0.0);
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < TREC_HIST; i++)
			n += snprintf(line + n, sizeof(line) - (size_t)n, ",%" PRIu64, atomic_load(&f->hist[k][i]));
	for (int k = 0; k < 2; k++) {
		double mx = 0;
		for (int i = 0; i < TREC_BINS; i++)
			mx = fmax(mx, bins[k][i]);
		for (int i = 0; i < TREC_BINS; i++)
			n += snprintf(line + n, sizeof(line) - (size_t)n, ",%.6g", mx > 0 ? bins[k][i] / mx : 0.0);
	}
	pthread_mutex_lock(&r->lock);
	fprintf(r->out, "%s\n", line);
	pthread_mutex_unlock(&r->lock);
	trec_file_drop(f);
}
