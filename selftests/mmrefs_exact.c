// SPDX-License-Identifier: GPL-2.0
/*
 * Exact mode: with the site list of the running kernel written to
 * /sys/kernel/debug/mmrefs/sites, every write of mm_users and mm_count is
 * an event, unwatched mms included, and each counter's value is the sum
 * of its deltas.  The list comes from $MMREFS_SITES (scripts/mmrefs-sites
 * VMLINUX), the borrower module's from $MMREFS_BORROW_SITES or
 * test_modules/mmrefs_borrow.sites beside this program.  Without a list
 * the tests skip.  The list is cleared again at the end of each test.
 *
 * The textbook scenario, on an unwatched mm born in exact mode:
 *   birth (fork)                          users 1 count 1
 *   a second thread (copy_process mmget)  users 2
 *   /proc/PID/maps read by another task:  proc_mem_open's get, put and
 *     mmgrab (count 2); m_start's mmget_not_zero and m_stop's mmput
 *     (users 3 -> 2); proc_map_release's mmdrop at close (count 1)
 *   process_vm_readv(): mm_access's get and its put (users 3 -> 2)
 *   the borrower's get_task_mm()/mmput() (users 3 -> 2)
 *   the borrower's inlined mmgrab() (count 2), kthread_use_mm() and
 *     kthread_unuse_mm(), its inlined mmdrop() (count 1)
 *   the thread exits (users 1), the process exits (users 0), __mmput's
 *     mmdrop() (count 0), then the free: users 0, count 0.
 * Every event continues both chains (old = the previous event's new), so
 * the history of the mm is gapless, and it ends at 0 and 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mmrefs_util.h"

#define SITES		MMREFS_DIR "/sites"
#define HOLDERS		MMREFS_DIR "/holders"
#define CHILD_COMM	"mmr_exact"
#define NO_SITES \
	"\nsites=0 sites_armed=0 sites_refused=0 sites_missed=0 exact=off\n"
#define BORROW_GRAB_ARMED \
	"module=mmrefs_borrow counter=count op=inc helper=mmgrab state=armed"

FIXTURE(exact) {
	pid_t child;
	int release_fd;
};

FIXTURE_SETUP(exact)
{
	const char *list = getenv("MMREFS_SITES");
	const char *why = mmrefs_missing() ?: borrow_missing();

	self->child = -1;
	self->release_fd = -1;
	if (why)
		SKIP(return, "%s", why);
	if (!list)
		SKIP(return, "no site list: set MMREFS_SITES (scripts/mmrefs-sites)");
	ASSERT_EQ(0, mmrefs_load_sites());
	mmrefs_reset_filter();
}

FIXTURE_TEARDOWN(exact)
{
	mmrefs_waiter_reap(&self->child, &self->release_fd);
	borrow_cmd("release all");
	/* the whole suite in exact mode keeps its list */
	if (getenv("MMREFS_EXACT"))
		mmrefs_load_sites();
	else
		mmrefs_write_file(SITES, "clear\n");
}

/* Every vmlinux site is armed, lazy, or refused with a reason. */
TEST_F(exact, every_site_armed_or_explained)
{
	const char *text, *line;
	char state[16], why[32], site[96];
	int armed = 0, lazy = 0, refused = 0;

	if (_metadata->skip)
		return;
	text = mmrefs_read_file(SITES);
	ASSERT_NE(NULL, text);
	ASSERT_NE(NULL, strstr(text, " exact=on ")) TH_LOG("%.300s", text);
	for (line = strstr(text, "\nsite="); line; line = strstr(line + 1, "\nsite=")) {
		ASSERT_EQ(0, mmrefs_field_str(line + 1, "state", state,
					      sizeof(state)));
		mmrefs_field_str(line + 1, "site", site, sizeof(site));
		if (!strcmp(state, "armed")) {
			armed++;
		} else if (!strcmp(state, "lazy")) {
			lazy++;
		} else if (!strcmp(state, "refused")) {
			refused++;
			EXPECT_EQ(0, mmrefs_field_str(line + 1, "why", why,
						      sizeof(why)));
			TH_LOG("refused: %s why=%s", site, why);
		} else {
			/* waiting: a module's, whose module is not loaded */
			EXPECT_EQ(NULL, strstr(line, "module=vmlinux"))
				TH_LOG("%.200s", line + 1);
		}
	}
	TH_LOG("armed=%d lazy=%d refused=%d", armed, lazy, refused);
	EXPECT_LT(20, armed);
	EXPECT_LT(0, lazy);
	/* the sites of the missing transitions are armed */
	EXPECT_NE(NULL, strstr(text, "site=m_start+"));
	EXPECT_NE(NULL, strstr(text, "site=proc_map_release+"));
	EXPECT_NE(NULL, strstr(mmrefs_read_file(MMREFS_STATS), " exact=on\n"));
}

static char shared_word[64] = "mmrefs";

/* One open of sites, @text in one write(), then close; -errno or 0. */
static int sites_write(const char *text)
{
	int fd = open(SITES, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

/* Remove " KEY=value" (@key with its blank and =) from @line. */
static void drop_field(char *line, const char *key)
{
	char *f = strstr(line, key), *end;

	if (!f)
		return;
	end = f + 1 + strcspn(f + 1, " ");
	memmove(f, end, strlen(end) + 1);
}

/*
 * A bad list fails its write with EINVAL and leaves the list in use as it
 * was: the header line of sites, read before and after, is the same.
 */
TEST_F(exact, bad_lists_are_refused_whole)
{
	static const char * const bad[] = {
		"nonsense\n",
		"# mmrefs-sites 2\n",
		"# mmrefs-sites 1\n# release 0.0.0-not-this-one\n",
		"# mmrefs-sites 1\n# mm_struct users=0x1 count=0x2\n",
		/* a site line before the headers that make it valid */
		"# mmrefs-sites 1\nffffffff81000000 x+0x1 users inc mmget 0x0(%rdi) x\n",
		"clear\n# mmrefs-sites 1\n",
		"clear extra\n",
	};
	char before[256], after[256], line[400];
	const char *text;
	size_t i;

	if (_metadata->skip)
		return;
	text = mmrefs_read_file(SITES);
	ASSERT_NE(NULL, text);
	snprintf(before, sizeof(before), "%.*s", (int)strcspn(text, "\n"), text);
	/* the kprobe optimizer works on meanwhile: optimized= may move */
	drop_field(before, " optimized=");
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		/* braces: TH_LOG runs after the check, outside a bare for */
		EXPECT_EQ(-EINVAL, sites_write(bad[i])) TH_LOG("list %zu", i);
	}
	/* a line longer than any site line */
	memset(line, 'x', sizeof(line) - 2);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\0';
	EXPECT_EQ(-EINVAL, sites_write(line));
	text = mmrefs_read_file(SITES);
	ASSERT_NE(NULL, text);
	snprintf(after, sizeof(after), "%.*s", (int)strcspn(text, "\n"), text);
	drop_field(after, " optimized=");
	EXPECT_STREQ(before, after);
	EXPECT_NE(NULL, strstr(after, " exact=on "));
	/* clear, alone, disarms; without a list stats says sites=0 */
	EXPECT_EQ(0, sites_write("clear\n"));
	EXPECT_NE(NULL, strstr(mmrefs_read_file(MMREFS_STATS), NO_SITES));
}

/*
 * enable=0 disarms the hooks exact mode stands on: refused (EBUSY) while a
 * list is loaded, and no list is taken (EPERM) until enable=1.
 */
TEST_F(exact, enable_zero_waits_for_no_sites)
{
	if (_metadata->skip)
		return;
	ASSERT_TRUE(mmrefs_exact_on());
	EXPECT_EQ(-EBUSY, mmrefs_write_file(MMREFS_ENABLE, "0"));
	EXPECT_STREQ("1\n", mmrefs_read_file(MMREFS_ENABLE));
	EXPECT_TRUE(mmrefs_exact_on());

	ASSERT_EQ(0, sites_write("clear\n"));
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_ENABLE, "0"));
	EXPECT_EQ(-EPERM, mmrefs_load_sites());
	EXPECT_NE(NULL, strstr(mmrefs_read_file(MMREFS_STATS), NO_SITES));
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_ENABLE, "1"));
	EXPECT_EQ(0, mmrefs_load_sites());
	EXPECT_TRUE(mmrefs_exact_on());
}

static void *idle_thread(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

static int child_main(int release)
{
	pthread_t t;
	char c;

	prctl(PR_SET_NAME, CHILD_COMM);
	if (pthread_create(&t, NULL, idle_thread, NULL))
		return 1;
	while (read(release, &c, 1) < 0 && errno == EINTR)
		;
	return 0;
}

static pid_t child_start(int *release_fd)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -1;
	pid = fork();
	if (!pid) {
		close(fds[1]);
		_exit(child_main(fds[0]));
	}
	close(fds[0]);
	*release_fd = fds[1];
	return pid;
}

/* The mm of @pid has @threads threads (so its second thread is up). */
static bool has_threads(pid_t pid, int threads)
{
	char path[64], buf[4096];
	const char *t;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (mmrefs_read_into(path, buf, sizeof(buf)) < 0)
		return false;
	t = strstr(buf, "\nThreads:\t");
	return t && atoi(t + 10) == threads;
}

/* Start the child, wait for its second thread: the id of its mm. */
static long child_ready(struct __test_metadata *_metadata, pid_t *child,
			int *release_fd)
{
	long id;

	*child = child_start(release_fd);
	ASSERT_LT(0, *child);
	ASSERT_TRUE(loop_until(has_threads(*child, 2)));
	id = mmrefs_id_of(*child);
	ASSERT_LT(0, id);
	return id;
}

static int index_of(const struct mmrefs_history *h, const char *op,
		    const char *site)
{
	int i;

	for (i = 0; i < h->nr; i++)
		if (!strcmp(h->ev[i].op, op) &&
		    !strncmp(h->ev[i].site, site, strlen(site)))
			return i;
	return -1;
}

/* The holders block of mm @id has nothing unattributed. */
static void expect_attributed(struct __test_metadata *_metadata, long id)
{
	char sel[32];
	const char *text, *block;

	snprintf(sel, sizeof(sel), "mm=%ld", id);
	ASSERT_EQ(0, mmrefs_write_file(HOLDERS, sel));
	mmrefs_flush_lazy();
	text = mmrefs_read_file(HOLDERS);
	ASSERT_NE(NULL, text);
	block = strstr(text, "src=exact");
	EXPECT_NE(NULL, block) TH_LOG("%s", text);
	EXPECT_NE(NULL, strstr(text, "kind=unattributed counter=users refs=0\n"))
		TH_LOG("%s", text);
	EXPECT_NE(NULL, strstr(text, "kind=unattributed counter=count refs=0\n"))
		TH_LOG("%s", text);
	mmrefs_write_file(HOLDERS, "all");
}

TEST_F(exact, textbook_unwatched_is_gapless)
{
	static struct mmrefs_history h;
	char path[64], buf[64];
	struct iovec local, remote;
	int fd, i, status;
	long id;

	if (_metadata->skip)
		return;
	id = child_ready(_metadata, &self->child, &self->release_fd);

	/* a /proc reader: proc_mem_open, m_start, m_stop, proc_map_release */
	snprintf(path, sizeof(path), "/proc/%d/maps", self->child);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, buf, sizeof(buf)));
	close(fd);
	/* process_vm_readv(): mm_access() */
	local.iov_base = buf;
	local.iov_len = sizeof(buf);
	remote.iov_base = shared_word;	/* at the same address after fork */
	remote.iov_len = sizeof(shared_word);
	EXPECT_EQ((ssize_t)sizeof(shared_word),
		  process_vm_readv(self->child, &local, 1, &remote, 1, 0));
	/* a get borrower and a grab borrower (the module's own sites) */
	ASSERT_EQ(0, borrow_cmd("get %d 30000", self->child));
	ASSERT_EQ(0, borrow_cmd("release %d", self->child));
	ASSERT_EQ(0, borrow_cmd("grab %d 30000", self->child));
	expect_attributed(_metadata, id);
	ASSERT_EQ(0, borrow_cmd("release %d", self->child));
	expect_attributed(_metadata, id);
	/* exit while nothing else holds it: teardown and free */
	status = mmrefs_waiter_exit(&self->child, &self->release_fd);
	EXPECT_EQ(0, status);
	mmrefs_flush_lazy();
	ASSERT_TRUE(loop_until(!mmrefs_history(id, &h) &&
			       strstr(h.header, "state=freed")))
		TH_LOG("%s", h.header);
	EXPECT_NE(NULL, strstr(h.header, " dropped=0")) TH_LOG("%s", h.header);
	ASSERT_LT(10, h.nr);
	/* born in exact mode: 1 and 1, then every event continues */
	EXPECT_STREQ("new", h.ev[0].op);
	EXPECT_EQ(1, h.ev[0].users_new);
	EXPECT_EQ(1, h.ev[0].count_new);
	for (i = 1; i < h.nr; i++) {
		EXPECT_EQ(h.ev[i - 1].users_new, h.ev[i].users_old)
			TH_LOG("seq %ld op=%s site=%s", h.ev[i].seq,
			       h.ev[i].op, h.ev[i].site);
		EXPECT_EQ(h.ev[i - 1].count_new, h.ev[i].count_old)
			TH_LOG("seq %ld op=%s site=%s", h.ev[i].seq,
			       h.ev[i].op, h.ev[i].site);
	}
	EXPECT_STREQ("free", h.ev[h.nr - 1].op);
	EXPECT_EQ(0, h.ev[h.nr - 1].users_new);
	EXPECT_EQ(0, h.ev[h.nr - 1].count_new);
	/* the transitions only exact mode sees, with their sites */
	EXPECT_LE(0, index_of(&h, "mmget_not_zero", "m_start+"));
	EXPECT_LE(0, index_of(&h, "mmdrop", "proc_map_release+"));
	/* the thread's mmget(), where copy_mm() is inlined or not */
	EXPECT_TRUE(index_of(&h, "mmget", "copy_process+") >= 0 ||
		    index_of(&h, "mmget", "copy_mm+") >= 0);
	EXPECT_LE(0, index_of(&h, "mmgrab", "borrow_"));
	EXPECT_LE(0, index_of(&h, "mmdrop", "borrow_"));
	for (i = 0; i < h.nr; i++)
		TH_LOG("%s %s users=%ld->%ld count=%ld->%ld site=%s",
		       h.ev[i].op, h.ev[i].cause, h.ev[i].users_old,
		       h.ev[i].users_new, h.ev[i].count_old,
		       h.ev[i].count_new, h.ev[i].site);
}

/*
 * The exit's mmput() moved to another CPU between its probe and its write
 * (the borrower's "move", as in mmrefs_watch.c), unwatched: the site probe
 * still finds the probe's caller and cause on the other CPU.  The child is
 * one thread: its exit put is users 1 -> 0, cause exit, from do_exit().
 */
TEST_F(exact, exit_put_moved_to_another_cpu)
{
	static struct mmrefs_history h;
	const char *text = mmrefs_read_file(MMREFS_STATS);
	long moved = text ? mmrefs_field(text, "hint_moved") : -1;
	int i, err, put = -1;
	long id;

	if (_metadata->skip)
		return;
	ASSERT_LE(0, moved);
	self->child = mmrefs_spawn_waiter(CHILD_COMM, &self->release_fd);
	ASSERT_LT(0, self->child);
	id = mmrefs_id_of(self->child);
	ASSERT_LT(0, id);
	err = borrow_cmd("move %d", self->child);
	if (err == -ENODEV)
		SKIP(return, "one CPU: nowhere to move the exiting task");
	ASSERT_EQ(0, err);
	EXPECT_EQ(0, mmrefs_waiter_exit(&self->child, &self->release_fd));
	mmrefs_flush_lazy();
	ASSERT_TRUE(loop_until(!mmrefs_history(id, &h) &&
			       strstr(h.header, "state=freed")))
		TH_LOG("%s", h.header);
	text = mmrefs_read_file(BORROW_CONTROL);
	EXPECT_NE(NULL, text ? strstr(text, "move pid=") : NULL);
	text = mmrefs_read_file(MMREFS_STATS);
	EXPECT_LT(moved, text ? mmrefs_field(text, "hint_moved") : -1);
	for (i = 0; i < h.nr; i++)
		if (!strcmp(h.ev[i].op, "mmput") && !h.ev[i].users_new)
			put = i;
	ASSERT_LE(0, put);
	EXPECT_EQ(1, h.ev[put].users_old);
	EXPECT_STREQ("exit", h.ev[put].cause);
	EXPECT_TRUE(!strncmp(h.ev[put].site, "do_exit+", 8) ||
		    !strncmp(h.ev[put].site, "exit_mm+", 8))
		TH_LOG("exit put site %s", h.ev[put].site);
}

/* Both chains continue from event to event; false at the first gap. */
static bool gapless(struct __test_metadata *_metadata,
		    const struct mmrefs_history *h)
{
	int i;

	for (i = 1; i < h->nr; i++) {
		if (h->ev[i - 1].users_new == h->ev[i].users_old &&
		    h->ev[i - 1].count_new == h->ev[i].count_old)
			continue;
		TH_LOG("gap at seq %ld: op=%s site=%s", h->ev[i].seq,
		       h->ev[i].op, h->ev[i].site);
		return false;
	}
	return true;
}

static int index_cause(const struct mmrefs_history *h, const char *op,
		       const char *cause)
{
	int i;

	for (i = 0; i < h->nr; i++)
		if (!strcmp(h->ev[i].op, op) && !strcmp(h->ev[i].cause, cause))
			return i;
	return -1;
}

/*
 * vfork, exec and an exit while a grab borrower holds the struct:
 *   the child vforks: the vfork child's mmget (users 3), its exec's put
 *     of the borrowed mm (users 2), under cause exec;
 *   the borrower grabs (count 2), the process exits: users 2 -> 0,
 *     teardown, __mmput's mmdrop (count 1): the struct lives on;
 *   the borrower lets go (its mmdrop, count 0), then the free.
 */
static int vfork_exec(int release)
{
	char c;
	pid_t pid;

	prctl(PR_SET_NAME, CHILD_COMM);
	/* wait to be told, then vfork and exec */
	if (read(release, &c, 1) != 1)
		return 1;
	pid = vfork();
	if (!pid) {
		execl("/bin/true", "true", (char *)NULL);
		execl("/bin/busybox", "true", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, NULL, 0) != pid)
		return 1;
	while (read(release, &c, 1) < 0 && errno == EINTR)
		;
	return 0;
}

TEST_F(exact, vfork_exec_and_exit_while_borrowed)
{
	static struct mmrefs_history h;
	int fds[2], status, drop, i;
	pid_t pid;
	long id;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, pipe2(fds, O_CLOEXEC));
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (!self->child) {
		close(fds[1]);
		_exit(vfork_exec(fds[0]));
	}
	close(fds[0]);
	self->release_fd = fds[1];
	ASSERT_TRUE(loop_until(mmrefs_id_of(self->child) > 0));
	id = mmrefs_id_of(self->child);
	ASSERT_EQ(1, write(self->release_fd, "v", 1));
	/* the vfork child has exec'd: the parent runs on, blocked */
	ASSERT_TRUE(loop_until(!mmrefs_history(id, &h) &&
			       index_cause(&h, "mmput", "exec") >= 0));
	ASSERT_EQ(0, borrow_cmd("grab %d 30000", self->child));
	close(self->release_fd);
	self->release_fd = -1;
	pid = self->child;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	self->child = -1;
	EXPECT_EQ(0, status);
	ASSERT_TRUE(loop_until(!mmrefs_history(id, &h) &&
			       strstr(h.header, "state=torndown")))
		TH_LOG("%s", h.header);
	/* users 0, the struct held by the borrower alone */
	EXPECT_EQ(0, h.ev[h.nr - 1].users_new);
	EXPECT_EQ(1, h.ev[h.nr - 1].count_new);
	ASSERT_EQ(0, borrow_cmd("release %d", pid));
	mmrefs_flush_lazy();
	ASSERT_TRUE(loop_until(!mmrefs_history(id, &h) &&
			       strstr(h.header, "state=freed")))
		TH_LOG("%s", h.header);
	for (i = 0; i < h.nr; i++)
		TH_LOG("%s %s users=%ld->%ld count=%ld->%ld site=%s",
		       h.ev[i].op, h.ev[i].cause, h.ev[i].users_old,
		       h.ev[i].users_new, h.ev[i].count_old,
		       h.ev[i].count_new, h.ev[i].site);
	EXPECT_NE(NULL, strstr(h.header, " dropped=0")) TH_LOG("%s", h.header);
	EXPECT_STREQ("new", h.ev[0].op);
	EXPECT_TRUE(gapless(_metadata, &h));
	/* the vfork child's get and its exec's put */
	EXPECT_LE(0, index_cause(&h, "mmget", "clone_vm"));
	EXPECT_LE(0, index_cause(&h, "mmput", "exec"));
	/* torn down before the borrower's drop, which is the last */
	drop = index_of(&h, "mmdrop", "borrow_");
	EXPECT_LT(index_of(&h, "teardown", ""), drop);
	EXPECT_EQ(h.nr - 2, drop);
	EXPECT_STREQ("free", h.ev[h.nr - 1].op);
	EXPECT_EQ(0, h.ev[h.nr - 1].count_new);
}

/*
 * A module's sites attach when it loads and go when it does; what it did
 * keeps its names after it is gone.
 */
TEST_F(exact, foreign_module_keeps_its_names)
{
	static struct mmrefs_history h;
	const char *ko = getenv("MMREFS_BORROW_KO"), *text;
	int grab, drop;
	long id;

	if (_metadata->skip)
		return;
	if (!ko)
		SKIP(return, "MMREFS_BORROW_KO not set");
	text = mmrefs_read_file(SITES);
	ASSERT_NE(NULL, text);
	if (!strstr(text, "module=mmrefs_borrow "))
		SKIP(return, "no site list of mmrefs_borrow.ko");
	id = child_ready(_metadata, &self->child, &self->release_fd);
	ASSERT_EQ(0, borrow_cmd("grab %d 30000", self->child));
	ASSERT_EQ(0, borrow_cmd("release %d", self->child));
	ASSERT_EQ(0, mmrefs_unload_module("mmrefs_borrow"));
	text = mmrefs_read_file(SITES);
	EXPECT_EQ(NULL, strstr(text, BORROW_GRAB_ARMED));
	ASSERT_EQ(0, mmrefs_history(id, &h));
	grab = index_of(&h, "mmgrab", "borrow_thread+");
	drop = index_of(&h, "mmdrop", "borrow_thread+");
	EXPECT_LE(0, grab);
	EXPECT_LE(0, drop);
	if (grab >= 0)
		EXPECT_NE(NULL, strstr(h.ev[grab].site, "[mmrefs_borrow]"));
	/* back for the tests after this one; its sites attach again */
	ASSERT_EQ(0, mmrefs_load_module(ko, ""));
	text = mmrefs_read_file(SITES);
	EXPECT_NE(NULL, strstr(text, BORROW_GRAB_ARMED))
		TH_LOG("%s", text);
}

/*
 * A watched write at an instruction the list lacks is learned: a list
 * without m_start's site, a watched child, a read of its maps.  The
 * learned site belongs to that list: clear takes it and its count.
 */
TEST_F(exact, watch_learns_a_missing_site)
{
	const char *list = getenv("MMREFS_SITES");
	char path[64], buf[512], cmd[32];
	const char *text, *line;
	FILE *in;
	int fd, out, len;

	if (_metadata->skip)
		return;
	in = fopen(list, "re");
	ASSERT_NE(NULL, in);
	out = open(SITES, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, out);
	while (fgets(buf, sizeof(buf), in))
		if (!strstr(buf, " m_start+"))
			ASSERT_EQ((ssize_t)strlen(buf), write(out, buf, strlen(buf)));
	fclose(in);
	ASSERT_EQ(0, close(out));
	text = mmrefs_read_file(SITES);
	ASSERT_EQ(NULL, strstr(text, "site=m_start+"));
	ASSERT_NE(NULL, strstr(text, " exact=on "));

	child_ready(_metadata, &self->child, &self->release_fd);
	snprintf(cmd, sizeof(cmd), "pid=%d", self->child);
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_WATCH, cmd));
	snprintf(path, sizeof(path), "/proc/%d/maps", self->child);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, buf, sizeof(buf)));
	close(fd);
	mmrefs_write_file(MMREFS_WATCH, "clear");
	/* added and armed by a work item */
	ASSERT_TRUE(loop_until((text = mmrefs_read_file(SITES)) &&
			       (line = strstr(text, "\nsite=m_start+")) &&
			       strstr(line, " state=armed learned=1 ")))
		TH_LOG("%s", text);
	EXPECT_NE(NULL, strstr(text, " learned=1 exact=on "))
		TH_LOG("%.*s", (int)strcspn(text, "\n"), text);
	/* on a failure, every site learned */
	for (line = strstr(text, " learned=1 exact=on ") ? NULL : text;
	     line && *line; line = strchr(line, '\n') ? : NULL) {
		line += *line == '\n';
		len = strcspn(line, "\n");
		if (memmem(line, len, " learned=1 ", 11))
			TH_LOG("learned: %.*s", len, line);
	}

	/* the learned site goes with the list, and so does its count */
	ASSERT_EQ(0, mmrefs_write_file(SITES, "clear\n"));
	text = mmrefs_read_file(SITES);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(text, strstr(text, "sites=0 "));
	EXPECT_NE(NULL, strstr(text, " learned=0 exact=off "))
		TH_LOG("%.*s", (int)strcspn(text, "\n"), text);
}

/* What two runs of the same steps must agree on. */
struct write_ev {
	char trap[8], site[96], comm[32];
	long delta;
};

/* The steps: a /proc reader, /proc/PID/status's get, a get borrower. */
static void steps(struct __test_metadata *_metadata, pid_t pid)
{
	char path[64], buf[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, buf, sizeof(buf)));
	close(fd);
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	ASSERT_LT(0, mmrefs_read_into(path, buf, sizeof(buf)));
	ASSERT_EQ(0, borrow_cmd("get %d 30000", pid));
	ASSERT_EQ(0, borrow_cmd("release %d", pid));
}

/*
 * Run the steps on a new child, watched or not, and keep the writes they
 * made to its mm (lazy-TLB moves aside); their number.
 */
static int run_steps(struct __test_metadata *_metadata, bool watch,
		     struct write_ev *out, int max)
{
	static struct mmrefs_history h;
	char cmd[32];
	int fd, i, from, n = 0;
	pid_t pid;
	long id;

	pid = child_start(&fd);
	if (pid < 0)
		return -1;
	if (!loop_until(has_threads(pid, 2)))
		goto out;
	id = mmrefs_id_of(pid);
	snprintf(cmd, sizeof(cmd), "pid=%d", pid);
	if (watch && mmrefs_write_file(MMREFS_WATCH, cmd))
		goto out;
	if (id < 0 || mmrefs_history(id, &h))
		goto out;
	from = h.nr;
	steps(_metadata, pid);
	if (mmrefs_history(id, &h) || h.truncated)
		n = -1;
	for (i = from; n >= 0 && i < h.nr && n < max; i++) {
		const struct mmrefs_event *ev = &h.ev[i];

		if (!strcmp(ev->trap, "") || !strcmp(ev->trap, "-") ||
		    !strcmp(ev->op, "lazy_tlb"))
			continue;
		snprintf(out[n].trap, sizeof(out[n].trap), "%s", ev->trap);
		snprintf(out[n].site, sizeof(out[n].site), "%s", ev->site);
		snprintf(out[n].comm, sizeof(out[n].comm), "%s", ev->comm);
		out[n].delta = !strcmp(ev->trap, "users") ?
			       ev->users_new - ev->users_old :
			       ev->count_new - ev->count_old;
		n++;
	}
	if (watch)
		mmrefs_write_file(MMREFS_WATCH, "clear");
out:
	mmrefs_waiter_exit(&pid, &fd);
	return n;
}

/* For a watched mm, the site probes' events equal the watchpoint's. */
TEST_F(exact, two_mechanisms_agree)
{
	static struct write_ev probed[64], trapped[64];
	int np, nt, i;

	if (_metadata->skip)
		return;
	np = run_steps(_metadata, false, probed, ARRAY_SIZE(probed));
	nt = run_steps(_metadata, true, trapped, ARRAY_SIZE(trapped));
	/* maps: get, grab, put, mmget_not_zero, put, drop; status; borrower */
	ASSERT_LE(10, np);
	EXPECT_EQ(np, nt);
	for (i = 0; i < np && i < nt; i++) {
		TH_LOG("%s %+ld %s %s | %s %+ld %s %s", probed[i].trap,
		       probed[i].delta, probed[i].site, probed[i].comm,
		       trapped[i].trap, trapped[i].delta, trapped[i].site,
		       trapped[i].comm);
		EXPECT_STREQ(probed[i].trap, trapped[i].trap);
		EXPECT_EQ(probed[i].delta, trapped[i].delta);
		EXPECT_STREQ(probed[i].site, trapped[i].site);
		EXPECT_STREQ(probed[i].comm, trapped[i].comm);
	}
}

/*
 * At a quiet moment every exact mm's sums equal its counters read under
 * task_lock, lazy-TLB references aside.  A write in flight while mms is
 * read can make one row differ for that read; a real difference stays.
 */
static int mismatches(struct __test_metadata *_metadata, bool log)
{
	const char *text, *line;
	long su, sc, ru, rc, lazy;
	int bad = 0, rows = 0;

	mmrefs_flush_lazy();
	text = mmrefs_read_file(MMREFS_MMS);
	if (!text)
		return -1;
	for (line = text; line && *line; line = strchr(line, '\n'),
	     line = line ? line + 1 : NULL) {
		su = mmrefs_field(line, "sum_users");
		ru = mmrefs_field(line, "read_users");
		if (su == MMREFS_FIELD_MISSING || ru == MMREFS_FIELD_MISSING)
			continue;
		sc = mmrefs_field(line, "sum_count");
		rc = mmrefs_field(line, "read_count");
		lazy = mmrefs_field(line, "lazy");
		rows++;
		if (su != ru || sc != rc - lazy) {
			bad++;
			if (log)
				TH_LOG("%.*s", (int)strcspn(line, "\n"), line);
		}
	}
	if (log)
		TH_LOG("%d exact mms, %d differ", rows, bad);
	return rows ? bad : -1;
}

TEST_F(exact, system_wide_sums_equal_counters)
{
	pid_t pid;
	int i, status;
	bool ok;

	if (_metadata->skip)
		return;
	/* some churn: forks, execs, threads, /proc readers */
	for (i = 0; i < 20; i++) {
		pid = fork();
		if (!pid) {
			dup2(open("/dev/null", O_WRONLY), STDOUT_FILENO);
			execlp("cat", "cat", "/proc/self/maps", "/proc/1/stat",
			       (char *)NULL);
			_exit(127);
		}
		ASSERT_LT(0, pid);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
	}
	/* a second read could catch a write in flight: log only on failure */
	ok = loop_until(mismatches(_metadata, false) == 0);
	if (!ok)
		mismatches(_metadata, true);
	EXPECT_TRUE(ok);
}

TEST_HARNESS_MAIN
