/* POST /crypto/v1/encrypt and /crypto/v1/decrypt with AES-CBC(-PAD), in
 * the JSON form or the binary one (ipc/wsop_crypto_bin.h): the answer takes
 * the request's form, errors are always JSON.
 *
 * A key whose softcard is active is served from the activation cache, so
 * the common case never touches the database; a cache miss reads the
 * wrapped key once, unwraps it with the cached KEK and caches it. */
#include "server/handlers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "conf/log.h"
#include "ipc/wsop_crypto_bin.h"
#include "server/aes_cbc.h"
#include "server/reply.h"

/* Fills *ck from the database and caches it; false when resp answers. */
static bool load_key(struct app *app, const struct wsop_request *req, const char *group_id,
                     const char *key_id, struct cached_key *ck, struct wsop_response *resp)
{
	uint64_t generation = activation_generation(app->act);
	uint8_t wrapped[STORE_WRAPPED_MAX];
	size_t wrapped_len = 0;
	struct keywrap_kek kek;
	struct store_key row;
	int r;

	r = store_key_get(app->store, group_id, key_id, &row, wrapped, sizeof(wrapped),
	                  &wrapped_len);
	if (r == STORE_NOT_FOUND) {
		reply_error(resp, WSOP_E_UNKNOWN_KEY, "no key at that path");
		return false;
	}
	if (r != STORE_OK) {
		reply_store_failure(resp, r, "reading a key");
		return false;
	}
	if (!require_active(app, req, row.softcard_id, &kek, resp))
		return false;
	memset(ck, 0, sizeof(*ck));
	r = keywrap_unwrap(&kek, row.softcard_id, row.id, wrapped, wrapped_len, ck->key,
	                   sizeof(ck->key), &ck->key_len);
	keywrap_kek_wipe(&kek);
	if (r != KEYWRAP_OK) {
		wlog(WLOG_ERROR, "key %s/%s cannot be unwrapped: %s", group_id, key_id,
		     keywrap_result_name(r));
		reply_error(resp, WSOP_E_INTERNAL, "the stored key cannot be unwrapped");
		return false;
	}
	memcpy(ck->softcard_id, row.softcard_id, sizeof(ck->softcard_id));
	ck->encrypt = row.encrypt;
	ck->decrypt = row.decrypt;
	if (activation_key_insert(app->act, generation, group_id, key_id, ck) != 0)
		wlog(WLOG_WARNING, "key %s not cached: out of memory", key_id);
	return true;
}

static bool resolve_key(struct app *app, const struct wsop_request *req, const char *path,
                        struct cached_key *ck, struct wsop_response *resp)
{
	char group_id[WSOP_UUID_LEN + 1];
	char key_id[WSOP_UUID_LEN + 1];
	int r;

	if (wsop_key_path_parse(path, group_id, key_id) != 0) {
		reply_error(resp, WSOP_E_UNKNOWN_KEY, "no key at that path");
		return false;
	}
	r = activation_key_lookup(app->act, group_id, key_id, ck);
	if (r != 0)
		return load_key(app, req, group_id, key_id, ck, resp);
	/* Cached: the request must still carry an activation of its softcard. */
	if (require_active(app, req, ck->softcard_id, NULL, resp))
		return true;
	OPENSSL_cleanse(ck, sizeof(*ck));
	return false;
}

static void reply_cipher_error(int r, struct wsop_response *resp)
{
	switch (r) {
	case AESCBC_BAD_DATA_LEN:
		reply_error(resp, WSOP_E_BAD_DATA_LENGTH,
		            "data length is not allowed for this mechanism");
		return;
	case AESCBC_BAD_PADDING:
		reply_error(resp, WSOP_E_BAD_PADDING, "the padding of the data is wrong");
		return;
	case AESCBC_BAD_IV_LEN:
		reply_error(resp, WSOP_E_BAD_IV, "the IV must be 16 bytes");
		return;
	default:
		wlog(WLOG_ERROR, "AES-CBC failed: %s", aescbc_result_name(r));
		reply_error(resp, WSOP_E_INTERNAL, "cipher failure");
		return;
	}
}

static void run(struct app *app, const struct wsop_request *req, bool encrypt,
                struct wsop_response *resp)
{
	struct wsop_crypto_req in;
	struct wsop_crypto_answer out = { 0 };
	struct wsop_json_error err;
	struct cached_key ck;
	enum aescbc_mode mode;
	size_t out_max = 0;
	size_t len;
	const char *text = body_text(req, &len);
	char *answer = NULL;
	int r;

	memset(&ck, 0, sizeof(ck));
	bool binary = wsop_crypto_bin_is(req->http);
	/* The binary form's data is the body, read where it is (the message
	 * wipes it); the JSON form's is decoded into in.data. */
	if (binary)
		r = wsop_crypto_bin_decode_head(req->http, &in, &err);
	else
		r = wsop_json_decode_crypto_req(text, len, &in, &err);
	if (decode_failed(r, &err, resp))
		return;
	const uint8_t *data = binary ? req->http->body : in.data.data;
	size_t data_len = binary ? req->http->body_len : in.data.len;
	if (!resolve_key(app, req, in.key, &ck, resp))
		goto done;
	if (!(encrypt ? ck.encrypt : ck.decrypt)) {
		reply_error(resp, WSOP_E_FORBIDDEN_USE,
		            encrypt ? "the key may not encrypt" : "the key may not decrypt");
		goto done;
	}
	mode = in.mechanism == WSOP_MECH_AES_CBC_PAD ? AESCBC_MODE_CBC_PAD : AESCBC_MODE_CBC;
	out_max = aescbc_out_max(mode, encrypt, data_len);
	/* Never a NULL output buffer, even for an empty answer. */
	out.data.data = malloc(out_max > 0 ? out_max : 1);
	if (out.data.data == NULL) {
		reply_error(resp, WSOP_E_INTERNAL, "out of memory");
		goto done;
	}
	if (encrypt)
		r = aescbc_encrypt(mode, ck.key, ck.key_len, in.iv, sizeof(in.iv), data, data_len,
		                   out.data.data, out_max, &out.data.len);
	else
		r = aescbc_decrypt(mode, ck.key, ck.key_len, in.iv, sizeof(in.iv), data, data_len,
		                   out.data.data, out_max, &out.data.len);
	if (r != AESCBC_OK) {
		reply_cipher_error(r, resp);
		goto done;
	}
	if (binary) {
		/* The buffer goes to the answer, which wipes it when sent. */
		reply_binary(resp, out.data.data, out.data.len);
		out.data.data = NULL;
		goto done;
	}
	r = wsop_json_encode_crypto_answer(&out, &answer, &len);
	reply_json(resp, 200, r, answer, len);
done:
	/* Plaintext is on one side or the other: wipe both. */
	if (out.data.data != NULL)
		OPENSSL_clear_free(out.data.data, out_max > 0 ? out_max : 1);
	wsop_crypto_req_free(&in); /* wipes the data */
	OPENSSL_cleanse(&ck, sizeof(ck));
}

void handle_encrypt(struct app *app, const struct wsop_request *req,
                    const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	run(app, req, true, resp);
}

void handle_decrypt(struct app *app, const struct wsop_request *req,
                    const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	run(app, req, false, resp);
}
