// SPDX-License-Identifier: GPL-2.0
/*
 * The mmrefs command (tools/mmrefs, Documentation/mmrefs.rst) run against
 * the textbook scenarios of the other tests, with their exact values:
 * a process with threads (mmrefs_holders.c threads_add_up), a grab
 * borrower across exit (mmrefs_holders.c grab_leak_reported), a get
 * borrower (get_is_a_temporary_holder) and a watched process that exits
 * (mmrefs_watch.c).  What the command prints must be what the files say,
 * its exit statuses the documented ones, and a watch must leave nothing
 * armed behind, however it ends.
 *
 * The command is $MMREFS_CMD, else /mmrefs/tools/mmrefs (the guest's).
 * Test programs run with THP off (mmrefs_util.c): khugepaged holds no
 * reference to the victims' mms.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mmrefs_util.h"

#define CMD_DEFAULT	"/mmrefs/tools/mmrefs"
#define PARAM(name)	"/sys/module/mmrefs/parameters/" name
#define INSTANCES	"/sys/kernel/tracing/instances"
#define VICTIM_COMM	"mmr_cmd"
#define NR_THREADS	3
#define LEAK_MS		300
#define OUT_MAX		65536

/* the documented exit statuses */
#define EX_LEAKS	1
#define EX_USAGE	2
#define EX_NOT_ROOT	3
#define EX_NO_DEBUGFS	4
#define EX_NOT_LOADED	5
#define EX_NO_PROCESS	6
#define EX_NO_MM	7

static const char *cmd_path(void)
{
	return getenv("MMREFS_CMD") ?: CMD_DEFAULT;
}

/* What one run of the command printed, and its exit status. */
struct run {
	int status;		/* exit status, or 128 + signal */
	char out[OUT_MAX], err[4096];
};

static void slurp(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

static int status_of(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	return WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : -1;
}

/* How the child is set up before it executes the command. */
enum who { AS_ROOT, AS_NOBODY, AS_NO_DEBUGFS };

/*
 * Start the command with argv (NULL-terminated, the command's name
 * first); stdout and stderr go to memfds.  Its pid, or -1.
 */
static pid_t start_argv(enum who as, char *const argv[], int *out, int *err)
{
	pid_t pid;

	*out = memfd_create("mmrefs-out", MFD_CLOEXEC);
	*err = memfd_create("mmrefs-err", MFD_CLOEXEC);
	if (*out < 0 || *err < 0)
		return -1;
	pid = fork();
	if (pid)
		return pid;
	dup2(*out, 1);
	dup2(*err, 2);
	if (as == AS_NOBODY && (setgid(65534) || setuid(65534)))
		_exit(120);
	/* debugfs gone from this child's view only */
	if (as == AS_NO_DEBUGFS &&
	    (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	     umount2("/sys/kernel/debug", MNT_DETACH)))
		_exit(121);
	execv(cmd_path(), argv);
	_exit(122);
}

static void finish(struct run *r, pid_t pid, int out, int err)
{
	int wstatus;

	r->status = waitpid(pid, &wstatus, 0) == pid ? status_of(wstatus) : -1;
	slurp(out, r->out, sizeof(r->out));
	slurp(err, r->err, sizeof(r->err));
}

/* The command with the arguments of ap, up to NULL. */
static pid_t start_v(enum who as, int *out, int *err, va_list ap)
{
	char *argv[16] = { "mmrefs" };
	int argc = 1;

	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	argv[argc] = NULL;
	return start_argv(as, argv, out, err);
}

/* Start the command with the arguments up to NULL. */
static pid_t start(enum who as, int *out, int *err, ...)
{
	va_list ap;
	pid_t pid;

	va_start(ap, err);
	pid = start_v(as, out, err, ap);
	va_end(ap);
	return pid;
}

/* Run the command with the arguments up to NULL; true if it exited 0. */
static bool run(struct run *r, enum who as, ...)
{
	int out, err;
	va_list ap;
	pid_t pid;

	va_start(ap, as);
	pid = start_v(as, &out, &err, ap);
	va_end(ap);
	if (pid > 0)
		finish(r, pid, out, err);
	else
		r->status = -1;
	return !r->status;
}

/* The top -b row of tgid: columns as Documentation/mmrefs.rst lists them. */
struct top_row {
	long id, tgid, users, count, lazy;
	char comm[32], state[16], holders[256], age[32];
};

static bool top_row(const char *out, pid_t tgid, struct top_row *t)
{
	const char *p;

	for (p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (sscanf(p, "%ld %ld %31s %15s %ld %ld %ld %255s %31s", &t->id,
			   &t->tgid, t->comm, t->state, &t->users, &t->count,
			   &t->lazy, t->holders, t->age) == 9 && t->tgid == tgid)
			return true;
	}
	return false;
}

/* show's lines, by their first word */
static bool show_line(const char *out, const char *first, char *line, size_t len)
{
	const char *p;
	size_t n = strlen(first);

	for (p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, first, n) && p[n] == ' ') {
			snprintf(line, len, "%.*s", (int)strcspn(p, "\n"), p);
			return true;
		}
	}
	return false;
}

/* A child with @threads extra threads, blocked until its pipe closes. */
static pid_t victim_start(int threads, int *release_fd)
{
	return mmrefs_spawn_ready(VICTIM_COMM, mmrefs_start_threads, threads,
				  release_fd);
}

static int set_param(const char *path, long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", val);
	return mmrefs_write_file(path, buf);
}

FIXTURE(cmd) {
	pid_t victim;
	int fd;
	long id;
	struct run r;
};

FIXTURE_SETUP(cmd)
{
	const char *why = mmrefs_missing() ?: borrow_missing();

	self->fd = -1;
	self->victim = 0;
	if (why)
		SKIP(return, "%s", why);
	if (access(cmd_path(), X_OK))
		SKIP(return, "no mmrefs command %s (set MMREFS_CMD)", cmd_path());
	mmrefs_reset_filter();
	mmrefs_write_file(MMREFS_DIR "/holders", "all");
	mmrefs_write_file(MMREFS_WATCH, "clear");
	ASSERT_EQ(0, set_param(PARAM("leak_torndown_ms"), LEAK_MS));
	self->victim = victim_start(NR_THREADS, &self->fd);
	ASSERT_GT(self->victim, 0);
	self->id = mmrefs_id_of(self->victim);
	ASSERT_GT(self->id, 0);
}

FIXTURE_TEARDOWN(cmd)
{
	if (_metadata->skip)
		return;
	borrow_cmd("release all");
	mmrefs_write_file(MMREFS_WATCH, "clear");
	mmrefs_write_file(MMREFS_DIR "/holders", "all");
	mmrefs_waiter_reap(&self->victim, &self->fd);
	set_param(PARAM("leak_torndown_ms"), 10000);
}

/* top's row of the victim: users, count - lazy and the thread part agree */
static bool top_threads_settled(struct run *r, pid_t pid, struct top_row *t,
				long users)
{
	char tgid[16], want[32];

	snprintf(tgid, sizeof(tgid), "%d", pid);
	snprintf(want, sizeof(want), "thread=%ld", users);
	mmrefs_flush_lazy();
	run(r, AS_ROOT, "top", "-b", "-n", "1", "--tgid", tgid, NULL);
	return !r->status && top_row(r->out, pid, t) && t->users == users &&
	       t->count == 1 + t->lazy &&
	       !strncmp(t->holders, want, strlen(want)) &&
	       strchr(",", t->holders[strlen(want)]) &&
	       !strstr(t->holders, "unattributed");
}

TEST_F(cmd, threads_in_top_and_show)
{
	char line[MMREFS_LINE_MAX], pid[16], want[64];
	struct run *r = &self->r;
	struct top_row t;
	bool ok;

	if (_metadata->skip)
		return;
	snprintf(pid, sizeof(pid), "%d", self->victim);
	/*
	 * N+1 threads are the users; all of them are one count, + lazy; the
	 * holders summary names the N+1 threads and nothing unexplained
	 */
	ok = loop_until(top_threads_settled(r, self->victim, &t, NR_THREADS + 1));
	EXPECT_TRUE(ok) TH_LOG("status %d\n%s%s", r->status, r->out, r->err);
	EXPECT_EQ(0, r->status);
	EXPECT_EQ(self->id, t.id);
	EXPECT_STREQ(VICTIM_COMM, t.comm);
	EXPECT_STREQ("live", t.state);
	EXPECT_EQ(NR_THREADS + 1, t.users);
	EXPECT_EQ(1 + t.lazy, t.count);
	/* --tgid shows that one row only */
	EXPECT_TRUE(strstr(r->out, "mmrefs top: ") && strstr(r->out, " 1 shown,"))
		TH_LOG("%s", r->out);

	/* show: the same values, and the holders block they add up from */
	ok = loop_until((mmrefs_flush_lazy(), run(r, AS_ROOT, "show", pid, NULL),
			 !r->status && show_line(r->out, "mm", line, sizeof(line)) &&
			 mmrefs_field(line, "count") == 1 + mmrefs_field(line, "lazy")));
	EXPECT_TRUE(ok) TH_LOG("status %d\n%s%s", r->status, r->out, r->err);
	EXPECT_EQ(self->id, mmrefs_field(line, "id"));
	EXPECT_EQ(self->victim, mmrefs_field(line, "tgid"));
	EXPECT_EQ(NR_THREADS + 1, mmrefs_field(line, "users"));
	snprintf(want, sizeof(want), "\n  kind=thread counter=users refs=%d\n",
		 NR_THREADS + 1);
	EXPECT_NE(NULL, strstr(r->out, want)) TH_LOG("%s", r->out);
	snprintf(want, sizeof(want), "\nsummary thread=%d", NR_THREADS + 1);
	EXPECT_NE(NULL, strstr(r->out, want)) TH_LOG("%s", r->out);
	/* its history: the fork that made it, at 0->1 */
	EXPECT_NE(NULL, strstr(r->out, " op=new cause=fork users=0->1 count=0->1 "))
		TH_LOG("%s", r->out);
	/* show put the holders selection back: every mm is listed */
	snprintf(want, sizeof(want), "mm id=%ld ", mmrefs_id_of(getpid()));
	EXPECT_NE(NULL, strstr(mmrefs_read_file(MMREFS_DIR "/holders"), want))
		TH_LOG("holders selection not restored");
}

TEST_F(cmd, grab_leak_across_exit)
{
	char line[MMREFS_LINE_MAX], mm[32], want[128];
	struct run *r = &self->r;
	pid_t victim = self->victim;
	bool ok;

	if (_metadata->skip)
		return;
	snprintf(mm, sizeof(mm), "mm=%ld", self->id);
	ASSERT_EQ(0, borrow_cmd("grab %d 30000", self->victim));
	ASSERT_EQ(0, mmrefs_waiter_exit(&self->victim, &self->fd));
	mmrefs_sleep_ms(LEAK_MS + 100);
	/* exited but still borrowed: users 0, struct alive, a leak suspect */
	ok = loop_until((run(r, AS_ROOT, "leaks", NULL), r->status == EX_LEAKS));
	EXPECT_TRUE(ok) TH_LOG("status %d\n%s%s", r->status, r->out, r->err);
	snprintf(want, sizeof(want), "  mm id=%ld tgid=", self->id);
	EXPECT_NE(NULL, strstr(r->out, want)) TH_LOG("%s", r->out);
	EXPECT_NE(NULL, strstr(r->out, " state=torndown users=0 "));
	EXPECT_NE(NULL, strstr(r->out, " reasons=torndown "));
	/*
	 * the borrower under its holder line: its inlined mmgrab() is seen
	 * only in exact mode; else it is the kthread that used the mm
	 */
	snprintf(want, sizeof(want), "\nholder kind=%s comm=mmrefs_borrow kthread=1 site=",
		 mmrefs_exact_on() ? "mmgrab" : "borrowed");
	EXPECT_NE(NULL, strstr(r->out, want)) TH_LOG("%s", r->out);

	/* show by id: torn down, users 0, the borrower among its holders */
	run(r, AS_ROOT, "show", mm, NULL);
	EXPECT_EQ(0, r->status) TH_LOG("%s", r->err);
	ASSERT_TRUE(show_line(r->out, "mm", line, sizeof(line))) TH_LOG("%s", r->out);
	EXPECT_EQ(self->id, mmrefs_field(line, "id"));
	EXPECT_NE(NULL, strstr(line, " state=torndown users=0 ")) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(r->out, " comm=mmrefs_borrow kthread=1 ")) TH_LOG("%s", r->out);
	/* its last events: the exit's put to 0 and the teardown */
	EXPECT_NE(NULL, strstr(r->out, " cause=exit users=1->0 ")) TH_LOG("%s", r->out);
	EXPECT_NE(NULL, strstr(r->out, " op=teardown cause=teardown ")) TH_LOG("%s", r->out);

	/* released: freed, no suspect left, leaks exits 0 */
	ASSERT_EQ(0, borrow_cmd("release %d", victim));
	ok = loop_until((mmrefs_flush_lazy(), run(r, AS_ROOT, "leaks", NULL), !r->status));
	EXPECT_TRUE(ok) TH_LOG("status %d\n%s%s", r->status, r->out, r->err);
	EXPECT_STREQ("no leak suspects\n", r->out);
}

TEST_F(cmd, get_borrower_is_mmget)
{
	char line[MMREFS_LINE_MAX], pid[16];
	struct run *r = &self->r;
	struct top_row t;
	bool ok;

	if (_metadata->skip)
		return;
	snprintf(pid, sizeof(pid), "%d", self->victim);
	ASSERT_EQ(0, borrow_cmd("get %d 30000", self->victim));
	/* users: the threads and the borrower's get_task_mm() */
	ok = loop_until((run(r, AS_ROOT, "show", pid, NULL), !r->status &&
			 show_line(r->out, "mm", line, sizeof(line)) &&
			 mmrefs_field(line, "users") == NR_THREADS + 2));
	EXPECT_TRUE(ok) TH_LOG("status %d\n%s%s", r->status, r->out, r->err);
	EXPECT_NE(NULL, strstr(r->out, "\n  kind=mmget counter=users refs=1 "))
		TH_LOG("%s", r->out);
	EXPECT_NE(NULL, strstr(r->out, " comm=mmrefs_borrow kthread=1 "));
	EXPECT_NE(NULL, strstr(r->out, " site=borrow_thread+"));
	/* and in top's summary */
	run(r, AS_ROOT, "top", "-b", "-n", "1", "--tgid", pid, NULL);
	EXPECT_EQ(0, r->status);
	ASSERT_TRUE(top_row(r->out, self->victim, &t)) TH_LOG("%s", r->out);
	EXPECT_EQ(NR_THREADS + 2, t.users);
	EXPECT_NE(NULL, strstr(t.holders, ",mmget=1")) TH_LOG("%s", t.holders);
	ASSERT_EQ(0, borrow_cmd("release %d", self->victim));
}

/* The watch file's slots are all free and stack=0: nothing left armed. */
static bool watch_idle(char *text, size_t len)
{
	return mmrefs_read_into(MMREFS_WATCH, text, len) > 0 &&
	       mmrefs_field(text, "free") == mmrefs_field(text, "slots") &&
	       mmrefs_field(text, "stack") == 0 && !strstr(text, "state=armed");
}

static bool armed_for(pid_t pid)
{
	char text[1024], want[32];

	snprintf(want, sizeof(want), " state=armed pid=%d ", pid);
	return mmrefs_read_into(MMREFS_WATCH, text, sizeof(text)) > 0 &&
	       strstr(text, want);
}

/* waitpid() for up to the usual wait, flushing lazy-TLB references */
static int wait_exit(pid_t pid)
{
	int wstatus = 0;
	pid_t got = 0;

	loop_until((mmrefs_flush_lazy(),
		    (got = waitpid(pid, &wstatus, WNOHANG)) != 0));
	if (got == pid)
		return status_of(wstatus);
	kill(pid, SIGKILL);
	waitpid(pid, &wstatus, 0);
	return -1;
}

/* watch, then a signal: exit 128 + signal, nothing armed, no instance */
static void watch_signalled(struct __test_metadata *_metadata, pid_t victim,
			    int sig, bool stacks)
{
	char pid[16], inst[128], text[1024];
	struct run r;
	int out, err;
	pid_t w;

	snprintf(pid, sizeof(pid), "%d", victim);
	snprintf(inst, sizeof(inst), INSTANCES "/mmrefs-%d", victim);
	w = start(AS_ROOT, &out, &err, "watch", pid, stacks ? "--stacks" : NULL, NULL);
	ASSERT_GT(w, 0);
	ASSERT_TRUE(loop_until(armed_for(victim)));
	/* its own instance while it runs; stack=1 with --stacks */
	EXPECT_EQ(0, access(inst, F_OK));
	EXPECT_EQ(stacks, mmrefs_field(mmrefs_read_file(MMREFS_WATCH), "stack"));
	kill(w, sig);
	r.status = wait_exit(w);
	slurp(out, r.out, sizeof(r.out));
	slurp(err, r.err, sizeof(r.err));
	EXPECT_EQ(128 + sig, r.status) TH_LOG("%s%s", r.out, r.err);
	EXPECT_TRUE(watch_idle(text, sizeof(text))) TH_LOG("%s", text);
	EXPECT_EQ(-1, access(inst, F_OK));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_STREQ("", r.err);
}

TEST_F(cmd, watch_disarms_on_sigint)
{
	if (_metadata->skip)
		return;
	watch_signalled(_metadata, self->victim, SIGINT, false);
}

TEST_F(cmd, watch_disarms_on_sigterm_with_stacks)
{
	if (_metadata->skip)
		return;
	watch_signalled(_metadata, self->victim, SIGTERM, true);
}

/* One -o line, parsed: the keys of history's event lines. */
struct ev {
	long id, seq, pid, users_old, users_new, count_old, count_new, observer;
	char op[16], cause[16], trap[8];
};

static void pair(const char *line, const char *key, long *a, long *b)
{
	char v[32];

	*a = *b = MMREFS_FIELD_MISSING;
	if (!mmrefs_field_str(line, key, v, sizeof(v)))
		sscanf(v, "%ld->%ld", a, b);
}

static int read_events(const char *path, struct ev *ev, int max)
{
	char line[MMREFS_LINE_MAX];
	FILE *f = fopen(path, "re");
	int n = 0;

	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "  id=", 5))
			continue;	/* a stack frame, none without --stacks */
		memset(&ev[n], 0, sizeof(ev[n]));
		ev[n].id = mmrefs_field(line, "id");
		ev[n].seq = mmrefs_field(line, "seq");
		ev[n].pid = mmrefs_field(line, "pid");
		ev[n].observer = mmrefs_field(line, "observer");
		pair(line, "users", &ev[n].users_old, &ev[n].users_new);
		pair(line, "count", &ev[n].count_old, &ev[n].count_new);
		mmrefs_field_str(line, "op", ev[n].op, sizeof(ev[n].op));
		mmrefs_field_str(line, "cause", ev[n].cause, sizeof(ev[n].cause));
		mmrefs_field_str(line, "trap", ev[n].trap, sizeof(ev[n].trap));
		n++;
	}
	fclose(f);
	return n;
}

static int find_ev(const struct ev *ev, int n, int from, const char *op)
{
	for (; from < n; from++)
		if (!strcmp(ev[from].op, op))
			return from;
	return -1;
}

/*
 * A thread-less child, watched; it exits: watch streams its exit's put
 * to 0, the teardown, the unwatch and the free (1->0, the observer's
 * reference the last), then ends by itself with 0, nothing left armed.
 * The -o file's events are history's, one for one.
 */
TEST_F(cmd, watch_streams_exit_to_free)
{
	static struct ev ev[MMREFS_EVENTS_MAX];
	static struct mmrefs_history h;
	char pid[16], path[64], inst[128], text[1024];
	int rel = -1, out, err, n, i, j, w0, put, td;
	pid_t child, w;
	struct run r;
	long id;

	if (_metadata->skip)
		return;
	child = mmrefs_spawn_waiter("mmr_cmdwatch", &rel);
	ASSERT_GT(child, 0);
	id = mmrefs_id_of(child);
	ASSERT_GT(id, 0);
	snprintf(pid, sizeof(pid), "%d", child);
	snprintf(path, sizeof(path), "/tmp/mmrefs_cmd.%d.events", getpid());
	snprintf(inst, sizeof(inst), INSTANCES "/mmrefs-%d", child);
	w = start(AS_ROOT, &out, &err, "watch", pid, "-o", path, NULL);
	ASSERT_GT(w, 0);
	ASSERT_TRUE(loop_until(armed_for(child)));
	ASSERT_EQ(0, mmrefs_waiter_exit(&child, &rel));
	r.status = wait_exit(w);
	slurp(out, r.out, sizeof(r.out));
	slurp(err, r.err, sizeof(r.err));
	EXPECT_EQ(0, r.status) TH_LOG("%s%s", r.out, r.err);
	EXPECT_STREQ("", r.err);
	EXPECT_TRUE(watch_idle(text, sizeof(text))) TH_LOG("%s", text);
	EXPECT_EQ(-1, access(inst, F_OK));

	n = read_events(path, ev, MMREFS_EVENTS_MAX);
	/*
	 * timeline draws what -o wrote, no root needed: the whole life, so
	 * users reaching 0 (the teardown), count reaching 0 (the free) and
	 * the last holder (the observer) are marked
	 */
	EXPECT_TRUE(run(&r, AS_NOBODY, "timeline", path, NULL))
		TH_LOG("status %d: %s", r.status, r.err);
	EXPECT_NE(NULL, strstr(r.out, "<svg"));
	EXPECT_NE(NULL, strstr(r.out, ">users 0: teardown<"));
	EXPECT_NE(NULL, strstr(r.out, ">count 0: free<"));
	EXPECT_NE(NULL, strstr(r.out, ">last holder<"));
	unlink(path);
	ASSERT_GE(n, 5) TH_LOG("%d events:\n%s", n, r.out);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(id, ev[i].id);
		/* the trace has no seq: -o numbers them from 1 */
		EXPECT_EQ(i + 1, ev[i].seq);
	}
	/* armed at users 1, the observer's reference taken */
	w0 = find_ev(ev, n, 0, "watch");
	ASSERT_EQ(0, w0) TH_LOG("%s", r.out);
	EXPECT_EQ(1, ev[w0].users_new);
	EXPECT_EQ(1, ev[w0].observer);
	/* the exit's mmput(), the one user gone: a users write, 1->0 */
	put = find_ev(ev, n, 0, "mmput");
	ASSERT_GT(put, 0) TH_LOG("%s", r.out);
	EXPECT_STREQ("exit", ev[put].cause);
	EXPECT_STREQ("users", ev[put].trap);
	EXPECT_EQ(1, ev[put].users_old);
	EXPECT_EQ(0, ev[put].users_new);
	/* then the address space goes */
	td = find_ev(ev, n, put, "teardown");
	EXPECT_GT(td, put) TH_LOG("%s", r.out);
	if (td > put)
		EXPECT_EQ(0, ev[td].users_new);
	/* the last two: the observer lets go and that is the free, 1->0 */
	EXPECT_STREQ("unwatch", ev[n - 2].op);
	EXPECT_STREQ("free", ev[n - 1].op);
	EXPECT_STREQ("free", ev[n - 1].cause);
	EXPECT_EQ(0, ev[n - 1].users_old);
	EXPECT_EQ(0, ev[n - 1].users_new);
	EXPECT_EQ(1, ev[n - 1].count_old);
	EXPECT_EQ(0, ev[n - 1].count_new);

	/*
	 * history has the same events (from the watch on, as many as its
	 * ring kept): each one streamed, with the same values
	 */
	ASSERT_EQ(0, mmrefs_history(id, &h));
	for (i = 0; i < h.nr && strcmp(h.ev[i].op, "watch"); i++)
		;
	if (strstr(h.header, " dropped=0"))
		EXPECT_EQ(h.nr - i, n) TH_LOG("%s", h.header);
	for (; i < h.nr; i++) {
		for (j = 0; j < n; j++)
			if (!strcmp(ev[j].op, h.ev[i].op) &&
			    !strcmp(ev[j].cause, h.ev[i].cause) &&
			    ev[j].pid == h.ev[i].pid &&
			    ev[j].users_old == h.ev[i].users_old &&
			    ev[j].users_new == h.ev[i].users_new &&
			    ev[j].count_old == h.ev[i].count_old &&
			    ev[j].count_new == h.ev[i].count_new)
				break;
		EXPECT_LT(j, n) TH_LOG("history seq=%ld op=%s not streamed",
				       h.ev[i].seq, h.ev[i].op);
	}
	mmrefs_waiter_reap(&child, &rel);
}

TEST_F(cmd, error_statuses)
{
	struct run *r = &self->r;
	char gone[16];
	int wstatus;
	pid_t pid;

	if (_metadata->skip)
		return;
	/* a kernel thread (kthreadd, pid 2) has no mm */
	run(r, AS_ROOT, "show", "2", NULL);
	EXPECT_EQ(EX_NO_MM, r->status);
	EXPECT_NE(NULL, strstr(r->err, "has no mm: it is a kernel thread"))
		TH_LOG("%s", r->err);
	run(r, AS_ROOT, "watch", "2", NULL);
	EXPECT_EQ(EX_NO_MM, r->status);
	/* a pid that exited and was reaped: no such process */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, &wstatus, 0));
	snprintf(gone, sizeof(gone), "%d", pid);
	run(r, AS_ROOT, "show", gone, NULL);
	EXPECT_EQ(EX_NO_PROCESS, r->status);
	EXPECT_NE(NULL, strstr(r->err, "no process ")) TH_LOG("%s", r->err);
	run(r, AS_ROOT, "watch", gone, NULL);
	EXPECT_EQ(EX_NO_PROCESS, r->status);
	/* an mm id that never was */
	run(r, AS_ROOT, "show", "mm=999999999", NULL);
	EXPECT_EQ(EX_NO_PROCESS, r->status);
	/* not root: told so before anything is read */
	run(r, AS_NOBODY, "top", "-b", "-n", "1", NULL);
	EXPECT_EQ(EX_NOT_ROOT, r->status);
	EXPECT_NE(NULL, strstr(r->err, "must run as root")) TH_LOG("%s", r->err);
	/* debugfs unmounted (in a mount namespace of its own) */
	run(r, AS_NO_DEBUGFS, "leaks", NULL);
	EXPECT_EQ(EX_NO_DEBUGFS, r->status) TH_LOG("%s", r->err);
	EXPECT_NE(NULL, strstr(r->err, "mount -t debugfs none /sys/kernel/debug"));
	/* bad usage, each with the usage text */
	run(r, AS_ROOT, "bogus", NULL);
	EXPECT_EQ(EX_USAGE, r->status);
	run(r, AS_ROOT, "top", "-s", "size", NULL);
	EXPECT_EQ(EX_USAGE, r->status);
	run(r, AS_ROOT, "show", "12x", NULL);
	EXPECT_EQ(EX_USAGE, r->status);
	run(r, AS_ROOT, "watch", NULL);
	EXPECT_EQ(EX_USAGE, r->status);
	EXPECT_NE(NULL, strstr(r->err, "usage: mmrefs")) TH_LOG("%s", r->err);
	/* enable=0: nothing is tracked, so no leak report can be true */
	if (!mmrefs_sites_listed()) {
		ASSERT_EQ(0, mmrefs_write_file(MMREFS_ENABLE, "0"));
		run(r, AS_ROOT, "leaks", NULL);
		EXPECT_EQ(EX_NOT_LOADED, r->status);
		EXPECT_NE(NULL, strstr(r->err, "disabled: echo 1 > "))
			TH_LOG("%s", r->err);
		ASSERT_EQ(0, mmrefs_write_file(MMREFS_ENABLE, "1"));
	}
}

TEST_HARNESS_MAIN
