// SPDX-License-Identifier: GPL-2.0
/*
 * The hook points.  mmget(), mmget_not_zero(), mmgrab() and mmdrop() are
 * inlined, so mmrefs probes the out-of-line functions around them and
 * reads the counters through the struct while the probed function's
 * caller still pins the mm:
 *
 *   mmput, mmput_async       users u->u-1 (caller holds a user reference)
 *   __mmput                  teardown: users 0, the users' mm_count
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
 *   proc_mem_open (return)   an open /proc file's mmgrab()
 *
 * A symbol a kernel lacks or refuses is reported in stats; only mmput and
 * __mmdrop are required.  Handlers run with preemption off and never sleep.
 * See Documentation/trace/kprobes.rst.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/mm_types.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>

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
	HOOK_PROC_MEM_OPEN,
	NR_HOOKS,
};

static DEFINE_PER_CPU(unsigned long, hook_hits[NR_HOOKS]);

/* The probed function's return address, at its first instruction. */
static unsigned long entry_caller(struct pt_regs *regs)
{
	return *(unsigned long *)kernel_stack_pointer(regs);
}

NOKPROBE_SYMBOL(entry_caller);

static struct mm_struct *arg_mm(struct pt_regs *regs)
{
	return (struct mm_struct *)regs_get_kernel_argument(regs, 0);
}

NOKPROBE_SYMBOL(arg_mm);

static void hit(enum mmrefs_hook_id id)
{
	this_cpu_inc(hook_hits[id]);
}

NOKPROBE_SYMBOL(hit);

/* mm_access()'s text, to tell its get_task_mm() from other callers. */
static unsigned long mm_access_start, mm_access_end;
static bool mm_access_hooked;

static void put_common(struct pt_regs *regs, enum mmrefs_cause cause)
{
	struct mm_struct *mm = arg_mm(regs);
	int users = atomic_read(&mm->mm_users);
	int count = atomic_read(&mm->mm_count);

	/* exit_mm() clears ->mm before its mmput(); exec_mmap() installs
	 * the new mm before it puts the old one.
	 */
	if ((current->flags & PF_EXITING) && !current->mm)
		cause = MMREFS_CAUSE_EXIT;
	else if (current->in_execve && current->mm != mm)
		cause = MMREFS_CAUSE_EXEC;
	mmrefs_watch_hint(mm, cause, entry_caller(regs));
	mmrefs_record(mm, MMREFS_OP_PUT, cause, entry_caller(regs),
		      users, users - 1, count, count);
}

NOKPROBE_SYMBOL(put_common);

static int mmput_pre(struct kprobe *kp, struct pt_regs *regs)
{
	hit(HOOK_MMPUT);
	put_common(regs, MMREFS_CAUSE_PUT);
	return 0;
}

NOKPROBE_SYMBOL(mmput_pre);

static int mmput_async_pre(struct kprobe *kp, struct pt_regs *regs)
{
	hit(HOOK_MMPUT_ASYNC);
	put_common(regs, MMREFS_CAUSE_ASYNC);
	return 0;
}

NOKPROBE_SYMBOL(mmput_async_pre);

/*
 * __mmput() runs once mm_users is 0.  It tears the address space down and
 * ends with the mmdrop() of the reference all users shared, so the count
 * recorded is c->c-1.
 */
static int teardown_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct mm_struct *mm = arg_mm(regs);
	int users = atomic_read(&mm->mm_users);
	int count = atomic_read(&mm->mm_count);

	hit(HOOK_TEARDOWN);
	mmrefs_record(mm, MMREFS_OP_TEARDOWN, MMREFS_CAUSE_TEARDOWN,
		      entry_caller(regs), users, users, count, count - 1);
	return 0;
}

NOKPROBE_SYMBOL(teardown_pre);

/* mmdrop() found mm_count at 0: the struct is freed after this returns. */
static int free_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct mm_struct *mm = arg_mm(regs);
	int users = atomic_read(&mm->mm_users);
	int count = atomic_read(&mm->mm_count);

	hit(HOOK_FREE);
	mmrefs_record(mm, MMREFS_OP_FREE, MMREFS_CAUSE_FREE,
		      entry_caller(regs), users, users, count + 1, count);
	return 0;
}

NOKPROBE_SYMBOL(free_pre);

static int get_task_mm_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct mm_struct *mm = (struct mm_struct *)regs_return_value(regs);
	unsigned long site = get_kretprobe_retaddr(ri);
	enum mmrefs_cause cause = MMREFS_CAUSE_GET_TASK_MM;
	int users, count;

	hit(HOOK_GET_TASK_MM);
	if (!mm)
		return 0;
	/* An out-of-line call from mm_access() is recorded by its own hook. */
	if (site >= mm_access_start && site < mm_access_end) {
		if (mm_access_hooked)
			return 0;
		cause = MMREFS_CAUSE_MM_ACCESS;
	}
	users = atomic_read(&mm->mm_users);
	count = atomic_read(&mm->mm_count);
	mmrefs_record(mm, MMREFS_OP_GET, cause, site,
		      users - 1, users, count, count);
	return 0;
}

NOKPROBE_SYMBOL(get_task_mm_ret);

static int mm_access_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct mm_struct *mm = (struct mm_struct *)regs_return_value(regs);
	int users, count;

	hit(HOOK_MM_ACCESS);
	if (IS_ERR_OR_NULL(mm))
		return 0;
	users = atomic_read(&mm->mm_users);
	count = atomic_read(&mm->mm_count);
	mmrefs_record(mm, MMREFS_OP_GET, MMREFS_CAUSE_MM_ACCESS,
		      get_kretprobe_retaddr(ri), users - 1, users, count, count);
	return 0;
}

NOKPROBE_SYMBOL(mm_access_ret);

struct use_mm_data {
	struct mm_struct *mm;
	int count;
};

static int use_mm_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct use_mm_data *d = (struct use_mm_data *)ri->data;

	d->mm = arg_mm(regs);
	d->count = atomic_read(&d->mm->mm_count);
	return 0;
}

NOKPROBE_SYMBOL(use_mm_entry);

/* 6.1 grabs the mm only if it is not already active_mm; 6.12 always. */
static int use_mm_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct use_mm_data *d = (struct use_mm_data *)ri->data;
	int users = atomic_read(&d->mm->mm_users);

	hit(HOOK_USE_MM);
	mmrefs_record(d->mm, MMREFS_OP_USE, MMREFS_CAUSE_KTHREAD,
		      get_kretprobe_retaddr(ri), users, users, d->count,
		      atomic_read(&d->mm->mm_count));
	return 0;
}

NOKPROBE_SYMBOL(use_mm_ret);

/*
 * kthread_unuse_mm() leaves the mm as the thread's lazy-TLB active_mm: on
 * 6.1 the reference taken by kthread_use_mm() becomes the lazy one, on
 * 6.12 it takes a lazy reference and drops the use one.  Either way the
 * count is unchanged until the thread is switched out.
 */
static int unuse_mm_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct mm_struct *mm = arg_mm(regs);
	int users = atomic_read(&mm->mm_users);
	int count = atomic_read(&mm->mm_count);

	hit(HOOK_UNUSE_MM);
	mmrefs_record(mm, MMREFS_OP_UNUSE, MMREFS_CAUSE_KTHREAD,
		      entry_caller(regs), users, users, count, count);
	return 0;
}

NOKPROBE_SYMBOL(unuse_mm_pre);

/*
 * The child of a clone has not run yet, so its ->mm is stable: either the
 * parent's (copy_mm()'s inlined mmget() for CLONE_VM) or a new one from
 * dup_mm(), also inlined.
 */
static int clone_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct task_struct *p = (struct task_struct *)
				regs_get_kernel_argument(regs, 0);
	struct mm_struct *mm = p->mm;
	enum mmrefs_cause cause;
	int users, count;

	hit(HOOK_CLONE);
	if (!mm)
		return 0;
	if (mm != current->mm) {
		mmrefs_new(mm, p, MMREFS_CAUSE_FORK, entry_caller(regs));
		return 0;
	}
	if (same_thread_group(p, current))
		cause = MMREFS_CAUSE_THREAD;
	else if (p->vfork_done)
		cause = MMREFS_CAUSE_VFORK;
	else
		cause = MMREFS_CAUSE_CLONE_VM;
	users = atomic_read(&mm->mm_users);
	count = atomic_read(&mm->mm_count);
	mmrefs_record(mm, MMREFS_OP_GET, cause, entry_caller(regs),
		      users - 1, users, count, count);
	return 0;
}

NOKPROBE_SYMBOL(clone_pre);

static int mm_alloc_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct mm_struct *mm = (struct mm_struct *)regs_return_value(regs);

	hit(HOOK_MM_ALLOC);
	if (mm)
		mmrefs_new(mm, current, MMREFS_CAUSE_EXEC,
			   get_kretprobe_retaddr(ri));
	return 0;
}

NOKPROBE_SYMBOL(mm_alloc_ret);

/* The open file keeps an mmgrab() until its release. */
static int proc_mem_open_ret(struct kretprobe_instance *ri,
			     struct pt_regs *regs)
{
	struct mm_struct *mm = (struct mm_struct *)regs_return_value(regs);
	int users, count;

	hit(HOOK_PROC_MEM_OPEN);
	if (IS_ERR_OR_NULL(mm))
		return 0;
	users = atomic_read(&mm->mm_users);
	count = atomic_read(&mm->mm_count);
	mmrefs_record(mm, MMREFS_OP_GRAB, MMREFS_CAUSE_PROC,
		      get_kretprobe_retaddr(ri), users, users, count - 1, count);
	return 0;
}

NOKPROBE_SYMBOL(proc_mem_open_ret);

struct mmrefs_hook {
	const char *name;
	const char * const *syms;	/* candidates, first that works wins */
	bool required;
	kprobe_pre_handler_t pre;
	kretprobe_handler_t entry, ret;
	size_t data_size;
	struct kretprobe krp;		/* plain kprobes use krp.kp */
	const char *sym;		/* the registered one */
	int err;
};

#define SYMS(...) ((const char * const []){ __VA_ARGS__, NULL })

static struct mmrefs_hook hooks[NR_HOOKS] = {
	[HOOK_MMPUT] = { "mmput", SYMS("mmput"), true, mmput_pre },
	[HOOK_MMPUT_ASYNC] = { "mmput_async", SYMS("mmput_async"), false,
			       mmput_async_pre },
	[HOOK_TEARDOWN] = { "teardown", SYMS("__mmput", "exit_mmap"), false,
			    teardown_pre },
	[HOOK_FREE] = { "__mmdrop", SYMS("__mmdrop"), true, free_pre },
	[HOOK_GET_TASK_MM] = { "get_task_mm", SYMS("get_task_mm"), false,
			       NULL, NULL, get_task_mm_ret },
	[HOOK_MM_ACCESS] = { "mm_access", SYMS("mm_access"), false,
			     NULL, NULL, mm_access_ret },
	[HOOK_USE_MM] = { "kthread_use_mm", SYMS("kthread_use_mm"), false,
			  NULL, use_mm_entry, use_mm_ret,
			  sizeof(struct use_mm_data) },
	[HOOK_UNUSE_MM] = { "kthread_unuse_mm", SYMS("kthread_unuse_mm"),
			    false, unuse_mm_pre },
	[HOOK_CLONE] = { "clone", SYMS("wake_up_new_task"), false, clone_pre },
	[HOOK_MM_ALLOC] = { "mm_alloc", SYMS("mm_alloc"), false,
			    NULL, NULL, mm_alloc_ret },
	[HOOK_PROC_MEM_OPEN] = { "proc_mem_open", SYMS("proc_mem_open"), false,
				 NULL, NULL, proc_mem_open_ret },
};

/* Enough return instances for every CPU to sleep in mm_alloc() a while. */
#define MMREFS_MAXACTIVE	64

static int hook_register(struct mmrefs_hook *h, const char *sym)
{
	struct kretprobe *krp = &h->krp;

	memset(krp, 0, sizeof(*krp));
	krp->kp.symbol_name = sym;
	if (!h->ret) {
		krp->kp.pre_handler = h->pre;
		return register_kprobe(&krp->kp);
	}
	krp->handler = h->ret;
	krp->entry_handler = h->entry;
	krp->data_size = h->data_size;
	krp->maxactive = MMREFS_MAXACTIVE;
	return register_kretprobe(krp);
}

static void hook_unregister(struct mmrefs_hook *h)
{
	if (!h->sym)
		return;
	if (h->ret)
		unregister_kretprobe(&h->krp);
	else
		unregister_kprobe(&h->krp.kp);
	h->sym = NULL;
}

static unsigned long hook_missed(const struct mmrefs_hook *h)
{
	return h->krp.kp.nmissed + (h->ret ? h->krp.nmissed : 0);
}

/*
 * A function's extent without kallsyms_lookup_name(): an unarmed kprobe
 * resolves its address, sprint_symbol() gives "sym+off/size".
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

	if (register_kprobe(&kp))
		return;
	sprint_symbol(buf, (unsigned long)kp.addr);
	unregister_kprobe(&kp);
	plus = strrchr(buf, '+');
	if (!plus || sscanf(plus, "+%lx/%lx", &off, &size) != 2)
		return;
	*start = (unsigned long)kp.addr - off;
	*end = *start + size;
}

/* proc_mem_open()'s text: its mm_access() get is put before it returns. */
static unsigned long proc_mem_open_start, proc_mem_open_end;

bool mmrefs_transient_get(unsigned long site)
{
	return site >= proc_mem_open_start && site < proc_mem_open_end;
}

int mmrefs_probes_init(void)
{
	struct mmrefs_hook *h;
	const char * const *s;
	int err = 0;

	resolve_text("mm_access", &mm_access_start, &mm_access_end);
	resolve_text("proc_mem_open", &proc_mem_open_start,
		     &proc_mem_open_end);
	for (h = hooks; h < hooks + NR_HOOKS; h++) {
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
	mm_access_hooked = hooks[HOOK_MM_ACCESS].sym;
	return 0;

out_unregister:
	mmrefs_probes_exit();
	return err;
}

void mmrefs_probes_exit(void)
{
	struct mmrefs_hook *h;

	for (h = hooks; h < hooks + NR_HOOKS; h++)
		hook_unregister(h);
}

void mmrefs_probes_show(struct seq_file *m)
{
	const struct mmrefs_hook *h;
	unsigned long hits;
	int cpu;

	for (h = hooks; h < hooks + NR_HOOKS; h++) {
		hits = 0;
		for_each_possible_cpu(cpu)
			hits += per_cpu(hook_hits[h - hooks], cpu);
		if (h->sym)
			seq_printf(m, "hook=%s sym=%s state=active hits=%lu missed=%lu\n",
				   h->name, h->sym, hits, hook_missed(h));
		else
			seq_printf(m, "hook=%s state=missing err=%d hits=0 missed=0\n",
				   h->name, h->err);
	}
}
