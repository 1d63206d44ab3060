/*
 * One client TLS connection on a connected, non-blocking TCP fd that the
 * library passed in: the handshake, record reads and writes, each one step
 * at a time (a step that would block says which direction it waits for),
 * and the classification of every failure into an enum chan_error plus a
 * text for the logs.
 *
 * Classification:
 *  - handshake, server certificate rejected by our verification:
 *    CHAN_E_TLS_UNKNOWN_CA (chain does not lead to AUTH), CHAN_E_TLS_EXPIRED
 *    (out of its dates), CHAN_E_TLS_NAME_MISMATCH (does not name HOST);
 *  - any other handshake failure, including an alert from the server, and
 *    (TLS 1.3) an alert that arrives before the first application byte:
 *    with TLS 1.3 the client finishes its handshake before the server has
 *    checked the client certificate, so a refused client certificate
 *    (expired, unknown CA) shows up on the first read: CHAN_E_TLS_HANDSHAKE,
 *    the text naming the alert;
 *  - a failing socket (reset, refused, broken pipe): CHAN_E_IO;
 *  - any other TLS failure after that: CHAN_E_TLS_PROTOCOL.
 */
#ifndef PKCS11WSOP_HELPER_TLS_CONN_H
#define PKCS11WSOP_HELPER_TLS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "helper/credentials.h"

#define TLS_FAILURE_TEXT_MAX 300

enum tls_step {
	TLS_STEP_DONE = 0,   /* finished (bytes moved, handshake complete) */
	TLS_STEP_WANT_READ,  /* call again when the fd is readable */
	TLS_STEP_WANT_WRITE, /* call again when the fd is writable */
	TLS_STEP_EOF,        /* the server closed the stream (reads only) */
	TLS_STEP_FAILED,     /* see the struct tls_failure */
};

struct tls_failure {
	uint32_t code; /* enum chan_error */
	char text[TLS_FAILURE_TEXT_MAX];
};

struct tls_conn {
	SSL *ssl;
	int fd;
	bool got_data;   /* an application byte has arrived */
	bool unflushed;  /* a write's records wait in the write buffer */
	bool last_full;  /* the last record read carried a full 16 KiB */
	size_t wbuf_len; /* the size of the write buffer under the SSL */
};

/* Prepares a client connection on fd for host (SNI and name check for a
 * name; IP check and no SNI for an address literal), with the context of
 * creds (built at the first connection: its failure is this one's). Takes fd over: it is
 * closed by tls_conn_end(), or here on failure. Returns 0 or an enum
 * chan_error with why. */
int tls_conn_start(struct tls_conn *c, struct creds *creds, int fd, const char *host,
                   struct tls_failure *why);

enum tls_step tls_conn_handshake(struct tls_conn *c, struct tls_failure *why);

/* Writes all len bytes (1..INT_MAX) as records gathered into one write()
 * where the socket takes them; after a WANT, call again with the same
 * bytes and length (the buffer may have moved). Before the first write on a connection that has not
 * yet received data, a refusal the server has already sent is reported. */
enum tls_step tls_conn_write(struct tls_conn *c, const uint8_t *buf, size_t len,
                             struct tls_failure *why);

/* Reads 1..cap bytes into buf: every record already received, up to cap;
 * *n is set on TLS_STEP_DONE. A wait, the end or a failure met after some
 * bytes is reported by the next call. */
enum tls_step tls_conn_read(struct tls_conn *c, uint8_t *buf, size_t cap, size_t *n,
                            struct tls_failure *why);

/* The last record read was a full one: the server is most likely still
 * writing the same answer (a sender fills its records), and more of it is
 * on its way. */
bool tls_conn_mid_stream(const struct tls_conn *c);

/* Received bytes are buffered in the TLS layer (read-ahead): a read may
 * make progress without the socket becoming readable. */
bool tls_conn_has_pending(const struct tls_conn *c);

/* Sends close_notify when it fits without waiting, frees the SSL, closes
 * the fd. Safe on a zeroed or already ended struct. */
void tls_conn_end(struct tls_conn *c);

/* The negotiated protocol name ("TLSv1.3") and cipher. */
const char *tls_conn_protocol(const struct tls_conn *c);
const char *tls_conn_cipher(const struct tls_conn *c);

#endif
