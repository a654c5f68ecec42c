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

void actool_pod_time(const struct timespec *t, char *buf, size_t size)
{
  struct tm tm;

  gmtime_r(&t->tv_sec, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
