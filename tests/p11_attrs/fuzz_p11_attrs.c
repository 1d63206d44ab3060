/*
 * libFuzzer target: random templates, decoded from the input, through the
 * policy (p11_template) and the object model (p11_attrs). Every value gets
 * its own exact-size allocation so that a read past ulValueLen is caught.
 *
 * Input: byte 0 picks the operation and the object used by the
 * get/match pass; then records of
 *   [type selector][length lo][length hi][flags][length bytes of value]
 * type selector < 64 indexes the table below, else the next 4 bytes are a
 * raw type; flags bit 0 = pValue NULL, bit 1 = claim 1 byte more than given
 * only when pValue is NULL (the shape callers get wrong).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/p11_attrs.h"
#include "lib/p11_template.h"

#define MAX_ATTRS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const CK_ATTRIBUTE_TYPE types[] = {
	CKA_CLASS,
	CKA_TOKEN,
	CKA_PRIVATE,
	CKA_LABEL,
	CKA_APPLICATION,
	CKA_OBJECT_ID,
	CKA_VALUE,
	CKA_CERTIFICATE_TYPE,
	CKA_SUBJECT,
	CKA_ISSUER,
	CKA_SERIAL_NUMBER,
	CKA_START_DATE,
	CKA_END_DATE,
	CKA_ID,
	CKA_KEY_TYPE,
	CKA_VALUE_LEN,
	CKA_ENCRYPT,
	CKA_DECRYPT,
	CKA_SIGN,
	CKA_VERIFY,
	CKA_WRAP,
	CKA_UNWRAP,
	CKA_DERIVE,
	CKA_EXTRACTABLE,
	CKA_COPYABLE,
	CKA_TRUSTED,
	CKA_WRAP_WITH_TRUSTED,
	CKA_ALWAYS_SENSITIVE,
	CKA_NEVER_EXTRACTABLE,
	CKA_LOCAL,
	CKA_SENSITIVE,
	CKA_MODIFIABLE,
	CKA_DESTROYABLE,
	CKA_KEY_GEN_MECHANISM,
	CKA_ALLOWED_MECHANISMS,
	CKA_CERTIFICATE_CATEGORY,
	CKA_URL,
	CKA_CHECK_VALUE,
	CKA_MODULUS,
	CKA_VENDOR_DEFINED,
};

struct fuzz_template {
	CK_ATTRIBUTE a[MAX_ATTRS];
	CK_ULONG n;
};

static void decode(const uint8_t *d, size_t size, struct fuzz_template *t)
{
	size_t pos = 0;

	memset(t, 0, sizeof(*t));
	while (t->n < MAX_ATTRS && pos + 4 <= size) {
		CK_ATTRIBUTE *a = &t->a[t->n];
		uint8_t sel = d[pos++];
		size_t len;
		uint8_t flags;

		if (sel < 64) {
			a->type = types[sel % (sizeof(types) / sizeof(types[0]))];
		} else {
			uint32_t raw = 0;
			if (pos + 4 > size)
				break;
			memcpy(&raw, d + pos, 4);
			pos += 4;
			a->type = raw;
		}
		if (pos + 3 > size)
			break;
		len = (size_t)d[pos] | ((size_t)d[pos + 1] << 8);
		flags = d[pos + 2];
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		if (flags & 1) {
			a->pValue = NULL;
			a->ulValueLen = len + ((flags & 2) ? 1 : 0);
		} else {
			/* malloc(0) may be NULL: keep one byte so pValue stays set */
			a->pValue = malloc(len ? len : 1);
			if (!a->pValue)
				break;
			if (len)
				memcpy(a->pValue, d + pos, len);
			a->ulValueLen = len;
		}
		pos += len;
		t->n++;
	}
}

static void release(struct fuzz_template *t)
{
	for (CK_ULONG i = 0; i < t->n; i++)
		free(t->a[i].pValue);
}

static void object_pass(const struct p11_object *o, struct fuzz_template *t)
{
	struct p11_find_template f;

	(void)p11_object_matches(o, t->a, t->n);
	if (p11_find_template_init(&f, t->a, t->n) == CKR_OK) {
		(void)p11_find_template_matches(&f, o);
		p11_find_template_free(&f);
	}
	/* Writes go only to the caller's buffers within ulValueLen. */
	(void)p11_object_get_attributes(o, t->a, t->n);
}

static void create_pass(struct fuzz_template *t)
{
	struct wsop_object_create_req req;
	struct wsop_object answer;
	struct p11_object o;

	if (p11_template_create_request(t->a, t->n, &req) != CKR_OK)
		return;
	memset(&answer, 0, sizeof(answer));
	answer.cls = req.cls;
	answer.attributes = req.attributes;
	if (p11_object_from_wsop_object(&o, &answer) == CKR_OK) {
		object_pass(&o, t);
		p11_object_free(&o);
	}
	wsop_object_create_req_free(&req);
}

static void generate_pass(struct fuzz_template *t)
{
	CK_MECHANISM m = { CKM_AES_KEY_GEN, NULL, 0 };
	struct wsop_key_generate_req req;
	struct wsop_key answer;
	struct p11_object o;

	if (p11_template_generate_request(&m, t->a, t->n, &req) != CKR_OK)
		return;
	memset(&answer, 0, sizeof(answer));
	answer.size = req.size;
	answer.attributes = req.attributes;
	if (p11_object_from_key(&o, &answer) == CKR_OK) {
		object_pass(&o, t);
		p11_object_free(&o);
	}
	wsop_key_generate_req_free(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_template t;

	if (size < 1)
		return 0;
	decode(data + 1, size - 1, &t);
	switch (data[0] % 3) {
	case 0:
		(void)p11_template_check_create(t.a, t.n);
		create_pass(&t);
		break;
	case 1:
		generate_pass(&t);
		break;
	default:
		(void)p11_template_check_find(t.a, t.n);
		break;
	}
	release(&t);
	return 0;
}
