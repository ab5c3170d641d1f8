/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the mmrefs selftests: read the key=value lines of
 * /sys/kernel/debug/mmrefs/{mms,history} (format in the interface spec),
 * drive the mmrefs_borrow test module, load and unload modules, and wait
 * for asynchronous kernel work with a bounded poll instead of a sleep.
 */
#ifndef MMREFS_UTIL_H
#define MMREFS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define MMREFS_DIR	"/sys/kernel/debug/mmrefs"
#define MMREFS_MMS	MMREFS_DIR "/mms"
#define MMREFS_HISTORY	MMREFS_DIR "/history"
#define MMREFS_FILTER	MMREFS_DIR "/filter"
#define MMREFS_ENABLE	MMREFS_DIR "/enable"
#define MMREFS_WATCH	MMREFS_DIR "/watch"
#define MMREFS_STATS	MMREFS_DIR "/stats"
#define BORROW_CONTROL	"/sys/kernel/debug/mmrefs_borrow/control"
#define BORROW_MAX_HOLD	"/sys/module/mmrefs_borrow/parameters/max_hold_ms"

/*
 * Built with -DMMREFS_SELFTEST (selftests/Makefile), mmrefs_util.c loads
 * mmrefs.ko and mmrefs_borrow.ko when a program starts, unless they are
 * loaded, and names each module it loaded in this file of $TMPDIR (or
 * /tmp), one a line; mmrefs_nothing_lost.sh unloads them.  A program
 * exits 1 at once if mmrefs is loaded and this file does not name it,
 * unless $MMREFS_SELFTEST_RELOAD is set: that mmrefs is someone else's.
 */
#define MMREFS_LOADED_LIST	"mmrefs_selftests.loaded"

#define MMREFS_LINE_MAX		512
/* a whole watched ring at the default watch_history (1024) */
#define MMREFS_EVENTS_MAX	1024
#define MMREFS_FIELD_MISSING	(-999999L)

/*
 * Poll every 10 ms, give up after 5 s: the kernel's asynchronous work
 * (lazy-TLB refs dropping, kthreads exiting, exit_mm) is much faster.
 */
#define MMREFS_POLL_MS		10
#define MMREFS_WAIT_MS		5000

/*
 * loop_until(cond): re-evaluate cond every MMREFS_POLL_MS until it holds
 * or MMREFS_WAIT_MS passed; evaluates to the last value of cond.
 */
#define loop_until(cond) ({						\
	int __waited = 0;						\
	bool __ok;							\
	while (!(__ok = (cond)) && __waited < MMREFS_WAIT_MS) {	\
		mmrefs_sleep_ms(MMREFS_POLL_MS);			\
		__waited += MMREFS_POLL_MS;				\
	}								\
	__ok;								\
})

/*
 * The 6.1 harness runs the test body even when FIXTURE_SETUP() called
 * SKIP(); every TEST_F() starts with "if (_metadata->skip) return;" so a
 * skipped setup stays skipped.
 */

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(arr)	(sizeof(arr) / sizeof((arr)[0]))
#endif

#ifndef BIT
#define BIT(nr)		(1UL << (nr))
#endif

/* One history event line, parsed (observer: 0 if not shown). */
struct mmrefs_event {
	long id, seq, cpu, pid, tgid, kthread, observer;
	long users_old, users_new, count_old, count_new;
	char op[16], cause[16], comm[32], trap[8], site[96];
};

/*
 * One mm: its header line and its events, oldest first (stack lines are
 * skipped); truncated if it had more than MMREFS_EVENTS_MAX.
 */
struct mmrefs_history {
	char header[MMREFS_LINE_MAX];
	int nr;
	bool truncated;
	struct mmrefs_event ev[MMREFS_EVENTS_MAX];
};

/*
 * Event @ev is @op with @cause and moves users @uo->@un, count @co->@cn
 * (a kselftest_harness.h test's EXPECT_*s, so each field is named).
 */
#define EXPECT_EVENT(ev, op_, cause_, uo, un, co, cn) do {		\
	const struct mmrefs_event *__e = &(ev);				\
	EXPECT_STREQ(op_, __e->op);					\
	EXPECT_STREQ(cause_, __e->cause);				\
	EXPECT_EQ(uo, __e->users_old);					\
	EXPECT_EQ(un, __e->users_new);					\
	EXPECT_EQ(co, __e->count_old);					\
	EXPECT_EQ(cn, __e->count_new);					\
} while (0)

void mmrefs_sleep_ms(int ms);

/* Whole file into a static buffer (valid until the next call), or NULL. */
const char *mmrefs_read_file(const char *path);
/* Up to size - 1 bytes of a file into buf, NUL-terminated; length or -errno. */
ssize_t mmrefs_read_into(const char *path, char *buf, size_t size);
/* One write() of s; 0 or -errno. */
int mmrefs_write_file(const char *path, const char *s);
/* printf-style command to the borrower's control file; 0 or -errno. */
int borrow_cmd(const char *fmt, ...);
/* The borrower's line for pid (first one), or -ENOENT. */
int borrow_line(pid_t pid, char *line, size_t len);
/* How many borrow lines the borrower lists for pid. */
int borrow_count(pid_t pid);

/* Value of key in a key=value line, MMREFS_FIELD_MISSING if absent. */
long mmrefs_field(const char *line, const char *key);
/* String value of key; 0 or -ENOENT. */
int mmrefs_field_str(const char *line, const char *key, char *out, size_t len);

/* The mms row whose tgid= (or id=) matches; 0 or -ENOENT. */
int mmrefs_mms_by_tgid(pid_t tgid, char *line, size_t len);
int mmrefs_mms_by_id(long id, char *line, size_t len);
/*
 * The id of a tracked mm of tgid, or -1.  A process that exec'd has two
 * rows until its old mm is freed, in no set order: _other() skips not_id.
 */
long mmrefs_id_of(pid_t tgid);
long mmrefs_id_of_other(pid_t tgid, long not_id);
/* users, count and lazy of mm id, two reads of mms agreeing; 0 or -ENOENT. */
int mmrefs_counts(long id, long *users, long *count, long *lazy);

/* The history block of mm id; 0 or -ENOENT. */
int mmrefs_history(long id, struct mmrefs_history *h);
/*
 * Index of the first event at or after from with op/cause (cause may be
 * NULL for any), or -1.  With $MMREFS_EXACT a probe's get/put/grab is
 * looked up as the write exact mode records instead (mmrefs_util.c).
 */
int mmrefs_find_event(const struct mmrefs_history *h, int from,
		      const char *op, const char *cause);
/* How many events of h have op/cause. */
int mmrefs_count_events(const struct mmrefs_history *h, const char *op,
			const char *cause);

/*
 * Run the calling thread briefly on every CPU: each CPU switches to a
 * user mm, which drops the lazy-TLB references other mms had there.
 */
void mmrefs_flush_lazy(void);
/*
 * Two reads of mm id's mms row, every CPU flushed before each, both with
 * lazy=0 and accepted by ok (if not NULL), with the same users and count;
 * line gets the first.
 */
bool mmrefs_settled_row(long id, bool (*ok)(const char *line), char *line,
			size_t size);
/* Until mmrefs_settled_row(id, NULL, ...); true if it did within the wait. */
bool mmrefs_settle(long id);

/* The mmrefs and borrower interfaces are there; else a reason to skip. */
const char *mmrefs_missing(void);
const char *borrow_missing(void);
/* Put filter=all and enable=1 back, as every test expects to start from. */
void mmrefs_reset_filter(void);

/*
 * Fork a child named comm that blocks until mmrefs_waiter_exit() (or the
 * write end closing) tells it to _exit(0). Returns its pid, or -1.
 */
pid_t mmrefs_spawn_waiter(const char *comm, int *release_fd);
/*
 * A waiter that first runs setup(arg) (if not NULL) and says it is ready:
 * its pid once ready, or -1.
 */
pid_t mmrefs_spawn_ready(const char *comm, int (*setup)(int), int arg,
			 int *release_fd);
/* Start threads extra threads that sleep forever (a waiter's setup). */
int mmrefs_start_threads(int threads);
/* Tell the waiter to exit and reap it; its wait status, or -1. */
int mmrefs_waiter_exit(pid_t *pid, int *release_fd);
/* Teardown: kill and reap the waiter if still there. */
void mmrefs_waiter_reap(pid_t *pid, int *release_fd);

/*
 * finit_module(path, params) / delete_module(name); 0 or -errno.  With
 * $MMREFS_EXACT set, loading mmrefs.ko also loads the site lists (unless
 * @params has enable=0: loaded idle, it refuses them).
 */
int mmrefs_load_module(const char *path, const char *params);
/* Write $MMREFS_SITES and the borrower's list to sites; 0 or -errno. */
int mmrefs_load_sites(void);
/* Whether exact mode is on (stats: mmrefs_read_file()'s buffer is reused). */
bool mmrefs_exact_on(void);
/* Sites listed (exact mode's list): mmrefs refuses enable=0 then. */
long mmrefs_sites_listed(void);
int mmrefs_unload_module(const char *name);
/* /proc/sys/kernel/tainted */
long mmrefs_tainted(void);

#endif /* MMREFS_UTIL_H */
