/*
 * softcardtool against a real wsopd (tests/e2e harness) through the real
 * confined helper: the manual's command lines verbatim, the checks made
 * before anything is sent, the server's refusals, and exit codes.
 *
 * Environment (tests/softcardtool/meson.build): SOFTCARDTOOL, the tool;
 * PKCS11WSOP_HELPER, the helper; WSOPD and WSOP_PKI_SH as in tests/e2e.
 * Without SOFTCARDTOOL the tests are skipped.
 */
#include <ctype.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/e2e/e2e.h"
#include "tests/e2e/under_asan.h"
#include "tests/softcardtool/sct_run.h"

#define PASS  "pass phrase 1\n"
#define PASS2 "pass phrase 2\n"

static const char *tool;

/* No passphrase may reach the tool's (and helper's) log either. */
static int teardown(void **state)
{
	return sct_fixture_teardown(state, true);
}

/* Runs the tool with up to 4 arguments; asserts the exit code. */
static void tool_run(struct sct_result *res, const char *input, int expected_exit, ...)
{
	const char *argv[8] = { tool };
	size_t n = 1;
	va_list ap;
	va_start(ap, expected_exit);
	const char *a;
	while ((a = va_arg(ap, const char *)) != NULL && n < 7)
		argv[n++] = a;
	va_end(ap);
	sct_run(argv, input, res);
	if (sct_exit_code(res) != expected_exit)
		fprintf(stderr, "exit %d (expected %d)\nstdout:\n%s\nstderr:\n%s\n",
		        sct_exit_code(res), expected_exit, res->out, res->err);
	assert_int_equal(sct_exit_code(res), expected_exit);
}

/* Some line of stderr is "softcardtool: ..." and contains text (the
 * logger may add its own lines, e.g. about a sink it cannot open). */
static void assert_error_line(const struct sct_result *res, const char *text)
{
	bool found = false;
	for (const char *line = res->err; *line != '\0' && !found;) {
		const char *end = strchr(line, '\n');
		size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
		if (strncmp(line, "softcardtool: ", 14) == 0) {
			char *copy = strndup(line, len);
			assert_non_null(copy);
			found = strstr(copy, text) != NULL;
			free(copy);
		}
		line += len + (end != NULL ? 1 : 0);
	}
	if (!found)
		fprintf(stderr, "stderr was:\n%s\n(expected 'softcardtool: ...%s')\n", res->err,
		        text);
	assert_true(found);
}

/* "<40 hex>  NAME\n" -> id */
static void parse_card_line(const char *line, const char *name, char id[41])
{
	assert_true(strlen(line) >= 42 + strlen(name));
	for (int i = 0; i < 40; i++)
		assert_true(isxdigit((unsigned char)line[i]));
	assert_memory_equal(line + 40, "  ", 2);
	assert_memory_equal(line + 42, name, strlen(name));
	memcpy(id, line, 40);
	id[40] = '\0';
}

static void generate_ok(const char *name, char id[41])
{
	struct sct_result res;
	char opt[128];
	snprintf(opt, sizeof(opt), "--name=%s", name);
	tool_run(&res, PASS, 0, "-g", opt, NULL);
	parse_card_line(res.out, name, id);
	sct_result_free(&res);
}

/* ---- tests ------------------------------------------------------------- */

static void test_help_prints_usage(void **state)
{
	(void)state;
	struct sct_result res;
	tool_run(&res, NULL, 0, "--help", NULL);
	assert_non_null(strstr(res.out, "Usage: softcardtool [OPTION]"));
	const char *opts[] = { "-g, --generate", "-d, --delete",    "-l, --list",
		               "-v, --verbose",  "-n, --name NAME", "-i, --id ID" };
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		assert_non_null(strstr(res.out, opts[i]));
	sct_result_free(&res);
	tool_run(&res, NULL, 0, "--version", NULL);
	assert_non_null(strstr(res.out, "softcardtool"));
	sct_result_free(&res);
}

static void test_usage_errors_exit_2(void **state)
{
	(void)state;
	static const char *const cases[][3] = {
		{ NULL },
		{ "-g", "-l", NULL },
		{ "-g", NULL },
		{ "-d", NULL },
		{ "-x", NULL },
		{ "--bogus", NULL },
		{ "-l", "extra", NULL },
		{ "-l", "--name=a", NULL },
		{ "-l", "-i", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sct_result res;
		tool_run(&res, NULL, 2, cases[i][0], cases[i][1], cases[i][2], NULL);
		assert_error_line(&res, "");
		assert_string_equal(res.out, "");
		sct_result_free(&res);
	}
}

/* The manual's three command lines, verbatim. */
static void test_manual_command_lines(void **state)
{
	(void)state;
	char id[41];
	generate_ok("manualcard", id);

	struct sct_result res;
	tool_run(&res, NULL, 0, "-vl", NULL);
	char line[128];
	snprintf(line, sizeof(line), "%s  manualcard\n", id);
	assert_string_equal(res.out, line);
	const char *steps[] = { "configuration read from",  "helper started (pid ",
		                "connecting to 127.0.0.1:", "TLS connection established",
		                "request sent: GET",        "answer: 1 softcard" };
	const char *at = res.err;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const char *p = strstr(at, steps[i]);
		if (p == NULL)
			fprintf(stderr, "missing step '%s' in:\n%s\n", steps[i], res.err);
		assert_non_null(p);
		at = p;
	}
	sct_result_free(&res);

	char opt[64];
	snprintf(opt, sizeof(opt), "--ID=%s", id);
	tool_run(&res, NULL, 0, "-d", opt, NULL);
	sct_result_free(&res);
	tool_run(&res, NULL, 0, "-l", NULL);
	assert_string_equal(res.out, "");
	sct_result_free(&res);
}

static void test_duplicate_name_refused(void **state)
{
	(void)state;
	char id[41];
	generate_ok("twincard", id);
	struct sct_result res;
	tool_run(&res, PASS, 1, "-g", "--name=twincard", NULL);
	assert_error_line(&res, "a softcard named 'twincard' exists already");
	sct_result_free(&res);
	tool_run(&res, NULL, 0, "-l", NULL);
	char line[128];
	snprintf(line, sizeof(line), "%s  twincard\n", id);
	assert_string_equal(res.out, line);
	sct_result_free(&res);
}

static void test_short_and_long_spellings(void **state)
{
	(void)state;
	struct sct_result res;
	char a[41], b[41];
	tool_run(&res, PASS, 0, "-g", "-n", "first", NULL);
	parse_card_line(res.out, "first", a);
	sct_result_free(&res);
	tool_run(&res, PASS2, 0, "--generate", "--name", "second", NULL);
	parse_card_line(res.out, "second", b);
	sct_result_free(&res);

	tool_run(&res, NULL, 0, "--list", NULL);
	char expected[256];
	snprintf(expected, sizeof(expected), "%s  first\n%s  second\n", a, b);
	assert_string_equal(res.out, expected);
	sct_result_free(&res);

	tool_run(&res, NULL, 0, "-d", "-i", a, NULL);
	sct_result_free(&res);
	char opt[64];
	snprintf(opt, sizeof(opt), "--id=%s", b);
	tool_run(&res, NULL, 0, "--delete", opt, NULL);
	sct_result_free(&res);
	tool_run(&res, NULL, 0, "-l", NULL);
	assert_string_equal(res.out, "");
	sct_result_free(&res);
}

static void assert_no_softcards(struct sct_fixture *fx)
{
	struct e2e_answer ans;
	json_object *body =
	    e2e_call_ok(fx->e2e->conn, "GET", "/km/v1/protectiondomains", NULL, 200, &ans);
	assert_int_equal(json_object_array_length(e2e_arr(body, "protectiondomains")), 0);
	e2e_answer_free(&ans);
}

static void test_bad_name_refused_before_sending(void **state)
{
	struct sct_fixture *fx = *state;
	const char *bad[] = {
		"--name=bad.name", "--name=has space",
		"--name=x2345678901234567890123456789012345678901234567890123456789012345",
		"--name="
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sct_result res;
		tool_run(&res, PASS, 1, "-g", bad[i], NULL);
		assert_error_line(&res, "invalid softcard name");
		sct_result_free(&res);
	}
	assert_no_softcards(fx);
}

static void test_bad_passphrase_refused(void **state)
{
	struct sct_fixture *fx = *state;
	struct sct_result res;
	tool_run(&res, "tab\there\n", 1, "-g", "--name=card", NULL);
	assert_error_line(&res, "invalid passphrase");
	sct_result_free(&res);
	tool_run(&res, "\n", 1, "-g", "--name=card", NULL);
	assert_error_line(&res, "invalid passphrase");
	sct_result_free(&res);
	tool_run(&res, "", 1, "-g", "--name=card", NULL);
	assert_error_line(&res, "no passphrase");
	sct_result_free(&res);
	char longpass[256 + 3]; /* 257 characters, newline, NUL */
	memset(longpass, 'p', sizeof(longpass) - 2);
	longpass[sizeof(longpass) - 2] = '\n';
	longpass[sizeof(longpass) - 1] = '\0';
	tool_run(&res, longpass, 1, "-g", "--name=card", NULL);
	assert_error_line(&res, "passphrase longer than");
	sct_result_free(&res);
	assert_no_softcards(fx);
}

static void test_terminal_mismatch_refused_without_echo(void **state)
{
	struct sct_fixture *fx = *state;
	const char *argv[] = { tool, "-g", "--name=ttycard", NULL };
	struct sct_result res;

	const char *mismatch[] = { PASS, PASS2, NULL };
	sct_run_pty(argv, mismatch, &res);
	assert_int_equal(sct_exit_code(&res), 1);
	assert_non_null(strstr(res.out, "do not match"));
	assert_null(strstr(res.out, "pass phrase")); /* never echoed */
	sct_result_free(&res);
	assert_no_softcards(fx);
}

static void test_terminal_prompts_twice_and_creates(void **state)
{
	(void)state;
	const char *argv[] = { tool, "-g", "--name=ttycard", NULL };
	struct sct_result res;
	const char *same[] = { PASS, PASS, NULL };
	sct_run_pty(argv, same, &res);
	if (sct_exit_code(&res) != 0)
		fprintf(stderr, "transcript:\n%s\n", res.out);
	assert_int_equal(sct_exit_code(&res), 0);
	assert_null(strstr(res.out, "pass phrase"));
	assert_non_null(strstr(res.out, "  ttycard"));
	sct_result_free(&res);
}

static void test_delete_non_empty_refused(void **state)
{
	struct sct_fixture *fx = *state;
	char card[41], group[37], key[96];
	e2e_ready_group_ok(fx->e2e->conn, card, group);
	e2e_key_ok(fx->e2e->conn, group, "k", 256, NULL, key);
	struct sct_result res;
	tool_run(&res, NULL, 1, "-d", "-i", card, NULL);
	assert_error_line(&res, "remove its keys and objects first");
	sct_result_free(&res);
	tool_run(&res, NULL, 0, "-l", NULL);
	assert_non_null(strstr(res.out, card));
	sct_result_free(&res);
}

static void test_delete_unknown_id(void **state)
{
	(void)state;
	struct sct_result res;
	tool_run(&res, NULL, 1, "-d", "--id=0123456789abcdef0123456789abcdef01234567", NULL);
	assert_error_line(&res, "no softcard with ID 0123456789abcdef");
	sct_result_free(&res);
}

static void test_delete_malformed_id(void **state)
{
	(void)state;
	struct sct_result res;
	tool_run(&res, NULL, 1, "-d", "--id=not-an-id", NULL);
	assert_error_line(&res, "invalid softcard ID");
	sct_result_free(&res);
}

static void test_unreachable_server_fails(void **state)
{
	struct sct_fixture *fx = *state;
	assert_int_equal(e2e_server_stop(&fx->e2e->srv, SIGTERM) >= 0, 1);
	struct sct_result res;
	tool_run(&res, NULL, 1, "-l", NULL);
	assert_error_line(&res, "");
	sct_result_free(&res);
}

/* The TLS cause reaches the tool's message, not strerror(EKEYREJECTED). */
static void test_server_name_mismatch_is_named(void **state)
{
	struct sct_fixture *fx = *state;
	struct e2e_server other;
	assert_int_equal(e2e_server_start_as(&other, &e2e_env, "wrong-name-server", NULL), 0);
	sct_config_write(&fx->cfg, &other, NULL);
	struct sct_result res;
	tool_run(&res, NULL, 1, "-l", NULL);
	assert_error_line(&res, "server name mismatch");
	assert_null(strstr(res.err, "Key was rejected"));
	sct_result_free(&res);
	e2e_server_stop(&other, SIGTERM);
	sct_config_write(&fx->cfg, &fx->e2e->srv, NULL);
}

static void test_missing_config_fails(void **state)
{
	(void)state;
	const char *saved = getenv("PKCS11WSOP_CONF");
	char *copy = strdup(saved);
	assert_non_null(copy);
	setenv("PKCS11WSOP_CONF", "/nonexistent/pkcs11wsop.cfg", 1);
	struct sct_result res;
	tool_run(&res, NULL, 1, "-l", NULL);
	assert_error_line(&res, "/nonexistent/pkcs11wsop.cfg");
	sct_result_free(&res);
	setenv("PKCS11WSOP_CONF", copy, 1);
	free(copy);
}

#define T(name) cmocka_unit_test_setup_teardown(name, sct_fixture_setup, teardown)

int main(void)
{
	tool = getenv("SOFTCARDTOOL");
	if (tool == NULL || tool[0] == '\0') {
		printf("softcardtool: SOFTCARDTOOL not set: skipped\n");
		return 77;
	}
	/* These fail before the helper is started, so they run everywhere. */
	const struct CMUnitTest local_tests[] = {
		T(test_help_prints_usage),
		T(test_usage_errors_exit_2),
		T(test_bad_name_refused_before_sending),
		T(test_bad_passphrase_refused),
		T(test_terminal_mismatch_refused_without_echo),
		T(test_delete_malformed_id),
		T(test_missing_config_fails),
	};
	/* These need the confined helper, which an ASan build cannot run: its
	 * runtime calls madvise, which the seccomp policy kills. */
	const struct CMUnitTest server_tests[] = {
		T(test_manual_command_lines),     T(test_short_and_long_spellings),
		T(test_duplicate_name_refused),   T(test_terminal_prompts_twice_and_creates),
		T(test_delete_non_empty_refused), T(test_delete_unknown_id),
		T(test_unreachable_server_fails), T(test_server_name_mismatch_is_named),
	};
	int rc =
	    e2e_main("softcardtool", local_tests, sizeof(local_tests) / sizeof(local_tests[0]));
	if (rc != 0)
		return rc;
	if (confined_helper_unusable()) {
		printf("softcardtool: AddressSanitizer build: tests that need the confined "
		       "helper skipped\n");
		return 0;
	}
	return e2e_main("softcardtool_server", server_tests,
	                sizeof(server_tests) / sizeof(server_tests[0]));
}
