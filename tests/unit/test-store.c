/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the store's index, import rules, lookup and gc (store/), and
 * of the NAME[,LABEL=VALUE...] parser they rely on (schema/appstring.c). */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test-util.h"
#include "tests/unit/test-cloexec.h"

#include "common/fs.h"
#include "common/macros.h"
#include "schema/json.h"
#include "appc/schema.h"
#include "store/private.h"

/* ---- scratch directories and images ---- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) st;
  (void) flag;
  (void) ftw;
  return remove(path);
}

struct fixture {
  char dir[64];
  char store[96];
  struct appc_store *s;
};

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof *f);

  assert_non_null(f);
  strcpy(f->dir, "/tmp/test-store.XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  snprintf(f->store, sizeof f->store, "%s/store", f->dir);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;

  appc_store_close(f->s);
  nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

static void open_store(struct fixture *f)
{
  appc_error_t err = NULL;
  int r = appc_store_open(&f->s, f->store, &err);
  assert_ok(r, &err);
}

struct entry {
  const char *name;
  mode_t type; /* AE_IFREG, AE_IFDIR, AE_IFLNK; hard link when link and type 0 */
  const char *data_or_link;
};

static char *manifest_json(const char *name, const char *version)
{
  char *json = NULL;
  assert_true(asprintf(&json,
                       "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"%s\","
                       "\"labels\":[{\"name\":\"version\",\"value\":\"%s\"},"
                       "{\"name\":\"os\",\"value\":\"linux\"}]}",
                       name, version) > 0);
  return json;
}

/* Write a gzip ACI at PATH: manifest, rootfs and ENTRIES. */
static void write_aci(const char *path, const char *manifest, const struct entry *entries, size_t n)
{
  struct archive *a = archive_write_new();
  struct archive_entry *e = archive_entry_new();

  assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
  assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
  assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
  struct entry all[32] = {{"manifest", AE_IFREG, manifest}, {"rootfs", AE_IFDIR, NULL}};
  assert_true(n + 2 <= 32);
  memcpy(all + 2, entries, n * sizeof *entries);
  for (size_t i = 0; i < n + 2; i++) {
    archive_entry_clear(e);
    archive_entry_set_pathname(e, all[i].name);
    archive_entry_set_mtime(e, 1700000000, 0);
    if (all[i].type == 0) {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 0644);
      archive_entry_set_hardlink(e, all[i].data_or_link);
    } else if (all[i].type == AE_IFLNK) {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_perm(e, 0777);
      archive_entry_set_symlink(e, all[i].data_or_link);
    } else {
      archive_entry_set_filetype(e, all[i].type);
      archive_entry_set_perm(e, all[i].type == AE_IFDIR ? 0755 : 0644);
      if (all[i].type == AE_IFREG)
        archive_entry_set_size(e, (la_int64_t) strlen(all[i].data_or_link));
    }
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    if (all[i].type == AE_IFREG)
      assert_int_equal(archive_write_data(a, all[i].data_or_link, strlen(all[i].data_or_link)),
                       (la_ssize_t) strlen(all[i].data_or_link));
  }
  assert_int_equal(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
  archive_entry_free(e);
}

static void simple_aci(const struct fixture *f, const char *file, const char *name,
                       const char *version, char path[256])
{
  static const struct entry files[] = {{"rootfs/etc", AE_IFDIR, NULL},
                                       {"rootfs/etc/hello", AE_IFREG, "hello\n"}};
  char *m = manifest_json(name, version);

  snprintf(path, 256, "%s/%s", f->dir, file);
  write_aci(path, m, files, 2);
  free(m);
}

static void import_ok(struct fixture *f, const char *path, struct appc_store_image *img,
                      bool *already)
{
  appc_error_t err = NULL;
  int r = appc_store_import(f->s, path, NULL, img, already, &err);
  assert_ok(r, &err);
}

static int count_dir(const char *dir)
{
  int n = 0;
  DIR *d = opendir(dir);
  struct dirent *de;

  assert_non_null(d);
  while ((de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}

static int count_sub(const struct fixture *f, const char *sub)
{
  char p[160];
  snprintf(p, sizeof p, "%s/%s", f->store, sub);
  return count_dir(p);
}

/* ---- NAME[,LABEL=VALUE...] ---- */

static void parse_ok(const char *s, const char *name, size_t nlabels, const char *const *kv)
{
  char *n = NULL;
  struct appc_kv_list labels;
  appc_error_t err = NULL;
  int r = appc_app_string_parse(s, &n, &labels, &err);

  assert_ok(r, &err);
  assert_string_equal(n, name);
  assert_int_equal(labels.len, nlabels);
  for (size_t i = 0; i < nlabels; i++) {
    assert_string_equal(labels.items[i].name, kv[2 * i]);
    assert_string_equal(labels.items[i].value, kv[2 * i + 1]);
  }
  free(n);
  appc_kv_list_clear(&labels);
}

static void parse_fails(const char *s, const char *needle)
{
  char *n = NULL;
  struct appc_kv_list labels;
  appc_error_t err = NULL;
  int r = appc_app_string_parse(s, &n, &labels, &err);

  assert_null(n);
  assert_int_equal(labels.len, 0);
  assert_error_contains(r, &err, needle);
}

static void test_app_string(void **state)
{
  static const char *const two[] = {"version", "1.0.0", "os", "linux"};
  /* Values are literal, as in the reference's NewAppFromString. */
  static const char *const literal[] = {"version", "1.0%2Bbuild+2"};
  static const char *const plus[] = {"version", "1.0.0+git", "special", "!*'();@&+$/?#[]"};
  static const char *const key_escaped[] = {"channel", "a b"};

  (void) state;
  parse_ok("example.com/app", "example.com/app", 0, NULL);
  parse_ok("example.com/app,version=1.0.0,os=linux", "example.com/app", 2, two);
  parse_ok("example.com/app,version=1.0%2Bbuild+2", "example.com/app", 1, literal);
  parse_ok("example.com/app:1.0.0+git,special=!*'();@&+$/?#[]", "example.com/app", 2, plus);
  parse_ok("example.com/app,ch%61nnel=a b", "example.com/app", 1, key_escaped);
  parse_fails("example.com/app,,version=1.0.0", "is not LABEL=VALUE");
  parse_fails("example.com/app,version=1.0.0,", "is not LABEL=VALUE");
  parse_fails("example.com/%61pp", "image name");
  parse_fails("", "no image name");
  parse_fails(",version=1", "no image name");
  parse_fails("Example.com/App", "image name");
  parse_fails("example.com/app,name=x", "\"name\" cannot be used as a label");
  parse_fails("example.com/app,version=1,version=2", "given more than once");
  parse_fails("example.com/app,version", "not LABEL=VALUE");
  parse_fails("example.com/app,version%2=1", "invalid URL escape \"%2\"");
  parse_fails("example.com/app,version%zz=1", "invalid URL escape \"%zz\"");
  parse_fails("example.com/app,ver%00sion=1", "label name \"ver%00sion\": %00 (a NUL byte)");
  parse_fails("example.com/app,Bad_Label=1", "label name");
}

/* ---- opening ---- */

static void test_open_creates_layout(void **state)
{
  struct fixture *f = *state;
  char p[160], buf[64] = "";

  open_store(f);
  const char *subs[] = {"blobs", "images", "trees", "tmp", "lock", "format"};
  for (size_t i = 0; i < 6; i++) {
    snprintf(p, sizeof p, "%s/%s", f->store, subs[i]);
    assert_int_equal(access(p, F_OK), 0);
  }
  snprintf(p, sizeof p, "%s/format", f->store);
  FILE *fp = fopen(p, "r");
  assert_non_null(fp);
  assert_non_null(fgets(buf, sizeof buf, fp));
  fclose(fp);
  assert_string_equal(buf, "actool-store 2\n");
}

static void write_format(const struct fixture *f, const char *text)
{
  char p[160];
  snprintf(p, sizeof p, "%s/format", f->store);
  FILE *fp = fopen(p, "w");
  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
}

static void test_open_refuses_newer_or_foreign_format(void **state)
{
  struct fixture *f = *state;
  appc_error_t err = NULL;
  struct appc_store *s = NULL;

  assert_int_equal(mkdir(f->store, 0700), 0);
  write_format(f, "actool-store 3\n");
  assert_error_contains(appc_store_open(&s, f->store, &err), &err, "newer release");
  write_format(f, "something else\n");
  assert_error_contains(appc_store_open(&s, f->store, &err), &err, "not an actool store");
  assert_null(s);
  /* A FIFO there is refused at once: opened to be read, it would wait for
   * a writer for ever (the alarm ends a test that hangs). */
  char p[160];
  snprintf(p, sizeof p, "%s/format", f->store);
  assert_int_equal(unlink(p), 0);
  assert_int_equal(mkfifo(p, 0600), 0);
  alarm(20);
  assert_error_contains(appc_store_open(&s, f->store, &err), &err, "format: not a regular file");
  alarm(0);
  assert_null(s);
}

/* ---- import ---- */

static void test_import_and_reimport(void **state)
{
  struct fixture *f = *state;
  struct appc_store_image img, again;
  struct appc_aci_info info;
  appc_error_t err = NULL;
  char path[256];
  bool already = true;

  open_store(f);
  simple_aci(f, "a.aci", "example.com/a", "1.0.0", path);
  int r = appc_aci_validate(path, &info, &err);
  assert_ok(r, &err);
  import_ok(f, path, &img, &already);
  assert_false(already);
  assert_string_equal(img.id, info.image_id);
  assert_string_equal(img.name, "example.com/a");
  assert_int_equal(img.labels.len, 2);
  assert_int_equal(img.size, info.uncompressed_size);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(img.blob_size, (unsigned long long) st.st_size);
  import_ok(f, path, &again, &already);
  assert_true(already);
  assert_string_equal(again.id, img.id);
  /* Imported again: the newest import of its name, as rkt's. */
  assert_true(again.import_time.tv_sec > img.import_time.tv_sec ||
              (again.import_time.tv_sec == img.import_time.tv_sec &&
               again.import_time.tv_nsec > img.import_time.tv_nsec));
  assert_int_equal(count_sub(f, "blobs"), 1);
  assert_int_equal(count_sub(f, "images"), 1);
  assert_int_equal(count_sub(f, "tmp"), 0);
  appc_store_image_clear(&img);
  appc_store_image_clear(&again);
  appc_aci_info_clear(&info);
}

/* From a source (here: memory), the same image, blob byte for byte; a
 * source that fails half-way leaves nothing in the store. */
static void test_import_from_source(void **state)
{
  struct fixture *f = *state;
  struct appc_store_image img;
  struct appc_aci_info info;
  struct appc_source *src = NULL;
  appc_error_t err = NULL;
  char path[256], blob[512];
  bool already = true;
  struct stat st;

  open_store(f);
  simple_aci(f, "a.aci", "example.com/a", "1.0.0", path);
  assert_ok(appc_aci_validate(path, &info, &err), &err);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  assert_int_equal(fstat(fd, &st), 0);
  char *bytes = malloc((size_t) st.st_size);
  assert_non_null(bytes);
  assert_int_equal(read(fd, bytes, (size_t) st.st_size), st.st_size);
  close(fd);

  /* Cut short: refused, naming the source; nothing kept. */
  assert_ok(appc_source_open_memory(&src, bytes, (size_t) st.st_size / 2, "upload", &err), &err);
  assert_error_contains(appc_store_import_source(f->s, src, NULL, &img, &already, &err), &err,
                        "upload: ");
  appc_source_free(src);
  assert_int_equal(count_sub(f, "images"), 0);
  assert_int_equal(count_sub(f, "blobs"), 0);
  assert_int_equal(count_sub(f, "tmp"), 0);

  assert_ok(appc_source_open_memory(&src, bytes, (size_t) st.st_size, "upload", &err), &err);
  assert_ok(appc_store_import_source(f->s, src, NULL, &img, &already, &err), &err);
  appc_source_free(src);
  assert_false(already);
  assert_string_equal(img.id, info.image_id);
  assert_int_equal(img.blob_size, (unsigned long long) st.st_size);
  snprintf(blob, sizeof blob, "%s/blobs/%s", f->store, img.id);
  size_t blob_len;
  char *stored = NULL;
  assert_ok(appc_read_file_at(AT_FDCWD, blob, 1u << 20, 0, &stored, &blob_len, &err), &err);
  assert_int_equal(blob_len, (size_t) st.st_size);
  assert_memory_equal(stored, bytes, blob_len);
  free(stored);
  free(bytes);
  appc_store_image_clear(&img);
  appc_aci_info_clear(&info);
}

static void import_refused(struct fixture *f, const struct entry *entries, size_t n,
                           const char *needle)
{
  char path[256];
  char *m = manifest_json("example.com/bad", "1.0.0");
  appc_error_t err = NULL;

  snprintf(path, sizeof path, "%s/bad.aci", f->dir);
  write_aci(path, m, entries, n);
  free(m);
  assert_error_contains(appc_store_import(f->s, path, NULL, NULL, NULL, &err), &err, needle);
  /* Nothing kept: no record, no blob, no temporary. */
  assert_int_equal(count_sub(f, "images"), 0);
  assert_int_equal(count_sub(f, "blobs"), 0);
  assert_int_equal(count_sub(f, "tmp"), 0);
}

static void test_import_refuses_writes_through_symlinks(void **state)
{
  struct fixture *f = *state;
  static const struct entry abs_link[] = {{"rootfs/link", AE_IFLNK, "/etc"},
                                          {"rootfs/link/passwd", AE_IFREG, "x"}};
  static const struct entry rel_link[] = {{"rootfs/a", AE_IFDIR, NULL},
                                          {"rootfs/a/up", AE_IFLNK, "../../.."},
                                          {"rootfs/a/up/b", AE_IFDIR, NULL},
                                          {"rootfs/a/up/b/c", AE_IFREG, "x"}};
  static const struct entry hard_out[] = {{"rootfs/h", 0, "manifest"}};
  static const struct entry dotdot[] = {{"rootfs/../../x", AE_IFREG, "x"}};

  open_store(f);
  import_refused(f, abs_link, 2, "rootfs/link/passwd: below the symlink rootfs/link");
  import_refused(f, rel_link, 4, "rootfs/a/up/b: below the symlink rootfs/a/up");
  import_refused(f, hard_out, 1, "outside rootfs");
  import_refused(f, dotdot, 1, "..");
}

static void test_import_keeps_symlinks_that_are_not_written_through(void **state)
{
  struct fixture *f = *state;
  static const struct entry ok[] = {
      {"rootfs/lib", AE_IFLNK, "usr/lib"}, {"rootfs/libfoo", AE_IFREG, "x"},
      {"rootfs/usr", AE_IFDIR, NULL},      {"rootfs/usr/lib", AE_IFDIR, NULL},
      {"rootfs/usr/lib/x", AE_IFREG, "y"}, {"rootfs/lnk", 0, "rootfs/usr/lib/x"}};
  char path[256];
  char *m = manifest_json("example.com/ok", "1.0.0");

  open_store(f);
  snprintf(path, sizeof path, "%s/ok.aci", f->dir);
  write_aci(path, m, ok, 6);
  free(m);
  struct appc_store_image img;
  import_ok(f, path, &img, NULL);
  appc_store_image_clear(&img);
}

/* ---- lookup ---- */

static void lookup_is(struct fixture *f, const char *spec, const char *want_id)
{
  struct appc_store_image img;
  appc_error_t err = NULL;
  int r = appc_store_lookup(f->s, spec, &img, &err);

  assert_ok(r, &err);
  assert_string_equal(img.id, want_id);
  appc_store_image_clear(&img);
}

static void lookup_fails(struct fixture *f, const char *spec, const char *needle)
{
  struct appc_store_image img;
  appc_error_t err = NULL;
  assert_error_contains(appc_store_lookup(f->s, spec, &img, &err), &err, needle);
}

static void test_lookup(void **state)
{
  struct fixture *f = *state;
  struct appc_store_image v1, v2, other;
  char path[256], prefix[64];

  open_store(f);
  simple_aci(f, "v1.aci", "example.com/app", "1.0.0", path);
  import_ok(f, path, &v1, NULL);
  simple_aci(f, "v2.aci", "example.com/app", "2.0.0", path);
  import_ok(f, path, &v2, NULL);
  simple_aci(f, "o.aci", "example.com/other", "1.0.0", path);
  import_ok(f, path, &other, NULL);

  lookup_is(f, v1.id, v1.id);
  snprintf(prefix, sizeof prefix, "%.19s", v1.id); /* sha512- and 12 hex */
  lookup_is(f, prefix, v1.id);
  snprintf(prefix, sizeof prefix, "%.18s", v1.id);
  lookup_fails(f, prefix, "too short");
  lookup_fails(f, "sha512-ABCDEF0123456789", "lowercase hex");
  lookup_fails(f, "sha512-000000000000000", "no such image");
  /* The newest import wins when labels leave a choice. */
  lookup_is(f, "example.com/app", v2.id);
  lookup_is(f, "example.com/app,version=1.0.0", v1.id);
  lookup_is(f, "example.com/app,os=linux", v2.id);
  lookup_is(f, "example.com/other", other.id);
  lookup_fails(f, "example.com/app,version=3.0.0", "example.com/app,version=3.0.0: no such image");
  lookup_fails(f, "example.com/none", "no such image");

  char *json = NULL;
  size_t len;
  appc_error_t err = NULL;
  int r = appc_store_read_manifest(f->s, v1.id, &json, &len, &err);
  assert_ok(r, &err);
  char *want = manifest_json("example.com/app", "1.0.0");
  assert_int_equal(len, strlen(want));
  assert_memory_equal(json, want, len);
  free(want);
  free(json);

  struct appc_store_image *all;
  size_t n;
  r = appc_store_list(f->s, NULL, NULL, &all, &n, &err);
  assert_ok(r, &err);
  assert_int_equal(n, 3);
  assert_string_equal(all[0].id, v1.id); /* oldest first */
  assert_string_equal(all[2].id, other.id);
  appc_store_images_free(all, n);
  appc_store_image_clear(&v1);
  appc_store_image_clear(&v2);
  appc_store_image_clear(&other);
}

/* ---- what the store hands out to other modules ---- */

/* A private directory in tmp/, for what needs a path (gpg's home): 0700,
 * named by its prefix, refused a prefix that would leave tmp/; gc removes
 * one left behind. */
static void test_tmpdir_and_areas(void **state)
{
  struct fixture *f = *state;
  struct appc_store_gc_report rep;
  appc_error_t err = NULL;
  struct stat st;
  char *dir = NULL, want[200];

  open_store(f);
  assert_ok(appc_store_tmpdir(f->s, "gnupg", &dir, &err), &err);
  snprintf(want, sizeof want, "%s/tmp/gnupg-", f->store);
  assert_true(strncmp(dir, want, strlen(want)) == 0);
  assert_int_equal(strlen(dir), strlen(want) + 6);
  assert_int_equal(stat(dir, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(st.st_mode & 07777, 0700);
  free(dir);
  assert_error_contains(appc_store_tmpdir(f->s, "../x", &dir, &err), &err, "../x");
  assert_null(dir);
  assert_int_equal(count_sub(f, "tmp"), 1);

  /* left behind (nobody holds the lock), gc removes it */
  assert_ok(appc_store_gc(f->s, 3600, &rep, &err), &err);
  assert_int_equal(rep.temporaries, 1);
  assert_int_equal(count_sub(f, "tmp"), 0);

  /* the trust area is named by the store and made on demand */
  assert_string_equal(appc_store_area_name(APPC_STORE_AREA_TRUST), "trust");
  assert_int_equal(appc_store_area_open(f->s, APPC_STORE_AREA_TRUST, false, &err), -1);
  assert_null(err);
  int fd = appc_store_area_open(f->s, APPC_STORE_AREA_TRUST, true, &err);
  assert_ok(fd, &err);
  close(fd);
  snprintf(want, sizeof want, "%s/trust", f->store);
  assert_int_equal(stat(want, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
}

/* ---- remove, export, gc ---- */

/* Which operations the store's progress reports say it is doing. */
static void count_op(void *data, enum appc_progress_op op, const char *what, uint64_t done,
                     uint64_t total)
{
  unsigned *ops = data;
  (void) what;
  (void) done;
  (void) total;
  if (op <= APPC_PROGRESS_CONVERT)
    ops[op]++;
}

static void test_progress_export_and_verify(void **state)
{
  struct fixture *f = *state;
  unsigned ops[APPC_PROGRESS_CONVERT + 1] = {0};
  const struct appc_callbacks cb = {.data = ops, .progress_op = count_op};
  struct appc_store_image img;
  unsigned long long damaged = 99;
  appc_error_t err = NULL;
  char path[256], out[300];

  open_store(f);
  simple_aci(f, "a.aci", "example.com/a", "1.0.0", path);
  import_ok(f, path, &img, NULL);
  appc_store_set_callbacks(f->s, &cb);
  snprintf(out, sizeof out, "%s/out.aci", f->dir);
  assert_ok(appc_store_export(f->s, img.id, out, false, &err), &err);
  assert_true(ops[APPC_PROGRESS_EXPORT] > 0);
  assert_int_equal(ops[APPC_PROGRESS_VERIFY], 0);
  memset(ops, 0, sizeof ops);
  assert_ok(appc_store_verify(f->s, NULL, 0, NULL, NULL, &damaged, &err), &err);
  assert_int_equal(damaged, 0);
  assert_true(ops[APPC_PROGRESS_VERIFY] > 0);
  assert_int_equal(ops[APPC_PROGRESS_READ] + ops[APPC_PROGRESS_EXPORT], 0);
  appc_store_set_callbacks(f->s, NULL);
  appc_store_image_clear(&img);
}

/* Images removed while verify runs (removals under a shared hold, beside
 * verify's: a build's squash, a failed fetch) are no damage: verify said
 * the record of the image it was reading lost its manifest, and the
 * record of the next one was missing.  The first progress report of a
 * blob's reading removes both. */
struct removing {
  struct appc_store *other;
  const struct appc_store_image *img[2];
  bool done;
};

static void remove_both(void *data, enum appc_progress_op op, const char *what, uint64_t done,
                        uint64_t total)
{
  struct removing *rm = data;
  appc_error_t err = NULL;
  bool kept = true;

  (void) what;
  (void) done;
  (void) total;
  if (op != APPC_PROGRESS_VERIFY || rm->done)
    return;
  rm->done = true;
  for (int i = 0; i < 2; i++) {
    assert_ok(appc_store_remove_unclaimed(rm->other, rm->img[i]->id, &rm->img[i]->import_time,
                                          &kept, &err),
              &err);
    assert_false(kept);
  }
}

static void test_verify_beside_removals(void **state)
{
  struct fixture *f = *state;
  struct appc_store_image a, b;
  struct removing rm = {.img = {&a, &b}};
  const struct appc_callbacks cb = {.data = &rm, .progress_op = remove_both};
  unsigned long long damaged = 99;
  appc_error_t err = NULL;
  char path[256];

  open_store(f);
  simple_aci(f, "a.aci", "example.com/a", "1.0.0", path);
  import_ok(f, path, &a, NULL);
  simple_aci(f, "b.aci", "example.com/b", "1.0.0", path);
  import_ok(f, path, &b, NULL);
  assert_ok(appc_store_open(&rm.other, f->store, &err), &err);
  appc_store_set_callbacks(f->s, &cb);
  assert_ok(appc_store_verify(f->s, NULL, 0, NULL, NULL, &damaged, &err), &err);
  appc_store_set_callbacks(f->s, NULL);
  assert_true(rm.done);
  assert_int_equal(count_sub(f, "images"), 0);
  assert_int_equal(damaged, 0);
  appc_store_close(rm.other);
  appc_store_image_clear(&a);
  appc_store_image_clear(&b);
}

static void test_remove_export_gc(void **state)
{
  struct fixture *f = *state;
  struct appc_store_image img;
  struct appc_store_gc_report rep;
  struct appc_aci_info info;
  appc_error_t err = NULL;
  char path[256], out[300], orphan[400];
  int r;

  open_store(f);
  simple_aci(f, "a.aci", "example.com/a", "1.0.0", path);
  import_ok(f, path, &img, NULL);

  snprintf(out, sizeof out, "%s/out.aci", f->dir);
  r = appc_store_export(f->s, img.id, out, false, &err);
  assert_ok(r, &err);
  r = appc_aci_validate(out, &info, &err);
  assert_ok(r, &err);
  assert_string_equal(info.image_id, img.id);
  appc_aci_info_clear(&info);
  assert_refuses_existing(appc_store_export(f->s, img.id, out, false, &err), &err, "out.aci");
  r = appc_store_export(f->s, img.id, out, true, &err);
  assert_ok(r, &err);

  /* A blob without a record (an interrupted import) and a stale temporary. */
  snprintf(orphan, sizeof orphan, "%s/blobs/sha512-%0128d", f->store, 7);
  FILE *fp = fopen(orphan, "w");
  assert_non_null(fp);
  fclose(fp);
  snprintf(orphan, sizeof orphan, "%s/tmp/record-1-2", f->store);
  assert_int_equal(mkdir(orphan, 0700), 0);
  r = appc_store_gc(f->s, 3600, &rep, &err);
  assert_ok(r, &err);
  assert_int_equal(rep.blobs, 1);
  assert_int_equal(rep.temporaries, 1);
  assert_int_equal(count_sub(f, "blobs"), 1);
  assert_int_equal(count_sub(f, "tmp"), 0);

  unsigned long long damaged = 99;
  r = appc_store_verify(f->s, NULL, 0, NULL, NULL, &damaged, &err);
  assert_ok(r, &err);
  assert_int_equal(damaged, 0);

  r = appc_store_remove(f->s, img.id, &err);
  assert_ok(r, &err);
  assert_int_equal(count_sub(f, "blobs"), 0);
  assert_int_equal(count_sub(f, "images"), 0);
  assert_int_equal(count_sub(f, "tmp"), 0);
  assert_error_contains(appc_store_remove(f->s, img.id, &err), &err, "no such image");
  appc_store_image_clear(&img);
}

static void test_verify_finds_damage(void **state)
{
  struct fixture *f = *state;
  struct appc_store_image img;
  appc_error_t err = NULL;
  char path[256], blob[400];
  unsigned long long damaged = 0;
  int r;

  open_store(f);
  simple_aci(f, "a.aci", "example.com/a", "1.0.0", path);
  import_ok(f, path, &img, NULL);
  snprintf(blob, sizeof blob, "%s/blobs/%s", f->store, img.id);
  /* Replace the blob by another valid image: it no longer hashes to its ID. */
  simple_aci(f, "b.aci", "example.com/b", "1.0.0", path);
  assert_int_equal(rename(path, blob), 0);
  r = appc_store_verify(f->s, NULL, 0, NULL, NULL, &damaged, &err);
  assert_ok(r, &err);
  assert_int_equal(damaged, 1);
  assert_int_equal(unlink(blob), 0);
  damaged = 0;
  r = appc_store_verify(f->s, NULL, 0, NULL, NULL, &damaged, &err);
  assert_ok(r, &err);
  assert_int_equal(damaged, 1);
  appc_store_image_clear(&img);
}

/* A destination in the store (its directory or below, by path, through a
 * symlink) or holding it is refused, naming it and the store; one beside
 * the store, or whose directory does not exist, passes. */
static void test_check_dest(void **state)
{
  struct fixture *f = *state;
  appc_error_t err = NULL;
  char p[256], link[160];

  open_store(f);
  static const char *const inside[] = {"/images", "/blobs/x", "/trees", "/tmp/x",
                                       "/format", "/new",     "/new/",  "/images/."};
  for (size_t i = 0; i < ARRAY_SIZE(inside); i++) {
    snprintf(p, sizeof p, "%s%s", f->store, inside[i]);
    assert_error_contains(appc_store_check_dest(f->s, p, &err), &err, "in the store");
  }
  assert_error_contains(appc_store_check_dest(f->s, f->store, &err), &err, "holds the store");
  assert_error_contains(appc_store_check_dest(f->s, f->dir, &err), &err, "holds the store");
  snprintf(link, sizeof link, "%s/link", f->dir);
  assert_int_equal(symlink(f->store, link), 0);
  snprintf(p, sizeof p, "%s/images", link);
  assert_error_contains(appc_store_check_dest(f->s, p, &err), &err, "in the store");
  /* a symlink to a directory of the store: what it leads to would be written */
  snprintf(p, sizeof p, "%s/trees", f->store);
  snprintf(link, sizeof link, "%s/trees-link", f->dir);
  assert_int_equal(symlink(p, link), 0);
  assert_error_contains(appc_store_check_dest(f->s, link, &err), &err, "in the store");
  snprintf(p, sizeof p, "%s/out", f->dir);
  assert_ok(appc_store_check_dest(f->s, p, &err), &err);
  snprintf(p, sizeof p, "%s/no/such/dir", f->dir);
  assert_ok(appc_store_check_dest(f->s, p, &err), &err);

  /* below what appc_store_tmpdir made for this process: its own */
  char *own = NULL;
  assert_ok(appc_store_tmpdir(f->s, "own", &own, &err), &err);
  snprintf(p, sizeof p, "%s/layout", own);
  assert_ok(appc_store_check_dest(f->s, p, &err), &err);
  assert_error_contains(appc_store_check_dest(f->s, own, &err), &err, "in the store");
  assert_int_equal(rmdir(own), 0);
  snprintf(p, sizeof p, "%s/tmp/other", f->store);
  assert_int_equal(mkdir(p, 0700), 0);
  snprintf(p, sizeof p, "%s/tmp/other/layout", f->store);
  assert_error_contains(appc_store_check_dest(f->s, p, &err), &err, "in the store");
  /* a removed one is forgotten when the next is made: the list holds what
   * the process still has */
  char *next = NULL;
  assert_ok(appc_store_tmpdir(f->s, "own", &next, &err), &err);
  assert_int_equal(f->s->n_own_tmpdirs, 1);
  assert_string_equal(f->s->own_tmpdirs[0], strrchr(next, '/') + 1);
  assert_int_equal(rmdir(next), 0);
  free(next);
  free(own);
}

/* A cached tree replaced by a symlink out of the store is damage: render
 * refuses it (never copies what it leads to), verify counts it, gc removes
 * the symlink alone. */
static void test_tree_symlink(void **state)
{
  struct fixture *f = *state;
  struct appc_store_image img;
  struct appc_store_gc_report rep;
  appc_error_t err = NULL;
  unsigned long long damaged = 0;
  char path[256], tree[400], outside[160], dest[160], key[80] = "";

  open_store(f);
  simple_aci(f, "a.aci", "example.com/a", "1.0.0", path);
  import_ok(f, path, &img, NULL);
  for (int i = 0; i < 2; i++) { /* the second render makes the cached tree */
    snprintf(dest, sizeof dest, "%s/d%d", f->dir, i);
    assert_ok(appc_store_render(f->s, img.id, dest, NULL, &err), &err);
  }
  snprintf(path, sizeof path, "%s/trees", f->store);
  DIR *d = opendir(path);
  assert_non_null(d);
  for (struct dirent *de; (de = readdir(d)) != NULL;)
    if (de->d_name[0] != '.')
      snprintf(key, sizeof key, "%.64s", de->d_name);
  closedir(d);
  assert_int_equal(strlen(key), 64);
  snprintf(tree, sizeof tree, "%s/%s", path, key);
  snprintf(outside, sizeof outside, "%s/outside", f->dir);
  assert_int_equal(rename(tree, outside), 0);
  assert_int_equal(symlink(outside, tree), 0);

  snprintf(dest, sizeof dest, "%s/d2", f->dir);
  assert_error_contains(appc_store_render(f->s, img.id, dest, NULL, &err), &err,
                        "rendered tree that is not a directory");
  assert_int_equal(access(dest, F_OK), -1);
  assert_ok(appc_store_verify(f->s, NULL, 0, NULL, NULL, &damaged, &err), &err);
  assert_int_equal(damaged, 1);
  assert_ok(appc_store_gc(f->s, 86400, &rep, &err), &err);
  assert_int_equal(rep.trees, 1);
  assert_int_equal(count_sub(f, "trees"), 0);
  snprintf(path, sizeof path, "%s/rootfs", outside);
  assert_int_equal(access(path, F_OK), 0);
  assert_ok(appc_store_render(f->s, img.id, dest, NULL, &err), &err);
  appc_store_image_clear(&img);
}

/* id_base and id_count came with render options version 2: with version 0
 * a shift the caller asked for was silently dropped (the tree kept host
 * owners); refused before the image is looked up. */
static void test_render_options_abi(void **state)
{
  struct fixture *f = *state;
  struct appc_store_tree *t = NULL;
  appc_error_t err = NULL;
  char dest[160];

  open_store(f);
  snprintf(dest, sizeof dest, "%s/d", f->dir);
  struct appc_store_render_options o = {.id_base = 100000, .id_count = 65536};
  assert_tagged_error(appc_store_tree_acquire(f->s, "sha512-x", &o, &t, &err), &err, EINVAL,
                      "appc_store_render_options.id_base needs version >= 2, the caller gave 0");
  assert_null(t);
  o = (struct appc_store_render_options){.version = 1, .id_count = 1};
  assert_tagged_error(appc_store_render(f->s, "sha512-x", dest, &o, &err), &err, EINVAL,
                      "appc_store_render_options.id_count needs version >= 2, the caller gave 1");
  o = (struct appc_store_render_options){.version = APPC_STORE_RENDER_OPTIONS_VERSION + 1};
  assert_tagged_error(appc_store_render(f->s, "sha512-x", dest, &o, &err), &err, EINVAL,
                      "struct appc_store_render_options: version 3 is newer");
  assert_int_equal(access(dest, F_OK), -1);
}

/* The store's entry points check their arguments: an area number past the
 * table (a cast, a newer header's) read other strings (area 99 was "386",
 * and area_open made STORE/386); an empty path made a store of the
 * current directory. */
static void test_store_arguments(void **state)
{
  struct fixture *f = *state;
  struct appc_store *s = NULL;
  appc_error_t err = NULL;
  char empty[128], cwd[4096];

  open_store(f);
  int before = count_dir(f->store);
  const int areas[] = {APPC_STORE_AREA_OCI_CACHE + 1, 40, 99, -1};
  for (size_t i = 0; i < ARRAY_SIZE(areas); i++) {
    enum appc_store_area a = (enum appc_store_area) areas[i];
    assert_null(appc_store_area_name(a));
    assert_null(appc_store_area_path(f->s, a));
    assert_tagged_error(appc_store_area_open(f->s, a, true, &err), &err, EINVAL,
                        "is no store area");
  }
  assert_int_equal(count_dir(f->store), before);
  assert_string_equal(appc_store_area_name(APPC_STORE_AREA_OCI_CACHE), "cache/oci");

  snprintf(empty, sizeof empty, "%s/cwd", f->dir);
  assert_int_equal(mkdir(empty, 0700), 0);
  assert_non_null(getcwd(cwd, sizeof cwd));
  assert_int_equal(chdir(empty), 0);
  int r = appc_store_open(&s, "", &err);
  assert_int_equal(chdir(cwd), 0);
  assert_tagged_error(r, &err, EINVAL, "the path is empty");
  assert_null(s);
  assert_int_equal(count_dir(empty), 0);
}

/* gc holds no descriptor another thread's fork+exec would inherit (its
 * copy for reading a cache area was a plain dup). */
static void test_gc_cloexec(void **state)
{
  struct fixture *f = *state;
  struct appc_store_gc_report rep;
  appc_error_t err = NULL;

  open_store(f);
  int fd = appc_store_area_open(f->s, APPC_STORE_AREA_BUILD_CACHE, true, &err);
  assert_true(fd >= 0);
  close(fd);
  cloexec_arm();
  int r = appc_store_gc(f->s, 86400, &rep, &err);
  cloexec_disarm();
  assert_ok(r, &err);
  assert_true(cloexec.checked > 0);
  assert_int_equal(cloexec.leaked, 0);
}

static unsigned long long tree_files_bytes;

static int add_tree_file(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) path;
  (void) ftw;
  if (flag == FTW_F && S_ISREG(st->st_mode))
    tree_files_bytes += (unsigned long long) st->st_size;
  return 0;
}

/* The report's bytes are the size of what gc removed, a cached tree's
 * files included (they counted nothing: "0.0 MiB of files"). */
static void test_gc_tree_bytes(void **state)
{
  struct fixture *f = *state;
  struct appc_store_image img;
  struct appc_store_gc_report rep;
  appc_error_t err = NULL;
  char path[256], dest[160];
  static char big[100001];

  memset(big, 'x', sizeof big - 1);
  const struct entry files[] = {{"rootfs/big", AE_IFREG, big}};
  char *m = manifest_json("example.com/big", "1");
  open_store(f);
  snprintf(path, sizeof path, "%s/big.aci", f->dir);
  write_aci(path, m, files, 1);
  free(m);
  import_ok(f, path, &img, NULL);
  for (int i = 0; i < 2; i++) { /* the second render makes the cached tree */
    snprintf(dest, sizeof dest, "%s/d%d", f->dir, i);
    assert_ok(appc_store_render(f->s, img.id, dest, NULL, &err), &err);
  }
  snprintf(path, sizeof path, "%s/trees", f->store);
  tree_files_bytes = 0;
  assert_int_equal(nftw(path, add_tree_file, 16, FTW_PHYS), 0);
  assert_true(tree_files_bytes >= sizeof big - 1);

  assert_ok(appc_store_gc(f->s, 0, &rep, &err), &err); /* no grace: the tree goes */
  assert_int_equal(rep.trees, 1);
  assert_int_equal(rep.blobs, 0);
  assert_int_equal(rep.temporaries, 0);
  assert_int_equal(rep.bytes, tree_files_bytes);
  assert_int_equal(count_sub(f, "trees"), 0);
  appc_store_image_clear(&img);
}

/* ---- two stores in two threads ---- */

/* gc checks each cached tree's layers (trees/KEY/layers, one image ID a
 * line) against the index.  __wrap_faccessat (linked with
 * --wrap=faccessat) makes two threads' checks interleave, always the same
 * way: thread 1 stops at its tree's first layer until thread 2 is at its
 * own tree's first, and thread 2 waits until thread 1's gc is done.  With
 * strtok's one hidden position, thread 1 then went on in thread 2's list,
 * found an image its store lacks and removed its fresh, complete tree. */
static struct {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int paused; /* bit 1: thread 1 is at its check, bit 2: thread 2 */
  bool first_done;
} race = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false};
static _Thread_local int race_role; /* 1 or 2 while racing, else 0 */
static _Thread_local int race_skip; /* image IDs looked up before the tree's (the blobs') */

int __real_faccessat(int dirfd, const char *path, int mode, int flags);
int __wrap_faccessat(int dirfd, const char *path, int mode, int flags)
{
  if (race_role != 0 && strncmp(path, "sha512-", 7) == 0 && race_skip-- == 0) {
    int me = race_role;
    struct timespec deadline;
    race_role = 0;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 20; /* a test that cannot interleave fails, never hangs */
    pthread_mutex_lock(&race.lock);
    race.paused |= me;
    pthread_cond_broadcast(&race.cond);
    while (me == 1 ? (race.paused & 2) == 0 : !race.first_done)
      if (pthread_cond_timedwait(&race.cond, &race.lock, &deadline) != 0)
        break;
    pthread_mutex_unlock(&race.lock);
  }
  return __real_faccessat(dirfd, path, mode, flags);
}

struct racer {
  int role;
  struct appc_store *s;
  struct appc_store_gc_report rep;
  int r;
};

static void *race_gc(void *data)
{
  struct racer *t = data;
  appc_error_t err = NULL;

  race_role = t->role;
  race_skip = 2; /* the store's two blobs come first */
  t->r = appc_store_gc(t->s, 1e9, &t->rep, &err);
  appc_error_release(&err);
  race_role = 0;
  pthread_mutex_lock(&race.lock);
  if (t->role == 1)
    race.first_done = true;
  pthread_cond_broadcast(&race.cond);
  pthread_mutex_unlock(&race.lock);
  return NULL;
}

/* A store in F->dir/NAME holding an image with a dependency (two images,
 * two blobs) and the cached tree of the two: rendered twice. */
static struct appc_store *store_with_tree(struct fixture *f, const char *name)
{
  static const struct entry files[] = {{"rootfs/f", AE_IFREG, "x\n"}};
  struct appc_store *s = NULL;
  struct appc_store_image base, app;
  appc_error_t err = NULL;
  char path[256], *m = NULL, *base_m = NULL;

  snprintf(path, sizeof path, "%s/%s", f->dir, name);
  assert_ok(appc_store_open(&s, path, &err), &err);
  base_m = manifest_json("example.com/base", name);
  snprintf(path, sizeof path, "%s/%s-base.aci", f->dir, name);
  write_aci(path, base_m, files, 1);
  assert_ok(appc_store_import(s, path, NULL, &base, NULL, &err), &err);
  assert_true(asprintf(&m,
                       "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\","
                       "\"name\":\"example.com/app\",\"dependencies\":[{\"imageName\":"
                       "\"example.com/base\",\"imageID\":\"%s\"}]}",
                       base.id) > 0);
  snprintf(path, sizeof path, "%s/%s-app.aci", f->dir, name);
  write_aci(path, m, files, 1);
  assert_ok(appc_store_import(s, path, NULL, &app, NULL, &err), &err);
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s-render%d", f->dir, name, i);
    assert_ok(appc_store_render(s, app.id, path, NULL, &err), &err);
  }
  appc_store_image_clear(&base);
  appc_store_image_clear(&app);
  free(m);
  free(base_m);
  return s;
}

static void test_gc_threads(void **state)
{
  struct fixture *f = *state;
  struct racer t[2] = {{.role = 1}, {.role = 2}};
  pthread_t th[2];
  char trees[160];

  t[0].s = store_with_tree(f, "one");
  t[1].s = store_with_tree(f, "two");
  for (int i = 0; i < 2; i++)
    assert_int_equal(pthread_create(&th[i], NULL, race_gc, &t[i]), 0);
  for (int i = 0; i < 2; i++)
    assert_int_equal(pthread_join(th[i], NULL), 0);
  assert_int_equal(race.paused, 3); /* the checks did interleave */
  for (int i = 0; i < 2; i++) {
    assert_int_equal(t[i].r, 0);
    assert_int_equal(t[i].rep.trees, 0); /* fresh and complete: kept */
    snprintf(trees, sizeof trees, "%s/%s/trees", f->dir, i == 0 ? "one" : "two");
    assert_int_equal(count_dir(trees), 1);
    appc_store_close(t[i].s);
  }
}

/* What an import added and removes again (a squash, a failure) stays when
 * another import has taken it meanwhile: imported it again, or claimed it
 * (found it by its record); a removal of an image gone already is no
 * error, a claim of one is. */
static void test_remove_unclaimed(void **state)
{
  struct fixture *f = *state;
  struct appc_store_image added, again, claimed;
  appc_error_t err = NULL;
  bool kept = true, already = false;
  char path[256];

  open_store(f);
  simple_aci(f, "a.aci", "example.com/a", "1.0.0", path);
  import_ok(f, path, &added, NULL);

  assert_ok(appc_store_import(f->s, path, NULL, &again, &already, &err), &err);
  assert_true(already);
  assert_ok(appc_store_remove_unclaimed(f->s, added.id, &added.import_time, &kept, &err), &err);
  assert_true(kept);
  assert_int_equal(count_sub(f, "images"), 1);

  assert_ok(appc_store_claim(f->s, added.id, &claimed, &err), &err);
  assert_string_equal(claimed.id, added.id);
  assert_ok(appc_store_remove_unclaimed(f->s, added.id, &again.import_time, &kept, &err), &err);
  assert_true(kept);
  assert_int_equal(count_sub(f, "images"), 1);

  assert_ok(appc_store_remove_unclaimed(f->s, added.id, &claimed.import_time, &kept, &err), &err);
  assert_false(kept);
  assert_int_equal(count_sub(f, "images"), 0);
  assert_int_equal(count_sub(f, "blobs"), 0);
  assert_ok(appc_store_remove_unclaimed(f->s, added.id, &claimed.import_time, &kept, &err), &err);
  assert_false(kept);
  assert_error_contains(appc_store_claim(f->s, added.id, NULL, &err), &err, "no such image");
  appc_store_image_clear(&added);
  appc_store_image_clear(&again);
  appc_store_image_clear(&claimed);
}

/* A removal inside a shared hold waits for the hold's end, and then for
 * the exclusive lock: another holder's render or export of the image is
 * never pulled from under it.  An exclusive hold cannot nest in a shared
 * one. */
static void *unlock_in_thread(void *arg)
{
  appc_store_unlock(arg);
  return NULL;
}

static void test_remove_unclaimed_deferred(void **state)
{
  struct fixture *f = *state;
  struct appc_store_image added, again;
  struct appc_store *other = NULL;
  appc_error_t err = NULL;
  bool kept = true;
  pthread_t th;
  char path[256];

  open_store(f);
  simple_aci(f, "a.aci", "example.com/a", "1.0.0", path);
  import_ok(f, path, &added, NULL);

  assert_ok(appc_store_lock(f->s, false, &err), &err);
  assert_ok(appc_store_remove_unclaimed(f->s, added.id, &added.import_time, &kept, &err), &err);
  assert_false(kept);
  assert_int_equal(count_sub(f, "images"), 1); /* not yet */
  assert_int_equal(appc_store_lock(f->s, true, &err), -1);
  assert_non_null(err);
  assert_int_equal(err->errnum, EDEADLK);
  appc_error_release(&err);

  /* at the hold's end, gone */
  appc_store_unlock(f->s);
  assert_int_equal(count_sub(f, "images"), 0);
  assert_int_equal(count_sub(f, "blobs"), 0);

  /* another holder (its own open file description) does not keep the
   * unlock waiting: the removal is done beside it, under a shared hold */
  import_ok(f, path, &again, NULL);
  assert_ok(appc_store_open(&other, f->store, &err), &err);
  assert_ok(appc_store_lock(other, false, &err), &err);
  assert_ok(appc_store_lock(f->s, false, &err), &err);
  assert_ok(appc_store_remove_unclaimed(f->s, again.id, &again.import_time, &kept, &err), &err);
  assert_int_equal(pthread_create(&th, NULL, unlock_in_thread, f->s), 0);
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 20;
  /* ETIMEDOUT if it waited for the other holder */
  assert_int_equal(pthread_timedjoin_np(th, NULL, &deadline), 0);
  assert_int_equal(count_sub(f, "images"), 0);
  appc_store_unlock(other);

  /* the store's lock is free again: exclusive holds work */
  assert_ok(appc_store_lock(other, true, &err), &err);
  appc_store_unlock(other);
  appc_store_close(other);
  appc_store_image_clear(&added);
  appc_store_image_clear(&again);
}

/* A removal of what an import added, asked for outside any hold of this
 * process's while another process holds the store's lock (a build holds
 * it for its whole run): done beside it under a shared hold, as a deferred
 * one is, rather than keep a failed fetch waiting for the build's end. */
struct removal {
  struct appc_store *s;
  const struct appc_store_image *img;
  bool kept;
  int r;
};

static void *remove_in_thread(void *arg)
{
  struct removal *rm = arg;
  appc_error_t err = NULL;

  rm->r = appc_store_remove_unclaimed(rm->s, rm->img->id, &rm->img->import_time, &rm->kept, &err);
  appc_error_release(&err);
  return NULL;
}

static void test_remove_unclaimed_beside_a_holder(void **state)
{
  struct fixture *f = *state;
  struct appc_store_image added;
  struct appc_store *other = NULL;
  appc_error_t err = NULL;
  struct timespec deadline;
  pthread_t th;
  char path[256];

  open_store(f);
  simple_aci(f, "a.aci", "example.com/a", "1.0.0", path);
  import_ok(f, path, &added, NULL);
  assert_ok(appc_store_open(&other, f->store, &err), &err);
  assert_ok(appc_store_lock(other, false, &err), &err);
  struct removal rm = {.s = f->s, .img = &added, .kept = true, .r = -1};
  assert_int_equal(pthread_create(&th, NULL, remove_in_thread, &rm), 0);
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 10;
  int joined = pthread_timedjoin_np(th, NULL, &deadline); /* ETIMEDOUT: it waited */
  appc_store_unlock(other);
  if (joined != 0)
    assert_int_equal(pthread_join(th, NULL), 0);
  assert_int_equal(joined, 0);
  assert_int_equal(rm.r, 0);
  assert_false(rm.kept);
  assert_int_equal(count_sub(f, "images"), 0);
  assert_int_equal(count_sub(f, "blobs"), 0);

  /* the store's lock is free again: exclusive holds work */
  assert_ok(appc_store_lock(other, true, &err), &err);
  appc_store_unlock(other);
  appc_store_close(other);
  appc_store_image_clear(&added);
}

/* A removal done under a shared hold (another process holds the store's
 * lock) and a first import of the same image: the import finds no record
 * once the removal has renamed it away, and installed its blob before the
 * removal unlinked "the" blob, which was then the import's: a record
 * without its blob.  __wrap_unlinkat (linked with --wrap=unlinkat) runs
 * the import in another thread when the removal is about to unlink the
 * blob, and lets the unlink go on once the import is done or waits on a
 * lock (__wrap_flock tries each blocking flock of the importer's thread
 * without blocking first, to tell). */
static struct {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  const char *blob; /* the blob name whose unlinking starts the import (armed) */
  const char *aci;
  struct appc_store *s; /* the importer's */
  pthread_t thread;
  int state; /* 1 importing, 2 waiting on a lock, 3 done */
  int r;
} inter = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, NULL, 0, 0, -1};
static _Thread_local bool importer_thread;

static void inter_set(int state)
{
  pthread_mutex_lock(&inter.lock);
  if (state > inter.state)
    inter.state = state;
  pthread_cond_broadcast(&inter.cond);
  pthread_mutex_unlock(&inter.lock);
}

int __real_flock(int fd, int op);
int __wrap_flock(int fd, int op)
{
  if (importer_thread && (op & LOCK_NB) == 0 && op != LOCK_UN) {
    int r = __real_flock(fd, op | LOCK_NB);
    if (r == 0 || errno != EWOULDBLOCK)
      return r;
    inter_set(2);
  }
  return __real_flock(fd, op);
}

static void *inter_import(void *data)
{
  appc_error_t err = NULL;

  (void) data;
  importer_thread = true;
  inter.r = appc_store_import(inter.s, inter.aci, NULL, NULL, NULL, &err);
  appc_error_release(&err);
  inter_set(3);
  return NULL;
}

int __real_unlinkat(int dirfd, const char *path, int flags);
int __wrap_unlinkat(int dirfd, const char *path, int flags)
{
  if (inter.blob != NULL && strcmp(path, inter.blob) == 0 && flags == 0) {
    struct timespec deadline;
    inter.blob = NULL;
    inter.state = 1;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 20; /* fails, never hangs */
    if (pthread_create(&inter.thread, NULL, inter_import, NULL) != 0)
      inter.state = 0;
    pthread_mutex_lock(&inter.lock);
    while (inter.state == 1)
      if (pthread_cond_timedwait(&inter.cond, &inter.lock, &deadline) != 0)
        break;
    pthread_mutex_unlock(&inter.lock);
  }
  return __real_unlinkat(dirfd, path, flags);
}

static void test_remove_unclaimed_shared_vs_first_import(void **state)
{
  struct fixture *f = *state;
  struct appc_store_image added;
  struct appc_store *other = NULL, *importer = NULL;
  unsigned long long damaged = 1;
  appc_error_t err = NULL;
  bool kept = true;
  char path[256];

  open_store(f);
  simple_aci(f, "a.aci", "example.com/a", "1.0.0", path);
  import_ok(f, path, &added, NULL);
  assert_ok(appc_store_open(&other, f->store, &err), &err);
  assert_ok(appc_store_open(&importer, f->store, &err), &err);
  assert_ok(appc_store_lock(other, false, &err), &err);
  assert_ok(appc_store_lock(f->s, false, &err), &err);
  assert_ok(appc_store_remove_unclaimed(f->s, added.id, &added.import_time, &kept, &err), &err);
  inter.blob = added.id;
  inter.aci = path;
  inter.s = importer;
  appc_store_unlock(f->s); /* the removal, beside OTHER's hold */
  assert_null(inter.blob); /* the removal did unlink the blob */
  assert_int_not_equal(inter.state, 0);
  assert_int_equal(pthread_join(inter.thread, NULL), 0);
  assert_int_equal(inter.r, 0);
  appc_store_unlock(other);

  /* the import succeeded: its record has its blob */
  assert_int_equal(count_sub(f, "images"), 1);
  assert_int_equal(count_sub(f, "blobs"), 1);
  assert_ok(appc_store_verify(f->s, NULL, 0, NULL, NULL, &damaged, &err), &err);
  assert_int_equal(damaged, 0);
  appc_store_close(other);
  appc_store_close(importer);
  appc_store_image_clear(&added);
}

struct logged {
  int n;
  char last[512];
};

static void log_line(void *data, const char *msg)
{
  struct logged *l = data;

  l->n++;
  snprintf(l->last, sizeof l->last, "%s", msg);
}

/* What stays of a removal of what an import added is told in one wording,
 * whether the removal ran at once (an OCI import's) or at a shared hold's
 * end: the error that left the image, or that another import took it. */
static void test_log_unremoved(void **state)
{
  struct fixture *f = *state;
  struct logged l = {0};
  const struct appc_callbacks cb = {.data = &l, .log = log_line};
  struct appc_store_image added, claimed;
  struct appc_store *other = NULL;
  appc_error_t err = NULL;
  bool kept = true;
  char path[256], want[512];

  appc_store_log_unremoved(&cb, "sha512-x", false, &err);
  assert_int_equal(l.n, 0);
  appc_store_log_unremoved(&cb, "sha512-x", true, &err);
  assert_int_equal(l.n, 1);
  assert_string_equal(l.last, "sha512-x stays in the store: another import has taken it");
  appc_error_make(&err, 0, "images/x: broken");
  appc_store_log_unremoved(&cb, "sha512-x", false, &err);
  assert_null(err);
  assert_int_equal(l.n, 2);
  assert_string_equal(l.last, "sha512-x is left in the store: images/x: broken");

  /* deferred to the end of a shared hold: through the store's callbacks */
  open_store(f);
  appc_store_set_callbacks(f->s, &cb);
  simple_aci(f, "a.aci", "example.com/a", "1.0.0", path);
  import_ok(f, path, &added, NULL);
  assert_ok(appc_store_lock(f->s, false, &err), &err);
  assert_ok(appc_store_remove_unclaimed(f->s, added.id, &added.import_time, &kept, &err), &err);
  assert_false(kept);
  assert_ok(appc_store_open(&other, f->store, &err), &err);
  assert_ok(appc_store_claim(other, added.id, &claimed, &err), &err);
  l.n = 0;
  appc_store_unlock(f->s);
  assert_int_equal(l.n, 1);
  snprintf(want, sizeof want, "%s stays in the store: another import has taken it", added.id);
  assert_string_equal(l.last, want);
  assert_int_equal(count_sub(f, "images"), 1);
  appc_store_set_callbacks(f->s, NULL);
  appc_store_close(other);
  appc_store_image_clear(&added);
  appc_store_image_clear(&claimed);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_app_string),
      cmocka_unit_test_setup_teardown(test_open_creates_layout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_render_options_abi, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_refuses_newer_or_foreign_format, setup, teardown),
      cmocka_unit_test_setup_teardown(test_import_and_reimport, setup, teardown),
      cmocka_unit_test_setup_teardown(test_import_from_source, setup, teardown),
      cmocka_unit_test_setup_teardown(test_import_refuses_writes_through_symlinks, setup, teardown),
      cmocka_unit_test_setup_teardown(test_import_keeps_symlinks_that_are_not_written_through,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tmpdir_and_areas, setup, teardown),
      cmocka_unit_test_setup_teardown(test_remove_export_gc, setup, teardown),
      cmocka_unit_test_setup_teardown(test_remove_unclaimed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_remove_unclaimed_deferred, setup, teardown),
      cmocka_unit_test_setup_teardown(test_remove_unclaimed_beside_a_holder, setup, teardown),
      cmocka_unit_test_setup_teardown(test_remove_unclaimed_shared_vs_first_import, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_log_unremoved, setup, teardown),
      cmocka_unit_test_setup_teardown(test_progress_export_and_verify, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_finds_damage, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_beside_removals, setup, teardown),
      cmocka_unit_test_setup_teardown(test_check_dest, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tree_symlink, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gc_threads, setup, teardown),
      cmocka_unit_test_setup_teardown(test_store_arguments, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gc_cloexec, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gc_tree_bytes, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
