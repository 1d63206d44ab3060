/*
 * The object handle table (lib/p11_objstore.h) without a server: slot
 * records come from the real slot table (objstore_fixture.h), objects are
 * built in memory. Every test starts from an empty table and logged-out
 * slots.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/p11_objstore.h"
#include "objstore_fixture.h"

static int setup(void **state)
{
	(void)state;
	fx_start();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fx_stop();
	return 0;
}

static CK_OBJECT_HANDLE put(struct p11_slot *slot, struct p11_object *o)
{
	CK_OBJECT_HANDLE h = 0;
	assert_int_equal(p11_objstore_put(slot, o, &h), CKR_OK);
	assert_true(h != 0);
	p11_object_free(o);
	return h;
}

static CK_OBJECT_HANDLE put_key(struct p11_slot *slot, size_t card, unsigned n)
{
	struct p11_object o;
	fx_key(&o, card, n);
	return put(slot, &o);
}

static CK_OBJECT_HANDLE put_data(struct p11_slot *slot, size_t card, unsigned n, bool value)
{
	struct p11_object o;
	fx_data(&o, card, n, value);
	return put(slot, &o);
}

static bool visible(struct p11_slot *slot, CK_OBJECT_HANDLE h)
{
	struct p11_object o;
	CK_RV rv = p11_objstore_get(slot, h, &o);
	assert_true(rv == CKR_OK || rv == CKR_OBJECT_HANDLE_INVALID);
	p11_object_free(&o);
	return rv == CKR_OK;
}

/* The slot records are the slot table's own, made from the listing. */
static void slots_from_the_listing(void **state)
{
	(void)state;
	CK_SLOT_ID ids[FX_SOFTCARDS];
	CK_ULONG n = FX_SOFTCARDS;
	assert_int_equal(C_GetSlotList(CK_TRUE, ids, &n), CKR_OK);
	assert_int_equal(n, FX_SOFTCARDS);
	for (size_t i = 0; i < FX_SOFTCARDS; i++) {
		CK_TOKEN_INFO info;
		assert_int_equal(C_GetTokenInfo(ids[i], &info), CKR_OK);
		char want[sizeof(info.label) + 1];
		snprintf(want, sizeof(want), "card%-*zu", (int)sizeof(info.label) - 4, i);
		assert_memory_equal(info.label, want, sizeof(info.label));
		for (size_t j = 0; j < i; j++)
			assert_ptr_not_equal(fx_slot(i), fx_slot(j));
	}
}

static void put_get_key_ref(void **state)
{
	(void)state;
	struct p11_slot *s = fx_slot(0);
	fx_login(s);
	struct p11_object key, data, got;
	fx_key(&key, 0, 1);
	fx_data(&data, 0, 1, true);
	CK_OBJECT_HANDLE hk, hd;
	assert_int_equal(p11_objstore_put(s, &key, &hk), CKR_OK);
	assert_int_equal(p11_objstore_put(s, &data, &hd), CKR_OK);
	assert_true(hk != 0 && hd != 0 && hk != hd);

	/* A deep copy comes out: it outlives the caller's object. */
	assert_int_equal(p11_objstore_get(s, hk, &got), CKR_OK);
	assert_int_equal(got.cls, CKO_SECRET_KEY);
	assert_string_equal(got.key.path, key.key.path);
	p11_object_free(&got);
	p11_object_free(&key);
	assert_int_equal(p11_objstore_get(s, hd, &got), CKR_OK);
	assert_int_equal(got.cls, CKO_DATA);
	assert_string_equal(got.object.id, data.object.id);
	assert_memory_equal(got.object.attributes.value.data, FX_VALUE, strlen(FX_VALUE));
	p11_object_free(&got);

	struct p11_key_ref ref;
	assert_int_equal(p11_objstore_key_ref(s, hk, &ref), CKR_OK);
	struct p11_object again;
	fx_key(&again, 0, 1);
	assert_string_equal(ref.path, again.key.path);
	p11_object_free(&again);
	assert_int_equal(ref.encrypt, CK_TRUE);
	assert_int_equal(ref.decrypt, CK_TRUE);
	assert_int_equal(ref.value_len, 32);
	/* Not a key, or not known. */
	assert_int_equal(p11_objstore_key_ref(s, hd, &ref), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(p11_objstore_key_ref(s, hd + hk + 1, &ref), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(p11_objstore_get(s, hd + hk + 1, &got), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(p11_objstore_get(s, 0, &got), CKR_OBJECT_HANDLE_INVALID);

	assert_int_equal(p11_objstore_put(NULL, &data, &hd), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11_objstore_put(s, NULL, &hd), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11_objstore_put(s, &data, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11_objstore_get(s, hd, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11_objstore_key_ref(s, hk, NULL), CKR_ARGUMENTS_BAD);
	p11_object_free(&data);

	p11_objstore_drop(hk);
	assert_false(visible(s, hk));
	assert_int_equal(p11_objstore_key_ref(s, hk, &ref), CKR_KEY_HANDLE_INVALID);
	assert_true(visible(s, hd));
	/* Unknown and already dropped handles are fine. */
	p11_objstore_drop(hk);
	p11_objstore_drop(hd + hk + 100);
	assert_true(visible(s, hd));
}

static void same_object_same_handle(void **state)
{
	(void)state;
	struct p11_slot *s0 = fx_slot(0), *s1 = fx_slot(1);
	fx_login(s0);
	fx_login(s1);
	CK_OBJECT_HANDLE k = put_key(s0, 0, 7);
	assert_int_equal(put_key(s0, 0, 7), k);
	CK_OBJECT_HANDLE d = put_data(s0, 0, 7, false);
	assert_int_equal(put_data(s0, 0, 7, false), d);
	/* A key and a data object, or the same ids on another token, are other objects. */
	assert_true(d != k);
	CK_OBJECT_HANDLE k1 = put_key(s1, 0, 7);
	assert_true(k1 != k && k1 != d);
	assert_int_equal(put_key(s1, 0, 7), k1);

	/* A value arriving later is taken under the same handle; a listing
	 * without one does not take it away. */
	struct p11_object o;
	assert_int_equal(p11_objstore_get(s0, d, &o), CKR_OK);
	assert_true(o.object.value_omitted);
	p11_object_free(&o);
	assert_int_equal(put_data(s0, 0, 7, true), d);
	assert_int_equal(put_data(s0, 0, 7, false), d);
	assert_int_equal(p11_objstore_get(s0, d, &o), CKR_OK);
	assert_false(o.object.value_omitted);
	assert_int_equal(o.object.attributes.value.len, strlen(FX_VALUE));
	p11_object_free(&o);

	/* Many objects: each keeps its handle. */
	CK_OBJECT_HANDLE hs[500];
	for (unsigned n = 0; n < 500; n++)
		hs[n] = put_key(s0, 1, n);
	for (unsigned n = 0; n < 500; n++)
		assert_int_equal(put_key(s0, 1, n), hs[n]);
}

/* Removal from the middle, the head and the tail of whatever keys share
 * a hash (the collide build makes them share): the others keep their
 * handles, the removed ones come back with new ones, and no object ends
 * up with two. */
static void drop_and_put_again(void **state)
{
	(void)state;
	enum { N = 300 };
	struct p11_slot *s = fx_slot(0);
	fx_login(s);
	CK_OBJECT_HANDLE h[N], again[N];
	for (unsigned n = 0; n < N; n++)
		h[n] = n % 2 ? put_key(s, 0, n) : put_data(s, 0, n, false);
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned n = round; n < N; n += 3)
			p11_objstore_drop(h[n]);
		for (unsigned n = 0; n < N; n++) {
			again[n] = n % 2 ? put_key(s, 0, n) : put_data(s, 0, n, false);
			if (n % 3 == round) {
				assert_true(again[n] > h[N - 1]);
				assert_false(visible(s, h[n]));
			} else {
				assert_int_equal(again[n], h[n]);
			}
			assert_true(visible(s, again[n]));
		}
		memcpy(h, again, sizeof(h));
	}
}

static void handles_never_reused(void **state)
{
	(void)state;
	struct p11_slot *s = fx_slot(0);
	fx_login(s);
	CK_OBJECT_HANDLE a = put_key(s, 0, 1), b = put_key(s, 0, 2), c = put_key(s, 0, 3);
	assert_true(a < b && b < c);
	p11_objstore_drop(b);
	CK_OBJECT_HANDLE d = put_key(s, 0, 4);
	assert_true(d > c);
	/* The dropped object comes back (listed again) under a new handle. */
	CK_OBJECT_HANDLE b2 = put_key(s, 0, 2);
	assert_true(b2 > d);
	assert_false(visible(s, b));
	/* The counter survives an empty table (C_Finalize / C_Initialize). */
	assert_int_equal(p11_objstore_reset(), CKR_OK);
	assert_false(visible(s, a));
	CK_OBJECT_HANDLE a2 = put_key(s, 0, 1);
	assert_true(a2 > b2);
}

static void invisible_when_logged_out(void **state)
{
	(void)state;
	struct p11_slot *s0 = fx_slot(0), *s1 = fx_slot(1);
	fx_login(s0);
	fx_login(s1);
	CK_OBJECT_HANDLE k = put_key(s0, 0, 1), d = put_data(s0, 0, 1, true);
	/* Another token's session does not see them. */
	assert_false(visible(s1, k));
	assert_false(visible(s1, d));
	struct p11_key_ref ref;
	assert_int_equal(p11_objstore_key_ref(s1, k, &ref), CKR_KEY_HANDLE_INVALID);

	fx_logout(s0);
	assert_false(visible(s0, k));
	assert_false(visible(s0, d));
	assert_int_equal(p11_objstore_key_ref(s0, k, &ref), CKR_KEY_HANDLE_INVALID);
	fx_login(s0);
	assert_true(visible(s0, k));
	assert_true(visible(s0, d));
	assert_int_equal(p11_objstore_key_ref(s0, k, &ref), CKR_OK);
	assert_int_equal(put_key(s0, 0, 1), k);
}

static void prune_by_scope(void **state)
{
	(void)state;
	struct p11_slot *s0 = fx_slot(0), *s1 = fx_slot(1);
	fx_login(s0);
	fx_login(s1);
	CK_OBJECT_HANDLE k[10], d[5], other[3];
	for (unsigned n = 0; n < 10; n++)
		k[n] = put_key(s0, 0, n);
	for (unsigned n = 0; n < 5; n++)
		d[n] = put_data(s0, 0, n, false);
	for (unsigned n = 0; n < 3; n++)
		other[n] = put_key(s1, 1, n);

	/* Listed keys were 3 and 1 (and a data object, of another scope). */
	CK_OBJECT_HANDLE keep[] = { k[3], d[2], k[1] };
	p11_objstore_prune(s0, keep, 3, P11_PRUNE_KEYS);
	assert_true(keep[0] < keep[1] && keep[1] < keep[2]);
	for (unsigned n = 0; n < 10; n++)
		assert_int_equal(visible(s0, k[n]), n == 1 || n == 3);
	for (unsigned n = 0; n < 5; n++)
		assert_true(visible(s0, d[n]));

	CK_OBJECT_HANDLE keep_d[] = { d[2] };
	p11_objstore_prune(s0, keep_d, 1, P11_PRUNE_OBJECTS);
	for (unsigned n = 0; n < 5; n++)
		assert_int_equal(visible(s0, d[n]), n == 2);
	assert_true(visible(s0, k[1]));

	/* A pruned object listed again gets a new handle; a kept one its own. */
	assert_true(put_key(s0, 0, 0) > other[2]);
	assert_int_equal(put_key(s0, 0, 3), k[3]);

	/* Nothing listed: the token's entries go, the other token's stay. */
	p11_objstore_prune(s0, NULL, 0, P11_PRUNE_ALL);
	assert_false(visible(s0, k[1]));
	assert_false(visible(s0, k[3]));
	assert_false(visible(s0, d[2]));
	for (unsigned n = 0; n < 3; n++)
		assert_true(visible(s1, other[n]));
}

static void fetch_value_once(void **state)
{
	(void)state;
	struct p11_slot *s = fx_slot(0);
	fx_login(s);
	CK_OBJECT_HANDLE d = put_data(s, 0, 1, false);
	struct p11_object o;
	assert_int_equal(p11_objstore_get(s, d, &o), CKR_OK);
	unsigned long before = fx_requests();
	assert_int_equal(p11_objstore_fetch_value(s, d, &o), CKR_OK);
	assert_int_equal(fx_requests(), before + 1);
	assert_false(o.object.value_omitted);
	assert_memory_equal(o.object.attributes.value.data, FX_VALUE, strlen(FX_VALUE));
	p11_object_free(&o);
	/* The entry keeps it: no second round trip. */
	assert_int_equal(p11_objstore_get(s, d, &o), CKR_OK);
	assert_false(o.object.value_omitted);
	assert_int_equal(p11_objstore_fetch_value(s, d, &o), CKR_OK);
	assert_int_equal(fx_requests(), before + 1);
	p11_object_free(&o);

	/* Destroyed elsewhere since it was listed: the handle goes. */
	CK_OBJECT_HANDLE gone = put_data(s, 0, 2, false);
	assert_int_equal(p11_objstore_get(s, gone, &o), CKR_OK);
	fx_set_objects_gone(true);
	assert_int_equal(p11_objstore_fetch_value(s, gone, &o), CKR_OBJECT_HANDLE_INVALID);
	p11_object_free(&o);
	assert_false(visible(s, gone));
	assert_true(visible(s, d));
}

/* ---- many threads --------------------------------------------------------- */

#define THREADS    16
#define OPS        4000
#define PER_THREAD 48
#define SEEN_MAX   (OPS + PER_THREAD)
/* Threads i and i + GROUPS share their objects (and token). */
#define GROUPS 8

struct seen {
	CK_OBJECT_HANDLE handle;
	unsigned object; /* (thread % GROUPS) * PER_THREAD + n */
	unsigned char card;
};

struct worker {
	unsigned id;
	struct p11_slot *slot;
	struct seen seen[SEEN_MAX];
	size_t nseen;
	int failures;
};

#define CHECK(w, cond)                                                                             \
	do {                                                                                       \
		if (!(cond))                                                                       \
			(w)->failures++;                                                           \
	} while (0)

/* Each thread puts, gets, drops and prunes objects it shares with one
 * other thread on one of two tokens, while seven more prune the same token
 * under it: its handles may vanish, but none may ever name another object,
 * go back in time or come back after a drop. */
static void *work(void *arg)
{
	struct worker *w = arg;
	size_t card = w->id % 2;
	unsigned seed = w->id + 1;
	CK_OBJECT_HANDLE last[PER_THREAD];
	memset(last, 0, sizeof(last));
	for (unsigned op = 0; op < OPS; op++) {
		unsigned n = (unsigned)rand_r(&seed) % PER_THREAD;
		unsigned obj = (w->id % GROUPS) * PER_THREAD + n;
		struct p11_object o;
		CK_OBJECT_HANDLE h;
		switch (rand_r(&seed) % 8) {
		case 0: /* a listing of this thread's objects */ {
			CK_OBJECT_HANDLE keep[PER_THREAD];
			size_t nk = 0;
			for (unsigned i = 0; i < PER_THREAD; i++)
				if (last[i] != 0)
					keep[nk++] = last[i];
			p11_objstore_prune(w->slot, keep, nk, P11_PRUNE_KEYS);
			break;
		}
		case 1:
			if (last[n] != 0) {
				p11_objstore_drop(last[n]);
				CHECK(w, p11_objstore_get(w->slot, last[n], &o) ==
				             CKR_OBJECT_HANDLE_INVALID);
				last[n] = 0;
			}
			break;
		case 2:
		case 3:
		case 4:
			fx_key(&o, card, obj);
			CHECK(w, p11_objstore_put(w->slot, &o, &h) == CKR_OK);
			p11_object_free(&o);
			CHECK(w, h != 0 && h >= last[n]);
			/* A new handle only when the old one is gone for good. */
			if (h != last[n] && last[n] != 0) {
				CHECK(w, p11_objstore_get(w->slot, last[n], &o) ==
				             CKR_OBJECT_HANDLE_INVALID);
				p11_object_free(&o);
			}
			if (w->nseen < SEEN_MAX && h != last[n])
				w->seen[w->nseen++] = (struct seen){ h, obj, (unsigned char)card };
			last[n] = h;
			break;
		default:
			if (last[n] == 0)
				break;
			if (p11_objstore_get(w->slot, last[n], &o) == CKR_OK) {
				struct p11_object want;
				fx_key(&want, card, obj);
				CHECK(w, strcmp(o.key.path, want.key.path) == 0);
				p11_object_free(&want);
			}
			p11_object_free(&o);
			struct p11_key_ref ref;
			CK_RV rv = p11_objstore_key_ref(w->slot, last[n], &ref);
			CHECK(w, rv == CKR_OK || rv == CKR_KEY_HANDLE_INVALID);
			break;
		}
	}
	return NULL;
}

static int cmp_seen(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	return x->handle < y->handle ? -1 : x->handle > y->handle;
}

static void concurrent_threads(void **state)
{
	(void)state;
	struct p11_slot *slots[2] = { fx_slot(0), fx_slot(1) };
	fx_login(slots[0]);
	fx_login(slots[1]);
	struct worker *w = calloc(THREADS, sizeof(*w));
	assert_non_null(w);
	pthread_t t[THREADS];
	for (unsigned i = 0; i < THREADS; i++) {
		w[i].id = i;
		w[i].slot = slots[i % 2];
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	size_t total = 0;
	for (unsigned i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
		total += w[i].nseen;
	}

	/* No handle was ever given to two objects. */
	struct seen *all = malloc(total * sizeof(*all));
	assert_non_null(all);
	size_t k = 0;
	for (unsigned i = 0; i < THREADS; i++)
		for (size_t j = 0; j < w[i].nseen; j++)
			all[k++] = w[i].seen[j];
	qsort(all, total, sizeof(*all), cmp_seen);
	for (size_t i = 1; i < total; i++)
		if (all[i].handle == all[i - 1].handle) {
			assert_int_equal(all[i].object, all[i - 1].object);
			assert_int_equal(all[i].card, all[i - 1].card);
		}

	/* Afterwards both indexes agree: every object put again is found by
	 * its key, under one handle of its own that get finds, and a last
	 * prune keeping them all drops none. */
	enum { OBJECTS = GROUPS * PER_THREAD };
	CK_OBJECT_HANDLE *h = calloc(OBJECTS, sizeof(*h));
	assert_non_null(h);
	CK_OBJECT_HANDLE keep[2][OBJECTS];
	size_t nkeep[2] = { 0, 0 };
	for (unsigned obj = 0; obj < OBJECTS; obj++) {
		unsigned card = (obj / PER_THREAD) % 2;
		h[obj] = put_key(slots[card], card, obj);
		assert_int_equal(put_key(slots[card], card, obj), h[obj]);
		keep[card][nkeep[card]++] = h[obj];
	}
	p11_objstore_prune(slots[0], keep[0], nkeep[0], P11_PRUNE_ALL);
	p11_objstore_prune(slots[1], keep[1], nkeep[1], P11_PRUNE_ALL);
	/* Sorted by the prunes: distinct handles, one per object. */
	for (unsigned card = 0; card < 2; card++)
		for (size_t i = 1; i < nkeep[card]; i++)
			assert_true(keep[card][i] > keep[card][i - 1]);
	for (unsigned obj = 0; obj < OBJECTS; obj++) {
		unsigned card = (obj / PER_THREAD) % 2;
		struct p11_object o, want;
		assert_int_equal(p11_objstore_get(slots[card], h[obj], &o), CKR_OK);
		fx_key(&want, card, obj);
		assert_string_equal(o.key.path, want.key.path);
		p11_object_free(&o);
		p11_object_free(&want);
		assert_false(visible(slots[!card], h[obj]));
	}
	/* Every other handle an object ever had is gone: one entry per
	 * object is left. */
	for (size_t i = 0; i < total; i++)
		if (all[i].handle != h[all[i].object])
			assert_false(visible(slots[all[i].card], all[i].handle));
	free(h);
	free(all);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(slots_from_the_listing, setup, teardown),
		cmocka_unit_test_setup_teardown(put_get_key_ref, setup, teardown),
		cmocka_unit_test_setup_teardown(same_object_same_handle, setup, teardown),
		cmocka_unit_test_setup_teardown(handles_never_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(drop_and_put_again, setup, teardown),
		cmocka_unit_test_setup_teardown(invisible_when_logged_out, setup, teardown),
		cmocka_unit_test_setup_teardown(prune_by_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(fetch_value_once, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_threads, setup, teardown),
	};
	return cmocka_run_group_tests_name("p11_objstore", tests, NULL, NULL);
}
