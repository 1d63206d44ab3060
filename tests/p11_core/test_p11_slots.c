/*
 * lib/p11_slots.c without a server: slot ids from softcard ids, collisions
 * and their probing (and its wrap), lookups in a full table, softcards that
 * leave and come back, the lockout state behind CKF_USER_PIN_*, and the
 * entry points that answer from the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/p11_core.h"
#include "lib/p11_sessions.h"
#include "lib/p11_slots.h"
#include "tests/p11_core/core_fixture.h"

/* The slots C_GetSlotList lists, in its order. */
static CK_ULONG listed(CK_SLOT_ID *ids, CK_ULONG cap)
{
	CK_ULONG n = cap;
	assert_int_equal(C_GetSlotList(CK_TRUE, ids, &n), CKR_OK);
	return n;
}

/* Installs a listing and answers what C_GetSlotList then lists. */
static CK_ULONG install(const struct wsop_softcard *cards, size_t n, CK_SLOT_ID *ids, CK_ULONG cap)
{
	assert_int_equal(p11_slots_update_from_listing(cards, n), CKR_OK);
	return listed(ids, cap);
}

/* Installs a listing of n softcards and checks that C_GetSlotList lists
 * exactly want. */
static void expect_listed(const struct wsop_softcard *cards, size_t n, const CK_SLOT_ID *want)
{
	CK_SLOT_ID ids[16];
	assert_true(n <= 16);
	assert_int_equal(install(cards, n, ids, 16), n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ids[i], want[i]);
}

static struct p11_slot *known(CK_SLOT_ID id, bool any_known)
{
	p11_table_lock();
	struct p11_slot *s = p11_slot_find_locked(id, any_known);
	p11_table_unlock();
	return s;
}

static void ids_come_from_softcard_ids(void **state)
{
	(void)state;
	struct wsop_softcard cards[] = {
		core_card("abcdef1", '2', "first"),
		core_card("0000000", '9', "second"),
		core_card("0123456", 'f', "third"),
	};
	/* In the listing's order, each 2^28 + the first 7 hex digits. */
	const CK_SLOT_ID ids[] = { 0x1abcdef1UL, 0x10000000UL, 0x10123456UL };
	expect_listed(cards, 3, ids);
	for (int i = 0; i < 3; i++) {
		struct p11_slot *s = NULL;
		assert_int_equal(p11_slot_lookup(ids[i], &s), CKR_OK);
		assert_string_equal(p11_slot_softcard_id(s), cards[i].id);
		assert_int_equal(p11_slot_id(s), ids[i]);
		char name[WSOP_NAME_MAX + 1];
		p11_slot_name(s, name);
		assert_string_equal(name, cards[i].name);
	}
}

static void collisions_probe_upwards_and_keep_their_ids(void **state)
{
	(void)state;
	/* Three softcards on 0x11234567: the first keeps it, the others
	 * probe; one whose own id is 0x11234568 probes past them. */
	struct wsop_softcard a = core_card("1234567", 'a', "a");
	struct wsop_softcard b = core_card("1234567", 'b', "b");
	struct wsop_softcard c = core_card("1234568", 'c', "c");
	struct wsop_softcard first[] = { a, b, c };
	CK_SLOT_ID ids[8];
	assert_int_equal(install(first, 3, ids, 8), 3);
	assert_int_equal(ids[0], 0x11234567UL);
	assert_int_equal(ids[1], 0x11234568UL);
	assert_int_equal(ids[2], 0x11234569UL);

	/* a leaves: its id is no longer listed or found, but stays known. */
	struct wsop_softcard without_a[] = { c, b };
	assert_int_equal(install(without_a, 2, ids, 8), 2);
	assert_int_equal(ids[0], 0x11234568UL);
	assert_int_equal(ids[1], 0x11234569UL);
	assert_null(known(0x11234567UL, false));
	assert_non_null(known(0x11234567UL, true));

	/* A newcomer on the same digits probes past every reserved id; a
	 * comes back, listed last, to its own id. */
	struct wsop_softcard d = core_card("1234567", 'd', "d");
	struct wsop_softcard again[] = { d, c, b, a };
	assert_int_equal(install(again, 4, ids, 8), 4);
	assert_int_equal(ids[0], 0x11234567UL); /* a: table order */
	assert_int_equal(ids[1], 0x11234568UL);
	assert_int_equal(ids[2], 0x11234569UL);
	assert_int_equal(ids[3], 0x1123456aUL);
	struct p11_slot *s = NULL;
	assert_int_equal(p11_slot_lookup(0x1123456aUL, &s), CKR_OK);
	assert_string_equal(p11_slot_softcard_id(s), d.id);
	assert_int_equal(p11_slot_lookup(0x11234567UL, &s), CKR_OK);
	assert_string_equal(p11_slot_softcard_id(s), a.id);
}

static void probing_wraps_at_the_last_id(void **state)
{
	(void)state;
	struct wsop_softcard cards[] = {
		core_card("fffffff", '1', "last"),
		core_card("fffffff", '2', "wrapped"),
		core_card("0000000", '3', "first"),
	};
	const CK_SLOT_ID ids[] = { 0x1fffffffUL, 0x10000000UL, 0x10000001UL };
	expect_listed(cards, 3, ids);
}

static void lookups_in_a_full_table(void **state)
{
	(void)state;
	/* One more than the table holds: the last gets no slot. */
	enum { N = 4097 };
	struct wsop_softcard *cards = calloc(N, sizeof(*cards));
	assert_non_null(cards);
	for (int i = 0; i < N; i++) {
		char prefix[8];
		snprintf(prefix, sizeof(prefix), "%07x", (unsigned)i * 7919u % 0x10000000u);
		cards[i] = core_card(prefix, (char)('a' + i % 6), "many");
	}
	assert_int_equal(p11_slots_update_from_listing(cards, N), CKR_OK);
	CK_ULONG count = 0;
	assert_int_equal(C_GetSlotList(CK_TRUE, NULL, &count), CKR_HOST_MEMORY);
	CK_SLOT_ID *ids = calloc(N, sizeof(*ids));
	assert_non_null(ids);
	assert_int_equal(listed(ids, N), N - 1);
	for (int i = 0; i < N - 1; i++) {
		struct p11_slot *s = NULL;
		assert_int_equal(ids[i], core_slot_of_prefix(cards[i].id));
		assert_int_equal(p11_slot_lookup(ids[i], &s), CKR_OK);
		assert_string_equal(p11_slot_softcard_id(s), cards[i].id);
	}
	assert_null(known(core_slot_of_prefix(cards[N - 1].id), true));
	/* The same listing again changes nothing. */
	assert_int_equal(p11_slots_update_from_listing(cards, N), CKR_OK);
	assert_int_equal(listed(ids, N), N - 1);
	free(ids);
	free(cards);
}

static void ids_not_ours_answer_without_a_round_trip(void **state)
{
	(void)state;
	CK_SLOT_ID id = core_one_slot("7654321");
	struct p11_slot *s = NULL;
	/* No backend: a round trip would answer CKR_HOST_MEMORY. */
	assert_int_equal(p11_slot_lookup(0, &s), CKR_SLOT_ID_INVALID);
	assert_int_equal(p11_slot_lookup(5, &s), CKR_SLOT_ID_INVALID);
	assert_int_equal(p11_slot_lookup(0x20000000UL, &s), CKR_SLOT_ID_INVALID);
	assert_int_equal(p11_slot_learn(0x0fffffffUL), CKR_OK);
	assert_int_equal(p11_slot_lookup(id, &s), CKR_OK);
	/* An id of our shape that nobody has makes the module list again. */
	assert_int_equal(p11_slot_lookup(id + 1, &s), CKR_HOST_MEMORY);
}

static void slot_list_lengths(void **state)
{
	(void)state;
	struct wsop_softcard cards[] = {
		core_card("1111111", '1', "one"),
		core_card("2222222", '2', "two"),
	};
	assert_int_equal(p11_slots_update_from_listing(cards, 2), CKR_OK);
	CK_SLOT_ID ids[2];
	CK_ULONG n = 1;
	assert_int_equal(C_GetSlotList(CK_FALSE, ids, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 2);
	assert_int_equal(C_GetSlotList(CK_FALSE, ids, NULL), CKR_ARGUMENTS_BAD);
	n = 2;
	assert_int_equal(C_GetSlotList(CK_FALSE, ids, &n), CKR_OK);
	assert_int_equal(n, 2);
}

static CK_FLAGS pin_flags(CK_SLOT_ID id)
{
	CK_TOKEN_INFO info;
	assert_int_equal(C_GetTokenInfo(id, &info), CKR_OK);
	return info.flags & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED);
}

static void lockout_note_gives_the_pin_flags(void **state)
{
	(void)state;
	struct wsop_softcard card = core_card("3333333", '3', "locky");
	card.login_failures = 1;
	card.login_limit = 3;
	assert_int_equal(p11_slots_update_from_listing(&card, 1), CKR_OK);
	CK_SLOT_ID id = core_slot_of_prefix(card.id);
	assert_int_equal(pin_flags(id), CKF_USER_PIN_COUNT_LOW);

	struct p11_slot *s = NULL;
	assert_int_equal(p11_slot_lookup(id, &s), CKR_OK);
	card.login_failures = 2;
	p11_slot_note_lockout(s, &card);
	assert_int_equal(pin_flags(id), CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
	card.login_failures = 3;
	card.locked_for = 60;
	p11_slot_note_lockout(s, &card);
	assert_int_equal(pin_flags(id), CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_LOCKED);
	/* A lockout that has run out allows one try at a time. */
	card.locked_for = 0;
	p11_slot_note_lockout(s, &card);
	assert_int_equal(pin_flags(id), CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
	card.login_failures = 0;
	card.login_limit = 0;
	p11_slot_note_lockout(s, &card);
	assert_int_equal(pin_flags(id), 0);
	/* A listing carries the lockout too. */
	card.login_failures = 5;
	assert_int_equal(p11_slots_update_from_listing(&card, 1), CKR_OK);
	assert_int_equal(pin_flags(id), CKF_USER_PIN_COUNT_LOW);
}

static void token_and_slot_info(void **state)
{
	(void)state;
	struct wsop_softcard card = core_card("4444444", 'e', "Label of it");
	assert_int_equal(p11_slots_update_from_listing(&card, 1), CKR_OK);
	CK_SLOT_ID id = core_slot_of_prefix(card.id);

	CK_SLOT_INFO si;
	assert_int_equal(C_GetSlotInfo(id, &si), CKR_OK);
	assert_memory_equal(si.slotDescription, "WSOP softcard Label of it ", 26);
	assert_int_equal(si.flags, CKF_TOKEN_PRESENT);
	assert_int_equal(C_GetSlotInfo(id, NULL), CKR_ARGUMENTS_BAD);

	CK_SESSION_HANDLE h[3];
	for (int i = 0; i < 3; i++)
		assert_int_equal(C_OpenSession(id, CKF_SERIAL_SESSION | (i ? CKF_RW_SESSION : 0),
		                               NULL, NULL, &h[i]),
		                 CKR_OK);
	CK_TOKEN_INFO ti;
	assert_int_equal(C_GetTokenInfo(id, &ti), CKR_OK);
	assert_memory_equal(ti.label, "Label of it ", 12);
	assert_memory_equal(ti.serialNumber, card.id, 16);
	assert_int_equal(ti.ulSessionCount, 3);
	assert_int_equal(ti.ulRwSessionCount, 2);
	assert_true(ti.flags & CKF_LOGIN_REQUIRED);
	assert_int_equal(C_GetTokenInfo(id, NULL), CKR_ARGUMENTS_BAD);
	for (int i = 0; i < 3; i++)
		assert_int_equal(C_CloseSession(h[i]), CKR_OK);
	assert_int_equal(C_GetTokenInfo(id, &ti), CKR_OK);
	assert_int_equal(ti.ulSessionCount, 0);
	assert_int_equal(ti.ulRwSessionCount, 0);
}

static void key_group_is_kept(void **state)
{
	(void)state;
	CK_SLOT_ID id = core_one_slot("5555555");
	struct p11_slot *s = NULL;
	assert_int_equal(p11_slot_lookup(id, &s), CKR_OK);
	char group[WSOP_UUID_LEN + 1];
	p11_slot_key_group(s, group);
	assert_string_equal(group, "");
	p11_slot_set_key_group(s, "0b0e8a43-9f3c-4b36-a5f3-16a2a3b8c8f1");
	p11_slot_key_group(s, group);
	assert_string_equal(group, "0b0e8a43-9f3c-4b36-a5f3-16a2a3b8c8f1");
}

static void not_initialized_answers(void **state)
{
	(void)state;
	CK_ULONG n = 0;
	assert_int_equal(C_GetSlotList(CK_TRUE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
	CK_TOKEN_INFO ti;
	assert_int_equal(C_GetTokenInfo(0x10000000UL, &ti), CKR_CRYPTOKI_NOT_INITIALIZED);
}

#define T(f) cmocka_unit_test_setup_teardown(f, core_setup, core_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(ids_come_from_softcard_ids),
		T(collisions_probe_upwards_and_keep_their_ids),
		T(probing_wraps_at_the_last_id),
		T(lookups_in_a_full_table),
		T(ids_not_ours_answer_without_a_round_trip),
		T(slot_list_lengths),
		T(lockout_note_gives_the_pin_flags),
		T(token_and_slot_info),
		T(key_group_is_kept),
		cmocka_unit_test(not_initialized_answers),
	};
	return cmocka_run_group_tests_name("p11_slots", tests, NULL, NULL);
}
