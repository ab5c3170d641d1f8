// SPDX-License-Identifier: GPL-2.0
/*
 * The writable files: mmrefs filter restricts what is recorded, enable=0
 * disarms every hook, and both reject anything they do not understand with
 * EINVAL, leaving their state unchanged; the borrower's control does the
 * same, and refuses pids without an mm (ESRCH) and a 33rd borrow (EBUSY).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "mmrefs_util.h"

#define BORROW_MAX	32
#define SITES		MMREFS_DIR "/sites"

static unsigned long word = 42;

/* Read one word of pid's memory: a get/mm_access + put on its mm. */
static int peek(pid_t pid)
{
	unsigned long val;
	struct iovec local = { &val, sizeof(val) };
	struct iovec remote = { &word, sizeof(word) };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) ==
	       sizeof(val) ? 0 : -1;
}

static int nr_events(long id)
{
	static struct mmrefs_history h;

	if (mmrefs_history(id, &h))
		return -1;
	return mmrefs_field(h.header, "events");
}

/* The file's content without the trailing newline. */
static const char *read_setting(const char *path)
{
	static char val[64];
	const char *text = mmrefs_read_file(path);

	if (!text)
		return "";
	snprintf(val, sizeof(val), "%.*s", (int)strcspn(text, "\n"), text);
	return val;
}

FIXTURE(control) {
	pid_t a, b;
	int a_fd, b_fd;
	long a_id, b_id;
};

FIXTURE_SETUP(control)
{
	const char *why = mmrefs_missing();

	self->a_fd = -1;
	self->b_fd = -1;
	if (why)
		SKIP(return, "%s", why);
	if (access(MMREFS_FILTER, W_OK) || access(MMREFS_ENABLE, W_OK))
		SKIP(return, "no %s or %s", MMREFS_FILTER, MMREFS_ENABLE);
	mmrefs_reset_filter();
	self->a = mmrefs_spawn_waiter("mmr_ctl_a", &self->a_fd);
	self->b = mmrefs_spawn_waiter("mmr_ctl_b", &self->b_fd);
	ASSERT_GT(self->a, 0);
	ASSERT_GT(self->b, 0);
	self->a_id = mmrefs_id_of(self->a);
	self->b_id = mmrefs_id_of(self->b);
	ASSERT_GT(self->a_id, 0);
	ASSERT_GT(self->b_id, 0);
}

#define FTRACE_ENABLED	"/proc/sys/kernel/ftrace_enabled"

FIXTURE_TEARDOWN(control)
{
	/* control.ftrace_off_refused_while_armed, stopped half way */
	if (!strcmp(read_setting(FTRACE_ENABLED), "0"))
		mmrefs_write_file(FTRACE_ENABLED, "1");
	mmrefs_waiter_reap(&self->a, &self->a_fd);
	mmrefs_waiter_reap(&self->b, &self->b_fd);
	mmrefs_reset_filter();
}

TEST_F(control, filter_tgid_restricts_recording)
{
	char want[32];
	int a0, b0;

	if (_metadata->skip)
		return;
	snprintf(want, sizeof(want), "tgid=%d", self->a);
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_FILTER, want));
	EXPECT_STREQ(want, read_setting(MMREFS_FILTER));

	a0 = nr_events(self->a_id);
	b0 = nr_events(self->b_id);
	ASSERT_EQ(0, peek(self->a));
	ASSERT_EQ(0, peek(self->b));
	/* we match neither; a's owner matches: only a's mm records (get+put) */
	EXPECT_EQ(a0 + 2, nr_events(self->a_id));
	EXPECT_EQ(b0, nr_events(self->b_id));

	/* filter=all records everybody again */
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_FILTER, "all\n"));
	EXPECT_STREQ("all", read_setting(MMREFS_FILTER));
	ASSERT_EQ(0, peek(self->b));
	EXPECT_EQ(b0 + 2, nr_events(self->b_id));
}

TEST_F(control, filter_comm_matches_actor)
{
	int a0;

	if (_metadata->skip)
		return;
	prctl(PR_SET_NAME, "mmr_ctl_peek");
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_FILTER, "comm=mmr_ctl_peek"));
	EXPECT_STREQ("comm=mmr_ctl_peek", read_setting(MMREFS_FILTER));
	a0 = nr_events(self->a_id);
	/* we are the actor and match: get + put recorded on a's mm */
	ASSERT_EQ(0, peek(self->a));
	EXPECT_EQ(a0 + 2, nr_events(self->a_id));

	/* neither actor nor owner matches: nothing recorded */
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_FILTER, "comm=mmr_nobody"));
	ASSERT_EQ(0, peek(self->a));
	EXPECT_EQ(a0 + 2, nr_events(self->a_id));
}

/* Sum of every hook's hits, and how many hooks show @state. */
static long hook_hits(const char *state, int *nstate)
{
	const char *text = mmrefs_read_file(MMREFS_STATS);
	char line[MMREFS_LINE_MAX], want[32];
	long hits = 0;
	size_t n;

	snprintf(want, sizeof(want), " state=%s ", state);
	*nstate = 0;
	for (; text && *text; text += n + (text[n] == '\n')) {
		n = strcspn(text, "\n");
		if (strncmp(text, "hook=", 5) || n >= sizeof(line))
			continue;
		snprintf(line, sizeof(line), "%.*s", (int)n, text);
		*nstate += !!strstr(line, want);
		hits += mmrefs_field(line, "hits");
	}
	return hits;
}

/* How many hook= lines of stats have @word (" via=ftrace "). */
static int hooks_with(const char *word)
{
	const char *text = mmrefs_read_file(MMREFS_STATS);
	int nr = 0;
	size_t n;

	for (; text && *text; text += n + (text[n] == '\n')) {
		n = strcspn(text, "\n");
		if (!strncmp(text, "hook=", 5) &&
		    memmem(text, n, word, strlen(word)))
			nr++;
	}
	return nr;
}

/* A process that forks a child, which exits at once: every fork hook. */
static void fork_and_reap(void)
{
	pid_t pid = fork();

	if (!pid)
		_exit(0);
	waitpid(pid, NULL, 0);
}

/*
 * enable=0 disarms every hook: a peek and a fork and exit fire none, and
 * the table is retired (its frees would go unseen).  enable=1 arms them
 * and seeds again: a's mm comes back under a new id whose first event is
 * the gap, users 1 (one thread) and count 1 (its users' reference; the
 * lazy-TLB references were flushed and a sleeps, so no CPU borrows it).
 */
TEST_F(control, enable_zero_disarms_and_reseeds)
{
	static struct mmrefs_history h;
	int hooks, idle, active;
	long hits, id, sites;

	if (_metadata->skip)
		return;
	hook_hits("active", &hooks);
	ASSERT_GT(hooks, 0);
	sites = mmrefs_sites_listed();
	ASSERT_LE(0, sites);
	if (sites) {
		/* exact mode stands on the hooks: refused, nothing changed */
		EXPECT_EQ(-EBUSY, mmrefs_write_file(MMREFS_ENABLE, "0"));
		EXPECT_STREQ("1", read_setting(MMREFS_ENABLE));
		EXPECT_EQ(self->a_id, mmrefs_id_of(self->a));
		ASSERT_EQ(0, mmrefs_write_file(SITES, "clear\n"));
	}
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_ENABLE, "0"));
	EXPECT_STREQ("0", read_setting(MMREFS_ENABLE));
	hits = hook_hits("idle", &idle);
	EXPECT_EQ(hooks, idle);
	ASSERT_EQ(0, peek(self->a));
	fork_and_reap();
	EXPECT_EQ(hits, hook_hits("idle", &idle));
	/* nothing is tracked while idle: neither a's mm nor b's */
	EXPECT_EQ(-1, mmrefs_id_of(self->a));
	EXPECT_EQ(-1, mmrefs_id_of(self->b));
	EXPECT_EQ(0, mmrefs_field(mmrefs_read_file(MMREFS_STATS), "mms"));

	mmrefs_flush_lazy();
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_ENABLE, "1\n"));
	EXPECT_STREQ("1", read_setting(MMREFS_ENABLE));
	hook_hits("active", &active);
	EXPECT_EQ(hooks, active);
	id = mmrefs_id_of(self->a);
	ASSERT_GT(id, self->b_id);
	ASSERT_EQ(0, mmrefs_history(id, &h));
	ASSERT_EQ(1, h.nr);
	EXPECT_EVENT(h.ev[0], "gap", "seed", 1, 1, 1, 1);
	/* recording again: a peek is a get and a put */
	ASSERT_EQ(0, peek(self->a));
	EXPECT_EQ(3, nr_events(id));
	/* enable=1 while enabled changes nothing */
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_ENABLE, "1"));
	EXPECT_EQ(id, mmrefs_id_of(self->a));
	EXPECT_EQ(3, nr_events(id));
	if (sites)
		EXPECT_EQ(0, mmrefs_load_sites());
}

/*
 * The six entry hooks ride ftrace on every kernel here (mmput,
 * mmput_async, exit_mmap for the teardown, __mmdrop, kthread_unuse_mm,
 * wake_up_new_task), so turning ftrace off would silence them: refused
 * while they are armed.  Idle, it is allowed, and then enable=1 is refused
 * and leaves everything idle, until ftrace is back on.
 */
TEST_F(control, ftrace_off_refused_while_armed)
{
	int hooks, idle, active, ftraced;
	long sites;

	if (_metadata->skip)
		return;
	ftraced = hooks_with(" via=ftrace ");
	if (!ftraced)
		SKIP(return, "no hook on ftrace on this kernel");
	EXPECT_EQ(6, ftraced);
	EXPECT_EQ(1, hooks_with("hook=mmput sym=mmput via=ftrace "));
	EXPECT_EQ(1, hooks_with("hook=teardown sym=exit_mmap via=ftrace "));
	EXPECT_EQ(1, hooks_with("hook=clone sym=wake_up_new_task via=ftrace "));
	ASSERT_STREQ("1", read_setting(FTRACE_ENABLED));
	hook_hits("active", &hooks);
	EXPECT_EQ(-EBUSY, mmrefs_write_file(FTRACE_ENABLED, "0"));
	EXPECT_STREQ("1", read_setting(FTRACE_ENABLED));

	sites = mmrefs_sites_listed();
	ASSERT_LE(0, sites);
	if (sites)
		ASSERT_EQ(0, mmrefs_write_file(SITES, "clear\n"));
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_ENABLE, "0"));
	ASSERT_EQ(0, mmrefs_write_file(FTRACE_ENABLED, "0"));
	EXPECT_EQ(-EBUSY, mmrefs_write_file(MMREFS_ENABLE, "1"));
	EXPECT_STREQ("0", read_setting(MMREFS_ENABLE));
	hook_hits("idle", &idle);
	EXPECT_EQ(hooks, idle);
	EXPECT_EQ(0, mmrefs_field(mmrefs_read_file(MMREFS_STATS), "mms"));

	ASSERT_EQ(0, mmrefs_write_file(FTRACE_ENABLED, "1"));
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_ENABLE, "1"));
	hook_hits("active", &active);
	EXPECT_EQ(hooks, active);
	EXPECT_LT(0, mmrefs_id_of(self->a));
	if (sites)
		EXPECT_EQ(0, mmrefs_load_sites());
}

/*
 * Loaded with enable=0: every hook registered and idle, nothing tracked;
 * enable=1 then seeds, each mm's first event a gap.
 */
TEST_F(control, load_idle)
{
	const char *ko = getenv("MMREFS_KO");
	static struct mmrefs_history h;
	int hooks, idle;

	if (_metadata->skip)
		return;
	ASSERT_NE(NULL, ko);
	ASSERT_EQ(0, mmrefs_unload_module("mmrefs"));
	ASSERT_EQ(0, mmrefs_load_module(ko, "enable=0"));
	EXPECT_STREQ("0", read_setting(MMREFS_ENABLE));
	EXPECT_STREQ("N", read_setting("/sys/module/mmrefs/parameters/enable"));
	/* registered disarmed: not one hit, not one mm */
	EXPECT_EQ(0, hook_hits("idle", &idle));
	EXPECT_GT(idle, 0);
	hook_hits("active", &hooks);
	EXPECT_EQ(0, hooks);
	ASSERT_EQ(0, peek(self->a));
	EXPECT_EQ(0, hook_hits("idle", &idle));
	EXPECT_EQ(0, mmrefs_field(mmrefs_read_file(MMREFS_STATS), "mms"));
	EXPECT_EQ(-1, mmrefs_id_of(self->a));

	ASSERT_EQ(0, mmrefs_write_file(MMREFS_ENABLE, "1"));
	EXPECT_STREQ("Y", read_setting("/sys/module/mmrefs/parameters/enable"));
	hook_hits("active", &hooks);
	EXPECT_EQ(idle, hooks);
	ASSERT_EQ(0, mmrefs_history(mmrefs_id_of(self->a), &h));
	ASSERT_LE(1, h.nr);
	EXPECT_STREQ("gap", h.ev[0].op);
	EXPECT_EQ(1, h.ev[0].users_new);
	/* back to a default load (exact mode's list too, in that pass) */
	ASSERT_EQ(0, mmrefs_unload_module("mmrefs"));
	ASSERT_EQ(0, mmrefs_load_module(ko, ""));
}

TEST_F(control, bad_filter_rejected)
{
	static const char * const bad[] = {
		"tgid=0", "tgid=-1", "tgid=", "tgid=12x", "tgid=abc",
		"comm=", "comm=sixteen_chars_xy", "bogus", "all junk",
		"tgid=1 comm=x", "ALL",
	};
	unsigned int i;

	if (_metadata->skip)
		return;
	/* a 15-character comm is the longest accepted */
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_FILTER, "comm=fifteen_chars_x"));
	EXPECT_STREQ("comm=fifteen_chars_x", read_setting(MMREFS_FILTER));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		/* rejected with EINVAL, filter unchanged */
		EXPECT_EQ(-EINVAL, mmrefs_write_file(MMREFS_FILTER, bad[i]))
			TH_LOG("filter \"%s\"", bad[i]);
		EXPECT_STREQ("comm=fifteen_chars_x", read_setting(MMREFS_FILTER));
	}
}

TEST_F(control, bad_enable_rejected)
{
	static const char * const bad[] = { "2", "x", "-1", "enable" };
	/* exact mode's site list keeps it enabled (EBUSY) */
	const char *want = mmrefs_sites_listed() ? "1" : "0";
	unsigned int i;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_ENABLE, want));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		/* rejected with EINVAL, unchanged */
		EXPECT_EQ(-EINVAL, mmrefs_write_file(MMREFS_ENABLE, bad[i]))
			TH_LOG("enable \"%s\"", bad[i]);
		EXPECT_STREQ(want, read_setting(MMREFS_ENABLE));
	}
}

/* The borrower's control file needs only mmrefs_borrow.ko. */
FIXTURE(borrow_control) {
	pid_t child;
	int child_fd;
};

FIXTURE_SETUP(borrow_control)
{
	const char *why = borrow_missing();

	self->child_fd = -1;
	if (why)
		SKIP(return, "%s", why);
	self->child = mmrefs_spawn_waiter("mmr_ctl", &self->child_fd);
	ASSERT_GT(self->child, 0);
}

FIXTURE_TEARDOWN(borrow_control)
{
	if (!borrow_missing())
		borrow_cmd("release all");
	mmrefs_waiter_reap(&self->child, &self->child_fd);
}

TEST_F(borrow_control, bad_commands_rejected)
{
	const char *max = mmrefs_read_file(BORROW_MAX_HOLD);
	long max_hold = max ? strtol(max, NULL, 10) : 60000;
	pid_t p = self->child;
	char cmd[64];
	static const char * const bad[] = {
		"grab", "grab 0", "grab -5", "grab 12x", "grab +", "steal %d",
		"grab %d 0", "grab %d 10 extra", "get %d abc", "get %d -1",
		"release", "release 0", "release %dx", "release all now",
		"grab %d %ld",
	};
	unsigned int i;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, borrow_cmd("grab %d", p));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		/* the last one asks for one ms more than max_hold_ms */
		snprintf(cmd, sizeof(cmd), bad[i], p, max_hold + 1);
		/* rejected with EINVAL, the one borrow unchanged */
		EXPECT_EQ(-EINVAL, mmrefs_write_file(BORROW_CONTROL, cmd))
			TH_LOG("command \"%s\"", cmd);
		EXPECT_EQ(1, borrow_count(p));
	}
	/* HOLD_MS == max_hold_ms is still accepted */
	EXPECT_EQ(0, borrow_cmd("get %d %ld", p, max_hold));
	EXPECT_EQ(2, borrow_count(p));
	EXPECT_EQ(0, borrow_cmd("release %d\n", p));
	EXPECT_EQ(0, borrow_count(p));
}

TEST_F(borrow_control, pid_without_mm_rejected)
{
	siginfo_t info;
	int status;
	pid_t gone;

	if (_metadata->skip)
		return;
	/* kthreadd (pid 2) is a kernel thread: no mm of its own */
	EXPECT_EQ(-ESRCH, borrow_cmd("grab 2"));
	EXPECT_EQ(-ESRCH, borrow_cmd("get 2"));

	/* a zombie has no mm any more */
	gone = fork();
	ASSERT_GE(gone, 0);
	if (!gone)
		_exit(0);
	ASSERT_EQ(0, waitid(P_PID, gone, &info, WEXITED | WNOWAIT));
	EXPECT_EQ(-ESRCH, borrow_cmd("grab %d", gone));
	EXPECT_EQ(-ESRCH, borrow_cmd("get %d", gone));
	ASSERT_EQ(gone, waitpid(gone, &status, 0));
	/* a reaped pid does not exist */
	EXPECT_EQ(-ESRCH, borrow_cmd("grab %d", gone));
	/* nothing was borrowed, nothing to release */
	EXPECT_EQ(-ENOENT, borrow_cmd("release %d", gone));
	EXPECT_EQ(0, borrow_count(gone));
}

TEST_F(borrow_control, limit_is_32_borrows)
{
	long users, count, lazy, id = -1;
	int i;

	if (_metadata->skip)
		return;
	if (!mmrefs_missing())
		id = mmrefs_id_of(self->child);
	for (i = 0; i < BORROW_MAX; i++)
		ASSERT_EQ(0, borrow_cmd("grab %d", self->child));
	/* the 33rd is refused and changes nothing */
	EXPECT_EQ(-EBUSY, borrow_cmd("grab %d", self->child));
	EXPECT_EQ(-EBUSY, borrow_cmd("get %d", self->child));
	EXPECT_EQ(BORROW_MAX, borrow_count(self->child));
	/* 32 grabs: one user, count 1 + 32 */
	if (id > 0 && mmrefs_settle(id)) {
		ASSERT_EQ(0, mmrefs_counts(id, &users, &count, &lazy));
		EXPECT_EQ(1, users);
		EXPECT_EQ(1 + BORROW_MAX, count - lazy);
	}
	EXPECT_EQ(0, borrow_cmd("release all"));
	EXPECT_EQ(0, borrow_count(self->child));
	if (id > 0 && mmrefs_settle(id)) {
		ASSERT_EQ(0, mmrefs_counts(id, &users, &count, &lazy));
		EXPECT_EQ(1, count - lazy);
	}
}

/*
 * A load parameter out of its range (Documentation/interface.rst, "Module
 * parameters") fails the load with EINVAL; each range's bounds load.
 */
TEST_F(control, load_parameters_out_of_range)
{
	static const char * const bad[] = {
		"history=1025", "watch_history=16385", "retired=65537",
		"max_mms=63", "max_mms=1048577", "holders=63",
		"holders=1048577", NULL
	};
	static const char * const good[] = {
		"history=0 watch_history=0 retired=0 max_mms=64 holders=64",
		"history=1024 watch_history=16384", NULL
	};
	const char *ko = getenv("MMREFS_KO");
	const char * const *p;
	int err;

	if (_metadata->skip)
		return;
	ASSERT_NE(NULL, ko);
	ASSERT_EQ(0, mmrefs_unload_module("mmrefs"));
	/* (no TH_LOG: gcc's -Wformat-overflow misreads it in this loop) */
	for (p = bad; *p; p++) {
		err = mmrefs_load_module(ko, *p);
		if (err != -EINVAL)
			fprintf(stderr, "# %s: %d\n", *p, err);
		EXPECT_EQ(-EINVAL, err);
	}
	for (p = good; *p; p++) {
		err = mmrefs_load_module(ko, *p);
		if (err)
			fprintf(stderr, "# %s: %d\n", *p, err);
		EXPECT_EQ(0, err);
		EXPECT_EQ(0, mmrefs_unload_module("mmrefs"));
	}
	ASSERT_EQ(0, mmrefs_load_module(ko, ""));
}

TEST_HARNESS_MAIN
