/*
 * fork + exec of the helper and the wait for its READY frame. Between fork
 * and exec the child runs only async-signal-safe calls: the application may
 * have other threads holding locks (malloc's included) at the moment of
 * the fork.
 *
 * The helper ends when its channel reaches end of file, that is when no
 * process holds the library's end any more. That end is close-on-exec, and
 * every fork of the application closes it in the child (the atfork handlers
 * and the table below), so the application's death alone closes it,
 * whichever of its threads started the helper and whatever children it
 * left running. No
 * parent-death signal is used: it follows the thread that forked, not the
 * process, and would kill the helper when that thread ends.
 */
#include "lib/helper_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
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
#include "lib/helper_audit.h"

/* Fds the child parks its two descriptors on while it rebuilds 0..3; high
 * enough that dup2 onto 0..3 cannot clobber them. */
#define PARK_FD 10

/*
 * The descriptors no forked child may keep: the library's end of every live
 * channel (else a child that outlives the application would keep its
 * helper alive), and, while a helper is being started, that helper's own
 * end and /dev/null, which only the child of the starting thread (the
 * helper-to-be) keeps. fork_gate guards the table, and every fork holds it
 * from its prepare to its parent handler, so a child always inherits a
 * table that matches its descriptors exactly.
 */
#define MAX_LISTED 64
struct listed_fd {
	int fd_plus1; /* 0: free slot */
	bool starters_child_keeps;
	pthread_t starter;
};
static struct listed_fd listed[MAX_LISTED];
static pthread_mutex_t fork_gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void gate_prepare(void)
{
	pthread_mutex_lock(&fork_gate);
}

static void gate_parent(void)
{
	pthread_mutex_unlock(&fork_gate);
}

/* In every child of fork(), the helper's own before exec included: plain
 * loads, stores and close(), so async-signal-safe. The child's thread is a
 * copy of the forking one, so pthread_self() tells the starter's child. */
static void gate_child(void)
{
	fork_gate = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	for (size_t i = 0; i < MAX_LISTED; i++) {
		struct listed_fd *l = &listed[i];
		if (l->fd_plus1 > 0 &&
		    !(l->starters_child_keeps && pthread_equal(l->starter, pthread_self())))
			close(l->fd_plus1 - 1);
		l->fd_plus1 = 0;
	}
}

static void register_atfork(void)
{
	(void)pthread_atfork(gate_prepare, gate_parent, gate_child);
}

/* With fork_gate held. False when the table is full. */
static bool list_add(int fd, bool starters_child_keeps)
{
	for (size_t i = 0; i < MAX_LISTED; i++) {
		if (listed[i].fd_plus1 == 0) {
			listed[i] =
			    (struct listed_fd){ fd + 1, starters_child_keeps, pthread_self() };
			return true;
		}
	}
	return false;
}

/* Closes fd and takes it off the table, with no fork in between. */
static void list_close(int fd)
{
	pthread_mutex_lock(&fork_gate);
	close(fd);
	for (size_t i = 0; i < MAX_LISTED; i++) {
		if (listed[i].fd_plus1 == fd + 1) {
			listed[i].fd_plus1 = 0;
			break;
		}
	}
	pthread_mutex_unlock(&fork_gate);
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

/* A helper that said why it could not start was logged then, at ERROR; its
 * exit is the same event, so it is only a DEBUG line. */
static void log_exit(pid_t pid, int status, const char *error)
{
	const char *sep = error[0] ? ": " : "";
	helper_audit_ended(pid, status, error);
	if (error[0] != '\0' && WIFEXITED(status)) {
		wlog(WLOG_DEBUG, "helper %d exited with status %d", (int)pid, WEXITSTATUS(status));
		return;
	}
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
		list_close(hp->chan);
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
			wlog(WLOG_DEBUG, "helper %d ready: %s", (int)hp->pid, r.text);
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

	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&fork_gate);
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	int e = errno;
	int rc = devnull < 0 ? -1 : socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
	if (devnull >= 0 && rc != 0) {
		e = errno;
		close(devnull);
	}
	bool listed_ok = rc == 0 && list_add(sv[0], false);
	if (rc == 0) {
		(void)list_add(sv[1], true);
		(void)list_add(devnull, true);
	}
	pthread_mutex_unlock(&fork_gate);
	if (rc != 0) {
		wlog(WLOG_ERROR, "cannot create the helper channel: %s%s",
		     devnull < 0 ? "/dev/null: " : "", strerror(e));
		return -e;
	}
	if (!listed_ok)
		wlog(WLOG_WARNING,
		     "%d descriptors listed: children forked from now on keep this "
		     "helper's channel open",
		     MAX_LISTED);
	pid_t pid = fork();
	if (pid == 0)
		child_exec(sv[1], devnull, logstdout, path, argv, envp);
	e = errno;
	list_close(sv[1]);
	list_close(devnull);
	if (pid < 0) {
		wlog(WLOG_ERROR, "cannot start the helper: fork: %s", strerror(e));
		list_close(sv[0]);
		return -e;
	}
	hp->pid = pid;
	hp->chan = sv[0];
	wlog(WLOG_DEBUG, "started helper %s as pid %d", path, (int)pid);
	rc = await_ready(hp, timeout_ms);
	helper_audit_started(pid, path, rc, hp->error);
	if (rc) {
		if (rc == -ETIMEDOUT || rc == -EPROTO)
			helper_proc_kill(hp);
		helper_proc_reap(hp, 1000);
	}
	return rc;
}
