/*
 * Three wsopd nodes on one PostgreSQL (tests/cluster/with_pg.sh starts a
 * private one and gives its connection string in $WSOP_TEST_PG), each on
 * 127.0.0.1 with a port of its own, all with the same master key file.
 *
 *   shared_state       over REST, no faults: what one node did, the others
 *                      see. A token issued by one node opens on the
 *                      others; a key made on one encrypts alike on all; an
 *                      idempotent request replayed on another node gets
 *                      the first answer; a key deleted on one is gone on a
 *                      node that used it a moment ago; a deactivation on
 *                      one ends the token on the nodes that knew it; a
 *                      node given another master key refuses to start.
 *   nodes_killed       libpkcs11wsop.so with the three in HOST under the
 *                      fault harness's workload (tests/faults/workload.h,
 *                      8 threads of encrypt/decrypt, key generation and
 *                      destruction) while a node, chosen at random, is
 *                      SIGKILLed every 2-4 s and restarted 1.5-4 s later
 *                      on its port. Two nodes are up at any moment, so no
 *                      call may fail (MAXRETRIES 2, RETRYDELAY 1: a call
 *                      that waited for its node instead of moving on
 *                      would); then the audit (audit.h).
 *
 * Usage: cluster [SECONDS]   (or $CLUSTER_SECONDS; default 40) of faults.
 * $FAULTS_SEED fixes the random choices.
 *
 * Verdict of nodes_killed: 0 wrong results, 0 failed calls, 0 keys
 * acknowledged but missing, 0 keys present whose generation failed, 0
 * destroyed keys present, 0 labels on two keys, 0 CKR_USER_NOT_LOGGED_IN,
 * 0 helpers dead unkilled, no passphrase in any log.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/ckr_names.h"
#include "tests/faults/audit.h"
#include "tests/faults/children.h"
#include "tests/faults/workload.h"
#include "tests/p11/p11_fixture.h"

#define NODES       3
#define CARD        "cluster"
#define PIN         "pass phrase cluster"
#define TICK_MS     50
#define DEFAULT_SEC 40

static struct {
	unsigned seconds;
	uint64_t seed, rng;
	const char *conninfo;
	char master[E2E_PATH_MAX + 16];
	struct e2e_server node[NODES];
	char listen[NODES][32];
	void *dl;
	CK_FUNCTION_LIST *f;
	struct helper_watch hw;
	struct work work;
	unsigned long kills[NODES];
	char config[E2E_PATH_MAX + 32];
} cl;

/* A pseudo-random number in [lo, hi], from the seeded generator. */
static unsigned between(unsigned lo, unsigned hi)
{
	return lo + (unsigned)(work_rnd(&cl.rng) % (hi - lo + 1));
}

/* ---- nodes ------------------------------------------------------------------ */

/* A master key file of 32 random bytes, 0600, as every node is given. */
static void write_master(const char *path)
{
	uint8_t key[32];
	int in = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	assert_true(in >= 0);
	assert_int_equal(read(in, key, sizeof(key)), (ssize_t)sizeof(key));
	close(in);
	int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(out >= 0);
	assert_int_equal(write(out, key, sizeof(key)), (ssize_t)sizeof(key));
	assert_int_equal(close(out), 0);
}

/* The first start picks a free port; a restart (listen set) keeps it. */
static int node_start(unsigned i)
{
	const char *args[] = { "--store", cl.conninfo, "--master-key", cl.master, "--log-level",
		               "4",       "--listen",  cl.listen[i],   NULL };
	if (cl.listen[i][0] == '\0') {
		args[6] = NULL;
		int rc = e2e_server_start(&cl.node[i], &e2e_env, args);
		char port[sizeof(cl.node[i].port)];
		memcpy(port, cl.node[i].port, sizeof(port));
		if (rc == 0)
			snprintf(cl.listen[i], sizeof(cl.listen[i]), "127.0.0.1:%s", port);
		return rc;
	}
	return e2e_server_restart(&cl.node[i], args);
}

static void node_up(unsigned i)
{
	/* The port may take a moment to be free again. */
	for (int t = 0; t < 20 && cl.node[i].pid == 0; t++)
		if (node_start(i) != 0)
			helper_watch_for(&cl.hw, 250, e2e_now_ms);
	assert_true(cl.node[i].pid != 0);
}

static int group_setup(void **state)
{
	(void)state;
	cl.conninfo = getenv("WSOP_TEST_PG");
	if (cl.conninfo == NULL || cl.conninfo[0] == '\0') {
		fprintf(stderr, "cluster: WSOP_TEST_PG is not set; run through "
		                "tests/cluster/with_pg.sh (meson test --suite cluster does)\n");
		return -1;
	}
	snprintf(cl.master, sizeof(cl.master), "%s/master.key", e2e_env.dir);
	write_master(cl.master);
	for (unsigned i = 0; i < NODES; i++)
		if (node_start(i) != 0)
			return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NODES; i++)
		if (cl.node[i].pid > 0)
			(void)e2e_server_stop(&cl.node[i], SIGTERM);
	return 0;
}

/* ---- shared state over REST ----------------------------------------------------- */

static uint8_t *encrypt_on(struct direct_tls *conn, const char *key, int expected)
{
	static const char body_fmt[] = "{\"key\":\"%s\",\"mechanism\":\"AES_CBC\","
	                               "\"iv\":\"AAAAAAAAAAAAAAAAAAAAAA\","
	                               "\"data\":\"AAAAAAAAAAAAAAAAAAAAAA\"}";
	char body[256];
	struct e2e_answer ans;
	size_t len = 0;
	uint8_t *ct = NULL;
	snprintf(body, sizeof(body), body_fmt, key);
	assert_int_equal(e2e_request(conn, "POST", "/crypto/v1/encrypt", NULL, body, &ans), 0);
	if (ans.status != expected) {
		fprintf(stderr, "cluster: encrypt -> %d %s\n", ans.status,
		        ans.body != NULL ? ans.body : "");
		fail();
	}
	if (expected == 200) {
		ct = e2e_unb64(e2e_str(ans.json, "data"), &len);
		assert_int_equal(len, 16);
	}
	e2e_answer_free(&ans);
	return ct;
}

static void expect_status(struct direct_tls *conn, const char *method, const char *target,
                          const char *idem, const char *body, int status, char **answer)
{
	struct e2e_answer ans;
	assert_int_equal(e2e_request(conn, method, target, idem, body, &ans), 0);
	if (ans.status != status)
		fprintf(stderr, "cluster: %s %s -> %d %s\n", method, target, ans.status,
		        ans.body != NULL ? ans.body : "");
	assert_int_equal(ans.status, status);
	if (answer != NULL)
		*answer = ans.body != NULL ? strdup(ans.body) : NULL;
	e2e_answer_free(&ans);
}

static void shared_state(void **state)
{
	(void)state;
	struct direct_tls *c[NODES];
	char card[41], group[37], key[96], target[160];
	char token[WSOP_ACTIVATION_MAX + 1];
	for (unsigned i = 0; i < NODES; i++)
		c[i] = e2e_connect_ok(&cl.node[i], E2E_CLIENT);

	/* Made on node 0, activated there; its token serves on 1 and 2. */
	e2e_softcard_ok(c[0], "shared", PIN, card);
	e2e_activate_ok(c[0], card, PIN);
	assert_true(e2e_activation_of(c[0], token));
	e2e_set_activation(c[1], token);
	e2e_set_activation(c[2], token);
	e2e_group_ok(c[1], "g", card, group);
	e2e_key_ok(c[2], group, "k", 256, NULL, key);
	uint8_t *ct[NODES];
	for (unsigned i = 0; i < NODES; i++)
		ct[i] = encrypt_on(c[i], key, 200);
	assert_memory_equal(ct[0], ct[1], 16);
	assert_memory_equal(ct[0], ct[2], 16);
	for (unsigned i = 0; i < NODES; i++)
		free(ct[i]);

	/* The same idempotent request on two nodes: one key, one answer. */
	char *first = NULL, *again = NULL;
	snprintf(target, sizeof(target), "/km/v1/groups/%s/keys", group);
	static const char gen[] =
	    "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"idem\"}}";
	expect_status(c[0], "POST", target, "cluster-idem-1", gen, 201, &first);
	expect_status(c[1], "POST", target, "cluster-idem-1", gen, 201, &again);
	assert_non_null(first);
	assert_non_null(again);
	assert_string_equal(first, again);
	free(first);
	free(again);

	/* Deleted on node 1: node 0, which just used it, no longer serves it. */
	snprintf(target, sizeof(target), "/%s", key);
	expect_status(c[1], "DELETE", target, NULL, NULL, 204, NULL);
	free(encrypt_on(c[0], key, 404));
	free(encrypt_on(c[2], key, 404));

	/* Ended on node 2: refused on 0 and 1, which had it in memory. */
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/deactivate", card);
	expect_status(c[2], "POST", target, NULL, "{}", 200, NULL);
	snprintf(target, sizeof(target), "/km/v1/groups/%s/keys", group);
	for (unsigned i = 0; i < 2; i++) {
		e2e_set_activation(c[i], token);
		struct e2e_answer ans;
		assert_int_equal(e2e_request(c[i], "GET", target, NULL, NULL, &ans), 0);
		e2e_assert_error(&ans, 403, "not_active");
		e2e_answer_free(&ans);
	}
	for (unsigned i = 0; i < NODES; i++) {
		e2e_set_activation(c[i], NULL);
		direct_tls_close(c[i]);
	}

	/* A node with another master key would make softcards the others
	 * cannot open: it refuses to start. */
	char other[E2E_PATH_MAX + 16];
	snprintf(other, sizeof(other), "%s/other.key", e2e_env.dir);
	write_master(other);
	const char *args[] = { "--store", cl.conninfo, "--master-key", other, NULL };
	struct e2e_server stranger;
	assert_int_not_equal(e2e_server_start(&stranger, &e2e_env, args), 0);
	assert_true(e2e_server_log_contains(&stranger, "refuses this master key"));
	for (unsigned i = 0; i < NODES; i++)
		assert_false(e2e_server_log_contains(&cl.node[i], "pass phrase"));
}

/* ---- nodes killed under the module ---------------------------------------------- */

static void write_config(void)
{
	assert_int_equal(
	    p11_fixture_write_config(&cl.node[0], e2e_env.dir, cl.config, sizeof(cl.config)), 0);
	FILE *f = fopen(cl.config, "a");
	assert_non_null(f);
	/* Later directives win over the fixture's. Two retries a second apart
	 * do not outlast a node down for up to 4 s: a call that stayed with
	 * its node would fail, so a clean run shows the module moving on. */
	fprintf(f, "HOST %s, %s, %s\nLOGLEVEL 4\nMAXRETRIES 2\nRETRYDELAY 1\nTIMEOUT 10\n",
	        cl.listen[0], cl.listen[1], cl.listen[2]);
	assert_int_equal(fclose(f), 0);
}

static CK_SESSION_HANDLE open_and_login(CK_SLOT_ID slot)
{
	CK_SESSION_HANDLE s;
	assert_int_equal(work_login(cl.f, slot, PIN, &s), CKR_OK);
	return s;
}

/* The first kill takes the node every connection starts with (HOST's
 * first), so that the module must move; later ones are at random. */
static void kill_and_restart(void)
{
	unsigned long total = cl.kills[0] + cl.kills[1] + cl.kills[2];
	unsigned i = total == 0 ? 0 : between(0, NODES - 1);
	(void)e2e_server_stop(&cl.node[i], SIGKILL);
	cl.kills[i]++;
	helper_watch_for(&cl.hw, between(1500, 4000), e2e_now_ms);
	node_up(i);
}

/* The module's log, for e2e's searches of a server log. */
static struct e2e_server module_log_of(void)
{
	struct e2e_server log = cl.node[0];
	snprintf(log.log_path, sizeof(log.log_path), "%.400s/p11.log", e2e_env.dir);
	return log;
}

static bool pin_in_logs(void)
{
	struct e2e_server module_log = module_log_of();
	bool found = e2e_server_log_contains(&module_log, "pass phrase");
	for (unsigned i = 0; i < NODES; i++)
		found = found || e2e_server_log_contains(&cl.node[i], "pass phrase");
	return found;
}

static void nodes_killed(void **state)
{
	(void)state;
	P11_NEED_HELPER();
	char card[41];
	printf("%u s of faults, seed %llu, nodes %s %s %s\n", cl.seconds,
	       (unsigned long long)cl.seed, cl.listen[0], cl.listen[1], cl.listen[2]);
	cl.f = p11_fixture_open(&cl.dl);
	assert_non_null(cl.f);
	struct direct_tls *conn = e2e_connect_ok(&cl.node[1], E2E_CLIENT);
	e2e_softcard_ok(conn, CARD, PIN, card);
	direct_tls_close(conn);
	write_config();
	assert_int_equal(work_initialize(cl.f), CKR_OK);
	CK_SLOT_ID slot = p11_slot_of(cl.f, CARD);
	CK_SESSION_HANDLE main_session = open_and_login(slot);
	CK_RV rv = work_prepare(&cl.work, cl.f, slot, main_session, cl.seed);
	if (rv != CKR_OK)
		fail_msg("making the reference key: %s", ckr_name(rv));
	rv = work_start(&cl.work);
	if (rv != CKR_OK)
		fail_msg("opening the workers' sessions: %s", ckr_name(rv));

	long long until = e2e_now_ms() + cl.seconds * 1000LL;
	while (e2e_now_ms() < until) {
		helper_watch_for(&cl.hw, between(2000, 4000), e2e_now_ms);
		kill_and_restart();
	}
	work_stop(&cl.work);
	while (atomic_load(&cl.work.running) > 0)
		helper_watch_for(&cl.hw, TICK_MS, e2e_now_ms);
	work_join(&cl.work);
	helper_watch_poll(&cl.hw);

	struct audit_run run = { .unexplained = cl.hw.unexplained, .count_failed = true };
	audit_run_of(&cl.work, &run);
	work_report(&cl.work);
	printf("nodes SIGKILLed and restarted: %lu, %lu, %lu\n", cl.kills[0], cl.kills[1],
	       cl.kills[2]);
	fflush(stdout);

	struct audit a;
	CK_RV fin;
	audit_after_restart(cl.f, p11_slot_of, CARD, PIN, &cl.work, &a, &fin);
	run.pin_logged = pin_in_logs();
	audit_print(&a, &run, fin);

	/* It did move: the module logged setting a node aside. */
	struct e2e_server module_log = module_log_of();
	int moves = e2e_server_log_count(&module_log, "set aside");
	printf("moves to another node logged by the module: %d\n", moves);
	assert_true(cl.kills[0] > 0);
	assert_true(moves > 0);
	assert_true(cl.work.workers[0].ops[OP_GENERATE] > 0);
	audit_assert_clean(&a, &run);
}

static int nodes_teardown(void **state)
{
	(void)state;
	work_join(&cl.work);
	work_free(&cl.work);
	if (cl.f != NULL)
		(void)cl.f->C_Finalize(NULL);
	if (cl.dl != NULL)
		dlclose(cl.dl);
	cl.dl = NULL;
	cl.f = NULL;
	return 0;
}

int main(int argc, char **argv)
{
	const char *secs = argc > 1 ? argv[1] : getenv("CLUSTER_SECONDS");
	cl.seconds = secs != NULL ? (unsigned)strtoul(secs, NULL, 10) : DEFAULT_SEC;
	if (argc > 2 || cl.seconds == 0 || cl.seconds > 24 * 3600) {
		fprintf(stderr, "usage: cluster [SECONDS]\n");
		return 2;
	}
	const char *seed = getenv("FAULTS_SEED");
	cl.seed =
	    seed != NULL ? strtoull(seed, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
	cl.rng = cl.seed * 0x9e3779b97f4a7c15ULL | 1;

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shared_state),
		cmocka_unit_test_teardown(nodes_killed, nodes_teardown),
	};
	return e2e_main_group("cluster", tests, sizeof(tests) / sizeof(tests[0]), group_setup,
	                      group_teardown);
}
