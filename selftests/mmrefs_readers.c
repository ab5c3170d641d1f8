// SPDX-License-Identifier: GPL-2.0
/*
 * Other processes reading an mm: /proc/PID/maps and process_vm_readv()
 * take a temporary user through mm_access() and give it back, in the
 * reader's context; an open /proc/PID/maps pins mm_count until close.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/uio.h>

#include "kselftest_harness.h"
#include "mmrefs_util.h"

#define READER_COMM	"mmr_reader"

/* Same address in the forked child: the value process_vm_readv reads. */
static unsigned long secret = 0x6d6d72656673UL;

FIXTURE(readers) {
	pid_t child;
	int child_fd;
	long id;
};

FIXTURE_SETUP(readers)
{
	const char *why = mmrefs_missing();

	self->child_fd = -1;
	if (why)
		SKIP(return, "%s", why);
	mmrefs_reset_filter();
	/* events below carry the actor's comm: name ourselves */
	prctl(PR_SET_NAME, READER_COMM);
	self->child = mmrefs_spawn_waiter("mmr_target", &self->child_fd);
	ASSERT_GT(self->child, 0);
	self->id = mmrefs_id_of(self->child);
	ASSERT_GT(self->id, 0);
}

FIXTURE_TEARDOWN(readers)
{
	mmrefs_waiter_reap(&self->child, &self->child_fd);
}

/*
 * After index from: a get/mm_access 1->2 then a put/put back to 1, both by
 * us. Returns the index of the put, or -1.
 */
static int expect_borrowed_by_us(struct __test_metadata *_metadata,
				 const struct mmrefs_history *h, int from)
{
	int get, put;

	get = mmrefs_find_event(h, from, "get", "mm_access");
	EXPECT_GE(get, 0);
	if (get < 0)
		return -1;
	EXPECT_STREQ(READER_COMM, h->ev[get].comm);
	EXPECT_EQ(getpid(), h->ev[get].pid);
	EXPECT_EQ(0, h->ev[get].kthread);
	EXPECT_EQ(1, h->ev[get].users_old);
	EXPECT_EQ(2, h->ev[get].users_new);

	put = mmrefs_find_event(h, get, "put", "put");
	EXPECT_GT(put, get);
	if (put < 0)
		return -1;
	EXPECT_STREQ(READER_COMM, h->ev[put].comm);
	EXPECT_EQ(getpid(), h->ev[put].pid);
	EXPECT_EQ(1, h->ev[put].users_new);
	return put;
}

TEST_F(readers, proc_maps_reader)
{
	long users, count, lazy;
	struct mmrefs_history h;
	char path[64], buf[4096];
	int fd, grab, put, nr_before;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	nr_before = h.nr;

	snprintf(path, sizeof(path), "/proc/%d/maps", self->child);
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	/* an open maps file holds mm_count, not mm_users */
	ASSERT_TRUE(mmrefs_settle(self->id));
	ASSERT_EQ(0, mmrefs_counts(self->id, &users, &count, &lazy));
	EXPECT_EQ(1, users);
	EXPECT_EQ(2, count - lazy);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);

	/* after close: back to one user, one count */
	ASSERT_TRUE(mmrefs_settle(self->id));
	ASSERT_EQ(0, mmrefs_counts(self->id, &users, &count, &lazy));
	EXPECT_EQ(1, users);
	EXPECT_EQ(1, count - lazy);

	/*
	 * open: mm_access get, proc_mem_open's mm_count grab (count 1->2),
	 * then the put of the get, in that order, all by us
	 */
	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	ASSERT_GT(h.nr, nr_before);
	put = expect_borrowed_by_us(_metadata, &h, nr_before);
	grab = mmrefs_find_event(&h, nr_before, "grab", "proc");
	EXPECT_GE(grab, 0);
	EXPECT_LT(grab, put);
	EXPECT_GT(grab, mmrefs_find_event(&h, nr_before, "get", "mm_access"));
	if (grab >= 0) {
		EXPECT_STREQ(READER_COMM, h.ev[grab].comm);
		EXPECT_EQ(h.ev[grab].count_old + 1, h.ev[grab].count_new);
		EXPECT_EQ(2, h.ev[grab].users_new);
	}
	/* reading the maps moved users but nothing tore it down */
	EXPECT_EQ(0, mmrefs_count_events(&h, "teardown", NULL));
}

TEST_F(readers, process_vm_readv_reader)
{
	unsigned long word = 0;
	struct iovec local = { &word, sizeof(word) };
	struct iovec remote = { (void *)&secret, sizeof(secret) };
	long users, count, lazy;
	struct mmrefs_history h;
	int nr_before, put;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	nr_before = h.nr;

	ASSERT_EQ(sizeof(word), process_vm_readv(self->child, &local, 1,
						 &remote, 1, 0));
	EXPECT_EQ(secret, word);

	/* one temporary user, given back before the syscall returned */
	ASSERT_EQ(0, mmrefs_counts(self->id, &users, &count, &lazy));
	EXPECT_EQ(1, users);
	ASSERT_EQ(0, mmrefs_history(self->id, &h));
	/* exactly one get/mm_access for one syscall */
	put = expect_borrowed_by_us(_metadata, &h, nr_before);
	EXPECT_EQ(-1, mmrefs_find_event(&h, put + 1, "get", "mm_access"));
}

TEST_HARNESS_MAIN
