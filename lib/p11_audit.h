/*
 * The module's audit trail: one audit line (conf/audit.h) per
 * security-relevant PKCS #11 call, with the token and the objects it
 * touched. The README's "Audit trail" lists every event and field.
 *
 * Contract:
 *  - Each function logs exactly one line; a success (rv CKR_OK) at INFO,
 *    anything else at WARNING.
 *  - slot may be NULL (the session handle was not valid): the token fields
 *    are then left out. The slot's name and softcard id are read under the
 *    table lock, so callers hold no lock of the module.
 *  - Nothing secret is logged: no PIN, no value of any object, no
 *    activation token. Labels and CKA_ID are application data and are
 *    quoted by conf/audit.
 */
#ifndef PKCS11WSOP_LIB_P11_AUDIT_H
#define PKCS11WSOP_LIB_P11_AUDIT_H

#include <p11-kit/pkcs11.h>

#include "conf/config.h"
#include "ipc/wsop_json.h"

struct p11_slot;
struct p11_object;

/* initialize: configuration file, server, helper pid (0 when none started);
 * reason says why it failed (NULL on success). */
void p11_audit_initialize(const char *config_path, const struct wsop_config *cfg, long helper_pid,
                          CK_RV rv, const char *reason);
void p11_audit_finalize(void);
/* A warning about the configuration file, as the parser worded it. */
void p11_audit_config_warning(const char *message);

/* login or logout ("login"/"logout") of the session's token. */
void p11_audit_login(const char *event, CK_SESSION_HANDLE session, const struct p11_slot *slot,
                     CK_RV rv);

/* generate_key: on success the key behind made as the server made it, else
 * what the template asked for (req may be NULL when the template was not
 * read). */
void p11_audit_generate_key(CK_SESSION_HANDLE session, const struct p11_slot *slot,
                            const struct wsop_key_generate_req *req, CK_OBJECT_HANDLE made,
                            CK_RV rv);
/* create_object: the same for data objects and certificates. */
void p11_audit_create_object(CK_SESSION_HANDLE session, const struct p11_slot *slot,
                             const struct wsop_object_create_req *req, CK_OBJECT_HANDLE made,
                             CK_RV rv);
/* destroy_object: o is the object behind handle, NULL when it was not
 * found. */
void p11_audit_destroy_object(CK_SESSION_HANDLE session, const struct p11_slot *slot,
                              CK_OBJECT_HANDLE handle, const struct p11_object *o, CK_RV rv);

#endif
