/*
 * Activation state of wsopd, in memory only (a restart deactivates all):
 *  - which client (certificate hash) has which softcard active;
 *  - per softcard active for at least one client: its KEK and a cache of
 *    its unwrapped AES keys, so that encrypt/decrypt of a cached key never
 *    touches the database; all of it wiped when the last client
 *    deactivates, when the softcard is deleted, and at shutdown;
 *  - the wrong-passphrase slow-down per client.
 *
 * Contract:
 *  - One mutex guards everything; no function blocks or sleeps while
 *    holding it, and secrets leave only as copies into caller buffers,
 *    which the caller wipes (keywrap_kek_wipe / OPENSSL_cleanse).
 *  - Ids are NUL-terminated: softcard ids 40 hex, client ids 64 hex,
 *    group/key ids uuid text.
 *  - Results: 0, -ENOENT (not there), -EACCES (not active for this
 *    client), -ENOMEM.
 */
#ifndef WSOPD_ACTIVATION_H
#define WSOPD_ACTIVATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/keywrap.h"

struct activation;

/* A cached AES key as handed to a caller (who wipes it after use). */
struct cached_key {
	char softcard_id[41];
	uint8_t key[KEYWRAP_KEY_MAX];
	size_t key_len;
	bool encrypt, decrypt;
};

int activation_create(struct activation **out);
/* Wipes every KEK and key, frees everything. NULL is fine. */
void activation_destroy(struct activation *act);

bool activation_is_active(struct activation *act, const char *softcard_id, const char *client_id);

/* Marks softcard_id active for client_id. The KEK is copied when the
 * softcard is not cached yet (the caller wipes its own copy). */
int activation_activate(struct activation *act, const char *softcard_id, const char *client_id,
                        const struct keywrap_kek *kek);

/* Removes the client's activation; the last one wipes the softcard's KEK
 * and keys. Deactivating what is not active is not an error. */
void activation_deactivate(struct activation *act, const char *softcard_id, const char *client_id);

/* Forgets a deleted softcard entirely (every client, KEK and keys). */
void activation_forget_softcard(struct activation *act, const char *softcard_id);

/* A copy of the KEK when the softcard is active for client_id. */
int activation_get_kek(struct activation *act, const char *softcard_id, const char *client_id,
                       struct keywrap_kek *out);

/* The cache generation: bumped whenever a key is forgotten, so that a key
 * read from the database before a delete is not cached after it. */
uint64_t activation_generation(struct activation *act);

/* Looks up a cached key. 0 with *out filled when cached and its softcard is
 * active for client_id; -EACCES when cached but not active for this client;
 * -ENOENT when not cached. */
int activation_key_lookup(struct activation *act, const char *group_id, const char *key_id,
                          const char *client_id, struct cached_key *out);

/* Caches a key of softcard key->softcard_id, if that softcard is still
 * active for someone and the generation is still `generation`
 * (otherwise silently does nothing and returns 0). */
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
