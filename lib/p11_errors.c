#include "lib/p11_errors.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "conf/audit.h"
#include "conf/log.h"
#include "lib/backend.h"
#include "lib/ckr_names.h"
#include "ipc/wsop_errors.h"
#include "lib/wsop_client.h"

CK_RV p11_ckr_from_errno(int negative_errno)
{
	if (negative_errno == -ENOMEM)
		return CKR_HOST_MEMORY;
	return CKR_DEVICE_ERROR;
}

CK_RV p11_ckr_from_code(const char *code)
{
	enum wsop_error e;

	/* A code we do not know is the server's fault, as is a missing one. */
	return wsop_error_lookup(code, &e) ? wsop_error_ckr(e) : CKR_DEVICE_ERROR;
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
