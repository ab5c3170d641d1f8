# SPDX-License-Identifier: GPL-2.0
# The checks of one guest run of scripts/kselftest-guest.sh, from its log
# (console output, kernel messages included), for scripts/check and
# scripts/check-debug.  One line per check, "PASS: what" or "FAIL: what":
#  - each program: its top-level "ok N selftests: mmrefs: PROGRAM" line;
#    it fails if "not ok" (a # TIMEOUT too), "# SKIP", or if the program's
#    nested TAP has no plan or fewer or more results than its plan;
#  - each test case: each nested "# ok N name" or "# not ok N name" line
#    between a program's "# selftests: mmrefs: PROGRAM" header and its
#    result line; a "# SKIP" fails;
#  - each program of `programs` (default: as many as the top-level plan)
#    that has no top-level result line: the run timed out or died.
# Usage: awk -v series=6.1 -v programs="PROG..." -f kselftest-results.awk LOG

function check(ok, what) {
	print (ok ? "PASS: " : "FAIL: ") series ": " what
}

function skipped(line) {
	return line ~ /# [Ss][Kk][Ii][Pp]/
}

/^TAP version [0-9]+$/ && !started {
	started = 1
	next
}

started && plan == "" && /^1\.\.[0-9]+$/ {
	plan = substr($0, 4) + 0
	next
}

/^# selftests: mmrefs: [^ ]+$/ {
	prog = substr($0, 22)
	nplan = -1
	nres = 0
	next
}

prog != "" && nplan < 0 && /^# 1\.\.[0-9]+$/ {
	nplan = substr($0, 6) + 0
	next
}

prog != "" && /^# (not )?ok [0-9]+ / {
	line = substr($0, 3)
	nres++
	check(line !~ /^not / && !skipped(line),
	      prog ": " line (skipped(line) ? " (skips count as failures)" : ""))
	next
}

/^(not )?ok [0-9]+ selftests: mmrefs: / {
	name = $0
	sub(/^(not )?ok [0-9]+ selftests: mmrefs: /, "", name)
	sub(/ .*/, "", name)
	why = ""
	if (skipped($0))
		why = " (skips count as failures)"
	else if (name != prog)
		why = " (no nested TAP of its own)"
	else if (nplan < 0)
		why = " (its TAP has no plan)"
	else if (nres != nplan)
		why = " (" nres " test results for a plan of " nplan ")"
	check($0 !~ /^not / && why == "", $0 why)
	seen[name] = 1
	nseen++
	prog = ""
	next
}

END {
	n = split(programs, want)
	for (i = 1; i <= n; i++)
		if (!(want[i] in seen))
			check(0, want[i] ": no result line (timed out, or the guest stopped)")
	if (!n && plan != "" && nseen < plan)
		check(0, (plan - nseen) " of " plan " programs have no result line")
}
