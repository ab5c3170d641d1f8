/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmrefs: who holds every struct mm_struct, and how mm_users/mm_count move.
 *
 * Data flows one way, and no file calls a file above it:
 *
 *   main.c, debugfs.c   load order; the files, every command parsed once
 *   probes.c            kprobes: each hit becomes a struct mmrefs_change
 *   watch.c             watchpoints: each trapped write a struct mmrefs_write
 *   sites.c             exact mode: a probe at each listed write, the same
 *   write.c             what a write is: decoder, site names, put/get hints
 *   table.c             per-mm state, history rings, filter, trace event
 *   holders.c           who holds each mm (mmrefs_holder_kind(): the rule)
 *   stats.c, names.c    leaves: loss counters, the names of the lists below
 *
 * Readers (debugfs.c) call down into each; nothing below calls back.
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

#include <linux/jump_label.h>
#include <linux/list.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct module;
struct pt_regs;
struct seq_file;

/*
 * Each name is written once, in these lists, with its number (the trace
 * event's value, which trace filters use: never renumber).  Each list is
 * one MMREFS_LIST() argument, and EM()/EM_END() (the last entry) are
 * defined at each use, as in include/trace/events/migrate.h: here for the
 * enums, in names.c and stats.c for the names, in trace/mmrefs.h for the
 * trace event's __print_symbolic(), so perf and trace-cmd decode every
 * value.  The numbers are literals there, so no TRACE_DEFINE_ENUM() is
 * needed; the static_assert()s below check they are the enums' own.
 */
#define MMREFS_LIST(list)	list

/* What happened to the counters. */
#define MMREFS_OPS MMREFS_LIST(						\
	EM(MMREFS_OP_SEED, 0, "seed")					\
	EM(MMREFS_OP_NEW, 1, "new")					\
	EM(MMREFS_OP_GET, 2, "get")					\
	EM(MMREFS_OP_PUT, 3, "put")					\
	EM(MMREFS_OP_GRAB, 4, "grab")					\
	EM(MMREFS_OP_USE, 5, "use")					\
	EM(MMREFS_OP_UNUSE, 6, "unuse")					\
	EM(MMREFS_OP_TEARDOWN, 7, "teardown")				\
	EM(MMREFS_OP_FREE, 8, "free")					\
	/* watch mode: one trapped write, named by its helper */	\
	EM(MMREFS_OP_MMGET, 9, "mmget")					\
	EM(MMREFS_OP_MMGET_NOT_ZERO, 10, "mmget_not_zero")		\
	EM(MMREFS_OP_MMPUT, 11, "mmput")				\
	EM(MMREFS_OP_MMGRAB, 12, "mmgrab")				\
	EM(MMREFS_OP_MMDROP, 13, "mmdrop")				\
	EM(MMREFS_OP_LAZY_TLB, 14, "lazy_tlb")				\
	/* a trapped write mmrefs could not decode */			\
	EM(MMREFS_OP_WRITE, 15, "write")				\
	/* armed (the starting values), disarmed */			\
	EM(MMREFS_OP_WATCH, 16, "watch")				\
	EM(MMREFS_OP_UNWATCH, 17, "unwatch")				\
	/* writes unseen: a CPU came online unwatched, or enable=0 */	\
	EM_END(MMREFS_OP_GAP, 18, "gap"))

/* Why it happened. */
#define MMREFS_CAUSES MMREFS_LIST(					\
	EM(MMREFS_CAUSE_SEED, 0, "seed")				\
	EM(MMREFS_CAUSE_FORK, 1, "fork")				\
	EM(MMREFS_CAUSE_EXEC, 2, "exec")				\
	EM(MMREFS_CAUSE_THREAD, 3, "thread")				\
	EM(MMREFS_CAUSE_VFORK, 4, "vfork")				\
	EM(MMREFS_CAUSE_CLONE_VM, 5, "clone_vm")			\
	EM(MMREFS_CAUSE_EXIT, 6, "exit")				\
	EM(MMREFS_CAUSE_GET_TASK_MM, 7, "get_task_mm")			\
	EM(MMREFS_CAUSE_MM_ACCESS, 8, "mm_access")			\
	EM(MMREFS_CAUSE_PUT, 9, "put")					\
	EM(MMREFS_CAUSE_ASYNC, 10, "async")				\
	EM(MMREFS_CAUSE_PROC, 11, "proc")				\
	EM(MMREFS_CAUSE_KTHREAD, 12, "kthread")				\
	EM(MMREFS_CAUSE_TEARDOWN, 13, "teardown")			\
	EM(MMREFS_CAUSE_FREE, 14, "free")				\
	/* a watchpoint hit with no better cause */			\
	EM(MMREFS_CAUSE_TRAP, 15, "trap")				\
	/* mmrefs' own watch reference */				\
	EM(MMREFS_CAUSE_OBSERVER, 16, "observer")			\
	/* kthread_use_mm()'s use reference */				\
	EM(MMREFS_CAUSE_USE_MM, 17, "use_mm")				\
	/* khugepaged's registration reference */			\
	EM(MMREFS_CAUSE_KHUGEPAGED, 18, "khugepaged")			\
	EM(MMREFS_CAUSE_HOTPLUG, 19, "hotplug")				\
	/* a site probe's write with no better cause (exact mode) */	\
	EM_END(MMREFS_CAUSE_SITE, 20, "site"))

/* Which counter a watchpoint saw written (mmrefs_event.counter). */
#define MMREFS_COUNTERS MMREFS_LIST(					\
	EM(MMREFS_CTR_NONE, 0, "-")					\
	EM(MMREFS_CTR_USERS, 1, "users")				\
	EM_END(MMREFS_CTR_COUNT, 2, "count"))

/* Where an entry is in its mm's life. */
#define MMREFS_STATES MMREFS_LIST(					\
	EM(MMREFS_LIVE, 0, "live")					\
	/* mm_users hit 0: address space gone */			\
	EM(MMREFS_TORNDOWN, 1, "torndown")				\
	/* __mmdrop seen: only history remains */			\
	EM(MMREFS_FREED, 2, "freed")					\
	/* address reused: its free was never seen */			\
	EM_END(MMREFS_STALE, 3, "stale"))

/* What a holder record stands for; see holders.c. */
#define MMREFS_HOLDS MMREFS_LIST(					\
	/* a temporary mmget(): one mm_users */				\
	EM(MMREFS_HOLD_GET, 0, "mmget")					\
	/* kthread_use_mm() until unuse: one mm_count */		\
	EM(MMREFS_HOLD_USE, 1, "use")					\
	/* a watched mmgrab(): one mm_count */				\
	EM(MMREFS_HOLD_GRAB, 2, "mmgrab")				\
	/* used, unused: may hold an unseen mmgrab() */			\
	EM_END(MMREFS_HOLD_BORROWED, 3, "borrowed"))

#define EM(a, n, b)		a,
#define EM_END(a, n, b)		a,
enum mmrefs_op { MMREFS_OPS MMREFS_NR_OPS };
enum mmrefs_cause { MMREFS_CAUSES MMREFS_NR_CAUSES };
enum mmrefs_counter { MMREFS_COUNTERS };
enum mmrefs_state { MMREFS_STATES };
enum mmrefs_hold { MMREFS_HOLDS };
#undef EM
#undef EM_END

/* Every number in @list is its enum's value (a build error otherwise). */
#define EM(a, n, b)		-((a) != (n))
#define EM_END(a, n, b)		-((a) != (n))
static_assert((0 MMREFS_OPS) == 0);
static_assert((0 MMREFS_CAUSES) == 0);
static_assert((0 MMREFS_COUNTERS) == 0);
static_assert((0 MMREFS_STATES) == 0);
static_assert((0 MMREFS_HOLDS) == 0);
#undef EM
#undef EM_END

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
	u8 transient;		/* see mmrefs_change */
	char comm[TASK_COMM_LEN];
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

/* How an entry's exact chains began (exact mode, sites.c). */
enum mmrefs_exact {
	MMREFS_EXACT_NO,
	MMREFS_EXACT_BIRTH,	/* at mm_alloc()/dup_mm(): 1 and 1 */
	MMREFS_EXACT_SAMPLED,	/* read at a site's first write, or by a reader */
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
	raw_spinlock_t lock;	/* protects the fields below */
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
	u8 exact;		/* enum mmrefs_exact: how the chains began */
	unsigned int exact_gen;	/* exact while the current exact mode's */
	/*
	 * A watched mm's longer ring (watch_history slots), set when its
	 * first watch is armed and kept until the entry is freed; it then
	 * replaces @ring.  See mmrefs_ring_event().
	 */
	struct mmrefs_event *wring;
	struct mmrefs_event ring[];
};

/* Losses and totals, per CPU so the hot path never shares a cacheline. */
#define MMREFS_STATS MMREFS_LIST(					\
	EM(MMREFS_STAT_EVENTS, 0, "events")				\
	EM(MMREFS_STAT_FILTERED, 1, "filtered")				\
	EM(MMREFS_STAT_TABLE_FULL, 2, "lost_table_full")		\
	EM(MMREFS_STAT_ALLOC, 3, "lost_alloc")				\
	/* a failed entry allocation: a loss only as lost_alloc */	\
	EM(MMREFS_STAT_ALLOC_FAILED, 4, "alloc_failed")		\
	EM(MMREFS_STAT_UNTRACKED, 5, "untracked")			\
	EM(MMREFS_STAT_STALE, 6, "stale")				\
	EM(MMREFS_STAT_WATCH_EVENTS, 7, "watch_events")			\
	/* a trapped write that did not follow on */			\
	EM(MMREFS_STAT_WATCH_GAPS, 8, "watch_gaps")			\
	EM(MMREFS_STAT_WATCH_UNDECODED, 9, "watch_undecoded")		\
	EM(MMREFS_STAT_STACK_LOST, 10, "lost_stack")			\
	EM(MMREFS_STAT_HOLDERS_LOST, 11, "lost_holders")		\
	/* given up in NMI context: a lock not had (table.c) */	\
	EM(MMREFS_STAT_NMI_LOCK_LOST, 12, "lost_nmi_lock")		\
	/* mmget() on users 0 */					\
	EM(MMREFS_STAT_MISUSE_GET_ZERO, 13, "misuse_get_zero")		\
	/* a counter below 0 */						\
	EM(MMREFS_STAT_MISUSE_NEGATIVE, 14, "misuse_negative")		\
	/* a put's or get's hint found on another CPU (write.c) */	\
	EM(MMREFS_STAT_HINT_MOVED, 15, "hint_moved")			\
	/* ... not found: the write's own site and cause */		\
	EM_END(MMREFS_STAT_HINT_LOST, 16, "hint_lost"))

#define EM(a, n, b)		a,
#define EM_END(a, n, b)		a,
enum mmrefs_stat { MMREFS_STATS MMREFS_NR_STATS };
#undef EM
#undef EM_END

#define EM(a, n, b)		-((a) != (n))
#define EM_END(a, n, b)		-((a) != (n))
static_assert((0 MMREFS_STATS) == 0);
#undef EM
#undef EM_END

/* stats.c: the leaf every file counts into; it calls nothing of ours. */
DECLARE_PER_CPU(unsigned long, mmrefs_stats[MMREFS_NR_STATS]);

static inline void mmrefs_count_stat(enum mmrefs_stat s)
{
	this_cpu_inc(mmrefs_stats[s]);
}

unsigned long mmrefs_stat_sum(enum mmrefs_stat s);
const char *mmrefs_stat_name(unsigned int s);

/* names.c: the names of the lists above */
const char *mmrefs_op_name(unsigned int op);
const char *mmrefs_cause_name(unsigned int cause);
const char *mmrefs_counter_name(unsigned int counter);
const char *mmrefs_state_name(unsigned int state);
const char *mmrefs_hold_name(unsigned int kind);

extern unsigned int mmrefs_history;
extern unsigned int mmrefs_watch_history;

static inline size_t mmrefs_entry_size(void)
{
	return sizeof(struct mmrefs_mm) +
	       mmrefs_history * sizeof(struct mmrefs_event);
}

/* How many events @e's ring keeps (0: none). */
static inline unsigned int mmrefs_ring_size(const struct mmrefs_mm *e)
{
	return e->wring ? mmrefs_watch_history : mmrefs_history;
}

/* The slot of event @seq (from 1) in @e's ring; the ring must have one. */
static inline struct mmrefs_event *mmrefs_ring_event(struct mmrefs_mm *e,
						     u32 seq)
{
	unsigned int i = (seq - 1) % mmrefs_ring_size(e);

	return e->wring ? &e->wring[i] : &e->ring[i];
}

extern unsigned int mmrefs_retired_max;
extern unsigned int mmrefs_max_mms;

/*
 * One change of an mm's counters as a source saw it: a probe of probes.c
 * fills one in and table.c turns it into an event.  Every decision a
 * source can make when it fires is made there and travels here, so that
 * nothing below ever calls back up.
 */
struct mmrefs_change {
	enum mmrefs_op op;
	enum mmrefs_cause cause;
	unsigned long site;
	int users_old, users_new;
	int count_old, count_new;
	bool transient;		/* a get its caller puts again before it returns */
	int exact_count;	/* an exact mm_count chain moves by this */
};

/* table.c: per-mm state.  @mm must be pinned by the caller. */
int mmrefs_table_init(void);
void mmrefs_table_exit(void);
void mmrefs_table_seed(enum mmrefs_op op);
void mmrefs_new(const struct mm_struct *mm, struct task_struct *owner,
		enum mmrefs_cause cause, unsigned long site);
void mmrefs_record(const struct mm_struct *mm,
		   const struct mmrefs_change *chg);
unsigned int mmrefs_table_size(void);
unsigned int mmrefs_table_over_max(void);

/* An event, for what is attached to it later (a stack): seq 0 if unrecorded. */
struct mmrefs_at {
	u64 id;			/* the entry's */
	u64 ts;			/* the event's, and its holder record's since */
	u32 seq;
};

/* One trapped write, as watch.c decoded it (see mmrefs_watch_record()). */
struct mmrefs_write {
	enum mmrefs_counter ctr;
	enum { MMREFS_WRITE_DELTA, MMREFS_WRITE_VALUES,
	       MMREFS_WRITE_UNKNOWN, MMREFS_WRITE_CMPXCHG } kind;
	int delta;		/* DELTA: by how much, exactly */
	int old, new;		/* VALUES: exactly; filled in for the rest */
	int mem;		/* the counter as the handler read it */
	atomic_t *ptr;		/* CMPXCHG: do old -> new here (sites.c) */
	enum mmrefs_op op;
	enum mmrefs_cause cause;
	unsigned long site;
	struct mmrefs_at at;	/* out: which event it became */
};

/* table.c: exact mode's side (sites.c) */
int mmrefs_site_record(const struct mm_struct *mm, struct mmrefs_write *wr);
bool mmrefs_entry_exact(const struct mmrefs_mm *e);
void mmrefs_table_module_going(const struct module *mod);
bool mmrefs_gone_name(unsigned long site, u64 ts, char *buf, size_t len);
void mmrefs_exact_begin(void);
void mmrefs_exact_end(void);
bool mmrefs_exact_on(void);

/* table.c: watch mode's side of an entry; see watch.c. */
int mmrefs_watch_prepare(struct mm_struct *mm, struct task_struct *owner);
int mmrefs_watch_attach(struct mm_struct *mm, unsigned int slot);
void mmrefs_watch_detach(struct mm_struct *mm, unsigned long site);
bool mmrefs_watched_values(const struct mmrefs_mm *e, int *users, int *count);
int mmrefs_watch_record(const struct mm_struct *mm, struct mmrefs_write *wr);
void mmrefs_watch_gap(const struct mm_struct *mm, unsigned int cpu);
void mmrefs_stack_defer(const struct mm_struct *mm, const struct mmrefs_at *at,
			bool event, unsigned long from);
unsigned int mmrefs_retired_count(void);

/* Filter and enable: read locklessly by the hot path. */
int mmrefs_filter_set(pid_t tgid, const char *comm);
int mmrefs_filter_show(char *buf, size_t len);
void mmrefs_enable(bool on);
void mmrefs_table_idle(void);
extern bool mmrefs_enabled;

/* Iteration for readers: slot < buckets are live, the rest retired. */
unsigned int mmrefs_nr_slots(bool with_retired);
struct mmrefs_mm *mmrefs_slot_entry(unsigned int slot, unsigned int idx);
u64 mmrefs_table_refresh(void);
unsigned int mmrefs_lazy_refs(const void *mm, const void * const *lazy,
			      unsigned int nr);
unsigned int mmrefs_collect_lazy(const void **lazy, unsigned int max);

/* write.c: what one write of a counter is (watch.c, sites.c) */
enum mmrefs_insn_kind {
	MMREFS_INSN_NONE, MMREFS_INSN_INC, MMREFS_INSN_DEC, MMREFS_INSN_ADD,
	MMREFS_INSN_SUB, MMREFS_INSN_CMPXCHG, MMREFS_INSN_XADD,
};

/* A decoded locked read-modify-write: disp(base,index,scale). */
struct mmrefs_insn {
	enum mmrefs_insn_kind kind;
	u8 len;
	u8 reg;			/* cmpxchg/xadd source register */
	s8 base, index;		/* register numbers, -1: none */
	u8 scale;
	int imm;		/* add/sub */
	int disp;
};

/* What a site's function makes of its writes (mmrefs_site_flags()). */
#define MMREFS_SITE_LAZY_INC	BIT(0)	/* a +1 there is a lazy-TLB one */
#define MMREFS_SITE_LAZY_DEC	BIT(1)	/* ... a -1 */
#define MMREFS_SITE_USE_MM	BIT(2)
#define MMREFS_SITE_CLONE	BIT(3)
#define MMREFS_SITE_TEARDOWN	BIT(4)
#define MMREFS_SITE_KHUGEPAGED	BIT(5)
#define MMREFS_SITE_GETTER	BIT(6)	/* get_task_mm(), mm_access() */
#define MMREFS_SITE_KNOWN	BIT(7)

unsigned int mmrefs_insn_decode(const u8 *p, unsigned int avail,
				struct mmrefs_insn *in);
unsigned long mmrefs_insn_reg(struct pt_regs *regs, unsigned int reg);
unsigned long mmrefs_insn_addr(const struct mmrefs_insn *in,
			       struct pt_regs *regs);
int mmrefs_insn_delta(const struct mmrefs_insn *in);
u8 mmrefs_name_flags(const char *name);
u8 mmrefs_site_flags(unsigned long site);
enum mmrefs_op mmrefs_write_op(enum mmrefs_counter ctr,
			       enum mmrefs_insn_kind kind, int delta, u8 flags);
enum mmrefs_cause mmrefs_write_cause(enum mmrefs_op op, u8 flags,
				     const struct mm_struct *mm);

/* What a probe at an out-of-line put or get leaves for the write inside. */
struct mmrefs_hint {
	unsigned long site;	/* the caller */
	unsigned long ret;	/* where its return address is on the stack */
	enum mmrefs_cause cause;
};

/*
 * Only a trapped write (watch.c) or a site probe (sites.c) takes a hint:
 * while neither can fire, the probes leave none.  Each armed watch and
 * each registered site holds the key (mmrefs_hints_want()).
 */
DECLARE_STATIC_KEY_FALSE(mmrefs_hints_wanted);

static inline bool mmrefs_hints_on(void)
{
	return static_branch_unlikely(&mmrefs_hints_wanted);
}

void mmrefs_hints_want(bool on);
void mmrefs_put_hint(const struct mm_struct *mm,
		     const struct mmrefs_hint *hint);
void mmrefs_get_hint(const struct mmrefs_hint *hint);
int mmrefs_hint_take(enum mmrefs_op op, u8 flags, const struct mm_struct *mm,
		     unsigned long sp, struct mmrefs_hint *hint);

/* sites.c: exact mode, a probe at every listed write */
int mmrefs_sites_init(void);
void mmrefs_sites_exit(void);
int mmrefs_sites_write(const char *buf, size_t len, void **state);
int mmrefs_sites_commit(void **state);
void mmrefs_sites_clear(void);
void mmrefs_sites_show(struct seq_file *m);
void mmrefs_sites_stats(struct seq_file *m);
unsigned int mmrefs_sites_listed(void);
void mmrefs_sites_learn(unsigned long site, enum mmrefs_counter ctr,
			const struct mmrefs_insn *in);
unsigned long mmrefs_sites_origin(unsigned long ip);

/* watch.c: hardware data watchpoints on chosen mms' counters */
int mmrefs_watch_init(void);
void mmrefs_watch_exit(void);
int mmrefs_watch_arm(pid_t pid);
int mmrefs_watch_disarm(pid_t pid);
void mmrefs_watch_clear(void);
int mmrefs_watch_stacks(bool on);
void mmrefs_watch_show(struct seq_file *m);
bool mmrefs_watched(const struct mm_struct *mm);
unsigned int mmrefs_watch_armed(void);

/* holders.c: who holds each mm */
extern unsigned int mmrefs_max_holders;
extern unsigned int mmrefs_leak_torndown_ms, mmrefs_leak_kthread_ms;
extern unsigned int mmrefs_leak_get_ms;
extern bool mmrefs_holder_stacks;
int mmrefs_holders_init(void);
void mmrefs_holders_exit(void);
int mmrefs_stacks_init(void);
bool mmrefs_stacks_ready(void);
int mmrefs_holder_kind(enum mmrefs_op op, enum mmrefs_cause cause,
		       bool transient);
bool mmrefs_holder_wants_stack(enum mmrefs_op op, enum mmrefs_cause cause,
			       bool transient);
void mmrefs_holders_event(struct mmrefs_mm *e, const struct mmrefs_event *ev);
void mmrefs_holders_release(struct mmrefs_mm *e);
void mmrefs_holders_set_stack(struct mmrefs_mm *e, u64 since, u32 stack);
unsigned int mmrefs_holders_copy(struct mmrefs_mm *e, struct mmrefs_holder *buf,
				 unsigned int max, unsigned int *total);
unsigned int mmrefs_holders_used(void);
void mmrefs_show_stack(struct seq_file *m, u32 handle, const char *indent);

/* probes.c */
int mmrefs_probes_init(void);
void mmrefs_probes_exit(void);
int mmrefs_probes_arm(bool on);
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
