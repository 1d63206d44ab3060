/* Tests of the logger: line format, levels, sinks, atomic lines. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/log.h"

#define STAMP "^\\[[0-9]{4}-[0-1][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\] "

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-log-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/pkcs11wsop.log", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	wlog_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void open_file_sink(const struct fixture *f, int level, const char *ident)
{
	struct wlog_config c = { .level = level, .ident = ident, .file_path = f->path };

	wlog_open(&c);
}

/* Whole file as a NUL-terminated string (caller frees); NULL when absent. */
static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (fp == NULL)
		return NULL;
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static bool matches(const char *pattern, const char *line, regmatch_t *m, size_t nm)
{
	regex_t re;
	int rc;

	assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE), 0);
	rc = regexec(&re, line, nm, m, 0);
	regfree(&re);
	return rc == 0;
}

static long group_number(const char *s, const regmatch_t *m)
{
	return strtol(s + m->rm_so, NULL, 10);
}

static void plain_line_format(void **state)
{
	struct fixture *f = *state;
	regmatch_t m[2];
	char *s;

	open_file_sink(f, WLOG_DEBUG, NULL);
	wlog(WLOG_INFO, "hello %d %s", 42, "world");
	s = slurp(f->path, NULL);
	assert_non_null(s);
	assert_true(matches(STAMP "INFO pkcs11wsop ([0-9]+): hello 42 world\n$", s, m, 2));
	assert_int_equal(group_number(s, &m[1]), getpid());
	free(s);
}

static void trace_line_format(void **state)
{
	struct fixture *f = *state;
	regmatch_t m[4];
	char *s;

	open_file_sink(f, WLOG_TRACE, "wsopd");
	wlog_trace(77, "in C_%s", "Encrypt");
	wlog(WLOG_TRACE, "no session");
	s = slurp(f->path, NULL);
	assert_non_null(s);
	assert_true(
	    matches(STAMP "TRACE wsopd ([0-9]+) ([0-9]+) ([0-9]+): in C_Encrypt\n", s, m, 4));
	assert_int_equal(group_number(s, &m[1]), getpid());
	assert_int_equal(group_number(s, &m[2]), gettid());
	assert_int_equal(group_number(s, &m[3]), 77);
	assert_true(
	    matches(STAMP "TRACE wsopd [0-9]+ [0-9]+ 0: no session\n$", strchr(s, '\n') + 1, m, 1));
	free(s);
}

static void every_level_name_in_lines(void **state)
{
	struct fixture *f = *state;
	static const char *const want[] = { "PANIC", "ERROR", "WARNING", "INFO", "DEBUG" };
	char *s, *line;

	open_file_sink(f, WLOG_DEBUG, NULL);
	for (int l = WLOG_PANIC; l <= WLOG_DEBUG; l++)
		wlog(l, "x");
	s = slurp(f->path, NULL);
	assert_non_null(s);
	line = s;
	for (size_t i = 0; i < 5; i++) {
		char pat[128];

		snprintf(pat, sizeof(pat), STAMP "%s pkcs11wsop [0-9]+: x$", want[i]);
		assert_true(matches(pat, line, NULL, 0));
		line = strchr(line, '\n') + 1;
	}
	assert_string_equal(line, "");
	free(s);
}

static void level_includes_lower_levels(void **state)
{
	struct fixture *f = *state;

	for (int level = WLOG_NONE; level <= WLOG_TRACE; level++) {
		char *s;

		unlink(f->path);
		open_file_sink(f, level, NULL);
		for (int l = WLOG_PANIC; l <= WLOG_TRACE; l++) {
			assert_int_equal(wlog_enabled(l), l <= level);
			wlog(l, "at %d", l);
		}
		wlog_trace(1, "trace");
		wlog_close();
		s = slurp(f->path, NULL);
		if (level == WLOG_NONE) {
			/* logging off creates no file at all */
			assert_null(s);
			continue;
		}
		assert_non_null(s);
		assert_int_equal(count_lines(s), (size_t)level + (level == WLOG_TRACE ? 1 : 0));
		free(s);
	}
}

static void out_of_range_levels(void **state)
{
	struct fixture *f = *state;
	char *s;

	open_file_sink(f, 99, NULL); /* clamped to TRACE */
	assert_true(wlog_enabled(WLOG_TRACE));
	assert_false(wlog_enabled(0));
	assert_false(wlog_enabled(7));
	assert_false(wlog_enabled(-1));
	wlog(0, "none");
	wlog(7, "seven");
	wlog(-3, "negative");
	s = slurp(f->path, NULL);
	assert_string_equal(s, "");
	free(s);
	open_file_sink(f, -5, NULL);
	assert_false(wlog_enabled(WLOG_PANIC));
}

static void level_names(void **state)
{
	(void)state;
	assert_string_equal(wlog_level_name(0), "NONE");
	assert_string_equal(wlog_level_name(1), "PANIC");
	assert_string_equal(wlog_level_name(2), "ERROR");
	assert_string_equal(wlog_level_name(3), "WARNING");
	assert_string_equal(wlog_level_name(4), "INFO");
	assert_string_equal(wlog_level_name(5), "DEBUG");
	assert_string_equal(wlog_level_name(6), "TRACE");
	assert_null(wlog_level_name(7));
	assert_null(wlog_level_name(-1));
}

static void file_is_created_0600_and_appended(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	mode_t old = umask(0);
	char *s;

	open_file_sink(f, WLOG_INFO, NULL);
	umask(old);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	wlog(WLOG_INFO, "first");
	wlog_close();
	open_file_sink(f, WLOG_INFO, NULL);
	wlog(WLOG_INFO, "second");
	s = slurp(f->path, NULL);
	assert_int_equal(count_lines(s), 2);
	assert_non_null(strstr(s, ": first\n"));
	assert_non_null(strstr(s, ": second\n"));
	assert_true(strstr(s, "first") < strstr(s, "second"));
	free(s);
}

static void newlines_become_spaces(void **state)
{
	struct fixture *f = *state;
	char *s;

	open_file_sink(f, WLOG_INFO, NULL);
	wlog(WLOG_INFO, "a\nb\r\nc%s", "\nforged line\n");
	s = slurp(f->path, NULL);
	assert_int_equal(count_lines(s), 1);
	assert_true(matches(STAMP "INFO pkcs11wsop [0-9]+: a b  c forged line \n$", s, NULL, 0));
	free(s);
}

static void long_message_is_truncated(void **state)
{
	struct fixture *f = *state;
	char *big = malloc(3 * WLOG_LINE_MAX);
	size_t len;
	char *s;

	assert_non_null(big);
	memset(big, 'm', 3 * WLOG_LINE_MAX - 1);
	big[3 * WLOG_LINE_MAX - 1] = '\0';
	open_file_sink(f, WLOG_INFO, NULL);
	wlog(WLOG_INFO, "%s", big);
	s = slurp(f->path, &len);
	assert_int_equal(count_lines(s), 1);
	assert_int_equal(s[len - 1], '\n');
	assert_int_equal(strlen(strchr(s, 'm')), WLOG_LINE_MAX); /* LINE_MAX-1 bytes + \n */
	free(s);
	free(big);
}

static void errno_is_preserved(void **state)
{
	struct fixture *f = *state;
	struct wlog_config c = { .level = WLOG_INFO, .file_path = f->path };
	char bad[160];
	char *s;

	open_file_sink(f, WLOG_INFO, NULL);
	errno = ENOENT;
	wlog(WLOG_INFO, "after a failure");
	assert_int_equal(errno, ENOENT);
	s = slurp(f->path, NULL);
	assert_non_null(strstr(s, ": after a failure\n"));
	free(s);
	/* even a sink that fails to open leaves errno alone */
	snprintf(bad, sizeof(bad), "%s/missing/x.log", f->dir);
	c.file_path = bad;
	c.to_stderr = false;
	errno = EAGAIN;
	wlog_open(&c);
	wlog_close();
	assert_int_equal(errno, EAGAIN);
}

/* Runs fn with fd `which` redirected to a file, returns what was written. */
static char *capture_fd(int which, const char *tmp, void (*fn)(void *), void *arg)
{
	int saved = dup(which);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(saved >= 0 && fd >= 0);
	fflush(NULL);
	assert_int_equal(dup2(fd, which), which);
	close(fd);
	fn(arg);
	fflush(NULL);
	assert_int_equal(dup2(saved, which), which);
	close(saved);
	return slurp(tmp, NULL);
}

static void log_to_stdout(void *arg)
{
	struct wlog_config c = { .level = WLOG_WARNING, .to_stdout = true };

	(void)arg;
	wlog_open(&c);
	wlog(WLOG_ERROR, "to stdout");
	wlog(WLOG_INFO, "filtered");
	wlog_close();
}

static void stdout_sink(void **state)
{
	struct fixture *f = *state;
	char tmp[160];
	char *s;

	snprintf(tmp, sizeof(tmp), "%s/stdout", f->dir);
	s = capture_fd(STDOUT_FILENO, tmp, log_to_stdout, NULL);
	assert_non_null(s);
	assert_true(matches(STAMP "ERROR pkcs11wsop [0-9]+: to stdout\n$", s, NULL, 0));
	free(s);
}

static void log_to_stderr(void *arg)
{
	struct wlog_config c = { .level = WLOG_INFO, .ident = "wsopd", .to_stderr = true };

	(void)arg;
	wlog_open(&c);
	wlog(WLOG_INFO, "to stderr");
	wlog_close();
}

static void stderr_sink(void **state)
{
	struct fixture *f = *state;
	char tmp[160];
	char *s;

	snprintf(tmp, sizeof(tmp), "%s/stderr", f->dir);
	s = capture_fd(STDERR_FILENO, tmp, log_to_stderr, NULL);
	assert_true(matches(STAMP "INFO wsopd [0-9]+: to stderr\n$", s, NULL, 0));
	free(s);
}

static void open_bad_path_twice(void *arg)
{
	const char *bad = arg;
	struct wlog_config c = { .level = WLOG_INFO, .file_path = bad };

	wlog_open(&c);
	wlog(WLOG_ERROR, "goes nowhere");
	wlog_open(&c);
	wlog(WLOG_ERROR, "goes nowhere either");
	wlog_close();
}

static void open_failure_is_reported_once(void **state)
{
	struct fixture *f = *state;
	char tmp[160], bad[160], want[384];
	char *s;

	snprintf(tmp, sizeof(tmp), "%s/stderr", f->dir);
	snprintf(bad, sizeof(bad), "%s/no/such/dir/x.log", f->dir);
	s = capture_fd(STDERR_FILENO, tmp, open_bad_path_twice, bad);
	snprintf(
	    want, sizeof(want),
	    "pkcs11wsop: cannot open log file %s: No such file or directory; set LOGFILEPATH in "
	    "the configuration to a file this user may write\n",
	    bad);
	assert_string_equal(s, want);
	free(s);
}

static void borrowed_fd_sink(void **state)
{
	struct fixture *f = *state;
	struct wlog_config c = { .level = WLOG_TRACE, .ident = "pkcs11wsop" };
	int fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	char *s;

	assert_true(fd >= 0);
	wlog_open(&c);
	wlog_use_fd(fd);
	wlog_trace(5, "helper line");
	wlog_use_fd(-1);
	wlog(WLOG_INFO, "dropped");
	wlog_use_fd(fd);
	wlog_close();
	/* the fd still belongs to the caller */
	assert_true(fcntl(fd, F_GETFD) >= 0);
	assert_int_equal(close(fd), 0);
	s = slurp(f->path, NULL);
	assert_int_equal(count_lines(s), 1);
	assert_true(matches(STAMP "TRACE pkcs11wsop [0-9]+ [0-9]+ 5: helper line\n$", s, NULL, 0));
	free(s);
}

static void closed_logger_logs_nothing(void **state)
{
	struct fixture *f = *state;
	char *s;

	open_file_sink(f, WLOG_INFO, NULL);
	wlog_close();
	wlog(WLOG_PANIC, "after close");
	assert_false(wlog_enabled(WLOG_PANIC));
	s = slurp(f->path, NULL);
	assert_string_equal(s, "");
	free(s);
	wlog_open(NULL);
	assert_false(wlog_enabled(WLOG_PANIC));
}

static void syslog_sink_does_not_disturb(void **state)
{
	struct fixture *f = *state;
	struct wlog_config c = { .level = WLOG_TRACE, .file_path = f->path, .to_syslog = true };
	char *s;

	wlog_open(&c);
	wlog(WLOG_DEBUG, "also to syslog");
	wlog_trace(3, "trace to syslog");
	wlog_close();
	s = slurp(f->path, NULL);
	assert_int_equal(count_lines(s), 2);
	free(s);
}

/* Every line of the file is a whole, well-formed line; returns the count. */
static size_t check_all_lines(const char *path, const char *body_pattern)
{
	char *s = slurp(path, NULL);
	char pat[256];
	regex_t re;
	size_t n = 0;

	assert_non_null(s);
	snprintf(pat, sizeof(pat), STAMP "%s$", body_pattern);
	assert_int_equal(regcomp(&re, pat, REG_EXTENDED | REG_NOSUB), 0);
	for (char *line = s, *nl; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = '\0';
		if (regexec(&re, line, 0, NULL, 0) != 0)
			fail_msg("malformed line %zu: '%s'", n + 1, line);
		n++;
	}
	regfree(&re);
	free(s);
	return n;
}

#define CHILDREN        4
#define LINES_PER_CHILD 500

static void processes_never_interleave_lines(void **state)
{
	struct fixture *f = *state;
	pid_t pids[CHILDREN];

	for (int i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			/* long lines make a torn write likely if writes were split */
			char pad[600];

			memset(pad, 'a' + i, sizeof(pad) - 1);
			pad[sizeof(pad) - 1] = '\0';
			open_file_sink(f, WLOG_INFO, NULL);
			for (int l = 0; l < LINES_PER_CHILD; l++)
				wlog(WLOG_INFO, "child %d line %d %s end", i, l, pad);
			wlog_close();
			_exit(0);
		}
	}
	for (int i = 0; i < CHILDREN; i++) {
		int st;

		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(check_all_lines(f->path, "INFO pkcs11wsop [0-9]+: child ([0-3]) line "
	                                          "[0-9]+ (a+|b+|c+|d+) end"),
	                 CHILDREN * LINES_PER_CHILD);
}

#define THREADS          4
#define LINES_PER_THREAD 300

static void *thread_body(void *arg)
{
	for (int l = 0; l < LINES_PER_THREAD; l++)
		wlog_trace((unsigned long)(uintptr_t)arg, "thread line %d", l);
	return NULL;
}

static void *reopen_body(void *arg)
{
	const struct fixture *f = arg;

	for (int i = 0; i < 20; i++)
		open_file_sink(f, WLOG_TRACE, NULL);
	return NULL;
}

static void threads_log_whole_lines(void **state)
{
	struct fixture *f = *state;
	pthread_t t[THREADS + 1];

	open_file_sink(f, WLOG_TRACE, NULL);
	for (uintptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_body, (void *)(i + 1)), 0);
	/* sinks are reopened under the writers' feet */
	assert_int_equal(pthread_create(&t[THREADS], NULL, reopen_body, f), 0);
	for (int i = 0; i <= THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	wlog_close();
	assert_int_equal(check_all_lines(f->path, "TRACE pkcs11wsop [0-9]+ [0-9]+ [1-4]: thread "
	                                          "line [0-9]+"),
	                 THREADS * LINES_PER_THREAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(plain_line_format, setup, teardown),
		cmocka_unit_test_setup_teardown(trace_line_format, setup, teardown),
		cmocka_unit_test_setup_teardown(every_level_name_in_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(level_includes_lower_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(out_of_range_levels, setup, teardown),
		cmocka_unit_test(level_names),
		cmocka_unit_test_setup_teardown(file_is_created_0600_and_appended, setup, teardown),
		cmocka_unit_test_setup_teardown(newlines_become_spaces, setup, teardown),
		cmocka_unit_test_setup_teardown(long_message_is_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(errno_is_preserved, setup, teardown),
		cmocka_unit_test_setup_teardown(stdout_sink, setup, teardown),
		cmocka_unit_test_setup_teardown(stderr_sink, setup, teardown),
		cmocka_unit_test_setup_teardown(open_failure_is_reported_once, setup, teardown),
		cmocka_unit_test_setup_teardown(borrowed_fd_sink, setup, teardown),
		cmocka_unit_test_setup_teardown(closed_logger_logs_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(syslog_sink_does_not_disturb, setup, teardown),
		cmocka_unit_test_setup_teardown(processes_never_interleave_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(threads_log_whole_lines, setup, teardown),
	};

	return cmocka_run_group_tests_name("conf/log", tests, NULL, NULL);
}
