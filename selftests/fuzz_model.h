/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmrefs_fuzz's model of every writable debugfs file: the interface spec
 * (Documentation/interface.rst and the borrower's header comment) in code. For each write
 * it says what result the kernel must return, and for an accepted one
 * what state it leaves: filter's and enable's value, the borrower's list,
 * watch's slots and stack, holders' selection. The numbers are parsed
 * with libc's strtoull() behind a thin wrapper that keeps kstrto*()'s
 * rules (see fuzz_model.c). Also the state of one writer (struct
 * fuzzer), which the generator and the checks share.
 */
#ifndef FUZZ_MODEL_H
#define FUZZ_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "fuzz_gen.h"
#include "mmrefs_util.h"

/* The kernel's buffers: anything this long or longer is EINVAL. */
#define FILTER_SIZE		32	/* filter_write() */
#define FILTER_WORD		24	/* mmrefs_filter_set(): TASK_COMM_LEN + 8 */
#define ENABLE_SIZE		8	/* enable_write() */
#define BORROW_SIZE		64	/* BORROW_CMD_MAX */
#define BORROW_MAX		32
#define WATCH_SIZE		32	/* watch_write() */
#define WATCH_WORD		24	/* mmrefs_watch_command() */
#define WATCH_SLOTS_MAX		4	/* HBP_NUM: one register per mm at most */
#define HOLDERS_SIZE		32	/* holders_write() */
#define COMM_MAX		15	/* TASK_COMM_LEN - 1 */

/* A hold this long outlives any test; shorter ones are released at once. */
#define HOLD_STABLE_MS		30000

#define NR_WAITERS		4
/* The pids the watch model knows an mm of: the waiters and a twin's two. */
#define NR_KNOWN		(NR_WAITERS + 2)
/* The mms the holders model knows: the waiters', then the fuzzer's own. */
#define NR_OWN_MMS		(NR_WAITERS + 1)
/* An mm id no mm has: ids count up from 1 and are never reused. */
#define NO_MM_ID		1000000000000000000ULL

#define MMREFS_HOLDERS		MMREFS_DIR "/holders"

enum fuzz_file { F_FILTER, F_ENABLE, F_BORROW, F_WATCH, F_HOLDERS, NR_FILES };

extern const char * const file_path[NR_FILES];
extern const char * const file_name[NR_FILES];
extern const size_t file_limit[NR_FILES];

/* An mm the fuzzer owns: its id in mms and its tgid. */
struct own_mm {
	unsigned long long id;
	pid_t tgid;
};

/* The expected result: 0 (accepted) or -errno; any of up to three. */
struct expect {
	int a, b, c;
};

static inline struct expect any_of(int a, int b, int c)
{
	struct expect e = { a, b, c };

	return e;
}

static inline struct expect either(int a, int b)
{
	return any_of(a, b, b);
}

static inline struct expect exactly(int r)
{
	return either(r, r);
}

/* What holders shows: every mm, the one mm=ID or the mms of tgid=N. */
enum holders_kind { H_BAD, H_ALL, H_MM, H_TGID };

struct holders_sel {
	enum holders_kind kind;
	unsigned long long val;		/* the id or the tgid */
};

enum borrow_kind { B_BAD, B_RELEASE_ALL, B_RELEASE, B_GRAB, B_GET, B_LEAK };

struct borrow_cmd {
	enum borrow_kind kind;
	int pid;
	unsigned long long hold;
	bool leak_word;		/* its first word is "leak", valid or not */
};

enum watch_kind { W_BAD, W_CLEAR, W_STACK, W_ARM, W_DISARM };

struct watch_cmd {
	enum watch_kind kind;
	int pid;
	unsigned int stack;
};

/*
 * State shared by the generator, the model and the checks of one writer.
 * Single-writer tests also keep the borrower's list here.
 */
struct fuzzer {
	struct rng rng;
	enum fuzz_file file;
	bool concurrent;		/* valid commands only from a fixed set */
	bool enable_busy;		/* sites listed: enable=0 is refused */
	const pid_t *waiters;
	pid_t pid_max;
	unsigned int max_hold;
	char *scratch;			/* SCRATCH_PAGES RW, then a guard page */
	char *hole;			/* the guard page */
	unsigned long failures, logged;
	unsigned long writes, accepted;
	/* borrower model: held borrows in list order, nleaks of them leaks */
	int nb, nleaks;
	pid_t b_pid[64];
	char b_mode[64][8];
	double b_born[64];
	/* watch model: known pids and their mms, then each slot's pid */
	pid_t known[NR_KNOWN];
	int known_mm[NR_KNOWN];
	int nknown;
	pid_t dead;			/* a reaped child: no such task */
	int w_slots, w_stack;
	pid_t w_pid[WATCH_SLOTS_MAX];	/* 0: free */
	int w_mm[WATCH_SLOTS_MAX];
	/* holders model: the selection, and the mms the fuzzer owns */
	struct holders_sel h_sel;
	struct own_mm own[NR_OWN_MMS];
};

/* Each file's parser: its syntax, whatever the state. */
int model_filter(const char *in, size_t len, char *canon, size_t clen);
int model_enable(const char *in, size_t len, char *canon, size_t clen);
struct borrow_cmd model_borrow(const char *in, size_t len,
			       unsigned int max_hold);
struct watch_cmd model_watch(const char *in, size_t len);
struct holders_sel model_holders(const char *in, size_t len);

/* What the model knows of a pid. */
bool is_waiter(const struct fuzzer *fz, pid_t pid);
bool has_no_mm(const struct fuzzer *fz, pid_t pid);
int known_mm(const struct fuzzer *fz, pid_t pid);

/* The result decided before the parser, or 1 when the parser decides. */
int expect_vfs(enum fuzz_file file, const struct input *in);

/* The borrower: expected result, and the list after an accepted write. */
bool model_leaks_only(const struct fuzzer *fz, pid_t pid);
void model_release(struct fuzzer *fz, pid_t pid);
/* Whether the model has a borrow of pid. */
bool model_holds(const struct fuzzer *fz, pid_t pid);
struct expect borrow_expect(struct fuzzer *fz, const struct input *in,
			    struct borrow_cmd *c);
double borrow_oldest(const struct fuzzer *fz);

/* watch: expected result (false: do not write it), state after it. */
bool watch_expect(struct fuzzer *fz, const struct input *in,
		  struct watch_cmd *c, struct expect *e);
void watch_apply(struct fuzzer *fz, const struct watch_cmd *c);

/* holders: expected result and selection; what a selection shows. */
struct expect holders_expect(const struct input *in, struct holders_sel *c);
const char *holders_sel_name(const struct holders_sel *sel);
bool holders_selects(const struct holders_sel *sel, unsigned long long id,
		     pid_t tgid);

#endif /* FUZZ_MODEL_H */
