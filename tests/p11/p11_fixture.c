#include "tests/p11/p11_fixture.h"

#include <dirent.h>
#include <dlfcn.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/p11/p11_load.h"

CK_FUNCTION_LIST *p11_fixture_open(void **handle)
{
	const char *path = getenv("PKCS11WSOP_MODULE");
	const char *why = NULL;
	CK_FUNCTION_LIST *list;

	*handle = NULL;
	if (path == NULL || *path == '\0') {
		fprintf(stderr, "PKCS11WSOP_MODULE is not set\n");
		return NULL;
	}
	list = p11_load(path, handle, &why);
	if (list == NULL)
		fprintf(stderr, "loading %s: %s\n", path, why);
	return list;
}

int p11_fixture_write_config(const struct e2e_server *srv, const char *dir, char *path_out,
                             size_t cap)
{
	const char *pki = srv->env->pki;

	if (snprintf(path_out, cap, "%s/pkcs11wsop.cfg", dir) >= (int)cap)
		return -1;
	FILE *f = fopen(path_out, "w");
	if (f == NULL)
		return -1;
	fprintf(f,
	        "HOST 127.0.0.1\nPORT %s\nCERT %s/client.crt\nKEY %s/client.key\n"
	        "AUTH %s/ca.crt\nLOGLEVEL 6\nLOGFILEPATH %s/p11.log\n"
	        "MAXRETRIES 1\nRETRYDELAY 0\nTIMEOUT 10\n",
	        srv->port, pki, pki, pki, dir);
	if (fclose(f) != 0)
		return -1;
	return setenv("PKCS11WSOP_CONF", path_out, 1);
}

/* Children of this process, live or zombie, whose command name starts
 * with comm ("" for any): how many, and the pid of a live one (0 if none). */
static int scan_children(const char *comm, pid_t *live)
{
	DIR *d = opendir("/proc");
	int n = 0;
	pid_t me = getpid();

	*live = 0;
	if (d == NULL)
		return -1;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		char path[300], buf[512];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		size_t len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = '\0';
		/* "pid (comm) state ppid ...": comm may hold blanks. */
		const char *open = strchr(buf, '(');
		const char *close = strrchr(buf, ')');
		char state;
		int ppid;
		if (open == NULL || close == NULL ||
		    sscanf(close + 1, " %c %d", &state, &ppid) != 2 || ppid != me ||
		    strncmp(open + 1, comm, strlen(comm)) != 0)
			continue;
		n++;
		if (state != 'Z')
			*live = (pid_t)atoi(e->d_name);
	}
	closedir(d);
	return n;
}

int p11_count_children(void)
{
	pid_t live;
	return scan_children("", &live);
}

pid_t p11_helper_child(void)
{
	pid_t live;
	/* The kernel keeps 15 characters of the command name. */
	scan_children("pkcs11wsop-help", &live);
	return live;
}

bool p11_helper_usable(void)
{
	const char *plain = getenv("PKCS11WSOP_TEST_PLAIN_HELPER");
	return P11_CONFINED_HELPER_USABLE || (plain != NULL && strcmp(plain, "1") == 0);
}

int p11_fx_setup(struct p11_fx *fx)
{
	fx->f = p11_fixture_open(&fx->dl);
	if (fx->f == NULL)
		return -1;
	if (!p11_helper_usable())
		return 1;
	if (e2e_server_start(&fx->srv, &e2e_env, NULL) != 0)
		return -1;
	fx->conn = e2e_connect_ok(&fx->srv, E2E_CLIENT);
	return p11_fx_rewrite_config(fx);
}

int p11_fx_setup_card(struct p11_fx *fx, const char *name, const char *pin, char card[41])
{
	int rc = p11_fx_setup(fx);

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	e2e_softcard_ok(fx->conn, name, pin, card);
	return 1;
}

int p11_setup_failed(const char *what, CK_RV rv)
{
	fprintf(stderr, "setup: %s: 0x%lx\n", what, (unsigned long)rv);
	return -1;
}

int p11_fx_login_session(struct p11_fx *fx, const char *name, const char *pin, CK_SLOT_ID *slot,
                         CK_SESSION_HANDLE *s)
{
	CK_RV rv = fx->f->C_Initialize(NULL);
	if (rv != CKR_OK)
		return p11_setup_failed("C_Initialize", rv);
	*slot = p11_slot_of(fx->f, name);
	rv = fx->f->C_OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, s);
	if (rv != CKR_OK)
		return p11_setup_failed("C_OpenSession", rv);
	rv = fx->f->C_Login(*s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
	if (rv != CKR_OK)
		return p11_setup_failed("C_Login", rv);
	return 0;
}

int p11_fx_rewrite_config(struct p11_fx *fx)
{
	return p11_fixture_write_config(&fx->srv, e2e_env.dir, fx->config, sizeof(fx->config));
}

void p11_fx_teardown(struct p11_fx *fx)
{
	if (fx->conn != NULL)
		direct_tls_close(fx->conn);
	fx->conn = NULL;
	if (fx->srv.pid > 0)
		e2e_server_stop(&fx->srv, SIGTERM);
	if (fx->dl != NULL)
		dlclose(fx->dl);
	fx->dl = NULL;
	fx->f = NULL;
}

CK_SLOT_ID p11_slot_of(CK_FUNCTION_LIST *f, const char *name)
{
	CK_SLOT_ID slots[P11_MAX_SLOTS];
	CK_ULONG n = 0;
	CK_TOKEN_INFO ti;

	assert_int_equal(f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	/* The second call writes n slots into a fixed array. */
	assert_in_range(n, 0, P11_MAX_SLOTS);
	assert_int_equal(f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	for (CK_ULONG i = 0; i < n; i++) {
		assert_int_equal(f->C_GetTokenInfo(slots[i], &ti), CKR_OK);
		if (memcmp(ti.label, name, strlen(name)) == 0 && ti.label[strlen(name)] == ' ')
			return slots[i];
	}
	fail_msg("no token %s", name);
	return 0;
}

CK_RV p11_encrypt_once(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key)
{
	CK_BYTE iv[16] = { 0 }, in[16] = "sixteen bytes!!", out[16];
	CK_ULONG n = sizeof(out);
	CK_MECHANISM m = { CKM_AES_CBC, iv, sizeof(iv) };
	CK_RV rv = f->C_EncryptInit(s, &m, key);

	if (rv == CKR_OK)
		rv = f->C_Encrypt(s, in, sizeof(in), out, &n);
	return rv;
}

CK_RV p11_generate_aes(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, const char *label,
                       CK_OBJECT_HANDLE *out)
{
	CK_MECHANISM m = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_ULONG len = 32;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE t[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },     { CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_VALUE_LEN, &len, sizeof(len) }, { CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_ENCRYPT, &yes, sizeof(yes) },   { CKA_DECRYPT, &yes, sizeof(yes) },
	};
	return f->C_GenerateKey(s, &m, t, sizeof(t) / sizeof(t[0]), out);
}
