/* Listening socket; see listener.h. */
#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void listener_format_addr(const void *sa, unsigned sa_len, char out[LISTENER_ADDR_MAX])
{
	char host[64]; /* an IPv6 literal with a scope id fits */
	char serv[8];
	const struct sockaddr *addr = sa;

	if (getnameinfo(addr, (socklen_t)sa_len, host, sizeof(host), serv, sizeof(serv),
	                NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(out, LISTENER_ADDR_MAX, "?");
		return;
	}
	if (addr->sa_family == AF_INET6)
		snprintf(out, LISTENER_ADDR_MAX, "[%s]:%s", host, serv);
	else
		snprintf(out, LISTENER_ADDR_MAX, "%s:%s", host, serv);
}

int listener_accept(int listen_fd, struct sockaddr_storage *ss, socklen_t *ss_len,
                    char peer[LISTENER_ADDR_MAX])
{
	int one = 1;
	int fd;

	*ss_len = sizeof(*ss);
	fd = accept4(listen_fd, (struct sockaddr *)ss, ss_len, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return -errno;
	/* Best effort: a socket without it still works, only slower. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	listener_format_addr(ss, *ss_len, peer);
	return fd;
}

static int bind_one(const struct addrinfo *ai, int backlog)
{
	int one = 1;
	int fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		goto fail;
	/* Listening on "::" should not silently take the IPv4 port as well. */
	if (ai->ai_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
		goto fail;
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, backlog) != 0)
		goto fail;
	return fd;
fail:;
	int saved = errno;
	close(fd);
	return -saved;
}

int listener_open(const char *host, unsigned port, int backlog, char bound[LISTENER_ADDR_MAX],
                  char *err, size_t err_cap)
{
	struct addrinfo hints = { 0 };
	struct addrinfo *list = NULL;
	struct sockaddr_storage ss;
	socklen_t ss_len = sizeof(ss);
	char serv[8];
	char text[128];
	int fd = -EADDRNOTAVAIL;
	int rc;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(serv, sizeof(serv), "%u", port);
	rc = getaddrinfo(host, serv, &hints, &list);
	if (rc != 0) {
		snprintf(err, err_cap, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -EADDRNOTAVAIL;
	}
	for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
		fd = bind_one(ai, backlog);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(list);
	if (fd < 0) {
		snprintf(err, err_cap, "cannot listen on %s port %u: %s", host, port,
		         strerror_r(-fd, text, sizeof(text)));
		return fd;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &ss_len) != 0) {
		rc = -errno;
		snprintf(err, err_cap, "getsockname: %s", strerror_r(-rc, text, sizeof(text)));
		close(fd);
		return rc;
	}
	listener_format_addr(&ss, ss_len, bound);
	return fd;
}
