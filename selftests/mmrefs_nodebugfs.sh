#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of scripts/check's "no debugfs" check, in a guest booted with
# debugfs=off: loading mmrefs.ko must fail with its own message
# ("mmrefs: debugfs unavailable (-N)") and leave nothing behind. An oops
# or WARN on the way fails scripts/vmtest itself (exit 126).
# POSIX sh: runs under busybox. Exit 0 if so, 1 otherwise.
#
#   MMREFS_KO  mmrefs.ko to load (default ../module/mmrefs.ko)

dir=$(cd "$(dirname "$0")" && pwd)
ko=${MMREFS_KO:-$dir/../module/mmrefs.ko}

if [ -d /sys/kernel/debug/mmrefs ] || [ -d /sys/module/mmrefs ]; then
	echo "# nodebugfs: mmrefs is already loaded"
	exit 1
fi
if insmod "$ko"; then
	echo "# nodebugfs: FAIL: $ko loaded although debugfs is off"
	find /sys/kernel/debug/mmrefs 2>&1 | sed 's/^/# nodebugfs:   /'
	rmmod mmrefs
	exit 1
fi
# busybox insmod retries with init_module(): one message per try
msg=$(dmesg | grep -E 'mmrefs: debugfs unavailable \(-[0-9]+\)' | tail -n 1)
if [ -z "$msg" ]; then
	echo "# nodebugfs: FAIL: no 'mmrefs: debugfs unavailable' message; dmesg:"
	dmesg | tail -n 20 | sed 's/^/# nodebugfs:   /'
	exit 1
fi
if [ -d /sys/module/mmrefs ]; then
	echo "# nodebugfs: FAIL: /sys/module/mmrefs still there"
	exit 1
fi
echo "# nodebugfs: load refused as expected: $msg"
exit 0
