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

static CK_FUNCTION_LIST_PTR load(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		printf("dlopen %s: %s\n", path, dlerror());
		return NULL;
	}
	/* ISO C has no function-pointer cast from void *: copy the bytes. */
	void *sym = dlsym(h, "C_GetFunctionList");
	CK_C_GetFunctionList get = NULL;
	if (sym != NULL)
		memcpy(&get, &sym, sizeof(get));
	CK_FUNCTION_LIST_PTR f = NULL;
	if (get == NULL || get(&f) != CKR_OK || f == NULL) {
		printf("C_GetFunctionList failed\n");
		return NULL;
	}
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
