# SPDX-License-Identifier: Apache-2.0
# The executor (ace/): runs pods from the store's rendered trees; see
# docs/executor.md.  Each part's sources and unit tests are in its fragment.
libappc_a_SOURCES += ace/internal.h ace/pod.h ace/pod.c ace/rootfs.h ace/rootfs.c \
	ace/reify.c ace/podspec.c ace/run.c ace/plan.c ace/sockets.c ace/stop.c ace/enter.c ace/pty.c \
	ace/commit.c ace/net.c
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
