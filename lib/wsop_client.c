/*
 * The typed WSOP endpoints: build the path and body, make one exchange
 * (wsop_call.c), check the status and decode the answer. See
 * wsop_client.h for the result convention.
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
#include "ipc/wsop_names.h"

#define PATH_MAX_LEN 256

typedef int (*decode_fn)(const char *text, size_t len, void *out, struct wsop_json_error *err);

struct exchange {
	const char *method;
	const char *path;
	const char *body; /* NULL: no body */
	size_t body_len;
	const char *idempotency_key;
	int want_status;
	decode_fn decode; /* NULL: the answer body is ignored */
	void *out;
	size_t out_size;
	bool secret_answer; /* wipe the answer body before freeing it */
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

static int exchange(struct wsop_client *c, const struct exchange *x)
{
	struct http_message answer;

	if (x->out)
		memset(x->out, 0, x->out_size);
	http_message_init(&answer);
	int rc =
	    wsop_call(c, x->method, x->path, x->body, x->body_len, x->idempotency_key, &answer);
	if (rc)
		return rc;
	rc = status_result(c, &answer, x->want_status);
	if (rc == 0 && x->decode &&
	    x->decode((const char *)answer.body, answer.body_len, x->out, &c->error) != 0)
		rc = -EPROTO;
	if (x->secret_answer && answer.body)
		OPENSSL_cleanse(answer.body, answer.body_len);
	http_message_clear(&answer);
	return rc;
}

/* The caller's key, or a fresh one in buf. */
static int idempotency_key(const char *given, char buf[WSOP_IDEMPOTENCY_KEY_LEN + 1],
                           const char **use)
{
	if (given) {
		if (!wsop_idempotency_key_valid(given))
			return -EINVAL;
		*use = given;
		return 0;
	}
	*use = buf;
	return wsop_idempotency_key_new(buf);
}

/* ---- decoders behind one signature ------------------------------------- */

static int dec_health(const char *t, size_t n, void *out, struct wsop_json_error *e)
{
	return wsop_json_decode_health(t, n, out, e);
}

static int dec_softcard(const char *t, size_t n, void *out, struct wsop_json_error *e)
{
	return wsop_json_decode_softcard(t, n, out, e);
}

static int dec_softcard_list(const char *t, size_t n, void *out, struct wsop_json_error *e)
{
	return wsop_json_decode_softcard_list(t, n, out, e);
}

static int dec_group(const char *t, size_t n, void *out, struct wsop_json_error *e)
{
	return wsop_json_decode_group(t, n, out, e);
}

static int dec_group_list(const char *t, size_t n, void *out, struct wsop_json_error *e)
{
	return wsop_json_decode_group_list(t, n, out, e);
}

static int dec_key(const char *t, size_t n, void *out, struct wsop_json_error *e)
{
	return wsop_json_decode_key(t, n, out, e);
}

static int dec_key_list(const char *t, size_t n, void *out, struct wsop_json_error *e)
{
	return wsop_json_decode_key_list(t, n, out, e);
}

static int dec_object(const char *t, size_t n, void *out, struct wsop_json_error *e)
{
	return wsop_json_decode_object(t, n, out, e);
}

static int dec_object_list(const char *t, size_t n, void *out, struct wsop_json_error *e)
{
	return wsop_json_decode_object_list(t, n, out, e);
}

static int dec_crypto_answer(const char *t, size_t n, void *out, struct wsop_json_error *e)
{
	return wsop_json_decode_crypto_answer(t, n, out, e);
}

/* The query of a page: "?limit=N" and "&after=ID" when after is given. */
static int page_query(char *buf, size_t cap, const char *after, size_t limit)
{
	if (after && after[0] && !wsop_uuid_valid(after))
		return -EINVAL;
	if (limit == 0 || limit > WSOP_PAGE_MAX_ITEMS)
		limit = WSOP_PAGE_MAX_ITEMS;
	int n = after && after[0] ? snprintf(buf, cap, "?limit=%zu&after=%s", limit, after)
	                          : snprintf(buf, cap, "?limit=%zu", limit);
	return n < 0 || (size_t)n >= cap ? -EINVAL : 0;
}

/* A GET whose 200 answer decodes with dec into out (a list). */
static int get_list(struct wsop_client *c, const char *path, decode_fn dec, void *out,
                    size_t out_size)
{
	struct exchange x = { .method = "GET",
		              .path = path,
		              .want_status = 200,
		              .decode = dec,
		              .out = out,
		              .out_size = out_size };
	return exchange(c, &x);
}

/* ---- health -------------------------------------------------------------- */

int wsop_health(struct wsop_client *c, struct wsop_health *out)
{
	if (!c || !out)
		return -EINVAL;
	struct exchange x = { .method = "GET",
		              .path = "/health",
		              .want_status = 200,
		              .decode = dec_health,
		              .out = out,
		              .out_size = sizeof(*out) };
	return exchange(c, &x);
}

/* ---- softcards ----------------------------------------------------------- */

/* Copies a passphrase into a request buffer; one with a NUL inside or too
 * long for the buffer cannot be written as the caller meant it. */
static int put_passphrase(char buf[WSOP_PASSPHRASE_MAX + 1], const char *p, size_t len)
{
	if ((!p && len > 0) || len > WSOP_PASSPHRASE_MAX || (len > 0 && memchr(p, '\0', len)))
		return -EINVAL;
	if (len > 0)
		memcpy(buf, p, len);
	buf[len] = '\0';
	return 0;
}

int wsop_softcard_create(struct wsop_client *c, const char *name, const char *passphrase,
                         size_t passphrase_len, const char *idempotency_key_in,
                         struct wsop_softcard *out)
{
	struct wsop_softcard_create_req req;
	char keybuf[WSOP_IDEMPOTENCY_KEY_LEN + 1];
	const char *key;
	char *body = NULL;
	size_t body_len = 0;

	if (!c || !name || !out || strnlen(name, WSOP_NAME_MAX + 1) > WSOP_NAME_MAX)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	memcpy(req.name, name, strlen(name));
	int rc = put_passphrase(req.passphrase, passphrase, passphrase_len);
	if (!rc)
		rc = idempotency_key(idempotency_key_in, keybuf, &key);
	if (!rc)
		rc = wsop_json_encode_softcard_create_req(&req, &body, &body_len);
	wsop_softcard_create_req_cleanse(&req);
	if (rc)
		return rc;
	struct exchange x = { .method = "POST",
		              .path = "/km/v1/protectiondomains",
		              .body = body,
		              .body_len = body_len,
		              .idempotency_key = key,
		              .want_status = 201,
		              .decode = dec_softcard,
		              .out = out,
		              .out_size = sizeof(*out) };
	rc = exchange(c, &x);
	OPENSSL_clear_free(body, body_len);
	return rc;
}

int wsop_softcard_list(struct wsop_client *c, struct wsop_softcard_list *out)
{
	if (!c || !out)
		return -EINVAL;
	struct exchange x = { .method = "GET",
		              .path = "/km/v1/protectiondomains",
		              .want_status = 200,
		              .decode = dec_softcard_list,
		              .out = out,
		              .out_size = sizeof(*out) };
	return exchange(c, &x);
}

int wsop_softcard_get(struct wsop_client *c, const char *softcard_id, struct wsop_softcard *out)
{
	char path[PATH_MAX_LEN];
	if (!c || !out || !wsop_softcard_id_valid(softcard_id))
		return -EINVAL;
	snprintf(path, sizeof(path), "/km/v1/protectiondomains/%s", softcard_id);
	struct exchange x = { .method = "GET",
		              .path = path,
		              .want_status = 200,
		              .decode = dec_softcard,
		              .out = out,
		              .out_size = sizeof(*out) };
	return exchange(c, &x);
}

int wsop_softcard_delete(struct wsop_client *c, const char *softcard_id,
                         const char *idempotency_key_in)
{
	char path[PATH_MAX_LEN], keybuf[WSOP_IDEMPOTENCY_KEY_LEN + 1];
	const char *key;
	if (!c || !wsop_softcard_id_valid(softcard_id))
		return -EINVAL;
	int rc = idempotency_key(idempotency_key_in, keybuf, &key);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/km/v1/protectiondomains/%s", softcard_id);
	struct exchange x = {
		.method = "DELETE", .path = path, .idempotency_key = key, .want_status = 204
	};
	return exchange(c, &x);
}

int wsop_softcard_activate(struct wsop_client *c, const char *softcard_id, const char *passphrase,
                           size_t passphrase_len, const char *idempotency_key_in,
                           struct wsop_softcard *out)
{
	struct wsop_activate_req req;
	char path[PATH_MAX_LEN], keybuf[WSOP_IDEMPOTENCY_KEY_LEN + 1];
	const char *key;
	char *body = NULL;
	size_t body_len = 0;

	if (!c || !out || !wsop_softcard_id_valid(softcard_id))
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	int rc = put_passphrase(req.passphrase, passphrase, passphrase_len);
	if (!rc)
		rc = idempotency_key(idempotency_key_in, keybuf, &key);
	if (!rc)
		rc = wsop_json_encode_activate_req(&req, &body, &body_len);
	wsop_activate_req_cleanse(&req);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/km/v1/protectiondomains/%s/activate", softcard_id);
	struct exchange x = { .method = "POST",
		              .path = path,
		              .body = body,
		              .body_len = body_len,
		              .idempotency_key = key,
		              .want_status = 200,
		              .decode = dec_softcard,
		              .out = out,
		              .out_size = sizeof(*out),
		              .secret_answer = true };
	rc = exchange(c, &x);
	OPENSSL_clear_free(body, body_len);
	if (rc == 0 && wsop_client_set_activation(c, out->activation) != 0)
		rc = -EPROTO;
	return rc;
}

int wsop_softcard_deactivate(struct wsop_client *c, const char *softcard_id,
                             const char *idempotency_key_in, struct wsop_softcard *out)
{
	char path[PATH_MAX_LEN], keybuf[WSOP_IDEMPOTENCY_KEY_LEN + 1];
	const char *key;
	if (!c || !out || !wsop_softcard_id_valid(softcard_id))
		return -EINVAL;
	int rc = idempotency_key(idempotency_key_in, keybuf, &key);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/km/v1/protectiondomains/%s/deactivate", softcard_id);
	struct exchange x = { .method = "POST",
		              .path = path,
		              .body = "{}",
		              .body_len = 2,
		              .idempotency_key = key,
		              .want_status = 200,
		              .decode = dec_softcard,
		              .out = out,
		              .out_size = sizeof(*out) };
	rc = exchange(c, &x);
	if (rc == 0)
		(void)wsop_client_set_activation(c, NULL);
	return rc;
}

/* ---- groups -------------------------------------------------------------- */

int wsop_group_create(struct wsop_client *c, const char *name, const char *softcard_id,
                      const char *idempotency_key_in, struct wsop_group *out)
{
	struct wsop_group_create_req req;
	char keybuf[WSOP_IDEMPOTENCY_KEY_LEN + 1];
	const char *key;
	char *body = NULL;
	size_t body_len = 0;

	if (!c || !name || !out || strnlen(name, WSOP_NAME_MAX + 1) > WSOP_NAME_MAX ||
	    !wsop_softcard_id_valid(softcard_id))
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	memcpy(req.name, name, strlen(name));
	memcpy(req.protectiondomain, softcard_id, WSOP_SOFTCARD_ID_LEN);
	int rc = idempotency_key(idempotency_key_in, keybuf, &key);
	if (!rc)
		rc = wsop_json_encode_group_create_req(&req, &body, &body_len);
	if (rc)
		return rc;
	struct exchange x = { .method = "POST",
		              .path = "/km/v1/groups",
		              .body = body,
		              .body_len = body_len,
		              .idempotency_key = key,
		              .want_status = 201,
		              .decode = dec_group,
		              .out = out,
		              .out_size = sizeof(*out) };
	rc = exchange(c, &x);
	free(body);
	return rc;
}

int wsop_group_list(struct wsop_client *c, const char *softcard_id, struct wsop_group_list *out)
{
	char path[PATH_MAX_LEN];
	if (!c || !out || (softcard_id && !wsop_softcard_id_valid(softcard_id)))
		return -EINVAL;
	if (softcard_id)
		snprintf(path, sizeof(path), "/km/v1/groups?protectiondomain=%s", softcard_id);
	else
		snprintf(path, sizeof(path), "/km/v1/groups");
	return get_list(c, path, dec_group_list, out, sizeof(*out));
}

int wsop_group_list_page(struct wsop_client *c, const char *softcard_id, const char *after,
                         size_t limit, struct wsop_group_list *out)
{
	char path[PATH_MAX_LEN], query[96];
	if (!c || !out || (softcard_id && !wsop_softcard_id_valid(softcard_id)) ||
	    page_query(query, sizeof(query), after, limit))
		return -EINVAL;
	if (softcard_id)
		snprintf(path, sizeof(path), "/km/v1/groups%s&protectiondomain=%s", query,
		         softcard_id);
	else
		snprintf(path, sizeof(path), "/km/v1/groups%s", query);
	return get_list(c, path, dec_group_list, out, sizeof(*out));
}

/* ---- keys ---------------------------------------------------------------- */

int wsop_key_generate(struct wsop_client *c, const char *group_id,
                      const struct wsop_key_generate_req *req, const char *idempotency_key_in,
                      struct wsop_key *out)
{
	char path[PATH_MAX_LEN], keybuf[WSOP_IDEMPOTENCY_KEY_LEN + 1];
	const char *key;
	char *body = NULL;
	size_t body_len = 0;

	if (!c || !req || !out || !wsop_uuid_valid(group_id))
		return -EINVAL;
	int rc = idempotency_key(idempotency_key_in, keybuf, &key);
	if (!rc)
		rc = wsop_json_encode_key_generate_req(req, &body, &body_len);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/km/v1/groups/%s/keys", group_id);
	struct exchange x = { .method = "POST",
		              .path = path,
		              .body = body,
		              .body_len = body_len,
		              .idempotency_key = key,
		              .want_status = 201,
		              .decode = dec_key,
		              .out = out,
		              .out_size = sizeof(*out) };
	rc = exchange(c, &x);
	free(body);
	return rc;
}

int wsop_key_list(struct wsop_client *c, const char *group_id, struct wsop_key_list *out)
{
	char path[PATH_MAX_LEN];
	if (!c || !out || !wsop_uuid_valid(group_id))
		return -EINVAL;
	snprintf(path, sizeof(path), "/km/v1/groups/%s/keys", group_id);
	return get_list(c, path, dec_key_list, out, sizeof(*out));
}

int wsop_key_get(struct wsop_client *c, const char *group_id, const char *key_id,
                 struct wsop_key *out)
{
	char path[PATH_MAX_LEN];
	if (!c || !out || !wsop_uuid_valid(group_id) || !wsop_uuid_valid(key_id))
		return -EINVAL;
	snprintf(path, sizeof(path), "/km/v1/groups/%s/keys/%s", group_id, key_id);
	struct exchange x = { .method = "GET",
		              .path = path,
		              .want_status = 200,
		              .decode = dec_key,
		              .out = out,
		              .out_size = sizeof(*out) };
	return exchange(c, &x);
}

int wsop_key_delete(struct wsop_client *c, const char *group_id, const char *key_id,
                    const char *idempotency_key_in)
{
	char path[PATH_MAX_LEN], keybuf[WSOP_IDEMPOTENCY_KEY_LEN + 1];
	const char *key;
	if (!c || !wsop_uuid_valid(group_id) || !wsop_uuid_valid(key_id))
		return -EINVAL;
	int rc = idempotency_key(idempotency_key_in, keybuf, &key);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/km/v1/groups/%s/keys/%s", group_id, key_id);
	struct exchange x = {
		.method = "DELETE", .path = path, .idempotency_key = key, .want_status = 204
	};
	return exchange(c, &x);
}

int wsop_key_list_page(struct wsop_client *c, const char *group_id, const char *after, size_t limit,
                       struct wsop_key_list *out)
{
	char path[PATH_MAX_LEN], query[96];
	if (!c || !out || !wsop_uuid_valid(group_id) ||
	    page_query(query, sizeof(query), after, limit))
		return -EINVAL;
	snprintf(path, sizeof(path), "/km/v1/groups/%s/keys%s", group_id, query);
	return get_list(c, path, dec_key_list, out, sizeof(*out));
}

/* ---- objects ------------------------------------------------------------- */

int wsop_object_create(struct wsop_client *c, const char *softcard_id,
                       const struct wsop_object_create_req *req, const char *idempotency_key_in,
                       struct wsop_object *out)
{
	char path[PATH_MAX_LEN], keybuf[WSOP_IDEMPOTENCY_KEY_LEN + 1];
	const char *key;
	char *body = NULL;
	size_t body_len = 0;

	if (!c || !req || !out || !wsop_softcard_id_valid(softcard_id))
		return -EINVAL;
	int rc = idempotency_key(idempotency_key_in, keybuf, &key);
	if (!rc)
		rc = wsop_json_encode_object_create_req(req, &body, &body_len);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/km/v1/protectiondomains/%s/objects", softcard_id);
	struct exchange x = { .method = "POST",
		              .path = path,
		              .body = body,
		              .body_len = body_len,
		              .idempotency_key = key,
		              .want_status = 201,
		              .decode = dec_object,
		              .out = out,
		              .out_size = sizeof(*out) };
	rc = exchange(c, &x);
	free(body);
	return rc;
}

int wsop_object_list(struct wsop_client *c, const char *softcard_id, struct wsop_object_list *out)
{
	char path[PATH_MAX_LEN];
	if (!c || !out || !wsop_softcard_id_valid(softcard_id))
		return -EINVAL;
	snprintf(path, sizeof(path), "/km/v1/protectiondomains/%s/objects", softcard_id);
	return get_list(c, path, dec_object_list, out, sizeof(*out));
}

int wsop_object_list_page(struct wsop_client *c, const char *softcard_id, const char *after,
                          size_t limit, struct wsop_object_list *out)
{
	char path[PATH_MAX_LEN], query[96];
	if (!c || !out || !wsop_softcard_id_valid(softcard_id) ||
	    page_query(query, sizeof(query), after, limit))
		return -EINVAL;
	snprintf(path, sizeof(path), "/km/v1/protectiondomains/%s/objects%s", softcard_id, query);
	return get_list(c, path, dec_object_list, out, sizeof(*out));
}

int wsop_object_get(struct wsop_client *c, const char *softcard_id, const char *object_id,
                    struct wsop_object *out)
{
	char path[PATH_MAX_LEN];
	if (!c || !out || !wsop_softcard_id_valid(softcard_id) || !wsop_uuid_valid(object_id))
		return -EINVAL;
	snprintf(path, sizeof(path), "/km/v1/protectiondomains/%s/objects/%s", softcard_id,
	         object_id);
	struct exchange x = { .method = "GET",
		              .path = path,
		              .want_status = 200,
		              .decode = dec_object,
		              .out = out,
		              .out_size = sizeof(*out) };
	return exchange(c, &x);
}

int wsop_object_delete(struct wsop_client *c, const char *softcard_id, const char *object_id,
                       const char *idempotency_key_in)
{
	char path[PATH_MAX_LEN], keybuf[WSOP_IDEMPOTENCY_KEY_LEN + 1];
	const char *key;
	if (!c || !wsop_softcard_id_valid(softcard_id) || !wsop_uuid_valid(object_id))
		return -EINVAL;
	int rc = idempotency_key(idempotency_key_in, keybuf, &key);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/km/v1/protectiondomains/%s/objects/%s", softcard_id,
	         object_id);
	struct exchange x = {
		.method = "DELETE", .path = path, .idempotency_key = key, .want_status = 204
	};
	return exchange(c, &x);
}

/* ---- encryption ---------------------------------------------------------- */

/* Set once a server refused the binary form: an older wsopd, or a WSOP
 * service that speaks only JSON. */
static atomic_bool json_only;

static int crypto_json(struct wsop_client *c, const char *path, const struct wsop_crypto_req *req,
                       struct wsop_crypto_answer *out)
{
	char *body = NULL;
	size_t body_len = 0;

	int rc = wsop_json_encode_crypto_req(req, &body, &body_len);
	if (rc)
		return rc;
	struct exchange x = { .method = "POST",
		              .path = path,
		              .body = body,
		              .body_len = body_len,
		              .want_status = 200,
		              .decode = dec_crypto_answer,
		              .out = out,
		              .out_size = sizeof(*out),
		              .secret_answer = true };
	rc = exchange(c, &x);
	OPENSSL_clear_free(body, body_len);
	return rc;
}

/* The answer's body becomes out->data without a copy. */
static int crypto_binary(struct wsop_client *c, const char *path, const struct wsop_crypto_req *req,
                         struct wsop_crypto_answer *out)
{
	struct wsop_crypto_bin_head head;
	struct http_message answer;

	memset(out, 0, sizeof(*out));
	if (wsop_crypto_bin_head(req, &head) != 0)
		return -EINVAL;
	http_message_init(&answer);
	int rc = wsop_call_binary(c, path, head.h, WSOP_CRYPTO_BIN_HEADERS, req->data.data,
	                          req->data.len, &answer);
	if (rc)
		return rc;
	rc = status_result(c, &answer, 200);
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
	if (answer.body)
		OPENSSL_cleanse(answer.body, answer.body_len);
	http_message_clear(&answer);
	return rc;
}

static int crypto(struct wsop_client *c, const char *path, const struct wsop_crypto_req *req,
                  struct wsop_crypto_answer *out)
{
	if (!c || !req || !out)
		return -EINVAL;
	if (!atomic_load(&json_only)) {
		int rc = crypto_binary(c, path, req, out);
		bool refused =
		    rc == 415 || (rc == 400 && wsop_client_error_is(c, WSOP_E_BAD_REQUEST));
		if (!refused)
			return rc;
		atomic_store(&json_only, true);
		if (wsop_client_broken(c))
			return rc;
	}
	return crypto_json(c, path, req, out);
}

int wsop_encrypt(struct wsop_client *c, const struct wsop_crypto_req *req,
                 struct wsop_crypto_answer *out)
{
	return crypto(c, "/crypto/v1/encrypt", req, out);
}

int wsop_decrypt(struct wsop_client *c, const struct wsop_crypto_req *req,
                 struct wsop_crypto_answer *out)
{
	return crypto(c, "/crypto/v1/decrypt", req, out);
}

int wsop_random(struct wsop_client *c, size_t length, struct wsop_crypto_answer *out)
{
	char *body = NULL;
	size_t body_len = 0;

	if (!c || !out || length == 0 || length > WSOP_RANDOM_MAX)
		return -EINVAL;
	const struct wsop_random_req req = { .length = length };
	int rc = wsop_json_encode_random_req(&req, &body, &body_len);
	if (rc)
		return rc;
	struct exchange x = { .method = "POST",
		              .path = "/crypto/v1/random",
		              .body = body,
		              .body_len = body_len,
		              .want_status = 200,
		              .decode = dec_crypto_answer,
		              .out = out,
		              .out_size = sizeof(*out),
		              .secret_answer = true };
	rc = exchange(c, &x);
	free(body);
	if (rc == 0 && out->data.len != length) {
		wsop_crypto_answer_free(out);
		return -EPROTO;
	}
	return rc;
}
