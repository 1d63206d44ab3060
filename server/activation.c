/* Activations, key cache and slow-down; see activation.h. */
#include "server/activation.h"
#include "ipc/mono_clock.h"
#include "server/key_index.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

/* The slow-down table holds one entry per client in a failing streak; past
 * this many such clients a newcomer simply gets the longest delay. */
#define FAILURE_TABLE_MAX 4096
#define DELAY_CAP_MS      8000u

/* One activation seen lately: its token's hash, id, client and expiry. */
struct live {
	struct live *next;
	uint8_t hash[SHA256_DIGEST_LENGTH];
	uint8_t id[ACT_TOKEN_ID_LEN];
	uint8_t client_fp[ACT_TOKEN_FP_LEN];
	int64_t expires;   /* wall clock, seconds */
	int64_t last_used; /* monotonic, seconds */
};

/* A cached key: in the index (node, first so that a node is its entry)
 * and in its softcard's list (doubly linked, so a forgotten key leaves it
 * without a walk). */
struct key_entry {
	struct key_index_node node;
	struct key_entry *next;
	struct key_entry **pprev;
	struct cached_key key;
};

struct softcard_entry {
	struct softcard_entry *next;
	char id[41];
	struct keywrap_kek kek;
	/* The verifier of the passphrase that unlocked it (has_tag), wiped
	 * with the rest of the entry. */
	uint8_t tag[PASSPHRASE_TAG_LEN];
	bool has_tag;
	struct live *lives;
	struct key_entry *keys;
};

struct failure_entry {
	struct failure_entry *next;
	char client_id[65];
	unsigned count;
};

struct activation {
	pthread_mutex_t lock;
	struct softcard_entry *cards;
	struct key_index keys; /* every softcard's cached keys */
	struct failure_entry *failures;
	size_t failure_count;
	size_t live_count;
	uint64_t generation;
	uint64_t ended; /* bumped by every end/forget: see admit() */
	struct act_token_key token_key;
	struct passphrase_tag_key tag_key;
	/* Fetched once: SHA256() would fetch it again for every token. */
	EVP_MD *sha256;
	int64_t ttl_s, idle_s;
	activation_revoked_fn *revoked;
	void *revoked_ctx;
	bool shared; /* activation_share(): set before any request */
	/* The sweeper. */
	pthread_t sweeper;
	pthread_cond_t wake;
	bool sweeper_started, stopping;
};

static void copy_id(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Callers hold the lock. */
static void free_key(struct activation *act, struct key_entry *k)
{
	key_index_remove(&act->keys, &k->node);
	*k->pprev = k->next;
	if (k->next != NULL)
		k->next->pprev = k->pprev;
	OPENSSL_clear_free(k, sizeof(*k));
}

/* Callers hold the lock; counts the activations it frees. */
static void free_card(struct activation *act, struct softcard_entry *sc)
{
	while (sc->lives != NULL) {
		struct live *l = sc->lives;
		sc->lives = l->next;
		OPENSSL_clear_free(l, sizeof(*l));
		act->live_count--;
	}
	while (sc->keys != NULL)
		free_key(act, sc->keys);
	keywrap_kek_wipe(&sc->kek);
	OPENSSL_clear_free(sc, sizeof(*sc));
	act->generation++;
}

/* Callers hold the lock. */
static struct softcard_entry **find_card(struct activation *act, const char *softcard_id)
{
	struct softcard_entry **p = &act->cards;

	while (*p != NULL && strcmp((*p)->id, softcard_id) != 0)
		p = &(*p)->next;
	return p;
}

static struct live **find_live_hash(struct softcard_entry *sc, const uint8_t *hash)
{
	struct live **p = &sc->lives;

	while (*p != NULL && CRYPTO_memcmp((*p)->hash, hash, SHA256_DIGEST_LENGTH) != 0)
		p = &(*p)->next;
	return p;
}

/* Drops expired and idle activations, and the softcards left with none. */
static void sweep_locked(struct activation *act)
{
	int64_t wall = (int64_t)time(NULL);
	int64_t mono = (mono_ms() / 1000);

	for (struct softcard_entry **sp = &act->cards; *sp != NULL;) {
		struct softcard_entry *sc = *sp;
		for (struct live **lp = &sc->lives; *lp != NULL;) {
			struct live *l = *lp;
			if (wall >= l->expires || mono - l->last_used >= act->idle_s) {
				*lp = l->next;
				OPENSSL_clear_free(l, sizeof(*l));
				act->live_count--;
			} else {
				lp = &l->next;
			}
		}
		if (sc->lives == NULL) {
			*sp = sc->next;
			free_card(act, sc);
		} else {
			sp = &sc->next;
		}
	}
}

void activation_sweep(struct activation *act)
{
	pthread_mutex_lock(&act->lock);
	sweep_locked(act);
	pthread_mutex_unlock(&act->lock);
}

/* Wakes often enough that an idle activation leaves memory within a
 * fraction of the idle time (and at least every 30 s). */
static void *sweeper_main(void *arg)
{
	struct activation *act = arg;
	int64_t period = act->idle_s / 4;

	if (period < 1)
		period = 1;
	if (period > 30)
		period = 30;
	pthread_mutex_lock(&act->lock);
	while (!act->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)period;
		(void)pthread_cond_timedwait(&act->wake, &act->lock, &until);
		if (!act->stopping)
			sweep_locked(act);
	}
	pthread_mutex_unlock(&act->lock);
	return NULL;
}

int activation_create(const struct keywrap_master *master, int64_t ttl_s, int64_t idle_s,
                      activation_revoked_fn *revoked, void *revoked_ctx, struct activation **out)
{
	struct activation *act;
	pthread_condattr_t ca;

	if (master == NULL || ttl_s < 1 || idle_s < 1 || out == NULL)
		return -EINVAL;
	act = calloc(1, sizeof(*act));
	if (act == NULL)
		return -ENOMEM;
	act->ttl_s = ttl_s;
	act->idle_s = idle_s;
	act->revoked = revoked;
	act->revoked_ctx = revoked_ctx;
	if (act_token_key_derive(master, &act->token_key) != ACT_TOKEN_OK) {
		free(act);
		return -EIO;
	}
	if (passphrase_tag_key_new(&act->tag_key) != 0) {
		act_token_key_wipe(&act->token_key);
		free(act);
		return -EIO;
	}
	act->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (act->sha256 == NULL)
		goto fail_key;
	if (pthread_mutex_init(&act->lock, NULL) != 0)
		goto fail_key;
	if (pthread_condattr_init(&ca) != 0)
		goto fail_mutex;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&act->wake, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		goto fail_mutex;
	}
	pthread_condattr_destroy(&ca);
	if (pthread_create(&act->sweeper, NULL, sweeper_main, act) != 0) {
		pthread_cond_destroy(&act->wake);
		goto fail_mutex;
	}
	act->sweeper_started = true;
	*out = act;
	return 0;
fail_mutex:
	pthread_mutex_destroy(&act->lock);
fail_key:
	EVP_MD_free(act->sha256);
	act_token_key_wipe(&act->token_key);
	passphrase_tag_key_wipe(&act->tag_key);
	free(act);
	return -ENOMEM;
}

void activation_destroy(struct activation *act)
{
	if (act == NULL)
		return;
	if (act->sweeper_started) {
		pthread_mutex_lock(&act->lock);
		act->stopping = true;
		pthread_cond_signal(&act->wake);
		pthread_mutex_unlock(&act->lock);
		pthread_join(act->sweeper, NULL);
		pthread_cond_destroy(&act->wake);
	}
	while (act->cards != NULL) {
		struct softcard_entry *sc = act->cards;
		act->cards = sc->next;
		free_card(act, sc);
	}
	key_index_free(&act->keys);
	while (act->failures != NULL) {
		struct failure_entry *f = act->failures;
		act->failures = f->next;
		free(f);
	}
	act_token_key_wipe(&act->token_key);
	passphrase_tag_key_wipe(&act->tag_key);
	EVP_MD_free(act->sha256);
	pthread_mutex_destroy(&act->lock);
	free(act);
}

/* Records an activation under the lock; the softcard entry is made from
 * kek when absent. */
static int add_live_locked(struct activation *act, const uint8_t hash[SHA256_DIGEST_LENGTH],
                           const struct act_claims *c)
{
	struct softcard_entry **slot = find_card(act, c->softcard_id);
	struct softcard_entry *sc = *slot;
	struct live *l;

	if (sc != NULL && *find_live_hash(sc, hash) != NULL)
		return 0;
	if (act->live_count >= ACTIVATION_LIVE_MAX)
		return -ENOSPC;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	if (sc == NULL) {
		sc = calloc(1, sizeof(*sc));
		if (sc == NULL) {
			free(l);
			return -ENOMEM;
		}
		copy_id(sc->id, sizeof(sc->id), c->softcard_id);
		memcpy(&sc->kek, &c->kek, sizeof(sc->kek));
		sc->next = act->cards;
		act->cards = sc;
	}
	memcpy(l->hash, hash, sizeof(l->hash));
	memcpy(l->id, c->id, sizeof(l->id));
	memcpy(l->client_fp, c->client_fp, sizeof(l->client_fp));
	l->expires = c->expires;
	l->last_used = (mono_ms() / 1000);
	l->next = sc->lives;
	sc->lives = l;
	act->live_count++;
	return 0;
}

static bool token_hash(const struct activation *act, const char *token,
                       uint8_t hash[SHA256_DIGEST_LENGTH])
{
	return EVP_Digest(token, strlen(token), hash, NULL, act->sha256, NULL) == 1;
}

int activation_issue(struct activation *act, const char *softcard_id,
                     const uint8_t client_fp[ACT_TOKEN_FP_LEN], const struct keywrap_kek *kek,
                     char token[ACT_TOKEN_TEXT_LEN + 1], int64_t *expires)
{
	uint8_t hash[SHA256_DIGEST_LENGTH];
	struct act_claims c;
	int rc;

	memset(&c, 0, sizeof(c));
	if (act_token_new_id(c.id) != ACT_TOKEN_OK)
		return -EIO;
	copy_id(c.softcard_id, sizeof(c.softcard_id), softcard_id);
	memcpy(c.client_fp, client_fp, sizeof(c.client_fp));
	c.issued = (int64_t)time(NULL);
	c.expires = c.issued + act->ttl_s;
	memcpy(&c.kek, kek, sizeof(c.kek));
	rc = act_token_seal(&act->token_key, &c, token, ACT_TOKEN_TEXT_LEN + 1) == ACT_TOKEN_OK
	         ? 0
	         : -EIO;
	if (rc == 0 && !token_hash(act, token, hash))
		rc = -EIO;
	if (rc == 0) {
		pthread_mutex_lock(&act->lock);
		rc = add_live_locked(act, hash, &c);
		pthread_mutex_unlock(&act->lock);
		*expires = c.expires;
	}
	if (rc != 0)
		OPENSSL_cleanse(token, ACT_TOKEN_TEXT_LEN + 1);
	act_claims_wipe(&c);
	return rc;
}

/* The fast path: the token is in memory for this softcard and client. */
static bool lookup_locked(struct activation *act, const uint8_t *hash, const char *softcard_id,
                          const uint8_t *client_fp, struct keywrap_kek *kek, uint8_t *id,
                          int64_t *expires)
{
	struct softcard_entry *sc = *find_card(act, softcard_id);
	struct live *l;

	if (sc == NULL)
		return false;
	l = *find_live_hash(sc, hash);
	if (l == NULL || CRYPTO_memcmp(l->client_fp, client_fp, ACT_TOKEN_FP_LEN) != 0 ||
	    (int64_t)time(NULL) >= l->expires)
		return false;
	l->last_used = (mono_ms() / 1000);
	if (kek != NULL)
		memcpy(kek, &sc->kek, sizeof(*kek));
	if (id != NULL)
		memcpy(id, l->id, ACT_TOKEN_ID_LEN);
	if (expires != NULL)
		*expires = l->expires;
	return true;
}

/* The slow path: opens the token, asks the revocation source, and admits
 * it to memory unless an activation ended meanwhile (then asks again, as
 * that one may have been this very token). Each round that repeats saw
 * another deactivate finish, so it ends as soon as one passes without. */
static int admit(struct activation *act, const char *token, const uint8_t *hash,
                 const char *softcard_id, const uint8_t *client_fp, uint64_t ended,
                 struct keywrap_kek *kek, uint8_t *id, int64_t *expires)
{
	struct act_claims c;
	int rc = act_token_open(&act->token_key, token, strlen(token), softcard_id, client_fp,
	                        (int64_t)time(NULL), &c);

	if (rc != ACT_TOKEN_OK)
		return rc == ACT_TOKEN_ERR ? -EIO : -EACCES;
	for (;;) {
		int revoked = act->revoked != NULL ? act->revoked(act->revoked_ctx, c.id) : 0;
		if (revoked != 0) {
			rc = revoked > 0 ? -EACCES : -EIO;
			break;
		}
		pthread_mutex_lock(&act->lock);
		if (act->ended != ended) {
			ended = act->ended;
			pthread_mutex_unlock(&act->lock);
			continue;
		}
		rc = add_live_locked(act, hash, &c);
		if (rc == 0 && !lookup_locked(act, hash, softcard_id, client_fp, kek, id, expires))
			rc = -EACCES;
		pthread_mutex_unlock(&act->lock);
		break;
	}
	act_claims_wipe(&c);
	return rc;
}

/* A token known here may have been ended on another server sharing the
 * store: ask again, and forget it here too when it was. */
static int still_valid(struct activation *act, const char *softcard_id,
                       const uint8_t id[ACT_TOKEN_ID_LEN])
{
	int revoked = act->revoked != NULL ? act->revoked(act->revoked_ctx, id) : 0;

	if (revoked > 0)
		activation_end(act, softcard_id, id);
	return revoked == 0 ? 0 : revoked > 0 ? -EACCES : -EIO;
}

static int check(struct activation *act, const char *token, const char *softcard_id,
                 const uint8_t *client_fp, struct keywrap_kek *kek, uint8_t *id, int64_t *expires)
{
	uint8_t hash[SHA256_DIGEST_LENGTH];
	uint8_t seen[ACT_TOKEN_ID_LEN];
	uint64_t ended;
	bool found;
	int rc;

	if (token == NULL || strnlen(token, ACT_TOKEN_TEXT_LEN + 1) != ACT_TOKEN_TEXT_LEN)
		return -EACCES;
	if (!token_hash(act, token, hash))
		return -EIO;
	pthread_mutex_lock(&act->lock);
	found = lookup_locked(act, hash, softcard_id, client_fp, kek, seen, expires);
	ended = act->ended;
	pthread_mutex_unlock(&act->lock);
	if (!found)
		return admit(act, token, hash, softcard_id, client_fp, ended, kek, id, expires);
	rc = act->shared ? still_valid(act, softcard_id, seen) : 0;
	if (rc == 0 && id != NULL)
		memcpy(id, seen, sizeof(seen));
	if (rc != 0 && kek != NULL)
		keywrap_kek_wipe(kek);
	return rc;
}

int activation_check(struct activation *act, const char *token, const char *softcard_id,
                     const uint8_t client_fp[ACT_TOKEN_FP_LEN], struct keywrap_kek *kek)
{
	return check(act, token, softcard_id, client_fp, kek, NULL, NULL);
}

int activation_identify(struct activation *act, const char *token, const char *softcard_id,
                        const uint8_t client_fp[ACT_TOKEN_FP_LEN], uint8_t id[ACT_TOKEN_ID_LEN],
                        int64_t *expires)
{
	return check(act, token, softcard_id, client_fp, NULL, id, expires);
}

void activation_end(struct activation *act, const char *softcard_id,
                    const uint8_t id[ACT_TOKEN_ID_LEN])
{
	struct softcard_entry **slot;

	pthread_mutex_lock(&act->lock);
	act->ended++;
	slot = find_card(act, softcard_id);
	if (*slot != NULL) {
		struct softcard_entry *sc = *slot;
		for (struct live **lp = &sc->lives; *lp != NULL; lp = &(*lp)->next) {
			if (CRYPTO_memcmp((*lp)->id, id, ACT_TOKEN_ID_LEN) == 0) {
				struct live *l = *lp;
				*lp = l->next;
				OPENSSL_clear_free(l, sizeof(*l));
				act->live_count--;
				break;
			}
		}
		if (sc->lives == NULL) {
			*slot = sc->next;
			free_card(act, sc);
		}
	}
	pthread_mutex_unlock(&act->lock);
}

int activation_passphrase_tag(struct activation *act, const char *softcard_id,
                              const char *passphrase, size_t len, uint8_t tag[PASSPHRASE_TAG_LEN])
{
	/* The key never changes after creation: no lock needed. */
	return passphrase_tag(&act->tag_key, softcard_id, passphrase, len, tag);
}

int activation_unlock_known(struct activation *act, const char *softcard_id,
                            const uint8_t tag[PASSPHRASE_TAG_LEN], struct keywrap_kek *kek)
{
	int rc = -ENOENT;

	pthread_mutex_lock(&act->lock);
	struct softcard_entry *sc = *find_card(act, softcard_id);
	if (sc != NULL && sc->has_tag && CRYPTO_memcmp(sc->tag, tag, PASSPHRASE_TAG_LEN) == 0) {
		memcpy(kek, &sc->kek, sizeof(*kek));
		rc = 0;
	}
	pthread_mutex_unlock(&act->lock);
	return rc;
}

void activation_remember_passphrase(struct activation *act, const char *softcard_id,
                                    const uint8_t tag[PASSPHRASE_TAG_LEN])
{
	pthread_mutex_lock(&act->lock);
	struct softcard_entry *sc = *find_card(act, softcard_id);
	if (sc != NULL) {
		memcpy(sc->tag, tag, PASSPHRASE_TAG_LEN);
		sc->has_tag = true;
	}
	pthread_mutex_unlock(&act->lock);
}

void activation_forget_softcard(struct activation *act, const char *softcard_id)
{
	struct softcard_entry **slot;

	pthread_mutex_lock(&act->lock);
	act->ended++;
	slot = find_card(act, softcard_id);
	if (*slot != NULL) {
		struct softcard_entry *sc = *slot;
		*slot = sc->next;
		free_card(act, sc);
	}
	pthread_mutex_unlock(&act->lock);
}

size_t activation_live_count(struct activation *act)
{
	size_t n;

	pthread_mutex_lock(&act->lock);
	n = act->live_count;
	pthread_mutex_unlock(&act->lock);
	return n;
}

uint64_t activation_generation(struct activation *act)
{
	uint64_t g;

	pthread_mutex_lock(&act->lock);
	g = act->generation;
	pthread_mutex_unlock(&act->lock);
	return g;
}

void activation_share(struct activation *act)
{
	pthread_mutex_lock(&act->lock);
	act->shared = true;
	pthread_mutex_unlock(&act->lock);
}

int activation_key_lookup(struct activation *act, const char *group_id, const char *key_id,
                          struct cached_key *out)
{
	int rc = -ENOENT;

	pthread_mutex_lock(&act->lock);
	/* Shared: another server may have deleted it; the database says. */
	if (act->shared) {
		pthread_mutex_unlock(&act->lock);
		return rc;
	}
	struct key_index_node *n = key_index_find(&act->keys, group_id, key_id);
	if (n != NULL) {
		memcpy(out, &((struct key_entry *)n)->key, sizeof(*out));
		rc = 0;
	}
	pthread_mutex_unlock(&act->lock);
	return rc;
}

int activation_key_insert(struct activation *act, uint64_t generation, const char *group_id,
                          const char *key_id, const struct cached_key *key)
{
	struct softcard_entry *sc;
	struct key_entry *k;
	int rc = 0;

	pthread_mutex_lock(&act->lock);
	sc = *find_card(act, key->softcard_id);
	if (sc == NULL || act->generation != generation || act->shared ||
	    key_index_find(&act->keys, group_id, key_id) != NULL)
		goto out;
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	copy_id(k->node.group_id, sizeof(k->node.group_id), group_id);
	copy_id(k->node.key_id, sizeof(k->node.key_id), key_id);
	memcpy(&k->key, key, sizeof(k->key));
	rc = key_index_add(&act->keys, &k->node);
	if (rc != 0) {
		OPENSSL_clear_free(k, sizeof(*k));
		goto out;
	}
	k->next = sc->keys;
	if (k->next != NULL)
		k->next->pprev = &k->next;
	k->pprev = &sc->keys;
	sc->keys = k;
out:
	pthread_mutex_unlock(&act->lock);
	return rc;
}

void activation_key_forget(struct activation *act, const char *group_id, const char *key_id)
{
	pthread_mutex_lock(&act->lock);
	act->generation++;
	struct key_index_node *n = key_index_find(&act->keys, group_id, key_id);
	if (n != NULL)
		free_key(act, (struct key_entry *)n);
	pthread_mutex_unlock(&act->lock);
}

unsigned activation_note_failure(struct activation *act, const char *client_id)
{
	struct failure_entry *f;
	unsigned count = 0;

	pthread_mutex_lock(&act->lock);
	for (f = act->failures; f != NULL; f = f->next)
		if (strcmp(f->client_id, client_id) == 0)
			break;
	if (f == NULL && act->failure_count < FAILURE_TABLE_MAX) {
		f = calloc(1, sizeof(*f));
		if (f != NULL) {
			copy_id(f->client_id, sizeof(f->client_id), client_id);
			f->next = act->failures;
			act->failures = f;
			act->failure_count++;
		}
	}
	if (f != NULL) {
		if (f->count < 16)
			f->count++;
		count = f->count;
	}
	pthread_mutex_unlock(&act->lock);
	/* No entry (table full or no memory): be as slow as the cap. */
	if (count == 0 || count > 4)
		return DELAY_CAP_MS;
	return 1000u << (count - 1);
}

void activation_note_success(struct activation *act, const char *client_id)
{
	pthread_mutex_lock(&act->lock);
	for (struct failure_entry **p = &act->failures; *p != NULL; p = &(*p)->next) {
		if (strcmp((*p)->client_id, client_id) == 0) {
			struct failure_entry *f = *p;
			*p = f->next;
			free(f);
			act->failure_count--;
			break;
		}
	}
	pthread_mutex_unlock(&act->lock);
}
