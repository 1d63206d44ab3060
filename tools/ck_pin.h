/*
 * Reading a PIN for cklist: from the terminal without echo, or one line
 * from a stream (--pin-stdin).
 *
 * Contract: on success the PIN, without its line end, is in buf
 * (NUL-terminated) and its length is returned; -ENXIO means there is no
 * terminal to ask, -EMSGSIZE a PIN longer than size - 1, -ENODATA end of
 * input before any line, other negative errno values a read failure. The
 * caller wipes buf with OPENSSL_cleanse when done; these functions wipe
 * their own copies.
 */
#ifndef PKCS11WSOP_TOOLS_CK_PIN_H
#define PKCS11WSOP_TOOLS_CK_PIN_H

#include <stdio.h>

/* Longest PIN accepted, in bytes; far above any token's ulMaxPinLen. */
#define CK_PIN_MAX 256

int ck_pin_from_tty(const char *prompt, char *buf, size_t size);
int ck_pin_from_stream(FILE *in, char *buf, size_t size);

#endif
