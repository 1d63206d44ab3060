/*
 * PIN input for cklist: the terminal (echo off) or a stream.
 */
#include "ck_pin.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* Reads one line from fd byte by byte, so that nothing after the line is
 * consumed; the line end is dropped. */
static int read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;
	int got_any = 0;

	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			OPENSSL_cleanse(buf, size);
			return -errno;
		}
		if (n == 0) {
			if (!got_any)
				return -ENODATA;
			break;
		}
		got_any = 1;
		if (c == '\n')
			break;
		if (len + 1 >= size) {
			OPENSSL_cleanse(buf, size);
			OPENSSL_cleanse(&c, sizeof(c));
			return -EMSGSIZE;
		}
		buf[len++] = c;
		OPENSSL_cleanse(&c, sizeof(c));
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return (int)len;
}

int ck_pin_from_tty(const char *prompt, char *buf, size_t size)
{
	struct termios saved, quiet;
	int fd, rc, echo_off = 0;

	if (size == 0)
		return -EMSGSIZE;
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -ENXIO;
	if (tcgetattr(fd, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		echo_off = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		rc = -errno;
	} else {
		rc = read_line(fd, buf, size);
		/* The user's Enter was not echoed: end the prompt line. */
		if (write(fd, "\n", 1) < 0 && rc >= 0)
			rc = -errno;
	}
	if (echo_off)
		(void)tcsetattr(fd, TCSAFLUSH, &saved);
	close(fd);
	if (rc < 0)
		OPENSSL_cleanse(buf, size);
	return rc;
}

int ck_pin_from_stream(FILE *in, char *buf, size_t size)
{
	int rc;

	if (size == 0)
		return -EMSGSIZE;
	/* Unbuffered read of the descriptor: stdio would keep a copy of the
	 * PIN in its buffer. */
	rc = read_line(fileno(in), buf, size);
	return rc;
}
