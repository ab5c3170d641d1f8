/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmrefs: who holds every struct mm_struct, and how mm_users/mm_count move.
 *
 * Data flows one way: probes.c turns a hit into (mm, op, cause, old->new)
 * and hands it to table.c, which keeps per-mm state, a per-mm history ring
 * and emits the trace event; debugfs.c only reads table.c's state.
 *
 * Lifetime rule: an mmrefs_mm entry remembers its mm_struct pointer only as
 * a hash key.  It is never dereferenced through the table, because the
 * kernel may have freed it (a missed __mmdrop hit would otherwise turn into
 * a use-after-free).  The struct is only read where something provably
 * pins it: inside a probe whose caller holds a reference, or under
 * task_lock() of a task whose ->mm it is.
 */
#ifndef MMREFS_H
#define MMREFS_H

#include <linux/list.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct seq_file;

/* What happened to the counters.  Names: MMREFS_OP_SYMBOLS. */
enum mmrefs_op {
	MMREFS_OP_SEED,
	MMREFS_OP_NEW,
	MMREFS_OP_GET,
	MMREFS_OP_PUT,
	MMREFS_OP_GRAB,
	MMREFS_OP_USE,
	MMREFS_OP_UNUSE,
	MMREFS_OP_TEARDOWN,
	MMREFS_OP_FREE,
	/* watch mode: one hardware-trapped write, named by its helper */
	MMREFS_OP_MMGET,
	MMREFS_OP_MMGET_NOT_ZERO,
	MMREFS_OP_MMPUT,
	MMREFS_OP_MMGRAB,
	MMREFS_OP_MMDROP,
	MMREFS_OP_LAZY_TLB,
	MMREFS_OP_WRITE,	/* a write mmrefs could not decode */
	MMREFS_OP_WATCH,	/* armed: the starting values */
	MMREFS_OP_UNWATCH,
	MMREFS_NR_OPS,
};

/* Why it happened.  Names: MMREFS_CAUSE_SYMBOLS. */
enum mmrefs_cause {
	MMREFS_CAUSE_SEED,
	MMREFS_CAUSE_FORK,
	MMREFS_CAUSE_EXEC,
	MMREFS_CAUSE_THREAD,
	MMREFS_CAUSE_VFORK,
	MMREFS_CAUSE_CLONE_VM,
	MMREFS_CAUSE_EXIT,
	MMREFS_CAUSE_GET_TASK_MM,
	MMREFS_CAUSE_MM_ACCESS,
	MMREFS_CAUSE_PUT,
	MMREFS_CAUSE_ASYNC,
	MMREFS_CAUSE_PROC,
	MMREFS_CAUSE_KTHREAD,
	MMREFS_CAUSE_TEARDOWN,
	MMREFS_CAUSE_FREE,
	MMREFS_CAUSE_TRAP,	/* a watchpoint hit with no better cause */
	MMREFS_CAUSE_OBSERVER,	/* mmrefs' own watch reference */
	MMREFS_CAUSE_USE_MM,	/* kthread_use_mm()'s use reference */
	MMREFS_CAUSE_KHUGEPAGED,	/* khugepaged's registration reference */
	MMREFS_NR_CAUSES,
};

/*
 * Each name is written once, as a { value, "name" } pair: debugfs prints
 * it and the trace event's __print_symbolic() exports it to user space.
 */
#define MMREFS_OP_SEED_SYM			{ MMREFS_OP_SEED, "seed" }
#define MMREFS_OP_NEW_SYM			{ MMREFS_OP_NEW, "new" }
#define MMREFS_OP_GET_SYM			{ MMREFS_OP_GET, "get" }
#define MMREFS_OP_PUT_SYM			{ MMREFS_OP_PUT, "put" }
#define MMREFS_OP_GRAB_SYM			{ MMREFS_OP_GRAB, "grab" }
#define MMREFS_OP_USE_SYM			{ MMREFS_OP_USE, "use" }
#define MMREFS_OP_UNUSE_SYM			{ MMREFS_OP_UNUSE, "unuse" }
#define MMREFS_OP_TEARDOWN_SYM			{ MMREFS_OP_TEARDOWN, "teardown" }
#define MMREFS_OP_FREE_SYM			{ MMREFS_OP_FREE, "free" }
#define MMREFS_OP_MMGET_SYM			{ MMREFS_OP_MMGET, "mmget" }
#define MMREFS_OP_MMGET_NOT_ZERO_SYM		{ MMREFS_OP_MMGET_NOT_ZERO, "mmget_not_zero" }
#define MMREFS_OP_MMPUT_SYM			{ MMREFS_OP_MMPUT, "mmput" }
#define MMREFS_OP_MMGRAB_SYM			{ MMREFS_OP_MMGRAB, "mmgrab" }
#define MMREFS_OP_MMDROP_SYM			{ MMREFS_OP_MMDROP, "mmdrop" }
#define MMREFS_OP_LAZY_TLB_SYM			{ MMREFS_OP_LAZY_TLB, "lazy_tlb" }
#define MMREFS_OP_WRITE_SYM			{ MMREFS_OP_WRITE, "write" }
#define MMREFS_OP_WATCH_SYM			{ MMREFS_OP_WATCH, "watch" }
#define MMREFS_OP_UNWATCH_SYM			{ MMREFS_OP_UNWATCH, "unwatch" }

#define MMREFS_CAUSE_SEED_SYM			{ MMREFS_CAUSE_SEED, "seed" }
#define MMREFS_CAUSE_FORK_SYM			{ MMREFS_CAUSE_FORK, "fork" }
#define MMREFS_CAUSE_EXEC_SYM			{ MMREFS_CAUSE_EXEC, "exec" }
#define MMREFS_CAUSE_THREAD_SYM			{ MMREFS_CAUSE_THREAD, "thread" }
#define MMREFS_CAUSE_VFORK_SYM			{ MMREFS_CAUSE_VFORK, "vfork" }
#define MMREFS_CAUSE_CLONE_VM_SYM		{ MMREFS_CAUSE_CLONE_VM, "clone_vm" }
#define MMREFS_CAUSE_EXIT_SYM			{ MMREFS_CAUSE_EXIT, "exit" }
#define MMREFS_CAUSE_GET_TASK_MM_SYM		{ MMREFS_CAUSE_GET_TASK_MM, "get_task_mm" }
#define MMREFS_CAUSE_MM_ACCESS_SYM		{ MMREFS_CAUSE_MM_ACCESS, "mm_access" }
#define MMREFS_CAUSE_PUT_SYM			{ MMREFS_CAUSE_PUT, "put" }
#define MMREFS_CAUSE_ASYNC_SYM			{ MMREFS_CAUSE_ASYNC, "async" }
#define MMREFS_CAUSE_PROC_SYM			{ MMREFS_CAUSE_PROC, "proc" }
#define MMREFS_CAUSE_KTHREAD_SYM		{ MMREFS_CAUSE_KTHREAD, "kthread" }
#define MMREFS_CAUSE_TEARDOWN_SYM		{ MMREFS_CAUSE_TEARDOWN, "teardown" }
#define MMREFS_CAUSE_FREE_SYM			{ MMREFS_CAUSE_FREE, "free" }
#define MMREFS_CAUSE_TRAP_SYM			{ MMREFS_CAUSE_TRAP, "trap" }
#define MMREFS_CAUSE_OBSERVER_SYM		{ MMREFS_CAUSE_OBSERVER, "observer" }
#define MMREFS_CAUSE_USE_MM_SYM			{ MMREFS_CAUSE_USE_MM, "use_mm" }
#define MMREFS_CAUSE_KHUGEPAGED_SYM		{ MMREFS_CAUSE_KHUGEPAGED, "khugepaged" }

enum mmrefs_state {
	MMREFS_LIVE,
	MMREFS_TORNDOWN,	/* mm_users hit 0: address space gone */
	MMREFS_FREED,		/* __mmdrop seen: only history remains */
	MMREFS_STALE,		/* address reused: its free was never seen */
};

/* Which counter a watchpoint saw written (mmrefs_event.counter). */
enum mmrefs_counter {
	MMREFS_CTR_NONE,
	MMREFS_CTR_USERS,
	MMREFS_CTR_COUNT,
};

/* One transition, as kept in history rings and sent to the trace event. */
struct mmrefs_event {
	u64 ts;
	/* caller of the hooked function, or the insn after a trapped write */
	unsigned long site;
	u32 seq;
	u32 stack;		/* stack depot handle, 0: none (yet) */
	pid_t pid;
	pid_t tgid;
	int users_old, users_new;
	int count_old, count_new;
	u16 cpu;
	u8 op;
	u8 cause;
	u8 kthread;
	u8 counter;		/* enum mmrefs_counter */
	u8 observer;		/* mmrefs' own references in count_* */
	char comm[TASK_COMM_LEN];
};

/* What a holder record stands for; see holders.c. */
enum mmrefs_hold {
	MMREFS_HOLD_GET,	/* a temporary mmget(): one mm_users */
	MMREFS_HOLD_USE,	/* kthread_use_mm() until unuse: one mm_count */
	MMREFS_HOLD_GRAB,	/* a watched mmgrab(): one mm_count */
	MMREFS_HOLD_BORROWED,	/* used, unused: may hold an unseen mmgrab() */
};

/* One outstanding reference and who took it (fixed size, pooled). */
struct mmrefs_holder {
	struct list_head node;	/* on mmrefs_mm.holders, under its lock */
	u64 since;		/* ktime of the taking event */
	unsigned long site;
	u32 stack;		/* stack depot handle, 0: none */
	u32 seq;		/* the taking event */
	pid_t pid, tgid;
	u8 kind;		/* enum mmrefs_hold */
	u8 kthread;
	char comm[TASK_COMM_LEN];
};

/*
 * One tracked mm.  @node and @mm are owned by the hash table (bucket
 * locks, RCU for lookups); everything from @state on is protected by @lock.
 * The history ring follows the struct (mmrefs_history slots).
 */
struct mmrefs_mm {
	struct hlist_node node;
	const void *mm;		/* hash key only; see the lifetime rule */
	u64 id;
	u64 born;
	struct rcu_head rcu;
	spinlock_t lock;	/* protects the fields below */
	u8 state;
	pid_t tgid;
	char comm[TASK_COMM_LEN];
	int users, count;	/* as seen at the last event */
	int lazy;		/* lazy-TLB part of count then, if known */
	u8 watch;		/* watch slot + 1, 0: not watched */
	u8 observer;		/* mmrefs' own mm_count references */
	u32 seq;		/* events recorded into the ring */
	u64 torndown_at;	/* ktime of the teardown, 0 if none */
	struct list_head holders;	/* struct mmrefs_holder, newest first */
	u32 ops[MMREFS_NR_OPS];
	/* last values read under task_lock by a reader; see table_refresh() */
	u64 snap_gen;
	int snap_users, snap_count;
	int snap_threads;	/* user tasks whose ->mm it is */
	bool snap_khugepaged;	/* registered with khugepaged (MMF_VM_HUGEPAGE) */
	bool over_max;		/* allocated past max_mms for a watch */
	struct mmrefs_event ring[];
};

/* Losses and totals, per CPU so the hot path never shares a cacheline. */
enum mmrefs_stat {
	MMREFS_STAT_EVENTS,
	MMREFS_STAT_FILTERED,
	MMREFS_STAT_TABLE_FULL,
	MMREFS_STAT_ALLOC,
	MMREFS_STAT_UNTRACKED,
	MMREFS_STAT_STALE,
	MMREFS_STAT_WATCH_EVENTS,
	MMREFS_STAT_WATCH_GAPS,	/* a trapped write that did not follow on */
	MMREFS_STAT_WATCH_UNDECODED,
	MMREFS_STAT_STACK_LOST,
	MMREFS_STAT_HOLDERS_LOST,
	MMREFS_STAT_MISUSE_GET_ZERO,	/* mmget() on users 0 */
	MMREFS_STAT_MISUSE_AFTER_FREE,	/* put/drop of a freed mm */
	MMREFS_STAT_MISUSE_NEGATIVE,	/* a counter below 0 */
	MMREFS_NR_STATS,
};

DECLARE_PER_CPU(unsigned long, mmrefs_stats[MMREFS_NR_STATS]);

static inline void mmrefs_count_stat(enum mmrefs_stat s)
{
	this_cpu_inc(mmrefs_stats[s]);
}

unsigned long mmrefs_stat_sum(enum mmrefs_stat s);

extern unsigned int mmrefs_history;

static inline size_t mmrefs_entry_size(void)
{
	return sizeof(struct mmrefs_mm) +
	       mmrefs_history * sizeof(struct mmrefs_event);
}

extern unsigned int mmrefs_retired_max;
extern unsigned int mmrefs_max_mms;

const char *mmrefs_op_name(unsigned int op);
const char *mmrefs_cause_name(unsigned int cause);
const char *mmrefs_state_name(unsigned int state);

/* table.c: per-mm state.  @mm must be pinned by the caller. */
int mmrefs_table_init(void);
void mmrefs_table_exit(void);
void mmrefs_table_seed(void);
void mmrefs_new(const struct mm_struct *mm, struct task_struct *owner,
		enum mmrefs_cause cause, unsigned long site);
void mmrefs_record(const struct mm_struct *mm, enum mmrefs_op op,
		   enum mmrefs_cause cause, unsigned long site,
		   int users_old, int users_new, int count_old, int count_new);
unsigned int mmrefs_table_size(void);
unsigned int mmrefs_table_over_max(void);

/* One trapped write, as watch.c decoded it (see mmrefs_watch_record()). */
struct mmrefs_write {
	enum mmrefs_counter ctr;
	enum { MMREFS_WRITE_DELTA, MMREFS_WRITE_VALUES,
	       MMREFS_WRITE_UNKNOWN } kind;
	int delta;		/* DELTA: by how much, exactly */
	int old, new;		/* VALUES: exactly; filled in for the rest */
	int mem;		/* the counter as the handler read it */
	enum mmrefs_op op;
	enum mmrefs_cause cause;
	unsigned long site;
	u64 id;			/* out: the entry's id and the event's seq */
	u32 seq;		/* (0 if not recorded) */
};

/* table.c: watch mode's side of an entry; see watch.c. */
int mmrefs_watch_prepare(struct mm_struct *mm, struct task_struct *owner);
int mmrefs_watch_attach(struct mm_struct *mm, unsigned int slot);
void mmrefs_watch_detach(struct mm_struct *mm, unsigned long site);
bool mmrefs_watched_values(const struct mmrefs_mm *e, int *users, int *count);
int mmrefs_watch_record(const struct mm_struct *mm, struct mmrefs_write *wr);
void mmrefs_watch_set_stack(const struct mm_struct *mm, u64 id, u32 seq,
			    u32 stack, bool event);
unsigned int mmrefs_retired_count(void);

/* Filter and enable: read locklessly by the hot path. */
int mmrefs_filter_set(const char *buf);
int mmrefs_filter_show(char *buf, size_t len);
extern bool mmrefs_enabled;

/* Iteration for readers: slot < buckets are live, the rest retired. */
unsigned int mmrefs_nr_slots(bool with_retired);
struct mmrefs_mm *mmrefs_slot_entry(unsigned int slot, unsigned int idx);
u64 mmrefs_table_refresh(void);
unsigned int mmrefs_lazy_refs(const void *mm, const void * const *lazy,
			      unsigned int nr);
unsigned int mmrefs_collect_lazy(const void **lazy, unsigned int max);

/* watch.c: hardware data watchpoints on chosen mms' counters */
void mmrefs_watch_init(void);
void mmrefs_watch_exit(void);
int mmrefs_watch_command(const char *buf);
void mmrefs_watch_show(struct seq_file *m);
bool mmrefs_watched(const struct mm_struct *mm);
void mmrefs_watch_hint(const struct mm_struct *mm, enum mmrefs_cause cause,
		       unsigned long site);

/* holders.c: who holds each mm */
extern unsigned int mmrefs_max_holders;
extern unsigned int mmrefs_leak_torndown_ms, mmrefs_leak_kthread_ms;
extern unsigned int mmrefs_leak_get_ms;
extern bool mmrefs_holder_stacks;
int mmrefs_holders_init(void);
void mmrefs_holders_exit(void);
const char *mmrefs_hold_name(unsigned int kind);
u32 mmrefs_stack_from(unsigned long site);
void mmrefs_holders_event(struct mmrefs_mm *e, const struct mmrefs_event *ev,
			  u32 stack);
void mmrefs_holders_release(struct mmrefs_mm *e);
void mmrefs_holders_set_stack(struct mmrefs_mm *e, u32 seq, u32 stack);
unsigned int mmrefs_holders_copy(struct mmrefs_mm *e, struct mmrefs_holder *buf,
				 unsigned int max, unsigned int *total);
unsigned int mmrefs_holders_used(void);
void mmrefs_show_stack(struct seq_file *m, u32 handle, const char *indent);

/* probes.c */
bool mmrefs_transient_get(unsigned long site);
int mmrefs_probes_init(void);
void mmrefs_probes_exit(void);
void mmrefs_probes_show(struct seq_file *m);

/* debugfs.c */
#ifdef CONFIG_DEBUG_FS
int mmrefs_debugfs_init(void);
void mmrefs_debugfs_exit(void);
#else
static inline int mmrefs_debugfs_init(void) { return -ENODEV; }
static inline void mmrefs_debugfs_exit(void) { }
#endif /* CONFIG_DEBUG_FS */

#endif /* MMREFS_H */
