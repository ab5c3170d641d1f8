// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers for the mmrefs selftests; see mmrefs_util.h. Files are read
 * into one static buffer with plain open/read/close and parsed without
 * malloc, so a vfork child may call them too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <sys/param.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "mmrefs_util.h"

#ifdef MMREFS_SELFTEST
/*
 * Every test program loads what it needs itself, here: mmrefs.ko from
 * $MMREFS_KO and the borrower from $MMREFS_BORROW_KO, by default
 * ../module/mmrefs.ko and test_modules/mmrefs_borrow.ko beside the program
 * (in the build tree and in an installed kselftest tree alike).  Both are
 * exported as absolute paths before anything else: the seed and unload
 * tests reload the modules from them.  A module already loaded is used
 * as it is, but mmrefs only if this run loaded it (or the user said
 * MMREFS_SELFTEST_RELOAD=1); one that cannot be loaded is said so here,
 * and the tests that need it skip and say why.  What is loaded here stays
 * loaded for the programs that follow and is noted in MMREFS_LOADED_LIST
 * of $TMPDIR: mmrefs_nothing_lost.sh, the last test, checks the stats of
 * the whole run and then unloads what that list names.
 */
static const struct {
	const char *name, *env, *dflt;
} needed_modules[] = {
	{ "mmrefs", "MMREFS_KO", "../module/mmrefs.ko" },
	{ "mmrefs_borrow", "MMREFS_BORROW_KO", "test_modules/mmrefs_borrow.ko" },
};

/* $env as an absolute path: relative to the cwd if set, else the default. */
static void export_module_path(const char *env, const char *dflt)
{
	const char *val = getenv(env);
	char base[PATH_MAX], path[PATH_MAX], real[PATH_MAX];
	ssize_t n;

	if (val && val[0] == '/')
		return;
	if (val) {
		if (!getcwd(base, sizeof(base)))
			return;
	} else {
		n = readlink("/proc/self/exe", base, sizeof(base) - 1);
		if (n <= 0)
			return;
		base[n] = '\0';
		*strrchr(base, '/') = '\0';
		val = dflt;
	}
	if (snprintf(path, sizeof(path), "%s/%s", base, val) >= (int)sizeof(path))
		return;
	/* without "..": the path shows in messages */
	setenv(env, realpath(path, real) ? real : path, 1);
}

static void loaded_list(char *list, size_t size)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(list, size, "%s/" MMREFS_LOADED_LIST,
		 tmp && *tmp ? tmp : "/tmp");
}

static void note_loaded(const char *name)
{
	char list[PATH_MAX];
	int fd;

	loaded_list(list, sizeof(list));
	fd = open(list, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || dprintf(fd, "%s\n", name) < 0)
		fprintf(stderr, "# cannot note in %s that %s was loaded: %s\n",
			list, name, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* The loaded list names name: this run loaded it. */
static bool noted_loaded(const char *name)
{
	char list[PATH_MAX], line[64];
	bool found = false;
	FILE *f;

	loaded_list(list, sizeof(list));
	f = fopen(list, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		found = !strcmp(line, name);
	}
	fclose(f);
	return found;
}

/*
 * The tests change mmrefs' filter, enable and watch, and some reload it:
 * a mmrefs this run did not load is someone's, and is left alone unless
 * MMREFS_SELFTEST_RELOAD says they accept that.
 */
static void refuse_foreign_mmrefs(void)
{
	if (access("/sys/module/mmrefs", F_OK) || noted_loaded("mmrefs") ||
	    getenv("MMREFS_SELFTEST_RELOAD"))
		return;
	fprintf(stderr,
		"# mmrefs is loaded, and not by this test run: the tests would change its\n"
		"# filter, enable and watch, and reload it.  rmmod mmrefs first, or set\n"
		"# MMREFS_SELFTEST_RELOAD=1 to accept that.\n");
	exit(1);
}

static void load_needed_modules(void)
{
	char sysfs[64];
	const char *ko;
	size_t i;
	int err;

	if (getuid())
		return;		/* the tests skip: "must run as root" */
	refuse_foreign_mmrefs();
	for (i = 0; i < ARRAY_SIZE(needed_modules); i++) {
		snprintf(sysfs, sizeof(sysfs), "/sys/module/%s",
			 needed_modules[i].name);
		ko = getenv(needed_modules[i].env);
		if (!access(sysfs, F_OK) || !ko)
			continue;
		err = mmrefs_load_module(ko, "");
		if (err && err != -EEXIST) {
			fprintf(stderr, "# cannot load %s: %s\n", ko,
				strerror(-err));
			continue;
		}
		if (!err) {
			fprintf(stderr, "# loaded %s\n", ko);
			note_loaded(needed_modules[i].name);
		}
	}
}
#endif /* MMREFS_SELFTEST */

/*
 * khugepaged mmgrab()s each mm it registers and keeps that reference until
 * the mm is torn down, and a fork inherits the parent's registration
 * (dup_mmap()'s khugepaged_fork()), whatever the child does next.  Whether
 * a test program gets registered depends on where ASLR put its mappings,
 * so now and then every child it forked had an mm_count one above what
 * the tests expect (seen as watch.threads_share_users' net count 2).  So
 * every test program first executes itself again with THP disabled: the
 * mm exec creates inherits MMF_DISABLE_THP, khugepaged never registers it
 * and no mm forked from it inherits a registration.  glibc passes main()'s
 * arguments to constructors too.
 */
static void without_khugepaged(char **argv)
{
	char self[PATH_MAX];
	ssize_t n;

	if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) != 0)
		return;			/* done already, or no such prctl */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		return;
	self[n] = '\0';
	/* the real path, not /proc/self/exe: the comm stays the program's */
	execv(self, argv);
	fprintf(stderr, "# %s: cannot execute itself again with THP off: %s\n",
		self, strerror(errno));
	exit(1);
}

__attribute__((constructor))
static void mmrefs_util_init(int argc, char **argv)
{
#ifdef MMREFS_SELFTEST
	size_t i;

	/* before the exec: a relative path is relative to the caller's cwd */
	for (i = 0; i < ARRAY_SIZE(needed_modules); i++)
		export_module_path(needed_modules[i].env,
				   needed_modules[i].dflt);
#endif
	(void)argc;
	without_khugepaged(argv);
#ifdef MMREFS_SELFTEST
	load_needed_modules();
#endif
}

/* history holds up to max_mms entries; tests run on small guests. */
static char file_buf[8 << 20];

void mmrefs_sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

ssize_t mmrefs_read_into(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/*
	 * Modest chunks: /proc/sys files refuse a read() larger than they
	 * can kmalloc.  A failed read is an error, not an empty file.
	 */
	while (len < size - 1) {
		n = read(fd, buf + len, MIN(size - 1 - len, (size_t)65536));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

const char *mmrefs_read_file(const char *path)
{
	return mmrefs_read_into(path, file_buf, sizeof(file_buf)) < 0 ?
	       NULL : file_buf;
}

int mmrefs_write_file(const char *path, const char *s)
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
	close(fd);
	return err;
}

int borrow_cmd(const char *fmt, ...)
{
	char cmd[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return mmrefs_write_file(BORROW_CONTROL, cmd);
}

/* Copy the line of text that starts at p (without '\n') into out. */
static void copy_line(const char *p, char *out, size_t len)
{
	size_t n = strcspn(p, "\n");

	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* The line after the one p is in, or NULL after the last. */
static const char *next_line(const char *p)
{
	p = strchr(p, '\n');
	return p ? p + 1 : NULL;
}

/*
 * Find the next line of text at or after *pos that starts with prefix and
 * whose key has value val; advance *pos past it.
 */
static const char *find_line(const char *text, const char *prefix,
			     const char *key, long val)
{
	char line[MMREFS_LINE_MAX];
	const char *p = text;

	while (p && *p) {
		copy_line(p, line, sizeof(line));
		if (!strncmp(line, prefix, strlen(prefix)) &&
		    mmrefs_field(line, key) == val)
			return p;
		p = next_line(p);
	}
	return NULL;
}

int borrow_line(pid_t pid, char *line, size_t len)
{
	const char *text = mmrefs_read_file(BORROW_CONTROL);
	const char *p;

	p = text ? find_line(text, "borrow ", "pid", pid) : NULL;
	if (!p)
		return -ENOENT;
	copy_line(p, line, len);
	return 0;
}

int borrow_count(pid_t pid)
{
	const char *p = mmrefs_read_file(BORROW_CONTROL);
	int n = 0;

	for (; p && (p = find_line(p, "borrow ", "pid", pid)); p = next_line(p))
		n++;
	return n;
}

/* Position of " key=" (or "key=" at the start) in line, value follows. */
static const char *field_pos(const char *line, const char *key)
{
	size_t klen = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key))) {
		if ((p == line || p[-1] == ' ' || p[-1] == '\n') && p[klen] == '=')
			return p + klen + 1;
		p += klen;
	}
	return NULL;
}

long mmrefs_field(const char *line, const char *key)
{
	const char *v = field_pos(line, key);
	char *end;
	long val;

	if (!v)
		return MMREFS_FIELD_MISSING;
	val = strtol(v, &end, 10);
	return end == v ? MMREFS_FIELD_MISSING : val;
}

int mmrefs_field_str(const char *line, const char *key, char *out, size_t len)
{
	const char *v = field_pos(line, key);
	size_t n;

	if (!v)
		return -ENOENT;
	n = strcspn(v, "\n ");
	if (n >= len)
		n = len - 1;
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

static int mms_find(const char *key, long val, char *line, size_t len)
{
	const char *text = mmrefs_read_file(MMREFS_MMS);
	const char *p;

	p = text ? find_line(text, "id=", key, val) : NULL;
	if (!p)
		return -ENOENT;
	copy_line(p, line, len);
	return 0;
}

int mmrefs_mms_by_tgid(pid_t tgid, char *line, size_t len)
{
	return mms_find("tgid", tgid, line, len);
}

int mmrefs_mms_by_id(long id, char *line, size_t len)
{
	return mms_find("id", id, line, len);
}

long mmrefs_id_of_other(pid_t tgid, long not_id)
{
	const char *p = mmrefs_read_file(MMREFS_MMS);
	char line[MMREFS_LINE_MAX];
	long id;

	for (; p && (p = find_line(p, "id=", "tgid", tgid)); p = next_line(p)) {
		copy_line(p, line, sizeof(line));
		id = mmrefs_field(line, "id");
		if (id > 0 && id != not_id)
			return id;
	}
	return -1;
}

long mmrefs_id_of(pid_t tgid)
{
	return mmrefs_id_of_other(tgid, 0);
}

static int counts_once(long id, long *users, long *count, long *lazy)
{
	char line[MMREFS_LINE_MAX];

	if (mmrefs_mms_by_id(id, line, sizeof(line)))
		return -ENOENT;
	*users = mmrefs_field(line, "users");
	*count = mmrefs_field(line, "count");
	*lazy = mmrefs_field(line, "lazy");
	return 0;
}

/*
 * One read of mms takes count (through a task) and lazy (each CPU's
 * active_mm) at two moments, so a lazy-TLB reference taken or dropped
 * in between is in one and not the other (seen once: count - lazy = 2 in
 * a vfork child for 1).  Read until two reads in a row agree; after 100
 * the last one stands.  No malloc, no stdio: vfork children call it.
 */
int mmrefs_counts(long id, long *users, long *count, long *lazy)
{
	long u, c, l;
	int i;

	if (counts_once(id, users, count, lazy))
		return -ENOENT;
	for (i = 0; i < 100; i++) {
		if (counts_once(id, &u, &c, &l))
			return -ENOENT;
		if (u == *users && c == *count && l == *lazy)
			break;
		*users = u;
		*count = c;
		*lazy = l;
	}
	return 0;
}

/* "users=1->2": old and new value. */
static void field_pair(const char *line, const char *key, long *old, long *new)
{
	const char *v = field_pos(line, key);
	char *end;

	*old = *new = MMREFS_FIELD_MISSING;
	if (!v)
		return;
	*old = strtol(v, &end, 10);
	if (end[0] == '-' && end[1] == '>')
		*new = strtol(end + 2, NULL, 10);
}

static void parse_event(const char *line, struct mmrefs_event *e)
{
	const char *v;

	memset(e, 0, sizeof(*e));
	e->id = mmrefs_field(line, "id");
	e->seq = mmrefs_field(line, "seq");
	e->cpu = mmrefs_field(line, "cpu");
	e->pid = mmrefs_field(line, "pid");
	e->tgid = mmrefs_field(line, "tgid");
	e->kthread = mmrefs_field(line, "kthread");
	field_pair(line, "users", &e->users_old, &e->users_new);
	field_pair(line, "count", &e->count_old, &e->count_new);
	mmrefs_field_str(line, "op", e->op, sizeof(e->op));
	mmrefs_field_str(line, "cause", e->cause, sizeof(e->cause));
	mmrefs_field_str(line, "comm", e->comm, sizeof(e->comm));
	mmrefs_field_str(line, "trap", e->trap, sizeof(e->trap));
	/* the site is last: "sym+off/size [module]" may hold a space */
	v = strstr(line, " site=");
	if (v)
		snprintf(e->site, sizeof(e->site), "%s", v + 6);
	e->observer = mmrefs_field(line, "observer");
	if (e->observer == MMREFS_FIELD_MISSING)
		e->observer = 0;
}

int mmrefs_history(long id, struct mmrefs_history *h)
{
	const char *text = mmrefs_read_file(MMREFS_HISTORY);
	char line[MMREFS_LINE_MAX];
	const char *p;

	memset(h, 0, sizeof(*h));
	p = text ? find_line(text, "mm ", "id", id) : NULL;
	if (!p)
		return -ENOENT;
	copy_line(p, h->header, sizeof(h->header));
	for (p = strchr(p, '\n'); p && p[1] == ' ' && p[2] == ' ';
	     p = strchr(p, '\n')) {
		p++;
		if (strncmp(p, "  id=", 5))
			continue;	/* a watch event's stack frame */
		copy_line(p, line, sizeof(line));
		if (h->nr < MMREFS_EVENTS_MAX)
			parse_event(line, &h->ev[h->nr++]);
		else
			h->truncated = true;
	}
	return 0;
}

/*
 * The suite in exact mode ($MMREFS_EXACT): a probe's get, put or grab is
 * recorded as the write itself, so a test's "get thread" is "mmget
 * clone_vm" (copy_mm() cannot tell a thread from a vfork child), a get
 * or grab has the write's cause, and a put keeps its (mmput()'s hint).
 */
static void exact_names(const char **op, const char **cause)
{
	const char *c = *cause;

	if (!getenv("MMREFS_EXACT"))
		return;
	if (!strcmp(*op, "get")) {
		*op = "mmget";
		if (c && (!strcmp(c, "thread") || !strcmp(c, "vfork") ||
			  !strcmp(c, "clone_vm")))
			*cause = "clone_vm";
		else
			*cause = NULL;
	} else if (!strcmp(*op, "put")) {
		*op = "mmput";
	} else if (!strcmp(*op, "grab")) {
		*op = "mmgrab";
		*cause = NULL;
	}
}

int mmrefs_find_event(const struct mmrefs_history *h, int from,
		      const char *op, const char *cause)
{
	int i;

	exact_names(&op, &cause);
	for (i = from < 0 ? 0 : from; i < h->nr; i++)
		if (!strcmp(h->ev[i].op, op) &&
		    (!cause || !strcmp(h->ev[i].cause, cause)))
			return i;
	return -1;
}

int mmrefs_count_events(const struct mmrefs_history *h, const char *op,
			const char *cause)
{
	int i, n = 0;

	for (i = 0; (i = mmrefs_find_event(h, i, op, cause)) >= 0; i++)
		n++;
	return n;
}

void mmrefs_flush_lazy(void)
{
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);
	cpu_set_t saved, one;
	long cpu;

	if (sched_getaffinity(0, sizeof(saved), &saved))
		return;
	for (cpu = 0; cpu < ncpus && cpu < CPU_SETSIZE; cpu++) {
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		/* Offline or forbidden CPUs fail here; nothing to flush. */
		if (sched_setaffinity(0, sizeof(one), &one))
			continue;
		sched_yield();
	}
	sched_setaffinity(0, sizeof(saved), &saved);
}

/*
 * Flush every CPU, then read the row of id: it has lazy=0 and ok (if
 * given) accepts it.
 */
static bool settled_once(long id, bool (*ok)(const char *line), char *line,
			 size_t size)
{
	mmrefs_flush_lazy();
	return !mmrefs_mms_by_id(id, line, size) &&
	       mmrefs_field(line, "lazy") == 0 && (!ok || ok(line));
}

/*
 * Two such reads, with the same users and count.  lazy is sampled at the
 * start of a read and the counters later, so one read is not enough.  And
 * a CPU switching from a lazy user of the mm to a task with its own mm
 * runs that task before finish_task_switch() drops the reference, so a
 * read in that window finds lazy=0 with the reference still counted (a
 * vCPU the host stops there held it across two reads on 6.12): the flush
 * between the reads makes that CPU finish the switch.
 */
bool mmrefs_settled_row(long id, bool (*ok)(const char *line), char *line,
			size_t size)
{
	char again[MMREFS_LINE_MAX];

	return settled_once(id, ok, line, size) &&
	       settled_once(id, ok, again, sizeof(again)) &&
	       mmrefs_field(line, "users") == mmrefs_field(again, "users") &&
	       mmrefs_field(line, "count") == mmrefs_field(again, "count");
}

bool mmrefs_settle(long id)
{
	char line[MMREFS_LINE_MAX];

	return loop_until(mmrefs_settled_row(id, NULL, line, sizeof(line)));
}

const char *mmrefs_missing(void)
{
	if (getuid())
		return "must run as root";
	if (access(MMREFS_MMS, R_OK) || access(MMREFS_HISTORY, R_OK))
		return "mmrefs.ko not loaded (no " MMREFS_MMS ")";
	return NULL;
}

const char *borrow_missing(void)
{
	if (getuid())
		return "must run as root";
	if (access(BORROW_CONTROL, W_OK))
		return "mmrefs_borrow.ko not loaded (no " BORROW_CONTROL ")";
	return NULL;
}

void mmrefs_reset_filter(void)
{
	mmrefs_write_file(MMREFS_FILTER, "all");
	mmrefs_write_file(MMREFS_ENABLE, "1");
}

bool mmrefs_exact_on(void)
{
	const char *stats = mmrefs_read_file(MMREFS_STATS);

	return stats && strstr(stats, " exact=on\n");
}

long mmrefs_sites_listed(void)
{
	const char *stats = mmrefs_read_file(MMREFS_STATS);

	return stats ? mmrefs_field(stats, "sites") : MMREFS_FIELD_MISSING;
}

/* The borrower module's site list: $MMREFS_BORROW_SITES, or beside it. */
static const char *borrow_sites(void)
{
	static char path[512];
	const char *env = getenv("MMREFS_BORROW_SITES");
	ssize_t n;

	if (env)
		return env;
	n = readlink("/proc/self/exe", path, sizeof(path) - 64);
	if (n <= 0)
		return NULL;
	path[n] = '\0';
	strcpy(strrchr(path, '/') + 1, "test_modules/mmrefs_borrow.sites");
	return path;
}

int mmrefs_load_sites(void)
{
	const char *files[2];
	char buf[4096];
	ssize_t n;
	size_t i;
	int fd, in, err = 0;

	files[0] = getenv("MMREFS_SITES");
	files[1] = borrow_sites();
	if (!files[0])
		return -ENOENT;
	fd = open(MMREFS_DIR "/sites", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (i = 0; i < ARRAY_SIZE(files) && !err; i++) {
		if (!files[i])
			continue;
		in = open(files[i], O_RDONLY | O_CLOEXEC);
		if (in < 0) {
			err = i ? 0 : -errno;	/* the module's is optional */
			continue;
		}
		while (!err && (n = read(in, buf, sizeof(buf))) > 0)
			if (write(fd, buf, n) != n)
				err = -errno;
		close(in);
	}
	if (close(fd) && !err)
		err = -errno;
	return err;
}

/*
 * With MMREFS_EXACT set (kselftest-guest.sh --exact), every load of
 * mmrefs.ko is followed by the site lists: the whole suite runs in exact
 * mode.
 */
int mmrefs_load_module(const char *path, const char *params)
{
	const char *base = strrchr(path, '/');
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(__NR_finit_module, fd, params, 0))
		err = -errno;
	close(fd);
	/* loaded idle (enable=0), mmrefs takes no site list */
	if (!err && getenv("MMREFS_EXACT") && !strstr(params, "enable=0") &&
	    !strcmp(base ? base + 1 : path, "mmrefs.ko"))
		err = mmrefs_load_sites();
	return err;
}

int mmrefs_unload_module(const char *name)
{
	/* A module still in use fails at once instead of blocking. */
	if (syscall(__NR_delete_module, name, O_NONBLOCK))
		return -errno;
	return 0;
}

long mmrefs_tainted(void)
{
	const char *t = mmrefs_read_file("/proc/sys/kernel/tainted");

	return t ? strtol(t, NULL, 10) : -1;
}

pid_t mmrefs_spawn_waiter(const char *comm, int *release_fd)
{
	return mmrefs_spawn_ready(comm, NULL, 0, release_fd);
}

/*
 * A child named @comm that runs @setup(@arg) (if any), says it is ready
 * and blocks until its pipe closes; its pid once ready, or -1.
 */
pid_t mmrefs_spawn_ready(const char *comm, int (*setup)(int), int arg,
			 int *release_fd)
{
	int fds[2], ready[2];
	pid_t pid;
	char c;

	if (pipe2(fds, O_CLOEXEC) || pipe2(ready, O_CLOEXEC))
		return -1;
	pid = fork();
	if (!pid) {
		close(fds[1]);
		close(ready[0]);
		prctl(PR_SET_NAME, comm);
		if ((setup && setup(arg)) || write(ready[1], "r", 1) != 1)
			_exit(1);
		while (read(fds[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(fds[0]);
	close(ready[1]);
	if (pid < 0 || read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		close(fds[1]);
		return -1;
	}
	close(ready[0]);
	*release_fd = fds[1];
	return pid;
}

static void *idle_thread(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

/* @threads extra threads that sleep forever */
int mmrefs_start_threads(int threads)
{
	pthread_t t;
	int i;

	for (i = 0; i < threads; i++)
		if (pthread_create(&t, NULL, idle_thread, NULL))
			return -1;
	return 0;
}

int mmrefs_waiter_exit(pid_t *pid, int *release_fd)
{
	int status;

	if (*release_fd > 0) {
		close(*release_fd);
		*release_fd = -1;
	}
	if (*pid <= 0)
		return -1;
	if (waitpid(*pid, &status, 0) != *pid)
		status = -1;
	*pid = 0;
	return status;
}

void mmrefs_waiter_reap(pid_t *pid, int *release_fd)
{
	/* Never kill(0, ...): that is our own process group. */
	if (*pid > 0)
		kill(*pid, SIGKILL);
	mmrefs_waiter_exit(pid, release_fd);
}
