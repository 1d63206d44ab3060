#include "child.h"

#include "security/sandbox.h"

#include <errno.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t child_start(void (*body)(void *), void *arg)
{
	/* Unflushed runner output would otherwise be written twice. */
	(void)fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		body(arg);
		_exit(0);
	}
	return pid;
}

int child_wait(pid_t pid)
{
	int status = 0;
	pid_t got;
	do {
		got = waitpid(pid, &status, 0);
	} while (got < 0 && errno == EINTR);
	return got == pid ? status : -1;
}

int child_run(void (*body)(void *), void *arg)
{
	pid_t pid = child_start(body, arg);
	if (pid < 0)
		return -1;
	return child_wait(pid);
}

void child_confine(void)
{
	if (sandbox_confine(NULL) != 0)
		_exit(CHILD_CONFINE_FAILED);
}

bool child_exited_with(int status, int code)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

bool child_killed_by(int status, int sig)
{
	return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == sig;
}
