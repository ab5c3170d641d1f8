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
#   BENCH-SITES round=R when=before|after sites=... armed=... optimized=...
#   BENCH-ANCHOR site=sN at=SYMBOL+OFF state=S by=symbol|address|- why=...
#   BENCH-ANCHOR-SUM listed=N armed=A placed=P by_symbol=S by_address=B skipped=K
#   BENCH-ANCHOR-LIVE round=R when=before|after probes=N optimized=O missed=M
#
# Configurations, round-robin in every round (rotated: round R starts at
# the R-th): none, all (mmrefs recording
# every mm), filtered (mmrefs, filter tgid=1 excludes the workload),
# watch (mmrefs recording all, and the workload's own mm watched: mmbench
# arms it with MMBENCH_WATCH=1), kprobe (ftrace kprobe_events with
# fetchargs on mmput, __mmdrop and get_task_mm's return), bpftrace (the
# same points, when bench/bpftrace exists), exact (mmrefs recording all
# with the kernel's site list written to `sites`: a kprobe at every write
# of mm_users/mm_count), anchor (the same work the standard way: an ftrace
# kprobe event at each site exact arms, fetching the counter; made by
# bench/anchor.awk from the same list).
#
# Usage: guest.sh ROUNDS FORK_OPS THREAD_OPS MAPS_OPS BORROW_OPS "PROCS..." ["CONFIGS..."]
set -eu

rounds=$1 scale=$6
configs="none ${7:-idle all filtered watch kprobe bpftrace exact anchor}"
ops_fork=$2 ops_thread=$3 ops_maps=$4 ops_borrow=$5
here=/mmrefs/bench
dbg=/sys/kernel/debug/mmrefs
tr=/sys/kernel/tracing
kprobes=/sys/kernel/debug/kprobes/list
mmrefs=/mmrefs/module/mmrefs.ko
sites=/mmrefs/sites/$(uname -r).txt
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
# Which sites exact mode arms, for the anchor: the same ones.
if [ -f "$sites" ] && cat "$sites" >"$dbg/sites"; then
	cat "$dbg/sites" >/tmp/sites.out
	mmput=$(awk '$3 == "mmput" { print $1; exit }' /proc/kallsyms)
	awk -f "$here/anchor.awk" -v mmput="$mmput" /tmp/sites.out "$sites" \
		>/tmp/anchor.sites || rm -f /tmp/anchor.sites
fi
rmmod mmrefs

bpftrace_prog="
kprobe:mmput { @u = *(int32 *)(arg0 + $users_off); @c = *(int32 *)(arg0 + $count_off); }
kprobe:__mmdrop { @u = *(int32 *)(arg0 + $users_off); @c = *(int32 *)(arg0 + $count_off); }
kretprobe:get_task_mm /retval/ { @u = *(int32 *)(retval + $users_off); @c = *(int32 *)(retval + $count_off); }
"
bpftrace_pid=

# Why kprobe_events refused the last line, as one word: its error_log,
# the write's errno and, for a site in a notrace function (every inline
# one: CONFIG_KPROBE_EVENTS_ON_NOTRACE=n refuses those), the kernel log.
kprobe_error() {
	{
		sed -n 's/.*error: //p' "$tr/error_log" | tail -n 1
		sed -n 's/.*error: //p' /tmp/kprobe.err | tail -n 1
		dmesg | tail -n +$((dmesg_seen + 1)) |
			sed -n 's/.*\(Could not probe notrace\).*/\1/p'
	} | tr -c 'A-Za-z0-9.:/+\n-' _ | paste -s -d / -
}

# One anchor event: by SYMBOL+OFF if kprobe_events takes it, else by
# address (ambiguous static symbols, .isra.0 names).  Says how, or why not.
anchor_try() {
	fetch="ctr=$5:s32"
	echo >"$tr/error_log"
	dmesg_seen=$(dmesg | wc -l)
	if echo "p:mmrefs_anchor/$1 $3 $fetch" >>"$tr/kprobe_events" 2>/tmp/kprobe.err; then
		echo "p:mmrefs_anchor/$1 $3 $fetch" >>/tmp/anchor.events
		echo "BENCH-ANCHOR site=$1 at=$3 state=$2 by=symbol"
		return 0
	fi
	why=$(kprobe_error)
	echo >"$tr/error_log"
	dmesg_seen=$(dmesg | wc -l)
	if [ "$4" != - ] && echo "p:mmrefs_anchor/$1 0x$4 $fetch" >>"$tr/kprobe_events" 2>/tmp/kprobe.err; then
		echo "p:mmrefs_anchor/$1 0x$4 $fetch" >>/tmp/anchor.events
		echo "BENCH-ANCHOR site=$1 at=$3 state=$2 by=address why=$why"
		return 0
	fi
	[ "$4" = - ] || why="$why,address:$(kprobe_error)"
	echo "BENCH-ANCHOR site=$1 at=$3 state=$2 by=- why=$why"
	return 1
}

# Place the anchor events once, to learn which form each site takes
# (/tmp/anchor.events: the lines that worked) and what is skipped.
anchor_prepare() {
	: >/tmp/anchor.events
	listed=0 armed=0 by_symbol=0 by_address=0 skipped=0
	while read -r name state at addr fetch; do
		listed=$((listed + 1))
		[ "$state" = armed ] || continue
		armed=$((armed + 1))
		if [ "$fetch" = - ]; then
			echo "BENCH-ANCHOR site=$name at=$at state=$state by=- why=operand_not_a_register_plus_offset"
			skipped=$((skipped + 1))
		elif anchor_try "$name" "$state" "$at" "$addr" "$fetch"; then
			case $(tail -n 1 /tmp/anchor.events) in
			*" 0x"*)	by_address=$((by_address + 1)) ;;
			*)		by_symbol=$((by_symbol + 1)) ;;
			esac
		else
			skipped=$((skipped + 1))
		fi
	done </tmp/anchor.sites
	echo >"$tr/kprobe_events"
	echo "BENCH-ANCHOR-SUM listed=$listed armed=$armed" \
		"placed=$((by_symbol + by_address)) by_symbol=$by_symbol" \
		"by_address=$by_address skipped=$skipped"
}

# probe_state CONFIG ROUND WHEN: exact's sites header, the anchor's
# kprobes (the optimizer works asynchronously: read after settle and
# again after the runs).
probe_state() {
	case "$1" in
	exact)
		# kprobes_optimized: the kernel's count, mmrefs' hooks included
		echo "BENCH-SITES round=$2 when=$3 $(head -n 1 "$dbg/sites")" \
			"kprobes_optimized=$(grep -c OPTIMIZED "$kprobes")" ;;
	anchor)
		echo "BENCH-ANCHOR-LIVE round=$2 when=$3" \
			"probes=$(wc -l <"$tr/kprobe_profile")" \
			"optimized=$(grep -c OPTIMIZED "$kprobes")" \
			"missed=$(awk '{ m += $3 } END { print m + 0 }' "$tr/kprobe_profile")" ;;
	esac
}

# on CONFIG: start the tracer of CONFIG (or say why it cannot run).
on() {
	case "$1" in
	none)	;;
	idle)
		insmod "$mmrefs"
		echo 0 >"$dbg/enable" ;;
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
	exact)
		if [ ! -f "$sites" ]; then
			echo "BENCH-NA config=exact reason=no_site_list_for_$(uname -r)"
			return 1
		fi
		insmod "$mmrefs"
		if ! cat "$sites" >"$dbg/sites" ||
		   ! head -n 1 "$dbg/sites" | grep -q ' exact=on '; then
			echo "BENCH-NA config=exact reason=$(head -n 1 "$dbg/sites" | tr -c 'A-Za-z0-9.:/=-' _)"
			rmmod mmrefs
			return 1
		fi ;;
	anchor)
		if [ ! -f /tmp/anchor.sites ]; then
			echo "BENCH-NA config=anchor reason=no_site_list_for_$(uname -r)"
			return 1
		elif [ ! -s /tmp/anchor.events ]; then
			echo "BENCH-NA config=anchor reason=no_anchor_event_could_be_placed"
			return 1
		fi
		while read -r event; do
			echo "$event" >>"$tr/kprobe_events"
		done </tmp/anchor.events
		echo >"$tr/trace"
		echo 1 >"$tr/events/mmrefs_anchor/enable" ;;
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
	idle | all | filtered | watch | exact)
		rmmod mmrefs ;;
	kprobe)
		echo 0 >"$tr/events/mmbench/enable"
		echo >"$tr/kprobe_events" ;;
	anchor)
		echo 0 >"$tr/events/mmrefs_anchor/enable"
		echo >"$tr/kprobe_events" ;;
	bpftrace)
		kill -INT "$bpftrace_pid"
		wait "$bpftrace_pid" || true ;;
	esac
}

# counters CONFIG: the file mmbench diffs for events per op, if any.
counters() {
	case "$1" in
	idle | all | filtered | watch | exact)	echo "$dbg/stats" ;;
	kprobe | anchor)	echo "$tr/kprobe_profile" ;;
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

if [ -f /tmp/anchor.sites ]; then
	anchor_prepare
fi
mark start
# The first runs after boot pay for what the kernel sets up on first use
# (6.12's thread: 66,000 ns/op in round 1, 58,000 after): one round of
# every workload, untraced and unreported, goes first.
for w in $workloads; do
	"$here/mmbench" "$w" "$(ops_of "$w")" >/dev/null
done
mark warm-up
# The configurations in round R, rotated by R - 1: what ran just before a
# configuration moves from round to round (6.12's fork measured idle above
# none in every round while idle always followed none), so no order bias
# is the same in every round and the medians share it out.
rotate() {
	shift_by=$(($1 % ($# - 1)))
	shift
	i=0
	for c in "$@"; do
		[ "$i" -ge "$shift_by" ] && printf '%s\n' "$c"
		i=$((i + 1))
	done
	i=0
	for c in "$@"; do
		[ "$i" -lt "$shift_by" ] && printf '%s\n' "$c"
		i=$((i + 1))
	done
}

round=1
while [ "$round" -le "$rounds" ]; do
	# shellcheck disable=SC2086 # the list is split into its words
	for config in $(rotate $((round - 1)) $configs); do
		# A config that cannot run is said once, not every round.
		if ! on "$config" >/tmp/on.out; then
			[ "$round" -eq 1 ] && cat /tmp/on.out
			continue
		fi
		settle
		probe_state "$config" "$round" before
		for w in $workloads; do
			# shellcheck disable=SC2046 # no counters file: no argument
			line=$(MMBENCH_WATCH=$([ "$config" = watch ] && echo 1 || echo 0) \
				"$here/mmbench" "$w" "$(ops_of "$w")" $(counters "$config"))
			echo "BENCH round=$round config=$config $line"
		done
		probe_state "$config" "$round" after
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
