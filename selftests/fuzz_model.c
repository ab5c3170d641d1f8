// SPDX-License-Identifier: GPL-2.0
/*
 * mmrefs_fuzz's model (see fuzz_model.h): each debugfs file's parser, the
 * result each write must get and the state an accepted one leaves. This
 * is the interface spec in code; a change to a file's syntax or answers
 * starts here. One thing here touches the system: watch's model looks a
 * foreign pid up in /proc.  What the borrower's model makes the fuzzer
 * write (giving back short holds, filling the list) is fuzz_check.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_model.h"

/* /proc/PID/stat flags */
#define PF_KTHREAD		0x00200000

const char * const file_path[NR_FILES] = {
	[F_FILTER] = MMREFS_FILTER,
	[F_ENABLE] = MMREFS_ENABLE,
	[F_BORROW] = BORROW_CONTROL,
	[F_WATCH] = MMREFS_WATCH,
	[F_HOLDERS] = MMREFS_HOLDERS,
};

const char * const file_name[NR_FILES] = {
	[F_FILTER] = "filter", [F_ENABLE] = "enable", [F_BORROW] = "control",
	[F_WATCH] = "watch", [F_HOLDERS] = "holders",
};

const size_t file_limit[NR_FILES] = {
	[F_FILTER] = FILTER_SIZE, [F_ENABLE] = ENABLE_SIZE,
	[F_BORROW] = BORROW_SIZE, [F_WATCH] = WATCH_SIZE,
	[F_HOLDERS] = HOLDERS_SIZE,
};

/* ---- kstrto*() ---- */

/*
 * The kernel's kstrto*() (lib/kstrtox.c), base 10, on libc's strtoull():
 * it reads the digits and finds the overflow; these wrappers add the
 * kernel's rules around them, where libc differs:
 * - the first byte is a digit, or a sign right before one: no leading
 *   whitespace (strtoull() skips it), and no '-' for the unsigned ones
 *   (strtoull() takes "-1" as ULLONG_MAX). kstrtoull() allows a '+';
 *   kstrtoll() a '-' or a '+', never both.
 * - after the digits one optional "\n", then the end of the string:
 *   nothing else (strtoull() stops at the first non-digit).
 * - a number too large is -ERANGE, found while the digits are read, so
 *   it wins over junk after them; out of the type's range (e.g. above
 *   INT_MAX for kstrtoint()) is -ERANGE once the string is known good.
 *   Anything else wrong is -EINVAL. The module's parsers turn every
 *   error, -ERANGE included, into -EINVAL.
 * The result is stored only on success; errno is left as it was.
 * kstrtoll() is the kernel's too, a sign and the unsigned parse, not
 * strtoll(): for "9999999999999999999x" (a u64, not an s64) strtoll()
 * reports the overflow first, the kernel the junk.
 */

/* _kstrtoull(s, 10): digits (no sign), then an optional "\n". */
static int k_parse_ull(const char *s, unsigned long long *res)
{
	unsigned long long v;
	int err = 0, saved = errno;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		err = -ERANGE;
	else if (*end == '\n' ? end[1] : *end)
		err = -EINVAL;
	errno = saved;
	if (!err)
		*res = v;
	return err;
}

/* kstrtoull(s, 10): an optional '+', then the above. */
static int k_strtoull(const char *s, unsigned long long *res)
{
	return k_parse_ull(*s == '+' ? s + 1 : s, res);
}

/* kstrtoll(s, 10): '-' and the magnitude, or kstrtoull(). */
static int k_strtoll(const char *s, long long *res)
{
	unsigned long long v;
	int err;

	if (*s == '-') {
		err = k_parse_ull(s + 1, &v);
		if (!err && v > (unsigned long long)LLONG_MAX + 1)
			err = -ERANGE;
		if (!err)
			*res = v > LLONG_MAX ? LLONG_MIN : -(long long)v;
		return err;
	}
	err = k_strtoull(s, &v);
	if (!err && v > LLONG_MAX)
		err = -ERANGE;
	if (!err)
		*res = v;
	return err;
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

/* kstrtoint(s, 10): -ERANGE outside int. */
static int k_strtoint(const char *s, int *res)
{
	long long v;
	int err = k_strtoll(s, &v);

	if (!err && (v < INT_MIN || v > INT_MAX))
		err = -ERANGE;
	if (!err)
		*res = v;
	return err;
}

/* kstrtoint() that must give 1..INT_MAX (a pid, a tgid), else -EINVAL. */
static int k_pos_int(const char *s, int *res)
{
	int v;

	if (k_strtoint(s, &v) || v <= 0)
		return -EINVAL;
	*res = v;
	return 0;
}

/* ---- each file's syntax ---- */

/* What filter_write() does with buf: 0 and the value read back, or -EINVAL. */
int model_filter(const char *in, size_t len, char *canon, size_t clen)
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
int model_enable(const char *in, size_t len, char *canon, size_t clen)
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

/*
 * The borrower's syntax (borrow_command()); semantics are up to the caller.
 * leak takes a pid and nothing else: "leak PID HOLD_MS" is EINVAL.
 */
struct borrow_cmd model_borrow(const char *in, size_t len,
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

/*
 * The watch file's syntax (copy_command(), mmrefs_watch_command()): one
 * word of at most 23 bytes and an optional newline, in a write of at most
 * 31 bytes. The numbers are kstrtoint()'s and kstrtouint()'s; a number
 * out of their range is no command either, so interface.rst's EINVAL (not
 * their -ERANGE) is the answer.
 */
struct watch_cmd model_watch(const char *in, size_t len)
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
struct holders_sel model_holders(const char *in, size_t len)
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

/* ---- what the model knows of a pid ---- */

bool is_waiter(const struct fuzzer *fz, pid_t pid)
{
	int i;

	for (i = 0; i < NR_WAITERS; i++)
		if (fz->waiters[i] == pid)
			return true;
	return false;
}

/* kthreadd has no mm; a pid above pid_max cannot exist. */
bool has_no_mm(const struct fuzzer *fz, pid_t pid)
{
	return pid == 2 || pid > fz->pid_max;
}

/* Which of the mms the watch model knows pid has, or -1. */
int known_mm(const struct fuzzer *fz, pid_t pid)
{
	int i;

	for (i = 0; i < fz->nknown; i++)
		if (fz->known[i] == pid)
			return fz->known_mm[i];
	return -1;
}

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
	n = mmrefs_read_into(path, buf, sizeof(buf));
	if (n == -ENOENT || n == -ESRCH)
		return -ESRCH;
	p = n > 0 ? strrchr(buf, ')') : NULL;
	/* state ppid pgrp session tty_nr tpgid flags */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return 1;
	return flags & PF_KTHREAD ? -ESRCH : 1;
}

/* ---- the expected results and state ---- */

/*
 * The result decided before the file's parser looks at the bytes, or 1
 * when the parser decides.
 */
int expect_vfs(enum fuzz_file file, const struct input *in)
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

/* ---- the borrower ---- */

static bool is_leak(const struct fuzzer *fz, int i)
{
	return !strcmp(fz->b_mode[i], "leak");
}

/* A borrow of pid that release PID gives back: any but a leak. */
bool model_holds(const struct fuzzer *fz, pid_t pid)
{
	int i;

	for (i = 0; i < fz->nb; i++)
		if (fz->b_pid[i] == pid && !is_leak(fz, i))
			return true;
	return false;
}

/* Does pid have leaks (and nothing release PID would give back)? */
bool model_leaks_only(const struct fuzzer *fz, pid_t pid)
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
void model_release(struct fuzzer *fz, pid_t pid)
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

struct expect borrow_expect(struct fuzzer *fz, const struct input *in,
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

/* When the oldest borrow that can expire was taken; 0: there is none. */
double borrow_oldest(const struct fuzzer *fz)
{
	int i;

	/* the list is in the order they were taken */
	for (i = 0; i < fz->nb; i++)
		if (!is_leak(fz, i))
			return fz->b_born[i];
	return 0;
}

/* ---- watch ---- */

/*
 * The expected result of a write to watch and the command it is (c->kind
 * W_BAD if it changes nothing). false: the write must not be made, as it
 * would arm a task the fuzzer does not own (see the header comment).
 * Concurrent writers arm only waiters, and accept whatever the others'
 * writes may have left.
 */
bool watch_expect(struct fuzzer *fz, const struct input *in,
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
		/* interface.rst, watch: anything else gets EINVAL (ERANGE included) */
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
void watch_apply(struct fuzzer *fz, const struct watch_cmd *c)
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

/* ---- holders ---- */

/* The expected result of a write to holders, and the selection it makes. */
struct expect holders_expect(const struct input *in,
			     struct holders_sel *c)
{
	int vfs = expect_vfs(F_HOLDERS, in);

	*c = model_holders(in->data, in->len);
	if (vfs != 1) {
		c->kind = H_BAD;
		return exactly(vfs);
	}
	/* interface.rst, holders: anything else is EINVAL, keeps the selection */
	return exactly(c->kind == H_BAD ? -EINVAL : 0);
}

const char *holders_sel_name(const struct holders_sel *sel)
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
bool holders_selects(const struct holders_sel *sel,
		     unsigned long long id, pid_t tgid)
{
	if (sel->kind == H_MM)
		return id == sel->val;
	if (sel->kind == H_TGID)
		return tgid > 0 && (unsigned long long)tgid == sel->val;
	return sel->kind == H_ALL;
}
