/*
 * The shapes of WSOP names, ids and bounded values (ipc/README.md, the
 * limits table), shared by wsopd, the client code and the JSON codec so
 * that both ends refuse exactly the same inputs.
 *
 * Contract:
 *  - Every predicate takes a NUL-terminated string (or a pointer and a
 *    length where noted), returns false for NULL, and never allocates.
 *  - Buffer sizes below are "limit + 1" wherever a NUL follows the text.
 */
#ifndef PKCS11WSOP_IPC_WSOP_NAMES_H
#define PKCS11WSOP_IPC_WSOP_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Limits of ipc/README.md. Lengths are in bytes. */
#define WSOP_NAME_MAX            64     /* softcard and group names */
#define WSOP_PASSPHRASE_MAX      256    /* printable ASCII */
#define WSOP_SOFTCARD_ID_LEN     40     /* lower-case hex */
#define WSOP_UUID_LEN            36     /* 8-4-4-4-12 lower-case hex */
#define WSOP_LABEL_MAX           256    /* UTF-8 text */
#define WSOP_APPLICATION_MAX     256    /* UTF-8 text */
#define WSOP_CKA_ID_MAX          256    /* binary */
#define WSOP_OBJECT_ID_MAX       256    /* binary (CKA_OBJECT_ID) */
#define WSOP_SERIAL_MAX          256    /* binary (CKA_SERIAL_NUMBER) */
#define WSOP_DN_MAX              4096   /* binary DER subject / issuer */
#define WSOP_OBJECT_VALUE_MAX    65536  /* binary */
#define WSOP_CRYPTO_DATA_MAX     262144 /* binary, request data */
#define WSOP_RANDOM_MAX          65536  /* bytes of one random answer */
#define WSOP_IV_LEN              16
#define WSOP_IDEMPOTENCY_KEY_MAX 64
#define WSOP_DATE_LEN            8 /* YYYYMMDD */
#define WSOP_JSON_MAX_DEPTH      8
/* An answer of AES_CBC_PAD encryption may be one block longer than its
 * request data. */
#define WSOP_CRYPTO_ANSWER_MAX (WSOP_CRYPTO_DATA_MAX + 16)
/* Error bodies: code is one of the README's codes, message human text. */
#define WSOP_ERROR_CODE_MAX    31
#define WSOP_ERROR_MESSAGE_MAX 255
/* GET /health members. */
#define WSOP_HEALTH_STATUS_MAX  15
#define WSOP_HEALTH_VERSION_MAX 31

/* "km/v1/groups/" uuid "/keys/" uuid */
#define WSOP_KEY_PATH_PREFIX "km/v1/groups/"
#define WSOP_KEY_PATH_INFIX  "/keys/"
#define WSOP_KEY_PATH_LEN                                                                          \
	(sizeof(WSOP_KEY_PATH_PREFIX) - 1 + WSOP_UUID_LEN + sizeof(WSOP_KEY_PATH_INFIX) - 1 +      \
	 WSOP_UUID_LEN)

/* 1..64 characters of [A-Za-z0-9_-]. */
bool wsop_name_valid(const char *s);

/* s[0..len): 1..256 bytes, each printable ASCII 0x20..0x7e (so no NUL). */
bool wsop_passphrase_valid(const char *s, size_t len);

/* Exactly 40 characters of [0-9a-f]. */
bool wsop_softcard_id_valid(const char *s);

/* Exactly 36 characters, lower-case hex in 8-4-4-4-12 groups. No version or
 * variant nibble is required: the shape is what the API fixes. */
bool wsop_uuid_valid(const char *s);

/* 1..64 characters of [A-Za-z0-9_-] (the softcard name alphabet). */
bool wsop_idempotency_key_valid(const char *s);

/* Exactly 8 digits YYYYMMDD naming a real Gregorian date, year 0001..9999
 * (leap years counted). */
bool wsop_date_valid(const char *s);

/* Valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF) with no
 * NUL byte, s[0..len). Used for label and application. */
bool wsop_utf8_text_valid(const char *s, size_t len);

/* Splits "km/v1/groups/{g}/keys/{k}" (no leading slash, nothing after k)
 * into its two uuids. Returns 0, or -EINVAL when path is NULL or not of
 * that exact shape (both ids must be wsop_uuid_valid); group and key are
 * then set to "". */
int wsop_key_path_parse(const char *path, char group[WSOP_UUID_LEN + 1],
                        char key[WSOP_UUID_LEN + 1]);

/* Writes "km/v1/groups/{group}/keys/{key}" and a NUL to out. Returns 0,
 * -EINVAL when either id is not wsop_uuid_valid, -ENOBUFS when out_cap <=
 * WSOP_KEY_PATH_LEN. */
int wsop_key_path_format(const char *group, const char *key, char *out, size_t out_cap);

#endif
