/*
 * What the generic ck tools (ckinfo, cklist, ckmechinfo) share: loading any
 * PKCS #11 module by path, reporting errors by CKR name, and printing the
 * fixed-width, blank-padded fields of the standard's info structures.
 *
 * Contract: every function that can fail prints one line
 * "<prog>: <what>: <reason>" to stderr and returns a negative value; on
 * success it returns 0. Output goes to stdout. ck_module_close() is safe on
 * a module that failed to open or initialise.
 */
#ifndef PKCS11WSOP_TOOLS_CK_COMMON_H
#define PKCS11WSOP_TOOLS_CK_COMMON_H

#include <stddef.h>
#include <stdio.h>

#include <p11-kit/pkcs11.h>

#include "ck_names.h"

/* At most this many slots are listed: a guard against a module that keeps
 * answering larger counts, checked before allocating. */
#define CK_MAX_SLOTS 4096

struct ck_module {
	const char *prog;        /* tool name, for error lines */
	void *handle;            /* dlopen handle, NULL when not loaded */
	CK_FUNCTION_LIST_PTR fn; /* from C_GetFunctionList */
	int initialized;         /* C_Initialize succeeded */
};

/* The module used when --library is not given: ours, under the prefix. */
const char *ck_default_library(void);

/* dlopen(path), C_GetFunctionList and C_Initialize (OS locking allowed). */
int ck_module_open(struct ck_module *mod, const char *prog, const char *path);

/* C_Finalize when initialised, then dlclose. */
void ck_module_close(struct ck_module *mod);

/* Prints "<prog>: <function>: <CKR name>" to stderr and returns -1. */
int ck_fail(const char *prog, const char *function, CK_RV rv);

/*
 * C_GetSlotList with the count-then-fill protocol, retried when the count
 * grows in between. On success *slots is malloc'ed (NULL when *count is 0)
 * and the caller frees it.
 */
int ck_slot_list(struct ck_module *mod, CK_BBOOL token_present, CK_SLOT_ID **slots,
                 CK_ULONG *count);

/*
 * Runs fn on each slot with a token, or only on slot only when one_slot is
 * set (-1, with a line to stderr, when that slot has no token). -1 when
 * any fn failed; the others still run.
 */
int ck_each_token(struct ck_module *mod, int one_slot, CK_SLOT_ID only,
                  int (*fn)(struct ck_module *mod, CK_SLOT_ID slot, void *arg), void *arg);

/*
 * The getopt results every tool reads alike. ck_common_option: 'l' sets
 * *library and returns -1 (read on); 'h' prints usage to stdout and
 * returns 0; anything else prints usage to stderr and returns 2.
 * ck_slot_option: a --slot argument into *slot and *one_slot = 1, 0; or
 * 2 after "PROG: bad slot id: ARG" on stderr.
 */
int ck_common_option(int opt, const char *arg, const char **library, void (*usage)(FILE *out));
int ck_slot_option(const char *prog, const char *arg, CK_SLOT_ID *slot, int *one_slot);

/*
 * The end of a tool's main once its options are read: 2 (with usage to
 * stderr) when arguments are left over, else opens library, runs
 * run(mod, arg), closes the module and flushes stdout. The exit status.
 */
int ck_run_module(const char *prog, int argc, char **argv, int first_arg, const char *library,
                  void (*usage)(FILE *out), int (*run)(struct ck_module *mod, void *arg),
                  void *arg);

/* "  <label>: <text>" with trailing blanks of the padded field removed. */
void ck_print_padded(const char *label, const CK_UTF8CHAR *text, size_t len);

/* "  <label>: <major>.<minor>" */
void ck_print_version(const char *label, CK_VERSION version);

/* "  <label>: 0x<hex> NAME NAME ..." with unnamed bits shown as 0x... */
void ck_print_flags(const char *label, CK_FLAGS flags, const struct ck_name *table);

/* "  <label>: <n>", or "unavailable" for CK_UNAVAILABLE_INFORMATION, or
 * "unlimited" for CK_EFFECTIVELY_INFINITE (0) where the field allows it. */
void ck_print_count(const char *label, CK_ULONG value, int zero_is_infinite);

/* Parses a slot id (decimal or 0x hex) into *slot; -1 when not a number. */
int ck_parse_slot(const char *text, CK_SLOT_ID *slot);

/* Lower-case hex of len bytes, no separator. */
void ck_print_hex(const unsigned char *data, size_t len);

#endif
