#include "lib/p11_errors.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "conf/audit.h"
#include "conf/log.h"
#include "lib/backend.h"
#include "lib/ckr_names.h"
#include "lib/wsop_client.h"

struct code_map {
	const char *code;
	CK_RV rv;
};

/*
 * The server's error codes and what they mean to a PKCS #11 caller.
 * Faults of the server or of the link are CKR_DEVICE_ERROR; answers that
 * say our own request was malformed are CKR_GENERAL_ERROR, because a
 * correct library never sends one; the rest name what the application
 * asked for.
 */
static const struct code_map code_table[] = {
	/* C_Login: the passphrase is the PIN. A passphrase the server calls
	 * invalid cannot be the right one either. */
	{ "wrong_passphrase", CKR_PIN_INCORRECT },
	{ "invalid_passphrase", CKR_PIN_INCORRECT },
	/* Objects and keys need the token's softcard active: logged in. */
	{ "not_active", CKR_USER_NOT_LOGGED_IN },
	{ "forbidden_use", CKR_KEY_FUNCTION_NOT_PERMITTED },
	/* A softcard that vanished between listing and use. */
	{ "not_found", CKR_TOKEN_NOT_PRESENT },
	{ "unknown_key", CKR_KEY_HANDLE_INVALID },
	{ "bad_mechanism", CKR_MECHANISM_INVALID },
	{ "bad_iv", CKR_MECHANISM_PARAM_INVALID },
	{ "bad_data_length", CKR_DATA_LEN_RANGE },
	{ "bad_padding", CKR_ENCRYPTED_DATA_INVALID },
	{ "bad_key_size", CKR_KEY_SIZE_RANGE },
	{ "bad_attribute", CKR_ATTRIBUTE_VALUE_INVALID },
	{ "invalid_name", CKR_ATTRIBUTE_VALUE_INVALID },
	{ "not_empty", CKR_ACTION_PROHIBITED },
	{ "name_taken", CKR_ACTION_PROHIBITED },
	{ "too_large", CKR_DATA_LEN_RANGE },
	{ "bad_http", CKR_GENERAL_ERROR },
	{ "bad_request", CKR_GENERAL_ERROR },
	{ "method_not_allowed", CKR_GENERAL_ERROR },
	{ "uri_too_long", CKR_GENERAL_ERROR },
	{ "header_too_large", CKR_GENERAL_ERROR },
	{ "idempotency_conflict", CKR_GENERAL_ERROR },
	{ "busy", CKR_DEVICE_ERROR },
	{ "internal", CKR_DEVICE_ERROR },
};

CK_RV p11_ckr_from_errno(int negative_errno)
{
	if (negative_errno == -ENOMEM)
		return CKR_HOST_MEMORY;
	return CKR_DEVICE_ERROR;
}

CK_RV p11_ckr_from_code(const char *code)
{
	if (code == NULL)
		return CKR_DEVICE_ERROR;
	for (size_t i = 0; i < sizeof(code_table) / sizeof(code_table[0]); i++) {
		if (strcmp(code_table[i].code, code) == 0)
			return code_table[i].rv;
	}
	return CKR_DEVICE_ERROR;
}

CK_RV p11_ckr_from_result(int rc, const struct wsop_client *c)
{
	if (rc == 0)
		return CKR_OK;
	if (rc < 0)
		return p11_ckr_from_errno(rc);
	if (c == NULL)
		return CKR_DEVICE_ERROR;
	const struct wsop_json_error *err = wsop_client_error(c);
	return p11_ckr_from_code(err != NULL ? err->code : NULL);
}

/* The audit line of a failed request: the server could not be reached
 * (TLS failure, refused, timed out, helper died: the backend's cause in
 * words), or it refused (its status, code and message). */
static void audit_call_failure(const char *what, int rc, const struct wsop_client *c, CK_RV rv,
                               const struct wsop_json_error *err)
{
	struct audit_line a;

	audit_begin(&a, rc < 0 ? "server_unreachable" : "server_refusal", AUDIT_FAILURE);
	audit_str(&a, "request", what);
	if (rc < 0) {
		const char *cause = backend_failure_cause(c);
		audit_str(&a, "cause", cause[0] != '\0' ? cause : strerror(-rc));
	} else {
		audit_int(&a, "http_status", rc);
		audit_str(&a, "code", err != NULL ? err->code : "");
		audit_str(&a, "message", err != NULL ? err->message : "");
	}
	audit_str(&a, "rv", ckr_name(rv));
	audit_emit(&a);
}

CK_RV p11_call_result(const char *what, int rc, const struct wsop_client *c)
{
	CK_RV rv = p11_ckr_from_result(rc, c);
	const struct wsop_json_error *err = NULL;
	if (rv == CKR_OK)
		return rv;
	if (rc < 0) {
		wlog(WLOG_ERROR, "%s: %s -> %s", what, strerror(-rc), ckr_name(rv));
	} else {
		err = c != NULL ? wsop_client_error(c) : NULL;
		wlog(WLOG_ERROR, "%s: server answered %d %s (%s) -> %s", what, rc,
		     err != NULL ? err->code : "", err != NULL ? err->message : "", ckr_name(rv));
	}
	audit_call_failure(what, rc, c, rv, err);
	return rv;
}
