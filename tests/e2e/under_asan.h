/*
 * UNDER_ASAN is 1 when this translation unit is built with AddressSanitizer
 * (gcc says so with __SANITIZE_ADDRESS__, clang with __has_feature), else 0.
 *
 * Tests that run the real confined helper need to know: ASan's runtime makes
 * syscalls (madvise, and clone+ptrace at exit) that the helper's seccomp
 * policy kills, and the helper of an ASan build carries that runtime.
 */
#ifndef PKCS11WSOP_TESTS_UNDER_ASAN_H
#define PKCS11WSOP_TESTS_UNDER_ASAN_H

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* True when the real helper cannot run for this test: an ASan build whose
 * environment does not hand it an unsanitized helper
 * (PKCS11WSOP_TEST_PLAIN_HELPER=1, set by meson -Dtest_helper=PATH). */
static inline bool confined_helper_unusable(void)
{
	const char *plain = getenv("PKCS11WSOP_TEST_PLAIN_HELPER");
	return UNDER_ASAN && !(plain != NULL && strcmp(plain, "1") == 0);
}

#endif
