/*
 * A throw-away PKI and a one-connection mTLS server for the confinement
 * tests: an EC P-256 CA, a server leaf for "localhost" and a client leaf,
 * all made in memory with the OpenSSL API.
 */
#ifndef PKCS11WSOP_TESTS_SECURITY_TLS_FIXTURE_H
#define PKCS11WSOP_TESTS_SECURITY_TLS_FIXTURE_H

#include <openssl/ssl.h>
#include <sys/types.h>

#define TLS_FIXTURE_SERVER_NAME "localhost"
#define TLS_FIXTURE_CLIENT_CN   "pkcs11wsop-test-client"
#define TLS_FIXTURE_REQUEST     "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"
#define TLS_FIXTURE_ANSWER      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

struct tls_fixture {
	EVP_PKEY *ca_key;
	X509 *ca;
	EVP_PKEY *server_key;
	X509 *server;
	EVP_PKEY *client_key;
	X509 *client;
};

/* Returns 0, or -1 with everything freed. */
int tls_fixture_make(struct tls_fixture *pki);
void tls_fixture_free(struct tls_fixture *pki);

/* TLS 1.3 only, verifying the peer against the CA; the client context
 * carries the client leaf, the server one demands a client certificate. */
SSL_CTX *tls_fixture_client_ctx(const struct tls_fixture *pki);
SSL_CTX *tls_fixture_server_ctx(const struct tls_fixture *pki);

/* Writes ca.pem, client.pem and client.key (mode 0600) into dir, the
 * files a real helper loads before it confines itself. Returns 0 or -1. */
int tls_fixture_write_client_files(const struct tls_fixture *pki, const char *dir);

/* Removes what tls_fixture_write_client_files() wrote, and dir. */
void tls_fixture_remove_client_files(const char *dir);

/* The client context of tls_fixture_client_ctx(), loaded from those files. */
SSL_CTX *tls_fixture_client_ctx_from_files(const char *dir);

/* Reads exactly len bytes from ssl. Returns 0, or -1 on error or EOF. */
int tls_fixture_read_exactly(SSL *ssl, char *buf, size_t len);

/* Listens on 127.0.0.1 (port in *port) and forks a server that serves
 * `connections` connections one after another: handshake, check the
 * client's CN, read TLS_FIXTURE_REQUEST, answer TLS_FIXTURE_ANSWER. It
 * exits 0 when all went so. Returns its pid, or -1. */
pid_t tls_fixture_server_start(const struct tls_fixture *pki, int connections, int *port);

#endif
