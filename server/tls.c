/* OpenSSL server context and client identity; see tls.h. */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static void queue_reason(char *buf, size_t cap)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, cap, "no OpenSSL error recorded");
	else
		ERR_error_string_n(e, buf, cap);
	ERR_clear_error();
}

static void fail(char *err, size_t err_cap, const char *what, const char *path)
{
	char reason[256];

	queue_reason(reason, sizeof(reason));
	snprintf(err, err_cap, "%s %s: %s", what, path, reason);
}

SSL_CTX *tls_server_context(const char *cert_path, const char *key_path, const char *ca_path,
                            char *err, size_t err_cap)
{
	static const unsigned char sid_ctx[] = "wsopd";
	STACK_OF(X509_NAME) * ca_names;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		fail(err, err_cap, "cannot create TLS context", "");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		fail(err, err_cap, "cannot set minimum TLS version", "");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		fail(err, err_cap, "cannot load certificate", cert_path);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
		fail(err, err_cap, "cannot load private key", key_path);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		fail(err, err_cap, "private key does not match certificate", key_path);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca_path, NULL) != 1) {
		fail(err, err_cap, "cannot load CA file", ca_path);
		goto fail;
	}
	/* Tell clients which CAs we accept so they pick the right certificate. */
	ca_names = SSL_load_client_CA_file(ca_path);
	if (ca_names == NULL) {
		fail(err, err_cap, "no CA names in", ca_path);
		goto fail;
	}
	SSL_CTX_set_client_CA_list(ctx, ca_names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	/* Resumption with client verification needs a session id context, or
	 * OpenSSL refuses to resume. */
	if (SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1) != 1) {
		fail(err, err_cap, "cannot set session id context", "");
		goto fail;
	}
	/* Messages are framed by Content-Length, so a peer that closes without
	 * close_notify cannot truncate one unnoticed: treat it as a plain EOF. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	                             SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static void subject_cn(X509 *cert, char cn[TLS_CN_MAX])
{
	X509_NAME *name = X509_get_subject_name(cert);
	int idx = name != NULL ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
	const ASN1_STRING *data;
	const unsigned char *bytes;
	int len;

	snprintf(cn, TLS_CN_MAX, "-");
	if (idx < 0)
		return;
	data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
	if (data == NULL)
		return;
	bytes = ASN1_STRING_get0_data(data);
	len = ASN1_STRING_length(data);
	if (bytes == NULL || len <= 0)
		return;
	if (len > TLS_CN_MAX - 1)
		len = TLS_CN_MAX - 1;
	/* The CN goes into log lines: keep them one line of printable text. */
	for (int i = 0; i < len; i++)
		cn[i] = (bytes[i] >= 0x20 && bytes[i] < 0x7f) ? (char)bytes[i] : '?';
	cn[len] = '\0';
}

int tls_client_identity(SSL *ssl, uint8_t fp[TLS_CLIENT_FP_LEN], char id[TLS_CLIENT_ID_LEN + 1],
                        char cn[TLS_CN_MAX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	X509 *cert = SSL_get0_peer_certificate(ssl);

	if (cert == NULL)
		return -EPROTO;
	if (X509_digest(cert, EVP_sha256(), md, &md_len) != 1 || md_len != TLS_CLIENT_FP_LEN) {
		ERR_clear_error();
		return -EPROTO;
	}
	memcpy(fp, md, TLS_CLIENT_FP_LEN);
	for (unsigned int i = 0; i < md_len; i++) {
		id[2 * i] = hex[md[i] >> 4];
		id[2 * i + 1] = hex[md[i] & 0x0f];
	}
	id[TLS_CLIENT_ID_LEN] = '\0';
	subject_cn(cert, cn);
	return 0;
}

void tls_client_names(SSL *ssl, char subject[TLS_SUBJECT_MAX], char serial[TLS_SERIAL_MAX])
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	BIO *mem = BIO_new(BIO_s_mem());
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int n = -1;

	snprintf(subject, TLS_SUBJECT_MAX, "-");
	snprintf(serial, TLS_SERIAL_MAX, "-");
	if (cert != NULL && mem != NULL &&
	    X509_NAME_print_ex(mem, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0)
		n = BIO_read(mem, subject, TLS_SUBJECT_MAX - 1);
	if (n > 0)
		subject[n] = '\0';
	BIO_free(mem);
	if (cert != NULL)
		bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	if (bn != NULL)
		hex = BN_bn2hex(bn);
	if (hex != NULL && strlen(hex) < TLS_SERIAL_MAX)
		snprintf(serial, TLS_SERIAL_MAX, "%s", hex);
	OPENSSL_free(hex);
	BN_free(bn);
	ERR_clear_error();
}

void tls_failure_reason(SSL *ssl, int ret, char *buf, size_t cap)
{
	long verify = SSL_get_verify_result(ssl);
	int code = SSL_get_error(ssl, ret);

	if (verify != X509_V_OK) {
		snprintf(buf, cap, "client certificate refused: %s",
		         X509_verify_cert_error_string(verify));
		ERR_clear_error();
		return;
	}
	if (code == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
		char text[128];
		int saved = errno;

		snprintf(buf, cap, "connection closed or timed out (%s)",
		         saved != 0 ? strerror_r(saved, text, sizeof(text)) : "EOF");
		return;
	}
	if (code == SSL_ERROR_ZERO_RETURN) {
		snprintf(buf, cap, "peer closed the TLS connection");
		ERR_clear_error();
		return;
	}
	queue_reason(buf, cap);
}
