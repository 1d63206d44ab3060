/*
 * The object handle table (lib/p11_objstore.h).
 *
 * Entries are kept in handle order (handles only grow and are appended),
 * so a handle is found by binary search; a server object is found by a
 * scan, which only C_FindObjects and object creation do. The handle
 * counter lives outside the table so that it survives C_Finalize: a
 * handle kept by an application across re-initialisation never names
 * another object.
 */
#include "lib/p11_objstore.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/p11_module.h"
#include "lib/p11_slots.h"

struct entry {
	CK_OBJECT_HANDLE handle;
	const struct p11_slot *slot;
	struct p11_object obj;
};

static struct {
	struct entry *items;
	size_t count, cap;
} tab;

/* Under p11_table_lock(). */
static CK_OBJECT_HANDLE next_handle = 1;

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
	for (size_t i = 0; i < tab.count; i++)
		if (tab.items[i].slot == slot && same_server_object(&tab.items[i].obj, o))
			return i;
	return SIZE_MAX;
}

static void remove_locked(size_t i)
{
	p11_object_free(&tab.items[i].obj);
	memmove(&tab.items[i], &tab.items[i + 1], (tab.count - i - 1) * sizeof(tab.items[0]));
	tab.count--;
}

/* A full table first forgets the objects of logged-out tokens: nobody can
 * see them, and the next search after a login lists them again (with new
 * handles: the old ones were invisible meanwhile, so none was usable). */
static void evict_invisible_locked(void)
{
	size_t out = 0;
	for (size_t i = 0; i < tab.count; i++) {
		if (!tab.items[i].slot->logged_in) {
			p11_object_free(&tab.items[i].obj);
			continue;
		}
		tab.items[out++] = tab.items[i];
	}
	tab.count = out;
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
	size_t cap = tab.cap == 0 ? 16 : tab.cap * 2;
	if (cap > P11_OBJSTORE_MAX)
		cap = P11_OBJSTORE_MAX;
	struct entry *items = realloc(tab.items, cap * sizeof(*items));
	if (items == NULL)
		return CKR_HOST_MEMORY;
	tab.items = items;
	tab.cap = cap;
	return CKR_OK;
}

CK_RV p11_objstore_put(const struct p11_slot *slot, const struct p11_object *obj,
                       CK_OBJECT_HANDLE *out)
{
	if (slot == NULL || obj == NULL || out == NULL)
		return CKR_ARGUMENTS_BAD;
	/* The copy is made outside the lock: it may be up to a few 64 KiB
	 * values, and allocation failure must leave the table as it was. */
	struct p11_object copy;
	CK_RV rv = p11_object_copy(&copy, obj);
	if (rv != CKR_OK)
		return rv;

	p11_table_lock();
	size_t i = find_object_locked(slot, obj);
	if (i != SIZE_MAX) {
		/* Same server object: keep its handle, refresh the cache. */
		p11_object_free(&tab.items[i].obj);
		tab.items[i].obj = copy;
		*out = tab.items[i].handle;
		p11_table_unlock();
		return CKR_OK;
	}
	rv = grow_locked();
	if (rv == CKR_OK) {
		struct entry *e = &tab.items[tab.count++];
		e->handle = next_handle++;
		e->slot = slot;
		e->obj = copy;
		*out = e->handle;
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
	if (i == SIZE_MAX || tab.items[i].slot != slot || !slot->logged_in)
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

static bool kept(CK_OBJECT_HANDLE h, const CK_OBJECT_HANDLE *keep, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (keep[i] == h)
			return true;
	return false;
}

void p11_objstore_prune(const struct p11_slot *slot, const CK_OBJECT_HANDLE *keep, size_t n)
{
	p11_table_lock();
	size_t out = 0;
	for (size_t i = 0; i < tab.count; i++) {
		if (tab.items[i].slot == slot && !kept(tab.items[i].handle, keep, n)) {
			p11_object_free(&tab.items[i].obj);
			continue;
		}
		tab.items[out++] = tab.items[i];
	}
	tab.count = out;
	p11_table_unlock();
}
