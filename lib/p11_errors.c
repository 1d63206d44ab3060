#include "lib/p11_errors.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "conf/log.h"
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

CK_RV p11_call_result(const char *what, int rc, const struct wsop_client *c)
{
	CK_RV rv = p11_ckr_from_result(rc, c);
	if (rv == CKR_OK)
		return rv;
	if (rc < 0) {
		wlog(WLOG_ERROR, "%s: %s -> %s", what, strerror(-rc), ckr_name(rv));
	} else {
		const struct wsop_json_error *err = c != NULL ? wsop_client_error(c) : NULL;
		wlog(WLOG_ERROR, "%s: server answered %d %s (%s) -> %s", what, rc,
		     err != NULL ? err->code : "", err != NULL ? err->message : "", ckr_name(rv));
	}
	return rv;
}
