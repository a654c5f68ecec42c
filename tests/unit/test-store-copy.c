/* SPDX-License-Identifier: Apache-2.0 */
/* Tree copy and tree removal (store/treecopy.c).
 *
 * Source trees are built in scratch directories with every kind of entry an
 * image can hold, copied, and compared with the source field by field by an
 * independent walker (lstat fields, link targets, extended attributes,
 * content bytes and hard-link sharing).  Most cases need root (owners,
 * device nodes, security.* and trusted.* attributes, tmpfs mounts); those
 * that test what an unprivileged owner can do fork and drop to nobody. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "store/internal.h"
#include "tests/unit/test-util.h"
#include "common/macros.h"

#define NOBODY 65534
#define CHECK(call)                                                                                \
  do {                                                                                             \
    if ((call) < 0)                                                                                \
      fail_msg("%s: %s", #call, strerror(errno));                                                  \
  } while (0)

/* ---- scratch directories ---- */

static char *current_scratch;
static char *current_mount;

/* Remove NAME in DIR_FD the test's own way (root, or the owner of a
 * readable tree), independently of the code under test. */
static void test_remove(int dir_fd, const char *name)
{
  struct stat st;

  if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return;
  if (S_ISDIR(st.st_mode)) {
    int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;
    if (d == NULL)
      return;
    while ((de = readdir(d)) != NULL)
      if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
        test_remove(dirfd(d), de->d_name);
    closedir(d);
    unlinkat(dir_fd, name, AT_REMOVEDIR);
  } else {
    unlinkat(dir_fd, name, 0);
  }
}

static char *scratch_new(void)
{
  const char *tmp = getenv("TMPDIR");
  char *dir = NULL;
  assert_true(asprintf(&dir, "%s/test-store-copy-XXXXXX", tmp != NULL ? tmp : "/tmp") > 0);
  assert_non_null(mkdtemp(dir));
  current_scratch = dir;
  return dir;
}

static int teardown(void **state)
{
  (void) state;
  if (current_mount != NULL) {
    umount2(current_mount, MNT_DETACH);
    free(current_mount);
    current_mount = NULL;
  }
  if (current_scratch != NULL) {
    test_remove(AT_FDCWD, current_scratch);
    free(current_scratch);
    current_scratch = NULL;
  }
  return 0;
}

static int open_dir(int at, const char *path)
{
  int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    fail_msg("open %s: %s", path, strerror(errno));
  return fd;
}

static int make_dir(int at, const char *path, mode_t mode)
{
  CHECK(mkdirat(at, path, mode));
  return open_dir(at, path);
}

static bool root(void)
{
  return geteuid() == 0;
}

/* ---- building source trees ---- */

static unsigned char pattern_byte(size_t i, unsigned seed)
{
  return (unsigned char) (i * 131 + seed * 7 + (i >> 9));
}

static void put_file(int at, const char *path, mode_t mode, size_t size, unsigned seed)
{
  unsigned char buf[8192];
  int fd = openat(at, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    fail_msg("create %s: %s", path, strerror(errno));
  for (size_t off = 0; off < size;) {
    size_t n = size - off < sizeof buf ? size - off : sizeof buf;
    for (size_t i = 0; i < n; i++)
      buf[i] = pattern_byte(off + i, seed);
    assert_int_equal(write(fd, buf, n), (ssize_t) n);
    off += n;
  }
  CHECK(fchmod(fd, mode));
  close(fd);
}

static void put_sparse(int at, const char *path, off_t size, off_t data_at, const char *data)
{
  int fd = openat(at, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  assert_true(fd >= 0);
  CHECK(ftruncate(fd, size));
  assert_int_equal(pwrite(fd, data, strlen(data), data_at), (ssize_t) strlen(data));
  close(fd);
}

static void put_xattr(int at, const char *path, const char *name, const void *value, size_t size)
{
  char proc[PATH_MAX];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d/%s", at, path);
  if (lsetxattr(proc, name, value, size, 0) < 0)
    fail_msg("setxattr %s %s: %s", path, name, strerror(errno));
}

static void put_capability(int at, const char *path)
{
  struct vfs_cap_data cap = {0};
  cap.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
  cap.data[0].permitted = 1u << CAP_NET_BIND_SERVICE;
  put_xattr(at, path, "security.capability", &cap, sizeof cap);
}

static void put_socket(int at, const char *path)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  char dir[64];
  int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  /* bind() takes a path: make it short by working from the directory. */
  snprintf(dir, sizeof dir, "/proc/self/fd/%d", at);
  assert_true(cwd >= 0 && s >= 0);
  CHECK(chdir(dir));
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  CHECK(bind(s, (struct sockaddr *) &sa, sizeof sa));
  close(s);
  CHECK(fchdir(cwd));
  close(cwd);
}

/* Set every entry's times below and including the directory FD, deepest
 * first, to distinct values with nanoseconds: modification times in the
 * past, access times in the future (so that relatime never updates them
 * while the trees are read). */
static void set_times(int fd, const char *name, unsigned *counter)
{
  struct stat st;
  CHECK(fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW));
  if (S_ISDIR(st.st_mode)) {
    int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fdopendir(sub);
    struct dirent *de;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
      if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
        set_times(dirfd(d), de->d_name, counter);
    closedir(d);
  }
  unsigned k = ++*counter;
  struct timespec ts[2] = {
      {.tv_sec = time(NULL) + 30 * 86400 + k, .tv_nsec = (long) k * 1000 + 1},
      {.tv_sec = 1500000000 + (time_t) k * 3600, .tv_nsec = (long) k * 7919 % 1000000000},
  };
  CHECK(utimensat(fd, name, ts, AT_SYMLINK_NOFOLLOW));
}

static void chown_all(int fd, const char *name, uid_t uid, gid_t gid)
{
  struct stat st;
  CHECK(fchownat(fd, name, uid, gid, AT_SYMLINK_NOFOLLOW));
  CHECK(fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW));
  if (S_ISDIR(st.st_mode)) {
    DIR *d = fdopendir(open_dir(fd, name));
    struct dirent *de;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
      if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
        chown_all(dirfd(d), de->d_name, uid, gid);
    closedir(d);
  }
}

static const size_t boundary_sizes[] = {1,      4095,   4096,   4097,   65535,  65536,  65537,
                                        131071, 131072, 262143, 262144, 262145, 524289, 1048583};

static void long_name(char c, char *buf)
{
  memset(buf, c, NAME_MAX);
  buf[NAME_MAX] = '\0';
}

enum {
  TREE_ROOT_ONLY = 1 << 0, /* devices, foreign owners, a 0000 directory, trusted.* */
};

/* Build the source tree in the empty directory SRC; VICTIM is the absolute
 * path of a directory outside it that symlinks point to. */
static void build_tree(int src, const char *victim, unsigned flags, uid_t uid, gid_t gid)
{
  char name[NAME_MAX + 1], file_name[NAME_MAX + 1], path[2 * NAME_MAX + 2];
  char big[4000];
  unsigned counter = 0;

  put_file(src, "manifest", 0644, 300, 1);
  put_file(src, "empty", 0600, 0, 0);
  close(make_dir(src, "sizes", 0755));
  for (size_t i = 0; i < ARRAY_SIZE(boundary_sizes); i++) {
    char p[64];
    snprintf(p, sizeof p, "sizes/s-%zu", boundary_sizes[i]);
    put_file(src, p, 0644, boundary_sizes[i], (unsigned) i + 2);
  }
  put_sparse(src, "sparse", 8 << 20, 4 << 20, "in the middle");
  put_sparse(src, "sparse-tail", 4 << 20, 0, "at the start, then a hole to the end");
  put_file(src, "suid", 0755, 100, 3);
  put_file(src, "sgid", 0711, 100, 4);
  put_file(src, "cap", 0755, 100, 5);
  put_file(src, "hl1", 0644, 5000, 6);
  close(make_dir(src, "sticky", 0755));
  close(make_dir(src, "setgid-dir", 0755));
  put_file(src, "setgid-dir/f", 0640, 10, 7);
  close(make_dir(src, "d", 0755));
  close(make_dir(src, "d/sub", 0755));
  close(make_dir(src, "d/sub/deeper", 0755));
  put_file(src, "d/sub/deeper/f", 0600, 70000, 8);
  CHECK(linkat(src, "hl1", src, "d/hl2", 0));
  CHECK(linkat(src, "hl1", src, "d/sub/deeper/hl3", 0));
  close(make_dir(src, "ro", 0755));
  put_file(src, "ro/f", 0444, 33, 9);
  close(make_dir(src, "ro/sub", 0755));
  put_file(src, "ro/sub/g", 0444, 44, 10);
  CHECK(symlinkat("/etc/passwd", src, "abs"));
  CHECK(symlinkat("d/sub", src, "rel"));
  CHECK(symlinkat("nowhere/at/all", src, "dangling"));
  CHECK(symlinkat("d", src, "todir"));
  CHECK(symlinkat("../victim", src, "outside"));
  CHECK(symlinkat(victim, src, "outside-abs"));
  CHECK(linkat(src, "rel", src, "rel-hl", 0)); /* a hard link to a symlink */
  CHECK(mkfifoat(src, "fifo", 0640));
  CHECK(linkat(src, "fifo", src, "d/fifo-hl", 0));
  put_socket(src, "sock");
  long_name('L', name);
  put_file(src, name, 0644, 12, 11);
  long_name('D', name);
  close(make_dir(src, name, 0755));
  long_name('F', file_name);
  snprintf(path, sizeof path, "%s/%s", name, file_name);
  put_file(src, path, 0644, 13, 12);
  memset(big, 'b', sizeof big);
  put_xattr(src, "manifest", "user.test", "value", 5);
  put_xattr(src, "manifest", "user.empty", "", 0);
  put_xattr(src, "d", "user.big", big, sizeof big);
  put_xattr(src, "d/sub", "user.dir", "\0binary\xff", 8);
  put_xattr(src, ".", "user.root", "top", 3);
  if (flags & TREE_ROOT_ONLY) {
    close(make_dir(src, "dev", 0755));
    CHECK(mknodat(src, "dev/null", S_IFCHR | 0666, makedev(1, 3)));
    CHECK(mknodat(src, "dev/loop9", S_IFBLK | 0660, makedev(7, 9)));
    close(make_dir(src, "closed", 0755));
    put_file(src, "closed/secret", 0600, 20, 13);
    close(make_dir(src, "closed/inner", 0755));
    put_file(src, "closed/inner/x", 0644, 21, 14);
    put_xattr(src, "rel", "trusted.t", "on a symlink", 12);
    put_xattr(src, "closed", "trusted.t", "on a directory", 14);
    put_xattr(src, "dev/null", "trusted.t", "on a device", 11);
  }
  chown_all(src, ".", uid, gid);
  if (flags & TREE_ROOT_ONLY) {
    CHECK(fchownat(src, "suid", 1234, 5678, 0));
    CHECK(fchownat(src, "d/sub", 1234, 5678, 0));
    CHECK(fchownat(src, "abs", 4321, 8765, AT_SYMLINK_NOFOLLOW));
    CHECK(fchownat(src, "dev/loop9", 0, 6, 0));
    CHECK(fchownat(src, ".", 4321, 8765, 0));
  }
  /* Modes last, deepest first, since chown clears set-ID bits. */
  CHECK(fchmodat(src, "suid", 04755, 0));
  CHECK(fchmodat(src, "sgid", 02711, 0));
  CHECK(fchmodat(src, "sticky", 01777, 0));
  CHECK(fchmodat(src, "setgid-dir", 02775, 0));
  CHECK(fchmodat(src, "d/sub", 0750, 0));
  CHECK(fchmodat(src, "ro/sub", 0555, 0));
  CHECK(fchmodat(src, "ro", 0500, 0));
  CHECK(fchmodat(src, ".", 0751, 0));
  if (flags & TREE_ROOT_ONLY) {
    CHECK(fchmodat(src, "closed/inner", 0000, 0));
    CHECK(fchmodat(src, "closed", 0000, 0));
  }
  put_capability(src, "cap");
  set_times(src, ".", &counter);
}

/* ---- comparing trees ---- */

struct ino_pair {
  ino_t src;
  ino_t dst;
};

struct compare {
  bool as_root; /* owners and devices were kept */
  uid_t uid;    /* else the copy's owner */
  gid_t gid;
  bool user_only; /* only user.* attributes could be copied */
  struct ino_pair pairs[64];
  size_t n_pairs;
  unsigned entries;
};

static char *join(const char *a, const char *b)
{
  char *p = NULL;
  assert_true(asprintf(&p, "%s%s%s", a, *a != '\0' ? "/" : "", b) > 0);
  return p;
}

static int name_cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The sorted names of the directory FD; *N receives their number. */
static char **names_of(int fd, size_t *n)
{
  DIR *d = fdopendir(dup(fd));
  struct dirent *de;
  char **v = NULL;

  assert_non_null(d);
  *n = 0;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    v = realloc(v, (*n + 1) * sizeof *v);
    assert_non_null(v);
    v[(*n)++] = strdup(de->d_name);
  }
  closedir(d);
  if (*n > 1)
    qsort(v, *n, sizeof *v, name_cmp);
  return v;
}

static void free_names(char **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

static bool copied(const struct compare *c, const struct stat *st)
{
  if (S_ISSOCK(st->st_mode))
    return false;
  return c->as_root || (!S_ISCHR(st->st_mode) && !S_ISBLK(st->st_mode));
}

/* Sorted "name=value" lines of the extended attributes of NAME in FD. */
static char *xattrs_of(int fd, const char *name, bool user_only)
{
  char proc[PATH_MAX], list[65536], value[65536];
  char **lines = NULL;
  size_t n = 0, total = 1;
  ssize_t len;

  snprintf(proc, sizeof proc, "/proc/self/fd/%d/%s", fd, name);
  len = llistxattr(proc, list, sizeof list);
  assert_true(len >= 0);
  for (char *k = list; k < list + len; k += strlen(k) + 1) {
    if (user_only && strncmp(k, "user.", 5) != 0)
      continue;
    ssize_t vl = lgetxattr(proc, k, value, sizeof value);
    assert_true(vl >= 0);
    char *line = malloc(strlen(k) + 2 + 2 * (size_t) vl + 1);
    char *p = line + sprintf(line, "%s=", k);
    for (ssize_t i = 0; i < vl; i++)
      p += sprintf(p, "%02x", (unsigned char) value[i]);
    lines = realloc(lines, (n + 1) * sizeof *lines);
    lines[n++] = line;
    total += strlen(line) + 1;
  }
  if (n > 1)
    qsort(lines, n, sizeof *lines, name_cmp);
  char *out = calloc(1, total);
  for (size_t i = 0; i < n; i++) {
    strcat(out, lines[i]);
    strcat(out, "\n");
  }
  free_names(lines, n);
  return out;
}

static void compare_xattrs(const struct compare *c, int sfd, int dfd, const char *name,
                           const char *rel)
{
  char *s = xattrs_of(sfd, name, c->user_only);
  char *d = xattrs_of(dfd, name, false);
  if (strcmp(s, d) != 0)
    fail_msg("%s: extended attributes differ:\n%s--\n%s", rel, s, d);
  free(s);
  free(d);
}

static void compare_content(int sfd, int dfd, const char *name, const char *rel)
{
  static char a[65536], b[65536];
  int s = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  int d = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  ssize_t n;

  assert_true(s >= 0 && d >= 0);
  do {
    n = read(s, a, sizeof a);
    assert_true(n >= 0);
    if (read(d, b, (size_t) n) != n || memcmp(a, b, (size_t) n) != 0)
      fail_msg("%s: content differs", rel);
  } while (n > 0);
  assert_int_equal(read(d, b, 1), 0);
  close(s);
  close(d);
}

static void compare_links(struct compare *c, const struct stat *s, const struct stat *d,
                          const char *rel)
{
  if (S_ISDIR(s->st_mode))
    return;
  if (s->st_nlink != d->st_nlink)
    fail_msg("%s: %ju links, copy has %ju", rel, (uintmax_t) s->st_nlink, (uintmax_t) d->st_nlink);
  if (s->st_nlink < 2)
    return;
  for (size_t i = 0; i < c->n_pairs; i++) {
    if (c->pairs[i].src == s->st_ino && c->pairs[i].dst != d->st_ino)
      fail_msg("%s: hard link not kept", rel);
    if (c->pairs[i].src != s->st_ino && c->pairs[i].dst == d->st_ino)
      fail_msg("%s: linked to an unrelated copy", rel);
    if (c->pairs[i].src == s->st_ino)
      return;
  }
  assert_true(c->n_pairs < sizeof c->pairs / sizeof *c->pairs);
  c->pairs[c->n_pairs++] = (struct ino_pair){s->st_ino, d->st_ino};
}

static void compare_stat(struct compare *c, const struct stat *s, const struct stat *d,
                         const char *rel)
{
  if (s->st_mode != d->st_mode)
    fail_msg("%s: mode %o, copy has %o", rel, (unsigned) s->st_mode, (unsigned) d->st_mode);
  uid_t uid = c->as_root ? s->st_uid : c->uid;
  gid_t gid = c->as_root ? s->st_gid : c->gid;
  if (d->st_uid != uid || d->st_gid != gid)
    fail_msg("%s: owner %u:%u, copy has %u:%u", rel, (unsigned) uid, (unsigned) gid,
             (unsigned) d->st_uid, (unsigned) d->st_gid);
  if (!S_ISDIR(s->st_mode) && s->st_size != d->st_size)
    fail_msg("%s: size %jd, copy has %jd", rel, (intmax_t) s->st_size, (intmax_t) d->st_size);
  if (s->st_mtim.tv_sec != d->st_mtim.tv_sec || s->st_mtim.tv_nsec != d->st_mtim.tv_nsec)
    fail_msg("%s: mtime %jd.%09ld, copy has %jd.%09ld", rel, (intmax_t) s->st_mtim.tv_sec,
             s->st_mtim.tv_nsec, (intmax_t) d->st_mtim.tv_sec, d->st_mtim.tv_nsec);
  if (s->st_atim.tv_sec != d->st_atim.tv_sec || s->st_atim.tv_nsec != d->st_atim.tv_nsec)
    fail_msg("%s: atime differs", rel);
  if ((S_ISCHR(s->st_mode) || S_ISBLK(s->st_mode)) && s->st_rdev != d->st_rdev)
    fail_msg("%s: device number differs", rel);
  compare_links(c, s, d, rel);
}

static void compare_dirs(struct compare *c, int sfd, int dfd, const char *rel);

static void compare_entry(struct compare *c, int sfd, int dfd, const char *name, const char *rel)
{
  struct stat s, d;

  CHECK(fstatat(sfd, name, &s, AT_SYMLINK_NOFOLLOW));
  if (fstatat(dfd, name, &d, AT_SYMLINK_NOFOLLOW) < 0)
    fail_msg("%s: missing in the copy", rel);
  c->entries++;
  compare_stat(c, &s, &d, rel);
  compare_xattrs(c, sfd, dfd, name, rel);
  if (S_ISREG(s.st_mode)) {
    compare_content(sfd, dfd, name, rel);
  } else if (S_ISLNK(s.st_mode)) {
    char a[PATH_MAX], b[PATH_MAX];
    ssize_t n = readlinkat(sfd, name, a, sizeof a);
    ssize_t m = readlinkat(dfd, name, b, sizeof b);
    if (n != m || n < 0 || memcmp(a, b, (size_t) n) != 0)
      fail_msg("%s: symlink target differs", rel);
  } else if (S_ISDIR(s.st_mode)) {
    int sub_s = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int sub_d = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    assert_true(sub_s >= 0 && sub_d >= 0);
    compare_dirs(c, sub_s, sub_d, rel);
    close(sub_s);
    close(sub_d);
  }
}

static void compare_dirs(struct compare *c, int sfd, int dfd, const char *rel)
{
  size_t ns, nd, expected = 0;
  char **s = names_of(sfd, &ns);
  char **d = names_of(dfd, &nd);

  for (size_t i = 0; i < ns; i++) {
    struct stat st;
    CHECK(fstatat(sfd, s[i], &st, AT_SYMLINK_NOFOLLOW));
    char *sub = join(rel, s[i]);
    if (copied(c, &st)) {
      expected++;
      compare_entry(c, sfd, dfd, s[i], sub);
    } else if (faccessat(dfd, s[i], F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
      fail_msg("%s: should have been skipped", sub);
    }
    free(sub);
  }
  if (nd != expected)
    fail_msg("%s: %zu entries expected in the copy, found %zu", *rel ? rel : ".", expected, nd);
  free_names(s, ns);
  free_names(d, nd);
}

/* Compare the trees, roots included. */
static void compare_trees(struct compare *c, int src, int dst)
{
  struct stat s, d;
  CHECK(fstat(src, &s));
  CHECK(fstat(dst, &d));
  compare_stat(c, &s, &d, ".");
  compare_xattrs(c, src, dst, ".", ".");
  compare_dirs(c, src, dst, "");
}

/* ---- a scratch layout: src/, dst/ and victim/ (outside both) ---- */

struct layout {
  char *dir;
  int dir_fd;
  int src;
  int dst;
  struct stat victim_before;
};

static void layout_new(struct layout *l, unsigned flags, uid_t uid, gid_t gid)
{
  char *victim;

  l->dir = scratch_new();
  l->dir_fd = open_dir(AT_FDCWD, l->dir);
  close(make_dir(l->dir_fd, "victim", 0755));
  put_file(l->dir_fd, "victim/keep", 0644, 10, 99);
  CHECK(fstatat(l->dir_fd, "victim", &l->victim_before, 0));
  victim = join(l->dir, "victim");
  l->src = make_dir(l->dir_fd, "src", 0755);
  build_tree(l->src, victim, flags, uid, gid);
  free(victim);
  l->dst = make_dir(l->dir_fd, "dst", 0700);
}

/* Nothing outside the copy was touched through its symlinks. */
static void assert_victim_untouched(struct layout *l)
{
  struct stat st;
  int fd = open_dir(l->dir_fd, "victim");
  size_t n;
  char **names = names_of(fd, &n);

  CHECK(fstat(fd, &st));
  assert_int_equal(n, 1);
  assert_string_equal(names[0], "keep");
  assert_int_equal(st.st_mtim.tv_sec, l->victim_before.st_mtim.tv_sec);
  assert_int_equal(st.st_mtim.tv_nsec, l->victim_before.st_mtim.tv_nsec);
  free_names(names, n);
  close(fd);
}

static void layout_free(struct layout *l)
{
  close(l->src);
  close(l->dst);
  close(l->dir_fd);
}

static struct appc_copy_options copy_opts(bool as_root)
{
  return (struct appc_copy_options){.as_root = as_root};
}

/* ---- tests ---- */

static void test_copy_keeps_everything_as_root(void **state)
{
  struct layout l;
  struct appc_copy_options o = copy_opts(true);
  struct compare c = {.as_root = true};
  appc_error_t err = NULL;
  struct stat st;

  if (!root())
    skip();
  layout_new(&l, TREE_ROOT_ONLY, 0, 0);
  assert_ok(appc_tree_copy(l.src, l.dst, &o, &err), &err);
  compare_trees(&c, l.src, l.dst);
  /* every entry, by name: nothing went missing silently */
  assert_int_equal(c.entries, 55);
  /* the copy of a sparse file is sparse */
  CHECK(fstatat(l.dst, "sparse", &st, 0));
  assert_true((off_t) st.st_blocks * 512 < st.st_size / 4);
  CHECK(fstatat(l.dst, "sparse-tail", &st, 0));
  assert_true((off_t) st.st_blocks * 512 < st.st_size / 4);
  /* a symlink out of the tree is copied as a symlink, never followed */
  CHECK(fstatat(l.dst, "outside", &st, AT_SYMLINK_NOFOLLOW));
  assert_true(S_ISLNK(st.st_mode));
  assert_victim_untouched(&l);
  layout_free(&l);
}

static void test_copy_without_root_privilege_option(void **state)
{
  struct layout l;
  struct appc_copy_options o = copy_opts(false);
  struct compare c = {.as_root = false, .uid = geteuid(), .gid = getegid()};
  appc_error_t err = NULL;

  if (!root())
    skip();
  layout_new(&l, TREE_ROOT_ONLY, 0, 0);
  assert_ok(appc_tree_copy(l.src, l.dst, &o, &err), &err);
  /* device nodes skipped (sockets always are), owners are the caller's */
  compare_trees(&c, l.src, l.dst);
  assert_int_equal(faccessat(l.dst, "dev/null", F_OK, AT_SYMLINK_NOFOLLOW), -1);
  assert_int_equal(faccessat(l.dst, "fifo", F_OK, AT_SYMLINK_NOFOLLOW), 0);
  layout_free(&l);
}

/* Run FN in a child that has become nobody; returns its exit status. */
static int as_nobody(int (*fn)(struct layout *), struct layout *l)
{
  pid_t pid = fork();
  int status;

  assert_true(pid >= 0);
  if (pid == 0) {
    if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
        setresuid(NOBODY, NOBODY, NOBODY) < 0)
      _exit(98);
    _exit(fn(l));
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static int copy_as_nobody(struct layout *l)
{
  struct appc_copy_options o = copy_opts(false);
  appc_error_t err = NULL;
  if (appc_tree_copy(l->src, l->dst, &o, &err) < 0) {
    fprintf(stderr, "# %s\n", err->msg);
    return 1;
  }
  return 0;
}

static void test_copy_by_an_unprivileged_owner(void **state)
{
  struct layout l;
  struct compare c = {.as_root = false, .uid = NOBODY, .gid = NOBODY, .user_only = true};
  char value[64];

  if (!root())
    skip();
  layout_new(&l, 0, NOBODY, NOBODY);
  CHECK(fchown(l.dst, NOBODY, NOBODY));
  CHECK(fchmod(l.dir_fd, 0755));
  assert_int_equal(as_nobody(copy_as_nobody, &l), 0);
  /* security.capability cannot be set without privilege: left out, and
   * every user.* attribute, mode (0500 directories included) and time kept */
  compare_trees(&c, l.src, l.dst);
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d/cap", l.dst);
  assert_int_equal(lgetxattr(proc, "security.capability", value, sizeof value), -1);
  layout_free(&l);
}

static void test_copy_into_another_file_system(void **state)
{
  struct layout l;
  struct appc_copy_options o = copy_opts(true);
  struct compare c = {.as_root = true};
  appc_error_t err = NULL;

  if (!root())
    skip();
  layout_new(&l, TREE_ROOT_ONLY, 0, 0);
  current_mount = join(l.dir, "mnt");
  CHECK(mkdirat(l.dir_fd, "mnt", 0755));
  if (mount("tmpfs", current_mount, "tmpfs", 0, "size=64m") < 0)
    skip();
  int dst = make_dir(l.dir_fd, "mnt/dst", 0700);
  /* copy_file_range between file systems of different types fails with
   * EXDEV: the data goes through read and write instead */
  assert_ok(appc_tree_copy(l.src, dst, &o, &err), &err);
  compare_trees(&c, l.src, dst);
  close(dst);
  layout_free(&l);
}

static void test_copy_error_names_the_path(void **state)
{
  struct appc_copy_options o = copy_opts(true);
  appc_error_t err = NULL;
  char *dir = scratch_new();
  int dir_fd = open_dir(AT_FDCWD, dir);
  int src = make_dir(dir_fd, "src", 0755);
  int dst;

  if (!root())
    skip();
  close(make_dir(src, "a", 0755));
  close(make_dir(src, "a/b", 0755));
  put_file(src, "a/b/small", 0644, 10, 1);
  put_file(src, "a/b/big", 0644, 1 << 20, 2);
  current_mount = join(dir, "mnt");
  CHECK(mkdirat(dir_fd, "mnt", 0755));
  if (mount("tmpfs", current_mount, "tmpfs", 0, "size=256k") < 0)
    skip();
  dst = make_dir(dir_fd, "mnt/dst", 0700);
  int r = appc_tree_copy(src, dst, &o, &err);
  assert_true(r < 0);
  assert_int_equal(err->errnum, ENOSPC);
  assert_error_contains(r, &err, "a/b/big: copying data");
  close(dst);
  CHECK(umount(current_mount));

  /* out of inodes: the root, x and x/y fit, x/y/z does not */
  int chain = make_dir(dir_fd, "chain", 0755);
  close(make_dir(chain, "x", 0755));
  close(make_dir(chain, "x/y", 0755));
  close(make_dir(chain, "x/y/z", 0755));
  CHECK(mount("tmpfs", current_mount, "tmpfs", 0, "nr_inodes=3"));
  dst = open_dir(dir_fd, "mnt");
  r = appc_tree_copy(chain, dst, &o, &err);
  assert_error_contains(r, &err, "x/y/z: creating directory: No space left on device");
  close(dst);
  close(chain);
  close(src);
  close(dir_fd);
}

/* A destination inside the source tree (through a bind mount of one of
 * its directories, in a render): refused when the walk meets it, rather
 * than copied into itself as it grows.  On a tmpfs of few inodes, so that
 * a copy that goes on stops at once (ENOSPC), and fails this test. */
static void test_copy_into_itself(void **state)
{
  struct appc_copy_options o = copy_opts(true);
  appc_error_t err = NULL;
  char *dir = scratch_new();
  int dir_fd = open_dir(AT_FDCWD, dir);

  if (!root())
    skip();
  current_mount = join(dir, "mnt");
  CHECK(mkdirat(dir_fd, "mnt", 0755));
  if (mount("tmpfs", current_mount, "tmpfs", 0, "nr_inodes=64") < 0)
    skip();
  int src = make_dir(dir_fd, "mnt/src", 0755);
  put_file(src, "f", 0644, 10, 1);
  close(make_dir(src, "sub", 0755));
  int dst = make_dir(src, "sub/dst", 0700);
  int r = appc_tree_copy(src, dst, &o, &err);
  assert_true(r < 0);
  assert_int_equal(err->errnum, ELOOP);
  assert_error_contains(r, &err,
                        "sub/dst: the destination itself: a tree cannot be copied into itself");
  close(dst);
  close(src);
  close(dir_fd);
}

struct countdown {
  int left;
  int calls;
};

static bool cancel_after(void *data)
{
  struct countdown *cd = data;
  cd->calls++;
  return cd->left-- <= 0;
}

static void test_copy_cancelled(void **state)
{
  struct layout l;
  struct countdown cd = {.left = 7};
  struct appc_copy_options o = {.as_root = root(), .cancelled = cancel_after, .cancel_data = &cd};
  appc_error_t err = NULL;

  layout_new(&l, 0, geteuid(), getegid());
  int r = appc_tree_copy(l.src, l.dst, &o, &err);
  assert_true(r < 0);
  assert_int_equal(err->errnum, ECANCELED);
  assert_int_equal(cd.calls, 8);
  assert_error_contains(r, &err, "cancelled");

  /* at once, and a callback that never cancels is called per entry */
  int dst = make_dir(l.dir_fd, "dst2", 0700);
  cd = (struct countdown){.left = 0};
  assert_true(appc_tree_copy(l.src, dst, &o, &err) < 0);
  assert_int_equal(err->errnum, ECANCELED);
  appc_error_release(&err);
  close(dst);
  dst = make_dir(l.dir_fd, "dst3", 0700);
  cd = (struct countdown){.left = 1 << 30};
  assert_ok(appc_tree_copy(l.src, dst, &o, &err), &err);
  assert_int_equal(cd.calls, 49); /* once per entry: 48 copied, the socket skipped */
  close(dst);
  layout_free(&l);
}

#define DEEP 300
#define DEEP_NAME "a-directory-name-of-some-length" /* 300 of them: past PATH_MAX */

/* A chain of DEEP directories, each with a file, and a file at the bottom
 * with a second name next to it. */
static void build_deep(int src)
{
  int fd = dup(src);
  for (int i = 0; i < DEEP; i++) {
    put_file(fd, "f", 0640, (size_t) i, (unsigned) i);
    int next = make_dir(fd, DEEP_NAME, 0750);
    close(fd);
    fd = next;
  }
  put_file(fd, "bottom", 0644, 100, 1);
  CHECK(linkat(fd, "bottom", fd, "bottom-too", 0));
  close(fd);
  unsigned counter = 0;
  set_times(src, ".", &counter);
}

static void test_deep_tree_uses_few_descriptors(void **state)
{
  struct appc_copy_options o = copy_opts(root());
  struct compare c = {.as_root = root(), .uid = geteuid(), .gid = getegid()};
  appc_error_t err = NULL;
  char *dir = scratch_new();
  int dir_fd = open_dir(AT_FDCWD, dir);
  int src = make_dir(dir_fd, "src", 0755);
  int dst = make_dir(dir_fd, "dst", 0700);
  struct rlimit saved, low = {.rlim_cur = 256};

  build_deep(src);
  CHECK(getrlimit(RLIMIT_NOFILE, &saved));
  low.rlim_max = saved.rlim_max;
  /* a descriptor per level and tree would need more than twice this */
  CHECK(setrlimit(RLIMIT_NOFILE, &low));
  int r = appc_tree_copy(src, dst, &o, &err);
  CHECK(setrlimit(RLIMIT_NOFILE, &saved));
  assert_ok(r, &err);
  compare_trees(&c, src, dst);
  assert_int_equal(c.entries, 2 * DEEP + 2);

  CHECK(setrlimit(RLIMIT_NOFILE, &low));
  r = appc_remove_tree(dir_fd, "dst", &err);
  CHECK(setrlimit(RLIMIT_NOFILE, &saved));
  assert_ok(r, &err);
  assert_int_equal(faccessat(dir_fd, "dst", F_OK, AT_SYMLINK_NOFOLLOW), -1);
  close(dst);
  close(src);
  close(dir_fd);
}

/* A chain of 100,000 directories, as an app can make in its root
 * (mkdir d; cd d; ...): removed without a C stack frame per level (the
 * recursive walk overflowed its stack past some 20,000), and with a step
 * per level back up (finding each parked parent again from the top was
 * quadratic: 56 s for 10,000), under a limit of 64 descriptors. */
#define CHAIN 100000
static void test_remove_chain(void **state)
{
  char *dir = scratch_new();
  int dir_fd = open_dir(AT_FDCWD, dir);
  int fd = make_dir(dir_fd, "chain", 0755);
  struct rlimit saved, low = {.rlim_cur = 64};
  appc_error_t err = NULL;

  (void) state;
  for (int i = 0; i < CHAIN; i++) {
    if (i % 1000 == 0)
      put_file(fd, "f", 0644, 1, (unsigned) i);
    int next = make_dir(fd, "d", 0755);
    close(fd);
    fd = next;
  }
  close(fd);
  CHECK(getrlimit(RLIMIT_NOFILE, &saved));
  low.rlim_max = saved.rlim_max;
  CHECK(setrlimit(RLIMIT_NOFILE, &low));
  int r = appc_remove_tree(dir_fd, "chain", &err);
  CHECK(setrlimit(RLIMIT_NOFILE, &saved));
  assert_ok(r, &err);
  assert_int_equal(faccessat(dir_fd, "chain", F_OK, AT_SYMLINK_NOFOLLOW), -1);
  close(dir_fd);
}

static void test_remove_tree(void **state)
{
  struct layout l;
  struct appc_copy_options o = copy_opts(root());
  appc_error_t err = NULL;
  char *victim;

  layout_new(&l, root() ? TREE_ROOT_ONLY : 0, geteuid(), getegid());
  assert_ok(appc_tree_copy(l.src, l.dst, &o, &err), &err);
  /* the copy, with its 0500 and (as root) 0000 directories */
  assert_ok(appc_remove_tree(l.dir_fd, "dst", &err), &err);
  assert_int_equal(faccessat(l.dir_fd, "dst", F_OK, AT_SYMLINK_NOFOLLOW), -1);
  assert_int_equal(errno, ENOENT);
  /* a missing name */
  assert_ok(appc_remove_tree(l.dir_fd, "dst", &err), &err);
  /* a symlink to a directory outside: the link goes, the target stays */
  victim = join(l.dir, "victim");
  CHECK(symlinkat(victim, l.dir_fd, "link"));
  CHECK(symlinkat("victim", l.dir_fd, "rel-link"));
  assert_ok(appc_remove_tree(l.dir_fd, "link", &err), &err);
  assert_ok(appc_remove_tree(l.dir_fd, "rel-link", &err), &err);
  assert_int_equal(faccessat(l.dir_fd, "link", F_OK, AT_SYMLINK_NOFOLLOW), -1);
  assert_int_equal(faccessat(l.dir_fd, "rel-link", F_OK, AT_SYMLINK_NOFOLLOW), -1);
  assert_victim_untouched(&l);
  /* a regular file and a FIFO */
  put_file(l.dir_fd, "file", 0000, 10, 1);
  CHECK(mkfifoat(l.dir_fd, "fifo", 0600));
  assert_ok(appc_remove_tree(l.dir_fd, "file", &err), &err);
  assert_ok(appc_remove_tree(l.dir_fd, "fifo", &err), &err);
  assert_int_equal(faccessat(l.dir_fd, "file", F_OK, AT_SYMLINK_NOFOLLOW), -1);
  assert_int_equal(faccessat(l.dir_fd, "fifo", F_OK, AT_SYMLINK_NOFOLLOW), -1);
  /* the source itself, symlinks out of it included: the victim stays */
  close(l.src);
  l.src = -1;
  assert_ok(appc_remove_tree(l.dir_fd, "src", &err), &err);
  assert_victim_untouched(&l);
  free(victim);
  close(l.dst);
  l.dst = -1;
  layout_free(&l);
}

/* As nobody: directories of modes 0500, 0000 and 0000 inside 0500, which
 * the owner can only remove after giving itself permission. */
static int remove_as_nobody(struct layout *l)
{
  appc_error_t err = NULL;
  int top = make_dir(l->dir_fd, "mine", 0755);

  close(make_dir(top, "ro", 0755));
  close(make_dir(top, "ro/closed", 0755));
  put_file(top, "ro/closed/f", 0000, 10, 1);
  close(make_dir(top, "ro/closed/deeper", 0755));
  put_file(top, "ro/closed/deeper/g", 0644, 10, 1);
  put_file(top, "ro/h", 0444, 10, 1);
  close(make_dir(top, "none", 0755));
  put_file(top, "none/i", 0644, 10, 1);
  if (fchmodat(top, "ro/closed/deeper", 0000, 0) < 0 || fchmodat(top, "ro/closed", 0000, 0) < 0 ||
      fchmodat(top, "ro", 0500, 0) < 0 || fchmodat(top, "none", 0000, 0) < 0 ||
      fchmod(top, 0500) < 0)
    return 2;
  close(top);
  if (appc_remove_tree(l->dir_fd, "mine", &err) < 0) {
    fprintf(stderr, "# %s\n", err->msg);
    return 1;
  }
  return faccessat(l->dir_fd, "mine", F_OK, AT_SYMLINK_NOFOLLOW) == 0 ? 3 : 0;
}

static void test_remove_tree_as_owner(void **state)
{
  struct layout l = {0};

  if (!root())
    skip();
  l.dir = scratch_new();
  CHECK(chown(l.dir, NOBODY, NOBODY));
  l.dir_fd = open_dir(AT_FDCWD, l.dir);
  l.src = l.dst = -1;
  assert_int_equal(as_nobody(remove_as_nobody, &l), 0);
  close(l.dir_fd);
}

static void test_remove_error_names_the_path(void **state)
{
  appc_error_t err = NULL;
  char *dir = scratch_new();
  int dir_fd = open_dir(AT_FDCWD, dir);
  int top = make_dir(dir_fd, "top", 0755);
  int flags = FS_IMMUTABLE_FL;

  if (!root())
    skip();
  close(make_dir(top, "a", 0755));
  put_file(top, "a/stuck", 0644, 1, 1);
  int fd = openat(top, "a/stuck", O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0) {
    close(fd);
    skip();
  }
  int r = appc_remove_tree(dir_fd, "top", &err);
  flags = 0;
  CHECK(ioctl(fd, FS_IOC_SETFLAGS, &flags));
  close(fd);
  assert_error_contains(r, &err, "top/a/stuck: removing: Operation not permitted");
  assert_ok(appc_remove_tree(dir_fd, "top", &err), &err);
  close(top);
  close(dir_fd);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_copy_keeps_everything_as_root, teardown),
      cmocka_unit_test_teardown(test_copy_without_root_privilege_option, teardown),
      cmocka_unit_test_teardown(test_copy_by_an_unprivileged_owner, teardown),
      cmocka_unit_test_teardown(test_copy_into_another_file_system, teardown),
      cmocka_unit_test_teardown(test_copy_error_names_the_path, teardown),
      cmocka_unit_test_teardown(test_copy_into_itself, teardown),
      cmocka_unit_test_teardown(test_copy_cancelled, teardown),
      cmocka_unit_test_teardown(test_deep_tree_uses_few_descriptors, teardown),
      cmocka_unit_test_teardown(test_remove_tree, teardown),
      cmocka_unit_test_teardown(test_remove_chain, teardown),
      cmocka_unit_test_teardown(test_remove_tree_as_owner, teardown),
      cmocka_unit_test_teardown(test_remove_error_names_the_path, teardown),
  };
  return cmocka_run_group_tests_name("store-copy", tests, NULL, NULL);
}
