/* p11bench's workloads; see p11bench_ops.h. */
#include "bench/p11bench_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ck_common.h"

#define FIND_MAX   16
#define SLOTS_MAX  64
#define AES_BLOCK  16
#define KEEP_FIRST 64

struct thread_ctx {
	const struct shared *sh;
	CK_SESSION_HANDLE session;
	CK_BYTE *in, *out; /* size (+ a block) bytes each */
	CK_ULONG in_len;   /* plaintext or ciphertext length */
	CK_BYTE *plain;    /* decrypt-multipart: what must come back */
	/* generate: the keys made, destroyed after the timed part */
	CK_OBJECT_HANDLE *keys;
	size_t n_keys, cap_keys;
};

static const char *const workload_names[WL_COUNT] = {
	[WL_ENCRYPT] = "encrypt",
	[WL_DECRYPT] = "decrypt",
	[WL_MULTIPART] = "encrypt-multipart",
	[WL_DECRYPT_MULTIPART] = "decrypt-multipart",
	[WL_KEYGEN] = "keygen",
	[WL_GENERATE] = "generate",
	[WL_FIND] = "find",
	[WL_GETATTR] = "getattr",
	[WL_INIT_FINALIZE] = "init-finalize",
	[WL_LOGIN_CYCLE] = "login-cycle",
};

static const CK_BYTE bench_iv[AES_BLOCK] = { 0x0b, 0xe7, 0xc4 }; /* the rest 0 */

const char *p11bench_workload_name(enum workload w)
{
	return (unsigned)w < WL_COUNT ? workload_names[w] : "?";
}

bool p11bench_is_cycle(enum workload w)
{
	return w == WL_INIT_FINALIZE || w == WL_LOGIN_CYCLE;
}

bool p11bench_is_data(enum workload w)
{
	return w == WL_ENCRYPT || w == WL_DECRYPT || w == WL_MULTIPART || w == WL_DECRYPT_MULTIPART;
}

static int fail(char *err, size_t cap, const char *fn, CK_RV rv)
{
	snprintf(err, cap, "%s: %s (0x%lx)", fn, ck_rv_name(rv), (unsigned long)rv);
	return -1;
}

static CK_MECHANISM mechanism(const struct options *o)
{
	if (o->mechanism == MECH_ECB)
		return (CK_MECHANISM){ CKM_AES_ECB, NULL, 0 };
	return (CK_MECHANISM){ CKM_AES_CBC_PAD, (CK_VOID_PTR)bench_iv, sizeof(bench_iv) };
}

/* ---- encrypt and decrypt ------------------------------------------------ */

static int op_encrypt(struct thread_ctx *t, char *err, size_t cap)
{
	CK_FUNCTION_LIST *f = t->sh->fn;
	CK_MECHANISM m = mechanism(t->sh->opt);
	CK_ULONG out_len = t->sh->opt->size + AES_BLOCK;
	CK_RV rv = f->C_EncryptInit(t->session, &m, t->sh->key);

	if (rv != CKR_OK)
		return fail(err, cap, "C_EncryptInit", rv);
	rv = f->C_Encrypt(t->session, t->in, t->in_len, t->out, &out_len);
	if (rv != CKR_OK)
		return fail(err, cap, "C_Encrypt", rv);
	return 0;
}

static int op_decrypt(struct thread_ctx *t, char *err, size_t cap)
{
	CK_FUNCTION_LIST *f = t->sh->fn;
	CK_MECHANISM m = mechanism(t->sh->opt);
	CK_ULONG out_len = t->sh->opt->size + AES_BLOCK;
	CK_RV rv = f->C_DecryptInit(t->session, &m, t->sh->key);

	if (rv != CKR_OK)
		return fail(err, cap, "C_DecryptInit", rv);
	rv = f->C_Decrypt(t->session, t->in, t->in_len, t->out, &out_len);
	if (rv != CKR_OK)
		return fail(err, cap, "C_Decrypt", rv);
	if (out_len != t->sh->opt->size) {
		snprintf(err, cap, "C_Decrypt: %lu bytes back, want %lu", (unsigned long)out_len,
		         t->sh->opt->size);
		return -1;
	}
	return 0;
}

typedef CK_RV (*update_fn)(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR);
typedef CK_RV (*final_fn)(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG_PTR);

/* One Update per part of t->in (the last may be shorter), then Final, after
 * an Init done by the caller; *total the bytes that came out. */
static int update_final(struct thread_ctx *t, update_fn update, final_fn final, bool enc,
                        CK_ULONG *total, char *err, size_t cap)
{
	unsigned long part = t->sh->opt->part;
	CK_ULONG room = t->sh->opt->size + AES_BLOCK, chunk;
	CK_BYTE *o = t->out;
	CK_RV rv;

	for (CK_ULONG done = 0; done < t->in_len; done += chunk) {
		chunk = t->in_len - done < part ? t->in_len - done : part;
		CK_ULONG got = room;
		rv = update(t->session, t->in + done, chunk, o, &got);
		if (rv != CKR_OK) {
			/* The operation is over after an error; nothing to end. */
			return fail(err, cap, enc ? "C_EncryptUpdate" : "C_DecryptUpdate", rv);
		}
		o += got;
		room -= got;
	}
	CK_ULONG n = room;
	rv = final(t->session, o, &n);
	if (rv != CKR_OK)
		return fail(err, cap, enc ? "C_EncryptFinal" : "C_DecryptFinal", rv);
	*total = (CK_ULONG)(o - t->out) + n;
	return 0;
}

static int op_multipart(struct thread_ctx *t, char *err, size_t cap)
{
	CK_FUNCTION_LIST *f = t->sh->fn;
	CK_MECHANISM m = mechanism(t->sh->opt);
	CK_ULONG total;
	CK_RV rv = f->C_EncryptInit(t->session, &m, t->sh->key);

	if (rv != CKR_OK)
		return fail(err, cap, "C_EncryptInit", rv);
	return update_final(t, f->C_EncryptUpdate, f->C_EncryptFinal, true, &total, err, cap);
}

static int op_decrypt_multipart(struct thread_ctx *t, char *err, size_t cap)
{
	CK_FUNCTION_LIST *f = t->sh->fn;
	CK_MECHANISM m = mechanism(t->sh->opt);
	CK_ULONG total;
	CK_RV rv = f->C_DecryptInit(t->session, &m, t->sh->key);

	if (rv != CKR_OK)
		return fail(err, cap, "C_DecryptInit", rv);
	if (update_final(t, f->C_DecryptUpdate, f->C_DecryptFinal, false, &total, err, cap) != 0)
		return -1;
	if (total != t->sh->opt->size || memcmp(t->out, t->plain, total) != 0) {
		snprintf(err, cap, "C_DecryptUpdate/Final: %lu bytes back, %s",
		         (unsigned long)total,
		         total != t->sh->opt->size ? "wrong length" : "not the plaintext");
		return -1;
	}
	return 0;
}

/* ---- objects ------------------------------------------------------------ */

CK_RV p11bench_generate_key(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, const char *label,
                            CK_OBJECT_HANDLE *k)
{
	CK_MECHANISM m = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_ULONG len = 32;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_VALUE_LEN, &len, sizeof(len) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_LABEL, (CK_VOID_PTR)label, strlen(label) },
		{ CKA_ENCRYPT, &yes, sizeof(yes) },
		{ CKA_DECRYPT, &yes, sizeof(yes) },
	};

	return f->C_GenerateKey(s, &m, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), k);
}

static CK_RV generate_key(struct thread_ctx *t, CK_OBJECT_HANDLE *k)
{
	return p11bench_generate_key(t->sh->fn, t->session, "p11bench-tmp", k);
}

static int op_keygen(struct thread_ctx *t, char *err, size_t cap)
{
	CK_OBJECT_HANDLE k;
	CK_RV rv = generate_key(t, &k);

	if (rv != CKR_OK)
		return fail(err, cap, "C_GenerateKey", rv);
	rv = t->sh->fn->C_DestroyObject(t->session, k);
	if (rv != CKR_OK)
		return fail(err, cap, "C_DestroyObject", rv);
	return 0;
}

/* The handle is kept for thread_done; the array grows by doubling, a
 * cost far below one key generation's. */
static int op_generate(struct thread_ctx *t, char *err, size_t cap)
{
	CK_OBJECT_HANDLE k;

	if (t->n_keys == t->cap_keys) {
		size_t n = t->cap_keys == 0 ? KEEP_FIRST : t->cap_keys * 2;
		CK_OBJECT_HANDLE *p =
		    n > BENCH_SAMPLES_MAX ? NULL : realloc(t->keys, n * sizeof(*p));
		if (p == NULL) {
			snprintf(err, cap, "cannot keep more than %zu key handles", t->cap_keys);
			return -1;
		}
		t->keys = p;
		t->cap_keys = n;
	}
	CK_RV rv = generate_key(t, &k);
	if (rv != CKR_OK)
		return fail(err, cap, "C_GenerateKey", rv);
	t->keys[t->n_keys++] = k;
	return 0;
}

int p11bench_find_keys(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, const char *label,
                       CK_OBJECT_HANDLE *first, CK_ULONG *found, char *err, size_t cap)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (CK_VOID_PTR)label, strlen(label) },
	};
	CK_OBJECT_HANDLE h[FIND_MAX];
	CK_RV rv = f->C_FindObjectsInit(s, tmpl, 2);

	if (rv != CKR_OK)
		return fail(err, cap, "C_FindObjectsInit", rv);
	*found = 0;
	rv = f->C_FindObjects(s, h, FIND_MAX, found);
	CK_RV rv_final = f->C_FindObjectsFinal(s);
	if (rv != CKR_OK)
		return fail(err, cap, "C_FindObjects", rv);
	if (rv_final != CKR_OK)
		return fail(err, cap, "C_FindObjectsFinal", rv_final);
	if (*found > 0)
		*first = h[0];
	return 0;
}

static int op_find(struct thread_ctx *t, char *err, size_t cap)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_ULONG found;

	if (p11bench_find_keys(t->sh->fn, t->session, t->sh->opt->label, &h, &found, err, cap) != 0)
		return -1;
	if (found == 0) {
		snprintf(err, cap, "C_FindObjects: the key '%s' was not found", t->sh->opt->label);
		return -1;
	}
	return 0;
}

static int op_getattr(struct thread_ctx *t, char *err, size_t cap)
{
	CK_BYTE label[P11BENCH_LABEL_MAX + 1];
	CK_ULONG len = 0;
	CK_BBOOL enc = CK_FALSE;
	CK_ATTRIBUTE a[] = {
		{ CKA_LABEL, label, sizeof(label) },
		{ CKA_VALUE_LEN, &len, sizeof(len) },
		{ CKA_ENCRYPT, &enc, sizeof(enc) },
	};
	CK_RV rv = t->sh->fn->C_GetAttributeValue(t->session, t->sh->key, a, 3);

	if (rv != CKR_OK)
		return fail(err, cap, "C_GetAttributeValue", rv);
	return 0;
}

/* ---- the module's life cycle ---------------------------------------------- */

static int op_init_finalize(struct thread_ctx *t, char *err, size_t cap)
{
	CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
	CK_RV rv = t->sh->fn->C_Initialize(&args);

	if (rv != CKR_OK)
		return fail(err, cap, "C_Initialize", rv);
	rv = t->sh->fn->C_Finalize(NULL);
	if (rv != CKR_OK)
		return fail(err, cap, "C_Finalize", rv);
	return 0;
}

/* The steps of login-cycle after C_Initialize. One C_GetSlotList call with
 * room for SLOTS_MAX slots, as an application that knows its slot count
 * makes; the slot found at set-up must be among them. */
static int session_steps(struct thread_ctx *t, char *err, size_t cap)
{
	CK_FUNCTION_LIST *f = t->sh->fn;
	CK_SLOT_ID slots[SLOTS_MAX];
	CK_ULONG n = SLOTS_MAX, i;
	CK_SESSION_HANDLE s;
	const char *pin = t->sh->opt->pin;
	CK_RV rv = f->C_GetSlotList(CK_TRUE, slots, &n);

	if (rv != CKR_OK)
		return fail(err, cap, "C_GetSlotList", rv);
	for (i = 0; i < n && slots[i] != t->sh->slot; i++)
		;
	if (i == n) {
		snprintf(err, cap, "C_GetSlotList: slot %lu is gone", (unsigned long)t->sh->slot);
		return -1;
	}
	rv = f->C_OpenSession(t->sh->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK)
		return fail(err, cap, "C_OpenSession", rv);
	rv = f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
	if (rv != CKR_OK)
		return fail(err, cap, "C_Login", rv);
	rv = f->C_Logout(s);
	if (rv != CKR_OK)
		return fail(err, cap, "C_Logout", rv);
	rv = f->C_CloseSession(s);
	if (rv != CKR_OK)
		return fail(err, cap, "C_CloseSession", rv);
	return 0;
}

/* After a failed step the module is finalized all the same, so that the
 * next cycle starts from the same state. */
static int op_login_cycle(struct thread_ctx *t, char *err, size_t cap)
{
	CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
	CK_RV rv = t->sh->fn->C_Initialize(&args);

	if (rv != CKR_OK)
		return fail(err, cap, "C_Initialize", rv);
	int rc = session_steps(t, err, cap);
	rv = t->sh->fn->C_Finalize(NULL);
	if (rc != 0)
		return rc;
	if (rv != CKR_OK)
		return fail(err, cap, "C_Finalize", rv);
	return 0;
}

int p11bench_op(void *ctx, char *err, size_t cap)
{
	struct thread_ctx *t = ctx;

	switch (t->sh->opt->workload) {
	case WL_ENCRYPT:
		return op_encrypt(t, err, cap);
	case WL_DECRYPT:
		return op_decrypt(t, err, cap);
	case WL_MULTIPART:
		return op_multipart(t, err, cap);
	case WL_DECRYPT_MULTIPART:
		return op_decrypt_multipart(t, err, cap);
	case WL_KEYGEN:
		return op_keygen(t, err, cap);
	case WL_GENERATE:
		return op_generate(t, err, cap);
	case WL_FIND:
		return op_find(t, err, cap);
	case WL_GETATTR:
		return op_getattr(t, err, cap);
	case WL_INIT_FINALIZE:
		return op_init_finalize(t, err, cap);
	case WL_LOGIN_CYCLE:
		return op_login_cycle(t, err, cap);
	case WL_COUNT:
		break;
	}
	snprintf(err, cap, "no such workload");
	return -1;
}

/* ---- per-thread state ---------------------------------------------------- */

void p11bench_thread_done(void *ctx)
{
	struct thread_ctx *t = ctx;

	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_keys; i++) {
		if (t->sh->fn->C_DestroyObject(t->session, t->keys[i]) != CKR_OK)
			atomic_fetch_add(t->sh->cleanup_errors, 1);
	}
	if (t->session != CK_INVALID_HANDLE)
		t->sh->fn->C_CloseSession(t->session);
	free(t->keys);
	free(t->in);
	free(t->out);
	free(t->plain);
	free(t);
}

/* For the decrypt workloads: t->in becomes the ciphertext of its
 * plaintext, made with one C_Encrypt; decrypt-multipart keeps the
 * plaintext to compare with. */
static int make_ciphertext(struct thread_ctx *t, char *err, size_t cap)
{
	unsigned long size = t->sh->opt->size;

	if (t->sh->opt->workload == WL_DECRYPT_MULTIPART) {
		t->plain = malloc(size);
		if (t->plain == NULL) {
			snprintf(err, cap, "out of memory");
			return -1;
		}
		memcpy(t->plain, t->in, size);
	}
	if (op_encrypt(t, err, cap) != 0)
		return -1;
	/* CBC-PAD always adds 1..16 bytes (the whole blocks above size); ECB
	 * takes whole blocks only and adds nothing. */
	t->in_len = t->sh->opt->mechanism == MECH_ECB ? size : (size / AES_BLOCK + 1) * AES_BLOCK;
	memcpy(t->in, t->out, t->in_len);
	return 0;
}

int p11bench_thread_init(void *shared, unsigned index, void **ctx, char *err, size_t cap)
{
	const struct shared *sh = shared;
	unsigned long size = sh->opt->size;
	struct thread_ctx *t = calloc(1, sizeof(*t));

	(void)index;
	if (t == NULL) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	t->sh = sh;
	t->session = CK_INVALID_HANDLE;
	if (p11bench_is_cycle(sh->opt->workload)) {
		*ctx = t;
		return 0;
	}
	t->in = malloc(size + AES_BLOCK);
	t->out = malloc(size + AES_BLOCK);
	if (t->in == NULL || t->out == NULL) {
		snprintf(err, cap, "out of memory");
		p11bench_thread_done(t);
		return -1;
	}
	for (unsigned long i = 0; i < size + AES_BLOCK; i++)
		t->in[i] = (CK_BYTE)(i * 31 + 7);
	t->in_len = size;
	CK_RV rv = sh->fn->C_OpenSession(sh->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
	                                 &t->session);
	if (rv != CKR_OK) {
		t->session = CK_INVALID_HANDLE;
		p11bench_thread_done(t);
		return fail(err, cap, "C_OpenSession", rv);
	}
	if ((sh->opt->workload == WL_DECRYPT || sh->opt->workload == WL_DECRYPT_MULTIPART) &&
	    make_ciphertext(t, err, cap) != 0) {
		p11bench_thread_done(t);
		return -1;
	}
	*ctx = t;
	return 0;
}
