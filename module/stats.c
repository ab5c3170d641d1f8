// SPDX-License-Identifier: GPL-2.0
/*
 * Losses and totals: one per-CPU counter each, so that probe handlers and
 * the #DB handler count without a shared cacheline or a lock; readers sum
 * over every possible CPU.  A leaf of the data path: it calls nothing of
 * mmrefs'.  The names are those of MMREFS_STATS in mmrefs.h.
 */
#include <linux/kernel.h>
#include <linux/percpu.h>

#include "mmrefs.h"

DEFINE_PER_CPU(unsigned long, mmrefs_stats[MMREFS_NR_STATS]);

/* in enum order: the numbers are the enums' own (mmrefs.h checks) */
#define EM(a, n, b)		b,
#define EM_END(a, n, b)		b,

static const char * const stat_names[] = { MMREFS_STATS };

#undef EM
#undef EM_END

unsigned long mmrefs_stat_sum(enum mmrefs_stat s)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(mmrefs_stats[s], cpu);
	return sum;
}

const char *mmrefs_stat_name(unsigned int s)
{
	return s < ARRAY_SIZE(stat_names) ? stat_names[s] : "?";
}
