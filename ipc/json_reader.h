/*
 * The JSON reader of the WSOP codec (wsop_json.c): json-c in strict mode
 * (UTF-8 validated, depth-limited) behind a pass of our own, and typed,
 * bounded member readers. Each failure is a negative enum wsop_json_rc,
 * recorded in err (when not NULL) with the README code and a message that
 * names the member under ctx ("" for the top level), never its value.
 * Private to ipc/.
 */
#ifndef PKCS11WSOP_IPC_JSON_READER_H
#define PKCS11WSOP_IPC_JSON_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "ipc/wsop_json.h"

/* Records rc in err: its code and "<where>: <why>". Returns rc. */
int jr_fail(struct wsop_json_error *err, int rc, const char *where, const char *why);
/* "ctx.name" (or "name") into buf, which it returns. */
const char *jr_member_path(char *buf, size_t cap, const char *ctx, const char *name);

/* Parses one JSON object of len bytes (over HTTP_MAX_BODY: ETOO_LARGE
 * before anything is parsed). secret: wipe json-c's scratch buffer. */
int jr_parse(const char *text, size_t len, bool secret, struct json_object **root,
             struct wsop_json_error *err);

/* Refuses a member whose name is not in allowed[0..n). */
int jr_check_members(struct json_object *obj, const char *const *allowed, size_t n, const char *ctx,
                     struct wsop_json_error *err);
/* Member name of type want; absent and optional: 0 with *val NULL. */
int jr_member(struct json_object *obj, const char *name, bool required, enum json_type want,
              struct json_object **val, const char *ctx, struct wsop_json_error *err);
/* A string member (*s NULL when absent and optional). */
int jr_string(struct json_object *obj, const char *name, bool required, const char **s, size_t *n,
              const char *ctx, struct wsop_json_error *err);
/* A string member copied into buf[0..max] with its NUL; longer than max,
 * with a NUL inside or refused by valid() is bad_rc. */
int jr_text(struct json_object *obj, const char *name, bool required, char *buf, size_t max,
            bool (*valid)(const char *s, size_t n), int bad_rc, bool *present, const char *ctx,
            struct wsop_json_error *err);
/* A required string member equal to want, else EBAD_VALUE. */
int jr_fixed(struct json_object *obj, const char *name, const char *want, const char *ctx,
             struct wsop_json_error *err);
/* An integer member in [min, max] (else ETYPE); absent and optional: 0. */
int jr_int_member(struct json_object *obj, const char *name, bool required, int64_t min,
                  int64_t max, int64_t *out, const char *ctx, struct wsop_json_error *err);
int jr_int(struct json_object *obj, const char *name, int64_t min, int64_t max, int64_t *out,
           const char *ctx, struct wsop_json_error *err);
/* A boolean member; absent and optional: dflt. */
int jr_bool(struct json_object *obj, const char *name, bool required, bool dflt, bool *out,
            const char *ctx, struct wsop_json_error *err);
/* A base64url member of at most max decoded bytes, bounded by its text
 * length before anything is allocated; over the bound is over_rc. */
int jr_b64(struct json_object *obj, const char *name, bool required, size_t max, int over_rc,
           struct wsop_bytes *out, bool *present, const char *ctx, struct wsop_json_error *err);
/* Wipes a string member in place (a passphrase before json_object_put). */
void jr_wipe_string(struct json_object *obj, const char *name);

#endif
