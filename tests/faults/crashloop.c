/*
 * The crash loop: libpkcs11wsop.so (dlopen), its real confined helper and
 * a real wsopd, under WORKERS threads of work (workload.h) while one
 * scenario of faults plays, then an audit of every answer (audit.h).
 *
 * Usage: crashloop SCENARIO [SECONDS]   (or $FAULTS_SECONDS; default 12)
 *   wsopd    wsopd is SIGKILLed every 2-4 s and restarted 0-1.5 s later
 *            on the same port with the same store (and master key);
 *   helper   the module's helper is SIGKILLed every 1-3 s;
 *   network  the module reaches wsopd through fault_proxy.h, which
 *            resets, delays, swallows, cuts after N bytes (either way) or
 *            refuses for 0.3-1.5 s at a time, 0.5-2 s apart;
 *   all      one of the three above at a time, at random, each with
 *            its own spacing.
 * $FAULTS_SEED fixes the random choices (printed at the start).
 *
 * The module's configuration (appended to the fixture's: a later directive
 * wins) is MAXRETRIES 8, RETRYDELAY 1, TIMEOUT 10: a restart keeps wsopd
 * away for at most 1.5 s plus its start (well under a second here, a
 * couple under load), so 8 retries one second apart outlast it, each
 * attempt within its 10 s. A blackhole lasts at most 1.5 s and its
 * connections are reset when it ends, so a call caught in one is sent again
 * well within its retries too. After the faults stop, the attempt in flight
 * ends within TIMEOUT and the next, RETRYDELAY later, succeeds, which
 * bounds the test's drain.
 *
 * Verdict, after the faults stopped: 0 wrong results, 0 keys acknowledged
 * but missing, 0 keys present whose C_GenerateKey failed, 0 keys absent
 * whose C_DestroyObject failed, 0 keys present whose C_DestroyObject
 * returned CKR_OK, 0 labels on two keys, 0 CKR_USER_NOT_LOGGED_IN (the
 * token is logged in throughout), 0 helpers dead without the test killing
 * them, and no passphrase in either log.
 */
#include <dlfcn.h>
#include <errno.h>
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
#include "tests/faults/fault_proxy.h"
#include "tests/faults/workload.h"
#include "tests/p11/p11_fixture.h"

#define CARD        "faults"
#define PIN         "pass phrase faults"
#define TICK_MS     50
#define DEFAULT_SEC 12

enum fault { F_WSOPD, F_HELPER, F_NETWORK, F_KINDS };

static const struct scenario {
	const char *name;
	bool kinds[F_KINDS];
} scenarios[] = {
	{ "wsopd", { true, false, false } },
	{ "helper", { false, true, false } },
	{ "network", { false, false, true } },
	{ "all", { true, true, true } },
};

static struct {
	const struct scenario *sc;
	unsigned seconds;
	uint64_t seed, rng;
	void *dl;
	CK_FUNCTION_LIST *f;
	struct e2e_server srv;
	char listen[32]; /* "127.0.0.1:PORT" of wsopd, kept across restarts */
	struct fproxy *px;
	struct helper_watch hw;
	struct work work;
	unsigned long wsopd_kills, proxy_faults[FP_MODES];
	char config[E2E_PATH_MAX + 32];
} cl;

static uint64_t rnd(void)
{
	return work_rnd(&cl.rng);
}

static unsigned between(unsigned lo, unsigned hi)
{
	return lo + (unsigned)(rnd() % (hi - lo + 1));
}

/* ---- faults ------------------------------------------------------------------ */

static void wsopd_up(void)
{
	const char *args[] = { "--listen", cl.listen, "--log-level", "4", NULL };
	/* The port may take a moment to be free again. */
	for (int i = 0; i < 20 && cl.srv.pid == 0; i++)
		if (e2e_server_restart(&cl.srv, args) != 0)
			helper_watch_for(&cl.hw, 250, e2e_now_ms);
	assert_true(cl.srv.pid != 0);
}

static void crash_wsopd(void)
{
	(void)e2e_server_stop(&cl.srv, SIGKILL);
	cl.wsopd_kills++;
	helper_watch_for(&cl.hw, between(0, 1500), e2e_now_ms);
	wsopd_up();
}

static void crash_helper(void)
{
	(void)helper_watch_kill(&cl.hw);
}

/* Back to forwarding; listening again after FP_REFUSE may need a moment
 * (the port is ours again once nothing else holds it). */
static void proxy_forward(void)
{
	for (int i = 0; i < 20 && fproxy_set(cl.px, FP_FORWARD, 0) != 0; i++)
		helper_watch_for(&cl.hw, 250, e2e_now_ms);
	assert_int_equal(fproxy_set(cl.px, FP_FORWARD, 0), 0);
}

static void network_fault(void)
{
	static const enum fproxy_mode faults[] = { FP_RESET,    FP_DELAY,    FP_BLACKHOLE,
		                                   FP_DROP_C2S, FP_DROP_S2C, FP_REFUSE };
	enum fproxy_mode mode = faults[rnd() % (sizeof(faults) / sizeof(faults[0]))];
	unsigned arg = mode == FP_DELAY ? between(20, 200) : between(0, 3000);
	(void)fproxy_set(cl.px, mode, arg);
	cl.proxy_faults[mode]++;
	helper_watch_for(&cl.hw, between(300, 1500), e2e_now_ms);
	proxy_forward();
}

static void play(long long until)
{
	while (e2e_now_ms() < until) {
		enum fault kind;
		do
			kind = (enum fault)(rnd() % F_KINDS);
		while (!cl.sc->kinds[kind]);
		switch (kind) {
		case F_WSOPD:
			helper_watch_for(&cl.hw, between(2000, 4000), e2e_now_ms);
			crash_wsopd();
			break;
		case F_HELPER:
			helper_watch_for(&cl.hw, between(1000, 3000), e2e_now_ms);
			crash_helper();
			break;
		default:
			helper_watch_for(&cl.hw, between(500, 2000), e2e_now_ms);
			network_fault();
			break;
		}
	}
}

/* ---- set-up ------------------------------------------------------------------ */

static void write_config(unsigned port)
{
	assert_int_equal(
	    p11_fixture_write_config(&cl.srv, e2e_env.dir, cl.config, sizeof(cl.config)), 0);
	FILE *f = fopen(cl.config, "a");
	assert_non_null(f);
	/* Later directives win over the fixture's (see the top comment). */
	fprintf(f, "PORT %u\nLOGLEVEL 4\nMAXRETRIES 8\nRETRYDELAY 1\nTIMEOUT 10\n", port);
	assert_int_equal(fclose(f), 0);
}

static CK_SESSION_HANDLE open_and_login(CK_SLOT_ID slot)
{
	CK_SESSION_HANDLE s;
	assert_int_equal(work_login(cl.f, slot, PIN, &s), CKR_OK);
	return s;
}

static void start_everything(CK_SLOT_ID *slot, CK_SESSION_HANDLE *main_session)
{
	const char *args[] = { "--log-level", "4", NULL };
	char card[41];
	cl.f = p11_fixture_open(&cl.dl);
	assert_non_null(cl.f);
	assert_int_equal(e2e_server_start(&cl.srv, &e2e_env, args), 0);
	snprintf(cl.listen, sizeof(cl.listen), "127.0.0.1:%s", cl.srv.port);
	struct direct_tls *conn = e2e_connect_ok(&cl.srv, E2E_CLIENT);
	e2e_softcard_ok(conn, CARD, PIN, card);
	direct_tls_close(conn);

	unsigned port = (unsigned)atoi(cl.srv.port);
	if (cl.sc->kinds[F_NETWORK]) {
		assert_int_equal(fproxy_start(&cl.px, 0, port), 0);
		port = fproxy_port(cl.px);
	}
	write_config(port);
	assert_int_equal(work_initialize(cl.f), CKR_OK);
	*slot = p11_slot_of(cl.f, CARD);
	*main_session = open_and_login(*slot);
	CK_RV rv = work_prepare(&cl.work, cl.f, *slot, *main_session, cl.seed);
	if (rv != CKR_OK)
		fail_msg("making the reference key: %s", ckr_name(rv));
	rv = work_start(&cl.work);
	if (rv != CKR_OK)
		fail_msg("opening the workers' sessions: %s", ckr_name(rv));
}

/* ---- the report ---------------------------------------------------------------- */

static void print_faults(void)
{
	printf("faults injected: wsopd SIGKILL+restart %lu, helper SIGKILL %lu", cl.wsopd_kills,
	       cl.hw.kills);
	if (cl.px != NULL) {
		struct fproxy_stats st;
		fproxy_stats(cl.px, &st);
		printf(", network:");
		for (int m = 1; m < FP_MODES; m++)
			printf(" %s=%lu", fproxy_mode_name((enum fproxy_mode)m),
			       cl.proxy_faults[m]);
		printf(" (connections %lu, reset %lu, chunks delayed %lu, bytes swallowed %lu)",
		       st.accepted, st.resets, st.delayed_chunks, st.swallowed);
	}
	printf("\nhelpers: %lu seen, %lu killed by the test, %lu died otherwise\n", cl.hw.spawned,
	       cl.hw.kills, cl.hw.unexplained);
}

/* ---- the test ---------------------------------------------------------------- */

/* The module's log lines about its helpers (how each ended, one found
 * hung, one that did not start), for a helper that died unexplained:
 * the log goes with the test's folder. */
static void print_helper_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	if (f == NULL)
		return;
	fprintf(stderr, "the module's log about its helpers:\n");
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "helper") != NULL &&
		    (strstr(line, " ERROR ") != NULL || strstr(line, "event=helper_") != NULL))
			fputs(line, stderr);
	fclose(f);
}

static void crash_loop(void **state)
{
	(void)state;
	P11_NEED_HELPER();
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE main_session;
	printf("scenario %s, %u s, seed %llu\n", cl.sc->name, cl.seconds,
	       (unsigned long long)cl.seed);
	start_everything(&slot, &main_session);

	play(e2e_now_ms() + cl.seconds * 1000LL);

	/* Faults off; the calls in flight end (within TIMEOUT + RETRYDELAY
	 * and one more attempt). */
	if (cl.px != NULL)
		proxy_forward();
	work_stop(&cl.work);
	while (atomic_load(&cl.work.running) > 0)
		helper_watch_for(&cl.hw, TICK_MS, e2e_now_ms);
	work_join(&cl.work);
	helper_watch_poll(&cl.hw);

	struct audit_run run = { .unexplained = cl.hw.unexplained };
	audit_run_of(&cl.work, &run);

	work_report(&cl.work);
	print_faults();
	fflush(stdout);

	struct audit a;
	CK_RV fin;
	audit_after_restart(cl.f, p11_slot_of, CARD, PIN, &cl.work, &a, &fin);

	/* e2e's search of a server log, on the module's log as well. */
	struct e2e_server module_log = cl.srv;
	snprintf(module_log.log_path, sizeof(module_log.log_path), "%.400s/p11.log", e2e_env.dir);
	run.pin_logged = e2e_server_log_contains(&cl.srv, "pass phrase") ||
	                 e2e_server_log_contains(&module_log, "pass phrase");
	audit_print(&a, &run, fin);
	if (run.unexplained > 0)
		print_helper_lines(module_log.log_path);

	/* The run did what it claims: faults, and work that got through. */
	assert_true(cl.wsopd_kills + cl.hw.kills > 0 || cl.px != NULL);
	assert_true(cl.work.workers[0].ops[OP_GENERATE] > 0);
	audit_assert_clean(&a, &run);
}

static int teardown(void **state)
{
	(void)state;
	work_join(&cl.work);
	work_free(&cl.work);
	fproxy_stop(cl.px);
	cl.px = NULL;
	if (cl.srv.pid > 0)
		(void)e2e_server_stop(&cl.srv, SIGTERM);
	/* Whatever a failed assertion left: the module goes, its helper with it. */
	if (cl.f != NULL)
		(void)cl.f->C_Finalize(NULL);
	if (cl.dl != NULL)
		dlclose(cl.dl);
	cl.dl = NULL;
	cl.f = NULL;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: crashloop wsopd|helper|network|all [SECONDS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3)
		return usage();
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (strcmp(argv[1], scenarios[i].name) == 0)
			cl.sc = &scenarios[i];
	const char *secs = argc == 3 ? argv[2] : getenv("FAULTS_SECONDS");
	cl.seconds = secs != NULL ? (unsigned)strtoul(secs, NULL, 10) : DEFAULT_SEC;
	if (cl.sc == NULL || cl.seconds == 0 || cl.seconds > 24 * 3600)
		return usage();
	const char *seed = getenv("FAULTS_SEED");
	cl.seed =
	    seed != NULL ? strtoull(seed, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
	cl.rng = cl.seed * 0x9e3779b97f4a7c15ULL | 1;

	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(crash_loop, teardown),
	};
	char name[32];
	snprintf(name, sizeof(name), "faults_%s", cl.sc->name);
	return e2e_main_group(name, tests, 1, NULL, NULL);
}
