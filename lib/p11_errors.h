/*
 * How answers from the road to the server become CK_RV values: WSOP error
 * codes through their row of ipc/wsop_errors.h, and the rule for transport
 * failures.
 *
 * Contract:
 *  - p11_ckr_from_errno(): -ENOMEM is CKR_HOST_MEMORY; every other
 *    negative errno (refused, timed out, TLS failure, helper death,
 *    malformed answer...) is CKR_DEVICE_ERROR: the device is the server.
 *  - p11_ckr_from_code(): a code of the table gives its CKR; an unknown or
 *    empty code gives CKR_DEVICE_ERROR.
 *  - p11_ckr_from_result(): the result of a typed wsop_client call
 *    (lib/wsop_client.h): 0 is CKR_OK, < 0 goes through
 *    p11_ckr_from_errno(), > 0 (an HTTP error status) through the code of
 *    wsop_client_error(c). c must be the client the call was made on and
 *    must not have been released yet.
 *  - Callers with a more precise meaning for one call (C_Login's
 *    wrong_passphrase) still go through this table: it already says so.
 */
#ifndef PKCS11WSOP_LIB_P11_ERRORS_H
#define PKCS11WSOP_LIB_P11_ERRORS_H

#include <p11-kit/pkcs11.h>

struct wsop_client;

CK_RV p11_ckr_from_errno(int negative_errno);
CK_RV p11_ckr_from_code(const char *code);
CK_RV p11_ckr_from_result(int rc, const struct wsop_client *c);

/* p11_ckr_from_result(), and when it is not CKR_OK an ERROR log line
 * "what: cause" naming the errno or the server's code and message, and an
 * audit line (server_unreachable with the backend's cause, or
 * server_refusal). c is a client of backend_acquire (or NULL). */
CK_RV p11_call_result(const char *what, int rc, const struct wsop_client *c);

#endif
