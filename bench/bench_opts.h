/*
 * Command-line handling shared by p11bench and restbench: the options that
 * describe the run (--threads, --seconds, --ops, --warmup, --json), and a
 * strict decimal parser.
 *
 * Contract:
 *  - bench_parse_ulong() accepts digits only (no sign, no blanks, no
 *    overflow) within [min, max]: 0, or -EINVAL.
 *  - bench_plan_option() handles one getopt result: the short codes 'T'
 *    (threads), 'S' (seconds), 'n' (ops), 'W' (warmup) and 'j' (json).
 *    Returns 1 when it handled opt, 0 when opt is not one of them, or
 *    BENCH_EXIT_USAGE after printing "PROG: what: 'value'" on stderr.
 */
#ifndef PKCS11WSOP_BENCH_BENCH_OPTS_H
#define PKCS11WSOP_BENCH_BENCH_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bench/bench_run.h"

#define BENCH_EXIT_USAGE 2

int bench_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* Prints "prog: what: 'value'" on stderr; returns BENCH_EXIT_USAGE. */
int bench_usage_error(const char *prog, const char *what, const char *value);

/* A secret (PIN, passphrase) given as an argument: copied into buf, which
 * holds max + 1 bytes, and *given set; or BENCH_EXIT_USAGE after printing
 * "PROG: what: '...'" (never the secret) when it is longer than max. */
int bench_secret_option(const char *prog, const char *what, const char *arg, char *buf, size_t max,
                        bool *given);

/* A label of 1 to max bytes: *label = arg, 0; or BENCH_EXIT_USAGE after
 * printing "PROG: what: 'arg'". */
int bench_label_option(const char *prog, const char *what, const char *arg, size_t max,
                       const char **label);

int bench_plan_option(const char *prog, int opt, const char *arg, struct bench_plan *plan,
                      bool *json);

/* The long options that bench_plan_option and bench_other_option handle,
 * with the NULL entry that ends a table: the last entries of a tool's. */
/* clang-format off */
#define BENCH_PLAN_LONGOPTS                          \
	{ "threads", required_argument, NULL, 'T' }, \
	{ "seconds", required_argument, NULL, 'S' }, \
	{ "ops", required_argument, NULL, 'n' },     \
	{ "warmup", required_argument, NULL, 'W' },  \
	{ "json", no_argument, NULL, 'j' },          \
	{ "help", no_argument, NULL, 'h' },          \
	{ NULL, 0, NULL, 0 }
/* clang-format on */

/* A getopt result that a tool's own options do not take: 'h' prints
 * usage to stdout and returns -1; the plan's as bench_plan_option (1 when
 * taken); anything else prints usage to stderr and returns
 * BENCH_EXIT_USAGE. */
int bench_other_option(const char *prog, int opt, const char *arg, struct bench_plan *plan,
                       bool *json, int (*usage)(FILE *out, int status));

#endif
