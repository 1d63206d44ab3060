/*
 * The helper's credentials: the client certificate (with its chain), the
 * client private key and the CA that must have signed the server, loaded
 * from the paths in the configuration into one client SSL_CTX, before the
 * helper confines itself (afterwards it can open no file).
 *
 * The context: TLS 1.2 or later, the server verified against AUTH (the
 * name is set per connection), the client certificate always offered, an
 * encrypted key refused (there is nobody to ask for its passphrase), and
 * a peer that closes TCP without close_notify read as end of stream (HTTP
 * bodies carry their length, so a cut answer is still noticed above us).
 *
 * The key file is refused, as ssh refuses one, when it is not a regular
 * file or when its mode grants any access to group or others; the check is
 * made on the opened file (fstat), so it holds for root too.
 */
#ifndef PKCS11WSOP_HELPER_CREDENTIALS_H
#define PKCS11WSOP_HELPER_CREDENTIALS_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "conf/config.h"

/* Largest key file read; a PEM key of any usual type is far smaller. */
#define CREDS_KEY_FILE_MAX 65536

/* Builds the client context from cfg->cert, cfg->key and cfg->auth.
 * Returns 0 and *out, or an enum chan_error value (CHAN_E_CREDENTIALS for
 * a file that is missing, unreadable, malformed, too open or not matching;
 * CHAN_E_INTERNAL for OpenSSL failing on its own) with the cause in
 * why[why_cap], naming the file. Key bytes read are wiped. */
int creds_load(const struct wsop_config *cfg, SSL_CTX **out, char *why, size_t why_cap);

/* The key file rule on its own: 0 when mode is a regular file that group
 * and others cannot access, else CHAN_E_CREDENTIALS and the reason. */
int creds_check_key_mode(const char *path, mode_t mode, char *why, size_t why_cap);

#endif
