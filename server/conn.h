/*
 * One client connection, from TLS handshake to close, on the calling
 * thread: read a request (bounded buffer, ipc/http.h parser), route it,
 * answer, repeat while keep-alive holds.
 *
 * Contract:
 *  - Timeouts: the handshake and each request must complete within
 *    CONN_REQUEST_TIMEOUT_MS; an idle keep-alive connection is closed after
 *    CONN_IDLE_TIMEOUT_MS. A write that stalls that long also closes it.
 *  - Codec errors are answered (400 bad_http, 413 too_large,
 *    414 uri_too_long, 431 header_too_large) and the connection closed.
 *  - At most env->slots requests are processed at once (a semaphore
 *    around the handler); the answer's delay (wrong passphrase) is waited
 *    out after the slot is released.
 *  - When env->stop_fd becomes readable, an idle connection closes at once
 *    and a busy one after its current answer.
 *  - Request bytes (which may hold passphrases or plaintext) are wiped
 *    from the buffers once handled.
 *  - Every request is logged at INFO, every refusal at WARNING with its
 *    cause; never a body.
 *  - conn_serve() closes fd.
 */
#ifndef WSOPD_CONN_H
#define WSOPD_CONN_H

#include <semaphore.h>

#include <openssl/ssl.h>

#include "server/app.h"

#define CONN_IDLE_TIMEOUT_MS    30000
#define CONN_REQUEST_TIMEOUT_MS 30000

struct conn_env {
	SSL_CTX *tls;
	struct app *app;
	sem_t *slots;
	int stop_fd;
};

void conn_serve(const struct conn_env *env, int fd, const char *peer);

/* For a connection over --max-clients: a short handshake (a few seconds
 * at most), one 503 busy answer whatever the request, close. Closes fd. */
void conn_refuse_busy(const struct conn_env *env, int fd, const char *peer);

#endif
