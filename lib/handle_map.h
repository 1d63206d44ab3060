/*
 * A map from handles (process-local integers counted up from 1, never 0)
 * to pointers, found in O(1) whatever the number of entries: the index of
 * the session table and of the object store (by handle, and by a hash of
 * the server object's key, any 64-bit value but 0 and UINT64_MAX).
 *
 * Contract:
 *  - Not thread-safe: the owner's lock covers every call.
 *  - handle_map_put(): 0, -EINVAL for handle 0 or UINT64_MAX (the map's
 *    own marks) or a NULL value, -EEXIST when the handle is there already,
 *    -ENOMEM (the map is unchanged), -E2BIG past HANDLE_MAP_MAX entries.
 *  - handle_map_remove() returns the value it removed, or NULL.
 *  - handle_map_set() gives a handle that is there another value, without
 *    allocating: 0, -EINVAL for a NULL value or a marking handle, -ENOENT
 *    when the handle is not there. It is safe during a walk.
 *  - handle_map_next() walks the entries in no particular order; removing
 *    the entry just returned (or any other) during the walk is safe: the
 *    walk neither skips nor repeats the others. Putting during a walk is
 *    not.
 *  - handle_map_clear() frees the map's storage, not the values.
 */
#ifndef PKCS11WSOP_LIB_HANDLE_MAP_H
#define PKCS11WSOP_LIB_HANDLE_MAP_H

#include <stddef.h>
#include <stdint.h>

#define HANDLE_MAP_MAX (1u << 24)

struct handle_map_slot {
	uint64_t handle; /* 0: never used; UINT64_MAX: removed */
	void *value;
};

struct handle_map {
	struct handle_map_slot *slots;
	size_t cap;     /* 0 or a power of two */
	size_t count;   /* live entries */
	size_t removed; /* slots marked removed, reclaimed when the map grows */
};

#define HANDLE_MAP_INIT                                                                            \
	{                                                                                          \
		NULL, 0, 0, 0                                                                      \
	}

int handle_map_put(struct handle_map *m, uint64_t handle, void *value);
void *handle_map_get(const struct handle_map *m, uint64_t handle);
void *handle_map_remove(struct handle_map *m, uint64_t handle);
int handle_map_set(struct handle_map *m, uint64_t handle, void *value);
size_t handle_map_count(const struct handle_map *m);
/* Start with *iter = 0; NULL at the end. */
void *handle_map_next(const struct handle_map *m, size_t *iter);
void handle_map_clear(struct handle_map *m);

#endif
