/*
 * chan_send/chan_recv over a real SOCK_SEQPACKET socketpair: descriptor
 * passing, truncation, deadlines, a closed peer, and that no descriptor
 * leaks when a record is refused.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/channel.h"

struct pair {
	int lib;    /* the library's end */
	int helper; /* the helper's end */
};

static uint8_t rx[CHAN_MAX_FRAME];
static uint8_t big[CHAN_MAX_FRAME + 1];

static int open_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.') {
			n++;
		}
	}
	closedir(d);
	return n;
}

static int setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	int sv[2];

	if (p == NULL || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		free(p);
		return -1;
	}
	p->lib = sv[0];
	p->helper = sv[1];
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;

	if (p->lib >= 0) {
		close(p->lib);
	}
	if (p->helper >= 0) {
		close(p->helper);
	}
	free(p);
	return 0;
}

/* Sends a record with the given descriptors attached, without the codec. */
static void raw_send(int sock, const void *data, size_t len, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(16 * sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	assert_true(nfds <= 16);
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &msg, MSG_NOSIGNAL), (ssize_t)len);
}

static size_t encode(const struct chan_frame *f, uint8_t *buf, size_t cap)
{
	size_t len = 0;

	assert_int_equal(chan_encode(f, buf, cap, &len), 0);
	return len;
}

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000L + (now.tv_nsec - since->tv_nsec) / 1000000L;
}

static void connect_passes_a_usable_fd(void **state)
{
	struct pair *p = *state;
	struct chan_frame f = { CHAN_T_CONNECT, 0, 41, 0, (const uint8_t *)"localhost", 9 };
	struct chan_frame got;
	char host[CHAN_HOST_MAX + 1];
	char buf[8] = { 0 };
	int pipefd[2];
	int fd = -1;

	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	assert_int_equal(chan_send(p->lib, &f, pipefd[1], 1000), 0);
	/* The sender keeps its own descriptor; the helper gets a duplicate. */
	assert_int_equal(close(pipefd[1]), 0);
	assert_int_equal(chan_recv(p->helper, rx, sizeof(rx), CHAN_TO_HELPER, &got, &fd, 1000), 0);
	assert_int_equal(got.type, CHAN_T_CONNECT);
	assert_int_equal(got.id, 41);
	assert_int_equal(chan_payload_text(&got, host, sizeof(host)), 0);
	assert_string_equal(host, "localhost");
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(fd, "hello", 5), 5);
	close(fd);
	assert_int_equal(read(pipefd[0], buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	close(pipefd[0]);
}

static void answers_come_back_with_their_id(void **state)
{
	struct pair *p = *state;
	struct chan_frame ping = { CHAN_T_PING, 0, 7, 0, NULL, 0 };
	struct chan_frame pong = { CHAN_T_PONG, 0, 7, 0, NULL, 0 };
	struct chan_frame got;
	int fd = 5;

	assert_int_equal(chan_send(p->lib, &ping, -1, 1000), 0);
	assert_int_equal(chan_recv(p->helper, rx, sizeof(rx), CHAN_TO_HELPER, &got, &fd, 1000), 0);
	assert_int_equal(fd, -1);
	assert_int_equal(got.type, CHAN_T_PING);
	assert_int_equal(chan_send(p->helper, &pong, -1, 1000), 0);
	assert_int_equal(chan_recv(p->lib, rx, sizeof(rx), CHAN_TO_LIB, &got, NULL, 1000), 0);
	assert_int_equal(got.type, CHAN_T_PONG);
	assert_int_equal(got.id, 7);
}

static void largest_frame_crosses_the_socket(void **state)
{
	struct pair *p = *state;
	struct chan_frame f = { CHAN_T_SEND, CHAN_F_REPLY_DATA, 3, 9, big, CHAN_MAX_PAYLOAD };
	struct chan_frame got;
	int fd;

	for (size_t i = 0; i < CHAN_MAX_PAYLOAD; i++) {
		big[i] = (uint8_t)(i * 7);
	}
	assert_int_equal(chan_send(p->lib, &f, -1, 1000), 0);
	assert_int_equal(chan_recv(p->helper, rx, sizeof(rx), CHAN_TO_HELPER, &got, &fd, 1000), 0);
	assert_int_equal(got.len, CHAN_MAX_PAYLOAD);
	assert_int_equal(got.flags, CHAN_F_REPLY_DATA);
	assert_memory_equal(got.payload, big, CHAN_MAX_PAYLOAD);
}

static void oversized_record_is_truncated_and_refused(void **state)
{
	struct pair *p = *state;
	struct chan_frame pong = { CHAN_T_PONG, 0, 8, 0, NULL, 0 };
	struct chan_frame got;

	memset(big, 'z', sizeof(big));
	raw_send(p->helper, big, sizeof(big), NULL, 0);
	assert_int_equal(chan_recv(p->lib, rx, sizeof(rx), CHAN_TO_LIB, &got, NULL, 1000),
	                 -EMSGSIZE);
	/* The rest of that record is gone; the next one reads normally. */
	assert_int_equal(chan_send(p->helper, &pong, -1, 1000), 0);
	assert_int_equal(chan_recv(p->lib, rx, sizeof(rx), CHAN_TO_LIB, &got, NULL, 1000), 0);
	assert_int_equal(got.id, 8);
}

static void recv_times_out(void **state)
{
	struct pair *p = *state;
	struct chan_frame got;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(chan_recv(p->lib, rx, sizeof(rx), CHAN_TO_LIB, &got, NULL, 50),
	                 -ETIMEDOUT);
	assert_true(elapsed_ms(&t0) >= 49);
	assert_int_equal(chan_recv(p->lib, rx, sizeof(rx), CHAN_TO_LIB, &got, NULL, 0), -ETIMEDOUT);
}

static void send_times_out_when_peer_does_not_read(void **state)
{
	struct pair *p = *state;
	struct chan_frame f = { CHAN_T_SEND, 0, 1, 1, big, CHAN_MAX_PAYLOAD };
	int r;
	int sent = 0;

	memset(big, 'q', CHAN_MAX_PAYLOAD);
	/* The socket stays blocking: the deadline must hold anyway. */
	while ((r = chan_send(p->lib, &f, -1, 20)) == 0) {
		assert_true(++sent < 1000);
	}
	assert_int_equal(r, -ETIMEDOUT);
}

static void closed_peer_is_epipe(void **state)
{
	struct pair *p = *state;
	struct chan_frame ping = { CHAN_T_PING, 0, 1, 0, NULL, 0 };
	struct chan_frame got;

	close(p->helper);
	p->helper = -1;
	assert_int_equal(chan_recv(p->lib, rx, sizeof(rx), CHAN_TO_LIB, &got, NULL, 1000), -EPIPE);
	/* No SIGPIPE: the test process would die of it. */
	assert_int_equal(chan_send(p->lib, &ping, -1, 1000), -EPIPE);
}

static void empty_record_counts_as_closed(void **state)
{
	struct pair *p = *state;
	struct chan_frame got;
	int pipefd[2];
	int before;
	int fd;

	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	before = open_fd_count();
	raw_send(p->lib, "", 0, &pipefd[0], 1);
	assert_int_equal(chan_recv(p->helper, rx, sizeof(rx), CHAN_TO_HELPER, &got, &fd, 1000),
	                 -EPIPE);
	assert_int_equal(fd, -1);
	assert_int_equal(open_fd_count(), before);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void two_fds_are_refused_and_closed(void **state)
{
	struct pair *p = *state;
	struct chan_frame f = { CHAN_T_CONNECT, 0, 2, 0, (const uint8_t *)"localhost", 9 };
	struct chan_frame got;
	uint8_t rec[64];
	size_t len = encode(&f, rec, sizeof(rec));
	int pipefd[2];
	int before;
	int fd;

	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	before = open_fd_count();
	raw_send(p->lib, rec, len, pipefd, 2);
	assert_int_equal(chan_recv(p->helper, rx, sizeof(rx), CHAN_TO_HELPER, &got, &fd, 1000),
	                 -EBADMSG);
	assert_int_equal(fd, -1);
	assert_int_equal(open_fd_count(), before);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void many_fds_are_cut_refused_and_closed(void **state)
{
	struct pair *p = *state;
	struct chan_frame f = { CHAN_T_CONNECT, 0, 2, 0, (const uint8_t *)"localhost", 9 };
	struct chan_frame got;
	uint8_t rec[64];
	size_t len = encode(&f, rec, sizeof(rec));
	int fds[16];
	int before;
	int fd;

	for (size_t i = 0; i < 16; i += 2) {
		assert_int_equal(pipe2(&fds[i], O_CLOEXEC), 0);
	}
	before = open_fd_count();
	raw_send(p->lib, rec, len, fds, 16);
	assert_int_equal(chan_recv(p->helper, rx, sizeof(rx), CHAN_TO_HELPER, &got, &fd, 1000),
	                 -EMSGSIZE);
	assert_int_equal(fd, -1);
	assert_int_equal(open_fd_count(), before);
	for (size_t i = 0; i < 16; i++) {
		close(fds[i]);
	}
}

/* Opens a pipe into pipefd, then sends a SEND record with its read end
 * attached (where no descriptor belongs) on sock. Returns how many
 * descriptors were open before the send. */
static int send_with_stray_fd(int sock, int pipefd[2])
{
	struct chan_frame send = { CHAN_T_SEND, 0, 2, 1, (const uint8_t *)"x", 1 };
	uint8_t rec[64];
	int before;

	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	before = open_fd_count();
	raw_send(sock, rec, encode(&send, rec, sizeof(rec)), pipefd, 1);
	return before;
}

static void unexpected_fd_is_closed_and_refused(void **state)
{
	struct pair *p = *state;
	struct chan_frame data = { CHAN_T_DATA, 0, 2, 1, (const uint8_t *)"x", 1 };
	struct chan_frame got;
	uint8_t rec[64];
	size_t len;
	int pipefd[2];
	int before = send_with_stray_fd(p->lib, pipefd);
	int fd;

	assert_int_equal(chan_recv(p->helper, rx, sizeof(rx), CHAN_TO_HELPER, &got, &fd, 1000),
	                 -EBADMSG);
	assert_int_equal(fd, -1);
	len = encode(&data, rec, sizeof(rec));
	raw_send(p->helper, rec, len, pipefd, 1);
	assert_int_equal(chan_recv(p->lib, rx, sizeof(rx), CHAN_TO_LIB, &got, NULL, 1000),
	                 -EBADMSG);
	assert_int_equal(open_fd_count(), before);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void connect_without_fd_is_refused(void **state)
{
	struct pair *p = *state;
	struct chan_frame f = { CHAN_T_CONNECT, 0, 2, 0, (const uint8_t *)"localhost", 9 };
	struct chan_frame got;
	uint8_t rec[64];
	size_t len = encode(&f, rec, sizeof(rec));
	int fd;

	raw_send(p->lib, rec, len, NULL, 0);
	assert_int_equal(chan_recv(p->helper, rx, sizeof(rx), CHAN_TO_HELPER, &got, &fd, 1000),
	                 -EBADMSG);
	assert_int_equal(fd, -1);
}

static void wrong_direction_over_the_socket_is_refused(void **state)
{
	struct pair *p = *state;
	struct chan_frame ping = { CHAN_T_PING, 0, 1, 0, NULL, 0 };
	struct chan_frame got;

	/* A helper must never receive its own kind of frames back, and vice
	 * versa: the library reads PING as a bad message. */
	assert_int_equal(chan_send(p->helper, &ping, -1, 1000), 0);
	assert_int_equal(chan_recv(p->lib, rx, sizeof(rx), CHAN_TO_LIB, &got, NULL, 1000),
	                 -EBADMSG);
}

static void send_checks_the_fd_rule(void **state)
{
	struct pair *p = *state;
	struct chan_frame connect = { CHAN_T_CONNECT, 0, 2, 0, (const uint8_t *)"localhost", 9 };
	struct chan_frame ping = { CHAN_T_PING, 0, 1, 0, NULL, 0 };
	struct chan_frame bad = { CHAN_T_PING, 0, 0, 0, NULL, 0 };

	assert_int_equal(chan_send(p->lib, &connect, -1, 1000), -EINVAL);
	assert_int_equal(chan_send(p->lib, &ping, 0, 1000), -EINVAL);
	assert_int_equal(chan_send(p->lib, &bad, -1, 1000), -EINVAL);
	assert_int_equal(chan_send(-1, &ping, -1, 1000), -EINVAL);
	assert_int_equal(chan_send(p->lib, NULL, -1, 1000), -EINVAL);
}

static void recv_checks_its_arguments(void **state)
{
	struct pair *p = *state;
	struct chan_frame got;
	int fd;

	assert_int_equal(chan_recv(p->helper, rx, sizeof(rx), CHAN_TO_HELPER, &got, NULL, 0),
	                 -EINVAL);
	assert_int_equal(chan_recv(p->helper, rx, CHAN_MAX_FRAME - 1, CHAN_TO_HELPER, &got, &fd, 0),
	                 -EINVAL);
	assert_int_equal(chan_recv(p->helper, NULL, sizeof(rx), CHAN_TO_HELPER, &got, &fd, 0),
	                 -EINVAL);
	assert_int_equal(chan_recv(-1, rx, sizeof(rx), CHAN_TO_HELPER, &got, &fd, 0), -EINVAL);
	assert_int_equal(chan_recv(p->helper, rx, sizeof(rx), (enum chan_dir)7, &got, &fd, 0),
	                 -EINVAL);
}

static void closed_descriptor_is_ebadf(void **state)
{
	struct pair *p = *state;
	struct chan_frame got;
	int fd = p->helper;

	close(fd);
	p->helper = -1;
	assert_int_equal(chan_recv(fd, rx, sizeof(rx), CHAN_TO_HELPER, &got, &fd, 0), -EBADF);
}

/* chan_recv_blocking: a frame, the receive timeout, a closed peer, and a
 * refused record whose descriptor is closed, in one call each. */
static void blocking_recv_follows_the_same_rules(void **state)
{
	struct pair *p = *state;
	struct timeval tick = { 0, 20000 };
	struct chan_frame pong = { CHAN_T_PONG, 0, 9, 0, NULL, 0 };
	struct chan_frame got;
	int pipefd[2];
	int before;
	int fd;

	assert_int_equal(setsockopt(p->lib, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof(tick)), 0);
	assert_int_equal(setsockopt(p->helper, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof(tick)), 0);
	assert_int_equal(chan_recv_blocking(p->lib, rx, sizeof(rx), CHAN_TO_LIB, &got, NULL),
	                 -ETIMEDOUT);
	assert_int_equal(chan_send(p->helper, &pong, -1, 1000), 0);
	assert_int_equal(chan_recv_blocking(p->lib, rx, sizeof(rx), CHAN_TO_LIB, &got, NULL), 0);
	assert_int_equal(got.type, CHAN_T_PONG);
	assert_int_equal(got.id, 9);
	/* The wrong direction is refused as by chan_recv. */
	assert_int_equal(chan_send(p->helper, &pong, -1, 1000), 0);
	assert_int_equal(chan_recv_blocking(p->lib, rx, sizeof(rx), CHAN_TO_HELPER, &got, &fd),
	                 -EBADMSG);
	assert_int_equal(fd, -1);
	before = send_with_stray_fd(p->lib, pipefd);
	assert_int_equal(chan_recv_blocking(p->helper, rx, sizeof(rx), CHAN_TO_HELPER, &got, &fd),
	                 -EBADMSG);
	assert_int_equal(fd, -1);
	assert_int_equal(open_fd_count(), before);
	close(pipefd[0]);
	close(pipefd[1]);
	assert_int_equal(
	    chan_recv_blocking(p->lib, rx, CHAN_MAX_FRAME - 1, CHAN_TO_LIB, &got, NULL), -EINVAL);
	assert_int_equal(chan_recv_blocking(p->helper, rx, sizeof(rx), CHAN_TO_HELPER, &got, NULL),
	                 -EINVAL);
	close(p->helper);
	p->helper = -1;
	assert_int_equal(chan_recv_blocking(p->lib, rx, sizeof(rx), CHAN_TO_LIB, &got, NULL),
	                 -EPIPE);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(connect_passes_a_usable_fd),
		T(answers_come_back_with_their_id),
		T(largest_frame_crosses_the_socket),
		T(oversized_record_is_truncated_and_refused),
		T(recv_times_out),
		T(send_times_out_when_peer_does_not_read),
		T(closed_peer_is_epipe),
		T(empty_record_counts_as_closed),
		T(two_fds_are_refused_and_closed),
		T(many_fds_are_cut_refused_and_closed),
		T(unexpected_fd_is_closed_and_refused),
		T(connect_without_fd_is_refused),
		T(wrong_direction_over_the_socket_is_refused),
		T(send_checks_the_fd_rule),
		T(recv_checks_its_arguments),
		T(closed_descriptor_is_ebadf),
		T(blocking_recv_follows_the_same_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
