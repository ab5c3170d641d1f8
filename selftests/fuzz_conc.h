/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmrefs_fuzz's concurrent writers and readers: writer threads and
 * processes that write only the values the readers know about (the
 * model still predicts each result, allowing for the others' writes),
 * and reader threads that check every read of every file against those
 * values.
 */
#ifndef FUZZ_CONC_H
#define FUZZ_CONC_H

#include <stdbool.h>
#include <sys/types.h>

#include "fuzz_model.h"

/* Shared by every writer and reader: one anonymous shared page. */
struct conc {
	const pid_t *waiters;
	double deadline;
	int stop;
	unsigned long failures;
	char filter_ok[3][32];	/* the values concurrent writers may set */
	struct holders_sel holders_ok[3];
	struct own_mm own[NR_OWN_MMS];
};

struct writer {
	struct conc *conc;
	enum fuzz_file file;	/* NR_FILES: any file, one at random per write */
	unsigned long long stream;
	unsigned long writes;
};

struct reader {
	struct conc *conc;
	const char *path;
	bool one_read;
	unsigned long reads, failures;
};

/* Thread functions: arg is a struct writer or a struct reader. */
void *writer_run(void *arg);
void *reader_run(void *arg);

#endif /* FUZZ_CONC_H */
