/*
 * The helper's seccomp allowlist: one table, one loader.
 *
 * Every syscall not in the table kills the process (SCMP_ACT_KILL_PROCESS),
 * and so does any syscall made under an architecture other than the native
 * one (x86_64 or aarch64; on x86_64 that covers i386 "int 0x80" and x32).
 * The table is data so that POLICY.md, the tests and a reviewer all read the
 * same rows.
 *
 * The filter is compiled from the table when the helper is built
 * (seccomp_build.h, run by the generator seccomp_gen), not when it starts:
 * the helper carries the BPF program and loads it with seccomp(2), so it
 * neither links libseccomp nor spends its start-up compiling rules.
 */
#ifndef PKCS11WSOP_SECURITY_SECCOMP_POLICY_H
#define PKCS11WSOP_SECURITY_SECCOMP_POLICY_H

#include <stddef.h>
#include <stdint.h>

/* Argument conditions a row may carry; anything else is "any arguments". */
enum seccomp_policy_args {
	POLICY_ARGS_ANY = 0,
	/* arg 2 (prot) must not contain PROT_EXEC: no new executable memory. */
	POLICY_ARGS_PROT_NO_EXEC,
	/* arg 3 (flags) must contain AT_EMPTY_PATH: the fstat(fd) form. */
	POLICY_ARGS_AT_EMPTY_PATH,
	/* arg 1 (cmd) F_SETFL and arg 2 exactly O_NONBLOCK (low 32 bits of
	 * both: they are ints): make a received socket non-blocking, and
	 * nothing else fcntl can do. */
	POLICY_ARGS_SETFL_NONBLOCK,
};

struct seccomp_policy_row {
	int syscall_nr;   /* native number, or a libseccomp pseudo (< 0) if absent */
	const char *name; /* as in the kernel's syscall table */
	enum seccomp_policy_args args;
	const char *why; /* the reason the confined helper needs it */
};

/* The allowlist; *n receives its length. */
const struct seccomp_policy_row *seccomp_policy_rows(size_t *n);

/* Name of the architecture the policy is built for ("x86_64", "aarch64"),
 * or NULL when this build targets neither. */
const char *seccomp_policy_arch(void);

/* libseccomp's token (SCMP_ARCH_*) of that architecture, 0 when neither. */
uint32_t seccomp_policy_arch_token(void);

/*
 * Loads the filter compiled from the table at build time into the kernel
 * for every thread of the process (SECCOMP_FILTER_FLAG_TSYNC). The caller
 * has set no_new_privs (or holds CAP_SYS_ADMIN). Rows whose syscall does
 * not exist on this architecture were skipped and are counted in *skipped;
 * *loaded counts the rows that became rules. Returns 0 or a negative errno
 * (-ENOTSUP when this build targets an architecture the table was not
 * written for).
 */
int seccomp_policy_load(unsigned int *loaded, unsigned int *skipped);

#endif
