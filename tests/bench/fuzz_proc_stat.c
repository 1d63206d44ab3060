/*
 * libFuzzer target for the /proc readers of bench/proc_stat.c. The input
 * is copied into a buffer of exactly its size, so AddressSanitizer sees
 * any read past the length; a parse that succeeds must give fields that
 * the text holds (a start time parsed from nothing would be a bug).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/proc_stat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	struct proc_stat st;
	unsigned long kib;
	int r;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	r = proc_stat_parse(text, size, &st);
	if (r != 0 && r != -EINVAL)
		abort();
	if (r == 0 && (size == 0 || memchr(text, ')', size) == NULL || st.ppid < 0))
		abort();
	r = proc_status_hwm_parse(text, size, &kib);
	if (r != 0 && r != -EINVAL && r != -ENOENT)
		abort();
	if (r == 0 && (size < 10 || memmem(text, size, "VmHWM:", 6) == NULL))
		abort();
	free(text);
	return 0;
}
