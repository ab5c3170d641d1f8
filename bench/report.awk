# SPDX-License-Identifier: GPL-2.0
# `make bench`'s report: reads the guest logs of scripts/bench (the BENCH*
# lines of bench/guest.sh), prints the tables and writes the JSON file
# named by -v json=FILE (keys: see scripts/bench).  Medians over rounds.
# POSIX awk (mawk).

function kv(line, key,    m) {
	if (match(line, "(^| )" key "=[^ ]*")) {
		m = substr(line, RSTART, RLENGTH)
		sub(/^ /, "", m)
		return substr(m, length(key) + 2)
	}
	return ""
}

# Median of the space-separated numbers in s.
function median(s,    a, n, i, j, t) {
	n = split(s, a, " ")
	if (n == 0)
		return ""
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}

function count(s,    a) {
	return split(s, a, " ")
}

function add(arr, key, v) {
	arr[key] = (key in arr) ? arr[key] " " v : v
}

function jnum(v) {
	return v == "" ? "null" : v
}

function emit(obj) {
	printf "%s%s", (nobj++ ? ",\n  " : "[\n  "), obj >json
}

/^BENCH-INFO / {
	k = kv($0, "kernel")
	kernels[++nk] = k
	bpm[k] = kv($0, "bytes_per_mm")
	bpe[k] = kv($0, "bytes_per_event")
	hist[k] = kv($0, "history")
}
/^BENCH-NA / {
	na[k, kv($0, "config")] = kv($0, "reason")
}
/^BENCH / {
	key = k SUBSEP kv($0, "workload") SUBSEP kv($0, "config")
	ops = kv($0, "ops")
	add(ns, key, kv($0, "ns_per_op"))
	if (kv($0, "events") != "")
		add(ev, key, kv($0, "events") / ops)
	if (kv($0, "filtered") != "")
		add(filt, key, kv($0, "filtered") / ops)
	# Hook hits per op, for the "where the events come from" line.
	for (i = 1; i <= NF; i++)
		if ($i ~ /^hook_/ && kv($0, "config") == "all") {
			split(substr($i, 6), h, "=")
			hooks[key, h[1]] += h[2] / ops
			hookn[key, h[1]]++
		}
}
/^BENCH-SCALE / {
	p = kv($0, "procs")
	if (!((k, p) in seen_procs)) {
		seen_procs[k, p] = 1
		procs[k] = procs[k] " " p
	}
	key = k SUBSEP p SUBSEP kv($0, "config")
	add(sns, key, kv($0, "ns_per_op"))
	if (kv($0, "events") != "")
		add(sev, key, kv($0, "events") / kv($0, "ops"))
}
/^BENCH-DONE/ {
	done[k] = 1
}

END {
	nw = split("fork thread maps borrow", wl, " ")
	nc = split("none all filtered watch kprobe bpftrace", cl, " ")
	nobj = 0
	for (ki = 1; ki <= nk; ki++) {
		k = kernels[ki]
		printf "\n== %s: guest ns per op (1 ns = 1 instruction), median of %d runs\n",
		       k, count(ns[k, "fork", "none"])
		if (!(k in done))
			print "   (incomplete: the guest did not finish)"
		printf "%-8s %-9s %12s %7s %10s %9s\n", "workload", "config",
		       "ns/op", "ratio", "events/op", "ns/event"
		for (wi = 1; wi <= nw; wi++) {
			w = wl[wi]
			base = median(ns[k, w, "none"])
			for (ci = 1; ci <= nc; ci++) {
				c = cl[ci]
				key = k SUBSEP w SUBSEP c
				if ((k, c) in na) {
					r = na[k, c]
					gsub(/_/, " ", r)
					printf "%-8s %-9s n/a (%s)\n", w, c, r
					if (wi == 1)
						emit(sprintf("{\"kernel\": \"%s\", \"config\": \"n/a\", \"name\": \"%s\", \"reason\": \"%s\"}", k, c, r))
					continue
				}
				if (!(key in ns))
					continue
				t = median(ns[key])
				ratio = base > 0 ? t / base : ""
				e = (key in ev) ? median(ev[key]) : ""
				f = (key in filt) ? median(filt[key]) : ""
				# Extra cost per event: recorded ones, or
				# for filtered, the ones it looked at and let go.
				n = c == "filtered" ? f : e
				per = (n != "" && n > 0 && c != "none") ? (t - base) / n : ""
				es = e == "" ? "-" : sprintf("%.2f", e)
				if (c == "filtered")
					es = es sprintf(" (%.2f filtered)", f)
				printf "%-8s %-9s %12.1f %7.4f %10s %9s\n", w, c, t,
				       ratio, es, per == "" ? "-" : sprintf("%.1f", per)
				emit(sprintf("{\"kernel\": \"%s\", \"workload\": \"%s\", \"config\": \"%s\", \"ns_per_op\": %.1f, \"runs\": %d, \"ratio\": %s, \"events_per_op\": %s, \"filtered_per_op\": %s, \"event_ns\": %s}",
				     k, w, c, t, count(ns[key]), jnum(sprintf("%.4f", ratio)),
				     jnum(e), jnum(f), per == "" ? "null" : sprintf("%.1f", per)))
			}
		}
		print "hook hits per op with mmrefs recording all:"
		for (wi = 1; wi <= nw; wi++) {
			w = wl[wi]
			line = ""
			for (hk in hooks) {
				split(hk, parts, SUBSEP)
				if (parts[1] != k || parts[2] != w || parts[3] != "all")
					continue
				v = hooks[hk] / hookn[hk]
				if (v > 0)
					line = line sprintf(" %s=%.2f", parts[4], v)
			}
			printf "  %-8s%s\n", w, line
		}
		printf "memory: %d bytes per tracked mm without history, %d per history entry; %d with the default history=%d\n",
		       bpm[k], bpe[k], bpm[k] + hist[k] * bpe[k], hist[k]
		emit(sprintf("{\"kernel\": \"%s\", \"config\": \"memory\", \"bytes_per_mm\": %d, \"bytes_per_event\": %d, \"history\": %d}",
		     k, bpm[k], bpe[k], hist[k]))

		np = split(procs[k], pl, " ")
		if (np == 0)
			continue
		print "scale: maps with mmrefs recording all, N processes alive"
		printf "%8s %12s %12s %10s %9s %9s\n", "procs", "none ns/op",
		       "all ns/op", "events/op", "ns/event", "vs first"
		first = ""
		worst = 0
		for (pi = 1; pi <= np; pi++) {
			p = pl[pi]
			t1 = median(sns[k, p, "none"])
			t2 = median(sns[k, p, "all"])
			e = median(sev[k, p, "all"])
			per = e > 0 ? (t2 - t1) / e : 0
			if (first == "")
				first = per
			rel = first > 0 ? per / first : 0
			if (rel - 1 > worst)
				worst = rel - 1
			if (1 - rel > worst)
				worst = 1 - rel
			printf "%8d %12.1f %12.1f %10.2f %9.1f %9.3f\n", p, t1, t2,
			       e, per, rel
			emit(sprintf("{\"kernel\": \"%s\", \"workload\": \"maps\", \"config\": \"scale\", \"procs\": %d, \"runs\": %d, \"none_ns_per_op\": %.1f, \"ns_per_op\": %.1f, \"events_per_op\": %s, \"event_ns\": %.1f, \"event_ns_ratio\": %.3f}",
			     k, p, count(sns[k, p, "all"]), t1, t2, e, per, rel))
		}
		printf "per-event cost %s within 10%% across sizes (worst %.1f%%)\n",
		       worst <= 0.10 ? "stays" : "does NOT stay", worst * 100
	}
	if (json != "") {
		printf "%s\n", nobj ? "\n]" : "[]" >json
		close(json)
	}
}
