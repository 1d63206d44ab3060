/* libFuzzer target: audit lines built from arbitrary values (labels are
 * application data). Besides the sanitizers, it reads each line back and
 * checks that it is one line of printable ASCII within its bound, that no
 * value added or hid a field, and that every value present reads back as
 * given (cut at AUDIT_VALUE_MAX only when the line says truncated=1). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/audit.h"
#include "tests/conf/audit_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VALUES_MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct audit_line a;
	static char back[AUDIT_LINE_MAX];
	size_t count, chunk;

	if (size == 0)
		return 0;
	count = (size_t)(data[0] % VALUES_MAX) + 1;
	data++;
	size--;
	chunk = size / count;
	audit_begin(&a, "fuzz", AUDIT_FAILURE);
	for (size_t i = 0; i < count; i++) {
		char key[8];
		snprintf(key, sizeof(key), "v%zu", i);
		audit_mem(&a, key, data + i * chunk, i + 1 == count ? size - i * chunk : chunk);
	}
	const char *text = audit_finish(&a);
	if (strlen(text) != a.len || a.len >= AUDIT_LINE_MAX)
		abort();
	for (size_t i = 0; i < a.len; i++)
		if (text[i] < 0x20 || text[i] > 0x7e)
			abort();
	if (audit_count_fields(text, "outcome", back, sizeof(back)) != 1 ||
	    strcmp(back, "failure") != 0)
		abort();
	for (size_t i = 0; i < count; i++) {
		char key[8];
		size_t len = i + 1 == count ? size - i * chunk : chunk;
		snprintf(key, sizeof(key), "v%zu", i);
		int n = audit_count_fields(text, key, back, sizeof(back));
		if (n < 0 || n > 1 || (n == 0 && !a.truncated))
			abort();
		/* back is text: compare up to the first NUL of the value */
		if (n == 1 && strncmp(back, (const char *)data + i * chunk,
		                      len < AUDIT_VALUE_MAX ? len : AUDIT_VALUE_MAX) != 0)
			abort();
	}
	return 0;
}
