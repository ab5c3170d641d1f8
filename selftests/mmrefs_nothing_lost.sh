#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The last mmrefs selftest (lib.mk runs TEST_PROGS after TEST_GEN_PROGS):
# during everything the test programs did since mmrefs' last load (some
# tests reload it), no hook may have missed a hit, no mm may have gone
# untracked, no watched write may have gone undecoded or out of sequence.
# Then it unloads the modules that the test programs loaded (mmrefs_util.c
# names them in $TMPDIR/mmrefs_selftests.loaded), the borrower first.
# POSIX sh: runs under busybox in the test guest.
# Exit: 0 passed, 1 failed, 4 (ksft_skip) not root.

ksft_skip=4
stats=/sys/kernel/debug/mmrefs/stats
list=${TMPDIR:-/tmp}/mmrefs_selftests.loaded

# shellcheck disable=SC2317 # run by the EXIT trap
unload() {
	[ -f "$list" ] || return 0
	for m in mmrefs_borrow mmrefs; do
		grep -qx "$m" "$list" || continue
		[ -d "/sys/module/$m" ] || continue
		rmmod "$m" || echo "# rmmod $m failed"
	done
	rm -f "$list"
}
trap unload EXIT

echo "TAP version 13"
echo "1..1"
if [ "$(id -u)" -ne 0 ]; then
	echo "ok 1 stats.nothing_lost # SKIP must run as root"
	exit $ksft_skip
fi
if [ ! -r "$stats" ]; then
	echo "not ok 1 stats.nothing_lost # $stats unreadable"
	exit 1
fi
if grep -E 'missed=[1-9]|^lost_[a-z_]+=[1-9]|^watch_(gaps|undecoded)=[1-9]' "$stats" |
	sed 's/^/# /' | grep .; then
	echo "not ok 1 stats.nothing_lost"
	exit 1
fi
echo "ok 1 stats.nothing_lost"
exit 0
