/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the executor's refusals of what a caller gives it: the
 * options of appc_ace_run, checked before a pod is made.  Each refusal names
 * the field of struct appc_ace_options and the rule, never a command-line
 * flag (the library knows none; actool adds them). */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#include "appc/ace.h"
#include "appc/schema.h"
#include "tests/unit/test-util.h"

/* appc_ace_run refuses OPTS before it touches the store or the pod. */
static int run_with(const struct appc_ace_options *opts, appc_error_t *err)
{
  static const struct appc_pod_manifest pod = {0};
  int status = 0;

  return appc_ace_run(NULL, &pod, opts, &status, err);
}

static void test_run_options(void **state)
{
  static const char *const one[] = {"x"};
  appc_error_t err = NULL;

  (void) state;
  if (geteuid() != 0)
    skip(); /* running a pod needs root, checked first */

  struct appc_ace_options o = {.version = 2, .net = APPC_ACE_NET_DEFAULT};
  assert_tagged_error(run_with(&o, &err), &err, EINVAL,
                      "net APPC_ACE_NET_DEFAULT came with options version 3");

  o = (struct appc_ace_options){.version = APPC_ACE_OPTIONS_VERSION,
                                .net = APPC_ACE_NET_PRIVATE,
                                .publish = one,
                                .n_publish = 1};
  assert_tagged_error(run_with(&o, &err), &err, EINVAL, "publish needs net APPC_ACE_NET_DEFAULT");

  o = (struct appc_ace_options){.version = APPC_ACE_OPTIONS_VERSION,
                                .rootfs_dir = "/nonexistent",
                                .devices = one,
                                .n_devices = 1};
  assert_tagged_error(run_with(&o, &err), &err, EINVAL, "build mode: no devices");

  o = (struct appc_ace_options){
      .version = APPC_ACE_OPTIONS_VERSION, .rootfs_dir = "/nonexistent", .private_users = "auto"};
  assert_tagged_error(run_with(&o, &err), &err, EINVAL, "build mode: no private_users");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_run_options),
  };
  return cmocka_run_group_tests_name("ace-options", tests, NULL, NULL);
}
