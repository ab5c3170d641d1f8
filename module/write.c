// SPDX-License-Identifier: GPL-2.0
/*
 * What one write of mm_users or mm_count is, for the two sources that see
 * the write itself: watch.c (a data breakpoint, after the write) and
 * sites.c (a probe on the writing instruction, before it).  Both decode
 * the locked instruction the atomic_t helpers compile to, and name the
 * write by the function it is in.  A leaf: it calls nothing of ours.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/kallsyms.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/string.h>

#include "mmrefs.h"

/*
 * Decode the locked 32-bit read-modify-write at @p (at most @avail
 * bytes): LOCK (0xf0) or, on a kernel whose SMP alternatives were patched
 * for one CPU, DS (0x3e); an optional REX; inc, dec, add/sub of an 8-bit
 * immediate, cmpxchg or xadd on a register-addressed memory operand.
 * RIP-relative operands are refused: a counter of a dynamic struct is
 * never one.  Returns the length, 0 if it is no such instruction.
 */
unsigned int mmrefs_insn_decode(const u8 *p, unsigned int avail,
				struct mmrefs_insn *in)
{
	const u8 *start = p, *end = p + avail;
	unsigned int rex = 0, op, mod, rm;

	if (!avail || (*p != 0xf0 && *p != 0x3e))
		return 0;
	if (++p < end && (*p & 0xf0) == 0x40)
		rex = *p++;
	/* REX.W: not a 32-bit counter; at least an opcode and a ModRM */
	if (rex & 8 || p + 1 >= end)
		return 0;
	op = *p++;
	if (op == 0x0f) {
		op = 0x0f00 | *p++;
		if ((op != 0x0fb1 && op != 0x0fc1) || p >= end)
			return 0;
	}
	mod = *p >> 6;
	rm = *p & 7;
	in->reg = ((*p >> 3) & 7) | (rex & 4 ? 8 : 0);
	in->imm = 0;
	in->index = -1;
	in->scale = 1;
	in->disp = 0;
	switch (op) {
	case 0xff:
		if ((*p >> 3 & 7) > 1)
			return 0;
		in->kind = (*p >> 3 & 7) ? MMREFS_INSN_DEC : MMREFS_INSN_INC;
		break;
	case 0x83:
		if ((*p >> 3 & 7) != 0 && (*p >> 3 & 7) != 5)
			return 0;
		in->kind = (*p >> 3 & 7) ? MMREFS_INSN_SUB : MMREFS_INSN_ADD;
		break;
	case 0x0fb1:
		in->kind = MMREFS_INSN_CMPXCHG;
		break;
	default:
		in->kind = MMREFS_INSN_XADD;
		break;
	}
	p++;
	if (mod == 3)
		return 0;
	if (mod == 0 && rm == 5)
		return 0;		/* RIP-relative */
	if (rm == 4) {
		if (p >= end)
			return 0;
		in->scale = 1 << (*p >> 6);
		if (((*p >> 3) & 7) != 4 || rex & 2)
			in->index = ((*p >> 3) & 7) | (rex & 2 ? 8 : 0);
		in->base = (*p & 7) | (rex & 1 ? 8 : 0);
		if (mod == 0 && (*p & 7) == 5) {
			in->base = -1;
			mod = 2;	/* disp32, no base */
		}
		p++;
	} else {
		in->base = rm | (rex & 1 ? 8 : 0);
	}
	if (mod == 1) {
		if (p >= end)
			return 0;
		in->disp = (s8)*p++;
	} else if (mod == 2) {
		s32 d;

		if (p + 4 > end)
			return 0;
		memcpy(&d, p, sizeof(d));	/* x86 is little-endian */
		in->disp = d;
		p += 4;
	}
	if (in->kind == MMREFS_INSN_ADD || in->kind == MMREFS_INSN_SUB) {
		if (p >= end)
			return 0;
		in->imm = (s8)*p++;
	}
	in->len = p - start;
	return in->len;
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

unsigned long mmrefs_insn_reg(struct pt_regs *regs, unsigned int reg)
{
	return regs_get_register(regs, reg_offsets[reg & 15]);
}

/* The address @in writes, from the registers before it runs. */
unsigned long mmrefs_insn_addr(const struct mmrefs_insn *in,
			       struct pt_regs *regs)
{
	unsigned long addr = (long)in->disp;

	if (in->base >= 0)
		addr += mmrefs_insn_reg(regs, in->base);
	if (in->index >= 0)
		addr += mmrefs_insn_reg(regs, in->index) * in->scale;
	return addr;
}

/* The delta an inc, dec, add or sub makes; 0 for the rest. */
int mmrefs_insn_delta(const struct mmrefs_insn *in)
{
	switch (in->kind) {
	case MMREFS_INSN_INC:
		return 1;
	case MMREFS_INSN_DEC:
		return -1;
	case MMREFS_INSN_ADD:
		return in->imm;
	case MMREFS_INSN_SUB:
		return -in->imm;
	default:
		return 0;
	}
}

/*
 * What a write at a site is, by the function it is in:
 *  - lazy-TLB references: context_switch() (inlined into __schedule) and
 *    finish_task_switch() move them, exit_mm() (inlined into do_exit)
 *    takes one, kthread_use_mm()/kthread_unuse_mm() trade them for the
 *    use reference (SITE_LAZY_INC: a +1 there is one, SITE_LAZY_DEC: -1),
 *    exec_mmap() (in begin_new_exec) drops a kernel thread's, and
 *    finish_cpu() an offlined CPU's idle task's;
 *  - the rest of kthread_use_mm()/kthread_unuse_mm(): the use reference
 *    (SITE_USE_MM), held by the thread between the two;
 *  - copy_process(), or copy_mm() where it is not inlined: the mmget()
 *    of a new CLONE_VM child, thread or vfork (SITE_CLONE);
 *  - __mmput() (or mmput(), mmput_async_fn() where it is inlined): the
 *    mmdrop() of the users' shared reference;
 *  - __khugepaged_enter()/__khugepaged_exit(): khugepaged's reference,
 *    from registering the mm until its exit (shown by holders.c from
 *    MMF_VM_HUGEPAGE, so no record of its own).
 * The lazy-TLB helpers of 6.2 on say so by their names (sites.c).
 */
static const struct {
	const char *prefix;
	u8 flags;
} site_kinds[] = {
	{ "__schedule", MMREFS_SITE_LAZY_INC | MMREFS_SITE_LAZY_DEC },
	{ "finish_task_switch", MMREFS_SITE_LAZY_INC | MMREFS_SITE_LAZY_DEC },
	{ "do_exit", MMREFS_SITE_LAZY_INC },
	{ "begin_new_exec", MMREFS_SITE_LAZY_DEC },
	/* an offlined CPU's idle task lets go of its lazy mm */
	{ "finish_cpu", MMREFS_SITE_LAZY_DEC },
	{ "kthread_unuse_mm", MMREFS_SITE_LAZY_INC | MMREFS_SITE_USE_MM },
	{ "kthread_use_mm", MMREFS_SITE_LAZY_DEC | MMREFS_SITE_USE_MM },
	{ "copy_process", MMREFS_SITE_CLONE },
	/* where copy_mm() is out of line (the debug-rt kernel) */
	{ "copy_mm", MMREFS_SITE_CLONE },
	{ "__khugepaged_", MMREFS_SITE_KHUGEPAGED },
	/* khugepaged's own drop of a slot whose mm exited */
	{ "collect_mm_slot", MMREFS_SITE_KHUGEPAGED },
	{ "__mmput", MMREFS_SITE_TEARDOWN },
	/* out of line, their mmget() is named by their caller */
	{ "get_task_mm", MMREFS_SITE_GETTER },
	{ "mm_access", MMREFS_SITE_GETTER },
	/* where __mmput() is inlined into them (the debug kernel) */
	{ "mmput", MMREFS_SITE_TEARDOWN },
};

/* The SITE_* flags of a function name, @name without its offset. */
u8 mmrefs_name_flags(const char *name)
{
	u8 flags = MMREFS_SITE_KNOWN;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(site_kinds); i++)
		if (str_has_prefix(name, site_kinds[i].prefix))
			flags |= site_kinds[i].flags;
	return flags;
}

/* Site classification cache: kallsyms is too slow for every trap. */
struct site_class {
	unsigned long site;
	u8 flags;
};

#define SITE_CACHE_BITS	5
static DEFINE_PER_CPU(struct site_class [1 << SITE_CACHE_BITS], site_cache);
static DEFINE_PER_CPU(char [KSYM_SYMBOL_LEN], site_name);

/* The SITE_* flags of the code at @site; any context, preemption off. */
u8 mmrefs_site_flags(unsigned long site)
{
	struct site_class *c;
	char *name;

	c = this_cpu_ptr(&site_cache[hash_long(site, SITE_CACHE_BITS)]);
	if (c->site != site) {
		name = *this_cpu_ptr(&site_name);
		sprint_symbol_no_offset(name, site);
		c->flags = mmrefs_name_flags(name);
		c->site = site;
	}
	return c->flags;
}

enum mmrefs_op mmrefs_write_op(enum mmrefs_counter ctr,
			       enum mmrefs_insn_kind kind, int delta, u8 flags)
{
	if (ctr == MMREFS_CTR_USERS) {
		if (delta == 1)
			return kind == MMREFS_INSN_CMPXCHG ?
			       MMREFS_OP_MMGET_NOT_ZERO : MMREFS_OP_MMGET;
		return delta == -1 ? MMREFS_OP_MMPUT : MMREFS_OP_WRITE;
	}
	if (delta != 1 && delta != -1)
		return MMREFS_OP_WRITE;
	if (flags & (delta > 0 ? MMREFS_SITE_LAZY_INC : MMREFS_SITE_LAZY_DEC))
		return MMREFS_OP_LAZY_TLB;
	return delta == 1 ? MMREFS_OP_MMGRAB : MMREFS_OP_MMDROP;
}

/*
 * Why @op of @mm, as far as the site and the task tell (holders.c relies
 * on it).  An exiting task's mmput() is its thread's only of its own mm
 * (exit_mm() cleared ->mm and keeps it as active_mm), as in probes.c.
 */
enum mmrefs_cause mmrefs_write_cause(enum mmrefs_op op, u8 flags,
				     const struct mm_struct *mm)
{
	if (op == MMREFS_OP_LAZY_TLB)
		return MMREFS_CAUSE_TRAP;
	/* a thread, a vfork child or a clone(CLONE_VM): the parent cannot tell */
	if (flags & MMREFS_SITE_CLONE)
		return MMREFS_CAUSE_CLONE_VM;
	if (flags & MMREFS_SITE_KHUGEPAGED)
		return MMREFS_CAUSE_KHUGEPAGED;
	if (flags & MMREFS_SITE_USE_MM)
		return MMREFS_CAUSE_USE_MM;
	/* mmput()'s own users decrement is a put, never the teardown */
	if ((flags & MMREFS_SITE_TEARDOWN) && op != MMREFS_OP_MMPUT)
		return MMREFS_CAUSE_TEARDOWN;
	if ((current->flags & PF_EXITING) &&
	    (op != MMREFS_OP_MMPUT ||
	     (!current->mm && current->active_mm == mm)))
		return MMREFS_CAUSE_EXIT;
	/* exec_mmap() put the old mm after installing the new one */
	if (op == MMREFS_OP_MMPUT && current->in_execve)
		return MMREFS_CAUSE_EXEC;
	if (current->flags & PF_KTHREAD)
		return MMREFS_CAUSE_KTHREAD;
	return MMREFS_CAUSE_TRAP;
}

/*
 * mmput(), get_task_mm() and mm_access() are out of line: their probes
 * (probes.c) leave who called them and why for the write inside, which
 * watch.c or sites.c see a few instructions later.  In between, mmput()'s
 * might_sleep() or the getters' locks may switch the task out: other
 * tasks' puts may run on its CPU, and it may come back on another one.
 * So each CPU keeps its last HINT_SLOTS hints, and a write looks for its
 * own on its CPU first, then on every other.
 *
 * A ring is written only by its own CPU, in a probe, for the task running
 * there; so a task looking for its own hint never races a write of it,
 * only its slot being reused for another task.  The writer clears ->task
 * before it changes the rest and publishes ->task last; the reader copies
 * the rest and then claims ->task with a cmpxchg, which fails if the slot
 * was reused meanwhile.  No lock: #DB and int3 run like NMIs.
 *
 * A hint whose write was never seen (an mm not watched then) stays in its
 * slot.  The write's call must still be on the stack, and a put's return
 * address still where it was (a getter's is kretprobe's trampoline); of
 * the hints left, the newest is the task's latest: the one left after the
 * most context switches (a task changes CPU only through one), and on
 * one CPU the last one written.
 */
#define HINT_SLOTS	8		/* a power of 2: head wraps */

struct hint_slot {
	struct task_struct *task;
	const struct mm_struct *mm;
	unsigned long switches;		/* the task's, when it was left */
	struct mmrefs_hint hint;
};

struct hint_ring {
	unsigned int head;		/* slot[head % HINT_SLOTS] is next */
	struct hint_slot slot[HINT_SLOTS];
};

static DEFINE_PER_CPU(struct hint_ring, put_hints);
static DEFINE_PER_CPU(struct hint_ring, get_hints);

static unsigned long task_switches(void)
{
	return current->nvcsw + current->nivcsw;
}

static void hint_set(struct hint_ring __percpu *rings,
		     const struct mm_struct *mm, const struct mmrefs_hint *hint)
{
	struct hint_ring *r = this_cpu_ptr(rings);
	struct hint_slot *h = &r->slot[r->head % HINT_SLOTS];

	WRITE_ONCE(r->head, r->head + 1);
	WRITE_ONCE(h->task, NULL);
	/* a reader that sees the new fields sees the slot cleared */
	smp_wmb();
	WRITE_ONCE(h->mm, mm);
	WRITE_ONCE(h->switches, task_switches());
	WRITE_ONCE(h->hint.site, hint->site);
	WRITE_ONCE(h->hint.ret, hint->ret);
	WRITE_ONCE(h->hint.cause, hint->cause);
	/* pairs with hint_read(): the fields before the owner */
	smp_store_release(&h->task, current);
}

/* A copy of @h if it is this task's for @mm and its call is on the stack. */
static bool hint_read(struct hint_slot *h, const struct mm_struct *mm,
		      unsigned long sp, bool ret_kept, struct hint_slot *c)
{
	unsigned long ret;

	/* pairs with hint_set(); hint_take()'s cmpxchg orders the copy */
	if (smp_load_acquire(&h->task) != current || READ_ONCE(h->mm) != mm)
		return false;
	c->switches = READ_ONCE(h->switches);
	c->hint.site = READ_ONCE(h->hint.site);
	c->hint.ret = READ_ONCE(h->hint.ret);
	c->hint.cause = READ_ONCE(h->hint.cause);
	if (c->hint.ret <= sp || c->hint.ret - sp >= THREAD_SIZE)
		return false;
	return !ret_kept ||
	       (!get_kernel_nofault(ret, (unsigned long *)c->hint.ret) &&
		ret == c->hint.site);
}

static bool hint_take(struct hint_ring __percpu *rings,
		      const struct mm_struct *mm, unsigned long sp,
		      bool ret_kept, struct mmrefs_hint *hint)
{
	struct hint_ring *here = this_cpu_ptr(rings), *r;
	struct hint_slot *h, *best = NULL;
	struct hint_slot c, b;
	unsigned int cpu, head, i;

	/* the common case: the last one here, left since the task switched */
	h = &here->slot[(here->head - 1) % HINT_SLOTS];
	if (hint_read(h, mm, sp, ret_kept, &c) &&
	    c.switches == task_switches()) {
		best = h;
		b = c;
		goto claim;
	}
	for_each_possible_cpu(cpu) {
		r = per_cpu_ptr(rings, cpu);
		head = READ_ONCE(r->head);
		/* newest first: a tie on one CPU goes to the later hint */
		for (i = 1; i <= HINT_SLOTS; i++) {
			h = &r->slot[(head - i) % HINT_SLOTS];
			if (hint_read(h, mm, sp, ret_kept, &c) &&
			    (!best || c.switches > b.switches)) {
				best = h;
				b = c;
			}
		}
	}
claim:
	if (!best || cmpxchg(&best->task, current, NULL) != current)
		return false;
	if (best < here->slot || best >= here->slot + HINT_SLOTS)
		mmrefs_count_stat(MMREFS_STAT_HINT_MOVED);
	*hint = b.hint;
	return true;
}

DEFINE_STATIC_KEY_FALSE(mmrefs_hints_wanted);

/* Process context: a watch being armed or gone, a site (un)registered. */
void mmrefs_hints_want(bool on)
{
	if (on)
		static_branch_inc(&mmrefs_hints_wanted);
	else
		static_branch_dec(&mmrefs_hints_wanted);
}

/* mmput() of @mm: left by its probe for the write inside. */
void mmrefs_put_hint(const struct mm_struct *mm, const struct mmrefs_hint *hint)
{
	hint_set(&put_hints, mm, hint);
}

/* get_task_mm()/mm_access() probe -> its mmget(): who called it. */
void mmrefs_get_hint(const struct mmrefs_hint *hint)
{
	hint_set(&get_hints, NULL, hint);
}

/*
 * The hint for this task's write of @op on @mm at a site with @flags, its
 * stack pointer @sp, if the write is one that has a hint: mmput()'s own
 * users decrement (its cause too) or a getter's mmget().  1 if found, 0
 * if the write has no hint to find, -ENOENT if it has one but it is not
 * found: the probe missed, more than 7 other puts on its CPU overwrote
 * it, a watch was armed after the probe, or another return probe on
 * mmput() replaced the return address the hint is checked against.  The
 * caller counts that (hint_lost) if it records the write.
 */
int mmrefs_hint_take(enum mmrefs_op op, u8 flags, const struct mm_struct *mm,
		     unsigned long sp, struct mmrefs_hint *hint)
{
	if ((flags & MMREFS_SITE_GETTER) && op == MMREFS_OP_MMGET)
		return hint_take(&get_hints, NULL, sp, false, hint) ? 1 : -ENOENT;
	/* the "mmput" prefix: mmput(), mmput_async() */
	if ((flags & MMREFS_SITE_TEARDOWN) && op == MMREFS_OP_MMPUT)
		return hint_take(&put_hints, mm, sp, true, hint) ? 1 : -ENOENT;
	return 0;
}
