/* Open addressing with linear probing; see handle_map.h. Removal marks
 * the slot instead of moving entries, which is what keeps a walk safe
 * while the walker removes. */
#include "lib/handle_map.h"

#include <errno.h>
#include <stdlib.h>

#define EMPTY   0
#define REMOVED UINT64_MAX

/* Fibonacci hashing: consecutive handles spread over the table. */
static size_t home(uint64_t handle, size_t cap)
{
	return (size_t)((handle * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (cap - 1);
}

/* The slot holding handle, or SIZE_MAX. */
static size_t find(const struct handle_map *m, uint64_t handle)
{
	if (m->cap == 0)
		return SIZE_MAX;
	for (size_t i = home(handle, m->cap), n = 0; n < m->cap; i = (i + 1) & (m->cap - 1), n++) {
		if (m->slots[i].handle == handle)
			return i;
		if (m->slots[i].handle == EMPTY)
			return SIZE_MAX;
	}
	return SIZE_MAX;
}

static void insert_fresh(struct handle_map_slot *slots, size_t cap, uint64_t handle, void *value)
{
	size_t i = home(handle, cap);
	while (slots[i].handle != EMPTY && slots[i].handle != REMOVED)
		i = (i + 1) & (cap - 1);
	slots[i].handle = handle;
	slots[i].value = value;
}

/* Keeps live + removed at or under half the slots, so probes stay short
 * and every probe sequence meets an empty slot. */
static int make_room(struct handle_map *m)
{
	if (m->cap != 0 && (m->count + m->removed + 1) * 2 <= m->cap)
		return 0;
	size_t cap = m->cap == 0 ? 16 : m->cap;
	while ((m->count + 1) * 2 > cap)
		cap *= 2;
	/* Only removed marks to reclaim: the same size does. */
	struct handle_map_slot *slots = calloc(cap, sizeof(*slots));
	if (slots == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		uint64_t h = m->slots[i].handle;
		if (h != EMPTY && h != REMOVED)
			insert_fresh(slots, cap, h, m->slots[i].value);
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	m->removed = 0;
	return 0;
}

int handle_map_put(struct handle_map *m, uint64_t handle, void *value)
{
	if (handle == EMPTY || handle == REMOVED || value == NULL)
		return -EINVAL;
	if (find(m, handle) != SIZE_MAX)
		return -EEXIST;
	if (m->count >= HANDLE_MAP_MAX)
		return -E2BIG;
	int rc = make_room(m);
	if (rc != 0)
		return rc;
	size_t i = home(handle, m->cap);
	while (m->slots[i].handle != EMPTY && m->slots[i].handle != REMOVED)
		i = (i + 1) & (m->cap - 1);
	if (m->slots[i].handle == REMOVED)
		m->removed--;
	m->slots[i].handle = handle;
	m->slots[i].value = value;
	m->count++;
	return 0;
}

void *handle_map_get(const struct handle_map *m, uint64_t handle)
{
	if (handle == EMPTY || handle == REMOVED)
		return NULL;
	size_t i = find(m, handle);
	return i == SIZE_MAX ? NULL : m->slots[i].value;
}

void *handle_map_remove(struct handle_map *m, uint64_t handle)
{
	if (handle == EMPTY || handle == REMOVED)
		return NULL;
	size_t i = find(m, handle);
	if (i == SIZE_MAX)
		return NULL;
	void *v = m->slots[i].value;
	m->slots[i].handle = REMOVED;
	m->slots[i].value = NULL;
	m->count--;
	m->removed++;
	return v;
}

int handle_map_set(struct handle_map *m, uint64_t handle, void *value)
{
	if (handle == EMPTY || handle == REMOVED || value == NULL)
		return -EINVAL;
	size_t i = find(m, handle);
	if (i == SIZE_MAX)
		return -ENOENT;
	m->slots[i].value = value;
	return 0;
}

size_t handle_map_count(const struct handle_map *m)
{
	return m->count;
}

void *handle_map_next(const struct handle_map *m, size_t *iter)
{
	while (*iter < m->cap) {
		const struct handle_map_slot *s = &m->slots[(*iter)++];
		if (s->handle != EMPTY && s->handle != REMOVED)
			return s->value;
	}
	return NULL;
}

void handle_map_clear(struct handle_map *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->count = m->removed = 0;
}
