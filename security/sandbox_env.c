#include "security/sandbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The zone glibc would pick with TZ unset, named explicitly so that TZ is
 * never unset: with TZ unset, every localtime() re-stats /etc/localtime. */
#define TZ_DEFAULT ":/etc/localtime"
/* Longer TZ values are not zones anyone uses; they fall back to the default. */
#define TZ_MAX 256

/* Copies the inherited TZ, or the default, into out[TZ_MAX]. */
static void choose_tz(char *out)
{
	const char *tz = getenv("TZ");
	if (tz == NULL || tz[0] == '\0' || strlen(tz) >= TZ_MAX)
		tz = TZ_DEFAULT;
	strcpy(out, tz);
}

int sandbox_pin_timezone(void)
{
	char tz[TZ_MAX];
	choose_tz(tz);
	if (setenv("TZ", tz, 1) != 0)
		return -errno;
	tzset();
	return 0;
}

int sandbox_clear_environment(void)
{
	char tz[TZ_MAX];
	choose_tz(tz);
	if (clearenv() != 0)
		return -ENOMEM;
	if (setenv("TZ", tz, 1) != 0)
		return -errno;
	return 0;
}
