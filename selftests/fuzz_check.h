/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmrefs_fuzz's checks: a writer's setup, the delivery of each write and
 * the check of its result against the model's expectation, the read-back
 * of each file against the model's state (the borrower's list, watch's
 * slots, holders' blocks, filter's and enable's value), the counts kept
 * over every test and process, and the log of what failed.
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "fuzz_model.h"

/* Counted over every test and process: one shared anonymous page. */
struct fuzz_totals {
	unsigned long writes[NR_FILES];
	unsigned long accepted, einval, efault, espipe, enoent, esrch, ebusy;
	unsigned long eexist, enospc;
	unsigned long reads;
};

/* NULL if the page could not be mapped. */
extern struct fuzz_totals *totals;

void count(unsigned long *counter, unsigned long n);
double now_s(void);

/* A writer for file: its stream of the PRNG, the limits, its buffer. */
int fuzzer_init(struct fuzzer *fz, enum fuzz_file file,
		unsigned long long stream, const pid_t *waiters);
void fuzzer_fini(struct fuzzer *fz);

/* Log a failure (the first few), with the write if in is not NULL. */
void fail(struct fuzzer *fz, const struct input *in, const char *fmt, ...);
/* The bytes as a C string literal, shortened. */
const char *quote(const char *p, size_t len);

/* Deliver in, count it, check the result against e; *got: the result. */
void one_write(struct fuzzer *fz, int fd, struct input *in,
	       struct expect e, int *got);
/* Write a fixed command; used for the model's own housekeeping. */
int plain_write(struct fuzzer *fz, int fd, const char *s, struct expect e);
/* The borrower's state after the accepted command c (a short hold is given back). */
void borrow_apply(struct fuzzer *fz, int fd, const struct borrow_cmd *c);
/* Fill the borrower to its limit, so the EBUSY path sees fuzz too. */
void borrow_fill(struct fuzzer *fz, int fd);

ssize_t read_path(const char *path, char *buf, size_t size);
ssize_t pread_all(int fd, char *buf, size_t size);

/* The borrower's list, and its read-back against the model. */
bool borrow_list(const char *text, pid_t *pid, char mode[][8], int *n,
		 int max);
void check_borrows(struct fuzzer *fz, const struct input *in);

/* The watch file, parsed: its stack and each slot's pid (0: free). */
struct watch_state {
	int slots, nfree, stack;
	pid_t pid[WATCH_SLOTS_MAX];
};

bool watch_parse(const char *text, struct watch_state *ws);
void check_watch(struct fuzzer *fz, int rfd, const struct input *in);

const char *holders_scan(const char *text, const struct holders_sel *sel,
			 int nsel, const struct own_mm *own,
			 unsigned int *seen);
void check_holders(struct fuzzer *fz, int rfd, const struct input *in);

/* A valid write of enable=0 (it reaches the module: VFS lets it by). */
bool enable_zero(const struct fuzzer *fz, const struct input *in);
/* One single-writer round on filter or enable, read back. */
void fuzz_setting(struct fuzzer *fz, int wfd, int rfd, char *state,
		  size_t state_len, struct input *in);

#endif /* FUZZ_CHECK_H */
