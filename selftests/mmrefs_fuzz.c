// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile input for every writable debugfs file: mmrefs' filter, enable,
 * watch and holders, and the borrower's control. Malformed, oversized,
 * binary (NUL bytes included), partial (a prefix of a command), offset
 * (pwrite, or a seek first), bad-buffer and valid writes, then the same
 * from several threads and processes at once while others read every
 * file.
 *
 * A model of each file's parser (the interface spec in Documentation/interface.rst and the
 * borrower's header comment) predicts every write's result: EINVAL for
 * anything that is not a command, EFAULT for a buffer the kernel cannot
 * read, ESPIPE for pwrite (every file is a seq_file), for the borrower
 * ENOENT (release of a pid it holds nothing but leaks of), ESRCH (no mm)
 * and EBUSY (32 borrows, leaks included), and for watch ESRCH (no such
 * task, no mm, or -pid=N of no watch), EEXIST (that mm is already
 * watched) and ENOSPC (every slot in use). A write is accepted only if it
 * is a valid command, and whole. After each write of the single-writer
 * tests the file is read back: a rejected write leaves the state
 * unchanged, an accepted one sets what it says.
 *
 * watch arms hardware watchpoints on the mm of the pid it is given, so the
 * fuzzer arms only mms it owns: its waiters, and a process of two tasks
 * (leader and thread share one mm: EEXIST through the other pid, and
 * -pid=N must name the pid the watch was armed with). Any other pid a
 * mutation makes is checked in /proc first: no such task or a kernel
 * thread is ESRCH; a user task (init, the fuzzer itself: busy mms that
 * would trap on every context switch) is never written.
 *
 * holders selects which mms it shows (all, mm=ID or tgid=N); its read-back
 * checks every block's header against the selection, and that the mms the
 * fuzzer knows (its own, its waiters') are shown when selected.
 *
 * The borrower's leak PID is a grab only unloading the module gives back,
 * so the model counts leaks and, at LEAK_CAP of them and at the end of
 * the control test (and in the teardown, if any is left), unloads and
 * reloads mmrefs_borrow ($MMREFS_BORROW_KO) and checks the list is empty.
 * The concurrent test never leaks.
 *
 * The PRNG is seeded from MMREFS_FUZZ_SEED (default in fuzz_gen.h) and
 * each test derives its own stream from it, so any failure replays with
 * the seed it prints.
 *
 * This file holds the tests: the fixture, each test's loop and main.
 * The rest is split by what it owns: fuzz_model.c (each file's parser
 * and answers, the interface spec), fuzz_gen.c (the PRNG and the
 * writes), fuzz_check.c (delivery, the result and read-back checks, the
 * counts), fuzz_conc.c (the concurrent writers and readers) and
 * fuzz_env.c (the borrower's reload, the twin process).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "mmrefs_util.h"
#include "fuzz_check.h"
#include "fuzz_conc.h"
#include "fuzz_env.h"
#include "fuzz_gen.h"
#include "fuzz_model.h"

/*
 * A "# " line on stdout, flushed now: a test runs in a child that ends
 * with _exit(), which would drop whatever stdio still buffers (the runner
 * pipes stdout, so it is fully buffered).
 */
#define note(...) do {				\
	ksft_print_msg(__VA_ARGS__);		\
	fflush(stdout);				\
} while (0)

/* Writes per single-writer test, then per concurrent writer. */
#define FILTER_WRITES		36000
#define ENABLE_WRITES		32000
#define BORROW_WRITES		32000
#define WATCH_WRITES		16000
#define HOLDERS_WRITES		12000
#define CONC_WRITES		1500
#define CONC_THREADS_PER_FILE	2
#define CONC_PROCS		2
#define CONC_SECONDS		20
#define TOTAL_WRITES_MIN	128000

/* Release everything before a default 10 s hold could expire. */
#define BORROW_MAX_AGE_MS	4000
#define BORROW_MODEL_CAP	8
/* Leaks the model lets pile up before it reloads the borrower. */
#define LEAK_CAP		4

static void fuzz_setting_file(struct __test_metadata *_metadata,
			      enum fuzz_file file, unsigned long writes,
			      const pid_t *waiters)
{
	struct fuzzer *fz = calloc(1, sizeof(*fz));
	struct input *in = calloc(1, sizeof(*in));
	char state[64];
	int wfd, rfd;
	double t0 = now_s();
	unsigned long i;

	ASSERT_NE(NULL, fz);
	ASSERT_NE(NULL, in);
	ASSERT_EQ(0, fuzzer_init(fz, file, file + 1, waiters));
	fz->enable_busy = mmrefs_sites_listed() > 0;
	wfd = open(file_path[file], O_WRONLY | O_CLOEXEC);
	rfd = open(file_path[file], O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, wfd);
	ASSERT_LE(0, rfd);
	ASSERT_LT(0, pread_all(rfd, state, sizeof(state)));

	for (i = 0; i < writes; i++)
		fuzz_setting(fz, wfd, rfd, state, sizeof(state), in);

	note("%s: %lu writes, %lu accepted, seed 0x%llx, %.1f s\n",
	     file_name[file], fz->writes, fz->accepted, fuzz_seed(),
	     now_s() - t0);
	EXPECT_EQ(0, fz->failures);
	close(wfd);
	close(rfd);
	fuzzer_fini(fz);
	free(in);
	free(fz);
}

/*
 * The model's leaks are given back: reload the borrower (closing *fd
 * first) and check that the list it starts with is empty.
 */
static void borrow_reload_fuzz(struct __test_metadata *_metadata,
			       struct fuzzer *fz, int *fd,
			       const struct input *in)
{
	int err;

	close(*fd);
	err = borrow_reload();
	if (err)
		fail(fz, in, "cannot reload mmrefs_borrow: %s", strerror(-err));
	fz->nb = 0;
	fz->nleaks = 0;
	*fd = open(BORROW_CONTROL, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, *fd);
	check_borrows(fz, in);
}

static void fuzz_borrow(struct __test_metadata *_metadata, unsigned long writes,
			const pid_t *waiters)
{
	static const char * const res_name[] = {
		"accepted", "EINVAL", "EFAULT", "ESPIPE", "ESRCH", "EBUSY",
		"other",
	};
	static const int res_err[] = { 0, EINVAL, EFAULT, ESPIPE, ESRCH, EBUSY };
	unsigned long leak_res[ARRAY_SIZE(res_name)] = { 0 };
	unsigned long i, full_from = writes / 2, full_to = full_from + 500;
	unsigned long leaks_only = 0, reloads = 0;
	struct fuzzer *fz = calloc(1, sizeof(*fz));
	struct input *in = calloc(1, sizeof(*in));
	struct expect ok = exactly(0);
	int fd, got, len = 0;
	double t0 = now_s(), born;
	struct borrow_cmd c;
	bool only_leaks;
	struct expect e;
	char line[160];
	unsigned int k;

	ASSERT_NE(NULL, fz);
	ASSERT_NE(NULL, in);
	ASSERT_EQ(0, fuzzer_init(fz, F_BORROW, F_BORROW + 1, waiters));
	fd = open(BORROW_CONTROL, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, plain_write(fz, fd, "release all", ok));

	for (i = 0; i < writes; i++) {
		if (i == full_from) {
			/* a fresh start: none of these may expire while full */
			plain_write(fz, fd, "release all", ok);
			model_release(fz, 0);
			borrow_fill(fz, fd);
			/* a leak counts toward the limit like any borrow */
			snprintf(line, sizeof(line), "leak %d", waiters[0]);
			got = plain_write(fz, fd, line, exactly(-EBUSY));
			for (k = 0; k < ARRAY_SIZE(res_err) && got != -res_err[k]; k++)
				;
			leak_res[k]++;
		}
		/* stay full: fuzz meets EBUSY, releases included */
		if (i > full_from && i < full_to && fz->nb < BORROW_MAX)
			borrow_fill(fz, fd);
		/* before a default hold expires, and to keep reads short */
		born = borrow_oldest(fz);
		if (born && (now_s() - born > BORROW_MAX_AGE_MS / 1000.0 ||
			     (fz->nb - fz->nleaks > BORROW_MODEL_CAP &&
			      (i < full_from || i >= full_to)))) {
			plain_write(fz, fd, "release all", ok);
			model_release(fz, 0);
		}
		gen_content(fz, in);
		gen_delivery(fz, in);
		e = borrow_expect(fz, in, &c);
		only_leaks = c.kind == B_RELEASE && model_leaks_only(fz, c.pid);
		one_write(fz, fd, in, e, &got);
		if (c.leak_word) {
			for (k = 0; k < ARRAY_SIZE(res_err) && got != -res_err[k]; k++)
				;
			leak_res[k]++;
		}
		leaks_only += only_leaks && got == -ENOENT;
		if (!got)
			borrow_apply(fz, fd, &c);
		check_borrows(fz, in);
		/* leaks stay until the borrower is unloaded */
		if (fz->nleaks >= LEAK_CAP) {
			borrow_reload_fuzz(_metadata, fz, &fd, in);
			reloads++;
		}
	}
	plain_write(fz, fd, "release all", ok);
	model_release(fz, 0);
	check_borrows(fz, NULL);
	/* only the leaks are left: unloading gives them back */
	borrow_reload_fuzz(_metadata, fz, &fd, NULL);
	reloads++;

	for (k = 0; k < ARRAY_SIZE(res_name); k++)
		len += snprintf(line + len, sizeof(line) - len, "%s%s %lu",
				k ? ", " : "", res_name[k], leak_res[k]);
	note("control: %lu writes, %lu accepted, seed 0x%llx, %.1f s\n",
	     fz->writes, fz->accepted, fuzz_seed(), now_s() - t0);
	note("control: leak commands %s\n", line);
	note("control: %lu reloads; %lu ENOENT for release of a pid with only leaks\n",
	     reloads, leaks_only);
	EXPECT_EQ(0, fz->failures);
	/* each answer a leak can get, and release skipping a leak */
	for (k = 0; k + 1 < ARRAY_SIZE(res_name); k++)
		EXPECT_LT(0, leak_res[k]) TH_LOG("no leak got %s", res_name[k]);
	EXPECT_EQ(0, leak_res[ARRAY_SIZE(res_name) - 1]);
	EXPECT_LT(0, leaks_only);
	close(fd);
	fuzzer_fini(fz);
	free(in);
	free(fz);
}

/*
 * watch: single writer, every result predicted by the model of the slots,
 * the file read back after each write. Also the pids of a twin (two tasks,
 * one mm) and of a child already reaped.
 */
static void fuzz_watch(struct __test_metadata *_metadata, unsigned long writes,
		       const pid_t *waiters)
{
	static const char * const res_name[] = {
		"accepted", "EINVAL", "EFAULT", "ESPIPE", "ESRCH", "EEXIST",
		"ENOSPC", "other",
	};
	static const int res_err[] = {
		0, EINVAL, EFAULT, ESPIPE, ESRCH, EEXIST, ENOSPC,
	};
	unsigned long res[ARRAY_SIZE(res_name)] = { 0 }, kinds[W_DISARM + 1] = { 0 };
	struct fuzzer *fz = calloc(1, sizeof(*fz));
	struct input *in = calloc(1, sizeof(*in));
	struct expect ok = exactly(0);
	char line[200], text[1024];
	struct watch_state ws;
	struct watch_cmd c;
	struct expect e;
	int wfd, rfd, got, tries, twin_fd = -1, len = 0;
	unsigned int k;
	pid_t twin, thread = 0;
	double t0 = now_s();
	unsigned long i;

	ASSERT_NE(NULL, fz);
	ASSERT_NE(NULL, in);
	ASSERT_EQ(0, fuzzer_init(fz, F_WATCH, F_WATCH + 1, waiters));
	twin = spawn_twin(&thread, &twin_fd);
	ASSERT_LT(0, twin);
	fz->known[fz->nknown] = twin;
	fz->known_mm[fz->nknown++] = NR_WAITERS;
	fz->known[fz->nknown] = thread;
	fz->known_mm[fz->nknown++] = NR_WAITERS;
	fz->dead = fork();
	if (!fz->dead)
		_exit(0);
	ASSERT_LT(0, fz->dead);
	ASSERT_EQ(fz->dead, waitpid(fz->dead, NULL, 0));

	wfd = open(MMREFS_WATCH, O_WRONLY | O_CLOEXEC);
	rfd = open(MMREFS_WATCH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, wfd);
	ASSERT_LE(0, rfd);
	ASSERT_EQ(0, plain_write(fz, wfd, "clear", ok));
	ASSERT_EQ(0, plain_write(fz, wfd, "stack=0", ok));
	ASSERT_LT(0, pread_all(rfd, text, sizeof(text)));
	ASSERT_TRUE(watch_parse(text, &ws)) TH_LOG("watch: \"%s\"", text);
	/* two mms on x86 (four registers, two per mm); room for the model */
	ASSERT_LE(2, ws.slots);
	fz->w_slots = ws.slots;

	for (i = 0; i < writes; i++) {
		tries = 0;
		do {
			gen_content(fz, in);
			gen_delivery(fz, in);
		} while (!watch_expect(fz, in, &c, &e) && ++tries < 20);
		if (tries == 20) {
			in->len = 0;
			in->how = D_WRITE;
			watch_expect(fz, in, &c, &e);
		}
		one_write(fz, wfd, in, e, &got);
		for (k = 0; k < ARRAY_SIZE(res_err) && got != -res_err[k]; k++)
			;
		res[k]++;
		if (!got) {
			kinds[c.kind]++;
			watch_apply(fz, &c);
		}
		check_watch(fz, rfd, in);
	}
	plain_write(fz, wfd, "clear", ok);
	plain_write(fz, wfd, "stack=0", ok);
	memset(fz->w_pid, 0, sizeof(fz->w_pid));
	fz->w_stack = 0;
	check_watch(fz, rfd, NULL);

	for (k = 0; k < ARRAY_SIZE(res_name); k++)
		len += snprintf(line + len, sizeof(line) - len, "%s%s %lu",
				k ? ", " : "", res_name[k], res[k]);
	note("watch: %lu writes, %lu accepted, seed 0x%llx, %.1f s\n",
	     fz->writes, fz->accepted, fuzz_seed(), now_s() - t0);
	note("watch: fuzzed %s\n", line);
	note("watch: accepted pid= %lu, -pid= %lu, clear %lu, stack= %lu\n",
	     kinds[W_ARM], kinds[W_DISARM], kinds[W_CLEAR], kinds[W_STACK]);
	EXPECT_EQ(0, fz->failures);
	/* every kind of answer was seen */
	for (k = 0; k + 1 < ARRAY_SIZE(res); k++)
		EXPECT_LT(0, res[k]) TH_LOG("no %s", res_name[k]);
	EXPECT_EQ(0, res[ARRAY_SIZE(res) - 1]);
	close(wfd);
	close(rfd);
	mmrefs_waiter_exit(&twin, &twin_fd);
	fuzzer_fini(fz);
	free(in);
	free(fz);
}

/*
 * holders: single writer, every result predicted by the model, the
 * selection read back after each write.
 */
static void fuzz_holders(struct __test_metadata *_metadata,
			 unsigned long writes, const pid_t *waiters,
			 const struct own_mm *own)
{
	static const char * const res_name[] = {
		"accepted", "EINVAL", "EFAULT", "ESPIPE", "other",
	};
	static const int res_err[] = { 0, EINVAL, EFAULT, ESPIPE };
	unsigned long res[ARRAY_SIZE(res_name)] = { 0 }, kinds[H_TGID + 1] = { 0 };
	struct fuzzer *fz = calloc(1, sizeof(*fz));
	struct input *in = calloc(1, sizeof(*in));
	struct holders_sel all = { .kind = H_ALL }, c;
	struct expect ok = exactly(0), e;
	int wfd, rfd, got, len = 0;
	double t0 = now_s();
	char line[160];
	unsigned long i;
	unsigned int k;

	ASSERT_NE(NULL, fz);
	ASSERT_NE(NULL, in);
	ASSERT_EQ(0, fuzzer_init(fz, F_HOLDERS, F_HOLDERS + 1, waiters));
	memcpy(fz->own, own, sizeof(fz->own));
	wfd = open(MMREFS_HOLDERS, O_WRONLY | O_CLOEXEC);
	rfd = open(MMREFS_HOLDERS, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, wfd);
	ASSERT_LE(0, rfd);
	ASSERT_EQ(0, plain_write(fz, wfd, "all", ok));
	fz->h_sel = all;
	check_holders(fz, rfd, NULL);
	ASSERT_EQ(0, fz->failures);

	for (i = 0; i < writes; i++) {
		gen_content(fz, in);
		gen_delivery(fz, in);
		e = holders_expect(in, &c);
		one_write(fz, wfd, in, e, &got);
		for (k = 0; k < ARRAY_SIZE(res_err) && got != -res_err[k]; k++)
			;
		res[k]++;
		if (!got && c.kind != H_BAD) {
			kinds[c.kind]++;
			fz->h_sel = c;
		}
		check_holders(fz, rfd, in);
	}
	/* every mm shown again */
	plain_write(fz, wfd, "all", ok);
	fz->h_sel = all;
	check_holders(fz, rfd, NULL);

	for (k = 0; k < ARRAY_SIZE(res_name); k++)
		len += snprintf(line + len, sizeof(line) - len, "%s%s %lu",
				k ? ", " : "", res_name[k], res[k]);
	note("holders: %lu writes, %lu accepted, seed 0x%llx, %.1f s\n",
	     fz->writes, fz->accepted, fuzz_seed(), now_s() - t0);
	note("holders: fuzzed %s\n", line);
	note("holders: accepted all %lu, mm= %lu, tgid= %lu\n",
	     kinds[H_ALL], kinds[H_MM], kinds[H_TGID]);
	EXPECT_EQ(0, fz->failures);
	/* every kind of answer and of selection was seen */
	for (k = 0; k + 1 < ARRAY_SIZE(res); k++)
		EXPECT_LT(0, res[k]) TH_LOG("no %s", res_name[k]);
	EXPECT_EQ(0, res[ARRAY_SIZE(res) - 1]);
	for (k = H_ALL; k <= H_TGID; k++)
		EXPECT_LT(0, kinds[k]);
	close(wfd);
	close(rfd);
	fuzzer_fini(fz);
	free(in);
	free(fz);
}

/* ---- the tests ---- */

FIXTURE(fuzz) {
	pid_t waiters[NR_WAITERS];
	int fds[NR_WAITERS];
	struct own_mm own[NR_OWN_MMS];	/* the waiters' mms, then ours */
};

FIXTURE_SETUP(fuzz)
{
	const char *why = mmrefs_missing();
	int i;

	for (i = 0; i < NR_WAITERS; i++)
		self->fds[i] = -1;
	if (!why)
		why = borrow_missing();
	if (why)
		SKIP(return, "%s", why);
	ASSERT_NE(NULL, totals);
	mmrefs_reset_filter();
	/* no borrow left, leaks included */
	ASSERT_EQ(0, borrow_clean());
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_WATCH, "clear"));
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_WATCH, "stack=0"));
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_HOLDERS, "all"));
	for (i = 0; i < NR_WAITERS; i++) {
		self->waiters[i] = mmrefs_spawn_waiter("mmr_fuzz", &self->fds[i]);
		ASSERT_GT(self->waiters[i], 0);
		self->own[i].tgid = self->waiters[i];
	}
	/* each process is an mm of its own, tracked from its fork */
	self->own[NR_WAITERS].tgid = getpid();
	for (i = 0; i < NR_OWN_MMS; i++) {
		self->own[i].id = mmrefs_id_of(self->own[i].tgid);
		ASSERT_NE(-1ULL, self->own[i].id) TH_LOG("no mm of %d in mms",
							 self->own[i].tgid);
	}
}

FIXTURE_TEARDOWN(fuzz)
{
	int i;

	/*
	 * no borrow (a leak only goes with a reload) or watch outlives the
	 * test (a watch would outlive the waiter it is on for up to a
	 * second); recording is back on, holders shows every mm
	 */
	if (!borrow_missing())
		borrow_clean();
	if (!mmrefs_missing()) {
		mmrefs_write_file(MMREFS_WATCH, "clear");
		mmrefs_write_file(MMREFS_WATCH, "stack=0");
		mmrefs_write_file(MMREFS_HOLDERS, "all");
	}
	mmrefs_reset_filter();
	for (i = 0; i < NR_WAITERS; i++)
		mmrefs_waiter_reap(&self->waiters[i], &self->fds[i]);
}

TEST_F_TIMEOUT(fuzz, filter_rejects_or_applies, 300)
{
	if (_metadata->skip)
		return;
	fuzz_setting_file(_metadata, F_FILTER, FILTER_WRITES, self->waiters);
	/* the last accepted value is still there; put "all" back */
	EXPECT_EQ(0, mmrefs_write_file(MMREFS_FILTER, "all"));
	EXPECT_STREQ("all\n", mmrefs_read_file(MMREFS_FILTER));
}

TEST_F_TIMEOUT(fuzz, enable_rejects_or_applies, 300)
{
	if (_metadata->skip)
		return;
	fuzz_setting_file(_metadata, F_ENABLE, ENABLE_WRITES, self->waiters);
	EXPECT_EQ(0, mmrefs_write_file(MMREFS_ENABLE, "1"));
	EXPECT_STREQ("1\n", mmrefs_read_file(MMREFS_ENABLE));
}

TEST_F_TIMEOUT(fuzz, borrow_control_rejects_or_applies, 300)
{
	if (_metadata->skip)
		return;
	fuzz_borrow(_metadata, BORROW_WRITES, self->waiters);
	/* every borrow released, every leak unloaded: the list is empty */
	EXPECT_STREQ("", mmrefs_read_file(BORROW_CONTROL));
}

TEST_F_TIMEOUT(fuzz, watch_rejects_or_applies, 300)
{
	const char *text;

	if (_metadata->skip)
		return;
	fuzz_watch(_metadata, WATCH_WRITES, self->waiters);
	/* cleared at the end: every slot free, no stacks */
	text = mmrefs_read_file(MMREFS_WATCH);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(mmrefs_field(text, "slots"), mmrefs_field(text, "free"));
	EXPECT_EQ(0, mmrefs_field(text, "stack"));
}

TEST_F_TIMEOUT(fuzz, holders_rejects_or_applies, 300)
{
	struct holders_sel all = { .kind = H_ALL };
	unsigned int seen;
	const char *text;

	if (_metadata->skip)
		return;
	fuzz_holders(_metadata, HOLDERS_WRITES, self->waiters, self->own);
	/* all again: every mm of ours is shown */
	text = mmrefs_read_file(MMREFS_HOLDERS);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(NULL, holders_scan(text, &all, 1, self->own, &seen));
	EXPECT_EQ((1U << NR_OWN_MMS) - 1, seen);
}

/*
 * Writers hammer all five files from threads and processes while
 * readers read every file. Results must still match the model (the
 * borrower's and watch's may also see the other writers' borrows and
 * watches), and no reader may ever see a value no writer was allowed to
 * set: holders only ever shows the mms the writers may select. No
 * writer leaks.
 */
TEST_F_TIMEOUT(fuzz, concurrent_writers_and_readers, 300)
{
	static const char * const read_paths[] = {
		MMREFS_MMS, MMREFS_HISTORY, MMREFS_STATS, MMREFS_FILTER,
		MMREFS_ENABLE, BORROW_CONTROL, MMREFS_WATCH, MMREFS_HOLDERS,
	};
	struct holders_sel all = { .kind = H_ALL };
	pthread_t wt[NR_FILES * CONC_THREADS_PER_FILE];
	pthread_t rt[ARRAY_SIZE(read_paths)];
	struct writer w[NR_FILES * CONC_THREADS_PER_FILE];
	struct reader r[ARRAY_SIZE(read_paths)];
	unsigned long writes0 = 0, writes = 0, reads = 0;
	const char *text;
	struct writer pw;
	pid_t procs[CONC_PROCS];
	unsigned int seen;
	struct conc *cc;
	char line[32];
	unsigned int i, nw = 0, nr = 0;
	double t0 = now_s();
	int status, f;

	if (_metadata->skip)
		return;
	cc = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	ASSERT_NE(MAP_FAILED, cc);
	cc->waiters = self->waiters;
	cc->deadline = t0 + CONC_SECONDS;
	snprintf(cc->filter_ok[0], sizeof(cc->filter_ok[0]), "all\n");
	snprintf(cc->filter_ok[1], sizeof(cc->filter_ok[1]), "tgid=%d\n",
		 self->waiters[0]);
	snprintf(cc->filter_ok[2], sizeof(cc->filter_ok[2]), "comm=mmr_fuzz\n");
	/* holders: waiter 0's mm, waiter 1's tgid, an id no mm has */
	memcpy(cc->own, self->own, sizeof(cc->own));
	cc->holders_ok[0].kind = H_MM;
	cc->holders_ok[0].val = self->own[0].id;
	cc->holders_ok[1].kind = H_TGID;
	cc->holders_ok[1].val = self->own[1].tgid;
	cc->holders_ok[2].kind = H_MM;
	cc->holders_ok[2].val = NO_MM_ID;
	snprintf(line, sizeof(line), "mm=%llu", self->own[0].id);
	ASSERT_EQ(0, mmrefs_write_file(MMREFS_HOLDERS, line));
	for (f = 0; f < NR_FILES; f++)
		writes0 += totals->writes[f];

	/* processes first: fork() before this process has threads */
	for (i = 0; i < CONC_PROCS; i++) {
		procs[i] = fork();
		ASSERT_LE(0, procs[i]);
		if (!procs[i]) {
			pw.conc = cc;
			pw.file = NR_FILES;
			pw.stream = 100 + i;
			pw.writes = CONC_WRITES;
			writer_run(&pw);
			_exit(0);
		}
	}
	for (i = 0; i < ARRAY_SIZE(read_paths); i++) {
		r[i].conc = cc;
		r[i].path = read_paths[i];
		r[i].one_read = !strcmp(read_paths[i], MMREFS_FILTER) ||
				!strcmp(read_paths[i], MMREFS_ENABLE) ||
				!strcmp(read_paths[i], MMREFS_WATCH);
		r[i].reads = 0;
		r[i].failures = 0;
		if (!pthread_create(&rt[nr], NULL, reader_run, &r[i]))
			nr++;
	}
	for (i = 0; i < ARRAY_SIZE(w); i++) {
		w[i].conc = cc;
		w[i].file = i % NR_FILES;
		w[i].stream = 10 + i;
		w[i].writes = CONC_WRITES;
		if (!pthread_create(&wt[nw], NULL, writer_run, &w[i]))
			nw++;
	}
	for (i = 0; i < nw; i++)
		pthread_join(wt[i], NULL);
	for (i = 0; i < CONC_PROCS; i++) {
		ASSERT_EQ(procs[i], waitpid(procs[i], &status, 0));
		EXPECT_EQ(0, status);
	}
	__atomic_store_n(&cc->stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < nr; i++)
		pthread_join(rt[i], NULL);
	EXPECT_EQ(ARRAY_SIZE(w), nw);
	EXPECT_EQ(ARRAY_SIZE(read_paths), nr);

	for (f = 0; f < NR_FILES; f++)
		writes += totals->writes[f];
	writes -= writes0;
	for (i = 0; i < nr; i++) {
		reads += r[i].reads;
		EXPECT_EQ(0, r[i].failures) TH_LOG("reader of %s", r[i].path);
		/* every file was read while the writers ran */
		EXPECT_LT(0, r[i].reads) TH_LOG("reader of %s", r[i].path);
	}
	count(&totals->reads, reads);
	note("concurrent: %lu writes by %u threads and %u processes, %lu reads, %.1f s\n",
	     writes, nw, CONC_PROCS, reads, now_s() - t0);
	EXPECT_EQ(0, cc->failures);

	/* whatever the writers left: release it, and the list is empty */
	EXPECT_EQ(0, borrow_cmd("release all"));
	EXPECT_STREQ("", mmrefs_read_file(BORROW_CONTROL));
	/* and no watch is left on */
	EXPECT_EQ(0, mmrefs_write_file(MMREFS_WATCH, "clear"));
	EXPECT_EQ(0, mmrefs_write_file(MMREFS_WATCH, "stack=0"));
	text = mmrefs_read_file(MMREFS_WATCH);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(mmrefs_field(text, "slots"), mmrefs_field(text, "free"));
	/* and holders shows every mm again, ours included */
	EXPECT_EQ(0, mmrefs_write_file(MMREFS_HOLDERS, "all"));
	text = mmrefs_read_file(MMREFS_HOLDERS);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(NULL, holders_scan(text, &all, 1, self->own, &seen));
	EXPECT_EQ((1U << NR_OWN_MMS) - 1, seen);
	munmap(cc, PAGE);
}

TEST_F(fuzz, total_writes)
{
	struct holders_sel all = { .kind = H_ALL };
	unsigned long writes = 0;
	unsigned int seen;
	const char *text;
	int f;

	if (_metadata->skip)
		return;
	for (f = 0; f < NR_FILES; f++)
		writes += totals->writes[f];
	note("total: %lu writes (filter %lu, enable %lu, control %lu, watch %lu, holders %lu)\n",
	     writes, totals->writes[F_FILTER], totals->writes[F_ENABLE],
	     totals->writes[F_BORROW], totals->writes[F_WATCH],
	     totals->writes[F_HOLDERS]);
	note("seed 0x%llx\n", fuzz_seed());
	note("accepted %lu, EINVAL %lu, EFAULT %lu, ESPIPE %lu\n",
	     totals->accepted, totals->einval, totals->efault,
	     totals->espipe);
	note("ENOENT %lu, ESRCH %lu, EBUSY %lu, EEXIST %lu, ENOSPC %lu; %lu concurrent reads\n",
	     totals->enoent, totals->esrch, totals->ebusy, totals->eexist,
	     totals->enospc, totals->reads);
	EXPECT_LE(TOTAL_WRITES_MIN, writes);
	EXPECT_LE(WATCH_WRITES, totals->writes[F_WATCH]);
	EXPECT_LE(HOLDERS_WRITES, totals->writes[F_HOLDERS]);
	/* each kind of result was seen at least once */
	EXPECT_LT(0, totals->accepted);
	EXPECT_LT(0, totals->einval);
	EXPECT_LT(0, totals->efault);
	EXPECT_LT(0, totals->espipe);
	EXPECT_LT(0, totals->enoent);
	EXPECT_LT(0, totals->esrch);
	EXPECT_LT(0, totals->ebusy);
	EXPECT_LT(0, totals->eexist);
	EXPECT_LT(0, totals->enospc);
	/* the fuzz left the defaults */
	EXPECT_STREQ("all\n", mmrefs_read_file(MMREFS_FILTER));
	EXPECT_STREQ("1\n", mmrefs_read_file(MMREFS_ENABLE));
	text = mmrefs_read_file(MMREFS_WATCH);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(mmrefs_field(text, "slots"), mmrefs_field(text, "free"));
	EXPECT_EQ(0, mmrefs_field(text, "stack"));
	text = mmrefs_read_file(MMREFS_HOLDERS);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(NULL, holders_scan(text, &all, 1, self->own, &seen));
	EXPECT_EQ((1U << NR_OWN_MMS) - 1, seen);
	/* and the borrower holds nothing, no leak either */
	EXPECT_STREQ("", mmrefs_read_file(BORROW_CONTROL));
}

TEST_HARNESS_MAIN
