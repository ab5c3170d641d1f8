#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `make bench`, guest side (scripts/bench runs it through scripts/vmtest
# --icount, in /mmrefs).  Prints raw measurements, one per line, which
# scripts/bench turns into the table and bench/results.json:
#
#   BENCH-INFO kernel=... bytes_per_mm=... bytes_per_event=... history=...
#   BENCH round=R config=C workload=W ops=N ns=... ns_per_op=... events=...
#   BENCH-NA config=C reason=...
#   BENCH-SCALE procs=P round=R config=C workload=maps ...
#
# Configurations, round-robin in every round: none, all (mmrefs recording
# every mm), filtered (mmrefs, filter tgid=1 excludes the workload),
# watch (mmrefs recording all, and the workload's own mm watched: mmbench
# arms it with MMBENCH_WATCH=1), kprobe (ftrace kprobe_events with
# fetchargs on mmput, __mmdrop and get_task_mm's return), bpftrace (the
# same points, when bench/bpftrace exists).
#
# Usage: guest.sh ROUNDS FORK_OPS THREAD_OPS MAPS_OPS BORROW_OPS "PROCS..."
set -eu

rounds=$1 scale=$6
ops_fork=$2 ops_thread=$3 ops_maps=$4 ops_borrow=$5
here=/mmrefs/bench
dbg=/sys/kernel/debug/mmrefs
tr=/sys/kernel/tracing
mmrefs=/mmrefs/module/mmrefs.ko
workloads="fork thread maps borrow"

insmod /mmrefs/selftests/test_modules/mmrefs_borrow.ko
# Without ASLR every run lays out its address space alike, so runs differ
# less (VMA tree shapes, page-table pages).
echo 0 >/proc/sys/kernel/randomize_va_space

stat_of() {
	sed -n "s/^$1=//p" "$dbg/stats"
}

# This kernel's layout, for the kprobe_events fetchargs.
insmod "$mmrefs"
users_off=$(stat_of mm_users_offset)
count_off=$(stat_of mm_count_offset)
echo "BENCH-INFO kernel=$(uname -r) bytes_per_mm=$(stat_of bytes_per_mm)" \
	"bytes_per_event=$(stat_of bytes_per_event) history=$(stat_of history)" \
	"mm_users_offset=$users_off mm_count_offset=$count_off"
rmmod mmrefs

bpftrace_prog="
kprobe:mmput { @u = *(int32 *)(arg0 + $users_off); @c = *(int32 *)(arg0 + $count_off); }
kprobe:__mmdrop { @u = *(int32 *)(arg0 + $users_off); @c = *(int32 *)(arg0 + $count_off); }
kretprobe:get_task_mm /retval/ { @u = *(int32 *)(retval + $users_off); @c = *(int32 *)(retval + $count_off); }
"
bpftrace_pid=

# on CONFIG: start the tracer of CONFIG (or say why it cannot run).
on() {
	case "$1" in
	none)	;;
	all)	insmod "$mmrefs" ;;
	filtered)
		insmod "$mmrefs"
		echo tgid=1 >"$dbg/filter" ;;
	watch)	insmod "$mmrefs" ;;
	kprobe)
		u="users=+$users_off(%di):s32 count=+$count_off(%di):s32"
		r="users=+$users_off(\$retval):s32 count=+$count_off(\$retval):s32"
		{
			echo "p:mmbench/put mmput $u"
			echo "p:mmbench/drop __mmdrop $u"
			echo "r:mmbench/get get_task_mm $r"
		} >"$tr/kprobe_events"
		echo >"$tr/trace"
		echo 1 >"$tr/events/mmbench/enable" ;;
	bpftrace)
		if [ ! -x "$here/bpftrace" ]; then
			echo "BENCH-NA config=bpftrace reason=$(cat "$here/bpftrace.na" 2>/dev/null || echo not_packed)"
			return 1
		fi
		rm -f /tmp/bpftrace.out
		"$here/bpftrace" -e "BEGIN { printf(\"attached\\n\"); } $bpftrace_prog" \
			>/tmp/bpftrace.out 2>&1 &
		bpftrace_pid=$!
		i=0
		until grep -q attached /tmp/bpftrace.out; do
			i=$((i + 1))
			if [ "$i" -gt 600 ] || ! kill -0 "$bpftrace_pid" 2>/dev/null; then
				echo "BENCH-NA config=bpftrace reason=$(head -c 200 /tmp/bpftrace.out | tr -c 'A-Za-z0-9.:/-' _)"
				kill "$bpftrace_pid" 2>/dev/null || true
				return 1
			fi
			sleep 0.1
		done ;;
	esac
}

off() {
	case "$1" in
	all | filtered | watch)
		rmmod mmrefs ;;
	kprobe)
		echo 0 >"$tr/events/mmbench/enable"
		echo >"$tr/kprobe_events" ;;
	bpftrace)
		kill -INT "$bpftrace_pid"
		wait "$bpftrace_pid" || true ;;
	esac
}

# counters CONFIG: the file mmbench diffs for events per op, if any.
counters() {
	case "$1" in
	all | filtered | watch)	echo "$dbg/stats" ;;
	kprobe)		echo "$tr/kprobe_profile" ;;
	esac
}

# Let deferred work of a load or unload (RCU, kprobe optimizer, kworkers)
# finish before measuring (bpftrace's exit leaves RCU-tasks work behind);
# idle guest time costs no wall time under icount (sleep=off).
settle() {
	sleep 1
}

# Guest time so far, to see where a run spends it.
mark() {
	echo "BENCH-TIME uptime=$(cut -d' ' -f1 /proc/uptime) $*"
}

ops_of() {
	case "$1" in
	fork)	echo "$ops_fork" ;;
	thread)	echo "$ops_thread" ;;
	maps)	echo "$ops_maps" ;;
	borrow)	echo "$ops_borrow" ;;
	esac
}

mark start
round=1
while [ "$round" -le "$rounds" ]; do
	for config in none all filtered watch kprobe bpftrace; do
		# A config that cannot run is said once, not every round.
		if ! on "$config" >/tmp/on.out; then
			[ "$round" -eq 1 ] && cat /tmp/on.out
			continue
		fi
		settle
		for w in $workloads; do
			# shellcheck disable=SC2046 # no counters file: no argument
			line=$(MMBENCH_WATCH=$([ "$config" = watch ] && echo 1 || echo 0) \
				"$here/mmbench" "$w" "$(ops_of "$w")" $(counters "$config"))
			echo "BENCH round=$round config=$config $line"
		done
		off "$config"
		settle
	done
	mark "round $round"
	round=$((round + 1))
done

# Scale: maps with mmrefs recording all while PROCS processes stay alive.
for procs in $scale; do
	rm -f /tmp/hold.ready
	"$here/mmhold" "$procs" /tmp/hold.ready &
	hold=$!
	until [ -e /tmp/hold.ready ]; do
		kill -0 "$hold" || { echo "bench: mmhold $procs failed"; exit 1; }
		sleep 0.1
	done
	mark "scale $procs ready"
	round=1
	while [ "$round" -le "$rounds" ]; do
		for config in none all; do
			on "$config"
			settle
			# shellcheck disable=SC2046
			line=$("$here/mmbench" maps "$ops_maps" $(counters "$config"))
			echo "BENCH-SCALE procs=$procs round=$round config=$config $line"
			off "$config"
			settle
		done
		round=$((round + 1))
	done
	kill -TERM "$hold"
	wait "$hold"
	mark "scale $procs done"
done
echo "BENCH-DONE"
