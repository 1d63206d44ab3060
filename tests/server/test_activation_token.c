/* cmocka tests of the activation token: sealing, opening and every way a
 * token must be refused (altered, other client, other softcard, expired,
 * other master key, malformed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/activation_token.h"

#define SC1 "0123456789abcdef0123456789abcdef01234567"
#define SC2 "fedcba9876543210fedcba9876543210fedcba98"
#define NOW 1800000000

static struct act_token_key key_of(uint8_t fill)
{
	struct keywrap_master master;
	struct act_token_key key;

	memset(&master, fill, sizeof(master));
	assert_int_equal(act_token_key_derive(&master, &key), ACT_TOKEN_OK);
	return key;
}

static void claims_of(struct act_claims *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(act_token_new_id(c->id), ACT_TOKEN_OK);
	memcpy(c->softcard_id, SC1, sizeof(c->softcard_id));
	memset(c->client_fp, 0xc1, sizeof(c->client_fp));
	c->issued = NOW;
	c->expires = NOW + 100;
	memset(c->kek.key, 0x4b, sizeof(c->kek.key));
}

static void seal(const struct act_token_key *k, const struct act_claims *c, char *text)
{
	assert_int_equal(act_token_seal(k, c, text, ACT_TOKEN_TEXT_LEN + 1), ACT_TOKEN_OK);
	assert_int_equal(strlen(text), ACT_TOKEN_TEXT_LEN);
}

static int open_at(const struct act_token_key *k, const char *text, const char *sc,
                   const uint8_t *fp, int64_t now, struct act_claims *out)
{
	return act_token_open(k, text, strlen(text), sc, fp, now, out);
}

static void round_trip_gives_the_claims_back(void **state)
{
	struct act_token_key k = key_of(1);
	struct act_claims c, out;
	char text[ACT_TOKEN_TEXT_LEN + 1], again[ACT_TOKEN_TEXT_LEN + 1];

	(void)state;
	claims_of(&c);
	seal(&k, &c, text);
	assert_int_equal(open_at(&k, text, SC1, c.client_fp, NOW, &out), ACT_TOKEN_OK);
	assert_memory_equal(out.id, c.id, sizeof(c.id));
	assert_string_equal(out.softcard_id, SC1);
	assert_memory_equal(out.client_fp, c.client_fp, sizeof(c.client_fp));
	assert_int_equal(out.issued, NOW);
	assert_int_equal(out.expires, NOW + 100);
	assert_memory_equal(out.kek.key, c.kek.key, sizeof(c.kek.key));
	/* A fresh nonce each time: the same claims never seal the same. */
	seal(&k, &c, again);
	assert_string_not_equal(text, again);
	/* Nothing of the KEK shows in the text. */
	assert_null(strstr(text, "S0tLS0tLS0t"));
	act_claims_wipe(&out);
}

static void every_altered_character_is_refused(void **state)
{
	struct act_token_key k = key_of(1);
	struct act_claims c, out;
	char text[ACT_TOKEN_TEXT_LEN + 1];

	(void)state;
	claims_of(&c);
	seal(&k, &c, text);
	for (size_t i = 0; i < ACT_TOKEN_TEXT_LEN; i++) {
		char saved = text[i];
		text[i] = saved == 'A' ? 'B' : 'A';
		int r = open_at(&k, text, SC1, c.client_fp, NOW, &out);
		/* The last character carries padding bits: changing them is
		 * malformed rather than forged. */
		assert_true(r == ACT_TOKEN_FORGED || r == ACT_TOKEN_MALFORMED);
		assert_int_equal(out.expires, 0);
		text[i] = saved;
	}
	assert_int_equal(open_at(&k, text, SC1, c.client_fp, NOW, &out), ACT_TOKEN_OK);
}

static void other_client_softcard_or_master_key_is_refused(void **state)
{
	struct act_token_key k = key_of(1), other = key_of(2);
	struct act_claims c, out;
	uint8_t fp[ACT_TOKEN_FP_LEN];
	char text[ACT_TOKEN_TEXT_LEN + 1];

	(void)state;
	claims_of(&c);
	seal(&k, &c, text);
	memcpy(fp, c.client_fp, sizeof(fp));
	fp[31] ^= 1;
	assert_int_equal(open_at(&k, text, SC1, fp, NOW, &out), ACT_TOKEN_FORGED);
	assert_int_equal(open_at(&k, text, SC2, c.client_fp, NOW, &out), ACT_TOKEN_FORGED);
	assert_int_equal(open_at(&other, text, SC1, c.client_fp, NOW, &out), ACT_TOKEN_FORGED);
	assert_int_equal(open_at(&k, text, SC1, c.client_fp, NOW, &out), ACT_TOKEN_OK);
}

static void expired_is_refused_at_its_second(void **state)
{
	struct act_token_key k = key_of(1);
	struct act_claims c, out;
	char text[ACT_TOKEN_TEXT_LEN + 1];

	(void)state;
	claims_of(&c);
	seal(&k, &c, text);
	assert_int_equal(open_at(&k, text, SC1, c.client_fp, NOW + 99, &out), ACT_TOKEN_OK);
	assert_int_equal(open_at(&k, text, SC1, c.client_fp, NOW + 100, &out), ACT_TOKEN_EXPIRED);
	assert_int_equal(out.expires, 0);
	assert_int_equal(open_at(&k, text, SC1, c.client_fp, INT64_MAX, &out), ACT_TOKEN_EXPIRED);
}

static void malformed_text_is_refused_before_decryption(void **state)
{
	struct act_token_key k = key_of(1);
	struct act_claims c, out;
	char text[ACT_TOKEN_TEXT_LEN + 2];

	(void)state;
	claims_of(&c);
	seal(&k, &c, text);
	/* One character short, one too many, a character outside base64url,
	 * another version byte. */
	assert_int_equal(
	    act_token_open(&k, text, ACT_TOKEN_TEXT_LEN - 1, SC1, c.client_fp, NOW, &out),
	    ACT_TOKEN_MALFORMED);
	text[ACT_TOKEN_TEXT_LEN] = 'A';
	text[ACT_TOKEN_TEXT_LEN + 1] = '\0';
	assert_int_equal(open_at(&k, text, SC1, c.client_fp, NOW, &out), ACT_TOKEN_MALFORMED);
	text[ACT_TOKEN_TEXT_LEN] = '\0';
	text[10] = '=';
	assert_int_equal(open_at(&k, text, SC1, c.client_fp, NOW, &out), ACT_TOKEN_MALFORMED);
	seal(&k, &c, text);
	text[0] = 'B'; /* the first 6 bits are the version's */
	assert_int_equal(open_at(&k, text, SC1, c.client_fp, NOW, &out), ACT_TOKEN_MALFORMED);
	assert_int_equal(act_token_open(&k, NULL, 0, SC1, c.client_fp, NOW, &out),
	                 ACT_TOKEN_MALFORMED);
	assert_int_equal(act_token_open(&k, "", 0, SC1, c.client_fp, NOW, &out),
	                 ACT_TOKEN_MALFORMED);
	/* Caller errors. */
	assert_int_equal(open_at(&k, text, "not-a-softcard", c.client_fp, NOW, &out),
	                 ACT_TOKEN_ERR);
	assert_int_equal(act_token_seal(&k, &c, text, ACT_TOKEN_TEXT_LEN), ACT_TOKEN_ERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_gives_the_claims_back),
		cmocka_unit_test(every_altered_character_is_refused),
		cmocka_unit_test(other_client_softcard_or_master_key_is_refused),
		cmocka_unit_test(expired_is_refused_at_its_second),
		cmocka_unit_test(malformed_text_is_refused_before_decryption),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
