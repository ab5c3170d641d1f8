// SPDX-License-Identifier: GPL-2.0
/*
 * holders and leaks: who holds an mm right now, and which references were
 * never given back.  Every holders block must add up: the refs of its
 * counter=users lines are mm_users, those of its counter=count lines are
 * mm_count (lazy-TLB CPUs and mmrefs' observer included), and what no
 * part explains is an explicit unattributed line, checked to be exactly
 * what the scenario predicts.
 *
 * Test programs run with THP off (see mmrefs_util.c), so khugepaged (which
 * mmgrab()s the mms it may scan) holds no reference to the victim's mm.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mmrefs_util.h"

#define HOLDERS		MMREFS_DIR "/holders"
#define LEAKS		MMREFS_DIR "/leaks"
#define PARAM(name)	"/sys/module/mmrefs/parameters/" name
#define VICTIM_COMM	"mmr_held"
#define NR_THREADS	3
#define LEAK_MS		300

/* One mm's block of holders (or leaks), parsed. */
struct block {
	char head[MMREFS_LINE_MAX];
	long users, count;
	long users_parts, count_parts;	/* every refs= but unattributed */
	long unattributed_users, unattributed_count;
	long threads, lazy, observer;
	char text[8192];		/* the block as read */
};

/* The block of mm @id in @path (holders or leaks); 0 or -ENOENT. */
static int read_block(const char *path, long id, struct block *b)
{
	const char *text = mmrefs_read_file(path), *p, *end;
	char line[MMREFS_LINE_MAX], kind[16], ctr[8];
	size_t n;
	long refs;

	memset(b, 0, sizeof(*b));
	if (!text)
		return -ENOENT;
	for (p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		n = strcspn(p, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		if (line[0] != ' ' && mmrefs_field(line, "id") == id)
			break;
	}
	if (!p || !*p)
		return -ENOENT;
	snprintf(b->head, sizeof(b->head), "%s", line);
	b->users = mmrefs_field(line, "users");
	b->count = mmrefs_field(line, "count");
	for (end = strchr(p, '\n'); end && end[1] == ' '; end = strchr(end + 1, '\n')) {
		n = strcspn(end + 1, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)n, end + 1);
		strncat(b->text, line, sizeof(b->text) - strlen(b->text) - 2);
		strcat(b->text, "\n");
		if (strncmp(line, "  kind=", 7))
			continue;	/* a stack frame */
		mmrefs_field_str(line, "kind", kind, sizeof(kind));
		mmrefs_field_str(line, "counter", ctr, sizeof(ctr));
		refs = mmrefs_field(line, "refs");
		if (!strcmp(kind, "unattributed")) {
			if (!strcmp(ctr, "users"))
				b->unattributed_users = refs;
			else
				b->unattributed_count = refs;
			continue;
		}
		if (!strcmp(kind, "thread"))
			b->threads = refs;
		if (!strcmp(kind, "lazy_tlb"))
			b->lazy = refs;
		if (!strcmp(kind, "observer"))
			b->observer = refs;
		if (!strcmp(ctr, "users"))
			b->users_parts += refs;
		else
			b->count_parts += refs;
	}
	return 0;
}

/* The parts explain users and count with nothing unattributed. */
static bool settled(const char *path, long id, struct block *b)
{
	mmrefs_flush_lazy();
	return !read_block(path, id, b) && !b->unattributed_users &&
	       !b->unattributed_count;
}

static int set_param(const char *path, long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", val);
	return mmrefs_write_file(path, buf);
}

FIXTURE(holders) {
	pid_t victim;
	int fd;
	long id;
};

FIXTURE_SETUP(holders)
{
	const char *why = mmrefs_missing() ?: borrow_missing();

	self->fd = -1;
	self->victim = 0;
	if (why)
		SKIP(return, "%s", why);
	if (access(HOLDERS, R_OK))
		SKIP(return, "no %s", HOLDERS);
	mmrefs_reset_filter();
	mmrefs_write_file(HOLDERS, "all");
	mmrefs_write_file(MMREFS_WATCH, "clear");
	ASSERT_EQ(0, set_param(PARAM("leak_torndown_ms"), LEAK_MS));
	ASSERT_EQ(0, set_param(PARAM("leak_kthread_ms"), LEAK_MS));
	ASSERT_EQ(0, set_param(PARAM("leak_get_ms"), LEAK_MS));
	/* stacks for every record: the tests look for the borrower's */
	ASSERT_EQ(0, set_param(PARAM("stacks"), 1));
	self->victim = mmrefs_spawn_ready(VICTIM_COMM, mmrefs_start_threads,
					  NR_THREADS, &self->fd);
	ASSERT_GT(self->victim, 0);
	self->id = mmrefs_id_of(self->victim);
	ASSERT_GT(self->id, 0);
}

FIXTURE_TEARDOWN(holders)
{
	if (_metadata->skip)
		return;
	borrow_cmd("release all");
	mmrefs_write_file(MMREFS_WATCH, "clear");
	mmrefs_write_file(HOLDERS, "all");
	mmrefs_waiter_reap(&self->victim, &self->fd);
	set_param(PARAM("leak_torndown_ms"), 10000);
	set_param(PARAM("leak_kthread_ms"), 10000);
	set_param(PARAM("leak_get_ms"), 10000);
	set_param(PARAM("stacks"), 0);
}

TEST_F(holders, threads_add_up)
{
	static struct block b;
	char sel[32];

	if (_metadata->skip)
		return;
	/* the selection shows this mm only */
	snprintf(sel, sizeof(sel), "tgid=%d", self->victim);
	ASSERT_EQ(0, mmrefs_write_file(HOLDERS, sel));
	EXPECT_TRUE(loop_until(settled(HOLDERS, self->id, &b)))
		TH_LOG("%s\n%s", b.head, b.text);
	/* N+1 threads are the users; all of them are one count, + lazy */
	EXPECT_EQ(NR_THREADS + 1, b.users);
	EXPECT_EQ(NR_THREADS + 1, b.threads);
	EXPECT_EQ(b.users, b.users_parts);
	EXPECT_EQ(1 + b.lazy, b.count);
	EXPECT_EQ(b.count, b.count_parts);
	/* THP is off in the tests: khugepaged does not know this mm */
	EXPECT_EQ(NULL, strstr(b.text, "kind=khugepaged"));
	EXPECT_EQ(-EINVAL, mmrefs_write_file(HOLDERS, "tgid=0"));
	EXPECT_EQ(-EINVAL, mmrefs_write_file(HOLDERS, "pid=1"));
	EXPECT_EQ(-EINVAL, mmrefs_write_file(HOLDERS, "mm=x"));
	/* rejected writes keep the selection: another mm is not shown */
	EXPECT_EQ(-ENOENT, read_block(HOLDERS, mmrefs_id_of(getpid()), &b));
	ASSERT_EQ(0, mmrefs_write_file(HOLDERS, "all"));
	EXPECT_EQ(0, read_block(HOLDERS, mmrefs_id_of(getpid()), &b));
}

#define HPAGE		(2UL << 20)
#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"

/*
 * THP back on, and one huge-page-sized, aligned region that had a fault
 * (khugepaged takes only a VMA with an anon_vma).  With @thp, mark it
 * MADV_HUGEPAGE, which registers the mm in THP mode always and madvise
 * alike; a kernel without THP would refuse that (EINVAL).
 */
static int register_thp(int thp)
{
	uintptr_t p;

	p = (uintptr_t)mmap(NULL, 2 * HPAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == (uintptr_t)MAP_FAILED || prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0))
		return -1;
	p = (p + HPAGE - 1) & ~(HPAGE - 1);
	memset((void *)p, 1, 4096);
	return thp ? madvise((void *)p, HPAGE, MADV_HUGEPAGE) : 0;
}

/*
 * khugepaged mmgrab()s each mm it registers until the mm's teardown: a
 * part of count of its own, read from the mm (MMF_VM_HUGEPAGE) with the
 * live values, so nothing is left unattributed.  On a kernel without THP
 * (the debug kernel) or with THP "never", the same child holds no such
 * reference, and none may be shown.
 */
TEST_F(holders, khugepaged_is_a_holder)
{
	static struct block b;
	char mode[128] = "";
	pid_t child;
	int fd = -1;
	bool thp;
	long id;

	if (_metadata->skip)
		return;
	mmrefs_read_into(THP_ENABLED, mode, sizeof(mode));
	thp = strstr(mode, "[always]") || strstr(mode, "[madvise]");
	TH_LOG("THP %s: %s", thp ? "on" : "off", mode[0] ? mode : "not built");
	child = mmrefs_spawn_ready("mmr_thp", register_thp, thp, &fd);
	ASSERT_GT(child, 0);
	id = mmrefs_id_of(child);
	ASSERT_GT(id, 0);
	EXPECT_TRUE(loop_until(settled(HOLDERS, id, &b)))
		TH_LOG("%s\n%s", b.head, b.text);
	/* one user; count: the users' reference, khugepaged's, lazy refs */
	EXPECT_EQ(1, b.users);
	EXPECT_EQ(1 + thp + b.lazy, b.count);
	EXPECT_EQ(b.count, b.count_parts);
	EXPECT_EQ(thp, !!strstr(b.text, "  kind=khugepaged counter=count refs=1\n"))
		TH_LOG("%s\n%s", b.head, b.text);
	mmrefs_waiter_reap(&child, &fd);
}

TEST_F(holders, get_is_a_temporary_holder)
{
	static struct block b;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, borrow_cmd("get %d 30000", self->victim));
	EXPECT_TRUE(loop_until(settled(HOLDERS, self->id, &b)))
		TH_LOG("%s\n%s", b.head, b.text);
	/* users: the threads and the borrower's get_task_mm() */
	EXPECT_EQ(NR_THREADS + 2, b.users);
	EXPECT_EQ(b.users, b.users_parts);
	EXPECT_EQ(b.count, b.count_parts);
	EXPECT_NE(NULL, strstr(b.text, "  kind=mmget counter=users refs=1 "));
	EXPECT_NE(NULL, strstr(b.text, " comm=mmrefs_borrow kthread=1 "));
	/* its site and stack: the borrower's kthread, in its module */
	EXPECT_NE(NULL, strstr(b.text, " site=borrow_thread+"));
	EXPECT_NE(NULL, strstr(b.text, " [mmrefs_borrow]\n      "));
	/* held past leak_get_ms: a suspect, until it is put */
	mmrefs_sleep_ms(LEAK_MS + 100);
	ASSERT_EQ(0, read_block(LEAKS, self->id, &b));
	EXPECT_NE(NULL, strstr(b.head, "mmget"));
	EXPECT_NE(NULL, strstr(b.head, "kthread"));
	ASSERT_EQ(0, borrow_cmd("release %d", self->victim));
	EXPECT_TRUE(loop_until(read_block(LEAKS, self->id, &b) == -ENOENT));
	EXPECT_TRUE(loop_until(settled(HOLDERS, self->id, &b)));
	EXPECT_EQ(NR_THREADS + 1, b.users);
	EXPECT_EQ(NULL, strstr(b.text, "kind=mmget"));
}

/*
 * Another process opens the victim's /proc/PID/mem, reads it and exits
 * with it open.  The open's get is put again before open() returns, the
 * read's get and put are its own, and exit_files() closing the file drops
 * the grab it kept: afterwards the victim's parts are its threads, the
 * users' count and lazy CPUs again, no mmget holder, no leaks line.
 */
TEST_F(holders, exit_with_proc_mem_open)
{
	static struct block b;
	static char c;
	char path[64];
	pid_t reader;
	int status;

	if (_metadata->skip)
		return;
	snprintf(path, sizeof(path), "/proc/%d/mem", self->victim);
	reader = fork();
	ASSERT_GE(reader, 0);
	if (!reader) {
		int fd = open(path, O_RDONLY);

		/* the victim is a fork of ours: c's address is mapped there */
		_exit(fd < 0 || pread(fd, &c, 1, (off_t)(uintptr_t)&c) != 1);
	}
	ASSERT_EQ(reader, waitpid(reader, &status, 0));
	ASSERT_EQ(0, status);
	EXPECT_TRUE(loop_until(settled(HOLDERS, self->id, &b)))
		TH_LOG("%s\n%s", b.head, b.text);
	EXPECT_EQ(NR_THREADS + 1, b.users);
	EXPECT_EQ(1 + b.lazy, b.count);
	EXPECT_EQ(NULL, strstr(b.text, "kind=mmget")) TH_LOG("%s", b.text);
	mmrefs_sleep_ms(LEAK_MS + 100);
	EXPECT_EQ(-ENOENT, read_block(LEAKS, self->id, &b))
		TH_LOG("%s\n%s", b.head, b.text);
}

/* The victim exits while a kthread holds a grab: a torndown leak. */
static void exit_while_grabbed(struct __test_metadata *_metadata,
			       pid_t *victim, int *fd, long id, bool watched)
{
	static struct block b;
	pid_t pid = *victim;
	char cmd[32];

	/* watched first, so that the borrower's mmgrab() is seen */
	if (watched) {
		snprintf(cmd, sizeof(cmd), "pid=%d", pid);
		ASSERT_EQ(0, mmrefs_write_file(MMREFS_WATCH, cmd));
	}
	ASSERT_EQ(0, borrow_cmd("grab %d 30000", pid));
	/*
	 * Unwatched, the torn-down mm's count is the teardown's sample with
	 * its lazy-TLB part replaced by today's.  A CPU that held the mm
	 * lazily and let go during that sample (its count read, its
	 * current task not lazy any more) would leave one reference in the
	 * sample that no read can take out.  So no CPU holds it lazily at
	 * the exit but the exiting task's own (counted where it runs):
	 * every CPU switches to our mm first.
	 */
	mmrefs_flush_lazy();
	ASSERT_EQ(0, mmrefs_waiter_exit(victim, fd));
	mmrefs_sleep_ms(LEAK_MS + 100);
	EXPECT_TRUE(loop_until(!read_block(LEAKS, id, &b)));
	EXPECT_NE(NULL, strstr(b.head, "reasons=torndown"));
	EXPECT_GE(mmrefs_field(b.head, "held_ms"), LEAK_MS);
	EXPECT_LT(mmrefs_field(b.head, "held_ms"), 5000)
		TH_LOG("%s\n%s", b.head, b.text);
	EXPECT_EQ(0, b.users);
	/* the borrower, its comm and a stack through its module */
	EXPECT_NE(NULL, strstr(b.text, " comm=mmrefs_borrow kthread=1 "))
		TH_LOG("%s\n%s", b.head, b.text);
	EXPECT_NE(NULL, strstr(b.text, " [mmrefs_borrow]\n      "));
	if (watched) {
		/* its mmgrab() was seen: every reference is named */
		EXPECT_TRUE(loop_until(settled(LEAKS, id, &b)))
			TH_LOG("%s\n%s", b.head, b.text);
		EXPECT_NE(NULL, strstr(b.text, "  kind=mmgrab counter=count refs=1 "));
		EXPECT_EQ(1, b.observer);
		EXPECT_EQ(b.count, b.count_parts);
	} else {
		/*
		 * its mmgrab() is inlined: one count nobody can name, but
		 * exact mode's site probe in the module
		 */
		EXPECT_TRUE(loop_until((mmrefs_flush_lazy(),
					!read_block(LEAKS, id, &b) &&
					!b.lazy)));
		EXPECT_EQ(1, b.count);
		EXPECT_EQ(!mmrefs_exact_on(), b.unattributed_count);
		if (mmrefs_exact_on())
			EXPECT_NE(NULL, strstr(b.text, "  kind=mmgrab counter=count refs=1 "));
		EXPECT_NE(NULL, strstr(b.text, "  kind=borrowed counter=count refs=0 "));
	}
	ASSERT_EQ(0, borrow_cmd("release %d", pid));
	/* freed: no longer a suspect, nor in holders */
	EXPECT_TRUE(loop_until((mmrefs_flush_lazy(),
				read_block(LEAKS, id, &b) == -ENOENT &&
				read_block(HOLDERS, id, &b) == -ENOENT)));
}

TEST_F(holders, grab_leak_reported)
{
	if (_metadata->skip)
		return;
	exit_while_grabbed(_metadata, &self->victim, &self->fd, self->id,
			   false);
}

TEST_F(holders, grab_leak_reported_watched)
{
	if (_metadata->skip)
		return;
	exit_while_grabbed(_metadata, &self->victim, &self->fd, self->id,
			   true);
}

TEST_F(holders, leak_mode_until_unload)
{
	static struct block b;
	const char *ko = getenv("MMREFS_BORROW_KO");
	pid_t pid = self->victim;

	if (_metadata->skip)
		return;
	ASSERT_NE(NULL, ko);
	ASSERT_EQ(0, borrow_cmd("leak %d", pid));
	/* release does not give a leak back */
	EXPECT_EQ(-ENOENT, borrow_cmd("release %d", pid));
	ASSERT_EQ(0, mmrefs_waiter_exit(&self->victim, &self->fd));
	/* reported within the threshold, with the borrower named */
	mmrefs_sleep_ms(LEAK_MS + 100);
	EXPECT_TRUE(loop_until(!read_block(LEAKS, self->id, &b)));
	EXPECT_NE(NULL, strstr(b.head, "reasons=torndown"));
	EXPECT_NE(NULL, strstr(b.text, " comm=mmrefs_borrow kthread=1 "));
	EXPECT_GE(mmrefs_field(b.head, "held_ms"), LEAK_MS);
	/* unloading the borrower drops it: freed, no suspect left */
	ASSERT_EQ(0, mmrefs_unload_module("mmrefs_borrow"));
	EXPECT_TRUE(loop_until((mmrefs_flush_lazy(),
				read_block(LEAKS, self->id, &b) == -ENOENT)));
	ASSERT_EQ(0, mmrefs_load_module(ko, ""));
}

TEST_HARNESS_MAIN
