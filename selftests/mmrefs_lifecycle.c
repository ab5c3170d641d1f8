// SPDX-License-Identifier: GPL-2.0
/*
 * mm lifecycle as mmrefs reports it: threads share one mm (users), fork
 * and exec create new ones, vfork borrows the parent's, and loading
 * mmrefs seeds the mms that already exist. Each test runs in its own
 * process (the harness forks), so "our mm" is fresh for every test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "mmrefs_util.h"

#define NR_THREADS	3
#define EXEC_WAIT_ENV	"MMREFS_EXEC_WAIT_FD"

/*
 * Exec target: when started with EXEC_WAIT_ENV set, this program does not
 * run the harness; it waits on that fd and exits, holding only its new mm.
 */
static void __attribute__((constructor)) exec_waiter(void)
{
	const char *fd = getenv(EXEC_WAIT_ENV);
	char c;

	if (!fd)
		return;
	while (read(atoi(fd), &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

FIXTURE(lifecycle) {
	pthread_t threads[NR_THREADS];
	int nr_threads;
	int thread_pipe[2];
	pid_t child;
	int child_fd;
};

FIXTURE_SETUP(lifecycle)
{
	const char *why = mmrefs_missing();

	self->thread_pipe[0] = -1;
	self->thread_pipe[1] = -1;
	self->child_fd = -1;
	if (why)
		SKIP(return, "%s", why);
	mmrefs_reset_filter();
	ASSERT_EQ(0, pipe(self->thread_pipe));
}

static void *thread_wait(void *arg)
{
	int fd = *(int *)arg;
	char c;

	prctl(PR_SET_NAME, "mmr_thread");
	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void join_threads(FIXTURE_DATA(lifecycle) * self)
{
	if (self->thread_pipe[1] >= 0) {
		close(self->thread_pipe[1]);
		self->thread_pipe[1] = -1;
	}
	while (self->nr_threads > 0)
		pthread_join(self->threads[--self->nr_threads], NULL);
}

FIXTURE_TEARDOWN(lifecycle)
{
	join_threads(self);
	if (self->thread_pipe[0] >= 0)
		close(self->thread_pipe[0]);
	mmrefs_waiter_reap(&self->child, &self->child_fd);
	mmrefs_reset_filter();
}

TEST_F(lifecycle, threads_share_users)
{
	struct mmrefs_history h;
	long id, users, count, lazy;
	int i, n;

	if (_metadata->skip)
		return;
	id = mmrefs_id_of(getpid());
	ASSERT_GT(id, 0) TH_LOG("no mms row for tgid %d", getpid());
	ASSERT_EQ(0, mmrefs_counts(id, &users, &count, &lazy));
	/* a single-threaded process: one user, one mm_count for all users */
	EXPECT_EQ(1, users);
	EXPECT_EQ(1, count - lazy);

	for (i = 0; i < NR_THREADS; i++) {
		ASSERT_EQ(0, pthread_create(&self->threads[i], NULL,
					    thread_wait, &self->thread_pipe[0]));
		self->nr_threads++;
	}
	/* N extra threads alive: users N+1, still one mm_count */
	ASSERT_EQ(0, mmrefs_counts(id, &users, &count, &lazy));
	EXPECT_EQ(NR_THREADS + 1, users);
	EXPECT_EQ(1, count - lazy);

	/* each clone took one user, in our (the cloner's) context */
	ASSERT_EQ(0, mmrefs_history(id, &h));
	EXPECT_EQ(NR_THREADS, mmrefs_count_events(&h, "get", "thread"));
	for (i = 0, n = 0; (i = mmrefs_find_event(&h, i, "get", "thread")) >= 0; i++, n++) {
		EXPECT_EQ(n + 1, h.ev[i].users_old);
		EXPECT_EQ(n + 2, h.ev[i].users_new);
		EXPECT_EQ(getpid(), h.ev[i].pid);
	}

	join_threads(self);
	/*
	 * pthread_join returns when the kernel clears the tid, which is
	 * before exit_mm's mmput: wait for the last put/exit.
	 */
	EXPECT_TRUE(loop_until(!mmrefs_counts(id, &users, &count, &lazy) &&
			       users == 1));
	EXPECT_EQ(1, count - lazy);
	ASSERT_EQ(0, mmrefs_history(id, &h));
	/* every thread's exit dropped one user, in the thread's context */
	EXPECT_EQ(NR_THREADS, mmrefs_count_events(&h, "put", "exit"));
	for (i = 0; (i = mmrefs_find_event(&h, i, "put", "exit")) >= 0; i++) {
		EXPECT_STREQ("mmr_thread", h.ev[i].comm);
		EXPECT_EQ(getpid(), h.ev[i].tgid);
		EXPECT_EQ(h.ev[i].users_old - 1, h.ev[i].users_new);
	}
	/* the mm itself lives on: no teardown, no free */
	EXPECT_EQ(0, mmrefs_count_events(&h, "teardown", NULL));
	EXPECT_EQ(0, mmrefs_count_events(&h, "free", NULL));
}

TEST_F(lifecycle, fork_creates_new_mm)
{
	long id, child_id, users, count, lazy;
	struct mmrefs_history h;
	char line[MMREFS_LINE_MAX];
	int put, teardown, free_at;

	if (_metadata->skip)
		return;
	id = mmrefs_id_of(getpid());
	self->child = mmrefs_spawn_waiter("mmr_child", &self->child_fd);
	ASSERT_GT(self->child, 0);

	/* the child has its own mm, with a new id, one user, one count */
	child_id = mmrefs_id_of(self->child);
	ASSERT_GT(child_id, 0);
	EXPECT_NE(id, child_id);
	ASSERT_EQ(0, mmrefs_counts(child_id, &users, &count, &lazy));
	EXPECT_EQ(1, users);
	EXPECT_EQ(1, count - lazy);

	/* its history starts with new/fork, 0->1 for both counters */
	ASSERT_EQ(0, mmrefs_history(child_id, &h));
	ASSERT_GT(h.nr, 0);
	EXPECT_EQ(1, h.ev[0].seq);
	EXPECT_EVENT(h.ev[0], "new", "fork", 0, 1, 0, 1);

	ASSERT_EQ(0, mmrefs_waiter_exit(&self->child, &self->child_fd));
	/* once lazy-TLB refs are flushed nothing holds it: it is freed */
	EXPECT_TRUE(loop_until((mmrefs_flush_lazy(),
				mmrefs_mms_by_id(child_id, line, sizeof(line)))));
	ASSERT_EQ(0, mmrefs_history(child_id, &h));
	EXPECT_NE(NULL, strstr(h.header, " state=freed"));
	/* exit drops the only user, then teardown, then free: in that order */
	put = mmrefs_find_event(&h, 0, "put", "exit");
	teardown = mmrefs_find_event(&h, 0, "teardown", "teardown");
	free_at = mmrefs_find_event(&h, 0, "free", "free");
	ASSERT_GE(put, 0);
	EXPECT_STREQ("mmr_child", h.ev[put].comm);
	EXPECT_EQ(1, h.ev[put].users_old);
	EXPECT_EQ(0, h.ev[put].users_new);
	EXPECT_GT(teardown, put);
	EXPECT_GT(free_at, teardown);
	EXPECT_EQ(h.nr - 1, free_at);
	EXPECT_EQ(0, h.ev[free_at].count_new);
}

/* Filled in by the vfork child, which runs on our mm and our memory. */
static struct {
	long users, count, lazy;
	int err;
} vfork_seen;

TEST_F(lifecycle, vfork_child_shares_mm)
{
	struct mmrefs_history h;
	long id, users, count, lazy;
	int status, get;
	pid_t parent = getpid(), pid;

	if (_metadata->skip)
		return;
	id = mmrefs_id_of(parent);
	ASSERT_GT(id, 0);

	/*
	 * We are suspended until the child exits, so the child looks for us:
	 * only syscalls and the static read buffer, no stdio, no malloc.
	 */
	vfork_seen.err = -1;
	pid = vfork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		vfork_seen.err = mmrefs_counts(id, &vfork_seen.users,
					       &vfork_seen.count,
					       &vfork_seen.lazy);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, vfork_seen.err);
	/* while the vfork child lived: two users of one mm, one count */
	EXPECT_EQ(2, vfork_seen.users);
	EXPECT_EQ(1, vfork_seen.count - vfork_seen.lazy);

	/* the child's exit gave the user back */
	EXPECT_TRUE(loop_until(!mmrefs_counts(id, &users, &count, &lazy) &&
			       users == 1));
	ASSERT_EQ(0, mmrefs_history(id, &h));
	get = mmrefs_find_event(&h, 0, "get", "vfork");
	ASSERT_GE(get, 0);
	EXPECT_EQ(1, h.ev[get].users_old);
	EXPECT_EQ(2, h.ev[get].users_new);
	EXPECT_EQ(parent, h.ev[get].pid);
	EXPECT_GT(mmrefs_find_event(&h, get, "put", "exit"), get);
	EXPECT_EQ(0, mmrefs_count_events(&h, "teardown", NULL));
}

TEST_F(lifecycle, exec_replaces_mm)
{
	long old_id, new_id = 0, users, count, lazy;
	char line[MMREFS_LINE_MAX], env[32], comm_path[32], comm[32];
	int go[2], hold[2], put, teardown, free_at;
	struct mmrefs_history h;
	char c = 0;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(hold));
	self->child = fork();
	ASSERT_GE(self->child, 0);
	if (!self->child) {
		/* wait until the parent has seen our forked mm, then exec */
		close(go[1]);
		close(hold[1]);
		prctl(PR_SET_NAME, "mmr_exec");
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		snprintf(env, sizeof(env), EXEC_WAIT_ENV "=%d", hold[0]);
		execle("/proc/self/exe", "mmr_exec", NULL,
		       (char *[]){ env, NULL });
		_exit(127);
	}
	close(go[0]);
	close(hold[0]);
	self->child_fd = hold[1];

	old_id = mmrefs_id_of(self->child);
	ASSERT_GT(old_id, 0);
	ASSERT_EQ(1, write(go[1], &c, 1));
	close(go[1]);

	/*
	 * exec gives the child a new mm with a new id.  That mm is in mms
	 * from its mm_alloc(), before exec installs it and renames the task:
	 * wait for the exec to be done (the kernel's comm is "exe"), then
	 * check what mmrefs shows of it.
	 */
	snprintf(comm_path, sizeof(comm_path), "/proc/%d/comm", self->child);
	EXPECT_TRUE(loop_until(mmrefs_read_into(comm_path, comm,
						sizeof(comm)) > 0 &&
			       !strcmp(comm, "exe\n") &&
			       (new_id = mmrefs_id_of_other(self->child,
							   old_id)) > 0));
	ASSERT_NE(old_id, new_id);
	ASSERT_EQ(0, mmrefs_counts(new_id, &users, &count, &lazy));
	EXPECT_EQ(1, users);
	EXPECT_EQ(1, count - lazy);
	/*
	 * the name exec gave it (the basename of /proc/self/exe), not the
	 * one it had when the new mm was allocated, in mms and history
	 */
	ASSERT_EQ(0, mmrefs_mms_by_id(new_id, line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, " comm=exe ")) TH_LOG("%s", line);
	ASSERT_EQ(0, mmrefs_history(new_id, &h));
	ASSERT_GT(h.nr, 0);
	EXPECT_EVENT(h.ev[0], "new", "exec", 0, 1, 0, 1);
	EXPECT_EQ(self->child, h.ev[0].tgid);
	EXPECT_NE(NULL, strstr(h.header, " comm=exe ")) TH_LOG("%s", h.header);

	/* the old mm: put/exec, teardown, free, and gone from mms */
	EXPECT_TRUE(loop_until((mmrefs_flush_lazy(),
				mmrefs_mms_by_id(old_id, line, sizeof(line)))));
	ASSERT_EQ(0, mmrefs_history(old_id, &h));
	EXPECT_NE(NULL, strstr(h.header, " state=freed"));
	put = mmrefs_find_event(&h, 0, "put", "exec");
	teardown = mmrefs_find_event(&h, 0, "teardown", "teardown");
	free_at = mmrefs_find_event(&h, 0, "free", "free");
	ASSERT_GE(put, 0);
	EXPECT_EQ(self->child, h.ev[put].pid);
	EXPECT_EQ(1, h.ev[put].users_old);
	EXPECT_EQ(0, h.ev[put].users_new);
	EXPECT_GT(teardown, put);
	EXPECT_GT(free_at, teardown);
	/*
	 * one decrement, one delta: the free goes on from the event before
	 * it (the teardown's, or in exact mode __mmput()'s own mmdrop())
	 */
	EXPECT_EQ(h.ev[free_at - 1].count_new, h.ev[free_at].count_old);
	EXPECT_EQ(0, h.ev[free_at].count_new);
	EXPECT_EQ(0, mmrefs_count_events(&h, "put", "exit"));

	ASSERT_EQ(0, mmrefs_waiter_exit(&self->child, &self->child_fd));
}

TEST_F(lifecycle, load_seeds_existing_mms)
{
	const char *ko = getenv("MMREFS_KO");
	long id, users, count, lazy;
	struct mmrefs_history h;

	if (_metadata->skip)
		return;
	if (!ko)
		SKIP(return, "MMREFS_KO not set (mmrefs_util.c exports it)");
	self->child = mmrefs_spawn_waiter("mmr_seeded", &self->child_fd);
	ASSERT_GT(self->child, 0);
	/* the waiter must have its name before the reload finds it */
	ASSERT_TRUE(loop_until(mmrefs_id_of(self->child) > 0));

	ASSERT_EQ(0, mmrefs_unload_module("mmrefs"));
	ASSERT_EQ(0, mmrefs_load_module(ko, ""));

	/* a process older than the module is found at load: seed/seed */
	id = mmrefs_id_of(self->child);
	ASSERT_GT(id, 0);
	ASSERT_EQ(0, mmrefs_counts(id, &users, &count, &lazy));
	EXPECT_EQ(1, users);
	EXPECT_EQ(1, count - lazy);
	ASSERT_EQ(0, mmrefs_history(id, &h));
	ASSERT_GT(h.nr, 0);
	EXPECT_EQ(1, h.ev[0].seq);
	EXPECT_STREQ("seed", h.ev[0].op);
	EXPECT_STREQ("seed", h.ev[0].cause);
	/* seeding reads the counters, it changes nothing: old == new */
	EXPECT_EQ(1, h.ev[0].users_old);
	EXPECT_EQ(1, h.ev[0].users_new);
	EXPECT_EQ(h.ev[0].count_old, h.ev[0].count_new);
}

TEST_HARNESS_MAIN
