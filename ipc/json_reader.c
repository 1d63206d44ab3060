/*
 * The strict JSON reader of json_reader.h: json-c (strict, UTF-8
 * validated, depth-limited) after which a byte pass of our own refuses
 * what json-c's strict mode lets through (single-quoted strings,
 * NaN/Infinity, raw control characters).
 */
#include "ipc/json_reader.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ipc/base64url.h"
#include "ipc/http.h"

/* Records a decoder failure: the README code of rc and "<where>: <why>".
 * where names a member (never its value). Returns rc. */
int jr_fail(struct wsop_json_error *err, int rc, const char *where, const char *why)
{
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		snprintf(err->code, sizeof(err->code), "%s",
		         wsop_error_name(wsop_json_rc_error(rc)));
		if (where && where[0])
			snprintf(err->message, sizeof(err->message), "%.160s: %s", where, why);
		else
			snprintf(err->message, sizeof(err->message), "%s", why);
	}
	return rc;
}

static bool json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* json-c's strict mode still takes 'single quotes', NaN, Infinity and raw
 * control characters inside strings, and it lets an empty container one
 * level past its depth limit through. Outside strings JSON needs only
 * structure, numbers and the three literals, so this pass over what json-c
 * accepted refuses anything else and counts the nesting itself. Returns 0,
 * WSOP_JSON_ESYNTAX or WSOP_JSON_EDEPTH. */
static int prescan(const char *text, size_t len)
{
	static const char outside[] = "{}[],:0123456789+-.eEtruefalsn \t\r\n";
	bool in_string = false;
	unsigned depth = 0;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '\0')
			return WSOP_JSON_ESYNTAX;
		if (in_string) {
			if ((unsigned char)c < 0x20)
				return WSOP_JSON_ESYNTAX;
			if (c == '\\')
				i++; /* the escaped character cannot end the string */
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"') {
			in_string = true;
		} else if (c == '{' || c == '[') {
			if (++depth > WSOP_JSON_MAX_DEPTH)
				return WSOP_JSON_EDEPTH;
		} else if (c == '}' || c == ']') {
			depth--;
		} else if (!strchr(outside, c)) {
			return WSOP_JSON_ESYNTAX;
		}
	}
	return 0;
}

/* Best-effort wipe of json-c's scratch buffer, which held the last string
 * token (possibly a passphrase). The field is public but marked internal
 * in json-c 0.16; earlier copies made while it grew are out of reach. */
static void tokener_wipe(struct json_tokener *tok)
{
	if (tok->pb && tok->pb->buf && tok->pb->size > 0)
		OPENSSL_cleanse(tok->pb->buf, (size_t)tok->pb->size);
}

/*
 * json-c's parser takes glibc's locale lock (duplocale/uselocale). A child
 * forked while one of our threads held it would inherit it locked and hang
 * in its first parse (a PKCS #11 child calling C_Initialize after fork did,
 * under AddressSanitizer's slower timing). So a parse holds parse_lock for
 * reading, and fork takes it for writing: no thread of ours is inside
 * json-c when the process forks. Writers are preferred, so a busy server
 * cannot starve a fork.
 */
static pthread_rwlock_t parse_lock;
static pthread_once_t parse_once = PTHREAD_ONCE_INIT;

static void parse_lock_before_fork(void)
{
	pthread_rwlock_wrlock(&parse_lock);
}

static void parse_lock_in_parent(void)
{
	pthread_rwlock_unlock(&parse_lock);
}

static void parse_lock_make(void)
{
	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&parse_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
}

/* The child's copy also records the parent's waiting readers, threads that
 * do not exist here: unlocking it could hand it to them. It is made anew. */
static void parse_lock_in_child(void)
{
	parse_lock_make();
}

static void parse_lock_init(void)
{
	parse_lock_make();
	(void)pthread_atfork(parse_lock_before_fork, parse_lock_in_parent, parse_lock_in_child);
}

int jr_parse(const char *text, size_t len, bool secret, struct json_object **root,
             struct wsop_json_error *err)
{
	*root = NULL;
	if (len > HTTP_MAX_BODY)
		return jr_fail(err, WSOP_JSON_ETOO_LARGE, "", "body larger than 1 MiB");
	if (text == NULL)
		return jr_fail(err, WSOP_JSON_ESYNTAX, "", "no body");

	/* json-c counts the outermost container as depth 0. */
	struct json_tokener *tok = json_tokener_new_ex(WSOP_JSON_MAX_DEPTH + 1);
	if (tok == NULL)
		return jr_fail(err, WSOP_JSON_ENOMEM, "", "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8 |
	                                JSON_TOKENER_ALLOW_TRAILING_CHARS);
	pthread_once(&parse_once, parse_lock_init);
	pthread_rwlock_rdlock(&parse_lock);
	struct json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
	pthread_rwlock_unlock(&parse_lock);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	if (secret)
		tokener_wipe(tok);
	json_tokener_free(tok);

	int rc = 0;
	if (obj == NULL) {
		if (jerr == json_tokener_error_depth)
			rc = jr_fail(err, WSOP_JSON_EDEPTH, "", "nested deeper than 8 levels");
		else
			rc = jr_fail(err, WSOP_JSON_ESYNTAX, "", "not JSON");
		return rc;
	}
	rc = prescan(text, end);
	if (rc == WSOP_JSON_EDEPTH)
		rc = jr_fail(err, rc, "", "nested deeper than 8 levels");
	else if (rc)
		rc = jr_fail(err, rc, "", "not JSON");
	for (size_t i = end; i < len && !rc; i++) {
		if (!json_space(text[i])) {
			rc = jr_fail(err, WSOP_JSON_ETRAILING, "", "bytes after the JSON value");
			break;
		}
	}
	if (!rc && !json_object_is_type(obj, json_type_object))
		rc = jr_fail(err, WSOP_JSON_ENOT_OBJECT, "", "body is not a JSON object");
	if (rc) {
		json_object_put(obj);
		return rc;
	}
	*root = obj;
	return 0;
}

/* "ctx.name" for messages; ctx may be "". */
const char *jr_member_path(char *buf, size_t cap, const char *ctx, const char *name)
{
	if (ctx && ctx[0])
		snprintf(buf, cap, "%.100s.%.60s", ctx, name);
	else
		snprintf(buf, cap, "%.60s", name);
	return buf;
}

/* Refuses any member whose name is not in allowed[]. */
int jr_check_members(struct json_object *obj, const char *const *allowed, size_t n, const char *ctx,
                     struct wsop_json_error *err)
{
	char where[192];

	json_object_object_foreach(obj, name, val)
	{
		(void)val;
		bool known = false;
		for (size_t i = 0; i < n && !known; i++)
			known = strcmp(name, allowed[i]) == 0;
		if (!known)
			return jr_fail(err, WSOP_JSON_EUNKNOWN_MEMBER,
			               jr_member_path(where, sizeof(where), ctx, name),
			               "unknown member");
	}
	return 0;
}

/* The member name of obj if its type is want. Returns 0 with *val NULL
 * when absent and optional. */
int jr_member(struct json_object *obj, const char *name, bool required, enum json_type want,
              struct json_object **val, const char *ctx, struct wsop_json_error *err)
{
	static const char *const type_names[] = {
		[json_type_null] = "null",        [json_type_boolean] = "a boolean",
		[json_type_double] = "a double",  [json_type_int] = "an integer",
		[json_type_object] = "an object", [json_type_array] = "an array",
		[json_type_string] = "a string",
	};
	char where[192], why[48];

	*val = NULL;
	struct json_object *v;
	if (!json_object_object_get_ex(obj, name, &v)) {
		if (required)
			return jr_fail(err, WSOP_JSON_EMISSING,
			               jr_member_path(where, sizeof(where), ctx, name),
			               "required member missing");
		return 0;
	}
	if (!json_object_is_type(v, want)) {
		snprintf(why, sizeof(why), "must be %s", type_names[want]);
		return jr_fail(err, WSOP_JSON_ETYPE,
		               jr_member_path(where, sizeof(where), ctx, name), why);
	}
	*val = v;
	return 0;
}

int jr_string(struct json_object *obj, const char *name, bool required, const char **s, size_t *n,
              const char *ctx, struct wsop_json_error *err)
{
	struct json_object *v;
	int rc = jr_member(obj, name, required, json_type_string, &v, ctx, err);
	*s = NULL;
	*n = 0;
	if (rc || v == NULL)
		return rc;
	*s = json_object_get_string(v);
	*n = (size_t)json_object_get_string_len(v);
	return 0;
}

/* A string member copied into buf[0..max] (NUL-terminated). A string
 * longer than max, with a NUL inside or refused by valid() is bad_rc. */
int jr_text(struct json_object *obj, const char *name, bool required, char *buf, size_t max,
            bool (*valid)(const char *s, size_t n), int bad_rc, bool *present, const char *ctx,
            struct wsop_json_error *err)
{
	char where[192];
	const char *s;
	size_t n;

	if (present != NULL)
		*present = false;
	int rc = jr_string(obj, name, required, &s, &n, ctx, err);
	if (rc || s == NULL)
		return rc;
	if (n > max || memchr(s, '\0', n) || (valid && !valid(s, n)))
		return jr_fail(err, bad_rc, jr_member_path(where, sizeof(where), ctx, name),
		               n > max ? "too long" : "invalid value");
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (present != NULL)
		*present = true;
	return 0;
}

/* A string member that must equal want exactly. */
int jr_fixed(struct json_object *obj, const char *name, const char *want, const char *ctx,
             struct wsop_json_error *err)
{
	char where[192];
	const char *s;
	size_t n;

	int rc = jr_string(obj, name, true, &s, &n, ctx, err);
	if (rc)
		return rc;
	if (n != strlen(want) || memcmp(s, want, n) != 0)
		return jr_fail(err, WSOP_JSON_EBAD_VALUE,
		               jr_member_path(where, sizeof(where), ctx, name),
		               "unsupported value");
	return 0;
}

/* An absent optional member reads as 0. */
int jr_int_member(struct json_object *obj, const char *name, bool required, int64_t min,
                  int64_t max, int64_t *out, const char *ctx, struct wsop_json_error *err)
{
	char where[192];
	struct json_object *v;

	int rc = jr_member(obj, name, required, json_type_int, &v, ctx, err);
	if (rc)
		return rc;
	if (v == NULL) {
		*out = 0;
		return 0;
	}
	/* json-c saturates numbers beyond int64 at the limits, so the limits
	 * themselves are never inside [min, max]. */
	int64_t x = json_object_get_int64(v);
	if (x < min || x > max)
		return jr_fail(err, WSOP_JSON_ETYPE,
		               jr_member_path(where, sizeof(where), ctx, name),
		               "integer out of range");
	*out = x;
	return 0;
}

int jr_int(struct json_object *obj, const char *name, int64_t min, int64_t max, int64_t *out,
           const char *ctx, struct wsop_json_error *err)
{
	return jr_int_member(obj, name, true, min, max, out, ctx, err);
}

int jr_bool(struct json_object *obj, const char *name, bool required, bool dflt, bool *out,
            const char *ctx, struct wsop_json_error *err)
{
	struct json_object *v;
	int rc = jr_member(obj, name, required, json_type_boolean, &v, ctx, err);
	if (rc)
		return rc;
	*out = v ? json_object_get_boolean(v) != 0 : dflt;
	return 0;
}

/* A base64url member of at most max decoded bytes. The text length is
 * compared with the bound before anything is allocated; over the bound is
 * over_rc, bad alphabet or shape EBASE64. */
int jr_b64(struct json_object *obj, const char *name, bool required, size_t max, int over_rc,
           struct wsop_bytes *out, bool *present, const char *ctx, struct wsop_json_error *err)
{
	char where[192];
	const char *s;
	size_t n;

	out->data = NULL;
	out->len = 0;
	if (present != NULL)
		*present = false;
	int rc = jr_string(obj, name, required, &s, &n, ctx, err);
	if (rc || s == NULL)
		return rc;
	jr_member_path(where, sizeof(where), ctx, name);
	if (n > b64url_encoded_len(max))
		return jr_fail(err, over_rc, where, "value too long");
	size_t cap = b64url_decoded_max(n);
	uint8_t *buf = NULL;
	if (cap > 0) {
		buf = malloc(cap);
		if (buf == NULL)
			return jr_fail(err, WSOP_JSON_ENOMEM, where, "out of memory");
	}
	size_t got = 0;
	if (n > 0 && b64url_decode(s, n, buf, cap, &got) != 0) {
		free(buf);
		return jr_fail(err, WSOP_JSON_EBASE64, where, "not unpadded base64url");
	}
	if (got > max) {
		free(buf);
		return jr_fail(err, over_rc, where, "value too long");
	}
	if (got == 0) {
		free(buf);
		buf = NULL;
	}
	out->data = buf;
	out->len = got;
	if (present != NULL)
		*present = true;
	return 0;
}

/* Wipes a json-c string object in place (a passphrase about to be freed
 * by json_object_put). */
void jr_wipe_string(struct json_object *obj, const char *name)
{
	struct json_object *v;
	if (json_object_object_get_ex(obj, name, &v) && json_object_is_type(v, json_type_string)) {
		char *s = (char *)json_object_get_string(v);
		int n = json_object_get_string_len(v);
		if (s && n > 0)
			OPENSSL_cleanse(s, (size_t)n);
	}
}
