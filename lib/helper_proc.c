/*
 * posix_spawn of the helper and the wait for its READY frame. posix_spawn
 * (a vfork-style clone in glibc) runs no code of ours in the child and
 * copies no page table of the application: a plain fork of a large
 * application cost milliseconds of page-table copying before the exec
 * threw it all away. The child's descriptors are set by file actions:
 * the channel on 3, /dev/null on 0 and 2 (and 1 unless LOGSTDOUT), every
 * other one closed.
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
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/mono_clock.h"
#include "build_config.h"
#include "conf/log.h"
#include "ipc/channel.h"
#include "lib/helper_audit.h"

/* The two descriptors the child gets are moved at or above this before
 * the spawn, so that its dup2 onto 0..3 cannot clobber one with the other
 * (an application may have closed its stdio). */
#define PARK_FD 10

/*
 * The descriptors no forked child may keep: the library's end of every live
 * channel (else a child that outlives the application would keep its
 * helper alive), and, while a helper is being started, that helper's own
 * end and /dev/null (the helper gets them through its spawn's file
 * actions, which no atfork handler sees). fork_gate guards the table, and
 * every fork holds it from its prepare to its parent handler, so a child
 * always inherits a table that matches its descriptors exactly.
 */
#define MAX_LISTED 64
struct listed_fd {
	int fd_plus1; /* 0: free slot */
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

/* In every child of the application's fork(): plain loads, stores and
 * close(), so async-signal-safe. */
static void gate_child(void)
{
	fork_gate = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	for (size_t i = 0; i < MAX_LISTED; i++) {
		struct listed_fd *l = &listed[i];
		if (l->fd_plus1 > 0)
			close(l->fd_plus1 - 1);
		l->fd_plus1 = 0;
	}
}

static void register_atfork(void)
{
	(void)pthread_atfork(gate_prepare, gate_parent, gate_child);
}

/* With fork_gate held. False when the table is full. */
static bool list_add(int fd)
{
	for (size_t i = 0; i < MAX_LISTED; i++) {
		if (listed[i].fd_plus1 == 0) {
			listed[i] = (struct listed_fd){ fd + 1 };
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

/* Waits up to grace_ms for pid to end, without reaping it: 1 when it
 * ended, 0 when not in time. A pidfd wakes us the moment it exits; where
 * there is none (kernels before 5.3), short sleeps stand in. */
static int wait_end(pid_t pid, int grace_ms)
{
	long end = mono_ms() + grace_ms;
#ifdef SYS_pidfd_open
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int r;
		long left;
		do {
			left = end - mono_ms();
			r = poll(&p, 1, left > 0 ? (int)left : 0);
		} while (r < 0 && errno == EINTR);
		close(pfd);
		return r > 0;
	}
#endif
	siginfo_t si;
	for (;;) {
		memset(&si, 0, sizeof(si));
		int r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || si.si_pid == pid)
			return 1; /* ended, or not ours to wait for (SIGCHLD ignored) */
		if (mono_ms() >= end)
			return 0;
		struct timespec ts = { 0, 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

void helper_proc_reap(struct helper_proc *hp, int grace_ms)
{
	if (hp == NULL)
		return;
	if (hp->chan >= 0) {
		/* EOF on its channel is the helper's signal to exit. */
		list_close(hp->chan);
		hp->chan = -1;
	}
	if (hp->pid <= 0)
		return;
	int status = 0;
	if (!wait_end(hp->pid, grace_ms))
		kill(hp->pid, SIGKILL);
	pid_t r;
	do
		r = waitpid(hp->pid, &status, 0);
	while (r < 0 && errno == EINTR);
	if (r == hp->pid)
		log_exit(hp->pid, status, hp->error);
	hp->pid = 0;
}

/* Reads the first frame: READY, or an id-0 ERROR saying why not. With
 * quiet_wait, a READY not there yet is no error worth a log line. */
static int await_ready(struct helper_proc *hp, int timeout_ms, bool quiet_wait)
{
	uint8_t *buf = malloc(CHAN_MAX_FRAME);
	if (buf == NULL)
		return -ENOMEM;
	struct chan_frame f;
	int rc = chan_recv(hp->chan, buf, CHAN_MAX_FRAME, CHAN_TO_LIB, &f, NULL, timeout_ms);
	if (rc == -ETIMEDOUT) {
		if (!quiet_wait)
			wlog(WLOG_ERROR, "helper %d sent no READY within %d ms: timed out",
			     (int)hp->pid, timeout_ms);
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

/* With fork_gate held: moves fd off 0..3 (see PARK_FD). -1 on failure,
 * fd closed. */
static int lift(int fd)
{
	if (fd < 0 || fd > 3)
		return fd;
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, PARK_FD);
	int e = errno;
	close(fd);
	errno = e;
	return moved;
}

/* With fork_gate held: /dev/null and the socketpair, all off 0..3. 0, or
 * -1 with errno and nothing left open; *what names the failed part. */
static int make_fds(int *devnull, int sv[2], const char **what)
{
	*what = "/dev/null: ";
	*devnull = lift(open("/dev/null", O_RDWR | O_CLOEXEC));
	if (*devnull < 0)
		return -1;
	*what = "";
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0) {
		sv[0] = lift(sv[0]);
		sv[1] = lift(sv[1]);
		if (sv[0] >= 0 && sv[1] >= 0)
			return 0;
	}
	int e = errno;
	close(*devnull);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	errno = e;
	return -1;
}

/* The child's descriptors: channel on 3, /dev/null on 0, 2 and (unless
 * LOGSTDOUT) 1, nothing else. dup2 onto a target clears its
 * close-on-exec flag; the sources are all above 3. */
static int child_fds(posix_spawn_file_actions_t *fa, int chan, int devnull, bool logstdout)
{
	int rc = posix_spawn_file_actions_init(fa);
	if (rc != 0)
		return rc;
	rc = posix_spawn_file_actions_adddup2(fa, chan, 3);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(fa, devnull, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(fa, devnull, 2);
	if (rc == 0 && !logstdout)
		rc = posix_spawn_file_actions_adddup2(fa, devnull, 1);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(fa, 4);
	if (rc != 0)
		posix_spawn_file_actions_destroy(fa);
	return rc;
}

/* Starts the helper; its pid or a negative errno (logged). */
static pid_t start_child(const char *path, int chan, int devnull, bool logstdout,
                         char *const argv[], char *const envp[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid = 0;
	int rc = child_fds(&fa, chan, devnull, logstdout);
	if (rc == 0) {
		rc = posix_spawn(&pid, path, &fa, NULL, argv, envp);
		posix_spawn_file_actions_destroy(&fa);
	}
	if (rc == 0)
		return pid;
	wlog(WLOG_ERROR, "cannot start the helper %s: %s", path, strerror(rc));
	/* Out of memory or processes is the system's state; anything else
	 * (missing or unexecutable binary) is this helper failing to start. */
	return rc == ENOMEM || rc == EAGAIN ? -rc : -ECHILD;
}

int helper_proc_start(const char *config_path, bool logstdout, struct helper_proc *hp)
{
	int sv[2] = { -1, -1 };
	int devnull = -1;
	const char *path = helper_proc_path();
	const char *what = "";

	memset(hp, 0, sizeof(*hp));
	hp->chan = -1;
	snprintf(hp->path, sizeof(hp->path), "%s", path);
	char *argv[] = { (char *)"pkcs11wsop-helper", (char *)"--config", (char *)config_path,
		         NULL };
	char tz[512];
	char *envp[2] = { NULL, NULL };
	const char *tzv = getenv("TZ");
	if (tzv && snprintf(tz, sizeof(tz), "TZ=%s", tzv) < (int)sizeof(tz))
		envp[0] = tz;

	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&fork_gate);
	int rc = make_fds(&devnull, sv, &what);
	int e = errno;
	bool listed_ok = rc == 0 && list_add(sv[0]);
	if (rc == 0) {
		(void)list_add(sv[1]);
		(void)list_add(devnull);
	}
	pthread_mutex_unlock(&fork_gate);
	if (rc != 0) {
		wlog(WLOG_ERROR, "cannot create the helper channel: %s%s", what, strerror(e));
		return -e;
	}
	if (!listed_ok)
		wlog(WLOG_WARNING,
		     "%d descriptors listed: children forked from now on keep this "
		     "helper's channel open",
		     MAX_LISTED);
	pid_t pid = start_child(path, sv[1], devnull, logstdout, argv, envp);
	list_close(sv[1]);
	list_close(devnull);
	if (pid < 0) {
		list_close(sv[0]);
		return (int)pid;
	}
	hp->pid = pid;
	hp->chan = sv[0];
	wlog(WLOG_DEBUG, "started helper %s as pid %d", path, (int)pid);
	return 0;
}

/* The start's outcome rc (await_ready's): audited; on failure the helper
 * is killed when it may still run (timed out, broke the protocol) and
 * reaped. */
static int settle_start(struct helper_proc *hp, int rc)
{
	helper_audit_started(hp->pid, hp->path, rc, hp->error);
	if (rc) {
		if (rc == -ETIMEDOUT || rc == -EPROTO)
			helper_proc_kill(hp);
		helper_proc_reap(hp, 1000);
	}
	return rc;
}

int helper_proc_await_ready(struct helper_proc *hp, int timeout_ms)
{
	return settle_start(hp, await_ready(hp, timeout_ms, false));
}

void helper_proc_stop_unused(struct helper_proc *hp)
{
	if (hp->pid <= 0)
		return;
	/* What it said already is not lost: a READY makes this a start and
	 * an ordinary end, an ERROR a failed start logged as such. */
	int rc = await_ready(hp, 0, true);
	if (rc != -ETIMEDOUT) {
		if (settle_start(hp, rc) == 0)
			helper_proc_reap(hp, 1000);
		return;
	}
	/* Nothing to finish: no connection, no request, no state. */
	pid_t pid = hp->pid;
	helper_proc_kill(hp);
	list_close(hp->chan);
	hp->chan = -1;
	int status = 0;
	pid_t r;
	do
		r = waitpid(pid, &status, 0);
	while (r < 0 && errno == EINTR);
	hp->pid = 0;
	wlog(WLOG_DEBUG, "helper %d stopped before it was needed", (int)pid);
	helper_audit_unused(pid, hp->path);
}
