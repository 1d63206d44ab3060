/*
 * A byte stream to a WSOP server, as the REST client sees it: the TLS
 * connection of the tools (tools/direct_tls), the helper channel of the
 * PKCS #11 library, or a scripted fake in tests.
 *
 * Contract:
 *  - send_all writes all len bytes or fails: 0 or a negative errno. The
 *    caller keeps data[0..len) valid and unchanged until the answer has
 *    been read (the next send_all, or the client's end), so a transport
 *    that sends the request again from recv_some needs no copy of it.
 *  - recv_some waits at most timeout_ms for at least one byte and returns
 *    how many it stored in buf[0..cap) (> 0), 0 at a clean end of stream,
 *    or a negative errno (-ETIMEDOUT when the wait ran out). -ERESTART
 *    means the transport sent the request again on a new connection (the
 *    old one broke while the answer was read, and repeating the request
 *    is safe): the bytes of this answer received so far are void, and the
 *    answer is read again from its start.
 *  - send_quick, when not NULL, is send_all for a request that the server
 *    answers at once with a short answer and that is safe to send again
 *    (the binary encrypt and decrypt of up to WSOP_QUICK_BODY_MAX bytes):
 *    the transport may send it together with other requests.
 *  - Neither callback is called concurrently for one ctx.
 */
#ifndef PKCS11WSOP_LIB_WSOP_TRANSPORT_H
#define PKCS11WSOP_LIB_WSOP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The largest body of a request sent with send_quick. */
#define WSOP_QUICK_BODY_MAX 4096

struct wsop_transport {
	void *ctx;
	int (*send_all)(void *ctx, const uint8_t *data, size_t len); /* 0 or -errno */
	ssize_t (*recv_some)(void *ctx, uint8_t *buf, size_t cap,
	                     int timeout_ms);                          /* >0, 0=EOF, -errno */
	int (*send_quick)(void *ctx, const uint8_t *data, size_t len); /* or NULL */
};

#endif
