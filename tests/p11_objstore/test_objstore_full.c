/*
 * The object table at its bound (P11_OBJSTORE_MAX entries, about 370 MB):
 * past it a put is CKR_HOST_MEMORY and changes nothing, until a token
 * logs out and its entries make room. A program of its own, so that the
 * leak checks of the unit test do not have to fill it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "lib/p11_objstore.h"
#include "objstore_fixture.h"

static CK_RV try_put(struct p11_slot *slot, size_t card, unsigned n, CK_OBJECT_HANDLE *h)
{
	struct p11_object o;
	fx_key(&o, card, n);
	CK_RV rv = p11_objstore_put(slot, &o, h);
	p11_object_free(&o);
	return rv;
}

static bool visible(struct p11_slot *slot, CK_OBJECT_HANDLE h)
{
	struct p11_key_ref ref;
	return p11_objstore_key_ref(slot, h, &ref) == CKR_OK;
}

static void full_table_evicts_logged_out_tokens(void **state)
{
	(void)state;
	enum { HALF = P11_OBJSTORE_MAX / 2 };
	fx_start();
	struct p11_slot *s0 = fx_slot(0), *s1 = fx_slot(1);
	fx_login(s0);
	fx_login(s1);
	CK_OBJECT_HANDLE h, first1 = 0, last1 = 0, first0 = 0, last0 = 0;
	for (unsigned n = 0; n < HALF; n++) {
		assert_int_equal(try_put(s1, 1, n, &h), CKR_OK);
		first1 = n == 0 ? h : first1;
		last1 = h;
	}
	for (unsigned n = 0; n < P11_OBJSTORE_MAX - HALF; n++) {
		assert_int_equal(try_put(s0, 0, n, &h), CKR_OK);
		first0 = n == 0 ? h : first0;
		last0 = h;
	}

	/* Full, every entry visible: nothing to evict. */
	h = 0;
	assert_int_equal(try_put(s0, 0, P11_OBJSTORE_MAX, &h), CKR_HOST_MEMORY);
	assert_int_equal(h, 0);
	assert_true(visible(s1, first1) && visible(s1, last1));
	assert_true(visible(s0, first0) && visible(s0, last0));
	/* A known object needs no room. */
	assert_int_equal(try_put(s0, 0, 5, &h), CKR_OK);
	assert_int_equal(h, first0 + 5);

	/* Token 1 logs out: its entries make room, token 0's stay. */
	fx_logout(s1);
	CK_OBJECT_HANDLE fresh;
	assert_int_equal(try_put(s0, 0, P11_OBJSTORE_MAX, &fresh), CKR_OK);
	assert_true(fresh > last0);
	assert_true(visible(s0, first0) && visible(s0, last0));
	fx_login(s1);
	assert_false(visible(s1, first1));
	assert_false(visible(s1, last1));
	/* Listed again after the login: new handles. */
	assert_int_equal(try_put(s1, 1, 0, &h), CKR_OK);
	assert_true(h > fresh);

	/* The room left is exactly what was evicted. */
	unsigned added = 0;
	while (try_put(s0, 0, P11_OBJSTORE_MAX + 1 + added, &h) == CKR_OK)
		added++;
	assert_int_equal(added, HALF - 2);
	fx_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_table_evicts_logged_out_tokens),
	};
	return cmocka_run_group_tests_name("p11_objstore_full", tests, NULL, NULL);
}
