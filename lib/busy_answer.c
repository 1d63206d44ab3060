/* The 503 check on an answer's first bytes; see busy_answer.h. */
#include "lib/busy_answer.h"

#include <string.h>

bool busy_answer(const uint8_t *p, size_t n)
{
	/* "HTTP/1.x 503" and the separator: 13 bytes. */
	if (!p || n < 13)
		return false;
	return memcmp(p, "HTTP/1.", 7) == 0 && (p[7] == '0' || p[7] == '1') &&
	       memcmp(p + 8, " 503", 4) == 0 && (p[12] == ' ' || p[12] == '\r');
}
