#include "bench/bench_run.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Where the threads wait after their setup so that the timed part starts
 * together; the main thread opens it (go) or, when not every thread could
 * be started, cancels it. */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned ready;
	bool go, cancelled;
};

struct worker {
	const struct bench_workload *workload;
	struct gate *gate, *end_gate;
	unsigned index;
	uint64_t ops_target; /* 0: until deadline */
	uint64_t run_ns;     /* time mode only */
	unsigned warmup;
	uint64_t *samples;
	size_t cap;
	/* results */
	bool init_failed;
	uint64_t ops, errors, start_ns, end_ns, first_error_ns;
	size_t sampled;
	char first_error[BENCH_ERROR_MAX];
};

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void note_error(struct worker *w, const char *why)
{
	if (w->errors++ == 0) {
		w->first_error_ns = bench_now_ns();
		snprintf(w->first_error, sizeof(w->first_error), "thread %u: %s", w->index, why);
	}
}

/* Says this thread is ready and waits for the gate; false: cancelled. */
static bool gate_pass(struct gate *g)
{
	bool go;

	pthread_mutex_lock(&g->lock);
	g->ready++;
	pthread_cond_broadcast(&g->cond);
	while (!g->go && !g->cancelled)
		pthread_cond_wait(&g->cond, &g->lock);
	go = g->go;
	pthread_mutex_unlock(&g->lock);
	return go;
}

/* Waits until n threads are ready at the gate. */
static void gate_wait_ready(struct gate *g, unsigned n)
{
	pthread_mutex_lock(&g->lock);
	while (g->ready < n)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

/* Opens (go) or cancels the gate. */
static void gate_release(struct gate *g, bool go)
{
	pthread_mutex_lock(&g->lock);
	g->go = go;
	g->cancelled = !go;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct bench_workload *wl = w->workload;
	char err[BENCH_ERROR_MAX] = "";
	void *ctx = NULL;

	if (wl->thread_init(wl->shared, w->index, &ctx, err, sizeof(err)) != 0) {
		w->init_failed = true;
		snprintf(w->first_error, sizeof(w->first_error), "thread %u: setup: %s", w->index,
		         err);
		/* The others wait until every thread is ready, and then until
		 * every thread is done: count in at both. */
		if (gate_pass(w->gate))
			gate_pass(w->end_gate);
		return NULL;
	}
	for (unsigned i = 0; i < w->warmup; i++) {
		if (wl->op(ctx, err, sizeof(err)) != 0)
			note_error(w, err);
	}
	if (!gate_pass(w->gate)) {
		w->init_failed = true;
		snprintf(w->first_error, sizeof(w->first_error), "cancelled");
		if (wl->thread_done != NULL)
			wl->thread_done(ctx);
		return NULL;
	}

	w->start_ns = bench_now_ns();
	uint64_t deadline = w->start_ns + w->run_ns;
	uint64_t now = w->start_ns;
	while (w->ops_target > 0 ? w->ops < w->ops_target : now < deadline) {
		uint64_t t0 = now;
		if (wl->op(ctx, err, sizeof(err)) != 0)
			note_error(w, err);
		now = bench_now_ns();
		if (w->sampled < w->cap)
			w->samples[w->sampled++] = now - t0;
		w->ops++;
	}
	w->end_ns = now;
	gate_pass(w->end_gate);
	if (wl->thread_done != NULL)
		wl->thread_done(ctx);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int plan_valid(const struct bench_plan *plan)
{
	if (plan->threads < 1 || plan->threads > BENCH_THREADS_MAX)
		return -EINVAL;
	if (plan->ops == 0 && (plan->seconds < 1 || plan->seconds > BENCH_SECONDS_MAX))
		return -EINVAL;
	if (plan->ops > BENCH_OPS_MAX || plan->warmup > 1000000)
		return -EINVAL;
	return 0;
}

/* The per-thread sample capacity, bounded before anything is allocated. */
static size_t sample_cap(const struct bench_plan *plan, unsigned index)
{
	uint64_t n;

	if (plan->ops > 0)
		n = plan->ops / plan->threads + (index < plan->ops % plan->threads ? 1 : 0);
	else
		n = BENCH_SAMPLES_PER_SECOND * plan->seconds;
	return (size_t)(n < BENCH_SAMPLES_MAX ? n : BENCH_SAMPLES_MAX);
}

/* Folds the workers into result: counts, wall time, the earliest error,
 * and all samples in one sorted array. */
static int merge(struct worker *w, unsigned n, struct bench_result *result)
{
	uint64_t first_start = UINT64_MAX, last_end = 0, first_error_ns = UINT64_MAX;
	size_t total = 0;
	bool init_failed = false;

	for (unsigned i = 0; i < n; i++) {
		if (w[i].init_failed) {
			if (!init_failed)
				memcpy(result->first_error, w[i].first_error,
				       sizeof(result->first_error));
			init_failed = true;
			continue;
		}
		result->ops += w[i].ops;
		result->errors += w[i].errors;
		total += w[i].sampled;
		if (w[i].start_ns < first_start)
			first_start = w[i].start_ns;
		if (w[i].end_ns > last_end)
			last_end = w[i].end_ns;
		if (!init_failed && w[i].errors > 0 && w[i].first_error_ns < first_error_ns) {
			first_error_ns = w[i].first_error_ns;
			memcpy(result->first_error, w[i].first_error, sizeof(result->first_error));
		}
	}
	if (last_end > first_start)
		result->wall_s = (double)(last_end - first_start) / 1e9;
	if (total > 0) {
		result->samples = malloc(total * sizeof(*result->samples));
		if (result->samples == NULL)
			return -ENOMEM;
		for (unsigned i = 0; i < n; i++) {
			memcpy(result->samples + result->sampled, w[i].samples,
			       w[i].sampled * sizeof(*result->samples));
			result->sampled += w[i].sampled;
		}
		qsort(result->samples, result->sampled, sizeof(*result->samples), cmp_u64);
	}
	return init_failed ? -EIO : 0;
}

int bench_run(const struct bench_workload *workload, const struct bench_plan *plan,
              struct bench_result *result)
{
	pthread_t tids[BENCH_THREADS_MAX];
	struct gate gate = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	struct gate end_gate = { .lock = PTHREAD_MUTEX_INITIALIZER,
		                 .cond = PTHREAD_COND_INITIALIZER };
	struct worker *w;
	unsigned started = 0;
	int rc = 0;

	memset(result, 0, sizeof(*result));
	if (plan_valid(plan) != 0 || workload == NULL || workload->thread_init == NULL ||
	    workload->op == NULL)
		return -EINVAL;
	w = calloc(plan->threads, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < plan->threads; i++) {
		w[i].workload = workload;
		w[i].gate = &gate;
		w[i].end_gate = &end_gate;
		w[i].index = i;
		w[i].warmup = plan->warmup;
		w[i].cap = sample_cap(plan, i);
		w[i].ops_target = plan->ops > 0 ? w[i].cap : 0;
		w[i].run_ns = (uint64_t)plan->seconds * 1000000000ULL;
		w[i].samples = calloc(w[i].cap > 0 ? w[i].cap : 1, sizeof(*w[i].samples));
		if (w[i].samples == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (; started < plan->threads; started++) {
		if (pthread_create(&tids[started], NULL, worker_main, &w[started]) != 0)
			break;
	}
	if (started == plan->threads) {
		gate_wait_ready(&gate, started);
		if (workload->timed_start != NULL)
			workload->timed_start(workload->shared);
		gate_release(&gate, true);
		gate_wait_ready(&end_gate, started);
		if (workload->timed_end != NULL)
			workload->timed_end(workload->shared);
		gate_release(&end_gate, true);
	} else {
		gate_release(&gate, false);
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (started < plan->threads) {
		rc = -EAGAIN;
		goto out;
	}
	rc = merge(w, plan->threads, result);
out:
	for (unsigned i = 0; i < plan->threads; i++)
		free(w[i].samples);
	free(w);
	return rc;
}

void bench_result_free(struct bench_result *result)
{
	if (result == NULL)
		return;
	free(result->samples);
	memset(result, 0, sizeof(*result));
}
