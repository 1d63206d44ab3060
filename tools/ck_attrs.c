/*
 * Attribute reading and formatting for cklist: a table of the attributes
 * shown and how each is rendered.
 */
#include "ck_attrs.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

enum render {
	R_CLASS,
	R_KEY_TYPE,
	R_CERT_TYPE,
	R_MECH,
	R_ULONG,
	R_BOOL,
	R_TEXT,
	R_HEX,
	R_OID,
	R_DN,
	R_DATE,
};

struct shown_attr {
	CK_ATTRIBUTE_TYPE type;
	enum render render;
};

/* In the order printed: identity first, then content, then the flags. */
static const struct shown_attr shown[] = {
	{ CKA_CLASS, R_CLASS },
	{ CKA_KEY_TYPE, R_KEY_TYPE },
	{ CKA_CERTIFICATE_TYPE, R_CERT_TYPE },
	{ CKA_LABEL, R_TEXT },
	{ CKA_ID, R_HEX },
	{ CKA_APPLICATION, R_TEXT },
	{ CKA_OBJECT_ID, R_OID },
	{ CKA_VALUE, R_HEX },
	{ CKA_VALUE_LEN, R_ULONG },
	{ CKA_CHECK_VALUE, R_HEX },
	{ CKA_KEY_GEN_MECHANISM, R_MECH },
	{ CKA_SUBJECT, R_DN },
	{ CKA_ISSUER, R_DN },
	{ CKA_SERIAL_NUMBER, R_HEX },
	{ CKA_START_DATE, R_DATE },
	{ CKA_END_DATE, R_DATE },
	{ CKA_TOKEN, R_BOOL },
	{ CKA_PRIVATE, R_BOOL },
	{ CKA_MODIFIABLE, R_BOOL },
	{ CKA_COPYABLE, R_BOOL },
	{ CKA_DESTROYABLE, R_BOOL },
	{ CKA_SENSITIVE, R_BOOL },
	{ CKA_ALWAYS_SENSITIVE, R_BOOL },
	{ CKA_EXTRACTABLE, R_BOOL },
	{ CKA_NEVER_EXTRACTABLE, R_BOOL },
	{ CKA_LOCAL, R_BOOL },
	{ CKA_ENCRYPT, R_BOOL },
	{ CKA_DECRYPT, R_BOOL },
	{ CKA_SIGN, R_BOOL },
	{ CKA_VERIFY, R_BOOL },
	{ CKA_WRAP, R_BOOL },
	{ CKA_UNWRAP, R_BOOL },
	{ CKA_DERIVE, R_BOOL },
	{ CKA_TRUSTED, R_BOOL },
	{ CKA_WRAP_WITH_TRUSTED, R_BOOL },
	{ CKA_ALWAYS_AUTHENTICATE, R_BOOL },
};

/* A name from a table, or the number when the table has none. */
static void print_named(const char *name, unsigned long value)
{
	/* Every vendor range of the standard starts at bit 31. */
	const unsigned long vendor = 0x80000000UL;

	if (name != NULL)
		printf("%s", name);
	else if (value >= vendor)
		printf("VENDOR_DEFINED+0x%lx", value - vendor);
	else
		printf("0x%lx", value);
}

/* Printable ASCII as is, in quotes; anything else as \xNN, so that a
 * hostile label cannot drive the terminal. */
static void print_text(const unsigned char *data, size_t len)
{
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		if (data[i] >= 0x20 && data[i] < 0x7f && data[i] != '"' && data[i] != '\\')
			putchar(data[i]);
		else
			printf("\\x%02x", data[i]);
	}
	putchar('"');
}

static int oid_text(const unsigned char *der, size_t len, char *text, size_t size)
{
	const unsigned char *p = der;
	ASN1_OBJECT *obj = d2i_ASN1_OBJECT(NULL, &p, (long)len);
	int n;

	if (obj == NULL)
		return -1;
	n = OBJ_obj2txt(text, (int)size, obj, 1);
	ASN1_OBJECT_free(obj);
	if (n <= 0 || (size_t)n >= size || p != der + len)
		return -1;
	return 0;
}

static int print_oid(const unsigned char *data, size_t len)
{
	unsigned char der[2 + 126];
	char text[256];

	if (len > LONG_MAX)
		return -1;
	if (oid_text(data, len, text, sizeof(text)) == 0) {
		printf("%s", text);
		return 0;
	}
	/* Some writers (OpenSC's pkcs11-tool among them) store the OID's
	 * content octets without the DER tag and length: accept those too,
	 * and say so. */
	if (len == 0 || len > sizeof(der) - 2)
		return -1;
	der[0] = V_ASN1_OBJECT;
	der[1] = (unsigned char)len;
	memcpy(der + 2, data, len);
	if (oid_text(der, len + 2, text, sizeof(text)) != 0)
		return -1;
	printf("%s (content octets only, not DER)", text);
	return 0;
}

static int print_dn(const unsigned char *data, size_t len)
{
	const unsigned char *p = data;
	X509_NAME *name;
	int rc = -1;

	if (len > LONG_MAX)
		return -1;
	name = d2i_X509_NAME(NULL, &p, (long)len);
	if (name == NULL)
		return -1;
	if (p == data + len) {
		fflush(stdout);
		/* RFC 2253 with non-ASCII escaped: one line, terminal-safe. */
		rc = X509_NAME_print_ex_fp(stdout, name, 0, XN_FLAG_RFC2253) >= 0 ? 0 : -1;
	}
	X509_NAME_free(name);
	return rc;
}

static int print_date(const unsigned char *data, size_t len)
{
	if (len != sizeof(CK_DATE))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (data[i] < '0' || data[i] > '9')
			return -1;
	}
	printf("%.4s-%.2s-%.2s", (const char *)data, (const char *)data + 4,
	       (const char *)data + 6);
	return 0;
}

static int print_ulong(enum render render, const unsigned char *data, size_t len)
{
	CK_ULONG v;

	if (len != sizeof(v))
		return -1;
	memcpy(&v, data, sizeof(v));
	switch (render) {
	case R_CLASS:
		print_named(ck_class_name(v), v);
		break;
	case R_KEY_TYPE:
		print_named(ck_key_type_name(v), v);
		break;
	case R_CERT_TYPE:
		print_named(ck_cert_type_name(v), v);
		break;
	case R_MECH:
		print_named(ck_mech_name(v), v);
		break;
	default:
		printf("%lu", (unsigned long)v);
		break;
	}
	return 0;
}

/* Prints the value as its kind says, falling back to hex when it does not
 * have the shape of that kind. */
static void print_value(enum render render, const unsigned char *data, size_t len)
{
	int rc = -1;

	switch (render) {
	case R_CLASS:
	case R_KEY_TYPE:
	case R_CERT_TYPE:
	case R_MECH:
	case R_ULONG:
		rc = print_ulong(render, data, len);
		break;
	case R_BOOL:
		if (len == sizeof(CK_BBOOL)) {
			printf("%s", data[0] ? "true" : "false");
			rc = 0;
		}
		break;
	case R_TEXT:
		print_text(data, len);
		rc = 0;
		break;
	case R_OID:
		rc = print_oid(data, len);
		break;
	case R_DN:
		rc = print_dn(data, len);
		break;
	case R_DATE:
		/* An empty date is allowed and means "not set". */
		if (len == 0) {
			printf("(none)");
			rc = 0;
		} else {
			rc = print_date(data, len);
		}
		break;
	case R_HEX:
		break;
	}
	if (rc != 0) {
		if (render != R_HEX)
			printf("hex ");
		ck_print_hex(data, len);
	}
}

static int print_attribute(struct ck_module *mod, CK_SESSION_HANDLE session,
                           CK_OBJECT_HANDLE object, const struct shown_attr *attr)
{
	const char *name = ck_attr_name(attr->type);
	CK_ATTRIBUTE tmpl = { attr->type, NULL, 0 };
	unsigned char *buf;
	char what[96];
	size_t len;
	CK_RV rv;

	rv = mod->fn->C_GetAttributeValue(session, object, &tmpl, 1);
	if (rv == CKR_ATTRIBUTE_TYPE_INVALID)
		return 0;
	if (rv == CKR_ATTRIBUTE_SENSITIVE) {
		printf("  %s: sensitive\n", name);
		return 0;
	}
	if (rv != CKR_OK)
		goto fail;
	if (tmpl.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
		printf("  %s: unavailable\n", name);
		return 0;
	}
	if (tmpl.ulValueLen > CK_MAX_ATTR_LEN) {
		fprintf(stderr, "%s: %s: %lu bytes, more than %lu\n", mod->prog, name,
		        (unsigned long)tmpl.ulValueLen, CK_MAX_ATTR_LEN);
		return -1;
	}
	len = tmpl.ulValueLen;
	/* One spare byte so that an empty value still has a buffer. */
	buf = calloc(1, len + 1);
	if (buf == NULL) {
		fprintf(stderr, "%s: out of memory\n", mod->prog);
		return -1;
	}
	tmpl.pValue = buf;
	rv = mod->fn->C_GetAttributeValue(session, object, &tmpl, 1);
	if (rv == CKR_OK && tmpl.ulValueLen > len)
		rv = CKR_GENERAL_ERROR; /* the module wrote past what it asked for */
	if (rv == CKR_OK) {
		printf("  %s: ", name);
		print_value(attr->render, buf, tmpl.ulValueLen);
		printf("\n");
	}
	OPENSSL_cleanse(buf, len + 1);
	free(buf);
	if (rv == CKR_OK)
		return 0;
fail:
	snprintf(what, sizeof(what), "C_GetAttributeValue(%s)", name);
	return ck_fail(mod->prog, what, rv);
}

int ck_print_object(struct ck_module *mod, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object)
{
	int status = 0;

	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		if (print_attribute(mod, session, object, &shown[i]) != 0)
			status = -1;
	}
	return status;
}
