/* SPDX-License-Identifier: Apache-2.0 */
/* ACI archives, through the whole validation pass (compression detection,
 * gzip, the tar reader, the archive rules, the manifest).
 *
 * The first byte chooses how the rest is used.  0: as the file, whatever it
 * holds (hostile gzip headers and streams).  Otherwise the rest is a tar
 * stream, validated four ways: as it is, gzip-compressed in one member (the
 * sequential ISA-L inflater), in members that state their size as our
 * builder writes them (the parallel engine; member size from the first
 * byte), and in sized members up to the middle followed by one plain
 * member (the parallel engine handing over to the sequential one).  The
 * property: all four succeed or all four fail, and the successes give the
 * same image ID, manifest and size. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "appc/aci.h"
#include "aci/internal.h"
#include "common/cleanup.h"
#include "tests/fuzz/fuzz.h"
#include "common/macros.h"

struct buf {
  unsigned char *p;
  size_t len, cap;
};

static void buf_put(struct buf *b, const void *data, size_t len)
{
  if (b->cap - b->len < len) {
    b->cap = (b->len + len) * 2 + 64;
    b->p = realloc(b->p, b->cap);
    if (b->p == NULL)
      abort();
  }
  memcpy(b->p + b->len, data, len);
  b->len += len;
}

/* Deflate DATA with WINDOW_BITS (-15 raw, 31 gzip) onto OUT. */
static void deflate_onto(struct buf *out, const uint8_t *data, size_t size, int window_bits)
{
  z_stream z = {0};
  unsigned char chunk[16384];
  int r;

  if (deflateInit2(&z, 1, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    fuzz_fail("deflateInit2");
  z.next_in = (unsigned char *) data;
  z.avail_in = (uInt) size;
  do {
    z.next_out = chunk;
    z.avail_out = sizeof chunk;
    r = deflate(&z, Z_FINISH);
    if (r == Z_STREAM_ERROR)
      fuzz_fail("deflate");
    buf_put(out, chunk, sizeof chunk - z.avail_out);
  } while (r != Z_STREAM_END);
  deflateEnd(&z);
}

/* One member stating its size, as aci/pgzip.c writes them. */
static void sized_member(struct buf *out, const uint8_t *data, size_t size)
{
  struct buf body = {0};
  unsigned char hdr[APPC_GZSIZED_HEADER_LEN], trl[8];

  deflate_onto(&body, data, size, -15);
  appc_gzsized_header(hdr, (uint32_t) (sizeof hdr + body.len + sizeof trl));
  appc_gzsized_trailer(trl, (uint32_t) crc32(0, data, (uInt) size), (uint32_t) size);
  buf_put(out, hdr, sizeof hdr);
  buf_put(out, body.p, body.len);
  buf_put(out, trl, sizeof trl);
  free(body.p);
}

static void sized_members(struct buf *out, const uint8_t *data, size_t size, size_t block)
{
  size_t off = 0;
  do {
    size_t n = size - off < block ? size - off : block;
    sized_member(out, data + off, n);
    off += n;
  } while (off < size);
}

struct outcome {
  int r;
  struct appc_aci_info info;
  char *error;
};

/* Straight from memory: the bytes a program holds need no file. */
static void validate(const uint8_t *data, size_t size, struct outcome *o)
{
  cleanup_error appc_error_t err = NULL;
  cleanup_source struct appc_source *src = NULL;

  memset(o, 0, sizeof *o);
  if (appc_source_open_memory(&src, data, size, "input", &err) < 0)
    fuzz_fail("a memory source: %s", err->msg);
  o->r = appc_aci_validate_source(src, NULL, &o->info, &err);
  if (o->r < 0)
    o->error = strdup(err->msg);
}

static void outcome_clear(struct outcome *o)
{
  appc_aci_info_clear(&o->info);
  free(o->error);
}

static void same(const struct outcome *a, const struct outcome *b, const char *how)
{
  if ((a->r < 0) != (b->r < 0))
    fuzz_fail("the tar %s as it is, %s %s: %s", a->r < 0 ? "fails" : "passes",
              b->r < 0 ? "fails" : "passes", how, a->r < 0 ? a->error : b->error);
  if (a->r < 0)
    return;
  if (strcmp(a->info.image_id, b->info.image_id) != 0)
    fuzz_fail("%s: image ID %s instead of %s", how, b->info.image_id, a->info.image_id);
  if (a->info.uncompressed_size != b->info.uncompressed_size)
    fuzz_fail("%s: %llu bytes of tar instead of %llu", how, b->info.uncompressed_size,
              a->info.uncompressed_size);
  if (a->info.manifest_len != b->info.manifest_len ||
      memcmp(a->info.manifest_json, b->info.manifest_json, a->info.manifest_len) != 0)
    fuzz_fail("%s: another manifest", how);
}

static bool starts_compressed(const uint8_t *data, size_t size)
{
  static const char *const magics[] = {"\x1f\x8b", "BZh", "\xfd\x37zXZ"};
  for (size_t i = 0; i < ARRAY_SIZE(magics); i++)
    if (size >= strlen(magics[i]) && memcmp(data, magics[i], strlen(magics[i])) == 0)
      return true;
  return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct outcome plain, gz, sized, mixed;
  struct buf b = {0};
  uint8_t mode;

  if (size == 0)
    return 0;
  mode = data[0];
  data++;
  size--;
  validate(data, size, &plain);
  if (mode == 0 || starts_compressed(data, size) || size > (1u << 20)) {
    outcome_clear(&plain);
    return 0;
  }

  deflate_onto(&b, data, size, 31);
  validate(b.p, b.len, &gz);
  same(&plain, &gz, "gzip-compressed in one member");

  b.len = 0;
  sized_members(&b, data, size, (size_t) 512 << (mode % 8));
  validate(b.p, b.len, &sized);
  same(&plain, &sized, "in sized members");

  b.len = 0;
  sized_members(&b, data, size / 2, 1024);
  deflate_onto(&b, data + size / 2, size - size / 2, 31);
  validate(b.p, b.len, &mixed);
  same(&plain, &mixed, "in sized members, then a plain member");

  free(b.p);
  outcome_clear(&plain);
  outcome_clear(&gz);
  outcome_clear(&sized);
  outcome_clear(&mixed);
  return 0;
}
