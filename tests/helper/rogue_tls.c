/* The attacker's TLS server; see rogue_tls.h. */
#include "tests/helper/rogue_tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

/* Every client certificate is accepted: the point is to see whether the
 * helper sends one at all. */
static int accept_any(int ok, X509_STORE_CTX *store)
{
	(void)ok;
	(void)store;
	return 1;
}

uint8_t rogue_tls_byte(size_t i)
{
	return (uint8_t)('a' + i % 26);
}

/* One request in, answer_len bytes out, then until the client closes. */
static void answer(struct rogue_tls *r, SSL *ssl)
{
	uint8_t in[4096];
	uint8_t *out = malloc(r->answer_len);

	if (out != NULL && SSL_read(ssl, in, sizeof(in)) > 0) {
		for (size_t i = 0; i < r->answer_len; i++)
			out[i] = rogue_tls_byte(i);
		if (SSL_write(ssl, out, (int)r->answer_len) > 0) {
			while (SSL_read(ssl, in, sizeof(in)) > 0)
				;
		}
	}
	free(out);
}

static void serve_one(struct rogue_tls *r, int fd)
{
	struct timeval tv = { 5, 0 };
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t byte;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (poll(&p, 1, 5000) == 1 && recv(fd, &byte, 1, MSG_PEEK) == 1)
		atomic_fetch_add(&r->hellos, 1);
	SSL *ssl = SSL_new(r->ctx);
	if (ssl != NULL && SSL_set_fd(ssl, fd) == 1) {
		bool up = SSL_accept(ssl) == 1;
		if (up)
			atomic_fetch_add(&r->handshakes, 1);
		if (up && r->answer_len > 0)
			answer(r, ssl);
		/* TLS 1.3: a client certificate arrives with the client's
		 * Finished; looked at whether the handshake completed or not. */
		X509 *peer = SSL_get1_peer_certificate(ssl);
		if (peer != NULL)
			atomic_fetch_add(&r->client_certs, 1);
		X509_free(peer);
	}
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
	atomic_fetch_add(&r->done, 1);
}

static void *serve(void *arg)
{
	struct rogue_tls *r = arg;

	while (!atomic_load(&r->stop)) {
		struct pollfd p = { .fd = r->listener, .events = POLLIN };
		if (poll(&p, 1, 100) != 1)
			continue;
		int fd = accept(r->listener, NULL, NULL);
		if (fd >= 0)
			serve_one(r, fd);
	}
	return NULL;
}

static SSL_CTX *make_ctx(const char *cert, const char *key, const char *ca)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
	return ctx;
}

static int start(struct rogue_tls *r, const char *cert, const char *key, const char *ca,
                 size_t answer_len)
{
	struct sockaddr_in at = { .sin_family = AF_INET };
	socklen_t len = sizeof(at);

	memset(r, 0, sizeof(*r));
	r->answer_len = answer_len;
	at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->ctx = make_ctx(cert, key, ca);
	r->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->ctx == NULL || r->listener < 0 ||
	    bind(r->listener, (struct sockaddr *)&at, sizeof(at)) != 0 ||
	    listen(r->listener, 8) != 0 ||
	    getsockname(r->listener, (struct sockaddr *)&at, &len) != 0) {
		fprintf(stderr, "rogue_tls: cannot start a server with %s\n", cert);
		goto fail;
	}
	snprintf(r->port, sizeof(r->port), "%u", (unsigned)ntohs(at.sin_port));
	if (pthread_create(&r->thread, NULL, serve, r) != 0)
		goto fail;
	return 0;
fail:
	if (r->listener >= 0)
		close(r->listener);
	SSL_CTX_free(r->ctx);
	r->ctx = NULL;
	return -1;
}

int rogue_tls_start(struct rogue_tls *r, const char *cert, const char *key, const char *ca)
{
	return start(r, cert, key, ca, 0);
}

int rogue_tls_start_answering(struct rogue_tls *r, const char *cert, const char *key,
                              const char *ca, size_t answer_len)
{
	return start(r, cert, key, ca, answer_len);
}

int rogue_tls_wait_done(struct rogue_tls *r, int n, int timeout_ms)
{
	for (int waited = 0; atomic_load(&r->done) < n && waited < timeout_ms; waited += 10) {
		struct timespec nap = { 0, 10 * 1000 * 1000 };
		nanosleep(&nap, NULL);
	}
	return atomic_load(&r->done);
}

void rogue_tls_stop(struct rogue_tls *r)
{
	atomic_store(&r->stop, true);
	pthread_join(r->thread, NULL);
	close(r->listener);
	SSL_CTX_free(r->ctx);
	r->ctx = NULL;
}
