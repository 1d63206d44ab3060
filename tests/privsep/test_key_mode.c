/*
 * The KEY file rule (helper/credentials.h), one test per case of it: no
 * access for others ever, no write or execute for the group ever, group
 * read only for a set-group-id helper whose effective gid is the file's
 * group. The facts are arguments, so no setgid install is needed here;
 * privsep_test.sh runs the real one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "helper/credentials.h"
#include "ipc/channel.h"

#define KEY_GID   ((gid_t)4242)
#define OTHER_GID ((gid_t)4343)

static const struct creds_privs plain = { .set_group_id = false, .egid = KEY_GID };
static const struct creds_privs setgid_key = { .set_group_id = true, .egid = KEY_GID };

static int check(mode_t perms, gid_t gid, const struct creds_privs *privs, char *why, size_t cap)
{
	why[0] = '\0';
	return creds_check_key_mode("/k/client.key", S_IFREG | perms, gid, privs, why, cap);
}

static void owner_only_key_is_accepted_in_any_install(void **state)
{
	char why[256];
	(void)state;
	assert_int_equal(check(0600, KEY_GID, &plain, why, sizeof(why)), 0);
	assert_int_equal(check(0400, OTHER_GID, &plain, why, sizeof(why)), 0);
	assert_int_equal(check(0600, OTHER_GID, &setgid_key, why, sizeof(why)), 0);
}

static void group_read_is_refused_without_setgid(void **state)
{
	char why[256];
	(void)state;
	assert_int_equal(check(0640, KEY_GID, &plain, why, sizeof(why)), CHAN_E_CREDENTIALS);
	assert_non_null(strstr(why, "permissions 0640 for KEY /k/client.key are too open"));
	assert_non_null(strstr(why, "chmod 600"));
}

static void group_read_is_accepted_for_setgid_helper_of_key_group(void **state)
{
	char why[256];
	(void)state;
	assert_int_equal(check(0640, KEY_GID, &setgid_key, why, sizeof(why)), 0);
	assert_int_equal(check(0440, KEY_GID, &setgid_key, why, sizeof(why)), 0);
}

static void group_read_is_refused_when_file_group_is_not_helper_group(void **state)
{
	char why[256];
	(void)state;
	assert_int_equal(check(0640, OTHER_GID, &setgid_key, why, sizeof(why)), CHAN_E_CREDENTIALS);
	assert_non_null(strstr(why, "permissions 0640 (group 4343) for KEY /k/client.key"));
	assert_non_null(strstr(why, "chown root:4242, chmod 640"));
}

static void group_write_or_exec_is_refused_even_for_setgid(void **state)
{
	char why[256];
	(void)state;
	static const mode_t bad[] = { 0660, 0650, 0620, 0610, 0670 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(check(bad[i], KEY_GID, &setgid_key, why, sizeof(why)),
		                 CHAN_E_CREDENTIALS);
		assert_non_null(strstr(why, "too open"));
	}
}

static void any_access_for_others_is_refused_even_for_setgid(void **state)
{
	char why[256];
	(void)state;
	static const mode_t bad[] = { 0604, 0602, 0601, 0644, 0606 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(check(bad[i], KEY_GID, &setgid_key, why, sizeof(why)),
		                 CHAN_E_CREDENTIALS);
		assert_int_equal(check(bad[i], KEY_GID, &plain, why, sizeof(why)),
		                 CHAN_E_CREDENTIALS);
	}
}

static void non_regular_file_is_refused(void **state)
{
	char why[256];
	(void)state;
	assert_int_equal(
	    creds_check_key_mode("/k/dir", S_IFDIR | 0600, KEY_GID, &setgid_key, why, sizeof(why)),
	    CHAN_E_CREDENTIALS);
	assert_string_equal(why, "KEY /k/dir is not a regular file");
	assert_int_equal(
	    creds_check_key_mode("/k/fifo", S_IFIFO | 0600, KEY_GID, &plain, why, sizeof(why)),
	    CHAN_E_CREDENTIALS);
}

static void short_reason_buffer_is_truncated_not_overrun(void **state)
{
	char why[8];
	(void)state;
	assert_int_equal(check(0644, KEY_GID, &setgid_key, why, sizeof(why)), CHAN_E_CREDENTIALS);
	assert_int_equal(strlen(why), sizeof(why) - 1);
}

/* This test program is not started set-group-id, so the rule must not
 * think it is, whatever its groups. */
static void test_process_is_not_set_group_id(void **state)
{
	struct creds_privs privs;
	(void)state;
	creds_current_privs(&privs);
	assert_false(privs.set_group_id);
	assert_int_equal(privs.egid, getegid());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(owner_only_key_is_accepted_in_any_install),
		cmocka_unit_test(group_read_is_refused_without_setgid),
		cmocka_unit_test(group_read_is_accepted_for_setgid_helper_of_key_group),
		cmocka_unit_test(group_read_is_refused_when_file_group_is_not_helper_group),
		cmocka_unit_test(group_write_or_exec_is_refused_even_for_setgid),
		cmocka_unit_test(any_access_for_others_is_refused_even_for_setgid),
		cmocka_unit_test(non_regular_file_is_refused),
		cmocka_unit_test(short_reason_buffer_is_truncated_not_overrun),
		cmocka_unit_test(test_process_is_not_set_group_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
