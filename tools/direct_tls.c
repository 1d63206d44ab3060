/*
 * Direct mutual-TLS connection for tools and tests (see direct_tls.h).
 *
 * The socket is non-blocking and every OpenSSL call that wants I/O waits in
 * poll() against a deadline, so a silent or half-dead server can only cost
 * the caller its timeout.
 */
#include "tools/direct_tls.h"

#include "ipc/mono_clock.h"
#include "lib/wsop_transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define DEFAULT_TIMEOUT_MS 10000

struct direct_tls {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	int timeout_ms;
	bool received;   /* any application data read yet */
	char where[128]; /* "host:port", for messages */
	char error[DIRECT_TLS_ERROR_MAX];
};

static void set_error(struct direct_tls *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_error(struct direct_tls *conn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(conn->error, sizeof(conn->error), fmt, ap);
	va_end(ap);
}

/* OpenSSL's reasons ("tlsv1 alert protocol version") say who refused what,
 * which is what a person reading a failed test or a tool error needs. */
static void append_openssl_errors(struct direct_tls *conn)
{
	unsigned long e;

	while ((e = ERR_get_error()) != 0) {
		size_t used = strlen(conn->error);
		const char *reason = ERR_reason_error_string(e);

		if (used + 3 >= sizeof(conn->error))
			continue; /* keep draining the queue */
		if (reason != NULL)
			snprintf(conn->error + used, sizeof(conn->error) - used, ": %s", reason);
		else
			snprintf(conn->error + used, sizeof(conn->error) - used, ": error %lu", e);
	}
}

static void append_verify_result(struct direct_tls *conn)
{
	long v = SSL_get_verify_result(conn->ssl);
	size_t used = strlen(conn->error);

	if (v != X509_V_OK && used < sizeof(conn->error))
		snprintf(conn->error + used, sizeof(conn->error) - used,
		         " (server certificate: %s)", X509_verify_cert_error_string(v));
}

static void append_hint(struct direct_tls *conn, const char *hint)
{
	size_t used = strlen(conn->error);

	if (used < sizeof(conn->error))
		snprintf(conn->error + used, sizeof(conn->error) - used, "%s", hint);
}

/* 0 when fd is ready for events, -ETIMEDOUT past the deadline. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - mono_ms();
		struct pollfd p = { .fd = fd, .events = events };
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* After an OpenSSL call returned ret <= 0: 1 to retry it, 0 on a clean end
 * of stream, or a negative errno with conn->error set. */
static int ssl_wait(struct direct_tls *conn, int ret, long long deadline, const char *what)
{
	int e = SSL_get_error(conn->ssl, ret);
	int saved_errno = errno;
	int rc;

	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		rc = wait_fd(conn->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
		if (rc == 0)
			return 1;
		set_error(conn, "%s %s: %s", what, conn->where,
		          rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
		return rc;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			set_error(conn, "%s %s: %s", what, conn->where,
			          saved_errno != 0 ? strerror(saved_errno)
			                           : "connection closed by the server");
			return saved_errno == EPIPE || saved_errno == 0 || saved_errno == ECONNRESET
			           ? -ECONNRESET
			           : -saved_errno;
		}
		break; /* the queue says more than errno */
	default:
		break;
	}
	if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		ERR_clear_error();
		set_error(conn, "%s %s: connection closed by the server", what, conn->where);
		return -ECONNRESET;
	}
	set_error(conn, "%s %s failed", what, conn->where);
	append_openssl_errors(conn);
	return -EPROTO;
}

static int tcp_connect(struct direct_tls *conn, const char *host, const char *port,
                       long long deadline)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host, port, &hints, &res);
	int last = -ECONNREFUSED;

	if (rc != 0) {
		set_error(conn, "cannot resolve %s: %s", conn->where, gai_strerror(rc));
		return rc == EAI_MEMORY ? -ENOMEM : -ENOENT;
	}
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int err = 0;
		socklen_t err_len = sizeof(err);

		if (fd < 0) {
			last = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			if (errno != EINPROGRESS) {
				err = errno;
			} else {
				int w = wait_fd(fd, POLLOUT, deadline);

				if (w != 0)
					err = -w;
				else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0)
					err = errno;
			}
		}
		if (err != 0) {
			last = -err;
			close(fd);
			continue;
		}
		/* Requests are small and answered at once: no Nagle delay. */
		int one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		conn->fd = fd;
		freeaddrinfo(res);
		return 0;
	}
	freeaddrinfo(res);
	if (last == -ECONNREFUSED)
		set_error(conn, "connection refused by %s (is the server running?)", conn->where);
	else if (last == -ETIMEDOUT)
		set_error(conn, "connecting to %s timed out", conn->where);
	else
		set_error(conn, "cannot connect to %s: %s", conn->where, strerror(-last));
	return last;
}

static bool is_ip_literal(const char *name)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

static int make_ctx(struct direct_tls *conn, const struct direct_tls_config *cfg)
{
	conn->ctx = SSL_CTX_new(TLS_client_method());
	if (conn->ctx == NULL) {
		set_error(conn, "cannot create a TLS context");
		return -ENOMEM;
	}
	if (cfg->security_level >= 0)
		SSL_CTX_set_security_level(conn->ctx, cfg->security_level);
	if (SSL_CTX_set_min_proto_version(conn->ctx, cfg->min_version > 0 ? cfg->min_version
	                                                                  : TLS1_2_VERSION) != 1 ||
	    (cfg->max_version > 0 &&
	     SSL_CTX_set_max_proto_version(conn->ctx, cfg->max_version) != 1)) {
		set_error(conn, "unsupported TLS protocol version range");
		return -EINVAL;
	}
	if (SSL_CTX_load_verify_locations(conn->ctx, cfg->ca_path, NULL) != 1) {
		set_error(conn, "cannot load the CA file %s", cfg->ca_path);
		append_openssl_errors(conn);
		return -EINVAL;
	}
	SSL_CTX_set_verify(conn->ctx, SSL_VERIFY_PEER, NULL);
	if (cfg->cert_path == NULL)
		return 0;
	if (SSL_CTX_use_certificate_chain_file(conn->ctx, cfg->cert_path) != 1) {
		set_error(conn, "cannot load the client certificate %s", cfg->cert_path);
		append_openssl_errors(conn);
		return -EINVAL;
	}
	if (SSL_CTX_use_PrivateKey_file(conn->ctx, cfg->key_path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(conn->ctx) != 1) {
		set_error(conn, "cannot load the client key %s", cfg->key_path);
		append_openssl_errors(conn);
		return -EINVAL;
	}
	return 0;
}

static int make_ssl(struct direct_tls *conn, const struct direct_tls_config *cfg)
{
	const char *name = cfg->verify_name != NULL ? cfg->verify_name : cfg->host;
	int ok;

	conn->ssl = SSL_new(conn->ctx);
	if (conn->ssl == NULL || SSL_set_fd(conn->ssl, conn->fd) != 1) {
		set_error(conn, "cannot create a TLS connection");
		return -ENOMEM;
	}
	/* SSL_set1_host() matches DNS names only; addresses need the IP check.
	 * SNI carries host names only (RFC 6066). */
	if (is_ip_literal(name)) {
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(conn->ssl), name);
	} else {
		SSL_set_hostflags(conn->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = SSL_set1_host(conn->ssl, name) == 1 &&
		     SSL_set_tlsext_host_name(conn->ssl, name) == 1;
	}
	if (ok != 1) {
		set_error(conn, "cannot set the expected server name %s", name);
		return -EINVAL;
	}
	return 0;
}

int direct_tls_connect(const struct direct_tls_config *cfg, struct direct_tls **out, char *err,
                       size_t err_cap)
{
	struct direct_tls *conn;
	long long deadline;
	int rc;

	if (err != NULL && err_cap > 0)
		err[0] = '\0';
	if (out == NULL)
		return -EINVAL;
	*out = NULL;
	if (cfg == NULL || cfg->host == NULL || cfg->port == NULL || cfg->ca_path == NULL ||
	    (cfg->cert_path != NULL && cfg->key_path == NULL)) {
		if (err != NULL && err_cap > 0)
			snprintf(err, err_cap, "host, port and CA file are required");
		return -EINVAL;
	}
	conn = calloc(1, sizeof(*conn));
	if (conn == NULL)
		return -ENOMEM;
	conn->fd = -1;
	conn->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
	snprintf(conn->where, sizeof(conn->where), strchr(cfg->host, ':') ? "[%s]:%s" : "%s:%s",
	         cfg->host, cfg->port);
	deadline = mono_ms() + conn->timeout_ms;

	ERR_clear_error();
	rc = make_ctx(conn, cfg);
	if (rc == 0)
		rc = tcp_connect(conn, cfg->host, cfg->port, deadline);
	if (rc == 0)
		rc = make_ssl(conn, cfg);
	while (rc == 0) {
		int r;

		ERR_clear_error();
		r = SSL_connect(conn->ssl);
		if (r == 1)
			break;
		rc = ssl_wait(conn, r, deadline, "TLS handshake with");
		if (rc == 1) {
			rc = 0;
		} else {
			if (rc == 0) {
				set_error(conn, "TLS handshake with %s: connection closed",
				          conn->where);
				rc = -ECONNRESET;
			}
			append_verify_result(conn);
		}
	}
	if (rc != 0) {
		if (err != NULL && err_cap > 0)
			snprintf(err, err_cap, "%s", conn->error);
		direct_tls_close(conn);
		return rc;
	}
	conn->error[0] = '\0';
	*out = conn;
	return 0;
}

int direct_tls_send_all(struct direct_tls *conn, const uint8_t *data, size_t len)
{
	long long deadline;
	size_t off = 0;

	if (conn == NULL || (data == NULL && len > 0))
		return -EINVAL;
	deadline = mono_ms() + conn->timeout_ms;
	while (off < len) {
		size_t chunk = len - off > INT_MAX ? INT_MAX : len - off;
		int r;

		ERR_clear_error();
		r = SSL_write(conn->ssl, data + off, (int)chunk);
		if (r > 0) {
			off += (size_t)r;
			continue;
		}
		r = ssl_wait(conn, r, deadline, "sending to");
		if (r == 0) {
			set_error(conn, "sending to %s: connection closed", conn->where);
			r = -ECONNRESET;
		}
		if (r < 0) {
			/* In TLS 1.3 the server judges the client certificate after
			 * our handshake has finished, so its refusal shows up as a
			 * reset on the first write. */
			if (r == -ECONNRESET && !conn->received)
				append_hint(conn, " (the server may have refused this client "
				                  "certificate)");
			return r;
		}
	}
	return 0;
}

ssize_t direct_tls_recv_some(struct direct_tls *conn, uint8_t *buf, size_t cap, int timeout_ms)
{
	long long deadline;

	if (conn == NULL || buf == NULL || cap == 0)
		return -EINVAL;
	deadline = mono_ms() + (timeout_ms >= 0 ? timeout_ms : conn->timeout_ms);
	for (;;) {
		int r;

		ERR_clear_error();
		r = SSL_read(conn->ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);
		if (r > 0) {
			conn->received = true;
			return r;
		}
		r = ssl_wait(conn, r, deadline, "receiving from");
		if (r <= 0)
			return r;
	}
}

const char *direct_tls_error(const struct direct_tls *conn)
{
	return conn != NULL ? conn->error : "";
}

int direct_tls_version(const struct direct_tls *conn)
{
	return conn != NULL && conn->ssl != NULL ? SSL_version(conn->ssl) : 0;
}

void direct_tls_close(struct direct_tls *conn)
{
	if (conn == NULL)
		return;
	if (conn->ssl != NULL) {
		/* One non-blocking attempt: a close_notify is a courtesy, not a
		 * reason to wait. */
		if (SSL_is_init_finished(conn->ssl))
			(void)SSL_shutdown(conn->ssl);
		SSL_free(conn->ssl);
	}
	SSL_CTX_free(conn->ctx);
	if (conn->fd >= 0)
		close(conn->fd);
	ERR_clear_error();
	free(conn);
}

static int transport_send_all(void *ctx, const uint8_t *data, size_t len)
{
	return direct_tls_send_all(ctx, data, len);
}

static ssize_t transport_recv_some(void *ctx, uint8_t *buf, size_t cap, int timeout_ms)
{
	return direct_tls_recv_some(ctx, buf, cap, timeout_ms);
}

void direct_tls_transport(struct direct_tls *conn, struct wsop_transport *out)
{
	out->ctx = conn;
	out->send_all = transport_send_all;
	out->send_quick = NULL;
	out->recv_some = transport_recv_some;
}
