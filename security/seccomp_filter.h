/*
 * The helper's BPF program, compiled from the allowlist at build time
 * (seccomp_gen writes seccomp_filter.c into the build tree). Loaded by
 * seccomp_policy_load() (seccomp_load.c).
 */
#ifndef PKCS11WSOP_SECURITY_SECCOMP_FILTER_H
#define PKCS11WSOP_SECURITY_SECCOMP_FILTER_H

#include <linux/filter.h>

extern const struct sock_filter seccomp_filter_prog[];
extern const unsigned short seccomp_filter_len; /* instructions */
extern const unsigned int seccomp_filter_rules;
extern const unsigned int seccomp_filter_skipped;

#endif
