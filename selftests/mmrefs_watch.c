// SPDX-License-Identifier: GPL-2.0
/*
 * Watch mode: hardware watchpoints on one process's mm_users and
 * mm_count turn every write into an event, the inlined mmget(),
 * mmget_not_zero(), mmgrab() and mmdrop() included.  Each test checks the
 * exact values, the helper and site of the writes it causes, and that the
 * watched sequence is gapless: every event's old value is the previous
 * event's new one, each trapped write moves its counter by exactly one,
 * and an mm that dies ends with unwatch and free.
 *
 * Test programs run with THP off (see mmrefs_util.c), so khugepaged holds
 * no reference to the victim's mm.
 * mmrefs' own observer reference (one mm_count, observer=1) keeps a
 * watched mm alive until mmrefs is its last holder; then the watch ends
 * and that reference is the free.  "net count" below is count - observer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mmrefs_util.h"

#define TAINT_DIE	((long)BIT(7))
#define TAINT_WARN	((long)BIT(9))
#define VICTIM_COMM	"mmr_watched"

/*
 * A child that makes a thread ('t'), lets its threads exit one by one
 * ('q': pthread_exit, joined), and exits ('x': exit_group).
 */
struct victim {
	pid_t pid;
	int cmd, ack;
};

static int quit[2];	/* in the victim: a byte per thread to end */

static void *victim_thread(void *arg)
{
	char c;

	while (read(quit[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void victim_main(int cmd, int ack)
{
	pthread_t t[8];
	int nr = 0;
	char c;

	prctl(PR_SET_NAME, VICTIM_COMM);
	if (pipe(quit))
		_exit(1);
	while (read(cmd, &c, 1) == 1) {
		if (c == 't' && (nr == 8 ||
				 pthread_create(&t[nr++], NULL, victim_thread, NULL)))
			c = '!';
		if (c == 'q' && (!nr || write(quit[1], "q", 1) != 1 ||
				 pthread_join(t[--nr], NULL)))
			c = '!';
		if (c == 'x')
			break;
		if (write(ack, &c, 1) != 1)
			break;
	}
	_exit(0);		/* exit_group: every thread dies */
}

static pid_t victim_start(struct victim *v)
{
	int cmd[2], ack[2];
	char c;

	if (pipe2(cmd, O_CLOEXEC) || pipe2(ack, O_CLOEXEC))
		return -1;
	v->pid = fork();
	if (!v->pid) {
		close(cmd[1]);
		close(ack[0]);
		victim_main(cmd[0], ack[1]);
	}
	close(cmd[0]);
	close(ack[1]);
	v->cmd = cmd[1];
	v->ack = ack[0];
	/* one round trip: it has named itself and blocks in read() */
	if (v->pid > 0 && (write(v->cmd, "n", 1) != 1 ||
			   read(v->ack, &c, 1) != 1))
		return -1;
	return v->pid;
}

/* 0 once the victim did c (acknowledged), -1 otherwise */
static int victim_do(struct victim *v, char c)
{
	char r;

	if (write(v->cmd, &c, 1) != 1 || read(v->ack, &r, 1) != 1)
		return -1;
	return r == c ? 0 : -1;
}

/* Tell the victim to exit_group() and reap it; its status or -1. */
static int victim_exit(struct victim *v)
{
	int status = -1;

	if (v->pid <= 0)
		return -1;
	if (write(v->cmd, "x", 1) != 1)
		kill(v->pid, SIGKILL);
	if (waitpid(v->pid, &status, 0) != v->pid)
		status = -1;
	close(v->cmd);
	close(v->ack);
	v->pid = 0;
	return status;
}

/*
 * Until mmrefs shows the watched users at @users: an exiting thread's
 * mmput() comes a moment after its join returns.
 */
static bool users_at(long id, long users)
{
	char line[MMREFS_LINE_MAX];

	return loop_until(!mmrefs_mms_by_id(id, line, sizeof(line)) &&
			  mmrefs_field(line, "users") == users);
}

static int watch_cmd(const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return mmrefs_write_file(MMREFS_WATCH, buf);
}

static long stat_of(const char *key)
{
	const char *text = mmrefs_read_file(MMREFS_STATS);

	return text ? mmrefs_field(text, key) : -1;
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* Index of the first event at or after from matching op (and comm). */
static int find_op(const struct mmrefs_history *h, int from, const char *op,
		   const char *comm)
{
	int i;

	for (i = from; i < h->nr; i++)
		if (!strcmp(h->ev[i].op, op) &&
		    (!comm || !strcmp(h->ev[i].comm, comm)))
			return i;
	return -1;
}

/* How many events at or after from match op (and comm). */
static int count_op(const struct mmrefs_history *h, int from, const char *op,
		    const char *comm)
{
	int n = 0;

	for (; (from = find_op(h, from, op, comm)) >= 0; from++)
		n++;
	return n;
}

/* The events, one line each, when a test needs to show what it saw. */
static void dump_history(struct __test_metadata *_metadata,
			 const struct mmrefs_history *h)
{
	int i;

	for (i = 0; i < h->nr; i++)
		TH_LOG("seq=%ld op=%s cause=%s comm=%s users=%ld->%ld count=%ld->%ld site=%s",
		       h->ev[i].seq, h->ev[i].op, h->ev[i].cause, h->ev[i].comm,
		       h->ev[i].users_old, h->ev[i].users_new,
		       h->ev[i].count_old, h->ev[i].count_new, h->ev[i].site);
}

static void dump_id(struct __test_metadata *_metadata, long id)
{
	static struct mmrefs_history h;

	if (!mmrefs_history(id, &h))
		dump_history(_metadata, &h);
}

static bool has_free(long id)
{
	static struct mmrefs_history h;

	return !mmrefs_history(id, &h) && find_op(&h, 0, "free", NULL) >= 0;
}

/*
 * From the watch event on, each counter's sequence is gapless; trapped
 * writes move exactly one counter by exactly one; with @freed, the last two
 * events are the unwatch and the free (1->0).  Returns the watch event.
 */
static int check_gapless(struct __test_metadata *_metadata,
			 const struct mmrefs_history *h, bool freed)
{
	const struct mmrefs_event *e, *p;
	int w, i;

	EXPECT_FALSE(h->truncated);
	EXPECT_NE(NULL, strstr(h->header, " dropped=0"));
	w = find_op(h, 0, "watch", NULL);
	EXPECT_GE(w, 0);
	if (w < 0)
		return -1;
	EXPECT_EQ(1, h->ev[w].observer);
	for (i = w + 1; i < h->nr; i++) {
		e = &h->ev[i];
		p = &h->ev[i - 1];
		EXPECT_EQ(p->users_new, e->users_old)
			TH_LOG("users gap at seq %ld (%s)", e->seq, e->op);
		EXPECT_EQ(p->count_new, e->count_old)
			TH_LOG("count gap at seq %ld (%s)", e->seq, e->op);
		if (!strcmp(e->trap, "users")) {
			EXPECT_EQ(1, labs(e->users_new - e->users_old));
			EXPECT_EQ(e->count_old, e->count_new);
		} else if (!strcmp(e->trap, "count")) {
			EXPECT_EQ(1, labs(e->count_new - e->count_old));
			EXPECT_EQ(e->users_old, e->users_new);
		}
		/* a probe's get/put/grab is the trapped write seen twice */
		EXPECT_TRUE(strcmp(e->op, "get") && strcmp(e->op, "put") &&
			    strcmp(e->op, "grab"))
			TH_LOG("probe event %s in a watched sequence", e->op);
	}
	if (freed) {
		ASSERT_GE(h->nr, w + 2);
		e = &h->ev[h->nr - 1];
		EXPECT_STREQ("free", e->op);
		EXPECT_EQ(1, e->count_old);
		EXPECT_EQ(0, e->count_new);
		EXPECT_STREQ("unwatch", h->ev[h->nr - 2].op);
	}
	return w;
}

/*
 * Another tool's return probe on mmput() (kprobe_events here; bpftrace's
 * kretprobe:mmput, an fprobe, the function graph tracer alike) replaces
 * the return address mmput()'s hint is checked by (see
 * puts_without_caller()).  Teardown disarms it whatever a test did.
 */
#define KRP_DIR		"/sys/kernel/debug/tracing/"
#define KRP_NAME	"mmrefs_test_mmput"

static int krp_arm(bool on)
{
	int err = 0;

	if (on) {
		err = mmrefs_write_file(KRP_DIR "kprobe_events",
					"r:" KRP_NAME " mmput\n");
		if (!err)
			err = mmrefs_write_file(KRP_DIR "events/kprobes/"
						KRP_NAME "/enable", "1");
		return err;
	}
	mmrefs_write_file(KRP_DIR "events/kprobes/" KRP_NAME "/enable", "0");
	return mmrefs_write_file(KRP_DIR "kprobe_events", "-:" KRP_NAME "\n");
}

FIXTURE(watch) {
	struct victim v;
	long id;
	long tainted, gaps, undecoded;
};

/*
 * Watched histories are long (lazy TLB): the tests need the default
 * watch_history (1024 events per watched mm), and get it from a load with
 * the defaults (history=32: the longer ring is the watched mm's own).
 */
static const char *watch_prepare(void)
{
	const char *ko = getenv("MMREFS_KO");
	const char *h;

	h = mmrefs_read_file("/sys/module/mmrefs/parameters/watch_history");
	if (h && atoi(h) >= 1024)
		return NULL;
	if (!ko)
		return "MMREFS_KO not set (mmrefs_util.c exports it)";
	if (mmrefs_unload_module("mmrefs") || mmrefs_load_module(ko, ""))
		return "cannot reload mmrefs with its defaults";
	return NULL;
}

FIXTURE_SETUP(watch)
{
	const char *why = mmrefs_missing() ?: borrow_missing() ?:
			  watch_prepare();

	self->v.pid = 0;
	if (why)
		SKIP(return, "%s", why);
	mmrefs_reset_filter();
	watch_cmd("clear");
	self->tainted = mmrefs_tainted();
	self->gaps = stat_of("watch_gaps");
	self->undecoded = stat_of("watch_undecoded");
	ASSERT_GT(victim_start(&self->v), 0);
	self->id = mmrefs_id_of(self->v.pid);
	ASSERT_GT(self->id, 0);
	ASSERT_EQ(0, watch_cmd("pid=%d", self->v.pid));
}

FIXTURE_TEARDOWN(watch)
{
	if (_metadata->skip)
		return;
	borrow_cmd("release all");
	watch_cmd("clear");
	krp_arm(false);
	victim_exit(&self->v);
	/* every write was decoded and followed on from the one before */
	EXPECT_EQ(self->gaps, stat_of("watch_gaps"));
	EXPECT_EQ(self->undecoded, stat_of("watch_undecoded"));
	EXPECT_EQ(0, (mmrefs_tainted() & ~self->tainted) &
		  (TAINT_DIE | TAINT_WARN));
}

/*
 * A settled mms line of the watched victim (mmrefs_settled_row()): its
 * counters in memory (live_*, read under the entry's lock with the
 * watched values) equal to the watched ones, i.e. no trapped write still
 * on its way to the lock.  A missed or doubled write never settles.
 */
static bool live_agrees(const char *line)
{
	return mmrefs_field(line, "users") == mmrefs_field(line, "live_users") &&
	       mmrefs_field(line, "count") == mmrefs_field(line, "live_count");
}

/* users, and the net count without the observer, of the watched victim */
#define EXPECT_WATCHED(self, want_users, want_net) do {			\
	long __id = (self)->id, __wu = (want_users), __wn = (want_net);	\
	char __l[MMREFS_LINE_MAX], __s[16];				\
	bool __ok = loop_until(mmrefs_settled_row(__id, live_agrees,	\
						  __l, sizeof(__l)));	\
	EXPECT_TRUE(__ok) TH_LOG("not settled: %s", __l);		\
	EXPECT_NE(MMREFS_FIELD_MISSING, mmrefs_field(__l, "live_count")); \
	mmrefs_field_str(__l, "src", __s, sizeof(__s));			\
	EXPECT_STREQ("watch", __s);					\
	EXPECT_EQ(1, mmrefs_field(__l, "observer"));			\
	EXPECT_EQ(__wu, mmrefs_field(__l, "users"));			\
	EXPECT_EQ(__wn, mmrefs_field(__l, "count") - 1);		\
	/* what wrote the counters since arming */			\
	if (!__ok || mmrefs_field(__l, "users") != __wu ||		\
	    mmrefs_field(__l, "count") - 1 != __wn)			\
		dump_id(_metadata, __id);				\
} while (0)

TEST_F(watch, threads_share_users)
{
	static struct mmrefs_history h;
	int w, get, put, teardown, drop;

	if (_metadata->skip)
		return;
	/* one LWP: users 1, net count 1 (all users together) */
	EXPECT_WATCHED(self, 1, 1);
	ASSERT_EQ(0, victim_do(&self->v, 't'));
	/* two LWPs: users 2, still net count 1 */
	EXPECT_WATCHED(self, 2, 1);

	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	w = check_gapless(_metadata, &h, false);
	ASSERT_GE(w, 0);
	EXPECT_EQ(1, h.ev[w].users_new);
	/*
	 * the second user's mmget(), inlined in the clone path: in
	 * copy_process(), or in copy_mm() where a kernel keeps that out of
	 * line (the debug-rt kernel); a thread's, so no holder record
	 */
	get = find_op(&h, w, "mmget", VICTIM_COMM);
	ASSERT_GE(get, 0);
	EXPECT_STREQ("users", h.ev[get].trap);
	EXPECT_EQ(1, h.ev[get].users_old);
	EXPECT_EQ(2, h.ev[get].users_new);
	EXPECT_TRUE(starts_with(h.ev[get].site, "copy_process+") ||
		    starts_with(h.ev[get].site, "copy_mm+"))
		TH_LOG("mmget site %s", h.ev[get].site);
	/* copy_mm() cannot tell a thread from a vfork child */
	EXPECT_STREQ("clone_vm", h.ev[get].cause);

	/*
	 * both LWPs exit, one after the other (two CPUs' writes in flight at
	 * once may be recorded in either order): two mmput()s, the teardown,
	 * its mmdrop(), the free
	 */
	ASSERT_EQ(0, victim_do(&self->v, 'q'));
	ASSERT_TRUE(users_at(self->id, 1));
	ASSERT_EQ(0, victim_exit(&self->v));
	EXPECT_TRUE(loop_until((mmrefs_flush_lazy(), has_free(self->id))));
	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	check_gapless(_metadata, &h, true);
	put = find_op(&h, w, "mmput", NULL);
	ASSERT_GE(put, 0);
	EXPECT_EQ(2, h.ev[put].users_old);
	put = find_op(&h, put + 1, "mmput", NULL);
	ASSERT_GE(put, 0);
	EXPECT_EQ(0, h.ev[put].users_new);
	EXPECT_STREQ("exit", h.ev[put].cause);
	teardown = find_op(&h, put, "teardown", NULL);
	EXPECT_GT(teardown, put);
	if (teardown <= put)
		dump_history(_metadata, &h);
	/*
	 * the users' shared mm_count reference, dropped by __mmput() (inlined
	 * into mmput() on some builds, e.g. the debug kernel)
	 */
	for (drop = teardown; drop < h.nr; drop++)
		if (!strcmp(h.ev[drop].op, "mmdrop") &&
		    !strcmp(h.ev[drop].cause, "teardown") &&
		    (starts_with(h.ev[drop].site, "__mmput+") ||
		     starts_with(h.ev[drop].site, "mmput+")))
			break;
	EXPECT_LT(drop, h.nr);
}

/*
 * A busy watched mm keeps its whole story: 40 threads made and ended one
 * by one are at least 80 trapped writes (each thread's mmget() and
 * mmput(), plus lazy-TLB moves), far past history=32, the ring of every
 * other mm; the watched mm's ring (watch_history=1024) drops none, and the
 * sequence from the watch event on is gapless, users back at 1.
 */
TEST_F(watch, busy_mm_keeps_its_history)
{
	static struct mmrefs_history h;
	const char *text;
	int i, w;

	if (_metadata->skip)
		return;
	text = mmrefs_read_file("/sys/module/mmrefs/parameters/history");
	ASSERT_NE(NULL, text);
	ASSERT_GT(1024, atoi(text));
	text = mmrefs_read_file(MMREFS_STATS);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(1024, mmrefs_field(text, "watch_history"));
	for (i = 0; i < 40; i++) {
		ASSERT_EQ(0, victim_do(&self->v, 't'));
		ASSERT_EQ(0, victim_do(&self->v, 'q'));
	}
	EXPECT_WATCHED(self, 1, 1);
	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	w = check_gapless(_metadata, &h, false);
	ASSERT_GE(w, 0);
	EXPECT_LE(80, h.nr - w - 1);
	EXPECT_EQ(40, count_op(&h, w, "mmget", VICTIM_COMM));
	EXPECT_EQ(1, h.ev[h.nr - 1].users_new);
}

TEST_F(watch, grab_borrow)
{
	static struct mmrefs_history h;
	int w, grab, use;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, borrow_cmd("grab %d", self->v.pid));
	/* users 1, net count 1 (users) + 1 (the borrower's grab) */
	EXPECT_WATCHED(self, 1, 2);
	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	w = check_gapless(_metadata, &h, false);
	/* the borrower's own mmgrab(), in its kthread */
	grab = find_op(&h, w, "mmgrab", "mmrefs_borrow");
	ASSERT_GE(grab, 0);
	EXPECT_EQ(1, h.ev[grab].kthread);
	EXPECT_EQ(1, h.ev[grab].count_new - h.ev[grab].count_old);
	EXPECT_NE(NULL, strstr(h.ev[grab].site, " [mmrefs_borrow]"))
		TH_LOG("grab site %s", h.ev[grab].site);
	use = find_op(&h, grab, "use", "mmrefs_borrow");
	EXPECT_GT(use, grab);

	ASSERT_EQ(0, borrow_cmd("release %d", self->v.pid));
	EXPECT_WATCHED(self, 1, 1);
	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	check_gapless(_metadata, &h, false);
	EXPECT_GE(find_op(&h, use, "mmdrop", "mmrefs_borrow"), 0);
}

TEST_F(watch, exit_while_grabbed)
{
	char line[MMREFS_LINE_MAX], s[16];
	static struct mmrefs_history h;
	pid_t pid = self->v.pid;
	int w, put, zero, last;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, victim_do(&self->v, 't'));
	ASSERT_EQ(0, borrow_cmd("grab %d", self->v.pid));
	EXPECT_WATCHED(self, 2, 2);
	/* both LWPs die, one after the other (see threads_share_users) */
	ASSERT_EQ(0, victim_do(&self->v, 'q'));
	ASSERT_TRUE(users_at(self->id, 1));
	ASSERT_EQ(0, victim_exit(&self->v));

	/* both LWPs gone: users 0, torn down, the struct held by the grab */
	EXPECT_TRUE(loop_until(!mmrefs_mms_by_id(self->id, line, sizeof(line)) &&
			       !mmrefs_field_str(line, "state", s, sizeof(s)) &&
			       !strcmp(s, "torndown")));
	EXPECT_WATCHED(self, 0, 1);
	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	w = check_gapless(_metadata, &h, false);
	EXPECT_EQ(-1, find_op(&h, 0, "free", NULL));
	/* users reached 0 at an mmput(), then the teardown */
	for (put = w; put < h.nr && h.ev[put].users_new; put++)
		;
	ASSERT_LT(put, h.nr);
	EXPECT_STREQ("mmput", h.ev[put].op);
	EXPECT_STREQ("exit", h.ev[put].cause);
	EXPECT_GT(find_op(&h, put, "teardown", NULL), put);

	/* the borrower's mmdrop() drops the last reference but ours */
	ASSERT_EQ(0, borrow_cmd("release %d", pid));
	EXPECT_TRUE(loop_until((mmrefs_flush_lazy(), has_free(self->id))));
	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	check_gapless(_metadata, &h, true);
	for (zero = w + 1; zero < h.nr; zero++)
		if (h.ev[zero].count_new - h.ev[zero].observer == 0)
			break;
	ASSERT_LT(zero, h.nr);
	EXPECT_STREQ("mmdrop", h.ev[zero].op);
	EXPECT_STREQ("mmrefs_borrow", h.ev[zero].comm);
	EXPECT_EQ(1, h.ev[zero].kthread);
	/* then the observer lets go: unwatch and free, nothing between */
	last = h.nr - 1;
	EXPECT_EQ(zero + 2, last);
	EXPECT_STREQ("free", h.ev[last].op);
}

TEST_F(watch, get_pins_users)
{
	static struct mmrefs_history h;
	pid_t pid = self->v.pid;
	int w, get, i, zero;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, borrow_cmd("get %d", self->v.pid));
	/* the borrower is a user: users 2, net count 1 */
	EXPECT_WATCHED(self, 2, 1);
	ASSERT_EQ(0, victim_exit(&self->v));
	/* the process is gone but its address space is not */
	EXPECT_WATCHED(self, 1, 1);

	ASSERT_EQ(0, borrow_cmd("release %d", pid));
	EXPECT_TRUE(loop_until((mmrefs_flush_lazy(), has_free(self->id))));
	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	w = check_gapless(_metadata, &h, true);
	get = find_op(&h, w, "mmget", "mmrefs_borrow");
	ASSERT_GE(get, 0);
	/* get_task_mm() is out of line: its caller, the borrower's thread */
	EXPECT_TRUE(starts_with(h.ev[get].site, "borrow_thread+"))
		TH_LOG("get site %s", h.ev[get].site);
	/* users stays above 0 until the borrower's mmput() ... */
	for (zero = w; zero < h.nr && h.ev[zero].users_new; zero++)
		;
	ASSERT_LT(zero, h.nr);
	EXPECT_STREQ("mmput", h.ev[zero].op);
	EXPECT_STREQ("mmrefs_borrow", h.ev[zero].comm);
	/* ... and the net count never reaches 0 while there are users */
	for (i = w; i < h.nr; i++)
		if (h.ev[i].users_new > 0)
			EXPECT_GT(h.ev[i].count_new - h.ev[i].observer, 0);
	EXPECT_GT(find_op(&h, zero, "teardown", NULL), zero);
}

/*
 * The exit's mmput() is out of line: its probe names the caller, exit_mm()
 * in do_exit(), and the cause, exit, for the write a few instructions on.
 * might_sleep() in between may move the task to another CPU, and the
 * borrower forces that move here (an RT thread on its CPU preempts it
 * there and changes its affinity).  The write is still the exit's, users
 * 1 -> 0 from do_exit(), its hint found on the other CPU (hint_moved).
 */
TEST_F(watch, exit_put_moved_to_another_cpu)
{
	static struct mmrefs_history h;
	long moved = stat_of("hint_moved");
	pid_t pid = self->v.pid;
	int w, put, from = -1, to = -1, err;
	const char *text, *p;
	char want[32];

	if (_metadata->skip)
		return;
	err = borrow_cmd("move %d", pid);
	if (err == -ENODEV)
		SKIP(return, "one CPU: nowhere to move the exiting task");
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, victim_exit(&self->v));
	EXPECT_TRUE(loop_until((mmrefs_flush_lazy(), has_free(self->id))));

	/* the move was made, to another CPU */
	snprintf(want, sizeof(want), "move pid=%d ", pid);
	text = mmrefs_read_file(BORROW_CONTROL);
	p = text ? strstr(text, want) : NULL;
	ASSERT_NE(NULL, p) TH_LOG("%s", text ?: "no borrower control file");
	err = sscanf(p + strlen(want), "from=%d to=%d", &from, &to);
	ASSERT_EQ(2, err);
	EXPECT_NE(from, to);
	EXPECT_GT(stat_of("hint_moved"), moved);

	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	w = check_gapless(_metadata, &h, true);
	put = find_op(&h, w, "mmput", NULL);
	ASSERT_GE(put, 0);
	EXPECT_EQ(1, h.ev[put].users_old);
	EXPECT_EQ(0, h.ev[put].users_new);
	EXPECT_STREQ("exit", h.ev[put].cause);
	/* exit_mm() is inlined in do_exit() but on the debug kernels */
	EXPECT_TRUE(starts_with(h.ev[put].site, "do_exit+") ||
		    starts_with(h.ev[put].site, "exit_mm+"))
		TH_LOG("exit put site %s", h.ev[put].site);
}

/*
 * With such a return probe armed: a reader and the victim's exit put the
 * watched mm, and an unwatched mm exits.  Each watched put is its write
 * in mmput() without its caller (hint_lost counts each), the reader's
 * with cause trap, the exit's still exit, as is the unwatched exit's put
 * event.  Disarms the return probe.
 */
static void puts_without_caller(struct __test_metadata *_metadata,
				struct victim *v, long id)
{
	static struct mmrefs_history h, o;
	long lost = stat_of("hint_lost"), other;
	char path[64], buf[4096], comm[16];
	int w, i, fd, put, exit_put, nohint = 0, err, other_fd = -1;
	pid_t other_pid;

	/* a reader's mmget_not_zero() and mmput() of the victim */
	prctl(PR_GET_NAME, comm);
	snprintf(path, sizeof(path), "/proc/%d/environ", v->pid);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	/* an unwatched mm's exit */
	other_pid = mmrefs_spawn_waiter("mmr_other", &other_fd);
	other = other_pid > 0 ? mmrefs_id_of(other_pid) : -1;
	err = mmrefs_waiter_exit(&other_pid, &other_fd);
	EXPECT_EQ(0, victim_exit(v));
	EXPECT_TRUE(loop_until((mmrefs_flush_lazy(), has_free(id))));
	EXPECT_TRUE(loop_until((mmrefs_flush_lazy(), has_free(other))));
	EXPECT_EQ(0, krp_arm(false));
	ASSERT_GE(fd, 0);
	ASSERT_GT(other, 0);
	ASSERT_EQ(0, err);

	ASSERT_EQ(0, mmrefs_history(id, &h));
	w = check_gapless(_metadata, &h, true);
	for (i = w; i < h.nr; i++) {
		EXPECT_EQ(NULL, strstr(h.ev[i].site, "trampoline"))
			TH_LOG("event %d site %s", i, h.ev[i].site);
		nohint += !strcmp(h.ev[i].op, "mmput") &&
			  starts_with(h.ev[i].site, "mmput+");
	}
	put = find_op(&h, w, "mmput", comm);
	ASSERT_GE(put, 0);
	EXPECT_TRUE(starts_with(h.ev[put].site, "mmput+"))
		TH_LOG("reader's put site %s", h.ev[put].site);
	EXPECT_STREQ("trap", h.ev[put].cause);
	exit_put = find_op(&h, w, "mmput", VICTIM_COMM);
	ASSERT_GE(exit_put, 0);
	EXPECT_EQ(1, h.ev[exit_put].users_old);
	EXPECT_EQ(0, h.ev[exit_put].users_new);
	EXPECT_TRUE(starts_with(h.ev[exit_put].site, "mmput+"))
		TH_LOG("exit put site %s", h.ev[exit_put].site);
	EXPECT_STREQ("exit", h.ev[exit_put].cause);
	EXPECT_EQ(count_op(&h, w, "mmput", NULL), nohint);

	ASSERT_EQ(0, mmrefs_history(other, &o));
	put = mmrefs_find_event(&o, 0, "put", NULL);
	if (put < 0) {
		TH_LOG("%s", o.header);
		dump_history(_metadata, &o);
	}
	ASSERT_GE(put, 0);
	EXPECT_STREQ("exit", o.ev[put].cause);
	EXPECT_EQ(1, o.ev[put].users_old);
	EXPECT_EQ(0, o.ev[put].users_new);
	/* in exact mode it is the write, without its caller too */
	nohint += !strcmp(o.ev[put].op, "mmput") &&
		  starts_with(o.ev[put].site, "mmput+");
	/* each put recorded without its caller, and nothing else */
	EXPECT_EQ(nohint, stat_of("hint_lost") - lost);
}

/*
 * Armed after mmrefs, the return probe runs first: the caller mmput()'s
 * probe reads is its trampoline, so it leaves no hint, and its own event
 * (the unwatched exit's) keeps the trampoline as its site.
 */
TEST_F(watch, put_behind_another_return_probe)
{
	if (_metadata->skip)
		return;
	if (krp_arm(true))
		SKIP(return, "no kprobe_events (CONFIG_KPROBE_EVENTS, tracefs)");
	puts_without_caller(_metadata, &self->v, self->id);
}

/*
 * Armed before mmrefs loads, the return probe runs second: mmput()'s
 * probe names the caller, then the return probe moves the return address
 * the write checks that hint against, and the write refuses it.
 */
TEST_F(watch, put_before_another_return_probe)
{
	const char *ko = getenv("MMREFS_KO");
	int err;

	if (_metadata->skip)
		return;
	ASSERT_NE(NULL, ko);
	ASSERT_EQ(0, watch_cmd("clear"));
	ASSERT_EQ(0, mmrefs_unload_module("mmrefs"));
	err = krp_arm(true);
	ASSERT_EQ(0, mmrefs_load_module(ko, ""));
	if (err)
		SKIP(return, "no kprobe_events (CONFIG_KPROBE_EVENTS, tracefs)");
	/* a fresh load: a new id, its own stats */
	self->gaps = stat_of("watch_gaps");
	self->undecoded = stat_of("watch_undecoded");
	self->id = mmrefs_id_of(self->v.pid);
	ASSERT_GT(self->id, 0);
	ASSERT_EQ(0, watch_cmd("pid=%d", self->v.pid));
	puts_without_caller(_metadata, &self->v, self->id);
}

TEST_F(watch, maps_reader)
{
	static struct mmrefs_history h;
	char path[64], buf[4096], comm[16];
	int w, i, fd, up = 0, down = 0, grab = 0, drop = 0;
	bool mm_access = false, not_zero = false;

	if (_metadata->skip)
		return;
	prctl(PR_GET_NAME, comm);
	snprintf(path, sizeof(path), "/proc/%d/maps", self->v.pid);
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	EXPECT_WATCHED(self, 1, 1);

	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	w = check_gapless(_metadata, &h, false);
	for (i = w + 1; i < h.nr; i++) {
		if (strcmp(h.ev[i].comm, comm))
			continue;
		EXPECT_EQ(0, h.ev[i].kthread);
		/*
		 * mm_access() (with get_task_mm() inlined on Debian) is out of
		 * line: its mmget() is named by its caller, proc_mem_open()
		 */
		if (!strcmp(h.ev[i].op, "mmget") &&
		    starts_with(h.ev[i].site, "proc_mem_open+"))
			mm_access = true;
		if (!strcmp(h.ev[i].op, "mmget_not_zero"))
			not_zero = true;
		up += h.ev[i].users_new > h.ev[i].users_old;
		down += h.ev[i].users_new < h.ev[i].users_old;
		grab += !strcmp(h.ev[i].op, "mmgrab");
		drop += !strcmp(h.ev[i].op, "mmdrop");
	}
	/* open: mm_access()'s mmget; each read: m_start()'s get_not_zero */
	EXPECT_TRUE(mm_access);
	EXPECT_TRUE(not_zero);
	EXPECT_EQ(up, down);
	/* the open file's mmgrab() and its release's mmdrop() */
	EXPECT_EQ(1, grab);
	EXPECT_EQ(1, drop);
}

TEST_F(watch, slots_and_errors)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT,
		.size = sizeof(attr),
		.bp_type = HW_BREAKPOINT_W,
		.bp_len = HW_BREAKPOINT_LEN_4,
	};
	struct victim b = { 0 }, c = { 0 };
	static int target;	/* only its address is used */
	const char *text;
	pid_t gone;
	int fd;

	if (_metadata->skip)
		return;
	ASSERT_GT(victim_start(&b), 0);
	ASSERT_GT(victim_start(&c), 0);
	gone = fork();
	if (!gone)
		_exit(0);
	ASSERT_EQ(gone, waitpid(gone, NULL, 0));

	/* bad input: EINVAL, ESRCH, EEXIST; nothing changes */
	EXPECT_EQ(-EINVAL, watch_cmd("pid=abc"));
	EXPECT_EQ(-EINVAL, watch_cmd("pid=-1"));
	EXPECT_EQ(-EINVAL, watch_cmd("pid=%d extra", b.pid));
	EXPECT_EQ(-EINVAL, watch_cmd("stack=2"));
	EXPECT_EQ(-ESRCH, watch_cmd("pid=%d", gone));
	EXPECT_EQ(-ESRCH, watch_cmd("-pid=%d", b.pid));
	EXPECT_EQ(-EEXIST, watch_cmd("pid=%d", self->v.pid));
	text = mmrefs_read_file(MMREFS_WATCH);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(2, mmrefs_field(text, "slots"));
	EXPECT_EQ(1, mmrefs_field(text, "free"));

	/* a debug register held by someone else (perf): EBUSY */
	attr.bp_addr = (unsigned long)&target;
	fd = syscall(__NR_perf_event_open, &attr, 0, -1, -1, 0);
	ASSERT_GE(fd, 0) TH_LOG("perf hw breakpoint: %s", strerror(errno));
	EXPECT_EQ(-EBUSY, watch_cmd("pid=%d", b.pid));
	close(fd);
	text = mmrefs_read_file(MMREFS_WATCH);
	EXPECT_EQ(1, mmrefs_field(text, "free"));

	/* two mms fit; a third gets ENOSPC until one is disarmed */
	EXPECT_EQ(0, watch_cmd("pid=%d", b.pid));
	EXPECT_EQ(-ENOSPC, watch_cmd("pid=%d", c.pid));
	text = mmrefs_read_file(MMREFS_WATCH);
	EXPECT_EQ(0, mmrefs_field(text, "free"));
	EXPECT_EQ(0, watch_cmd("-pid=%d", b.pid));
	EXPECT_EQ(0, watch_cmd("pid=%d", c.pid));
	EXPECT_EQ(0, watch_cmd("clear"));
	text = mmrefs_read_file(MMREFS_WATCH);
	EXPECT_EQ(2, mmrefs_field(text, "free"));

	/* enable=0 disarms the hooks a watch needs: EBUSY while one is armed */
	EXPECT_EQ(0, watch_cmd("pid=%d", b.pid));
	EXPECT_EQ(-EBUSY, mmrefs_write_file(MMREFS_ENABLE, "0"));
	EXPECT_STREQ("1\n", mmrefs_read_file(MMREFS_ENABLE));
	EXPECT_EQ(0, watch_cmd("clear"));
	/* ... and while idle no watch is armed: EPERM (exact mode: EBUSY) */
	if (!mmrefs_sites_listed()) {
		ASSERT_EQ(0, mmrefs_write_file(MMREFS_ENABLE, "0"));
		EXPECT_EQ(-EPERM, watch_cmd("pid=%d", c.pid));
		text = mmrefs_read_file(MMREFS_WATCH);
		EXPECT_EQ(2, mmrefs_field(text, "free"));
		ASSERT_EQ(0, mmrefs_write_file(MMREFS_ENABLE, "1"));
		EXPECT_EQ(0, watch_cmd("pid=%d", c.pid));
		EXPECT_EQ(0, watch_cmd("clear"));
	}
	victim_exit(&b);
	victim_exit(&c);
}

TEST_F(watch, unload_while_watching)
{
	const char *ko = getenv("MMREFS_KO");
	char line[MMREFS_LINE_MAX];

	if (_metadata->skip)
		return;
	ASSERT_NE(NULL, ko);
	ASSERT_EQ(0, borrow_cmd("grab %d", self->v.pid));
	ASSERT_EQ(0, watch_cmd("stack=1"));
	ASSERT_EQ(0, mmrefs_unload_module("mmrefs"));
	/* the observer reference went with mmrefs: users' 1 + the grab */
	EXPECT_TRUE(loop_until((mmrefs_flush_lazy(),
				!borrow_line(self->v.pid, line, sizeof(line)) &&
				mmrefs_field(line, "count") == 2)));
	EXPECT_EQ(1, mmrefs_field(line, "users"));
	ASSERT_EQ(0, mmrefs_load_module(ko, ""));
	/* a fresh start: no watch, stacks off */
	EXPECT_EQ(2, mmrefs_field(mmrefs_read_file(MMREFS_WATCH), "free"));
	EXPECT_EQ(0, mmrefs_field(mmrefs_read_file(MMREFS_WATCH), "stack"));
	self->gaps = stat_of("watch_gaps");
	self->undecoded = stat_of("watch_undecoded");
}

#define CPU1_ONLINE	"/sys/devices/system/cpu/cpu1/online"

/*
 * CPU 1 goes offline and comes back while the victim's mm is watched.
 * perf drops an offline CPU's breakpoints and never restores them;
 * mmrefs opens them again before the CPU runs a task, so the victim's
 * writes there are all seen: a thread made and ended on CPU 1 moves
 * users 1->2->1 (net count 1 throughout), gapless, with no gap event.
 */
TEST_F(watch, cpu_hotplug)
{
	static struct mmrefs_history h;
	cpu_set_t cpu1;
	int i;

	if (_metadata->skip)
		return;
	if (access(CPU1_ONLINE, W_OK))
		SKIP(return, "CPU 1 cannot go offline (one CPU?)");
	ASSERT_EQ(0, mmrefs_write_file(CPU1_ONLINE, "0"));
	ASSERT_EQ(0, mmrefs_write_file(CPU1_ONLINE, "1"));
	/* the victim and the threads it makes run on CPU 1 only */
	CPU_ZERO(&cpu1);
	CPU_SET(1, &cpu1);
	ASSERT_EQ(0, sched_setaffinity(self->v.pid, sizeof(cpu1), &cpu1));
	EXPECT_WATCHED(self, 1, 1);
	ASSERT_EQ(0, victim_do(&self->v, 't'));
	EXPECT_WATCHED(self, 2, 1);
	ASSERT_EQ(0, victim_do(&self->v, 'q'));
	ASSERT_TRUE(users_at(self->id, 1));
	EXPECT_WATCHED(self, 1, 1);

	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	ASSERT_GE(check_gapless(_metadata, &h, false), 0);
	for (i = 0; i < h.nr; i++)
		EXPECT_STRNE("gap", h.ev[i].op);
	/* both writes of the thread's user reference, trapped on CPU 1 */
	i = find_op(&h, 0, "mmget", VICTIM_COMM);
	ASSERT_GE(i, 0);
	EXPECT_EQ(1, h.ev[i].cpu);
	i = find_op(&h, i, "mmput", NULL);
	ASSERT_GE(i, 0);
	EXPECT_EQ(1, h.ev[i].cpu);
}

TEST_HARNESS_MAIN
