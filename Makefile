# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of mmrefs.ko (Documentation/kbuild/modules.rst); the
# top-level Kbuild holds the obj-m lines.  Project targets:
#   make deps     install build/test dependencies and the guest kernels
#   make check    lint, build and VM-test against Debian 6.1, 6.12 and
#                 6.12-rt (PREEMPT_RT)
#   make check-debug  build two KASAN/lockdep/PROVE_RCU/ODEBUG kernels,
#                 `debug` from linux-source-6.1 and `debug-rt` from
#                 linux-source-6.12 with PREEMPT_RT (once each,
#                 .cache/debug-kernel/, .cache/debug-rt-kernel/) and run
#                 the kselftests (and scripts/stress, if present) on each
#                 (KERNEL=debug-rt make check-debug: one kernel)
#   make demo     boot a guest and show mmrefs following a process
#                 (KERNEL=6.12 or KERNEL=6.12-rt make demo for the others)
#   make bench    what mmrefs costs against no tracer, ftrace kprobe
#                 events and bpftrace, in deterministic guest time, on
#                 6.1 and 6.12 (KERNEL=6.12 make bench: one kernel)
#   make stress   everything at once for 60 s while mmrefs.ko is loaded
#                 and unloaded every 2 s, on 6.1, 6.12, 6.12-rt (KERNEL=6.12
#                 make stress: one kernel; STRESS_ARGS="--failslab
#                 --duration 120" go to scripts/stress)
# The project targets build out of tree in .cache/build/<kernel>/.

KDIR ?= /lib/modules/$(shell uname -r)/build
KERNEL ?= 6.1

all: modules

modules modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $@

# Only mmrefs.ko is installed; the selftests' test module never is.
modules_install: modules

install: modules_install

# Works without KDIR too: the project's own builds live in .cache/.
clean:
	@if [ -d $(KDIR) ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	rm -rf .cache/build .cache/check .cache/check-debug .cache/initramfs-* \
		.cache/vmtest-* .cache/stress-*
	@if [ -f selftests/Makefile ] && [ -d .cache/linux-source ]; then \
		$(MAKE) -C selftests KDIR=$(KDIR) OUTPUT=$(CURDIR)/selftests \
			KSFT_DIR=$(CURDIR)/.cache/linux-source/tools/testing/selftests clean; \
	fi
	$(MAKE) -C tools clean

# Also forget the downloaded kernels, the debug kernels and the extracted
# linux-source files.
distclean: clean
	rm -rf .cache

deps:
	@scripts/deps

check:
	@scripts/check

# Both debug kernels unless KERNEL is given.
check-debug:
	@scripts/check-debug $(if $(filter file,$(origin KERNEL)),,$(KERNEL))

demo: deps
	@scripts/vmtest --kernel $(KERNEL) -- sh /mmrefs/scripts/demo-guest.sh

# Both kernels unless KERNEL is given (the KERNEL ?= above is demo's default).
bench: deps
	@scripts/bench $(if $(filter file,$(origin KERNEL)),6.1 6.12,$(KERNEL))

# Every kernel (6.1, 6.12, 6.12-rt) unless KERNEL is given; each one is
# run even if one before it fails.
stress: deps
	@rc=0; for k in $(if $(filter file,$(origin KERNEL)),6.1 6.12 6.12-rt,$(KERNEL)); do \
		scripts/stress --kernel $$k $(STRESS_ARGS) || rc=1; \
	done; exit $$rc

.PHONY: all modules modules_install install clean distclean deps check check-debug demo \
	bench stress
