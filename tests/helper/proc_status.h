/*
 * One field of /proc/<pid>/status ("CapEff", "Uid", "Seccomp"...), for the
 * tests that check what the kernel says about a helper or a confined child.
 */
#ifndef PKCS11WSOP_TESTS_HELPER_PROC_STATUS_H
#define PKCS11WSOP_TESTS_HELPER_PROC_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Writes the value of field (blanks after the colon and the newline cut)
 * of process pid (0: this process) into out, NUL-terminated. Returns false
 * with out "" when the process or the field does not exist. */
bool proc_status_field(pid_t pid, const char *field, char *out, size_t cap);

#endif
