/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mmrefs trace event: one per recorded mm_users/mm_count transition,
 * so trace-cmd, perf and tracefs filters see the same stream as the
 * debugfs history.  Only table.c defines CREATE_TRACE_POINTS.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM mmrefs

#if !defined(_MMREFS_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _MMREFS_TRACE_H

#include <linux/tracepoint.h>
#include "mmrefs.h"

#define MMREFS_OP_DEF(a, b)	TRACE_DEFINE_ENUM(MMREFS_OP_##a);
#define MMREFS_CAUSE_DEF(a, b)	TRACE_DEFINE_ENUM(MMREFS_CAUSE_##a);
MMREFS_OPS(MMREFS_OP_DEF, MMREFS_OP_DEF)
MMREFS_CAUSES(MMREFS_CAUSE_DEF, MMREFS_CAUSE_DEF)

#define MMREFS_OP_SYM(a, b)	{ MMREFS_OP_##a, #b },
#define MMREFS_OP_SYMe(a, b)	{ MMREFS_OP_##a, #b }
#define MMREFS_CAUSE_SYM(a, b)	{ MMREFS_CAUSE_##a, #b },
#define MMREFS_CAUSE_SYMe(a, b)	{ MMREFS_CAUSE_##a, #b }

TRACE_EVENT(mmrefs_event,

	TP_PROTO(u64 id, const struct mmrefs_event *ev),

	TP_ARGS(id, ev),

	TP_STRUCT__entry(
		__field(u64, id)
		__field(unsigned long, site)
		__field(pid_t, pid)
		__field(pid_t, tgid)
		__field(int, users_old)
		__field(int, users_new)
		__field(int, count_old)
		__field(int, count_new)
		__field(u8, op)
		__field(u8, cause)
		__field(u8, kthread)
		__array(char, comm, TASK_COMM_LEN)
	),

	TP_fast_assign(
		__entry->id = id;
		__entry->site = ev->site;
		__entry->pid = ev->pid;
		__entry->tgid = ev->tgid;
		__entry->users_old = ev->users_old;
		__entry->users_new = ev->users_new;
		__entry->count_old = ev->count_old;
		__entry->count_new = ev->count_new;
		__entry->op = ev->op;
		__entry->cause = ev->cause;
		__entry->kthread = ev->kthread;
		memcpy(__entry->comm, ev->comm, TASK_COMM_LEN);
	),

	TP_printk("id=%llu op=%s cause=%s users=%d->%d count=%d->%d site=%pS pid=%d tgid=%d comm=%s kthread=%u",
		  __entry->id,
		  __print_symbolic(__entry->op,
				   MMREFS_OPS(MMREFS_OP_SYM, MMREFS_OP_SYMe)),
		  __print_symbolic(__entry->cause,
				   MMREFS_CAUSES(MMREFS_CAUSE_SYM,
						 MMREFS_CAUSE_SYMe)),
		  __entry->users_old, __entry->users_new,
		  __entry->count_old, __entry->count_new,
		  (void *)__entry->site, __entry->pid, __entry->tgid,
		  __entry->comm, __entry->kthread)
);

#endif /* _MMREFS_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE mmrefs-trace
#include <trace/define_trace.h>
