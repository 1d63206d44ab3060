/*
 * wsopd's key hierarchy: master key file rules, KEK derivation, passphrase
 * verifier, key wrapping and its tamper detection.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/keywrap.h"
#include "test_util.h"

#define CARD  "0123456789abcdef0123456789abcdef01234567"
#define CARD2 "fedcba9876543210fedcba9876543210fedcba98"
#define PASS  "correct horse battery staple"

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static char *master_path(const char *dir)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, KEYWRAP_MASTER_FILE) < 0)
		abort();
	return p;
}

static void write_file(const char *path, const uint8_t *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* A master key for the tests that do not exercise the file. */
static void fixed_master(struct keywrap_master *m, uint8_t fill)
{
	memset(m->key, fill, sizeof(m->key));
}

/* ---- master key file ------------------------------------------------------ */

static void master_key_created_0600_once_and_reloaded(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	char *path = master_path(dir);
	struct keywrap_master a, b;
	assert_int_equal(keywrap_master_load(dir, &a), KEYWRAP_OK);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, KEYWRAP_MASTER_LEN);
	assert_false(all_zero(a.key, sizeof(a.key)));
	assert_int_equal(keywrap_master_load(dir, &b), KEYWRAP_OK);
	assert_memory_equal(a.key, b.key, sizeof(a.key));
	keywrap_master_wipe(&a);
	keywrap_master_wipe(&b);
	assert_true(all_zero(a.key, sizeof(a.key)));
	free(path);
	tu_rmtree(dir);
}

static void master_key_with_group_or_other_bits_refused(void **state)
{
	(void)state;
	const mode_t modes[] = { 0640, 0620, 0610, 0604, 0602, 0601, 0644, 0660, 0666 };
	char *dir = tu_mkdtemp();
	char *path = master_path(dir);
	uint8_t key[KEYWRAP_MASTER_LEN];
	memset(key, 0x33, sizeof(key));
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct keywrap_master m;
		write_file(path, key, sizeof(key), modes[i]);
		assert_int_equal(keywrap_master_load(dir, &m), KEYWRAP_ERR_MASTER_PERMS);
		assert_true(all_zero(m.key, sizeof(m.key)));
	}
	/* Owner-only modes are accepted. */
	struct keywrap_master m;
	write_file(path, key, sizeof(key), 0400);
	assert_int_equal(keywrap_master_load(dir, &m), KEYWRAP_OK);
	assert_memory_equal(m.key, key, sizeof(key));
	free(path);
	tu_rmtree(dir);
}

static void master_key_of_wrong_size_refused(void **state)
{
	(void)state;
	const size_t sizes[] = { 0, 1, 31, 33, 64 };
	char *dir = tu_mkdtemp();
	char *path = master_path(dir);
	uint8_t key[64];
	memset(key, 0x44, sizeof(key));
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct keywrap_master m;
		write_file(path, key, sizes[i], 0600);
		assert_int_equal(keywrap_master_load(dir, &m), KEYWRAP_ERR_MASTER_SIZE);
	}
	free(path);
	tu_rmtree(dir);
}

static void master_key_symlink_or_directory_refused(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	char *path = master_path(dir);
	struct keywrap_master m;
	assert_int_equal(symlink("/etc/hostname", path), 0);
	assert_int_equal(keywrap_master_load(dir, &m), KEYWRAP_ERR_MASTER_PERMS);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(keywrap_master_load(dir, &m), KEYWRAP_ERR_MASTER_PERMS);
	free(path);
	tu_rmtree(dir);
}

static void master_key_missing_directory_is_io_error(void **state)
{
	(void)state;
	struct keywrap_master m;
	assert_int_equal(keywrap_master_load("/nonexistent/wsopd-test-dir", &m), KEYWRAP_ERR_IO);
	assert_int_equal(keywrap_master_load(NULL, &m), KEYWRAP_ERR_ARG);
}

/* ---- KEK and verifier ---------------------------------------------------------- */

static void kek_is_deterministic_and_bound_to_every_input(void **state)
{
	(void)state;
	struct keywrap_master m1, m2;
	struct keywrap_kek k, same, other;
	uint8_t salt[KEYWRAP_SALT_LEN], salt2[KEYWRAP_SALT_LEN];
	fixed_master(&m1, 1);
	fixed_master(&m2, 2);
	memset(salt, 5, sizeof(salt));
	memset(salt2, 6, sizeof(salt2));
	assert_int_equal(keywrap_derive_kek(&m1, PASS, strlen(PASS), salt, CARD, &k), KEYWRAP_OK);
	assert_int_equal(keywrap_derive_kek(&m1, PASS, strlen(PASS), salt, CARD, &same),
	                 KEYWRAP_OK);
	assert_memory_equal(k.key, same.key, sizeof(k.key));
	/* Change one input at a time. */
	assert_int_equal(keywrap_derive_kek(&m2, PASS, strlen(PASS), salt, CARD, &other),
	                 KEYWRAP_OK);
	assert_memory_not_equal(k.key, other.key, sizeof(k.key));
	assert_int_equal(keywrap_derive_kek(&m1, PASS, strlen(PASS), salt2, CARD, &other),
	                 KEYWRAP_OK);
	assert_memory_not_equal(k.key, other.key, sizeof(k.key));
	assert_int_equal(keywrap_derive_kek(&m1, PASS, strlen(PASS), salt, CARD2, &other),
	                 KEYWRAP_OK);
	assert_memory_not_equal(k.key, other.key, sizeof(k.key));
	assert_int_equal(keywrap_derive_kek(&m1, PASS, strlen(PASS) - 1, salt, CARD, &other),
	                 KEYWRAP_OK);
	assert_memory_not_equal(k.key, other.key, sizeof(k.key));
	keywrap_kek_wipe(&k);
	assert_true(all_zero(k.key, sizeof(k.key)));
	keywrap_kek_wipe(&same);
	keywrap_kek_wipe(&other);
}

static void kek_arguments_checked(void **state)
{
	(void)state;
	struct keywrap_master m;
	struct keywrap_kek k;
	uint8_t salt[KEYWRAP_SALT_LEN] = { 0 };
	char longpass[KEYWRAP_PASSPHRASE_MAX + 2];
	memset(longpass, 'a', sizeof(longpass));
	fixed_master(&m, 1);
	assert_int_equal(keywrap_derive_kek(&m, PASS, 0, salt, CARD, &k), KEYWRAP_ERR_ARG);
	assert_int_equal(
	    keywrap_derive_kek(&m, longpass, KEYWRAP_PASSPHRASE_MAX + 1, salt, CARD, &k),
	    KEYWRAP_ERR_ARG);
	assert_int_equal(keywrap_derive_kek(&m, PASS, strlen(PASS), salt, "0123", &k),
	                 KEYWRAP_ERR_ARG);
	/* Upper-case hex is not the id shape. */
	assert_int_equal(keywrap_derive_kek(&m, PASS, strlen(PASS), salt,
	                                    "0123456789ABCDEF0123456789abcdef01234567", &k),
	                 KEYWRAP_ERR_ARG);
	assert_int_equal(keywrap_derive_kek(NULL, PASS, strlen(PASS), salt, CARD, &k),
	                 KEYWRAP_ERR_ARG);
	assert_true(all_zero(k.key, sizeof(k.key)));
}

static void right_passphrase_unlocks(void **state)
{
	(void)state;
	struct keywrap_master m;
	struct keywrap_kek created, unlocked;
	uint8_t salt[KEYWRAP_SALT_LEN], verifier[KEYWRAP_VERIFIER_LEN];
	fixed_master(&m, 7);
	assert_int_equal(
	    keywrap_softcard_setup(&m, PASS, strlen(PASS), CARD, salt, verifier, &created),
	    KEYWRAP_OK);
	assert_int_equal(keywrap_softcard_unlock(&m, PASS, strlen(PASS), CARD, salt, verifier,
	                                         sizeof(verifier), &unlocked),
	                 KEYWRAP_OK);
	assert_memory_equal(created.key, unlocked.key, sizeof(created.key));
	keywrap_kek_wipe(&created);
	keywrap_kek_wipe(&unlocked);
}

static void wrong_passphrase_detected(void **state)
{
	(void)state;
	struct keywrap_master m, other_master;
	struct keywrap_kek kek, bad;
	uint8_t salt[KEYWRAP_SALT_LEN], verifier[KEYWRAP_VERIFIER_LEN];
	fixed_master(&m, 7);
	fixed_master(&other_master, 8);
	assert_int_equal(keywrap_softcard_setup(&m, PASS, strlen(PASS), CARD, salt, verifier, &kek),
	                 KEYWRAP_OK);
	memset(bad.key, 0xff, sizeof(bad.key));
	assert_int_equal(
	    keywrap_softcard_unlock(&m, "wrong", 5, CARD, salt, verifier, sizeof(verifier), &bad),
	    KEYWRAP_ERR_WRONG_PASSPHRASE);
	assert_true(all_zero(bad.key, sizeof(bad.key)));
	/* The right passphrase with another server's master key fails too. */
	assert_int_equal(keywrap_softcard_unlock(&other_master, PASS, strlen(PASS), CARD, salt,
	                                         verifier, sizeof(verifier), &bad),
	                 KEYWRAP_ERR_WRONG_PASSPHRASE);
	/* A verifier moved to another softcard id does not verify. */
	assert_int_equal(keywrap_check_verifier(&kek, CARD2, verifier, sizeof(verifier)),
	                 KEYWRAP_ERR_WRONG_PASSPHRASE);
	/* A damaged verifier reads as a wrong passphrase, never as success. */
	for (size_t i = 0; i < sizeof(verifier); i++) {
		verifier[i] ^= 0x01;
		assert_int_equal(keywrap_check_verifier(&kek, CARD, verifier, sizeof(verifier)),
		                 KEYWRAP_ERR_WRONG_PASSPHRASE);
		verifier[i] ^= 0x01;
	}
	assert_int_equal(keywrap_check_verifier(&kek, CARD, verifier, sizeof(verifier) - 1),
	                 KEYWRAP_ERR_ARG);
	assert_int_equal(keywrap_check_verifier(&kek, CARD, verifier, sizeof(verifier)),
	                 KEYWRAP_OK);
	keywrap_kek_wipe(&kek);
}

/* ---- wrapping ----------------------------------------------------------------------- */

/* A KEK without paying for scrypt in every test. */
static void quick_kek(struct keywrap_kek *kek, uint8_t fill)
{
	memset(kek->key, fill, sizeof(kek->key));
}

static void wrap_unwrap_round_trip_every_size(void **state)
{
	(void)state;
	struct keywrap_kek kek;
	quick_kek(&kek, 0x21);
	const size_t sizes[] = { 16, 24, 32 };
	for (size_t i = 0; i < 3; i++) {
		uint8_t key[32], wrapped[KEYWRAP_WRAPPED_MAX], back[KEYWRAP_KEY_MAX];
		size_t wrapped_len = 0, back_len = 0;
		assert_int_equal(keywrap_generate_key(key, sizes[i]), KEYWRAP_OK);
		assert_int_equal(keywrap_wrap(&kek, CARD, "11111111-2222-4333-8444-555555555555",
		                              key, sizes[i], wrapped, sizeof(wrapped),
		                              &wrapped_len),
		                 KEYWRAP_OK);
		assert_int_equal(wrapped_len, KEYWRAP_WRAPPED_LEN(sizes[i]));
		/* The value does not appear in clear in the blob. */
		assert_memory_not_equal(wrapped + KEYWRAP_NONCE_LEN, key, sizes[i]);
		assert_int_equal(keywrap_unwrap(&kek, CARD, "11111111-2222-4333-8444-555555555555",
		                                wrapped, wrapped_len, back, sizeof(back),
		                                &back_len),
		                 KEYWRAP_OK);
		assert_int_equal(back_len, sizes[i]);
		assert_memory_equal(back, key, sizes[i]);
	}
}

static void wrapping_twice_uses_fresh_nonces(void **state)
{
	(void)state;
	struct keywrap_kek kek;
	uint8_t key[16] = { 1 }, w1[KEYWRAP_WRAPPED_MAX], w2[KEYWRAP_WRAPPED_MAX];
	size_t l1 = 0, l2 = 0;
	quick_kek(&kek, 0x22);
	assert_int_equal(keywrap_wrap(&kek, CARD, "k", key, 16, w1, sizeof(w1), &l1), KEYWRAP_OK);
	assert_int_equal(keywrap_wrap(&kek, CARD, "k", key, 16, w2, sizeof(w2), &l2), KEYWRAP_OK);
	assert_memory_not_equal(w1, w2, KEYWRAP_NONCE_LEN);
}

static void tampered_blob_detected(void **state)
{
	(void)state;
	struct keywrap_kek kek, other;
	uint8_t key[32], wrapped[KEYWRAP_WRAPPED_MAX], back[KEYWRAP_KEY_MAX];
	size_t wrapped_len = 0, back_len = 0;
	const char *kid = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
	quick_kek(&kek, 0x31);
	quick_kek(&other, 0x32);
	assert_int_equal(keywrap_generate_key(key, 32), KEYWRAP_OK);
	assert_int_equal(
	    keywrap_wrap(&kek, CARD, kid, key, 32, wrapped, sizeof(wrapped), &wrapped_len),
	    KEYWRAP_OK);
	/* Every bit of nonce, ciphertext and tag is covered. */
	for (size_t i = 0; i < wrapped_len; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			memset(back, 0xee, sizeof(back));
			wrapped[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(keywrap_unwrap(&kek, CARD, kid, wrapped, wrapped_len, back,
			                                sizeof(back), &back_len),
			                 KEYWRAP_ERR_TAMPERED);
			assert_int_equal(back_len, 0);
			assert_true(all_zero(back, 32));
			wrapped[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* Another KEK, key id or softcard id. */
	assert_int_equal(
	    keywrap_unwrap(&other, CARD, kid, wrapped, wrapped_len, back, sizeof(back), &back_len),
	    KEYWRAP_ERR_TAMPERED);
	assert_int_equal(keywrap_unwrap(&kek, CARD, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeef", wrapped,
	                                wrapped_len, back, sizeof(back), &back_len),
	                 KEYWRAP_ERR_TAMPERED);
	assert_int_equal(
	    keywrap_unwrap(&kek, CARD2, kid, wrapped, wrapped_len, back, sizeof(back), &back_len),
	    KEYWRAP_ERR_TAMPERED);
	/* Truncated or extended blobs are not the shape of any key. */
	assert_int_equal(keywrap_unwrap(&kek, CARD, kid, wrapped, wrapped_len - 1, back,
	                                sizeof(back), &back_len),
	                 KEYWRAP_ERR_ARG);
	assert_int_equal(
	    keywrap_unwrap(&kek, CARD, kid, wrapped, 10, back, sizeof(back), &back_len),
	    KEYWRAP_ERR_ARG);
	/* A 24-byte-key-sized prefix of a 32-byte key's blob fails its tag. */
	assert_int_equal(keywrap_unwrap(&kek, CARD, kid, wrapped, KEYWRAP_WRAPPED_LEN(24), back,
	                                sizeof(back), &back_len),
	                 KEYWRAP_ERR_TAMPERED);
	/* And the intact blob still opens. */
	assert_int_equal(
	    keywrap_unwrap(&kek, CARD, kid, wrapped, wrapped_len, back, sizeof(back), &back_len),
	    KEYWRAP_OK);
	assert_memory_equal(back, key, 32);
}

static void wrap_arguments_checked(void **state)
{
	(void)state;
	struct keywrap_kek kek;
	uint8_t key[32] = { 0 }, wrapped[KEYWRAP_WRAPPED_MAX], back[32];
	size_t n = 0;
	char long_id[KEYWRAP_KEY_ID_MAX + 2];
	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	quick_kek(&kek, 1);
	assert_int_equal(keywrap_wrap(&kek, CARD, "k", key, 20, wrapped, sizeof(wrapped), &n),
	                 KEYWRAP_ERR_ARG);
	assert_int_equal(keywrap_wrap(&kek, CARD, "", key, 16, wrapped, sizeof(wrapped), &n),
	                 KEYWRAP_ERR_ARG);
	assert_int_equal(keywrap_wrap(&kek, CARD, long_id, key, 16, wrapped, sizeof(wrapped), &n),
	                 KEYWRAP_ERR_ARG);
	assert_int_equal(keywrap_wrap(&kek, "x", "k", key, 16, wrapped, sizeof(wrapped), &n),
	                 KEYWRAP_ERR_ARG);
	assert_int_equal(
	    keywrap_wrap(&kek, CARD, "k", key, 32, wrapped, KEYWRAP_WRAPPED_LEN(32) - 1, &n),
	    KEYWRAP_ERR_BUFFER);
	assert_int_equal(keywrap_wrap(&kek, CARD, "k", key, 32, wrapped, sizeof(wrapped), &n),
	                 KEYWRAP_OK);
	assert_int_equal(keywrap_unwrap(&kek, CARD, "k", wrapped, n, back, 31, &n),
	                 KEYWRAP_ERR_BUFFER);
	assert_int_equal(keywrap_generate_key(key, 8), KEYWRAP_ERR_ARG);
}

static void result_names_are_distinct(void **state)
{
	(void)state;
	for (int a = KEYWRAP_ERR_BUFFER; a <= KEYWRAP_OK; a++)
		for (int b = a + 1; b <= KEYWRAP_OK; b++)
			assert_string_not_equal(keywrap_result_name(a), keywrap_result_name(b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(master_key_created_0600_once_and_reloaded),
		cmocka_unit_test(master_key_with_group_or_other_bits_refused),
		cmocka_unit_test(master_key_of_wrong_size_refused),
		cmocka_unit_test(master_key_symlink_or_directory_refused),
		cmocka_unit_test(master_key_missing_directory_is_io_error),
		cmocka_unit_test(kek_is_deterministic_and_bound_to_every_input),
		cmocka_unit_test(kek_arguments_checked),
		cmocka_unit_test(right_passphrase_unlocks),
		cmocka_unit_test(wrong_passphrase_detected),
		cmocka_unit_test(wrap_unwrap_round_trip_every_size),
		cmocka_unit_test(wrapping_twice_uses_fresh_nonces),
		cmocka_unit_test(tampered_blob_detected),
		cmocka_unit_test(wrap_arguments_checked),
		cmocka_unit_test(result_names_are_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
