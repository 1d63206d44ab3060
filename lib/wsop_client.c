/*
 * The typed WSOP endpoints. Each public function fills the request of its
 * row of ipc/wsop_endpoints.h; one generic exchange (call_row) builds the
 * path from the row, adds the Idempotency-Key a mutating row carries,
 * encodes the body with the row's encoder, makes the exchange
 * (wsop_call.c), checks the row's status and decodes the answer with the
 * row's decoder. See wsop_client.h for the result convention.
 */
#include "lib/wsop_client.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ipc/wsop_crypto_bin.h"
#include "ipc/wsop_endpoints.h"
#include "ipc/wsop_names.h"

/* "?limit=500&after=<uuid>&protectiondomain=<softcard id>" and a NUL. */
#define QUERY_MAX 128

/* What a call gives its row. */
struct row_call {
	const char *ids[WSOP_PATH_PARAMS_MAX]; /* the path's ids in order; NULL after the last */
	const char *query;                     /* "?…", or NULL */
	const void *request;                   /* the row's request struct */
	const char *idempotency_key;           /* the caller's; NULL: a fresh one */
	void *out;                             /* the row's answer struct */
};

/* An error answer: keep its {"error":…} or say that there was none. */
static void keep_error(struct wsop_client *c, const struct http_message *answer)
{
	struct wsop_json_error ignored;
	if (wsop_json_decode_error((const char *)answer->body, answer->body_len, &c->error,
	                           &ignored) != 0) {
		memset(&c->error, 0, sizeof(c->error));
		snprintf(c->error.message, sizeof(c->error.message),
		         "HTTP %d without a WSOP error body", answer->status);
	}
}

/* 0 for the documented success status; else the result convention's
 * value, with the error kept. */
static int status_result(struct wsop_client *c, const struct http_message *answer, int want)
{
	if (answer->status == want)
		return 0;
	if (answer->status >= 300) {
		keep_error(c, answer);
		return answer->status;
	}
	snprintf(c->error.message, sizeof(c->error.message), "unexpected HTTP status %d",
	         answer->status);
	return -EPROTO;
}

/* The caller's key, or a fresh one in buf. */
static int idempotency_key(const char *given, char buf[WSOP_IDEMPOTENCY_KEY_LEN + 1],
                           const char **use)
{
	if (given != NULL) {
		if (!wsop_idempotency_key_valid(given))
			return -EINVAL;
		*use = given;
		return 0;
	}
	*use = buf;
	return wsop_idempotency_key_new(buf);
}

/* The row's path with the call's ids, then its query. */
static int request_target(const struct wsop_endpoint *ep, const struct row_call *a, char *buf,
                          size_t cap)
{
	size_t n = 0;

	while (n < WSOP_PATH_PARAMS_MAX && a->ids[n] != NULL)
		n++;
	int len = wsop_endpoint_path(ep, a->ids, n, buf, cap);
	if (len < 0)
		return len;
	if (a->query != NULL &&
	    snprintf(buf + len, cap - (size_t)len, "%s", a->query) >= (int)(cap - (size_t)len))
		return -EINVAL;
	return 0;
}

static int call_row(struct wsop_client *c, enum wsop_endpoint_id id, const struct row_call *a)
{
	const struct wsop_endpoint *ep = wsop_endpoint(id);
	char target[WSOP_PATH_MAX + QUERY_MAX], keybuf[WSOP_IDEMPOTENCY_KEY_LEN + 1];
	const char *key = NULL;
	char *body = NULL;
	size_t body_len = 0;
	struct http_message answer;

	if (a->out != NULL)
		memset(a->out, 0, ep->answer_size);
	if (c == NULL || (ep->decode_answer != NULL && a->out == NULL))
		return -EINVAL;
	int rc = request_target(ep, a, target, sizeof(target));
	if (rc == 0 && ep->idempotency_key)
		rc = idempotency_key(a->idempotency_key, keybuf, &key);
	if (rc == 0 && ep->encode_request != NULL)
		rc = ep->encode_request(a->request, &body, &body_len);
	if (rc != 0)
		return rc;
	http_message_init(&answer);
	rc = wsop_call(c, ep->method, target, body, body_len, key, &answer);
	/* The body may carry a passphrase or plaintext. */
	OPENSSL_clear_free(body, body_len);
	if (rc != 0)
		return rc;
	rc = status_result(c, &answer, ep->status);
	if (rc == 0 && ep->decode_answer != NULL &&
	    ep->decode_answer((const char *)answer.body, answer.body_len, a->out, &c->error) != 0)
		rc = -EPROTO;
	if (ep->secret_answer && answer.body != NULL)
		OPENSSL_cleanse(answer.body, answer.body_len);
	http_message_clear(&answer);
	return rc;
}

/* The query of a page: "?limit=N" and "&after=ID" when after is given. */
static int page_query(char *buf, size_t cap, const char *after, size_t limit)
{
	if (after != NULL && after[0] != '\0' && !wsop_uuid_valid(after))
		return -EINVAL;
	if (limit == 0 || limit > WSOP_PAGE_MAX_ITEMS)
		limit = WSOP_PAGE_MAX_ITEMS;
	int n = after != NULL && after[0] != '\0'
	            ? snprintf(buf, cap, "?limit=%zu&after=%s", limit, after)
	            : snprintf(buf, cap, "?limit=%zu", limit);
	return n < 0 || (size_t)n >= cap ? -EINVAL : 0;
}

/* A POST that makes req (the row's request) below the resource parent. */
static int create_below(struct wsop_client *c, enum wsop_endpoint_id id, const char *parent,
                        const void *req, const char *idempotency_key, void *out)
{
	if (req == NULL)
		return -EINVAL;
	return call_row(c, id,
	                &(struct row_call){ .ids = { parent },
	                                    .request = req,
	                                    .idempotency_key = idempotency_key,
	                                    .out = out });
}

/* One page of the listing below the resource parent. */
static int page_below(struct wsop_client *c, enum wsop_endpoint_id id, const char *parent,
                      const char *after, size_t limit, void *out)
{
	char query[QUERY_MAX];

	if (page_query(query, sizeof(query), after, limit) != 0)
		return -EINVAL;
	return call_row(c, id, &(struct row_call){ .ids = { parent }, .query = query, .out = out });
}

int wsop_health(struct wsop_client *c, struct wsop_health *out)
{
	return call_row(c, WSOP_EP_HEALTH, &(struct row_call){ .out = out });
}

/* ---- softcards ----------------------------------------------------------- */

/* Copies a passphrase into a request buffer; one with a NUL inside or too
 * long for the buffer cannot be written as the caller meant it. */
static int put_passphrase(char buf[WSOP_PASSPHRASE_MAX + 1], const char *p, size_t len)
{
	if ((p == NULL && len > 0) || len > WSOP_PASSPHRASE_MAX ||
	    (len > 0 && memchr(p, '\0', len) != NULL))
		return -EINVAL;
	if (len > 0)
		memcpy(buf, p, len);
	buf[len] = '\0';
	return 0;
}

/* A name of 1..WSOP_NAME_MAX bytes copied into buf; the server judges its
 * characters. */
static bool put_name(char buf[WSOP_NAME_MAX + 1], const char *name)
{
	if (name == NULL || strnlen(name, WSOP_NAME_MAX + 1) > WSOP_NAME_MAX)
		return false;
	memcpy(buf, name, strlen(name) + 1);
	return true;
}

int wsop_softcard_create(struct wsop_client *c, const char *name, const char *passphrase,
                         size_t passphrase_len, const char *idempotency_key,
                         struct wsop_softcard *out)
{
	struct wsop_softcard_create_req req;

	memset(&req, 0, sizeof(req));
	int rc = put_name(req.name, name)
	             ? put_passphrase(req.passphrase, passphrase, passphrase_len)
	             : -EINVAL;
	if (rc == 0)
		rc =
		    call_row(c, WSOP_EP_SOFTCARD_CREATE,
		             &(struct row_call){
		                 .request = &req, .idempotency_key = idempotency_key, .out = out });
	wsop_softcard_create_req_cleanse(&req);
	return rc;
}

int wsop_softcard_list(struct wsop_client *c, struct wsop_softcard_list *out)
{
	return call_row(c, WSOP_EP_SOFTCARD_LIST, &(struct row_call){ .out = out });
}

int wsop_softcard_get(struct wsop_client *c, const char *softcard_id, struct wsop_softcard *out)
{
	return call_row(c, WSOP_EP_SOFTCARD_GET,
	                &(struct row_call){ .ids = { softcard_id }, .out = out });
}

int wsop_softcard_delete(struct wsop_client *c, const char *softcard_id,
                         const char *idempotency_key)
{
	return call_row(
	    c, WSOP_EP_SOFTCARD_DELETE,
	    &(struct row_call){ .ids = { softcard_id }, .idempotency_key = idempotency_key });
}

int wsop_softcard_activate(struct wsop_client *c, const char *softcard_id, const char *passphrase,
                           size_t passphrase_len, const char *idempotency_key,
                           struct wsop_softcard *out)
{
	struct wsop_activate_req req;

	memset(&req, 0, sizeof(req));
	int rc = put_passphrase(req.passphrase, passphrase, passphrase_len);
	if (rc == 0)
		rc = call_row(c, WSOP_EP_SOFTCARD_ACTIVATE,
		              &(struct row_call){ .ids = { softcard_id },
		                                  .request = &req,
		                                  .idempotency_key = idempotency_key,
		                                  .out = out });
	wsop_activate_req_cleanse(&req);
	if (rc == 0 && wsop_client_set_activation(c, out->activation) != 0)
		rc = -EPROTO;
	return rc;
}

int wsop_softcard_deactivate(struct wsop_client *c, const char *softcard_id,
                             const char *idempotency_key, struct wsop_softcard *out)
{
	int rc =
	    call_row(c, WSOP_EP_SOFTCARD_DEACTIVATE,
	             &(struct row_call){
	                 .ids = { softcard_id }, .idempotency_key = idempotency_key, .out = out });
	if (rc == 0)
		(void)wsop_client_set_activation(c, NULL);
	return rc;
}

/* ---- groups -------------------------------------------------------------- */

int wsop_group_create(struct wsop_client *c, const char *name, const char *softcard_id,
                      const char *idempotency_key, struct wsop_group *out)
{
	struct wsop_group_create_req req;

	memset(&req, 0, sizeof(req));
	if (!put_name(req.name, name) || !wsop_softcard_id_valid(softcard_id))
		return -EINVAL;
	memcpy(req.protectiondomain, softcard_id, WSOP_SOFTCARD_ID_LEN);
	return call_row(
	    c, WSOP_EP_GROUP_CREATE,
	    &(struct row_call){ .request = &req, .idempotency_key = idempotency_key, .out = out });
}

/* The groups of one softcard (softcard_id not NULL) or all, with page_query
 * in front when there is one. */
static int group_list(struct wsop_client *c, const char *softcard_id, const char *page,
                      struct wsop_group_list *out)
{
	char query[QUERY_MAX];

	if (softcard_id != NULL && !wsop_softcard_id_valid(softcard_id))
		return -EINVAL;
	if (softcard_id != NULL)
		snprintf(query, sizeof(query), "%s%cprotectiondomain=%s", page, page[0] ? '&' : '?',
		         softcard_id);
	else
		snprintf(query, sizeof(query), "%s", page);
	return call_row(c, WSOP_EP_GROUP_LIST, &(struct row_call){ .query = query, .out = out });
}

int wsop_group_list(struct wsop_client *c, const char *softcard_id, struct wsop_group_list *out)
{
	return group_list(c, softcard_id, "", out);
}

int wsop_group_list_page(struct wsop_client *c, const char *softcard_id, const char *after,
                         size_t limit, struct wsop_group_list *out)
{
	char page[QUERY_MAX];

	if (page_query(page, sizeof(page), after, limit) != 0)
		return -EINVAL;
	return group_list(c, softcard_id, page, out);
}

/* ---- keys ---------------------------------------------------------------- */

int wsop_key_generate(struct wsop_client *c, const char *group_id,
                      const struct wsop_key_generate_req *req, const char *idempotency_key,
                      struct wsop_key *out)
{
	return create_below(c, WSOP_EP_KEY_GENERATE, group_id, req, idempotency_key, out);
}

int wsop_key_list(struct wsop_client *c, const char *group_id, struct wsop_key_list *out)
{
	return call_row(c, WSOP_EP_KEY_LIST, &(struct row_call){ .ids = { group_id }, .out = out });
}

int wsop_key_get(struct wsop_client *c, const char *group_id, const char *key_id,
                 struct wsop_key *out)
{
	return call_row(c, WSOP_EP_KEY_GET,
	                &(struct row_call){ .ids = { group_id, key_id }, .out = out });
}

int wsop_key_delete(struct wsop_client *c, const char *group_id, const char *key_id,
                    const char *idempotency_key)
{
	return call_row(
	    c, WSOP_EP_KEY_DELETE,
	    &(struct row_call){ .ids = { group_id, key_id }, .idempotency_key = idempotency_key });
}

int wsop_key_list_page(struct wsop_client *c, const char *group_id, const char *after, size_t limit,
                       struct wsop_key_list *out)
{
	return page_below(c, WSOP_EP_KEY_LIST, group_id, after, limit, out);
}

/* ---- objects ------------------------------------------------------------- */

int wsop_object_create(struct wsop_client *c, const char *softcard_id,
                       const struct wsop_object_create_req *req, const char *idempotency_key,
                       struct wsop_object *out)
{
	return create_below(c, WSOP_EP_OBJECT_CREATE, softcard_id, req, idempotency_key, out);
}

int wsop_object_list(struct wsop_client *c, const char *softcard_id, struct wsop_object_list *out)
{
	return call_row(c, WSOP_EP_OBJECT_LIST,
	                &(struct row_call){ .ids = { softcard_id }, .out = out });
}

int wsop_object_list_page(struct wsop_client *c, const char *softcard_id, const char *after,
                          size_t limit, struct wsop_object_list *out)
{
	return page_below(c, WSOP_EP_OBJECT_LIST, softcard_id, after, limit, out);
}

int wsop_object_get(struct wsop_client *c, const char *softcard_id, const char *object_id,
                    struct wsop_object *out)
{
	return call_row(c, WSOP_EP_OBJECT_GET,
	                &(struct row_call){ .ids = { softcard_id, object_id }, .out = out });
}

int wsop_object_delete(struct wsop_client *c, const char *softcard_id, const char *object_id,
                       const char *idempotency_key)
{
	return call_row(c, WSOP_EP_OBJECT_DELETE,
	                &(struct row_call){ .ids = { softcard_id, object_id },
	                                    .idempotency_key = idempotency_key });
}

/* ---- encryption ---------------------------------------------------------- */

/* Set once a server refused the binary form: an older wsopd, or a WSOP
 * service that speaks only JSON. */
static atomic_bool json_only;

/* The answer's body becomes out->data without a copy. */
static int crypto_binary(struct wsop_client *c, const struct wsop_endpoint *ep,
                         const struct wsop_crypto_req *req, struct wsop_crypto_answer *out)
{
	struct wsop_crypto_bin_head head;
	struct http_message answer;
	char target[WSOP_PATH_MAX];

	memset(out, 0, sizeof(*out));
	if (wsop_crypto_bin_head(req, &head) != 0 ||
	    request_target(ep, &(struct row_call){ 0 }, target, sizeof(target)) != 0)
		return -EINVAL;
	http_message_init(&answer);
	int rc = wsop_call_binary(c, target, head.h, WSOP_CRYPTO_BIN_HEADERS, req->data.data,
	                          req->data.len, &answer);
	if (rc)
		return rc;
	rc = status_result(c, &answer, ep->status);
	if (rc == 0) {
		if (answer.body_len > WSOP_CRYPTO_ANSWER_MAX ||
		    (answer.body_len > 0 && !wsop_crypto_bin_is(&answer))) {
			snprintf(c->error.message, sizeof(c->error.message),
			         "a binary crypto answer that is not one");
			rc = -EPROTO;
		} else {
			out->data.data = answer.body_len > 0 ? answer.body : NULL;
			out->data.len = answer.body_len;
			if (answer.body_len > 0)
				answer.body = NULL;
			answer.body_len = 0;
		}
	}
	if (answer.body != NULL)
		OPENSSL_cleanse(answer.body, answer.body_len);
	http_message_clear(&answer);
	return rc;
}

static int crypto(struct wsop_client *c, enum wsop_endpoint_id id,
                  const struct wsop_crypto_req *req, struct wsop_crypto_answer *out)
{
	if (c == NULL || req == NULL || out == NULL)
		return -EINVAL;
	if (!atomic_load(&json_only)) {
		int rc = crypto_binary(c, wsop_endpoint(id), req, out);
		bool refused =
		    rc == 415 || (rc == 400 && wsop_client_error_is(c, WSOP_E_BAD_REQUEST));
		if (!refused)
			return rc;
		atomic_store(&json_only, true);
		if (wsop_client_broken(c))
			return rc;
	}
	return call_row(c, id, &(struct row_call){ .request = req, .out = out });
}

int wsop_encrypt(struct wsop_client *c, const struct wsop_crypto_req *req,
                 struct wsop_crypto_answer *out)
{
	return crypto(c, WSOP_EP_ENCRYPT, req, out);
}

int wsop_decrypt(struct wsop_client *c, const struct wsop_crypto_req *req,
                 struct wsop_crypto_answer *out)
{
	return crypto(c, WSOP_EP_DECRYPT, req, out);
}

int wsop_random(struct wsop_client *c, size_t length, struct wsop_crypto_answer *out)
{
	const struct wsop_random_req req = { .length = length };

	if (length == 0 || length > WSOP_RANDOM_MAX)
		return -EINVAL;
	int rc = call_row(c, WSOP_EP_RANDOM, &(struct row_call){ .request = &req, .out = out });
	if (rc == 0 && out->data.len != length) {
		wsop_crypto_answer_free(out);
		return -EPROTO;
	}
	return rc;
}
