// SPDX-License-Identifier: GPL-2.0
/*
 * Holders: who holds each tracked mm right now, and which references were
 * never given back.  In the manner of lib/ref_tracker.c, every reference
 * mmrefs sees taken and can match with its release gets a record: the
 * holder task, its site and a stack-depot stack.  The rest is counted,
 * not guessed: threads sharing the mm (read from the tasks), lazy-TLB
 * CPUs, the observer reference, and whatever remains is shown as
 * unattributed.
 *
 *   kind     counter   taken by                    released by
 *   mmget    mm_users  get_task_mm(), mm_access()  mmput() by the same task
 *                      (watched: any mmget() but the clone path's)
 *   use      mm_count  kthread_use_mm()            kthread_unuse_mm()
 *   mmgrab   mm_count  watched mmgrab()            watched mmdrop(), same task
 *   borrowed (none)    kthread_unuse_mm(): the thread may still hold an
 *                      inlined mmgrab() nobody can see unless watched
 *
 * Records come from a fixed pool (holders= records, each a fixed size),
 * so memory is bounded.  The pool is a bitmap claimed with atomic bit
 * operations, no lock, so the watchpoint handler (NMI context) and every
 * CPU's probes can take and give back records.  A record the pool cannot
 * give is counted in lost_holders.  Records hang off their entry and are
 * protected by entry->lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/kallsyms.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/stackdepot.h>
#include <linux/stacktrace.h>
#include <linux/vmalloc.h>

#include "mmrefs.h"

unsigned int mmrefs_max_holders = 1024;
module_param_named(holders, mmrefs_max_holders, uint, 0444);
MODULE_PARM_DESC(holders, "Holder records (fixed pool, 64..1048576, default 1024)");

/* leaks: how long before a holding pattern is a suspect (ms) */
unsigned int mmrefs_leak_torndown_ms = 10000;
module_param_named(leak_torndown_ms, mmrefs_leak_torndown_ms, uint, 0644);
MODULE_PARM_DESC(leak_torndown_ms, "Address space gone, struct still alive after this (ms)");

unsigned int mmrefs_leak_kthread_ms = 10000;
module_param_named(leak_kthread_ms, mmrefs_leak_kthread_ms, uint, 0644);
MODULE_PARM_DESC(leak_kthread_ms, "A kernel thread holds an mm longer than this (ms)");

/*
 * A stack per holder record costs an unwind and a stack depot lookup at
 * every get_task_mm()/mm_access()/kthread_use_mm(): several microseconds,
 * more than the rest of mmrefs on a /proc read.  Off by default; the site
 * is always recorded.
 */
bool mmrefs_holder_stacks;

/* Stack depot is set up only once someone asks for stacks. */
/*
 * Stack depot is set up on first use (a holder or watch stack asked for),
 * by whoever asks first: holders.c owns it, table.c and watch.c ask here.
 */
static DEFINE_MUTEX(stacks_mutex);
static bool stacks_ready;

int mmrefs_stacks_init(void)
{
	int err = 0;

	mutex_lock(&stacks_mutex);
	if (!stacks_ready)
		err = stack_depot_init();
	/* pairs with mmrefs_stacks_ready() */
	smp_store_release(&stacks_ready, !err);
	mutex_unlock(&stacks_mutex);
	return err ? -ENOMEM : 0;
}

/* Whether stack depot is set up; any context. */
bool mmrefs_stacks_ready(void)
{
	/* pairs with mmrefs_stacks_init()'s release: the depot is set up */
	return smp_load_acquire(&stacks_ready);
}

static int holder_stacks_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int err;

	err = kstrtobool(val, &on);
	if (err)
		return err;
	if (on) {
		err = mmrefs_stacks_init();
		if (err)
			return err;
	}
	WRITE_ONCE(mmrefs_holder_stacks, on);
	return 0;
}

static const struct kernel_param_ops holder_stacks_ops = {
	.set = holder_stacks_set,
	.get = param_get_bool,
};

module_param_cb(stacks, &holder_stacks_ops, &mmrefs_holder_stacks, 0644);
MODULE_PARM_DESC(stacks, "Save a stack-depot stack for each holder record (default off)");

unsigned int mmrefs_leak_get_ms = 10000;
module_param_named(leak_get_ms, mmrefs_leak_get_ms, uint, 0644);
MODULE_PARM_DESC(leak_get_ms, "A temporary mmget() not put after this (ms)");

#define HOLD_BORROWED_MAX	2	/* per mm */

static struct mmrefs_holder *holder_pool;
static unsigned long *holder_pool_used;		/* bit per record */
static DEFINE_PER_CPU(unsigned int, holder_pool_hint);	/* where to look first */

/*
 * Lock-free: the first clear bit from this CPU's hint on, then before it,
 * so a full pool costs one scan, not one per try; only a bit another CPU
 * claimed first makes us look again.
 */
static struct mmrefs_holder *holder_alloc(void)
{
	unsigned int i, hint, try;

	for (try = 0; try < 4; try++) {
		hint = min(this_cpu_read(holder_pool_hint), mmrefs_max_holders);
		i = find_next_zero_bit(holder_pool_used, mmrefs_max_holders,
				       hint);
		if (i >= mmrefs_max_holders) {
			i = find_first_zero_bit(holder_pool_used, hint);
			if (i >= hint)
				break;	/* full */
		}
		if (!test_and_set_bit_lock(i, holder_pool_used)) {
			this_cpu_write(holder_pool_hint, i + 1);
			return &holder_pool[i];
		}
	}
	mmrefs_count_stat(MMREFS_STAT_HOLDERS_LOST);
	return NULL;
}

static void holder_free(struct mmrefs_holder *h)
{
	clear_bit_unlock(h - holder_pool, holder_pool_used);
}

unsigned int mmrefs_holders_used(void)
{
	return bitmap_weight(holder_pool_used, mmrefs_max_holders);
}

static struct mmrefs_holder *holder_find(struct mmrefs_mm *e, u8 kind, pid_t pid)
{
	struct mmrefs_holder *h;

	/* newest first: a task's latest get is the one its put gives back */
	list_for_each_entry(h, &e->holders, node)
		if (h->kind == kind && (!pid || h->pid == pid))
			return h;
	return NULL;
}

static void holder_add(struct mmrefs_mm *e, u8 kind,
		       const struct mmrefs_event *ev)
{
	struct mmrefs_holder *h = holder_alloc();

	if (!h)
		return;
	h->kind = kind;
	h->since = ev->ts;
	h->site = ev->site;
	h->stack = 0;		/* mmrefs_holders_set_stack() */
	h->seq = ev->seq;
	h->pid = ev->pid;
	h->tgid = ev->tgid;
	h->kthread = ev->kthread;
	memcpy(h->comm, ev->comm, TASK_COMM_LEN);
	list_add(&h->node, &e->holders);
}

static void holder_del(struct mmrefs_holder *h)
{
	list_del(&h->node);
	holder_free(h);
}

static void holder_del_match(struct mmrefs_mm *e, u8 kind, pid_t pid, bool any)
{
	struct mmrefs_holder *h = holder_find(e, kind, pid);

	/* a reference handed to another task: give back the oldest */
	if (!h && any)
		list_for_each_entry_reverse(h, &e->holders, node)
			if (h->kind == kind)
				break;
	if (h && !list_entry_is_head(h, &e->holders, node))
		holder_del(h);
}

/* Keep at most @keep borrowed records on @e, the newest. */
static void holder_trim_borrowed(struct mmrefs_mm *e, unsigned int keep)
{
	struct mmrefs_holder *h, *tmp;
	unsigned int seen = 0;

	list_for_each_entry_safe(h, tmp, &e->holders, node)
		if (h->kind == MMREFS_HOLD_BORROWED && ++seen > keep)
			holder_del(h);
}

/*
 * The one rule for which events open a holder record, and of which kind;
 * -1 for none.  Probe events of an unwatched mm open only what has a
 * visible end (a get until the same task's put, a use until the unuse);
 * watched events name their helper and are exact.  Every source asks
 * here: table.c and watch.c to know whether to save a stack first,
 * mmrefs_holders_event() to add the record.
 */
int mmrefs_holder_kind(enum mmrefs_op op, enum mmrefs_cause cause,
		       bool transient)
{
	switch (op) {
	case MMREFS_OP_GET:
		/* proc_mem_open() puts its get again a few lines later */
		if ((cause == MMREFS_CAUSE_GET_TASK_MM ||
		     cause == MMREFS_CAUSE_MM_ACCESS) && !transient)
			return MMREFS_HOLD_GET;
		return -1;
	case MMREFS_OP_MMGET:
	case MMREFS_OP_MMGET_NOT_ZERO:
		/* a CLONE_VM child's is counted with the threads */
		return cause == MMREFS_CAUSE_THREAD ||
		       cause == MMREFS_CAUSE_CLONE_VM ? -1 : MMREFS_HOLD_GET;
	case MMREFS_OP_USE:
		return MMREFS_HOLD_USE;
	/* khugepaged's reference is a part of its own (MMF_VM_HUGEPAGE) */
	case MMREFS_OP_MMGRAB:
		if (cause == MMREFS_CAUSE_USE_MM ||
		    cause == MMREFS_CAUSE_KHUGEPAGED)
			return -1;
		return MMREFS_HOLD_GRAB;
	default:
		return -1;
	}
}

/* Whether the record an event opens wants its taker's stack. */
bool mmrefs_holder_wants_stack(enum mmrefs_op op, enum mmrefs_cause cause,
			       bool transient)
{
	return READ_ONCE(mmrefs_holder_stacks) &&
	       mmrefs_holder_kind(op, cause, transient) >= 0;
}

/*
 * What @ev does to @e's holders: the records it closes, then the one it
 * opens (mmrefs_holder_kind()).  Caller holds e->lock; @ev is numbered.
 */
void mmrefs_holders_event(struct mmrefs_mm *e, const struct mmrefs_event *ev)
{
	int kind = mmrefs_holder_kind(ev->op, ev->cause, ev->transient);
	struct mmrefs_holder *h;

	lockdep_assert_held(&e->lock);
	switch (ev->op) {
	case MMREFS_OP_PUT:
		if (ev->cause == MMREFS_CAUSE_PUT ||
		    ev->cause == MMREFS_CAUSE_ASYNC)
			holder_del_match(e, MMREFS_HOLD_GET, ev->pid, e->watch);
		break;
	case MMREFS_OP_MMPUT:
		/*
		 * A write seen itself (watched, or exact mode): every get is
		 * seen too, so any put but a thread's (exit) or an exec's
		 * gives one back, a put by another task the oldest.  Its
		 * cause may lack mmput()'s hint (the task moved to another
		 * CPU in between), never that it is one of those two.
		 */
		if (ev->cause != MMREFS_CAUSE_EXIT &&
		    ev->cause != MMREFS_CAUSE_EXEC &&
		    ev->cause != MMREFS_CAUSE_TEARDOWN)
			holder_del_match(e, MMREFS_HOLD_GET, ev->pid, true);
		break;
	case MMREFS_OP_USE:
		h = holder_find(e, MMREFS_HOLD_BORROWED, ev->pid);
		if (h)
			holder_del(h);
		break;
	case MMREFS_OP_UNUSE:
		h = holder_find(e, MMREFS_HOLD_USE, ev->pid);
		if (!h)
			break;
		/*
		 * Evidence of the latest few borrowers only: kthreads come and
		 * go (one per borrow, for some drivers), their records must
		 * not pile up on a long-lived mm.
		 */
		holder_trim_borrowed(e, HOLD_BORROWED_MAX - 1);
		h->kind = MMREFS_HOLD_BORROWED;	/* same site, stack */
		break;
	case MMREFS_OP_MMDROP:
		if (ev->cause != MMREFS_CAUSE_USE_MM &&
		    ev->cause != MMREFS_CAUSE_TEARDOWN &&
		    ev->cause != MMREFS_CAUSE_KHUGEPAGED)
			holder_del_match(e, MMREFS_HOLD_GRAB, ev->pid, true);
		break;
	case MMREFS_OP_FREE:
		mmrefs_holders_release(e);
		break;
	default:
		break;
	}
	if (kind >= 0)
		holder_add(e, kind, ev);
}

/* A free, or the table letting go of @e: every record back to the pool. */
void mmrefs_holders_release(struct mmrefs_mm *e)
{
	struct mmrefs_holder *h, *tmp;

	list_for_each_entry_safe(h, tmp, &e->holders, node)
		holder_del(h);
}

/* The stack, saved after the fact, of the record opened at @since. */
void mmrefs_holders_set_stack(struct mmrefs_mm *e, u64 since, u32 stack)
{
	struct mmrefs_holder *h;

	lockdep_assert_held(&e->lock);
	list_for_each_entry(h, &e->holders, node)
		if (h->since == since)
			h->stack = stack;
}

/* Copy up to @max of @e's records (newest first); caller holds e->lock. */
unsigned int mmrefs_holders_copy(struct mmrefs_mm *e, struct mmrefs_holder *buf,
				 unsigned int max, unsigned int *total)
{
	struct mmrefs_holder *h;
	unsigned int n = 0;

	*total = 0;
	list_for_each_entry(h, &e->holders, node) {
		if (n < max)
			buf[n++] = *h;
		(*total)++;
	}
	return n;
}

/*
 * A frame that no symbol covers (a kprobe's optimized detour buffer, code
 * since unloaded) would print as a raw address: it is left out, and the
 * frames it hid are counted in one line.
 */
void mmrefs_show_stack(struct seq_file *m, u32 handle, const char *indent)
{
	char name[KSYM_SYMBOL_LEN];
	unsigned int i, nr, hidden = 0;
	unsigned long *entries;

	if (!handle)
		return;
	nr = stack_depot_fetch(handle, &entries);
	for (i = 0; i < nr; i++) {
		sprint_symbol(name, entries[i]);
		if (!strncmp(name, "0x", 2))
			hidden++;
		else
			seq_printf(m, "%s%s\n", indent, name);
	}
	if (hidden)
		seq_printf(m, "%s(%u frames without a symbol)\n", indent, hidden);
}

int mmrefs_holders_init(void)
{
	if (mmrefs_max_holders < 64 || mmrefs_max_holders > 1048576) {
		pr_err("holders out of range\n");
		return -EINVAL;
	}
	holder_pool = vzalloc(array_size(mmrefs_max_holders,
					 sizeof(*holder_pool)));
	holder_pool_used = bitmap_zalloc(mmrefs_max_holders, GFP_KERNEL);
	if (!holder_pool || !holder_pool_used) {
		vfree(holder_pool);
		bitmap_free(holder_pool_used);
		return -ENOMEM;
	}
	return 0;
}

void mmrefs_holders_exit(void)
{
	vfree(holder_pool);
	bitmap_free(holder_pool_used);
}
