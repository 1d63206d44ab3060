/*
 * The confined helper's event loop: one thread, one poll() over the
 * channel (fd 3) and every connection with a request in progress, and a
 * table of up to EVENT_LOOP_MAX_CONNS TLS connections that progress
 * concurrently (non-blocking SSL).
 *
 * Per connection at most one request is in progress (CONNECT's handshake,
 * a SEND, a RECV); another SEND or RECV on it meanwhile is answered ERROR
 * BAD_REQUEST. CLOSE ends the connection at once and cancels a request in
 * progress on it without answering that request (the library gave up on
 * it). The handshake and a SEND with REPLY_DATA wait without a deadline of
 * their own; RECV honours its timeout_ms (ERROR TIMEOUT).
 *
 * CONNECT is served only for a host of the helper's own configuration on
 * a TCP socket connected to one of its ports (see struct event_loop_options and
 * server_socket.h): the library chooses among the configured servers, it
 * never names one. A refusal is ERROR BAD_REQUEST, conn 0.
 *
 * The loop runs until the channel ends: EOF returns 0; a frame that
 * chan_recv() refuses, or an answer that cannot be sent, returns 1. In
 * both cases every connection is closed first and nothing is answered.
 */
#ifndef PKCS11WSOP_HELPER_EVENT_LOOP_H
#define PKCS11WSOP_HELPER_EVENT_LOOP_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "conf/config.h"
#include "helper/credentials.h"

#define EVENT_LOOP_MAX_CONNS 128

struct event_loop_options {
	/* The servers a CONNECT may name (the configuration's HOST list),
	 * each with its port. A CONNECT naming another host, or whose socket's
	 * peer port is not one of that host's, is refused before any TLS byte
	 * is sent; the server certificate is verified against the configured
	 * name. */
	const struct config_server *servers;
	size_t n_servers;
	/* Test builds only (HELPER_TEST_OPENAT): on the first SEND, try an
	 * openat() that the sandbox must punish. Ignored otherwise. */
	bool openat_armed;
};

/* opt is required (servers). Returns the helper's exit status (0 or 1). */
int event_loop_run(struct creds *creds, int chan, const struct event_loop_options *opt);

#endif
