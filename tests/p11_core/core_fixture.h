/*
 * The module's tables without a helper or a server: the leaf attached with
 * a lock and no backend (every round trip then fails with CKR_HOST_MEMORY
 * before anything is sent), and softcard listings installed directly.
 */
#ifndef PKCS11WSOP_TESTS_P11_CORE_FIXTURE_H
#define PKCS11WSOP_TESTS_P11_CORE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

#include "ipc/wsop_json.h"

/* cmocka group or test setup/teardown: empty tables, module attached. */
int core_setup(void **state);
int core_teardown(void **state);

/* A softcard whose id is prefix followed by fill up to 40 hex digits. */
struct wsop_softcard core_card(const char *prefix, char fill, const char *name);

/* The slot id a softcard whose id starts with prefix (7 hex digits) gets
 * when nothing collides with it. */
CK_SLOT_ID core_slot_of_prefix(const char *prefix);

/* Installs one softcard and answers its slot id. */
CK_SLOT_ID core_one_slot(const char *prefix);

/* Logs slot's token in locally (a token of its own, no round trip). */
void core_login(CK_SLOT_ID id);

#endif
