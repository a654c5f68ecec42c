/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of ace/security.c: the capability sets, no_new_privs and
 * seccomp filters an app gets from its isolators, checked where the kernel
 * shows them (/proc/self/status, system call results, the signal that kills
 * a child), and the pod's sysctls inside a network namespace of their own.
 * Runs as root: each enter happens in a forked child. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <valgrind/valgrind.h>

#include "tests/unit/test-util.h"

#include "ace/internal.h"
#include "appc/ace.h"
#include "tests/unit/test-ace.h"
#include "appc/isolator.h"
#include "common/macros.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif

/* ---- helpers ------------------------------------------------------------------ */

/* Replace item J of the last isolator's set (names the parser refuses). */
static void set_item(struct appc_isolator_list *l, size_t j, const char *text)
{
  struct appc_isolator *iso = &l->items[l->len - 1];
  free(iso->set.items[j]);
  iso->set.items[j] = strdup(text);
  assert_non_null(iso->set.items[j]);
}

static struct ace_security *prepare_ok(struct appc_app *app, struct notes_seen *seen)
{
  struct ace_notes notes = {collect, seen};
  struct ace_security *sec = NULL;
  appc_error_t err = NULL;
  assert_ok(ace_security_prepare(app, "web", 0, &notes, &sec, &err), &err);
  assert_non_null(sec);
  return sec;
}

/* APP's settings as a runtime bundle would have them, into PLAN. */
static void describe_ok(struct appc_app *app, struct notes_seen *seen,
                        struct appc_ace_app_plan *plan)
{
  struct ace_security *sec = prepare_ok(app, seen);
  appc_error_t err = NULL;
  assert_ok(ace_security_describe(sec, plan, &err), &err);
  ace_security_free(sec);
}

static uint64_t cap_bit(int cap)
{
  return UINT64_C(1) << cap;
}

static uint64_t default_caps(void)
{
  return cap_bit(CAP_AUDIT_WRITE) | cap_bit(CAP_CHOWN) | cap_bit(CAP_DAC_OVERRIDE) |
         cap_bit(CAP_FSETID) | cap_bit(CAP_FOWNER) | cap_bit(CAP_KILL) | cap_bit(CAP_MKNOD) |
         cap_bit(CAP_NET_RAW) | cap_bit(CAP_NET_BIND_SERVICE) | cap_bit(CAP_SETUID) |
         cap_bit(CAP_SETGID) | cap_bit(CAP_SETPCAP) | cap_bit(CAP_SETFCAP) |
         cap_bit(CAP_SYS_CHROOT);
}

/* FIELD of /proc/self/status, hexadecimal for the Cap* ones. */
static uint64_t status_field(const char *field)
{
  FILE *f = fopen("/proc/self/status", "re");
  char line[256];
  size_t n = strlen(field);
  uint64_t v = UINT64_MAX;

  if (f == NULL)
    return v;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, field, n) == 0 && line[n] == ':') {
      v = strtoull(line + n + 1, NULL, strncmp(field, "Cap", 3) == 0 ? 16 : 10);
      break;
    }
  }
  fclose(f);
  return v;
}

/* What a child is given and expects.  The child prepares the app's
 * security itself from ISOLATORS: under valgrind it runs the test program
 * again natively (valgrind --trace-children=no does not follow the exec),
 * as valgrind cannot run seccomp filters or capability changes, and the
 * arguments travel on its command line. */
struct expect {
  const struct appc_isolator_list *isolators; /* the app's, or the pod's */
  struct ace_identity id;
  uint64_t bnd, eff; /* CapBnd; CapPrm = CapEff; CapInh is always empty */
  int nnp;
  const struct ace_security *sec; /* set in the child */
};
#define ROOT_ID                                                                                    \
  {                                                                                                \
    0, 0, NULL, 0, NULL                                                                            \
  }

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "child: %s:%d: %s failed\n", __FILE__, __LINE__, #cond);                     \
      return __LINE__ % 100 + 10;                                                                  \
    }                                                                                              \
  } while (0)

static int enter_or_report(const struct ace_security *sec, const struct ace_identity *id)
{
  appc_error_t err = NULL;
  if (ace_security_enter(sec, id, &err) < 0) {
    fprintf(stderr, "child: %s\n", err->msg);
    appc_error_release(&err);
    return -1;
  }
  return 0;
}

static int check_state(const struct expect *e)
{
  CHECK(enter_or_report(e->sec, &e->id) == 0);
  CHECK(status_field("CapBnd") == e->bnd);
  CHECK(status_field("CapEff") == e->eff);
  CHECK(status_field("CapPrm") == e->eff);
  CHECK(status_field("CapInh") == 0);
  CHECK(status_field("CapAmb") == 0);
  CHECK(status_field("NoNewPrivs") == (uint64_t) e->nnp);
  CHECK(getuid() == e->id.uid && geteuid() == e->id.uid);
  CHECK(getgid() == e->id.gid && getegid() == e->id.gid);
  gid_t groups[16];
  CHECK(getgroups(16, groups) == (int) e->id.n_groups);
  for (size_t i = 0; i < e->id.n_groups; i++)
    CHECK(groups[i] == e->id.groups[i]);
  return 0;
}

static int uname_blocked(const struct expect *e);
static int getpid_then_uname(const struct expect *e);
static int non_root_under_retain(const struct expect *e);
static int only_the_default_filter(const struct expect *e);
static int default_beneath_the_isolator(const struct expect *e);
static int default_filter_in_force(const struct expect *e);
static int default_filter_for_an_admin(const struct expect *e);
static int sysctl_in_netns(const struct expect *e);
static int sysctl_missing_key(const struct expect *e);

static const struct {
  const char *name;
  int (*fn)(const struct expect *);
} child_fns[] = {
    {"check_state", check_state},
    {"uname_blocked", uname_blocked},
    {"getpid_then_uname", getpid_then_uname},
    {"non_root_under_retain", non_root_under_retain},
    {"only_the_default_filter", only_the_default_filter},
    {"default_beneath_the_isolator", default_beneath_the_isolator},
    {"default_filter_in_force", default_filter_in_force},
    {"default_filter_for_an_admin", default_filter_for_an_admin},
    {"sysctl_in_netns", sysctl_in_netns},
    {"sysctl_missing_key", sysctl_missing_key},
};

/* The child's side: prepare, then FN. */
static int child_run(const char *fn, struct expect *e)
{
  struct appc_app app = {0};
  appc_error_t err = NULL;
  struct ace_security *sec = NULL;
  struct rlimit none = {0, 0};

  setrlimit(RLIMIT_CORE, &none); /* SIGSYS would dump core */
  app.isolators = *e->isolators;
  if (ace_security_prepare(&app, "web", 0, NULL, &sec, &err) < 0) {
    fprintf(stderr, "child: %s\n", err->msg);
    return 120;
  }
  e->sec = sec;
  for (size_t i = 0; i < ARRAY_SIZE(child_fns); i++) {
    if (strcmp(child_fns[i].name, fn) == 0)
      return child_fns[i].fn(e);
  }
  return 121;
}

/* argv: --child FN UID GID NNP BND EFF GROUP,... [ISOLATOR JSON]... */
static int child_main(int argc, char **argv)
{
  struct appc_isolator_list l = {0};
  gid_t groups[16];
  struct expect e = {&l,
                     {(uid_t) atol(argv[3]), (gid_t) atol(argv[4]), groups, 0, NULL},
                     strtoull(argv[6], NULL, 16),
                     strtoull(argv[7], NULL, 16),
                     atoi(argv[5]),
                     NULL};
  appc_error_t err = NULL;

  for (char *p = argv[8]; *p != '\0' && e.id.n_groups < 16; p += strcspn(p, ","), p += *p == ',')
    groups[e.id.n_groups++] = (gid_t) atol(p);
  for (int i = 9; i + 1 < argc; i += 2) {
    struct appc_isolator iso = {0};
    if (appc_isolator_set(&iso, argv[i], argv[i + 1], &err) < 0 ||
        appc_isolator_list_append(&l, &iso, &err) < 0)
      return 122;
    appc_isolator_clear(&iso);
  }
  return child_run(argv[2], &e);
}

/* The test program, for child_exec (/proc/self/exe is valgrind itself). */
static const char *self_path;

static void child_exec(const char *fn, const struct expect *e)
{
  char *argv[9 + 2 * 8 + 1], num[5][32], groups[256] = "-";
  size_t n = 0;

  snprintf(num[0], 32, "%u", (unsigned) e->id.uid);
  snprintf(num[1], 32, "%u", (unsigned) e->id.gid);
  snprintf(num[2], 32, "%d", e->nnp);
  snprintf(num[3], 32, "%" PRIx64, e->bnd);
  snprintf(num[4], 32, "%" PRIx64, e->eff);
  for (size_t i = 0; i < e->id.n_groups; i++)
    snprintf(groups + (i == 0 ? 0 : strlen(groups)), sizeof groups - strlen(groups), "%s%u",
             i == 0 ? "" : ",", (unsigned) e->id.groups[i]);
  argv[n++] = "test-ace-security";
  argv[n++] = "--child";
  argv[n++] = (char *) fn;
  for (size_t i = 0; i < 5; i++)
    argv[n++] = num[i];
  argv[n++] = groups;
  for (size_t i = 0; i < e->isolators->len && i < 8; i++) {
    argv[n++] = e->isolators->items[i].name;
    argv[n++] = e->isolators->items[i].value_json;
  }
  argv[n] = NULL;
  execv(self_path, argv);
  _exit(123);
}

/* Run child function FN with E in a child and return its wait status. */
static int in_child(const char *fn, const struct expect *e)
{
  int status;
  pid_t pid = fork();

  assert_true(pid >= 0);
  if (pid == 0) {
    /* Under valgrind, or ASan (whose exit-time leak check and signal
     * stacks need syscalls a filter blocks), the child is a fresh process
     * whose instrumentation is set up before the filter exists. */
    if (UNDER_ASAN)
      setenv("ASAN_OPTIONS",
             "detect_leaks=0:use_sigaltstack=0:handle_segv=0:handle_sigbus=0:handle_abort=0", 1);
    if (RUNNING_ON_VALGRIND || UNDER_ASAN)
      child_exec(fn, e);
    struct expect copy = *e;
    _exit(child_run(fn, &copy));
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return status;
}

/* FN as root, with no expectations on the sets. */
static int run_as_root(const char *fn, const struct appc_isolator_list *isolators)
{
  struct expect e = {isolators, ROOT_ID, 0, 0, 0, NULL};
  return in_child(fn, &e);
}

#define assert_exit_0(status)                                                                      \
  do {                                                                                             \
    int _s = (status);                                                                             \
    if (!WIFEXITED(_s) || WEXITSTATUS(_s) != 0)                                                    \
      fail_msg("child: %s %d", WIFEXITED(_s) ? "exit" : "signal",                                  \
               WIFEXITED(_s) ? WEXITSTATUS(_s) : WTERMSIG(_s));                                    \
  } while (0)

#define assert_killed_by(status, sig)                                                              \
  do {                                                                                             \
    int _s = (status);                                                                             \
    if (!WIFSIGNALED(_s) || WTERMSIG(_s) != (sig))                                                 \
      fail_msg("child: %s %d, not signal %d", WIFEXITED(_s) ? "exit" : "signal",                   \
               WIFEXITED(_s) ? WEXITSTATUS(_s) : WTERMSIG(_s), (sig));                             \
  } while (0)

/* Capabilities this process may keep (its own bounding set). */
static uint64_t host_bounding(void)
{
  return status_field("CapBnd");
}

/* ---- capabilities ----------------------------------------------------------- */

static void test_default_capabilities_for_root(void **state)
{
  struct appc_app app = {0};
  struct notes_seen seen = {{0}};
  (void) state;

  struct ace_security *sec = prepare_ok(&app, &seen);
  assert_note(&seen, "I: app web: no capabilities isolator: the default set of 14");
  assert_note(&seen, "I: app web: the default seccomp filter (");
  struct expect e = {&app.isolators, ROOT_ID, default_caps(), default_caps(), 0, NULL};
  assert_exit_0(in_child("check_state", &e));
  ace_security_free(sec);
}

static void test_retain_set_is_exactly_the_set(void **state)
{
  struct appc_app app = {0};
  struct notes_seen seen = {{0}};
  (void) state;

  add_isolator(&app.isolators, "os/linux/capabilities-retain-set",
               "{\"set\":[\"CAP_NET_BIND_SERVICE\",\"CAP_SYS_ADMIN\"]}");
  struct ace_security *sec = prepare_ok(&app, &seen);
  assert_note(&seen, "I: app web: isolator os/linux/capabilities-retain-set enforced");
  uint64_t want = cap_bit(CAP_NET_BIND_SERVICE) | cap_bit(CAP_SYS_ADMIN);
  struct expect e = {&app.isolators, ROOT_ID, want, want, 0, NULL};
  assert_exit_0(in_child("check_state", &e));
  ace_security_free(sec);
  appc_isolator_list_clear(&app.isolators);
}

static void test_remove_set_is_default_minus_set(void **state)
{
  struct appc_app app = {0};
  struct notes_seen seen = {{0}};
  (void) state;

  /* CAP_SYS_ADMIN is not in the default set: no effect. */
  add_isolator(&app.isolators, "os/linux/capabilities-remove-set",
               "{\"set\":[\"CAP_CHOWN\",\"CAP_NET_RAW\",\"CAP_SYS_ADMIN\"]}");
  struct ace_security *sec = prepare_ok(&app, &seen);
  assert_note(&seen, "isolator os/linux/capabilities-remove-set enforced");
  uint64_t want = default_caps() & ~(cap_bit(CAP_CHOWN) | cap_bit(CAP_NET_RAW));
  struct expect e = {&app.isolators, ROOT_ID, want, want, 0, NULL};
  assert_exit_0(in_child("check_state", &e));
  ace_security_free(sec);
  appc_isolator_list_clear(&app.isolators);
}

/* What actool itself lacks is not granted, with a warning (this machine's
 * own bounding set may lack CAP_SYS_RESOURCE). */
static void test_capability_the_host_lacks(void **state)
{
  struct appc_app app = {0};
  struct notes_seen seen = {{0}};
  (void) state;

  add_isolator(&app.isolators, "os/linux/capabilities-retain-set",
               "{\"set\":[\"CAP_SYS_RESOURCE\",\"CAP_KILL\"]}");
  struct ace_security *sec = prepare_ok(&app, &seen);
  uint64_t want = (cap_bit(CAP_SYS_RESOURCE) | cap_bit(CAP_KILL)) & host_bounding();
  if ((host_bounding() & cap_bit(CAP_SYS_RESOURCE)) == 0)
    assert_note(&seen, "W: app web: capability cap_sys_resource not granted");
  else
    assert_null(strstr(seen.text, "not granted"));
  struct expect e = {&app.isolators, ROOT_ID, want, want, 0, NULL};
  assert_exit_0(in_child("check_state", &e));
  ace_security_free(sec);
  appc_isolator_list_clear(&app.isolators);
}

/* setuid semantics: a non-root app starts with nothing, whatever the set. */
static void test_non_root_uid_gets_empty_sets(void **state)
{
  struct appc_app app = {0};
  struct notes_seen seen = {{0}};
  gid_t groups[] = {1000, 2000, 3000};
  (void) state;

  struct ace_security *sec = prepare_ok(&app, &seen);
  struct expect e = {&app.isolators, {1000, 1500, groups, 3, NULL}, default_caps(), 0, 0, NULL};
  assert_exit_0(in_child("check_state", &e));
  ace_security_free(sec);
}

static void test_no_new_privileges(void **state)
{
  struct appc_app app = {0};
  struct notes_seen seen = {{0}};
  (void) state;

  add_isolator(&app.isolators, "os/linux/no-new-privileges", "true");
  struct ace_security *sec = prepare_ok(&app, &seen);
  assert_note(&seen, "I: app web: isolator os/linux/no-new-privileges enforced: true");
  struct expect e = {&app.isolators, ROOT_ID, default_caps(), default_caps(), 1, NULL};
  assert_exit_0(in_child("check_state", &e));
  ace_security_free(sec);
  appc_isolator_list_clear(&app.isolators);

  /* false: no change */
  add_isolator(&app.isolators, "os/linux/no-new-privileges", "false");
  sec = prepare_ok(&app, &seen);
  e.nnp = 0;
  assert_exit_0(in_child("check_state", &e));
  ace_security_free(sec);
  appc_isolator_list_clear(&app.isolators);
}

/* ---- seccomp ------------------------------------------------------------------ */

/* uname fails with ENOTSUP, getcwd still works. */
static int uname_blocked(const struct expect *e)
{
  struct utsname u;
  char cwd[PATH_MAX];

  CHECK(enter_or_report(e->sec, &e->id) == 0);
  errno = 0;
  CHECK(uname(&u) < 0 && errno == ENOTSUP);
  CHECK(getcwd(cwd, sizeof cwd) != NULL);
  CHECK(status_field("Seccomp") == 2);
  CHECK(status_field("NoNewPrivs") == 0); /* the filter does not set it */
  return 0;
}

static void test_seccomp_remove_set_with_errno(void **state)
{
  struct appc_app app = {0};
  struct notes_seen seen = {{0}};
  (void) state;

  add_isolator(&app.isolators, "os/linux/seccomp-remove-set",
               "{\"set\":[\"uname\",\"reboot\"],\"errno\":\"ENOTSUP\"}");
  struct ace_security *sec = prepare_ok(&app, &seen);
  assert_note(&seen, "I: app web: isolator os/linux/seccomp-remove-set enforced");
  assert_exit_0(run_as_root("uname_blocked", &app.isolators));
  ace_security_free(sec);
  appc_isolator_list_clear(&app.isolators);
}

/* getpid is listed, uname is not. */
static int getpid_then_uname(const struct expect *e)
{
  if (enter_or_report(e->sec, &e->id) < 0)
    return 1;
  if (syscall(SYS_getpid) <= 0)
    return 2;
  syscall(SYS_uname, NULL);
  return errno == EPERM ? 3 : 4; /* 3: the errno case */
}

static void test_seccomp_remove_set_kills_with_sigsys(void **state)
{
  struct appc_app app = {0};
  struct notes_seen seen = {{0}};
  (void) state;

  add_isolator(&app.isolators, "os/linux/seccomp-remove-set", "{\"set\":[\"uname\"]}");
  struct ace_security *sec = prepare_ok(&app, &seen);
  assert_killed_by(run_as_root("getpid_then_uname", &app.isolators), SIGSYS);
  ace_security_free(sec);
  appc_isolator_list_clear(&app.isolators);
}

static void __attribute__((unused)) test_seccomp_retain_set_kills_the_rest(void **state)
{
  struct appc_app app = {0};
  struct notes_seen seen = {{0}};
  (void) state;

  /* The child's own exit path (exit_group) is in the lifecycle list. */
  add_isolator(&app.isolators, "os/linux/seccomp-retain-set", "{\"set\":[\"getpid\"]}");
  struct ace_security *sec = prepare_ok(&app, &seen);
  assert_note(&seen, "isolator os/linux/seccomp-retain-set enforced");
  assert_killed_by(run_as_root("getpid_then_uname", &app.isolators), SIGSYS);
  ace_security_free(sec);
  appc_isolator_list_clear(&app.isolators);

  add_isolator(&app.isolators, "os/linux/seccomp-retain-set",
               "{\"set\":[\"getpid\"],\"errno\":\"EPERM\"}");
  sec = prepare_ok(&app, &seen);
  int status = run_as_root("getpid_then_uname", &app.isolators);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 3);
  ace_security_free(sec);
  appc_isolator_list_clear(&app.isolators);
}

/* The whole sequence under a retain set as a non-root user with
 * no_new_privs: the lifecycle list must be enough. */
static int non_root_under_retain(const struct expect *e)
{
  gid_t groups[] = {100};
  struct ace_identity id = {1000, 1000, groups, 1, NULL};
  if (enter_or_report(e->sec, &id) < 0)
    return 1;
  syscall(SYS_getpid);
  return 0;
}

static void __attribute__((unused)) test_seccomp_retain_set_lets_the_lifecycle_through(void **state)
{
  struct appc_app app = {0};
  struct notes_seen seen = {{0}};
  (void) state;

  add_isolator(&app.isolators, "os/linux/seccomp-retain-set",
               "{\"set\":[\"getpid\"],\"errno\":\"ENOSYS\"}");
  add_isolator(&app.isolators, "os/linux/no-new-privileges", "true");
  add_isolator(&app.isolators, "os/linux/capabilities-retain-set", "{\"set\":[\"CAP_KILL\"]}");
  struct ace_security *sec = prepare_ok(&app, &seen);
  assert_exit_0(run_as_root("non_root_under_retain", &app.isolators));
  ace_security_free(sec);
  appc_isolator_list_clear(&app.isolators);
}

/* An isolator that filters nothing adds no filter, and lifts nothing of the
 * default one beneath it (an image cannot opt out of it). */
static int only_the_default_filter(const struct expect *e)
{
  struct utsname u;
  CHECK(enter_or_report(e->sec, &e->id) == 0);
  CHECK(status_field("Seccomp") == 2);
  CHECK(status_field("Seccomp_filters") == 1);
  CHECK(uname(&u) == 0);
  CHECK(unshare(CLONE_NEWUSER) < 0 && errno == EPERM);
  return 0;
}

static void test_seccomp_wildcards_that_filter_nothing(void **state)
{
  struct appc_app app = {0};
  struct notes_seen seen = {{0}};
  (void) state;

  add_isolator(&app.isolators, "os/linux/seccomp-retain-set", "{\"set\":[\"@appc.io/all\"]}");
  struct ace_security *sec = prepare_ok(&app, &seen);
  assert_note(&seen,
              "isolator os/linux/seccomp-retain-set: {\"set\":[\"@appc.io/all\"]} filters nothing");
  assert_exit_0(run_as_root("only_the_default_filter", &app.isolators));
  ace_security_free(sec);
  appc_isolator_list_clear(&app.isolators);

  add_isolator(&app.isolators, "os/linux/seccomp-remove-set", "{\"set\":[\"@appc.io/empty\"]}");
  sec = prepare_ok(&app, &seen);
  assert_exit_0(run_as_root("only_the_default_filter", &app.isolators));
  ace_security_free(sec);
  appc_isolator_list_clear(&app.isolators);
}

/* A remove set of @appc.io/empty plus a name blocks the name only. */
static void test_seccomp_empty_plus_names(void **state)
{
  struct appc_app app = {0};
  struct notes_seen seen = {{0}};
  (void) state;

  add_isolator(&app.isolators, "os/linux/seccomp-remove-set",
               "{\"set\":[\"@appc.io/empty\",\"uname\"],\"errno\":\"ENOTSUP\"}");
  struct ace_security *sec = prepare_ok(&app, &seen);
  assert_exit_0(run_as_root("uname_blocked", &app.isolators));
  ace_security_free(sec);
  appc_isolator_list_clear(&app.isolators);
}

static void test_seccomp_remove_set_cannot_block_the_lifecycle(void **state)
{
  struct appc_app app = {0};
  struct notes_seen seen = {{0}};
  (void) state;

  add_isolator(&app.isolators, "os/linux/seccomp-remove-set",
               "{\"set\":[\"execve\",\"uname\",\"setresuid\"],\"errno\":\"ENOTSUP\"}");
  struct ace_security *sec = prepare_ok(&app, &seen);
  assert_note(&seen,
              "W: app web: os/linux/seccomp-remove-set: execve not blocked: actool needs it");
  assert_note(&seen, "W: app web: os/linux/seccomp-remove-set: setresuid not blocked");
  assert_exit_0(run_as_root("uname_blocked", &app.isolators));
  ace_security_free(sec);
  appc_isolator_list_clear(&app.isolators);
}

/* ---- describing the filter (runtime bundles) ------------------------------ */

static const struct appc_ace_syscall_rule *rule_named(const struct appc_ace_app_plan *p,
                                                      const char *name)
{
  for (size_t i = 0; i < p->n_syscall_rules; i++)
    if (strcmp(p->syscall_rules[i].name, name) == 0)
      return &p->syscall_rules[i];
  return NULL;
}

static void test_describe_what_is_enforced(void **state)
{
  struct appc_app app = {0};
  struct notes_seen seen = {{0}};
  struct appc_ace_app_plan plan = {0};
  (void) state;

  /* a remove set: everything allowed but the set, which gets the errno;
   * the lifecycle calls it cannot block have no rule */
  add_isolator(&app.isolators, "os/linux/seccomp-remove-set",
               "{\"set\":[\"uname\",\"execve\"],\"errno\":\"ENOTSUP\"}");
  add_isolator(&app.isolators, "os/linux/no-new-privileges", "true");
  add_isolator(&app.isolators, "os/linux/capabilities-retain-set", "{\"set\":[\"CAP_KILL\"]}");
  describe_ok(&app, &seen, &plan);
  assert_true(plan.seccomp);
  assert_true(plan.seccomp_default_allow);
  assert_string_equal(plan.syscall_rules[0].name, "uname");
  assert_false(plan.syscall_rules[0].allow);
  assert_null(rule_named(&plan, "execve"));
  /* ... and beneath it the default filter's block list */
  assert_int_equal(rule_named(&plan, "keyctl")->errnum, EPERM);
  assert_int_equal(plan.syscall_rules[0].errnum, ENOTSUP);
  assert_true(plan.no_new_privs);
  assert_true(plan.caps == cap_bit(CAP_KILL));
  appc_ace_app_plan_clear(&plan);
  appc_isolator_list_clear(&app.isolators);

  /* a retain set without errno: the rest kills; the set and the lifecycle
   * calls are allowed */
  add_isolator(&app.isolators, "os/linux/seccomp-retain-set", "{\"set\":[\"read\",\"getpid\"]}");
  describe_ok(&app, &seen, &plan);
  assert_true(plan.seccomp);
  assert_false(plan.seccomp_default_allow);
  assert_int_equal(plan.seccomp_default_errno, 0);
  assert_non_null(rule_named(&plan, "getpid"));
  assert_true(rule_named(&plan, "getpid")->allow);
  assert_non_null(rule_named(&plan, "execve"));
  assert_true(rule_named(&plan, "execve")->allow);
  assert_null(rule_named(&plan, "uname"));
  assert_true(plan.caps == default_caps());
  appc_ace_app_plan_clear(&plan);
  appc_isolator_list_clear(&app.isolators);

  /* no isolator: the default filter, a block list answering EPERM */
  describe_ok(&app, &seen, &plan);
  assert_true(plan.seccomp);
  assert_true(plan.seccomp_default_allow);
  assert_non_null(rule_named(&plan, "mount"));
  assert_int_equal(rule_named(&plan, "mount")->errnum, EPERM);
  assert_non_null(rule_named(&plan, "keyctl"));
  assert_int_equal(rule_named(&plan, "clone3")->errnum, ENOSYS);
  assert_null(rule_named(&plan, "read"));
  appc_ace_app_plan_clear(&plan);

  /* ... whose calls an app keeping CAP_SYS_ADMIN may make, but the
   * keyrings' */
  add_isolator(&app.isolators, "os/linux/capabilities-retain-set",
               "{\"set\":[\"CAP_SYS_ADMIN\",\"CAP_SETPCAP\"]}");
  describe_ok(&app, &seen, &plan);
  assert_true(plan.seccomp);
  assert_null(rule_named(&plan, "mount"));
  assert_null(rule_named(&plan, "unshare"));
  assert_null(rule_named(&plan, "clone3"));
  assert_non_null(rule_named(&plan, "keyctl"));
  assert_non_null(rule_named(&plan, "settimeofday"));
  appc_ace_app_plan_clear(&plan);
  appc_isolator_list_clear(&app.isolators);
}

/* No app at all (an image without one runs /sbin/init): the defaults, as for
 * an app without isolators. */
static void test_no_app_gets_the_defaults(void **state)
{
  struct notes_seen seen = {{0}};
  struct ace_notes notes = {collect, &seen};
  struct ace_security *sec = NULL;
  struct appc_ace_app_plan plan = {0};
  appc_error_t err = NULL;
  (void) state;

  assert_ok(ace_security_prepare(NULL, "init", 0, &notes, &sec, &err), &err);
  assert_ok(ace_security_describe(sec, &plan, &err), &err);
  assert_true(plan.caps == default_caps());
  assert_true(plan.seccomp);
  assert_non_null(rule_named(&plan, "keyctl"));
  assert_note(&seen, "I: app init: the default seccomp filter (");
  ace_security_free(sec);
  appc_ace_app_plan_clear(&plan);
}

/* The default filter in force: the keyrings, a user namespace (by unshare,
 * clone or clone3) refused; fork and the rest work. */
static int default_filter_in_force(const struct expect *e)
{
  int status;
  CHECK(enter_or_report(e->sec, &e->id) == 0);
  CHECK(status_field("Seccomp") == 2);
  errno = 0;
  CHECK(syscall(SYS_keyctl, 0L /* KEYCTL_GET_KEYRING_ID */, -3L /* session */, 0L) < 0 &&
        errno == EPERM);
  CHECK(unshare(CLONE_NEWUSER) < 0 && errno == EPERM);
  CHECK(syscall(SYS_clone, (long) (CLONE_NEWUSER | SIGCHLD), 0L, 0L, 0L, 0L) < 0 && errno == EPERM);
  CHECK(syscall(SYS_clone3, NULL, 0L) < 0 && errno == ENOSYS);
  CHECK(socket(AF_VSOCK, SOCK_STREAM, 0) < 0 && errno == EPERM);
  CHECK(socket(AF_ALG, SOCK_SEQPACKET, 0) < 0 && errno == EPERM);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK(fd >= 0);
  close(fd);
  /* reading the clock's state, as adjtimex and ntp_gettime do, works */
  struct timex tx = {.modes = 0};
  CHECK(adjtimex(&tx) >= 0);
  pid_t pid = fork();
  if (pid == 0)
    _exit(7);
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
        WEXITSTATUS(status) == 7);
  return 0;
}

/* With CAP_SYS_ADMIN kept: namespaces may be made, the keyrings stay shut. */
static int default_filter_for_an_admin(const struct expect *e)
{
  CHECK(enter_or_report(e->sec, &e->id) == 0);
  CHECK(status_field("Seccomp") == 2);
  CHECK(unshare(CLONE_NEWUTS) == 0);
  CHECK(syscall(SYS_clone3, NULL, 0L) < 0 && errno != ENOSYS);
  CHECK(syscall(SYS_keyctl, 0L, -3L, 0L) < 0 && errno == EPERM);
  return 0;
}

static void test_default_filter(void **state)
{
  struct appc_app app = {0};
  (void) state;

  assert_exit_0(run_as_root("default_filter_in_force", &app.isolators));
  add_isolator(&app.isolators, "os/linux/capabilities-retain-set",
               "{\"set\":[\"CAP_SYS_ADMIN\",\"CAP_SETPCAP\"]}");
  assert_exit_0(run_as_root("default_filter_for_an_admin", &app.isolators));
  appc_isolator_list_clear(&app.isolators);
}

/* An isolator's filter is loaded over the default one: it narrows it and
 * never widens it. */
static int default_beneath_the_isolator(const struct expect *e)
{
  struct utsname u;
  CHECK(enter_or_report(e->sec, &e->id) == 0);
  CHECK(status_field("Seccomp_filters") == 2);
  CHECK(uname(&u) < 0 && errno == ENOTSUP);
  CHECK(unshare(CLONE_NEWUSER) < 0 && errno == EPERM);
  CHECK(syscall(SYS_keyctl, 0L, -3L, 0L) < 0 && errno == ENOTSUP);
  return 0;
}

static void test_default_filter_beneath_an_isolator(void **state)
{
  struct appc_app app = {0};
  struct appc_ace_app_plan plan = {0};
  struct notes_seen seen = {{0}};
  (void) state;

  add_isolator(&app.isolators, "os/linux/seccomp-remove-set",
               "{\"set\":[\"uname\",\"keyctl\"],\"errno\":\"ENOTSUP\"}");
  assert_exit_0(run_as_root("default_beneath_the_isolator", &app.isolators));
  describe_ok(&app, &seen, &plan);
  assert_note(&seen, "the default seccomp filter (");
  assert_note(&seen, ", beneath the isolator's");
  assert_int_equal(rule_named(&plan, "keyctl")->errnum, ENOTSUP); /* the isolator's answer */
  assert_int_equal(rule_named(&plan, "unshare")->errnum, EPERM);  /* the default's */
  appc_ace_app_plan_clear(&plan);
  appc_isolator_list_clear(&app.isolators);

  /* a retain set that lets keyctl through: the default still blocks it */
  add_isolator(&app.isolators, "os/linux/seccomp-retain-set",
               "{\"set\":[\"@appc.io/all\",\"keyctl\"]}");
  describe_ok(&app, &seen, &plan);
  assert_int_equal(rule_named(&plan, "keyctl")->errnum, EPERM);
  appc_ace_app_plan_clear(&plan);
  appc_isolator_list_clear(&app.isolators);

  add_isolator(&app.isolators, "os/linux/seccomp-retain-set",
               "{\"set\":[\"read\",\"keyctl\"],\"errno\":\"EACCES\"}");
  describe_ok(&app, &seen, &plan);
  assert_int_equal(rule_named(&plan, "keyctl")->errnum, EPERM);
  assert_null(rule_named(&plan, "unshare")); /* the retain set's EACCES answers it */
  assert_int_equal(plan.seccomp_default_errno, EACCES);
  appc_ace_app_plan_clear(&plan);
  appc_isolator_list_clear(&app.isolators);
}

/* --insecure-options=seccomp: no default filter, and an isolator's ignored
 * with a warning. */
static void test_no_seccomp_flag(void **state)
{
  struct appc_app app = {0};
  struct notes_seen seen = {{0}};
  struct ace_notes notes = {collect, &seen};
  struct ace_security *sec = NULL;
  struct appc_ace_app_plan plan = {0};
  appc_error_t err = NULL;
  (void) state;

  assert_ok(ace_security_prepare(&app, "web", ACE_SECURITY_NO_SECCOMP, &notes, &sec, &err), &err);
  assert_ok(ace_security_describe(sec, &plan, &err), &err);
  assert_false(plan.seccomp);
  assert_note(&seen, "I: app web: no seccomp filter: --insecure-options=seccomp");
  ace_security_free(sec);
  appc_ace_app_plan_clear(&plan);

  add_isolator(&app.isolators, "os/linux/seccomp-remove-set", "{\"set\":[\"uname\"]}");
  assert_ok(ace_security_prepare(&app, "web", ACE_SECURITY_NO_SECCOMP, &notes, &sec, &err), &err);
  assert_ok(ace_security_describe(sec, &plan, &err), &err);
  assert_false(plan.seccomp);
  assert_note(
      &seen,
      "W: app web: isolator os/linux/seccomp-remove-set ignored: --insecure-options=seccomp");
  ace_security_free(sec);
  appc_ace_app_plan_clear(&plan);
  appc_isolator_list_clear(&app.isolators);
}

/* Whether a call gets through: what the app's isolator decides (enter asks
 * before it sets the command's parent-death signal). */
static void test_allows_follows_the_isolator(void **state)
{
  struct appc_app app = {0};
  struct notes_seen seen = {{0}};
  (void) state;

  struct ace_security *sec = prepare_ok(&app, &seen);
  assert_true(ace_security_allows(sec, "prctl"));
  assert_true(ace_security_allows(sec, "getppid"));
  ace_security_free(sec);

  add_isolator(&app.isolators, "os/linux/seccomp-retain-set",
               "{\"set\":[\"read\",\"prctl\"],\"errno\":\"EPERM\"}");
  sec = prepare_ok(&app, &seen);
  assert_true(ace_security_allows(sec, "prctl"));
  assert_true(ace_security_allows(sec, "read"));
  assert_true(ace_security_allows(sec, "execve")); /* the lifecycle */
  assert_false(ace_security_allows(sec, "getppid"));
  ace_security_free(sec);
  appc_isolator_list_clear(&app.isolators);

  add_isolator(&app.isolators, "os/linux/seccomp-remove-set", "{\"set\":[\"getppid\"]}");
  sec = prepare_ok(&app, &seen);
  assert_false(ace_security_allows(sec, "getppid"));
  assert_true(ace_security_allows(sec, "prctl"));
  ace_security_free(sec);
  appc_isolator_list_clear(&app.isolators);
}

/* ---- prepare errors ------------------------------------------------------- */

static void expect_prepare_error(struct appc_app *app, const char *needle)
{
  struct ace_notes notes = {NULL, NULL};
  struct ace_security *sec = NULL;
  appc_error_t err = NULL;
  assert_error_contains(ace_security_prepare(app, "web", 0, &notes, &sec, &err), &err, needle);
  assert_null(sec);
  appc_isolator_list_clear(&app->isolators);
}

static void test_prepare_refuses_unknown_names(void **state)
{
  struct appc_app app = {0};
  (void) state;

  add_isolator(&app.isolators, "os/linux/no-new-privileges", "true");
  add_isolator(&app.isolators, "os/linux/capabilities-retain-set",
               "{\"set\":[\"CAP_KILL\",\"CAP_CHOWN\"]}");
  set_item(&app.isolators, 1, "CAP_FOO");
  expect_prepare_error(&app,
                       "app.isolators[1].value.set[1]: \"CAP_FOO\" is not a Linux capability");

  /* libcap alone would take these */
  add_isolator(&app.isolators, "os/linux/capabilities-remove-set", "{\"set\":[\"CAP_KILL\"]}");
  set_item(&app.isolators, 0, "cap_kill");
  expect_prepare_error(&app,
                       "app.isolators[0].value.set[0]: \"cap_kill\" is not a Linux capability");
  add_isolator(&app.isolators, "os/linux/capabilities-remove-set", "{\"set\":[\"CAP_KILL\"]}");
  set_item(&app.isolators, 0, "5");
  expect_prepare_error(&app, "\"5\" is not a Linux capability");

  add_isolator(&app.isolators, "os/linux/seccomp-remove-set",
               "{\"set\":[\"uname\",\"no_such_call\"]}");
  expect_prepare_error(&app,
                       "app.isolators[0].value.set[1]: \"no_such_call\" is not a system call");

  add_isolator(&app.isolators, "os/linux/seccomp-retain-set",
               "{\"set\":[\"uname\"],\"errno\":\"EFOO\"}");
  expect_prepare_error(&app, "app.isolators[0].value.errno: \"EFOO\" is not an errno name");

  add_isolator(&app.isolators, "os/linux/seccomp-remove-set",
               "{\"set\":[\"@docker/default-blacklist\"]}");
  expect_prepare_error(&app, "app.isolators[0].value.set[0]: \"@docker/default-blacklist\" is not "
                             "a syscall group actool supports");

  add_isolator(&app.isolators, "os/linux/seccomp-remove-set", "{\"set\":[\"uname\"]}");
  add_isolator(&app.isolators, "os/linux/seccomp-remove-set", "{\"set\":[\"getcwd\"]}");
  expect_prepare_error(&app, "app.isolators[1]: only one seccomp isolator is allowed");

  add_isolator(&app.isolators, "os/linux/capabilities-remove-set", "{\"set\":[\"CAP_KILL\"]}");
  add_isolator(&app.isolators, "os/linux/capabilities-retain-set", "{\"set\":[\"CAP_KILL\"]}");
  expect_prepare_error(&app, "app.isolators[1]: only one capabilities isolator is allowed");
}

/* Every errno name the schema accepts has a number here. */
static void test_every_errno_name_maps(void **state)
{
  static const char *const names[] = {"EPERM",     "ENOTSUP", "EOPNOTSUPP", "EWOULDBLOCK",
                                      "EHWPOISON", "ERFKILL", "E2BIG",      "EDEADLOCK"};
  (void) state;

  for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
    struct appc_app app = {0};
    struct notes_seen seen = {{0}};
    char json[128];
    snprintf(json, sizeof json, "{\"set\":[\"uname\"],\"errno\":\"%s\"}", names[i]);
    add_isolator(&app.isolators, "os/linux/seccomp-remove-set", json);
    ace_security_free(prepare_ok(&app, &seen));
    appc_isolator_list_clear(&app.isolators);
  }
}

static void test_selinux_context_is_reported_ignored(void **state)
{
  struct appc_app app = {0};
  struct notes_seen seen = {{0}};
  (void) state;

  add_isolator(
      &app.isolators, "os/linux/selinux-context",
      "{\"user\":\"system_u\",\"role\":\"system_r\",\"type\":\"svirt_t\",\"level\":\"s0\"}");
  ace_security_free(prepare_ok(&app, &seen));
  assert_note(&seen, "W: app web: isolator os/linux/selinux-context ignored: ");
  if (access("/sys/fs/selinux/enforce", F_OK) != 0)
    assert_note(&seen, "ignored: SELinux is not enabled on this host");
  appc_isolator_list_clear(&app.isolators);
}

/* ---- sysctl ----------------------------------------------------------------------- */

static void test_sysctl_check(void **state)
{
  struct appc_isolator_list pod = {0};
  struct notes_seen seen = {{0}};
  struct ace_notes notes = {collect, &seen};
  appc_error_t err = NULL;
  (void) state;

  add_isolator(&pod, "resource/memory", "{\"limit\":\"1G\"}");
  add_isolator(&pod, "os/unix/sysctl",
               "{\"net.ipv4.ip_forward\":\"1\",\"net.core.somaxconn\":\"512\"}");
  add_isolator(&pod, "os/linux/capabilities-retain-set", "{\"set\":[\"CAP_KILL\"]}");
  add_isolator(&pod, "os/linux/apparmor-profile", "{\"name\":\"x\"}");
  assert_ok(ace_sysctl_check(&pod, &notes, &err), &err);
  assert_note(&seen, "I: pod isolator os/unix/sysctl enforced");
  assert_note(&seen,
              "W: pod isolator os/linux/capabilities-retain-set ignored: it applies to apps only");
  assert_note(&seen, "W: pod isolator os/linux/apparmor-profile ignored: not supported by actool");
  assert_null(strstr(seen.text, "resource/memory"));
  appc_isolator_list_clear(&pod);

  static const char *const bad[] = {
      "kernel.hostname",
      "net",
      "net.",
      "net.ipv4..x",
      "net.ipv4.conf.ETH0.forwarding",
      "net.ipv4.",
      "net.ipv4/../../kernel",
      "netfilter.x",
  };
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    char json[256], needle[256];
    snprintf(json, sizeof json, "{\"%s\":\"1\"}", bad[i]);
    snprintf(needle, sizeof needle, "isolators[1].value: sysctl \"%s\" is not allowed", bad[i]);
    add_isolator(&pod, "resource/cpu", "{\"limit\":\"1\"}");
    add_isolator(&pod, "os/unix/sysctl", json);
    assert_error_contains(ace_sysctl_check(&pod, NULL, &err), &err, needle);
    assert_error_contains(ace_sysctl_apply(&pod, &err), &err, needle);
    appc_isolator_list_clear(&pod);
  }
}

static int read_int(const char *path)
{
  char buf[32] = "";
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return -1;
  if (fgets(buf, sizeof buf, f) == NULL)
    buf[0] = '\0';
  fclose(f);
  return atoi(buf);
}

/* In a network namespace of its own, as in the pod's init. */
static int sysctl_in_netns(const struct expect *e)
{
  appc_error_t err = NULL;
  CHECK(unshare(CLONE_NEWNET) == 0);
  /* A new namespace starts from the host's values (`run --net=default`
   * turns forwarding on there): 0 first, so that the isolator's 1 shows. */
  FILE *f = fopen("/proc/sys/net/ipv4/ip_forward", "w");
  CHECK(f != NULL && fputs("0\n", f) >= 0 && fclose(f) == 0);
  CHECK(read_int("/proc/sys/net/ipv4/ip_forward") == 0);
  int r = ace_sysctl_apply(e->isolators, &err);
  if (r < 0)
    fprintf(stderr, "child: %s\n", err->msg);
  appc_error_release(&err);
  CHECK(r == 0);
  CHECK(read_int("/proc/sys/net/ipv4/ip_forward") == 1);
  CHECK(read_int("/proc/sys/net/ipv4/tcp_syncookies") == 0);
  return 0;
}

static int sysctl_missing_key(const struct expect *e)
{
  appc_error_t err = NULL;
  CHECK(unshare(CLONE_NEWNET) == 0);
  CHECK(ace_sysctl_apply(e->isolators, &err) < 0);
  CHECK(strstr(err->msg, "isolators[0].value: sysctl \"net.ipv4.no_such_key\": cannot open "
                         "/proc/sys/net/ipv4/no_such_key") != NULL);
  appc_error_release(&err);
  return 0;
}

static void test_sysctl_apply_in_a_network_namespace(void **state)
{
  struct appc_isolator_list pod = {0};
  (void) state;

  add_isolator(&pod, "os/unix/sysctl",
               "{\"net.ipv4.ip_forward\":\"1\",\"net.ipv4.tcp_syncookies\":\"0\"}");
  assert_exit_0(run_as_root("sysctl_in_netns", &pod));
  appc_isolator_list_clear(&pod);

  add_isolator(&pod, "os/unix/sysctl", "{\"net.ipv4.no_such_key\":\"1\"}");
  assert_exit_0(run_as_root("sysctl_missing_key", &pod));
  appc_isolator_list_clear(&pod);
}

int main(int argc, char **argv)
{
  if (argc >= 9 && strcmp(argv[1], "--child") == 0)
    return child_main(argc, argv);
  self_path = argv[0];
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_default_capabilities_for_root),
    cmocka_unit_test(test_retain_set_is_exactly_the_set),
    cmocka_unit_test(test_remove_set_is_default_minus_set),
    cmocka_unit_test(test_capability_the_host_lacks),
    cmocka_unit_test(test_non_root_uid_gets_empty_sets),
    cmocka_unit_test(test_no_new_privileges),
    cmocka_unit_test(test_seccomp_remove_set_with_errno),
    cmocka_unit_test(test_seccomp_remove_set_kills_with_sigsys),
#if !UNDER_ASAN
    /* A retain set blocks the mmap that ASan's runtime needs in the
     * child: these two run in the plain build only (cmocka's skip() would
     * read as a failure in TAP). */
    cmocka_unit_test(test_seccomp_retain_set_kills_the_rest),
    cmocka_unit_test(test_seccomp_retain_set_lets_the_lifecycle_through),
#endif
    cmocka_unit_test(test_seccomp_wildcards_that_filter_nothing),
    cmocka_unit_test(test_seccomp_empty_plus_names),
    cmocka_unit_test(test_seccomp_remove_set_cannot_block_the_lifecycle),
    cmocka_unit_test(test_describe_what_is_enforced),
    cmocka_unit_test(test_default_filter),
    cmocka_unit_test(test_no_app_gets_the_defaults),
    cmocka_unit_test(test_default_filter_beneath_an_isolator),
    cmocka_unit_test(test_no_seccomp_flag),
    cmocka_unit_test(test_allows_follows_the_isolator),
    cmocka_unit_test(test_prepare_refuses_unknown_names),
    cmocka_unit_test(test_every_errno_name_maps),
    cmocka_unit_test(test_selinux_context_is_reported_ignored),
    cmocka_unit_test(test_sysctl_check),
    cmocka_unit_test(test_sysctl_apply_in_a_network_namespace),
  };
  if (geteuid() != 0) {
    fprintf(stderr, "test-ace-security: needs root, skipped\n");
    return 77;
  }
  return cmocka_run_group_tests_name("ace-security", tests, NULL, NULL);
}
