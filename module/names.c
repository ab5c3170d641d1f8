// SPDX-License-Identifier: GPL-2.0
/*
 * The names of ops, causes, counters, states and holder kinds, expanded
 * from the lists in mmrefs.h, where each is written once.  A leaf of the
 * data path: constant tables, no state, no locks.
 */
#include <linux/kernel.h>

#include "mmrefs.h"

/* in enum order: the numbers are the enums' own (mmrefs.h checks) */
#define EM(a, n, b)		b,
#define EM_END(a, n, b)		b,

static const char * const op_names[] = { MMREFS_OPS };
static const char * const cause_names[] = { MMREFS_CAUSES };
static const char * const counter_names[] = { MMREFS_COUNTERS };
static const char * const state_names[] = { MMREFS_STATES };
static const char * const hold_names[] = { MMREFS_HOLDS };

#undef EM
#undef EM_END

static const char *name_of(const char * const *names, unsigned int nr,
			   unsigned int i)
{
	return i < nr ? names[i] : "?";
}

const char *mmrefs_op_name(unsigned int op)
{
	return name_of(op_names, ARRAY_SIZE(op_names), op);
}

const char *mmrefs_cause_name(unsigned int cause)
{
	return name_of(cause_names, ARRAY_SIZE(cause_names), cause);
}

const char *mmrefs_counter_name(unsigned int counter)
{
	return name_of(counter_names, ARRAY_SIZE(counter_names), counter);
}

const char *mmrefs_state_name(unsigned int state)
{
	return name_of(state_names, ARRAY_SIZE(state_names), state);
}

const char *mmrefs_hold_name(unsigned int kind)
{
	return name_of(hold_names, ARRAY_SIZE(hold_names), kind);
}
