/*
 * Running a body in a forked child and reading how it ended. cmocka's
 * asserts must not run in a child (they would report into a copy of the
 * runner), so bodies signal failure with distinct _exit() codes instead.
 */
#ifndef PKCS11WSOP_TESTS_SECURITY_CHILD_H
#define PKCS11WSOP_TESTS_SECURITY_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

/* ASan's runtime makes syscalls of its own (madvise on its shadow and
 * allocator mappings, the leak checker's clone+ptrace at _exit) that the
 * production policy rightly kills, so a confined child could die of the
 * runtime before reaching what a test checks. The confined tests skip
 * themselves under it rather than widen the policy. */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_UNDER_ASAN 1
#endif
#endif
#ifndef TEST_UNDER_ASAN
#define TEST_UNDER_ASAN 0
#endif

/* In a cmocka test: skip it, saying why, when built with ASan. */
#define SKIP_UNDER_ASAN()                                                                          \
	do {                                                                                       \
		if (TEST_UNDER_ASAN) {                                                             \
			print_message("skipped: ASan's runtime needs syscalls the helper's "       \
			              "policy kills\n");                                           \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/* Exit code of a child whose sandbox_confine() failed. */
#define CHILD_CONFINE_FAILED 90

/* Forks; the child runs body(arg) and _exit(0)s if it returns. Returns the
 * child's pid (the caller waits), or -1. */
pid_t child_start(void (*body)(void *), void *arg);

/* Waits for pid; returns its raw wait status, or -1. */
int child_wait(pid_t pid);

/* child_start + child_wait. */
int child_run(void (*body)(void *), void *arg);

/* Confines the calling child or _exit(CHILD_CONFINE_FAILED)s. */
void child_confine(void);

bool child_exited_with(int status, int code);
bool child_killed_by(int status, int sig);

#endif
