/*
 * libFuzzer target for the activation token parser: any bytes as the
 * X-WSOP-Activation value wsopd receives. Beyond "no crash":
 *  - every result is one of the documented values;
 *  - on refusal the claims are all zero;
 *  - nothing opens but the one token this target sealed itself (so no
 *    other text forges an activation), and that one opens to its claims.
 * The seeds (corpus/activation_token) are that token's shape.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/activation_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CARD "00112233445566778899aabbccddeeff00112233"
#define NOW  1800000000

static void check(int cond)
{
	if (!cond)
		abort();
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct act_token_key key;
	static struct act_claims sealed;
	static char token[ACT_TOKEN_TEXT_LEN + 1];
	static int ready;
	struct act_claims out;
	char *text;
	int r;

	if (!ready) {
		struct keywrap_master master;
		memset(&master, 7, sizeof(master));
		check(act_token_key_derive(&master, &key) == ACT_TOKEN_OK);
		memset(&sealed, 0, sizeof(sealed));
		memcpy(sealed.softcard_id, CARD, sizeof(sealed.softcard_id));
		memset(sealed.client_fp, 0xcf, sizeof(sealed.client_fp));
		sealed.issued = NOW;
		sealed.expires = NOW + 60;
		memset(sealed.kek.key, 0x4b, sizeof(sealed.kek.key));
		check(act_token_seal(&key, &sealed, token, sizeof(token)) == ACT_TOKEN_OK);
		ready = 1;
	}
	/* The header value as wsopd sees it: NUL-terminated, no NUL inside
	 * (the HTTP parser refuses those), at most HTTP_MAX_ACTIVATION. */
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	r = act_token_open(&key, text, strlen(text), CARD, sealed.client_fp, NOW, &out);
	check(r == ACT_TOKEN_OK || r == ACT_TOKEN_MALFORMED || r == ACT_TOKEN_FORGED ||
	      r == ACT_TOKEN_EXPIRED);
	if (r == ACT_TOKEN_OK) {
		check(strcmp(text, token) == 0);
		check(memcmp(out.kek.key, sealed.kek.key, sizeof(out.kek.key)) == 0);
		check(out.expires == sealed.expires);
	} else {
		check(all_zero(&out, sizeof(out)));
	}
	act_claims_wipe(&out);
	free(text);
	return 0;
}
