# SPDX-License-Identifier: Apache-2.0
# The executor (ace/): runs pods from the store's rendered trees; see
# docs/executor.md.  Each part's sources and unit tests are in its fragment.
libappc_a_SOURCES += ace/internal.h ace/pod.h ace/pod.c ace/rootfs.h ace/rootfs.c \
	ace/reify.c ace/podspec.c ace/run.c ace/plan.c ace/sockets.c ace/stop.c ace/enter.c ace/pty.c \
	ace/commit.c ace/net.c ace/exec.c ace/exec-shim.h

# The exec shim (ace/exec-shim.c, through which every command of a pod
# starts): a program of its own, without the C library, embedded in libappc
# as bytes that ace/exec.c runs from a sealed memfd.  Built without the
# project's CFLAGS and LDFLAGS (no sanitizer, no PIE, nothing to link).
EXEC_SHIM_FLAGS = -static -nostdlib -nostartfiles -ffreestanding -fno-stack-protector -fno-pie -Os \
	-fno-asynchronous-unwind-tables -Wall -Wextra -Werror \
	-Wl,--build-id=none -Wl,-z,noseparate-code -Wl,-s
ace/exec-shim: $(srcdir)/ace/exec-shim.c $(srcdir)/ace/exec-shim.h
	@$(MKDIR_P) ace
	$(AM_V_CC)$(CC) $(EXEC_SHIM_FLAGS) -o $@ $(srcdir)/ace/exec-shim.c
ace/exec-shim-blob.c: ace/exec-shim
	$(AM_V_GEN){ echo '/* Generated from ace/exec-shim.c by ace/local.mk. */'; \
	  echo '#include <stddef.h>'; \
	  echo 'extern const unsigned char ace_exec_shim[];'; \
	  echo 'extern const size_t ace_exec_shim_size;'; \
	  echo 'const unsigned char ace_exec_shim[] = {'; \
	  od -An -v -tx1 ace/exec-shim | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; \
	  echo 'const size_t ace_exec_shim_size = sizeof ace_exec_shim;'; } >$@.tmp && mv -f $@.tmp $@
nodist_libappc_a_SOURCES = ace/exec-shim-blob.c
BUILT_SOURCES = ace/exec-shim-blob.c
CLEANFILES += ace/exec-shim ace/exec-shim-blob.c ace/exec-shim-blob.c.tmp
EXTRA_DIST += ace/exec-shim.c
include ace/identity.mk
include ace/security.mk
include ace/metadata.mk

# What appc_ace_run and the pod-building calls refuse in their callers'
# options, and how the refusals name them.
check_PROGRAMS += tests/unit/test-ace-options
tests_unit_test_ace_options_SOURCES = tests/unit/test-ace-options.c
tests_unit_test_ace_options_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ace_options_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-ace-options

# enter's pseudo-terminal (pty.c): the terminal made, and the caller's relay.
check_PROGRAMS += tests/unit/test-ace-pty
tests_unit_test_ace_pty_SOURCES = tests/unit/test-ace-pty.c
tests_unit_test_ace_pty_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ace_pty_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-ace-pty

# Processes known by PID and start time (pod.c): a zombie has ended.
check_PROGRAMS += tests/unit/test-ace-proc
tests_unit_test_ace_proc_SOURCES = tests/unit/test-ace-proc.c
tests_unit_test_ace_proc_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ace_proc_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-ace-proc
