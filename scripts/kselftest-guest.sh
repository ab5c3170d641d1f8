#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of scripts/check and scripts/check-debug (run by scripts/vmtest,
# in /mmrefs): run the installed mmrefs kselftests the kernel's way, with
# /mmrefs/kselftest/run_kselftest.sh (kselftest/runner.sh under busybox sh,
# each program under timeout(1) with the limit of the installed settings
# file).  The output is one TAP document: a top-level
# "ok N selftests: mmrefs: PROGRAM" line per program, each program's own TAP
# nested below it with "# " in front.  mmrefs.ko is /mmrefs/module/mmrefs.ko
# (MMREFS_KO); the borrower is test_modules/mmrefs_borrow.ko beside the
# programs, where they look by default.
# run_kselftest.sh exits 0 whatever the results, so this script judges the
# top-level lines: exit 1 if a program failed, timed out or has no result
# line, else 4 (ksft_skip) if one skipped, else 0.
# With --exact first, the whole suite runs in exact mode: every load of
# mmrefs.ko by a test is followed by the site lists (mmrefs_util.c).
# Usage: kselftest-guest.sh [--exact] [run_kselftest.sh ARG...]
#   (-t mmrefs:PROGRAM: one program)
set -u

ksft=/mmrefs/kselftest
out=/tmp/kselftest.tap
export MMREFS_KO=/mmrefs/module/mmrefs.ko
# Exact mode's site list for this kernel (mmrefs_exact), if packed.
sites=/mmrefs/sites/$(uname -r).txt
[ -f "$sites" ] && export MMREFS_SITES="$sites"
if [ "${1:-}" = --exact ]; then
	shift
	if [ -z "${MMREFS_SITES:-}" ]; then
		echo "# kselftest-guest: --exact: no site list $sites"
		exit 1
	fi
	export MMREFS_EXACT=1
fi

# Stream the TAP and keep the exit status (no pipefail in POSIX sh).
{ sh "$ksft/run_kselftest.sh" "$@"; echo $? >"$out.rc"; } | tee "$out"
rc=$(cat "$out.rc")
plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$out" | head -n 1)
results=$(grep -c -E '^(not )?ok [0-9]+ ' "$out")

if [ "$rc" -ne 0 ]; then
	echo "# kselftest-guest: run_kselftest.sh exited $rc"
	exit 1
fi
if [ -z "$plan" ] || [ "$results" -ne "$plan" ]; then
	echo "# kselftest-guest: $results result line(s) for a plan of ${plan:-nothing}"
	exit 1
fi
grep -q '^not ok ' "$out" && exit 1
grep -q '^ok .* # SKIP' "$out" && exit 4
exit 0
