#include "bench/bench_report.h"

#include <math.h>

uint64_t bench_percentile(const struct bench_result *r, double p)
{
	if (r->sampled == 0)
		return 0;
	double rank = ceil(p / 100.0 * (double)r->sampled);
	size_t i = rank < 1.0 ? 0 : (size_t)rank - 1;
	if (i >= r->sampled)
		i = r->sampled - 1;
	return r->samples[i];
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static double rate(const struct bench_result *r)
{
	return r->wall_s > 0.0 ? (double)r->ops / r->wall_s : 0.0;
}

static double cpu_per_op_us(const struct cpu_report *c, const struct bench_result *r)
{
	return r->ops > 0 ? c->total_s * 1e6 / (double)r->ops : 0.0;
}

void bench_print_table(FILE *out, const struct bench_labels *l, const struct bench_result *r)
{
	fprintf(out, "%s: %s, %lu bytes, %u thread%s, %.2f s\n", l->tool, l->workload, l->size,
	        l->threads, l->threads == 1 ? "" : "s", r->wall_s);
	fprintf(out, "%10s %11s %10s %10s %10s %10s %8s\n", "ops", "ops/s", "p50 us", "p90 us",
	        "p99 us", "max us", "errors");
	fprintf(out, "%10llu %11.1f %10.1f %10.1f %10.1f %10.1f %8llu\n",
	        (unsigned long long)r->ops, rate(r), us(bench_percentile(r, 50)),
	        us(bench_percentile(r, 90)), us(bench_percentile(r, 99)),
	        us(bench_percentile(r, 100)), (unsigned long long)r->errors);
	if (r->sampled < r->ops)
		fprintf(out, "(latencies from the first %zu operations of each thread's share)\n",
		        r->sampled);
	if (l->cpu != NULL)
		fprintf(out,
		        "cpu: %.1f us/op, %.2f s over %u processes (this %.2f, its children "
		        "%.2f, others %.2f); children's peak RSS %lu KiB\n",
		        cpu_per_op_us(l->cpu, r), l->cpu->total_s, l->cpu->procs,
		        l->cpu->seconds[CPU_SELF], l->cpu->seconds[CPU_CHILDREN],
		        l->cpu->seconds[CPU_OTHERS], l->cpu->child_hwm_kib);
	if (r->errors > 0)
		fprintf(out, "first error: %s\n", r->first_error);
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void bench_print_json(FILE *out, const struct bench_labels *l, const struct bench_result *r)
{
	fputs("{\"tool\":", out);
	json_string(out, l->tool);
	fputs(",\"workload\":", out);
	json_string(out, l->workload);
	if (l->mechanism != NULL) {
		fputs(",\"mechanism\":", out);
		json_string(out, l->mechanism);
	}
	fprintf(out,
	        ",\"size\":%lu,\"threads\":%u,\"ops\":%llu,\"seconds\":%.3f,"
	        "\"ops_per_sec\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,"
	        "\"max_us\":%.1f,\"sampled\":%zu,\"errors\":%llu,\"first_error\":",
	        l->size, l->threads, (unsigned long long)r->ops, r->wall_s, rate(r),
	        us(bench_percentile(r, 50)), us(bench_percentile(r, 90)),
	        us(bench_percentile(r, 99)), us(bench_percentile(r, 100)), r->sampled,
	        (unsigned long long)r->errors);
	if (r->errors > 0 || r->first_error[0] != '\0')
		json_string(out, r->first_error);
	else
		fputs("null", out);
	if (l->cpu != NULL)
		fprintf(out,
		        ",\"cpu_s\":%.3f,\"cpu_self_s\":%.3f,\"cpu_children_s\":%.3f,"
		        "\"cpu_others_s\":%.3f,\"cpu_procs\":%u,\"cpu_us_per_op\":%.2f,"
		        "\"child_hwm_kib\":%lu",
		        l->cpu->total_s, l->cpu->seconds[CPU_SELF], l->cpu->seconds[CPU_CHILDREN],
		        l->cpu->seconds[CPU_OTHERS], l->cpu->procs, cpu_per_op_us(l->cpu, r),
		        l->cpu->child_hwm_kib);
	fputs("}\n", out);
}
