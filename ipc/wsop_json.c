/*
 * WSOP JSON codec; the contract is in wsop_json.h. Each body is a put_ and
 * a get_ over the strict reader (json_reader.h) and the canonical writer
 * (json_writer.h); the attributes of keys and objects are loops over the
 * attribute table (object_attrs.h).
 */
#include "ipc/wsop_json.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "ipc/grow.h"
#include "ipc/json_reader.h"
#include "ipc/json_writer.h"
#include "ipc/object_attrs.h"

/* Seconds since the epoch up to 9999-12-31T23:59:59Z: wide enough for any
 * creation time, narrow enough that json-c's saturation of huge numbers
 * never turns into a silently accepted value. */
#define CREATED_MAX INT64_C(253402300799)

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Members of one "attributes" object at the most (object_attrs.h). */
#define ATTR_MEMBERS_MAX 32

/* ======================================================================
 * Error codes
 * ====================================================================== */

enum wsop_error wsop_json_rc_error(int rc)
{
	switch (rc) {
	case WSOP_JSON_ETOO_LARGE:
		return WSOP_E_TOO_LARGE;
	case WSOP_JSON_ESYNTAX:
	case WSOP_JSON_EDEPTH:
	case WSOP_JSON_ETRAILING:
	case WSOP_JSON_ENOT_OBJECT:
	case WSOP_JSON_EUNKNOWN_MEMBER:
	case WSOP_JSON_EMISSING:
	case WSOP_JSON_ETYPE:
	case WSOP_JSON_EBASE64:
	case WSOP_JSON_EBAD_VALUE:
		return WSOP_E_BAD_REQUEST;
	case WSOP_JSON_EBAD_ATTRIBUTE:
		return WSOP_E_BAD_ATTRIBUTE;
	case WSOP_JSON_EINVALID_NAME:
		return WSOP_E_INVALID_NAME;
	case WSOP_JSON_EINVALID_PASSPHRASE:
		return WSOP_E_INVALID_PASSPHRASE;
	case WSOP_JSON_EBAD_KEY_SIZE:
		return WSOP_E_BAD_KEY_SIZE;
	case WSOP_JSON_EBAD_MECHANISM:
		return WSOP_E_BAD_MECHANISM;
	case WSOP_JSON_EBAD_IV:
		return WSOP_E_BAD_IV;
	case WSOP_JSON_EBAD_DATA_LENGTH:
		return WSOP_E_BAD_DATA_LENGTH;
	default:
		return WSOP_E_INTERNAL;
	}
}

void wsop_json_error_set(struct wsop_json_error *err, const char *code, const char *message)
{
	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
	snprintf(err->code, sizeof(err->code), "%s", code ? code : "internal");
	snprintf(err->message, sizeof(err->message), "%s", message ? message : "");
}

/* ======================================================================
 * Memory
 * ====================================================================== */

int wsop_bytes_copy(struct wsop_bytes *dst, const uint8_t *data, size_t len)
{
	if (dst == NULL)
		return -EINVAL;
	dst->data = NULL;
	dst->len = 0;
	if (len == 0)
		return 0;
	if (data == NULL)
		return -EINVAL;
	dst->data = malloc(len);
	if (dst->data == NULL)
		return -ENOMEM;
	memcpy(dst->data, data, len);
	dst->len = len;
	return 0;
}

void wsop_bytes_free(struct wsop_bytes *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

void wsop_softcard_list_free(struct wsop_softcard_list *l)
{
	if (l == NULL)
		return;
	free(l->items);
	memset(l, 0, sizeof(*l));
}

void wsop_group_list_free(struct wsop_group_list *l)
{
	if (l == NULL)
		return;
	free(l->items);
	memset(l, 0, sizeof(*l));
}

void wsop_key_attributes_free(struct wsop_key_attributes *a)
{
	if (a == NULL)
		return;
	wsop_bytes_free(&a->id);
	memset(a, 0, sizeof(*a));
}

void wsop_key_generate_req_free(struct wsop_key_generate_req *r)
{
	if (r == NULL)
		return;
	wsop_key_attributes_free(&r->attributes);
	memset(r, 0, sizeof(*r));
}

void wsop_key_free(struct wsop_key *k)
{
	if (k == NULL)
		return;
	wsop_key_attributes_free(&k->attributes);
	memset(k, 0, sizeof(*k));
}

void wsop_key_list_free(struct wsop_key_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
		wsop_key_free(&l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

void wsop_object_attributes_free(struct wsop_object_attributes *a)
{
	if (a == NULL)
		return;
	object_attrs_free_bytes(a);
	memset(a, 0, sizeof(*a));
}

void wsop_object_create_req_free(struct wsop_object_create_req *r)
{
	if (r == NULL)
		return;
	wsop_object_attributes_free(&r->attributes);
	memset(r, 0, sizeof(*r));
}

void wsop_object_free(struct wsop_object *o)
{
	if (o == NULL)
		return;
	wsop_object_attributes_free(&o->attributes);
	memset(o, 0, sizeof(*o));
}

void wsop_object_list_free(struct wsop_object_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
		wsop_object_free(&l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* Crypto data may be plaintext: wiped, not just freed. */
static void bytes_clear_free(struct wsop_bytes *b)
{
	OPENSSL_clear_free(b->data, b->len);
	b->data = NULL;
	b->len = 0;
}

void wsop_crypto_req_free(struct wsop_crypto_req *r)
{
	if (r == NULL)
		return;
	bytes_clear_free(&r->data);
	memset(r, 0, sizeof(*r));
}

void wsop_crypto_answer_free(struct wsop_crypto_answer *a)
{
	if (a == NULL)
		return;
	bytes_clear_free(&a->data);
	memset(a, 0, sizeof(*a));
}

void wsop_softcard_create_req_cleanse(struct wsop_softcard_create_req *r)
{
	if (r != NULL)
		OPENSSL_cleanse(r, sizeof(*r));
}

void wsop_activate_req_cleanse(struct wsop_activate_req *r)
{
	if (r != NULL)
		OPENSSL_cleanse(r, sizeof(*r));
}

/* ======================================================================
 * Values of the schema
 * ====================================================================== */

static bool text_is_name(const char *s, size_t n)
{
	(void)n;
	return wsop_name_valid(s);
}

static bool text_is_softcard_id(const char *s, size_t n)
{
	(void)n;
	return wsop_softcard_id_valid(s);
}

static bool text_is_activation(const char *s, size_t n)
{
	(void)n;
	return wsop_activation_token_valid(s);
}

static bool text_is_uuid(const char *s, size_t n)
{
	(void)n;
	return wsop_uuid_valid(s);
}

static bool text_is_date(const char *s, size_t n)
{
	(void)n;
	return wsop_date_valid(s);
}

static bool text_is_utf8(const char *s, size_t n)
{
	return wsop_utf8_text_valid(s, n);
}

static bool text_is_key_path(const char *s, size_t n)
{
	char g[WSOP_UUID_LEN + 1], k[WSOP_UUID_LEN + 1];
	(void)n;
	return wsop_key_path_parse(s, g, k) == 0;
}

static int get_created(struct json_object *obj, int64_t *out, const char *ctx,
                       struct wsop_json_error *err)
{
	return jr_int(obj, "created", 0, CREATED_MAX, out, ctx, err);
}

/* ======================================================================
 * Codecs: what the generic encoders and decoders know of a body type
 * ====================================================================== */

/* put writes one value (setting w->err on one it cannot encode); get reads
 * one object, its messages naming members under ctx; free releases what a
 * decoded struct owns (NULL when it owns nothing). secret: the body
 * carries "passphrase", so every copy of the text is wiped. list: the
 * array member of the list body, for types that have one. */
struct codec {
	size_t size;
	bool secret;
	void (*put)(struct jw *w, const void *in);
	int (*get)(struct json_object *obj, void *out, const char *ctx,
	           struct wsop_json_error *err);
	void (*free)(void *out);
	const char *list;
	bool paged;       /* the list body may carry "next" (a uuid) */
	size_t id_offset; /* of the item's uuid text, for "next" */
};

static int encode_body(const struct codec *c, const void *in, char **out, size_t *out_len)
{
	struct jw w = { .secret = c->secret };
	if (in == NULL || out == NULL)
		return -EINVAL;
	c->put(&w, in);
	return jw_finish(&w, out, out_len);
}

/* A failed decode leaves *out zeroed: cleansed, as it may hold a
 * passphrase. */
static int decode_body(const struct codec *c, const char *text, size_t len, void *out,
                       struct wsop_json_error *err)
{
	struct json_object *root;

	if (out == NULL)
		return jr_fail(err, WSOP_JSON_ENOMEM, "", "no output");
	memset(out, 0, c->size);
	int rc = jr_parse(text, len, c->secret, &root, err);
	if (rc)
		return rc;
	rc = c->get(root, out, "", err);
	if (c->secret)
		jr_wipe_string(root, "passphrase");
	json_object_put(root);
	if (rc) {
		if (c->free != NULL)
			c->free(out);
		OPENSSL_cleanse(out, c->size);
	}
	return rc;
}

/* The members after the array: "next" when there is one. */
static void put_next(struct jw *w, const char *next)
{
	if (next && next[0])
		jw_text(w, "next", next, WSOP_UUID_LEN + 1);
}

/* Room kept for "],"next":"<uuid>"}" when a page is cut by bytes. */
#define PAGE_TAIL_MAX 64

/* Writes the leading items that keep the text within max_bytes (0: all),
 * at least one; when some are left out, "next" is the id of the last one
 * written, else next. *taken (when not NULL) says how many were written. */
static int encode_list(const struct codec *c, const void *items, size_t count, const char *next,
                       size_t max_bytes, size_t *taken, char **out, size_t *out_len)
{
	struct jw w = { 0 };
	size_t i = 0;
	if (!out || (count > 0 && !items) || (max_bytes > 0 && !c->paged))
		return -EINVAL;
	jw_open(&w, NULL, '{');
	jw_open(&w, c->list, '[');
	for (; i < count && !w.err; i++) {
		size_t before = w.len;
		c->put(&w, (const unsigned char *)items + i * c->size);
		if (max_bytes > 0 && i > 0 && w.len + PAGE_TAIL_MAX > max_bytes) {
			w.len = before;
			w.buf[w.len] = '\0';
			break;
		}
	}
	jw_close(&w, ']');
	if (i < count && i > 0)
		next = (const char *)items + (i - 1) * c->size + c->id_offset;
	put_next(&w, next);
	jw_close(&w, '}');
	if (taken != NULL)
		*taken = w.err ? 0 : i;
	return jw_finish(&w, out, out_len);
}

/* Decodes the array member of a list body element by element into a
 * geometrically grown array, so that memory follows the elements that
 * actually decode (each costs tens of input bytes) and never a count the
 * sender chose. count NULL means no output. */
static int decode_list(const struct codec *c, const char *text, size_t len, void **items,
                       size_t *count, char next[WSOP_UUID_LEN + 1], struct wsop_json_error *err)
{
	const char *const members[] = { c->list, "next" };
	struct json_object *root, *arr;
	char ctx[96];

	*items = NULL;
	if (count == NULL)
		return jr_fail(err, WSOP_JSON_ENOMEM, "", "no output");
	*count = 0;
	int rc = jr_parse(text, len, false, &root, err);
	if (rc)
		return rc;
	if (next != NULL)
		next[0] = '\0';
	if ((rc = jr_check_members(root, members, c->paged ? 2 : 1, "", err)) ||
	    (rc = jr_member(root, c->list, true, json_type_array, &arr, "", err)) ||
	    (c->paged && (rc = jr_text(root, "next", false, next, WSOP_UUID_LEN, text_is_uuid,
	                               WSOP_JSON_EBAD_VALUE, NULL, "", err)))) {
		json_object_put(root);
		return rc;
	}
	size_t n = json_object_array_length(arr), cap = 0;
	unsigned char *buf = NULL;
	for (size_t i = 0; i < n; i++) {
		struct json_object *el = json_object_array_get_idx(arr, i);
		snprintf(ctx, sizeof(ctx), "%s[%zu]", c->list, i);
		if (!json_object_is_type(el, json_type_object)) {
			rc = jr_fail(err, WSOP_JSON_ETYPE, ctx, "must be an object");
			break;
		}
		if (grow_to((void **)&buf, &cap, i + 1, c->size, n) != 0) {
			rc = jr_fail(err, WSOP_JSON_ENOMEM, ctx, "out of memory");
			break;
		}
		void *item = buf + i * c->size;
		memset(item, 0, c->size);
		rc = c->get(el, item, ctx, err);
		if (rc) {
			if (c->free != NULL)
				c->free(item);
			break;
		}
		*count = i + 1;
	}
	json_object_put(root);
	if (rc) {
		for (size_t i = 0; c->free && i < *count; i++)
			c->free(buf + i * c->size);
		free(buf);
		*count = 0;
		return rc;
	}
	*items = buf;
	return 0;
}

/* The public encode and decode of a body, written once for every body
 * whose struct is named like its functions. */
#define BODY_FUNCTIONS(name, codec)                                                                \
	int wsop_json_encode_##name(const struct wsop_##name *in, char **out, size_t *out_len)     \
	{                                                                                          \
		return encode_body(&codec, in, out, out_len);                                      \
	}                                                                                          \
	int wsop_json_decode_##name(const char *text, size_t len, struct wsop_##name *out,         \
	                            struct wsop_json_error *err)                                   \
	{                                                                                          \
		return decode_body(&codec, text, len, out, err);                                   \
	}

/* The same plus a list, a page of a list and a list decoded: groups, keys
 * and objects. */
#define PAGED_BODY_FUNCTIONS(name, codec)                                                          \
	BODY_FUNCTIONS(name, codec)                                                                \
	int wsop_json_encode_##name##_list(const struct wsop_##name##_list *in, char **out,        \
	                                   size_t *out_len)                                        \
	{                                                                                          \
		return in ? encode_list(&codec, in->items, in->count, in->next, 0, NULL, out,      \
		                        out_len)                                                   \
		          : -EINVAL;                                                               \
	}                                                                                          \
	int wsop_json_encode_##name##_page(const struct wsop_##name##_list *in, size_t max_bytes,  \
	                                   size_t *taken, char **out, size_t *out_len)             \
	{                                                                                          \
		if (in == NULL || max_bytes == 0 || taken == NULL)                                 \
			return -EINVAL;                                                            \
		return encode_list(&codec, in->items, in->count, in->next, max_bytes, taken, out,  \
		                   out_len);                                                       \
	}                                                                                          \
	int wsop_json_decode_##name##_list(const char *text, size_t len,                           \
	                                   struct wsop_##name##_list *out,                         \
	                                   struct wsop_json_error *err)                            \
	{                                                                                          \
		void *items;                                                                       \
		int rc = decode_list(&codec, text, len, &items, out ? &out->count : NULL,          \
		                     out ? out->next : NULL, err);                                 \
		if (out != NULL)                                                                   \
			out->items = items;                                                        \
		return rc;                                                                         \
	}

/* A body's codec, from its put_<name> and get_<name> and the codec fields
 * given. */
#define CODEC(name, ...)                                                                           \
	static const struct codec name##_codec = { .size = sizeof(struct wsop_##name),             \
		                                   .put = put_##name,                              \
		                                   .get = get_##name,                              \
		                                   __VA_ARGS__ }

/* The codec's free for a body that owns memory (wsop_<name>_free). */
#define FREE_ADAPTER(name)                                                                         \
	static void free_##name(void *p)                                                           \
	{                                                                                          \
		wsop_##name##_free(p);                                                             \
	}

/* The codec fields of a body with paged lists, whose array is member. */
#define PAGED_CODEC(name, member)                                                                  \
	.list = (member), .paged = true, .id_offset = offsetof(struct wsop_##name, id)

/* A body's codec and public functions. */
#define BODY(name, ...)                                                                            \
	CODEC(name, __VA_ARGS__);                                                                  \
	BODY_FUNCTIONS(name, name##_codec)
#define OWNING_BODY(name)                                                                          \
	FREE_ADAPTER(name)                                                                         \
	BODY(name, .free = free_##name)
#define PAGED_BODY(name, member)                                                                   \
	CODEC(name, PAGED_CODEC(name, member));                                                    \
	PAGED_BODY_FUNCTIONS(name, name##_codec)
#define OWNING_PAGED_BODY(name, member)                                                            \
	FREE_ADAPTER(name)                                                                         \
	CODEC(name, .free = free_##name, PAGED_CODEC(name, member));                               \
	PAGED_BODY_FUNCTIONS(name, name##_codec)

/* ======================================================================
 * Bodies: health, error
 * ====================================================================== */

static void put_health(struct jw *w, const void *in)
{
	const struct wsop_health *h = in;
	jw_open(w, NULL, '{');
	jw_text(w, "status", h->status, sizeof(h->status));
	jw_text(w, "version", h->version, sizeof(h->version));
	jw_close(w, '}');
}

static int get_health(struct json_object *obj, void *outp, const char *ctx,
                      struct wsop_json_error *err)
{
	static const char *const members[] = { "status", "version" };
	struct wsop_health *out = outp;
	int rc;

	if ((rc = jr_check_members(obj, members, ARRAY_LEN(members), ctx, err)) ||
	    (rc = jr_text(obj, "status", true, out->status, WSOP_HEALTH_STATUS_MAX, NULL,
	                  WSOP_JSON_EBAD_VALUE, NULL, ctx, err)))
		return rc;
	return jr_text(obj, "version", true, out->version, WSOP_HEALTH_VERSION_MAX, NULL,
	               WSOP_JSON_EBAD_VALUE, NULL, ctx, err);
}

BODY(health, .secret = false)

static bool text_is_code(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return false;
	return true;
}

static void put_error(struct jw *w, const void *in)
{
	const struct wsop_json_error *e = in;
	jw_open(w, NULL, '{');
	jw_open(w, "error", '{');
	jw_text(w, "code", e->code, sizeof(e->code));
	jw_text(w, "message", e->message, sizeof(e->message));
	jw_close(w, '}');
	jw_close(w, '}');
}

static int get_error(struct json_object *obj, void *outp, const char *ctx,
                     struct wsop_json_error *err)
{
	static const char *const outer[] = { "error" };
	static const char *const inner[] = { "code", "message" };
	struct wsop_json_error *out = outp;
	struct json_object *e;
	int rc;

	if ((rc = jr_check_members(obj, outer, ARRAY_LEN(outer), ctx, err)) ||
	    (rc = jr_member(obj, "error", true, json_type_object, &e, ctx, err)) ||
	    (rc = jr_check_members(e, inner, ARRAY_LEN(inner), "error", err)) ||
	    (rc = jr_text(e, "code", true, out->code, WSOP_ERROR_CODE_MAX, text_is_code,
	                  WSOP_JSON_EBAD_VALUE, NULL, "error", err)))
		return rc;
	return jr_text(e, "message", true, out->message, WSOP_ERROR_MESSAGE_MAX, text_is_utf8,
	               WSOP_JSON_EBAD_VALUE, NULL, "error", err);
}

static const struct codec error_codec = {
	.size = sizeof(struct wsop_json_error),
	.put = put_error,
	.get = get_error,
};

int wsop_json_encode_error(const struct wsop_json_error *in, char **out, size_t *out_len)
{
	return encode_body(&error_codec, in, out, out_len);
}

int wsop_json_decode_error(const char *text, size_t len, struct wsop_json_error *out,
                           struct wsop_json_error *err)
{
	return decode_body(&error_codec, text, len, out, err);
}

int wsop_json_decode_empty(const char *text, size_t len, struct wsop_json_error *err)
{
	struct json_object *root;

	if (len == 0)
		return 0;
	int rc = jr_parse(text, len, false, &root, err);
	if (rc)
		return rc;
	rc = jr_check_members(root, NULL, 0, "", err);
	json_object_put(root);
	return rc;
}

/* ======================================================================
 * Bodies: softcards
 * ====================================================================== */

static void put_softcard(struct jw *w, const void *in)
{
	const struct wsop_softcard *s = in;
	jw_open(w, NULL, '{');
	jw_text(w, "id", s->id, sizeof(s->id));
	jw_lit(w, ",\"type\":\"Softcard\"");
	jw_text(w, "name", s->name, sizeof(s->name));
	jw_int(w, "created", s->created);
	jw_bool(w, "active", s->active);
	/* Only when there is something to say, so that an answer about a
	 * softcard without failures reads as it always did. */
	if (s->login_failures > 0)
		jw_int(w, "login_failures", s->login_failures);
	if (s->login_limit > 0)
		jw_int(w, "login_limit", s->login_limit);
	if (s->locked_for > 0)
		jw_int(w, "locked_for", s->locked_for);
	if (s->activation[0] != '\0')
		jw_text(w, "activation", s->activation, sizeof(s->activation));
	jw_close(w, '}');
}

static int get_softcard(struct json_object *obj, void *outp, const char *ctx,
                        struct wsop_json_error *err)
{
	static const char *const members[] = {
		"id",         "type",           "name",        "created",   "active",
		"activation", "login_failures", "login_limit", "locked_for"
	};
	struct wsop_softcard *out = outp;
	int rc;

	if ((rc = jr_check_members(obj, members, ARRAY_LEN(members), ctx, err)) ||
	    (rc = jr_text(obj, "id", true, out->id, WSOP_SOFTCARD_ID_LEN, text_is_softcard_id,
	                  WSOP_JSON_EBAD_VALUE, NULL, ctx, err)) ||
	    (rc = jr_fixed(obj, "type", "Softcard", ctx, err)) ||
	    (rc = jr_text(obj, "name", true, out->name, WSOP_NAME_MAX, text_is_name,
	                  WSOP_JSON_EINVALID_NAME, NULL, ctx, err)) ||
	    (rc = get_created(obj, &out->created, ctx, err)) ||
	    (rc = jr_text(obj, "activation", false, out->activation, WSOP_ACTIVATION_MAX,
	                  text_is_activation, WSOP_JSON_EBAD_VALUE, NULL, ctx, err)) ||
	    (rc = jr_int_member(obj, "login_failures", false, 0, WSOP_LOGIN_FAILURES_MAX,
	                        &out->login_failures, ctx, err)) ||
	    (rc = jr_int_member(obj, "login_limit", false, 0, WSOP_LOGIN_LIMIT_MAX,
	                        &out->login_limit, ctx, err)) ||
	    (rc = jr_int_member(obj, "locked_for", false, 0, WSOP_LOCKED_FOR_MAX, &out->locked_for,
	                        ctx, err)))
		return rc;
	return jr_bool(obj, "active", true, false, &out->active, ctx, err);
}

BODY(softcard, .list = "protectiondomains")

int wsop_json_encode_softcard_list(const struct wsop_softcard_list *in, char **out, size_t *out_len)
{
	return in ? encode_list(&softcard_codec, in->items, in->count, NULL, 0, NULL, out, out_len)
	          : -EINVAL;
}

int wsop_json_decode_softcard_list(const char *text, size_t len, struct wsop_softcard_list *out,
                                   struct wsop_json_error *err)
{
	void *items;
	int rc =
	    decode_list(&softcard_codec, text, len, &items, out ? &out->count : NULL, NULL, err);
	if (out != NULL)
		out->items = items;
	return rc;
}

static bool text_is_passphrase(const char *s, size_t n)
{
	return wsop_passphrase_valid(s, n);
}

static int get_passphrase(struct json_object *obj, char *buf, const char *ctx,
                          struct wsop_json_error *err)
{
	return jr_text(obj, "passphrase", true, buf, WSOP_PASSPHRASE_MAX, text_is_passphrase,
	               WSOP_JSON_EINVALID_PASSPHRASE, NULL, ctx, err);
}

static void put_softcard_create_req(struct jw *w, const void *in)
{
	const struct wsop_softcard_create_req *r = in;
	jw_lit(w, "{\"type\":\"Softcard\"");
	jw_text(w, "name", r->name, sizeof(r->name));
	jw_text(w, "passphrase", r->passphrase, sizeof(r->passphrase));
	jw_close(w, '}');
}

static int get_softcard_create_req(struct json_object *obj, void *outp, const char *ctx,
                                   struct wsop_json_error *err)
{
	static const char *const members[] = { "type", "name", "passphrase" };
	struct wsop_softcard_create_req *out = outp;
	int rc;

	if ((rc = jr_check_members(obj, members, ARRAY_LEN(members), ctx, err)) ||
	    (rc = jr_fixed(obj, "type", "Softcard", ctx, err)) ||
	    (rc = jr_text(obj, "name", true, out->name, WSOP_NAME_MAX, text_is_name,
	                  WSOP_JSON_EINVALID_NAME, NULL, ctx, err)))
		return rc;
	return get_passphrase(obj, out->passphrase, ctx, err);
}

BODY(softcard_create_req, .secret = true)

static void put_activate_req(struct jw *w, const void *in)
{
	const struct wsop_activate_req *r = in;
	jw_open(w, NULL, '{');
	jw_text(w, "passphrase", r->passphrase, sizeof(r->passphrase));
	jw_close(w, '}');
}

static int get_activate_req(struct json_object *obj, void *outp, const char *ctx,
                            struct wsop_json_error *err)
{
	static const char *const members[] = { "passphrase" };
	struct wsop_activate_req *out = outp;
	int rc = jr_check_members(obj, members, ARRAY_LEN(members), ctx, err);
	return rc ? rc : get_passphrase(obj, out->passphrase, ctx, err);
}

BODY(activate_req, .secret = true)

/* ======================================================================
 * Bodies: groups
 * ====================================================================== */

static void put_group(struct jw *w, const void *in)
{
	const struct wsop_group *g = in;
	jw_open(w, NULL, '{');
	jw_text(w, "id", g->id, sizeof(g->id));
	jw_text(w, "name", g->name, sizeof(g->name));
	jw_text(w, "protectiondomain", g->protectiondomain, sizeof(g->protectiondomain));
	jw_int(w, "created", g->created);
	jw_close(w, '}');
}

static int get_group(struct json_object *obj, void *outp, const char *ctx,
                     struct wsop_json_error *err)
{
	static const char *const members[] = { "id", "name", "protectiondomain", "created" };
	struct wsop_group *out = outp;
	int rc;

	if ((rc = jr_check_members(obj, members, ARRAY_LEN(members), ctx, err)) ||
	    (rc = jr_text(obj, "id", true, out->id, WSOP_UUID_LEN, text_is_uuid,
	                  WSOP_JSON_EBAD_VALUE, NULL, ctx, err)) ||
	    (rc = jr_text(obj, "name", true, out->name, WSOP_NAME_MAX, text_is_name,
	                  WSOP_JSON_EINVALID_NAME, NULL, ctx, err)) ||
	    (rc =
	         jr_text(obj, "protectiondomain", true, out->protectiondomain, WSOP_SOFTCARD_ID_LEN,
	                 text_is_softcard_id, WSOP_JSON_EBAD_VALUE, NULL, ctx, err)))
		return rc;
	return get_created(obj, &out->created, ctx, err);
}

PAGED_BODY(group, "groups")

static void put_group_create_req(struct jw *w, const void *in)
{
	const struct wsop_group_create_req *r = in;
	jw_open(w, NULL, '{');
	jw_text(w, "name", r->name, sizeof(r->name));
	jw_text(w, "protectiondomain", r->protectiondomain, sizeof(r->protectiondomain));
	jw_close(w, '}');
}

static int get_group_create_req(struct json_object *obj, void *outp, const char *ctx,
                                struct wsop_json_error *err)
{
	static const char *const members[] = { "name", "protectiondomain" };
	struct wsop_group_create_req *out = outp;
	int rc;

	if ((rc = jr_check_members(obj, members, ARRAY_LEN(members), ctx, err)) ||
	    (rc = jr_text(obj, "name", true, out->name, WSOP_NAME_MAX, text_is_name,
	                  WSOP_JSON_EINVALID_NAME, NULL, ctx, err)))
		return rc;
	return jr_text(obj, "protectiondomain", true, out->protectiondomain, WSOP_SOFTCARD_ID_LEN,
	               text_is_softcard_id, WSOP_JSON_EBAD_VALUE, NULL, ctx, err);
}

BODY(group_create_req, .secret = false)

/* ======================================================================
 * Attributes of keys and objects: loops over object_attrs.h
 * ====================================================================== */

static const void *field_at(const void *base, size_t offset)
{
	return (const unsigned char *)base + offset;
}

static void *field_at_mut(void *base, size_t offset)
{
	return (unsigned char *)base + offset;
}

/* One member from the row's field: text, base64url bytes or a boolean. */
static void put_attr(struct jw *w, const struct object_attr *r, const void *field)
{
	switch (r->kind) {
	case ATTR_TEXT:
	case ATTR_DATE:
		jw_text(w, r->json, field, r->max + 1);
		break;
	case ATTR_BYTES:
		jw_bytes(w, r->json, field);
		break;
	case ATTR_BOOL:
		jw_bool(w, r->json, *(const bool *)field);
		break;
	default: /* the one value of a fixed member (a wire row has one) */
		jw_key(w, r->json);
		jw_string(w, r->fixed, strlen(r->fixed));
		break;
	}
}

/* One member into the row's field, each fault bad_attribute but for the
 * codes of a missing member, a wrong JSON type and bad base64url. */
static int get_attr(struct json_object *obj, const struct object_attr *r, bool required,
                    void *field, bool *present, const char *ctx, struct wsop_json_error *err)
{
	const int bad = WSOP_JSON_EBAD_ATTRIBUTE;
	char where[192], why[48];
	const char *s;
	size_t n;
	int rc;

	switch (r->kind) {
	case ATTR_TEXT:
		return jr_text(obj, r->json, required, field, r->max, text_is_utf8, bad, present,
		               ctx, err);
	case ATTR_DATE:
		return jr_text(obj, r->json, required, field, r->max, text_is_date, bad, present,
		               ctx, err);
	case ATTR_BYTES:
		return jr_b64(obj, r->json, required, r->max, bad, field, present, ctx, err);
	default:
		if ((rc = jr_string(obj, r->json, required, &s, &n, ctx, err)) || s == NULL)
			return rc;
		if (n != strlen(r->fixed) || memcmp(s, r->fixed, n) != 0) {
			snprintf(why, sizeof(why), "only %s is supported", r->fixed);
			return jr_fail(err, bad, jr_member_path(where, sizeof(where), ctx, r->json),
			               why);
		}
		*present = true;
		return 0;
	}
}

/* Refuses a member that no row carries for the classes in mask. */
static int check_attr_members(struct json_object *obj, unsigned mask, const char *ctx,
                              struct wsop_json_error *err)
{
	const char *names[ATTR_MEMBERS_MAX];
	size_t n = 0;

	for (size_t i = 0; i < OBJECT_ATTR_COUNT && n < ATTR_MEMBERS_MAX; i++)
		if (object_attrs[i].wire & mask)
			names[n++] = object_attrs[i].json;
	return jr_check_members(obj, names, n, ctx, err);
}

static bool key_has(const struct object_attr *r, const struct wsop_key_attributes *a)
{
	return r->key_present == ATTR_NO_FIELD || *(const bool *)field_at(a, r->key_present);
}

static void put_key_attributes(struct jw *w, const struct wsop_key_attributes *a, bool answer)
{
	jw_open(w, "attributes", '{');
	for (size_t i = 0; i < OBJECT_ATTR_COUNT; i++) {
		const struct object_attr *r = &object_attrs[i];
		if ((r->wire & ATTR_IN(ATTR_KEY)) && key_has(r, a) && (answer || !r->answer_only))
			put_attr(w, r, field_at(a, r->key_value));
	}
	jw_close(w, '}');
}

/* One key flag: required in answers; a request defaults to true the flags
 * a template may set either way (encrypt, decrypt), to false the rest,
 * which it must not set (AES keys here only encrypt and decrypt). */
static int get_key_flag(struct json_object *obj, const struct object_attr *r, bool answer,
                        bool *flag, const char *ctx, struct wsop_json_error *err)
{
	char where[192];
	int rc = jr_bool(obj, r->json, answer, r->rule == RULE_ANY, flag, ctx, err);

	if (rc == 0 && !answer && r->rule == RULE_FALSE && *flag)
		rc = jr_fail(err, WSOP_JSON_EBAD_ATTRIBUTE,
		             jr_member_path(where, sizeof(where), ctx, r->json), "must be false");
	return rc;
}

/* The key "attributes" object of a generate request (answer false) or of
 * a key answer (answer true). */
static int get_key_attributes(struct json_object *parent, bool answer,
                              struct wsop_key_attributes *a, struct wsop_json_error *err)
{
	static const char ctx[] = "attributes";
	char where[192];
	struct json_object *obj;
	int rc;

	memset(a, 0, sizeof(*a));
	if ((rc = jr_member(parent, "attributes", true, json_type_object, &obj, "", err)) ||
	    (rc = check_attr_members(obj, ATTR_IN(ATTR_KEY), ctx, err)))
		return rc;
	for (size_t i = 0; i < OBJECT_ATTR_COUNT && !answer; i++) {
		const struct object_attr *r = &object_attrs[i];
		if (r->answer_only && json_object_object_get_ex(obj, r->json, NULL))
			return jr_fail(err, WSOP_JSON_EBAD_ATTRIBUTE,
			               jr_member_path(where, sizeof(where), ctx, r->json),
			               "not settable");
	}
	for (size_t i = 0; i < OBJECT_ATTR_COUNT && rc == 0; i++) {
		const struct object_attr *r = &object_attrs[i];
		void *field = field_at_mut(a, r->key_value);
		if (!(r->wire & ATTR_IN(ATTR_KEY)) || (r->answer_only && !answer))
			continue;
		if (r->kind == ATTR_BOOL)
			rc = get_key_flag(obj, r, answer, field, ctx, err);
		else
			rc = get_attr(obj, r, (r->required & ATTR_IN(ATTR_KEY)) != 0, field,
			              r->key_present == ATTR_NO_FIELD
			                  ? NULL
			                  : field_at_mut(a, r->key_present),
			              ctx, err);
	}
	if (rc)
		wsop_key_attributes_free(a);
	return rc;
}

/* ======================================================================
 * Bodies: AES keys
 * ====================================================================== */

static int get_key_size(struct json_object *obj, int *size, const char *ctx,
                        struct wsop_json_error *err)
{
	char where[192];
	int64_t v;
	int rc = jr_int(obj, "size", INT64_MIN, INT64_MAX, &v, ctx, err);
	if (rc)
		return rc;
	if (v != 128 && v != 192 && v != 256)
		return jr_fail(err, WSOP_JSON_EBAD_KEY_SIZE,
		               jr_member_path(where, sizeof(where), ctx, "size"),
		               "must be 128, 192 or 256");
	*size = (int)v;
	return 0;
}

static void put_key_generate_req(struct jw *w, const void *in)
{
	const struct wsop_key_generate_req *r = in;
	jw_lit(w, "{\"algorithm\":\"AES\"");
	jw_int(w, "size", r->size);
	put_key_attributes(w, &r->attributes, false);
	jw_close(w, '}');
}

static int get_key_generate_req(struct json_object *obj, void *outp, const char *ctx,
                                struct wsop_json_error *err)
{
	static const char *const members[] = { "algorithm", "size", "attributes" };
	struct wsop_key_generate_req *out = outp;
	int rc;

	if ((rc = jr_check_members(obj, members, ARRAY_LEN(members), ctx, err)) ||
	    (rc = jr_fixed(obj, "algorithm", "AES", ctx, err)) ||
	    (rc = get_key_size(obj, &out->size, ctx, err)))
		return rc;
	return get_key_attributes(obj, false, &out->attributes, err);
}

OWNING_BODY(key_generate_req)

static void put_key(struct jw *w, const void *in)
{
	const struct wsop_key *k = in;
	jw_open(w, NULL, '{');
	jw_text(w, "id", k->id, sizeof(k->id));
	jw_text(w, "path", k->path, sizeof(k->path));
	jw_text(w, "group", k->group, sizeof(k->group));
	jw_text(w, "protectiondomain", k->protectiondomain, sizeof(k->protectiondomain));
	jw_lit(w, ",\"algorithm\":\"AES\"");
	jw_int(w, "size", k->size);
	jw_int(w, "created", k->created);
	put_key_attributes(w, &k->attributes, true);
	jw_close(w, '}');
}

/* In a key answer, path must name the key's own group and id. */
static int check_key_path(const struct wsop_key *k, const char *ctx, struct wsop_json_error *err)
{
	char where[192], g[WSOP_UUID_LEN + 1], id[WSOP_UUID_LEN + 1];
	if (wsop_key_path_parse(k->path, g, id) != 0 || strcmp(g, k->group) != 0 ||
	    strcmp(id, k->id) != 0)
		return jr_fail(err, WSOP_JSON_EBAD_VALUE,
		               jr_member_path(where, sizeof(where), ctx, "path"),
		               "does not name this key");
	return 0;
}

static int get_key(struct json_object *obj, void *outp, const char *ctx,
                   struct wsop_json_error *err)
{
	static const char *const members[] = { "id",        "path", "group",   "protectiondomain",
		                               "algorithm", "size", "created", "attributes" };
	struct wsop_key *out = outp;
	int rc;

	if ((rc = jr_check_members(obj, members, ARRAY_LEN(members), ctx, err)) ||
	    (rc = jr_text(obj, "id", true, out->id, WSOP_UUID_LEN, text_is_uuid,
	                  WSOP_JSON_EBAD_VALUE, NULL, ctx, err)) ||
	    (rc = jr_text(obj, "path", true, out->path, WSOP_KEY_PATH_LEN, text_is_key_path,
	                  WSOP_JSON_EBAD_VALUE, NULL, ctx, err)) ||
	    (rc = jr_text(obj, "group", true, out->group, WSOP_UUID_LEN, text_is_uuid,
	                  WSOP_JSON_EBAD_VALUE, NULL, ctx, err)) ||
	    (rc = check_key_path(out, ctx, err)) ||
	    (rc =
	         jr_text(obj, "protectiondomain", true, out->protectiondomain, WSOP_SOFTCARD_ID_LEN,
	                 text_is_softcard_id, WSOP_JSON_EBAD_VALUE, NULL, ctx, err)) ||
	    (rc = jr_fixed(obj, "algorithm", "AES", ctx, err)) ||
	    (rc = get_key_size(obj, &out->size, ctx, err)) ||
	    (rc = get_created(obj, &out->created, ctx, err)))
		return rc;
	return get_key_attributes(obj, true, &out->attributes, err);
}

OWNING_PAGED_BODY(key, "keys")

/* ======================================================================
 * Bodies: data objects and certificates
 * ====================================================================== */

static const char *class_name(enum wsop_object_class cls)
{
	switch (cls) {
	case WSOP_OBJECT_DATA:
		return "data";
	case WSOP_OBJECT_CERTIFICATE:
		return "certificate";
	}
	return NULL;
}

static void put_object_attributes(struct jw *w, const struct wsop_object_attributes *a)
{
	jw_open(w, "attributes", '{');
	for (size_t i = 0; i < OBJECT_ATTR_COUNT; i++) {
		const struct object_attr *r = &object_attrs[i];
		if ((r->wire & ATTR_OBJECTS) && *(const bool *)field_at(a, r->obj_present))
			put_attr(w, r, r->fixed ? NULL : field_at(a, r->obj_value));
	}
	jw_close(w, '}');
}

/* The decoder's passes over the rows of a class: the fixed-value member
 * that marks it, the members of both classes, then its own. */
static int decode_pass(const struct object_attr *r)
{
	if (r->fixed != NULL)
		return 0;
	return (r->wire & ATTR_OBJECTS) == ATTR_OBJECTS ? 1 : 2;
}

/* value_omitted: a listing item, whose value is left out (and must be). */
static int get_object_attributes(struct json_object *parent, enum wsop_object_class cls,
                                 bool value_omitted, struct wsop_object_attributes *a,
                                 struct wsop_json_error *err)
{
	static const char ctx[] = "attributes";
	const bool cert = cls == WSOP_OBJECT_CERTIFICATE;
	const unsigned own = ATTR_IN(cert ? ATTR_CERT : ATTR_DATA);
	char where[192];
	struct json_object *obj;
	int rc;

	memset(a, 0, sizeof(*a));
	if ((rc = jr_member(parent, "attributes", true, json_type_object, &obj, "", err)) ||
	    (rc = check_attr_members(obj, ATTR_OBJECTS, ctx, err)))
		return rc;
	for (size_t i = 0; i < OBJECT_ATTR_COUNT; i++) {
		const struct object_attr *r = &object_attrs[i];
		if ((r->wire & ATTR_OBJECTS & ~own) && !(r->wire & own) &&
		    json_object_object_get_ex(obj, r->json, NULL))
			return jr_fail(err, WSOP_JSON_EBAD_ATTRIBUTE,
			               jr_member_path(where, sizeof(where), ctx, r->json),
			               cert ? "not an attribute of certificates"
			                    : "not an attribute of data objects");
	}
	if (value_omitted && json_object_object_get_ex(obj, "value", NULL))
		return jr_fail(err, WSOP_JSON_EBAD_VALUE,
		               jr_member_path(where, sizeof(where), ctx, "value"),
		               "a value with value_len");
	for (int pass = 0; pass < 3 && rc == 0; pass++) {
		for (size_t i = 0; i < OBJECT_ATTR_COUNT && rc == 0; i++) {
			const struct object_attr *r = &object_attrs[i];
			bool required = (r->required & own) != 0;
			if (!(r->wire & own) || decode_pass(r) != pass)
				continue;
			if (value_omitted && r->show[ATTR_CERT] == SHOW_VALUE)
				required = false;
			rc = get_attr(obj, r, required,
			              r->fixed ? NULL : object_attr_obj_value(r, a),
			              object_attr_obj_present(r, a), ctx, err);
		}
	}
	if (rc)
		wsop_object_attributes_free(a);
	return rc;
}

static int get_class(struct json_object *obj, enum wsop_object_class *cls, const char *ctx,
                     struct wsop_json_error *err)
{
	char where[192];
	const char *s;
	size_t n;
	int rc = jr_string(obj, "class", true, &s, &n, ctx, err);
	if (rc)
		return rc;
	if (n == 4 && memcmp(s, "data", 4) == 0)
		*cls = WSOP_OBJECT_DATA;
	else if (n == 11 && memcmp(s, "certificate", 11) == 0)
		*cls = WSOP_OBJECT_CERTIFICATE;
	else
		return jr_fail(err, WSOP_JSON_EBAD_VALUE,
		               jr_member_path(where, sizeof(where), ctx, "class"),
		               "must be data or certificate");
	return 0;
}

static void put_object_create_req(struct jw *w, const void *in)
{
	const struct wsop_object_create_req *r = in;
	const char *cls = class_name(r->cls);
	if (cls == NULL) {
		w->err = -EINVAL;
		return;
	}
	jw_open(w, NULL, '{');
	jw_key(w, "class");
	jw_string(w, cls, strlen(cls));
	put_object_attributes(w, &r->attributes);
	jw_close(w, '}');
}

static int get_object_create_req(struct json_object *obj, void *outp, const char *ctx,
                                 struct wsop_json_error *err)
{
	static const char *const members[] = { "class", "attributes" };
	struct wsop_object_create_req *out = outp;
	int rc;

	if ((rc = jr_check_members(obj, members, ARRAY_LEN(members), ctx, err)) ||
	    (rc = get_class(obj, &out->cls, ctx, err)))
		return rc;
	return get_object_attributes(obj, out->cls, false, &out->attributes, err);
}

OWNING_BODY(object_create_req)

static void put_object(struct jw *w, const void *in)
{
	const struct wsop_object *o = in;
	const char *cls = class_name(o->cls);
	if (cls == NULL) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	jw_open(w, NULL, '{');
	jw_text(w, "id", o->id, sizeof(o->id));
	jw_text(w, "protectiondomain", o->protectiondomain, sizeof(o->protectiondomain));
	jw_key(w, "class");
	jw_string(w, cls, strlen(cls));
	jw_int(w, "created", o->created);
	if (o->value_omitted)
		jw_int(w, "value_len", (int64_t)o->value_len);
	put_object_attributes(w, &o->attributes);
	jw_close(w, '}');
}

static int get_object(struct json_object *obj, void *outp, const char *ctx,
                      struct wsop_json_error *err)
{
	static const char *const members[] = { "id",      "protectiondomain", "class",
		                               "created", "value_len",        "attributes" };
	struct wsop_object *out = outp;
	int64_t value_len = 0;
	int rc;

	if ((rc = jr_check_members(obj, members, ARRAY_LEN(members), ctx, err)) ||
	    (rc = jr_text(obj, "id", true, out->id, WSOP_UUID_LEN, text_is_uuid,
	                  WSOP_JSON_EBAD_VALUE, NULL, ctx, err)) ||
	    (rc =
	         jr_text(obj, "protectiondomain", true, out->protectiondomain, WSOP_SOFTCARD_ID_LEN,
	                 text_is_softcard_id, WSOP_JSON_EBAD_VALUE, NULL, ctx, err)) ||
	    (rc = get_class(obj, &out->cls, ctx, err)) ||
	    (rc = get_created(obj, &out->created, ctx, err)))
		return rc;
	out->value_omitted = json_object_object_get_ex(obj, "value_len", NULL);
	if (out->value_omitted &&
	    (rc = jr_int(obj, "value_len", 0, WSOP_OBJECT_VALUE_MAX, &value_len, ctx, err)))
		return rc;
	out->value_len = (size_t)value_len;
	return get_object_attributes(obj, out->cls, out->value_omitted, &out->attributes, err);
}

OWNING_PAGED_BODY(object, "objects")

/* ======================================================================
 * Bodies: encryption
 * ====================================================================== */

static void put_crypto_req(struct jw *w, const void *in)
{
	const struct wsop_crypto_req *r = in;
	const char *mech = r->mechanism == WSOP_MECH_AES_CBC       ? "\"AES_CBC\""
	                   : r->mechanism == WSOP_MECH_AES_CBC_PAD ? "\"AES_CBC_PAD\""
	                                                           : NULL;
	if (mech == NULL) {
		w->err = -EINVAL;
		return;
	}
	jw_open(w, NULL, '{');
	jw_text(w, "key", r->key, sizeof(r->key));
	jw_key(w, "mechanism");
	jw_lit(w, mech);
	jw_b64(w, "iv", r->iv, sizeof(r->iv));
	jw_bytes(w, "data", &r->data);
	jw_close(w, '}');
}

static int get_mechanism(struct json_object *obj, enum wsop_mechanism *mech,
                         struct wsop_json_error *err)
{
	const char *s;
	size_t n;
	int rc = jr_string(obj, "mechanism", true, &s, &n, "", err);
	if (rc)
		return rc;
	if (n == 7 && memcmp(s, "AES_CBC", 7) == 0)
		*mech = WSOP_MECH_AES_CBC;
	else if (n == 11 && memcmp(s, "AES_CBC_PAD", 11) == 0)
		*mech = WSOP_MECH_AES_CBC_PAD;
	else
		return jr_fail(err, WSOP_JSON_EBAD_MECHANISM, "mechanism",
		               "must be AES_CBC or AES_CBC_PAD");
	return 0;
}

static int get_iv(struct json_object *obj, uint8_t iv[WSOP_IV_LEN], struct wsop_json_error *err)
{
	struct json_object *v;
	if (!json_object_object_get_ex(obj, "iv", &v))
		return jr_fail(err, WSOP_JSON_EBAD_IV, "iv", "missing");
	struct wsop_bytes b;
	int rc = jr_b64(obj, "iv", true, WSOP_IV_LEN, WSOP_JSON_EBAD_IV, &b, NULL, "", err);
	if (rc)
		return rc;
	if (b.len != WSOP_IV_LEN) {
		wsop_bytes_free(&b);
		return jr_fail(err, WSOP_JSON_EBAD_IV, "iv", "must be 16 bytes");
	}
	memcpy(iv, b.data, WSOP_IV_LEN);
	wsop_bytes_free(&b);
	return 0;
}

static int get_crypto_req(struct json_object *obj, void *outp, const char *ctx,
                          struct wsop_json_error *err)
{
	static const char *const members[] = { "key", "mechanism", "iv", "data" };
	struct wsop_crypto_req *out = outp;
	int rc;

	if ((rc = jr_check_members(obj, members, ARRAY_LEN(members), ctx, err)) ||
	    (rc = jr_text(obj, "key", true, out->key, WSOP_KEY_PATH_LEN, text_is_key_path,
	                  WSOP_JSON_EBAD_VALUE, NULL, ctx, err)) ||
	    (rc = get_mechanism(obj, &out->mechanism, err)) || (rc = get_iv(obj, out->iv, err)))
		return rc;
	return jr_b64(obj, "data", true, WSOP_CRYPTO_DATA_MAX, WSOP_JSON_EBAD_DATA_LENGTH,
	              &out->data, NULL, ctx, err);
}

OWNING_BODY(crypto_req)

static void put_crypto_answer(struct jw *w, const void *in)
{
	const struct wsop_crypto_answer *a = in;
	jw_open(w, NULL, '{');
	jw_bytes(w, "data", &a->data);
	jw_close(w, '}');
}

static int get_crypto_answer(struct json_object *obj, void *outp, const char *ctx,
                             struct wsop_json_error *err)
{
	static const char *const members[] = { "data" };
	struct wsop_crypto_answer *out = outp;
	int rc = jr_check_members(obj, members, ARRAY_LEN(members), ctx, err);
	if (rc)
		return rc;
	return jr_b64(obj, "data", true, WSOP_CRYPTO_ANSWER_MAX, WSOP_JSON_EBAD_DATA_LENGTH,
	              &out->data, NULL, ctx, err);
}

OWNING_BODY(crypto_answer)

static void put_random_req(struct jw *w, const void *in)
{
	const struct wsop_random_req *r = in;
	jw_open(w, NULL, '{');
	jw_int(w, "length", (int64_t)r->length);
	jw_close(w, '}');
}

static int get_random_req(struct json_object *obj, void *outp, const char *ctx,
                          struct wsop_json_error *err)
{
	static const char *const members[] = { "length" };
	struct wsop_random_req *out = outp;
	int64_t v;
	int rc = jr_check_members(obj, members, ARRAY_LEN(members), ctx, err);
	if (rc)
		return rc;
	rc = jr_int(obj, "length", 1, WSOP_RANDOM_MAX, &v, ctx, err);
	if (rc)
		return rc;
	out->length = (size_t)v;
	return 0;
}

BODY(random_req, .secret = false)
