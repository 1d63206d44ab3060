/*
 * Reading what the kernel says about a process under /proc: its parent,
 * start time and CPU time (/proc/PID/stat) and its peak resident set
 * (VmHWM in /proc/PID/status). p11bench uses them to add up the CPU time
 * of the application, the module's helper and the server around a timed
 * run, and to report the helper's peak memory.
 *
 * Contract:
 *  - proc_stat_parse() reads the text of /proc/PID/stat (at most
 *    PROC_TEXT_MAX bytes, not necessarily NUL-terminated). The command
 *    name in parentheses may hold any byte, ')' and blanks included: the
 *    fields are counted from the last ')'. Returns 0 with *out filled, or
 *    -EINVAL for text that is too long, lacks the fields, or holds a field
 *    that is not a decimal number within range.
 *  - proc_status_hwm_parse() finds the "VmHWM:" line of /proc/PID/status
 *    text (same bound) and gives its value in KiB: 0, -ENOENT when there
 *    is no such line (kernel threads, zombies), or -EINVAL.
 *  - proc_stat_read() and proc_hwm_read() read the files of pid: the same
 *    results, or -errno of open/read (-ESRCH when the process is gone).
 */
#ifndef PKCS11WSOP_BENCH_PROC_STAT_H
#define PKCS11WSOP_BENCH_PROC_STAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROC_TEXT_MAX 4096

struct proc_stat {
	pid_t ppid;
	uint64_t utime, stime; /* clock ticks (sysconf(_SC_CLK_TCK)) */
	uint64_t starttime;    /* clock ticks after boot: tells a reused pid apart */
};

int proc_stat_parse(const char *text, size_t len, struct proc_stat *out);
int proc_status_hwm_parse(const char *text, size_t len, unsigned long *kib);

int proc_stat_read(pid_t pid, struct proc_stat *out);
int proc_hwm_read(pid_t pid, unsigned long *kib);

#endif
