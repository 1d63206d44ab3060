/*
 * The /proc readers of bench/proc_stat.c: the fields of /proc/PID/stat
 * counted from the last ')' whatever the command name holds, the bounds,
 * and VmHWM from /proc/PID/status; then the real files of this process.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench/proc_stat.h"

/* A line as the kernel writes it: pid, name, state, then 49 numbers. */
static const char line_ok[] =
    "6666 (cat) R 6657 6657 27911 0 -1 4194304 98 0 0 0 17 4 0 0 20 0 1 0 988763 3133440 383 "
    "18446744073709551615 94086425935872 1 2 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 5 6 7 8 9 "
    "10 11 0\n";

static int parse(const char *text, struct proc_stat *st)
{
	return proc_stat_parse(text, strlen(text), st);
}

static void stat_fields_are_read(void **state)
{
	struct proc_stat st;

	(void)state;
	assert_int_equal(parse(line_ok, &st), 0);
	assert_int_equal(st.ppid, 6657);
	assert_int_equal(st.utime, 17);
	assert_int_equal(st.stime, 4);
	assert_int_equal(st.starttime, 988763);
}

/* A process may name itself ") 1 2 3 (": only the last ')' ends it. */
static void stat_name_with_parentheses_and_blanks(void **state)
{
	struct proc_stat st;
	static const char text[] = "42 (a) 1 2 ( b)) S 7 7 1 0 -1 0 0 0 0 0 30 40 0 0 20 0 1 0 "
	                           "555 0 0\n";

	(void)state;
	assert_int_equal(parse(text, &st), 0);
	assert_int_equal(st.ppid, 7);
	assert_int_equal(st.utime, 30);
	assert_int_equal(st.stime, 40);
	assert_int_equal(st.starttime, 555);
}

static void stat_bad_text_is_refused(void **state)
{
	struct proc_stat st;
	static const char *const bad[] = {
		"",
		"no parenthesis at all",
		"1 (x)",
		"1 (x) R",
		"1 (x) R 5 5 5",                                             /* ends before utime */
		"1 (x) R -5 5 5 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 9",          /* ppid not a number */
		"1 (x) R 5 5 5 0 -1 0 0 0 0 0 1x 1 0 0 20 0 1 0 9",          /* trailing letter */
		"1 (x) R 5 5 5 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0",             /* no starttime */
		"1 (x) R 99999999999 5 5 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 9", /* ppid too big */
		"1 (x) R 5 5 5 0 -1 0 0 0 0 0 99999999999999999999999 1 0 0 20 0 1 0 9",
		"1 (x)  R 5 5 5 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 9", /* two blanks */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &st), -EINVAL);
}

/* The length bounds the text: no read past it, and no text beyond
 * PROC_TEXT_MAX. */
static void stat_length_bounds(void **state)
{
	struct proc_stat st;
	static char big[PROC_TEXT_MAX + 2];

	(void)state;
	/* Cut before starttime's last digit... */
	assert_int_equal(proc_stat_parse(line_ok, strlen(line_ok), &st), 0);
	const char *p = strstr(line_ok, "988763");
	assert_int_equal(proc_stat_parse(line_ok, (size_t)(p - line_ok) + 3, &st), 0);
	assert_int_equal(st.starttime, 988);
	/* ...and before it starts. */
	assert_int_equal(proc_stat_parse(line_ok, (size_t)(p - line_ok), &st), -EINVAL);
	memset(big, ' ', sizeof(big));
	memcpy(big, line_ok, strlen(line_ok));
	assert_int_equal(proc_stat_parse(big, PROC_TEXT_MAX + 1, &st), -EINVAL);
}

static void status_hwm_is_found(void **state)
{
	unsigned long kib = 0;
	static const char text[] = "Name:\tcat\nVmPeak:\t    5000 kB\nVmHWM:\t    2016 kB\n"
	                           "VmRSS:\t    2000 kB\n";
	static const char last[] = "Name:\tx\nVmHWM:\t7 kB";

	(void)state;
	assert_int_equal(proc_status_hwm_parse(text, strlen(text), &kib), 0);
	assert_int_equal(kib, 2016);
	assert_int_equal(proc_status_hwm_parse(last, strlen(last), &kib), 0);
	assert_int_equal(kib, 7);
}

static void status_without_or_bad_hwm(void **state)
{
	unsigned long kib = 0;
	static const char none[] = "Name:\tkthreadd\nState:\tS (sleeping)\n";
	static const char *const bad[] = {
		"VmHWM:\n",
		"VmHWM:\t kB\n",
		"VmHWM:\t12 MB\n",
		"VmHWM:\t12\n",
		"VmHWM:\t99999999999999999999999 kB\n",
	};

	(void)state;
	assert_int_equal(proc_status_hwm_parse(none, strlen(none), &kib), -ENOENT);
	/* The key at the very end, cut: not there. */
	assert_int_equal(proc_status_hwm_parse("VmHW", 4, &kib), -ENOENT);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(proc_status_hwm_parse(bad[i], strlen(bad[i]), &kib), -EINVAL);
}

static void own_files_are_read(void **state)
{
	struct proc_stat st;
	unsigned long kib = 0;

	(void)state;
	assert_int_equal(proc_stat_read(getpid(), &st), 0);
	assert_int_equal(st.ppid, getppid());
	assert_true(st.starttime > 0);
	assert_int_equal(proc_hwm_read(getpid(), &kib), 0);
	assert_true(kib > 0);
	/* pid_max is at most 4194304: this one never exists. */
	assert_int_equal(proc_stat_read(INT32_MAX, &st), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stat_fields_are_read),
		cmocka_unit_test(stat_name_with_parentheses_and_blanks),
		cmocka_unit_test(stat_bad_text_is_refused),
		cmocka_unit_test(stat_length_bounds),
		cmocka_unit_test(status_hwm_is_found),
		cmocka_unit_test(status_without_or_bad_hwm),
		cmocka_unit_test(own_files_are_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
