/*
 * Idempotent mutations: the store transaction around a mutating handler.
 *
 * A mutating handler (one that changes the database) does:
 *
 *     if (txn_begin(app, req, resp))
 *             return;                  // replay, conflict or store failure
 *     ... mutate, then build the answer in resp ...
 *     txn_commit(app, req, resp);      // records the answer, commits
 *
 * or txn_abort() instead of txn_commit() to give up (the answer in resp is
 * then sent but not recorded). Work that needs no database (key
 * derivation, random bytes, wrapping) is done before txn_begin so the
 * store lock is held briefly.
 *
 * A request without Idempotency-Key still runs in one transaction. An
 * answer is recorded when the request has a key and its status is below
 * 500. An Idempotency-Key that is not 1-64 of [A-Za-z0-9_-] is
 * 400 bad_request.
 */
#ifndef WSOPD_TXN_H
#define WSOPD_TXN_H

#include <stdbool.h>

#include "server/app.h"
#include "server/request.h"

/* True when resp holds the final answer (and no transaction is open). */
bool txn_begin(struct app *app, const struct wsop_request *req, struct wsop_response *resp);
void txn_commit(struct app *app, const struct wsop_request *req, struct wsop_response *resp);
void txn_abort(struct app *app);

/* For handlers whose effect is in memory only (activate, deactivate):
 * replays or refuses like txn_begin but opens no transaction; after the
 * handler, idem_record_only() records the answer. */
bool idem_replay_only(struct app *app, const struct wsop_request *req, struct wsop_response *resp);
void idem_record_only(struct app *app, const struct wsop_request *req,
                      const struct wsop_response *resp);

#endif
