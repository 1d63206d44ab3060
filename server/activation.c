/* In-memory activation state, key cache and slow-down; see activation.h. */
#include "server/activation.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* The slow-down table holds one entry per client in a failing streak; past
 * this many such clients a newcomer simply gets the longest delay. */
#define FAILURE_TABLE_MAX 4096
#define DELAY_CAP_MS      8000u

struct client_ref {
	struct client_ref *next;
	char id[65];
};

struct key_entry {
	struct key_entry *next;
	char group_id[37];
	char key_id[37];
	struct cached_key key;
};

struct softcard_entry {
	struct softcard_entry *next;
	char id[41];
	struct keywrap_kek kek;
	struct client_ref *clients;
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
	struct failure_entry *failures;
	size_t failure_count;
	uint64_t generation;
};

static void copy_id(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void free_key(struct key_entry *k)
{
	OPENSSL_clear_free(k, sizeof(*k));
}

static void free_card(struct softcard_entry *sc)
{
	while (sc->clients != NULL) {
		struct client_ref *c = sc->clients;
		sc->clients = c->next;
		free(c);
	}
	while (sc->keys != NULL) {
		struct key_entry *k = sc->keys;
		sc->keys = k->next;
		free_key(k);
	}
	keywrap_kek_wipe(&sc->kek);
	OPENSSL_clear_free(sc, sizeof(*sc));
}

int activation_create(struct activation **out)
{
	struct activation *act = calloc(1, sizeof(*act));

	if (act == NULL)
		return -ENOMEM;
	if (pthread_mutex_init(&act->lock, NULL) != 0) {
		free(act);
		return -ENOMEM;
	}
	*out = act;
	return 0;
}

void activation_destroy(struct activation *act)
{
	if (act == NULL)
		return;
	while (act->cards != NULL) {
		struct softcard_entry *sc = act->cards;
		act->cards = sc->next;
		free_card(sc);
	}
	while (act->failures != NULL) {
		struct failure_entry *f = act->failures;
		act->failures = f->next;
		free(f);
	}
	pthread_mutex_destroy(&act->lock);
	free(act);
}

/* Callers hold the lock. */
static struct softcard_entry **find_card(struct activation *act, const char *softcard_id)
{
	struct softcard_entry **p = &act->cards;

	while (*p != NULL && strcmp((*p)->id, softcard_id) != 0)
		p = &(*p)->next;
	return p;
}

static struct client_ref **find_client(struct softcard_entry *sc, const char *client_id)
{
	struct client_ref **p = &sc->clients;

	while (*p != NULL && strcmp((*p)->id, client_id) != 0)
		p = &(*p)->next;
	return p;
}

static bool card_active_for(struct softcard_entry *sc, const char *client_id)
{
	return sc != NULL && *find_client(sc, client_id) != NULL;
}

bool activation_is_active(struct activation *act, const char *softcard_id, const char *client_id)
{
	bool active;

	pthread_mutex_lock(&act->lock);
	active = card_active_for(*find_card(act, softcard_id), client_id);
	pthread_mutex_unlock(&act->lock);
	return active;
}

int activation_activate(struct activation *act, const char *softcard_id, const char *client_id,
                        const struct keywrap_kek *kek)
{
	struct softcard_entry **slot;
	struct softcard_entry *sc;
	struct client_ref *c;
	int rc = 0;

	pthread_mutex_lock(&act->lock);
	slot = find_card(act, softcard_id);
	sc = *slot;
	if (sc == NULL) {
		sc = calloc(1, sizeof(*sc));
		if (sc == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		copy_id(sc->id, sizeof(sc->id), softcard_id);
		memcpy(&sc->kek, kek, sizeof(sc->kek));
		*slot = sc;
	}
	if (*find_client(sc, client_id) != NULL)
		goto out;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		/* A card entry with no client must not keep its KEK. */
		if (sc->clients == NULL) {
			*slot = sc->next;
			free_card(sc);
		}
		rc = -ENOMEM;
		goto out;
	}
	copy_id(c->id, sizeof(c->id), client_id);
	c->next = sc->clients;
	sc->clients = c;
out:
	pthread_mutex_unlock(&act->lock);
	return rc;
}

void activation_deactivate(struct activation *act, const char *softcard_id, const char *client_id)
{
	struct softcard_entry **slot;
	struct client_ref **cp;

	pthread_mutex_lock(&act->lock);
	slot = find_card(act, softcard_id);
	if (*slot != NULL) {
		cp = find_client(*slot, client_id);
		if (*cp != NULL) {
			struct client_ref *c = *cp;
			*cp = c->next;
			free(c);
		}
		if ((*slot)->clients == NULL) {
			struct softcard_entry *sc = *slot;
			*slot = sc->next;
			free_card(sc);
			act->generation++;
		}
	}
	pthread_mutex_unlock(&act->lock);
}

void activation_forget_softcard(struct activation *act, const char *softcard_id)
{
	struct softcard_entry **slot;

	pthread_mutex_lock(&act->lock);
	slot = find_card(act, softcard_id);
	if (*slot != NULL) {
		struct softcard_entry *sc = *slot;
		*slot = sc->next;
		free_card(sc);
		act->generation++;
	}
	pthread_mutex_unlock(&act->lock);
}

int activation_get_kek(struct activation *act, const char *softcard_id, const char *client_id,
                       struct keywrap_kek *out)
{
	struct softcard_entry *sc;
	int rc = -EACCES;

	pthread_mutex_lock(&act->lock);
	sc = *find_card(act, softcard_id);
	if (card_active_for(sc, client_id)) {
		memcpy(out, &sc->kek, sizeof(*out));
		rc = 0;
	}
	pthread_mutex_unlock(&act->lock);
	return rc;
}

uint64_t activation_generation(struct activation *act)
{
	uint64_t g;

	pthread_mutex_lock(&act->lock);
	g = act->generation;
	pthread_mutex_unlock(&act->lock);
	return g;
}

int activation_key_lookup(struct activation *act, const char *group_id, const char *key_id,
                          const char *client_id, struct cached_key *out)
{
	int rc = -ENOENT;

	pthread_mutex_lock(&act->lock);
	for (struct softcard_entry *sc = act->cards; sc != NULL && rc == -ENOENT; sc = sc->next) {
		for (struct key_entry *k = sc->keys; k != NULL; k = k->next) {
			if (strcmp(k->key_id, key_id) != 0 || strcmp(k->group_id, group_id) != 0)
				continue;
			if (card_active_for(sc, client_id)) {
				memcpy(out, &k->key, sizeof(*out));
				rc = 0;
			} else {
				rc = -EACCES;
			}
			break;
		}
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
	if (sc == NULL || act->generation != generation)
		goto out;
	for (k = sc->keys; k != NULL; k = k->next)
		if (strcmp(k->key_id, key_id) == 0 && strcmp(k->group_id, group_id) == 0)
			goto out;
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	copy_id(k->group_id, sizeof(k->group_id), group_id);
	copy_id(k->key_id, sizeof(k->key_id), key_id);
	memcpy(&k->key, key, sizeof(k->key));
	k->next = sc->keys;
	sc->keys = k;
out:
	pthread_mutex_unlock(&act->lock);
	return rc;
}

void activation_key_forget(struct activation *act, const char *group_id, const char *key_id)
{
	pthread_mutex_lock(&act->lock);
	act->generation++;
	for (struct softcard_entry *sc = act->cards; sc != NULL; sc = sc->next) {
		for (struct key_entry **p = &sc->keys; *p != NULL; p = &(*p)->next) {
			if (strcmp((*p)->key_id, key_id) == 0 &&
			    strcmp((*p)->group_id, group_id) == 0) {
				struct key_entry *k = *p;
				*p = k->next;
				free_key(k);
				goto out;
			}
		}
	}
out:
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
