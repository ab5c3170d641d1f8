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

struct table_iter {
	bool with_retired;
	struct mmrefs_holder *holders;	/* holders/leaks: HOLDERS_SHOWN */
	unsigned int nholders, total_holders;
	u64 gen;		/* mmrefs_table_refresh() of this read */
	unsigned int nslots;
	unsigned int slot, idx;
	loff_t pos;		/* position of (slot, idx) */
	struct mmrefs_mm *copy;	/* entry + ring, printed outside its lock */
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

/* Copy @e and @nr_events of its ring into it->copy. */
static struct mmrefs_mm *snapshot(struct table_iter *it, struct mmrefs_mm *e,
				  unsigned int nr_events)
{
	struct mmrefs_mm *c = it->copy;
	unsigned long flags;

	spin_lock_irqsave(&e->lock, flags);
	memcpy(c, e, sizeof(*e) + nr_events * sizeof(struct mmrefs_event));
	it->mem = mmrefs_watched_values(e, &it->mem_users, &it->mem_count);
	if (it->holders)
		it->nholders = mmrefs_holders_copy(e, it->holders,
						   HOLDERS_SHOWN,
						   &it->total_holders);
	spin_unlock_irqrestore(&e->lock, flags);
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

static int mms_show(struct seq_file *m, void *v)
{
	struct table_iter *it = m->private;
	struct mmrefs_mm *c = snapshot(it, v, 0);
	bool live = c->snap_gen >= it->gen;
	unsigned int op, lazy;

	if (c->state != MMREFS_LIVE && c->state != MMREFS_TORNDOWN)
		return 0;
	/*
	 * Without a task to read it through, count is the last event's value
	 * with that moment's lazy-TLB references replaced by today's.
	 */
	lazy = mmrefs_lazy_refs(c->mm, it->lazy, it->nlazy);
	seq_printf(m, "id=%llu tgid=%d comm=", c->id, c->tgid);
	seq_comm(m, c->comm);
	/* a watched mm's last trapped values are exact, lazy refs included */
	if (c->watch) {
		seq_printf(m, " state=%s users=%d count=%d lazy=%u src=watch",
			   mmrefs_state_name(c->state), c->users, c->count,
			   lazy);
		/* read with the copy: they agree unless a write is in flight */
		if (it->mem)
			seq_printf(m, " live_users=%d live_count=%d",
				   it->mem_users, it->mem_count);
	} else {
		seq_printf(m, " state=%s users=%d count=%d lazy=%u src=%s",
			   mmrefs_state_name(c->state),
			   live ? c->snap_users : c->users,
			   live ? c->snap_count : c->count - c->lazy + lazy,
			   lazy, live ? "live" : "event");
	}
	seq_printf(m, " watch_slot=%d observer=%u age_ms=%llu", c->watch - 1,
		   c->observer,
		   div_u64(ktime_get_ns() - c->born, NSEC_PER_MSEC));
	for (op = 0; op < MMREFS_NR_OPS; op++)
		seq_printf(m, " %s=%u", mmrefs_op_name(op), c->ops[op]);
	seq_putc(m, '\n');
	return 0;
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
			   ev->counter == MMREFS_CTR_USERS ? "users" :
			   ev->counter == MMREFS_CTR_COUNT ? "count" : "-",
			   ev->observer);
	if (ev->site)
		seq_printf(m, " site=%pS\n", (void *)ev->site);
	else
		seq_puts(m, " site=-\n");
	/* a watch event's stack, kmemleak style: one indented frame a line */
	mmrefs_show_stack(m, ev->stack, "    ");
}

static int history_show(struct seq_file *m, void *v)
{
	struct table_iter *it = m->private;
	struct mmrefs_mm *c = snapshot(it, v, mmrefs_history);
	u32 first = 0, seq;

	if (c->seq > mmrefs_history)
		first = c->seq - mmrefs_history;
	seq_printf(m, "mm id=%llu tgid=%d comm=", c->id, c->tgid);
	seq_comm(m, c->comm);
	seq_printf(m, " state=%s events=%u dropped=%u\n",
		   mmrefs_state_name(c->state), c->seq, first);
	for (seq = first; seq < c->seq; seq++)
		show_event(m, c->id, &c->ring[seq % mmrefs_history]);
	return 0;
}

/* holders' selection: all, one mm id or one tgid's mms */
static struct {
	u64 id;
	pid_t tgid;
} holders_sel;
static DEFINE_SPINLOCK(holders_sel_lock);

/*
 * An mm's live users/count as mms shows them: read through a task during
 * this read, the watched values, or the last event's with lazy-TLB refs
 * of then replaced by today's.
 */
static void entry_values(const struct table_iter *it, const struct mmrefs_mm *c,
			 unsigned int lazy, int *users, int *count, int *threads)
{
	bool live = c->snap_gen >= it->gen;

	*threads = live ? c->snap_threads : 0;
	if (c->watch) {
		*users = c->users;
		*count = c->count;
	} else if (live) {
		*users = c->snap_users;
		*count = c->snap_count;
	} else {
		*users = c->users;
		*count = c->count - c->lazy + lazy;
	}
}

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
		seq_printf(m, " kthread=%u age_ms=%llu site=%pS\n", h->kthread,
			   age_ms(h->since), (void *)h->site);
		mmrefs_show_stack(m, h->stack, "      ");
	}
	if (it->total_holders > it->nholders)
		seq_printf(m, "  more_records=%u\n",
			   it->total_holders - it->nholders);
}

/* An mm's values and what its known parts explain of them. */
struct holder_sums {
	int users, count, threads;
	unsigned int lazy;
	bool khugepaged;
	int unattributed_users, unattributed_count;
};

static void holder_sums(const struct table_iter *it, const struct mmrefs_mm *c,
			struct holder_sums *s)
{
	int uparts, cparts;

	s->lazy = mmrefs_lazy_refs(c->mm, it->lazy, it->nlazy);
	entry_values(it, c, s->lazy, &s->users, &s->count, &s->threads);
	/* registered with khugepaged, read with the live values */
	s->khugepaged = c->snap_gen >= it->gen && c->snap_khugepaged &&
			s->users > 0;
	uparts = s->threads;
	cparts = (s->users > 0) + s->lazy + c->observer + s->khugepaged;
	record_parts(it, &uparts, &cparts);
	s->unattributed_users = s->users - uparts;
	s->unattributed_count = s->count - cparts;
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
		   mmrefs_state_name(c->state), s->users, s->count,
		   c->watch ? "watch" : c->snap_gen >= it->gen ? "live" : "event");
	if (s->threads)
		seq_printf(m, "  kind=thread counter=users refs=%d\n",
			   s->threads);
	if (s->users > 0)
		seq_puts(m, "  kind=users counter=count refs=1\n");
	if (s->lazy)
		seq_printf(m, "  kind=lazy_tlb counter=count refs=%u\n", s->lazy);
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
	struct mmrefs_mm *c = snapshot(it, v, 0);
	struct holder_sums sums;
	unsigned long flags;
	pid_t tgid;
	u64 id;

	if (c->state != MMREFS_LIVE && c->state != MMREFS_TORNDOWN)
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
	struct mmrefs_mm *c = snapshot(it, v, 0);
	u64 kthread_ms = READ_ONCE(mmrefs_leak_kthread_ms);
	u64 get_ms = READ_ONCE(mmrefs_leak_get_ms);
	bool torndown, kthread = false, get = false;
	char head[80], reasons[32] = "";
	const struct mmrefs_holder *h;
	struct holder_sums sums;
	unsigned int i;
	u64 held = 0, age;

	if (c->state != MMREFS_LIVE && c->state != MMREFS_TORNDOWN)
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

static const struct seq_operations mms_sops = {
	.start = table_start,
	.next = table_next,
	.stop = table_stop,
	.show = mms_show,
};

static const struct seq_operations history_sops = {
	.start = table_start,
	.next = table_next,
	.stop = table_stop,
	.show = history_show,
};

static const struct seq_operations holders_sops = {
	.start = table_start,
	.next = table_next,
	.stop = table_stop,
	.show = holders_show,
};

static const struct seq_operations leaks_sops = {
	.start = table_start,
	.next = table_next,
	.stop = table_stop,
	.show = leaks_show,
};

static int table_open(struct inode *inode, struct file *file,
		      const struct seq_operations *sops)
{
	bool history = sops == &history_sops;
	struct table_iter *it;

	it = __seq_open_private(file, sops, struct_size(it, lazy, nr_cpu_ids));
	if (!it)
		return -ENOMEM;
	it->copy = kmalloc(history ? mmrefs_entry_size() : sizeof(*it->copy),
			   GFP_KERNEL);
	if (sops == &holders_sops || sops == &leaks_sops)
		it->holders = kmalloc_array(HOLDERS_SHOWN, sizeof(*it->holders),
					    GFP_KERNEL);
	if (!it->copy || (!it->holders && !history && sops != &mms_sops)) {
		kfree(it->copy);
		kfree(it->holders);
		seq_release_private(inode, file);
		return -ENOMEM;
	}
	it->with_retired = history;
	it->nslots = mmrefs_nr_slots(history);
	return 0;
}

static int table_release(struct inode *inode, struct file *file)
{
	struct table_iter *it = ((struct seq_file *)file->private_data)->private;

	kfree(it->copy);
	kfree(it->holders);
	return seq_release_private(inode, file);
}

static int mms_open(struct inode *inode, struct file *file)
{
	return table_open(inode, file, &mms_sops);
}

static int history_open(struct inode *inode, struct file *file)
{
	return table_open(inode, file, &history_sops);
}

static int holders_open(struct inode *inode, struct file *file)
{
	return table_open(inode, file, &holders_sops);
}

static int leaks_open(struct inode *inode, struct file *file)
{
	return table_open(inode, file, &leaks_sops);
}

static const struct file_operations mms_fops = {
	.owner = THIS_MODULE,
	.open = mms_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = table_release,
};

static const struct file_operations history_fops = {
	.owner = THIS_MODULE,
	.open = history_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = table_release,
};

static int copy_command(char *kbuf, size_t size, const char __user *ubuf,
			size_t count);

/* "all", "mm=ID" or "tgid=N": which mms holders shows. */
static ssize_t holders_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	char buf[32];
	unsigned long flags;
	size_t len;
	u64 id = 0;
	int tgid = 0, err;

	err = copy_command(buf, sizeof(buf), ubuf, count);
	if (err)
		return err;
	len = strcspn(buf, "\n");
	if (!len || buf[len + (buf[len] == '\n')])
		return -EINVAL;
	buf[len] = '\0';
	if (str_has_prefix(buf, "mm=")) {
		err = kstrtou64(buf + 3, 10, &id);
		if (!err && !id)
			err = -EINVAL;
	} else if (str_has_prefix(buf, "tgid=")) {
		err = kstrtoint(buf + 5, 10, &tgid);
		if (!err && tgid <= 0)
			err = -EINVAL;
	} else if (strcmp(buf, "all")) {
		err = -EINVAL;
	}
	if (err)
		return -EINVAL;
	spin_lock_irqsave(&holders_sel_lock, flags);
	holders_sel.id = id;
	holders_sel.tgid = tgid;
	spin_unlock_irqrestore(&holders_sel_lock, flags);
	return count;
}

static const struct file_operations holders_fops = {
	.owner = THIS_MODULE,
	.open = holders_open,
	.read = seq_read,
	.write = holders_write,
	.llseek = seq_lseek,
	.release = table_release,
};

static const struct file_operations leaks_fops = {
	.owner = THIS_MODULE,
	.open = leaks_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = table_release,
};

static int stats_show(struct seq_file *m, void *v)
{
	static const char * const names[MMREFS_NR_STATS] = {
		[MMREFS_STAT_EVENTS] = "events",
		[MMREFS_STAT_FILTERED] = "filtered",
		[MMREFS_STAT_TABLE_FULL] = "lost_table_full",
		[MMREFS_STAT_ALLOC] = "lost_alloc",
		[MMREFS_STAT_UNTRACKED] = "untracked",
		[MMREFS_STAT_STALE] = "stale",
		[MMREFS_STAT_WATCH_EVENTS] = "watch_events",
		[MMREFS_STAT_WATCH_GAPS] = "watch_gaps",
		[MMREFS_STAT_WATCH_UNDECODED] = "watch_undecoded",
		[MMREFS_STAT_STACK_LOST] = "lost_stack",
		[MMREFS_STAT_HOLDERS_LOST] = "lost_holders",
		[MMREFS_STAT_MISUSE_GET_ZERO] = "misuse_get_zero",
		[MMREFS_STAT_MISUSE_AFTER_FREE] = "misuse_after_free",
		[MMREFS_STAT_MISUSE_NEGATIVE] = "misuse_negative",
	};
	unsigned int s;

	mmrefs_probes_show(m);
	for (s = 0; s < MMREFS_NR_STATS; s++)
		seq_printf(m, "%s=%lu\n", names[s], mmrefs_stat_sum(s));
	seq_printf(m, "mms=%u\nmms_over_max=%u\nretired=%u\n",
		   mmrefs_table_size(), mmrefs_table_over_max(),
		   mmrefs_retired_count());
	seq_printf(m, "history=%u\nretired_max=%u\nmax_mms=%u\n",
		   mmrefs_history, mmrefs_retired_max, mmrefs_max_mms);
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
DEFINE_SHOW_ATTRIBUTE(stats);

/*
 * Copy a command from user space: one short line of text, no NUL bytes.
 * Anything else is -EINVAL before any state is touched.
 */
static int copy_command(char *kbuf, size_t size, const char __user *ubuf,
			size_t count)
{
	if (!count || count >= size)
		return -EINVAL;
	if (copy_from_user(kbuf, ubuf, count))
		return -EFAULT;
	if (memchr(kbuf, '\0', count))
		return -EINVAL;
	kbuf[count] = '\0';
	return 0;
}

/*
 * filter and enable are served by single_open(), so a reader gets one
 * consistent value even if it reads in pieces while a writer changes it.
 */
static int filter_show(struct seq_file *m, void *v)
{
	char buf[32];

	mmrefs_filter_show(buf, sizeof(buf));
	seq_puts(m, buf);
	return 0;
}

static int filter_open(struct inode *inode, struct file *file)
{
	return single_open(file, filter_show, NULL);
}

static ssize_t filter_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	char buf[32];
	int err;

	err = copy_command(buf, sizeof(buf), ubuf, count);
	if (!err)
		err = mmrefs_filter_set(buf);
	return err ? err : count;
}

static const struct file_operations filter_fops = {
	.owner = THIS_MODULE,
	.open = filter_open,
	.read = seq_read,
	.write = filter_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int enable_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%d\n", READ_ONCE(mmrefs_enabled));
	return 0;
}

static int enable_open(struct inode *inode, struct file *file)
{
	return single_open(file, enable_show, NULL);
}

static ssize_t enable_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	unsigned int on;
	char buf[8];
	int err;

	/* kstrtouint() takes an optional trailing newline and nothing else */
	err = copy_command(buf, sizeof(buf), ubuf, count);
	if (!err)
		err = kstrtouint(buf, 10, &on);
	if (!err && on > 1)
		err = -EINVAL;
	if (err)
		return err;
	WRITE_ONCE(mmrefs_enabled, on);
	return count;
}

static const struct file_operations enable_fops = {
	.owner = THIS_MODULE,
	.open = enable_open,
	.read = seq_read,
	.write = enable_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int watch_show(struct seq_file *m, void *v)
{
	mmrefs_watch_show(m);
	return 0;
}

static int watch_open(struct inode *inode, struct file *file)
{
	return single_open(file, watch_show, NULL);
}

static ssize_t watch_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	char buf[32];
	int err;

	err = copy_command(buf, sizeof(buf), ubuf, count);
	if (!err)
		err = mmrefs_watch_command(buf);
	return err ? err : count;
}

static const struct file_operations watch_fops = {
	.owner = THIS_MODULE,
	.open = watch_open,
	.read = seq_read,
	.write = watch_write,
	.llseek = seq_lseek,
	.release = single_release,
};

int mmrefs_debugfs_init(void)
{
	mmrefs_dir = debugfs_create_dir("mmrefs", NULL);
	if (IS_ERR(mmrefs_dir))
		return PTR_ERR(mmrefs_dir);
	debugfs_create_file("mms", 0400, mmrefs_dir, NULL, &mms_fops);
	debugfs_create_file("history", 0400, mmrefs_dir, NULL, &history_fops);
	debugfs_create_file("holders", 0600, mmrefs_dir, NULL, &holders_fops);
	debugfs_create_file("leaks", 0400, mmrefs_dir, NULL, &leaks_fops);
	debugfs_create_file("stats", 0400, mmrefs_dir, NULL, &stats_fops);
	debugfs_create_file("filter", 0600, mmrefs_dir, NULL, &filter_fops);
	debugfs_create_file("enable", 0600, mmrefs_dir, NULL, &enable_fops);
	debugfs_create_file("watch", 0600, mmrefs_dir, NULL, &watch_fops);
	return 0;
}

void mmrefs_debugfs_exit(void)
{
	debugfs_remove_recursive(mmrefs_dir);
}
