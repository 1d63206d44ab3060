#include "security/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Highest fd number the last-resort loop visits when RLIMIT_NOFILE is
 * unlimited: past this the loop would take seconds for nothing. */
#define FD_SCAN_CAP (1u << 20)

static bool is_kept(int fd, const int *keep, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (keep[i] == fd)
			return true;
	}
	return false;
}

/* Smallest kept fd >= from, or -1. */
static int next_kept(unsigned int from, const int *keep, size_t n)
{
	int best = -1;
	for (size_t i = 0; i < n; i++) {
		if (keep[i] >= 0 && (unsigned int)keep[i] >= from && (best < 0 || keep[i] < best))
			best = keep[i];
	}
	return best;
}

static int close_range_raw(unsigned int first, unsigned int last)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, first, last, 0u) == 0)
		return 0;
	return -errno;
#else
	(void)first;
	(void)last;
	return -ENOSYS;
#endif
}

/* Closes the gaps between kept fds, one close_range per gap. */
static int close_gaps(const int *keep, size_t n)
{
	unsigned int from = 0;
	for (;;) {
		int kept = next_kept(from, keep, n);
		if (kept < 0)
			return close_range_raw(from, UINT_MAX);
		if ((unsigned int)kept > from) {
			int rc = close_range_raw(from, (unsigned int)kept - 1);
			if (rc != 0)
				return rc;
		}
		from = (unsigned int)kept + 1;
	}
}

static int parse_fd(const char *name)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(name, &end, 10);
	if (errno != 0 || end == name || *end != '\0' || v < 0 || v > INT_MAX)
		return -1;
	return (int)v;
}

/* Closing while reading is safe: /proc/self/fd lists the fds open at each
 * getdents call, ordered by number, so closing ones already passed skips
 * nothing. */
static int close_listed(const int *keep, size_t n)
{
	DIR *dir = opendir("/proc/self/fd");
	if (dir == NULL)
		return -errno;
	int own = dirfd(dir);
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL) {
		int fd = parse_fd(entry->d_name);
		if (fd < 0 || fd == own || is_kept(fd, keep, n))
			continue;
		(void)close(fd);
	}
	(void)closedir(dir);
	return 0;
}

static int close_all_numbers(const int *keep, size_t n)
{
	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
		return -errno;
	rlim_t top = lim.rlim_cur;
	if (top == RLIM_INFINITY || top > FD_SCAN_CAP)
		top = FD_SCAN_CAP;
	for (rlim_t fd = 0; fd < top; fd++) {
		if (!is_kept((int)fd, keep, n))
			(void)close((int)fd);
	}
	return 0;
}

int sandbox_close_fds_except(const int *keep, size_t n)
{
	if (keep == NULL && n > 0)
		return -EINVAL;
	int rc = close_gaps(keep, n);
	if (rc == 0)
		return 0;
	/* ENOSYS: kernel before 5.9; EPERM: a container's own filter. */
	if (rc != -ENOSYS && rc != -EPERM)
		return rc;
	if (close_listed(keep, n) == 0)
		return 0;
	return close_all_numbers(keep, n);
}

static int null_one(int fd)
{
	if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
		return 0;
	int null_fd = open("/dev/null", O_RDWR);
	if (null_fd < 0)
		return -errno;
	if (null_fd == fd)
		return 0;
	int rc = dup2(null_fd, fd) < 0 ? -errno : 0;
	(void)close(null_fd);
	return rc;
}

int sandbox_null_stdio(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int rc = null_one(fd);
		if (rc != 0)
			return rc;
	}
	return 0;
}
