/* CPU time of the benchmark's processes; see cpu_usage.h. */
#include "bench/cpu_usage.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench/proc_stat.h"

/* Every process on the machine with its parent: one scan of /proc. */
struct proc_list {
	pid_t *pid, *ppid;
	size_t n, cap;
};

static int list_add(struct proc_list *l, pid_t pid, pid_t ppid)
{
	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 512 : l->cap * 2;
		if (cap > 1u << 22)
			return -E2BIG;
		pid_t *p = realloc(l->pid, cap * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		l->pid = p;
		p = realloc(l->ppid, cap * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		l->ppid = p;
		l->cap = cap;
	}
	l->pid[l->n] = pid;
	l->ppid[l->n] = ppid;
	l->n++;
	return 0;
}

static int scan_proc(struct proc_list *l)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int rc = 0;

	if (d == NULL)
		return -errno;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char *end;
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		long pid = strtol(e->d_name, &end, 10);
		struct proc_stat st;
		if (*end != '\0' || pid <= 0 || pid > INT32_MAX)
			continue;
		/* Gone since readdir, or unreadable: not ours to count. */
		if (proc_stat_read((pid_t)pid, &st) != 0)
			continue;
		rc = list_add(l, (pid_t)pid, st.ppid);
	}
	closedir(d);
	return rc;
}

static bool have(const struct cpu_usage *u, pid_t pid)
{
	for (unsigned i = 0; i < u->n; i++) {
		if (u->procs[i].pid == pid)
			return true;
	}
	return false;
}

static int add(struct cpu_usage *u, pid_t pid, int group)
{
	if (have(u, pid))
		return 0;
	if (u->n == CPU_PROCS_MAX)
		return -E2BIG;
	u->procs[u->n++] = (struct cpu_proc){ .pid = pid, .group = group };
	return 0;
}

/* Adds every descendant of the processes already in u (of the group of
 * the one it descends from), until no more are found. */
static int add_descendants(struct cpu_usage *u, const struct proc_list *l)
{
	for (unsigned i = 0; i < u->n; i++) {
		int group = u->procs[i].group == CPU_SELF ? CPU_CHILDREN : u->procs[i].group;
		for (size_t j = 0; j < l->n; j++) {
			if (l->ppid[j] != u->procs[i].pid)
				continue;
			int rc = add(u, l->pid[j], group);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

static uint64_t reaped_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

int cpu_usage_start(struct cpu_usage *u, const pid_t *roots, unsigned n_roots)
{
	struct proc_list l = { 0 };
	int rc;

	memset(u, 0, sizeof(*u));
	if (n_roots > CPU_ROOTS_MAX)
		return -EINVAL;
	rc = add(u, getpid(), CPU_SELF);
	for (unsigned i = 0; rc == 0 && i < n_roots; i++)
		rc = add(u, roots[i], CPU_OTHERS);
	if (rc == 0)
		rc = scan_proc(&l);
	if (rc == 0)
		rc = add_descendants(u, &l);
	free(l.pid);
	free(l.ppid);
	if (rc != 0)
		return rc;
	/* The samples themselves, after the scan: both reads cost the same. */
	for (unsigned i = 0; i < u->n; i++) {
		struct proc_stat st;
		if (proc_stat_read(u->procs[i].pid, &st) != 0) {
			u->procs[i].pid = 0; /* gone already */
			continue;
		}
		u->procs[i].starttime = st.starttime;
		u->procs[i].ticks = st.utime + st.stime;
	}
	u->reaped_us = reaped_us();
	return 0;
}

int cpu_usage_end(const struct cpu_usage *u, struct cpu_report *out)
{
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t ticks[CPU_GROUPS] = { 0 };

	memset(out, 0, sizeof(*out));
	if (hz <= 0)
		return -EINVAL;
	for (unsigned i = 0; i < u->n; i++) {
		const struct cpu_proc *p = &u->procs[i];
		struct proc_stat st;
		if (p->pid == 0 || proc_stat_read(p->pid, &st) != 0 ||
		    st.starttime != p->starttime || st.utime + st.stime < p->ticks)
			continue;
		ticks[p->group] += st.utime + st.stime - p->ticks;
		out->procs++;
		unsigned long kib;
		if (p->group == CPU_CHILDREN && proc_hwm_read(p->pid, &kib) == 0 &&
		    kib > out->child_hwm_kib)
			out->child_hwm_kib = kib;
	}
	for (int g = 0; g < CPU_GROUPS; g++)
		out->seconds[g] = (double)ticks[g] / (double)hz;
	uint64_t reaped = reaped_us();
	if (reaped > u->reaped_us)
		out->seconds[CPU_CHILDREN] += (double)(reaped - u->reaped_us) / 1e6;
	for (int g = 0; g < CPU_GROUPS; g++)
		out->total_s += out->seconds[g];
	return 0;
}
