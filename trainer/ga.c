/*
 * ga.c - the genetic algorithm of ga.h.
 *
 * Invariants: pop[i] holds ngenes tier indexes (< ntiers); fit[i] is the
 * simulated I/O time of pop[i] (INFINITY when its run failed) once the
 * generation has been evaluated; the elite slots are copied with their
 * fitness and never re-run (the simulator is deterministic).
 */
#define _GNU_SOURCE
#include "ga.h"
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ga_params_default(struct ga_params *p)
{
	*p = (struct ga_params){
		.population = 40,
		.max_generations = 250,
		.patience = 25,
		.tolerance = 1e-4,
		.elite = 2,
		.crossover_rate = 0.9,
		.mutation_rate = 0,
		.group_mutation_rate = 0.5,
		.seed = 1,
		.threads = 2,
		.polish = 1,
	};
}

static uint32_t rndn(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((tt_splitmix64(s) >> 32) * n) >> 32);
}

struct ga {
	const wf_graph *g;
	uint32_t nfiles, ngenes, ntiers, pop;
	uint32_t *gene_file; /* gene -> workflow file index */
	uint32_t *gene_group;
	uint32_t ngroups;
	uint32_t *group_start, *group_genes; /* genes of group k: group_genes[group_start[k]..[k+1]) */
	uint8_t *genes;			     /* pop x ngenes, current generation */
	uint8_t *next;			     /* pop x ngenes, being bred */
	double *fit, *nfit, *span, *nspan;
	int *dirty; /* next[i] needs a run */
	struct sim **sims;
	int **place; /* per thread: a sim_run() placement */
	uint32_t nthreads;
	int failed; /* first hard error of a worker (negative errno) */
	char werr[256];
};

struct worker {
	struct ga *ga;
	uint32_t id;
};

static void *evaluate_part(void *arg)
{
	struct worker *w = arg;
	struct ga *ga = w->ga;
	int *place = ga->place[w->id];
	for (uint32_t i = w->id; i < ga->pop; i += ga->nthreads) {
		if (!ga->dirty[i])
			continue;
		const uint8_t *x = &ga->next[(size_t)i * ga->ngenes];
		for (uint32_t k = 0; k < ga->ngenes; k++)
			place[ga->gene_file[k]] = x[k];
		struct sim_result r;
		char err[256];
		int rc = sim_run(ga->sims[w->id], NULL, place, &r, err, sizeof(err));
		if (rc == -ENOSPC) {
			ga->nfit[i] = INFINITY;
			ga->nspan[i] = INFINITY;
		} else if (rc < 0) {
			if (!ga->failed) {
				ga->failed = rc;
				snprintf(ga->werr, sizeof(ga->werr), "%s", err);
			}
			ga->nfit[i] = INFINITY;
		} else {
			ga->nfit[i] = r.io_time;
			ga->nspan[i] = r.makespan;
		}
		ga->dirty[i] = 0;
	}
	return NULL;
}

/* Run every dirty individual of ga->next, split across the threads. */
static int evaluate(struct ga *ga, uint64_t *evals)
{
	for (uint32_t i = 0; i < ga->pop; i++)
		*evals += (uint64_t)ga->dirty[i];
	struct worker w[ga->nthreads];
	pthread_t th[ga->nthreads];
	int started[ga->nthreads];
	for (uint32_t t = 0; t < ga->nthreads; t++) {
		w[t] = (struct worker){ga, t};
		started[t] = t > 0 && pthread_create(&th[t], NULL, evaluate_part, &w[t]) == 0;
	}
	evaluate_part(&w[0]);
	for (uint32_t t = 1; t < ga->nthreads; t++) {
		if (started[t])
			pthread_join(th[t], NULL);
		else
			evaluate_part(&w[t]); /* no thread: do its share here */
	}
	return ga->failed;
}

static void ga_free(struct ga *ga)
{
	if (ga->sims)
		for (uint32_t t = 0; t < ga->nthreads; t++)
			sim_destroy(ga->sims[t]);
	if (ga->place)
		for (uint32_t t = 0; t < ga->nthreads; t++)
			free(ga->place[t]);
	free(ga->sims);
	free(ga->place);
	free(ga->gene_file);
	free(ga->gene_group);
	free(ga->group_start);
	free(ga->group_genes);
	free(ga->genes);
	free(ga->next);
	free(ga->fit);
	free(ga->nfit);
	free(ga->span);
	free(ga->nspan);
	free(ga->dirty);
}

struct gkey {
	const char *category;
	uint32_t level;
	uint32_t gene;
};

static int by_group(const void *a, const void *b)
{
	const struct gkey *x = a, *y = b;
	int c = strcmp(x->category, y->category);
	if (c)
		return c;
	if (x->level != y->level)
		return x->level < y->level ? -1 : 1;
	return x->gene < y->gene ? -1 : x->gene > y->gene;
}

/* Genes grouped by (producer category, producer level). */
static int make_groups(struct ga *ga)
{
	struct gkey *k = calloc(ga->ngenes ? ga->ngenes : 1, sizeof(*k));
	ga->gene_group = calloc(ga->ngenes ? ga->ngenes : 1, sizeof(*ga->gene_group));
	ga->group_genes = calloc(ga->ngenes ? ga->ngenes : 1, sizeof(*ga->group_genes));
	ga->group_start = calloc((size_t)ga->ngenes + 1, sizeof(*ga->group_start));
	if (!k || !ga->gene_group || !ga->group_genes || !ga->group_start) {
		free(k);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < ga->ngenes; i++) {
		struct wf_file_features ff;
		if (wf_file_info(ga->g, ga->gene_file[i], &ff) != 0) {
			free(k);
			return -EINVAL;
		}
		k[i] = (struct gkey){ff.producer_category ? ff.producer_category : "", ff.producer_level, i};
	}
	qsort(k, ga->ngenes, sizeof(*k), by_group);
	uint32_t ng = 0;
	for (uint32_t i = 0; i < ga->ngenes; i++) {
		if (i == 0 || strcmp(k[i].category, k[i - 1].category) != 0 || k[i].level != k[i - 1].level)
			ga->group_start[ng++] = i;
		ga->gene_group[k[i].gene] = ng - 1;
		ga->group_genes[i] = k[i].gene;
	}
	ga->group_start[ng] = ga->ngenes;
	ga->ngroups = ng;
	free(k);
	return 0;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The assignment a policy makes, as genes (into x). */
static int policy_genes(struct ga *ga, struct lrn_policy *pol, uint8_t *x, char *err, size_t errlen)
{
	int *place = ga->place[0];
	for (uint32_t f = 0; f < ga->nfiles; f++)
		place[f] = -1;
	int rc = sim_run(ga->sims[0], pol, place, NULL, err, errlen);
	if (rc < 0)
		return rc;
	for (uint32_t k = 0; k < ga->ngenes; k++) {
		struct sim_file sf;
		if (sim_file(ga->sims[0], ga->gene_file[k], &sf) != 0)
			return -EINVAL;
		x[k] = (uint8_t)(sf.tier >= 0 ? sf.tier : 0);
	}
	return 0;
}

static int setup(struct ga *ga, const wf_graph *g, const struct tcfg *cfg, const struct sim_config *sc,
		 const struct ga_params *p, char *err, size_t errlen)
{
	ga->g = g;
	ga->pop = p->population;
	ga->nthreads = p->threads;
	ga->sims = calloc(ga->nthreads, sizeof(*ga->sims));
	ga->place = calloc(ga->nthreads, sizeof(*ga->place));
	if (!ga->sims || !ga->place)
		return -ENOMEM;
	struct sim_config c = *sc;
	c.record_features = 0;
	for (uint32_t t = 0; t < ga->nthreads; t++) {
		int rc = sim_create(g, cfg, &c, &ga->sims[t], err, errlen);
		if (rc < 0)
			return rc;
	}
	ga->nfiles = sim_file_count(ga->sims[0]);
	for (uint32_t t = 0; t < ga->nthreads; t++) {
		ga->place[t] = malloc((ga->nfiles ? ga->nfiles : 1) * sizeof(int));
		if (!ga->place[t])
			return -ENOMEM;
		for (uint32_t f = 0; f < ga->nfiles; f++)
			ga->place[t][f] = -1;
	}
	ga->ntiers = (uint32_t)cfg->ntiers;

	/* Which files a task creates: one run with every file on the first
	 * tier that has room tells (the graph's producers, as the sim sees
	 * them). */
	struct lrn_policy *first = lrn_policy_static_create(LRN_STATIC_FIRST, 0, 1);
	if (!first)
		return -ENOMEM;
	int rc = sim_run(ga->sims[0], first, ga->place[0], NULL, err, errlen);
	lrn_policy_destroy(first);
	if (rc < 0)
		return rc;
	ga->gene_file = calloc(ga->nfiles ? ga->nfiles : 1, sizeof(*ga->gene_file));
	if (!ga->gene_file)
		return -ENOMEM;
	for (uint32_t f = 0; f < ga->nfiles; f++) {
		struct sim_file sf;
		if (sim_file(ga->sims[0], f, &sf) == 0 && sf.created)
			ga->gene_file[ga->ngenes++] = f;
	}
	rc = make_groups(ga);
	if (rc < 0) {
		seterr(err, errlen, "genetic algorithm: cannot group the workflow's files");
		return rc;
	}
	size_t cells = (size_t)ga->pop * (ga->ngenes ? ga->ngenes : 1);
	ga->genes = calloc(cells, 1);
	ga->next = calloc(cells, 1);
	ga->fit = calloc(ga->pop, sizeof(double));
	ga->nfit = calloc(ga->pop, sizeof(double));
	ga->span = calloc(ga->pop, sizeof(double));
	ga->nspan = calloc(ga->pop, sizeof(double));
	ga->dirty = calloc(ga->pop, sizeof(int));
	if (!ga->genes || !ga->next || !ga->fit || !ga->nfit || !ga->span || !ga->nspan || !ga->dirty)
		return -ENOMEM;
	return 0;
}

static int check_params(const struct ga_params *p, char *err, size_t errlen)
{
	const char *bad = NULL;
	if (p->population < 4)
		bad = "population must be at least 4";
	else if (p->elite >= p->population)
		bad = "elite must be smaller than the population";
	else if (p->max_generations < 1)
		bad = "max_generations must be at least 1";
	else if (p->threads < 1 || p->threads > 256)
		bad = "threads must be 1..256";
	else if (!(p->crossover_rate >= 0 && p->crossover_rate <= 1) ||
		 !(p->mutation_rate >= 0 && p->mutation_rate <= 1) ||
		 !(p->group_mutation_rate >= 0 && p->group_mutation_rate <= 1))
		bad = "rates must be within 0..1";
	else if (!(p->tolerance >= 0))
		bad = "tolerance must be >= 0";
	if (bad) {
		seterr(err, errlen, "genetic algorithm: %s", bad);
		return -EINVAL;
	}
	return 0;
}

/* Ascending fitness order of the current generation. */
static int by_fit(const void *a, const void *b, void *arg)
{
	const double *fit = arg;
	double x = fit[*(const uint32_t *)a], y = fit[*(const uint32_t *)b];
	if (x < y)
		return -1;
	if (x > y)
		return 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static void rank(const struct ga *ga, uint32_t *order)
{
	for (uint32_t i = 0; i < ga->pop; i++)
		order[i] = i;
	qsort_r(order, ga->pop, sizeof(*order), by_fit, ga->fit);
}

/* Breed ga->next from ga->genes (ranked by order). */
static void breed(struct ga *ga, const struct ga_params *p, const uint32_t *order, uint64_t *rs)
{
	size_t n = ga->ngenes;
	/* Parents: the above-average individuals (at least two). */
	double sum = 0;
	uint32_t finite = 0;
	for (uint32_t i = 0; i < ga->pop; i++)
		if (isfinite(ga->fit[i])) {
			sum += ga->fit[i];
			finite++;
		}
	double mean = finite ? sum / finite : INFINITY;
	uint32_t npar = 0;
	while (npar < ga->pop && ga->fit[order[npar]] <= mean)
		npar++;
	if (npar < 2)
		npar = ga->pop < 2 ? ga->pop : 2;
	double pm = p->mutation_rate > 0 ? p->mutation_rate : (n ? 1.5 / (double)n : 0);

	for (uint32_t i = 0; i < ga->pop; i++) {
		uint8_t *c = &ga->next[i * n];
		if (i < p->elite) {
			memcpy(c, &ga->genes[(size_t)order[i] * n], n);
			ga->nfit[i] = ga->fit[order[i]];
			ga->nspan[i] = ga->span[order[i]];
			ga->dirty[i] = 0;
			continue;
		}
		const uint8_t *a = &ga->genes[(size_t)order[rndn(rs, npar)] * n];
		const uint8_t *b = &ga->genes[(size_t)order[rndn(rs, npar)] * n];
		if (tt_rand01(rs) < p->crossover_rate) {
			/* Uniform crossover, 64 genes per random word. */
			uint64_t bits = 0;
			for (size_t k = 0; k < n; k++) {
				if ((k & 63) == 0)
					bits = tt_splitmix64(rs);
				c[k] = (bits >> (k & 63)) & 1 ? a[k] : b[k];
			}
		} else {
			memcpy(c, a, n);
		}
		if (ga->ntiers > 1 && pm > 0) {
			/* Per-gene mutation: jump geometrically from one mutated
			 * gene to the next instead of one draw per gene. */
			double lq = log1p(-pm);
			for (size_t k = 0;;) {
				double u = tt_rand01(rs);
				double skip = lq < 0 ? floor(log1p(-u) / lq) : INFINITY;
				if (!(skip < (double)(n - k)))
					break;
				k += (size_t)skip;
				c[k] = (uint8_t)((c[k] + 1 + rndn(rs, ga->ntiers - 1)) % ga->ntiers);
				k++;
			}
		}
		if (ga->ngroups && tt_rand01(rs) < p->group_mutation_rate) {
			uint32_t gr = rndn(rs, ga->ngroups);
			uint8_t t = (uint8_t)rndn(rs, ga->ntiers);
			for (uint32_t j = ga->group_start[gr]; j < ga->group_start[gr + 1]; j++)
				c[ga->group_genes[j]] = t;
		}
		ga->dirty[i] = 1;
	}
}

/* Make the winner canonical: every file the search left off the best
 * static tier goes back to it when that costs nothing.  The GA leaves
 * files whose tier does not matter wherever chance put them; as labels
 * those are noise the model would learn. */
static int polish(struct ga *ga, uint8_t *x, uint8_t base, double *fit, double *span, uint64_t *evals,
		  char *err, size_t errlen)
{
	int *place = ga->place[0];
	for (uint32_t f = 0; f < ga->nfiles; f++)
		place[f] = -1;
	for (uint32_t k = 0; k < ga->ngenes; k++)
		place[ga->gene_file[k]] = x[k];
	for (uint32_t k = 0; k < ga->ngenes; k++) {
		if (x[k] == base)
			continue;
		place[ga->gene_file[k]] = base;
		struct sim_result r;
		int rc = sim_run(ga->sims[0], NULL, place, &r, err, errlen);
		(*evals)++;
		if (rc < 0 && rc != -ENOSPC)
			return rc;
		if (rc == 0 && r.io_time <= *fit) {
			x[k] = base;
			*fit = r.io_time;
			*span = r.makespan;
		} else {
			place[ga->gene_file[k]] = x[k];
		}
	}
	return 0;
}

int ga_search(const wf_graph *g, const struct tcfg *cfg, const struct sim_config *sc,
	      const struct ga_params *p, const struct ga_seed *seeds, size_t nseeds, int *best,
	      struct ga_result *res, ga_progress_fn progress, void *progress_arg, char *err,
	      size_t errlen)
{
	int rc = check_params(p, err, errlen);
	if (rc < 0)
		return rc;
	if (cfg->ntiers < 1 || cfg->ntiers > 255) {
		seterr(err, errlen, "genetic algorithm: the configuration has %zu tiers (1..255)", cfg->ntiers);
		return -EINVAL;
	}
	struct ga ga = {0};
	uint32_t *order = NULL;
	char (*seed_names)[64] = NULL;
	rc = setup(&ga, g, cfg, sc, p, err, errlen);
	if (rc < 0)
		goto out;
	size_t n = ga.ngenes;
	uint64_t rs = p->seed;
	uint64_t evals = 0;
	order = calloc(ga.pop, sizeof(*order));
	seed_names = calloc(ga.pop, sizeof(*seed_names));
	if (!order || !seed_names) {
		rc = -ENOMEM;
		goto out;
	}

	/* First generation: static tiers, seed policies, then random. */
	uint32_t i = 0;
	for (uint32_t t = 0; t < ga.ntiers && i < ga.pop; t++, i++) {
		memset(&ga.next[(size_t)i * n], (int)t, n);
		snprintf(seed_names[i], sizeof(seed_names[i]), "%s", cfg->tiers[t].name);
	}
	for (size_t s = 0; s < nseeds && i < ga.pop; s++, i++) {
		rc = policy_genes(&ga, seeds[s].policy, &ga.next[(size_t)i * n], err, errlen);
		if (rc < 0)
			goto out;
		snprintf(seed_names[i], sizeof(seed_names[i]), "%s", seeds[s].name);
	}
	uint32_t nseeded = i;
	for (; i < ga.pop; i++)
		for (size_t k = 0; k < n; k++)
			ga.next[(size_t)i * n + k] = (uint8_t)rndn(&rs, ga.ntiers);
	for (i = 0; i < ga.pop; i++)
		ga.dirty[i] = 1;
	rc = evaluate(&ga, &evals);
	if (rc < 0) {
		seterr(err, errlen, "%s", ga.werr);
		goto out;
	}
	double seed_best = INFINITY, static_best = INFINITY;
	const char *seed_best_name = "";
	int best_static = -1;
	for (i = 0; i < nseeded; i++) {
		if (ga.nfit[i] < seed_best) {
			seed_best = ga.nfit[i];
			seed_best_name = seed_names[i];
		}
		if (i < ga.ntiers && ga.nfit[i] < static_best) {
			static_best = ga.nfit[i];
			best_static = (int)i;
		}
	}

	uint32_t gen = 0, stale = 0;
	double best_fit = INFINITY;
	for (;;) {
		uint8_t *tmp = ga.genes;
		ga.genes = ga.next;
		ga.next = tmp;
		double *ft = ga.fit;
		ga.fit = ga.nfit;
		ga.nfit = ft;
		ft = ga.span;
		ga.span = ga.nspan;
		ga.nspan = ft;
		rank(&ga, order);
		double now = ga.fit[order[0]];
		if (gen == 0 || now < best_fit * (1 - p->tolerance) ||
		    (!isfinite(best_fit) && isfinite(now)))
			stale = 0;
		else
			stale++;
		if (now < best_fit)
			best_fit = now;
		gen++;
		if (progress)
			progress(progress_arg, gen, best_fit);
		if (gen >= p->max_generations || stale >= p->patience)
			break;
		breed(&ga, p, order, &rs);
		rc = evaluate(&ga, &evals);
		if (rc < 0) {
			seterr(err, errlen, "%s", ga.werr);
			goto out;
		}
	}
	if (!isfinite(best_fit)) {
		seterr(err, errlen,
		       "genetic algorithm: no placement fits the workflow's files on these tiers");
		rc = -ENOSPC;
		goto out;
	}
	uint8_t *x = &ga.genes[(size_t)order[0] * n];
	double best_span = ga.span[order[0]];
	if (p->polish && best_static >= 0) {
		rc = polish(&ga, x, (uint8_t)best_static, &best_fit, &best_span, &evals, err, errlen);
		if (rc < 0)
			goto out;
	}
	if (best) {
		for (uint32_t f = 0; f < ga.nfiles; f++)
			best[f] = -1;
		for (size_t k = 0; k < n; k++)
			best[ga.gene_file[k]] = x[k];
	}
	if (res) {
		*res = (struct ga_result){
			.best_io_time = best_fit,
			.best_makespan = best_span,
			.seed_io_time = seed_best,
			.generations = gen,
			.evaluations = evals,
			.genes = ga.ngenes,
		};
		snprintf(res->seed_name, sizeof(res->seed_name), "%s", seed_best_name);
	}
	rc = 0;
out:
	free(order);
	free(seed_names);
	ga_free(&ga);
	return rc;
}
