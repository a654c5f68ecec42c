/* SPDX-License-Identifier: Apache-2.0 */
/* resource/memory and resource/cpu with cgroups (ace.md "Resource
 * Isolators").
 *
 * The layout is ROOT/.../actool/UUID/APP in every hierarchy that holds one
 * of the controllers actool uses (controller_names): the unified (v2) one when the controllers are
 * there, else their v1 hierarchies (hybrid hosts mount an empty cgroup2 at
 * ROOT/unified next to v1 controllers).  Processes only ever live in the APP
 * leaves, which is what v2's "no internal processes" rule asks, or, for a
 * pod of one app (ace_cgroup_single), in actool/UUID itself, which then
 * delegates nothing further. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/sched.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#include "ace/internal.h"
#include "appc/ace.h"
#include "common/error.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "appc/isolator.h"
#include "appc/types.h"
#include "common/macros.h"

#define CG_MEMORY 1u
#define CG_CPU 2u
#define CG_PIDS 4u
#define CG_BLKIO 8u /* v2: io */
#define CG_DEVICES 16u
#define CG_FREEZER 32u
#define CG_CPUACCT 64u
/* No controller: a hierarchy that only tracks processes (v1's
 * name=systemd, a hybrid host's empty cgroup2), where the apps are placed
 * all the same so that their cgroup namespace roots are their own there
 * too: an init system (systemd) makes its cgroups beneath. */
#define CG_TRACK 128u
#define CG_MAX_HIER 10 /* each controller in its own v1 hierarchy, and the two above */
/* The pod's pids.max: appc has no isolator for it, so a default bounds a
 * fork bomb to the pod (docs/executor.md). */
#define PIDS_LIMIT 4096
#define CFS_PERIOD 100000  /* microseconds, the kernel's default */
#define CFS_MIN_QUOTA 1000 /* the kernel refuses less than 1 ms */
#define KILL_TIMEOUT_MS 5000

struct cg_hier {
  char *mount; /* where the hierarchy is mounted */
  bool v2;
  unsigned ctrl; /* CG_MEMORY | CG_CPU used from it */
};

struct cg_layout {
  struct cg_hier h[CG_MAX_HIER];
  size_t n;
};

struct ace_cgroup {
  struct cg_layout layout;
  char *pod[CG_MAX_HIER]; /* MOUNT/actool/UUID */
  char **apps;            /* app names */
  size_t n_apps;
  bool single; /* the one app lives in the pod's directory (ace_cgroup_single) */
  struct ace_device_rule *dev_rules; /* while creating: what the pod may open */
  size_t n_dev_rules;
};

static void layout_clear(struct cg_layout *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->h[i].mount);
  l->n = 0;
}

/* ---- small file helpers ------------------------------------------------- */

/* OUT = A/B; false when it does not fit (never a truncated path). */
static bool join(char out[PATH_MAX], const char *a, const char *b)
{
  int n = snprintf(out, PATH_MAX, "%s/%s", a, b);
  if (n < 0 || n >= PATH_MAX) {
    out[0] = '\0';
    return false;
  }
  return true;
}

/* App APP's directory in hierarchy H: its own beneath the pod's, or the
 * pod's itself for a single app. */
static bool app_dir(char out[PATH_MAX], const struct ace_cgroup *cg, size_t h, size_t app)
{
  if (!cg->single)
    return join(out, cg->pod[h], cg->apps[app]);
  snprintf(out, PATH_MAX, "%s", cg->pod[h]); /* shorter than the app's would be */
  return true;
}

static int write_file(const char *dir, const char *file, const char *value, appc_error_t *err)
{
  char path[PATH_MAX];
  size_t len = strlen(value);

  if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int) sizeof path)
    return appc_error_make(err, ENAMETOOLONG, "%s/%s", dir, file);
  cleanup_close int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0)
    return appc_error_make(err, errno, "cannot open %s", path);
  ssize_t n = write(fd, value, len);
  if (n < 0 || (size_t) n != len)
    return appc_error_make(err, n < 0 ? errno : EIO, "cannot write \"%s\" to %s", value, path);
  return 0;
}

static int write_int(const char *dir, const char *file, int64_t v, appc_error_t *err)
{
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, v);
  return write_file(dir, file, buf, err);
}

static bool file_exists(const char *dir, const char *file)
{
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int) sizeof path)
    return false;
  return access(path, F_OK) == 0;
}

/* The whole of a small file (control files, /proc files), or NULL. */
static char *read_small(const char *path)
{
  cleanup_fclose FILE *f = fopen(path, "re");
  char *buf = NULL;
  size_t cap = 0;

  if (f == NULL)
    return NULL;
  ssize_t n = getdelim(&buf, &cap, '\0', f);
  if (n < 0) {
    free(buf);
    return ferror(f) ? NULL : strdup("");
  }
  return buf;
}

static bool has_word(const char *list, const char *word, const char *seps)
{
  size_t wl = strlen(word);
  for (const char *p = list; *p != '\0';) {
    size_t n = strcspn(p, seps);
    if (n == wl && strncmp(p, word, n) == 0)
      return true;
    p += n;
    p += strspn(p, seps);
  }
  return false;
}

/* The controllers actool places apps in, by their v1 and v2 names. */
static const struct {
  const char *name;
  unsigned bit;
} controller_names[] = {
    {"memory", CG_MEMORY},   {"cpu", CG_CPU},         {"pids", CG_PIDS},
    {"blkio", CG_BLKIO},     {"io", CG_BLKIO},        {"devices", CG_DEVICES},
    {"freezer", CG_FREEZER}, {"cpuacct", CG_CPUACCT},
};

static unsigned controllers_in(const char *list, const char *seps)
{
  unsigned got = 0;
  for (size_t i = 0; i < ARRAY_SIZE(controller_names); i++) {
    if (has_word(list, controller_names[i].name, seps))
      got |= controller_names[i].bit;
  }
  return got;
}

/* ---- layout detection --------------------------------------------------- */

static int layout_add(struct cg_layout *l, const char *mount, bool v2, unsigned ctrl)
{
  if (ctrl == 0 || l->n == CG_MAX_HIER)
    return 0;
  char *m = strdup(mount);
  if (m == NULL)
    return -1;
  l->h[l->n++] = (struct cg_hier){m, v2, ctrl};
  return 0;
}

/* Controllers a v2 hierarchy at MOUNT offers (its cgroup.controllers). */
static unsigned v2_controllers(const char *mount)
{
  char path[PATH_MAX];
  cleanup_free char *list = join(path, mount, "cgroup.controllers") ? read_small(path) : NULL;
  return list != NULL ? controllers_in(list, " \n") : 0;
}

/* Controllers the kernel has and enables (/proc/cgroups); all when the file
 * is missing (a kernel without v1 support). */
static unsigned kernel_controllers(void)
{
  cleanup_fclose FILE *f = fopen("/proc/cgroups", "re");
  char name[64];
  int hier, num, enabled;
  unsigned got = 0;

  if (f == NULL)
    return ~0u;
  fscanf(f, "%*[^\n]\n"); /* header */
  while (fscanf(f, "%63s %d %d %d\n", name, &hier, &num, &enabled) == 4) {
    if (enabled)
      got |= controllers_in(name, "");
  }
  return got;
}

/* MOUNT is a direct child of ROOT (ROOT/memory, ROOT/unified, ...). */
static bool under_root(const char *root, const char *mount)
{
  size_t rl = strlen(root);
  return strncmp(mount, root, rl) == 0 && mount[rl] == '/' && mount[rl + 1] != '\0' &&
         strchr(mount + rl + 1, '/') == NULL;
}

/* Mount points as /proc/self/mountinfo gives them (under ROOT, short):
 * kept small, as a pod's start reads them (each page zeroed is a fault). */
#define CG_MOUNT_MAX 256
struct mount_scan {
  char v2_mount[CG_MOUNT_MAX]; /* "" when none */
  char v1_mount[CG_MAX_HIER][CG_MOUNT_MAX];
  unsigned v1_ctrl[CG_MAX_HIER];
  size_t n_v1;
};

/* One /proc/self/mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNT OPTS [TAGS] -
 * FSTYPE SOURCE SUPEROPTS".  Mount points with escapes (\040) are not ours. */
static void scan_line(const char *root, char *line, struct mount_scan *s)
{
  char *fields[5], *save = NULL, *tok = strtok_r(line, " \n", &save);
  size_t n = 0;

  for (; tok != NULL && n < 5; tok = strtok_r(NULL, " \n", &save))
    fields[n++] = tok;
  while (tok != NULL && strcmp(tok, "-") != 0)
    tok = strtok_r(NULL, " \n", &save);
  char *fstype = strtok_r(NULL, " \n", &save);
  char *source = strtok_r(NULL, " \n", &save);
  char *superopts = strtok_r(NULL, " \n", &save);
  if (n < 5 || fstype == NULL || source == NULL || superopts == NULL ||
      !under_root(root, fields[4]) || strlen(fields[4]) >= CG_MOUNT_MAX)
    return;
  if (strcmp(fstype, "cgroup2") == 0 && s->v2_mount[0] == '\0')
    snprintf(s->v2_mount, sizeof s->v2_mount, "%s", fields[4]);
  unsigned ctrl = strcmp(fstype, "cgroup") == 0 ? controllers_in(superopts, ",") : 0;
  if (strcmp(fstype, "cgroup") == 0 && has_word(superopts, "name=systemd", ","))
    ctrl |= CG_TRACK;
  for (size_t k = 0; k < s->n_v1; k++)
    ctrl &= ~s->v1_ctrl[k]; /* the same hierarchy mounted twice */
  if (ctrl != 0 && s->n_v1 < CG_MAX_HIER) {
    snprintf(s->v1_mount[s->n_v1], CG_MOUNT_MAX, "%s", fields[4]);
    s->v1_ctrl[s->n_v1++] = ctrl;
  }
}

static int scan_mounts(const char *root, struct mount_scan *s, appc_error_t *err)
{
  cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;

  memset(s, 0, sizeof *s);
  if (f == NULL)
    return appc_error_make(err, errno, "cannot read /proc/self/mountinfo");
  while (getline(&line, &cap, f) > 0)
    scan_line(root, line, s);
  return 0;
}

/* Where the memory and cpu controllers are under ROOT.  A controller is in
 * exactly one hierarchy: a v2 one lists it in cgroup.controllers only when
 * no v1 hierarchy has it. */
static int detect_layout(const char *root, struct cg_layout *l, appc_error_t *err)
{
  struct statfs sf;
  struct mount_scan *s = NULL;
  unsigned want = kernel_controllers() | CG_TRACK, v2 = 0;
  int r = 0;

  l->n = 0;
  /* Pure v2: "devices" there means a BPF program (always possible). */
  if (statfs(root, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
    return layout_add(l, root, true, (v2_controllers(root) & want) | CG_DEVICES) < 0
               ? appc_error_make(err, ENOMEM, "cgroups")
               : 0;
  s = malloc(sizeof *s);
  if (s == NULL)
    return appc_error_make(err, errno, "cgroups");
  if (scan_mounts(root, s, err) < 0) {
    free(s);
    return -1;
  }
  /* No cgroup mount under ROOT but laid out like a v2 hierarchy: a test
   * tree (the kernel's own behaviour is tested on the real one). */
  if (s->v2_mount[0] == '\0' && s->n_v1 == 0 && file_exists(root, "cgroup.controllers"))
    snprintf(s->v2_mount, sizeof s->v2_mount, "%s", root);
  if (s->v2_mount[0] != '\0')
    v2 = v2_controllers(s->v2_mount) & want;
  if (s->v2_mount[0] != '\0' && v2 == 0 && strcmp(s->v2_mount, root) != 0)
    v2 = CG_TRACK; /* a hybrid host's empty cgroup2 */
  r = layout_add(l, s->v2_mount, true, v2);
  for (size_t k = 0; r == 0 && k < s->n_v1; k++)
    r = layout_add(l, s->v1_mount[k], false, s->v1_ctrl[k] & want & ~(v2 & ~CG_TRACK));
  free(s);
  if (r < 0) {
    layout_clear(l);
    return appc_error_make(err, ENOMEM, "cgroups");
  }
  return 0;
}

/* ---- names ------------------------------------------------------------------- */

/* UUID and app names become path components. */
static int check_component(const char *what, const char *s, const char *allowed, appc_error_t *err)
{
  if (*s == '\0' || strspn(s, allowed) != strlen(s))
    return appc_error_make(err, 0, "%s \"%s\" cannot name a cgroup", what, s);
  return 0;
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"

/* ---- create -------------------------------------------------------------------- */

static int make_dir(const char *path, appc_error_t *err)
{
  struct stat st;

  if (mkdir(path, 0755) == 0)
    return 0;
  if (errno != EEXIST)
    return appc_error_make(err, errno, "cannot create cgroup %s", path);
  /* v1 hierarchies hold a control file "tasks", a valid app name. */
  if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
    return appc_error_make(err, EEXIST, "cannot create cgroup %s (a control file has that name)",
                           path);
  return 0;
}

/* v2: let DIR's children use the controllers (cgroup.subtree_control). */
static int v2_delegate(const char *dir, unsigned ctrl, appc_error_t *err)
{
  /* Only these are v2 controllers (the freezer is cgroup.freeze, devices a
   * BPF program). */
  static const struct {
    unsigned bit;
    const char *add;
  } v2[] = {{CG_MEMORY, "+memory"}, {CG_CPU, "+cpu"}, {CG_PIDS, "+pids"}, {CG_BLKIO, "+io"}};
  cleanup_free char *cur = NULL;
  char path[PATH_MAX], text[64] = "";

  ctrl &= CG_MEMORY | CG_CPU | CG_PIDS | CG_BLKIO;
  for (size_t i = 0; i < ARRAY_SIZE(v2); i++) {
    if (ctrl & v2[i].bit)
      snprintf(text + strlen(text), sizeof text - strlen(text), "%s%s", text[0] ? " " : "",
               v2[i].add);
  }

  cur = join(path, dir, "cgroup.subtree_control") ? read_small(path) : NULL;
  if (cur != NULL && (controllers_in(cur, " \n") & ctrl) == ctrl)
    return 0; /* already: the root's may not be writable in a container */
  if (write_file(dir, "cgroup.subtree_control", text, err) < 0)
    return appc_error_prefix(err, "cannot enable the %s controllers for cgroup %s", text, dir);
  return 0;
}

/* v1 devices controller: the pod may open only the nodes of the app's /dev
 * (ace/device.c's rules) and those given with --device.  Set on the pod
 * before its apps' cgroups exist, which inherit it. */
static int v1_devices(const struct ace_cgroup *cg, const char *pod, appc_error_t *err)
{
  char rule[ACE_DEV_RULE_MAX], path[PATH_MAX];
  cleanup_close int allow = -1;

  if (write_file(pod, "devices.deny", "a", err) < 0)
    return -1;
  if (!join(path, pod, "devices.allow"))
    return appc_error_make(err, ENAMETOOLONG, "%s/devices.allow", pod);
  if ((allow = open(path, O_WRONLY | O_CLOEXEC)) < 0)
    return appc_error_make(err, errno, "cannot open %s", path);
  /* A rule a write. */
  for (size_t i = 0; i < cg->n_dev_rules; i++) {
    ace_device_rule_format(&cg->dev_rules[i], rule);
    size_t len = strlen(rule);
    if (write(allow, rule, len) != (ssize_t) len)
      return appc_error_make(err, errno, "cannot write \"%s\" to %s", rule, path);
  }
  return 0;
}

/* v2: the same rules as a BPF program on the pod's cgroup, which its apps'
 * cgroups are beneath. */
static int v2_devices(const struct ace_cgroup *cg, const char *pod, appc_error_t *err)
{
  cleanup_close int dir = open(pod, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int prog = -1;

  if (dir < 0)
    return appc_error_make(err, errno, "cannot open cgroup %s", pod);
  if ((prog = ace_device_bpf_load(cg->dev_rules, cg->n_dev_rules, err)) < 0 ||
      ace_device_bpf_attach(prog, dir, err) < 0)
    return appc_error_prefix(err, "cgroup %s", pod);
  return 0;
}

/* The pod's directory, beneath the actool/ all pods share (made, and on
 * v2 delegated, as needed). */
static int make_pod_dir(const struct ace_cgroup *cg, size_t h, appc_error_t *err)
{
  const struct cg_hier *hier = &cg->layout.h[h];
  char path[PATH_MAX];

  /* v1 needs no delegation: once actool/ exists, one mkdir. */
  if (!hier->v2 && mkdir(cg->pod[h], 0755) == 0)
    return 0;
  if (!join(path, hier->mount, "actool"))
    return appc_error_make(err, ENAMETOOLONG, "cgroup %s/actool", hier->mount);
  if ((hier->v2 && v2_delegate(hier->mount, hier->ctrl, err) < 0) || make_dir(path, err) < 0 ||
      (hier->v2 && v2_delegate(path, hier->ctrl, err) < 0))
    return -1;
  /* A single app's processes live in the pod's directory itself, which v2
   * then cannot delegate controllers from ("no internal processes"). */
  if (make_dir(cg->pod[h], err) < 0 ||
      (hier->v2 && !cg->single && v2_delegate(cg->pod[h], hier->ctrl, err) < 0))
    return -1;
  return 0;
}

static int create_in(struct ace_cgroup *cg, size_t h, appc_error_t *err)
{
  const struct cg_hier *hier = &cg->layout.h[h];
  char path[PATH_MAX];

  if (make_pod_dir(cg, h, err) < 0)
    return -1;
  if ((hier->ctrl & CG_PIDS) && file_exists(cg->pod[h], "pids.max") &&
      write_int(cg->pod[h], "pids.max", PIDS_LIMIT, err) < 0)
    return -1;
  if (!hier->v2 && (hier->ctrl & CG_DEVICES) && file_exists(cg->pod[h], "devices.deny") &&
      v1_devices(cg, cg->pod[h], err) < 0)
    return -1;
  if (hier->v2 && (hier->ctrl & CG_DEVICES) && v2_devices(cg, cg->pod[h], err) < 0)
    return -1;
  for (size_t a = 0; !cg->single && a < cg->n_apps; a++) {
    if (!join(path, cg->pod[h], cg->apps[a]))
      return appc_error_make(err, ENAMETOOLONG, "cgroup %s/%s", cg->pod[h], cg->apps[a]);
    if (make_dir(path, err) < 0)
      return -1;
  }
  return 0;
}

static struct ace_cgroup *cgroup_alloc(const char *const *apps, size_t n_apps)
{
  struct ace_cgroup *cg = calloc(1, sizeof *cg);

  if (cg == NULL)
    return NULL;
  cg->apps = calloc(n_apps + 1, sizeof *cg->apps);
  if (cg->apps == NULL) {
    ace_cgroup_free(cg);
    return NULL;
  }
  for (; cg->n_apps < n_apps; cg->n_apps++) {
    if ((cg->apps[cg->n_apps] = strdup(apps[cg->n_apps])) == NULL) {
      ace_cgroup_free(cg);
      return NULL;
    }
  }
  return cg;
}

/* The hierarchies and the pod's directory in each. */
static int plan_paths(struct ace_cgroup *cg, const char *root, const char *uuid, appc_error_t *err)
{
  if (detect_layout(root != NULL ? root : "/sys/fs/cgroup", &cg->layout, err) < 0)
    return -1;
  for (size_t h = 0; h < cg->layout.n; h++)
    if (asprintf(&cg->pod[h], "%s/actool/%s", cg->layout.h[h].mount, uuid) < 0) {
      cg->pod[h] = NULL;
      return appc_error_make(err, ENOMEM, "cgroups");
    }
  return 0;
}

int ace_cgroup_plan(const char *root, const char *uuid, const char *const *apps, size_t n_apps,
                    struct ace_cgroup **out, appc_error_t *err)
{
  struct ace_cgroup *cg;

  if (check_component("pod UUID", uuid, LOWER_DIGITS "-", err) < 0)
    return -1;
  for (size_t a = 0; a < n_apps; a++) {
    if (check_component("app name", apps[a], LOWER_DIGITS "-", err) < 0)
      return -1;
  }
  if ((cg = cgroup_alloc(apps, n_apps)) == NULL)
    return appc_error_make(err, ENOMEM, "cgroups");
  if (plan_paths(cg, root, uuid, err) < 0) {
    ace_cgroup_free(cg);
    return -1;
  }
  *out = cg;
  return 0;
}

/* Whether an isolator of L sets a cgroup's files (ace_cgroup_apply). */
static bool sets_cgroup_files(const struct appc_isolator_list *l)
{
  for (size_t i = 0; i < l->len; i++)
    switch (l->items[i].kind) {
    case APPC_ISOLATOR_RESOURCE_MEMORY:
    case APPC_ISOLATOR_RESOURCE_CPU:
    case APPC_ISOLATOR_CPU_SHARES:
    case APPC_ISOLATOR_RESOURCE_BLOCK_BANDWIDTH:
    case APPC_ISOLATOR_RESOURCE_BLOCK_IOPS:
      return true;
    default:
      break;
    }
  return false;
}

bool ace_cgroup_single(struct ace_cgroup *cg, const struct appc_isolator_list *pod_isolators)
{
  cg->single = cg->n_apps == 1 && !sets_cgroup_files(pod_isolators);
  return cg->single;
}

int ace_cgroup_make(struct ace_cgroup *cg, const struct ace_device *devices, size_t n_devices,
                    appc_error_t *err)
{
  int r = 0;

  if ((cg->n_dev_rules = ace_device_rules(devices, n_devices, &cg->dev_rules)) == 0)
    return appc_error_make(err, ENOMEM, "cgroups");
  for (size_t h = 0; r == 0 && h < cg->layout.n; h++)
    r = create_in(cg, h, err);
  free(cg->dev_rules);
  cg->dev_rules = NULL;
  cg->n_dev_rules = 0;
  return r;
}

int ace_cgroup_create(const char *root, const char *uuid, const char *const *apps, size_t n_apps,
                      const struct ace_device *devices, size_t n_devices, struct ace_cgroup **out,
                      appc_error_t *err)
{
  struct ace_cgroup *cg = NULL;

  if (ace_cgroup_plan(root, uuid, apps, n_apps, &cg, err) < 0)
    return -1;
  if (ace_cgroup_make(cg, devices, n_devices, err) < 0) {
    /* Undo what exists: nothing runs in it yet. */
    ace_cgroup_destroy(cg, NULL);
    return -1;
  }
  *out = cg;
  return 0;
}

/* ---- apply -------------------------------------------------------------------- */

struct target {
  struct ace_cgroup *cg;
  long app;        /* -1: the pod */
  const char *who; /* "pod" or "app NAME" for notes and errors */
  const struct ace_notes *notes;
};

static const struct cg_hier *hier_of(const struct ace_cgroup *cg, unsigned ctrl, size_t *h)
{
  for (size_t i = 0; i < cg->layout.n; i++) {
    if (cg->layout.h[i].ctrl & ctrl) {
      *h = i;
      return &cg->layout.h[i];
    }
  }
  return NULL;
}

/* The directory of the target in hierarchy H, into BUF. */
static const char *target_dir(const struct target *t, size_t h, char buf[PATH_MAX])
{
  if (t->app < 0)
    return t->cg->pod[h];
  app_dir(buf, t->cg, h, (size_t) t->app); /* fitted when created */
  return buf;
}

static int memory_limit(const char *dir, bool v2, int64_t bytes, appc_error_t *err)
{
  if (v2)
    return write_int(dir, "memory.max", bytes, err) < 0 ||
                   (file_exists(dir, "memory.swap.max") &&
                    write_int(dir, "memory.swap.max", 0, err) < 0)
               ? -1
               : 0;
  /* memsw (memory + swap) must stay >= the limit at every step; with it
   * equal to the limit a hog cannot escape into swap. */
  bool memsw = file_exists(dir, "memory.memsw.limit_in_bytes");
  if ((memsw && write_int(dir, "memory.memsw.limit_in_bytes", -1, err) < 0) ||
      write_int(dir, "memory.limit_in_bytes", bytes, err) < 0 ||
      (memsw && write_int(dir, "memory.memsw.limit_in_bytes", bytes, err) < 0))
    return -1;
  return 0;
}

/* resource/memory's limit and request in bytes (-1: none). */
static int memory_values(const struct appc_isolator *iso, const char *who, size_t i, int64_t *limit,
                         int64_t *request, appc_error_t *err)
{
  *limit = *request = -1;
  if ((iso->limit != NULL && appc_quantity_value(iso->limit, 0, limit, err) < 0) ||
      (iso->request != NULL && appc_quantity_value(iso->request, 0, request, err) < 0))
    return appc_error_prefix(err, "%s: isolators[%zu] (resource/memory)", who, i);
  if (*limit == 0)
    return appc_error_make(err, 0, "%s: isolators[%zu].value.limit: a memory limit of 0 bytes", who,
                           i);
  return 0;
}

static int apply_memory(const struct target *t, const struct appc_isolator *iso, size_t i,
                        appc_error_t *err)
{
  size_t h = 0;
  const struct cg_hier *hier = hier_of(t->cg, CG_MEMORY, &h);
  char buf[PATH_MAX];
  const char *dir;
  int64_t limit = -1, request = -1;

  if (memory_values(iso, t->who, i, &limit, &request, err) < 0)
    return -1;
  if (hier == NULL) {
    ace_note(t->notes, ACE_NOTE_WARN,
             "%s: isolator resource/memory ignored: no memory cgroup controller on this host",
             t->who);
    return 0;
  }
  dir = target_dir(t, h, buf);
  if ((limit > 0 && memory_limit(dir, hier->v2, limit, err) < 0) ||
      (request >= 0 &&
       write_int(dir, hier->v2 ? "memory.low" : "memory.soft_limit_in_bytes", request, err) < 0))
    return appc_error_prefix(err, "%s: isolators[%zu] (resource/memory)", t->who, i);
  ace_note(t->notes, ACE_NOTE_INFO,
           "%s: isolator resource/memory enforced: limit %" PRId64 " bytes, request %" PRId64
           " bytes (-1: none)",
           t->who, limit, request);
  return 0;
}

static int64_t v1_quota(const char *dir)
{
  char path[PATH_MAX];
  cleanup_free char *text = join(path, dir, "cpu.cfs_quota_us") ? read_small(path) : NULL;
  return text != NULL ? strtoll(text, NULL, 10) : -1;
}

/* v1 refuses a child quota above its parent's (v2 does not and takes the
 * smaller one): cap an app's at the pod's, and the apps' at a new pod's. */
static int v1_cpu_quota(const struct target *t, size_t h, const char *dir, int64_t quota,
                        appc_error_t *err)
{
  char app[PATH_MAX];

  if (t->app >= 0) {
    int64_t pod = v1_quota(t->cg->pod[h]);
    if (pod >= 0 && quota > pod)
      quota = pod;
  } else {
    for (size_t a = 0; a < t->cg->n_apps; a++) {
      if (!join(app, dir, t->cg->apps[a]))
        return appc_error_make(err, ENAMETOOLONG, "cgroup %s/%s", dir, t->cg->apps[a]);
      int64_t q = v1_quota(app);
      if (q > quota && write_int(app, "cpu.cfs_quota_us", quota, err) < 0)
        return -1;
    }
  }
  if (write_int(dir, "cpu.cfs_period_us", CFS_PERIOD, err) < 0 ||
      write_int(dir, "cpu.cfs_quota_us", quota, err) < 0)
    return -1;
  return 0;
}

/* resource/cpu's request (and os/linux/cpu-shares) as v1 shares, or their
 * v2 weight mapped as runc does. */
static int64_t shares_in_range(int64_t shares)
{
  return shares < 2 ? 2 : shares > 262144 ? 262144 : shares;
}

/* The shares of a request of MILLICORES (1024 a CPU), in range: a request
 * past the most is the most, before a product could overflow. */
static int64_t shares_of_request(int64_t millicores)
{
  return millicores > 256000 ? 262144 : shares_in_range(millicores * 1024 / 1000);
}

/* LIMIT millicores of CPU time per period of CFS_PERIOD microseconds, at
 * least what the kernel accepts. */
static int64_t cpu_quota_of(int64_t limit)
{
  int64_t quota = limit * (CFS_PERIOD / 1000);

  return quota < CFS_MIN_QUOTA ? CFS_MIN_QUOTA : quota;
}

static int cpu_shares(const char *dir, bool v2, int64_t shares, appc_error_t *err)
{
  shares = shares_in_range(shares);
  if (!v2)
    return write_int(dir, "cpu.shares", shares, err);
  return write_int(dir, "cpu.weight", 1 + ((shares - 2) * 9999) / 262142, err);
}

static int apply_cpu(const struct target *t, const struct appc_isolator *iso, size_t i,
                     appc_error_t *err)
{
  size_t h = 0;
  const struct cg_hier *hier = hier_of(t->cg, CG_CPU, &h);
  char buf[PATH_MAX], text[64];
  const char *dir;
  int64_t limit = -1, request = -1;

  if ((iso->limit != NULL && appc_quantity_value(iso->limit, 3, &limit, err) < 0) ||
      (iso->request != NULL && appc_quantity_value(iso->request, 3, &request, err) < 0))
    return appc_error_prefix(err, "%s: isolators[%zu] (resource/cpu)", t->who, i);
  if (limit == 0 || limit > INT64_MAX / (CFS_PERIOD / 1000))
    return appc_error_make(err, 0,
                           "%s: isolators[%zu].value.limit: \"%s\" is not a usable CPU limit",
                           t->who, i, iso->limit);
  if (hier == NULL) {
    ace_note(t->notes, ACE_NOTE_WARN,
             "%s: isolator resource/cpu ignored: no cpu cgroup controller on this host", t->who);
    return 0;
  }
  dir = target_dir(t, h, buf);
  if (limit > 0) {
    int64_t quota = cpu_quota_of(limit);
    if (quota != limit * (CFS_PERIOD / 1000)) {
      ace_note(t->notes, ACE_NOTE_WARN,
               "%s: isolator resource/cpu: limit %" PRId64 "m raised to %" PRId64
               "m, the least the kernel accepts",
               t->who, limit, quota / (CFS_PERIOD / 1000));
      limit = quota / (CFS_PERIOD / 1000);
    }
    snprintf(text, sizeof text, "%" PRId64 " %d", quota, CFS_PERIOD);
    if ((hier->v2 ? write_file(dir, "cpu.max", text, err) : v1_cpu_quota(t, h, dir, quota, err)) <
        0)
      return appc_error_prefix(err, "%s: isolators[%zu] (resource/cpu)", t->who, i);
  }
  if (request >= 0 && cpu_shares(dir, hier->v2, shares_of_request(request), err) < 0)
    return appc_error_prefix(err, "%s: isolators[%zu] (resource/cpu)", t->who, i);
  ace_note(t->notes, ACE_NOTE_INFO,
           "%s: isolator resource/cpu enforced: limit %" PRId64 "m, request %" PRId64
           "m (-1: none)",
           t->who, limit, request);
  return 0;
}

static int apply_cpu_shares(const struct target *t, const struct appc_isolator *iso, size_t i,
                            appc_error_t *err)
{
  size_t h = 0;
  const struct cg_hier *hier = hier_of(t->cg, CG_CPU, &h);
  char buf[PATH_MAX];

  if (hier == NULL) {
    ace_note(t->notes, ACE_NOTE_WARN,
             "%s: isolator os/linux/cpu-shares ignored: no cpu cgroup controller on this host",
             t->who);
    return 0;
  }
  if (cpu_shares(target_dir(t, h, buf), hier->v2, iso->number, err) < 0)
    return appc_error_prefix(err, "%s: isolators[%zu] (os/linux/cpu-shares)", t->who, i);
  ace_note(t->notes, ACE_NOTE_INFO, "%s: isolator os/linux/cpu-shares enforced: %" PRId64, t->who,
           iso->number);
  return 0;
}

/* ---- block I/O ------------------------------------------------------------ */

struct block_device {
  unsigned major, minor;
};

/* The host's block devices (/sys/block: whole disks, loop and ram devices
 * included, partitions not: throttling is per disk). */
static size_t block_devices(struct block_device *out, size_t max)
{
  DIR *d = opendir("/sys/block");
  struct dirent *e;
  size_t n = 0;
  char path[PATH_MAX];

  while (d != NULL && n < max && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' ||
        snprintf(path, sizeof path, "/sys/block/%s/dev", e->d_name) >= (int) sizeof path)
      continue;
    cleanup_free char *dev = read_small(path);
    unsigned maj, min;
    char end;
    if (dev != NULL && sscanf(dev, "%u:%u%c", &maj, &min, &end) == 3 && end == '\n')
      out[n++] = (struct block_device){maj, min};
  }
  if (d != NULL)
    closedir(d);
  return n;
}

#define MAX_BLOCK_DEVICES 256

/* resource/block-bandwidth (bytes per second) and resource/block-iops:
 * "default": true, so the limit applies to reads and to writes on every
 * block device the host has when the pod starts (blk-throttle on v1,
 * io.max on v2).  A device the kernel cannot throttle (no request queue:
 * EINVAL, ENODEV) is left out. */
/* The limit of resource/block-bandwidth or resource/block-iops ISO: -1
 * when it gives none (a note says so). */
static int block_value(const struct appc_isolator *iso, const char *who, size_t i,
                       const struct ace_notes *notes, int64_t *limit, appc_error_t *err)
{
  const char *name = appc_isolator_kind_name(iso->kind);

  *limit = -1;
  if (iso->limit == NULL) {
    ace_note(notes, ACE_NOTE_WARN, "%s: isolator %s without a limit: nothing to enforce", who,
             name);
    return 0;
  }
  if (appc_quantity_value(iso->limit, 0, limit, err) < 0)
    return appc_error_prefix(err, "%s: isolators[%zu] (%s)", who, i, name);
  if (*limit <= 0)
    return appc_error_make(err, 0,
                           "%s: isolators[%zu].value.limit: \"%s\" would stop all block I/O", who,
                           i, iso->limit);
  return 0;
}

static int apply_block(const struct target *t, const struct appc_isolator *iso, size_t i,
                       appc_error_t *err)
{
  bool iops = iso->kind == APPC_ISOLATOR_RESOURCE_BLOCK_IOPS;
  const char *name = appc_isolator_kind_name(iso->kind);
  size_t h = 0, n, done = 0;
  const struct cg_hier *hier = hier_of(t->cg, CG_BLKIO, &h);
  char buf[PATH_MAX], line[128];
  struct block_device *devs = NULL;
  const char *dir;
  int64_t limit = -1;

  if (block_value(iso, t->who, i, t->notes, &limit, err) < 0)
    return -1;
  if (limit < 0)
    return 0;
  if (hier == NULL) {
    ace_note(t->notes, ACE_NOTE_WARN,
             "%s: isolator %s ignored: no blkio/io cgroup controller on this host", t->who, name);
    return 0;
  }
  if ((devs = calloc(MAX_BLOCK_DEVICES, sizeof *devs)) == NULL)
    return appc_error_make(err, ENOMEM, "%s", name);
  n = block_devices(devs, MAX_BLOCK_DEVICES);
  dir = target_dir(t, h, buf);
  for (size_t k = 0; k < n; k++) {
    static const char *const v1_files[2][2] = {
        {"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device"},
        {"blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"}};
    int r = 0;
    if (hier->v2) {
      snprintf(line, sizeof line, "%u:%u %s=%" PRId64 " %s=%" PRId64, devs[k].major, devs[k].minor,
               iops ? "riops" : "rbps", limit, iops ? "wiops" : "wbps", limit);
      r = write_file(dir, "io.max", line, err);
    } else {
      snprintf(line, sizeof line, "%u:%u %" PRId64, devs[k].major, devs[k].minor, limit);
      r = write_file(dir, v1_files[iops][0], line, err) < 0 ||
                  write_file(dir, v1_files[iops][1], line, err) < 0
              ? -1
              : 0;
    }
    if (r < 0 && (*err)->errnum != EINVAL && (*err)->errnum != ENODEV) {
      free(devs);
      return appc_error_prefix(err, "%s: isolators[%zu] (%s)", t->who, i, name);
    }
    if (r < 0)
      appc_error_release(err);
    else
      done++;
  }
  free(devs);
  ace_note(t->notes, done > 0 ? ACE_NOTE_INFO : ACE_NOTE_WARN,
           "%s: isolator %s %s: %" PRId64 " %s for reads and for writes on %zu block devices",
           t->who, name, done > 0 ? "enforced" : "ignored", limit,
           iops ? "operations per second" : "bytes per second", done);
  return 0;
}

int ace_cgroup_apply(struct ace_cgroup *cg, long app, const struct appc_isolator_list *isolators,
                     const struct ace_notes *notes, appc_error_t *err)
{
  char who[300];

  if (app >= (long) cg->n_apps || app < -1)
    return appc_error_tag(err, EINVAL, "cgroups: no app %ld in the pod", app);
  if (app < 0)
    snprintf(who, sizeof who, "pod");
  else
    snprintf(who, sizeof who, "app %s", cg->apps[app]);
  struct target t = {cg, app, who, notes};
  for (size_t i = 0; i < isolators->len; i++) {
    const struct appc_isolator *iso = &isolators->items[i];
    int r = 0;
    switch (iso->kind) {
    case APPC_ISOLATOR_RESOURCE_MEMORY:
      r = apply_memory(&t, iso, i, err);
      break;
    case APPC_ISOLATOR_RESOURCE_CPU:
      r = apply_cpu(&t, iso, i, err);
      break;
    case APPC_ISOLATOR_CPU_SHARES:
      r = apply_cpu_shares(&t, iso, i, err);
      break;
    case APPC_ISOLATOR_RESOURCE_BLOCK_BANDWIDTH:
    case APPC_ISOLATOR_RESOURCE_BLOCK_IOPS:
      r = apply_block(&t, iso, i, err);
      break;
    case APPC_ISOLATOR_RESOURCE_NETWORK_BANDWIDTH:
      ace_note(notes, ACE_NOTE_WARN, "%s: isolator %s ignored: not supported by actool", who,
               appc_isolator_kind_name(iso->kind));
      break;
    default:
      break; /* not a cgroup's */
    }
    if (r < 0)
      return -1;
  }
  return 0;
}

int64_t ace_cgroup_oom_kills(const struct ace_cgroup *cg, size_t app)
{
  size_t h = 0;
  const struct cg_hier *hier = hier_of(cg, CG_MEMORY, &h);
  char dir[PATH_MAX], path[PATH_MAX];
  cleanup_free char *text = NULL;
  const char *p;

  if (hier == NULL || app >= cg->n_apps || !app_dir(dir, cg, h, app) ||
      !join(path, dir, hier->v2 ? "memory.events" : "memory.oom_control") ||
      (text = read_small(path)) == NULL)
    return -1;
  /* "oom_kill N" in both (not oom_kill_disable, oom_group_kill) */
  for (p = text; (p = strstr(p, "oom_kill ")) != NULL; p++)
    if (p == text || p[-1] == '\n')
      return strtoll(p + 9, NULL, 10);
  return -1;
}

/* ---- enter (child) ------------------------------------------------------------- */

/* What a delegatee writes (systemd's cgroup delegation: the directory, to
 * make cgroups in it, and the files that move processes and enable
 * controllers beneath). */
static const char *const delegated_files[] = {"cgroup.procs",           "cgroup.threads",
                                              "cgroup.subtree_control", "tasks",
                                              "cgroup.clone_children",  "notify_on_release"};

int ace_cgroup_delegate(const struct ace_cgroup *cg, size_t app, uid_t uid, gid_t gid,
                        appc_error_t *err)
{
  char dir[PATH_MAX];

  if (app >= cg->n_apps)
    return appc_error_tag(err, EINVAL, "cgroups: no app %zu in the pod", app);
  for (size_t h = 0; h < cg->layout.n; h++) {
    /* The hierarchies an init mounts writable: those without controllers
     * (name=systemd, a hybrid host's cgroup2) and a v2 one. */
    if (!cg->layout.h[h].v2 && !(cg->layout.h[h].ctrl & CG_TRACK))
      continue;
    if (!app_dir(dir, cg, h, app))
      return appc_error_make(err, ENAMETOOLONG, "cgroup %s/%s", cg->pod[h], cg->apps[app]);
    cleanup_close int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
      return appc_error_make(err, errno, "cannot delegate cgroup %s", dir);
    for (size_t i = 0; i < ARRAY_SIZE(delegated_files); i++)
      if (fchownat(fd, delegated_files[i], uid, gid, 0) < 0 && errno != ENOENT)
        return appc_error_make(err, errno, "cannot delegate cgroup %s/%s", dir, delegated_files[i]);
  }
  return 0;
}

int ace_cgroup_v2_root(const struct ace_cgroup *cg)
{
  for (size_t h = 0; h < cg->layout.n; h++)
    if (cg->layout.h[h].v2)
      return open(cg->layout.h[h].mount, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return -1;
}

/* App APP's cgroup in the v2 hierarchy (O_PATH), to clone a process into:
 * -1 where there is none, or it cannot be opened. */
int ace_cgroup_leaf_v2(const struct ace_cgroup *cg, int root, size_t app)
{
  char dir[PATH_MAX];

  for (size_t h = 0; root >= 0 && app < cg->n_apps && h < cg->layout.n; h++) {
    size_t len = strlen(cg->layout.h[h].mount);
    if (!cg->layout.h[h].v2)
      continue;
    /* app_dir is MOUNT/actool/UUID[/APP]: what follows MOUNT/ */
    if (!app_dir(dir, cg, h, app) || strncmp(dir, cg->layout.h[h].mount, len) != 0 ||
        dir[len] != '/')
      return -1;
    return openat(root, dir + len + 1, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  return -1;
}

pid_t ace_cgroup_fork(int leaf)
{
  struct clone_args args = {
      .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t) leaf};

  /* A raw clone3 skips glibc's fork handlers: the caller has one thread. */
  return leaf < 0 ? -1 : (pid_t) syscall(SYS_clone3, &args, sizeof args);
}

/* The file through which a process of one thread moves itself into a
 * hierarchy's cgroup.  v1's `tasks` moves the writing thread alone, which
 * for such a process is all of it, and so spares the kernel's global
 * threadgroup lock that cgroup.procs takes: the first taking of that lock
 * after a quiet spell waits for an RCU grace period (6 to 15 ms measured,
 * most of a short pod's start).  v2 has no such file for a domain cgroup
 * (cgroup.threads cannot cross domains); ace_cgroup_fork is its way
 * around the lock. */
static const char *entry_file(const struct cg_hier *hier)
{
  return hier->v2 ? "cgroup.procs" : "tasks";
}

int ace_cgroup_enter(const struct ace_cgroup *cg, size_t app, bool in_v2, appc_error_t *err)
{
  if (app >= cg->n_apps)
    return appc_error_tag(err, EINVAL, "cgroups: no app %zu in the pod", app);
  for (size_t h = 0; h < cg->layout.n; h++) {
    const struct cg_hier *hier = &cg->layout.h[h];
    char dir[PATH_MAX], path[PATH_MAX];
    cleanup_close int fd = -1;

    if (hier->v2 && in_v2)
      continue;
    if (!app_dir(dir, cg, h, app) || !join(path, dir, entry_file(hier)))
      errno = ENAMETOOLONG;
    else
      fd = open(path, O_WRONLY | O_CLOEXEC);
    /* "0" is the writer itself, whatever PID namespace it is in. */
    if (fd < 0 || write(fd, "0", 1) != 1)
      return appc_error_make(err, errno, "cannot enter cgroup %s/%s", cg->pod[h], cg->apps[app]);
  }
  return 0;
}

/* ---- destroy ------------------------------------------------------------------- */

/* SIGKILL what DIR's cgroup.procs lists.  A pid read here could in theory be
 * reused before the kill; it was in our cgroup a moment before, and the
 * alternative (the freezer) is not available everywhere. */
static void kill_procs(const char *dir)
{
  char path[PATH_MAX];
  cleanup_free char *list = join(path, dir, "cgroup.procs") ? read_small(path) : NULL;
  for (char *p = list, *end; p != NULL && *p != '\0'; p = end) {
    long pid = strtol(p, &end, 10);
    if (end == p)
      break;
    if (pid > 0)
      kill((pid_t) pid, SIGKILL);
  }
}

/* Kill what runs in DIR and below and remove them, leaves first.  rmdir
 * fails with EBUSY until killed processes have exited: retry until
 * DEADLINE. */
static int remove_cgroup(const char *dir, int64_t deadline, appc_error_t *err)
{
  cleanup_free char *sub = NULL;
  DIR *d = opendir(dir);
  struct dirent *de;
  int r = 0;

  if (d == NULL)
    return errno == ENOENT ? 0 : appc_error_make(err, errno, "cannot read cgroup %s", dir);
  while (r == 0 && (de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    free(sub);
    if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0) {
      sub = NULL;
      r = appc_error_make(err, ENOMEM, "cgroups");
    } else {
      r = remove_cgroup(sub, deadline, err);
    }
  }
  closedir(d);
  if (r < 0)
    return -1;
  for (;;) {
    kill_procs(dir);
    if (rmdir(dir) == 0 || errno == ENOENT)
      return 0;
    if (errno != EBUSY || appc_monotonic_ms() > deadline)
      return appc_error_make(err, errno, "cannot remove cgroup %s", dir);
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  }
}

void ace_cgroup_kill_app(const struct ace_cgroup *cg, size_t app)
{
  char dir[PATH_MAX];

  if (cg == NULL || cg->single || app >= cg->n_apps)
    return;
  /* v2 kills a whole subtree at once, new forks included (Linux 5.14) */
  for (size_t h = 0; h < cg->layout.n; h++)
    if (cg->pod[h] != NULL && cg->layout.h[h].v2 && app_dir(dir, cg, h, app) &&
        file_exists(dir, "cgroup.kill") && write_file(dir, "cgroup.kill", "1", NULL) == 0)
      return;
  /* else what one hierarchy lists: every hierarchy holds every process */
  for (size_t h = 0; h < cg->layout.n; h++)
    if (cg->pod[h] != NULL && app_dir(dir, cg, h, app)) {
      kill_procs(dir);
      return;
    }
}

/* Remove MOUNT/actool/UUID, leaving the shared actool/ in place. */
static int remove_pod_dir(const struct cg_hier *hier, const char *pod, appc_error_t *err)
{
  /* v2 kills a whole subtree at once, new forks included. */
  if (hier->v2 && file_exists(pod, "cgroup.kill"))
    write_file(pod, "cgroup.kill", "1", NULL);
  return remove_cgroup(pod, appc_monotonic_ms() + KILL_TIMEOUT_MS, err);
}

/* The common case, a pod whose processes are all gone and whose apps made
 * no cgroups of their own: the directories actool made, removed as they
 * are (no reading, no killing).  False when anything is in the way. */
static bool remove_as_made(const struct ace_cgroup *cg, size_t h)
{
  char path[PATH_MAX];

  for (size_t a = 0; !cg->single && a < cg->n_apps; a++)
    if (join(path, cg->pod[h], cg->apps[a]) && rmdir(path) < 0 && errno != ENOENT)
      return false;
  return rmdir(cg->pod[h]) == 0;
}

int ace_cgroup_destroy(struct ace_cgroup *cg, appc_error_t *err)
{
  int r = 0;
  appc_error_t first = NULL;

  for (size_t h = 0; cg != NULL && h < cg->layout.n; h++) {
    if (cg->pod[h] != NULL && !remove_as_made(cg, h) &&
        remove_pod_dir(&cg->layout.h[h], cg->pod[h], &first) < 0 && r == 0) {
      r = -1;
      if (err != NULL)
        *err = steal_pointer(&first);
    }
    appc_error_release(&first);
  }
  ace_cgroup_free(cg);
  return r;
}

int ace_cgroup_remove_pod(const char *root, const char *uuid, appc_error_t *err)
{
  struct cg_layout l = {.n = 0};
  char pod[PATH_MAX];
  int r = 0;

  if (check_component("pod UUID", uuid, LOWER_DIGITS "-", err) < 0 ||
      detect_layout(root != NULL ? root : "/sys/fs/cgroup", &l, err) < 0)
    return -1;
  for (size_t h = 0; r == 0 && h < l.n; h++) {
    if (snprintf(pod, sizeof pod, "%s/actool/%s", l.h[h].mount, uuid) >= (int) sizeof pod)
      r = appc_error_make(err, ENAMETOOLONG, "cgroup %s/actool/%s", l.h[h].mount, uuid);
    else
      r = remove_pod_dir(&l.h[h], pod, err);
  }
  layout_clear(&l);
  return r;
}

int ace_cgroup_join(const char *root, const char *uuid, const char *app, appc_error_t *err)
{
  struct cg_layout l = {.n = 0};
  char pod[PATH_MAX], leaf[PATH_MAX];
  int r = 0;

  if (check_component("pod UUID", uuid, LOWER_DIGITS "-", err) < 0 ||
      detect_layout(root != NULL ? root : "/sys/fs/cgroup", &l, err) < 0)
    return -1;
  for (size_t h = 0; r == 0 && h < l.n; h++) {
    if (snprintf(pod, sizeof pod, "%s/actool/%s", l.h[h].mount, uuid) >= (int) sizeof pod ||
        !join(leaf, pod, app))
      r = appc_error_make(err, ENAMETOOLONG, "cgroup %s/actool/%s/%s", l.h[h].mount, uuid, app);
    else if (file_exists(leaf, "cgroup.procs"))
      r = write_file(leaf, entry_file(&l.h[h]), "0", err);
    else if (file_exists(pod, "cgroup.procs")) /* a single app's (ace_cgroup_single) */
      r = write_file(pod, entry_file(&l.h[h]), "0", err);
  }
  layout_clear(&l);
  return r;
}

void ace_cgroup_free(struct ace_cgroup *cg)
{
  if (cg == NULL)
    return;
  for (size_t h = 0; h < CG_MAX_HIER; h++)
    free(cg->pod[h]);
  for (size_t a = 0; cg->apps != NULL && a < cg->n_apps; a++)
    free(cg->apps[a]);
  free(cg->apps);
  free(cg->dev_rules);
  layout_clear(&cg->layout);
  free(cg);
}

/* The plan's block limits: LIMIT (-1: none) on every block device, as
 * apply_block writes it. */
static int plan_block(struct appc_ace_app_plan *plan, bool iops, int64_t limit, appc_error_t *err)
{
  struct block_device *devs = NULL;
  size_t n;

  if (limit < 0)
    return 0;
  if (plan->block_limits == NULL) {
    if ((devs = calloc(MAX_BLOCK_DEVICES, sizeof *devs)) == NULL)
      return appc_error_make(err, ENOMEM, "block devices");
    n = block_devices(devs, MAX_BLOCK_DEVICES);
    plan->block_limits = calloc(n + 1, sizeof *plan->block_limits);
    for (size_t k = 0; plan->block_limits != NULL && k < n; k++)
      plan->block_limits[k] = (struct appc_ace_block_limit){
          .major = devs[k].major, .minor = devs[k].minor, .bps = -1, .iops = -1};
    free(devs);
    if (plan->block_limits == NULL)
      return appc_error_make(err, ENOMEM, "block devices");
  }
  for (struct appc_ace_block_limit *b = plan->block_limits; b->major != 0 || b->minor != 0; b++)
    *(iops ? &b->iops : &b->bps) = limit;
  return 0;
}

int ace_cgroup_limits(const struct appc_isolator_list *isolators, const char *who,
                      const struct ace_notes *notes, struct appc_ace_app_plan *plan,
                      appc_error_t *err)
{
  plan->memory_limit = plan->memory_request = plan->cpu_quota = plan->cpu_shares = -1;
  plan->cpu_period = CFS_PERIOD;
  for (size_t i = 0; isolators != NULL && i < isolators->len; i++) {
    const struct appc_isolator *iso = &isolators->items[i];
    int64_t limit = -1, request = -1;
    switch (iso->kind) {
    case APPC_ISOLATOR_RESOURCE_MEMORY:
      if (memory_values(iso, who, i, &plan->memory_limit, &plan->memory_request, err) < 0)
        return -1;
      break;
    case APPC_ISOLATOR_RESOURCE_CPU:
      if ((iso->limit != NULL && appc_quantity_value(iso->limit, 3, &limit, err) < 0) ||
          (iso->request != NULL && appc_quantity_value(iso->request, 3, &request, err) < 0))
        return appc_error_prefix(err, "%s: isolators[%zu] (resource/cpu)", who, i);
      if (limit == 0 || limit > INT64_MAX / (CFS_PERIOD / 1000))
        return appc_error_make(err, 0,
                               "%s: isolators[%zu].value.limit: \"%s\" is not a usable CPU limit",
                               who, i, iso->limit);
      if (limit > 0)
        plan->cpu_quota = cpu_quota_of(limit);
      if (request >= 0)
        plan->cpu_shares = shares_of_request(request);
      break;
    case APPC_ISOLATOR_CPU_SHARES:
      plan->cpu_shares = shares_in_range(iso->number);
      break;
    case APPC_ISOLATOR_RESOURCE_BLOCK_BANDWIDTH:
    case APPC_ISOLATOR_RESOURCE_BLOCK_IOPS:
      if (block_value(iso, who, i, notes, &limit, err) < 0 ||
          plan_block(plan, iso->kind == APPC_ISOLATOR_RESOURCE_BLOCK_IOPS, limit, err) < 0)
        return -1;
      break;
    default:
      break;
    }
  }
  return 0;
}
