# SPDX-License-Identifier: GPL-2.0
# `scripts/bench --contention`'s report: reads the guest logs (the CONTEND
# lines of bench/contend.sh; -v clock=icount: the runs were under
# icount), prints a table per kernel and writes the rows (keys: see
# scripts/bench) to the file named by -v json=FILE, one object per line.  Medians and min-max over the rounds; "paired" (median,
# interquartile range, min..max) is each round's all/none ratio of ops/s
# (the two runs next to each other in time), so a drift of the host's
# speed over the boot cancels out.  POSIX awk (mawk).

function kv(line, key,    m) {
	if (match(line, "(^| )" key "=[^ ]*")) {
		m = substr(line, RSTART, RLENGTH)
		sub(/^ /, "", m)
		return substr(m, length(key) + 2)
	}
	return ""
}

# Sorted copy of the space-separated numbers in s, into a[1..n]; n.
function sorted(s, a,    n, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n
}

function median(s,    a, n) {
	n = sorted(s, a)
	if (n == 0)
		return ""
	return n % 2 ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}

# Quartile @q (0.25, 0.75) of s, interpolated between neighbours.
function quart(s, q,    a, n, x, i) {
	n = sorted(s, a)
	if (n == 0)
		return ""
	x = 1 + (n - 1) * q
	i = int(x)
	return i >= n ? a[n] + 0 : a[i] + (x - i) * (a[i + 1] - a[i])
}

function minof(s,    a) {
	return sorted(s, a) ? a[1] + 0 : ""
}

function maxof(s,    a, n) {
	n = sorted(s, a)
	return n ? a[n] + 0 : ""
}

function add(arr, key, v) {
	arr[key] = (key in arr) ? arr[key] " " v : v
}

/^CONTEND-INFO / {
	k = kv($0, "kernel")
	kernels[++nk] = k
	cpus[k] = kv($0, "cpus")
}
/^CONTEND / {
	c = kv($0, "config")
	r = kv($0, "round") + 0
	secs[k] = kv($0, "secs")
	readers[k] = kv($0, "readers")
	forkers[k] = kv($0, "forkers")
	stat[k] = kv($0, "stat") == "own" ? "own" : "one"
	for (wi = 1; wi <= 2; wi++) {
		w = wi == 1 ? "stat" : "fork"
		ops = kv($0, w "_ops_per_s")
		add(rate, k SUBSEP w SUBSEP c, ops)
		add(nsop, k SUBSEP w SUBSEP c, kv($0, w "_ns_per_op"))
		byround[k, w, c, r] = ops
	}
	if (kv($0, "events") != "")
		add(evs, k SUBSEP c, kv($0, "events") * 1e9 / kv($0, "ns"))
	if (r > rounds[k])
		rounds[k] = r
}
/^CONTEND-DONE/ {
	done[k] = 1
}

END {
	if (clock == "icount")
		clockname = "icount (1 ns = 1 instruction)"
	else
		clockname = "guest wall clock"
	for (ki = 1; ki <= nk; ki++) {
		k = kernels[ki]
		printf "\n== %s: -smp %d, %s, %d rounds of %d s, %d stat readers (%s) + %d forkers at once\n",
		       k, cpus[k], clockname,
		       rounds[k], secs[k], readers[k],
		       stat[k] == "own" ? "each its own mm" : "one mm",
		       forkers[k]
		if (!(k in done))
			print "   (incomplete: the guest did not finish)"
		printf "%-8s %-7s %8s %15s %10s %8s %7s %15s %15s\n", "workload",
		       "config", "ops/s", "(min-max)", "ns/op", "vs none",
		       "paired", "(IQR)", "(min..max)"
		for (wi = 1; wi <= 2; wi++) {
			w = wi == 1 ? "stat" : "fork"
			base = median(rate[k, w, "none"])
			for (ci = 1; ci <= 2; ci++) {
				c = ci == 1 ? "none" : "all"
				key = k SUBSEP w SUBSEP c
				if (!(key in rate))
					continue
				m = median(rate[key])
				# Throughput lost to the tracer: -x% is x% fewer ops.
				ratio = base > 0 ? m / base : ""
				pr = ""
				for (r = 1; r <= rounds[k]; r++)
					if ((k, w, "none", r) in byround &&
					    (k, w, "all", r) in byround &&
					    byround[k, w, "none", r] > 0)
						pr = pr " " byround[k, w, "all", r] / byround[k, w, "none", r]
				ps = c == "none" ? "      -" : sprintf("%+6.1f%% %15s %15s",
					(median(pr) - 1) * 100,
					sprintf("(%+.1f..%+.1f)", (quart(pr, 0.25) - 1) * 100,
						(quart(pr, 0.75) - 1) * 100),
					sprintf("(%+.1f..%+.1f)", (minof(pr) - 1) * 100,
						(maxof(pr) - 1) * 100))
				printf "%-8s %-7s %8.0f %15s %10.0f %8s %s\n",
				       w, c, m, sprintf("(%.0f-%.0f)", minof(rate[key]),
					maxof(rate[key])), median(nsop[key]),
				       c == "none" ? "-" : sprintf("%+.1f%%", (ratio - 1) * 100), ps
				printf "{\"kernel\": \"%s\", \"workload\": \"%s\", \"config\": \"%s\", \"smp\": %d, \"clock\": \"%s\", \"stat\": \"%s\", \"secs\": %d, \"readers\": %d, \"forkers\": %d, \"runs\": %d, \"ops_per_s\": %.1f, \"ops_per_s_min\": %.1f, \"ops_per_s_max\": %.1f, \"ns_per_op\": %.1f, \"ns_per_op_min\": %.1f, \"ns_per_op_max\": %.1f, \"ratio\": %s, \"paired_ratio\": %s, \"paired_ratio_q1\": %s, \"paired_ratio_q3\": %s, \"paired_ratio_min\": %s, \"paired_ratio_max\": %s, \"events_per_s\": %s}\n",
				       k, w, c, cpus[k], (clock == "" ? "wall" : clock),
				       stat[k], secs[k], readers[k], forkers[k],
				       split(rate[key], tmp, " "), m, minof(rate[key]),
				       maxof(rate[key]), median(nsop[key]),
				       minof(nsop[key]), maxof(nsop[key]),
				       ratio == "" ? "null" : sprintf("%.4f", ratio),
				       c == "none" ? "null" : sprintf("%.4f", median(pr)),
				       c == "none" ? "null" : sprintf("%.4f", quart(pr, 0.25)),
				       c == "none" ? "null" : sprintf("%.4f", quart(pr, 0.75)),
				       c == "none" ? "null" : sprintf("%.4f", minof(pr)),
				       c == "none" ? "null" : sprintf("%.4f", maxof(pr)),
				       (k SUBSEP c) in evs ? sprintf("%.0f", median(evs[k, c])) : "null" >json
			}
		}
		if ((k SUBSEP "all") in evs)
			printf "mmrefs recorded %.0f events/s (median)\n", median(evs[k, "all"])
	}
	if (json != "")
		close(json)
}
