// SPDX-License-Identifier: GPL-2.0
/*
 * No false alarm under the storms any user can raise.  For STORM_SECONDS:
 *  - 64 threads, as an unprivileged user, read /proc/PID/stat and
 *    /proc/PID/maps of processes that keep exiting (get_task_mm() and
 *    mm_access() racing the exit's mmput());
 *  - a process forks against a pids cgroup at pids.max (copy_process()
 *    fails after copy_mm(): an mm freed that no hook saw created);
 *  - processes are SIGKILLed while they fork.
 * Expected: every misuse_* stat stays 0 (misuse is judged only from
 * values that prove it), no mmrefs warning in the kernel log, no hook
 * missed a hit and nothing was lost.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "mmrefs_util.h"

#define STORM_SECONDS	8
#define READERS		64
#define SPAWNERS	4
#define UNPRIV		65534	/* nobody */
#define CGROOT		"/sys/fs/cgroup"
#define CGDIR		CGROOT "/mmrefs_storm"

/* shared by the readers' process and its threads: C11 atomics */
static atomic_int storm_over;
static atomic_int targets[SPAWNERS];	/* the latest child of each spawner */

/* A spawner: children that live a moment and exit, one after another. */
static void spawner(int pipe_w)
{
	pid_t c;

	for (;;) {
		c = fork();
		if (!c) {
			usleep(200);
			_exit(0);
		}
		if (c > 0) {
			if (write(pipe_w, &c, sizeof(c)) != sizeof(c))
				_exit(0);
			waitpid(c, NULL, 0);
		}
	}
}

static void *reader(void *arg)
{
	unsigned int n = (unsigned long)arg;
	char path[64], buf[4096];
	ssize_t len;
	int fd;

	while (!atomic_load(&storm_over)) {
		snprintf(path, sizeof(path), "/proc/%d/%s",
			 atomic_load(&targets[n % SPAWNERS]),
			 n & 1 ? "maps" : "stat");
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		do
			len = read(fd, buf, sizeof(buf));
		while (len > 0);
		close(fd);
		n++;
	}
	return NULL;
}

/* Forks that fail: this process is in a cgroup at pids.max. */
static void failing_forker(void)
{
	pid_t c;

	for (;;) {
		c = fork();
		if (!c)
			_exit(0);
		if (c > 0)
			waitpid(c, NULL, 0);
	}
}

/* Forkers killed mid-fork: a forker of many children, SIGKILLed. */
static void killed_forkers(time_t end)
{
	pid_t f, c;

	while (time(NULL) < end) {
		f = fork();
		if (!f) {
			for (;;) {
				c = fork();
				if (!c)
					_exit(0);
			}
		}
		usleep(2000);
		kill(f, SIGKILL);
		/*
		 * only the forker: its children go to init, and a wait for
		 * any child would reap the readers' process too, which the
		 * test waits for by pid (seen on the RT kernel, where the
		 * readers ended first)
		 */
		waitpid(f, NULL, 0);
	}
}

static long stat_value(const char *key)
{
	return mmrefs_field(mmrefs_read_file(MMREFS_STATS), key);
}

/* The hooks' missed hits, summed over the hook= lines of stats. */
static long missed_hits(void)
{
	const char *s = mmrefs_read_file(MMREFS_STATS);
	long sum = 0;

	for (; s && (s = strstr(s, "hook=")); s++)
		sum += mmrefs_field(s, "missed");
	return s ? -1 : sum;
}

/*
 * The kernel log since the line @mark (written to /dev/kmsg), one
 * message a line, in a static buffer; NULL if it cannot be read.
 */
static const char *kmsg_since(const char *mark)
{
	static char log[1 << 16];
	char rec[1024], *msg;
	size_t len = 0;
	bool seen = false;
	ssize_t n;
	int fd;

	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	log[0] = '\0';
	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || errno == EPIPE) {
		if (n <= 0)
			continue;	/* overwritten records: go on */
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		if (!seen) {
			seen = !strncmp(msg, mark, strlen(mark));
			continue;
		}
		len += snprintf(log + len, sizeof(log) - len, "%s", msg);
		if (len >= sizeof(log))
			break;
	}
	close(fd);
	return seen ? log : NULL;
}

/* A cgroup with pids.max 1, or NULL with the reason in @why. */
static const char *pids_cgroup(void)
{
	if (access(CGROOT "/cgroup.controllers", F_OK) &&
	    ((mkdir(CGROOT, 0755) && errno != EEXIST) ||
	     mount("none", CGROOT, "cgroup2", 0, NULL)))
		return "no cgroup2 at " CGROOT;
	mmrefs_write_file(CGROOT "/cgroup.subtree_control", "+pids");
	if (mkdir(CGDIR, 0755) && errno != EEXIST)
		return "cannot make " CGDIR;
	if (mmrefs_write_file(CGDIR "/pids.max", "1"))
		return "no pids controller";
	return NULL;
}

FIXTURE(storm) {
	pid_t spawners[SPAWNERS], forker;
	int pipe[2];
};

FIXTURE_SETUP(storm)
{
	const char *why = mmrefs_missing() ?: pids_cgroup();

	memset(self->spawners, 0, sizeof(self->spawners));
	self->forker = 0;
	if (why)
		SKIP(return, "%s", why);
	mmrefs_reset_filter();
	ASSERT_EQ(0, pipe2(self->pipe, O_CLOEXEC | O_NONBLOCK));
}

FIXTURE_TEARDOWN(storm)
{
	int i;

	for (i = 0; i < SPAWNERS; i++)
		if (self->spawners[i] > 0)
			kill(self->spawners[i], SIGKILL);
	if (self->forker > 0)
		kill(self->forker, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
	rmdir(CGDIR);
}

TEST_F(storm, no_false_alarms)
{
	long get_zero, negative, events, missed;
	pthread_t readers[READERS];
	char cgproc[32];
	const char *log;
	time_t end;
	pid_t c;
	int i;

	if (_metadata->skip)
		return;
	get_zero = stat_value("misuse_get_zero");
	negative = stat_value("misuse_negative");
	events = stat_value("events");
	missed = missed_hits();
	ASSERT_GE(missed, 0);
	ASSERT_EQ(0, mmrefs_write_file("/dev/kmsg", "mmrefs_storm: start\n"));

	for (i = 0; i < SPAWNERS; i++) {
		self->spawners[i] = fork();
		ASSERT_GE(self->spawners[i], 0);
		if (!self->spawners[i])
			spawner(self->pipe[1]);
	}
	self->forker = fork();
	ASSERT_GE(self->forker, 0);
	if (!self->forker) {
		/* pids.max 1: this process is the one, every fork fails */
		snprintf(cgproc, sizeof(cgproc), "%d", getpid());
		if (mmrefs_write_file(CGDIR "/cgroup.procs", cgproc))
			_exit(1);
		failing_forker();
	}

	/* the readers: unprivileged, in a process of their own */
	c = fork();
	ASSERT_GE(c, 0);
	if (!c) {
		if (setgid(UNPRIV) || setuid(UNPRIV))
			_exit(1);
		for (i = 0; i < READERS; i++)
			if (pthread_create(&readers[i], NULL, reader,
					   (void *)(unsigned long)i))
				_exit(1);
		end = time(NULL) + STORM_SECONDS;
		while (time(NULL) < end) {
			while (read(self->pipe[0], &c, sizeof(c)) == sizeof(c))
				atomic_store(&targets[i++ % SPAWNERS], c);
			usleep(1000);
		}
		atomic_store(&storm_over, 1);
		for (i = 0; i < READERS; i++)
			pthread_join(readers[i], NULL);
		_exit(0);
	}
	killed_forkers(time(NULL) + STORM_SECONDS);
	ASSERT_EQ(c, waitpid(c, &i, 0));
	EXPECT_EQ(0, i) TH_LOG("the readers failed to start");

	EXPECT_EQ(get_zero, stat_value("misuse_get_zero"));
	EXPECT_EQ(negative, stat_value("misuse_negative"));
	/*
	 * the storm did happen: about 2,700 events on 6.1 under TCG, about
	 * 720 on the debug-rt kernel (KASAN, lockdep, PREEMPT_RT), the slowest
	 */
	EXPECT_GT(stat_value("events"), events + 100);
	EXPECT_EQ(missed, missed_hits());
	/* nothing of mmrefs' in the kernel log since the start line */
	log = kmsg_since("mmrefs_storm: start");
	ASSERT_NE(NULL, log);
	EXPECT_EQ(NULL, strstr(log, "mmrefs: "))
		TH_LOG("%.300s", strstr(log, "mmrefs: "));
}

TEST_HARNESS_MAIN
