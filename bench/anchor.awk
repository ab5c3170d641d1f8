# SPDX-License-Identifier: GPL-2.0
# `make bench`'s anchor configuration, guest side: the ftrace kprobe
# events that do exact mode's work the standard way, one per site of the
# kernel's site list (scripts/sites).  bench/guest.sh runs it as
#
#   awk -f anchor.awk -v mmput=RUNTIME_ADDR SITES_OUT LIST
#
# SITES_OUT is what mmrefs' debugfs `sites` said with LIST loaded (a
# header, then one site= line per listed site, in list order): its state
# decides which sites the anchor covers, so both configurations do the
# same work.  One line out per site of LIST:
#
#   NAME STATE SYMBOL+OFF ADDR FETCHARG
#
# NAME is sN (N counts the list's sites from 1), STATE mmrefs' (armed,
# lazy, refused, waiting; "unmatched" if SITES_OUT names another site
# there), ADDR the site's runtime address (the listed one moved by the
# KASLR slide, runtime mmput minus the list's "# anchor mmput"), FETCHARG
# the counter as a kprobe_events fetch argument, "+0x54(%bx)" for the
# operand 0x54(%rbx).  ADDR or FETCHARG is "-" when it cannot be made.
# POSIX awk (busybox): kernel text lies in the top 2 GB, so the upper 32
# bits of every address are ffffffff and the arithmetic runs on the lower
# 32, which a double holds exactly.

function hex32(s,    i, v) {
	s = tolower(s)
	sub(/^0x/, "", s)
	if (length(s) > 8)
		s = substr(s, length(s) - 7)
	v = 0
	for (i = 1; i <= length(s); i++)
		v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return v
}

# busybox awk's %x stops at 2^31: the digits by hand.
function fmt32(v,    s, i, d) {
	s = ""
	for (i = 0; i < 8; i++) {
		d = v % 16
		s = substr("0123456789abcdef", d + 1, 1) s
		v = (v - d) / 16
	}
	return s
}

function top32(s) {
	s = tolower(s)
	sub(/^0x/, "", s)
	return length(s) == 16 && substr(s, 1, 8) == "ffffffff"
}

# kprobe_events calls the legacy registers without their r/e prefix.
function fetcharg(op,    disp, reg, sign) {
	if (!match(op, /\(%[a-z0-9]+\)$/))
		return "-"
	disp = substr(op, 1, RSTART - 1)
	reg = substr(op, RSTART + 2, RLENGTH - 3)
	sign = "+"
	if (disp ~ /^-/) {
		sign = "-"
		disp = substr(disp, 2)
	}
	if (disp == "")
		disp = "0"
	else if (disp !~ /^0x[0-9a-f]+$/ && disp !~ /^[0-9]+$/)
		return "-"
	if (reg ~ /^r(ax|bx|cx|dx|si|di|bp|sp)$/)
		reg = substr(reg, 2)
	else if (reg !~ /^r([89]|1[0-5])$/)
		return "-"
	return sign disp "(%" reg ")"
}

FNR == NR {
	if ($1 ~ /^site=/) {
		nsite++
		at[nsite] = substr($1, 6)
		state[nsite] = "-"
		for (i = 2; i <= NF; i++)
			if ($i ~ /^state=/)
				state[nsite] = substr($i, 7)
	}
	next
}

$1 == "#" && $2 == "anchor" && $3 == "mmput" {
	listed = $4
	if (!top32(listed) || !top32(mmput)) {
		print "anchor.awk: an mmput outside the top 2 GB" >"/dev/stderr"
		exit 1
	}
	slide = hex32(mmput) - hex32(listed)
	next
}

/^#/ || NF < 7 {
	next
}

{
	n++
	st = n in state ? state[n] : "unmatched"
	if (n in at && at[n] != $2)
		st = "unmatched"
	addr = "-"
	if (listed != "" && top32($1)) {
		a = hex32($1) + slide
		if (a >= 0 && a < 4294967296)
			addr = "ffffffff" fmt32(a)
	}
	print "s" n, st, $2, addr, fetcharg($6)
}
