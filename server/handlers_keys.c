/* AES keys of a group: list, generate, get, delete. Every one needs the
 * group's softcard active: a valid activation token in the request. */
#include "server/handlers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "conf/log.h"
#include "server/paging.h"
#include "server/reply.h"
#include "server/txn.h"

/* Group named by the path, and a valid activation of its softcard. */
static bool load_active_group(struct app *app, const struct wsop_request *req, const char *id,
                              struct store_group *group, struct wsop_response *resp)
{
	return load_group(app, id, group, resp) &&
	       require_active(app, req, group->softcard_id, NULL, resp);
}

static void reply_key(const struct store_key *row, int status, struct wsop_response *resp)
{
	struct wsop_key k;
	char *text = NULL;
	size_t len = 0;
	int rc;

	key_answer(row, &k);
	rc = wsop_json_encode_key(&k, &text, &len);
	reply_json(resp, status, rc, text, len);
}

void handle_key_list(struct app *app, const struct wsop_request *req,
                     const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	struct wsop_key_list list = { 0 };
	struct page_query q;
	struct store_group group;
	struct store_key *rows = NULL;
	const char *why;
	char *text = NULL;
	size_t count = 0, len = 0, taken = 0;
	bool more = false;
	int r;

	/* The path (404), the query (400), activation (403). */
	if (!load_group(app, params[0], &group, resp))
		return;
	if (page_query_parse(req->query, NULL, NULL, 0, &q, &why) != 0) {
		reply_error(resp, WSOP_E_BAD_REQUEST, why);
		return;
	}
	if (!require_active(app, req, group.softcard_id, NULL, resp))
		return;
	r = store_key_page(app->store, params[0], q.after, q.limit, &rows, &count, &more);
	if (!list_answers(r, "listing keys", count, sizeof(*list.items), (void **)&list.items,
	                  resp)) {
		free(rows);
		return;
	}
	for (size_t i = 0; i < count; i++)
		key_answer(&rows[i], &list.items[i]);
	list.count = count;
	if (more && count > 0)
		memcpy(list.next, rows[count - 1].id, sizeof(list.next));
	r = wsop_json_encode_key_page(&list, WSOP_PAGE_MAX_BYTES, &taken, &text, &len);
	reply_json(resp, 200, r, text, len);
	/* The answers point into the rows: free the array only. */
	free(list.items);
	free(rows);
}

static void row_from_request(const struct wsop_key_generate_req *in, const struct store_group *g,
                             struct store_key *row)
{
	const struct wsop_key_attributes *a = &in->attributes;

	memset(row, 0, sizeof(*row));
	memcpy(row->group_id, g->id, sizeof(row->group_id));
	memcpy(row->softcard_id, g->softcard_id, sizeof(row->softcard_id));
	row->size_bits = (unsigned)in->size;
	row->label_len = strnlen(a->label, sizeof(row->label) - 1);
	memcpy(row->label, a->label, row->label_len);
	row->has_cka_id = a->id_present;
	if (a->id_present && a->id.len > 0 && a->id.len <= sizeof(row->cka_id)) {
		memcpy(row->cka_id, a->id.data, a->id.len);
		row->cka_id_len = a->id.len;
	}
	row->encrypt = a->encrypt;
	row->decrypt = a->decrypt;
	/* The decoder refuses true for the others. */
}

/* Draws and wraps a new key for row (whose id it sets) under kek, which
 * it wipes. On success the clear key is left in *clear for the cache; the
 * caller wipes it. */
static int make_key(struct keywrap_kek *kek, struct store_key *row, struct cached_key *clear,
                    uint8_t *wrapped, size_t *wrapped_len)
{
	int r;

	memset(clear, 0, sizeof(*clear));
	clear->key_len = row->size_bits / 8;
	r = store_new_uuid(row->id);
	if (r == STORE_OK)
		r = keywrap_generate_key(clear->key, clear->key_len);
	if (r == KEYWRAP_OK)
		r = keywrap_wrap(kek, row->softcard_id, row->id, clear->key, clear->key_len,
		                 wrapped, KEYWRAP_WRAPPED_MAX, wrapped_len);
	keywrap_kek_wipe(kek);
	if (r != KEYWRAP_OK) {
		OPENSSL_cleanse(clear, sizeof(*clear));
		return -EIO;
	}
	memcpy(clear->softcard_id, row->softcard_id, sizeof(clear->softcard_id));
	clear->encrypt = row->encrypt;
	clear->decrypt = row->decrypt;
	return 0;
}

void handle_key_generate(struct app *app, const struct wsop_request *req,
                         const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	struct wsop_key_generate_req in;
	struct wsop_json_error err;
	struct store_group group;
	struct store_key row;
	struct cached_key clear;
	struct keywrap_kek kek;
	uint8_t wrapped[KEYWRAP_WRAPPED_MAX];
	size_t wrapped_len = 0;
	size_t len;
	const char *text = body_text(req, &len);
	uint64_t generation;
	int r;

	if (!load_group(app, params[0], &group, resp))
		return;
	r = wsop_json_decode_key_generate_req(text, len, &in, &err);
	if (decode_failed(r, &err, resp))
		return;
	row_from_request(&in, &group, &row);
	wsop_key_generate_req_free(&in);
	generation = activation_generation(app->act);
	if (!require_active(app, req, group.softcard_id, &kek, resp))
		return;
	r = make_key(&kek, &row, &clear, wrapped, &wrapped_len);
	if (r != 0) {
		reply_error(resp, WSOP_E_INTERNAL, "key generation failed");
		return;
	}
	if (txn_begin(app, req, resp)) {
		OPENSSL_cleanse(&clear, sizeof(clear));
		return;
	}
	r = store_key_insert(app->store, &row, wrapped, wrapped_len);
	if (r == STORE_NOT_FOUND) {
		reply_error(resp, WSOP_E_NOT_FOUND, "no group with that id");
	} else if (r != STORE_OK) {
		txn_abort(app);
		OPENSSL_cleanse(&clear, sizeof(clear));
		reply_store_failure(resp, r, "storing a key");
		return;
	} else {
		reply_key(&row, 201, resp);
	}
	txn_commit(app, req, resp);
	if (resp->status == 201 &&
	    activation_key_insert(app->act, generation, row.group_id, row.id, &clear) != 0)
		wlog(WLOG_WARNING, "key %s not cached: out of memory", row.id);
	OPENSSL_cleanse(&clear, sizeof(clear));
}

void handle_key_get(struct app *app, const struct wsop_request *req,
                    const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	struct store_group group;
	struct store_key row;
	int r;

	if (!load_active_group(app, req, params[0], &group, resp))
		return;
	r = store_key_get(app->store, params[0], params[1], &row, NULL, 0, NULL);
	if (r == STORE_OK)
		reply_key(&row, 200, resp);
	else if (r == STORE_NOT_FOUND)
		reply_error(resp, WSOP_E_NOT_FOUND, "no key with that id in this group");
	else
		reply_store_failure(resp, r, "reading a key");
}

void handle_key_delete(struct app *app, const struct wsop_request *req,
                       const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	struct store_group group;
	int r;

	if (!load_active_group(app, req, params[0], &group, resp))
		return;
	if (txn_begin(app, req, resp))
		return;
	r = store_key_delete(app->store, params[0], params[1]);
	if (r == STORE_OK) {
		reply_empty(resp, 204);
	} else if (r == STORE_NOT_FOUND) {
		reply_error(resp, WSOP_E_NOT_FOUND, "no key with that id in this group");
	} else {
		txn_abort(app);
		reply_store_failure(resp, r, "deleting a key");
		return;
	}
	txn_commit(app, req, resp);
	if (resp->status == 204)
		activation_key_forget(app->act, params[0], params[1]);
}
