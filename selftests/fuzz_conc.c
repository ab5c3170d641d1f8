// SPDX-License-Identifier: GPL-2.0
/*
 * mmrefs_fuzz's concurrent writers and readers (see fuzz_conc.h). A
 * writer makes the generator's writes but regenerates any valid one that
 * would set a value the readers do not know; the model predicts each
 * result, allowing for what the other writers may have done. A reader
 * checks every read of its file against the values the writers may set.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_check.h"
#include "fuzz_conc.h"
#include "fuzz_gen.h"
#include "fuzz_model.h"

/*
 * Concurrent writers may set only values the readers know about: regenerate
 * anything valid that is not in the set (unknown pids, short holds).
 */
static bool conc_allowed(struct fuzzer *fz, struct conc *cc, const struct input *in)
{
	struct holders_sel hs;
	struct borrow_cmd c;
	struct watch_cmd wc;
	struct expect e;
	char canon[64];
	int i;

	if (expect_vfs(fz->file, in) != 1)
		return true;
	if (fz->file == F_WATCH)
		return watch_expect(fz, in, &wc, &e);
	if (fz->file == F_HOLDERS) {
		hs = model_holders(in->data, in->len);
		for (i = 0; i < 3 && hs.kind != H_BAD; i++)
			if (hs.kind == cc->holders_ok[i].kind &&
			    hs.val == cc->holders_ok[i].val)
				return true;
		return hs.kind == H_BAD;
	}
	if (fz->file == F_FILTER) {
		if (model_filter(in->data, in->len, canon, sizeof(canon)))
			return true;
		for (i = 0; i < 3; i++)
			if (!strcmp(canon, cc->filter_ok[i]))
				return true;
		return false;
	}
	/*
	 * enable=0 would refuse watches the others arm (and be refused
	 * while they hold one): only 1, which changes nothing
	 */
	if (fz->file == F_ENABLE)
		return !enable_zero(fz, in);
	c = model_borrow(in->data, in->len, fz->max_hold);
	if (c.kind == B_GRAB || c.kind == B_GET)
		return is_waiter(fz, c.pid) && c.hold >= HOLD_STABLE_MS;
	/* only a reload gives a leak back, and the others are writing */
	return c.kind != B_LEAK;
}

static void conc_write(struct fuzzer *fz, struct conc *cc, int fd[NR_FILES],
		       enum fuzz_file file, struct input *in)
{
	struct holders_sel hs;
	struct watch_cmd wc;
	struct borrow_cmd c;
	struct expect e;
	char canon[64];
	int model, got, tries = 0;

	fz->file = file;
	do {
		gen_content(fz, in);
		gen_delivery(fz, in);
	} while (!conc_allowed(fz, cc, in) && ++tries < 20);
	if (tries == 20) {
		in->len = 0;
		in->how = D_WRITE;
	}
	if (file == F_BORROW) {
		e = borrow_expect(fz, in, &c);
	} else if (file == F_WATCH) {
		watch_expect(fz, in, &wc, &e);
	} else if (file == F_HOLDERS) {
		e = holders_expect(in, &hs);
	} else {
		model = expect_vfs(file, in);
		if (model == 1)
			model = file == F_FILTER ?
				model_filter(in->data, in->len, canon, sizeof(canon)) :
				model_enable(in->data, in->len, canon, sizeof(canon));
		e = exactly(model);
	}
	one_write(fz, fd[file], in, e, &got);
}

void *writer_run(void *arg)
{
	struct writer *w = arg;
	struct conc *cc = w->conc;
	struct fuzzer *fz = calloc(1, sizeof(*fz));
	struct input *in = calloc(1, sizeof(*in));
	int fd[NR_FILES], f;
	unsigned long i;

	if (!fz || !in || fuzzer_init(fz, F_FILTER, w->stream, cc->waiters)) {
		__atomic_add_fetch(&cc->failures, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	fz->concurrent = true;
	memcpy(fz->own, cc->own, sizeof(fz->own));
	for (f = 0; f < NR_FILES; f++)
		fd[f] = open(file_path[f], O_WRONLY | O_CLOEXEC);
	for (i = 0; i < w->writes && !__atomic_load_n(&cc->stop, __ATOMIC_RELAXED);
	     i++) {
		if (!(i % 64) && now_s() > cc->deadline)
			break;
		f = w->file == NR_FILES ? (int)below(&fz->rng, NR_FILES) : (int)w->file;
		if (fd[f] < 0) {
			fail(fz, NULL, "cannot open %s", file_path[f]);
			break;
		}
		conc_write(fz, cc, fd, f, in);
	}
	__atomic_add_fetch(&cc->failures, fz->failures, __ATOMIC_RELAXED);
	for (f = 0; f < NR_FILES; f++)
		if (fd[f] >= 0)
			close(fd[f]);
	fuzzer_fini(fz);
	free(in);
	free(fz);
	return NULL;
}

/*
 * One value of filter, enable or watch: one open and a read from offset 0.  (The
 * files are single_open() seq_files, so reading on in pieces would show
 * the same value; an earlier version joined two values there.)
 */
static ssize_t read_once(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread_all(fd, buf, size);
	close(fd);
	return n;
}

/* What every read must show while the writers run. */
static bool reader_check(struct reader *r, const char *text)
{
	const pid_t *w = r->conc->waiters;
	char mode[BORROW_MAX + 1][8];
	struct watch_state ws;
	pid_t pid[BORROW_MAX + 1];
	int i, j, n;

	if (!strcmp(r->path, MMREFS_FILTER)) {
		for (i = 0; i < 3; i++)
			if (!strcmp(text, r->conc->filter_ok[i]))
				return true;
		return false;
	}
	if (!strcmp(r->path, MMREFS_ENABLE))
		return !strcmp(text, "0\n") || !strcmp(text, "1\n");
	if (!strcmp(r->path, MMREFS_WATCH)) {
		/* only waiters are armed, each mm in one slot at most */
		if (!watch_parse(text, &ws))
			return false;
		for (i = 0; i < ws.slots; i++) {
			for (j = 0; j < i && ws.pid[i]; j++)
				if (ws.pid[j] == ws.pid[i])
					return false;
			for (j = 0; j < NR_WAITERS && ws.pid[i] &&
			     w[j] != ws.pid[i]; j++)
				;
			if (j == NR_WAITERS)
				return false;
		}
		return true;
	}
	/* only the mms some writer may select: never all */
	if (!strcmp(r->path, MMREFS_HOLDERS))
		return !holders_scan(text, r->conc->holders_ok, 3, NULL, NULL);
	if (!strcmp(r->path, BORROW_CONTROL)) {
		if (!borrow_list(text, pid, mode, &n, BORROW_MAX))
			return false;
		for (i = 0; i < n; i++) {
			for (j = 0; j < NR_WAITERS && w[j] != pid[i]; j++)
				;
			if (j == NR_WAITERS)
				return false;
		}
		return true;
	}
	/* mms, history and stats: complete lines of key=value text */
	return *text && text[strlen(text) - 1] == '\n';
}

void *reader_run(void *arg)
{
	struct reader *r = arg;
	size_t size = 1 << 20;
	char *buf = malloc(size);
	ssize_t n;

	if (!buf) {
		r->failures++;
		return NULL;
	}
	while (!__atomic_load_n(&r->conc->stop, __ATOMIC_RELAXED)) {
		n = r->one_read ? read_once(r->path, buf, size) :
		    read_path(r->path, buf, size);
		r->reads++;
		if (n < 0 || !reader_check(r, buf)) {
			if (r->failures++ < 5)
				fprintf(stderr, "# fuzz: read of %s (%zd) gives \"%s\"\n",
					r->path, n, n < 0 ? "" : quote(buf, n));
		}
	}
	free(buf);
	return NULL;
}
