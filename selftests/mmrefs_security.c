// SPDX-License-Identifier: GPL-2.0
/*
 * What mmrefs exposes, and to whom: every debugfs file of mmrefs and of
 * the borrower is root's and has no group or other permission bits, so a
 * non-root process cannot open any of them, even through a directory
 * opened while it was root; and no output, debugfs file or trace event,
 * shows a raw kernel pointer (ids stand for mms, call sites are
 * symbol+off/size).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "mmrefs_util.h"

/*
 * A "# " line on stdout, flushed now: a test runs in a child that ends
 * with _exit(), which would drop whatever stdio still buffers (the runner
 * pipes stdout, so it is fully buffered).
 */
#define note(...) do {				\
	ksft_print_msg(__VA_ARGS__);		\
	fflush(stdout);				\
} while (0)

#define BORROW_DIR	"/sys/kernel/debug/mmrefs_borrow"
#define TRACEFS		"/sys/kernel/tracing"
#define TRACE_ENABLE	TRACEFS "/events/mmrefs/enable"
#define TRACE_FILE	TRACEFS "/trace"
#define NOBODY		65534
#define MAX_FILES	32
#define MAX_LOGGED	10

static const char * const dirs[] = { MMREFS_DIR, BORROW_DIR };

/* Each directory must at least hold these. */
static const char * const expected[] = {
	MMREFS_MMS, MMREFS_HISTORY, MMREFS_STATS, MMREFS_FILTER, MMREFS_ENABLE,
	BORROW_CONTROL,
};

struct file_list {
	int n;
	char path[MAX_FILES][320];
	char name[MAX_FILES][256];
	int dir[MAX_FILES];		/* index into dirs[] */
};

/* Every entry of both directories. */
static int list_files(struct file_list *fl)
{
	struct dirent *de;
	unsigned int d;
	DIR *dir;

	fl->n = 0;
	for (d = 0; d < ARRAY_SIZE(dirs); d++) {
		dir = opendir(dirs[d]);
		if (!dir)
			return -errno;
		while ((de = readdir(dir)) && fl->n < MAX_FILES) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(fl->path[fl->n], sizeof(fl->path[0]), "%s/%s",
				 dirs[d], de->d_name);
			snprintf(fl->name[fl->n], sizeof(fl->name[0]), "%s",
				 de->d_name);
			fl->dir[fl->n] = d;
			fl->n++;
		}
		closedir(dir);
	}
	return 0;
}

static bool is_hex(char c)
{
	return isxdigit((unsigned char)c);
}

/*
 * Length of a raw-pointer-looking word at p, or 0: ffff followed by 12
 * hex digits (a kernel address), 0x and 9 or more hex digits (an address
 * printed with %px or %lx; offsets like +0x24d/0x430 are shorter), or a
 * word of 16 or more hex digits with a letter in it (a hashed %p).
 * Decimal numbers such as timestamps never match.
 */
static size_t pointer_at(const char *text, const char *p)
{
	size_t n;
	bool letter = false;

	if (!strncasecmp(p, "ffff", 4)) {
		for (n = 4; n < 16 && is_hex(p[n]); n++)
			;
		if (n == 16)
			return n;
	}
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		for (n = 2; is_hex(p[n]); n++)
			;
		if (n - 2 >= 9)
			return n;
	}
	if (p == text || !isalnum((unsigned char)p[-1])) {
		for (n = 0; is_hex(p[n]); n++)
			letter |= !isdigit((unsigned char)p[n]);
		if (n >= 16 && letter && !isalnum((unsigned char)p[n]))
			return n;
	}
	return 0;
}

/* Log and count the pointer-like words in text. */
static int scan_pointers(const char *text, const char *what)
{
	const char *p, *line;
	int found = 0;
	size_t n;

	for (p = text; *p; p++) {
		n = pointer_at(text, p);
		if (!n)
			continue;
		if (found++ < MAX_LOGGED) {
			for (line = p; line > text && line[-1] != '\n'; line--)
				;
			fprintf(stderr, "# %s: raw pointer \"%.*s\" in: %.*s\n",
				what, (int)n, p, (int)strcspn(line, "\n"), line);
		}
		p += n - 1;
	}
	return found;
}

static int lines(const char *text)
{
	int n = 0;

	for (; text && *text; text++)
		n += *text == '\n';
	return n;
}

static void *thread_fn(void *arg)
{
	return arg;
}

static unsigned long word = 42;

/*
 * Fork, exec, a thread, a /proc mem open and process_vm_readv of the
 * waiter, and a kthread grab and get: every op mmrefs records.
 */
static void activity(pid_t waiter)
{
	struct iovec local, remote = { &word, sizeof(word) };
	unsigned long val;
	char path[64];
	pthread_t t;
	pid_t pid;
	int fd;

	pid = fork();
	if (!pid)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	pid = fork();
	if (!pid) {
		execl("/bin/true", "true", (char *)NULL);
		execl("/bin/busybox", "true", (char *)NULL);
		_exit(1);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (!pthread_create(&t, NULL, thread_fn, NULL))
		pthread_join(t, NULL);
	local.iov_base = &val;
	local.iov_len = sizeof(val);
	process_vm_readv(waiter, &local, 1, &remote, 1, 0);
	snprintf(path, sizeof(path), "/proc/%d/mem", waiter);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	if (!borrow_missing()) {
		borrow_cmd("grab %d 60000", waiter);
		borrow_cmd("get %d 60000", waiter);
	}
}

FIXTURE(security) {
	pid_t waiter;
	int waiter_fd;
};

#define LEAK_GET_MS	"/sys/module/mmrefs/parameters/leak_get_ms"
#define HOLDER_STACKS	"/sys/module/mmrefs/parameters/stacks"

FIXTURE_SETUP(security)
{
	const char *why = mmrefs_missing();

	self->waiter_fd = -1;
	if (!why)
		why = borrow_missing();
	if (why)
		SKIP(return, "%s", why);
	mmrefs_reset_filter();
	self->waiter = mmrefs_spawn_waiter("mmr_sec", &self->waiter_fd);
	ASSERT_GT(self->waiter, 0);
}

FIXTURE_TEARDOWN(security)
{
	if (!borrow_missing())
		borrow_cmd("release all");
	if (!mmrefs_missing()) {
		mmrefs_write_file(MMREFS_WATCH, "clear");
		mmrefs_write_file(MMREFS_WATCH, "stack=0");
		mmrefs_write_file(LEAK_GET_MS, "10000");
		mmrefs_write_file(HOLDER_STACKS, "0");
	}
	mmrefs_waiter_reap(&self->waiter, &self->waiter_fd);
	mmrefs_reset_filter();
}

TEST_F(security, files_root_only)
{
	struct file_list fl;
	unsigned int i, missing = 0;
	struct stat st;
	int f;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, list_files(&fl));
	for (i = 0; i < ARRAY_SIZE(expected); i++) {
		if (access(expected[i], F_OK)) {
			note("%s is missing\n", expected[i]);
			missing++;
		}
	}
	EXPECT_EQ(0, missing);
	for (f = 0; f < fl.n; f++) {
		ASSERT_EQ(0, lstat(fl.path[f], &st)) TH_LOG("%s", fl.path[f]);
		/* a root-owned regular file: rw for the owner at most */
		EXPECT_TRUE(S_ISREG(st.st_mode)) TH_LOG("%s", fl.path[f]);
		EXPECT_EQ(0, st.st_uid) TH_LOG("%s", fl.path[f]);
		EXPECT_EQ(0, st.st_gid) TH_LOG("%s", fl.path[f]);
		EXPECT_EQ(0, st.st_mode & 077)
			TH_LOG("%s has mode %04o", fl.path[f], st.st_mode & 07777);
		EXPECT_EQ(0, st.st_mode & 07100)
			TH_LOG("%s has mode %04o", fl.path[f], st.st_mode & 07777);
	}
	note("%d files checked\n", fl.n);
}

/* In the child: try every file as nobody; the number of opens that did not fail with EACCES. */
static int open_as_nobody(const struct file_list *fl, const int *dirfd)
{
	static const int modes[] = { O_RDONLY, O_WRONLY, O_RDWR };
	int f, m, fd, bad = 0;

	for (f = 0; f < fl->n; f++) {
		for (m = 0; m < (int)ARRAY_SIZE(modes); m++) {
			/* by path: /sys/kernel/debug itself stops us */
			fd = open(fl->path[f], modes[m] | O_CLOEXEC);
			if (fd >= 0 || errno != EACCES) {
				fprintf(stderr, "# open(%s, %d) as uid %d: %s\n",
					fl->path[f], modes[m], NOBODY,
					fd >= 0 ? "succeeded" : strerror(errno));
				bad++;
			}
			if (fd >= 0)
				close(fd);
			/* through the directory root opened: the file's own mode stops us */
			fd = openat(dirfd[fl->dir[f]], fl->name[f], modes[m] | O_CLOEXEC);
			if (fd >= 0 || errno != EACCES) {
				fprintf(stderr, "# openat(%s, %d) as uid %d: %s\n",
					fl->path[f], modes[m], NOBODY,
					fd >= 0 ? "succeeded" : strerror(errno));
				bad++;
			}
			if (fd >= 0)
				close(fd);
		}
	}
	return bad;
}

TEST_F(security, non_root_cannot_open)
{
	int dirfd[ARRAY_SIZE(dirs)];
	struct file_list fl;
	unsigned int d;
	int status;
	pid_t pid;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, list_files(&fl));
	ASSERT_LT(0, fl.n);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		for (d = 0; d < ARRAY_SIZE(dirs); d++) {
			dirfd[d] = open(dirs[d], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dirfd[d] < 0)
				_exit(100);
		}
		if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY) ||
		    getuid() != NOBODY || geteuid() != NOBODY)
			_exit(101);
		_exit(open_as_nobody(&fl, dirfd) ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	/* 100: could not open the directories as root; 101: setuid failed */
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * Every file is read with watched stacks and holder stacks on: on the
 * slowest guest (6.12-rt in exact mode under TCG) that took close to the
 * harness's default 30 s, and once in CI more.
 */
TEST_F_TIMEOUT(security, no_pointer_in_debugfs, 120)
{
	struct file_list fl;
	const char *text;
	char cmd[32];
	int f;

	if (_metadata->skip)
		return;
	/*
	 * Content for every file: the waiter watched with stacks, and a
	 * get borrow of it that leaks reports at once.
	 */
	snprintf(cmd, sizeof(cmd), "pid=%d", self->waiter);
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_WATCH, cmd));
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_WATCH, "stack=1"));
	ASSERT_EQ(0, mmrefs_write_file(LEAK_GET_MS, "0"));
	ASSERT_EQ(0, mmrefs_write_file(HOLDER_STACKS, "1"));
	ASSERT_EQ(0, borrow_cmd("get %d", self->waiter));
	activity(self->waiter);
	ASSERT_EQ(0, list_files(&fl));
	for (f = 0; f < fl.n; f++) {
		text = mmrefs_read_file(fl.path[f]);
		ASSERT_NE(NULL, text) TH_LOG("%s", fl.path[f]);
		/* something to scan in every file */
		EXPECT_LT(0, lines(text)) TH_LOG("%s is empty", fl.path[f]);
		EXPECT_EQ(0, scan_pointers(text, fl.path[f]));
	}
	mmrefs_write_file(LEAK_GET_MS, "10000");
	mmrefs_write_file(HOLDER_STACKS, "0");
	mmrefs_write_file(MMREFS_WATCH, "stack=0");
	mmrefs_write_file(MMREFS_WATCH, "clear");
}

TEST_F(security, no_pointer_in_trace)
{
	const char *text;
	int events;

	if (_metadata->skip)
		return;
	if (access(TRACE_FILE, R_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	if (access(TRACE_ENABLE, W_OK))
		SKIP(return, "no %s", TRACE_ENABLE);
	/* an empty buffer, then only mmrefs' events */
	ASSERT_EQ(0, close(open(TRACE_FILE, O_WRONLY | O_TRUNC | O_CLOEXEC)));
	ASSERT_EQ(0, mmrefs_write_file(TRACEFS "/tracing_on", "1"));
	ASSERT_EQ(0, mmrefs_write_file(TRACE_ENABLE, "1"));
	activity(self->waiter);
	borrow_cmd("release all");
	EXPECT_EQ(0, mmrefs_write_file(TRACE_ENABLE, "0"));

	text = mmrefs_read_file(TRACE_FILE);
	ASSERT_NE(NULL, text);
	for (events = 0; (text = strstr(text, "mmrefs_event:")); events++)
		text++;
	text = mmrefs_read_file(TRACE_FILE);
	note("%d mmrefs_event lines in %d lines of trace\n", events,
	     lines(text));
	/* fork, exec, thread, mm_access, proc, use/unuse and their puts */
	EXPECT_LT(10, events);
	EXPECT_EQ(0, scan_pointers(text, TRACE_FILE));
	close(open(TRACE_FILE, O_WRONLY | O_TRUNC | O_CLOEXEC));
}

TEST_HARNESS_MAIN
