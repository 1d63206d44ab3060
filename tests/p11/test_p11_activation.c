/*
 * The module's login belongs to the process (PKCS #11), not to the client
 * certificate, and survives a restart of wsopd:
 *  - a parent logged in keeps encrypting, with no CKR_USER_NOT_LOGGED_IN,
 *    while forked children that share its certificate log in, encrypt and
 *    end by C_Logout, by C_Finalize, or by dying without either;
 *  - after SIGKILL and a restart of wsopd on the same store, the logged-in
 *    application goes on without a new C_Login, and C_Logout works;
 *  - when the server no longer accepts the login (it expired), the call
 *    answers CKR_USER_NOT_LOGGED_IN, the session shows it, and a new
 *    C_Login works.
 * Real module, real confined helper, real wsopd (tests/p11 fixture).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/e2e/under_asan.h"
#include "tests/p11/p11_fixture.h"

#define PIN   "process pin"
#define LABEL "shared-key"
/* Children of the fork test, and how many run at once. */
#define CHILDREN     100
#define CHILD_BATCH  8
#define CHILD_CRYPTS 3

static struct {
	struct p11_fx p11;
	char card[41], group[37], key_path[96];
} fx;

static int group_setup(void **state)
{
	(void)state;
	int up = p11_fx_setup_card(&fx.p11, "proc", PIN, fx.card);
	if (up <= 0)
		return up;
	e2e_activate_ok(fx.p11.conn, fx.card, PIN);
	e2e_group_ok(fx.p11.conn, "g", fx.card, fx.group);
	e2e_key_ok(fx.p11.conn, fx.group, LABEL, 128, NULL, fx.key_path);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	p11_fx_teardown(&fx.p11);
	return 0;
}

/* The shared key (a private object: found again after each login).
 * Returns 0 or a step number; no cmocka here (children use it too). */
static int find_key(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *key)
{
	CK_ATTRIBUTE t[] = { { CKA_LABEL, (void *)LABEL, strlen(LABEL) } };
	CK_ULONG n = 0;

	if (f->C_FindObjectsInit(s, t, 1) != CKR_OK || f->C_FindObjects(s, key, 1, &n) != CKR_OK ||
	    f->C_FindObjectsFinal(s) != CKR_OK || n != 1)
		return 5;
	return 0;
}

/* A logged-in session of the only token, and the shared key. */
static int open_and_login(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE *s, CK_OBJECT_HANDLE *key)
{
	CK_SLOT_ID slot;
	CK_ULONG n = 1;

	if (f->C_GetSlotList(CK_TRUE, &slot, &n) != CKR_OK || n != 1)
		return 2;
	if (f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, s) != CKR_OK)
		return 3;
	if (f->C_Login(*s, CKU_USER, (CK_UTF8CHAR_PTR)PIN, strlen(PIN)) != CKR_OK)
		return 4;
	return find_key(f, *s, key);
}

static CK_STATE state_of(CK_SESSION_HANDLE s)
{
	CK_SESSION_INFO si;
	assert_int_equal(fx.p11.f->C_GetSessionInfo(s, &si), CKR_OK);
	return si.state;
}

/* ---- the parent's login outlives its children's ----------------------------- */

struct worker {
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	atomic_bool stop;
	long ok, not_logged_in, other;
	CK_RV last_other;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&w->stop)) {
		CK_RV rv = p11_encrypt_once(fx.p11.f, w->s, w->key);
		if (rv == CKR_OK) {
			w->ok++;
		} else if (rv == CKR_USER_NOT_LOGGED_IN) {
			w->not_logged_in++;
		} else {
			w->other++;
			w->last_other = rv;
		}
	}
	return NULL;
}

/* A child: its own C_Initialize and C_Login with the parent's certificate,
 * a few encryptions, then one of three ends. */
static int child_main(int i)
{
	CK_FUNCTION_LIST *f = fx.p11.f;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	int rc;

	if (f->C_Initialize(NULL) != CKR_OK)
		return 1;
	rc = open_and_login(f, &s, &key);
	if (rc != 0)
		return rc;
	for (int j = 0; j < CHILD_CRYPTS; j++)
		if (p11_encrypt_once(f, s, key) != CKR_OK)
			return 6;
	switch (i % 3) {
	case 0:
		if (f->C_Logout(s) != CKR_OK)
			return 7;
		return f->C_Finalize(NULL) == CKR_OK ? 0 : 8;
	case 1:
		return f->C_Finalize(NULL) == CKR_OK ? 0 : 9;
	default:
		/* Dies logged in: its helper follows it (parent-death signal). */
		_exit(0);
	}
}

static void children_do_not_log_the_parent_out(void **state)
{
	(void)state;
	P11_NEED_HELPER();
	CK_FUNCTION_LIST *f = fx.p11.f;
	CK_SESSION_HANDLE main_s;
	CK_OBJECT_HANDLE key;
	struct worker w = { 0 };
	pthread_t worker;
	long long t0 = e2e_now_ms();

	assert_int_equal(f->C_Initialize(NULL), CKR_OK);
	assert_int_equal(open_and_login(f, &main_s, &w.key), 0);
	key = w.key;
	assert_int_equal(
	    f->C_OpenSession(p11_slot_of(f, "proc"), CKF_SERIAL_SESSION, NULL, NULL, &w.s), CKR_OK);
	/* The parent's requests go on while it forks, except under ASan: the
	 * allocator of Debian 12's clang 14 ASan is not fork-safe, and a child
	 * forked beside a working thread hangs in its first free() (seen in 2
	 * of 3 runs, never without the thread). The plain build keeps it. */
	if (!UNDER_ASAN)
		assert_int_equal(pthread_create(&worker, NULL, worker_main, &w), 0);

	int failed = 0;
	for (int done = 0; done < CHILDREN;) {
		pid_t pids[CHILD_BATCH];
		int n = CHILDREN - done < CHILD_BATCH ? CHILDREN - done : CHILD_BATCH;
		for (int i = 0; i < n; i++) {
			fflush(NULL);
			pids[i] = fork();
			assert_true(pids[i] >= 0);
			if (pids[i] == 0)
				_exit(child_main(done + i));
		}
		for (int i = 0; i < n; i++) {
			int status = 0;
			assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				fprintf(stderr, "child %d: status 0x%x\n", done + i, status);
				failed++;
			}
		}
		done += n;
	}
	atomic_store(&w.stop, true);
	if (!UNDER_ASAN)
		assert_int_equal(pthread_join(worker, NULL), 0);
	fprintf(stderr,
	        "p11_activation: %d children in %lld ms; parent worker: %ld ok, %ld "
	        "CKR_USER_NOT_LOGGED_IN, %ld other (last 0x%lx)\n",
	        CHILDREN, e2e_now_ms() - t0, w.ok, w.not_logged_in, w.other,
	        (unsigned long)w.last_other);
	assert_int_equal(failed, 0);
	assert_int_equal(w.not_logged_in, 0);
	assert_int_equal(w.other, 0);
	assert_true(UNDER_ASAN || w.ok > 0);
	/* Still logged in, in every session; and the parent's own logout. */
	assert_int_equal(p11_encrypt_once(f, main_s, key), CKR_OK);
	assert_int_equal(f->C_Logout(main_s), CKR_OK);
	assert_int_equal(state_of(w.s), CKS_RO_PUBLIC_SESSION);
	assert_int_equal(f->C_Finalize(NULL), CKR_OK);
}

/* ---- the login outlives a restart of wsopd ------------------------------------ */

/* SIGKILL, then the same store and master key on the same port (the
 * module keeps its configuration). extra: more wsopd options or NULL. */
static void kill_and_restart_with(const char *const *more)
{
	char listen[32];
	const char *args[12] = { "--listen", listen };
	size_t n = 2;

	snprintf(listen, sizeof(listen), "127.0.0.1:%s", fx.p11.srv.port);
	for (; more != NULL && *more != NULL && n < 11; more++)
		args[n++] = *more;
	args[n] = NULL;
	if (fx.p11.conn != NULL)
		direct_tls_close(fx.p11.conn);
	fx.p11.conn = NULL;
	(void)e2e_server_stop(&fx.p11.srv, SIGKILL);
	assert_int_equal(e2e_server_restart(&fx.p11.srv, args), 0);
	assert_string_equal(fx.p11.srv.port, listen + strlen("127.0.0.1:"));
	fx.p11.conn = e2e_connect_ok(&fx.p11.srv, E2E_CLIENT);
}

static void kill_and_restart(const char *ttl)
{
	const char *more[] = { "--activation-ttl", ttl, NULL };
	kill_and_restart_with(ttl != NULL ? more : NULL);
}

/* The first call after the kill may find the old connection dead: the
 * module then retries on a new one (MAXRETRIES 1), so the call succeeds. */
static void login_survives_a_server_restart(void **state)
{
	(void)state;
	P11_NEED_HELPER();
	CK_FUNCTION_LIST *f = fx.p11.f;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;

	assert_int_equal(f->C_Initialize(NULL), CKR_OK);
	assert_int_equal(open_and_login(f, &s, &key), 0);
	assert_int_equal(p11_encrypt_once(f, s, key), CKR_OK);
	kill_and_restart(NULL);
	assert_int_equal(p11_encrypt_once(f, s, key), CKR_OK);
	assert_int_equal(state_of(s), CKS_RO_USER_FUNCTIONS);
	assert_int_equal(f->C_Logout(s), CKR_OK);
	assert_int_equal(state_of(s), CKS_RO_PUBLIC_SESSION);
	/* And a new login after yet another restart. */
	kill_and_restart(NULL);
	assert_int_equal(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)PIN, strlen(PIN)), CKR_OK);
	assert_int_equal(find_key(f, s, &key), 0);
	assert_int_equal(p11_encrypt_once(f, s, key), CKR_OK);
	assert_int_equal(f->C_Finalize(NULL), CKR_OK);
}

static void expired_login_is_logged_out_and_can_log_in_again(void **state)
{
	(void)state;
	P11_NEED_HELPER();
	CK_FUNCTION_LIST *f = fx.p11.f;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;

	kill_and_restart("3");
	assert_int_equal(f->C_Initialize(NULL), CKR_OK);
	assert_int_equal(open_and_login(f, &s, &key), 0);
	/* Past the three-second lifetime (counted in whole seconds, so at
	 * least two of them are left for the login above). */
	struct timespec ts = { 4, 100 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	assert_int_equal(p11_encrypt_once(f, s, key), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(state_of(s), CKS_RO_PUBLIC_SESSION);
	assert_int_equal(f->C_Logout(s), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)PIN, strlen(PIN)), CKR_OK);
	assert_int_equal(find_key(f, s, &key), 0);
	assert_int_equal(p11_encrypt_once(f, s, key), CKR_OK);
	assert_int_equal(f->C_Finalize(NULL), CKR_OK);
	kill_and_restart(NULL);
}

/* ---- the server's wrong-passphrase count in the token flags ------------------- */

#define PIN_FLAGS (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED)

static CK_FLAGS pin_flags(CK_SLOT_ID slot)
{
	CK_TOKEN_INFO ti;
	assert_int_equal(fx.p11.f->C_GetTokenInfo(slot, &ti), CKR_OK);
	return ti.flags & PIN_FLAGS;
}

static CK_RV login(CK_SESSION_HANDLE s, const char *pin)
{
	return fx.p11.f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
}

/* wsopd --max-login-failures 3: COUNT_LOW after one wrong passphrase,
 * FINAL_TRY after two (also as a fresh C_Initialize reads it from the
 * listing of a restarted server: the count is in the store), LOCKED after
 * three, when even the right passphrase is CKR_PIN_LOCKED; after the
 * lockout the right one logs in and every flag is gone. */
static void wrong_passphrases_count_lock_and_reset(void **state)
{
	(void)state;
	P11_NEED_HELPER();
	const char *lockout[] = { "--max-login-failures", "3", "--login-lockout", "3", NULL };
	CK_FUNCTION_LIST *f = fx.p11.f;
	CK_SESSION_HANDLE s;
	CK_SLOT_ID slot;
	CK_ULONG n = 1;

	kill_and_restart_with(lockout);
	assert_int_equal(f->C_Initialize(NULL), CKR_OK);
	assert_int_equal(f->C_GetSlotList(CK_TRUE, &slot, &n), CKR_OK);
	assert_int_equal(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
	assert_int_equal(pin_flags(slot), 0);
	assert_int_equal(login(s, "not the pin"), CKR_PIN_INCORRECT);
	assert_int_equal(pin_flags(slot), CKF_USER_PIN_COUNT_LOW);
	assert_int_equal(login(s, "not the pin"), CKR_PIN_INCORRECT);
	assert_int_equal(pin_flags(slot), CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);

	assert_int_equal(f->C_Finalize(NULL), CKR_OK);
	kill_and_restart_with(lockout);
	assert_int_equal(f->C_Initialize(NULL), CKR_OK);
	n = 1;
	assert_int_equal(f->C_GetSlotList(CK_TRUE, &slot, &n), CKR_OK);
	assert_int_equal(pin_flags(slot), CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
	assert_int_equal(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
	assert_int_equal(login(s, "not the pin"), CKR_PIN_INCORRECT);
	assert_int_equal(pin_flags(slot), CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_LOCKED);
	assert_int_equal(login(s, PIN), CKR_PIN_LOCKED);
	assert_int_equal(state_of(s), CKS_RO_PUBLIC_SESSION);

	struct timespec ts = { 3, 200 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	assert_int_equal(login(s, PIN), CKR_OK);
	assert_int_equal(pin_flags(slot), 0);
	assert_int_equal(f->C_Logout(s), CKR_OK);
	assert_int_equal(f->C_Finalize(NULL), CKR_OK);
	kill_and_restart(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(children_do_not_log_the_parent_out),
		cmocka_unit_test(login_survives_a_server_restart),
		cmocka_unit_test(expired_login_is_logged_out_and_can_log_in_again),
		cmocka_unit_test(wrong_passphrases_count_lock_and_reset),
	};
	return p11_main("p11_activation", tests, group_setup, group_teardown);
}
