/*
 * A reader of audit lines for the tests and the fuzz target: walks a line
 * the way a log parser would, undoing the quoting of conf/audit.h, so that
 * what the formatter writes is checked by reading it back.
 */
#ifndef PKCS11WSOP_TESTS_CONF_AUDIT_PARSE_H
#define PKCS11WSOP_TESTS_CONF_AUDIT_PARSE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/audit.h"

/* Parses the value that starts at *p (bare or quoted) into out, undoing the
 * escapes; returns its length, or -1 when the text breaks the grammar. */
static inline int audit_parse_value(const char **p, unsigned char *out, size_t cap)
{
	const char *s = *p;
	size_t n = 0;

	if (*s != '"') {
		while (*s != '\0' && *s != ' ' && n < cap)
			out[n++] = (unsigned char)*s++;
		*p = s;
		return (int)n;
	}
	for (s++; *s != '"'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\0' || c < 0x20 || c >= 0x7f || n >= cap)
			return -1;
		if (c == '\\') {
			s++;
			if (*s == 'n')
				c = '\n';
			else if (*s == 'r')
				c = '\r';
			else if (*s == 't')
				c = '\t';
			else if (*s == '"' || *s == '\\')
				c = (unsigned char)*s;
			else if (*s == 'x' && s[1] != '\0' && s[2] != '\0') {
				char h[3] = { s[1], s[2], 0 };
				c = (unsigned char)strtoul(h, NULL, 16);
				s += 2;
			} else
				return -1;
		}
		out[n++] = c;
	}
	*p = s + 1;
	return (int)n;
}

/* Walks the whole line as a parser would: how many fields are named key,
 * the last one's value in out. -1 when the line breaks the grammar. */
static inline int audit_count_fields(const char *line, const char *key, char *out, size_t cap)
{
	const char *p = line + strlen("audit");
	unsigned char v[AUDIT_LINE_MAX];
	int found = 0;

	if (strncmp(line, "audit", 5) != 0)
		return -1;
	while (*p != '\0') {
		const char *k = p + 1, *eq;
		if (*p != ' ' || (eq = strchr(k, '=')) == NULL)
			return -1;
		p = eq + 1;
		int n = audit_parse_value(&p, v, sizeof(v));
		if (n < 0)
			return -1;
		if ((size_t)(eq - k) == strlen(key) && strncmp(k, key, strlen(key)) == 0) {
			found++;
			snprintf(out, cap, "%.*s", n, (const char *)v);
		}
	}
	return found;
}

#endif
