#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `scripts/bench --contention`, guest side (scripts/vmtest --smp N, no
# icount: guest time is the wall clock).  Every round runs bench/mmcontend
# (READERS processes reading /proc/PID/stat of one mm plus FORKERS
# processes forking, all at once, SECONDS each) under each configuration
# in turn: none (mmrefs not loaded), then all (mmrefs loaded, recording every mm).
# Prints raw lines, which scripts/bench turns into a table and rows of
# bench/results.json:
#
#   CONTEND-INFO kernel=... cpus=N
#   CONTEND-STATS round=R (mmrefs' stats file on one line, config all)
#   CONTEND round=R config=C secs=... readers=... forkers=... stat=... ns=...
#           stat_ops=... fork_ops=... ...ops_per_s=... ...ns_per_op=...
#
# STAT: one (the default: every reader reads the stat of one mm, shared
# by all CPUs) or own (each reader its own /proc/self/stat).
#
# Usage: contend.sh ROUNDS SECONDS READERS FORKERS [STAT]
set -eu

rounds=$1 secs=$2 readers=$3 forkers=$4 stat=${5:-one}
here=/mmrefs/bench
dbg=/sys/kernel/debug/mmrefs
mmrefs=/mmrefs/module/mmrefs.ko

echo 0 >/proc/sys/kernel/randomize_va_space
echo "CONTEND-INFO kernel=$(uname -r) cpus=$(grep -c '^processor' /proc/cpuinfo)"

# Let a load's or unload's deferred work (RCU, kprobe optimizer) finish.
settle() {
	sleep 1
}

round=1
while [ "$round" -le "$rounds" ]; do
	for config in none all; do
		stats=
		if [ "$config" = all ]; then
			insmod "$mmrefs"
			stats=$dbg/stats
		fi
		settle
		# shellcheck disable=SC2086 # no stats file: no argument
		line=$(MMCONTEND_OWN=$([ "$stat" = own ] && echo 1 || echo 0) \
			"$here/mmcontend" "$secs" "$readers" "$forkers" $stats)
		echo "CONTEND round=$round config=$config $line"
		# mmrefs' counters so far (hook hits and misses, mms, lost
		# holders), to tell an odd round's events from a slow one.
		[ -z "$stats" ] || echo "CONTEND-STATS round=$round" \
			"$(grep -v -e _offset= -e ^bytes_ "$stats" | tr '\n' ' ')"
		[ "$config" = none ] || rmmod mmrefs
		settle
	done
	round=$((round + 1))
done
echo "CONTEND-DONE"
