/*
 * The steps around confinement: closing fds (and the fallbacks used where
 * close_range is refused), clearing the environment, filling stdio,
 * pinning the time zone so that time conversion stays file-free, and
 * giving up every capability and, when root, uid and gid 0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "child.h"
#include "security/sandbox.h"
#include "security/seccomp_policy.h"
#include "tests/helper/proc_status.h"

#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Which way sandbox_close_fds_except() has to take. */
enum fds_path {
	FDS_CLOSE_RANGE,
	FDS_PROC_LISTING, /* close_range refused as by a kernel before 5.9 */
	FDS_EVERY_NUMBER, /* and /proc unreadable, as in a bare chroot */
};

/* A filter that fails the given calls softly and lets everything else
 * through, to steer the function into its fallbacks. */
static int refuse_for_test(enum fds_path path)
{
	if (path == FDS_CLOSE_RANGE)
		return 0;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL)
		return -1;
	int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(close_range), 0);
	if (rc == 0 && path == FDS_EVERY_NUMBER)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc;
}

static bool only_open(const int *fds, size_t n)
{
	for (int fd = 0; fd < 1024; fd++) {
		bool listed = false;
		for (size_t i = 0; i < n; i++)
			listed = listed || fds[i] == fd;
		if ((fcntl(fd, F_GETFD) != -1) != listed)
			return false;
	}
	return true;
}

static void body_close_fds(void *arg)
{
	enum fds_path path = *(const enum fds_path *)arg;
	int a = open("/dev/null", O_RDONLY);
	int b = open("/dev/null", O_RDONLY);
	int c = dup2(a, 200);
	if (a < 0 || b < 0 || c != 200)
		_exit(1);
	if (refuse_for_test(path) != 0)
		_exit(2);
	const int keep[] = { 2, c, -1, c, 1, 0 };
	if (sandbox_close_fds_except(keep, sizeof(keep) / sizeof(keep[0])) != 0)
		_exit(3);
	const int left[] = { 0, 1, 2, c };
	if (!only_open(left, sizeof(left) / sizeof(left[0])))
		_exit(4);
	if (sandbox_close_fds_except(NULL, 0) != 0)
		_exit(5);
	if (!only_open(NULL, 0))
		_exit(6);
	_exit(0);
}

static void expect_fds_closed(enum fds_path path)
{
	int status = child_run(body_close_fds, &path);
	if (!child_exited_with(status, 0))
		print_error("child status 0x%x\n", (unsigned)status);
	assert_true(child_exited_with(status, 0));
}

static void test_close_fds_except_keeps_only_the_listed_fds(void **state)
{
	(void)state;
	expect_fds_closed(FDS_CLOSE_RANGE);
}

static void test_close_fds_except_without_close_range_walks_proc(void **state)
{
	(void)state;
	expect_fds_closed(FDS_PROC_LISTING);
}

static void test_close_fds_except_without_proc_tries_every_number(void **state)
{
	(void)state;
	expect_fds_closed(FDS_EVERY_NUMBER);
}

static void test_close_fds_except_refuses_a_null_list(void **state)
{
	(void)state;
	assert_int_equal(sandbox_close_fds_except(NULL, 1), -EINVAL);
}

static bool environment_is(const char *only)
{
	return environ != NULL && environ[0] != NULL && strcmp(environ[0], only) == 0 &&
	       environ[1] == NULL;
}

static void body_clear_environment(void *arg)
{
	(void)arg;
	if (unsetenv("TZ") != 0 || setenv("LD_PRELOAD", "/tmp/evil.so", 1) != 0 ||
	    setenv("OPENSSL_CONF", "/tmp/evil.cnf", 1) != 0)
		_exit(1);
	if (sandbox_clear_environment() != 0)
		_exit(2);
	if (!environment_is("TZ=:/etc/localtime"))
		_exit(3);
	_exit(0);
}

static void test_clear_environment_leaves_only_tz(void **state)
{
	(void)state;
	assert_true(child_exited_with(child_run(body_clear_environment, NULL), 0));
}

#define CET_RULE "CET-1CEST,M3.5.0,M10.5.0/3"

/* An application's TZ carries over, so the helper's log lines show the
 * same local time as the library's; it still needs no file once pinned. */
static void body_inherited_tz(void *arg)
{
	(void)arg;
	if (setenv("TZ", CET_RULE, 1) != 0 || setenv("HOME", "/root", 1) != 0)
		_exit(1);
	if (sandbox_clear_environment() != 0)
		_exit(2);
	if (!environment_is("TZ=" CET_RULE))
		_exit(3);
	child_confine();
	time_t now = time(NULL);
	struct tm *tm = localtime(&now);
	if (tm == NULL || (tm->tm_gmtoff != 3600 && tm->tm_gmtoff != 7200))
		_exit(4);
	_exit(0);
}

static void test_inherited_tz_is_kept_and_used_after_confinement(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	assert_true(child_exited_with(child_run(body_inherited_tz, NULL), 0));
}

/* With TZ unset glibc would stat /etc/localtime on every localtime(). */
static void body_unset_tz(void *arg)
{
	(void)arg;
	if (unsetenv("TZ") != 0)
		_exit(1);
	child_confine();
	time_t now = time(NULL);
	for (int i = 0; i < 3; i++) {
		if (localtime(&now) == NULL)
			_exit(2);
	}
	_exit(0);
}

static void test_localtime_without_inherited_tz_needs_no_file_after_confinement(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	assert_true(child_exited_with(child_run(body_unset_tz, NULL), 0));
}

/* The reason for the pin: the bare filter, TZ unset, then localtime(). */
static void forbidden_localtime_with_tz_unset(void *arg)
{
	(void)arg;
	unsigned int loaded, skipped;
	if (unsetenv("TZ") != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0 ||
	    seccomp_policy_load(&loaded, &skipped) != 0)
		_exit(1);
	time_t now = time(NULL);
	(void)localtime(&now);
	_exit(77);
}

static void test_localtime_with_tz_unset_and_no_pin_is_killed(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	assert_true(child_killed_by(child_run(forbidden_localtime_with_tz_unset, NULL), SIGSYS));
}

static void body_long_tz(void *arg)
{
	(void)arg;
	char tz[400];
	memset(tz, 'A', sizeof(tz) - 1);
	tz[sizeof(tz) - 1] = '\0';
	if (setenv("TZ", tz, 1) != 0 || sandbox_clear_environment() != 0)
		_exit(1);
	_exit(environment_is("TZ=:/etc/localtime") ? 0 : 2);
}

static void test_overlong_tz_falls_back_to_the_system_zone(void **state)
{
	(void)state;
	assert_true(child_exited_with(child_run(body_long_tz, NULL), 0));
}

static void body_null_stdio(void *arg)
{
	(void)arg;
	close(0);
	close(2);
	if (sandbox_null_stdio() != 0)
		_exit(1);
	struct stat st0, st2, null_st;
	if (fstat(0, &st0) != 0 || fstat(2, &st2) != 0 || stat("/dev/null", &null_st) != 0)
		_exit(2);
	if (st0.st_rdev != null_st.st_rdev || st2.st_rdev != null_st.st_rdev)
		_exit(3);
	_exit(0);
}

static void test_null_stdio_fills_closed_stdio_with_dev_null(void **state)
{
	(void)state;
	assert_true(child_exited_with(child_run(body_null_stdio, NULL), 0));
}

/* ---- privileges ------------------------------------------------------------ */

/* After the drop: every set empty, no root id, no group. Exit codes 10+. */
static void expect_nothing_left(void)
{
	static const char *const sets[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	char v[128];

	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		if (!proc_status_field(0, sets[i], v, sizeof(v)) ||
		    strcmp(v, "0000000000000000") != 0)
			_exit(10 + (int)i);
	}
	if (!proc_status_field(0, "Uid", v, sizeof(v)) ||
	    strcmp(v, "65534\t65534\t65534\t65534") != 0)
		_exit(20);
	if (!proc_status_field(0, "Gid", v, sizeof(v)) ||
	    strcmp(v, "65534\t65534\t65534\t65534") != 0)
		_exit(21);
	if (!proc_status_field(0, "Groups", v, sizeof(v)) || v[0] != '\0')
		_exit(22);
}

static void body_drop_as_root(void *arg)
{
	struct sandbox_privs p;
	/* With SECBIT_NO_SETUID_FIXUP leaving uid 0 keeps the capability
	 * sets: only the explicit capset empties them then. */
	if (arg != NULL && prctl(PR_SET_SECUREBITS, 1L << 2, 0L, 0L, 0L) != 0)
		_exit(2);
	if (sandbox_drop_privileges(65534, 65534, &p) != 0 || !p.changed_ids ||
	    p.failed_step != NULL)
		_exit(3);
	expect_nothing_left();
	/* and no way back */
	if (setresuid(0, 0, 0) == 0 || setgroups(0, NULL) == 0)
		_exit(4);
	_exit(0);
}

static void run_drop_as_root(void *arg)
{
	if (geteuid() != 0) {
		print_message("skipped: the drop from root needs root\n");
		skip();
	}
	int status = child_run(body_drop_as_root, arg);
	if (!child_exited_with(status, 0))
		print_error("child status 0x%x\n", (unsigned)status);
	assert_true(child_exited_with(status, 0));
}

static void test_drop_privileges_as_root_leaves_none(void **state)
{
	(void)state;
	run_drop_as_root(NULL);
}

static void test_drop_privileges_clears_sets_that_setuid_would_keep(void **state)
{
	(void)state;
	run_drop_as_root("no setuid fixup");
}

/* Not root: the ids stay, and the call succeeds without privilege. */
static void body_drop_as_user(void *arg)
{
	(void)arg;
	struct sandbox_privs p;
	char v[128];
	if (geteuid() == 0 && setresuid(65534, 65534, 65534) != 0)
		_exit(2);
	if (sandbox_drop_privileges(65534, 65534, &p) != 0 || p.changed_ids)
		_exit(3);
	if (!proc_status_field(0, "CapEff", v, sizeof(v)) || strcmp(v, "0000000000000000") != 0)
		_exit(4);
	_exit(0);
}

static void test_drop_privileges_as_a_user_succeeds(void **state)
{
	(void)state;
	assert_true(child_exited_with(child_run(body_drop_as_user, NULL), 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_fds_except_keeps_only_the_listed_fds),
		cmocka_unit_test(test_close_fds_except_without_close_range_walks_proc),
		cmocka_unit_test(test_close_fds_except_without_proc_tries_every_number),
		cmocka_unit_test(test_close_fds_except_refuses_a_null_list),
		cmocka_unit_test(test_clear_environment_leaves_only_tz),
		cmocka_unit_test(test_inherited_tz_is_kept_and_used_after_confinement),
		cmocka_unit_test(
		    test_localtime_without_inherited_tz_needs_no_file_after_confinement),
		cmocka_unit_test(test_overlong_tz_falls_back_to_the_system_zone),
		cmocka_unit_test(test_localtime_with_tz_unset_and_no_pin_is_killed),
		cmocka_unit_test(test_null_stdio_fills_closed_stdio_with_dev_null),
		cmocka_unit_test(test_drop_privileges_as_root_leaves_none),
		cmocka_unit_test(test_drop_privileges_clears_sets_that_setuid_would_keep),
		cmocka_unit_test(test_drop_privileges_as_a_user_succeeds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
