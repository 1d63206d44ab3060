/*
 * The typed WSOP REST client (ipc/README.md), over any struct
 * wsop_transport. Used by the tools, the end-to-end tests and the PKCS #11
 * library. Each endpoint function makes the request of its row of
 * ipc/wsop_endpoints.h (the table wsopd routes by).
 *
 * Contract:
 *  - One request at a time per client; a client is used by one thread at a
 *    time. The client never reconnects: when a call fails at the transport
 *    or HTTP level the client is marked broken (wsop_client_broken) and every
 *    later call answers -ENOTCONN until wsop_client_set_transport gives it a
 *    new connection. A "Connection: close" answer does the same after the
 *    call returns.
 *  - Results of the typed calls (*out is zeroed first, so after a non-zero
 *    result there is nothing to free):
 *      0             the documented success status arrived and its body
 *                    decoded into *out (the caller frees it with the
 *                    matching wsop_X_free);
 *      > 0           the HTTP status of an error answer (>= 300); the
 *                    decoded {"error":…} is in wsop_client_error(); when the
 *                    body is not a WSOP error, code is "" and message says so;
 *      < 0           a negative errno: -EINVAL bad argument (ids are checked
 *                    before anything is sent, so no id can reach the path
 *                    unescaped), -ENOTCONN broken client, -ETIMEDOUT no whole
 *                    answer within the client's timeout, -ECONNRESET end of
 *                    stream before a whole answer, -EBADMSG / -E2BIG /
 *                    -EMSGSIZE / -ENOTSUP malformed or oversized HTTP
 *                    (ipc/http.h), -EPROTO a success status other than the
 *                    documented one or an answer body that does not decode
 *                    (the decoder's verdict is in wsop_client_error()),
 *                    -ENOMEM, or the transport's own errno.
 *  - Mutating calls (POST, DELETE on km/v1) carry an Idempotency-Key: the
 *    caller's (must be wsop_idempotency_key_valid) or, when NULL, a fresh
 *    random one. A caller that retries passes the same key again. Encrypt
 *    and decrypt carry none: they change nothing, and a key would make the
 *    server keep their answer.
 *  - Activation: a successful wsop_softcard_activate makes the answer's
 *    token the client's activation (also left in out->activation), sent as
 *    X-WSOP-Activation on every later request until
 *    wsop_client_set_activation changes it; a successful
 *    wsop_softcard_deactivate sends it, which ends that activation on the
 *    server, and clears it. One client carries one token at a time: a
 *    caller with several softcards sets the right one before each call.
 *  - Passphrases and crypto data are wiped (OPENSSL_cleanse) from every
 *    buffer the client lets go of; they are never logged.
 */
#ifndef PKCS11WSOP_LIB_WSOP_CLIENT_H
#define PKCS11WSOP_LIB_WSOP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/http.h"
#include "ipc/wsop_json.h"
#include "ipc/wsop_names.h"
#include "lib/wsop_transport.h"

#define WSOP_CLIENT_HOST_MAX   255
#define WSOP_CLIENT_TIMEOUT_MS 30000
/* Generated Idempotency-Key: 24 random bytes in base64url. */
#define WSOP_IDEMPOTENCY_KEY_LEN 32

struct wsop_client {
	/* all private; read through the functions below */
	struct wsop_transport transport;
	char host[WSOP_CLIENT_HOST_MAX + 1];
	int timeout_ms;
	bool broken;
	int last_status;
	struct wsop_json_error error;
	char activation[WSOP_ACTIVATION_MAX + 1]; /* "" when none; a secret */
	uint8_t *rbuf;                            /* received bytes not yet consumed */
	size_t rlen, rcap;
};

/* Sets up c on transport t; host goes in the Host header (no CR/LF, 1..255
 * bytes). timeout_ms bounds each whole answer (the wait starts over when
 * the transport sent the request again, -ERESTART); <= 0 means
 * WSOP_CLIENT_TIMEOUT_MS. Returns 0 or -EINVAL. */
int wsop_client_init(struct wsop_client *c, const struct wsop_transport *t, const char *host,
                     int timeout_ms);
/* Frees what c holds (not the transport's ctx). NULL is fine. */
void wsop_client_free(struct wsop_client *c);
/* Swaps in a new connection and clears the broken state and any buffered
 * bytes of the old one. */
void wsop_client_set_transport(struct wsop_client *c, const struct wsop_transport *t);
bool wsop_client_broken(const struct wsop_client *c);

/* Sets the activation token sent with every request (NULL or "" sends
 * none). The previous one is wiped. -EINVAL when token is not
 * wsop_activation_token_valid (nothing changes then). */
int wsop_client_set_activation(struct wsop_client *c, const char *token);
/* The same for a token that passed wsop_activation_token_valid when the
 * caller stored it (NULL or "" too), copied without a second check: the
 * library sets its login's token before every request. c is not NULL. */
void wsop_client_set_valid_activation(struct wsop_client *c, const char *token);
/* The token the client sends, or NULL when none. */
const char *wsop_client_activation(const struct wsop_client *c);

/* The error body of the last call that answered >= 300 (or the decoder's
 * verdict after -EPROTO); code "" when none. */
const struct wsop_json_error *wsop_client_error(const struct wsop_client *c);
/* True when the last call ended with an error answer of code e. */
bool wsop_client_error_is(const struct wsop_client *c, enum wsop_error e);
/* The HTTP status of the last answer, 0 when none arrived. */
int wsop_client_last_status(const struct wsop_client *c);

/* Writes WSOP_IDEMPOTENCY_KEY_LEN random characters of [A-Za-z0-9_-] and a
 * NUL. Returns 0 or -EIO when the random generator fails. */
int wsop_idempotency_key_new(char out[WSOP_IDEMPOTENCY_KEY_LEN + 1]);

/* One raw exchange: sends method path with json_body[0..len) (Content-Type
 * application/json when len > 0) and the Idempotency-Key header when
 * idempotency_key is not NULL (no key is generated here), then reads one
 * whole answer into *answer (which must have been http_message_init'ed; it
 * is cleared first). Returns 0 for any status (see answer->status), or a
 * negative errno as above. */
int wsop_call(struct wsop_client *c, const char *method, const char *path, const char *json_body,
              size_t len, const char *idempotency_key, struct http_message *answer);
/* The same for a binary body: POST path with body[0..len) as
 * application/octet-stream, the given headers (at most
 * WSOP_CRYPTO_BIN_HEADERS) and no Idempotency-Key; the answer may be
 * binary or JSON. */
int wsop_call_binary(struct wsop_client *c, const char *path, const struct http_header *headers,
                     size_t n_headers, const uint8_t *body, size_t len,
                     struct http_message *answer);

/* GET /health */
int wsop_health(struct wsop_client *c, struct wsop_health *out);

/* Softcards. passphrase is passphrase[0..passphrase_len), not NUL-ended. */
int wsop_softcard_create(struct wsop_client *c, const char *name, const char *passphrase,
                         size_t passphrase_len, const char *idempotency_key,
                         struct wsop_softcard *out);
int wsop_softcard_list(struct wsop_client *c, struct wsop_softcard_list *out);
int wsop_softcard_get(struct wsop_client *c, const char *softcard_id, struct wsop_softcard *out);
int wsop_softcard_delete(struct wsop_client *c, const char *softcard_id,
                         const char *idempotency_key);
int wsop_softcard_activate(struct wsop_client *c, const char *softcard_id, const char *passphrase,
                           size_t passphrase_len, const char *idempotency_key,
                           struct wsop_softcard *out);
int wsop_softcard_deactivate(struct wsop_client *c, const char *softcard_id,
                             const char *idempotency_key, struct wsop_softcard *out);

/* Key groups. softcard_id may be NULL in wsop_group_list: all groups. */
int wsop_group_create(struct wsop_client *c, const char *name, const char *softcard_id,
                      const char *idempotency_key, struct wsop_group *out);
/* The first page in the form without limit or after (ipc/README.md,
 * "Paging"); out->next is not "" when more groups follow. */
int wsop_group_list(struct wsop_client *c, const char *softcard_id, struct wsop_group_list *out);
/* One page, as wsop_key_list_page. */
int wsop_group_list_page(struct wsop_client *c, const char *softcard_id, const char *after,
                         size_t limit, struct wsop_group_list *out);

/* AES keys. */
int wsop_key_generate(struct wsop_client *c, const char *group_id,
                      const struct wsop_key_generate_req *req, const char *idempotency_key,
                      struct wsop_key *out);
/* The first page in the form without a query (ipc/README.md, "Paging"):
 * out->next is not "" when more keys follow. */
int wsop_key_list(struct wsop_client *c, const char *group_id, struct wsop_key_list *out);
/* One page: the keys after the id `after` (NULL or "": from the first) in
 * id order, at most limit (0 or over WSOP_PAGE_MAX_ITEMS: the server's
 * maximum); out->next is the `after` of the next page, "" on the last. */
int wsop_key_list_page(struct wsop_client *c, const char *group_id, const char *after, size_t limit,
                       struct wsop_key_list *out);
int wsop_key_get(struct wsop_client *c, const char *group_id, const char *key_id,
                 struct wsop_key *out);
int wsop_key_delete(struct wsop_client *c, const char *group_id, const char *key_id,
                    const char *idempotency_key);

/* Data objects and certificates. */
int wsop_object_create(struct wsop_client *c, const char *softcard_id,
                       const struct wsop_object_create_req *req, const char *idempotency_key,
                       struct wsop_object *out);
/* The first page in the form without a query: values included; out->next
 * is not "" when more objects follow. */
int wsop_object_list(struct wsop_client *c, const char *softcard_id, struct wsop_object_list *out);
/* One page, as wsop_key_list_page; its objects come without values
 * (value_omitted; wsop_object_get fetches one whole). */
int wsop_object_list_page(struct wsop_client *c, const char *softcard_id, const char *after,
                          size_t limit, struct wsop_object_list *out);
int wsop_object_get(struct wsop_client *c, const char *softcard_id, const char *object_id,
                    struct wsop_object *out);
int wsop_object_delete(struct wsop_client *c, const char *softcard_id, const char *object_id,
                       const char *idempotency_key);

/* POST /crypto/v1/encrypt and /crypto/v1/decrypt; wsop_crypto_answer_free
 * wipes out->data. Sent in the binary form (ipc/wsop_crypto_bin.h); once a
 * server refuses that form (400 bad_request or 415), this process sends
 * the JSON form from then on, the refused request included. */
int wsop_encrypt(struct wsop_client *c, const struct wsop_crypto_req *req,
                 struct wsop_crypto_answer *out);
int wsop_decrypt(struct wsop_client *c, const struct wsop_crypto_req *req,
                 struct wsop_crypto_answer *out);

/* POST /crypto/v1/random: length (1..WSOP_RANDOM_MAX) bytes from the
 * server's generator in out->data (exactly length, else -EPROTO);
 * wsop_crypto_answer_free wipes them. */
int wsop_random(struct wsop_client *c, size_t length, struct wsop_crypto_answer *out);

#endif
