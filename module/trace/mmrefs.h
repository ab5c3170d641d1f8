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
#include "../mmrefs.h"

/* Value-name pairs with literal values: perf and trace-cmd decode them. */
#undef EM
#undef EM_END
#define EM(a, n, b)		{ n, b },
#define EM_END(a, n, b)		{ n, b }

TRACE_EVENT(mmrefs_event, TP_PROTO(u64 id, const struct mmrefs_event *ev),
	    TP_ARGS(id, ev),
	    TP_STRUCT__entry(__field(u64, id)
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
			     __field(u8, counter)
			     __field(u8, observer)
			     __array(char, comm, TASK_COMM_LEN)),
	    TP_fast_assign(__entry->id = id;
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
			   __entry->counter = ev->counter;
			   __entry->observer = ev->observer;
			   memcpy(__entry->comm, ev->comm, TASK_COMM_LEN);),
	    TP_printk("id=%llu op=%s cause=%s users=%d->%d count=%d->%d site=%pS pid=%d tgid=%d comm=%s kthread=%u trap=%s observer=%u",
		      __entry->id,
		      __print_symbolic(__entry->op, MMREFS_OPS),
		      __print_symbolic(__entry->cause, MMREFS_CAUSES),
		      __entry->users_old, __entry->users_new,
		      __entry->count_old, __entry->count_new,
		      (void *)__entry->site, __entry->pid, __entry->tgid,
		      __entry->comm, __entry->kthread,
		      __print_symbolic(__entry->counter, MMREFS_COUNTERS),
		      __entry->observer)
);

#undef EM
#undef EM_END

#endif /* _MMREFS_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH trace
#define TRACE_INCLUDE_FILE mmrefs
#include <trace/define_trace.h>
