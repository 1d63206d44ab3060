/*
 * The slot table: one slot per softcard the client can see. The owner of
 * every slot's state: other files hold struct p11_slot pointers and go
 * through these functions, never its fields.
 *
 * Contract:
 *  - Slot ids are opaque and derived from the softcard id (28 bits of it
 *    above 2^28), so they are not indexes, and a softcard has the same slot
 *    id in every process and across C_Finalize/C_Initialize: an id printed
 *    by one tool run can be given to the next. Within a process a softcard
 *    keeps its slot id across refreshes, even if a collision (two ids
 *    sharing 28 bits) made it probe to the next free value. Lookups by id
 *    and by softcard are O(1) whatever the number of slots.
 *  - The table is refreshed from GET /km/v1/protectiondomains by
 *    C_GetSlotList when it is asked for the count (NULL list), or when it
 *    has never been filled; p11_slots_update_from_listing() is the part of
 *    a refresh after its round trip. A softcard that is no longer listed
 *    stops being listed, and its slot id answers CKR_SLOT_ID_INVALID to the
 *    calls that take a slot id (its id stays reserved: if the softcard
 *    comes back it gets the same slot). Sessions already open on it stay
 *    open; the server answers their requests (not_found ->
 *    CKR_TOKEN_NOT_PRESENT).
 *  - Slot records are never freed before C_Finalize, so a pointer to one
 *    stays valid while the module is initialized. A slot's id and softcard
 *    id never change; the rest is read and written under p11_table_lock()
 *    (by the functions named *_locked with the caller holding it, by the
 *    others taking it themselves).
 *  - The login lock (p11_slot_login_lock) serialises C_Login, C_Logout and
 *    the implicit logout of one token across its round trip (it is per
 *    token, never global); lib/p11_core.h gives its place in the lock order.
 */
#ifndef PKCS11WSOP_LIB_P11_SLOTS_H
#define PKCS11WSOP_LIB_P11_SLOTS_H

#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>

#include "ipc/wsop_json.h"
#include "ipc/wsop_names.h"

struct p11_slot;
struct wsop_client;

/* Under the init lock only. reset: an empty table. free: frees every
 * record (abandon: in a forked child, without touching the parent's
 * mutexes). */
CK_RV p11_slots_reset(void);
void p11_slots_free(bool abandon);

/* Deactivates every logged-in token (C_Finalize); failures are logged. */
void p11_slots_logout_all(void);

/* Brings the table in line with a listing of n softcards: new softcards
 * get their slot ids, missing ones are marked absent, names and lockout
 * state are refreshed, and the table counts as filled. More than 4096
 * softcards: the rest get no slot (logged). CKR_OK or CKR_HOST_MEMORY
 * (the slots added before stay). */
CK_RV p11_slots_update_from_listing(const struct wsop_softcard *cards, size_t n);

/* Not under the table lock: when id has the shape of our slot ids but no
 * present slot has it (an id printed by another process, or kept across
 * C_Finalize/C_Initialize), lists the softcards once (one round trip) so
 * that the p11_slot_find_locked() that follows knows it. CKR_OK whether or
 * not the id then exists; the listing's error when it failed. */
CK_RV p11_slot_learn(CK_SLOT_ID id);

/* Under p11_table_lock(): the present slot with that id, or NULL. With
 * any_known, a slot whose softcard disappeared is found too. */
struct p11_slot *p11_slot_find_locked(CK_SLOT_ID id, bool any_known);

/* p11_slot_learn() and then the present slot with that id:
 * CKR_SLOT_ID_INVALID when there is none. */
CK_RV p11_slot_lookup(CK_SLOT_ID id, struct p11_slot **out);

/* Never change, so no lock: the slot id and the softcard id (40 hex
 * digits, valid as long as the slot). */
CK_SLOT_ID p11_slot_id(const struct p11_slot *slot);
const char *p11_slot_softcard_id(const struct p11_slot *slot);

/* The softcard's name as last listed. */
void p11_slot_name(const struct p11_slot *slot, char out[WSOP_NAME_MAX + 1]);

/* Whether this process is logged in to the token. */
bool p11_slot_logged_in(const struct p11_slot *slot);
bool p11_slot_logged_in_locked(const struct p11_slot *slot);

/* The softcard's "pkcs11" key group once C_GenerateKey has found or made
 * it ("" before, or after set to ""), so later generations cost one round
 * trip. */
void p11_slot_key_group(const struct p11_slot *slot, char out[WSOP_UUID_LEN + 1]);
void p11_slot_set_key_group(struct p11_slot *slot, const char *group_id);

/* Takes the login-lockout members of a softcard answer (listing, activate,
 * get) into the slot. */
void p11_slot_note_lockout(struct p11_slot *slot, const struct wsop_softcard *card);

/* Under p11_table_lock(): a session was opened on the token / one was
 * closed. closed answers true when that was the token's last session while
 * it was logged in: then call p11_slot_logout_if_idle() without the lock. */
void p11_slot_session_opened_locked(struct p11_slot *slot, bool rw);
bool p11_slot_session_closed_locked(struct p11_slot *slot, bool rw);

/* PKCS #11: when the last session of a token closes, the user is logged
 * out. Under the login lock only; does nothing if a session was opened
 * meanwhile. When the server cannot be told, the token is logged out here
 * anyway (the activation then ends by itself). */
void p11_slot_logout_if_idle(struct p11_slot *slot);

/* The token's login lock (see above). */
void p11_slot_login_lock(struct p11_slot *slot);
void p11_slot_login_unlock(struct p11_slot *slot);

/* Ends the login of slot on the server (deactivate with its token) and
 * clears its login state; the caller holds the login lock, not the table
 * lock. */
CK_RV p11_slot_deactivate(struct p11_slot *slot);

/* Records a successful activation: token becomes the slot's, the slot is
 * logged in. CKR_HOST_MEMORY when no page can be had, CKR_DEVICE_ERROR
 * when token is not wsop_activation_token_valid (then nothing changes).
 * The caller holds the login lock. */
CK_RV p11_slot_login(struct p11_slot *slot, const char *token);

/* A client for a request about slot's softcard: it carries the slot's
 * activation token, if any. NULL only when memory is short (or no backend
 * is attached, lib/p11_core.h). */
struct wsop_client *p11_slot_client(struct p11_slot *slot);
/* Gives the client back. When its last answer was 403 not_active to the
 * token it carried (expired, revoked, or the softcard forgotten), and the
 * slot still holds that token, the slot is logged out here, so that the
 * caller's CKR_USER_NOT_LOGGED_IN is true and a new C_Login works. */
void p11_slot_client_release(struct p11_slot *slot, struct wsop_client *c);

#endif
