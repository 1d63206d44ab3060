/* Sealing and opening activation tokens; see activation_token.h. */
#include "server/activation_token.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ipc/base64url.h"

#define AAD_LEN (1 + ACT_TOKEN_FP_LEN + KEYWRAP_SOFTCARD_ID_LEN)

_Static_assert(ACT_TOKEN_TEXT_LEN == 222, "token text length");

static bool softcard_id_ok(const char *s)
{
	if (s == NULL || strnlen(s, KEYWRAP_SOFTCARD_ID_LEN + 1) != KEYWRAP_SOFTCARD_ID_LEN)
		return false;
	for (size_t i = 0; i < KEYWRAP_SOFTCARD_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static void put_be64(uint8_t *p, int64_t v)
{
	uint64_t u = (uint64_t)v;

	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)u;
		u >>= 8;
	}
}

static int64_t get_be64(const uint8_t *p)
{
	uint64_t u = 0;

	for (int i = 0; i < 8; i++)
		u = u << 8 | p[i];
	return (int64_t)u;
}

static void make_aad(uint8_t aad[AAD_LEN], const uint8_t *client_fp, const char *softcard_id)
{
	aad[0] = ACT_TOKEN_VERSION;
	memcpy(aad + 1, client_fp, ACT_TOKEN_FP_LEN);
	memcpy(aad + 1 + ACT_TOKEN_FP_LEN, softcard_id, KEYWRAP_SOFTCARD_ID_LEN);
}

static void encode_claims(const struct act_claims *c, uint8_t p[ACT_TOKEN_PLAIN_LEN])
{
	size_t o = 0;

	p[o++] = ACT_TOKEN_VERSION;
	memcpy(p + o, c->id, ACT_TOKEN_ID_LEN);
	o += ACT_TOKEN_ID_LEN;
	memcpy(p + o, c->softcard_id, KEYWRAP_SOFTCARD_ID_LEN);
	o += KEYWRAP_SOFTCARD_ID_LEN;
	memcpy(p + o, c->client_fp, ACT_TOKEN_FP_LEN);
	o += ACT_TOKEN_FP_LEN;
	put_be64(p + o, c->issued);
	o += 8;
	put_be64(p + o, c->expires);
	o += 8;
	memcpy(p + o, c->kek.key, KEYWRAP_KEK_LEN);
}

static void decode_claims(const uint8_t p[ACT_TOKEN_PLAIN_LEN], struct act_claims *c)
{
	size_t o = 1;

	memcpy(c->id, p + o, ACT_TOKEN_ID_LEN);
	o += ACT_TOKEN_ID_LEN;
	memcpy(c->softcard_id, p + o, KEYWRAP_SOFTCARD_ID_LEN);
	c->softcard_id[KEYWRAP_SOFTCARD_ID_LEN] = '\0';
	o += KEYWRAP_SOFTCARD_ID_LEN;
	memcpy(c->client_fp, p + o, ACT_TOKEN_FP_LEN);
	o += ACT_TOKEN_FP_LEN;
	c->issued = get_be64(p + o);
	o += 8;
	c->expires = get_be64(p + o);
	o += 8;
	memcpy(c->kek.key, p + o, KEYWRAP_KEK_LEN);
}

int act_token_key_derive(const struct keywrap_master *master, struct act_token_key *out)
{
	if (out == NULL)
		return ACT_TOKEN_ERR;
	return keywrap_derive_subkey(master, ACT_TOKEN_LABEL, out->key) == KEYWRAP_OK
	           ? ACT_TOKEN_OK
	           : ACT_TOKEN_ERR;
}

void act_token_key_wipe(struct act_token_key *key)
{
	if (key != NULL)
		OPENSSL_cleanse(key, sizeof(*key));
}

void act_claims_wipe(struct act_claims *claims)
{
	if (claims != NULL)
		OPENSSL_cleanse(claims, sizeof(*claims));
}

int act_token_new_id(uint8_t id[ACT_TOKEN_ID_LEN])
{
	return RAND_bytes(id, ACT_TOKEN_ID_LEN) == 1 ? ACT_TOKEN_OK : ACT_TOKEN_ERR;
}

int act_token_seal(const struct act_token_key *key, const struct act_claims *claims, char *text,
                   size_t cap)
{
	uint8_t plain[ACT_TOKEN_PLAIN_LEN];
	uint8_t sealed[ACT_TOKEN_SEALED_LEN];
	uint8_t aad[AAD_LEN];
	int rc = ACT_TOKEN_ERR;

	if (key == NULL || claims == NULL || text == NULL || cap < ACT_TOKEN_TEXT_LEN + 1 ||
	    !softcard_id_ok(claims->softcard_id))
		return ACT_TOKEN_ERR;
	sealed[0] = ACT_TOKEN_VERSION;
	if (RAND_bytes(sealed + 1, KEYWRAP_NONCE_LEN) != 1)
		return ACT_TOKEN_ERR;
	encode_claims(claims, plain);
	make_aad(aad, claims->client_fp, claims->softcard_id);
	if (keywrap_gcm(true, key->key, sealed + 1, aad, sizeof(aad), NULL, 0, plain, sizeof(plain),
	                sealed + 1 + KEYWRAP_NONCE_LEN,
	                sealed + 1 + KEYWRAP_NONCE_LEN + ACT_TOKEN_PLAIN_LEN) == KEYWRAP_OK &&
	    b64url_encode(sealed, sizeof(sealed), text, cap) == 0)
		rc = ACT_TOKEN_OK;
	OPENSSL_cleanse(plain, sizeof(plain));
	OPENSSL_cleanse(sealed, sizeof(sealed));
	return rc;
}

int act_token_open(const struct act_token_key *key, const char *text, size_t len,
                   const char *softcard_id, const uint8_t client_fp[ACT_TOKEN_FP_LEN], int64_t now,
                   struct act_claims *out)
{
	uint8_t sealed[ACT_TOKEN_SEALED_LEN];
	uint8_t plain[ACT_TOKEN_PLAIN_LEN];
	uint8_t tag[KEYWRAP_TAG_LEN];
	uint8_t aad[AAD_LEN];
	size_t n = 0;
	int rc;

	if (out == NULL)
		return ACT_TOKEN_ERR;
	memset(out, 0, sizeof(*out));
	if (key == NULL || client_fp == NULL || !softcard_id_ok(softcard_id))
		return ACT_TOKEN_ERR;
	/* Length first: nothing of another length is decoded at all. */
	if (text == NULL || len != ACT_TOKEN_TEXT_LEN ||
	    b64url_decode(text, len, sealed, sizeof(sealed), &n) != 0 || n != sizeof(sealed) ||
	    sealed[0] != ACT_TOKEN_VERSION)
		return ACT_TOKEN_MALFORMED;
	make_aad(aad, client_fp, softcard_id);
	memcpy(tag, sealed + 1 + KEYWRAP_NONCE_LEN + ACT_TOKEN_PLAIN_LEN, sizeof(tag));
	rc = keywrap_gcm(false, key->key, sealed + 1, aad, sizeof(aad), NULL, 0,
	                 sealed + 1 + KEYWRAP_NONCE_LEN, ACT_TOKEN_PLAIN_LEN, plain, tag);
	if (rc != KEYWRAP_OK) {
		rc = rc == KEYWRAP_ERR_TAMPERED ? ACT_TOKEN_FORGED : ACT_TOKEN_ERR;
		goto out;
	}
	decode_claims(plain, out);
	/* The aad already binds these; the claims agreeing is belt and braces
	 * against a token sealed by a buggy issuer. */
	if (plain[0] != ACT_TOKEN_VERSION || strcmp(out->softcard_id, softcard_id) != 0 ||
	    CRYPTO_memcmp(out->client_fp, client_fp, ACT_TOKEN_FP_LEN) != 0) {
		rc = ACT_TOKEN_FORGED;
		goto out;
	}
	rc = now >= out->expires ? ACT_TOKEN_EXPIRED : ACT_TOKEN_OK;
out:
	OPENSSL_cleanse(plain, sizeof(plain));
	OPENSSL_cleanse(sealed, sizeof(sealed));
	if (rc != ACT_TOKEN_OK)
		act_claims_wipe(out);
	return rc;
}

const char *act_token_result_name(int result)
{
	switch (result) {
	case ACT_TOKEN_OK:
		return "ok";
	case ACT_TOKEN_MALFORMED:
		return "malformed token";
	case ACT_TOKEN_FORGED:
		return "token fails authentication (altered, other server, client or softcard)";
	case ACT_TOKEN_EXPIRED:
		return "token expired";
	default:
		return "token processing failed";
	}
}
