/* The cached keys' hash index; see key_index.h. */
#include "server/key_index.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_BUCKETS 64

/* FNV-1a of the key id: uuids v4 are random, so any mixing hash spreads
 * them; the group id only decides between equal key ids. */
static size_t hash_of(const char *key_id)
{
	uint64_t h = 14695981039346656037ull;

	for (const unsigned char *p = (const unsigned char *)key_id; *p != '\0'; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

static struct key_index_node **bucket_of(const struct key_index *idx, const char *key_id)
{
	return &idx->buckets[hash_of(key_id) & (idx->bucket_count - 1)];
}

struct key_index_node *key_index_find(const struct key_index *idx, const char *group_id,
                                      const char *key_id)
{
	if (idx->bucket_count == 0)
		return NULL;
	for (struct key_index_node *n = *bucket_of(idx, key_id); n != NULL; n = n->next)
		if (strcmp(n->key_id, key_id) == 0 && strcmp(n->group_id, group_id) == 0)
			return n;
	return NULL;
}

/* Moves every node into a table of twice the buckets; on failure keeps
 * the old one. */
static int grow(struct key_index *idx)
{
	size_t count = idx->bucket_count == 0 ? FIRST_BUCKETS : idx->bucket_count * 2;
	if (count > SIZE_MAX / sizeof(*idx->buckets))
		return -ENOMEM;
	struct key_index_node **fresh = calloc(count, sizeof(*fresh));
	if (fresh == NULL)
		return -ENOMEM;
	for (size_t b = 0; b < idx->bucket_count; b++) {
		while (idx->buckets[b] != NULL) {
			struct key_index_node *n = idx->buckets[b];
			idx->buckets[b] = n->next;
			struct key_index_node **to = &fresh[hash_of(n->key_id) & (count - 1)];
			n->next = *to;
			*to = n;
		}
	}
	free(idx->buckets);
	idx->buckets = fresh;
	idx->bucket_count = count;
	return 0;
}

int key_index_add(struct key_index *idx, struct key_index_node *node)
{
	if (idx->count >= idx->bucket_count && grow(idx) != 0 && idx->bucket_count == 0)
		return -ENOMEM;
	struct key_index_node **b = bucket_of(idx, node->key_id);
	node->next = *b;
	*b = node;
	idx->count++;
	return 0;
}

void key_index_remove(struct key_index *idx, struct key_index_node *node)
{
	for (struct key_index_node **p = bucket_of(idx, node->key_id); *p != NULL;
	     p = &(*p)->next) {
		if (*p == node) {
			*p = node->next;
			idx->count--;
			return;
		}
	}
}

void key_index_free(struct key_index *idx)
{
	free(idx->buckets);
	memset(idx, 0, sizeof(*idx));
}
