/* Parsing /proc/PID/stat and /proc/PID/status; see proc_stat.h. */
#include "bench/proc_stat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Fields of /proc/PID/stat after the command name, counted from 1 at the
 * state field (field 3 of proc(5)). */
#define F_PPID      2
#define F_UTIME     12
#define F_STIME     13
#define F_STARTTIME 20

/* A decimal number of at most 20 digits at *p, which moves past it. */
static int take_number(const char **p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (s == end || *s < '0' || *s > '9')
		return -EINVAL;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*out = v;
	return 0;
}

int proc_stat_parse(const char *text, size_t len, struct proc_stat *out)
{
	const char *end = text + len, *p = NULL;
	uint64_t v;

	if (len == 0 || len > PROC_TEXT_MAX)
		return -EINVAL;
	for (const char *q = text; q < end; q++) {
		if (*q == ')')
			p = q + 1;
	}
	if (p == NULL)
		return -EINVAL;
	*out = (struct proc_stat){ 0 };
	/* " S ppid ...": the state is one letter, every later field a number
	 * (signed ones such as priority are never among those read). */
	for (int field = 1; field <= F_STARTTIME; field++) {
		if (p == end || *p != ' ')
			return -EINVAL;
		p++;
		if (field == 1) {
			if (p == end || *p == ' ')
				return -EINVAL;
			p++;
			continue;
		}
		if (field != F_PPID && field != F_UTIME && field != F_STIME &&
		    field != F_STARTTIME) {
			while (p < end && *p != ' ' && *p != '\n')
				p++;
			continue;
		}
		if (take_number(&p, end, &v) != 0)
			return -EINVAL;
		if (field == F_PPID) {
			if (v > INT32_MAX)
				return -EINVAL;
			out->ppid = (pid_t)v;
		} else if (field == F_UTIME) {
			out->utime = v;
		} else if (field == F_STIME) {
			out->stime = v;
		} else {
			out->starttime = v;
		}
	}
	return 0;
}

int proc_status_hwm_parse(const char *text, size_t len, unsigned long *kib)
{
	static const char key[] = "VmHWM:";
	const char *end = text + len;
	uint64_t v;

	if (len > PROC_TEXT_MAX)
		return -EINVAL;
	for (const char *line = text; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *eol = nl != NULL ? nl : end;
		if ((size_t)(eol - line) >= sizeof(key) - 1 &&
		    memcmp(line, key, sizeof(key) - 1) == 0) {
			const char *p = line + sizeof(key) - 1;
			while (p < eol && (*p == ' ' || *p == '\t'))
				p++;
			if (take_number(&p, eol, &v) != 0 || v > (uint64_t)(unsigned long)-1)
				return -EINVAL;
			if (eol - p != 3 || memcmp(p, " kB", 3) != 0)
				return -EINVAL;
			*kib = (unsigned long)v;
			return 0;
		}
		line = eol + 1;
	}
	return -ENOENT;
}

/* The whole of /proc/PID/NAME into buf (at most PROC_TEXT_MAX bytes). */
static ssize_t read_proc_file(pid_t pid, const char *name, char *buf)
{
	char path[64];
	size_t got = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	while (got < PROC_TEXT_MAX) {
		ssize_t n = read(fd, buf + got, PROC_TEXT_MAX - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return e == ESRCH ? -ESRCH : -e;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return (ssize_t)got;
}

int proc_stat_read(pid_t pid, struct proc_stat *out)
{
	char buf[PROC_TEXT_MAX];
	ssize_t n = read_proc_file(pid, "stat", buf);

	return n < 0 ? (int)n : proc_stat_parse(buf, (size_t)n, out);
}

int proc_hwm_read(pid_t pid, unsigned long *kib)
{
	char buf[PROC_TEXT_MAX];
	ssize_t n = read_proc_file(pid, "status", buf);

	return n < 0 ? (int)n : proc_status_hwm_parse(buf, (size_t)n, kib);
}
