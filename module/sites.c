// SPDX-License-Identifier: GPL-2.0
/*
 * Exact mode: a kprobe on every instruction that writes mm_users or
 * mm_count, inlined helpers included, so every transition of every mm is
 * an event.  The sites come from a list (scripts/mmrefs-sites reads them
 * from the kernel's DWARF), written to the debugfs file `sites`:
 *
 *   # mmrefs-sites 1
 *   # release 6.1.0-57-amd64
 *   # version #1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1 (2025-11-09)
 *   # anchor mmput ffffffff81086e40
 *   # mm_struct users=0x58 count=0x5c
 *   ffffffff812a4c58 m_start+0x58 users cmpxchg mmget_not_zero 0x58(%rdi) m_start>mmget_not_zero
 *   # module mmrefs_borrow
 *   - borrow_grab+0x1c count inc mmgrab 0x5c(%rbx) borrow_grab>mmgrab
 *
 * A vmlinux site is placed at its listed address moved by the KASLR slide
 * (the anchor's), and only if kallsyms names it as listed and the bytes
 * there decode as the listed operation; a module's attaches when the
 * module loads and detaches when it goes.  The handler computes the
 * counter's address from the registers, so the mm comes from the write
 * itself.  inc, dec, add and sub are known before they run: their probes
 * only record, and the kernel may jump-optimize them.  A cmpxchg
 * (mmget_not_zero()) succeeds or not: its probe has it done, atomically,
 * under the mm's entry lock (so no sync of the entry sees it before its
 * event), sets the registers and flags as the instruction would and skips
 * it, so a failed one is no event.  Lazy-TLB moves (the scheduler's)
 * are listed but never armed: they are counted at read time.
 *
 * Writing the list is all or nothing: a bad line fails the write with
 * -EINVAL and the list in use stays.  `clear` disarms every site.  While
 * enable is 0 (every probe disarmed) a site line fails with -EPERM.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/irq_work.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/mm_types.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/utsname.h>
#include <linux/workqueue.h>

#include "mmrefs.h"

#define SITES_MAX	4096
#define SITE_LINE_MAX	256
#define HELPER_LEN	32

enum site_state {
	SITE_ARMED,
	SITE_REFUSED,
	SITE_LAZY,
	SITE_WAITING,		/* for its module to load */
};

static const char * const site_state_names[] = {
	[SITE_ARMED] = "armed",
	[SITE_REFUSED] = "refused",
	[SITE_LAZY] = "lazy",
	[SITE_WAITING] = "waiting",
};

struct mmrefs_site {
	struct list_head node;		/* on sites, RCU for learn lookups */
	struct kprobe kp;
	unsigned long addr;		/* where it is placed, 0: not yet */
	unsigned long list_addr;	/* the list's, 0 for a module's */
	unsigned int off;
	char sym[KSYM_NAME_LEN];
	char module[MODULE_NAME_LEN];	/* "": vmlinux */
	char helper[HELPER_LEN];
	struct mmrefs_insn in;		/* decoded at arming */
	/* fixed at arming, for the handler: */
	unsigned int ctr_off;		/* offsetof() of the counter */
	int delta;			/* inc/dec/add/sub: by how much */
	enum mmrefs_op op;		/* ... and what that write is */
	enum mmrefs_insn_kind kind;	/* as listed */
	enum mmrefs_counter ctr;
	enum site_state state;
	bool registered;
	bool learned;
	bool computed;			/* listed note=disp: any displacement */
	u8 flags;			/* MMREFS_SITE_* of its function */
	const char *why;		/* refused: why */
	int err;
	unsigned long __percpu *hits;
};

static LIST_HEAD(sites);
static DEFINE_MUTEX(sites_mutex);
static unsigned int nr_sites;
/* learned sites (see mmrefs_sites_learn()) in the list now */
static unsigned int nr_learned;

/* Sites that must be in the list for exact mode: none refused, none lost. */
static bool sites_exact;

/* A kprobe with a post handler is never optimized: cmpxchg emulation. */
static void site_post(struct kprobe *kp, struct pt_regs *regs,
		      unsigned long flags)
{
}

NOKPROBE_SYMBOL(site_post);

/*
 * lock cmpxchg %src,(mem) was done for the instruction (table.c, under
 * the entry lock): @mem is what it found.  Set what the instruction would
 * have: on failure EAX = the counter; flags as CMP EAX,(mem).  Then skip.
 */
static void site_cmpxchg_regs(const struct mmrefs_site *s,
			      struct pt_regs *regs, bool done, int found)
{
	u32 expect = (u32)regs->ax, mem = (u32)found, r = expect - mem;
	unsigned long f;

	f = regs->flags & ~(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF |
			    X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_OF);
	if (expect < mem)
		f |= X86_EFLAGS_CF;
	if (!(hweight8(r & 0xff) & 1))
		f |= X86_EFLAGS_PF;
	if ((expect ^ mem ^ r) & 0x10)
		f |= X86_EFLAGS_AF;
	if (!r)
		f |= X86_EFLAGS_ZF;
	if (r & BIT(31))
		f |= X86_EFLAGS_SF;
	if ((expect ^ mem) & (expect ^ r) & BIT(31))
		f |= X86_EFLAGS_OF;
	regs->flags = f;
	if (!done)
		regs->ax = mem;		/* a 32-bit write zero-extends */
	regs->ip = (unsigned long)s->kp.addr + s->in.len;
}

NOKPROBE_SYMBOL(site_cmpxchg_regs);

/*
 * A watched mm's write at an armed site runs out of line (the kprobe's
 * single-step slot or optimized detour), where the watchpoint traps with
 * an address that names no function.  The probe leaves the site here for
 * that trap (mmrefs_sites_origin()), on this CPU, right before it.
 */
struct site_mark {
	struct task_struct *task;
	unsigned long addr;
};

static DEFINE_PER_CPU(struct site_mark, site_marks);

static void site_mark(const struct mmrefs_site *s)
{
	struct site_mark *m = this_cpu_ptr(&site_marks);

	m->task = current;
	m->addr = s->addr;
}

NOKPROBE_SYMBOL(site_mark);

/* The site a watched write at @ip really is (watch.c, #DB). */
unsigned long mmrefs_sites_origin(unsigned long ip)
{
	struct site_mark *m = this_cpu_ptr(&site_marks);

	if (m->task != current)
		return ip;
	m->task = NULL;
	return m->addr;
}

static int site_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct mmrefs_site *s = container_of(kp, struct mmrefs_site, kp);
	unsigned long addr = mmrefs_insn_addr(&s->in, regs);
	struct mmrefs_write wr = {
		.ctr = s->ctr, .kind = MMREFS_WRITE_DELTA,
		.delta = s->delta, .op = s->op,
	};
	const struct mm_struct *mm = (void *)(addr - s->ctr_off);
	unsigned long sp = kernel_stack_pointer(regs);
	unsigned long site = s->addr;
	struct mmrefs_hint hint;
	int found, ret;

	this_cpu_inc(*s->hits);
	if (s->in.kind == MMREFS_INSN_CMPXCHG) {
		/* table.c does it, under the entry lock */
		wr.kind = MMREFS_WRITE_CMPXCHG;
		wr.ptr = (atomic_t *)addr;
		wr.old = (int)regs->ax;
		wr.new = (int)mmrefs_insn_reg(regs, s->in.reg);
		wr.delta = wr.new - wr.old;
		wr.op = mmrefs_write_op(s->ctr, s->in.kind, wr.delta, s->flags);
	}
	/* get_task_mm(), mm_access(), mmput() are out of line: their callers */
	found = mmrefs_hint_take(wr.op, s->flags, mm, sp, &hint);
	if (found > 0)
		site = hint.site;
	if (found > 0 && wr.op == MMREFS_OP_MMPUT)
		wr.cause = hint.cause;
	else
		wr.cause = mmrefs_write_cause(wr.op, s->flags, mm);
	if (wr.cause == MMREFS_CAUSE_TRAP)
		wr.cause = MMREFS_CAUSE_SITE;
	wr.site = site;
	ret = mmrefs_site_record(mm, &wr);
	if (!ret && found < 0)
		mmrefs_count_stat(MMREFS_STAT_HINT_LOST);
	if (!ret && mmrefs_holder_wants_stack(wr.op, wr.cause, false))
		mmrefs_stack_defer(mm, &wr.at, false, s->addr);
	/*
	 * watched (exact mode on or not): the watchpoint records it, out of
	 * line, and needs the site and the hint
	 */
	if (ret == -EEXIST) {
		site_mark(s);
		if (found > 0 && wr.op == MMREFS_OP_MMPUT)
			mmrefs_put_hint(mm, &hint);
		else if (found > 0)
			mmrefs_get_hint(&hint);
	}
	/* a cmpxchg done (recorded or failed) is skipped; else it runs */
	if (wr.kind == MMREFS_WRITE_CMPXCHG && ret >= 0) {
		site_cmpxchg_regs(s, regs, !ret, wr.mem);
		return 1;
	}
	return 0;
}

NOKPROBE_SYMBOL(site_pre);

static char arm_name[KSYM_SYMBOL_LEN];
static char arm_want[MODULE_NAME_LEN + KSYM_NAME_LEN + 16];

/*
 * Why the code at @addr is not @s's listed write, or NULL; @in: it.  On
 * NULL, what the handler needs that the instruction fixes is set, before
 * the probe can fire.
 */
static const char *site_check(struct mmrefs_site *s, unsigned long addr,
			      struct mmrefs_insn *in)
{
	unsigned int off = s->ctr == MMREFS_CTR_USERS ?
			   offsetof(struct mm_struct, mm_users) :
			   offsetof(struct mm_struct, mm_count);
	u8 buf[16];

	if (copy_from_kernel_nofault(buf, (void *)addr, sizeof(buf)) ||
	    !mmrefs_insn_decode(buf, sizeof(buf), in) || in->kind != s->kind)
		return "instruction-differs";
	if (!s->computed && in->disp != off)
		return "operand-differs";
	if (in->kind == MMREFS_INSN_XADD)
		return "xadd-not-emulated";
	s->ctr_off = off;
	s->delta = mmrefs_insn_delta(in);
	s->op = mmrefs_write_op(s->ctr, in->kind, s->delta, s->flags);
	return NULL;
}

static void site_refuse(struct mmrefs_site *s, const char *why, int err)
{
	s->state = SITE_REFUSED;
	s->why = why;
	s->err = err;
}

/*
 * Place @s (sites_mutex held, which also guards the name buffers).  A
 * vmlinux site's address is known: it is checked, then registered armed.
 * A module's is registered disabled to learn its address, checked, then
 * enabled; one whose module is not loaded waits for it.
 */
static void site_arm(struct mmrefs_site *s)
{
	char *name = arm_name, *want = arm_want;
	const char *why;
	int err;

	if (s->state == SITE_LAZY || s->registered)
		return;
	memset(&s->kp, 0, sizeof(s->kp));
	s->kp.pre_handler = site_pre;
	if (s->kind == MMREFS_INSN_CMPXCHG)
		s->kp.post_handler = site_post;
	s->why = NULL;
	s->err = 0;
	if (s->module[0]) {
		/* "module:symbol", so a name in vmlinux is never taken */
		snprintf(want, sizeof(arm_want), "%s:%s", s->module, s->sym);
		s->kp.symbol_name = want;
		s->kp.offset = s->off;
		s->kp.flags = KPROBE_FLAG_DISABLED;
	} else {
		sprint_symbol(name, s->addr);
		snprintf(want, sizeof(arm_want), "%s+%#x/", s->sym, s->off);
		why = str_has_prefix(name, want) ?
		      site_check(s, s->addr, &s->in) : "symbol-differs";
		if (why) {
			site_refuse(s, why, 0);
			return;
		}
		s->kp.addr = (kprobe_opcode_t *)s->addr;
	}
	err = register_kprobe(&s->kp);
	s->kp.symbol_name = NULL;
	if (err == -ENOENT && s->module[0]) {
		s->state = SITE_WAITING;
		return;
	}
	if (err) {
		site_refuse(s, "kprobe", err);
		return;
	}
	s->registered = true;
	mmrefs_hints_want(true);
	s->addr = (unsigned long)s->kp.addr;
	if (s->module[0]) {
		why = site_check(s, s->addr, &s->in);
		err = why ? 0 : enable_kprobe(&s->kp);
		if (why || err) {
			unregister_kprobe(&s->kp);
			s->registered = false;
			mmrefs_hints_want(false);
			site_refuse(s, why ?: "enable", err);
			return;
		}
	}
	s->state = SITE_ARMED;
}

static void site_disarm(struct mmrefs_site *s)
{
	if (!s->registered)
		return;
	unregister_kprobe(&s->kp);
	s->registered = false;
	mmrefs_hints_want(false);
	if (s->state == SITE_ARMED)
		s->state = s->module[0] ? SITE_WAITING : SITE_REFUSED;
}

static void site_free(struct mmrefs_site *s)
{
	free_percpu(s->hits);
	kfree(s);
}

/*
 * Exact mode is on when every vmlinux site is armed or lazy; it restarts
 * (every entry synced again) whenever the set of armed sites changes
 * under a running system.  sites_mutex held.
 */
static void sites_update_exact(void)
{
	struct mmrefs_site *s;
	bool armed = false;

	mmrefs_exact_end();
	list_for_each_entry(s, &sites, node)
		armed |= s->state == SITE_ARMED;
	sites_exact = armed;
	if (armed)
		mmrefs_exact_begin();
}

/* Disarm and forget every site (sites_mutex held). */
static void sites_drop_all(void)
{
	struct kprobe **kps;
	struct mmrefs_site *s, *tmp;
	unsigned int n = 0, nr_registered = 0;

	mmrefs_exact_end();
	sites_exact = false;
	kps = kcalloc(nr_sites ?: 1, sizeof(*kps), GFP_KERNEL);
	list_for_each_entry(s, &sites, node) {
		if (!s->registered)
			continue;
		if (kps)
			kps[n++] = &s->kp;
		else
			unregister_kprobe(&s->kp);
		s->registered = false;
		nr_registered++;
	}
	/* one grace period for all of them */
	if (n)
		unregister_kprobes(kps, n);
	kfree(kps);
	while (nr_registered--)
		mmrefs_hints_want(false);
	list_for_each_entry_safe(s, tmp, &sites, node) {
		list_del_rcu(&s->node);
		synchronize_rcu();	/* mmrefs_sites_learn() readers */
		site_free(s);
	}
	nr_sites = 0;
	/* the learned sites went with the list: a new list learns anew */
	WRITE_ONCE(nr_learned, 0);
}

void mmrefs_sites_clear(void)
{
	mutex_lock(&sites_mutex);
	sites_drop_all();
	mutex_unlock(&sites_mutex);
}

/* A list being written: parsed line by line, armed at close. */
struct sites_load {
	struct list_head sites;
	unsigned int nr;
	char line[SITE_LINE_MAX];
	unsigned int len;
	bool started, release, version, anchor, layout, clear;
	long slide;
	char module[MODULE_NAME_LEN];
	int err;
};

static const char * const kind_names[] = {
	[MMREFS_INSN_INC] = "inc", [MMREFS_INSN_DEC] = "dec",
	[MMREFS_INSN_ADD] = "add", [MMREFS_INSN_SUB] = "sub",
	[MMREFS_INSN_CMPXCHG] = "cmpxchg", [MMREFS_INSN_XADD] = "xadd",
};

static int parse_header(struct sites_load *l, char *line)
{
	unsigned long addr, users, count;
	char *key = strsep(&line, " ");

	if (!line)
		return l->started ? 0 : -EINVAL;
	if (!strcmp(key, "mmrefs-sites")) {
		if (strcmp(line, "1"))
			return -EINVAL;
		l->started = true;
		return 0;
	}
	if (!l->started)
		return -EINVAL;
	if (!strcmp(key, "release")) {
		/* a list for another kernel: refuse it whole */
		if (strcmp(line, init_utsname()->release))
			return -EINVAL;
		l->release = true;
	} else if (!strcmp(key, "version")) {
		if (strcmp(line, init_utsname()->version))
			return -EINVAL;
		l->version = true;
	} else if (!strcmp(key, "anchor")) {
		if (!str_has_prefix(line, "mmput ") ||
		    kstrtoul(line + strlen("mmput "), 16, &addr))
			return -EINVAL;
		l->slide = (long)((unsigned long)mmput - addr);
		l->anchor = true;
		l->module[0] = '\0';
	} else if (!strcmp(key, "module")) {
		if (!*line || strlen(line) >= sizeof(l->module) ||
		    strchr(line, ':'))
			return -EINVAL;
		strscpy(l->module, line, sizeof(l->module));
	} else if (!strcmp(key, "mm_struct")) {
		if (sscanf(line, "users=%lx count=%lx", &users, &count) != 2)
			return -EINVAL;
		/* the struct must be this kernel's */
		if (users != offsetof(struct mm_struct, mm_users) ||
		    count != offsetof(struct mm_struct, mm_count))
			return -EINVAL;
		l->layout = true;
	}
	return 0;
}

static int parse_site(struct sites_load *l, char *line)
{
	char *f[8] = { NULL };
	struct mmrefs_site *s;
	unsigned int i, n = 0;
	char *plus;

	while (n < ARRAY_SIZE(f) && (f[n] = strsep(&line, " ")))
		n++;
	if (n < 7 || line || !l->started || !l->layout)
		return -EINVAL;
	/* enable=0 disarmed the probes exact mode stands on (debugfs.c) */
	if (!READ_ONCE(mmrefs_enabled))
		return -EPERM;
	if (l->nr + nr_sites >= SITES_MAX)
		return -E2BIG;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	list_add_tail(&s->node, &l->sites);
	l->nr++;
	s->hits = alloc_percpu(unsigned long);
	if (!s->hits)
		return -ENOMEM;
	if (!strcmp(f[0], "-")) {
		if (!l->module[0])
			return -EINVAL;
		strscpy(s->module, l->module, sizeof(s->module));
	} else {
		if (l->module[0] || !l->release || !l->version ||
		    !l->anchor || kstrtoul(f[0], 16, &s->list_addr))
			return -EINVAL;
		s->addr = s->list_addr + l->slide;
	}
	plus = strstr(f[1], "+0x");
	if (!plus || plus == f[1] || plus - f[1] >= KSYM_NAME_LEN ||
	    kstrtouint(plus + 1, 16, &s->off))
		return -EINVAL;
	*plus = '\0';
	strscpy(s->sym, f[1], sizeof(s->sym));
	if (!strcmp(f[2], "users"))
		s->ctr = MMREFS_CTR_USERS;
	else if (!strcmp(f[2], "count"))
		s->ctr = MMREFS_CTR_COUNT;
	else
		return -EINVAL;
	for (i = MMREFS_INSN_INC; i < ARRAY_SIZE(kind_names); i++)
		if (!strcmp(f[3], kind_names[i]))
			s->kind = i;
	if (!s->kind || strlen(f[4]) >= HELPER_LEN)
		return -EINVAL;
	strscpy(s->helper, f[4], sizeof(s->helper));
	if (f[7] && !strcmp(f[7], "note=disp"))
		s->computed = true;
	else if (f[7] && !str_has_prefix(f[7], "note="))
		return -EINVAL;
	s->flags = mmrefs_name_flags(s->sym);
	/*
	 * The lazy-TLB helpers say so by their names (6.2 on); before, the
	 * function tells (mmrefs_name_flags()).  Never armed.
	 */
	if (strstr(s->helper, "lazy_tlb") || !strcmp(s->helper, "mmdrop_sched") ||
	    (s->ctr == MMREFS_CTR_COUNT &&
	     mmrefs_write_op(s->ctr, s->kind,
			     s->kind == MMREFS_INSN_DEC ||
			     s->kind == MMREFS_INSN_SUB ? -1 : 1,
			     s->flags) == MMREFS_OP_LAZY_TLB))
		s->state = SITE_LAZY;
	else
		s->state = SITE_WAITING;
	return 0;
}

static int parse_line(struct sites_load *l, char *line)
{
	if (!*line)
		return 0;
	/* clear stands alone */
	if (l->clear)
		return -EINVAL;
	if (line[0] == '#')
		return parse_header(l, line + (line[1] == ' ' ? 2 : 1));
	if (!strcmp(line, "clear")) {
		if (l->started || l->nr)
			return -EINVAL;
		l->clear = true;
		return 0;
	}
	return parse_site(l, line);
}

static void load_free(struct sites_load *l)
{
	struct mmrefs_site *s, *tmp;

	list_for_each_entry_safe(s, tmp, &l->sites, node)
		site_free(s);
	kfree(l);
}

/*
 * One write(2) of the list: complete lines are parsed now, so a bad one
 * fails this write; the rest waits for the next.  @state is the open
 * file's.  Returns 0 or a negative errno.
 */
int mmrefs_sites_write(const char *buf, size_t len, void **state)
{
	struct sites_load *l = *state;
	size_t i;
	int err;

	if (!l) {
		l = kzalloc(sizeof(*l), GFP_KERNEL);
		if (!l)
			return -ENOMEM;
		INIT_LIST_HEAD(&l->sites);
		*state = l;
	}
	if (l->err)
		return l->err;
	for (i = 0; i < len; i++) {
		if (buf[i] != '\n') {
			if (l->len == SITE_LINE_MAX - 1) {
				l->err = -EINVAL;
				return l->err;
			}
			l->line[l->len++] = buf[i];
			continue;
		}
		l->line[l->len] = '\0';
		l->len = 0;
		err = parse_line(l, l->line);
		if (err) {
			l->err = err;
			return err;
		}
	}
	return 0;
}

/*
 * The file is closed: a list without errors replaces the one in use.
 * Returns 0, or the errno the writes already returned.
 */
int mmrefs_sites_commit(void **state)
{
	struct sites_load *l = *state;
	struct mmrefs_site *s, *tmp;
	int err = 0;

	if (!l)
		return 0;
	*state = NULL;
	if (!l->err && l->len) {
		l->line[l->len] = '\0';
		l->err = parse_line(l, l->line);
	}
	if (l->err) {
		err = l->err;
		goto out;
	}
	if (!l->clear && !l->nr)
		goto out;
	/*
	 * enable=0 came between the list's writes and its close: refused,
	 * though close() cannot say so (the list in use shows it)
	 */
	if (l->nr && !READ_ONCE(mmrefs_enabled)) {
		err = -EPERM;
		goto out;
	}
	mutex_lock(&sites_mutex);
	sites_drop_all();
	list_for_each_entry_safe(s, tmp, &l->sites, node) {
		list_del(&s->node);
		list_add_tail_rcu(&s->node, &sites);
		nr_sites++;
		site_arm(s);
	}
	sites_update_exact();
	mutex_unlock(&sites_mutex);
out:
	load_free(l);
	return err;
}

/*
 * Learned sites: a watched write (watch.c) at an instruction no listed
 * site covers.  #DB hands it to a per-CPU slot, irq_work to a work item,
 * which adds and arms it and restarts exact mode (the writes it made
 * before were not seen).
 */
#define LEARN_MAX	64

struct learn_req {
	unsigned long site;
	enum mmrefs_counter ctr;
	struct mmrefs_insn in;
	atomic_t busy;
};

static DEFINE_PER_CPU(struct learn_req, learn_reqs);
static struct irq_work learn_irq;
static struct work_struct learn_work;

/* Any context, #DB included. */
void mmrefs_sites_learn(unsigned long site, enum mmrefs_counter ctr,
			const struct mmrefs_insn *in)
{
	struct learn_req *r = this_cpu_ptr(&learn_reqs);
	struct mmrefs_site *s;

	rcu_read_lock();
	list_for_each_entry_rcu(s, &sites, node) {
		if (s->addr == site) {
			rcu_read_unlock();
			return;
		}
	}
	rcu_read_unlock();
	/* only a list in use learns: the sites it lacks */
	if (!READ_ONCE(sites_exact) || READ_ONCE(nr_learned) >= LEARN_MAX ||
	    atomic_cmpxchg_acquire(&r->busy, 0, 1))
		return;
	r->site = site;
	r->ctr = ctr;
	r->in = *in;
	irq_work_queue(&learn_irq);
}

static void learn_kick(struct irq_work *work)
{
	schedule_work(&learn_work);
}

/* One learned site from @r (sites_mutex held); false if known already. */
static bool learn_one(const struct learn_req *r)
{
	char name[KSYM_SYMBOL_LEN], *plus, *mod;
	struct mmrefs_site *s;

	list_for_each_entry(s, &sites, node)
		if (s->addr == r->site)
			return false;
	if (nr_sites >= SITES_MAX || nr_learned >= LEARN_MAX)
		return false;
	sprint_symbol(name, r->site);
	plus = strstr(name, "+0x");
	/* no function's code: a kprobe's slot, a trampoline ("[__builtin__") */
	if (!plus || strstr(plus, "[__builtin__"))
		return false;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return false;
	s->hits = alloc_percpu(unsigned long);
	if (!s->hits || kstrtouint(strsep(&plus, "/") + 1, 16, &s->off)) {
		site_free(s);
		return false;
	}
	*strstr(name, "+0x") = '\0';
	strscpy(s->sym, name, sizeof(s->sym));
	mod = plus ? strchr(plus, '[') : NULL;
	if (mod) {
		strscpy(s->module, mod + 1, sizeof(s->module));
		s->module[strcspn(s->module, "]")] = '\0';
	} else {
		s->addr = r->site;
		s->list_addr = r->site;
	}
	strscpy(s->helper, "-", sizeof(s->helper));
	s->kind = r->in.kind;
	s->ctr = r->ctr;
	s->computed = true;
	s->learned = true;
	s->flags = mmrefs_name_flags(s->sym);
	s->state = mmrefs_write_op(s->ctr, s->kind,
				   mmrefs_insn_delta(&r->in) ?: 1, s->flags) ==
		   MMREFS_OP_LAZY_TLB ? SITE_LAZY : SITE_WAITING;
	list_add_tail_rcu(&s->node, &sites);
	nr_sites++;
	WRITE_ONCE(nr_learned, nr_learned + 1);
	site_arm(s);
	return s->state == SITE_ARMED;
}

static void learn_fn(struct work_struct *work)
{
	struct learn_req *r;
	bool armed = false;
	int cpu;

	mutex_lock(&sites_mutex);
	for_each_possible_cpu(cpu) {
		r = per_cpu_ptr(&learn_reqs, cpu);
		if (!atomic_read_acquire(&r->busy))
			continue;
		/*
		 * a watch's trap from before enable=0 or a clear: no site
		 * while idle, none without a list
		 */
		if (READ_ONCE(mmrefs_enabled) && sites_exact)
			armed |= learn_one(r);
		atomic_set_release(&r->busy, 0);
	}
	/* writes at a site armed only now were missed: start again */
	if (armed && sites_exact)
		sites_update_exact();
	mutex_unlock(&sites_mutex);
}

/* A module's sites attach when it loads and detach when it goes. */
static int sites_module_event(struct notifier_block *nb, unsigned long action,
			      void *data)
{
	struct module *mod = data;
	struct mmrefs_site *s;
	bool armed = false;

	if (action != MODULE_STATE_COMING && action != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	/* what was recorded keeps the names of the code that goes */
	if (action == MODULE_STATE_GOING)
		mmrefs_table_module_going(mod);
	mutex_lock(&sites_mutex);
	list_for_each_entry(s, &sites, node) {
		if (strcmp(s->module, mod->name))
			continue;
		if (action == MODULE_STATE_GOING) {
			site_disarm(s);
			s->addr = 0;
		} else if (s->state == SITE_WAITING) {
			site_arm(s);
			armed |= s->state == SITE_ARMED;
		}
	}
	/* its code has not run yet: nothing was missed */
	if (armed && !sites_exact)
		sites_update_exact();
	mutex_unlock(&sites_mutex);
	return NOTIFY_OK;
}

static struct notifier_block sites_module_nb = {
	.notifier_call = sites_module_event,
};

static const char *site_probe_kind(const struct mmrefs_site *s)
{
	u8 op;

	if (s->state != SITE_ARMED)
		return "-";
	if (s->kind == MMREFS_INSN_CMPXCHG)
		return "emulated";
	/* a jump where the int3 was: the kprobe optimizer's */
	if (copy_from_kernel_nofault(&op, (void *)s->addr, 1))
		return "-";
	return op == 0xe9 ? "optimized" : "int3";
}

static unsigned long site_hits(const struct mmrefs_site *s)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += *per_cpu_ptr(s->hits, cpu);
	return sum;
}

static void sites_count(unsigned int *by_state, unsigned int *optimized,
			unsigned long *missed)
{
	struct mmrefs_site *s;

	list_for_each_entry(s, &sites, node) {
		by_state[s->state]++;
		if (!strcmp(site_probe_kind(s), "optimized"))
			(*optimized)++;
		if (s->registered)
			*missed += s->kp.nmissed;
	}
}

void mmrefs_sites_show(struct seq_file *m)
{
	unsigned int by_state[ARRAY_SIZE(site_state_names)] = { 0 };
	unsigned int optimized = 0;
	unsigned long missed = 0;
	struct mmrefs_site *s;

	mutex_lock(&sites_mutex);
	sites_count(by_state, &optimized, &missed);
	seq_printf(m, "sites=%u armed=%u optimized=%u refused=%u lazy=%u waiting=%u learned=%u exact=%s missed=%lu\n",
		   nr_sites, by_state[SITE_ARMED], optimized,
		   by_state[SITE_REFUSED], by_state[SITE_LAZY],
		   by_state[SITE_WAITING], nr_learned,
		   sites_exact ? "on" : "off", missed);
	list_for_each_entry(s, &sites, node) {
		seq_printf(m, "site=%s+%#x module=%s counter=%s op=%s helper=%s state=%s%s probe=%s hits=%lu missed=%lu",
			   s->sym, s->off, s->module[0] ? s->module : "vmlinux",
			   mmrefs_counter_name(s->ctr), kind_names[s->kind],
			   s->helper, site_state_names[s->state],
			   s->learned ? " learned=1" : "",
			   site_probe_kind(s), site_hits(s),
			   s->registered ? s->kp.nmissed : 0);
		if (s->why)
			seq_printf(m, " why=%s", s->why);
		if (s->err)
			seq_printf(m, " err=%d", s->err);
		seq_putc(m, '\n');
	}
	mutex_unlock(&sites_mutex);
}

/* Sites listed, armed or not (debugfs.c: enable=0 waits for none). */
unsigned int mmrefs_sites_listed(void)
{
	return READ_ONCE(nr_sites);
}

/* The summary in stats: sites=0 without a list. */
void mmrefs_sites_stats(struct seq_file *m)
{
	unsigned int by_state[ARRAY_SIZE(site_state_names)] = { 0 };
	unsigned int optimized = 0;
	unsigned long missed = 0;

	mutex_lock(&sites_mutex);
	sites_count(by_state, &optimized, &missed);
	seq_printf(m, "sites=%u sites_armed=%u sites_refused=%u sites_missed=%lu exact=%s\n",
		   nr_sites, by_state[SITE_ARMED], by_state[SITE_REFUSED],
		   missed, sites_exact ? "on" : "off");
	mutex_unlock(&sites_mutex);
}

int mmrefs_sites_init(void)
{
	init_irq_work(&learn_irq, learn_kick);
	INIT_WORK(&learn_work, learn_fn);
	return register_module_notifier(&sites_module_nb);
}

void mmrefs_sites_exit(void)
{
	unregister_module_notifier(&sites_module_nb);
	irq_work_sync(&learn_irq);
	flush_work(&learn_work);
	mmrefs_sites_clear();
}
