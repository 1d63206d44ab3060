/* Helpers shared by the endpoint handlers; see handlers.h. */
#include "server/handlers.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "conf/log.h"
#include "ipc/object_attrs.h"
#include "server/reply.h"

const char *body_text(const struct wsop_request *req, size_t *len)
{
	*len = req->http->body_len;
	return req->http->body != NULL ? (const char *)req->http->body : "";
}

bool decode_failed(int rc, const struct wsop_json_error *err, struct wsop_response *resp)
{
	if (rc == 0)
		return false;
	if (rc == WSOP_JSON_ENOMEM)
		reply_error(resp, WSOP_E_INTERNAL, "out of memory");
	else
		reply_code(resp, err->code, err->message);
	return true;
}

void reply_store_failure(struct wsop_response *resp, int store_rc, const char *what)
{
	wlog(WLOG_ERROR, "store failure while %s: %s", what, store_result_name(store_rc));
	reply_error(resp, WSOP_E_INTERNAL, "store failure");
}

bool load_softcard(struct app *app, const char *id, struct store_softcard *out,
                   struct wsop_response *resp)
{
	int r = store_softcard_get(app->store, id, out);

	if (r == STORE_OK) {
		snprintf(resp->softcard, sizeof(resp->softcard), "%s", out->id);
		return true;
	}
	if (r == STORE_NOT_FOUND)
		reply_error(resp, WSOP_E_NOT_FOUND, "no softcard with that id");
	else
		reply_store_failure(resp, r, "reading a softcard");
	return false;
}

bool load_group(struct app *app, const char *id, struct store_group *out,
                struct wsop_response *resp)
{
	int r = store_group_get(app->store, id, out);

	if (r == STORE_OK)
		return true;
	if (r == STORE_NOT_FOUND)
		reply_error(resp, WSOP_E_NOT_FOUND, "no group with that id");
	else
		reply_store_failure(resp, r, "reading a group");
	return false;
}

const char *request_activation(const struct wsop_request *req)
{
	return http_header_get(req->http, WSOP_ACTIVATION_HEADER);
}

static void copy_text(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

bool require_active(struct app *app, const struct wsop_request *req, const char *softcard_id,
                    struct keywrap_kek *kek, struct wsop_response *resp)
{
	int r =
	    activation_check(app->act, request_activation(req), softcard_id, req->client_fp, kek);

	copy_text(resp->softcard, sizeof(resp->softcard), softcard_id);
	if (r == 0)
		return true;
	if (r == -EIO) {
		wlog(WLOG_ERROR, "cannot check an activation of softcard %s", softcard_id);
		reply_error(resp, WSOP_E_INTERNAL, "activation check failed");
	} else if (r == -ENOSPC) {
		reply_error(resp, WSOP_E_BUSY, "too many live activations");
	} else if (r == -ENOMEM) {
		reply_error(resp, WSOP_E_INTERNAL, "out of memory");
	} else {
		reply_error(resp, WSOP_E_NOT_ACTIVE,
		            "no valid activation of this softcard for this client");
	}
	return false;
}

int64_t softcard_locked_for(const struct app *app, const struct store_softcard *row, int64_t now)
{
	if (app->login_limit == 0 || row->login_failures < (int64_t)app->login_limit)
		return 0;
	int64_t until = row->last_failure + (int64_t)app->login_lockout_s;
	if (until <= now)
		return 0;
	/* A clock set back must not lock a softcard for longer than one
	 * lockout. */
	return until - now > (int64_t)app->login_lockout_s ? (int64_t)app->login_lockout_s
	                                                   : until - now;
}

void softcard_answer(struct app *app, const struct wsop_request *req,
                     const struct store_softcard *row, struct wsop_softcard *out)
{
	memset(out, 0, sizeof(*out));
	copy_text(out->id, sizeof(out->id), row->id);
	copy_text(out->name, sizeof(out->name), row->name);
	out->created = row->created;
	out->login_failures = row->login_failures;
	out->login_limit = app->login_limit;
	out->locked_for = softcard_locked_for(app, row, store_now(app->store));
	out->active =
	    activation_check(app->act, request_activation(req), row->id, req->client_fp, NULL) == 0;
}

void reply_softcard(struct app *app, const struct wsop_request *req,
                    const struct store_softcard *row, int status, struct wsop_response *resp)
{
	struct wsop_softcard sc;
	char *text = NULL;
	size_t len = 0;
	int rc;

	softcard_answer(app, req, row, &sc);
	rc = wsop_json_encode_softcard(&sc, &text, &len);
	reply_json(resp, status, rc, text, len);
}

void key_answer(const struct store_key *row, struct wsop_key *out)
{
	struct wsop_key_attributes *a = &out->attributes;

	memset(out, 0, sizeof(*out));
	copy_text(out->id, sizeof(out->id), row->id);
	copy_text(out->group, sizeof(out->group), row->group_id);
	copy_text(out->protectiondomain, sizeof(out->protectiondomain), row->softcard_id);
	if (wsop_key_path_format(row->group_id, row->id, out->path, sizeof(out->path)) != 0)
		out->path[0] = '\0';
	out->size = (int)row->size_bits;
	out->created = row->created;
	copy_text(a->label, sizeof(a->label), row->label);
	a->id_present = row->has_cka_id;
	/* The encoder only reads: point at the row instead of copying. */
	a->id.data = row->cka_id_len > 0 ? (uint8_t *)row->cka_id : NULL;
	a->id.len = row->cka_id_len;
	a->encrypt = row->encrypt;
	a->decrypt = row->decrypt;
	a->sign = row->sign;
	a->verify = row->verify;
	a->wrap = row->wrap;
	a->unwrap = row->unwrap;
	a->derive = row->derive;
	/* Generated on the server, never leaves it in the clear. */
	a->sensitive = true;
	a->always_sensitive = true;
	a->extractable = false;
	a->never_extractable = true;
	a->local = true;
}

/* The answer points into the row (the encoder only reads). */
static void attr_from(const struct object_attr *r, const struct store_attr *src,
                      struct wsop_object_attributes *a)
{
	size_t n;
	char *text;

	*object_attr_obj_present(r, a) = src->present;
	if (r->fixed != NULL)
		return;
	if (r->kind == ATTR_BYTES) {
		struct wsop_bytes *b = object_attr_obj_value(r, a);
		b->data = src->present && src->len > 0 ? src->data : NULL;
		b->len = src->present ? src->len : 0;
		return;
	}
	text = object_attr_obj_value(r, a);
	n = src->len < r->max ? src->len : r->max;
	if (src->present && n > 0)
		memcpy(text, src->data, n);
	text[src->present ? n : 0] = '\0';
}

void object_answer(const struct store_object *row, struct wsop_object *out)
{
	struct wsop_object_attributes *a = &out->attributes;
	struct store_attr *attrs[STORE_OBJECT_ATTRS];
	size_t max[STORE_OBJECT_ATTRS];

	memset(out, 0, sizeof(*out));
	copy_text(out->id, sizeof(out->id), row->id);
	copy_text(out->protectiondomain, sizeof(out->protectiondomain), row->softcard_id);
	out->cls =
	    row->cls == STORE_OBJECT_CERTIFICATE ? WSOP_OBJECT_CERTIFICATE : WSOP_OBJECT_DATA;
	out->created = row->created;
	out->value_omitted = row->value_omitted;
	out->value_len = row->value_len;
	store_object_attrs(row, attrs, max);
	for (size_t i = 0, k = 0; i < OBJECT_ATTR_COUNT && k < STORE_OBJECT_ATTRS; i++)
		if (object_attrs[i].wire & ATTR_OBJECTS)
			attr_from(&object_attrs[i], attrs[k++], a);
}

bool list_answers(int store_rc, const char *what, size_t count, size_t size, void **items,
                  struct wsop_response *resp)
{
	*items = NULL;
	if (store_rc != STORE_OK) {
		reply_store_failure(resp, store_rc, what);
		return false;
	}
	if (count == 0)
		return true;
	*items = calloc(count, size);
	if (*items == NULL) {
		reply_error(resp, WSOP_E_INTERNAL, "out of memory");
		return false;
	}
	return true;
}
