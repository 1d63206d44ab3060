/* The pool of threads for blocking requests; see workers.h. */
#include "server/workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <openssl/crypto.h>

/* Handlers keep their big buffers on the heap. */
#define WORKER_STACK_SIZE (512 * 1024)
#define WORKERS_MAX       256

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct work *head, *tail;
	bool stopping;
	unsigned count;
	pthread_t threads[];
};

static void *worker_main(void *arg)
{
	struct workers *pool = arg;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		struct work *w = pool->head;

		if (w == NULL) {
			if (pool->stopping)
				break;
			pthread_cond_wait(&pool->ready, &pool->lock);
			continue;
		}
		pool->head = w->next;
		if (pool->head == NULL)
			pool->tail = NULL;
		pthread_mutex_unlock(&pool->lock);
		w->run(w);
		pthread_mutex_lock(&pool->lock);
	}
	pthread_mutex_unlock(&pool->lock);
	OPENSSL_thread_stop();
	return NULL;
}

int workers_start(struct workers **out, unsigned n)
{
	struct workers *pool;
	pthread_attr_t attr;
	int r;

	*out = NULL;
	if (n == 0 || n > WORKERS_MAX)
		return -EINVAL;
	pool = calloc(1, sizeof(*pool) + n * sizeof(pthread_t));
	if (pool == NULL)
		return -ENOMEM;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->ready, NULL);
	r = pthread_attr_init(&attr);
	if (r != 0) {
		workers_stop(pool);
		return -r;
	}
	(void)pthread_attr_setstacksize(&attr, WORKER_STACK_SIZE);
	for (; pool->count < n; pool->count++) {
		r = pthread_create(&pool->threads[pool->count], &attr, worker_main, pool);
		if (r != 0)
			break;
	}
	pthread_attr_destroy(&attr);
	if (r != 0) {
		workers_stop(pool);
		return -r;
	}
	*out = pool;
	return 0;
}

void workers_submit(struct workers *pool, struct work *w)
{
	w->next = NULL;
	pthread_mutex_lock(&pool->lock);
	if (pool->tail != NULL)
		pool->tail->next = w;
	else
		pool->head = w;
	pool->tail = w;
	pthread_cond_signal(&pool->ready);
	pthread_mutex_unlock(&pool->lock);
}

void workers_stop(struct workers *pool)
{
	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->ready);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned i = 0; i < pool->count; i++)
		pthread_join(pool->threads[i], NULL);
	pthread_cond_destroy(&pool->ready);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}
