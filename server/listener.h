/*
 * The listening socket of wsopd.
 *
 * Contract: listener_open() resolves host numerically or by name (first
 * address that binds wins), sets SO_REUSEADDR (and IPV6_V6ONLY for IPv6),
 * listens, and returns the fd (O_CLOEXEC, non-blocking so that the accept
 * loop never stalls on a client that went away) plus the bound address as
 * text ("127.0.0.1:PORT" or "[::1]:PORT"). Errors: negative errno with a
 * one-line reason in err.
 */
#ifndef WSOPD_LISTENER_H
#define WSOPD_LISTENER_H

#include <stddef.h>
#include <sys/socket.h>

#define LISTENER_ADDR_MAX 80 /* "[" INET6 text "]:" 5 digits NUL */

int listener_open(const char *host, unsigned port, int backlog, char bound[LISTENER_ADDR_MAX],
                  char *err, size_t err_cap);

/* Accepts one connection: the fd (O_CLOEXEC, non-blocking, TCP_NODELAY
 * so that an answer written as several TLS records does not wait for a
 * delayed ACK), its address in *ss / *ss_len and as text in peer; or a
 * negative errno (-EAGAIN when none is waiting). */
int listener_accept(int listen_fd, struct sockaddr_storage *ss, socklen_t *ss_len,
                    char peer[LISTENER_ADDR_MAX]);

/* Formats a socket address as "HOST:PORT" / "[V6]:PORT" ("?" if unknown). */
void listener_format_addr(const void *sa, unsigned sa_len, char out[LISTENER_ADDR_MAX]);

#endif
