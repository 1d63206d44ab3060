/*
 * The object handle table (lib/p11_objstore.h).
 *
 * Each entry is an allocation of its own, found in O(1) through two
 * handle maps (lib/handle_map.h): by its handle, and by a hash of its
 * server object (slot, kind, key path or object id), so that a search
 * over 100,000 objects stays linear and nothing moves when one is dropped.
 * Entries whose keys hash alike (rare: 64 bits) hang off the first in a
 * chain. The handle counter lives outside the table so that it survives
 * C_Finalize: a handle kept by an application across re-initialisation
 * never names another object.
 */
#include "lib/p11_objstore.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/handle_map.h"
#include "lib/p11_errors.h"
#include "lib/p11_core.h"
#include "lib/p11_slots.h"
#include "lib/wsop_client.h"

struct entry {
	CK_OBJECT_HANDLE handle;
	const struct p11_slot *slot;
	uint64_t key_hash;
	struct entry *same_hash; /* the next entry in by_key's chain of key_hash */
	unsigned long listed_in; /* the last prune round whose keep held it */
	struct p11_object obj;
};

/* The bits of a key hash that are used: all of them, but a test build
 * keeps a few so that keys share hashes and the chains are exercised. */
#ifndef P11_OBJSTORE_HASH_MASK
#define P11_OBJSTORE_HASH_MASK UINT64_MAX
#endif

/* Under p11_table_lock(). by_handle owns the entries; by_key holds the
 * first entry of each key hash. */
static struct handle_map by_handle = HANDLE_MAP_INIT;
static struct handle_map by_key = HANDLE_MAP_INIT;
static CK_OBJECT_HANDLE next_handle = 1;
static unsigned long prune_round;

static void entry_free(struct entry *e)
{
	p11_object_free(&e->obj);
	free(e);
}

void p11_objstore_forget(void)
{
	memset(&by_handle, 0, sizeof(by_handle));
	memset(&by_key, 0, sizeof(by_key));
}

CK_RV p11_objstore_reset(void)
{
	p11_objstore_free();
	return CKR_OK;
}

void p11_objstore_free(void)
{
	size_t it = 0;
	struct entry *e;
	while ((e = handle_map_next(&by_handle, &it)) != NULL)
		entry_free(e);
	handle_map_clear(&by_handle);
	handle_map_clear(&by_key);
}

/* The server id of o: a key's path, an object's uuid. */
static const char *server_id(const struct p11_object *o)
{
	return o->cls == CKO_SECRET_KEY ? o->key.path : o->object.id;
}

/* FNV-1a of the slot, the kind and the server id, kept off the two values
 * a handle map reserves. */
static uint64_t key_hash_of(const struct p11_slot *slot, const struct p11_object *o)
{
	uint64_t h = 14695981039346656037u;
	uintptr_t sp = (uintptr_t)slot;
	for (size_t i = 0; i < sizeof(sp); i++)
		h = (h ^ ((sp >> (8 * i)) & 0xff)) * 1099511628211u;
	h = (h ^ (o->cls == CKO_SECRET_KEY ? 1u : 2u)) * 1099511628211u;
	for (const char *p = server_id(o); *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	h &= P11_OBJSTORE_HASH_MASK;
	return h == 0 || h == UINT64_MAX ? 1 : h;
}

/* Whether a and b are the same server object: a key by its path, a data
 * object or certificate by its id (ids are server-wide UUIDs). */
static bool same_server_object(const struct p11_object *a, const struct p11_object *b)
{
	if ((a->cls == CKO_SECRET_KEY) != (b->cls == CKO_SECRET_KEY))
		return false;
	return strcmp(server_id(a), server_id(b)) == 0;
}

static struct entry *find_object_locked(const struct p11_slot *slot, const struct p11_object *o)
{
	for (struct entry *e = handle_map_get(&by_key, key_hash_of(slot, o)); e != NULL;
	     e = e->same_hash)
		if (e->slot == slot && same_server_object(&e->obj, o))
			return e;
	return NULL;
}

/* Adds e to both maps, or to neither: CKR_OK or CKR_HOST_MEMORY. */
static CK_RV insert_locked(struct entry *e)
{
	if (handle_map_put(&by_handle, e->handle, e) != 0)
		return CKR_HOST_MEMORY;
	struct entry *first = handle_map_get(&by_key, e->key_hash);
	if (first != NULL) {
		e->same_hash = first->same_hash;
		first->same_hash = e;
		return CKR_OK;
	}
	e->same_hash = NULL;
	if (handle_map_put(&by_key, e->key_hash, e) != 0) {
		(void)handle_map_remove(&by_handle, e->handle);
		return CKR_HOST_MEMORY;
	}
	return CKR_OK;
}

/* Takes e out of by_key's chain; allocates nothing, so it cannot fail. */
static void unlink_key_locked(struct entry *e)
{
	struct entry *first = handle_map_get(&by_key, e->key_hash);
	if (first == e) {
		if (e->same_hash != NULL)
			(void)handle_map_set(&by_key, e->key_hash, e->same_hash);
		else
			(void)handle_map_remove(&by_key, e->key_hash);
		return;
	}
	for (struct entry *p = first; p != NULL; p = p->same_hash) {
		if (p->same_hash == e) {
			p->same_hash = e->same_hash;
			return;
		}
	}
}

/* Removes e from the table and frees it; by_handle may be mid-walk. */
static void remove_locked(struct entry *e)
{
	(void)handle_map_remove(&by_handle, e->handle);
	unlink_key_locked(e);
	entry_free(e);
}

/* A full table first forgets the objects of logged-out tokens: nobody can
 * see them, and the next search after a login lists them again (with new
 * handles: the old ones were invisible meanwhile, so none was usable). */
static void evict_invisible_locked(void)
{
	size_t it = 0;
	struct entry *e;
	while ((e = handle_map_next(&by_handle, &it)) != NULL)
		if (!p11_slot_logged_in_locked(e->slot))
			remove_locked(e);
}

static CK_RV room_locked(void)
{
	if (handle_map_count(&by_handle) < P11_OBJSTORE_MAX)
		return CKR_OK;
	evict_invisible_locked();
	return handle_map_count(&by_handle) < P11_OBJSTORE_MAX ? CKR_OK : CKR_HOST_MEMORY;
}

/* Under the table lock: whether the entry of a known server object should
 * take obj's attributes. Token objects do not change, so only a value
 * that the entry still lacks is worth a copy. */
static bool improves_locked(const struct entry *e, const struct p11_object *obj)
{
	return e->obj.cls != CKO_SECRET_KEY && e->obj.object.value_omitted &&
	       !obj->object.value_omitted;
}

CK_RV p11_objstore_put(const struct p11_slot *slot, const struct p11_object *obj,
                       CK_OBJECT_HANDLE *out)
{
	if (slot == NULL || obj == NULL || out == NULL)
		return CKR_ARGUMENTS_BAD;
	/* A known object costs no copy: a search over 100,000 of them again
	 * is then mostly decoding. */
	p11_table_lock();
	struct entry *known = find_object_locked(slot, obj);
	if (known != NULL && !improves_locked(known, obj)) {
		*out = known->handle;
		p11_table_unlock();
		return CKR_OK;
	}
	p11_table_unlock();

	/* The copy is made outside the lock: it may be up to a few 64 KiB
	 * values, and allocation failure must leave the table as it was. */
	struct entry *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return CKR_HOST_MEMORY;
	CK_RV rv = p11_object_copy(&e->obj, obj);
	if (rv != CKR_OK) {
		free(e);
		return rv;
	}
	e->slot = slot;
	e->key_hash = key_hash_of(slot, obj);

	p11_table_lock();
	/* Again: another thread may have put it meanwhile. */
	known = find_object_locked(slot, obj);
	if (known != NULL) {
		if (improves_locked(known, &e->obj)) {
			struct p11_object old = known->obj;
			known->obj = e->obj;
			e->obj = old;
		}
		*out = known->handle;
		p11_table_unlock();
		entry_free(e);
		return CKR_OK;
	}
	rv = room_locked();
	if (rv == CKR_OK) {
		e->handle = next_handle;
		rv = insert_locked(e);
	}
	if (rv == CKR_OK) {
		next_handle++;
		*out = e->handle;
	}
	p11_table_unlock();
	if (rv != CKR_OK)
		entry_free(e);
	return rv;
}

/* Under the table lock: the entry of h when the caller on slot may see it. */
static struct entry *visible_locked(const struct p11_slot *slot, CK_OBJECT_HANDLE h)
{
	struct entry *e = handle_map_get(&by_handle, h);
	if (e == NULL || e->slot != slot || !p11_slot_logged_in_locked(slot))
		return NULL;
	return e;
}

CK_RV p11_objstore_get(const struct p11_slot *slot, CK_OBJECT_HANDLE h, struct p11_object *out)
{
	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(out, 0, sizeof(*out));
	p11_table_lock();
	struct entry *e = visible_locked(slot, h);
	CK_RV rv = e == NULL ? CKR_OBJECT_HANDLE_INVALID : p11_object_copy(out, &e->obj);
	p11_table_unlock();
	return rv;
}

CK_RV p11_objstore_key_ref(const struct p11_slot *slot, CK_OBJECT_HANDLE h, struct p11_key_ref *out)
{
	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(out, 0, sizeof(*out));
	CK_RV rv = CKR_KEY_HANDLE_INVALID;
	p11_table_lock();
	struct entry *e = visible_locked(slot, h);
	if (e != NULL && e->obj.cls == CKO_SECRET_KEY) {
		const struct wsop_key *k = &e->obj.key;
		memcpy(out->path, k->path, sizeof(out->path));
		out->path[WSOP_KEY_PATH_LEN] = '\0';
		out->encrypt = k->attributes.encrypt ? CK_TRUE : CK_FALSE;
		out->decrypt = k->attributes.decrypt ? CK_TRUE : CK_FALSE;
		out->value_len = (CK_ULONG)k->size / 8;
		rv = CKR_OK;
	}
	p11_table_unlock();
	return rv;
}

void p11_objstore_drop(CK_OBJECT_HANDLE h)
{
	p11_table_lock();
	struct entry *e = handle_map_get(&by_handle, h);
	if (e != NULL)
		remove_locked(e);
	p11_table_unlock();
}

static bool in_scope(const struct p11_object *o, enum p11_prune_scope scope)
{
	if (scope == P11_PRUNE_ALL)
		return true;
	return (o->cls == CKO_SECRET_KEY) == (scope == P11_PRUNE_KEYS);
}

static int cmp_handle(const void *a, const void *b)
{
	CK_OBJECT_HANDLE x = *(const CK_OBJECT_HANDLE *)a, y = *(const CK_OBJECT_HANDLE *)b;
	return x < y ? -1 : x > y;
}

/* The kept entries are marked with this round's number, then one walk
 * drops the unmarked ones of slot: O(n + listed), after the sort of keep
 * that the header promises its callers. */
void p11_objstore_prune(const struct p11_slot *slot, CK_OBJECT_HANDLE *keep, size_t n,
                        enum p11_prune_scope scope)
{
	if (n > 0)
		qsort(keep, n, sizeof(*keep), cmp_handle);
	p11_table_lock();
	unsigned long round = ++prune_round;
	for (size_t i = 0; i < n; i++) {
		struct entry *e = handle_map_get(&by_handle, keep[i]);
		if (e != NULL)
			e->listed_in = round;
	}
	size_t it = 0;
	struct entry *e;
	while ((e = handle_map_next(&by_handle, &it)) != NULL) {
		if (e->slot == slot && in_scope(&e->obj, scope) && e->listed_in != round)
			remove_locked(e);
	}
	p11_table_unlock();
}

CK_RV p11_objstore_fetch_value(struct p11_slot *slot, CK_OBJECT_HANDLE h, struct p11_object *o)
{
	if (o == NULL || o->cls == CKO_SECRET_KEY || !o->object.value_omitted)
		return CKR_OK;
	/* The object belongs to a private token: the request carries this
	 * process's login. */
	struct wsop_client *c = p11_slot_client(slot);
	if (c == NULL)
		return CKR_HOST_MEMORY;
	struct wsop_object whole;
	int rc = wsop_object_get(c, o->object.protectiondomain, o->object.id, &whole);
	CK_RV rv =
	    rc == 404 ? CKR_OBJECT_HANDLE_INVALID : p11_call_result("reading an object", rc, c);
	p11_slot_client_release(slot, c);
	if (rv == CKR_OBJECT_HANDLE_INVALID) {
		/* Destroyed by someone else since it was listed. */
		p11_objstore_drop(h);
		return rv;
	}
	if (rv != CKR_OK)
		return rv;
	struct p11_object fetched;
	rv = p11_object_from_wsop_object(&fetched, &whole);
	wsop_object_free(&whole);
	if (rv != CKR_OK)
		return rv;
	CK_OBJECT_HANDLE same;
	rv = p11_objstore_put(slot, &fetched, &same);
	if (rv != CKR_OK) {
		p11_object_free(&fetched);
		return rv;
	}
	p11_object_free(o);
	*o = fetched;
	return CKR_OK;
}
