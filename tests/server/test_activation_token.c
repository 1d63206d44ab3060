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

/* What every test starts from: a key, claims, and those claims sealed. */
struct tok_fx {
	struct act_token_key k;
	struct act_claims c, out;
	char text[ACT_TOKEN_TEXT_LEN + 2];
};

static int setup(void **state)
{
	static struct tok_fx fx;

	fx.k = key_of(1);
	claims_of(&fx.c);
	seal(&fx.k, &fx.c, fx.text);
	*state = &fx;
	return 0;
}

static int open_at(const struct act_token_key *k, const char *text, const char *sc,
                   const uint8_t *fp, int64_t now, struct act_claims *out)
{
	return act_token_open(k, text, strlen(text), sc, fp, now, out);
}

static void round_trip_gives_the_claims_back(void **state)
{
	struct tok_fx *f = *state;
	char again[ACT_TOKEN_TEXT_LEN + 1];

	assert_int_equal(open_at(&f->k, f->text, SC1, f->c.client_fp, NOW, &f->out), ACT_TOKEN_OK);
	assert_memory_equal(f->out.id, f->c.id, sizeof(f->c.id));
	assert_string_equal(f->out.softcard_id, SC1);
	assert_memory_equal(f->out.client_fp, f->c.client_fp, sizeof(f->c.client_fp));
	assert_int_equal(f->out.issued, NOW);
	assert_int_equal(f->out.expires, NOW + 100);
	assert_memory_equal(f->out.kek.key, f->c.kek.key, sizeof(f->c.kek.key));
	/* A fresh nonce each time: the same claims never seal the same. */
	seal(&f->k, &f->c, again);
	assert_string_not_equal(f->text, again);
	/* Nothing of the KEK shows in the text. */
	assert_null(strstr(f->text, "S0tLS0tLS0t"));
	act_claims_wipe(&f->out);
}

static void every_altered_character_is_refused(void **state)
{
	struct tok_fx *f = *state;

	for (size_t i = 0; i < ACT_TOKEN_TEXT_LEN; i++) {
		char saved = f->text[i];
		f->text[i] = saved == 'A' ? 'B' : 'A';
		int r = open_at(&f->k, f->text, SC1, f->c.client_fp, NOW, &f->out);
		/* The last character carries padding bits: changing them is
		 * malformed rather than forged. */
		assert_true(r == ACT_TOKEN_FORGED || r == ACT_TOKEN_MALFORMED);
		assert_int_equal(f->out.expires, 0);
		f->text[i] = saved;
	}
	assert_int_equal(open_at(&f->k, f->text, SC1, f->c.client_fp, NOW, &f->out), ACT_TOKEN_OK);
}

static void other_client_softcard_or_master_key_is_refused(void **state)
{
	struct tok_fx *f = *state;
	struct act_token_key other = key_of(2);
	uint8_t fp[ACT_TOKEN_FP_LEN];

	memcpy(fp, f->c.client_fp, sizeof(fp));
	fp[31] ^= 1;
	assert_int_equal(open_at(&f->k, f->text, SC1, fp, NOW, &f->out), ACT_TOKEN_FORGED);
	assert_int_equal(open_at(&f->k, f->text, SC2, f->c.client_fp, NOW, &f->out),
	                 ACT_TOKEN_FORGED);
	assert_int_equal(open_at(&other, f->text, SC1, f->c.client_fp, NOW, &f->out),
	                 ACT_TOKEN_FORGED);
	assert_int_equal(open_at(&f->k, f->text, SC1, f->c.client_fp, NOW, &f->out), ACT_TOKEN_OK);
}

static void expired_is_refused_at_its_second(void **state)
{
	struct tok_fx *f = *state;

	assert_int_equal(open_at(&f->k, f->text, SC1, f->c.client_fp, NOW + 99, &f->out),
	                 ACT_TOKEN_OK);
	assert_int_equal(open_at(&f->k, f->text, SC1, f->c.client_fp, NOW + 100, &f->out),
	                 ACT_TOKEN_EXPIRED);
	assert_int_equal(f->out.expires, 0);
	assert_int_equal(open_at(&f->k, f->text, SC1, f->c.client_fp, INT64_MAX, &f->out),
	                 ACT_TOKEN_EXPIRED);
}

static void malformed_text_is_refused_before_decryption(void **state)
{
	struct tok_fx *f = *state;

	/* One character short, one too many, a character outside base64url,
	 * another version byte. */
	assert_int_equal(act_token_open(&f->k, f->text, ACT_TOKEN_TEXT_LEN - 1, SC1, f->c.client_fp,
	                                NOW, &f->out),
	                 ACT_TOKEN_MALFORMED);
	f->text[ACT_TOKEN_TEXT_LEN] = 'A';
	f->text[ACT_TOKEN_TEXT_LEN + 1] = '\0';
	assert_int_equal(open_at(&f->k, f->text, SC1, f->c.client_fp, NOW, &f->out),
	                 ACT_TOKEN_MALFORMED);
	f->text[ACT_TOKEN_TEXT_LEN] = '\0';
	f->text[10] = '=';
	assert_int_equal(open_at(&f->k, f->text, SC1, f->c.client_fp, NOW, &f->out),
	                 ACT_TOKEN_MALFORMED);
	seal(&f->k, &f->c, f->text);
	f->text[0] = 'B'; /* the first 6 bits are the version's */
	assert_int_equal(open_at(&f->k, f->text, SC1, f->c.client_fp, NOW, &f->out),
	                 ACT_TOKEN_MALFORMED);
	assert_int_equal(act_token_open(&f->k, NULL, 0, SC1, f->c.client_fp, NOW, &f->out),
	                 ACT_TOKEN_MALFORMED);
	assert_int_equal(act_token_open(&f->k, "", 0, SC1, f->c.client_fp, NOW, &f->out),
	                 ACT_TOKEN_MALFORMED);
	/* Caller errors. */
	assert_int_equal(open_at(&f->k, f->text, "not-a-softcard", f->c.client_fp, NOW, &f->out),
	                 ACT_TOKEN_ERR);
	assert_int_equal(act_token_seal(&f->k, &f->c, f->text, ACT_TOKEN_TEXT_LEN), ACT_TOKEN_ERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(round_trip_gives_the_claims_back, setup),
		cmocka_unit_test_setup(every_altered_character_is_refused, setup),
		cmocka_unit_test_setup(other_client_softcard_or_master_key_is_refused, setup),
		cmocka_unit_test_setup(expired_is_refused_at_its_second, setup),
		cmocka_unit_test_setup(malformed_text_is_refused_before_decryption, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
