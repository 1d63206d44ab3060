/* The route table and its matcher; see router.h. */
#include "server/router.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "conf/audit.h"
#include "ipc/wsop_names.h"
#include "server/handlers.h"
#include "server/reply.h"
#include "server/txn.h"

struct route {
	const char *method;
	const char *pattern; /* "{softcard}" and "{uuid}" match one id segment */
	handler_fn *fn;
	bool query_ok;
	/* Mutating: a request whose Idempotency-Key is known gets the
	 * recorded answer before the handler runs, whatever has changed
	 * since (activation, restart, the resource itself). Activate records
	 * no answer (its token must not be written to disk; a repeat makes
	 * another activation), so for it this only refuses a key used with
	 * another path. */
	bool idem;
	/* The action an audit line names. Every mutating request (idem) and
	 * every refusal gets one. */
	const char *action;
};

#define PD "/km/v1/protectiondomains"
#define GR "/km/v1/groups"

static const struct route routes[] = {
	{ "GET", "/health", handle_health, false, false, "health" },
	{ "GET", PD, handle_softcard_list, false, false, "softcard_list" },
	{ "POST", PD, handle_softcard_create, false, true, "softcard_create" },
	{ "GET", PD "/{softcard}", handle_softcard_get, false, false, "softcard_get" },
	{ "DELETE", PD "/{softcard}", handle_softcard_delete, false, true, "softcard_delete" },
	{ "POST", PD "/{softcard}/activate", handle_softcard_activate, false, true, "activate" },
	{ "POST", PD "/{softcard}/deactivate", handle_softcard_deactivate, false, true,
	  "deactivate" },
	{ "GET", PD "/{softcard}/objects", handle_object_list, true, false, "object_list" },
	{ "POST", PD "/{softcard}/objects", handle_object_create, false, true, "object_create" },
	{ "GET", PD "/{softcard}/objects/{uuid}", handle_object_get, false, false, "object_get" },
	{ "DELETE", PD "/{softcard}/objects/{uuid}", handle_object_delete, false, true,
	  "object_delete" },
	{ "GET", GR, handle_group_list, true, false, "group_list" },
	{ "POST", GR, handle_group_create, false, true, "group_create" },
	{ "GET", GR "/{uuid}/keys", handle_key_list, true, false, "key_list" },
	{ "POST", GR "/{uuid}/keys", handle_key_generate, false, true, "key_generate" },
	{ "GET", GR "/{uuid}/keys/{uuid}", handle_key_get, false, false, "key_get" },
	{ "DELETE", GR "/{uuid}/keys/{uuid}", handle_key_delete, false, true, "key_delete" },
	{ "POST", "/crypto/v1/encrypt", handle_encrypt, false, false, "encrypt" },
	{ "POST", "/crypto/v1/decrypt", handle_decrypt, false, false, "decrypt" },
	{ "POST", "/crypto/v1/random", handle_random, false, false, "random" },
};

#define ID_BUF (WSOP_SOFTCARD_ID_LEN + 1)

/* Copies the segment [s, e) to buf when it fits; false otherwise. */
static bool take_segment(const char *s, const char *e, char buf[ID_BUF])
{
	size_t n = (size_t)(e - s);

	if (n >= ID_BUF)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

static bool match(const char *pattern, const char *path, char params[HANDLER_PARAM_MAX][ID_BUF])
{
	size_t nparams = 0;

	while (*pattern != '\0' && *path != '\0') {
		const char *pe = strchrnul(pattern + 1, '/');
		const char *se = strchrnul(path + 1, '/');
		size_t plen = (size_t)(pe - pattern);

		if (*pattern != '/' || *path != '/')
			return false;
		if (pattern[1] == '{') {
			bool softcard = strncmp(pattern, "/{softcard}", plen) == 0;
			if (nparams == HANDLER_PARAM_MAX ||
			    !take_segment(path + 1, se, params[nparams]))
				return false;
			if (softcard ? !wsop_softcard_id_valid(params[nparams])
			             : !wsop_uuid_valid(params[nparams]))
				return false;
			nparams++;
		} else if ((size_t)(se - path) != plen || memcmp(pattern, path, plen) != 0) {
			return false;
		}
		pattern = pe;
		path = se;
	}
	return *pattern == '\0' && *path == '\0';
}

static void add_allow(char *allow, size_t cap, const char *method)
{
	size_t used = strlen(allow);

	if (strstr(allow, method) != NULL)
		return;
	snprintf(allow + used, cap - used, "%s%s", used > 0 ? ", " : "", method);
}

/* The audit line of a mutating request or a refusal: who (the client
 * certificate's subject and serial), what (action, softcard), the answer. */
static void audit_request(const struct wsop_request *req, const struct wsop_response *resp,
                          const struct route *r)
{
	struct audit_line a;
	bool refused = resp->status >= 400;
	const char *colon = strchr(resp->note, ':');

	if (!refused && (r == NULL || !r->idem))
		return;
	audit_begin(&a, "request", refused ? AUDIT_FAILURE : AUDIT_SUCCESS);
	audit_str(&a, "action", r != NULL ? r->action : "unknown");
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

/* Runs the route's handler (or replays the recorded answer of a known
 * Idempotency-Key). */
static void dispatch(struct app *app, struct wsop_request *req, struct wsop_response *resp,
                     const struct route *r, const char *const params[HANDLER_PARAM_MAX])
{
	if (req->query != NULL && !r->query_ok) {
		reply_error(resp, WSOP_E_BAD_REQUEST, "this path takes no query");
		return;
	}
	/* A path that names the softcard names it for the audit line too. */
	if (strncmp(r->pattern, PD "/{softcard}", strlen(PD "/{softcard}")) == 0)
		snprintf(resp->softcard, sizeof(resp->softcard), "%s", params[0]);
	if (r->idem && idem_replay_only(app, req, resp))
		return;
	r->fn(app, req, params, resp);
}

void router_handle(struct app *app, struct wsop_request *req, struct wsop_response *resp)
{
	char path[HTTP_MAX_TARGET + 1];
	char params[HANDLER_PARAM_MAX][ID_BUF];
	const char *param_ptrs[HANDLER_PARAM_MAX] = { params[0], params[1] };
	const char *q = strchr(req->http->target, '?');
	size_t path_len = q != NULL ? (size_t)(q - req->http->target) : strlen(req->http->target);
	bool path_known = false;

	if (path_len > HTTP_MAX_TARGET)
		path_len = HTTP_MAX_TARGET;
	memcpy(path, req->http->target, path_len);
	path[path_len] = '\0';
	req->path = path;
	req->query = q != NULL ? q + 1 : NULL;
	memset(params, 0, sizeof(params));

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];

		if (!match(r->pattern, path, params))
			continue;
		path_known = true;
		add_allow(resp->allow, sizeof(resp->allow), r->method);
		if (strcmp(r->method, req->http->method) != 0)
			continue;
		resp->allow[0] = '\0';
		dispatch(app, req, resp, r, param_ptrs);
		audit_request(req, resp, r);
		return;
	}
	if (path_known)
		reply_error(resp, WSOP_E_METHOD_NOT_ALLOWED, "method not allowed on this path");
	else
		reply_error(resp, WSOP_E_NOT_FOUND, "no such resource");
	audit_request(req, resp, NULL);
}
