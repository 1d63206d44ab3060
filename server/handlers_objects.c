/* Data objects and certificates of a softcard: list, create, get, delete.
 * Every one needs a valid activation token of the softcard in the request. */
#include "server/handlers.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/object_attrs.h"
#include "server/paging.h"
#include "server/reply.h"
#include "server/txn.h"

static bool load_active_softcard(struct app *app, const struct wsop_request *req, const char *id,
                                 struct wsop_response *resp)
{
	struct store_softcard sc;

	return load_softcard(app, id, &sc, resp) && require_active(app, req, id, NULL, resp);
}

static void reply_object(const struct store_object *row, int status, struct wsop_response *resp)
{
	struct wsop_object o;
	char *text = NULL;
	size_t len = 0;
	int rc;

	object_answer(row, &o);
	rc = wsop_json_encode_object(&o, &text, &len);
	reply_json(resp, status, rc, text, len);
}

void handle_object_list(struct app *app, const struct wsop_request *req,
                        const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	struct wsop_object_list list = { 0 };
	struct store_softcard sc;
	struct page_query q;
	struct store_object *rows = NULL;
	const char *why;
	char *text = NULL;
	size_t count = 0, len = 0, taken = 0;
	bool more = false;
	int r;

	/* The path (404), the query (400), activation (403). */
	if (!load_softcard(app, params[0], &sc, resp))
		return;
	if (page_query_parse(req->query, NULL, NULL, 0, &q, &why) != 0) {
		reply_error(resp, WSOP_E_BAD_REQUEST, why);
		return;
	}
	if (!require_active(app, req, params[0], NULL, resp))
		return;
	/* Values only in the form of clients older than paging; a new
	 * client fetches a value with GET .../objects/{o} when it needs it. */
	r = store_object_page(app->store, params[0], q.after, q.limit, q.legacy,
	                      WSOP_PAGE_MAX_BYTES, &rows, &count, &more);
	if (!list_answers(r, "listing objects", count, sizeof(*list.items), (void **)&list.items,
	                  resp)) {
		store_object_list_free(rows, count);
		return;
	}
	for (size_t i = 0; i < count; i++)
		object_answer(&rows[i], &list.items[i]);
	list.count = count;
	if (more && count > 0)
		memcpy(list.next, rows[count - 1].id, sizeof(list.next));
	r = wsop_json_encode_object_page(&list, WSOP_PAGE_MAX_BYTES, &taken, &text, &len);
	reply_json(resp, 200, r, text, len);
	/* The answers point into the rows: free the array only. */
	free(list.items);
	store_object_list_free(rows, count);
}

/* The row borrows the request's memory; keep `in` alive while using it. */
static void row_from_request(struct wsop_object_create_req *in, const char *softcard_id,
                             struct store_object *row)
{
	struct store_attr *attrs[STORE_OBJECT_ATTRS];
	size_t max[STORE_OBJECT_ATTRS];

	memset(row, 0, sizeof(*row));
	memcpy(row->softcard_id, softcard_id, sizeof(row->softcard_id));
	row->cls =
	    in->cls == WSOP_OBJECT_CERTIFICATE ? STORE_OBJECT_CERTIFICATE : STORE_OBJECT_DATA;
	store_object_attrs(row, attrs, max);
	for (size_t i = 0, k = 0; i < OBJECT_ATTR_COUNT && k < STORE_OBJECT_ATTRS; i++) {
		const struct object_attr *r = &object_attrs[i];
		struct store_attr *out;
		void *field;
		if (!(r->wire & ATTR_OBJECTS))
			continue;
		out = attrs[k++];
		out->present = *object_attr_obj_present(r, &in->attributes);
		if (!out->present)
			continue;
		if (r->fixed != NULL) {
			out->data = (uint8_t *)(uintptr_t)r->fixed;
			out->len = strlen(r->fixed);
			continue;
		}
		field = object_attr_obj_value(r, &in->attributes);
		if (r->kind == ATTR_BYTES) {
			out->data = ((struct wsop_bytes *)field)->data;
			out->len = ((struct wsop_bytes *)field)->len;
		} else {
			out->data = field;
			out->len = strlen(field);
		}
	}
}

void handle_object_create(struct app *app, const struct wsop_request *req,
                          const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	struct wsop_object_create_req in;
	struct wsop_json_error err;
	struct store_softcard sc;
	struct store_object row;
	size_t len;
	const char *text = body_text(req, &len);
	int r;

	if (!load_softcard(app, params[0], &sc, resp))
		return;
	r = wsop_json_decode_object_create_req(text, len, &in, &err);
	if (decode_failed(r, &err, resp))
		return;
	if (!require_active(app, req, params[0], NULL, resp))
		goto out;
	row_from_request(&in, params[0], &row);
	if (txn_begin(app, req, resp))
		goto out;
	r = store_object_insert(app->store, &row);
	if (r == STORE_NOT_FOUND) {
		reply_error(resp, WSOP_E_NOT_FOUND, "no softcard with that id");
	} else if (r == STORE_ERR_ARG) {
		/* The decoder bounds every attribute; the store agreeing is
		 * expected, but its verdict is a client error if not. */
		reply_error(resp, WSOP_E_BAD_ATTRIBUTE, "an attribute is out of its bounds");
	} else if (r != STORE_OK) {
		txn_abort(app);
		reply_store_failure(resp, r, "storing an object");
		goto out;
	} else {
		reply_object(&row, 201, resp);
	}
	txn_commit(app, req, resp);
out:
	wsop_object_create_req_free(&in);
}

void handle_object_get(struct app *app, const struct wsop_request *req,
                       const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	struct store_object row;
	int r;

	if (!load_active_softcard(app, req, params[0], resp))
		return;
	memset(&row, 0, sizeof(row));
	r = store_object_get(app->store, params[0], params[1], &row);
	if (r == STORE_OK)
		reply_object(&row, 200, resp);
	else if (r == STORE_NOT_FOUND)
		reply_error(resp, WSOP_E_NOT_FOUND, "no object with that id on this softcard");
	else
		reply_store_failure(resp, r, "reading an object");
	store_object_clear(&row);
}

void handle_object_delete(struct app *app, const struct wsop_request *req,
                          const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	int r;

	if (!load_active_softcard(app, req, params[0], resp))
		return;
	if (txn_begin(app, req, resp))
		return;
	r = store_object_delete(app->store, params[0], params[1]);
	if (r == STORE_OK) {
		reply_empty(resp, 204);
	} else if (r == STORE_NOT_FOUND) {
		reply_error(resp, WSOP_E_NOT_FOUND, "no object with that id on this softcard");
	} else {
		txn_abort(app);
		reply_store_failure(resp, r, "deleting an object");
		return;
	}
	txn_commit(app, req, resp);
}
