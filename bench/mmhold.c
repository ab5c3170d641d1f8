// SPDX-License-Identifier: GPL-2.0
/*
 * mmhold - keep N processes (so N mms) alive for `make bench`'s scale run.
 *
 *   mmhold N READY_FILE
 *
 * Forks N children that pause(), creates READY_FILE once all exist, then
 * waits.  SIGTERM kills the children (they share our process group) and
 * reaps them before mmhold exits.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Set only while sigsuspend() runs, so the loop re-reads it. */
static sig_atomic_t stop;

static void on_term(int sig)
{
	stop = sig;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };
	sigset_t term, old;
	long i, n;
	int fd;

	n = argc == 3 ? strtol(argv[1], NULL, 10) : -1;
	if (n < 0) {
		fprintf(stderr, "usage: mmhold N READY_FILE\n");
		return 2;
	}
	if (setpgid(0, 0))
		perror("setpgid");
	/* Blocked until sigsuspend(), so a SIGTERM cannot slip in unseen. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old);
	sigaction(SIGTERM, &sa, NULL);
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			kill(0, SIGKILL);
			return 1;
		}
		if (pid == 0) {
			signal(SIGTERM, SIG_DFL);
			sigprocmask(SIG_SETMASK, &old, NULL);
			for (;;)
				pause();
		}
	}
	fd = open(argv[2], O_WRONLY | O_CREAT, 0644);
	if (fd < 0) {
		perror(argv[2]);
		kill(0, SIGKILL);
		return 1;
	}
	close(fd);
	while (!stop)
		sigsuspend(&old);

	signal(SIGTERM, SIG_IGN);
	kill(0, SIGTERM);
	while (wait(NULL) > 0)
		;
	return 0;
}
