/*
 * retry_transport.c implements the struct wsop_transport under every client
 * that backend_acquire() hands out; its entry points are declared in
 * lib/backend_priv.h. Policy (lib/backend.h):
 *  - send_all remembers the caller's request bytes (no copy: the client
 *    keeps and wipes them, wsop_transport.h) and sends them with SEND +
 *    REPLY_DATA, so a request whose answer fits one DATA frame costs one
 *    round trip to the helper;
 *  - the first request of a client takes a connection slot
 *    (backend_conn_take), waiting within its deadline;
 *  - a network failure (refused, reset, closed, TLS, the attempt's
 *    TIMEOUT) before or while the answer is read sends the same bytes again
 *    on a new connection (a cut answer: recv_some returns -ERESTART),
 *    MAXRETRIES times, RETRYDELAY seconds apart; a pooled connection found
 *    dead on first use is replaced once without counting; a request the
 *    helper died or hung with is sent again at once on a new helper
 *    (counted); a "503 busy" answer is sent again after a short back-off
 *    (counted, at most RETRYDELAY), and returned as it is when retries run
 *    out; a refused certificate is not retried;
 *  - each attempt within TIMEOUT seconds of its start (bc->deadline_ms; the
 *    first attempt's includes waiting for a slot); a helper found hung
 *    (chan_mux.h) is killed;
 *  - one WARNING line per retry (attempt, cause, delay), one ERROR line
 *    when the request fails for good;
 *  - recv_some hands out buffered DATA and asks the helper (RECV) for more.
 * Errors a call can end with, besides the client's own: -ECONNREFUSED,
 * -ETIMEDOUT, -EHOSTUNREACH, -EKEYREJECTED (TLS verification or credentials
 * failed), -ECONNRESET (the connection broke), -ECONNABORTED (the helper
 * died while the request was with it, and retries ran out), -EIO (the helper refused or failed).
 */
#ifndef PKCS11WSOP_LIB_RETRY_TRANSPORT_H
#define PKCS11WSOP_LIB_RETRY_TRANSPORT_H

#include "lib/backend_priv.h"

#endif
