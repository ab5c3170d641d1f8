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
 * filter, enable, watch)
 * and the mmrefs:mmrefs_event trace event.  See README.md.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "mmrefs.h"

unsigned int mmrefs_history = 32;
module_param_named(history, mmrefs_history, uint, 0444);
MODULE_PARM_DESC(history, "Transitions kept per mm (0..1024, default 32)");

unsigned int mmrefs_retired_max = 64;
module_param_named(retired, mmrefs_retired_max, uint, 0444);
MODULE_PARM_DESC(retired, "Freed mms whose history stays readable (0..65536, default 64)");

unsigned int mmrefs_max_mms = 65536;
module_param_named(max_mms, mmrefs_max_mms, uint, 0444);
MODULE_PARM_DESC(max_mms, "Most mms tracked at once (64..1048576, default 65536)");

static int __init mmrefs_init(void)
{
	int err;

	if (mmrefs_history > 1024 || mmrefs_retired_max > 65536 ||
	    mmrefs_max_mms < 64 || mmrefs_max_mms > 1048576 ||
	    mmrefs_max_holders < 64 || mmrefs_max_holders > 1048576) {
		pr_err("history, retired, max_mms or holders out of range\n");
		return -EINVAL;
	}

	err = mmrefs_holders_init();
	if (err)
		return err;
	err = mmrefs_table_init();
	if (err)
		goto out_holders_exit;
	mmrefs_watch_init();

	/* Arm the probes before seeding, so no free can slip between. */
	err = mmrefs_probes_init();
	if (err)
		goto out_table_exit;
	mmrefs_table_seed();

	err = mmrefs_debugfs_init();
	if (err) {
		pr_err("debugfs unavailable (%d)\n", err);
		goto out_probes_exit;
	}
	pr_info("tracking %u mms\n", mmrefs_table_size());
	return 0;

out_probes_exit:
	mmrefs_probes_exit();
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
	mmrefs_probes_exit();
	mmrefs_table_exit();
	mmrefs_holders_exit();
}

module_init(mmrefs_init);
module_exit(mmrefs_exit);
MODULE_DESCRIPTION("Live holders and transitions of mm_struct reference counts");
MODULE_LICENSE("GPL");
