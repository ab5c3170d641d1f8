// SPDX-License-Identifier: GPL-2.0
/*
 * What mmrefs_fuzz's tests set up besides the waiters (see fuzz_env.h):
 * the borrower reloaded or emptied, and the twin process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "fuzz_env.h"
#include "mmrefs_util.h"

/*
 * Unload and reload the borrower: the only way to give leaks back. No
 * control file may be open, as an open file pins the module. Its
 * max_hold_ms stays. 0 or -errno.
 */
int borrow_reload(void)
{
	const char *ko = getenv("MMREFS_BORROW_KO");
	char params[32] = "", s[32];
	int err;

	if (!ko)
		ko = "test_modules/mmrefs_borrow.ko";
	if (mmrefs_read_into(BORROW_MAX_HOLD, s, sizeof(s)) > 0)
		snprintf(params, sizeof(params), "max_hold_ms=%lu",
			 strtoul(s, NULL, 10));
	/* a file closed a moment ago may still hold it */
	err = mmrefs_unload_module("mmrefs_borrow");
	if (err == -EAGAIN && loop_until(!mmrefs_unload_module("mmrefs_borrow")))
		err = 0;
	return err ? err : mmrefs_load_module(ko, params);
}

/*
 * Release every borrow; if leaks remain, reload the borrower. 0 once the
 * list is empty, or -errno.
 */
int borrow_clean(void)
{
	const char *text;
	int err = borrow_cmd("release all");

	if (err)
		return err;
	text = mmrefs_read_file(BORROW_CONTROL);
	if (!text)
		return -EIO;
	if (!*text)
		return 0;
	err = borrow_reload();
	if (err)
		return err;
	text = mmrefs_read_file(BORROW_CONTROL);
	return text && !*text ? 0 : -EBUSY;
}

/* The twin's thread: says its tid, then blocks like its leader. */
static void *twin_thread(void *arg)
{
	const int *fd = arg;	/* release (read end), report (write end) */
	pid_t tid = gettid();
	char c;

	if (write(fd[1], &tid, sizeof(tid)) != sizeof(tid))
		_exit(1);
	while (read(fd[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/*
 * A process of two tasks, which share one mm: its leader and a thread,
 * both blocked until *release_fd is closed (mmrefs_waiter_exit() reaps
 * it). The leader's pid, or -1; *thread is the thread's tid.
 */
pid_t spawn_twin(pid_t *thread, int *release_fd)
{
	int rel[2], rep[2], fd[2];
	pthread_t t;
	pid_t pid;
	char c;

	if (pipe2(rel, O_CLOEXEC))
		return -1;
	if (pipe2(rep, O_CLOEXEC)) {
		close(rel[0]);
		close(rel[1]);
		return -1;
	}
	pid = fork();
	if (!pid) {
		close(rel[1]);
		close(rep[0]);
		prctl(PR_SET_NAME, "mmr_fuzz");
		fd[0] = rel[0];
		fd[1] = rep[1];
		if (pthread_create(&t, NULL, twin_thread, fd))
			_exit(1);
		while (read(rel[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(rel[0]);
	close(rep[1]);
	if (pid > 0 && read(rep[0], thread, sizeof(*thread)) != sizeof(*thread)) {
		close(rel[1]);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(rep[0]);
	if (pid < 0)
		close(rel[1]);
	else
		*release_fd = rel[1];
	return pid;
}
