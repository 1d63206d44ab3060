/*
 * One HTTP exchange of the WSOP client over its transport: serialise,
 * send, read until one whole answer is parsed, keep any bytes that follow
 * for the next answer. See wsop_client.h.
 */
#include "lib/wsop_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ipc/mono_clock.h"
#include "ipc/base64url.h"
#include "ipc/wsop_crypto_bin.h"
#include "ipc/wsop_names.h"

/* A whole answer never needs more than the head and body limits. */
#define RBUF_MAX ((size_t)HTTP_MAX_HEAD + HTTP_MAX_BODY)
/* Room offered to each transport read: a large answer then crosses the
 * transport in few reads (each may be a round trip to the helper). */
#define RBUF_READ_MIN 131072

static bool host_ok(const char *host)
{
	if (host == NULL)
		return false;
	size_t n = strnlen(host, WSOP_CLIENT_HOST_MAX + 1);
	if (n == 0 || n > WSOP_CLIENT_HOST_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)host[i] < 0x21 || (unsigned char)host[i] > 0x7e)
			return false;
	return true;
}

static bool transport_ok(const struct wsop_transport *t)
{
	return t && t->send_all && t->recv_some;
}

int wsop_client_init(struct wsop_client *c, const struct wsop_transport *t, const char *host,
                     int timeout_ms)
{
	if (c == NULL)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	if (!transport_ok(t) || !host_ok(host))
		return -EINVAL;
	c->transport = *t;
	memcpy(c->host, host, strlen(host) + 1);
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : WSOP_CLIENT_TIMEOUT_MS;
	return 0;
}

/* Received bytes may hold decrypted data or a passphrase echo: wipe. */
static void rbuf_release(struct wsop_client *c)
{
	OPENSSL_clear_free(c->rbuf, c->rcap);
	c->rbuf = NULL;
	c->rlen = c->rcap = 0;
}

void wsop_client_free(struct wsop_client *c)
{
	if (c == NULL)
		return;
	rbuf_release(c);
	OPENSSL_cleanse(c, sizeof(*c));
}

void wsop_client_set_transport(struct wsop_client *c, const struct wsop_transport *t)
{
	if (c == NULL)
		return;
	rbuf_release(c);
	if (transport_ok(t)) {
		c->transport = *t;
		c->broken = false;
	} else {
		memset(&c->transport, 0, sizeof(c->transport));
		c->broken = true;
	}
}

void wsop_client_set_valid_activation(struct wsop_client *c, const char *token)
{
	/* The bytes past the token's NUL are zero (wsop_client_init, and every
	 * token replaced here is wiped whole): wiping its length is enough,
	 * and this runs twice per request. */
	OPENSSL_cleanse(c->activation, strlen(c->activation));
	if (token != NULL)
		memcpy(c->activation, token, strlen(token) + 1);
}

int wsop_client_set_activation(struct wsop_client *c, const char *token)
{
	if (c == NULL)
		return -EINVAL;
	if (token && token[0] != '\0' && !wsop_activation_token_valid(token))
		return -EINVAL;
	wsop_client_set_valid_activation(c, token);
	return 0;
}

const char *wsop_client_activation(const struct wsop_client *c)
{
	return c && c->activation[0] != '\0' ? c->activation : NULL;
}

bool wsop_client_broken(const struct wsop_client *c)
{
	return !c || c->broken;
}

const struct wsop_json_error *wsop_client_error(const struct wsop_client *c)
{
	return &c->error;
}

bool wsop_client_error_is(const struct wsop_client *c, enum wsop_error e)
{
	const struct wsop_json_error *err = wsop_client_error(c);

	return err != NULL && strcmp(err->code, wsop_error_name(e)) == 0;
}

int wsop_client_last_status(const struct wsop_client *c)
{
	return c->last_status;
}

int wsop_idempotency_key_new(char out[WSOP_IDEMPOTENCY_KEY_LEN + 1])
{
	uint8_t raw[WSOP_IDEMPOTENCY_KEY_LEN * 3 / 4];

	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		out[0] = '\0';
		return -EIO;
	}
	int rc = b64url_encode(raw, sizeof(raw), out, WSOP_IDEMPOTENCY_KEY_LEN + 1);
	return rc ? -EIO : 0;
}

/* Makes room for at least RBUF_READ_MIN more received bytes (or up to
 * RBUF_MAX), doubling. The old block is wiped since it may hold answer
 * data. */
static int rbuf_grow(struct wsop_client *c)
{
	size_t want =
	    c->rlen + (RBUF_MAX - c->rlen < RBUF_READ_MIN ? RBUF_MAX - c->rlen : RBUF_READ_MIN);
	if (c->rlen < c->rcap && want <= c->rcap)
		return 0;
	if (c->rlen >= RBUF_MAX)
		return -EMSGSIZE;
	size_t ncap = c->rcap ? c->rcap : RBUF_READ_MIN;
	while (ncap < want)
		ncap *= 2;
	if (ncap > RBUF_MAX)
		ncap = RBUF_MAX;
	uint8_t *n = malloc(ncap);
	if (n == NULL)
		return -ENOMEM;
	if (c->rlen)
		memcpy(n, c->rbuf, c->rlen);
	OPENSSL_clear_free(c->rbuf, c->rcap);
	c->rbuf = n;
	c->rcap = ncap;
	return 0;
}

/* Drops the first n buffered bytes (one parsed answer). */
static void rbuf_consume(struct wsop_client *c, size_t n)
{
	memmove(c->rbuf, c->rbuf + n, c->rlen - n);
	OPENSSL_cleanse(c->rbuf + c->rlen - n, n);
	c->rlen -= n;
}

/* Reads until one whole answer is parsed from the buffer, waiting at most
 * timeout_ms for it; a transport that sent the request again starts the
 * wait over, since each attempt has that time (lib/backend.h). */
static int read_answer(struct wsop_client *c, struct http_message *answer)
{
	/* Set at the first wait, which then needs no second clock reading. */
	int64_t deadline = -1;

	for (;;) {
		size_t consumed = 0;
		if (c->rlen > 0) {
			int rc = http_parse_response(c->rbuf, c->rlen, answer, &consumed);
			if (rc < 0)
				return rc;
			if (rc == 1) {
				rbuf_consume(c, consumed);
				return 0;
			}
		}
		int rc = rbuf_grow(c);
		if (rc)
			return rc;
		int64_t left = c->timeout_ms;
		if (deadline < 0)
			deadline = mono_ms() + left;
		else
			left = deadline - mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		ssize_t got = c->transport.recv_some(c->transport.ctx, c->rbuf + c->rlen,
		                                     c->rcap - c->rlen, (int)left);
		if (got == -ERESTART) {
			/* The request was sent again: its answer starts over. */
			OPENSSL_cleanse(c->rbuf, c->rlen);
			c->rlen = 0;
			deadline = -1;
			continue;
		}
		if (got == 0)
			return -ECONNRESET;
		if (got < 0)
			return (int)got;
		if ((size_t)got > c->rcap - c->rlen)
			return -EPROTO; /* a transport that overran its buffer */
		c->rlen += (size_t)got;
	}
}

/* The body's form: its Content-Type and what the answer may be. */
struct body_form {
	const char *content_type;
	const char *accept;
};

static const struct body_form json_form = { "application/json", "application/json" };
static const struct body_form binary_form = { WSOP_BIN_CONTENT_TYPE,
	                                      WSOP_BIN_CONTENT_TYPE ", application/json" };

static int call(struct wsop_client *c, const char *method, const char *path,
                const struct body_form *form, const struct http_header *more, size_t n_more,
                const uint8_t *body, size_t len, const char *idempotency_key,
                struct http_message *answer)
{
	struct http_header extra[4 + WSOP_CRYPTO_BIN_HEADERS];
	size_t n_extra = 0;
	uint8_t *req = NULL;
	size_t req_len = 0;

	if (c == NULL || method == NULL || path == NULL || path[0] != '/' || answer == NULL ||
	    (len > 0 && body == NULL) || n_more > WSOP_CRYPTO_BIN_HEADERS)
		return -EINVAL;
	if (len > HTTP_MAX_BODY)
		return -E2BIG;
	if (idempotency_key && !wsop_idempotency_key_valid(idempotency_key))
		return -EINVAL;
	http_message_clear(answer);
	c->last_status = 0;
	memset(&c->error, 0, sizeof(c->error));
	if (c->broken)
		return -ENOTCONN;
	if (c->rlen > 0) {
		/* Bytes nobody asked for: the answers are out of step with the
		 * requests, so no answer on this stream can be trusted. */
		c->broken = true;
		rbuf_release(c);
		return -EPROTO;
	}

	extra[n_extra++] = (struct http_header){ "Accept", form->accept };
	if (len > 0 || form != &json_form)
		extra[n_extra++] = (struct http_header){ "Content-Type", form->content_type };
	if (idempotency_key != NULL)
		extra[n_extra++] = (struct http_header){ "Idempotency-Key", idempotency_key };
	if (c->activation[0] != '\0')
		extra[n_extra++] = (struct http_header){ WSOP_ACTIVATION_HEADER, c->activation };
	for (size_t i = 0; i < n_more; i++)
		extra[n_extra++] = more[i];
	int rc =
	    http_format_request(method, path, c->host, extra, n_extra, body, len, &req, &req_len);
	if (rc)
		return rc;
	/* The binary form is the crypto requests' (wsop_call_binary). */
	bool quick =
	    form == &binary_form && len <= WSOP_QUICK_BODY_MAX && c->transport.send_quick != NULL;
	rc = (quick ? c->transport.send_quick : c->transport.send_all)(c->transport.ctx, req,
	                                                               req_len);
	if (rc == 0)
		rc = read_answer(c, answer);
	/* Kept until here for a transport that sends it again; it may carry
	 * a passphrase or plaintext. */
	OPENSSL_clear_free(req, req_len);
	if (rc) {
		/* The stream is at an unknown point: nothing more can be read
		 * from it as a sequence of answers. */
		c->broken = true;
		rbuf_release(c);
		http_message_clear(answer);
		return rc > 0 ? -EPROTO : rc;
	}
	c->last_status = answer->status;
	if (!answer->keep_alive) {
		c->broken = true;
		rbuf_release(c);
	}
	return 0;
}

int wsop_call(struct wsop_client *c, const char *method, const char *path, const char *json_body,
              size_t len, const char *idempotency_key, struct http_message *answer)
{
	return call(c, method, path, &json_form, NULL, 0, (const uint8_t *)json_body, len,
	            idempotency_key, answer);
}

int wsop_call_binary(struct wsop_client *c, const char *path, const struct http_header *headers,
                     size_t n_headers, const uint8_t *body, size_t len, struct http_message *answer)
{
	return call(c, "POST", path, &binary_form, headers, n_headers, body, len, NULL, answer);
}
