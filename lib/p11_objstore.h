/*
 * The object handle table: the module's cache of the token objects it has
 * seen, and the handles applications know them by.
 *
 * Contract:
 *  - Handles are process-local integers counted up from 1 and never reused
 *    while the process lives (the counter survives C_Finalize). A server
 *    object (a key by its path, a data/certificate object by its softcard
 *    and id) always maps to the same handle within one initialisation, so
 *    repeated searches return the same handles.
 *  - Each entry caches the object's attributes (struct p11_object). Token
 *    objects are not modifiable, so the cache stays valid until the object
 *    is destroyed; C_GetAttributeValue and C_EncryptInit need no round trip,
 *    but for the value of a data object or certificate that came from a
 *    listing (listings carry no values): p11_objstore_fetch_value reads the
 *    object once and the entry keeps it from then on.
 *  - Entries are bound to their slot (token). Every object is private
 *    (CKA_PRIVATE is forced true), so a handle is visible only while its
 *    token is logged in; invisible handles answer like unknown ones.
 *  - The table holds at most P11_OBJSTORE_MAX entries; adding past that is
 *    CKR_HOST_MEMORY after entries of logged-out tokens were evicted.
 *  - Everything runs under p11_table_lock() internally; callers hold no
 *    lock. Results are copied out, never pointers into the table.
 *  - p11_objstore_reset()/p11_objstore_free() run under the init lock only
 *    (C_Initialize / C_Finalize).
 */
#ifndef PKCS11WSOP_LIB_P11_OBJSTORE_H
#define PKCS11WSOP_LIB_P11_OBJSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>

#include "ipc/wsop_names.h"
#include "lib/p11_attrs.h"

struct p11_slot;

/* Upper bound of cached objects across all tokens (about 1.3 KiB each, plus
 * the values fetched). */
#define P11_OBJSTORE_MAX 262144

/* What the crypto calls need of a key, copied out under the lock. */
struct p11_key_ref {
	char path[WSOP_KEY_PATH_LEN + 1]; /* km/v1/groups/{g}/keys/{k} */
	CK_BBOOL encrypt, decrypt;
	CK_ULONG value_len;
};

/* CKR_OK, or CKR_KEY_HANDLE_INVALID when h is unknown, belongs to another token, is
 * not visible (private and the token is logged out), or is not a CKO_SECRET_KEY. */
CK_RV p11_objstore_key_ref(const struct p11_slot *slot, CK_OBJECT_HANDLE h,
                           struct p11_key_ref *out);

/* Under the init lock only: an empty table / free everything. */
CK_RV p11_objstore_reset(void);
void p11_objstore_free(void);
/* In a forked child: drops the parent's table without freeing anything (a
 * thread of the parent may have been changing it when the process forked,
 * so its pointers cannot be trusted); the memory is lost once. */
void p11_objstore_forget(void);

/* The handle of obj on slot: the existing one when the same server object
 * is known (its cached attributes are kept: token objects do not change;
 * only a value the entry lacks and obj has is taken), else a new one
 * holding a deep copy. CKR_OK, CKR_HOST_MEMORY (also when the table is
 * full). */
CK_RV p11_objstore_put(const struct p11_slot *slot, const struct p11_object *obj,
                       CK_OBJECT_HANDLE *out);

/* A deep copy of the object behind h into *out (free with p11_object_free).
 * CKR_OK, CKR_OBJECT_HANDLE_INVALID when h is unknown, on another token or
 * invisible, CKR_HOST_MEMORY. */
CK_RV p11_objstore_get(const struct p11_slot *slot, CK_OBJECT_HANDLE h, struct p11_object *out);

/* Drops h (after the server deleted the object); unknown h is fine. */
void p11_objstore_drop(CK_OBJECT_HANDLE h);

/* Which entries a listing covered: keys, data objects and certificates, or all. */
enum p11_prune_scope { P11_PRUNE_ALL, P11_PRUNE_KEYS, P11_PRUNE_OBJECTS };

/* Drops every entry of slot in scope whose server object is not in keep
 * (keep[i] are handles of objects the server just listed; the array is
 * sorted in place): objects destroyed by another process stop answering. */
void p11_objstore_prune(const struct p11_slot *slot, CK_OBJECT_HANDLE *keep, size_t n,
                        enum p11_prune_scope scope);

/* When *o (the object behind h on slot, as p11_objstore_get copied it)
 * lacks its value, reads the object from the server, caches it under h
 * and replaces *o with it; else does nothing. CKR_OK; CKR_OBJECT_HANDLE_INVALID
 * (and h dropped) when the server no longer has it; the server call's
 * CK_RV; CKR_HOST_MEMORY. Makes a round trip: no lock may be held. */
CK_RV p11_objstore_fetch_value(struct p11_slot *slot, CK_OBJECT_HANDLE h, struct p11_object *o);

#endif
