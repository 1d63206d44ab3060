/* The logger; the contract is in log.h. */
#include "conf/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define IDENT_MAX    64
#define PATH_MAX_LEN 4096
/* "[yyyy-mm-dd hh:mm:ss] TRACE " + ident + " PID TID SESSION: " fits easily. */
#define HEADER_MAX (64 + IDENT_MAX + 3 * 24)

struct sinks {
	char ident[IDENT_MAX];
	int fd;        /* file sink, -1 when none */
	bool fd_owned; /* opened by us, so closed by us */
	bool to_stdout;
	bool to_stderr;
	bool to_syslog;
	int audit_facility;
};

/* Loggers take the lock shared, so lines from many threads go out in
 * parallel; opening and closing sinks takes it exclusive, so no fd is
 * closed under a writer. */
/* Writer-preferring, so that a stream of log lines cannot hold off
 * wlog_open() forever; no thread ever takes the lock twice. */
static pthread_rwlock_t lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static struct sinks sinks = { .ident = "pkcs11wsop", .fd = -1 };
/* Read without the lock by wlog_enabled(), the cheap test in every call. */
static atomic_int current_level = WLOG_NONE;
/* The last path whose opening failed, so that a process calling wlog_open()
 * again and again reports the same failure once. */
static char failed_path[PATH_MAX_LEN];

static const char *const level_names[] = { "NONE", "PANIC", "ERROR", "WARNING",
	                                   "INFO", "DEBUG", "TRACE" };

const char *wlog_level_name(int level)
{
	if (level < WLOG_NONE || level > WLOG_TRACE)
		return NULL;
	return level_names[level];
}

bool wlog_enabled(int level)
{
	return level >= WLOG_PANIC && level <= WLOG_TRACE &&
	       level <= atomic_load_explicit(&current_level, memory_order_relaxed);
}

/* Writes all of buf; one write(2) unless the kernel takes less. */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void report_open_failure(const char *path, int err)
{
	char msg[PATH_MAX_LEN + 128];
	int n;

	if (strcmp(failed_path, path) == 0)
		return;
	snprintf(failed_path, sizeof(failed_path), "%s", path);
	n = snprintf(msg, sizeof(msg),
	             "%s: cannot open log file %s: %s; set LOGFILEPATH in the configuration "
	             "to a file this user may write\n",
	             sinks.ident, path, strerror(err));
	if (n > 0)
		write_all(STDERR_FILENO, msg,
		          (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

/* Caller holds the lock exclusive. */
static void close_sinks_locked(void)
{
	if (sinks.fd >= 0 && sinks.fd_owned)
		close(sinks.fd);
	sinks.fd = -1;
	sinks.fd_owned = false;
	if (sinks.to_syslog)
		closelog();
	sinks.to_stdout = false;
	sinks.to_stderr = false;
	sinks.to_syslog = false;
}

static int clamp_level(int level)
{
	if (level < WLOG_NONE)
		return WLOG_NONE;
	if (level > WLOG_TRACE)
		return WLOG_TRACE;
	return level;
}

/* fork() while another thread logs would leave the child's copy of the
 * lock (or of localtime's or syslog's own locks, taken under it) held by
 * a thread that does not exist there, and the child's first line (or
 * wlog_open) would wait forever. So fork waits for the lock (prepare), and
 * the child starts with a fresh one: re-initialised, since the owner
 * recorded in a held rwlock is the parent's thread. */
static void fork_prepare(void)
{
	pthread_rwlock_wrlock(&lock);
}

static void fork_parent(void)
{
	pthread_rwlock_unlock(&lock);
}

static void fork_child(void)
{
	static const pthread_rwlock_t fresh = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

	memcpy(&lock, &fresh, sizeof(lock));
}

static void register_fork_handlers(void)
{
	(void)pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void wlog_open(const struct wlog_config *cfg)
{
	static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
	int saved_errno = errno;
	int level;

	pthread_once(&fork_once, register_fork_handlers);

	/* The level is left as it was until the new sinks are in place: a
	 * writer that read it meanwhile waits on the lock and then writes to
	 * the new sinks, so reopening loses no line. emit() checks the level
	 * again under the lock. */
	pthread_rwlock_wrlock(&lock);
	close_sinks_locked();
	level = cfg == NULL ? WLOG_NONE : clamp_level(cfg->level);
	/* Logging off: create no file and open no syslog connection. */
	if (level == WLOG_NONE)
		goto out;

	snprintf(sinks.ident, sizeof(sinks.ident), "%s",
	         cfg->ident != NULL && cfg->ident[0] != '\0' ? cfg->ident : "pkcs11wsop");
	if (cfg->file_path != NULL && cfg->file_path[0] != '\0') {
		int fd = open(cfg->file_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
		              0600);
		if (fd < 0) {
			report_open_failure(cfg->file_path, errno);
		} else {
			sinks.fd = fd;
			sinks.fd_owned = true;
			failed_path[0] = '\0';
		}
	}
	sinks.to_stdout = cfg->to_stdout;
	sinks.to_stderr = cfg->to_stderr;
	if (cfg->to_syslog) {
		/* openlog keeps the pointer: sinks.ident lives as long as we do. */
		openlog(sinks.ident, LOG_PID, LOG_USER);
		sinks.to_syslog = true;
		sinks.audit_facility =
		    cfg->audit_facility != 0 ? cfg->audit_facility : LOG_AUTHPRIV;
	}
out:
	atomic_store(&current_level, level);
	pthread_rwlock_unlock(&lock);
	errno = saved_errno;
}

void wlog_use_fd(int fd)
{
	pthread_rwlock_wrlock(&lock);
	if (sinks.fd >= 0 && sinks.fd_owned)
		close(sinks.fd);
	sinks.fd = fd >= 0 ? fd : -1;
	sinks.fd_owned = false;
	pthread_rwlock_unlock(&lock);
}

void wlog_close(void)
{
	int saved_errno = errno;

	pthread_rwlock_wrlock(&lock);
	close_sinks_locked();
	atomic_store(&current_level, WLOG_NONE);
	pthread_rwlock_unlock(&lock);
	errno = saved_errno;
}

static int syslog_priority(int level)
{
	switch (level) {
	case WLOG_PANIC:
		/* not LOG_EMERG: a library must not broadcast to every terminal */
		return LOG_CRIT;
	case WLOG_ERROR:
		return LOG_ERR;
	case WLOG_WARNING:
		return LOG_WARNING;
	case WLOG_INFO:
		return LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

/* One line is one call: a newline inside a message would let a caller's
 * text forge a line of its own. */
static void flatten(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\n' || *s == '\r')
			*s = ' ';
	}
}

/* audit: in syslog at the audit facility instead of the one given to openlog. */
static void emit(int level, unsigned long session, bool audit, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void emit(int level, unsigned long session, bool audit, const char *fmt, va_list ap)
{
	char line[HEADER_MAX + WLOG_LINE_MAX + 1];
	char stamp[32] = "0000-00-00 00:00:00";
	int saved_errno = errno;
	time_t now = time(NULL);
	struct tm tm;
	int hlen, mlen;
	size_t len;

	pthread_rwlock_rdlock(&lock);
	if (level > atomic_load(&current_level)) {
		pthread_rwlock_unlock(&lock);
		errno = saved_errno;
		return;
	}
	/* Under the lock, like every C library call here that takes a lock
	 * of its own (localtime's, syslog's): fork waits for the lock, so a
	 * child never inherits one of those held (see fork_prepare). */
	if (localtime_r(&now, &tm) != NULL)
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	if (level == WLOG_TRACE)
		hlen = snprintf(line, HEADER_MAX, "[%s] TRACE %s %d %d %lu: ", stamp, sinks.ident,
		                (int)getpid(), (int)gettid(), session);
	else
		hlen = snprintf(line, HEADER_MAX, "[%s] %s %s %d: ", stamp, level_names[level],
		                sinks.ident, (int)getpid());
	if (hlen < 0 || hlen >= HEADER_MAX)
		goto out;

	/* The message is cut at WLOG_LINE_MAX - 1 bytes; vsnprintf stops there. */
	errno = saved_errno; /* so that %m in fmt names the caller's error */
	mlen = vsnprintf(line + hlen, WLOG_LINE_MAX, fmt, ap);
	if (mlen < 0)
		goto out;
	flatten(line + hlen);
	len = strlen(line);
	line[len++] = '\n';

	if (sinks.fd >= 0)
		write_all(sinks.fd, line, len);
	if (sinks.to_stdout)
		write_all(STDOUT_FILENO, line, len);
	if (sinks.to_stderr)
		write_all(STDERR_FILENO, line, len);
	if (sinks.to_syslog) {
		/* syslog adds its own time, ident and pid */
		line[len - 1] = '\0';
		if (audit)
			syslog(sinks.audit_facility | syslog_priority(level), "%s", line + hlen);
		else if (level == WLOG_TRACE)
			syslog(syslog_priority(level), "%d %lu: %s", (int)gettid(), session,
			       line + hlen);
		else
			syslog(syslog_priority(level), "%s", line + hlen);
	}
out:
	pthread_rwlock_unlock(&lock);
	errno = saved_errno;
}

void wlogv(int level, const char *fmt, va_list ap)
{
	if (!wlog_enabled(level) || fmt == NULL)
		return;
	emit(level, 0, false, fmt, ap);
}

void wlog(int level, const char *fmt, ...)
{
	va_list ap;

	if (!wlog_enabled(level) || fmt == NULL)
		return;
	va_start(ap, fmt);
	emit(level, 0, false, fmt, ap);
	va_end(ap);
}

static void emit_audit(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit_audit(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(level, 0, true, fmt, ap);
	va_end(ap);
}

void wlog_audit(int level, const char *text)
{
	if (!wlog_enabled(level) || text == NULL)
		return;
	emit_audit(level, "%s", text);
}

void wlog_trace(unsigned long session, const char *fmt, ...)
{
	va_list ap;

	if (!wlog_enabled(WLOG_TRACE) || fmt == NULL)
		return;
	va_start(ap, fmt);
	emit(WLOG_TRACE, session, false, fmt, ap);
	va_end(ap);
}
