/*
 * libFuzzer target for the HTTP codec.
 *
 * Input: byte 0 picks request or response (low bit), bytes 1..4 seed the
 * split points, the rest is the stream. The stream is fed the way a socket
 * would deliver it, in random growing prefixes, each copied to a buffer of
 * exactly that size so that AddressSanitizer sees any read past the end.
 * Checked properties:
 *  - an error on a prefix is the error on the whole stream;
 *  - a message parsed from a prefix is the one parsed from the whole stream;
 *  - a parsed message re-formatted parses again to the same message;
 *  - pipelined messages are taken one after the other;
 *  - the length a request prefix reports it needs exceeds the prefix.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ipc/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Crash loudly: libFuzzer reports the input. */
static void require(bool ok)
{
	if (!ok)
		abort();
}

static uint32_t next_random(uint32_t *s)
{
	/* xorshift32: the fuzzer controls the seed, so splits are replayable. */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* A request is parsed with http_parse_request_need, whose length is checked:
 * only with 0, and then more than the bytes given. */
static int parse(bool request, const uint8_t *p, size_t n, struct http_message *msg, size_t *used)
{
	size_t need = 0;
	int r;

	if (!request)
		return http_parse_response(p, n, msg, used);
	r = http_parse_request_need(p, n, msg, used, &need);
	require(need == 0 || (r == 0 && need > n && need <= HTTP_MAX_HEAD + HTTP_MAX_BODY));
	return r;
}

/* Parses p[0..n) from an exactly-sized heap copy. */
static int parse_copy(bool request, const uint8_t *p, size_t n, struct http_message *msg,
                      size_t *used)
{
	uint8_t *copy = malloc(n ? n : 1);
	int r;

	require(copy != NULL);
	if (n > 0)
		memcpy(copy, p, n);
	r = parse(request, copy, n, msg, used);
	free(copy);
	return r;
}

static void same_message(const struct http_message *a, const struct http_message *b)
{
	size_t i;

	require(strcmp(a->method, b->method) == 0);
	require(strcmp(a->target, b->target) == 0);
	require(a->status == b->status);
	require(a->minor_version == b->minor_version);
	require(a->keep_alive == b->keep_alive);
	require(a->header_count == b->header_count);
	for (i = 0; i < a->header_count; i++) {
		require(strcmp(a->headers[i].name, b->headers[i].name) == 0);
		require(strcmp(a->headers[i].value, b->headers[i].value) == 0);
	}
	require(a->body_len == b->body_len);
	require(a->body_len == 0 || memcmp(a->body, b->body, a->body_len) == 0);
}

static bool is_named(const char *name, const char *lit)
{
	return strcasecmp(name, lit) == 0;
}

/* Formats msg again and checks that the result parses to the same content. */
static void round_trip(bool request, const struct http_message *msg)
{
	struct http_header extra[HTTP_MAX_HEADERS];
	size_t count = 0;
	const char *host = NULL;
	struct http_message again;
	uint8_t *out = NULL;
	size_t out_len = 0;
	size_t used = 0;
	size_t i;
	int r;

	require(msg->body == NULL || msg->body[msg->body_len] == '\0');
	require((msg->body == NULL) == (msg->body_len == 0));
	for (i = 0; i < msg->header_count; i++) {
		const char *name = msg->headers[i].name;

		if (is_named(name, "content-length"))
			continue;
		if (request && is_named(name, "host")) {
			if (host == NULL)
				host = msg->headers[i].value;
			continue;
		}
		if (!request && is_named(name, "connection"))
			continue;
		extra[count++] = msg->headers[i];
	}
	if (request) {
		if (host == NULL || host[0] == '\0')
			host = "h";
		r = http_format_request(msg->method, msg->target, host, extra, count, msg->body,
		                        msg->body_len, &out, &out_len);
	} else {
		r = http_format_response(msg->status, msg->keep_alive, extra, count, msg->body,
		                         msg->body_len, &out, &out_len);
	}
	/* Adding Host, or a space after each colon, may overflow the head. */
	if (r == -EMSGSIZE)
		return;
	require(r == 0);

	r = parse(request, out, out_len, &again, &used);
	require(r == 1);
	require(used == out_len);
	require(strcmp(again.method, msg->method) == 0);
	require(strcmp(again.target, msg->target) == 0);
	require(again.status == msg->status);
	require(again.minor_version == 1);
	if (!request || msg->minor_version == 1)
		require(again.keep_alive == msg->keep_alive);
	require(again.body_len == msg->body_len);
	require(msg->body_len == 0 || memcmp(again.body, msg->body, msg->body_len) == 0);
	/* The extras come back first, in order, unchanged. */
	require(again.header_count >= count + (request ? 1 : 0));
	if (request)
		require(strcmp(http_header_get(&again, "host"), host) == 0);
	for (i = 0; i < count; i++) {
		size_t k = i + (request ? 1 : 0);

		require(strcmp(again.headers[k].name, extra[i].name) == 0);
		require(strcmp(again.headers[k].value, extra[i].value) == 0);
	}
	http_message_clear(&again);
	free(out);
}

/* Feeds stream[0..n) in random growing prefixes; returns what the whole
 * stream gave and fills *whole / *used for a parsed message. */
static int feed(bool request, const uint8_t *stream, size_t n, uint32_t *seed,
                struct http_message *whole, size_t *used)
{
	int full = parse_copy(request, stream, n, whole, used);
	size_t have = 0;

	while (have < n) {
		uint32_t rnd = next_random(seed);
		size_t step = (rnd & 0x100) ? rnd % 4096 : 1 + rnd % 16;
		struct http_message part;
		size_t part_used = 0;
		int r;

		have = step >= n - have ? n : have + step;
		r = parse_copy(request, stream, have, &part, &part_used);
		if (r < 0) {
			require(r == full);
			break;
		}
		if (r == 1) {
			require(full == 1);
			require(part_used == *used);
			same_message(&part, whole);
			http_message_clear(&part);
			break;
		}
		/* 0: the message does not end inside this prefix. */
		require(full != 1 || have < *used);
		require(part.head == NULL && part.body == NULL);
	}
	return full;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool request;
	uint32_t seed;
	int messages;

	if (size < 5)
		return 0;
	request = (data[0] & 1) == 0;
	memcpy(&seed, data + 1, sizeof(seed));
	seed |= 1; /* xorshift must not start at zero */
	data += 5;
	size -= 5;

	/* Pipelining: take messages one after the other. */
	for (messages = 0; messages < 8 && size > 0; messages++) {
		struct http_message msg;
		size_t used = 0;
		int r = feed(request, data, size, &seed, &msg, &used);

		if (r != 1) {
			require(r == 0 || r == -EMSGSIZE || r == -E2BIG || r == -EBADMSG ||
			        r == -ENOTSUP || r == HTTP_ERR_URI_TOO_LONG);
			require(msg.head == NULL && msg.body == NULL);
			break;
		}
		require(used > 0 && used <= size);
		round_trip(request, &msg);
		http_message_clear(&msg);
		data += used;
		size -= used;
	}
	return 0;
}
