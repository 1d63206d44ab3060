/* Command-line handling shared by the benchmarks; see bench_opts.h. */
#include "bench/bench_opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bench_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = (unsigned long)v;
	return 0;
}

int bench_usage_error(const char *prog, const char *what, const char *value)
{
	fprintf(stderr, "%s: %s: '%s'\n", prog, what, value);
	return BENCH_EXIT_USAGE;
}

int bench_secret_option(const char *prog, const char *what, const char *arg, char *buf, size_t max,
                        bool *given)
{
	size_t len = strlen(arg);

	if (len > max)
		return bench_usage_error(prog, what, "...");
	memcpy(buf, arg, len + 1);
	*given = true;
	return 0;
}

int bench_label_option(const char *prog, const char *what, const char *arg, size_t max,
                       const char **label)
{
	size_t len = strlen(arg);

	if (len == 0 || len > max)
		return bench_usage_error(prog, what, arg);
	*label = arg;
	return 0;
}

int bench_plan_option(const char *prog, int opt, const char *arg, struct bench_plan *plan,
                      bool *json)
{
	unsigned long v;

	switch (opt) {
	case 'T':
		if (bench_parse_ulong(arg, 1, BENCH_THREADS_MAX, &v) != 0)
			return bench_usage_error(prog, "threads must be 1-64", arg);
		plan->threads = (unsigned)v;
		return 1;
	case 'S':
		if (bench_parse_ulong(arg, 1, BENCH_SECONDS_MAX, &v) != 0)
			return bench_usage_error(prog, "seconds must be 1-3600", arg);
		plan->seconds = (unsigned)v;
		return 1;
	case 'n':
		if (bench_parse_ulong(arg, 1, BENCH_OPS_MAX, &v) != 0)
			return bench_usage_error(prog, "ops must be 1-100000000", arg);
		plan->ops = v;
		return 1;
	case 'W':
		if (bench_parse_ulong(arg, 0, 1000000, &v) != 0)
			return bench_usage_error(prog, "warmup must be 0-1000000", arg);
		plan->warmup = (unsigned)v;
		return 1;
	case 'j':
		*json = true;
		return 1;
	default:
		return 0;
	}
}

int bench_other_option(const char *prog, int opt, const char *arg, struct bench_plan *plan,
                       bool *json, int (*usage)(FILE *out, int status))
{
	if (opt == 'h')
		return usage(stdout, -1);
	int r = bench_plan_option(prog, opt, arg, plan, json);
	if (r == 1)
		return 1;
	return r != 0 ? r : usage(stderr, BENCH_EXIT_USAGE);
}
