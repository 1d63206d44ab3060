/* Transactions and idempotency records around mutating handlers; see txn.h. */
#include "server/txn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/log.h"
#include "ipc/wsop_names.h"
#include "server/reply.h"

static const char *idempotency_key(const struct wsop_request *req)
{
	return http_header_get(req->http, "Idempotency-Key");
}

/* True when the request's key is malformed (and resp says so). */
static bool refuse_bad_key(const char *key, struct wsop_response *resp)
{
	if (key == NULL || wsop_idempotency_key_valid(key))
		return false;
	reply_error(resp, WSOP_E_BAD_REQUEST, "Idempotency-Key must be 1-64 of [A-Za-z0-9_-]");
	return true;
}

/* True when resp now holds the answer: a replay, a conflict, a failure. */
static bool replay(struct app *app, const struct wsop_request *req, const char *key,
                   struct wsop_response *resp)
{
	struct store_idem_answer a;
	char *copy;
	int r;

	memset(&a, 0, sizeof(a));
	r = store_idem_lookup(app->store, req->client_fp, key, req->http->method, req->http->target,
	                      &a);
	if (r == STORE_NOT_FOUND)
		return false;
	if (r == STORE_IDEM_CONFLICT) {
		reply_error(resp, WSOP_E_IDEMPOTENCY_CONFLICT,
		            "this Idempotency-Key was used with another method or path");
		return true;
	}
	if (r != STORE_OK) {
		wlog(WLOG_ERROR, "idempotency lookup failed: %s", store_result_name(r));
		reply_error(resp, WSOP_E_INTERNAL, "store failure");
		return true;
	}
	if (a.body_len == 0) {
		reply_empty(resp, a.status);
	} else {
		copy = malloc(a.body_len + 1);
		if (copy == NULL) {
			reply_error(resp, WSOP_E_INTERNAL, "out of memory");
		} else {
			memcpy(copy, a.body, a.body_len);
			copy[a.body_len] = '\0';
			reply_json(resp, a.status, 0, copy, a.body_len);
		}
	}
	snprintf(resp->note, sizeof(resp->note), "idempotent replay");
	store_idem_answer_clear(&a);
	return true;
}

static int record(struct app *app, const struct wsop_request *req, const char *key,
                  const struct wsop_response *resp)
{
	return store_idem_record(app->store, req->client_fp, key, req->http->method,
	                         req->http->target, resp->status, (const uint8_t *)resp->body,
	                         resp->body_len);
}

bool txn_begin(struct app *app, const struct wsop_request *req, struct wsop_response *resp)
{
	const char *key = idempotency_key(req);
	int r;

	if (refuse_bad_key(key, resp))
		return true;
	r = store_begin(app->store);
	if (r != STORE_OK) {
		wlog(WLOG_ERROR, "cannot begin a store transaction: %s", store_result_name(r));
		reply_error(resp, WSOP_E_INTERNAL, "store failure");
		return true;
	}
	if (key != NULL && replay(app, req, key, resp)) {
		store_rollback(app->store);
		return true;
	}
	return false;
}

void txn_commit(struct app *app, const struct wsop_request *req, struct wsop_response *resp)
{
	const char *key = idempotency_key(req);
	int r;

	if (key != NULL && resp->status < 500) {
		r = record(app, req, key, resp);
		if (r != STORE_OK) {
			wlog(WLOG_ERROR, "cannot record an idempotent answer: %s",
			     store_result_name(r));
			store_rollback(app->store);
			reply_error(resp, WSOP_E_INTERNAL, "store failure");
			return;
		}
	}
	r = store_commit(app->store);
	if (r != STORE_OK) {
		wlog(WLOG_ERROR, "commit failed: %s", store_result_name(r));
		reply_error(resp, WSOP_E_INTERNAL, "store failure");
	}
}

void txn_abort(struct app *app)
{
	store_rollback(app->store);
}

bool idem_replay_only(struct app *app, const struct wsop_request *req, struct wsop_response *resp)
{
	const char *key = idempotency_key(req);

	if (refuse_bad_key(key, resp))
		return true;
	return key != NULL && replay(app, req, key, resp);
}

void idem_record_only(struct app *app, const struct wsop_request *req,
                      const struct wsop_response *resp)
{
	const char *key = idempotency_key(req);
	int r;

	if (key == NULL || resp->status >= 500)
		return;
	/* Two identical requests racing both ran; the first record wins and
	 * the second answer was the same in effect. */
	r = record(app, req, key, resp);
	if (r != STORE_OK && r != STORE_EXISTS)
		wlog(WLOG_WARNING, "cannot record an idempotent answer: %s", store_result_name(r));
}
