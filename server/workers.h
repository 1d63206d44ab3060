/*
 * A fixed pool of threads for the requests that may block (a passphrase
 * KDF, a commit waiting for its fsync, PostgreSQL, the store mutex held by
 * such a request), so that the event loops never wait on them.
 *
 * Contract:
 *  - workers_start() starts n threads (1-256); each takes one job at a
 *    time, oldest first, and calls job->run(job) with no lock held.
 *  - workers_submit() never blocks on a running job; the job must stay
 *    valid until its run() has returned (run() usually hands it back to
 *    its owner, see evloop.c).
 *  - workers_stop() runs the jobs still queued, then joins every thread
 *    and frees the pool.
 */
#ifndef WSOPD_WORKERS_H
#define WSOPD_WORKERS_H

struct work {
	void (*run)(struct work *w);
	struct work *next; /* the pool's */
};

struct workers;

/* 0 or a negative errno. */
int workers_start(struct workers **out, unsigned n);
void workers_submit(struct workers *pool, struct work *w);
void workers_stop(struct workers *pool);

#endif
