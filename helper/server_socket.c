/* Checks and prepares a CONNECT's socket; see server_socket.h. */
#include "helper/server_socket.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ipc/channel.h"

/* Whether a server named host listens on port; its ports in words into
 * ports[cap] for the refusal. */
static bool port_of_host(const struct config_server *servers, size_t n, const char *host,
                         unsigned port, char *ports, size_t cap)
{
	size_t used = 0;
	ports[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (strcmp(servers[i].host, host) != 0)
			continue;
		if (servers[i].port == port)
			return true;
		int w =
		    snprintf(ports + used, cap - used, "%s%u", used ? ", " : "", servers[i].port);
		if (w > 0 && (size_t)w < cap - used)
			used += (size_t)w;
	}
	return false;
}

int server_socket_prepare(int fd, const struct config_server *servers, size_t n, const char *host,
                          char *why, size_t cap)
{
	char ports[CONFIG_SERVERS_MAX * 8];
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	unsigned got;

	memset(&peer, 0, sizeof(peer));
	if (getpeername(fd, (struct sockaddr *)&peer, &len) != 0) {
		/* A TCP connection the peer reset between the library's connect
		 * and now reads as not connected: a network failure the library
		 * may retry, not a bad request. No TLS byte is sent either way. */
		int err = errno;
		snprintf(why, cap, "the socket is not connected: %s", strerror(err));
		return err == ENOTCONN ? CHAN_E_IO : CHAN_E_BAD_REQUEST;
	}
	if (peer.ss_family == AF_INET)
		got = ntohs(((const struct sockaddr_in *)&peer)->sin_port);
	else if (peer.ss_family == AF_INET6)
		got = ntohs(((const struct sockaddr_in6 *)&peer)->sin6_port);
	else {
		snprintf(why, cap, "the socket is not a TCP/IP socket (family %d)",
		         (int)peer.ss_family);
		return CHAN_E_BAD_REQUEST;
	}
	if (!port_of_host(servers, n, host, got, ports, sizeof(ports))) {
		snprintf(why, cap, "the socket is connected to port %u, not to a port of %s (%s)",
		         got, host, ports);
		return CHAN_E_BAD_REQUEST;
	}
	/* Exactly O_NONBLOCK: the sandbox allows F_SETFL with that value only.
	 * It also clears O_ASYNC and O_APPEND, which a socket never needs. */
	if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		snprintf(why, cap, "cannot make the socket non-blocking: %s", strerror(errno));
		return CHAN_E_IO;
	}
	return 0;
}
