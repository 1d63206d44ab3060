/*
 * Test helper: PKCS #11 templates built by value, so that each test starts
 * from a valid template and changes one thing. Header-only; static inline.
 */
#ifndef PKCS11WSOP_TESTS_P11_ATTRS_TMPL_BUILDER_H
#define PKCS11WSOP_TESTS_P11_ATTRS_TMPL_BUILDER_H

#include <string.h>

#include <p11-kit/pkcs11.h>

#define TB_MAX 48

struct tb {
	CK_ATTRIBUTE a[TB_MAX];
	CK_ULONG n;
	/* value storage, one slot per attribute, so values outlive the call */
	unsigned char store[TB_MAX][64];
};

static inline void tb_raw(struct tb *t, CK_ATTRIBUTE_TYPE type, void *p, CK_ULONG len)
{
	t->a[t->n].type = type;
	t->a[t->n].pValue = p;
	t->a[t->n].ulValueLen = len;
	t->n++;
}

static inline void tb_bool(struct tb *t, CK_ATTRIBUTE_TYPE type, CK_BBOOL v)
{
	memcpy(t->store[t->n], &v, sizeof(v));
	tb_raw(t, type, t->store[t->n], sizeof(v));
}

static inline void tb_ulong(struct tb *t, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
	memcpy(t->store[t->n], &v, sizeof(v));
	tb_raw(t, type, t->store[t->n], sizeof(v));
}

/* Up to 64 bytes kept in the builder; longer values via tb_raw. */
static inline void tb_bytes(struct tb *t, CK_ATTRIBUTE_TYPE type, const void *p, CK_ULONG len)
{
	memcpy(t->store[t->n], p, len);
	tb_raw(t, type, t->store[t->n], len);
}

static inline void tb_str(struct tb *t, CK_ATTRIBUTE_TYPE type, const char *s)
{
	tb_bytes(t, type, s, (CK_ULONG)strlen(s));
}

/* Drops every attribute of that type. */
static inline void tb_remove(struct tb *t, CK_ATTRIBUTE_TYPE type)
{
	CK_ULONG j = 0;
	for (CK_ULONG i = 0; i < t->n; i++) {
		if (t->a[i].type == type)
			continue;
		if (j != i) {
			memcpy(t->store[j], t->store[i], sizeof(t->store[j]));
			t->a[j] = t->a[i];
			if (t->a[i].pValue == t->store[i])
				t->a[j].pValue = t->store[j];
		}
		j++;
	}
	t->n = j;
}

static inline void tb_common(struct tb *t)
{
	tb_bool(t, CKA_TOKEN, CK_TRUE);
	tb_bool(t, CKA_PRIVATE, CK_TRUE);
}

static inline void tb_data(struct tb *t)
{
	memset(t, 0, sizeof(*t));
	tb_ulong(t, CKA_CLASS, CKO_DATA);
	tb_common(t);
	tb_str(t, CKA_LABEL, "notes");
	tb_str(t, CKA_APPLICATION, "app");
	tb_bytes(t, CKA_OBJECT_ID, "\x06\x03\x2a\x03\x04", 5);
	tb_str(t, CKA_VALUE, "hello");
}

static inline void tb_cert(struct tb *t)
{
	memset(t, 0, sizeof(*t));
	tb_ulong(t, CKA_CLASS, CKO_CERTIFICATE);
	tb_ulong(t, CKA_CERTIFICATE_TYPE, CKC_X_509);
	tb_common(t);
	tb_str(t, CKA_VALUE, "\x30\x03\x02\x01\x01");
	tb_bytes(t, CKA_SUBJECT, "\x30\x01\x00", 3);
}

static inline void tb_key(struct tb *t)
{
	memset(t, 0, sizeof(*t));
	tb_ulong(t, CKA_CLASS, CKO_SECRET_KEY);
	tb_ulong(t, CKA_KEY_TYPE, CKK_AES);
	tb_ulong(t, CKA_VALUE_LEN, 32);
	tb_common(t);
	tb_str(t, CKA_LABEL, "k1");
	tb_bool(t, CKA_ENCRYPT, CK_TRUE);
	tb_bool(t, CKA_DECRYPT, CK_TRUE);
}

#endif
