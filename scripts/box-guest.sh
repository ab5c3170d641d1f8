#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs in scripts/boxtest's full Debian guest (systemd, Debian's kernel and
# its headers), as root, from mmrefs-boxtest.service, on a clean clone of
# the repository:
#   1. README.md's "Use on a real box" block, verbatim: each line of its
#      first fenced code block, in one bash shell, each with its status;
#      set -e would stop at the first that fails and so does the verdict,
#      but the rest is run too (marked "after README[N] failed"): what
#      else a user would meet is worth knowing;
#   2. a watch on systemd-journald while the journal is written to;
#   3. a soak of SOAK seconds of service restarts, journal reads, forks and
#      execs, then stats and the holders' unattributed sums;
#   4. trace-cmd, perf and bpftrace (with tools/mmrefs.bt) on the
#      mmrefs_event tracepoint: do they print op, cause and trap as names?
#   5. rmmod.
# Lines starting with "box: " are the report; "box: FAIL" marks a failure.
# Exits 0 only if nothing failed.
# Usage: box-guest.sh REPO   (SOAK=60 in the environment or in box.env)
set -u

repo=${1:?usage: box-guest.sh REPO}
# scripts/boxtest's settings, beside this script.
env=$(dirname "$0")/box.env
# shellcheck source=/dev/null
[ ! -f "$env" ] || . "$env"
soak=${SOAK:-60}
mmrefs=/sys/kernel/debug/mmrefs
failed=0
say() { echo "box: $*"; }
fail() { say "FAIL $*"; failed=1; }
# A command's output, indented: all of it up to MAX lines (default 30),
# else its first and last MAX/2 (a test run's verdict is at the end).
show() {
	local n max=${2:-30}
	n=$(wc -l <"$1")
	if [ "$n" -le "$max" ]; then
		sed 's/^/    /' "$1"
	else
		head -n $((max / 2)) "$1" | sed 's/^/    /'
		echo "    ... ($((n - max)) of $n lines not shown)"
		tail -n $((max / 2)) "$1" | sed 's/^/    /'
	fi
}
out=$(mktemp)

# systemd-analyze time has no answer yet: this unit is part of the boot.
say "kernel $(uname -r), $(nproc) CPUs, up $(cut -d' ' -f1 /proc/uptime) s"
say "system state $(systemctl is-system-running 2>/dev/null)"
systemctl --failed --no-legend --plain 2>/dev/null | sed 's/^/box: failed unit: /'

# --- 1. README.md, verbatim -------------------------------------------------
cd "$repo" || exit 1
mapfile -t lines < <(awk '
	/^## Use on a real box/	{ sec = 1; next }
	sec && /^```/		{ if (in_block) exit; in_block = 1; next }
	in_block		{ print }' README.md)
say "README: ${#lines[@]} lines in the first block after '## Use on a real box'"
[ ${#lines[@]} -gt 0 ] || fail "README: no code block found"
i=0 readme_failed=
for line in "${lines[@]}"; do
	# What a user types: the comment is shown stripped, bash drops it.
	cmd=$(sed -E 's/(^|[[:space:]]+)#.*$//' <<<"$line")
	[ -n "${cmd//[[:space:]]/}" ] || continue
	i=$((i + 1))
	# set -e would stop here; the rest still runs, for the README's
	# author, but the verdict is the first failure's.
	after=${readme_failed:+ (after README[$readme_failed] failed)}
	say "README[$i] \$ $cmd$after"
	start=$(date +%s)
	eval "$line" >"$out" 2>&1 </dev/null
	rc=$?
	show "$out" 400
	say "README[$i] status $rc ($(($(date +%s) - start)) s): $cmd$after"
	if [ "$rc" -ne 0 ]; then
		fail "README[$i] exit $rc: $cmd$after"
		: "${readme_failed:=$i}"
	fi
done
cd "$repo" || exit 1

# The rest needs mmrefs loaded, whatever the README left: the installed
# one if the README installed it, else the one it built, else build it.
if [ ! -d "$mmrefs" ]; then
	how=
	if modprobe mmrefs 2>"$out"; then
		how="modprobe mmrefs"
	else
		[ -f module/mmrefs.ko ] || make >"$out" 2>&1 || show "$out"
		! insmod module/mmrefs.ko 2>"$out" || how="insmod module/mmrefs.ko"
	fi
	if [ -n "$how" ]; then
		say "$how for the checks below (the README left mmrefs unloaded)"
	else
		show "$out"
		fail "could not load mmrefs for the checks below"
	fi
fi
if [ ! -d "$mmrefs" ]; then
	say "no $mmrefs: nothing more to check"
	say "result: failed"
	exit 1
fi

# --- 2. a watch on systemd-journald ---------------------------------------
pid=$(systemctl show -p MainPID --value systemd-journald)
say "watch: systemd-journald pid=$pid"
if echo "pid=$pid" >"$mmrefs/watch"; then
	sed "s/^/    /" "$mmrefs/watch"
	for n in $(seq 50); do
		logger -t mmrefs-box "watch message $n"
	done
	journalctl -q -n 20 -t mmrefs-box >/dev/null
	journalctl -q --flush
	# Readers of its /proc files take mmget()s on its mm.
	cat "/proc/$pid/cmdline" "/proc/$pid/status" "/proc/$pid/maps" >/dev/null
	# Its mm's block: the header line, then the kept events.
	awk -v pid="$pid" '/^[^ ]/ { p = $0 ~ " tgid=" pid " " } p' \
		"$mmrefs/history" >"$out"
	say "watch: $(head -n 1 "$out")"
	# a watched mm keeps watch_history (1024) events: all since the watch
	grep -q ' op=watch ' "$out" ||
		fail "watch: the watch event fell out of journald's history"
	say "watch: kept events by op:$(grep -o ' op=[a-z_]*' "$out" | sort | uniq -c | tr -s ' \n' ' ')"
	show "$out"
	if ! grep -qE 'op=(mm[a-z_]*|lazy_tlb|write) ' "$out"; then
		fail "watch: no write of journald's mm in history"
	fi
	echo clear >"$mmrefs/watch" || fail "watch: echo clear"
else
	fail "watch: echo pid=$pid > watch"
fi

# --- 3. soak ------------------------------------------------------------------
say "soak: $soak s of service restarts, journal reads, forks and execs"
start=$(date +%s) rounds=0
while [ $(($(date +%s) - start)) -lt "$soak" ]; do
	for unit in systemd-journald systemd-logind systemd-udevd; do
		systemctl restart "$unit" || fail "soak: systemctl restart $unit"
	done
	journalctl -q -n 200 >/dev/null
	logger -t mmrefs-box "soak round $rounds"
	for n in $(seq 10); do
		sh -c 'ls /proc >/dev/null; cat /proc/self/status >/dev/null' &
	done
	wait
	rounds=$((rounds + 1))
done
say "soak: $rounds rounds in $(($(date +%s) - start)) s"
cat "$mmrefs/stats" >"$out"
show "$out"
say "stats: $(grep -E '^(events|filtered|untracked|stale|watch_events|watch_gaps|sites)=|^lost_' "$out" | tr '\n' ' ')"
if grep -E '^lost_[a-z_]*=[1-9]' "$out"; then
	fail "stats: something was lost"
fi
awk '/kind=unattributed counter=users/ { split($3, a, "="); u += a[2] }
     /kind=unattributed counter=count/ { split($3, a, "="); c += a[2] }
     /^[^ ]/ { mms++ }
     END { printf "box: holders: %d mms, unattributed users=%d count=%d\n", mms, u, c }' \
	"$mmrefs/holders"

# --- 4. trace consumers ---------------------------------------------------
# decoded TOOL: the events in $out, each op and cause a name, never a number.
decoded() {
	local n hex
	n=$(grep -c 'op=' "$out")
	hex=$(grep -cE '(op|cause|trap)=(0x[0-9a-f]*|[0-9]+)[ ,]' "$out")
	say "$1: $n events with op=, $hex with op, cause or trap a number"
	grep -m 3 'op=' "$out" | sed 's/^/    /'
	[ "$n" -gt 0 ] || fail "$1: no event recorded"
	[ "$hex" -eq 0 ] || fail "$1: op/cause/trap not decoded"
}
cd /tmp || exit 1
if trace-cmd record -q -e mmrefs:mmrefs_event -o /tmp/box.dat sleep 1 >"$out" 2>&1; then
	trace-cmd report -i /tmp/box.dat >"$out" 2>/dev/null
	decoded "trace-cmd"
else
	show "$out"
	fail "trace-cmd record"
fi
if perf record -q -e mmrefs:mmrefs_event -a -o /tmp/box.perf -- sleep 1 >"$out" 2>&1; then
	perf script -i /tmp/box.perf >"$out" 2>&1
	decoded "perf script"
else
	show "$out"
	fail "perf record"
fi
# The shipped script (tools/mmrefs.bt: names for bpftrace), 5 events.
# bpftrace's own startup (LLVM) takes minutes under TCG: something must
# fork whenever it is ready.
while :; do sh -c true; sleep 0.2; done &
loader=$!
start=$(date +%s)
if timeout 300 bpftrace "$repo/tools/mmrefs.bt" 5 >"$out" 2>&1; then
	decoded "bpftrace tools/mmrefs.bt (after $(($(date +%s) - start)) s)"
else
	show "$out"
	fail "bpftrace tools/mmrefs.bt (after $(($(date +%s) - start)) s)"
fi
kill "$loader"
wait "$loader" 2>/dev/null

# --- 5. unload ------------------------------------------------------------
if rmmod mmrefs 2>"$out"; then
	say "rmmod mmrefs: ok"
else
	show "$out"
	fail "rmmod mmrefs"
fi
dmesg | grep -E 'BUG|WARNING|Oops|Call Trace|general protection' | head -n 20 >"$out"
if [ -s "$out" ]; then
	show "$out"
	fail "the kernel log reports problems"
fi
rm -f "$out"
if [ "$failed" -eq 0 ]; then say "result: passed"; else say "result: failed"; fi
exit "$failed"
