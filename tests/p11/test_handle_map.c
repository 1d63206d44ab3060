/*
 * lib/handle_map.c on its own: put/get/remove at every load, the marks it
 * refuses, removal during a walk, and a random run checked against a
 * plain array.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "lib/handle_map.h"

static void *val(uint64_t h)
{
	return (void *)(uintptr_t)(h * 8 + 8);
}

static void put_get_remove_many(void **state)
{
	(void)state;
	struct handle_map m = HANDLE_MAP_INIT;
	for (uint64_t h = 1; h <= 10000; h++)
		assert_int_equal(handle_map_put(&m, h, val(h)), 0);
	assert_int_equal(handle_map_count(&m), 10000);
	for (uint64_t h = 1; h <= 10000; h++)
		assert_ptr_equal(handle_map_get(&m, h), val(h));
	assert_null(handle_map_get(&m, 10001));
	for (uint64_t h = 2; h <= 10000; h += 2)
		assert_ptr_equal(handle_map_remove(&m, h), val(h));
	assert_int_equal(handle_map_count(&m), 5000);
	for (uint64_t h = 1; h <= 10000; h++)
		assert_ptr_equal(handle_map_get(&m, h), h % 2 ? val(h) : NULL);
	assert_null(handle_map_remove(&m, 2));
	/* Removed marks are reclaimed: churn does not grow the table. */
	size_t cap = m.cap;
	for (uint64_t h = 20001; h <= 120000; h++) {
		assert_int_equal(handle_map_put(&m, h, val(h)), 0);
		assert_ptr_equal(handle_map_remove(&m, h), val(h));
	}
	assert_int_equal(m.cap, cap);
	assert_int_equal(handle_map_count(&m), 5000);
	handle_map_clear(&m);
	assert_int_equal(handle_map_count(&m), 0);
	assert_null(handle_map_get(&m, 1));
}

static void refusals(void **state)
{
	(void)state;
	struct handle_map m = HANDLE_MAP_INIT;
	assert_int_equal(handle_map_put(&m, 0, val(1)), -EINVAL);
	assert_int_equal(handle_map_put(&m, UINT64_MAX, val(1)), -EINVAL);
	assert_int_equal(handle_map_put(&m, 5, NULL), -EINVAL);
	assert_null(handle_map_get(&m, 0));
	assert_null(handle_map_get(&m, UINT64_MAX));
	assert_null(handle_map_remove(&m, UINT64_MAX));
	assert_int_equal(handle_map_put(&m, 5, val(5)), 0);
	assert_int_equal(handle_map_put(&m, 5, val(6)), -EEXIST);
	assert_ptr_equal(handle_map_get(&m, 5), val(5));
	/* A removed mark is not the handle UINT64_MAX. */
	assert_ptr_equal(handle_map_remove(&m, 5), val(5));
	assert_null(handle_map_get(&m, UINT64_MAX));
	handle_map_clear(&m);
}

static void removal_during_a_walk(void **state)
{
	(void)state;
	struct handle_map m = HANDLE_MAP_INIT;
	static unsigned seen[1001];
	for (uint64_t h = 1; h <= 1000; h++)
		assert_int_equal(handle_map_put(&m, h, val(h)), 0);
	size_t it = 0;
	void *v;
	while ((v = handle_map_next(&m, &it)) != NULL) {
		uint64_t h = ((uintptr_t)v - 8) / 8;
		assert_true(h >= 1 && h <= 1000);
		seen[h]++;
		if (h % 3 == 0)
			assert_ptr_equal(handle_map_remove(&m, h), v);
	}
	for (uint64_t h = 1; h <= 1000; h++)
		assert_int_equal(seen[h], 1);
	assert_int_equal(handle_map_count(&m), 1000 - 333);
	handle_map_clear(&m);
}

/* set() changes only the value of a handle that is there, and keeps a
 * walk whole. */
static void set_replaces_a_value(void **state)
{
	(void)state;
	struct handle_map m = HANDLE_MAP_INIT;
	assert_int_equal(handle_map_set(&m, 3, val(3)), -ENOENT);
	for (uint64_t h = 1; h <= 100; h++)
		assert_int_equal(handle_map_put(&m, h, val(h)), 0);
	assert_int_equal(handle_map_set(&m, 101, val(1)), -ENOENT);
	assert_int_equal(handle_map_set(&m, 0, val(1)), -EINVAL);
	assert_int_equal(handle_map_set(&m, UINT64_MAX, val(1)), -EINVAL);
	assert_int_equal(handle_map_set(&m, 5, NULL), -EINVAL);
	assert_ptr_equal(handle_map_get(&m, 5), val(5));
	size_t it = 0, walked = 0;
	void *v;
	while ((v = handle_map_next(&m, &it)) != NULL) {
		uint64_t h = ((uintptr_t)v - 8) / 8;
		if (h <= 100)
			assert_int_equal(handle_map_set(&m, h, val(h + 1000)), 0);
		walked++;
	}
	assert_int_equal(walked, 100);
	for (uint64_t h = 1; h <= 100; h++)
		assert_ptr_equal(handle_map_get(&m, h), val(h + 1000));
	assert_int_equal(handle_map_count(&m), 100);
	assert_ptr_equal(handle_map_remove(&m, 7), val(1007));
	assert_int_equal(handle_map_set(&m, 7, val(7)), -ENOENT);
	handle_map_clear(&m);
}

/* Random puts and removes against a plain array of what must be there. */
static void random_run_matches_a_model(void **state)
{
	(void)state;
	enum { N = 4096 };
	static bool in[N + 1];
	struct handle_map m = HANDLE_MAP_INIT;
	size_t count = 0;
	srand(7);
	for (int step = 0; step < 200000; step++) {
		uint64_t h = 1 + (uint64_t)(rand() % N);
		if (rand() % 2) {
			int rc = handle_map_put(&m, h, val(h));
			assert_int_equal(rc, in[h] ? -EEXIST : 0);
			count += !in[h];
			in[h] = true;
		} else {
			assert_ptr_equal(handle_map_remove(&m, h), in[h] ? val(h) : NULL);
			count -= in[h];
			in[h] = false;
		}
		assert_int_equal(handle_map_count(&m), count);
	}
	for (uint64_t h = 1; h <= N; h++)
		assert_ptr_equal(handle_map_get(&m, h), in[h] ? val(h) : NULL);
	handle_map_clear(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(put_get_remove_many),
		cmocka_unit_test(refusals),
		cmocka_unit_test(removal_during_a_walk),
		cmocka_unit_test(set_replaces_a_value),
		cmocka_unit_test(random_run_matches_a_model),
	};
	return cmocka_run_group_tests_name("handle_map", tests, NULL, NULL);
}
