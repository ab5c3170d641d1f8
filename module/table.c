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
 *    under entry->lock.  The watchpoint handler takes it in NMI context
 *    (x86 #DB) with a trylock loop: that cannot deadlock, because no mm
 *    counter is ever written under entry->lock, so a #DB never interrupts
 *    a holder on its own CPU.
 *  - the retired ring is lock-free: a slot is claimed with xchg() and the
 *    evicted entry is freed after a grace period, so RCU readers can
 *    still look at it.
 *  - the filter is an RCU-published immutable struct; writers serialize
 *    on table_filter_mutex, which is never taken by the hot path.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/hash.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/mm_types.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/sched/coredump.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "mmrefs.h"

#define CREATE_TRACE_POINTS
#include "trace/mmrefs.h"

unsigned int mmrefs_history = 32;
module_param_named(history, mmrefs_history, uint, 0444);
MODULE_PARM_DESC(history, "Transitions kept per mm (0..1024, default 32)");

unsigned int mmrefs_retired_max = 64;
module_param_named(retired, mmrefs_retired_max, uint, 0444);
MODULE_PARM_DESC(retired, "Freed mms whose history stays readable (0..65536, default 64)");

unsigned int mmrefs_max_mms = 65536;
module_param_named(max_mms, mmrefs_max_mms, uint, 0444);
MODULE_PARM_DESC(max_mms, "Most mms tracked at once (64..1048576, default 65536)");

bool mmrefs_enabled = true;

struct mmrefs_filter {
	pid_t tgid;			/* 0: match by comm */
	char comm[TASK_COMM_LEN];
	struct rcu_head rcu;
};

static struct mmrefs_filter __rcu *table_filter;	/* NULL: record all */
static DEFINE_MUTEX(table_filter_mutex);

#define MMREFS_LOCKS	256
static spinlock_t bucket_locks[MMREFS_LOCKS];
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

static struct mmrefs_mm **retired;	/* mmrefs_retired_max slots */
static atomic_t retired_head = ATOMIC_INIT(0);
static atomic_t nr_retired = ATOMIC_INIT(0);

static struct hlist_head *bucket_of(const void *mm)
{
	return &buckets[hash_ptr(mm, bucket_bits)];
}

static spinlock_t *lock_of(const void *mm)
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

static void entry_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(entry_cache, container_of(head, struct mmrefs_mm, rcu));
}

/* @force: over max_mms too (a watched mm must have its entry) */
static struct mmrefs_mm *entry_alloc(gfp_t gfp, bool force)
{
	struct mmrefs_mm *e;
	bool over = atomic_inc_return(&nr_mms) > mmrefs_max_mms;

	if (over && !force) {
		atomic_dec(&nr_mms);
		mmrefs_count_stat(MMREFS_STAT_TABLE_FULL);
		return NULL;
	}
	e = kmem_cache_alloc(entry_cache, gfp | __GFP_NOWARN);
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
	spin_lock_init(&e->lock);
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

/*
 * Hash @e under @mm.  With @replace, an entry already there belongs to an
 * mm whose free we never saw (the address was reused): it is retired as
 * stale, so the new mm gets a new id.  Without @replace (seeding) an
 * existing entry wins and @e is not inserted.
 */
static bool entry_insert(struct mmrefs_mm *e, const void *mm, bool replace)
{
	spinlock_t *lock = lock_of(mm);
	struct mmrefs_mm *old;
	unsigned long flags;

	e->mm = mm;
	spin_lock_irqsave(lock, flags);
	old = table_lookup(mm);
	if (old && !replace) {
		spin_unlock_irqrestore(lock, flags);
		return false;
	}
	if (old)
		hlist_del_init_rcu(&old->node);
	hlist_add_head_rcu(&e->node, bucket_of(mm));
	spin_unlock_irqrestore(lock, flags);

	if (old) {
		spin_lock_irqsave(&old->lock, flags);
		old->state = MMREFS_STALE;
		mmrefs_holders_release(old);
		spin_unlock_irqrestore(&old->lock, flags);
		mmrefs_count_stat(MMREFS_STAT_STALE);
		entry_retire(old);
	}
	return true;
}

static void entry_unhash(struct mmrefs_mm *e)
{
	spinlock_t *lock = lock_of(e->mm);
	unsigned long flags;
	bool was_hashed;

	spin_lock_irqsave(lock, flags);
	was_hashed = !hlist_unhashed(&e->node);
	if (was_hashed)
		hlist_del_init_rcu(&e->node);
	spin_unlock_irqrestore(lock, flags);
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
 * The misuses mmrefs can see: an mmget() of an address space already torn
 * down (users 0: it had to be mmget_not_zero()), and a counter below 0.
 * Caller holds e->lock.
 */
static void entry_misuse(struct mmrefs_mm *e, const struct mmrefs_event *ev)
{
	if ((ev->op == MMREFS_OP_GET || ev->op == MMREFS_OP_MMGET) &&
	    ev->users_old == 0 && ev->users_new > 0) {
		mmrefs_count_stat(MMREFS_STAT_MISUSE_GET_ZERO);
		pr_warn_ratelimited("mm id=%llu: mmget() at %pS by %s[%d] with mm_users 0 (torn down at %llu ns): use mmget_not_zero()\n",
				    e->id, (void *)ev->site, ev->comm, ev->pid,
				    e->torndown_at);
		if (!in_nmi())
			dump_stack();
	}
	if (ev->users_new < 0 || ev->count_new < 0) {
		mmrefs_count_stat(MMREFS_STAT_MISUSE_NEGATIVE);
		pr_warn_ratelimited("mm id=%llu: %s at %pS by %s[%d] takes a counter below 0 (users %d->%d count %d->%d)\n",
				    e->id, mmrefs_op_name(ev->op),
				    (void *)ev->site, ev->comm, ev->pid,
				    ev->users_old, ev->users_new,
				    ev->count_old, ev->count_new);
		if (!in_nmi())
			dump_stack();
	}
}

/*
 * Apply @ev to @e and, with @record, number it and keep it in the ring;
 * then its effect on the holders (@stack: the taker's, if known).
 */
static void entry_apply(struct mmrefs_mm *e, struct mmrefs_event *ev,
			bool record, u32 stack)
{
	lockdep_assert_held(&e->lock);
	entry_misuse(e, ev);
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
		if (mmrefs_history)
			e->ring[(ev->seq - 1) % mmrefs_history] = *ev;
	}
	mmrefs_holders_event(e, ev, stack);
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
	bool record = READ_ONCE(mmrefs_enabled);
	struct mmrefs_event ev;
	unsigned long flags;
	u32 stack = 0;
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
	/* stack depot may allocate: before the entry lock */
	if (mmrefs_holder_wants_stack(op, chg->cause, chg->transient))
		stack = mmrefs_stack_from(chg->site);

	spin_lock_irqsave(&e->lock, flags);
	/*
	 * A watched mm's counters move only with its trapped writes
	 * (mmrefs_watch_record()): a probe's get, put or grab is that same
	 * write seen a second time, and the other probe events keep the
	 * trapped values, so each counter's sequence stays gapless.
	 */
	if (e->watch) {
		if (op == MMREFS_OP_GET || op == MMREFS_OP_PUT ||
		    op == MMREFS_OP_GRAB) {
			spin_unlock_irqrestore(&e->lock, flags);
			return;
		}
		ev.users_old = e->users;
		ev.users_new = e->users;
		ev.count_old = e->count;
		ev.count_new = e->count;
		ev.observer = e->observer;
	} else {
		record = record && table_filter_match(e);
	}
	e->lazy = lazy;
	entry_apply(e, &ev, record, stack);
	spin_unlock_irqrestore(&e->lock, flags);

	if (!record)
		mmrefs_count_stat(MMREFS_STAT_FILTERED);
	entry_emit(e, &ev, record);
}

/* A new mm (fork's dup_mm, exec's mm_alloc): @mm is pinned by @owner. */
void mmrefs_new(const struct mm_struct *mm, struct task_struct *owner,
		enum mmrefs_cause cause, unsigned long site)
{
	struct mmrefs_mm *e = entry_alloc(GFP_NOWAIT, false);

	if (!e)
		return;
	e->tgid = owner->tgid;
	strscpy_pad(e->comm, owner->comm, sizeof(e->comm));
	rcu_read_lock();
	entry_insert(e, mm, true);
	entry_event(e, &(struct mmrefs_change){
		.op = MMREFS_OP_NEW, .cause = cause, .site = site,
		.users_new = atomic_read(&mm->mm_users),
		.count_new = atomic_read(&mm->mm_count),
	});
	rcu_read_unlock();
}

/*
 * A put or a free of an mm that is not in the table: if the retired ring
 * says mmrefs saw it freed (and no new mm took the address since, or it
 * would be in the table), the caller is using a freed mm_struct.
 * Caller holds rcu_read_lock().
 */
static void after_free(const struct mm_struct *mm, enum mmrefs_op op,
		       unsigned long site)
{
	struct mmrefs_mm *r;
	unsigned int i;

	/* an mm allocated while the table was full is simply untracked */
	if (mmrefs_stat_sum(MMREFS_STAT_TABLE_FULL) ||
	    mmrefs_stat_sum(MMREFS_STAT_ALLOC))
		return;
	for (i = 0; i < mmrefs_retired_max; i++) {
		r = READ_ONCE(retired[i]);
		if (r && r->mm == mm && READ_ONCE(r->state) == MMREFS_FREED)
			break;
	}
	if (i == mmrefs_retired_max)
		return;
	mmrefs_count_stat(MMREFS_STAT_MISUSE_AFTER_FREE);
	pr_warn_ratelimited("mm id=%llu: %s at %pS by %s[%d] after its free\n",
			    r->id, mmrefs_op_name(op), (void *)site,
			    current->comm, current->pid);
	dump_stack();
}

/*
 * A transition of a tracked mm.  The free retires the entry: from here on
 * the pointer is only a dead key and the history stays in the retired ring.
 */
void mmrefs_record(const struct mm_struct *mm,
		   const struct mmrefs_change *chg)
{
	struct mmrefs_mm *e;

	rcu_read_lock();
	e = table_lookup(mm);
	if (!e) {
		/*
		 * A holder's put (not an exit's or an exec's, whose mm may
		 * just have been created unseen, e.g. while loading).
		 */
		if (chg->op == MMREFS_OP_PUT &&
		    (chg->cause == MMREFS_CAUSE_PUT ||
		     chg->cause == MMREFS_CAUSE_ASYNC))
			after_free(mm, chg->op, chg->site);
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
	struct mmrefs_mm *e, *n;

	for (;;) {
		rcu_read_lock();
		e = table_lookup(mm);
		rcu_read_unlock();
		if (e)
			return e;
		n = entry_alloc(GFP_KERNEL, true);
		if (!n)
			return NULL;
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
	return entry_get(mm, owner) ? 0 : -ENOMEM;
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
	bool record = READ_ONCE(mmrefs_enabled);
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
	spin_lock_irqsave(&e->lock, flags);
	if (e->watch) {
		spin_unlock_irqrestore(&e->lock, flags);
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
	entry_apply(e, &ev, record, 0);
	spin_unlock_irqrestore(&e->lock, flags);
	entry_emit(e, &ev, record);
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
	bool record = READ_ONCE(mmrefs_enabled);
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
	spin_lock_irqsave(&e->lock, flags);
	count = atomic_read(&mm->mm_count);
	ev.users_old = e->users;
	ev.users_new = atomic_read(&mm->mm_users);
	ev.count_old = e->count;
	ev.count_new = count > 1 ? count - 1 : count;
	ev.observer = e->observer;
	e->watch = 0;
	e->observer = 0;
	entry_apply(e, &ev, record, 0);
	spin_unlock_irqrestore(&e->lock, flags);
	entry_emit(e, &ev, record);
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
	bool record = READ_ONCE(mmrefs_enabled);
	struct mmrefs_event ev;
	struct mmrefs_mm *e;
	unsigned long flags;
	int chain;

	rcu_read_lock();
	e = table_lookup(mm);
	if (!e) {
		rcu_read_unlock();
		mmrefs_count_stat(MMREFS_STAT_UNTRACKED);
		return -ENOENT;
	}
	event_fill(&ev, wr->op, wr->cause, wr->site);
	while (!spin_trylock_irqsave(&e->lock, flags))
		cpu_relax();
	if (!e->watch) {
		/* armed but not attached yet, or already detached */
		spin_unlock_irqrestore(&e->lock, flags);
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
	ev.counter = wr->ctr;
	ev.observer = e->observer;
	ev.users_old = e->users;
	ev.users_new = e->users;
	ev.count_old = e->count;
	ev.count_new = e->count;
	if (wr->ctr == MMREFS_CTR_USERS) {
		ev.users_old = wr->old;
		ev.users_new = wr->new;
	} else {
		ev.count_old = wr->old;
		ev.count_new = wr->new;
	}
	entry_apply(e, &ev, record, 0);
	wr->id = e->id;
	wr->seq = record ? ev.seq : 0;
	spin_unlock_irqrestore(&e->lock, flags);
	if (record)
		mmrefs_count_stat(MMREFS_STAT_WATCH_EVENTS);
	entry_emit(e, &ev, record);
	rcu_read_unlock();
	return 0;
}

/*
 * Attach a stack saved after the fact (see watch.c) to the holder record
 * of event @seq and, with @event, to the event.
 */
void mmrefs_watch_set_stack(const struct mm_struct *mm, u64 id, u32 seq,
			    u32 stack, bool event)
{
	struct mmrefs_event *ev;
	struct mmrefs_mm *e;
	unsigned long flags;

	if (!seq)
		return;
	rcu_read_lock();
	e = table_lookup(mm);
	if (e && e->id == id) {
		spin_lock_irqsave(&e->lock, flags);
		ev = mmrefs_history ? &e->ring[(seq - 1) % mmrefs_history] :
				      NULL;
		if (event && ev && ev->seq == seq)
			ev->stack = stack;
		mmrefs_holders_set_stack(e, seq, stack);
		spin_unlock_irqrestore(&e->lock, flags);
	}
	rcu_read_unlock();
}

/*
 * Seed every mm that existed before load.  Each one is read and inserted
 * under task_lock() of a task that owns it, so it cannot be freed before
 * it is in the table, where the __mmdrop probe (already armed) finds it.
 */
void mmrefs_table_seed(void)
{
	struct task_struct *g, *p;
	struct mm_struct *mm;
	struct mmrefs_mm *e;
	int users, count;

	rcu_read_lock();
	for_each_process_thread(g, p) {
		/*
		 * A child between copy_process() and wake_up_new_task() is
		 * the clone hook's: seeding its new mm here would make the
		 * hook's insert retire it as stale.
		 */
		if (READ_ONCE(p->__state) == TASK_NEW)
			continue;
		task_lock(p);
		mm = p->mm;
		if (!mm || table_lookup(mm)) {
			task_unlock(p);
			continue;
		}
		e = entry_alloc(GFP_ATOMIC, false);
		if (e) {
			e->tgid = p->tgid;
			strscpy_pad(e->comm, p->comm, sizeof(e->comm));
			users = atomic_read(&mm->mm_users);
			count = atomic_read(&mm->mm_count);
			if (entry_insert(e, mm, false))
				entry_event(e, &(struct mmrefs_change){
					.op = MMREFS_OP_SEED,
					.cause = MMREFS_CAUSE_SEED,
					.users_old = users, .users_new = users,
					.count_old = count, .count_new = count,
				});
			else
				entry_discard(e);
		}
		task_unlock(p);
	}
	rcu_read_unlock();
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
			spin_lock_irqsave(&e->lock, flags);
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
			spin_unlock_irqrestore(&e->lock, flags);
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

void mmrefs_enable(bool on)
{
	WRITE_ONCE(mmrefs_enabled, on);
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

	if (mmrefs_history > 1024 || mmrefs_retired_max > 65536 ||
	    mmrefs_max_mms < 64 || mmrefs_max_mms > 1048576) {
		pr_err("history, retired or max_mms out of range\n");
		return -EINVAL;
	}

	bucket_bits = ilog2(roundup_pow_of_two(max(mmrefs_max_mms / 2, 64U)));
	buckets = kvcalloc(1U << bucket_bits, sizeof(*buckets), GFP_KERNEL);
	if (!buckets)
		return -ENOMEM;
	for (i = 0; i < (1U << bucket_bits); i++)
		INIT_HLIST_HEAD(&buckets[i]);
	for (i = 0; i < MMREFS_LOCKS; i++)
		spin_lock_init(&bucket_locks[i]);

	retired = kcalloc(max(mmrefs_retired_max, 1U), sizeof(*retired),
			  GFP_KERNEL);
	if (!retired)
		goto out_free_buckets;

	entry_cache = kmem_cache_create("mmrefs_mm", mmrefs_entry_size(),
					0, 0, NULL);
	if (!entry_cache)
		goto out_free_retired;
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

	for (i = 0; i < (1U << bucket_bits); i++)
		hlist_for_each_entry_safe(e, tmp, &buckets[i], node)
			kmem_cache_free(entry_cache, e);
	for (i = 0; i < mmrefs_retired_max; i++)
		if (retired[i])
			kmem_cache_free(entry_cache, retired[i]);
	rcu_barrier();
	kmem_cache_destroy(entry_cache);
	kfree(retired);
	kvfree(buckets);
	kfree(rcu_dereference_protected(table_filter, true));
}
