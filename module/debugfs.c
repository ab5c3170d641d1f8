// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/mmrefs/: mms, history, stats, filter, enable, watch.
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

struct table_iter {
	bool with_retired;
	u64 gen;		/* mmrefs_table_refresh() of this read */
	unsigned int nslots;
	unsigned int slot, idx;
	loff_t pos;		/* position of (slot, idx) */
	struct mmrefs_mm *copy;	/* entry + ring, printed outside its lock */
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
		/* read through a task: must agree unless a write is in flight */
		if (live)
			seq_printf(m, " live_users=%d live_count=%d",
				   c->snap_users, c->snap_count);
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

/* A watch event's stack, kmemleak style: indented, one frame a line. */
static void show_stack(struct seq_file *m, u32 handle)
{
	unsigned long *entries;
	unsigned int i, nr;

	nr = stack_depot_fetch(handle, &entries);
	for (i = 0; i < nr; i++)
		seq_printf(m, "    %pS\n", (void *)entries[i]);
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
	if (ev->stack)
		show_stack(m, ev->stack);
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

static int table_open(struct inode *inode, struct file *file, bool history)
{
	struct table_iter *it;

	it = __seq_open_private(file, history ? &history_sops : &mms_sops,
				struct_size(it, lazy, nr_cpu_ids));
	if (!it)
		return -ENOMEM;
	it->copy = kmalloc(history ? mmrefs_entry_size() : sizeof(*it->copy),
			   GFP_KERNEL);
	if (!it->copy) {
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
	return seq_release_private(inode, file);
}

static int mms_open(struct inode *inode, struct file *file)
{
	return table_open(inode, file, false);
}

static int history_open(struct inode *inode, struct file *file)
{
	return table_open(inode, file, true);
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
		[MMREFS_STAT_WATCH_SETTLED] = "watch_settled",
		[MMREFS_STAT_WATCH_UNDECODED] = "watch_undecoded",
		[MMREFS_STAT_STACK_LOST] = "lost_stack",
	};
	unsigned int s;

	mmrefs_probes_show(m);
	for (s = 0; s < MMREFS_NR_STATS; s++)
		seq_printf(m, "%s=%lu\n", names[s], mmrefs_stat_sum(s));
	seq_printf(m, "mms=%u\nretired=%u\n", mmrefs_table_size(),
		   mmrefs_retired_count());
	seq_printf(m, "history=%u\nretired_max=%u\nmax_mms=%u\n",
		   mmrefs_history, mmrefs_retired_max, mmrefs_max_mms);
	seq_printf(m, "bytes_per_mm=%zu\nbytes_per_event=%zu\n",
		   sizeof(struct mmrefs_mm), sizeof(struct mmrefs_event));
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
