/*
 * fork + exec of the helper and the wait for its READY frame. Between fork
 * and exec the child runs only async-signal-safe calls: the application may
 * have other threads holding locks (malloc's included) at the moment of
 * the fork.
 *
 * The helper ends when its channel reaches end of file, that is when no
 * process holds the library's end any more. That end is close-on-exec, and
 * every fork of the application closes it in the child (the atfork handler
 * below), so the application's death alone closes it, whichever of its
 * threads started the helper and whatever children it left running. No
 * parent-death signal is used: it follows the thread that forked, not the
 * process, and would kill the helper when that thread ends.
 */
#include "lib/helper_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "build_config.h"
#include "conf/log.h"
#include "ipc/channel.h"

/* Fds the child parks its two descriptors on while it rebuilds 0..3; high
 * enough that dup2 onto 0..3 cannot clobber them. */
#define PARK_FD 10

/* The library's ends of the live helpers' channels, as fd + 1 (0: free
 * slot), so that a forked child can close them without a lock. */
#define MAX_CHANNELS 64
static atomic_int open_channels[MAX_CHANNELS];
/* Held from socketpair() to the registration of the new channel; a fork
 * waits for it (atfork prepare), so no child ever inherits an end that is
 * not yet in the table. */
static pthread_mutex_t channel_gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void gate_prepare(void)
{
	pthread_mutex_lock(&channel_gate);
}

static void gate_parent(void)
{
	pthread_mutex_unlock(&channel_gate);
}

/* In every child of fork(), the helper's own before exec included: stores
 * and close() only, so async-signal-safe. The parent keeps its ends. */
static void gate_child(void)
{
	channel_gate = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	for (size_t i = 0; i < MAX_CHANNELS; i++) {
		int v = atomic_exchange(&open_channels[i], 0);
		if (v > 0)
			close(v - 1);
	}
}

static void register_atfork(void)
{
	(void)pthread_atfork(gate_prepare, gate_parent, gate_child);
}

/* Returns false when the table is full (the end then stays open in
 * children forked while the helper lives: logged). */
static bool channel_add(int fd)
{
	for (size_t i = 0; i < MAX_CHANNELS; i++) {
		int expect = 0;
		if (atomic_compare_exchange_strong(&open_channels[i], &expect, fd + 1))
			return true;
	}
	return false;
}

/* Removed before the close, so that a child forked in between never
 * closes a number the parent has reused. */
static void channel_close(int fd)
{
	for (size_t i = 0; i < MAX_CHANNELS; i++) {
		int expect = fd + 1;
		if (atomic_compare_exchange_strong(&open_channels[i], &expect, 0))
			break;
	}
	close(fd);
}

const char *helper_proc_path(void)
{
	/* secure_getenv ignores the variable in AT_SECURE processes. */
	const char *env = secure_getenv("PKCS11WSOP_HELPER");
	return env && env[0] ? env : PKCS11WSOP_HELPER_PATH;
}

static long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Only async-signal-safe calls from here to execve. */
static void child_exec(int chan, int devnull, bool logstdout, const char *path, char *const argv[],
                       char *const envp[])
{
	int c = fcntl(chan, F_DUPFD, PARK_FD);
	int n = fcntl(devnull, F_DUPFD, PARK_FD);
	if (c < 0 || n < 0)
		_exit(127);
	if (dup2(c, 3) != 3 || dup2(n, 0) != 0 || dup2(n, 2) != 2)
		_exit(127);
	if (!logstdout && dup2(n, 1) != 1)
		_exit(127);
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 4u, UINT_MAX, 0u) != 0)
#endif
	{
		for (int fd = 4; fd < 65536; fd++)
			close(fd);
	}
	execve(path, argv, envp);
	_exit(127);
}

static void log_exit(pid_t pid, int status, const char *error)
{
	const char *sep = error[0] ? ": " : "";
	if (WIFSIGNALED(status))
		wlog(WLOG_ERROR, "helper %d died (signal %d)%s%s", (int)pid, WTERMSIG(status), sep,
		     error);
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		wlog(WLOG_ERROR, "helper %d exited with status %d%s%s", (int)pid,
		     WEXITSTATUS(status), sep, error);
}

void helper_proc_kill(struct helper_proc *hp)
{
	if (hp && hp->pid > 0)
		kill(hp->pid, SIGKILL);
}

void helper_proc_reap(struct helper_proc *hp, int grace_ms)
{
	if (!hp)
		return;
	if (hp->chan >= 0) {
		/* EOF on its channel is the helper's signal to exit. */
		channel_close(hp->chan);
		hp->chan = -1;
	}
	if (hp->pid <= 0)
		return;
	int status = 0;
	long end = mono_ms() + grace_ms;
	pid_t r;
	for (;;) {
		r = waitpid(hp->pid, &status, WNOHANG);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != 0 || mono_ms() >= end)
			break;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (r == 0) {
		kill(hp->pid, SIGKILL);
		do
			r = waitpid(hp->pid, &status, 0);
		while (r < 0 && errno == EINTR);
	}
	if (r == hp->pid)
		log_exit(hp->pid, status, hp->error);
	hp->pid = 0;
}

/* Reads the first frame: READY, or an id-0 ERROR saying why not. */
static int await_ready(struct helper_proc *hp, int timeout_ms)
{
	uint8_t *buf = malloc(CHAN_MAX_FRAME);
	if (!buf)
		return -ENOMEM;
	struct chan_frame f;
	int rc = chan_recv(hp->chan, buf, CHAN_MAX_FRAME, CHAN_TO_LIB, &f, NULL, timeout_ms);
	if (rc == -ETIMEDOUT) {
		wlog(WLOG_ERROR, "helper %d sent no READY within %d ms: timed out", (int)hp->pid,
		     timeout_ms);
	} else if (rc == -EPIPE) {
		rc = -ECHILD; /* helper_proc_reap logs how it ended */
	} else if (rc < 0) {
		wlog(WLOG_ERROR, "helper %d: bad first frame (%s)", (int)hp->pid, strerror(-rc));
		rc = -EPROTO;
	} else if (f.type == CHAN_T_READY) {
		struct chan_ready r;
		rc = chan_ready_parse(&f, &r);
		if (rc == 0)
			wlog(WLOG_INFO, "helper %d ready: %s", (int)hp->pid, r.text);
		else
			rc = -EPROTO;
	} else if (f.type == CHAN_T_ERROR) {
		struct chan_error_info e;
		if (chan_error_parse(&f, &e) == 0) {
			snprintf(hp->error, sizeof(hp->error), "%s", e.text);
			wlog(WLOG_ERROR, "helper %d failed to start: %s (%s)", (int)hp->pid, e.text,
			     chan_error_name(e.code));
			rc = e.code == CHAN_E_CREDENTIALS ? -EKEYREJECTED : -ECHILD;
		} else {
			rc = -EPROTO;
		}
	} else {
		wlog(WLOG_ERROR, "helper %d sent %s before READY", (int)hp->pid,
		     chan_type_name(f.type));
		rc = -EPROTO;
	}
	free(buf);
	return rc;
}

int helper_proc_spawn(const char *config_path, bool logstdout, int timeout_ms,
                      struct helper_proc *hp)
{
	int sv[2];
	const char *path = helper_proc_path();

	memset(hp, 0, sizeof(*hp));
	hp->chan = -1;
	/* Everything the child needs is prepared here: it may not allocate. */
	char *argv[] = { (char *)"pkcs11wsop-helper", (char *)"--config", (char *)config_path,
		         NULL };
	char tz[512];
	char *envp[2] = { NULL, NULL };
	const char *tzv = getenv("TZ");
	if (tzv && snprintf(tz, sizeof(tz), "TZ=%s", tzv) < (int)sizeof(tz))
		envp[0] = tz;

	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0) {
		int e = errno;
		wlog(WLOG_ERROR, "cannot open /dev/null: %s", strerror(e));
		return -e;
	}
	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&channel_gate);
	int rc = socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
	int e = errno;
	bool listed = rc == 0 && channel_add(sv[0]);
	pthread_mutex_unlock(&channel_gate);
	if (rc != 0) {
		wlog(WLOG_ERROR, "cannot create the helper channel: %s", strerror(e));
		close(devnull);
		return -e;
	}
	if (!listed)
		wlog(WLOG_WARNING,
		     "%d helper channels open: children forked from now on keep "
		     "this one open",
		     MAX_CHANNELS);
	/* A fork by another thread from here to the close of sv[1] below still
	 * copies the helper's end (not listed: our own child needs it). That
	 * child then only delays our noticing a dead helper, which TIMEOUT
	 * bounds; it never keeps the helper alive. */
	pid_t pid = fork();
	if (pid == 0)
		child_exec(sv[1], devnull, logstdout, path, argv, envp);
	e = errno;
	close(sv[1]);
	close(devnull);
	if (pid < 0) {
		wlog(WLOG_ERROR, "cannot start the helper: fork: %s", strerror(e));
		channel_close(sv[0]);
		return -e;
	}
	hp->pid = pid;
	hp->chan = sv[0];
	wlog(WLOG_DEBUG, "started helper %s as pid %d", path, (int)pid);
	rc = await_ready(hp, timeout_ms);
	if (rc) {
		if (rc == -ETIMEDOUT || rc == -EPROTO)
			helper_proc_kill(hp);
		helper_proc_reap(hp, 1000);
	}
	return rc;
}
