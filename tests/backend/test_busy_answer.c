/* lib/busy_answer.h: the edges of the 503 check on an answer's first
 * bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/busy_answer.h"

/* check on a copy of exactly strlen(s) bytes, so that ASan sees any read
 * past the end. */
static bool on_copy(bool (*check)(const uint8_t *, size_t), const char *s)
{
	size_t n = strlen(s);
	uint8_t *p = malloc(n ? n : 1);
	assert_non_null(p);
	memcpy(p, s, n);
	bool r = check(p, n);
	free(p);
	return r;
}

static bool busy(const char *s)
{
	return on_copy(busy_answer, s);
}

static bool failed(const char *s)
{
	return on_copy(failed_server_answer, s);
}

static void server_failures_are_recognised(void **state)
{
	(void)state;
	assert_true(failed("HTTP/1.1 500 Internal Server Error\r\n"));
	assert_true(failed("HTTP/1.0 502 Bad Gateway\r\n"));
	assert_true(failed("HTTP/1.1 504\r\n"));
	assert_true(failed("HTTP/1.1 500 "));          /* exactly 13 bytes */
	assert_false(failed("HTTP/1.1 503 Busy\r\n")); /* busy: retried apart */
	assert_false(failed("HTTP/1.1 501 Not Implemented\r\n"));
	assert_false(failed("HTTP/1.1 404 Not Found\r\n"));
	assert_false(failed("HTTP/1.1 5000 \r\n"));
	assert_false(failed("HTTP/1.1 500"));
	assert_false(failed("HTTP/2.0 500 x\r\n"));
	assert_false(failed(""));
	assert_false(failed_server_answer(NULL, 20));
}

static void busy_status_lines_are_recognised(void **state)
{
	(void)state;
	assert_true(busy("HTTP/1.1 503 Service Unavailable\r\n"));
	assert_true(busy("HTTP/1.0 503 Busy\r\n\r\n"));
	assert_true(busy("HTTP/1.1 503\r\n"));
	assert_true(busy("HTTP/1.1 503 ")); /* exactly 13 bytes */
}

static void other_answers_are_not_busy(void **state)
{
	(void)state;
	assert_false(busy(""));
	assert_false(busy("HTTP/1.1 503")); /* 12 bytes: the end is unknown */
	assert_false(busy("HTTP/1.1 200 OK\r\n"));
	assert_false(busy("HTTP/1.1 5030 \r\n"));
	assert_false(busy("HTTP/1.1 502 Bad Gateway\r\n"));
	assert_false(busy("HTTP/2.0 503 Busy\r\n"));
	assert_false(busy("HTTP/1.2 503 Busy\r\n"));
	assert_false(busy("http/1.1 503 Busy\r\n"));
	assert_false(busy("HTTP/1.1  503 Busy\r\n"));
	assert_false(busy("XHTTP/1.1 503 Busy\r\n"));
	assert_false(busy_answer(NULL, 20));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(busy_status_lines_are_recognised),
		cmocka_unit_test(other_answers_are_not_busy),
		cmocka_unit_test(server_failures_are_recognised),
	};
	return cmocka_run_group_tests_name("busy_answer", tests, NULL, NULL);
}
