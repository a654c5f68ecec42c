/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for common/hashmap: the map, string sets, first indexes, (dev, ino) keys. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/hashmap.h"
#include "tests/unit/test-util.h"

struct pair {
  int key;
  int value;
};

static bool pair_eq(const void *entry, const void *key)
{
  return ((const struct pair *) entry)->key == *(const int *) key;
}

static void test_map(void **state)
{
  struct appc_hashmap m;
  struct pair *p;
  bool added;
  size_t pos = 0, seen = 0;
  long sum = 0;
  (void) state;

  appc_hashmap_init(&m, sizeof(struct pair), 0);
  assert_null(appc_hashmap_find(&m, 1, pair_eq, &(int){1})); /* before any slot exists */
  for (int i = 0; i < 5000; i++) {
    /* Every third key hashes to 0, and many share a bucket: probing works. */
    uint64_t h = i % 3 == 0 ? 0 : (uint64_t) (i % 7);
    p = appc_hashmap_insert(&m, h, pair_eq, &i, &added);
    assert_non_null(p);
    assert_true(added);
    *p = (struct pair){i, i * 2};
  }
  assert_int_equal(m.len, 5000);
  for (int i = 0; i < 5000; i++) {
    uint64_t h = i % 3 == 0 ? 0 : (uint64_t) (i % 7);
    p = appc_hashmap_find(&m, h, pair_eq, &i);
    assert_non_null(p);
    assert_int_equal(p->value, i * 2);
    p = appc_hashmap_insert(&m, h, pair_eq, &i, &added);
    assert_false(added);
    assert_int_equal(p->value, i * 2); /* the existing entry, unchanged */
  }
  assert_null(appc_hashmap_find(&m, 5, pair_eq, &(int){5001}));
  while ((p = appc_hashmap_next(&m, &pos)) != NULL) {
    seen++;
    sum += p->key;
  }
  assert_int_equal(seen, 5000);
  assert_int_equal(sum, 4999L * 5000 / 2);
  appc_hashmap_clear(&m, NULL);
  assert_int_equal(m.len, 0);
  assert_null(appc_hashmap_find(&m, 1, pair_eq, &(int){1}));
}

static void test_strset(void **state)
{
  struct appc_strset set = {0}; /* zeroed is empty */
  char buf[32];
  (void) state;

  assert_false(appc_strset_contains(&set, "a"));
  for (int i = 0; i < 3000; i++) {
    snprintf(buf, sizeof buf, "rootfs/dir/%d", i);
    assert_int_equal(appc_strset_add(&set, buf), 1);
  }
  assert_int_equal(appc_strset_add(&set, "rootfs/dir/7"), 0);
  assert_int_equal(appc_strset_size(&set), 3000);
  assert_true(appc_strset_contains(&set, "rootfs/dir/2999"));
  assert_false(appc_strset_contains(&set, "rootfs/dir/3000"));
  assert_false(appc_strset_contains(&set, "rootfs/dir"));
  appc_strset_clear(&set);
  assert_false(appc_strset_contains(&set, "rootfs/dir/7"));
  assert_int_equal(appc_strset_add(&set, "again"), 1);
  appc_strset_clear(&set);
}

/* appc_strset_find_ancestor: the shortest member that is a prefix of the
 * path ending at one of its slashes; the path itself and prefixes ending
 * inside a component do not count. */
static void test_strset_ancestor(void **state)
{
  struct appc_strset set = {0};
  static char deep[4096];
  size_t at = 0;
  (void) state;

  assert_int_equal(appc_strset_find_ancestor(&set, "a/b/c"), 0); /* empty */
  assert_int_equal(appc_strset_add(&set, "rootfs/a/b"), 1);
  assert_int_equal(appc_strset_add(&set, "rootfs/x"), 1);
  assert_int_equal(appc_strset_find_ancestor(&set, "rootfs/a/b/c"), strlen("rootfs/a/b"));
  assert_int_equal(appc_strset_find_ancestor(&set, "rootfs/a/b/c/d/e"), strlen("rootfs/a/b"));
  assert_int_equal(appc_strset_find_ancestor(&set, "rootfs/a/b"), 0);    /* itself */
  assert_int_equal(appc_strset_find_ancestor(&set, "rootfs/a/bc/d"), 0); /* not a component */
  assert_int_equal(appc_strset_find_ancestor(&set, "rootfs/a"), 0);
  assert_int_equal(appc_strset_find_ancestor(&set, "rootfs/x/y"), strlen("rootfs/x"));
  assert_int_equal(appc_strset_add(&set, "rootfs"), 1);
  assert_int_equal(appc_strset_find_ancestor(&set, "rootfs/a/b/c"),
                   strlen("rootfs"));                                /* shortest */
  assert_int_equal(appc_strset_find_ancestor(&set, "/rootfs/a"), 0); /* "" is no ancestor */
  appc_strset_clear(&set);
  /* 2,000 components: a member at the very end is found; the hashes of the
   * prefixes agree with appc_strset_contains's. */
  for (int i = 0; i < 2000; i++) {
    deep[at++] = 'a';
    deep[at++] = '/';
  }
  deep[at] = 'f';
  deep[at - 1] = '\0';
  assert_int_equal(appc_strset_add(&set, deep), 1);
  assert_true(appc_strset_contains(&set, deep));
  deep[at - 1] = '/';
  assert_int_equal(appc_strset_find_ancestor(&set, deep), at - 1);
  appc_strset_clear(&set);
}

struct inode_entry {
  struct appc_inode inode;
  int n;
};

static void test_inode_keys(void **state)
{
  struct appc_hashmap m;
  bool added;
  (void) state;

  appc_hashmap_init(&m, sizeof(struct inode_entry), 16);
  for (int dev = 0; dev < 3; dev++) {
    for (int ino = 0; ino < 1000; ino++) {
      struct appc_inode k = {(dev_t) dev, (ino_t) ino};
      struct inode_entry *e =
          appc_hashmap_insert(&m, appc_hash_inode(&k), appc_inode_eq, &k, &added);
      assert_non_null(e);
      assert_true(added);
      *e = (struct inode_entry){k, dev * 1000 + ino};
    }
  }
  /* (dev, ino) pairs are told apart when either differs. */
  struct appc_inode k = {2, 17};
  struct inode_entry *e = appc_hashmap_find(&m, appc_hash_inode(&k), appc_inode_eq, &k);
  assert_non_null(e);
  assert_int_equal(e->n, 2017);
  k = (struct appc_inode){3, 17};
  assert_null(appc_hashmap_find(&m, appc_hash_inode(&k), appc_inode_eq, &k));
  assert_int_not_equal(appc_hash_inode(&(struct appc_inode){1, 2}),
                       appc_hash_inode(&(struct appc_inode){2, 1}));
  appc_hashmap_clear(&m, NULL);
}

/* The hash of BYTES in a new process. */
static uint64_t hash_in_child(const char *bytes)
{
  int fds[2];
  uint64_t h = 0;

  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    /* (a forked child keeps its parent's seed: exec a fresh one instead) */
    char fd[16];
    snprintf(fd, sizeof fd, "%d", fds[1]);
    execl("/proc/self/exe", "test-common-hashmap", "--hash", bytes, fd, (char *) NULL);
    _exit(127);
  }
  close(fds[1]);
  assert_int_equal(read(fds[0], &h, sizeof h), (ssize_t) sizeof h);
  close(fds[0]);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return h;
}

static void test_hash_seed(void **state)
{
  (void) state;
  /* equal bytes hash equal within a process, and another process draws
   * another start: names cannot be chosen to collide */
  assert_true(appc_hash_bytes("name", 4) == appc_hash_bytes("name", 4));
  assert_true(appc_hash_bytes("name", 4) != appc_hash_bytes("namf", 4));
  uint64_t a = hash_in_child("name"), b = hash_in_child("name");
  assert_true(a != b);
}

static const char *name_at(const void *list, size_t i)
{
  return ((const char *const *) list)[i];
}

static void test_first_repeat(void **state)
{
  static const char *const none[] = {"a", "b", "c", ""};
  static const char *const twice[] = {"a", "b", "", "c", "b", "", "a"};
  static char names[20000][16];
  const char *many[20000];
  struct appc_strindex x = {0};
  size_t earlier = 99;
  (void) state;

  assert_int_equal(appc_first_repeat(0, name_at, none, &earlier), 0);
  assert_int_equal(appc_first_repeat(4, name_at, none, &earlier), 4);
  assert_int_equal(earlier, 99); /* untouched when nothing repeats */
  /* the first index that repeats, not the first name that does */
  assert_int_equal(appc_first_repeat(7, name_at, twice, &earlier), 4);
  assert_int_equal(earlier, 1);
  /* a long list: the repeat at the very end, of the very first name */
  for (size_t i = 0; i < 20000; i++) {
    snprintf(names[i], sizeof names[i], "n%zu", i);
    many[i] = names[i];
  }
  many[19999] = "n0";
  assert_int_equal(appc_first_repeat(20000, name_at, many, &earlier), 19999);
  assert_int_equal(earlier, 0);

  assert_int_equal(appc_strindex_find(&x, "k"), -1); /* empty, never used */
  assert_int_equal(appc_strindex_add(&x, "k", 3), 3);
  assert_int_equal(appc_strindex_add(&x, "j", 5), 5);
  assert_int_equal(appc_strindex_add(&x, "k", 8), 3);
  assert_int_equal(appc_strindex_find(&x, "k"), 3);
  assert_int_equal(appc_strindex_find(&x, "j"), 5);
  assert_int_equal(appc_strindex_find(&x, "i"), -1);
  assert_int_equal(appc_strindex_add(&x, "i", 6), 6); /* a find added nothing */
  appc_strindex_clear(&x);
  assert_int_equal(appc_strindex_add(&x, "k", 9), 9); /* cleared, usable again */
  appc_strindex_clear(&x);
}

int main(int argc, char **argv)
{
  if (argc == 4 && strcmp(argv[1], "--hash") == 0) {
    uint64_t h = appc_hash_bytes(argv[2], strlen(argv[2]));
    return write(atoi(argv[3]), &h, sizeof h) == (ssize_t) sizeof h ? 0 : 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_map),
      cmocka_unit_test(test_strset),
      cmocka_unit_test(test_strset_ancestor),
      cmocka_unit_test(test_first_repeat),
      cmocka_unit_test(test_hash_seed),
      cmocka_unit_test(test_inode_keys),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
