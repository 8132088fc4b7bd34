/*
 * sim.c - see sim.h for the model.
 *
 * Bandwidth sharing without touching every transfer on each change: a
 * channel keeps S, the bytes each of its transfers has received since the
 * channel was last idle (all its transfers get the same share, so one
 * number serves them all).  A transfer of B bytes starting when the counter
 * reads S0 ends when S reaches S0 + B; the channel's transfers sit in a heap
 * by that target, and its next completion is (min target - S) * n / bw
 * away.  A start or end re-arms the channel's event; stale events are
 * skipped by version number.  Cost per transfer: O(log) in both heaps.
 *
 * Background demotion mirrors the daemon's migrator (fs/migrator.c): when
 * a placement takes a tier instance above its high watermark and no plan
 * for it is under way, files are chosen to bring it down to the low
 * watermark - finished files first (no reader left, or every reader has
 * read it), then by farthest next use (levels until its first reader minus
 * the highest level started), then least recently used - each to the next
 * slower tier that stays under its own high watermark.  A move is a read
 * on the source channel and a write on the destination channel at once,
 * sharing both with the tasks' transfers (the contention behind the "all
 * in memory" collapse); at most migrate_threads moves per node run at a
 * time, the rest wait in a queue.  Moves pay no latency.
 *
 * Invariants: each running task waits on at most one thing (a latency or
 * compute timer, or one transfer); used[] never exceeds a tier instance's
 * capacity (placement reserves the declared size before writing, a move
 * reserves its destination when planned and frees its source when done).
 * A transfer id with MOVE_BIT set is a move's, else a task's.
 *
 * Ticks (tick_s > 0) are EV_TASK events with id TICK_ID; one is queued
 * only while other events are pending, so the run still ends.  Without
 * ticks no such event exists and a run is what it was before them.  A
 * channel counts the bytes it carried (bytes), read at a tick without
 * touching its state.  Promotions share the move queue with demotions; a
 * promotion's source is not "planned" (that is demotion's bookkeeping).
 */
#define _GNU_SOURCE
#include "sim.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One heap type for events, transfers, ready tasks and free cores. */
struct hent {
	double key;
	uint64_t tie; /* insertion order: deterministic ties */
	uint32_t a, b;
};

struct heap {
	struct hent *e;
	size_t n, cap;
};

static int hless(const struct hent *x, const struct hent *y)
{
	return x->key < y->key || (x->key == y->key && x->tie < y->tie);
}

static int heap_push(struct heap *h, struct hent v)
{
	if (h->n == h->cap) {
		size_t nc = h->cap ? h->cap * 2 : 16;
		struct hent *ne = realloc(h->e, nc * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		h->e = ne;
		h->cap = nc;
	}
	size_t i = h->n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!hless(&v, &h->e[p]))
			break;
		h->e[i] = h->e[p];
		i = p;
	}
	h->e[i] = v;
	return 0;
}

static struct hent heap_pop(struct heap *h)
{
	struct hent top = h->e[0], last = h->e[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && hless(&h->e[c + 1], &h->e[c]))
			c++;
		if (!hless(&h->e[c], &last))
			break;
		h->e[i] = h->e[c];
		i = c;
	}
	if (h->n)
		h->e[i] = last;
	return top;
}

enum { EV_CHAN, EV_TASK };
#define MOVE_BIT 0x80000000u
#define TICK_ID 0x7fffffffu /* an EV_TASK id no task has */
#define SERIES_FRAMES 65536
#define NEAR_FULL 0.98 /* "near ENOSPC": the first tier this full */
enum { W_NONE, W_LATENCY, W_FLOW, W_COMPUTE };

struct chan {
	double bw;     /* bytes/s */
	double S;      /* bytes each transfer received since idle */
	double t_last; /* time S was brought up to date */
	uint32_t n;    /* transfers on the channel */
	uint32_t version;
	struct heap flows; /* key: target S, a: task */
	double bytes;	   /* carried since the run started (ticks read it) */
};

struct stier {
	char name[NAME_MAX + 1];
	uint64_t capacity;
	double read_bw, write_bw, latency;
	double high_watermark, low_watermark;
};

struct stask {
	/* from the workflow */
	double runtime;
	uint64_t input_bytes; /* V8 */
	uint32_t n_in, n_out, n_parents, n_children;
	const uint32_t *in, *out, *children;
	uint32_t rank; /* topological position */
	uint32_t level;
	/* per run */
	uint32_t pending, step, node, core, op_file;
	int wait, chan, reading, started;
	double op_start, op_bytes, op_latency;
};

struct sfile {
	struct wf_file_features ff;
	int producers;
	/* per run */
	int tier, node, created, placed, complete, moving, promoting, prefetched;
	uint32_t reads;
	double create_time, last_access;
};

struct smove {
	uint32_t file, node, next;
	int src, dst, pending, prefetch, proactive;
};

#define NO_MOVE UINT32_MAX

struct sim {
	const wf_graph *g;
	struct sim_config sc;
	uint32_t ntasks, nfiles, ntiers;
	struct stier tier[TCFG_MAX_TIERS];
	struct stask *task;
	uint32_t *task_of_rank;
	struct sfile *file;
	char fnames[TPL_MAX_FEATURES][NAME_MAX + 16];
	const char *fname_ptr[TPL_MAX_FEATURES];
	size_t nfeat;
	double *features; /* nfiles * nfeat when recorded */
	int features_valid;
	struct lrn_policy *first;
	uint32_t migrate_threads;

	/* per run */
	uint64_t *used; /* [tier * nodes + node] */
	uint64_t *peak;
	uint64_t *planned;  /* [instance]: bytes planned out, not yet moved */
	struct chan *chans; /* [(tier * nodes + node) * 2 + write] */
	struct heap events, ready, cores;
	uint64_t seq;
	double now;
	int64_t level_started;
	struct smove *moves;
	uint32_t nmoves, cap_moves;
	uint32_t *qhead, *qtail, *inflight; /* [node] */
	uint32_t *cand;			    /* files, for planning */
	struct lrn_policy *policy;
	const int *placement;
	/* ticks, series and phases (tick_s > 0) */
	struct mon *mon;
	double *frame;			    /* one frame */
	double chan_seen[TCFG_MAX_TIERS][2]; /* channel bytes at the last tick */
	uint32_t ops[TCFG_MAX_TIERS][2];     /* operations ended since */
	uint32_t spills_seen;		    /* place_spills at the last tick */
	uint64_t headroom[TCFG_MAX_TIERS];  /* per tier instance of any node */
	uint64_t keep[TCFG_MAX_TIERS];	    /* room a prefetch leaves (mon_phase_keep) */
	uint64_t promoting;		    /* promotion bytes reserved, not yet moved */
	int prefetch_on;
	double headroom_sum, free_sum;
	struct sim_result res;
	int fail;
	char *err;
	size_t errlen;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void sim_config_default(struct sim_config *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->nodes = 1;
	sc->cores = 1;
	sc->runtime_scale = 1.0;
	sc->record_features = 1;
	sc->migrate_threads = -1;
}

static int check_tiers(struct sim *s, const struct tcfg *cfg, char *err, size_t errlen)
{
	if (cfg->ntiers < 1) {
		seterr(err, errlen,
		       "%s: no [tier NAME] section; the simulator needs at least one tier",
		       cfg->file);
		return -EINVAL;
	}
	s->ntiers = (uint32_t)cfg->ntiers;
	for (size_t t = 0; t < cfg->ntiers; t++) {
		const struct tcfg_tier *ct = &cfg->tiers[t];
		struct stier *st = &s->tier[t];
		snprintf(st->name, sizeof(st->name), "%s", ct->name);
		if (ct->read_bandwidth == 0 || ct->write_bandwidth == 0) {
			seterr(
			    err, errlen,
			    "%s:%d: [tier %s] key '%s' is not set; the simulator needs declared read_bandwidth and write_bandwidth (e.g. 2G/s)",
			    cfg->file, ct->line, ct->name,
			    ct->read_bandwidth == 0 ? "read_bandwidth" : "write_bandwidth");
			return -EINVAL;
		}
		st->read_bw = (double)ct->read_bandwidth;
		st->write_bw = (double)ct->write_bandwidth;
		st->latency = (double)ct->latency_ns * 1e-9;
		st->high_watermark = ct->high_watermark;
		st->low_watermark = ct->low_watermark;
		if (s->sc.capacity[t])
			st->capacity = s->sc.capacity[t];
		else if (ct->capacity_pct > 0 || ct->capacity == 0) {
			seterr(
			    err, errlen,
			    "%s:%d: [tier %s] key 'capacity': the simulator needs bytes (e.g. capacity = 64G), not a share of a filesystem; or override it (tiertrain simulate --capacity %s=SIZE)",
			    cfg->file, ct->line, ct->name, ct->name);
			return -EINVAL;
		} else
			st->capacity = ct->capacity;
	}
	return 0;
}

static int load_graph(struct sim *s, char *err, size_t errlen)
{
	s->ntasks = wf_task_count(s->g);
	s->nfiles = wf_file_count(s->g);
	s->task = calloc(s->ntasks ? s->ntasks : 1, sizeof(*s->task));
	s->task_of_rank = calloc(s->ntasks ? s->ntasks : 1, sizeof(*s->task_of_rank));
	s->file = calloc(s->nfiles ? s->nfiles : 1, sizeof(*s->file));
	if (!s->task || !s->task_of_rank || !s->file)
		return -ENOMEM;
	for (uint32_t f = 0; f < s->nfiles; f++)
		if (wf_file_info(s->g, f, &s->file[f].ff) != 0) {
			seterr(err, errlen, "workflow: file %u cannot be read back from the graph",
			       f);
			return -EINVAL;
		}
	for (uint32_t r = 0; r < s->ntasks; r++) {
		struct wf_task_info ti;
		if (wf_task_topo(s->g, r, &ti) != 0) {
			seterr(err, errlen,
			       "workflow: task %u of the topological order cannot be read back", r);
			return -EINVAL;
		}
		struct stask *t = &s->task[ti.index];
		t->runtime = ti.runtime > 0 ? ti.runtime : 0.0;
		t->n_in = ti.n_inputs;
		t->n_out = ti.n_outputs;
		t->in = ti.inputs;
		t->out = ti.outputs;
		t->n_parents = ti.n_parents;
		t->n_children = ti.n_children;
		t->children = ti.children;
		t->rank = r;
		t->level = ti.level;
		s->task_of_rank[r] = ti.index;
		for (uint32_t i = 0; i < ti.n_inputs; i++)
			t->input_bytes += s->file[ti.inputs[i]].ff.size;
		for (uint32_t o = 0; o < ti.n_outputs; o++)
			s->file[ti.outputs[o]].producers++;
	}
	return 0;
}

int sim_create(const wf_graph *g, const struct tcfg *cfg, const struct sim_config *sc,
	       struct sim **out, char *err, size_t errlen)
{
	*out = NULL;
	if (sc->nodes == 0 || sc->cores == 0) {
		seterr(err, errlen, "simulator: %s must be at least 1",
		       sc->nodes == 0 ? "nodes" : "cores per node");
		return -EINVAL;
	}
	if (!(sc->runtime_scale >= 0)) {
		seterr(err, errlen, "simulator: runtime scale %g: expected a number >= 0",
		       sc->runtime_scale);
		return -EINVAL;
	}
	if (sc->tick_s < 0 || (sc->tick_s > 0 && !isfinite(sc->tick_s)) ||
	    (sc->phase && !(sc->tick_s > 0)) || (sc->proactive && !sc->phase) ||
	    sc->proactive_horizon < 0 || sc->proactive_theta < 0 || sc->proactive_theta >= 1) {
		seterr(err, errlen,
		       "simulator: a phase model needs a tick (tick_s > 0), proactive mode a phase model; tick, horizon >= 0, theta in [0,1)");
		return -EINVAL;
	}
	struct sim *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->g = g;
	s->sc = *sc;
	if (s->sc.proactive_horizon == 0)
		s->sc.proactive_horizon = 10.0;
	if (s->sc.proactive_theta == 0)
		s->sc.proactive_theta = MON_PHASE_DEFAULT_THETA;
	int rc = check_tiers(s, cfg, err, errlen);
	if (rc)
		goto fail;
	rc = load_graph(s, err, errlen);
	if (rc)
		goto fail;
	if (sc->phase) {
		const struct mon_phase_info *pi = mon_phase_info(sc->phase);
		if (pi->ntiers != s->ntiers) {
			seterr(err, errlen,
			       "simulator: the phase model was trained on %zu tiers, the configuration has %u",
			       pi->ntiers, s->ntiers);
			rc = -EINVAL;
			goto fail;
		}
	}

	/* Feature names as the daemon's tpl_features() gives them; copied,
	 * since that function keeps them in per-thread storage. */
	struct lrn_tier_state st[TCFG_MAX_TIERS];
	for (uint32_t t = 0; t < s->ntiers; t++)
		st[t] = (struct lrn_tier_state){.name = s->tier[t].name,
						.capacity = s->tier[t].capacity};
	struct wf_file_features ff = {0};
	struct tpl_vector v;
	tpl_features(&ff, 0, st, s->ntiers, &v);
	s->nfeat = v.n;
	for (size_t i = 0; i < v.n; i++) {
		snprintf(s->fnames[i], sizeof(s->fnames[i]), "%s", v.names[i]);
		s->fname_ptr[i] = s->fnames[i];
	}

	size_t inst = (size_t)s->ntiers * sc->nodes;
	s->used = calloc(inst, sizeof(*s->used));
	s->peak = calloc(inst, sizeof(*s->peak));
	s->chans = calloc(inst * 2, sizeof(*s->chans));
	s->planned = calloc(inst, sizeof(*s->planned));
	s->qhead = calloc(sc->nodes, sizeof(*s->qhead));
	s->qtail = calloc(sc->nodes, sizeof(*s->qtail));
	s->inflight = calloc(sc->nodes, sizeof(*s->inflight));
	s->cand = calloc(s->nfiles ? s->nfiles : 1, sizeof(*s->cand));
	s->migrate_threads = sc->migrate_threads >= 0
				 ? (uint32_t)sc->migrate_threads
				 : (uint32_t)(cfg->migrate_threads > 0 ? cfg->migrate_threads : 0);
	if (sc->tick_s > 0)
		s->frame = calloc(mon_ncols(s->ntiers), sizeof(double));
	if (sc->record_features)
		s->features =
		    calloc((size_t)(s->nfiles ? s->nfiles : 1) * s->nfeat, sizeof(double));
	s->first = lrn_policy_static_create(LRN_STATIC_FIRST, 0, 0);
	rc = -ENOMEM;
	if (!s->used || !s->peak || !s->chans || !s->planned || !s->qhead || !s->qtail ||
	    !s->inflight || !s->cand || (sc->record_features && !s->features) || !s->first ||
	    (sc->tick_s > 0 && !s->frame)) {
		seterr(err, errlen, "simulator: out of memory for %u tasks and %u files", s->ntasks,
		       s->nfiles);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	sim_destroy(s);
	return rc;
}

void sim_destroy(struct sim *s)
{
	if (!s)
		return;
	if (s->chans)
		for (size_t c = 0; c < (size_t)s->ntiers * s->sc.nodes * 2; c++)
			free(s->chans[c].flows.e);
	free(s->chans);
	free(s->used);
	free(s->peak);
	free(s->planned);
	free(s->moves);
	free(s->qhead);
	free(s->qtail);
	free(s->inflight);
	free(s->cand);
	free(s->frame);
	mon_destroy(s->mon);
	free(s->features);
	free(s->task);
	free(s->task_of_rank);
	free(s->file);
	free(s->events.e);
	free(s->ready.e);
	free(s->cores.e);
	lrn_policy_destroy(s->first);
	free(s);
}

/* ---- the event machinery ------------------------------------------------- */

static size_t inst_of(const struct sim *s, int tier, uint32_t node)
{
	/* The last tier is one shared instance, kept at node 0. */
	if ((uint32_t)tier == s->ntiers - 1)
		node = 0;
	return (size_t)tier * s->sc.nodes + node;
}

static void fail_run(struct sim *s, int rc)
{
	if (!s->fail)
		s->fail = rc;
}

static void push_event(struct sim *s, double t, uint32_t kind, uint32_t id, uint32_t ver)
{
	struct hent e = {.key = t, .tie = s->seq++, .a = (kind << 31) | id, .b = ver};
	if (heap_push(&s->events, e) != 0) {
		seterr(s->err, s->errlen, "simulator: out of memory for the event queue");
		fail_run(s, -ENOMEM);
	}
}

static void chan_advance(struct chan *c, double now)
{
	if (c->n > 0 && now > c->t_last) {
		c->S += (now - c->t_last) * c->bw / c->n;
		c->bytes += (now - c->t_last) * c->bw;
	}
	c->t_last = now;
}

/* Bytes the channel has carried by now, without advancing it. */
static double chan_carried(const struct chan *c, double now)
{
	return c->bytes + (c->n > 0 && now > c->t_last ? (now - c->t_last) * c->bw : 0.0);
}

/* Channel c is node 0's view (its own instance or the shared last tier):
 * its tier, else -1. */
static int chan_view_tier(const struct sim *s, int c)
{
	size_t in = (size_t)c / 2;
	return in % s->sc.nodes == 0 ? (int)(in / s->sc.nodes) : -1;
}

static void chan_rearm(struct sim *s, struct chan *c)
{
	c->version++;
	if (c->n == 0) {
		c->S = 0; /* keeps the counter small, so rounding stays negligible */
		return;
	}
	double left = c->flows.e[0].key - c->S;
	double t = c->t_last + (left > 0 ? left * c->n / c->bw : 0.0);
	push_event(s, t, EV_CHAN, (uint32_t)(c - s->chans), c->version);
}

static void chan_add(struct sim *s, struct chan *c, uint32_t task, double bytes)
{
	chan_advance(c, s->now);
	struct hent f = {.key = c->S + bytes, .tie = s->seq++, .a = task};
	if (heap_push(&c->flows, f) != 0) {
		seterr(s->err, s->errlen, "simulator: out of memory for transfers");
		fail_run(s, -ENOMEM);
		return;
	}
	c->n++;
	chan_rearm(s, c);
}

static void task_run(struct sim *s, uint32_t ti);
static void move_flow_done(struct sim *s, uint32_t id);

/* The channel (and latency) an access to file f by a task on node goes
 * through: its own instance, or the last tier's for another node's. */
static int access_chan(struct sim *s, uint32_t f, uint32_t node, int write, double *latency)
{
	const struct sfile *fi = &s->file[f];
	int tier = fi->tier;
	uint32_t inst_node = node;
	if ((uint32_t)tier != s->ntiers - 1 && fi->node != (int)node) {
		tier = (int)s->ntiers - 1;
		if (!write)
			s->res.remote_reads++;
	}
	*latency = s->tier[tier].latency;
	return (int)(inst_of(s, tier, inst_node) * 2 + (write ? 1 : 0));
}

static void record_features(struct sim *s, uint32_t f, const struct tpl_vector *v)
{
	if (!s->features)
		return;
	double *row = &s->features[(size_t)f * s->nfeat];
	for (size_t i = 0; i < s->nfeat && i < v->n; i++)
		row[i] = v->values[i];
}

/* ---- background demotion ------------------------------------------------- */

static void reserve(struct sim *s, size_t in, uint64_t bytes)
{
	s->used[in] += bytes;
	if (s->used[in] > s->peak[in])
		s->peak[in] = s->used[in];
}

static void start_moves(struct sim *s, uint32_t node)
{
	while (s->inflight[node] < s->migrate_threads && s->qhead[node] != NO_MOVE) {
		uint32_t id = s->qhead[node];
		struct smove *m = &s->moves[id];
		s->qhead[node] = m->next;
		if (s->qhead[node] == NO_MOVE)
			s->qtail[node] = NO_MOVE;
		s->inflight[node]++;
		double bytes = (double)s->file[m->file].ff.size;
		m->pending = 2;
		if (node == 0)
			mon_migrate_begin(s->mon, m->dst, s->file[m->file].ff.size);
		chan_add(s, &s->chans[inst_of(s, m->src, node) * 2], id | MOVE_BIT, bytes);
		chan_add(s, &s->chans[inst_of(s, m->dst, node) * 2 + 1], id | MOVE_BIT, bytes);
	}
}

static int enqueue_move(struct sim *s, uint32_t f, int src, int dst, uint32_t node)
{
	if (s->nmoves == s->cap_moves) {
		uint32_t nc = s->cap_moves ? s->cap_moves * 2 : 64;
		struct smove *nm = realloc(s->moves, nc * sizeof(*nm));
		if (!nm)
			return -ENOMEM;
		s->moves = nm;
		s->cap_moves = nc;
	}
	uint32_t id = s->nmoves++;
	s->moves[id] =
	    (struct smove){.file = f, .node = node, .next = NO_MOVE, .src = src, .dst = dst};
	if (s->qtail[node] == NO_MOVE)
		s->qhead[node] = id;
	else
		s->moves[s->qtail[node]].next = id;
	s->qtail[node] = id;
	return 0;
}

/* The daemon's eviction rank: 0 finished (no reader left), 2 still to be
 * read. */
static int evict_rank(const struct sim *s, const struct sfile *fi, int64_t *left)
{
	const struct wf_file_features *ff = &fi->ff;
	if (ff->consumers == 0 || fi->reads >= ff->consumers ||
	    ff->next_use_distance == WF_DIST_NONE)
		return 0;
	int64_t next = (int64_t)ff->producer_level + ff->next_use_distance;
	if (ff->producers == 0)
		next = (int64_t)ff->next_use_distance - 1; /* from stage-in level -1 */
	/* Past its first reader's level is not finished: the level's other
	 * readers may still wait for a core; it is then the nearest use. */
	*left = next - s->level_started;
	if (*left < 0)
		*left = 0;
	return 2;
}

/* qsort has no context argument: the sim being planned, per thread. */
static __thread struct sim *sort_ctx;

static int by_eviction_order(const void *a, const void *b)
{
	const struct sim *s = sort_ctx;
	const struct sfile *x = &s->file[*(const uint32_t *)a], *y = &s->file[*(const uint32_t *)b];
	int64_t lx = 0, ly = 0;
	int rx = evict_rank(s, x, &lx), ry = evict_rank(s, y, &ly);
	if (rx != ry)
		return rx - ry;
	if (rx == 2 && lx != ly)
		return lx > ly ? -1 : 1; /* farthest next use first */
	if (x->last_access != y->last_access)
		return x->last_access < y->last_access ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static int plan_demotions(struct sim *s, int tier, uint32_t node)
{
	if (s->migrate_threads == 0 || (uint32_t)tier + 1 >= s->ntiers)
		return 0;
	size_t in = inst_of(s, tier, node);
	const struct stier *st = &s->tier[tier];
	uint64_t used = s->used[in];
	/* Proactive mode: free space under the headroom drains finished
	 * files only (the daemon's plan_demotions in fs/migrator.c). */
	uint64_t free_b = used >= st->capacity ? 0 : st->capacity - used;
	uint64_t need = s->headroom[tier];
	int over = (double)used > st->high_watermark * (double)st->capacity;
	int short_of_room = !over && need > free_b;
	if ((!over && !short_of_room) || s->planned[in] > 0)
		return 0;
	uint64_t low = (uint64_t)(st->low_watermark * (double)st->capacity);
	uint64_t goal = used > low ? used - low : 0; /* early or not, down to the low mark */
	uint32_t n = 0;
	for (uint32_t f = 0; f < s->nfiles; f++) {
		const struct sfile *fi = &s->file[f];
		if (fi->tier == tier && fi->node == (int)node && fi->complete && !fi->moving &&
		    fi->ff.size > 0 && fi->producers > 0)
			s->cand[n++] = f;
	}
	sort_ctx = s;
	qsort(s->cand, n, sizeof(*s->cand), by_eviction_order);
	uint64_t freed = 0;
	for (uint32_t i = 0; i < n && freed < goal; i++) {
		struct sfile *fi = &s->file[s->cand[i]];
		int64_t left = 0;
		if (short_of_room && evict_rank(s, fi, &left) == 2)
			break; /* still to be read: only the watermark moves those */
		int dst = -1;
		for (uint32_t d = (uint32_t)tier + 1; d < s->ntiers && dst < 0; d++) {
			size_t di = inst_of(s, (int)d, node);
			if ((double)(s->used[di] + fi->ff.size) <=
			    s->tier[d].high_watermark * (double)s->tier[d].capacity)
				dst = (int)d;
		}
		if (dst < 0)
			continue;
		int rc = enqueue_move(s, s->cand[i], tier, dst, node);
		if (rc) {
			seterr(s->err, s->errlen, "simulator: out of memory for moves");
			return rc;
		}
		reserve(s, inst_of(s, dst, node), fi->ff.size);
		fi->moving = 1;
		freed += fi->ff.size;
		if (fi->ff.consumers > fi->reads)
			s->res.demoted_unread_bytes += fi->ff.size;
		if (short_of_room) {
			s->moves[s->nmoves - 1].proactive = 1;
			s->res.proactive_moves++;
			s->res.proactive_bytes += fi->ff.size;
		}
	}
	s->planned[in] += freed;
	start_moves(s, node);
	return 0;
}

static void move_flow_done(struct sim *s, uint32_t id)
{
	struct smove *m = &s->moves[id];
	if (--m->pending > 0)
		return;
	struct sfile *fi = &s->file[m->file];
	uint64_t size = fi->ff.size;
	size_t src = inst_of(s, m->src, m->node);
	s->used[src] -= size;
	fi->tier = m->dst;
	fi->node = (uint32_t)m->dst == s->ntiers - 1 ? 0 : (int)m->node;
	fi->moving = 0;
	if (m->node == 0)
		mon_migrate_end(s->mon, m->dst, size);
	if (m->dst < m->src) {
		fi->promoting = 0;
		s->promoting -= size;
		s->res.promotions++;
		s->res.promoted_bytes += size;
		if (m->prefetch) {
			s->res.prefetches++;
			s->res.prefetched_bytes += size;
		}
	} else {
		s->planned[src] -= size;
		s->res.migrations++;
		s->res.migrated_bytes += size;
		s->res.tiers[m->src].moved_out += size;
		s->res.tiers[m->dst].moved_in += size;
	}
	s->inflight[m->node]--;
	start_moves(s, m->node);
	int rc = plan_demotions(s, m->src, m->node);
	if (rc)
		fail_run(s, rc);
}

/* ---- promotion and prefetch ------------------------------------------------- */

/* Move file f (complete, on a slower tier, not moving) up to the fastest
 * tier with room: under the high watermark, and for a prefetch also
 * leaving the headroom free.  1 when a move was queued. */
static int promote_file(struct sim *s, uint32_t f, uint32_t node, int prefetch, double runtime)
{
	struct sfile *fi = &s->file[f];
	if (fi->tier <= 0 || fi->moving || !fi->complete || fi->ff.size == 0 ||
	    (prefetch && (fi->prefetched || fi->reads + 2 > fi->ff.consumers)))
		return 0; /* a prefetch pays off from the second read on (the copy costs
			   * one); once per file, so a file the watermark demotes again
			   * does not go round */
	if ((uint32_t)fi->tier != s->ntiers - 1)
		node = (uint32_t)fi->node; /* a local file moves up on its own node */
	for (int d = 0; d < fi->tier; d++) {
		const struct stier *st = &s->tier[d];
		size_t di = inst_of(s, d, node);
		double room = st->high_watermark * (double)st->capacity;
		/* A prefetch fills at most to the low watermark, leaving the
		 * band above it to the tasks' writes, and the headroom too. */
		if (prefetch)
			room = fmin(st->low_watermark * (double)st->capacity,
				    (double)st->capacity - (double)s->keep[d]);
		if ((double)(s->used[di] + fi->ff.size) > room)
			continue;
		/* A level start's promotion: only if the copy is done before
		 * the readers start (the daemon's test, declared bandwidths). */
		double bw = s->tier[fi->tier].read_bw < st->write_bw ? s->tier[fi->tier].read_bw
								      : st->write_bw;
		if (!prefetch && runtime > 0 && (double)fi->ff.size / bw > runtime)
			continue;
		if (enqueue_move(s, f, fi->tier, d, node) != 0) {
			seterr(s->err, s->errlen, "simulator: out of memory for moves");
			fail_run(s, -ENOMEM);
			return 0;
		}
		s->moves[s->nmoves - 1].prefetch = prefetch;
		fi->prefetched |= prefetch;
		reserve(s, di, fi->ff.size);
		fi->moving = fi->promoting = 1;
		s->promoting += fi->ff.size;
		return 1;
	}
	return 0;
}

/* The daemon's promotion when level starts: inputs of the next level's
 * tasks, if the copy fits in the level's longest declared runtime. */
static void plan_promotions(struct sim *s, int64_t level)
{
	double runtime = 0;
	for (uint32_t i = 0; i < s->ntasks; i++)
		if ((int64_t)s->task[i].level == level && s->task[i].runtime > runtime)
			runtime = s->task[i].runtime;
	runtime *= s->sc.runtime_scale;
	int queued = 0;
	for (uint32_t i = 0; i < s->ntasks && !s->fail; i++) {
		const struct stask *t = &s->task[i];
		if ((int64_t)t->level != level + 1)
			continue;
		for (uint32_t k = 0; k < t->n_in; k++)
			queued |= promote_file(s, t->in[k], 0, 0, runtime);
	}
	if (queued)
		for (uint32_t n = 0; n < s->sc.nodes; n++)
			start_moves(s, n);
}

/* Prefetch in a read-heavy phase: inputs of the tasks not started yet up
 * to the level after the highest started; one plan at a time. */
static void plan_prefetch(struct sim *s)
{
	if (s->promoting > 0 || s->migrate_threads == 0)
		return;
	int queued = 0;
	for (uint32_t r = 0; r < s->ntasks && !s->fail; r++) {
		const struct stask *t = &s->task[s->task_of_rank[r]];
		if (t->started || (int64_t)t->level > s->level_started + 1)
			continue;
		for (uint32_t k = 0; k < t->n_in; k++)
			queued |= promote_file(s, t->in[k], 0, 1, 0);
	}
	if (queued)
		for (uint32_t n = 0; n < s->sc.nodes; n++)
			start_moves(s, n);
}

/* ---- ticks: the monitor, the phase tracker, the proactive rule -------------- */

static uint64_t sim_clock(void *ud)
{
	const struct sim *s = ud;
	return (uint64_t)llround(s->now * 1e9);
}

static void on_tick(struct sim *s)
{
	uint32_t T = s->ntiers;
	for (uint32_t t = 0; t < T; t++) {
		for (int w = 0; w < 2; w++) {
			double b = chan_carried(&s->chans[inst_of(s, (int)t, 0) * 2 + (size_t)w], s->now);
			double d = b - s->chan_seen[t][w];
			s->chan_seen[t][w] = b;
			uint64_t bytes = d > 0 ? (uint64_t)llround(d) : 0;
			uint32_t ops = s->ops[t][w];
			if (ops == 0 && bytes > 0)
				ops = 1;
			for (uint32_t o = 0; o < ops; o++)
				(w ? mon_write : mon_read)(s->mon, (int)t, o ? 0 : bytes);
			s->ops[t][w] = 0;
		}
		mon_used(s->mon, (int)t, s->used[inst_of(s, (int)t, 0)]);
	}
	if (mon_tick(s->mon) != 0)
		return; /* the clock did not advance: no frame */
	s->res.ticks++;
	if (s->res.place_spills != s->spills_seen)
		s->res.spill_ticks++;
	s->spills_seen = s->res.place_spills;
	const struct stier *t0 = &s->tier[0];
	uint64_t used0 = s->used[inst_of(s, 0, 0)];
	if ((double)used0 >= NEAR_FULL * (double)t0->capacity)
		s->res.full_ticks++;
	s->free_sum += used0 >= t0->capacity ? 0.0 : (double)(t0->capacity - used0);
	struct mon_phase *ph = s->sc.phase;
	if (!ph)
		return;
	size_t nc = mon_ncols(T);
	if (mon_copy_frames(s->mon, s->frame, 1) != 1 || mon_phase_step(ph, s->frame, nc) != 0)
		return;
	if (!s->sc.proactive)
		return;
	struct mon_phase_status st;
	mon_phase_status(ph, &st);
	double theta = s->sc.proactive_theta;
	for (uint32_t t = 0; t < T; t++) {
		s->headroom[t] = mon_phase_reserve(ph, st.phase, t, s->tier[t].capacity,
						   s->tier[t].low_watermark,
						   s->sc.proactive_horizon, theta);
		s->keep[t] = mon_phase_keep(ph, st.phase, t, s->tier[t].capacity,
					    s->tier[t].low_watermark, s->sc.proactive_horizon, theta);
	}
	s->headroom_sum += (double)s->headroom[0];
	for (uint32_t t = 0; t + 1 < T && !s->fail; t++)
		for (uint32_t n = 0; n < s->sc.nodes && !s->fail; n++) {
			int rc = plan_demotions(s, (int)t, n);
			if (rc)
				fail_run(s, rc);
		}
	s->prefetch_on = st.phase >= 0 && (mon_phase_read_heavy(ph, st.phase) ||
					   (st.next_prob > theta && mon_phase_read_heavy(ph, st.next)));
	if (s->prefetch_on && s->sc.prefetch)
		plan_prefetch(s);
}

/* The daemon's create: choose a tier with room for the declared size. */
static int place_file(struct sim *s, uint32_t f, const struct stask *t)
{
	struct sfile *fi = &s->file[f];
	uint64_t need = fi->ff.size;
	struct lrn_tier_state st[TCFG_MAX_TIERS];
	for (uint32_t k = 0; k < s->ntiers; k++)
		st[k] = (struct lrn_tier_state){.name = s->tier[k].name,
						.capacity = s->tier[k].capacity,
						.used = s->used[inst_of(s, (int)k, t->node)]};
	int want = s->placement ? s->placement[f] : -1;
	struct lrn_policy *pol = s->policy ? s->policy : s->first;
	int use_policy = want < 0 || want >= (int)s->ntiers;
	struct tpl_vector v;
	v.n = 0;
	if (use_policy || s->features) {
		tpl_features(&fi->ff, t->input_bytes, st, s->ntiers, &v);
		record_features(s, f, &v);
	}
	int tier = -ENOSPC;
	if (use_policy) {
		struct lrn_place_ctx ctx = {.path = fi->ff.name,
					    .kind = LRN_KIND_FILE,
					    .need = need,
					    .tiers = st,
					    .ntiers = s->ntiers,
					    .feature_names = v.names,
					    .features = v.values,
					    .nfeatures = v.n};
		tier = lrn_policy_place(pol, &ctx);
	} else {
		for (uint32_t k = 0; k < s->ntiers; k++) {
			int c = (want + (int)k) % (int)s->ntiers;
			if (lrn_tier_has_room(&st[c], need)) {
				tier = c;
				break;
			}
		}
		if (tier >= 0 && tier != want)
			s->res.spills++;
	}
	if (tier < 0) {
		seterr(s->err, s->errlen,
		       "simulator: file '%s' (%llu bytes) fits in no tier at t=%.6f s", fi->ff.name,
		       (unsigned long long)need, s->now);
		return -ENOSPC;
	}
	if (tier > 0) {
		/* A spill for the figures: the first tier had no room for it. */
		const struct stier *t0 = &s->tier[0];
		uint64_t u0 = s->used[inst_of(s, 0, t->node)];
		if (!lrn_tier_has_room(&st[0], need)) {
			s->res.place_spills++;
			if ((double)u0 >= NEAR_FULL * (double)t0->capacity)
				s->res.enospc_spills++;
		}
	}
	if (t->node == 0)
		mon_create_file(s->mon);
	reserve(s, inst_of(s, tier, t->node), need);
	fi->tier = tier;
	fi->placed = tier;
	fi->node = (uint32_t)tier == s->ntiers - 1 ? 0 : (int)t->node;
	fi->created = 1;
	fi->create_time = fi->last_access = s->now;
	s->res.files_created++;
	s->res.tiers[tier].files++;
	return plan_demotions(s, tier, t->node);
}

/* Start the transfer of the current operation after its latency. */
static int begin_transfer(struct sim *s, uint32_t ti)
{
	struct stask *t = &s->task[ti];
	if (t->op_bytes <= 0)
		return 0; /* done at once */
	t->wait = W_FLOW;
	chan_add(s, &s->chans[t->chan], ti, t->op_bytes);
	return 1;
}

static void op_done(struct sim *s, uint32_t ti)
{
	struct stask *t = &s->task[ti];
	double dt = s->now - t->op_start;
	int vt = s->mon ? chan_view_tier(s, t->chan) : -1;
	if (vt >= 0) {
		s->ops[vt][!t->reading]++;
		mon_close(s->mon, vt);
	}
	s->res.io_time += dt;
	struct sfile *fi = &s->file[t->op_file];
	fi->last_access = s->now;
	if (t->reading) {
		s->res.read_time += dt;
		fi->reads++;
	} else {
		s->res.write_time += dt;
		fi->complete = 1;
	}
	t->step++;
	t->wait = W_NONE;
}

static void task_end(struct sim *s, uint32_t ti)
{
	struct stask *t = &s->task[ti];
	if (s->now > s->res.makespan)
		s->res.makespan = s->now;
	if (heap_push(&s->cores, (struct hent){.key = t->core, .a = t->core}) != 0)
		fail_run(s, -ENOMEM);
	t->wait = W_NONE;
	for (uint32_t c = 0; c < t->n_children; c++) {
		struct stask *ch = &s->task[t->children[c]];
		if (ch->pending > 0 && --ch->pending == 0) {
			struct hent r = {.key = ch->rank, .a = t->children[c]};
			if (heap_push(&s->ready, r) != 0)
				fail_run(s, -ENOMEM);
		}
	}
}

/* Advance task ti from its current step until it has to wait. */
static void task_run(struct sim *s, uint32_t ti)
{
	struct stask *t = &s->task[ti];
	for (;;) {
		if (s->fail)
			return;
		if (t->step < t->n_in) {
			uint32_t f = t->in[t->step];
			t->op_file = f;
			t->reading = 1;
			t->chan = access_chan(s, f, t->node, 0, &t->op_latency);
			t->op_bytes = (double)s->file[f].ff.size;
			s->res.tiers[t->chan / 2 / s->sc.nodes].bytes_read += s->file[f].ff.size;
		} else if (t->step == t->n_in) {
			double rt = t->runtime * s->sc.runtime_scale;
			s->res.compute_time += rt;
			if (rt > 0) {
				t->wait = W_COMPUTE;
				push_event(s, s->now + rt, EV_TASK, ti, 0);
				return;
			}
			t->step++;
			continue;
		} else if (t->step < t->n_in + 1 + t->n_out) {
			uint32_t f = t->out[t->step - t->n_in - 1];
			if (!s->file[f].created) {
				int rc = place_file(s, f, t);
				if (rc) {
					fail_run(s, rc);
					return;
				}
			}
			t->op_file = f;
			t->reading = 0;
			t->chan = access_chan(s, f, t->node, 1, &t->op_latency);
			t->op_bytes = (double)s->file[f].ff.size;
			s->res.tiers[t->chan / 2 / s->sc.nodes].bytes_written += s->file[f].ff.size;
		} else {
			task_end(s, ti);
			return;
		}
		t->op_start = s->now;
		int vt = s->mon ? chan_view_tier(s, t->chan) : -1;
		if (vt >= 0) {
			mon_open(s->mon, vt);
			mon_meta_op(s->mon);
		}
		if (t->op_latency > 0) {
			t->wait = W_LATENCY;
			push_event(s, s->now + t->op_latency, EV_TASK, ti, 0);
			return;
		}
		if (begin_transfer(s, ti))
			return;
		op_done(s, ti);
	}
}

static void on_task_event(struct sim *s, uint32_t ti)
{
	if (ti == TICK_ID) {
		on_tick(s);
		/* The next tick only while something else is to come. */
		if (s->events.n > 0 || s->ready.n > 0)
			push_event(s, s->now + s->sc.tick_s, EV_TASK, TICK_ID, 0);
		return;
	}
	struct stask *t = &s->task[ti];
	if (t->wait == W_COMPUTE) {
		t->step++;
		t->wait = W_NONE;
	} else if (t->wait == W_LATENCY) {
		if (begin_transfer(s, ti))
			return;
		op_done(s, ti);
	}
	task_run(s, ti);
}

static void on_chan_event(struct sim *s, uint32_t ci, uint32_t ver)
{
	struct chan *c = &s->chans[ci];
	if (ver != c->version || c->n == 0)
		return;
	chan_advance(c, s->now);
	/* This event was armed for the smallest target: it is reached. */
	if (c->S < c->flows.e[0].key)
		c->S = c->flows.e[0].key;
	uint32_t done[64];
	size_t nd = 0;
	double tol = 1e-9 * (c->S > 1.0 ? c->S : 1.0);
	while (c->n > 0 && nd < 64 && c->flows.e[0].key <= c->S + tol) {
		done[nd++] = heap_pop(&c->flows).a;
		c->n--;
	}
	chan_rearm(s, c);
	for (size_t i = 0; i < nd; i++) {
		if (done[i] & MOVE_BIT) {
			move_flow_done(s, done[i] & ~MOVE_BIT);
			continue;
		}
		op_done(s, done[i]);
		task_run(s, done[i]);
	}
}

int sim_run(struct sim *s, struct lrn_policy *policy, const int *placement, struct sim_result *res,
	    char *err, size_t errlen)
{
	uint32_t ncores = s->sc.nodes * s->sc.cores;
	size_t inst = (size_t)s->ntiers * s->sc.nodes;
	memset(&s->res, 0, sizeof(s->res));
	memset(s->used, 0, inst * sizeof(*s->used));
	memset(s->peak, 0, inst * sizeof(*s->peak));
	memset(s->planned, 0, inst * sizeof(*s->planned));
	for (uint32_t n = 0; n < s->sc.nodes; n++) {
		s->qhead[n] = s->qtail[n] = NO_MOVE;
		s->inflight[n] = 0;
	}
	s->nmoves = 0;
	s->level_started = -1;
	for (size_t c = 0; c < inst * 2; c++) {
		struct chan *ch = &s->chans[c];
		uint32_t tier = (uint32_t)(c / 2 / s->sc.nodes);
		ch->bw = (c & 1) ? s->tier[tier].write_bw : s->tier[tier].read_bw;
		ch->S = ch->t_last = 0;
		ch->n = 0;
		ch->version = 0;
		ch->flows.n = 0;
		ch->bytes = 0;
	}
	memset(s->chan_seen, 0, sizeof(s->chan_seen));
	memset(s->ops, 0, sizeof(s->ops));
	memset(s->headroom, 0, sizeof(s->headroom));
	memset(s->keep, 0, sizeof(s->keep));
	s->spills_seen = 0;
	s->promoting = 0;
	s->prefetch_on = 0;
	s->headroom_sum = s->free_sum = 0;
	mon_destroy(s->mon);
	s->mon = NULL;
	s->events.n = s->ready.n = s->cores.n = 0;
	s->seq = 0;
	s->now = 0;
	s->policy = policy;
	s->placement = placement;
	s->fail = 0;
	s->err = err;
	s->errlen = errlen;
	s->features_valid = 0;
	s->res.ntiers = s->ntiers;
	s->res.tasks = s->ntasks;

	/* Workflow inputs start on the shared last tier. */
	uint32_t last = s->ntiers - 1;
	for (uint32_t f = 0; f < s->nfiles; f++) {
		struct sfile *fi = &s->file[f];
		fi->created = 0;
		fi->complete = fi->producers == 0;
		fi->moving = fi->promoting = fi->prefetched = 0;
		fi->reads = 0;
		fi->last_access = 0;
		fi->tier = fi->placed = (int)last;
		fi->node = 0;
		fi->create_time = 0;
		if (fi->producers == 0)
			s->used[inst_of(s, (int)last, 0)] += fi->ff.size;
	}
	s->peak[inst_of(s, (int)last, 0)] = s->used[inst_of(s, (int)last, 0)];

	int rc = 0;
	for (uint32_t i = 0; i < s->ntasks; i++) {
		struct stask *t = &s->task[i];
		t->pending = t->n_parents;
		t->step = 0;
		t->started = 0;
		t->wait = W_NONE;
		if (t->pending == 0 &&
		    heap_push(&s->ready, (struct hent){.key = t->rank, .a = i}) != 0)
			rc = -ENOMEM;
	}
	for (uint32_t c = 0; c < ncores && !rc; c++)
		rc = heap_push(&s->cores, (struct hent){.key = c, .a = c});
	if (rc) {
		seterr(err, errlen, "simulator: out of memory for %u tasks on %u cores", s->ntasks,
		       ncores);
		return rc;
	}
	if (s->sc.tick_s > 0) {
		struct mon_config mc = {.ntiers = s->ntiers,
					.history = SERIES_FRAMES,
					.clock = sim_clock,
					.clock_ud = s};
		for (uint32_t t = 0; t < s->ntiers; t++)
			mc.tiers[t] = (struct mon_tier_config){.name = s->tier[t].name,
								.capacity = s->tier[t].capacity,
								.used = s->used[inst_of(s, (int)t, 0)]};
		rc = mon_create(&mc, &s->mon);
		if (rc) {
			seterr(err, errlen,
			       "simulator: cannot start the monitor (tier names must be letters, digits, '_', '-', '.'): %s",
			       strerror(-rc));
			return rc;
		}
		if (s->sc.phase)
			mon_phase_reset(s->sc.phase);
		push_event(s, s->sc.tick_s, EV_TASK, TICK_ID, 0);
	}

	for (;;) {
		/* Start ready tasks on free cores, lowest topological rank first. */
		while (!s->fail && s->ready.n > 0 && s->cores.n > 0) {
			uint32_t ti = heap_pop(&s->ready).a;
			uint32_t core = heap_pop(&s->cores).a;
			s->task[ti].core = core;
			s->task[ti].node = core / s->sc.cores;
			s->task[ti].started = 1;
			if ((int64_t)s->task[ti].level > s->level_started) {
				s->level_started = s->task[ti].level;
				if (s->sc.promote && s->migrate_threads > 0)
					plan_promotions(s, s->level_started);
			}
			task_run(s, ti);
		}
		if (s->fail || s->events.n == 0)
			break;
		struct hent e = heap_pop(&s->events);
		s->now = e.key;
		s->res.events++;
		uint32_t kind = e.a >> 31, id = e.a & 0x7fffffffu;
		if (kind == EV_TASK)
			on_task_event(s, id);
		else
			on_chan_event(s, id, e.b);
	}
	if (s->fail)
		return s->fail;
	if (s->mon && s->now > 0) {
		on_tick(s); /* the last frame, at the end */
		if (s->res.ticks) {
			s->res.mean_headroom = s->headroom_sum / s->res.ticks;
			s->res.mean_free = s->free_sum / s->res.ticks;
		}
	}
	for (uint32_t i = 0; i < s->ntasks; i++)
		if (s->task[i].step <= s->task[i].n_in + s->task[i].n_out) {
			seterr(err, errlen,
			       "simulator: task %u never ran: its parents never ended (a cycle?)",
			       i);
			return -EINVAL;
		}
	for (uint32_t k = 0; k < s->ntiers; k++) {
		struct sim_tier_result *tr = &s->res.tiers[k];
		tr->name = s->tier[k].name;
		tr->capacity = s->tier[k].capacity;
		for (uint32_t n = 0; n < s->sc.nodes; n++)
			if (s->peak[inst_of(s, (int)k, n)] > tr->peak_used)
				tr->peak_used = s->peak[inst_of(s, (int)k, n)];
	}
	s->features_valid = s->features != NULL;
	if (res)
		*res = s->res;
	return 0;
}

int sim_run_policy(struct sim *s, struct lrn_policy *policy, double *io, double *makespan, char *err,
		   size_t errlen)
{
	if (!policy)
		return -EINVAL;
	struct sim_result r;
	int rc = sim_run(s, policy, NULL, &r, err, errlen);
	lrn_policy_destroy(policy);
	if (rc == -ENOSPC) {
		*io = *makespan = INFINITY;
		return 0;
	}
	if (rc == 0) {
		*io = r.io_time;
		*makespan = r.makespan;
	}
	return rc;
}

/* ---- results -------------------------------------------------------------- */

uint32_t sim_file_count(const struct sim *s)
{
	return s->nfiles;
}

int sim_file(const struct sim *s, uint32_t i, struct sim_file *out)
{
	if (i >= s->nfiles)
		return -ERANGE;
	const struct sfile *fi = &s->file[i];
	*out = (struct sim_file){.name = fi->ff.name,
				 .size = fi->ff.size,
				 .created = fi->created,
				 .tier = fi->placed,
				 .final_tier = fi->tier,
				 .node = fi->node,
				 .create_time = fi->create_time,
				 .features = s->features_valid && fi->created
						 ? &s->features[(size_t)i * s->nfeat]
						 : NULL};
	return 0;
}

const char *const *sim_feature_names(const struct sim *s, size_t *n)
{
	*n = s->nfeat;
	return s->fname_ptr;
}

const char *sim_tier_name(const struct sim *s, int tier)
{
	return tier >= 0 && (uint32_t)tier < s->ntiers ? s->tier[tier].name : NULL;
}

int sim_tier_index(const struct sim *s, const char *name)
{
	for (uint32_t t = 0; t < s->ntiers; t++)
		if (strcmp(s->tier[t].name, name) == 0)
			return (int)t;
	return -1;
}

int sim_append_records(const struct sim *s, FILE *fp, int header)
{
	if (!s->features_valid)
		return -EINVAL;
	if (header) {
		for (size_t i = 0; i < s->nfeat; i++)
			fprintf(fp, "%s,", s->fnames[i]);
		fprintf(fp, "tier\n");
	}
	for (uint32_t f = 0; f < s->nfiles; f++) {
		if (!s->file[f].created)
			continue;
		const double *row = &s->features[(size_t)f * s->nfeat];
		for (size_t i = 0; i < s->nfeat; i++)
			fprintf(fp, "%.17g,", row[i]);
		fprintf(fp, "%s\n", s->tier[s->file[f].placed].name);
	}
	return ferror(fp) ? -EIO : 0;
}

int sim_write_records(const struct sim *s, const char *path, char *err, size_t errlen)
{
	if (!s->features_valid) {
		seterr(
		    err, errlen,
		    "%s: no features recorded (run the simulation with record_features set first)",
		    path);
		return -EINVAL;
	}
	FILE *fp = fopen(path, "w");
	if (!fp) {
		int rc = -errno;
		seterr(err, errlen, "%s: cannot create: %s", path, strerror(-rc));
		return rc;
	}
	int rc = sim_append_records(s, fp, 1);
	if (fclose(fp) != 0 && rc == 0)
		rc = -errno;
	if (rc)
		seterr(err, errlen, "%s: write failed: %s", path, strerror(-rc));
	return rc;
}

int sim_write_series(const struct sim *s, const char *path, char *err, size_t errlen)
{
	if (!s->mon) {
		seterr(err, errlen, "%s: no series recorded (run with a tick first)", path);
		return -EINVAL;
	}
	int rc = mon_write_csv(s->mon, path);
	if (rc)
		seterr(err, errlen, "%s: cannot write the series: %s", path, strerror(-rc));
	return rc;
}

/* A file of the workflow by its name (the parser's matching) or index. */
static int file_by_key(const struct sim *s, const char *key)
{
	struct wf_file_features ff;
	if (wf_file_features(s->g, key, &ff) == 0)
		return (int)ff.file_index;
	char *end;
	errno = 0;
	unsigned long v = strtoul(key, &end, 10);
	if (*key >= '0' && *key <= '9' && *end == '\0' && errno == 0 && v < s->nfiles)
		return (int)v;
	return -1;
}

static int tier_by_key(const struct sim *s, const char *key)
{
	int t = sim_tier_index(s, key);
	if (t >= 0)
		return t;
	char *end;
	unsigned long v = strtoul(key, &end, 10);
	if (*key >= '0' && *key <= '9' && *end == '\0' && v < s->ntiers)
		return (int)v;
	return -1;
}

static char *trim(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strlen(p);
	while (n > 0 &&
	       (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
		p[--n] = '\0';
	return p;
}

int sim_read_placement(const struct sim *s, const char *path, int *placement, char *err,
		       size_t errlen)
{
	for (uint32_t f = 0; f < s->nfiles; f++)
		placement[f] = -1;
	FILE *fp = fopen(path, "r");
	if (!fp) {
		int rc = -errno;
		seterr(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	unsigned lineno = 0;
	while (getline(&line, &cap, fp) >= 0) {
		lineno++;
		char *p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		char *comma = strrchr(p, ',');
		if (!comma) {
			seterr(err, errlen, "%s:%u: expected \"FILE,TIER\", got \"%s\"", path,
			       lineno, p);
			rc = -EINVAL;
			break;
		}
		*comma = '\0';
		char *fk = trim(p), *tk = trim(comma + 1);
		if (lineno == 1 && strcmp(fk, "file") == 0 && strcmp(tk, "tier") == 0)
			continue;
		int f = file_by_key(s, fk);
		if (f < 0) {
			seterr(
			    err, errlen,
			    "%s:%u: file \"%s\" is not a file of the workflow (a name or an index below %u)",
			    path, lineno, fk, s->nfiles);
			rc = -EINVAL;
			break;
		}
		int t = tier_by_key(s, tk);
		if (t < 0) {
			seterr(
			    err, errlen,
			    "%s:%u: tier \"%s\" is not a tier of the configuration (a name or an index below %u)",
			    path, lineno, tk, s->ntiers);
			rc = -EINVAL;
			break;
		}
		placement[f] = t;
	}
	if (!rc && ferror(fp)) {
		seterr(err, errlen, "%s: read error", path);
		rc = -EIO;
	}
	free(line);
	fclose(fp);
	return rc;
}
