/*
 * The binary form of POST /crypto/v1/encrypt and /crypto/v1/decrypt: the
 * same request as the JSON one (struct wsop_crypto_req), with the data as
 * the raw body and the rest in headers, and a raw answer. Used by the
 * library (encode) and wsopd (decode) and the fuzzers; ipc/README.md has
 * the contract.
 *
 *  - Request: Content-Type: application/octet-stream, X-WSOP-Key: the key
 *    path, X-WSOP-Mechanism: AES_CBC or AES_CBC_PAD, X-WSOP-IV: the IV in
 *    unpadded base64url (22 characters); the body is the data,
 *    0..WSOP_CRYPTO_DATA_MAX bytes.
 *  - Answer 200: Content-Type: application/octet-stream, the body is the
 *    result. Error answers are the JSON ones.
 *  - The decoder checks in the JSON decoder's order and answers its codes:
 *    key absent or not of wsop_key_path_parse shape (EBAD_VALUE), mechanism
 *    absent or another (EBAD_MECHANISM), IV absent, not base64url or not 16
 *    bytes (EBAD_IV), data over WSOP_CRYPTO_DATA_MAX (EBAD_DATA_LENGTH),
 *    before any allocation. The data is copied: out is freed with
 *    wsop_crypto_req_free().
 */
#ifndef PKCS11WSOP_IPC_WSOP_CRYPTO_BIN_H
#define PKCS11WSOP_IPC_WSOP_CRYPTO_BIN_H

#include <stdbool.h>

#include "ipc/http.h"
#include "ipc/wsop_json.h"

#define WSOP_BIN_CONTENT_TYPE   "application/octet-stream"
#define WSOP_KEY_HEADER         "X-WSOP-Key"
#define WSOP_MECHANISM_HEADER   "X-WSOP-Mechanism"
#define WSOP_IV_HEADER          "X-WSOP-IV"
#define WSOP_CRYPTO_BIN_HEADERS 3
#define WSOP_IV_TEXT_LEN        22 /* unpadded base64url of 16 bytes */

/* Headers of a request; they point into req and into this struct. */
struct wsop_crypto_bin_head {
	char iv[WSOP_IV_TEXT_LEN + 1];
	struct http_header h[WSOP_CRYPTO_BIN_HEADERS];
};

/* Fills head from req (its key, mechanism and IV); the body to send is
 * req->data. Returns 0, or -EINVAL for a mechanism outside the enum or
 * data over WSOP_CRYPTO_DATA_MAX. head borrows req->key: keep req alive. */
int wsop_crypto_bin_head(const struct wsop_crypto_req *req, struct wsop_crypto_bin_head *head);

/* Whether a message's Content-Type is application/octet-stream (case
 * does not matter; no parameters). */
bool wsop_crypto_bin_is(const struct http_message *m);

/* Decodes a binary request (see above); a wsop_json_rc. */
int wsop_crypto_bin_decode(const struct http_message *m, struct wsop_crypto_req *out,
                           struct wsop_json_error *err);

/* The same checks and answers, but out->data is left empty: the data is
 * m->body (m->body_len bytes), which the caller reads in place (a server
 * saves a copy of a large body). */
int wsop_crypto_bin_decode_head(const struct http_message *m, struct wsop_crypto_req *out,
                                struct wsop_json_error *err);

#endif
