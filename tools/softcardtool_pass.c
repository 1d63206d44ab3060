/*
 * Passphrase input for softcardtool (see softcardtool_pass.h).
 */
#include "tools/softcardtool_pass.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* The terminal state to put back, shared with the signal handler. Only one
 * prompt is ever active, so a single slot is enough. */
static struct termios saved_termios;
static volatile sig_atomic_t saved_fd = -1;

static const int restore_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };
#define N_RESTORE_SIGNALS (sizeof(restore_signals) / sizeof(restore_signals[0]))

static void restore_terminal(void)
{
	int fd = saved_fd;
	if (fd >= 0)
		(void)tcsetattr(fd, TCSAFLUSH, &saved_termios);
	saved_fd = -1;
}

/* Only async-signal-safe calls: put the echo back, then die (or stop) of
 * the same signal as if we had not caught it. */
static void on_signal(int sig)
{
	int saved_errno = errno;
	restore_terminal();
	(void)signal(sig, SIG_DFL);
	(void)raise(sig);
	errno = saved_errno;
}

bool sct_pass_is_terminal(int fd)
{
	return isatty(fd) == 1;
}

static void write_all(int fd, const char *text)
{
	size_t len = strlen(text);
	while (len > 0) {
		ssize_t n = write(fd, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		text += n;
		len -= (size_t)n;
	}
}

/* One line into out[0..SCT_PASS_BUF); returns its length without the
 * newline, or a negative errno. */
static int read_line(int fd, char out[SCT_PASS_BUF])
{
	size_t len = 0;
	bool any = false, too_long = false;
	for (;;) {
		char ch;
		ssize_t n = read(fd, &ch, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			if (!any)
				return -ENODATA;
			break;
		}
		any = true;
		if (ch == '\n')
			break;
		if (len < WSOP_PASSPHRASE_MAX)
			out[len++] = ch;
		else
			too_long = true;
		ch = 0;
	}
	if (len > 0 && out[len - 1] == '\r')
		len--;
	out[len] = '\0';
	if (too_long) {
		OPENSSL_cleanse(out, SCT_PASS_BUF);
		return -E2BIG;
	}
	return (int)len;
}

int sct_pass_read(int fd, const char *prompt, char out[SCT_PASS_BUF])
{
	if (!sct_pass_is_terminal(fd))
		return read_line(fd, out);

	struct termios quiet;
	if (tcgetattr(fd, &saved_termios) != 0)
		return -errno;
	quiet = saved_termios;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	quiet.c_lflag |= ICANON;

	struct sigaction sa, old[N_RESTORE_SIGNALS];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < N_RESTORE_SIGNALS; i++)
		(void)sigaction(restore_signals[i], &sa, &old[i]);

	saved_fd = fd;
	int rc;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		rc = -errno;
		saved_fd = -1;
	} else {
		write_all(STDERR_FILENO, prompt);
		rc = read_line(fd, out);
		/* The user's Enter was not echoed; end the prompt's line. */
		write_all(STDERR_FILENO, "\n");
		restore_terminal();
	}
	for (size_t i = 0; i < N_RESTORE_SIGNALS; i++)
		(void)sigaction(restore_signals[i], &old[i], NULL);
	return rc;
}
