/*
 * server/outbuf: the TLS records of a connection waiting for its socket.
 * A peer that stops reading must leave the rest buffered (bounded by
 * OUTBUF_MAX), a peer that is gone must be an error and never a SIGPIPE,
 * and a large buffer must not stay allocated once it is sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <setjmp.h>

#include <cmocka.h>

#include "server/outbuf.h"

static void nonblocking_pair(int sv[2])
{
	int small = 4096;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
}

static void write_all(BIO *b, const uint8_t *p, size_t len)
{
	size_t written = 0;

	assert_int_equal(BIO_write_ex(b, p, len, &written), 1);
	assert_int_equal(written, len);
}

/* Bytes come out in order across several writes and flushes. */
static void sends_in_order(void **state)
{
	(void)state;
	struct outbuf ob = { 0 };
	BIO *b = outbuf_bio_new(&ob);
	int sv[2];
	uint8_t in[3000], out[3000];

	assert_non_null(b);
	nonblocking_pair(sv);
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7);
	write_all(b, in, 1000);
	write_all(b, in + 1000, 2000);
	assert_int_equal(BIO_ctrl_wpending(b), 3000);
	assert_int_equal(outbuf_flush(&ob, sv[0]), 1);
	assert_int_equal(outbuf_pending(&ob), 0);
	assert_int_equal(recv(sv[1], out, sizeof(out), MSG_WAITALL), (ssize_t)sizeof(out));
	assert_memory_equal(in, out, sizeof(in));
	BIO_free(b);
	outbuf_free(&ob);
	close(sv[0]);
	close(sv[1]);
}

/* A peer that does not read: flush says 0 and keeps the rest, which goes
 * out once the peer reads; then the large buffer is let go. */
static void full_socket_keeps_the_rest(void **state)
{
	(void)state;
	struct outbuf ob = { 0 };
	BIO *b = outbuf_bio_new(&ob);
	int sv[2];
	size_t len = 1u << 20;
	uint8_t *in = malloc(len), *out = malloc(len);

	assert_non_null(b);
	assert_non_null(in);
	assert_non_null(out);
	nonblocking_pair(sv);
	for (size_t i = 0; i < len; i++)
		in[i] = (uint8_t)(i ^ (i >> 8));
	write_all(b, in, len);
	assert_int_equal(outbuf_flush(&ob, sv[0]), 0);
	size_t left = outbuf_pending(&ob);
	assert_true(left > 0 && left < len);

	size_t got = 0;
	while (got < len) {
		ssize_t n = recv(sv[1], out + got, len - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		else
			assert_true(outbuf_flush(&ob, sv[0]) >= 0);
	}
	assert_int_equal(outbuf_flush(&ob, sv[0]), 1);
	assert_memory_equal(in, out, len);
	/* Sent and larger than what a connection keeps: freed. */
	assert_null(ob.data);
	assert_int_equal(ob.cap, 0);
	BIO_free(b);
	outbuf_free(&ob);
	free(in);
	free(out);
	close(sv[0]);
	close(sv[1]);
}

/* A peer that is gone: an error, and no SIGPIPE (which would end the
 * test process with its default action). */
static void closed_peer_is_an_error(void **state)
{
	(void)state;
	struct outbuf ob = { 0 };
	BIO *b = outbuf_bio_new(&ob);
	int sv[2];
	uint8_t in[100] = { 1 };

	assert_non_null(b);
	nonblocking_pair(sv);
	close(sv[1]);
	write_all(b, in, sizeof(in));
	assert_int_equal(outbuf_flush(&ob, sv[0]), -EPIPE);
	BIO_free(b);
	outbuf_free(&ob);
	close(sv[0]);
}

/* Past OUTBUF_MAX a write fails whole and what was there stays. */
static void bounded(void **state)
{
	(void)state;
	struct outbuf ob = { 0 };
	BIO *b = outbuf_bio_new(&ob);
	size_t chunk = 1u << 20, written = 0;
	uint8_t *in = calloc(1, chunk);

	assert_non_null(b);
	assert_non_null(in);
	for (size_t i = 0; i < OUTBUF_MAX / chunk; i++)
		write_all(b, in, chunk);
	assert_int_equal(outbuf_pending(&ob), OUTBUF_MAX);
	assert_int_equal(BIO_write_ex(b, in, 1, &written), 0);
	assert_int_equal(written, 0);
	assert_int_equal(outbuf_pending(&ob), OUTBUF_MAX);
	BIO_free(b);
	outbuf_free(&ob);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sends_in_order),
		cmocka_unit_test(full_socket_keeps_the_rest),
		cmocka_unit_test(closed_peer_is_an_error),
		cmocka_unit_test(bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
