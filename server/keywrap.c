/*
 * wsopd's key hierarchy. See keywrap.h for the contract and the formulas.
 */
#include "keywrap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define SCRYPT_N       (1u << 14)
#define SCRYPT_R       8u
#define SCRYPT_P       1u
#define SCRYPT_OUT_LEN 32
/* N=2^14, r=8 needs 128*r*N = 16 MiB; leave room for OpenSSL's accounting. */
#define SCRYPT_MAXMEM (64u * 1024u * 1024u)
#define KEK_INFO      "wsopd kek v1"

/* ---- helpers ------------------------------------------------------------ */

static bool is_softcard_id(const char *id)
{
	if (id == NULL)
		return false;
	for (size_t i = 0; i < KEYWRAP_SOFTCARD_ID_LEN; i++) {
		char c = id[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return id[KEYWRAP_SOFTCARD_ID_LEN] == '\0';
}

static bool is_key_len(size_t n)
{
	return n == 16 || n == 24 || n == 32;
}

/* See keywrap.h. */
int keywrap_gcm(bool encrypt, const uint8_t key[KEYWRAP_KEK_LEN],
                const uint8_t nonce[KEYWRAP_NONCE_LEN], const uint8_t *aad1, size_t aad1_len,
                const uint8_t *aad2, size_t aad2_len, const uint8_t *in, size_t in_len,
                uint8_t *out, uint8_t tag[KEYWRAP_TAG_LEN])
{
	int rc = KEYWRAP_ERR_CRYPTO;
	int n = 0;
	if (in_len > INT_MAX || aad1_len > INT_MAX || aad2_len > INT_MAX)
		return KEYWRAP_ERR_ARG;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return KEYWRAP_ERR_CRYPTO;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt ? 1 : 0) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, KEYWRAP_NONCE_LEN, NULL) != 1)
		goto out;
	if (EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, encrypt ? 1 : 0) != 1)
		goto out;
	if (aad1_len > 0 && EVP_CipherUpdate(ctx, NULL, &n, aad1, (int)aad1_len) != 1)
		goto out;
	if (aad2_len > 0 && EVP_CipherUpdate(ctx, NULL, &n, aad2, (int)aad2_len) != 1)
		goto out;
	if (in_len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)in_len) != 1)
		goto out;
	if (!encrypt && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, KEYWRAP_TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + in_len, &n) != 1) {
		/* For decryption this is the tag check failing. */
		rc = encrypt ? KEYWRAP_ERR_CRYPTO : KEYWRAP_ERR_TAMPERED;
		goto out;
	}
	if (encrypt && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, KEYWRAP_TAG_LEN, tag) != 1)
		goto out;
	rc = KEYWRAP_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* ---- master key ----------------------------------------------------------- */

static int master_path(const char *dir, char *path, size_t cap)
{
	int n = snprintf(path, cap, "%s/%s", dir, KEYWRAP_MASTER_FILE);
	if (n < 0 || (size_t)n >= cap)
		return KEYWRAP_ERR_ARG;
	return KEYWRAP_OK;
}

static int read_exact(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return KEYWRAP_ERR_IO;
		got += (size_t)r;
	}
	return KEYWRAP_OK;
}

static int write_exact(int fd, const uint8_t *buf, size_t len)
{
	size_t put = 0;
	while (put < len) {
		ssize_t w = write(fd, buf + put, len - put);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return KEYWRAP_ERR_IO;
		put += (size_t)w;
	}
	return KEYWRAP_OK;
}

/* The directory entry of a new file is durable only once the directory
 * itself is synced. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return KEYWRAP_ERR_IO;
	int rc = fsync(fd) == 0 ? KEYWRAP_OK : KEYWRAP_ERR_IO;
	close(fd);
	return rc;
}

static int master_read(int fd, struct keywrap_master *out)
{
	struct stat sb;
	if (fstat(fd, &sb) != 0)
		return KEYWRAP_ERR_IO;
	if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		return KEYWRAP_ERR_MASTER_PERMS;
	if (sb.st_size != KEYWRAP_MASTER_LEN)
		return KEYWRAP_ERR_MASTER_SIZE;
	int rc = read_exact(fd, out->key, sizeof(out->key));
	if (rc == KEYWRAP_OK) {
		uint8_t extra;
		ssize_t r;
		do {
			r = read(fd, &extra, 1);
		} while (r < 0 && errno == EINTR);
		if (r != 0)
			rc = r < 0 ? KEYWRAP_ERR_IO : KEYWRAP_ERR_MASTER_SIZE;
	}
	if (rc != KEYWRAP_OK)
		OPENSSL_cleanse(out->key, sizeof(out->key));
	return rc;
}

/* Creates the file with a fresh key. When another process created it
 * first, returns KEYWRAP_ERR_IO with *raced set so the caller reads theirs. */
static int master_create(const char *dir, const char *path, struct keywrap_master *out, bool *raced)
{
	*raced = false;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		*raced = errno == EEXIST;
		return KEYWRAP_ERR_IO;
	}
	int rc = KEYWRAP_OK;
	if (RAND_priv_bytes(out->key, (int)sizeof(out->key)) != 1)
		rc = KEYWRAP_ERR_CRYPTO;
	if (rc == KEYWRAP_OK)
		rc = write_exact(fd, out->key, sizeof(out->key));
	if (rc == KEYWRAP_OK && fsync(fd) != 0)
		rc = KEYWRAP_ERR_IO;
	if (close(fd) != 0 && rc == KEYWRAP_OK)
		rc = KEYWRAP_ERR_IO;
	if (rc == KEYWRAP_OK)
		rc = sync_dir(dir);
	if (rc != KEYWRAP_OK) {
		/* A short file would make every later start refuse: remove it. */
		unlink(path);
		OPENSSL_cleanse(out->key, sizeof(out->key));
	}
	return rc;
}

int keywrap_master_load(const char *store_dir, struct keywrap_master *out)
{
	char path[PATH_MAX];
	if (store_dir == NULL || out == NULL)
		return KEYWRAP_ERR_ARG;
	OPENSSL_cleanse(out->key, sizeof(out->key));
	int rc = master_path(store_dir, path, sizeof(path));
	if (rc != KEYWRAP_OK)
		return rc;
	/* Two tries: a concurrent first start may create the file between our
	 * failed open and our O_EXCL create. */
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			rc = master_read(fd, out);
			close(fd);
			return rc;
		}
		if (errno == ELOOP)
			return KEYWRAP_ERR_MASTER_PERMS;
		if (errno != ENOENT)
			return KEYWRAP_ERR_IO;
		bool raced = false;
		rc = master_create(store_dir, path, out, &raced);
		if (!raced)
			return rc;
	}
	return KEYWRAP_ERR_IO;
}

int keywrap_master_load_file(const char *path, struct keywrap_master *out)
{
	if (path == NULL || out == NULL)
		return KEYWRAP_ERR_ARG;
	OPENSSL_cleanse(out->key, sizeof(out->key));
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? KEYWRAP_ERR_MASTER_PERMS : KEYWRAP_ERR_IO;
	int rc = master_read(fd, out);
	close(fd);
	return rc;
}

void keywrap_master_wipe(struct keywrap_master *master)
{
	if (master != NULL)
		OPENSSL_cleanse(master->key, sizeof(master->key));
}

/* ---- KEK -------------------------------------------------------------------- */

int keywrap_new_salt(uint8_t salt[KEYWRAP_SALT_LEN])
{
	if (salt == NULL)
		return KEYWRAP_ERR_ARG;
	return RAND_bytes(salt, KEYWRAP_SALT_LEN) == 1 ? KEYWRAP_OK : KEYWRAP_ERR_CRYPTO;
}

static int kdf_derive(const char *name, OSSL_PARAM *params, uint8_t *out, size_t out_len)
{
	int rc = KEYWRAP_ERR_CRYPTO;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, name, NULL);
	if (kdf == NULL)
		return KEYWRAP_ERR_CRYPTO;
	EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
	if (ctx != NULL && EVP_KDF_derive(ctx, out, out_len, params) == 1)
		rc = KEYWRAP_OK;
	EVP_KDF_CTX_free(ctx); /* cleanses the copies of the secret inputs */
	EVP_KDF_free(kdf);
	return rc;
}

static int scrypt_passphrase(const char *passphrase, size_t passphrase_len,
                             const uint8_t salt[KEYWRAP_SALT_LEN], uint8_t out[SCRYPT_OUT_LEN])
{
	uint64_t n = SCRYPT_N;
	uint32_t r = SCRYPT_R, p = SCRYPT_P;
	uint64_t maxmem = SCRYPT_MAXMEM;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)passphrase,
		                                  passphrase_len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
		                                  KEYWRAP_SALT_LEN),
		OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
		OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
		OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
		OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
		OSSL_PARAM_construct_end(),
	};
	return kdf_derive("SCRYPT", params, out, SCRYPT_OUT_LEN);
}

int keywrap_derive_kek(const struct keywrap_master *master, const char *passphrase,
                       size_t passphrase_len, const uint8_t salt[KEYWRAP_SALT_LEN],
                       const char *softcard_id, struct keywrap_kek *out)
{
	if (out == NULL)
		return KEYWRAP_ERR_ARG;
	OPENSSL_cleanse(out->key, sizeof(out->key));
	if (master == NULL || passphrase == NULL || passphrase_len == 0 ||
	    passphrase_len > KEYWRAP_PASSPHRASE_MAX || salt == NULL || !is_softcard_id(softcard_id))
		return KEYWRAP_ERR_ARG;

	uint8_t ikm[SCRYPT_OUT_LEN + KEYWRAP_MASTER_LEN];
	char info[sizeof(KEK_INFO) - 1 + KEYWRAP_SOFTCARD_ID_LEN];
	memcpy(info, KEK_INFO, sizeof(KEK_INFO) - 1);
	memcpy(info + sizeof(KEK_INFO) - 1, softcard_id, KEYWRAP_SOFTCARD_ID_LEN);

	int rc = scrypt_passphrase(passphrase, passphrase_len, salt, ikm);
	if (rc == KEYWRAP_OK) {
		memcpy(ikm + SCRYPT_OUT_LEN, master->key, KEYWRAP_MASTER_LEN);
		OSSL_PARAM params[] = {
			OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256",
			                                 0),
			OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm, sizeof(ikm)),
			OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof(info)),
			OSSL_PARAM_construct_end(),
		};
		rc = kdf_derive("HKDF", params, out->key, sizeof(out->key));
	}
	OPENSSL_cleanse(ikm, sizeof(ikm));
	if (rc != KEYWRAP_OK)
		OPENSSL_cleanse(out->key, sizeof(out->key));
	return rc;
}

int keywrap_derive_subkey(const struct keywrap_master *master, const char *label,
                          uint8_t out[KEYWRAP_KEK_LEN])
{
	if (master == NULL || label == NULL || label[0] == '\0' || out == NULL)
		return KEYWRAP_ERR_ARG;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)master->key,
		                                  KEYWRAP_MASTER_LEN),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)label,
		                                  strlen(label)),
		OSSL_PARAM_construct_end(),
	};
	int rc = kdf_derive("HKDF", params, out, KEYWRAP_KEK_LEN);
	if (rc != KEYWRAP_OK)
		OPENSSL_cleanse(out, KEYWRAP_KEK_LEN);
	return rc;
}

void keywrap_kek_wipe(struct keywrap_kek *kek)
{
	if (kek != NULL)
		OPENSSL_cleanse(kek->key, sizeof(kek->key));
}

/* ---- verifier ------------------------------------------------------------------ */

#define VERIFIER_TEXT_LEN (sizeof(KEYWRAP_VERIFIER_TEXT) - 1)

int keywrap_make_verifier(const struct keywrap_kek *kek, const char *softcard_id,
                          uint8_t out[KEYWRAP_VERIFIER_LEN])
{
	if (kek == NULL || out == NULL || !is_softcard_id(softcard_id))
		return KEYWRAP_ERR_ARG;
	if (RAND_bytes(out, KEYWRAP_NONCE_LEN) != 1)
		return KEYWRAP_ERR_CRYPTO;
	int rc =
	    keywrap_gcm(true, kek->key, out, (const uint8_t *)softcard_id, KEYWRAP_SOFTCARD_ID_LEN,
	                NULL, 0, (const uint8_t *)KEYWRAP_VERIFIER_TEXT, VERIFIER_TEXT_LEN,
	                out + KEYWRAP_NONCE_LEN, out + KEYWRAP_NONCE_LEN + VERIFIER_TEXT_LEN);
	if (rc != KEYWRAP_OK)
		OPENSSL_cleanse(out, KEYWRAP_VERIFIER_LEN);
	return rc;
}

int keywrap_check_verifier(const struct keywrap_kek *kek, const char *softcard_id,
                           const uint8_t *verifier, size_t verifier_len)
{
	if (kek == NULL || verifier == NULL || verifier_len != KEYWRAP_VERIFIER_LEN ||
	    !is_softcard_id(softcard_id))
		return KEYWRAP_ERR_ARG;
	uint8_t text[VERIFIER_TEXT_LEN];
	uint8_t tag[KEYWRAP_TAG_LEN];
	memcpy(tag, verifier + KEYWRAP_NONCE_LEN + VERIFIER_TEXT_LEN, KEYWRAP_TAG_LEN);
	int rc = keywrap_gcm(false, kek->key, verifier, (const uint8_t *)softcard_id,
	                     KEYWRAP_SOFTCARD_ID_LEN, NULL, 0, verifier + KEYWRAP_NONCE_LEN,
	                     VERIFIER_TEXT_LEN, text, tag);
	if (rc == KEYWRAP_ERR_TAMPERED)
		rc = KEYWRAP_ERR_WRONG_PASSPHRASE;
	/* The tag already authenticates the text; comparing it as well keeps
	 * a verifier made for another purpose from ever passing. */
	if (rc == KEYWRAP_OK && CRYPTO_memcmp(text, KEYWRAP_VERIFIER_TEXT, VERIFIER_TEXT_LEN) != 0)
		rc = KEYWRAP_ERR_WRONG_PASSPHRASE;
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

int keywrap_softcard_setup(const struct keywrap_master *master, const char *passphrase,
                           size_t passphrase_len, const char *softcard_id,
                           uint8_t salt_out[KEYWRAP_SALT_LEN],
                           uint8_t verifier_out[KEYWRAP_VERIFIER_LEN], struct keywrap_kek *kek_out)
{
	if (salt_out == NULL || verifier_out == NULL || kek_out == NULL)
		return KEYWRAP_ERR_ARG;
	int rc = keywrap_new_salt(salt_out);
	if (rc == KEYWRAP_OK)
		rc = keywrap_derive_kek(master, passphrase, passphrase_len, salt_out, softcard_id,
		                        kek_out);
	if (rc == KEYWRAP_OK)
		rc = keywrap_make_verifier(kek_out, softcard_id, verifier_out);
	if (rc != KEYWRAP_OK)
		keywrap_kek_wipe(kek_out);
	return rc;
}

int keywrap_softcard_unlock(const struct keywrap_master *master, const char *passphrase,
                            size_t passphrase_len, const char *softcard_id,
                            const uint8_t salt[KEYWRAP_SALT_LEN], const uint8_t *verifier,
                            size_t verifier_len, struct keywrap_kek *kek_out)
{
	if (kek_out == NULL)
		return KEYWRAP_ERR_ARG;
	if (verifier == NULL || verifier_len != KEYWRAP_VERIFIER_LEN) {
		keywrap_kek_wipe(kek_out);
		return KEYWRAP_ERR_ARG;
	}
	int rc = keywrap_derive_kek(master, passphrase, passphrase_len, salt, softcard_id, kek_out);
	if (rc == KEYWRAP_OK)
		rc = keywrap_check_verifier(kek_out, softcard_id, verifier, verifier_len);
	if (rc != KEYWRAP_OK)
		keywrap_kek_wipe(kek_out);
	return rc;
}

/* ---- key values ------------------------------------------------------------------- */

int keywrap_generate_key(uint8_t *key, size_t key_len)
{
	if (key == NULL || !is_key_len(key_len))
		return KEYWRAP_ERR_ARG;
	return RAND_priv_bytes(key, (int)key_len) == 1 ? KEYWRAP_OK : KEYWRAP_ERR_CRYPTO;
}

static bool key_id_ok(const char *key_id, size_t *len)
{
	if (key_id == NULL)
		return false;
	*len = strnlen(key_id, KEYWRAP_KEY_ID_MAX + 1);
	return *len >= 1 && *len <= KEYWRAP_KEY_ID_MAX;
}

int keywrap_wrap(const struct keywrap_kek *kek, const char *softcard_id, const char *key_id,
                 const uint8_t *key, size_t key_len, uint8_t *wrapped, size_t wrapped_cap,
                 size_t *wrapped_len)
{
	size_t id_len = 0;
	if (wrapped_len != NULL)
		*wrapped_len = 0;
	if (kek == NULL || key == NULL || !is_key_len(key_len) || wrapped == NULL ||
	    wrapped_len == NULL || !is_softcard_id(softcard_id) || !key_id_ok(key_id, &id_len))
		return KEYWRAP_ERR_ARG;
	if (wrapped_cap < KEYWRAP_WRAPPED_LEN(key_len))
		return KEYWRAP_ERR_BUFFER;
	if (RAND_bytes(wrapped, KEYWRAP_NONCE_LEN) != 1)
		return KEYWRAP_ERR_CRYPTO;
	int rc = keywrap_gcm(true, kek->key, wrapped, (const uint8_t *)key_id, id_len,
	                     (const uint8_t *)softcard_id, KEYWRAP_SOFTCARD_ID_LEN, key, key_len,
	                     wrapped + KEYWRAP_NONCE_LEN, wrapped + KEYWRAP_NONCE_LEN + key_len);
	if (rc != KEYWRAP_OK) {
		OPENSSL_cleanse(wrapped, KEYWRAP_WRAPPED_LEN(key_len));
		return rc;
	}
	*wrapped_len = KEYWRAP_WRAPPED_LEN(key_len);
	return KEYWRAP_OK;
}

int keywrap_unwrap(const struct keywrap_kek *kek, const char *softcard_id, const char *key_id,
                   const uint8_t *wrapped, size_t wrapped_len, uint8_t *key, size_t key_cap,
                   size_t *key_len)
{
	size_t id_len = 0;
	if (key_len != NULL)
		*key_len = 0;
	if (kek == NULL || wrapped == NULL || key == NULL || key_len == NULL ||
	    !is_softcard_id(softcard_id) || !key_id_ok(key_id, &id_len))
		return KEYWRAP_ERR_ARG;
	if (wrapped_len < KEYWRAP_WRAPPED_LEN(0) ||
	    !is_key_len(wrapped_len - KEYWRAP_WRAPPED_LEN(0)))
		return KEYWRAP_ERR_ARG;
	size_t n = wrapped_len - KEYWRAP_WRAPPED_LEN(0);
	if (key_cap < n)
		return KEYWRAP_ERR_BUFFER;
	uint8_t tag[KEYWRAP_TAG_LEN];
	memcpy(tag, wrapped + KEYWRAP_NONCE_LEN + n, KEYWRAP_TAG_LEN);
	int rc = keywrap_gcm(false, kek->key, wrapped, (const uint8_t *)key_id, id_len,
	                     (const uint8_t *)softcard_id, KEYWRAP_SOFTCARD_ID_LEN,
	                     wrapped + KEYWRAP_NONCE_LEN, n, key, tag);
	if (rc != KEYWRAP_OK) {
		OPENSSL_cleanse(key, n);
		return rc;
	}
	*key_len = n;
	return KEYWRAP_OK;
}

const char *keywrap_result_name(int result)
{
	switch (result) {
	case KEYWRAP_OK:
		return "ok";
	case KEYWRAP_ERR_ARG:
		return "bad argument";
	case KEYWRAP_ERR_IO:
		return "master key file I/O error";
	case KEYWRAP_ERR_MASTER_PERMS:
		return "master key file is accessible to group or others, or not ours";
	case KEYWRAP_ERR_MASTER_SIZE:
		return "master key file has the wrong size";
	case KEYWRAP_ERR_WRONG_PASSPHRASE:
		return "wrong passphrase";
	case KEYWRAP_ERR_TAMPERED:
		return "wrapped key failed authentication";
	case KEYWRAP_ERR_CRYPTO:
		return "cryptographic library failure";
	case KEYWRAP_ERR_BUFFER:
		return "output buffer too small";
	default:
		return "unknown result";
	}
}
