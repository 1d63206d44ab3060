/* Key groups: list (optionally of one softcard) and create. */
#include "server/handlers.h"

#include <stdlib.h>
#include <string.h>

#include "server/paging.h"
#include "server/reply.h"
#include "server/txn.h"

#define QUERY_SOFTCARD "protectiondomain"

static void group_answer(const struct store_group *row, struct wsop_group *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->id, row->id, sizeof(out->id));
	memcpy(out->name, row->name, sizeof(out->name));
	memcpy(out->protectiondomain, row->softcard_id, sizeof(out->protectiondomain));
	out->created = row->created;
}

void handle_group_list(struct app *app, const struct wsop_request *req,
                       const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	struct wsop_group_list list = { 0 };
	struct page_query q;
	struct store_group *rows = NULL;
	char softcard_id[WSOP_SOFTCARD_ID_LEN + 1];
	const char *why;
	char *text = NULL;
	size_t count = 0, len = 0, taken = 0;
	bool more = false;
	int r;

	(void)params;
	if (page_query_parse(req->query, QUERY_SOFTCARD, softcard_id, sizeof(softcard_id), &q,
	                     &why) != 0 ||
	    (softcard_id[0] != '\0' && !wsop_softcard_id_valid(softcard_id))) {
		reply_error(resp, WSOP_E_BAD_REQUEST,
		            "the query takes protectiondomain=<softcard id>, limit and after");
		return;
	}
	r = store_group_page(app->store, softcard_id[0] != '\0' ? softcard_id : NULL, q.after,
	                     q.limit, &rows, &count, &more);
	if (!list_answers(r, "listing groups", count, sizeof(*list.items), (void **)&list.items,
	                  resp)) {
		free(rows);
		return;
	}
	for (size_t i = 0; i < count; i++)
		group_answer(&rows[i], &list.items[i]);
	list.count = count;
	if (more && count > 0)
		memcpy(list.next, rows[count - 1].id, sizeof(list.next));
	r = wsop_json_encode_group_page(&list, WSOP_PAGE_MAX_BYTES, &taken, &text, &len);
	reply_json(resp, 200, r, text, len);
	free(list.items);
	free(rows);
}

void handle_group_create(struct app *app, const struct wsop_request *req,
                         const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	struct wsop_group_create_req in;
	struct wsop_json_error err;
	struct store_softcard sc;
	struct store_group row;
	struct wsop_group out;
	char *text = NULL;
	size_t len;
	const char *body = body_text(req, &len);
	int r;

	r = wsop_json_decode_group_create_req(body, len, &in, &err);
	if (decode_failed(r, &err, resp))
		return;
	if (!load_softcard(app, in.protectiondomain, &sc, resp))
		return;
	memset(&row, 0, sizeof(row));
	memcpy(row.name, in.name, sizeof(row.name));
	memcpy(row.softcard_id, in.protectiondomain, sizeof(row.softcard_id));
	if (txn_begin(app, req, resp))
		return;
	r = store_group_create(app->store, &row);
	if (r == STORE_NOT_FOUND) {
		reply_error(resp, WSOP_E_NOT_FOUND, "no softcard with that id");
	} else if (r != STORE_OK) {
		txn_abort(app);
		reply_store_failure(resp, r, "creating a group");
		return;
	} else {
		group_answer(&row, &out);
		r = wsop_json_encode_group(&out, &text, &len);
		reply_json(resp, 201, r, text, len);
	}
	txn_commit(app, req, resp);
}
