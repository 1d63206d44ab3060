/* Reading /proc/<pid>/status; see proc_status.h. */
#include "tests/helper/proc_status.h"

#include <stdio.h>
#include <string.h>

bool proc_status_field(pid_t pid, const char *field, char *out, size_t cap)
{
	char path[64], line[256];
	size_t n = strlen(field);
	bool found = false;

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/status");
	else
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	out[0] = '\0';
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, field, n) == 0 && line[n] == ':') {
			const char *v = line + n + 1 + strspn(line + n + 1, " \t");
			snprintf(out, cap, "%.*s", (int)strcspn(v, "\n"), v);
			found = true;
		}
	}
	fclose(f);
	return found;
}
