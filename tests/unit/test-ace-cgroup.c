/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of ace/cgroup.c: resource quantities, then pods in the host's
 * real cgroup hierarchies (as root): the layout, the control files the
 * isolators set, a child entering an app's cgroup, destroy killing what is
 * left, and a memory hog killed by its limit.  A fake v2 tree (a plain
 * directory laid out like one) checks the v2 files on hosts whose memory and
 * cpu controllers are on v1. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SCRATCH_PREFIX "test-ace-cgroup"
#include "tests/unit/test-scratch.h"

#include "ace/internal.h"
#include "tests/unit/test-ace.h"
#include "appc/isolator.h"
#include "common/macros.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* ---- quantities ---------------------------------------------------------- */

/* ---- helpers ------------------------------------------------------------------- */

static void apply_ok(struct ace_cgroup *cg, long app, const char *name, const char *json,
                     struct notes_seen *seen)
{
  struct appc_isolator_list l = {0};
  struct ace_notes notes = {collect, seen};
  appc_error_t err = NULL;

  add_isolator(&l, name, json);
  assert_ok(ace_cgroup_apply(cg, app, &l, &notes, &err), &err);
  appc_isolator_list_clear(&l);
}

static char *read_text(const char *dir, const char *file)
{
  char *p = path_join(dir, file), *buf = NULL;
  size_t cap = 0;
  FILE *f = fopen(p, "re");
  if (f == NULL)
    fail_msg("cannot open %s: %s", p, strerror(errno));
  if (getdelim(&buf, &cap, '\0', f) < 0) {
    free(buf);
    buf = strdup("");
  }
  fclose(f);
  free(p);
  buf[strcspn(buf, "\n")] = '\0';
  return buf;
}

#define assert_file(dir, file, want)                                                               \
  do {                                                                                             \
    char *_t = read_text((dir), (file));                                                           \
    if (strcmp(_t, (want)) != 0)                                                                   \
      fail_msg("%s/%s holds \"%s\", not \"%s\"", (dir), (file), _t, (want));                       \
    free(_t);                                                                                      \
  } while (0)

static bool is_dir(const char *dir, const char *rel)
{
  char *p = path_join(dir, rel);
  struct stat st;
  bool r = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
  free(p);
  return r;
}

/* What a failing test leaves behind for the teardown: its pod's cgroups and
 * a sleeping child (leader of its own process group). */
static char current_uuid[37];
static pid_t sleeper;

/* A UUID per test and process, so that runs never collide. */
static void test_uuid(char out[37], int n)
{
  snprintf(out, 37, "00000000-0000-4000-8000-%06x%06x", (unsigned) getpid() & 0xffffff, n);
  memcpy(current_uuid, out, 37);
}

static int real_teardown(void **state)
{
  appc_error_t err = NULL;
  (void) state;
  if (sleeper > 0) {
    kill(-sleeper, SIGKILL);
    waitpid(sleeper, NULL, 0);
    sleeper = 0;
  }
  if (current_uuid[0] != '\0' && ace_cgroup_remove_pod(NULL, current_uuid, &err) < 0) {
    fprintf(stderr, "teardown: %s\n", err->msg);
    appc_error_release(&err);
  }
  current_uuid[0] = '\0';
  return 0;
}

/* The host's hierarchies, found the simple way the tests can afford. */
struct real {
  bool v2;
  char mem[PATH_MAX], cpu[PATH_MAX]; /* "" when absent */
};

static void real_layout(struct real *r)
{
  struct statfs sf;
  memset(r, 0, sizeof *r);
  r->v2 = statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
  if (r->v2) {
    char *c = read_text("/sys/fs/cgroup", "cgroup.controllers");
    if (strstr(c, "memory") != NULL)
      strcpy(r->mem, "/sys/fs/cgroup");
    if (strstr(c, "cpu ") != NULL || strstr(c, "cpu\n") != NULL ||
        (strlen(c) >= 3 && strcmp(c + strlen(c) - 3, "cpu") == 0))
      strcpy(r->cpu, "/sys/fs/cgroup");
    free(c);
    return;
  }
  if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0)
    strcpy(r->mem, "/sys/fs/cgroup/memory");
  if (access("/sys/fs/cgroup/cpu/cpu.shares", F_OK) == 0)
    strcpy(r->cpu, "/sys/fs/cgroup/cpu");
  else if (access("/sys/fs/cgroup/cpu,cpuacct/cpu.shares", F_OK) == 0)
    strcpy(r->cpu, "/sys/fs/cgroup/cpu,cpuacct");
}

static char *pod_path(const char *base, const char *uuid, const char *app)
{
  char *p = NULL;
  assert_true(asprintf(&p, "%s/actool/%s%s%s", base, uuid, app != NULL ? "/" : "",
                       app != NULL ? app : "") > 0);
  return p;
}

static struct ace_cgroup *create_real(struct real *r, const char *uuid)
{
  static const char *const apps[] = {"web", "db"};
  struct ace_cgroup *cg = NULL;
  appc_error_t err = NULL;

  real_layout(r);
  if (r->mem[0] == '\0' || r->cpu[0] == '\0')
    skip(); /* no memory or cpu controller on this host */
  assert_ok(ace_cgroup_create(NULL, uuid, apps, 2, NULL, 0, &cg, &err), &err);
  assert_non_null(cg);
  return cg;
}

static int in_child(int (*fn)(const void *), const void *arg, pid_t *pid_out)
{
  int status;
  pid_t pid = fork();

  assert_true(pid >= 0);
  if (pid == 0) {
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    _exit(fn(arg));
  }
  if (pid_out != NULL) {
    *pid_out = pid;
    return 0;
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return status;
}

#define assert_exit_0(status)                                                                      \
  do {                                                                                             \
    int _s = (status);                                                                             \
    if (!WIFEXITED(_s) || WEXITSTATUS(_s) != 0)                                                    \
      fail_msg("child: %s %d", WIFEXITED(_s) ? "exit" : "signal",                                  \
               WIFEXITED(_s) ? WEXITSTATUS(_s) : WTERMSIG(_s));                                    \
  } while (0)

/* ---- the real hierarchies ---------------------------------------------------- */

/* DIR/FILE has the line LINE. */
static bool file_has_line(const char *dir, const char *file, const char *line)
{
  char *p = path_join(dir, file), *t = NULL;
  size_t cap = 0;
  bool found = false;
  FILE *f = fopen(p, "re");
  free(p);
  if (f == NULL)
    return false;
  while (!found && getline(&t, &cap, f) > 0) {
    t[strcspn(t, "\n")] = '\0';
    found = strcmp(t, line) == 0;
  }
  free(t);
  fclose(f);
  return found;
}

/* In the app's devices cgroup (v1), nodes made for the test (this host may
 * have no /dev/mem): null (1:3) opens, mem (1:1) does not, EPERM from the
 * cgroup whatever the file's mode. */
static int enter_and_open_devices(const void *arg)
{
  appc_error_t err = NULL;
  char path[PATH_MAX];
  if (ace_cgroup_enter(arg, 1, false, &err) < 0)
    return 1;
  snprintf(path, sizeof path, "%s/null", getenv("TEST_DEV_DIR"));
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return 2;
  close(fd);
  snprintf(path, sizeof path, "%s/mem", getenv("TEST_DEV_DIR"));
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0 || errno != EPERM)
    return 3;
  return 0;
}

/* v1: the app's devices are its /dev's (the lists), checked by opening nodes
 * made for the test. */
static void check_v1_devices(struct ace_cgroup *cg, const char *uuid)
{
  if (access("/sys/fs/cgroup/devices/devices.list", F_OK) != 0)
    return; /* no v1 devices controller here */
  char *db = pod_path("/sys/fs/cgroup/devices", uuid, "db");
  assert_true(file_has_line(db, "devices.list", "c 1:3 rwm"));
  assert_true(file_has_line(db, "devices.list", "c 136:* rwm"));
  assert_false(file_has_line(db, "devices.list", "a *:* rwm"));
  free(db);
  char *dir = scratch_new();
  char *null = path_join(dir, "null"), *mem = path_join(dir, "mem");
  assert_int_equal(mknod(null, S_IFCHR | 0666, makedev(1, 3)), 0);
  assert_int_equal(mknod(mem, S_IFCHR | 0666, makedev(1, 1)), 0);
  setenv("TEST_DEV_DIR", dir, 1);
  assert_exit_0(in_child(enter_and_open_devices, cg, NULL));
  free(null);
  free(mem);
  scratch_remove(dir);
}

/* Block I/O: every block device the host has gets the limit, for reads and
 * writes (checked on the first one /sys/block lists, when v1's blkio is
 * here; the fake v2 tree checks io.max). */
static void check_block_limits(struct ace_cgroup *cg, const char *uuid, struct notes_seen *seen)
{
  apply_ok(cg, 1, "resource/block-bandwidth", "{\"default\":true,\"limit\":\"1M\"}", seen);
  assert_note(seen, "I: app db: isolator resource/block-bandwidth enforced: 1000000 bytes per "
                    "second for reads and for writes on ");
  apply_ok(cg, 1, "resource/block-iops", "{\"default\":true,\"limit\":\"1k\"}", seen);
  assert_note(seen, "I: app db: isolator resource/block-iops enforced: 1000 operations per second");
  char *dev = read_text("/sys/block/loop0", "dev"), line[64];
  dev[strcspn(dev, "\n")] = '\0';
  char *db = pod_path("/sys/fs/cgroup/blkio", uuid, "db");
  if (access(db, F_OK) == 0) {
    snprintf(line, sizeof line, "%s 1000000", dev);
    assert_true(file_has_line(db, "blkio.throttle.read_bps_device", line));
    assert_true(file_has_line(db, "blkio.throttle.write_bps_device", line));
    snprintf(line, sizeof line, "%s 1000", dev);
    assert_true(file_has_line(db, "blkio.throttle.write_iops_device", line));
  }
  free(db);
  free(dev);
}

static void test_create_lays_out_pod_and_apps(void **state)
{
  struct real r;
  char uuid[37];
  appc_error_t err = NULL;
  (void) state;

  test_uuid(uuid, 1);
  struct ace_cgroup *cg = create_real(&r, uuid);
  char *pod = pod_path(r.mem, uuid, NULL);
  assert_true(is_dir(pod, "web"));
  assert_true(is_dir(pod, "db"));
  free(pod);
  pod = pod_path(r.cpu, uuid, NULL);
  assert_true(is_dir(pod, "web"));
  assert_true(is_dir(pod, "db"));
  /* v1: the apps are in every controller's hierarchy, the pod's pids
   * bounded by the default. */
  static const char *const v1[] = {"pids", "blkio", "devices", "freezer", "cpuacct"};
  for (size_t i = 0; !r.v2 && i < ARRAY_SIZE(v1); i++) {
    char base[64];
    snprintf(base, sizeof base, "/sys/fs/cgroup/%s", v1[i]);
    if (access(base, F_OK) != 0)
      continue; /* the host lacks it */
    free(pod);
    pod = pod_path(base, uuid, NULL);
    assert_true(is_dir(pod, "web"));
    assert_true(is_dir(pod, "db"));
    if (strcmp(v1[i], "pids") == 0)
      assert_file(pod, "pids.max", "4096");
  }
  free(pod);
  pod = pod_path(r.cpu, uuid, NULL);
  if (!r.v2)
    check_v1_devices(cg, uuid);
  /* Hybrid host: the hierarchies without controllers (the empty cgroup2
   * mount, v1's name=systemd) hold the apps too, for an init's sake. */
  static const char *const tracking[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd"};
  for (size_t i = 0; !r.v2 && i < ARRAY_SIZE(tracking); i++) {
    char *probe = path_join(tracking[i], "cgroup.procs");
    bool mounted = access(probe, F_OK) == 0;
    free(probe);
    if (!mounted)
      continue;
    char *t = pod_path(tracking[i], uuid, NULL);
    assert_true(is_dir(t, "web"));
    assert_true(is_dir(t, "db"));
    free(t);
  }
  assert_ok(ace_cgroup_destroy(cg, &err), &err);
  assert_false(is_dir(pod, ""));
  assert_true(is_dir(r.cpu, "actool")); /* shared, left in place */
  free(pod);
  pod = pod_path(r.mem, uuid, NULL);
  assert_false(is_dir(pod, ""));
  free(pod);
}

static void test_apply_sets_the_control_files(void **state)
{
  struct real r;
  struct notes_seen seen = {{0}};
  char uuid[37];
  appc_error_t err = NULL;
  (void) state;

  test_uuid(uuid, 2);
  struct ace_cgroup *cg = create_real(&r, uuid);
  char *pod = pod_path(r.mem, uuid, NULL), *web = pod_path(r.mem, uuid, "web");
  char *cpod = pod_path(r.cpu, uuid, NULL), *cweb = pod_path(r.cpu, uuid, "web"),
       *cdb = pod_path(r.cpu, uuid, "db");

  apply_ok(cg, -1, "resource/memory", "{\"limit\":\"64Mi\"}", &seen);
  assert_note(&seen, "I: pod: isolator resource/memory enforced: limit 67108864 bytes");
  apply_ok(cg, 0, "resource/memory", "{\"request\":\"16Mi\",\"limit\":\"32Mi\"}", &seen);
  assert_note(&seen, "I: app web: isolator resource/memory enforced: limit 33554432 bytes, "
                     "request 16777216 bytes");
  apply_ok(cg, -1, "resource/cpu", "{\"limit\":\"500m\"}", &seen);
  apply_ok(cg, 0, "resource/cpu", "{\"request\":\"250m\",\"limit\":\"200m\"}", &seen);
  apply_ok(cg, 1, "resource/cpu", "{\"limit\":\"2\"}", &seen);
  assert_note(&seen, "I: app db: isolator resource/cpu enforced: limit 2000m, request -1m");
  if (!r.v2) {
    assert_file(pod, "memory.limit_in_bytes", "67108864");
    if (access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0) {
      assert_file(pod, "memory.memsw.limit_in_bytes", "67108864");
      assert_file(web, "memory.memsw.limit_in_bytes", "33554432");
    }
    assert_file(web, "memory.limit_in_bytes", "33554432");
    assert_file(web, "memory.soft_limit_in_bytes", "16777216");
    assert_file(cpod, "cpu.cfs_quota_us", "50000");
    assert_file(cpod, "cpu.cfs_period_us", "100000");
    assert_file(cweb, "cpu.cfs_quota_us", "20000");
    assert_file(cweb, "cpu.shares", "256");
    /* v1 refuses a child quota above the pod's: capped */
    assert_file(cdb, "cpu.cfs_quota_us", "50000");
    /* and a new, lower pod quota lowers the apps' above it */
    apply_ok(cg, -1, "resource/cpu", "{\"limit\":\"100m\"}", &seen);
    assert_file(cpod, "cpu.cfs_quota_us", "10000");
    assert_file(cdb, "cpu.cfs_quota_us", "10000");
    assert_file(cweb, "cpu.cfs_quota_us", "10000");
    apply_ok(cg, 1, "os/linux/cpu-shares", "2048", &seen);
    assert_file(cdb, "cpu.shares", "2048");
    /* a tiny limit is raised to the kernel's minimum quota of 1 ms */
    apply_ok(cg, 1, "resource/cpu", "{\"limit\":\"1m\"}", &seen);
    assert_file(cdb, "cpu.cfs_quota_us", "1000");
  } else {
    assert_file(pod, "memory.max", "67108864");
    assert_file(web, "memory.max", "33554432");
    assert_file(web, "memory.low", "16777216");
    assert_file(cpod, "cpu.max", "50000 100000");
    assert_file(cweb, "cpu.max", "20000 100000");
    assert_file(cdb, "cpu.max", "200000 100000");
  }
  /* Other isolators are not cgroup's; network bandwidth is not supported. */
  apply_ok(cg, 1, "os/linux/no-new-privileges", "true", &seen);
  assert_null(strstr(seen.text, "no-new-privileges"));
  apply_ok(cg, 1, "resource/network-bandwidth", "{\"default\":true,\"limit\":\"1M\"}", &seen);
  assert_note(&seen, "W: app db: isolator resource/network-bandwidth ignored: not supported");
  check_block_limits(cg, uuid, &seen);
  free(pod);
  free(web);
  free(cpod);
  free(cweb);
  free(cdb);
  assert_ok(ace_cgroup_destroy(cg, &err), &err);
}

static void test_apply_errors_name_the_isolator(void **state)
{
  struct real r;
  struct appc_isolator_list l = {0};
  char uuid[37];
  appc_error_t err = NULL;
  (void) state;

  test_uuid(uuid, 3);
  struct ace_cgroup *cg = create_real(&r, uuid);
  add_isolator(&l, "os/linux/no-new-privileges", "true");
  add_isolator(&l, "resource/memory", "{\"limit\":\"20E\"}");
  assert_error_contains(ace_cgroup_apply(cg, 0, &l, NULL, &err), &err,
                        "app web: isolators[1] (resource/memory): quantity \"20E\" is too large");
  appc_isolator_list_clear(&l);
  add_isolator(&l, "resource/memory", "{\"limit\":\"0\"}");
  assert_error_contains(ace_cgroup_apply(cg, -1, &l, NULL, &err), &err,
                        "pod: isolators[0].value.limit: a memory limit of 0 bytes");
  appc_isolator_list_clear(&l);
  add_isolator(&l, "resource/cpu", "{\"limit\":\"0\"}");
  assert_error_contains(ace_cgroup_apply(cg, 1, &l, NULL, &err), &err,
                        "app db: isolators[0].value.limit: \"0\" is not a usable CPU limit");
  assert_error_contains(ace_cgroup_apply(cg, 2, &l, NULL, &err), &err, "no app 2 in the pod");
  appc_isolator_list_clear(&l);
  assert_ok(ace_cgroup_destroy(cg, &err), &err);
}

static void test_create_refuses_bad_names(void **state)
{
  static const char *const bad_app[] = {"web", "../etc"};
  struct ace_cgroup *cg = NULL;
  appc_error_t err = NULL;
  (void) state;

  assert_error_contains(ace_cgroup_create(NULL, "0000/../x", bad_app, 1, NULL, 0, &cg, &err), &err,
                        "pod UUID \"0000/../x\" cannot name a cgroup");
  assert_error_contains(ace_cgroup_create(NULL, "0000", bad_app, 2, NULL, 0, &cg, &err), &err,
                        "app name \"../etc\" cannot name a cgroup");
  assert_error_contains(ace_cgroup_remove_pod(NULL, "..", &err), &err, "cannot name a cgroup");
  assert_null(cg);
}

/* NAME is one of the comma-separated LIST. */
static bool has_ctrl(const char *list, const char *name)
{
  size_t n = strlen(name);
  for (const char *p = list; p != NULL; p = strchr(p, ',') != NULL ? strchr(p, ',') + 1 : NULL) {
    if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
      return true;
  }
  return false;
}

/* The caller's /proc/self/cgroup names the cgroup actool/TEST_UUID/APP
 * (APP "": the pod's own): in the memory and cpu lines on v1, in the "0::"
 * line on v2 (V2). */
static int in_cgroups(const char *app, bool v2)
{
  char line[512], want[128];
  unsigned found = 0;

  snprintf(want, sizeof want, "/actool/%s%s%s\n", getenv("TEST_UUID"), *app ? "/" : "", app);
  FILE *f = fopen("/proc/self/cgroup", "re");
  if (f == NULL)
    return 2;
  while (fgets(line, sizeof line, f) != NULL) {
    char *ctrl = strchr(line, ':') + 1, *path = strchr(ctrl, ':') + 1;
    path[-1] = '\0';
    unsigned bits = v2 ? (ctrl[0] == '\0' ? 3 : 0)
                       : (has_ctrl(ctrl, "memory") ? 1 : 0) | (has_ctrl(ctrl, "cpu") ? 2 : 0);
    if (strcmp(path, want) == 0)
      found |= bits;
  }
  fclose(f);
  return found == 3 ? 0 : 3;
}

static int in_db_cgroups(bool v2)
{
  return in_cgroups("db", v2);
}

static int in_db_pod(bool v2)
{
  return in_cgroups("", v2);
}

/* The child enters app db's cgroups (TEST_V2: the host is v2 only). */
static int enter_and_check(const void *arg)
{
  appc_error_t err = NULL;

  if (ace_cgroup_enter(arg, 1, false, &err) < 0) {
    fprintf(stderr, "child: %s\n", err->msg);
    return 1;
  }
  return in_db_cgroups(getenv("TEST_V2") != NULL);
}

static void test_enter_moves_a_child_into_its_app(void **state)
{
  struct real r;
  char uuid[37];
  appc_error_t err = NULL;
  (void) state;

  test_uuid(uuid, 4);
  struct ace_cgroup *cg = create_real(&r, uuid);
  setenv("TEST_UUID", uuid, 1);
  if (r.v2)
    setenv("TEST_V2", "1", 1);
  assert_exit_0(in_child(enter_and_check, cg, NULL));
  assert_ok(ace_cgroup_destroy(cg, &err), &err);
}

/* The child of ace_cgroup_fork is in its app's v2 cgroup from its start,
 * before it enters the others (v1's, on a hybrid host). */
static void test_fork_starts_in_the_v2_cgroup(void **state)
{
  struct real r;
  char uuid[37], want[128], line[512];
  appc_error_t err = NULL;
  int status;
  (void) state;

  test_uuid(uuid, 12);
  setenv("TEST_UUID", uuid, 1);
  struct ace_cgroup *cg = create_real(&r, uuid);
  int root = ace_cgroup_v2_root(cg);
  int leaf = ace_cgroup_leaf_v2(cg, root, 1);
  if (root >= 0)
    close(root);
  pid_t pid = ace_cgroup_fork(leaf);
  if (leaf >= 0 && pid != 0)
    close(leaf);
  if (pid < 0 && !r.v2 && access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) != 0) {
    assert_ok(ace_cgroup_destroy(cg, &err), &err);
    skip(); /* v1 only: no v2 hierarchy to start in */
  }
  assert_true(pid >= 0);
  if (pid == 0) {
    bool in_v2 = false;
    FILE *f = fopen("/proc/self/cgroup", "re");
    snprintf(want, sizeof want, "0::/actool/%s/db\n", uuid);
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
      in_v2 = in_v2 || strcmp(line, want) == 0;
    if (!in_v2)
      _exit(5);
    _exit(ace_cgroup_enter(cg, 1, true, &err) < 0 ? 4 : in_db_cgroups(r.v2));
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_exit_0(status);
  assert_ok(ace_cgroup_destroy(cg, &err), &err);
}

/* A pod of one app (ace_cgroup_single): no directory of the app's; its
 * limits, its processes (forked or entered, and joined by actool enter) and
 * its removal are the pod's directory's.  A pod isolator that sets cgroup
 * files keeps the app's own directory. */
static int join_single(const void *arg)
{
  appc_error_t err = NULL;

  if (ace_cgroup_join(NULL, getenv("TEST_UUID"), "db", &err) < 0)
    return 1;
  return in_db_pod(getenv("TEST_V2") != NULL);
}

static void test_single_app_lives_in_the_pod_cgroup(void **state)
{
  static const char *const apps[] = {"db"};
  struct appc_isolator_list pod_isolators = {0};
  struct notes_seen seen = {{0}};
  struct ace_cgroup *cg = NULL;
  struct real r;
  char uuid[37];
  appc_error_t err = NULL;
  int status;
  (void) state;

  real_layout(&r);
  if (r.mem[0] == '\0' || r.cpu[0] == '\0')
    skip();
  test_uuid(uuid, 13);
  setenv("TEST_UUID", uuid, 1);
  if (r.v2)
    setenv("TEST_V2", "1", 1);
  assert_ok(ace_cgroup_plan(NULL, uuid, apps, 1, &cg, &err), &err);
  add_isolator(&pod_isolators, "os/unix/sysctl", "{\"net.ipv4.ip_forward\": \"1\"}");
  assert_true(ace_cgroup_single(cg, &pod_isolators));
  assert_ok(ace_cgroup_make(cg, NULL, 0, &err), &err);
  char *pod = pod_path(r.mem, uuid, NULL);
  assert_true(is_dir(pod, "."));
  assert_false(is_dir(pod, "db"));
  apply_ok(cg, 0, "resource/memory", "{\"limit\": \"64Mi\"}", &seen);
  assert_file(pod, r.v2 ? "memory.max" : "memory.limit_in_bytes", "67108864");
  int root = ace_cgroup_v2_root(cg);
  int leaf = ace_cgroup_leaf_v2(cg, root, 0);
  if (root >= 0)
    close(root);
  pid_t pid = ace_cgroup_fork(leaf);
  bool in_v2 = pid >= 0;
  if (leaf >= 0)
    close(leaf);
  if (pid < 0)
    pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    _exit(ace_cgroup_enter(cg, 0, in_v2, &err) < 0 ? 4 : in_db_pod(r.v2));
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_exit_0(status);
  assert_exit_0(in_child(join_single, NULL, NULL));
  assert_ok(ace_cgroup_destroy(cg, &err), &err);
  assert_int_equal(access(pod, F_OK), -1);
  free(pod);
  appc_isolator_list_clear(&pod_isolators);

  /* a pod's memory limit: the app keeps its own directory */
  assert_ok(ace_cgroup_plan(NULL, uuid, apps, 1, &cg, &err), &err);
  add_isolator(&pod_isolators, "resource/memory", "{\"limit\": \"64Mi\"}");
  assert_false(ace_cgroup_single(cg, &pod_isolators));
  assert_ok(ace_cgroup_make(cg, NULL, 0, &err), &err);
  pod = pod_path(r.mem, uuid, NULL);
  assert_true(is_dir(pod, "db"));
  assert_ok(ace_cgroup_destroy(cg, &err), &err);
  free(pod);
  appc_isolator_list_clear(&pod_isolators);
}

/* A plan makes nothing; a child holding a copy of it from before the
 * cgroups were made (as the pod's supervisors do) enters its app by path
 * once they are. */
static int go_pipe[2];
static int wait_then_enter(const void *arg)
{
  char c;
  close(go_pipe[1]);
  if (read(go_pipe[0], &c, 1) != 1)
    return 4;
  return enter_and_check(arg);
}

static void test_plan_then_make_enters_by_path(void **state)
{
  static const char *const apps[] = {"web", "db"};
  struct real r;
  struct ace_cgroup *cg = NULL;
  char uuid[37];
  appc_error_t err = NULL;
  pid_t child;
  int status;
  (void) state;

  real_layout(&r);
  if (r.mem[0] == '\0' || r.cpu[0] == '\0')
    skip();
  test_uuid(uuid, 9);
  assert_ok(ace_cgroup_plan(NULL, uuid, apps, 2, &cg, &err), &err);
  char *pod = pod_path(r.mem, uuid, NULL);
  assert_int_equal(access(pod, F_OK), -1); /* nothing made yet */
  setenv("TEST_UUID", uuid, 1);
  if (r.v2)
    setenv("TEST_V2", "1", 1);
  assert_int_equal(pipe(go_pipe), 0);
  in_child(wait_then_enter, cg, &child);
  close(go_pipe[0]);
  assert_ok(ace_cgroup_make(cg, NULL, 0, &err), &err);
  assert_int_equal(access(pod, F_OK), 0);
  assert_int_equal(write(go_pipe[1], "g", 1), 1);
  close(go_pipe[1]);
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_exit_0(status);
  free(pod);
  assert_ok(ace_cgroup_destroy(cg, &err), &err);
}

static void test_unmade_plan_is_destroyed(void **state)
{
  static const char *const apps[] = {"web"};
  struct ace_cgroup *cg = NULL;
  char uuid[37];
  appc_error_t err = NULL;
  (void) state;

  test_uuid(uuid, 10);
  assert_ok(ace_cgroup_plan(NULL, uuid, apps, 1, &cg, &err), &err);
  assert_ok(ace_cgroup_destroy(cg, &err), &err);
  assert_error_contains(ace_cgroup_plan(NULL, "0000/../x", apps, 1, &cg, &err), &err, "pod UUID");
}

/* An init's cgroups under --private-users: in the hierarchies without
 * controllers (or v2) the app's directory and the files that move
 * processes become the given owner's; hierarchies with controllers and the
 * pod's own directory stay root's. */
static void test_delegate_hands_the_init_its_cgroups(void **state)
{
  struct real r;
  char uuid[37];
  appc_error_t err = NULL;
  struct stat st;
  (void) state;

  test_uuid(uuid, 11);
  struct ace_cgroup *cg = create_real(&r, uuid);
  char *tracked =
      r.v2 ? pod_path(r.mem, uuid, "db") : pod_path("/sys/fs/cgroup/systemd", uuid, "db");
  if (!r.v2 && access("/sys/fs/cgroup/systemd/cgroup.procs", F_OK) != 0) {
    free(tracked);
    assert_ok(ace_cgroup_destroy(cg, &err), &err);
    skip(); /* no name=systemd hierarchy on this v1 host */
  }
  assert_ok(ace_cgroup_delegate(cg, 1, 300000, 300001, &err), &err);
  assert_int_equal(stat(tracked, &st), 0);
  assert_int_equal(st.st_uid, 300000);
  assert_int_equal(st.st_gid, 300001);
  char *procs = path_join(tracked, "cgroup.procs");
  assert_int_equal(stat(procs, &st), 0);
  assert_int_equal(st.st_uid, 300000);
  free(procs);
  char *pod = pod_path(r.v2 ? r.mem : "/sys/fs/cgroup/systemd", uuid, NULL);
  assert_int_equal(stat(pod, &st), 0);
  assert_int_equal(st.st_uid, 0);
  free(pod);
  if (!r.v2) {
    char *mem = pod_path(r.mem, uuid, "db");
    assert_int_equal(stat(mem, &st), 0);
    assert_int_equal(st.st_uid, 0); /* a hierarchy with controllers */
    free(mem);
  }
  char *other =
      r.v2 ? pod_path(r.mem, uuid, "web") : pod_path("/sys/fs/cgroup/systemd", uuid, "web");
  assert_int_equal(stat(other, &st), 0);
  assert_int_equal(st.st_uid, 0); /* another app */
  free(other);
  free(tracked);
  assert_error_contains(ace_cgroup_delegate(cg, 2, 1, 1, &err), &err, "no app 2 in the pod");
  assert_ok(ace_cgroup_destroy(cg, &err), &err);
}

static int enter_and_sleep(const void *arg)
{
  appc_error_t err = NULL;
  setpgid(0, 0); /* for the teardown */
  if (ace_cgroup_enter(arg, 0, false, &err) < 0)
    return 1;
  /* a grandchild too: destroy must get every process */
  if (fork() == 0)
    for (;;)
      pause();
  for (;;)
    pause();
}

static bool procs_has(const char *dir, pid_t pid)
{
  char line[32];
  snprintf(line, sizeof line, "%ld", (long) pid);
  return file_has_line(dir, "cgroup.procs", line);
}

static void wait_in(const char *dir, pid_t pid)
{
  for (int i = 0; i < 500 && !procs_has(dir, pid); i++)
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  assert_true(procs_has(dir, pid));
}

static void test_destroy_kills_what_is_left(void **state)
{
  struct real r;
  char uuid[37];
  appc_error_t err = NULL;
  pid_t pid;
  int status;
  (void) state;

  test_uuid(uuid, 5);
  struct ace_cgroup *cg = create_real(&r, uuid);
  char *web = pod_path(r.mem, uuid, "web"), *pod = pod_path(r.mem, uuid, NULL);
  in_child(enter_and_sleep, cg, &pid);
  sleeper = pid;
  wait_in(web, pid);
  assert_ok(ace_cgroup_destroy(cg, &err), &err); /* the child is not reaped yet */
  assert_int_equal(waitpid(pid, &status, 0), pid);
  sleeper = 0;
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGKILL);
  assert_false(is_dir(pod, ""));
  free(web);
  free(pod);
}

/* gc's way: only the UUID is known. */
static void test_remove_pod_by_uuid(void **state)
{
  struct real r;
  char uuid[37];
  appc_error_t err = NULL;
  pid_t pid;
  int status;
  (void) state;

  test_uuid(uuid, 6);
  struct ace_cgroup *cg = create_real(&r, uuid);
  char *web = pod_path(r.cpu, uuid, "web"), *pod = pod_path(r.cpu, uuid, NULL);
  in_child(enter_and_sleep, cg, &pid);
  sleeper = pid;
  wait_in(web, pid);
  ace_cgroup_free(cg);
  assert_true(is_dir(pod, "db"));
  assert_ok(ace_cgroup_remove_pod(NULL, uuid, &err), &err);
  assert_false(is_dir(pod, ""));
  assert_int_equal(waitpid(pid, &status, 0), pid);
  sleeper = 0;
  assert_true(WIFSIGNALED(status));
  /* again, and for a pod that never was: nothing to do */
  assert_ok(ace_cgroup_remove_pod(NULL, uuid, &err), &err);
  free(web);
  free(pod);
}

static int memory_hog(const void *arg)
{
  appc_error_t err = NULL;
  if (ace_cgroup_enter(arg, 0, false, &err) < 0)
    return 1;
  for (int i = 0; i < 1024; i++) { /* up to 1 GiB */
    char *p = malloc(1 << 20);
    if (p == NULL)
      return 2;
    memset(p, i, 1 << 20);
  }
  return 3; /* not stopped */
}

static void test_memory_hog_is_killed(void **state)
{
  struct real r;
  struct notes_seen seen = {{0}};
  char uuid[37];
  appc_error_t err = NULL;
  (void) state;

  test_uuid(uuid, 7);
  struct ace_cgroup *cg = create_real(&r, uuid);
  apply_ok(cg, 0, "resource/memory", "{\"limit\":\"32Mi\"}", &seen);
  int status = in_child(memory_hog, cg, NULL);
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
    fail_msg("hog: %s %d", WIFEXITED(status) ? "exit" : "signal",
             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  assert_ok(ace_cgroup_destroy(cg, &err), &err);
}

/* ---- a fake v2 tree ------------------------------------------------------------ */

static int fake_teardown(void **state)
{
  (void) state;
  scratch_remove(current_scratch);
  return 0;
}

static void put(const char *dir, const char *rel, const char *text)
{
  write_file(dir, rel, text, strlen(text));
}

/* A fake v2 root: CONTROLLERS available, ENABLED in its subtree_control and
 * actool/'s, and the pod's directory with an empty one. */
static void fake_root(const char *root, const char *uuid, const char *controllers,
                      const char *enabled)
{
  char rel[256];

  put(root, "cgroup.controllers", controllers);
  put(root, "cgroup.subtree_control", enabled);
  put(root, "actool/cgroup.subtree_control", enabled);
  snprintf(rel, sizeof rel, "actool/%s/cgroup.subtree_control", uuid);
  put(root, rel, "");
}

static void test_fake_v2_tree(void **state)
{
  static const char *const apps[] = {"web"};
  static const char *const files[] = {"memory.max", "memory.swap.max", "memory.low", "cpu.max",
                                      "cpu.weight", "cgroup.procs",    "pids.max",   "io.max"};
  struct notes_seen seen = {{0}};
  struct ace_cgroup *cg = NULL;
  appc_error_t err = NULL;
  char *root = scratch_new();
  char rel[256], uuid[37];
  (void) state;

  test_uuid(uuid, 8);
  fake_root(root, uuid, "cpuset cpu io memory hugetlb pids\n", "");
  put(root, "actool/cgroup.subtree_control", "+cpu\n"); /* memory still missing */
  for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
    snprintf(rel, sizeof rel, "actool/%s/%s", uuid, files[i]);
    put(root, rel, "");
    snprintf(rel, sizeof rel, "actool/%s/web/%s", uuid, files[i]);
    put(root, rel, "");
  }
  assert_ok(ace_cgroup_create(root, uuid, apps, 1, NULL, 0, &cg, &err), &err);
  assert_file(root, "cgroup.subtree_control", "+memory +cpu +pids +io");
  assert_file(root, "actool/cgroup.subtree_control", "+memory +cpu +pids +io");
  snprintf(rel, sizeof rel, "actool/%s/cgroup.subtree_control", uuid);
  assert_file(root, rel, "+memory +cpu +pids +io");
  /* No pids isolator in appc: the pod gets the default limit. */
  snprintf(rel, sizeof rel, "actool/%s/pids.max", uuid);
  assert_file(root, rel, "4096");

  apply_ok(cg, 0, "resource/memory", "{\"request\":\"1Mi\",\"limit\":\"64Mi\"}", &seen);
  apply_ok(cg, 0, "resource/cpu", "{\"request\":\"1\",\"limit\":\"1500m\"}", &seen);
  apply_ok(cg, -1, "resource/cpu", "{\"request\":\"300\"}", &seen);
  char *pod = pod_path(root, uuid, NULL), *web = pod_path(root, uuid, "web");
  assert_file(web, "memory.max", "67108864");
  assert_file(web, "memory.swap.max", "0");
  assert_file(web, "memory.low", "1048576");
  assert_file(web, "cpu.max", "150000 100000");
  /* shares 1024 -> weight as runc maps it: 1 + (1022 * 9999) / 262142 */
  assert_file(web, "cpu.weight", "39");
  /* 300 CPUs: shares capped at 262144 -> weight 10000 */
  assert_file(pod, "cpu.weight", "10000");
  /* a request whose shares would overflow int64 (UBSan would say so) */
  apply_ok(cg, -1, "resource/cpu", "{\"request\":\"9223372036854775\"}", &seen);
  assert_file(pod, "cpu.weight", "10000");
  apply_ok(cg, 0, "os/linux/cpu-shares", "2", &seen);
  assert_file(web, "cpu.weight", "1");
  assert_note(&seen, "I: app web: isolator os/linux/cpu-shares enforced: 2");
  /* io.max: a plain file here keeps the last device's line. */
  apply_ok(cg, 0, "resource/block-bandwidth", "{\"default\":true,\"limit\":\"2Mi\"}", &seen);
  char *io = read_text(web, "io.max");
  assert_non_null(strstr(io, " rbps=2097152 wbps=2097152"));
  free(io);
  apply_ok(cg, 0, "resource/block-iops", "{\"default\":true,\"limit\":\"300\"}", &seen);
  io = read_text(web, "io.max");
  assert_non_null(strstr(io, " riops=300 wiops=300"));
  free(io);

  /* A process cloned into the v2 cgroup (ace_cgroup_fork) is not moved
   * there again. */
  assert_ok(ace_cgroup_enter(cg, 0, true, &err), &err);
  assert_file(web, "cgroup.procs", "");
  assert_ok(ace_cgroup_enter(cg, 0, false, &err), &err); /* a plain file: writes "0" */
  assert_file(web, "cgroup.procs", "0");
  assert_error_contains(ace_cgroup_enter(cg, 1, false, &err), &err, "no app 1 in the pod");
  ace_cgroup_free(cg);
  free(pod);
  free(web);
  scratch_remove(root);
}

/* v2, one app in the pod's own cgroup: controllers are delegated down to
 * the pod's directory, never from it (its processes would be internal). */
static void test_fake_v2_single(void **state)
{
  static const char *const apps[] = {"web"};
  struct appc_isolator_list none = {0};
  struct ace_cgroup *cg = NULL;
  appc_error_t err = NULL;
  char *root = scratch_new();
  char rel[256], uuid[37];
  (void) state;

  test_uuid(uuid, 14);
  fake_root(root, uuid, "cpu memory pids\n", "");
  snprintf(rel, sizeof rel, "actool/%s/pids.max", uuid);
  put(root, rel, "");
  assert_ok(ace_cgroup_plan(root, uuid, apps, 1, &cg, &err), &err);
  assert_true(ace_cgroup_single(cg, &none));
  assert_ok(ace_cgroup_make(cg, NULL, 0, &err), &err);
  assert_file(root, "actool/cgroup.subtree_control", "+memory +cpu +pids");
  snprintf(rel, sizeof rel, "actool/%s/cgroup.subtree_control", uuid);
  assert_file(root, rel, "");
  snprintf(rel, sizeof rel, "actool/%s/web", uuid);
  assert_false(is_dir(root, rel));
  ace_cgroup_free(cg);
  scratch_remove(root);
}

/* No memory controller: the isolator is reported ignored, not an error. */
static void test_fake_tree_without_memory(void **state)
{
  static const char *const apps[] = {"web"};
  struct notes_seen seen = {{0}};
  struct ace_cgroup *cg = NULL;
  appc_error_t err = NULL;
  char *root = scratch_new();
  char uuid[37];
  (void) state;

  test_uuid(uuid, 9);
  fake_root(root, uuid, "cpu pids\n", "cpu\n");
  assert_ok(ace_cgroup_create(root, uuid, apps, 1, NULL, 0, &cg, &err), &err);
  apply_ok(cg, -1, "resource/memory", "{\"limit\":\"1G\"}", &seen);
  assert_note(&seen, "W: pod: isolator resource/memory ignored: no memory cgroup controller");
  ace_cgroup_free(cg);
  scratch_remove(root);
}

/* ---- --device ------------------------------------------------------------ */

/* Nodes made for the device tests in DIR: null (1:3), mem (1:1), kmsg
 * (1:11) and a block node 7:0. */
static void make_test_nodes(const char *dir)
{
  static const struct {
    const char *name;
    mode_t type;
    unsigned maj, min;
  } nodes[] = {{"null", S_IFCHR, 1, 3},
               {"mem", S_IFCHR, 1, 1},
               {"kmsg", S_IFCHR, 1, 11},
               {"blk", S_IFBLK, 7, 0}};
  for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
    char *p = path_join(dir, nodes[i].name);
    assert_int_equal(mknod(p, nodes[i].type | 0666, makedev(nodes[i].maj, nodes[i].min)), 0);
    free(p);
  }
}

/* 0 when PATH opens with FLAGS, else errno. */
static int open_errno(const char *name, int flags)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", getenv("TEST_DEV_DIR"), name);
  int fd = open(path, flags | O_CLOEXEC);
  if (fd < 0)
    return errno;
  close(fd);
  return 0;
}

/* In app 0 of a pod given kmsg (1:11) read-only: null opens for writing,
 * kmsg for reading only, mem and the block node not at all; a node can
 * still be made (m), not opened. */
static int enter_and_use_given_device(const void *arg)
{
  appc_error_t err = NULL;
  char path[PATH_MAX];
  if (ace_cgroup_enter(arg, 0, false, &err) < 0)
    return 1;
  if (open_errno("null", O_WRONLY) != 0)
    return 2;
  if (open_errno("kmsg", O_RDONLY) != 0)
    return 3;
  if (open_errno("kmsg", O_WRONLY) != EPERM)
    return 4;
  if (open_errno("mem", O_RDONLY) != EPERM)
    return 5;
  if (open_errno("blk", O_RDONLY) != EPERM)
    return 6;
  snprintf(path, sizeof path, "%s/made", getenv("TEST_DEV_DIR"));
  if (mknod(path, S_IFCHR | 0666, makedev(1, 1)) != 0)
    return 7;
  if (open_errno("made", O_RDONLY) != EPERM)
    return 8;
  return 0;
}

static const struct ace_device kmsg_read_only = {
    .host_path = (char *) "/dev/kmsg",
    .pod_path = (char *) "/dev/kmsg",
    .rule = {'c', 1, 11, ACE_DEV_READ},
};

/* v1: a device given to the pod is in its list with the access given. */
static void test_v1_given_device(void **state)
{
  static const char *const apps[] = {"a"};
  struct ace_cgroup *cg = NULL;
  appc_error_t err = NULL;
  char uuid[37];
  (void) state;

  if (access("/sys/fs/cgroup/devices/devices.list", F_OK) != 0)
    skip(); /* no v1 devices controller: the v2 test covers the rules */
  test_uuid(uuid, 10);
  assert_ok(ace_cgroup_create(NULL, uuid, apps, 1, &kmsg_read_only, 1, &cg, &err), &err);
  char *db = pod_path("/sys/fs/cgroup/devices", uuid, "a");
  assert_true(file_has_line(db, "devices.list", "c 1:11 r"));
  assert_true(file_has_line(db, "devices.list", "c 1:3 rwm"));
  free(db);
  char *dir = scratch_new();
  make_test_nodes(dir);
  setenv("TEST_DEV_DIR", dir, 1);
  assert_exit_0(in_child(enter_and_use_given_device, cg, NULL));
  assert_ok(ace_cgroup_destroy(cg, &err), &err);
  scratch_remove(dir);
}

/* v2: the same rules as a BPF device program, on a cgroup2 mount of the
 * test's own (on a hybrid host, the unified hierarchy without
 * controllers: device programs apply there all the same). */
static void test_v2_device_program(void **state)
{
  static const char *const apps[] = {"a"};
  struct ace_cgroup *cg = NULL;
  appc_error_t err = NULL;
  char uuid[37];
  char *root = scratch_new();
  (void) state;

  if (mount("cgroup2", root, "cgroup2", 0, NULL) < 0)
    skip(); /* a kernel without cgroup2 */
  test_uuid(uuid, 11);
  assert_ok(ace_cgroup_create(root, uuid, apps, 1, &kmsg_read_only, 1, &cg, &err), &err);
  char *dir = scratch_new();
  make_test_nodes(dir);
  setenv("TEST_DEV_DIR", dir, 1);
  int status = in_child(enter_and_use_given_device, cg, NULL);
  assert_ok(ace_cgroup_destroy(cg, &err), &err);
  char *pod = pod_path(root, uuid, NULL);
  assert_int_equal(access(pod, F_OK), -1);
  free(pod);
  scratch_remove(dir);
  assert_int_equal(umount2(root, MNT_DETACH), 0);
  scratch_remove(root);
  assert_exit_0(status);
}

/* The program's rules one by one: wildcards, types, access subsets. */
static void test_device_program_loads_every_rule_kind(void **state)
{
  static const struct ace_device_rule rules[] = {
      {'a', -1, -1, ACE_DEV_MKNOD},
      {'b', 8, -1, ACE_DEV_READ | ACE_DEV_WRITE},
      {'c', -1, 5, ACE_DEV_ALL},
      {'c', 4095, 1048575, ACE_DEV_WRITE},
  };
  appc_error_t err = NULL;
  (void) state;
  int fd = ace_device_bpf_load(rules, ARRAY_SIZE(rules), &err);
  assert_ok(fd < 0 ? -1 : 0, &err);
  close(fd);
  char text[ACE_DEV_RULE_MAX];
  ace_device_rule_format(&rules[0], text);
  assert_string_equal(text, "a *:* m");
  ace_device_rule_format(&rules[1], text);
  assert_string_equal(text, "b 8:* rw");
  ace_device_rule_format(&rules[3], text);
  assert_string_equal(text, "c 4095:1048575 w");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_refuses_bad_names),
      cmocka_unit_test_teardown(test_create_lays_out_pod_and_apps, real_teardown),
      cmocka_unit_test_teardown(test_apply_sets_the_control_files, real_teardown),
      cmocka_unit_test_teardown(test_apply_errors_name_the_isolator, real_teardown),
      cmocka_unit_test_teardown(test_enter_moves_a_child_into_its_app, real_teardown),
      cmocka_unit_test_teardown(test_fork_starts_in_the_v2_cgroup, real_teardown),
      cmocka_unit_test_teardown(test_single_app_lives_in_the_pod_cgroup, real_teardown),
      cmocka_unit_test_teardown(test_plan_then_make_enters_by_path, real_teardown),
      cmocka_unit_test_teardown(test_unmade_plan_is_destroyed, real_teardown),
      cmocka_unit_test_teardown(test_delegate_hands_the_init_its_cgroups, real_teardown),
      cmocka_unit_test_teardown(test_destroy_kills_what_is_left, real_teardown),
      cmocka_unit_test_teardown(test_remove_pod_by_uuid, real_teardown),
      cmocka_unit_test_teardown(test_memory_hog_is_killed, real_teardown),
      cmocka_unit_test_teardown(test_fake_v2_tree, fake_teardown),
      cmocka_unit_test_teardown(test_fake_tree_without_memory, fake_teardown),
      cmocka_unit_test_teardown(test_fake_v2_single, fake_teardown),
      cmocka_unit_test_teardown(test_v1_given_device, real_teardown),
      cmocka_unit_test_teardown(test_v2_device_program, fake_teardown),
      cmocka_unit_test(test_device_program_loads_every_rule_kind),
  };
  if (geteuid() != 0) {
    fprintf(stderr, "test-ace-cgroup: needs root, skipped\n");
    return 77;
  }
  return cmocka_run_group_tests_name("ace-cgroup", tests, NULL, NULL);
}
