/* The endpoint table, its path formatter and its matcher; see
 * wsop_endpoints.h. */
#include "ipc/wsop_endpoints.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The codecs of wsop_json.h behind the table's signatures. */
#define ENCODER(name, type)                                                                        \
	static int enc_##name(const void *in, char **out, size_t *out_len)                         \
	{                                                                                          \
		return wsop_json_encode_##name((const type *)in, out, out_len);                    \
	}
#define DECODER(name, type)                                                                        \
	static int dec_##name(const char *text, size_t len, void *out, struct wsop_json_error *e)  \
	{                                                                                          \
		return wsop_json_decode_##name(text, len, (type *)out, e);                         \
	}

ENCODER(softcard_create_req, struct wsop_softcard_create_req)
ENCODER(activate_req, struct wsop_activate_req)
ENCODER(group_create_req, struct wsop_group_create_req)
ENCODER(key_generate_req, struct wsop_key_generate_req)
ENCODER(object_create_req, struct wsop_object_create_req)
ENCODER(crypto_req, struct wsop_crypto_req)
ENCODER(random_req, struct wsop_random_req)
DECODER(health, struct wsop_health)
DECODER(softcard, struct wsop_softcard)
DECODER(softcard_list, struct wsop_softcard_list)
DECODER(group, struct wsop_group)
DECODER(group_list, struct wsop_group_list)
DECODER(key, struct wsop_key)
DECODER(key_list, struct wsop_key_list)
DECODER(object, struct wsop_object)
DECODER(object_list, struct wsop_object_list)
DECODER(crypto_answer, struct wsop_crypto_answer)

/* Deactivate's body: {} (the server takes none too). */
static int enc_empty_object(const void *in, char **out, size_t *out_len)
{
	(void)in;
	*out = strdup("{}");
	if (*out == NULL)
		return -ENOMEM;
	*out_len = 2;
	return 0;
}

#define PD "/km/v1/protectiondomains"
#define GR "/km/v1/groups"

/* A row: its id, name, method and pattern, then the other fields by name. */
#define ROW(i, n, m, p, ...)                                                                       \
	[i] = { .id = (i), .name = (n), .method = (m), .pattern = (p), __VA_ARGS__ }
#define ANSWER(dec, typ) .decode_answer = dec_##dec, .answer_size = sizeof(typ)

static const struct wsop_endpoint table[WSOP_EP_COUNT] = {
	ROW(WSOP_EP_HEALTH, "health", "GET", "/health", .status = 200,
	    ANSWER(health, struct wsop_health)),
	ROW(WSOP_EP_SOFTCARD_LIST, "softcard_list", "GET", PD, .status = 200,
	    ANSWER(softcard_list, struct wsop_softcard_list)),
	ROW(WSOP_EP_SOFTCARD_CREATE, "softcard_create", "POST", PD, .idempotency_key = true,
	    .status = 201, .encode_request = enc_softcard_create_req,
	    ANSWER(softcard, struct wsop_softcard)),
	ROW(WSOP_EP_SOFTCARD_GET, "softcard_get", "GET", PD "/{softcard}", .status = 200,
	    ANSWER(softcard, struct wsop_softcard)),
	ROW(WSOP_EP_SOFTCARD_DELETE, "softcard_delete", "DELETE", PD "/{softcard}",
	    .idempotency_key = true, .status = 204),
	ROW(WSOP_EP_SOFTCARD_ACTIVATE, "activate", "POST", PD "/{softcard}/activate",
	    .idempotency_key = true, .secret_answer = true, .status = 200,
	    .encode_request = enc_activate_req, ANSWER(softcard, struct wsop_softcard)),
	ROW(WSOP_EP_SOFTCARD_DEACTIVATE, "deactivate", "POST", PD "/{softcard}/deactivate",
	    .idempotency_key = true, .status = 200, .encode_request = enc_empty_object,
	    ANSWER(softcard, struct wsop_softcard)),
	ROW(WSOP_EP_OBJECT_LIST, "object_list", "GET", PD "/{softcard}/objects", .query = true,
	    .status = 200, ANSWER(object_list, struct wsop_object_list)),
	ROW(WSOP_EP_OBJECT_CREATE, "object_create", "POST", PD "/{softcard}/objects",
	    .idempotency_key = true, .status = 201, .encode_request = enc_object_create_req,
	    ANSWER(object, struct wsop_object)),
	ROW(WSOP_EP_OBJECT_GET, "object_get", "GET", PD "/{softcard}/objects/{object}",
	    .status = 200, ANSWER(object, struct wsop_object)),
	ROW(WSOP_EP_OBJECT_DELETE, "object_delete", "DELETE", PD "/{softcard}/objects/{object}",
	    .idempotency_key = true, .status = 204),
	ROW(WSOP_EP_GROUP_LIST, "group_list", "GET", GR, .query = true, .status = 200,
	    ANSWER(group_list, struct wsop_group_list)),
	ROW(WSOP_EP_GROUP_CREATE, "group_create", "POST", GR, .idempotency_key = true,
	    .status = 201, .encode_request = enc_group_create_req,
	    ANSWER(group, struct wsop_group)),
	ROW(WSOP_EP_KEY_LIST, "key_list", "GET", GR "/{group}/keys", .query = true, .status = 200,
	    ANSWER(key_list, struct wsop_key_list)),
	ROW(WSOP_EP_KEY_GENERATE, "key_generate", "POST", GR "/{group}/keys",
	    .idempotency_key = true, .status = 201, .encode_request = enc_key_generate_req,
	    ANSWER(key, struct wsop_key)),
	ROW(WSOP_EP_KEY_GET, "key_get", "GET", GR "/{group}/keys/{key}", .status = 200,
	    ANSWER(key, struct wsop_key)),
	ROW(WSOP_EP_KEY_DELETE, "key_delete", "DELETE", GR "/{group}/keys/{key}",
	    .idempotency_key = true, .status = 204),
	ROW(WSOP_EP_ENCRYPT, "encrypt", "POST", "/crypto/v1/encrypt", .binary_form = true,
	    .secret_answer = true, .status = 200, .encode_request = enc_crypto_req,
	    ANSWER(crypto_answer, struct wsop_crypto_answer)),
	ROW(WSOP_EP_DECRYPT, "decrypt", "POST", "/crypto/v1/decrypt", .binary_form = true,
	    .secret_answer = true, .status = 200, .encode_request = enc_crypto_req,
	    ANSWER(crypto_answer, struct wsop_crypto_answer)),
	ROW(WSOP_EP_RANDOM, "random", "POST", "/crypto/v1/random", .secret_answer = true,
	    .status = 200, .encode_request = enc_random_req,
	    ANSWER(crypto_answer, struct wsop_crypto_answer)),
};

const struct wsop_endpoint *wsop_endpoint(enum wsop_endpoint_id id)
{
	if ((unsigned)id >= WSOP_EP_COUNT)
		return NULL;
	return &table[id];
}

/* ---- parameters --------------------------------------------------------- */

struct param_kind {
	const char *segment; /* as the pattern writes it */
	bool (*valid)(const char *id);
};

static const struct param_kind param_kinds[] = {
	{ "{softcard}", wsop_softcard_id_valid },
	{ "{group}", wsop_uuid_valid },
	{ "{key}", wsop_uuid_valid },
	{ "{object}", wsop_uuid_valid },
};

/* The parameter a pattern segment [s, s+len) names, or NULL: a literal. */
static const struct param_kind *param_of(const char *s, size_t len)
{
	if (len == 0 || s[0] != '{')
		return NULL;
	for (size_t i = 0; i < sizeof(param_kinds) / sizeof(param_kinds[0]); i++)
		if (strlen(param_kinds[i].segment) == len &&
		    memcmp(param_kinds[i].segment, s, len) == 0)
			return &param_kinds[i];
	return NULL;
}

/* Appends s[0..len) at buf[*used..cap), keeping room for a NUL. */
static int put(char *buf, size_t cap, size_t *used, const char *s, size_t len)
{
	if (cap - *used <= len)
		return -ENOBUFS;
	memcpy(buf + *used, s, len);
	*used += len;
	return 0;
}

int wsop_endpoint_path(const struct wsop_endpoint *ep, const char *const ids[], size_t n, char *buf,
                       size_t cap)
{
	size_t used = 0, taken = 0;

	if (ep == NULL || buf == NULL || (n > 0 && ids == NULL))
		return -EINVAL;
	if (cap == 0)
		return -ENOBUFS;
	for (const char *p = ep->pattern; *p != '\0';) {
		/* p is at a '/': its segment runs to the next one. */
		size_t len = strcspn(p + 1, "/");
		const struct param_kind *k = param_of(p + 1, len);
		int rc;

		if (k == NULL) {
			rc = put(buf, cap, &used, p, len + 1);
		} else {
			if (taken == n || ids[taken] == NULL || !k->valid(ids[taken]))
				return -EINVAL;
			rc = put(buf, cap, &used, "/", 1);
			if (rc == 0)
				rc = put(buf, cap, &used, ids[taken], strlen(ids[taken]));
			taken++;
		}
		if (rc != 0)
			return rc;
		p += len + 1;
	}
	if (taken != n)
		return -EINVAL;
	buf[used] = '\0';
	return (int)used;
}

/* ---- matching ------------------------------------------------------------- */

bool wsop_endpoint_match(const struct wsop_endpoint *ep, const char *path,
                         struct wsop_path_params *params)
{
	const char *p = ep->pattern, *s = path;

	params->count = 0;
	while (*p != '\0') {
		if (*p != '/' || *s != '/')
			return false;
		p++;
		s++;
		size_t plen = strcspn(p, "/"), slen = strcspn(s, "/");
		const struct param_kind *k = param_of(p, plen);
		if (k != NULL) {
			if (params->count == WSOP_PATH_PARAMS_MAX || slen > WSOP_PATH_ID_MAX)
				return false;
			char *id = params->id[params->count];
			memcpy(id, s, slen);
			id[slen] = '\0';
			if (!k->valid(id))
				return false;
			params->count++;
		} else if (plen != slen || memcmp(p, s, plen) != 0) {
			return false;
		}
		p += plen;
		s += slen;
	}
	return *s == '\0';
}

/* Adds method to the list unless it is there already. */
static void allow_add(char *allow, size_t cap, const char *method)
{
	size_t used = strlen(allow);

	for (const char *m = allow; *m != '\0';) {
		size_t len = strcspn(m, ",");
		if (len == strlen(method) && memcmp(m, method, len) == 0)
			return;
		m += len;
		m += strspn(m, ", ");
	}
	snprintf(allow + used, cap - used, "%s%s", used > 0 ? ", " : "", method);
}

const struct wsop_endpoint *wsop_endpoint_route(const char *method, const char *path,
                                                struct wsop_path_params *params, char *allow,
                                                size_t allow_cap)
{
	if (allow_cap > 0)
		allow[0] = '\0';
	for (size_t i = 0; i < WSOP_EP_COUNT; i++) {
		if (!wsop_endpoint_match(&table[i], path, params))
			continue;
		if (strcmp(table[i].method, method) == 0) {
			if (allow_cap > 0)
				allow[0] = '\0';
			return &table[i];
		}
		if (allow_cap > 0)
			allow_add(allow, allow_cap, table[i].method);
	}
	params->count = 0;
	return NULL;
}

const char *wsop_path_param(const struct wsop_endpoint *ep, const struct wsop_path_params *params,
                            const char *name)
{
	size_t at = 0, name_len = strlen(name);

	for (const char *p = ep->pattern; *p != '\0';) {
		size_t len = strcspn(p + 1, "/");
		if (param_of(p + 1, len) != NULL) {
			if (len == name_len + 2 && memcmp(p + 2, name, name_len) == 0)
				return at < params->count ? params->id[at] : NULL;
			at++;
		}
		p += len + 1;
	}
	return NULL;
}
