/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the executor's identity, environment, UUID and note parts
 * (ace/identity.c, ace/env.c, ace/uuid.c, ace/note.c), and of the /etc files
 * another runtime's bundle gets (appc_ace_provide_etc, ace/rootfs.c).  The
 * path-owner tests chown files, so they expect to run as root (as the
 * executor does). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SCRATCH_PREFIX "test-ace-identity"
#include "tests/unit/test-scratch.h"

#include "ace/internal.h"
#include "appc/ace.h"
#include "schema/json.h"
#include "appc/types.h"
#include "common/macros.h"

static int teardown(void **state)
{
  (void) state;
  scratch_remove(current_scratch);
  return 0;
}

static void put(const char *dir, const char *rel, const char *text)
{
  write_file(dir, rel, text, strlen(text));
}

static void link_at(const char *dir, const char *rel, const char *target)
{
  char *p = path_join(dir, rel);
  if (symlink(target, p) < 0)
    fail_msg("symlink %s: %s", p, strerror(errno));
  free(p);
}

static void chown_at(const char *dir, const char *rel, uid_t uid, gid_t gid)
{
  char *p = path_join(dir, rel);
  if (chown(p, uid, gid) < 0)
    fail_msg("chown %s: %s", p, strerror(errno));
  free(p);
}

/* An app running as USER and GROUP; the strings stay the caller's. */
static struct appc_app app_as(const char *user, const char *group)
{
  return (struct appc_app){.user = (char *) user, .group = (char *) group};
}

static int resolve(const char *root, const char *user, const char *group, struct ace_identity *id,
                   appc_error_t *err)
{
  struct appc_app app = app_as(user, group);
  return ace_identity_resolve(root, &app, id, err);
}

static void assert_ids(const char *root, const char *user, const char *group, uid_t uid, gid_t gid)
{
  struct ace_identity id;
  appc_error_t err = NULL;
  int r = resolve(root, user, group, &id, &err);

  assert_ok(r, &err);
  assert_int_equal(id.uid, uid);
  assert_int_equal(id.gid, gid);
  assert_null(id.groups);
  assert_int_equal(id.n_groups, 0);
  ace_identity_clear(&id);
}

static void assert_resolve_fails(const char *root, const char *user, const char *group,
                                 const char *needle)
{
  struct ace_identity id;
  appc_error_t err = NULL;
  int r = resolve(root, user, group, &id, &err);

  assert_error_contains(r, &err, needle);
  assert_null(id.groups);
}

/* ---- identity: names, numbers and paths ---- */

static void test_names_from_the_image(void **state)
{
  char *root = scratch_new();
  (void) state;

  put(root, "etc/passwd",
      "root:x:0:0:root:/root:/bin/sh\nwww:x:33:34:web:/var/www:/bin/false\n"
      "www:x:99:99:second entry loses:/:/bin/false\n");
  put(root, "etc/group", "root:x:0:\nwww-data:x:44:www\n");
  assert_ids(root, "www", "www-data", 33, 44);
  assert_ids(root, "root", "root", 0, 0);
  /* the user's primary group in passwd does not matter: group is its own field */
  assert_ids(root, "www", "root", 33, 0);
  scratch_remove(root);
}

static void test_numbers_when_no_name_matches(void **state)
{
  char *root = scratch_new();
  (void) state;

  put(root, "etc/passwd", "www:x:33:33::/:/bin/false\n");
  /* no /etc/group at all: numbers still work */
  assert_ids(root, "1234", "5678", 1234, 5678);
  assert_ids(root, "0", "0", 0, 0);
  assert_ids(root, "007", "4294967294", 7, 4294967294u);
  scratch_remove(root);
}

static void test_numeric_names_in_the_image_win(void **state)
{
  char *root = scratch_new();
  (void) state;

  put(root, "etc/passwd", "1000:x:5:6::/:/bin/sh\n");
  put(root, "etc/group", "77:x:88:\n");
  assert_ids(root, "1000", "77", 5, 88);
  assert_ids(root, "1001", "78", 1001, 78);
  scratch_remove(root);
}

static void test_names_that_are_nowhere(void **state)
{
  char *root = scratch_new();
  (void) state;

  assert_resolve_fails(root, "www", "0",
                       "app.user: \"www\" is not a number and the image has no /etc/passwd");
  assert_resolve_fails(root, "0", "staff",
                       "app.group: \"staff\" is not a number and the image has no /etc/group");
  put(root, "etc/passwd", "root:x:0:0::/:/bin/sh\n");
  put(root, "etc/group", "root:x:0:\n");
  assert_resolve_fails(root, "www", "0",
                       "app.user: \"www\" is not in /etc/passwd and is not a number");
  assert_resolve_fails(root, "0", "staff",
                       "app.group: \"staff\" is not in /etc/group and is not a number");
  assert_resolve_fails(root, "-1", "0", "app.user: \"-1\" is not in /etc/passwd");
  assert_resolve_fails(root, " 1", "0", "is not a number");
  assert_resolve_fails(root, "4294967295", "0",
                       "app.user: \"4294967295\" is not in "
                       "/etc/passwd and is out of range for a UID");
  assert_resolve_fails(root, "0", "99999999999999999999999", "out of range for a GID");
  assert_resolve_fails(root, "", "0", "app.user: must not be empty");
  assert_resolve_fails(root, "0", "", "app.group: must not be empty");
  scratch_remove(root);
}

static void test_path_owner(void **state)
{
  char *root = scratch_new();
  (void) state;

  put(root, "data/x", "x");
  chown_at(root, "data/x", 4321, 8765);
  chown_at(root, "data", 11, 12);
  put(root, "etc/passwd", "/data/x:x:1:1::/:/bin/sh\n");
  assert_ids(root, "/data/x", "/data/x", 4321, 8765);
  assert_ids(root, "/data", "/data/", 11, 12);
  assert_ids(root, "/data/./x", "//data//x", 4321, 8765);
  assert_resolve_fails(root, "0", "/data/x/y", "app.group: /data/x/y: no such file in the image");
  assert_resolve_fails(root, "/data/nope", "0", "app.user: /data/nope: no such file in the image");
  scratch_remove(root);
}

static void test_no_root(void **state)
{
  char *root = scratch_new();
  char *missing = path_join(root, "nope");
  struct ace_identity id;
  appc_error_t err = NULL;
  (void) state;

  int r = resolve(missing, "0", "0", &id, &err);
  assert_error_contains(r, &err, "nope: No such file or directory");
  free(missing);
  scratch_remove(root);
}

/* ---- identity: HOME ---- */

static void assert_home(const char *root, const char *user, const char *want)
{
  struct appc_app app = app_as(user, "0");
  struct ace_identity id;
  appc_error_t err = NULL;
  int r = ace_identity_resolve(root, user != NULL ? &app : NULL, &id, &err);

  assert_ok(r, &err);
  assert_string_equal(id.home, want);
  ace_identity_clear(&id);
  assert_null(id.home);
}

static void test_home_from_passwd(void **state)
{
  char *root = scratch_new();
  (void) state;

  /* no passwd: "/" for anyone, root too (as runc) */
  assert_home(root, "0", "/");
  assert_home(root, NULL, "/");
  put(root, "etc/passwd",
      "root:x:0:0:root:/root:/bin/sh\n"
      "www:x:33:33:web:/var/www:/bin/false\n"
      "alias:x:33:33::/srv/alias:/bin/false\n"
      "nohome:x:40:40::\n"
      "short:x:41:41\n"
      "nocolon:x:42:42:gecos:/srv/last\n"
      "1000:x:5:5::/home/numeric:/bin/sh\n"
      "bad:x:notanumber:0::/bad:/bin/sh\n"
      "bad2:x:77:0::/good2:/bin/sh\n");
  /* by name, by number (the first entry with that uid), and for no app */
  assert_home(root, "www", "/var/www");
  assert_home(root, "alias", "/srv/alias");
  assert_home(root, "33", "/var/www");
  assert_home(root, NULL, "/root");
  assert_home(root, "0", "/root");
  /* a name that is digits is a name first */
  assert_home(root, "1000", "/home/numeric");
  /* no such uid, an empty or missing home field */
  assert_home(root, "4242", "/");
  assert_home(root, "nohome", "/");
  assert_home(root, "short", "/");
  assert_home(root, "nocolon", "/srv/last");
  /* lines with a bad id are skipped */
  assert_home(root, "77", "/good2");
  /* a user given as a path: the owner's entry */
  put(root, "data/x", "x");
  chown_at(root, "data/x", 33, 0);
  assert_home(root, "/data/x", "/var/www");
  scratch_remove(root);
}

static void test_home_without_a_readable_passwd(void **state)
{
  char *root = scratch_new();
  (void) state;

  /* a user given as a path never reads passwd: a broken one gives "/" */
  put(root, "etc/passwd/not-a-file", "");
  put(root, "data/x", "x");
  chown_at(root, "data/x", 33, 0);
  assert_home(root, "/data/x", "/");
  assert_home(root, NULL, "/");
  scratch_remove(root);
}

/* ---- identity: staying inside the root ---- */

/* A root whose databases and files are reached through symlinks that would
 * lead out of it if followed on the host.  The host's /etc/passwd has root,
 * the image's does not. */
static void make_escaping_root(const char *root)
{
  put(root, "etc/hostpw", "www:x:1234:1234::/:/bin/false\n");
  link_at(root, "etc/passwd", "/etc/hostpw");
  put(root, "etc/grp", "www:x:4321:\n");
  link_at(root, "etc/group", "../../../../../../../../../../etc/grp");
  put(root, "data/x", "x");
  chown_at(root, "data/x", 4321, 8765);
  link_at(root, "data/abs", "/data/x");
  link_at(root, "data/up", "../../../../../../../../../data/x");
  link_at(root, "d", "data");
  link_at(root, "data/host", "/etc/shadow");
  link_at(root, "data/loop", "loop");
  /* NAME_MAX bytes: a longer name must not be cut down to it */
  char name[5 + NAME_MAX + 1] = "data/";
  memset(name + 5, 'a', NAME_MAX);
  name[5 + NAME_MAX] = '\0';
  put(root, name, "a");
}

/* The owner of "/data/aaa...a" with one 'a' too many: a name too long. */
static bool too_long_name_fails(const char *root)
{
  char user[1 + 5 + NAME_MAX + 2] = "/data/";
  struct ace_identity id;
  appc_error_t err = NULL;
  bool ok;

  memset(user + 6, 'a', NAME_MAX + 1);
  user[6 + NAME_MAX + 1] = '\0';
  ok = resolve(root, user, "0", &id, &err) < 0 && strstr(err->msg, "File name too long") != NULL;
  if (!ok)
    fprintf(stderr, "too long a name: %s\n", err != NULL ? err->msg : "resolved");
  appc_error_release(&err);
  ace_identity_clear(&id);
  return ok;
}

/* A file on another mount than the root's (procfs under the host's "/")
 * is no file of the image: its reading could have effects (/proc/kmsg). */
static bool other_mount_is_refused(void)
{
  struct ace_identity id;
  appc_error_t err = NULL;
  bool ok = resolve("/", "/proc/self/status", "0", &id, &err) < 0 && err != NULL &&
            strstr(err->msg, "app.user: /proc/self/status in the image leads out of the image's "
                             "file system") != NULL;

  if (!ok)
    fprintf(stderr, "another mount: %s\n", err != NULL ? err->msg : "resolved");
  appc_error_release(&err);
  ace_identity_clear(&id);
  return ok;
}

struct containment_case {
  const char *user, *group;
  uid_t uid;
  gid_t gid;
  const char *error; /* NULL when it must succeed */
};

static const struct containment_case containment_cases[] = {
    {"www", "www", 1234, 4321, NULL},
    {"root", "0", 0, 0, "app.user: \"root\" is not in /etc/passwd and is not a number"},
    {"/data/abs", "/data/up", 4321, 8765, NULL},
    {"/d/x", "/data/../../../data/x", 4321, 8765, NULL},
    {"/../../data/abs", "/d/../d/./up", 4321, 8765, NULL},
    {"/data/host", "0", 0, 0, "app.user: /data/host: no such file in the image"},
    {"0", "/data/loop", 0, 0, "app.group: /data/loop in the image: Too many levels of symbolic"},
    {"/data/x/..", "0", 0, 0, "app.user: /data/x/..: no such file in the image"},
};

/* The cases above, without cmocka (they also run in a child): 0 when all
 * pass, else 1 + the index of the first that failed. */
static int containment_checks(const char *root)
{
  for (size_t i = 0; i < ARRAY_SIZE(containment_cases); i++) {
    const struct containment_case *c = &containment_cases[i];
    struct ace_identity id;
    appc_error_t err = NULL;
    int r = resolve(root, c->user, c->group, &id, &err);
    bool ok = c->error == NULL ? r == 0 && id.uid == c->uid && id.gid == c->gid
                               : r < 0 && err != NULL && strstr(err->msg, c->error) != NULL;
    if (!ok)
      fprintf(stderr, "containment case %zu: %s\n", i, err != NULL ? err->msg : "wrong ids");
    appc_error_release(&err);
    ace_identity_clear(&id);
    if (!ok)
      return (int) i + 1;
  }
  if (!other_mount_is_refused())
    return 98;
  return too_long_name_fails(root) ? 0 : 99;
}

static void test_lookups_stay_inside_the_root(void **state)
{
  char *root = scratch_new();
  (void) state;

  make_escaping_root(root);
  assert_int_equal(containment_checks(root), 0);
  scratch_remove(root);
}

/* Make openat2 fail with ENOSYS, as on old kernels and under valgrind. */
static int deny_openat2(void)
{
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = ARRAY_SIZE(filter), .filter = filter};

  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
    return -1;
  return syscall(SYS_openat2, AT_FDCWD, "/", NULL, 0) < 0 && errno == ENOSYS ? 0 : -1;
}

/* The same cases with the component walk that replaces openat2. */
static void test_lookups_stay_inside_the_root_without_openat2(void **state)
{
  char *root = scratch_new();
  int status;
  pid_t pid;
  (void) state;

  make_escaping_root(root);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    _exit(deny_openat2() < 0 ? 100 : containment_checks(root));
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  scratch_remove(root);
}

/* ---- identity: what hostile images put in their databases ---- */

static void test_malformed_lines_are_skipped(void **state)
{
  char *root = scratch_new();
  size_t long_len = 200000;
  char *text = malloc(long_len + 4096);
  (void) state;

  assert_non_null(text);
  memset(text, 'w', long_len);
  text[long_len] = '\0';
  strcat(text, ":x:1:1\n"
               "\n"
               "www\n"
               "www:x\n"
               "www:x:\n"
               "www:x::1\n"
               "www:x:abc:1\n"
               "www:x:-1:1\n"
               "www:x:+5:1\n"
               "www:x:4294967295:1\n"
               "www:x:99999999999999999999:1\n"
               "www:x:12 :1\n"
               "+www:x:7:7\n"
               "-www:x:8:8\n"
               "#www:x:9:9\n"
               " www:x:10:10\n"
               "www :x:11:11\n"
               "www:x:42:42:gecos:/home:/bin/sh:extra\n"
               "short:x:43\n"
               "last:x:44:44");
  put(root, "etc/passwd", text);
  write_file(root, "etc/group", "nul\0:x:5:\nnul:x:6:\n", 19);
  assert_ids(root, "www", "nul", 42, 6);
  assert_ids(root, "short", "0", 43, 0);
  assert_ids(root, "last", "0", 44, 0);
  free(text);
  scratch_remove(root);
}

static void test_databases_that_are_not_files(void **state)
{
  char *root = scratch_new();
  char *fifo = path_join(root, "etc/group");
  char *big = path_join(root, "etc/passwd");
  int fd;
  (void) state;

  mkdirs(root, "etc");
  assert_int_equal(mkfifo(fifo, 0644), 0);
  /* a FIFO is never opened for reading, which would block */
  assert_resolve_fails(root, "0", "www",
                       "app.group: /etc/group in the image is not a regular file");
  mkdirs(root, "etc/passwd");
  assert_resolve_fails(root, "www", "0",
                       "app.user: /etc/passwd in the image is not a regular file");
  assert_int_equal(rmdir(big), 0);
  fd = open(big, O_WRONLY | O_CREAT, 0644);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (4 << 20) + 1), 0);
  close(fd);
  assert_resolve_fails(root, "www", "0", "app.user: /etc/passwd in the image is larger than 4 MiB");
  free(fifo);
  free(big);
  scratch_remove(root);
}

static void test_supplementary_gids(void **state)
{
  char *root = scratch_new();
  int64_t good[] = {0, 10, 4294967294};
  int64_t negative[] = {10, -1};
  int64_t large[] = {4294967295};
  struct appc_app app = app_as("1", "2");
  struct ace_identity id;
  appc_error_t err = NULL;
  (void) state;

  app.supplementary_gids = good;
  app.n_supplementary_gids = 3;
  int r = ace_identity_resolve(root, &app, &id, &err);
  assert_ok(r, &err);
  assert_int_equal(id.uid, 1);
  assert_int_equal(id.gid, 2);
  assert_int_equal(id.n_groups, 3);
  assert_int_equal(id.groups[0], 0);
  assert_int_equal(id.groups[1], 10);
  assert_int_equal(id.groups[2], 4294967294u);
  ace_identity_clear(&id);
  assert_null(id.groups);
  assert_int_equal(id.n_groups, 0);

  app.supplementary_gids = negative;
  app.n_supplementary_gids = 2;
  r = ace_identity_resolve(root, &app, &id, &err);
  assert_error_contains(r, &err, "app.supplementaryGIDs[1]: -1 is not a valid GID");
  assert_null(id.groups);
  app.supplementary_gids = large;
  app.n_supplementary_gids = 1;
  r = ace_identity_resolve(root, &app, &id, &err);
  assert_error_contains(r, &err, "app.supplementaryGIDs[0]: 4294967295 is not a valid GID");
  scratch_remove(root);
}

/* ---- environment files ---- */

static void assert_kv(const struct appc_kv_list *l, size_t i, const char *name, const char *value)
{
  assert_true(i < l->len);
  assert_string_equal(l->items[i].name, name);
  assert_string_equal(l->items[i].value, value);
}

static int parse_text(const char *dir, const char *text, struct appc_kv_list *out,
                      appc_error_t *err)
{
  char *path = path_join(dir, "env");
  int r;

  put(dir, "env", text);
  r = ace_env_file_parse(path, out, NULL, err);
  free(path);
  return r;
}

static void test_env_file_syntax(void **state)
{
  char *dir = scratch_new();
  struct appc_kv_list l = {0};
  appc_error_t err = NULL;
  (void) state;

  int r = parse_text(dir,
                     "# a comment\n"
                     "; another\n"
                     "\n"
                     "  A = 1  \n"
                     "B=\"two words\"\n"
                     "C='single $x \\n \"'\n"
                     "D=\"esc \\\" \\\\ \\$ \\` \\n\"\n"
                     "E=long\\\n"
                     "line\n"
                     "F=\"multi\n"
                     "line\"\n"
                     "G=  spaced value  \t\n"
                     "H=\n"
                     "A=override\n"
                     "I=a\\ b\\\\c\\ \n"
                     "J=\"x\" 'y' z\n"
                     "# a comment that goes on \\\n"
                     "K=not-a-variable\n"
                     "L=\"d\\\n"
                     "q\"\r\n"
                     "M=last",
                     &l, &err);
  assert_ok(r, &err);
  assert_int_equal(l.len, 12);
  assert_kv(&l, 0, "A", "override");
  assert_kv(&l, 1, "B", "two words");
  assert_kv(&l, 2, "C", "single $x \\n \"");
  assert_kv(&l, 3, "D", "esc \" \\ $ ` \\n");
  assert_kv(&l, 4, "E", "longline");
  assert_kv(&l, 5, "F", "multi\nline");
  assert_kv(&l, 6, "G", "spaced value");
  assert_kv(&l, 7, "H", "");
  assert_kv(&l, 8, "I", "a b\\c ");
  assert_kv(&l, 9, "J", "xyz");
  assert_kv(&l, 10, "L", "dq");
  assert_kv(&l, 11, "M", "last");
  appc_kv_list_clear(&l);
  scratch_remove(dir);
}

static void test_env_file_errors(void **state)
{
  char *dir = scratch_new();
  char *path = path_join(dir, "env");
  char *missing = path_join(dir, "nope");
  struct appc_kv_list l = {0};
  appc_error_t err = NULL;
  char *want = NULL;
  (void) state;

  int r = parse_text(dir, "X=1\n\n\nY=\"open\n\n", &l, &err);
  assert_true(asprintf(&want, "%s:4: the value of Y has no closing quote", path) > 0);
  assert_error_contains(r, &err, want);
  free(want);
  write_file(dir, "env", "X=1\nY=a\0b\n", 10);
  r = ace_env_file_parse(path, &l, NULL, &err);
  assert_error_contains(r, &err, ":2: contains a NUL byte");
  r = ace_env_file_parse(missing, &l, NULL, &err);
  assert_error_contains(r, &err, "nope: No such file or directory");
  /* nothing was added by the files that failed */
  assert_int_equal(l.len, 0);
  assert_null(l.items);
  free(path);
  free(missing);
  scratch_remove(dir);
}

static void test_env_file_appends_and_replaces(void **state)
{
  char *dir = scratch_new();
  struct appc_kv_list l = {0};
  appc_error_t err = NULL;
  (void) state;

  int r = parse_text(dir, "X=old\nY=keep\n", &l, &err);
  assert_ok(r, &err);
  r = parse_text(dir, "Z=1\nX=new\nZ=2\n", &l, &err);
  assert_ok(r, &err);
  assert_int_equal(l.len, 3);
  assert_kv(&l, 0, "X", "new");
  assert_kv(&l, 1, "Y", "keep");
  assert_kv(&l, 2, "Z", "2");
  r = parse_text(dir, "", &l, &err);
  assert_ok(r, &err);
  assert_int_equal(l.len, 3);
  appc_kv_list_clear(&l);
  scratch_remove(dir);
}

/* ---- the environment of an app ---- */

static void assert_env(char **env, const char *const *want)
{
  size_t i = 0;
  for (; want[i] != NULL; i++) {
    assert_non_null(env[i]);
    assert_string_equal(env[i], want[i]);
  }
  assert_null(env[i]);
}

static void test_env_build_precedence(void **state)
{
  /* the image and --set-env cannot replace the ACE's AC_APP_NAME and
   * AC_METADATA_URL */
  struct appc_kv app_env[] = {{"PATH", "/app/bin"},
                              {"FOO", "app"},
                              {"KEEP", "app"},
                              {"container", "other"},
                              {"AC_APP_NAME", "spoofed"}};
  struct appc_kv extra_env[] = {
      {"FOO", "file"}, {"BAR", "1"}, {"FOO", "set-env"}, {"AC_METADATA_URL", "http://evil/"}};
  struct appc_app app = app_as("0", "0");
  struct appc_kv_list extra = {extra_env, 4};
  char **env = NULL;
  appc_error_t err = NULL;
  (void) state;

  app.environment = (struct appc_kv_list){app_env, 5};
  int r = ace_env_build(&app, "web", "http://10.0.0.1:2375/token", "/home/web", &extra, &env, &err);
  assert_ok(r, &err);
  assert_env(env, (const char *const[]){"PATH=/app/bin", "container=other", "HOME=/home/web",
                                        "FOO=set-env", "KEEP=app", "AC_APP_NAME=web", "BAR=1",
                                        "AC_METADATA_URL=http://10.0.0.1:2375/token", NULL});
  assert_string_equal(ace_env_get(env, "FOO"), "set-env");
  assert_string_equal(ace_env_get(env, "PATH"), "/app/bin");
  assert_null(ace_env_get(env, "FO"));
  assert_null(ace_env_get(env, "MISSING"));
  assert_null(ace_env_get(NULL, "PATH"));
  ace_env_free(env);

  r = ace_env_build(NULL, "web", NULL, NULL, NULL, &env, &err);
  assert_ok(r, &err);
  assert_env(env, (const char *const[]){
                      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                      "container=actool", "AC_APP_NAME=web", NULL});
  ace_env_free(env);
  ace_env_free(NULL);

  /* the image's HOME, or --set-env's, wins over the user's */
  extra_env[1].name = "HOME";
  r = ace_env_build(&app, "web", NULL, "/home/web", &extra, &env, &err);
  assert_ok(r, &err);
  assert_string_equal(ace_env_get(env, "HOME"), "1");
  ace_env_free(env);

  extra_env[1].name = "NOT VALID";
  r = ace_env_build(&app, "web", NULL, NULL, &extra, &env, &err);
  assert_error_contains(r, &err, "environment[1].name: \"NOT VALID\" is not a valid");
  assert_null(env);
}

/* ---- PATH search ---- */

static void assert_lookup(const char *file, char *const *env, const char *want)
{
  char *got = NULL;
  appc_error_t err = NULL;
  int r = ace_exec_lookup(file, env, &got, &err);

  assert_ok(r, &err);
  assert_string_equal(got, want);
  free(got);
}

static void assert_lookup_fails(const char *file, char *const *env, int errnum, const char *needle)
{
  char *got = NULL;
  appc_error_t err = NULL;
  int r = ace_exec_lookup(file, env, &got, &err);

  assert_true(r < 0);
  assert_null(got);
  assert_non_null(err);
  assert_int_equal(err->errnum, errnum);
  assert_error_contains(r, &err, needle);
}

/* "PATH=DIR/A:DIR/B:DIR/C" */
static char *path_env(const char *dir, const char *a, const char *b, const char *c)
{
  char *s = NULL;
  assert_true(asprintf(&s, "PATH=%s/%s:%s/%s:%s/%s", dir, a, dir, b, dir, c) > 0);
  return s;
}

static void test_exec_lookup(void **state)
{
  char *dir = scratch_new();
  char *a = path_join(dir, "a/prog"), *b = path_join(dir, "b/prog");
  char *cwd = getcwd(NULL, 0);
  char *env[2] = {NULL, NULL};
  (void) state;

  put(dir, "a/prog", "#!/bin/sh\n"); /* not executable */
  put(dir, "b/prog", "#!/bin/sh\n");
  assert_int_equal(chmod(b, 0755), 0);
  mkdirs(dir, "c/prog"); /* a directory, even searchable, is not a program */

  env[0] = path_env(dir, "a", "c", "b");
  assert_lookup("prog", env, b);
  free(env[0]);
  env[0] = path_env(dir, "b", "a", "c");
  assert_lookup("prog", env, b);
  free(env[0]);
  env[0] = path_env(dir, "a", "c", "none");
  assert_lookup_fails("prog", env, EACCES, "prog: found in PATH=");
  free(env[0]);
  env[0] = path_env(dir, "none", "none2", ".");
  assert_lookup_fails("prog", env, ENOENT, "prog: not found in PATH=");
  /* a name with a slash is not searched, and not checked either */
  assert_lookup("./prog", env, "./prog");
  assert_lookup("x/y", env, "x/y");
  assert_lookup_fails("", env, ENOENT, "the empty command");
  free(env[0]);

  /* empty entries are the current directory, as for execvp */
  char *bdir = path_join(dir, "b");
  assert_int_equal(chdir(bdir), 0);
  env[0] = "PATH=/nonexistent::/nonexistent2";
  assert_lookup("prog", env, "./prog");
  env[0] = "PATH=/nonexistent:";
  assert_lookup("prog", env, "./prog");
  env[0] = "PATH=";
  assert_lookup("prog", env, "./prog");
  assert_int_equal(chdir(cwd), 0);

  /* without PATH, the spec's */
  env[0] = "HOME=/";
  char *sh = NULL;
  appc_error_t err = NULL;
  int r = ace_exec_lookup("sh", env, &sh, &err);
  assert_ok(r, &err);
  assert_true(strcmp(sh, "/usr/bin/sh") == 0 || strcmp(sh, "/bin/sh") == 0 ||
              strcmp(sh, "/usr/local/bin/sh") == 0);
  free(sh);
  free(bdir);
  free(cwd);
  free(a);
  free(b);
  scratch_remove(dir);
}

/* ---- UUIDs ---- */

static int cmp_uuid(const void *x, const void *y)
{
  return strcmp(x, y);
}

static void test_uuid(void **state)
{
  enum { N = 2000 };
  char(*u)[37] = calloc(N, sizeof *u);
  appc_error_t err = NULL;
  (void) state;

  assert_non_null(u);
  for (size_t i = 0; i < N; i++) {
    int r = ace_uuid_new(u[i], &err);
    assert_ok(r, &err);
    assert_int_equal(strlen(u[i]), 36);
    for (size_t k = 0; k < 36; k++) {
      if (k == 8 || k == 13 || k == 18 || k == 23)
        assert_int_equal(u[i][k], '-');
      else
        assert_non_null(strchr("0123456789abcdef", u[i][k]));
    }
    assert_int_equal(u[i][14], '4');
    assert_non_null(strchr("89ab", u[i][19]));
    assert_ok(appc_validate_uuid(u[i], &err), &err);
  }
  qsort(u, N, sizeof *u, cmp_uuid);
  for (size_t i = 1; i < N; i++)
    assert_string_not_equal(u[i - 1], u[i]);
  free(u);
}

/* Lines systemd skips (a bad name, "export X=", no '='): skipped with one
 * warning each naming FILE:LINE; the other entries are kept. */
struct skipped {
  int warnings;
  char msgs[1024];
};

static void collect(void *data, enum ace_note_level level, const char *msg)
{
  struct skipped *k = data;

  assert_int_equal(level, ACE_NOTE_WARN);
  k->warnings++;
  strncat(k->msgs, msg, sizeof k->msgs - strlen(k->msgs) - 2);
  strcat(k->msgs, "|");
}

static void test_env_file_skips(void **state)
{
  char *dir = scratch_new();
  char *path = path_join(dir, "env");
  struct appc_kv_list l = {0};
  appc_error_t err = NULL;
  struct skipped k = {0};
  struct ace_notes notes = {collect, &k};
  char *want = NULL;
  (void) state;

  put(dir, "env", "OK=1\nexport X=2\n A B = 1\nNOEQUALS\n1X=2\n=1\nY=3\nLAST");
  assert_int_equal(ace_env_file_parse(path, &l, &notes, &err), 0);
  assert_null(err);
  assert_int_equal(l.len, 2);
  assert_string_equal(l.items[0].name, "OK");
  assert_string_equal(l.items[1].name, "Y");
  assert_string_equal(l.items[1].value, "3");
  assert_int_equal(k.warnings, 6);
  assert_true(
      asprintf(&want,
               "%1$s:2: \"export X\" is not a valid environment variable name: line ignored|"
               "%1$s:3: \"A B\" is not a valid environment variable name: line ignored|"
               "%1$s:4: \"NOEQUALS\" is not of the form KEY=VALUE: line ignored|",
               path) > 0);
  assert_memory_equal(k.msgs, want, strlen(want));
  assert_non_null(strstr(k.msgs, ":8: \"LAST\" is not of the form KEY=VALUE: line ignored|"));
  free(want);
  appc_kv_list_clear(&l);
  free(path);
  scratch_remove(dir);
}

/* ---- notes ---- */

struct seen {
  int calls;
  enum ace_note_level level;
  char msg[64];
};

static void record(void *data, enum ace_note_level level, const char *msg)
{
  struct seen *s = data;
  s->calls++;
  s->level = level;
  snprintf(s->msg, sizeof s->msg, "%s", msg);
}

static void test_note(void **state)
{
  struct seen seen = {0};
  struct ace_notes notes = {record, &seen};
  struct ace_notes silent = {NULL, &seen};
  (void) state;

  ace_note(&notes, ACE_NOTE_WARN, "isolator %s ignored (%d)", "resource/network-bandwidth", 3);
  assert_int_equal(seen.calls, 1);
  assert_int_equal(seen.level, ACE_NOTE_WARN);
  assert_string_equal(seen.msg, "isolator resource/network-bandwidth ignored (3)");
  ace_note(&notes, ACE_NOTE_INFO, "done");
  assert_int_equal(seen.level, ACE_NOTE_INFO);
  assert_string_equal(seen.msg, "done");
  ace_note(&silent, ACE_NOTE_WARN, "dropped");
  ace_note(NULL, ACE_NOTE_WARN, "dropped");
  assert_int_equal(seen.calls, 2);
}

/* ---- /etc files for another runtime (appc_ace_provide_etc) ---- */

/* The text of DIR/REL, or NULL when it cannot be read; malloc'ed. */
static char *text_at(const char *dir, const char *rel)
{
  char *p = path_join(dir, rel);
  char *text = NULL;
  size_t len = 0;
  FILE *f = fopen(p, "r");

  free(p);
  if (f == NULL)
    return NULL;
  if (getdelim(&text, &len, '\0', f) < 0) {
    free(text);
    text = strdup("");
  }
  fclose(f);
  return text;
}

static void assert_text_at(const char *dir, const char *rel, const char *want)
{
  char *got = text_at(dir, rel);
  assert_non_null(got);
  assert_string_equal(got, want);
  free(got);
}

static void test_provide_etc(void **state)
{
  char *root = scratch_new();
  char *host_resolv = text_at("/", "etc/resolv.conf");
  appc_error_t err = NULL;
  (void) state;

  /* the image's hosts stays; hostname is replaced; the rest is added */
  put(root, "etc/hosts", "10.0.0.1 mine\n");
  put(root, "etc/hostname", "image\n");
  assert_ok(appc_ace_provide_etc(root, "app", &err), &err);
  assert_text_at(root, "etc/hosts", "10.0.0.1 mine\n");
  assert_text_at(root, "etc/hostname", "app\n");
  assert_text_at(root, "etc/os-release", "");
  if (host_resolv != NULL)
    assert_text_at(root, "etc/resolv.conf", host_resolv);
  scratch_remove(root);

  /* no /etc at all: made, with localhost and the hostname in hosts */
  root = scratch_new();
  put(root, "usr/lib/os-release", "NAME=x\n");
  assert_ok(appc_ace_provide_etc(root, "app", &err), &err);
  assert_text_at(
      root, "etc/hosts",
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tapp\n");
  char *none = text_at(root, "etc/os-release");
  assert_null(none); /* the image's usr/lib/os-release serves */
  scratch_remove(root);

  /* etc, a symlink to an absolute path: resolved inside the tree */
  root = scratch_new();
  put(root, "real-etc/keep", "");
  link_at(root, "etc", "/real-etc");
  assert_ok(appc_ace_provide_etc(root, "app", &err), &err);
  assert_text_at(root, "real-etc/hostname", "app\n");
  scratch_remove(root);

  /* etc -> /etc is a loop inside the tree, never the host's /etc */
  root = scratch_new();
  char *host_hostname = text_at("/", "etc/hostname");
  link_at(root, "etc", "/etc");
  assert_true(appc_ace_provide_etc(root, "not-the-host", &err) < 0);
  assert_error_contains(-1, &err, "/etc");
  char *after = text_at("/", "etc/hostname");
  assert_true((host_hostname == NULL && after == NULL) ||
              (host_hostname != NULL && after != NULL && strcmp(host_hostname, after) == 0));
  free(after);
  free(host_hostname);
  free(host_resolv);
  scratch_remove(root);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_names_from_the_image, teardown),
      cmocka_unit_test_teardown(test_numbers_when_no_name_matches, teardown),
      cmocka_unit_test_teardown(test_numeric_names_in_the_image_win, teardown),
      cmocka_unit_test_teardown(test_names_that_are_nowhere, teardown),
      cmocka_unit_test_teardown(test_path_owner, teardown),
      cmocka_unit_test_teardown(test_no_root, teardown),
      cmocka_unit_test_teardown(test_home_from_passwd, teardown),
      cmocka_unit_test_teardown(test_home_without_a_readable_passwd, teardown),
      cmocka_unit_test_teardown(test_lookups_stay_inside_the_root, teardown),
      cmocka_unit_test_teardown(test_lookups_stay_inside_the_root_without_openat2, teardown),
      cmocka_unit_test_teardown(test_malformed_lines_are_skipped, teardown),
      cmocka_unit_test_teardown(test_databases_that_are_not_files, teardown),
      cmocka_unit_test_teardown(test_supplementary_gids, teardown),
      cmocka_unit_test_teardown(test_env_file_syntax, teardown),
      cmocka_unit_test_teardown(test_env_file_errors, teardown),
      cmocka_unit_test_teardown(test_env_file_skips, teardown),
      cmocka_unit_test_teardown(test_env_file_appends_and_replaces, teardown),
      cmocka_unit_test(test_env_build_precedence),
      cmocka_unit_test_teardown(test_exec_lookup, teardown),
      cmocka_unit_test(test_uuid),
      cmocka_unit_test(test_note),
      cmocka_unit_test_teardown(test_provide_etc, teardown),
  };
  return cmocka_run_group_tests_name("ace-identity", tests, NULL, NULL);
}
