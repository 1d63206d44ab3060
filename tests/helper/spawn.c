/* Test support; the contract is in spawn.h. */
#include "tests/helper/spawn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TZ_ENV_MAX 300

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static void child_exec(const char *exe, char *const argv[], char *const envp[], int chan,
                       int devnull)
{
	if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
		_exit(126);
	if (chan == 3) {
		/* dup2 onto itself keeps CLOEXEC: clear it by hand. */
		if (fcntl(3, F_SETFD, 0) != 0)
			_exit(126);
	} else if (dup2(chan, 3) < 0) {
		_exit(126);
	}
	if (syscall(SYS_close_range, 4u, ~0u, 0u) != 0)
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	execve(exe, argv, envp);
	_exit(127);
}

int helper_spawn(const char *exe, const char *config_path, struct helper_proc *out)
{
	int sv[2];
	static char tz_env[TZ_ENV_MAX];
	char *envp[2] = { NULL, NULL };
	char *argv[] = { (char *)"pkcs11wsop-helper", (char *)"--config", (char *)config_path,
		         NULL };
	const char *tz = getenv("TZ");

	out->pid = 0;
	out->chan = -1;
	out->status = -1;
	if (tz != NULL && strlen(tz) + 4 < sizeof(tz_env)) {
		snprintf(tz_env, sizeof(tz_env), "TZ=%s", tz);
		envp[0] = tz_env;
	}
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		int err = -errno;
		close(devnull);
		return err;
	}
	pid_t pid = fork();
	if (pid == 0)
		child_exec(exe, argv, envp, sv[1], devnull);
	int err = pid < 0 ? -errno : 0;
	close(sv[1]);
	close(devnull);
	if (pid < 0) {
		close(sv[0]);
		return err;
	}
	out->pid = pid;
	out->chan = sv[0];
	return 0;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int helper_reap(struct helper_proc *h, int timeout_ms)
{
	long long deadline = mono_ms() + timeout_ms;
	int status;

	if (h->pid == 0)
		return h->status;
	for (;;) {
		pid_t r = waitpid(h->pid, &status, WNOHANG);
		if (r == h->pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (mono_ms() >= deadline) {
			kill(h->pid, SIGKILL);
			if (waitpid(h->pid, &status, 0) != h->pid)
				return -1;
			break;
		}
		struct timespec nap = { 0, 5 * 1000 * 1000 };
		nanosleep(&nap, NULL);
	}
	h->pid = 0;
	h->status = status;
	return status;
}

void helper_stop(struct helper_proc *h)
{
	if (h->chan >= 0) {
		close(h->chan);
		h->chan = -1;
	}
	(void)helper_reap(h, 5000);
}

int helper_read(struct helper_proc *h, uint8_t *buf, struct chan_frame *f, int timeout_ms)
{
	return chan_recv(h->chan, buf, CHAN_MAX_FRAME, CHAN_TO_LIB, f, NULL, timeout_ms);
}

int helper_write(struct helper_proc *h, uint16_t type, uint16_t flags, uint32_t id, uint32_t conn,
                 const void *payload, uint32_t len)
{
	const struct chan_frame f = {
		.type = type, .flags = flags, .id = id, .conn = conn, .payload = payload, .len = len
	};

	return chan_send(h->chan, &f, -1, 5000);
}

int helper_tcp_connect(const char *port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	int one = 1;

	addr.sin_port = htons((uint16_t)atoi(port));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}
