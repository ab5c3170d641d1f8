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

#include <linux/list_bl.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>

/*
 * Operations (what happened to the counters) and causes (why).  Each list
 * is written once; it expands into the enum, the names printed by debugfs
 * and the symbol tables of the trace event.
 */
#define MMREFS_OPS(EM, EMe)						\
	EM(SEED, seed) EM(NEW, new) EM(GET, get) EM(PUT, put)		\
	EM(GRAB, grab) EM(USE, use) EM(UNUSE, unuse)			\
	EM(TEARDOWN, teardown) EMe(FREE, free)

#define MMREFS_CAUSES(EM, EMe)						\
	EM(SEED, seed) EM(FORK, fork) EM(EXEC, exec) EM(THREAD, thread)	\
	EM(VFORK, vfork) EM(CLONE_VM, clone_vm) EM(EXIT, exit)		\
	EM(GET_TASK_MM, get_task_mm) EM(MM_ACCESS, mm_access)		\
	EM(PUT, put) EM(ASYNC, async) EM(PROC, proc)			\
	EM(KTHREAD, kthread) EM(TEARDOWN, teardown) EMe(FREE, free)

#define MMREFS_OP_ENUM(a, b)	MMREFS_OP_##a,
#define MMREFS_CAUSE_ENUM(a, b)	MMREFS_CAUSE_##a,

enum mmrefs_op {
	MMREFS_OPS(MMREFS_OP_ENUM, MMREFS_OP_ENUM)
	MMREFS_NR_OPS
};

enum mmrefs_cause {
	MMREFS_CAUSES(MMREFS_CAUSE_ENUM, MMREFS_CAUSE_ENUM)
	MMREFS_NR_CAUSES
};

enum mmrefs_state {
	MMREFS_LIVE,
	MMREFS_TORNDOWN,	/* mm_users hit 0: address space gone */
	MMREFS_FREED,		/* __mmdrop seen: only history remains */
	MMREFS_STALE,		/* address reused: its free was never seen */
};

/* One transition, as kept in history rings and sent to the trace event. */
struct mmrefs_event {
	u64 ts;
	unsigned long site;	/* caller of the hooked function */
	u32 seq;
	pid_t pid;
	pid_t tgid;
	int users_old, users_new;
	int count_old, count_new;
	u16 cpu;
	u8 op;
	u8 cause;
	u8 kthread;
	char comm[TASK_COMM_LEN];
};

/*
 * One tracked mm.  @node and @mm are owned by the hash table (bucket bit
 * lock, RCU for lookups); everything from @state on is protected by @lock.
 * The history ring follows the struct (mmrefs_history slots).
 */
struct mmrefs_mm {
	struct hlist_bl_node node;
	const void *mm;		/* hash key only; see the lifetime rule */
	u64 id;
	u64 born;
	struct rcu_head rcu;
	spinlock_t lock;
	u8 state;
	pid_t tgid;
	char comm[TASK_COMM_LEN];
	int users, count;	/* as seen at the last event */
	int lazy;		/* lazy-TLB part of count then, if known */
	u32 seq;		/* events recorded into the ring */
	u32 ops[MMREFS_NR_OPS];
	/* last values read under task_lock by a reader; see table_refresh() */
	u64 snap_gen;
	int snap_users, snap_count;
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

/* probes.c */
int mmrefs_probes_init(void);
void mmrefs_probes_exit(void);
struct seq_file;
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
