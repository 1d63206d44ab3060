/*
 * Compiling the allowlist of seccomp_policy.c into a BPF program with
 * libseccomp. Used at build time by the generator (seccomp_gen.c), whose
 * output the helper loads, and by the tests, which check that the program
 * built into the helper is the one the table gives now. The helper itself
 * never calls this.
 */
#ifndef PKCS11WSOP_SECURITY_SECCOMP_BUILD_H
#define PKCS11WSOP_SECURITY_SECCOMP_BUILD_H

#include <stddef.h>
#include <stdint.h>

/* The compiled filter: prog_len bytes of struct sock_filter. */
struct seccomp_build_out {
	uint8_t *prog; /* malloc'd; free() it */
	size_t prog_len;
	unsigned int loaded;  /* rows that became rules */
	unsigned int skipped; /* rows whose syscall this architecture lacks */
};

/*
 * Builds the filter from the table: default action and foreign
 * architectures SCMP_ACT_KILL_PROCESS, one rule per row present on the
 * native architecture. 0, or a negative errno (-ENOTSUP when the native
 * architecture is not the one the table was written for).
 */
int seccomp_build(struct seccomp_build_out *out);

#endif
