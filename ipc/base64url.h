/*
 * base64url (RFC 4648 section 5) without padding, as WSOP carries binary
 * values in JSON. Decoding is strict: only the url alphabet, no padding, no
 * whitespace, and the unused low bits of the last character must be zero,
 * so every value has exactly one encoding.
 */
#ifndef PKCS11WSOP_IPC_BASE64URL_H
#define PKCS11WSOP_IPC_BASE64URL_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode n bytes, not counting the NUL. */
size_t b64url_encoded_len(size_t n);
/* Largest number of bytes that text_len characters can decode to. */
size_t b64url_decoded_max(size_t text_len);

/* Writes b64url_encoded_len(n) characters and a NUL to out; out_cap must be
 * at least that plus one, else -ENOBUFS. Returns 0. */
int b64url_encode(const uint8_t *in, size_t n, char *out, size_t out_cap);

/* Decodes text[0..text_len). Returns 0 and *out_len, -EINVAL on a character
 * outside the alphabet, an impossible length (len % 4 == 1) or non-zero
 * trailing bits, -ENOBUFS when out_cap < b64url_decoded_max(text_len). */
int b64url_decode(const char *text, size_t text_len, uint8_t *out, size_t out_cap, size_t *out_len);

#endif
