/*
 * One client connection, from TLS handshake to close, on the calling
 * thread: read a request (bounded buffer, ipc/http.h parser), route it,
 * answer, repeat while keep-alive holds.
 *
 * Contract:
 *  - The socket is non-blocking and every wait is a poll() against an
 *    absolute deadline, so a peer that trickles bytes cannot stretch it:
 *      the TLS handshake ends within env->handshake_ms of the accept;
 *      a request head within env->head_ms of its first byte, the whole
 *      request within CONN_REQUEST_TIMEOUT_MS;
 *      an answer is written within CONN_REQUEST_TIMEOUT_MS;
 *      an idle keep-alive connection is closed after env->idle_ms.
 *  - env->handshake_done(arg, verified) is called exactly once, when the
 *    handshake has ended (verified: it succeeded with a verified client
 *    certificate) and before the socket is closed; its answer says whether
 *    the connection is served, answered 503 busy (whatever the request,
 *    then closed) or closed at once. A handshake also ends early when the
 *    socket is shut down by somebody else or env->stop_fd becomes readable.
 *  - Codec errors are answered (400 bad_http, 413 too_large,
 *    414 uri_too_long, 431 header_too_large) and the connection closed.
 *  - At most env->slots requests are processed at once (a semaphore
 *    around the handler); the answer's delay (wrong passphrase) is waited
 *    out after the slot is released.
 *  - When env->stop_fd becomes readable (env->stopping set just before),
 *    an idle connection closes at once and a busy one after its current
 *    answer.
 *  - Request bytes (which may hold passphrases or plaintext) are wiped
 *    from the buffers once handled.
 *  - Every request is logged at INFO, every refusal at WARNING with its
 *    cause; never a body.
 *  - conn_serve() closes fd, unless env->adopt took it.
 */
#ifndef WSOPD_CONN_H
#define WSOPD_CONN_H

#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "server/app.h"
#include "server/exchange.h"

#define CONN_REQUEST_TIMEOUT_MS 30000
/* After refusing a request, what the client still sends is read and
 * discarded for a moment, so that the answer is not lost to a TCP reset. */
#define CONN_DRAIN_TIMEOUT_MS 1000
#define CONN_DRAIN_MAX_BYTES  (HTTP_MAX_BODY + HTTP_MAX_HEAD)
/* The TLS read-ahead buffer of a connection (kept while it lives): four
 * full records, so a 64 KiB request takes two reads. */
#define CONN_READ_AHEAD (64 * 1024)

/* What becomes of a connection once its handshake has ended. */
enum conn_admit {
	CONN_SERVE, /* serve its requests */
	CONN_BUSY,  /* answer 503 busy once, then close */
	CONN_DROP,  /* close at once */
	/* The handshake failed because the server ended it to make room
	 * (and said so in its log): close without another warning. */
	CONN_EVICTED,
};

struct conn_env {
	SSL_CTX *tls;
	struct app *app;
	sem_t *slots;
	int stop_fd;
	/* Set before stop_fd becomes readable: read between requests without
	 * a system call. */
	const atomic_bool *stopping;
	int handshake_ms;
	int head_ms;
	int idle_ms;
	enum conn_admit (*handshake_done)(void *arg, bool verified);
	/* When set, a connection to serve is handed over once verified: true
	 * when the callee took ssl and fd (conn_serve then returns without
	 * closing them), false to serve it on this thread. */
	bool (*adopt)(void *arg, SSL *ssl, int fd, const struct conn_names *names);
};

/* fd: a connected, non-blocking socket accepted at accepted_ms
 * (mono_ms()); arg is passed to env->handshake_done. */
void conn_serve(const struct conn_env *env, int fd, const char *peer, int64_t accepted_ms,
                void *arg);

#endif
