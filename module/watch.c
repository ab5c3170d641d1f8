// SPDX-License-Identifier: GPL-2.0
/*
 * Watch mode: hardware data watchpoints on the mm_users and mm_count of
 * chosen mms, so that every write is an event, inlined mmget(),
 * mmget_not_zero(), mmgrab() and mmdrop() included.  x86 data breakpoints
 * trap after the write: regs->ip is the instruction after it, inside the
 * function the helper was inlined into.  The locked instruction just
 * before it tells how the counter moved (inc, dec, cmpxchg), so each
 * event's old value comes from the instruction, not from the previous
 * event, and a missed write would show as a gap (counted in stats).
 *
 * Lifetime: a watched mm is pinned by one mmgrab() of our own, the
 * observer reference, shown as observer=1 and never counted as a user.
 * When a trapped write leaves mm_count at 1, only the observer holds the
 * mm: an irq_work queues release_work, which unregisters the breakpoints
 * and only then drops the reference, so no breakpoint ever watches freed
 * memory.  A poll every second does the same check, so the release does
 * not depend on any one trap.
 *
 * Context: the handler runs in the #DB exception, which is NMI-like on
 * x86: no sleeping, no allocation, no lock but trylocks (see table.c),
 * stacks are saved into stack depot later (mmrefs_stack_defer()).  Arming and
 * disarming sleep and run under watch_mutex in process context.
 * See Documentation/trace/kprobes.rst and the x86 SDM, vol. 3, 17.2.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/hash.h>
#include <linux/hw_breakpoint.h>
#include <linux/irq_work.h>
#include <linux/kallsyms.h>
#include <linux/mutex.h>
#include <linux/perf_event.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/stackdepot.h>
#include <linux/stop_machine.h>
#include <linux/stacktrace.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "mmrefs.h"

#define WATCH_MAX		HBP_NUM	/* at most one mm per debug register */

struct watch;

/* One debug register: it covers one counter, or both if they share a word. */
struct watch_bp {
	struct watch *w;
	struct perf_event_attr attr;
	struct perf_event * __percpu *bp;	/* NULL: not registered */
	unsigned int ctrs;		/* BIT(enum mmrefs_counter) */
};

/*
 * A watch slot.  @mm is set (with the observer reference held) and
 * cleared under watch_mutex; the handler reads it locklessly, which is
 * safe because the breakpoints are unregistered before it is cleared.
 */
struct watch {
	struct mm_struct *mm;
	pid_t pid;
	u64 armed;			/* ktime, for the watch file */
	struct watch_bp bp[2];
	int last[3];			/* by enum mmrefs_counter */
	struct irq_work release_irq;
	struct work_struct release_work;
};

static struct watch watches[WATCH_MAX];
static unsigned int nr_slots, regs_per_mm;
static bool shared_word;		/* both counters in one aligned u64 */
static DEFINE_MUTEX(watch_mutex);
static bool watch_stacks_on;
static struct delayed_work watch_poll_work;

static unsigned int nr_armed;	/* written under watch_mutex */

bool mmrefs_watched(const struct mm_struct *mm)
{
	unsigned int i;

	if (!READ_ONCE(nr_armed))
		return false;
	for (i = 0; i < nr_slots; i++)
		if (READ_ONCE(watches[i].mm) == mm)
			return true;
	return false;
}

/* How many watches are armed (debugfs.c: enable=0 waits for none). */
unsigned int mmrefs_watch_armed(void)
{
	return READ_ONCE(nr_armed);
}

/* The instruction that ends at @ip: shortest decodable one wins. */
static bool decode_write(unsigned long ip, struct mmrefs_insn *in)
{
	u8 buf[16];
	unsigned int k;

	if (copy_from_kernel_nofault(buf, (void *)(ip - sizeof(buf)),
				     sizeof(buf)))
		return false;
	for (k = 3; k <= sizeof(buf); k++)
		if (mmrefs_insn_decode(buf + sizeof(buf) - k, k, in) == k)
			return true;
	pr_warn_ratelimited("watch: cannot decode the write before %pS: %*ph\n",
			    (void *)ip, (int)sizeof(buf), buf);
	return false;
}

/*
 * What the instruction did to the counter; false for a write that changed
 * nothing (a failed cmpxchg still writes).  inc, dec, add and sub give the
 * exact delta; cmpxchg and xadd leave the old value in a register.  The
 * value in memory is not used where the instruction tells: another CPU
 * may have written since.
 */
static bool write_decode(const struct mmrefs_insn *in, struct pt_regs *regs,
			 struct mmrefs_write *wr)
{
	switch (in->kind) {
	case MMREFS_INSN_CMPXCHG:
		if (!(regs->flags & X86_EFLAGS_ZF))
			return false;
		wr->kind = MMREFS_WRITE_VALUES;
		wr->old = (int)regs->ax;
		wr->new = (int)mmrefs_insn_reg(regs, in->reg);
		wr->delta = wr->new - wr->old;
		return true;
	case MMREFS_INSN_XADD:
		wr->kind = MMREFS_WRITE_VALUES;
		wr->old = (int)mmrefs_insn_reg(regs, in->reg);
		wr->new = wr->mem;
		wr->delta = wr->new - wr->old;
		return true;
	default:
		wr->kind = MMREFS_WRITE_DELTA;
		wr->delta = mmrefs_insn_delta(in);
		return wr->delta;
	}
}

/*
 * One counter of @w was written by the instruction before regs->ip; the
 * event's site is that instruction, as in sites.c.
 */
static void watch_counter(struct watch *w, struct mm_struct *mm,
			  enum mmrefs_counter ctr, struct pt_regs *regs)
{
	atomic_t *a = ctr == MMREFS_CTR_USERS ? &mm->mm_users : &mm->mm_count;
	struct mmrefs_write wr = { .ctr = ctr, .mem = atomic_read(a) };
	unsigned long site = instruction_pointer(regs);
	struct mmrefs_insn in = { .kind = MMREFS_INSN_NONE };
	struct mmrefs_hint hint;
	bool holder;
	u8 flags = 0;
	int found;

	wr.op = MMREFS_OP_WRITE;
	wr.cause = MMREFS_CAUSE_TRAP;
	if (decode_write(site, &in)) {
		if (!write_decode(&in, regs, &wr))
			return;
		site = mmrefs_sites_origin(site - in.len);
		flags = mmrefs_site_flags(site);
		wr.op = mmrefs_write_op(ctr, in.kind, wr.delta, flags);
		mmrefs_sites_learn(site, ctr, &in);
	} else {
		mmrefs_count_stat(MMREFS_STAT_WATCH_UNDECODED);
		wr.kind = MMREFS_WRITE_UNKNOWN;
	}
	WRITE_ONCE(w->last[ctr], wr.mem);

	/* get_task_mm(), mm_access(), mmput() are out of line: their callers */
	found = mmrefs_hint_take(wr.op, flags, mm, kernel_stack_pointer(regs),
				 &hint);
	if (found > 0)
		site = hint.site;
	if (found > 0 && wr.op == MMREFS_OP_MMPUT)
		wr.cause = hint.cause;
	else
		wr.cause = mmrefs_write_cause(wr.op, flags, mm);
	wr.site = site;
	if (mmrefs_watch_record(mm, &wr))
		return;
	if (found < 0)
		mmrefs_count_stat(MMREFS_STAT_HINT_LOST);
	/* the taker's stack, for the holder record the write opens */
	holder = mmrefs_holder_wants_stack(wr.op, wr.cause, false);
	if (READ_ONCE(watch_stacks_on) || holder)
		mmrefs_stack_defer(mm, &wr.at, READ_ONCE(watch_stacks_on),
				   instruction_pointer(regs));
	/* only the observer left: let it go (release_work) */
	if (ctr == MMREFS_CTR_COUNT && wr.new == 1)
		irq_work_queue(&w->release_irq);
}

static void watch_hit(struct perf_event *bp, struct perf_sample_data *data,
		      struct pt_regs *regs)
{
	struct watch_bp *wb = bp->overflow_handler_context;
	struct watch *w = wb->w;
	struct mm_struct *mm = READ_ONCE(w->mm);
	int users, count;

	if (!mm)
		return;
	if (wb->ctrs == BIT(MMREFS_CTR_USERS)) {
		watch_counter(w, mm, MMREFS_CTR_USERS, regs);
	} else if (wb->ctrs == BIT(MMREFS_CTR_COUNT)) {
		watch_counter(w, mm, MMREFS_CTR_COUNT, regs);
	} else {
		/* one register for both: the one that changed was written */
		users = atomic_read(&mm->mm_users);
		count = atomic_read(&mm->mm_count);
		if (users != READ_ONCE(w->last[MMREFS_CTR_USERS]))
			watch_counter(w, mm, MMREFS_CTR_USERS, regs);
		if (count != READ_ONCE(w->last[MMREFS_CTR_COUNT]))
			watch_counter(w, mm, MMREFS_CTR_COUNT, regs);
	}
}

/*
 * One breakpoint per online CPU for each register, like
 * register_wide_hw_breakpoint(), but kept across CPU hotplug: perf drops
 * a CPU's events when it goes offline and never restores them, so
 * watch_cpu_online() opens them again on a CPU that comes back, before
 * it runs any task, and watch_cpu_offline() closes them first.  The
 * per-CPU pointers change only under cpus_read_lock() (arming,
 * disarming) or in those callbacks (hotplug holds it for writing).
 */
static int watch_bp_open(struct watch_bp *wb, int cpu)
{
	struct perf_event *ev;

	ev = perf_event_create_kernel_counter(&wb->attr, cpu, NULL, watch_hit,
					      wb);
	if (IS_ERR(ev))
		return PTR_ERR(ev);
	*per_cpu_ptr(wb->bp, cpu) = ev;
	return 0;
}

static void watch_bp_close(struct watch_bp *wb, int cpu)
{
	struct perf_event **ev = per_cpu_ptr(wb->bp, cpu);

	if (*ev)
		perf_event_release_kernel(*ev);
	*ev = NULL;
}

/* Caller holds cpus_read_lock(). */
static void watch_unregister(struct watch *w)
{
	unsigned int i;
	int cpu;

	for (i = 0; i < regs_per_mm; i++) {
		if (!w->bp[i].bp)
			continue;
		for_each_possible_cpu(cpu)
			watch_bp_close(&w->bp[i], cpu);
		free_percpu(w->bp[i].bp);
		w->bp[i].bp = NULL;
	}
}

static int watch_cpu_online(unsigned int cpu)
{
	struct watch_bp *wb;
	unsigned int i, j;

	for (i = 0; i < nr_slots; i++) {
		for (j = 0; j < regs_per_mm; j++) {
			wb = &watches[i].bp[j];
			if (!wb->bp || *per_cpu_ptr(wb->bp, cpu))
				continue;
			if (watch_bp_open(wb, cpu)) {
				/* writes on this CPU go unseen: say so */
				pr_warn_ratelimited("watch pid=%d: no breakpoint on CPU %u, which came online\n",
						    watches[i].pid, cpu);
				mmrefs_watch_gap(watches[i].mm, cpu);
			}
		}
	}
	return 0;
}

static int watch_cpu_offline(unsigned int cpu)
{
	unsigned int i, j;

	for (i = 0; i < nr_slots; i++)
		for (j = 0; j < regs_per_mm; j++)
			if (watches[i].bp[j].bp)
				watch_bp_close(&watches[i].bp[j], cpu);
	return 0;
}

static enum cpuhp_state watch_cpuhp;

/* Breakpoints first, then the reference: nothing watches freed memory. */
static void watch_disarm(struct watch *w)
{
	struct mm_struct *mm = w->mm;

	lockdep_assert_held(&watch_mutex);
	cpus_read_lock();
	watch_unregister(w);
	cpus_read_unlock();
	mmrefs_hints_want(false);
	irq_work_sync(&w->release_irq);
	mmrefs_watch_detach(mm, _THIS_IP_);
	WRITE_ONCE(w->mm, NULL);
	w->pid = 0;
	WRITE_ONCE(nr_armed, nr_armed - 1);
	mmdrop(mm);
}

static int watch_register(struct watch *w, struct mm_struct *mm)
{
	unsigned long users = (unsigned long)&mm->mm_users;
	unsigned long count = (unsigned long)&mm->mm_count;
	struct perf_event_attr *attr;
	unsigned int i;
	int cpu, err = 0;

	cpus_read_lock();
	for (i = 0; i < regs_per_mm && !err; i++) {
		attr = &w->bp[i].attr;
		hw_breakpoint_init(attr);
		attr->bp_type = HW_BREAKPOINT_W;
		if (shared_word) {
			attr->bp_addr = users & ~7UL;
			attr->bp_len = HW_BREAKPOINT_LEN_8;
			w->bp[i].ctrs = BIT(MMREFS_CTR_USERS) |
					BIT(MMREFS_CTR_COUNT);
		} else {
			attr->bp_addr = i ? count : users;
			attr->bp_len = HW_BREAKPOINT_LEN_4;
			w->bp[i].ctrs = BIT(i ? MMREFS_CTR_COUNT :
					    MMREFS_CTR_USERS);
		}
		w->bp[i].w = w;
		w->bp[i].bp = alloc_percpu(typeof(*w->bp[i].bp));
		if (!w->bp[i].bp) {
			err = -ENOMEM;
			break;
		}
		for_each_online_cpu(cpu) {
			err = watch_bp_open(&w->bp[i], cpu);
			if (err)
				break;
		}
	}
	if (err)
		watch_unregister(w);
	cpus_read_unlock();
	return err;
}

struct attach_args {
	struct mm_struct *mm;
	unsigned int slot;
};

static int watch_attach_stopped(void *data)
{
	struct attach_args *args = data;

	return mmrefs_watch_attach(args->mm, args->slot);
}

static int watch_arm(pid_t nr)
{
	struct attach_args args;
	struct task_struct *p;
	struct pid *pid;
	struct mm_struct *mm;
	struct watch *w = NULL;
	unsigned int i;
	int err;

	lockdep_assert_held(&watch_mutex);
	pid = find_get_pid(nr);
	p = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!p)
		return -ESRCH;
	/* no grab of an mm already watched: it would trap as an event */
	task_lock(p);
	mm = p->flags & PF_KTHREAD ? NULL : p->mm;
	err = mm ? (mmrefs_watched(mm) ? -EEXIST : 0) : -ESRCH;
	if (!err)
		mmgrab(mm);		/* the observer reference */
	task_unlock(p);
	if (err)
		goto out_put_task;
	for (i = 0; i < nr_slots && !w; i++)
		if (!watches[i].mm)
			w = &watches[i];
	err = -ENOSPC;
	if (!w) {
		pr_warn_ratelimited("watch pid=%d: all %u watch slots in use\n",
				    nr, nr_slots);
		goto out_drop;
	}

	w->last[MMREFS_CTR_USERS] = atomic_read(&mm->mm_users);
	w->last[MMREFS_CTR_COUNT] = atomic_read(&mm->mm_count);
	err = mmrefs_watch_prepare(mm, p);
	if (err)
		goto out_drop;
	WRITE_ONCE(w->mm, mm);
	/* from its first trapped write on, a put or get needs its hint */
	mmrefs_hints_want(true);
	err = watch_register(w, mm);
	if (err) {
		if (err == -ENOSPC) {
			pr_warn_ratelimited("watch pid=%d: no free debug register: another user (perf, gdb, ptrace) holds them\n",
					    nr);
			err = -EBUSY;
		}
		goto out_clear;
	}
	/* with every CPU stopped, no trapped write is half handled */
	args.mm = mm;
	args.slot = w - watches;
	err = stop_machine(watch_attach_stopped, &args, NULL);
	if (err)
		goto out_unregister;
	w->pid = nr;
	w->armed = ktime_get_ns();
	WRITE_ONCE(nr_armed, nr_armed + 1);
	put_task_struct(p);
	mod_delayed_work(system_wq, &watch_poll_work, HZ);
	return 0;

out_unregister:
	cpus_read_lock();
	watch_unregister(w);
	cpus_read_unlock();
out_clear:
	mmrefs_hints_want(false);
	WRITE_ONCE(w->mm, NULL);
out_drop:
	mmdrop(mm);
out_put_task:
	put_task_struct(p);
	return err;
}

/* Disarm @w if the observer is the mm's last holder. */
static bool watch_release_if_last(struct watch *w)
{
	lockdep_assert_held(&watch_mutex);
	if (!w->mm || atomic_read(&w->mm->mm_count) != 1)
		return false;
	watch_disarm(w);
	return true;
}

static void release_work_fn(struct work_struct *work)
{
	struct watch *w = container_of(work, struct watch, release_work);

	mutex_lock(&watch_mutex);
	watch_release_if_last(w);
	mutex_unlock(&watch_mutex);
}

static void release_irq_fn(struct irq_work *work)
{
	struct watch *w = container_of(work, struct watch, release_irq);

	queue_work(system_wq, &w->release_work);
}

/* The safety net: every armed mm is checked once a second. */
static void poll_fn(struct work_struct *work)
{
	unsigned int i, armed = 0;

	mutex_lock(&watch_mutex);
	for (i = 0; i < nr_slots; i++)
		if (watches[i].mm && !watch_release_if_last(&watches[i]))
			armed++;
	mutex_unlock(&watch_mutex);
	if (armed)
		queue_delayed_work(system_wq, &watch_poll_work, HZ);
}

/* Watched events without or with their stacks. */
int mmrefs_watch_stacks(bool on)
{
	int err = 0;

	mutex_lock(&watch_mutex);
	if (on)
		err = mmrefs_stacks_init();
	if (!err)
		WRITE_ONCE(watch_stacks_on, on);
	mutex_unlock(&watch_mutex);
	return err ? -ENOMEM : 0;
}

/* Watch the mm of task @pid (> 0). */
int mmrefs_watch_arm(pid_t pid)
{
	int err;

	mutex_lock(&watch_mutex);
	err = watch_arm(pid);
	mutex_unlock(&watch_mutex);
	return err;
}

/* Stop the watch armed with @pid; -ESRCH if there is none. */
int mmrefs_watch_disarm(pid_t pid)
{
	unsigned int i;
	int err = -ESRCH;

	mutex_lock(&watch_mutex);
	for (i = 0; i < nr_slots; i++) {
		if (watches[i].mm && watches[i].pid == pid) {
			watch_disarm(&watches[i]);
			err = 0;
		}
	}
	mutex_unlock(&watch_mutex);
	return err;
}

void mmrefs_watch_clear(void)
{
	unsigned int i;

	mutex_lock(&watch_mutex);
	for (i = 0; i < nr_slots; i++)
		if (watches[i].mm)
			watch_disarm(&watches[i]);
	mutex_unlock(&watch_mutex);
}

void mmrefs_watch_show(struct seq_file *m)
{
	unsigned int i, nfree = 0;
	struct watch *w;

	mutex_lock(&watch_mutex);
	for (i = 0; i < nr_slots; i++)
		nfree += !watches[i].mm;
	seq_printf(m, "slots=%u free=%u registers_per_mm=%u layout=%s mm_users_offset=%zu mm_count_offset=%zu stack=%d\n",
		   nr_slots, nfree, regs_per_mm,
		   shared_word ? "shared_word" : "separate_words",
		   offsetof(struct mm_struct, mm_users),
		   offsetof(struct mm_struct, mm_count), watch_stacks_on);
	for (i = 0; i < nr_slots; i++) {
		w = &watches[i];
		if (!w->mm) {
			seq_printf(m, "slot=%u state=free\n", i);
			continue;
		}
		/* the observer reference keeps w->mm readable */
		seq_printf(m, "slot=%u state=armed pid=%d users=%d count=%d observer=1 armed_ms=%llu\n",
			   i, w->pid, atomic_read(&w->mm->mm_users),
			   atomic_read(&w->mm->mm_count),
			   div_u64(ktime_get_ns() - w->armed, NSEC_PER_MSEC));
	}
	mutex_unlock(&watch_mutex);
}

int mmrefs_watch_init(void)
{
	int ret;

	size_t users = offsetof(struct mm_struct, mm_users);
	size_t count = offsetof(struct mm_struct, mm_count);
	unsigned int i;

	shared_word = (users & ~7UL) == (count & ~7UL);
	regs_per_mm = shared_word ? 1 : 2;
	nr_slots = WATCH_MAX / regs_per_mm;
	for (i = 0; i < nr_slots; i++) {
		init_irq_work(&watches[i].release_irq, release_irq_fn);
		INIT_WORK(&watches[i].release_work, release_work_fn);
	}
	INIT_DELAYED_WORK(&watch_poll_work, poll_fn);
	ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "mmrefs/watch:online",
					watch_cpu_online, watch_cpu_offline);
	if (ret < 0)
		return ret;
	watch_cpuhp = ret;
	return 0;
}

void mmrefs_watch_exit(void)
{
	unsigned int i;

	mmrefs_watch_clear();
	for (i = 0; i < nr_slots; i++)
		cancel_work_sync(&watches[i].release_work);
	cancel_delayed_work_sync(&watch_poll_work);
	cpuhp_remove_state_nocalls(watch_cpuhp);
}
