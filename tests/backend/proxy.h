/*
 * A TCP relay between the backend and a real wsopd, for the tests that
 * need to see or break connections: it counts the connections it accepted,
 * and in LOSE_FIRST_ANSWER mode it cuts its first connection once the
 * server starts answering a large request (so the answer is lost after the
 * server acted on it).
 */
#ifndef PKCS11WSOP_TESTS_BACKEND_PROXY_H
#define PKCS11WSOP_TESTS_BACKEND_PROXY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum proxy_mode {
	PROXY_FORWARD,
	PROXY_LOSE_FIRST_ANSWER, /* after >= PROXY_BIG client bytes on conn 1 */
};
#define PROXY_BIG 16384

struct proxy {
	int lfd;
	unsigned port;        /* where it listens */
	unsigned target_port; /* 127.0.0.1:target_port */
	enum proxy_mode mode;
	atomic_uint accepted;
	atomic_bool answer_lost;
	int stop[2];
	pthread_t thread;
};

/* Listens on 127.0.0.1:listen_port (0: any) and relays to target_port.
 * Returns 0 or -1. */
int proxy_start(struct proxy *p, unsigned listen_port, unsigned target_port, enum proxy_mode mode);
void proxy_stop(struct proxy *p);

/* A port nothing listens on (bound, then closed). */
unsigned proxy_free_port(void);

/* The socket steps the relays share (tests/faults too): a listening
 * socket on 127.0.0.1:port (0: any; SO_REUSEADDR, close-on-exec) with the
 * port bound in *bound, or -1; a connected socket to 127.0.0.1:port, or
 * -1. */
int proxy_listen(unsigned port, unsigned *bound);
int proxy_dial(unsigned port);
/* Sends all n bytes (no SIGPIPE); false when the connection failed. */
bool proxy_send_all(int fd, const uint8_t *b, size_t n);

#endif
