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

/* Let user space tools resolve the symbolic names. */
TRACE_DEFINE_ENUM(MMREFS_OP_SEED);
TRACE_DEFINE_ENUM(MMREFS_OP_NEW);
TRACE_DEFINE_ENUM(MMREFS_OP_GET);
TRACE_DEFINE_ENUM(MMREFS_OP_PUT);
TRACE_DEFINE_ENUM(MMREFS_OP_GRAB);
TRACE_DEFINE_ENUM(MMREFS_OP_USE);
TRACE_DEFINE_ENUM(MMREFS_OP_UNUSE);
TRACE_DEFINE_ENUM(MMREFS_OP_TEARDOWN);
TRACE_DEFINE_ENUM(MMREFS_OP_FREE);
TRACE_DEFINE_ENUM(MMREFS_OP_MMGET);
TRACE_DEFINE_ENUM(MMREFS_OP_MMGET_NOT_ZERO);
TRACE_DEFINE_ENUM(MMREFS_OP_MMPUT);
TRACE_DEFINE_ENUM(MMREFS_OP_MMGRAB);
TRACE_DEFINE_ENUM(MMREFS_OP_MMDROP);
TRACE_DEFINE_ENUM(MMREFS_OP_LAZY_TLB);
TRACE_DEFINE_ENUM(MMREFS_OP_WRITE);
TRACE_DEFINE_ENUM(MMREFS_OP_WATCH);
TRACE_DEFINE_ENUM(MMREFS_OP_UNWATCH);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_SEED);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_FORK);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_EXEC);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_THREAD);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_VFORK);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_CLONE_VM);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_EXIT);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_GET_TASK_MM);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_MM_ACCESS);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_PUT);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_ASYNC);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_PROC);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_KTHREAD);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_TEARDOWN);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_FREE);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_TRAP);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_OBSERVER);
TRACE_DEFINE_ENUM(MMREFS_CAUSE_USE_MM);
TRACE_DEFINE_ENUM(MMREFS_CTR_NONE);
TRACE_DEFINE_ENUM(MMREFS_CTR_USERS);
TRACE_DEFINE_ENUM(MMREFS_CTR_COUNT);

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
		      __print_symbolic(__entry->op,
				       MMREFS_OP_SEED_SYM, MMREFS_OP_NEW_SYM,
				       MMREFS_OP_GET_SYM, MMREFS_OP_PUT_SYM,
				       MMREFS_OP_GRAB_SYM, MMREFS_OP_USE_SYM,
				       MMREFS_OP_UNUSE_SYM, MMREFS_OP_TEARDOWN_SYM,
				       MMREFS_OP_FREE_SYM, MMREFS_OP_MMGET_SYM,
				       MMREFS_OP_MMGET_NOT_ZERO_SYM,
				       MMREFS_OP_MMPUT_SYM, MMREFS_OP_MMGRAB_SYM,
				       MMREFS_OP_MMDROP_SYM,
				       MMREFS_OP_LAZY_TLB_SYM,
				       MMREFS_OP_WRITE_SYM, MMREFS_OP_WATCH_SYM,
				       MMREFS_OP_UNWATCH_SYM),
		      __print_symbolic(__entry->cause,
				       MMREFS_CAUSE_SEED_SYM, MMREFS_CAUSE_FORK_SYM,
				       MMREFS_CAUSE_EXEC_SYM,
				       MMREFS_CAUSE_THREAD_SYM,
				       MMREFS_CAUSE_VFORK_SYM,
				       MMREFS_CAUSE_CLONE_VM_SYM,
				       MMREFS_CAUSE_EXIT_SYM,
				       MMREFS_CAUSE_GET_TASK_MM_SYM,
				       MMREFS_CAUSE_MM_ACCESS_SYM,
				       MMREFS_CAUSE_PUT_SYM, MMREFS_CAUSE_ASYNC_SYM,
				       MMREFS_CAUSE_PROC_SYM,
				       MMREFS_CAUSE_KTHREAD_SYM,
				       MMREFS_CAUSE_TEARDOWN_SYM,
				       MMREFS_CAUSE_FREE_SYM,
				       MMREFS_CAUSE_TRAP_SYM,
				       MMREFS_CAUSE_OBSERVER_SYM,
				       MMREFS_CAUSE_USE_MM_SYM,
				       MMREFS_CAUSE_KHUGEPAGED_SYM),
		      __entry->users_old, __entry->users_new,
		      __entry->count_old, __entry->count_new,
		      (void *)__entry->site, __entry->pid, __entry->tgid,
		      __entry->comm, __entry->kthread,
		      __print_symbolic(__entry->counter,
				       { MMREFS_CTR_NONE, "-" },
				       { MMREFS_CTR_USERS, "users" },
				       { MMREFS_CTR_COUNT, "count" }),
		      __entry->observer)
);

#endif /* _MMREFS_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH trace
#define TRACE_INCLUDE_FILE mmrefs
#include <trace/define_trace.h>
