/*
 * Loading the PKCS #11 module the way an application does, for the test
 * programs that play one: dlopen() of path, then its C_GetFunctionList.
 * p11_load() returns the function list, with the dlopen() handle in
 * *handle; or NULL, the library closed again and *why naming what failed
 * (dlerror()'s text, or "C_GetFunctionList failed").
 */
#ifndef PKCS11WSOP_TESTS_P11_LOAD_H
#define PKCS11WSOP_TESTS_P11_LOAD_H

#include <dlfcn.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

static inline CK_FUNCTION_LIST_PTR p11_load(const char *path, void **handle, const char **why)
{
	CK_C_GetFunctionList get = NULL;
	CK_FUNCTION_LIST_PTR list = NULL;
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	*handle = NULL;
	if (h == NULL) {
		*why = dlerror();
		return NULL;
	}
	/* POSIX lets a dlsym result be a function; ISO C needs the detour
	 * through memcpy to say so without a warning. */
	void *sym = dlsym(h, "C_GetFunctionList");
	if (sym != NULL)
		memcpy(&get, &sym, sizeof(get));
	if (get == NULL || get(&list) != CKR_OK || list == NULL) {
		*why = "C_GetFunctionList failed";
		dlclose(h);
		return NULL;
	}
	*handle = h;
	return list;
}

#endif
