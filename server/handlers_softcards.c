/* Softcards (protection domains): list, create, get, delete, activate,
 * deactivate. */
#include "server/handlers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "conf/log.h"
#include "server/reply.h"
#include "server/txn.h"

void handle_softcard_list(struct app *app, const struct wsop_request *req,
                          const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	struct store_softcard *rows = NULL;
	struct wsop_softcard_list list = { 0 };
	char *text = NULL;
	size_t count = 0;
	size_t len = 0;
	int r = store_softcard_list(app->store, &rows, &count);

	if (!list_answers(r, "listing softcards", count, sizeof(*list.items), (void **)&list.items,
	                  resp)) {
		free(rows);
		return;
	}
	for (size_t i = 0; i < count; i++)
		softcard_answer(app, req, &rows[i], &list.items[i]);
	list.count = count;
	r = wsop_json_encode_softcard_list(&list, &text, &len);
	reply_json(resp, 200, r, text, len);
	free(list.items);
	OPENSSL_clear_free(rows, count * sizeof(*rows));
}

void handle_softcard_create(struct app *app, const struct wsop_request *req,
                            const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	struct wsop_softcard_create_req in;
	struct wsop_json_error err;
	struct store_softcard row;
	struct keywrap_kek kek;
	uint8_t verifier[KEYWRAP_VERIFIER_LEN];
	size_t len;
	const char *text = body_text(req, &len);
	int r;

	memset(&row, 0, sizeof(row));
	r = wsop_json_decode_softcard_create_req(text, len, &in, &err);
	if (decode_failed(r, &err, resp))
		return;
	/* The cleanse below wipes the whole request, name included. */
	snprintf(row.name, sizeof(row.name), "%s", in.name);
	if (store_new_softcard_id(row.id) != STORE_OK) {
		wsop_softcard_create_req_cleanse(&in);
		reply_error(resp, WSOP_E_INTERNAL, "cannot draw an id");
		return;
	}
	/* scrypt runs here, outside the store lock. */
	r = keywrap_softcard_setup(&app->master, in.passphrase, strlen(in.passphrase), row.id,
	                           row.salt, verifier, &kek);
	wsop_softcard_create_req_cleanse(&in);
	keywrap_kek_wipe(&kek);
	if (r != KEYWRAP_OK) {
		wlog(WLOG_ERROR, "softcard key setup failed: %s", keywrap_result_name(r));
		reply_error(resp, WSOP_E_INTERNAL, "key derivation failed");
		return;
	}
	memcpy(row.verifier, verifier, sizeof(verifier));
	row.verifier_len = sizeof(verifier);

	if (txn_begin(app, req, resp))
		return;
	r = store_softcard_create(app->store, &row);
	if (r == STORE_NAME_TAKEN) {
		txn_abort(app);
		reply_error(resp, WSOP_E_NAME_TAKEN, "a softcard with that name exists already");
		return;
	}
	if (r != STORE_OK) {
		txn_abort(app);
		reply_store_failure(resp, r, "creating a softcard");
		return;
	}
	reply_softcard(app, req, &row, 201, resp);
	txn_commit(app, req, resp);
	if (resp->status == 201) {
		snprintf(resp->softcard, sizeof(resp->softcard), "%s", row.id);
		wlog(WLOG_INFO, "softcard %s created (name %s)", row.id, row.name);
	}
}

void handle_softcard_get(struct app *app, const struct wsop_request *req,
                         const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	struct store_softcard row;

	if (load_softcard(app, params[0], &row, resp))
		reply_softcard(app, req, &row, 200, resp);
}

void handle_softcard_delete(struct app *app, const struct wsop_request *req,
                            const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	int r;

	if (txn_begin(app, req, resp))
		return;
	r = store_softcard_delete(app->store, params[0]);
	if (r == STORE_OK)
		reply_empty(resp, 204);
	else if (r == STORE_NOT_FOUND)
		reply_error(resp, WSOP_E_NOT_FOUND, "no softcard with that id");
	else if (r == STORE_NOT_EMPTY)
		reply_error(resp, WSOP_E_NOT_EMPTY, "the softcard still holds keys or objects");
	else {
		txn_abort(app);
		reply_store_failure(resp, r, "deleting a softcard");
		return;
	}
	txn_commit(app, req, resp);
	if (resp->status == 204) {
		activation_forget_softcard(app->act, params[0]);
		wlog(WLOG_INFO, "softcard %s deleted", params[0]);
	}
}

/* Counts a wrong passphrase in the store (so that a restart or another
 * node keeps the count) and answers 403 wrong_passphrase, saying when
 * this one locked the softcard. */
static void note_wrong_passphrase(struct app *app, const struct store_softcard *row, int64_t now,
                                  struct wsop_response *resp)
{
	int64_t failures = 0;
	char why[128];
	int r = store_softcard_login_outcome(app->store, row->id, false, now, &failures);

	if (r != STORE_OK) {
		wlog(WLOG_ERROR, "cannot count a wrong passphrase for softcard %s: %s", row->id,
		     store_result_name(r));
		reply_error(resp, WSOP_E_WRONG_PASSPHRASE, "wrong passphrase");
		return;
	}
	if (app->login_limit > 0 && failures >= (int64_t)app->login_limit) {
		snprintf(why, sizeof(why), "wrong passphrase; softcard locked for %u s",
		         app->login_lockout_s);
		wlog(WLOG_WARNING, "softcard %s locked for %u s after %lld wrong passphrases",
		     row->id, app->login_lockout_s, (long long)failures);
	} else {
		snprintf(why, sizeof(why), "wrong passphrase");
	}
	reply_error(resp, WSOP_E_WRONG_PASSPHRASE, why);
}

/* The passphrase is checked at every activation: a token is never a way
 * around it. While the softcard is active, the passphrase that unlocked it
 * is known by its tag and needs no KDF; any other passphrase goes through
 * the KDF, which alone says "wrong" (passphrase_tag.h). *remember: the KDF
 * just accepted the passphrase of tag, to be kept once the softcard is in
 * memory. */
static int unlock(struct app *app, const struct store_softcard *row,
                  const struct wsop_activate_req *in, struct keywrap_kek *kek,
                  uint8_t tag[PASSPHRASE_TAG_LEN], bool *remember)
{
	size_t len = strlen(in->passphrase);
	bool tagged = activation_passphrase_tag(app->act, row->id, in->passphrase, len, tag) == 0;

	*remember = false;
	if (tagged && activation_unlock_known(app->act, row->id, tag, kek) == 0) {
		wlog(WLOG_DEBUG, "softcard %s: passphrase known while active, no KDF", row->id);
		return KEYWRAP_OK;
	}
	wlog(WLOG_DEBUG, "softcard %s: passphrase checked by the KDF", row->id);
	int r = keywrap_softcard_unlock(&app->master, in->passphrase, len, row->id, row->salt,
	                                row->verifier, row->verifier_len, kek);
	*remember = r == KEYWRAP_OK && tagged;
	return r;
}

static void activate(struct app *app, const struct wsop_request *req, const char *id,
                     struct wsop_response *resp)
{
	struct wsop_activate_req in;
	struct wsop_json_error err;
	struct store_softcard row;
	struct wsop_softcard sc;
	struct keywrap_kek kek;
	uint8_t tag[PASSPHRASE_TAG_LEN];
	bool remember = false;
	int64_t expires = 0, now, locked;
	char *answer = NULL;
	char why[128];
	size_t len;
	const char *text = body_text(req, &len);
	int r;

	if (!load_softcard(app, id, &row, resp))
		return;
	now = store_now(app->store);
	/* A locked softcard refuses before the KDF: the lockout is what
	 * bounds guessing, so a guess must cost nothing to refuse. */
	locked = softcard_locked_for(app, &row, now);
	if (locked > 0) {
		snprintf(why, sizeof(why),
		         "softcard locked for %lld more s after %lld wrong passphrases",
		         (long long)locked, (long long)row.login_failures);
		reply_error(resp, WSOP_E_SOFTCARD_LOCKED, why);
		return;
	}
	r = wsop_json_decode_activate_req(text, len, &in, &err);
	if (decode_failed(r, &err, resp))
		return;
	r = unlock(app, &row, &in, &kek, tag, &remember);
	wsop_activate_req_cleanse(&in);
	if (r != KEYWRAP_OK)
		OPENSSL_cleanse(tag, sizeof(tag));
	if (r == KEYWRAP_ERR_WRONG_PASSPHRASE) {
		note_wrong_passphrase(app, &row, now, resp);
		resp->delay_ms = activation_note_failure(app->act, req->client_id);
		return;
	}
	if (r != KEYWRAP_OK) {
		wlog(WLOG_ERROR, "unlocking softcard %s failed: %s", row.id,
		     keywrap_result_name(r));
		reply_error(resp, WSOP_E_INTERNAL, "key derivation failed");
		return;
	}
	activation_note_success(app->act, req->client_id);
	if (row.login_failures > 0) {
		r = store_softcard_login_outcome(app->store, row.id, true, now, NULL);
		if (r != STORE_OK)
			wlog(WLOG_ERROR, "cannot reset softcard %s's wrong-passphrase count: %s",
			     row.id, store_result_name(r));
		row.login_failures = 0;
		row.last_failure = 0;
	}
	softcard_answer(app, req, &row, &sc);
	r = activation_issue(app->act, row.id, req->client_fp, &kek, sc.activation, &expires);
	keywrap_kek_wipe(&kek);
	if (r == 0 && remember)
		activation_remember_passphrase(app->act, row.id, tag);
	OPENSSL_cleanse(tag, sizeof(tag));
	if (r == -ENOSPC) {
		reply_error(resp, WSOP_E_BUSY, "too many live activations");
		return;
	}
	if (r != 0) {
		reply_error(resp, WSOP_E_INTERNAL, "cannot issue an activation");
		return;
	}
	sc.active = true;
	r = wsop_json_encode_softcard(&sc, &answer, &len);
	OPENSSL_cleanse(sc.activation, sizeof(sc.activation));
	reply_json(resp, 200, r, answer, len);
	if (resp->status == 200)
		wlog(WLOG_INFO, "softcard %s activated until %lld", row.id, (long long)expires);
}

void handle_softcard_activate(struct app *app, const struct wsop_request *req,
                              const char *const params[HANDLER_PARAM_MAX],
                              struct wsop_response *resp)
{
	/* Not recorded for Idempotency-Key (see router.c): a repeat makes
	 * another activation, and the unused one goes idle. */
	activate(app, req, params[0], resp);
}

/* Ends the activation id of softcard_id, whose answer is already in resp:
 * recorded as revoked in the store together with that answer (for the
 * request's Idempotency-Key), in one commit and so one wait for the disk,
 * so that a restart keeps it ended; only then dropped from memory and
 * answered. On failure resp becomes the error and the token stays live. */
static void end_activation(struct app *app, const struct wsop_request *req, const char *softcard_id,
                           const uint8_t id[ACT_TOKEN_ID_LEN], int64_t expires,
                           struct wsop_response *resp)
{
	int r = store_begin(app->store);

	if (r == STORE_OK) {
		r = store_revoked_add(app->store, id, expires);
		if (r == STORE_OK) {
			idem_record_only(app, req, resp);
			r = store_commit(app->store);
		} else {
			store_rollback(app->store);
		}
	}
	if (r != STORE_OK) {
		wlog(WLOG_ERROR, "cannot record an ended activation: %s", store_result_name(r));
		reply_error(resp, WSOP_E_INTERNAL, "cannot end the activation");
		return;
	}
	activation_end(app->act, softcard_id, id);
	wlog(WLOG_INFO, "softcard %s: one activation ended", softcard_id);
}

/* Ends the activation the request carries, if it is a valid one of this
 * softcard for this client. Without a valid token there is nothing of this
 * client's to end, and the answer is the same. */
void handle_softcard_deactivate(struct app *app, const struct wsop_request *req,
                                const char *const params[HANDLER_PARAM_MAX],
                                struct wsop_response *resp)
{
	struct wsop_json_error err;
	struct store_softcard row;
	size_t len;
	const char *text = body_text(req, &len);
	struct wsop_softcard sc;
	uint8_t id[ACT_TOKEN_ID_LEN];
	int64_t expires = 0;
	char *answer = NULL;
	int r;

	if (!load_softcard(app, params[0], &row, resp) ||
	    decode_failed(wsop_json_decode_empty(text, len, &err), &err, resp)) {
		idem_record_only(app, req, resp);
		return;
	}
	int found = activation_identify(app->act, request_activation(req), row.id, req->client_fp,
	                                id, &expires);
	if (found != 0 && found != -EACCES) {
		reply_error(resp, WSOP_E_INTERNAL, "cannot end the activation");
		return;
	}
	/* The token about to end must not make the answer say "active". */
	softcard_answer(app, req, &row, &sc);
	sc.active = false;
	r = wsop_json_encode_softcard(&sc, &answer, &len);
	reply_json(resp, 200, r, answer, len);
	if (found == 0 && resp->status == 200)
		end_activation(app, req, row.id, id, expires, resp);
	else
		idem_record_only(app, req, resp);
	OPENSSL_cleanse(id, sizeof(id));
}
