/*
 * Object management and key generation end to end: libpkcs11wsop.so
 * (dlopen) -> the confined helper -> wsopd. Each test uses a softcard of
 * its own so that the searches of one never see the objects of another.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tests/p11/p11_fixture.h"

#define PIN "pass phrase"

static struct {
	struct p11_fx p11;
	unsigned cards;
} fx;

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static int group_setup(void **state)
{
	(void)state;
	return p11_fx_setup(&fx.p11) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	p11_fx_teardown(&fx.p11);
	return 0;
}

/* A new softcard, the module initialised, a session on it (rw or not),
 * logged in when login. Skips the test when the helper cannot run. */
static CK_SESSION_HANDLE open_card(char name[32], bool rw, bool login)
{
	P11_NEED_HELPER();
	char id[41];
	snprintf(name, 32, "objcard%u", ++fx.cards);
	e2e_softcard_ok(fx.p11.conn, name, PIN, id);
	assert_int_equal(fx.p11.f->C_Initialize(NULL), CKR_OK);

	CK_SLOT_ID slot = p11_slot_of(fx.p11.f, name);
	CK_SESSION_HANDLE s;
	CK_FLAGS flags = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
	assert_int_equal(fx.p11.f->C_OpenSession(slot, flags, NULL, NULL, &s), CKR_OK);
	if (login)
		assert_int_equal(
		    fx.p11.f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)PIN, (CK_ULONG)strlen(PIN)),
		    CKR_OK);
	return s;
}

/* open_card() when the test has no use for the card's name. */
static CK_SESSION_HANDLE card_session(bool rw, bool login)
{
	char name[32];
	return open_card(name, rw, login);
}

static CK_SLOT_ID slot_of_session(CK_SESSION_HANDLE s)
{
	CK_SESSION_INFO si;
	assert_int_equal(fx.p11.f->C_GetSessionInfo(s, &si), CKR_OK);
	return si.slotID;
}

static void fini(void)
{
	assert_int_equal(fx.p11.f->C_Finalize(NULL), CKR_OK);
}

#define ATTR(t, v)                                                                                 \
	{                                                                                          \
		(t), (v), sizeof(*(v))                                                             \
	}
#define ATTR_STR(t, s)                                                                             \
	{                                                                                          \
		(t), (s), (CK_ULONG)strlen(s)                                                      \
	}

static CK_RV make_data(CK_SESSION_HANDLE s, const char *label, const char *value,
                       CK_OBJECT_HANDLE *h)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE t[] = {
		ATTR(CKA_CLASS, &cls),
		ATTR(CKA_TOKEN, &yes),
		ATTR(CKA_PRIVATE, &yes),
		ATTR_STR(CKA_LABEL, (char *)label),
		ATTR_STR(CKA_VALUE, (char *)value),
	};
	return fx.p11.f->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), h);
}

static CK_RV make_key(CK_SESSION_HANDLE s, CK_ULONG len, const char *label, const char *id,
                      CK_OBJECT_HANDLE *h)
{
	CK_MECHANISM m = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_ATTRIBUTE t[] = {
		ATTR(CKA_TOKEN, &yes),        ATTR(CKA_PRIVATE, &yes),
		ATTR(CKA_VALUE_LEN, &len),    ATTR_STR(CKA_LABEL, (char *)label),
		ATTR(CKA_ENCRYPT, &yes),      ATTR(CKA_DECRYPT, &yes),
		ATTR_STR(CKA_ID, (char *)id),
	};
	return fx.p11.f->C_GenerateKey(s, &m, t, sizeof(t) / sizeof(t[0]), h);
}

/* Data object "d" = "v" and a 16-byte key "k" (id "i") on s, both calls
 * answering want. */
static void make_data_and_key(CK_SESSION_HANDLE s, CK_RV want, CK_OBJECT_HANDLE *d,
                              CK_OBJECT_HANDLE *k)
{
	assert_int_equal(make_data(s, "d", "v", d), want);
	assert_int_equal(make_key(s, 16, "k", "i", k), want);
}

/* Every handle a search with tmpl finds, in one call. */
static CK_ULONG find_all(CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *out,
                         CK_ULONG cap)
{
	CK_ULONG got = 0;
	assert_int_equal(fx.p11.f->C_FindObjectsInit(s, tmpl, n), CKR_OK);
	assert_int_equal(fx.p11.f->C_FindObjects(s, out, cap, &got), CKR_OK);
	assert_int_equal(fx.p11.f->C_FindObjectsFinal(s), CKR_OK);
	return got;
}

/* A self-signed certificate, DER, and its subject, issuer, serial. */
struct cert {
	unsigned char *der, *subject, *issuer, *serial;
	int der_len, subject_len, issuer_len, serial_len;
};

static void make_cert(struct cert *c)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(pk);
	X509 *x = X509_new();
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234567), 1);
	X509_NAME *name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                                            (const unsigned char *)"p11 objects test", -1,
	                                            -1, 0),
	                 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_set_pubkey(x, pk), 1);
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
	memset(c, 0, sizeof(*c));
	c->der_len = i2d_X509(x, &c->der);
	c->subject_len = i2d_X509_NAME(X509_get_subject_name(x), &c->subject);
	c->issuer_len = i2d_X509_NAME(X509_get_issuer_name(x), &c->issuer);
	c->serial_len = i2d_ASN1_INTEGER(X509_get_serialNumber(x), &c->serial);
	assert_true(c->der_len > 0 && c->subject_len > 0 && c->issuer_len > 0 && c->serial_len > 0);
	X509_free(x);
	EVP_PKEY_free(pk);
}

static void free_cert(struct cert *c)
{
	OPENSSL_free(c->der);
	OPENSSL_free(c->subject);
	OPENSSL_free(c->issuer);
	OPENSSL_free(c->serial);
}

/* ---- creation ------------------------------------------------------------ */

static void create_data_object_reads_back(void **state)
{
	(void)state;
	CK_SESSION_HANDLE s = card_session(true, true);
	CK_OBJECT_HANDLE h;
	assert_int_equal(make_data(s, "d1", "hello", &h), CKR_OK);

	CK_OBJECT_CLASS cls = 0;
	CK_BBOOL tok = 0, priv = 0, mod = 1;
	char label[16], value[16];
	CK_ATTRIBUTE g[] = {
		ATTR(CKA_CLASS, &cls),
		ATTR(CKA_TOKEN, &tok),
		ATTR(CKA_PRIVATE, &priv),
		ATTR(CKA_MODIFIABLE, &mod),
		{ CKA_LABEL, label, sizeof(label) },
		{ CKA_VALUE, value, sizeof(value) },
	};
	assert_int_equal(fx.p11.f->C_GetAttributeValue(s, h, g, 6), CKR_OK);
	assert_int_equal(cls, CKO_DATA);
	assert_int_equal(tok, CK_TRUE);
	assert_int_equal(priv, CK_TRUE);
	assert_int_equal(mod, CK_FALSE);
	assert_int_equal(g[4].ulValueLen, 2);
	assert_memory_equal(label, "d1", 2);
	assert_int_equal(g[5].ulValueLen, 5);
	assert_memory_equal(value, "hello", 5);
	fini();
}

/* A data object's size is the bytes of its attributes that have one; a
 * key's is not told (it would speak of a secret). */
static void object_size_of_data_and_key(void **state)
{
	(void)state;
	CK_SESSION_HANDLE s = card_session(true, true);
	CK_OBJECT_HANDLE d, k;
	CK_ULONG size = 0;
	assert_int_equal(make_data(s, "d1", "hello", &d), CKR_OK);
	assert_int_equal(make_key(s, 32, "keylabel", "kid", &k), CKR_OK);
	assert_int_equal(fx.p11.f->C_GetObjectSize(s, d, &size), CKR_OK);
	assert_int_equal(size, 2 + 5);
	assert_int_equal(fx.p11.f->C_GetObjectSize(s, k, &size), CKR_INFORMATION_SENSITIVE);
	assert_int_equal(fx.p11.f->C_GetObjectSize(s, d, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx.p11.f->C_GetObjectSize(s, 987654, &size), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(fx.p11.f->C_GetObjectSize(999999, d, &size), CKR_SESSION_HANDLE_INVALID);
	fini();
}

static void create_certificate_from_real_der(void **state)
{
	(void)state;
	CK_SESSION_HANDLE s = card_session(true, true);
	struct cert c;
	make_cert(&c);
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_ATTRIBUTE t[] = {
		ATTR(CKA_CLASS, &cls),
		ATTR(CKA_CERTIFICATE_TYPE, &ct),
		ATTR(CKA_TOKEN, &yes),
		ATTR(CKA_PRIVATE, &yes),
		ATTR_STR(CKA_LABEL, "cert"),
		ATTR_STR(CKA_ID, "\x01\x02"),
		{ CKA_VALUE, c.der, (CK_ULONG)c.der_len },
		{ CKA_SUBJECT, c.subject, (CK_ULONG)c.subject_len },
		{ CKA_ISSUER, c.issuer, (CK_ULONG)c.issuer_len },
		{ CKA_SERIAL_NUMBER, c.serial, (CK_ULONG)c.serial_len },
	};
	CK_OBJECT_HANDLE h;
	assert_int_equal(fx.p11.f->C_CreateObject(s, t, 10, &h), CKR_OK);

	CK_ATTRIBUTE g[] = {
		{ CKA_VALUE, NULL, 0 },
		{ CKA_SUBJECT, NULL, 0 },
		{ CKA_ISSUER, NULL, 0 },
		{ CKA_SERIAL_NUMBER, NULL, 0 },
	};
	assert_int_equal(fx.p11.f->C_GetAttributeValue(s, h, g, 4), CKR_OK);
	assert_int_equal(g[0].ulValueLen, c.der_len);
	assert_int_equal(g[1].ulValueLen, c.subject_len);
	assert_int_equal(g[2].ulValueLen, c.issuer_len);
	assert_int_equal(g[3].ulValueLen, c.serial_len);
	unsigned char *buf = malloc((size_t)c.der_len);
	assert_non_null(buf);
	g[0].pValue = buf;
	assert_int_equal(fx.p11.f->C_GetAttributeValue(s, h, g, 1), CKR_OK);
	assert_memory_equal(buf, c.der, (size_t)c.der_len);
	free(buf);

	/* A search by the subject finds it. */
	CK_ATTRIBUTE q[] = { { CKA_SUBJECT, c.subject, (CK_ULONG)c.subject_len } };
	CK_OBJECT_HANDLE found[4];
	assert_int_equal(find_all(s, q, 1, found, 4), 1);
	assert_int_equal(found[0], h);
	free_cert(&c);
	fini();
}

static void template_rules_apply_through_the_module(void **state)
{
	(void)state;
	CK_SESSION_HANDLE s = card_session(true, true);
	CK_OBJECT_HANDLE h;
	CK_OBJECT_CLASS data = CKO_DATA, cert = CKO_CERTIFICATE;
	CK_ULONG vendor = 0;

	CK_ATTRIBUTE no_class[] = { ATTR(CKA_TOKEN, &yes), ATTR(CKA_PRIVATE, &yes) };
	assert_int_equal(fx.p11.f->C_CreateObject(s, no_class, 2, &h), CKR_TEMPLATE_INCOMPLETE);
	CK_ATTRIBUTE public_obj[] = { ATTR(CKA_CLASS, &data), ATTR(CKA_TOKEN, &yes),
		                      ATTR(CKA_PRIVATE, &no) };
	assert_int_equal(fx.p11.f->C_CreateObject(s, public_obj, 3, &h),
	                 CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE unknown[] = { ATTR(CKA_CLASS, &data), ATTR(CKA_TOKEN, &yes),
		                   ATTR(CKA_PRIVATE, &yes), ATTR(CKA_VENDOR_DEFINED | 7, &vendor) };
	assert_int_equal(fx.p11.f->C_CreateObject(s, unknown, 4, &h), CKR_ATTRIBUTE_TYPE_INVALID);
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_ATTRIBUTE cert_no_subject[] = { ATTR(CKA_CLASS, &cert), ATTR(CKA_CERTIFICATE_TYPE, &ct),
		                           ATTR(CKA_TOKEN, &yes), ATTR(CKA_PRIVATE, &yes),
		                           ATTR_STR(CKA_VALUE, "x") };
	assert_int_equal(fx.p11.f->C_CreateObject(s, cert_no_subject, 5, &h),
	                 CKR_TEMPLATE_INCOMPLETE);
	CK_ATTRIBUTE data_with_key_attr[] = { ATTR(CKA_CLASS, &data), ATTR(CKA_TOKEN, &yes),
		                              ATTR(CKA_PRIVATE, &yes), ATTR(CKA_ENCRYPT, &yes) };
	assert_int_equal(fx.p11.f->C_CreateObject(s, data_with_key_attr, 4, &h),
	                 CKR_TEMPLATE_INCONSISTENT);
	CK_ATTRIBUTE bad_bool[] = { ATTR(CKA_CLASS, &data),
		                    { CKA_TOKEN, &vendor, sizeof(vendor) },
		                    ATTR(CKA_PRIVATE, &yes) };
	assert_int_equal(fx.p11.f->C_CreateObject(s, bad_bool, 3, &h), CKR_ATTRIBUTE_VALUE_INVALID);
	/* Nothing was made. */
	CK_OBJECT_HANDLE found[4];
	assert_int_equal(find_all(s, NULL, 0, found, 4), 0);
	fini();
}

static void key_creation_via_create_object_is_refused(void **state)
{
	(void)state;
	CK_SESSION_HANDLE s = card_session(true, true);
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	unsigned char value[16] = { 0 };
	CK_ATTRIBUTE t[] = { ATTR(CKA_CLASS, &cls),
		             ATTR(CKA_KEY_TYPE, &kt),
		             ATTR(CKA_TOKEN, &yes),
		             ATTR(CKA_PRIVATE, &yes),
		             { CKA_VALUE, value, sizeof(value) } };
	CK_OBJECT_HANDLE h;
	assert_int_equal(fx.p11.f->C_CreateObject(s, t, 5, &h), CKR_ATTRIBUTE_VALUE_INVALID);
	fini();
}

static void read_only_session_cannot_create_generate_or_destroy(void **state)
{
	(void)state;
	CK_SESSION_HANDLE ro = card_session(false, true);
	CK_OBJECT_HANDLE h, k;
	make_data_and_key(ro, CKR_SESSION_READ_ONLY, &h, &k);
	CK_SESSION_HANDLE rw;
	assert_int_equal(fx.p11.f->C_OpenSession(slot_of_session(ro),
	                                         CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
	                                         &rw),
	                 CKR_OK);
	assert_int_equal(make_data(rw, "d", "v", &h), CKR_OK);
	assert_int_equal(fx.p11.f->C_DestroyObject(ro, h), CKR_SESSION_READ_ONLY);
	/* The read-only session still sees it. */
	CK_ULONG len = 0;
	CK_ATTRIBUTE g[] = { { CKA_VALUE, NULL, 0 } };
	assert_int_equal(fx.p11.f->C_GetAttributeValue(ro, h, g, 1), CKR_OK);
	(void)len;
	assert_int_equal(g[0].ulValueLen, 1);
	fini();
}

static void not_logged_in_cannot_create_generate_or_destroy(void **state)
{
	(void)state;
	CK_SESSION_HANDLE s = card_session(true, false);
	CK_OBJECT_HANDLE h;
	make_data_and_key(s, CKR_USER_NOT_LOGGED_IN, &h, &h);
	assert_int_equal(fx.p11.f->C_DestroyObject(s, 1), CKR_USER_NOT_LOGGED_IN);
	/* State before template: even a bad template says not logged in. */
	CK_ATTRIBUTE empty[1];
	assert_int_equal(fx.p11.f->C_CreateObject(s, empty, 0, &h), CKR_USER_NOT_LOGGED_IN);
	fini();
}

/* ---- key generation ------------------------------------------------------ */

static void generate_aes_16_24_32_and_20_is_key_size_range(void **state)
{
	(void)state;
	CK_SESSION_HANDLE s = card_session(true, true);
	const CK_ULONG sizes[] = { 16, 24, 32 };
	for (size_t i = 0; i < 3; i++) {
		CK_OBJECT_HANDLE k;
		assert_int_equal(make_key(s, sizes[i], "k", "i", &k), CKR_OK);
		CK_ULONG len = 0;
		CK_OBJECT_CLASS cls = 0;
		CK_KEY_TYPE kt = 0;
		CK_BBOOL sens = 0, extr = 1, local = 0;
		CK_ATTRIBUTE g[] = { ATTR(CKA_VALUE_LEN, &len),    ATTR(CKA_CLASS, &cls),
			             ATTR(CKA_KEY_TYPE, &kt),      ATTR(CKA_SENSITIVE, &sens),
			             ATTR(CKA_EXTRACTABLE, &extr), ATTR(CKA_LOCAL, &local) };
		assert_int_equal(fx.p11.f->C_GetAttributeValue(s, k, g, 6), CKR_OK);
		assert_int_equal(len, sizes[i]);
		assert_int_equal(cls, CKO_SECRET_KEY);
		assert_int_equal(kt, CKK_AES);
		assert_int_equal(sens, CK_TRUE);
		assert_int_equal(extr, CK_FALSE);
		assert_int_equal(local, CK_TRUE);
	}
	CK_OBJECT_HANDLE k;
	assert_int_equal(make_key(s, 20, "k", "i", &k), CKR_KEY_SIZE_RANGE);
	/* All three keys are in one "pkcs11" group. */
	struct e2e_answer ans;
	char target[160];
	CK_TOKEN_INFO ti;
	assert_int_equal(fx.p11.f->C_GetTokenInfo(slot_of_session(s), &ti), CKR_OK);
	(void)target;
	(void)ans;
	CK_OBJECT_CLASS sk = CKO_SECRET_KEY;
	CK_ATTRIBUTE q[] = { ATTR(CKA_CLASS, &sk) };
	CK_OBJECT_HANDLE found[8];
	assert_int_equal(find_all(s, q, 1, found, 8), 3);
	fini();
}

static void other_mechanism_or_a_parameter_is_refused(void **state)
{
	(void)state;
	CK_SESSION_HANDLE s = card_session(true, true);
	CK_ULONG len = 16;
	CK_ATTRIBUTE t[] = { ATTR(CKA_TOKEN, &yes),     ATTR(CKA_PRIVATE, &yes),
		             ATTR(CKA_VALUE_LEN, &len), ATTR_STR(CKA_LABEL, "k"),
		             ATTR(CKA_ENCRYPT, &yes),   ATTR(CKA_DECRYPT, &yes) };
	CK_OBJECT_HANDLE k;
	CK_MECHANISM des = { CKM_DES3_KEY_GEN, NULL, 0 };
	assert_int_equal(fx.p11.f->C_GenerateKey(s, &des, t, 6, &k), CKR_MECHANISM_INVALID);
	unsigned char p[4] = { 0 };
	CK_MECHANISM with_param = { CKM_AES_KEY_GEN, p, sizeof(p) };
	assert_int_equal(fx.p11.f->C_GenerateKey(s, &with_param, t, 6, &k),
	                 CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(fx.p11.f->C_GenerateKey(s, NULL, t, 6, &k), CKR_ARGUMENTS_BAD);
	fini();
}

/* ---- C_GetAttributeValue ------------------------------------------------- */

static void get_attribute_value_semantics(void **state)
{
	(void)state;
	CK_SESSION_HANDLE s = card_session(true, true);
	CK_OBJECT_HANDLE k;
	assert_int_equal(make_key(s, 32, "keylabel", "kid", &k), CKR_OK);

	/* Length query. */
	CK_ATTRIBUTE q[] = { { CKA_LABEL, NULL, 0 } };
	assert_int_equal(fx.p11.f->C_GetAttributeValue(s, k, q, 1), CKR_OK);
	assert_int_equal(q[0].ulValueLen, 8);

	/* Short buffer; the others still filled. */
	char small[3], id[8];
	CK_ULONG len = 0;
	CK_ATTRIBUTE b[] = { { CKA_LABEL, small, sizeof(small) },
		             ATTR(CKA_VALUE_LEN, &len),
		             { CKA_ID, id, sizeof(id) } };
	assert_int_equal(fx.p11.f->C_GetAttributeValue(s, k, b, 3), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(b[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(len, 32);
	assert_int_equal(b[2].ulValueLen, 3);
	assert_memory_equal(id, "kid", 3);

	/* Sensitive CKA_VALUE and an unknown type; the others still filled. */
	unsigned char value[32];
	CK_ULONG vendor = 0;
	CK_BBOOL enc = 0;
	CK_ATTRIBUTE v[] = { { CKA_VALUE, value, sizeof(value) },
		             { CKA_VENDOR_DEFINED | 9, &vendor, sizeof(vendor) },
		             ATTR(CKA_ENCRYPT, &enc) };
	assert_int_equal(fx.p11.f->C_GetAttributeValue(s, k, v, 3), CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(v[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(v[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(enc, CK_TRUE);

	CK_ATTRIBUTE u[] = { { CKA_VENDOR_DEFINED | 9, &vendor, sizeof(vendor) } };
	assert_int_equal(fx.p11.f->C_GetAttributeValue(s, k, u, 1), CKR_ATTRIBUTE_TYPE_INVALID);

	/* Unknown handle. */
	assert_int_equal(fx.p11.f->C_GetAttributeValue(s, k + 100000, q, 1),
	                 CKR_OBJECT_HANDLE_INVALID);
	fini();
}

/* ---- searches ------------------------------------------------------------ */

static void find_by_class_label_id_and_key_type(void **state)
{
	(void)state;
	CK_SESSION_HANDLE s = card_session(true, true);
	CK_OBJECT_HANDLE d1, d2, k1, k2;
	assert_int_equal(make_data(s, "alpha", "1", &d1), CKR_OK);
	assert_int_equal(make_data(s, "beta", "2", &d2), CKR_OK);
	assert_int_equal(make_key(s, 16, "alpha", "id1", &k1), CKR_OK);
	assert_int_equal(make_key(s, 32, "gamma", "id2", &k2), CKR_OK);
	CK_OBJECT_HANDLE f[8];

	assert_int_equal(find_all(s, NULL, 0, f, 8), 4);
	CK_OBJECT_CLASS data = CKO_DATA;
	CK_ATTRIBUTE by_class[] = { ATTR(CKA_CLASS, &data) };
	assert_int_equal(find_all(s, by_class, 1, f, 8), 2);
	assert_true((f[0] == d1 && f[1] == d2) || (f[0] == d2 && f[1] == d1));
	CK_ATTRIBUTE by_label[] = { ATTR_STR(CKA_LABEL, "alpha") };
	assert_int_equal(find_all(s, by_label, 1, f, 8), 2);
	CK_ATTRIBUTE by_id[] = { ATTR_STR(CKA_ID, "id2") };
	assert_int_equal(find_all(s, by_id, 1, f, 8), 1);
	assert_int_equal(f[0], k2);
	CK_KEY_TYPE aes = CKK_AES;
	CK_ATTRIBUTE by_kt[] = { ATTR(CKA_KEY_TYPE, &aes), ATTR_STR(CKA_LABEL, "alpha") };
	assert_int_equal(find_all(s, by_kt, 2, f, 8), 1);
	assert_int_equal(f[0], k1);
	CK_OBJECT_CLASS pub = CKO_PUBLIC_KEY, priv = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE by_pub[] = { ATTR(CKA_CLASS, &pub) };
	assert_int_equal(find_all(s, by_pub, 1, f, 8), 0);
	CK_ATTRIBUTE by_priv[] = { ATTR(CKA_CLASS, &priv) };
	assert_int_equal(find_all(s, by_priv, 1, f, 8), 0);
	fini();
}

static void find_in_pieces_of_one(void **state)
{
	(void)state;
	CK_SESSION_HANDLE s = card_session(true, true);
	CK_OBJECT_HANDLE h[3];
	for (int i = 0; i < 3; i++)
		assert_int_equal(make_data(s, "p", "v", &h[i]), CKR_OK);
	assert_int_equal(fx.p11.f->C_FindObjectsInit(s, NULL, 0), CKR_OK);
	CK_OBJECT_HANDLE got[3];
	CK_ULONG n;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fx.p11.f->C_FindObjects(s, &got[i], 1, &n), CKR_OK);
		assert_int_equal(n, 1);
	}
	assert_int_equal(fx.p11.f->C_FindObjects(s, got, 1, &n), CKR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(fx.p11.f->C_FindObjectsFinal(s), CKR_OK);
	for (int i = 0; i < 3; i++)
		assert_true(got[i] == h[0] || got[i] == h[1] || got[i] == h[2]);
	assert_true(got[0] != got[1] && got[1] != got[2] && got[0] != got[2]);
	fini();
}

static void find_operation_active_and_not_initialized(void **state)
{
	(void)state;
	CK_SESSION_HANDLE s = card_session(true, true);
	CK_OBJECT_HANDLE f[2];
	CK_ULONG n;
	assert_int_equal(fx.p11.f->C_FindObjects(s, f, 2, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(fx.p11.f->C_FindObjectsFinal(s), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(fx.p11.f->C_FindObjectsInit(s, NULL, 0), CKR_OK);
	assert_int_equal(fx.p11.f->C_FindObjectsInit(s, NULL, 0), CKR_OPERATION_ACTIVE);
	assert_int_equal(fx.p11.f->C_FindObjectsFinal(s), CKR_OK);
	assert_int_equal(fx.p11.f->C_FindObjectsFinal(s), CKR_OPERATION_NOT_INITIALIZED);
	/* A call that fails on its arguments ends the search, as in the other
	 * multi-step operations; without a search the argument error wins. */
	assert_int_equal(fx.p11.f->C_FindObjectsInit(s, NULL, 0), CKR_OK);
	assert_int_equal(fx.p11.f->C_FindObjects(s, NULL, 2, &n), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx.p11.f->C_FindObjectsFinal(s), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(fx.p11.f->C_FindObjectsInit(s, NULL, 0), CKR_OK);
	assert_int_equal(fx.p11.f->C_FindObjects(s, f, 2, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx.p11.f->C_FindObjects(s, f, 2, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(fx.p11.f->C_FindObjects(s, f, 2, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx.p11.f->C_FindObjects(999999, f, 2, NULL), CKR_ARGUMENTS_BAD);
	/* A session closed mid-search frees it (checked by the sanitizers). */
	assert_int_equal(fx.p11.f->C_FindObjectsInit(s, NULL, 0), CKR_OK);
	fini();
}

static void private_objects_are_invisible_when_logged_out(void **state)
{
	(void)state;
	CK_SESSION_HANDLE s = card_session(true, true);
	CK_OBJECT_HANDLE d, k;
	make_data_and_key(s, CKR_OK, &d, &k);
	assert_int_equal(fx.p11.f->C_Logout(s), CKR_OK);
	CK_OBJECT_HANDLE f[4];
	assert_int_equal(find_all(s, NULL, 0, f, 4), 0);
	CK_ATTRIBUTE q[] = { { CKA_LABEL, NULL, 0 } };
	assert_int_equal(fx.p11.f->C_GetAttributeValue(s, d, q, 1), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(fx.p11.f->C_GetAttributeValue(s, k, q, 1), CKR_OBJECT_HANDLE_INVALID);
	/* Logged in again, the same handles. */
	assert_int_equal(
	    fx.p11.f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)PIN, (CK_ULONG)strlen(PIN)), CKR_OK);
	assert_int_equal(find_all(s, NULL, 0, f, 4), 2);
	assert_true((f[0] == d && f[1] == k) || (f[0] == k && f[1] == d));
	fini();
}

static void handles_are_stable_across_searches(void **state)
{
	(void)state;
	CK_SESSION_HANDLE s = card_session(true, true);
	CK_OBJECT_HANDLE d, k;
	make_data_and_key(s, CKR_OK, &d, &k);
	CK_OBJECT_HANDLE a[4], b[4];
	assert_int_equal(find_all(s, NULL, 0, a, 4), 2);
	assert_int_equal(find_all(s, NULL, 0, b, 4), 2);
	assert_memory_equal(a, b, sizeof(a[0]) * 2);
	assert_true(a[0] == d || a[0] == k);
	fini();
}

static void destroy_removes_objects_and_keys(void **state)
{
	(void)state;
	CK_SESSION_HANDLE s = card_session(true, true);
	CK_OBJECT_HANDLE d, k;
	make_data_and_key(s, CKR_OK, &d, &k);
	assert_int_equal(fx.p11.f->C_DestroyObject(s, d), CKR_OK);
	assert_int_equal(fx.p11.f->C_DestroyObject(s, d), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(fx.p11.f->C_DestroyObject(s, k), CKR_OK);
	assert_int_equal(fx.p11.f->C_DestroyObject(s, 999999), CKR_OBJECT_HANDLE_INVALID);
	CK_ATTRIBUTE q[] = { { CKA_LABEL, NULL, 0 } };
	assert_int_equal(fx.p11.f->C_GetAttributeValue(s, k, q, 1), CKR_OBJECT_HANDLE_INVALID);
	CK_OBJECT_HANDLE f[4];
	assert_int_equal(find_all(s, NULL, 0, f, 4), 0);
	fini();
}

static CK_SESSION_HANDLE reopen(const char *name)
{
	assert_int_equal(fx.p11.f->C_Initialize(NULL), CKR_OK);
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;
	CK_TOKEN_INFO ti;
	assert_int_equal(fx.p11.f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	for (CK_ULONG i = 0; i < n; i++) {
		assert_int_equal(fx.p11.f->C_GetTokenInfo(slots[i], &ti), CKR_OK);
		if (memcmp(ti.label, name, strlen(name)) == 0 && ti.label[strlen(name)] == ' ') {
			CK_SESSION_HANDLE s;
			assert_int_equal(
			    fx.p11.f->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION,
			                            NULL, NULL, &s),
			    CKR_OK);
			assert_int_equal(fx.p11.f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)PIN,
			                                   (CK_ULONG)strlen(PIN)),
			                 CKR_OK);
			return s;
		}
	}
	fail_msg("no token %s", name);
	return 0;
}

static void objects_persist_across_finalize_and_wsopd_restart(void **state)
{
	(void)state;
	char name[32];
	CK_SESSION_HANDLE s = open_card(name, true, true);
	CK_OBJECT_HANDLE d, k;
	assert_int_equal(make_data(s, "persist", "v", &d), CKR_OK);
	assert_int_equal(make_key(s, 24, "persist", "i", &k), CKR_OK);
	fini();

	CK_ATTRIBUTE q[] = { ATTR_STR(CKA_LABEL, "persist") };
	CK_OBJECT_HANDLE f[4];
	s = reopen(name);
	assert_int_equal(find_all(s, q, 1, f, 4), 2);
	fini();

	direct_tls_close(fx.p11.conn);
	fx.p11.conn = NULL;
	assert_int_equal(e2e_server_stop(&fx.p11.srv, SIGTERM), 0);
	assert_int_equal(e2e_server_restart(&fx.p11.srv, NULL), 0);
	/* The new process may listen on another port. */
	assert_int_equal(p11_fx_rewrite_config(&fx.p11), 0);
	fx.p11.conn = e2e_connect_ok(&fx.p11.srv, E2E_CLIENT);
	s = reopen(name);
	assert_int_equal(find_all(s, q, 1, f, 4), 2);
	/* A key generated afterwards lands in the same group. */
	CK_OBJECT_HANDLE k2;
	assert_int_equal(make_key(s, 16, "persist", "j", &k2), CKR_OK);
	assert_int_equal(find_all(s, q, 1, f, 4), 3);
	fini();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_data_object_reads_back),
		cmocka_unit_test(object_size_of_data_and_key),
		cmocka_unit_test(create_certificate_from_real_der),
		cmocka_unit_test(template_rules_apply_through_the_module),
		cmocka_unit_test(key_creation_via_create_object_is_refused),
		cmocka_unit_test(read_only_session_cannot_create_generate_or_destroy),
		cmocka_unit_test(not_logged_in_cannot_create_generate_or_destroy),
		cmocka_unit_test(generate_aes_16_24_32_and_20_is_key_size_range),
		cmocka_unit_test(other_mechanism_or_a_parameter_is_refused),
		cmocka_unit_test(get_attribute_value_semantics),
		cmocka_unit_test(find_by_class_label_id_and_key_type),
		cmocka_unit_test(find_in_pieces_of_one),
		cmocka_unit_test(find_operation_active_and_not_initialized),
		cmocka_unit_test(private_objects_are_invisible_when_logged_out),
		cmocka_unit_test(handles_are_stable_across_searches),
		cmocka_unit_test(destroy_removes_objects_and_keys),
		cmocka_unit_test(objects_persist_across_finalize_and_wsopd_restart),
	};
	return p11_main("p11_objects", tests, group_setup, group_teardown);
}
