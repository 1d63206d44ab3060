/* Requests to handlers by the rows of ipc/wsop_endpoints.h; see router.h. */
#include "server/router.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "conf/audit.h"
#include "ipc/wsop_endpoints.h"
#include "server/handlers.h"
#include "server/reply.h"
#include "server/txn.h"

_Static_assert(HANDLER_PARAM_MAX == WSOP_PATH_PARAMS_MAX, "a handler takes every path id");

/* The handler of each endpoint; -Wswitch names a row left without one. */
static handler_fn *handler_of(enum wsop_endpoint_id id)
{
	switch (id) {
	case WSOP_EP_HEALTH:
		return handle_health;
	case WSOP_EP_SOFTCARD_LIST:
		return handle_softcard_list;
	case WSOP_EP_SOFTCARD_CREATE:
		return handle_softcard_create;
	case WSOP_EP_SOFTCARD_GET:
		return handle_softcard_get;
	case WSOP_EP_SOFTCARD_DELETE:
		return handle_softcard_delete;
	case WSOP_EP_SOFTCARD_ACTIVATE:
		return handle_softcard_activate;
	case WSOP_EP_SOFTCARD_DEACTIVATE:
		return handle_softcard_deactivate;
	case WSOP_EP_OBJECT_LIST:
		return handle_object_list;
	case WSOP_EP_OBJECT_CREATE:
		return handle_object_create;
	case WSOP_EP_OBJECT_GET:
		return handle_object_get;
	case WSOP_EP_OBJECT_DELETE:
		return handle_object_delete;
	case WSOP_EP_GROUP_LIST:
		return handle_group_list;
	case WSOP_EP_GROUP_CREATE:
		return handle_group_create;
	case WSOP_EP_KEY_LIST:
		return handle_key_list;
	case WSOP_EP_KEY_GENERATE:
		return handle_key_generate;
	case WSOP_EP_KEY_GET:
		return handle_key_get;
	case WSOP_EP_KEY_DELETE:
		return handle_key_delete;
	case WSOP_EP_ENCRYPT:
		return handle_encrypt;
	case WSOP_EP_DECRYPT:
		return handle_decrypt;
	case WSOP_EP_RANDOM:
		return handle_random;
	case WSOP_EP_COUNT:
		break;
	}
	return NULL;
}

/* The audit line of a mutating request or a refusal: who (the client
 * certificate's subject and serial), what (action, softcard), the answer. */
static void audit_request(const struct wsop_request *req, const struct wsop_response *resp,
                          const struct wsop_endpoint *ep)
{
	struct audit_line a;
	bool refused = resp->status >= 400;
	const char *colon = strchr(resp->note, ':');

	if (!refused && (ep == NULL || !ep->idempotency_key))
		return;
	audit_begin(&a, "request", refused ? AUDIT_FAILURE : AUDIT_SUCCESS);
	audit_str(&a, "action", ep != NULL ? ep->name : "unknown");
	audit_str(&a, "method", req->http->method);
	audit_str(&a, "path", req->path);
	if (resp->softcard[0] != '\0')
		audit_str(&a, "softcard", resp->softcard);
	audit_str(&a, "subject", req->client_subject);
	audit_str(&a, "serial", req->client_serial);
	audit_int(&a, "status", resp->status);
	if (refused)
		audit_mem(&a, "code", resp->note,
		          colon != NULL ? (size_t)(colon - resp->note) : strlen(resp->note));
	audit_emit(&a);
}

/* Runs the endpoint's handler (or replays the recorded answer of a known
 * Idempotency-Key). */
static void dispatch(struct app *app, struct wsop_request *req, struct wsop_response *resp,
                     const struct wsop_endpoint *ep, const struct wsop_path_params *params)
{
	const char *const ids[HANDLER_PARAM_MAX] = { params->id[0], params->id[1] };
	const char *softcard = wsop_path_param(ep, params, "softcard");
	handler_fn *fn = handler_of(ep->id);

	if (req->query != NULL && !ep->query) {
		reply_error(resp, WSOP_E_BAD_REQUEST, "this path takes no query");
		return;
	}
	/* A path that names the softcard names it for the audit line too. */
	if (softcard != NULL)
		snprintf(resp->softcard, sizeof(resp->softcard), "%s", softcard);
	if (ep->idempotency_key && idem_replay_only(app, req, resp))
		return;
	if (fn == NULL) {
		reply_error(resp, WSOP_E_INTERNAL, "endpoint without a handler");
		return;
	}
	fn(app, req, ids, resp);
}

void router_handle(struct app *app, struct wsop_request *req, struct wsop_response *resp)
{
	char path[HTTP_MAX_TARGET + 1];
	struct wsop_path_params params;
	const char *q = strchr(req->http->target, '?');
	size_t path_len = q != NULL ? (size_t)(q - req->http->target) : strlen(req->http->target);

	if (path_len > HTTP_MAX_TARGET)
		path_len = HTTP_MAX_TARGET;
	memcpy(path, req->http->target, path_len);
	path[path_len] = '\0';
	req->path = path;
	req->query = q != NULL ? q + 1 : NULL;
	memset(&params, 0, sizeof(params));

	const struct wsop_endpoint *ep =
	    wsop_endpoint_route(req->http->method, path, &params, resp->allow, sizeof(resp->allow));
	if (ep != NULL)
		dispatch(app, req, resp, ep, &params);
	else if (resp->allow[0] != '\0')
		reply_error(resp, WSOP_E_METHOD_NOT_ALLOWED, "method not allowed on this path");
	else
		reply_error(resp, WSOP_E_NOT_FOUND, "no such resource");
	audit_request(req, resp, ep);
}
