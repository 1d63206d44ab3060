/*
 * A client credential that parses and matches but that the TLS layer
 * refuses: an RSA-512 key (below every OpenSSL security level) with a
 * certificate for it signed by the test PKI's CA.
 */
#ifndef PKCS11WSOP_TESTS_HELPER_WEAK_CERT_H
#define PKCS11WSOP_TESTS_HELPER_WEAK_CERT_H

#include <stddef.h>

/* Writes weak-client.key (0600) and weak-client.crt into dir, the
 * certificate signed by pki/ca.crt with pki/ca.key. 0, or -1. */
int weak_cert_write(const char *pki, const char *dir);

#endif
