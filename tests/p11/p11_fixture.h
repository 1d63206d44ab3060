/*
 * What the PKCS #11 module tests share: the module loaded with dlopen()
 * from $PKCS11WSOP_MODULE, a real wsopd (tests/e2e harness), a config file
 * pointing at the harness's PKI (PKCS11WSOP_CONF) and the real helper
 * ($PKCS11WSOP_HELPER, set by meson).
 *
 * Contract:
 *  - p11_fixture_open() loads the module and returns its function list, or
 *    NULL with the reason on stderr. p11_fixture_write_config() writes
 *    DIR/pkcs11wsop.cfg for server srv (log at TRACE into DIR/p11.log) and
 *    points PKCS11WSOP_CONF at it.
 *  - P11_CONFINED_HELPER_USABLE is 0 in sanitizer builds: the confined
 *    helper of such a build is killed by its own runtime (madvise), so
 *    tests that need it skip with a message. p11_helper_usable() is true
 *    there all the same when PKCS11WSOP_TEST_PLAIN_HELPER=1 says that
 *    $PKCS11WSOP_HELPER is an unsanitized build (so that the module's own
 *    code can still be run under the sanitizers by hand).
 *  - p11_count_children() counts the live and zombie children of this
 *    process (from /proc), to prove no helper is left behind.
 */
#ifndef PKCS11WSOP_TESTS_P11_FIXTURE_H
#define PKCS11WSOP_TESTS_P11_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>

#include "tests/e2e/e2e.h"

#if defined(__SANITIZE_ADDRESS__)
#define P11_CONFINED_HELPER_USABLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define P11_CONFINED_HELPER_USABLE 0
#endif
#endif
#ifndef P11_CONFINED_HELPER_USABLE
#define P11_CONFINED_HELPER_USABLE 1
#endif

CK_FUNCTION_LIST *p11_fixture_open(void **handle);
int p11_fixture_write_config(const struct e2e_server *srv, const char *dir, char *path_out,
                             size_t cap);
int p11_count_children(void);
bool p11_helper_usable(void);

#endif
