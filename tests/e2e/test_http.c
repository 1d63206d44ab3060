/* End-to-end: malformed and hostile input, written byte by byte. After each
 * refusal the server must still serve another client. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/e2e/e2e.h"

#define PASS "http pass phrase"

static struct e2e_fixture *fx_of(void **state)
{
	return *state;
}

static void assert_another_client_is_served(void **state)
{
	struct direct_tls *conn = e2e_connect_ok(&fx_of(state)->srv, E2E_CLIENT2);
	struct e2e_answer ans;

	e2e_call_ok(conn, "GET", "/health", NULL, 200, &ans);
	e2e_answer_free(&ans);
	direct_tls_close(conn);
}

/* Sends raw bytes on the fixture's connection; expects status + code. */
static void expect_raw_error(void **state, const char *bytes, size_t len, int status,
                             const char *code)
{
	struct e2e_answer ans;
	int rc = e2e_raw(fx_of(state)->conn, bytes, len, &ans);

	if (rc != 0)
		fprintf(stderr, "e2e: no answer (%d): %s\n", rc,
		        direct_tls_error(fx_of(state)->conn));
	assert_int_equal(rc, 0);
	e2e_assert_error(&ans, status, code);
	e2e_answer_free(&ans);
	assert_another_client_is_served(state);
}

#define RAW(s) s, sizeof(s) - 1

static void malformed_request_line_is_bad_http(void **state)
{
	expect_raw_error(state, RAW("GARBAGE\r\n\r\n"), 400, "bad_http");
}

static void malformed_header_is_bad_http(void **state)
{
	expect_raw_error(state, RAW("GET /health HTTP/1.1\r\nHost localhost\r\n\r\n"), 400,
	                 "bad_http");
}

static void malformed_content_length_is_bad_http(void **state)
{
	expect_raw_error(state,
	                 RAW("POST /km/v1/groups HTTP/1.1\r\nHost: localhost\r\n"
	                     "Content-Length: -5\r\n\r\n"),
	                 400, "bad_http");
}

static void oversized_head_is_header_too_large(void **state)
{
	size_t n = 9000;
	char *req = malloc(n + 64);
	size_t len;

	assert_non_null(req);
	len = (size_t)sprintf(req, "GET /health HTTP/1.1\r\nHost: localhost\r\nX-Pad: ");
	memset(req + len, 'a', n);
	len += n;
	memcpy(req + len, "\r\n\r\n", 4);
	len += 4;
	expect_raw_error(state, req, len, 431, "header_too_large");
	free(req);
}

static void too_many_header_lines_is_header_too_large(void **state)
{
	char req[4096];
	size_t len = (size_t)sprintf(req, "GET /health HTTP/1.1\r\nHost: localhost\r\n");

	for (int i = 0; i < 40; i++)
		len += (size_t)sprintf(req + len, "X-H%d: v\r\n", i);
	len += (size_t)sprintf(req + len, "\r\n");
	expect_raw_error(state, req, len, 431, "header_too_large");
}

static void oversized_body_is_too_large(void **state)
{
	/* Only the head is sent: the server must refuse on Content-Length
	 * alone, before reading (or allocating) a body. */
	expect_raw_error(state,
	                 RAW("POST /km/v1/protectiondomains HTTP/1.1\r\nHost: localhost\r\n"
	                     "Content-Type: application/json\r\nContent-Length: 1048577\r\n\r\n"),
	                 413, "too_large");
}

static void oversized_target_is_uri_too_long(void **state)
{
	char req[2048 + 64];
	size_t len = (size_t)sprintf(req, "GET /");

	memset(req + len, 'x', 1100);
	len += 1100;
	len += (size_t)sprintf(req + len, " HTTP/1.1\r\nHost: localhost\r\n\r\n");
	expect_raw_error(state, req, len, 414, "uri_too_long");
}

static void invalid_json_is_bad_request(void **state)
{
	e2e_expect_error(state, "POST", "/km/v1/protectiondomains", "{\"type\":", 400,
	                 "bad_request");
	e2e_expect_error(state, "POST", "/km/v1/protectiondomains", "[1,2]", 400, "bad_request");
	e2e_expect_error(state, "POST", "/km/v1/protectiondomains",
	                 "{\"type\":\"Softcard\",\"name\":\"a\",\"passphrase\":\"p\"} x", 400,
	                 "bad_request");
	e2e_expect_error(state, "POST", "/km/v1/protectiondomains",
	                 "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":1}}}}}"
	                 "}}}}",
	                 400, "bad_request");
	e2e_expect_error(state, "POST", "/km/v1/protectiondomains", "", 400, "bad_request");
	assert_another_client_is_served(state);
}

static void bad_base64url_is_bad_request(void **state)
{
	char sc[41], target[160];

	e2e_softcard_ok(fx_of(state)->conn, "b64", PASS, sc);
	e2e_activate_ok(fx_of(state)->conn, sc, PASS);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/objects", sc);
	/* padding, the standard alphabet, and non-zero trailing bits */
	e2e_expect_error(state, "POST", target,
	                 "{\"class\":\"data\",\"attributes\":{\"value\":\"aGk=\"}}", 400,
	                 "bad_request");
	e2e_expect_error(state, "POST", target,
	                 "{\"class\":\"data\",\"attributes\":{\"value\":\"a+/a\"}}", 400,
	                 "bad_request");
	e2e_expect_error(state, "POST", target,
	                 "{\"class\":\"data\",\"attributes\":{\"value\":\"aGl\"}}", 400,
	                 "bad_request");
	e2e_expect_error(state, "POST", target,
	                 "{\"class\":\"data\",\"attributes\":{\"value\":\"a\"}}", 400,
	                 "bad_request");
	assert_another_client_is_served(state);
}

static void wrong_types_are_bad_request(void **state)
{
	char sc[41], body[256];

	e2e_expect_error(state, "POST", "/km/v1/protectiondomains",
	                 "{\"type\":\"Softcard\",\"name\":5,\"passphrase\":\"p\"}", 400,
	                 "bad_request");
	e2e_expect_error(state, "POST", "/km/v1/protectiondomains",
	                 "{\"type\":\"Softcard\",\"name\":\"a\",\"passphrase\":null}", 400,
	                 "bad_request");
	e2e_softcard_ok(fx_of(state)->conn, "types", PASS, sc);
	e2e_activate_ok(fx_of(state)->conn, sc, PASS);
	char group[37], target[128];
	e2e_group_ok(fx_of(state)->conn, "g", sc, group);
	snprintf(target, sizeof(target), "/km/v1/groups/%s/keys", group);
	e2e_expect_error(state, "POST", target,
	                 "{\"algorithm\":\"AES\",\"size\":128.0,\"attributes\":{\"label\":\"k\"}}",
	                 400, "bad_request");
	e2e_expect_error(state, "POST", target,
	                 "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"k\","
	                 "\"encrypt\":\"yes\"}}",
	                 400, "bad_request");
	snprintf(body, sizeof(body), "{\"name\":[\"g\"],\"protectiondomain\":\"%s\"}", sc);
	e2e_expect_error(state, "POST", "/km/v1/groups", body, 400, "bad_request");
	assert_another_client_is_served(state);
}

static void unknown_path_is_not_found(void **state)
{
	e2e_expect_error(state, "GET", "/nothing/here", NULL, 404, "not_found");
	e2e_expect_error(state, "GET", "/km/v2/protectiondomains", NULL, 404, "not_found");
	e2e_expect_error(state, "POST", "/crypto/v1/sign", "{}", 404, "not_found");
	assert_another_client_is_served(state);
}

static void unknown_method_is_method_not_allowed(void **state)
{
	e2e_expect_error(state, "PUT", "/health", NULL, 405, "method_not_allowed");
	e2e_expect_error(state, "DELETE", "/km/v1/protectiondomains", NULL, 405,
	                 "method_not_allowed");
	e2e_expect_error(state, "GET", "/crypto/v1/encrypt", NULL, 405, "method_not_allowed");
	e2e_expect_error(state, "PATCH", "/km/v1/groups", "{}", 405, "method_not_allowed");
	assert_another_client_is_served(state);
}

static void keep_alive_serves_many_requests_on_one_connection(void **state)
{
	/* Two requests in one write: pipelined answers come back in order. */
	static const char two[] = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"
	                          "GET /nothing HTTP/1.1\r\nHost: localhost\r\n\r\n";
	struct e2e_answer ans;

	assert_int_equal(e2e_raw(fx_of(state)->conn, RAW(two), &ans), 0);
	assert_int_equal(ans.status, 200);
	e2e_answer_free(&ans);
	assert_int_equal(e2e_read_answer(fx_of(state)->conn, &ans, 5000), 0);
	e2e_assert_error(&ans, 404, "not_found");
	e2e_answer_free(&ans);
	for (int i = 0; i < 20; i++) {
		e2e_call_ok(fx_of(state)->conn, "GET", "/health", NULL, 200, &ans);
		e2e_answer_free(&ans);
	}
}

static void body_sent_in_pieces_is_assembled(void **state)
{
	static const char head[] = "POST /km/v1/protectiondomains HTTP/1.1\r\nHost: localhost\r\n"
	                           "Content-Type: application/json\r\nContent-Length: 58\r\n\r\n";
	static const char body[] =
	    "{\"type\":\"Softcard\",\"name\":\"pieces\",\"passphrase\":\"p p p p\"}";
	struct direct_tls *conn = fx_of(state)->conn;
	struct e2e_answer ans;

	assert_int_equal(sizeof(body) - 1, 58);
	assert_int_equal(direct_tls_send_all(conn, (const uint8_t *)head, 20), 0);
	assert_int_equal(direct_tls_send_all(conn, (const uint8_t *)head + 20, sizeof(head) - 21),
	                 0);
	assert_int_equal(direct_tls_send_all(conn, (const uint8_t *)body, 10), 0);
	assert_int_equal(e2e_raw(conn, body + 10, sizeof(body) - 11, &ans), 0);
	assert_int_equal(ans.status, 201);
	assert_string_equal(e2e_str(ans.json, "name"), "pieces");
	e2e_answer_free(&ans);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, e2e_setup, e2e_teardown)
		T(malformed_request_line_is_bad_http),
		T(malformed_header_is_bad_http),
		T(malformed_content_length_is_bad_http),
		T(oversized_head_is_header_too_large),
		T(too_many_header_lines_is_header_too_large),
		T(oversized_body_is_too_large),
		T(oversized_target_is_uri_too_long),
		T(invalid_json_is_bad_request),
		T(bad_base64url_is_bad_request),
		T(wrong_types_are_bad_request),
		T(unknown_path_is_not_found),
		T(unknown_method_is_method_not_allowed),
		T(keep_alive_serves_many_requests_on_one_connection),
		T(body_sent_in_pieces_is_assembled),
#undef T
	};

	return e2e_main("e2e_http", tests, sizeof(tests) / sizeof(tests[0]));
}
