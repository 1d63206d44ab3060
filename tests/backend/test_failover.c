/*
 * HOST with several servers, against real wsopd nodes on loopback, the real
 * confined helper and real mutual TLS: a request moves from a server that
 * is down to the next one at once; a server that failed is set aside, and
 * tried again once its time is over; with every server down a request ends
 * with the last failure after exactly its retry budget; each switch is one
 * log line with its cause. A node that is "down" is a port nothing listens
 * on, or a relay (proxy.h) that was stopped.
 *
 * Environment as tests/backend/test_backend.c (skipped without it, and
 * under ASan).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "conf/config.h"
#include "conf/log.h"
#include "lib/backend.h"
#include "tests/backend/backend_util.h"
#include "tests/backend/proxy.h"
#include "tests/e2e/e2e.h"
#include "tests/e2e/under_asan.h"

struct cluster {
	char cfg_path[E2E_PATH_MAX + 32];
	char log_path[E2E_PATH_MAX + 32];
	struct wsop_config cfg;
	struct backend *be;
};

/* Opens a backend on HOST 127.0.0.1:port[0], ... (n ports) with the given
 * retry settings. */
static void open_cluster(const char *name, const unsigned *ports, unsigned n, unsigned maxretries,
                         unsigned retrydelay, unsigned timeout, struct cluster *c)
{
	const char *pki = e2e_env.pki;
	char host[256] = "";
	for (unsigned i = 0; i < n; i++) {
		char item[32];
		snprintf(item, sizeof(item), "%s127.0.0.1:%u", i ? ", " : "", ports[i]);
		strcat(host, item);
	}
	memset(c, 0, sizeof(*c));
	int n_path = snprintf(c->log_path, sizeof(c->log_path), "%s/%s.log", e2e_env.dir, name);
	assert_true(n_path > 4 && (size_t)n_path < sizeof(c->log_path));
	memcpy(c->cfg_path, c->log_path, (size_t)n_path - 4);
	strcpy(c->cfg_path + n_path - 4, ".cfg");
	char text[4 * E2E_PATH_MAX + 512];
	snprintf(text, sizeof(text),
	         "HOST %s\nCERT %s/client.crt\nKEY %s/client.key\nAUTH %s/ca.crt\nLOGLEVEL 5\n"
	         "LOGFILEPATH %s\nMAXRETRIES %u\nRETRYDELAY %u\nTIMEOUT %u\n",
	         host, pki, pki, pki, c->log_path, maxretries, retrydelay, timeout);
	FILE *f = fopen(c->cfg_path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	backend_util_load_config(c->cfg_path, &c->cfg);
	assert_int_equal(c->cfg.n_servers, n);
	assert_int_equal(backend_open(&c->cfg, c->cfg_path, &c->be), 0);
}

static void close_cluster(struct cluster *c)
{
	backend_close(c->be);
	c->be = NULL;
	wlog_close();
}

static unsigned port_of(const struct e2e_server *srv)
{
	return (unsigned)strtoul(srv->port, NULL, 10);
}

static unsigned warnings(const struct cluster *c, const char *text)
{
	return backend_util_log_count(c->log_path, " WARNING ", text);
}

/* The first server refuses: the request moves to the second at once (not
 * RETRYDELAY later), the switch is logged with its cause, and the next
 * requests go straight to the second while the first is set aside. */
static void server_down_moves_the_request_to_the_next_at_once(void **state)
{
	struct e2e_fixture *fx = *state;
	unsigned ports[] = { proxy_free_port(), port_of(&fx->srv) };
	struct cluster c;
	open_cluster("down_first", ports, 2, 5, 10, 10, &c);
	long long t0 = e2e_now_ms();
	assert_int_equal(backend_util_health(c.be), 0);
	long long took = e2e_now_ms() - t0;
	fprintf(stderr, "moved on after %lld ms\n", took);
	/* Not after RETRYDELAY (10 s): an upper bound, not a speed. */
	assert_true(took < 10000);
	char line[256];
	snprintf(line, sizeof(line),
	         "request to 127.0.0.1:%u failed: connection refused (attempt 1 of 6); set aside "
	         "for 10 s; trying 127.0.0.1:%u in 0 s",
	         ports[0], ports[1]);
	assert_int_equal(warnings(&c, line), 1);
	for (int i = 0; i < 5; i++)
		assert_int_equal(backend_util_health(c.be), 0);
	assert_int_equal(warnings(&c, "failed"), 1);
	close_cluster(&c);
}

/* Every server down: the request spends exactly its retries (MAXRETRIES 3:
 * four attempts, alternating as the servers are set aside) and ends with
 * the last failure, within the documented worst case. */
static void all_servers_down_ends_after_the_retry_budget(void **state)
{
	(void)state;
	unsigned ports[] = { proxy_free_port(), proxy_free_port() };
	assert_int_not_equal(ports[0], ports[1]);
	struct cluster c;
	open_cluster("all_down", ports, 2, 3, 1, 1, &c);
	long long t0 = e2e_now_ms();
	int rc = backend_util_health(c.be);
	long long took = e2e_now_ms() - t0;
	fprintf(stderr, "all down: %d after %lld ms\n", rc, took);
	assert_int_equal(rc, -ECONNREFUSED);
	/* (MAXRETRIES + 1) x TIMEOUT + MAXRETRIES x RETRYDELAY, and a margin. */
	assert_true(took <= 4 * 1000 + 3 * 1000 + 1500);
	assert_int_equal(warnings(&c, "connection refused (attempt"), 3);
	for (unsigned k = 1; k <= 3; k++) {
		char text[64];
		snprintf(text, sizeof(text), "(attempt %u of 4)", k);
		assert_int_equal(warnings(&c, text), 1);
	}
	/* Both servers were tried. */
	for (unsigned i = 0; i < 2; i++) {
		char text[64];
		snprintf(text, sizeof(text), "request to 127.0.0.1:%u failed", ports[i]);
		assert_true(
		    warnings(&c, text) + backend_util_log_count(c.log_path, " ERROR ", text) >= 1);
	}
	assert_int_equal(backend_util_log_count(c.log_path, " ERROR ",
	                                        "connection refused (attempt 4 of 4); set aside "),
	                 1);
	assert_true(backend_util_log_contains(c.log_path, "no retries left"));
	close_cluster(&c);
}

/* One request on each of n clients held at once, so each holds its own
 * connection slot: with k connections pooled, the last n - k requests make
 * new connections (the server choice is made per new connection). */
static void held_calls(struct backend *be, unsigned n)
{
	struct wsop_client *cl[4];
	assert_true(n <= 4);
	for (unsigned i = 0; i < n; i++) {
		cl[i] = backend_acquire(be);
		assert_non_null(cl[i]);
		struct wsop_health h;
		assert_int_equal(wsop_health(cl[i], &h), 0);
	}
	for (unsigned i = 0; i < n; i++)
		backend_release(be, cl[i]);
}

/* The first server (a relay to wsopd) goes down and is set aside for
 * RETRYDELAY (1 s); it comes back at once, yet new connections keep away
 * from it until its time is over; then it is tried again, said so, and
 * serves. */
static void set_aside_server_is_tried_again_when_its_time_is_over(void **state)
{
	struct e2e_fixture *fx = *state;
	unsigned relay = proxy_free_port();
	struct proxy px;
	unsigned ports[] = { relay, port_of(&fx->srv) };
	struct cluster c;
	open_cluster("backoff", ports, 2, 5, 1, 10, &c);
	/* Down: the request moves to the second server. */
	assert_int_equal(backend_util_health(c.be), 0);
	assert_int_equal(warnings(&c, "set aside for 1 s"), 1);
	/* Back, but set aside: a new connection still goes to the second. */
	assert_int_equal(proxy_start(&px, relay, port_of(&fx->srv), PROXY_FORWARD), 0);
	long long back = e2e_now_ms();
	held_calls(c.be, 2);
	/* Unless the machine was too slow for the second connection to be
	 * made within the second. */
	if (e2e_now_ms() - back < 500)
		assert_int_equal(atomic_load(&px.accepted), 0);
	/* Its time over: the next new connection goes to it. */
	struct timespec ts = { 1, 200 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	held_calls(c.be, 3);
	assert_int_equal(atomic_load(&px.accepted), 1);
	assert_true(backend_util_log_contains(c.log_path, "its time set aside is over; trying it "
	                                                  "again"));
	close_cluster(&c);
	proxy_stop(&px);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, e2e_setup, e2e_teardown)
		T(server_down_moves_the_request_to_the_next_at_once),
		T(all_servers_down_ends_after_the_retry_budget),
		T(set_aside_server_is_tried_again_when_its_time_is_over),
	};
	if (UNDER_ASAN) {
		printf("failover: skipped under AddressSanitizer (the confined helper is killed "
		       "by its runtime)\n");
		return 77;
	}
	if (!getenv("PKCS11WSOP_HELPER")) {
		printf("failover: PKCS11WSOP_HELPER not set: skipped\n");
		return 77;
	}
	return e2e_main("failover", tests, sizeof(tests) / sizeof(tests[0]));
}
