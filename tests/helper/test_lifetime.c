/*
 * How long the helper lives, through the real module (libpkcs11wsop.so,
 * dlopen), the real helper and a real wsopd: it lives as long as the
 * application process, not as long as the thread that happened to start
 * it, and it ends within a second when the application is killed, also
 * when the application left a forked child running.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/helper/proc_status.h"
#include "tests/p11/p11_fixture.h"

#define PIN "pass phrase L"

static struct {
	struct p11_fx p11;
	char card[41];
} fx;

static int group_setup(void **state)
{
	(void)state;
	int up = p11_fx_setup_card(&fx.p11, "lifetime", PIN, fx.card);
	if (up <= 0)
		return up;
	/* Orphaned helpers of the killed applications become our children,
	 * so that the test can see them end and reap them. */
	return prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	p11_fx_teardown(&fx.p11);
	return 0;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The state letter of pid ('Z' zombie...), or 0 when it does not exist. */
static char proc_state(pid_t pid, pid_t *ppid, char comm[32])
{
	char path[64], buf[512];
	int parent = 0;
	char state = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *open = strchr(buf, '(');
	const char *close = strrchr(buf, ')');
	if (open == NULL || close == NULL || sscanf(close + 1, " %c %d", &state, &parent) != 2)
		return 0;
	if (ppid != NULL)
		*ppid = parent;
	if (comm != NULL)
		snprintf(comm, 32, "%.*s", (int)(close - open - 1), open + 1);
	return state;
}

/* The live helper whose parent is parent, or 0. */
static pid_t helper_of(pid_t parent)
{
	DIR *d = opendir("/proc");
	pid_t found = 0;

	if (d == NULL)
		return 0;
	for (struct dirent *e; found == 0 && (e = readdir(d)) != NULL;) {
		pid_t pid = (pid_t)atoi(e->d_name);
		pid_t pp = 0;
		char comm[32];
		char st = pid > 0 ? proc_state(pid, &pp, comm) : 0;
		/* comm is cut to 15 characters: "pkcs11wsop-help" */
		if (st != 0 && st != 'Z' && pp == parent && strncmp(comm, "pkcs11wsop-h", 12) == 0)
			found = pid;
	}
	closedir(d);
	return found;
}

static bool alive(pid_t pid)
{
	char st = proc_state(pid, NULL, NULL);
	return st != 0 && st != 'Z';
}

struct init_result {
	CK_RV rv;
	pid_t helper; /* the helper this thread started */
};

static void *initialize(void *arg)
{
	struct init_result *r = arg;

	CK_ULONG n = 0;
	r->rv = fx.p11.f->C_Initialize(NULL);
	/* C_Initialize starts the helper without waiting for it; this call
	 * waits, so that it has dropped its privileges when we look. */
	if (r->rv == CKR_OK)
		r->rv = fx.p11.f->C_GetSlotList(CK_TRUE, NULL, &n);
	r->helper = helper_of(getpid());
	return NULL;
}

static void login_and_encrypt(CK_FUNCTION_LIST *f)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	CK_BBOOL yes = CK_TRUE;
	CK_ULONG len = 32;
	char label[] = "lifetime key";
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },     { CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_ENCRYPT, &yes, sizeof(yes) },   { CKA_DECRYPT, &yes, sizeof(yes) },
		{ CKA_VALUE_LEN, &len, sizeof(len) }, { CKA_LABEL, label, sizeof(label) - 1 },
	};
	CK_MECHANISM gen = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_BYTE iv[16] = { 0 };
	CK_MECHANISM cbc = { CKM_AES_CBC_PAD, iv, sizeof(iv) };
	CK_BYTE plain[] = "after the first thread ended";
	CK_BYTE out[64];
	CK_ULONG out_len = sizeof(out);

	CK_SLOT_ID slot = p11_slot_of(f, "lifetime");
	assert_int_equal(
	    f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s), CKR_OK);
	assert_int_equal(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)PIN, strlen(PIN)), CKR_OK);
	assert_int_equal(f->C_GenerateKey(s, &gen, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), &key),
	                 CKR_OK);
	assert_int_equal(f->C_EncryptInit(s, &cbc, key), CKR_OK);
	assert_int_equal(f->C_Encrypt(s, plain, sizeof(plain), out, &out_len), CKR_OK);
	assert_int_equal(out_len, 32);
	assert_int_equal(f->C_DestroyObject(s, key), CKR_OK);
	assert_int_equal(f->C_Logout(s), CKR_OK);
	assert_int_equal(f->C_CloseSession(s), CKR_OK);
}

/* A thread pool: one thread initializes and ends, another works. */
static void helper_outlives_the_thread_that_started_it(void **state)
{
	(void)state;
	pthread_t t;
	struct init_result r = { CKR_GENERAL_ERROR, 0 };

	P11_NEED_HELPER();
	assert_int_equal(pthread_create(&t, NULL, initialize, &r), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.rv, CKR_OK);
	pid_t helper = r.helper;
	assert_true(helper > 0);
	if (geteuid() == 0) {
		/* A root application's helper keeps no capability. */
		char v[64];
		proc_status_field(helper, "CapEff", v, sizeof(v));
		assert_string_equal(v, "0000000000000000");
		proc_status_field(helper, "CapBnd", v, sizeof(v));
		assert_string_equal(v, "0000000000000000");
	}
	/* A parent-death signal tied to that thread would have landed by now. */
	nap_ms(300);
	assert_true(alive(helper));
	login_and_encrypt(fx.p11.f);
	assert_int_equal(helper_of(getpid()), helper);
	assert_int_equal(fx.p11.f->C_Finalize(NULL), CKR_OK);
}

/* C_Initialize starts a helper and C_Finalize with no call between ends
 * it: nothing is left behind, and the log says how each one ended (killed
 * before it was needed, or started and exited when it was quicker), with
 * no error. */
static void helper_nobody_used_is_gone_after_finalize(void **state)
{
	(void)state;
	char log[E2E_PATH_MAX + 16];
	enum { CYCLES = 20 };

	P11_NEED_HELPER();
	snprintf(log, sizeof(log), "%s/p11.log", e2e_env.dir);
	int unused = e2e_file_count(log, "audit event=helper_unused outcome=success");
	int exited = e2e_file_count(log, "audit event=helper_exit outcome=success");
	int errors = e2e_file_count(log, " ERROR ");
	for (int i = 0; i < CYCLES; i++) {
		assert_int_equal(fx.p11.f->C_Initialize(NULL), CKR_OK);
		pid_t helper = helper_of(getpid());
		assert_true(helper > 0);
		assert_int_equal(fx.p11.f->C_Finalize(NULL), CKR_OK);
		/* Reaped: not even a zombie. */
		assert_int_equal(proc_state(helper, NULL, NULL), 0);
	}
	unused = e2e_file_count(log, "audit event=helper_unused outcome=success") - unused;
	exited = e2e_file_count(log, "audit event=helper_exit outcome=success") - exited;
	print_message("%d helpers stopped unused, %d started and exited\n", unused, exited);
	assert_int_equal(unused + exited, CYCLES);
	assert_true(unused > 0);
	assert_int_equal(e2e_file_count(log, " ERROR "), errors);
}

/* True when this process holds an AF_UNIX SOCK_SEQPACKET socket, the kind
 * that only the helper channels are here. */
static bool holds_a_channel(void)
{
	for (int fd = 0; fd < 1024; fd++) {
		int type = 0;
		socklen_t len = sizeof(type);
		struct sockaddr_storage at;
		socklen_t at_len = sizeof(at);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
		    type == SOCK_SEQPACKET &&
		    getsockname(fd, (struct sockaddr *)&at, &at_len) == 0 &&
		    at.ss_family == AF_UNIX)
			return true;
	}
	return false;
}

/* Forks children that report whether they inherited a channel end. */
static struct {
	atomic_bool stop;
	atomic_int forks;
	atomic_int leaks;
} forker;

static void *fork_all_along(void *arg)
{
	(void)arg;
	while (!atomic_load(&forker.stop)) {
		int status = 0;
		pid_t pid = fork();
		if (pid == 0)
			_exit(holds_a_channel() ? 1 : 0);
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			continue;
		atomic_fetch_add(&forker.forks, 1);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			atomic_fetch_add(&forker.leaks, 1);
	}
	return NULL;
}

/* A child forked by the application (no exec) holds no end of any helper
 * channel: neither of a running helper, nor of one being started while it
 * forked; else it could keep a helper alive after the application died. */
static void forked_children_hold_no_channel_end(void **state)
{
	(void)state;
	pthread_t t;
	int status = 0;

	P11_NEED_HELPER();
	assert_int_equal(fx.p11.f->C_Initialize(NULL), CKR_OK);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(holds_a_channel() ? 1 : 0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(fx.p11.f->C_Finalize(NULL), CKR_OK);

	/* Forks racing the start of helpers. */
	atomic_store(&forker.stop, false);
	assert_int_equal(pthread_create(&t, NULL, fork_all_along, NULL), 0);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(fx.p11.f->C_Initialize(NULL), CKR_OK);
		assert_int_equal(fx.p11.f->C_Finalize(NULL), CKR_OK);
	}
	atomic_store(&forker.stop, true);
	assert_int_equal(pthread_join(t, NULL), 0);
	print_message("%d children forked during 10 helper starts, %d with a channel end\n",
	              atomic_load(&forker.forks), atomic_load(&forker.leaks));
	assert_true(atomic_load(&forker.forks) > 0);
	assert_int_equal(atomic_load(&forker.leaks), 0);
}

/* The application: initializes, optionally forks a child that stays,
 * reports "helper child" on the pipe, then waits to be killed. Runs in a
 * forked process, so it exits with a code instead of asserting. */
static void run_application(int report, bool leave_child)
{
	CK_FUNCTION_LIST *f = fx.p11.f;
	CK_ULONG n = 0;
	pid_t pids[2] = { 0, 0 };

	if (f->C_Initialize(NULL) != CKR_OK || f->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK)
		_exit(2);
	pids[0] = helper_of(getpid());
	if (pids[0] <= 0)
		_exit(3);
	if (leave_child) {
		pids[1] = fork();
		if (pids[1] < 0)
			_exit(4);
		if (pids[1] == 0) {
			/* The forked child lives on, without exec. */
			for (int i = 0; i < 600; i++)
				nap_ms(100);
			_exit(0);
		}
	}
	if (write(report, pids, sizeof(pids)) != (ssize_t)sizeof(pids))
		_exit(5);
	for (;;)
		pause();
}

static void helper_ends_with_the_application(bool leave_child)
{
	int p[2];
	pid_t pids[2];
	int status;

	P11_NEED_HELPER();
	assert_int_equal(pipe(p), 0);
	pid_t app = fork();
	assert_true(app >= 0);
	if (app == 0) {
		close(p[0]);
		run_application(p[1], leave_child);
	}
	close(p[1]);
	ssize_t got = read(p[0], pids, sizeof(pids));
	close(p[0]);
	if (got != (ssize_t)sizeof(pids)) {
		(void)waitpid(app, &status, 0);
		fail_msg("the application failed to start (status 0x%x)", (unsigned)status);
	}
	pid_t helper = pids[0];
	assert_true(alive(helper));
	assert_int_equal(kill(app, SIGKILL), 0);
	assert_int_equal(waitpid(app, &status, 0), app);
	long long t0 = e2e_now_ms();
	while (alive(helper) && e2e_now_ms() - t0 < 1000)
		nap_ms(10);
	bool gone = !alive(helper);
	print_message("helper %s %lld ms after the application was killed\n",
	              gone ? "gone" : "still there", e2e_now_ms() - t0);
	if (leave_child) {
		assert_true(alive(pids[1]));
		(void)kill(pids[1], SIGKILL);
		(void)waitpid(pids[1], &status, 0);
	}
	if (!gone)
		(void)kill(helper, SIGKILL);
	/* We are the subreaper: the orphaned helper was ours to reap. */
	(void)waitpid(helper, &status, 0);
	assert_true(gone);
}

static void helper_ends_when_the_application_is_killed(void **state)
{
	(void)state;
	helper_ends_with_the_application(false);
}

static void helper_ends_when_the_application_is_killed_leaving_a_child(void **state)
{
	(void)state;
	helper_ends_with_the_application(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(helper_outlives_the_thread_that_started_it),
		cmocka_unit_test(forked_children_hold_no_channel_end),
		cmocka_unit_test(helper_nobody_used_is_gone_after_finalize),
		cmocka_unit_test(helper_ends_when_the_application_is_killed),
		cmocka_unit_test(helper_ends_when_the_application_is_killed_leaving_a_child),
	};
	return p11_main("helper_lifetime", tests, group_setup, group_teardown);
}
