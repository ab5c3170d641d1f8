/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mmrefs command (Documentation/mmrefs.rst): what its subcommands
 * share.  mmrefs.c owns the checks every subcommand starts with, the
 * strict readers of the debugfs files (Documentation/interface.rst) and
 * top, show and leaks; mmrefs_watch.c owns watch.  Nothing here is read
 * loosely: a line that is not in the documented format stops the command
 * with the file and line number (exit MMREFS_EX_FORMAT).
 */
#ifndef MMREFS_CMD_H
#define MMREFS_CMD_H

#include <stdbool.h>
#include <stdnoreturn.h>
#include <stddef.h>
#include <sys/types.h>

#define ARRAY_SIZE(arr)	(sizeof(arr) / sizeof((arr)[0]))

#define MMREFS_DEBUGFS	"/sys/kernel/debug"
#define MMREFS_DIR	MMREFS_DEBUGFS "/mmrefs"

/* Exit statuses, each one documented in Documentation/mmrefs.rst. */
enum {
	MMREFS_EX_OK		= 0,
	MMREFS_EX_LEAKS		= 1,	/* leaks: at least one suspect */
	MMREFS_EX_USAGE		= 2,
	MMREFS_EX_NOT_ROOT	= 3,
	MMREFS_EX_NO_DEBUGFS	= 4,
	MMREFS_EX_NOT_LOADED	= 5,
	MMREFS_EX_NO_PROCESS	= 6,	/* no such pid, no such mm id */
	MMREFS_EX_NO_MM		= 7,	/* a kernel thread, a zombie, untracked */
	MMREFS_EX_WATCH		= 8,	/* no slot, registers busy, no tracefs */
	MMREFS_EX_FORMAT	= 9,	/* a line not as documented, an I/O error */
};

/* One key=value line, split in place; site= (last) may hold a space. */
#define KV_MAX		64
struct kvline {
	int n;
	char *key[KV_MAX], *val[KV_MAX];
};

/* A whole file read at once: the kernel builds each read from one snapshot. */
struct text {
	char *buf;
	size_t len;
	const char *path;
};

/* Every subcommand's options after the subcommand word. */
int mmrefs_top(int argc, char **argv);
int mmrefs_show(int argc, char **argv);
int mmrefs_leaks(int argc, char **argv);
int mmrefs_watch(int argc, char **argv);
int mmrefs_timeline_cmd(int argc, char **argv);

/* Print "mmrefs: ..." on stderr and exit with status. */
noreturn void die(int status, const char *fmt, ...);
/* The line at *lineno of path is not as documented: exit MMREFS_EX_FORMAT. */
noreturn void bad_line(const char *path, int lineno, const char *line,
		       const char *why);

/* Root, debugfs mounted, mmrefs loaded: else die() with their status. */
void mmrefs_require(void);

int read_text(const char *path, struct text *t);
void free_text(struct text *t);
/* One write() of s; 0 or -errno. */
int write_str(const char *path, const char *s);

/* Split line (modified) into key=value pairs; false if it is not such a line. */
bool kv_split(char *line, struct kvline *kv);
const char *kv_get(const struct kvline *kv, const char *key);
/* A decimal value of key; false if missing or not a number. */
bool kv_long(const struct kvline *kv, const char *key, long *val);
/* "A->B" of key. */
bool kv_pair(const struct kvline *kv, const char *key, long *a, long *b);

/* One row of mms. */
struct mm_row {
	long id, tgid, users, count, lazy, watch_slot, observer, age_ms;
	char comm[32], state[16], src[8];
};

/* Parse mms into rows (malloc'ed); their number.  Dies on a bad line. */
int read_mms(struct mm_row **rows);

/*
 * A process's tracked mm, by the owner tgid of pid (a thread's process),
 * or die() with MMREFS_EX_NO_PROCESS / MMREFS_EX_NO_MM saying why.
 */
pid_t pid_tgid(pid_t pid);
long mm_of_pid(pid_t pid, struct mm_row *row);

/* A decimal pid, or die() with MMREFS_EX_USAGE. */
pid_t parse_pid(const char *s);

extern const char *mmrefs_prog;

#endif /* MMREFS_CMD_H */
