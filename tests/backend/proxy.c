/* The test relay of proxy.h: one thread, poll over every socket. */
#include "proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAIRS_MAX 64

struct pair {
	int c, s; /* client side, server side; -1 when unused */
	size_t c2s;
	bool cut_me;      /* the connection whose answer is to be lost */
	long long cut_at; /* when to close it (ms), 0: not yet planned */
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int proxy_listen(unsigned port, unsigned *bound)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET,
		                 .sin_port = htons((uint16_t)port),
		                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		close(fd);
		return -1;
	}
	*bound = ntohs(a.sin_port);
	return fd;
}

unsigned proxy_free_port(void)
{
	unsigned port = 0;
	int fd = proxy_listen(0, &port);
	if (fd >= 0)
		close(fd);
	return port;
}

int proxy_dial(unsigned port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
		                 .sin_port = htons((uint16_t)port),
		                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void pair_close(struct pair *pr)
{
	if (pr->c >= 0)
		close(pr->c);
	if (pr->s >= 0)
		close(pr->s);
	pr->c = pr->s = -1;
}

bool proxy_send_all(int fd, const uint8_t *b, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		b += w;
		n -= (size_t)w;
	}
	return true;
}

/* Moves what is readable on from to the other side; false: close pair. */
static bool relay(struct proxy *p, struct pair *pr, bool from_client)
{
	uint8_t buf[16384];
	ssize_t n = recv(from_client ? pr->c : pr->s, buf, sizeof(buf), 0);
	if (n <= 0)
		return false;
	if (from_client) {
		pr->c2s += (size_t)n;
		return proxy_send_all(pr->s, buf, (size_t)n);
	}
	if (pr->cut_me && pr->c2s >= PROXY_BIG) {
		/* The server answers the big request (or sends TLS tickets
		 * first): drop what it says, give it a second to finish the
		 * answer, then cut. */
		if (!pr->cut_at)
			pr->cut_at = now_ms() + 1000;
		atomic_store(&p->answer_lost, true);
		return true;
	}
	return proxy_send_all(pr->c, buf, (size_t)n);
}

static void *run(void *arg)
{
	struct proxy *p = arg;
	struct pair pairs[PAIRS_MAX];
	for (int i = 0; i < PAIRS_MAX; i++)
		pairs[i] = (struct pair){ .c = -1, .s = -1 };

	for (;;) {
		struct pollfd pfd[2 + 2 * PAIRS_MAX];
		int map[2 + 2 * PAIRS_MAX];
		int n = 0;
		pfd[n++] = (struct pollfd){ .fd = p->stop[0], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = p->lfd, .events = POLLIN };
		for (int i = 0; i < PAIRS_MAX; i++) {
			if (pairs[i].c < 0)
				continue;
			map[n] = i;
			pfd[n++] = (struct pollfd){ .fd = pairs[i].c, .events = POLLIN };
			map[n] = i;
			pfd[n++] = (struct pollfd){ .fd = pairs[i].s, .events = POLLIN };
		}
		if (poll(pfd, (nfds_t)n, 50) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < PAIRS_MAX; i++)
			if (pairs[i].cut_at && now_ms() >= pairs[i].cut_at) {
				pair_close(&pairs[i]);
				pairs[i].cut_at = 0;
			}
		if (pfd[0].revents)
			break;
		for (int k = 2; k < n; k++) {
			struct pair *pr = &pairs[map[k]];
			if (!pfd[k].revents || pr->c < 0)
				continue;
			if (!relay(p, pr, pfd[k].fd == pr->c))
				pair_close(pr);
		}
		if (pfd[1].revents & POLLIN) {
			int c = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			unsigned nth = atomic_fetch_add(&p->accepted, 1) + 1;
			int s = proxy_dial(p->target_port);
			int slot = -1;
			for (int i = 0; i < PAIRS_MAX && slot < 0; i++)
				if (pairs[i].c < 0)
					slot = i;
			if (s < 0 || slot < 0) {
				close(c);
				if (s >= 0)
					close(s);
				continue;
			}
			pairs[slot] = (struct pair){ .c = c,
				                     .s = s,
				                     .cut_me = p->mode == PROXY_LOSE_FIRST_ANSWER &&
				                               nth == 1 };
		}
	}
	for (int i = 0; i < PAIRS_MAX; i++)
		pair_close(&pairs[i]);
	return NULL;
}

int proxy_start(struct proxy *p, unsigned listen_port, unsigned target_port, enum proxy_mode mode)
{
	memset(p, 0, sizeof(*p));
	p->target_port = target_port;
	p->mode = mode;
	p->lfd = proxy_listen(listen_port, &p->port);
	if (p->lfd < 0)
		return -1;
	if (pipe2(p->stop, O_CLOEXEC) != 0) {
		close(p->lfd);
		return -1;
	}
	if (pthread_create(&p->thread, NULL, run, p) != 0) {
		close(p->lfd);
		close(p->stop[0]);
		close(p->stop[1]);
		return -1;
	}
	return 0;
}

void proxy_stop(struct proxy *p)
{
	if (p->lfd < 0)
		return;
	(void)!write(p->stop[1], "x", 1);
	pthread_join(p->thread, NULL);
	close(p->lfd);
	close(p->stop[0]);
	close(p->stop[1]);
	p->lfd = -1;
}
