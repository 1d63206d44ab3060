/*
 * wsopd's accept loop and threading model.
 *
 * One thread (the caller of server_run) accepts; each accepted connection
 * gets its own thread (conn_serve) up to max_clients open connections, so
 * an idle keep-alive client never holds up anybody else; beyond that, new
 * connections are accepted and closed at once (with a warning). Request
 * processing itself is bounded by `threads` (a semaphore), so at most that
 * many handlers run at once, whatever the number of connections.
 *
 * Shutdown: when signal_fd (a signalfd for SIGTERM/SIGINT) becomes
 * readable, the listening socket is closed, every connection thread is
 * told to stop (idle ones close at once, busy ones after their current
 * answer) and server_run returns 0 once they have all ended.
 */
#ifndef WSOPD_SERVER_H
#define WSOPD_SERVER_H

#include <openssl/ssl.h>

#include "server/app.h"

struct server_config {
	SSL_CTX *tls;
	struct app *app;
	int listen_fd; /* non-blocking, listening; closed by server_run */
	int signal_fd; /* readable on SIGTERM/SIGINT */
	unsigned threads;
	unsigned max_clients;
};

/* 0 after a clean shutdown; a negative errno when the loop cannot run. */
int server_run(const struct server_config *cfg);

#endif
