/*
 * The slot table: one slot per softcard the client can see.
 *
 * Contract:
 *  - Slot ids are opaque and derived from the softcard id (28 bits of it
 *    above 2^28), so they are not indexes, and a softcard has the same slot
 *    id in every process and across C_Finalize/C_Initialize: an id printed
 *    by one tool run can be given to the next. Within a process a softcard
 *    keeps its slot id across refreshes, even if a collision (two ids
 *    sharing 28 bits) made it probe to the next free value.
 *  - The table is refreshed from GET /km/v1/protectiondomains by
 *    C_GetSlotList when it is asked for the count (NULL list), or when it
 *    has never been filled. A softcard that is no longer listed stops being
 *    listed, and its slot id answers CKR_SLOT_ID_INVALID to the calls that
 *    take a slot id (its id stays reserved: if the softcard comes back it
 *    gets the same slot). Sessions already open on it stay open; the server
 *    answers their requests (not_found -> CKR_TOKEN_NOT_PRESENT).
 *  - Slot records are never freed before C_Finalize, so a pointer to one
 *    stays valid while the module is initialized. Their fields are read
 *    and written under p11_table_lock(); login_lock serialises C_Login /
 *    C_Logout / the implicit logout of one token across its round trip
 *    (it is per token, never global).
 */
#ifndef PKCS11WSOP_LIB_P11_SLOTS_H
#define PKCS11WSOP_LIB_P11_SLOTS_H

#include <stdbool.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

#include "ipc/wsop_json.h"
#include "ipc/wsop_names.h"

struct wsop_client;

struct p11_slot {
	CK_SLOT_ID id;
	char softcard_id[WSOP_SOFTCARD_ID_LEN + 1];
	char name[WSOP_NAME_MAX + 1];
	bool present;
	bool logged_in;
	/* While logged in: this process's activation token, on a page of its
	 * own that a fork()ed child sees zeroed (MADV_WIPEONFORK) and that is
	 * wiped and unmapped at logout; NULL otherwise. Never logged. */
	char *activation;
	/* The softcard's "pkcs11" key group once C_GenerateKey has found or
	 * made it ("" before), so later generations cost one round trip. */
	char key_group[WSOP_UUID_LEN + 1];
	/* The server's login lockout as last seen (listing, C_Login): wrong
	 * passphrases since the last right one, the limit (0: none) and the
	 * monotonic ms until which the softcard refuses every passphrase. */
	int64_t login_failures;
	int64_t login_limit;
	int64_t locked_until_ms;
	unsigned long sessions;    /* open sessions on this token */
	unsigned long rw_sessions; /* of which read/write */
	void *login_lock;
};

/* Under the init lock only. reset: an empty table with a fresh base.
 * free: frees every record (abandon: in a forked child, without touching
 * the parent's mutexes). */
CK_RV p11_slots_reset(void);
void p11_slots_free(bool abandon);

/* Deactivates every logged-in token (C_Finalize); failures are logged. */
void p11_slots_logout_all(void);

/* Not under the table lock: when id has the shape of our slot ids but no
 * present slot has it (an id printed by another process, or kept across
 * C_Finalize/C_Initialize), lists the softcards once (one round trip) so
 * that the p11_slot_find_locked() that follows knows it. CKR_OK whether or
 * not the id then exists; the listing's error when it failed. */
CK_RV p11_slot_learn(CK_SLOT_ID id);

/* Under p11_table_lock(): the present slot with that id, or NULL. With
 * any_known, a slot whose softcard disappeared is found too. */
struct p11_slot *p11_slot_find_locked(CK_SLOT_ID id, bool any_known);

/* Under p11_table_lock(): takes the login-lockout members of a softcard
 * answer (listing, activate, get) into the slot. */
void p11_slot_note_lockout_locked(struct p11_slot *slot, const struct wsop_softcard *card);

/* Ends the login of slot on the server (deactivate with its token) and
 * clears its login state; the caller holds slot->login_lock, not the table
 * lock. */
CK_RV p11_slot_deactivate(struct p11_slot *slot);

/* Records a successful activation: token becomes the slot's, the slot is
 * logged in. CKR_HOST_MEMORY when no page can be had (then nothing
 * changes). The caller holds slot->login_lock. */
CK_RV p11_slot_login(struct p11_slot *slot, const char *token);

/* Under p11_table_lock(): the slot is logged out here (token wiped and
 * unmapped), without telling the server. */
void p11_slot_logout_locked(struct p11_slot *slot);

/* A client for a request about slot's softcard: it carries the slot's
 * activation token, if any. NULL only when memory is short. */
struct wsop_client *p11_slot_client(struct p11_slot *slot);
/* Gives the client back. When its last answer was 403 not_active to the
 * token it carried (expired, revoked, or the softcard forgotten), and the
 * slot still holds that token, the slot is logged out here, so that the
 * caller's CKR_USER_NOT_LOGGED_IN is true and a new C_Login works. */
void p11_slot_client_release(struct p11_slot *slot, struct wsop_client *c);

#endif
