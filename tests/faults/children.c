/* Finding, killing and watching the helper children; see children.h. */
#include "tests/faults/children.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kernel keeps 15 characters of a program's name. */
#define COMM_MAX 15

/* The name the helper runs under: the base name of $PKCS11WSOP_HELPER
 * (what the module runs in the tests), cut as the kernel cuts it. */
static const char *helper_comm(void)
{
	static char comm[COMM_MAX + 1];
	if (comm[0] == '\0') {
		const char *path = getenv("PKCS11WSOP_HELPER");
		const char *base = path != NULL && strrchr(path, '/') ? strrchr(path, '/') + 1
		                                                      : "pkcs11wsop-helper";
		size_t n = strlen(base) < COMM_MAX ? strlen(base) : COMM_MAX;
		memcpy(comm, base, n);
		comm[n] = '\0';
	}
	return comm;
}

/* True when pid is a live (not zombie) process named like the helper. */
static bool is_live_helper(pid_t pid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	size_t len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	/* "pid (comm) state ...": comm may hold blanks and parentheses. */
	char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	if (open == NULL || close == NULL || close < open || close[1] != ' ')
		return false;
	*close = '\0';
	return strcmp(open + 1, helper_comm()) == 0 && close[2] != 'Z' && close[2] != 'X';
}

/* The live helpers among the children of every thread of this process. */
static unsigned list_helpers(pid_t *out, unsigned cap)
{
	unsigned n = 0;
	DIR *d = opendir("/proc/self/task");
	if (d == NULL)
		return 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char path[300];
		snprintf(path, sizeof(path), "/proc/self/task/%.255s/children", e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		for (int pid; n < cap && fscanf(f, "%d", &pid) == 1;)
			if (is_live_helper(pid))
				out[n++] = pid;
		fclose(f);
	}
	closedir(d);
	return n;
}

unsigned helper_watch_live(void)
{
	pid_t pids[HELPER_WATCH_MAX];
	return list_helpers(pids, HELPER_WATCH_MAX);
}

static bool contains(const pid_t *pids, unsigned n, pid_t pid)
{
	for (unsigned i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

void helper_watch_poll(struct helper_watch *w)
{
	pid_t now[HELPER_WATCH_MAX];
	unsigned live = list_helpers(now, HELPER_WATCH_MAX);

	/* Gone since the last poll: killed by us, or unexplained. Asked of
	 * the process itself: the children files can miss a live child while
	 * it moves to another thread of ours, whose spawning thread ended
	 * (proc(5): exact only while the children are stopped). */
	for (unsigned i = 0; i < w->n;) {
		if (contains(now, live, w->seen[i].pid) || is_live_helper(w->seen[i].pid)) {
			i++;
			continue;
		}
		if (!w->seen[i].killed) {
			w->unexplained++;
			fprintf(stderr, "faults: helper %d died without the test killing it\n",
			        (int)w->seen[i].pid);
		}
		w->seen[i] = w->seen[--w->n];
	}
	for (unsigned i = 0; i < live; i++) {
		bool known = false;
		for (unsigned k = 0; k < w->n && !known; k++)
			known = w->seen[k].pid == now[i];
		if (!known && w->n < HELPER_WATCH_MAX) {
			w->seen[w->n].pid = now[i];
			w->seen[w->n++].killed = false;
			w->spawned++;
		}
	}
}

pid_t helper_watch_kill(struct helper_watch *w)
{
	helper_watch_poll(w);
	for (unsigned i = 0; i < w->n; i++) {
		if (w->seen[i].killed)
			continue;
		/* Marked first: the poll that sees it gone must know why. */
		w->seen[i].killed = true;
		if (kill(w->seen[i].pid, SIGKILL) != 0) {
			w->seen[i].killed = false;
			continue;
		}
		w->kills++;
		return w->seen[i].pid;
	}
	return 0;
}

void helper_watch_for(struct helper_watch *w, unsigned ms, long long (*now_ms)(void))
{
	long long until = now_ms() + ms;
	for (;;) {
		helper_watch_poll(w);
		long long left = until - now_ms();
		if (left <= 0)
			return;
		usleep((useconds_t)(left < HELPER_WATCH_TICK_MS ? left : HELPER_WATCH_TICK_MS) *
		       1000);
	}
}
