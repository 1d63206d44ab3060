/*
 * Audit lines: one log line per security-relevant event, built field by
 * field so that a program can parse it and no value can forge a field or a
 * line of its own.
 *
 * After the logger's prefix ("[stamp] LEVEL IDENT PID: ") the text is
 *   audit event=NAME outcome=OUTCOME pid=N uid=N prog=NAME FIELD=VALUE ...
 * with fields in the order the caller adds them.
 *
 * Contract:
 *  - OUTCOME is "success", "failure" or "warning". A success is logged at
 *    INFO, anything else at WARNING, so the default LOGLEVEL 4 keeps both.
 *  - A key is 1 to AUDIT_KEY_MAX of [a-z0-9_]; a field with any other key
 *    is left out (keys are constants of the caller, never data).
 *  - A value is written bare when it is not empty and every byte is one of
 *    A-Z a-z 0-9 . _ : / @ + , -. Otherwise it is quoted: "..." with \" for
 *    a quote, \\ for a backslash, \n \r \t, and \xHH (lower-case hex) for
 *    every other byte below 0x20, 0x7f and every byte from 0x80 up. So a
 *    line is one line of printable ASCII, and a blank, '=' or quote inside a
 *    value never starts a field. An empty value is "".
 *  - A line never exceeds AUDIT_LINE_MAX - 1 bytes. A field that does not
 *    fit whole is left out (never cut in the middle) and the line ends with
 *    truncated=1. A value longer than AUDIT_VALUE_MAX bytes is cut there
 *    and the line ends with truncated=1 as well.
 *  - The line goes to every log sink; in syslog at the audit facility
 *    (wlog_audit, LOGFACILITY).
 *  - Callers never pass secrets (PINs, passphrases, key bytes, plaintext,
 *    activation tokens): the module cannot tell a secret from a label.
 */
#ifndef PKCS11WSOP_CONF_AUDIT_H
#define PKCS11WSOP_CONF_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/log.h"

#define AUDIT_LINE_MAX  WLOG_LINE_MAX
#define AUDIT_KEY_MAX   32
#define AUDIT_VALUE_MAX 512

enum audit_outcome {
	AUDIT_SUCCESS,
	AUDIT_FAILURE,
	AUDIT_WARNING,
};

struct audit_line {
	char text[AUDIT_LINE_MAX];
	size_t len;
	bool truncated;
	enum audit_outcome outcome;
};

/* Starts a line: event, outcome, then this process's pid, real uid and
 * short program name. event is a constant [a-z_] name. */
void audit_begin(struct audit_line *a, const char *event, enum audit_outcome outcome);

/* A text value (NUL-terminated; NULL leaves the field out). */
void audit_str(struct audit_line *a, const char *key, const char *value);
/* A value of len bytes that need not be NUL-terminated (PKCS #11 labels). */
void audit_mem(struct audit_line *a, const char *key, const void *value, size_t len);
void audit_uint(struct audit_line *a, const char *key, unsigned long long value);
void audit_int(struct audit_line *a, const char *key, long long value);
/* Bytes as lower-case hex (CKA_ID); an empty value is "". */
void audit_hex(struct audit_line *a, const char *key, const void *bytes, size_t len);

/* The finished text (with truncated=1 when something was left out). The
 * line may not be added to afterwards. */
const char *audit_finish(struct audit_line *a);

/* audit_finish(), then logs the line: INFO for a success, WARNING else. */
void audit_emit(struct audit_line *a);

#endif
