/* Route, format and log one request; see exchange.h. */
#include "server/exchange.h"

#include <errno.h>
#include <string.h>

#include "conf/log.h"
#include "ipc/mono_clock.h"
#include "server/reply.h"
#include "server/router.h"

void exchange_route(struct app *app, const struct conn_names *names, const struct http_message *msg,
                    struct wsop_response *resp)
{
	struct wsop_request req = { 0 };

	req.http = msg;
	req.client_id = names->client_id;
	req.client_cn = names->cn;
	req.client_subject = names->subject;
	req.client_serial = names->serial;
	memcpy(req.client_fp, names->client_fp, sizeof(req.client_fp));
	router_handle(app, &req, resp);
}

int exchange_format(const struct wsop_response *resp, bool keep_alive, uint8_t **out,
                    size_t *out_len)
{
	struct http_header extra[2];
	size_t n = 0;

	if (resp->body_len > 0)
		extra[n++] =
		    (struct http_header){ "Content-Type", resp->binary ? "application/octet-stream"
			                                               : "application/json" };
	if (resp->allow[0] != '\0')
		extra[n++] = (struct http_header){ "Allow", resp->allow };
	return http_format_response(resp->status, keep_alive, extra, n, (const uint8_t *)resp->body,
	                            resp->body_len, out, out_len);
}

void exchange_log(const struct conn_names *names, const struct http_message *msg,
                  const struct wsop_response *resp, int64_t start)
{
	double ms = (double)(mono_ms() - start);

	wlog(WLOG_INFO, "%s %s %d cn=%s peer=%s %.0f ms", msg->method, msg->target, resp->status,
	     names->cn, names->peer, ms);
	if (resp->status >= 400)
		wlog(WLOG_WARNING, "refused %s %s from %s (cn=%s): %d %s", msg->method, msg->target,
		     names->peer, names->cn, resp->status, resp->note);
}

void exchange_codec_error(int rc, struct wsop_response *resp)
{
	switch (rc) {
	case -EMSGSIZE:
		reply_error(resp, WSOP_E_HEADER_TOO_LARGE, "request head too large");
		break;
	case -E2BIG:
		reply_error(resp, WSOP_E_TOO_LARGE, "request body too large");
		break;
	case HTTP_ERR_URI_TOO_LONG:
		reply_error(resp, WSOP_E_URI_TOO_LONG, "request target too long");
		break;
	case -EBADMSG:
		reply_error(resp, WSOP_E_BAD_HTTP, "malformed HTTP request");
		break;
	case -ENOTSUP:
		reply_error(resp, WSOP_E_BAD_HTTP, "unsupported HTTP version or transfer coding");
		break;
	default:
		reply_error(resp, WSOP_E_INTERNAL, "cannot read the request");
		break;
	}
	resp->close = true;
}

bool exchange_inline_ok(const struct http_message *msg, bool store_shared)
{
	static const char *const posts[] = { "/crypto/v1/encrypt", "/crypto/v1/decrypt",
		                             "/crypto/v1/random" };

	/* With PostgreSQL every key use reads the database over the network. */
	if (store_shared)
		return false;
	if (strcmp(msg->method, "GET") == 0)
		return strcmp(msg->target, "/health") == 0;
	if (strcmp(msg->method, "POST") != 0)
		return false;
	for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++)
		if (strcmp(msg->target, posts[i]) == 0)
			return true;
	return false;
}
