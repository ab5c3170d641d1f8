// SPDX-License-Identifier: GPL-2.0
/*
 * mmrefs demo (make demo): one short story of an mm's references, printed
 * as "step ..." lines with the matching mmrefs rows ("  mms: ...").
 *
 *   1. two threads share our mm (users 3), then join (users 1)
 *   2. a forked child gets its own mm (new/fork); we watch it: from
 *      here on every write of its counters is an event, inlined
 *      helpers included, with mmrefs' observer reference (count +1)
 *   3. we read its /proc/PID/maps: mm_access()'s mmget(), m_start()'s
 *      mmget_not_zero(), the open file's mmgrab()
 *   4. the mmrefs_borrow kthread grabs the child's mm (count +1)
 *   5. the child exits while borrowed: users 0, torn down, not freed
 *   6. past leak_torndown_ms (demo-guest.sh loads mmrefs with 500), the
 *      torn-down mm is in leaks, with the borrower's mmgrab and stack
 *   7. release: the kthread's mmdrop leaves only the observer, which
 *      lets go: unwatch, free
 *   8. the child mm's history, new/fork to free, with every site
 *
 * Needs mmrefs.ko and mmrefs_borrow.ko loaded and debugfs mounted.
 * Exit: 0 done, 1 a step failed, 4 a module is missing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mmrefs_util.h"

static pthread_barrier_t started;

static void show_mm(long id)
{
	char line[MMREFS_LINE_MAX];

	if (mmrefs_mms_by_id(id, line, sizeof(line)))
		printf("  mms: id=%ld is not in mms (freed)\n", id);
	else
		printf("  mms: %s\n", line);
	fflush(stdout);
}

/* The lines of mm @id's block in a holders-style file, as they are. */
static void print_block(const char *path, long id)
{
	const char *text = mmrefs_read_file(path), *p;
	char line[MMREFS_LINE_MAX];
	bool in = false;
	size_t n;

	for (p = text; p && *p; p += n + (p[n] == '\n')) {
		n = strcspn(p, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		if (*line != ' ')
			in = mmrefs_field(line, "id") == id;
		if (in)
			puts(line);
	}
	fflush(stdout);
}

static void *demo_thread(void *arg)
{
	printf("step thread %ld started\n", (long)arg);
	fflush(stdout);
	/* both threads and main are alive at once: users 3 */
	pthread_barrier_wait(&started);
	pthread_barrier_wait(&started);
	return NULL;
}

static int fail(const char *what)
{
	printf("demo failed: %s (%s)\n", what, strerror(errno));
	return 1;
}

int main(void)
{
	struct mmrefs_history h;
	char line[MMREFS_LINE_MAX], path[64], buf[4096];
	long self_id, child_id, users, count, lazy;
	const char *why = mmrefs_missing() ?: borrow_missing();
	pthread_t t[2];
	pid_t child;
	int fd, fd_maps, i;

	printf("demo pid=%d\n", getpid());
	if (why) {
		printf("demo skipped: %s\n", why);
		return 4;
	}
	self_id = mmrefs_id_of(getpid());

	pthread_barrier_init(&started, NULL, 3);
	for (i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, demo_thread, (void *)(long)i + 1))
			return fail("pthread_create");
	pthread_barrier_wait(&started);
	printf("step threads running (expect users=3)\n");
	show_mm(self_id);
	pthread_barrier_wait(&started);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	/* exit_mm's mmput comes a moment after the join returns */
	loop_until(!mmrefs_counts(self_id, &users, &count, &lazy) && users == 1);
	printf("step threads joined (expect users=1)\n");
	show_mm(self_id);

	child = mmrefs_spawn_waiter("demo_child", &fd);
	if (child < 0)
		return fail("fork");
	child_id = mmrefs_id_of(child);
	printf("step forked child pid=%d mm id=%ld (expect users=1)\n",
	       child, child_id);
	show_mm(child_id);

	snprintf(line, sizeof(line), "pid=%d", child);
	if (mmrefs_write_file(MMREFS_WATCH, line))
		return fail("watch");
	mmrefs_settle(child_id);
	printf("step watching the child's mm (expect users=1 count=2: users 1 + observer 1)\n");
	show_mm(child_id);

	snprintf(path, sizeof(path), "/proc/%d/maps", child);
	fd_maps = open(path, O_RDONLY);
	if (fd_maps < 0)
		return fail("open maps");
	while (read(fd_maps, buf, sizeof(buf)) > 0)
		;
	close(fd_maps);
	mmrefs_settle(child_id);
	printf("step read %s (expect users=1 count=2 again)\n", path);
	show_mm(child_id);

	if (borrow_cmd("grab %d", child))
		return fail("grab");
	mmrefs_settle(child_id);
	printf("step kthread mmrefs_borrow grabbed the child's mm %s\n",
	       "(expect users=1 count=3: + grab 1)");
	show_mm(child_id);
	if (!borrow_line(child, line, sizeof(line)))
		printf("  borrower: %s\n", line);

	mmrefs_waiter_exit(&child, &fd);
	loop_until(!mmrefs_mms_by_id(child_id, line, sizeof(line)) &&
		   mmrefs_field(line, "users") == 0);
	mmrefs_settle(child_id);
	printf("step child exited while borrowed %s\n",
	       "(expect state=torndown users=0 count=2: grab + observer)");
	show_mm(child_id);

	/* past the threshold: a suspect in leaks, holders and stacks named */
	mmrefs_sleep_ms(600);
	printf("step leaks record of mm id=%ld\n", child_id);
	print_block(MMREFS_DIR "/leaks", child_id);

	if (borrow_cmd("release all"))
		return fail("release");
	printf("step released the borrow\n");
	if (!loop_until((mmrefs_flush_lazy(),
			 mmrefs_mms_by_id(child_id, line, sizeof(line)))))
		return fail("child mm not freed");
	printf("step freed mm id=%ld\n", child_id);
	show_mm(child_id);

	printf("step history of mm id=%ld\n", child_id);
	if (mmrefs_history(child_id, &h))
		return fail("no history");
	printf("%s\n", h.header);
	for (i = 0; i < h.nr; i++) {
		printf("  seq=%ld op=%s cause=%s comm=%s",
		       h.ev[i].seq, h.ev[i].op, h.ev[i].cause, h.ev[i].comm);
		printf(" kthread=%ld users=%ld->%ld count=%ld->%ld",
		       h.ev[i].kthread, h.ev[i].users_old, h.ev[i].users_new,
		       h.ev[i].count_old, h.ev[i].count_new);
		printf(" observer=%ld site=%s\n", h.ev[i].observer,
		       h.ev[i].site[0] ? h.ev[i].site : "-");
	}
	printf("demo done\n");
	return 0;
}
