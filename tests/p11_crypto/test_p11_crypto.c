/* C_Encrypt* / C_Decrypt* end to end: libpkcs11wsop.so (dlopen) -> the
 * confined helper -> wsopd, cross-checked with the server's REST API. */
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/p11/p11_fixture.h"

#define PIN "crypto pass phrase"

static struct {
	struct p11_fx p11;
	char card[41], group[37];
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE s;
	char path[3][96]; /* 128, 192, 256 bits */
	CK_OBJECT_HANDLE key[3];
	char noenc_path[96];
	CK_OBJECT_HANDLE noenc, nodec, data_obj;
	bool ready;
} fx;

static const CK_BYTE iv0[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

#define NEED_HELPER() P11_SKIP_UNLESS(fx.ready)

static CK_OBJECT_HANDLE find_label(const char *label)
{
	CK_ATTRIBUTE t[] = { { CKA_LABEL, (void *)label, strlen(label) } };
	CK_OBJECT_HANDLE h[2];
	CK_ULONG n = 0;
	assert_int_equal(fx.p11.f->C_FindObjectsInit(fx.s, t, 1), CKR_OK);
	assert_int_equal(fx.p11.f->C_FindObjects(fx.s, h, 2, &n), CKR_OK);
	assert_int_equal(fx.p11.f->C_FindObjectsFinal(fx.s), CKR_OK);
	assert_int_equal(n, 1);
	return h[0];
}

static CK_SLOT_ID only_slot(void)
{
	CK_SLOT_ID slots[8];
	CK_ULONG n = 8;
	assert_int_equal(fx.p11.f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_int_equal(n, 1);
	return slots[0];
}

static int group_setup(void **state)
{
	(void)state;
	int up = p11_fx_setup(&fx.p11);
	if (up != 0)
		return up == 1 ? 0 : -1;
	e2e_softcard_ok(fx.p11.conn, "crypto", PIN, fx.card);
	if (p11_fx_login_session(&fx.p11, "crypto", PIN, &fx.slot, &fx.s) != 0)
		return -1;
	/* The module shows this one card, and nothing else. */
	assert_int_equal(fx.slot, only_slot());
	/* Keys made through REST (so that the test knows their paths), found
	 * through the module. The REST connection activates the softcard for
	 * itself: the module's login is the module's alone. */
	e2e_activate_ok(fx.p11.conn, fx.card, PIN);
	e2e_group_ok(fx.p11.conn, "tests", fx.card, fx.group);
	static const int bits[3] = { 128, 192, 256 };
	for (int i = 0; i < 3; i++) {
		char label[16];
		snprintf(label, sizeof(label), "k%d", bits[i]);
		e2e_key_ok(fx.p11.conn, fx.group, label, bits[i], NULL, fx.path[i]);
	}
	e2e_key_ok(fx.p11.conn, fx.group, "noenc", 128, ",\"encrypt\":false", fx.noenc_path);
	char nodec_path[96];
	e2e_key_ok(fx.p11.conn, fx.group, "nodec", 128, ",\"decrypt\":false", nodec_path);
	for (int i = 0; i < 3; i++) {
		char label[16];
		snprintf(label, sizeof(label), "k%d", bits[i]);
		fx.key[i] = find_label(label);
	}
	fx.noenc = find_label("noenc");
	fx.nodec = find_label("nodec");
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE data[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },   { CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) }, { CKA_LABEL, "data", 4 },
		{ CKA_VALUE, "value", 5 },
	};
	CK_RV rv = fx.p11.f->C_CreateObject(fx.s, data, 5, &fx.data_obj);
	if (rv != CKR_OK)
		return p11_setup_failed("C_CreateObject", rv);
	fx.ready = true;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (fx.ready)
		fx.p11.f->C_Finalize(NULL);
	p11_fx_teardown(&fx.p11);
	return 0;
}

static void fill(CK_BYTE *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (CK_BYTE)(i * 13 + seed);
}

static CK_MECHANISM mech(CK_MECHANISM_TYPE t)
{
	CK_MECHANISM m = { t, (void *)iv0, sizeof(iv0) };
	return m;
}

/* The server's own answer, through REST. */
static size_t rest_encrypt(const char *path, bool pad, const CK_BYTE *in, size_t len, CK_BYTE *out)
{
	char *iv = e2e_b64(iv0, 16), *data = e2e_b64(in, len);
	size_t cap = strlen(data) + 256;
	char *body = malloc(cap);
	assert_non_null(body);
	snprintf(body, cap, "{\"key\":\"%s\",\"mechanism\":\"%s\",\"iv\":\"%s\",\"data\":\"%s\"}",
	         path, pad ? "AES_CBC_PAD" : "AES_CBC", iv, data);
	struct e2e_answer ans;
	json_object *j = e2e_call_ok(fx.p11.conn, "POST", "/crypto/v1/encrypt", body, 200, &ans);
	size_t n = 0;
	uint8_t *bytes = e2e_unb64(e2e_str(j, "data"), &n);
	memcpy(out, bytes, n);
	free(bytes);
	e2e_answer_free(&ans);
	free(body);
	free(iv);
	free(data);
	return n;
}

static CK_ULONG encrypt1(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k, CK_MECHANISM_TYPE t,
                         const CK_BYTE *in, CK_ULONG len, CK_BYTE *out, CK_ULONG cap)
{
	CK_MECHANISM m = mech(t);
	assert_int_equal(fx.p11.f->C_EncryptInit(s, &m, k), CKR_OK);
	CK_ULONG n = cap;
	assert_int_equal(fx.p11.f->C_Encrypt(s, (CK_BYTE_PTR)in, len, out, &n), CKR_OK);
	return n;
}

static CK_RV one_step(bool enc, bool final, CK_SESSION_HANDLE s, const CK_BYTE *in, CK_ULONG n,
                      CK_BYTE *o, CK_ULONG *got)
{
	CK_FUNCTION_LIST *f = fx.p11.f;
	if (final)
		return enc ? f->C_EncryptFinal(s, o, got) : f->C_DecryptFinal(s, o, got);
	return enc ? f->C_EncryptUpdate(s, (CK_BYTE_PTR)in, n, o, got)
	           : f->C_DecryptUpdate(s, (CK_BYTE_PTR)in, n, o, got);
}

/* One update or final into out + *total, sized by a length query, with a
 * buffer one byte short tried first (it must consume nothing). */
static void step_queried(bool enc, bool final, CK_SESSION_HANDLE s, const CK_BYTE *in, CK_ULONG n,
                         CK_BYTE *out, CK_ULONG *total)
{
	CK_ULONG want = 0, got;
	assert_int_equal(one_step(enc, final, s, in, n, NULL, &want), CKR_OK);
	if (want > 0) {
		got = want - 1;
		CK_RV rv = one_step(enc, final, s, in, n, out + *total, &got);
		if (rv == CKR_OK) {
			/* Only padded decryption's final, whose query is a bound. */
			assert_true(final && !enc);
			*total += got;
			return;
		}
		assert_int_equal(rv, CKR_BUFFER_TOO_SMALL);
		assert_true(got <= want);
	}
	got = want;
	assert_int_equal(one_step(enc, final, s, in, n, out + *total, &got), CKR_OK);
	assert_true(got <= want);
	*total += got;
}

/* Multi-part in parts of `part` bytes (the last part may be shorter; 0:
 * random parts, among them empty, 1-byte, block and large ones). */
static CK_ULONG multi(bool enc, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k, CK_MECHANISM_TYPE t,
                      const CK_BYTE *in, CK_ULONG len, CK_ULONG part, CK_BYTE *out)
{
	static const CK_ULONG sizes[] = { 0, 1, 16, 4096, 100000, 300000 };
	CK_MECHANISM m = mech(t);
	CK_FUNCTION_LIST *f = fx.p11.f;
	assert_int_equal(enc ? f->C_EncryptInit(s, &m, k) : f->C_DecryptInit(s, &m, k), CKR_OK);
	CK_ULONG total = 0;
	for (CK_ULONG off = 0, n; off < len; off += n) {
		n = part                   ? part
		    : (CK_ULONG)rand() % 2 ? sizes[rand() % 6]
		                           : (CK_ULONG)rand() % 5000;
		if (n > len - off)
			n = len - off;
		step_queried(enc, false, s, in + off, n, out, &total);
	}
	step_queried(enc, true, s, NULL, 0, out, &total);
	return total;
}

static void round_trips_all_key_sizes_cross_checked_with_rest(void **state)
{
	(void)state;
	NEED_HELPER();
	static const CK_ULONG lens[] = { 0, 1, 15, 16, 17, 32, 100, 1000 };
	CK_BYTE plain[1000], ct[1024], ref[1024], back[1024];
	for (int k = 0; k < 3; k++) {
		for (int pad = 0; pad <= 1; pad++) {
			CK_MECHANISM_TYPE t = pad ? CKM_AES_CBC_PAD : CKM_AES_CBC;
			for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
				CK_ULONG len = lens[i];
				if (!pad && len % 16 != 0)
					continue;
				fill(plain, len, (unsigned)(k * 7 + i));
				CK_ULONG n =
				    encrypt1(fx.s, fx.key[k], t, plain, len, ct, sizeof(ct));
				assert_int_equal(n, pad ? len / 16 * 16 + 16 : len);
				if (n == 0)
					continue;
				assert_int_equal(rest_encrypt(fx.path[k], pad, plain, len, ref), n);
				assert_memory_equal(ct, ref, n);
				CK_ULONG parts[] = { 1, 7, 16, 33, 2000 };
				for (int p = 0; p < 5; p++) {
					CK_ULONG m = multi(true, fx.s, fx.key[k], t, plain, len,
					                   parts[p], back);
					assert_int_equal(m, n);
					assert_memory_equal(back, ct, n);
					m = multi(false, fx.s, fx.key[k], t, ct, n, parts[p], back);
					assert_int_equal(m, len);
					assert_memory_equal(back, plain, len);
				}
				CK_MECHANISM mm = mech(t);
				assert_int_equal(fx.p11.f->C_DecryptInit(fx.s, &mm, fx.key[k]),
				                 CKR_OK);
				CK_ULONG bl = sizeof(back);
				assert_int_equal(fx.p11.f->C_Decrypt(fx.s, ct, n, back, &bl),
				                 CKR_OK);
				assert_int_equal(bl, len);
				assert_memory_equal(back, plain, len);
			}
		}
	}
}

static void init_errors(void **state)
{
	(void)state;
	NEED_HELPER();
	CK_FUNCTION_LIST *f = fx.p11.f;
	CK_MECHANISM m = mech(CKM_AES_ECB);
	assert_int_equal(f->C_EncryptInit(fx.s, &m, fx.key[0]), CKR_MECHANISM_INVALID);
	assert_int_equal(f->C_DecryptInit(fx.s, &m, fx.key[0]), CKR_MECHANISM_INVALID);
	m = mech(CKM_AES_CBC);
	m.pParameter = NULL;
	assert_int_equal(f->C_EncryptInit(fx.s, &m, fx.key[0]), CKR_MECHANISM_PARAM_INVALID);
	m = mech(CKM_AES_CBC_PAD);
	m.ulParameterLen = 8;
	assert_int_equal(f->C_DecryptInit(fx.s, &m, fx.key[0]), CKR_MECHANISM_PARAM_INVALID);
	m = mech(CKM_AES_CBC);
	assert_int_equal(f->C_EncryptInit(fx.s, &m, 987654), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(f->C_EncryptInit(fx.s, &m, fx.data_obj), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(f->C_DecryptInit(fx.s, &m, fx.data_obj), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(f->C_EncryptInit(fx.s, &m, fx.noenc), CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_int_equal(f->C_DecryptInit(fx.s, &m, fx.nodec), CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_int_equal(f->C_DecryptInit(fx.s, &m, fx.noenc), CKR_OK);
	assert_int_equal(f->C_DecryptInit(fx.s, &m, fx.key[0]), CKR_OPERATION_ACTIVE);
	/* NULL mechanism cancels; with nothing active it is a bad argument. */
	assert_int_equal(f->C_DecryptInit(fx.s, NULL, 0), CKR_OK);
	assert_int_equal(f->C_DecryptInit(fx.s, NULL, 0), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_EncryptInit(fx.s, &m, fx.key[0]), CKR_OK);
	assert_int_equal(f->C_EncryptInit(fx.s, &m, fx.key[1]), CKR_OPERATION_ACTIVE);
	/* Encryption and decryption are separate operations. */
	assert_int_equal(f->C_DecryptInit(fx.s, &m, fx.key[1]), CKR_OK);
	assert_int_equal(f->C_EncryptInit(fx.s, NULL, 0), CKR_OK);
	assert_int_equal(f->C_DecryptInit(fx.s, NULL, 0), CKR_OK);
	assert_int_equal(f->C_EncryptInit(999999, &m, fx.key[0]), CKR_SESSION_HANDLE_INVALID);
}

static void not_initialized(void **state)
{
	(void)state;
	NEED_HELPER();
	CK_FUNCTION_LIST *f = fx.p11.f;
	CK_BYTE b[32] = { 0 };
	CK_ULONG n = sizeof(b);
	assert_int_equal(f->C_Encrypt(fx.s, b, 16, b, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_EncryptUpdate(fx.s, b, 16, b, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_EncryptFinal(fx.s, b, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_Decrypt(fx.s, b, 16, b, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_DecryptUpdate(fx.s, b, 16, b, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_DecryptFinal(fx.s, b, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_Encrypt(fx.s, b, 16, b, NULL), CKR_ARGUMENTS_BAD);
}

static void length_errors_end_the_operation(void **state)
{
	(void)state;
	NEED_HELPER();
	CK_FUNCTION_LIST *f = fx.p11.f;
	CK_BYTE b[64] = { 0 }, out[80];
	CK_ULONG n = sizeof(out);
	CK_MECHANISM cbc = mech(CKM_AES_CBC), pad = mech(CKM_AES_CBC_PAD);
	assert_int_equal(f->C_EncryptInit(fx.s, &cbc, fx.key[0]), CKR_OK);
	assert_int_equal(f->C_Encrypt(fx.s, b, 17, out, &n), CKR_DATA_LEN_RANGE);
	n = sizeof(out);
	assert_int_equal(f->C_Encrypt(fx.s, b, 16, out, &n), CKR_OPERATION_NOT_INITIALIZED);
	for (int p = 0; p <= 1; p++) {
		CK_MECHANISM *m = p ? &pad : &cbc;
		CK_ULONG bad[] = { 0, 15, 33 };
		for (int i = 0; i < 3; i++) {
			assert_int_equal(f->C_DecryptInit(fx.s, m, fx.key[0]), CKR_OK);
			n = sizeof(out);
			assert_int_equal(f->C_Decrypt(fx.s, b, bad[i], out, &n),
			                 CKR_ENCRYPTED_DATA_LEN_RANGE);
			n = sizeof(out);
			assert_int_equal(f->C_Decrypt(fx.s, b, 16, out, &n),
			                 CKR_OPERATION_NOT_INITIALIZED);
		}
		assert_int_equal(f->C_DecryptInit(fx.s, m, fx.key[0]), CKR_OK);
		n = sizeof(out);
		assert_int_equal(f->C_DecryptUpdate(fx.s, b, 20, out, &n), CKR_OK);
		n = sizeof(out);
		assert_int_equal(f->C_DecryptFinal(fx.s, out, &n), CKR_ENCRYPTED_DATA_LEN_RANGE);
		assert_int_equal(f->C_DecryptFinal(fx.s, out, &n), CKR_OPERATION_NOT_INITIALIZED);
	}
	assert_int_equal(f->C_EncryptInit(fx.s, &cbc, fx.key[0]), CKR_OK);
	n = sizeof(out);
	assert_int_equal(f->C_EncryptUpdate(fx.s, b, 20, out, &n), CKR_OK);
	assert_int_equal(n, 0); /* gathered */
	n = sizeof(out);
	assert_int_equal(f->C_EncryptFinal(fx.s, out, &n), CKR_DATA_LEN_RANGE);
	assert_int_equal(f->C_EncryptFinal(fx.s, out, &n), CKR_OPERATION_NOT_INITIALIZED);
}

/* v2.40 5.2: a call that fails for a reason other than a short buffer or a
 * length query ends the operation, bad arguments included. */
static void bad_arguments_end_the_operation(void **state)
{
	(void)state;
	NEED_HELPER();
	CK_FUNCTION_LIST *f = fx.p11.f;
	CK_BYTE b[32] = { 0 }, out[64];
	CK_ULONG n;
	CK_MECHANISM cbc = mech(CKM_AES_CBC);
	for (int enc = 0; enc <= 1; enc++) {
		CK_RV(*init)
		(CK_SESSION_HANDLE, CK_MECHANISM_PTR, CK_OBJECT_HANDLE) =
		    enc ? f->C_EncryptInit : f->C_DecryptInit;
		CK_RV(*oneshot)
		(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) =
		    enc ? f->C_Encrypt : f->C_Decrypt;
		CK_RV(*update)
		(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) =
		    enc ? f->C_EncryptUpdate : f->C_DecryptUpdate;
		CK_RV(*final)
		(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG_PTR) =
		    enc ? f->C_EncryptFinal : f->C_DecryptFinal;

		assert_int_equal(init(fx.s, &cbc, fx.key[0]), CKR_OK);
		n = sizeof(out);
		assert_int_equal(oneshot(fx.s, NULL, 16, out, &n), CKR_ARGUMENTS_BAD);
		assert_int_equal(init(fx.s, &cbc, fx.key[0]), CKR_OK);
		assert_int_equal(oneshot(fx.s, b, 16, out, NULL), CKR_ARGUMENTS_BAD);
		assert_int_equal(init(fx.s, &cbc, fx.key[0]), CKR_OK);
		n = sizeof(out);
		assert_int_equal(update(fx.s, NULL, 16, out, &n), CKR_ARGUMENTS_BAD);
		assert_int_equal(init(fx.s, &cbc, fx.key[0]), CKR_OK);
		n = sizeof(out);
		assert_int_equal(update(fx.s, b, 16, out, &n), CKR_OK);
		assert_int_equal(final(fx.s, out, NULL), CKR_ARGUMENTS_BAD);
		n = sizeof(out);
		assert_int_equal(final(fx.s, out, &n), CKR_OPERATION_NOT_INITIALIZED);
		/* Nothing active, or no such session: the argument error still wins. */
		assert_int_equal(oneshot(fx.s, NULL, 16, out, &n), CKR_ARGUMENTS_BAD);
		assert_int_equal(oneshot(999999, NULL, 16, out, &n), CKR_ARGUMENTS_BAD);
	}
}

static void bad_padding_is_encrypted_data_invalid(void **state)
{
	(void)state;
	NEED_HELPER();
	CK_FUNCTION_LIST *f = fx.p11.f;
	/* A last plaintext byte of 0 is never valid PKCS #7 padding. */
	CK_BYTE plain[32] = { 0 }, ct[32], out[32];
	CK_ULONG n = encrypt1(fx.s, fx.key[2], CKM_AES_CBC, plain, 32, ct, sizeof(ct));
	assert_int_equal(n, 32);
	CK_MECHANISM pad = mech(CKM_AES_CBC_PAD);
	assert_int_equal(f->C_DecryptInit(fx.s, &pad, fx.key[2]), CKR_OK);
	n = sizeof(out);
	assert_int_equal(f->C_Decrypt(fx.s, ct, 32, out, &n), CKR_ENCRYPTED_DATA_INVALID);
	assert_int_equal(f->C_DecryptInit(fx.s, &pad, fx.key[2]), CKR_OK);
	n = sizeof(out);
	assert_int_equal(f->C_DecryptUpdate(fx.s, ct, 32, out, &n), CKR_OK);
	assert_int_equal(n, 0); /* gathered */
	n = sizeof(out);
	assert_int_equal(f->C_DecryptFinal(fx.s, out, &n), CKR_ENCRYPTED_DATA_INVALID);
	n = sizeof(out);
	assert_int_equal(f->C_DecryptFinal(fx.s, out, &n), CKR_OPERATION_NOT_INITIALIZED);
}

static void length_queries_and_short_buffers_keep_the_operation(void **state)
{
	(void)state;
	NEED_HELPER();
	CK_FUNCTION_LIST *f = fx.p11.f;
	CK_BYTE plain[40], ct[48], out[48];
	fill(plain, sizeof(plain), 3);
	CK_MECHANISM pad = mech(CKM_AES_CBC_PAD);
	assert_int_equal(f->C_EncryptInit(fx.s, &pad, fx.key[1]), CKR_OK);
	CK_ULONG n = 0;
	assert_int_equal(f->C_Encrypt(fx.s, plain, 40, NULL, &n), CKR_OK);
	assert_int_equal(n, 48);
	n = 47;
	assert_int_equal(f->C_Encrypt(fx.s, plain, 40, ct, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 48);
	assert_int_equal(f->C_Encrypt(fx.s, plain, 40, ct, &n), CKR_OK);
	assert_int_equal(n, 48);
	/* Decryption: the bound for a query, the exact size for a short
	 * buffer, then the kept plaintext. */
	assert_int_equal(f->C_DecryptInit(fx.s, &pad, fx.key[1]), CKR_OK);
	n = 0;
	assert_int_equal(f->C_Decrypt(fx.s, ct, 48, NULL, &n), CKR_OK);
	assert_int_equal(n, 47);
	n = 10;
	assert_int_equal(f->C_Decrypt(fx.s, ct, 48, out, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 40);
	assert_int_equal(f->C_Decrypt(fx.s, ct, 48, out, &n), CKR_OK);
	assert_int_equal(n, 40);
	assert_memory_equal(out, plain, 40);
	/* Updates and finals: updates gather (0 bytes out), the final
	 * answers all. */
	assert_int_equal(f->C_DecryptInit(fx.s, &pad, fx.key[1]), CKR_OK);
	n = 0;
	assert_int_equal(f->C_DecryptUpdate(fx.s, ct, 48, NULL, &n), CKR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(f->C_DecryptUpdate(fx.s, ct, 48, out, &n), CKR_OK);
	assert_int_equal(n, 0);
	/* Mixing: a single-part call after an update is refused, the
	 * multi-part operation goes on. */
	CK_ULONG m = sizeof(out);
	assert_int_equal(f->C_Decrypt(fx.s, ct, 48, out, &m), CKR_OPERATION_ACTIVE);
	n = 0;
	assert_int_equal(f->C_DecryptFinal(fx.s, NULL, &n), CKR_OK);
	assert_int_equal(n, 47);
	n = 2;
	assert_int_equal(f->C_DecryptFinal(fx.s, out, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 40);
	assert_int_equal(f->C_DecryptFinal(fx.s, out, &n), CKR_OK);
	assert_memory_equal(out, plain, 40);
}

struct worker {
	int index;
	int failures;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	CK_FUNCTION_LIST *f = fx.p11.f;
	CK_SESSION_HANDLE s;
	if (f->C_OpenSession(fx.slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK) {
		w->failures++;
		return NULL;
	}
	CK_MECHANISM m = mech(CKM_AES_CBC_PAD);
	for (int round = 0; round < 20; round++) {
		CK_BYTE plain[100], ct[112], back[112];
		CK_ULONG len = (CK_ULONG)(w->index * 11 + round) % 100;
		fill(plain, len, (unsigned)(w->index * 100 + round));
		CK_OBJECT_HANDLE k = fx.key[(w->index + round) % 3];
		CK_ULONG n = sizeof(ct), b = sizeof(back);
		if (f->C_EncryptInit(s, &m, k) != CKR_OK ||
		    f->C_Encrypt(s, plain, len, ct, &n) != CKR_OK ||
		    f->C_DecryptInit(s, &m, k) != CKR_OK ||
		    f->C_Decrypt(s, ct, n, back, &b) != CKR_OK || b != len ||
		    memcmp(back, plain, len) != 0)
			w->failures++;
	}
	f->C_CloseSession(s);
	return NULL;
}

static void eight_sessions_in_eight_threads(void **state)
{
	(void)state;
	NEED_HELPER();
	pthread_t t[8];
	struct worker w[8];
	for (int i = 0; i < 8; i++) {
		w[i].index = i;
		w[i].failures = 0;
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
}

/* A key generated by the module itself, and a session closed mid-way. */
static void generated_key_and_close_mid_operation(void **state)
{
	(void)state;
	NEED_HELPER();
	CK_FUNCTION_LIST *f = fx.p11.f;
	CK_MECHANISM gen = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_ULONG len = 32;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE t[] = {
		{ CKA_VALUE_LEN, &len, sizeof(len) }, { CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },   { CKA_LABEL, "gen", 3 },
		{ CKA_ENCRYPT, &yes, sizeof(yes) },   { CKA_DECRYPT, &yes, sizeof(yes) },
	};
	CK_OBJECT_HANDLE k;
	assert_int_equal(f->C_GenerateKey(fx.s, &gen, t, 6, &k), CKR_OK);
	CK_BYTE plain[50], ct[64], back[64];
	fill(plain, sizeof(plain), 77);
	CK_ULONG n = encrypt1(fx.s, k, CKM_AES_CBC_PAD, plain, 50, ct, sizeof(ct));
	assert_int_equal(multi(false, fx.s, k, CKM_AES_CBC_PAD, ct, n, 5, back), 50);
	assert_memory_equal(back, plain, 50);

	CK_SESSION_HANDLE s2;
	assert_int_equal(f->C_OpenSession(fx.slot, CKF_SERIAL_SESSION, NULL, NULL, &s2), CKR_OK);
	CK_MECHANISM m = mech(CKM_AES_CBC_PAD);
	assert_int_equal(f->C_EncryptInit(s2, &m, k), CKR_OK);
	n = sizeof(ct);
	assert_int_equal(f->C_EncryptUpdate(s2, plain, 7, ct, &n), CKR_OK);
	assert_int_equal(f->C_CloseSession(s2), CKR_OK);
}

/* Above the server's per-request limit (WSOP_CRYPTO_DATA_MAX) the module
 * splits the work; the answer is still the single-part one. */
static void data_above_the_server_limit(void **state)
{
	(void)state;
	NEED_HELPER();
	CK_ULONG len = 300000;
	CK_BYTE *plain = malloc(len), *ct = malloc(len + 16), *back = malloc(len + 16);
	assert_true(plain != NULL && ct != NULL && back != NULL);
	fill(plain, len, 5);
	CK_ULONG n = encrypt1(fx.s, fx.key[0], CKM_AES_CBC_PAD, plain, len, ct, len + 16);
	assert_int_equal(n, len + 16);
	assert_int_equal(multi(true, fx.s, fx.key[0], CKM_AES_CBC_PAD, plain, len, 100000, back),
	                 n);
	assert_memory_equal(back, ct, n);
	CK_MECHANISM m = mech(CKM_AES_CBC_PAD);
	assert_int_equal(fx.p11.f->C_DecryptInit(fx.s, &m, fx.key[0]), CKR_OK);
	CK_ULONG b = len + 16;
	assert_int_equal(fx.p11.f->C_Decrypt(fx.s, ct, n, back, &b), CKR_OK);
	assert_int_equal(b, len);
	assert_memory_equal(back, plain, len);
	free(plain);
	free(ct);
	free(back);
}

/* 700 KiB in random parts (0, 1, 16, 4 KiB, above the request limit...),
 * gathered into large requests: each answer is the single-part one. */
static void random_splits_equal_single_part(void **state)
{
	(void)state;
	NEED_HELPER();
	CK_ULONG len = 700000;
	CK_BYTE *plain = malloc(len), *ct = malloc(len + 16), *back = malloc(len + 16);
	assert_true(plain != NULL && ct != NULL && back != NULL);
	srand(8);
	for (int pad = 0; pad <= 1; pad++) {
		CK_MECHANISM_TYPE t = pad ? CKM_AES_CBC_PAD : CKM_AES_CBC;
		CK_ULONG l = pad ? len : len - len % 16;
		fill(plain, l, (unsigned)pad + 3);
		CK_ULONG n = encrypt1(fx.s, fx.key[2], t, plain, l, ct, len + 16);
		for (int round = 0; round < 3; round++) {
			assert_int_equal(multi(true, fx.s, fx.key[2], t, plain, l, 0, back), n);
			assert_memory_equal(back, ct, n);
			assert_int_equal(multi(false, fx.s, fx.key[2], t, ct, n, 0, back), l);
			assert_memory_equal(back, plain, l);
		}
	}
	free(plain);
	free(ct);
	free(back);
}

/* A key deleted on the server after Init: the server's unknown_key. */
static void key_deleted_after_init(void **state)
{
	(void)state;
	NEED_HELPER();
	char path[96];
	e2e_key_ok(fx.p11.conn, fx.group, "doomed", 128, NULL, path);
	CK_OBJECT_HANDLE k = find_label("doomed");
	CK_MECHANISM m = mech(CKM_AES_CBC);
	assert_int_equal(fx.p11.f->C_EncryptInit(fx.s, &m, k), CKR_OK);
	char target[128];
	snprintf(target, sizeof(target), "/%s", path);
	struct e2e_answer ans;
	assert_int_equal(
	    e2e_request(fx.p11.conn, "DELETE", target, "delete-doomed-key-1", NULL, &ans), 0);
	assert_int_equal(ans.status, 204);
	e2e_answer_free(&ans);
	CK_BYTE b[16] = { 0 }, out[16];
	CK_ULONG n = sizeof(out);
	assert_int_equal(fx.p11.f->C_Encrypt(fx.s, b, 16, out, &n), CKR_KEY_HANDLE_INVALID);
	n = sizeof(out);
	assert_int_equal(fx.p11.f->C_Encrypt(fx.s, b, 16, out, &n), CKR_OPERATION_NOT_INITIALIZED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trips_all_key_sizes_cross_checked_with_rest),
		cmocka_unit_test(init_errors),
		cmocka_unit_test(not_initialized),
		cmocka_unit_test(length_errors_end_the_operation),
		cmocka_unit_test(bad_arguments_end_the_operation),
		cmocka_unit_test(bad_padding_is_encrypted_data_invalid),
		cmocka_unit_test(length_queries_and_short_buffers_keep_the_operation),
		cmocka_unit_test(eight_sessions_in_eight_threads),
		cmocka_unit_test(generated_key_and_close_mid_operation),
		cmocka_unit_test(data_above_the_server_limit),
		cmocka_unit_test(random_splits_equal_single_part),
		cmocka_unit_test(key_deleted_after_init),
	};
	return p11_main("p11_crypto", tests, group_setup, group_teardown);
}
