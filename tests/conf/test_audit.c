/* Tests of audit lines: the fixed fields, quoting and escaping, bounds, and
 * the level each outcome is logged at. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/audit.h"
#include "tests/conf/audit_parse.h"

/* The text after the fixed fields of audit_begin. */
static const char *fields_after_prog(const struct audit_line *a)
{
	const char *p = strstr(a->text, " prog=");

	assert_non_null(p);
	p = strchr(p + 1, ' ');
	return p != NULL ? p : "";
}

static const char *one(const char *key, const char *value)
{
	static struct audit_line a;

	audit_begin(&a, "test", AUDIT_SUCCESS);
	audit_str(&a, key, value);
	audit_finish(&a);
	return fields_after_prog(&a);
}

static void fixed_fields_come_first(void **state)
{
	struct audit_line a;
	char expect[128];
	regex_t re;

	(void)state;
	audit_begin(&a, "login", AUDIT_FAILURE);
	audit_uint(&a, "session", 7);
	audit_finish(&a);
	snprintf(expect, sizeof(expect),
	         "^audit event=login outcome=failure pid=%d uid=%u prog=[^ ]+ session=7$",
	         (int)getpid(), (unsigned)getuid());
	assert_int_equal(regcomp(&re, expect, REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regexec(&re, a.text, 0, NULL, 0), 0);
	regfree(&re);
	assert_string_equal(strstr(a.text, "prog="), "prog=test_audit session=7");
}

static void plain_values_are_bare(void **state)
{
	(void)state;
	assert_string_equal(one("label", "k1"), " label=k1");
	assert_string_equal(one("server", "127.0.0.1:18001"), " server=127.0.0.1:18001");
	assert_string_equal(one("path", "/opt/x-y_z/a.cfg"), " path=/opt/x-y_z/a.cfg");
	assert_string_equal(one("who", "a@b+c,d"), " who=a@b+c,d");
}

static void blanks_and_equals_are_quoted(void **state)
{
	(void)state;
	assert_string_equal(one("label", "my key"), " label=\"my key\"");
	assert_string_equal(one("label", "a=b"), " label=\"a=b\"");
	assert_string_equal(one("label", ""), " label=\"\"");
	assert_string_equal(one("label", "semi;colon"), " label=\"semi;colon\"");
}

static void quotes_and_backslashes_are_escaped(void **state)
{
	(void)state;
	assert_string_equal(one("label", "say \"hi\""), " label=\"say \\\"hi\\\"\"");
	assert_string_equal(one("label", "a\\b"), " label=\"a\\\\b\"");
	assert_string_equal(one("label", "\\"), " label=\"\\\\\"");
	assert_string_equal(one("label", "\""), " label=\"\\\"\"");
}

static void control_bytes_cannot_make_a_line(void **state)
{
	(void)state;
	assert_string_equal(one("label", "a\nb"), " label=\"a\\nb\"");
	assert_string_equal(one("label", "a\rb\tc"), " label=\"a\\rb\\tc\"");
	assert_string_equal(one("label", "\x1b[31m"), " label=\"\\x1b[31m\"");
	assert_string_equal(one("label", "\x7f"), " label=\"\\x7f\"");
	assert_string_equal(one("label", "\x01"), " label=\"\\x01\"");
}

static void non_ascii_bytes_are_hex(void **state)
{
	(void)state;
	assert_string_equal(one("label", "cl\xc3\xa9"), " label=\"cl\\xc3\\xa9\"");
}

/* A label written to look like the rest of a line stays one value. */
static void a_label_cannot_forge_a_field(void **state)
{
	struct audit_line a;
	const char *p;
	unsigned char v[128];
	int n;

	(void)state;
	audit_begin(&a, "generate_key", AUDIT_FAILURE);
	audit_str(&a, "label", "x\" outcome=success rv=CKR_OK \"");
	audit_str(&a, "rv", "CKR_PIN_INCORRECT");
	audit_finish(&a);
	char outcome[32], rv[32];
	assert_int_equal(audit_count_fields(a.text, "outcome", outcome, sizeof(outcome)), 1);
	assert_string_equal(outcome, "failure");
	assert_int_equal(audit_count_fields(a.text, "rv", rv, sizeof(rv)), 1);
	assert_string_equal(rv, "CKR_PIN_INCORRECT");
	p = strstr(a.text, " label=") + strlen(" label=");
	n = audit_parse_value(&p, v, sizeof(v));
	assert_int_equal(n, (int)strlen("x\" outcome=success rv=CKR_OK \""));
	assert_memory_equal(v, "x\" outcome=success rv=CKR_OK \"", (size_t)n);
	assert_string_equal(p, " rv=CKR_PIN_INCORRECT");
	assert_null(strchr(a.text, '\n'));
}

/* Every byte value, NUL included, survives the round trip. */
static void every_byte_round_trips(void **state)
{
	unsigned char all[256], back[256];
	struct audit_line a;
	const char *p;

	(void)state;
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	audit_begin(&a, "test", AUDIT_SUCCESS);
	audit_mem(&a, "label", all, sizeof(all));
	audit_finish(&a);
	assert_false(a.truncated);
	for (const char *c = a.text; *c != '\0'; c++)
		assert_true(*c >= 0x20 && *c < 0x7f);
	p = strstr(a.text, " label=") + strlen(" label=");
	assert_int_equal(audit_parse_value(&p, back, sizeof(back)), 256);
	assert_memory_equal(all, back, sizeof(all));
	assert_string_equal(p, "");
}

static void bad_keys_are_left_out(void **state)
{
	(void)state;
	assert_string_equal(one("Label", "x"), "");
	assert_string_equal(one("la bel", "x"), "");
	assert_string_equal(one("a=b", "x"), "");
	assert_string_equal(one("", "x"), "");
	assert_string_equal(one(NULL, "x"), "");
	assert_string_equal(one("label", NULL), "");
	assert_string_equal(one("k_9", "x"), " k_9=x");
}

static void numbers_and_hex(void **state)
{
	struct audit_line a;
	static const unsigned char id[] = { 0x00, 0x01, 0xab, 0xff };

	(void)state;
	audit_begin(&a, "test", AUDIT_SUCCESS);
	audit_uint(&a, "size", 256);
	audit_int(&a, "status", -1);
	audit_hex(&a, "id", id, sizeof(id));
	audit_hex(&a, "empty", id, 0);
	audit_finish(&a);
	assert_string_equal(fields_after_prog(&a), " size=256 status=-1 id=0001abff empty=\"\"");
}

static void long_value_is_cut_and_marked(void **state)
{
	char big[AUDIT_VALUE_MAX + 100];
	struct audit_line a;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	audit_begin(&a, "test", AUDIT_SUCCESS);
	audit_str(&a, "label", big);
	audit_str(&a, "rv", "CKR_OK");
	audit_finish(&a);
	assert_true(a.truncated);
	const char *v = strstr(a.text, " label=") + strlen(" label=");
	assert_int_equal(strspn(v, "a"), AUDIT_VALUE_MAX);
	assert_string_equal(v + AUDIT_VALUE_MAX, " rv=CKR_OK truncated=1");
}

/* Fields that no longer fit are left out whole: the line stays within its
 * bound and its last field is the mark. */
static void full_line_drops_whole_fields(void **state)
{
	unsigned char quoted[AUDIT_VALUE_MAX];
	struct audit_line a;

	(void)state;
	memset(quoted, '\n', sizeof(quoted)); /* 2 bytes each once escaped */
	audit_begin(&a, "test", AUDIT_SUCCESS);
	for (int i = 0; i < 4; i++)
		audit_mem(&a, "label", quoted, sizeof(quoted));
	audit_str(&a, "short", "x");
	audit_finish(&a);
	assert_true(a.truncated);
	assert_true(strlen(a.text) < AUDIT_LINE_MAX);
	assert_int_equal(strlen(a.text), a.len);
	/* one whole label (1029 bytes) fits, the second does not */
	const char *first = strstr(a.text, " label=\"");
	assert_non_null(first);
	assert_null(strstr(first + 1, " label="));
	const char *tail = a.text + a.len - strlen(" short=x truncated=1");
	assert_string_equal(tail, " short=x truncated=1");
	/* finishing again adds nothing */
	audit_finish(&a);
	assert_string_equal(tail, " short=x truncated=1");
}

static void outcome_sets_the_level(void **state)
{
	char dir[] = "/tmp/test-audit-XXXXXX";
	char path[64], line[AUDIT_LINE_MAX + 128];
	struct audit_line a;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	struct wlog_config c = { .level = WLOG_INFO, .file_path = path };
	wlog_open(&c);
	audit_begin(&a, "login", AUDIT_SUCCESS);
	audit_emit(&a);
	audit_begin(&a, "login", AUDIT_FAILURE);
	audit_emit(&a);
	audit_begin(&a, "config_warning", AUDIT_WARNING);
	audit_emit(&a);
	c.level = WLOG_WARNING; /* successes are dropped there */
	wlog_open(&c);
	audit_begin(&a, "logout", AUDIT_SUCCESS);
	audit_emit(&a);
	wlog_close();

	f = fopen(path, "r");
	assert_non_null(f);
	const char *want[] = {
		"] INFO pkcs11wsop %d: audit event=login outcome=success ",
		"] WARNING pkcs11wsop %d: audit event=login outcome=failure ",
		"] WARNING pkcs11wsop %d: audit event=config_warning outcome=warning "
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char expect[128];
		const char *pid = strstr(want[i], "%d");
		assert_non_null(fgets(line, sizeof(line), f));
		snprintf(expect, sizeof(expect), "%.*s%d%s", (int)(pid - want[i]), want[i],
		         (int)getpid(), pid + 2);
		assert_non_null(strstr(line, expect));
	}
	assert_null(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixed_fields_come_first),
		cmocka_unit_test(plain_values_are_bare),
		cmocka_unit_test(blanks_and_equals_are_quoted),
		cmocka_unit_test(quotes_and_backslashes_are_escaped),
		cmocka_unit_test(control_bytes_cannot_make_a_line),
		cmocka_unit_test(non_ascii_bytes_are_hex),
		cmocka_unit_test(a_label_cannot_forge_a_field),
		cmocka_unit_test(every_byte_round_trips),
		cmocka_unit_test(bad_keys_are_left_out),
		cmocka_unit_test(numbers_and_hex),
		cmocka_unit_test(long_value_is_cut_and_marked),
		cmocka_unit_test(full_line_drops_whole_fields),
		cmocka_unit_test(outcome_sets_the_level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
