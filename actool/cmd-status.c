/* SPDX-License-Identifier: Apache-2.0 */
/* actool status [--json] UUID: one pod, as KEY=VALUE lines or JSON. */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "appc/ace.h"
#include "appc/schema.h"
#include "actool/actool.h"
#include "common/cleanup.h"
#include "appc/store.h"

struct status_options {
  bool json;
  bool log;
};

static const struct actool_option status_option_table[] = {
    {"json", ACTOOL_OPT_BOOL, offsetof(struct status_options, json), NULL,
     "Print a JSON object on stdout (as one element of `list --json`)", NULL},
    {"log", ACTOOL_OPT_BOOL, offsetof(struct status_options, log), NULL,
     "Print the output a pod run with --detach has logged so far", NULL},
    {0},
};

/* The host's addresses (of its interfaces that are up; IPv6 link-local
 * ones, which mean nothing without their interface, left out) into ADDRS. */
static void add_host_addresses(struct json_object *addrs)
{
  struct ifaddrs *all = NULL;

  if (getifaddrs(&all) < 0)
    return;
  for (const struct ifaddrs *i = all; i != NULL; i = i->ifa_next) {
    char text[INET6_ADDRSTRLEN];
    const void *a = NULL;
    if (i->ifa_addr == NULL || !(i->ifa_flags & IFF_UP))
      continue;
    if (i->ifa_addr->sa_family == AF_INET)
      a = &((const struct sockaddr_in *) (const void *) i->ifa_addr)->sin_addr;
    else if (i->ifa_addr->sa_family == AF_INET6 &&
             !IN6_IS_ADDR_LINKLOCAL(
                 &((const struct sockaddr_in6 *) (const void *) i->ifa_addr)->sin6_addr))
      a = &((const struct sockaddr_in6 *) (const void *) i->ifa_addr)->sin6_addr;
    if (a != NULL && inet_ntop(i->ifa_addr->sa_family, a, text, sizeof text) != NULL)
      json_object_array_add(addrs, json_object_new_string(text));
  }
  freeifaddrs(all);
}

/* What `docker inspect` adds that applies: each app's command line and
 * environment (from the pod's manifest), the pod's addresses. */
static void add_details(struct json_object *j, struct appc_store *s, const char *uuid,
                        const struct appc_ace_pod_info *p)
{
  struct appc_pod_manifest *pod = NULL;
  appc_error_t ignored = NULL;
  struct json_object *apps = NULL;

  if (appc_ace_pod_manifest(s, uuid, &pod, &ignored) == 0 &&
      json_object_object_get_ex(j, "apps", &apps)) {
    for (size_t i = 0; i < pod->n_apps && i < json_object_array_length(apps); i++) {
      const struct appc_app *app = pod->apps[i].app;
      struct json_object *a = json_object_array_get_idx(apps, i);
      struct json_object *exec = json_object_new_array(), *env = json_object_new_object();
      for (size_t k = 0; app != NULL && k < app->exec.len; k++)
        json_object_array_add(exec, json_object_new_string(app->exec.items[k]));
      for (size_t k = 0; app != NULL && k < app->environment.len; k++)
        json_object_object_add(env, app->environment.items[k].name,
                               json_object_new_string(app->environment.items[k].value));
      json_object_object_add(a, "exec", exec);
      json_object_object_add(a, "environment", env);
    }
  }
  appc_error_release(&ignored);
  if (pod != NULL)
    appc_pod_manifest_free(pod);
  if (p->net == NULL) /* not known (its state was never written) */
    return;
  /* --net=private: the pod's loopback; --net=default: its address on the
   * bridge (`address`, as status shows it); --net=host: the host's */
  struct json_object *net = json_object_new_object(), *addrs = json_object_new_array();
  json_object_object_add(net, "mode", json_object_new_string(p->net));
  if (strcmp(p->net, "private") == 0) {
    json_object_array_add(addrs, json_object_new_string("127.0.0.1"));
    json_object_array_add(addrs, json_object_new_string("::1"));
  } else if (strcmp(p->net, "default") == 0 && p->address != NULL) {
    json_object_array_add(addrs, json_object_new_string(p->address));
  } else if (strcmp(p->net, "host") == 0) {
    add_host_addresses(addrs);
  }
  json_object_object_add(net, "addresses", addrs);
  json_object_object_add(j, "network", net);
}

/* DIR/pods/UUID/log, when the pod has one (run --detach). */
static char *log_path(struct appc_store *s, const char *uuid)
{
  cleanup_free char *pods = appc_store_area_path(s, APPC_STORE_AREA_PODS);
  char *path = NULL;

  if (pods == NULL || asprintf(&path, "%s/%s/log", pods, uuid) < 0)
    return NULL;
  if (access(path, F_OK) != 0) {
    free(path);
    return NULL;
  }
  return path;
}

static int print_log(const char *path, const char *uuid)
{
  cleanup_close int fd = path != NULL ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;

  if (fd < 0) {
    actool_error("pod %s: no log (only pods run with --detach have one)", uuid);
    return ACTOOL_EXIT_FAILURE;
  }
  cleanup_error appc_error_t err = NULL;
  /* (which blames the log for a read, standard output for a write) */
  if (actool_copy_to_stdout(fd, path, NULL, &err) < 0)
    return actool_fail(&err);
  return ACTOOL_EXIT_OK;
}

static void print_lines(const struct appc_ace_pod_info *p, const char *log)
{
  char t[64];

  actool_pod_time(&p->started, t, sizeof t);
  printf("uuid=%s\nstate=%s\npid=%d\nstarted=%s\nnet=%s\nhostname=%s\n", p->uuid,
         actool_pod_state_name(p->state), (int) p->pid, t, p->net != NULL ? p->net : "-",
         p->hostname != NULL ? p->hostname : "-");
  if (p->finished.tv_sec != 0) {
    actool_pod_time(&p->finished, t, sizeof t);
    printf("finished=%s\n", t);
    if (p->status >= 0)
      printf("exit-code=%d\n", p->status);
  }
  if (p->address != NULL)
    printf("address=%s\n", p->address);
  if (p->published != NULL && p->published[0] != '\0')
    printf("published=%s\n", p->published);
  if (log != NULL)
    printf("log=%s\n", log);
  for (size_t i = 0; i < p->n_apps; i++) {
    if (p->apps[i].exited)
      printf("app-%s=exited(%d)\n", p->apps[i].name, p->apps[i].status);
    else
      printf("app-%s=%s\n", p->apps[i].name, actool_app_state_name(p, i));
    if (p->apps[i].exited && p->apps[i].finished_ns > 0) {
      actool_app_finished(&p->apps[i], t, sizeof t);
      printf("app-%s-finished=%s\n", p->apps[i].name, t);
    }
    /* os-release, as rkt shows it: what the image runs, e.g. Debian 12 */
    if (p->apps[i].os_name != NULL)
      printf("app-%s-os=%s%s%s\n", p->apps[i].name, p->apps[i].os_name,
             p->apps[i].os_version != NULL ? " " : "",
             p->apps[i].os_version != NULL ? p->apps[i].os_version : "");
  }
}

static int run_status(const struct actool_globals *g, void *options, int argc, char **argv)
{
  const struct status_options *o = options;
  struct appc_store *s = NULL;
  struct appc_ace_pod_info p;
  cleanup_error appc_error_t err = NULL;
  int r;

  if (argc != 1)
    return actool_usage_error("status", "needs one pod UUID");
  if (o->json && o->log)
    return actool_usage_error("status", "--json and --log: say one");
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  r = appc_ace_status(s, argv[0], &p, &err);
  cleanup_free char *log = r == 0 ? log_path(s, p.uuid) : NULL;
  if (r < 0) {
    appc_store_close(s);
    return actool_fail(&err);
  }
  if (o->log) {
    r = print_log(log, p.uuid);
  } else if (o->json) {
    struct json_object *j = actool_pod_json(&p);
    add_details(j, s, p.uuid, &p);
    if (log != NULL)
      json_object_object_add(j, "log", json_object_new_string(log));
    actool_print_json(j);
    json_object_put(j);
  } else {
    print_lines(&p, log);
  }
  appc_ace_pod_info_clear(&p);
  appc_store_close(s);
  return r;
}

const struct actool_command actool_cmd_status = {
    .name = "status",
    .summary = "Show the status of a pod",
    .usage = "[--json | --log] UUID",
    .description = "UUID may be a unique prefix.  Prints KEY=VALUE lines, or with --json the\n"
                   "pod as `list --json` shows it; --log prints the output of a pod run with\n"
                   "--detach (kept with the pod after it exits, until `actool gc`).",
    .options = status_option_table,
    .options_size = sizeof(struct status_options),
    .run = run_status,
};
