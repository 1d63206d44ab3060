/*
 * The WSOP endpoints of ipc/README.md as one table that both ends read:
 * the typed client (lib/wsop_client.c) builds each request from its row,
 * wsopd's router (server/router.c) matches each request against the rows
 * and runs the handler of the row's id.
 *
 * Contract:
 *  - A pattern is a path whose segments are literal or one of the
 *    parameters {softcard} (a softcard id, wsop_softcard_id_valid) or
 *    {group}, {key}, {object} (a uuid, wsop_uuid_valid); at most
 *    WSOP_PATH_PARAMS_MAX of them, in the order the path names them.
 *  - Matching compares bytes: no percent-decoding, no case folding, no
 *    empty segment, no trailing slash, no segment more or less than the
 *    pattern has. A parameter matches only a segment of its id's shape, so
 *    a path with a bad id matches no row (wsopd: 404 like any unknown
 *    path). The path is the request target without its query.
 *  - Every endpoint may be sent again with the same bytes (the client's
 *    retries do): the mutating ones carry an Idempotency-Key, by which
 *    the server answers a repeat with its first answer; the others change
 *    nothing.
 */
#ifndef PKCS11WSOP_IPC_WSOP_ENDPOINTS_H
#define PKCS11WSOP_IPC_WSOP_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>

#include "ipc/wsop_json.h"
#include "ipc/wsop_names.h"

/* The rows in table order, which is also the order of a 405's Allow. */
enum wsop_endpoint_id {
	WSOP_EP_HEALTH,
	WSOP_EP_SOFTCARD_LIST,
	WSOP_EP_SOFTCARD_CREATE,
	WSOP_EP_SOFTCARD_GET,
	WSOP_EP_SOFTCARD_DELETE,
	WSOP_EP_SOFTCARD_ACTIVATE,
	WSOP_EP_SOFTCARD_DEACTIVATE,
	WSOP_EP_OBJECT_LIST,
	WSOP_EP_OBJECT_CREATE,
	WSOP_EP_OBJECT_GET,
	WSOP_EP_OBJECT_DELETE,
	WSOP_EP_GROUP_LIST,
	WSOP_EP_GROUP_CREATE,
	WSOP_EP_KEY_LIST,
	WSOP_EP_KEY_GENERATE,
	WSOP_EP_KEY_GET,
	WSOP_EP_KEY_DELETE,
	WSOP_EP_ENCRYPT,
	WSOP_EP_DECRYPT,
	WSOP_EP_RANDOM,
	WSOP_EP_COUNT
};

#define WSOP_PATH_PARAMS_MAX 2
#define WSOP_PATH_ID_MAX     WSOP_SOFTCARD_ID_LEN /* the longest id */
/* The longest path a row formats: the patterns plus their ids. */
#define WSOP_PATH_MAX 128

/* The ids of a matched path, in the pattern's order. */
struct wsop_path_params {
	size_t count;
	char id[WSOP_PATH_PARAMS_MAX][WSOP_PATH_ID_MAX + 1];
};

/* A request encoder and an answer decoder of ipc/wsop_json.h behind one
 * signature each; in and out are the row's request and answer structs. */
typedef int wsop_encode_fn(const void *in, char **out, size_t *out_len);
typedef int wsop_decode_fn(const char *text, size_t len, void *out, struct wsop_json_error *err);

struct wsop_endpoint {
	enum wsop_endpoint_id id;
	/* The endpoint's name; also the action of wsopd's audit lines. */
	const char *name;
	const char *method;
	const char *pattern;
	/* Takes a query (the paged listings); a query elsewhere is refused. */
	bool query;
	/* Mutating: the request carries an Idempotency-Key (the client's
	 * caller's or a fresh one) and wsopd answers a known key with the
	 * recorded answer before anything else. */
	bool idempotency_key;
	/* Also takes the binary form of ipc/wsop_crypto_bin.h. */
	bool binary_form;
	/* The answer body carries a secret: wiped before it is freed. */
	bool secret_answer;
	/* The documented success status. */
	int status;
	/* The JSON request body from the row's request struct; NULL: none. */
	wsop_encode_fn *encode_request;
	/* The answer body into the row's answer struct of answer_size bytes;
	 * NULL: no body (204). */
	wsop_decode_fn *decode_answer;
	size_t answer_size;
};

/* The row of id, or NULL for an id out of range. */
const struct wsop_endpoint *wsop_endpoint(enum wsop_endpoint_id id);

/* Writes ep's path with ids[0..n) in place of its parameters, NUL-ended,
 * into buf[0..cap). Returns the path's length, or -EINVAL when n is not
 * the number of parameters or an id is NULL or not of its parameter's
 * shape (nothing unescaped reaches a path), -ENOBUFS when buf is too
 * small. */
int wsop_endpoint_path(const struct wsop_endpoint *ep, const char *const ids[], size_t n, char *buf,
                       size_t cap);

/* True when path (NUL-ended, no query) matches ep's pattern; its ids are
 * then in *params. */
bool wsop_endpoint_match(const struct wsop_endpoint *ep, const char *path,
                         struct wsop_path_params *params);

/* The first row whose pattern matches path and whose method is method
 * (compared exactly), its ids in *params, allow[0..cap) ""; or NULL, and
 * then allow lists the methods of the rows whose pattern matches path, in
 * table order, ", " between them ("" for a path no row matches; cut to
 * fit). */
const struct wsop_endpoint *wsop_endpoint_route(const char *method, const char *path,
                                                struct wsop_path_params *params, char *allow,
                                                size_t allow_cap);

/* The id a matched path gave for the parameter {name} of ep (name without
 * braces), or NULL when the pattern has no such parameter. */
const char *wsop_path_param(const struct wsop_endpoint *ep, const struct wsop_path_params *params,
                            const char *name);

#endif
