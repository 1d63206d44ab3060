/*
 * The helper's credentials: the client certificate (with its chain), the
 * client private key and the CA that must have signed the server, read
 * from the paths in the configuration before the helper confines itself
 * (afterwards it can open no file), together with openssl.cnf.
 *
 * Reading them, checking the key file's mode and that the key matches the
 * certificate is all that happens before READY, so that a bad credential
 * still fails the start. The client SSL_CTX is built from them at the
 * first connection (creds_tls_context): SSL_CTX_new fetches every cipher
 * and digest, a third of a start's OpenSSL time, which a C_Initialize +
 * C_Finalize that never connects does not need. What the TLS layer alone
 * can refuse (a key or signature below its security level) is therefore
 * reported by the first CONNECT, as CHAN_E_CREDENTIALS.
 *
 * The context: TLS 1.2 or later, the server verified against AUTH (the
 * name is set per connection), the client certificate always offered, an
 * encrypted key refused (there is nobody to ask for its passphrase), and
 * a peer that closes TCP without close_notify read as end of stream (HTTP
 * bodies carry their length, so a cut answer is still noticed above us).
 *
 * The key file is refused, as ssh refuses one, when it is not a regular
 * file or when its mode grants any access to others, or write or execute
 * to its group; the check is made on the opened file (fstat), so it holds
 * for root too. Group READ is allowed in one case only: the helper runs
 * set-group-id (installed setgid to a key group) and the file's group is
 * that effective group. There the group is what keeps the key from the
 * application's own account, so the group bit is the point, not a leak.
 */
#ifndef PKCS11WSOP_HELPER_CREDENTIALS_H
#define PKCS11WSOP_HELPER_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "conf/config.h"

/* Largest key file read; a PEM key of any usual type is far smaller. */
#define CREDS_KEY_FILE_MAX 65536

struct creds;

/* Reads and checks cfg->cert, cfg->key and cfg->auth. Returns 0 and *out,
 * or an enum chan_error value (CHAN_E_CREDENTIALS for a file that is
 * missing, unreadable, malformed, too open or not matching; CHAN_E_INTERNAL
 * for OpenSSL failing on its own) with the cause in why[why_cap], naming
 * the file. Key bytes read are wiped. */
int creds_load(const struct wsop_config *cfg, struct creds **out, char *why, size_t why_cap);

/* The client context: TLS 1.2 or later, the server verified against AUTH
 * (the name is set per connection), the client certificate always offered,
 * an encrypted key refused, a peer that closes TCP without close_notify
 * read as end of stream. Built at the first call and kept; a failure
 * (CHAN_E_CREDENTIALS when the TLS layer refuses CERT or KEY, else
 * CHAN_E_INTERNAL, why set) is tried again at the next call. */
int creds_tls_context(struct creds *c, SSL_CTX **out, char *why, size_t why_cap);

/* What the key file rule needs to know about the running helper. */
struct creds_privs {
	/* Started set-group-id: AT_SECURE and an effective gid that is not the
	 * real one (a setuid-only or capability start does not count). */
	bool set_group_id;
	/* The effective gid (the key group when set_group_id). */
	gid_t egid;
};

/* The facts for this process: getauxval(AT_SECURE), getgid(), getegid(). */
void creds_current_privs(struct creds_privs *out);

/* The key file rule on its own, on the facts given (so that it can be
 * tested without a setgid install): 0 when mode is a regular file that
 * others cannot access and its group cannot write or execute, and that its
 * group cannot read either unless privs->set_group_id and file_gid ==
 * privs->egid; else CHAN_E_CREDENTIALS and the reason, naming path. */
int creds_check_key_mode(const char *path, mode_t mode, gid_t file_gid,
                         const struct creds_privs *privs, char *why, size_t why_cap);

#endif
