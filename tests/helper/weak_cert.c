/* The refused-by-TLS credential of weak_cert.h. */
#include "tests/helper/weak_cert.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

static void *read_pem(const char *pki, const char *name, int is_key)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", pki, name);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	void *obj = is_key ? (void *)PEM_read_PrivateKey(f, NULL, NULL, NULL)
	                   : (void *)PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return obj;
}

static FILE *create(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL && fd >= 0)
		close(fd);
	return f;
}

static X509 *make_cert(EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	int ok = x != NULL && name != NULL && X509_set_version(x, X509_VERSION_3) == 1 &&
	         ASN1_INTEGER_set(X509_get_serialNumber(x), 0x5eed) == 1 &&
	         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                                    (const unsigned char *)"weak client", -1, -1, 0) == 1 &&
	         X509_set_subject_name(x, name) == 1 &&
	         X509_set_issuer_name(x, X509_get_subject_name(ca)) == 1 &&
	         X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
	         X509_gmtime_adj(X509_getm_notAfter(x), 86400) != NULL &&
	         X509_set_pubkey(x, key) == 1 && X509_sign(x, ca_key, EVP_sha256()) > 0;
	X509_NAME_free(name);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int weak_cert_write(const char *pki, const char *dir)
{
	X509 *ca = read_pem(pki, "ca.crt", 0);
	EVP_PKEY *ca_key = read_pem(pki, "ca.key", 1);
	EVP_PKEY *key = EVP_RSA_gen(512);
	X509 *cert =
	    ca != NULL && ca_key != NULL && key != NULL ? make_cert(key, ca, ca_key) : NULL;
	FILE *kf = cert != NULL ? create(dir, "weak-client.key") : NULL;
	FILE *cf = kf != NULL ? create(dir, "weak-client.crt") : NULL;
	int ok = cf != NULL && PEM_write_PrivateKey(kf, key, NULL, NULL, 0, NULL, NULL) == 1 &&
	         PEM_write_X509(cf, cert) == 1;
	if (kf != NULL && fclose(kf) != 0)
		ok = 0;
	if (cf != NULL && fclose(cf) != 0)
		ok = 0;
	X509_free(cert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	X509_free(ca);
	return ok ? 0 : -1;
}
