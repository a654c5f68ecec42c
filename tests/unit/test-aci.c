/* SPDX-License-Identifier: Apache-2.0 */
/* aci unit tests: build, validate, read and rewrite ACIs in scratch
 * directories.  Archives for the rejection tests are made byte by byte
 * (tar_add), independently of libarchive, and image IDs are checked against
 * an independent SHA-512 of the decompressed stream (zlib + OpenSSL). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <archive.h>
#include <archive_entry.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "appc/aci.h"
#include "aci/internal.h"
#include "common/fs.h"
#include "tests/unit/test-cloexec.h"
#include "tests/unit/test-util.h"
#define SCRATCH_PREFIX "test-aci"
#include "tests/unit/test-scratch.h"
#include "common/macros.h"

#define TEST_MANIFEST                                                                              \
  "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/test\","          \
  "\"labels\":[{\"name\":\"os\",\"value\":\"linux\"}]}"

struct tar_builder {
  FILE *f;
  bool v7; /* pre-POSIX headers: no "ustar" magic */
};

static char *make_layout(const char *dir)
{
  char *layout = path_join(dir, "layout");
  mkdirs(dir, "layout/rootfs");
  write_file(layout, "manifest", TEST_MANIFEST, strlen(TEST_MANIFEST));
  return layout;
}

static char *read_whole(const char *path, size_t *len)
{
  FILE *f = fopen(path, "r");
  char *buf = NULL;
  size_t cap = 0, used = 0, n;
  assert_non_null(f);
  do {
    if (used == cap) {
      cap = cap == 0 ? 65536 : cap * 2;
      buf = realloc(buf, cap);
      assert_non_null(buf);
    }
    n = fread(buf + used, 1, cap - used, f);
    used += n;
  } while (n > 0);
  fclose(f);
  *len = used;
  return buf;
}

static void sha512_of_gunzipped(const char *path, char out[APPC_IMAGE_ID_LEN + 1])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char buf[65536], md[64];
  unsigned int mdlen = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  gzFile gz = gzopen(path, "rb");
  int n;

  assert_non_null(ctx);
  assert_non_null(gz);
  assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha512(), NULL), 1);
  /* gzread continues across concatenated gzip members. */
  while ((n = gzread(gz, buf, sizeof buf)) > 0)
    EVP_DigestUpdate(ctx, buf, (size_t) n);
  assert_int_equal(n, 0);
  gzclose(gz);
  assert_int_equal(EVP_DigestFinal_ex(ctx, md, &mdlen), 1);
  EVP_MD_CTX_free(ctx);
  strcpy(out, "sha512-");
  for (unsigned i = 0; i < 64; i++) {
    out[7 + 2 * i] = hex[md[i] >> 4];
    out[8 + 2 * i] = hex[md[i] & 15];
  }
  out[APPC_IMAGE_ID_LEN] = '\0';
}

static void tar_begin(struct tar_builder *t, const char *path)
{
  t->f = fopen(path, "w");
  assert_non_null(t->f);
  t->v7 = false;
}

/* WIDTH-1 octal digits and a NUL, as ustar numeric fields are. */
static void octal(char *field, size_t width, unsigned long long v)
{
  char tmp[32];
  int n = snprintf(tmp, sizeof tmp, "%0*llo", (int) width - 1, v);
  assert_int_equal(n, (int) width - 1);
  memcpy(field, tmp, width);
}

/* A header block, its checksum right. */
static void tar_header(unsigned char h[512], bool v7, const char *name, char type, const char *link,
                       unsigned long long declared)
{
  unsigned sum = 0;

  memset(h, 0, 512);
  assert_true(strlen(name) < 100);
  memcpy(h, name, strlen(name));
  octal((char *) h + 100, 8, type == '5' ? 0755 : 0644);
  octal((char *) h + 108, 8, 0);
  octal((char *) h + 116, 8, 0);
  octal((char *) h + 124, 12, declared);
  octal((char *) h + 136, 12, 0);
  h[156] = (unsigned char) type;
  if (link != NULL)
    memcpy(h + 157, link, strlen(link));
  if (!v7) {
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
  }
  memset(h + 148, ' ', 8);
  for (int i = 0; i < 512; i++)
    sum += h[i];
  snprintf((char *) h + 148, 8, "%06o", sum);
}

static void tar_add(struct tar_builder *t, const char *name, char type, const char *link,
                    const void *data, size_t len, unsigned long long declared)
{
  unsigned char h[512];
  static const unsigned char zeros[512];

  tar_header(h, t->v7, name, type, link, declared);
  assert_int_equal(fwrite(h, 1, 512, t->f), 512);
  if (len > 0) {
    assert_int_equal(fwrite(data, 1, len, t->f), len);
    if (len % 512 != 0)
      assert_int_equal(fwrite(zeros, 1, 512 - len % 512, t->f), 512 - len % 512);
  }
}

static void tar_file(struct tar_builder *t, const char *name, const char *data)
{
  tar_add(t, name, '0', NULL, data, strlen(data), strlen(data));
}

static void tar_dir(struct tar_builder *t, const char *name)
{
  tar_add(t, name, '5', NULL, NULL, 0, 0);
}

/* A pax header of TYPE ('x': for the next entry, 'g': global) holding one
 * record, KEY=VALUE. */
static void tar_pax_typed(struct tar_builder *t, char type, const char *key, const char *value)
{
  char rec[1024];
  size_t body = strlen(key) + strlen(value) + 3; /* " ", "=", "\n" */
  size_t len = body + 1;

  while (len != body + (size_t) snprintf(NULL, 0, "%zu", len))
    len = body + (size_t) snprintf(NULL, 0, "%zu", len);
  assert_true(len < sizeof rec);
  snprintf(rec, sizeof rec, "%zu %s=%s\n", len, key, value);
  assert_int_equal(strlen(rec), len);
  tar_add(t, "PaxHeader", type, NULL, rec, len, len);
}

/* A pax extended header ('x') of one record, KEY=VALUE, for the next entry. */
static void tar_pax(struct tar_builder *t, const char *key, const char *value)
{
  tar_pax_typed(t, 'x', key, value);
}

/* A pax global header ('g') of one record; returns its offset. */
static long tar_pax_global(struct tar_builder *t, const char *key, const char *value)
{
  long at = ftell(t->f);

  tar_pax_typed(t, 'g', key, value);
  return at;
}

static void tar_end(struct tar_builder *t)
{
  static const unsigned char zeros[1024];
  assert_int_equal(fwrite(zeros, 1, sizeof zeros, t->f), sizeof zeros);
  assert_int_equal(fclose(t->f), 0);
  t->f = NULL;
}

/* ---- shared fixtures ---- */

static struct appc_build_options opts_with(enum appc_compression c)
{
  return (struct appc_build_options){.compression = c, .threads = 2};
}

/* Build LAYOUT into DIR/NAME; returns the output path (caller frees). */
static char *build_ok(const char *layout, const char *dir, const char *name,
                      const struct appc_build_options *o, char id[APPC_IMAGE_ID_LEN + 1])
{
  appc_error_t err = NULL;
  char *out = path_join(dir, name);
  int r = appc_aci_build(layout, out, o, id, &err);
  assert_ok(r, &err);
  return out;
}

/* Validation must fail with NEEDLE in the message, which names the file. */
static void expect_invalid(const char *path, const char *needle)
{
  struct appc_aci_info info;
  appc_error_t err = NULL;
  int r = appc_aci_validate(path, &info, &err);
  assert_true(r < 0);
  assert_non_null(err);
  if (strstr(err->msg, path) == NULL)
    fail_msg("error \"%s\" does not name %s", err->msg, path);
  assert_error_contains(r, &err, needle);
}

static void expect_valid(const char *path, struct appc_aci_info *info)
{
  appc_error_t err = NULL;
  int r = appc_aci_validate(path, info, &err);
  assert_ok(r, &err);
  assert_non_null(info->manifest);
}

/* Entries of an ACI as "name type [-> link]" lines, in archive order. */
static char *listing(const char *path)
{
  struct archive *a = archive_read_new();
  struct archive_entry *e;
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);

  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  assert_int_equal(archive_read_open_filename(a, path, 65536), ARCHIVE_OK);
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    fprintf(f, "%s %o %lld", archive_entry_pathname(e), (unsigned) archive_entry_mode(e),
            (long long) archive_entry_size(e));
    if (archive_entry_hardlink(e) != NULL)
      fprintf(f, " link=%s", archive_entry_hardlink(e));
    if (archive_entry_symlink(e) != NULL)
      fprintf(f, " sym=%s", archive_entry_symlink(e));
    if (archive_entry_filetype(e) == AE_IFCHR)
      fprintf(f, " dev=%u,%u", (unsigned) archive_entry_rdevmajor(e),
              (unsigned) archive_entry_rdevminor(e));
    fprintf(f, " uid=%lld uname=%s\n", (long long) archive_entry_uid(e),
            archive_entry_uname(e) != NULL ? archive_entry_uname(e) : "");
  }
  archive_read_free(a);
  fclose(f);
  return out;
}

static void assert_contains(const char *hay, const char *needle)
{
  if (strstr(hay, needle) == NULL)
    fail_msg("\"%s\" not found in:\n%s", needle, hay);
}

/* A layout with a bit of everything. */
static char *rich_layout(const char *dir)
{
  char *layout = make_layout(dir);
  char *rootfs = path_join(layout, "rootfs");
  char longdir[200], longname[400];
  char *p;

  write_file(rootfs, "etc/hello", "hello\n", 6);
  write_file(rootfs, "bin/tool", "#!/bin/sh\n", 10);
  p = path_join(rootfs, "bin/tool");
  assert_int_equal(chmod(p, 04755), 0);
  free(p);
  p = path_join(rootfs, "etc/hello");
  char *q = path_join(rootfs, "bin/hello-link");
  assert_int_equal(link(p, q), 0);
  free(q);
  free(p);
  p = path_join(rootfs, "bin/sym");
  assert_int_equal(symlink("../etc/hello", p), 0);
  free(p);
  memset(longdir, 'd', 120);
  longdir[120] = '\0';
  snprintf(longname, sizeof longname, "%s/%s", longdir, "a-file-with-a-rather-long-name.txt");
  write_file(rootfs, longname, "long\n", 5);
  p = path_join(rootfs, "fifo");
  assert_int_equal(mkfifo(p, 0644), 0);
  free(p);
  free(rootfs);
  return layout;
}

/* ---- compression helpers ---- */

static void test_compression_names(void **state)
{
  enum appc_compression c;
  const char *names[] = {"none", "gzip", "bzip2", "xz"};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(appc_compression_from_string(names[i], &c), 0);
    assert_int_equal(c, i);
    assert_string_equal(appc_compression_name(c), names[i]);
  }
  assert_int_equal(appc_compression_from_string("zstd", &c), -1);
  assert_int_equal(appc_compression_from_string("GZIP", &c), -1);
}

/* ---- sources: path, descriptor, memory, callback ---- */

/* A callback source over memory that hands out at most 7 bytes a call, so
 * that every reader sees short reads; FAIL_AT > 0 fails the read that would
 * pass that offset. */
struct drip {
  const char *buf;
  size_t len, pos, fail_at;
};

static ssize_t drip_read(void *data, void *buf, size_t len)
{
  struct drip *d = data;
  size_t n = d->len - d->pos;

  if (n > 7)
    n = 7;
  if (n > len)
    n = len;
  if (d->fail_at > 0 && d->pos + n > d->fail_at) {
    errno = EPIPE;
    return -1;
  }
  memcpy(buf, d->buf + d->pos, n);
  d->pos += n;
  return (ssize_t) n;
}

static void expect_same_info(const struct appc_aci_info *a, const struct appc_aci_info *b)
{
  assert_string_equal(a->image_id, b->image_id);
  assert_int_equal(a->compression, b->compression);
  assert_int_equal(a->manifest_len, b->manifest_len);
  assert_memory_equal(a->manifest_json, b->manifest_json, a->manifest_len);
  assert_true(a->uncompressed_size == b->uncompressed_size);
}

static void test_sources_agree(void **state)
{
  const enum appc_compression kinds[] = {APPC_COMPRESSION_GZIP, APPC_COMPRESSION_XZ,
                                         APPC_COMPRESSION_NONE};
  char *dir = scratch_new();
  char *layout = rich_layout(dir);

  for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
    struct appc_build_options o = opts_with(kinds[k]);
    char id[APPC_IMAGE_ID_LEN + 1];
    char *out = build_ok(layout, dir, appc_compression_name(kinds[k]), &o, id);
    struct appc_aci_info by_path, by_mem, by_fd, by_cb;
    struct appc_source *src = NULL;
    appc_error_t err = NULL;
    size_t len;
    char *bytes = read_whole(out, &len);
    char *json = NULL;
    size_t json_len = 0;

    expect_valid(out, &by_path);
    assert_string_equal(by_path.image_id, id);

    assert_int_equal(appc_source_open_memory(&src, bytes, len, "in memory", &err), 0);
    assert_string_equal(appc_source_name(src), "in memory");
    assert_int_equal(appc_aci_validate_source(src, NULL, &by_mem, &err), 0);
    expect_same_info(&by_path, &by_mem);
    /* Read once: a second reader is refused rather than fed the rest. */
    struct appc_aci_info again;
    assert_int_equal(appc_aci_validate_source(src, NULL, &again, &err), -1);
    assert_non_null(strstr(err->msg, "in memory: already read"));
    appc_error_release(&err);
    appc_source_free(src);

    int fd = open(out, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(appc_source_open_fd(&src, fd, NULL, &err), 0);
    assert_non_null(strstr(appc_source_name(src), "fd "));
    assert_int_equal(appc_aci_validate_source(src, NULL, &by_fd, &err), 0);
    expect_same_info(&by_path, &by_fd);
    appc_source_free(src);
    /* The descriptor stays the caller's. */
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    close(fd);

    struct drip d = {.buf = bytes, .len = len};
    assert_int_equal(appc_source_open_callback(&src, drip_read, &d, "drip", &err), 0);
    assert_int_equal(appc_aci_validate_source(src, NULL, &by_cb, &err), 0);
    expect_same_info(&by_path, &by_cb);
    appc_source_free(src);

    assert_int_equal(appc_source_open_memory(&src, bytes, len, NULL, &err), 0);
    assert_int_equal(appc_aci_read_manifest_source(src, &json, &json_len, &err), 0);
    assert_int_equal(json_len, by_path.manifest_len);
    assert_memory_equal(json, by_path.manifest_json, json_len);
    appc_source_free(src);

    free(json);
    appc_aci_info_clear(&by_path);
    appc_aci_info_clear(&by_mem);
    appc_aci_info_clear(&by_fd);
    appc_aci_info_clear(&by_cb);
    free(bytes);
    free(out);
  }
  free(layout);
  scratch_remove(dir);
}

/* A failing or truncated source is an error naming it, and what went wrong. */
static void test_source_failures(void **state)
{
  char *dir = scratch_new();
  char *layout = rich_layout(dir);
  struct appc_build_options o = opts_with(APPC_COMPRESSION_GZIP);
  char id[APPC_IMAGE_ID_LEN + 1];
  char *out = build_ok(layout, dir, "t.aci", &o, id);
  struct appc_aci_info info;
  struct appc_source *src = NULL;
  appc_error_t err = NULL;
  size_t len;
  char *bytes = read_whole(out, &len);

  struct drip d = {.buf = bytes, .len = len, .fail_at = len / 2};
  assert_int_equal(appc_source_open_callback(&src, drip_read, &d, "socket", &err), 0);
  assert_int_equal(appc_aci_validate_source(src, NULL, &info, &err), -1);
  assert_non_null(strstr(err->msg, "socket: "));
  assert_non_null(strstr(err->msg, strerror(EPIPE)));
  appc_error_release(&err);
  appc_source_free(src);

  assert_int_equal(appc_source_open_memory(&src, bytes, len - 100, "cut", &err), 0);
  assert_int_equal(appc_aci_validate_source(src, NULL, &info, &err), -1);
  assert_true(strncmp(err->msg, "cut: ", 5) == 0);
  appc_error_release(&err);
  appc_source_free(src);

  assert_int_equal(appc_source_open_memory(&src, "", 0, "nothing", &err), 0);
  assert_int_equal(appc_aci_validate_source(src, NULL, &info, &err), -1);
  assert_string_equal(err->msg, "nothing: not an ACI: the file is empty");
  appc_error_release(&err);
  appc_source_free(src);

  assert_int_equal(appc_source_open_callback(&src, NULL, NULL, NULL, &err), -1);
  appc_error_release(&err);
  assert_int_equal(appc_source_open_path(&src, dir, &err), -1);
  assert_non_null(strstr(err->msg, "not an ACI"));
  appc_error_release(&err);
  assert_int_equal(appc_source_open_path(&src, "/nonexistent/x.aci", &err), -1);
  assert_string_equal(err->msg, "/nonexistent/x.aci: open: No such file or directory");
  appc_error_release(&err);

  free(bytes);
  free(out);
  free(layout);
  scratch_remove(dir);
}

/* Cancelled through struct appc_callbacks: build and validation stop with
 * ECANCELED, the build leaving no output. */
static bool always(void *data)
{
  (void) data;
  return true;
}

/* Says "cancelled" from its Nth question on, counting them all. */
struct cancel_at {
  unsigned asked, at;
};

static bool cancel_from_nth(void *data)
{
  struct cancel_at *c = data;
  return ++c->asked >= c->at;
}

/* An interrupt heard during the compressor's last flush or the fsync (the
 * last question asked) still leaves no OUT; and a big file is asked about
 * block by block, not only once. */
static void test_cancel_at_the_last_moment(void **state)
{
  char *dir = scratch_new();
  char *layout = rich_layout(dir);
  struct cancel_at counter = {.at = UINT_MAX};
  const struct appc_callbacks cb = {.cancelled = cancel_from_nth, .data = &counter};
  struct appc_build_options o = opts_with(APPC_COMPRESSION_XZ);
  char id[APPC_IMAGE_ID_LEN + 1];
  char *out = path_join(dir, "late.aci");
  appc_error_t err = NULL;

  (void) state;
  o.cb = &cb;
  assert_int_equal(appc_aci_build(layout, out, &o, id, &err), 0);
  unlink(out);
  unsigned small = counter.asked;

  counter = (struct cancel_at){.at = small};
  assert_int_equal(appc_aci_build(layout, out, &o, id, &err), -1);
  assert_int_equal(err->errnum, ECANCELED);
  assert_non_null(strstr(err->msg, "cancelled before it was installed"));
  appc_error_release(&err);
  assert_int_equal(access(out, F_OK), -1);

  /* One MiB more: at least eight more questions (128 KiB blocks). */
  char *rootfs = path_join(layout, "rootfs");
  char *big = calloc(1, 1 << 20);
  assert_non_null(big);
  write_file(rootfs, "big", big, 1 << 20);
  counter = (struct cancel_at){.at = UINT_MAX};
  assert_int_equal(appc_aci_build(layout, out, &o, id, &err), 0);
  assert_true(counter.asked >= small + 1 + 8);

  free(big);
  free(rootfs);
  free(out);
  free(layout);
  scratch_remove(dir);
}

static void test_cancel_build_and_validate(void **state)
{
  char *dir = scratch_new();
  char *layout = rich_layout(dir);
  const struct appc_callbacks cancel = {.cancelled = always};
  struct appc_build_options o = opts_with(APPC_COMPRESSION_GZIP);
  char id[APPC_IMAGE_ID_LEN + 1];
  char *out = path_join(dir, "cancelled.aci");
  struct appc_aci_info info;
  struct appc_source *src = NULL;
  appc_error_t err = NULL;

  /* Options from newer headers than this library knows are refused. */
  o.version = APPC_BUILD_OPTIONS_VERSION + 1;
  assert_int_equal(appc_aci_build(layout, out, &o, id, &err), -1);
  assert_int_equal(err->errnum, EINVAL);
  assert_non_null(strstr(err->msg, "struct appc_build_options: version 2 is newer"));
  appc_error_release(&err);
  o.version = APPC_BUILD_OPTIONS_VERSION;

  o.cb = &cancel;
  assert_int_equal(appc_aci_build(layout, out, &o, id, &err), -1);
  assert_int_equal(err->errnum, ECANCELED);
  appc_error_release(&err);
  assert_int_equal(access(out, F_OK), -1);

  o.cb = NULL;
  char *built = build_ok(layout, dir, "t.aci", &o, id);
  assert_int_equal(appc_source_open_path(&src, built, &err), 0);
  assert_int_equal(appc_aci_validate_source(src, &cancel, &info, &err), -1);
  assert_int_equal(err->errnum, ECANCELED);
  appc_error_release(&err);
  appc_source_free(src);
  free(built);
  free(out);
  free(layout);
  scratch_remove(dir);
}

/* Validation (import, verify) is asked about cancelling as it reads, not
 * only between entries: also per chunk of what a compressed file inflates
 * to, since one read of 32 KiB of gzip can be 32 MiB of data. */
static void test_cancel_validation_within_an_entry(void **state)
{
  char *dir = scratch_new();
  char *layout = rich_layout(dir);
  char *rootfs = path_join(layout, "rootfs");
  char *zeros = calloc(1, 32u << 20);
  struct appc_build_options o = opts_with(APPC_COMPRESSION_GZIP);
  char id[APPC_IMAGE_ID_LEN + 1];
  struct cancel_at counter = {.at = UINT_MAX};
  const struct appc_callbacks cb = {.cancelled = cancel_from_nth, .data = &counter};
  struct appc_aci_info info;
  struct appc_source *src = NULL;
  appc_error_t err = NULL;

  (void) state;
  assert_non_null(zeros);
  write_file(rootfs, "zeros", zeros, 32u << 20);
  char *built = build_ok(layout, dir, "z.aci", &o, id);
  struct stat st;
  assert_int_equal(stat(built, &st), 0);
  assert_true(st.st_size < (1 << 20));

  assert_int_equal(appc_source_open_path(&src, built, &err), 0);
  assert_int_equal(appc_aci_validate_source(src, &cb, &info, &err), 0);
  appc_aci_info_clear(&info);
  appc_source_free(src);
  assert_true(counter.asked >= 32); /* at least once per MiB */

  unsigned all = counter.asked;
  counter = (struct cancel_at){.at = all / 2};
  assert_int_equal(appc_source_open_path(&src, built, &err), 0);
  assert_int_equal(appc_aci_validate_source(src, &cb, &info, &err), -1);
  assert_int_equal(err->errnum, ECANCELED);
  assert_non_null(strstr(err->msg, "cancelled"));
  assert_int_equal(counter.asked, all / 2); /* not one question more */
  appc_error_release(&err);
  appc_source_free(src);

  free(built);
  free(zeros);
  free(rootfs);
  free(layout);
  scratch_remove(dir);
}

/* Progress says what each step does: progress_op hears the operation,
 * progress (a caller of an older release) the same reports without it. */
struct progress_seen {
  unsigned ops[APPC_PROGRESS_CONVERT + 1];
  unsigned plain;
  uint64_t last_done;
};

static void on_progress_op(void *data, enum appc_progress_op op, const char *what, uint64_t done,
                           uint64_t total)
{
  struct progress_seen *s = data;
  (void) what;
  (void) total;
  assert_true(op <= APPC_PROGRESS_CONVERT);
  s->ops[op]++;
  s->last_done = done;
}

static void on_progress(void *data, const char *what, uint64_t done, uint64_t total)
{
  struct progress_seen *s = data;
  (void) what;
  (void) total;
  s->plain++;
  s->last_done = done;
}

static void test_progress_names_the_operation(void **state)
{
  char *dir = scratch_new();
  char *layout = rich_layout(dir);
  struct progress_seen seen = {0};
  const struct appc_callbacks cb = {
      .data = &seen, .progress = on_progress, .progress_op = on_progress_op};
  const struct appc_callbacks plain = {.data = &seen, .progress = on_progress};
  struct appc_build_options o = opts_with(APPC_COMPRESSION_GZIP);
  char id[APPC_IMAGE_ID_LEN + 1];
  struct appc_aci_info info;
  struct appc_source *src = NULL;
  appc_error_t err = NULL;

  o.cb = &cb;
  char *built = build_ok(layout, dir, "p.aci", &o, id);
  assert_true(seen.ops[APPC_PROGRESS_BUILD] > 0);
  assert_int_equal(seen.ops[APPC_PROGRESS_READ], 0);
  assert_int_equal(seen.plain, 0);

  memset(&seen, 0, sizeof seen);
  assert_int_equal(appc_source_open_path(&src, built, &err), 0);
  assert_ok(appc_aci_validate_source(src, &cb, &info, &err), &err);
  appc_aci_info_clear(&info);
  appc_source_free(src);
  assert_true(seen.ops[APPC_PROGRESS_READ] > 0);
  assert_int_equal(seen.ops[APPC_PROGRESS_BUILD], 0);
  assert_int_equal(seen.plain, 0);
  struct stat st;
  assert_int_equal(stat(built, &st), 0);
  assert_int_equal(seen.last_done, (uint64_t) st.st_size);

  memset(&seen, 0, sizeof seen);
  assert_int_equal(appc_source_open_path(&src, built, &err), 0);
  assert_ok(appc_aci_validate_source(src, &plain, &info, &err), &err);
  appc_aci_info_clear(&info);
  appc_source_free(src);
  assert_true(seen.plain > 0);
  assert_int_equal(seen.last_done, (uint64_t) st.st_size);

  free(built);
  free(layout);
  scratch_remove(dir);
}

/* ---- build ---- */

static void test_build_id_is_sha512_of_tar(void **state)
{
  char *dir = scratch_new();
  char *layout = rich_layout(dir);
  char id[APPC_IMAGE_ID_LEN + 1], expect[APPC_IMAGE_ID_LEN + 1];
  struct appc_build_options o = opts_with(APPC_COMPRESSION_GZIP);
  /* Several MiB so that the gzip output has many members. */
  size_t big = 5u * 1024 * 1024 + 123;
  char *data = malloc(big);
  char *rootfs = path_join(layout, "rootfs");
  struct appc_aci_info info;

  for (size_t i = 0; i < big; i++)
    data[i] = (char) ((i * 2654435761u) >> 13);
  write_file(rootfs, "usr/big", data, big);
  char *out = build_ok(layout, dir, "t.aci", &o, id);
  sha512_of_gunzipped(out, expect);
  assert_string_equal(id, expect);
  expect_valid(out, &info);
  assert_string_equal(info.image_id, id);
  assert_int_equal(info.compression, APPC_COMPRESSION_GZIP);
  assert_memory_equal(info.manifest_json, TEST_MANIFEST, strlen(TEST_MANIFEST));
  appc_aci_info_clear(&info);
  free(data);
  free(rootfs);
  free(out);
  free(layout);
  scratch_remove(dir);
}

/* A build holds no descriptor another thread's fork+exec would inherit
 * (list_dir's copy for fdopendir was a plain dup). */
static void test_build_cloexec(void **state)
{
  char *dir = scratch_new();
  char *layout = rich_layout(dir);
  char id[APPC_IMAGE_ID_LEN + 1];

  (void) state;
  cloexec_arm();
  char *out = build_ok(layout, dir, "t.aci", NULL, id);
  cloexec_disarm();
  assert_true(cloexec.checked > 0);
  assert_int_equal(cloexec.leaked, 0);
  free(out);
  free(layout);
  scratch_remove(dir);
}

static void test_build_reproducible(void **state)
{
  char *dir = scratch_new();
  char *layout = rich_layout(dir);
  char id1[APPC_IMAGE_ID_LEN + 1], id2[APPC_IMAGE_ID_LEN + 1];
  struct appc_build_options o = opts_with(APPC_COMPRESSION_GZIP);
  size_t l1, l2;

  char *a = build_ok(layout, dir, "a.aci", &o, id1);
  /* Reading and touching access times must not change the image. */
  char *hello = path_join(layout, "rootfs/etc/hello");
  struct timespec ts[2] = {{.tv_sec = 12345}, {.tv_nsec = UTIME_OMIT}};
  assert_int_equal(utimensat(AT_FDCWD, hello, ts, 0), 0);
  /* ... also on an entry that gets a pax extended header (long name),
   * where libarchive would store atime and ctime if we let it. */
  char longdir[121];
  memset(longdir, 'd', 120);
  longdir[120] = '\0';
  char *longpath = path_join(layout, "rootfs");
  char *longfile = NULL;
  assert_true(asprintf(&longfile, "%s/%s/a-file-with-a-rather-long-name.txt", longpath, longdir) >
              0);
  assert_int_equal(utimensat(AT_FDCWD, longfile, ts, 0), 0);
  /* chmod back and forth: same mode, new ctime */
  assert_int_equal(chmod(longfile, 0600), 0);
  assert_int_equal(chmod(longfile, 0644), 0);
  free(longfile);
  free(longpath);
  sleep(1);      /* a new second, in case build time leaked in anywhere */
  o.threads = 3; /* the thread count must not matter either */
  char *b = build_ok(layout, dir, "b.aci", &o, id2);
  assert_string_equal(id1, id2);
  char *ca = read_whole(a, &l1), *cb = read_whole(b, &l2);
  assert_int_equal(l1, l2);
  assert_memory_equal(ca, cb, l1);
  /* gzip header: MTIME zero. */
  assert_int_equal(ca[4] | ca[5] | ca[6] | ca[7], 0);
  free(ca);
  free(cb);
  free(hello);
  free(a);
  free(b);
  free(layout);
  scratch_remove(dir);
}

static void test_every_compression_round_trips(void **state)
{
  char *dir = scratch_new();
  char *layout = rich_layout(dir);
  const char *names[] = {"n.aci", "g.aci", "b.aci", "x.aci"};
  char first[APPC_IMAGE_ID_LEN + 1] = "";

  for (int c = APPC_COMPRESSION_NONE; c <= APPC_COMPRESSION_XZ; c++) {
    char id[APPC_IMAGE_ID_LEN + 1];
    struct appc_build_options o = opts_with((enum appc_compression) c);
    struct appc_aci_info info;
    char *out = build_ok(layout, dir, names[c], &o, id);
    expect_valid(out, &info);
    assert_int_equal(info.compression, c);
    assert_string_equal(info.image_id, id);
    /* The ID is about the tar stream: the same whatever the compression. */
    if (first[0] == '\0')
      strcpy(first, id);
    assert_string_equal(first, id);
    appc_aci_info_clear(&info);
    free(out);
  }
  /* And for "none" it is simply the SHA-512 of the file. */
  char expect[APPC_IMAGE_ID_LEN + 1], *n = path_join(dir, "n.aci");
  sha512_of_gunzipped(n, expect);
  assert_string_equal(first, expect);
  free(n);
  free(layout);
  scratch_remove(dir);
}

static void test_build_preserves_special_files(void **state)
{
  char *dir = scratch_new();
  char *layout = rich_layout(dir);
  char id[APPC_IMAGE_ID_LEN + 1];
  struct appc_build_options o = opts_with(APPC_COMPRESSION_GZIP);
  bool root = geteuid() == 0;

  if (root) {
    char *dev = path_join(layout, "rootfs/console");
    assert_int_equal(mknod(dev, S_IFCHR | 0600, makedev(5, 1)), 0);
    free(dev);
  }
  /* A build that opened the FIFO or the console would block here. */
  alarm(60);
  char *out = build_ok(layout, dir, "s.aci", &o, id);
  alarm(0);
  char *l = listing(out);
  assert_contains(l, "manifest 100644");
  assert_contains(l, "rootfs/bin/hello-link 100644 6");
  /* later name in sorted order links to the first */
  assert_contains(l, "rootfs/etc/hello 644 0 link=rootfs/bin/hello-link");
  assert_contains(l, "rootfs/bin/sym 120777 0 sym=../etc/hello");
  assert_contains(l, "rootfs/bin/tool 104755");
  assert_contains(l, "rootfs/fifo 10644");
  assert_contains(l, "/a-file-with-a-rather-long-name.txt 100644 5");
  if (root)
    assert_contains(l, "rootfs/console 20600 0 dev=5,1");
  /* Order: manifest, rootfs, then sorted. */
  assert_true(strncmp(l, "manifest ", 9) == 0);
  assert_true(strstr(l, "\nrootfs/ ") != NULL || strstr(l, "\nrootfs ") != NULL);
  assert_true(strstr(l, "rootfs/bin/") < strstr(l, "rootfs/etc/"));
  free(l);
  free(out);
  free(layout);
  scratch_remove(dir);
}

static void test_build_skips_sockets_and_keeps_sparse(void **state)
{
  char *dir = scratch_new();
  char *layout = make_layout(dir);
  char id[APPC_IMAGE_ID_LEN + 1];
  struct appc_build_options o = opts_with(APPC_COMPRESSION_NONE);
  struct archive *a;
  struct archive_entry *e;
  bool saw_sparse = false, saw_socket = false;
  char *sparse = path_join(layout, "rootfs/sparse");
  int fd = open(sparse, O_WRONLY | O_CREAT, 0644);

  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, 8 * 1024 * 1024), 0);
  assert_int_equal(pwrite(fd, "end", 3, 8 * 1024 * 1024), 3);
  close(fd);
  /* A socket can only be made by binding one. */
  char *sock = path_join(layout, "rootfs/sock");
  pid_t pid = fork();
  if (pid == 0) {
    execlp("python3", "python3", "-c",
           "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", sock, NULL);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  bool have_socket = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  char *out = build_ok(layout, dir, "sp.aci", &o, id);
  a = archive_read_new();
  archive_read_support_format_tar(a);
  assert_int_equal(archive_read_open_filename(a, out, 65536), ARCHIVE_OK);
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    if (strcmp(archive_entry_pathname(e), "rootfs/sparse") == 0) {
      assert_int_equal(archive_entry_size(e), 8 * 1024 * 1024 + 3);
      saw_sparse = archive_entry_sparse_count(e) > 0;
      /* The content reads back as zeros, then "end". */
      char buf[65536];
      la_ssize_t n;
      long long total = 0, nonzero = 0;
      char tail[3] = {0};
      while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
        for (la_ssize_t i = 0; i < n; i++) {
          if (buf[i] != 0)
            nonzero++;
          tail[0] = tail[1];
          tail[1] = tail[2];
          tail[2] = buf[i];
        }
        total += n;
      }
      assert_int_equal(total, 8 * 1024 * 1024 + 3);
      assert_int_equal(nonzero, 3);
      assert_memory_equal(tail, "end", 3);
    }
    if (strcmp(archive_entry_pathname(e), "rootfs/sock") == 0)
      saw_socket = true;
  }
  archive_read_free(a);
  assert_false(saw_socket);
  (void) have_socket;
  /* Every file system used for tests here supports holes (tmpfs, ext4). */
  assert_true(saw_sparse);
  size_t len;
  char *bytes = read_whole(out, &len);
  assert_true(len < 1024 * 1024); /* the hole was not stored */
  free(bytes);
  free(out);
  free(sock);
  free(sparse);
  free(layout);
  scratch_remove(dir);
}

static void test_build_owner_root(void **state)
{
  char *dir = scratch_new();
  char *layout = make_layout(dir);
  char id[APPC_IMAGE_ID_LEN + 1];
  struct appc_build_options o = opts_with(APPC_COMPRESSION_GZIP);
  char *rootfs = path_join(layout, "rootfs");

  write_file(rootfs, "owned", "x", 1);
  char *owned = path_join(rootfs, "owned");
  if (geteuid() == 0)
    assert_int_equal(chown(owned, 1234, 4321), 0);
  o.owner_root = true;
  char *out = build_ok(layout, dir, "o.aci", &o, id);
  char *l = listing(out);
  /* named as the reference names them */
  assert_contains(l, "rootfs/owned 100644 1 uid=0 uname=root\n");
  assert_contains(l, "manifest 100644");
  assert_null(strstr(l, "uid=1234"));
  assert_null(strstr(l, "uname=\n"));
  free(l);
  free(out);
  if (geteuid() == 0) {
    o.owner_root = false;
    out = build_ok(layout, dir, "o2.aci", &o, id);
    l = listing(out);
    assert_contains(l, "rootfs/owned 100644 1 uid=1234");
    free(l);
    free(out);
  }
  free(owned);
  free(rootfs);
  free(layout);
  scratch_remove(dir);
}

struct notes {
  int calls;
  char *last_path;
  bool gone;
};

static void note_temp(const char *path, void *data)
{
  struct notes *n = data;
  n->calls++;
  n->gone = path == NULL;
  if (path != NULL) {
    free(n->last_path);
    n->last_path = strdup(path);
  }
}

static void test_build_refuses_existing_out(void **state)
{
  char *dir = scratch_new();
  char *layout = make_layout(dir);
  char id[APPC_IMAGE_ID_LEN + 1];
  struct appc_build_options o = opts_with(APPC_COMPRESSION_GZIP);
  appc_error_t err = NULL;
  char *out = path_join(dir, "exists.aci");
  size_t len;

  write_file(dir, "exists.aci", "precious", 8);
  int r = appc_aci_build(layout, out, &o, id, &err);
  assert_refuses_existing(r, &err, "exists.aci: refusing to replace an existing file");
  char *content = read_whole(out, &len);
  assert_int_equal(len, 8);
  free(content);
  o.overwrite = true;
  struct notes n = {0};
  o.temp_notify = note_temp;
  o.temp_notify_data = &n;
  r = appc_aci_build(layout, out, &o, id, &err);
  assert_ok(r, &err);
  /* Replacing goes through a named temporary for an instant at least; the
   * caller hears of it, and of its end. */
  assert_true(n.calls >= 2);
  assert_non_null(n.last_path);
  assert_true(strncmp(n.last_path, dir, strlen(dir)) == 0);
  assert_true(n.gone);
  assert_int_equal(access(n.last_path, F_OK), -1);
  free(n.last_path);
  struct appc_aci_info info;
  expect_valid(out, &info);
  appc_aci_info_clear(&info);
  assert_int_equal(count_entries(dir), 2); /* layout and exists.aci, no temp */
  /* NULL options mean the defaults: gzip. */
  char *dflt = path_join(dir, "default.aci");
  r = appc_aci_build(layout, dflt, NULL, id, &err);
  assert_ok(r, &err);
  expect_valid(dflt, &info);
  assert_int_equal(info.compression, APPC_COMPRESSION_GZIP);
  appc_aci_info_clear(&info);
  free(dflt);
  free(out);
  free(layout);
  scratch_remove(dir);
}

static void test_build_rejects_bad_layouts(void **state)
{
  char *dir = scratch_new();
  char *layout = make_layout(dir);
  char id[APPC_IMAGE_ID_LEN + 1];
  struct appc_build_options o = opts_with(APPC_COMPRESSION_GZIP);
  appc_error_t err = NULL;
  char *out = path_join(dir, "bad.aci");
  char *manifest = path_join(layout, "manifest");
  int r;

  /* invalid manifest */
  write_file(layout, "manifest", "{\"acKind\":\"PodManifest\"}", 24);
  r = appc_aci_build(layout, out, &o, id, &err);
  assert_error_contains(r, &err, "manifest");
  /* manifest is a FIFO: refused, and never opened (would block) */
  unlink(manifest);
  assert_int_equal(mkfifo(manifest, 0644), 0);
  alarm(60);
  r = appc_aci_build(layout, out, &o, id, &err);
  alarm(0);
  assert_error_contains(r, &err, "manifest: not a regular file");
  r = appc_layout_validate(layout, NULL, &err);
  assert_error_contains(r, &err, "not a regular file");
  unlink(manifest);
  write_file(layout, "manifest", TEST_MANIFEST, strlen(TEST_MANIFEST));
  /* extra file at the top */
  write_file(layout, "extra", "x", 1);
  r = appc_layout_validate(layout, NULL, &err);
  assert_error_contains(r, &err, "extra");
  r = appc_aci_build(layout, out, &o, id, &err);
  assert_error_contains(r, &err, "extra");
  char *extra = path_join(layout, "extra");
  unlink(extra);
  free(extra);
  /* valid again */
  struct appc_image_manifest *m = NULL;
  r = appc_layout_validate(layout, &m, &err);
  assert_ok(r, &err);
  assert_non_null(m);
  appc_image_manifest_free(m);
  /* no rootfs */
  char *rootfs = path_join(layout, "rootfs");
  rmdir(rootfs);
  r = appc_layout_validate(layout, NULL, &err);
  assert_error_contains(r, &err, "rootfs");
  write_file(layout, "rootfs", "file", 4);
  r = appc_layout_validate(layout, NULL, &err);
  assert_error_contains(r, &err, "rootfs: not a directory");
  /* nothing was left behind by the failed builds */
  assert_int_equal(count_entries(dir), 1);
  free(rootfs);
  free(manifest);
  free(out);
  free(layout);
  scratch_remove(dir);
}

/* A build that fails half-way (output file system full) removes its
 * temporary file and leaves no OUT. */
static void test_failed_build_leaves_nothing(void **state)
{
  char *dir = scratch_new();
  char *layout = make_layout(dir);
  char *small = path_join(dir, "small");
  char id[APPC_IMAGE_ID_LEN + 1];
  struct appc_build_options o = opts_with(APPC_COMPRESSION_NONE);
  appc_error_t err = NULL;
  size_t big = 2u * 1024 * 1024;
  char *data = calloc(1, big);
  char *rootfs = path_join(layout, "rootfs");

  mkdirs(dir, "small");
  if (mount("tmpfs", small, "tmpfs", 0, "size=256k") < 0) {
    free(data);
    free(rootfs);
    free(small);
    free(layout);
    scratch_remove(dir);
    skip();
  }
  write_file(rootfs, "big", data, big);
  char *out = path_join(small, "out.aci");
  int r = appc_aci_build(layout, out, &o, id, &err);
  assert_error_contains(r, &err, "out.aci");
  assert_int_equal(count_entries(small), 0);
  /* also through the named-temporary path, by making O_TMPFILE impossible
   * is not portable; the same cleanup covers both. */
  assert_int_equal(umount(small), 0);
  free(out);
  free(data);
  free(rootfs);
  free(small);
  free(layout);
  scratch_remove(dir);
}

/* A disk that fills up: every call after the refused write fails, naming
 * the cause, and the writer is still freed whole.  (Told to libarchive, a
 * refused header write leaves it in its fatal state, where 3.6 cannot free
 * its 64 KiB output buffer: the sanitizer run sees that leak.) */
static void test_tar_writer_on_a_full_disk(void **state)
{
  (void) state;
  int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
  struct appc_build_options o = opts_with(APPC_COMPRESSION_NONE);
  struct appc_tar_writer *w = NULL;
  appc_error_t err = NULL;
  int r = 0;

  assert_true(fd >= 0);
  assert_int_equal(appc_tar_writer_new(&w, fd, "full.aci", &o, APPC_TAR_WRITER_BUILD, &err), 0);
  /* directories only: the 64 KiB buffer is sent by a header write */
  for (int i = 0; i < 400 && r == 0; i++) {
    char name[32];
    struct archive_entry *e = archive_entry_new();
    snprintf(name, sizeof name, "rootfs/d%d", i);
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFDIR);
    archive_entry_set_perm(e, 0755);
    r = appc_tar_writer_header(w, e, &err);
    archive_entry_free(e);
  }
  assert_error_contains(r, &err, "full.aci: write: No space left on device");
  assert_error_contains(appc_tar_writer_data(w, "x", 1, &err), &err, "an earlier write failed");
  char id[APPC_IMAGE_ID_LEN + 1];
  assert_error_contains(appc_tar_writer_close(w, id, &err), &err, "full.aci");
  appc_tar_writer_free(w);
  close(fd);
}

/* ---- validation ---- */

static char *hand_made(const char *dir, const char *name)
{
  return path_join(dir, name);
}

/* A pax header libarchive ignores (a malformed record after a good one)
 * would leave the ustar name, while GNU tar and Python read the pax one:
 * one archive, two trees.  Refused, as the reference refuses it. */
static void test_validate_refuses_ignored_pax_header(void **state)
{
  static const char records[] = "24 path=rootfs/pax-name\n99999 junk\n";
  char *dir = scratch_new();
  char *p = hand_made(dir, "pax.aci");
  struct tar_builder t;

  (void) state;
  tar_begin(&t, p);
  tar_file(&t, "manifest", TEST_MANIFEST);
  tar_dir(&t, "rootfs");
  tar_add(&t, "PaxHeader/x", 'x', NULL, records, strlen(records), strlen(records));
  tar_file(&t, "rootfs/ustar-name", "abc");
  tar_end(&t);
  expect_invalid(p, "malformed pax");
  free(p);
  scratch_remove(dir);
}

/* A header whose checksum is wrong, between two good ones: libarchive
 * answers ARCHIVE_RETRY, which is no entry at all.  Refused as damaged, not
 * read as an entry without a name. */
static void test_validate_refuses_bad_checksum_header(void **state)
{
  char *dir = scratch_new();
  char *p = hand_made(dir, "badsum.aci");
  struct tar_builder t;
  unsigned char h[512];

  (void) state;
  tar_begin(&t, p);
  tar_file(&t, "manifest", TEST_MANIFEST);
  tar_dir(&t, "rootfs");
  tar_header(h, false, "rootfs/damaged", '0', NULL, 0);
  h[0] ^= 0x20; /* the name changed after the checksum was made */
  assert_int_equal(fwrite(h, 1, 512, t.f), 512);
  tar_file(&t, "rootfs/after", "abc");
  tar_end(&t);
  expect_invalid(p, "invalid or truncated tar archive");
  free(p);
  scratch_remove(dir);
}

/* A pax global header ('g') at AT: libarchive skips it without a word,
 * Python's tarfile and GNU tar apply its path= to the entries after it, the
 * reference refuses the archive.  Refused, naming where it is. */
static void expect_global_refused(const char *path, long at)
{
  char needle[96];

  snprintf(needle, sizeof needle, "a pax global header ('g') at byte %ld", at);
  expect_invalid(path, needle);
}

/* Validate the N bytes of DATA as they come through a source of 7-byte
 * reads, so that the reader's chunks cut headers anywhere. */
static int validate_dripped(const char *data, size_t n, appc_error_t *err)
{
  struct drip d = {.buf = data, .len = n};
  struct appc_source *src = NULL;
  struct appc_aci_info info;
  int r;

  assert_int_equal(appc_source_open_callback(&src, drip_read, &d, "drip", err), 0);
  r = appc_aci_validate_source(src, NULL, &info, err);
  if (r == 0)
    appc_aci_info_clear(&info);
  appc_source_free(src);
  return r;
}

/* The ACI at PATH gzipped (zlib) at GZ_PATH. */
static void gzip_file(const char *path, const char *gz_path)
{
  size_t len;
  char *data = read_whole(path, &len);
  gzFile gz = gzopen(gz_path, "wb");

  assert_non_null(gz);
  assert_int_equal(gzwrite(gz, data, (unsigned) len), (int) len);
  assert_int_equal(gzclose(gz), Z_OK);
  free(data);
}

static void test_validate_refuses_pax_global_header(void **state)
{
  char *dir = scratch_new();
  char *p = hand_made(dir, "g.aci"), *pgz = hand_made(dir, "g-gz.aci");
  char needle[96];
  appc_error_t err = NULL;
  struct tar_builder t;
  size_t len;

  (void) state;
  tar_begin(&t, p);
  tar_file(&t, "manifest", TEST_MANIFEST);
  tar_dir(&t, "rootfs");
  long at = tar_pax_global(&t, "path", "rootfs/x");
  tar_file(&t, "rootfs/y", "y");
  tar_end(&t);
  expect_global_refused(p, at);

  /* Read 7 bytes at a time, the 'g' block reaches the reader in pieces. */
  char *data = read_whole(p, &len);
  snprintf(needle, sizeof needle, "'g') at byte %ld", at);
  assert_error_contains(validate_dripped(data, len, &err), &err, needle);
  /* And inflated, in the chunks the inflater makes. */
  gzip_file(p, pgz);
  expect_global_refused(pgz, at);

  free(data);
  free(pgz);
  free(p);
  scratch_remove(dir);
}

/* A regular file whose data holds a block that would be a 'g' header
 * (an image may hold a tarball made by git archive, which starts with one),
 * aligned as a header would be: data, accepted however it is chunked. */
static void test_validate_accepts_global_header_in_data(void **state)
{
  char *dir = scratch_new();
  char *p = hand_made(dir, "in-data.aci"), *pgz = hand_made(dir, "in-data-gz.aci");
  unsigned char content[3 * 512];
  appc_error_t err = NULL;
  struct appc_aci_info info;
  struct tar_builder t;
  size_t len;

  (void) state;
  memset(content, 'a', sizeof content);
  tar_header(content + 512, false, "pax_global_header", 'g', NULL, 52);
  tar_begin(&t, p);
  tar_file(&t, "manifest", TEST_MANIFEST);
  tar_dir(&t, "rootfs");
  tar_add(&t, "rootfs/repo.tar", '0', NULL, content, sizeof content - 100, sizeof content - 100);
  tar_file(&t, "rootfs/y", "y");
  tar_end(&t);
  expect_valid(p, &info);
  appc_aci_info_clear(&info);

  char *data = read_whole(p, &len);
  assert_ok(validate_dripped(data, len, &err), &err);
  gzip_file(p, pgz);
  expect_valid(pgz, &info);
  appc_aci_info_clear(&info);

  free(data);
  free(pgz);
  free(p);
  scratch_remove(dir);
}

/* A hard link with a size: libarchive 3.6 reads no data for it in a ustar
 * archive (its test for a ustar header after the link looks at the link's
 * own header), and reads the size's worth of data once it takes the archive
 * for pax (after any 'x' header).  Other readers never read data for a hard
 * link.  Either way a 'g' after it must not get through. */
static void test_validate_refuses_global_header_after_hardlink(void **state)
{
  char *dir = scratch_new();

  (void) state;
  for (int pax = 0; pax < 2; pax++) {
    char name[32];
    snprintf(name, sizeof name, "hardlink%d.aci", pax);
    char *p = hand_made(dir, name);
    struct tar_builder t;
    tar_begin(&t, p);
    tar_file(&t, "manifest", TEST_MANIFEST);
    tar_dir(&t, "rootfs");
    if (pax)
      tar_pax(&t, "path", "rootfs/y");
    tar_file(&t, "rootfs/y", "y");
    /* a size of one block, and no data written: the 'g' comes next */
    tar_add(&t, "rootfs/l", '1', "rootfs/y", NULL, 0, 512);
    long at = tar_pax_global(&t, "path", "rootfs/x");
    tar_file(&t, "rootfs/z", "z");
    tar_end(&t);
    if (!pax) /* libarchive reads the 'g' as a header */
      expect_global_refused(p, at);
    else /* libarchive reads the 'g' as the link's data */
      expect_invalid(p, "rootfs/l: a hard link with 512 bytes of data");
    free(p);
  }
  scratch_remove(dir);
}

/* A directory, symbolic link, device or FIFO given a size by a pax size=
 * record: libarchive reads that many bytes as its data, Python's tarfile
 * and Go's archive/tar (the reference's) none, taking them for the headers
 * after it, here an entry that only they would see.  Refused. */
static void test_validate_refuses_data_of_entries_without_any(void **state)
{
  static const struct {
    char type;
    const char *link, *kind;
  } kinds[] = {{'5', NULL, "a directory"},
               {'2', "y", "a symbolic link"},
               {'3', NULL, "a device"},
               {'6', NULL, "a FIFO"}};
  char *dir = scratch_new();

  (void) state;
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    char name[32], hidden[1024] = {0}, needle[96];
    snprintf(name, sizeof name, "sized%zu.aci", k);
    char *p = hand_made(dir, name);
    struct tar_builder t;
    tar_begin(&t, p);
    tar_file(&t, "manifest", TEST_MANIFEST);
    tar_dir(&t, "rootfs");
    tar_pax(&t, "size", "1024");
    /* its "data": a whole entry, header and data, that libarchive skips */
    tar_header((unsigned char *) hidden, false, "rootfs/hidden", '0', NULL, 3);
    memcpy(hidden + 512, "abc", 3);
    tar_add(&t, "rootfs/d", kinds[k].type, kinds[k].link, hidden, sizeof hidden, 0);
    tar_file(&t, "rootfs/after", "z");
    tar_end(&t);
    snprintf(needle, sizeof needle, "rootfs/d: %s with 1024 bytes of data", kinds[k].kind);
    expect_invalid(p, needle);
    free(p);
  }
  scratch_remove(dir);
}

/* A GNU volume header ('V') with a size: libarchive reads the next header
 * right after it, GNU tar and Python's tarfile skip its size first (here,
 * an entry only libarchive would see).  An ACI has no volume label:
 * refused, naming where it is. */
static void test_validate_refuses_volume_header(void **state)
{
  char *dir = scratch_new();
  char *p = hand_made(dir, "volume.aci");
  struct tar_builder t;
  char needle[96];

  (void) state;
  tar_begin(&t, p);
  tar_file(&t, "manifest", TEST_MANIFEST);
  tar_dir(&t, "rootfs");
  long at = ftell(t.f);
  tar_add(&t, "label", 'V', NULL, NULL, 0, 512);
  tar_file(&t, "rootfs/seen-by-libarchive-only", "z");
  tar_end(&t);
  snprintf(needle, sizeof needle, "a GNU volume header ('V') at byte %ld", at);
  expect_invalid(p, needle);
  free(p);
  scratch_remove(dir);
}

/* A 'g' after the last entry, just before the end-of-archive blocks,
 * applies to no entry in any reader: accepted. */
static void test_validate_accepts_trailing_global_header(void **state)
{
  char *dir = scratch_new();
  char *p = hand_made(dir, "trailing.aci");
  struct appc_aci_info info;
  struct tar_builder t;

  (void) state;
  tar_begin(&t, p);
  tar_file(&t, "manifest", TEST_MANIFEST);
  tar_dir(&t, "rootfs");
  tar_pax_global(&t, "path", "rootfs/x");
  tar_end(&t);
  expect_valid(p, &info);
  appc_aci_info_clear(&info);
  free(p);
  scratch_remove(dir);
}

/* Look-alikes are noted until the next entry: an entry whose data is
 * nothing but them, more than the limit, is refused rather than let the
 * notes grow without bound. */
static void test_validate_bounds_global_lookalikes(void **state)
{
  enum { LOOKALIKES = 65536 + 1 };
  char *dir = scratch_new();
  char *p = hand_made(dir, "lookalikes.aci");
  unsigned char *content = malloc((size_t) LOOKALIKES * 512);
  struct tar_builder t;

  (void) state;
  assert_non_null(content);
  tar_header(content, false, "pax_global_header", 'g', NULL, 0);
  for (size_t i = 1; i < LOOKALIKES; i++)
    memcpy(content + i * 512, content, 512);
  tar_begin(&t, p);
  tar_file(&t, "manifest", TEST_MANIFEST);
  tar_dir(&t, "rootfs");
  tar_add(&t, "rootfs/many", '0', NULL, content, (size_t) LOOKALIKES * 512,
          (unsigned long long) LOOKALIKES * 512);
  tar_end(&t);
  expect_invalid(p, "more than 65536 blocks that look like pax global headers");
  free(content);
  free(p);
  scratch_remove(dir);
}

/* ---- headers that name an entry ---- */

/* One pax record, KEY=VALUE (VLEN bytes, NULs and all), at OUT; its length. */
static size_t pax_record(char *out, size_t cap, const char *key, const char *value, size_t vlen)
{
  size_t body = strlen(key) + vlen + 3; /* " ", "=", "\n" */
  size_t len = body + 1;

  while (len != body + (size_t) snprintf(NULL, 0, "%zu", len))
    len = body + (size_t) snprintf(NULL, 0, "%zu", len);
  assert_true(len < cap);
  int head = snprintf(out, cap, "%zu %s=", len, key);
  memcpy(out + head, value, vlen);
  out[head + vlen] = '\n';
  return len;
}

/* A pax header of TYPE ('x', or Solaris's 'X') holding the records KV
 * (key, value pairs, a NULL key ending them); returns its offset. */
static long tar_pax_kv(struct tar_builder *t, char type, const char *const *kv)
{
  char body[2048];
  size_t len = 0;
  long at = ftell(t->f);

  for (; kv[0] != NULL; kv += 2)
    len += pax_record(body + len, sizeof body - len, kv[0], kv[1], strlen(kv[1]));
  tar_add(t, "PaxHeader", type, NULL, body, len, len);
  return at;
}

/* A pax extended header of one record whose value is the VLEN bytes of
 * VALUE; returns its offset. */
static long tar_pax_bytes(struct tar_builder *t, const char *key, const char *value, size_t vlen)
{
  char body[1024];
  size_t len = pax_record(body, sizeof body, key, value, vlen);
  long at = ftell(t->f);

  tar_add(t, "PaxHeader", 'x', NULL, body, len, len);
  return at;
}

/* A GNU long name ('L') or long link ('K') header giving NAME (NUL
 * terminated, as GNU tar writes it); returns its offset. */
static long tar_long(struct tar_builder *t, char type, const char *name)
{
  long at = ftell(t->f);

  tar_add(t, "././@LongLink", type, NULL, name, strlen(name) + 1, strlen(name) + 1);
  return at;
}

/* Two headers, each giving the same entry a name or a link target, which
 * tar readers resolve differently (below, what the reviewer saw). */
static void two_pax_then_long(struct tar_builder *t, long at[2])
{
  /* libarchive: rootfs/b; Go's archive/tar: etc/evil */
  at[0] = tar_pax_kv(t, 'x', (const char *[]){"path", "rootfs/b", NULL});
  at[1] = tar_long(t, 'L', "etc/evil");
  tar_file(t, "rootfs/a", "a");
}

static void two_long_then_pax(struct tar_builder *t, long at[2])
{
  /* libarchive: rootfs/b; GNU tar: etc/evil */
  at[0] = tar_long(t, 'L', "rootfs/b");
  at[1] = tar_pax_kv(t, 'x', (const char *[]){"path", "etc/evil", NULL});
  tar_file(t, "rootfs/a", "a");
}

static void two_longs(struct tar_builder *t, long at[2])
{
  /* libarchive: rootfs/b; Python's tarfile: etc/evil */
  at[0] = tar_long(t, 'L', "etc/evil");
  at[1] = tar_long(t, 'L', "rootfs/b");
  tar_file(t, "rootfs/a", "a");
}

static void two_links(struct tar_builder *t, long at[2])
{
  /* libarchive: a hard link to rootfs/a; Go: to ../../../../etc/shadow */
  tar_file(t, "rootfs/a", "a");
  at[0] = tar_pax_kv(t, 'x', (const char *[]){"linkpath", "rootfs/a", NULL});
  at[1] = tar_long(t, 'K', "../../../../etc/shadow");
  tar_add(t, "rootfs/h", '1', "rootfs/a", NULL, 0, 0);
}

static void two_long_links(struct tar_builder *t, long at[2])
{
  tar_file(t, "rootfs/a", "a");
  at[0] = tar_long(t, 'K', "rootfs/a");
  at[1] = tar_long(t, 'K', "../../../../etc/shadow");
  tar_add(t, "rootfs/h", '1', "rootfs/a", NULL, 0, 0);
}

static void two_names_in_one_pax(struct tar_builder *t, long at[2])
{
  /* Python's tarfile takes the last of the two records, the others the
   * GNU.sparse.name (GNU tar writes both for a sparse file in its 0.1
   * format, the path= a made-up one). */
  at[0] = at[1] =
      tar_pax_kv(t, 'x',
                 (const char *[]){"GNU.sparse.name", "rootfs/b", "GNU.sparse.map", "0,1", "path",
                                  "etc/evil", "GNU.sparse.size", "1", NULL});
  tar_file(t, "rootfs/a", "a");
}

static void two_pax_headers(struct tar_builder *t, long at[2])
{
  /* libarchive parses the second's body for both (one with records it
   * refuses: it cuts the records up in place as it parses them), so an
   * empty one hides the first's; Python's tarfile applies the first's:
   * etc/evil */
  at[0] = tar_pax_kv(t, 'x', (const char *[]){"path", "etc/evil", NULL});
  at[1] = ftell(t->f);
  tar_add(t, "PaxHeader", 'x', NULL, NULL, 0, 0);
  tar_file(t, "rootfs/a", "a");
}

static const struct {
  const char *name;
  void (*write)(struct tar_builder *t, long at[2]);
  const char *needle; /* a format taking the two offsets */
} stacked[] = {
    {"pax-then-L", two_pax_then_long,
     "rootfs/b: a pax path record at byte %ld and a GNU long name header ('L') at byte %ld both "
     "give its name: tar readers differ"},
    {"L-then-pax", two_long_then_pax,
     "rootfs/b: a GNU long name header ('L') at byte %ld and a pax path record at byte %ld both "
     "give its name"},
    {"L-then-L", two_longs,
     "rootfs/b: a GNU long name header ('L') at byte %ld and a GNU long name header ('L') at byte "
     "%ld both give its name"},
    {"linkpath-then-K", two_links,
     "rootfs/h: a pax linkpath record at byte %ld and a GNU long link header ('K') at byte %ld "
     "both give its link target"},
    {"K-then-K", two_long_links,
     "rootfs/h: a GNU long link header ('K') at byte %ld and a GNU long link header ('K') at byte "
     "%ld both give its link target"},
    {"sparse-name-and-path", two_names_in_one_pax,
     "rootfs/b: a pax path record at byte %ld and a pax GNU.sparse.name record at byte %ld both "
     "give its name"},
    {"two-pax", two_pax_headers,
     "rootfs/a: two pax extended headers ('x'), at bytes %ld and %ld: tar readers differ on "
     "whose records apply"},
};

/* Make stacked[K]'s archive in DIR; its needle in NEEDLE. */
static char *stacked_aci(const char *dir, size_t k, char needle[256])
{
  char name[64];
  struct tar_builder t;
  long at[2];

  snprintf(name, sizeof name, "%s.aci", stacked[k].name);
  char *p = hand_made(dir, name);
  tar_begin(&t, p);
  tar_file(&t, "manifest", TEST_MANIFEST);
  tar_dir(&t, "rootfs");
  stacked[k].write(&t, at);
  tar_end(&t);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  snprintf(needle, 256, stacked[k].needle, at[0], at[1]);
#pragma GCC diagnostic pop
  return p;
}

static void test_validate_refuses_two_name_headers(void **state)
{
  char *dir = scratch_new();

  (void) state;
  for (size_t k = 0; k < sizeof stacked / sizeof stacked[0]; k++) {
    char needle[256], gz[64];
    appc_error_t err = NULL;
    size_t len;
    char *p = stacked_aci(dir, k, needle);
    expect_invalid(p, needle);
    /* 7 bytes at a time: the bodies reach the reader in pieces */
    char *data = read_whole(p, &len);
    assert_error_contains(validate_dripped(data, len, &err), &err, needle);
    snprintf(gz, sizeof gz, "%s.gz", stacked[k].name);
    char *pgz = hand_made(dir, gz);
    gzip_file(p, pgz);
    expect_invalid(pgz, needle);
    free(pgz);
    free(data);
    free(p);
  }
  scratch_remove(dir);
}

/* patch-manifest reads the image with the same reader: it refuses too,
 * writing nothing. */
static void test_rewrite_refuses_two_name_headers(void **state)
{
  char *dir = scratch_new();
  char needle[256];
  char *p = stacked_aci(dir, 0, needle);
  char *out = path_join(dir, "out.aci");
  struct appc_build_options o = opts_with(APPC_COMPRESSION_NONE);
  char id[APPC_IMAGE_ID_LEN + 1];
  appc_error_t err = NULL;
  struct stat st;

  (void) state;
  assert_error_contains(
      appc_aci_rewrite_manifest(p, out, TEST_MANIFEST, strlen(TEST_MANIFEST), &o, id, &err), &err,
      needle);
  assert_int_equal(stat(out, &st), -1);
  free(out);
  free(p);
  scratch_remove(dir);
}

/* Name records that libarchive reads otherwise than other readers. */
static void test_validate_refuses_unclear_pax_names(void **state)
{
  static const char nul_path[] = "rootfs/b\0/../../../etc/evil";
  static const char *const unmarked[] = {"GNU.sparse.name", "rootfs/b", NULL};
  char *dir = scratch_new();

  (void) state;
  for (int k = 0; k < 7; k++) {
    char name[32], needle[256];
    struct tar_builder t;
    long at;
    snprintf(name, sizeof name, "unclear%d.aci", k);
    char *p = hand_made(dir, name);
    tar_begin(&t, p);
    tar_file(&t, "manifest", TEST_MANIFEST);
    tar_dir(&t, "rootfs");
    tar_file(&t, "rootfs/a", "a");
    switch (k) {
    case 0: /* libarchive and GNU tar: rootfs/b; Python: all of it; Go: refused */
      at = tar_pax_bytes(&t, "path", nul_path, sizeof nul_path - 1);
      tar_file(&t, "rootfs/c", "c");
      snprintf(needle, sizeof needle,
               "rootfs/b: a pax path record at byte %ld holds a NUL byte: libarchive and GNU "
               "tar cut the value there",
               at);
      break;
    case 1:
      at = tar_pax_bytes(&t, "linkpath", nul_path, sizeof nul_path - 1);
      tar_add(&t, "rootfs/h", '1', "rootfs/a", NULL, 0, 0);
      snprintf(needle, sizeof needle, "rootfs/h: a pax linkpath record at byte %ld holds a NUL",
               at);
      break;
    case 2: /* libarchive: rootfs/c; Python: an empty name; GNU tar: "." */
      at = tar_pax_bytes(&t, "path", "", 0);
      tar_file(&t, "rootfs/c", "c");
      snprintf(needle, sizeof needle,
               "rootfs/c: a pax path record at byte %ld is empty: libarchive ignores it", at);
      break;
    case 3: /* libarchive: rootfs/b; Go: etc/evil, the entry not being sparse */
      at = tar_pax_kv(&t, 'x', unmarked);
      tar_file(&t, "etc/evil", "c");
      snprintf(needle, sizeof needle,
               "rootfs/b: a pax GNU.sparse.name record at byte %ld without GNU.sparse.major=1 "
               "and GNU.sparse.minor=0 or a GNU.sparse.map",
               at);
      break;
    case 4: /* libarchive and Python: an empty link; Go: the header's */
      at = tar_long(&t, 'K', "");
      tar_add(&t, "rootfs/s", '2', "../../../../etc/shadow", NULL, 0, 0);
      snprintf(needle, sizeof needle,
               "rootfs/s: a GNU long link header ('K') at byte %ld with an empty name", at);
      break;
    case 5: /* the same for a name, given by a header with no body at all */
      at = ftell(t.f);
      tar_add(&t, "././@LongLink", 'L', NULL, NULL, 0, 0);
      tar_file(&t, "rootfs/c", "c");
      snprintf(needle, sizeof needle, "a GNU long name header ('L') at byte %ld with an empty name",
               at);
      break;
    default: /* a body cut short: libarchive refuses it, whatever says why */
      at = ftell(t.f);
      tar_add(&t, "PaxHeader", 'x', NULL, "17 path=rootfs/b", 16, 16);
      tar_file(&t, "rootfs/c", "c");
      snprintf(needle, sizeof needle, "malformed pax");
      break;
    }
    tar_end(&t);
    expect_invalid(p, needle);
    free(p);
  }
  scratch_remove(dir);
}

/* Solaris's pax ('X') and ACL ('A') headers apply to the next entry in
 * libarchive; Go's archive/tar (and, for 'A', GNU tar and Python's tarfile)
 * read them as entries of their own: here etc/evil. */
static void test_validate_refuses_solaris_headers(void **state)
{
  static const char acl[] = "01000003\0user::rw-,group::r--,other::r--";
  char *dir = scratch_new();

  (void) state;
  for (int k = 0; k < 2; k++) {
    char name[32], needle[256];
    struct tar_builder t;
    char *p;
    snprintf(name, sizeof name, "solaris%d.aci", k);
    p = hand_made(dir, name);
    tar_begin(&t, p);
    tar_file(&t, "manifest", TEST_MANIFEST);
    tar_dir(&t, "rootfs");
    long at = ftell(t.f);
    if (k == 0) {
      tar_pax_kv(&t, 'X', (const char *[]){"path", "rootfs/b", NULL});
      tar_file(&t, "etc/evil", "e");
    } else {
      tar_add(&t, "etc/evil", 'A', NULL, acl, sizeof acl, sizeof acl);
      tar_file(&t, "rootfs/b", "b");
    }
    tar_end(&t);
    snprintf(needle, sizeof needle,
             "a Solaris %s header ('%c') at byte %ld: libarchive applies it to the next entry, "
             "Go's archive/tar (the reference's) reads it as an entry of its own",
             k == 0 ? "pax" : "ACL", k == 0 ? 'X' : 'A', at);
    expect_invalid(p, needle);
    free(p);
  }
  scratch_remove(dir);
}

/* What writers make stays valid: one 'L' (GNU tar, Python and Go in GNU
 * format), one pax path= (pax writers) among other records, a long link
 * beside a pax name, a GNU sparse file in the 1.0 format, many pax headers
 * in one read, and look-alikes in a file's data. */
static void test_validate_accepts_single_name_headers(void **state)
{
  static const char sparse_map[] = "1\n1024\n1\n";
  char *dir = scratch_new();
  char *p = hand_made(dir, "single.aci"), *pgz = hand_made(dir, "single-gz.aci");
  char long_name[300] = "rootfs/", data[8 * 512], map[513] = {0};
  struct appc_aci_info info;
  appc_error_t err = NULL;
  struct tar_builder t;
  size_t len;

  (void) state;
  memset(long_name + 7, 'l', 250);
  tar_begin(&t, p);
  tar_file(&t, "manifest", TEST_MANIFEST);
  tar_dir(&t, "rootfs");
  tar_long(&t, 'L', long_name);
  tar_file(&t, "rootfs/truncated-name", "l");
  long_name[7] = 'p';
  tar_pax_kv(&t, 'x',
             (const char *[]){"mtime", "1500000000.5", "path", long_name, "SCHILY.xattr.user.a",
                              "1", "LIBARCHIVE.xattr.user.b", "Mg", "hdrcharset", "BINARY", NULL});
  tar_file(&t, "rootfs/p", "p");
  /* an 'x' of other records and an 'L': one name */
  long_name[7] = 'q';
  tar_long(&t, 'L', long_name);
  tar_pax_kv(&t, 'x', (const char *[]){"mtime", "1", "SCHILY.xattr.user.a", "1", NULL});
  tar_file(&t, "rootfs/q", "q");
  /* a hard link named by pax, its target by a 'K' */
  tar_file(&t, "rootfs/plain", "p");
  tar_pax_kv(&t, 'x', (const char *[]){"path", "rootfs/hard", NULL});
  tar_long(&t, 'K', "rootfs/plain");
  tar_add(&t, "rootfs/h", '1', "rootfs/x", NULL, 0, 0);
  /* GNU tar's sparse 1.0: the real name in GNU.sparse.name, its map first
   * in the data */
  tar_pax_kv(&t, 'x',
             (const char *[]){"GNU.sparse.major", "1", "GNU.sparse.minor", "0", "GNU.sparse.name",
                              "rootfs/sparse", "GNU.sparse.realsize", "4096", NULL});
  memcpy(map, sparse_map, sizeof sparse_map - 1);
  map[512] = 'z';
  tar_add(&t, "rootfs/GNUSparseFile.0/sparse", '0', NULL, map, 513, 513);
  /* twenty pax headers within one read of the file */
  for (int i = 0; i < 20; i++) {
    char name[32];
    snprintf(name, sizeof name, "rootfs/many-%02d", i);
    tar_pax_kv(&t, 'x', (const char *[]){"path", name, NULL});
    tar_file(&t, "rootfs/m", "m");
  }
  /* data holding an 'x' and an 'L' that claim the blocks after them,
   * into the headers of the next entry: data, which means nothing */
  memset(data, 'd', sizeof data);
  tar_header((unsigned char *) data + 1024, false, "PaxHeader", 'x', NULL, 4096);
  tar_header((unsigned char *) data + 2048, false, "././@LongLink", 'L', NULL, 2048);
  tar_header((unsigned char *) data + 3072, false, "././@LongLink", 'K', NULL, 100);
  tar_add(&t, "rootfs/inner.tar", '0', NULL, data, sizeof data, sizeof data);
  tar_pax_kv(&t, 'x', (const char *[]){"path", "rootfs/after-data", NULL});
  tar_file(&t, "rootfs/after", "a");
  tar_end(&t);
  expect_valid(p, &info);
  appc_aci_info_clear(&info);
  char *bytes = read_whole(p, &len);
  assert_ok(validate_dripped(bytes, len, &err), &err);
  gzip_file(p, pgz);
  expect_valid(pgz, &info);
  appc_aci_info_clear(&info);
  free(bytes);
  free(pgz);
  free(p);
  scratch_remove(dir);
}

/* The records are cut as libarchive cuts them, whatever the pieces they
 * come in. */
static void test_pax_scan(void **state)
{
  static const struct {
    const char *body;
    bool read;
    int paths, links, names;
    uint8_t bad;
  } cases[] = {
      {"", true, 0, 0, 0, 0},
      {"17 path=rootfs/b\n", true, 1, 0, 0, 0},
      {"17 path=rootfs/b\n17 path=rootfs/c\n", true, 1, 0, 0, 0},
      {"8 path=\n", true, 1, 0, 0, APPC_PAX_PATH},
      {"18 linkpath=a=b\nc\n11 paths=x\n", true, 0, 1, 0, 0},
      {"21 GNU.sparse.name=x\n", true, 0, 0, 1, 0},
      {"17 path=rootfs/b\n", true, 1, 0, 0, 0},
      {"17 path=rootfs/b", false, 0, 0, 0, 0},    /* no newline */
      {"16 path=rootfs/b\n", false, 0, 0, 0, 0},  /* a length one short */
      {"18 path=rootfs/b\n\n", true, 1, 0, 0, 0}, /* a value ending in a newline */
      {"6 =ab\n", false, 0, 0, 0, 0},             /* no key */
      {"6 abc\n", false, 0, 0, 0, 0},             /* no '=' */
      {"1000000 a=b\n", false, 0, 0, 0, 0},       /* over libarchive's limit */
      {"x path=a\n", false, 0, 0, 0, 0},
  };

  (void) state;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const unsigned char *body = (const unsigned char *) cases[k].body;
    size_t n = strlen(cases[k].body);
    for (size_t piece = 1; piece <= n + 1; piece++) {
      struct appc_pax_scan s;
      appc_pax_scan_start(&s);
      for (size_t pos = 0; pos < n; pos += piece)
        appc_pax_scan_feed(&s, body + pos, n - pos < piece ? n - pos : piece);
      struct appc_pax_result res = appc_pax_scan_end(&s);
      if (res.read != cases[k].read || res.has[APPC_PAX_PATH] != cases[k].paths ||
          res.has[APPC_PAX_LINKPATH] != cases[k].links ||
          res.has[APPC_PAX_SPARSE_NAME] != cases[k].names || res.bad != cases[k].bad)
        fail_msg("\"%s\" in pieces of %zu: read %d, %d path, %d linkpath, %d sparse name, bad %d",
                 cases[k].body, piece, res.read, res.has[APPC_PAX_PATH], res.has[APPC_PAX_LINKPATH],
                 res.has[APPC_PAX_SPARSE_NAME], res.bad);
    }
  }
}

/* Extension header look-alikes in a file's data are noted until the next
 * entry: past the limit, refused.  (Gzipped: 128 MiB of tar.) */
static void test_validate_bounds_extension_lookalikes(void **state)
{
  enum { LOOKALIKES = (1 << 18) + 1 };
  char *dir = scratch_new();
  char *p = hand_made(dir, "ext-lookalikes.aci");
  unsigned char block[512], head[3 * 512];
  gzFile gz = gzopen(p, "wb1");
  FILE *mem;
  char *buf = NULL;
  size_t len = 0;

  (void) state;
  assert_non_null(gz);
  mem = open_memstream(&buf, &len);
  assert_non_null(mem);
  struct tar_builder t = {.f = mem};
  tar_file(&t, "manifest", TEST_MANIFEST);
  tar_dir(&t, "rootfs");
  tar_header(head, false, "rootfs/many", '0', NULL, (unsigned long long) LOOKALIKES * 512);
  assert_int_equal(fwrite(head, 1, 512, mem), 512);
  assert_int_equal(fclose(mem), 0);
  assert_int_equal(gzwrite(gz, buf, (unsigned) len), (int) len);
  tar_header(block, false, "././@LongLink", 'L', NULL, 0);
  for (size_t i = 0; i < LOOKALIKES; i++)
    assert_int_equal(gzwrite(gz, block, sizeof block), (int) sizeof block);
  memset(head, 0, sizeof head);
  assert_int_equal(gzwrite(gz, head, 1024), 1024);
  assert_int_equal(gzclose(gz), Z_OK);
  expect_invalid(p, "more than 262144 blocks that look like tar extension headers");
  free(buf);
  free(p);
  scratch_remove(dir);
}

static void test_validate_accepts_reference_variants(void **state)
{
  char *dir = scratch_new();
  struct tar_builder t;
  struct appc_aci_info info;

  /* "./" prefixes, a "." entry and the manifest last, as the reference
   * accepts. */
  char *p = hand_made(dir, "dot.aci");
  tar_begin(&t, p);
  tar_dir(&t, "./");
  tar_dir(&t, "./rootfs/");
  tar_file(&t, "./rootfs/x", "x");
  tar_file(&t, "./manifest", TEST_MANIFEST);
  tar_end(&t);
  expect_valid(p, &info);
  char expect[APPC_IMAGE_ID_LEN + 1];
  sha512_of_gunzipped(p, expect);
  assert_string_equal(info.image_id, expect);
  assert_int_equal(info.compression, APPC_COMPRESSION_NONE);
  appc_aci_info_clear(&info);
  free(p);
  scratch_remove(dir);
}

/* A tar without "ustar" magic (GNU tar --format=v7) is a tar all the same:
 * accepted uncompressed as it is inside gzip, with the same ID. */
static void test_validate_accepts_pre_posix_tar(void **state)
{
  char *dir = scratch_new();
  struct tar_builder t;
  struct appc_aci_info plain, gz;
  char *p = hand_made(dir, "v7.aci"), *pgz = hand_made(dir, "v7gz.aci");
  size_t len;
  char *data = NULL;
  appc_error_t err = NULL;

  tar_begin(&t, p);
  t.v7 = true;
  tar_dir(&t, "rootfs");
  tar_file(&t, "rootfs/x", "x");
  tar_file(&t, "manifest", TEST_MANIFEST);
  tar_end(&t);
  assert_int_equal(appc_read_file_at(AT_FDCWD, p, 1 << 20, 0, &data, &len, &err), 0);
  gzFile z = gzopen(pgz, "wb");
  assert_non_null(z);
  assert_int_equal(gzwrite(z, data, (unsigned) len), (int) len);
  assert_int_equal(gzclose(z), Z_OK);

  expect_valid(p, &plain);
  assert_int_equal(plain.compression, APPC_COMPRESSION_NONE);
  expect_valid(pgz, &gz);
  assert_int_equal(gz.compression, APPC_COMPRESSION_GZIP);
  assert_string_equal(plain.image_id, gz.image_id);
  assert_true(plain.uncompressed_size == len);
  appc_aci_info_clear(&plain);
  appc_aci_info_clear(&gz);
  free(data);
  free(p);
  free(pgz);
  scratch_remove(dir);
}

/* Detection by content: magic numbers, "ustar", or a tar header's checksum
 * (as unsigned or, as old writers summed, signed bytes); nothing else. */
static void test_compression_detect(void **state)
{
  unsigned char h[512] = {0};
  enum appc_compression c;
  unsigned usum = 0;
  int ssum = 0;

  assert_int_equal(appc_compression_detect("\x1f\x8b\x08", 3, &c), 0);
  assert_int_equal(c, APPC_COMPRESSION_GZIP);
  assert_int_equal(appc_compression_detect("BZh9", 4, &c), 0);
  assert_int_equal(c, APPC_COMPRESSION_BZIP2);
  assert_int_equal(appc_compression_detect("\xfd"
                                           "7zXZ\0",
                                           6, &c),
                   0);
  assert_int_equal(c, APPC_COMPRESSION_XZ);
  assert_int_equal(appc_compression_detect(h, sizeof h, &c), -1); /* zeros: no checksum */
  assert_int_equal(appc_compression_detect("{\"acKind\": 1}", 13, &c), -1);

  /* a v7 header: name, mode, a name byte above 127 for the signed sum */
  memcpy(h, "rootfs/\xe9", 8);
  memcpy(h + 100, "0000755", 7);
  h[156] = '5';
  memset(h + 148, ' ', 8);
  for (size_t i = 0; i < sizeof h; i++) {
    usum += h[i];
    ssum += (signed char) h[i];
  }
  snprintf((char *) h + 148, 8, "%06o", usum);
  assert_int_equal(appc_compression_detect(h, sizeof h, &c), 0);
  assert_int_equal(c, APPC_COMPRESSION_NONE);
  assert_int_equal(appc_compression_detect(h, 511, &c), -1); /* a block is 512 */
  snprintf((char *) h + 148, 8, "%06o", (unsigned) ssum);
  assert_int_equal(appc_compression_detect(h, sizeof h, &c), 0);
  snprintf((char *) h + 148, 8, "%06o", usum + 1);
  assert_int_equal(appc_compression_detect(h, sizeof h, &c), -1);
  memcpy(h + 148, "12x4567", 8); /* not a number */
  assert_int_equal(appc_compression_detect(h, sizeof h, &c), -1);
  /* the POSIX magic is enough, whatever the checksum */
  memcpy(h + 257, "ustar", 6);
  assert_int_equal(appc_compression_detect(h, sizeof h, &c), 0);
  assert_int_equal(c, APPC_COMPRESSION_NONE);
}

struct bad_case {
  const char *name;
  const char *needle;
};

static void write_bad_case(const char *path, int which)
{
  struct tar_builder t;
  tar_begin(&t, path);
  switch (which) {
  case 0: /* extra top-level entry */
    tar_file(&t, "manifest", TEST_MANIFEST);
    tar_dir(&t, "rootfs");
    tar_file(&t, "extra", "x");
    break;
  case 1: /* missing manifest */
    tar_dir(&t, "rootfs");
    tar_file(&t, "rootfs/x", "x");
    break;
  case 2: /* missing rootfs (even with entries under it) */
    tar_file(&t, "manifest", TEST_MANIFEST);
    tar_file(&t, "rootfs/x", "x");
    break;
  case 3: /* duplicate entry */
    tar_file(&t, "manifest", TEST_MANIFEST);
    tar_dir(&t, "rootfs");
    tar_file(&t, "rootfs/x", "x");
    tar_file(&t, "./rootfs/x", "y");
    break;
  case 4: /* .. component */
    tar_file(&t, "manifest", TEST_MANIFEST);
    tar_dir(&t, "rootfs");
    tar_file(&t, "rootfs/../rootfs/x", "x");
    break;
  case 5: /* absolute path */
    tar_file(&t, "manifest", TEST_MANIFEST);
    tar_dir(&t, "rootfs");
    tar_file(&t, "/rootfs/x", "x");
    break;
  case 6: /* manifest is a directory */
    tar_dir(&t, "manifest");
    tar_dir(&t, "rootfs");
    break;
  case 7: /* rootfs is a file */
    tar_file(&t, "manifest", TEST_MANIFEST);
    tar_file(&t, "rootfs", "x");
    break;
  case 8: /* invalid manifest */
    tar_file(&t, "manifest", "{\"acKind\":\"ImageManifest\"}");
    tar_dir(&t, "rootfs");
    break;
  case 9: /* hard link out of rootfs */
    tar_file(&t, "manifest", TEST_MANIFEST);
    tar_dir(&t, "rootfs");
    tar_add(&t, "rootfs/l", '1', "manifest", NULL, 0, 0);
    break;
  case 10: /* duplicate manifest */
    tar_file(&t, "manifest", TEST_MANIFEST);
    tar_dir(&t, "rootfs");
    tar_file(&t, "manifest", TEST_MANIFEST);
    break;
  case 11: { /* a component longer than NAME_MAX, in a path well below PATH_MAX */
    char name[300] = "rootfs/";
    memset(name + 7, 'a', 256);
    tar_file(&t, "manifest", TEST_MANIFEST);
    tar_dir(&t, "rootfs");
    tar_pax(&t, "path", name);
    tar_file(&t, "rootfs/short", "x");
    break;
  }
  case 12: /* a uid of -1 ("leave unchanged" to chown) */
  case 13: /* a gid of 2^32 - 1, the same */
    tar_file(&t, "manifest", TEST_MANIFEST);
    tar_dir(&t, "rootfs");
    tar_pax(&t, which == 12 ? "uid" : "gid", which == 12 ? "-1" : "4294967295");
    tar_file(&t, "rootfs/owned", "x");
    break;
  }
  tar_end(&t);
}

static void test_validate_rejects(void **state)
{
  static const struct bad_case cases[] = {
      {"extra.aci", "extra: unexpected entry outside rootfs"},
      {"nomanifest.aci", "no manifest"},
      {"norootfs.aci", "no rootfs"},
      {"dup.aci", "rootfs/x: duplicate entry"},
      {"dotdot.aci", "rootfs/../rootfs/x: path escapes the image"},
      {"abs.aci", "/rootfs/x: absolute path"},
      {"manifestdir.aci", "manifest: not a regular file"},
      {"rootfsfile.aci", "rootfs: not a directory"},
      {"badmanifest.aci", "manifest: "},
      {"linkout.aci", "rootfs/l: hard link to manifest, outside rootfs"},
      {"dupmanifest.aci", "manifest: duplicate entry"},
      {"longcomponent.aci", "a name with a component of 256 bytes, longer than a file name can be "
                            "(255)"},
      {"uid.aci", "rootfs/owned: owner -1:0 out of range (0 to 4294967294)"},
      {"gid.aci", "rootfs/owned: owner 0:4294967295 out of range (0 to 4294967294)"},
  };
  char *dir = scratch_new();

  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    char *p = hand_made(dir, cases[i].name);
    write_bad_case(p, (int) i);
    expect_invalid(p, cases[i].needle);
    free(p);
  }
  /* the limits themselves: a component of 255 bytes, owner 2^32 - 2 */
  char name[300] = "rootfs/";
  memset(name + 7, 'a', 255);
  struct tar_builder t;
  char *p = hand_made(dir, "limits.aci");
  tar_begin(&t, p);
  tar_file(&t, "manifest", TEST_MANIFEST);
  tar_dir(&t, "rootfs");
  tar_pax(&t, "path", name);
  tar_file(&t, "rootfs/short", "x");
  tar_pax(&t, "uid", "4294967294");
  tar_file(&t, "rootfs/owned", "x");
  tar_end(&t);
  struct appc_aci_info info;
  expect_valid(p, &info);
  appc_aci_info_clear(&info);
  free(p);
  scratch_remove(dir);
}

static void test_validate_rejects_damaged_files(void **state)
{
  char *dir = scratch_new();
  char *layout = rich_layout(dir);
  char id[APPC_IMAGE_ID_LEN + 1];
  struct appc_build_options o = opts_with(APPC_COMPRESSION_GZIP);
  char *rootfs = path_join(layout, "rootfs");
  size_t big = 3u * 1024 * 1024, len;
  char *data = malloc(big);

  for (size_t i = 0; i < big; i++)
    data[i] = (char) ((i * 2654435761u) >> 11);
  write_file(rootfs, "data", data, big);
  char *out = build_ok(layout, dir, "ok.aci", &o, id);
  char *bytes = read_whole(out, &len);
  /* truncated, compressed */
  write_file(dir, "trunc.aci", bytes, len / 2);
  char *p = path_join(dir, "trunc.aci");
  expect_invalid(p, "runcated");
  free(p);
  /* truncated, uncompressed, inside file data */
  o.compression = APPC_COMPRESSION_NONE;
  char *plain = build_ok(layout, dir, "plain.aci", &o, id);
  free(bytes);
  bytes = read_whole(plain, &len);
  write_file(dir, "trunc.tar", bytes, len / 2);
  p = path_join(dir, "trunc.tar");
  expect_invalid(p, "runcated");
  free(p);
  /* a corrupt header checksum */
  bytes[0] ^= 0x55;
  write_file(dir, "badhdr.tar", bytes, len);
  p = path_join(dir, "badhdr.tar");
  expect_invalid(p, "tar");
  free(p);
  /* garbage and empty */
  write_file(dir, "garbage", data, 4096);
  p = path_join(dir, "garbage");
  expect_invalid(p, "not an ACI");
  free(p);
  write_file(dir, "empty", "", 0);
  p = path_join(dir, "empty");
  expect_invalid(p, "empty");
  free(p);
  /* gzip magic, then nonsense */
  write_file(dir, "badgz", "\x1f\x8b\x08\x00garbagegarbagegarbage", 25);
  p = path_join(dir, "badgz");
  expect_invalid(p, "gzip");
  free(p);
  p = path_join(dir, "missing");
  expect_invalid(p, "No such file");
  free(p);
  free(plain);
  free(bytes);
  free(data);
  free(out);
  free(rootfs);
  free(layout);
  scratch_remove(dir);
}

static void test_validate_rejects_oversized_manifest(void **state)
{
  char *dir = scratch_new();
  char *p = path_join(dir, "huge.aci");
  struct tar_builder t;
  char *m;
  size_t mlen = 17u * 1024 * 1024;
  char *out = NULL;
  size_t len = 0;
  appc_error_t err = NULL;

  /* The declared size alone must be enough to refuse: the data is not
   * even there. */
  tar_begin(&t, p);
  tar_add(&t, "manifest", '0', NULL, NULL, 0, mlen);
  tar_end(&t);
  expect_invalid(p, "limit");
  int r = appc_aci_read_manifest(p, &out, &len, &err);
  assert_error_contains(r, &err, "limit");
  /* And a real one, for the layout reader. */
  char *layout = make_layout(dir);
  m = malloc(mlen);
  memset(m, ' ', mlen);
  write_file(layout, "manifest", m, mlen);
  r = appc_layout_validate(layout, NULL, &err);
  assert_error_contains(r, &err, "limit");
  free(m);
  free(layout);
  free(p);
  scratch_remove(dir);
}

/* ---- gzip streams from other compressors ---- */

/* A small valid ACI as a plain tar file at PATH: a manifest, rootfs and a
 * 300,000-byte file, so that 100,000-byte members cut through headers and
 * data alike.  Returns the tar's bytes (caller frees). */
static unsigned char *plain_aci(const char *path, size_t *len)
{
  struct tar_builder t;
  size_t big = 300000;
  char *data = malloc(big);

  assert_non_null(data);
  for (size_t i = 0; i < big; i++)
    data[i] = (char) ('a' + (i * 2654435761u >> 17) % 7);
  tar_begin(&t, path);
  tar_file(&t, "manifest", TEST_MANIFEST);
  tar_dir(&t, "rootfs");
  tar_add(&t, "rootfs/data", '0', NULL, data, big, big);
  tar_end(&t);
  free(data);
  return (unsigned char *) read_whole(path, len);
}

/* One gzip member of N bytes of DATA at OUT, with zlib; SIZED: with the
 * header of our builder's members, which states the member's length. */
static size_t gzip_member(const unsigned char *data, size_t n, int level, bool sized,
                          unsigned char *out, size_t cap)
{
  size_t hdr = sized ? APPC_GZSIZED_HEADER_LEN : 0, total;
  z_stream zs = {0};

  assert_true(cap > hdr + 8);
  assert_int_equal(
      deflateInit2(&zs, level, Z_DEFLATED, sized ? -15 : 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  zs.next_in = (unsigned char *) data;
  zs.avail_in = (uInt) n;
  zs.next_out = out + hdr;
  zs.avail_out = (uInt) (cap - hdr - 8);
  assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
  total = hdr + zs.total_out;
  deflateEnd(&zs);
  if (sized) {
    total += 8;
    appc_gzsized_header(out, (uint32_t) total);
    appc_gzsized_trailer(out + total - 8, (uint32_t) crc32(0, data, (uInt) n), (uint32_t) n);
  }
  return total;
}

/* Compress DATA as one gzip member per MEMBER bytes (plus an empty member
 * after the first), recording where each member starts in OFFS. */
static unsigned char *gzip_members(const unsigned char *data, size_t len, size_t member, int level,
                                   bool sized, size_t *out_len, size_t offs[], size_t max_offs,
                                   size_t *nmemb)
{
  size_t cap = len + len / 10 + 4096 * (len / member + 2), used = 0, k = 0;
  unsigned char *out = malloc(cap);

  assert_non_null(out);
  for (size_t pos = 0; pos < len || k < 2; k++) {
    size_t n = k == 1 ? 0 : (len - pos < member ? len - pos : member);
    assert_true(k < max_offs);
    offs[k] = used;
    used += gzip_member(data + pos, n, level, sized, out + used, cap - used);
    pos += n;
  }
  *nmemb = k;
  *out_len = used;
  return out;
}

/* Read the whole of PATH with the internal reader, skipping entries with
 * appc_tar_reader_skip; the error must contain NEEDLE.  validate.c skips
 * with archive_read_data_skip(), whose message libarchive replaces with
 * "Truncated input file", so through appc_aci_validate only "runcated" or
 * "corrupt" can be relied on when the damage lies inside an entry's data. */
static int read_through(const char *path, struct appc_tee *tee, char id[APPC_IMAGE_ID_LEN + 1],
                        appc_error_t *err)
{
  struct appc_tar_reader *r = NULL;
  struct archive_entry *e;
  int ret = appc_tar_reader_open_tee(&r, path, true, tee, err);

  while (ret == 0) {
    ret = appc_tar_reader_next(r, &e, err);
    if (ret == 0)
      ret = appc_tar_reader_finish(r, id, NULL, err) < 0 ? -1 : 1;
    else if (ret > 0)
      ret = appc_tar_reader_skip(r, archive_entry_pathname(e), err);
  }
  appc_tar_reader_free(r);
  return ret;
}

static void expect_read_error(const char *path, const char *needle)
{
  appc_error_t err = NULL;
  char id[APPC_IMAGE_ID_LEN + 1];
  int ret = read_through(path, NULL, id, &err);

  assert_true(ret < 0);
  assert_error_contains(ret, &err, needle);
}

/* Both validation and the reader must fail, the reader with NEEDLE. */
static void expect_gzip_error(const char *path, const char *needle)
{
  expect_invalid(path, strstr(needle, "runcated") != NULL ? "runcated" : "corrupt");
  expect_read_error(path, needle);
}

static void expect_id(const char *path, const char *plain)
{
  char expect[APPC_IMAGE_ID_LEN + 1];
  struct appc_aci_info info;

  sha512_of_gunzipped(plain, expect);
  expect_valid(path, &info);
  assert_int_equal(info.compression, APPC_COMPRESSION_GZIP);
  assert_string_equal(info.image_id, expect);
  assert_memory_equal(info.manifest_json, TEST_MANIFEST, strlen(TEST_MANIFEST));
  appc_aci_info_clear(&info);
}

/* The rules for a stream of gzip members; SIZED: members of our builder's
 * kind, which the reader inflates in parallel, and for which it must come to
 * exactly the same verdicts. */
static void check_gzip_members(bool sized)
{
  char *dir = scratch_new();
  char *plain = path_join(dir, "plain.tar"), *p = path_join(dir, "g.aci");
  size_t len, glen, offs[16], n, hdr = sized ? APPC_GZSIZED_HEADER_LEN : 10;
  unsigned char *tar = plain_aci(plain, &len);
  unsigned char *gz = gzip_members(tar, len, 100000, 6, sized, &glen, offs, 16, &n);

  assert_true(n >= 4);
  write_file(dir, "g.aci", gz, glen);
  expect_id(p, plain);

  /* Trailing bytes that do not start a member are ignored, as libarchive
   * and gzip do (zero padding, or any garbage). */
  unsigned char *more = malloc(glen + 4096);
  assert_non_null(more);
  memcpy(more, gz, glen);
  memset(more + glen, 0, 4096);
  write_file(dir, "g.aci", more, glen + 4096);
  expect_id(p, plain);
  memcpy(more + glen, "garbage\n", 8);
  write_file(dir, "g.aci", more, glen + 8);
  expect_id(p, plain);
  more[glen] = 0x1f; /* a lone first magic byte is garbage too */
  write_file(dir, "g.aci", more, glen + 1);
  expect_id(p, plain);
  /* ... but what starts with the magic is a member and must be valid. */
  memcpy(more + glen, "\x1f\x8b\x08\x00garbage garbage garbage", 27);
  write_file(dir, "g.aci", more, glen + 27);
  expect_gzip_error(p, "corrupt gzip data");
  memcpy(more + glen, "\x1f\x8b", 2);
  write_file(dir, "g.aci", more, glen + 2);
  expect_gzip_error(p, "truncated gzip stream");

  /* Each member's trailer is checked: CRC-32 and length. */
  size_t end2 = offs[3]; /* the second non-empty member ends here */
  memcpy(more, gz, glen);
  more[end2 - 8] ^= 1;
  write_file(dir, "g.aci", more, glen);
  expect_gzip_error(p, "CRC-32 or length mismatch");
  memcpy(more, gz, glen);
  more[end2 - 2] ^= 1;
  write_file(dir, "g.aci", more, glen);
  expect_gzip_error(p, "CRC-32 or length mismatch");
  /* So is the last one, after the tar's end marker. */
  memcpy(more, gz, glen);
  more[glen - 5] ^= 0x40;
  write_file(dir, "g.aci", more, glen);
  expect_gzip_error(p, "CRC-32 or length mismatch");

  /* Truncated inside a member, inside a trailer, and just after the
   * header of a member. */
  size_t cuts[] = {offs[2] + (offs[3] - offs[2]) / 2, end2 - 3, offs[2] + hdr, glen - 1};
  for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
    write_file(dir, "g.aci", gz, cuts[i]);
    expect_gzip_error(p, "truncated gzip stream");
  }
  /* Cut exactly between members: the gzip stream is fine, the tar is not. */
  write_file(dir, "g.aci", gz, offs[3]);
  expect_invalid(p, "runcated");

  /* A damaged deflate stream: with stored (level 0) members the flipped
   * byte is file data, so only the CRC can catch it. */
  free(gz);
  gz = gzip_members(tar, len, 100000, 0, sized, &glen, offs, 16, &n);
  gz[offs[2] + hdr + 5 + 1000] ^= 0x20;
  write_file(dir, "g.aci", gz, glen);
  expect_gzip_error(p, "CRC-32 or length mismatch");
  /* and a damaged block header */
  free(gz);
  gz = gzip_members(tar, len, 100000, 6, sized, &glen, offs, 16, &n);
  memset(gz + offs[2] + hdr, 0xff, 4);
  write_file(dir, "g.aci", gz, glen);
  expect_gzip_error(p, "corrupt gzip data");

  free(more);
  free(gz);
  free(tar);
  free(p);
  free(plain);
  scratch_remove(dir);
}

/* Write DATA[0..LEN) to FD, the bytes from SPLIT on only once the reader at
 * the other end of the pipe (READ_FD) has taken all those before: its reads
 * then end exactly at SPLIT.  Runs in a child process. */
static void feed_split(int fd, int read_fd, const unsigned char *data, size_t len, size_t split)
{
  int pending = -1;

  signal(SIGPIPE, SIG_IGN);
  if (split > 0 && write(fd, data, split) != (ssize_t) split)
    _exit(1);
  for (int i = 0; i < 10000 && pending != 0; i++) {
    if (ioctl(read_fd, FIONREAD, &pending) < 0 || pending > 0)
      usleep(500);
  }
  for (size_t done = split; done < len;) {
    ssize_t n = write(fd, data + done, len - done);
    if (n <= 0)
      _exit(1);
    done += (size_t) n;
  }
  _exit(0);
}

/* Inflate GZ through a pipe whose bytes arrive in two reads split at SPLIT;
 * the output must be PLAIN. */
static void gunzip_split(const unsigned char *gz, size_t glen, size_t split,
                         const unsigned char *plain, size_t plen)
{
  struct appc_gunzip *z = NULL;
  appc_error_t err = NULL;
  const void *buf;
  size_t got = 0;
  ssize_t n;
  int fds[2], status;
  pid_t pid;

  assert_int_equal(pipe(fds), 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    feed_split(fds[1], fds[0], gz, glen, split);
  }
  close(fds[1]);
  struct appc_source *src = NULL;
  assert_int_equal(appc_source_open_fd(&src, fds[0], "pipe", &err), 0);
  assert_int_equal(appc_gunzip_new(&z, src, "", 0, NULL, &err), 0);
  while ((n = appc_gunzip_read(z, &buf, &err)) > 0) {
    if (got + (size_t) n > plen || memcmp(plain + got, buf, (size_t) n) != 0)
      fail_msg("split at byte %zu: output differs from byte %zu on", split, got);
    got += (size_t) n;
  }
  if (n < 0)
    fail_msg("split at byte %zu: %s", split, err->msg);
  assert_int_equal(got, plen);
  appc_gunzip_free(z);
  appc_source_free(src);
  close(fds[0]);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A member header split across two reads, at every byte of it: ISA-L, when
 * left to resume a header inside the extra field that all our members
 * carry, read uninitialised memory (valgrind) and refused sound files
 * (clang builds). */
static void test_gunzip_header_split_across_reads(void **state)
{
  size_t plen = 250000, glen, offs[16], n;
  unsigned char *plain = malloc(plen), *gz;

  (void) state;
  assert_non_null(plain);
  for (size_t i = 0; i < plen; i++)
    plain[i] = (unsigned char) ((i * 7 + i / 1000) % 61);
  for (int sized = 0; sized <= 1; sized++) {
    size_t hdr = sized ? APPC_GZSIZED_HEADER_LEN : 10;
    gz = gzip_members(plain, plen, 100000, 6, sized, &glen, offs, 16, &n);
    assert_true(n >= 4);
    /* The first header, the empty member's and the one after it. */
    for (size_t m = 0; m < 3; m++) {
      for (size_t at = offs[m]; at <= offs[m] + hdr + 1; at++)
        gunzip_split(gz, glen, at, plain, plen);
    }
    free(gz);
  }
  free(plain);
}

static void test_validate_gzip_members(void **state)
{
  check_gzip_members(false);
}

static void test_validate_gzip_sized_members(void **state)
{
  check_gzip_members(true);
}

/* PATH must read as the tar PLAIN, and its raw bytes must all reach a tee
 * once, in order. */
static void expect_id_and_tee(const char *dir, const char *path, const char *plain)
{
  struct appc_tee tee;
  appc_error_t err = NULL;
  char id[APPC_IMAGE_ID_LEN + 1], expect[APPC_IMAGE_ID_LEN + 1];
  char *copy = path_join(dir, "tee.out");
  int fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  size_t l1, l2;

  expect_id(path, plain);
  assert_true(fd >= 0);
  appc_tee_init(&tee, fd);
  assert_int_equal(read_through(path, &tee, id, &err), 1);
  assert_int_equal(appc_tee_check(&tee, copy, &err), 0);
  close(fd);
  sha512_of_gunzipped(plain, expect);
  assert_string_equal(id, expect);
  char *a = read_whole(path, &l1), *b = read_whole(copy, &l2);
  assert_int_equal(l1, l2);
  assert_memory_equal(a, b, l1);
  free(a);
  free(b);
  free(copy);
}

/* PATH holds A then B (two runs of gzip members): it must read as PLAIN. */
static void expect_joined(const char *dir, const char *path, const char *plain,
                          const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
  unsigned char *both = malloc(alen + blen);

  assert_non_null(both);
  memcpy(both, a, alen);
  memcpy(both + alen, b, blen);
  write_file(dir, "g.aci", both, alen + blen);
  expect_id_and_tee(dir, path, plain);
  free(both);
}

/* A member's stated length is only a claim: wrong ones, and members too big
 * to inflate in one piece, are read as any gzip reader reads them. */
static void test_validate_gzip_sized_claims(void **state)
{
  char *dir = scratch_new();
  char *plain = path_join(dir, "plain.tar"), *p = path_join(dir, "g.aci");
  size_t len, glen, offs[16], n;
  unsigned char *tar = plain_aci(plain, &len);
  unsigned char *gz = gzip_members(tar, len, 100000, 6, true, &glen, offs, 16, &n);
  unsigned char *bad = malloc(glen + len + 4096);
  const long deltas[] = {1, -1, 4096, -4096};

  assert_non_null(bad);
  assert_true(n >= 5);
  write_file(dir, "g.aci", gz, glen);
  expect_id_and_tee(dir, p, plain);
  /* The third member says it is longer or shorter than it is, or something
   * absurd; and so does the first, whose header decides the reader. */
  for (size_t m = 0; m < 3; m += 2) {
    uint32_t real = (uint32_t) (offs[m + 1] - offs[m]);
    for (size_t i = 0; i < ARRAY_SIZE(deltas); i++) {
      memcpy(bad, gz, glen);
      appc_gzsized_header(bad + offs[m], (uint32_t) ((long) real + deltas[i]));
      write_file(dir, "g.aci", bad, glen);
      expect_id_and_tee(dir, p, plain);
    }
    const uint32_t absurd[] = {0, 1, 29, 0xffffffffu, 64u << 20};
    for (size_t i = 0; i < ARRAY_SIZE(absurd); i++) {
      memcpy(bad, gz, glen);
      appc_gzsized_header(bad + offs[m], absurd[i]);
      write_file(dir, "g.aci", bad, glen);
      expect_id_and_tee(dir, p, plain);
    }
  }
  /* Sized members, then plain ones; plain ones, then sized ones.  The first
   * three members of GZ hold 100,000 + 0 + 100,000 bytes of the tar. */
  size_t first = offs[3], plain_len, sized_len, offs2[16], n2;
  unsigned char *plain_part =
      gzip_members(tar + 200000, len - 200000, 70000, 6, false, &plain_len, offs2, 16, &n2);
  expect_joined(dir, p, plain, gz, first, plain_part, plain_len);
  free(plain_part);
  plain_part = gzip_members(tar, 200000, 70000, 6, false, &plain_len, offs2, 16, &n2);
  unsigned char *sized_part =
      gzip_members(tar + 200000, len - 200000, 100000, 6, true, &sized_len, offs2, 16, &n2);
  expect_joined(dir, p, plain, plain_part, plain_len, sized_part, sized_len);

  /* One member bigger than the parallel reader takes in one piece. */
  size_t big = 2u << 20;
  unsigned char *data = calloc(1, big);
  assert_non_null(data);
  memcpy(data, tar, len);
  write_file(dir, "plain2.tar", data, big); /* the tar, padded with zero blocks */
  char *plain2 = path_join(dir, "plain2.tar");
  free(bad);
  bad = malloc(big + 4096);
  assert_non_null(bad);
  size_t blen = gzip_member(data, big, 6, true, bad, big + 4096);
  write_file(dir, "g.aci", bad, blen);
  expect_id_and_tee(dir, p, plain2);

  /* A first member whose stated length runs past the end of the file. */
  write_file(dir, "g.aci", gz, 40);
  expect_gzip_error(p, "truncated gzip stream");

  free(plain2);
  free(data);
  free(sized_part);
  free(plain_part);
  free(bad);
  free(gz);
  free(tar);
  free(p);
  free(plain);
  scratch_remove(dir);
}

/* Read PATH through the parallel engine with WORKERS threads until it hands
 * the rest back; return what it inflated (*out_len bytes) and the rest. */
static unsigned char *gzsized_drain(const char *path, unsigned workers, size_t *out_len,
                                    unsigned char **rest, struct appc_gzsized_rest *info)
{
  struct appc_gzsized *b = NULL;
  appc_error_t err = NULL;
  unsigned char head[512];
  size_t cap = 1u << 20, len = 0;
  unsigned char *out = malloc(cap);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n, h;

  assert_non_null(out);
  assert_true(fd >= 0);
  h = read(fd, head, sizeof head);
  assert_true(h > 0);
  struct appc_source *src = NULL;
  assert_int_equal(appc_source_open_fd(&src, fd, path, &err), 0);
  assert_int_equal(appc_gzsized_new(&b, src, head, (size_t) h, NULL, workers, &err), 0);
  for (;;) {
    const void *buf;
    n = appc_gzsized_read(b, &buf, info, &err);
    if (n <= 0)
      break;
    assert_true(len + (size_t) n <= cap);
    memcpy(out + len, buf, (size_t) n);
    len += (size_t) n;
  }
  assert_int_equal(n, APPC_GZSIZED_REST);
  *rest = malloc(info->len + 1);
  assert_non_null(*rest);
  memcpy(*rest, info->bytes, info->len);
  info->bytes = NULL;
  appc_gzsized_free(b);
  appc_source_free(src);
  close(fd);
  *out_len = len;
  return out;
}

/* The engine alone, with no worker (one CPU), one, and three. */
static void test_gzsized_engine(void **state)
{
  char *dir = scratch_new();
  char *plain = path_join(dir, "plain.tar"), *p = path_join(dir, "g.aci");
  size_t len, glen, offs[16], n, got;
  unsigned char *tar = plain_aci(plain, &len);
  unsigned char *gz = gzip_members(tar, len, 100000, 6, true, &glen, offs, 16, &n);
  const unsigned workers[] = {0, 1, 3};
  struct appc_gzsized_rest info;
  unsigned char *rest;

  for (size_t w = 0; w < ARRAY_SIZE(workers); w++) {
    /* All of it, then a clean end: nothing handed back. */
    write_file(dir, "g.aci", gz, glen);
    unsigned char *out = gzsized_drain(p, workers[w], &got, &rest, &info);
    assert_int_equal(got, len);
    assert_memory_equal(out, tar, len);
    assert_int_equal(info.len, 0);
    assert_true(info.eof);
    assert_int_equal(info.members, n);
    assert_int_equal(info.offset, glen);
    free(out);
    free(rest);
    /* A fourth member that lies about its length: the three before it are
     * inflated, and every byte from it on is handed back, in order. */
    unsigned char *bad = malloc(glen);
    assert_non_null(bad);
    memcpy(bad, gz, glen);
    appc_gzsized_header(bad + offs[3], (uint32_t) (offs[4] - offs[3] - 1));
    write_file(dir, "g.aci", bad, glen);
    out = gzsized_drain(p, workers[w], &got, &rest, &info);
    assert_int_equal(got, 200000);
    assert_memory_equal(out, tar, got);
    assert_int_equal(info.members, 3);
    assert_int_equal(info.offset, offs[3]);
    assert_true(info.len > 0 && info.len <= glen - offs[3]);
    assert_memory_equal(rest, bad + offs[3], info.len);
    assert_true(!info.eof || info.len == glen - offs[3]); /* EOF: all is here */
    free(out);
    free(rest);
    free(bad);
  }
  free(gz);
  free(tar);
  free(p);
  free(plain);
  scratch_remove(dir);
}

/* Run CMD with the shell; false if the tool is missing. */
static bool run_tool(const char *tool, const char *cmd)
{
  char *check = NULL;
  assert_true(asprintf(&check, "command -v %s >/dev/null 2>&1", tool) > 0);
  int r = system(check);
  free(check);
  if (r != 0)
    return false;
  r = system(cmd);
  assert_true(WIFEXITED(r) && WEXITSTATUS(r) == 0);
  return true;
}

static void test_validate_gzip_from_tools(void **state)
{
  char *dir = scratch_new();
  char *plain = path_join(dir, "plain.tar");
  size_t len;
  free(plain_aci(plain, &len));
  const char *tools[][3] = {
      /* gzip -9 of a file stores its name (FNAME) in the header */
      {"gzip", "cp plain.tar named && gzip -9 -n -N named && mv named.gz o.aci", "o.aci"},
      {"gzip", "gzip -1 -c plain.tar > o.aci", "o.aci"},
      /* concatenated members from separate runs */
      {"gzip",
       "head -c 70000 plain.tar | gzip -9 > c.aci && "
       "tail -c +70001 plain.tar | gzip -9 >> c.aci",
       "c.aci"},
      {"pigz", "pigz -9 -p 2 -b 128 -c plain.tar > o.aci", "o.aci"},
      {"pigz", "pigz -11 -c plain.tar > o.aci", "o.aci"},
  };

  for (size_t i = 0; i < ARRAY_SIZE(tools); i++) {
    char *cmd = NULL;
    assert_true(asprintf(&cmd, "cd '%s' && %s", dir, tools[i][1]) > 0);
    if (run_tool(tools[i][0], cmd)) {
      char *p = path_join(dir, tools[i][2]);
      expect_id(p, plain);
      free(p);
    } else {
      fprintf(stderr, "# %s not installed: skipped\n", tools[i][0]);
    }
    free(cmd);
  }
  /* bzip2 and xz still go through libarchive. */
  const char *others[][2] = {
      {"bzip2", "bzip2 -c plain.tar > o.aci"},
      {"xz", "xz -c plain.tar > o.aci"},
  };
  for (size_t i = 0; i < 2; i++) {
    char *cmd = NULL, expect[APPC_IMAGE_ID_LEN + 1];
    assert_true(asprintf(&cmd, "cd '%s' && %s", dir, others[i][1]) > 0);
    if (run_tool(others[i][0], cmd)) {
      struct appc_aci_info info;
      char *p = path_join(dir, "o.aci");
      sha512_of_gunzipped(plain, expect);
      expect_valid(p, &info);
      assert_int_equal(info.compression, i == 0 ? APPC_COMPRESSION_BZIP2 : APPC_COMPRESSION_XZ);
      assert_string_equal(info.image_id, expect);
      appc_aci_info_clear(&info);
      free(p);
    }
    free(cmd);
  }
  free(plain);
  scratch_remove(dir);
}

/* ---- read_manifest ---- */

static void test_read_manifest_stops_early(void **state)
{
  char *dir = scratch_new();
  char *p = path_join(dir, "early.aci");
  struct tar_builder t;
  char *json = NULL;
  size_t len = 0;
  appc_error_t err = NULL;
  static const char stored[] = "  {\"not\": \"even validated\"}\n";

  /* A manifest first, then a truncated entry: reading the manifest
   * succeeds only if it stops before the damage. */
  tar_begin(&t, p);
  tar_file(&t, "./manifest", stored);
  tar_add(&t, "rootfs/big", '0', NULL, "abc", 3, 1000000);
  fclose(t.f);
  int r = appc_aci_read_manifest(p, &json, &len, &err);
  assert_ok(r, &err);
  assert_int_equal(len, strlen(stored));
  assert_memory_equal(json, stored, len);
  free(json);
  expect_invalid(p, "runcated");
  /* no manifest at all */
  tar_begin(&t, p);
  tar_dir(&t, "rootfs");
  tar_end(&t);
  r = appc_aci_read_manifest(p, &json, &len, &err);
  assert_error_contains(r, &err, "no manifest");
  free(p);
  scratch_remove(dir);
}

static bool always_cancelled(void *data)
{
  (void) data;
  return true;
}

/* MAX_BEFORE: 512 bytes for each entry's header and its data, counted
 * before it is skipped (an entry declaring gigabytes it does not hold is
 * refused, not read); a source whose callbacks cancel is not read. */
static void test_read_manifest_bounded(void **state)
{
  char *dir = scratch_new();
  char *p = path_join(dir, "late.aci");
  static const char stored[] = "{}";
  static const char data[1000] = {0};
  struct tar_builder t;
  const struct appc_callbacks cancel = {.cancelled = always_cancelled};
  const struct {
    uint64_t limit;
    const struct appc_callbacks *cb;
    const char *error;
  } cases[] = {
      {512 + 512 + 1000, NULL, NULL},
      {512 + 512 + 999, NULL, "no manifest within the first 2023 bytes"},
      {UINT64_MAX, &cancel, "cancelled"},
  };

  (void) state;
  tar_begin(&t, p);
  tar_dir(&t, "rootfs");
  tar_add(&t, "rootfs/a", '0', NULL, data, sizeof data, sizeof data);
  tar_file(&t, "manifest", stored);
  tar_end(&t);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct appc_source *src = NULL;
    appc_error_t err = NULL;
    char *json = NULL;
    size_t len = 0;
    assert_ok(appc_source_open_path(&src, p, &err), &err);
    int r = appc_aci_read_manifest_bounded(src, cases[i].limit, cases[i].cb, &json, &len, &err);
    if (cases[i].error == NULL) {
      assert_ok(r, &err);
      assert_int_equal(len, strlen(stored));
    } else {
      assert_error_contains(r, &err, cases[i].error);
    }
    free(json);
    appc_source_free(src);
  }
  /* 4 GiB declared, nothing of it there: refused before any skip */
  tar_begin(&t, p);
  tar_add(&t, "rootfs/huge", '0', NULL, "abc", 3, 1ULL << 32);
  fclose(t.f);
  struct appc_source *src = NULL;
  appc_error_t err = NULL;
  char *json = NULL;
  size_t len = 0;
  assert_ok(appc_source_open_path(&src, p, &err), &err);
  int r = appc_aci_read_manifest_bounded(src, 1 << 20, NULL, &json, &len, &err);
  assert_error_contains(r, &err, "no manifest within the first 1048576 bytes");
  appc_source_free(src);
  free(p);
  scratch_remove(dir);
}

/* ---- rewrite ---- */

/* SHA-512 over every rootfs entry's name and data, in order. */
static void rootfs_digest(const char *path, unsigned char md[64])
{
  struct archive *a = archive_read_new();
  struct archive_entry *e;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  char buf[65536];
  la_ssize_t n;
  unsigned int mdlen;

  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  assert_int_equal(archive_read_open_filename(a, path, 65536), ARCHIVE_OK);
  EVP_DigestInit_ex(ctx, EVP_sha512(), NULL);
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    const char *name = archive_entry_pathname(e);
    if (strcmp(name, "manifest") == 0)
      continue;
    EVP_DigestUpdate(ctx, name, strlen(name) + 1);
    unsigned mode = archive_entry_mode(e);
    EVP_DigestUpdate(ctx, &mode, sizeof mode);
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
      EVP_DigestUpdate(ctx, buf, (size_t) n);
  }
  archive_read_free(a);
  EVP_DigestFinal_ex(ctx, md, &mdlen);
  EVP_MD_CTX_free(ctx);
}

static void test_rewrite_manifest(void **state)
{
  char *dir = scratch_new();
  char *layout = rich_layout(dir);
  char id[APPC_IMAGE_ID_LEN + 1], id2[APPC_IMAGE_ID_LEN + 1], id3[APPC_IMAGE_ID_LEN + 1];
  struct appc_build_options o = opts_with(APPC_COMPRESSION_GZIP);
  appc_error_t err = NULL;
  static const char patched[] =
      "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/patched\"}";
  unsigned char d1[64], d2[64];
  struct appc_aci_info info;

  char *in = build_ok(layout, dir, "in.aci", &o, id);
  char *out = path_join(dir, "out.aci");
  /* Same manifest: the very same image. */
  int r = appc_aci_rewrite_manifest(in, out, TEST_MANIFEST, strlen(TEST_MANIFEST), &o, id2, &err);
  assert_ok(r, &err);
  assert_string_equal(id, id2);
  /* New manifest: new ID, same rootfs. */
  o.overwrite = true;
  o.compression = APPC_COMPRESSION_XZ;
  r = appc_aci_rewrite_manifest(in, out, patched, strlen(patched), &o, id3, &err);
  assert_ok(r, &err);
  assert_string_not_equal(id, id3);
  expect_valid(out, &info);
  assert_string_equal(info.image_id, id3);
  assert_int_equal(info.compression, APPC_COMPRESSION_XZ);
  assert_int_equal(info.manifest_len, strlen(patched));
  assert_memory_equal(info.manifest_json, patched, info.manifest_len);
  appc_aci_info_clear(&info);
  rootfs_digest(in, d1);
  rootfs_digest(out, d2);
  assert_memory_equal(d1, d2, 64);
  /* existing OUT without overwrite */
  o.overwrite = false;
  r = appc_aci_rewrite_manifest(in, out, patched, strlen(patched), &o, id3, &err);
  assert_refuses_existing(r, &err, "out.aci");
  /* in place (IN == OUT) is allowed */
  r = appc_aci_rewrite_manifest(in, in, patched, strlen(patched), &o, id2, &err);
  assert_ok(r, &err);
  assert_string_equal(id2, id3);
  expect_valid(in, &info);
  assert_string_equal(info.image_id, id3);
  appc_aci_info_clear(&info);
  /* an invalid input is not re-emitted */
  struct tar_builder t;
  char *bad = path_join(dir, "bad.aci");
  write_bad_case(bad, 4);
  char *out2 = path_join(dir, "out2.aci");
  r = appc_aci_rewrite_manifest(bad, out2, patched, strlen(patched), &o, id2, &err);
  assert_error_contains(r, &err, "path escapes the image");
  (void) t;
  assert_int_equal(count_entries(dir), 4); /* layout in.aci out.aci bad.aci */
  free(out2);
  free(bad);
  free(in);
  free(out);
  free(layout);
  scratch_remove(dir);
}

/* A copy of the entry of PATH named NAME, read with libarchive. */
static struct archive_entry *read_entry(const char *path, const char *name)
{
  struct archive *a = archive_read_new();
  struct archive_entry *got, *e = NULL;

  archive_read_support_format_tar(a);
  assert_int_equal(archive_read_open_filename(a, path, 65536), ARCHIVE_OK);
  while (e == NULL && archive_read_next_header(a, &got) == ARCHIVE_OK) {
    if (strcmp(archive_entry_pathname(got), name) == 0)
      e = archive_entry_clone(got);
  }
  archive_read_free(a);
  if (e == NULL)
    fail_msg("%s has no entry %s", path, name);
  return e;
}

/* A rewrite keeps each entry's times as the input has them: render applies
 * mtime to the nanosecond and atime when the archive has one, so dropping
 * them (as a build drops the tree's) would change what the patched image
 * renders.  An entry without them gets no pax header it did not need. */
static void test_rewrite_keeps_times(void **state)
{
  static const char times[] = "30 mtime=1234567890.123456789\n"
                              "22 atime=1500000000.5\n"
                              "23 ctime=1600000000.25\n";
  char *dir = scratch_new();
  char *in = hand_made(dir, "times.aci"), *out = path_join(dir, "out.aci");
  struct appc_build_options o = opts_with(APPC_COMPRESSION_NONE);
  char id[APPC_IMAGE_ID_LEN + 1];
  appc_error_t err = NULL;
  struct archive_entry *e;
  struct tar_builder t;
  char *data = NULL;
  size_t len;

  (void) state;
  tar_begin(&t, in);
  tar_file(&t, "manifest", TEST_MANIFEST);
  tar_dir(&t, "rootfs");
  tar_add(&t, "PaxHeader/f", 'x', NULL, times, strlen(times), strlen(times));
  tar_file(&t, "rootfs/f", "abc");
  tar_file(&t, "rootfs/g", "def");
  tar_end(&t);
  assert_ok(appc_aci_rewrite_manifest(in, out, TEST_MANIFEST, strlen(TEST_MANIFEST), &o, id, &err),
            &err);
  e = read_entry(out, "rootfs/f");
  assert_int_equal(archive_entry_mtime(e), 1234567890);
  assert_int_equal(archive_entry_mtime_nsec(e), 123456789);
  assert_true(archive_entry_atime_is_set(e));
  assert_int_equal(archive_entry_atime(e), 1500000000);
  assert_int_equal(archive_entry_atime_nsec(e), 500000000);
  assert_true(archive_entry_ctime_is_set(e));
  assert_int_equal(archive_entry_ctime(e), 1600000000);
  assert_int_equal(archive_entry_ctime_nsec(e), 250000000);
  archive_entry_free(e);
  e = read_entry(out, "rootfs/g");
  assert_false(archive_entry_atime_is_set(e));
  assert_false(archive_entry_ctime_is_set(e));
  assert_int_equal(archive_entry_mtime_nsec(e), 0);
  assert_int_equal(appc_read_file_at(AT_FDCWD, out, 1 << 20, 0, &data, &len, &err), 0);
  assert_non_null(memmem(data, len, "rootfs/PaxHeader/f", 18));
  assert_null(memmem(data, len, "PaxHeader/g", 11));
  free(data);
  archive_entry_free(e);
  free(out);
  free(in);
  scratch_remove(dir);
}

static int teardown(void **state)
{
  (void) state;
  if (current_scratch != NULL) {
    char *small = path_join(current_scratch, "small");
    (void) umount(small); /* test_failed_build_leaves_nothing */
    free(small);
    scratch_remove(current_scratch);
  }
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_compression_names, teardown),
      cmocka_unit_test_teardown(test_sources_agree, teardown),
      cmocka_unit_test_teardown(test_source_failures, teardown),
      cmocka_unit_test_teardown(test_cancel_build_and_validate, teardown),
      cmocka_unit_test_teardown(test_cancel_at_the_last_moment, teardown),
      cmocka_unit_test_teardown(test_cancel_validation_within_an_entry, teardown),
      cmocka_unit_test_teardown(test_validate_refuses_ignored_pax_header, teardown),
      cmocka_unit_test_teardown(test_validate_refuses_bad_checksum_header, teardown),
      cmocka_unit_test_teardown(test_progress_names_the_operation, teardown),
      cmocka_unit_test_teardown(test_build_id_is_sha512_of_tar, teardown),
      cmocka_unit_test_teardown(test_build_reproducible, teardown),
      cmocka_unit_test_teardown(test_build_cloexec, teardown),
      cmocka_unit_test_teardown(test_every_compression_round_trips, teardown),
      cmocka_unit_test_teardown(test_build_preserves_special_files, teardown),
      cmocka_unit_test_teardown(test_build_skips_sockets_and_keeps_sparse, teardown),
      cmocka_unit_test_teardown(test_build_owner_root, teardown),
      cmocka_unit_test_teardown(test_build_refuses_existing_out, teardown),
      cmocka_unit_test_teardown(test_build_rejects_bad_layouts, teardown),
      cmocka_unit_test_teardown(test_failed_build_leaves_nothing, teardown),
      cmocka_unit_test_teardown(test_tar_writer_on_a_full_disk, teardown),
      cmocka_unit_test_teardown(test_validate_refuses_pax_global_header, teardown),
      cmocka_unit_test_teardown(test_validate_accepts_global_header_in_data, teardown),
      cmocka_unit_test_teardown(test_validate_refuses_global_header_after_hardlink, teardown),
      cmocka_unit_test_teardown(test_validate_refuses_data_of_entries_without_any, teardown),
      cmocka_unit_test_teardown(test_validate_refuses_volume_header, teardown),
      cmocka_unit_test_teardown(test_validate_accepts_trailing_global_header, teardown),
      cmocka_unit_test_teardown(test_validate_bounds_global_lookalikes, teardown),
      cmocka_unit_test_teardown(test_validate_refuses_two_name_headers, teardown),
      cmocka_unit_test_teardown(test_rewrite_refuses_two_name_headers, teardown),
      cmocka_unit_test_teardown(test_validate_refuses_unclear_pax_names, teardown),
      cmocka_unit_test_teardown(test_validate_refuses_solaris_headers, teardown),
      cmocka_unit_test_teardown(test_validate_accepts_single_name_headers, teardown),
      cmocka_unit_test(test_pax_scan),
      cmocka_unit_test_teardown(test_validate_bounds_extension_lookalikes, teardown),
      cmocka_unit_test_teardown(test_validate_accepts_reference_variants, teardown),
      cmocka_unit_test_teardown(test_validate_accepts_pre_posix_tar, teardown),
      cmocka_unit_test(test_compression_detect),
      cmocka_unit_test_teardown(test_validate_rejects, teardown),
      cmocka_unit_test_teardown(test_validate_rejects_damaged_files, teardown),
      cmocka_unit_test_teardown(test_validate_rejects_oversized_manifest, teardown),
      cmocka_unit_test_teardown(test_validate_gzip_members, teardown),
      cmocka_unit_test_teardown(test_validate_gzip_sized_members, teardown),
      cmocka_unit_test_teardown(test_validate_gzip_sized_claims, teardown),
      cmocka_unit_test_teardown(test_gzsized_engine, teardown),
      cmocka_unit_test(test_gunzip_header_split_across_reads),
      cmocka_unit_test_teardown(test_validate_gzip_from_tools, teardown),
      cmocka_unit_test_teardown(test_read_manifest_stops_early, teardown),
      cmocka_unit_test_teardown(test_read_manifest_bounded, teardown),
      cmocka_unit_test_teardown(test_rewrite_manifest, teardown),
      cmocka_unit_test_teardown(test_rewrite_keeps_times, teardown),
  };
  /* One test alone, e.g. under valgrind (tests/integration/valgrind.sh). */
  if (getenv("TEST_ACI_ONLY") != NULL)
    cmocka_set_test_filter(getenv("TEST_ACI_ONLY"));
  return cmocka_run_group_tests_name("aci", tests, NULL, NULL);
}
