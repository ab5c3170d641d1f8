// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/mmrefs/: mms, history, holders, leaks, stats, filter,
 * enable, watch.
 *
 * mms and history are seq_file iterators over table.c's slots; start()
 * takes rcu_read_lock() and stop() drops it, so every entry shown stays
 * allocated while it is printed.  An entry is copied under its lock and
 * printed from the copy.  Output is `key=value` lines for people and grep.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/ktime.h>
#include <linux/mm_types.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/stackdepot.h>
#include <linux/uaccess.h>

#include "mmrefs.h"

static struct dentry *mmrefs_dir;

/* Holder records copied per mm; more are counted, not shown. */
#define HOLDERS_SHOWN	64

/*
 * Every file is one of these, in debugfs_files[] and in its inode's
 * i_private: table files (@table set) are seq_file iterators over
 * table.c's slots, the others single_open() files.  A file that takes
 * commands gets one word (cmd_read()) and hands it to @command, which
 * parses it and calls a typed setter.
 */
struct debugfs_file {
	const char *name;
	umode_t mode;
	int (*show)(struct seq_file *m, void *v);
	int (*command)(const char *word);	/* NULL: read only */
	u8 cmd_size;		/* a write must be shorter than this */
	u8 cmd_len;		/* the longest command word */
	u8 table;		/* TABLE_* flags; 0: a single_open() file */
};

#define TABLE_LIVE	BIT(0)	/* iterate the tracked mms */
#define TABLE_HISTORY	BIT(1)	/* ... and the retired ones, rings copied */
#define TABLE_HOLDERS	BIT(2)	/* copy each mm's holder records */

struct table_iter {
	const struct debugfs_file *file;
	bool with_retired;
	struct mmrefs_holder *holders;	/* holders/leaks: HOLDERS_SHOWN */
	unsigned int nholders, total_holders;
	u64 gen;		/* mmrefs_table_refresh() of this read */
	unsigned int nslots;
	unsigned int slot, idx;
	loff_t pos;		/* position of (slot, idx) */
	/* entry + its last events, oldest first, printed outside its lock */
	struct mmrefs_mm *copy;
	unsigned int nevents;	/* events in copy->ring */
	bool mem;		/* copy is watched: its counters in memory */
	int mem_users, mem_count;	/* read under its lock with the copy */
	unsigned int nlazy;
	const void *lazy[];
};

static struct mmrefs_mm *iter_cur(struct table_iter *it)
{
	struct mmrefs_mm *e;

	for (; it->slot < it->nslots; it->slot++, it->idx = 0) {
		e = mmrefs_slot_entry(it->slot, it->idx);
		if (e)
			return e;
	}
	return NULL;
}

static void *table_start(struct seq_file *m, loff_t *pos)
	__acquires(RCU)
{
	struct table_iter *it = m->private;
	loff_t skip;

	if (!*pos && !it->with_retired) {
		it->gen = mmrefs_table_refresh();
		it->nlazy = mmrefs_collect_lazy(it->lazy, nr_cpu_ids);
	}
	rcu_read_lock();
	if (*pos != it->pos || !*pos) {
		it->slot = 0;
		it->idx = 0;
		for (skip = *pos; skip && iter_cur(it); skip--)
			it->idx++;
		it->pos = *pos;
	}
	return iter_cur(it);
}

static void *table_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct table_iter *it = m->private;

	it->idx++;
	it->pos = ++*pos;
	return iter_cur(it);
}

static void table_stop(struct seq_file *m, void *v)
	__releases(RCU)
{
	rcu_read_unlock();
}

static int table_show(struct seq_file *m, void *v)
{
	const struct table_iter *it = m->private;

	return it->file->show(m, v);
}

static const struct seq_operations table_sops = {
	.start = table_start,
	.next = table_next,
	.stop = table_stop,
	.show = table_show,
};

/*
 * Copy @e into it->copy and, with @events, its ring's events, oldest
 * first, into copy->ring (it->nevents of them: a watched mm's longer ring
 * too, so the copy has room for the longer of the two).
 */
static struct mmrefs_mm *snapshot(struct table_iter *it, struct mmrefs_mm *e,
				  bool events)
{
	struct mmrefs_mm *c = it->copy;
	unsigned long flags;
	unsigned int i;

	raw_spin_lock_irqsave(&e->lock, flags);
	memcpy(c, e, sizeof(*e));
	c->wring = NULL;
	it->nevents = events ? min(e->seq, mmrefs_ring_size(e)) : 0;
	/* events e->seq - nevents + 1 .. e->seq */
	for (i = 0; i < it->nevents; i++)
		c->ring[i] = *mmrefs_ring_event(e, e->seq - it->nevents + 1 + i);
	it->mem = mmrefs_watched_values(e, &it->mem_users, &it->mem_count);
	if (it->holders)
		it->nholders = mmrefs_holders_copy(e, it->holders,
						   HOLDERS_SHOWN,
						   &it->total_holders);
	raw_spin_unlock_irqrestore(&e->lock, flags);
	return c;
}

/* comm may hold spaces; keep lines splittable on spaces. */
static void seq_comm(struct seq_file *m, const char *comm)
{
	char buf[TASK_COMM_LEN];
	char *s;

	strscpy(buf, comm, sizeof(buf));
	for (s = buf; *s; s++)
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '=')
			*s = '_';
	seq_puts(m, buf);
}

/*
 * An mm's users and count as every file shows them, the one formula: a
 * watched mm's last trapped values (exact, lazy refs included); else the
 * values read through a task during this read; else, without a task to
 * read them through, the last event's, with that moment's lazy-TLB
 * references replaced by today's.
 */
struct entry_values {
	int users, count, threads;
	unsigned int lazy;
	const char *src;
};

static void entry_values(const struct table_iter *it, const struct mmrefs_mm *c,
			 struct entry_values *v)
{
	bool live = c->snap_gen >= it->gen;

	v->lazy = mmrefs_lazy_refs(c->mm, it->lazy, it->nlazy);
	v->threads = live ? c->snap_threads : 0;
	if (c->watch) {
		v->users = c->users;
		v->count = c->count;
		v->src = "watch";
	} else if (mmrefs_entry_exact(c)) {
		/* the sums of every write; lazy-TLB moves are not in them */
		v->users = c->users;
		v->count = c->count + v->lazy;
		v->src = "exact";
	} else if (live) {
		v->users = c->snap_users;
		v->count = c->snap_count;
		v->src = "live";
	} else {
		v->users = c->users;
		v->count = c->count - c->lazy + v->lazy;
		v->src = "event";
	}
}

static bool entry_shown(const struct mmrefs_mm *c)
{
	return c->state == MMREFS_LIVE || c->state == MMREFS_TORNDOWN;
}

static int mms_show(struct seq_file *m, void *v)
{
	struct table_iter *it = m->private;
	struct mmrefs_mm *c = snapshot(it, v, false);
	struct entry_values val;
	unsigned int op;

	if (!entry_shown(c))
		return 0;
	entry_values(it, c, &val);
	seq_printf(m, "id=%llu tgid=%d comm=", c->id, c->tgid);
	seq_comm(m, c->comm);
	seq_printf(m, " state=%s users=%d count=%d lazy=%u src=%s",
		   mmrefs_state_name(c->state), val.users, val.count, val.lazy,
		   val.src);
	/* read with the copy: they agree unless a write is in flight */
	if (it->mem)
		seq_printf(m, " live_users=%d live_count=%d",
			   it->mem_users, it->mem_count);
	/* exact mode: the sums beside the counters read under task_lock */
	if (mmrefs_entry_exact(c)) {
		seq_printf(m, " exact=%s sum_users=%d sum_count=%d",
			   c->exact == MMREFS_EXACT_BIRTH ? "birth" : "sampled",
			   c->users, c->count);
		if (c->snap_gen >= it->gen)
			seq_printf(m, " read_users=%d read_count=%d",
				   c->snap_users, c->snap_count);
	}
	seq_printf(m, " watch_slot=%d observer=%u age_ms=%llu", c->watch - 1,
		   c->observer,
		   div_u64(ktime_get_ns() - c->born, NSEC_PER_MSEC));
	for (op = 0; op < MMREFS_NR_OPS; op++)
		seq_printf(m, " %s=%u", mmrefs_op_name(op), c->ops[op]);
	seq_putc(m, '\n');
	return 0;
}

/*
 * " site=NAME" of code at @site as of @ts: its name then if the module is
 * gone, else what kallsyms says now.
 */
static void seq_site(struct seq_file *m, unsigned long site, u64 ts)
{
	char name[128];

	if (!site)
		seq_puts(m, " site=-");
	else if (mmrefs_gone_name(site, ts, name, sizeof(name)))
		seq_printf(m, " site=%s", name);
	else
		seq_printf(m, " site=%pS", (void *)site);
}

static void show_event(struct seq_file *m, u64 id, const struct mmrefs_event *ev)
{
	seq_printf(m, "  id=%llu seq=%u ts=%llu cpu=%u pid=%d tgid=%d comm=",
		   id, ev->seq, ev->ts, ev->cpu, ev->pid, ev->tgid);
	seq_comm(m, ev->comm);
	seq_printf(m, " kthread=%u op=%s cause=%s users=%d->%d count=%d->%d",
		   ev->kthread, mmrefs_op_name(ev->op),
		   mmrefs_cause_name(ev->cause), ev->users_old, ev->users_new,
		   ev->count_old, ev->count_new);
	if (ev->counter || ev->observer)
		seq_printf(m, " trap=%s observer=%u",
			   mmrefs_counter_name(ev->counter), ev->observer);
	seq_site(m, ev->site, ev->ts);
	seq_putc(m, '\n');
	/* a watch event's stack, kmemleak style: one indented frame a line */
	mmrefs_show_stack(m, ev->stack, "    ");
}

static int history_show(struct seq_file *m, void *v)
{
	struct table_iter *it = m->private;
	struct mmrefs_mm *c = snapshot(it, v, true);
	unsigned int i;

	seq_printf(m, "mm id=%llu tgid=%d comm=", c->id, c->tgid);
	seq_comm(m, c->comm);
	seq_printf(m, " state=%s events=%u dropped=%u\n",
		   mmrefs_state_name(c->state), c->seq, c->seq - it->nevents);
	for (i = 0; i < it->nevents; i++)
		show_event(m, c->id, &c->ring[i]);
	return 0;
}

/* holders' selection: all, one mm id or one tgid's mms */
static struct {
	u64 id;
	pid_t tgid;
} holders_sel;
static DEFINE_SPINLOCK(holders_sel_lock);

static u64 age_ms(u64 since)
{
	u64 now = ktime_get_mono_fast_ns();

	return now > since ? div_u64(now - since, NSEC_PER_MSEC) : 0;
}

/* Records of one group: same kind, task and site. */
static bool same_group(const struct mmrefs_holder *a,
		       const struct mmrefs_holder *b)
{
	return a->kind == b->kind && a->pid == b->pid && a->site == b->site;
}

/* References of the records: a borrowed one is evidence, not a part. */
static void record_parts(const struct table_iter *it, int *uparts, int *cparts)
{
	const struct mmrefs_holder *h;
	unsigned int i;

	for (i = 0; i < it->nholders; i++) {
		h = &it->holders[i];
		if (h->kind == MMREFS_HOLD_GET)
			(*uparts)++;
		else if (h->kind != MMREFS_HOLD_BORROWED)
			(*cparts)++;
	}
}

/* Group equal records into one line with refs=N, stack once. */
static void show_records(struct seq_file *m, const struct table_iter *it)
{
	const struct mmrefs_holder *h;
	unsigned int i, j, refs;

	for (i = 0; i < it->nholders; i++) {
		h = &it->holders[i];
		for (j = 0; j < i && !same_group(&it->holders[j], h); j++)
			;
		if (j < i)
			continue;	/* shown with its group */
		for (refs = 0, j = i; j < it->nholders; j++)
			refs += same_group(&it->holders[j], h);
		seq_printf(m, "  kind=%s counter=%s refs=%u pid=%d tgid=%d comm=",
			   mmrefs_hold_name(h->kind),
			   h->kind == MMREFS_HOLD_GET ? "users" : "count",
			   h->kind == MMREFS_HOLD_BORROWED ? 0 : refs,
			   h->pid, h->tgid);
		seq_comm(m, h->comm);
		seq_printf(m, " kthread=%u age_ms=%llu", h->kthread,
			   age_ms(h->since));
		seq_site(m, h->site, h->since);
		seq_putc(m, '\n');
		mmrefs_show_stack(m, h->stack, "      ");
	}
	if (it->total_holders > it->nholders)
		seq_printf(m, "  more_records=%u\n",
			   it->total_holders - it->nholders);
}

/* An mm's values and what its known parts explain of them. */
struct holder_sums {
	struct entry_values v;
	bool khugepaged;
	int unattributed_users, unattributed_count;
};

static void holder_sums(const struct table_iter *it, const struct mmrefs_mm *c,
			struct holder_sums *s)
{
	int uparts, cparts;

	entry_values(it, c, &s->v);
	/* registered with khugepaged, read with the live values */
	s->khugepaged = c->snap_gen >= it->gen && c->snap_khugepaged &&
			s->v.users > 0;
	uparts = s->v.threads;
	cparts = (s->v.users > 0) + s->v.lazy + c->observer + s->khugepaged;
	record_parts(it, &uparts, &cparts);
	s->unattributed_users = s->v.users - uparts;
	s->unattributed_count = s->v.count - cparts;
}

/*
 * One mm's holders: the parts add up to users and count; what no part
 * explains is an explicit unattributed line.
 */
static void show_holders(struct seq_file *m, struct table_iter *it,
			 const struct mmrefs_mm *c, const struct holder_sums *s,
			 const char *head)
{
	seq_printf(m, "%s id=%llu tgid=%d comm=", head, c->id, c->tgid);
	seq_comm(m, c->comm);
	seq_printf(m, " state=%s users=%d count=%d src=%s\n",
		   mmrefs_state_name(c->state), s->v.users, s->v.count, s->v.src);
	if (s->v.threads)
		seq_printf(m, "  kind=thread counter=users refs=%d\n",
			   s->v.threads);
	if (s->v.users > 0)
		seq_puts(m, "  kind=users counter=count refs=1\n");
	if (s->v.lazy)
		seq_printf(m, "  kind=lazy_tlb counter=count refs=%u\n",
			   s->v.lazy);
	if (c->observer)
		seq_printf(m, "  kind=observer counter=count refs=%u\n",
			   c->observer);
	if (s->khugepaged)
		seq_puts(m, "  kind=khugepaged counter=count refs=1\n");
	show_records(m, it);
	seq_printf(m, "  kind=unattributed counter=users refs=%d\n",
		   s->unattributed_users);
	seq_printf(m, "  kind=unattributed counter=count refs=%d\n",
		   s->unattributed_count);
}

static int holders_show(struct seq_file *m, void *v)
{
	struct table_iter *it = m->private;
	struct mmrefs_mm *c = snapshot(it, v, false);
	struct holder_sums sums;
	unsigned long flags;
	pid_t tgid;
	u64 id;

	if (!entry_shown(c))
		return 0;
	spin_lock_irqsave(&holders_sel_lock, flags);
	id = holders_sel.id;
	tgid = holders_sel.tgid;
	spin_unlock_irqrestore(&holders_sel_lock, flags);
	if ((id && c->id != id) || (tgid && c->tgid != tgid))
		return 0;
	holder_sums(it, c, &sums);
	show_holders(m, it, c, &sums, "mm");
	return 0;
}

/*
 * Suspects, each with its holders, past thresholds (module parameters
 * leak_*_ms):
 *  - torndown: the address space is gone but the struct is alive;
 *  - kthread: a kernel thread holds the mm, or used it and something
 *    still holds a reference nobody can name (its inlined mmgrab());
 *  - mmget: a temporary mmget() never put.
 */
static int leaks_show(struct seq_file *m, void *v)
{
	struct table_iter *it = m->private;
	struct mmrefs_mm *c = snapshot(it, v, false);
	u64 kthread_ms = READ_ONCE(mmrefs_leak_kthread_ms);
	u64 get_ms = READ_ONCE(mmrefs_leak_get_ms);
	bool torndown, kthread = false, get = false;
	char head[80], reasons[32] = "";
	const struct mmrefs_holder *h;
	struct holder_sums sums;
	unsigned int i;
	u64 held = 0, age;

	if (!entry_shown(c))
		return 0;
	holder_sums(it, c, &sums);
	torndown = c->state == MMREFS_TORNDOWN &&
		   age_ms(c->torndown_at) >= READ_ONCE(mmrefs_leak_torndown_ms);
	if (torndown)
		held = age_ms(c->torndown_at);
	for (i = 0; i < it->nholders; i++) {
		h = &it->holders[i];
		age = age_ms(h->since);
		if (h->kthread && age >= kthread_ms &&
		    (h->kind != MMREFS_HOLD_BORROWED ||
		     sums.unattributed_count > 0)) {
			kthread = true;
			held = max(held, age);
		}
		if (h->kind == MMREFS_HOLD_GET && age >= get_ms) {
			get = true;
			held = max(held, age);
		}
	}
	if (!torndown && !kthread && !get)
		return 0;
	if (torndown)
		strlcat(reasons, ",torndown", sizeof(reasons));
	if (kthread)
		strlcat(reasons, ",kthread", sizeof(reasons));
	if (get)
		strlcat(reasons, ",mmget", sizeof(reasons));
	scnprintf(head, sizeof(head), "leak reasons=%s held_ms=%llu",
		  reasons + 1, held);
	show_holders(m, it, c, &sums, head);
	return 0;
}

static int table_open(struct inode *inode, struct file *file)
{
	const struct debugfs_file *f = inode->i_private;
	bool history = f->table & TABLE_HISTORY;
	struct table_iter *it;

	it = __seq_open_private(file, &table_sops,
				struct_size(it, lazy, nr_cpu_ids));
	if (!it)
		return -ENOMEM;
	it->copy = kvmalloc(struct_size(it->copy, ring, history ?
					max(mmrefs_history, mmrefs_watch_history) : 0),
			    GFP_KERNEL);
	if (f->table & TABLE_HOLDERS)
		it->holders = kmalloc_array(HOLDERS_SHOWN, sizeof(*it->holders),
					    GFP_KERNEL);
	if (!it->copy || (!it->holders && (f->table & TABLE_HOLDERS))) {
		kvfree(it->copy);
		kfree(it->holders);
		seq_release_private(inode, file);
		return -ENOMEM;
	}
	it->file = f;
	it->with_retired = history;
	it->nslots = mmrefs_nr_slots(history);
	return 0;
}

static int table_release(struct inode *inode, struct file *file)
{
	struct table_iter *it = ((struct seq_file *)file->private_data)->private;

	kvfree(it->copy);
	kfree(it->holders);
	return seq_release_private(inode, file);
}

/*
 * The one command reader: a write is one short line of text, no NUL
 * byte, at most one trailing newline (stripped), and a word of at most
 * the file's cmd_len characters.  Anything else is -EINVAL before any
 * state is touched; the word goes to the file's command.
 */
static ssize_t debugfs_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	const struct debugfs_file *f = file_inode(file)->i_private;
	char buf[32];
	size_t len;
	int err;

	if (!f->command || !count || count >= f->cmd_size)
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	if (memchr(buf, '\0', count))
		return -EINVAL;
	buf[count] = '\0';
	len = strcspn(buf, "\n");
	if (!len || len > f->cmd_len || buf[len + (buf[len] == '\n')])
		return -EINVAL;
	buf[len] = '\0';
	err = f->command(buf);
	return err ? err : count;
}

/* @word is KEY followed by its value: the value, else NULL. */
static const char *cmd_arg(const char *word, const char *key)
{
	size_t n = strlen(key);

	return strncmp(word, key, n) ? NULL : word + n;
}

/* A pid, tgid or id: a decimal number above 0 (kstrto*()'s syntax). */
static int cmd_pid(const char *arg, pid_t *pid)
{
	return kstrtoint(arg, 10, pid) || *pid <= 0 ? -EINVAL : 0;
}

/* A boolean switch: 0 or 1. */
static int cmd_bool(const char *arg, bool *on)
{
	unsigned int v;

	if (kstrtouint(arg, 10, &v) || v > 1)
		return -EINVAL;
	*on = v;
	return 0;
}

/* "all", "mm=ID" or "tgid=N": which mms holders shows. */
static int holders_command(const char *word)
{
	unsigned long flags;
	pid_t tgid = 0;
	u64 id = 0;

	if (cmd_arg(word, "mm=")) {
		if (kstrtou64(cmd_arg(word, "mm="), 10, &id) || !id)
			return -EINVAL;
	} else if (cmd_arg(word, "tgid=")) {
		if (cmd_pid(cmd_arg(word, "tgid="), &tgid))
			return -EINVAL;
	} else if (strcmp(word, "all")) {
		return -EINVAL;
	}
	spin_lock_irqsave(&holders_sel_lock, flags);
	holders_sel.id = id;
	holders_sel.tgid = tgid;
	spin_unlock_irqrestore(&holders_sel_lock, flags);
	return 0;
}

static int stats_show(struct seq_file *m, void *v)
{
	unsigned int s;

	mmrefs_probes_show(m);
	mmrefs_sites_stats(m);
	for (s = 0; s < MMREFS_NR_STATS; s++)
		seq_printf(m, "%s=%lu\n", mmrefs_stat_name(s),
			   mmrefs_stat_sum(s));
	seq_printf(m, "mms=%u\nmms_over_max=%u\nretired=%u\n",
		   mmrefs_table_size(), mmrefs_table_over_max(),
		   mmrefs_retired_count());
	seq_printf(m, "history=%u\nwatch_history=%u\nretired_max=%u\nmax_mms=%u\n",
		   mmrefs_history, mmrefs_watch_history, mmrefs_retired_max,
		   mmrefs_max_mms);
	seq_printf(m, "bytes_per_mm=%zu\nbytes_per_event=%zu\n",
		   sizeof(struct mmrefs_mm), sizeof(struct mmrefs_event));
	seq_printf(m, "holders=%u\nholders_max=%u\nbytes_per_holder=%zu\n",
		   mmrefs_holders_used(), mmrefs_max_holders,
		   sizeof(struct mmrefs_holder));
	/* where this kernel keeps the counters, for tools such as kprobe_events */
	seq_printf(m, "mm_users_offset=%zu\nmm_count_offset=%zu\n",
		   offsetof(struct mm_struct, mm_users),
		   offsetof(struct mm_struct, mm_count));
	return 0;
}

/*
 * filter, enable and watch are served by single_open(), so a reader gets
 * one consistent value even if it reads in pieces while a writer changes
 * it.
 */
static int filter_show(struct seq_file *m, void *v)
{
	char buf[32];

	mmrefs_filter_show(buf, sizeof(buf));
	seq_puts(m, buf);
	return 0;
}

/* "all", "tgid=N" or "comm=NAME" (a whole comm, no blank). */
static int filter_command(const char *word)
{
	const char *arg;
	pid_t tgid;
	size_t len;

	if (!strcmp(word, "all"))
		return mmrefs_filter_set(0, NULL);
	arg = cmd_arg(word, "tgid=");
	if (arg)
		return cmd_pid(arg, &tgid) ?: mmrefs_filter_set(tgid, NULL);
	arg = cmd_arg(word, "comm=");
	if (arg) {
		len = strlen(arg);
		if (!len || len >= TASK_COMM_LEN || strpbrk(arg, " \t"))
			return -EINVAL;
		return mmrefs_filter_set(0, arg);
	}
	return -EINVAL;
}

static int enable_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%d\n", READ_ONCE(mmrefs_enabled));
	return 0;
}

/*
 * enable, watch arming and the site list change together under this:
 * enable=0 disarms the probes watch and exact mode stand on, so it waits
 * for no watch armed and no site listed, and neither starts while idle.
 */
static DEFINE_MUTEX(control_mutex);

/*
 * 0: disarm every probe (idle costs nothing) and retire every entry;
 * 1: arm them and seed the table again, one gap event per mm.
 */
static int enable_command(const char *word)
{
	bool on;
	int err = 0;

	if (cmd_bool(word, &on))
		return -EINVAL;
	mutex_lock(&control_mutex);
	if (on == READ_ONCE(mmrefs_enabled))
		goto out;
	if (on) {
		/* armed first: what they see before this is dropped */
		err = mmrefs_probes_arm(true);
		if (!err) {
			mmrefs_enable(true);
			mmrefs_table_seed(MMREFS_OP_GAP);
		}
	} else if (mmrefs_watch_armed() || mmrefs_sites_listed()) {
		err = -EBUSY;
	} else {
		mmrefs_enable(false);
		mmrefs_probes_arm(false);
		/* the handlers running now: no entry is retired under them */
		synchronize_rcu();
		mmrefs_table_idle();
	}
out:
	mutex_unlock(&control_mutex);
	return err;
}

static int watch_show(struct seq_file *m, void *v)
{
	mmrefs_watch_show(m);
	return 0;
}

/* "pid=N", "-pid=N", "clear", "stack=0" or "stack=1" */
static int watch_command(const char *word)
{
	const char *arg;
	pid_t pid;
	bool on;
	int err;

	if (!strcmp(word, "clear")) {
		mmrefs_watch_clear();
		return 0;
	}
	arg = cmd_arg(word, "stack=");
	if (arg)
		return cmd_bool(arg, &on) ?: mmrefs_watch_stacks(on);
	arg = cmd_arg(word, "-pid=");
	if (arg)
		return cmd_pid(arg, &pid) ?: mmrefs_watch_disarm(pid);
	arg = cmd_arg(word, "pid=");
	if (!arg)
		return -EINVAL;
	if (cmd_pid(arg, &pid))
		return -EINVAL;
	mutex_lock(&control_mutex);
	/* enable=0: the probes a watch needs (teardown, free) are off */
	err = READ_ONCE(mmrefs_enabled) ? mmrefs_watch_arm(pid) : -EPERM;
	mutex_unlock(&control_mutex);
	return err;
}

#define TABLE_FILE(n, m, t, ...)					\
	{ .name = #n, .mode = m, .show = n##_show, .table = t, __VA_ARGS__ }
#define SINGLE_FILE(n, m, ...)						\
	{ .name = #n, .mode = m, .show = n##_show, __VA_ARGS__ }
#define COMMAND(n, size, len)						\
	.command = n##_command, .cmd_size = size, .cmd_len = len

/*
 * The files.  Command limits: a filter or watch word is shorter than a
 * comm plus its key (TASK_COMM_LEN + 8), enable takes one short number.
 */
static const struct debugfs_file debugfs_files[] = {
	TABLE_FILE(mms, 0400, TABLE_LIVE),
	TABLE_FILE(history, 0400, TABLE_LIVE | TABLE_HISTORY),
	TABLE_FILE(holders, 0600, TABLE_LIVE | TABLE_HOLDERS,
		   COMMAND(holders, 32, 31)),
	TABLE_FILE(leaks, 0400, TABLE_LIVE | TABLE_HOLDERS),
	SINGLE_FILE(stats, 0400),
	SINGLE_FILE(filter, 0600, COMMAND(filter, 32, TASK_COMM_LEN + 7)),
	SINGLE_FILE(enable, 0600, COMMAND(enable, 8, 7)),
	SINGLE_FILE(watch, 0600, COMMAND(watch, 32, 23)),
};

static const struct file_operations table_fops = {
	.owner = THIS_MODULE,
	.open = table_open,
	.read = seq_read,
	.write = debugfs_write,
	.llseek = seq_lseek,
	.release = table_release,
};

static int single_file_open(struct inode *inode, struct file *file)
{
	const struct debugfs_file *f = inode->i_private;

	return single_open(file, f->show, NULL);
}

static const struct file_operations single_fops = {
	.owner = THIS_MODULE,
	.open = single_file_open,
	.read = seq_read,
	.write = debugfs_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/*
 * sites takes a whole list (sites.c), in as many writes as it needs: each
 * complete line is checked as it arrives, a bad one fails its write, and
 * the list replaces the one in use when the file is closed.
 */
static int sites_show(struct seq_file *m, void *v)
{
	mmrefs_sites_show(m);
	return 0;
}

static int sites_open(struct inode *inode, struct file *file)
{
	return single_open(file, sites_show, NULL);
}

static ssize_t sites_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	struct seq_file *m = file->private_data;
	char buf[256];
	size_t done, n;
	int err;

	for (done = 0; done < count; done += n) {
		n = min(count - done, sizeof(buf));
		if (copy_from_user(buf, ubuf + done, n))
			return -EFAULT;
		if (memchr(buf, '\0', n))
			return -EINVAL;
		err = mmrefs_sites_write(buf, n, &m->private);
		if (err)
			return err;
	}
	return count;
}

static int sites_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;
	int err;

	mutex_lock(&control_mutex);
	err = mmrefs_sites_commit(&m->private);
	mutex_unlock(&control_mutex);
	single_release(inode, file);
	return err;
}

static const struct file_operations sites_fops = {
	.owner = THIS_MODULE,
	.open = sites_open,
	.read = seq_read,
	.write = sites_write,
	.llseek = seq_lseek,
	.release = sites_release,
};

int mmrefs_debugfs_init(void)
{
	const struct debugfs_file *f;

	mmrefs_dir = debugfs_create_dir("mmrefs", NULL);
	if (IS_ERR(mmrefs_dir))
		return PTR_ERR(mmrefs_dir);
	for (f = debugfs_files; f < debugfs_files + ARRAY_SIZE(debugfs_files);
	     f++)
		debugfs_create_file(f->name, f->mode, mmrefs_dir, (void *)f,
				    f->table ? &table_fops : &single_fops);
	debugfs_create_file("sites", 0600, mmrefs_dir, NULL, &sites_fops);
	return 0;
}

void mmrefs_debugfs_exit(void)
{
	debugfs_remove_recursive(mmrefs_dir);
}
