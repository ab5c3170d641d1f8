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

/* mmput() probe -> its write: who called mmput(), and why. */
struct watch_hint {
	struct task_struct *task;
	const struct mm_struct *mm;
	unsigned long site;
	u8 cause;
};

static DEFINE_PER_CPU(struct watch_hint, watch_put_hint);

/* Site classification cache: kallsyms is too slow for every trap. */
struct site_class {
	unsigned long site;
	u8 flags;			/* SITE_* */
};

#define SITE_CACHE_BITS	5
static DEFINE_PER_CPU(struct site_class [1 << SITE_CACHE_BITS], site_cache);
static DEFINE_PER_CPU(char [KSYM_SYMBOL_LEN], site_name);

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

void mmrefs_watch_hint(const struct mm_struct *mm, enum mmrefs_cause cause,
		       unsigned long site)
{
	struct watch_hint *h;

	if (!mmrefs_watched(mm))
		return;
	h = this_cpu_ptr(&watch_put_hint);
	h->task = current;
	h->mm = mm;
	h->site = site;
	h->cause = cause;
}

/*
 * What a write at a site is, by the function it is in:
 *  - lazy-TLB references: context_switch() (inlined into __schedule) and
 *    finish_task_switch() move them, exit_mm() (inlined into do_exit)
 *    takes one, kthread_use_mm()/kthread_unuse_mm() trade them for the
 *    use reference (SITE_LAZY_INC: a +1 there is one, SITE_LAZY_DEC: -1);
 *  - the rest of kthread_use_mm()/kthread_unuse_mm(): the use reference
 *    (SITE_USE_MM), held by the thread between the two;
 *  - copy_process(), or copy_mm() where it is not inlined: the mmget()
 *    of a new thread (SITE_CLONE);
 *  - __mmput() (or mmput(), mmput_async_fn() where it is inlined): the
 *    mmdrop() of the users' shared reference;
 *  - __khugepaged_enter()/__khugepaged_exit(): khugepaged's reference,
 *    from registering the mm until its exit (shown by holders.c from
 *    MMF_VM_HUGEPAGE, so no record of its own).
 */
#define SITE_LAZY_INC	BIT(0)
#define SITE_LAZY_DEC	BIT(1)
#define SITE_USE_MM	BIT(2)
#define SITE_CLONE	BIT(3)
#define SITE_TEARDOWN	BIT(4)
#define SITE_KHUGEPAGED	BIT(5)
#define SITE_KNOWN	BIT(7)

static const struct {
	const char *prefix;
	u8 flags;
} site_kinds[] = {
	{ "__schedule", SITE_LAZY_INC | SITE_LAZY_DEC },
	{ "finish_task_switch", SITE_LAZY_INC | SITE_LAZY_DEC },
	{ "do_exit", SITE_LAZY_INC },
	{ "kthread_unuse_mm", SITE_LAZY_INC | SITE_USE_MM },
	{ "kthread_use_mm", SITE_LAZY_DEC | SITE_USE_MM },
	{ "copy_process", SITE_CLONE },
	/* where copy_mm() is out of line (the debug-rt kernel) */
	{ "copy_mm", SITE_CLONE },
	{ "__khugepaged_", SITE_KHUGEPAGED },
	{ "__mmput", SITE_TEARDOWN },
	/* where __mmput() is inlined into them (the debug kernel) */
	{ "mmput", SITE_TEARDOWN },
};

static u8 site_flags(unsigned long site)
{
	struct site_class *c;
	unsigned int i;
	char *name;

	c = this_cpu_ptr(&site_cache[hash_long(site, SITE_CACHE_BITS)]);
	if (c->site != site) {
		name = *this_cpu_ptr(&site_name);
		sprint_symbol_no_offset(name, site);
		c->flags = SITE_KNOWN;
		for (i = 0; i < ARRAY_SIZE(site_kinds); i++)
			if (str_has_prefix(name, site_kinds[i].prefix))
				c->flags |= site_kinds[i].flags;
		c->site = site;
	}
	return c->flags;
}

enum insn_kind { INSN_NONE, INSN_INC, INSN_DEC, INSN_ADD, INSN_SUB,
		 INSN_CMPXCHG, INSN_XADD };

struct watch_insn {
	enum insn_kind kind;
	unsigned int reg;		/* cmpxchg/xadd source register */
	int imm;
};

/* Length of a ModRM memory operand (ModRM, SIB, displacement), or 0. */
static unsigned int modrm_len(const u8 *p, const u8 *end)
{
	unsigned int mod = p[0] >> 6, rm = p[0] & 7, len = 1;

	if (mod == 3)
		return 0;
	if (rm == 4) {
		if (p + 1 >= end)
			return 0;
		len++;
		if (mod == 0 && (p[1] & 7) == 5)
			len += 4;
	} else if (mod == 0 && rm == 5) {
		len += 4;		/* RIP-relative */
	}
	return len + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

/*
 * Decode the locked 32-bit read-modify-write in [p, end): the forms the
 * atomic_t helpers compile to.  LOCK (0xf0) or, on a kernel whose SMP
 * alternatives were patched for one CPU, DS (0x3e); an optional REX.
 */
static bool decode_at(const u8 *p, const u8 *end, struct watch_insn *in)
{
	unsigned int rex = 0, len, op;

	if (*p != 0xf0 && *p != 0x3e)
		return false;
	if (++p < end && (*p & 0xf0) == 0x40)
		rex = *p++;
	/* REX.W: not a 32-bit counter; at least an opcode and a ModRM */
	if (rex & 8 || p + 1 >= end)
		return false;
	op = *p++;
	if (op == 0x0f) {
		op = 0x0f00 | *p++;
		if ((op != 0x0fb1 && op != 0x0fc1) || p >= end)
			return false;
	}
	len = modrm_len(p, end);
	if (!len)
		return false;
	in->reg = ((*p >> 3) & 7) | (rex & 4 ? 8 : 0);
	in->imm = 0;
	switch (op) {
	case 0xff:
		if ((*p >> 3 & 7) > 1)
			return false;
		in->kind = (*p >> 3 & 7) ? INSN_DEC : INSN_INC;
		break;
	case 0x83:
		if ((*p >> 3 & 7) != 0 && (*p >> 3 & 7) != 5)
			return false;
		in->kind = (*p >> 3 & 7) ? INSN_SUB : INSN_ADD;
		if (p + len >= end)
			return false;
		in->imm = (s8)p[len];
		len++;
		break;
	case 0x0fb1:
		in->kind = INSN_CMPXCHG;
		break;
	default:
		in->kind = INSN_XADD;
		break;
	}
	return p + len == end;
}

static const u8 reg_offsets[16] = {
	offsetof(struct pt_regs, ax), offsetof(struct pt_regs, cx),
	offsetof(struct pt_regs, dx), offsetof(struct pt_regs, bx),
	offsetof(struct pt_regs, sp), offsetof(struct pt_regs, bp),
	offsetof(struct pt_regs, si), offsetof(struct pt_regs, di),
	offsetof(struct pt_regs, r8), offsetof(struct pt_regs, r9),
	offsetof(struct pt_regs, r10), offsetof(struct pt_regs, r11),
	offsetof(struct pt_regs, r12), offsetof(struct pt_regs, r13),
	offsetof(struct pt_regs, r14), offsetof(struct pt_regs, r15),
};

/* The instruction that ends at @ip: shortest decodable one wins. */
static bool decode_write(unsigned long ip, struct watch_insn *in)
{
	u8 buf[16];
	unsigned int k;

	if (copy_from_kernel_nofault(buf, (void *)(ip - sizeof(buf)),
				     sizeof(buf)))
		return false;
	for (k = 3; k <= sizeof(buf); k++)
		if (decode_at(buf + sizeof(buf) - k, buf + sizeof(buf), in))
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
static bool write_decode(const struct watch_insn *in, struct pt_regs *regs,
			 struct mmrefs_write *wr)
{
	switch (in->kind) {
	case INSN_INC:
	case INSN_DEC:
	case INSN_ADD:
	case INSN_SUB:
		wr->kind = MMREFS_WRITE_DELTA;
		wr->delta = in->kind == INSN_INC ? 1 : in->kind == INSN_DEC ?
			    -1 : in->kind == INSN_ADD ? in->imm : -in->imm;
		return true;
	case INSN_CMPXCHG:
		if (!(regs->flags & X86_EFLAGS_ZF))
			return false;
		wr->kind = MMREFS_WRITE_VALUES;
		wr->old = (int)regs->ax;
		wr->new = (int)regs_get_register(regs, reg_offsets[in->reg]);
		wr->delta = wr->new - wr->old;
		return true;
	case INSN_XADD:
		wr->kind = MMREFS_WRITE_VALUES;
		wr->old = (int)regs_get_register(regs, reg_offsets[in->reg]);
		wr->new = wr->mem;
		wr->delta = wr->new - wr->old;
		return true;
	default:
		return false;
	}
}

static enum mmrefs_op write_op(enum mmrefs_counter ctr,
			       const struct watch_insn *in, int delta, u8 flags)
{
	if (ctr == MMREFS_CTR_USERS) {
		if (delta == 1)
			return in->kind == INSN_CMPXCHG ?
			       MMREFS_OP_MMGET_NOT_ZERO : MMREFS_OP_MMGET;
		return delta == -1 ? MMREFS_OP_MMPUT : MMREFS_OP_WRITE;
	}
	if (delta != 1 && delta != -1)
		return MMREFS_OP_WRITE;
	if (flags & (delta > 0 ? SITE_LAZY_INC : SITE_LAZY_DEC))
		return MMREFS_OP_LAZY_TLB;
	return delta == 1 ? MMREFS_OP_MMGRAB : MMREFS_OP_MMDROP;
}

/* Why, as far as the site and the task tell (holders.c relies on it). */
static enum mmrefs_cause write_cause(enum mmrefs_op op, u8 flags)
{
	if (op == MMREFS_OP_LAZY_TLB)
		return MMREFS_CAUSE_TRAP;
	if (flags & SITE_CLONE)
		return MMREFS_CAUSE_THREAD;
	if (flags & SITE_KHUGEPAGED)
		return MMREFS_CAUSE_KHUGEPAGED;
	if (flags & SITE_USE_MM)
		return MMREFS_CAUSE_USE_MM;
	if (flags & SITE_TEARDOWN)
		return MMREFS_CAUSE_TEARDOWN;
	if (current->flags & PF_EXITING)
		return MMREFS_CAUSE_EXIT;
	if (current->flags & PF_KTHREAD)
		return MMREFS_CAUSE_KTHREAD;
	return MMREFS_CAUSE_TRAP;
}

/* One counter of @w was written by the instruction before regs->ip. */
static void watch_counter(struct watch *w, struct mm_struct *mm,
			  enum mmrefs_counter ctr, struct pt_regs *regs)
{
	atomic_t *a = ctr == MMREFS_CTR_USERS ? &mm->mm_users : &mm->mm_count;
	struct mmrefs_write wr = { .ctr = ctr, .mem = atomic_read(a) };
	unsigned long site = instruction_pointer(regs);
	struct watch_hint *h = this_cpu_ptr(&watch_put_hint);
	struct watch_insn in = { .kind = INSN_NONE };
	bool holder;
	u8 flags = 0;

	wr.op = MMREFS_OP_WRITE;
	wr.cause = MMREFS_CAUSE_TRAP;
	if (decode_write(site, &in)) {
		if (!write_decode(&in, regs, &wr))
			return;
		flags = site_flags(site);
		wr.op = write_op(ctr, &in, wr.delta, flags);
	} else {
		mmrefs_count_stat(MMREFS_STAT_WATCH_UNDECODED);
		wr.kind = MMREFS_WRITE_UNKNOWN;
	}
	WRITE_ONCE(w->last[ctr], wr.mem);

	if (wr.op == MMREFS_OP_MMPUT && h->task == current && h->mm == mm) {
		/* mmput() is out of line: name its caller */
		site = h->site;
		wr.cause = h->cause;
		h->task = NULL;
	} else {
		wr.cause = write_cause(wr.op, flags);
	}
	wr.site = site;
	if (mmrefs_watch_record(mm, &wr))
		return;
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
