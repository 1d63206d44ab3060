/*
 * The fast passphrase verifier of an active softcard: HMAC-SHA256 under a
 * key drawn at random when wsopd starts, over the softcard id and the
 * passphrase. While a softcard is active the activation table keeps the
 * tag of the passphrase that unlocked it, so that a later activation with
 * the same passphrase is verified by one HMAC instead of the passphrase
 * KDF; anything else (no tag, another tag) takes the KDF path, which alone
 * decides that a passphrase is wrong. Why this is safe enough is in
 * security/THREAT_MODEL.md ("wsopd's memory").
 *
 * Contract:
 *  - The key lives in memory only and is never written anywhere; a restart
 *    draws a new one, so no tag survives the process.
 *  - Tags are compared with CRYPTO_memcmp by the caller.
 *  - Nothing here logs; every temporary copy of the passphrase is wiped.
 */
#ifndef WSOPD_PASSPHRASE_TAG_H
#define WSOPD_PASSPHRASE_TAG_H

#include <stddef.h>
#include <stdint.h>

#define PASSPHRASE_TAG_LEN 32

struct passphrase_tag_key {
	uint8_t key[32];
};

/* 0, or -EIO when the random generator failed. */
int passphrase_tag_key_new(struct passphrase_tag_key *k);
void passphrase_tag_key_wipe(struct passphrase_tag_key *k);

/* The tag of passphrase[0..len) for softcard_id (40 hex digits). 0, or
 * -EINVAL (bad lengths) or -EIO (OpenSSL failed); tag is zeroed on error. */
int passphrase_tag(const struct passphrase_tag_key *k, const char *softcard_id,
                   const char *passphrase, size_t len, uint8_t tag[PASSPHRASE_TAG_LEN]);

#endif
