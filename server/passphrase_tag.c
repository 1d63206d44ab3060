/* The fast passphrase verifier; see passphrase_tag.h. */
#include "server/passphrase_tag.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "server/keywrap.h"

int passphrase_tag_key_new(struct passphrase_tag_key *k)
{
	return RAND_priv_bytes(k->key, (int)sizeof(k->key)) == 1 ? 0 : -EIO;
}

void passphrase_tag_key_wipe(struct passphrase_tag_key *k)
{
	OPENSSL_cleanse(k->key, sizeof(k->key));
}

int passphrase_tag(const struct passphrase_tag_key *k, const char *softcard_id,
                   const char *passphrase, size_t len, uint8_t tag[PASSPHRASE_TAG_LEN])
{
	/* The id has a fixed length, so id || passphrase is unambiguous. */
	unsigned char msg[KEYWRAP_SOFTCARD_ID_LEN + KEYWRAP_PASSPHRASE_MAX];
	unsigned int out_len = 0;
	int rc = 0;

	memset(tag, 0, PASSPHRASE_TAG_LEN);
	if (strnlen(softcard_id, KEYWRAP_SOFTCARD_ID_LEN + 1) != KEYWRAP_SOFTCARD_ID_LEN ||
	    len > KEYWRAP_PASSPHRASE_MAX)
		return -EINVAL;
	memcpy(msg, softcard_id, KEYWRAP_SOFTCARD_ID_LEN);
	memcpy(msg + KEYWRAP_SOFTCARD_ID_LEN, passphrase, len);
	if (HMAC(EVP_sha256(), k->key, (int)sizeof(k->key), msg, KEYWRAP_SOFTCARD_ID_LEN + len, tag,
	         &out_len) == NULL ||
	    out_len != PASSPHRASE_TAG_LEN) {
		OPENSSL_cleanse(tag, PASSPHRASE_TAG_LEN);
		rc = -EIO;
	}
	OPENSSL_cleanse(msg, sizeof(msg));
	return rc;
}
