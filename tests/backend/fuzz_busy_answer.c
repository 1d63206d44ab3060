/* libFuzzer target of lib/busy_answer.h: any bytes, never a read past
 * them (ASan), and the answer agrees with a plain restatement of the rule. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/busy_answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool got = busy_answer(data, size);
	bool want =
	    size >= 13 &&
	    (memcmp(data, "HTTP/1.0 503", 12) == 0 || memcmp(data, "HTTP/1.1 503", 12) == 0) &&
	    (data[12] == ' ' || data[12] == '\r');
	if (got != want)
		abort();
	bool failed = failed_server_answer(data, size);
	bool want_failed = size >= 13 && memcmp(data, "HTTP/1.", 7) == 0 &&
	                   (data[7] == '0' || data[7] == '1') &&
	                   (memcmp(data + 8, " 500", 4) == 0 || memcmp(data + 8, " 502", 4) == 0 ||
	                    memcmp(data + 8, " 504", 4) == 0) &&
	                   (data[12] == ' ' || data[12] == '\r');
	if (failed != want_failed || (failed && got))
		abort();
	return 0;
}
