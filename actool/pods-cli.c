/* SPDX-License-Identifier: Apache-2.0 */
/* What list and status share: how a pod's state and times are shown, and
 * its JSON form. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "appc/ace.h"
#include "actool/actool.h"
#include "common/cleanup.h"
#include "appc/store.h"

const char *actool_pod_state_name(int s)
{
  return s == APPC_ACE_POD_RUNNING ? "running" : s == APPC_ACE_POD_EXITED ? "exited" : "abandoned";
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

  /* Not known: a pod whose actool was killed before it wrote its state. */
  if (t->tv_sec == 0) {
    snprintf(buf, size, "-");
    return;
  }
  gmtime_r(&t->tv_sec, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void actool_app_finished(const struct appc_ace_app_info *a, char *buf, size_t size)
{
  struct timespec t = {.tv_sec = (time_t) (a->finished_ns / 1000000000),
                       .tv_nsec = (long) (a->finished_ns % 1000000000)};

  actool_pod_time(&t, buf, size);
}

struct json_object *actool_pod_json(const struct appc_ace_pod_info *p)
{
  struct json_object *o = json_object_new_object();
  struct json_object *apps = json_object_new_array();
  char t[64];

  actool_pod_time(&p->started, t, sizeof t);
  json_object_object_add(o, "uuid", json_object_new_string(p->uuid));
  json_object_object_add(o, "state", json_object_new_string(actool_pod_state_name(p->state)));
  json_object_object_add(o, "pid", json_object_new_int64(p->pid));
  if (p->started.tv_sec != 0)
    json_object_object_add(o, "started", json_object_new_string(t));
  if (p->finished.tv_sec != 0) {
    actool_pod_time(&p->finished, t, sizeof t);
    json_object_object_add(o, "finished", json_object_new_string(t));
  }
  if (p->status >= 0)
    json_object_object_add(o, "exitCode", json_object_new_int(p->status));
  if (p->net != NULL)
    json_object_object_add(o, "net", json_object_new_string(p->net));
  if (p->hostname != NULL)
    json_object_object_add(o, "hostname", json_object_new_string(p->hostname));
  if (p->address != NULL)
    json_object_object_add(o, "address", json_object_new_string(p->address));
  if (p->published != NULL)
    json_object_object_add(o, "published", json_object_new_string(p->published));
  for (size_t i = 0; i < p->n_apps; i++) {
    struct json_object *a = json_object_new_object();
    json_object_object_add(a, "name", json_object_new_string(p->apps[i].name));
    json_object_object_add(a, "imageID", json_object_new_string(p->apps[i].image_id));
    json_object_object_add(a, "state", json_object_new_string(actool_app_state_name(p, i)));
    if (p->apps[i].exited)
      json_object_object_add(a, "exitCode", json_object_new_int(p->apps[i].status));
    if (p->apps[i].exited && p->apps[i].finished_ns > 0) {
      actool_app_finished(&p->apps[i], t, sizeof t);
      json_object_object_add(a, "finished", json_object_new_string(t));
    }
    if (p->apps[i].os_name != NULL || p->apps[i].os_version != NULL) {
      struct json_object *os = json_object_new_object();
      if (p->apps[i].os_name != NULL)
        json_object_object_add(os, "name", json_object_new_string(p->apps[i].os_name));
      if (p->apps[i].os_version != NULL)
        json_object_object_add(os, "versionID", json_object_new_string(p->apps[i].os_version));
      json_object_object_add(a, "os", os);
    }
    json_object_array_add(apps, a);
  }
  json_object_object_add(o, "apps", apps);
  return o;
}
