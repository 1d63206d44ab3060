/*
 * Audit lines of the helper's life (conf/audit.h): started or not, exited,
 * died and how. Called by helper_proc.c, so every program that starts a
 * helper (the module, softcardtool) leaves the same trail.
 *
 * Contract:
 *  - helper_audit_started(): one helper_start line; rc is
 *    helper_proc_await_ready's result (0 or a negative errno), error the
 *    text the helper sent, if any.
 *  - helper_audit_unused(): one helper_unused line: a helper started
 *    ahead of need and stopped before it said READY (helper_proc.h).
 *  - helper_audit_ended(): one line per reaped helper: helper_exit for an
 *    exit (success only for status 0), helper_died for a signal, with
 *    how=sandbox for SIGSYS (its seccomp filter killed it), how=killed for
 *    SIGKILL, how=crashed for SIGSEGV/SIGBUS/SIGABRT/SIGFPE/SIGILL, else
 *    how=signal.
 */
#ifndef PKCS11WSOP_LIB_HELPER_AUDIT_H
#define PKCS11WSOP_LIB_HELPER_AUDIT_H

#include <sys/types.h>

void helper_audit_started(pid_t pid, const char *path, int rc, const char *error);
void helper_audit_ended(pid_t pid, int status, const char *error);
void helper_audit_unused(pid_t pid, const char *path);

#endif
