// SPDX-License-Identifier: GPL-2.0
/*
 * mmrefs timeline: one mm's events (the history file's event lines,
 * Documentation/interface.rst "history") drawn as one self-contained SVG:
 * users and count as step lines, each holder as a span in a lane of its
 * own, and the moments users and count reach 0.  Documentation/timeline.rst
 * says how to read it; the colours are in mmrefs_timeline.h.
 *
 * Input is checked, never guessed: an unknown key, op or cause, a second
 * mm, a line that is neither an event, an "mm id=" header, a stack frame
 * after an event nor blank is an error naming its line.
 *
 * Holders are derived from the events by the rules below, in input order.
 * A span opens at the event that takes a reference and closes at the event
 * that drops it; one whose drop is not in the input runs to the end and is
 * drawn open.  A drop no rule can pair is drawn as an unpaired mark, never
 * dropped.  Where a rule must choose among spans of one task it takes the
 * newest (references of one task nest: a reader's get inside its open).
 *
 *   thread      users   new (the forked child or the exec'ing task),
 *                       get thread/vfork/clone_vm, mmget clone_vm, until a
 *                       put/mmput exit or exec: the span of that task, else
 *                       the oldest whose task is not known (a fork or clone
 *                       is recorded by the parent, so the child's pid is
 *                       first seen at its exit; which of several such
 *                       children is which the events cannot tell)
 *   shared      count   new, until mmdrop teardown (watched) or a teardown
 *                       that drops count: the one reference all users share
 *   mmget       users   get get_task_mm, any mmget but clone's (watched: the
 *                       write cannot tell get_task_mm() from mm_access()),
 *                       until the same task's put/mmput put or async
 *   proc        users   get mm_access, mmget_not_zero by a user task
 *               count   grab proc, mmgrab by a user task, until the same
 *                       task's put/mmput (users) or mmdrop (count)
 *   kthread     users   mmget_not_zero or get mm_access by a kernel thread
 *               count   mmgrab by a kernel thread or cause kthread, until
 *                       the same task's mmdrop; kthread_use_mm() (mmgrab
 *                       use_mm, or use when that was not seen), until unuse
 *   lazy_tlb    count   lazy_tlb up on a CPU, until lazy_tlb down on that
 *                       CPU; an unuse whose use_mm mmgrab was seen hands
 *                       that reference to its CPU (kthread_unuse_mm() keeps
 *                       the mm as active_mm), so a lazy_tlb span opens there
 *   observer    count   watch, until an unwatch that drops count, or the
 *                       free that drops the last reference
 *   khugepaged  count   mmgrab khugepaged, until mmdrop khugepaged
 *
 * A free that drops count to 0 closes the one span still holding count, if
 * exactly one is open.  The last holder is the span closed by the event at
 * which count reaches 0.  After each event the spans open on each counter
 * are compared with its value; where they differ (seed, an unwatched mm's
 * inlined helpers, a gap) the drawing says so.
 *
 * The time axis is ordered by input, and each gap between two events is
 * as wide as the logarithm of its length (at least TL_GAP_MIN): a burst of
 * microseconds and a wait of a second both stay readable.  Its labels are
 * exact ms since the first event.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmrefs_timeline.h"

/* The names of module/mmrefs.h's lists, in their order (timeline-check compares). */
static const char * const tl_op_names[] = {
	"seed", "new", "get", "put", "grab", "use", "unuse", "teardown", "free",
	"mmget", "mmget_not_zero", "mmput", "mmgrab", "mmdrop", "lazy_tlb",
	"write", "watch", "unwatch", "gap",
};

enum tl_op {
	OP_SEED, OP_NEW, OP_GET, OP_PUT, OP_GRAB, OP_USE, OP_UNUSE, OP_TEARDOWN,
	OP_FREE, OP_MMGET, OP_MMGET_NOT_ZERO, OP_MMPUT, OP_MMGRAB, OP_MMDROP,
	OP_LAZY_TLB, OP_WRITE, OP_WATCH, OP_UNWATCH, OP_GAP,
};

static const char * const tl_cause_names[] = {
	"seed", "fork", "exec", "thread", "vfork", "clone_vm", "exit",
	"get_task_mm", "mm_access", "put", "async", "proc", "kthread",
	"teardown", "free", "trap", "observer", "use_mm", "khugepaged",
	"hotplug", "site",
};

enum tl_cause {
	CA_SEED, CA_FORK, CA_EXEC, CA_THREAD, CA_VFORK, CA_CLONE_VM, CA_EXIT,
	CA_GET_TASK_MM, CA_MM_ACCESS, CA_PUT, CA_ASYNC, CA_PROC, CA_KTHREAD,
	CA_TEARDOWN, CA_FREE, CA_TRAP, CA_OBSERVER, CA_USE_MM, CA_KHUGEPAGED,
	CA_HOTPLUG, CA_SITE,
};

#define TL_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define TL_NONE			SIZE_MAX

struct tl_event {
	unsigned long line;
	unsigned long long id, ts;
	long long seq;			/* -1: not in the input (trace stream) */
	int cpu;			/* -1: not in the input */
	int pid, tgid, kthread;
	char comm[64];
	int op, cause;
	int users_old, users_new, count_old, count_new;
	char site[160];
	const char *trap;		/* NULL: not in the input */
	int observer;			/* -1: not in the input */
};

enum tl_kind {
	K_THREAD, K_SHARED, K_LAZY, K_KTHREAD, K_PROC, K_MMGET, K_OBSERVER,
	K_KHUGEPAGED, K_NR,
};

static const struct {
	const char *name, *colour, *what;
} tl_kinds[K_NR] = {
	[K_THREAD]	= { "thread", MMREFS_TL_THREAD, "a task using the mm" },
	[K_SHARED]	= { "shared", MMREFS_TL_SHARED, "the users' shared count reference" },
	[K_LAZY]	= { "lazy_tlb", MMREFS_TL_LAZY, "a CPU's lazy-TLB active_mm" },
	[K_KTHREAD]	= { "kthread", MMREFS_TL_KTHREAD, "a kernel-thread borrower" },
	[K_PROC]	= { "proc", MMREFS_TL_PROC, "a /proc reader" },
	[K_MMGET]	= { "mmget", MMREFS_TL_MMGET, "get_task_mm()/mm_access() mmget" },
	[K_OBSERVER]	= { "observer", MMREFS_TL_OBSERVER, "mmrefs' watch reference" },
	[K_KHUGEPAGED]	= { "khugepaged", MMREFS_TL_KHUGEPAGED, "khugepaged's registration" },
};

enum tl_ctr { CTR_NONE, CTR_USERS, CTR_COUNT };

struct tl_span {
	int kind, ctr;
	int pid;			/* the holder task, -1 not known */
	int cpu;			/* lazy_tlb: the CPU */
	const char *role;		/* lane key and label beside kind and task */
	char comm[64];
	size_t open, close;		/* event indexes; close TL_NONE: open */
	size_t lane;
};

/* A drop (or a write) that no span explains. */
struct tl_mark {
	size_t ev;
	const char *why;
};

struct tl {
	struct tl_event *ev;
	size_t nev, evcap;
	struct tl_span *sp;
	size_t nsp, spcap;
	struct tl_mark *mk;
	size_t nmk, mkcap;
	size_t nlanes;
	size_t users_zero, count_zero;	/* events where they reach 0 */
	size_t last_span, last_mark;	/* the last holder */
	size_t unexplained, first_unexplained;
	unsigned long line;		/* current input line */
	bool failed;
};

static int tl_err(struct tl *t, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%lu: ", t->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	t->failed = true;
	return -1;
}

/* Grow *@p (of *@cap elements of @size) to hold @n + 1. */
static int tl_grow(struct tl *t, void **p, size_t *cap, size_t n, size_t size)
{
	void *q;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 32;
	q = realloc(*p, ncap * size);
	if (!q)
		return tl_err(t, "out of memory");
	*p = q;
	*cap = ncap;
	return 0;
}

/* ---- parsing ---------------------------------------------------------- */

static int tl_name(const char * const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

/* A decimal in [@min, @max], the whole string. */
static int tl_num(const char *s, long long min, long long max, long long *v)
{
	char *end;

	if (!*s || (*s != '-' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	*v = strtoll(s, &end, 10);
	if (errno || *end || *v < min || *v > max)
		return -1;
	return 0;
}

static int tl_ull(const char *s, unsigned long long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

/* "A->B" */
static int tl_pair(const char *s, int *a, int *b)
{
	const char *arrow = strstr(s, "->");
	char first[32];
	long long x, y;

	if (!arrow || (size_t)(arrow - s) >= sizeof(first))
		return -1;
	memcpy(first, s, arrow - s);
	first[arrow - s] = '\0';
	if (tl_num(first, INT_MIN, INT_MAX, &x) ||
	    tl_num(arrow + 2, INT_MIN, INT_MAX, &y))
		return -1;
	*a = (int)x;
	*b = (int)y;
	return 0;
}

/* "SYM+0xOFF/0xSIZE", or "SYM+0xOFF/0xSIZE [MOD]" split in two tokens. */
static bool tl_is_site(const char *s)
{
	const char *plus = strrchr(s, '+');

	return plus && plus != s && !strncmp(plus + 1, "0x", 2) &&
	       strstr(plus, "/0x");
}

/* A stack line of history: a symbol with an optional "[module]", or the
 * "(N frames without a symbol)" summary.
 */
static bool tl_is_frame(const char *s)
{
	char sym[256];
	const char *sp = strchr(s, ' ');
	size_t n = sp ? (size_t)(sp - s) : strlen(s);

	if (*s == '(')
		return strstr(s, " frames without a symbol)");
	if (n >= sizeof(sym))
		return false;
	memcpy(sym, s, n);
	sym[n] = '\0';
	if (!tl_is_site(sym))
		return false;
	return !sp || (sp[1] == '[' && s[strlen(s) - 1] == ']' &&
		       !strchr(sp + 1, ' '));
}

enum {
	F_ID = 1 << 0, F_SEQ = 1 << 1, F_TS = 1 << 2, F_CPU = 1 << 3,
	F_PID = 1 << 4, F_TGID = 1 << 5, F_COMM = 1 << 6, F_KTHREAD = 1 << 7,
	F_OP = 1 << 8, F_CAUSE = 1 << 9, F_USERS = 1 << 10, F_COUNT = 1 << 11,
	F_SITE = 1 << 12, F_TRAP = 1 << 13, F_OBSERVER = 1 << 14,
	F_STACK = 1 << 15,
};

static const char * const tl_keys[] = {
	"id", "seq", "ts", "cpu", "pid", "tgid", "comm", "kthread", "op",
	"cause", "users", "count", "site", "trap", "observer", "stack",
};

#define F_REQUIRED	(F_ID | F_TS | F_PID | F_TGID | F_COMM | F_KTHREAD | \
			 F_OP | F_CAUSE | F_USERS | F_COUNT | F_SITE)

/* One event line, without its indentation; @s is modified. */
static int tl_parse_event(struct tl *t, char *s, struct tl_event *e)
{
	unsigned int seen = 0, f;
	bool after_site = false;
	char *tok, *save, *val;
	long long v;
	int k;

	memset(e, 0, sizeof(*e));
	e->line = t->line;
	e->seq = -1;
	e->cpu = -1;
	e->observer = -1;
	for (tok = strtok_r(s, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		/* a site in a module: "site=sym+0x1/0x2 [mod]" */
		if (after_site && tok[0] == '[' && tok[strlen(tok) - 1] == ']' &&
		    strlen(e->site) + strlen(tok) + 2 <= sizeof(e->site)) {
			strcat(e->site, " ");
			strcat(e->site, tok);
			after_site = false;
			continue;
		}
		after_site = false;
		val = strchr(tok, '=');
		if (!val)
			return tl_err(t, "'%s' is not key=value", tok);
		*val++ = '\0';
		k = tl_name(tl_keys, TL_ARRAY_SIZE(tl_keys), tok);
		if (k < 0)
			return tl_err(t, "unknown key '%s'", tok);
		f = 1u << k;
		if (seen & f)
			return tl_err(t, "'%s' twice", tok);
		seen |= f;
		switch (f) {
		case F_ID:
			if (tl_ull(val, &e->id))
				return tl_err(t, "bad id '%s'", val);
			break;
		case F_SEQ:
			if (tl_num(val, 0, LLONG_MAX, &v))
				return tl_err(t, "bad seq '%s'", val);
			e->seq = v;
			break;
		case F_TS:
			if (tl_ull(val, &e->ts))
				return tl_err(t, "bad ts '%s'", val);
			break;
		case F_CPU:
			if (tl_num(val, 0, INT_MAX, &v))
				return tl_err(t, "bad cpu '%s'", val);
			e->cpu = (int)v;
			break;
		case F_PID:
		case F_TGID:
			if (tl_num(val, 0, INT_MAX, &v))
				return tl_err(t, "bad %s '%s'", tok, val);
			*(f == F_PID ? &e->pid : &e->tgid) = (int)v;
			break;
		case F_COMM:
			if (!*val || strlen(val) >= sizeof(e->comm))
				return tl_err(t, "bad comm '%s'", val);
			strcpy(e->comm, val);
			break;
		case F_KTHREAD:
			if (tl_num(val, 0, 1, &v))
				return tl_err(t, "kthread is not 0 or 1: '%s'", val);
			e->kthread = (int)v;
			break;
		case F_OP:
			e->op = tl_name(tl_op_names, TL_ARRAY_SIZE(tl_op_names), val);
			if (e->op < 0)
				return tl_err(t, "unknown op '%s'", val);
			break;
		case F_CAUSE:
			e->cause = tl_name(tl_cause_names,
					   TL_ARRAY_SIZE(tl_cause_names), val);
			if (e->cause < 0)
				return tl_err(t, "unknown cause '%s'", val);
			break;
		case F_USERS:
		case F_COUNT:
			if (f == F_USERS ? tl_pair(val, &e->users_old, &e->users_new) :
			    tl_pair(val, &e->count_old, &e->count_new))
				return tl_err(t, "%s is not A->B: '%s'", tok, val);
			break;
		case F_SITE:
			if ((strcmp(val, "-") && !tl_is_site(val)) ||
			    strlen(val) >= sizeof(e->site))
				return tl_err(t, "bad site '%s'", val);
			strcpy(e->site, val);
			after_site = true;
			break;
		case F_TRAP:
			if (!strcmp(val, "users"))
				e->trap = "users";
			else if (!strcmp(val, "count"))
				e->trap = "count";
			else if (!strcmp(val, "-"))
				e->trap = "-";
			else
				return tl_err(t, "trap is not users, count or -: '%s'", val);
			break;
		case F_OBSERVER:
			if (tl_num(val, 0, INT_MAX, &v))
				return tl_err(t, "bad observer '%s'", val);
			e->observer = (int)v;
			break;
		case F_STACK:
			if (strcmp(val, "1"))
				return tl_err(t, "stack is not 1: '%s'", val);
			break;
		}
	}
	if ((seen & F_REQUIRED) != F_REQUIRED) {
		for (k = 0; k < (int)TL_ARRAY_SIZE(tl_keys); k++)
			if ((F_REQUIRED & ~seen) & (1u << k))
				return tl_err(t, "no %s=", tl_keys[k]);
	}
	if (e->op == OP_LAZY_TLB && e->cpu < 0)
		return tl_err(t, "lazy_tlb without cpu=: its CPU is its holder");
	return 0;
}

/* The mm id of an "mm id=N ..." header. */
static int tl_parse_header(struct tl *t, const char *s, unsigned long long *id)
{
	char num[32];
	size_t n = strcspn(s + 6, " ");

	if (n == 0 || n >= sizeof(num))
		return tl_err(t, "bad mm header");
	memcpy(num, s + 6, n);
	num[n] = '\0';
	if (tl_ull(num, id))
		return tl_err(t, "bad mm header id '%s'", num);
	return 0;
}

static int tl_read(struct tl *t, FILE *in)
{
	unsigned long long mm = 0, id;
	bool have_mm = false, in_event = false;
	size_t cap = 0, indent, event_indent = 0;
	char *line = NULL, *s;
	ssize_t len;

	while ((len = getline(&line, &cap, in)) >= 0) {
		t->line++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if ((size_t)len != strlen(line)) {
			tl_err(t, "NUL byte in line");
			goto out;
		}
		indent = strspn(line, " ");
		s = line + indent;
		if (!*s)
			continue;
		if (!strncmp(s, "mm id=", 6)) {
			in_event = false;
			if (tl_parse_header(t, s, &id))
				goto out;
		} else if (!strncmp(s, "id=", 3)) {
			struct tl_event *e;

			if (tl_grow(t, (void **)&t->ev, &t->evcap, t->nev, sizeof(*e)))
				goto out;
			e = &t->ev[t->nev];
			if (tl_parse_event(t, s, e))
				goto out;
			id = e->id;
			if (have_mm && id != mm)
				goto other_mm;
			if (t->nev && e->seq >= 0 && t->ev[t->nev - 1].seq >= 0 &&
			    e->seq <= t->ev[t->nev - 1].seq) {
				tl_err(t, "seq %lld after seq %lld", e->seq,
				       t->ev[t->nev - 1].seq);
				goto out;
			}
			t->nev++;
			in_event = true;
			event_indent = indent;
		} else if (in_event && indent > event_indent && tl_is_frame(s)) {
			continue;
		} else {
			tl_err(t, "not an event line, mm header or stack frame");
			goto out;
		}
		if (have_mm && id != mm)
			goto other_mm;
		have_mm = true;
		mm = id;
	}
	if (ferror(in)) {
		tl_err(t, "read error: %s", strerror(errno));
	} else if (!t->nev) {
		t->line = 0;
		tl_err(t, "the input has no event line");
	}
	goto out;
other_mm:
	tl_err(t, "mm id=%llu, but the input began with mm id=%llu", id, mm);
out:
	free(line);
	return t->failed ? -1 : 0;
}

/* ---- holders ---------------------------------------------------------- */

static struct tl_span *tl_open(struct tl *t, size_t i, int kind, int ctr,
			       int pid, const char *role)
{
	const struct tl_event *e = &t->ev[i];
	struct tl_span *sp;

	if (tl_grow(t, (void **)&t->sp, &t->spcap, t->nsp, sizeof(*sp)))
		return NULL;
	sp = &t->sp[t->nsp++];
	memset(sp, 0, sizeof(*sp));
	sp->kind = kind;
	sp->ctr = ctr;
	sp->pid = pid;
	sp->cpu = kind == K_LAZY ? e->cpu : -1;
	sp->role = role;
	if (pid >= 0 && pid == e->pid)
		strcpy(sp->comm, e->comm);
	sp->open = i;
	sp->close = TL_NONE;
	return sp;
}

static void tl_mark(struct tl *t, size_t i, const char *why)
{
	if (tl_grow(t, (void **)&t->mk, &t->mkcap, t->nmk, sizeof(*t->mk)))
		return;
	t->mk[t->nmk].ev = i;
	t->mk[t->nmk].why = why;
	t->nmk++;
}

/*
 * Close the newest open span that matches (a kind in @kinds, mask of
 * 1 << kind; @ctr unless -1; @pid and @cpu unless -1).  Returns the span
 * or NULL, after leaving an unpaired mark saying @why.
 */
static struct tl_span *tl_close(struct tl *t, size_t i, unsigned int kinds,
				int ctr, int pid, int cpu, const char *why)
{
	struct tl_span *sp;
	size_t n;

	for (n = t->nsp; n-- > 0;) {
		sp = &t->sp[n];
		if (sp->close != TL_NONE || !(kinds & (1u << sp->kind)) ||
		    (ctr >= 0 && sp->ctr != ctr) ||
		    (pid >= 0 && sp->pid != pid) || (cpu >= 0 && sp->cpu != cpu))
			continue;
		sp->close = i;
		return sp;
	}
	tl_mark(t, i, why);
	return NULL;
}

/* A thread's exit or exec: its own span, else the oldest of a child not
 * known yet (see the rules above).
 */
static void tl_close_thread(struct tl *t, size_t i)
{
	const struct tl_event *e = &t->ev[i];
	struct tl_span *sp;
	size_t n;

	for (n = t->nsp; n-- > 0;) {
		sp = &t->sp[n];
		if (sp->close == TL_NONE && sp->kind == K_THREAD &&
		    sp->pid == e->pid) {
			sp->close = i;
			return;
		}
	}
	for (n = 0; n < t->nsp; n++) {
		sp = &t->sp[n];
		if (sp->close == TL_NONE && sp->kind == K_THREAD && sp->pid < 0) {
			sp->close = i;
			sp->pid = e->pid;
			strcpy(sp->comm, e->comm);
			return;
		}
	}
	tl_mark(t, i, "a thread's exit put with no thread span open");
}

#define KM(k)	(1u << (k))

static void tl_event_holders(struct tl *t, size_t i)
{
	const struct tl_event *e = &t->ev[i];
	/* only the sign of a change matters (and values may be far apart) */
	int du = (e->users_new > e->users_old) - (e->users_new < e->users_old);
	int dc = (e->count_new > e->count_old) - (e->count_new < e->count_old);
	int kt = e->kthread ? K_KTHREAD : K_PROC;
	struct tl_span *sp;
	size_t n, open;

	switch (e->op) {
	case OP_NEW:
		tl_open(t, i, K_THREAD, CTR_USERS,
			e->cause == CA_EXEC ? e->pid : -1, tl_cause_names[e->cause]);
		tl_open(t, i, K_SHARED, CTR_COUNT, -1, "users > 0");
		break;
	case OP_GET:
	case OP_MMGET:
		if (e->cause == CA_THREAD || e->cause == CA_VFORK ||
		    e->cause == CA_CLONE_VM)
			tl_open(t, i, K_THREAD, CTR_USERS, -1,
				tl_cause_names[e->cause]);
		else if (e->op == OP_GET && e->cause == CA_MM_ACCESS)
			tl_open(t, i, kt, CTR_USERS, e->pid, "users");
		else
			tl_open(t, i, K_MMGET, CTR_USERS, e->pid, "users");
		break;
	case OP_MMGET_NOT_ZERO:
		tl_open(t, i, kt, CTR_USERS, e->pid, "users");
		break;
	case OP_PUT:
	case OP_MMPUT:
		if (e->cause == CA_EXIT || e->cause == CA_EXEC)
			tl_close_thread(t, i);
		else
			tl_close(t, i, KM(K_MMGET) | KM(K_PROC) | KM(K_KTHREAD),
				 CTR_USERS, e->pid, -1,
				 "a put with no get of this task open");
		break;
	case OP_GRAB:
		tl_open(t, i, kt, CTR_COUNT, e->pid, "count");
		break;
	case OP_MMGRAB:
		if (e->cause == CA_USE_MM)
			tl_open(t, i, K_KTHREAD, CTR_COUNT, e->pid, "use_mm");
		else if (e->cause == CA_KHUGEPAGED)
			tl_open(t, i, K_KHUGEPAGED, CTR_COUNT, -1, "count");
		else if (e->kthread || e->cause == CA_KTHREAD)
			tl_open(t, i, K_KTHREAD, CTR_COUNT, e->pid, "grab");
		else
			tl_open(t, i, K_PROC, CTR_COUNT, e->pid, "count");
		break;
	case OP_MMDROP:
		if (e->cause == CA_TEARDOWN)
			tl_close(t, i, KM(K_SHARED), CTR_COUNT, -1, -1,
				 "teardown's mmdrop with no shared span open");
		else if (e->cause == CA_KHUGEPAGED)
			tl_close(t, i, KM(K_KHUGEPAGED), CTR_COUNT, -1, -1,
				 "khugepaged's mmdrop with no khugepaged span open");
		else
			tl_close(t, i, KM(K_KTHREAD) | KM(K_PROC), CTR_COUNT,
				 e->pid, -1, "an mmdrop with no grab of this task open");
		break;
	case OP_LAZY_TLB:
		if (dc > 0)
			tl_open(t, i, K_LAZY, CTR_COUNT, -1, "count");
		else if (dc < 0)
			tl_close(t, i, KM(K_LAZY), CTR_COUNT, -1, e->cpu,
				 "a lazy-TLB drop with no span open on this CPU");
		else
			tl_mark(t, i, "a lazy_tlb write that changed nothing");
		break;
	case OP_USE:
		for (n = 0; n < t->nsp; n++)
			if (t->sp[n].close == TL_NONE && t->sp[n].kind == K_KTHREAD &&
			    t->sp[n].pid == e->pid && !strcmp(t->sp[n].role, "use_mm"))
				break;
		if (n == t->nsp)
			tl_open(t, i, K_KTHREAD, CTR_NONE, e->pid, "use");
		break;
	case OP_UNUSE:
		for (n = t->nsp; n-- > 0;) {
			sp = &t->sp[n];
			if (sp->close == TL_NONE && sp->kind == K_KTHREAD &&
			    sp->pid == e->pid && (!strcmp(sp->role, "use_mm") ||
						  !strcmp(sp->role, "use")))
				break;
		}
		if (n == SIZE_MAX) {
			tl_mark(t, i, "an unuse with no use of this task open");
			break;
		}
		t->sp[n].close = i;
		if (t->sp[n].ctr == CTR_COUNT && e->cpu >= 0)
			tl_open(t, i, K_LAZY, CTR_COUNT, -1, "count");
		else if (t->sp[n].ctr == CTR_COUNT)
			tl_mark(t, i, "unuse hands use_mm's reference to a CPU not in the input");
		break;
	case OP_TEARDOWN:
		if (dc < 0)
			tl_close(t, i, KM(K_SHARED), CTR_COUNT, -1, -1,
				 "teardown's drop with no shared span open");
		break;
	case OP_FREE:
		if (dc >= 0)
			break;
		sp = NULL;
		for (n = 0, open = 0; n < t->nsp; n++)
			if (t->sp[n].close == TL_NONE && t->sp[n].ctr == CTR_COUNT) {
				sp = &t->sp[n];
				open++;
			}
		if (open == 1)
			sp->close = i;
		else
			tl_mark(t, i, open ? "free: more than one span still holds count" :
					     "free: the last reference is in no span");
		break;
	case OP_WATCH:
		tl_open(t, i, K_OBSERVER, CTR_COUNT, -1, "count");
		break;
	case OP_UNWATCH:
		if (dc < 0)
			tl_close(t, i, KM(K_OBSERVER), CTR_COUNT, -1, -1,
				 "unwatch with no observer span open");
		break;
	case OP_WRITE:
		if (du || dc)
			tl_mark(t, i, "a write no helper names");
		break;
	case OP_SEED:
	case OP_GAP:
		break;
	}
}

/* The span closed at event @i on count, if any. */
static size_t tl_closed_at(const struct tl *t, size_t i)
{
	size_t n;

	for (n = 0; n < t->nsp; n++)
		if (t->sp[n].close == i && t->sp[n].ctr == CTR_COUNT)
			return n;
	return TL_NONE;
}

static int tl_holders(struct tl *t)
{
	size_t i, n, mk;
	int users, count;

	t->users_zero = TL_NONE;
	t->count_zero = TL_NONE;
	t->last_span = TL_NONE;
	t->last_mark = TL_NONE;
	t->first_unexplained = TL_NONE;
	for (i = 0; i < t->nev && !t->failed; i++) {
		const struct tl_event *e = &t->ev[i];

		t->line = e->line;
		mk = t->nmk;
		tl_event_holders(t, i);
		if (t->users_zero == TL_NONE && e->users_old > 0 && !e->users_new)
			t->users_zero = i;
		if (t->count_zero == TL_NONE && e->count_old > 0 && !e->count_new) {
			t->count_zero = i;
			t->last_span = tl_closed_at(t, i);
			if (t->last_span == TL_NONE && t->nmk > mk)
				t->last_mark = mk;
		}
		for (n = 0, users = 0, count = 0; n < t->nsp; n++) {
			if (t->sp[n].close != TL_NONE && t->sp[n].close <= i)
				continue;
			users += t->sp[n].ctr == CTR_USERS;
			count += t->sp[n].ctr == CTR_COUNT;
		}
		if (users != e->users_new || count != e->count_new) {
			if (!t->unexplained++)
				t->first_unexplained = i;
		}
	}
	return t->failed ? -1 : 0;
}

/* Lanes: one per holder (kind, counter, task or CPU, role), reused by that
 * holder's later spans when they do not overlap, else one more.
 */
static void tl_lanes(struct tl *t)
{
	size_t n, m, lane;
	struct tl_span *a, *b;

	for (n = 0; n < t->nsp; n++) {
		a = &t->sp[n];
		lane = TL_NONE;
		for (m = n; m-- > 0;) {
			b = &t->sp[m];
			if (b->kind == a->kind && b->ctr == a->ctr &&
			    b->pid == a->pid && b->cpu == a->cpu &&
			    !strcmp(b->role, a->role) && (a->kind != K_THREAD || a->pid >= 0)) {
				if (b->close != TL_NONE && b->close <= a->open)
					lane = b->lane;
				break;
			}
		}
		a->lane = lane == TL_NONE ? t->nlanes++ : lane;
	}
}

/* ---- SVG -------------------------------------------------------------- */

#define TL_LEFT		250	/* lane labels */
#define TL_RIGHT	90	/* past the last event: open spans, labels */
#define TL_GAP_MIN	10
#define TL_GAP_LOG	14	/* px per decade of microseconds */
#define TL_PLOT_TOP	96
#define TL_PLOT_H	160
#define TL_STRIP	22	/* the row of event marks under the plot */
#define TL_AXIS		34
#define TL_LANE_H	18
#define TL_SPAN_H	12

/* log10(1 + us), piecewise linear between powers of ten: libc only. */
static double tl_log10p1(unsigned long long us)
{
	unsigned long long v = us + 1, p = 1;
	double d = 0;

	while (v / p >= 10) {
		p *= 10;
		d += 1;
	}
	return d + (double)(v - p) / (double)(9 * p);
}

/* Text for SVG: XML-escaped; bytes outside printable ASCII as \xNN. */
static void tl_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '&')
			fputs("&amp;", out);
		else if (c == '<')
			fputs("&lt;", out);
		else if (c == '>')
			fputs("&gt;", out);
		else if (c == '"')
			fputs("&quot;", out);
		else if (c < 0x20 || c > 0x7e)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

struct tl_geom {
	int *x;				/* per event */
	int plot_right, width, height;
	int ymax, lanes_top;
	unsigned long long t0;
};

static int tl_y(const struct tl_geom *g, int v)
{
	if (v < 0)
		v = 0;
	return TL_PLOT_TOP + TL_PLOT_H - (int)((long long)v * TL_PLOT_H / g->ymax);
}

static double tl_ms(const struct tl_geom *g, const struct tl_event *e)
{
	return e->ts >= g->t0 ? (double)(e->ts - g->t0) / 1e6 : 0;
}

static void tl_event_title(FILE *out, const struct tl_geom *g,
			   const struct tl_event *e)
{
	fputs("<title>", out);
	if (e->seq >= 0)
		fprintf(out, "seq=%lld ", e->seq);
	fprintf(out, "+%.3f ms op=%s cause=%s\nusers %d-&gt;%d count %d-&gt;%d",
		tl_ms(g, e), tl_op_names[e->op], tl_cause_names[e->cause],
		e->users_old, e->users_new, e->count_old, e->count_new);
	if (e->trap)
		fprintf(out, " trap=%s", e->trap);
	if (e->observer >= 0)
		fprintf(out, " observer=%d", e->observer);
	fprintf(out, "\ntask pid=%d tgid=%d comm=", e->pid, e->tgid);
	tl_text(out, e->comm);
	fprintf(out, " kthread=%d", e->kthread);
	if (e->cpu >= 0)
		fprintf(out, " cpu=%d", e->cpu);
	fputs("\nsite ", out);
	tl_text(out, e->site);
	fputs("</title>", out);
}

static void tl_lane_label(FILE *out, const struct tl_span *sp)
{
	fputs(tl_kinds[sp->kind].name, out);
	if (sp->kind == K_LAZY)
		fprintf(out, " cpu %d", sp->cpu);
	else if (sp->pid >= 0)
		fprintf(out, " %d", sp->pid);
	else if (sp->kind == K_THREAD)
		fputs(" (child)", out);
	if (sp->comm[0]) {
		fputc(' ', out);
		tl_text(out, sp->comm);
	}
	if (sp->kind != K_LAZY && sp->kind != K_OBSERVER && sp->kind != K_SHARED &&
	    sp->kind != K_THREAD)
		fprintf(out, " %s", sp->role);
}

static void tl_end(FILE *out, const struct tl_geom *g, const struct tl *t,
		   const char *what, size_t i)
{
	const struct tl_event *e = &t->ev[i];

	fprintf(out, "%s ", what);
	if (e->seq >= 0)
		fprintf(out, "seq %lld", e->seq);
	else
		fprintf(out, "line %lu", e->line);
	fprintf(out, " (+%.3f ms) %s/%s by ", tl_ms(g, e),
		tl_op_names[e->op], tl_cause_names[e->cause]);
	tl_text(out, e->comm);
	fprintf(out, " %d at ", e->pid);
	tl_text(out, e->site);
}

static void tl_svg_spans(FILE *out, const struct tl *t, const struct tl_geom *g)
{
	const struct tl_span *sp;
	size_t n, l;
	int x0, x1, y;

	/* lane labels: the first span of each lane names it */
	for (l = 0; l < t->nlanes; l++) {
		for (n = 0; t->sp[n].lane != l; n++)
			;
		fprintf(out, "<text class=\"lane\" x=\"%d\" y=\"%d\" text-anchor=\"end\">",
			TL_LEFT - 8, g->lanes_top + (int)l * TL_LANE_H + 13);
		tl_lane_label(out, &t->sp[n]);
		fputs("</text>\n", out);
	}
	for (n = 0; n < t->nsp; n++) {
		sp = &t->sp[n];
		x0 = g->x[sp->open];
		x1 = sp->close == TL_NONE ? g->plot_right : g->x[sp->close];
		if (x1 - x0 < 3)
			x1 = x0 + 3;
		y = g->lanes_top + (int)sp->lane * TL_LANE_H + 3;
		fprintf(out, "<rect class=\"span kind-%s%s%s\" x=\"%d\" y=\"%d\" width=\"%d\"\n"
			"height=\"%d\" fill=\"%s\"",
			tl_kinds[sp->kind].name, sp->close == TL_NONE ? " open" : "",
			n == t->last_span ? " last-holder" : "", x0, y, x1 - x0,
			TL_SPAN_H, tl_kinds[sp->kind].colour);
		if (n == t->last_span)
			fputs(" stroke=\"#000000\" stroke-width=\"2\"", out);
		else if (sp->close == TL_NONE)
			fputs(" stroke=\"#000000\" stroke-dasharray=\"4 3\"", out);
		if (sp->ctr == CTR_NONE)
			fputs(" fill-opacity=\"0.5\"", out);
		fputs("><title>", out);
		tl_lane_label(out, sp);
		fprintf(out, " (%s; holds %s)\n", tl_kinds[sp->kind].what,
			sp->ctr == CTR_USERS ? "users" :
			sp->ctr == CTR_COUNT ? "count" : "no reference seen");
		tl_end(out, g, t, "from", sp->open);
		fputc('\n', out);
		if (sp->close == TL_NONE)
			fputs("open: its release is not in the input", out);
		else
			tl_end(out, g, t, "until", sp->close);
		if (n == t->last_span)
			fputs("\nthe last holder: its release freed the mm", out);
		fputs("</title></rect>\n", out);
		if (sp->close == TL_NONE)
			fprintf(out, "<text class=\"open-label\" x=\"%d\" y=\"%d\">open</text>\n",
				x1 + 4, y + 10);
		if (n == t->last_span)
			fprintf(out, "<text class=\"last-holder-label\" x=\"%d\" y=\"%d\"\n"
				"font-weight=\"bold\">last holder</text>\n",
				x1 + 4, y + 10);
	}
}

static void tl_svg_marks(FILE *out, const struct tl *t, const struct tl_geom *g)
{
	int y = g->lanes_top + (int)t->nlanes * TL_LANE_H + 3, x;
	size_t n;

	if (!t->nmk)
		return;
	fprintf(out, "<text class=\"lane\" x=\"%d\" y=\"%d\" text-anchor=\"end\">unpaired</text>\n",
		TL_LEFT - 8, y + 10);
	for (n = 0; n < t->nmk; n++) {
		x = g->x[t->mk[n].ev];
		fprintf(out, "<path class=\"unpaired%s\" d=\"M%d %dl10 10m0 -10l-10 10\"\n"
			"stroke=\"%s\" stroke-width=\"2\"><title>",
			n == t->last_mark ? " last-holder" : "", x - 5, y + 1,
			MMREFS_TL_UNPAIRED);
		tl_text(out, t->mk[n].why);
		fputc('\n', out);
		tl_end(out, g, t, "at", t->mk[n].ev);
		fputs("</title></path>\n", out);
		if (n == t->last_mark)
			fprintf(out, "<text class=\"last-holder-label\" x=\"%d\" y=\"%d\"\n"
				"font-weight=\"bold\">last holder: in no span</text>\n",
				x + 8, y + 10);
	}
}

/* users and count as step lines: at each event old then new, so a change
 * the input did not show is a jump at the next event.
 */
static void tl_svg_step(FILE *out, const struct tl *t, const struct tl_geom *g,
			bool users)
{
	const struct tl_event *e;
	int old, new, prev = 0;
	size_t i;

	fprintf(out, "<path id=\"%s-line\" class=\"step\" fill=\"none\" stroke=\"%s\"\n"
		"stroke-width=\"%d\" d=\"",
		users ? "users" : "count",
		users ? MMREFS_TL_USERS : MMREFS_TL_COUNT, users ? 2 : 6);
	for (i = 0; i < t->nev; i++) {
		e = &t->ev[i];
		old = users ? e->users_old : e->count_old;
		new = users ? e->users_new : e->count_new;
		if (!i) {
			fprintf(out, "M%d %d", g->x[0], tl_y(g, old));
		} else {
			fprintf(out, " H%d", g->x[i]);
			if (old != prev)
				fprintf(out, " V%d", tl_y(g, old));
		}
		if (new != old)
			fprintf(out, " V%d", tl_y(g, new));
		prev = new;
	}
	fprintf(out, " H%d\"/>\n", g->plot_right);
}

static void tl_svg_axes(FILE *out, const struct tl *t, const struct tl_geom *g)
{
	int step = g->ymax <= 10 ? 1 : g->ymax / 10 + 1, y, last = -1000;
	int base = TL_PLOT_TOP + TL_PLOT_H + TL_STRIP;
	long long v;
	size_t i;

	fprintf(out, "<rect id=\"plot-area\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"\n"
		"fill=\"none\" stroke=\"#999999\"/>\n",
		TL_LEFT, TL_PLOT_TOP - 8, g->plot_right - TL_LEFT, TL_PLOT_H + 16);
	for (v = 0; v <= g->ymax; v += step) {
		y = tl_y(g, (int)v);
		fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#e4e4e4\"/>\n",
			TL_LEFT, y, g->plot_right, y);
		fprintf(out, "<text class=\"ytick\" data-value=\"%lld\" data-y=\"%d\" x=\"%d\"\n"
			"y=\"%d\" text-anchor=\"end\">%lld</text>\n",
			v, y, TL_LEFT - 6, y + 4, v);
	}
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">refs</text>\n",
		TL_LEFT - 6, TL_PLOT_TOP - 12);
	/* time: a tick per event, a label where there is room */
	for (i = 0; i < t->nev; i++) {
		fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999999\"/>\n",
			g->x[i], base, g->x[i], base + 4);
		if (g->x[i] - last < 56)
			continue;
		last = g->x[i];
		fprintf(out, "<text class=\"xtick\" x=\"%d\" y=\"%d\"\n"
			"text-anchor=\"middle\">%.3f</text>\n",
			g->x[i], base + 16, tl_ms(g, &t->ev[i]));
	}
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">ms since the first\n"
		"event</text>\n",
		TL_LEFT - 6, base + 16);
	fprintf(out, "<text x=\"%d\" y=\"%d\" font-style=\"italic\">(gaps between events drawn by\n"
		"the logarithm of their length; labels exact)</text>\n",
		TL_LEFT, base + 30);
}

static void tl_svg_moment(FILE *out, const struct tl *t, const struct tl_geom *g,
			  size_t i, const char *cls, const char *label, bool right)
{
	int x = g->x[i];

	fprintf(out, "<g class=\"%s\" data-line=\"%lu\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\"\n"
		"y2=\"%d\" stroke=\"#000000\" stroke-dasharray=\"2 2\"/>",
		cls, t->ev[i].line, x, TL_PLOT_TOP - 8, x, g->height - 8);
	/* above the plot: users' label left of its line, count's right */
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\"\n"
		"font-weight=\"bold\">%s</text><title>",
		right ? x + 3 : x - 3, TL_PLOT_TOP - 12, right ? "start" : "end", label);
	tl_end(out, g, t, label, i);
	fputs("</title></g>\n", out);
}

static void tl_svg_legend(FILE *out, const struct tl *t)
{
	bool present[K_NR] = { false };
	int x = 10, k;
	size_t n;

	for (n = 0; n < t->nsp; n++)
		present[t->sp[n].kind] = true;
	fprintf(out, "<g class=\"legend\"><line x1=\"%d\" y1=\"56\" x2=\"%d\" y2=\"56\"\n"
		"stroke=\"%s\" stroke-width=\"2\"/><text x=\"%d\" y=\"60\">users</text>",
		x, x + 16, MMREFS_TL_USERS, x + 20);
	x += 62;
	fprintf(out, "<line x1=\"%d\" y1=\"56\" x2=\"%d\" y2=\"56\" stroke=\"%s\"\n"
		"stroke-width=\"6\"/><text x=\"%d\" y=\"60\">count</text>",
		x, x + 16, MMREFS_TL_COUNT, x + 20);
	x += 66;
	for (k = 0; k < K_NR; k++) {
		if (!present[k])
			continue;
		fprintf(out, "<rect x=\"%d\" y=\"51\" width=\"10\" height=\"10\"\n"
			"fill=\"%s\"><title>%s</title></rect><text x=\"%d\" y=\"60\">%s</text>",
			x, tl_kinds[k].colour, tl_kinds[k].what, x + 14, tl_kinds[k].name);
		x += 24 + 7 * (int)strlen(tl_kinds[k].name);
	}
	fputs("</g>\n", out);
}

static int tl_svg(FILE *out, const struct tl *t, const char *title)
{
	struct tl_geom g = { .t0 = t->ev[0].ts, .ymax = 1 };
	unsigned long long prev = t->ev[0].ts, us;
	const struct tl_event *e;
	int x = TL_LEFT + 24;
	size_t i;

	g.x = calloc(t->nev, sizeof(*g.x));
	if (!g.x) {
		fputs("0: out of memory\n", stderr);
		return -1;
	}
	for (i = 0; i < t->nev; i++) {
		e = &t->ev[i];
		/* ts is per CPU clock reads: a step back is drawn as no gap */
		us = e->ts > prev ? (e->ts - prev) / 1000 : 0;
		if (i)
			x += TL_GAP_MIN + (int)(TL_GAP_LOG * tl_log10p1(us) + 0.5);
		if (e->ts > prev)
			prev = e->ts;
		g.x[i] = x;
		if (e->users_old > g.ymax)
			g.ymax = e->users_old;
		if (e->users_new > g.ymax)
			g.ymax = e->users_new;
		if (e->count_old > g.ymax)
			g.ymax = e->count_old;
		if (e->count_new > g.ymax)
			g.ymax = e->count_new;
	}
	g.plot_right = x + 40;
	g.width = g.plot_right + TL_RIGHT;
	if (g.width < 900)
		g.width = 900;
	g.lanes_top = TL_PLOT_TOP + TL_PLOT_H + TL_STRIP + TL_AXIS + 10;
	g.height = g.lanes_top + (int)(t->nlanes + (t->nmk ? 1 : 0)) * TL_LANE_H + 40;

	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\"\n"
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n",
		g.width, g.height, g.width, g.height);
	fputs("<title>", out);
	tl_text(out, title);
	fputs("</title>\n", out);
	fprintf(out, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
		g.width, g.height);
	fputs("<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">", out);
	tl_text(out, title);
	fprintf(out, "</text>\n<text x=\"10\" y=\"36\">mm id=%llu, %zu events, %.3f ms</text>\n",
		t->ev[0].id, t->nev, tl_ms(&g, &t->ev[t->nev - 1]));
	tl_svg_legend(out, t);
	if (t->unexplained)
		fprintf(out, "<text class=\"unexplained\" x=\"%d\" y=\"%d\"\n"
			"fill=\"#b00000\">spans and counters differ after %zu of %zu events\n"
			"(first: line %lu)<title>references these events do not show:\n"
			"held before the first event, or taken by inlined helpers\n"
			"of an unwatched mm</title></text>\n",
			TL_LEFT, g.height - 12, t->unexplained, t->nev,
			t->ev[t->first_unexplained].line);
	else
		fprintf(out, "<text class=\"explained\" x=\"%d\" y=\"%d\">after every event the\n"
			"open spans add up to users and count</text>\n",
			TL_LEFT, g.height - 12);

	tl_svg_axes(out, t, &g);
	tl_svg_step(out, t, &g, false);
	tl_svg_step(out, t, &g, true);
	fprintf(out, "<rect id=\"lanes-area\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"\n"
		"fill=\"none\"/>\n",
		TL_LEFT, g.lanes_top, g.plot_right - TL_LEFT,
		(int)(t->nlanes + (t->nmk ? 1 : 0)) * TL_LANE_H);
	tl_svg_spans(out, t, &g);
	tl_svg_marks(out, t, &g);
	if (t->users_zero != TL_NONE)
		tl_svg_moment(out, t, &g, t->users_zero, "mark-teardown",
			      "users 0: teardown", false);
	if (t->count_zero != TL_NONE)
		tl_svg_moment(out, t, &g, t->count_zero, "mark-free",
			      "count 0: free", true);

	/* event marks last, on top, each with its whole line as a tooltip */
	for (i = 0; i < t->nev; i++) {
		e = &t->ev[i];
		fprintf(out, "<circle class=\"event op-%s\" cx=\"%d\" cy=\"%d\" r=\"4\"\n"
			"fill=\"%s\" stroke=\"#333333\">",
			tl_op_names[e->op], g.x[i], TL_PLOT_TOP + TL_PLOT_H + 14,
			e->users_new != e->users_old ? MMREFS_TL_USERS :
			e->count_new != e->count_old ? MMREFS_TL_COUNT : "#ffffff");
		tl_event_title(out, &g, e);
		fputs("</circle>\n", out);
	}
	fputs("</svg>\n", out);
	free(g.x);
	if (fflush(out) || ferror(out)) {
		fprintf(stderr, "0: write error: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int mmrefs_timeline(FILE *in, FILE *out, const char *title)
{
	struct tl t = { 0 };
	int ret = -1;

	if (!tl_read(&t, in) && !tl_holders(&t)) {
		tl_lanes(&t);
		ret = tl_svg(out, &t, title ? title : "mmrefs timeline");
	}
	free(t.ev);
	free(t.sp);
	free(t.mk);
	return ret;
}
