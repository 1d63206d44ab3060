/* The slot table and C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo. */
#include "lib/p11_slots.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ipc/mono_clock.h"
#include "ipc/grow.h"
#include "build_config.h"
#include "lib/handle_map.h"
#include "lib/p11_core.h"
#include "lib/p11_errors.h"
#include "lib/p11_lock.h"
#include "lib/wsop_client.h"

/* More softcards than this are not shown as slots (logged once per
 * refresh); it bounds the table before anything grows. */
#define P11_SLOTS_MAX 4096
#define PIN_LEN_MIN   1

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

/* items in the order the softcards were first listed (C_GetSlotList's
 * order); by_id indexes the same records by slot id. */
static struct {
	struct p11_slot **items;
	size_t count, cap;
	struct handle_map by_id;
	bool filled; /* refreshed at least once */
} tab;

CK_RV p11_slots_reset(void)
{
	memset(&tab, 0, sizeof(tab));
	return CKR_OK;
}

/* A softcard's slot id comes from its id: the first 7 hex digits above
 * 2^28, so ids are opaque (never indexes), fit in 31 bits for applications
 * that keep them in an int, and are the same in every process and after a
 * re-initialisation, so an id printed by one tool run works in the next.
 * Two softcards whose ids share those digits (one chance in 2^28 per pair)
 * are told apart by probing upwards. */
#define SLOT_ID_FIRST 0x10000000UL
#define SLOT_ID_LAST  0x1fffffffUL

static CK_SLOT_ID first_id_for(const char *softcard_id)
{
	CK_SLOT_ID id = 0;
	for (size_t i = 0; i < 7; i++) {
		char c = softcard_id[i];
		unsigned digit = c >= 'a' ? (unsigned)(c - 'a' + 10) : (unsigned)(c - '0');
		id = id << 4 | digit;
	}
	return id | SLOT_ID_FIRST;
}

static CK_SLOT_ID next_id(CK_SLOT_ID id)
{
	return id == SLOT_ID_LAST ? SLOT_ID_FIRST : id + 1;
}

/* Slots are never removed, so the ids from a softcard's first id up to its
 * own are all taken: its slot is on that run, and the first free id after
 * the run is where a new softcard goes. Both walks are as long as the run
 * of colliding ids, one in 2^28 per pair of softcards. */
static struct p11_slot *find_softcard_locked(const char *softcard_id)
{
	for (CK_SLOT_ID id = first_id_for(softcard_id);; id = next_id(id)) {
		struct p11_slot *s = handle_map_get(&tab.by_id, id);
		if (s == NULL || strcmp(s->softcard_id, softcard_id) == 0)
			return s;
	}
}

static CK_SLOT_ID free_id_for(const char *softcard_id)
{
	CK_SLOT_ID id = first_id_for(softcard_id);
	while (handle_map_get(&tab.by_id, id) != NULL)
		id = next_id(id);
	return id;
}

/* The token's page: private, kept out of swap when allowed, and zero in a
 * fork()ed child, so a child never holds its parent's activation. */
static char *token_page_new(void)
{
	size_t len = (size_t)sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, len, MADV_WIPEONFORK) != 0) {
		/* No such kernel feature: better no login than a token that
		 * survives into every child. */
		munmap(p, len);
		return NULL;
	}
	(void)mlock(p, len);
	return p;
}

static void token_page_free(char *p)
{
	size_t len = (size_t)sysconf(_SC_PAGESIZE);

	if (p == NULL)
		return;
	OPENSSL_cleanse(p, WSOP_ACTIVATION_MAX + 1);
	munlock(p, len);
	munmap(p, len);
}

static void logout_locked(struct p11_slot *slot)
{
	token_page_free(slot->activation);
	slot->activation = NULL;
	slot->logged_in = false;
}

void p11_slots_free(bool abandon)
{
	for (size_t i = 0; i < tab.count; i++) {
		/* In a child the page reads as zeros already; unmapping it is
		 * safe either way. */
		token_page_free(tab.items[i]->activation);
		if (abandon)
			p11_mutex_abandon(tab.items[i]->login_lock);
		else
			p11_mutex_destroy(tab.items[i]->login_lock);
		free(tab.items[i]);
	}
	free(tab.items);
	handle_map_clear(&tab.by_id);
	memset(&tab, 0, sizeof(tab));
}

struct p11_slot *p11_slot_find_locked(CK_SLOT_ID id, bool any_known)
{
	struct p11_slot *s = handle_map_get(&tab.by_id, id);
	return s != NULL && (s->present || any_known) ? s : NULL;
}

static void note_lockout_locked(struct p11_slot *slot, const struct wsop_softcard *card)
{
	slot->login_failures = card->login_failures;
	slot->login_limit = card->login_limit;
	slot->locked_until_ms = card->locked_for > 0 ? mono_ms() + card->locked_for * 1000 : 0;
}

/* CKF_USER_PIN_* from the server's count as last seen: one more wrong
 * passphrase locks at failures == limit - 1, and again after a lockout has
 * run out (the server then allows one try at a time). */
static CK_FLAGS pin_flags(const struct p11_slot *s)
{
	CK_FLAGS f = 0;
	if (s->login_failures > 0)
		f |= CKF_USER_PIN_COUNT_LOW;
	if (s->login_limit <= 0)
		return f;
	if (s->login_failures >= s->login_limit && s->locked_until_ms > mono_ms())
		f |= CKF_USER_PIN_LOCKED;
	else if (s->login_failures >= s->login_limit - 1)
		f |= CKF_USER_PIN_FINAL_TRY;
	return f;
}

static CK_RV add_locked(const struct wsop_softcard *card)
{
	if (tab.count >= P11_SLOTS_MAX)
		return CKR_DEVICE_MEMORY;
	if (grow_to((void **)&tab.items, &tab.cap, tab.count + 1, sizeof(*tab.items),
	            P11_SLOTS_MAX) != 0)
		return CKR_HOST_MEMORY;
	struct p11_slot *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return CKR_HOST_MEMORY;
	CK_RV rv = p11_mutex_create(&s->login_lock);
	if (rv != CKR_OK) {
		free(s);
		return rv;
	}
	s->id = free_id_for(card->id);
	memcpy(s->softcard_id, card->id, sizeof(s->softcard_id));
	if (handle_map_put(&tab.by_id, s->id, s) != 0) {
		p11_mutex_destroy(s->login_lock);
		free(s);
		return CKR_HOST_MEMORY;
	}
	tab.items[tab.count++] = s;
	return CKR_OK;
}

static CK_RV merge_locked(const struct wsop_softcard *cards, size_t n)
{
	for (size_t i = 0; i < tab.count; i++)
		tab.items[i]->present = false;
	for (size_t i = 0; i < n; i++) {
		const struct wsop_softcard *card = &cards[i];
		struct p11_slot *s = find_softcard_locked(card->id);
		if (s == NULL) {
			CK_RV rv = add_locked(card);
			if (rv == CKR_DEVICE_MEMORY) {
				wlog(WLOG_WARNING, "more than %d softcards: the rest get no slot",
				     P11_SLOTS_MAX);
				break;
			}
			if (rv != CKR_OK)
				return rv;
			s = tab.items[tab.count - 1];
		}
		memcpy(s->name, card->name, sizeof(s->name));
		note_lockout_locked(s, card);
		s->present = true;
	}
	tab.filled = true;
	return CKR_OK;
}

CK_RV p11_slots_update_from_listing(const struct wsop_softcard *cards, size_t n)
{
	p11_table_lock();
	CK_RV rv = merge_locked(cards, n);
	p11_table_unlock();
	return rv;
}

static CK_RV refresh(void)
{
	struct wsop_softcard_list list;
	struct wsop_client *c = p11_client_acquire();
	if (c == NULL)
		return CKR_HOST_MEMORY;
	int rc = wsop_softcard_list(c, &list);
	CK_RV rv = p11_call_result("listing softcards", rc, c);
	p11_client_release(c);
	if (rv != CKR_OK)
		return rv;
	rv = p11_slots_update_from_listing(list.items, list.count);
	wsop_softcard_list_free(&list);
	return rv;
}

CK_RV p11_slot_learn(CK_SLOT_ID id)
{
	/* Any other number is not ours: no round trip to say so. */
	if (id < SLOT_ID_FIRST || id > SLOT_ID_LAST)
		return CKR_OK;
	p11_table_lock();
	bool known = p11_slot_find_locked(id, false) != NULL;
	p11_table_unlock();
	return known ? CKR_OK : refresh();
}

CK_RV p11_slot_lookup(CK_SLOT_ID id, struct p11_slot **out)
{
	CK_RV rv = p11_slot_learn(id);
	if (rv != CKR_OK)
		return rv;
	p11_table_lock();
	*out = p11_slot_find_locked(id, false);
	p11_table_unlock();
	return *out != NULL ? CKR_OK : CKR_SLOT_ID_INVALID;
}

CK_SLOT_ID p11_slot_id(const struct p11_slot *slot)
{
	return slot->id;
}

const char *p11_slot_softcard_id(const struct p11_slot *slot)
{
	return slot->softcard_id;
}

void p11_slot_name(const struct p11_slot *slot, char out[WSOP_NAME_MAX + 1])
{
	p11_table_lock();
	memcpy(out, slot->name, WSOP_NAME_MAX + 1);
	p11_table_unlock();
}

bool p11_slot_logged_in_locked(const struct p11_slot *slot)
{
	return slot->logged_in;
}

bool p11_slot_logged_in(const struct p11_slot *slot)
{
	p11_table_lock();
	bool logged_in = slot->logged_in;
	p11_table_unlock();
	return logged_in;
}

void p11_slot_key_group(const struct p11_slot *slot, char out[WSOP_UUID_LEN + 1])
{
	p11_table_lock();
	memcpy(out, slot->key_group, WSOP_UUID_LEN + 1);
	p11_table_unlock();
}

void p11_slot_set_key_group(struct p11_slot *slot, const char *group_id)
{
	p11_table_lock();
	snprintf(slot->key_group, sizeof(slot->key_group), "%s", group_id);
	p11_table_unlock();
}

void p11_slot_note_lockout(struct p11_slot *slot, const struct wsop_softcard *card)
{
	p11_table_lock();
	note_lockout_locked(slot, card);
	p11_table_unlock();
}

void p11_slot_session_opened_locked(struct p11_slot *slot, bool rw)
{
	slot->sessions++;
	if (rw)
		slot->rw_sessions++;
}

bool p11_slot_session_closed_locked(struct p11_slot *slot, bool rw)
{
	slot->sessions--;
	if (rw)
		slot->rw_sessions--;
	return slot->sessions == 0 && slot->logged_in;
}

void p11_slot_login_lock(struct p11_slot *slot)
{
	p11_mutex_lock(slot->login_lock);
}

void p11_slot_login_unlock(struct p11_slot *slot)
{
	p11_mutex_unlock(slot->login_lock);
}

CK_RV C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
	CK_RV rv = P11_BEGIN(0, "(tokenPresent=%u, list=%s)", (unsigned)tokenPresent,
	                     pSlotList == NULL ? "NULL" : "buffer");
	if (rv != CKR_OK)
		return rv;
	if (pulCount == NULL)
		return p11_return(__func__, 0, CKR_ARGUMENTS_BAD);

	/* The count call refreshes; the list call that follows it answers
	 * from the same table, so the two agree. */
	p11_table_lock();
	bool need = pSlotList == NULL || !tab.filled;
	p11_table_unlock();
	if (need)
		rv = refresh();
	if (rv != CKR_OK)
		return p11_return(__func__, 0, rv);

	/* Every listed slot has its token: tokenPresent changes nothing. */
	p11_table_lock();
	CK_ULONG present = 0;
	for (size_t i = 0; i < tab.count; i++)
		present += tab.items[i]->present;
	if (pSlotList != NULL && *pulCount < present) {
		rv = CKR_BUFFER_TOO_SMALL;
	} else if (pSlotList != NULL) {
		CK_ULONG n = 0;
		for (size_t i = 0; i < tab.count; i++) {
			if (tab.items[i]->present)
				pSlotList[n++] = tab.items[i]->id;
		}
	}
	*pulCount = present;
	p11_table_unlock();
	return p11_return(__func__, 0, rv);
}

/* The module's version stands for the hardware's and the firmware's. */
static void versions(CK_VERSION *hardware, CK_VERSION *firmware)
{
	hardware->major = firmware->major = PKCS11WSOP_VERSION_MAJOR;
	hardware->minor = firmware->minor = PKCS11WSOP_VERSION_MINOR;
}

/* How C_GetSlotInfo and C_GetTokenInfo start: a copy of the present slot
 * id, taken under the lock; a failure is returned as function's. */
static CK_RV info_start(const char *function, CK_SLOT_ID id, bool have_info, struct p11_slot *copy)
{
	CK_RV rv = p11_begin(function, 0, "(slot=%lu)", (unsigned long)id);
	if (rv != CKR_OK)
		return rv;
	struct p11_slot *s = NULL;
	rv = have_info ? p11_slot_lookup(id, &s) : CKR_ARGUMENTS_BAD;
	if (rv != CKR_OK)
		return p11_return(function, 0, rv);
	p11_table_lock();
	*copy = *s;
	p11_table_unlock();
	return CKR_OK;
}

CK_RV C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
	struct p11_slot copy;
	CK_RV rv = info_start(__func__, slotID, pInfo != NULL, &copy);
	if (rv != CKR_OK)
		return rv;

	char desc[WSOP_NAME_MAX + 32];
	snprintf(desc, sizeof(desc), "WSOP softcard %s", copy.name);
	memset(pInfo, 0, sizeof(*pInfo));
	p11_pad(pInfo->slotDescription, sizeof(pInfo->slotDescription), desc);
	p11_pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), P11_MANUFACTURER);
	/* A softcard is never removed from its slot: the slot goes with it. */
	pInfo->flags = CKF_TOKEN_PRESENT;
	versions(&pInfo->hardwareVersion, &pInfo->firmwareVersion);
	return CKR_OK;
}

CK_RV C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
	struct p11_slot copy;
	CK_RV rv = info_start(__func__, slotID, pInfo != NULL, &copy);
	if (rv != CKR_OK)
		return rv;

	char serial[17];
	memcpy(serial, copy.softcard_id, 16);
	serial[16] = '\0';

	memset(pInfo, 0, sizeof(*pInfo));
	p11_pad(pInfo->label, sizeof(pInfo->label), copy.name);
	p11_pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), P11_MANUFACTURER);
	p11_pad(pInfo->model, sizeof(pInfo->model), "WSOP softcard");
	p11_pad(pInfo->serialNumber, sizeof(pInfo->serialNumber), serial);
	/* CKF_RNG: C_GenerateRandom asks the server's generator. No clock, no
	 * protected authentication path: the PIN is the passphrase. */
	pInfo->flags = CKF_RNG | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED |
	               CKF_TOKEN_INITIALIZED | pin_flags(&copy);
	pInfo->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
	pInfo->ulSessionCount = copy.sessions;
	pInfo->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
	pInfo->ulRwSessionCount = copy.rw_sessions;
	pInfo->ulMaxPinLen = WSOP_PASSPHRASE_MAX;
	pInfo->ulMinPinLen = PIN_LEN_MIN;
	pInfo->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	versions(&pInfo->hardwareVersion, &pInfo->firmwareVersion);
	/* Only meaningful with CKF_CLOCK_ON_TOKEN, which is not set. */
	memset(pInfo->utcTime, ' ', sizeof(pInfo->utcTime));
	return CKR_OK;
}

CK_RV p11_slot_login(struct p11_slot *slot, const char *token)
{
	/* Checked once here, so that p11_slot_client need not check it again
	 * before every request. */
	if (!wsop_activation_token_valid(token))
		return CKR_DEVICE_ERROR;
	char *page = token_page_new();

	if (page == NULL)
		return CKR_HOST_MEMORY;
	snprintf(page, WSOP_ACTIVATION_MAX + 1, "%s", token);
	p11_table_lock();
	token_page_free(slot->activation);
	slot->activation = page;
	slot->logged_in = true;
	p11_table_unlock();
	return CKR_OK;
}

struct wsop_client *p11_slot_client(struct p11_slot *slot)
{
	struct wsop_client *c = p11_client_acquire();

	if (c == NULL)
		return NULL;
	p11_table_lock();
	/* Checked when stored (p11_slot_login). */
	wsop_client_set_valid_activation(c, slot->activation);
	p11_table_unlock();
	return c;
}

void p11_slot_client_release(struct p11_slot *slot, struct wsop_client *c)
{
	const char *carried = wsop_client_activation(c);

	if (carried != NULL && wsop_client_last_status(c) == 403 &&
	    wsop_client_error_is(c, WSOP_E_NOT_ACTIVE)) {
		p11_table_lock();
		if (slot->activation != NULL && strcmp(slot->activation, carried) == 0) {
			logout_locked(slot);
			wlog(WLOG_WARNING,
			     "softcard %s: the server no longer accepts this login "
			     "(expired or ended): logged out",
			     slot->softcard_id);
		}
		p11_table_unlock();
	}
	wsop_client_set_valid_activation(c, NULL);
	p11_client_release(c);
}

CK_RV p11_slot_deactivate(struct p11_slot *slot)
{
	struct wsop_softcard answer;
	struct wsop_client *c = p11_slot_client(slot);
	if (c == NULL)
		return CKR_HOST_MEMORY;
	int rc = wsop_softcard_deactivate(c, slot->softcard_id, NULL, &answer);
	CK_RV rv = p11_call_result("deactivating softcard", rc, c);
	p11_slot_client_release(slot, c);
	/* A softcard that is already inactive, or gone, is logged out. */
	if (rv == CKR_OK || rv == CKR_USER_NOT_LOGGED_IN || rv == CKR_TOKEN_NOT_PRESENT) {
		p11_table_lock();
		logout_locked(slot);
		p11_table_unlock();
		rv = CKR_OK;
	}
	return rv;
}

void p11_slot_logout_if_idle(struct p11_slot *slot)
{
	p11_mutex_lock(slot->login_lock);
	p11_table_lock();
	bool idle = slot->sessions == 0 && slot->logged_in;
	p11_table_unlock();
	if (idle && p11_slot_deactivate(slot) != CKR_OK) {
		/* The server could not be told; the application's view is
		 * what the standard says, logged out. */
		p11_table_lock();
		logout_locked(slot);
		p11_table_unlock();
	}
	p11_mutex_unlock(slot->login_lock);
}

void p11_slots_logout_all(void)
{
	for (size_t i = 0; i < tab.count; i++) {
		struct p11_slot *s = tab.items[i];
		p11_mutex_lock(s->login_lock);
		p11_table_lock();
		bool logged_in = s->logged_in;
		p11_table_unlock();
		if (logged_in)
			(void)p11_slot_deactivate(s);
		p11_mutex_unlock(s->login_lock);
	}
}
