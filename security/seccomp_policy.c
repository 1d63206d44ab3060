#include "security/seccomp_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <sys/mman.h>

/*
 * The whole allowlist. The helper reaches this point with its credentials
 * loaded, its SSL_CTX built and every fd closed but its channel and log fd;
 * from then on it receives connected TCP fds by SCM_RIGHTS, checks their peer
 * port, makes them non-blocking, runs TLS on them and writes log lines. Nothing below opens a file,
 * creates a socket or a process, or changes credentials. Rows naming a syscall that the running
 * architecture lacks (poll and time on aarch64) are skipped at load time.
 */
// clang-format off
#define ROW(sys, args, why) { SCMP_SYS(sys), #sys, args, why }
// clang-format on

static const struct seccomp_policy_row policy_rows[] = {
	/* I/O on fds the helper already holds */
	ROW(read, POLICY_ARGS_ANY,
	    "TLS records from the server socket (OpenSSL's socket BIO uses read)"),
	ROW(write, POLICY_ARGS_ANY,
	    "TLS records to the server socket, log lines to the inherited log fd"),
	ROW(recvmsg, POLICY_ARGS_ANY,
	    "channel frames and the connected TCP fds passed with SCM_RIGHTS"),
	ROW(sendmsg, POLICY_ARGS_ANY, "channel answers to the library"),
	ROW(close, POLICY_ARGS_ANY,
	    "drop a server connection the library asked to end or that failed"),
	ROW(poll, POLICY_ARGS_ANY,
	    "event loop over the channel and the TLS fds, with a timeout (x86_64)"),
	ROW(ppoll, POLICY_ARGS_ANY,
	    "the same wait where poll does not exist (aarch64) or libc maps it"),
	ROW(getpeername, POLICY_ARGS_ANY,
	    "a CONNECT's socket must be TCP/IP and connected to the configured PORT"),
	ROW(fcntl, POLICY_ARGS_SETFL_NONBLOCK,
	    "a CONNECT's socket is made non-blocking by the helper itself (F_SETFL O_NONBLOCK "
	    "only), so that a blocking fd from the application cannot stall the event loop"),
	ROW(lseek, POLICY_ARGS_ANY,
	    "stdio position checks on an already-open fd; cannot reach a new file"),
	ROW(fstat, POLICY_ARGS_ANY, "stdio sizes its buffer from an open fd's type on first use"),
	ROW(newfstatat, POLICY_ARGS_AT_EMPTY_PATH,
	    "glibc >= 2.33 implements fstat(fd) as fstatat(fd, \"\", AT_EMPTY_PATH)"),

	/* Memory: malloc and OpenSSL's buffers; never executable */
	ROW(brk, POLICY_ARGS_ANY, "malloc grows and trims the main heap"),
	ROW(mmap, POLICY_ARGS_PROT_NO_EXEC,
	    "malloc serves large blocks (>= 128 KiB) from anonymous mappings; no PROT_EXEC so "
	    "a hijacked helper cannot map new code"),
	ROW(munmap, POLICY_ARGS_ANY, "free() of a large block"),
	ROW(mremap, POLICY_ARGS_ANY, "realloc() of a large block; keeps the mapping's protection"),

	/* Locks, randomness, clocks, identity */
	ROW(futex, POLICY_ARGS_ANY,
	    "OpenSSL and libc locks; uncontended they do not enter the kernel, but a "
	    "contended or once-initialised lock does"),
	ROW(getrandom, POLICY_ARGS_ANY,
	    "OpenSSL's DRBG (re)seeds for TLS randoms, ECDHE keys and ECDSA nonces"),
	ROW(clock_gettime, POLICY_ARGS_ANY,
	    "certificate validity, timeouts, log timestamps; the vDSO usually answers, the "
	    "syscall is the fallback when the clocksource has no vDSO support"),
	ROW(gettimeofday, POLICY_ARGS_ANY,
	    "the same clock as used by OpenSSL's time helpers; vDSO fallback"),
	ROW(time, POLICY_ARGS_ANY, "time(NULL) in certificate checks; vDSO fallback (x86_64 only)"),
	ROW(getpid, POLICY_ARGS_ANY,
	    "OpenSSL's fork check before it uses its DRBG; the PID field of log lines"),
	ROW(gettid, POLICY_ARGS_ANY, "the TID field of TRACE log lines"),

	/* Signals and leaving */
	ROW(rt_sigreturn, POLICY_ARGS_ANY,
	    "return from a signal handler installed before confinement"),
	ROW(restart_syscall, POLICY_ARGS_ANY,
	    "the kernel resumes a poll() with timeout this way after SIGSTOP/SIGCONT "
	    "(Ctrl-Z of the application's process group)"),
	ROW(exit, POLICY_ARGS_ANY, "pthread_exit(); ends only the caller, so it costs nothing"),
	ROW(exit_group, POLICY_ARGS_ANY, "the helper ends when the channel closes"),
};

const struct seccomp_policy_row *seccomp_policy_rows(size_t *n)
{
	*n = sizeof(policy_rows) / sizeof(policy_rows[0]);
	return policy_rows;
}

/* The one architecture a build's filter accepts. A foreign convention (i386
 * int 0x80, x32, aarch32) would map the same numbers to other syscalls, so
 * it must never reach the table. */
#if defined(__x86_64__) && !defined(__ILP32__)
#define POLICY_ARCH_TOKEN SCMP_ARCH_X86_64
#define POLICY_ARCH_NAME  "x86_64"
#elif defined(__aarch64__) && !defined(__ILP32__)
#define POLICY_ARCH_TOKEN SCMP_ARCH_AARCH64
#define POLICY_ARCH_NAME  "aarch64"
#endif

const char *seccomp_policy_arch(void)
{
#ifdef POLICY_ARCH_NAME
	return POLICY_ARCH_NAME;
#else
	return NULL;
#endif
}

uint32_t seccomp_policy_arch_token(void)
{
#ifdef POLICY_ARCH_TOKEN
	return POLICY_ARCH_TOKEN;
#else
	return 0;
#endif
}
