/*
 * Starting, watching and ending the confined helper process, per the helper
 * contract (ARCHITECTURE.md "Processes and trust", helper/README.md): posix_spawn of the helper
 * binary with the channel on fd 3, fds 0 and 2 on /dev/null, fd 1 the application's stdout only
 * when LOGSTDOUT, every other fd closed, an environment holding only TZ.
 *
 * Contract:
 *  - helper_proc_start() starts the helper and returns without waiting for
 *    it: 0, or a negative errno (logged at ERROR): the errno of socketpair,
 *    -ECHILD when the binary could not be executed, -ENOMEM/-EAGAIN when the
 *    system could not make the process. Loading the credentials and
 *    confining itself go on in the helper while the caller does other work.
 *  - helper_proc_await_ready() waits at most timeout_ms for the helper's
 *    first frame: 0 on READY, or fails with a negative errno after logging
 *    the cause at ERROR and reaping the child: -ETIMEDOUT (no READY in
 *    time), -EKEYREJECTED (the helper could not load its configuration or
 *    credentials), -ECHILD (it exited or died first), -EPROTO (it sent
 *    something else). Either way one helper_start audit line.
 *  - helper_proc_stop_unused() ends a helper whose READY nobody awaited:
 *    one that said READY or ERROR already is handled as above and then
 *    reaped as usual; one still starting holds no connection and no state
 *    and is killed at once (SIGKILL, reaped, a DEBUG line and one
 *    helper_unused audit line), so a C_Initialize + C_Finalize with no call
 *    between does not wait for a start nobody needs.
 *  - The channel fd (hp->chan) is close-on-exec in this process, so other
 *    programs the application starts never inherit it, and every child the
 *    application forks closes its copy at once (pthread_atfork): the helper
 *    exits on the end of file of its channel, so it ends with the
 *    application process (not with the thread that started it) even when
 *    children of the application outlive it. There is no parent-death
 *    signal. Consequence for forked children: the helper_proc structs they
 *    inherit name closed fds and must not be used (backend_forget).
 *  - helper_proc_reap() waits for the helper to end: up to grace_ms on its own
 *    (woken by a pidfd the moment it exits, so a C_Finalize pays no sleep),
 *    then SIGKILL. It logs how it ended when it did not exit 0, and is
 *    idempotent (pid 0 afterwards, so a recycled pid is never signalled).
 *    Every start and every end, clean or not, is also an audit line
 *    (lib/helper_audit.h).
 */
#ifndef PKCS11WSOP_LIB_HELPER_PROC_H
#define PKCS11WSOP_LIB_HELPER_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct helper_proc {
	pid_t pid;       /* 0 once reaped */
	int chan;        /* our end of the channel, -1 when closed */
	char error[520]; /* text of an id-0 ERROR frame it sent, "" when none */
	char path[4096]; /* the binary started (for the audit lines) */
};

/* The binary to run: $PKCS11WSOP_HELPER unless AT_SECURE, else the
 * installed PKCS11WSOP_HELPER_PATH. */
const char *helper_proc_path(void);

int helper_proc_start(const char *config_path, bool logstdout, struct helper_proc *hp);
int helper_proc_await_ready(struct helper_proc *hp, int timeout_ms);
void helper_proc_stop_unused(struct helper_proc *hp);

/* Ends the helper (see above) and closes the channel. */
void helper_proc_reap(struct helper_proc *hp, int grace_ms);

/* Sends SIGKILL now (when not yet reaped). */
void helper_proc_kill(struct helper_proc *hp);

#endif
