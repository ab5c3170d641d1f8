// SPDX-License-Identifier: GPL-2.0
/*
 * Per-mm state: the hash table of tracked mms, their history rings, the
 * ring of retired (freed) mms and the recording filter.
 *
 * Locking:
 *  - lookups walk a bucket under RCU; inserts and removals take one of
 *    MMREFS_LOCKS bucket locks (hashed) with interrupts off.  Entries are
 *    freed after a grace period.
 *  - an entry's counters, state and ring are protected by entry->lock.
 *    Readers may take it under task_lock(); nothing here takes task_lock()
 *    under entry->lock.
 *  - NMI context: the watchpoint handler (x86 #DB) and exact mode's int3
 *    site probes take the entry, bucket and reserve locks with lock_any():
 *    a bounded trylock loop there, whose failure is a counted loss.  It
 *    cannot deadlock: no site's write runs under any of these locks (the
 *    one counter write done under entry->lock, a site's emulated cmpxchg,
 *    is of an mm no watchpoint watches), so such an NMI never interrupts a
 *    holder on its own CPU, and holders elsewhere keep them for a few
 *    hundred instructions with interrupts off.
 *  - the retired ring is lock-free: a slot is claimed with xchg() and the
 *    evicted entry is freed after a grace period, so RCU readers can
 *    still look at it.
 *  - the filter is an RCU-published immutable struct; writers serialize
 *    on table_filter_mutex, which is never taken by the hot path.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/hash.h>
#include <linux/irq_work.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/mm_types.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/ratelimit.h>
#include <linux/rculist.h>
#include <linux/sched/coredump.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/stackdepot.h>
#include <linux/stacktrace.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "mmrefs.h"

#define CREATE_TRACE_POINTS
#include "trace/mmrefs.h"

unsigned int mmrefs_history = 32;
module_param_named(history, mmrefs_history, uint, 0444);
MODULE_PARM_DESC(history, "Transitions kept per mm (0..1024, default 32)");

/*
 * A watched mm is the one a user follows, and a busy one (journald: 77
 * writes in 10 s, most of them lazy-TLB moves) outruns the default ring
 * in seconds.  From its first watch on it keeps this many instead, in a
 * ring allocated then (process context) and freed with its entry.
 */
unsigned int mmrefs_watch_history = 1024;
module_param_named(watch_history, mmrefs_watch_history, uint, 0444);
MODULE_PARM_DESC(watch_history, "Transitions kept per watched mm (0..16384, default 1024)");

unsigned int mmrefs_retired_max = 64;
module_param_named(retired, mmrefs_retired_max, uint, 0444);
MODULE_PARM_DESC(retired, "Freed mms whose history stays readable (0..65536, default 64)");

unsigned int mmrefs_max_mms = 65536;
module_param_named(max_mms, mmrefs_max_mms, uint, 0444);
MODULE_PARM_DESC(max_mms, "Most mms tracked at once (64..1048576, default 65536)");

/* Written by debugfs.c's enable, under its control mutex, after the load. */
bool mmrefs_enabled = true;
module_param_named(enable, mmrefs_enabled, bool, 0444);
MODULE_PARM_DESC(enable, "Arm the hooks at load (default), or load idle (0: debugfs enable arms them)");

struct mmrefs_filter {
	pid_t tgid;			/* 0: match by comm */
	char comm[TASK_COMM_LEN];
	struct rcu_head rcu;
};

static struct mmrefs_filter __rcu *table_filter;	/* NULL: record all */
static DEFINE_MUTEX(table_filter_mutex);

#define MMREFS_LOCKS	256
/* trylocks of a lock in NMI context before the event is given up as lost */
#define MMREFS_NMI_TRIES	BIT(20)

/*
 * raw_spin_lock_irqsave() of @lock into @flags; in NMI context (see the
 * top of this file) at most MMREFS_NMI_TRIES trylocks.  True if taken.
 */
#define lock_any(lock, flags)						\
({									\
	raw_spinlock_t *__lock = (lock);				\
	unsigned long *__flags = &(flags);				\
	unsigned int __tries = 0;					\
	bool __taken = true;						\
									\
	if (!in_nmi()) {						\
		raw_spin_lock_irqsave(__lock, *__flags);		\
	} else {							\
		while (!raw_spin_trylock_irqsave(__lock, *__flags)) {	\
			if (++__tries == MMREFS_NMI_TRIES) {		\
				__taken = false;			\
				break;					\
			}						\
			cpu_relax();					\
		}							\
	}								\
	__taken;							\
})
static raw_spinlock_t bucket_locks[MMREFS_LOCKS];
static struct hlist_head *buckets;
static unsigned int bucket_bits;
static struct kmem_cache *entry_cache;
static atomic64_t next_id = ATOMIC64_INIT(0);
static atomic64_t refresh_gen = ATOMIC64_INIT(0);
static atomic_t nr_mms = ATOMIC_INIT(0);
/*
 * Entries a watch got past max_mms: they stay until their mm is freed, so
 * watch after watch can take the table further past max_mms.  Entries
 * without the flag never exceed max_mms (each was allocated within it).
 */
static atomic_t nr_over_max = ATOMIC_INIT(0);

/*
 * Exact mode (sites.c): odd while every listed site is armed.  An entry's
 * chains are exact sums while its exact_gen is the current odd value;
 * any other entry is synced from its counters (entry_sync()) the first
 * time a site or a reader sees it.
 */
static unsigned int exact_gen;

static struct mmrefs_mm **retired;	/* mmrefs_retired_max slots */
static atomic_t retired_head = ATOMIC_INIT(0);
static atomic_t nr_retired = ATOMIC_INIT(0);

static struct hlist_head *bucket_of(const void *mm)
{
	return &buckets[hash_ptr(mm, bucket_bits)];
}

static raw_spinlock_t *lock_of(const void *mm)
{
	return &bucket_locks[hash_ptr(mm, bucket_bits) % MMREFS_LOCKS];
}

/* Caller holds rcu_read_lock() or the bucket lock. */
static struct mmrefs_mm *table_lookup(const void *mm)
{
	struct mmrefs_mm *e;

	hlist_for_each_entry_rcu(e, bucket_of(mm), node)
		if (e->mm == mm)
			return e;
	return NULL;
}

/* Process context or an RCU callback (kvfree() defers a vfree there). */
static void entry_free(struct mmrefs_mm *e)
{
	kvfree(e->wring);
	kmem_cache_free(entry_cache, e);
}

static void entry_free_rcu(struct rcu_head *head)
{
	entry_free(container_of(head, struct mmrefs_mm, rcu));
}

/*
 * Entries for probe context come from a per-CPU reserve on PREEMPT_RT,
 * where even a GFP_NOWAIT allocation may sleep, and in NMI context (an
 * int3 site probe); elsewhere from GFP_NOWAIT, with the reserve behind it.
 * A handler takes one under its CPU's raw lock and, when the reserve runs
 * low, kicks reserve_work (through irq_work, safe anywhere), which refills
 * every CPU's reserve with GFP_KERNEL.  A failed allocation counts in
 * alloc_failed; an mm left without an entry is a counted loss
 * (lost_alloc), never a silent one.
 */
#define RESERVE_MAX	32

struct entry_reserve {
	raw_spinlock_t lock;
	unsigned int nr;
	struct mmrefs_mm *e[RESERVE_MAX];
};

static DEFINE_PER_CPU(struct entry_reserve, entry_reserves);
static struct irq_work reserve_irq;
static struct work_struct reserve_work;

/*
 * Probe context (preemption off).  Outside PREEMPT_RT and NMI context a
 * probe allocates without sleeping, and the reserve is only its fallback:
 * refilling it wakes a worker, which costs every fork far more than the
 * allocation does.
 */
static struct mmrefs_mm *reserve_take(void)
{
	struct entry_reserve *r = this_cpu_ptr(&entry_reserves);
	struct mmrefs_mm *e = NULL;
	unsigned long flags;
	bool low;

	if (!IS_ENABLED(CONFIG_PREEMPT_RT) && !in_nmi()) {
		e = kmem_cache_alloc(entry_cache, GFP_NOWAIT | __GFP_NOWARN);
		if (e)
			return e;
		mmrefs_count_stat(MMREFS_STAT_ALLOC_FAILED);
	}
	if (!lock_any(&r->lock, flags)) {
		mmrefs_count_stat(MMREFS_STAT_NMI_LOCK_LOST);
		return NULL;
	}
	if (r->nr)
		e = r->e[--r->nr];
	low = r->nr < RESERVE_MAX / 2;
	raw_spin_unlock_irqrestore(&r->lock, flags);
	if (low)
		irq_work_queue(&reserve_irq);
	return e;
}

/*
 * With a constructor, init_on_alloc (Debian's default) no longer clears
 * a whole entry, ring included (2.5 KB with history=32), on every fork:
 * the slab clears each object once, when it makes the slab, and
 * entry_alloc() clears the entry's fields.  What a reused entry's ring
 * holds is an earlier entry's events, never read (only slots below ->seq
 * are); a cache with a constructor is never merged, so nothing else's.
 */
static void entry_ctor(void *mem)
{
	memset(mem, 0, mmrefs_entry_size());
}

static void reserve_refill(struct work_struct *work)
{
	struct entry_reserve *r;
	struct mmrefs_mm *e;
	unsigned long flags;
	bool full;
	int cpu;

	for_each_possible_cpu(cpu) {
		r = per_cpu_ptr(&entry_reserves, cpu);
		for (full = false; !full; ) {
			e = kmem_cache_alloc(entry_cache, GFP_KERNEL | __GFP_NOWARN);
			if (!e) {
				mmrefs_count_stat(MMREFS_STAT_ALLOC_FAILED);
				return;	/* the next take kicks us again */
			}
			raw_spin_lock_irqsave(&r->lock, flags);
			full = r->nr == RESERVE_MAX;
			if (!full)
				r->e[r->nr++] = e;
			raw_spin_unlock_irqrestore(&r->lock, flags);
			if (full)
				kmem_cache_free(entry_cache, e);
		}
	}
}

static void reserve_kick(struct irq_work *work)
{
	schedule_work(&reserve_work);
}

static void reserve_drain(void)
{
	struct entry_reserve *r;
	int cpu;

	for_each_possible_cpu(cpu) {
		r = per_cpu_ptr(&entry_reserves, cpu);
		while (r->nr)
			kmem_cache_free(entry_cache, r->e[--r->nr]);
	}
}

/*
 * A new entry, counted against max_mms (@force: past it too, a watched mm
 * must have its entry).  @mem is memory the caller allocated, or NULL to
 * take it from this CPU's reserve (probe context).  On failure @mem is
 * still the caller's.
 */
static struct mmrefs_mm *entry_alloc(struct mmrefs_mm *mem, bool force)
{
	struct mmrefs_mm *e;
	bool over = atomic_inc_return(&nr_mms) > mmrefs_max_mms;

	if (over && !force) {
		atomic_dec(&nr_mms);
		mmrefs_count_stat(MMREFS_STAT_TABLE_FULL);
		return NULL;
	}
	e = mem ?: reserve_take();
	if (!e) {
		atomic_dec(&nr_mms);
		mmrefs_count_stat(MMREFS_STAT_ALLOC);
		return NULL;
	}
	/* The ring needs no clearing: only slots below ->seq are read. */
	memset(e, 0, sizeof(*e));
	e->over_max = over;
	if (over)
		atomic_inc(&nr_over_max);
	raw_spin_lock_init(&e->lock);
	INIT_LIST_HEAD(&e->holders);
	e->id = atomic64_inc_return(&next_id);
	e->born = ktime_get_ns();
	return e;
}

/* @e leaves the count of tracked mms. */
static void entry_uncount(const struct mmrefs_mm *e)
{
	atomic_dec(&nr_mms);
	if (e->over_max)
		atomic_dec(&nr_over_max);
}

/* An entry that never made it into the table. */
static void entry_discard(struct mmrefs_mm *e)
{
	entry_uncount(e);
	kmem_cache_free(entry_cache, e);
}

/*
 * Keep a freed (or stale) entry's history readable: it takes the next
 * retired slot and the entry it evicts goes after a grace period.
 */
static void entry_retire(struct mmrefs_mm *e)
{
	struct mmrefs_mm *old;
	unsigned int slot;

	entry_uncount(e);
	if (!mmrefs_retired_max) {
		call_rcu(&e->rcu, entry_free_rcu);
		return;
	}
	slot = (unsigned int)atomic_inc_return(&retired_head) %
	       mmrefs_retired_max;
	old = xchg(&retired[slot], e);
	if (old)
		call_rcu(&old->rcu, entry_free_rcu);
	else
		atomic_inc(&nr_retired);
}

/* Retire @e, unhashed, whose free will never be seen. */
static void entry_stale(struct mmrefs_mm *e)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&e->lock, flags);
	e->state = MMREFS_STALE;
	mmrefs_holders_release(e);
	raw_spin_unlock_irqrestore(&e->lock, flags);
	entry_retire(e);
}

/*
 * Hash @e under @mm.  With @replace, an entry already there belongs to an
 * mm whose free we never saw (the address was reused): it is retired as
 * stale, so the new mm gets a new id.  Without @replace (seeding) an
 * existing entry wins and @e is not inserted.
 */
static bool entry_insert(struct mmrefs_mm *e, const void *mm, bool replace)
{
	raw_spinlock_t *lock = lock_of(mm);
	struct mmrefs_mm *old;
	unsigned long flags;

	e->mm = mm;
	if (!lock_any(lock, flags)) {
		/* an int3 site probe's new entry (NMI context): given up */
		mmrefs_count_stat(MMREFS_STAT_NMI_LOCK_LOST);
		return false;
	}
	old = table_lookup(mm);
	if (old && !replace) {
		raw_spin_unlock_irqrestore(lock, flags);
		return false;
	}
	if (old)
		hlist_del_init_rcu(&old->node);
	hlist_add_head_rcu(&e->node, bucket_of(mm));
	raw_spin_unlock_irqrestore(lock, flags);

	if (old) {
		mmrefs_count_stat(MMREFS_STAT_STALE);
		entry_stale(old);
	}
	return true;
}

static void entry_unhash(struct mmrefs_mm *e)
{
	raw_spinlock_t *lock = lock_of(e->mm);
	unsigned long flags;
	bool was_hashed;

	raw_spin_lock_irqsave(lock, flags);
	was_hashed = !hlist_unhashed(&e->node);
	if (was_hashed)
		hlist_del_init_rcu(&e->node);
	raw_spin_unlock_irqrestore(lock, flags);
	if (was_hashed)
		entry_retire(e);
}

static struct task_struct *cpu_current(int cpu)
{
#ifdef MMREFS_PCPU_HOT
	return per_cpu(pcpu_hot.current_task, cpu);
#else
	return per_cpu(current_task, cpu);
#endif
}

/*
 * Lazy-TLB references to @mm right now (see mmrefs_collect_lazy()).
 * Caller holds rcu_read_lock().
 */
static int lazy_now(const void *mm)
{
	struct task_struct *p;
	int cpu, refs = 0;

	for_each_online_cpu(cpu) {
		p = cpu_current(cpu);
		refs += p && !READ_ONCE(p->mm) && READ_ONCE(p->active_mm) == mm;
	}
	return refs;
}

static bool entry_exact(const struct mmrefs_mm *e)
{
	unsigned int gen = READ_ONCE(exact_gen);

	return (gen & 1) && e->exact_gen == gen;
}

/* For readers, of their copy of an entry. */
bool mmrefs_entry_exact(const struct mmrefs_mm *e)
{
	return entry_exact(e);
}

/*
 * Start @e's exact chains from @mm's counters, read now: mm_users as it
 * is, mm_count without the lazy-TLB references (no site probes those).
 * Caller holds e->lock and pins @mm; every write whose site fires after
 * this waits for the lock, so none is counted twice or missed (see
 * mmrefs_exact_begin()).
 */
static void entry_sync(struct mmrefs_mm *e, const struct mm_struct *mm,
		       enum mmrefs_exact how)
{
	lockdep_assert_held(&e->lock);
	e->users = atomic_read(&mm->mm_users);
	e->count = atomic_read(&mm->mm_count) - lazy_now(mm);
	e->lazy = 0;
	e->exact = how;
	e->exact_gen = READ_ONCE(exact_gen);
}

/* Caller is in an RCU read-side section (probe handlers run preempt-off). */
static bool table_filter_match(const struct mmrefs_mm *e)
{
	const struct mmrefs_filter *f = rcu_dereference(table_filter);

	if (!f)
		return true;
	if (f->tgid)
		return e->tgid == f->tgid || current->tgid == f->tgid;
	return !strncmp(e->comm, f->comm, TASK_COMM_LEN) ||
	       !strncmp(current->comm, f->comm, TASK_COMM_LEN);
}

static void event_fill(struct mmrefs_event *ev, enum mmrefs_op op,
		       enum mmrefs_cause cause, unsigned long site)
{
	/* the one clock that is safe in NMI context too */
	ev->ts = ktime_get_mono_fast_ns();
	ev->site = site;
	ev->stack = 0;
	ev->pid = current->pid;
	ev->tgid = current->tgid;
	ev->cpu = raw_smp_processor_id();
	ev->op = op;
	ev->cause = cause;
	ev->kthread = !!(current->flags & PF_KTHREAD);
	ev->counter = MMREFS_CTR_NONE;
	ev->observer = 0;
	ev->transient = 0;
	memcpy(ev->comm, current->comm, TASK_COMM_LEN);
}

/*
 * Misuse is judged only from values that prove it: a watched write's,
 * whose old value is its counter's exact chain (mmrefs_watch_record()).
 * A probe's values are samples read around the write (an exiting task's
 * mmput() may land between a get_task_mm() and its return probe), so
 * they never raise an alarm.  The report is made outside every lock and
 * outside #DB: the handler fills this CPU's slot (stack included) and an
 * irq_work prints it, message and stack as one rate-limited unit.
 */
struct misuse_report {
	u64 id;
	struct mmrefs_event ev;
	enum mmrefs_stat kind;
	unsigned int nr;
	unsigned long entries[16];
	struct irq_work work;
	atomic_t busy;
};

static DEFINE_PER_CPU(struct misuse_report, misuse_reports);
static DEFINE_RATELIMIT_STATE(misuse_ratelimit, 5 * HZ, 10);

static void misuse_print(struct irq_work *work)
{
	struct misuse_report *r = container_of(work, struct misuse_report,
					       work);
	const struct mmrefs_event *ev = &r->ev;

	if (__ratelimit(&misuse_ratelimit)) {
		if (r->kind == MMREFS_STAT_MISUSE_GET_ZERO)
			pr_warn("mm id=%llu: mmget() at %pS by %s[%d] with mm_users 0: use mmget_not_zero()\n",
				r->id, (void *)ev->site, ev->comm, ev->pid);
		else
			pr_warn("mm id=%llu: %s at %pS by %s[%d] takes a counter below 0 (users %d->%d count %d->%d)\n",
				r->id, mmrefs_op_name(ev->op),
				(void *)ev->site, ev->comm, ev->pid,
				ev->users_old, ev->users_new,
				ev->count_old, ev->count_new);
		stack_trace_print(r->entries, r->nr, 0);
	}
	atomic_set_release(&r->busy, 0);
}

/* The misuse @ev proves, if any; caller holds e->lock.  NMI-safe. */
static enum mmrefs_stat watch_misuse(const struct mmrefs_event *ev)
{
	if (ev->op == MMREFS_OP_MMGET && ev->users_old == 0)
		return MMREFS_STAT_MISUSE_GET_ZERO;
	if (ev->users_new < 0 || ev->count_new < 0)
		return MMREFS_STAT_MISUSE_NEGATIVE;
	return MMREFS_NR_STATS;
}

/* Count @kind and queue its report; no lock held, any context. */
static void misuse_report(u64 id, const struct mmrefs_event *ev,
			  enum mmrefs_stat kind)
{
	struct misuse_report *r = this_cpu_ptr(&misuse_reports);

	mmrefs_count_stat(kind);
	/* one report in flight per CPU: a second is counted, not printed */
	if (atomic_cmpxchg_acquire(&r->busy, 0, 1))
		return;
	r->id = id;
	r->ev = *ev;
	r->kind = kind;
	r->nr = stack_trace_save(r->entries, ARRAY_SIZE(r->entries), 0);
	irq_work_queue(&r->work);
}

/*
 * Apply @ev to @e and, with @record, number it and keep it in the ring;
 * then its effect on the holders.
 */
static void entry_apply(struct mmrefs_mm *e, struct mmrefs_event *ev,
			bool record)
{
	lockdep_assert_held(&e->lock);
	/* the owner's leader acting names the mm: comm follows exec */
	if (ev->pid == e->tgid && !ev->kthread)
		memcpy(e->comm, ev->comm, TASK_COMM_LEN);
	e->users = ev->users_new;
	e->count = ev->count_new;
	e->ops[ev->op]++;
	if (ev->op == MMREFS_OP_TEARDOWN) {
		e->state = MMREFS_TORNDOWN;
		e->torndown_at = ev->ts;
	} else if (ev->op == MMREFS_OP_FREE) {
		e->state = MMREFS_FREED;
	}
	ev->seq = 0;
	if (record) {
		ev->seq = ++e->seq;
		if (mmrefs_ring_size(e))
			*mmrefs_ring_event(e, ev->seq) = *ev;
	}
	mmrefs_holders_event(e, ev);
}

static void entry_emit(struct mmrefs_mm *e, struct mmrefs_event *ev,
		       bool record)
{
	if (!record)
		return;
	trace_mmrefs_event(e->id, ev);
	mmrefs_count_stat(MMREFS_STAT_EVENTS);
}

static void entry_event(struct mmrefs_mm *e, const struct mmrefs_change *chg)
{
	enum mmrefs_op op = chg->op;
	bool record = true;
	struct mmrefs_event ev;
	struct mmrefs_at at;
	unsigned long flags;
	int lazy = 0;

	/*
	 * After these the mm may have no task left to read it through, and
	 * the lazy-TLB references counted now go away without an event.
	 * Remember them, so readers can show count = the rest + lazy refs
	 * at read time.
	 */
	if (op == MMREFS_OP_TEARDOWN || op == MMREFS_OP_USE ||
	    op == MMREFS_OP_UNUSE || chg->cause == MMREFS_CAUSE_EXIT)
		lazy = lazy_now(e->mm);

	event_fill(&ev, op, chg->cause, chg->site);
	ev.users_old = chg->users_old;
	ev.users_new = chg->users_new;
	ev.count_old = chg->count_old;
	ev.count_new = chg->count_new;
	ev.transient = chg->transient;

	raw_spin_lock_irqsave(&e->lock, flags);
	/*
	 * A watched mm's counters move only with its trapped writes
	 * (mmrefs_watch_record()), an exact one's with its site probes
	 * (mmrefs_site_record()): a probe's get, put or grab is that same
	 * write seen a second time, and the other probe events keep the
	 * chains, so each counter's sequence stays gapless.
	 */
	if (e->watch || entry_exact(e)) {
		if (op == MMREFS_OP_GET || op == MMREFS_OP_PUT ||
		    op == MMREFS_OP_GRAB) {
			raw_spin_unlock_irqrestore(&e->lock, flags);
			return;
		}
		ev.users_old = e->users;
		ev.users_new = e->users;
		ev.count_old = e->count;
		ev.count_new = e->count;
		if (!e->watch)
			ev.count_new += chg->exact_count;
		ev.observer = e->observer;
	} else {
		record = table_filter_match(e);
		/*
		 * __mmput()'s mmdrop() of the users' reference is the
		 * teardown's count_old->count_old-1; if it was the last, the
		 * free that follows is that same decrement: 0->0, so the
		 * deltas sum to 0, not -1.
		 */
		if (op == MMREFS_OP_FREE && e->count == 0 &&
		    e->state == MMREFS_TORNDOWN)
			ev.count_old = 0;
	}
	e->lazy = lazy;
	entry_apply(e, &ev, record);
	raw_spin_unlock_irqrestore(&e->lock, flags);

	if (mmrefs_holder_wants_stack(op, chg->cause, chg->transient)) {
		at.id = e->id;
		at.ts = ev.ts;
		at.seq = ev.seq;
		mmrefs_stack_defer(e->mm, &at, false, chg->site);
	}
	if (!record)
		mmrefs_count_stat(MMREFS_STAT_FILTERED);
	entry_emit(e, &ev, record);
}

/*
 * A new mm (fork's dup_mm, exec's mm_alloc): @mm is pinned by @owner.  In
 * exact mode a site may have seen the new mm first (fork's khugepaged
 * registration, a failed fork's mmput()): that entry is this mm's, synced
 * from its first write, and keeps its chains.
 */
void mmrefs_new(const struct mm_struct *mm, struct task_struct *owner,
		enum mmrefs_cause cause, unsigned long site)
{
	struct mmrefs_change chg = {
		.op = MMREFS_OP_NEW, .cause = cause, .site = site,
	};
	struct mmrefs_mm *e;
	unsigned long flags;

	/* a return probe in flight past enable=0 (mmrefs_probes_arm()) */
	if (!READ_ONCE(mmrefs_enabled))
		return;
	/* only an exact site can have seen the mm before its birth */
	rcu_read_lock();
	e = READ_ONCE(exact_gen) & 1 ? table_lookup(mm) : NULL;
	if (e && entry_exact(e)) {
		raw_spin_lock_irqsave(&e->lock, flags);
		e->tgid = owner->tgid;
		strscpy_pad(e->comm, owner->comm, sizeof(e->comm));
		raw_spin_unlock_irqrestore(&e->lock, flags);
		entry_event(e, &chg);
		rcu_read_unlock();
		return;
	}
	rcu_read_unlock();
	e = entry_alloc(NULL, false);
	if (!e)
		return;
	e->tgid = owner->tgid;
	/* as event_fill(): comm[TASK_COMM_LEN - 1] is always NUL */
	memcpy(e->comm, owner->comm, TASK_COMM_LEN);
	chg.users_new = atomic_read(&mm->mm_users);
	chg.count_new = atomic_read(&mm->mm_count);
	rcu_read_lock();
	entry_insert(e, mm, true);
	entry_event(e, &chg);
	/*
	 * nothing else knew the mm before: these are its first values (the
	 * lock only in exact mode, where a site may have synced it already)
	 */
	if (READ_ONCE(exact_gen) & 1) {
		raw_spin_lock_irqsave(&e->lock, flags);
		if ((READ_ONCE(exact_gen) & 1) && !entry_exact(e)) {
			e->exact = MMREFS_EXACT_BIRTH;
			e->exact_gen = READ_ONCE(exact_gen);
		}
		raw_spin_unlock_irqrestore(&e->lock, flags);
	}
	rcu_read_unlock();
}

/*
 * A transition of a tracked mm.  The free retires the entry: from here on
 * the pointer is only a dead key and the history stays in the retired ring.
 */
void mmrefs_record(const struct mm_struct *mm,
		   const struct mmrefs_change *chg)
{
	struct mmrefs_mm *e;

	if (!READ_ONCE(mmrefs_enabled))
		return;
	rcu_read_lock();
	e = table_lookup(mm);
	if (!e) {
		rcu_read_unlock();
		mmrefs_count_stat(MMREFS_STAT_UNTRACKED);
		return;
	}
	entry_event(e, chg);
	if (chg->op == MMREFS_OP_FREE)
		entry_unhash(e);
	rcu_read_unlock();
}

/*
 * The entry of @mm, created if missing.  Process context; @mm is pinned by
 * the caller (watch.c's observer reference), so the entry found cannot be
 * retired under us: that takes a free or the address being reused.
 */
static struct mmrefs_mm *entry_get(struct mm_struct *mm,
				   struct task_struct *owner)
{
	struct mmrefs_mm *e, *n, *mem;

	for (;;) {
		rcu_read_lock();
		e = table_lookup(mm);
		rcu_read_unlock();
		if (e)
			return e;
		mem = kmem_cache_alloc(entry_cache, GFP_KERNEL | __GFP_NOWARN);
		n = mem ? entry_alloc(mem, true) : NULL;
		if (!n) {
			if (mem) {
				kmem_cache_free(entry_cache, mem);
			} else {
				mmrefs_count_stat(MMREFS_STAT_ALLOC_FAILED);
				mmrefs_count_stat(MMREFS_STAT_ALLOC);
			}
			return NULL;
		}
		n->tgid = owner->tgid;
		get_task_comm(n->comm, owner);
		if (entry_insert(n, mm, false))
			return n;
		entry_discard(n);
	}
}

/*
 * The entry a watch of @mm will use, created if missing.  Process context;
 * returns -ENOMEM if it cannot be had.
 */
int mmrefs_watch_prepare(struct mm_struct *mm, struct task_struct *owner)
{
	struct mmrefs_event *wring = NULL;
	struct mmrefs_mm *e;
	unsigned long flags;
	u32 seq;

	if (mmrefs_watch_history > mmrefs_history) {
		wring = kvcalloc(mmrefs_watch_history, sizeof(*wring),
				 GFP_KERNEL_ACCOUNT);
		if (!wring)
			return -ENOMEM;
	}
	/* pinned by the observer reference: @e stays, see entry_get() */
	e = entry_get(mm, owner);
	if (e && wring) {
		raw_spin_lock_irqsave(&e->lock, flags);
		if (!e->wring) {
			/* the events so far move along, in their slots */
			for (seq = e->seq > mmrefs_history ?
			     e->seq - mmrefs_history + 1 : 1;
			     mmrefs_history && seq <= e->seq; seq++)
				wring[(seq - 1) % mmrefs_watch_history] =
					*mmrefs_ring_event(e, seq);
			e->wring = wring;
			wring = NULL;
		}
		raw_spin_unlock_irqrestore(&e->lock, flags);
	}
	kvfree(wring);
	return e ? 0 : -ENOMEM;
}

/*
 * Start watching @mm: its breakpoints are armed, so from the values read
 * here on every write is a trapped event.  Called with every other CPU
 * stopped (stop_machine()), so no trapped write is half handled: each
 * one before is in the values read, each one after finds the watch.
 * Returns -EEXIST if it already is watched, -ENOENT without an entry.
 */
int mmrefs_watch_attach(struct mm_struct *mm, unsigned int slot)
{
	struct mmrefs_event ev;
	struct mmrefs_mm *e;
	unsigned long flags;

	rcu_read_lock();
	e = table_lookup(mm);
	if (!e) {
		rcu_read_unlock();
		return -ENOENT;
	}
	event_fill(&ev, MMREFS_OP_WATCH, MMREFS_CAUSE_OBSERVER, 0);
	raw_spin_lock_irqsave(&e->lock, flags);
	if (e->watch) {
		raw_spin_unlock_irqrestore(&e->lock, flags);
		rcu_read_unlock();
		return -EEXIST;
	}
	ev.users_old = atomic_read(&mm->mm_users);
	ev.users_new = ev.users_old;
	ev.count_old = atomic_read(&mm->mm_count);
	ev.count_new = ev.count_old;
	ev.observer = 1;
	e->watch = slot + 1;
	e->observer = 1;
	entry_apply(e, &ev, true);
	raw_spin_unlock_irqrestore(&e->lock, flags);
	entry_emit(e, &ev, true);
	rcu_read_unlock();
	return 0;
}

/*
 * Stop watching @mm: its breakpoints are gone, the observer reference is
 * still held and dropped right after.  If it is the last one, that drop is
 * the free (1->0, recorded by the __mmdrop probe); otherwise this event
 * already shows it.
 */
void mmrefs_watch_detach(struct mm_struct *mm, unsigned long site)
{
	struct mmrefs_event ev;
	struct mmrefs_mm *e;
	unsigned long flags;
	int count;

	rcu_read_lock();
	e = table_lookup(mm);
	if (!e) {
		rcu_read_unlock();
		return;
	}
	event_fill(&ev, MMREFS_OP_UNWATCH, MMREFS_CAUSE_OBSERVER, site);
	raw_spin_lock_irqsave(&e->lock, flags);
	count = atomic_read(&mm->mm_count);
	ev.users_old = e->users;
	ev.users_new = atomic_read(&mm->mm_users);
	ev.count_old = e->count;
	ev.count_new = count > 1 ? count - 1 : count;
	ev.observer = e->observer;
	e->watch = 0;
	e->observer = 0;
	/* the watch's chains count lazy-TLB moves: sync again */
	e->exact_gen = 0;
	entry_apply(e, &ev, true);
	raw_spin_unlock_irqrestore(&e->lock, flags);
	entry_emit(e, &ev, true);
	rcu_read_unlock();
}

/*
 * The counters of the watched mm behind @e, read now: the observer
 * reference keeps the mm_struct alive while e->watch is set, and the
 * detach clears it under e->lock before that reference is dropped.  Read
 * under the lock that orders the trapped writes, they equal the chain
 * unless a write's handler is still waiting for that lock.  Caller holds
 * e->lock; false if @e is not watched.
 */
bool mmrefs_watched_values(const struct mmrefs_mm *e, int *users, int *count)
{
	const struct mm_struct *mm = e->mm;

	lockdep_assert_held(&e->lock);
	if (!e->watch)
		return false;
	*users = atomic_read(&mm->mm_users);
	*count = atomic_read(&mm->mm_count);
	return true;
}

/* @ev for the write @wr of @e's counter: that chain moves, the other stays. */
static void write_event(struct mmrefs_event *ev, const struct mmrefs_mm *e,
			const struct mmrefs_write *wr)
{
	ev->counter = wr->ctr;
	ev->observer = e->observer;
	ev->users_old = e->users;
	ev->users_new = e->users;
	ev->count_old = e->count;
	ev->count_new = e->count;
	if (wr->ctr == MMREFS_CTR_USERS) {
		ev->users_old = wr->old;
		ev->users_new = wr->new;
	} else {
		ev->count_old = wr->old;
		ev->count_new = wr->new;
	}
}

/*
 * One trapped write of a watched counter, from the watchpoint handler (NMI
 * context: RCU and a trylock loop only).  Each counter's chain is its last
 * event's new value.  A write known by its delta (inc, dec) continues the
 * chain: concurrent writers may be recorded in a different order than
 * they hit memory, but every write is one event and the sum is exact.  A
 * write known by its values (cmpxchg) is checked against the chain; a
 * mismatch means a write was not seen and is counted as a gap.  No write
 * is in flight across the arming (see watch_arm()'s stop_machine()).
 */
int mmrefs_watch_record(const struct mm_struct *mm, struct mmrefs_write *wr)
{
	struct mmrefs_event ev;
	struct mmrefs_mm *e;
	unsigned long flags;
	enum mmrefs_stat misuse;
	int chain;

	rcu_read_lock();
	e = table_lookup(mm);
	if (!e) {
		rcu_read_unlock();
		mmrefs_count_stat(MMREFS_STAT_UNTRACKED);
		return -ENOENT;
	}
	event_fill(&ev, wr->op, wr->cause, wr->site);
	if (!lock_any(&e->lock, flags)) {
		rcu_read_unlock();
		mmrefs_count_stat(MMREFS_STAT_NMI_LOCK_LOST);
		return -EBUSY;
	}
	if (!e->watch) {
		/* armed but not attached yet, or already detached */
		raw_spin_unlock_irqrestore(&e->lock, flags);
		rcu_read_unlock();
		return -ENOENT;
	}
	chain = wr->ctr == MMREFS_CTR_USERS ? e->users : e->count;
	switch (wr->kind) {
	case MMREFS_WRITE_DELTA:
		wr->old = chain;
		wr->new = chain + wr->delta;
		break;
	case MMREFS_WRITE_VALUES:
		if (wr->old != chain)
			mmrefs_count_stat(MMREFS_STAT_WATCH_GAPS);
		break;
	default:
		wr->old = chain;
		wr->new = wr->mem;
		break;
	}
	write_event(&ev, e, wr);
	entry_apply(e, &ev, true);
	misuse = watch_misuse(&ev);
	wr->at.id = e->id;
	wr->at.ts = ev.ts;
	wr->at.seq = ev.seq;
	raw_spin_unlock_irqrestore(&e->lock, flags);
	if (misuse != MMREFS_NR_STATS)
		misuse_report(e->id, &ev, misuse);
	mmrefs_count_stat(MMREFS_STAT_WATCH_EVENTS);
	entry_emit(e, &ev, true);
	rcu_read_unlock();
	return 0;
}

/*
 * The entry of @mm for a site probe, created if missing (create-on-miss:
 * an mm born before load, or whose birth no hook saw).  Probe context,
 * under rcu_read_lock(); @mm is pinned by the writer.
 */
static struct mmrefs_mm *site_entry(const struct mm_struct *mm)
{
	struct mmrefs_mm *e = table_lookup(mm), *n;

	if (e)
		return e;
	n = entry_alloc(NULL, false);
	if (!n)
		return NULL;
	/* the owner, if it is the writer; a reader's refresh names it else */
	if (current->mm == mm) {
		n->tgid = current->tgid;
		memcpy(n->comm, current->comm, TASK_COMM_LEN);
	}
	if (entry_insert(n, mm, false))
		return n;
	entry_discard(n);
	return table_lookup(mm);
}

/*
 * One write at a listed site, from its probe (sites.c), before the write.
 * The chain of @wr->ctr moves by @wr->delta: events of one counter on two
 * CPUs are recorded in handler order, and the sums are exact.  A
 * MMREFS_WRITE_CMPXCHG is done here, under the entry lock, so that no
 * sync sees it before its event: @wr->mem gets the value it found.  A
 * watched mm's writes are the watchpoint's (they are not counted twice).
 * Returns 0 if recorded (or filtered out), 1 for a cmpxchg that failed
 * (no event), -EEXIST if watched (exact mode on or not: the watchpoint
 * records it, and traps out of line), else -ENOENT if exact mode is not
 * on (yet: it starts again after a learned site),
 * -ENOMEM without an entry, -EBUSY if a lock could not be had in NMI
 * context (counted); on a negative return the write is not done.
 */
int mmrefs_site_record(const struct mm_struct *mm, struct mmrefs_write *wr)
{
	bool record;
	int ret;
	struct mmrefs_event ev;
	struct mmrefs_mm *e;
	unsigned long flags;
	int *chain;

	if (!(READ_ONCE(exact_gen) & 1)) {
		rcu_read_lock();
		e = table_lookup(mm);
		ret = e && READ_ONCE(e->watch) ? -EEXIST : -ENOENT;
		rcu_read_unlock();
		return ret;
	}
	rcu_read_lock();
	e = site_entry(mm);
	if (!e) {
		rcu_read_unlock();
		return -ENOMEM;
	}
	event_fill(&ev, wr->op, wr->cause, wr->site);
	/* an int3 probe runs in NMI context: see lock_any() */
	if (!lock_any(&e->lock, flags)) {
		rcu_read_unlock();
		mmrefs_count_stat(MMREFS_STAT_NMI_LOCK_LOST);
		return -EBUSY;
	}
	if (e->watch) {
		raw_spin_unlock_irqrestore(&e->lock, flags);
		rcu_read_unlock();
		return -EEXIST;
	}
	if (!entry_exact(e))
		entry_sync(e, mm, MMREFS_EXACT_SAMPLED);
	if (wr->kind == MMREFS_WRITE_CMPXCHG) {
		wr->mem = wr->old;
		if (!atomic_try_cmpxchg(wr->ptr, &wr->mem, wr->new)) {
			raw_spin_unlock_irqrestore(&e->lock, flags);
			rcu_read_unlock();
			return 1;
		}
	}
	/* before the write (or in the same lock): the chain's old value */
	chain = wr->ctr == MMREFS_CTR_USERS ? &e->users : &e->count;
	wr->old = *chain;
	wr->new = *chain + wr->delta;
	write_event(&ev, e, wr);
	record = table_filter_match(e);
	entry_apply(e, &ev, record);
	wr->at.id = e->id;
	wr->at.ts = ev.ts;
	wr->at.seq = ev.seq;
	raw_spin_unlock_irqrestore(&e->lock, flags);
	if (!record)
		mmrefs_count_stat(MMREFS_STAT_FILTERED);
	entry_emit(e, &ev, record);
	rcu_read_unlock();
	return 0;
}

/*
 * Exact mode on: every listed site is armed.  A write whose probe ran
 * before this but which has not hit memory yet (a task preempted between
 * an optimized probe and its instruction) must land before any entry is
 * synced, or the sync would miss it: hence the grace periods, which cover
 * int3 probes (preemption off up to the instruction) and optimized ones
 * (a task in the detour buffer).  Process context.
 */
void mmrefs_exact_begin(void)
{
	synchronize_rcu();
	if (IS_ENABLED(CONFIG_TASKS_RCU))
		synchronize_rcu_tasks();
	WRITE_ONCE(exact_gen, exact_gen | 1);
}

/* Exact mode off: every entry's chains go back to samples. */
void mmrefs_exact_end(void)
{
	if (exact_gen & 1)
		WRITE_ONCE(exact_gen, exact_gen + 1);
}

bool mmrefs_exact_on(void)
{
	return READ_ONCE(exact_gen) & 1;
}

/*
 * Writes of the watched @mm may have gone unseen on @cpu (it came online
 * and no breakpoint could be opened there): an event says so, and the
 * chain goes on from the values it had.  Process context.
 */
void mmrefs_watch_gap(const struct mm_struct *mm, unsigned int cpu)
{
	struct mmrefs_event ev;
	struct mmrefs_mm *e;
	unsigned long flags;

	mmrefs_count_stat(MMREFS_STAT_WATCH_GAPS);
	rcu_read_lock();
	e = table_lookup(mm);
	if (!e) {
		rcu_read_unlock();
		return;
	}
	event_fill(&ev, MMREFS_OP_GAP, MMREFS_CAUSE_HOTPLUG, 0);
	ev.cpu = cpu;
	raw_spin_lock_irqsave(&e->lock, flags);
	ev.users_old = e->users;
	ev.users_new = e->users;
	ev.count_old = e->count;
	ev.count_new = e->count;
	ev.observer = e->observer;
	entry_apply(e, &ev, true);
	raw_spin_unlock_irqrestore(&e->lock, flags);
	entry_emit(e, &ev, true);
	rcu_read_unlock();
}

/*
 * Sites in code that is gone: a module's addresses mean nothing once it is
 * unloaded, or name another module loaded there later.  When a module
 * goes, each of its sites that an event or holder record still shows is
 * named while kallsyms can, and readers print that name for anything
 * recorded before (mmrefs_gone_name()).  A ring of GONE_MAX names.
 */
#define GONE_MAX	128
#define GONE_NAME	128

struct gone_site {
	unsigned long addr;
	u64 gone_at;
	char name[GONE_NAME];
};

/*
 * Readers print under RCU: the ring is read and written under a raw lock
 * (a few hundred compares), the symbols made under the mutex outside it.
 */
static struct gone_site *gone_sites;	/* GONE_MAX */
static unsigned int gone_next, nr_gone;	/* under gone_lock */
static DEFINE_RAW_SPINLOCK(gone_lock);
static DEFINE_MUTEX(gone_mutex);
static char gone_buf[KSYM_SYMBOL_LEN];	/* under gone_mutex */

static void gone_collect(unsigned long *addrs, unsigned int *n,
			 unsigned long site, const struct module *mod)
{
	unsigned int i;

	if (!site || !within_module(site, mod))
		return;
	for (i = 0; i < *n; i++)
		if (addrs[i] == site)
			return;
	if (*n < GONE_MAX)
		addrs[(*n)++] = site;
}

/* @mod is going (its notifier, process context): name its sites. */
void mmrefs_table_module_going(const struct module *mod)
{
	u64 now = ktime_get_mono_fast_ns();
	unsigned int slot, idx, i, n = 0;
	struct mmrefs_holder *h;
	struct mmrefs_mm *e;
	unsigned long flags, *addrs;
	struct gone_site *g;

	addrs = kcalloc(GONE_MAX, sizeof(*addrs), GFP_KERNEL);
	if (!addrs)
		return;
	rcu_read_lock();
	for (slot = 0; slot < mmrefs_nr_slots(true); slot++) {
		for (idx = 0; (e = mmrefs_slot_entry(slot, idx)); idx++) {
			raw_spin_lock_irqsave(&e->lock, flags);
			for (i = e->seq > mmrefs_ring_size(e) ?
			     e->seq - mmrefs_ring_size(e) + 1 : 1;
			     mmrefs_ring_size(e) && i <= e->seq; i++)
				gone_collect(addrs, &n,
					     mmrefs_ring_event(e, i)->site,
					     mod);
			list_for_each_entry(h, &e->holders, node)
				gone_collect(addrs, &n, h->site, mod);
			raw_spin_unlock_irqrestore(&e->lock, flags);
		}
	}
	rcu_read_unlock();
	mutex_lock(&gone_mutex);
	if (!gone_sites && n) {
		g = kcalloc(GONE_MAX, sizeof(*gone_sites), GFP_KERNEL);
		raw_spin_lock_irqsave(&gone_lock, flags);
		gone_sites = g;
		raw_spin_unlock_irqrestore(&gone_lock, flags);
	}
	for (i = 0; gone_sites && i < n; i++) {
		sprint_symbol(gone_buf, addrs[i]);
		raw_spin_lock_irqsave(&gone_lock, flags);
		g = &gone_sites[gone_next++ % GONE_MAX];
		strscpy(g->name, gone_buf, sizeof(g->name));
		g->addr = addrs[i];
		g->gone_at = now;
		nr_gone = min(nr_gone + 1, GONE_MAX);
		raw_spin_unlock_irqrestore(&gone_lock, flags);
	}
	mutex_unlock(&gone_mutex);
	kfree(addrs);
}

/*
 * The name @site had when an event or record of time @ts was made, if its
 * code is gone since; false if @site still means what it meant.  Readers,
 * any context.
 */
bool mmrefs_gone_name(unsigned long site, u64 ts, char *buf, size_t len)
{
	const struct gone_site *g, *best = NULL;
	unsigned long flags;
	unsigned int i;

	if (!READ_ONCE(nr_gone))
		return false;
	raw_spin_lock_irqsave(&gone_lock, flags);
	for (i = 0; i < nr_gone; i++) {
		g = &gone_sites[i];
		if (g->addr == site && ts < g->gone_at &&
		    (!best || g->gone_at < best->gone_at))
			best = g;
	}
	if (best)
		strscpy(buf, best->name, len);
	raw_spin_unlock_irqrestore(&gone_lock, flags);
	return best;
}

/*
 * Stacks are captured where they happen, in a probe or in #DB, without
 * allocating, and saved to stack depot from irq_work (a thread on
 * PREEMPT_RT), which attaches the handle to the holder record the event
 * opened and, for a watched event with stack=1, to the event.  One queue
 * per CPU for each context, each with a single producer: probe handlers
 * never nest on a CPU, and #DB can interrupt a probe but not itself.
 */
#define STACK_DEPTH	24
#define STACK_QUEUE	8

struct stack_req {
	const void *mm;			/* key only */
	struct mmrefs_at at;
	bool event;			/* for the event too */
	unsigned int nr;
	unsigned long entries[STACK_DEPTH];
};

struct stack_queue {
	unsigned int head, tail;	/* head: producer, tail: irq_work */
	struct stack_req s[STACK_QUEUE];
	struct irq_work work;
};

static DEFINE_PER_CPU(struct stack_queue [2], stack_queues);
/* Attach @handle to what @at names, if it is still there. */
static void stack_attach(const void *mm, const struct mmrefs_at *at,
			 u32 handle, bool event)
{
	struct mmrefs_event *ev;
	struct mmrefs_mm *e;
	unsigned long flags;

	rcu_read_lock();
	e = table_lookup(mm);
	if (e && e->id == at->id) {
		raw_spin_lock_irqsave(&e->lock, flags);
		ev = mmrefs_ring_size(e) && at->seq ?
		     mmrefs_ring_event(e, at->seq) : NULL;
		if (event && ev && ev->seq == at->seq)
			ev->stack = handle;
		mmrefs_holders_set_stack(e, at->ts, handle);
		raw_spin_unlock_irqrestore(&e->lock, flags);
	}
	rcu_read_unlock();
}

static void stack_drain(struct irq_work *work)
{
	struct stack_queue *q = container_of(work, struct stack_queue, work);
	/* pairs with the producer's release: slots below head are filled */
	unsigned int head = smp_load_acquire(&q->head);
	depot_stack_handle_t h;
	struct stack_req *s;

	while (q->tail != head) {
		s = &q->s[q->tail % STACK_QUEUE];
		h = stack_depot_save(s->entries, s->nr, GFP_NOWAIT);
		if (h)
			stack_attach(s->mm, &s->at, h, s->event);
		else
			mmrefs_count_stat(MMREFS_STAT_STACK_LOST);
		/* the slot is free again once tail passes it */
		smp_store_release(&q->tail, q->tail + 1);
	}
}

/*
 * The current stack, from @from (the hooked function's caller, or the
 * trapping instruction) on, for the event @at of @mm: captured now,
 * saved later.  Probe or #DB context; a full queue is a counted loss.
 */
void mmrefs_stack_defer(const struct mm_struct *mm, const struct mmrefs_at *at,
			bool event, unsigned long from)
{
	struct stack_queue *q = this_cpu_ptr(&stack_queues[in_nmi() ? 1 : 0]);
	unsigned long entries[STACK_DEPTH + 8];
	unsigned int nr, i;
	struct stack_req *s;

	if (!mmrefs_stacks_ready() || !at->id)
		return;
	if (q->head - READ_ONCE(q->tail) >= STACK_QUEUE) {
		mmrefs_count_stat(MMREFS_STAT_STACK_LOST);
		return;
	}
	/*
	 * from the interrupted context on: skip ours, #DB's and perf's (an
	 * int3 probe's context is at @from + 1, past its int3)
	 */
	nr = stack_trace_save(entries, ARRAY_SIZE(entries), 0);
	for (i = 0; i < nr && entries[i] - from > 1; i++)
		;
	if (i == nr && in_nmi()) {
		mmrefs_count_stat(MMREFS_STAT_STACK_LOST);
		return;
	}
	if (i == nr)
		i = 0;	/* a probe: the whole stack, as it is */
	s = &q->s[q->head % STACK_QUEUE];
	s->mm = mm;
	s->at = *at;
	s->event = event;
	s->nr = min_t(unsigned int, nr - i, STACK_DEPTH);
	memcpy(s->entries, entries + i, s->nr * sizeof(entries[0]));
	/* publish the slot to stack_drain() (its acquire of head) */
	smp_store_release(&q->head, q->head + 1);
	irq_work_queue(&q->work);
}

/*
 * Seed @mm, owned by @p (task_lock()ed) from @mem; false if @mem is still
 * the caller's.
 */
static bool seed_one(struct mm_struct *mm, struct task_struct *p,
		     struct mmrefs_mm *mem, enum mmrefs_op op)
{
	struct mmrefs_mm *e = entry_alloc(mem, false);
	int users, count;

	if (!e)
		return false;
	e->tgid = p->tgid;
	strscpy_pad(e->comm, p->comm, sizeof(e->comm));
	users = atomic_read(&mm->mm_users);
	count = atomic_read(&mm->mm_count);
	if (entry_insert(e, mm, false))
		entry_event(e, &(struct mmrefs_change){
			.op = op,
			.cause = MMREFS_CAUSE_SEED,
			.users_old = users, .users_new = users,
			.count_old = count, .count_new = count,
		});
	else
		entry_discard(e);
	return true;
}

#define SEED_BATCH	64

/*
 * Seed every mm that existed before load (@op seed) or before enable=1
 * (@op gap: whatever happened to it while disabled went unseen).  Each one
 * is read and inserted under task_lock() of a task that owns it, so it
 * cannot be freed before it is in the table, where the __mmdrop probe
 * (already armed) finds it.  Entries are allocated beforehand, SEED_BATCH
 * at a time with GFP_KERNEL, and each walk of the tasks seeds at most that
 * many; a walk that runs out asks for another.
 */
void mmrefs_table_seed(enum mmrefs_op op)
{
	struct mmrefs_mm *batch[SEED_BATCH];
	struct task_struct *g, *p;
	unsigned int n, used, full;
	struct mm_struct *mm;
	bool more;

	do {
		for (n = 0; n < SEED_BATCH; n++) {
			batch[n] = kmem_cache_alloc(entry_cache,
						    GFP_KERNEL | __GFP_NOWARN);
			if (!batch[n]) {
				mmrefs_count_stat(MMREFS_STAT_ALLOC_FAILED);
				break;
			}
		}
		if (!n) {
			mmrefs_count_stat(MMREFS_STAT_ALLOC);
			return;
		}
		used = 0;
		full = 0;
		more = false;
		rcu_read_lock();
		for_each_process_thread(g, p) {
			/*
			 * A child between copy_process() and
			 * wake_up_new_task() is the clone hook's: seeding its
			 * new mm here would make the hook's insert retire it
			 * as stale.
			 */
			if (READ_ONCE(p->__state) == TASK_NEW)
				continue;
			task_lock(p);
			mm = p->mm;
			if (mm && !table_lookup(mm)) {
				if (used == n)
					more = true;
				else if (seed_one(mm, p, batch[used], op))
					used++;
				else
					full++;
			}
			task_unlock(p);
			if (more)
				break;
		}
		rcu_read_unlock();
		while (n > used)
			kmem_cache_free(entry_cache, batch[--n]);
	} while (more && !full);
}

/*
 * Read the live counters of every mm some task owns, under that task's
 * task_lock(), and stamp them with a new generation.  Returns the
 * generation: an entry whose snap_gen is older was not found in any task.
 */
u64 mmrefs_table_refresh(void)
{
	u64 gen = atomic64_inc_return(&refresh_gen);
	struct task_struct *g, *p;
	struct mm_struct *mm;
	struct mmrefs_mm *e;
	unsigned long flags;
	int users, count;
	bool khugepaged;

	rcu_read_lock();
	for_each_process_thread(g, p) {
		task_lock(p);
		mm = p->mm;
		e = mm ? table_lookup(mm) : NULL;
		if (e) {
			users = atomic_read(&mm->mm_users);
			count = atomic_read(&mm->mm_count);
			/*
			 * khugepaged mmgrab()s an mm right after setting this
			 * bit and drops it right after clearing it, at exit
			 */
			khugepaged = test_bit(MMF_VM_HUGEPAGE, &mm->flags);
			raw_spin_lock_irqsave(&e->lock, flags);
			if (e->snap_gen < gen) {
				e->snap_gen = gen;
				e->snap_users = users;
				e->snap_count = count;
				e->snap_threads = 0;
				e->snap_khugepaged = khugepaged;
			}
			/* a kthread_use_mm() borrower is no user */
			if (!(p->flags & PF_KTHREAD))
				e->snap_threads++;
			/* its leader's name now, e.g. after an exec */
			if (p->pid == e->tgid)
				memcpy(e->comm, p->comm, TASK_COMM_LEN);
			/* created by a site probe run by another task */
			if (!e->tgid && !(p->flags & PF_KTHREAD)) {
				e->tgid = p->tgid;
				memcpy(e->comm, p->comm, TASK_COMM_LEN);
			}
			if (mmrefs_exact_on() && !e->watch && !entry_exact(e))
				entry_sync(e, mm, MMREFS_EXACT_SAMPLED);
			raw_spin_unlock_irqrestore(&e->lock, flags);
		}
		task_unlock(p);
	}
	rcu_read_unlock();
	return gen;
}

/*
 * Lazy-TLB references: a CPU running a task without an mm (a kernel thread,
 * idle, or a task past exit_mm()) keeps its active_mm alive with one
 * mm_count reference.  Task structs stay valid for a grace period after
 * they stop running, so reading another CPU's current is safe under RCU;
 * the mm pointers are only compared, never dereferenced.
 */
unsigned int mmrefs_collect_lazy(const void **lazy, unsigned int max)
{
	struct task_struct *p;
	unsigned int n = 0;
	int cpu;

	rcu_read_lock();
	for_each_online_cpu(cpu) {
		if (n == max)
			break;
		p = cpu_current(cpu);
		if (p && !READ_ONCE(p->mm) && READ_ONCE(p->active_mm))
			lazy[n++] = READ_ONCE(p->active_mm);
	}
	rcu_read_unlock();
	return n;
}

unsigned int mmrefs_lazy_refs(const void *mm, const void * const *lazy,
			      unsigned int nr)
{
	unsigned int i, refs = 0;

	for (i = 0; i < nr; i++)
		refs += lazy[i] == mm;
	return refs;
}

unsigned int mmrefs_nr_slots(bool with_retired)
{
	return (1U << bucket_bits) + (with_retired ? mmrefs_retired_max : 0);
}

/*
 * The @idx'th entry of @slot, or NULL.  Slots below the bucket count are
 * hash buckets; the rest are the retired ring, oldest first.  Caller holds
 * rcu_read_lock().
 */
struct mmrefs_mm *mmrefs_slot_entry(unsigned int slot, unsigned int idx)
{
	unsigned int nb = 1U << bucket_bits;
	struct mmrefs_mm *e;

	if (slot >= nb) {
		slot -= nb;
		if (idx || slot >= mmrefs_retired_max)
			return NULL;
		slot = (atomic_read(&retired_head) + 1 + slot) %
		       mmrefs_retired_max;
		return READ_ONCE(retired[slot]);
	}
	hlist_for_each_entry_rcu(e, &buckets[slot], node)
		if (!idx--)
			return e;
	return NULL;
}

unsigned int mmrefs_table_size(void)
{
	return atomic_read(&nr_mms);
}

unsigned int mmrefs_table_over_max(void)
{
	return atomic_read(&nr_over_max);
}

unsigned int mmrefs_retired_count(void)
{
	return atomic_read(&nr_retired);
}

/*
 * Record only events of @tgid's mms or tasks, or of those named @comm
 * (a valid comm: debugfs.c checks it); neither: record all.
 */
int mmrefs_filter_set(pid_t tgid, const char *comm)
{
	struct mmrefs_filter *f = NULL, *old;

	if (tgid || comm) {
		f = kzalloc(sizeof(*f), GFP_KERNEL);
		if (!f)
			return -ENOMEM;
		f->tgid = tgid;
		if (!tgid)
			strscpy(f->comm, comm, sizeof(f->comm));
	}
	mutex_lock(&table_filter_mutex);
	old = rcu_replace_pointer(table_filter, f,
				  lockdep_is_held(&table_filter_mutex));
	mutex_unlock(&table_filter_mutex);
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

/*
 * Set before the probes are armed (enable=1) or disarmed (enable=0): a
 * handler that runs while it is false, a return probe's instance in
 * flight (mmrefs_probes_arm()), leaves the table alone.
 */
void mmrefs_enable(bool on)
{
	WRITE_ONCE(mmrefs_enabled, on);
}

/*
 * enable=0: the probes are disarmed and their handlers done (an RCU grace
 * period after mmrefs_enable(false)).  From here frees go unseen and
 * addresses get reused, so no entry can stay keyed by its mm: each is
 * retired as stale (its free is never seen), its history readable among
 * the retired ones, and enable=1 seeds the table anew
 * (mmrefs_table_seed(MMREFS_OP_GAP)).  No watch is armed and no site
 * listed (debugfs.c refuses enable=0 then): nothing adds entries meanwhile.
 */
void mmrefs_table_idle(void)
{
	raw_spinlock_t *lock;
	struct mmrefs_mm *e;
	unsigned long flags;
	unsigned int i;

	for (i = 0; i < (1U << bucket_bits); i++) {
		lock = &bucket_locks[i % MMREFS_LOCKS];
		do {
			raw_spin_lock_irqsave(lock, flags);
			e = hlist_entry_safe(buckets[i].first, struct mmrefs_mm,
					     node);
			if (e)
				hlist_del_init_rcu(&e->node);
			raw_spin_unlock_irqrestore(lock, flags);
			if (e)
				entry_stale(e);
		} while (e);
		cond_resched();
	}
}

int mmrefs_filter_show(char *buf, size_t len)
{
	const struct mmrefs_filter *f;
	int n;

	rcu_read_lock();
	f = rcu_dereference(table_filter);
	if (!f)
		n = scnprintf(buf, len, "all\n");
	else if (f->tgid)
		n = scnprintf(buf, len, "tgid=%d\n", f->tgid);
	else
		n = scnprintf(buf, len, "comm=%s\n", f->comm);
	rcu_read_unlock();
	return n;
}

int mmrefs_table_init(void)
{
	unsigned int i;
	int cpu;

	if (mmrefs_history > 1024 || mmrefs_watch_history > 16384 ||
	    mmrefs_retired_max > 65536 ||
	    mmrefs_max_mms < 64 || mmrefs_max_mms > 1048576) {
		pr_err("history, watch_history, retired or max_mms out of range\n");
		return -EINVAL;
	}

	bucket_bits = ilog2(roundup_pow_of_two(max(mmrefs_max_mms / 2, 64U)));
	buckets = kvcalloc(1U << bucket_bits, sizeof(*buckets), GFP_KERNEL);
	if (!buckets)
		return -ENOMEM;
	for (i = 0; i < (1U << bucket_bits); i++)
		INIT_HLIST_HEAD(&buckets[i]);
	for (i = 0; i < MMREFS_LOCKS; i++)
		raw_spin_lock_init(&bucket_locks[i]);
	for_each_possible_cpu(cpu) {
		init_irq_work(&per_cpu(misuse_reports, cpu).work, misuse_print);
		init_irq_work(&per_cpu(stack_queues, cpu)[0].work, stack_drain);
		init_irq_work(&per_cpu(stack_queues, cpu)[1].work, stack_drain);
	}

	retired = kcalloc(max(mmrefs_retired_max, 1U), sizeof(*retired),
			  GFP_KERNEL);
	if (!retired)
		goto out_free_buckets;

	/* charged to the memory cgroup of the load, the refill or the fork */
	entry_cache = kmem_cache_create("mmrefs_mm", mmrefs_entry_size(),
					0, SLAB_ACCOUNT, entry_ctor);
	if (!entry_cache)
		goto out_free_retired;
	init_irq_work(&reserve_irq, reserve_kick);
	INIT_WORK(&reserve_work, reserve_refill);
	for_each_possible_cpu(cpu)
		raw_spin_lock_init(&per_cpu(entry_reserves, cpu).lock);
	reserve_refill(NULL);
	return 0;

out_free_retired:
	kfree(retired);
out_free_buckets:
	kvfree(buckets);
	return -ENOMEM;
}

/* Probes are gone and no reader is left: free everything. */
void mmrefs_table_exit(void)
{
	struct hlist_node *tmp;
	struct mmrefs_mm *e;
	unsigned int i;
	int cpu;

	kfree(gone_sites);
	gone_sites = NULL;
	nr_gone = 0;

	for_each_possible_cpu(cpu) {
		irq_work_sync(&per_cpu(misuse_reports, cpu).work);
		irq_work_sync(&per_cpu(stack_queues, cpu)[0].work);
		irq_work_sync(&per_cpu(stack_queues, cpu)[1].work);
	}
	irq_work_sync(&reserve_irq);
	cancel_work_sync(&reserve_work);
	reserve_drain();
	for (i = 0; i < (1U << bucket_bits); i++)
		hlist_for_each_entry_safe(e, tmp, &buckets[i], node)
			entry_free(e);
	for (i = 0; i < mmrefs_retired_max; i++)
		if (retired[i])
			entry_free(retired[i]);
	rcu_barrier();
	kmem_cache_destroy(entry_cache);
	kfree(retired);
	kvfree(buckets);
	kfree(rcu_dereference_protected(table_filter, true));
}
