/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of ace/device.c's --device parsing: the forms docker reads
 * (HOST, HOST:POD, HOST:ACCESS, HOST:POD:ACCESS), the node's type and
 * numbers taken from the host (symlinks followed), and every refusal
 * naming the device as given and the rule, with no command-line flag. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define SCRATCH_PREFIX "test-ace-device"
#include "tests/unit/test-scratch.h"

#include "ace/internal.h"
#include "tests/unit/test-util.h"

static void parse_ok(const char *spec, const char *host, const char *pod, const char *rule)
{
  struct ace_device d;
  appc_error_t err = NULL;
  char text[ACE_DEV_RULE_MAX];

  assert_ok(ace_device_parse(spec, &d, &err), &err);
  assert_string_equal(d.host_path, host);
  assert_string_equal(d.pod_path, pod);
  ace_device_rule_format(&d.rule, text);
  assert_string_equal(text, rule);
  ace_device_clear(&d);
}

static void parse_fails_with(const char *spec, int errnum, const char *needle)
{
  struct ace_device d;
  appc_error_t err = NULL;

  assert_tagged_error(ace_device_parse(spec, &d, &err), &err, errnum, needle);
  assert_null(d.host_path);
}

static void parse_fails(const char *spec, const char *needle)
{
  parse_fails_with(spec, EINVAL, needle);
}

static void test_forms(void **state)
{
  (void) state;
  parse_ok("/dev/kmsg", "/dev/kmsg", "/dev/kmsg", "c 1:11 rwm");
  parse_ok("/dev/null:/dev/sub/dir/n0", "/dev/null", "/dev/sub/dir/n0", "c 1:3 rwm");
  parse_ok("/dev/kmsg:r", "/dev/kmsg", "/dev/kmsg", "c 1:11 r");
  parse_ok("/dev/null:/dev/xnull:wr", "/dev/null", "/dev/xnull", "c 1:3 rw");
  parse_ok("/dev/zero:/dev/z:m", "/dev/zero", "/dev/z", "c 1:5 m");
}

/* The host path may be a link (as /dev/disk/by-id/... are); the pod path
 * stays what was asked. */
static int scratch_teardown(void **state)
{
  (void) state;
  scratch_remove(current_scratch);
  return 0;
}

static void test_block_node_through_a_symlink(void **state)
{
  char *dir = scratch_new();
  char *node = path_join(dir, "blk"), *link = path_join(dir, "by-id");
  char spec[PATH_MAX];
  (void) state;

  assert_int_equal(mknod(node, S_IFBLK | 0600, makedev(7, 42)), 0);
  assert_int_equal(symlink(node, link), 0);
  snprintf(spec, sizeof spec, "%s:/dev/disk0:rw", link);
  parse_ok(spec, link, "/dev/disk0", "b 7:42 rw");
  free(node);
  free(link);
}

static void test_refusals(void **state)
{
  (void) state;
  parse_fails("dev/null", "device \"dev/null\": the host path must be absolute");
  parse_fails("/dev/null:/tmp/n", "must be under /dev/");
  parse_fails("/dev/null:/dev/", "must be under /dev/");
  parse_fails("/dev/null", "/dev/null is the executor's own");
  parse_fails("/dev/null:/dev/tty", "/dev/tty is the executor's own");
  parse_fails("/dev/null:/dev/pts/9", "/dev/pts is the executor's own");
  parse_fails("/dev/null:/dev/fd/x", "/dev/fd is the executor's own");
  parse_fails("/dev/null:/dev/a/../b", "not a plain path");
  parse_fails("/dev/null:/dev/a//b", "not a plain path");
  parse_fails("/dev/null:/dev/a/", "ends in a slash");
  parse_fails("/dev/null:/dev/a b", "not a plain path");
  parse_fails("/dev/null:/dev/x:rr", "ACCESS is made of r, w and m, each once");
  parse_fails("/dev/null:/dev/x:rwx", "ACCESS is made of r, w and m");
  parse_fails("/dev/null:/dev/x:r:w", "not HOSTPATH[:PODPATH][:ACCESS]");
  parse_fails_with("/dev/no-such-node", ENOENT,
                   "device \"/dev/no-such-node\": /dev/no-such-node: No such file");
  parse_fails("/etc/passwd:/dev/p", "is not a character or block device");
  parse_fails("/dev:/dev/d", "is not a character or block device");
}

static void test_unique_paths(void **state)
{
  struct ace_device d[3];
  appc_error_t err = NULL;
  (void) state;

  assert_ok(ace_device_parse("/dev/null:/dev/a", &d[0], &err), &err);
  assert_ok(ace_device_parse("/dev/zero:/dev/b", &d[1], &err), &err);
  assert_ok(ace_device_check_unique(d, 2, &err), &err);
  assert_ok(ace_device_parse("/dev/zero:/dev/a/b", &d[2], &err), &err);
  assert_tagged_error(ace_device_check_unique(d, 3, &err), &err, EINVAL,
                      "devices: /dev/a and /dev/a/b cannot both be in the pod");
  ace_device_clear(&d[2]);
  assert_ok(ace_device_parse("/dev/full:/dev/b", &d[2], &err), &err);
  assert_error_contains(ace_device_check_unique(d, 3, &err), &err, "/dev/b and /dev/b");
  for (size_t i = 0; i < 3; i++)
    ace_device_clear(&d[i]);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_forms),
      cmocka_unit_test_teardown(test_block_node_through_a_symlink, scratch_teardown),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_unique_paths),
  };
  return cmocka_run_group_tests_name("ace-device", tests, NULL, NULL);
}
