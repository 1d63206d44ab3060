/* ipc/grow.c: doubling from 8, the bound, overflow, and the array kept on failure. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ipc/grow.h"

static void doubles_within_the_bound(void **state)
{
	(void)state;
	int *a = NULL;
	size_t cap = 0;
	assert_int_equal(grow_to((void **)&a, &cap, 0, sizeof(*a), 100), 0);
	assert_int_equal(cap, 0);
	assert_int_equal(grow_to((void **)&a, &cap, 1, sizeof(*a), 100), 0);
	assert_int_equal(cap, 8);
	a[7] = 7;
	assert_int_equal(grow_to((void **)&a, &cap, 8, sizeof(*a), 100), 0);
	assert_int_equal(cap, 8);
	assert_int_equal(grow_to((void **)&a, &cap, 9, sizeof(*a), 100), 0);
	assert_int_equal(cap, 16);
	assert_int_equal(a[7], 7);
	assert_int_equal(grow_to((void **)&a, &cap, 70, sizeof(*a), 100), 0);
	assert_int_equal(cap, 100); /* 128 would pass the bound */
	int *kept = a;
	assert_int_equal(grow_to((void **)&a, &cap, 101, sizeof(*a), 100), -E2BIG);
	assert_ptr_equal(a, kept);
	assert_int_equal(cap, 100);
	free(a);
}

static void refuses_overflow(void **state)
{
	(void)state;
	char *a = NULL;
	size_t cap = 0;
	assert_int_equal(grow_to((void **)&a, &cap, 2, SIZE_MAX / 2, SIZE_MAX), -E2BIG);
	assert_int_equal(grow_to((void **)&a, &cap, 2, 0, 10), -E2BIG);
	assert_null(a);
	assert_int_equal(cap, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(doubles_within_the_bound),
		cmocka_unit_test(refuses_overflow),
	};
	return cmocka_run_group_tests_name("grow", tests, NULL, NULL);
}
