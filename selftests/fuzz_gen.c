// SPDX-License-Identifier: GPL-2.0
/*
 * mmrefs_fuzz's input generator (see fuzz_gen.h): the PRNG, and for each
 * file its valid commands, the ways it breaks them, and the way each
 * write is delivered. The same seed makes the same writes: every choice
 * comes from the writer's own stream, in a fixed order.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_gen.h"
#include "fuzz_model.h"

const char * const delivery_name[] = {
	"write", "pwrite", "seek+write", "null", "hole", "straddle", "kernel",
};

unsigned long long fuzz_seed(void)
{
	const char *s = getenv("MMREFS_FUZZ_SEED");

	return s ? strtoull(s, NULL, 0) : FUZZ_SEED_DEFAULT;
}

static unsigned long long rnd(struct rng *r)
{
	unsigned long long z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

unsigned int below(struct rng *r, unsigned int n)
{
	return n ? rnd(r) % n : 0;
}

void rng_init(struct rng *r, unsigned long long stream)
{
	r->s = fuzz_seed() ^ (stream * 0xd1342543de82ef95ULL);
	rnd(r);
}

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

void append_str(struct input *in, const char *s)
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

void gen_content(struct fuzzer *fz, struct input *in)
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

void gen_delivery(struct fuzzer *fz, struct input *in)
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
