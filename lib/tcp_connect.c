/* Non-blocking TCP connect with a deadline; see tcp_connect.h. */
#include "lib/tcp_connect.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/mono_clock.h"
#include "lib/chan_mux.h"

static const char *cause(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "connection refused";
	case ETIMEDOUT:
		return "timed out";
	case EHOSTUNREACH:
		return "host unreachable";
	case ENETUNREACH:
		return "network unreachable";
	default:
		return strerror(err);
	}
}

/* One address; returns 0 and the socket, or a positive errno. */
static int try_addr(const struct addrinfo *ai, int64_t deadline_ms, int *fd_out)
{
	int fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return errno;
	int one = 1;
	/* Requests are small and each waits for its answer: no Nagle delay. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
		int e = errno;
		close(fd);
		return e;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		*fd_out = fd;
		return 0;
	}
	int err = errno;
	while (err == EINPROGRESS || err == EINTR) {
		int64_t left = deadline_ms - mono_ms();
		if (left <= 0) {
			err = ETIMEDOUT;
			break;
		}
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			break;
		}
		if (n == 0)
			continue;
		socklen_t len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		break;
	}
	if (err) {
		close(fd);
		return err;
	}
	*fd_out = fd;
	return 0;
}

int tcp_connect(const char *host, unsigned port, int64_t deadline_ms, int *fd_out, char *why,
                size_t why_cap)
{
	char service[8];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;

	*fd_out = -1;
	if (port == 0 || port > 65535)
		return -EINVAL;
	snprintf(service, sizeof(service), "%u", port);
	int g = getaddrinfo(host, service, &hints, &res);
	if (g != 0) {
		snprintf(why, why_cap, "cannot resolve %s: %s", host, gai_strerror(g));
		return g == EAI_AGAIN ? -EAGAIN : -EHOSTUNREACH;
	}
	int err = EHOSTUNREACH;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		err = try_addr(ai, deadline_ms, fd_out);
		if (err == 0 || err == ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (err)
		snprintf(why, why_cap, "%s", cause(err));
	return -err;
}
