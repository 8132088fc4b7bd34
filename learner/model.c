/*
 * model.c - the compiled boosted-tree model: checking and compiling trees
 * into flat arrays, single-row prediction, accessors, loading and saving.
 *
 * Invariants after lrn_model_compile(): every tree is a proper binary tree
 * rooted at its first node (no cycle, no shared child), every internal
 * node's feature is < nfeatures, every threshold and leaf value is finite,
 * and no tree is deeper than LRN_MAX_DEPTH.  Prediction relies on these
 * and checks nothing.  The model is immutable once built, so any number
 * of threads may predict at once.
 */
#include "lrn_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Trees walked side by side in predict: independent walks overlap in the
 * CPU instead of waiting on each other's loads. */
#define GROUP 8

static int build_complete(struct lrn_model *m);

void lrn_rawtree_free(struct lrn_rawtree *t)
{
	if (!t)
		return;
	free(t->left);
	free(t->right);
	free(t->feat);
	free(t->thr);
	free(t->dleft);
	free(t->gain);
	memset(t, 0, sizeof(*t));
}

int lrn_rawtree_alloc(struct lrn_rawtree *t, int n)
{
	memset(t, 0, sizeof(*t));
	t->n = n;
	size_t k = n > 0 ? (size_t)n : 1;
	t->left = calloc(k, sizeof(int32_t));
	t->right = calloc(k, sizeof(int32_t));
	t->feat = calloc(k, sizeof(int32_t));
	t->thr = calloc(k, sizeof(float));
	t->dleft = calloc(k, 1);
	t->gain = calloc(k, sizeof(float));
	if (!t->left || !t->right || !t->feat || !t->thr || !t->dleft || !t->gain) {
		lrn_rawtree_free(t);
		return -ENOMEM;
	}
	return 0;
}

static char *xstrdup(const char *s)
{
	return strdup(s ? s : "");
}

struct lrn_model *lrn_model_new(const char *source, size_t nfeatures, const char *const *features, size_t nclasses,
				const char *const *classes)
{
	struct lrn_model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->source = xstrdup(source);
	m->nfeatures = nfeatures;
	m->nclasses = nclasses;
	m->nmargins = nclasses;
	m->features = calloc(nfeatures ? nfeatures : 1, sizeof(char *));
	m->classes = calloc(nclasses ? nclasses : 1, sizeof(char *));
	m->base = calloc(nclasses ? nclasses : 1, sizeof(float));
	m->importance = calloc(nfeatures ? nfeatures : 1, sizeof(double));
	if (!m->source || !m->features || !m->classes || !m->base || !m->importance)
		goto fail;
	for (size_t i = 0; i < nfeatures; i++) {
		char tmp[32];
		snprintf(tmp, sizeof(tmp), "f%zu", i);
		if (!(m->features[i] = xstrdup(features ? features[i] : tmp)))
			goto fail;
	}
	for (size_t c = 0; c < nclasses; c++) {
		char tmp[32];
		snprintf(tmp, sizeof(tmp), "%zu", c);
		if (!(m->classes[c] = xstrdup(classes ? classes[c] : tmp)))
			goto fail;
	}
	return m;
fail:
	lrn_model_destroy(m);
	return NULL;
}

void lrn_model_destroy(struct lrn_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; m->features && i < m->nfeatures; i++)
		free(m->features[i]);
	for (size_t c = 0; m->classes && c < m->nclasses; c++)
		free(m->classes[c]);
	for (size_t t = 0; m->raw && t < m->ntrees; t++)
		lrn_rawtree_free(&m->raw[t]);
	free(m->raw);
	free(m->features);
	free(m->classes);
	free(m->base);
	free(m->nodes);
	free(m->root);
	free(m->depth);
	free(m->tcls);
	free(m->importance);
	free(m->cnode);
	free(m->cmiss);
	free(m->cleaf);
	lrn_quant_free(m);
	free(m->source);
	free(m);
}

/* Walk one raw tree from its root, checking it, and give each reachable
 * node its place in the compiled array (preorder).  order/stack/ids are
 * scratch arrays of at least t->n entries. */
static int check_tree(const struct lrn_model *m, const struct lrn_rawtree *t, size_t ti, const char *what,
		      int32_t *ids, int32_t *stack, uint8_t *sdepth, int32_t *order, int *nreach, int *depth)
{
	if (t->n < 1)
		return lrn_err(-EINVAL, "%s: tree %zu has no nodes", what, ti);
	if (t->cls < 0 || (size_t)t->cls >= m->nmargins)
		return lrn_err(-EINVAL, "%s: tree %zu adds to class %d, but the model has %zu", what, ti, t->cls,
			       m->nmargins);
	for (int i = 0; i < t->n; i++)
		ids[i] = -1;
	int sp = 0, k = 0, maxd = 0;
	stack[sp] = 0;
	sdepth[sp++] = 0;
	ids[0] = 0;
	while (sp > 0) {
		sp--;
		int i = stack[sp], d = sdepth[sp];
		order[k] = i;
		ids[i] = k++;
		if (d > maxd)
			maxd = d;
		int32_t l = t->left[i], r = t->right[i];
		if (l == -1 || r == -1) {
			if (l != r)
				return lrn_err(-EINVAL, "%s: tree %zu node %d has one child (left %d, right %d); a node has two children or none", what, ti, i, l, r);
			if (!isfinite(t->thr[i]))
				return lrn_err(-EINVAL, "%s: tree %zu leaf %d has value %g, expected a finite number", what, ti, i, (double)t->thr[i]);
			continue;
		}
		if (l < 0 || l >= t->n || r < 0 || r >= t->n)
			return lrn_err(-EINVAL, "%s: tree %zu node %d has children %d and %d, expected -1 or 0..%d", what, ti, i, l, r, t->n - 1);
		if (t->feat[i] < 0 || (size_t)t->feat[i] >= m->nfeatures)
			return lrn_err(-EINVAL, "%s: tree %zu node %d splits on feature %d, but the model has %zu features", what, ti, i, t->feat[i], m->nfeatures);
		if (!isfinite(t->thr[i]))
			return lrn_err(-EINVAL, "%s: tree %zu node %d has threshold %g, expected a finite number", what, ti, i, (double)t->thr[i]);
		if (d + 1 > LRN_MAX_DEPTH)
			return lrn_err(-EINVAL, "%s: tree %zu is deeper than %d levels", what, ti, LRN_MAX_DEPTH);
		if (l == r || ids[l] != -1 || ids[r] != -1 || l == 0 || r == 0)
			return lrn_err(-EINVAL, "%s: tree %zu node %d points back to a node already reached (a cycle or a shared child)", what, ti, i);
		/* Mark now so a second parent is caught even before l and r are visited. */
		ids[l] = ids[r] = -2;
		stack[sp] = r;
		sdepth[sp++] = (uint8_t)(d + 1);
		stack[sp] = l;
		sdepth[sp++] = (uint8_t)(d + 1);
	}
	*nreach = k;
	*depth = maxd;
	return 0;
}

int lrn_model_compile(struct lrn_model *m, struct lrn_rawtree *raw, size_t ntrees, const char *what)
{
	int rc = 0;
	int32_t *ids = NULL, *stack = NULL, *order = NULL;
	uint8_t *sdepth = NULL;
	int maxn = 1;
	size_t total = 0;

	m->raw = raw;
	m->ntrees = ntrees;
	if (ntrees > LRN_MAX_TREES)
		return lrn_err(-E2BIG, "%s: %zu trees, more than the %d allowed", what, ntrees, LRN_MAX_TREES);
	for (size_t t = 0; t < ntrees; t++) {
		if (raw[t].n > LRN_MAX_NODES || total + (size_t)raw[t].n > LRN_MAX_NODES)
			return lrn_err(-E2BIG, "%s: more than %d nodes in all", what, LRN_MAX_NODES);
		total += (size_t)raw[t].n;
		if (raw[t].n > maxn)
			maxn = raw[t].n;
	}
	ids = malloc(sizeof(int32_t) * (size_t)maxn);
	stack = malloc(sizeof(int32_t) * ((size_t)maxn + 2));
	order = malloc(sizeof(int32_t) * (size_t)maxn);
	sdepth = malloc((size_t)maxn + 2);
	m->nodes = malloc(sizeof(struct lrn_cnode) * (total ? total : 1));
	m->root = malloc(sizeof(int32_t) * (ntrees ? ntrees : 1));
	m->depth = malloc(ntrees ? ntrees : 1);
	m->tcls = malloc(sizeof(uint16_t) * (ntrees ? ntrees : 1));
	if (!ids || !stack || !order || !sdepth || !m->nodes || !m->root || !m->depth || !m->tcls) {
		rc = lrn_err(-ENOMEM, "%s: out of memory compiling %zu trees", what, ntrees);
		goto out;
	}
	for (size_t f = 0; f < m->nfeatures; f++)
		m->importance[f] = 0;
	size_t base = 0;
	for (size_t t = 0; t < ntrees; t++) {
		const struct lrn_rawtree *rt = &raw[t];
		int nreach = 0, depth = 0;
		rc = check_tree(m, rt, t, what, ids, stack, sdepth, order, &nreach, &depth);
		if (rc < 0)
			goto out;
		for (int k = 0; k < nreach; k++) {
			int i = order[k];
			struct lrn_cnode *c = &m->nodes[base + (size_t)k];
			int32_t self = (int32_t)(base + (size_t)k);
			c->thr = rt->thr[i];
			if (rt->left[i] == -1) {
				c->featdl = 0;
				c->next[0] = c->next[1] = self;
			} else {
				c->featdl = (uint32_t)rt->feat[i] | (rt->dleft[i] ? 0 : LRN_MISSING_RIGHT);
				c->next[0] = (int32_t)base + ids[rt->left[i]];
				c->next[1] = (int32_t)base + ids[rt->right[i]];
				if (rt->gain && isfinite(rt->gain[i]))
					m->importance[rt->feat[i]] += rt->gain[i];
			}
		}
		m->root[t] = (int32_t)base;
		m->depth[t] = (uint8_t)depth;
		m->tcls[t] = (uint16_t)rt->cls;
		base += (size_t)nreach;
	}
	m->nnodes = base;
	if (build_complete(m) < 0 || lrn_quant_build(m) < 0)
		rc = lrn_err(-ENOMEM, "%s: out of memory compiling %zu trees", what, ntrees);
out:
	free(ids);
	free(stack);
	free(order);
	free(sdepth);
	return rc;
}

/* Write the subtree of compiled node c at position pos of tree t's
 * complete tree of depth D (see lrn_internal.h); a leaf above depth D
 * fills both halves below it, so either direction reaches the same value. */
static void fill_complete(struct lrn_model *m, size_t t, int32_t c, size_t pos, int d)
{
	const size_t w = (size_t)1 << m->cdepth, ni = w - 1;
	const struct lrn_cnode *n = &m->nodes[c];
	if (d == m->cdepth) {
		m->cleaf[t * w + (pos - ni)] = n->thr;
		return;
	}
	int leaf = n->next[0] == c;
	size_t k = t * w + pos;
	m->cnode[k].feat = leaf ? 0 : n->featdl & ~LRN_MISSING_RIGHT;
	m->cnode[k].thr = leaf ? 0 : n->thr;
	m->cmiss[k] = leaf ? 0 : (uint8_t)(n->featdl >> 31);
	fill_complete(m, t, leaf ? c : n->next[0], 2 * pos + 1, d + 1);
	fill_complete(m, t, leaf ? c : n->next[1], 2 * pos + 2, d + 1);
}

static int build_complete(struct lrn_model *m)
{
	int D = 0;
	for (size_t t = 0; t < m->ntrees; t++)
		if (m->depth[t] > D)
			D = m->depth[t];
	if (D > LRN_COMPLETE_DEPTH || m->ntrees == 0)
		return 0;
	m->cdepth = D;
	/* Room for whole groups: the last group's walks past the last tree
	 * run through zeros (feature 0, threshold 0) and are not added. */
	size_t w = (size_t)1 << D, slots = (m->ntrees + LRN_CGROUP - 1) / LRN_CGROUP * LRN_CGROUP;
	m->cnode = calloc(w * slots, sizeof(struct lrn_inode));
	m->cmiss = calloc(w * slots, 1);
	m->cleaf = calloc(w * slots, sizeof(float));
	if (!m->cnode || !m->cmiss || !m->cleaf) {
		m->cdepth = 0;
		return -ENOMEM;
	}
	for (size_t t = 0; t < m->ntrees; t++)
		fill_complete(m, t, m->root[t], 0, 0);
	m->cround = m->nmargins == 1 || m->nmargins == 3 ? (int)m->nmargins : 0;
	for (size_t t = 0; t < m->ntrees; t++)
		if (m->tcls[t] != t % m->nmargins)
			m->cround = 0;
	return 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define STEP_ASM 1
/* One step of a walk on a row without missing values, i -> 2i+1+right,
 * in the five instructions it needs: compilers build the node address
 * twice and spill the walks' indexes.  comiss sets the carry when
 * x < thr (go left), so the child is 2i+2 minus the carry. */
static inline __attribute__((always_inline)) size_t step_asm(const struct lrn_inode *nd, const float *x, size_t i)
{
	size_t f;
	float v;
	__asm__("movl %[feat], %k[f]\n\t"
		"movss (%[x],%[f],4), %[v]\n\t"
		"comiss %[thr], %[v]\n\t"
		"lea 2(%[i],%[i]), %[i]\n\t"
		"sbb $0, %[i]"
		: [i] "+r"(i), [f] "=&r"(f), [v] "=&x"(v)
		: [x] "r"(x), [feat] "m"(nd->feat), [thr] "m"(nd->thr)
		: "cc");
	return i;
}
#endif

/* One step down tree N (a complete tree of the layout) from node i. */
static inline __attribute__((always_inline)) size_t cstep(const struct lrn_inode *N, const uint8_t *M, size_t i,
							  const float *x, int nan_free)
{
#ifdef STEP_ASM
	if (nan_free)
		return step_asm(&N[i], x, i);
#endif
	float v = x[N[i].feat];
	size_t right;
	if (nan_free) {
		right = N[i].thr <= v;
	} else {
		right = !(v < N[i].thr);
		if (v != v)
			right = M[i];
	}
	return 2 * i + 1 + right;
}

/* Walk the LRN_CGROUP trees from tree t D levels down and add the leaves
 * of the first n (the rest are padding) to acc.  Tree j's nodes start at
 * a fixed distance j * 2^D from tree t's, so one base pointer with a
 * constant displacement per tree serves all walks and each walk keeps a
 * single index register.  nan_free: the row has no missing value, so the
 * default directions are never read (fewer instructions on the path every
 * row takes). */
static inline __attribute__((always_inline)) void group_sum(const struct lrn_model *m, size_t t, size_t n, int D, int K,
							    const float *x, float *acc, int nan_free)
{
	enum { G = LRN_CGROUP };
	const size_t w = (size_t)1 << D, ni = w - 1;
	const struct lrn_inode *N = m->cnode + t * w;
	const uint8_t *M = m->cmiss + t * w;
	/* Hide where N comes from, or the compiler rebuilds each node address
	 * from cnode and t on every step instead of using one base register
	 * with a constant displacement per tree. */
	__asm__("" : "+r"(N));
	size_t i[G] = {0};
#pragma GCC unroll 8
	for (int s = 0; s < D; s++)
#pragma GCC unroll 32
		for (size_t j = 0; j < G; j++)
			i[j] = cstep(N + j * w, M + j * w, i[j], x, nan_free);
	/* Tree order, as XGBoost adds them: float sums match to the bit. */
	const float *L = m->cleaf + t * w;
	const uint16_t *cls = m->tcls + t;
#pragma GCC unroll 32
	for (size_t j = 0; j < G; j++) {
		if (j >= n)
			break;
		if (K > 0)
			acc[j % (size_t)K] += L[j * w + i[j] - ni];
		else
			acc[cls[j]] += L[j * w + i[j] - ni];
	}
}

/* K > 0: tree t adds to margin t % K (m->cround == K), and acc, indexed
 * by constants once unrolled, stays in registers; through memory each add
 * would wait on the store of the one before it. */
static inline __attribute__((always_inline)) void complete_sum_impl(const struct lrn_model *m, int D, int K,
								     const float *x, float *marg, int nan_free)
{
	_Static_assert(LRN_CGROUP % 3 == 0, "a group starts at a multiple of the round-robin classes");
	const size_t nt = m->ntrees;
	float a[3];
	float *acc = K > 0 ? a : marg;
	for (int k = 0; k < K; k++)
		a[k] = marg[k];
	for (size_t t = 0; t < nt; t += LRN_CGROUP)
		group_sum(m, t, nt - t, D, K, x, acc, nan_free);
	for (int k = 0; k < K; k++)
		marg[k] = a[k];
}

/* The depth and round-robin classes as constants let the compiler unroll
 * each walk fully and keep the sums in registers. */
#define COMPLETE_DEPTH_CASE(d)                                            \
	case d:                                                           \
		if (m->cround == 3)                                       \
			complete_sum_impl(m, d, 3, x, marg, 1);           \
		else                                                      \
			complete_sum_impl(m, d, 1, x, marg, 1);           \
		return

static void complete_sum(const struct lrn_model *m, const float *x, float *marg)
{
	for (size_t f = 0; f < m->nfeatures; f++)
		if (x[f] != x[f]) {
			complete_sum_impl(m, m->cdepth, 0, x, marg, 0);
			return;
		}
	if (m->cround == 0) {
		complete_sum_impl(m, m->cdepth, 0, x, marg, 1);
		return;
	}
	switch (m->cdepth) {
		COMPLETE_DEPTH_CASE(1);
		COMPLETE_DEPTH_CASE(2);
		COMPLETE_DEPTH_CASE(3);
		COMPLETE_DEPTH_CASE(4);
		COMPLETE_DEPTH_CASE(5);
		COMPLETE_DEPTH_CASE(6);
		COMPLETE_DEPTH_CASE(7);
		COMPLETE_DEPTH_CASE(8);
	}
}

static inline int32_t step(const struct lrn_cnode *n, const float *x)
{
	float v = x[n->featdl & ~LRN_MISSING_RIGHT];
	int right = !(v < n->thr);
	if (v != v)
		right = (int)(n->featdl >> 31);
	return n->next[right];
}

int lrn_model_predict(const struct lrn_model *m, const float *x, float *proba)
{
	float marg[LRN_MAX_CLASSES];
	const struct lrn_cnode *nodes = m->nodes;
	size_t K = m->nmargins, t = 0;

	for (size_t k = 0; k < K; k++)
		marg[k] = m->base[k];
	if (m->qdepth > 0 && lrn_quant_sum(m, x, marg)) {
		t = m->ntrees;
	} else if (m->cdepth > 0) {
		complete_sum(m, x, marg);
		t = m->ntrees;
	}
	for (; t + GROUP <= m->ntrees; t += GROUP) {
		int32_t c[GROUP];
		int d = 0;
		for (int j = 0; j < GROUP; j++) {
			c[j] = m->root[t + (size_t)j];
			if (m->depth[t + (size_t)j] > d)
				d = m->depth[t + (size_t)j];
		}
		for (int s = 0; s < d; s++)
			for (int j = 0; j < GROUP; j++)
				c[j] = step(&nodes[c[j]], x);
		/* Tree order, as XGBoost adds them: float sums match to the bit. */
		for (int j = 0; j < GROUP; j++)
			marg[m->tcls[t + (size_t)j]] += nodes[c[j]].thr;
	}
	for (; t < m->ntrees; t++) {
		int32_t c = m->root[t];
		for (int s = 0; s < m->depth[t]; s++)
			c = step(&nodes[c], x);
		marg[m->tcls[t]] += nodes[c].thr;
	}
	if (m->binary_logistic) {
		float p = 1.0f / (1.0f + expf(-marg[0]));
		proba[0] = 1.0f - p;
		proba[1] = p;
		return p > 0.5f ? 1 : 0;
	}
	/* XGBoost's softmax, step for step. */
	float wmax = marg[0];
	for (size_t k = 1; k < K; k++)
		wmax = fmaxf(marg[k], wmax);
	double wsum = 0;
	for (size_t k = 0; k < K; k++) {
		proba[k] = expf(marg[k] - wmax);
		wsum += proba[k];
	}
	int best = 0;
	for (size_t k = 0; k < K; k++) {
		proba[k] /= (float)wsum;
		if (proba[k] > proba[best])
			best = (int)k;
	}
	return best;
}

size_t lrn_model_nfeatures(const struct lrn_model *m)
{
	return m->nfeatures;
}

size_t lrn_model_nclasses(const struct lrn_model *m)
{
	return m->nclasses;
}

size_t lrn_model_ntrees(const struct lrn_model *m)
{
	return m->ntrees;
}

const char *lrn_model_feature_name(const struct lrn_model *m, size_t i)
{
	return i < m->nfeatures ? m->features[i] : NULL;
}

const char *lrn_model_class_name(const struct lrn_model *m, size_t c)
{
	return c < m->nclasses ? m->classes[c] : NULL;
}

const char *lrn_model_source(const struct lrn_model *m)
{
	return m->source;
}

static int name_index(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -ENOENT;
}

int lrn_model_feature_index(const struct lrn_model *m, const char *name)
{
	return name_index(m->features, m->nfeatures, name);
}

int lrn_model_class_index(const struct lrn_model *m, const char *name)
{
	return name_index(m->classes, m->nclasses, name);
}

int lrn_model_set_class_names(struct lrn_model *m, const char *const *names, size_t n)
{
	if (n != m->nclasses)
		return lrn_err(-EINVAL, "%zu class names given, but the model has %zu classes", n, m->nclasses);
	for (size_t c = 0; c < n; c++) {
		char *s = strdup(names[c]);
		if (!s)
			return lrn_err(-ENOMEM, "out of memory");
		free(m->classes[c]);
		m->classes[c] = s;
	}
	return 0;
}

void lrn_model_importance(const struct lrn_model *m, double *gain)
{
	for (size_t f = 0; f < m->nfeatures; f++)
		gain[f] = m->importance[f];
}

/* ---- files ---------------------------------------------------------------- */

/* Line of byte offset off in buf, for parse errors. */
static size_t line_of(const char *buf, size_t off)
{
	size_t line = 1;
	for (size_t i = 0; i < off; i++)
		line += buf[i] == '\n';
	return line;
}

int lrn_model_parse(const char *json, size_t len, const char *name, struct lrn_model **out)
{
	*out = NULL;
	if (len > LRN_MODEL_MAX_BYTES)
		return lrn_err(-EFBIG, "%s: %zu bytes, more than the %u a model may have", name, len, LRN_MODEL_MAX_BYTES);
	if (len == 0)
		return lrn_err(-EINVAL, "%s: empty file, expected a JSON model", name);
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (!root) {
		size_t off = end && end >= json ? (size_t)(end - json) : 0;
		/* cJSON stops at the token it could not finish: near the end
		 * means the text simply stops. */
		if (off + 64 >= len)
			return lrn_err(-EINVAL, "%s: JSON ends early at byte %zu (truncated file?)", name, len);
		return lrn_err(-EINVAL, "%s:%zu: invalid JSON near byte %zu", name, line_of(json, off), off);
	}
	int rc;
	if (!cJSON_IsObject(root))
		rc = lrn_err(-EINVAL, "%s: expected a JSON object at the top", name);
	else if (cJSON_GetObjectItemCaseSensitive(root, "learner"))
		rc = lrn_model_from_xgboost(root, name, out);
	else if (cJSON_GetObjectItemCaseSensitive(root, "format"))
		rc = lrn_model_from_ours(root, name, out);
	else
		rc = lrn_err(-EINVAL, "%s: neither a tierfs model (key \"format\") nor an XGBoost model (key \"learner\")", name);
	cJSON_Delete(root);
	return rc;
}

int lrn_model_load(const char *path, struct lrn_model **out)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lrn_err(-errno, "%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return lrn_err(-e, "%s: cannot stat: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return lrn_err(-EINVAL, "%s: not a regular file", path);
	}
	/* Refuse before reading, so a huge file costs nothing. */
	if ((uint64_t)st.st_size > LRN_MODEL_MAX_BYTES) {
		close(fd);
		return lrn_err(-EFBIG, "%s: %lld bytes, more than the %u a model may have", path, (long long)st.st_size,
			       LRN_MODEL_MAX_BYTES);
	}
	size_t len = (size_t)st.st_size;
	char *buf = malloc(len + 1);
	if (!buf) {
		close(fd);
		return lrn_err(-ENOMEM, "%s: out of memory", path);
	}
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = 0;
	int rc = lrn_model_parse(buf, got, path, out);
	free(buf);
	return rc;
}

/* A JSON array of n numbers, from int32 (ints) or float (floats) values. */
static cJSON *num_array(const int32_t *ints, const float *floats, int n)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; a && i < n; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateNumber(ints ? (double)ints[i] : (double)floats[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

static cJSON *model_to_json(const struct lrn_model *m)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *trees = NULL, *base = NULL;
	if (!root)
		return NULL;
	int ok = cJSON_AddStringToObject(root, "format", "tierfs-gbdt") && cJSON_AddNumberToObject(root, "version", 1) &&
		 cJSON_AddStringToObject(root, "objective", m->binary_logistic ? "binary:logistic" : "multi:softprob") &&
		 cJSON_AddItemToObject(root, "features", cJSON_CreateStringArray((const char *const *)m->features, (int)m->nfeatures)) &&
		 cJSON_AddItemToObject(root, "classes", cJSON_CreateStringArray((const char *const *)m->classes, (int)m->nclasses)) &&
		 (base = num_array(NULL, m->base, (int)m->nmargins)) && cJSON_AddItemToObject(root, "base_scores", base) &&
		 (trees = cJSON_AddArrayToObject(root, "trees"));
	for (size_t t = 0; ok && t < m->ntrees; t++) {
		const struct lrn_rawtree *rt = &m->raw[t];
		cJSON *o = cJSON_CreateObject();
		int32_t *dl = malloc(sizeof(int32_t) * (size_t)rt->n);
		ok = o && dl && cJSON_AddItemToArray(trees, o);
		if (!ok) {
			cJSON_Delete(o);
			free(dl);
			break;
		}
		for (int i = 0; i < rt->n; i++)
			dl[i] = rt->dleft[i];
		ok = cJSON_AddNumberToObject(o, "class", rt->cls) && cJSON_AddItemToObject(o, "left", num_array(rt->left, NULL, rt->n)) &&
		     cJSON_AddItemToObject(o, "right", num_array(rt->right, NULL, rt->n)) &&
		     cJSON_AddItemToObject(o, "feature", num_array(rt->feat, NULL, rt->n)) &&
		     cJSON_AddItemToObject(o, "threshold", num_array(NULL, rt->thr, rt->n)) &&
		     cJSON_AddItemToObject(o, "default_left", num_array(dl, NULL, rt->n)) &&
		     (!rt->gain || cJSON_AddItemToObject(o, "gain", num_array(NULL, rt->gain, rt->n)));
		free(dl);
	}
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

int lrn_model_save(const struct lrn_model *m, const char *path)
{
	cJSON *root = model_to_json(m);
	if (!root)
		return lrn_err(-ENOMEM, "%s: out of memory building the model JSON", path);
	char *text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text)
		return lrn_err(-ENOMEM, "%s: out of memory printing the model JSON", path);
	size_t len = strlen(text), tlen = strlen(path) + 16;
	char *tmp = malloc(tlen);
	int rc = 0, fd = -1;
	if (!tmp) {
		rc = lrn_err(-ENOMEM, "%s: out of memory", path);
		goto out;
	}
	snprintf(tmp, tlen, "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = lrn_err(-errno, "%s: cannot create: %s", tmp, strerror(errno));
		goto out;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = lrn_err(-(w < 0 ? errno : EIO), "%s: write failed: %s", tmp, strerror(w < 0 ? errno : EIO));
			goto out;
		}
		off += (size_t)w;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
		rc = lrn_err(-errno, "%s: write failed: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = lrn_err(-errno, "%s: close failed: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		rc = lrn_err(-errno, "%s: cannot rename into place: %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0 && tmp)
		unlink(tmp);
	free(tmp);
	cJSON_free(text);
	return rc;
}
