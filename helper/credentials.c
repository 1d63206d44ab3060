/* Credential loading; the contract is in credentials.h. */
#include "helper/credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "ipc/channel.h"

/* The last OpenSSL error as text, or a fallback. */
static const char *ssl_reason(char *buf, size_t cap)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		return "unknown error";
	ERR_error_string_n(e, buf, cap);
	return buf;
}

void creds_current_privs(struct creds_privs *out)
{
	out->egid = getegid();
	out->set_group_id = getauxval(AT_SECURE) != 0 && out->egid != getgid();
}

int creds_check_key_mode(const char *path, mode_t mode, gid_t file_gid,
                         const struct creds_privs *privs, char *why, size_t why_cap)
{
	if (!S_ISREG(mode)) {
		snprintf(why, why_cap, "KEY %s is not a regular file", path);
		return CHAN_E_CREDENTIALS;
	}
	/* Group read is the whole point of a setgid install, and only there:
	 * anywhere else it hands the key to every member of the group. */
	mode_t group_allowed = 0;
	if (privs->set_group_id && file_gid == privs->egid)
		group_allowed = S_IRGRP;
	if ((mode & S_IRWXO) != 0 || (mode & S_IRWXG & ~group_allowed) != 0) {
		if (privs->set_group_id)
			snprintf(why, why_cap,
			         "permissions %04o (group %u) for KEY %s are too open: the "
			         "private key may be readable only by its owner and by the "
			         "helper's group %u (chown root:%u, chmod 640)",
			         (unsigned)(mode & 07777), (unsigned)file_gid, path,
			         (unsigned)privs->egid, (unsigned)privs->egid);
		else
			snprintf(why, why_cap,
			         "permissions %04o for KEY %s are too open: the private key must "
			         "not be accessible by group or others (chmod 600)",
			         (unsigned)(mode & 07777), path);
		return CHAN_E_CREDENTIALS;
	}
	return 0;
}

/* Never prompts: a helper has no terminal, and an encrypted key has no
 * passphrase in the configuration. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Reads the whole regular file on fd (size checked before allocating) into
 * a fresh buffer. Returns 0, -EFBIG, -ENOMEM or -errno. */
static int read_bounded(int fd, off_t size, unsigned char **out, size_t *out_len)
{
	if (size < 0 || size > CREDS_KEY_FILE_MAX)
		return -EFBIG;
	unsigned char *buf = malloc((size_t)size + 1);
	if (buf == NULL)
		return -ENOMEM;
	size_t got = 0;
	while (got < (size_t)size) {
		ssize_t n = read(fd, buf + got, (size_t)size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? -errno : -EIO;
			OPENSSL_cleanse(buf, (size_t)size + 1);
			free(buf);
			return err;
		}
		got += (size_t)n;
	}
	*out = buf;
	*out_len = got;
	return 0;
}

/* Opens the key file, checks its type and mode on the open file, and parses
 * it. Returns 0 and *out, or CHAN_E_CREDENTIALS with why. */
static int load_key(const char *path, EVP_PKEY **out, char *why, size_t why_cap)
{
	char err[256];
	struct stat st;
	/* O_NONBLOCK so that a FIFO named as KEY cannot hang the start. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		snprintf(why, why_cap, "cannot open KEY %s: %s", path, strerror(errno));
		return CHAN_E_CREDENTIALS;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(why, why_cap, "cannot stat KEY %s: %s", path, strerror(errno));
		close(fd);
		return CHAN_E_CREDENTIALS;
	}
	struct creds_privs privs;
	creds_current_privs(&privs);
	int rc = creds_check_key_mode(path, st.st_mode, st.st_gid, &privs, why, why_cap);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	unsigned char *pem = NULL;
	size_t pem_len = 0;
	rc = read_bounded(fd, st.st_size, &pem, &pem_len);
	close(fd);
	if (rc != 0) {
		snprintf(why, why_cap, "cannot read KEY %s: %s", path,
		         rc == -EFBIG ? "file too large" : strerror(-rc));
		return CHAN_E_CREDENTIALS;
	}
	BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
	EVP_PKEY *key =
	    bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	OPENSSL_cleanse(pem, pem_len);
	free(pem);
	if (key == NULL) {
		snprintf(why, why_cap, "KEY %s is not an unencrypted PEM private key: %s", path,
		         ssl_reason(err, sizeof(err)));
		return CHAN_E_CREDENTIALS;
	}
	*out = key;
	return 0;
}

/* The credentials parsed and checked before READY, and the context built
 * from them at the first connection. */
struct creds {
	char cert_path[CONFIG_PATH_MAX];
	char key_path[CONFIG_PATH_MAX];
	X509 *leaf;
	STACK_OF(X509) * chain; /* the certificates after the leaf in CERT */
	EVP_PKEY *key;
	X509_STORE *trust; /* AUTH */
	SSL_CTX *ctx;      /* NULL until the first connection */
};

static void creds_free(struct creds *c)
{
	X509_free(c->leaf);
	sk_X509_pop_free(c->chain, X509_free);
	EVP_PKEY_free(c->key);
	X509_STORE_free(c->trust);
	SSL_CTX_free(c->ctx);
	free(c);
}

/* OpenSSL says only "system lib" for a file it cannot open: name the
 * errno ourselves first. */
static int check_readable(const char *what, const char *path, char *why, size_t why_cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		snprintf(why, why_cap, "cannot open %s %s: %s", what, path, strerror(errno));
		return CHAN_E_CREDENTIALS;
	}
	close(fd);
	return 0;
}

/* CERT as SSL_CTX_use_certificate_chain_file reads it: the leaf, then any
 * number of chain certificates up to the end of the file. */
static int read_cert_chain(struct creds *c, const char *path)
{
	BIO *in = BIO_new_file(path, "r");

	if (in == NULL)
		return -1;
	c->leaf = PEM_read_bio_X509_AUX(in, NULL, no_passphrase, NULL);
	c->chain = sk_X509_new_null();
	if (c->leaf == NULL || c->chain == NULL) {
		BIO_free(in);
		return -1;
	}
	X509 *x;
	while ((x = PEM_read_bio_X509(in, NULL, no_passphrase, NULL)) != NULL) {
		if (sk_X509_push(c->chain, x) <= 0) {
			X509_free(x);
			BIO_free(in);
			return -1;
		}
	}
	BIO_free(in);
	/* The end of the file is the one way the loop may stop. */
	unsigned long e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
		return -1;
	ERR_clear_error();
	return 0;
}

static int read_files(struct creds *c, const struct wsop_config *cfg, char *why, size_t why_cap)
{
	char err[256];

	if (check_readable("CERT", cfg->cert, why, why_cap) != 0 ||
	    check_readable("AUTH", cfg->auth, why, why_cap) != 0)
		return CHAN_E_CREDENTIALS;
	if (read_cert_chain(c, cfg->cert) != 0) {
		snprintf(why, why_cap, "cannot load CERT %s: %s", cfg->cert,
		         ssl_reason(err, sizeof(err)));
		return CHAN_E_CREDENTIALS;
	}
	int rc = load_key(cfg->key, &c->key, why, why_cap);
	if (rc != 0)
		return rc;
	if (X509_check_private_key(c->leaf, c->key) != 1) {
		snprintf(why, why_cap, "KEY %s does not match CERT %s", cfg->key, cfg->cert);
		return CHAN_E_CREDENTIALS;
	}
	c->trust = X509_STORE_new();
	if (c->trust == NULL || X509_STORE_load_file(c->trust, cfg->auth) != 1) {
		snprintf(why, why_cap, "cannot load AUTH %s: %s", cfg->auth,
		         ssl_reason(err, sizeof(err)));
		return CHAN_E_CREDENTIALS;
	}
	return 0;
}

int creds_load(const struct wsop_config *cfg, struct creds **out, char *why, size_t why_cap)
{
	char err[256];

	*out = NULL;
	ERR_clear_error();
	/* openssl.cnf (system crypto policy, providers it activates) is read
	 * now, while files can still be opened. */
	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1) {
		snprintf(why, why_cap, "cannot initialise OpenSSL: %s",
		         ssl_reason(err, sizeof(err)));
		return CHAN_E_INTERNAL;
	}
	struct creds *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(why, why_cap, "out of memory");
		return CHAN_E_INTERNAL;
	}
	snprintf(c->cert_path, sizeof(c->cert_path), "%s", cfg->cert);
	snprintf(c->key_path, sizeof(c->key_path), "%s", cfg->key);
	int rc = read_files(c, cfg, why, why_cap);
	if (rc != 0) {
		creds_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

static int setup_context(SSL_CTX *ctx, char *why, size_t why_cap)
{
	char err[256];

	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		snprintf(why, why_cap, "cannot require TLS 1.2: %s", ssl_reason(err, sizeof(err)));
		return CHAN_E_INTERNAL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	return 0;
}

/* The credentials into ctx. What can still fail here is a certificate or
 * key that the TLS layer itself refuses (its security level). */
static int use_credentials(struct creds *c, SSL_CTX *ctx, char *why, size_t why_cap)
{
	char err[256];

	if (SSL_CTX_use_certificate(ctx, c->leaf) != 1 || SSL_CTX_set1_chain(ctx, c->chain) != 1) {
		snprintf(why, why_cap, "cannot use CERT %s: %s", c->cert_path,
		         ssl_reason(err, sizeof(err)));
		return CHAN_E_CREDENTIALS;
	}
	if (SSL_CTX_use_PrivateKey(ctx, c->key) != 1) {
		snprintf(why, why_cap, "cannot use KEY %s: %s", c->key_path,
		         ssl_reason(err, sizeof(err)));
		return CHAN_E_CREDENTIALS;
	}
	if (X509_STORE_up_ref(c->trust) != 1) {
		snprintf(why, why_cap, "cannot use AUTH: %s", ssl_reason(err, sizeof(err)));
		return CHAN_E_INTERNAL;
	}
	SSL_CTX_set_cert_store(ctx, c->trust);
	return 0;
}

int creds_tls_context(struct creds *c, SSL_CTX **out, char *why, size_t why_cap)
{
	char err[256];

	if (c->ctx != NULL) {
		*out = c->ctx;
		return 0;
	}
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		snprintf(why, why_cap, "cannot create a TLS context: %s",
		         ssl_reason(err, sizeof(err)));
		return CHAN_E_INTERNAL;
	}
	int rc = setup_context(ctx, why, why_cap);
	if (rc == 0)
		rc = use_credentials(c, ctx, why, why_cap);
	if (rc != 0) {
		SSL_CTX_free(ctx);
		return rc;
	}
	c->ctx = ctx;
	*out = ctx;
	return 0;
}
