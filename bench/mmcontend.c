// SPDX-License-Identifier: GPL-2.0
/*
 * mmcontend - `scripts/bench --contention`'s load: two mm refcount
 * workloads at once, on every CPU, timed by the wall clock.
 *
 *   mmcontend SECONDS READERS FORKERS [COUNTERS_FILE]
 *
 * READERS processes each open, read and close /proc/PID/stat of this
 * (sleeping) process in a loop, so every read is a get_task_mm() and an
 * mmput() of one shared mm from every CPU (with MMCONTEND_OWN=1 in the
 * environment, each reads its own /proc/self/stat instead: no mm is
 * shared between CPUs); FORKERS processes each fork(),
 * let the child _exit() and waitpid() in a loop (new mm, teardown, free,
 * a task exit).  All start together, run SECONDS of CLOCK_MONOTONIC and
 * stop together; then one line:
 *
 *   secs=2 readers=4 forkers=2 stat=one|own ns=2000123456 stat_ops=N fork_ops=N
 *   stat_ops_per_s=... fork_ops_per_s=... stat_ns_per_op=...
 *   fork_ns_per_op=... events=N
 *
 * ns_per_op is per worker: its wall time over its own operations (ns *
 * workers / ops).  With COUNTERS_FILE (mmrefs' stats), `events` is the
 * difference of its events= line across the run.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS	64

/* Shared with the workers: the stop flag and each one's count. */
struct shared {
	int stop;
	unsigned long ops[MAX_WORKERS];
};

static struct shared *sh;

static int stopped(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_RELAXED);
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* events=N of mmrefs' stats; 0 without one. */
static unsigned long long read_events(const char *path)
{
	unsigned long long v = 0;
	char line[256];
	FILE *f;

	if (!path)
		return 0;
	f = fopen(path, "r");
	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "events=%llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static void reader(int slot, const char *path)
{
	char buf[1024];
	unsigned long n = 0;
	int fd;

	while (!stopped()) {
		fd = open(path, O_RDONLY);
		if (fd < 0)
			die(path);
		if (read(fd, buf, sizeof(buf)) <= 0)
			die("read stat");
		close(fd);
		sh->ops[slot] = ++n;
	}
}

static void forker(int slot)
{
	unsigned long n = 0;
	pid_t pid;

	while (!stopped()) {
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0)
			_exit(0);
		if (waitpid(pid, NULL, 0) != pid)
			die("waitpid");
		sh->ops[slot] = ++n;
	}
}

int main(int argc, char **argv)
{
	unsigned long long t0, t1, ev0, ev1, ns, stat_ops = 0, fork_ops = 0;
	int secs, readers, forkers, own_mm, i, go[2];
	const char *counters = NULL, *own;
	char path[64], c;
	pid_t pid;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: mmcontend SECONDS READERS FORKERS [COUNTERS_FILE]\n");
		return 2;
	}
	secs = atoi(argv[1]);
	readers = atoi(argv[2]);
	forkers = atoi(argv[3]);
	if (secs <= 0 || readers < 0 || forkers < 0 ||
	    readers + forkers == 0 || readers + forkers > MAX_WORKERS) {
		fprintf(stderr, "mmcontend: bad SECONDS, READERS or FORKERS\n");
		return 2;
	}
	if (argc == 5)
		counters = argv[4];
	own = getenv("MMCONTEND_OWN");
	own_mm = own && !strcmp(own, "1");
	if (own_mm)
		snprintf(path, sizeof(path), "/proc/self/stat");
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", getpid());

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	if (pipe(go))
		die("pipe");
	for (i = 0; i < readers + forkers; i++) {
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			close(go[1]);
			/* EOF: the parent closed its end, all start at once */
			if (read(go[0], &c, 1) < 0)
				die("read go");
			if (i < readers)
				reader(i, path);
			else
				forker(i);
			_exit(0);
		}
	}
	close(go[0]);

	ev0 = read_events(counters);
	t0 = now_ns();
	close(go[1]);
	while (now_ns() - t0 < secs * 1000000000ULL)
		usleep(10000);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	t1 = now_ns();
	ev1 = read_events(counters);
	for (i = 0; i < readers + forkers; i++)
		if (wait(NULL) < 0)
			die("wait");

	for (i = 0; i < readers + forkers; i++) {
		if (i < readers)
			stat_ops += sh->ops[i];
		else
			fork_ops += sh->ops[i];
	}
	ns = t1 - t0;
	printf("secs=%d readers=%d forkers=%d stat=%s ns=%llu stat_ops=%llu fork_ops=%llu",
	       secs, readers, forkers, own_mm ? "own" : "one", ns,
	       stat_ops, fork_ops);
	printf(" stat_ops_per_s=%.1f fork_ops_per_s=%.1f",
	       stat_ops * 1e9 / ns, fork_ops * 1e9 / ns);
	printf(" stat_ns_per_op=%.1f fork_ns_per_op=%.1f",
	       stat_ops ? (double)ns * readers / stat_ops : 0.0,
	       fork_ops ? (double)ns * forkers / fork_ops : 0.0);
	if (counters)
		printf(" events=%llu", ev1 - ev0);
	printf("\n");
	return 0;
}
