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
		if (p + 4 > end)
			return 0;
		s32 d;

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
 * mmput() is out of line: its probe (probes.c) leaves who called it and
 * why for its write, which watch.c or sites.c see right after on this CPU.
 */
struct put_hint {
	struct task_struct *task;
	const struct mm_struct *mm;
	unsigned long site;
	u8 cause;
};

static DEFINE_PER_CPU(struct put_hint, put_hints);

void mmrefs_put_hint(const struct mm_struct *mm, enum mmrefs_cause cause,
		     unsigned long site)
{
	struct put_hint *h = this_cpu_ptr(&put_hints);

	h->task = current;
	h->mm = mm;
	h->site = site;
	h->cause = cause;
}

/* get_task_mm()/mm_access() probe -> its mmget(): who called it. */
struct get_hint {
	struct task_struct *task;
	unsigned long site;
};

static DEFINE_PER_CPU(struct get_hint, get_hints);

void mmrefs_get_hint(unsigned long site)
{
	struct get_hint *h = this_cpu_ptr(&get_hints);

	h->task = current;
	h->site = site;
}

/* The caller of the getter this task is in, for its write at a getter site. */
bool mmrefs_get_hint_take(unsigned long *site)
{
	struct get_hint *h = this_cpu_ptr(&get_hints);

	if (h->task != current)
		return false;
	*site = h->site;
	h->task = NULL;
	return true;
}

/* The hint for this task's put of @mm, if any: it is used once. */
bool mmrefs_put_hint_take(const struct mm_struct *mm, unsigned long *site,
			  enum mmrefs_cause *cause)
{
	struct put_hint *h = this_cpu_ptr(&put_hints);

	if (h->task != current || h->mm != mm)
		return false;
	*site = h->site;
	*cause = h->cause;
	h->task = NULL;
	return true;
}
