/*
 * 100 C_Initialize/C_Finalize cycles (with a C_GetSlotList round trip in
 * every tenth) for valgrind --leak-check=full: whatever the module
 * allocates must be freed by C_Finalize. The helper and wsopd are separate
 * executables and are not traced. Exit 0 on success, 77 to skip.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/p11/p11_fixture.h"

static int cycles(CK_FUNCTION_LIST *f)
{
	for (int i = 0; i < 100; i++) {
		CK_RV rv = f->C_Initialize(NULL);
		if (rv != CKR_OK) {
			fprintf(stderr, "cycle %d: C_Initialize: 0x%lx\n", i, (unsigned long)rv);
			return 1;
		}
		CK_ULONG n = 0;
		if (i % 10 == 0 && (rv = f->C_GetSlotList(CK_TRUE, NULL, &n)) != CKR_OK) {
			fprintf(stderr, "cycle %d: C_GetSlotList: 0x%lx\n", i, (unsigned long)rv);
			f->C_Finalize(NULL);
			return 1;
		}
		if ((rv = f->C_Finalize(NULL)) != CKR_OK) {
			fprintf(stderr, "cycle %d: C_Finalize: 0x%lx\n", i, (unsigned long)rv);
			return 1;
		}
	}
	return 0;
}

int main(void)
{
	struct e2e_env env;
	struct e2e_server srv = { 0 };
	char config[E2E_PATH_MAX + 32];
	void *dl = NULL;
	int rc;

	if (!p11_helper_usable()) {
		printf("skipped: the confined helper cannot run in a sanitizer build\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	rc = e2e_env_setup(&env);
	if (rc == 1)
		return 77;
	if (rc != 0)
		return 1;
	rc = 1;
	if (e2e_server_start(&srv, &env, NULL) != 0)
		goto out;
	if (p11_fixture_write_config(&srv, env.dir, config, sizeof(config)) != 0)
		goto out;
	CK_FUNCTION_LIST *f = p11_fixture_open(&dl);
	if (f == NULL)
		goto out;
	rc = cycles(f);
out:
	if (dl != NULL)
		dlclose(dl);
	if (srv.pid > 0)
		e2e_server_stop(&srv, SIGTERM);
	e2e_env_teardown(&env);
	return rc;
}
