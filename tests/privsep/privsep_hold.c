/*
 * privsep_hold MODULE: an application that keeps the module's helper
 * alive so that privsep_test.sh can look at it in /proc. It loads MODULE,
 * calls C_Initialize and C_GetSlotList (the helper is running and has
 * answered by then), prints "ready SLOTS" and waits for end of file on
 * stdin; then C_Finalize. Exit 0, or 1 with the failing call and its CK_RV
 * on stdout.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

/* Built without the source root on the include path. */
#include "../p11/p11_load.h"

static CK_FUNCTION_LIST_PTR load(const char *path)
{
	void *h;
	const char *why = NULL;
	CK_FUNCTION_LIST_PTR f = p11_load(path, &h, &why);
	if (f == NULL)
		printf("loading %s: %s\n", path, why);
	return f;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		printf("usage: privsep_hold MODULE\n");
		return 2;
	}
	CK_FUNCTION_LIST_PTR f = load(argv[1]);
	if (f == NULL)
		return 1;
	CK_RV rv = f->C_Initialize(NULL);
	if (rv != CKR_OK) {
		printf("C_Initialize: 0x%lx\n", (unsigned long)rv);
		return 1;
	}
	CK_ULONG count = 0;
	rv = f->C_GetSlotList(CK_FALSE, NULL, &count);
	if (rv != CKR_OK) {
		printf("C_GetSlotList: 0x%lx\n", (unsigned long)rv);
		f->C_Finalize(NULL);
		return 1;
	}
	printf("ready %lu\n", (unsigned long)count);
	fflush(stdout);
	while (getchar() != EOF)
		;
	rv = f->C_Finalize(NULL);
	if (rv != CKR_OK) {
		printf("C_Finalize: 0x%lx\n", (unsigned long)rv);
		return 1;
	}
	return 0;
}
