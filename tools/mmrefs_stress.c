// SPDX-License-Identifier: GPL-2.0
/*
 * mmrefs_stress - `make stress`'s guest load (scripts/stress-guest.sh runs
 * it): everything that moves an mm's counters, all at once, while mmrefs.ko
 * is loaded and unloaded every 2 s, its files are read and written, and the
 * mmrefs_borrow test module borrows mms from kernel threads.
 *
 *   mmrefs_stress [--duration S] [--failslab] [--mmrefs KO] [--no-module]
 *
 * Each worker counts every outcome.  Processes of their own (small and
 * single-threaded, so their fork()s are cheap):
 *   fork x3     fork(); the child touches memory, sometimes reads its own
 *               /proc/self/maps (mm_access, proc_mem_open) or starts a thread
 *   vfork       vfork()+execve() of this program (exec's new mm, vfork's
 *               get), alternating with clone(CLONE_VM) (get/clone_vm)
 *   thread x2   pthread_create() x4, pthread_join()
 *   borrow x2   a target child; 1 to 4 `grab`/`get` borrows of its mm with
 *               holds of 1 to 300 ms (some expire on their own); the target
 *               exits while borrowed half the time; `release PID`
 * Threads of the main process:
 *   reader x3   open, read to EOF (1 byte to 64 KiB per read(), sometimes a
 *               rewind), close: every file of mmrefs and the borrower's
 *   filter      filter (tgid=N, comm=X, all) and enable (0, 1) writes
 *   watch       sessions of writes to mmrefs' watch file, if it exists
 *   loader      loads mmrefs.ko (rotating module parameters, so table-full,
 *               no-history and no-retired paths run too), after LOADED_MS
 *               pauses the churn, checks that stats' mms= equals the rows
 *               of mms, reads stats, unloads (retrying while an open file
 *               holds the module), every CYCLE_MS or as soon as it can
 *
 * The run lasts --duration seconds (default 60), longer if the minimum
 * counts (processes, threads, borrows of each kind, load cycles) are not
 * reached yet, at most MAX_STRETCH times as long (a busy TCG host is
 * slow).  Errors a file may legitimately return while mmrefs is (being)
 * unloaded are counted, as are the watch file's documented errors and the
 * borrower's; any other error fails the run.  The last lines are a report
 * and "mmrefs_stress: PASS" or "FAIL"; the exit status is 0 or 1.
 * --no-module: churn only, mmrefs never loaded (the memory warm-up).
 * --failslab: after each load check that /sys/kernel/slab/mmrefs_mm/failslab
 * is 1 (the caller boots with slub_debug=A,mmrefs_mm and configures
 * /sys/kernel/debug/failslab); pass then also needs stats to show failed
 * allocations (alloc_failed > 0: most hit the reserve's refill, which
 * loses nothing).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "mmrefs_util.h"

#define MMREFS_WATCH	MMREFS_DIR "/watch"
#define SLAB_FAILSLAB	"/sys/kernel/slab/mmrefs_mm/failslab"
#define TRACE_ENABLE	"/sys/kernel/tracing/events/mmrefs/enable"

#define CYCLE_MS	2000	/* one load and one unload */
#define LOADED_MS	1200	/* from load to the table check */
#define MIN_LOADED_MS	500	/* ... and at least this after the load */
#define UNLOAD_WAIT_MS	20000	/* an unload still refused by then fails */
#define SLEEPERS	70	/* more mms than max_mms=64 can track */
#define MIN_PROCS	10000
#define MIN_THREADS	10000
#define MIN_BORROWS	1000	/* of each kind */
#define MAX_STRETCH	12	/* run at most this times --duration */

/*
 * --slow N, for a kernel N times slower (the debug kernel: KASAN and
 * lockdep under TCG): the counts above are divided by N, the unload wait
 * multiplied by N.  The 30 cycles stay.
 */
static unsigned int slow = 1;

/* a slow kernel still makes 30 cycles: give it twice as long */
static unsigned int stretch(void)
{
	return MAX_STRETCH * (slow > 1 ? 2 : 1);
}

#define BIG_BUF		(8 << 20)

/* Module parameters, one set per cycle in turn. */
static const char * const load_params[] = {
	"",
	"max_mms=64 history=4",
	"history=0 retired=0",
	"history=256 retired=4",
};

enum outcome {
	OUT_OK, OUT_ENOENT, OUT_ENXIO, OUT_EIO, OUT_ENODEV, OUT_ESRCH,
	OUT_ENOSPC, OUT_EBUSY, OUT_EEXIST, OUT_EINVAL, OUT_ENOMEM, OUT_EPERM,
	OUT_NA, NR_OUTCOMES,
};

static const char * const outcome_names[NR_OUTCOMES] = {
	"ok", "ENOENT", "ENXIO", "EIO", "ENODEV", "ESRCH", "ENOSPC", "EBUSY",
	"EEXIST", "EINVAL", "ENOMEM", "EPERM", "not_available",
};

/* What was done to which file; the first NR_FILES are the read targets. */
enum target {
	T_MMS, T_HISTORY, T_STATS, T_FILTER, T_ENABLE, T_WATCH, T_HOLDERS,
	T_LEAKS, T_CONTROL,
	NR_FILES,
	W_FILTER = NR_FILES, W_ENABLE, W_WATCH, B_GRAB, B_GET, B_RELEASE,
	NR_TARGETS,
};

/*
 * While mmrefs is out (or going): open() finds no file (ENOENT) or finds
 * the module going (ENXIO); a file removed under an open descriptor
 * fails with EIO or ENODEV.
 */
#define MODULE_OUT	(BIT(OUT_ENOENT) | BIT(OUT_ENXIO) | BIT(OUT_EIO) | \
			 BIT(OUT_ENODEV))
/*
 * The watch file's documented errors (interface of the watch series);
 * EPERM: the filter writer set enable=0.
 */
#define WATCH_ERRORS	(BIT(OUT_ESRCH) | BIT(OUT_ENOSPC) | BIT(OUT_EBUSY) | \
			 BIT(OUT_EEXIST) | BIT(OUT_EINVAL) | BIT(OUT_ENOMEM) | \
			 BIT(OUT_EPERM))

static const struct {
	const char *name, *path;
	unsigned long allowed;
} targets[NR_TARGETS] = {
	[T_MMS] = { "read mms", MMREFS_MMS, BIT(OUT_OK) | MODULE_OUT },
	[T_HISTORY] = { "read history", MMREFS_HISTORY, BIT(OUT_OK) | MODULE_OUT },
	[T_STATS] = { "read stats", MMREFS_STATS, BIT(OUT_OK) | MODULE_OUT },
	[T_FILTER] = { "read filter", MMREFS_FILTER, BIT(OUT_OK) | MODULE_OUT },
	[T_ENABLE] = { "read enable", MMREFS_ENABLE, BIT(OUT_OK) | MODULE_OUT },
	[T_WATCH] = { "read watch", MMREFS_WATCH,
		      BIT(OUT_OK) | MODULE_OUT | BIT(OUT_NA) },
	[T_HOLDERS] = { "read holders", MMREFS_DIR "/holders",
			BIT(OUT_OK) | MODULE_OUT },
	[T_LEAKS] = { "read leaks", MMREFS_DIR "/leaks",
		      BIT(OUT_OK) | MODULE_OUT },
	[T_CONTROL] = { "read borrow control", BORROW_CONTROL, BIT(OUT_OK) },
	[W_FILTER] = { "write filter", MMREFS_FILTER, BIT(OUT_OK) | MODULE_OUT },
	/* EBUSY: enable=0 while a watch is armed or a site listed */
	[W_ENABLE] = { "write enable", MMREFS_ENABLE,
		       BIT(OUT_OK) | BIT(OUT_EBUSY) | MODULE_OUT },
	[W_WATCH] = { "write watch", MMREFS_WATCH,
		      BIT(OUT_OK) | MODULE_OUT | WATCH_ERRORS | BIT(OUT_NA) },
	[B_GRAB] = { "borrow grab", BORROW_CONTROL,
		     BIT(OUT_OK) | BIT(OUT_ESRCH) | BIT(OUT_EBUSY) },
	[B_GET] = { "borrow get", BORROW_CONTROL,
		    BIT(OUT_OK) | BIT(OUT_ESRCH) | BIT(OUT_EBUSY) },
	/* ENOENT: every borrow of the pid had expired already */
	[B_RELEASE] = { "borrow release", BORROW_CONTROL,
			BIT(OUT_OK) | BIT(OUT_ENOENT) },
};

enum counter {
	C_FORK, C_VFORK_EXEC, C_CLONE_VM, C_THREADS, C_MAPS_READS,
	C_EXIT_WHILE_BORROWED, C_RELEASE_ALL, C_READ_BYTES, C_REWINDS,
	C_LOADS, C_UNLOADS, C_UNLOAD_BUSY, C_TABLE_CHECKS, C_TABLE_RETRIES,
	C_TRACE_ON, C_PROBES, NR_COUNTERS,
};

/* Totals of mmrefs' stats, summed over every load (read before unload). */
struct mstats {
	unsigned long events, filtered, table_full, alloc, alloc_failed;
	unsigned long untracked, stale;
	unsigned long hits, missed, mmput_hits, free_hits, mms, max_mms;
	unsigned long over_max;
};

static struct mstats totals;

static const char *self_exe;
static const char *mmrefs_ko = "/mmrefs/module/mmrefs.ko";
static bool failslab, no_module;
static long duration_ms = 60000;
static unsigned long long t_start;

static int stop_loader, stop_io, unload_wanted;
static unsigned long cycles_done;
static pid_t sleepers[SLEEPERS];

/*
 * The churn runs in worker processes of their own, forked before any
 * thread: each is small and single-threaded, so its fork()s copy little
 * (a fork from the threaded main process would make every thread's
 * pages copy-on-write).  What they count and share lives here, in a
 * MAP_SHARED page, with process-shared locks.
 */
struct shared {
	unsigned long tally[NR_TARGETS][NR_OUTCOMES];
	unsigned long counters[NR_COUNTERS];
	unsigned long failures;
	int stop_churn;
	pthread_mutex_t out_lock;
	/* the gate: see gate_enter() */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;
	int gate_closed, gate_busy;
};

static struct shared *sh;

#define load_flag(x)	__atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define set_flag(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

static void count(enum counter c, unsigned long n)
{
	__atomic_fetch_add(&sh->counters[c], n, __ATOMIC_RELAXED);
}

static unsigned long counter(enum counter c)
{
	return __atomic_load_n(&sh->counters[c], __ATOMIC_RELAXED);
}

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* Where the loader's time goes, ms: total and worst per cycle. */
enum phase { PH_LOAD, PH_CHECK, PH_UNLOAD, NR_PHASES };
static const char * const phase_names[NR_PHASES] = {
	"load", "pause+table check", "unload",
};

static unsigned long long phase_sum[NR_PHASES], phase_max[NR_PHASES];

static void phase_done(enum phase ph, unsigned long long since)
{
	unsigned long long ms = now_ms() - since;

	phase_sum[ph] += ms;
	if (ms > phase_max[ph])
		phase_max[ph] = ms;
}

static unsigned long long elapsed_ms(void)
{
	return now_ms() - t_start;
}

static void sleep_until(unsigned long long t)
{
	unsigned long long now = now_ms();

	if (t > now)
		mmrefs_sleep_ms(t - now);
}

/* A failure: said at once (the first 50), counted, and the run fails. */
static void fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&sh->out_lock);
	if (sh->failures++ < 50) {
		printf("mmrefs_stress: FAIL at %llu ms: ", elapsed_ms());
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
		fflush(stdout);
	}
	pthread_mutex_unlock(&sh->out_lock);
}

static int outcome_of(int err)
{
	static const int errs[NR_OUTCOMES] = {
		[OUT_OK] = 0, [OUT_ENOENT] = ENOENT, [OUT_ENXIO] = ENXIO,
		[OUT_EIO] = EIO, [OUT_ENODEV] = ENODEV, [OUT_ESRCH] = ESRCH,
		[OUT_ENOSPC] = ENOSPC, [OUT_EBUSY] = EBUSY,
		[OUT_EEXIST] = EEXIST, [OUT_EINVAL] = EINVAL,
		[OUT_ENOMEM] = ENOMEM, [OUT_EPERM] = EPERM, [OUT_NA] = -1,
	};
	int o;

	for (o = 0; o < NR_OUTCOMES; o++)
		if (errs[o] == err)
			return o;
	return -1;
}

/* Count what op on t returned (0 or an errno); an unexpected one fails. */
static int record(enum target t, int err, const char *what)
{
	int o = outcome_of(err);

	if (o < 0 || !(targets[t].allowed & BIT(o))) {
		fail("%s%s%s: unexpected %s", targets[t].name, what ? " " : "",
		     what ? what : "", err ? strerror(err) : "success");
		return -1;
	}
	__atomic_fetch_add(&sh->tally[t][o], 1, __ATOMIC_RELAXED);
	return o;
}

/*
 * The churn pauses while the loader checks the table: workers hold the
 * gate open for one whole operation (children reaped, borrows released),
 * the loader closes it and waits for them to leave.
 */

static void gate_enter(void)
{
	pthread_mutex_lock(&sh->gate_lock);
	while (sh->gate_closed)
		pthread_cond_wait(&sh->gate_cond, &sh->gate_lock);
	sh->gate_busy++;
	pthread_mutex_unlock(&sh->gate_lock);
}

static void gate_leave(void)
{
	pthread_mutex_lock(&sh->gate_lock);
	if (!--sh->gate_busy)
		pthread_cond_broadcast(&sh->gate_cond);
	pthread_mutex_unlock(&sh->gate_lock);
}

static void gate_close(void)
{
	pthread_mutex_lock(&sh->gate_lock);
	sh->gate_closed = 1;
	while (sh->gate_busy)
		pthread_cond_wait(&sh->gate_cond, &sh->gate_lock);
	pthread_mutex_unlock(&sh->gate_lock);
}

static void gate_open(void)
{
	pthread_mutex_lock(&sh->gate_lock);
	sh->gate_closed = 0;
	pthread_cond_broadcast(&sh->gate_cond);
	pthread_mutex_unlock(&sh->gate_lock);
}

/* Reap child pid, which must have exited with status 0. */
static void reap(pid_t pid, const char *what)
{
	int status;

	while (waitpid(pid, &status, __WALL) < 0) {
		if (errno != EINTR) {
			fail("waitpid %s %d: %s", what, pid, strerror(errno));
			return;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("%s child %d ended with status 0x%x", what, pid, status);
}

/* A child @what that fork(), clone() or vfork() returned: reap, count it. */
static bool reap_spawned(pid_t pid, const char *what, enum counter c)
{
	if (pid < 0) {
		fail("%s: %s", what, strerror(errno));
		return false;
	}
	reap(pid, what);
	count(c, 1);
	return true;
}

static void *nop_thread(void *arg)
{
	char stack[1024];

	/* a few pages of stack: the thread touches memory of its own */
	memset(stack, 1, sizeof(stack));
	__asm__ volatile("" : : "r"(stack) : "memory");
	return arg;
}

/* Run n short threads; how many could be started. */
static int run_threads(int n)
{
	pthread_attr_t attr;
	pthread_t t[8];
	int i, started = 0, err;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	for (i = 0; i < n && i < (int)ARRAY_SIZE(t); i++) {
		err = pthread_create(&t[started], &attr, nop_thread, NULL);
		if (err) {
			fail("pthread_create: %s", strerror(err));
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	pthread_attr_destroy(&attr);
	return started;
}

static void read_own_maps(void)
{
	char buf[4096];
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		_exit(3);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

static void fork_child(unsigned int r)
{
	static char page[16 << 10];

	/* fault in private copies of a few pages */
	memset(page, (int)r, sizeof(page));
	if (r % 8 == 0)
		read_own_maps();
	else if (r % 8 == 1 && run_threads(1) != 1)
		_exit(2);
	_exit(0);
}

static void *fork_worker(void *arg)
{
	unsigned int seed = (unsigned long)arg;
	unsigned int r;
	pid_t pid;

	while (!load_flag(sh->stop_churn)) {
		r = rand_r(&seed);
		gate_enter();
		pid = fork();
		if (pid == 0)
			fork_child(r);
		if (!reap_spawned(pid, "fork", C_FORK))
			mmrefs_sleep_ms(10);
		else if (r % 8 == 0)
			count(C_MAPS_READS, 1);
		gate_leave();
	}
	return NULL;
}

/* clone(CLONE_VM) child: shares our mm and TLS, so it touches nothing. */
static int clone_vm_child(void *arg)
{
	return 0;
}

static char *exec_argv[4] = { "mmrefs_stress", "--child" };

/* The vfork child: exec this program as `--child [thread]`. */
static int vfork_child(void *arg)
{
	exec_argv[2] = arg;
	execv(self_exe, exec_argv);
	_exit(127);
}

/*
 * vfork(), spelled as clone(CLONE_VM | CLONE_VFORK) so the child runs on
 * a stack of its own: we stay suspended until it has exec'd.
 */
static pid_t vfork_exec(char *arg)
{
	static long stack[8192];	/* glibc aligns the top to 16 */

	return clone(vfork_child, stack + ARRAY_SIZE(stack),
		     CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
}

static void *vfork_worker(void *arg)
{
	static long clone_stack[8192];
	unsigned int seed = (unsigned long)arg;
	unsigned long n = 0;
	unsigned int r;
	pid_t pid;

	while (!load_flag(sh->stop_churn)) {
		r = rand_r(&seed);
		gate_enter();
		if (n++ % 3 == 2) {
			pid = clone(clone_vm_child, clone_stack + ARRAY_SIZE(clone_stack),
				    CLONE_VM | SIGCHLD, NULL);
			reap_spawned(pid, "clone(CLONE_VM)", C_CLONE_VM);
			gate_leave();
			continue;
		}
		pid = vfork_exec(r % 4 ? NULL : "thread");
		reap_spawned(pid, "vfork+exec", C_VFORK_EXEC);
		gate_leave();
	}
	return NULL;
}

/*
 * Under TCG the guest's CPU is the limit, and processes cost the most.
 * Kinds cheaper than that (threads, borrows) keep to the pace that reaches
 * their minimum by 80% of the duration, leaving the CPU to the rest.
 */
static void pace(unsigned long done, unsigned long minimum)
{
	unsigned long long due = elapsed_ms() * minimum / (duration_ms * 8 / 10);

	if (done > due)
		mmrefs_sleep_ms(5);
}

static void *thread_worker(void *arg)
{
	while (!load_flag(sh->stop_churn)) {
		pace(counter(C_THREADS), MIN_THREADS / slow);
		gate_enter();
		count(C_THREADS, run_threads(4));
		gate_leave();
	}
	return NULL;
}

/*
 * A child with its own mm that waits to be killed.  Not a pipe waiter:
 * children forked meanwhile by other threads would inherit the pipe's
 * write end and keep it from seeing EOF.
 */
static pid_t spawn_target(void)
{
	pid_t pid = fork();

	if (pid < 0)
		fail("spawning a borrow target: %s", strerror(errno));
	if (!pid) {
		prctl(PR_SET_NAME, "stress_target");
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	return pid;
}

/* Kill and reap a target; it must die of that SIGKILL. */
static void kill_target(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fail("waitpid target %d: %s", pid, strerror(errno));
			return;
		}
	}
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail("borrow target %d ended with status 0x%x", pid, status);
}

/*
 * One borrow round: a fresh target, 1 to 4 kernel-thread borrows of its
 * mm (grab: mm_count, get: mm_users), with holds of 1 to 300 ms so some
 * expire by themselves; one round in two the target exits while its mm is
 * borrowed.  Then every borrow of it still held is released (ENOENT:
 * all had expired).  Nothing is left behind: the table check may start.
 */
static void borrow_round(unsigned int *seed)
{
	int i, n, err, held = 0;
	unsigned int r, hold;
	bool exit_early, exited = false;
	enum target t;
	pid_t nr;

	nr = spawn_target();
	if (nr < 0)
		return;
	r = rand_r(seed);
	n = 1 + r % 4;
	exit_early = r & 16;
	for (i = 0; i < n; i++) {
		r = rand_r(seed);
		t = r % 2 ? B_GRAB : B_GET;
		hold = r % 3 ? 50 + r % 250 : 1 + r % 20;
		err = borrow_cmd("%s %d %u", t == B_GRAB ? "grab" : "get", nr,
				 hold);
		held += record(t, -err, NULL) == OUT_OK;
		if (exit_early && !exited && held) {
			/* exited (and reaped) while borrowed */
			kill_target(nr);
			exited = true;
			count(C_EXIT_WHILE_BORROWED, 1);
		}
	}
	mmrefs_sleep_ms(rand_r(seed) % 30);
	record(B_RELEASE, -borrow_cmd("release %d", nr), NULL);
	if (!exited)
		kill_target(nr);
}

static void *borrow_worker(void *arg)
{
	unsigned int seed = (unsigned long)arg;
	bool releases_all = (unsigned long)arg & 1;
	unsigned long rounds = 0;
	int err;

	while (!load_flag(sh->stop_churn)) {
		pace(__atomic_load_n(&sh->tally[B_GRAB][OUT_OK], __ATOMIC_RELAXED) +
		     __atomic_load_n(&sh->tally[B_GET][OUT_OK], __ATOMIC_RELAXED),
		     2 * MIN_BORROWS / slow);
		gate_enter();
		borrow_round(&seed);
		/* now and then the other worker's borrows go too */
		if (++rounds % 64 == 0 && releases_all) {
			err = borrow_cmd("release all");
			if (err)
				fail("release all: %s", strerror(-err));
			count(C_RELEASE_ALL, 1);
		}
		gate_leave();
	}
	return NULL;
}

/* A file that does not exist: mmrefs is out, or it has no such file. */
static void record_missing(enum target t)
{
	if ((t == T_WATCH || t == W_WATCH) && !access(MMREFS_STATS, F_OK))
		__atomic_fetch_add(&sh->tally[t][OUT_NA], 1, __ATOMIC_RELAXED);
	else
		record(t, ENOENT, "(open)");
}

/*
 * An open() of an mmrefs file never overlaps a delete_module() of it.
 * Inside delete_module(), try_stop_module() drops the module's refcount
 * to 0 a moment before it marks the module GOING; an open() of a debugfs
 * file in between cannot take its module reference, does not see GOING
 * yet, and WARNs "debugfs file owner did not clean up at exit" (the check
 * for GOING in debugfs' open covers only the rest of the unload).  The
 * debug kernel (PREEMPT, under TCG) hit that WARN in its first cycle.  No
 * code of mmrefs runs in that window, so this test loses nothing by
 * keeping out of it: files held open still meet every unload attempt
 * (EAGAIN), and opens still come between attempts.  Writers win
 * (delete_module() is tried at once), readers wait for it.
 */
static pthread_rwlock_t unload_lock;

static int open_mmrefs(const char *path)
{
	int fd;

	pthread_rwlock_rdlock(&unload_lock);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	pthread_rwlock_unlock(&unload_lock);
	return fd;
}

/* mmrefs_write_file() (one open, write, close), outside any unload */
static int write_mmrefs(const char *path, const char *cmd)
{
	int err;

	pthread_rwlock_rdlock(&unload_lock);
	err = mmrefs_write_file(path, cmd);
	pthread_rwlock_unlock(&unload_lock);
	return err;
}

static void read_one(enum target t, unsigned int r, char *buf)
{
	static const size_t small[] = { 1, 7, 64, 4096 };
	static const size_t big[] = { 512, 4096, 65536 };
	bool rewind = r % 8 == 0;
	unsigned long bytes = 0;
	size_t len;
	ssize_t n;
	int fd;

	if (t == T_MMS || t == T_HISTORY)
		len = big[(r / 8) % ARRAY_SIZE(big)];
	else
		len = small[(r / 8) % ARRAY_SIZE(small)];
	fd = open_mmrefs(targets[t].path);
	if (fd < 0) {
		if (errno == ENOENT)
			record_missing(t);
		else
			record(t, errno, "(open)");
		return;
	}
	while ((n = read(fd, buf, len)) > 0) {
		bytes += n;
		if (rewind) {
			rewind = false;
			if (lseek(fd, 0, SEEK_SET) == 0)
				count(C_REWINDS, 1);
		}
	}
	record(t, n < 0 ? errno : 0, "(read)");
	close(fd);
	count(C_READ_BYTES, bytes);
}

static void probe_open(enum target t)
{
	int fd = open_mmrefs(targets[t].path);

	count(C_PROBES, 1);
	if (fd >= 0) {
		close(fd);
		record(t, 0, NULL);
	} else if (errno == ENOENT) {
		record_missing(t);
	} else {
		record(t, errno, "(open)");
	}
}

static void *reader(void *arg)
{
	unsigned int seed = (unsigned long)arg;
	char *buf = malloc(65536);
	unsigned int r;

	if (!buf) {
		fail("%s: out of memory", __func__);
		return NULL;
	}
	while (!load_flag(stop_io)) {
		r = rand_r(&seed);
		/*
		 * An open file pins mmrefs (delete_module() says EAGAIN).
		 * While the loader wants it out, only open and close at
		 * once: that races the unload (ENXIO while it is going,
		 * ENOENT once gone) but leaves it moments to succeed in.
		 */
		if (load_flag(unload_wanted)) {
			probe_open(r % NR_FILES);
			mmrefs_sleep_ms(r / NR_FILES % 3);
			continue;
		}
		read_one(r % NR_FILES, r / NR_FILES, buf);
		/* the churn needs the (TCG) CPU more than we do */
		mmrefs_sleep_ms(4 + r / NR_FILES % 16);
	}
	free(buf);
	return NULL;
}

/*
 * filter and enable: only valid values, so only module-out errors (and
 * enable=0's EBUSY while a watch is armed).
 */
static void *filter_writer(void *arg)
{
	unsigned int seed = (unsigned long)arg;
	enum target t;
	char cmd[64];
	unsigned int r;
	int err;

	while (!load_flag(stop_io)) {
		r = rand_r(&seed);
		t = W_FILTER;
		switch (r % 9) {
		case 0:
		case 1:
			snprintf(cmd, sizeof(cmd), "all");
			break;
		case 2:
			snprintf(cmd, sizeof(cmd), "tgid=%d", getpid());
			break;
		case 3:
			snprintf(cmd, sizeof(cmd), "tgid=%d",
				 sleepers[(r / 9) % SLEEPERS]);
			break;
		case 4:
			snprintf(cmd, sizeof(cmd), "comm=stress_target\n");
			break;
		case 5:
			snprintf(cmd, sizeof(cmd), "comm=mmrefs_stress");
			break;
		case 6:
			t = W_ENABLE;
			snprintf(cmd, sizeof(cmd), "0");
			break;
		default:
			t = W_ENABLE;
			snprintf(cmd, sizeof(cmd), "1\n");
			break;
		}
		err = -write_mmrefs(targets[t].path, cmd);
		if (err == ENOENT)
			record_missing(t);
		else
			record(t, err, cmd);
		mmrefs_sleep_ms(1 + r % 5);
	}
	return NULL;
}

/* One watch command in its own open(); false if the file is not there. */
static bool watch_cmd(const char *fmt, int arg, int *outcome)
{
	char cmd[32];
	int err;

	snprintf(cmd, sizeof(cmd), fmt, arg);
	err = -write_mmrefs(MMREFS_WATCH, cmd);
	if (err == ENOENT) {
		record_missing(W_WATCH);
		return false;
	}
	*outcome = record(W_WATCH, err, cmd);
	return true;
}

/*
 * A session of watch commands.  An open file of mmrefs pins the module
 * (debugfs holds a module reference while a file is open), so with stats
 * held open every command of the session reaches the same load, and the
 * session's model of what is armed holds: it disarms only pids it armed.
 * Some sessions end with pids armed, so unloads meet armed watches.
 */
static void watch_session(unsigned int *seed)
{
	pid_t armed[8], target;
	int pin, i, j, n, nr = 0, o;
	unsigned int r;

	pin = open_mmrefs(MMREFS_STATS);
	if (pin < 0) {
		if (errno == ENOENT)
			record_missing(W_WATCH);
		else
			record(W_WATCH, errno, "(pinning stats open)");
		return;
	}
	if (!watch_cmd("clear", 0, &o))
		goto out;
	n = 2 + rand_r(seed) % 6;
	for (i = 0; i < n; i++) {
		r = rand_r(seed);
		switch (r % 6) {
		case 0:
		case 1:
			target = r % 4 ? sleepers[(r / 6) % SLEEPERS] : getpid();
			if (!watch_cmd("pid=%d", target, &o))
				goto out;
			if (o == OUT_OK && nr < (int)ARRAY_SIZE(armed))
				armed[nr++] = target;
			break;
		case 2:
			if (!nr)
				break;
			j = (r / 6) % nr;
			if (!watch_cmd("-pid=%d", armed[j], &o))
				goto out;
			if (o == OUT_OK)
				armed[j] = armed[--nr];
			break;
		case 3:
			/* kthreadd has no mm: ESRCH */
			if (!watch_cmd("pid=%d", 2, &o))
				goto out;
			break;
		case 4:
			/* above any pid_max: no such task */
			if (!watch_cmd("pid=%d", 4194304 + 1, &o))
				goto out;
			break;
		default:
			if (!watch_cmd("clear", 0, &o))
				goto out;
			if (o == OUT_OK)
				nr = 0;
			break;
		}
	}
out:
	close(pin);
}

static void *watch_writer(void *arg)
{
	unsigned int seed = (unsigned long)arg;

	int o;

	while (!load_flag(stop_io)) {
		/* no session pinning mmrefs while the loader wants it out */
		if (load_flag(unload_wanted)) {
			watch_cmd("clear", 0, &o);
			mmrefs_sleep_ms(1 + rand_r(&seed) % 3);
			continue;
		}
		watch_session(&seed);
		mmrefs_sleep_ms(2 + rand_r(&seed) % 8);
	}
	return NULL;
}

/* Whole file into buf (NUL-terminated); its length or -errno. */
static long read_text(const char *path, char *buf, size_t size)
{
	return mmrefs_read_into(path, buf, size);
}

/* Each line of text in turn, copied into line; NULL at the end. */
static const char *next_line(const char *p, char *line, size_t len)
{
	size_t n;

	if (!p || !*p)
		return NULL;
	n = strcspn(p, "\n");
	snprintf(line, len, "%.*s", (int)n, p);
	return p[n] ? p + n + 1 : p + n;
}

static unsigned long field_ul(const char *line, const char *key)
{
	long v = mmrefs_field(line, key);

	return v == MMREFS_FIELD_MISSING || v < 0 ? 0 : v;
}

/* mmrefs' stats (format: README, debugfs reference); 0 or -errno. */
static int read_stats(char *buf, size_t size, struct mstats *s)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "events", offsetof(struct mstats, events) },
		{ "filtered", offsetof(struct mstats, filtered) },
		{ "lost_table_full", offsetof(struct mstats, table_full) },
		{ "lost_alloc", offsetof(struct mstats, alloc) },
		{ "alloc_failed", offsetof(struct mstats, alloc_failed) },
		{ "untracked", offsetof(struct mstats, untracked) },
		{ "stale", offsetof(struct mstats, stale) },
		{ "mms", offsetof(struct mstats, mms) },
		{ "max_mms", offsetof(struct mstats, max_mms) },
		{ "mms_over_max", offsetof(struct mstats, over_max) },
	};
	char line[MMREFS_LINE_MAX], hook[32];
	const char *p = buf;
	unsigned long hits;
	long len;
	size_t k;

	memset(s, 0, sizeof(*s));
	len = read_text(MMREFS_STATS, buf, size);
	if (len < 0)
		return len;
	while ((p = next_line(p, line, sizeof(line)))) {
		if (!mmrefs_field_str(line, "hook", hook, sizeof(hook))) {
			hits = field_ul(line, "hits");
			s->hits += hits;
			s->missed += field_ul(line, "missed");
			if (!strcmp(hook, "mmput"))
				s->mmput_hits = hits;
			else if (!strcmp(hook, "__mmdrop"))
				s->free_hits = hits;
			continue;
		}
		for (k = 0; k < ARRAY_SIZE(keys); k++)
			if (mmrefs_field(line, keys[k].key) != MMREFS_FIELD_MISSING)
				*(unsigned long *)((char *)s + keys[k].off) =
					field_ul(line, keys[k].key);
	}
	return 0;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/*
 * Rows of mms, each checked (known state, no negative counter, ids
 * unique); -1 if the file could not be read or a row is wrong.
 */
static long mms_rows(char *buf, size_t size, long *ids, long max_ids)
{
	char line[MMREFS_LINE_MAX], state[16];
	const char *p = buf;
	long rows = 0, i;

	if (read_text(MMREFS_MMS, buf, size) < 0) {
		fail("table check: cannot read mms: %s", strerror(errno));
		return -1;
	}
	while ((p = next_line(p, line, sizeof(line)))) {
		if (strncmp(line, "id=", 3))
			continue;
		if (mmrefs_field_str(line, "state", state, sizeof(state)) ||
		    (strcmp(state, "live") && strcmp(state, "torndown")) ||
		    mmrefs_field(line, "users") < 0 ||
		    mmrefs_field(line, "count") < 0) {
			fail("table check: bad mms row: %s", line);
			return -1;
		}
		if (rows < max_ids)
			ids[rows] = mmrefs_field(line, "id");
		rows++;
	}
	qsort(ids, rows < max_ids ? rows : max_ids, sizeof(*ids), cmp_long);
	for (i = 1; i < rows && i < max_ids; i++) {
		if (ids[i] == ids[i - 1]) {
			fail("table check: id=%ld appears twice in mms", ids[i]);
			return -1;
		}
	}
	return rows;
}

/*
 * With the churn paused and every CPU's lazy-TLB mm flushed, the table
 * holds still: stats' mms= before and after one read of mms must equal
 * the rows it shows.  A straggler (a lazy reference dropped late) moves
 * the count; try again.
 */
static void table_check(char *buf, size_t size, long *ids, long max_ids)
{
	struct mstats s1, s2;
	long rows = -1;
	int attempt;

	for (attempt = 0; attempt < 20; attempt++) {
		if (attempt) {
			count(C_TABLE_RETRIES, 1);
			mmrefs_sleep_ms(10);
		}
		mmrefs_flush_lazy();
		if (read_stats(buf, size, &s1)) {
			fail("table check: cannot read stats");
			return;
		}
		rows = mms_rows(buf, size, ids, max_ids);
		if (rows < 0)
			return;
		if (read_stats(buf, size, &s2)) {
			fail("table check: cannot read stats");
			return;
		}
		if (s1.mms != s2.mms || (unsigned long)rows != s1.mms)
			continue;
		/*
		 * Only a watch gets an entry past max_mms, and it keeps it
		 * until its mm is freed: armed again and again while the
		 * table is full, watches take it further past.
		 */
		if (s1.mms > s1.max_mms + s1.over_max)
			fail("table check: %lu mms tracked, max_mms=%lu, mms_over_max=%lu",
			     s1.mms, s1.max_mms, s1.over_max);
		count(C_TABLE_CHECKS, 1);
		return;
	}
	fail("table check: stats says mms=%lu then %lu, mms shows %ld rows",
	     s1.mms, s2.mms, rows);
}

static int load_mmrefs(const char *params)
{
	return mmrefs_load_module(mmrefs_ko, params);
}

/*
 * Unload, reading stats right before each attempt: the last read is what
 * this load counted.  An open file of mmrefs makes delete_module() fail
 * with EAGAIN (EWOULDBLOCK); readers back off while unload_wanted is set.
 */
static int unload_mmrefs(char *buf, size_t size, struct mstats *s)
{
	unsigned long long deadline = now_ms() + UNLOAD_WAIT_MS * slow;
	int err;

	set_flag(unload_wanted, 1);
	for (;;) {
		err = read_stats(buf, size, s);
		if (err) {
			fail("stats unreadable before unload: %s", strerror(-err));
			break;
		}
		pthread_rwlock_wrlock(&unload_lock);
		err = mmrefs_unload_module("mmrefs");
		pthread_rwlock_unlock(&unload_lock);
		if (err != -EAGAIN && err != -EBUSY)
			break;
		count(C_UNLOAD_BUSY, 1);
		if (now_ms() > deadline) {
			fail("mmrefs still busy after %u ms of unload attempts",
			     UNLOAD_WAIT_MS * slow);
			break;
		}
		mmrefs_sleep_ms(1);
	}
	set_flag(unload_wanted, 0);
	if (err)
		fail("unload: %s", strerror(-err));
	return err;
}

static void add_stats(const struct mstats *s)
{
	totals.events += s->events;
	totals.filtered += s->filtered;
	totals.table_full += s->table_full;
	totals.alloc += s->alloc;
	totals.alloc_failed += s->alloc_failed;
	totals.untracked += s->untracked;
	totals.stale += s->stale;
	totals.hits += s->hits;
	totals.missed += s->missed;
}

/* The mmrefs_mm cache has SLAB_FAILSLAB (slub_debug=A,mmrefs_mm). */
static bool failslab_marked(void)
{
	char buf[8];

	return mmrefs_read_into(SLAB_FAILSLAB, buf, sizeof(buf)) > 0 &&
	       buf[0] == '1';
}

static void *loader(void *arg)
{
	const long max_ids = 1 << 20;
	unsigned long long t0, t;
	const char *params;
	unsigned long cycle;
	bool churned;
	struct mstats s;
	long *ids;
	char *buf;
	int err;

	/*
	 * A load or unload needs little CPU (0.3 to 0.5 s under TCG) but
	 * waits behind the churn for it: nice -20 keeps cycles near 2 s.
	 */
	if (setpriority(PRIO_PROCESS, syscall(SYS_gettid), -20))
		fail("%s: setpriority: %s", __func__, strerror(errno));
	buf = malloc(BIG_BUF);
	ids = malloc(max_ids * sizeof(*ids));
	if (!buf || !ids) {
		fail("%s: out of memory", __func__);
		return NULL;
	}
	for (cycle = 0; !load_flag(stop_loader); cycle++) {
		t0 = t_start + cycle * CYCLE_MS;
		if (t0 < now_ms())
			t0 = now_ms();
		params = load_params[cycle % ARRAY_SIZE(load_params)];
		churned = !load_flag(sh->stop_churn);
		t = now_ms();
		err = load_mmrefs(params);
		phase_done(PH_LOAD, t);
		if (err) {
			fail("load %s (%s): %s", mmrefs_ko, params, strerror(-err));
			break;
		}
		count(C_LOADS, 1);
		if (failslab && !failslab_marked())
			fail("%s is not 1: boot with slab_nomerge slub_debug=A,mmrefs_mm",
			     SLAB_FAILSLAB);
		err = mmrefs_write_file(TRACE_ENABLE, "1");
		if (err)
			fail("%s: %s", TRACE_ENABLE, strerror(-err));
		else
			count(C_TRACE_ON, 1);

		/* behind schedule (a slow load), still stay loaded a while */
		sleep_until(t0 + LOADED_MS > now_ms() + MIN_LOADED_MS ?
			    t0 + LOADED_MS : now_ms() + MIN_LOADED_MS);
		t = now_ms();
		gate_close();
		table_check(buf, BIG_BUF, ids, max_ids);
		gate_open();
		phase_done(PH_CHECK, t);

		t = now_ms();
		if (unload_mmrefs(buf, BIG_BUF, &s))
			break;
		phase_done(PH_UNLOAD, t);
		count(C_UNLOADS, 1);
		churned = churned && !load_flag(sh->stop_churn);
		/* seeding alone records events: never zero */
		if (!s.events && !s.filtered)
			fail("cycle %lu: stats shows no events and none filtered",
			     cycle);
		if (churned && (!s.mmput_hits || !s.free_hits))
			fail("cycle %lu: churn ran, yet mmput hits=%lu __mmdrop hits=%lu",
			     cycle, s.mmput_hits, s.free_hits);
		add_stats(&s);
		__atomic_fetch_add(&cycles_done, 1, __ATOMIC_RELEASE);
		sleep_until(t0 + CYCLE_MS);
	}
	free(ids);
	free(buf);
	return NULL;
}

/* Long-lived processes: watch targets, and more mms than max_mms=64. */
static void spawn_sleepers(void)
{
	int i;

	for (i = 0; i < SLEEPERS; i++) {
		sleepers[i] = fork();
		if (sleepers[i] < 0) {
			fail("fork sleeper: %s", strerror(errno));
			sleepers[i] = 0;
			continue;
		}
		if (!sleepers[i]) {
			prctl(PR_SET_NAME, "stress_sleeper");
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
	}
}

static void reap_sleepers(void)
{
	int i;

	for (i = 0; i < SLEEPERS; i++) {
		if (sleepers[i] <= 0)
			continue;
		kill(sleepers[i], SIGKILL);
		waitpid(sleepers[i], NULL, 0);
	}
}

static void print_tally(const char *prefix, enum target t)
{
	int o;

	printf("%s%s:", prefix, targets[t].name);
	for (o = 0; o < NR_OUTCOMES; o++)
		if (sh->tally[t][o])
			printf(" %s=%lu", outcome_names[o], sh->tally[t][o]);
	printf("\n");
}

static unsigned long tally_sum(enum target t)
{
	unsigned long sum = 0;
	int o;

	for (o = 0; o < NR_OUTCOMES; o++)
		sum += sh->tally[t][o];
	return sum;
}

static unsigned long processes(void)
{
	return counter(C_FORK) + counter(C_VFORK_EXEC) + counter(C_CLONE_VM);
}

static unsigned long min_cycles(void)
{
	unsigned long n = duration_ms / CYCLE_MS;

	return n < 30 ? 30 : n;
}

static bool minimums_reached(void)
{
	if (no_module)
		return true;
	return processes() >= MIN_PROCS / slow &&
	       counter(C_THREADS) >= MIN_THREADS / slow &&
	       __atomic_load_n(&sh->tally[B_GRAB][OUT_OK], __ATOMIC_RELAXED) >=
	       MIN_BORROWS / slow &&
	       __atomic_load_n(&sh->tally[B_GET][OUT_OK], __ATOMIC_RELAXED) >=
	       MIN_BORROWS / slow &&
	       __atomic_load_n(&cycles_done, __ATOMIC_ACQUIRE) >= min_cycles();
}

static void progress(void)
{
	printf("mmrefs_stress: t=%llu s processes=%lu threads=%lu grab=%lu get=%lu cycles=%lu\n",
	       elapsed_ms() / 1000, processes(), counter(C_THREADS),
	       sh->tally[B_GRAB][OUT_OK], sh->tally[B_GET][OUT_OK],
	       __atomic_load_n(&cycles_done, __ATOMIC_ACQUIRE));
	fflush(stdout);
}

/* One report line, prefixed like every line of ours. */
static void say(const char *fmt, ...)
{
	va_list ap;

	printf("mmrefs_stress: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static bool check(bool ok, const char *why)
{
	if (!ok)
		say("FAIL: %s", why);
	return ok;
}

static void report_churn(void)
{
	say("ran %llu.%llu s, %s, mmrefs %s", elapsed_ms() / 1000,
	    elapsed_ms() % 1000 / 100,
	    failslab ? "failslab on" : "no fault injection",
	    no_module ? "never loaded (warm-up)" : "loaded and unloaded in cycles");
	say("processes churned %lu: fork %lu (%lu read /proc/self/maps),",
	    processes(), counter(C_FORK), counter(C_MAPS_READS));
	say("  vfork+exec %lu, clone(CLONE_VM) %lu", counter(C_VFORK_EXEC),
	    counter(C_CLONE_VM));
	say("threads %lu (created and joined by a worker)", counter(C_THREADS));
	print_tally("mmrefs_stress: ", B_GRAB);
	print_tally("mmrefs_stress: ", B_GET);
	print_tally("mmrefs_stress: ", B_RELEASE);
	say("borrow owners exited while borrowed %lu, release all %lu",
	    counter(C_EXIT_WHILE_BORROWED), counter(C_RELEASE_ALL));
}

static void report_io(void)
{
	unsigned long reads = 0, na;
	int t;

	say("unload cycles %lu (loads %lu, unloads %lu, trace event on %lu)",
	    cycles_done, counter(C_LOADS), counter(C_UNLOADS),
	    counter(C_TRACE_ON));
	say("  unloads refused (EAGAIN) while a file was open: %lu",
	    counter(C_UNLOAD_BUSY));
	for (t = 0; t < NR_PHASES; t++)
		say("  %s: avg %llu ms, max %llu ms", phase_names[t],
		    cycles_done ? phase_sum[t] / cycles_done : 0,
		    phase_max[t]);
	for (t = 0; t < NR_FILES; t++)
		reads += tally_sum(t);
	say("reader reads %lu (%lu bytes, %lu rewinds), of which %lu were",
	    reads, counter(C_READ_BYTES), counter(C_REWINDS),
	    counter(C_PROBES));
	say("  open-only probes while an unload was pending; per file:");
	for (t = 0; t < NR_FILES; t++)
		print_tally("mmrefs_stress:   ", t);
	print_tally("mmrefs_stress: ", W_FILTER);
	print_tally("mmrefs_stress: ", W_ENABLE);
	na = sh->tally[W_WATCH][OUT_NA];
	if (na && na == tally_sum(W_WATCH) - sh->tally[W_WATCH][OUT_ENOENT] -
			sh->tally[W_WATCH][OUT_ENXIO])
		say("watch: not available (no %s while mmrefs was loaded: %lu writes, %lu reads)",
		    MMREFS_WATCH, na, sh->tally[T_WATCH][OUT_NA]);
	else
		print_tally("mmrefs_stress: ", W_WATCH);
}

static void report_stats(void)
{
	say("stats over %lu loads: events=%lu filtered=%lu hook hits=%lu",
	    counter(C_UNLOADS), totals.events, totals.filtered, totals.hits);
	say("  losses: missed=%lu lost_table_full=%lu lost_alloc=%lu",
	    totals.missed, totals.table_full, totals.alloc);
	say("  alloc_failed=%lu untracked=%lu stale=%lu", totals.alloc_failed,
	    totals.untracked, totals.stale);
	say("table checks: %lu of %lu loads consistent (%lu retries)",
	    counter(C_TABLE_CHECKS), counter(C_LOADS),
	    counter(C_TABLE_RETRIES));
}

/* The report; true if the run passed. */
static bool report(void)
{
	bool pass = true;

	report_churn();
	if (no_module) {
		say("warm-up done");
		return !sh->failures;
	}
	report_io();
	report_stats();

	pass &= check(minimums_reached(),
		      "minimums not reached (processes, threads, borrows of each kind, cycles)");
	pass &= check(counter(C_TABLE_CHECKS) == counter(C_LOADS),
		      "a table check failed");
	/* the writer switches between recording all, a filter and enable=0 */
	pass &= check(totals.events && totals.filtered,
		      "stats should show recorded and filtered events");
	/* a lost mm's later events (its exit, its free) are untracked ones */
	pass &= check(!(totals.alloc + totals.table_full) || totals.untracked,
		      "mms were lost but no event counted untracked");
	pass &= check(!failslab || totals.alloc_failed,
		      "failslab on, yet no failed allocation shows (alloc_failed=0)");
	if (sh->failures)
		say("FAIL: %lu unexpected results (the first are above)",
		    sh->failures);
	return pass && !sh->failures;
}

/* `mmrefs_stress --child [thread]`: the vfork worker's exec target. */
static int child_main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[2], "thread") && run_threads(1) != 1)
		return 2;
	return 0;
}

static void bad_args(void)
{
	fprintf(stderr,
		"usage: mmrefs_stress [--duration S] [--failslab] [--slow N] [--mmrefs KO] [--no-module]\n");
	exit(2);
}

static pid_t workers[8];
static int nr_workers;

/* Run fn(arg) in a worker process of its own. */
static void spawn_worker(void *(*fn)(void *), unsigned long arg,
			 const char *name)
{
	pid_t pid = fork();

	if (pid < 0) {
		fail("fork %s: %s", name, strerror(errno));
		return;
	}
	if (!pid) {
		prctl(PR_SET_NAME, name);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fn((void *)arg);
		_exit(0);
	}
	workers[nr_workers++] = pid;
}

static int shared_init(void)
{
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return -1;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&sh->out_lock, &ma);
	pthread_mutex_init(&sh->gate_lock, &ma);
	pthread_cond_init(&sh->gate_cond, &ca);
	return 0;
}

int main(int argc, char **argv)
{
	static char exe[4096];
	pthread_rwlockattr_t ra;
	pthread_t io[5], load;
	int nio = 0, i, err = 0;
	unsigned long long next_progress;
	ssize_t n;

	if (argc > 1 && !strcmp(argv[1], "--child"))
		return child_main(argc, argv);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--duration") && i + 1 < argc)
			duration_ms = strtol(argv[++i], NULL, 10) * 1000;
		else if (!strcmp(argv[i], "--mmrefs") && i + 1 < argc)
			mmrefs_ko = argv[++i];
		else if (!strcmp(argv[i], "--slow") && i + 1 < argc)
			slow = strtoul(argv[++i], NULL, 10) ?: 1;
		else if (!strcmp(argv[i], "--failslab"))
			failslab = true;
		else if (!strcmp(argv[i], "--no-module"))
			no_module = true;
		else
			bad_args();
	}
	if (duration_ms <= 0)
		bad_args();
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&unload_lock, &ra);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		perror("/proc/self/exe");
		return 1;
	}
	exe[n] = '\0';
	self_exe = exe;
	if (access(BORROW_CONTROL, W_OK)) {
		printf("mmrefs_stress: FAIL: %s missing: load mmrefs_borrow.ko first\n",
		       BORROW_CONTROL);
		return 1;
	}
	if (!no_module && !access(MMREFS_DIR, F_OK)) {
		printf("mmrefs_stress: FAIL: mmrefs is loaded already; the loader must own it\n");
		return 1;
	}
	if (shared_init()) {
		perror("mmap");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	prctl(PR_SET_NAME, "mmrefs_stress");
	t_start = now_ms();
	/* processes first, while this one has a single thread */
	spawn_sleepers();
	spawn_worker(fork_worker, 1, "stress_fork");
	spawn_worker(fork_worker, 2, "stress_fork");
	spawn_worker(fork_worker, 8, "stress_fork");
	spawn_worker(vfork_worker, 3, "stress_vfork");
	spawn_worker(thread_worker, 4, "stress_threads");
	spawn_worker(thread_worker, 5, "stress_threads");
	spawn_worker(borrow_worker, 6, "stress_borrow");
	spawn_worker(borrow_worker, 7, "stress_borrow");
	if (!no_module) {
		err |= pthread_create(&io[nio++], NULL, reader, (void *)7UL);
		err |= pthread_create(&io[nio++], NULL, reader, (void *)8UL);
		err |= pthread_create(&io[nio++], NULL, reader, (void *)9UL);
		err |= pthread_create(&io[nio++], NULL, filter_writer, (void *)10UL);
		err |= pthread_create(&io[nio++], NULL, watch_writer, (void *)11UL);
		err |= pthread_create(&load, NULL, loader, NULL);
	}
	if (err) {
		printf("mmrefs_stress: FAIL: cannot start the threads\n");
		return 1;
	}

	next_progress = 10000;
	for (;;) {
		mmrefs_sleep_ms(100);
		if (elapsed_ms() >= next_progress) {
			progress();
			next_progress += 10000;
		}
		if (sh->failures)
			break;
		if (elapsed_ms() >= (unsigned long long)duration_ms &&
		    minimums_reached())
			break;
		if (elapsed_ms() >= (unsigned long long)duration_ms * stretch()) {
			printf("mmrefs_stress: minimums not reached after %ld s, stopping\n",
			       duration_ms * stretch() / 1000);
			break;
		}
	}

	/* churn first; the loader then ends with mmrefs unloaded */
	set_flag(sh->stop_churn, 1);
	for (i = 0; i < nr_workers; i++)
		reap(workers[i], "worker");
	if (!no_module) {
		set_flag(stop_loader, 1);
		pthread_join(load, NULL);
	}
	set_flag(stop_io, 1);
	for (i = 0; i < nio; i++)
		pthread_join(io[i], NULL);
	err = borrow_cmd("release all");
	if (err)
		fail("final release all: %s", strerror(-err));
	reap_sleepers();

	if (report()) {
		printf("mmrefs_stress: PASS\n");
		return 0;
	}
	printf("mmrefs_stress: FAIL\n");
	return 1;
}
