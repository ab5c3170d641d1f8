#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `make demo`, guest side (run by scripts/vmtest in /mmrefs): load mmrefs
# (leak_torndown_ms=500: the demo shows a leaks record without a long wait;
# stacks=1: holder records with their stacks)
# and the borrower, run tools/mmrefs_demo (threads, fork, watching the
# child's mm, a kthread borrowing it while it exits), then show what mmrefs kept
# about the demo process: its mms row, its history, and the stats; last,
# the watched child's mm drawn by `mmrefs timeline` (for scripts/demo).
set -u
dbg=/sys/kernel/debug/mmrefs

load() {
	# $2: the module and its parameters, split on purpose
	# shellcheck disable=SC2086
	[ -d "/sys/module/$1" ] || insmod $2 || exit 1
}
load mmrefs "/mmrefs/module/mmrefs.ko leak_torndown_ms=500 stacks=1"
load mmrefs_borrow /mmrefs/selftests/test_modules/mmrefs_borrow.ko

# Stream the demo and keep its status (no pipefail in POSIX sh).
{ /mmrefs/tools/mmrefs_demo; echo $? >/tmp/demo.rc; } | tee /tmp/demo.out
rc=$(cat /tmp/demo.rc)
pid=$(sed -n 's/^demo pid=\([0-9]*\)$/\1/p' /tmp/demo.out)
[ -n "$pid" ] || { echo "demo: no 'demo pid=N' line"; exit 1; }

echo
echo "== mms rows of tgid $pid (none once every mm of it is freed)"
grep " tgid=$pid " "$dbg/mms" || true
echo
echo "== history of tgid $pid and its mms"
awk -v t=" tgid=$pid " '/^mm / { show = index($0 " ", t) > 0 } show' "$dbg/history"
echo
# The watched child's mm has its own tgid, so the block above lacks it; its
# full lines (ts, cpu, pid) are what tools/mmrefs_timeline draws.
child=$(sed -n 's/^step forked child pid=[0-9]* mm id=\([0-9]*\) .*/\1/p' /tmp/demo.out)
echo "== history of the watched child's mm id=${child:-?}"
[ -n "$child" ] &&
	awk -v h="mm id=$child " '/^mm / { show = index($0, h) == 1 } show' "$dbg/history"
echo
echo "== stats"
cat "$dbg/stats"
# The child's mm drawn (scripts/demo writes it to demo-timeline.svg).
if [ -n "$child" ]; then
	echo "MMREFS-TIMELINE-BEGIN"
	/mmrefs/tools/mmrefs timeline "mm=$child" \
		-t "make demo: the watched child's mm" || rc=1
	echo "MMREFS-TIMELINE-END"
fi
exit "$rc"
