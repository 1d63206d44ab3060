/*
 * Small helpers shared by the server module tests: hex decoding, scratch
 * directories, and a settable clock for the store.
 */
#ifndef PKCS11WSOP_TESTS_SERVER_TEST_UTIL_H
#define PKCS11WSOP_TESTS_SERVER_TEST_UTIL_H

#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Decodes hex text into out; returns the number of bytes, or 0 on a bad
 * digit or when out_cap is too small (tests use non-empty vectors only). */
static inline size_t tu_hex(const char *hex, uint8_t *out, size_t out_cap)
{
	size_t n = strlen(hex);
	if (n % 2 != 0 || n / 2 > out_cap)
		return 0;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return 0;
		out[i] = (uint8_t)v;
	}
	return n / 2;
}

/* A fresh directory under TMPDIR (or /tmp), 0700. Aborts the test program
 * on failure: nothing can be tested without it. */
static inline char *tu_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];
	snprintf(tmpl, sizeof(tmpl), "%s/wsopd-test-XXXXXX", base != NULL ? base : "/tmp");
	char *dir = mkdtemp(tmpl);
	if (dir == NULL) {
		perror("mkdtemp");
		abort();
	}
	return strdup(dir);
}

static inline int tu_rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* Removes dir and everything in it, then frees the string. */
static inline void tu_rmtree(char *dir)
{
	if (dir == NULL)
		return;
	(void)nftw(dir, tu_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

#endif
