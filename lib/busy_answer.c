/* The 503 check on an answer's first bytes; see busy_answer.h. */
#include "lib/busy_answer.h"

#include <string.h>

/* Whether p[0..n) starts with "HTTP/1.x " + status + a blank or CR. */
static bool status_is(const uint8_t *p, size_t n, const char status[4])
{
	/* "HTTP/1.x 503" and the separator: 13 bytes. */
	if (p == NULL || n < 13)
		return false;
	return memcmp(p, "HTTP/1.", 7) == 0 && (p[7] == '0' || p[7] == '1') && p[8] == ' ' &&
	       memcmp(p + 9, status, 3) == 0 && (p[12] == ' ' || p[12] == '\r');
}

bool busy_answer(const uint8_t *p, size_t n)
{
	return status_is(p, n, "503");
}

bool failed_server_answer(const uint8_t *p, size_t n)
{
	return status_is(p, n, "500") || status_is(p, n, "502") || status_is(p, n, "504");
}
