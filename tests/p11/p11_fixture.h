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
 *    process (from /proc), to prove no helper is left behind;
 *    p11_helper_child() is the pid of a live child helper (0 when none).
 *  - struct p11_fx is the group fixture of the module tests. p11_fx_setup()
 *    loads the module into it; then, when p11_helper_usable(), starts wsopd,
 *    connects to it as E2E_CLIENT and writes the config (above) into the
 *    e2e temp dir. It returns 0 when all is up, 1 when only the module is
 *    loaded (no usable helper), -1 on failure. p11_fx_teardown() undoes
 *    whatever of it was done; p11_fx_rewrite_config() writes the config
 *    again (after a wsopd restart, which may change the port).
 *    p11_fx_setup_card() is p11_fx_setup() and, when all is up, a new
 *    softcard name with passphrase pin (its id into card): it returns 1
 *    when the card is made, 0 when only the module is loaded, -1 on
 *    failure (the return a cmocka group setup wants when not 1).
 *  - p11_fx_login_session() is the start of a group setup that wants one
 *    logged-in session: C_Initialize, a read-write session on the token of
 *    card name (its slot into *slot), C_Login as the user with pin. It
 *    returns 0, or -1 through p11_setup_failed(), which says on stderr the
 *    step and CK_RV that failed.
 *  - p11_slot_of() asserts that there are at most P11_MAX_SLOTS tokens and
 *    that one's label is name (blank padded), and returns its slot.
 *  - P11_SKIP_UNLESS(ok) skips the running cmocka test, saying why, when
 *    the confined helper is not there (ok false); P11_NEED_HELPER() is that
 *    for p11_helper_usable(). Both need cmocka.h in the including file.
 *  - p11_encrypt_once() runs one AES-CBC C_EncryptInit + C_Encrypt of 16
 *    bytes with key on s; p11_generate_aes() one C_GenerateKey of a
 *    256-bit private token key labelled label that encrypts and decrypts.
 *    Both return the CK_RV and assert nothing (forked children use them).
 *  - p11_main() is main() of a module test: e2e_main_group() with the
 *    module's group fixture.
 */
#ifndef PKCS11WSOP_TESTS_P11_FIXTURE_H
#define PKCS11WSOP_TESTS_P11_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include <p11-kit/pkcs11.h>

#include "tests/e2e/e2e.h"
#include "tests/e2e/under_asan.h"

#define P11_CONFINED_HELPER_USABLE (!UNDER_ASAN)

#define P11_MAX_SLOTS 64

#define P11_SKIP_UNLESS(ok)                                                                        \
	do {                                                                                       \
		if (!(ok)) {                                                                       \
			printf("skipped: the confined helper cannot run in a sanitizer build\n");  \
			skip();                                                                    \
		}                                                                                  \
	} while (0)
#define P11_NEED_HELPER() P11_SKIP_UNLESS(p11_helper_usable())

struct p11_fx {
	void *dl;
	CK_FUNCTION_LIST *f;
	struct e2e_server srv;
	struct direct_tls *conn;
	char config[E2E_PATH_MAX + 32];
};

CK_FUNCTION_LIST *p11_fixture_open(void **handle);
int p11_fixture_write_config(const struct e2e_server *srv, const char *dir, char *path_out,
                             size_t cap);
int p11_count_children(void);
pid_t p11_helper_child(void);
bool p11_helper_usable(void);

int p11_fx_setup(struct p11_fx *fx);
int p11_fx_setup_card(struct p11_fx *fx, const char *name, const char *pin, char card[41]);
void p11_fx_teardown(struct p11_fx *fx);
int p11_fx_rewrite_config(struct p11_fx *fx);
int p11_setup_failed(const char *what, CK_RV rv);
int p11_fx_login_session(struct p11_fx *fx, const char *name, const char *pin, CK_SLOT_ID *slot,
                         CK_SESSION_HANDLE *s);
CK_SLOT_ID p11_slot_of(CK_FUNCTION_LIST *f, const char *name);
CK_RV p11_encrypt_once(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key);
CK_RV p11_generate_aes(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, const char *label,
                       CK_OBJECT_HANDLE *out);

#define p11_main(name, tests, setup, teardown)                                                     \
	e2e_main_group((name), (tests), sizeof(tests) / sizeof((tests)[0]), (setup), (teardown))

#endif
