/*
 * The error codes of the WSOP API, one row each: the code's name on the
 * wire ({"error":{"code":NAME,…}}), the HTTP status it goes with, and what
 * it means to a PKCS #11 caller. wsopd answers with these and the module
 * maps them back; neither restates the table.
 *
 * Contract:
 *  - wsop_error_name/status/ckr take a valid enum value; an out-of-range
 *    value reads as WSOP_E_INTERNAL (never an out-of-bounds read).
 *  - wsop_error_lookup() finds a wire name (from another process: any
 *    text, or NULL) and returns false when it is not one of ours.
 *  - The CK_RV column follows one rule: a fault of the server or of the
 *    link is CKR_DEVICE_ERROR; an answer that says our own request was
 *    malformed is CKR_GENERAL_ERROR (a correct module never sends one);
 *    the rest name what the application asked for.
 */
#ifndef PKCS11WSOP_IPC_WSOP_ERRORS_H
#define PKCS11WSOP_IPC_WSOP_ERRORS_H

#include <stdbool.h>

#include <p11-kit/pkcs11.h>

/* X(ID, wire name, HTTP status, CK_RV) */
#define WSOP_ERROR_TABLE(X)                                                                        \
	X(BAD_HTTP, "bad_http", 400, CKR_GENERAL_ERROR)                                            \
	X(BAD_REQUEST, "bad_request", 400, CKR_GENERAL_ERROR)                                      \
	X(BAD_ATTRIBUTE, "bad_attribute", 400, CKR_ATTRIBUTE_VALUE_INVALID)                        \
	X(INVALID_NAME, "invalid_name", 400, CKR_ATTRIBUTE_VALUE_INVALID)                          \
	/* A passphrase the server calls invalid cannot be the right one. */                       \
	X(INVALID_PASSPHRASE, "invalid_passphrase", 400, CKR_PIN_INCORRECT)                        \
	X(BAD_KEY_SIZE, "bad_key_size", 400, CKR_KEY_SIZE_RANGE)                                   \
	X(BAD_MECHANISM, "bad_mechanism", 400, CKR_MECHANISM_INVALID)                              \
	X(BAD_IV, "bad_iv", 400, CKR_MECHANISM_PARAM_INVALID)                                      \
	X(BAD_DATA_LENGTH, "bad_data_length", 400, CKR_DATA_LEN_RANGE)                             \
	X(BAD_PADDING, "bad_padding", 400, CKR_ENCRYPTED_DATA_INVALID)                             \
	/* C_Login: the passphrase is the PIN. */                                                  \
	X(WRONG_PASSPHRASE, "wrong_passphrase", 403, CKR_PIN_INCORRECT)                            \
	X(SOFTCARD_LOCKED, "softcard_locked", 403, CKR_PIN_LOCKED)                                 \
	/* Objects and keys need the token's softcard active: logged in. */                        \
	X(NOT_ACTIVE, "not_active", 403, CKR_USER_NOT_LOGGED_IN)                                   \
	X(FORBIDDEN_USE, "forbidden_use", 403, CKR_KEY_FUNCTION_NOT_PERMITTED)                     \
	/* A softcard that vanished between listing and use. */                                    \
	X(NOT_FOUND, "not_found", 404, CKR_TOKEN_NOT_PRESENT)                                      \
	X(UNKNOWN_KEY, "unknown_key", 404, CKR_KEY_HANDLE_INVALID)                                 \
	X(METHOD_NOT_ALLOWED, "method_not_allowed", 405, CKR_GENERAL_ERROR)                        \
	X(NOT_EMPTY, "not_empty", 409, CKR_ACTION_PROHIBITED)                                      \
	X(NAME_TAKEN, "name_taken", 409, CKR_ACTION_PROHIBITED)                                    \
	X(TOO_LARGE, "too_large", 413, CKR_DATA_LEN_RANGE)                                         \
	X(URI_TOO_LONG, "uri_too_long", 414, CKR_GENERAL_ERROR)                                    \
	X(IDEMPOTENCY_CONFLICT, "idempotency_conflict", 422, CKR_GENERAL_ERROR)                    \
	X(HEADER_TOO_LARGE, "header_too_large", 431, CKR_GENERAL_ERROR)                            \
	X(INTERNAL, "internal", 500, CKR_DEVICE_ERROR)                                             \
	X(BUSY, "busy", 503, CKR_DEVICE_ERROR)

enum wsop_error {
#define WSOP_ERROR_ENUM(id, name, status, ckr) WSOP_E_##id,
	WSOP_ERROR_TABLE(WSOP_ERROR_ENUM)
#undef WSOP_ERROR_ENUM
	    WSOP_E_COUNT
};

const char *wsop_error_name(enum wsop_error e);
int wsop_error_status(enum wsop_error e);
CK_RV wsop_error_ckr(enum wsop_error e);
bool wsop_error_lookup(const char *name, enum wsop_error *out);

#endif
