/*
 * The benchmark driver shared by p11bench and restbench: T threads, each
 * with its own workload state, run one operation over and over for a fixed
 * number of operations or a fixed time, and every operation's latency is
 * kept.
 *
 * Contract:
 *  - bench_run() starts plan->threads threads. Each calls
 *    workload->thread_init (its own session or connection), runs
 *    plan->warmup untimed operations, then waits for all the others at a
 *    barrier so that the timed part starts together. The timed part ends
 *    after the thread's share of plan->ops (ops > 0; shares differ by at
 *    most one) or when plan->seconds have passed (ops == 0).
 *    workload->thread_done is called for every thread whose init succeeded,
 *    only once every thread has finished its timed part, so that no
 *    thread's clean-up (closing sessions, destroying objects) runs inside
 *    another's measurement.
 *  - workload->timed_start and workload->timed_end, when set, are called by
 *    the calling thread: the first when every thread is ready and none has
 *    started its timed part, the second when every thread has finished it
 *    and none has begun thread_done. Both are outside every timed interval
 *    (p11bench samples CPU time there).
 *  - Latencies are stored in one array per thread allocated before the
 *    threads start (never during the timed part). In time mode the array
 *    holds BENCH_SAMPLES_PER_SECOND * seconds samples at most; operations
 *    beyond that still count in ops but are not sampled (result->sampled
 *    says how many were).
 *  - An operation that fails (op returns non-zero) counts in errors; the
 *    text op wrote for the earliest failure is kept in first_error. Failed
 *    operations are timed and sampled like the others.
 *  - Returns 0 with *result filled (free it with bench_result_free), or a
 *    negative errno: -EINVAL for a bad plan, -ENOMEM, -EAGAIN when a thread
 *    could not be created, or -EIO when a
 *    thread's init failed (its reason is in result->first_error; the
 *    result is still filled and must be freed).
 */
#ifndef PKCS11WSOP_BENCH_BENCH_RUN_H
#define PKCS11WSOP_BENCH_BENCH_RUN_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_THREADS_MAX        64
#define BENCH_SECONDS_MAX        3600
#define BENCH_OPS_MAX            100000000ULL
#define BENCH_SAMPLES_PER_SECOND 100000ULL
/* Per thread; 8 bytes each, so at most 32 MiB of samples per thread. */
#define BENCH_SAMPLES_MAX (4ULL * 1024 * 1024)
#define BENCH_ERROR_MAX   256

struct bench_workload {
	void *shared; /* handed to thread_init */
	/* 0 and *ctx, or non-zero with the reason in err. */
	int (*thread_init)(void *shared, unsigned index, void **ctx, char *err, size_t cap);
	/* One operation: 0, or non-zero with the reason in err. */
	int (*op)(void *ctx, char *err, size_t cap);
	void (*thread_done)(void *ctx);
	void (*timed_start)(void *shared); /* optional */
	void (*timed_end)(void *shared);   /* optional */
};

struct bench_plan {
	unsigned threads; /* 1..BENCH_THREADS_MAX */
	uint64_t ops;     /* total over all threads; 0: run for seconds */
	unsigned seconds; /* 1..BENCH_SECONDS_MAX when ops == 0 */
	unsigned warmup;  /* untimed operations per thread first */
};

struct bench_result {
	uint64_t ops;      /* timed operations, failed ones included */
	uint64_t errors;   /* failed operations, warm-up included */
	double wall_s;     /* first thread's start to last thread's end */
	uint64_t *samples; /* latencies in ns, sorted ascending */
	size_t sampled;
	char first_error[BENCH_ERROR_MAX]; /* "" when none */
};

int bench_run(const struct bench_workload *workload, const struct bench_plan *plan,
              struct bench_result *result);
void bench_result_free(struct bench_result *result);

/* Monotonic clock in ns. */
uint64_t bench_now_ns(void);

#endif
