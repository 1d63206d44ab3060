/*
 * Module loading and printing helpers shared by the generic ck tools.
 */
#include "ck_common.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ck_wsop_hint.h"

#ifndef CK_DEFAULT_LIBRARY
#error "CK_DEFAULT_LIBRARY must be defined by the build"
#endif

const char *ck_default_library(void)
{
	return CK_DEFAULT_LIBRARY;
}

int ck_fail(const char *prog, const char *function, CK_RV rv)
{
	const char *name = ck_rv_name(rv);

	/* An unnamed code is shown as a number too, so that it can be looked up. */
	if (rv >= CKR_VENDOR_DEFINED || strcmp(name, "CKR_UNKNOWN") == 0)
		fprintf(stderr, "%s: %s: %s (0x%lx)\n", prog, function, name, (unsigned long)rv);
	else
		fprintf(stderr, "%s: %s: %s\n", prog, function, name);
	ck_wsop_hint_print(prog);
	return -1;
}

int ck_module_open(struct ck_module *mod, const char *prog, const char *path)
{
	CK_C_GetFunctionList get_list;
	void *sym;
	CK_C_INITIALIZE_ARGS args = { 0 };
	CK_RV rv;

	mod->prog = prog;
	mod->handle = NULL;
	mod->fn = NULL;
	mod->initialized = 0;

	/* RTLD_NOW: a module with unresolved symbols fails here, clearly, not
	 * in the middle of a listing. */
	mod->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (mod->handle == NULL) {
		const char *err = dlerror();

		fprintf(stderr, "%s: cannot load %s: %s\n", prog, path,
		        err != NULL ? err : "unknown error");
		return -1;
	}
	/* ISO C has no conversion from void * to a function pointer; POSIX
	 * guarantees both have one representation, so copy the bytes. */
	sym = dlsym(mod->handle, "C_GetFunctionList");
	if (sym == NULL) {
		fprintf(stderr, "%s: cannot load %s: no C_GetFunctionList symbol\n", prog, path);
		ck_module_close(mod);
		return -1;
	}
	memcpy(&get_list, &sym, sizeof(get_list));
	rv = get_list(&mod->fn);
	if (rv != CKR_OK || mod->fn == NULL) {
		ck_fail(prog, "C_GetFunctionList", rv != CKR_OK ? rv : CKR_GENERAL_ERROR);
		ck_module_close(mod);
		return -1;
	}
	if (mod->fn->version.major != 2) {
		fprintf(stderr, "%s: cannot use %s: Cryptoki version %u.%u, need 2.x\n", prog, path,
		        mod->fn->version.major, mod->fn->version.minor);
		ck_module_close(mod);
		return -1;
	}
	ck_wsop_hint_prepare(prog, path);
	args.flags = CKF_OS_LOCKING_OK;
	rv = mod->fn->C_Initialize(&args);
	if (rv != CKR_OK) {
		ck_fail(prog, "C_Initialize", rv);
		ck_module_close(mod);
		return -1;
	}
	mod->initialized = 1;
	return 0;
}

void ck_module_close(struct ck_module *mod)
{
	if (mod->initialized && mod->fn != NULL) {
		CK_RV rv = mod->fn->C_Finalize(NULL);

		if (rv != CKR_OK)
			ck_fail(mod->prog, "C_Finalize", rv);
	}
	mod->initialized = 0;
	mod->fn = NULL;
	/* Sanitizer runs want the module's symbols at exit to name leaks, so
	 * CK_TOOLS_NO_DLCLOSE keeps it mapped. */
	if (mod->handle != NULL && getenv("CK_TOOLS_NO_DLCLOSE") == NULL)
		dlclose(mod->handle);
	mod->handle = NULL;
}

int ck_slot_list(struct ck_module *mod, CK_BBOOL token_present, CK_SLOT_ID **slots, CK_ULONG *count)
{
	CK_SLOT_ID *list = NULL;
	CK_ULONG n = 0;
	CK_RV rv;

	*slots = NULL;
	*count = 0;
	for (;;) {
		rv = mod->fn->C_GetSlotList(token_present, NULL, &n);
		if (rv != CKR_OK)
			return ck_fail(mod->prog, "C_GetSlotList", rv);
		if (n == 0)
			return 0;
		if (n > CK_MAX_SLOTS) {
			fprintf(stderr, "%s: C_GetSlotList: %lu slots, more than %d\n", mod->prog,
			        (unsigned long)n, CK_MAX_SLOTS);
			return -1;
		}
		list = calloc(n, sizeof(*list));
		if (list == NULL) {
			fprintf(stderr, "%s: out of memory\n", mod->prog);
			return -1;
		}
		rv = mod->fn->C_GetSlotList(token_present, list, &n);
		if (rv == CKR_OK)
			break;
		free(list);
		list = NULL;
		/* A slot appeared between the two calls: ask again. */
		if (rv != CKR_BUFFER_TOO_SMALL)
			return ck_fail(mod->prog, "C_GetSlotList", rv);
	}
	*slots = list;
	*count = n;
	return 0;
}

void ck_print_padded(const char *label, const CK_UTF8CHAR *text, size_t len)
{
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\0'))
		len--;
	printf("  %s: %.*s\n", label, (int)len, (const char *)text);
}

void ck_print_version(const char *label, CK_VERSION version)
{
	printf("  %s: %u.%u\n", label, version.major, version.minor);
}

void ck_print_flags(const char *label, CK_FLAGS flags, const struct ck_name *table)
{
	CK_FLAGS rest = flags;

	printf("  %s: 0x%lx", label, (unsigned long)flags);
	for (size_t i = 0; table[i].name != NULL; i++) {
		if ((flags & table[i].value) != 0) {
			printf(" %s", table[i].name);
			rest &= ~table[i].value;
		}
	}
	if (rest != 0)
		printf(" 0x%lx", (unsigned long)rest);
	printf("\n");
}

void ck_print_count(const char *label, CK_ULONG value, int zero_is_infinite)
{
	if (value == CK_UNAVAILABLE_INFORMATION)
		printf("  %s: unavailable\n", label);
	else if (zero_is_infinite && value == CK_EFFECTIVELY_INFINITE)
		printf("  %s: unlimited\n", label);
	else
		printf("  %s: %lu\n", label, (unsigned long)value);
}

void ck_print_hex(const unsigned char *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		printf("%02x", data[i]);
}

int ck_parse_slot(const char *text, CK_SLOT_ID *slot)
{
	char *end;
	unsigned long long v;

	/* strtoull accepts a sign and blanks; a slot id is digits only. */
	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(text, &end, 0);
	if (errno != 0 || *end != '\0' || v > (CK_ULONG)-1)
		return -1;
	*slot = (CK_SLOT_ID)v;
	return 0;
}

int ck_each_token(struct ck_module *mod, int one_slot, CK_SLOT_ID only,
                  int (*fn)(struct ck_module *mod, CK_SLOT_ID slot, void *arg), void *arg)
{
	CK_SLOT_ID *slots;
	CK_ULONG count;
	int status = 0, found = 0;

	if (ck_slot_list(mod, CK_TRUE, &slots, &count) != 0)
		return -1;
	for (CK_ULONG i = 0; i < count; i++) {
		if (one_slot && slots[i] != only)
			continue;
		found = 1;
		if (fn(mod, slots[i], arg) != 0)
			status = -1;
	}
	free(slots);
	if (one_slot && !found) {
		fprintf(stderr, "%s: no token in slot %lu\n", mod->prog, (unsigned long)only);
		return -1;
	}
	return status;
}

int ck_common_option(int opt, const char *arg, const char **library, void (*usage)(FILE *out))
{
	if (opt == 'l') {
		*library = arg;
		return -1;
	}
	usage(opt == 'h' ? stdout : stderr);
	return opt == 'h' ? 0 : 2;
}

int ck_slot_option(const char *prog, const char *arg, CK_SLOT_ID *slot, int *one_slot)
{
	if (ck_parse_slot(arg, slot) != 0) {
		fprintf(stderr, "%s: bad slot id: %s\n", prog, arg);
		return 2;
	}
	*one_slot = 1;
	return 0;
}

int ck_run_module(const char *prog, int argc, char **argv, int first_arg, const char *library,
                  void (*usage)(FILE *out), int (*run)(struct ck_module *mod, void *arg), void *arg)
{
	struct ck_module mod;
	int status;

	if (first_arg != argc) {
		fprintf(stderr, "%s: unexpected argument: %s\n", prog, argv[first_arg]);
		usage(stderr);
		return 2;
	}
	if (ck_module_open(&mod, prog, library) != 0)
		return 1;
	status = run(&mod, arg);
	ck_module_close(&mod);
	if (fflush(stdout) != 0) {
		perror(prog);
		return 1;
	}
	return status == 0 ? 0 : 1;
}
