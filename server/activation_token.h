/*
 * The activation token: what wsopd hands out on activate and the client
 * sends back (X-WSOP-Activation) on every request that needs the softcard
 * active. It lets one C_Login be one activation, independent of every
 * other process using the same client certificate, and lets a restarted
 * wsopd serve a logged-in application without the passphrase.
 *
 *   token key  HKDF-SHA256(master key, "wsopd activation token v1")
 *   sealed     version(1) || nonce(12) || AES-256-GCM(claims) || tag(16)
 *   aad        version(1) || client certificate SHA-256 || softcard id (40 hex)
 *   claims     version(1) || activation id(16) || softcard id(40 hex) ||
 *              client fp(32) || issued(8, BE) || expires(8, BE) || KEK(32)
 *   text       base64url of sealed, unpadded (ACT_TOKEN_TEXT_LEN chars)
 *
 * The KEK inside is why a token is sealed, not only signed: it is the
 * softcard's key-encryption key, which a restarted server needs to use the
 * softcard's keys again. Without the master key the token reveals nothing
 * and cannot be forged or altered; it is accepted only over a TLS
 * connection whose client certificate it names, for the softcard it names,
 * until its absolute expiry.
 *
 * Contract: nothing here logs or keeps state; every secret copy made
 * inside is cleansed; callers wipe claims with act_claims_wipe and the key
 * with act_token_key_wipe.
 */
#ifndef WSOPD_ACTIVATION_TOKEN_H
#define WSOPD_ACTIVATION_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "server/keywrap.h"

#define ACT_TOKEN_VERSION 1
#define ACT_TOKEN_ID_LEN  16
#define ACT_TOKEN_FP_LEN  32
#define ACT_TOKEN_LABEL   "wsopd activation token v1"
#define ACT_TOKEN_PLAIN_LEN                                                                        \
	(1 + ACT_TOKEN_ID_LEN + KEYWRAP_SOFTCARD_ID_LEN + ACT_TOKEN_FP_LEN + 8 + 8 +               \
	 KEYWRAP_KEK_LEN)
#define ACT_TOKEN_SEALED_LEN (1 + KEYWRAP_NONCE_LEN + ACT_TOKEN_PLAIN_LEN + KEYWRAP_TAG_LEN)
/* base64url without padding of ACT_TOKEN_SEALED_LEN bytes. */
#define ACT_TOKEN_TEXT_LEN ((ACT_TOKEN_SEALED_LEN / 3) * 4 + (ACT_TOKEN_SEALED_LEN % 3 + 1) % 4)

enum act_token_result {
	ACT_TOKEN_OK = 0,
	ACT_TOKEN_MALFORMED = -1, /* wrong length, alphabet, version */
	ACT_TOKEN_FORGED = -2,    /* tag fails: altered, other master key, other client or
	                             softcard, or claims that contradict the aad */
	ACT_TOKEN_EXPIRED = -3,   /* now >= expires */
	ACT_TOKEN_ERR = -4,       /* bad argument, OpenSSL or RNG failure, buffer too small */
};

struct act_token_key {
	uint8_t key[KEYWRAP_KEK_LEN];
};

struct act_claims {
	uint8_t id[ACT_TOKEN_ID_LEN];
	char softcard_id[KEYWRAP_SOFTCARD_ID_LEN + 1];
	uint8_t client_fp[ACT_TOKEN_FP_LEN];
	int64_t issued;  /* seconds since the epoch */
	int64_t expires; /* seconds since the epoch, absolute */
	struct keywrap_kek kek;
};

int act_token_key_derive(const struct keywrap_master *master, struct act_token_key *out);
void act_token_key_wipe(struct act_token_key *key);
void act_claims_wipe(struct act_claims *claims);

/* Seals claims (all fields set by the caller, id drawn with
 * act_token_new_id) into text (cap >= ACT_TOKEN_TEXT_LEN + 1, NUL-ended). */
int act_token_new_id(uint8_t id[ACT_TOKEN_ID_LEN]);
int act_token_seal(const struct act_token_key *key, const struct act_claims *claims, char *text,
                   size_t cap);

/* Opens text[0..len) for a request about softcard_id over a connection
 * whose client certificate hashes to client_fp, at time now. On
 * ACT_TOKEN_OK *out holds the claims (wipe them); on any other result
 * *out is zeroed. */
int act_token_open(const struct act_token_key *key, const char *text, size_t len,
                   const char *softcard_id, const uint8_t client_fp[ACT_TOKEN_FP_LEN], int64_t now,
                   struct act_claims *out);

const char *act_token_result_name(int result);

#endif
