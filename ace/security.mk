# SPDX-License-Identifier: Apache-2.0
# ace/security: capabilities, seccomp and sysctl (security.c), cgroups and
# resource quantities (cgroup.c), device rules (device.c), and their unit tests.  The tests run as
# root: they fork children that drop privileges, load filters and use the
# host's real cgroup hierarchies.
libappc_a_SOURCES += ace/security.c ace/cgroup.c ace/device.c ace/userns.c

check_PROGRAMS += tests/unit/test-ace-security
tests_unit_test_ace_security_SOURCES = tests/unit/test-ace-security.c
tests_unit_test_ace_security_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ace_security_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-ace-security

check_PROGRAMS += tests/unit/test-ace-cgroup
tests_unit_test_ace_cgroup_SOURCES = tests/unit/test-ace-cgroup.c
tests_unit_test_ace_cgroup_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ace_cgroup_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-ace-cgroup

check_PROGRAMS += tests/unit/test-ace-device
tests_unit_test_ace_device_SOURCES = tests/unit/test-ace-device.c
tests_unit_test_ace_device_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ace_device_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-ace-device
