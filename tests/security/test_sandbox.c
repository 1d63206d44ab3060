/*
 * The confinement of the helper, checked with real seccomp and real fork:
 * what a confined process can still do, what kills it, and what the kernel
 * reports about it from outside.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "child.h"
#include "security/sandbox.h"
#include "security/seccomp_build.h"
#include "security/seccomp_filter.h"
#include "security/seccomp_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

/* ---- the allowed workload ------------------------------------------------ */

static int workload_memory(void)
{
	void *small[200];
	for (size_t i = 0; i < 200; i++) {
		small[i] = malloc(16 + i * 37);
		if (small[i] == NULL)
			return 10;
		memset(small[i], (int)i, 16 + i * 37);
	}
	size_t big_size = 64u << 20;
	unsigned char *big = malloc(big_size);
	if (big == NULL)
		return 11;
	memset(big, 0xa5, big_size);
	unsigned char *bigger = realloc(big, 2 * big_size);
	if (bigger == NULL) {
		free(big);
		return 12;
	}
	if (bigger[big_size - 1] != 0xa5) {
		free(bigger);
		return 13;
	}
	free(bigger);
	for (size_t i = 0; i < 200; i++)
		free(small[i]);
	/* A block just above the mmap threshold, allocated and freed in turn. */
	for (int i = 0; i < 50; i++) {
		void *p = malloc(200u << 10);
		if (p == NULL)
			return 14;
		free(p);
	}
	return 0;
}

static int workload_clocks(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 20;
	struct timeval tv;
	if (gettimeofday(&tv, NULL) != 0)
		return 21;
	time_t now = time(NULL);
	struct tm tm;
	char text[64];
	if (localtime_r(&now, &tm) == NULL || strftime(text, sizeof(text), "%F %T %Z", &tm) == 0)
		return 22;
	/* localtime() (not _r) re-reads TZ each call: it must stay file-free. */
	if (localtime(&now) == NULL)
		return 23;
	return 0;
}

static void body_allowed_workload(void *arg)
{
	int out = *(const int *)arg;
	child_confine();
	unsigned char rnd[32];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		_exit(1);
	int rc = workload_memory();
	if (rc == 0)
		rc = workload_clocks();
	if (rc != 0)
		_exit(rc);
	struct stat st;
	if (fstat(out, &st) != 0 || !S_ISFIFO(st.st_mode))
		_exit(2);
	struct pollfd pfd = { .fd = out, .events = POLLOUT };
	if (poll(&pfd, 1, 1000) != 1)
		_exit(3);
	char line[64];
	int len = snprintf(line, sizeof(line), "ok %ld %ld\n", (long)getpid(), (long)gettid());
	if (len <= 0 || write(out, line, (size_t)len) != len)
		_exit(4);
	_exit(0);
}

static void test_confined_child_runs_the_allowed_workload(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	int status = child_run(body_allowed_workload, &fds[1]);
	close(fds[1]);
	char buf[64] = { 0 };
	ssize_t got = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	if (!child_exited_with(status, 0))
		print_error("child status 0x%x\n", (unsigned)status);
	assert_true(child_exited_with(status, 0));
	assert_true(got > 3);
	assert_memory_equal(buf, "ok ", 3);
}

/* A CONNECT's socket: the helper asks its peer and makes it non-blocking. */
static void body_socket_preparation(void *arg)
{
	(void)arg;
	struct sockaddr_in at = { .sin_family = AF_INET };
	socklen_t len = sizeof(at);
	at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || s < 0 || bind(l, (struct sockaddr *)&at, sizeof(at)) != 0 ||
	    listen(l, 1) != 0 || getsockname(l, (struct sockaddr *)&at, &len) != 0 ||
	    connect(s, (struct sockaddr *)&at, sizeof(at)) != 0)
		_exit(5);
	unsigned short port = at.sin_port;
	child_confine();
	len = sizeof(at);
	memset(&at, 0, sizeof(at));
	if (getpeername(s, (struct sockaddr *)&at, &len) != 0 || at.sin_port != port)
		_exit(6);
	if (fcntl(s, F_SETFL, O_NONBLOCK) != 0)
		_exit(7);
	char byte;
	if (read(s, &byte, 1) != -1 || errno != EAGAIN)
		_exit(8);
	_exit(0);
}

static void test_confined_child_prepares_a_received_socket(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	int status = child_run(body_socket_preparation, NULL);
	if (!child_exited_with(status, 0))
		print_error("child status 0x%x\n", (unsigned)status);
	assert_true(child_exited_with(status, 0));
}

/* ---- what kills ----------------------------------------------------------- */

static void expect_killed(void (*forbidden)(void *))
{
	int status = child_run(forbidden, NULL);
	if (!child_killed_by(status, SIGSYS))
		print_error("child status 0x%x, wanted death by SIGSYS\n", (unsigned)status);
	assert_true(child_killed_by(status, SIGSYS));
}

/* Each body confines itself, then makes one forbidden call; reaching the
 * _exit means the call was let through. */
#define KILL_TEST(name, call)                                                                      \
	static void forbidden_##name(void *arg)                                                    \
	{                                                                                          \
		(void)arg;                                                                         \
		child_confine();                                                                   \
		(void)(call);                                                                      \
		_exit(77);                                                                         \
	}                                                                                          \
	static void test_confined_##name##_is_killed(void **state)                                 \
	{                                                                                          \
		(void)state;                                                                       \
		SKIP_UNDER_ASAN();                                                                 \
		expect_killed(forbidden_##name);                                                   \
	}

static const int zero = 0;
static unsigned char scratch[4096] __attribute__((aligned(4096)));

KILL_TEST(openat, open("/etc/hostname", O_RDONLY))
KILL_TEST(openat_of_dev_null, openat(AT_FDCWD, "/dev/null", O_WRONLY))
KILL_TEST(openat2, syscall(SYS_openat2, AT_FDCWD, "/etc/hostname", NULL, (size_t)0))
KILL_TEST(socket, socket(AF_INET, SOCK_STREAM, 0))
KILL_TEST(socketpair, socketpair(AF_UNIX, SOCK_STREAM, 0, (int *)scratch))
KILL_TEST(execve, execl("/bin/true", "true", (char *)NULL))
KILL_TEST(execveat, syscall(SYS_execveat, AT_FDCWD, "/bin/true", NULL, NULL, 0))
KILL_TEST(fork, fork())
/* fcntl is allowed only as F_SETFL with exactly O_NONBLOCK. */
KILL_TEST(fcntl_getfl, fcntl(0, F_GETFL))
KILL_TEST(fcntl_setfl_async, fcntl(0, F_SETFL, O_NONBLOCK | O_ASYNC))
KILL_TEST(fcntl_dupfd, fcntl(0, F_DUPFD, 10))
KILL_TEST(fcntl_setown, fcntl(0, F_SETOWN, 1))
KILL_TEST(vfork, syscall(SYS_vfork))
KILL_TEST(clone3, syscall(SYS_clone3, NULL, (size_t)0))
KILL_TEST(ptrace, ptrace(PTRACE_TRACEME, 0, NULL, NULL))
KILL_TEST(process_vm_readv, syscall(SYS_process_vm_readv, getppid(), NULL, 0, NULL, 0, 0))
KILL_TEST(kill, kill(1, 0))
KILL_TEST(tgkill, syscall(SYS_tgkill, 1, 1, 0))
KILL_TEST(prctl_make_dumpable_again, prctl(PR_SET_DUMPABLE, 1L, 0L, 0L, 0L))
KILL_TEST(setuid, syscall(SYS_setuid, 0))
KILL_TEST(mmap_executable,
          mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
KILL_TEST(mprotect_executable, mprotect(scratch, sizeof(scratch), PROT_READ | PROT_EXEC))
KILL_TEST(fstatat_of_a_path, fstatat(AT_FDCWD, "/etc/shadow", (struct stat *)scratch, zero))
KILL_TEST(unlink, unlink("/tmp/pkcs11wsop-sandbox-never-exists"))
KILL_TEST(chdir, chdir("/"))

/* connect/bind/accept need a socket made before confinement. */
static void forbidden_connect_on_inherited_socket(void *arg)
{
	(void)arg;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		_exit(5);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	child_confine();
	(void)connect(s, (struct sockaddr *)&to, sizeof(to));
	_exit(77);
}

static void test_confined_connect_is_killed(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	expect_killed(forbidden_connect_on_inherited_socket);
}

static void forbidden_bind_on_inherited_socket(void *arg)
{
	(void)arg;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		_exit(5);
	struct sockaddr_in at = { .sin_family = AF_INET };
	at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	child_confine();
	(void)bind(s, (struct sockaddr *)&at, sizeof(at));
	_exit(77);
}

static void test_confined_bind_is_killed(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	expect_killed(forbidden_bind_on_inherited_socket);
}

static void forbidden_accept_on_inherited_listener(void *arg)
{
	(void)arg;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in at = { .sin_family = AF_INET };
	at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&at, sizeof(at)) != 0 || listen(s, 1) != 0)
		_exit(5);
	child_confine();
	(void)accept4(s, NULL, NULL, 0);
	_exit(77);
}

static void test_confined_accept_is_killed(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	expect_killed(forbidden_accept_on_inherited_listener);
}

/* ---- foreign architectures (x86_64 only) --------------------------------- */

#if defined(__x86_64__)
/* i386 getpid through the 32-bit entry point. */
static long i386_getpid(void)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory", "cc");
	return ret;
}

static void body_i386_getpid_unconfined(void *arg)
{
	(void)arg;
	_exit(i386_getpid() == (long)getpid() ? 0 : 1);
}

static void forbidden_i386_getpid(void *arg)
{
	(void)arg;
	child_confine();
	(void)i386_getpid();
	_exit(77);
}

static void test_confined_i386_syscall_is_killed(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	/* Without IA32 emulation in the kernel there is no such door. */
	if (!child_exited_with(child_run(body_i386_getpid_unconfined, NULL), 0)) {
		print_message("skipped: kernel has no i386 syscall entry\n");
		skip();
	}
	expect_killed(forbidden_i386_getpid);
}

/* getpid with the x32 bit set: the same arch token as x86_64, so only the
 * filter's number check stands in the way. */
static void forbidden_x32_getpid(void *arg)
{
	(void)arg;
	child_confine();
	(void)syscall(0x40000000L | SYS_getpid);
	_exit(77);
}

static void test_confined_x32_syscall_is_killed(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	expect_killed(forbidden_x32_getpid);
}
#endif

/* ---- what the kernel shows from outside ----------------------------------- */

struct gate {
	int ready[2]; /* child -> parent: confined */
	int go[2];    /* parent -> child: may exit */
};

static void body_confine_and_wait(void *arg)
{
	struct gate *gate = arg;
	child_confine();
	char byte = 'r';
	if (write(gate->ready[1], &byte, 1) != 1)
		_exit(1);
	if (read(gate->go[0], &byte, 1) != 1)
		_exit(2);
	_exit(0);
}

static void gate_open(struct gate *gate)
{
	assert_int_equal(pipe2(gate->ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(gate->go, O_CLOEXEC), 0);
}

static pid_t gate_start(struct gate *gate, void (*body)(void *))
{
	pid_t pid = child_start(body, gate);
	assert_true(pid > 0);
	char byte;
	assert_int_equal(read(gate->ready[0], &byte, 1), 1);
	return pid;
}

static int gate_finish(struct gate *gate, pid_t pid)
{
	char byte = 'g';
	assert_int_equal(write(gate->go[1], &byte, 1), 1);
	int status = child_wait(pid);
	for (int i = 0; i < 2; i++) {
		close(gate->ready[i]);
		close(gate->go[i]);
	}
	return status;
}

static char *read_proc(pid_t pid, const char *what)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, what);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char text[8192];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static void test_confined_child_shows_seccomp_filter_and_no_new_privs(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	struct gate gate;
	gate_open(&gate);
	pid_t pid = gate_start(&gate, body_confine_and_wait);
	const char *status = read_proc(pid, "status");
	bool seccomp = strstr(status, "\nSeccomp:\t2\n") != NULL;
	bool nnp = strstr(status, "\nNoNewPrivs:\t1\n") != NULL;
	const char *limits = read_proc(pid, "limits");
	bool no_core = strstr(limits, "Max core file size        0                    0") != NULL;
	assert_true(child_exited_with(gate_finish(&gate, pid), 0));
	assert_true(seccomp);
	assert_true(nnp);
	assert_true(no_core);
}

/*
 * Not dumpable means a process of the same uid may not read the helper's
 * memory or environment. Checked from outside because prctl(PR_GET_DUMPABLE)
 * is itself killed once confined. As root both sides drop to one unprivileged
 * uid first, since root's CAP_SYS_PTRACE would read anything.
 */
#define PEER_UID 65534

static void become_peer(void)
{
	if (geteuid() != 0)
		return;
	if (setresgid(PEER_UID, PEER_UID, PEER_UID) != 0 ||
	    setresuid(PEER_UID, PEER_UID, PEER_UID) != 0)
		_exit(91);
	/* Changing uid cleared the dumpable flag; the helper starts with it
	 * set, and sandbox_confine() is what must clear it. */
	if (prctl(PR_SET_DUMPABLE, 1L, 0L, 0L, 0L) != 0)
		_exit(92);
}

static void body_peer_then_confine_and_wait(void *arg)
{
	become_peer();
	body_confine_and_wait(arg);
}

static void body_peer_then_wait(void *arg)
{
	struct gate *gate = arg;
	become_peer();
	char byte = 'r';
	if (write(gate->ready[1], &byte, 1) != 1 || read(gate->go[0], &byte, 1) != 1)
		_exit(2);
	_exit(0);
}

/* Exits 0 when /proc/<pid>/environ of the target can be read, 1 if not. */
static void body_peer_reads_environ(void *arg)
{
	pid_t target = *(const pid_t *)arg;
	become_peer();
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/environ", (long)target);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		_exit(1);
	char buf[16];
	ssize_t got = read(fd, buf, sizeof(buf));
	close(fd);
	_exit(got >= 0 ? 0 : 1);
}

static int peer_reads_environ_of(void (*body)(void *))
{
	struct gate gate;
	gate_open(&gate);
	pid_t pid = gate_start(&gate, body);
	int status = child_run(body_peer_reads_environ, &pid);
	assert_true(child_exited_with(gate_finish(&gate, pid), 0));
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_confined_child_is_not_dumpable(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	/* Control: the same peer reads an unconfined sibling's environment. */
	assert_int_equal(peer_reads_environ_of(body_peer_then_wait), 0);
	assert_int_equal(peer_reads_environ_of(body_peer_then_confine_and_wait), 1);
}

/* ---- stop/continue while waiting ----------------------------------------- */

static void body_confine_and_poll(void *arg)
{
	struct gate *gate = arg;
	child_confine();
	char byte = 'r';
	if (write(gate->ready[1], &byte, 1) != 1)
		_exit(1);
	struct pollfd pfd = { .fd = gate->go[0], .events = POLLIN };
	if (poll(&pfd, 1, 10000) != 1)
		_exit(2);
	_exit(0);
}

static void test_confined_poll_survives_stop_and_continue(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	struct gate gate;
	gate_open(&gate);
	pid_t pid = gate_start(&gate, body_confine_and_poll);
	/* Let the child enter poll() before it is stopped. */
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	nanosleep(&pause, NULL);
	assert_int_equal(kill(pid, SIGSTOP), 0);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
	assert_true(WIFSTOPPED(status));
	assert_int_equal(kill(pid, SIGCONT), 0);
	nanosleep(&pause, NULL);
	status = gate_finish(&gate, pid);
	if (!child_exited_with(status, 0))
		print_error("child status 0x%x\n", (unsigned)status);
	assert_true(child_exited_with(status, 0));
}

/* ---- the report and the table --------------------------------------------- */

static void body_report(void *arg)
{
	(void)arg;
	struct sandbox_report report;
	int rc = sandbox_confine(&report);
	if (rc != 0 || report.failed_step != NULL)
		_exit(1);
	size_t rows = 0;
	(void)seccomp_policy_rows(&rows);
	if (report.rules + report.skipped != rows || report.rules == 0)
		_exit(2);
	if (strcmp(report.arch, seccomp_policy_arch()) != 0)
		_exit(3);
	_exit(0);
}

static void test_confine_reports_its_architecture_and_rules(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	assert_true(child_exited_with(child_run(body_report, NULL), 0));
}

static void test_policy_table_has_a_reason_for_every_row(void **state)
{
	(void)state;
	size_t n = 0;
	const struct seccomp_policy_row *rows = seccomp_policy_rows(&n);
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(rows[i].name);
		assert_non_null(rows[i].why);
		assert_true(strlen(rows[i].why) > 10);
		/* No row may reopen a door the policy is meant to close. */
		static const char *const never[] = { "open",    "openat", "openat2",  "socket",
			                             "connect", "execve", "execveat", "fork",
			                             "vfork",   "clone",  "clone3",   "ptrace",
			                             "prctl",   "kill",   "tgkill",   "mprotect" };
		for (size_t j = 0; j < sizeof(never) / sizeof(never[0]); j++)
			assert_string_not_equal(rows[i].name, never[j]);
	}
	assert_non_null(seccomp_policy_arch());
}

/* The program built into the helper is the table as it is now, compiled by
 * this libseccomp: no stale or hand-edited filter. */
static void test_compiled_filter_is_the_table(void **state)
{
	(void)state;
	struct seccomp_build_out b;
	assert_int_equal(seccomp_build(&b), 0);
	assert_int_equal(b.prog_len, (size_t)seccomp_filter_len * sizeof(struct sock_filter));
	assert_memory_equal(b.prog, seccomp_filter_prog, b.prog_len);
	assert_int_equal(b.loaded, seccomp_filter_rules);
	assert_int_equal(b.skipped, seccomp_filter_skipped);
	size_t n = 0;
	(void)seccomp_policy_rows(&n);
	assert_int_equal(b.loaded + b.skipped, n);
	free(b.prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confined_child_runs_the_allowed_workload),
		cmocka_unit_test(test_confined_child_prepares_a_received_socket),
		cmocka_unit_test(test_confined_fcntl_getfl_is_killed),
		cmocka_unit_test(test_confined_fcntl_setfl_async_is_killed),
		cmocka_unit_test(test_confined_fcntl_dupfd_is_killed),
		cmocka_unit_test(test_confined_fcntl_setown_is_killed),
		cmocka_unit_test(test_confined_openat_is_killed),
		cmocka_unit_test(test_confined_openat_of_dev_null_is_killed),
		cmocka_unit_test(test_confined_openat2_is_killed),
		cmocka_unit_test(test_confined_socket_is_killed),
		cmocka_unit_test(test_confined_socketpair_is_killed),
		cmocka_unit_test(test_confined_connect_is_killed),
		cmocka_unit_test(test_confined_bind_is_killed),
		cmocka_unit_test(test_confined_accept_is_killed),
		cmocka_unit_test(test_confined_execve_is_killed),
		cmocka_unit_test(test_confined_execveat_is_killed),
		cmocka_unit_test(test_confined_fork_is_killed),
		cmocka_unit_test(test_confined_vfork_is_killed),
		cmocka_unit_test(test_confined_clone3_is_killed),
		cmocka_unit_test(test_confined_ptrace_is_killed),
		cmocka_unit_test(test_confined_process_vm_readv_is_killed),
		cmocka_unit_test(test_confined_kill_is_killed),
		cmocka_unit_test(test_confined_tgkill_is_killed),
		cmocka_unit_test(test_confined_prctl_make_dumpable_again_is_killed),
		cmocka_unit_test(test_confined_setuid_is_killed),
		cmocka_unit_test(test_confined_mmap_executable_is_killed),
		cmocka_unit_test(test_confined_mprotect_executable_is_killed),
		cmocka_unit_test(test_confined_fstatat_of_a_path_is_killed),
		cmocka_unit_test(test_confined_unlink_is_killed),
		cmocka_unit_test(test_confined_chdir_is_killed),
#if defined(__x86_64__)
		cmocka_unit_test(test_confined_i386_syscall_is_killed),
		cmocka_unit_test(test_confined_x32_syscall_is_killed),
#endif
		cmocka_unit_test(test_confined_child_shows_seccomp_filter_and_no_new_privs),
		cmocka_unit_test(test_confined_child_is_not_dumpable),
		cmocka_unit_test(test_confined_poll_survives_stop_and_continue),
		cmocka_unit_test(test_confine_reports_its_architecture_and_rules),
		cmocka_unit_test(test_policy_table_has_a_reason_for_every_row),
		cmocka_unit_test(test_compiled_filter_is_the_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
