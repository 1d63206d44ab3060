/*
 * A login survives a move to another node, as it survives a restart: the
 * module has HOST "node 1, node 2" and is logged in on node 1; node 1 is
 * SIGKILLed and node 2 (a new wsopd process that never saw the login, on
 * its own port, on the same store and so the same master key) comes up.
 * The next calls move to node 2 with no new C_Login: the module presents
 * its activation token and node 2 opens it. A key generated there is made
 * once; the moves are logged with their cause; moving back works too.
 * Only one node runs at a time: the SQLite store is one process's. Real
 * module, real confined helper, real wsopd (tests/p11 fixture).
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/p11/p11_fixture.h"

#define PIN "failover pin"

static struct {
	struct p11_fx p11;
	struct e2e_server node2; /* node 1 is p11.srv */
	char port1[8], port2[8];
	char log[E2E_PATH_MAX + 16];
	char card[41];
} fx;

/* A loopback port that was free a moment ago. */
static int free_port(char out[8])
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int rc = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	                 getsockname(fd, (struct sockaddr *)&a, &len) == 0
	             ? 0
	             : -1;
	close(fd);
	snprintf(out, 8, "%u", (unsigned)ntohs(a.sin_port));
	return rc;
}

/* Later directives win: both nodes in HOST, retries 1 s apart. */
static int group_setup(void **state)
{
	(void)state;
	int rc = p11_fx_setup(&fx.p11);
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	snprintf(fx.port1, sizeof(fx.port1), "%s", fx.p11.srv.port);
	if (free_port(fx.port2) != 0)
		return -1;
	FILE *f = fopen(fx.p11.config, "a");
	if (f == NULL)
		return -1;
	fprintf(f, "HOST 127.0.0.1:%s, 127.0.0.1:%s\nMAXRETRIES 5\nRETRYDELAY 1\nTIMEOUT 5\n",
	        fx.port1, fx.port2);
	if (fclose(f) != 0)
		return -1;
	snprintf(fx.log, sizeof(fx.log), "%s/p11.log", e2e_env.dir);
	e2e_softcard_ok(fx.p11.conn, "moving", PIN, fx.card);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (fx.node2.pid != 0)
		(void)e2e_server_stop(&fx.node2, SIGTERM);
	p11_fx_teardown(&fx.p11);
	return 0;
}

/* Stops node from (SIGKILL), starts node to on the same store, on port. */
static void move(struct e2e_server *from, struct e2e_server *to, const char *port)
{
	char listen[32];
	const char *args[] = { "--listen", listen, NULL };
	snprintf(listen, sizeof(listen), "127.0.0.1:%s", port);
	(void)e2e_server_stop(from, SIGKILL);
	assert_int_equal(e2e_server_restart(to, args), 0);
	assert_string_equal(to->port, port);
}

static CK_OBJECT_HANDLE generate_ok(CK_SESSION_HANDLE s, const char *label)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	assert_int_equal(p11_generate_aes(fx.p11.f, s, label, &h), CKR_OK);
	return h;
}

static CK_RV encrypt_once(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key)
{
	return p11_encrypt_once(fx.p11.f, s, key);
}

static CK_ULONG count_label(CK_SESSION_HANDLE s, const char *label)
{
	CK_FUNCTION_LIST *f = fx.p11.f;
	CK_ATTRIBUTE t[] = { { CKA_LABEL, (void *)label, strlen(label) } };
	CK_OBJECT_HANDLE h[4];
	CK_ULONG n = 0;
	assert_int_equal(f->C_FindObjectsInit(s, t, 1), CKR_OK);
	assert_int_equal(f->C_FindObjects(s, h, 4, &n), CKR_OK);
	assert_int_equal(f->C_FindObjectsFinal(s), CKR_OK);
	return n;
}

static CK_STATE state_of(CK_SESSION_HANDLE s)
{
	CK_SESSION_INFO info;
	assert_int_equal(fx.p11.f->C_GetSessionInfo(s, &info), CKR_OK);
	return info.state;
}

/* The module's log holds text (read whole: it stays small here). */
static bool log_has(const char *text)
{
	static char all[1 << 20];
	FILE *f = fopen(fx.log, "r");
	assert_non_null(f);
	size_t n = fread(all, 1, sizeof(all) - 1, f);
	fclose(f);
	all[n] = '\0';
	if (strstr(all, text) != NULL)
		return true;
	fprintf(stderr, "not in %s: %s\n", fx.log, text);
	return false;
}

static void login_moves_to_a_node_that_never_saw_it(void **state)
{
	(void)state;
	P11_NEED_HELPER();
	CK_FUNCTION_LIST *f = fx.p11.f;
	CK_SLOT_ID slot;
	CK_ULONG n = 1;
	CK_SESSION_HANDLE s;

	assert_int_equal(f->C_Initialize(NULL), CKR_OK);
	assert_int_equal(f->C_GetSlotList(CK_TRUE, &slot, &n), CKR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(
	    f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s), CKR_OK);
	assert_int_equal(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)PIN, strlen(PIN)), CKR_OK);
	CK_OBJECT_HANDLE k1 = generate_ok(s, "on node 1");
	assert_int_equal(encrypt_once(s, k1), CKR_OK);

	/* Node 1 dies; node 2 comes up on the same store. */
	direct_tls_close(fx.p11.conn);
	fx.p11.conn = NULL;
	fx.node2 = fx.p11.srv;
	fx.node2.pid = 0;
	move(&fx.p11.srv, &fx.node2, fx.port2);
	assert_int_equal(encrypt_once(s, k1), CKR_OK);
	assert_int_equal(state_of(s), CKS_RW_USER_FUNCTIONS);
	char line[160];
	snprintf(
	    line, sizeof(line),
	    "request to 127.0.0.1:%s failed: connection refused (attempt 1 of 6); set aside for "
	    "1 s; trying 127.0.0.1:%s in 0 s",
	    fx.port1, fx.port2);
	assert_true(log_has(line));
	/* A key made on node 2 is made once, and both are found there. */
	CK_OBJECT_HANDLE k2 = generate_ok(s, "on node 2");
	assert_int_equal(encrypt_once(s, k2), CKR_OK);
	assert_int_equal(count_label(s, "on node 2"), 1);
	assert_int_equal(count_label(s, "on node 1"), 1);

	/* And back to node 1, still without a new C_Login. */
	move(&fx.node2, &fx.p11.srv, fx.port1);
	assert_int_equal(encrypt_once(s, k2), CKR_OK);
	assert_int_equal(encrypt_once(s, k1), CKR_OK);
	assert_int_equal(state_of(s), CKS_RW_USER_FUNCTIONS);
	/* No log line is asked for here: node 1's set-aside second may have
	 * lapsed by now (a slow machine), and then the first request goes to
	 * node 1 at once and never meets the dead node 2. */
	assert_int_equal(f->C_Logout(s), CKR_OK);
	assert_int_equal(f->C_Finalize(NULL), CKR_OK);
	fx.p11.conn = e2e_connect_ok(&fx.p11.srv, E2E_CLIENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(login_moves_to_a_node_that_never_saw_it),
	};
	return p11_main("p11_failover", tests, group_setup, group_teardown);
}
