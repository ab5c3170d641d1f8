// SPDX-License-Identifier: GPL-2.0
/*
 * mmrefs_fuzz's checks (see fuzz_check.h): deliver each write, compare
 * its result with the model's expectation, read each file back and
 * compare it with the model's state; count and log what happened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include "fuzz_check.h"
#include "fuzz_gen.h"
#include "fuzz_model.h"

#define MAX_LOGGED		20
#define KERNEL_ADDR		0xffffffff81000000UL

struct fuzz_totals *totals;

static void __attribute__((constructor)) fuzz_totals_init(void)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	totals = p == MAP_FAILED ? NULL : p;
}

void count(unsigned long *counter, unsigned long n)
{
	__atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- a writer ---- */

int fuzzer_init(struct fuzzer *fz, enum fuzz_file file,
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

void fuzzer_fini(struct fuzzer *fz)
{
	if (fz->scratch)
		munmap(fz->scratch, (SCRATCH_PAGES + 1) * PAGE);
	fz->scratch = NULL;
}

/* ---- delivery and results ---- */

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
const char *quote(const char *p, size_t len)
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

void fail(struct fuzzer *fz, const struct input *in, const char *fmt, ...)
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

void one_write(struct fuzzer *fz, int fd, struct input *in,
	       struct expect e, int *got)
{
	*got = deliver(fz, fd, in);
	tally(fz, *got);
	check_result(fz, in, e, *got);
}

/* Write a fixed command; used for the model's own housekeeping. */
int plain_write(struct fuzzer *fz, int fd, const char *s, struct expect e)
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
void borrow_apply(struct fuzzer *fz, int fd, const struct borrow_cmd *c)
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

/* Fill the borrower to its limit, so the EBUSY path sees fuzz too. */
void borrow_fill(struct fuzzer *fz, int fd)
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

/* ---- reading the state back ---- */

ssize_t read_path(const char *path, char *buf, size_t size)
{
	return mmrefs_read_into(path, buf, size);
}

ssize_t pread_all(int fd, char *buf, size_t size)
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
bool borrow_list(const char *text, pid_t *pid, char mode[][8], int *n,
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

void check_borrows(struct fuzzer *fz, const struct input *in)
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

/*
 * The whole text of the watch file, or false: a header line, then one
 * line per slot, in order, free or armed by a live user task (users at
 * least 1, count at least the users' 1 and the observer's).
 */
bool watch_parse(const char *text, struct watch_state *ws)
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
void check_watch(struct fuzzer *fz, int rfd, const struct input *in)
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

/*
 * holders' text, block by block: a header "mm id=ID tgid=N ..." (no
 * leading blank), then its indented lines. NULL if it is well formed and
 * one of the nsel selections shows every header's mm, else the first line
 * that is not; *seen (if own) gets bit k for each own[k] shown.
 */
const char *holders_scan(const char *text,
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
void check_holders(struct fuzzer *fz, int rfd, const struct input *in)
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

/* ---- one round of filter or enable ---- */

/*
 * enable=0 disarms every hook and retires the table, and enable=1 arms and
 * seeds it again: about 0.3 s a round trip under TCG.  All but one in
 * ENABLE_ZERO_ODDS valid "0"s are drawn again, so a round of 32,000
 * writes toggles about a hundred times, not thousands.
 */
#define ENABLE_ZERO_ODDS	64

bool enable_zero(const struct fuzzer *fz, const struct input *in)
{
	char canon[64];

	return fz->file == F_ENABLE && expect_vfs(F_ENABLE, in) == 1 &&
	       !model_enable(in->data, in->len, canon, sizeof(canon)) &&
	       !strcmp(canon, "0\n");
}

/*
 * One single-writer round on filter or enable: write, compare the result
 * with the model, read the value back.
 */
void fuzz_setting(struct fuzzer *fz, int wfd, int rfd, char *state,
		  size_t state_len, struct input *in)
{
	char canon[64], now[64];
	unsigned int tries = 0;
	struct expect e;
	int vfs, model, got;

	do {
		gen_content(fz, in);
		gen_delivery(fz, in);
	} while (enable_zero(fz, in) && below(&fz->rng, ENABLE_ZERO_ODDS) &&
		 ++tries < 100);
	vfs = expect_vfs(fz->file, in);
	if (fz->file == F_FILTER) {
		model = model_filter(in->data, in->len, canon, sizeof(canon));
	} else {
		model = model_enable(in->data, in->len, canon, sizeof(canon));
		/* a site list loaded (exact mode): 1 -> 0 is refused */
		if (!model && fz->enable_busy && !strcmp(canon, "0\n") &&
		    !strcmp(state, "1\n"))
			model = -EBUSY;
	}
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
