// SPDX-License-Identifier: GPL-2.0
/*
 * mmrefs: show, live, who holds every struct mm_struct and how its two
 * reference counts move.
 *
 * mm_users counts the users of an address space (threads, and temporary
 * mmget() holders); the last mmput() tears it down.  mm_count counts
 * references to the struct (all users together count as one, plus
 * mmgrab() borrowers and lazy-TLB users); the last mmdrop() frees it.
 *
 * Output: /sys/kernel/debug/mmrefs/ (mms, history, holders, leaks, stats,
 * filter, enable, watch, sites)
 * and the mmrefs:mmrefs_event trace event.  See Documentation/design.rst;
 * each file says what it owns and which locks protect it.  The data path
 * runs one way: probes.c, watch.c and sites.c -> table.c -> holders.c,
 * with write.c, stats.c and names.c as leaves; debugfs.c only reads and
 * sets.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>

#include "mmrefs.h"

static int __init mmrefs_init(void)
{
	int err;

	err = mmrefs_holders_init();
	if (err)
		return err;
	err = mmrefs_table_init();
	if (err)
		goto out_holders_exit;
	err = mmrefs_watch_init();
	if (err)
		goto out_table_exit;
	err = mmrefs_sites_init();
	if (err)
		goto out_watch_exit;

	/* Arm the probes before seeding, so no free can slip between. */
	err = mmrefs_probes_init();
	if (err)
		goto out_sites_exit;
	/* enable=0: loaded idle, every probe registered disarmed */
	if (mmrefs_enabled)
		mmrefs_table_seed(MMREFS_OP_SEED);

	err = mmrefs_debugfs_init();
	if (err) {
		pr_err("debugfs unavailable (%d)\n", err);
		goto out_probes_exit;
	}
	pr_info("tracking %u mms\n", mmrefs_table_size());
	return 0;

out_probes_exit:
	mmrefs_probes_exit();
out_sites_exit:
	mmrefs_sites_exit();
out_watch_exit:
	mmrefs_watch_exit();
out_table_exit:
	mmrefs_table_exit();
out_holders_exit:
	mmrefs_holders_exit();
	return err;
}

static void __exit mmrefs_exit(void)
{
	mmrefs_debugfs_exit();
	/* before the probes: a disarm's mmdrop may be the free */
	mmrefs_watch_exit();
	mmrefs_sites_exit();
	mmrefs_probes_exit();
	mmrefs_table_exit();
	mmrefs_holders_exit();
}

module_init(mmrefs_init);
module_exit(mmrefs_exit);
MODULE_DESCRIPTION("Live holders and transitions of mm_struct reference counts");
MODULE_LICENSE("GPL");
