/* See grow.h. */
#include "ipc/grow.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#define GROW_FIRST 8

int grow_to(void **items, size_t *cap, size_t need, size_t elem_size, size_t max)
{
	if (need <= *cap)
		return 0;
	if (need > max || elem_size == 0 || max > SIZE_MAX / elem_size)
		return -E2BIG;
	size_t ncap = *cap < GROW_FIRST ? GROW_FIRST : *cap;
	while (ncap < need)
		ncap = ncap > max / 2 ? max : ncap * 2;
	if (ncap > max)
		ncap = max;
	void *p = realloc(*items, ncap * elem_size);
	if (p == NULL)
		return -ENOMEM;
	*items = p;
	*cap = ncap;
	return 0;
}
