/*
 * CPU time of a set of processes over an interval: the benchmark itself,
 * every process below it (the module's helper) and, optionally, other
 * processes with everything below them (the key server, p11-kit's server
 * and its per-connection child).
 *
 * Contract:
 *  - cpu_usage_start() finds the processes: this one, roots[0..n_roots-1]
 *    (at most CPU_ROOTS_MAX), and every descendant of any of them found by
 *    one scan of /proc (at most CPU_PROCS_MAX in all; more gives -E2BIG).
 *    It then records each one's utime + stime, and this process's
 *    RUSAGE_CHILDREN. Returns 0, or a negative errno.
 *  - cpu_usage_end() reads the same processes again. A process counts
 *    when it is there at both reads (same pid, same start time); children
 *    of this process that ended and were waited for in between count
 *    through RUSAGE_CHILDREN (their whole life). Processes started in
 *    between are not seen. It fills *out and returns 0, or a negative
 *    errno.
 *  - out->child_hwm_kib is the largest VmHWM (peak resident set) of this
 *    process's descendants at the end read, 0 when there are none.
 *  - The resolution is one clock tick (10 ms on Debian) per process and
 *    read: measure seconds, not milliseconds.
 */
#ifndef PKCS11WSOP_BENCH_CPU_USAGE_H
#define PKCS11WSOP_BENCH_CPU_USAGE_H

#include <stdint.h>
#include <sys/types.h>

#define CPU_ROOTS_MAX 8
#define CPU_PROCS_MAX 64

struct cpu_proc {
	pid_t pid;
	uint64_t starttime, ticks;
	int group; /* CPU_SELF, CPU_CHILDREN or CPU_OTHERS */
};

enum { CPU_SELF, CPU_CHILDREN, CPU_OTHERS, CPU_GROUPS };

struct cpu_usage {
	struct cpu_proc procs[CPU_PROCS_MAX];
	unsigned n;
	uint64_t reaped_us; /* RUSAGE_CHILDREN at the start */
};

struct cpu_report {
	double seconds[CPU_GROUPS]; /* self; its descendants; the others */
	double total_s;
	unsigned procs; /* processes seen at both reads */
	unsigned long child_hwm_kib;
};

int cpu_usage_start(struct cpu_usage *u, const pid_t *roots, unsigned n_roots);
int cpu_usage_end(const struct cpu_usage *u, struct cpu_report *out);

#endif
