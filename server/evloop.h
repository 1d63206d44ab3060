/*
 * wsopd's event loops: a few threads, each with its own epoll set, that
 * serve the connections whose handshake is done (conn.c does the
 * handshake, server.c hands the connection over).
 *
 * Contract:
 *  - evloops_adopt() gives a verified connection (its SSL on the
 *    non-blocking fd, the client's names) to the first loop that is not
 *    busy (loop_pick.h); the loops own ssl and fd from then on and call
 *    cfg->closed(cfg->arg) once when one has closed them.
 *  - A loop measures the share of each LOOP_WINDOW_MS it spends working;
 *    when that is above cfg->busy_threshold it hands one connection that
 *    was active in the window, between two of its requests, to the least
 *    busy loop with time to spare (at most one per window), which serves
 *    it from then on. Nothing is in flight on a connection that moves.
 *  - Per wake-up a loop drives every ready connection: it reads (TLS
 *    read-ahead), answers every whole request in its buffer (pipelined
 *    ones one after the other, their answers written together), keeps a
 *    partial request for the next wake-up, and writes without blocking
 *    (what cannot be written waits for the socket to be writable).
 *  - The loop runs encrypt, decrypt, random and health itself
 *    (exchange_inline_ok); every other request goes to cfg->workers, the
 *    connection waits without a read until its answer comes back, and the
 *    loop goes on with the others. The answer's delay (wrong passphrase)
 *    is a timer of the loop.
 *  - The deadlines and answers of conn.h hold unchanged: a request head
 *    within cfg->head_ms of its first byte, the whole request within
 *    CONN_REQUEST_TIMEOUT_MS, an answer written within
 *    CONN_REQUEST_TIMEOUT_MS, an idle connection closed after
 *    cfg->idle_ms; codec errors answered (400/413/414/431), then
 *    what the client still sends discarded for a moment, then close.
 *    Request bytes and answers are wiped once used. Logs as conn.h says.
 *  - Once *cfg->stopping is set and evloops_kick() called, idle
 *    connections close at once and busy ones after their current answer.
 *    evloops_stop() (after the last evloops_adopt) waits until every
 *    connection has closed, then ends the loops and frees them.
 */
#ifndef WSOPD_EVLOOP_H
#define WSOPD_EVLOOP_H

#include <stdatomic.h>
#include <stdbool.h>

#include <openssl/ssl.h>

#include "server/app.h"
#include "server/exchange.h"
#include "server/workers.h"

#define EVLOOPS_MAX 64

struct evloop_config {
	struct app *app;
	struct workers *workers;
	const atomic_bool *stopping;
	int head_ms;
	int idle_ms;
	bool store_shared; /* PostgreSQL: no request runs on a loop */
	/* Per mille of a window's time working above which a loop is busy
	 * (loop_pick.h): new connections go to the first loop that is not,
	 * and a busy loop hands active connections to an idle one. */
	unsigned busy_threshold;
	void (*closed)(void *arg);
	void *arg;
};

struct evloops;

/* n loops (1-EVLOOPS_MAX): 0 or a negative errno. */
int evloops_start(struct evloops **out, unsigned n, const struct evloop_config *cfg);

/* False (nothing taken) when out of memory. */
bool evloops_adopt(struct evloops *all, SSL *ssl, int fd, const struct conn_names *names);

/* *cfg->stopping has been set: every loop looks at its connections. */
void evloops_kick(struct evloops *all);

void evloops_stop(struct evloops *all);

#endif
