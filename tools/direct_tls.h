/*
 * A direct mutual-TLS client connection to a WSOP server, for the tools and
 * the end-to-end tests only. The PKCS #11 library never uses this: there a
 * confined helper holds the client key. Here the calling process reads the
 * certificate, the key and the CA itself.
 *
 * Contract:
 *  - direct_tls_connect() resolves host:port, connects (TCP_NODELAY), runs a
 *    TLS handshake (TLS 1.2 or newer unless the config says otherwise) with
 *    the given client certificate, verifies the server against the CA file
 *    and the host name (or IP address), and sends SNI for host names.
 *  - Every operation is bounded by a timeout; nothing blocks forever.
 *  - Errors are negative errno values:
 *      -EINVAL        bad argument or unreadable certificate/key/CA file
 *      -ENOENT        the host name does not resolve
 *      -ECONNREFUSED  nobody listens at host:port
 *      -ETIMEDOUT     connect, handshake, send or receive took too long
 *      -EPROTO        TLS handshake or TLS record failure (including the
 *                     server refusing our certificate or protocol version)
 *      -ECONNRESET    the peer closed the connection uncleanly
 *      -ENOMEM        allocation failed
 *    and a one-line human-readable reason is kept for direct_tls_error().
 *  - One connection is used by one thread at a time.
 *  - A peer that closes early can make a write raise SIGPIPE: callers
 *    (tools, tests) ignore SIGPIPE.
 */
#ifndef PKCS11WSOP_TOOLS_DIRECT_TLS_H
#define PKCS11WSOP_TOOLS_DIRECT_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct wsop_transport;
struct direct_tls;

#define DIRECT_TLS_ERROR_MAX 512

struct direct_tls_config {
	const char *host;        /* host name or IP address literal */
	const char *port;        /* decimal port */
	const char *ca_path;     /* PEM file of trusted CAs; required */
	const char *cert_path;   /* PEM client certificate; NULL: send none */
	const char *key_path;    /* PEM client key; NULL when cert_path is */
	const char *verify_name; /* name to check in the server certificate; NULL: host */
	int min_version;         /* e.g. TLS1_2_VERSION; 0: TLS 1.2 */
	int max_version;         /* 0: the newest OpenSSL knows */
	int security_level;      /* < 0: OpenSSL's default; 0 lets tests offer old protocols */
	int timeout_ms;          /* connect + handshake + each send; <= 0: 10 s */
};

/* Connects and completes the handshake. On success returns 0 and *out;
 * on failure a negative errno, and err (if not NULL) holds the reason. */
int direct_tls_connect(const struct direct_tls_config *cfg, struct direct_tls **out, char *err,
                       size_t err_cap);

/* Writes all len bytes: 0 or a negative errno. */
int direct_tls_send_all(struct direct_tls *conn, const uint8_t *data, size_t len);

/* Reads what is available, waiting at most timeout_ms (< 0: the connection's
 * timeout). Returns the byte count (> 0), 0 on a clean end of stream, or a
 * negative errno. */
ssize_t direct_tls_recv_some(struct direct_tls *conn, uint8_t *buf, size_t cap, int timeout_ms);

/* The reason for the last failure on this connection ("" when none). */
const char *direct_tls_error(const struct direct_tls *conn);

/* The negotiated protocol version (TLS1_2_VERSION, TLS1_3_VERSION). */
int direct_tls_version(const struct direct_tls *conn);

/* Half-closes politely (close_notify) then frees everything; NULL is fine. */
void direct_tls_close(struct direct_tls *conn);

/* Fills a struct wsop_transport (lib/wsop_transport.h) that uses conn.
 * The transport does not own conn: close conn after the last use. */
void direct_tls_transport(struct direct_tls *conn, struct wsop_transport *out);

#endif
