/*
 * wsopd's key hierarchy: the master key file, softcard KEKs, the passphrase
 * verifier and the wrapping of AES key values.
 *
 *   master key  32 random bytes in <store>/master.key (0600, created once)
 *   KEK         HKDF-SHA256(ikm  = scrypt(passphrase, salt, N=2^14, r=8, p=1, 32)
 *                                  || master key,
 *                           info = "wsopd kek v1" || softcard id)
 *   verifier    nonce(12) || AES-256-GCM_KEK(fixed text, aad = softcard id) || tag(16)
 *   wrapped key nonce(12) || AES-256-GCM_KEK(key, aad = key id || softcard id) || tag(16)
 *
 * So a softcard's keys need both its passphrase and the server's master key,
 * and a wrapped key cannot be moved to another key id or softcard.
 *
 * Contract:
 *  - Every function returns KEYWRAP_OK (0) or a negative enum keywrap_result.
 *  - Secrets (master key, KEK, scrypt output, passphrase copies, key values)
 *    live only in caller-owned structs or caller buffers; every copy made
 *    inside is OPENSSL_cleanse'd. Callers wipe their structs with the
 *    *_wipe functions (safe to call on a zeroed or already wiped struct).
 *  - Nothing here logs.
 *  - Thread-safe: no shared state. Key derivation costs ~16 MiB of memory
 *    and some tens of milliseconds (scrypt), by design.
 */
#ifndef PKCS11WSOP_SERVER_KEYWRAP_H
#define PKCS11WSOP_SERVER_KEYWRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYWRAP_MASTER_LEN      32
#define KEYWRAP_MASTER_FILE     "master.key"
#define KEYWRAP_SALT_LEN        16
#define KEYWRAP_KEK_LEN         32
#define KEYWRAP_NONCE_LEN       12
#define KEYWRAP_TAG_LEN         16
#define KEYWRAP_KEY_MAX         32 /* AES-256 */
#define KEYWRAP_PASSPHRASE_MAX  256
#define KEYWRAP_SOFTCARD_ID_LEN 40
#define KEYWRAP_KEY_ID_MAX      64

/* The verifier encrypts this fixed text (its length sets the verifier's). */
#define KEYWRAP_VERIFIER_TEXT "wsopd softcard verifier v1"
#define KEYWRAP_VERIFIER_LEN                                                                       \
	(KEYWRAP_NONCE_LEN + (sizeof(KEYWRAP_VERIFIER_TEXT) - 1) + KEYWRAP_TAG_LEN)

/* Size of the wrapped form of a key of key_len bytes. */
#define KEYWRAP_WRAPPED_LEN(key_len) (KEYWRAP_NONCE_LEN + (key_len) + KEYWRAP_TAG_LEN)
#define KEYWRAP_WRAPPED_MAX          KEYWRAP_WRAPPED_LEN(KEYWRAP_KEY_MAX)

enum keywrap_result {
	KEYWRAP_OK = 0,
	KEYWRAP_ERR_ARG = -1,              /* NULL, bad length, bad id shape */
	KEYWRAP_ERR_IO = -2,               /* master.key: open/read/write/fsync failed */
	KEYWRAP_ERR_MASTER_PERMS = -3,     /* master.key grants group/other access, or is
	                                      not a regular file owned by us: refuse to start */
	KEYWRAP_ERR_MASTER_SIZE = -4,      /* master.key is not exactly 32 bytes */
	KEYWRAP_ERR_WRONG_PASSPHRASE = -5, /* verifier tag failed -> 403 wrong_passphrase */
	KEYWRAP_ERR_TAMPERED = -6,         /* wrapped key tag failed (or wrong KEK/ids) */
	KEYWRAP_ERR_CRYPTO = -7,           /* OpenSSL or RNG failure */
	KEYWRAP_ERR_BUFFER = -8,           /* caller's output buffer too small */
};

struct keywrap_master {
	uint8_t key[KEYWRAP_MASTER_LEN];
};

struct keywrap_kek {
	uint8_t key[KEYWRAP_KEK_LEN];
};

/* Loads <store_dir>/master.key, creating it (O_CREAT|O_EXCL, mode 0600,
 * RAND_priv_bytes, fsync of file and directory) when absent. An existing
 * file must be a regular file, owned by the effective uid, with no
 * group/other permission bits (KEYWRAP_ERR_MASTER_PERMS) and exactly 32
 * bytes long (KEYWRAP_ERR_MASTER_SIZE). store_dir must exist. */
int keywrap_master_load(const char *store_dir, struct keywrap_master *out);
/* Loads a master key file given by its path, with the same checks, never
 * creating it (the nodes sharing a PostgreSQL store are each given the
 * same file; one made up by a node would differ from the others'). */
int keywrap_master_load_file(const char *path, struct keywrap_master *out);
void keywrap_master_wipe(struct keywrap_master *master);

/* A fresh random softcard salt (RAND_bytes). */
int keywrap_new_salt(uint8_t salt[KEYWRAP_SALT_LEN]);

/* Derives the KEK of a softcard. passphrase is 1..256 bytes (not
 * NUL-terminated necessarily); softcard_id is the 40-hex id, NUL-terminated. */
int keywrap_derive_kek(const struct keywrap_master *master, const char *passphrase,
                       size_t passphrase_len, const uint8_t salt[KEYWRAP_SALT_LEN],
                       const char *softcard_id, struct keywrap_kek *out);
void keywrap_kek_wipe(struct keywrap_kek *kek);

/* A 32-byte key for another purpose than softcards, bound to the master
 * key alone: HKDF-SHA256(ikm = master key, info = label). Each purpose has
 * its own label (the activation token's is "wsopd activation token v1"). */
int keywrap_derive_subkey(const struct keywrap_master *master, const char *label,
                          uint8_t out[KEYWRAP_KEK_LEN]);

/* AES-256-GCM over one message: in[0..in_len) to out (same length), with
 * aad1 || aad2 as additional data (either may be empty). Encrypting
 * writes the tag; decrypting checks it and returns KEYWRAP_ERR_TAMPERED on
 * a mismatch. The caller cleanses out on any failure. */
int keywrap_gcm(bool encrypt, const uint8_t key[KEYWRAP_KEK_LEN],
                const uint8_t nonce[KEYWRAP_NONCE_LEN], const uint8_t *aad1, size_t aad1_len,
                const uint8_t *aad2, size_t aad2_len, const uint8_t *in, size_t in_len,
                uint8_t *out, uint8_t tag[KEYWRAP_TAG_LEN]);

/* Writes the KEYWRAP_VERIFIER_LEN-byte verifier of a freshly derived KEK. */
int keywrap_make_verifier(const struct keywrap_kek *kek, const char *softcard_id,
                          uint8_t out[KEYWRAP_VERIFIER_LEN]);

/* KEYWRAP_OK when the verifier was made with this KEK and softcard id,
 * KEYWRAP_ERR_WRONG_PASSPHRASE when its tag fails, KEYWRAP_ERR_ARG when
 * verifier_len is not KEYWRAP_VERIFIER_LEN. */
int keywrap_check_verifier(const struct keywrap_kek *kek, const char *softcard_id,
                           const uint8_t *verifier, size_t verifier_len);

/* Softcard creation in one call: new salt, KEK, verifier. The KEK is
 * returned too (the creator may keep it, or wipe it at once). */
int keywrap_softcard_setup(const struct keywrap_master *master, const char *passphrase,
                           size_t passphrase_len, const char *softcard_id,
                           uint8_t salt_out[KEYWRAP_SALT_LEN],
                           uint8_t verifier_out[KEYWRAP_VERIFIER_LEN], struct keywrap_kek *kek_out);

/* Activation in one call: derive the KEK and check it against the stored
 * verifier. On KEYWRAP_ERR_WRONG_PASSPHRASE (or any error) *kek_out is
 * wiped. */
int keywrap_softcard_unlock(const struct keywrap_master *master, const char *passphrase,
                            size_t passphrase_len, const char *softcard_id,
                            const uint8_t salt[KEYWRAP_SALT_LEN], const uint8_t *verifier,
                            size_t verifier_len, struct keywrap_kek *kek_out);

/* Fills key[0..key_len) with RAND_priv_bytes; key_len 16, 24 or 32. */
int keywrap_generate_key(uint8_t *key, size_t key_len);

/* Wraps key[0..key_len) (16, 24 or 32 bytes) for key_id (1..64 bytes,
 * NUL-terminated, e.g. the key's uuid) on softcard_id. wrapped_cap must be
 * at least KEYWRAP_WRAPPED_LEN(key_len). */
int keywrap_wrap(const struct keywrap_kek *kek, const char *softcard_id, const char *key_id,
                 const uint8_t *key, size_t key_len, uint8_t *wrapped, size_t wrapped_cap,
                 size_t *wrapped_len);

/* Inverse of keywrap_wrap. KEYWRAP_ERR_TAMPERED when the tag fails (blob
 * changed, other KEK, other key id or softcard); KEYWRAP_ERR_ARG when
 * wrapped_len is not the wrapped length of a 16/24/32-byte key. key_cap of
 * KEYWRAP_KEY_MAX always suffices. Nothing is left in key on failure. */
int keywrap_unwrap(const struct keywrap_kek *kek, const char *softcard_id, const char *key_id,
                   const uint8_t *wrapped, size_t wrapped_len, uint8_t *key, size_t key_cap,
                   size_t *key_len);

const char *keywrap_result_name(int result);

#endif
