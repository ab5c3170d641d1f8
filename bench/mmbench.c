// SPDX-License-Identifier: GPL-2.0
/*
 * mmbench - one mm refcount workload, timed: `make bench`'s load generator.
 *
 *   mmbench WORKLOAD OPS [COUNTERS_FILE]
 *
 * WORKLOAD is one of
 *   fork    fork(), the child _exit()s, waitpid()
 *   thread  pthread_create() of an empty thread, pthread_join()
 *   maps    open, read to EOF and close /proc/self/maps
 *   borrow  the borrower test module grabs this process's mm from a
 *           kernel thread (mmgrab, kthread_use_mm, read, unuse) and
 *           releases it (mmdrop); needs mmrefs_borrow.ko loaded
 *
 * After a short warm-up it runs OPS operations and prints one line:
 *
 *   workload=fork ops=200 ns=1234567 ns_per_op=6172.8 events=1000 hook_mmput=200 ...
 *
 * With MMBENCH_WATCH=1 in the environment, the process first asks mmrefs
 * to watch its own mm (debugfs watch, pid=SELF), so every write of its
 * counters traps, and disarms it at the end.
 *
 * ns is CLOCK_MONOTONIC around the loop; under QEMU -icount that is guest
 * instructions.  COUNTERS_FILE is read before and after the loop and the
 * differences are printed: from mmrefs' stats, `events`, `filtered` and
 * each hook's hits (hook_NAME); from tracefs' kprobe_profile, the hits of
 * all probes as `events`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define WARMUP_OPS	5
#define MAX_COUNTERS	32
#define BORROW_CONTROL	"/sys/kernel/debug/mmrefs_borrow/control"
#define MMREFS_WATCH	"/sys/kernel/debug/mmrefs/watch"

struct counter {
	char name[48];
	unsigned long long val;
};

struct counters {
	int n;
	struct counter c[MAX_COUNTERS];
};

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void add_counter(struct counters *cs, const char *name,
			unsigned long long val)
{
	int i;

	for (i = 0; i < cs->n; i++) {
		if (!strcmp(cs->c[i].name, name)) {
			cs->c[i].val += val;
			return;
		}
	}
	if (cs->n == MAX_COUNTERS)
		return;
	snprintf(cs->c[cs->n].name, sizeof(cs->c[0].name), "%s", name);
	cs->c[cs->n++].val = val;
}

/*
 * mmrefs stats: "events=N", "filtered=N" and
 * "hook=NAME sym=SYM via=V state=S hits=N missed=N".
 * kprobe_profile: "  EVENT  HITS  MISSES".
 */
static void read_counters(const char *path, struct counters *cs)
{
	char line[256], name[40], hook[48];
	unsigned long long hits, missed;
	FILE *f;

	cs->n = 0;
	f = fopen(path, "r");
	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "events=%llu", &hits) == 1) {
			add_counter(cs, "events", hits);
		} else if (sscanf(line, "filtered=%llu", &hits) == 1) {
			add_counter(cs, "filtered", hits);
		} else if (sscanf(line, "hook=%39s", name) == 1 &&
			   strstr(line, " hits=") &&
			   sscanf(strstr(line, " hits="), " hits=%llu",
				  &hits) == 1) {
			snprintf(hook, sizeof(hook), "hook_%s", name);
			add_counter(cs, hook, hits);
		} else if (sscanf(line, "%39s %llu %llu", name, &hits,
				  &missed) == 3) {
			add_counter(cs, "events", hits);
		}
	}
	fclose(f);
}

static void op_fork(void)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0)
		_exit(0);
	if (waitpid(pid, NULL, 0) != pid)
		die("waitpid");
}

static void *empty_thread(void *arg)
{
	return arg;
}

static void op_thread(void)
{
	pthread_t t;
	int err;

	err = pthread_create(&t, NULL, empty_thread, NULL);
	if (err) {
		errno = err;
		die("pthread_create");
	}
	pthread_join(t, NULL);
}

static void op_maps(void)
{
	char buf[4096];
	ssize_t n;
	int fd;

	fd = open("/proc/self/maps", O_RDONLY);
	if (fd < 0)
		die("/proc/self/maps");
	do {
		n = read(fd, buf, sizeof(buf));
	} while (n > 0);
	if (n < 0)
		die("read /proc/self/maps");
	close(fd);
}

static int borrow_fd = -1;
static char borrow_grab[64], borrow_release[64];

static void borrow_cmd(const char *cmd)
{
	if (write(borrow_fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		die(cmd);
}

static void op_borrow(void)
{
	borrow_cmd(borrow_grab);
	borrow_cmd(borrow_release);
}

static void borrow_setup(void)
{
	borrow_fd = open(BORROW_CONTROL, O_WRONLY);
	if (borrow_fd < 0)
		die(BORROW_CONTROL);
	snprintf(borrow_grab, sizeof(borrow_grab), "grab %d 60000", getpid());
	snprintf(borrow_release, sizeof(borrow_release), "release %d",
		 getpid());
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* "pid=N" or "-pid=N" to mmrefs' watch file; exits on failure. */
static void watch_self(const char *fmt)
{
	char cmd[32];
	int fd, n;

	n = snprintf(cmd, sizeof(cmd), fmt, getpid());
	fd = open(MMREFS_WATCH, O_WRONLY);
	if (fd < 0 || write(fd, cmd, n) != n) {
		fprintf(stderr, "mmbench: %s: %s\n", cmd, strerror(errno));
		exit(1);
	}
	close(fd);
}

int main(int argc, char **argv)
{
	const char *watch = getenv("MMBENCH_WATCH");
	static const struct {
		const char *name;
		void (*op)(void);
		void (*setup)(void);
	} workloads[] = {
		{ "fork", op_fork, NULL },
		{ "thread", op_thread, NULL },
		{ "maps", op_maps, NULL },
		{ "borrow", op_borrow, borrow_setup },
	};
	struct counters before = { 0 }, after = { 0 };
	unsigned long long t0, t1;
	const char *counters = NULL;
	void (*op)(void) = NULL;
	long i, ops;
	size_t w;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: mmbench fork|thread|maps|borrow OPS [COUNTERS_FILE]\n");
		return 2;
	}
	for (w = 0; w < ARRAY_SIZE(workloads); w++) {
		if (!strcmp(argv[1], workloads[w].name)) {
			op = workloads[w].op;
			if (workloads[w].setup)
				workloads[w].setup();
			break;
		}
	}
	ops = strtol(argv[2], NULL, 10);
	if (!op || ops <= 0) {
		fprintf(stderr, "mmbench: bad workload or OPS\n");
		return 2;
	}
	if (argc == 4)
		counters = argv[3];
	if (watch && !strcmp(watch, "1"))
		watch_self("pid=%d");
	else
		watch = NULL;

	for (i = 0; i < WARMUP_OPS; i++)
		op();
	if (counters)
		read_counters(counters, &before);
	t0 = now_ns();
	for (i = 0; i < ops; i++)
		op();
	t1 = now_ns();
	if (counters)
		read_counters(counters, &after);
	if (watch)
		watch_self("-pid=%d");

	printf("workload=%s ops=%ld ns=%llu ns_per_op=%.1f", argv[1], ops,
	       t1 - t0, (double)(t1 - t0) / ops);
	for (i = 0; i < after.n; i++) {
		unsigned long long was = 0;
		int j;

		for (j = 0; j < before.n; j++)
			if (!strcmp(before.c[j].name, after.c[i].name))
				was = before.c[j].val;
		printf(" %s=%llu", after.c[i].name, after.c[i].val - was);
	}
	printf("\n");
	return 0;
}
