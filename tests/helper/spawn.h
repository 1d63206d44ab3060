/*
 * Starting the helper exactly as the library does (helper/README.md):
 * fork + exec, the channel on fd 3 (one end of a SOCK_SEQPACKET
 * socketpair), fds 0-2 on /dev/null, every other fd closed, an environment
 * holding TZ only, no parent-death signal (the helper ends on the end of
 * file of its channel), and only async-signal-safe calls between fork and
 * exec. Plus the small channel helpers the tests use.
 */
#ifndef PKCS11WSOP_TESTS_HELPER_SPAWN_H
#define PKCS11WSOP_TESTS_HELPER_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc/channel.h"

struct helper_proc {
	pid_t pid;  /* 0 once reaped */
	int chan;   /* our end of the channel, -1 once closed */
	int status; /* wait status once reaped */
};

/* Returns 0, or a negative errno. */
int helper_spawn(const char *exe, const char *config_path, struct helper_proc *out);

/* Waits up to timeout_ms for the helper to end (then SIGKILL). Returns its
 * wait status, or -1. */
int helper_reap(struct helper_proc *h, int timeout_ms);

/* Closes the channel and reaps. */
void helper_stop(struct helper_proc *h);

/* One frame from the helper into buf (CHAN_MAX_FRAME bytes); chan_recv's
 * return value. */
int helper_read(struct helper_proc *h, uint8_t *buf, struct chan_frame *f, int timeout_ms);

/* A frame without fd; chan_send's return value. */
int helper_write(struct helper_proc *h, uint16_t type, uint16_t flags, uint32_t id, uint32_t conn,
                 const void *payload, uint32_t len);

/* A non-blocking TCP socket connected to 127.0.0.1:port, or -1. */
int helper_tcp_connect(const char *port);

#endif
