/*
 * Confinement of the pkcs11wsop helper (see security/POLICY.md).
 *
 * The helper loads its client certificate, key and CA, builds its SSL_CTX,
 * then calls, in this order and while it is still single-threaded:
 *
 *   sandbox_clear_environment();              environment is TZ only
 *   sandbox_null_stdio();                     fds 0-2 point at /dev/null
 *   sandbox_close_fds_except(keep, n);        keep = channel, log fd, 0-2
 *   sandbox_drop_privileges(uid, gid, &p);    no capability; root leaves uid 0
 *   sandbox_confine(&report);                 no new files, sockets, processes
 *
 * After sandbox_confine() returns 0 the process can only use the syscalls of
 * the allowlist in security/seccomp_policy.c; any other syscall, and any
 * syscall made with a foreign architecture's calling convention, kills the
 * whole process with SIGSYS.
 *
 * Contract shared by every function here:
 *  - Returns 0 or a negative errno; never exits, never logs (the caller
 *    decides what to log from the return value and the report).
 *  - Not thread-safe; meant for a single-threaded process.
 */
#ifndef PKCS11WSOP_SECURITY_SANDBOX_H
#define PKCS11WSOP_SECURITY_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* What sandbox_confine() did, for the helper's log. Every field is filled on
 * success and on failure. */
struct sandbox_report {
	const char *arch;        /* "x86_64", "aarch64", or "unsupported" */
	const char *failed_step; /* NULL on success, else a short step name */
	unsigned int rules;      /* allowlist rows loaded into the filter */
	unsigned int skipped;    /* rows naming a syscall this arch lacks */
};

/*
 * Confines the calling process for good:
 *   1. sandbox_pin_timezone(), so that later time conversions never open
 *      a file;
 *   2. PR_SET_NO_NEW_PRIVS (no setuid/file-capability gain, and the
 *      precondition for an unprivileged seccomp filter);
 *   3. PR_SET_DUMPABLE 0 (no ptrace by the same uid, no /proc/pid/mem, no
 *      core) and RLIMIT_CORE 0;
 *   4. the seccomp allowlist, default action kill-process, native
 *      architecture only, synchronised to every thread.
 * On failure the process may be partly confined (steps 1-3 are not undone);
 * the caller must then exit rather than serve requests.
 * report may be NULL.
 */
int sandbox_confine(struct sandbox_report *report);

/* What sandbox_drop_privileges() did, for the helper's log. */
struct sandbox_privs {
	bool changed_ids;        /* it ran as root and now runs as uid/gid */
	const char *failed_step; /* NULL on success */
};

/*
 * Gives up every privilege the process was started with, for good:
 *   1. the capability bounding set emptied (when it holds CAP_SETPCAP, as
 *      root does; without it no capability can be regained anyway once
 *      no_new_privs is set and exec is forbidden);
 *   2. the ambient set cleared;
 *   3. when any of its uids is 0: no supplementary groups, then real,
 *      effective and saved gid set to gid and uid to uid (which must not
 *      be 0);
 *   4. effective, permitted and inheritable sets emptied (capset), then
 *      checked empty, and no uid left at 0.
 * Needs no file and no NSS (ids are numbers), and must run before
 * sandbox_confine() (prctl, set*id and capset are not in the allowlist).
 * Fds already open (log file, channel) stay usable. Returns 0 or a negative
 * errno with out->failed_step set; the caller must then exit.
 */
int sandbox_drop_privileges(uid_t uid, gid_t gid, struct sandbox_privs *out);

/*
 * Closes every fd except the n fds in keep (any order, duplicates and
 * negative values ignored). Uses close_range(2); where the kernel or an outer
 * sandbox refuses it, walks /proc/self/fd instead, and as a last resort every
 * number below RLIMIT_NOFILE. Must run before sandbox_confine(): the
 * fallbacks open a directory.
 */
int sandbox_close_fds_except(const int *keep, size_t n);

/*
 * Empties the environment but for TZ (the inherited value, or
 * ":/etc/localtime" when there was none), so that nothing inherited from the
 * application (LD_*, OPENSSL_*, proxies, locale paths) steers code that runs
 * after this point.
 */
int sandbox_clear_environment(void);

/*
 * Makes TZ explicit (kept when inherited and non-empty, else
 * ":/etc/localtime") and calls tzset(), which loads the zone now. glibc
 * re-reads zone files only when TZ changes or is unset, so later
 * localtime() calls stay file-free and log lines keep the same local time
 * as the library's. Must run before sandbox_confine() opens no more files;
 * sandbox_confine() calls it itself.
 */
int sandbox_pin_timezone(void);

/*
 * Points fds 0, 1 and 2 at /dev/null unless they are already open, so that
 * an fd received later can never land on a stdio number and receive stray
 * output. Must run before sandbox_confine().
 */
int sandbox_null_stdio(void);

#endif
