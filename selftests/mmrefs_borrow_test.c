// SPDX-License-Identifier: GPL-2.0
/*
 * A kernel thread borrowing a process's mm (mmrefs_borrow.ko): a grab
 * holds mm_count only, a get holds mm_users; a process that exits while
 * borrowed is torn down or kept alive accordingly, and freed only after
 * the borrower lets go. Unloading either module must leave the counters
 * consistent and the kernel untainted.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mmrefs_util.h"

/* Kernel taint bits that mean an oops or a WARN happened. */
#define TAINT_DIE	((long)BIT(7))
#define TAINT_WARN	((long)BIT(9))

FIXTURE(borrow) {
	pid_t child;
	int child_fd;
	long id;
	long tainted;
};

FIXTURE_SETUP(borrow)
{
	const char *why = mmrefs_missing() ?: borrow_missing();

	self->child_fd = -1;
	if (why)
		SKIP(return, "%s", why);
	mmrefs_reset_filter();
	self->tainted = mmrefs_tainted();
	self->child = mmrefs_spawn_waiter("mmr_victim", &self->child_fd);
	ASSERT_GT(self->child, 0);
	self->id = mmrefs_id_of(self->child);
	ASSERT_GT(self->id, 0) TH_LOG("no mms row for the child");
}

FIXTURE_TEARDOWN(borrow)
{
	if (!borrow_missing())
		borrow_cmd("release all");
	mmrefs_waiter_reap(&self->child, &self->child_fd);
	/* no oops and no WARN while we borrowed, exited or unloaded */
	if (!_metadata->skip)
		EXPECT_EQ(0, (mmrefs_tainted() & ~self->tainted) &
			  (TAINT_DIE | TAINT_WARN));
}

/* users, count-lazy of the child's mm after flushing lazy-TLB refs */
#define EXPECT_MM(self, want_users, want_refs) do {			\
	long __id = (self)->id;						\
	long __u, __c, __l;						\
	EXPECT_TRUE(mmrefs_settle(__id));				\
	ASSERT_EQ(0, mmrefs_counts(__id, &__u, &__c, &__l));		\
	EXPECT_EQ(want_users, __u);					\
	EXPECT_EQ(want_refs, __c - __l);				\
} while (0)

TEST_F(borrow, grab_holds_count_not_users)
{
	char line[MMREFS_LINE_MAX], s[32];
	struct mmrefs_history h;
	long users, count, lazy;
	int use, unuse;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, borrow_cmd("grab %d", self->child));

	/* held grab: users unchanged, count = 1 (users) + 1 (grab) + lazy */
	EXPECT_MM(self, 1, 2);

	/* the borrower, reading through its own reference, agrees */
	ASSERT_EQ(0, borrow_line(self->child, line, sizeof(line)));
	ASSERT_EQ(0, mmrefs_counts(self->id, &users, &count, &lazy));
	mmrefs_field_str(line, "mode", s, sizeof(s));
	EXPECT_STREQ("grab", s);
	mmrefs_field_str(line, "state", s, sizeof(s));
	EXPECT_STREQ("held", s);
	mmrefs_field_str(line, "page", s, sizeof(s));
	EXPECT_STREQ("ok", s);
	EXPECT_EQ(users, mmrefs_field(line, "users"));
	EXPECT_EQ(2, mmrefs_field(line, "count") - lazy);

	/* the kthread switched to the mm and back: use then unuse, by it */
	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	use = mmrefs_find_event(&h, 0, "use", "kthread");
	unuse = mmrefs_find_event(&h, 0, "unuse", "kthread");
	ASSERT_GE(use, 0);
	EXPECT_GT(unuse, use);
	EXPECT_STREQ("mmrefs_borrow", h.ev[use].comm);
	EXPECT_EQ(1, h.ev[use].kthread);
	if (unuse >= 0) {
		EXPECT_STREQ("mmrefs_borrow", h.ev[unuse].comm);
		EXPECT_EQ(1, h.ev[unuse].kthread);
	}
	/* a grab is not a get: the users counter never moved */
	EXPECT_EQ(0, mmrefs_count_events(&h, "get", "get_task_mm"));

	/* release gives the count back */
	ASSERT_EQ(0, borrow_cmd("release %d", self->child));
	EXPECT_EQ(0, borrow_count(self->child));
	EXPECT_MM(self, 1, 1);
}

TEST_F(borrow, exit_while_grabbed)
{
	char line[MMREFS_LINE_MAX], s[32];
	struct mmrefs_history h;
	int put, teardown, free_at;
	pid_t pid = self->child;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, borrow_cmd("grab %d", pid));
	ASSERT_EQ(0, mmrefs_waiter_exit(&self->child, &self->child_fd));

	/* exited but still grabbed: users 0, torn down, struct alive */
	EXPECT_TRUE(loop_until(!mmrefs_mms_by_id(self->id, line, sizeof(line)) &&
			       !mmrefs_field_str(line, "state", s, sizeof(s)) &&
			       !strcmp(s, "torndown")));
	EXPECT_MM(self, 0, 1);
	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	put = mmrefs_find_event(&h, 0, "put", "exit");
	teardown = mmrefs_find_event(&h, 0, "teardown", "teardown");
	ASSERT_GE(put, 0);
	EXPECT_STREQ("mmr_victim", h.ev[put].comm);
	EXPECT_GT(teardown, put);
	/* no free while the borrower holds it */
	EXPECT_EQ(0, mmrefs_count_events(&h, "free", NULL));
	/* the borrower sees the same: no users, its own count */
	ASSERT_EQ(0, borrow_line(pid, line, sizeof(line)));
	EXPECT_EQ(0, mmrefs_field(line, "users"));
	EXPECT_EQ(1, mmrefs_field(line, "count"));

	/* release: the kthread's mmdrop frees it, after the teardown */
	ASSERT_EQ(0, borrow_cmd("release %d", pid));
	EXPECT_TRUE(loop_until(mmrefs_mms_by_id(self->id, line, sizeof(line))));
	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	EXPECT_NE(NULL, strstr(h.header, " state=freed"));
	free_at = mmrefs_find_event(&h, 0, "free", "free");
	ASSERT_GT(free_at, teardown);
	EXPECT_EQ(h.nr - 1, free_at);
	EXPECT_STREQ("mmrefs_borrow", h.ev[free_at].comm);
	EXPECT_EQ(1, h.ev[free_at].kthread);
	EXPECT_EQ(0, h.ev[free_at].count_new);
	if (mmrefs_exact_on()) {
		/* exact mode: the borrower's own mmdrop() was the 1 -> 0 */
		EXPECT_STREQ("mmdrop", h.ev[free_at - 1].op);
		EXPECT_STREQ("mmrefs_borrow", h.ev[free_at - 1].comm);
		EXPECT_EQ(1, h.ev[free_at - 1].count_old);
		EXPECT_EQ(0, h.ev[free_at].count_old);
	} else {
		EXPECT_EQ(1, h.ev[free_at].count_old);
	}
}

TEST_F(borrow, exit_while_got)
{
	char line[MMREFS_LINE_MAX], s[32];
	struct mmrefs_history h;
	int get, put_exit, put, teardown, free_at;
	pid_t pid = self->child;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, borrow_cmd("get %d", pid));

	/* a get is a user: users 2, still one count */
	EXPECT_MM(self, 2, 1);
	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	get = mmrefs_find_event(&h, 0, "get", "get_task_mm");
	ASSERT_GE(get, 0);
	EXPECT_STREQ("mmrefs_borrow", h.ev[get].comm);
	EXPECT_EQ(1, h.ev[get].kthread);
	EXPECT_EQ(1, h.ev[get].users_old);
	EXPECT_EQ(2, h.ev[get].users_new);

	ASSERT_EQ(0, mmrefs_waiter_exit(&self->child, &self->child_fd));
	/* exited but got: users 1, live, values from the last event */
	EXPECT_TRUE(loop_until(!mmrefs_history(self->id, &h) &&
			       mmrefs_find_event(&h, 0, "put", "exit") >= 0));
	EXPECT_MM(self, 1, 1);
	ASSERT_EQ(0, mmrefs_mms_by_id(self->id, line, sizeof(line)));
	mmrefs_field_str(line, "state", s, sizeof(s));
	EXPECT_STREQ("live", s);
	mmrefs_field_str(line, "src", s, sizeof(s));
	/* no task reads it any more: its last event's, or exact mode's sums */
	EXPECT_STREQ(mmrefs_exact_on() ? "exact" : "event", s);
	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	EXPECT_EQ(0, mmrefs_count_events(&h, "teardown", NULL));

	/* release: the kthread's mmput tears down and frees, in that order */
	ASSERT_EQ(0, borrow_cmd("release %d", pid));
	EXPECT_TRUE(loop_until(mmrefs_mms_by_id(self->id, line, sizeof(line))));
	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	EXPECT_NE(NULL, strstr(h.header, " state=freed"));
	put_exit = mmrefs_find_event(&h, 0, "put", "exit");
	put = mmrefs_find_event(&h, put_exit, "put", "put");
	teardown = mmrefs_find_event(&h, 0, "teardown", "teardown");
	free_at = mmrefs_find_event(&h, 0, "free", "free");
	ASSERT_GE(put_exit, 0);
	ASSERT_GT(put, put_exit);
	ASSERT_GT(teardown, put);
	ASSERT_GT(free_at, teardown);
	EXPECT_EQ(1, h.ev[put].users_old);
	EXPECT_EQ(0, h.ev[put].users_new);
	EXPECT_STREQ("mmrefs_borrow", h.ev[put].comm);
	EXPECT_EQ(1, h.ev[put].kthread);
	EXPECT_STREQ("mmrefs_borrow", h.ev[teardown].comm);
	EXPECT_EQ(1, h.ev[teardown].kthread);
	EXPECT_STREQ("mmrefs_borrow", h.ev[free_at].comm);
	EXPECT_EQ(1, h.ev[free_at].kthread);
}

TEST_F(borrow, hold_expires)
{
	if (_metadata->skip)
		return;
	ASSERT_EQ(0, borrow_cmd("grab %d 200", self->child));
	EXPECT_EQ(1, borrow_count(self->child));
	/* after HOLD_MS the kthread drops the grab by itself */
	EXPECT_TRUE(loop_until(borrow_count(self->child) == 0));
	EXPECT_MM(self, 1, 1);
	/* nothing left to release */
	EXPECT_EQ(-ENOENT, borrow_cmd("release %d", self->child));
}

TEST_F(borrow, unload_borrower_releases_all)
{
	const char *ko = getenv("MMREFS_BORROW_KO");

	if (_metadata->skip)
		return;
	if (!ko)
		SKIP(return, "MMREFS_BORROW_KO not set (mmrefs_util.c exports it)");
	ASSERT_EQ(0, borrow_cmd("grab %d", self->child));
	ASSERT_EQ(0, borrow_cmd("get %d", self->child));
	EXPECT_MM(self, 2, 2);

	/* unloading the borrower drops both references */
	ASSERT_EQ(0, mmrefs_unload_module("mmrefs_borrow"));
	EXPECT_MM(self, 1, 1);
	ASSERT_EQ(0, mmrefs_load_module(ko, ""));
	EXPECT_EQ(0, borrow_count(self->child));
}

TEST_F(borrow, unload_mmrefs_while_borrowed)
{
	const char *ko = getenv("MMREFS_KO");
	char line[MMREFS_LINE_MAX];
	pid_t pid = self->child;

	if (_metadata->skip)
		return;
	if (!ko)
		SKIP(return, "MMREFS_KO not set (mmrefs_util.c exports it)");
	ASSERT_EQ(0, borrow_cmd("grab %d", pid));
	ASSERT_EQ(0, mmrefs_waiter_exit(&self->child, &self->child_fd));
	EXPECT_TRUE(loop_until(!mmrefs_mms_by_id(self->id, line, sizeof(line)) &&
			       mmrefs_field(line, "users") == 0));

	/* unload while a torn-down mm is tracked, free it while unloaded */
	ASSERT_EQ(0, mmrefs_unload_module("mmrefs"));
	ASSERT_EQ(0, borrow_cmd("release %d", pid));
	ASSERT_EQ(0, mmrefs_load_module(ko, ""));

	/* the reloaded module never saw it: no row for the dead pid */
	EXPECT_EQ(-ENOENT, mmrefs_mms_by_tgid(pid, line, sizeof(line)));
	/* and it tracks what exists now: our own mm, one user */
	ASSERT_EQ(0, mmrefs_mms_by_tgid(getpid(), line, sizeof(line)));
	EXPECT_EQ(1, mmrefs_field(line, "users"));
}

TEST_HARNESS_MAIN
