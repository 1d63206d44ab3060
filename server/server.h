/*
 * wsopd's accept loop and threading model.
 *
 * One thread (the caller of server_run) accepts; each accepted connection
 * gets its own thread for its handshake (conn_serve), which then hands a
 * served connection to an event loop (evloop.h; `event_loops` of them,
 * with `threads` workers for the requests that may wait) or, with
 * event_loops 0, serves it itself. Two budgets bound them:
 *  - max_handshakes TLS handshakes in progress at once, shared fairly
 *    between source addresses (gate.h), each ended handshake_timeout_s
 *    after the accept. A connection that finds no room waits (accepted,
 *    no thread yet) for a place in a waiting room of max(max_clients,
 *    max_handshakes) places, at most until that deadline, then is closed;
 *    when the room is full it is closed at once.
 *  - max_clients connections whose handshake succeeded with a verified
 *    client certificate: only they are served. Beyond that, a few at once
 *    are answered 503 busy, the rest closed (with a warning).
 * So strangers who open connections and send nothing, or a byte now and
 * then, can never take the places of clients with a certificate, and an
 * idle keep-alive client never holds up anybody else. Request processing
 * itself is bounded: by the loops and `threads` workers, or with
 * event_loops 0 by `threads` (a semaphore), whatever the number of
 * connections.
 *
 * A served connection is closed after idle_timeout_s without a request.
 *
 * Shutdown: when signal_fd (a signalfd for SIGTERM/SIGINT) becomes
 * readable, the listening socket is closed, every connection thread is
 * told to stop (idle ones close at once, busy ones after their current
 * answer), connections waiting for a handshake place are closed, handshakes
 * in progress end, and server_run returns 0 once they have all ended.
 */
#ifndef WSOPD_SERVER_H
#define WSOPD_SERVER_H

#include <stdbool.h>

#include <openssl/ssl.h>

#include "server/app.h"

struct server_config {
	SSL_CTX *tls;
	struct app *app;
	int listen_fd; /* non-blocking, listening; closed by server_run */
	int signal_fd; /* readable on SIGTERM/SIGINT */
	unsigned threads;
	unsigned max_clients;
	unsigned max_handshakes;
	unsigned handshake_timeout_s;
	unsigned head_timeout_s;
	unsigned idle_timeout_s;
	/* Event loops that serve the verified connections (evloop.h), with
	 * `threads` workers for the slow requests; 0: each connection keeps
	 * its handshake thread; negative: one loop per CPU. */
	int event_loops;
	unsigned loop_busy; /* per mille: evloop_config.busy_threshold */
	bool store_shared;  /* PostgreSQL: every request goes to a worker */
};

/* 0 after a clean shutdown; a negative errno when the loop cannot run. */
int server_run(const struct server_config *cfg);

#endif
