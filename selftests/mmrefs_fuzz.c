// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile input for every writable debugfs file: mmrefs' filter, enable,
 * watch and holders, and the borrower's control. Malformed, oversized,
 * binary (NUL bytes included), partial (a prefix of a command), offset
 * (pwrite, or a seek first), bad-buffer and valid writes, then the same
 * from several threads and processes at once while others read every
 * file.
 *
 * A model of each file's parser (the interface spec in README.md and the
 * borrower's header comment) predicts every write's result: EINVAL for
 * anything that is not a command, EFAULT for a buffer the kernel cannot
 * read, ESPIPE for pwrite (every file is a seq_file), for the borrower
 * ENOENT (release of a pid it holds nothing but leaks of), ESRCH (no mm)
 * and EBUSY (32 borrows, leaks included), and for watch ESRCH (no such
 * task, no mm, or -pid=N of no watch), EEXIST (that mm is already
 * watched) and ENOSPC (every slot in use). A write is accepted only if it
 * is a valid command, and whole. After each write of the single-writer
 * tests the file is read back: a rejected write leaves the state
 * unchanged, an accepted one sets what it says.
 *
 * watch arms hardware watchpoints on the mm of the pid it is given, so the
 * fuzzer arms only mms it owns: its waiters, and a process of two tasks
 * (leader and thread share one mm: EEXIST through the other pid, and
 * -pid=N must name the pid the watch was armed with). Any other pid a
 * mutation makes is checked in /proc first: no such task or a kernel
 * thread is ESRCH; a user task (init, the fuzzer itself: busy mms that
 * would trap on every context switch) is never written.
 *
 * holders selects which mms it shows (all, mm=ID or tgid=N); its read-back
 * checks every block's header against the selection, and that the mms the
 * fuzzer knows (its own, its waiters') are shown when selected.
 *
 * The borrower's leak PID is a grab only unloading the module gives back,
 * so the model counts leaks and, at LEAK_CAP of them and at the end of
 * the control test (and in the teardown, if any is left), unloads and
 * reloads mmrefs_borrow ($MMREFS_BORROW_KO) and checks the list is empty.
 * The concurrent test never leaks.
 *
 * The PRNG is seeded from MMREFS_FUZZ_SEED (default below) and each test
 * derives its own stream from it, so any failure replays with the seed it
 * prints.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "mmrefs_util.h"

/*
 * A "# " line on stdout, flushed now: a test runs in a child that ends
 * with _exit(), which would drop whatever stdio still buffers (run.sh
 * pipes stdout, so it is fully buffered).
 */
#define note(...) do {				\
	ksft_print_msg(__VA_ARGS__);		\
	fflush(stdout);				\
} while (0)

#define FUZZ_SEED_DEFAULT	0x6d6d72656673ULL	/* "mmrefs" */

/* Writes per single-writer test, then per concurrent writer. */
#define FILTER_WRITES		36000
#define ENABLE_WRITES		32000
#define BORROW_WRITES		32000
#define WATCH_WRITES		16000
#define HOLDERS_WRITES		12000
#define CONC_WRITES		1500
#define CONC_THREADS_PER_FILE	2
#define CONC_PROCS		2
#define CONC_SECONDS		20
#define TOTAL_WRITES_MIN	128000

/* The kernel's buffers: anything this long or longer is EINVAL. */
#define FILTER_SIZE		32	/* filter_write() */
#define FILTER_WORD		24	/* mmrefs_filter_set(): TASK_COMM_LEN + 8 */
#define ENABLE_SIZE		8	/* enable_write() */
#define BORROW_SIZE		64	/* BORROW_CMD_MAX */
#define BORROW_MAX		32
#define WATCH_SIZE		32	/* watch_write() */
#define WATCH_WORD		24	/* mmrefs_watch_command() */
#define WATCH_SLOTS_MAX		4	/* HBP_NUM: one register per mm at most */
#define HOLDERS_SIZE		32	/* holders_write() */
#define COMM_MAX		15	/* TASK_COMM_LEN - 1 */

/* A hold this long outlives any test; shorter ones are released at once. */
#define HOLD_STABLE_MS		30000
/* Release everything before a default 10 s hold could expire. */
#define BORROW_MAX_AGE_MS	4000
#define BORROW_MODEL_CAP	8
/* Leaks the model lets pile up before it reloads the borrower. */
#define LEAK_CAP		4

#define PAGE			4096
#define INPUT_MAX		(3 * PAGE + 64)
#define SCRATCH_PAGES		4
#define NR_WAITERS		4
#define MAX_LOGGED		20
#define KERNEL_ADDR		0xffffffff81000000UL
#define PF_KTHREAD		0x00200000	/* /proc/PID/stat flags */

/* The pids the watch model knows an mm of: the waiters and a twin's two. */
#define NR_KNOWN		(NR_WAITERS + 2)
/* The mms the holders model knows: the waiters', then the fuzzer's own. */
#define NR_OWN_MMS		(NR_WAITERS + 1)
/* An mm id no mm has: ids count up from 1 and are never reused. */
#define NO_MM_ID		1000000000000000000ULL

#define MMREFS_HOLDERS		MMREFS_DIR "/holders"

enum fuzz_file { F_FILTER, F_ENABLE, F_BORROW, F_WATCH, F_HOLDERS, NR_FILES };

static const char * const file_path[NR_FILES] = {
	[F_FILTER] = MMREFS_FILTER,
	[F_ENABLE] = MMREFS_ENABLE,
	[F_BORROW] = BORROW_CONTROL,
	[F_WATCH] = MMREFS_WATCH,
	[F_HOLDERS] = MMREFS_HOLDERS,
};

static const char * const file_name[NR_FILES] = {
	[F_FILTER] = "filter", [F_ENABLE] = "enable", [F_BORROW] = "control",
	[F_WATCH] = "watch", [F_HOLDERS] = "holders",
};

static const size_t file_limit[NR_FILES] = {
	[F_FILTER] = FILTER_SIZE, [F_ENABLE] = ENABLE_SIZE,
	[F_BORROW] = BORROW_SIZE, [F_WATCH] = WATCH_SIZE,
	[F_HOLDERS] = HOLDERS_SIZE,
};

/* An mm the fuzzer owns: its id in mms and its tgid. */
struct own_mm {
	unsigned long long id;
	pid_t tgid;
};

/* How the bytes reach the kernel. */
enum delivery {
	D_WRITE,	/* write(2) at file position 0 */
	D_PWRITE,	/* pwrite(2) at a nonzero (or negative) offset */
	D_SEEK,		/* lseek(2) away from 0, then write(2) */
	D_NULL,		/* buffer at address 0 */
	D_HOLE,		/* buffer in a PROT_NONE page */
	D_STRADDLE,	/* buffer running from mapped memory into PROT_NONE */
	D_KERNEL,	/* buffer at a kernel address */
};

static const char * const delivery_name[] = {
	"write", "pwrite", "seek+write", "null", "hole", "straddle", "kernel",
};

/* Counted over every test and process: one shared anonymous page. */
struct fuzz_totals {
	unsigned long writes[NR_FILES];
	unsigned long accepted, einval, efault, espipe, enoent, esrch, ebusy;
	unsigned long eexist, enospc;
	unsigned long reads;
};

static struct fuzz_totals *totals;

static void __attribute__((constructor)) fuzz_totals_init(void)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	totals = p == MAP_FAILED ? NULL : p;
}

static void count(unsigned long *counter, unsigned long n)
{
	__atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long fuzz_seed(void)
{
	const char *s = getenv("MMREFS_FUZZ_SEED");

	return s ? strtoull(s, NULL, 0) : FUZZ_SEED_DEFAULT;
}

/* splitmix64: small, fast and the same everywhere. */
struct rng {
	unsigned long long s;
};

static unsigned long long rnd(struct rng *r)
{
	unsigned long long z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int below(struct rng *r, unsigned int n)
{
	return n ? rnd(r) % n : 0;
}

static void rng_init(struct rng *r, unsigned long long stream)
{
	r->s = fuzz_seed() ^ (stream * 0xd1342543de82ef95ULL);
	rnd(r);
}

/* One write: its bytes and how they are delivered. */
struct input {
	char data[INPUT_MAX];
	size_t len;
	enum delivery how;
	long long off;
	const char *kind;
};

/* The expected result: 0 (accepted) or -errno; any of up to three. */
struct expect {
	int a, b, c;
};

static struct expect any_of(int a, int b, int c)
{
	struct expect e = { a, b, c };

	return e;
}

static struct expect either(int a, int b)
{
	return any_of(a, b, b);
}

static struct expect exactly(int r)
{
	return either(r, r);
}

/* What holders shows: every mm, the one mm=ID or the mms of tgid=N. */
enum holders_kind { H_BAD, H_ALL, H_MM, H_TGID };

struct holders_sel {
	enum holders_kind kind;
	unsigned long long val;		/* the id or the tgid */
};

/*
 * State shared by the generator, the model and the checks of one writer.
 * Single-writer tests also keep the borrower's list here.
 */
struct fuzzer {
	struct rng rng;
	enum fuzz_file file;
	bool concurrent;		/* valid commands only from a fixed set */
	const pid_t *waiters;
	pid_t pid_max;
	unsigned int max_hold;
	char *scratch;			/* SCRATCH_PAGES RW, then a guard page */
	char *hole;			/* the guard page */
	unsigned long failures, logged;
	unsigned long writes, accepted;
	/* borrower model: held borrows in list order, nleaks of them leaks */
	int nb, nleaks;
	pid_t b_pid[64];
	char b_mode[64][8];
	double b_born[64];
	/* watch model: known pids and their mms, then each slot's pid */
	pid_t known[NR_KNOWN];
	int known_mm[NR_KNOWN];
	int nknown;
	pid_t dead;			/* a reaped child: no such task */
	int w_slots, w_stack;
	pid_t w_pid[WATCH_SLOTS_MAX];	/* 0: free */
	int w_mm[WATCH_SLOTS_MAX];
	/* holders model: the selection, and the mms the fuzzer owns */
	struct holders_sel h_sel;
	struct own_mm own[NR_OWN_MMS];
};

/*
 * _kstrtoull(s, 10) over the whole string (lib/kstrtox.c): decimal
 * digits, one optional trailing newline. Overflow is -ERANGE, and is
 * found before the end of the string is looked at.
 */
static int k_parse_ull(const char *s, unsigned long long *res)
{
	unsigned long long v = 0;
	const char *p;
	bool over = false;

	for (p = s; *p >= '0' && *p <= '9'; p++) {
		if (v > (ULLONG_MAX - (*p - '0')) / 10)
			over = true;
		v = v * 10 + (*p - '0');
	}
	if (over)
		return -ERANGE;
	if (p == s)
		return -EINVAL;
	if (*p == '\n')
		p++;
	if (*p)
		return -EINVAL;
	*res = v;
	return 0;
}

/* kstrtoull(s, 10): an optional '+', then the above. */
static int k_strtoull(const char *s, unsigned long long *res)
{
	return k_parse_ull(*s == '+' ? s + 1 : s, res);
}

/* kstrtouint(s, 10): -ERANGE above UINT_MAX. */
static int k_strtouint(const char *s, unsigned int *res)
{
	unsigned long long v;
	int err = k_strtoull(s, &v);

	if (!err && v > UINT_MAX)
		err = -ERANGE;
	if (!err)
		*res = v;
	return err;
}

/* kstrtoint(s, 10): kstrtoll()'s '-' or '+', -ERANGE outside int. */
static int k_strtoint(const char *s, int *res)
{
	unsigned long long v;
	int err;

	if (*s == '-') {
		err = k_parse_ull(s + 1, &v);
		if (!err && v > (unsigned long long)INT_MAX + 1)
			err = -ERANGE;
		if (!err)
			*res = -(long long)v;
		return err;
	}
	err = k_strtoull(s, &v);
	if (!err && v > INT_MAX)
		err = -ERANGE;
	if (!err)
		*res = v;
	return err;
}

/* kstrtoint() that must give 1..INT_MAX (a pid, a tgid). */
static int k_pos_int(const char *s, int *res)
{
	unsigned long long v;

	if (*s == '-' || k_strtoull(s, &v) || !v || v > INT_MAX)
		return -EINVAL;
	*res = v;
	return 0;
}

/* What filter_write() does with buf: 0 and the value read back, or -EINVAL. */
static int model_filter(const char *in, size_t len, char *canon, size_t clen)
{
	char s[FILTER_SIZE], word[FILTER_WORD];
	const char *name;
	size_t l;
	int tgid;

	if (!len || len >= FILTER_SIZE || memchr(in, '\0', len))
		return -EINVAL;
	memcpy(s, in, len);
	s[len] = '\0';
	l = strcspn(s, "\n");
	if (!l || l >= FILTER_WORD || s[l + (s[l] == '\n')])
		return -EINVAL;
	memcpy(word, s, l);
	word[l] = '\0';

	if (!strcmp(word, "all")) {
		snprintf(canon, clen, "all\n");
		return 0;
	}
	if (!strncmp(word, "tgid=", 5)) {
		if (k_pos_int(word + 5, &tgid))
			return -EINVAL;
		snprintf(canon, clen, "tgid=%d\n", tgid);
		return 0;
	}
	if (!strncmp(word, "comm=", 5)) {
		name = word + 5;
		if (!*name || strlen(name) > COMM_MAX || strpbrk(name, " \t"))
			return -EINVAL;
		snprintf(canon, clen, "comm=%s\n", name);
		return 0;
	}
	return -EINVAL;
}

/* What enable_write() does: 0 and the value read back, or -EINVAL. */
static int model_enable(const char *in, size_t len, char *canon, size_t clen)
{
	unsigned long long v;
	char s[ENABLE_SIZE];

	if (!len || len >= ENABLE_SIZE || memchr(in, '\0', len))
		return -EINVAL;
	memcpy(s, in, len);
	s[len] = '\0';
	if (k_strtoull(s, &v) || v > 1)
		return -EINVAL;
	snprintf(canon, clen, "%llu\n", v);
	return 0;
}

enum borrow_kind { B_BAD, B_RELEASE_ALL, B_RELEASE, B_GRAB, B_GET, B_LEAK };

struct borrow_cmd {
	enum borrow_kind kind;
	int pid;
	unsigned long long hold;
	bool leak_word;		/* its first word is "leak", valid or not */
};

/*
 * The borrower's syntax (borrow_command()); semantics are up to the caller.
 * leak takes a pid and nothing else: "leak PID HOLD_MS" is EINVAL.
 */
static struct borrow_cmd model_borrow(const char *in, size_t len,
				      unsigned int max_hold)
{
	struct borrow_cmd c = { .kind = B_BAD, .hold = 10000 };
	char s[BORROW_SIZE], *argv[4], *tok, *p;
	enum borrow_kind kind;
	int argc = 0;

	/* one command of text: a NUL byte is not part of any */
	if (len >= BORROW_SIZE || memchr(in, '\0', len))
		return c;
	memcpy(s, in, len);
	s[len] = '\0';
	p = s;
	while ((tok = strsep(&p, " \t\n"))) {
		if (!*tok)
			continue;
		if (!argc)
			c.leak_word = !strcmp(tok, "leak");
		if (argc == 4)
			return c;
		argv[argc++] = tok;
	}
	if (argc < 2)
		return c;
	if (!strcmp(argv[0], "release")) {
		if (argc != 2)
			return c;
		if (!strcmp(argv[1], "all"))
			c.kind = B_RELEASE_ALL;
		else if (!k_pos_int(argv[1], &c.pid))
			c.kind = B_RELEASE;
		return c;
	}
	if (!strcmp(argv[0], "grab"))
		kind = B_GRAB;
	else if (!strcmp(argv[0], "get"))
		kind = B_GET;
	else if (!strcmp(argv[0], "leak"))
		kind = B_LEAK;
	else
		return c;
	if (argc > (kind == B_LEAK ? 2 : 3) || k_pos_int(argv[1], &c.pid))
		return c;
	if (argc == 3 && (argv[2][0] == '-' || k_strtoull(argv[2], &c.hold) ||
			  !c.hold || c.hold > max_hold))
		return c;
	c.kind = kind;
	return c;
}

enum watch_kind { W_BAD, W_CLEAR, W_STACK, W_ARM, W_DISARM };

struct watch_cmd {
	enum watch_kind kind;
	int pid;
	unsigned int stack;
};

/*
 * The watch file's syntax (copy_command(), mmrefs_watch_command()): one
 * word of at most 23 bytes and an optional newline, in a write of at most
 * 31 bytes. The numbers are kstrtoint()'s and kstrtouint()'s; a number
 * out of their range is no command either, so README's EINVAL (not
 * their -ERANGE) is the answer.
 */
static struct watch_cmd model_watch(const char *in, size_t len)
{
	struct watch_cmd c = { .kind = W_BAD };
	char s[WATCH_SIZE], word[WATCH_WORD];
	int err;
	size_t l;

	if (!len || len >= WATCH_SIZE || memchr(in, '\0', len))
		return c;
	memcpy(s, in, len);
	s[len] = '\0';
	l = strcspn(s, "\n");
	if (!l || l >= WATCH_WORD || s[l + (s[l] == '\n')])
		return c;
	memcpy(word, s, l);
	word[l] = '\0';

	if (!strcmp(word, "clear")) {
		c.kind = W_CLEAR;
	} else if (!strncmp(word, "stack=", 6)) {
		err = k_strtouint(word + 6, &c.stack);
		if (!err && c.stack <= 1)
			c.kind = W_STACK;
	} else if (!strncmp(word, "-pid=", 5) || !strncmp(word, "pid=", 4)) {
		err = k_strtoint(strchr(word, '=') + 1, &c.pid);
		if (!err && c.pid > 0)
			c.kind = word[0] == '-' ? W_DISARM : W_ARM;
	}
	return c;
}

/*
 * The holders file's syntax (copy_command(), holders_write()): one word
 * and an optional newline in a write of at most 31 bytes: all, mm=ID
 * (kstrtou64(), ID > 0) or tgid=N (kstrtoint(), N > 0). Anything else,
 * a number out of range included, is EINVAL.
 */
static struct holders_sel model_holders(const char *in, size_t len)
{
	struct holders_sel c = { .kind = H_BAD };
	char s[HOLDERS_SIZE];
	unsigned long long id;
	int tgid;
	size_t l;

	if (!len || len >= HOLDERS_SIZE || memchr(in, '\0', len))
		return c;
	memcpy(s, in, len);
	s[len] = '\0';
	l = strcspn(s, "\n");
	if (!l || s[l + (s[l] == '\n')])
		return c;
	s[l] = '\0';

	if (!strcmp(s, "all")) {
		c.kind = H_ALL;
	} else if (!strncmp(s, "mm=", 3)) {
		if (!k_strtoull(s + 3, &id) && id) {
			c.kind = H_MM;
			c.val = id;
		}
	} else if (!strncmp(s, "tgid=", 5)) {
		if (!k_strtoint(s + 5, &tgid) && tgid > 0) {
			c.kind = H_TGID;
			c.val = tgid;
		}
	}
	return c;
}

static bool is_waiter(const struct fuzzer *fz, pid_t pid)
{
	int i;

	for (i = 0; i < NR_WAITERS; i++)
		if (fz->waiters[i] == pid)
			return true;
	return false;
}

/* kthreadd has no mm; a pid above pid_max cannot exist. */
static bool has_no_mm(const struct fuzzer *fz, pid_t pid)
{
	return pid == 2 || pid > fz->pid_max;
}

/* Which of the mms the watch model knows pid has, or -1. */
static int known_mm(const struct fuzzer *fz, pid_t pid)
{
	int i;

	for (i = 0; i < fz->nknown; i++)
		if (fz->known[i] == pid)
			return fz->known_mm[i];
	return -1;
}

static ssize_t read_path(const char *path, char *buf, size_t size);

/*
 * A task the fuzzer does not own, as pid=N would find it: -ESRCH if there
 * is none or it is a kernel thread (no mm), 1 if it is a user task (or
 * the answer is not clear), which no write may arm.
 */
static int foreign_task(pid_t pid)
{
	char path[40], buf[512], *p;
	unsigned long flags;
	ssize_t n;

	/* a thread's tid has no /proc entry in the list, but opens */
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = read_path(path, buf, sizeof(buf));
	if (n == -ENOENT || n == -ESRCH)
		return -ESRCH;
	p = n > 0 ? strrchr(buf, ')') : NULL;
	/* state ppid pgrp session tty_nr tpgid flags */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return 1;
	return flags & PF_KTHREAD ? -ESRCH : 1;
}

/* ---- generator ---- */

static const char * const filter_tokens[] = {
	"all", "ALL", "tgid=", "comm=", "tgid", "comm", "=", "0", "1", "-1",
	"+", "+1", "007", "2147483647", "2147483648", "4294967297",
	"99999999999999999999", "0x10", " ", "\t", "\n", "\r", "", "mmr_fuzz",
	"fifteen_chars_x", "sixteen_chars_xy", "%n", "\xff",
};

static const char * const enable_tokens[] = {
	"0", "1", "2", "+", "-", "+1", "-1", "01", "00000001", " ", "\n", "\t",
	"x", "0x1", "on", "off", "10", "",
};

static const char * const borrow_tokens[] = {
	"grab", "get", "release", "all", "GRAB", "steal", "0", "-1", "+", "2",
	"4194305", "2147483648", "60000", "60001", "1", "99999999999", " ",
	"\t", "\n", "  ", "", "release all", "+0", "leak", "LEAK", "leaks",
};

static const char * const watch_tokens[] = {
	"pid=", "-pid=", "pid", "--pid=", "PID=", "clear", "CLEAR", "stack=",
	"stack", "=", "-", "+", "0", "1", "2", "-1", "+1", "007", "2147483647",
	"2147483648", "-2147483648", "4294967295", "4294967296",
	"99999999999999999999", "0x10", " ", "\t", "\n", "\r", "", "pid=2",
	"stack=1", "clear\n",
};

static const char * const holders_tokens[] = {
	"all", "ALL", "all\n", "mm=", "tgid=", "mm", "tgid", "id=", "pid=", "=",
	"-", "+", "0", "1", "2", "-1", "+1", "007", "2147483647", "2147483648",
	"-2147483648", "4294967296", "18446744073709551615",
	"18446744073709551616", "99999999999999999999", "0x10", " ", "\t",
	"\n", "\r", "", "mm=0", "tgid=0", "mm=1", "tgid=1",
};

static void append(struct input *in, const void *p, size_t n)
{
	if (in->len + n > INPUT_MAX)
		n = INPUT_MAX - in->len;
	memcpy(in->data + in->len, p, n);
	in->len += n;
}

static void append_str(struct input *in, const char *s)
{
	append(in, s, strlen(s));
}

static void appendf(struct input *in, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	append(in, buf, n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1);
}

/* One or two blanks of the borrower's separators. */
static void append_sep(struct fuzzer *fz, struct input *in)
{
	static const char * const seps[] = { " ", " ", "\t", "  ", " \t" };

	append_str(in, seps[below(&fz->rng, ARRAY_SIZE(seps))]);
}

static pid_t some_waiter(struct fuzzer *fz)
{
	return fz->waiters[below(&fz->rng, NR_WAITERS)];
}

/* A pid in one of its accepted spellings. */
static void append_pid(struct fuzzer *fz, struct input *in, pid_t pid)
{
	switch (below(&fz->rng, 8)) {
	case 0:
		appendf(in, "+%d", pid);
		break;
	case 1:
		appendf(in, "00%d", pid);
		break;
	default:
		appendf(in, "%d", pid);
	}
}

static void valid_filter(struct fuzzer *fz, struct input *in)
{
	unsigned int i, n;
	char c;

	if (fz->concurrent) {
		/* the readers know exactly these values */
		switch (below(&fz->rng, 3)) {
		case 0:
			append_str(in, "all");
			break;
		case 1:
			append_str(in, "tgid=");
			append_pid(fz, in, fz->waiters[0]);
			break;
		default:
			append_str(in, "comm=mmr_fuzz");
		}
	} else {
		switch (below(&fz->rng, 4)) {
		case 0:
			append_str(in, "all");
			break;
		case 1:
			append_str(in, "tgid=");
			append_pid(fz, in, below(&fz->rng, 2) ? some_waiter(fz) :
				   1 + below(&fz->rng, INT_MAX));
			break;
		case 2:
			/* any bytes but NUL, newline and blanks */
			append_str(in, "comm=");
			n = 1 + below(&fz->rng, COMM_MAX);
			for (i = 0; i < n; i++) {
				do {
					c = 1 + below(&fz->rng, 255);
				} while (c == '\n' || c == ' ' || c == '\t');
				append(in, &c, 1);
			}
			break;
		default:
			append_str(in, "comm=mmr_fuzz");
		}
	}
	if (below(&fz->rng, 2))
		append_str(in, "\n");
}

static void valid_enable(struct fuzzer *fz, struct input *in)
{
	static const char * const ok[] = {
		"0", "1", "0\n", "1\n", "+1", "+0\n", "01", "000001\n", "0000000",
	};

	append_str(in, ok[below(&fz->rng, ARRAY_SIZE(ok))]);
}

/*
 * Mostly grab and get; leak rarely (each one stays until the borrower is
 * reloaded), and never in the concurrent test.
 */
static void valid_borrow(struct fuzzer *fz, struct input *in)
{
	static const char * const cmds[] = { "grab", "get", "leak" };
	unsigned int r = below(&fz->rng, 40);

	if (below(&fz->rng, 4) == 0)
		append_sep(fz, in);
	if (r < 8) {
		append_str(in, "release");
		append_sep(fz, in);
		append_str(in, "all");
	} else if (r < 16) {
		append_str(in, "release");
		append_sep(fz, in);
		append_pid(fz, in, some_waiter(fz));
	} else if (r < 36 || fz->concurrent) {
		append_str(in, below(&fz->rng, 2) ? "grab" : "get");
		append_sep(fz, in);
		append_pid(fz, in, some_waiter(fz));
		if (below(&fz->rng, 2) && fz->max_hold >= HOLD_STABLE_MS) {
			append_sep(fz, in);
			appendf(in, "%u", HOLD_STABLE_MS +
				below(&fz->rng, fz->max_hold - HOLD_STABLE_MS + 1));
		}
	} else if (r < 38) {
		/* no mm: ESRCH */
		append_str(in, cmds[below(&fz->rng, ARRAY_SIZE(cmds))]);
		append_sep(fz, in);
		appendf(in, "%d", below(&fz->rng, 2) ? 2 : fz->pid_max + 1 +
			(int)below(&fz->rng, 1000));
	} else {
		append_str(in, "leak");
		append_sep(fz, in);
		append_pid(fz, in, some_waiter(fz));
		/* a leak takes no HOLD_MS: EINVAL */
		if (r == 39) {
			append_sep(fz, in);
			appendf(in, "%u", 1 + below(&fz->rng, fz->max_hold));
		}
	}
	if (below(&fz->rng, 3) == 0)
		append_str(in, "\n");
}

static pid_t some_known(struct fuzzer *fz)
{
	return fz->known[below(&fz->rng, fz->nknown)];
}

/* A pid with no task, or a task with no mm: ESRCH for pid=N. */
static pid_t some_gone(struct fuzzer *fz)
{
	unsigned int r = below(&fz->rng, 3);

	if (r == 0)
		return 2;
	if (r == 1 && fz->dead)
		return fz->dead;
	return fz->pid_max + 1 + below(&fz->rng, 1000);
}

static void valid_watch(struct fuzzer *fz, struct input *in)
{
	static const char * const stacks[] = {
		"stack=0", "stack=1", "stack=+1", "stack=00", "stack=0001",
	};
	/* not a pid nor a stack=: zero, negative, out of (unsigned) int */
	static const char * const nonpids[] = {
		"0", "+0", "-0", "-1", "-4242", "2147483648", "-2147483649",
		"4294967296", "+9223372036854775808", "-9223372036854775808",
		"18446744073709551616",
	};
	static const char * const cmds[] = { "pid=", "-pid=", "stack=" };
	unsigned int r = below(&fz->rng, 21), i;
	pid_t pid;

	if (r < 2) {
		append_str(in, "clear");
	} else if (r < 4) {
		append_str(in, stacks[below(&fz->rng, ARRAY_SIZE(stacks))]);
	} else if (r < 11) {
		append_str(in, "pid=");
		append_pid(fz, in, some_known(fz));
	} else if (r < 17) {
		/* mostly an armed pid, so that disarming wins often */
		pid = some_known(fz);
		i = below(&fz->rng, WATCH_SLOTS_MAX);
		if (!fz->concurrent && (int)i < fz->w_slots && fz->w_pid[i])
			pid = fz->w_pid[i];
		append_str(in, "-pid=");
		append_pid(fz, in, pid);
	} else if (r < 20) {
		append_str(in, r < 19 ? "pid=" : "-pid=");
		append_pid(fz, in, some_gone(fz));
	} else {
		append_str(in, cmds[below(&fz->rng, ARRAY_SIZE(cmds))]);
		append_str(in, nonpids[below(&fz->rng, ARRAY_SIZE(nonpids))]);
	}
	if (below(&fz->rng, 3) == 0)
		append_str(in, "\n");
}

/* A number in one of kstrtoull()'s spellings. */
static void append_num(struct fuzzer *fz, struct input *in,
		       unsigned long long v)
{
	switch (below(&fz->rng, 8)) {
	case 0:
		appendf(in, "+%llu", v);
		break;
	case 1:
		appendf(in, "00%llu", v);
		break;
	default:
		appendf(in, "%llu", v);
	}
}

static const struct own_mm *some_own_mm(struct fuzzer *fz)
{
	return &fz->own[below(&fz->rng, NR_OWN_MMS)];
}

/*
 * Mostly the mms the fuzzer owns, whose blocks the read-back must find;
 * all rarely, as it shows every mm. Concurrent writers select only what
 * their readers know: waiter 0's mm, waiter 1's tgid, or no mm at all.
 */
static void valid_holders(struct fuzzer *fz, struct input *in)
{
	/* not an id nor a tgid: zero, negative, out of range */
	static const char * const nonvalues[] = {
		"mm=0", "mm=+0", "mm=-1", "mm=-0", "mm=18446744073709551616",
		"mm=99999999999999999999", "tgid=0", "tgid=-1", "tgid=-0",
		"tgid=2147483648", "tgid=-2147483648", "tgid=4294967297",
	};
	unsigned int r = below(&fz->rng, 20);

	if (fz->concurrent) {
		switch (below(&fz->rng, 3)) {
		case 0:
			append_str(in, "mm=");
			append_num(fz, in, fz->own[0].id);
			break;
		case 1:
			append_str(in, "tgid=");
			append_pid(fz, in, fz->own[1].tgid);
			break;
		default:
			append_str(in, "mm=");
			append_num(fz, in, NO_MM_ID);
		}
	} else if (r < 2) {
		append_str(in, "all");
	} else if (r < 8) {
		append_str(in, "mm=");
		append_num(fz, in, some_own_mm(fz)->id);
	} else if (r < 10) {
		/* the kernel's own (init is mm 1), or none */
		append_str(in, "mm=");
		append_num(fz, in, below(&fz->rng, 2) ? 1 + below(&fz->rng, 64) :
			   rnd(&fz->rng) | 1ULL << 63);
	} else if (r < 15) {
		append_str(in, "tgid=");
		append_pid(fz, in, some_own_mm(fz)->tgid);
	} else if (r < 17) {
		append_str(in, "tgid=");
		append_pid(fz, in, below(&fz->rng, 2) ? 1 + below(&fz->rng, 200) :
			   1 + below(&fz->rng, INT_MAX));
	} else {
		append_str(in, nonvalues[below(&fz->rng, ARRAY_SIZE(nonvalues))]);
	}
	if (below(&fz->rng, 2))
		append_str(in, "\n");
}

static void valid_cmd(struct fuzzer *fz, struct input *in)
{
	if (fz->file == F_FILTER)
		valid_filter(fz, in);
	else if (fz->file == F_ENABLE)
		valid_enable(fz, in);
	else if (fz->file == F_WATCH)
		valid_watch(fz, in);
	else if (fz->file == F_HOLDERS)
		valid_holders(fz, in);
	else
		valid_borrow(fz, in);
}

/* Insert n bytes at pos, keeping the input within INPUT_MAX. */
static void insert(struct input *in, size_t pos, const char *p, size_t n)
{
	if (in->len + n > INPUT_MAX)
		return;
	memmove(in->data + pos + n, in->data + pos, in->len - pos);
	memcpy(in->data + pos, p, n);
	in->len += n;
}

static void mutate(struct fuzzer *fz, struct input *in)
{
	static const char seps[] = { ' ', '\t', '\n', '\0', '=', '-', '+' };
	size_t pos = below(&fz->rng, in->len + 1);
	char c = below(&fz->rng, 256);

	switch (below(&fz->rng, 8)) {
	case 0:
		if (pos < in->len)
			in->data[pos] = c;
		break;
	case 1:
		insert(in, pos, &c, 1);
		break;
	case 2:
		if (pos < in->len) {
			memmove(in->data + pos, in->data + pos + 1,
				in->len - pos - 1);
			in->len--;
		}
		break;
	case 3:
		if (pos < in->len)
			in->data[pos] ^= 0x20;
		break;
	case 4:
		c = seps[below(&fz->rng, sizeof(seps))];
		insert(in, pos, &c, 1);
		break;
	case 5:
		if (in->len <= INPUT_MAX / 2) {
			memcpy(in->data + in->len, in->data, in->len);
			in->len *= 2;
		}
		break;
	case 6:
		in->len = pos;
		break;
	default:
		c = '0' + below(&fz->rng, 10);
		insert(in, pos, &c, 1);
	}
}

static void token_soup(struct fuzzer *fz, struct input *in)
{
	const char * const *toks;
	unsigned int i, n, nt;

	if (fz->file == F_FILTER) {
		toks = filter_tokens;
		nt = ARRAY_SIZE(filter_tokens);
	} else if (fz->file == F_ENABLE) {
		toks = enable_tokens;
		nt = ARRAY_SIZE(enable_tokens);
	} else if (fz->file == F_WATCH) {
		toks = watch_tokens;
		nt = ARRAY_SIZE(watch_tokens);
	} else if (fz->file == F_HOLDERS) {
		toks = holders_tokens;
		nt = ARRAY_SIZE(holders_tokens);
	} else {
		toks = borrow_tokens;
		nt = ARRAY_SIZE(borrow_tokens);
	}
	n = 1 + below(&fz->rng, 6);
	for (i = 0; i < n; i++) {
		switch (below(&fz->rng, 8)) {
		case 0:
			append(in, "", 1);	/* a NUL byte */
			break;
		case 1:
			if (fz->file == F_HOLDERS)
				append_num(fz, in, below(&fz->rng, 2) ?
					   some_own_mm(fz)->id :
					   (unsigned long long)some_own_mm(fz)->tgid);
			else
				append_pid(fz, in, fz->file == F_WATCH ?
					   some_known(fz) : some_waiter(fz));
			break;
		default:
			append_str(in, toks[below(&fz->rng, nt)]);
		}
		if (below(&fz->rng, 2))
			append_str(in, below(&fz->rng, 3) ? " " : "\t");
	}
}

/* Valid commands padded to the sizes around the kernel's limits. */
static void boundary(struct fuzzer *fz, struct input *in)
{
	size_t target, limit = file_limit[fz->file];
	char c, num[24];

	target = limit - 3 + below(&fz->rng, 6);
	switch (fz->file) {
	case F_FILTER:
		switch (below(&fz->rng, 3)) {
		case 0:
			/* leading zeros: the word is at most 23 bytes */
			append_str(in, "tgid=");
			target = FILTER_WORD - 3 + below(&fz->rng, 6);
			while (in->len + 1 < target)
				append_str(in, "0");
			append_str(in, "7");
			break;
		case 1:
			append_str(in, "comm=");
			target = 5 + COMM_MAX - 2 + below(&fz->rng, 5);
			while (in->len < target)
				append_str(in, "c");
			break;
		default:
			valid_filter(fz, in);
			while (in->len < target)
				append_str(in, "\n");
		}
		break;
	case F_ENABLE:
		while (in->len + 1 < target)
			append_str(in, "0");
		append_str(in, below(&fz->rng, 2) ? "1" : "1\n");
		break;
	case F_WATCH:
		switch (below(&fz->rng, 3)) {
		case 0:
			/* leading zeros: the word is at most 23 bytes */
			append_str(in, below(&fz->rng, 2) ? "pid=" : "-pid=");
			snprintf(num, sizeof(num), "%d", some_known(fz));
			target = WATCH_WORD - 3 + below(&fz->rng, 6);
			while (in->len + strlen(num) < target)
				append_str(in, "0");
			append_str(in, num);
			break;
		case 1:
			append_str(in, "stack=");
			target = WATCH_WORD - 3 + below(&fz->rng, 6);
			while (in->len + 1 < target)
				append_str(in, "0");
			append_str(in, below(&fz->rng, 2) ? "1" : "0");
			break;
		default:
			/* the write's 31 bytes: one newline is all it may add */
			valid_watch(fz, in);
			while (in->len < target)
				append_str(in, "\n");
		}
		if (below(&fz->rng, 2))
			append_str(in, "\n");
		break;
	case F_HOLDERS:
		switch (below(&fz->rng, 3)) {
		case 0:
			/* leading zeros up to the write's 31 bytes and past */
			if (below(&fz->rng, 2)) {
				append_str(in, "mm=");
				snprintf(num, sizeof(num), "%llu",
					 some_own_mm(fz)->id);
			} else {
				append_str(in, "tgid=");
				snprintf(num, sizeof(num), "%d",
					 some_own_mm(fz)->tgid);
			}
			while (in->len + strlen(num) < target)
				append_str(in, "0");
			append_str(in, num);
			break;
		case 1:
			/* the largest id, with zeros in front */
			append_str(in, "mm=");
			while (in->len + 20 < target)
				append_str(in, "0");
			append_str(in, below(&fz->rng, 2) ? "18446744073709551615" :
				   "18446744073709551616");
			break;
		default:
			/* one newline is all a command may add */
			valid_holders(fz, in);
			while (in->len < target)
				append_str(in, "\n");
		}
		if (below(&fz->rng, 2))
			append_str(in, "\n");
		break;
	default:
		valid_borrow(fz, in);
		c = below(&fz->rng, 2) ? ' ' : '\n';
		while (in->len < target)
			insert(in, 0, &c, 1);
	}
}

static void oversized(struct fuzzer *fz, struct input *in)
{
	size_t n = file_limit[fz->file] +
		   below(&fz->rng, INPUT_MAX - file_limit[fz->file] + 1);
	size_t i;

	switch (below(&fz->rng, 3)) {
	case 0:
		while (in->len < n)
			valid_cmd(fz, in);
		in->len = n;
		break;
	case 1:
		memset(in->data, 'A', n);
		in->len = n;
		break;
	default:
		for (i = 0; i < n; i++)
			in->data[i] = rnd(&fz->rng);
		in->len = n;
	}
}

static void gen_content(struct fuzzer *fz, struct input *in)
{
	unsigned int i, n, r = below(&fz->rng, 100);

	in->len = 0;
	if (r < 22) {
		in->kind = "valid";
		valid_cmd(fz, in);
	} else if (r < 44) {
		in->kind = "mutated";
		valid_cmd(fz, in);
		n = 1 + below(&fz->rng, 3);
		for (i = 0; i < n; i++)
			mutate(fz, in);
	} else if (r < 54) {
		in->kind = "prefix";
		valid_cmd(fz, in);
		in->len = below(&fz->rng, in->len);
	} else if (r < 68) {
		in->kind = "tokens";
		token_soup(fz, in);
	} else if (r < 76) {
		in->kind = "text";
		n = below(&fz->rng, 81);
		for (i = 0; i < n; i++)
			in->data[i] = 32 + below(&fz->rng, 95);
		in->len = n;
	} else if (r < 84) {
		in->kind = "binary";
		n = below(&fz->rng, 81);
		for (i = 0; i < n; i++)
			in->data[i] = below(&fz->rng, 4) ? rnd(&fz->rng) : 0;
		in->len = n;
	} else if (r < 92) {
		in->kind = "boundary";
		boundary(fz, in);
	} else {
		in->kind = "oversized";
		oversized(fz, in);
	}
}

static void gen_delivery(struct fuzzer *fz, struct input *in)
{
	unsigned int r = below(&fz->rng, 100);

	in->off = 0;
	if (r < 70) {
		in->how = D_WRITE;
	} else if (r < 80) {
		in->how = D_PWRITE;
		in->off = below(&fz->rng, 10) ? 1 + (long long)below(&fz->rng, 1 << 20) : -1;
	} else if (r < 86) {
		in->how = D_SEEK;
		in->off = 1 + below(&fz->rng, 4096);
	} else if (r < 89) {
		in->how = D_NULL;
	} else if (r < 92) {
		in->how = D_HOLE;
	} else if (r < 96 && in->len >= 2 && in->len <= SCRATCH_PAGES * PAGE) {
		in->how = D_STRADDLE;
		in->off = 1 + below(&fz->rng, in->len - 1);	/* readable bytes */
	} else if (in->len) {
		in->how = D_KERNEL;
		if (in->len > 16)
			in->len = 1 + below(&fz->rng, 16);
	} else {
		in->how = D_WRITE;
	}
}

/* ---- delivery and expectations ---- */

static int deliver(struct fuzzer *fz, int fd, const struct input *in)
{
	const char *buf = fz->scratch;
	ssize_t n;

	switch (in->how) {
	case D_NULL:
		buf = NULL;
		break;
	case D_HOLE:
		buf = fz->hole;
		break;
	case D_STRADDLE:
		buf = fz->hole - in->off;
		memcpy((char *)buf, in->data, in->off);
		break;
	case D_KERNEL:
		buf = (const char *)KERNEL_ADDR;
		break;
	default:
		memcpy(fz->scratch, in->data, in->len);
	}
	if (in->how == D_SEEK)
		lseek(fd, in->off, SEEK_SET);
	if (in->how == D_PWRITE)
		n = pwrite(fd, buf, in->len, in->off);
	else
		n = write(fd, buf, in->len);
	if (in->how == D_SEEK)
		lseek(fd, 0, SEEK_SET);
	if (n < 0)
		return -errno;
	/* a command is taken whole or not at all */
	return (size_t)n == in->len ? 0 : -EIO;
}

/*
 * The result decided before the file's parser looks at the bytes, or 1
 * when the parser decides.
 */
static int expect_vfs(enum fuzz_file file, const struct input *in)
{
	size_t limit = file_limit[file];

	switch (in->how) {
	case D_PWRITE:
		if (in->off < 0)
			return -EINVAL;
		/* every file is a seq_file: seq_open() clears FMODE_PWRITE */
		return -ESPIPE;
	case D_KERNEL:
		return -EFAULT;		/* access_ok() */
	case D_NULL:
	case D_HOLE:
	case D_STRADDLE:
		/* the size check comes before copy_from_user() */
		if (in->len >= limit || (file != F_BORROW && !in->len))
			return -EINVAL;
		return in->len ? -EFAULT : -EINVAL;
	default:
		return 1;
	}
}

static const char *err_name(int err)
{
	static __thread char buf[24];

	switch (-err) {
	case 0: return "accepted";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case ESPIPE: return "ESPIPE";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case EIO: return "short write";
	}
	snprintf(buf, sizeof(buf), "errno %d", -err);
	return buf;
}

static void tally(struct fuzzer *fz, int got)
{
	unsigned long *c = NULL;

	fz->writes++;
	if (!totals)
		return;
	count(&totals->writes[fz->file], 1);
	switch (-got) {
	case 0:
		c = &totals->accepted;
		fz->accepted++;
		break;
	case EINVAL:
		c = &totals->einval;
		break;
	case EFAULT:
		c = &totals->efault;
		break;
	case ESPIPE:
		c = &totals->espipe;
		break;
	case ENOENT:
		c = &totals->enoent;
		break;
	case ESRCH:
		c = &totals->esrch;
		break;
	case EBUSY:
		c = &totals->ebusy;
		break;
	case EEXIST:
		c = &totals->eexist;
		break;
	case ENOSPC:
		c = &totals->enospc;
		break;
	}
	if (c)
		count(c, 1);
}

/* The bytes as a C string literal, shortened. */
static const char *quote(const char *p, size_t len)
{
	static __thread char buf[400];
	size_t i, o = 0;

	for (i = 0; i < len && i < 64 && o < sizeof(buf) - 40; i++) {
		unsigned char c = p[i];

		if (c == '\\' || c == '"')
			o += snprintf(buf + o, sizeof(buf) - o, "\\%c", c);
		else if (c >= 32 && c < 127)
			buf[o++] = c;
		else
			o += snprintf(buf + o, sizeof(buf) - o, "\\x%02x", c);
	}
	if (i < len)
		o += snprintf(buf + o, sizeof(buf) - o, "...");
	buf[o] = '\0';
	return buf;
}

static void fail(struct fuzzer *fz, const struct input *in, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	fz->failures++;
	if (fz->logged++ >= MAX_LOGGED)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (in)
		fprintf(stderr, "# fuzz %s write %lu (%s, %s off=%lld, len=%zu) \"%s\": %s\n",
			file_name[fz->file], fz->writes, in->kind,
			delivery_name[in->how], in->off, in->len,
			quote(in->data, in->len), what);
	else
		fprintf(stderr, "# fuzz %s after write %lu: %s\n",
			file_name[fz->file], fz->writes, what);
}

static void check_result(struct fuzzer *fz, const struct input *in,
			 struct expect e, int got)
{
	char want[64];

	if (got == e.a || got == e.b || got == e.c)
		return;
	snprintf(want, sizeof(want), "%s", err_name(e.a));
	if (e.b != e.a)
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
			 " or %s", err_name(e.b));
	if (e.c != e.a && e.c != e.b)
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
			 " or %s", err_name(e.c));
	fail(fz, in, "expected %s, got %s", want, err_name(got));
}

/* ---- reading the state back ---- */

static ssize_t read_path(const char *path, char *buf, size_t size)
{
	return mmrefs_read_into(path, buf, size);
}

static ssize_t pread_all(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

/*
 * The borrower's list as "pid mode" pairs; false if a line is not a
 * well-formed borrow line.
 */
static bool borrow_list(const char *text, pid_t *pid, char (*mode)[8], int *n,
			int max)
{
	char m[8], page[8], state[8];
	int users, cnt, p, len;
	const char *s = text;

	*n = 0;
	while (*s) {
		len = strcspn(s, "\n");
		if (sscanf(s, "borrow pid=%d mode=%7s state=%7s page=%7s users=%d count=%d",
			   &p, m, state, page, &users, &cnt) != 6 ||
		    strcmp(state, "held") || *n >= max || users < 0 || cnt < 1)
			return false;
		pid[*n] = p;
		snprintf(mode[*n], sizeof(mode[*n]), "%s", m);
		(*n)++;
		s += len;
		if (*s == '\n')
			s++;
	}
	return true;
}

static void check_borrows(struct fuzzer *fz, const struct input *in)
{
	static char text[8192];
	char mode[64][8];
	pid_t pid[64];
	int i, n;

	if (read_path(BORROW_CONTROL, text, sizeof(text)) < 0) {
		fail(fz, in, "cannot read %s", BORROW_CONTROL);
		return;
	}
	if (!borrow_list(text, pid, mode, &n, 64)) {
		fail(fz, in, "malformed borrow list \"%s\"", quote(text, strlen(text)));
		return;
	}
	for (i = 0; i < n && i < fz->nb; i++)
		if (pid[i] != fz->b_pid[i] || strcmp(mode[i], fz->b_mode[i]))
			break;
	if (i != n || n != fz->nb)
		fail(fz, in, "borrow list has %d entries (first difference at %d), model %d",
		     n, i, fz->nb);
}

/* ---- the borrower's model ---- */

static bool is_leak(const struct fuzzer *fz, int i)
{
	return !strcmp(fz->b_mode[i], "leak");
}

/* A borrow of pid that release PID gives back: any but a leak. */
static bool model_holds(const struct fuzzer *fz, pid_t pid)
{
	int i;

	for (i = 0; i < fz->nb; i++)
		if (fz->b_pid[i] == pid && !is_leak(fz, i))
			return true;
	return false;
}

/* Does pid have leaks (and nothing release PID would give back)? */
static bool model_leaks_only(const struct fuzzer *fz, pid_t pid)
{
	int i;

	if (model_holds(fz, pid))
		return false;
	for (i = 0; i < fz->nb; i++)
		if (fz->b_pid[i] == pid)
			return true;
	return false;
}

/* release PID (pid > 0) or release all (pid 0): leaks stay. */
static void model_release(struct fuzzer *fz, pid_t pid)
{
	int i, j = 0;

	for (i = 0; i < fz->nb; i++) {
		if ((!pid || fz->b_pid[i] == pid) && !is_leak(fz, i))
			continue;
		fz->b_pid[j] = fz->b_pid[i];
		fz->b_born[j] = fz->b_born[i];
		memcpy(fz->b_mode[j], fz->b_mode[i], sizeof(fz->b_mode[j]));
		j++;
	}
	fz->nb = j;
}

static struct expect borrow_expect(struct fuzzer *fz, const struct input *in,
				   struct borrow_cmd *c)
{
	struct expect e = exactly(-EINVAL);
	int vfs = expect_vfs(F_BORROW, in);

	*c = model_borrow(in->data, in->len, fz->max_hold);
	if (vfs != 1) {
		e = exactly(vfs);
		c->kind = B_BAD;
		return e;
	}
	switch (c->kind) {
	case B_BAD:
		break;
	case B_RELEASE_ALL:
		e = exactly(0);
		break;
	case B_RELEASE:
		if (fz->concurrent)
			e = either(0, -ENOENT);
		else
			e = exactly(model_holds(fz, c->pid) ? 0 : -ENOENT);
		break;
	default:
		if (fz->concurrent) {
			e = either(0, -EBUSY);
		} else if (fz->nb >= BORROW_MAX) {
			e = exactly(-EBUSY);
		} else if (has_no_mm(fz, c->pid)) {
			e = exactly(-ESRCH);
		} else {
			/* a pid not ours may or may not have an mm */
			e = either(0, is_waiter(fz, c->pid) ? 0 : -ESRCH);
		}
	}
	return e;
}

static void one_write(struct fuzzer *fz, int fd, struct input *in,
		      struct expect e, int *got)
{
	*got = deliver(fz, fd, in);
	tally(fz, *got);
	check_result(fz, in, e, *got);
}

/* Write a fixed command; used for the model's own housekeeping. */
static int plain_write(struct fuzzer *fz, int fd, const char *s, struct expect e)
{
	struct input *in = calloc(1, sizeof(*in));
	int got = -EIO;

	if (!in)
		return got;
	in->kind = "housekeeping";
	in->how = D_WRITE;
	append_str(in, s);
	one_write(fz, fd, in, e, &got);
	free(in);
	return got;
}

/* The model's borrower state after the accepted command c. */
static void borrow_apply(struct fuzzer *fz, int fd, const struct borrow_cmd *c)
{
	char cmd[32];
	struct expect e;

	switch (c->kind) {
	case B_RELEASE_ALL:
		model_release(fz, 0);
		break;
	case B_RELEASE:
		model_release(fz, c->pid);
		break;
	case B_LEAK:
		/* held until the borrower is unloaded */
		fz->b_pid[fz->nb] = c->pid;
		snprintf(fz->b_mode[fz->nb], sizeof(fz->b_mode[0]), "leak");
		fz->b_born[fz->nb] = now_s();
		fz->nb++;
		fz->nleaks++;
		break;
	case B_GRAB:
	case B_GET:
		if (c->hold < HOLD_STABLE_MS) {
			/* it may expire any time: release the pid now */
			snprintf(cmd, sizeof(cmd), "release %d", c->pid);
			e = either(0, model_holds(fz, c->pid) ? 0 : -ENOENT);
			plain_write(fz, fd, cmd, e);
			model_release(fz, c->pid);
			break;
		}
		fz->b_pid[fz->nb] = c->pid;
		snprintf(fz->b_mode[fz->nb], sizeof(fz->b_mode[0]), "%s",
			 c->kind == B_GRAB ? "grab" : "get");
		fz->b_born[fz->nb] = now_s();
		fz->nb++;
		break;
	default:
		break;
	}
}

/* ---- the watch model ---- */

/*
 * The expected result of a write to watch and the command it is (c->kind
 * W_BAD if it changes nothing). false: the write must not be made, as it
 * would arm a task the fuzzer does not own (see the header comment).
 * Concurrent writers arm only waiters, and accept whatever the others'
 * writes may have left.
 */
static bool watch_expect(struct fuzzer *fz, const struct input *in,
			 struct watch_cmd *c, struct expect *e)
{
	int vfs = expect_vfs(F_WATCH, in), mm, i, nfree = 0;
	bool watched = false, armed = false;

	*c = model_watch(in->data, in->len);
	if (vfs != 1) {
		c->kind = W_BAD;
		*e = exactly(vfs);
		return true;
	}
	switch (c->kind) {
	case W_BAD:
		/* README: anything else gets EINVAL (ERANGE included) */
		*e = exactly(-EINVAL);
		return true;
	case W_CLEAR:
	case W_STACK:
		*e = exactly(0);
		return true;
	case W_DISARM:
		for (i = 0; i < fz->w_slots; i++)
			armed |= fz->w_pid[i] == c->pid;
		if (fz->concurrent)
			*e = is_waiter(fz, c->pid) ? either(0, -ESRCH) :
			     exactly(-ESRCH);
		else
			*e = exactly(armed ? 0 : -ESRCH);
		return true;
	default:
		break;
	}
	mm = known_mm(fz, c->pid);
	if (mm < 0) {
		/* threads come and go in the concurrent test: no /proc check */
		if (!has_no_mm(fz, c->pid) &&
		    (fz->concurrent || foreign_task(c->pid) != -ESRCH))
			return false;
		*e = exactly(-ESRCH);
		return true;
	}
	if (fz->concurrent) {
		*e = any_of(0, -EEXIST, -ENOSPC);
		return true;
	}
	for (i = 0; i < fz->w_slots; i++) {
		watched |= fz->w_pid[i] && fz->w_mm[i] == mm;
		nfree += !fz->w_pid[i];
	}
	*e = exactly(watched ? -EEXIST : nfree ? 0 : -ENOSPC);
	return true;
}

/* The model's watch state after the accepted command c. */
static void watch_apply(struct fuzzer *fz, const struct watch_cmd *c)
{
	int i;

	switch (c->kind) {
	case W_CLEAR:
		memset(fz->w_pid, 0, sizeof(fz->w_pid));
		break;
	case W_STACK:
		fz->w_stack = c->stack;
		break;
	case W_DISARM:
		for (i = 0; i < fz->w_slots; i++)
			if (fz->w_pid[i] == c->pid)
				fz->w_pid[i] = 0;
		break;
	case W_ARM:
		/* watch_arm() takes the first free slot */
		for (i = 0; i < fz->w_slots && fz->w_pid[i]; i++)
			;
		if (i < fz->w_slots) {
			fz->w_pid[i] = c->pid;
			fz->w_mm[i] = known_mm(fz, c->pid);
		}
		break;
	default:
		break;
	}
}

/* The watch file, parsed: its stack and each slot's pid (0: free). */
struct watch_state {
	int slots, nfree, stack;
	pid_t pid[WATCH_SLOTS_MAX];
};

/*
 * The whole text of the watch file, or false: a header line, then one
 * line per slot, in order, free or armed by a live user task (users at
 * least 1, count at least the users' 1 and the observer's).
 */
static bool watch_parse(const char *text, struct watch_state *ws)
{
	unsigned long long ms;
	int i, n, nfree = 0, users, cnt, obs;
	unsigned int slot;
	char state[8];
	const char *s = text;

	memset(ws, 0, sizeof(*ws));
	n = 0;
	if (sscanf(s,
		   "slots=%d free=%d registers_per_mm=%*u layout=%*s mm_users_offset=%*u mm_count_offset=%*u stack=%d%n",
		   &ws->slots, &ws->nfree, &ws->stack, &n) != 3 || !n ||
	    ws->slots < 1 || ws->slots > WATCH_SLOTS_MAX ||
	    (ws->stack != 0 && ws->stack != 1))
		return false;
	s += n;
	if (*s++ != '\n')
		return false;
	for (i = 0; i < ws->slots; i++) {
		n = 0;
		if (sscanf(s, "slot=%u state=%7s%n", &slot, state, &n) != 2 ||
		    !n || slot != (unsigned int)i)
			return false;
		if (!strcmp(state, "free")) {
			nfree++;
		} else {
			n = 0;
			if (strcmp(state, "armed") ||
			    sscanf(s,
				   "slot=%*u state=armed pid=%d users=%d count=%d observer=%d armed_ms=%llu%n",
				   &ws->pid[i], &users, &cnt, &obs, &ms, &n) != 5 ||
			    !n || ws->pid[i] <= 0 || users < 1 || cnt < 2 ||
			    obs != 1)
				return false;
		}
		s += n;
		if (*s++ != '\n')
			return false;
	}
	return !*s && nfree == ws->nfree;
}

/* Read watch back: it must show exactly the model's state. */
static void check_watch(struct fuzzer *fz, int rfd, const struct input *in)
{
	static char text[1024];
	struct watch_state ws;
	int i;

	if (pread_all(rfd, text, sizeof(text)) < 0) {
		fail(fz, in, "cannot read %s", MMREFS_WATCH);
		return;
	}
	if (!watch_parse(text, &ws) || ws.slots != fz->w_slots) {
		fail(fz, in, "malformed watch file \"%s\"",
		     quote(text, strlen(text)));
		return;
	}
	for (i = 0; i < ws.slots && ws.pid[i] == fz->w_pid[i]; i++)
		;
	if (i < ws.slots || ws.stack != fz->w_stack) {
		fail(fz, in, "watch shows \"%s\", model stack=%d slot %d pid=%d",
		     quote(text, strlen(text)), fz->w_stack, i,
		     i < ws.slots ? fz->w_pid[i] : 0);
		/* report each divergence once */
		for (i = 0; i < ws.slots; i++) {
			fz->w_pid[i] = ws.pid[i];
			fz->w_mm[i] = known_mm(fz, ws.pid[i]);
		}
		fz->w_stack = ws.stack;
	}
}

/* ---- the holders model ---- */

/* The expected result of a write to holders, and the selection it makes. */
static struct expect holders_expect(const struct input *in,
				    struct holders_sel *c)
{
	int vfs = expect_vfs(F_HOLDERS, in);

	*c = model_holders(in->data, in->len);
	if (vfs != 1) {
		c->kind = H_BAD;
		return exactly(vfs);
	}
	/* README: anything else is EINVAL and keeps the selection */
	return exactly(c->kind == H_BAD ? -EINVAL : 0);
}

static const char *holders_sel_name(const struct holders_sel *sel)
{
	static __thread char buf[32];

	if (sel->kind == H_MM)
		snprintf(buf, sizeof(buf), "mm=%llu", sel->val);
	else if (sel->kind == H_TGID)
		snprintf(buf, sizeof(buf), "tgid=%llu", sel->val);
	else
		snprintf(buf, sizeof(buf), "%s", sel->kind == H_ALL ? "all" : "?");
	return buf;
}

/* Does the selection show the mm with this id and tgid? */
static bool holders_selects(const struct holders_sel *sel,
			    unsigned long long id, pid_t tgid)
{
	if (sel->kind == H_MM)
		return id == sel->val;
	if (sel->kind == H_TGID)
		return tgid > 0 && (unsigned long long)tgid == sel->val;
	return sel->kind == H_ALL;
}

/*
 * holders' text, block by block: a header "mm id=ID tgid=N ..." (no
 * leading blank), then its indented lines. NULL if it is well formed and
 * one of the nsel selections shows every header's mm, else the first line
 * that is not; *seen (if own) gets bit k for each own[k] shown.
 */
static const char *holders_scan(const char *text,
				const struct holders_sel *sel, int nsel,
				const struct own_mm *own, unsigned int *seen)
{
	unsigned long long id;
	const char *s = text;
	bool in_block = false;
	int tgid, i, n;
	size_t len;

	if (own)
		*seen = 0;
	for (; *s; s += len + 1) {
		len = strcspn(s, "\n");
		if (!s[len])
			return s;	/* a line cut short */
		if (*s == ' ') {
			if (!in_block)
				return s;
			continue;
		}
		n = 0;
		if (strncmp(s, "mm id=", 6) || s[6] < '0' || s[6] > '9' ||
		    sscanf(s + 6, "%llu tgid=%d comm=%n", &id, &tgid, &n) != 2 ||
		    !n || (size_t)n + 6 > len)
			return s;
		for (i = 0; i < nsel && !holders_selects(&sel[i], id, tgid); i++)
			;
		if (i == nsel)
			return s;
		for (i = 0; own && i < NR_OWN_MMS; i++)
			if (own[i].id == id)
				*seen |= 1U << i;
		in_block = true;
	}
	return NULL;
}

/* The whole of a seq_file from its start, through an fd kept open. */
static ssize_t read_fd(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		len += n;
	}
	buf[len] = '\0';
	return len;
}

/*
 * Read holders back, whole: every block shown is one the model's
 * selection shows, and each of the fuzzer's own mms it selects is there.
 * (A read walks all of mmrefs' hash buckets, 32768 by default, a couple
 * of ms under TCG whatever it shows; a short read, which stops at the
 * first block shown, saved little and proved less.)
 */
static void check_holders(struct fuzzer *fz, int rfd, const struct input *in)
{
	static char text[1 << 20];
	unsigned int seen, want = 0;
	const char *bad;
	int k;

	if (read_fd(rfd, text, sizeof(text)) < 0) {
		fail(fz, in, "cannot read %s", MMREFS_HOLDERS);
		return;
	}
	bad = holders_scan(text, &fz->h_sel, 1, fz->own, &seen);
	if (bad) {
		fail(fz, in, "holders, selection %s, shows \"%s\"",
		     holders_sel_name(&fz->h_sel),
		     quote(bad, strcspn(bad, "\n")));
		return;
	}
	for (k = 0; k < NR_OWN_MMS; k++)
		if (holders_selects(&fz->h_sel, fz->own[k].id, fz->own[k].tgid))
			want |= 1U << k;
	for (k = 0; k < NR_OWN_MMS && !((want & ~seen) & 1U << k); k++)
		;
	if (k < NR_OWN_MMS)
		fail(fz, in, "holders, selection %s, lacks mm id=%llu tgid=%d",
		     holders_sel_name(&fz->h_sel), fz->own[k].id,
		     fz->own[k].tgid);
}

/* ---- the fuzzers ---- */

static int fuzzer_init(struct fuzzer *fz, enum fuzz_file file,
		       unsigned long long stream, const pid_t *waiters)
{
	char s[32], *p;
	int i;

	memset(fz, 0, sizeof(*fz));
	rng_init(&fz->rng, stream);
	fz->file = file;
	fz->waiters = waiters;
	/* every waiter is a process of its own: an mm each */
	for (i = 0; i < NR_WAITERS; i++) {
		fz->known[i] = waiters[i];
		fz->known_mm[i] = i;
	}
	fz->nknown = NR_WAITERS;
	/* a small read: /proc/sys refuses reads larger than kmalloc can do */
	fz->pid_max = 4194304;		/* PID_MAX_LIMIT */
	if (read_path("/proc/sys/kernel/pid_max", s, sizeof(s)) > 0)
		fz->pid_max = strtol(s, NULL, 10);
	fz->max_hold = 60000;
	if (read_path(BORROW_MAX_HOLD, s, sizeof(s)) > 0)
		fz->max_hold = strtoul(s, NULL, 10);
	if (fz->pid_max < 300)
		return -EINVAL;
	p = mmap(NULL, (SCRATCH_PAGES + 1) * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	fz->scratch = p;
	fz->hole = p + SCRATCH_PAGES * PAGE;
	if (mprotect(fz->hole, PAGE, PROT_NONE))
		return -errno;
	return 0;
}

static void fuzzer_fini(struct fuzzer *fz)
{
	if (fz->scratch)
		munmap(fz->scratch, (SCRATCH_PAGES + 1) * PAGE);
	fz->scratch = NULL;
}

/*
 * One single-writer round on filter or enable: write, compare the result
 * with the model, read the value back.
 */
static void fuzz_setting(struct fuzzer *fz, int wfd, int rfd, char *state,
			 size_t state_len, struct input *in)
{
	char canon[64], now[64];
	struct expect e;
	int vfs, model, got;

	gen_content(fz, in);
	gen_delivery(fz, in);
	vfs = expect_vfs(fz->file, in);
	if (fz->file == F_FILTER)
		model = model_filter(in->data, in->len, canon, sizeof(canon));
	else
		model = model_enable(in->data, in->len, canon, sizeof(canon));
	e = exactly(vfs != 1 ? vfs : model);
	one_write(fz, wfd, in, e, &got);
	if (!got)
		snprintf(state, state_len, "%s", canon);
	if (pread_all(rfd, now, sizeof(now)) < 0) {
		fail(fz, in, "cannot read the value back");
		return;
	}
	if (strcmp(now, state)) {
		fail(fz, in, "reads back \"%s\", expected \"%s\"",
		     quote(now, strlen(now)), quote(state, strlen(state)));
		/* report each divergence once */
		snprintf(state, state_len, "%s", now);
	}
}

static void fuzz_setting_file(struct __test_metadata *_metadata,
			      enum fuzz_file file, unsigned long writes,
			      const pid_t *waiters)
{
	struct fuzzer *fz = calloc(1, sizeof(*fz));
	struct input *in = calloc(1, sizeof(*in));
	char state[64];
	int wfd, rfd;
	double t0 = now_s();
	unsigned long i;

	ASSERT_NE(NULL, fz);
	ASSERT_NE(NULL, in);
	ASSERT_EQ(0, fuzzer_init(fz, file, file + 1, waiters));
	wfd = open(file_path[file], O_WRONLY | O_CLOEXEC);
	rfd = open(file_path[file], O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, wfd);
	ASSERT_LE(0, rfd);
	ASSERT_LT(0, pread_all(rfd, state, sizeof(state)));

	for (i = 0; i < writes; i++)
		fuzz_setting(fz, wfd, rfd, state, sizeof(state), in);

	note("%s: %lu writes, %lu accepted, seed 0x%llx, %.1f s\n",
	     file_name[file], fz->writes, fz->accepted, fuzz_seed(),
	     now_s() - t0);
	EXPECT_EQ(0, fz->failures);
	close(wfd);
	close(rfd);
	fuzzer_fini(fz);
	free(in);
	free(fz);
}

/* Fill the borrower to its limit, so the EBUSY path sees fuzz too. */
static void borrow_fill(struct fuzzer *fz, int fd)
{
	struct expect ok = exactly(0);
	struct borrow_cmd c = { .hold = HOLD_STABLE_MS * 2 };
	char cmd[48];

	if (fz->max_hold < c.hold)
		c.hold = fz->max_hold;
	while (fz->nb < BORROW_MAX) {
		c.kind = fz->nb % 2 ? B_GET : B_GRAB;
		c.pid = fz->waiters[fz->nb % NR_WAITERS];
		snprintf(cmd, sizeof(cmd), "%s %d %llu",
			 c.kind == B_GET ? "get" : "grab", c.pid, c.hold);
		if (plain_write(fz, fd, cmd, ok))
			return;
		borrow_apply(fz, fd, &c);
	}
}

/*
 * Unload and reload the borrower: the only way to give leaks back. No
 * control file may be open, as an open file pins the module. Its
 * max_hold_ms stays. 0 or -errno.
 */
static int borrow_reload(void)
{
	const char *ko = getenv("MMREFS_BORROW_KO");
	char params[32] = "", s[32];
	int err;

	if (!ko)
		ko = "test_modules/mmrefs_borrow.ko";
	if (read_path(BORROW_MAX_HOLD, s, sizeof(s)) > 0)
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
static int borrow_clean(void)
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

/*
 * The model's leaks are given back: reload the borrower (closing *fd
 * first) and check that the list it starts with is empty.
 */
static void borrow_reload_fuzz(struct __test_metadata *_metadata,
			       struct fuzzer *fz, int *fd,
			       const struct input *in)
{
	int err;

	close(*fd);
	err = borrow_reload();
	if (err)
		fail(fz, in, "cannot reload mmrefs_borrow: %s", strerror(-err));
	fz->nb = 0;
	fz->nleaks = 0;
	*fd = open(BORROW_CONTROL, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, *fd);
	check_borrows(fz, in);
}

/* When the oldest borrow that can expire was taken; 0: there is none. */
static double borrow_oldest(const struct fuzzer *fz)
{
	int i;

	/* the list is in the order they were taken */
	for (i = 0; i < fz->nb; i++)
		if (!is_leak(fz, i))
			return fz->b_born[i];
	return 0;
}

static void fuzz_borrow(struct __test_metadata *_metadata, unsigned long writes,
			const pid_t *waiters)
{
	static const char * const res_name[] = {
		"accepted", "EINVAL", "EFAULT", "ESPIPE", "ESRCH", "EBUSY",
		"other",
	};
	static const int res_err[] = { 0, EINVAL, EFAULT, ESPIPE, ESRCH, EBUSY };
	unsigned long leak_res[ARRAY_SIZE(res_name)] = { 0 };
	unsigned long i, full_from = writes / 2, full_to = full_from + 500;
	unsigned long leaks_only = 0, reloads = 0;
	struct fuzzer *fz = calloc(1, sizeof(*fz));
	struct input *in = calloc(1, sizeof(*in));
	struct expect ok = exactly(0);
	int fd, got, len = 0;
	double t0 = now_s(), born;
	struct borrow_cmd c;
	bool only_leaks;
	struct expect e;
	char line[160];
	unsigned int k;

	ASSERT_NE(NULL, fz);
	ASSERT_NE(NULL, in);
	ASSERT_EQ(0, fuzzer_init(fz, F_BORROW, F_BORROW + 1, waiters));
	fd = open(BORROW_CONTROL, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, plain_write(fz, fd, "release all", ok));

	for (i = 0; i < writes; i++) {
		if (i == full_from) {
			/* a fresh start: none of these may expire while full */
			plain_write(fz, fd, "release all", ok);
			model_release(fz, 0);
			borrow_fill(fz, fd);
			/* a leak counts toward the limit like any borrow */
			snprintf(line, sizeof(line), "leak %d", waiters[0]);
			got = plain_write(fz, fd, line, exactly(-EBUSY));
			for (k = 0; k < ARRAY_SIZE(res_err) && got != -res_err[k]; k++)
				;
			leak_res[k]++;
		}
		/* stay full: fuzz meets EBUSY, releases included */
		if (i > full_from && i < full_to && fz->nb < BORROW_MAX)
			borrow_fill(fz, fd);
		/* before a default hold expires, and to keep reads short */
		born = borrow_oldest(fz);
		if (born && (now_s() - born > BORROW_MAX_AGE_MS / 1000.0 ||
			     (fz->nb - fz->nleaks > BORROW_MODEL_CAP &&
			      (i < full_from || i >= full_to)))) {
			plain_write(fz, fd, "release all", ok);
			model_release(fz, 0);
		}
		gen_content(fz, in);
		gen_delivery(fz, in);
		e = borrow_expect(fz, in, &c);
		only_leaks = c.kind == B_RELEASE && model_leaks_only(fz, c.pid);
		one_write(fz, fd, in, e, &got);
		if (c.leak_word) {
			for (k = 0; k < ARRAY_SIZE(res_err) && got != -res_err[k]; k++)
				;
			leak_res[k]++;
		}
		leaks_only += only_leaks && got == -ENOENT;
		if (!got)
			borrow_apply(fz, fd, &c);
		check_borrows(fz, in);
		/* leaks stay until the borrower is unloaded */
		if (fz->nleaks >= LEAK_CAP) {
			borrow_reload_fuzz(_metadata, fz, &fd, in);
			reloads++;
		}
	}
	plain_write(fz, fd, "release all", ok);
	model_release(fz, 0);
	check_borrows(fz, NULL);
	/* only the leaks are left: unloading gives them back */
	borrow_reload_fuzz(_metadata, fz, &fd, NULL);
	reloads++;

	for (k = 0; k < ARRAY_SIZE(res_name); k++)
		len += snprintf(line + len, sizeof(line) - len, "%s%s %lu",
				k ? ", " : "", res_name[k], leak_res[k]);
	note("control: %lu writes, %lu accepted, seed 0x%llx, %.1f s\n",
	     fz->writes, fz->accepted, fuzz_seed(), now_s() - t0);
	note("control: leak commands %s\n", line);
	note("control: %lu reloads; %lu ENOENT for release of a pid with only leaks\n",
	     reloads, leaks_only);
	EXPECT_EQ(0, fz->failures);
	/* each answer a leak can get, and release skipping a leak */
	for (k = 0; k + 1 < ARRAY_SIZE(res_name); k++)
		EXPECT_LT(0, leak_res[k]) TH_LOG("no leak got %s", res_name[k]);
	EXPECT_EQ(0, leak_res[ARRAY_SIZE(res_name) - 1]);
	EXPECT_LT(0, leaks_only);
	close(fd);
	fuzzer_fini(fz);
	free(in);
	free(fz);
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
static pid_t spawn_twin(pid_t *thread, int *release_fd)
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

/*
 * watch: single writer, every result predicted by the model of the slots,
 * the file read back after each write. Also the pids of a twin (two tasks,
 * one mm) and of a child already reaped.
 */
static void fuzz_watch(struct __test_metadata *_metadata, unsigned long writes,
		       const pid_t *waiters)
{
	static const char * const res_name[] = {
		"accepted", "EINVAL", "EFAULT", "ESPIPE", "ESRCH", "EEXIST",
		"ENOSPC", "other",
	};
	static const int res_err[] = {
		0, EINVAL, EFAULT, ESPIPE, ESRCH, EEXIST, ENOSPC,
	};
	unsigned long res[ARRAY_SIZE(res_name)] = { 0 }, kinds[W_DISARM + 1] = { 0 };
	struct fuzzer *fz = calloc(1, sizeof(*fz));
	struct input *in = calloc(1, sizeof(*in));
	struct expect ok = exactly(0);
	char line[200], text[1024];
	struct watch_state ws;
	struct watch_cmd c;
	struct expect e;
	int wfd, rfd, got, tries, twin_fd = -1, len = 0;
	unsigned int k;
	pid_t twin, thread = 0;
	double t0 = now_s();
	unsigned long i;

	ASSERT_NE(NULL, fz);
	ASSERT_NE(NULL, in);
	ASSERT_EQ(0, fuzzer_init(fz, F_WATCH, F_WATCH + 1, waiters));
	twin = spawn_twin(&thread, &twin_fd);
	ASSERT_LT(0, twin);
	fz->known[fz->nknown] = twin;
	fz->known_mm[fz->nknown++] = NR_WAITERS;
	fz->known[fz->nknown] = thread;
	fz->known_mm[fz->nknown++] = NR_WAITERS;
	fz->dead = fork();
	if (!fz->dead)
		_exit(0);
	ASSERT_LT(0, fz->dead);
	ASSERT_EQ(fz->dead, waitpid(fz->dead, NULL, 0));

	wfd = open(MMREFS_WATCH, O_WRONLY | O_CLOEXEC);
	rfd = open(MMREFS_WATCH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, wfd);
	ASSERT_LE(0, rfd);
	ASSERT_EQ(0, plain_write(fz, wfd, "clear", ok));
	ASSERT_EQ(0, plain_write(fz, wfd, "stack=0", ok));
	ASSERT_LT(0, pread_all(rfd, text, sizeof(text)));
	ASSERT_TRUE(watch_parse(text, &ws)) TH_LOG("watch: \"%s\"", text);
	/* two mms on x86 (four registers, two per mm); room for the model */
	ASSERT_LE(2, ws.slots);
	fz->w_slots = ws.slots;

	for (i = 0; i < writes; i++) {
		tries = 0;
		do {
			gen_content(fz, in);
			gen_delivery(fz, in);
		} while (!watch_expect(fz, in, &c, &e) && ++tries < 20);
		if (tries == 20) {
			in->len = 0;
			in->how = D_WRITE;
			watch_expect(fz, in, &c, &e);
		}
		one_write(fz, wfd, in, e, &got);
		for (k = 0; k < ARRAY_SIZE(res_err) && got != -res_err[k]; k++)
			;
		res[k]++;
		if (!got) {
			kinds[c.kind]++;
			watch_apply(fz, &c);
		}
		check_watch(fz, rfd, in);
	}
	plain_write(fz, wfd, "clear", ok);
	plain_write(fz, wfd, "stack=0", ok);
	memset(fz->w_pid, 0, sizeof(fz->w_pid));
	fz->w_stack = 0;
	check_watch(fz, rfd, NULL);

	for (k = 0; k < ARRAY_SIZE(res_name); k++)
		len += snprintf(line + len, sizeof(line) - len, "%s%s %lu",
				k ? ", " : "", res_name[k], res[k]);
	note("watch: %lu writes, %lu accepted, seed 0x%llx, %.1f s\n",
	     fz->writes, fz->accepted, fuzz_seed(), now_s() - t0);
	note("watch: fuzzed %s\n", line);
	note("watch: accepted pid= %lu, -pid= %lu, clear %lu, stack= %lu\n",
	     kinds[W_ARM], kinds[W_DISARM], kinds[W_CLEAR], kinds[W_STACK]);
	EXPECT_EQ(0, fz->failures);
	/* every kind of answer was seen */
	for (k = 0; k + 1 < ARRAY_SIZE(res); k++)
		EXPECT_LT(0, res[k]) TH_LOG("no %s", res_name[k]);
	EXPECT_EQ(0, res[ARRAY_SIZE(res) - 1]);
	close(wfd);
	close(rfd);
	mmrefs_waiter_exit(&twin, &twin_fd);
	fuzzer_fini(fz);
	free(in);
	free(fz);
}

/*
 * holders: single writer, every result predicted by the model, the
 * selection read back after each write.
 */
static void fuzz_holders(struct __test_metadata *_metadata,
			 unsigned long writes, const pid_t *waiters,
			 const struct own_mm *own)
{
	static const char * const res_name[] = {
		"accepted", "EINVAL", "EFAULT", "ESPIPE", "other",
	};
	static const int res_err[] = { 0, EINVAL, EFAULT, ESPIPE };
	unsigned long res[ARRAY_SIZE(res_name)] = { 0 }, kinds[H_TGID + 1] = { 0 };
	struct fuzzer *fz = calloc(1, sizeof(*fz));
	struct input *in = calloc(1, sizeof(*in));
	struct holders_sel all = { .kind = H_ALL }, c;
	struct expect ok = exactly(0), e;
	int wfd, rfd, got, len = 0;
	double t0 = now_s();
	char line[160];
	unsigned long i;
	unsigned int k;

	ASSERT_NE(NULL, fz);
	ASSERT_NE(NULL, in);
	ASSERT_EQ(0, fuzzer_init(fz, F_HOLDERS, F_HOLDERS + 1, waiters));
	memcpy(fz->own, own, sizeof(fz->own));
	wfd = open(MMREFS_HOLDERS, O_WRONLY | O_CLOEXEC);
	rfd = open(MMREFS_HOLDERS, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, wfd);
	ASSERT_LE(0, rfd);
	ASSERT_EQ(0, plain_write(fz, wfd, "all", ok));
	fz->h_sel = all;
	check_holders(fz, rfd, NULL);
	ASSERT_EQ(0, fz->failures);

	for (i = 0; i < writes; i++) {
		gen_content(fz, in);
		gen_delivery(fz, in);
		e = holders_expect(in, &c);
		one_write(fz, wfd, in, e, &got);
		for (k = 0; k < ARRAY_SIZE(res_err) && got != -res_err[k]; k++)
			;
		res[k]++;
		if (!got && c.kind != H_BAD) {
			kinds[c.kind]++;
			fz->h_sel = c;
		}
		check_holders(fz, rfd, in);
	}
	/* every mm shown again */
	plain_write(fz, wfd, "all", ok);
	fz->h_sel = all;
	check_holders(fz, rfd, NULL);

	for (k = 0; k < ARRAY_SIZE(res_name); k++)
		len += snprintf(line + len, sizeof(line) - len, "%s%s %lu",
				k ? ", " : "", res_name[k], res[k]);
	note("holders: %lu writes, %lu accepted, seed 0x%llx, %.1f s\n",
	     fz->writes, fz->accepted, fuzz_seed(), now_s() - t0);
	note("holders: fuzzed %s\n", line);
	note("holders: accepted all %lu, mm= %lu, tgid= %lu\n",
	     kinds[H_ALL], kinds[H_MM], kinds[H_TGID]);
	EXPECT_EQ(0, fz->failures);
	/* every kind of answer and of selection was seen */
	for (k = 0; k + 1 < ARRAY_SIZE(res); k++)
		EXPECT_LT(0, res[k]) TH_LOG("no %s", res_name[k]);
	EXPECT_EQ(0, res[ARRAY_SIZE(res) - 1]);
	for (k = H_ALL; k <= H_TGID; k++)
		EXPECT_LT(0, kinds[k]);
	close(wfd);
	close(rfd);
	fuzzer_fini(fz);
	free(in);
	free(fz);
}

/* ---- concurrent writers and readers ---- */

struct conc {
	const pid_t *waiters;
	double deadline;
	int stop;
	unsigned long failures;
	char filter_ok[3][32];	/* the values concurrent writers may set */
	struct holders_sel holders_ok[3];
	struct own_mm own[NR_OWN_MMS];
};

struct writer {
	struct conc *conc;
	enum fuzz_file file;	/* NR_FILES: any file, one at random per write */
	unsigned long long stream;
	unsigned long writes;
};

/*
 * Concurrent writers may set only values the readers know about: regenerate
 * anything valid that is not in the set (unknown pids, short holds).
 */
static bool conc_allowed(struct fuzzer *fz, struct conc *cc, const struct input *in)
{
	struct holders_sel hs;
	struct borrow_cmd c;
	struct watch_cmd wc;
	struct expect e;
	char canon[64];
	int i;

	if (expect_vfs(fz->file, in) != 1)
		return true;
	if (fz->file == F_WATCH)
		return watch_expect(fz, in, &wc, &e);
	if (fz->file == F_HOLDERS) {
		hs = model_holders(in->data, in->len);
		for (i = 0; i < 3 && hs.kind != H_BAD; i++)
			if (hs.kind == cc->holders_ok[i].kind &&
			    hs.val == cc->holders_ok[i].val)
				return true;
		return hs.kind == H_BAD;
	}
	if (fz->file == F_FILTER) {
		if (model_filter(in->data, in->len, canon, sizeof(canon)))
			return true;
		for (i = 0; i < 3; i++)
			if (!strcmp(canon, cc->filter_ok[i]))
				return true;
		return false;
	}
	if (fz->file == F_ENABLE)
		return true;
	c = model_borrow(in->data, in->len, fz->max_hold);
	if (c.kind == B_GRAB || c.kind == B_GET)
		return is_waiter(fz, c.pid) && c.hold >= HOLD_STABLE_MS;
	/* only a reload gives a leak back, and the others are writing */
	return c.kind != B_LEAK;
}

static void conc_write(struct fuzzer *fz, struct conc *cc, int fd[NR_FILES],
		       enum fuzz_file file, struct input *in)
{
	struct holders_sel hs;
	struct watch_cmd wc;
	struct borrow_cmd c;
	struct expect e;
	char canon[64];
	int model, got, tries = 0;

	fz->file = file;
	do {
		gen_content(fz, in);
		gen_delivery(fz, in);
	} while (!conc_allowed(fz, cc, in) && ++tries < 20);
	if (tries == 20) {
		in->len = 0;
		in->how = D_WRITE;
	}
	if (file == F_BORROW) {
		e = borrow_expect(fz, in, &c);
	} else if (file == F_WATCH) {
		watch_expect(fz, in, &wc, &e);
	} else if (file == F_HOLDERS) {
		e = holders_expect(in, &hs);
	} else {
		model = expect_vfs(file, in);
		if (model == 1)
			model = file == F_FILTER ?
				model_filter(in->data, in->len, canon, sizeof(canon)) :
				model_enable(in->data, in->len, canon, sizeof(canon));
		e = exactly(model);
	}
	one_write(fz, fd[file], in, e, &got);
}

static void *writer_run(void *arg)
{
	struct writer *w = arg;
	struct conc *cc = w->conc;
	struct fuzzer *fz = calloc(1, sizeof(*fz));
	struct input *in = calloc(1, sizeof(*in));
	int fd[NR_FILES], f;
	unsigned long i;

	if (!fz || !in || fuzzer_init(fz, F_FILTER, w->stream, cc->waiters)) {
		__atomic_add_fetch(&cc->failures, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	fz->concurrent = true;
	memcpy(fz->own, cc->own, sizeof(fz->own));
	for (f = 0; f < NR_FILES; f++)
		fd[f] = open(file_path[f], O_WRONLY | O_CLOEXEC);
	for (i = 0; i < w->writes && !__atomic_load_n(&cc->stop, __ATOMIC_RELAXED);
	     i++) {
		if (!(i % 64) && now_s() > cc->deadline)
			break;
		f = w->file == NR_FILES ? (int)below(&fz->rng, NR_FILES) : (int)w->file;
		if (fd[f] < 0) {
			fail(fz, NULL, "cannot open %s", file_path[f]);
			break;
		}
		conc_write(fz, cc, fd, f, in);
	}
	__atomic_add_fetch(&cc->failures, fz->failures, __ATOMIC_RELAXED);
	for (f = 0; f < NR_FILES; f++)
		if (fd[f] >= 0)
			close(fd[f]);
	fuzzer_fini(fz);
	free(in);
	free(fz);
	return NULL;
}

struct reader {
	struct conc *conc;
	const char *path;
	bool one_read;
	unsigned long reads, failures;
};

/*
 * One value of filter, enable or watch: one open and a read from offset 0.  (The
 * files are single_open() seq_files, so reading on in pieces would show
 * the same value; an earlier version joined two values there.)
 */
static ssize_t read_once(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread_all(fd, buf, size);
	close(fd);
	return n;
}

/* What every read must show while the writers run. */
static bool reader_check(struct reader *r, const char *text)
{
	const pid_t *w = r->conc->waiters;
	char mode[BORROW_MAX + 1][8];
	struct watch_state ws;
	pid_t pid[BORROW_MAX + 1];
	int i, j, n;

	if (!strcmp(r->path, MMREFS_FILTER)) {
		for (i = 0; i < 3; i++)
			if (!strcmp(text, r->conc->filter_ok[i]))
				return true;
		return false;
	}
	if (!strcmp(r->path, MMREFS_ENABLE))
		return !strcmp(text, "0\n") || !strcmp(text, "1\n");
	if (!strcmp(r->path, MMREFS_WATCH)) {
		/* only waiters are armed, each mm in one slot at most */
		if (!watch_parse(text, &ws))
			return false;
		for (i = 0; i < ws.slots; i++) {
			for (j = 0; j < i && ws.pid[i]; j++)
				if (ws.pid[j] == ws.pid[i])
					return false;
			for (j = 0; j < NR_WAITERS && ws.pid[i] &&
			     w[j] != ws.pid[i]; j++)
				;
			if (j == NR_WAITERS)
				return false;
		}
		return true;
	}
	/* only the mms some writer may select: never all */
	if (!strcmp(r->path, MMREFS_HOLDERS))
		return !holders_scan(text, r->conc->holders_ok, 3, NULL, NULL);
	if (!strcmp(r->path, BORROW_CONTROL)) {
		if (!borrow_list(text, pid, mode, &n, BORROW_MAX))
			return false;
		for (i = 0; i < n; i++) {
			for (j = 0; j < NR_WAITERS && w[j] != pid[i]; j++)
				;
			if (j == NR_WAITERS)
				return false;
		}
		return true;
	}
	/* mms, history and stats: complete lines of key=value text */
	return *text && text[strlen(text) - 1] == '\n';
}

static void *reader_run(void *arg)
{
	struct reader *r = arg;
	size_t size = 1 << 20;
	char *buf = malloc(size);
	ssize_t n;

	if (!buf) {
		r->failures++;
		return NULL;
	}
	while (!__atomic_load_n(&r->conc->stop, __ATOMIC_RELAXED)) {
		n = r->one_read ? read_once(r->path, buf, size) :
		    read_path(r->path, buf, size);
		r->reads++;
		if (n < 0 || !reader_check(r, buf)) {
			if (r->failures++ < 5)
				fprintf(stderr, "# fuzz: read of %s (%zd) gives \"%s\"\n",
					r->path, n, n < 0 ? "" : quote(buf, n));
		}
	}
	free(buf);
	return NULL;
}

/* ---- the tests ---- */

FIXTURE(fuzz) {
	pid_t waiters[NR_WAITERS];
	int fds[NR_WAITERS];
	struct own_mm own[NR_OWN_MMS];	/* the waiters' mms, then ours */
};

FIXTURE_SETUP(fuzz)
{
	const char *why = mmrefs_missing();
	int i;

	for (i = 0; i < NR_WAITERS; i++)
		self->fds[i] = -1;
	if (!why)
		why = borrow_missing();
	if (why)
		SKIP(return, "%s", why);
	ASSERT_NE(NULL, totals);
	mmrefs_reset_filter();
	/* no borrow left, leaks included */
	ASSERT_EQ(0, borrow_clean());
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_WATCH, "clear"));
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_WATCH, "stack=0"));
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_HOLDERS, "all"));
	for (i = 0; i < NR_WAITERS; i++) {
		self->waiters[i] = mmrefs_spawn_waiter("mmr_fuzz", &self->fds[i]);
		ASSERT_GT(self->waiters[i], 0);
		self->own[i].tgid = self->waiters[i];
	}
	/* each process is an mm of its own, tracked from its fork */
	self->own[NR_WAITERS].tgid = getpid();
	for (i = 0; i < NR_OWN_MMS; i++) {
		self->own[i].id = mmrefs_id_of(self->own[i].tgid);
		ASSERT_NE(-1ULL, self->own[i].id) TH_LOG("no mm of %d in mms",
							 self->own[i].tgid);
	}
}

FIXTURE_TEARDOWN(fuzz)
{
	int i;

	/*
	 * no borrow (a leak only goes with a reload) or watch outlives the
	 * test (a watch would outlive the waiter it is on for up to a
	 * second); recording is back on, holders shows every mm
	 */
	if (!borrow_missing())
		borrow_clean();
	if (!mmrefs_missing()) {
		mmrefs_write_file(MMREFS_WATCH, "clear");
		mmrefs_write_file(MMREFS_WATCH, "stack=0");
		mmrefs_write_file(MMREFS_HOLDERS, "all");
	}
	mmrefs_reset_filter();
	for (i = 0; i < NR_WAITERS; i++)
		mmrefs_waiter_reap(&self->waiters[i], &self->fds[i]);
}

TEST_F_TIMEOUT(fuzz, filter_rejects_or_applies, 300)
{
	if (_metadata->skip)
		return;
	fuzz_setting_file(_metadata, F_FILTER, FILTER_WRITES, self->waiters);
	/* the last accepted value is still there; put "all" back */
	EXPECT_EQ(0, mmrefs_write_file(MMREFS_FILTER, "all"));
	EXPECT_STREQ("all\n", mmrefs_read_file(MMREFS_FILTER));
}

TEST_F_TIMEOUT(fuzz, enable_rejects_or_applies, 300)
{
	if (_metadata->skip)
		return;
	fuzz_setting_file(_metadata, F_ENABLE, ENABLE_WRITES, self->waiters);
	EXPECT_EQ(0, mmrefs_write_file(MMREFS_ENABLE, "1"));
	EXPECT_STREQ("1\n", mmrefs_read_file(MMREFS_ENABLE));
}

TEST_F_TIMEOUT(fuzz, borrow_control_rejects_or_applies, 300)
{
	if (_metadata->skip)
		return;
	fuzz_borrow(_metadata, BORROW_WRITES, self->waiters);
	/* every borrow released, every leak unloaded: the list is empty */
	EXPECT_STREQ("", mmrefs_read_file(BORROW_CONTROL));
}

TEST_F_TIMEOUT(fuzz, watch_rejects_or_applies, 300)
{
	const char *text;

	if (_metadata->skip)
		return;
	fuzz_watch(_metadata, WATCH_WRITES, self->waiters);
	/* cleared at the end: every slot free, no stacks */
	text = mmrefs_read_file(MMREFS_WATCH);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(mmrefs_field(text, "slots"), mmrefs_field(text, "free"));
	EXPECT_EQ(0, mmrefs_field(text, "stack"));
}

TEST_F_TIMEOUT(fuzz, holders_rejects_or_applies, 300)
{
	struct holders_sel all = { .kind = H_ALL };
	unsigned int seen;
	const char *text;

	if (_metadata->skip)
		return;
	fuzz_holders(_metadata, HOLDERS_WRITES, self->waiters, self->own);
	/* all again: every mm of ours is shown */
	text = mmrefs_read_file(MMREFS_HOLDERS);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(NULL, holders_scan(text, &all, 1, self->own, &seen));
	EXPECT_EQ((1U << NR_OWN_MMS) - 1, seen);
}

/*
 * Writers hammer all five files from threads and processes while
 * readers read every file. Results must still match the model (the
 * borrower's and watch's may also see the other writers' borrows and
 * watches), and no reader may ever see a value no writer was allowed to
 * set: holders only ever shows the mms the writers may select. No
 * writer leaks.
 */
TEST_F_TIMEOUT(fuzz, concurrent_writers_and_readers, 300)
{
	static const char * const read_paths[] = {
		MMREFS_MMS, MMREFS_HISTORY, MMREFS_STATS, MMREFS_FILTER,
		MMREFS_ENABLE, BORROW_CONTROL, MMREFS_WATCH, MMREFS_HOLDERS,
	};
	struct holders_sel all = { .kind = H_ALL };
	pthread_t wt[NR_FILES * CONC_THREADS_PER_FILE];
	pthread_t rt[ARRAY_SIZE(read_paths)];
	struct writer w[NR_FILES * CONC_THREADS_PER_FILE];
	struct reader r[ARRAY_SIZE(read_paths)];
	unsigned long writes0 = 0, writes = 0, reads = 0;
	const char *text;
	struct writer pw;
	pid_t procs[CONC_PROCS];
	unsigned int seen;
	struct conc *cc;
	char line[32];
	unsigned int i, nw = 0, nr = 0;
	double t0 = now_s();
	int status, f;

	if (_metadata->skip)
		return;
	cc = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	ASSERT_NE(MAP_FAILED, cc);
	cc->waiters = self->waiters;
	cc->deadline = t0 + CONC_SECONDS;
	snprintf(cc->filter_ok[0], sizeof(cc->filter_ok[0]), "all\n");
	snprintf(cc->filter_ok[1], sizeof(cc->filter_ok[1]), "tgid=%d\n",
		 self->waiters[0]);
	snprintf(cc->filter_ok[2], sizeof(cc->filter_ok[2]), "comm=mmr_fuzz\n");
	/* holders: waiter 0's mm, waiter 1's tgid, an id no mm has */
	memcpy(cc->own, self->own, sizeof(cc->own));
	cc->holders_ok[0].kind = H_MM;
	cc->holders_ok[0].val = self->own[0].id;
	cc->holders_ok[1].kind = H_TGID;
	cc->holders_ok[1].val = self->own[1].tgid;
	cc->holders_ok[2].kind = H_MM;
	cc->holders_ok[2].val = NO_MM_ID;
	snprintf(line, sizeof(line), "mm=%llu", self->own[0].id);
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_HOLDERS, line));
	for (f = 0; f < NR_FILES; f++)
		writes0 += totals->writes[f];

	/* processes first: fork() before this process has threads */
	for (i = 0; i < CONC_PROCS; i++) {
		procs[i] = fork();
		ASSERT_LE(0, procs[i]);
		if (!procs[i]) {
			pw.conc = cc;
			pw.file = NR_FILES;
			pw.stream = 100 + i;
			pw.writes = CONC_WRITES;
			writer_run(&pw);
			_exit(0);
		}
	}
	for (i = 0; i < ARRAY_SIZE(read_paths); i++) {
		r[i].conc = cc;
		r[i].path = read_paths[i];
		r[i].one_read = !strcmp(read_paths[i], MMREFS_FILTER) ||
				!strcmp(read_paths[i], MMREFS_ENABLE) ||
				!strcmp(read_paths[i], MMREFS_WATCH);
		r[i].reads = 0;
		r[i].failures = 0;
		if (!pthread_create(&rt[nr], NULL, reader_run, &r[i]))
			nr++;
	}
	for (i = 0; i < ARRAY_SIZE(w); i++) {
		w[i].conc = cc;
		w[i].file = i % NR_FILES;
		w[i].stream = 10 + i;
		w[i].writes = CONC_WRITES;
		if (!pthread_create(&wt[nw], NULL, writer_run, &w[i]))
			nw++;
	}
	for (i = 0; i < nw; i++)
		pthread_join(wt[i], NULL);
	for (i = 0; i < CONC_PROCS; i++) {
		ASSERT_EQ(procs[i], waitpid(procs[i], &status, 0));
		EXPECT_EQ(0, status);
	}
	__atomic_store_n(&cc->stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < nr; i++)
		pthread_join(rt[i], NULL);
	EXPECT_EQ(ARRAY_SIZE(w), nw);
	EXPECT_EQ(ARRAY_SIZE(read_paths), nr);

	for (f = 0; f < NR_FILES; f++)
		writes += totals->writes[f];
	writes -= writes0;
	for (i = 0; i < nr; i++) {
		reads += r[i].reads;
		EXPECT_EQ(0, r[i].failures) TH_LOG("reader of %s", r[i].path);
		/* every file was read while the writers ran */
		EXPECT_LT(0, r[i].reads) TH_LOG("reader of %s", r[i].path);
	}
	count(&totals->reads, reads);
	note("concurrent: %lu writes by %u threads and %u processes, %lu reads, %.1f s\n",
	     writes, nw, CONC_PROCS, reads, now_s() - t0);
	EXPECT_EQ(0, cc->failures);

	/* whatever the writers left: release it, and the list is empty */
	EXPECT_EQ(0, borrow_cmd("release all"));
	EXPECT_STREQ("", mmrefs_read_file(BORROW_CONTROL));
	/* and no watch is left on */
	EXPECT_EQ(0, mmrefs_write_file(MMREFS_WATCH, "clear"));
	EXPECT_EQ(0, mmrefs_write_file(MMREFS_WATCH, "stack=0"));
	text = mmrefs_read_file(MMREFS_WATCH);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(mmrefs_field(text, "slots"), mmrefs_field(text, "free"));
	/* and holders shows every mm again, ours included */
	EXPECT_EQ(0, mmrefs_write_file(MMREFS_HOLDERS, "all"));
	text = mmrefs_read_file(MMREFS_HOLDERS);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(NULL, holders_scan(text, &all, 1, self->own, &seen));
	EXPECT_EQ((1U << NR_OWN_MMS) - 1, seen);
	munmap(cc, PAGE);
}

TEST_F(fuzz, total_writes)
{
	struct holders_sel all = { .kind = H_ALL };
	unsigned long writes = 0;
	unsigned int seen;
	const char *text;
	int f;

	if (_metadata->skip)
		return;
	for (f = 0; f < NR_FILES; f++)
		writes += totals->writes[f];
	note("total: %lu writes (filter %lu, enable %lu, control %lu, watch %lu, holders %lu)\n",
	     writes, totals->writes[F_FILTER], totals->writes[F_ENABLE],
	     totals->writes[F_BORROW], totals->writes[F_WATCH],
	     totals->writes[F_HOLDERS]);
	note("seed 0x%llx\n", fuzz_seed());
	note("accepted %lu, EINVAL %lu, EFAULT %lu, ESPIPE %lu\n",
	     totals->accepted, totals->einval, totals->efault,
	     totals->espipe);
	note("ENOENT %lu, ESRCH %lu, EBUSY %lu, EEXIST %lu, ENOSPC %lu; %lu concurrent reads\n",
	     totals->enoent, totals->esrch, totals->ebusy, totals->eexist,
	     totals->enospc, totals->reads);
	EXPECT_LE(TOTAL_WRITES_MIN, writes);
	EXPECT_LE(WATCH_WRITES, totals->writes[F_WATCH]);
	EXPECT_LE(HOLDERS_WRITES, totals->writes[F_HOLDERS]);
	/* each kind of result was seen at least once */
	EXPECT_LT(0, totals->accepted);
	EXPECT_LT(0, totals->einval);
	EXPECT_LT(0, totals->efault);
	EXPECT_LT(0, totals->espipe);
	EXPECT_LT(0, totals->enoent);
	EXPECT_LT(0, totals->esrch);
	EXPECT_LT(0, totals->ebusy);
	EXPECT_LT(0, totals->eexist);
	EXPECT_LT(0, totals->enospc);
	/* the fuzz left the defaults */
	EXPECT_STREQ("all\n", mmrefs_read_file(MMREFS_FILTER));
	EXPECT_STREQ("1\n", mmrefs_read_file(MMREFS_ENABLE));
	text = mmrefs_read_file(MMREFS_WATCH);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(mmrefs_field(text, "slots"), mmrefs_field(text, "free"));
	EXPECT_EQ(0, mmrefs_field(text, "stack"));
	text = mmrefs_read_file(MMREFS_HOLDERS);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(NULL, holders_scan(text, &all, 1, self->own, &seen));
	EXPECT_EQ((1U << NR_OWN_MMS) - 1, seen);
	/* and the borrower holds nothing, no leak either */
	EXPECT_STREQ("", mmrefs_read_file(BORROW_CONTROL));
}

TEST_HARNESS_MAIN
