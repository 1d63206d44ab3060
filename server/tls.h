/*
 * wsopd's TLS side: the server context and the client identity.
 *
 * Contract:
 *  - TLS 1.2 or later only; a client certificate is required and must chain
 *    to the --ca file (time checked as usual: an expired one fails the
 *    handshake).
 *  - Session resumption (tickets) is on; the peer certificate is kept in the
 *    session, so a resumed client has the same identity.
 *  - The client identity is the SHA-256 of the leaf certificate's DER, in
 *    lower-case hex; it names the client in activation state and
 *    idempotency records.
 *  - Errors are written to err as one line and NULL / negative errno returned.
 */
#ifndef WSOPD_TLS_H
#define WSOPD_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#define TLS_CLIENT_FP_LEN 32 /* SHA-256 */
#define TLS_CLIENT_ID_LEN 64 /* its hex digits */
#define TLS_CN_MAX        256
#define TLS_SUBJECT_MAX   512 /* RFC 2253 text, cut there */
#define TLS_SERIAL_MAX    72  /* hex of a serial of up to 35 octets */

SSL_CTX *tls_server_context(const char *cert_path, const char *key_path, const char *ca_path,
                            char *err, size_t err_cap);

/* After a successful handshake: the SHA-256 raw (fp) and in hex (id, with
 * its NUL), and the subject's CN (or "-" when none; non-printable bytes
 * replaced by '?'). 0 or -EPROTO when there is no peer certificate. */
int tls_client_identity(SSL *ssl, uint8_t fp[TLS_CLIENT_FP_LEN], char id[TLS_CLIENT_ID_LEN + 1],
                        char cn[TLS_CN_MAX]);

/* After a successful handshake, for audit lines: the client certificate's
 * subject as RFC 2253 text (cut at TLS_SUBJECT_MAX - 1 bytes) and its serial
 * number in upper-case hex; "-" for what cannot be read. Never fails. */
void tls_client_names(SSL *ssl, char subject[TLS_SUBJECT_MAX], char serial[TLS_SERIAL_MAX]);

/* Why the last TLS operation on ssl failed, as one line: the verification
 * result when a certificate was refused, else the OpenSSL error queue
 * (which is cleared). ret is what SSL_accept/SSL_read returned. */
void tls_failure_reason(SSL *ssl, int ret, char *buf, size_t cap);

#endif
