/*
 * Printing a benchmark result: one human-readable table, or one line of
 * JSON for scripts (bench/run.sh reads it).
 *
 * Contract:
 *  - Percentiles are nearest-rank over the sorted samples (p50 is the
 *    smallest latency that at least half of the samples do not exceed);
 *    with no samples every latency is 0.
 *  - Latencies are printed in microseconds, rates in operations per second
 *    of wall time (first thread's start to last thread's end).
 *  - The JSON line is a flat object: "tool","workload","size","threads",
 *    "ops","seconds","ops_per_sec","p50_us","p90_us","p99_us","max_us",
 *    "sampled","errors","first_error" (a string, or null). Strings are
 *    escaped so that any text from a module's error is safe in it.
 *  - When labels->mechanism is set, "mechanism" follows "workload". When
 *    labels->cpu is set, the line ends with "cpu_s" (all processes),
 *    "cpu_self_s", "cpu_children_s", "cpu_others_s", "cpu_procs",
 *    "cpu_us_per_op" (cpu_s over the timed operations) and
 *    "child_hwm_kib"; the table gets one line more with the same.
 */
#ifndef PKCS11WSOP_BENCH_BENCH_REPORT_H
#define PKCS11WSOP_BENCH_BENCH_REPORT_H

#include <stdio.h>

#include "bench/bench_run.h"
#include "bench/cpu_usage.h"

struct bench_labels {
	const char *tool;     /* "p11bench", "restbench" */
	const char *workload; /* "encrypt", ... */
	unsigned long size;   /* bytes per operation; 0 when not applicable */
	unsigned threads;
	const char *mechanism;        /* "aes-cbc-pad", ...; NULL: not printed */
	const struct cpu_report *cpu; /* NULL: not measured */
};

/* The nearest-rank percentile p (0 < p <= 100) of r's samples, in ns. */
uint64_t bench_percentile(const struct bench_result *r, double p);

void bench_print_table(FILE *out, const struct bench_labels *l, const struct bench_result *r);
void bench_print_json(FILE *out, const struct bench_labels *l, const struct bench_result *r);

#endif
