/*
 * The one growable array of the tree: every table and list that grows
 * does it through grow_to(), so the doubling, the overflow check and the
 * bound are written once.
 *
 * Contract: grow_to() makes *items (an array of elem_size-byte elements
 * with room for *cap) hold at least `need` elements, doubling from 8 and
 * never past `max` elements. 0 (also when there was room already),
 * -E2BIG when need > max, -ENOMEM; on failure *items and *cap are
 * unchanged (the caller still owns the old array).
 */
#ifndef PKCS11WSOP_IPC_GROW_H
#define PKCS11WSOP_IPC_GROW_H

#include <stddef.h>

int grow_to(void **items, size_t *cap, size_t need, size_t elem_size, size_t max);

#endif
