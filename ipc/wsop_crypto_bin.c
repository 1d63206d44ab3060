/* The binary form of the crypto endpoints; see wsop_crypto_bin.h. */
#include "ipc/wsop_crypto_bin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ipc/base64url.h"
#include "ipc/wsop_names.h"

static const char *mechanism_name(enum wsop_mechanism m)
{
	switch (m) {
	case WSOP_MECH_AES_CBC:
		return "AES_CBC";
	case WSOP_MECH_AES_CBC_PAD:
		return "AES_CBC_PAD";
	}
	return NULL;
}

int wsop_crypto_bin_head(const struct wsop_crypto_req *req, struct wsop_crypto_bin_head *head)
{
	const char *mech = mechanism_name(req->mechanism);
	if (mech == NULL || req->data.len > WSOP_CRYPTO_DATA_MAX ||
	    b64url_encode(req->iv, WSOP_IV_LEN, head->iv, sizeof(head->iv)) != 0)
		return -EINVAL;
	head->h[0] = (struct http_header){ WSOP_KEY_HEADER, req->key };
	head->h[1] = (struct http_header){ WSOP_MECHANISM_HEADER, mech };
	head->h[2] = (struct http_header){ WSOP_IV_HEADER, head->iv };
	return 0;
}

bool wsop_crypto_bin_is(const struct http_message *m)
{
	const char *ct = http_header_get(m, "Content-Type");
	return ct != NULL && strcasecmp(ct, WSOP_BIN_CONTENT_TYPE) == 0;
}

static int fail(struct wsop_json_error *err, int rc, const char *why)
{
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		snprintf(err->code, sizeof(err->code), "%s",
		         wsop_error_name(wsop_json_rc_error(rc)));
		snprintf(err->message, sizeof(err->message), "%s", why);
	}
	return rc;
}

int wsop_crypto_bin_decode_head(const struct http_message *m, struct wsop_crypto_req *out,
                                struct wsop_json_error *err)
{
	char group[WSOP_UUID_LEN + 1], key[WSOP_UUID_LEN + 1];

	memset(out, 0, sizeof(*out));
	const char *path = http_header_get(m, WSOP_KEY_HEADER);
	if (path == NULL || strlen(path) > WSOP_KEY_PATH_LEN ||
	    wsop_key_path_parse(path, group, key) != 0)
		return fail(err, WSOP_JSON_EBAD_VALUE, WSOP_KEY_HEADER ": not a key path");
	memcpy(out->key, path, strlen(path) + 1);

	const char *mech = http_header_get(m, WSOP_MECHANISM_HEADER);
	if (mech != NULL && strcmp(mech, "AES_CBC") == 0)
		out->mechanism = WSOP_MECH_AES_CBC;
	else if (mech != NULL && strcmp(mech, "AES_CBC_PAD") == 0)
		out->mechanism = WSOP_MECH_AES_CBC_PAD;
	else
		return fail(err, WSOP_JSON_EBAD_MECHANISM,
		            WSOP_MECHANISM_HEADER ": must be AES_CBC or AES_CBC_PAD");

	const char *iv = http_header_get(m, WSOP_IV_HEADER);
	size_t iv_len = 0;
	if (iv == NULL || strlen(iv) != WSOP_IV_TEXT_LEN ||
	    b64url_decode(iv, WSOP_IV_TEXT_LEN, out->iv, sizeof(out->iv), &iv_len) != 0 ||
	    iv_len != WSOP_IV_LEN)
		return fail(err, WSOP_JSON_EBAD_IV,
		            WSOP_IV_HEADER ": must be 16 bytes in base64url");

	if (m->body_len > WSOP_CRYPTO_DATA_MAX)
		return fail(err, WSOP_JSON_EBAD_DATA_LENGTH, "data: too long");
	return WSOP_JSON_OK;
}

int wsop_crypto_bin_decode(const struct http_message *m, struct wsop_crypto_req *out,
                           struct wsop_json_error *err)
{
	int rc = wsop_crypto_bin_decode_head(m, out, err);

	if (rc != WSOP_JSON_OK)
		return rc;
	if (m->body_len > 0) {
		out->data.data = malloc(m->body_len);
		if (out->data.data == NULL)
			return fail(err, WSOP_JSON_ENOMEM, "out of memory");
		memcpy(out->data.data, m->body, m->body_len);
		out->data.len = m->body_len;
	}
	return WSOP_JSON_OK;
}
