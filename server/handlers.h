/*
 * The endpoint handlers of ipc/README.md, one per method and path, and the
 * helpers they share.
 *
 * Contract of a handler: params[] holds the ids of the path in order (each
 * already checked for its shape by the router); the handler answers
 * through resp (reply.h), never fails silently, and never logs a secret or
 * a body. Checks run in one order everywhere: the resource named by the
 * path (404), then the body (400), then activation (403); before all of
 * them, the router answers a known Idempotency-Key of a mutating request
 * with its recorded answer.
 */
#ifndef WSOPD_HANDLERS_H
#define WSOPD_HANDLERS_H

#include <stdbool.h>

#include "ipc/wsop_json.h"
#include "server/app.h"
#include "server/request.h"

#define HANDLER_PARAM_MAX 2

typedef void handler_fn(struct app *app, const struct wsop_request *req,
                        const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp);

handler_fn handle_health;
handler_fn handle_softcard_list;
handler_fn handle_softcard_create;
handler_fn handle_softcard_get;
handler_fn handle_softcard_delete;
handler_fn handle_softcard_activate;
handler_fn handle_softcard_deactivate;
handler_fn handle_group_list;
handler_fn handle_group_create;
handler_fn handle_key_list;
handler_fn handle_key_generate;
handler_fn handle_key_get;
handler_fn handle_key_delete;
handler_fn handle_object_list;
handler_fn handle_object_create;
handler_fn handle_object_get;
handler_fn handle_object_delete;
handler_fn handle_encrypt;
handler_fn handle_decrypt;
handler_fn handle_random;

/* ---- shared helpers (handlers_common.c) ---- */

/* The request body as decoder input. */
const char *body_text(const struct wsop_request *req, size_t *len);

/* For a decoder's result: false when rc is 0, else answers with the
 * decoder's code and message and returns true. */
bool decode_failed(int rc, const struct wsop_json_error *err, struct wsop_response *resp);

/* Answers 500 internal for an unexpected store result and logs it. */
void reply_store_failure(struct wsop_response *resp, int store_rc, const char *what);

/* For a listing whose store call returned store_rc: *items = count zeroed
 * answers of size bytes (NULL for none). false, with the store's failure
 * (reply_store_failure, what) or 500 internal answered, when store_rc is
 * not STORE_OK or memory runs out. */
bool list_answers(int store_rc, const char *what, size_t count, size_t size, void **items,
                  struct wsop_response *resp);

/* The softcard named by id, or answers 404 not_found / 500 and returns false. */
bool load_softcard(struct app *app, const char *id, struct store_softcard *out,
                   struct wsop_response *resp);
/* The group named by id, or answers 404 not_found / 500 and returns false. */
bool load_group(struct app *app, const char *id, struct store_group *out,
                struct wsop_response *resp);
/* The request's activation token (X-WSOP-Activation), or NULL. */
const char *request_activation(const struct wsop_request *req);

/* True when the request carries a valid activation of softcard_id for
 * this client (and then, when kek is not NULL, the softcard's KEK is
 * copied there for the caller to wipe); else answers 403 not_active (500
 * or 503 when the check itself could not be made) and returns false. */
bool require_active(struct app *app, const struct wsop_request *req, const char *softcard_id,
                    struct keywrap_kek *kek, struct wsop_response *resp);

/* Seconds the softcard stays locked by the login lockout at `now`, or 0
 * (no limit, fewer failures than the limit, or the lockout is over). */
int64_t softcard_locked_for(const struct app *app, const struct store_softcard *row, int64_t now);

/* Store rows to answer structs; the answer may point into the row's
 * memory (keep the row alive while encoding). */
void softcard_answer(struct app *app, const struct wsop_request *req,
                     const struct store_softcard *row, struct wsop_softcard *out);
void key_answer(const struct store_key *row, struct wsop_key *out);
void object_answer(const struct store_object *row, struct wsop_object *out);

/* Encodes and answers one softcard with `status`. */
void reply_softcard(struct app *app, const struct wsop_request *req,
                    const struct store_softcard *row, int status, struct wsop_response *resp);

#endif
