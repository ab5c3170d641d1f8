// SPDX-License-Identifier: GPL-2.0
/*
 * mmrefs watch PID: arm a watch on a process's mm and stream its events
 * as they happen, until the mm is freed or a signal ends it
 * (Documentation/mmrefs.rst).  The events come from the trace event
 * mmrefs:mmrefs_event in a tracing instance of our own, so the global
 * trace buffer and whoever uses it are left alone; the instance's clock
 * is mono, the clock of history's ts=.
 *
 * What this arms (the watch, stack=1, the instance and its event) is
 * undone on every way out: setup and cleanup run with SIGINT, SIGTERM
 * and SIGHUP blocked, and the stream waits for them only in ppoll(),
 * which unblocks them atomically.  A signal only sets a flag.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mmrefs.h"

#define WATCH		MMREFS_DIR "/watch"
#define EVENT		"events/mmrefs/mmrefs_event"

/* read only after ppoll() returned: see quit_signal in mmrefs.c */
static sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* What is armed, so that cleanup undoes exactly that. */
static struct {
	pid_t pid;
	long id;
	char tracing[64];	/* the tracefs mount */
	char inst[128];		/* our instance */
	bool made, enabled, trigger, stack, armed;
	int pipe_fd;
	FILE *out;
	const char *out_path;
	long seq;		/* -o's running seq=: the trace has none */
	int lineno;		/* of the stream, for errors */
	bool in_stack;		/* after a <stack trace> line */
} w = { .pipe_fd = -1 };

static int inst_write(const char *file, const char *s)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", w.inst, file);
	return write_str(path, s);
}

static void cleanup(void)
{
	char cmd[32];
	int err, tries;

	if (w.armed) {
		snprintf(cmd, sizeof(cmd), "-pid=%d", w.pid);
		err = write_str(WATCH, cmd);
		/* ESRCH: the watch ended with its mm, as a free does */
		if (err && err != -ESRCH)
			fprintf(stderr, "%s: cannot disarm (%s > %s): %s\n",
				mmrefs_prog, cmd, WATCH, strerror(-err));
		w.armed = false;
	}
	if (w.stack) {
		err = write_str(WATCH, "stack=0");
		if (err)
			fprintf(stderr, "%s: cannot write stack=0 to %s: %s\n",
				mmrefs_prog, WATCH, strerror(-err));
		w.stack = false;
	}
	if (w.enabled) {
		inst_write(EVENT "/enable", "0");
		w.enabled = false;
	}
	if (w.trigger) {
		inst_write(EVENT "/trigger", "!stacktrace");
		w.trigger = false;
	}
	if (w.pipe_fd >= 0) {
		close(w.pipe_fd);
		w.pipe_fd = -1;
	}
	if (w.made) {
		/* an instance with an open file is busy for a moment */
		for (tries = 0; rmdir(w.inst) && errno == EBUSY && tries < 50; tries++)
			usleep(20000);
		if (!access(w.inst, F_OK))
			fprintf(stderr, "%s: cannot remove %s: %s\n", mmrefs_prog,
				w.inst, strerror(errno));
		w.made = false;
	}
	if (w.out) {
		if (fclose(w.out))
			fprintf(stderr, "%s: %s: %s\n", mmrefs_prog, w.out_path,
				strerror(errno));
		w.out = NULL;
	}
}

static noreturn void fail(int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cleanup();
	die(status, "%s", msg);
}

/* The pids that hold the slots, from the watch file. */
static void say_slots(void)
{
	struct text t;
	struct kvline kv;
	char *line, *nl, *p, copy[512];
	const char *state;
	int lineno = 0;
	long pid, slot;

	if (read_text(WATCH, &t))
		return;
	for (p = t.buf; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		line = p;
		lineno++;
		snprintf(copy, sizeof(copy), "%s", line);
		if (!kv_split(line, &kv)) {
			cleanup();
			bad_line(WATCH, lineno, copy, "not a line of key=value");
		}
		if (lineno == 1)
			continue;	/* slots=2 free=0 ... */
		state = kv_get(&kv, "state");
		if (!kv_long(&kv, "slot", &slot) || !state) {
			cleanup();
			bad_line(WATCH, lineno, copy, "not a slot line");
		}
		if (strcmp(state, "armed"))
			continue;
		if (!kv_long(&kv, "pid", &pid)) {
			cleanup();
			bad_line(WATCH, lineno, copy, "an armed slot without pid=");
		}
		fprintf(stderr, "%s:   slot %ld watches pid %ld (stop it: echo -pid=%ld > %s)\n",
			mmrefs_prog, slot, pid, pid, WATCH);
	}
	free_text(&t);
}

static void arm(void)
{
	char cmd[32];
	int err;

	snprintf(cmd, sizeof(cmd), "pid=%d", w.pid);
	err = write_str(WATCH, cmd);
	switch (-err) {
	case 0:
		w.armed = true;
		return;
	case ENOSPC:
		fprintf(stderr, "%s: no watch slot is free; they are held by:\n",
			mmrefs_prog);
		say_slots();
		fail(MMREFS_EX_WATCH, "cannot watch pid %d: no free slot", w.pid);
	case EBUSY:
		fail(MMREFS_EX_WATCH,
		     "cannot watch pid %d: another user (perf, gdb, ptrace) holds the debug registers",
		     w.pid);
	case EEXIST:
		fail(MMREFS_EX_WATCH,
		     "cannot watch pid %d: its mm is watched already (see %s)",
		     w.pid, WATCH);
	case ESRCH:
		fail(MMREFS_EX_NO_MM, "cannot watch pid %d: it has exited, or has no mm",
		     w.pid);
	default:
		fail(MMREFS_EX_WATCH, "cannot watch pid %d (%s > %s): %s", w.pid,
		     cmd, WATCH, strerror(-err));
	}
}

/* The tracefs mount: its own, else the one inside debugfs. */
static void find_tracing(void)
{
	static const char * const dirs[] = {
		"/sys/kernel/tracing", MMREFS_DEBUGFS "/tracing",
	};
	char path[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/instances", dirs[i]);
		if (!access(path, F_OK)) {
			snprintf(w.tracing, sizeof(w.tracing), "%s", dirs[i]);
			snprintf(path, sizeof(path), "%s/" EVENT, w.tracing);
			if (access(path, F_OK))
				die(MMREFS_EX_WATCH, "no trace event %s", path);
			return;
		}
	}
	die(MMREFS_EX_WATCH,
	    "tracefs is not mounted: mount -t tracefs nodev /sys/kernel/tracing");
}

static void setup(void)
{
	char filter[64], path[256];
	int err;

	snprintf(w.inst, sizeof(w.inst), "%s/instances/mmrefs-%d", w.tracing, w.pid);
	if (mkdir(w.inst, 0700)) {
		if (errno == EEXIST)
			fail(MMREFS_EX_WATCH,
			     "%s exists: another mmrefs watch %d runs (or was killed: rmdir it)",
			     w.inst, w.pid);
		fail(MMREFS_EX_WATCH, "cannot make %s: %s", w.inst, strerror(errno));
	}
	w.made = true;
	/* history's ts= is CLOCK_MONOTONIC: so are the stream's */
	err = inst_write("trace_clock", "mono");
	if (err)
		fail(MMREFS_EX_WATCH, "%s/trace_clock: mono: %s", w.inst, strerror(-err));
	snprintf(filter, sizeof(filter), "id == %ld", w.id);
	err = inst_write(EVENT "/filter", filter);
	if (err)
		fail(MMREFS_EX_WATCH, "%s/" EVENT "/filter: %s", w.inst, strerror(-err));
	if (w.trigger) {
		w.trigger = false;
		err = inst_write(EVENT "/trigger", "stacktrace");
		if (err)
			fail(MMREFS_EX_WATCH, "%s/" EVENT "/trigger: %s", w.inst,
			     strerror(-err));
		w.trigger = true;
	}
	err = inst_write(EVENT "/enable", "1");
	if (err)
		fail(MMREFS_EX_WATCH, "%s/" EVENT "/enable: %s", w.inst, strerror(-err));
	w.enabled = true;
	snprintf(path, sizeof(path), "%s/trace_pipe", w.inst);
	w.pipe_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (w.pipe_fd < 0)
		fail(MMREFS_EX_WATCH, "%s: %s", path, strerror(errno));
}

/* "key=" at *p: move past it, or false. */
static bool take(char **p, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(*p, key, n))
		return false;
	*p += n;
	return true;
}

/* A number up to the next space (or the end); past it. */
static bool take_long(char **p, long *v)
{
	char *end;

	if (!**p || **p == ' ')
		return false;
	*v = strtol(*p, &end, 10);
	if (end == *p || (*end && *end != ' '))
		return false;
	*p = end;
	return true;
}

static bool take_pair(char **p, long *a, long *b)
{
	char *end;

	*a = strtol(*p, &end, 10);
	if (end == *p || end[0] != '-' || end[1] != '>')
		return false;
	*p = end + 2;
	return take_long(p, b);
}

/* A word up to the next space, into out. */
static bool take_word(char **p, char *out, size_t len)
{
	size_t n = strcspn(*p, " ");

	if (!n || n >= len)
		return false;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return true;
}

struct event {
	long id, users_old, users_new, count_old, count_new, pid, tgid;
	long kthread, observer, cpu;
	unsigned long long ts;
	char op[24], cause[24], trap[8], comm[32], site[160];
};

/*
 * The event's own text, as its TP_printk() prints it
 * (Documentation/interface.rst, "Trace event"): site may hold a space
 * (" [module]") and comm any character, so each ends where the fixed
 * key after it begins.
 */
static bool parse_payload(char *p, struct event *e)
{
	char *q, *s;

	if (!take(&p, "id=") || !take_long(&p, &e->id) ||
	    !take(&p, " op=") || !take_word(&p, e->op, sizeof(e->op)) ||
	    !take(&p, " cause=") || !take_word(&p, e->cause, sizeof(e->cause)) ||
	    !take(&p, " users=") || !take_pair(&p, &e->users_old, &e->users_new) ||
	    !take(&p, " count=") || !take_pair(&p, &e->count_old, &e->count_new) ||
	    !take(&p, " site="))
		return false;
	q = strstr(p, " pid=");
	if (!q || q == p || (size_t)(q - p) >= sizeof(e->site))
		return false;
	snprintf(e->site, sizeof(e->site), "%.*s", (int)(q - p), p);
	p = q;
	if (!take(&p, " pid=") || !take_long(&p, &e->pid) ||
	    !take(&p, " tgid=") || !take_long(&p, &e->tgid) || !take(&p, " comm="))
		return false;
	q = NULL;
	for (s = strstr(p, " kthread="); s; s = strstr(s + 1, " kthread="))
		q = s;
	if (!q || (size_t)(q - p) >= sizeof(e->comm))
		return false;
	snprintf(e->comm, sizeof(e->comm), "%.*s", (int)(q - p), p);
	/* as every debugfs file shows a comm: splittable on spaces */
	for (s = e->comm; *s; s++)
		if (*s == ' ' || *s == '\t' || *s == '=')
			*s = '_';
	if (!e->comm[0])
		snprintf(e->comm, sizeof(e->comm), "_");
	p = q;
	if (!take(&p, " kthread=") || !take_long(&p, &e->kthread) ||
	    !take(&p, " trap=") || !take_word(&p, e->trap, sizeof(e->trap)) ||
	    !take(&p, " observer=") || !take_long(&p, &e->observer) || *p)
		return false;
	/* %pS of no site; history says site=- */
	if (!strcmp(e->site, "0x0"))
		snprintf(e->site, sizeof(e->site), "-");
	return true;
}

/*
 * ftrace's line before the event: "COMM-PID [CPU] FLAGS SECS.USECS: ".
 * The mono clock prints microseconds: ts is their nanoseconds.
 */
static bool parse_context(char *line, char *colon, struct event *e)
{
	unsigned long secs, usecs;
	char *ts, *br, *lb, *end;

	*colon = '\0';
	ts = strrchr(line, ' ');
	if (!ts || sscanf(ts + 1, "%lu.%6lu", &secs, &usecs) != 2 ||
	    strlen(strchr(ts + 1, '.') + 1) != 6)
		return false;
	e->ts = secs * 1000000000ULL + usecs * 1000ULL;
	*ts = '\0';
	br = strrchr(line, ']');
	if (!br)
		return false;
	*br = '\0';
	lb = strrchr(line, '[');
	if (!lb)
		return false;
	e->cpu = strtol(lb + 1, &end, 10);
	return end != lb + 1 && !*end;
}

static void emit(const struct event *e)
{
	char trap[48] = "";

	fprintf(stdout,
		"%llu.%06llu cpu=%ld pid=%ld comm=%s kthread=%ld op=%s cause=%s users=%ld->%ld count=%ld->%ld trap=%s observer=%ld site=%s\n",
		e->ts / 1000000000ULL, e->ts % 1000000000ULL / 1000, e->cpu,
		e->pid, e->comm, e->kthread, e->op, e->cause, e->users_old,
		e->users_new, e->count_old, e->count_new, e->trap, e->observer,
		e->site);
	fflush(stdout);
	if (!w.out)
		return;
	/* history shows trap= and observer= only where they say something */
	if (strcmp(e->trap, "-") || e->observer)
		snprintf(trap, sizeof(trap), " trap=%s observer=%ld", e->trap,
			 e->observer);
	fprintf(w.out,
		"  id=%ld seq=%ld ts=%llu cpu=%ld pid=%ld tgid=%ld comm=%s kthread=%ld op=%s cause=%s users=%ld->%ld count=%ld->%ld%s site=%s\n",
		e->id, ++w.seq, e->ts, e->cpu, e->pid, e->tgid, e->comm,
		e->kthread, e->op, e->cause, e->users_old, e->users_new,
		e->count_old, e->count_new, trap, e->site);
	if (fflush(w.out))
		fail(MMREFS_EX_FORMAT, "%s: %s", w.out_path, strerror(errno));
}

/* One line of trace_pipe; true once the mm's free event is seen. */
static bool handle_line(char *line)
{
	char copy[1024], *colon, *payload;
	struct event e;

	w.lineno++;
	snprintf(copy, sizeof(copy), "%.1000s", line);
	if (!strncmp(line, " => ", 4)) {
		if (!w.in_stack)
			goto bad;
		printf("    %s\n", line + 4);
		if (w.out)
			fprintf(w.out, "    %s\n", line + 4);
		return false;
	}
	w.in_stack = false;
	/* ftrace's own note that its ring buffer overflowed: never hidden */
	if (!strncmp(line, "CPU:", 4) && strstr(line, " [LOST ")) {
		fprintf(stderr, "%s: the trace lost events: %s\n", mmrefs_prog, line);
		return false;
	}
	colon = strstr(line, ": <stack trace>");
	if (colon && !colon[15]) {
		w.in_stack = true;
		return false;
	}
	colon = strstr(line, ": mmrefs_event: ");
	if (!colon)
		goto bad;
	payload = colon + 16;
	memset(&e, 0, sizeof(e));
	if (!parse_context(line, colon, &e) || !parse_payload(payload, &e))
		goto bad;
	if (e.id != w.id)
		goto bad;	/* the filter lets only ours through */
	emit(&e);
	return !strcmp(e.op, "free");
bad:
	cleanup();
	bad_line("trace_pipe", w.lineno, copy, "not an mmrefs_event line");
}

/* The mm is still in mms (its free may have been filtered out). */
static bool mm_tracked(void)
{
	struct mm_row *rows;
	int n, i;

	n = read_mms(&rows);
	for (i = 0; i < n && rows[i].id != w.id; i++)
		;
	free(rows);
	return i < n;
}

/* Stream until the free, a signal, or the mm gone without a free seen. */
static int stream(const sigset_t *unblocked)
{
	static char buf[65536];
	struct pollfd pfd = { .fd = w.pipe_fd, .events = POLLIN };
	struct timespec second = { .tv_sec = 1 };
	size_t have = 0;
	char *nl, *line;
	ssize_t n;
	int r;

	for (;;) {
		r = ppoll(&pfd, 1, &second, unblocked);
		if (stop_signal)
			return 128 + stop_signal;
		if (r < 0 && errno != EINTR)
			fail(MMREFS_EX_FORMAT, "trace_pipe: %s", strerror(errno));
		if (r == 0) {
			if (!mm_tracked()) {
				fprintf(stderr,
					"%s: mm id=%ld is gone but its free event was not seen (filter or enable in %s?)\n",
					mmrefs_prog, w.id, MMREFS_DIR);
				return MMREFS_EX_OK;
			}
			continue;
		}
		if (r < 0)
			continue;
		n = read(w.pipe_fd, buf + have, sizeof(buf) - 1 - have);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			fail(MMREFS_EX_FORMAT, "trace_pipe: %s",
			     n ? strerror(errno) : "end of file");
		have += n;
		buf[have] = '\0';
		line = buf;
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			if (handle_line(line))
				return MMREFS_EX_OK;
			line = nl + 1;
		}
		have -= line - buf;
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1)
			fail(MMREFS_EX_FORMAT, "trace_pipe: a line longer than %zu bytes",
			     sizeof(buf));
	}
}

int mmrefs_watch(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "stacks", no_argument, NULL, 'S' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	struct sigaction sa = { .sa_handler = on_stop };
	sigset_t stops, unblocked;
	struct mm_row row;
	int opt, status;

	while ((opt = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'S':
			w.trigger = true;	/* set for real in setup() */
			break;
		case 'o':
			w.out_path = optarg;
			break;
		default:
			fprintf(stderr, "usage: mmrefs watch PID [--stacks] [-o FILE]\n");
			return MMREFS_EX_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s: watch wants one PID\n", mmrefs_prog);
		fprintf(stderr, "usage: mmrefs watch PID [--stacks] [-o FILE]\n");
		return MMREFS_EX_USAGE;
	}
	w.pid = parse_pid(argv[optind]);
	mmrefs_require();
	w.id = mm_of_pid(w.pid, &row);
	find_tracing();

	/* from here until ppoll() a signal waits: nothing is half set up */
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	sigprocmask(SIG_BLOCK, &stops, &unblocked);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* a closed reader of stdout ends the stream with EPIPE, not a kill */
	signal(SIGPIPE, SIG_IGN);

	if (w.out_path) {
		w.out = fopen(w.out_path, "we");
		if (!w.out)
			die(MMREFS_EX_FORMAT, "%s: %s", w.out_path, strerror(errno));
	}
	setup();
	if (w.trigger) {
		if (write_str(WATCH, "stack=1"))
			fail(MMREFS_EX_WATCH, "cannot write stack=1 to %s", WATCH);
		w.stack = true;
	}
	arm();
	printf("watching pid %d, mm id=%ld (%s); ends when the mm is freed, or on Ctrl-C\n",
	       w.pid, w.id, row.comm);
	fflush(stdout);
	status = stream(&unblocked);
	cleanup();
	return status;
}
