/*
 * A TLS server in a thread of the test, for the attacks on the helper: it
 * listens on 127.0.0.1 (a free port), presents the certificate it is given
 * (e.g. a server of the right CA for another name), asks for a client
 * certificate from the CA given, and counts what each connection showed
 * it: whether any byte arrived (a ClientHello), whether the handshake
 * completed, whether the client presented a certificate.
 *
 * Connections are served one after another, each bounded by a 5 s receive
 * timeout, so a test can wait for "done" to reach the number it made.
 */
#ifndef PKCS11WSOP_TESTS_HELPER_ROGUE_TLS_H
#define PKCS11WSOP_TESTS_HELPER_ROGUE_TLS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct rogue_tls {
	int listener;
	char port[8];
	SSL_CTX *ctx;
	pthread_t thread;
	atomic_bool stop;
	atomic_int done;         /* connections accepted and finished with */
	atomic_int hellos;       /* ... that sent at least one byte */
	atomic_int handshakes;   /* ... whose TLS handshake completed */
	atomic_int client_certs; /* ... whose client presented a certificate */
	size_t answer_len;       /* see rogue_tls_start_answering */
};

/* Returns 0, or -1 with the reason on stderr. */
int rogue_tls_start(struct rogue_tls *r, const char *cert, const char *key, const char *ca);

/* The same server, which after a completed handshake reads a request (any
 * bytes), answers answer_len bytes of rogue_tls_byte(0..) in one SSL_write
 * (so in full records but the last), then waits for the client to close. */
int rogue_tls_start_answering(struct rogue_tls *r, const char *cert, const char *key,
                              const char *ca, size_t answer_len);
/* Byte i of such an answer. */
uint8_t rogue_tls_byte(size_t i);

/* Waits up to timeout_ms until done >= n; returns the last done count. */
int rogue_tls_wait_done(struct rogue_tls *r, int n, int timeout_ms);

void rogue_tls_stop(struct rogue_tls *r);

#endif
