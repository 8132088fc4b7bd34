/*
 * pool.c - a fixed pool of worker threads for the trainer's parallel loops.
 *
 * The caller runs tasks too, so a pool of N threads has N-1 workers.  Tasks
 * are claimed from one atomic word holding the generation (which call of
 * lrn_pool_run) and the next task, so a worker that wakes late can never
 * take a task of a later call; which thread runs a task never changes a
 * result, because every task writes only its own output.  A call returns
 * when all its tasks are done, not when every worker has looked in: on a
 * loaded machine a worker that is not scheduled in time costs nothing, the
 * caller simply runs more of the tasks itself.  Both sides spin a little
 * (SPIN pauses, some tens of microseconds) before they sleep: the trainer
 * calls the pool a few dozen times per round, and a sleeping thread pays
 * a scheduler wake-up each time, milliseconds on a loaded machine.
 * Lock: mu protects gen, fn, arg, ntasks and stop (workers read them under
 * it); claim, ndone and agen (a copy of gen for spinning) are atomics;
 * done is signalled under mu.
 */
#include "lrn_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

#define SPIN 4096

struct lrn_pool {
	int n;
	pthread_t *th;
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	unsigned long gen;
	lrn_task_fn fn;
	void *arg;
	size_t ntasks;
	_Atomic uint64_t claim; /* generation << 32 | next task */
	atomic_size_t ndone;	/* tasks of the current generation finished */
	atomic_ulong agen;
	int stop;
};

struct worker_arg {
	struct lrn_pool *p;
	int id;
};

/* Claim and run tasks of generation gen until none is left. */
static void drain(struct lrn_pool *p, lrn_task_fn fn, void *arg, size_t ntasks, uint32_t gen, int id)
{
	for (;;) {
		uint64_t s = atomic_load(&p->claim);
		do {
			if ((uint32_t)(s >> 32) != gen || (s & 0xffffffffu) >= ntasks)
				return;
		} while (!atomic_compare_exchange_weak(&p->claim, &s, s + 1));
		fn(arg, (size_t)(s & 0xffffffffu), id);
		if (atomic_fetch_add(&p->ndone, 1) + 1 == ntasks) {
			pthread_mutex_lock(&p->mu);
			pthread_cond_signal(&p->done);
			pthread_mutex_unlock(&p->mu);
		}
	}
}

static void *worker(void *v)
{
	struct worker_arg *wa = v;
	struct lrn_pool *p = wa->p;
	int id = wa->id;
	unsigned long seen = 0;
	free(wa);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (!p->stop && p->gen == seen) {
			pthread_mutex_unlock(&p->mu);
			for (int i = 0; i < SPIN && atomic_load(&p->agen) == seen; i++)
				cpu_relax();
			pthread_mutex_lock(&p->mu);
		}
		while (!p->stop && p->gen == seen)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->stop)
			break;
		seen = p->gen;
		lrn_task_fn fn = p->fn;
		void *arg = p->arg;
		size_t nt = p->ntasks;
		pthread_mutex_unlock(&p->mu);
		drain(p, fn, arg, nt, (uint32_t)seen, id);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int lrn_pool_create(int nthreads, struct lrn_pool **out)
{
	struct lrn_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->n = nthreads < 1 ? 1 : nthreads;
	p->th = calloc((size_t)p->n, sizeof(pthread_t));
	if (!p->th) {
		free(p);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	for (int i = 1; i < p->n; i++) {
		struct worker_arg *wa = malloc(sizeof(*wa));
		if (wa) {
			wa->p = p;
			wa->id = i;
		}
		if (!wa || pthread_create(&p->th[i], NULL, worker, wa) != 0) {
			free(wa);
			p->n = i; /* destroy joins the ones started */
			lrn_pool_destroy(p);
			return -EAGAIN;
		}
	}
	*out = p;
	return 0;
}

int lrn_pool_size(const struct lrn_pool *p)
{
	return p->n;
}

void lrn_pool_run(struct lrn_pool *p, lrn_task_fn fn, void *arg, size_t ntasks)
{
	if (p->n == 1 || ntasks <= 1 || ntasks > 0xffffffffu) {
		for (size_t i = 0; i < ntasks; i++)
			fn(arg, i, 0);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->arg = arg;
	p->ntasks = ntasks;
	p->gen++;
	const uint32_t gen = (uint32_t)p->gen;
	atomic_store(&p->ndone, 0);
	atomic_store(&p->claim, (uint64_t)gen << 32);
	atomic_store(&p->agen, p->gen);
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	drain(p, fn, arg, ntasks, gen, 0);
	for (int i = 0; i < SPIN && atomic_load(&p->ndone) != ntasks; i++)
		cpu_relax();
	if (atomic_load(&p->ndone) == ntasks)
		return;
	pthread_mutex_lock(&p->mu);
	while (atomic_load(&p->ndone) != ntasks)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void lrn_pool_destroy(struct lrn_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	atomic_store(&p->agen, p->gen + 1); /* ends a worker's spin */
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (int i = 1; i < p->n; i++)
		pthread_join(p->th[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->done);
	free(p->th);
	free(p);
}
