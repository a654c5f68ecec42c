/* SPDX-License-Identifier: Apache-2.0 */
/* An image of the store as an OCI runtime bundle (runtime-spec bundle.md):
 * rootfs/ (the image rendered with its dependencies) and config.json, which
 * tells a runtime (runc) to run the app as `actool run` would: the plan
 * comes from the executor itself (<appc/ace.h>, appc_ace_app_plan), the
 * mounts, namespaces and masked paths are those the executor sets up
 * (docs/oci.md, "Runtime bundles").
 *
 * The bundle is made in the store's tmp/ (or a hidden sibling of DIR on
 * another mount) and renamed into place only when complete, exchanged with
 * an old DIR under --overwrite. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include <sys/capability.h>

#include "appc/ace.h"
#include "common/abi.h"
#include "common/macros.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "oci/internal.h"

/* The paths runc masks and makes read-only by default. */
static const char *const masked_paths[] = {
    "/proc/acpi",          "/proc/asound",     "/proc/kcore",       "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/sys/firmware",       "/proc/scsi",
};
static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static json_object *strings(const char *const *v, size_t n)
{
  json_object *a = json_object_new_array();

  for (size_t i = 0; i < n; i++)
    json_object_array_add(a, json_object_new_string(v[i]));
  return a;
}

static json_object *string_list(char *const *v)
{
  json_object *a = json_object_new_array();

  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    json_object_array_add(a, json_object_new_string(v[i]));
  return a;
}

/* CAP_NAME of every capability in CAPS, as the runtime spec spells them. */
static json_object *capability_names(uint64_t caps)
{
  json_object *a = json_object_new_array();

  for (int v = 0; v < 64; v++) {
    if (!(caps & (UINT64_C(1) << v)))
      continue;
    char *name = cap_to_name((cap_value_t) v); /* "cap_chown": libcap's */
    if (name == NULL)
      continue;
    char upper[64];
    size_t k = 0;
    for (; name[k] != '\0' && k + 1 < sizeof upper; k++)
      upper[k] = (char) (name[k] >= 'a' && name[k] <= 'z' ? name[k] - 'a' + 'A' : name[k]);
    upper[k] = '\0';
    cap_free(name);
    json_object_array_add(a, json_object_new_string(upper));
  }
  return a;
}

/* The executor gives root the whole set; any other user none (an empty
 * permitted set after setuid) but the bounding set; nobody an inheritable
 * set (CVE-2022-24769's fix in runc and moby). */
static json_object *capabilities(const struct appc_ace_app_plan *p)
{
  json_object *c = json_object_new_object();
  uint64_t held = p->uid == 0 ? p->caps : 0;

  json_object_object_add(c, "bounding", capability_names(p->caps));
  json_object_object_add(c, "effective", capability_names(held));
  json_object_object_add(c, "permitted", capability_names(held));
  json_object_object_add(c, "inheritable", json_object_new_array());
  json_object_object_add(c, "ambient", json_object_new_array());
  return c;
}

static json_object *process(const struct appc_ace_app_plan *p)
{
  json_object *proc = json_object_new_object(), *user = json_object_new_object(),
              *gids = json_object_new_array();

  json_object_object_add(proc, "terminal", json_object_new_boolean(false));
  json_object_object_add(user, "uid", json_object_new_int64(p->uid));
  json_object_object_add(user, "gid", json_object_new_int64(p->gid));
  for (size_t i = 0; i < p->n_groups; i++)
    json_object_array_add(gids, json_object_new_int64(p->groups[i]));
  json_object_object_add(user, "additionalGids", gids);
  json_object_object_add(proc, "user", user);
  json_object_object_add(proc, "args", string_list(p->argv));
  json_object_object_add(proc, "env", string_list(p->env));
  json_object_object_add(proc, "cwd", json_object_new_string(p->cwd));
  json_object_object_add(proc, "capabilities", capabilities(p));
  json_object_object_add(proc, "noNewPrivileges", json_object_new_boolean(p->no_new_privs));
  if (p->has_oom_score_adj)
    json_object_object_add(proc, "oomScoreAdj", json_object_new_int(p->oom_score_adj));
  return proc;
}

static json_object *mount(const char *dest, const char *type, const char *source,
                          const char *const *options, size_t n)
{
  json_object *m = json_object_new_object();

  json_object_object_add(m, "destination", json_object_new_string(dest));
  json_object_object_add(m, "type", json_object_new_string(type));
  json_object_object_add(m, "source", json_object_new_string(source));
  json_object_object_add(m, "options", strings(options, n));
  return m;
}

#define MOUNT(d, t, s, ...)                                                                        \
  mount(d, t, s, (const char *const[]){__VA_ARGS__},                                               \
        sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* What the executor mounts in every app (docs/executor.md), and an empty
 * volume for each of the app's mount points. */
static json_object *mounts(const struct appc_app *app)
{
  json_object *a = json_object_new_array();

  /* read-only, as the executor mounts it for an app that is no init */
  json_object_array_add(a, MOUNT("/proc", "proc", "proc", "nosuid", "noexec", "nodev", "ro"));
  json_object_array_add(
      a, MOUNT("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"));
  json_object_array_add(a, MOUNT("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance",
                                 "ptmxmode=0666", "mode=0620"));
  json_object_array_add(a, MOUNT("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev",
                                 "mode=1777", "size=65536k"));
  json_object_array_add(a, MOUNT("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"));
  json_object_array_add(a, MOUNT("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"));
  /* the app's own cgroups (a cgroup namespace), read-only, as runc's
   * default spec and the executor have them */
  json_object_array_add(a, MOUNT("/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev",
                                 "relatime", "ro"));
  for (size_t i = 0; app != NULL && i < app->n_mount_points; i++)
    json_object_array_add(
        a, app->mount_points[i].read_only
               ? MOUNT(app->mount_points[i].path, "tmpfs", "tmpfs", "nosuid", "nodev", "mode=755",
                       "ro")
               : MOUNT(app->mount_points[i].path, "tmpfs", "tmpfs", "nosuid", "nodev", "mode=755"));
  return a;
}

static const char *seccomp_action(bool allow, int errnum)
{
  return allow ? "SCMP_ACT_ALLOW" : errnum > 0 ? "SCMP_ACT_ERRNO" : "SCMP_ACT_KILL_PROCESS";
}

/* A rule's conditions, as runtime-spec's LinuxSeccompArg. */
static json_object *seccomp_args(const struct appc_ace_syscall_arg *args)
{
  static const char *const ops[] = {
      [APPC_ACE_SYSCALL_ARG_NE] = "SCMP_CMP_NE",
      [APPC_ACE_SYSCALL_ARG_LT] = "SCMP_CMP_LT",
      [APPC_ACE_SYSCALL_ARG_LE] = "SCMP_CMP_LE",
      [APPC_ACE_SYSCALL_ARG_EQ] = "SCMP_CMP_EQ",
      [APPC_ACE_SYSCALL_ARG_GE] = "SCMP_CMP_GE",
      [APPC_ACE_SYSCALL_ARG_GT] = "SCMP_CMP_GT",
      [APPC_ACE_SYSCALL_ARG_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
  };
  json_object *a = json_object_new_array();

  for (const struct appc_ace_syscall_arg *c = args; c->op != APPC_ACE_SYSCALL_ARG_END; c++) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "index", json_object_new_int64(c->index));
    json_object_object_add(o, "value", json_object_new_uint64(c->value));
    json_object_object_add(o, "valueTwo", json_object_new_uint64(c->value_two));
    json_object_object_add(
        o, "op",
        json_object_new_string(
            (unsigned) c->op < ARRAY_SIZE(ops) && ops[c->op] != NULL ? ops[c->op] : "SCMP_CMP_EQ"));
    json_object_array_add(a, o);
  }
  return a;
}

/* The executor's filter, rule by rule; its other ABIs too (x86, x32). */
static json_object *seccomp(const struct appc_ace_app_plan *p)
{
  static const char *const arches[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  json_object *s = json_object_new_object(), *calls = json_object_new_array();

  json_object_object_add(
      s, "defaultAction",
      json_object_new_string(seccomp_action(p->seccomp_default_allow, p->seccomp_default_errno)));
  if (!p->seccomp_default_allow && p->seccomp_default_errno > 0)
    json_object_object_add(s, "defaultErrnoRet", json_object_new_int(p->seccomp_default_errno));
#if defined(__x86_64__)
  json_object_object_add(s, "architectures", strings(arches, 3));
#else
  (void) arches;
#endif
  for (size_t i = 0; i < p->n_syscall_rules; i++) {
    const struct appc_ace_syscall_rule *r = &p->syscall_rules[i];
    json_object *rule = json_object_new_object(), *names = json_object_new_array();
    json_object_array_add(names, json_object_new_string(r->name));
    json_object_object_add(rule, "names", names);
    json_object_object_add(rule, "action",
                           json_object_new_string(seccomp_action(r->allow, r->errnum)));
    if (!r->allow && r->errnum > 0)
      json_object_object_add(rule, "errnoRet", json_object_new_int(r->errnum));
    if (r->args != NULL)
      json_object_object_add(rule, "args", seccomp_args(r->args));
    json_object_array_add(calls, rule);
  }
  json_object_object_add(s, "syscalls", calls);
  return s;
}

/* runtime-spec's LinuxThrottleDevice list of every device with a limit
 * (BPS or IOPS). */
static json_object *throttle(const struct appc_ace_block_limit *b, bool iops)
{
  json_object *a = json_object_new_array();

  for (; b->major != 0 || b->minor != 0; b++) {
    int64_t rate = iops ? b->iops : b->bps;
    if (rate < 0)
      continue;
    json_object *d = json_object_new_object();
    json_object_object_add(d, "major", json_object_new_int64(b->major));
    json_object_object_add(d, "minor", json_object_new_int64(b->minor));
    json_object_object_add(d, "rate", json_object_new_int64(rate));
    json_object_array_add(a, d);
  }
  return a;
}

/* resource/block-bandwidth and block-iops: reads and writes alike. */
static json_object *block_io(const struct appc_ace_block_limit *b)
{
  static const char *const keys[2][2] = {{"throttleReadBpsDevice", "throttleWriteBpsDevice"},
                                         {"throttleReadIOPSDevice", "throttleWriteIOPSDevice"}};
  json_object *io = json_object_new_object();

  for (int iops = 0; iops < 2; iops++) {
    json_object *read = throttle(b, iops), *write = throttle(b, iops);
    if (json_object_array_length(read) == 0) {
      json_object_put(read);
      json_object_put(write);
      continue;
    }
    json_object_object_add(io, keys[iops][0], read);
    json_object_object_add(io, keys[iops][1], write);
  }
  return io;
}

static json_object *resources(const struct appc_ace_app_plan *p)
{
  json_object *r = json_object_new_object(), *dev = json_object_new_object(),
              *devices = json_object_new_array();

  json_object_object_add(dev, "allow", json_object_new_boolean(false));
  json_object_object_add(dev, "access", json_object_new_string("rwm"));
  json_object_array_add(devices, dev);
  json_object_object_add(r, "devices", devices);
  if (p->memory_limit >= 0 || p->memory_request >= 0) {
    json_object *m = json_object_new_object();
    if (p->memory_limit >= 0)
      json_object_object_add(m, "limit", json_object_new_int64(p->memory_limit));
    if (p->memory_request >= 0)
      json_object_object_add(m, "reservation", json_object_new_int64(p->memory_request));
    json_object_object_add(r, "memory", m);
  }
  if (p->block_limits != NULL)
    json_object_object_add(r, "blockIO", block_io(p->block_limits));
  if (p->cpu_quota >= 0 || p->cpu_shares >= 0) {
    json_object *c = json_object_new_object();
    if (p->cpu_quota >= 0) {
      json_object_object_add(c, "quota", json_object_new_int64(p->cpu_quota));
      json_object_object_add(c, "period", json_object_new_int64(p->cpu_period));
    }
    if (p->cpu_shares >= 0)
      json_object_object_add(c, "shares", json_object_new_int64(p->cpu_shares));
    json_object_object_add(r, "cpu", c);
  }
  return r;
}

static json_object *linux_section(const struct appc_ace_app_plan *p)
{
  static const char *const kinds[] = {"pid", "network", "ipc", "uts", "mount", "cgroup"};
  json_object *l = json_object_new_object(), *ns = json_object_new_array();

  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    json_object *n = json_object_new_object();
    json_object_object_add(n, "type", json_object_new_string(kinds[i]));
    json_object_array_add(ns, n);
  }
  json_object_object_add(l, "namespaces", ns);
  json_object_object_add(l, "resources", resources(p));
  if (p->seccomp)
    json_object_object_add(l, "seccomp", seccomp(p));
  json_object_object_add(l, "maskedPaths",
                         strings(masked_paths, sizeof masked_paths / sizeof masked_paths[0]));
  json_object_object_add(l, "readonlyPaths",
                         strings(readonly_paths, sizeof readonly_paths / sizeof readonly_paths[0]));
  return l;
}

static char *config_json(const struct appc_ace_app_plan *p, const struct appc_app *app)
{
  json_object *c = json_object_new_object(), *root = json_object_new_object();

  /* 1.1.0: linux.seccomp.defaultErrnoRet, which a retain set's errno needs */
  json_object_object_add(c, "ociVersion", json_object_new_string("1.1.0"));
  json_object_object_add(c, "process", process(p));
  json_object_object_add(root, "path", json_object_new_string("rootfs"));
  json_object_object_add(root, "readonly", json_object_new_boolean(false));
  json_object_object_add(c, "root", root);
  json_object_object_add(c, "hostname", json_object_new_string(p->hostname));
  json_object_object_add(c, "mounts", mounts(app));
  json_object_object_add(c, "linux", linux_section(p));
  const char *t = json_object_to_json_string_ext(
      c, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
  char *out = t != NULL ? strdup(t) : NULL;
  json_object_put(c);
  return out;
}

/* Render into TMP/rootfs and write TMP/config.json. */
static int fill(struct appc_store *s, const char *id, const char *tmp,
                const struct appc_oci_bundle_options *o, appc_error_t *err)
{
  struct appc_store_render_options ro = {.flags = APPC_STORE_ROOTFS_ONLY, .cb = o->cb};
  struct appc_ace_plan_options po = {.version = APPC_ACE_PLAN_OPTIONS_VERSION, .env = o->env};
  struct appc_ace_app_plan plan = {0};
  struct appc_image_manifest *m = NULL;
  cleanup_free char *rootfs = NULL;
  cleanup_free char *config = NULL;
  cleanup_free char *text = NULL;
  int r = -1;

  if (o->version >= 2) {
    po.allow_caps = o->allow_caps;
    po.n_allow_caps = o->n_allow_caps;
  }
  if (asprintf(&rootfs, "%s/rootfs", tmp) < 0 || asprintf(&config, "%s/config.json", tmp) < 0)
    return appc_error_make(err, ENOMEM, "%s", tmp);
  if (appc_store_render(s, id, rootfs, &ro, err) < 0 ||
      appc_store_load_manifest(s, id, &m, err) < 0 ||
      appc_ace_app_plan_with(s, id, rootfs, &po, &plan, err) < 0 ||
      appc_ace_provide_etc(rootfs, plan.hostname, err) < 0)
    goto done;
  if ((text = config_json(&plan, m->app)) == NULL) {
    appc_error_make(err, ENOMEM, "%s", config);
    goto done;
  }
  r = appc_atomic_write_at(AT_FDCWD, config, text, strlen(text), 0644, APPC_WRITE_DURABLE, err);
done:
  appc_ace_app_plan_clear(&plan);
  appc_image_manifest_free(m);
  return r;
}

/* A temporary directory for DIR: in the store's tmp/ when DIR's parent is
 * on the same mount (rename works from there, and a process killed
 * half-way leaves its debris where `gc` removes it, as a render does), else
 * a hidden sibling of DIR. */
static int make_temp(struct appc_store *s, const char *dir, char **tmp, appc_error_t *err)
{
  cleanup_free char *copy = strdup(dir);
  cleanup_free char *copy2 = strdup(dir);

  if (copy == NULL || copy2 == NULL)
    return appc_error_make(err, ENOMEM, "%s", dir);
  const char *parent = dirname(copy);
  cleanup_close int parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent_fd < 0)
    return appc_error_make(err, errno, "%s: cannot open the parent directory", dir);
  cleanup_close int tmp_fd = appc_store_area_open(s, APPC_STORE_AREA_TMP, true, err);
  if (tmp_fd < 0)
    return -1;
  if (appc_same_mount(tmp_fd, parent_fd)) {
    if (appc_store_tmpdir(s, "bundle", tmp, err) < 0)
      return -1;
  } else {
    cleanup_free char *prefix = NULL;
    if (asprintf(&prefix, ".%s.bundle", basename(copy2)) < 0)
      return appc_error_make(err, ENOMEM, "%s", dir);
    if ((*tmp = appc_mkdtemp(parent, prefix, NULL)) == NULL)
      return appc_error_make(err, errno, "%s: a temporary directory beside it", dir);
  }
  (void) chmod(*tmp, 0755);
  return 0;
}

static void remove_path(const char *path)
{
  cleanup_free char *copy = strdup(path);
  cleanup_free char *copy2 = strdup(path);
  appc_error_t ignored = NULL;

  if (copy == NULL || copy2 == NULL)
    return;
  cleanup_close int parent = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent >= 0)
    (void) appc_remove_tree(parent, basename(copy2), &ignored);
  appc_error_release(&ignored);
}

int appc_oci_bundle(struct appc_store *s, const char *id, const char *dir,
                    const struct appc_oci_bundle_options *opts, appc_error_t *err)
{
  static const struct appc_oci_bundle_options defaults;
  cleanup_free char *tmp = NULL;
  struct stat st;
  int r;

  static const struct appc_abi_member members[] = {
      APPC_ABI_MEMBER(appc_oci_bundle_options, allow_caps, 2),
      APPC_ABI_MEMBER(appc_oci_bundle_options, n_allow_caps, 2),
  };
  if (APPC_ABI_CHECK_MEMBERS(opts, appc_oci_bundle_options, APPC_OCI_BUNDLE_OPTIONS_VERSION,
                             members, err) < 0)
    return -1;
  if (opts == NULL)
    opts = &defaults;
  if (appc_store_check_dest(s, dir, err) < 0)
    return -1;
  bool exists = lstat(dir, &st) == 0;
  if (exists && !opts->overwrite)
    return appc_error_tag(err, EEXIST, "%s: already exists", dir);
  /* shared, so that a gc waits for the temporary directory to be renamed */
  if (appc_store_lock(s, false, err) < 0)
    return -1;
  if (make_temp(s, dir, &tmp, err) < 0) {
    appc_store_unlock(s);
    return -1;
  }
  r = fill(s, id, tmp, opts, err);
  if (r == 0 && !exists && renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE) < 0)
    r = errno == EEXIST && !opts->overwrite /* made meanwhile */
            ? appc_error_tag(err, EEXIST, "%s: already exists", dir)
            : appc_error_make(err, errno, "%s", dir);
  else if (r == 0 && exists && renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) < 0)
    r = appc_error_make(err, errno, "%s", dir);
  remove_path(tmp); /* what failed, or the old DIR it was exchanged with */
  appc_store_unlock(s);
  return r;
}
