/* SPDX-License-Identifier: Apache-2.0 */
/* What list and status share: how a pod's state and times are shown. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "ace/ace.h"
#include "actool/actool.h"
#include "common/cleanup.h"
#include "store/store.h"

const char *actool_pod_state_name(int s)
{
  return s == APPC_ACE_POD_RUNNING ? "running" : "abandoned";
}

const char *actool_app_state_name(const struct appc_ace_pod_info *p, size_t app)
{
  if (p->apps[app].exited)
    return "exited";
  /* Its actool died before the app's end could be recorded: the app died
   * with it, or ends when gc ends the pod. */
  return p->state == APPC_ACE_POD_RUNNING ? "running" : "unknown";
}

void actool_pod_time(const struct timespec *t, char *buf, size_t size)
{
  struct tm tm;

  gmtime_r(&t->tv_sec, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
