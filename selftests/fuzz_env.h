/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What mmrefs_fuzz's tests set up besides the waiters: the borrower
 * module reloaded (the only way to give leaks back) or emptied, and the
 * twin, a process of two tasks that share one mm.
 */
#ifndef FUZZ_ENV_H
#define FUZZ_ENV_H

#include <sys/types.h>

int borrow_reload(void);
int borrow_clean(void);
pid_t spawn_twin(pid_t *thread, int *release_fd);

#endif /* FUZZ_ENV_H */
