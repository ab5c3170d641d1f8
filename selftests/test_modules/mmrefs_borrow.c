// SPDX-License-Identifier: GPL-2.0
/*
 * mmrefs_borrow - selftest helper that borrows another process's mm from
 * a kernel thread, the way oom_reaper, vhost and io_uring do, so that the
 * mmrefs selftests can watch mm_users/mm_count while a kthread holds them.
 *
 * Interface: /sys/kernel/debug/mmrefs_borrow/control (0600), one command
 * per write(), text without NUL bytes:
 *
 *   grab PID [HOLD_MS]  task_lock + mmgrab(), kthread_use_mm(), read one
 *                       user word, kthread_unuse_mm(), hold the mm_count
 *                       reference until released or HOLD_MS, then mmdrop()
 *   get PID [HOLD_MS]   get_task_mm(), hold the mm_users reference, mmput()
 *   leak PID            a grab that is never given back: only unloading the
 *                       module drops it (for leak reports)
 *   release PID         release every borrow of PID but leaks (-ENOENT if
 *                       none)
 *   release all         release every borrow but leaks, and a move armed
 *   move PID            when PID, exiting, calls mmput() on its own mm,
 *                       move it to another CPU before the put's write: an
 *                       RT thread on its CPU preempts it (might_sleep()),
 *                       does a get_task_mm() and mmput() of the writer's
 *                       mm there first, and changes its affinity.  Reading
 *                       then shows
 *                       "move pid=PID from=CPU to=CPU" once it was moved.
 *                       -EBUSY while one is armed, -ENODEV with one CPU.
 *
 * A write returns once the kthread holds its reference (for grab: after
 * the use/read/unuse sequence), so the caller can look at the counters
 * right away. Reading the file lists the held borrows with the counters
 * read through the borrower's own reference. Unloading releases them all.
 *
 * Locking: borrow_mutex serialises commands and protects borrow_list.
 * Each borrow's ->mm is protected by its ->lock: the kthread clears ->mm
 * under it before dropping the reference, so a reader that sees ->mm set
 * under ->lock may read the counters through it.
 *
 * See Documentation/mm/active_mm.rst for lazy-TLB mm references.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/jiffies.h>
#include <linux/irq_work.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#define BORROW_MAX		32
#define BORROW_DEFAULT_HOLD_MS	10000
#define BORROW_CMD_MAX		64

static unsigned int max_hold_ms = 60000;
module_param(max_hold_ms, uint, 0444);
MODULE_PARM_DESC(max_hold_ms, "Longest HOLD_MS a command may ask for (ms)");

enum borrow_mode {
	BORROW_GRAB,	/* mm_count reference: mmgrab() / mmdrop() */
	BORROW_GET,	/* mm_users reference: get_task_mm() / mmput() */
	BORROW_LEAK,	/* a grab held until the module is unloaded */
};

static const char * const borrow_mode_names[] = {
	[BORROW_GRAB] = "grab",
	[BORROW_GET] = "get",
	[BORROW_LEAK] = "leak",
};

struct borrow {
	struct list_head node;		/* on borrow_list, under borrow_mutex */
	pid_t nr;			/* PID as written by the user */
	enum borrow_mode mode;
	unsigned long hold;		/* jiffies */
	struct task_struct *target;	/* only until ->taken completes */
	struct task_struct *thread;	/* our kthread, task reference held */
	struct completion taken;	/* reference taken, or ->err set */
	int err;			/* -ESRCH: target has no mm */
	bool page_ok;			/* grab: the user word could be read */
	spinlock_t lock;		/* protects ->mm and ->done */
	struct mm_struct *mm;		/* NULL once dropped */
	bool done;			/* reference dropped, thread exiting */
};

static LIST_HEAD(borrow_list);
static DEFINE_MUTEX(borrow_mutex);
static unsigned int borrow_count;	/* entries on borrow_list */

/*
 * Take an mm_count reference the way the oom killer does: task->mm is
 * stable under task_lock(), and a kthread's mm (if any) is borrowed, so
 * it does not count as the task's own.
 */
static struct mm_struct *borrow_grab_task_mm(struct task_struct *task)
{
	struct mm_struct *mm;

	task_lock(task);
	mm = task->mm;
	if (mm && !(task->flags & PF_KTHREAD))
		mmgrab(mm);
	else
		mm = NULL;
	task_unlock(task);
	return mm;
}

/*
 * Switch to the borrowed mm and read one word from its stack, as a kthread
 * doing I/O on behalf of a process would. The stack top is mapped for any
 * process that has gone through exec; a torn-down mm reads as a fault.
 */
static bool borrow_touch_user_page(struct mm_struct *mm)
{
	unsigned long word;
	bool ok;

	kthread_use_mm(mm);
	ok = !copy_from_user(&word, (const void __user *)mm->start_stack,
			     sizeof(word));
	kthread_unuse_mm(mm);
	return ok;
}

static void borrow_put_mm(struct borrow *b)
{
	struct mm_struct *mm;

	spin_lock(&b->lock);
	mm = b->mm;
	b->mm = NULL;
	spin_unlock(&b->lock);

	/* The last reference may be ours: this may tear down or free the mm. */
	if (b->mode != BORROW_GET)
		mmdrop(mm);
	else
		mmput(mm);

	spin_lock(&b->lock);
	b->done = true;
	spin_unlock(&b->lock);
}

static int borrow_thread(void *data)
{
	struct borrow *b = data;
	unsigned long deadline = jiffies + b->hold, now;
	struct mm_struct *mm;

	if (b->mode != BORROW_GET)
		mm = borrow_grab_task_mm(b->target);
	else
		mm = get_task_mm(b->target);
	if (!mm) {
		b->err = -ESRCH;
		complete(&b->taken);
		return 0;
	}
	if (b->mode != BORROW_GET)
		b->page_ok = borrow_touch_user_page(mm);

	spin_lock(&b->lock);
	b->mm = mm;
	spin_unlock(&b->lock);
	/* After this, the writer may drop ->target and return to user space. */
	complete(&b->taken);

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		if (b->mode == BORROW_LEAK) {
			schedule();
			continue;
		}
		/* one read: a tick between two would make the timeout -1 */
		now = jiffies;
		if (time_after_eq(now, deadline))
			break;
		schedule_timeout(deadline - now);
	}
	__set_current_state(TASK_RUNNING);

	borrow_put_mm(b);
	return 0;
}

/* Stop the kthread (it drops its reference if still held) and free @b. */
static void borrow_release(struct borrow *b)
{
	lockdep_assert_held(&borrow_mutex);

	kthread_stop(b->thread);
	put_task_struct(b->thread);
	list_del(&b->node);
	borrow_count--;
	kfree(b);
}

static bool borrow_is_done(struct borrow *b)
{
	bool done;

	spin_lock(&b->lock);
	done = b->done;
	spin_unlock(&b->lock);
	return done;
}

/* Forget borrows whose hold expired; their kthreads have dropped the mm. */
static void borrow_reap_expired(void)
{
	struct borrow *b, *tmp;

	lockdep_assert_held(&borrow_mutex);

	list_for_each_entry_safe(b, tmp, &borrow_list, node)
		if (borrow_is_done(b))
			borrow_release(b);
}

static int borrow_start(enum borrow_mode mode, pid_t nr, unsigned int hold_ms)
{
	struct borrow *b;
	struct pid *pid;
	int err;

	lockdep_assert_held(&borrow_mutex);

	borrow_reap_expired();
	if (borrow_count >= BORROW_MAX)
		return -EBUSY;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->nr = nr;
	b->mode = mode;
	b->hold = msecs_to_jiffies(hold_ms);
	init_completion(&b->taken);
	spin_lock_init(&b->lock);

	pid = find_get_pid(nr);
	b->target = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!b->target) {
		err = -ESRCH;
		goto out_free_borrow;
	}

	b->thread = kthread_create(borrow_thread, b, "mmrefs_borrow");
	if (IS_ERR(b->thread)) {
		err = PTR_ERR(b->thread);
		goto out_put_target;
	}
	/* The thread may exit on its own (expiry), so keep its task_struct. */
	get_task_struct(b->thread);
	wake_up_process(b->thread);
	wait_for_completion(&b->taken);
	put_task_struct(b->target);
	b->target = NULL;

	if (b->err) {
		err = b->err;
		goto out_stop_thread;
	}

	list_add_tail(&b->node, &borrow_list);
	borrow_count++;
	return 0;

out_stop_thread:
	kthread_stop(b->thread);
	put_task_struct(b->thread);
	goto out_free_borrow;
out_put_target:
	put_task_struct(b->target);
out_free_borrow:
	kfree(b);
	return err;
}

static int borrow_release_pid(pid_t nr)
{
	struct borrow *b, *tmp;
	int err = -ENOENT;

	lockdep_assert_held(&borrow_mutex);

	borrow_reap_expired();
	list_for_each_entry_safe(b, tmp, &borrow_list, node) {
		if (b->nr == nr && b->mode != BORROW_LEAK) {
			borrow_release(b);
			err = 0;
		}
	}
	return err;
}

/* Every borrow; leaks too only with @leaks (unload). */
static void borrow_release_all(bool leaks)
{
	struct borrow *b, *tmp;

	lockdep_assert_held(&borrow_mutex);

	list_for_each_entry_safe(b, tmp, &borrow_list, node)
		if (leaks || b->mode != BORROW_LEAK)
			borrow_release(b);
}

/*
 * move: a kprobe on mmput() spots the target's exit put and, through a
 * hard irq_work (the probe may run like an NMI), wakes the SCHED_FIFO
 * mover bound to that CPU.  The mover runs as soon as the target reaches
 * a preemption point before its write (might_sleep() at the latest) and
 * moves it, runnable and off the CPU, with set_cpus_allowed_ptr().
 * Armed and disarmed under borrow_mutex; the probe and the mover share
 * @move's fields through @move.state.
 */
enum { MOVE_IDLE, MOVE_ARMED, MOVE_FIRED, MOVE_DONE };

static void move_wake(struct irq_work *work);

static struct {
	struct kprobe kp;
	struct irq_work wake;
	struct task_struct *target;	/* task reference held while armed */
	struct task_struct *writer;	/* who armed it, reference held */
	pid_t nr;
	int state;
	int from, to, err;
} move = {
	.wake = IRQ_WORK_INIT_HARD(move_wake),
};

/* One per online CPU while armed, bound there, task reference held. */
static DEFINE_PER_CPU(struct task_struct *, movers);

static int move_pre(struct kprobe *kp, struct pt_regs *regs)
{
	int cpu = smp_processor_id();

	/* exit_mm() cleared ->mm: this is the put of the task's own mm */
	if (current != READ_ONCE(move.target) || current->mm ||
	    !(current->flags & PF_EXITING) ||
	    cmpxchg(&move.state, MOVE_ARMED, MOVE_FIRED) != MOVE_ARMED)
		return 0;
	move.from = cpu;
	move.to = cpumask_any_but(cpu_online_mask, cpu);
	irq_work_queue(&move.wake);
	return 0;
}

NOKPROBE_SYMBOL(move_pre);

static void move_wake(struct irq_work *work)
{
	wake_up_process(per_cpu(movers, move.from));
}

static int move_thread(void *data)
{
	struct mm_struct *mm;

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		/* pairs with move_pre()'s cmpxchg: from and to are set */
		if (smp_load_acquire(&move.state) != MOVE_FIRED ||
		    move.from != smp_processor_id()) {
			schedule();
			continue;
		}
		__set_current_state(TASK_RUNNING);
		/* another task's put on the target's CPU, before its write */
		mm = get_task_mm(move.writer);
		if (mm)
			mmput(mm);
		move.err = move.to < nr_cpu_ids ?
			   set_cpus_allowed_ptr(move.target,
						cpumask_of(move.to)) : -ENODEV;
		/* pairs with the readers': err is set */
		smp_store_release(&move.state, MOVE_DONE);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

static void move_stop_movers(void)
{
	struct task_struct *t;
	int cpu;

	for_each_possible_cpu(cpu) {
		t = per_cpu(movers, cpu);
		if (!t)
			continue;
		kthread_stop(t);
		put_task_struct(t);
		per_cpu(movers, cpu) = NULL;
	}
}

static void move_disarm(void)
{
	lockdep_assert_held(&borrow_mutex);

	if (!move.target)
		return;
	unregister_kprobe(&move.kp);
	irq_work_sync(&move.wake);
	move_stop_movers();
	put_task_struct(move.target);
	move.target = NULL;
	put_task_struct(move.writer);
	move.writer = NULL;
}

static int move_arm(pid_t nr)
{
	struct task_struct *t, *target;
	int cpu, err;

	lockdep_assert_held(&borrow_mutex);

	/* pairs with move_thread(): a move done is over */
	if (move.target && smp_load_acquire(&move.state) != MOVE_DONE)
		return -EBUSY;
	move_disarm();
	if (num_online_cpus() < 2)
		return -ENODEV;
	target = get_pid_task(find_vpid(nr), PIDTYPE_PID);
	if (!target)
		return -ESRCH;
	for_each_online_cpu(cpu) {
		t = kthread_create_on_cpu(move_thread, NULL, cpu, "mmrefs_move/%u");
		if (IS_ERR(t)) {
			err = PTR_ERR(t);
			goto out;
		}
		get_task_struct(t);
		per_cpu(movers, cpu) = t;
		sched_set_fifo(t);
		wake_up_process(t);
	}
	move.target = target;
	move.writer = get_task_struct(current);
	move.nr = nr;
	move.from = -1;
	move.to = -1;
	move.err = 0;
	move.state = MOVE_ARMED;
	memset(&move.kp, 0, sizeof(move.kp));
	move.kp.symbol_name = "mmput";
	move.kp.pre_handler = move_pre;
	err = register_kprobe(&move.kp);
	if (!err)
		return 0;
	move.target = NULL;
	put_task_struct(move.writer);
	move.writer = NULL;
out:
	move_stop_movers();
	put_task_struct(target);
	return err;
}

static int borrow_parse_pid(const char *s, pid_t *nr)
{
	int val;

	if (kstrtoint(s, 10, &val) || val <= 0)
		return -EINVAL;
	*nr = val;
	return 0;
}

/*
 * Parse and run one command. Any syntax error is -EINVAL and changes
 * nothing; so does a HOLD_MS of 0 or above max_hold_ms.
 */
static int borrow_command(char *buf)
{
	unsigned int hold_ms = BORROW_DEFAULT_HOLD_MS;
	enum borrow_mode mode;
	char *argv[4], *tok;
	int argc = 0;
	pid_t nr;

	while ((tok = strsep(&buf, " \t\n")) != NULL) {
		if (!*tok)
			continue;
		if (argc == ARRAY_SIZE(argv))
			return -EINVAL;
		argv[argc++] = tok;
	}
	if (argc < 2)
		return -EINVAL;

	if (!strcmp(argv[0], "release")) {
		if (argc != 2)
			return -EINVAL;
		if (!strcmp(argv[1], "all")) {
			borrow_release_all(false);
			move_disarm();
			return 0;
		}
		if (borrow_parse_pid(argv[1], &nr))
			return -EINVAL;
		return borrow_release_pid(nr);
	}

	if (!strcmp(argv[0], "move")) {
		if (argc != 2 || borrow_parse_pid(argv[1], &nr))
			return -EINVAL;
		return move_arm(nr);
	}
	if (!strcmp(argv[0], "grab"))
		mode = BORROW_GRAB;
	else if (!strcmp(argv[0], "get"))
		mode = BORROW_GET;
	else if (!strcmp(argv[0], "leak"))
		mode = BORROW_LEAK;
	else
		return -EINVAL;
	if (argc > (mode == BORROW_LEAK ? 2 : 3) ||
	    borrow_parse_pid(argv[1], &nr))
		return -EINVAL;
	if (argc == 3 && (kstrtouint(argv[2], 10, &hold_ms) || !hold_ms ||
			  hold_ms > max_hold_ms))
		return -EINVAL;

	return borrow_start(mode, nr, hold_ms);
}

#ifdef CONFIG_DEBUG_FS
static struct dentry *borrow_dir;

static int borrow_control_show(struct seq_file *m, void *v)
{
	struct borrow *b;

	mutex_lock(&borrow_mutex);
	list_for_each_entry(b, &borrow_list, node) {
		spin_lock(&b->lock);
		/* ->mm is set only while our reference pins the struct. */
		if (b->mm)
			seq_printf(m, "borrow pid=%d mode=%s state=held page=%s users=%d count=%d\n",
				   b->nr, borrow_mode_names[b->mode],
				   b->mode != BORROW_GET ?
				   (b->page_ok ? "ok" : "fault") : "none",
				   atomic_read(&b->mm->mm_users),
				   atomic_read(&b->mm->mm_count));
		spin_unlock(&b->lock);
	}
	/* pairs with move_thread(): from, to and err are set */
	if (move.target && smp_load_acquire(&move.state) == MOVE_DONE &&
	    !move.err)
		seq_printf(m, "move pid=%d from=%d to=%d\n", move.nr,
			   move.from, move.to);
	mutex_unlock(&borrow_mutex);
	return 0;
}

static int borrow_control_open(struct inode *inode, struct file *file)
{
	return single_open(file, borrow_control_show, NULL);
}

static ssize_t borrow_control_write(struct file *file, const char __user *ubuf,
				    size_t len, loff_t *ppos)
{
	char buf[BORROW_CMD_MAX];
	int err;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	/* a NUL byte would hide what follows it from the parser */
	if (memchr(buf, '\0', len))
		return -EINVAL;
	buf[len] = '\0';

	mutex_lock(&borrow_mutex);
	err = borrow_command(buf);
	mutex_unlock(&borrow_mutex);
	return err ? err : len;
}

static const struct file_operations borrow_control_fops = {
	.owner = THIS_MODULE,
	.open = borrow_control_open,
	.read = seq_read,
	.write = borrow_control_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static void borrow_debugfs_init(void)
{
	borrow_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("control", 0600, borrow_dir, NULL,
			    &borrow_control_fops);
}

/* Waits for writers and readers still inside the file operations. */
static void borrow_debugfs_exit(void)
{
	debugfs_remove_recursive(borrow_dir);
}
#else
static void borrow_debugfs_init(void) { }
static void borrow_debugfs_exit(void) { }
#endif /* CONFIG_DEBUG_FS */

static int __init borrow_init(void)
{
	if (!IS_ENABLED(CONFIG_DEBUG_FS))
		pr_warn("CONFIG_DEBUG_FS is off: no control file\n");
	borrow_debugfs_init();
	return 0;
}

static void __exit borrow_exit(void)
{
	borrow_debugfs_exit();

	mutex_lock(&borrow_mutex);
	borrow_release_all(true);
	move_disarm();
	mutex_unlock(&borrow_mutex);
}

module_init(borrow_init);
module_exit(borrow_exit);

MODULE_DESCRIPTION("mmrefs selftest helper: borrow a process's mm from a kthread");
MODULE_LICENSE("GPL");
