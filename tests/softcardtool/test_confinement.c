/*
 * The helper's confinement, observed on running processes: an application
 * (this program re-executed with --app MODE) loads libpkcs11wsop.so,
 * which starts the helper; the tests look at both through /proc and
 * strace.
 *
 * Environment (tests/softcardtool/meson.build): PKCS11WSOP_MODULE,
 * PKCS11WSOP_HELPER, HELPER_OPENAT (test-only helper that dies of SIGSYS
 * on its first SEND when "<config dir>/helper-openat-once" existed at its
 * start), WSOPD and WSOP_PKI_SH. Missing pieces skip (exit 77).
 *
 * Under AddressSanitizer the whole program skips: ASan's runtime calls
 * madvise, which the helper's policy does not allow, so a confined ASan
 * helper is killed, and the policy is not widened for it.
 *
 * CI runs as root. None of these checks changes meaning with privileges:
 * they observe which process opens the key and what the kernel reports for
 * the helper, not whether the application could read the key, so the
 * application runs as the test's own user.
 */
#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <p11-kit/pkcs11.h>

#include "tests/e2e/e2e.h"
#include "tests/e2e/under_asan.h"
#include "tests/p11/p11_load.h"
#include "tests/softcardtool/sct_run.h"

static char self_exe[PATH_MAX];

/* ---- the application side (run as "--app MODE") ------------------------ */

static CK_FUNCTION_LIST_PTR app_load(void)
{
	void *h;
	const char *why = NULL;
	CK_FUNCTION_LIST_PTR f = p11_load(getenv("PKCS11WSOP_MODULE"), &h, &why);
	if (f == NULL) {
		printf("loading the module failed: %s\n", why);
		exit(3);
	}
	return f;
}

/* The helper: our child whose executable is $PKCS11WSOP_HELPER. */
static pid_t find_helper(pid_t parent)
{
	char want[PATH_MAX];
	const char *helper = getenv("PKCS11WSOP_HELPER");
	if (helper == NULL || realpath(helper, want) == NULL)
		return 0;
	DIR *d = opendir("/proc");
	if (d == NULL)
		return 0;
	pid_t found = 0;
	struct dirent *e;
	while (found == 0 && (e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		char path[300], exe[PATH_MAX], stat[512];
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		size_t n = fread(stat, 1, sizeof(stat) - 1, f);
		fclose(f);
		stat[n] = '\0';
		/* "pid (comm) state ppid ...": comm may hold spaces. */
		char *close_paren = strrchr(stat, ')');
		char state;
		long ppid;
		if (close_paren == NULL || sscanf(close_paren + 1, " %c %ld", &state, &ppid) != 2 ||
		    ppid != (long)parent)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/exe", e->d_name);
		ssize_t len = readlink(path, exe, sizeof(exe) - 1);
		if (len <= 0)
			continue;
		exe[len] = '\0';
		if (strcmp(exe, want) == 0)
			found = (pid_t)atol(e->d_name);
	}
	closedir(d);
	return found;
}

static void print_status_lines(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	char *s = sct_slurp(path);
	for (char *line = strtok(s, "\n"); line != NULL; line = strtok(NULL, "\n"))
		if (strncmp(line, "Seccomp:", 8) == 0 || strncmp(line, "NoNewPrivs:", 11) == 0)
			printf("%s\n", line);
	free(s);
}

static int app_main(const char *mode)
{
	CK_FUNCTION_LIST_PTR f = app_load();
	CK_RV rv = f->C_Initialize(NULL);
	printf("init 0x%lx\n", (unsigned long)rv);
	if (strcmp(mode, "init") == 0 || rv != CKR_OK) {
		if (rv == CKR_OK)
			f->C_Finalize(NULL);
		return 0;
	}
	/* The helper confines itself before READY, which C_Initialize does
	 * not wait for: a first call does. */
	if (strcmp(mode, "status") == 0) {
		CK_ULONG count = 0;
		rv = f->C_GetSlotList(CK_FALSE, NULL, &count);
		printf("list0 0x%lx\n", (unsigned long)rv);
	}
	pid_t helper = find_helper(getpid());
	printf("app %ld helper %ld\n", (long)getpid(), (long)helper);
	fflush(stdout);
	if (strcmp(mode, "status") == 0) {
		if (helper != 0)
			print_status_lines(helper);
	} else if (strcmp(mode, "hold") == 0) {
		for (;;)
			pause();
	} else {
		/* "list" and "openat": two slot listings in a row. */
		for (int i = 0; i < 2; i++) {
			CK_ULONG count = 0;
			rv = f->C_GetSlotList(CK_FALSE, NULL, &count);
			printf("list%d 0x%lx\n", i + 1, (unsigned long)rv);
		}
	}
	f->C_Finalize(NULL);
	return 0;
}

/* ---- the tests --------------------------------------------------------- */

static int teardown(void **state)
{
	return sct_fixture_teardown(state, false);
}

static void run_app(const char *mode, struct sct_result *res)
{
	const char *argv[] = { self_exe, "--app", mode, NULL };
	sct_run(argv, NULL, res);
	if (sct_exit_code(res) != 0)
		fprintf(stderr, "app %s: exit %d\n%s%s", mode, sct_exit_code(res), res->out,
		        res->err);
	assert_int_equal(sct_exit_code(res), 0);
}

static void dump_on_failure(const struct sct_fixture *fx, const struct sct_result *res)
{
	char *log = sct_slurp(fx->cfg.log);
	fprintf(stderr, "app output:\n%s\n---- %s ----\n%s", res->out, fx->cfg.log, log);
	free(log);
}

static void test_helper_runs_under_seccomp_with_no_new_privs(void **state)
{
	struct sct_fixture *fx = *state;
	struct sct_result res;
	run_app("status", &res);
	bool ok = strstr(res.out, "init 0x0\n") != NULL && strstr(res.out, "list0 0x0\n") != NULL &&
	          strstr(res.out, " helper 0\n") == NULL &&
	          strstr(res.out, "Seccomp:\t2\n") != NULL &&
	          strstr(res.out, "NoNewPrivs:\t1\n") != NULL;
	if (!ok)
		dump_on_failure(fx, &res);
	assert_true(ok);
	sct_result_free(&res);
}

static const char *find_strace(void)
{
	static const char *const places[] = { "/usr/bin/strace", "/bin/strace",
		                              "/usr/local/bin/strace" };
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++)
		if (access(places[i], X_OK) == 0)
			return places[i];
	return NULL;
}

static bool pid_listed(const long *pids, size_t n, long pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

static void test_key_opened_by_helper_only(void **state)
{
	struct sct_fixture *fx = *state;
	const char *strace = find_strace();
	if (strace == NULL) {
		fprintf(stderr, "strace is not installed: key-opening test skipped\n");
		skip();
	}
	char trace[E2E_PATH_MAX + 64], key[E2E_PATH_MAX + 32], helper[PATH_MAX];
	snprintf(trace, sizeof(trace), "%s/strace.out", fx->cfg.dir);
	snprintf(key, sizeof(key), "%s/client.key", fx->e2e->srv.env->pki);
	assert_non_null(realpath(getenv("PKCS11WSOP_HELPER"), helper));
	const char *argv[] = { strace, "-f",  "-e",     "trace=open,openat,openat2,execve",
		               "-o",   trace, self_exe, "--app",
		               "list", NULL };
	struct sct_result res;
	sct_run(argv, NULL, &res);
	if (strstr(res.err, "PTRACE") != NULL || strstr(res.err, "ptrace") != NULL) {
		fprintf(stderr, "strace cannot trace here (%s): skipped\n", res.err);
		sct_result_free(&res);
		skip();
	}
	if (sct_exit_code(&res) != 0 || strstr(res.out, "list1 0x0") == NULL)
		dump_on_failure(fx, &res);
	assert_int_equal(sct_exit_code(&res), 0);

	/* Helper pids: those that exec'ed the helper binary. Then every line
	 * naming the key must carry one of them. */
	char *text = sct_slurp(trace);
	long helpers[16];
	size_t n_helpers = 0, key_lines = 0;
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		long pid = atol(line);
		char *call = strchr(line, ' ');
		if (call == NULL)
			continue;
		while (*call == ' ')
			call++;
		if (strncmp(call, "execve(\"", 8) == 0 &&
		    strncmp(call + 8, helper, strlen(helper)) == 0 && n_helpers < 16 &&
		    !pid_listed(helpers, n_helpers, pid))
			helpers[n_helpers++] = pid;
		if (strstr(line, key) != NULL) {
			key_lines++;
			if (!pid_listed(helpers, n_helpers, pid))
				fprintf(stderr, "key opened by pid %ld, not a helper: %s\n", pid,
				        line);
			assert_true(pid_listed(helpers, n_helpers, pid));
		}
	}
	free(text);
	assert_true(n_helpers > 0);
	assert_true(key_lines > 0);
	sct_result_free(&res);
}

static void test_helper_killed_by_seccomp_is_replaced(void **state)
{
	struct sct_fixture *fx = *state;
	const char *openat_helper = getenv("HELPER_OPENAT");
	if (openat_helper == NULL || openat_helper[0] == '\0') {
		fprintf(stderr, "HELPER_OPENAT not built: skipped\n");
		skip();
	}
	char marker[E2E_PATH_MAX + 64];
	snprintf(marker, sizeof(marker), "%s/helper-openat-once", fx->cfg.dir);
	FILE *m = fopen(marker, "w");
	assert_non_null(m);
	fclose(m);
	char *saved = strdup(getenv("PKCS11WSOP_HELPER"));
	assert_non_null(saved);
	setenv("PKCS11WSOP_HELPER", openat_helper, 1);
	struct sct_result res;
	run_app("openat", &res);
	setenv("PKCS11WSOP_HELPER", saved, 1);
	free(saved);
	bool ok = strstr(res.out, "list1 0x30\n") != NULL && /* CKR_DEVICE_ERROR */
	          strstr(res.out, "list2 0x0\n") != NULL &&
	          sct_file_contains(fx->cfg.log, "signal 31");
	if (!ok)
		dump_on_failure(fx, &res);
	assert_true(ok);
	sct_result_free(&res);
}

static void test_key_readable_by_others_refused(void **state)
{
	struct sct_fixture *fx = *state;
	char key[E2E_PATH_MAX + 64], src[E2E_PATH_MAX + 32];
	snprintf(src, sizeof(src), "%s/client.key", fx->e2e->srv.env->pki);
	snprintf(key, sizeof(key), "%s/open-client.key", fx->cfg.dir);
	char *pem = sct_slurp(src);
	FILE *f = fopen(key, "w");
	assert_non_null(f);
	fputs(pem, f);
	fclose(f);
	free(pem);
	assert_int_equal(chmod(key, 0644), 0);
	struct sct_config cfg;
	sct_config_write(&cfg, &fx->e2e->srv, key);
	struct sct_result res;
	/* C_Initialize does not wait for the helper; the first call that
	 * needs it fails (CKR_DEVICE_ERROR) with the cause in the log. */
	run_app("list", &res);
	bool ok = strstr(res.out, "init 0x0\n") != NULL &&
	          strstr(res.out, "list1 0x30\n") != NULL && sct_file_contains(cfg.log, "644") &&
	          sct_file_contains(cfg.log, "open-client.key");
	if (!ok) {
		char *log = sct_slurp(cfg.log);
		fprintf(stderr, "app output:\n%s\n---- log ----\n%s", res.out, log);
		free(log);
	}
	assert_true(ok);
	sct_result_free(&res);
	setenv("PKCS11WSOP_CONF", fx->cfg.path, 1);
}

static bool process_gone(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	char *s = sct_slurp(path);
	char *close_paren = strrchr(s, ')');
	/* A zombie waiting for init to reap it no longer runs. */
	bool gone =
	    s[0] == '\0' || (close_paren != NULL && close_paren[1] == ' ' && close_paren[2] == 'Z');
	free(s);
	return gone;
}

static void test_killed_application_leaves_no_helper(void **state)
{
	(void)state;
	int out[2];
	assert_int_equal(pipe(out), 0);
	fflush(NULL);
	pid_t app = fork();
	assert_true(app >= 0);
	if (app == 0) {
		dup2(out[1], 1);
		close(out[0]);
		close(out[1]);
		execl(self_exe, self_exe, "--app", "hold", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	FILE *f = fdopen(out[0], "r");
	assert_non_null(f);
	char line[256];
	long helper = 0, app_pid = 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "app %ld helper %ld", &app_pid, &helper) == 2)
			break;
	assert_true(helper > 0);
	assert_false(process_gone((pid_t)helper));

	assert_int_equal(kill(app, SIGKILL), 0);
	int status;
	assert_int_equal(waitpid(app, &status, 0), app);
	fclose(f);
	long long deadline = e2e_now_ms() + 2000;
	while (!process_gone((pid_t)helper) && e2e_now_ms() < deadline) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (!process_gone((pid_t)helper))
		fprintf(stderr, "helper %ld still runs 2 s after its application died\n", helper);
	assert_true(process_gone((pid_t)helper));
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--app") == 0)
		return app_main(argv[2]);
	if (UNDER_ASAN) {
		printf("confinement: AddressSanitizer build: a confined ASan helper is killed "
		       "by its own seccomp policy (madvise): skipped\n");
		return 77;
	}
	const char *module = getenv("PKCS11WSOP_MODULE");
	const char *helper = getenv("PKCS11WSOP_HELPER");
	if (module == NULL || helper == NULL || module[0] == '\0' || helper[0] == '\0') {
		printf("confinement: PKCS11WSOP_MODULE or PKCS11WSOP_HELPER not set: skipped\n");
		return 77;
	}
	ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0)
		return 1;
	self_exe[n] = '\0';
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_helper_runs_under_seccomp_with_no_new_privs,
		                                sct_fixture_setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_opened_by_helper_only, sct_fixture_setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_helper_killed_by_seccomp_is_replaced,
		                                sct_fixture_setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_readable_by_others_refused,
		                                sct_fixture_setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_application_leaves_no_helper,
		                                sct_fixture_setup, teardown),
	};
	return e2e_main("confinement", tests, sizeof(tests) / sizeof(tests[0]));
}
