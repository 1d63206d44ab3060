/*
 * A stand-in for pkcs11wsop-helper that speaks the channel protocol over
 * plain TCP (no TLS, no confinement), so the library's side of the helper
 * contract can run under the sanitizers. One request at a time.
 *
 * Behaviour is chosen by marker files next to the config file it is given
 * (its environment is empty, as the contract says):
 *   CONFIG.fail  send a channel-level ERROR (CREDENTIALS) and exit 1
 *   CONFIG.hang  send READY, then read frames and never answer
 *   CONFIG.split answer the first request with its first 10 bytes only,
 *                then die (SIGKILL) on the RECV for the rest, removing
 *                the marker so that the next helper behaves
 *   CONFIG.sandbox send READY, then on the first frame load a real seccomp
 *                filter that kills the process on getppid() and call it:
 *                the death by its sandbox that the audit trail names
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <seccomp.h>

#include "ipc/channel.h"

#define CONNS_MAX 64
#define CHAN      3

static int conns[CONNS_MAX + 1]; /* handle -> fd, 0 unused */
static uint8_t rbuf[CHAN_MAX_FRAME];
static uint8_t data[CHAN_MAX_PAYLOAD];
static char split_path[4200]; /* "" unless in split mode */

static bool marker(const char *cfg, const char *suffix)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s.%s", cfg, suffix);
	return access(path, F_OK) == 0;
}

/* Dies as a confined helper does when it makes a forbidden system call. */
static void die_by_sandbox(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(getppid), 0) != 0 ||
	    seccomp_load(ctx) != 0)
		exit(4);
	(void)getppid();
	exit(5); /* not reached: the filter kills */
}

static void answer(uint16_t type, uint32_t id, uint32_t conn, const void *p, uint32_t len)
{
	struct chan_frame f = { .type = type, .id = id, .conn = conn, .payload = p, .len = len };
	if (chan_send(CHAN, &f, -1, 5000) != 0)
		exit(2);
}

static void answer_error(uint32_t id, uint32_t conn, uint32_t code, const char *text)
{
	uint8_t p[CHAN_ERROR_TEXT_MAX + 4];
	uint32_t len;
	if (chan_error_encode(code, text, p, sizeof(p), &len) != 0)
		exit(2);
	answer(CHAN_T_ERROR, id, conn, p, len);
}

/* Waits up to timeout_ms (-1: forever) and reads; DATA, EOF or ERROR. */
static void read_answer(uint32_t id, uint32_t h, uint32_t max, int timeout_ms)
{
	struct pollfd p = { .fd = conns[h], .events = POLLIN };
	int n = poll(&p, 1, timeout_ms);
	if (n == 0) {
		answer_error(id, h, CHAN_E_TIMEOUT, "no data");
		return;
	}
	ssize_t got = n > 0 ? recv(conns[h], data, max, 0) : -1;
	if (got > 0)
		answer(CHAN_T_DATA, id, h, data, (uint32_t)got);
	else if (got == 0)
		answer(CHAN_T_EOF, id, h, NULL, 0);
	else
		answer_error(id, h, CHAN_E_IO, strerror(errno));
}

static void on_send(const struct chan_frame *f)
{
	int fd = conns[f->conn];
	uint32_t off = 0;
	while (off < f->len) {
		ssize_t w = send(fd, f->payload + off, f->len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			poll(&p, 1, -1);
			continue;
		}
		if (w <= 0) {
			answer_error(f->id, f->conn, CHAN_E_IO, strerror(errno));
			return;
		}
		off += (uint32_t)w;
	}
	if (f->flags & CHAN_F_REPLY_DATA)
		read_answer(f->id, f->conn, split_path[0] ? 10 : CHAN_MAX_PAYLOAD, -1);
	else
		answer(CHAN_T_SENT, f->id, f->conn, NULL, 0);
}

static void on_connect(const struct chan_frame *f, int fd)
{
	for (uint32_t h = 1; h <= CONNS_MAX; h++)
		if (conns[h] == 0) {
			conns[h] = fd;
			answer(CHAN_T_CONNECTED, f->id, h, "plain", 5);
			return;
		}
	close(fd);
	answer_error(f->id, 0, CHAN_E_LIMIT, "table full");
}

int main(int argc, char **argv)
{
	const char *cfg = argc == 3 ? argv[2] : "";
	/* A start that takes long: loading credentials from a slow disk. */
	if (marker(cfg, "slow"))
		sleep(30);
	if (marker(cfg, "fail")) {
		answer_error(0, 0, CHAN_E_CREDENTIALS, "cannot use KEY: mode 0644 is too open");
		return 1;
	}
	uint8_t ready[64];
	uint32_t len;
	if (chan_ready_encode((uint32_t)getpid(), "fake helper", ready, sizeof(ready), &len) != 0)
		return 2;
	bool hang = marker(cfg, "hang"); /* before READY: the test removes it then */
	bool sandbox = marker(cfg, "sandbox");
	if (marker(cfg, "split"))
		snprintf(split_path, sizeof(split_path), "%s.split", cfg);
	answer(CHAN_T_READY, 0, 0, ready, len);
	for (;;) {
		struct chan_frame f;
		int fd = -1;
		if (chan_recv(CHAN, rbuf, sizeof(rbuf), CHAN_TO_HELPER, &f, &fd, -1) != 0)
			return 0;
		if (sandbox)
			die_by_sandbox();
		if (hang) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		bool known = f.conn >= 1 && f.conn <= CONNS_MAX && conns[f.conn] != 0;
		struct chan_recv_args ra;
		switch (f.type) {
		case CHAN_T_CONNECT:
			on_connect(&f, fd);
			break;
		case CHAN_T_PING:
			answer(CHAN_T_PONG, f.id, 0, NULL, 0);
			break;
		case CHAN_T_SEND:
		case CHAN_T_RECV:
		case CHAN_T_CLOSE:
			if (!known) {
				answer_error(f.id, f.conn, CHAN_E_NO_CONN, "no such connection");
			} else if (f.type == CHAN_T_SEND) {
				on_send(&f);
			} else if (f.type == CHAN_T_RECV) {
				if (split_path[0]) {
					unlink(split_path);
					raise(SIGKILL);
				}
				if (chan_recv_args_parse(&f, &ra) != 0)
					return 3;
				read_answer(f.id, f.conn, ra.max_bytes, (int)ra.timeout_ms);
			} else {
				close(conns[f.conn]);
				conns[f.conn] = 0;
				answer(CHAN_T_CLOSED, f.id, f.conn, NULL, 0);
			}
			break;
		default:
			return 3;
		}
	}
}
