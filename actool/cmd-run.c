/* SPDX-License-Identifier: Apache-2.0 */
/* actool run [OPTIONS] IMAGE [APP OPTIONS] [-- ARGS...] [[---] IMAGE ...]
 *
 * Images are looked up in the store (ID, ID prefix, NAME[,LABEL=VALUE...])
 * and fetched when absent (or when given as FILE.aci or a URL); the pod runs
 * in the foreground (<appc/ace.h>). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/array.h"
#include "appc/ace.h"
#include "actool/actool.h"
#include "actool/net-cli.h"
#include "appc/fetch.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "schema/json.h"
#include "appc/schema.h"
#include "appc/store.h"
#include "common/macros.h"

struct run_options {
  const char *net;
  struct actool_list volumes;
  struct actool_list set_env;
  struct actool_list env_files;
  const char *uuid_file;
  const char *pod_manifest;
  const char *hostname;
  bool detach;
  struct actool_list publish;
  struct actool_list devices;
  struct actool_list caps_allow;
  const char *private_users;
  const char *ownership;
  const char *post_stop_timeout;
};

static const struct actool_option run_option_table[] = {
    {"net", ACTOOL_OPT_STRING, offsetof(struct run_options, net), "private|default|host",
     "The pod's network: its own with loopback only, its own on the bridge actool0 with NAT "
     "to the outside, or the host's",
     "private"},
    {"publish", ACTOOL_OPT_LIST, offsetof(struct run_options, publish), "NAME:HOSTPORT",
     "With --net=default: forward the host's port HOSTPORT to the app port NAME (repeatable)",
     NULL},
    {"caps-allow", ACTOOL_OPT_LIST, offsetof(struct run_options, caps_allow), "CAP[,CAP...]",
     "Capabilities beyond the ACE's default set that the images' isolators may keep (all: any); "
     "repeatable",
     NULL},
    {"device", ACTOOL_OPT_LIST, offsetof(struct run_options, devices), "HOSTPATH[:PODPATH][:rwm]",
     "Give every app the host's device HOSTPATH at PODPATH (under /dev/, default HOSTPATH), "
     "with read, write and mknod access or those listed (repeatable)",
     NULL},
    {"private-users", ACTOOL_OPT_OPTIONAL, offsetof(struct run_options, private_users), "UID:COUNT",
     "Run the pod in a user namespace: root in the pod is host uid and gid UID (a free range "
     "of 65536 when not given)",
     NULL},
    {"private-users-ownership", ACTOOL_OPT_STRING, offsetof(struct run_options, ownership),
     "auto|map|copy",
     "With --private-users: map the image's owners onto the pod's ids (an idmapped mount), "
     "copy the image's tree with shifted owners, or map where the file system allows it",
     "auto"},
    {"volume", ACTOOL_OPT_LIST, offsetof(struct run_options, volumes),
     "NAME,kind=host|empty[,source=PATH][,readOnly=BOOL]...", "A volume of the pod (repeatable)",
     NULL},
    {"set-env", ACTOOL_OPT_LIST, offsetof(struct run_options, set_env), "KEY=VALUE",
     "An environment variable for every app (repeatable)", NULL},
    {"env-file", ACTOOL_OPT_PATH_LIST, offsetof(struct run_options, env_files), "FILE",
     "Environment variables, one KEY=VALUE a line (systemd's EnvironmentFile syntax)", NULL},
    {"detach", ACTOOL_OPT_BOOL, offsetof(struct run_options, detach), NULL,
     "Print the pod's UUID once it runs and return; its output goes to its log (status --log), "
     "and it stays, exited, until gc",
     NULL},
    {"uuid-file-save", ACTOOL_OPT_PATH, offsetof(struct run_options, uuid_file), "FILE",
     "Write the pod's UUID to FILE", NULL},
    {"pod-manifest", ACTOOL_OPT_PATH, offsetof(struct run_options, pod_manifest), "FILE",
     "Run the pod this manifest describes instead of images", NULL},
    {"hostname", ACTOOL_OPT_STRING, offsetof(struct run_options, hostname), "NAME",
     "The pod's hostname (default: actool-UUID)", NULL},
    {"post-stop-timeout", ACTOOL_OPT_STRING, offsetof(struct run_options, post_stop_timeout),
     "DURATION", "How long each post-stop handler may run before it is killed (0: no limit)",
     "30s"},
    {0},
};

/* One image of the command line with its own options. */
struct app_args {
  const char *image;
  const char *exec, *user, *group, *name;
  const char **mounts;
  size_t n_mounts;
  const char **env;
  size_t n_env;
  char **args;
  size_t n_args;
};

/* "--opt=value" or "--opt value" at ARGV[*I]; NULL when ARG is not --OPT. */
static const char *app_option(const char *opt, int argc, char **argv, int *i, bool *missing)
{
  size_t n = strlen(opt);
  const char *arg = argv[*i];

  if (strncmp(arg, opt, n) != 0)
    return NULL;
  if (arg[n] == '=')
    return arg + n + 1;
  if (arg[n] != '\0')
    return NULL;
  if (*i + 1 >= argc || strcmp(argv[*i + 1], "---") == 0) {
    *missing = true;
    return NULL;
  }
  return argv[++*i];
}

static int parse_app_option(struct app_args *a, int argc, char **argv, int *i)
{
  static const char *const names[] = {"--exec", "--user",  "--group",
                                      "--name", "--mount", "--set-env"};
  bool missing = false;

  for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
    const char *v = app_option(names[k], argc, argv, i, &missing);
    if (missing)
      return actool_usage_error("run", "option %s needs a value", names[k]);
    if (v == NULL)
      continue;
    switch (k) {
    case 0:
      a->exec = v;
      break;
    case 1:
      a->user = v;
      break;
    case 2:
      a->group = v;
      break;
    case 3:
      a->name = v;
      break;
    default: {
      const char ***list = k == 4 ? &a->mounts : &a->env;
      size_t *len = k == 4 ? &a->n_mounts : &a->n_env;
      if (APPC_ARRAY_EXTEND(*list, *len, 1) < 0) {
        actool_error("out of memory");
        return ACTOOL_EXIT_FAILURE;
      }
      (*list)[(*len)++] = v;
    }
    }
    return 0;
  }
  return actool_usage_error("run", "unknown option \"%s\" for image %s", argv[*i], a->image);
}

/* Split ARGV into images, each with its options and arguments. */
static int parse_apps(int argc, char **argv, struct app_args **out, size_t *n)
{
  struct app_args *apps = calloc((size_t) argc + 1, sizeof *apps);
  size_t count = 0;
  int i = 0;

  *out = apps;
  *n = 0;
  if (apps == NULL) {
    actool_error("out of memory");
    return ACTOOL_EXIT_FAILURE;
  }
  while (i < argc) {
    struct app_args *a = &apps[count++];
    *n = count;
    if (argv[i][0] == '-')
      return actool_usage_error("run", "expected an image, not \"%s\"", argv[i]);
    a->image = argv[i++];
    for (; i < argc && strcmp(argv[i], "---") != 0; i++) {
      if (strcmp(argv[i], "--") == 0) {
        a->args = &argv[++i];
        while (i < argc && strcmp(argv[i], "---") != 0)
          i++, a->n_args++;
        break;
      }
      /* Another image, as rkt accepts them: `run A B` (`---` is only
       * needed after an image's "--" arguments). */
      if (argv[i][0] != '-')
        break;
      int r = parse_app_option(a, argc, argv, &i);
      if (r != 0)
        return r;
    }
    if (i < argc && strcmp(argv[i], "---") == 0)
      i++;
  }
  return 0;
}

static void free_apps(struct app_args *apps, size_t n)
{
  for (size_t i = 0; apps != NULL && i < n; i++) {
    free(apps[i].mounts);
    free(apps[i].env);
  }
  free(apps);
}

static void started(void *data, const char *uuid)
{
  const struct actool_globals *g = data;

  actool_debug(g, "pod %s started", uuid);
}

/* ---- --detach ---- */

/* The detached actool tells the one that returns the pod's UUID through a
 * pipe, once the pod's directory exists: from then on its output (and the
 * apps', which inherit it) goes to that directory's log. */
struct detached {
  const struct actool_globals *g;
  struct appc_store *s;
  int report; /* write end of the pipe */
};

static void detached_started(void *data, const char *uuid)
{
  struct detached *d = data;
  cleanup_free char *pods = appc_store_area_path(d->s, APPC_STORE_AREA_PODS);
  cleanup_free char *log = NULL;
  int fd = -1;

  if (pods != NULL && asprintf(&log, "%s/%s/log", pods, uuid) >= 0)
    fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  else
    log = NULL;
  if (fd >= 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
  } else {
    actool_error("%s: cannot open the pod's log: %s", log != NULL ? log : uuid, strerror(errno));
  }
  dprintf(d->report, "%s\n", uuid);
  close(d->report);
  d->report = -1;
}

/* In the actool that returns: the UUID the detached one reports, or its
 * exit status when it fails before the pod runs. */
static int wait_detached(pid_t child, int from)
{
  char buf[APPC_UUID_LEN + 2];
  size_t got = 0;
  ssize_t n;

  while (got < sizeof buf && (n = read(from, buf + got, sizeof buf - got)) != 0) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      break;
    got += (size_t) n;
  }
  close(from);
  if (got == APPC_UUID_LEN + 1 && buf[APPC_UUID_LEN] == '\n') {
    printf("%.*s\n", APPC_UUID_LEN, buf);
    return ACTOOL_EXIT_OK;
  }
  int wstatus = 0;
  while (waitpid(child, &wstatus, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0 ? WEXITSTATUS(wstatus)
                                                         : ACTOOL_EXIT_FAILURE;
}

/* Fork: the parent returns the exit status to end with (via *DONE), the
 * child goes on to run the pod in a session of its own, stdin from
 * /dev/null. */
static int detach(struct detached *d, struct appc_ace_options *ao, bool *done)
{
  int p[2];
  pid_t child;

  *done = false;
  fflush(NULL);
  if (pipe2(p, O_CLOEXEC) < 0 || (child = fork()) < 0) {
    actool_error("run --detach: %s", strerror(errno));
    *done = true;
    return ACTOOL_EXIT_FAILURE;
  }
  if (child > 0) {
    close(p[1]);
    *done = true;
    return wait_detached(child, p[0]);
  }
  close(p[0]);
  d->report = p[1];
  setsid();
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, STDIN_FILENO);
    close(null);
  }
  ao->version = APPC_ACE_OPTIONS_VERSION;
  ao->keep_exited = true;
  ao->started = detached_started;
  ao->started_data = d;
  return ACTOOL_EXIT_OK;
}

static int load_pod_manifest(struct appc_store *s, const char *path, struct appc_pod_manifest **pod)
{
  cleanup_free char *text = NULL;
  cleanup_error appc_error_t err = NULL;
  size_t len = 0;

  if (appc_read_file_at(AT_FDCWD, path, APPC_MANIFEST_MAX, 0, &text, &len, &err) < 0)
    return actool_fail(&err); /* (which names PATH) */
  if (appc_pod_manifest_parse(text, len, pod, &err) < 0 || appc_ace_reify(s, *pod, &err) < 0) {
    appc_error_prefix(&err, "%s", path);
    return actool_fail(&err);
  }
  return ACTOOL_EXIT_OK;
}

static int build_pod(const struct actool_globals *g, const struct run_options *o,
                     const struct appc_kv_list *env, struct appc_store *s, int argc, char **argv,
                     struct appc_pod_manifest **pod)
{
  struct app_args *apps = NULL;
  size_t n = 0;
  cleanup_free struct appc_ace_app_request *req = NULL;
  cleanup_free char(*ids)[APPC_IMAGE_ID_LEN + 1] = NULL;
  cleanup_error appc_error_t err = NULL;
  int r = parse_apps(argc, argv, &apps, &n);

  if (r == 0) {
    req = calloc(n + 1, sizeof *req);
    ids = calloc(n + 1, sizeof *ids);
    if (req == NULL || ids == NULL) {
      actool_error("out of memory");
      r = ACTOOL_EXIT_FAILURE;
    }
  }
  for (size_t i = 0; r == 0 && i < n; i++)
    req[i] = (struct appc_ace_app_request){
        .image_id = ids[i],
        .name = apps[i].name,
        .exec = apps[i].exec,
        .args = (const char *const *) apps[i].args,
        .n_args = apps[i].n_args,
        .user = apps[i].user,
        .group = apps[i].group,
        .mounts = apps[i].mounts,
        .n_mounts = apps[i].n_mounts,
        .env = apps[i].env,
        .n_env = apps[i].n_env,
    };
  /* What the command line says is checked before any image is fetched. */
  if (r == 0 && appc_ace_check_syntax(NULL, NULL, 0, o->volumes.v, o->volumes.n, &err) < 0)
    r = actool_usage_error("run", "--volume: %s", err->msg);
  if (r == 0 && appc_ace_check_syntax(NULL, req, n, NULL, 0, &err) < 0)
    r = actool_usage_error("run", "%s", err->msg);
  for (size_t i = 0; r == 0 && i < n; i++)
    r = actool_resolve_image(g, s, apps[i].image, ids[i]);
  /* The apps' names come from their images unless --name says otherwise,
   * and so do their commands unless --exec does. */
  if (r == 0 && appc_ace_pod_build(s, req, n, o->volumes.v, o->volumes.n, env, pod, &err) < 0) {
    int errnum = err != NULL ? err->errnum : 0;
    r = actool_fail_hint(&err, errnum,
                         errnum == EEXIST    ? "give one of them another name with --name"
                         : errnum == ENOEXEC ? "give one with --exec"
                                             : NULL);
  }
  free_apps(apps, n);
  return r;
}

static int gather_env(const struct actool_globals *g, const struct run_options *o,
                      struct appc_kv_list *env)
{
  cleanup_error appc_error_t err = NULL;

  for (size_t i = 0; i < o->env_files.n; i++)
    if (appc_ace_env_file(o->env_files.v[i], env, actool_notify, (void *) g, &err) < 0)
      return actool_fail(&err);
  return actool_set_env("run", env, &o->set_env);
}

static int run_run(const struct actool_globals *g, void *options, int argc, char **argv)
{
  const struct run_options *o = options;
  struct appc_store *s = NULL;
  struct appc_pod_manifest *pod = NULL;
  struct appc_kv_list env = {0};
  cleanup_error appc_error_t err = NULL;
  struct appc_ace_options ao = {
      .hostname = o->hostname,
      .uuid_file = o->uuid_file,
      .env = &env,
      .notify = actool_notify,
      .notify_data = (void *) g,
      .started = started,
      .started_data = (void *) g,
  };
  int status = ACTOOL_EXIT_FAILURE;
  int r;

  if (strcmp(o->net, "private") == 0)
    ao.net = APPC_ACE_NET_PRIVATE;
  else if (strcmp(o->net, "host") == 0)
    ao.net = APPC_ACE_NET_HOST;
  else if (strcmp(o->net, "default") == 0)
    ao.net = APPC_ACE_NET_DEFAULT;
  else
    return actool_usage_error("run", "--net must be private, default or host, not \"%s\"", o->net);
  if (o->publish.n > 0 && ao.net != APPC_ACE_NET_DEFAULT)
    return actool_usage_error("run", "--publish needs --net=default");
  double post_stop = 0;
  if (actool_parse_duration(o->post_stop_timeout, &post_stop) < 0)
    return actool_usage_error("run", "--post-stop-timeout=%s: not a duration (such as 30s or 2m)",
                              o->post_stop_timeout);
  ao.version = APPC_ACE_OPTIONS_VERSION;
  /* 0 is the library's default (so a limit is at least 1 ms): no limit is
   * negative there, as is one beyond any pod's life */
  ao.post_stop_timeout_ms = post_stop > 0 && post_stop < 1e12 ? (long long) (post_stop * 1000) : -1;
  if (ao.post_stop_timeout_ms == 0)
    ao.post_stop_timeout_ms = 1;
  ao.publish = o->publish.v;
  ao.n_publish = o->publish.n;
  ao.devices = o->devices.v;
  ao.n_devices = o->devices.n;
  ao.allow_caps = o->caps_allow.v; /* "A,B": the library takes lists */
  ao.n_allow_caps = o->caps_allow.n;
  ao.no_seccomp = (g->insecure & ACTOOL_INSECURE_SECCOMP) != 0;
  ao.private_users = o->private_users;
  if (strcmp(o->ownership, "auto") == 0)
    ao.private_users_ownership = APPC_ACE_OWNERSHIP_AUTO;
  else if (strcmp(o->ownership, "map") == 0)
    ao.private_users_ownership = APPC_ACE_OWNERSHIP_MAP;
  else if (strcmp(o->ownership, "copy") == 0)
    ao.private_users_ownership = APPC_ACE_OWNERSHIP_COPY;
  else
    return actool_usage_error(
        "run", "--private-users-ownership must be auto, map or copy, not \"%s\"", o->ownership);
  if ((o->pod_manifest != NULL) == (argc > 0))
    return actool_usage_error("run", o->pod_manifest != NULL
                                         ? "--pod-manifest and images exclude each other"
                                         : "needs an image (or --pod-manifest)");
  if (appc_ace_check_syntax(&ao, NULL, 0, NULL, 0, &err) < 0)
    return actool_usage_error("run", "%s", err->msg);
  if (geteuid() != 0) {
    actool_error("run: running a pod needs root");
    return ACTOOL_EXIT_FAILURE;
  }
  if ((r = gather_env(g, o, &env)) != 0 || (r = actool_open_store(g, &s)) != 0) {
    appc_kv_list_clear(&env);
    return r;
  }
  /* With images, the pod's environment goes into each app (where per-app
   * --set-env can override it); a given pod manifest gets it at run time. */
  if (o->pod_manifest != NULL) {
    r = load_pod_manifest(s, o->pod_manifest, &pod);
  } else {
    r = build_pod(g, o, &env, s, argc, argv, &pod);
    ao.env = NULL;
  }
  if (r == 0) {
    const char *delay = getenv("ACTOOL_TEST_INIT_DELAY_MS");
    if (delay != NULL)
      ao.test_init_delay_ms = (unsigned) strtoul(delay, NULL, 10);
    struct detached d = {.g = g, .s = s, .report = -1};
    bool done = false;
    fflush(NULL);
    if (o->detach)
      status = detach(&d, &ao, &done);
    /* EOPNOTSUPP is the library's refusal to map owners only when mapping
     * was insisted on; else it could be any system call's. */
    if (!done && appc_ace_run(s, pod, &ao, &status, &err) < 0)
      status = actool_fail_hint(&err, EOPNOTSUPP,
                                ao.private_users_ownership == APPC_ACE_OWNERSHIP_MAP
                                    ? "use --private-users-ownership=copy to copy the tree instead"
                                    : NULL);
    if (d.report >= 0)
      close(d.report);
  }
  if (pod != NULL)
    appc_pod_manifest_free(pod);
  appc_kv_list_clear(&env);
  appc_store_close(s);
  return r != 0 ? r : status;
}

const struct actool_command actool_cmd_run = {
    .name = "run",
    .summary = "Run a pod of one or more images",
    .usage = "[OPTIONS] IMAGE [--exec=PATH] [--user=U] [--group=G] [--name=NAME]\n"
             "           [--mount=volume=NAME,target=PATH]... [--set-env=K=V]... [-- ARGS...]\n"
             "           [[---] IMAGE ...]",
    .description =
        "Each IMAGE (an image ID or prefix, NAME[,LABEL=VALUE...], FILE.aci or a URL) is an app "
        "of the pod; images not in the store are fetched (an ID only the store answers).  The "
        "options after an image apply to its app (--set-env there sets a variable for that app "
        "only); ARGS after \"--\" are appended to its command; \"---\" ends them before the "
        "next image (elsewhere it may be left out: `run A B`).  The apps share PID, IPC, UTS and "
        "network namespaces; each has its own root on an overlay of the image's rendered tree.  "
        "Exit status: that of the first app that failed, else 0.  Needs root.\n"
        "See actool-run(1).",
    .options = run_option_table,
    .options_size = sizeof(struct run_options),
    .run = run_run,
    .options_end_at_first_argument = true,
};
