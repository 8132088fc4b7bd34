/*
 * train.c - histogram gradient boosting with a softmax objective.
 *
 * Each round computes gradients for every class from the current margins,
 * then grows one tree per class on binned features: a node's histogram of
 * gradient sums per (feature, bin) gives every candidate split at once;
 * the smaller child's histogram is built from its rows, the larger one's
 * is the parent's minus it.
 *
 * Parallelism: the trees of one round (one per class) grow at the same
 * time, each in its own grower with its own row index and histograms;
 * gradients and losses are computed over fixed chunks of rows.
 * Determinism: every parallel task writes disjoint outputs (one class's
 * tree and margin column, one chunk of rows), and sums across chunks are
 * added in chunk order, so the model depends on the seed only, not on the
 * number of threads or on scheduling.
 *
 * Missing values (NaN) fall in bin 0 and every split sends them left,
 * which is what the saved default_left says.
 */
#include "lrn_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define CHUNK 16384 /* rows per task in row-parallel loops; fixed for determinism */

struct gpair {
	float g, h;
};
struct hbin {
	double g, h;
};

struct split {
	double gain;
	int feat, bin; /* left = bins <= bin */
	double gl, hl;
};

struct tnode {
	size_t begin, end; /* rows in ctx.idx */
	int depth, id;	   /* id: index in the raw tree */
	double g, h;
	struct hbin *hist;
	struct split best;
};

struct trainer {
	const struct lrn_params *p;
	struct lrn_pool *pool;
	size_t N, F, K, NV;
	const struct lrn_data *train, *valid;
	/* binning */
	float **cuts;	/* per feature: nb[f]-1 cut values */
	int *nb;	/* bins per feature */
	size_t *off;	/* first histogram slot of each feature */
	size_t nbins;	/* total slots */
	uint8_t *bins;	/* row-major: bins[r * F + f], so one row's bins share a cache line */
	uint8_t *binsT; /* feature-major: binsT[f * N + r]; a partition reads one feature's column */
	/* state */
	double *w;	  /* per row weight */
	double wsum;	  /* their sum, in row order */
	double *margin;	  /* K * N, class-major: class k's N margins written only by its grower */
	double *vmargin;  /* K * NV, likewise */
	struct gpair *gh; /* K * N */
	uint8_t *in_sample;
	size_t nsample;
	int round;
	struct grower *growers; /* one per class */
	struct hbin **part;	/* partial histograms of row chunks, reused */
	size_t npart;
};

/* What growing one class's tree needs for itself. */
struct grower {
	struct trainer *t;
	int cls;
	uint32_t *idx, *tmp; /* sampled rows, partitioned by node */
	uint8_t *fmask;	     /* features this tree may split on */
	struct hbin **free_hists;
	size_t nfree, free_cap;
	struct lrn_rawtree *out;
	int rc;
};

/* ---- binning ---------------------------------------------------------------- */

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

struct bin_task {
	struct trainer *t;
	int rc;
};

/* Cut values for feature f: distinct values when few, else quantiles of a
 * fixed sample of rows.  Bin of x = number of cuts <= x. */
static void bin_feature(void *arg, size_t f, int worker)
{
	struct bin_task *bt = arg;
	struct trainer *t = bt->t;
	size_t N = t->N, step = N > 200000 ? N / 200000 : 1, n = 0;
	float *v = malloc(sizeof(float) * (N / step + 1));
	if (!v) {
		bt->rc = -ENOMEM;
		return;
	}
	for (size_t r = 0; r < N; r += step) {
		float x = lrn_data_row(t->train, r)[f];
		if (x == x)
			v[n++] = x;
	}
	qsort(v, n, sizeof(float), cmp_float);
	size_t nd = 0;
	for (size_t i = 0; i < n; i++)
		nd += i == 0 || v[i] != v[i - 1];
	int B = t->p->max_bin;
	float *cuts = malloc(sizeof(float) * (size_t)B);
	int nc = 0;
	if (!cuts) {
		free(v);
		bt->rc = -ENOMEM;
		return;
	}
	if (nd <= (size_t)B) {
		for (size_t i = 1; i < n; i++)
			if (v[i] != v[i - 1])
				cuts[nc++] = v[i];
	} else {
		/* Quantiles of the sorted sample; a value that fills several
		 * quantiles becomes one cut. */
		for (int i = 1; i < B; i++) {
			float c = v[(size_t)((double)i * (double)n / B)];
			if (c > v[0] && (nc == 0 || c > cuts[nc - 1]))
				cuts[nc++] = c;
		}
	}
	free(v);
	t->cuts[f] = cuts;
	t->nb[f] = nc + 1;
	uint8_t *col = t->bins + f;
	size_t F = t->F;
	for (size_t r = 0; r < N; r++) {
		float x = lrn_data_row(t->train, r)[f];
		int lo = 0, hi = nc;
		if (x != x) {
			col[r * F] = 0;
			continue;
		}
		while (lo < hi) {
			int mid = (lo + hi) / 2;
			if (cuts[mid] <= x)
				lo = mid + 1;
			else
				hi = mid;
		}
		col[r * F] = (uint8_t)lo;
	}
	/* The same bins by column, for partitions. */
	uint8_t *colT = t->binsT + f * N;
	for (size_t r = 0; r < N; r++)
		colT[r] = col[r * F];
}

/* ---- gradients and loss ------------------------------------------------------- */

struct grad_task {
	struct trainer *t;
	const double *margin;
	const struct lrn_data *d;
	size_t rows;
	int want_grad;
	double *loss; /* per chunk */
};

static void grad_chunk(void *arg, size_t c, int worker)
{
	struct grad_task *gt = arg;
	struct trainer *t = gt->t;
	size_t K = t->K, end = (c + 1) * CHUNK < gt->rows ? (c + 1) * CHUNK : gt->rows;
	double loss = 0;
	float p[LRN_MAX_CLASSES];
	for (size_t r = c * CHUNK; r < end; r++) {
		double m[LRN_MAX_CLASSES];
		for (size_t k = 0; k < K; k++)
			m[k] = gt->margin[k * gt->rows + r];
		double mx = m[0];
		float s = 0;
		for (size_t k = 1; k < K; k++)
			mx = m[k] > mx ? m[k] : mx;
		for (size_t k = 0; k < K; k++)
			s += (p[k] = expf((float)(m[k] - mx)));
		int y = lrn_data_label(gt->d, r);
		double w = gt->want_grad ? t->w[r] : 1;
		loss += w * -logf(fmaxf(p[y] / s, 1e-15f));
		if (!gt->want_grad)
			continue;
		for (size_t k = 0; k < K; k++) {
			float pk = p[k] / s;
			struct gpair *gp = &t->gh[k * t->N + r];
			gp->g = (float)((pk - (float)(y == (int)k)) * w);
			gp->h = (float)(fmaxf(2 * pk * (1 - pk), 1e-16f) * w);
		}
	}
	gt->loss[c] = loss;
}

/* Weighted mean log loss of d under margin; gradients too when want_grad. */
static double grad_pass(struct trainer *t, const struct lrn_data *d, const double *margin, size_t rows, int want_grad)
{
	size_t nch = (rows + CHUNK - 1) / CHUNK;
	double *loss = calloc(nch ? nch : 1, sizeof(double));
	if (!loss)
		return NAN;
	struct grad_task gt = {t, margin, d, rows, want_grad, loss};
	lrn_pool_run(t->pool, grad_chunk, &gt, nch);
	double s = 0, wsum = want_grad ? t->wsum : (double)rows;
	for (size_t c = 0; c < nch; c++)
		s += loss[c];
	free(loss);
	return wsum > 0 ? s / wsum : NAN;
}

/* ---- histograms ----------------------------------------------------------------- */

static struct hbin *hist_get(struct grower *g)
{
	if (g->nfree)
		return g->free_hists[--g->nfree];
	return malloc(sizeof(struct hbin) * g->t->nbins);
}

static void hist_put(struct grower *g, struct hbin *h)
{
	if (!h)
		return;
	if (g->nfree == g->free_cap) {
		size_t cap = g->free_cap ? g->free_cap * 2 : 16;
		struct hbin **v = realloc(g->free_hists, sizeof(*v) * cap);
		if (!v) {
			free(h);
			return;
		}
		g->free_hists = v;
		g->free_cap = cap;
	}
	g->free_hists[g->nfree++] = h;
}

/* Rows ahead whose bins and gradients are fetched while this one is
 * counted: below the root, a node's rows are scattered over the table. */
#define PREFETCH_AHEAD 16

/* Row by row: each row's gradient pair is loaded once for all features,
 * as one (g, h) pair of doubles added to a bin with one packed add (the
 * same two IEEE additions, so the same sums as scalar code).  Every
 * feature is counted, even one colsample left out: find_split skips it,
 * and the subtraction trick needs whole histograms anyway. */
static void hist_rows(const struct grower *g, size_t begin, size_t end, struct hbin *hist)
{
	const struct trainer *t = g->t;
	const struct gpair *gh = t->gh + (size_t)g->cls * t->N;
	const uint32_t *idx = g->idx;
	const size_t F = t->F, *off = t->off;
	_Static_assert(sizeof(struct hbin) == 2 * sizeof(double), "a bin is one packed pair");
	memset(hist, 0, sizeof(*hist) * t->nbins);
	for (size_t i = begin; i < end; i++) {
		if (i + PREFETCH_AHEAD < end) {
			uint32_t ra = idx[i + PREFETCH_AHEAD];
			__builtin_prefetch(t->bins + (size_t)ra * F);
			__builtin_prefetch(&gh[ra]);
		}
		uint32_t r = idx[i];
		const uint8_t *b = t->bins + (size_t)r * F;
#ifdef __SSE2__
		const __m128d v = _mm_cvtps_pd(_mm_castpd_ps(_mm_load_sd((const double *)&gh[r])));
		for (size_t f = 0; f < F; f++) {
			double *h = &hist[off[f] + b[f]].g;
			_mm_storeu_pd(h, _mm_add_pd(_mm_loadu_pd(h), v));
		}
#else
		double gg = gh[r].g, hh = gh[r].h;
		for (size_t f = 0; f < F; f++) {
			struct hbin *h = &hist[off[f] + b[f]];
			h->g += gg;
			h->h += hh;
		}
#endif
	}
}

static void build_hist(struct grower *g, const struct tnode *n, struct hbin *hist)
{
	hist_rows(g, n->begin, n->end, hist);
}

static double score(double g, double h, double lambda)
{
	return g * g / (h + lambda);
}

static void find_split(const struct grower *g, struct tnode *n)
{
	const struct trainer *t = g->t;
	const struct lrn_params *p = t->p;
	double parent = score(n->g, n->h, p->lambda);
	n->best.gain = -1;
	n->best.feat = -1;
	if (n->depth >= p->max_depth || n->h < 2 * p->min_child_weight)
		return;
	for (size_t f = 0; f < t->F; f++) {
		if (!g->fmask[f])
			continue;
		const struct hbin *h = n->hist + t->off[f];
		double gl = 0, hl = 0;
		for (int b = 0; b + 1 < t->nb[f]; b++) {
			gl += h[b].g;
			hl += h[b].h;
			double gr = n->g - gl, hr = n->h - hl;
			if (hl < p->min_child_weight || hr < p->min_child_weight)
				continue;
			double gain = score(gl, hl, p->lambda) + score(gr, hr, p->lambda) - parent;
			if (gain > n->best.gain) {
				n->best = (struct split){gain, (int)f, b, gl, hl};
			}
		}
	}
	if (n->best.feat >= 0 && !(n->best.gain > p->gamma && n->best.gain > 1e-12))
		n->best.feat = -1;
}

/* ---- one tree ---------------------------------------------------------------------- */

struct growing {
	struct lrn_rawtree rt;
	int cap;
};

static int raw_add(struct growing *g)
{
	if (g->rt.n == g->cap) {
		int cap = g->cap ? g->cap * 2 : 64;
		struct lrn_rawtree *rt = &g->rt;
		int32_t *l = realloc(rt->left, sizeof(int32_t) * (size_t)cap);
		if (l)
			rt->left = l;
		int32_t *r = realloc(rt->right, sizeof(int32_t) * (size_t)cap);
		if (r)
			rt->right = r;
		int32_t *f = realloc(rt->feat, sizeof(int32_t) * (size_t)cap);
		if (f)
			rt->feat = f;
		float *th = realloc(rt->thr, sizeof(float) * (size_t)cap);
		if (th)
			rt->thr = th;
		uint8_t *dl = realloc(rt->dleft, (size_t)cap);
		if (dl)
			rt->dleft = dl;
		float *gn = realloc(rt->gain, sizeof(float) * (size_t)cap);
		if (gn)
			rt->gain = gn;
		if (!l || !r || !f || !th || !dl || !gn)
			return -ENOMEM;
		g->cap = cap;
	}
	int i = g->rt.n++;
	g->rt.left[i] = g->rt.right[i] = -1;
	g->rt.feat[i] = 0;
	g->rt.thr[i] = 0;
	g->rt.dleft[i] = 1;
	g->rt.gain[i] = 0;
	return i;
}

/* Stable partition of n's rows: bins <= split bin first. */
static size_t partition(struct grower *g, const struct tnode *n)
{
	const uint8_t *col = g->t->binsT + (size_t)n->best.feat * g->t->N;
	/* Scratch at the node's own offset: nodes of one tree split at once. */
	uint32_t *idx = g->idx, *tmp = g->tmp + n->begin;
	size_t l = n->begin, r = 0;
	int b = n->best.bin;
	/* Branch-free: the direction of a row is data, not a jump to mispredict. */
	for (size_t i = n->begin; i < n->end; i++) {
		uint32_t row = idx[i];
		size_t left = col[row] <= b;
		idx[l] = row;
		tmp[r] = row;
		l += left;
		r += 1 - left;
	}
	memcpy(idx + l, tmp, sizeof(uint32_t) * r);
	return l;
}

static void add_leaf(struct grower *g, const struct tnode *n, float value)
{
	double *m = g->t->margin + (size_t)g->cls * g->t->N;
	for (size_t i = n->begin; i < n->end; i++)
		m[g->idx[i]] += value;
}

static float leaf_value(const struct trainer *t, const struct tnode *n)
{
	return (float)(-n->g / (n->h + t->p->lambda) * t->p->eta);
}

/* Grow the tree for class g->cls over the sampled rows in g->idx. */
static int grow_tree(struct grower *g, struct lrn_rawtree *out)
{
	struct trainer *t = g->t;
	const struct lrn_params *p = t->p;
	struct growing gt = {0};
	size_t maxopen = (size_t)1 << (p->max_depth < 20 ? p->max_depth : 20);
	if (p->max_leaves > 0 && (size_t)p->max_leaves < maxopen)
		maxopen = (size_t)p->max_leaves;
	struct tnode *open = malloc(sizeof(*open) * (maxopen + 2));
	size_t nopen = 0, nleaves = 1;
	int rc = 0;
	if (!open)
		return -ENOMEM;

	struct tnode root = {.begin = 0, .end = t->nsample, .best.feat = -1};
	if ((root.id = raw_add(&gt)) < 0 || !(root.hist = hist_get(g))) {
		rc = -ENOMEM;
		goto out;
	}
	build_hist(g, &root, root.hist);
	const struct gpair *gh = t->gh + (size_t)g->cls * t->N;
	for (size_t i = 0; i < t->nsample; i++) {
		root.g += gh[g->idx[i]].g;
		root.h += gh[g->idx[i]].h;
	}
	find_split(g, &root);
	open[nopen++] = root;

	for (;;) {
		/* Best-first: the open node with the largest gain; ties go to the
		 * earliest in the list, so growth order is reproducible. */
		size_t bi = nopen;
		for (size_t i = 0; i < nopen; i++)
			if (open[i].best.feat >= 0 && (bi == nopen || open[i].best.gain > open[bi].best.gain))
				bi = i;
		if (bi == nopen || (p->max_leaves > 0 && nleaves >= (size_t)p->max_leaves))
			break;
		struct tnode n = open[bi];
		open[bi] = open[--nopen];
		int li = raw_add(&gt), ri = raw_add(&gt);
		if (li < 0 || ri < 0) {
			hist_put(g, n.hist);
			rc = -ENOMEM;
			goto out;
		}
		struct lrn_rawtree *rt = &gt.rt;
		rt->left[n.id] = li;
		rt->right[n.id] = ri;
		rt->feat[n.id] = n.best.feat;
		rt->thr[n.id] = t->cuts[n.best.feat][n.best.bin];
		rt->dleft[n.id] = 1;
		rt->gain[n.id] = (float)n.best.gain;
		size_t mid = partition(g, &n);
		struct tnode L = {.begin = n.begin, .end = mid, .depth = n.depth + 1, .id = li, .g = n.best.gl, .h = n.best.hl, .best.feat = -1};
		struct tnode R = {.begin = mid, .end = n.end, .depth = n.depth + 1, .id = ri, .g = n.g - n.best.gl, .h = n.h - n.best.hl, .best.feat = -1};
		nleaves++;
		if (n.depth + 1 < p->max_depth) {
			/* Build the smaller child; the larger is parent minus it. */
			struct tnode *small = (L.end - L.begin) <= (R.end - R.begin) ? &L : &R;
			struct tnode *large = small == &L ? &R : &L;
			small->hist = hist_get(g);
			if (!small->hist) {
				hist_put(g, n.hist);
				rc = -ENOMEM;
				goto out;
			}
			build_hist(g, small, small->hist);
			large->hist = n.hist;
			for (size_t s = 0; s < t->nbins; s++) {
				large->hist[s].g -= small->hist[s].g;
				large->hist[s].h -= small->hist[s].h;
			}
			n.hist = NULL;
			find_split(g, &L);
			find_split(g, &R);
		}
		hist_put(g, n.hist);
		struct tnode *kids[2] = {&L, &R};
		for (int k = 0; k < 2; k++) {
			if (kids[k]->best.feat >= 0 && nopen < maxopen + 2) {
				open[nopen++] = *kids[k];
			} else {
				hist_put(g, kids[k]->hist);
				float v = leaf_value(t, kids[k]);
				rt->thr[kids[k]->id] = v;
				add_leaf(g, kids[k], v);
			}
		}
	}
	/* What is still open becomes leaves. */
	for (size_t i = 0; i < nopen; i++) {
		float v = leaf_value(t, &open[i]);
		gt.rt.thr[open[i].id] = v;
		add_leaf(g, &open[i], v);
		hist_put(g, open[i].hist);
	}
	nopen = 0;
	gt.rt.cls = g->cls;
	*out = gt.rt;
	gt.rt = (struct lrn_rawtree){0};
out:
	for (size_t i = 0; i < nopen; i++)
		hist_put(g, open[i].hist);
	free(open);
	lrn_rawtree_free(&gt.rt);
	return rc;
}

/* Walk a raw tree over a float row (rows outside the sample, validation). */
static float raw_predict(const struct lrn_rawtree *rt, const float *x)
{
	int i = 0;
	while (rt->left[i] >= 0) {
		float v = x[rt->feat[i]];
		i = (v < rt->thr[i] || v != v) ? rt->left[i] : rt->right[i];
	}
	return rt->thr[i];
}

/* ---- the boosting loop ------------------------------------------------------------ */

static void trainer_free(struct trainer *t)
{
	for (size_t f = 0; t->cuts && f < t->F; f++)
		free(t->cuts[f]);
	free(t->cuts);
	free(t->nb);
	free(t->off);
	free(t->bins);
	free(t->binsT);
	free(t->w);
	for (size_t i = 0; i < t->npart; i++)
		free(t->part[i]);
	free(t->part);
	free(t->margin);
	free(t->vmargin);
	free(t->gh);
	free(t->in_sample);
	for (size_t k = 0; t->growers && k < t->K; k++) {
		struct grower *g = &t->growers[k];
		free(g->idx);
		free(g->tmp);
		free(g->fmask);
		for (size_t i = 0; i < g->nfree; i++)
			free(g->free_hists[i]);
		free(g->free_hists);
	}
	free(t->growers);
	lrn_pool_destroy(t->pool);
}

static int check_inputs(const struct lrn_data *train, const struct lrn_data *valid, const struct lrn_params *p)
{
	size_t K = lrn_data_nclasses(train), F = lrn_data_nfeatures(train);
	if (lrn_data_rows(train) == 0)
		return lrn_err(-EINVAL, "no training rows");
	if (K < 2)
		return lrn_err(-EINVAL, "training rows carry %zu class(es); at least 2 are needed", K);
	for (size_t r = 0; r < lrn_data_rows(train); r++)
		if (lrn_data_label(train, r) < 0)
			return lrn_err(-EINVAL, "training row %zu has no label", r + 1);
	if (p->nclass_weight && p->nclass_weight != K)
		return lrn_err(-EINVAL, "class_weight: %zu weights for %zu classes", p->nclass_weight, K);
	if (p->max_depth < 1 || p->max_depth > LRN_MAX_DEPTH || p->max_bin < 2 || p->max_bin > 256 || p->rounds < 1)
		return lrn_err(-EINVAL, "parameters out of range (max_depth 1..%d, max_bin 2..256, rounds >= 1)", LRN_MAX_DEPTH);
	if (!valid)
		return 0;
	if (lrn_data_nfeatures(valid) != F || lrn_data_nclasses(valid) != K)
		return lrn_err(-EINVAL, "validation rows have %zu features and %zu classes, training rows %zu and %zu",
			       lrn_data_nfeatures(valid), lrn_data_nclasses(valid), F, K);
	for (size_t f = 0; f < F; f++)
		if (strcmp(lrn_data_feature_name(valid, f), lrn_data_feature_name(train, f)) != 0)
			return lrn_err(-EINVAL, "validation feature %zu is \"%s\", training feature \"%s\"", f + 1,
				       lrn_data_feature_name(valid, f), lrn_data_feature_name(train, f));
	for (size_t r = 0; r < lrn_data_rows(valid); r++)
		if (lrn_data_label(valid, r) < 0)
			return lrn_err(-EINVAL, "validation row %zu has no label", r + 1);
	return 0;
}

static uint64_t mix(uint64_t seed, uint64_t a, uint64_t b)
{
	uint64_t s = seed ^ (a * 0x9e3779b97f4a7c15ULL) ^ (b * 0xc2b2ae3d27d4eb4fULL);
	return lrn_splitmix64(&s);
}

static void pick_features(struct grower *g)
{
	const struct trainer *t = g->t;
	size_t F = t->F, keep = (size_t)ceil(t->p->colsample * (double)F);
	if (keep >= F) {
		memset(g->fmask, 1, F);
		return;
	}
	if (keep < 1)
		keep = 1;
	size_t order[LRN_MAX_FEATURES];
	uint64_t s = mix(t->p->seed, (uint64_t)t->round + 1, (uint64_t)g->cls + 7);
	for (size_t f = 0; f < F; f++)
		order[f] = f;
	for (size_t i = F; i > 1; i--) {
		size_t j = (size_t)(lrn_splitmix64(&s) % i), tmp = order[i - 1];
		order[i - 1] = order[j];
		order[j] = tmp;
	}
	memset(g->fmask, 0, F);
	for (size_t i = 0; i < keep; i++)
		g->fmask[order[i]] = 1;
}

/* Rows of the round's sample into a grower's index, features picked. */
static void start_class(struct grower *g)
{
	size_t n = 0;
	for (size_t r = 0; r < g->t->N; r++)
		if (g->t->in_sample[r])
			g->idx[n++] = (uint32_t)r;
	pick_features(g);
}

/* Rows outside the sample and validation rows follow class k's new tree. */
static void finish_class(struct trainer *t, size_t k)
{
	const struct lrn_rawtree *rt = t->growers[k].out;
	if (t->nsample < t->N)
		for (size_t r = 0; r < t->N; r++)
			if (!t->in_sample[r])
				t->margin[k * t->N + r] += raw_predict(rt, lrn_data_row(t->train, r));
	for (size_t r = 0; r < t->NV; r++)
		t->vmargin[k * t->NV + r] += raw_predict(rt, lrn_data_row(t->valid, r));
}

/* Best-first growth (max_leaves set): one task per class. */
static void grow_class(void *arg, size_t k, int worker)
{
	struct trainer *t = arg;
	struct grower *g = &t->growers[k];
	start_class(g);
	g->rc = grow_tree(g, g->out);
	if (g->rc == 0)
		finish_class(t, k);
}

/*
 * Level by level (no leaf limit): the work of one depth, over every
 * class's tree, runs as parallel phases: partitions (one task per node),
 * histograms of the smaller children (one task per HCHUNK rows of a node,
 * so the big nodes near the root keep every thread busy even with three
 * classes), and merging (per node: chunk partials added in chunk order,
 * the larger child by subtraction, the children's best splits).  The
 * serial steps between phases give out node ids, histograms and chunks in
 * a fixed order, so the trees depend on neither the thread count nor the
 * scheduling.
 */
#define HCHUNK 32768

struct fnode {
	struct tnode n, kid[2];
	int k;
	struct hbin *small; /* histogram for the smaller child, given out before the task */
	size_t job0, njobs; /* its histogram chunks in level.jobs */
};

/* Histogram of rows g->idx[begin..end) into dst. */
struct hjob {
	const struct grower *g;
	size_t begin, end;
	struct hbin *dst;
};

struct level {
	struct trainer *t;
	struct fnode *v;
	struct growing *gt; /* per class */
	int leaf_level;	    /* children are at max_depth: no histograms */
	struct hjob *jobs;
	size_t njobs, jobcap;
};

/* Chunk jobs for the histogram of rows [begin, end) of g into dst: the
 * first chunk writes dst, the others trainer partials merged later. */
static int plan_hist(struct level *lv, struct fnode *fn, const struct grower *g, size_t begin, size_t end,
		     struct hbin *dst)
{
	size_t n = end > begin ? (end - begin + HCHUNK - 1) / HCHUNK : 1;
	if (lv->njobs + n > lv->jobcap) {
		size_t cap = (lv->njobs + n) * 2;
		struct hjob *v = realloc(lv->jobs, sizeof(*v) * cap);
		if (!v)
			return -ENOMEM;
		lv->jobs = v;
		lv->jobcap = cap;
	}
	fn->job0 = lv->njobs;
	fn->njobs = n;
	for (size_t c = 0; c < n; c++) {
		struct hjob *j = &lv->jobs[lv->njobs++];
		j->g = g;
		j->begin = begin + c * HCHUNK;
		j->end = begin + (c + 1) * HCHUNK < end ? begin + (c + 1) * HCHUNK : end;
		j->dst = c == 0 ? dst : NULL; /* give_partials fills the others */
	}
	return 0;
}

/* Give every job without a destination a partial histogram. */
static int give_partials(struct level *lv)
{
	struct trainer *t = lv->t;
	size_t need = 0;
	for (size_t j = 0; j < lv->njobs; j++)
		need += lv->jobs[j].dst == NULL;
	if (need > t->npart) {
		struct hbin **v = realloc(t->part, sizeof(*v) * need);
		if (!v)
			return -ENOMEM;
		t->part = v;
		for (; t->npart < need; t->npart++)
			if (!(t->part[t->npart] = malloc(sizeof(struct hbin) * t->nbins)))
				return -ENOMEM;
	}
	for (size_t j = 0, p = 0; j < lv->njobs; j++)
		if (lv->jobs[j].dst == NULL)
			lv->jobs[j].dst = t->part[p++];
	return 0;
}

static void hist_task(void *arg, size_t j, int worker)
{
	const struct hjob *job = &((struct level *)arg)->jobs[j];
	hist_rows(job->g, job->begin, job->end, job->dst);
}

/* The level's planned histogram jobs, in parallel. */
static int run_hists(struct level *lv)
{
	if (give_partials(lv) < 0)
		return -ENOMEM;
	lrn_pool_run(lv->t->pool, hist_task, lv, lv->njobs);
	return 0;
}

/* Add a node's chunk partials to its first chunk's histogram, in order. */
static void merge_partials(const struct level *lv, const struct fnode *fn)
{
	const size_t nb = lv->t->nbins;
	struct hbin *dst = lv->jobs[fn->job0].dst;
	for (size_t c = 1; c < fn->njobs; c++) {
		const struct hbin *p = lv->jobs[fn->job0 + c].dst;
		for (size_t s = 0; s < nb; s++) {
			dst[s].g += p[s].g;
			dst[s].h += p[s].h;
		}
	}
}

static void start_task(void *arg, size_t k, int worker)
{
	start_class(&((struct level *)arg)->t->growers[k]);
}

static void leaf(struct level *lv, struct grower *g, struct tnode *n)
{
	float v = leaf_value(lv->t, n);
	lv->gt[g->cls].rt.thr[n->id] = v;
	add_leaf(g, n, v);
}

static void root_task(void *arg, size_t k, int worker)
{
	struct level *lv = arg;
	struct trainer *t = lv->t;
	struct grower *g = &t->growers[k];
	struct tnode *root = &lv->v[k].n;
	merge_partials(lv, &lv->v[k]);
	/* Every row is in one bin of feature 0: its bins sum to the node. */
	for (int b = 0; b < t->nb[0]; b++) {
		root->g += root->hist[b].g;
		root->h += root->hist[b].h;
	}
	find_split(g, root);
	if (root->best.feat < 0)
		leaf(lv, g, root);
}

/* Rows of a splitting node to its children; at the last level the
 * children are leaves, and their rows only need their values. */
static void part_task(void *arg, size_t j, int worker)
{
	struct level *lv = arg;
	struct trainer *t = lv->t;
	struct fnode *fn = &lv->v[j];
	struct grower *g = &t->growers[fn->k];
	struct tnode *n = &fn->n, *L = &fn->kid[0], *R = &fn->kid[1];
	if (lv->leaf_level) {
		float v[2] = {leaf_value(t, L), leaf_value(t, R)};
		lv->gt[fn->k].rt.thr[L->id] = v[0];
		lv->gt[fn->k].rt.thr[R->id] = v[1];
		double *m = t->margin + (size_t)g->cls * t->N;
		const uint8_t *col = t->binsT + (size_t)n->best.feat * t->N;
		const int b = n->best.bin;
		for (size_t i = n->begin; i < n->end; i++) {
			uint32_t row = g->idx[i];
			m[row] += v[col[row] > b];
		}
		return;
	}
	size_t mid = partition(g, n);
	L->begin = n->begin;
	L->end = R->begin = mid;
	R->end = n->end;
}

static void merge_task(void *arg, size_t j, int worker)
{
	struct level *lv = arg;
	struct trainer *t = lv->t;
	struct fnode *fn = &lv->v[j];
	struct grower *g = &t->growers[fn->k];
	struct tnode *n = &fn->n, *L = &fn->kid[0], *R = &fn->kid[1];
	struct tnode *small = (L->end - L->begin) <= (R->end - R->begin) ? L : R;
	struct tnode *large = small == L ? R : L;
	merge_partials(lv, fn);
	small->hist = fn->small;
	large->hist = n->hist;
	for (size_t s = 0; s < t->nbins; s++) {
		large->hist[s].g -= small->hist[s].g;
		large->hist[s].h -= small->hist[s].h;
	}
	n->hist = NULL;
	find_split(g, L);
	find_split(g, R);
	for (int c = 0; c < 2; c++)
		if (fn->kid[c].best.feat < 0)
			leaf(lv, g, &fn->kid[c]);
}

static void finish_task(void *arg, size_t k, int worker)
{
	finish_class(arg, k);
}

static int grow_round_levelwise(struct trainer *t)
{
	size_t K = t->K, cap = K, nf = K;
	struct level lv = {t, calloc(K, sizeof(struct fnode)), calloc(K, sizeof(struct growing)), 0, NULL, 0, 0};
	int rc = 0;
	if (!lv.v || !lv.gt) {
		rc = -ENOMEM;
		goto out;
	}
	lrn_pool_run(t->pool, start_task, &lv, K);
	for (size_t k = 0; k < K; k++) {
		struct fnode *fn = &lv.v[k];
		fn->k = (int)k;
		fn->n = (struct tnode){.begin = 0, .end = t->nsample, .best.feat = -1};
		if ((fn->n.id = raw_add(&lv.gt[k])) < 0 || !(fn->n.hist = hist_get(&t->growers[k])) ||
		    plan_hist(&lv, fn, &t->growers[k], 0, t->nsample, fn->n.hist) < 0) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (run_hists(&lv) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	/* A few thousand adds per class: not worth a parallel loop's wake-up. */
	for (size_t k = 0; k < K; k++)
		root_task(&lv, k, 0);
	for (int d = 0;; d++) {
		/* Keep the nodes that split; give their children ids and hists. */
		size_t m = 0;
		for (size_t j = 0; j < nf; j++) {
			struct fnode *fn = &lv.v[j];
			struct grower *g = &t->growers[fn->k];
			if (fn->n.best.feat < 0) {
				hist_put(g, fn->n.hist);
				continue;
			}
			lv.v[m] = *fn;
			lv.v[m++].small = NULL;
		}
		nf = m;
		if (nf == 0)
			break;
		lv.leaf_level = d + 1 >= t->p->max_depth;
		for (size_t j = 0; j < nf; j++) {
			struct fnode *fn = &lv.v[j];
			struct growing *gt = &lv.gt[fn->k];
			struct tnode *n = &fn->n;
			int li = raw_add(gt), ri = raw_add(gt);
			fn->small = lv.leaf_level ? NULL : hist_get(&t->growers[fn->k]);
			if (li < 0 || ri < 0 || (!lv.leaf_level && !fn->small)) {
				rc = -ENOMEM;
				goto out;
			}
			gt->rt.left[n->id] = li;
			gt->rt.right[n->id] = ri;
			gt->rt.feat[n->id] = n->best.feat;
			gt->rt.thr[n->id] = t->cuts[n->best.feat][n->best.bin];
			gt->rt.gain[n->id] = (float)n->best.gain;
			fn->kid[0] = (struct tnode){.depth = d + 1, .id = li, .g = n->best.gl, .h = n->best.hl, .best.feat = -1};
			fn->kid[1] = (struct tnode){.depth = d + 1, .id = ri, .g = n->g - n->best.gl, .h = n->h - n->best.hl, .best.feat = -1};
		}
		lrn_pool_run(t->pool, part_task, &lv, nf);
		if (!lv.leaf_level) {
			lv.njobs = 0;
			for (size_t j = 0; j < nf; j++) {
				struct fnode *fn = &lv.v[j];
				const struct tnode *L = &fn->kid[0], *R = &fn->kid[1];
				const struct tnode *small = (L->end - L->begin) <= (R->end - R->begin) ? L : R;
				if (plan_hist(&lv, fn, &t->growers[fn->k], small->begin, small->end, fn->small) < 0) {
					rc = -ENOMEM;
					goto out;
				}
			}
			if (run_hists(&lv) < 0) {
				rc = -ENOMEM;
				goto out;
			}
			lrn_pool_run(t->pool, merge_task, &lv, nf);
		}
		/* The children are the next frontier, in a fixed order. */
		if (2 * nf > cap) {
			struct fnode *v = realloc(lv.v, sizeof(*v) * 2 * nf);
			if (!v) {
				rc = -ENOMEM;
				goto out;
			}
			lv.v = v;
			cap = 2 * nf;
		}
		for (size_t j = nf; j-- > 0;) {
			struct fnode fn = lv.v[j];
			struct grower *g = &t->growers[fn.k];
			hist_put(g, fn.n.hist); /* NULL unless the children were leaves */
			/* A child that stays a leaf gives its histogram back at the
			 * top of the next level, like a root that does not split. */
			for (int c = 1; c >= 0; c--)
				lv.v[2 * j + (size_t)c] = (struct fnode){.n = fn.kid[c], .k = fn.k};
		}
		nf *= 2;
	}
	for (size_t k = 0; k < K; k++) {
		lv.gt[k].rt.cls = (int)k;
		*t->growers[k].out = lv.gt[k].rt;
		lv.gt[k].rt = (struct lrn_rawtree){0};
	}
	if (t->nsample < t->N || t->NV > 0)
		lrn_pool_run(t->pool, finish_task, t, K);
out:
	/* After a failure, hand back what the frontier still holds. */
	for (size_t j = 0; rc < 0 && lv.v && j < nf; j++) {
		hist_put(&t->growers[lv.v[j].k], lv.v[j].n.hist);
		hist_put(&t->growers[lv.v[j].k], lv.v[j].small);
	}
	for (size_t k = 0; lv.gt && k < K; k++)
		lrn_rawtree_free(&lv.gt[k].rt);
	free(lv.gt);
	free(lv.v);
	free(lv.jobs);
	return rc;
}

static void pick_rows(struct trainer *t)
{
	size_t n = 0;
	for (size_t r = 0; r < t->N; r++) {
		int in = 1;
		if (t->p->subsample < 1) {
			uint64_t h = mix(t->p->seed, (uint64_t)t->round + 1000003, r);
			in = (double)(h >> 11) * 0x1.0p-53 < t->p->subsample;
		}
		t->in_sample[r] = (uint8_t)in;
		n += (size_t)in;
	}
	t->nsample = n;
}

int lrn_train(const struct lrn_data *train, const struct lrn_data *valid, const struct lrn_params *p,
	      lrn_progress_fn progress, void *ud, struct lrn_model **out)
{
	struct trainer T = {0}, *t = &T;
	struct lrn_rawtree *trees = NULL;
	size_t ntrees = 0, tcap = 0;
	struct lrn_model *m = NULL;
	int rc;

	*out = NULL;
	if ((rc = check_inputs(train, valid, p)) < 0)
		return rc;
	t->p = p;
	t->train = train;
	t->valid = valid && lrn_data_rows(valid) ? valid : NULL;
	t->N = lrn_data_rows(train);
	t->F = lrn_data_nfeatures(train);
	t->K = lrn_data_nclasses(train);
	t->NV = t->valid ? lrn_data_rows(valid) : 0;
	int nth = p->threads > 0 ? p->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if ((rc = lrn_pool_create(nth, &t->pool)) < 0) {
		rc = lrn_err(rc, "cannot start %d training threads", nth);
		goto out;
	}
	size_t N = t->N, F = t->F, K = t->K;
	t->cuts = calloc(F, sizeof(float *));
	t->nb = calloc(F, sizeof(int));
	t->off = calloc(F, sizeof(size_t));
	t->bins = malloc(N * F);
	t->binsT = malloc(N * F);
	t->w = malloc(sizeof(double) * N);
	t->margin = malloc(sizeof(double) * N * K);
	t->vmargin = malloc(sizeof(double) * (t->NV ? t->NV : 1) * K);
	t->gh = malloc(sizeof(struct gpair) * N * K);
	t->in_sample = malloc(N);
	t->growers = calloc(K, sizeof(struct grower));
	int ok = t->cuts && t->nb && t->off && t->bins && t->binsT && t->w && t->margin && t->vmargin && t->gh && t->in_sample && t->growers;
	for (size_t k = 0; ok && k < K; k++) {
		struct grower *g = &t->growers[k];
		g->t = t;
		g->cls = (int)k;
		g->idx = malloc(sizeof(uint32_t) * N);
		g->tmp = malloc(sizeof(uint32_t) * N);
		g->fmask = malloc(F);
		ok = g->idx && g->tmp && g->fmask;
	}
	if (!ok) {
		rc = lrn_err(-ENOMEM, "out of memory for %zu training rows", N);
		goto out;
	}
	struct bin_task bt = {t, 0};
	lrn_pool_run(t->pool, bin_feature, &bt, F);
	if (bt.rc < 0) {
		rc = lrn_err(bt.rc, "out of memory binning features");
		goto out;
	}
	for (size_t f = 0; f < F; f++) {
		t->off[f] = t->nbins;
		t->nbins += (size_t)t->nb[f];
	}

	/* Weights and a prior as the starting margin. */
	double cnt[LRN_MAX_CLASSES] = {0}, cw[LRN_MAX_CLASSES], wsum = 0;
	for (size_t r = 0; r < N; r++)
		cnt[lrn_data_label(train, r)] += 1;
	for (size_t k = 0; k < K; k++) {
		cw[k] = p->nclass_weight ? p->class_weight[k] : 1;
		if (p->class_weight_balanced)
			cw[k] = cnt[k] > 0 ? (double)N / ((double)K * cnt[k]) : 0;
	}
	for (size_t r = 0; r < N; r++)
		wsum += (t->w[r] = cw[lrn_data_label(train, r)]);
	t->wsum = wsum;
	if (!(wsum > 0)) {
		rc = lrn_err(-EINVAL, "class weights leave no training row with weight");
		goto out;
	}
	float base[LRN_MAX_CLASSES];
	for (size_t k = 0; k < K; k++)
		base[k] = (float)log(fmax(cnt[k] * cw[k] / wsum, 1e-6));
	for (size_t r = 0; r < N; r++)
		for (size_t k = 0; k < K; k++)
			t->margin[k * N + r] = base[k];
	for (size_t r = 0; r < t->NV; r++)
		for (size_t k = 0; k < K; k++)
			t->vmargin[k * t->NV + r] = base[k];

	double best_loss = INFINITY;
	int best_round = 0, round;
	for (round = 1; round <= p->rounds; round++) {
		t->round = round;
		/* The loss before this round comes free with the gradients. */
		double train_loss = grad_pass(t, train, t->margin, N, 1);
		pick_rows(t);
		if (tcap < ntrees + K) {
			size_t cap = tcap ? tcap * 2 : 64 * K;
			struct lrn_rawtree *v = realloc(trees, sizeof(*v) * cap);
			if (!v) {
				rc = lrn_err(-ENOMEM, "out of memory at round %d", round);
				goto out;
			}
			trees = v;
			tcap = cap;
		}
		for (size_t k = 0; k < K; k++) {
			memset(&trees[ntrees + k], 0, sizeof(trees[0]));
			t->growers[k].out = &trees[ntrees + k];
		}
		if (p->max_leaves > 0) {
			lrn_pool_run(t->pool, grow_class, t, K);
			for (size_t k = 0; k < K; k++)
				rc = t->growers[k].rc < 0 ? t->growers[k].rc : rc;
		} else
			rc = grow_round_levelwise(t);
		ntrees += K;
		if (rc < 0) {
			rc = lrn_err(rc, "out of memory growing the trees of round %d", round);
			goto out;
		}
		struct lrn_progress pr = {round, p->rounds, train_loss, NAN, best_round};
		if (t->valid) {
			pr.valid_loss = grad_pass(t, t->valid, t->vmargin, t->NV, 0);
			if (pr.valid_loss < best_loss) {
				best_loss = pr.valid_loss;
				best_round = round;
			}
		} else
			best_round = round;
		pr.best_round = best_round;
		if (progress)
			progress(ud, &pr);
		if (t->valid && p->early_stopping > 0 && round - best_round >= p->early_stopping)
			break;
	}
	/* Keep the rounds up to the best one. */
	while (ntrees > (size_t)best_round * K)
		lrn_rawtree_free(&trees[--ntrees]);

	const char *fn[LRN_MAX_FEATURES], *cn[LRN_MAX_CLASSES];
	for (size_t f = 0; f < F; f++)
		fn[f] = lrn_data_feature_name(train, f);
	for (size_t k = 0; k < K; k++)
		cn[k] = lrn_data_class_name(train, k);
	m = lrn_model_new("tierfs-gbdt", F, fn, K, cn);
	if (!m) {
		rc = lrn_err(-ENOMEM, "out of memory building the model");
		goto out;
	}
	for (size_t k = 0; k < K; k++)
		m->base[k] = base[k];
	rc = lrn_model_compile(m, trees, ntrees, "trained model");
	trees = NULL;
	if (rc < 0)
		goto out;
	*out = m;
	m = NULL;
out:
	for (size_t i = 0; trees && i < ntrees; i++)
		lrn_rawtree_free(&trees[i]);
	free(trees);
	lrn_model_destroy(m);
	trainer_free(t);
	return rc;
}
