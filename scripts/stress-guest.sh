#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `make stress`, guest side (scripts/stress runs it through scripts/vmtest,
# in /mmrefs).  Loads the borrower, warms the slab caches up with a short
# churn, takes the memory baseline, runs tools/mmrefs_stress (which
# loads and unloads mmrefs.ko itself), then checks that the memory came
# back after the final unload and that no mmrefs_mm slab cache is left.
# With the kernel's site list packed (/mmrefs/sites/), an exact-mode phase
# follows the churn: mmrefs loaded with the list, the churn again, then at
# a quiet moment every exact mm's sums must equal its counters.
# The last line is "stress: PASS" or "stress: FAIL"; exit 0 or 1.
# Usage: stress-guest.sh DURATION [--failslab] [--slow N]
#   --slow N: a kernel N times slower (see mmrefs_stress)
set -u

duration=${1:?usage: stress-guest.sh DURATION [--failslab] [--slow N]}
shift
failslab='' slow=''
while [ $# -gt 0 ]; do
	case "$1" in
	--failslab)	failslab=--failslab; shift ;;
	--slow)		slow="--slow ${2:?}"; shift 2 ;;
	*)		echo "stress-guest.sh: unknown argument $1"; exit 2 ;;
	esac
done
stress=/mmrefs/tools/mmrefs_stress
fs=/sys/kernel/debug/failslab
rc=0

# Memory that must come back once mmrefs is unloaded, measured after
# dropping the page, dentry and inode caches.  Tolerance 2 MB for each
# figure: the churn alone moves them by up to about 0.9 MB (two warm-ups
# in a row: MemAvailable+per-CPU pages -0.5 MB; passing runs of 78 to 103
# cycles: -0.3 to -0.9 MB, Slab +0.3 to +0.8 MB, SUnreclaim +0.2 to
# +0.7 MB, not growing with the number of cycles), while anything mmrefs
# allocates per load (its 256 kB hash table at the default max_mms, its
# 36 kB module image, its per-CPU counters) leaked at each of the 30 or
# more unloads crosses 2 MB from 70 kB per load.  A leaked table
# entry (2.4 kB) is caught exactly instead: kmem_cache_destroy() would
# WARN and the mmrefs_mm cache would stay in /proc/slabinfo.
tol_available=2048
tol_slab=2048
tol_unreclaim=2048

meminfo() {
	awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo
}

# Free pages on the page allocator's per-CPU lists, kB: MemFree and so
# MemAvailable leave them out, and after a churn they hold 15 to 20 MB,
# give or take several MB from one moment to the next.
pcp_kb() {
	awk '$1 == "count:" { n += $2 } END { print n * 4 }' /proc/zoneinfo
}

# MemAvailable plus the per-CPU free pages: what the kernel could hand out.
available() {
	echo $(($(meminfo MemAvailable) + $(pcp_kb)))
}

settle() {
	# RCU callbacks (entries, filters) and kworkers finish first.
	sleep 1
	sync
	echo 3 >/proc/sys/vm/drop_caches
	# Shrink every slab cache: empty slabs go back to the page allocator
	# and, under KASAN, so do the cache's freed objects that sit in the
	# quarantine (kmem_cache_shrink() -> kasan_cache_shrink()), up to
	# 1/32 of RAM that would otherwise count as Slab: +28 MB after a
	# debug-kernel stress without this.
	for f in /sys/kernel/slab/*/shrink; do
		echo 1 >"$f"
	done 2>/dev/null
	sleep 1
}

# mmrefs_mm must not exist: in /proc/slabinfo, or as a merged alias in
# /sys/kernel/slab.
no_cache_left() {
	if grep -q '^mmrefs_mm ' /proc/slabinfo 2>/dev/null ||
	   [ -e /sys/kernel/slab/mmrefs_mm ]; then
		echo "stress: FAIL: the mmrefs_mm slab cache still exists $1"
		grep '^mmrefs_mm ' /proc/slabinfo
		return 1
	fi
}

if [ "$failslab" = --failslab ]; then
	if [ ! -d "$fs" ]; then
		echo "stress: FAIL: kernel $(uname -r) lacks CONFIG_FAILSLAB" \
			"(no $fs): --failslab needs a kernel built with it"
		echo "stress: FAIL"
		exit 1
	fi
	# Fail only caches with SLAB_FAILSLAB (mmrefs_mm, from the boot's
	# slub_debug=A,mmrefs_mm; mmrefs_stress checks its failslab file
	# after each load), 10% of the time, without end,
	# GFP_NOWAIT and GFP_KERNEL alike, and silently: verbose=2 would
	# dump a stack per failure.
	echo Y >"$fs/cache-filter"
	echo N >"$fs/ignore-gfp-wait"
	echo 10 >"$fs/probability"
	echo 1 >"$fs/interval"
	echo -1 >"$fs/times"
	echo 0 >"$fs/space"
	echo 0 >"$fs/verbose"
	echo "stress: failslab: mmrefs_mm allocations fail with probability 10%"
fi

insmod /mmrefs/selftests/test_modules/mmrefs_borrow.ko || exit 1
no_cache_left "before the first load" || rc=1

# The trace ring buffer is allocated at full size (2.8 MB here) the first
# time any event is enabled; mmrefs_stress enables mmrefs' event after
# each load.  Expand it now, so the baseline includes it.
echo 1 >/sys/kernel/tracing/events/sched/sched_process_fork/enable
echo 0 >/sys/kernel/tracing/events/sched/sched_process_fork/enable
# The warm-up fills the slab caches the churn uses, so the baseline is
# not taken from caches that have never grown.
"$stress" --no-module --duration 5 >/tmp/warmup.out 2>&1 || rc=1
sed -n 's/^mmrefs_stress: /stress: warm-up: /p' /tmp/warmup.out
settle
cp /proc/meminfo /tmp/meminfo.before
avail0=$(available) slab0=$(meminfo Slab) unrecl0=$(meminfo SUnreclaim)
echo "stress: memory before the first load: MemAvailable+per-CPU free pages=$avail0 kB Slab=$slab0 kB SUnreclaim=$unrecl0 kB"

# shellcheck disable=SC2086 # empty: no argument; --slow N: two
"$stress" --duration "$duration" $failslab $slow || rc=1

# exact_sums: the exact mms whose sums differ from their counters read
# under task_lock (lazy-TLB references aside), then "N exact mms, M differ".
exact_sums() {
	awk '{
		delete v
		for (i = 1; i <= NF; i++) {
			eq = index($i, "=")
			if (eq)
				v[substr($i, 1, eq - 1)] = substr($i, eq + 1)
		}
		if (!("sum_users" in v) || !("read_users" in v))
			next
		n++
		if (v["sum_users"] != v["read_users"] ||
		    v["sum_count"] != v["read_count"] - v["lazy"]) {
			bad++
			print "stress: exact: differs: " $0
		}
	} END { printf "stress: exact: %d exact mms, %d differ\n", n, bad }' \
		/sys/kernel/debug/mmrefs/mms
}

sites=/mmrefs/sites/$(uname -r).txt
if [ -f "$sites" ]; then
	if insmod /mmrefs/module/mmrefs.ko &&
	   cat "$sites" >/sys/kernel/debug/mmrefs/sites; then
		grep '^sites=' /sys/kernel/debug/mmrefs/sites | sed 's/^/stress: exact: /'
		# shellcheck disable=SC2086 # as above
		"$stress" --no-module --duration 10 $slow >/tmp/exact.out 2>&1 || rc=1
		sed -n 's/^mmrefs_stress: /stress: exact: churn: /p' /tmp/exact.out
		# quiet now; a write in flight while mms is read can make one
		# row differ for that read, a real difference stays
		tries=0
		until exact_sums >/tmp/exact.sums && grep -q ' 0 differ$' /tmp/exact.sums; do
			tries=$((tries + 1))
			[ "$tries" -lt 5 ] || break
			sleep 1
		done
		cat /tmp/exact.sums
		grep -q ' 0 differ$' /tmp/exact.sums || rc=1
		grep -q '^stress: exact: 0 exact mms' /tmp/exact.sums && rc=1
		grep -E '^(sites|lost|untracked|alloc)' /sys/kernel/debug/mmrefs/stats |
			tr '\n' ' ' | sed 's/^/stress: exact: stats: /; s/ $/\n/'
		echo clear >/sys/kernel/debug/mmrefs/sites || rc=1
		rmmod mmrefs || rc=1
	else
		echo "stress: FAIL: exact mode could not start"
		rc=1
	fi
fi

settle
avail1=$(available) slab1=$(meminfo Slab) unrecl1=$(meminfo SUnreclaim)
echo "stress: memory after the final unload: MemAvailable+per-CPU free pages=$avail1 kB Slab=$slab1 kB SUnreclaim=$unrecl1 kB"
echo "stress: memory delta: MemAvailable $((avail1 - avail0)) kB" \
	"(tolerance -$tol_available), Slab $((slab1 - slab0)) kB (+$tol_slab)," \
	"SUnreclaim $((unrecl1 - unrecl0)) kB (+$tol_unreclaim)"
if [ -d /sys/module/mmrefs ]; then
	echo "stress: FAIL: mmrefs is still loaded"
	rc=1
fi
no_cache_left "after the final unload" || rc=1
if [ $((avail0 - avail1)) -gt "$tol_available" ] ||
   [ $((slab1 - slab0)) -gt "$tol_slab" ] ||
   [ $((unrecl1 - unrecl0)) -gt "$tol_unreclaim" ]; then
	echo "stress: FAIL: memory did not return to the baseline; /proc/meminfo fields that moved by 1 MB or more:"
	awk 'NR == FNR { was[$1] = $2; next }
	     $1 in was && ($2 - was[$1] >= 1024 || was[$1] - $2 >= 1024) {
		printf "stress:   %s %d kB -> %d kB\n", $1, was[$1], $2 }' \
		/tmp/meminfo.before /proc/meminfo
	rc=1
fi
rmmod mmrefs_borrow || rc=1

if [ "$rc" -eq 0 ]; then
	echo "stress: PASS"
else
	echo "stress: FAIL"
fi
exit "$rc"
