/*
 * What the object store needs of the module, without a server: the leaf
 * (lib/p11_core.h) attached with a pthread table lock and no backend, its
 * clients talking to an in-memory server, slot records made
 * by the real slot table from the softcard listing that server answers,
 * and token objects to put.
 *
 * The in-memory server answers GET /km/v1/protectiondomains with
 * FX_SOFTCARDS softcards and GET .../objects/{id} with a data object whose
 * value is FX_VALUE, or 404 not_found while fx_set_objects_gone(true).
 * Anything else it answers 500.
 *
 * Every function aborts the program when the environment fails (no
 * memory, a listing that does not decode): that is no result to test.
 */
#ifndef PKCS11WSOP_TESTS_OBJSTORE_FIXTURE_H
#define PKCS11WSOP_TESTS_OBJSTORE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>

#include "lib/p11_attrs.h"

struct p11_slot;

#define FX_SOFTCARDS 4
#define FX_VALUE     "hello"

/* Locks, an empty object store and FX_SOFTCARDS slots, all logged out. */
void fx_start(void);
/* Frees what fx_start made (the object store too). */
void fx_stop(void);

struct p11_slot *fx_slot(size_t i);
void fx_login(struct p11_slot *slot);
void fx_logout(struct p11_slot *slot);

/* Object n of softcard i: a key (path from n), a data object without its
 * value as a listing gives it, or a data object with its value. Free with
 * p11_object_free. */
void fx_key(struct p11_object *o, size_t i, unsigned n);
void fx_data(struct p11_object *o, size_t i, unsigned n, bool with_value);

void fx_set_objects_gone(bool gone);
/* Requests the in-memory server answered. */
unsigned long fx_requests(void);

#endif
