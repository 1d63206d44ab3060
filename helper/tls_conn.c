/* TLS connection steps and failure classification; see tls_conn.h. */
#include "helper/tls_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ipc/channel.h"

/* The write buffer between SSL_write and the socket: small between
 * requests (a small request's records fit), grown for a large one just
 * before its SSL_write and shrunk once it is out, so that the helper keeps
 * no large buffer per connection. */
#define TLS_WRITE_BUFFER_IDLE 8192
#define TLS_RECORD_OVERHEAD   (SSL3_RT_MAX_ENCRYPTED_OVERHEAD + SSL3_RT_HEADER_LENGTH)

static void fail(struct tls_failure *why, uint32_t code, const char *prefix, const char *detail)
{
	why->code = code;
	snprintf(why->text, sizeof(why->text), "%s%s%s", prefix, detail[0] != '\0' ? ": " : "",
	         detail);
}

/* The socket under ssl: read directly (read-ahead does the gathering),
 * written through a buffer, so that the records of one SSL_write leave in
 * one write() and the server wakes once for a request, not once per
 * record. 1 on success, as OpenSSL's setters. */
static int attach_socket(SSL *ssl, int fd)
{
	BIO *sock = BIO_new_socket(fd, BIO_NOCLOSE);
	BIO *buf = BIO_new(BIO_f_buffer());

	if (sock == NULL || buf == NULL ||
	    BIO_set_write_buffer_size(buf, TLS_WRITE_BUFFER_IDLE) != 1 || BIO_up_ref(sock) != 1) {
		BIO_free(buf);
		BIO_free(sock);
		return 0;
	}
	/* ssl owns one reference as its rbio and the buffer chain (which
	 * holds the other) as its wbio. */
	BIO_push(buf, sock);
	SSL_set_bio(ssl, sock, buf);
	return 1;
}

static bool is_ip_literal(const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

int tls_conn_start(struct tls_conn *c, struct creds *creds, int fd, const char *host,
                   struct tls_failure *why)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	SSL_CTX *ctx = NULL;
	int code = creds_tls_context(creds, &ctx, why->text, sizeof(why->text));
	if (code != 0) {
		close(fd);
		why->code = (uint32_t)code;
		return code;
	}
	ERR_clear_error();
	SSL *ssl = SSL_new(ctx);
	if (ssl == NULL) {
		close(fd);
		fail(why, CHAN_E_INTERNAL, "cannot create a TLS connection", "");
		return CHAN_E_INTERNAL;
	}
	int ok = attach_socket(ssl, fd);
	if (ok == 1 && is_ip_literal(host)) {
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	} else if (ok == 1) {
		/* SNI carries names only (RFC 6066), never address literals. */
		ok = SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
	}
	if (ok != 1) {
		SSL_free(ssl);
		close(fd);
		fail(why, CHAN_E_INTERNAL, "cannot set the server name to verify", "");
		return CHAN_E_INTERNAL;
	}
	/* Read-ahead: a record's header and body come in one read(), and so
	 * do several records of a long answer, instead of two reads each. */
	SSL_set_read_ahead(ssl, 1);
	/* A write that has to wait goes on from a copy of the caller's bytes
	 * (the first try writes straight from the channel's frame buffer). */
	SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_set_connect_state(ssl);
	c->ssl = ssl;
	c->fd = fd;
	c->wbuf_len = TLS_WRITE_BUFFER_IDLE;
	return 0;
}

static uint32_t verify_code(long result)
{
	switch (result) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return CHAN_E_TLS_EXPIRED;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return CHAN_E_TLS_NAME_MISMATCH;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		return CHAN_E_TLS_UNKNOWN_CA;
	default:
		return CHAN_E_TLS_HANDSHAKE;
	}
}

/* OpenSSL's reason codes for alerts received from the peer sit at
 * SSL_AD_REASON_OFFSET + the alert number. */
static bool last_error_is_alert(void)
{
	unsigned long e = ERR_peek_last_error();

	return e != 0 && ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) >= SSL_AD_REASON_OFFSET;
}

/* An alert by which the server refused our certificate: a retry would be
 * refused the same way. */
static bool last_error_refuses_our_certificate(void)
{
	if (!last_error_is_alert())
		return false;
	switch (ERR_GET_REASON(ERR_peek_last_error()) - SSL_AD_REASON_OFFSET) {
	case SSL_AD_BAD_CERTIFICATE:
	case SSL_AD_UNSUPPORTED_CERTIFICATE:
	case SSL_AD_CERTIFICATE_REVOKED:
	case SSL_AD_CERTIFICATE_EXPIRED:
	case SSL_AD_CERTIFICATE_UNKNOWN:
	case SSL_AD_UNKNOWN_CA:
	case SSL_AD_ACCESS_DENIED:
	case SSL_AD_CERTIFICATE_REQUIRED:
		return true;
	default:
		return false;
	}
}

static void last_error_text(char *buf, size_t cap)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, cap, "%s", reason != NULL ? reason : "unknown TLS error");
}

/* Classifies the failure of an SSL call that returned rc; the error queue
 * holds what OpenSSL said. in_handshake: the handshake has not completed. */
static enum tls_step classify(struct tls_conn *c, int rc, int saved_errno, bool in_handshake,
                              struct tls_failure *why)
{
	char detail[200];
	int err = SSL_get_error(c->ssl, rc);

	switch (err) {
	case SSL_ERROR_WANT_READ:
		return TLS_STEP_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_STEP_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		if (!in_handshake)
			return TLS_STEP_EOF;
		fail(why, CHAN_E_TLS_HANDSHAKE,
		     "the server closed the connection during the handshake", "");
		return TLS_STEP_FAILED;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_last_error() == 0) {
			if (saved_errno != 0) {
				fail(why, CHAN_E_IO, "connection failed", strerror(saved_errno));
			} else if (in_handshake) {
				fail(why, CHAN_E_TLS_HANDSHAKE,
				     "the server closed the connection during the handshake", "");
			} else {
				return TLS_STEP_EOF;
			}
			return TLS_STEP_FAILED;
		}
		break;
	default:
		break;
	}
	last_error_text(detail, sizeof(detail));
	long verify = in_handshake ? SSL_get_verify_result(c->ssl) : X509_V_OK;
	if (verify != X509_V_OK) {
		fail(why, verify_code(verify), "server certificate refused",
		     X509_verify_cert_error_string(verify));
	} else if ((in_handshake || !c->got_data) && last_error_refuses_our_certificate()) {
		fail(why, CHAN_E_CREDENTIALS, "our certificate refused by the server", detail);
	} else if (in_handshake || (!c->got_data && last_error_is_alert())) {
		fail(why, CHAN_E_TLS_HANDSHAKE, "handshake refused", detail);
	} else {
		fail(why, CHAN_E_TLS_PROTOCOL, "TLS failure", detail);
	}
	return TLS_STEP_FAILED;
}

enum tls_step tls_conn_handshake(struct tls_conn *c, struct tls_failure *why)
{
	ERR_clear_error();
	errno = 0;
	int rc = SSL_do_handshake(c->ssl);
	if (rc == 1)
		return TLS_STEP_DONE;
	return classify(c, rc, errno, true, why);
}

/* Processes whatever records are already waiting without consuming
 * application data, so that a refusal sent right after the handshake is
 * seen before a write runs into the socket the server has closed. */
static enum tls_step probe_refusal(struct tls_conn *c, struct tls_failure *why)
{
	uint8_t byte;

	ERR_clear_error();
	errno = 0;
	int rc = SSL_peek(c->ssl, &byte, 1);
	if (rc > 0)
		return TLS_STEP_DONE;
	enum tls_step step = classify(c, rc, errno, false, why);
	/* Waiting here would be for data nobody asked for yet. */
	return step == TLS_STEP_FAILED ? TLS_STEP_FAILED : TLS_STEP_DONE;
}

/* Resizes the (empty) write buffer to len; a failure only costs the
 * gathering of records. */
static void resize_write_buffer(struct tls_conn *c, size_t len)
{
	BIO *wbio = SSL_get_wbio(c->ssl);

	if (len != c->wbuf_len && len <= INT_MAX && BIO_wpending(wbio) == 0 &&
	    BIO_set_write_buffer_size(wbio, (long)len) == 1)
		c->wbuf_len = len;
}

/* Pushes the records buffered by SSL_write out to the socket. */
static enum tls_step flush_records(struct tls_conn *c, struct tls_failure *why)
{
	BIO *wbio = SSL_get_wbio(c->ssl);

	ERR_clear_error();
	errno = 0;
	if (BIO_flush(wbio) == 1) {
		c->unflushed = false;
		if (c->wbuf_len > TLS_WRITE_BUFFER_IDLE)
			resize_write_buffer(c, TLS_WRITE_BUFFER_IDLE);
		return TLS_STEP_DONE;
	}
	int saved = errno;
	if (BIO_should_retry(wbio))
		return TLS_STEP_WANT_WRITE;
	fail(why, CHAN_E_IO, "connection failed",
	     saved != 0 ? strerror(saved) : "the server closed the connection");
	return TLS_STEP_FAILED;
}

enum tls_step tls_conn_write(struct tls_conn *c, const uint8_t *buf, size_t len,
                             struct tls_failure *why)
{
	if (len == 0 || len > INT_MAX) {
		fail(why, CHAN_E_INTERNAL, "bad write length", "");
		return TLS_STEP_FAILED;
	}
	enum tls_step step = TLS_STEP_DONE;
	if (!c->unflushed) {
		if (!c->got_data && probe_refusal(c, why) == TLS_STEP_FAILED)
			return TLS_STEP_FAILED;
		size_t records = (len + SSL3_RT_MAX_PLAIN_LENGTH - 1) / SSL3_RT_MAX_PLAIN_LENGTH;
		if (len + records * TLS_RECORD_OVERHEAD > c->wbuf_len)
			resize_write_buffer(c, len + records * TLS_RECORD_OVERHEAD);
		ERR_clear_error();
		errno = 0;
		int rc = SSL_write(c->ssl, buf, (int)len);
		if (rc > 0)
			c->unflushed = true;
		else
			step = classify(c, rc, errno, false, why);
	}
	if (c->unflushed)
		step = flush_records(c, why);
	/* A socket the server reset may still hold its alert: prefer that. */
	if (step == TLS_STEP_FAILED && why->code == CHAN_E_IO && !c->got_data) {
		struct tls_failure alert;
		if (probe_refusal(c, &alert) == TLS_STEP_FAILED && alert.code != CHAN_E_IO)
			*why = alert;
	}
	if (step == TLS_STEP_EOF) {
		fail(why, CHAN_E_IO, "the server closed the connection", "");
		return TLS_STEP_FAILED;
	}
	return step;
}

enum tls_step tls_conn_read(struct tls_conn *c, uint8_t *buf, size_t cap, size_t *n,
                            struct tls_failure *why)
{
	if (cap == 0 || cap > INT_MAX) {
		fail(why, CHAN_E_INTERNAL, "bad read length", "");
		return TLS_STEP_FAILED;
	}
	size_t got = 0;
	for (;;) {
		ERR_clear_error();
		errno = 0;
		int rc = SSL_read(c->ssl, buf + got, (int)(cap - got));
		if (rc > 0) {
			c->got_data = true;
			c->last_full = rc == SSL3_RT_MAX_PLAIN_LENGTH;
			got += (size_t)rc;
			/* A long answer spans several records: take those that
			 * are already here, so the library asks fewer times.
			 * After a full record the server is most likely still
			 * writing the same answer, so one more read() is worth
			 * its cost even when nothing is buffered: a record that
			 * came in meanwhile is taken without a poll. */
			if (got < cap &&
			    (SSL_has_pending(c->ssl) == 1 || rc == SSL3_RT_MAX_PLAIN_LENGTH))
				continue;
		} else if (got == 0) {
			return classify(c, rc, errno, false, why);
		}
		/* Whatever stopped the loop after some data (a wait, the end,
		 * a failure) shows again on the next read. */
		ERR_clear_error();
		*n = got;
		return TLS_STEP_DONE;
	}
}

bool tls_conn_mid_stream(const struct tls_conn *c)
{
	return c->last_full;
}

bool tls_conn_has_pending(const struct tls_conn *c)
{
	return SSL_has_pending(c->ssl) == 1;
}

void tls_conn_end(struct tls_conn *c)
{
	if (c->ssl != NULL) {
		/* One try: close_notify is a courtesy, and the helper never
		 * waits for a server that is not reading. */
		ERR_clear_error();
		if (SSL_is_init_finished(c->ssl))
			(void)SSL_shutdown(c->ssl);
		ERR_clear_error();
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->got_data = false;
	c->unflushed = false;
	c->last_full = false;
}

const char *tls_conn_protocol(const struct tls_conn *c)
{
	return SSL_get_version(c->ssl);
}

const char *tls_conn_cipher(const struct tls_conn *c)
{
	const char *name = SSL_get_cipher_name(c->ssl);

	return name != NULL ? name : "none";
}
