/*
 * The HTTP/1.1 codec as ipc/http.h documents it: limits at and one past
 * their bound, every split point, pipelining, the strictness rules, the
 * keep-alive matrix and the serialisers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipc/http.h"

/* Parses text (NUL not included) as a request and returns the result. */
static int parse_req(const char *text, struct http_message *msg, size_t *consumed)
{
	return http_parse_request((const uint8_t *)text, strlen(text), msg, consumed);
}

static int parse_resp(const char *text, struct http_message *msg, size_t *consumed)
{
	return http_parse_response((const uint8_t *)text, strlen(text), msg, consumed);
}

static int req_result(const char *text)
{
	struct http_message msg;
	size_t used = 0;
	int r = parse_req(text, &msg, &used);

	http_message_clear(&msg);
	return r;
}

static int resp_result(const char *text)
{
	struct http_message msg;
	size_t used = 0;
	int r = parse_resp(text, &msg, &used);

	http_message_clear(&msg);
	return r;
}

/* One parse and the result it must give. A SECTION row names the test
 * that runs the rows after it, up to the next SECTION. */
enum parse_kind { PARSE_SECTION, PARSE_REQ, PARSE_RESP };

struct parse_case {
	enum parse_kind kind;
	const char *text; /* the test's name in a SECTION row */
	int want;
};

#define SECTION(test)                                                                              \
	{                                                                                          \
		PARSE_SECTION, #test, 0                                                            \
	}

/* Every table-driven parse case, under the test that runs it. */
static const struct parse_case parse_cases[] = {
	SECTION(response_status_range),
	{ PARSE_RESP, "HTTP/1.1 100 Continue\r\n\r\n", -EBADMSG },
	{ PARSE_RESP, "HTTP/1.1 199 X\r\nContent-Length: 0\r\n\r\n", -EBADMSG },
	{ PARSE_RESP, "HTTP/1.1 600 X\r\nContent-Length: 0\r\n\r\n", -EBADMSG },
	{ PARSE_RESP, "HTTP/1.1 599 X\r\nContent-Length: 0\r\n\r\n", 1 },
	{ PARSE_RESP, "HTTP/1.1 20 X\r\nContent-Length: 0\r\n\r\n", -EBADMSG },
	{ PARSE_RESP, "HTTP/1.1 2000 X\r\nContent-Length: 0\r\n\r\n", -EBADMSG },
	{ PARSE_RESP, "HTTP/1.1 2x0 X\r\nContent-Length: 0\r\n\r\n", -EBADMSG },
	{ PARSE_RESP, "HTTP/1.1  200 X\r\nContent-Length: 0\r\n\r\n", -EBADMSG },
	{ PARSE_RESP, "HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n", -EBADMSG },
	SECTION(request_versions),
	{ PARSE_REQ, "GET / HTTP/1.1\r\n\r\n", 1 },
	{ PARSE_REQ, "GET / HTTP/1.0\r\n\r\n", 1 },
	{ PARSE_REQ, "GET / HTTP/1.2\r\n\r\n", -ENOTSUP },
	{ PARSE_REQ, "GET / HTTP/2.0\r\n\r\n", -ENOTSUP },
	{ PARSE_REQ, "GET / HTTP/0.9\r\n\r\n", -ENOTSUP },
	{ PARSE_REQ, "GET / HTTP/2\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET / HTTP/1.10\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET / http/1.1\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET / HTTP/1.1 \r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET /\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET / \r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET / HTTP/x.1\r\n\r\n", -EBADMSG },
	SECTION(response_versions),
	{ PARSE_RESP, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 1 },
	{ PARSE_RESP, "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", -ENOTSUP },
	{ PARSE_RESP, "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n", -ENOTSUP },
	{ PARSE_RESP, "HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n", -EBADMSG },
	{ PARSE_RESP, "HTTPS/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", -EBADMSG },
	{ PARSE_RESP, "HTTP/1.1\r\n\r\n", -EBADMSG },
	{ PARSE_RESP, "\r\n", -EBADMSG },
	SECTION(request_method_rules),
	{ PARSE_REQ, "get / HTTP/1.1\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, " GET / HTTP/1.1\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GE-T / HTTP/1.1\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET  / HTTP/1.1\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET\t/ HTTP/1.1\r\n\r\n", -EBADMSG },
	/* 15 letters pass, 16 do not (seen before the line ends). */
	{ PARSE_REQ, "ABCDEFGHIJKLMNO / HTTP/1.1\r\n\r\n", 1 },
	{ PARSE_REQ, "ABCDEFGHIJKLMNOP / HTTP/1.1\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "ABCDEFGHIJKLMNOP", -EBADMSG },
	SECTION(request_target_rules),
	{ PARSE_REQ, "GET * HTTP/1.1\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET http://h/ HTTP/1.1\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET /a\x7f HTTP/1.1\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET /\xc3\xa9 HTTP/1.1\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET /a\tb HTTP/1.1\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET /a?b=c&d=%20#x HTTP/1.1\r\n\r\n", 1 },
	SECTION(bare_lf_and_lone_cr_are_refused),
	{ PARSE_REQ, "GET / HTTP/1.1\n\n", -EBADMSG },
	{ PARSE_REQ, "GET / HTTP/1.1\r\nHost: h\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET / HTTP/1.1\r\nHost: h\r\n\n", -EBADMSG },
	{ PARSE_REQ, "GET / HTTP/1.1\rX", -EBADMSG },
	{ PARSE_REQ, "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", -EBADMSG },
	{ PARSE_RESP, "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", -EBADMSG },
	/* A missing CRLF before the body just waits. */
	{ PARSE_REQ, "POST / HTTP/1.1\r\nContent-Length: 2\r\n{}", 0 },
	SECTION(header_syntax_rules),
	{ PARSE_REQ, "GET / HTTP/1.1\r\nNoColon\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET / HTTP/1.1\r\nHost : h\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET / HTTP/1.1\r\nX Y: h\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET / HTTP/1.1\r\n: h\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET / HTTP/1.1\r\nX(: h\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET / HTTP/1.1\r\nX: a\x01\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", -EBADMSG },
	/* obs-fold, with SP and with HTAB */
	{ PARSE_REQ, "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "GET / HTTP/1.1\r\n!#$%&'*+-.^_`|~09az: ok\r\n\r\n", 1 },
	SECTION(content_length_forms),
	{ PARSE_REQ, "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello", -EBADMSG },
	{ PARSE_REQ, "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "POST / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\nhello", -EBADMSG },
	{ PARSE_REQ, "POST / HTTP/1.1\r\nContent-Length: 5,5\r\n\r\nhello", -EBADMSG },
	{ PARSE_REQ, "POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\nhello", -EBADMSG },
	{ PARSE_REQ, "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", -EBADMSG },
	{ PARSE_REQ, "POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\nhello", -EBADMSG },
	/* Blanks around the value are optional whitespace, not part of it. */
	{ PARSE_REQ, "POST / HTTP/1.1\r\nContent-Length:5\r\n\r\nhello", 1 },
	{ PARSE_REQ, "POST / HTTP/1.1\r\nContent-Length: \t 5 \r\n\r\nhello", 1 },
	{ PARSE_REQ, "POST / HTTP/1.1\r\ncontent-length: 005\r\n\r\nhello", 1 },
	/* Huge digit strings are too large, never wrapped around. */
	{ PARSE_REQ,
	  "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n"
	  "\r\n",
	  -E2BIG },
	{ PARSE_REQ,
	  "POST / HTTP/1.1\r\nContent-Length: 18446744073709551621\r\n"
	  "\r\nhello",
	  -E2BIG },
	{ PARSE_RESP, "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", -EBADMSG },
	SECTION(content_length_duplicates),
	{ PARSE_REQ,
	  "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n"
	  "\r\nhello!",
	  -EBADMSG },
	{ PARSE_REQ,
	  "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n"
	  "\r\nhello",
	  1 },
	{ PARSE_RESP,
	  "HTTP/1.1 200 OK\r\nContent-Length: 1\r\ncontent-length: "
	  "2\r\n\r\nab",
	  -EBADMSG },
	SECTION(transfer_encoding_is_not_supported),
	{ PARSE_REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", -ENOTSUP },
	{ PARSE_REQ,
	  "POST / HTTP/1.1\r\nContent-Length: 3\r\n"
	  "transfer-encoding: identity\r\n\r\nabc",
	  -ENOTSUP },
	{ PARSE_RESP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", -ENOTSUP },
	{ PARSE_RESP, "HTTP/1.1 204 No Content\r\nTransfer-Encoding:\r\n\r\n", -ENOTSUP },
};

static void run_parse_cases(const char *test)
{
	size_t n = sizeof(parse_cases) / sizeof(parse_cases[0]);
	size_t i = 0, ran = 0;

	while (i < n &&
	       !(parse_cases[i].kind == PARSE_SECTION && strcmp(parse_cases[i].text, test) == 0))
		i++;
	for (i++; i < n && parse_cases[i].kind != PARSE_SECTION; i++) {
		const struct parse_case *c = &parse_cases[i];
		int r = c->kind == PARSE_REQ ? req_result(c->text) : resp_result(c->text);

		if (r != c->want)
			print_message("%s row %zu: \"%s\" gave %d, want %d\n", test, i, c->text, r,
			              c->want);
		assert_int_equal(r, c->want);
		ran++;
	}
	assert_true(ran > 0);
}

/* A test that runs its SECTION of parse_cases. */
#define PARSE_TEST(name)                                                                           \
	static void name(void **state)                                                             \
	{                                                                                          \
		(void)state;                                                                       \
		run_parse_cases(#name);                                                            \
	}

/* A growable text buffer for building messages near the limits. */
struct text {
	char *s;
	size_t len;
};

static void text_add(struct text *t, const char *s)
{
	size_t n = strlen(s);

	t->s = realloc(t->s, t->len + n + 1);
	assert_non_null(t->s);
	memcpy(t->s + t->len, s, n + 1);
	t->len += n;
}

static void text_add_repeat(struct text *t, char c, size_t n)
{
	t->s = realloc(t->s, t->len + n + 1);
	assert_non_null(t->s);
	memset(t->s + t->len, c, n);
	t->len += n;
	t->s[t->len] = '\0';
}

static void text_free(struct text *t)
{
	free(t->s);
	t->s = NULL;
	t->len = 0;
}

/* Whole messages. */

static void request_with_body_parses(void **state)
{
	const char *text = "POST /km/v1/groups HTTP/1.1\r\n"
	                   "Host: wsop.example:8443\r\n"
	                   "Content-Type:  application/json \t\r\n"
	                   "Content-Length: 2\r\n"
	                   "\r\n"
	                   "{}";
	struct http_message msg;
	size_t used = 0;

	(void)state;
	assert_int_equal(parse_req(text, &msg, &used), 1);
	assert_int_equal(used, strlen(text));
	assert_string_equal(msg.method, "POST");
	assert_string_equal(msg.target, "/km/v1/groups");
	assert_int_equal(msg.minor_version, 1);
	assert_true(msg.keep_alive);
	assert_int_equal(msg.status, 0);
	assert_int_equal(msg.header_count, 3);
	assert_string_equal(msg.headers[0].name, "Host");
	assert_string_equal(msg.headers[0].value, "wsop.example:8443");
	assert_string_equal(http_header_get(&msg, "content-type"), "application/json");
	assert_string_equal(http_header_get(&msg, "CONTENT-LENGTH"), "2");
	assert_null(http_header_get(&msg, "Content"));
	assert_int_equal(msg.body_len, 2);
	assert_memory_equal(msg.body, "{}", 3); /* NUL-terminated */
	http_message_clear(&msg);
	assert_null(msg.head);
	assert_null(msg.body);
	assert_int_equal(msg.header_count, 0);
}

static void request_without_length_has_empty_body(void **state)
{
	struct http_message msg;
	size_t used = 0;
	const char *text = "GET /health HTTP/1.1\r\nHost: h\r\n\r\n";

	(void)state;
	assert_int_equal(parse_req(text, &msg, &used), 1);
	assert_int_equal(used, strlen(text));
	assert_null(msg.body);
	assert_int_equal(msg.body_len, 0);
	http_message_clear(&msg);
}

static void request_with_zero_length_has_no_body(void **state)
{
	struct http_message msg;
	size_t used = 0;

	(void)state;
	assert_int_equal(parse_req("DELETE /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &msg, &used),
	                 1);
	assert_null(msg.body);
	assert_int_equal(msg.body_len, 0);
	http_message_clear(&msg);
}

static void request_without_headers_parses(void **state)
{
	struct http_message msg;
	size_t used = 0;

	(void)state;
	assert_int_equal(parse_req("GET / HTTP/1.0\r\n\r\n", &msg, &used), 1);
	assert_int_equal(msg.header_count, 0);
	assert_string_equal(msg.target, "/");
	assert_int_equal(msg.minor_version, 0);
	assert_false(msg.keep_alive);
	http_message_clear(&msg);
}

static void empty_header_value_parses(void **state)
{
	struct http_message msg;
	size_t used = 0;

	(void)state;
	assert_int_equal(
	    parse_req("GET / HTTP/1.1\r\nX-Empty:\r\nX-Blank: \t \r\n\r\n", &msg, &used), 1);
	assert_string_equal(http_header_get(&msg, "x-empty"), "");
	assert_string_equal(http_header_get(&msg, "x-blank"), "");
	http_message_clear(&msg);
}

static void header_value_keeps_inner_blanks_and_obs_text(void **state)
{
	struct http_message msg;
	size_t used = 0;

	(void)state;
	assert_int_equal(
	    parse_req("GET / HTTP/1.1\r\nX-A: a  b\tc\r\nX-B: \xc3\xa9t\xc3\xa9\r\n\r\n", &msg,
	              &used),
	    1);
	assert_string_equal(http_header_get(&msg, "X-A"), "a  b\tc");
	assert_string_equal(http_header_get(&msg, "X-B"), "\xc3\xa9t\xc3\xa9");
	http_message_clear(&msg);
}

static void response_parses(void **state)
{
	const char *text = "HTTP/1.1 404 Not Found\r\n"
	                   "Content-Length: 5\r\n"
	                   "\r\n"
	                   "nope!";
	struct http_message msg;
	size_t used = 0;

	(void)state;
	assert_int_equal(parse_resp(text, &msg, &used), 1);
	assert_int_equal(used, strlen(text));
	assert_int_equal(msg.status, 404);
	assert_string_equal(msg.method, "");
	assert_string_equal(msg.target, "");
	assert_int_equal(msg.body_len, 5);
	assert_memory_equal(msg.body, "nope!", 6);
	http_message_clear(&msg);
}

static void response_with_empty_reason_parses(void **state)
{
	(void)state;
	assert_int_equal(resp_result("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"), 1);
	assert_int_equal(resp_result("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"), -EBADMSG);
}

static void response_without_length_is_refused(void **state)
{
	(void)state;
	assert_int_equal(resp_result("HTTP/1.1 200 OK\r\n\r\n"), -EBADMSG);
	assert_int_equal(resp_result("HTTP/1.1 200 OK\r\nX: y\r\n\r\nbody"), -EBADMSG);
}

static void response_204_and_304_have_no_body(void **state)
{
	struct http_message msg;
	size_t used = 0;
	const char *no_length = "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n";
	const char *with_length = "HTTP/1.1 304 Not Modified\r\nContent-Length: 42\r\n\r\n";

	(void)state;
	assert_int_equal(parse_resp(no_length, &msg, &used), 1);
	assert_int_equal(msg.status, 204);
	assert_int_equal(used, strlen("HTTP/1.1 204 No Content\r\n\r\n"));
	assert_null(msg.body);
	http_message_clear(&msg);

	assert_int_equal(parse_resp(with_length, &msg, &used), 1);
	assert_int_equal(used, strlen(with_length));
	assert_int_equal(msg.body_len, 0);
	http_message_clear(&msg);

	/* The length of a 204 is still checked for its form. */
	assert_int_equal(resp_result("HTTP/1.1 204 No Content\r\nContent-Length: x\r\n\r\n"),
	                 -EBADMSG);
}

PARSE_TEST(response_status_range)

/* Incremental input. */

/* Feeds text one more byte at a time: 0 until the last byte, then 1. */
static void feed_every_prefix(const char *text, bool request)
{
	size_t n = strlen(text);
	size_t i;

	for (i = 0; i <= n; i++) {
		struct http_message msg;
		size_t used = 0;
		int r = request ? http_parse_request((const uint8_t *)text, i, &msg, &used)
		                : http_parse_response((const uint8_t *)text, i, &msg, &used);

		if (i < n) {
			if (r != 0)
				fail_msg("prefix of %zu bytes of %zu gave %d", i, n, r);
			assert_null(msg.head);
			assert_null(msg.body);
		} else {
			assert_int_equal(r, 1);
			assert_int_equal(used, n);
		}
		http_message_clear(&msg);
	}
}

static void every_split_point_waits_for_more(void **state)
{
	(void)state;
	feed_every_prefix("POST /crypto/v1/encrypt HTTP/1.1\r\n"
	                  "Host: localhost\r\n"
	                  "Idempotency-Key: abc\r\n"
	                  "Content-Length: 11\r\n"
	                  "\r\n"
	                  "{\"a\":\"b\r\n\"}",
	                  true);
	feed_every_prefix("GET / HTTP/1.0\r\n\r\n", true);
	feed_every_prefix("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n\r\n\r\n", false);
	feed_every_prefix("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", false);
}

/* http_parse_request_need: 0 until the head is whole, then the whole
 * request's length while its body is short; 0 with an answer. */
static void need_is_whole_length_once_head_is_known(void **state)
{
	static const char text[] = "POST /crypto/v1/encrypt HTTP/1.1\r\n"
	                           "Content-Length: 5\r\n"
	                           "\r\n"
	                           "hello"
	                           "GET /health HTTP/1.1\r\n\r\n";
	size_t whole = sizeof(text) - 1 - strlen("GET /health HTTP/1.1\r\n\r\n");
	size_t head = whole - 5;

	(void)state;
	for (size_t i = 0; i <= sizeof(text) - 1; i++) {
		struct http_message msg;
		size_t used = 0;
		size_t need = 99;
		int r = http_parse_request_need((const uint8_t *)text, i, &msg, &used, &need);

		if (i < head) {
			assert_int_equal(r, 0);
			assert_int_equal(need, 0);
		} else if (i < whole) {
			assert_int_equal(r, 0);
			assert_int_equal(need, whole);
		} else {
			assert_int_equal(r, 1);
			assert_int_equal(used, whole);
			assert_int_equal(need, 0);
		}
		http_message_clear(&msg);
	}
	struct http_message msg;
	size_t used = 0;
	size_t need = 99;
	assert_int_equal(http_parse_request_need((const uint8_t *)"GET x", 5, &msg, &used, &need),
	                 -EBADMSG);
	assert_int_equal(need, 0);
}

/* Every prefix of a bad message answers 0 or the error of the whole. */
static void expect_same_error_at_every_split(const char *text, bool request, int expect)
{
	size_t n = strlen(text);
	size_t i;

	for (i = 0; i <= n; i++) {
		struct http_message msg;
		size_t used = 0;
		int r = request ? http_parse_request((const uint8_t *)text, i, &msg, &used)
		                : http_parse_response((const uint8_t *)text, i, &msg, &used);

		if (r != 0 && r != expect)
			fail_msg("prefix of %zu bytes gave %d, not %d", i, r, expect);
		if (i == n)
			assert_int_equal(r, expect);
		http_message_clear(&msg);
	}
}

static void errors_do_not_depend_on_split(void **state)
{
	struct text t = { NULL, 0 };

	(void)state;
	/* The over-long target is seen before the bare LF that ends it. */
	text_add(&t, "GET /");
	text_add_repeat(&t, 'a', HTTP_MAX_TARGET);
	text_add(&t, "\n\r\n");
	expect_same_error_at_every_split(t.s, true, HTTP_ERR_URI_TOO_LONG);
	text_free(&t);
	expect_same_error_at_every_split("GET /\x01 HTTP/1.1\n", true, -EBADMSG);
	expect_same_error_at_every_split("GET / HTTP/1.1\rX", true, -EBADMSG);
	expect_same_error_at_every_split("GET / HTTP/1.1\r\nA: b\r\nTransfer-Encoding: x\r\n\r\n",
	                                 true, -ENOTSUP);
	expect_same_error_at_every_split("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", false,
	                                 -EBADMSG);
}

static void pipelined_messages_parse_in_turn(void **state)
{
	const char *text = "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
	                   "GET /b HTTP/1.1\r\n\r\n"
	                   "GET /c HTTP/1.1\r\n";
	const uint8_t *p = (const uint8_t *)text;
	size_t left = strlen(text);
	struct http_message msg;
	size_t used = 0;

	(void)state;
	assert_int_equal(http_parse_request(p, left, &msg, &used), 1);
	assert_string_equal(msg.target, "/a");
	assert_memory_equal(msg.body, "abc", 4);
	http_message_clear(&msg);
	p += used;
	left -= used;

	assert_int_equal(http_parse_request(p, left, &msg, &used), 1);
	assert_string_equal(msg.target, "/b");
	assert_null(msg.body);
	http_message_clear(&msg);
	p += used;
	left -= used;

	assert_int_equal(http_parse_request(p, left, &msg, &used), 0);
	http_message_clear(&msg);
}

static void pipelined_responses_parse_in_turn(void **state)
{
	const char *text = "HTTP/1.1 204 No Content\r\n\r\n"
	                   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
	struct http_message msg;
	size_t used = 0;
	size_t first;

	(void)state;
	assert_int_equal(parse_resp(text, &msg, &used), 1);
	assert_int_equal(msg.status, 204);
	first = used;
	http_message_clear(&msg);
	assert_int_equal(parse_resp(text + first, &msg, &used), 1);
	assert_int_equal(msg.status, 200);
	assert_int_equal(first + used, strlen(text));
	http_message_clear(&msg);
}

/* Start lines. */

PARSE_TEST(request_versions)

PARSE_TEST(response_versions)

PARSE_TEST(request_method_rules)

PARSE_TEST(request_target_rules)

static void request_target_length_limit(void **state)
{
	struct text t = { NULL, 0 };
	struct http_message msg;
	size_t used = 0;

	(void)state;
	/* Exactly HTTP_MAX_TARGET bytes. */
	text_add(&t, "GET /");
	text_add_repeat(&t, 'a', HTTP_MAX_TARGET - 1);
	text_add(&t, " HTTP/1.1\r\n\r\n");
	assert_int_equal(parse_req(t.s, &msg, &used), 1);
	assert_int_equal(strlen(msg.target), HTTP_MAX_TARGET);
	http_message_clear(&msg);
	text_free(&t);

	/* One past: refused with the distinct code, even mid-line. */
	text_add(&t, "GET /");
	text_add_repeat(&t, 'a', HTTP_MAX_TARGET);
	assert_int_equal(req_result(t.s), HTTP_ERR_URI_TOO_LONG);
	assert_int_equal(HTTP_ERR_URI_TOO_LONG, -ENAMETOOLONG);
	text_add(&t, " HTTP/1.1\r\n\r\n");
	assert_int_equal(req_result(t.s), HTTP_ERR_URI_TOO_LONG);
	text_free(&t);

	/* A target longer than the whole head limit is still a 414. */
	text_add(&t, "GET /");
	text_add_repeat(&t, 'a', HTTP_MAX_HEAD + 10);
	assert_int_equal(req_result(t.s), HTTP_ERR_URI_TOO_LONG);
	text_free(&t);
}

/* Line endings and header syntax. */

PARSE_TEST(bare_lf_and_lone_cr_are_refused)

static void leading_empty_line_is_refused(void **state)
{
	(void)state;
	assert_int_equal(req_result("\r\nGET / HTTP/1.1\r\n\r\n"), -EBADMSG);
}

PARSE_TEST(header_syntax_rules)

static void nul_bytes_are_refused(void **state)
{
	static const char value_nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
	static const char name_nul[] = "GET / HTTP/1.1\r\nX\0: ab\r\n\r\n";
	static const char target_nul[] = "GET /a\0b HTTP/1.1\r\n\r\n";
	static const char reason_nul[] = "HTTP/1.1 200 O\0K\r\nContent-Length: 0\r\n\r\n";
	struct http_message msg;
	size_t used = 0;

	(void)state;
	assert_int_equal(
	    http_parse_request((const uint8_t *)value_nul, sizeof(value_nul) - 1, &msg, &used),
	    -EBADMSG);
	assert_int_equal(
	    http_parse_request((const uint8_t *)name_nul, sizeof(name_nul) - 1, &msg, &used),
	    -EBADMSG);
	assert_int_equal(
	    http_parse_request((const uint8_t *)target_nul, sizeof(target_nul) - 1, &msg, &used),
	    -EBADMSG);
	assert_int_equal(
	    http_parse_response((const uint8_t *)reason_nul, sizeof(reason_nul) - 1, &msg, &used),
	    -EBADMSG);
	assert_null(msg.head);
}

static void body_may_hold_any_byte(void **state)
{
	static const char text[] = "POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n\0\r\n\xff";
	struct http_message msg;
	size_t used = 0;

	(void)state;
	assert_int_equal(http_parse_request((const uint8_t *)text, sizeof(text) - 1, &msg, &used),
	                 1);
	assert_int_equal(msg.body_len, 4);
	assert_memory_equal(msg.body, "\0\r\n\xff", 4);
	http_message_clear(&msg);
}

/* Content-Length and Transfer-Encoding. */

PARSE_TEST(content_length_forms)

PARSE_TEST(content_length_duplicates)

static void content_length_limit(void **state)
{
	char head[128];
	uint8_t *buf;
	size_t head_len;
	struct http_message msg;
	size_t used = 0;

	(void)state;
	snprintf(head, sizeof(head), "POST / HTTP/1.1\r\nContent-Length: %u\r\n\r\n",
	         HTTP_MAX_BODY);
	head_len = strlen(head);
	buf = malloc(head_len + HTTP_MAX_BODY);
	assert_non_null(buf);
	memcpy(buf, head, head_len);
	memset(buf + head_len, 'x', HTTP_MAX_BODY);
	/* At the bound: waits for the body, then takes it. */
	assert_int_equal(http_parse_request(buf, head_len + HTTP_MAX_BODY - 1, &msg, &used), 0);
	assert_int_equal(http_parse_request(buf, head_len + HTTP_MAX_BODY, &msg, &used), 1);
	assert_int_equal(msg.body_len, HTTP_MAX_BODY);
	http_message_clear(&msg);
	free(buf);

	/* One past: refused as soon as the head is complete. */
	snprintf(head, sizeof(head), "POST / HTTP/1.1\r\nContent-Length: %u\r\n\r\n",
	         HTTP_MAX_BODY + 1);
	assert_int_equal(req_result(head), -E2BIG);
	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n",
	         HTTP_MAX_BODY + 1);
	assert_int_equal(resp_result(head), -E2BIG);
}

PARSE_TEST(transfer_encoding_is_not_supported)

/* Head limits. */

/* A request whose head is exactly head_len bytes long, filled out with one
 * X-Pad header. */
static void make_head_of(struct text *t, size_t head_len)
{
	const char *start = "GET / HTTP/1.1\r\nX-Pad: ";
	size_t fixed = strlen(start) + 4; /* "\r\n\r\n" */

	assert_true(head_len > fixed);
	text_add(t, start);
	text_add_repeat(t, 'p', head_len - fixed);
	text_add(t, "\r\n\r\n");
	assert_int_equal(t->len, head_len);
}

/* The activation token header is bounded on its own, blanks trimmed. */
static void activation_header_limit(void **state)
{
	struct text t = { NULL, 0 };

	(void)state;
	text_add(&t, "GET / HTTP/1.1\r\nX-WSOP-Activation:  ");
	text_add_repeat(&t, 'a', HTTP_MAX_ACTIVATION);
	text_add(&t, " \r\n\r\n");
	assert_int_equal(req_result(t.s), 1);
	text_free(&t);
	text_add(&t, "GET / HTTP/1.1\r\nx-wsop-activation: ");
	text_add_repeat(&t, 'a', HTTP_MAX_ACTIVATION + 1);
	text_add(&t, "\r\n\r\n");
	assert_int_equal(req_result(t.s), -EMSGSIZE);
	text_free(&t);
	/* Other headers may be longer. */
	text_add(&t, "GET / HTTP/1.1\r\nX-Other: ");
	text_add_repeat(&t, 'a', HTTP_MAX_ACTIVATION + 1);
	text_add(&t, "\r\n\r\n");
	assert_int_equal(req_result(t.s), 1);
	text_free(&t);
}

static void head_size_limit(void **state)
{
	struct text t = { NULL, 0 };

	(void)state;
	make_head_of(&t, HTTP_MAX_HEAD);
	assert_int_equal(req_result(t.s), 1);
	text_free(&t);

	make_head_of(&t, HTTP_MAX_HEAD + 1);
	assert_int_equal(req_result(t.s), -EMSGSIZE);
	/* Also when the bytes past the bound have not arrived yet... */
	t.s[HTTP_MAX_HEAD] = '\0';
	assert_int_equal(req_result(t.s), -EMSGSIZE);
	/* ...but one byte short of the bound is still waiting. */
	t.s[HTTP_MAX_HEAD - 1] = '\0';
	assert_int_equal(req_result(t.s), 0);
	text_free(&t);

	/* A response head too. */
	text_add(&t, "HTTP/1.1 200 OK\r\nX: ");
	text_add_repeat(&t, 'p', HTTP_MAX_HEAD);
	assert_int_equal(resp_result(t.s), -EMSGSIZE);
	text_free(&t);
}

static void header_count_limit(void **state)
{
	struct text t = { NULL, 0 };
	char line[32];
	int i;

	(void)state;
	text_add(&t, "GET / HTTP/1.1\r\n");
	for (i = 0; i < HTTP_MAX_HEADERS; i++) {
		snprintf(line, sizeof(line), "X-%d: %d\r\n", i, i);
		text_add(&t, line);
	}
	text_add(&t, "\r\n");
	{
		struct http_message msg;
		size_t used = 0;

		assert_int_equal(parse_req(t.s, &msg, &used), 1);
		assert_int_equal(msg.header_count, HTTP_MAX_HEADERS);
		assert_string_equal(http_header_get(&msg, "x-31"), "31");
		http_message_clear(&msg);
	}
	/* Replace the final CRLF by one more header line: refused even
	 * before the head ends. */
	t.len -= 2;
	t.s[t.len] = '\0';
	text_add(&t, "X-Extra: 1\r\n");
	assert_int_equal(req_result(t.s), -EMSGSIZE);
	text_free(&t);
}

/* keep-alive. */

static void keep_alive_matrix(void **state)
{
	static const struct {
		const char *version;
		const char *connection; /* NULL: no header */
		bool keep_alive;
	} cases[] = {
		{ "1.1", NULL, true },
		{ "1.1", "close", false },
		{ "1.1", "Close", false },
		{ "1.1", "keep-alive", true },
		{ "1.1", "keep-alive, close", false },
		{ "1.1", "upgrade,  CLOSE ", false },
		{ "1.1", "closed", true },
		{ "1.0", NULL, false },
		{ "1.0", "keep-alive", true },
		{ "1.0", "Keep-Alive", true },
		{ "1.0", "foo ,keep-alive", true },
		{ "1.0", "keep-alive, close", false },
		{ "1.0", "close", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[160];
		struct http_message msg;
		size_t used = 0;

		snprintf(text, sizeof(text), "GET / HTTP/%s\r\n%s%s%s\r\n", cases[i].version,
		         cases[i].connection ? "Connection: " : "",
		         cases[i].connection ? cases[i].connection : "",
		         cases[i].connection ? "\r\n" : "");
		assert_int_equal(parse_req(text, &msg, &used), 1);
		if (msg.keep_alive != cases[i].keep_alive)
			fail_msg("case %zu: %s", i, text);
		http_message_clear(&msg);

		snprintf(text, sizeof(text), "HTTP/%s 200 OK\r\n%s%s%sContent-Length: 0\r\n\r\n",
		         cases[i].version, cases[i].connection ? "Connection: " : "",
		         cases[i].connection ? cases[i].connection : "",
		         cases[i].connection ? "\r\n" : "");
		assert_int_equal(parse_resp(text, &msg, &used), 1);
		if (msg.keep_alive != cases[i].keep_alive)
			fail_msg("response case %zu: %s", i, text);
		http_message_clear(&msg);
	}
	/* Two Connection headers add up. */
	{
		struct http_message msg;
		size_t used = 0;

		assert_int_equal(parse_req("GET / HTTP/1.1\r\nConnection: keep-alive\r\n"
		                           "Connection: close\r\n\r\n",
		                           &msg, &used),
		                 1);
		assert_false(msg.keep_alive);
		http_message_clear(&msg);
	}
}

/* Serialisers. */

static void format_request_round_trip(void **state)
{
	const struct http_header extra[] = {
		{ "Content-Type", "application/json" },
		{ "Idempotency-Key", "k-1" },
	};
	uint8_t *out = NULL;
	size_t out_len = 0;
	struct http_message msg;
	size_t used = 0;
	const char *expect = "POST /km/v1/groups HTTP/1.1\r\n"
	                     "Host: wsop:8443\r\n"
	                     "Content-Type: application/json\r\n"
	                     "Idempotency-Key: k-1\r\n"
	                     "Content-Length: 2\r\n"
	                     "\r\n"
	                     "{}";

	(void)state;
	assert_int_equal(http_format_request("POST", "/km/v1/groups", "wsop:8443", extra, 2,
	                                     (const uint8_t *)"{}", 2, &out, &out_len),
	                 0);
	assert_int_equal(out_len, strlen(expect));
	assert_memory_equal(out, expect, out_len);
	assert_int_equal(http_parse_request(out, out_len, &msg, &used), 1);
	assert_int_equal(used, out_len);
	assert_string_equal(msg.method, "POST");
	assert_string_equal(msg.target, "/km/v1/groups");
	assert_string_equal(http_header_get(&msg, "host"), "wsop:8443");
	assert_string_equal(http_header_get(&msg, "idempotency-key"), "k-1");
	assert_true(msg.keep_alive);
	assert_memory_equal(msg.body, "{}", 2);
	http_message_clear(&msg);
	free(out);

	/* No body: Content-Length: 0 all the same. */
	assert_int_equal(
	    http_format_request("GET", "/health", "h", NULL, 0, NULL, 0, &out, &out_len), 0);
	assert_int_equal(out_len, strlen("GET /health HTTP/1.1\r\nHost: h\r\n"
	                                 "Content-Length: 0\r\n\r\n"));
	assert_memory_equal(out, "GET /health HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
	                    out_len);
	free(out);
}

static void format_response_round_trip(void **state)
{
	const struct http_header extra[] = { { "Content-Type", "application/json" } };
	uint8_t *out = NULL;
	size_t out_len = 0;
	struct http_message msg;
	size_t used = 0;
	const char *expect_close = "HTTP/1.1 404 Not Found\r\n"
	                           "Content-Type: application/json\r\n"
	                           "Content-Length: 3\r\n"
	                           "Connection: close\r\n"
	                           "\r\n"
	                           "{ }";

	(void)state;
	assert_int_equal(
	    http_format_response(404, false, extra, 1, (const uint8_t *)"{ }", 3, &out, &out_len),
	    0);
	assert_int_equal(out_len, strlen(expect_close));
	assert_memory_equal(out, expect_close, out_len);
	assert_int_equal(http_parse_response(out, out_len, &msg, &used), 1);
	assert_int_equal(msg.status, 404);
	assert_false(msg.keep_alive);
	assert_int_equal(msg.body_len, 3);
	http_message_clear(&msg);
	free(out);

	assert_int_equal(http_format_response(204, true, NULL, 0, NULL, 0, &out, &out_len), 0);
	assert_memory_equal(out, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", out_len);
	assert_int_equal(http_parse_response(out, out_len, &msg, &used), 1);
	assert_true(msg.keep_alive);
	assert_int_equal(msg.status, 204);
	http_message_clear(&msg);
	free(out);

	assert_int_equal(http_format_response(299, true, NULL, 0, NULL, 0, &out, &out_len), 0);
	assert_memory_equal(out, "HTTP/1.1 299 Unknown\r\n", strlen("HTTP/1.1 299 Unknown\r\n"));
	free(out);
}

static void format_refuses_injection(void **state)
{
	const struct http_header crlf_value[] = { { "X", "a\r\nInjected: 1" } };
	const struct http_header lf_value[] = { { "X", "a\nb" } };
	const struct http_header cr_name[] = { { "X\r\nY", "a" } };
	const struct http_header space_name[] = { { "X Y", "a" } };
	const struct http_header colon_name[] = { { "X:", "a" } };
	const struct http_header empty_name[] = { { "", "a" } };
	const struct http_header null_value[] = { { "X", NULL } };
	const struct http_header ctl_value[] = { { "X", "a\x01" } };
	const struct http_header *bad[] = { crlf_value, lf_value,   cr_name,    space_name,
		                            colon_name, empty_name, null_value, ctl_value };
	uint8_t *out = NULL;
	size_t out_len = 0;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    http_format_request("GET", "/", "h", bad[i], 1, NULL, 0, &out, &out_len),
		    -EINVAL);
		assert_int_equal(
		    http_format_response(200, true, bad[i], 1, NULL, 0, &out, &out_len), -EINVAL);
	}
	assert_int_equal(
	    http_format_request("GET", "/ HTTP/1.1\r\nX: y", "h", NULL, 0, NULL, 0, &out, &out_len),
	    -EINVAL);
	assert_int_equal(
	    http_format_request("GET", "/", "h\r\nX: y", NULL, 0, NULL, 0, &out, &out_len),
	    -EINVAL);
	assert_int_equal(http_format_request("GET\r\n", "/", "h", NULL, 0, NULL, 0, &out, &out_len),
	                 -EINVAL);
	assert_null(out);
}

/* Every byte value, as a header name character and at each offset of a
 * value long enough for the word-at-a-time check, against the grammar
 * written out the plain way (RFC 9110 tchar; field-vchar, SP and HTAB
 * with obs-text). */
static bool rfc_tchar(unsigned c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", (int)c) != NULL);
}

static void every_byte_is_judged_by_the_grammar(void **state)
{
	uint8_t *out = NULL;
	size_t out_len = 0;

	(void)state;
	for (unsigned c = 1; c < 256; c++) {
		char name[] = { 'A', (char)c, 'B', '\0' };
		const struct http_header h[] = { { name, "v" } };
		int rc = http_format_request("GET", "/", "h", h, 1, NULL, 0, &out, &out_len);
		assert_int_equal(rc, rfc_tchar(c) ? 0 : -EINVAL);
		free(out);
		out = NULL;

		bool value_ok = c == '\t' || (c >= 0x20 && c != 0x7f);
		for (size_t at = 0; at < 19; at++) {
			char value[20];
			char wire[64];
			struct http_message msg;
			size_t consumed = 0;

			memset(value, 'v', sizeof(value) - 1);
			value[sizeof(value) - 1] = '\0';
			value[at] = (char)c;
			const struct http_header v[] = { { "X", value } };
			rc = http_format_request("GET", "/", "h", v, 1, NULL, 0, &out, &out_len);
			assert_int_equal(rc, value_ok ? 0 : -EINVAL);
			free(out);
			out = NULL;

			int n =
			    snprintf(wire, sizeof(wire), "GET / HTTP/1.1\r\nX: %s\r\n\r\n", value);
			rc = http_parse_request((const uint8_t *)wire, (size_t)n, &msg, &consumed);
			assert_int_equal(rc, value_ok ? 1 : -EBADMSG);
			http_message_clear(&msg);
			n = snprintf(wire, sizeof(wire), "HTTP/1.1 204 %s\r\n\r\n", value);
			rc = http_parse_response((const uint8_t *)wire, (size_t)n, &msg, &consumed);
			assert_int_equal(rc, value_ok ? 1 : -EBADMSG);
			http_message_clear(&msg);
		}
	}
}

static void format_refuses_bad_arguments(void **state)
{
	const struct http_header length[] = { { "content-length", "5" } };
	const struct http_header te[] = { { "Transfer-Encoding", "chunked" } };
	const struct http_header host[] = { { "HOST", "other" } };
	const struct http_header connection[] = { { "Connection", "close" } };
	uint8_t *out = NULL;
	size_t out_len = 0;
	char target[HTTP_MAX_TARGET + 2];

	(void)state;
	assert_int_equal(http_format_request("get", "/", "h", NULL, 0, NULL, 0, &out, &out_len),
	                 -EINVAL);
	assert_int_equal(http_format_request("", "/", "h", NULL, 0, NULL, 0, &out, &out_len),
	                 -EINVAL);
	assert_int_equal(
	    http_format_request("ABCDEFGHIJKLMNOP", "/", "h", NULL, 0, NULL, 0, &out, &out_len),
	    -EINVAL);
	assert_int_equal(http_format_request("GET", "x", "h", NULL, 0, NULL, 0, &out, &out_len),
	                 -EINVAL);
	assert_int_equal(http_format_request("GET", "/", "", NULL, 0, NULL, 0, &out, &out_len),
	                 -EINVAL);
	assert_int_equal(http_format_request("GET", "/", "h", length, 1, NULL, 0, &out, &out_len),
	                 -EINVAL);
	assert_int_equal(http_format_request("GET", "/", "h", te, 1, NULL, 0, &out, &out_len),
	                 -EINVAL);
	assert_int_equal(http_format_request("GET", "/", "h", host, 1, NULL, 0, &out, &out_len),
	                 -EINVAL);
	assert_int_equal(http_format_request("GET", "/", "h", NULL, 0, NULL, 3, &out, &out_len),
	                 -EINVAL);
	assert_int_equal(http_format_request("GET", "/", "h", NULL, 1, NULL, 0, &out, &out_len),
	                 -EINVAL);
	/* A request may say Connection: close; a response says it by flag. */
	assert_int_equal(
	    http_format_request("GET", "/", "h", connection, 1, NULL, 0, &out, &out_len), 0);
	free(out);
	out = NULL;
	assert_int_equal(http_format_response(200, true, connection, 1, NULL, 0, &out, &out_len),
	                 -EINVAL);
	assert_int_equal(http_format_response(200, true, length, 1, NULL, 0, &out, &out_len),
	                 -EINVAL);
	assert_int_equal(http_format_response(199, true, NULL, 0, NULL, 0, &out, &out_len),
	                 -EINVAL);
	assert_int_equal(http_format_response(600, true, NULL, 0, NULL, 0, &out, &out_len),
	                 -EINVAL);
	assert_int_equal(
	    http_format_response(204, true, NULL, 0, (const uint8_t *)"x", 1, &out, &out_len),
	    -EINVAL);
	assert_int_equal(
	    http_format_response(304, true, NULL, 0, (const uint8_t *)"x", 1, &out, &out_len),
	    -EINVAL);

	/* Target length: at the bound it is written, one past refused. */
	memset(target, 'a', sizeof(target));
	target[0] = '/';
	target[HTTP_MAX_TARGET] = '\0';
	assert_int_equal(http_format_request("GET", target, "h", NULL, 0, NULL, 0, &out, &out_len),
	                 0);
	free(out);
	out = NULL;
	target[HTTP_MAX_TARGET] = 'a';
	target[HTTP_MAX_TARGET + 1] = '\0';
	assert_int_equal(http_format_request("GET", target, "h", NULL, 0, NULL, 0, &out, &out_len),
	                 -EINVAL);
	assert_null(out);
}

static void format_enforces_limits(void **state)
{
	struct http_header extra[HTTP_MAX_HEADERS];
	uint8_t *out = NULL;
	size_t out_len = 0;
	uint8_t *body;
	char *big;
	size_t i;
	struct http_message msg;
	size_t used = 0;

	(void)state;
	for (i = 0; i < HTTP_MAX_HEADERS; i++) {
		extra[i].name = "X";
		extra[i].value = "v";
	}
	/* Response with keep-alive: extras + Content-Length must fit. */
	assert_int_equal(
	    http_format_response(200, true, extra, HTTP_MAX_HEADERS - 1, NULL, 0, &out, &out_len),
	    0);
	assert_int_equal(http_parse_response(out, out_len, &msg, &used), 1);
	assert_int_equal(msg.header_count, HTTP_MAX_HEADERS);
	http_message_clear(&msg);
	free(out);
	assert_int_equal(
	    http_format_response(200, true, extra, HTTP_MAX_HEADERS, NULL, 0, &out, &out_len),
	    -EMSGSIZE);
	assert_int_equal(
	    http_format_response(200, false, extra, HTTP_MAX_HEADERS - 1, NULL, 0, &out, &out_len),
	    -EMSGSIZE);
	assert_int_equal(http_format_request("GET", "/", "h", extra, HTTP_MAX_HEADERS - 1, NULL, 0,
	                                     &out, &out_len),
	                 -EMSGSIZE);
	assert_int_equal(http_format_request("GET", "/", "h", extra, HTTP_MAX_HEADERS - 2, NULL, 0,
	                                     &out, &out_len),
	                 0);
	free(out);

	/* Head size. */
	big = malloc(HTTP_MAX_HEAD + 1);
	assert_non_null(big);
	memset(big, 'v', HTTP_MAX_HEAD);
	big[HTTP_MAX_HEAD] = '\0';
	extra[0].value = big;
	assert_int_equal(http_format_response(200, true, extra, 1, NULL, 0, &out, &out_len),
	                 -EMSGSIZE);
	/* "HTTP/1.1 200 OK\r\n" "X: " v "\r\n" "Content-Length: 0\r\n" "\r\n" */
	big[HTTP_MAX_HEAD - (17 + 3 + 2 + 19 + 2)] = '\0';
	assert_int_equal(http_format_response(200, true, extra, 1, NULL, 0, &out, &out_len), 0);
	assert_int_equal(out_len, HTTP_MAX_HEAD);
	assert_int_equal(http_parse_response(out, out_len, &msg, &used), 1);
	http_message_clear(&msg);
	free(out);
	free(big);

	/* Body size. */
	body = calloc(1, HTTP_MAX_BODY + 1);
	assert_non_null(body);
	assert_int_equal(
	    http_format_response(200, true, NULL, 0, body, HTTP_MAX_BODY + 1, &out, &out_len),
	    -E2BIG);
	assert_int_equal(
	    http_format_request("POST", "/", "h", NULL, 0, body, HTTP_MAX_BODY + 1, &out, &out_len),
	    -E2BIG);
	assert_int_equal(
	    http_format_request("POST", "/", "h", NULL, 0, body, HTTP_MAX_BODY, &out, &out_len), 0);
	assert_int_equal(http_parse_request(out, out_len, &msg, &used), 1);
	assert_int_equal(msg.body_len, HTTP_MAX_BODY);
	http_message_clear(&msg);
	free(out);
	free(body);
}

static void reason_phrases(void **state)
{
	(void)state;
	assert_string_equal(http_reason(200), "OK");
	assert_string_equal(http_reason(404), "Not Found");
	assert_string_equal(http_reason(414), "URI Too Long");
	assert_string_equal(http_reason(431), "Request Header Fields Too Large");
	assert_string_equal(http_reason(503), "Service Unavailable");
	assert_string_equal(http_reason(999), "Unknown");
	assert_string_equal(http_reason(-1), "Unknown");
}

static void bad_arguments_are_refused(void **state)
{
	struct http_message msg;
	size_t used = 0;

	(void)state;
	assert_int_equal(http_parse_request(NULL, 5, &msg, &used), -EINVAL);
	assert_int_equal(http_parse_request((const uint8_t *)"x", 1, NULL, &used), -EINVAL);
	assert_int_equal(http_parse_response((const uint8_t *)"x", 1, &msg, NULL), -EINVAL);
	assert_int_equal(http_parse_request(NULL, 0, &msg, &used), 0);
	assert_null(http_header_get(NULL, "x"));
	http_message_clear(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_with_body_parses),
		cmocka_unit_test(request_without_length_has_empty_body),
		cmocka_unit_test(request_with_zero_length_has_no_body),
		cmocka_unit_test(request_without_headers_parses),
		cmocka_unit_test(empty_header_value_parses),
		cmocka_unit_test(header_value_keeps_inner_blanks_and_obs_text),
		cmocka_unit_test(response_parses),
		cmocka_unit_test(response_with_empty_reason_parses),
		cmocka_unit_test(response_without_length_is_refused),
		cmocka_unit_test(response_204_and_304_have_no_body),
		cmocka_unit_test(response_status_range),
		cmocka_unit_test(every_split_point_waits_for_more),
		cmocka_unit_test(need_is_whole_length_once_head_is_known),
		cmocka_unit_test(errors_do_not_depend_on_split),
		cmocka_unit_test(pipelined_messages_parse_in_turn),
		cmocka_unit_test(pipelined_responses_parse_in_turn),
		cmocka_unit_test(request_versions),
		cmocka_unit_test(response_versions),
		cmocka_unit_test(request_method_rules),
		cmocka_unit_test(request_target_rules),
		cmocka_unit_test(request_target_length_limit),
		cmocka_unit_test(bare_lf_and_lone_cr_are_refused),
		cmocka_unit_test(leading_empty_line_is_refused),
		cmocka_unit_test(header_syntax_rules),
		cmocka_unit_test(nul_bytes_are_refused),
		cmocka_unit_test(body_may_hold_any_byte),
		cmocka_unit_test(content_length_forms),
		cmocka_unit_test(content_length_duplicates),
		cmocka_unit_test(content_length_limit),
		cmocka_unit_test(transfer_encoding_is_not_supported),
		cmocka_unit_test(head_size_limit),
		cmocka_unit_test(activation_header_limit),
		cmocka_unit_test(header_count_limit),
		cmocka_unit_test(keep_alive_matrix),
		cmocka_unit_test(format_request_round_trip),
		cmocka_unit_test(format_response_round_trip),
		cmocka_unit_test(format_refuses_injection),
		cmocka_unit_test(every_byte_is_judged_by_the_grammar),
		cmocka_unit_test(format_refuses_bad_arguments),
		cmocka_unit_test(format_enforces_limits),
		cmocka_unit_test(reason_phrases),
		cmocka_unit_test(bad_arguments_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
