/* End-to-end: who may talk to wsopd — handshake refusals and --max-clients. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/ssl.h>

#include "tests/e2e/e2e.h"

static struct e2e_fixture *fx_of(void **state)
{
	return *state;
}

/* The server still answers a trusted client. */
static void assert_still_serving(const struct e2e_server *srv)
{
	struct direct_tls *conn = e2e_connect_ok(srv, E2E_CLIENT);
	struct e2e_answer ans;

	e2e_call_ok(conn, "GET", "/health", NULL, 200, &ans);
	e2e_answer_free(&ans);
	direct_tls_close(conn);
}

/* Tries who; the handshake (or, with TLS 1.3, the first read after it,
 * since the server checks the client certificate after the client thinks
 * the handshake is over) must fail without any HTTP answer. Returns the
 * reason text (static). */
static const char *assert_refused(const struct e2e_server *srv, enum e2e_identity who, int tls_max)
{
	static char why[DIRECT_TLS_ERROR_MAX + 64];
	struct direct_tls *conn = NULL;
	char err[DIRECT_TLS_ERROR_MAX];
	int rc = e2e_connect(srv, who, tls_max, &conn, err, sizeof(err));

	if (rc == 0) {
		static const char req[] = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";
		uint8_t byte;
		struct e2e_answer ans;

		/* Read before writing: the server's alert is then what we see,
		 * not a reset caused by writing into a closed connection. */
		rc = (int)direct_tls_recv_some(conn, &byte, 1, 5000);
		if (rc == -ETIMEDOUT || rc > 0) {
			rc = direct_tls_send_all(conn, (const uint8_t *)req, sizeof(req) - 1);
			if (rc == 0)
				rc = e2e_read_answer(conn, &ans, 5000);
			if (rc == 0) {
				fprintf(stderr, "e2e: refused client got an answer: %d %s\n",
				        ans.status, ans.body);
				e2e_answer_free(&ans);
			}
		}
		snprintf(why, sizeof(why), "after handshake: %s", direct_tls_error(conn));
		direct_tls_close(conn);
	} else {
		snprintf(why, sizeof(why), "handshake: %s", err);
	}
	fprintf(stderr, "e2e: refused as expected (%d): %s\n", rc, why);
	assert_true(rc < 0);
	assert_int_not_equal(rc, -ETIMEDOUT);
	return why;
}

static void handshake_refuses_client_without_certificate(void **state)
{
	const char *why = assert_refused(&fx_of(state)->srv, E2E_NO_CERT, 0);

	/* TLS 1.3's certificate_required alert: sent by the server. */
	assert_non_null(strstr(why, "alert certificate required"));
	assert_still_serving(&fx_of(state)->srv);
}

static void handshake_refuses_client_without_certificate_over_tls_1_2(void **state)
{
	const char *why = assert_refused(&fx_of(state)->srv, E2E_NO_CERT, TLS1_2_VERSION);

	assert_non_null(strstr(why, "alert"));
	assert_still_serving(&fx_of(state)->srv);
}

static void handshake_refuses_certificate_from_another_ca(void **state)
{
	const char *why = assert_refused(&fx_of(state)->srv, E2E_OTHER_CA, 0);

	assert_non_null(strstr(why, "alert unknown ca"));
	why = assert_refused(&fx_of(state)->srv, E2E_OTHER_CA, TLS1_2_VERSION);
	assert_non_null(strstr(why, "alert unknown ca"));
	assert_still_serving(&fx_of(state)->srv);
}

static void handshake_refuses_expired_certificate(void **state)
{
	const char *why = assert_refused(&fx_of(state)->srv, E2E_EXPIRED, 0);

	assert_non_null(strstr(why, "alert certificate expired"));
	why = assert_refused(&fx_of(state)->srv, E2E_EXPIRED, TLS1_2_VERSION);
	assert_non_null(strstr(why, "alert certificate expired"));
	assert_still_serving(&fx_of(state)->srv);
}

static void handshake_refuses_tls_1_1_from_the_server_side(void **state)
{
	const char *why = assert_refused(&fx_of(state)->srv, E2E_CLIENT, TLS1_1_VERSION);

	/* The client offered TLS 1.1 (security level 0): the protocol_version
	 * alert it received proves that the server is the one refusing. */
	assert_non_null(strstr(why, "alert protocol version"));
	assert_still_serving(&fx_of(state)->srv);
}

static void handshake_accepts_tls_1_2_and_1_3(void **state)
{
	static const int versions[] = { TLS1_2_VERSION, TLS1_3_VERSION };

	for (size_t i = 0; i < 2; i++) {
		struct direct_tls *conn = NULL;
		char err[DIRECT_TLS_ERROR_MAX];
		struct e2e_answer ans;

		if (e2e_connect(&fx_of(state)->srv, E2E_CLIENT, versions[i], &conn, err,
		                sizeof(err)) != 0)
			fprintf(stderr, "e2e: %s\n", err);
		assert_non_null(conn);
		assert_int_equal(direct_tls_version(conn), versions[i]);
		e2e_call_ok(conn, "GET", "/health", NULL, 200, &ans);
		e2e_answer_free(&ans);
		direct_tls_close(conn);
	}
}

static void client_refuses_server_with_wrong_name(void **state)
{
	struct e2e_server other;
	struct direct_tls *conn = NULL;
	char err[DIRECT_TLS_ERROR_MAX];
	int rc, status;

	(void)state;
	assert_int_equal(e2e_server_start_as(&other, &e2e_env, "wrong-name-server", NULL), 0);
	rc = e2e_connect(&other, E2E_CLIENT, 0, &conn, err, sizeof(err));
	fprintf(stderr, "e2e: %s\n", err);
	assert_int_equal(rc, -EPROTO);
	assert_null(conn);
	assert_non_null(strstr(err, "hostname mismatch"));
	status = e2e_server_stop(&other, SIGTERM);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void max_clients_refuses_one_more_client_with_busy(void **state)
{
	static const char *const args[] = { "--max-clients", "2", NULL };
	struct e2e_server srv;
	struct direct_tls *a, *b, *c = NULL;
	struct e2e_answer ans;
	char err[DIRECT_TLS_ERROR_MAX];
	int rc, status;
	bool served = false;

	(void)state;
	assert_int_equal(e2e_server_start(&srv, &e2e_env, args), 0);
	a = e2e_connect_ok(&srv, E2E_CLIENT);
	b = e2e_connect_ok(&srv, E2E_CLIENT2);
	e2e_call_ok(a, "GET", "/health", NULL, 200, &ans);
	e2e_answer_free(&ans);
	e2e_call_ok(b, "GET", "/health", NULL, 200, &ans);
	e2e_answer_free(&ans);

	rc = e2e_connect(&srv, E2E_CLIENT, 0, &c, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "e2e: third client: %s\n", err);
	assert_int_equal(rc, 0);
	rc = e2e_request(c, "GET", "/health", NULL, NULL, &ans);
	if (rc != 0)
		fprintf(stderr, "e2e: third client got no answer: %s\n", direct_tls_error(c));
	assert_int_equal(rc, 0);
	e2e_assert_error(&ans, 503, "busy");
	e2e_answer_free(&ans);
	direct_tls_close(c);

	/* With one gone, a new client is served (the server may take a moment
	 * to notice the close). */
	direct_tls_close(b);
	for (int i = 0; i < 50 && !served; i++) {
		c = e2e_connect_ok(&srv, E2E_CLIENT2);
		if (e2e_request(c, "GET", "/health", NULL, NULL, &ans) == 0 && ans.status == 200)
			served = true;
		e2e_answer_free(&ans);
		direct_tls_close(c);
		if (!served) {
			struct timespec ts = { 0, 100000000 };
			nanosleep(&ts, NULL);
		}
	}
	assert_true(served);
	e2e_call_ok(a, "GET", "/health", NULL, 200, &ans);
	e2e_answer_free(&ans);
	direct_tls_close(a);
	status = e2e_server_stop(&srv, SIGTERM);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, e2e_setup, e2e_teardown)
		T(handshake_refuses_client_without_certificate),
		T(handshake_refuses_client_without_certificate_over_tls_1_2),
		T(handshake_refuses_certificate_from_another_ca),
		T(handshake_refuses_expired_certificate),
		T(handshake_refuses_tls_1_1_from_the_server_side),
		T(handshake_accepts_tls_1_2_and_1_3),
		cmocka_unit_test(client_refuses_server_with_wrong_name),
		cmocka_unit_test(max_clients_refuses_one_more_client_with_busy),
#undef T
	};

	return e2e_main("e2e_tls", tests, sizeof(tests) / sizeof(tests[0]));
}
