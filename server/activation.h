/*
 * Activation state of wsopd. One activation is one successful activate
 * (one C_Login of one process): it is named by a random id and carried by
 * the sealed activation token (activation_token.h) that the client sends
 * back on every request needing the softcard active. Ending one
 * activation (deactivate with its token) ends only that one.
 *
 * In memory, per softcard with at least one live activation: its KEK, a
 * cache of its unwrapped AES keys (encrypt/decrypt of a cached key never
 * touches the database) and the activations seen lately, keyed by the
 * SHA-256 of their token text so that checking a known token is a hash
 * and a lookup. An activation is dropped from memory when it expires, when
 * it is ended, or when unused for the idle time; the softcard's KEK and
 * keys are wiped when none is left. A later request with a token that is
 * still valid (also after a restart) re-opens it and brings the KEK back,
 * so neither the client nor the server keeps the passphrase.
 *
 * A token is valid for a request when it opens under this server's master
 * key, names the softcard the request is about and the client certificate
 * of the connection, has not expired, and its id is not revoked: the
 * revocation source (the store) is asked whenever a token is not in
 * memory.
 *
 * While a softcard is in memory it also keeps the fast verifier of the
 * passphrase that unlocked it (passphrase_tag.h), so that another login
 * with that passphrase pays no KDF; it leaves memory with the KEK.
 *
 * Also here: the wrong-passphrase slow-down per client.
 *
 * Contract:
 *  - One mutex guards everything; no function blocks, sleeps or calls the
 *    revocation source while holding it. Secrets leave only as copies into
 *    caller buffers, which the caller wipes (keywrap_kek_wipe,
 *    OPENSSL_cleanse). A background thread sweeps idle and expired
 *    activations every few seconds.
 *  - Ids are NUL-terminated: softcard ids 40 hex, client ids 64 hex,
 *    group/key ids uuid text; client_fp is the raw 32-byte SHA-256.
 *  - Results: 0, -ENOENT (not there), -EACCES (no valid activation),
 *    -ENOSPC (too many live activations), -EIO (the revocation source
 *    failed), -ENOMEM.
 */
#ifndef WSOPD_ACTIVATION_H
#define WSOPD_ACTIVATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/activation_token.h"
#include "server/keywrap.h"
#include "server/passphrase_tag.h"

#define ACTIVATION_TTL_DEFAULT  28800 /* 8 hours */
#define ACTIVATION_IDLE_DEFAULT 900   /* 15 minutes */
/* Live activations in memory at most (a bound on memory, not on logins:
 * past it a new activation is refused until others end or go idle). */
#define ACTIVATION_LIVE_MAX 65536

struct activation;

/* Asked whether an activation id was revoked: 1 revoked, 0 not, < 0 the
 * answer is unknown (the request is then refused with -EIO). */
typedef int activation_revoked_fn(void *ctx, const uint8_t id[ACT_TOKEN_ID_LEN]);

/* A cached AES key as handed to a caller (who wipes it after use). */
struct cached_key {
	char softcard_id[41];
	uint8_t key[KEYWRAP_KEY_MAX];
	size_t key_len;
	bool encrypt, decrypt;
};

/* ttl_s: lifetime of a new token (seconds, >= 1); idle_s: an activation
 * unused that long leaves memory (>= 1). The token key is derived from
 * master here. revoked may be NULL (nothing is ever revoked). */
int activation_create(const struct keywrap_master *master, int64_t ttl_s, int64_t idle_s,
                      activation_revoked_fn *revoked, void *revoked_ctx, struct activation **out);
/* Stops the sweeper, wipes every KEK, key and token hash. NULL is fine. */
void activation_destroy(struct activation *act);

/* A new activation of softcard_id for client_fp, whose passphrase was just
 * verified and gave kek: its token text (ACT_TOKEN_TEXT_LEN characters
 * and a NUL) goes to token; *expires is its absolute expiry. */
int activation_issue(struct activation *act, const char *softcard_id,
                     const uint8_t client_fp[ACT_TOKEN_FP_LEN], const struct keywrap_kek *kek,
                     char token[ACT_TOKEN_TEXT_LEN + 1], int64_t *expires);

/* 0 when token (NULL: none given) is valid for softcard_id and client_fp;
 * then, when kek is not NULL, a copy of the softcard's KEK goes there. */
int activation_check(struct activation *act, const char *token, const char *softcard_id,
                     const uint8_t client_fp[ACT_TOKEN_FP_LEN], struct keywrap_kek *kek);

/* Like activation_check, and gives the activation's id and expiry (for
 * recording its revocation before activation_end). */
int activation_identify(struct activation *act, const char *token, const char *softcard_id,
                        const uint8_t client_fp[ACT_TOKEN_FP_LEN], uint8_t id[ACT_TOKEN_ID_LEN],
                        int64_t *expires);

/* Ends activation id of softcard_id in memory; the last one wipes the
 * softcard's KEK and keys. A token being admitted at the same moment is
 * checked against the revocation source again. */
void activation_end(struct activation *act, const char *softcard_id,
                    const uint8_t id[ACT_TOKEN_ID_LEN]);

/* The tag of a passphrase offered for softcard_id, under this table's
 * random key: 0 or a negative errno (passphrase_tag). */
int activation_passphrase_tag(struct activation *act, const char *softcard_id,
                              const char *passphrase, size_t len, uint8_t tag[PASSPHRASE_TAG_LEN]);

/* 0 with a copy of the KEK in kek when softcard_id is in memory and was
 * unlocked by the passphrase of this tag; -ENOENT otherwise (the caller
 * then runs the passphrase KDF, which decides). */
int activation_unlock_known(struct activation *act, const char *softcard_id,
                            const uint8_t tag[PASSPHRASE_TAG_LEN], struct keywrap_kek *kek);

/* Keeps tag as the verifier of softcard_id while it stays in memory; to
 * be called after the KDF accepted that passphrase and activation_issue
 * put the softcard in memory (otherwise it does nothing). */
void activation_remember_passphrase(struct activation *act, const char *softcard_id,
                                    const uint8_t tag[PASSPHRASE_TAG_LEN]);

/* Forgets a deleted softcard entirely (activations, KEK and keys). */
void activation_forget_softcard(struct activation *act, const char *softcard_id);

/* Other servers share the store (PostgreSQL): any of them may end an
 * activation or delete a key at any moment. From then on a token known in
 * memory is still checked against the revocation source on every use, and
 * no key is cached (every use reads the database, so a key deleted
 * elsewhere is never served). Call before serving requests. */
void activation_share(struct activation *act);

/* Live activations in memory (for tests and logs). */
size_t activation_live_count(struct activation *act);
/* Drops what is expired or idle now (the sweeper calls it; tests too). */
void activation_sweep(struct activation *act);

/* The cache generation: bumped whenever a key is forgotten or a softcard
 * leaves memory, so that a key read from the database before then is not
 * cached after it. */
uint64_t activation_generation(struct activation *act);

/* Looks up a cached key: 0 with *out filled, -ENOENT when not cached.
 * The caller then checks the request's token for out->softcard_id. */
int activation_key_lookup(struct activation *act, const char *group_id, const char *key_id,
                          struct cached_key *out);

/* Caches a key of softcard key->softcard_id, if that softcard is still in
 * memory and the generation is still `generation` (otherwise silently
 * does nothing and returns 0). */
int activation_key_insert(struct activation *act, uint64_t generation, const char *group_id,
                          const char *key_id, const struct cached_key *key);

/* Drops a deleted key from the cache. */
void activation_key_forget(struct activation *act, const char *group_id, const char *key_id);

/* Wrong-passphrase slow-down. note_failure returns how long to wait before
 * answering this failure: 1 s, 2 s, 4 s, then 8 s for every later failure
 * in a row; note_success resets the client's count. */
unsigned activation_note_failure(struct activation *act, const char *client_id);
void activation_note_success(struct activation *act, const char *client_id);

#endif
