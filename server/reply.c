/* Answers built with the wsop_json encoders; see reply.h. */
#include "server/reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ipc/wsop_json.h"

void reply_init(struct wsop_response *resp)
{
	memset(resp, 0, sizeof(*resp));
}

void reply_free(struct wsop_response *resp)
{
	if (resp->body != NULL)
		OPENSSL_clear_free(resp->body, resp->body_len);
	reply_init(resp);
}

static void drop_body(struct wsop_response *resp)
{
	if (resp->body != NULL)
		OPENSSL_clear_free(resp->body, resp->body_len);
	resp->body = NULL;
	resp->body_len = 0;
	resp->binary = false;
}

void reply_error(struct wsop_response *resp, enum wsop_error error, const char *message)
{
	struct wsop_json_error e;
	const char *code = wsop_error_name(error);
	char *text = NULL;
	size_t len = 0;

	drop_body(resp);
	wsop_json_error_set(&e, code, message);
	resp->status = wsop_error_status(error);
	snprintf(resp->note, sizeof(resp->note), "%s: %s", code, message);
	if (wsop_json_encode_error(&e, &text, &len) == 0) {
		resp->body = text;
		resp->body_len = len;
	}
}

void reply_code(struct wsop_response *resp, const char *code, const char *message)
{
	enum wsop_error error = WSOP_E_INTERNAL;

	(void)wsop_error_lookup(code, &error);
	reply_error(resp, error, message);
}

void reply_json(struct wsop_response *resp, int status, int rc, char *body, size_t body_len)
{
	if (rc != 0 || body == NULL) {
		reply_error(resp, WSOP_E_INTERNAL, "cannot encode the answer");
		return;
	}
	drop_body(resp);
	resp->status = status;
	resp->body = body;
	resp->body_len = body_len;
}

void reply_binary(struct wsop_response *resp, uint8_t *body, size_t body_len)
{
	drop_body(resp);
	resp->status = 200;
	resp->body = (char *)body;
	resp->body_len = body_len;
	resp->binary = true;
}

void reply_empty(struct wsop_response *resp, int status)
{
	drop_body(resp);
	resp->status = status;
}
