/*
 * softcardtool's passphrase input.
 *
 * Contract:
 *  - On a terminal (isatty(fd)) the prompt goes to stderr, echo is switched
 *    off for the read and restored afterwards, also when a terminating
 *    signal (INT, TERM, HUP, QUIT, TSTP) arrives meanwhile: the handler
 *    restores the terminal and re-raises the signal with its default
 *    action.
 *  - Otherwise one line is read from fd (no prompt); its newline (and a CR
 *    before it) is dropped. End of input before any byte is -ENODATA.
 *  - The line is read with read(2) byte by byte, so no stdio buffer keeps a
 *    copy; out must hold SCT_PASS_BUF bytes and is NUL-terminated on
 *    success. A line longer than WSOP_PASSPHRASE_MAX is -E2BIG (the rest of
 *    it is consumed). Validity of the characters is the caller's check.
 *  - Returns the length (>= 0) or a negative errno. The caller wipes out
 *    with OPENSSL_cleanse.
 */
#ifndef PKCS11WSOP_TOOLS_SOFTCARDTOOL_PASS_H
#define PKCS11WSOP_TOOLS_SOFTCARDTOOL_PASS_H

#include <stdbool.h>
#include <stddef.h>

#include "ipc/wsop_names.h"

#define SCT_PASS_BUF (WSOP_PASSPHRASE_MAX + 1)

bool sct_pass_is_terminal(int fd);

/* Reads one passphrase from fd; prompt is shown only on a terminal. */
int sct_pass_read(int fd, const char *prompt, char out[SCT_PASS_BUF]);

#endif
