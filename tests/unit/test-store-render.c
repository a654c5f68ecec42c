/* SPDX-License-Identifier: Apache-2.0 */
/* store render engine unit tests: pathWhitelist parsing and matching, the
 * layer override order of the ACE spec's examples, the safety rules
 * (nothing written through a symlink or outside the rootfs), hard links,
 * metadata, and the tree digest (checked against an independent
 * computation of the format docs/render.md defines).  Each test builds its
 * small ACIs with libarchive's writer in a scratch directory. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "store/internal.h"
#include "tests/unit/test-util.h"
#define SCRATCH_PREFIX "test-render"
#include "tests/unit/test-scratch.h"

/* ---- scratch directories ---- */

static int teardown(void **state)
{
  (void) state;
  scratch_remove(current_scratch);
  return 0;
}

/* ---- building ACIs ---- */

/* One archive member.  Zero fields take defaults: a regular file, mode 0644
 * (0755 for directories), owner 0:0, mtime 1000000000. */
struct ent {
  const char *name; /* the raw archive name, e.g. "rootfs/etc/x" */
  mode_t type;      /* AE_IF* */
  const char *data; /* regular files */
  const char *link; /* symlink target */
  const char *hard; /* hard link target (an archive name) */
  mode_t mode;
  int64_t uid, gid;
  time_t mtime;
  long mtime_nsec;
  const char *xname, *xvalue; /* one extended attribute */
  dev_t rdev;
  const char *sparse; /* "DATA@OFFSET+SIZE": DATA at OFFSET in a file of SIZE */
};

/* The writer takes the whole logical content and leaves out the holes
 * (never read: a mapping that costs nothing, a terabyte if need be). */
static void add_sparse(struct archive *a, struct archive_entry *e, const char *spec)
{
  char data[64];
  long long off, size;
  assert_int_equal(sscanf(spec, "%63[^@]@%lld+%lld", data, &off, &size), 3);
  char *whole = mmap(NULL, (size_t) size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  assert_true(whole != MAP_FAILED);
  memcpy(whole + off, data, strlen(data));
  archive_entry_set_size(e, size);
  archive_entry_sparse_add_entry(e, off, (la_int64_t) strlen(data));
  assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
  /* (a call writes at most INT_MAX bytes) */
  for (long long at = 0; at < size;) {
    la_ssize_t n = archive_write_data(a, whole + at, (size_t) (size - at));
    assert_true(n > 0);
    at += n;
  }
  munmap(whole, (size_t) size);
}

static void add_ent(struct archive *a, const struct ent *x)
{
  struct archive_entry *e = archive_entry_new();
  mode_t type = x->hard != NULL ? AE_IFREG : x->type != 0 ? x->type : AE_IFREG;

  assert_non_null(e);
  archive_entry_set_pathname(e, x->name);
  archive_entry_set_filetype(e, type);
  archive_entry_set_perm(e, x->mode != 0 ? x->mode : type == AE_IFDIR ? 0755 : 0644);
  archive_entry_set_uid(e, x->uid);
  archive_entry_set_gid(e, x->gid);
  archive_entry_set_mtime(e, x->mtime != 0 ? x->mtime : 1000000000, x->mtime_nsec);
  if (x->link != NULL)
    archive_entry_set_symlink(e, x->link);
  if (x->hard != NULL)
    archive_entry_set_hardlink(e, x->hard);
  if (x->xname != NULL)
    archive_entry_xattr_add_entry(e, x->xname, x->xvalue, strlen(x->xvalue));
  if (type == AE_IFCHR || type == AE_IFBLK)
    archive_entry_set_rdev(e, x->rdev);
  if (x->sparse != NULL) {
    add_sparse(a, e, x->sparse);
  } else {
    size_t len = x->data != NULL ? strlen(x->data) : 0;
    archive_entry_set_size(e, (la_int64_t) len);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    if (len > 0)
      assert_int_equal(archive_write_data(a, x->data, len), (la_ssize_t) len);
  }
  archive_entry_free(e);
}

/* Write DIR/NAME: "manifest" and "rootfs/" (unless BARE), then ENTS up to
 * one without a name.  Returns the path (caller frees). */
static char *write_aci_ents(const char *dir, const char *name, bool gzip, bool bare,
                            const struct ent *ents)
{
  char *path = path_join(dir, name);
  struct archive *a = archive_write_new();

  assert_non_null(a);
  assert_int_equal(archive_write_set_format_pax(a), ARCHIVE_OK);
  if (gzip)
    assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
  assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
  if (!bare) {
    add_ent(a, &(struct ent){.name = "manifest", .data = "{}"});
    add_ent(a, &(struct ent){.name = "rootfs", .type = AE_IFDIR});
  }
  for (const struct ent *x = ents; x->name != NULL; x++)
    add_ent(a, x);
  assert_int_equal(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
  return path;
}

#define ACI(dir, name, gzip, ...)                                                                  \
  write_aci_ents(dir, name, gzip, false, (struct ent[]){__VA_ARGS__, {0}})
#define BARE_ACI(dir, name, ...)                                                                   \
  write_aci_ents(dir, name, false, true, (struct ent[]){__VA_ARGS__, {0}})
#define D(n, ...)                                                                                  \
  {                                                                                                \
    .name = "rootfs/" n, .type = AE_IFDIR, __VA_ARGS__                                             \
  }
#define F(n, content, ...)                                                                         \
  {                                                                                                \
    .name = "rootfs/" n, .data = content, __VA_ARGS__                                              \
  }
#define L(n, target, ...)                                                                          \
  {                                                                                                \
    .name = "rootfs/" n, .type = AE_IFLNK, .link = target, __VA_ARGS__                             \
  }
#define H(n, target, ...)                                                                          \
  {                                                                                                \
    .name = "rootfs/" n, .hard = "rootfs/" target, __VA_ARGS__                                     \
  }

/* ---- whitelists ---- */

static void wl_init(struct appc_whitelist *wl, const char *const *paths)
{
  struct appc_string_list l = {(char **) paths, 0};
  appc_error_t err = NULL;
  while (paths[l.len] != NULL)
    l.len++;
  int r = appc_whitelist_init(wl, &l, &err);
  assert_ok(r, &err);
}

#define WL(wl, ...) wl_init(wl, (const char *const[]){__VA_ARGS__, NULL})

/* ---- rendering ---- */

struct layer {
  const char *aci;
  const struct appc_whitelist *filters[4];
  size_t n_filters;
};

/* Render LAYERS (top image first) into DEST, which is created. */
static int render_into(const char *dest, bool as_root, const struct layer *layers, size_t n,
                       char digest[APPC_TREE_DIGEST_LEN + 1], appc_error_t *err)
{
  struct appc_render_options o = {.as_root = as_root};
  struct appc_render *r = NULL;
  int fd, ret;

  assert_int_equal(mkdir(dest, 0755), 0);
  fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(fd >= 0);
  ret = appc_render_new(&r, fd, &o, err);
  for (size_t i = 0; ret == 0 && i < n; i++) {
    struct appc_render_layer l = {layers[i].aci, layers[i].filters, layers[i].n_filters, NULL};
    ret = appc_render_layer(r, &l, err);
  }
  if (ret == 0)
    ret = appc_render_finish(r, digest, err);
  appc_render_free(r);
  close(fd);
  return ret;
}

static void render_ok(const char *dest, bool as_root, const struct layer *layers, size_t n,
                      char digest[APPC_TREE_DIGEST_LEN + 1])
{
  appc_error_t err = NULL;
  int r = render_into(dest, as_root, layers, n, digest, &err);
  assert_ok(r, &err);
}

static void digest_of(const char *dir, char digest[APPC_TREE_DIGEST_LEN + 1])
{
  appc_error_t err = NULL;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(fd >= 0);
  int r = appc_tree_digest(fd, NULL, NULL, digest, &err);
  close(fd);
  assert_ok(r, &err);
}

/* ---- checking the result ---- */

/* The content of ROOT/REL, or NULL when there is no such regular file. */
static char *content(const char *root, const char *rel)
{
  char *p = path_join(root, rel), *buf = calloc(1, 4096);
  int fd = open(p, O_RDONLY | O_NOFOLLOW);
  ssize_t n;

  free(p);
  assert_non_null(buf);
  if (fd < 0) {
    free(buf);
    return NULL;
  }
  n = read(fd, buf, 4095);
  close(fd);
  assert_true(n >= 0);
  return buf;
}

static void expect_content(const char *root, const char *rel, const char *want)
{
  char *got = content(root, rel);
  if (got == NULL)
    fail_msg("%s: missing", rel);
  if (strcmp(got, want) != 0)
    fail_msg("%s: \"%s\", wanted \"%s\"", rel, got, want);
  free(got);
}

static void expect_absent(const char *root, const char *rel)
{
  char *p = path_join(root, rel);
  struct stat st;
  if (lstat(p, &st) == 0)
    fail_msg("%s: present, should not be", rel);
  assert_int_equal(errno, ENOENT);
  free(p);
}

static struct stat stat_of(const char *root, const char *rel)
{
  char *p = path_join(root, rel);
  struct stat st;
  if (lstat(p, &st) < 0)
    fail_msg("%s: %s", rel, strerror(errno));
  free(p);
  return st;
}

static char *xattr_of(const char *root, const char *rel, const char *name)
{
  char *p = path_join(root, rel), *buf = calloc(1, 256);
  ssize_t n = lgetxattr(p, name, buf, 255);
  free(p);
  if (n < 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* ---- tests ---- */

static void test_whitelist_parse_and_match(void **state)
{
  struct appc_whitelist wl;
  appc_error_t err = NULL;
  (void) state;

  WL(&wl, "/bin/sh", "/usr/lib//x/./libc.so", "/etc/ssl/", "/opt/.");
  assert_true(appc_whitelist_allows(&wl, "bin/sh", false));
  assert_false(appc_whitelist_allows(&wl, "bin/ls", false));
  assert_true(appc_whitelist_allows(&wl, "bin", true));
  assert_false(appc_whitelist_allows(&wl, "bin", false)); /* a file named bin */
  assert_true(appc_whitelist_allows(&wl, "usr/lib/x/libc.so", false));
  assert_true(appc_whitelist_allows(&wl, "usr", true));
  assert_true(appc_whitelist_allows(&wl, "usr/lib", true));
  assert_true(appc_whitelist_allows(&wl, "usr/lib/x", true));
  assert_false(appc_whitelist_allows(&wl, "usr/lib/y", true));
  assert_false(appc_whitelist_allows(&wl, "usr/lib/x/libc.so/z", false));
  assert_true(appc_whitelist_allows(&wl, "etc/ssl", true));
  assert_true(appc_whitelist_allows(&wl, "etc", true));
  /* a listed directory is not a prefix for its contents */
  assert_false(appc_whitelist_allows(&wl, "etc/ssl/cert.pem", false));
  assert_true(appc_whitelist_allows(&wl, "opt", true));
  assert_false(appc_whitelist_allows(&wl, "bi", true));
  appc_whitelist_clear(&wl);

  /* empty: the same as no whitelist */
  WL(&wl, NULL);
  assert_true(appc_whitelist_allows(&wl, "anything/at/all", false));
  appc_whitelist_clear(&wl);

  const char *relative[] = {"/ok", "bin/sh"};
  struct appc_string_list l = {(char **) relative, 2};
  int r = appc_whitelist_init(&wl, &l, &err);
  assert_error_contains(r, &err, "\"bin/sh\": not an absolute path");
  const char *dotdot[] = {"/a/../etc/shadow"};
  l = (struct appc_string_list){(char **) dotdot, 1};
  r = appc_whitelist_init(&wl, &l, &err);
  assert_error_contains(r, &err, "\"/a/../etc/shadow\": \"..\" is not allowed");
  appc_whitelist_clear(&wl); /* safe after a failed init */
}

/* ACE spec, first example: A -> [B, C], C -> [D].  Override order B, D, C,
 * A: rendered (top first) as A, C, D, B. */
static void test_override_order_first_example(void **state)
{
  char *dir = scratch_new();
  char *a = ACI(dir, "a.aci", true, F("all", "A"), F("ab", "A"), F("a", "A"));
  char *b = ACI(dir, "b.aci", false, F("all", "B"), F("ab", "B"), F("bcd", "B"), F("bd", "B"),
                F("b", "B"));
  char *c = ACI(dir, "c.aci", true, F("all", "C"), F("bcd", "C"), F("cd", "C"));
  char *d = ACI(dir, "d.aci", false, F("all", "D"), F("bcd", "D"), F("bd", "D"), F("cd", "D"),
                F("d", "D"));
  char *out = path_join(dir, "out");
  char digest[APPC_TREE_DIGEST_LEN + 1];
  (void) state;

  struct layer layers[] = {{a, {0}, 0}, {c, {0}, 0}, {d, {0}, 0}, {b, {0}, 0}};
  render_ok(out, true, layers, 4, digest);
  expect_content(out, "all", "A");
  expect_content(out, "ab", "A");
  expect_content(out, "a", "A");
  expect_content(out, "bcd", "C"); /* C comes after both B and D */
  expect_content(out, "cd", "C");
  expect_content(out, "bd", "D"); /* D comes after B */
  expect_content(out, "b", "B");
  expect_content(out, "d", "D");
  assert_int_equal(count_entries(out), 8);
  free(a), free(b), free(c), free(d), free(out);
  scratch_remove(dir);
}

/* ACE spec, second example: A -> [B, C], B -> [D], C -> [D], with B and C
 * whitelisting different files of D.  Override order D, B, D, C, A; each
 * pass over D is filtered by the whitelists of its own branch. */
static void test_override_order_second_example(void **state)
{
  char *dir = scratch_new();
  char *a = ACI(dir, "a.aci", false, F("a", "A"));
  char *b = ACI(dir, "b.aci", true, F("b", "B"), F("shared", "B"));
  char *c = ACI(dir, "c.aci", false, F("c", "C"), F("shared", "C"));
  char *d =
      ACI(dir, "d.aci", true, D("usr", .mode = 0711, .mtime = 1234), D("usr/lib", .mode = 0750),
          D("usr/lib/x"), F("usr/lib/x/y", "D"), D("usr/share"), F("usr/share/doc", "D"),
          F("d1", "D"), F("d2", "D"), F("d3", "D"), F("shared", "D"));
  char *out = path_join(dir, "out");
  char digest[APPC_TREE_DIGEST_LEN + 1];
  struct appc_whitelist wb, wc;
  (void) state;

  WL(&wb, "/b", "/d1", "/shared", "/usr/lib/x/y");
  WL(&wc, "/c", "/d2", "/shared");
  struct layer layers[] = {
      {a, {0}, 0}, {c, {&wc}, 1}, {d, {&wc}, 1}, {b, {&wb}, 1}, {d, {&wb}, 1},
  };
  render_ok(out, true, layers, 5, digest);
  expect_content(out, "a", "A");
  expect_content(out, "b", "B");
  expect_content(out, "c", "C");
  expect_content(out, "shared", "C");
  expect_content(out, "d1", "D"); /* allowed by B's branch only */
  expect_content(out, "d2", "D"); /* allowed by C's branch only */
  expect_absent(out, "d3");
  /* the nested whitelisted file and the directories it implies, with D's
   * own metadata for them */
  expect_content(out, "usr/lib/x/y", "D");
  assert_int_equal(stat_of(out, "usr").st_mode & 07777, 0711);
  assert_int_equal(stat_of(out, "usr").st_mtime, 1234);
  assert_int_equal(stat_of(out, "usr/lib").st_mode & 07777, 0750);
  expect_absent(out, "usr/share");
  assert_int_equal(count_entries(out), 7);
  appc_whitelist_clear(&wb);
  appc_whitelist_clear(&wc);
  free(a), free(b), free(c), free(d), free(out);
  scratch_remove(dir);
}

/* Every filter of a layer must allow an entry (the image's own whitelist
 * and those of the images depending on it). */
static void test_all_filters_must_allow(void **state)
{
  char *dir = scratch_new();
  char *d = ACI(dir, "d.aci", false, F("x", "D"), F("y", "D"), F("z", "D"));
  char *out = path_join(dir, "out");
  char digest[APPC_TREE_DIGEST_LEN + 1];
  struct appc_whitelist w1, w2;
  (void) state;

  WL(&w1, "/x", "/y");
  WL(&w2, "/y", "/z");
  struct layer layers[] = {{d, {&w1, &w2}, 2}};
  render_ok(out, true, layers, 1, digest);
  expect_absent(out, "x");
  expect_content(out, "y", "D");
  expect_absent(out, "z");
  appc_whitelist_clear(&w1);
  appc_whitelist_clear(&w2);
  free(d), free(out);
  scratch_remove(dir);
}

/* A lower layer's symlink to a directory (pointing outside the rootfs)
 * with a directory at the same path in an upper layer: the result is a
 * real directory and nothing is written through the symlink. */
static void test_upper_dir_replaces_lower_symlink(void **state)
{
  char *dir = scratch_new();
  char *outside = path_join(dir, "outside");
  char *out = path_join(dir, "out");
  char digest[APPC_TREE_DIGEST_LEN + 1];
  (void) state;

  assert_int_equal(mkdir(outside, 0755), 0);
  char *a = ACI(dir, "a.aci", false, D("etc", .mode = 0700), F("etc/x", "A"));
  char *b = ACI(dir, "b.aci", true, {.name = "rootfs/etc", .type = AE_IFLNK, .link = outside},
                F("etc/y", "B"), L("lib", "../../outside"), F("lib/z", "B"));
  struct layer layers[] = {{a, {0}, 0}, {b, {0}, 0}};
  render_ok(out, true, layers, 2, digest);
  assert_true(S_ISDIR(stat_of(out, "etc").st_mode));
  assert_int_equal(stat_of(out, "etc").st_mode & 07777, 0700);
  expect_content(out, "etc/x", "A");
  expect_content(out, "etc/y", "B"); /* into the real directory */
  /* B's own symlink stays a symlink; what B put below it is dropped */
  assert_true(S_ISLNK(stat_of(out, "lib").st_mode));
  assert_int_equal(count_entries(outside), 0);
  free(a), free(b), free(out), free(outside);
  scratch_remove(dir);
}

/* An upper layer's symlink or file at a path hides whatever lower layers
 * have below that path. */
static void test_entries_below_upper_nondir_skipped(void **state)
{
  char *dir = scratch_new();
  char *out = path_join(dir, "out");
  char digest[APPC_TREE_DIGEST_LEN + 1];
  (void) state;

  char *a = ACI(dir, "a.aci", false, L("opt", "x"), F("var", "file"), D("x"));
  char *b = ACI(dir, "b.aci", true, D("opt"), F("opt/file", "B"), D("opt/sub"),
                F("opt/sub/deep", "B"), D("var"), D("var/log"), F("var/log/z", "B"),
                F("var/new/implicit", "B"), H("x/link", "opt/file"));
  struct layer layers[] = {{a, {0}, 0}, {b, {0}, 0}};
  render_ok(out, true, layers, 2, digest);
  assert_true(S_ISLNK(stat_of(out, "opt").st_mode));
  expect_content(out, "var", "file");
  assert_int_equal(count_entries(out), 3);
  /* the link's target was skipped: its data comes from the second pass */
  expect_content(out, "x/link", "B");
  char *x = path_join(out, "x");
  assert_int_equal(count_entries(x), 1);
  free(x);
  free(a), free(b), free(out);
  scratch_remove(dir);
}

static void test_hardlinks_same_layer(void **state)
{
  char *dir = scratch_new();
  char *out = path_join(dir, "out");
  char digest[APPC_TREE_DIGEST_LEN + 1], again[APPC_TREE_DIGEST_LEN + 1];
  (void) state;

  char *a = ACI(dir, "a.aci", true, D("bin"), F("bin/busybox", "BB", .mode = 0755),
                H("bin/sh", "bin/busybox"), D("sbin"), H("sbin/init", "bin/sh"),
                L("bin/link", "busybox"), H("bin/link2", "bin/link"));
  struct layer layers[] = {{a, {0}, 0}};
  render_ok(out, true, layers, 1, digest);
  struct stat bb = stat_of(out, "bin/busybox"), sh = stat_of(out, "bin/sh");
  struct stat init = stat_of(out, "sbin/init");
  assert_int_equal(bb.st_ino, sh.st_ino);
  assert_int_equal(bb.st_ino, init.st_ino); /* a link to a link */
  assert_int_equal(bb.st_nlink, 3);
  expect_content(out, "sbin/init", "BB");
  /* a hard link to a symlink is a second name for the symlink */
  assert_int_equal(stat_of(out, "bin/link").st_ino, stat_of(out, "bin/link2").st_ino);
  assert_true(S_ISLNK(stat_of(out, "bin/link2").st_mode));
  digest_of(out, again);
  assert_string_equal(digest, again);
  free(a), free(out);
  scratch_remove(dir);
}

/* The link's target filtered out, or provided by an upper layer: the link
 * still gets the target's content from its own layer (second pass), and
 * further links to the same target share that file. */
static void test_hardlink_second_pass(void **state)
{
  char *dir = scratch_new();
  char *out = path_join(dir, "out");
  char digest[APPC_TREE_DIGEST_LEN + 1], again[APPC_TREE_DIGEST_LEN + 1];
  struct appc_whitelist wl;
  (void) state;

  char *a = ACI(dir, "a.aci", false, D("bin"), F("bin/busybox", "upper"));
  char *b = ACI(dir, "b.aci", true, D("bin"),
                F("bin/busybox", "lower", .mode = 04755, .mtime = 1500000000, .uid = 3),
                H("bin/sh", "bin/busybox"), H("bin/ls", "bin/busybox"), F("bin/cat", "cat"),
                D("other"), H("other/cat", "bin/cat"), H("other/cat2", "bin/cat"));
  WL(&wl, "/bin/sh", "/bin/ls", "/bin/busybox", "/other/cat", "/other/cat2");
  struct layer layers[] = {{a, {0}, 0}, {b, {&wl}, 1}};
  render_ok(out, true, layers, 2, digest);
  expect_content(out, "bin/busybox", "upper");
  expect_content(out, "bin/sh", "lower");
  expect_content(out, "bin/ls", "lower");
  struct stat sh = stat_of(out, "bin/sh"), ls = stat_of(out, "bin/ls");
  assert_int_equal(sh.st_ino, ls.st_ino);
  assert_int_not_equal(sh.st_ino, stat_of(out, "bin/busybox").st_ino);
  assert_int_equal(sh.st_mode & 07777, 04755); /* the target's metadata */
  assert_int_equal(sh.st_mtime, 1500000000);
  assert_int_equal(sh.st_uid, 3);
  /* the target itself filtered out */
  expect_absent(out, "bin/cat");
  expect_content(out, "other/cat", "cat");
  assert_int_equal(stat_of(out, "other/cat").st_ino, stat_of(out, "other/cat2").st_ino);
  /* the second pass recorded the content hashes of what it wrote */
  digest_of(out, again);
  assert_string_equal(digest, again);
  appc_whitelist_clear(&wl);
  free(a), free(b), free(out);
  scratch_remove(dir);
}

/* Missing parents are created (0755, epoch) and a later directory entry
 * for one, in the same layer or a lower one, gives it its metadata. */
static void test_implicit_parents(void **state)
{
  char *dir = scratch_new();
  char *out = path_join(dir, "out");
  char digest[APPC_TREE_DIGEST_LEN + 1];
  char *x;
  (void) state;

  char *a = ACI(dir, "a.aci", false, F("p/q/r", "A"), F("s/t", "A"),
                D("p", .mode = 0701, .mtime = 1600000000, .uid = 11, .gid = 12,
                  .xname = "user.note", .xvalue = "p-meta"));
  char *b = ACI(dir, "b.aci", true, D("p", .mode = 0777), D("s", .mode = 0710, .mtime = 1700000000),
                F("s/t", "B"), F("s/u", "B"));
  struct layer layers[] = {{a, {0}, 0}, {b, {0}, 0}};
  render_ok(out, true, layers, 2, digest);
  expect_content(out, "p/q/r", "A");
  struct stat p = stat_of(out, "p"), q = stat_of(out, "p/q"), s = stat_of(out, "s");
  assert_int_equal(p.st_mode & 07777, 0701); /* same layer, after its contents */
  assert_int_equal(p.st_mtime, 1600000000);
  assert_int_equal(p.st_uid, 11);
  assert_int_equal(p.st_gid, 12);
  x = xattr_of(out, "p", "user.note");
  assert_non_null(x);
  assert_string_equal(x, "p-meta");
  free(x);
  assert_int_equal(q.st_mode & 07777, 0755); /* never given metadata */
  assert_int_equal(q.st_mtime, 0);
  assert_int_equal(q.st_uid, 0);
  assert_int_equal(s.st_mode & 07777, 0710); /* from the lower layer */
  assert_int_equal(s.st_mtime, 1700000000);
  expect_content(out, "s/t", "A");
  expect_content(out, "s/u", "B");
  free(a), free(b), free(out);
  scratch_remove(dir);
}

static void test_metadata_as_root(void **state)
{
  char *dir = scratch_new();
  char *out = path_join(dir, "out");
  char digest[APPC_TREE_DIGEST_LEN + 1];
  char target[16] = {0};
  char *x, *p;
  (void) state;

  if (geteuid() != 0) {
    scratch_remove(dir);
    free(out);
    skip();
  }
  char *a = ACI(dir, "a.aci", true,
                F("suid", "s", .mode = 04755, .uid = 1000, .gid = 1001, .mtime = 1500000001,
                  .mtime_nsec = 123456789, .xname = "user.k", .xvalue = "v"),
                F("sgid", "g", .mode = 02711, .gid = 50),
                D("tmp", .mode = 01777, .uid = 5, .gid = 6, .mtime = 1500000002),
                L("lnk", "suid", .uid = 7, .gid = 8, .mtime = 1500000003),
                {.name = "rootfs/fifo", .type = AE_IFIFO, .mode = 0640, .uid = 9},
                {.name = "rootfs/null", .type = AE_IFCHR, .mode = 0666, .rdev = makedev(1, 3)},
                {.name = "rootfs/loop", .type = AE_IFBLK, .mode = 0660, .rdev = makedev(7, 0)},
                {.name = "rootfs/sparse", .sparse = "data@1048576+4194304"});
  struct layer layers[] = {{a, {0}, 0}};
  render_ok(out, true, layers, 1, digest);
  struct stat st = stat_of(out, "suid");
  assert_int_equal(st.st_mode & 07777, 04755);
  assert_int_equal(st.st_uid, 1000);
  assert_int_equal(st.st_gid, 1001);
  assert_int_equal(st.st_mtim.tv_sec, 1500000001);
  assert_int_equal(st.st_mtim.tv_nsec, 123456789);
  x = xattr_of(out, "suid", "user.k");
  assert_non_null(x);
  assert_string_equal(x, "v");
  free(x);
  st = stat_of(out, "sgid");
  assert_int_equal(st.st_mode & 07777, 02711);
  assert_int_equal(st.st_gid, 50);
  st = stat_of(out, "tmp");
  assert_int_equal(st.st_mode & 07777, 01777);
  assert_int_equal(st.st_uid, 5);
  assert_int_equal(st.st_mtime, 1500000002);
  st = stat_of(out, "lnk");
  assert_true(S_ISLNK(st.st_mode));
  assert_int_equal(st.st_uid, 7);
  assert_int_equal(st.st_gid, 8);
  assert_int_equal(st.st_mtime, 1500000003);
  p = path_join(out, "lnk");
  assert_int_equal(readlink(p, target, sizeof target - 1), 4);
  assert_string_equal(target, "suid");
  free(p);
  st = stat_of(out, "fifo");
  assert_true(S_ISFIFO(st.st_mode));
  assert_int_equal(st.st_mode & 07777, 0640);
  assert_int_equal(st.st_uid, 9);
  st = stat_of(out, "null");
  assert_true(S_ISCHR(st.st_mode));
  assert_int_equal(st.st_rdev, makedev(1, 3));
  st = stat_of(out, "loop");
  assert_true(S_ISBLK(st.st_mode));
  assert_int_equal(st.st_rdev, makedev(7, 0));
  /* the hole is kept: 4 MiB long, at most a few blocks allocated */
  st = stat_of(out, "sparse");
  assert_int_equal(st.st_size, 4194304);
  assert_true(st.st_blocks * 512 < 1048576);
  p = path_join(out, "sparse");
  int fd = open(p, O_RDONLY);
  char buf[8] = {0};
  assert_int_equal(pread(fd, buf, 4, 1048576), 4);
  assert_string_equal(buf, "data");
  assert_int_equal(pread(fd, buf, 4, 0), 4);
  assert_memory_equal(buf, "\0\0\0\0", 4);
  close(fd);
  free(p);
  /* the content hash recorded while writing covers the holes */
  char again[APPC_TREE_DIGEST_LEN + 1];
  digest_of(out, again);
  assert_string_equal(digest, again);
  free(a), free(out);
  scratch_remove(dir);
}

/* The child of test_unprivileged_user: no cmocka assertions here, a
 * failure is the exit status. */
static int render_as_nobody(const char *dir, const char *out, const char *aci)
{
  struct appc_render_options o = {.as_root = false};
  struct appc_render_layer l = {aci, NULL, 0, NULL};
  struct appc_render *r = NULL;
  char digest[APPC_TREE_DIGEST_LEN + 1];
  appc_error_t err = NULL;
  int fd;

  if (geteuid() == 0 && (chown(dir, 65534, 65534) < 0 || setgroups(0, NULL) < 0 ||
                         setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0))
    return 2;
  if (mkdir(out, 0755) < 0 || (fd = open(out, O_RDONLY | O_DIRECTORY)) < 0)
    return 3;
  if (appc_render_new(&r, fd, &o, &err) < 0 || appc_render_layer(r, &l, &err) < 0 ||
      appc_render_finish(r, digest, &err) < 0) {
    fprintf(stderr, "# %s\n", err->msg);
    return 1;
  }
  appc_render_free(r);
  return 0;
}

/* Render as an unprivileged user (uid 65534 in a child, when run as root):
 * read-only directories still get their contents, since their modes are
 * applied at the end. */
static void test_unprivileged_user(void **state)
{
  char *dir = scratch_new();
  char *out = path_join(dir, "out");
  int status;
  pid_t pid;
  (void) state;

  char *a = ACI(dir, "a.aci", true, D("ro", .mode = 0555), D("ro/sub", .mode = 0500),
                F("ro/sub/f", "f", .mode = 0400), F("ro/g", "g"),
                F("sec", "x", .xname = "trusted.t", .xvalue = "v"));
  assert_int_equal(chmod(dir, 0755), 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int rc = render_as_nobody(dir, out, a);
    free(a), free(out), free(dir);
    _exit(rc);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  expect_content(out, "ro/sub/f", "f");
  expect_content(out, "ro/g", "g");
  assert_int_equal(stat_of(out, "ro").st_mode & 07777, 0555);
  assert_int_equal(stat_of(out, "ro/sub").st_mode & 07777, 0500);
  expect_content(out, "sec", "x"); /* the trusted.* xattr was refused and skipped */
  free(a), free(out);
  scratch_remove(dir);
}

static void test_metadata_unprivileged(void **state)
{
  char *dir = scratch_new();
  char *out = path_join(dir, "out");
  char digest[APPC_TREE_DIGEST_LEN + 1], again[APPC_TREE_DIGEST_LEN + 1];
  (void) state;

  char *a = ACI(dir, "a.aci", false, F("f", "f", .mode = 0600, .uid = 1234, .gid = 1234),
                {.name = "rootfs/fifo", .type = AE_IFIFO, .mode = 0600},
                {.name = "rootfs/null", .type = AE_IFCHR, .mode = 0666, .rdev = makedev(1, 3)},
                {.name = "rootfs/loop", .type = AE_IFBLK, .mode = 0660, .rdev = makedev(7, 0)},
                H("null2", "null"));
  struct layer layers[] = {{a, {0}, 0}};
  render_ok(out, false, layers, 1, digest);
  struct stat st = stat_of(out, "f");
  assert_int_equal(st.st_uid, geteuid()); /* the caller's, not 1234 */
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_true(S_ISFIFO(stat_of(out, "fifo").st_mode));
  expect_absent(out, "null");
  expect_absent(out, "loop");
  expect_absent(out, "null2");
  assert_int_equal(count_entries(out), 2);
  digest_of(out, again);
  assert_string_equal(digest, again);
  free(a), free(out);
  scratch_remove(dir);
}

/* The "rootfs" entry's metadata goes to the rootfs; the first layer wins. */
static void test_rootfs_metadata(void **state)
{
  char *dir = scratch_new();
  char *out = path_join(dir, "out");
  char digest[APPC_TREE_DIGEST_LEN + 1];
  (void) state;

  char *a =
      BARE_ACI(dir, "a.aci", {.name = "./", .type = AE_IFDIR}, {.name = "./manifest", .data = "{}"},
               {.name = "./rootfs/", .type = AE_IFDIR, .mode = 0711, .mtime = 1300000000},
               {.name = "./rootfs/./f", .data = "A"});
  char *b = BARE_ACI(dir, "b.aci", {.name = "rootfs", .type = AE_IFDIR, .mode = 0700},
                     {.name = "rootfs//g", .data = "B"});
  struct layer layers[] = {{a, {0}, 0}, {b, {0}, 0}};
  render_ok(out, true, layers, 2, digest);
  struct stat st = stat_of(dir, "out");
  assert_int_equal(st.st_mode & 07777, 0711);
  assert_int_equal(st.st_mtime, 1300000000);
  expect_content(out, "f", "A");
  expect_content(out, "g", "B");
  free(a), free(b), free(out);
  scratch_remove(dir);
}

/* Render one bare archive, expect an error containing WANT, and check
 * that nothing appeared outside the target (DIR holds the archive, the
 * empty OUTSIDE directory and the target). */
static void expect_hostile(const char *dir, const char *aci, const char *want)
{
  char *out = path_join(dir, "out"), *outside = path_join(dir, "outside");
  char digest[APPC_TREE_DIGEST_LEN + 1];
  appc_error_t err = NULL;
  struct layer layers[] = {{aci, {0}, 0}};

  int r = render_into(out, true, layers, 1, digest, &err);
  assert_error_contains(r, &err, want);
  assert_int_equal(count_entries(outside), 0);
  assert_int_equal(count_entries(dir), 3);
  nftw(out, scratch_rm_one, 16, FTW_DEPTH | FTW_PHYS);
  assert_int_equal(unlink(aci), 0);
  free(out);
  free(outside);
}

static void test_hostile_inputs(void **state)
{
  char *dir = scratch_new();
  char *outside = path_join(dir, "outside");
  char *aci, *want = NULL;
  (void) state;

  assert_int_equal(mkdir(outside, 0755), 0);
  aci =
      BARE_ACI(dir, "h.aci", {.name = "rootfs", .type = AE_IFDIR}, {.name = "/etc/x", .data = "x"});
  expect_hostile(dir, aci, "/etc/x: absolute path in image");
  free(aci);
  aci = BARE_ACI(dir, "h.aci", {.name = "rootfs", .type = AE_IFDIR},
                 {.name = "rootfs/../outside/x", .data = "x"});
  expect_hostile(dir, aci, "rootfs/../outside/x: path escapes the image");
  free(aci);
  aci = BARE_ACI(dir, "h.aci", {.name = "rootfs/a/../../../outside/y", .data = "x"});
  expect_hostile(dir, aci, "path escapes the image");
  free(aci);
  aci = BARE_ACI(dir, "h.aci", {.name = "elsewhere/x", .data = "x"});
  expect_hostile(dir, aci, "elsewhere/x: unexpected entry outside rootfs");
  free(aci);
  aci = BARE_ACI(dir, "h.aci", {.name = "rootfs", .data = "x"});
  expect_hostile(dir, aci, "rootfs: not a directory");
  free(aci);
  /* hard links: to nothing, to a later entry, outside, to the manifest */
  aci = ACI(dir, "h.aci", false, D("etc"), H("etc/x", "nope"));
  assert_true(asprintf(&want,
                       "%s/h.aci: rootfs/etc/x: hard link to rootfs/nope, which is not an "
                       "earlier entry",
                       dir) > 0);
  expect_hostile(dir, aci, want);
  free(want);
  free(aci);
  aci = ACI(dir, "h.aci", false, H("a", "b"), F("b", "b"));
  expect_hostile(dir, aci, "rootfs/a: hard link to rootfs/b, which is not an earlier entry");
  free(aci);
  aci = ACI(dir, "h.aci", false, {.name = "rootfs/a", .hard = "/etc/passwd"});
  expect_hostile(dir, aci, "rootfs/a: hard link: /etc/passwd: absolute path in image");
  free(aci);
  aci = ACI(dir, "h.aci", false, F("x", "x"), {.name = "rootfs/a", .hard = "rootfs/../outside"});
  expect_hostile(dir, aci, "rootfs/a: hard link: rootfs/../outside: path escapes the image");
  free(aci);
  aci = ACI(dir, "h.aci", false, {.name = "rootfs/a", .hard = "manifest"});
  expect_hostile(dir, aci, "rootfs/a: hard link to manifest, outside rootfs");
  free(aci);
  aci = ACI(dir, "h.aci", false, D("d"), H("a", "d"));
  expect_hostile(dir, aci, "rootfs/a: hard link to rootfs/d, a directory");
  free(aci);
  /* a symlink to the outside, then entries through it: skipped, not an error */
  aci = ACI(dir, "h.aci", false, {.name = "rootfs/esc", .type = AE_IFLNK, .link = outside},
            F("esc/x", "x"), D("esc/sub"), H("esc/h", "esc/x"));
  char *out = path_join(dir, "out");
  char digest[APPC_TREE_DIGEST_LEN + 1];
  struct layer layers[] = {{aci, {0}, 0}};
  render_ok(out, true, layers, 1, digest);
  assert_int_equal(count_entries(outside), 0);
  assert_int_equal(count_entries(out), 1);
  free(out);
  free(aci);
  free(outside);
  scratch_remove(dir);
}

static bool cancel_after(void *data)
{
  int *left = data;
  return (*left)-- <= 0;
}

static void test_cancel(void **state)
{
  char *dir = scratch_new();
  char *out = path_join(dir, "out");
  char *a = ACI(dir, "a.aci", true, F("1", "1"), F("2", "2"), F("3", "3"));
  int left = 3, fd;
  struct appc_render_options o = {.as_root = true, .cancelled = cancel_after, .cancel_data = &left};
  struct appc_render *r = NULL;
  struct appc_render_layer l = {a, NULL, 0, NULL};
  appc_error_t err = NULL;
  (void) state;

  assert_int_equal(mkdir(out, 0755), 0);
  fd = open(out, O_RDONLY | O_DIRECTORY);
  int ret = appc_render_new(&r, fd, &o, &err);
  assert_ok(ret, &err);
  ret = appc_render_layer(r, &l, &err);
  assert_true(ret < 0);
  assert_int_equal(err->errnum, ECANCELED);
  assert_non_null(strstr(err->msg, "a.aci"));
  appc_error_release(&err);
  appc_render_free(r);
  close(fd);
  expect_content(out, "1", "1"); /* entries 0-2: manifest, rootfs, 1 */
  expect_absent(out, "2");
  free(a), free(out);
  scratch_remove(dir);
}

/* A layer given its image ID is hashed as it is read: the right ID
 * renders (a hard link's second pass too), any other fails naming the
 * damage. */
static void test_image_id_checked(void **state)
{
  char *dir = scratch_new();
  char *good = path_join(dir, "good"), *bad = path_join(dir, "bad");
  char *a = ACI(dir, "a.aci", true, F("f", "data"), H("l", "f"));
  struct {
    char image_id[APPC_IMAGE_ID_LEN + 1];
  } info;
  struct appc_tar_reader *tr = NULL;
  appc_error_t err = NULL;
  (void) state;

  int ret = appc_tar_reader_open(&tr, a, true, &err);
  assert_ok(ret, &err);
  ret = appc_tar_reader_finish(tr, info.image_id, NULL, &err);
  assert_ok(ret, &err);
  appc_tar_reader_free(tr);
  for (int i = 0; i < 2; i++) {
    char wrong[APPC_IMAGE_ID_LEN + 1];
    memcpy(wrong, info.image_id, sizeof wrong);
    wrong[APPC_IMAGE_ID_LEN - 1] = wrong[APPC_IMAGE_ID_LEN - 1] == '0' ? '1' : '0';
    const char *out = i == 0 ? good : bad;
    struct appc_render_options o = {.as_root = false, .no_digest = true};
    struct appc_render_layer l = {a, NULL, 0, i == 0 ? info.image_id : wrong};
    struct appc_render *r = NULL;
    assert_int_equal(mkdir(out, 0755), 0);
    int fd = open(out, O_RDONLY | O_DIRECTORY);
    ret = appc_render_new(&r, fd, &o, &err);
    assert_ok(ret, &err);
    ret = appc_render_layer(r, &l, &err);
    if (i == 0) {
      assert_ok(ret, &err);
    } else {
      assert_true(ret < 0);
      assert_non_null(strstr(err->msg, "a.aci: blob damaged: its content hashes to"));
      assert_non_null(strstr(err->msg, info.image_id));
      appc_error_release(&err);
    }
    appc_render_free(r);
    close(fd);
  }
  expect_content(good, "l", "data");
  free(a), free(good), free(bad);
  scratch_remove(dir);
}

static void test_target_must_be_empty(void **state)
{
  char *dir = scratch_new();
  struct appc_render_options o = {0};
  struct appc_render *r = NULL;
  appc_error_t err = NULL;
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  (void) state;

  assert_int_equal(mkdirat(fd, "x", 0755), 0);
  int ret = appc_render_new(&r, fd, &o, &err);
  assert_error_contains(ret, &err, "rootfs: Directory not empty");
  close(fd);
  scratch_remove(dir);
}

/* Both ways of opening a directory below another: openat2, and the
 * component walk used where openat2 is missing. */
static void test_open_beneath(void **state)
{
  char *dir = scratch_new();
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  (void) state;

  assert_true(fd >= 0);
  assert_int_equal(mkdirat(fd, "a", 0755), 0);
  assert_int_equal(mkdirat(fd, "a/b", 0755), 0);
  assert_int_equal(symlinkat("a", fd, "link"), 0);
  assert_int_equal(symlinkat("/", fd, "a/abs"), 0);
  for (int fallback = 0; fallback < 2; fallback++) {
    bool no_openat2 = fallback;
    int sub = appc_open_beneath(fd, "a/b", &no_openat2);
    struct stat st, want;
    assert_true(sub >= 0);
    assert_int_equal(fstat(sub, &st), 0);
    assert_int_equal(fstatat(fd, "a/b", &want, 0), 0);
    assert_int_equal(st.st_ino, want.st_ino);
    close(sub);
    assert_int_equal(appc_open_beneath(fd, "link/b", &no_openat2), -1);
    assert_true(errno == ELOOP || errno == ENOTDIR); /* O_NOFOLLOW | O_DIRECTORY: ENOTDIR */
    assert_int_equal(appc_open_beneath(fd, "a/abs", &no_openat2), -1);
    assert_int_equal(appc_open_beneath(fd, "a/../..", &no_openat2), -1);
    assert_int_equal(appc_open_beneath(fd, "nope", &no_openat2), -1);
    assert_int_equal(errno, ENOENT);
    /* once known to be missing, openat2 is not tried again (under valgrind
     * it is missing from the start) */
    if (fallback)
      assert_true(no_openat2);
  }
  close(fd);
  scratch_remove(dir);
}

/* Render the single-layer image of ENTS into DIR/NAME and return its digest. */
static void digest_variant(const char *dir, const char *name, const struct ent *ents,
                           char digest[APPC_TREE_DIGEST_LEN + 1])
{
  char *aci_name = NULL;
  assert_true(asprintf(&aci_name, "%s.aci", name) > 0);
  char *aci = write_aci_ents(dir, aci_name, true, false, ents);
  char *out = path_join(dir, name);
  char again[APPC_TREE_DIGEST_LEN + 1];
  struct layer layers[] = {{aci, {0}, 0}};

  render_ok(out, true, layers, 1, digest);
  assert_int_equal(strlen(digest), APPC_TREE_DIGEST_LEN);
  assert_memory_equal(digest, "sha256-", 7);
  /* the digest from known hashes equals the one that reads every file */
  digest_of(out, again);
  assert_string_equal(digest, again);
  free(aci_name), free(aci), free(out);
}

#define VARIANT(dir, name, digest, ...)                                                            \
  digest_variant(dir, name, (struct ent[]){__VA_ARGS__, {0}}, digest)

static void test_digest_stable_and_sensitive(void **state)
{
  char *dir = scratch_new();
  char base[APPC_TREE_DIGEST_LEN + 1], same[APPC_TREE_DIGEST_LEN + 1];
  char v[6][APPC_TREE_DIGEST_LEN + 1];
  (void) state;

#define BASE_TREE(data_, mode_, mtime_, xval_, target_)                                            \
  D("d"), F("d/f", data_, .mode = mode_, .mtime = mtime_, .xname = "user.a", .xvalue = xval_),     \
      L("l", target_), F("p/implicit", "x")
  VARIANT(dir, "base", base, BASE_TREE("hello", 0644, 1500000000, "1", "d/f"));
  VARIANT(dir, "same", same, BASE_TREE("hello", 0644, 1500000000, "1", "d/f"));
  assert_string_equal(base, same);
  VARIANT(dir, "content", v[0], BASE_TREE("hellO", 0644, 1500000000, "1", "d/f"));
  VARIANT(dir, "mode", v[1], BASE_TREE("hello", 0640, 1500000000, "1", "d/f"));
  VARIANT(dir, "mtime", v[2], BASE_TREE("hello", 0644, 1500000001, "1", "d/f"));
  VARIANT(dir, "xattr", v[3], BASE_TREE("hello", 0644, 1500000000, "2", "d/f"));
  VARIANT(dir, "target", v[4], BASE_TREE("hello", 0644, 1500000000, "1", "d/g"));
  for (int i = 0; i < 5; i++) {
    assert_string_not_equal(base, v[i]);
    for (int j = 0; j < i; j++)
      assert_string_not_equal(v[i], v[j]);
  }
  /* a change made to the tree afterwards shows */
  char *f = path_join(dir, "same/d/f");
  assert_int_equal(chmod(f, 04644), 0);
  char *same_dir = path_join(dir, "same");
  digest_of(same_dir, v[5]);
  assert_string_not_equal(base, v[5]);
  free(f), free(same_dir);
  scratch_remove(dir);
}

/* ---- the byte format of docs/render.md, computed independently ---- */

static void le_bytes(EVP_MD_CTX *ctx, uint64_t v, int n)
{
  unsigned char b[8];
  for (int i = 0; i < n; i++)
    b[i] = (unsigned char) (v >> (8 * i));
  EVP_DigestUpdate(ctx, b, (size_t) n);
}

static void lp_str(EVP_MD_CTX *ctx, const char *s, size_t n)
{
  le_bytes(ctx, n, 4);
  EVP_DigestUpdate(ctx, s, n);
}

static void record_head(EVP_MD_CTX *ctx, const char *path, char type, unsigned mode, unsigned uid,
                        unsigned gid, int64_t mtime, unsigned nsec)
{
  lp_str(ctx, path, strlen(path));
  EVP_DigestUpdate(ctx, &type, 1);
  le_bytes(ctx, mode, 4);
  le_bytes(ctx, uid, 4);
  le_bytes(ctx, gid, 4);
  le_bytes(ctx, (uint64_t) mtime, 8);
  le_bytes(ctx, nsec, 4);
}

static void test_digest_format(void **state)
{
  char *dir = scratch_new();
  char *out = path_join(dir, "out");
  char digest[APPC_TREE_DIGEST_LEN + 1], want[APPC_TREE_DIGEST_LEN + 1];
  unsigned char file_sha[32], md[32];
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  (void) state;

  /* "a-b" sorts between "a" and "a/x": by path bytes, not depth first */
  char *aci = BARE_ACI(
      dir, "a.aci", {.name = "rootfs", .type = AE_IFDIR, .mode = 0750, .mtime = 10},
      D("a", .mtime = 20, .mtime_nsec = 5),
      F("a/x", "hi", .uid = 1, .gid = 2, .mtime = 30, .xname = "user.z", .xvalue = "zz"),
      L("a-b", "a/x", .mtime = 40),
      {.name = "rootfs/n", .type = AE_IFCHR, .mode = 0600, .rdev = makedev(1, 5), .mtime = 50});
  struct layer layers[] = {{aci, {0}, 0}};
  render_ok(out, true, layers, 1, digest);

  assert_non_null(ctx);
  EVP_Digest("Dhi", 3, file_sha, NULL, EVP_sha256(), NULL); /* one chunk of data */
  assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
  record_head(ctx, "", 'd', 0750, 0, 0, 10, 0);
  le_bytes(ctx, 0, 4); /* no xattrs */
  record_head(ctx, "a", 'd', 0755, 0, 0, 20, 5);
  le_bytes(ctx, 0, 4);
  record_head(ctx, "a-b", 'l', 0777, 0, 0, 40, 0);
  lp_str(ctx, "a/x", 3);
  le_bytes(ctx, 0, 4);
  record_head(ctx, "a/x", 'f', 0644, 1, 2, 30, 0);
  le_bytes(ctx, 2, 8);
  EVP_DigestUpdate(ctx, file_sha, 32);
  le_bytes(ctx, 1, 4);
  lp_str(ctx, "user.z", 6);
  lp_str(ctx, "zz", 2);
  record_head(ctx, "n", 'c', 0600, 0, 0, 50, 0);
  le_bytes(ctx, 1, 4);
  le_bytes(ctx, 5, 4);
  le_bytes(ctx, 0, 4);
  EVP_DigestFinal_ex(ctx, md, NULL);
  EVP_MD_CTX_free(ctx);
  strcpy(want, "sha256-");
  for (int i = 0; i < 32; i++)
    sprintf(want + 7 + 2 * i, "%02x", md[i]);
  assert_string_equal(digest, want);
  free(aci), free(out);
  scratch_remove(dir);
}

/* ---- the content hash of docs/render.md, computed independently ---- */

#define CH APPC_CONTENT_CHUNK

/* The records a content is hashed as, written by hand: 'D' and a chunk's
 * bytes, or 'Z' and a count of zero chunks (u64, little-endian). */
struct records {
  unsigned char *p;
  size_t len;
};

static void rec_data(struct records *r, const unsigned char *chunk, size_t n)
{
  r->p = realloc(r->p, r->len + 1 + n);
  assert_non_null(r->p);
  r->p[r->len++] = 'D';
  memcpy(r->p + r->len, chunk, n);
  r->len += n;
}

static void rec_zeros(struct records *r, uint64_t count)
{
  r->p = realloc(r->p, r->len + 9);
  assert_non_null(r->p);
  r->p[r->len++] = 'Z';
  for (int i = 0; i < 8; i++)
    r->p[r->len++] = (unsigned char) (count >> (8 * i));
}

/* WHOLE (N bytes) fed three ways: at once, in pieces of 1000 bytes, and
 * with every run of zero bytes as a hole; each must give what R hashes to. */
static void check_content_hash(const unsigned char *whole, size_t n, struct records *r)
{
  unsigned char want[32], got[32];
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  struct appc_content_hash h;
  appc_error_t err = NULL;

  assert_non_null(ctx);
  EVP_Digest(r->p != NULL ? r->p : (unsigned char *) "", r->len, want, NULL, EVP_sha256(), NULL);
  for (int way = 0; way < 3; way++) {
    assert_ok(appc_content_hash_begin(&h, ctx, &err), &err);
    for (size_t at = 0; at < n;) {
      size_t k = way == 0 ? n - at : way == 1 ? (n - at < 1000 ? n - at : 1000) : 1;
      if (way == 2 && whole[at] == 0) {
        while (at + k < n && whole[at + k] == 0)
          k++;
        appc_content_hash_zeros(&h, k);
      } else {
        while (way == 2 && at + k < n && whole[at + k] != 0)
          k++;
        appc_content_hash_data(&h, whole + at, k);
      }
      at += k;
    }
    appc_content_hash_end(&h, got);
    assert_memory_equal(got, want, 32);
  }
  EVP_MD_CTX_free(ctx);
  free(r->p);
  *r = (struct records){0};
}

static void test_content_hash_format(void **state)
{
  unsigned char *b = calloc(1, 4 * CH + 16);
  struct records r = {0};
  (void) state;

  assert_non_null(b);
  /* nothing: no record */
  check_content_hash(b, 0, &r);
  /* a short file: one chunk of data */
  rec_data(&r, (const unsigned char *) "hi", 2);
  check_content_hash((const unsigned char *) "hi", 2, &r);
  /* a chunk of zeros, then one short chunk of data */
  b[CH] = 'x';
  rec_zeros(&r, 1);
  rec_data(&r, b + CH, 1);
  check_content_hash(b, CH + 1, &r);
  b[CH] = 0;
  /* data, then zeros to the end: three whole chunks and a short one */
  b[0] = 'a';
  rec_data(&r, b, CH);
  rec_zeros(&r, 4);
  check_content_hash(b, 4 * CH + 10, &r);
  /* a run of zero chunks between data; zeros inside a data chunk stay */
  memset(b, 'q', CH);
  b[7] = 0;
  memcpy(b + 3 * CH, "end", 3);
  rec_data(&r, b, CH);
  rec_zeros(&r, 2);
  rec_data(&r, b + 3 * CH, 3);
  check_content_hash(b, 3 * CH + 3, &r);
  /* data after zeros in its chunk, and a short chunk of zeros last */
  memset(b, 0, 4 * CH + 16);
  b[5] = 'b';
  rec_data(&r, b, CH);
  rec_zeros(&r, 1);
  check_content_hash(b, CH + 6, &r);
  free(b);
}

/* A file's holes and its written zeros are the same content; and a file
 * that says it is a terabyte (its data at the end) costs no more to render
 * and to digest than its data. */
static void test_digest_sparse(void **state)
{
  char *dir = scratch_new();
  char *out = path_join(dir, "out"), *a = path_join(dir, "a"), *b = path_join(dir, "b");
  char digest[APPC_TREE_DIGEST_LEN + 1], again[APPC_TREE_DIGEST_LEN + 1];
  static const char data[] = "tail";
  const off_t off = 3 * CH + 100, size = 5 * CH;
  const struct timespec t[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
  (void) state;

  /* the same content, written out and with holes */
  for (int i = 0; i < 2; i++) {
    char *d = i == 0 ? a : b, *f = path_join(d, "f");
    assert_int_equal(mkdir(d, 0755), 0);
    int fd = open(f, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    if (i == 0) {
      char *zeros = calloc(1, (size_t) size);
      assert_non_null(zeros);
      assert_int_equal(write(fd, zeros, (size_t) size), size);
      free(zeros);
    } else {
      assert_int_equal(ftruncate(fd, size), 0);
    }
    assert_int_equal(pwrite(fd, data, 4, off), 4);
    assert_int_equal(futimens(fd, t), 0);
    close(fd);
    assert_int_equal(utimensat(AT_FDCWD, d, t, 0), 0);
    free(f);
  }
  digest_of(a, digest);
  digest_of(b, again);
  assert_string_equal(digest, again);

  char *aci =
      ACI(dir, "t.aci", false, {.name = "rootfs/big", .sparse = "end@1099511627776+1099511627779"});
  struct layer layers[] = {{aci, {0}, 0}};
  render_ok(out, true, layers, 1, digest);
  struct stat st = stat_of(out, "big");
  assert_int_equal(st.st_size, 1099511627779LL);
  digest_of(out, again);
  assert_string_equal(digest, again);
  free(aci), free(out), free(a), free(b);
  scratch_remove(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_whitelist_parse_and_match, teardown),
      cmocka_unit_test_teardown(test_override_order_first_example, teardown),
      cmocka_unit_test_teardown(test_override_order_second_example, teardown),
      cmocka_unit_test_teardown(test_all_filters_must_allow, teardown),
      cmocka_unit_test_teardown(test_upper_dir_replaces_lower_symlink, teardown),
      cmocka_unit_test_teardown(test_entries_below_upper_nondir_skipped, teardown),
      cmocka_unit_test_teardown(test_hardlinks_same_layer, teardown),
      cmocka_unit_test_teardown(test_hardlink_second_pass, teardown),
      cmocka_unit_test_teardown(test_implicit_parents, teardown),
      cmocka_unit_test_teardown(test_metadata_as_root, teardown),
      cmocka_unit_test_teardown(test_metadata_unprivileged, teardown),
      cmocka_unit_test_teardown(test_unprivileged_user, teardown),
      cmocka_unit_test_teardown(test_rootfs_metadata, teardown),
      cmocka_unit_test_teardown(test_hostile_inputs, teardown),
      cmocka_unit_test_teardown(test_cancel, teardown),
      cmocka_unit_test_teardown(test_image_id_checked, teardown),
      cmocka_unit_test_teardown(test_target_must_be_empty, teardown),
      cmocka_unit_test_teardown(test_open_beneath, teardown),
      cmocka_unit_test_teardown(test_digest_stable_and_sensitive, teardown),
      cmocka_unit_test_teardown(test_digest_format, teardown),
      cmocka_unit_test_teardown(test_content_hash_format, teardown),
      cmocka_unit_test_teardown(test_digest_sparse, teardown),
  };
  return cmocka_run_group_tests_name("store-render", tests, NULL, NULL);
}
