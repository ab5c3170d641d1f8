// SPDX-License-Identifier: GPL-2.0
/*
 * mmrefs - the command for the mmrefs module's debugfs files
 * (Documentation/mmrefs.rst).  This file owns the checks every subcommand
 * starts with (root, debugfs, the module), the strict readers of mms,
 * holders, history and leaks (formats in Documentation/interface.rst),
 * and the subcommands top, show, leaks and timeline; watch is in
 * mmrefs_watch.c, the drawing in mmrefs_timeline.c.
 *
 * Each file is read whole with one open() and read() until EOF, so one
 * table is one snapshot of the kernel's.  A line that does not match the
 * documented format is an error naming the file and line: a reader that
 * skipped what it did not understand would show a wrong table quietly.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <termios.h>
#include <unistd.h>

#include "mmrefs.h"
#include "mmrefs_timeline.h"

/* include/uapi/linux/magic.h */
#define DEBUGFS_MAGIC	0x64626720
/* include/linux/sched.h: the task is a kernel thread */
#define PF_KTHREAD	0x00200000

const char *mmrefs_prog = "mmrefs";

void die(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", mmrefs_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

void bad_line(const char *path, int lineno, const char *line, const char *why)
{
	die(MMREFS_EX_FORMAT, "%s:%d: %s, not as Documentation/interface.rst says: %.200s",
	    path, lineno, why, line);
}

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: mmrefs top [-b] [-n N] [-d SECS] [-s users|count|lazy|age|id]\n"
		"                  [--comm NAME] [--tgid N] [--state live|torndown]\n"
		"       mmrefs show PID|mm=ID [-e EVENTS]\n"
		"       mmrefs leaks\n"
		"       mmrefs watch PID [--stacks] [-o FILE]\n"
		"       mmrefs timeline mm=ID|FILE [-o OUT.svg] [-t TITLE]\n"
		"See Documentation/mmrefs.rst.\n");
}

static noreturn void bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", mmrefs_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_usage(stderr);
	exit(MMREFS_EX_USAGE);
}

/*
 * In the order a user fixes them: the files are root's only, debugfs
 * must be mounted to have them, and mmrefs loaded to have its directory.
 */
void mmrefs_require(void)
{
	struct statfs sfs;
	struct text t = { 0 };

	if (geteuid())
		die(MMREFS_EX_NOT_ROOT,
		    "must run as root: the mmrefs files in %s are root's only",
		    MMREFS_DEBUGFS);
	if (statfs(MMREFS_DEBUGFS, &sfs) || sfs.f_type != DEBUGFS_MAGIC)
		die(MMREFS_EX_NO_DEBUGFS,
		    "debugfs is not mounted on %s: mount -t debugfs none %s",
		    MMREFS_DEBUGFS, MMREFS_DEBUGFS);
	if (access(MMREFS_DIR "/mms", R_OK))
		die(MMREFS_EX_NOT_LOADED,
		    "mmrefs is not loaded (no %s): modprobe mmrefs", MMREFS_DIR);
	/* idle: nothing is tracked, so no answer would be true */
	if (!read_text(MMREFS_DIR "/enable", &t) && t.buf[0] == '0')
		die(MMREFS_EX_NOT_LOADED,
		    "mmrefs is loaded but disabled: echo 1 > %s/enable",
		    MMREFS_DIR);
	free_text(&t);
}

int read_text(const char *path, struct text *t)
{
	size_t size = 65536;
	ssize_t n;
	int fd;

	t->path = path;
	t->len = 0;
	t->buf = malloc(size);
	if (!t->buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(t->buf);
		t->buf = NULL;
		return -errno;
	}
	for (;;) {
		if (t->len + 1 >= size) {
			char *p = realloc(t->buf, size * 2);

			if (!p) {
				n = -ENOMEM;
				goto fail;
			}
			t->buf = p;
			size *= 2;
		}
		n = read(fd, t->buf + t->len, size - 1 - t->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			goto fail;
		}
		if (!n)
			break;
		t->len += n;
	}
	close(fd);
	t->buf[t->len] = '\0';
	/* a NUL inside would end every line early */
	if (strlen(t->buf) != t->len)
		die(MMREFS_EX_FORMAT, "%s: a NUL byte in the text", path);
	return 0;
fail:
	close(fd);
	free(t->buf);
	t->buf = NULL;
	return n;
}

void free_text(struct text *t)
{
	free(t->buf);
	t->buf = NULL;
}

/* Read a debugfs file of mmrefs or exit saying why. */
static void must_read(const char *path, struct text *t)
{
	int err = read_text(path, t);

	if (err == -ENOENT || err == -ENXIO)
		die(MMREFS_EX_NOT_LOADED, "%s: %s: mmrefs was unloaded (modprobe mmrefs)",
		    path, strerror(-err));
	if (err)
		die(MMREFS_EX_FORMAT, "cannot read %s: %s", path, strerror(-err));
}

/* Next line of t at *pos, NUL-terminated in place; NULL at the end. */
static char *next_line(struct text *t, size_t *pos, int *lineno)
{
	char *line, *nl;

	if (*pos >= t->len)
		return NULL;
	line = t->buf + *pos;
	nl = strchr(line, '\n');
	if (!nl)
		bad_line(t->path, *lineno + 1, line, "the last line has no newline");
	*nl = '\0';
	*pos = nl + 1 - t->buf;
	(*lineno)++;
	return line;
}

int write_str(const char *path, const char *s)
{
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		err = -errno;
	else if ((size_t)n != strlen(s))
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

static bool key_char(char c)
{
	return islower((unsigned char)c) || isdigit((unsigned char)c) || c == '_';
}

/*
 * Tokens are key=value separated by one space; keys are [a-z0-9_]; no
 * value is empty.  site= is always last and its value is the rest of
 * the line ("sym+off/size [module]" has a space).
 */
bool kv_split(char *line, struct kvline *kv)
{
	char *p = line, *eq;

	kv->n = 0;
	while (*p) {
		if (kv->n == KV_MAX)
			return false;
		for (eq = p; key_char(*eq); eq++)
			;
		if (eq == p || *eq != '=' || !eq[1] || eq[1] == ' ')
			return false;
		*eq = '\0';
		kv->key[kv->n] = p;
		kv->val[kv->n] = eq + 1;
		kv->n++;
		if (!strcmp(p, "site"))
			return true;
		p = strchr(eq + 1, ' ');
		if (!p)
			return true;
		*p++ = '\0';
		if (!*p)
			return false;	/* a trailing space */
	}
	return kv->n > 0;
}

const char *kv_get(const struct kvline *kv, const char *key)
{
	int i;

	for (i = 0; i < kv->n; i++)
		if (!strcmp(kv->key[i], key))
			return kv->val[i];
	return NULL;
}

static bool parse_long(const char *s, long *val)
{
	char *end;

	if (!s || !*s || (!isdigit((unsigned char)*s) && *s != '-'))
		return false;
	errno = 0;
	*val = strtol(s, &end, 10);
	return !*end && !errno;
}

bool kv_long(const struct kvline *kv, const char *key, long *val)
{
	return parse_long(kv_get(kv, key), val);
}

bool kv_pair(const struct kvline *kv, const char *key, long *a, long *b)
{
	const char *v = kv_get(kv, key);
	char *end, *end2;

	if (!v || (!isdigit((unsigned char)*v) && *v != '-'))
		return false;
	*a = strtol(v, &end, 10);
	if (end[0] != '-' || end[1] != '>')
		return false;
	*b = strtol(end + 2, &end2, 10);
	return end2 != end + 2 && !*end2;
}

static bool kv_str(const struct kvline *kv, const char *key, char *out, size_t len)
{
	const char *v = kv_get(kv, key);

	if (!v || strlen(v) >= len)
		return false;
	strcpy(out, v);
	return true;
}

/* Every key of keys (NULL-terminated) is present, with a number if nums. */
static const char *kv_missing(const struct kvline *kv, const char * const *keys,
			      bool nums)
{
	long v;

	for (; *keys; keys++)
		if (nums ? !kv_long(kv, *keys, &v) : !kv_get(kv, *keys))
			return *keys;
	return NULL;
}

static const char * const mms_numbers[] = {
	"id", "tgid", "users", "count", "lazy", "watch_slot", "observer",
	"age_ms", NULL
};

int read_mms(struct mm_row **rows)
{
	struct text t;
	struct kvline kv;
	size_t pos = 0;
	int lineno = 0, n = 0, max = 64;
	char *line, copy[1024];
	const char *miss;
	struct mm_row *r;

	must_read(MMREFS_DIR "/mms", &t);
	*rows = malloc(max * sizeof(**rows));
	if (!*rows)
		die(MMREFS_EX_FORMAT, "out of memory");
	while ((line = next_line(&t, &pos, &lineno))) {
		if (strlen(line) >= sizeof(copy))
			bad_line(t.path, lineno, line, "a line too long");
		strcpy(copy, line);
		if (strncmp(line, "id=", 3) || !kv_split(line, &kv))
			bad_line(t.path, lineno, copy, "not a line of key=value");
		miss = kv_missing(&kv, mms_numbers, true);
		if (miss)
			bad_line(t.path, lineno, copy, "a number missing");
		if (n == max) {
			max *= 2;
			*rows = realloc(*rows, max * sizeof(**rows));
			if (!*rows)
				die(MMREFS_EX_FORMAT, "out of memory");
		}
		r = &(*rows)[n];
		memset(r, 0, sizeof(*r));
		kv_long(&kv, "id", &r->id);
		kv_long(&kv, "tgid", &r->tgid);
		kv_long(&kv, "users", &r->users);
		kv_long(&kv, "count", &r->count);
		kv_long(&kv, "lazy", &r->lazy);
		kv_long(&kv, "watch_slot", &r->watch_slot);
		kv_long(&kv, "observer", &r->observer);
		kv_long(&kv, "age_ms", &r->age_ms);
		if (!kv_str(&kv, "comm", r->comm, sizeof(r->comm)) ||
		    !kv_str(&kv, "state", r->state, sizeof(r->state)) ||
		    !kv_str(&kv, "src", r->src, sizeof(r->src)))
			bad_line(t.path, lineno, copy, "comm, state or src missing");
		if (strcmp(r->state, "live") && strcmp(r->state, "torndown"))
			bad_line(t.path, lineno, copy, "a state neither live nor torndown");
		n++;
	}
	free_text(&t);
	return n;
}

pid_t parse_pid(const char *s)
{
	long v;

	if (!parse_long(s, &v) || v <= 0 || v > INT_MAX)
		bad_usage("not a pid: %s", s);
	return v;
}

/* /proc/PID/stat's flags and state; 0, or -errno. */
static int proc_stat(pid_t pid, unsigned long *flags, char *state, char *comm,
		     size_t commlen)
{
	char path[64], buf[1024], *p, *q;
	char *end;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* "pid (comm) S ppid ..."; comm may hold ") " */
	p = strchr(buf, '(');
	q = strrchr(buf, ')');
	if (!p || !q || q < p)
		return -EIO;
	snprintf(comm, commlen, "%.*s", (int)(q - p - 1), p + 1);
	p = q + 2;
	*state = *p;
	/* fields 3 (state) .. 9 (flags) */
	for (i = 3; i < 9 && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p)
		return -EIO;
	*flags = strtoul(p, &end, 10);
	if (end == p || *end != ' ')
		return -EIO;
	return 0;
}

/*
 * The process (thread group) of pid: the first entry of /proc/PID/task,
 * which the kernel lists starting with the group leader.  Not the Tgid
 * line of /proc/PID/status: reading status (or stat) takes an mmget() of
 * the very mm this command is about to show, one more event in its
 * history and a holder while it lasts.
 */
pid_t pid_tgid(pid_t pid)
{
	char path[64];
	struct dirent *d;
	long tgid = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		die(MMREFS_EX_NO_PROCESS, "no process %d", pid);
	while (!tgid && (d = readdir(dir)))
		if (d->d_name[0] != '.' && !parse_long(d->d_name, &tgid))
			die(MMREFS_EX_FORMAT, "%s: entry %s is no tid", path,
			    d->d_name);
	closedir(dir);
	if (tgid <= 0)
		die(MMREFS_EX_NO_PROCESS, "no process %d", pid);
	return tgid;
}

/* /proc/PID/comm; 0, or -errno.  No mm is touched. */
static int proc_comm(pid_t pid, char *comm, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, comm, len - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	comm[n - (comm[n - 1] == '\n')] = '\0';
	return 0;
}

/*
 * Whether pid has an mm: /proc/PID/exe resolves (under task_lock(),
 * without an mmget()) only for a task with one; a kernel thread or an
 * exited task gives ENOENT.
 */
static bool proc_has_mm(pid_t pid)
{
	char path[64], target[8];

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	return readlink(path, target, sizeof(target)) >= 0 || errno != ENOENT;
}

long mm_of_pid(pid_t pid, struct mm_row *row)
{
	struct mm_row *rows, *best = NULL;
	unsigned long flags;
	char state, comm[64];
	pid_t tgid;
	int i, n;

	if (proc_comm(pid, comm, sizeof(comm)))
		die(MMREFS_EX_NO_PROCESS, "no process %d", pid);
	/* /proc/PID/stat takes no mmget() of a task without an mm */
	if (!proc_has_mm(pid)) {
		if (proc_stat(pid, &flags, &state, comm, sizeof(comm)))
			die(MMREFS_EX_NO_PROCESS, "no process %d", pid);
		if (flags & PF_KTHREAD)
			die(MMREFS_EX_NO_MM, "pid %d (%s) has no mm: it is a kernel thread",
			    pid, comm);
		die(MMREFS_EX_NO_MM, "pid %d (%s) has no mm: it has exited (a zombie)",
		    pid, comm);
	}
	tgid = pid_tgid(pid);
	n = read_mms(&rows);
	/* its live mm; an older one of the same owner may be torn down */
	for (i = 0; i < n; i++)
		if (rows[i].tgid == tgid &&
		    (!best || (!strcmp(rows[i].state, "live") &&
			       (strcmp(best->state, "live") || rows[i].id > best->id))))
			best = &rows[i];
	if (!best) {
		free(rows);
		die(MMREFS_EX_NO_MM,
		    "process %d (%s) has no mm that mmrefs tracks (see lost_* in %s/stats)",
		    tgid, comm, MMREFS_DIR);
	}
	*row = *best;
	free(rows);
	return row->id;
}

/* --- holders and leaks blocks ------------------------------------------ */

/* The kinds of holders lines, in the order the summary shows them. */
static const char * const kinds[] = {
	"thread", "mmget", "lazy_tlb", "use", "mmgrab", "observer",
	"khugepaged", "borrowed", "users", "unattributed",
};

#define NR_KINDS	ARRAY_SIZE(kinds)
#define KIND_BORROWED	7
#define KIND_USERS	8
#define KIND_UNATTR	9
#define NR_SUMMARY	KIND_BORROWED	/* kinds summed in the summary */

/* A record: a holder with a task and a site (leaks groups by them). */
struct record {
	char kind[16], comm[32], site[160];
	long refs, pid, kthread;
};

struct block {
	long id, tgid, users, count, held_ms;
	char comm[32], state[16], src[8], reasons[40];
	long refs[NR_KINDS];		/* borrowed: its number of lines */
	long unattr_users, unattr_count;
	int nrec;
	struct record *rec;
	char *text;			/* the block's lines, as read */
	size_t textlen;
};

static int kind_index(const char *kind)
{
	size_t i;

	for (i = 0; i < NR_KINDS; i++)
		if (!strcmp(kinds[i], kind))
			return i;
	return -1;
}

static void block_append(struct block *b, const char *line)
{
	size_t n = strlen(line);

	b->text = realloc(b->text, b->textlen + n + 2);
	if (!b->text)
		die(MMREFS_EX_FORMAT, "out of memory");
	memcpy(b->text + b->textlen, line, n);
	b->textlen += n;
	b->text[b->textlen++] = '\n';
	b->text[b->textlen] = '\0';
}

static const char * const head_numbers[] = { "id", "tgid", "users", "count", NULL };
static const char * const record_keys[] = {
	"pid", "tgid", "kthread", "age_ms", NULL
};

/* A header: "mm id=..." (holders) or "leak reasons=R held_ms=N id=..." (leaks). */
static void parse_head(struct text *t, int lineno, char *line, struct block *b)
{
	char copy[1024];
	struct kvline kv;
	bool leak = !strncmp(line, "leak ", 5);

	snprintf(copy, sizeof(copy), "%s", line);
	if ((!leak && strncmp(line, "mm ", 3)) ||
	    !kv_split(line + (leak ? 5 : 3), &kv) ||
	    kv_missing(&kv, head_numbers, true) ||
	    !kv_str(&kv, "comm", b->comm, sizeof(b->comm)) ||
	    !kv_str(&kv, "state", b->state, sizeof(b->state)) ||
	    !kv_str(&kv, "src", b->src, sizeof(b->src)) ||
	    (leak && (!kv_str(&kv, "reasons", b->reasons, sizeof(b->reasons)) ||
		      !kv_long(&kv, "held_ms", &b->held_ms))))
		bad_line(t->path, lineno, copy, "not a block's header line");
	kv_long(&kv, "id", &b->id);
	kv_long(&kv, "tgid", &b->tgid);
	kv_long(&kv, "users", &b->users);
	kv_long(&kv, "count", &b->count);
	block_append(b, copy);
}

/* "  kind=K counter=C refs=N [pid=... site=S]" */
static void parse_part(struct text *t, int lineno, char *line, struct block *b)
{
	char copy[1024], counter[8];
	struct kvline kv;
	struct record *r;
	long refs;
	int k;

	snprintf(copy, sizeof(copy), "%s", line);
	k = -1;
	if (kv_split(line + 2, &kv) && kv_get(&kv, "kind"))
		k = kind_index(kv_get(&kv, "kind"));
	if (k < 0 || !kv_long(&kv, "refs", &refs) ||
	    !kv_str(&kv, "counter", counter, sizeof(counter)))
		bad_line(t->path, lineno, copy, "not a holder line");
	block_append(b, copy);
	if (k == KIND_UNATTR) {
		if (!strcmp(counter, "users"))
			b->unattr_users = refs;
		else
			b->unattr_count = refs;
		return;
	}
	b->refs[k] += k == KIND_BORROWED ? 1 : refs;
	if (!kv_get(&kv, "site"))
		return;
	/* a record: a task that holds, and where it took the reference */
	if (kv_missing(&kv, record_keys, true))
		bad_line(t->path, lineno, copy, "a holder record without its task");
	b->rec = realloc(b->rec, (b->nrec + 1) * sizeof(*b->rec));
	if (!b->rec)
		die(MMREFS_EX_FORMAT, "out of memory");
	r = &b->rec[b->nrec++];
	memset(r, 0, sizeof(*r));
	snprintf(r->kind, sizeof(r->kind), "%s", kinds[k]);
	snprintf(r->comm, sizeof(r->comm), "%s", kv_get(&kv, "comm") ?: "-");
	snprintf(r->site, sizeof(r->site), "%s", kv_get(&kv, "site"));
	r->refs = refs;
	kv_long(&kv, "pid", &r->pid);
	kv_long(&kv, "kthread", &r->kthread);
}

/* Every block of holders or leaks; dies on a line out of format. */
static int read_blocks(const char *path, struct block **blocks)
{
	struct block *b = NULL;
	struct text t;
	size_t pos = 0;
	int lineno = 0, n = 0;
	char *line;

	must_read(path, &t);
	*blocks = NULL;
	while ((line = next_line(&t, &pos, &lineno))) {
		if (line[0] != ' ') {
			*blocks = realloc(*blocks, (n + 1) * sizeof(**blocks));
			if (!*blocks)
				die(MMREFS_EX_FORMAT, "out of memory");
			b = &(*blocks)[n++];
			memset(b, 0, sizeof(*b));
			parse_head(&t, lineno, line, b);
		} else if (!b) {
			bad_line(path, lineno, line, "a holder line before any header");
		} else if (!strncmp(line, "  kind=", 7)) {
			parse_part(&t, lineno, line, b);
		} else if (!strncmp(line, "  more_records=", 15)) {
			block_append(b, line);
		} else if (!strncmp(line, "      ", 6) && line[6] && line[6] != ' ') {
			block_append(b, line);	/* a record's stack frame */
		} else {
			bad_line(path, lineno, line, "not a holder line");
		}
	}
	free_text(&t);
	return n;
}

static void free_blocks(struct block *blocks, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(blocks[i].text);
		free(blocks[i].rec);
	}
	free(blocks);
}

/* "thread=4,lazy_tlb=1,unattributed=0/1": the parts, by kind. */
static void summary(const struct block *b, char *out, size_t len)
{
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < NR_SUMMARY + 1 && used < len; i++)
		if (b->refs[i])
			used += snprintf(out + used, len - used, "%s%s=%ld",
					 used ? "," : "", kinds[i], b->refs[i]);
	if ((b->unattr_users || b->unattr_count) && used < len)
		used += snprintf(out + used, len - used, "%sunattributed=%ld/%ld",
				 used ? "," : "", b->unattr_users, b->unattr_count);
	if (!used)
		snprintf(out, len, "-");
}

/* --- top ----------------------------------------------------------------- */

/*
 * Read only after a system call returned (poll, read): no volatile needed,
 * the compiler cannot keep it in a register across those calls.
 */
static sig_atomic_t quit_signal;

static void on_quit(int sig)
{
	quit_signal = sig;
}

/* Without SA_RESTART: a blocking poll() or read() returns EINTR. */
static void catch_quit_signals(void)
{
	struct sigaction sa = { .sa_handler = on_quit };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

enum sort_key { SORT_USERS, SORT_COUNT, SORT_LAZY, SORT_AGE, SORT_ID };
static const char * const sort_names[] = { "users", "count", "lazy", "age", "id" };
static enum sort_key sort_by;

static int cmp_rows(const void *a, const void *b)
{
	const struct mm_row *x = a, *y = b;
	long d = 0;

	switch (sort_by) {
	case SORT_USERS:
		d = y->users - x->users;
		break;
	case SORT_COUNT:
		d = y->count - x->count;
		break;
	case SORT_LAZY:
		d = y->lazy - x->lazy;
		break;
	case SORT_AGE:
		d = y->age_ms - x->age_ms;
		break;
	case SORT_ID:
		break;
	}
	if (!d)
		d = x->id - y->id;
	return d < 0 ? -1 : d > 0;
}

static int cmp_blocks(const void *a, const void *b)
{
	const struct block *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

struct top_opts {
	bool batch;
	long iterations;	/* 0: until q */
	double delay;
	const char *comm, *state;
	long tgid;
};

static void format_age(long ms, char *out, size_t len)
{
	if (ms < 60000)
		snprintf(out, len, "%ld.%lds", ms / 1000, ms % 1000 / 100);
	else if (ms < 3600000)
		snprintf(out, len, "%ldm%02lds", ms / 60000, ms % 60000 / 1000);
	else
		snprintf(out, len, "%ldh%02ldm", ms / 3600000, ms % 3600000 / 60000);
}

/* One table into f; at most max_rows rows (0: all). */
static void top_table(FILE *f, const struct top_opts *o, int max_rows)
{
	struct mm_row *rows;
	struct block *blocks, key, *b;
	char sum[256], age[32];
	int n, nb, i, shown = 0, match = 0;

	n = read_mms(&rows);
	nb = read_blocks(MMREFS_DIR "/holders", &blocks);
	qsort(blocks, nb, sizeof(*blocks), cmp_blocks);
	qsort(rows, n, sizeof(*rows), cmp_rows);
	for (i = 0; i < n; i++)
		match += (!o->comm || !strcmp(rows[i].comm, o->comm)) &&
			 (!o->tgid || rows[i].tgid == o->tgid) &&
			 (!o->state || !strcmp(rows[i].state, o->state));
	fprintf(f, "mmrefs top: %d mms, %d shown, sorted by %s\n", n, match,
		sort_names[sort_by]);
	fprintf(f, "%8s %7s %-16s %-8s %5s %5s %4s %-32s %8s\n", "ID", "TGID",
		"COMM", "STATE", "USERS", "COUNT", "LAZY", "HOLDERS", "AGE");
	for (i = 0; i < n; i++) {
		const struct mm_row *r = &rows[i];

		if ((o->comm && strcmp(r->comm, o->comm)) ||
		    (o->tgid && r->tgid != o->tgid) ||
		    (o->state && strcmp(r->state, o->state)))
			continue;
		if (max_rows && shown == max_rows)
			break;
		key.id = r->id;
		b = bsearch(&key, blocks, nb, sizeof(*blocks), cmp_blocks);
		/* not in holders: born since, or another selection is set */
		if (b)
			summary(b, sum, sizeof(sum));
		else
			snprintf(sum, sizeof(sum), "?");
		format_age(r->age_ms, age, sizeof(age));
		fprintf(f, "%8ld %7ld %-16s %-8s %5ld %5ld %4ld %-32s %8s\n",
			r->id, r->tgid, r->comm, r->state, r->users, r->count,
			r->lazy, sum, age);
		shown++;
	}
	free(rows);
	free_blocks(blocks, nb);
}

static int top_interactive(const struct top_opts *o)
{
	struct termios saved, raw;
	bool tty = isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved);
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	struct winsize ws;
	long iter = 0;
	char *buf;
	size_t len;
	FILE *f;
	char c;

	catch_quit_signals();
	if (tty) {
		raw = saved;
		/* keys one by one, unechoed; ISIG stays: Ctrl-C is SIGINT */
		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	fputs("\033[?25l", stdout);	/* cursor off while redrawing */
	while (!quit_signal) {
		int rows = 0;

		if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row > 3)
			rows = ws.ws_row - 3;
		/* drawn into memory first, then written at once: no flicker */
		f = open_memstream(&buf, &len);
		if (!f)
			break;
		fputs("\033[H\033[2J", f);
		top_table(f, o, rows);
		fputs("(q quits)", f);
		fclose(f);
		fwrite(buf, 1, len, stdout);
		fflush(stdout);
		free(buf);
		if (o->iterations && ++iter >= o->iterations)
			break;
		if (poll(&pfd, tty ? 1 : 0, (int)(o->delay * 1000)) > 0 &&
		    read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q'))
			break;
	}
	fputs("\033[?25h\n", stdout);
	fflush(stdout);
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return MMREFS_EX_OK;
}

int mmrefs_top(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "comm", required_argument, NULL, 'c' },
		{ "tgid", required_argument, NULL, 't' },
		{ "state", required_argument, NULL, 'S' },
		{ "batch", no_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 }
	};
	struct top_opts o = { .delay = 1 };
	long iter = 0;
	char *end;
	size_t i;
	int opt;

	while ((opt = getopt_long(argc, argv, "bn:d:s:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			o.batch = true;
			break;
		case 'n':
			if (!parse_long(optarg, &o.iterations) || o.iterations <= 0)
				bad_usage("-n wants a number of iterations above 0");
			break;
		case 'd':
			o.delay = strtod(optarg, &end);
			if (end == optarg || *end || !(o.delay >= 0.1 && o.delay <= 3600))
				bad_usage("-d wants seconds from 0.1 to 3600");
			break;
		case 's':
			for (i = 0; i < ARRAY_SIZE(sort_names); i++)
				if (!strcmp(optarg, sort_names[i]))
					break;
			if (i == ARRAY_SIZE(sort_names))
				bad_usage("-s wants users, count, lazy, age or id");
			sort_by = i;
			break;
		case 'c':
			o.comm = optarg;
			break;
		case 't':
			o.tgid = parse_pid(optarg);
			break;
		case 'S':
			if (strcmp(optarg, "live") && strcmp(optarg, "torndown"))
				bad_usage("--state wants live or torndown");
			o.state = optarg;
			break;
		default:
			print_usage(stderr);
			return MMREFS_EX_USAGE;
		}
	}
	if (optind < argc)
		bad_usage("top takes no argument: %s", argv[optind]);
	mmrefs_require();
	if (!o.batch)
		return top_interactive(&o);
	/* no terminal control: tables one after the other, a blank line between */
	catch_quit_signals();
	while (!quit_signal) {
		top_table(stdout, &o, 0);
		if (fflush(stdout))
			return MMREFS_EX_FORMAT;
		if (o.iterations && ++iter >= o.iterations)
			break;
		putchar('\n');
		poll(NULL, 0, (int)(o.delay * 1000));
	}
	return MMREFS_EX_OK;
}

/* --- show ---------------------------------------------------------------- */

/*
 * Holders of one mm: select it, read, select all again.  The three steps
 * run with the quit signals blocked, so the selection is always restored.
 */
static int holders_of(long id, struct block **blocks)
{
	sigset_t block, old;
	char sel[32];
	int n, err;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	snprintf(sel, sizeof(sel), "mm=%ld", id);
	err = write_str(MMREFS_DIR "/holders", sel);
	if (err)
		die(MMREFS_EX_FORMAT, "cannot select %s in %s/holders: %s", sel,
		    MMREFS_DIR, strerror(-err));
	n = read_blocks(MMREFS_DIR "/holders", blocks);
	err = write_str(MMREFS_DIR "/holders", "all");
	if (err)
		fprintf(stderr, "%s: cannot select all in %s/holders again: %s\n",
			mmrefs_prog, MMREFS_DIR, strerror(-err));
	sigprocmask(SIG_SETMASK, &old, NULL);
	return n;
}

static const char * const event_numbers[] = {
	"id", "seq", "ts", "cpu", "pid", "tgid", "kthread", NULL
};

static const char * const event_words[] = { "comm", "op", "cause", "site", NULL };

/* An event line of history, after its two spaces: as documented? */
static bool event_ok(char *line)
{
	struct kvline kv;
	long a, b;

	return kv_split(line, &kv) && !kv_missing(&kv, event_numbers, true) &&
	       !kv_missing(&kv, event_words, false) &&
	       kv_pair(&kv, "users", &a, &b) && kv_pair(&kv, "count", &a, &b);
}

static void add_line(char ***lines, int *nr, const char *line)
{
	*lines = realloc(*lines, (*nr + 1) * sizeof(**lines));
	if (!*lines)
		die(MMREFS_EX_FORMAT, "out of memory");
	(*lines)[*nr] = strdup(line);
	if (!(*lines)[*nr])
		die(MMREFS_EX_FORMAT, "out of memory");
	(*nr)++;
}

static void free_lines(char **lines, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		free(lines[i]);
	free(lines);
}

/*
 * mm id's block of history: its header line into head and its event and
 * stack lines, as read, into *lines (*nr of them, malloc'ed); the whole
 * file is checked.  Whether id has a block at all.
 */
static bool history_block(long id, char head[1024], char ***lines, int *nr)
{
	struct text t;
	size_t pos = 0;
	int lineno = 0;
	char *line, copy[1024];
	bool ours = false, found = false;
	struct kvline kv;
	long hid;

	*lines = NULL;
	*nr = 0;
	must_read(MMREFS_DIR "/history", &t);
	while ((line = next_line(&t, &pos, &lineno))) {
		if (strlen(line) >= sizeof(copy))
			bad_line(t.path, lineno, line, "a line too long");
		strcpy(copy, line);
		if (!strncmp(line, "mm ", 3)) {
			if (!kv_split(line + 3, &kv) || !kv_long(&kv, "id", &hid) ||
			    !kv_get(&kv, "events") || !kv_get(&kv, "dropped"))
				bad_line(t.path, lineno, copy, "not a history header");
			ours = hid == id;
			if (ours) {
				found = true;
				strcpy(head, copy);
			}
		} else if (!strncmp(line, "  id=", 5)) {
			if (!event_ok(line + 2))
				bad_line(t.path, lineno, copy, "not an event line");
			if (ours)
				add_line(lines, nr, copy);
		} else if (!strncmp(line, "    ", 4) && line[4] && line[4] != ' ') {
			if (ours)	/* a watched event's stack frame */
				add_line(lines, nr, copy);
		} else {
			bad_line(t.path, lineno, copy, "not a history line");
		}
	}
	free_text(&t);
	return found;
}

/* The last max events of mm id from history, printed as read. */
static bool show_history(long id, int max)
{
	char head[1024], **lines;
	int nr, i, first;

	if (!history_block(id, head, &lines, &nr))
		return false;
	/* the last max events, their stacks with them */
	first = nr;
	for (i = nr - 1; i >= 0 && max > 0; i--) {
		if (!strncmp(lines[i], "  id=", 5)) {
			max--;
			first = i;
		}
	}
	printf("history %s\n", head + 3);
	for (i = first; i < nr; i++)
		printf("%s\n", lines[i]);
	free_lines(lines, nr);
	return true;
}

int mmrefs_show(int argc, char **argv)
{
	struct mm_row row, *rows;
	struct block *blocks;
	long id = 0, events = 10;
	const char *what = NULL;
	char sum[256];
	int opt, n, i;
	pid_t pid = 0;

	while ((opt = getopt(argc, argv, "e:")) != -1) {
		if (opt != 'e' || !parse_long(optarg, &events) || events < 0) {
			if (opt == 'e')
				bad_usage("-e wants a number of events");
			print_usage(stderr);
			return MMREFS_EX_USAGE;
		}
	}
	if (optind != argc - 1)
		bad_usage("show wants one PID or mm=ID");
	what = argv[optind];
	if (!strncmp(what, "mm=", 3)) {
		if (!parse_long(what + 3, &id) || id <= 0)
			bad_usage("not an mm id: %s", what);
	} else {
		pid = parse_pid(what);
	}
	mmrefs_require();
	if (pid) {
		mm_of_pid(pid, &row);
		id = row.id;
	} else {
		n = read_mms(&rows);
		for (i = 0; i < n && rows[i].id != id; i++)
			;
		if (i < n)
			row = rows[i];
		free(rows);
		if (i == n) {
			/* freed: only its history is left, if still kept */
			if (show_history(id, events))
				return MMREFS_EX_OK;
			die(MMREFS_EX_NO_PROCESS,
			    "no mm with id %ld (freed and its history gone, or never)", id);
		}
	}
	fprintf(stdout,
		"mm id=%ld tgid=%ld comm=%s state=%s users=%ld count=%ld lazy=%ld src=%s watch_slot=%ld observer=%ld age_ms=%ld\n",
		row.id, row.tgid, row.comm, row.state, row.users, row.count,
		row.lazy, row.src, row.watch_slot, row.observer, row.age_ms);
	n = holders_of(id, &blocks);
	for (i = 0; i < n && blocks[i].id != id; i++)
		;
	if (i < n) {
		summary(&blocks[i], sum, sizeof(sum));
		/* its header again: holders reads the values a moment later */
		printf("holders %s", blocks[i].text + 3);
		printf("summary %s\n", sum);
	} else {
		printf("holders none: the mm was freed since\n");
	}
	free_blocks(blocks, n);
	if (!show_history(id, events))
		printf("history none\n");
	return MMREFS_EX_OK;
}

/* --- leaks --------------------------------------------------------------- */

/* One suspect mm under one holder (a record, or what nobody can name). */
struct suspect {
	char key[256];		/* the group: kind, task, site */
	const struct block *b;
	long refs;
};

static int cmp_suspects(const void *a, const void *b)
{
	const struct suspect *x = a, *y = b;
	int d = strcmp(x->key, y->key);

	return d ? d : (x->b->id < y->b->id ? -1 : x->b->id > y->b->id);
}

static void add_suspect(struct suspect **s, int *n, const struct block *b,
			long refs, const char *fmt, ...)
{
	va_list ap;

	*s = realloc(*s, (*n + 1) * sizeof(**s));
	if (!*s)
		die(MMREFS_EX_FORMAT, "out of memory");
	va_start(ap, fmt);
	vsnprintf((*s)[*n].key, sizeof((*s)[*n].key), fmt, ap);
	va_end(ap);
	(*s)[*n].b = b;
	(*s)[*n].refs = refs;
	(*n)++;
}

int mmrefs_leaks(int argc, char **argv)
{
	struct suspect *s = NULL;
	struct block *blocks;
	int n, ns = 0, i, j, groups = 0;

	if (argc > 1)
		bad_usage("leaks takes no argument: %s", argv[1]);
	mmrefs_require();
	n = read_blocks(MMREFS_DIR "/leaks", &blocks);
	for (i = 0; i < n; i++) {
		const struct block *b = &blocks[i];
		int before = ns;

		for (j = 0; j < b->nrec; j++)
			add_suspect(&s, &ns, b, b->rec[j].refs,
				    "holder kind=%s comm=%s kthread=%ld site=%s",
				    b->rec[j].kind, b->rec[j].comm,
				    b->rec[j].kthread, b->rec[j].site);
		if (b->unattr_users || b->unattr_count)
			add_suspect(&s, &ns, b, b->unattr_count,
				    "holder kind=unattributed (references no holder record names)");
		if (ns == before)
			add_suspect(&s, &ns, b, 0, "holder none (no record, nothing unattributed)");
	}
	qsort(s, ns, sizeof(*s), cmp_suspects);
	for (i = 0; i < ns; i++)
		groups += !i || strcmp(s[i].key, s[i - 1].key);
	if (!n) {
		printf("no leak suspects\n");
	} else {
		printf("%d leak suspect%s, %d holder group%s\n", n, n == 1 ? "" : "s",
		       groups, groups == 1 ? "" : "s");
	}
	for (i = 0; i < ns; i++) {
		const struct block *b = s[i].b;

		if (!i || strcmp(s[i].key, s[i - 1].key))
			printf("%s\n", s[i].key);
		fprintf(stdout,
			"  mm id=%ld tgid=%ld comm=%s state=%s users=%ld count=%ld reasons=%s held_ms=%ld refs=%ld\n",
			b->id, b->tgid, b->comm, b->state, b->users, b->count,
			b->reasons, b->held_ms, s[i].refs);
	}
	free(s);
	free_blocks(blocks, n);
	return n ? MMREFS_EX_LEAKS : MMREFS_EX_OK;
}

/*
 * timeline mm=ID|FILE: one mm's life as an SVG (tools/mmrefs_timeline.c,
 * Documentation/timeline.rst), from its history block in debugfs or from
 * a file of event lines (watch -o, a saved history block).  A file needs
 * neither root nor the module.
 */
int mmrefs_timeline_cmd(int argc, char **argv)
{
	const char *outname = NULL, *title = NULL, *what;
	char head[1024], **lines, *buf = NULL, tbuf[64];
	FILE *in, *out = stdout;
	size_t len = 0;
	int opt, nr, i, ret;
	long id;

	while ((opt = getopt(argc, argv, "o:t:")) != -1) {
		if (opt == 'o') {
			outname = optarg;
		} else if (opt == 't') {
			title = optarg;
		} else {
			print_usage(stderr);
			return MMREFS_EX_USAGE;
		}
	}
	if (optind != argc - 1)
		bad_usage("timeline wants one mm=ID or FILE");
	what = argv[optind];
	if (!strncmp(what, "mm=", 3)) {
		if (!parse_long(what + 3, &id) || id <= 0)
			bad_usage("not an mm id: %s", what);
		mmrefs_require();
		if (!history_block(id, head, &lines, &nr))
			die(MMREFS_EX_NO_PROCESS,
			    "no history of mm id %ld (freed and its history gone, or never)", id);
		in = open_memstream(&buf, &len);
		if (!in)
			die(MMREFS_EX_FORMAT, "out of memory");
		fprintf(in, "%s\n", head);
		for (i = 0; i < nr; i++)
			fprintf(in, "%s\n", lines[i]);
		free_lines(lines, nr);
		if (fclose(in))
			die(MMREFS_EX_FORMAT, "out of memory");
		in = fmemopen(buf, len, "r");
		snprintf(tbuf, sizeof(tbuf), "mm id=%ld", id);
		title = title ?: tbuf;
	} else {
		in = fopen(what, "r");
		title = title ?: what;
	}
	if (!in)
		die(MMREFS_EX_FORMAT, "%s: %s", what, strerror(errno));
	if (outname) {
		out = fopen(outname, "w");
		if (!out)
			die(MMREFS_EX_FORMAT, "%s: %s", outname, strerror(errno));
	}
	ret = mmrefs_timeline(in, out, title);
	fclose(in);
	free(buf);
	if (out != stdout && fclose(out))
		ret = -1;
	/* no half-written drawing is left behind for a refused input */
	if (ret && outname)
		unlink(outname);
	return ret ? MMREFS_EX_FORMAT : MMREFS_EX_OK;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} cmds[] = {
		{ "top", mmrefs_top },
		{ "show", mmrefs_show },
		{ "leaks", mmrefs_leaks },
		{ "watch", mmrefs_watch },
		{ "timeline", mmrefs_timeline_cmd },
	};
	size_t i;

	if (argc < 2)
		bad_usage("which subcommand?");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		print_usage(stdout);
		return MMREFS_EX_OK;
	}
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);
	bad_usage("no subcommand %s", argv[1]);
}
