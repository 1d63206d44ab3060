/*
 * The module's helper processes as seen from the test: children of this
 * process (any of its threads) whose name is the helper's, found through
 * /proc/self/task/TID/children, killed on demand, and watched so that a
 * helper that died without the test killing it is counted.
 *
 * Contract:
 *  - helper_watch_poll() compares the live helpers (zombies count as
 *    dead) with those seen by the previous poll: one that is gone and was
 *    not killed through helper_watch_kill() counts as unexplained. Poll
 *    often (every 50 ms or so): a helper that lived between two polls is
 *    never seen, which only makes the count an under-estimate.
 *  - helper_watch_kill() SIGKILLs one live helper and returns its pid, or
 *    0 when none runs.
 *  - Not thread-safe: one thread drives a watch.
 */
#ifndef PKCS11WSOP_TESTS_FAULTS_CHILDREN_H
#define PKCS11WSOP_TESTS_FAULTS_CHILDREN_H

#include <stdbool.h>
#include <sys/types.h>

#define HELPER_WATCH_MAX 64

struct helper_watch {
	struct {
		pid_t pid;
		bool killed;
	} seen[HELPER_WATCH_MAX];
	unsigned n;
	unsigned long spawned;     /* distinct helpers seen */
	unsigned long kills;       /* helpers this test killed */
	unsigned long unexplained; /* helpers that died on their own */
};

void helper_watch_poll(struct helper_watch *w);
pid_t helper_watch_kill(struct helper_watch *w);
/* Sleeps ms (by the clock now_ms) while polling every
 * HELPER_WATCH_TICK_MS. */
#define HELPER_WATCH_TICK_MS 50
void helper_watch_for(struct helper_watch *w, unsigned ms, long long (*now_ms)(void));

/* How many helpers are alive now. */
unsigned helper_watch_live(void);

#endif
