/*
 * The JSON schema of every WSOP request and answer body (ipc/README.md):
 * one C struct, one encoder and one decoder per body, used by wsopd, the
 * client code, the tools and the fuzzers.
 *
 * Decoders. wsop_json_decode_X(text, len, out, err):
 *  - refuse len > HTTP_MAX_BODY before parsing (WSOP_JSON_ETOO_LARGE);
 *  - parse with json-c in strict mode, UTF-8 validated, nesting depth at
 *    most WSOP_JSON_MAX_DEPTH (8), plus a pass of our own that refuses what
 *    json-c's strict mode lets through (single quotes, NaN, raw control
 *    characters in strings, an empty container at level 9); text need not
 *    be NUL-terminated, and a NUL byte is refused;
 *  - refuse trailing bytes other than JSON whitespace, members not in the
 *    schema, wrong JSON types (a double where an integer is due, too),
 *    missing required members, strings over their limit, bad base64url and
 *    decoded sizes over their limit; each failure is a distinct
 *    enum wsop_json_rc and err (when not NULL) gets the README code the
 *    server answers (err->code) and a message naming the member
 *    (err->message, never containing a member's value);
 *  - duplicate members: json-c keeps the last value of a repeated member,
 *    so {"name":"a","name":"b"} decodes as name "b" (documented, tested);
 *  - return 0 and fill *out, or a negative enum wsop_json_rc with *out
 *    zeroed (nothing to free). *out need not be initialised beforehand.
 *  - json-c's string copy of a passphrase and its scratch buffer are wiped
 *    before they are freed (best effort: copies json-c made while growing
 *    its buffer, or of an earlier duplicate member, are out of reach).
 *
 * Encoders. wsop_json_encode_X(in, &out, &out_len):
 *  - return 0 with a malloc'd, NUL-terminated compact JSON text (free();
 *    for bodies with a passphrase use OPENSSL_clear_free(out, out_len));
 *  - -EINVAL when a value cannot be encoded (NULL argument, enum out of
 *    range, bytes with len > 0 and data NULL, a string too long for its
 *    buffer, i.e. not NUL-terminated in it); -ENOMEM;
 *  - do not check names, ids or limits otherwise, so that tests can send
 *    what a server must refuse; for every struct the matching decoder
 *    accepts, decode(encode(x)) == x.
 *
 * Pages. wsop_json_encode_X_page(in, max_bytes, &taken, &out, &out_len)
 * writes the leading items of in whose text stays within max_bytes (at
 * least one item, whatever its size), sets *taken to their number and,
 * when it left some out, writes as "next" the id of the last one written
 * (else in->next, "" for none). -EINVAL for max_bytes 0 or NULL.
 *
 * Ownership: structs with a wsop_X_free own heap memory (binary values,
 * lists); free functions accept NULL and a zeroed struct, and re-zero the
 * struct. Passphrase buffers are wiped by wsop_X_cleanse.
 */
#ifndef PKCS11WSOP_IPC_WSOP_JSON_H
#define PKCS11WSOP_IPC_WSOP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/wsop_errors.h"
#include "ipc/wsop_names.h"

/* Decoder results; err->code is the README code the server answers. */
enum wsop_json_rc {
	WSOP_JSON_OK = 0,
	WSOP_JSON_ENOMEM = -1,               /* internal: allocation failed */
	WSOP_JSON_ETOO_LARGE = -2,           /* too_large: len > HTTP_MAX_BODY */
	WSOP_JSON_ESYNTAX = -3,              /* bad_request: not JSON, bad UTF-8, NUL byte */
	WSOP_JSON_EDEPTH = -4,               /* bad_request: nesting deeper than 8 */
	WSOP_JSON_ETRAILING = -5,            /* bad_request: bytes after the value */
	WSOP_JSON_ENOT_OBJECT = -6,          /* bad_request: body is not an object */
	WSOP_JSON_EUNKNOWN_MEMBER = -7,      /* bad_request: member not in the schema */
	WSOP_JSON_EMISSING = -8,             /* bad_request: required member absent */
	WSOP_JSON_ETYPE = -9,                /* bad_request: wrong JSON type / out of range */
	WSOP_JSON_EBASE64 = -10,             /* bad_request: not strict unpadded base64url */
	WSOP_JSON_EBAD_VALUE = -11,          /* bad_request: value outside its domain (type
	                                        not "Softcard", malformed id/path, ...) */
	WSOP_JSON_EBAD_ATTRIBUTE = -12,      /* bad_attribute */
	WSOP_JSON_EINVALID_NAME = -13,       /* invalid_name */
	WSOP_JSON_EINVALID_PASSPHRASE = -14, /* invalid_passphrase */
	WSOP_JSON_EBAD_KEY_SIZE = -15,       /* bad_key_size */
	WSOP_JSON_EBAD_MECHANISM = -16,      /* bad_mechanism */
	WSOP_JSON_EBAD_IV = -17,             /* bad_iv */
	WSOP_JSON_EBAD_DATA_LENGTH = -18,    /* bad_data_length: data over its limit */
};

/* A decoder's verdict, and also the body of every error answer
 * {"error":{"code":…,"message":…}}. */
struct wsop_json_error {
	char code[WSOP_ERROR_CODE_MAX + 1];
	char message[WSOP_ERROR_MESSAGE_MAX + 1];
};

/* The WSOP error code (wsop_errors.h) of a wsop_json_rc; WSOP_E_INTERNAL
 * for values not in the enum. */
enum wsop_error wsop_json_rc_error(int rc);

/* A binary value (base64url in JSON). data is NULL when len is 0. */
struct wsop_bytes {
	uint8_t *data;
	size_t len;
};

/* ---- health ------------------------------------------------------------ */

struct wsop_health {
	char status[WSOP_HEALTH_STATUS_MAX + 1];   /* "ok" */
	char version[WSOP_HEALTH_VERSION_MAX + 1]; /* "1.0.0" */
};

/* ---- softcards --------------------------------------------------------- */

/* Answer: {"id","type":"Softcard","name","created","active"}. */
#define WSOP_LOGIN_FAILURES_MAX 1000000000
#define WSOP_LOGIN_LIMIT_MAX    1000
#define WSOP_LOCKED_FOR_MAX     86400

struct wsop_softcard {
	char id[WSOP_SOFTCARD_ID_LEN + 1];
	char name[WSOP_NAME_MAX + 1];
	int64_t created;
	bool active;
	/* The login lockout: wrong passphrases since the last right one, the
	 * server's limit (0: none) and the seconds the softcard stays locked
	 * (0: not locked). Encoded only when not 0; absent reads as 0. */
	int64_t login_failures;
	int64_t login_limit;
	int64_t locked_for;
	/* The answer of activate only: the new activation's token (opaque,
	 * wsop_activation_token_valid; a secret: wipe it). "" elsewhere, and
	 * then not encoded. */
	char activation[WSOP_ACTIVATION_MAX + 1];
};

/* Request: {"type":"Softcard","name","passphrase"}. Decoder order of
 * checks: type (EBAD_VALUE), name (EINVALID_NAME), passphrase
 * (EINVALID_PASSPHRASE). */
struct wsop_softcard_create_req {
	char name[WSOP_NAME_MAX + 1];
	char passphrase[WSOP_PASSPHRASE_MAX + 1];
};

/* Request of .../activate: {"passphrase"}. */
struct wsop_activate_req {
	char passphrase[WSOP_PASSPHRASE_MAX + 1];
};

/* ---- paging ----------------------------------------------------------- */

/* Lists of groups, keys and objects come in pages (ipc/README.md,
 * "Paging"): at most WSOP_PAGE_MAX_ITEMS items and WSOP_PAGE_MAX_BYTES of
 * JSON each, in id order; "next" (the last id of the page) says that more
 * follow. Both bounds keep a page far below HTTP_MAX_BODY (1 MiB). */
#define WSOP_PAGE_MAX_ITEMS 500
#define WSOP_PAGE_MAX_BYTES (512u * 1024)

/* Answer: {"protectiondomains":[softcard, ...]}. */
struct wsop_softcard_list {
	struct wsop_softcard *items;
	size_t count;
};

/* ---- groups ------------------------------------------------------------ */

/* Answer: {"id","name","protectiondomain","created"}. */
struct wsop_group {
	char id[WSOP_UUID_LEN + 1];
	char name[WSOP_NAME_MAX + 1];
	char protectiondomain[WSOP_SOFTCARD_ID_LEN + 1];
	int64_t created;
};

/* Request: {"name","protectiondomain"}; a malformed softcard id is
 * EBAD_VALUE (bad_request). */
struct wsop_group_create_req {
	char name[WSOP_NAME_MAX + 1];
	char protectiondomain[WSOP_SOFTCARD_ID_LEN + 1];
};

/* Answer: {"groups":[group, ...]}, or a page of them:
 * {"groups":[...],"next":"<uuid>"} when more follow. */
struct wsop_group_list {
	struct wsop_group *items;
	size_t count;
	char next[WSOP_UUID_LEN + 1]; /* "" on the last page */
};

/* ---- AES keys ---------------------------------------------------------- */

/* The "attributes" member of a key. In a generate request only label (up
 * to WSOP_LABEL_MAX bytes of UTF-8) is required; id is optional (id_present),
 * encrypt/decrypt default to true and sign..derive to false, and sign,
 * verify, wrap, unwrap or derive true is EBAD_ATTRIBUTE, as is any of the
 * five answer-only members (sensitive..local). In an answer every member
 * but id is required. */
struct wsop_key_attributes {
	char label[WSOP_LABEL_MAX + 1];
	bool id_present;
	struct wsop_bytes id; /* CKA_ID, up to WSOP_CKA_ID_MAX bytes */
	bool encrypt, decrypt, sign, verify, wrap, unwrap, derive;
	/* answer only */
	bool sensitive, always_sensitive, extractable, never_extractable, local;
};

/* Request: {"algorithm":"AES","size","attributes"}. algorithm other than
 * "AES" is EBAD_VALUE; size other than 128/192/256 EBAD_KEY_SIZE. */
struct wsop_key_generate_req {
	int size; /* bits */
	struct wsop_key_attributes attributes;
};

/* Answer: {"id","path","group","protectiondomain","algorithm":"AES","size",
 * "created","attributes"}. */
struct wsop_key {
	char id[WSOP_UUID_LEN + 1];
	char path[WSOP_KEY_PATH_LEN + 1];
	char group[WSOP_UUID_LEN + 1];
	char protectiondomain[WSOP_SOFTCARD_ID_LEN + 1];
	int size; /* bits */
	int64_t created;
	struct wsop_key_attributes attributes;
};

/* Answer: {"keys":[key, ...]}, or a page of them:
 * {"keys":[...],"next":"<uuid>"} when more follow. */
struct wsop_key_list {
	struct wsop_key *items;
	size_t count;
	char next[WSOP_UUID_LEN + 1]; /* "" on the last page */
};

/* ---- data objects and certificates ------------------------------------- */

enum wsop_object_class {
	WSOP_OBJECT_DATA = 1,        /* "data" */
	WSOP_OBJECT_CERTIFICATE = 2, /* "certificate" */
};

/* The "attributes" member of an object; every one optional in JSON, so
 * each has a present flag. Data objects take label, id, application,
 * object_id, value; certificates take certificate_type ("x509" only),
 * label, id, value, subject, issuer, serial_number, start_date, end_date.
 * A member of the other class, a value over its limit, a certificate_type
 * other than "x509", a date that is not wsop_date_valid or text that is
 * not UTF-8 is EBAD_ATTRIBUTE; a certificate without certificate_type,
 * value or subject is EMISSING. Names not in either list are
 * EUNKNOWN_MEMBER. */
struct wsop_object_attributes {
	bool label_present;
	char label[WSOP_LABEL_MAX + 1];
	bool id_present;
	struct wsop_bytes id; /* WSOP_CKA_ID_MAX */
	bool value_present;
	struct wsop_bytes value; /* WSOP_OBJECT_VALUE_MAX */
	/* data */
	bool application_present;
	char application[WSOP_APPLICATION_MAX + 1];
	bool object_id_present;
	struct wsop_bytes object_id; /* WSOP_OBJECT_ID_MAX */
	/* certificate */
	bool certificate_type_present; /* the value is always "x509" */
	bool subject_present;
	struct wsop_bytes subject; /* WSOP_DN_MAX */
	bool issuer_present;
	struct wsop_bytes issuer; /* WSOP_DN_MAX */
	bool serial_number_present;
	struct wsop_bytes serial_number; /* WSOP_SERIAL_MAX */
	bool start_date_present;
	char start_date[WSOP_DATE_LEN + 1];
	bool end_date_present;
	char end_date[WSOP_DATE_LEN + 1];
};

/* Request: {"class":"data"|"certificate","attributes"}; another class is
 * EBAD_VALUE. "attributes" is required (it may be {} for data). */
struct wsop_object_create_req {
	enum wsop_object_class cls;
	struct wsop_object_attributes attributes;
};

/* Answer: {"id","protectiondomain","class","created","attributes"}. In a
 * page of a listing the value is left out: "value_len" (0..65536) then
 * says how long it is and "attributes" has no "value" (EBAD_VALUE when it
 * has, and a certificate needs none); an object without any value has
 * neither. */
struct wsop_object {
	char id[WSOP_UUID_LEN + 1];
	char protectiondomain[WSOP_SOFTCARD_ID_LEN + 1];
	enum wsop_object_class cls;
	int64_t created;
	bool value_omitted; /* "value_len" given; attributes.value_present false */
	size_t value_len;
	struct wsop_object_attributes attributes;
};

/* Answer: {"objects":[object, ...]}, or a page of them:
 * {"objects":[...],"next":"<uuid>"} when more follow. */
struct wsop_object_list {
	struct wsop_object *items;
	size_t count;
	char next[WSOP_UUID_LEN + 1]; /* "" on the last page */
};

/* ---- encryption -------------------------------------------------------- */

enum wsop_mechanism {
	WSOP_MECH_AES_CBC = 1,     /* "AES_CBC" */
	WSOP_MECH_AES_CBC_PAD = 2, /* "AES_CBC_PAD" */
};

/* Request of encrypt and decrypt: {"key","mechanism","iv","data"}.
 * Decoder order of checks: key (a path of wsop_key_path_parse shape, else
 * EBAD_VALUE), mechanism (EBAD_MECHANISM for any other string), iv
 * (absent or not 16 bytes: EBAD_IV; not base64url: EBASE64), data
 * (over WSOP_CRYPTO_DATA_MAX: EBAD_DATA_LENGTH). Block-multiple and
 * padding checks are the server's. */
struct wsop_crypto_req {
	char key[WSOP_KEY_PATH_LEN + 1];
	enum wsop_mechanism mechanism;
	uint8_t iv[WSOP_IV_LEN];
	struct wsop_bytes data;
};

/* Answer: {"data"}, up to WSOP_CRYPTO_ANSWER_MAX bytes. */
struct wsop_crypto_answer {
	struct wsop_bytes data;
};

/* Request of POST /crypto/v1/random: {"length"}, 1..WSOP_RANDOM_MAX
 * (anything else: ETYPE). The answer is a struct wsop_crypto_answer of
 * exactly that many bytes. */
struct wsop_random_req {
	size_t length;
};

/* ---- codec ------------------------------------------------------------- */

int wsop_json_encode_health(const struct wsop_health *in, char **out, size_t *out_len);
int wsop_json_decode_health(const char *text, size_t len, struct wsop_health *out,
                            struct wsop_json_error *err);
/* {"error":{"code","message"}} */
int wsop_json_encode_error(const struct wsop_json_error *in, char **out, size_t *out_len);
int wsop_json_decode_error(const char *text, size_t len, struct wsop_json_error *out,
                           struct wsop_json_error *err);
int wsop_json_encode_softcard(const struct wsop_softcard *in, char **out, size_t *out_len);
int wsop_json_decode_softcard(const char *text, size_t len, struct wsop_softcard *out,
                              struct wsop_json_error *err);
int wsop_json_encode_softcard_create_req(const struct wsop_softcard_create_req *in, char **out,
                                         size_t *out_len);
int wsop_json_decode_softcard_create_req(const char *text, size_t len,
                                         struct wsop_softcard_create_req *out,
                                         struct wsop_json_error *err);
int wsop_json_encode_activate_req(const struct wsop_activate_req *in, char **out, size_t *out_len);
int wsop_json_decode_activate_req(const char *text, size_t len, struct wsop_activate_req *out,
                                  struct wsop_json_error *err);
int wsop_json_encode_softcard_list(const struct wsop_softcard_list *in, char **out,
                                   size_t *out_len);
int wsop_json_decode_softcard_list(const char *text, size_t len, struct wsop_softcard_list *out,
                                   struct wsop_json_error *err);
int wsop_json_encode_group(const struct wsop_group *in, char **out, size_t *out_len);
int wsop_json_decode_group(const char *text, size_t len, struct wsop_group *out,
                           struct wsop_json_error *err);
int wsop_json_encode_group_create_req(const struct wsop_group_create_req *in, char **out,
                                      size_t *out_len);
int wsop_json_decode_group_create_req(const char *text, size_t len,
                                      struct wsop_group_create_req *out,
                                      struct wsop_json_error *err);
int wsop_json_encode_group_list(const struct wsop_group_list *in, char **out, size_t *out_len);
int wsop_json_encode_group_page(const struct wsop_group_list *in, size_t max_bytes, size_t *taken,
                                char **out, size_t *out_len);
int wsop_json_decode_group_list(const char *text, size_t len, struct wsop_group_list *out,
                                struct wsop_json_error *err);
int wsop_json_encode_key_generate_req(const struct wsop_key_generate_req *in, char **out,
                                      size_t *out_len);
int wsop_json_decode_key_generate_req(const char *text, size_t len,
                                      struct wsop_key_generate_req *out,
                                      struct wsop_json_error *err);
int wsop_json_encode_key(const struct wsop_key *in, char **out, size_t *out_len);
int wsop_json_decode_key(const char *text, size_t len, struct wsop_key *out,
                         struct wsop_json_error *err);
int wsop_json_encode_key_list(const struct wsop_key_list *in, char **out, size_t *out_len);
int wsop_json_encode_key_page(const struct wsop_key_list *in, size_t max_bytes, size_t *taken,
                              char **out, size_t *out_len);
int wsop_json_decode_key_list(const char *text, size_t len, struct wsop_key_list *out,
                              struct wsop_json_error *err);
int wsop_json_encode_object_create_req(const struct wsop_object_create_req *in, char **out,
                                       size_t *out_len);
int wsop_json_decode_object_create_req(const char *text, size_t len,
                                       struct wsop_object_create_req *out,
                                       struct wsop_json_error *err);
int wsop_json_encode_object(const struct wsop_object *in, char **out, size_t *out_len);
int wsop_json_decode_object(const char *text, size_t len, struct wsop_object *out,
                            struct wsop_json_error *err);
int wsop_json_encode_object_list(const struct wsop_object_list *in, char **out, size_t *out_len);
int wsop_json_encode_object_page(const struct wsop_object_list *in, size_t max_bytes, size_t *taken,
                                 char **out, size_t *out_len);
int wsop_json_decode_object_list(const char *text, size_t len, struct wsop_object_list *out,
                                 struct wsop_json_error *err);
int wsop_json_encode_crypto_req(const struct wsop_crypto_req *in, char **out, size_t *out_len);
int wsop_json_decode_crypto_req(const char *text, size_t len, struct wsop_crypto_req *out,
                                struct wsop_json_error *err);
int wsop_json_encode_crypto_answer(const struct wsop_crypto_answer *in, char **out,
                                   size_t *out_len);
int wsop_json_decode_crypto_answer(const char *text, size_t len, struct wsop_crypto_answer *out,
                                   struct wsop_json_error *err);

int wsop_json_encode_random_req(const struct wsop_random_req *in, char **out, size_t *out_len);
int wsop_json_decode_random_req(const char *text, size_t len, struct wsop_random_req *out,
                                struct wsop_json_error *err);

/* The body of deactivate: len 0, or an empty object ("{}", whitespace
 * allowed). Anything else fails as the decoders above do. */
int wsop_json_decode_empty(const char *text, size_t len, struct wsop_json_error *err);

/* Fills err with code and message (message truncated to fit); for code
 * strings from anywhere, e.g. the server building an error answer. */
void wsop_json_error_set(struct wsop_json_error *err, const char *code, const char *message);

/* Free functions: accept NULL; free what the struct owns and zero it. */
void wsop_bytes_free(struct wsop_bytes *b);
void wsop_softcard_list_free(struct wsop_softcard_list *l);
void wsop_group_list_free(struct wsop_group_list *l);
void wsop_key_attributes_free(struct wsop_key_attributes *a);
void wsop_key_generate_req_free(struct wsop_key_generate_req *r);
void wsop_key_free(struct wsop_key *k);
void wsop_key_list_free(struct wsop_key_list *l);
void wsop_object_attributes_free(struct wsop_object_attributes *a);
void wsop_object_create_req_free(struct wsop_object_create_req *r);
void wsop_object_free(struct wsop_object *o);
void wsop_object_list_free(struct wsop_object_list *l);
/* These two wipe the data (OPENSSL_clear_free): it may be plaintext. */
void wsop_crypto_req_free(struct wsop_crypto_req *r);
void wsop_crypto_answer_free(struct wsop_crypto_answer *a);

/* Wipe the passphrase (OPENSSL_cleanse of the whole struct). */
void wsop_softcard_create_req_cleanse(struct wsop_softcard_create_req *r);
void wsop_activate_req_cleanse(struct wsop_activate_req *r);

/* Deep copies (for tables that keep a decoded object): 0 or -ENOMEM; dst
 * is zeroed on failure. */
int wsop_bytes_copy(struct wsop_bytes *dst, const uint8_t *data, size_t len);

#endif
