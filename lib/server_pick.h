/*
 * Which of HOST's servers the next connection goes to, and which are set
 * aside after a failure. Pure bookkeeping on times given by the caller: no
 * clock, no network, no lock (the backend holds its lock around it).
 *
 * Contract:
 *  - Servers are numbered 0..n-1 in HOST order, n <= CONFIG_SERVERS_MAX;
 *    HOST order is the order of preference.
 *  - server_pick_failed() sets server i aside until now + its back-off:
 *    base_ms (at least SERVER_PICK_BACKOFF_MIN_MS) doubled for each
 *    failure in a row before this one, at most SERVER_PICK_BACKOFF_MAX_MS;
 *    it returns that back-off. server_pick_ok() clears i's failures.
 *  - server_pick_choose() gives the first server in HOST order that is not
 *    set aside at now and is not avoid; else avoid itself when it is not
 *    set aside; else (every server set aside) the one whose back-off ends
 *    first, so that a request always has a server to spend its retries on.
 *    avoid < 0 avoids none. *aside_ended (may be NULL) says whether the
 *    chosen server had failed and its back-off is over (it is being tried
 *    again).
 *  - server_pick_aside() is true while i is set aside.
 */
#ifndef PKCS11WSOP_LIB_SERVER_PICK_H
#define PKCS11WSOP_LIB_SERVER_PICK_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/config.h"

#define SERVER_PICK_BACKOFF_MIN_MS 1000
#define SERVER_PICK_BACKOFF_MAX_MS 60000

struct server_pick {
	unsigned n;
	int64_t aside_until[CONFIG_SERVERS_MAX]; /* ms; 0: never failed */
	unsigned failures[CONFIG_SERVERS_MAX];   /* in a row */
};

/* n is clamped to 1..CONFIG_SERVERS_MAX. */
void server_pick_init(struct server_pick *sp, unsigned n);
unsigned server_pick_choose(const struct server_pick *sp, int avoid, int64_t now_ms,
                            bool *aside_ended);
int64_t server_pick_failed(struct server_pick *sp, unsigned i, int64_t base_ms, int64_t now_ms);
void server_pick_ok(struct server_pick *sp, unsigned i);
bool server_pick_aside(const struct server_pick *sp, unsigned i, int64_t now_ms);

#endif
