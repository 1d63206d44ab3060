/*
 * Which event loop serves a connection: the policy alone, without threads,
 * so that it is tested on its own (evloop.c measures and moves).
 *
 * Each loop's busy share is the part of its last window (LOOP_WINDOW_MS)
 * spent working rather than waiting in epoll_wait, in per mille. A loop is
 * busy when that share is above the threshold (--loop-busy, per mille
 * here). Light load is packed onto few loops: every loop wakes once for
 * all of its ready connections, so connections spread over idle loops
 * cost a wake-up each where one would do (a thread switch per request,
 * the largest part of a small request's cost). Load that keeps a loop
 * busy is spread: such a loop hands an active connection to another.
 *
 * Contract:
 *  - loop_pick_new() is the first loop that is not busy (the lowest index,
 *    so that light load stays together); when every loop is busy, the
 *    least busy one, fewer connections first on a tie. n >= 1.
 *  - loop_pick_relief() is, for loop self that is busy, the least busy
 *    other loop whose share is at most half the threshold (so that a
 *    connection moved there does not make it busy at once, and two loops
 *    near the threshold do not pass connections back and forth), or -1:
 *    self not busy, or no such loop. A threshold of 0 makes every loop
 *    that worked at all busy and relieved by an idle one.
 */
#ifndef WSOPD_LOOP_PICK_H
#define WSOPD_LOOP_PICK_H

#define LOOP_WINDOW_MS    100
#define LOOP_BUSY_DEFAULT 800 /* per mille */
#define LOOP_BUSY_MAX     1000

struct loop_stat {
	unsigned busy; /* per mille of the last window spent working */
	unsigned load; /* connections it serves */
};

unsigned loop_pick_new(const struct loop_stat *st, unsigned n, unsigned busy_threshold);
int loop_pick_relief(const struct loop_stat *st, unsigned n, unsigned self,
                     unsigned busy_threshold);

#endif
