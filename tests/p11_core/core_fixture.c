#include "tests/p11_core/core_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/p11_core.h"
#include "lib/p11_lock.h"
#include "lib/p11_objstore.h"
#include "lib/p11_sessions.h"
#include "lib/p11_slots.h"

int core_setup(void **state)
{
	void *lock = NULL;

	(void)state;
	p11_lock_configure(NULL);
	if (p11_mutex_create(&lock) != CKR_OK)
		return -1;
	if (p11_slots_reset() != CKR_OK || p11_sessions_reset() != CKR_OK ||
	    p11_objstore_reset() != CKR_OK)
		return -1;
	p11_core_attach(NULL, lock);
	return 0;
}

int core_teardown(void **state)
{
	struct backend *be;
	void *lock;

	(void)state;
	p11_core_detach(&be, &lock);
	p11_sessions_free();
	p11_objstore_free();
	p11_slots_free(false);
	p11_mutex_destroy(lock);
	return 0;
}

struct wsop_softcard core_card(const char *prefix, char fill, const char *name)
{
	struct wsop_softcard c;
	size_t n = strlen(prefix);

	memset(&c, 0, sizeof(c));
	memset(c.id, fill, WSOP_SOFTCARD_ID_LEN);
	memcpy(c.id, prefix, n < WSOP_SOFTCARD_ID_LEN ? n : WSOP_SOFTCARD_ID_LEN);
	snprintf(c.name, sizeof(c.name), "%s", name);
	return c;
}

CK_SLOT_ID core_slot_of_prefix(const char *prefix)
{
	char digits[8];

	snprintf(digits, sizeof(digits), "%.7s", prefix);
	return 0x10000000UL | strtoul(digits, NULL, 16);
}

CK_SLOT_ID core_one_slot(const char *prefix)
{
	struct wsop_softcard c = core_card(prefix, '0', "one");
	assert_int_equal(p11_slots_update_from_listing(&c, 1), CKR_OK);
	return core_slot_of_prefix(prefix);
}

void core_login(CK_SLOT_ID id)
{
	struct p11_slot *slot = NULL;

	assert_int_equal(p11_slot_lookup(id, &slot), CKR_OK);
	p11_slot_login_lock(slot);
	assert_int_equal(p11_slot_login(slot, "test-activation"), CKR_OK);
	p11_slot_login_unlock(slot);
	assert_true(p11_slot_logged_in(slot));
}
