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
# Installing on a box (KDIR= another kernel's headers, KVER= its release):
#   make install          mmrefs.ko into /lib/modules/KVER/extra/, then depmod,
#                         and the command into $(DESTDIR)$(PREFIX)/sbin/mmrefs
#   make install-autoload load it at boot (/etc/modules-load.d/mmrefs.conf)
#   make dkms-install     or let DKMS build it for every kernel (dkms-remove)

KDIR ?= /lib/modules/$(shell uname -r)/build
KERNEL ?= 6.1

# The module and the mmrefs command (tools/mmrefs, Documentation/mmrefs.rst).
# dkms.conf builds only the module: it runs kbuild itself.
all: modules mmrefs

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $@

mmrefs:
	$(MAKE) -C tools mmrefs

# The release KDIR builds for, as in the module's vermagic: where kbuild,
# depmod and DKMS install.  (`make -C KDIR kernelrelease` is no help:
# Debian's 6.1 headers answer 6.1.N there.)
KVER ?= $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"$$/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null)
# The one version number, dkms.conf's.
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' $(CURDIR)/dkms.conf)
# Stripped like Debian's own modules (INSTALL_MOD_STRIP= keeps the DWARF).
INSTALL_MOD_STRIP ?= 1

# Only mmrefs.ko is installed, in /lib/modules/KVER/extra/module/: the
# top-level Kbuild names only module/, never the selftests' test module.
# Not signed: Debian's kernels set CONFIG_MODULE_SIG_ALL but their headers
# have no key, so kbuild's sign-file would fail once per module.  A kernel
# that enforces signatures (Secure Boot) wants make dkms-install, which
# signs with DKMS's machine owner key.
modules_install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) KERNELRELEASE=$(KVER) \
		INSTALL_MOD_DIR=extra INSTALL_MOD_STRIP=$(INSTALL_MOD_STRIP) \
		CONFIG_MODULE_SIG_ALL= $@

# kbuild skips depmod ("missing 'System.map'"): Debian's headers have none.
# Without depmod, modprobe does not find the new module.  The command goes
# to $(DESTDIR)$(PREFIX)/sbin/mmrefs (PREFIX ?= /usr/local).
PREFIX ?= /usr/local
install: modules_install
	depmod -a $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KVER)
	$(MAKE) -C tools install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

# Load mmrefs at every boot (systemd-modules-load), or no longer.
install-autoload:
	mkdir -p $(INSTALL_MOD_PATH)/etc/modules-load.d
	echo mmrefs >$(INSTALL_MOD_PATH)/etc/modules-load.d/mmrefs.conf

uninstall-autoload:
	rm -f $(INSTALL_MOD_PATH)/etc/modules-load.d/mmrefs.conf

# DKMS: /usr/src/mmrefs-VERSION gets what the build needs (kbuild's clean
# drops any build output copied along), then mmrefs.ko is built and
# installed for KVER and rebuilt by DKMS for every kernel installed later.
# An older copy of this version is removed first: DKMS refuses to add a
# version twice.
DKMS_SRC := /usr/src/mmrefs-$(VERSION)
dkms-install: dkms-remove
	mkdir -p $(DKMS_SRC)
	cp -R dkms.conf Kbuild module $(DKMS_SRC)/
	$(MAKE) -s -C $(KDIR) M=$(DKMS_SRC) clean
	dkms add mmrefs/$(VERSION)
	dkms install mmrefs/$(VERSION) -k $(KVER)

dkms-remove:
	@test -n "$(VERSION)" || { echo "no PACKAGE_VERSION in dkms.conf"; exit 1; }
	if [ -n "$$(dkms status mmrefs/$(VERSION))" ]; then \
		dkms remove mmrefs/$(VERSION) --all; fi
	rm -rf $(DKMS_SRC)

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
	@scripts/demo $(KERNEL)

# Both kernels unless KERNEL is given (the KERNEL ?= above is demo's default).
bench: deps
	@scripts/bench $(if $(filter file,$(origin KERNEL)),6.1 6.12,$(KERNEL))

# Every kernel (6.1, 6.12, 6.12-rt) unless KERNEL is given; each one is
# run even if one before it fails.
stress: deps
	@rc=0; for k in $(if $(filter file,$(origin KERNEL)),6.1 6.12 6.12-rt,$(KERNEL)); do \
		scripts/stress --kernel $$k $(STRESS_ARGS) || rc=1; \
	done; exit $$rc

# A full Debian guest per kernel (scripts/boxtest): README's real-box
# commands verbatim, a watch, a soak, the trace tools; both run.
boxtest:
	@rc=0; for k in 6.1 6.12; do scripts/boxtest $$k || rc=1; done; exit $$rc

.PHONY: all modules mmrefs modules_install install install-autoload uninstall-autoload \
	dkms-install dkms-remove clean distclean deps check check-debug demo bench stress boxtest
