/*
 * The TCP socket that arrives with a CONNECT, checked and made ready before
 * the helper runs TLS on it.
 *
 * The application is not trusted by the helper: it may hand over any fd.
 * The helper therefore checks that the socket is a connected TCP/IP socket
 * whose peer port is one the helper's own configuration gives the named
 * server (HOST lists each server with its port; getpeername), and makes it
 * non-blocking itself (fcntl F_SETFL O_NONBLOCK, the one form the sandbox
 * allows), so that a blocking fd cannot stall the event loop. Which server
 * name the certificate must carry is decided by the caller from the
 * helper's own configuration, never from the frame.
 */
#ifndef PKCS11WSOP_HELPER_SERVER_SOCKET_H
#define PKCS11WSOP_HELPER_SERVER_SOCKET_H

#include <stddef.h>

#include "conf/config.h"

/* host is a configured name (servers[0..n) holds it at least once).
 * Returns 0, or an enum chan_error with the cause in why[cap]:
 * CHAN_E_BAD_REQUEST for a socket that is not TCP/IP or connected to a
 * port no server named host has; CHAN_E_IO for one that is not connected (a
 * reset TCP connection reads so) or when fcntl fails. Leaves fd open. */
int server_socket_prepare(int fd, const struct config_server *servers, size_t n, const char *host,
                          char *why, size_t cap);

#endif
