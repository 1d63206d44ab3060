/*
 * The allowlist is sufficient for the helper's real work: after
 * confinement, a child receives connected TCP fds by SCM_RIGHTS on a
 * SOCK_SEQPACKET channel, runs a TLS 1.3 handshake with a client
 * certificate on each (the second one resumed from a ticket), sends a
 * request, reads the answer and tears OpenSSL down, all without being
 * killed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "child.h"
#include "tls_fixture.h"
#include "security/sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONNECTIONS 2

struct client_args {
	const struct tls_fixture *pki;
	const char *dir; /* where the exec'd client finds its files */
	int channel;
};

/* One fd per frame, exactly as the library hands connections over. */
static int receive_fd(int channel)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = { .msg_iov = &iov,
		              .msg_iovlen = 1,
		              .msg_control = control.buf,
		              .msg_controllen = sizeof(control.buf) };
	if (recvmsg(channel, &msg, MSG_CMSG_CLOEXEC) != 1 || (msg.msg_flags & MSG_CTRUNC) != 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

static int send_fd(int channel, int fd)
{
	char byte = 'c';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	memset(&control, 0, sizeof(control));
	struct msghdr msg = { .msg_iov = &iov,
		              .msg_iovlen = 1,
		              .msg_control = control.buf,
		              .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	return sendmsg(channel, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* Handshake, check, request, answer on fd. *session is the ticket to resume
 * from (may be NULL) and receives the newest one. Returns 0 or a step. */
static int talk(SSL_CTX *ctx, int fd, SSL_SESSION **session)
{
	SSL *ssl = SSL_new(ctx);
	if (ssl == NULL)
		return 1;
	int rc = 0;
	char answer[sizeof(TLS_FIXTURE_ANSWER) - 1];
	if (SSL_set_fd(ssl, fd) != 1 || SSL_set1_host(ssl, TLS_FIXTURE_SERVER_NAME) != 1 ||
	    SSL_set_tlsext_host_name(ssl, TLS_FIXTURE_SERVER_NAME) != 1 ||
	    (*session != NULL && SSL_set_session(ssl, *session) != 1))
		rc = 2;
	else if (SSL_connect(ssl) != 1) {
		rc = 3;
		ERR_print_errors_fp(stderr);
	} else if (SSL_get_verify_result(ssl) != X509_V_OK || SSL_version(ssl) != TLS1_3_VERSION)
		rc = 4;
	else if (*session != NULL && SSL_session_reused(ssl) != 1)
		rc = 5;
	else if (SSL_write(ssl, TLS_FIXTURE_REQUEST, (int)strlen(TLS_FIXTURE_REQUEST)) <= 0)
		rc = 6;
	else if (tls_fixture_read_exactly(ssl, answer, sizeof(answer)) != 0 ||
	         memcmp(answer, TLS_FIXTURE_ANSWER, sizeof(answer)) != 0)
		rc = 7;
	if (rc == 0) {
		SSL_SESSION_free(*session);
		*session = SSL_get1_session(ssl);
		(void)SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	close(fd);
	return rc;
}

/*
 * What the helper does once its SSL_CTX holds the credentials: drop the
 * environment and every fd but the channel, confine, then serve connections
 * handed over the channel. Returns the process's exit code.
 */
static int confined_client(SSL_CTX *ctx, int channel)
{
	if (sandbox_clear_environment() != 0)
		return 31;
	if (sandbox_null_stdio() != 0)
		return 32;
	const int keep[] = { 0, 1, 2, channel };
	if (sandbox_close_fds_except(keep, sizeof(keep) / sizeof(keep[0])) != 0)
		return 33;
	if (sandbox_confine(NULL) != 0)
		return CHILD_CONFINE_FAILED;

	SSL_SESSION *session = NULL;
	for (int i = 0; i < CONNECTIONS; i++) {
		int fd = receive_fd(channel);
		if (fd < 0)
			return 40;
		int rc = talk(ctx, fd, &session);
		if (rc != 0)
			return 50 + 10 * i + rc;
	}
	SSL_SESSION_free(session);
	SSL_CTX_free(ctx);
	OPENSSL_cleanup();
	return 0;
}

/* A forked child: OpenSSL state (DRBG, providers) inherited warm. */
static void body_forked_client(void *arg)
{
	const struct client_args *a = arg;
	SSL_CTX *ctx = tls_fixture_client_ctx(a->pki);
	if (ctx == NULL)
		_exit(30);
	_exit(confined_client(ctx, a->channel));
}

#define EXEC_FLAG "--confined-client"

/* A fresh process like the real helper: OpenSSL starts cold and the
 * credentials come from files, so every lazy first use (DRBG seeding,
 * algorithm fetches) happens after confinement. */
static void body_exec_client(void *arg)
{
	const struct client_args *a = arg;
	char fd_text[16];
	snprintf(fd_text, sizeof(fd_text), "%d", a->channel);
	execl("/proc/self/exe", "test_sandbox_tls", EXEC_FLAG, fd_text, a->dir, (char *)NULL);
	_exit(29);
}

static int exec_client_main(const char *fd_text, const char *dir)
{
	char *end = NULL;
	long channel = strtol(fd_text, &end, 10);
	if (end == fd_text || *end != '\0' || channel < 0 || channel > 1024)
		return 28;
	SSL_CTX *ctx = tls_fixture_client_ctx_from_files(dir);
	if (ctx == NULL)
		return 30;
	return confined_client(ctx, (int)channel);
}

static int connect_loopback(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* Set by the library in real life: the helper may not call setsockopt. */
	struct timeval limit = { 20, 0 };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit)) != 0 ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Runs one server and one client started by body; asserts both exit 0. */
static void run_exchange(void (*body)(void *))
{
	if (TEST_UNDER_ASAN) {
		print_message("skipped: ASan's runtime needs syscalls the helper's policy kills\n");
		skip();
	}
	struct tls_fixture pki;
	assert_int_equal(tls_fixture_make(&pki), 0);
	char dir[] = "/tmp/pkcs11wsop-sandbox-XXXXXX";
	assert_non_null(mkdtemp(dir));
	assert_int_equal(tls_fixture_write_client_files(&pki, dir), 0);
	int port = 0;
	pid_t server = tls_fixture_server_start(&pki, CONNECTIONS, &port);
	assert_true(server > 0);

	/* The client's end survives exec, as the helper's channel does. */
	int channel[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, channel), 0);
	assert_int_equal(fcntl(channel[0], F_SETFD, FD_CLOEXEC), 0);
	struct client_args args = { .pki = &pki, .dir = dir, .channel = channel[1] };
	pid_t client = child_start(body, &args);
	assert_true(client > 0);
	close(channel[1]);

	for (int i = 0; i < CONNECTIONS; i++) {
		int fd = connect_loopback(port);
		assert_true(fd >= 0);
		assert_int_equal(send_fd(channel[0], fd), 0);
		close(fd);
	}
	int client_status = child_wait(client);
	close(channel[0]);
	if (!child_exited_with(client_status, 0))
		(void)kill(server, SIGKILL);
	int server_status = child_wait(server);
	tls_fixture_remove_client_files(dir);
	tls_fixture_free(&pki);
	if (!child_exited_with(client_status, 0) || !child_exited_with(server_status, 0))
		print_error("client status 0x%x, server status 0x%x\n", (unsigned)client_status,
		            (unsigned)server_status);
	assert_true(child_exited_with(client_status, 0));
	assert_true(child_exited_with(server_status, 0));
}

static void test_confined_forked_client_runs_tls13_mtls_on_received_fds(void **state)
{
	(void)state;
	run_exchange(body_forked_client);
}

static void test_confined_fresh_client_runs_tls13_mtls_on_received_fds(void **state)
{
	(void)state;
	run_exchange(body_exec_client);
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], EXEC_FLAG) == 0)
		return exec_client_main(argv[2], argv[3]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confined_forked_client_runs_tls13_mtls_on_received_fds),
		cmocka_unit_test(test_confined_fresh_client_runs_tls13_mtls_on_received_fds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
