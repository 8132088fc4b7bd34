/*
 * place.c - see place.h.
 *
 * Lock order: p->lock (rwlock: model, attachments; decisions take it
 * shared, reload/attach/detach exclusive) before p->log_lock (mutex: the
 * record log's stdio buffer).
 *
 * The learned decision here and learner's own model policy agree: most
 * probable tier with room, else the fallback.  It is done here rather than
 * through lrn_policy_place() so that the probabilities and the reason reach
 * tierctl and the record log without predicting twice.
 */
#define _GNU_SOURCE
#include "place.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct attachment {
	char *dir;  /* normalised: "" for the root, else "a/b" */
	char *file; /* the workflow file */
	wf_graph *g;
	struct wf_summary sum;
	/* task id -> document index, open addressing, size a power of two */
	uint32_t *id_slots; /* index + 1, 0 = empty */
	size_t id_size;
	_Atomic uint64_t *v8;	/* per task: input bytes + 1 once measured, 0 = not yet */
	_Atomic int64_t level;	/* highest producer level seen created, -1 = none */
	struct tpl_plan plan;	/* set at attach, immutable after */
	struct attachment *next;
};

struct tpl {
	pthread_rwlock_t lock;
	const struct tcfg *cfg;
	size_t ntiers;
	char tier_feature_names[TCFG_MAX_TIERS][NAME_MAX + 8];
	struct lrn_policy *fallback;
	/* Everything on tier t, for attachments whose plan is t: the same
	 * static policy the simulator ran in the plan check. */
	struct lrn_policy *tier_policy[TCFG_MAX_TIERS];
	tpl_plan_fn plan_fn; /* set before sharing; NULL = no plan check */
	void *plan_arg;
	struct lrn_model *model;
	char *model_path;
	int model_map[TPL_MAX_FEATURES]; /* model feature f -> vector slot */
	_Atomic int phase; /* tpl_set_phase(): the load phase for a model asking current_phase */
	int class_tier[LRN_MAX_CLASSES]; /* model class c -> tier, -1 = none */
	struct attachment *atts;

	pthread_mutex_t log_lock;
	FILE *log;
};

static const char *const static_names[TPL_F_NSTATIC] = {
	[TPL_F_PRODUCER_LEVEL] = "producer_level",
	[TPL_F_PRODUCER_WIDTH] = "producer_width",
	[TPL_F_WF_TASKS] = "wf_tasks",
	[TPL_F_WF_BYTES] = "wf_bytes",
	[TPL_F_CONSUMERS] = "consumers",
	[TPL_F_NEXT_USE] = "next_use_distance",
	[TPL_F_LAST_USE] = "last_use_distance",
	[TPL_F_TASK_INPUT_BYTES] = "task_input_bytes",
	[TPL_F_DECLARED_SIZE] = "declared_size",
};

static double dist(uint32_t d)
{
	return d == WF_DIST_NONE ? TPL_DIST_NONE : (double)d;
}

/* Names of free_<tier> features live in the caller's storage; tpl_features()
 * needs stable names, so they are kept per thread for external callers. */
static __thread char ext_names[TCFG_MAX_TIERS][NAME_MAX + 8];

static void fill_vector(const struct wf_file_features *ff, uint64_t v8, const struct lrn_tier_state *tiers,
			size_t ntiers, char (*tier_names)[NAME_MAX + 8], struct tpl_vector *v)
{
	for (size_t i = 0; i < TPL_F_NSTATIC; i++)
		v->names[i] = static_names[i];
	v->values[TPL_F_PRODUCER_LEVEL] = ff->producer_level;
	v->values[TPL_F_PRODUCER_WIDTH] = ff->producer_width;
	v->values[TPL_F_WF_TASKS] = ff->wf_tasks;
	v->values[TPL_F_WF_BYTES] = (double)ff->wf_bytes;
	v->values[TPL_F_CONSUMERS] = ff->consumers;
	v->values[TPL_F_NEXT_USE] = dist(ff->next_use_distance);
	v->values[TPL_F_LAST_USE] = dist(ff->last_use_distance);
	v->values[TPL_F_TASK_INPUT_BYTES] = (double)v8;
	v->values[TPL_F_DECLARED_SIZE] = (double)ff->size;
	v->n = TPL_F_NSTATIC;
	for (size_t t = 0; t < ntiers && t < TCFG_MAX_TIERS; t++) {
		const struct lrn_tier_state *ts = &tiers[t];
		if (tier_names[t][0] == '\0')
			snprintf(tier_names[t], sizeof(tier_names[t]), "free_%s", ts->name);
		v->names[v->n] = tier_names[t];
		v->values[v->n++] = ts->used >= ts->capacity ? 0.0 : (double)(ts->capacity - ts->used);
	}
}

void tpl_features(const struct wf_file_features *ff, uint64_t task_input_bytes,
		  const struct lrn_tier_state *tiers, size_t ntiers, struct tpl_vector *v)
{
	for (size_t t = 0; t < ntiers && t < TCFG_MAX_TIERS; t++)
		snprintf(ext_names[t], sizeof(ext_names[t]), "free_%s", tiers[t].name);
	fill_vector(ff, task_input_bytes, tiers, ntiers, ext_names, v);
}

static void free_attachment(struct attachment *a)
{
	if (!a)
		return;
	wf_destroy(a->g);
	free(a->dir);
	free(a->file);
	free(a->id_slots);
	free(a->v8);
	free(a);
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h;
}

static int index_tasks(struct attachment *a)
{
	uint32_t n = wf_task_count(a->g);
	size_t size = 16;
	while (size < (size_t)n * 2)
		size *= 2;
	a->id_slots = calloc(size, sizeof(*a->id_slots));
	a->v8 = calloc(n ? n : 1, sizeof(*a->v8));
	if (!a->id_slots || !a->v8)
		return -ENOMEM;
	a->id_size = size;
	for (uint32_t i = 0; i < n; i++) {
		struct wf_task_info ti;
		if (wf_task_info(a->g, i, &ti) != 0)
			return -EINVAL;
		size_t s = str_hash(ti.id) & (size - 1);
		while (a->id_slots[s])
			s = (s + 1) & (size - 1);
		a->id_slots[s] = i + 1;
	}
	return 0;
}

static int task_index(const struct attachment *a, const char *id)
{
	for (size_t s = str_hash(id) & (a->id_size - 1); a->id_slots[s]; s = (s + 1) & (a->id_size - 1)) {
		struct wf_task_info ti;
		if (wf_task_info(a->g, a->id_slots[s] - 1, &ti) == 0 && strcmp(ti.id, id) == 0)
			return (int)(a->id_slots[s] - 1);
	}
	return -1;
}

/* V8: the producing task's input files as they are on the mount now,
 * measured once per task (its inputs are complete before it writes). */
static uint64_t task_input_bytes(struct attachment *a, const char *producer_id, tpl_size_fn size_of, void *arg)
{
	if (!producer_id || !size_of)
		return 0;
	int ti_idx = task_index(a, producer_id);
	if (ti_idx < 0)
		return 0;
	uint64_t cached = atomic_load(&a->v8[ti_idx]);
	if (cached)
		return cached - 1;
	struct wf_task_info ti;
	if (wf_task_info(a->g, (uint32_t)ti_idx, &ti) != 0)
		return 0;
	uint64_t sum = 0;
	char path[PATH_MAX];
	for (uint32_t k = 0; k < ti.n_inputs; k++) {
		struct wf_file_features in;
		if (wf_file_info(a->g, ti.inputs[k], &in) != 0)
			continue;
		int n = snprintf(path, sizeof(path), "%s%s%s", a->dir, a->dir[0] ? "/" : "", in.name);
		if (n > 0 && (size_t)n < sizeof(path))
			sum += size_of(arg, path);
	}
	atomic_store(&a->v8[ti_idx], sum + 1);
	return sum;
}

static struct lrn_policy *fallback_for(const struct tcfg *cfg)
{
	static const enum lrn_static_kind map[] = {
		[TCFG_PLACE_FIRST] = LRN_STATIC_FIRST,
		[TCFG_PLACE_MOST_FREE] = LRN_STATIC_MOST_FREE,
		[TCFG_PLACE_ROUND_ROBIN] = LRN_STATIC_ROUND_ROBIN,
		[TCFG_PLACE_RANDOM] = LRN_STATIC_RANDOM,
		[TCFG_PLACE_TIER] = LRN_STATIC_TIER,
	};
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20);
	return lrn_policy_static_create(map[cfg->placement], cfg->placement_tier, seed);
}

/* Check a model against what the core provides and map its features and
 * classes; refuse it with a message naming what does not fit. */
static int map_model(struct tpl *p, struct lrn_model *m, int *fmap, int *cmap, char *err, size_t errlen)
{
	size_t nf = lrn_model_nfeatures(m), nc = lrn_model_nclasses(m);
	if (nf > TPL_MAX_FEATURES) {
		snprintf(err, errlen, "the model has %zu features; tierfs provides at most %d", nf,
			 TPL_MAX_FEATURES);
		return -EINVAL;
	}
	for (size_t f = 0; f < nf; f++) {
		const char *name = lrn_model_feature_name(m, f);
		fmap[f] = -1;
		for (size_t i = 0; i < TPL_F_NSTATIC; i++)
			if (!strcmp(name, static_names[i]))
				fmap[f] = (int)i;
		for (size_t t = 0; t < p->ntiers; t++)
			if (!strcmp(name, p->tier_feature_names[t]))
				fmap[f] = (int)(TPL_F_NSTATIC + t);
		/* Offered only to a model that asks: the record log and the
		 * simulator's vectors stay as they were. */
		if (!strcmp(name, TPL_FEATURE_PHASE))
			fmap[f] = TPL_PHASE_SLOT;
		if (fmap[f] == -1) {
			snprintf(err, errlen, "the model's feature '%s' is not one tierfs provides (it provides %s ... free_%s, " TPL_FEATURE_PHASE ")",
				 name, static_names[0], p->cfg->tiers[p->ntiers - 1].name);
			return -EINVAL;
		}
	}
	int any = 0;
	for (size_t c = 0; c < nc && c < LRN_MAX_CLASSES; c++) {
		const char *name = lrn_model_class_name(m, c);
		char *end;
		unsigned long k = strtoul(name, &end, 10);
		cmap[c] = -1;
		if (*end == '\0' && end != name && k < p->ntiers)
			cmap[c] = (int)k;
		for (size_t t = 0; t < p->ntiers; t++)
			if (!strcmp(name, p->cfg->tiers[t].name))
				cmap[c] = (int)t;
		any |= cmap[c] >= 0;
	}
	if (!any) {
		snprintf(err, errlen, "none of the model's classes (first: '%s') names a tier of this mount",
			 nc ? lrn_model_class_name(m, 0) : "");
		return -EINVAL;
	}
	return 0;
}

int tpl_reload(struct tpl *p, const char *path, char *err, size_t errlen)
{
	if (!path)
		path = p->cfg->model;
	if (!path) {
		snprintf(err, errlen, "no model configured (model = in the config or tierctl reload --model FILE)");
		return -ENOENT;
	}
	struct lrn_model *m = NULL;
	int rc = lrn_model_load(path, &m);
	if (rc) {
		snprintf(err, errlen, "model %s: %s", path, lrn_last_error());
		return rc;
	}
	int fmap[TPL_MAX_FEATURES], cmap[LRN_MAX_CLASSES];
	char why[400];
	rc = map_model(p, m, fmap, cmap, why, sizeof(why));
	char *dup = strdup(path);
	if (rc || !dup) {
		snprintf(err, errlen, "model %s: %s", path, rc ? why : "out of memory");
		lrn_model_destroy(m);
		free(dup);
		return rc ? rc : -ENOMEM;
	}
	pthread_rwlock_wrlock(&p->lock);
	struct lrn_model *old = p->model;
	char *old_path = p->model_path;
	p->model = m;
	p->model_path = dup;
	memcpy(p->model_map, fmap, sizeof(fmap));
	memcpy(p->class_tier, cmap, sizeof(cmap));
	pthread_rwlock_unlock(&p->lock);
	lrn_model_destroy(old);
	free(old_path);
	return 0;
}

int tpl_create(const struct tcfg *cfg, struct tpl **out, char *err, size_t errlen)
{
	*out = NULL;
	struct tpl *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_rwlock_init(&p->lock, NULL);
	pthread_mutex_init(&p->log_lock, NULL);
	p->cfg = cfg;
	p->ntiers = cfg->ntiers;
	atomic_init(&p->phase, -1);
	for (size_t t = 0; t < p->ntiers; t++)
		snprintf(p->tier_feature_names[t], sizeof(p->tier_feature_names[t]), "free_%s", cfg->tiers[t].name);
	p->fallback = fallback_for(cfg);
	int ok = p->fallback != NULL;
	for (size_t t = 0; t < p->ntiers; t++)
		ok &= (p->tier_policy[t] = lrn_policy_static_create(LRN_STATIC_TIER, (int)t, 0)) != NULL;
	if (!ok) {
		tpl_destroy(p);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (cfg->model) {
		int rc = tpl_reload(p, NULL, err, errlen);
		if (rc) {
			tpl_destroy(p);
			return rc;
		}
	}
	*out = p;
	return 0;
}

void tpl_destroy(struct tpl *p)
{
	if (!p)
		return;
	tpl_log_flush(p);
	if (p->log)
		fclose(p->log);
	while (p->atts) {
		struct attachment *a = p->atts;
		p->atts = a->next;
		free_attachment(a);
	}
	lrn_model_destroy(p->model);
	lrn_policy_destroy(p->fallback);
	for (size_t t = 0; t < p->ntiers; t++)
		lrn_policy_destroy(p->tier_policy[t]);
	free(p->model_path);
	pthread_rwlock_destroy(&p->lock);
	pthread_mutex_destroy(&p->log_lock);
	free(p);
}

/* "", ".", "/" -> ""; "a/./b//" -> "a/b"; refuses "..". */
int tpl_normalise_path(const char *in, char *out, size_t len)
{
	size_t o = 0;
	const char *s = in;
	while (*s) {
		while (*s == '/')
			s++;
		const char *e = s;
		while (*e && *e != '/')
			e++;
		size_t l = (size_t)(e - s);
		if (l == 0)
			break;
		if (l == 2 && s[0] == '.' && s[1] == '.')
			return -EINVAL;
		if (!(l == 1 && s[0] == '.')) {
			if (o + l + 2 > len)
				return -ENAMETOOLONG;
			if (o)
				out[o++] = '/';
			memcpy(out + o, s, l);
			o += l;
		}
		s = e;
	}
	out[o] = '\0';
	return 0;
}

static void csv_field(FILE *f, const char *s);

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An "attach" line: path = the workflow file, workflow = its directory.
 * Called with p->lock held (either way). */
static void log_attach(struct tpl *p, const struct attachment *a)
{
	pthread_mutex_lock(&p->log_lock);
	FILE *f = p->log;
	if (f) {
		fprintf(f, "%.6f,attach,", now_s());
		csv_field(f, a->file);
		fputc(',', f);
		csv_field(f, a->dir[0] ? a->dir : ".");
		for (size_t i = 0; i < TPL_F_NSTATIC + p->ntiers; i++)
			fputc(',', f);
		fputs(",,,,,,\n", f);
		fflush(f);
	}
	pthread_mutex_unlock(&p->log_lock);
}

/* Where the attachment at normalised dir nd is linked (*result NULL:
 * none).  Caller holds p->lock. */
static struct attachment **slot_of(struct tpl *p, const char *nd)
{
	struct attachment **pp = &p->atts;
	while (*pp && strcmp((*pp)->dir, nd) != 0)
		pp = &(*pp)->next;
	return pp;
}

/* Unlink and return the attachment at nd, or NULL.  Caller holds p->lock
 * for writing. */
static struct attachment *take_attachment(struct tpl *p, const char *nd)
{
	struct attachment **pp = slot_of(p, nd), *a = *pp;
	if (a)
		*pp = a->next;
	return a;
}

int tpl_attach(struct tpl *p, const char *dir, const char *wf_path, char *err, size_t errlen)
{
	char nd[PATH_MAX];
	if (tpl_normalise_path(dir ? dir : "", nd, sizeof(nd)) != 0) {
		snprintf(err, errlen, "directory '%s' must stay inside the mount (no '..')", dir);
		return -EINVAL;
	}
	struct attachment *a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = wf_load(wf_path, NULL, &a->g, err, errlen);
	if (rc) {
		free(a);
		return rc;
	}
	a->dir = strdup(nd);
	/* Absolute, so the record log names a file `tiertrain label` can
	 * open from anywhere. */
	a->file = realpath(wf_path, NULL);
	if (!a->file)
		a->file = strdup(wf_path);
	atomic_init(&a->level, -1);
	wf_get_summary(a->g, &a->sum);
	if (!a->dir || !a->file || index_tasks(a) != 0) {
		free_attachment(a);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* The plan check, before the workflow is visible: its files are
	 * placed by the plan from the first create on.  Shared lock: the
	 * model cannot be swapped under the check, decisions go on. */
	a->plan.tier = TPL_PLAN_MODEL;
	pthread_rwlock_rdlock(&p->lock);
	if (!p->model) {
		snprintf(a->plan.text, sizeof(a->plan.text), "no model loaded: the %s policy places its files",
			 lrn_policy_name(p->fallback));
	} else if (!p->plan_fn) {
		snprintf(a->plan.text, sizeof(a->plan.text), "plan model (no plan check)");
	} else {
		char why[sizeof(a->plan.text) - 64];
		why[0] = '\0';
		if (p->plan_fn(p->plan_arg, a->g, p->model, &a->plan, why, sizeof(why)) != 0 ||
		    a->plan.tier >= (int)p->ntiers) {
			a->plan.tier = TPL_PLAN_MODEL;
			snprintf(a->plan.text, sizeof(a->plan.text), "plan model (the plan check failed: %s)",
				 why[0] ? why : "it named no tier of this mount");
		}
	}
	pthread_rwlock_unlock(&p->lock);
	pthread_rwlock_wrlock(&p->lock);
	struct attachment *old = take_attachment(p, nd);
	a->next = p->atts;
	p->atts = a;
	log_attach(p, a);
	pthread_rwlock_unlock(&p->lock);
	free_attachment(old);
	return 0;
}

int tpl_detach(struct tpl *p, const char *dir)
{
	char nd[PATH_MAX];
	if (tpl_normalise_path(dir ? dir : "", nd, sizeof(nd)) != 0)
		return -EINVAL;
	pthread_rwlock_wrlock(&p->lock);
	struct attachment *a = take_attachment(p, nd);
	pthread_rwlock_unlock(&p->lock);
	free_attachment(a);
	return a ? 0 : -ENOENT;
}

void tpl_list(struct tpl *p, void (*fn)(void *arg, const struct tpl_attachment_info *a), void *arg)
{
	pthread_rwlock_rdlock(&p->lock);
	for (struct attachment *a = p->atts; a; a = a->next) {
		struct tpl_attachment_info info = {a->dir,	  a->file,	  a->sum.name,
						   wf_format_name(a->sum.format), a->sum.tasks, a->sum.files,
						   a->plan.tier,  a->plan.text};
		fn(arg, &info);
	}
	pthread_rwlock_unlock(&p->lock);
}

int tpl_plan_of(struct tpl *p, const char *dir, struct tpl_plan *out)
{
	char nd[PATH_MAX];
	if (tpl_normalise_path(dir ? dir : "", nd, sizeof(nd)) != 0)
		return -EINVAL;
	pthread_rwlock_rdlock(&p->lock);
	struct attachment *a = *slot_of(p, nd);
	if (a)
		*out = a->plan;
	pthread_rwlock_unlock(&p->lock);
	return a ? 0 : -ENOENT;
}

void tpl_set_plan_check(struct tpl *p, tpl_plan_fn fn, void *arg)
{
	pthread_rwlock_wrlock(&p->lock);
	p->plan_fn = fn;
	p->plan_arg = arg;
	pthread_rwlock_unlock(&p->lock);
}

/* The attachment whose directory is the longest prefix of relpath. */
static struct attachment *attachment_for(struct tpl *p, const char *relpath, const char **rest)
{
	struct attachment *best = NULL;
	size_t best_len = 0;
	for (struct attachment *a = p->atts; a; a = a->next) {
		size_t l = strlen(a->dir);
		if (l == 0) {
			if (!best) {
				best = a;
				*rest = relpath;
			}
		} else if (strncmp(relpath, a->dir, l) == 0 && relpath[l] == '/' && (!best || l > best_len)) {
			best = a;
			best_len = l;
			*rest = relpath + l + 1;
		}
	}
	return best;
}

/* The tier the model gives the highest probability among those it names
 * (probability above 0) with room for need; the lowest index on a tie.
 * -ENOSPC if none. */
static int most_probable_with_room(const float *proba, const struct lrn_tier_state *tiers, size_t ntiers,
				   uint64_t need)
{
	int best = -ENOSPC;
	for (size_t t = 0; t < ntiers; t++)
		if (proba[t] > 0 && lrn_tier_has_room(&tiers[t], need) && (best < 0 || proba[t] > proba[best]))
			best = (int)t;
	return best;
}

/* The tier pol gives for ctx (need: the declared size), else, when
 * nothing has room for that, for the bare need. */
static int place_fitting(struct lrn_policy *pol, struct lrn_place_ctx *ctx, uint64_t need)
{
	uint64_t want = ctx->need;
	int t = lrn_policy_place(pol, ctx);
	if (t < 0 && want > need) {
		ctx->need = need;
		t = lrn_policy_place(pol, ctx);
		ctx->need = want;
	}
	return t;
}

void tpl_decide(struct tpl *p, const char *relpath, enum lrn_kind kind, uint64_t need,
		const struct lrn_tier_state *tiers, size_t ntiers, tpl_size_fn size_of, void *size_arg,
		struct tpl_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->level_started = -1;
	pthread_rwlock_rdlock(&p->lock);
	const char *rest = relpath;
	struct attachment *a = kind == LRN_KIND_FILE ? attachment_for(p, relpath, &rest) : NULL;
	struct wf_file_features ff;
	if (a) {
		d->workflow_dir = a->dir;
		d->known = wf_file_features(a->g, rest, &ff) == 0;
	}
	if (d->known && ff.producer_id) {
		int64_t lv = (int64_t)ff.producer_level, cur = atomic_load(&a->level);
		while (lv > cur && !atomic_compare_exchange_weak(&a->level, &cur, lv))
			;
		if (lv > cur)
			d->level_started = lv;
	}
	if (d->known) {
		uint64_t v8 = task_input_bytes(a, ff.producer_id, size_of, size_arg);
		fill_vector(&ff, v8, tiers, ntiers, p->tier_feature_names, &d->v);
	}
	/* A known file is placed where its declared size fits, as the
	 * simulator places it (else it lands on a nearly full tier and is
	 * moved at its first write); when nothing has room for the declared
	 * size (declarations can be wrong) only need counts. */
	uint64_t want = d->known && ff.size > need ? ff.size : need;
	struct lrn_place_ctx ctx = {.path = relpath, .kind = kind, .need = want, .tiers = tiers,
				    .ntiers = ntiers, .feature_names = d->v.names, .features = d->v.values,
				    .nfeatures = d->v.n};
	d->tier = -ENOSPC;
	if (d->known && p->model && a->plan.tier >= 0) {
		/* The plan check found the model not clearly better than this
		 * tier alone: place as the static tier policy it simulated. */
		d->tier = place_fitting(p->tier_policy[a->plan.tier], &ctx, need);
		d->policy = "learned";
		d->reason = d->tier >= 0 ? "the plan check's tier for this workflow, or the next with room"
					 : "no tier has room";
	} else if (d->known && p->model) {
		float x[TPL_MAX_FEATURES], proba[LRN_MAX_CLASSES];
		size_t nf = lrn_model_nfeatures(p->model), nc = lrn_model_nclasses(p->model);
		for (size_t f = 0; f < nf; f++)
			x[f] = p->model_map[f] == TPL_PHASE_SLOT ? (float)atomic_load(&p->phase)
								 : (float)d->v.values[p->model_map[f]];
		/* returns the most probable class; proba has them all */
		if (lrn_model_predict(p->model, x, proba) >= 0) {
			d->have_proba = 1;
			for (size_t c = 0; c < nc; c++)
				if (p->class_tier[c] >= 0)
					d->proba[p->class_tier[c]] += proba[c];
			d->tier = most_probable_with_room(d->proba, tiers, ntiers, want);
			/* No tier the model names has room for the declared
			 * size: the most probable one with room for need. */
			if (want > need && d->tier < 0)
				d->tier = most_probable_with_room(d->proba, tiers, ntiers, need);
			d->policy = "learned";
			d->reason = d->tier >= 0 ? "the model's most probable tier with room"
						 : "no tier the model names has room";
		}
	}
	if (d->tier < 0) {
		if (!d->reason)
			d->reason = kind != LRN_KIND_FILE ? "not a regular file"
				    : !a		      ? "no workflow attached here"
				    : !d->known		      ? "the workflow does not name this file"
							      : "no model loaded";
		d->tier = place_fitting(p->fallback, &ctx, need);
		d->policy = lrn_policy_name(p->fallback);
	}
	pthread_rwlock_unlock(&p->lock);
}

void tpl_file_status(struct tpl *p, const char *relpath, struct tpl_file_status *out)
{
	memset(out, 0, sizeof(*out));
	out->next_use_level = -1;
	pthread_rwlock_rdlock(&p->lock);
	const char *rest = relpath;
	struct attachment *a = attachment_for(p, relpath, &rest);
	struct wf_file_features ff;
	if (a && wf_file_features(a->g, rest, &ff) == 0) {
		out->known = 1;
		out->consumers = ff.consumers;
		if (ff.next_use_distance != WF_DIST_NONE) {
			/* workflow inputs count from a stage-in level -1 */
			int64_t base = ff.producer_id ? (int64_t)ff.producer_level : -1;
			out->next_use_level = base + (int64_t)ff.next_use_distance;
			out->levels_left = out->next_use_level - atomic_load(&a->level);
		}
	}
	pthread_rwlock_unlock(&p->lock);
}

void tpl_level_inputs(struct tpl *p, const char *dir, uint32_t level,
		      void (*fn)(void *arg, const char *relpath, uint64_t declared_size, double runtime_s), void *arg)
{
	pthread_rwlock_rdlock(&p->lock);
	struct attachment *a = p->atts;
	while (a && strcmp(a->dir, dir ? dir : ""))
		a = a->next;
	if (a) {
		double before = -1;
		uint32_t n = wf_task_count(a->g);
		for (uint32_t i = 0; i < n; i++) {
			struct wf_task_info ti;
			if (wf_task_topo(a->g, i, &ti) == 0 && level > 0 && ti.level == level - 1 && ti.runtime > before)
				before = ti.runtime;
		}
		char path[PATH_MAX];
		for (uint32_t i = 0; i < n; i++) {
			struct wf_task_info ti;
			if (wf_task_topo(a->g, i, &ti) != 0 || ti.level != level)
				continue;
			for (uint32_t k = 0; k < ti.n_inputs; k++) {
				struct wf_file_features in;
				if (wf_file_info(a->g, ti.inputs[k], &in) != 0)
					continue;
				int len = snprintf(path, sizeof(path), "%s%s%s", a->dir, a->dir[0] ? "/" : "", in.name);
				if (len > 0 && (size_t)len < sizeof(path))
					fn(arg, path, in.size, before);
			}
		}
	}
	pthread_rwlock_unlock(&p->lock);
}

const char *tpl_policy_name(struct tpl *p)
{
	return p->model ? "learned" : lrn_policy_name(p->fallback);
}

void tpl_set_phase(struct tpl *p, int phase)
{
	if (p)
		atomic_store(&p->phase, phase);
}

const char *tpl_model_path(struct tpl *p)
{
	return p->model_path;
}

/* ---- record log ---------------------------------------------------------- */

static void csv_field(FILE *f, const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int tpl_log_open(struct tpl *p, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "a");
	if (!f) {
		snprintf(err, errlen, "cannot open the record log %s: %s", path, strerror(errno));
		return -errno;
	}
	if (ftell(f) == 0) {
		fputs("time_s,event,path,workflow", f);
		for (size_t i = 0; i < TPL_F_NSTATIC; i++)
			fprintf(f, ",%s", static_names[i]);
		for (size_t t = 0; t < p->ntiers; t++)
			fprintf(f, ",%s", p->tier_feature_names[t]);
		fputs(",tier,policy,reason,bytes_written,bytes_read,lifetime_s\n", f);
		fflush(f);
	}
	/* A "config" line (path = the configuration, the free_<tier>
	 * columns = each tier's capacity) and the attachments so far: what
	 * `tiertrain label --log` needs to rebuild the problem. */
	char *conf = p->cfg->file ? realpath(p->cfg->file, NULL) : NULL;
	fprintf(f, "%.6f,config,", now_s());
	csv_field(f, conf ? conf : p->cfg->file ? p->cfg->file : "");
	free(conf);
	fputc(',', f);
	for (size_t i = 0; i < TPL_F_NSTATIC; i++)
		fputc(',', f);
	for (size_t t = 0; t < p->ntiers; t++)
		fprintf(f, ",%llu", (unsigned long long)p->cfg->tiers[t].capacity);
	fputs(",,,,,,\n", f);
	fflush(f);
	pthread_rwlock_rdlock(&p->lock);
	pthread_mutex_lock(&p->log_lock);
	FILE *old = p->log;
	p->log = f;
	pthread_mutex_unlock(&p->log_lock);
	for (struct attachment *a = p->atts; a; a = a->next)
		log_attach(p, a);
	pthread_rwlock_unlock(&p->lock);
	if (old)
		fclose(old);
	return 0;
}

void tpl_log_decision(struct tpl *p, uint64_t time_ns, const char *relpath, const struct tpl_decision *d,
		      const char *tier_name)
{
	pthread_mutex_lock(&p->log_lock);
	FILE *f = p->log;
	if (f) {
		fprintf(f, "%.6f,create,", (double)time_ns / 1e9);
		csv_field(f, relpath);
		fputc(',', f);
		csv_field(f, d->workflow_dir ? (d->workflow_dir[0] ? d->workflow_dir : ".") : "");
		size_t nfeat = TPL_F_NSTATIC + p->ntiers;
		for (size_t i = 0; i < nfeat; i++) {
			if (d->known && i < d->v.n)
				fprintf(f, ",%.17g", d->v.values[i]);
			else
				fputc(',', f);
		}
		fputc(',', f);
		csv_field(f, tier_name);
		fputc(',', f);
		csv_field(f, d->policy);
		fputc(',', f);
		csv_field(f, d->reason);
		fputs(",,,\n", f);
	}
	pthread_mutex_unlock(&p->log_lock);
}

void tpl_log_end(struct tpl *p, uint64_t time_ns, const char *relpath, const char *tier_name,
		 uint64_t bytes_written, uint64_t bytes_read, double lifetime_s)
{
	pthread_mutex_lock(&p->log_lock);
	FILE *f = p->log;
	if (f) {
		fprintf(f, "%.6f,end,", (double)time_ns / 1e9);
		csv_field(f, relpath);
		fputc(',', f);
		for (size_t i = 0; i < TPL_F_NSTATIC + p->ntiers; i++)
			fputc(',', f);
		fputc(',', f);
		csv_field(f, tier_name);
		fprintf(f, ",,,%llu,%llu,%.6f\n", (unsigned long long)bytes_written,
			(unsigned long long)bytes_read, lifetime_s);
	}
	pthread_mutex_unlock(&p->log_lock);
}

void tpl_log_flush(struct tpl *p)
{
	pthread_mutex_lock(&p->log_lock);
	if (p->log)
		fflush(p->log);
	pthread_mutex_unlock(&p->log_lock);
}
