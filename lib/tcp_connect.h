/*
 * The TCP half of a new server connection, done in the application process
 * because the confined helper may not open sockets: resolve HOST, connect
 * to HOST:PORT without blocking past a deadline, and hand back a socket
 * ready for the helper (O_NONBLOCK kept, TCP_NODELAY set, close-on-exec).
 *
 * Contract: tcp_connect() returns 0 and *fd_out, or a negative errno with
 * the cause in words in why ("connection refused", "timed out", "cannot
 * resolve HOST: ..."). Name resolution itself (getaddrinfo) cannot be
 * interrupted and may overrun the deadline.
 */
#ifndef PKCS11WSOP_LIB_TCP_CONNECT_H
#define PKCS11WSOP_LIB_TCP_CONNECT_H

#include <stddef.h>
#include <stdint.h>

int tcp_connect(const char *host, unsigned port, int64_t deadline_ms, int *fd_out, char *why,
                size_t why_cap);

#endif
