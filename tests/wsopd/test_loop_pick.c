/* The event loop policy (server/loop_pick.h): light load packed onto the
 * first loops, busy loops relieved by idle ones only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/loop_pick.h"

#define T LOOP_BUSY_DEFAULT

static void new_connections_go_to_the_first_loop_that_is_not_busy(void **state)
{
	struct loop_stat idle[4] = { { 0, 9 }, { 0, 0 }, { 0, 0 }, { 0, 0 } };
	struct loop_stat first_busy[3] = { { 900, 1 }, { 500, 30 }, { 0, 0 } };
	struct loop_stat at_threshold[2] = { { T, 5 }, { 0, 0 } };

	(void)state;
	/* Many connections on an idle loop do not send the next elsewhere. */
	assert_int_equal(loop_pick_new(idle, 4, T), 0);
	assert_int_equal(loop_pick_new(first_busy, 3, T), 1);
	/* Busy is above the threshold, not at it. */
	assert_int_equal(loop_pick_new(at_threshold, 2, T), 0);
	assert_int_equal(loop_pick_new(idle, 1, T), 0);
}

static void when_every_loop_is_busy_the_least_busy_then_the_least_loaded(void **state)
{
	struct loop_stat all_busy[3] = { { 990, 1 }, { 850, 40 }, { 950, 0 } };
	struct loop_stat tie[3] = { { 900, 7 }, { 900, 3 }, { 900, 5 } };
	struct loop_stat saturated[2] = { { LOOP_BUSY_MAX, 2 }, { LOOP_BUSY_MAX, 2 } };

	(void)state;
	assert_int_equal(loop_pick_new(all_busy, 3, T), 1);
	assert_int_equal(loop_pick_new(tie, 3, T), 1);
	assert_int_equal(loop_pick_new(saturated, 2, T), 0);
}

static void a_busy_loop_is_relieved_by_the_least_busy_loop_with_room(void **state)
{
	struct loop_stat st[4] = { { 950, 8 }, { 450, 2 }, { 100, 5 }, { 300, 0 } };

	(void)state;
	assert_int_equal(loop_pick_relief(st, 4, 0, T), 2);
	/* A loop that is not busy hands nothing over. */
	assert_int_equal(loop_pick_relief(st, 4, 1, T), -1);
	assert_int_equal(loop_pick_relief(st, 4, 2, T), -1);
}

static void no_relief_from_loops_that_are_half_busy_or_from_oneself(void **state)
{
	/* 401 is above half of 800: a connection moved there could make it
	 * busy at once and come back. */
	struct loop_stat st[3] = { { 900, 4 }, { 401, 1 }, { 850, 1 } };
	struct loop_stat alone[1] = { { LOOP_BUSY_MAX, 30 } };
	struct loop_stat half[2] = { { 900, 4 }, { T / 2, 1 } };

	(void)state;
	assert_int_equal(loop_pick_relief(st, 3, 0, T), -1);
	assert_int_equal(loop_pick_relief(alone, 1, 0, T), -1);
	assert_int_equal(loop_pick_relief(half, 2, 0, T), 1);
	/* An index outside the table is nobody. */
	assert_int_equal(loop_pick_relief(half, 2, 2, T), -1);
}

static void the_threshold_ends_zero_and_full(void **state)
{
	struct loop_stat worked[2] = { { 1, 1 }, { 0, 1 } };
	struct loop_stat both_worked[2] = { { 3, 1 }, { 1, 1 } };
	struct loop_stat full[2] = { { LOOP_BUSY_MAX, 9 }, { 0, 0 } };

	(void)state;
	/* 0: a loop that worked at all is busy; only one that did nothing
	 * relieves it. */
	assert_int_equal(loop_pick_new(worked, 2, 0), 1);
	assert_int_equal(loop_pick_relief(worked, 2, 0, 0), 1);
	assert_int_equal(loop_pick_relief(both_worked, 2, 0, 0), -1);
	/* 1000: never busy: everything stays on the first loop. */
	assert_int_equal(loop_pick_new(full, 2, LOOP_BUSY_MAX), 0);
	assert_int_equal(loop_pick_relief(full, 2, 0, LOOP_BUSY_MAX), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_connections_go_to_the_first_loop_that_is_not_busy),
		cmocka_unit_test(when_every_loop_is_busy_the_least_busy_then_the_least_loaded),
		cmocka_unit_test(a_busy_loop_is_relieved_by_the_least_busy_loop_with_room),
		cmocka_unit_test(no_relief_from_loops_that_are_half_busy_or_from_oneself),
		cmocka_unit_test(the_threshold_ends_zero_and_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
