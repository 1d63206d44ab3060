/*
 * The object handle table (lib/p11_objstore.h).
 *
 * Entries are kept in handle order (handles only grow and are appended),
 * so a handle is found by binary search; a server object is found through
 * a hash index of (slot, server id) to handle, so that a search over
 * 100,000 objects stays linear. A dropped entry stays in place, marked,
 * until half the table is dropped, so C_DestroyObject moves nothing. The handle
 * counter lives outside the table so that it survives C_Finalize: a
 * handle kept by an application across re-initialisation never names
 * another object.
 */
#include "lib/p11_objstore.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/grow.h"
#include "lib/p11_errors.h"
#include "lib/p11_core.h"
#include "lib/p11_slots.h"
#include "lib/wsop_client.h"

/* slot NULL: dropped, its object freed; such entries keep the handle
 * order until the next compaction, so that dropping one object does not
 * move the whole table. */
struct entry {
	CK_OBJECT_HANDLE handle;
	const struct p11_slot *slot;
	struct p11_object obj;
};

static struct {
	struct entry *items;
	size_t count, cap;
	size_t dropped; /* entries with slot NULL */
} tab;

/* The hash index: open addressing over handles; 0 is an empty cell,
 * TOMB one whose handle was dropped. Rebuilt whole after bulk removals. */
#define TOMB ((CK_OBJECT_HANDLE)-1)
static struct {
	CK_OBJECT_HANDLE *cells;
	size_t cap, used; /* cap a power of two; used counts tombs too */
} idx;

/* Under p11_table_lock(). */
static CK_OBJECT_HANDLE next_handle = 1;

static void index_free(void)
{
	free(idx.cells);
	memset(&idx, 0, sizeof(idx));
}

void p11_objstore_forget(void)
{
	memset(&tab, 0, sizeof(tab));
	memset(&idx, 0, sizeof(idx));
}

CK_RV p11_objstore_reset(void)
{
	p11_objstore_free();
	return CKR_OK;
}

void p11_objstore_free(void)
{
	for (size_t i = 0; i < tab.count; i++)
		p11_object_free(&tab.items[i].obj);
	free(tab.items);
	memset(&tab, 0, sizeof(tab));
	index_free();
}

/* The server id of o: a key's path, an object's uuid. */
static const char *server_id(const struct p11_object *o)
{
	return o->cls == CKO_SECRET_KEY ? o->key.path : o->object.id;
}

/* FNV-1a of the slot, the kind and the server id. */
static size_t hash_of(const struct p11_slot *slot, const struct p11_object *o)
{
	uint64_t h = 14695981039346656037u;
	uintptr_t sp = (uintptr_t)slot;
	for (size_t i = 0; i < sizeof(sp); i++)
		h = (h ^ ((sp >> (8 * i)) & 0xff)) * 1099511628211u;
	h = (h ^ (o->cls == CKO_SECRET_KEY ? 1u : 2u)) * 1099511628211u;
	for (const char *p = server_id(o); *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	return (size_t)h;
}

/* Under the table lock: the index of handle h, or SIZE_MAX. */
static size_t find_handle_locked(CK_OBJECT_HANDLE h)
{
	size_t lo = 0, hi = tab.count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tab.items[mid].handle == h)
			return mid;
		if (tab.items[mid].handle < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

/* Whether a and b are the same server object: a key by its path, a data
 * object or certificate by its id (ids are server-wide UUIDs). */
static bool same_server_object(const struct p11_object *a, const struct p11_object *b)
{
	if ((a->cls == CKO_SECRET_KEY) != (b->cls == CKO_SECRET_KEY))
		return false;
	if (a->cls == CKO_SECRET_KEY)
		return strcmp(a->key.path, b->key.path) == 0;
	return strcmp(a->object.id, b->object.id) == 0;
}

static size_t find_object_locked(const struct p11_slot *slot, const struct p11_object *o)
{
	if (idx.cap == 0)
		return SIZE_MAX;
	for (size_t c = hash_of(slot, o) & (idx.cap - 1);; c = (c + 1) & (idx.cap - 1)) {
		CK_OBJECT_HANDLE h = idx.cells[c];
		if (h == 0)
			return SIZE_MAX;
		if (h == TOMB)
			continue;
		size_t i = find_handle_locked(h);
		if (i != SIZE_MAX && tab.items[i].slot == slot &&
		    same_server_object(&tab.items[i].obj, o))
			return i;
	}
}

static void index_put_locked(const struct entry *e)
{
	size_t c = hash_of(e->slot, &e->obj) & (idx.cap - 1);
	while (idx.cells[c] != 0 && idx.cells[c] != TOMB)
		c = (c + 1) & (idx.cap - 1);
	if (idx.cells[c] == 0)
		idx.used++;
	idx.cells[c] = e->handle;
}

/* A fresh index for the entries of the table with room for `room` more
 * (load at most a half). On allocation failure the old one stays, which
 * is still right: false. */
static bool index_rebuild_locked(size_t room)
{
	size_t cap = 64;
	while (cap / 2 < tab.count + room)
		cap *= 2;
	CK_OBJECT_HANDLE *cells = calloc(cap, sizeof(*cells));
	if (cells == NULL)
		return false;
	free(idx.cells);
	idx.cells = cells;
	idx.cap = cap;
	idx.used = 0;
	for (size_t i = 0; i < tab.count; i++)
		if (tab.items[i].slot != NULL)
			index_put_locked(&tab.items[i]);
	return true;
}

/* Marks the cell of entry i a tomb. */
static void index_drop_locked(size_t i)
{
	if (idx.cap == 0)
		return;
	const struct entry *e = &tab.items[i];
	for (size_t c = hash_of(e->slot, &e->obj) & (idx.cap - 1); idx.cells[c] != 0;
	     c = (c + 1) & (idx.cap - 1)) {
		if (idx.cells[c] == e->handle) {
			idx.cells[c] = TOMB;
			return;
		}
	}
}

/* Keeps the entries for which drop() is false, in order; frees the others'
 * objects and rebuilds the index. */
static void compact_locked(bool (*drop)(const struct entry *e, const void *arg), const void *arg)
{
	size_t out = 0;
	for (size_t i = 0; i < tab.count; i++) {
		struct entry *e = &tab.items[i];
		if (e->slot == NULL || drop(e, arg)) {
			p11_object_free(&e->obj);
			continue;
		}
		tab.items[out++] = *e;
	}
	tab.count = out;
	tab.dropped = 0;
	/* On failure the old index stays; it is still right, as every hit is
	 * checked against the table. */
	(void)index_rebuild_locked(0);
}

static bool drop_none(const struct entry *e, const void *arg)
{
	(void)e;
	(void)arg;
	return false;
}

static void remove_locked(size_t i)
{
	struct entry *e = &tab.items[i];
	if (e->slot == NULL)
		return;
	index_drop_locked(i);
	p11_object_free(&e->obj);
	e->slot = NULL;
	if (++tab.dropped * 2 > tab.count)
		compact_locked(drop_none, NULL);
}

static bool drop_invisible(const struct entry *e, const void *arg)
{
	(void)arg;
	return !p11_slot_logged_in_locked(e->slot);
}

/* A full table first forgets the objects of logged-out tokens: nobody can
 * see them, and the next search after a login lists them again (with new
 * handles: the old ones were invisible meanwhile, so none was usable). */
static void evict_invisible_locked(void)
{
	compact_locked(drop_invisible, NULL);
}

static CK_RV grow_locked(void)
{
	if (tab.count < tab.cap)
		return CKR_OK;
	if (tab.count >= P11_OBJSTORE_MAX) {
		evict_invisible_locked();
		if (tab.count >= P11_OBJSTORE_MAX)
			return CKR_HOST_MEMORY;
		if (tab.count < tab.cap)
			return CKR_OK;
	}
	if (grow_to((void **)&tab.items, &tab.cap, tab.count + 1, sizeof(*tab.items),
	            P11_OBJSTORE_MAX) != 0)
		return CKR_HOST_MEMORY;
	return CKR_OK;
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
	size_t i = find_object_locked(slot, obj);
	if (i != SIZE_MAX && !improves_locked(&tab.items[i], obj)) {
		*out = tab.items[i].handle;
		p11_table_unlock();
		return CKR_OK;
	}
	p11_table_unlock();

	/* The copy is made outside the lock: it may be up to a few 64 KiB
	 * values, and allocation failure must leave the table as it was. */
	struct p11_object copy;
	CK_RV rv = p11_object_copy(&copy, obj);
	if (rv != CKR_OK)
		return rv;

	p11_table_lock();
	/* Again: another thread may have put it meanwhile. */
	i = find_object_locked(slot, obj);
	if (i != SIZE_MAX) {
		struct entry *e = &tab.items[i];
		if (improves_locked(e, &copy)) {
			p11_object_free(&e->obj);
			e->obj = copy;
		} else {
			p11_object_free(&copy);
		}
		*out = e->handle;
		p11_table_unlock();
		return CKR_OK;
	}
	rv = grow_locked();
	if (rv == CKR_OK && (idx.used + 1) * 2 > idx.cap && !index_rebuild_locked(1))
		rv = CKR_HOST_MEMORY;
	if (rv == CKR_OK) {
		struct entry *e = &tab.items[tab.count++];
		e->handle = next_handle++;
		e->slot = slot;
		e->obj = copy;
		*out = e->handle;
		index_put_locked(e);
	}
	p11_table_unlock();
	if (rv != CKR_OK)
		p11_object_free(&copy);
	return rv;
}

/* Under the table lock: the entry of h when the caller on slot may see it. */
static struct entry *visible_locked(const struct p11_slot *slot, CK_OBJECT_HANDLE h)
{
	size_t i = find_handle_locked(h);
	if (i == SIZE_MAX || tab.items[i].slot != slot || !p11_slot_logged_in_locked(slot))
		return NULL;
	return &tab.items[i];
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
	size_t i = find_handle_locked(h);
	if (i != SIZE_MAX)
		remove_locked(i);
	p11_table_unlock();
}

static int cmp_handle(const void *a, const void *b)
{
	CK_OBJECT_HANDLE x = *(const CK_OBJECT_HANDLE *)a, y = *(const CK_OBJECT_HANDLE *)b;
	return x < y ? -1 : x > y;
}

static bool in_scope(const struct p11_object *o, enum p11_prune_scope scope)
{
	if (scope == P11_PRUNE_ALL)
		return true;
	return (o->cls == CKO_SECRET_KEY) == (scope == P11_PRUNE_KEYS);
}

struct prune_args {
	const struct p11_slot *slot;
	const CK_OBJECT_HANDLE *keep;
	size_t n;
	enum p11_prune_scope scope;
};

static bool drop_unlisted(const struct entry *e, const void *arg)
{
	const struct prune_args *a = arg;
	return e->slot == a->slot && in_scope(&e->obj, a->scope) &&
	       (a->n == 0 ||
	        bsearch(&e->handle, a->keep, a->n, sizeof(*a->keep), cmp_handle) == NULL);
}

void p11_objstore_prune(const struct p11_slot *slot, CK_OBJECT_HANDLE *keep, size_t n,
                        enum p11_prune_scope scope)
{
	struct prune_args a = { .slot = slot, .keep = keep, .n = n, .scope = scope };
	if (n > 0)
		qsort(keep, n, sizeof(*keep), cmp_handle);
	p11_table_lock();
	compact_locked(drop_unlisted, &a);
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
