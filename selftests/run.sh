#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the mmrefs selftests: load mmrefs.ko and the mmrefs_borrow test
# module, run every test program (kselftest_harness TAP on stdout), unload
# what we loaded. POSIX sh: runs under busybox in the test guest.
#
#   MMREFS_KO         mmrefs.ko to load (default ../module/mmrefs.ko)
#   MMREFS_BORROW_KO  borrower (default test_modules/mmrefs_borrow.ko)
#
# Both are exported as absolute paths: the seed and unload tests reload
# the modules themselves. Exit: 0 all passed, 1 something failed,
# 4 (ksft_skip) nothing failed but something was skipped.

ksft_skip=4
dir=$(cd "$(dirname "$0")" && pwd)

abspath() {
	case "$1" in
	/*) echo "$1" ;;
	*) echo "$(pwd)/$1" ;;
	esac
}

MMREFS_KO=$(abspath "${MMREFS_KO:-$dir/../module/mmrefs.ko}")
MMREFS_BORROW_KO=$(abspath "${MMREFS_BORROW_KO:-$dir/test_modules/mmrefs_borrow.ko}")
export MMREFS_KO MMREFS_BORROW_KO

PROGS="mmrefs_lifecycle mmrefs_borrow_test mmrefs_readers mmrefs_control
	mmrefs_security mmrefs_fuzz mmrefs_holders mmrefs_watch"

loaded=""
tmp=""

cleanup() {
	# Unload in reverse order, only what this script loaded.
	for m in $loaded; do
		rmmod "$m" 2>/dev/null || echo "# run.sh: rmmod $m failed" >&2
	done
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if [ "$(id -u)" -ne 0 ]; then
	echo "# run.sh: SKIP: must run as root"
	exit $ksft_skip
fi

mountpoint -q /sys/kernel/debug 2>/dev/null ||
	mount -t debugfs none /sys/kernel/debug 2>/dev/null

# load(name, path): insmod unless already loaded; a failure is not fatal
# here, the tests that need the module skip and say why.
load() {
	if [ -d "/sys/module/$1" ]; then
		echo "# run.sh: $1 already loaded, using it"
	elif [ ! -f "$2" ]; then
		echo "# run.sh: $2 not built"
	elif insmod "$2"; then
		loaded="$1 $loaded"
	else
		echo "# run.sh: insmod $2 failed"
	fi
}

load mmrefs "$MMREFS_KO"
load mmrefs_borrow "$MMREFS_BORROW_KO"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmrefs.XXXXXX") || exit 1
failed=0
skipped=0

for prog in $PROGS; do
	echo "# run.sh: $prog"
	if [ ! -x "$dir/$prog" ]; then
		echo "not ok 1 $prog # not built"
		failed=$((failed + 1))
		continue
	fi
	# Stream the TAP and keep the exit status (no pipefail in POSIX sh).
	{ (cd "$dir" && "./$prog") 2>&1; echo $? >"$tmp/rc"; } | tee "$tmp/log"
	rc=$(cat "$tmp/rc")
	if [ "$rc" -eq "$ksft_skip" ] || grep -q '^ok .*# SKIP' "$tmp/log"; then
		skipped=$((skipped + 1))
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne "$ksft_skip" ] ||
	   grep -q '^not ok ' "$tmp/log"; then
		failed=$((failed + 1))
	fi
done

# No hook may have missed a hit, nor an mm gone untracked, nor a watched
# write gone undecoded or out of sequence, during the workload (since
# mmrefs' last load: some tests reload it).
stats=/sys/kernel/debug/mmrefs/stats
if [ ! -r "$stats" ]; then
	echo "not ok 1 stats.nothing_lost # $stats unreadable"
	failed=$((failed + 1))
elif grep -E 'missed=[1-9]|^lost_[a-z_]+=[1-9]|^watch_(gaps|undecoded)=[1-9]' "$stats"; then
	echo "not ok 1 stats.nothing_lost"
	failed=$((failed + 1))
else
	echo "ok 1 stats.nothing_lost"
fi

echo "# run.sh: $failed program(s) failed, $skipped with skips"
[ "$failed" -ne 0 ] && exit 1
[ "$skipped" -ne 0 ] && exit $ksft_skip
exit 0
