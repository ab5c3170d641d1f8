// SPDX-License-Identifier: GPL-2.0
/*
 * The hook points.  mmget(), mmget_not_zero(), mmgrab() and mmdrop() are
 * inlined, so mmrefs probes the out-of-line functions around them and
 * reads the counters through the struct while the probed function's
 * caller still pins the mm:
 *
 *   mmput, mmput_async       users u->u-1 (caller holds a user reference)
 *   exit_mmap (else __mmput) teardown: users 0, the users' mm_count
 *                            reference is dropped on the way out
 *   __mmdrop                 mm_count hit 0: the struct is being freed
 *   get_task_mm (return)     users +1
 *   mm_access (return)       users +1 for /proc/PID/{maps,mem,...},
 *                            process_vm_*() and kcmp (its get_task_mm()
 *                            is usually inlined)
 *   kthread_use_mm (return)  a kernel thread borrows the mm
 *   kthread_unuse_mm         ... and stops using it
 *   wake_up_new_task         clone: CLONE_VM mmget() or fork's dup_mm()
 *   mm_alloc (return)        exec's new mm
 *
 * An open /proc file's mmgrab() is proc_mem_open()'s, right before the
 * mmput() of its get: the mmput probe records both (in_proc_mem_open()).
 *
 * A symbol a kernel lacks or refuses is reported in stats; only mmput and
 * __mmdrop are required.  Handlers run with preemption off and never sleep.
 *
 * The entry hooks share one ftrace_ops where the function has an ftrace
 * call site: it saves only the argument registers, where a kprobe saves
 * them all and looks itself up (Documentation/trace/ftrace-uses.rst).  A
 * function ftrace cannot trace gets a kprobe (Documentation/trace/
 * kprobes.rst); the return hooks are kretprobes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/ftrace.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/mm_types.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/trace_recursion.h>

#include "mmrefs.h"

enum mmrefs_hook_id {
	HOOK_MMPUT,
	HOOK_MMPUT_ASYNC,
	HOOK_TEARDOWN,
	HOOK_FREE,
	HOOK_GET_TASK_MM,
	HOOK_MM_ACCESS,
	HOOK_USE_MM,
	HOOK_UNUSE_MM,
	HOOK_CLONE,
	HOOK_MM_ALLOC,
	NR_HOOKS,
};

static DEFINE_PER_CPU(unsigned long, probe_hits[NR_HOOKS]);
/* ftrace hooks: calls dropped because ftrace saw this context recurse */
static DEFINE_PER_CPU(unsigned long, probe_recursed[NR_HOOKS]);

/* Before 6.3 struct ftrace_regs is the pt_regs, without accessors. */
#ifndef ftrace_regs_get_argument
#define ftrace_regs_get_argument(fregs, n) \
	regs_get_kernel_argument(&(fregs)->regs, n)
#define ftrace_regs_get_stack_pointer(fregs) \
	kernel_stack_pointer(&(fregs)->regs)
#endif

/* A hooked function at its entry, whatever mechanism stopped it there. */
struct probe_entry {
	unsigned long arg;	/* its first argument */
	unsigned long sp;	/* its stack pointer: the return address */
};

/* A kprobe's registers at the probed function's entry. */
static struct probe_entry probe_entry_of(struct pt_regs *regs)
{
	return (struct probe_entry){
		.arg = regs_get_kernel_argument(regs, 0),
		.sp = kernel_stack_pointer(regs),
	};
}

NOKPROBE_SYMBOL(probe_entry_of);

/* The probed function's return address, at its first instruction. */
static unsigned long probe_caller(const struct probe_entry *e)
{
	return *(unsigned long *)e->sp;
}

NOKPROBE_SYMBOL(probe_caller);

static struct mm_struct *probe_arg_mm(const struct probe_entry *e)
{
	return (struct mm_struct *)e->arg;
}

NOKPROBE_SYMBOL(probe_arg_mm);

static void probe_hit(enum mmrefs_hook_id id)
{
	this_cpu_inc(probe_hits[id]);
}

NOKPROBE_SYMBOL(probe_hit);

/*
 * Record @op of @mm with its counters read now: @du and @dc are what the
 * probed function changes them by, already (@done) or about to.
 */
static void probe_record(const struct mm_struct *mm, enum mmrefs_op op,
			 enum mmrefs_cause cause, unsigned long site,
			 int du, int dc, bool done)
{
	struct mmrefs_change chg = {
		.op = op,
		.cause = cause,
		.site = site,
		.users_old = atomic_read(&mm->mm_users) - (done ? du : 0),
		.count_old = atomic_read(&mm->mm_count) - (done ? dc : 0),
	};

	chg.users_new = chg.users_old + du;
	chg.count_new = chg.count_old + dc;
	mmrefs_record(mm, &chg);
}

NOKPROBE_SYMBOL(probe_record);

/* Where the text of mm_access() and proc_mem_open() lies (resolve_text()). */
static unsigned long mm_access_start, mm_access_end;
static bool mm_access_hooked;
static unsigned long proc_mem_open_start, proc_mem_open_end;

/* A get_task_mm() called by mm_access(): part of mm_access()'s get. */
static bool in_mm_access(unsigned long caller)
{
	return caller >= mm_access_start && caller < mm_access_end;
}

NOKPROBE_SYMBOL(in_mm_access);

/*
 * A call from proc_mem_open(): its get (mm_access()) is put again before
 * it returns, no holder; the open file's mmgrab() is what stays.
 */
static bool in_proc_mem_open(unsigned long site)
{
	return site >= proc_mem_open_start && site < proc_mem_open_end;
}

NOKPROBE_SYMBOL(in_proc_mem_open);

/*
 * Another tool's return probe on a hooked function (a kretprobe such as
 * bpftrace's kretprobe:, an fprobe) or the function graph tracer, armed
 * after mmrefs, runs first and puts its trampoline where the return
 * address was: then the caller is not known.  The event keeps the
 * trampoline as its site (where the call returns), and no hint is left:
 * the write keeps its own site, counted in hint_lost.
 */
static const char * const ret_tramp_syms[] = {
	"arch_rethook_trampoline", "__kretprobe_trampoline",
	"return_to_handler",
};

static unsigned long ret_tramps[ARRAY_SIZE(ret_tramp_syms)];

static bool is_ret_tramp(unsigned long addr)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ret_tramps); i++)
		if (addr == ret_tramps[i])
			return true;
	return false;
}

NOKPROBE_SYMBOL(is_ret_tramp);

/* Where do_exit() and exit_mm(), if not inlined, lie (resolve_text()). */
static unsigned long do_exit_start, do_exit_end;
static unsigned long exit_mm_start, exit_mm_end;

/* exit_mm()'s mmput() of the exiting task's own mm. */
static bool in_exit_mm(unsigned long site, const struct mm_struct *mm)
{
	if (!(current->flags & PF_EXITING) || current->mm)
		return false;
	/*
	 * not resolved, or no caller: the task's lazy mm, right unless
	 * switched since
	 */
	if (!do_exit_end || is_ret_tramp(site))
		return current->active_mm == mm;
	return (site >= do_exit_start && site < do_exit_end) ||
	       (site >= exit_mm_start && site < exit_mm_end);
}

NOKPROBE_SYMBOL(in_exit_mm);

static void probe_put(const struct probe_entry *e, enum mmrefs_cause cause)
{
	struct mm_struct *mm = probe_arg_mm(e);
	struct mmrefs_hint hint = {
		.site = probe_caller(e),
		.ret = e->sp,
	};
	unsigned long site = hint.site;

	/*
	 * exit_mm() (inlined in do_exit()) puts the mm it took off the task;
	 * a put after it (exit_files() closing a file that holds another mm)
	 * is a holder's.  Its caller tells, where active_mm would not: the
	 * task may have been switched out since exit_mm(), and switching
	 * back in gave it another task's mm as its lazy one.  exec_mmap()
	 * installs the new mm before it puts the old one.
	 */
	if (in_exit_mm(site, mm))
		cause = MMREFS_CAUSE_EXIT;
	else if (current->in_execve && current->mm != mm)
		cause = MMREFS_CAUSE_EXEC;
	hint.cause = cause;
	if (mmrefs_hints_on() && !is_ret_tramp(site))
		mmrefs_put_hint(mm, &hint);
	/*
	 * proc_mem_open() puts its get right after the mmgrab() its file
	 * keeps until release: that grab is done, and recorded here in its
	 * place, with no return probe on proc_mem_open().
	 */
	if (in_proc_mem_open(site))
		probe_record(mm, MMREFS_OP_GRAB, MMREFS_CAUSE_PROC, site, 0, 1,
			     true);
	probe_record(mm, MMREFS_OP_PUT, cause, site, -1, 0, false);
}

NOKPROBE_SYMBOL(probe_put);

static void mmput_pre(const struct probe_entry *e)
{
	probe_put(e, MMREFS_CAUSE_PUT);
}

NOKPROBE_SYMBOL(mmput_pre);

static void mmput_async_pre(const struct probe_entry *e)
{
	probe_put(e, MMREFS_CAUSE_ASYNC);
}

NOKPROBE_SYMBOL(mmput_async_pre);

/*
 * __mmput() runs once mm_users is 0.  It tears the address space down and
 * ends with the mmdrop() of the reference all users shared, so the count
 * recorded is c->c-1.  Its only call of exit_mmap() is the hook: __mmput()
 * is static inline, so notrace, and its kprobe (optimized, a jump) cost a
 * fork about 700 guest ns on 6.1 and 1,900 on 6.12, where ftrace's call
 * costs about 60.  Before exit_mmap(), __mmput() has given back KSM's and
 * khugepaged's references, if it held them: the count read is after.
 */
static void teardown_pre(const struct probe_entry *e)
{
	probe_record(probe_arg_mm(e), MMREFS_OP_TEARDOWN,
		     MMREFS_CAUSE_TEARDOWN, probe_caller(e), 0, -1, false);
}

NOKPROBE_SYMBOL(teardown_pre);

/* mmdrop() found mm_count at 0: the struct is freed after this returns. */
static void free_pre(const struct probe_entry *e)
{
	probe_record(probe_arg_mm(e), MMREFS_OP_FREE, MMREFS_CAUSE_FREE,
		     probe_caller(e), 0, -1, true);
}

NOKPROBE_SYMBOL(free_pre);

/* A get_task_mm() or mm_access() that returned @mm to @site. */
static void probe_get(struct mm_struct *mm, enum mmrefs_cause cause,
		      unsigned long site)
{
	struct mmrefs_change chg = {
		.op = MMREFS_OP_GET,
		.cause = cause,
		.site = site,
		.users_new = atomic_read(&mm->mm_users),
		.count_old = atomic_read(&mm->mm_count),
		.transient = in_proc_mem_open(site),
	};

	chg.users_old = chg.users_new - 1;
	chg.count_new = chg.count_old;
	mmrefs_record(mm, &chg);
}

NOKPROBE_SYMBOL(probe_get);

static int get_task_mm_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct mm_struct *mm = (struct mm_struct *)regs_return_value(regs);
	unsigned long site = get_kretprobe_retaddr(ri);
	enum mmrefs_cause cause = MMREFS_CAUSE_GET_TASK_MM;

	probe_hit(HOOK_GET_TASK_MM);
	if (!mm)
		return 0;
	/* An out-of-line call from mm_access() is recorded by its own hook. */
	if (in_mm_access(site)) {
		if (mm_access_hooked)
			return 0;
		cause = MMREFS_CAUSE_MM_ACCESS;
	}
	probe_get(mm, cause, site);
	return 0;
}

NOKPROBE_SYMBOL(get_task_mm_ret);

static int mm_access_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct mm_struct *mm = (struct mm_struct *)regs_return_value(regs);

	probe_hit(HOOK_MM_ACCESS);
	if (!IS_ERR_OR_NULL(mm))
		probe_get(mm, MMREFS_CAUSE_MM_ACCESS,
			  get_kretprobe_retaddr(ri));
	return 0;
}

NOKPROBE_SYMBOL(mm_access_ret);

/*
 * get_task_mm() and mm_access() are out of line: their inlined mmget()
 * (watch.c, sites.c) is named by their caller, left here on entry.
 */
static int getter_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct probe_entry e;
	unsigned long caller;

	/* the key first: nothing below is needed without it */
	if (!mmrefs_hints_on())
		return 0;
	e = probe_entry_of(regs);
	caller = probe_caller(&e);
	/*
	 * get_task_mm() out of line in mm_access() (e.g. a kernel built
	 * without inlining it): mm_access()'s entry named the caller that
	 * matters, keep it.
	 */
	if ((!in_mm_access(caller) || !mm_access_hooked) &&
	    !is_ret_tramp(caller))
		mmrefs_get_hint(&(struct mmrefs_hint){
			.site = caller, .ret = e.sp,
		});
	return 0;
}

NOKPROBE_SYMBOL(getter_entry);

struct use_mm_data {
	struct mm_struct *mm;
	int count;
	bool was_lazy;		/* the thread's lazy active_mm already */
};

/*
 * Before 6.2 (no mmgrab_lazy_tlb(), see Kbuild), a kernel thread's lazy-TLB reference
 * and its use reference are one: kthread_use_mm() of the mm that is
 * already its active_mm takes none (the lazy one becomes the use one),
 * and kthread_unuse_mm() keeps the use one as the lazy one.  Exact mode
 * (sites.c) leaves lazy-TLB references out of its chains, so these
 * probes move the chain for them.
 */
#ifdef MMREFS_LAZY_TLB_HELPERS
#define LAZY_IS_USE	false
#else
#define LAZY_IS_USE	true
#endif

static int use_mm_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct use_mm_data *d = (struct use_mm_data *)ri->data;
	struct probe_entry e = probe_entry_of(regs);

	d->mm = probe_arg_mm(&e);
	d->count = atomic_read(&d->mm->mm_count);
	d->was_lazy = current->active_mm == d->mm;
	return 0;
}

NOKPROBE_SYMBOL(use_mm_entry);

/* 6.1 grabs the mm only if it is not already active_mm; 6.12 always. */
static int use_mm_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct use_mm_data *d = (struct use_mm_data *)ri->data;
	int count = atomic_read(&d->mm->mm_count);
	struct mmrefs_change chg = {
		.op = MMREFS_OP_USE,
		.cause = MMREFS_CAUSE_KTHREAD,
		.site = get_kretprobe_retaddr(ri),
		.users_old = atomic_read(&d->mm->mm_users),
		.count_old = d->count,
		.count_new = count,
		.exact_count = LAZY_IS_USE && d->was_lazy,
	};

	probe_hit(HOOK_USE_MM);
	chg.users_new = chg.users_old;
	mmrefs_record(d->mm, &chg);
	return 0;
}

NOKPROBE_SYMBOL(use_mm_ret);

/*
 * kthread_unuse_mm() leaves the mm as the thread's lazy-TLB active_mm: on
 * 6.1 the reference taken by kthread_use_mm() becomes the lazy one, on
 * 6.12 it takes a lazy reference and drops the use one.  Either way the
 * count is unchanged until the thread is switched out.
 */
static void unuse_mm_pre(const struct probe_entry *e)
{
	struct mm_struct *mm = probe_arg_mm(e);
	struct mmrefs_change chg = {
		.op = MMREFS_OP_UNUSE,
		.cause = MMREFS_CAUSE_KTHREAD,
		.site = probe_caller(e),
		.users_old = atomic_read(&mm->mm_users),
		.count_old = atomic_read(&mm->mm_count),
		.exact_count = LAZY_IS_USE ? -1 : 0,
	};

	chg.users_new = chg.users_old;
	chg.count_new = chg.count_old;
	mmrefs_record(mm, &chg);
}

NOKPROBE_SYMBOL(unuse_mm_pre);

/*
 * The child of a clone has not run yet, so its ->mm is stable: either the
 * parent's (copy_mm()'s inlined mmget() for CLONE_VM) or a new one from
 * dup_mm(), also inlined.
 */
static void clone_pre(const struct probe_entry *e)
{
	struct task_struct *p = (struct task_struct *)e->arg;
	struct mm_struct *mm = p->mm;
	enum mmrefs_cause cause;

	if (!mm)
		return;
	if (mm != current->mm) {
		mmrefs_new(mm, p, MMREFS_CAUSE_FORK, probe_caller(e));
		return;
	}
	if (same_thread_group(p, current))
		cause = MMREFS_CAUSE_THREAD;
	else if (p->vfork_done)
		cause = MMREFS_CAUSE_VFORK;
	else
		cause = MMREFS_CAUSE_CLONE_VM;
	probe_record(mm, MMREFS_OP_GET, cause, probe_caller(e), 1, 0, true);
}

NOKPROBE_SYMBOL(clone_pre);

static int mm_alloc_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct mm_struct *mm = (struct mm_struct *)regs_return_value(regs);

	probe_hit(HOOK_MM_ALLOC);
	if (mm)
		mmrefs_new(mm, current, MMREFS_CAUSE_EXEC,
			   get_kretprobe_retaddr(ri));
	return 0;
}

NOKPROBE_SYMBOL(mm_alloc_ret);

struct mmrefs_hook {
	const char *name;
	const char * const *syms;	/* candidates, first that works wins */
	bool required;
	void (*pre)(const struct probe_entry *e);	/* at entry */
	kretprobe_handler_t entry, ret;			/* a return probe */
	size_t data_size;
	struct kretprobe krp;		/* plain kprobes use krp.kp */
	unsigned long ftrace_ip;	/* hooked by hook_ops at this address */
	const char *sym;		/* the registered one */
	int err;
};

#define SYMS(...) ((const char * const []){ __VA_ARGS__, NULL })

static struct mmrefs_hook probe_hooks[NR_HOOKS] = {
	[HOOK_MMPUT] = {
		.name = "mmput", .syms = SYMS("mmput"), .required = true,
		.pre = mmput_pre,
	},
	[HOOK_MMPUT_ASYNC] = {
		.name = "mmput_async", .syms = SYMS("mmput_async"),
		.pre = mmput_async_pre,
	},
	[HOOK_TEARDOWN] = {
		.name = "teardown", .syms = SYMS("exit_mmap", "__mmput"),
		.pre = teardown_pre,
	},
	[HOOK_FREE] = {
		.name = "__mmdrop", .syms = SYMS("__mmdrop"), .required = true,
		.pre = free_pre,
	},
	[HOOK_GET_TASK_MM] = {
		.name = "get_task_mm", .syms = SYMS("get_task_mm"),
		.entry = getter_entry, .ret = get_task_mm_ret,
	},
	[HOOK_MM_ACCESS] = {
		.name = "mm_access", .syms = SYMS("mm_access"),
		.entry = getter_entry, .ret = mm_access_ret,
	},
	[HOOK_USE_MM] = {
		.name = "kthread_use_mm", .syms = SYMS("kthread_use_mm"),
		.entry = use_mm_entry, .ret = use_mm_ret,
		.data_size = sizeof(struct use_mm_data),
	},
	[HOOK_UNUSE_MM] = {
		.name = "kthread_unuse_mm", .syms = SYMS("kthread_unuse_mm"),
		.pre = unuse_mm_pre,
	},
	[HOOK_CLONE] = {
		.name = "clone", .syms = SYMS("wake_up_new_task"),
		.pre = clone_pre,
	},
	[HOOK_MM_ALLOC] = {
		.name = "mm_alloc", .syms = SYMS("mm_alloc"),
		.ret = mm_alloc_ret,
	},
};

/*
 * Return instances: the kernel's default (twice the possible CPUs), but
 * at least enough for tasks to sleep in mm_alloc() and mm_access() a
 * while on a small box.
 */
#define MMREFS_MAXACTIVE	max_t(int, 64, 2 * num_possible_cpus())

/*
 * The offset of @addr in its function: the handlers read the return
 * address at the stack pointer and the arguments from registers, which
 * holds only at the function's entry (its first instruction, or the
 * ftrace call after an ENDBR), whatever mechanism kprobes chose.
 */
static unsigned long probe_offset(unsigned long addr)
{
	char buf[KSYM_SYMBOL_LEN];
	unsigned long off, size;
	char *plus;

	sprint_symbol(buf, addr);
	plus = strrchr(buf, '+');
	if (!plus || sscanf(plus, "+%lx/%lx", &off, &size) != 2)
		return ULONG_MAX;
	return off;
}

#define PROBE_ENTRY_MAX	4	/* ENDBR64's length */

/* A kprobe at the entry of a function ftrace cannot hook. */
static int hook_kprobe_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct mmrefs_hook *h = container_of(kp, struct mmrefs_hook, krp.kp);
	struct probe_entry e = probe_entry_of(regs);

	probe_hit(h - probe_hooks);
	h->pre(&e);
	return 0;
}

NOKPROBE_SYMBOL(hook_kprobe_pre);

/*
 * Every entry hook that ftrace places: @ip is the hooked function's ftrace
 * call.  ftrace calls it directly (no RECURSION flag): the recursion lock
 * is taken here, and keeps preemption off.
 */
static void notrace hook_ftrace(unsigned long ip, unsigned long parent_ip,
				struct ftrace_ops *ops,
				struct ftrace_regs *fregs)
{
	struct mmrefs_hook *h;
	struct probe_entry e;
	int bit;

	for (h = probe_hooks; h < probe_hooks + NR_HOOKS; h++)
		if (h->ftrace_ip == ip)
			break;
	if (WARN_ON_ONCE(h == probe_hooks + NR_HOOKS))
		return;
	bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (bit < 0) {
		this_cpu_inc(probe_recursed[h - probe_hooks]);
		return;
	}
	e.arg = ftrace_regs_get_argument(fregs, 0);
	e.sp = ftrace_regs_get_stack_pointer(fregs);
	probe_hit(h - probe_hooks);
	h->pre(&e);
	ftrace_test_recursion_unlock(bit);
}

/*
 * PERMANENT: while it is registered, sysctl kernel.ftrace_enabled=0 is
 * refused, rather than every entry hook going silent.
 */
static struct ftrace_ops hook_ops = {
	.func = hook_ftrace,
	.flags = FTRACE_OPS_FL_PERMANENT,
};

static bool hook_ops_used, hook_ops_armed;

/*
 * Register @sym's probe disarmed (mmrefs_probes_arm() arms it).  An entry
 * hook whose probe ftrace would carry anyway (KPROBE_FLAG_FTRACE) moves
 * to hook_ops at the same address; the kprobe only told where that is.
 */
static int hook_register(struct mmrefs_hook *h, const char *sym)
{
	struct kretprobe *krp = &h->krp;
	unsigned long addr;
	int err;

	memset(krp, 0, sizeof(*krp));
	krp->kp.symbol_name = sym;
	krp->kp.flags = KPROBE_FLAG_DISABLED;
	if (h->ret) {
		krp->handler = h->ret;
		krp->entry_handler = h->entry;
		krp->data_size = h->data_size;
		krp->maxactive = MMREFS_MAXACTIVE;
		return register_kretprobe(krp);
	}
	krp->kp.pre_handler = hook_kprobe_pre;
	err = register_kprobe(&krp->kp);
	if (err)
		return err;
	addr = (unsigned long)krp->kp.addr;
	if (probe_offset(addr) > PROBE_ENTRY_MAX) {
		pr_warn("%s probed at %pS, not at its entry\n", sym,
			krp->kp.addr);
		unregister_kprobe(&krp->kp);
		return -EINVAL;
	}
	if ((krp->kp.flags & KPROBE_FLAG_FTRACE) &&
	    !ftrace_set_filter_ip(&hook_ops, addr, 0, 0)) {
		unregister_kprobe(&krp->kp);
		h->ftrace_ip = addr;
		hook_ops_used = true;
	}
	return 0;
}

static bool hook_armed(const struct mmrefs_hook *h)
{
	return h->ftrace_ip ? hook_ops_armed :
	       !(h->krp.kp.flags & KPROBE_FLAG_DISABLED);
}

static unsigned long hook_missed(const struct mmrefs_hook *h)
{
	unsigned long missed = 0;
	int cpu;

	if (!h->ftrace_ip)
		return h->krp.kp.nmissed + (h->ret ? h->krp.nmissed : 0);
	for_each_possible_cpu(cpu)
		missed += per_cpu(probe_recursed[h - probe_hooks], cpu);
	return missed;
}

/*
 * A function's extent without kallsyms_lookup_name(): an unarmed kprobe
 * resolves its address, sprint_symbol() gives "sym+off/size".  kprobes
 * refuses a trampoline, but only after resolving it: its address is set.
 */
static void resolve_text(const char *sym, unsigned long *start,
			 unsigned long *end)
{
	struct kprobe kp = {
		.symbol_name = sym,
		.flags = KPROBE_FLAG_DISABLED,
	};
	char buf[KSYM_SYMBOL_LEN];
	unsigned long off, size;
	char *plus;
	int err;

	err = register_kprobe(&kp);
	if (!kp.addr)
		return;
	sprint_symbol(buf, (unsigned long)kp.addr);
	if (!err)
		unregister_kprobe(&kp);
	plus = strrchr(buf, '+');
	if (!plus || sscanf(plus, "+%lx/%lx", &off, &size) != 2)
		return;
	*start = (unsigned long)kp.addr - off;
	*end = *start + size;
}

int mmrefs_probes_init(void)
{
	struct mmrefs_hook *h;
	const char * const *s;
	unsigned long end;
	unsigned int i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(ret_tramp_syms); i++)
		resolve_text(ret_tramp_syms[i], &ret_tramps[i], &end);
	resolve_text("mm_access", &mm_access_start, &mm_access_end);
	resolve_text("do_exit", &do_exit_start, &do_exit_end);
	resolve_text("exit_mm", &exit_mm_start, &exit_mm_end);
	resolve_text("proc_mem_open", &proc_mem_open_start,
		     &proc_mem_open_end);
	if (!proc_mem_open_end)
		pr_warn("no proc_mem_open(): an open /proc file's mmgrab() is not seen\n");
	for (h = probe_hooks; h < probe_hooks + NR_HOOKS; h++) {
		for (s = h->syms; *s; s++) {
			h->err = hook_register(h, *s);
			if (!h->err) {
				h->sym = *s;
				break;
			}
		}
		if (h->sym)
			continue;
		if (h->required) {
			pr_err("cannot probe %s: %d (kprobes unavailable?)\n",
			       h->name, h->err);
			err = h->err;
			goto out_unregister;
		}
		pr_warn("hook %s unavailable (%d), its events are not seen\n",
			h->name, h->err);
	}
	mm_access_hooked = probe_hooks[HOOK_MM_ACCESS].sym;
	/* loaded with enable=0: registered, and armed by enable=1 */
	if (READ_ONCE(mmrefs_enabled)) {
		err = mmrefs_probes_arm(true);
		if (err)
			goto out_unregister;
	}
	return 0;

out_unregister:
	mmrefs_probes_exit();
	return err;
}

/*
 * enable=0: disarm every hook (a disarmed hook costs the kernel nothing:
 * its ftrace call or breakpoint is gone); enable=1 arms them again.  A
 * return probe's instances in flight still return through their handler:
 * table.c's entry points drop those while disabled.  Process context,
 * serialized by the caller.  Arming fails only if ftrace refuses hook_ops
 * (kernel.ftrace_enabled=0), and then arms nothing.
 */
int mmrefs_probes_arm(bool on)
{
	struct mmrefs_hook *h;
	int err;

	if (on && hook_ops_used && !hook_ops_armed) {
		err = register_ftrace_function(&hook_ops);
		if (err) {
			pr_err("ftrace refused the entry hooks (%d): kernel.ftrace_enabled=0?\n",
			       err);
			return err;
		}
		hook_ops_armed = true;
	}
	for (h = probe_hooks; h < probe_hooks + NR_HOOKS; h++) {
		if (!h->sym || h->ftrace_ip)
			continue;
		err = on ? enable_kprobe(&h->krp.kp) :
			   disable_kprobe(&h->krp.kp);
		if (err)
			pr_warn("%s %s: %d\n", on ? "arming" : "disarming",
				h->sym, err);
	}
	if (!on && hook_ops_armed) {
		unregister_ftrace_function(&hook_ops);
		hook_ops_armed = false;
	}
	return 0;
}

/* Unregister in two batches: one RCU grace period each, not one a hook. */
void mmrefs_probes_exit(void)
{
	struct kretprobe *krps[NR_HOOKS];
	struct kprobe *kps[NR_HOOKS];
	unsigned int nkp = 0, nkrp = 0;
	struct mmrefs_hook *h;

	if (hook_ops_armed)
		unregister_ftrace_function(&hook_ops);
	hook_ops_armed = false;
	if (hook_ops_used)
		ftrace_free_filter(&hook_ops);
	hook_ops_used = false;
	for (h = probe_hooks; h < probe_hooks + NR_HOOKS; h++) {
		if (!h->sym)
			continue;
		if (h->ret)
			krps[nkrp++] = &h->krp;
		else if (!h->ftrace_ip)
			kps[nkp++] = &h->krp.kp;
		h->sym = NULL;
		h->ftrace_ip = 0;
	}
	if (nkp)
		unregister_kprobes(kps, nkp);
	if (nkrp)
		unregister_kretprobes(krps, nkrp);
}

void mmrefs_probes_show(struct seq_file *m)
{
	const struct mmrefs_hook *h;
	unsigned long hits;
	int cpu;

	for (h = probe_hooks; h < probe_hooks + NR_HOOKS; h++) {
		hits = 0;
		for_each_possible_cpu(cpu)
			hits += per_cpu(probe_hits[h - probe_hooks], cpu);
		if (h->sym)
			seq_printf(m, "hook=%s sym=%s via=%s state=%s hits=%lu missed=%lu\n",
				   h->name, h->sym,
				   h->ftrace_ip ? "ftrace" :
				   h->ret ? "kretprobe" : "kprobe",
				   hook_armed(h) ? "active" : "idle",
				   hits, hook_missed(h));
		else
			seq_printf(m, "hook=%s state=missing err=%d hits=0 missed=0\n",
				   h->name, h->err);
	}
}
