// SPDX-License-Identifier: GPL-2.0
/*
 * The trace event decodes by name: the format file that perf, trace-cmd
 * and libtraceevent read carries every op, cause and counter as a
 * { number, "name" } pair with a literal number, so no value prints raw
 * (a cause missing from such a list printed as 0x12) and no enum name is
 * left for user space to resolve.  The names and numbers are the spec of
 * Documentation/interface.rst ("history", "Trace event"): trace filters
 * such as 'cause == 6' depend on them.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "mmrefs_util.h"

#define TRACEFS		"/sys/kernel/tracing"
#define EVENT_DIR	TRACEFS "/events/mmrefs/mmrefs_event"

static const char * const ops[] = {
	"seed", "new", "get", "put", "grab", "use", "unuse", "teardown",
	"free", "mmget", "mmget_not_zero", "mmput", "mmgrab", "mmdrop",
	"lazy_tlb", "write", "watch", "unwatch", "gap",
};

static const char * const causes[] = {
	"seed", "fork", "exec", "thread", "vfork", "clone_vm", "exit",
	"get_task_mm", "mm_access", "put", "async", "proc", "kthread",
	"teardown", "free", "trap", "observer", "use_mm", "khugepaged",
	"hotplug", "site",
};

static const char * const counters[] = { "-", "users", "count" };

/*
 * The pairs of __print_symbolic(REC->field, ...) in @fmt, in order, must
 * be exactly { i, "names[i]" } for every i.
 */
static void expect_symbols(struct __test_metadata *_metadata, const char *fmt,
			   const char *field, const char * const *names,
			   size_t nr)
{
	char head[64], pair[64];
	const char *p, *end;
	size_t i;

	snprintf(head, sizeof(head), "__print_symbolic(REC->%s, ", field);
	p = strstr(fmt, head);
	ASSERT_NE(NULL, p) TH_LOG("no __print_symbolic() of %s", field);
	p += strlen(head);
	end = strstr(p, "})");
	ASSERT_NE(NULL, end);
	for (i = 0; i < nr; i++) {
		snprintf(pair, sizeof(pair), "{ %zu, \"%s\" }", i, names[i]);
		EXPECT_EQ(0, strncmp(p, pair, strlen(pair)))
			TH_LOG("%s %zu: want %s at: %.40s", field, i, pair, p);
		p = strchr(p, '}');
		ASSERT_NE(NULL, p);
		p += 1 + (p[1] == ',') + (p[2] == ' ');
	}
	EXPECT_EQ(end + 1, p) TH_LOG("%s: more than %zu names", field, nr);
}

/* The value of @key in the trace line at @line is a name, not 0x...: */
static bool is_name(const char *line, const char *key)
{
	const char *eol = strchr(line, '\n');
	const char *v = strstr(line, key);

	if (!v || (eol && v > eol))
		return false;
	v += strlen(key);
	return strncmp(v, "0x", 2) && (*v == '-' || (*v >= 'a' && *v <= 'z'));
}

FIXTURE(trace) {
	char fmt[8192];
};

FIXTURE_SETUP(trace)
{
	const char *why = mmrefs_missing();
	ssize_t len;

	if (why)
		SKIP(return, "%s", why);
	len = mmrefs_read_into(EVENT_DIR "/format", self->fmt,
			       sizeof(self->fmt));
	ASSERT_GT(len, 0) TH_LOG("%s/format unreadable (tracefs mounted?)",
				 EVENT_DIR);
}

FIXTURE_TEARDOWN(trace)
{
	mmrefs_write_file(EVENT_DIR "/enable", "0");
}

/* every op, cause and counter by name, numbers as in the spec */
TEST_F(trace, format_decodes_every_name)
{
	const char *fmt;

	if (_metadata->skip)
		return;
	fmt = strstr(self->fmt, "print fmt:");
	ASSERT_NE(NULL, fmt);
	expect_symbols(_metadata, fmt, "op", ops, ARRAY_SIZE(ops));
	expect_symbols(_metadata, fmt, "cause", causes, ARRAY_SIZE(causes));
	expect_symbols(_metadata, fmt, "counter", counters,
		       ARRAY_SIZE(counters));
	/* an enum name would need TRACE_DEFINE_ENUM() to be decoded */
	EXPECT_EQ(NULL, strstr(fmt, "MMREFS_"));
}

/* a fork and an exit, as the trace prints them: names, no numbers */
TEST_F(trace, events_print_names)
{
	const char *trace, *line, *exit_put;
	int status, seen = 0;
	pid_t child;

	if (_metadata->skip)
		return;
	/* exact mode records the put as the write itself */
	exit_put = mmrefs_exact_on() ? "op=mmput cause=exit" : "op=put cause=exit";
	ASSERT_EQ(0, mmrefs_write_file(TRACEFS "/trace", ""));
	ASSERT_EQ(0, mmrefs_write_file(EVENT_DIR "/enable", "1"));
	child = fork();
	ASSERT_GE(child, 0);
	if (!child)
		_exit(0);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(0, mmrefs_write_file(EVENT_DIR "/enable", "0"));

	trace = mmrefs_read_file(TRACEFS "/trace");
	ASSERT_NE(NULL, trace);
	/* the child's new mm, then its exit put */
	EXPECT_NE(NULL, strstr(trace, "op=new cause=fork"));
	EXPECT_NE(NULL, strstr(trace, exit_put));
	for (line = strstr(trace, "mmrefs_event:"); line;
	     line = strstr(line + 1, "mmrefs_event:")) {
		seen++;
		/* __print_symbolic() prints an unknown value in hex */
		EXPECT_TRUE(is_name(line, " op=") && is_name(line, " cause=") &&
			    is_name(line, " trap="))
			TH_LOG("raw value in: %.160s", line);
	}
	EXPECT_GE(seen, 2);
}

TEST_HARNESS_MAIN
