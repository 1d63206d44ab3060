#include "tls_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	int ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

struct cert_spec {
	const char *cn;
	long serial;
	const char *basic;
	const char *usage;
	const char *ext_usage; /* NULL: none */
	const char *alt_name;  /* NULL: none */
};

/* issuer/issuer_key NULL: self-signed. */
static X509 *make_cert(const struct cert_spec *spec, EVP_PKEY *key, X509 *issuer,
                       EVP_PKEY *issuer_key)
{
	X509 *cert = X509_new();
	if (cert == NULL)
		return NULL;
	X509 *signer = issuer != NULL ? issuer : cert;
	EVP_PKEY *signer_key = issuer_key != NULL ? issuer_key : key;
	int ok = X509_set_version(cert, 2) == 1 &&
	         ASN1_INTEGER_set(X509_get_serialNumber(cert), spec->serial) == 1 &&
	         X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != NULL &&
	         X509_gmtime_adj(X509_getm_notAfter(cert), 86400) != NULL &&
	         X509_set_pubkey(cert, key) == 1 &&
	         X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
	                                    (const unsigned char *)spec->cn, -1, -1, 0) == 1 &&
	         X509_set_issuer_name(cert, X509_get_subject_name(signer)) == 1;
	ok = ok && add_ext(cert, signer, NID_basic_constraints, spec->basic) == 0 &&
	     add_ext(cert, signer, NID_key_usage, spec->usage) == 0 &&
	     add_ext(cert, signer, NID_subject_key_identifier, "hash") == 0 &&
	     add_ext(cert, signer, NID_authority_key_identifier, "keyid:always") == 0;
	if (ok && spec->ext_usage != NULL)
		ok = add_ext(cert, signer, NID_ext_key_usage, spec->ext_usage) == 0;
	if (ok && spec->alt_name != NULL)
		ok = add_ext(cert, signer, NID_subject_alt_name, spec->alt_name) == 0;
	if (ok)
		ok = X509_sign(cert, signer_key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

int tls_fixture_make(struct tls_fixture *pki)
{
	static const struct cert_spec ca = {
		"pkcs11wsop-test-ca",           1,    "critical,CA:TRUE",
		"critical,keyCertSign,cRLSign", NULL, NULL
	};
	static const struct cert_spec server = { TLS_FIXTURE_SERVER_NAME,
		                                 2,
		                                 "critical,CA:FALSE",
		                                 "critical,digitalSignature",
		                                 "serverAuth",
		                                 "DNS:" TLS_FIXTURE_SERVER_NAME };
	static const struct cert_spec client = { TLS_FIXTURE_CLIENT_CN, 3,
		                                 "critical,CA:FALSE",   "critical,digitalSignature",
		                                 "clientAuth",          NULL };
	memset(pki, 0, sizeof(*pki));
	pki->ca_key = EVP_EC_gen("P-256");
	pki->server_key = EVP_EC_gen("P-256");
	pki->client_key = EVP_EC_gen("P-256");
	if (pki->ca_key != NULL && pki->server_key != NULL && pki->client_key != NULL)
		pki->ca = make_cert(&ca, pki->ca_key, NULL, NULL);
	if (pki->ca != NULL) {
		pki->server = make_cert(&server, pki->server_key, pki->ca, pki->ca_key);
		pki->client = make_cert(&client, pki->client_key, pki->ca, pki->ca_key);
	}
	if (pki->server == NULL || pki->client == NULL) {
		tls_fixture_free(pki);
		return -1;
	}
	return 0;
}

void tls_fixture_free(struct tls_fixture *pki)
{
	X509_free(pki->ca);
	X509_free(pki->server);
	X509_free(pki->client);
	EVP_PKEY_free(pki->ca_key);
	EVP_PKEY_free(pki->server_key);
	EVP_PKEY_free(pki->client_key);
	memset(pki, 0, sizeof(*pki));
}

static SSL_CTX *make_ctx(const SSL_METHOD *method, X509 *ca, X509 *cert, EVP_PKEY *key, int verify)
{
	SSL_CTX *ctx = SSL_CTX_new(method);
	if (ctx == NULL)
		return NULL;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1 ||
	    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, verify, NULL);
	return ctx;
}

SSL_CTX *tls_fixture_client_ctx(const struct tls_fixture *pki)
{
	return make_ctx(TLS_client_method(), pki->ca, pki->client, pki->client_key,
	                SSL_VERIFY_PEER);
}

SSL_CTX *tls_fixture_server_ctx(const struct tls_fixture *pki)
{
	static const unsigned char sid_ctx[] = "pkcs11wsop-test";
	SSL_CTX *ctx = make_ctx(TLS_server_method(), pki->ca, pki->server, pki->server_key,
	                        SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
	/* Resuming a session whose client was verified needs a context id. */
	if (ctx != NULL && SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static const char *const client_files[] = { "ca.pem", "client.pem", "client.key" };

static int file_path(char *out, size_t size, const char *dir, const char *name)
{
	int len = snprintf(out, size, "%s/%s", dir, name);
	return len > 0 && (size_t)len < size ? 0 : -1;
}

static int write_pem(const char *dir, const char *name, X509 *cert, EVP_PKEY *key)
{
	char path[4096];
	if (file_path(path, sizeof(path), dir, name) != 0)
		return -1;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	BIO *bio = BIO_new_fd(fd, BIO_CLOSE);
	if (bio == NULL) {
		close(fd);
		return -1;
	}
	int ok = cert != NULL ? PEM_write_bio_X509(bio, cert)
	                      : PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
	BIO_free(bio);
	return ok == 1 ? 0 : -1;
}

int tls_fixture_write_client_files(const struct tls_fixture *pki, const char *dir)
{
	if (write_pem(dir, client_files[0], pki->ca, NULL) != 0 ||
	    write_pem(dir, client_files[1], pki->client, NULL) != 0 ||
	    write_pem(dir, client_files[2], NULL, pki->client_key) != 0)
		return -1;
	return 0;
}

void tls_fixture_remove_client_files(const char *dir)
{
	char path[4096];
	for (size_t i = 0; i < sizeof(client_files) / sizeof(client_files[0]); i++) {
		if (file_path(path, sizeof(path), dir, client_files[i]) == 0)
			(void)unlink(path);
	}
	(void)rmdir(dir);
}

SSL_CTX *tls_fixture_client_ctx_from_files(const char *dir)
{
	char ca[4096], cert[4096], key[4096];
	if (file_path(ca, sizeof(ca), dir, client_files[0]) != 0 ||
	    file_path(cert, sizeof(cert), dir, client_files[1]) != 0 ||
	    file_path(key, sizeof(key), dir, client_files[2]) != 0)
		return NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
		return NULL;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1 || SSL_CTX_load_verify_file(ctx, ca) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

int tls_fixture_read_exactly(SSL *ssl, char *buf, size_t len)
{
	size_t have = 0;
	while (have < len) {
		int got = SSL_read(ssl, buf + have, (int)(len - have));
		if (got <= 0)
			return -1;
		have += (size_t)got;
	}
	return 0;
}

/* 0 when the client presented the test client certificate. */
static int check_client(SSL *ssl)
{
	X509 *peer = SSL_get1_peer_certificate(ssl);
	if (peer == NULL)
		return -1;
	char cn[128] = { 0 };
	int len =
	    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof(cn));
	X509_free(peer);
	if (len <= 0 || strcmp(cn, TLS_FIXTURE_CLIENT_CN) != 0)
		return -1;
	return SSL_get_verify_result(ssl) == X509_V_OK ? 0 : -1;
}

static int serve_one(SSL_CTX *ctx, int fd)
{
	SSL *ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return 1;
	}
	int rc = 0;
	char request[sizeof(TLS_FIXTURE_REQUEST) - 1];
	if (SSL_accept(ssl) != 1) {
		rc = 2;
		ERR_print_errors_fp(stderr);
	} else if (check_client(ssl) != 0)
		rc = 3;
	else if (tls_fixture_read_exactly(ssl, request, sizeof(request)) != 0 ||
	         memcmp(request, TLS_FIXTURE_REQUEST, sizeof(request)) != 0)
		rc = 4;
	else if (SSL_write(ssl, TLS_FIXTURE_ANSWER, (int)strlen(TLS_FIXTURE_ANSWER)) <= 0)
		rc = 5;
	if (rc == 0)
		(void)SSL_shutdown(ssl);
	SSL_free(ssl);
	return rc;
}

static int accept_one(int listener)
{
	struct pollfd pfd = { .fd = listener, .events = POLLIN };
	if (poll(&pfd, 1, 20000) != 1)
		return -1;
	int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -1;
	/* A client that dies mid-handshake must not hang the test. */
	struct timeval limit = { 20, 0 };
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	return fd;
}

static void serve(const struct tls_fixture *pki, int listener, int connections)
{
	SSL_CTX *ctx = tls_fixture_server_ctx(pki);
	if (ctx == NULL)
		_exit(10);
	for (int i = 0; i < connections; i++) {
		int fd = accept_one(listener);
		if (fd < 0)
			_exit(11);
		int rc = serve_one(ctx, fd);
		close(fd);
		if (rc != 0)
			_exit(20 + rc);
	}
	SSL_CTX_free(ctx);
	_exit(0);
}

pid_t tls_fixture_server_start(const struct tls_fixture *pki, int connections, int *port)
{
	int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listener < 0)
		return -1;
	struct sockaddr_in at = { .sin_family = AF_INET };
	at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t at_len = sizeof(at);
	if (bind(listener, (struct sockaddr *)&at, sizeof(at)) != 0 || listen(listener, 4) != 0 ||
	    getsockname(listener, (struct sockaddr *)&at, &at_len) != 0) {
		close(listener);
		return -1;
	}
	*port = ntohs(at.sin_port);
	(void)fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		serve(pki, listener, connections);
	close(listener);
	return pid;
}
