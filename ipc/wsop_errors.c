/* The WSOP error table; see wsop_errors.h. */
#include "ipc/wsop_errors.h"

#include <stddef.h>
#include <string.h>

static const struct {
	const char *name;
	int status;
	CK_RV ckr;
} rows[WSOP_E_COUNT] = {
#define WSOP_ERROR_ROW(id, n, s, r) [WSOP_E_##id] = { n, s, r },
	WSOP_ERROR_TABLE(WSOP_ERROR_ROW)
#undef WSOP_ERROR_ROW
};

static enum wsop_error valid(enum wsop_error e)
{
	return (unsigned)e < WSOP_E_COUNT ? e : WSOP_E_INTERNAL;
}

const char *wsop_error_name(enum wsop_error e)
{
	return rows[valid(e)].name;
}

int wsop_error_status(enum wsop_error e)
{
	return rows[valid(e)].status;
}

CK_RV wsop_error_ckr(enum wsop_error e)
{
	return rows[valid(e)].ckr;
}

bool wsop_error_lookup(const char *name, enum wsop_error *out)
{
	if (name == NULL)
		return false;
	for (size_t i = 0; i < WSOP_E_COUNT; i++) {
		if (strcmp(rows[i].name, name) == 0) {
			if (out != NULL)
				*out = (enum wsop_error)i;
			return true;
		}
	}
	return false;
}
