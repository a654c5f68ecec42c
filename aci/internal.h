/* SPDX-License-Identifier: Apache-2.0 */
/* Internal plumbing of the aci module, shared by its translation units but not
 * part of the public API in <appc/aci.h>. */
#ifndef APPC_ACI_INTERNAL_H
#define APPC_ACI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "appc/aci.h"
#include "aci/stream.h"
#include "appc/error.h"
#include "common/fs.h"
#include "common/hashmap.h"

/* ---- sources (aci/source.c) ---- */

/* appc_source_open_path() with messages not yet prefixed with PATH, for
 * readers whose callers add it. */
int appc_source_open_file(struct appc_source **out, const char *path, appc_error_t *err);
/* Claim SRC for one reader: a second claim is an error, since the first
 * has consumed (part of) it. */
int appc_source_take(struct appc_source *src, appc_error_t *err);
/* Read up to LEN bytes (EINTR retried): the count, 0 at the end, or -1
 * with an error ("read: ..."). */
ssize_t appc_source_read(struct appc_source *src, void *buf, size_t len, appc_error_t *err);

/* ---- SHA-512 image IDs (aci/hash.c) ---- */

struct appc_hash; /* opaque wrapper over an OpenSSL EVP SHA-512 context */

int appc_hash_new(struct appc_hash **out, appc_error_t *err);
void appc_hash_update(struct appc_hash *h, const void *buf, size_t len);
/* Finish and write "sha512-<hex>" into id. */
int appc_hash_final(struct appc_hash *h, char id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err);
void appc_hash_free(struct appc_hash *h);

/* ---- gzip members that state their size (aci/gzsized.c) ---- */

/* Our builder writes one gzip member per block of tar, each with an extra
 * field (subfield "AC") holding the member's total length, so that a reader
 * can find the members without inflating them and inflate several at once.
 * Other readers skip the field: the file stays a plain gzip stream. */
#define APPC_GZSIZED_HEADER_LEN 20
void appc_gzsized_header(unsigned char hdr[APPC_GZSIZED_HEADER_LEN], uint32_t member_len);
void appc_gzsized_trailer(unsigned char trl[8], uint32_t crc, uint32_t isize);
/* The total length stated by the member header at P (N bytes of it), or 0
 * when P does not start a header of this kind. */
uint32_t appc_gzsized_member_len(const unsigned char *p, size_t n);

/* Parallel inflate of such members, read in order from SRC after HEAD (bytes
 * already read from the file's start; TEE, if not NULL, receives every byte
 * read from SRC), with WORKERS threads besides the caller's.  A member is used
 * only if it proves sound and exactly as long as it says. */
struct appc_gzsized;
/* Where the sized members end: the raw bytes from there on (BYTES, owned by
 * the engine) begin at file offset OFFSET, after MEMBERS members; the file
 * goes on after them unless EOF. */
struct appc_gzsized_rest {
  const unsigned char *bytes;
  size_t len;
  unsigned long long offset;
  unsigned long long members;
  bool eof;
};
#define APPC_GZSIZED_REST (-2)
int appc_gzsized_new(struct appc_gzsized **out, struct appc_source *src, const void *head,
                     size_t head_len, struct appc_tee *tee, unsigned workers, appc_error_t *err);
/* Point *buf at the next member's data (valid until the next call) and return
 * its length; -1 on a read error; APPC_GZSIZED_REST when the rest of the file
 * is for the sequential inflater, described by *rest.  Not to be called again
 * after either. */
ssize_t appc_gzsized_read(struct appc_gzsized *b, const void **buf, struct appc_gzsized_rest *rest,
                          appc_error_t *err);
void appc_gzsized_free(struct appc_gzsized *b);

/* ---- compressing output (aci/sink.c, aci/pgzip.c) ---- */

/* Receives the uncompressed tar stream, hashes it and writes it compressed. */
struct appc_sink;

int appc_sink_new(struct appc_sink **out, int fd, const char *name, enum appc_compression c,
                  unsigned threads, appc_error_t *err);
int appc_sink_write(struct appc_sink *s, const void *buf, size_t len, appc_error_t *err);
/* Flush everything, then report the image ID of the bytes written. */
int appc_sink_finish(struct appc_sink *s, char image_id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err);
void appc_sink_free(struct appc_sink *s);

/* The parallel gzip compressor behind the gzip sink. */
struct appc_pgzip;
int appc_pgzip_new(struct appc_pgzip **out, int fd, const char *name, unsigned threads,
                   appc_error_t *err);
int appc_pgzip_write(struct appc_pgzip *z, const void *buf, size_t len, appc_error_t *err);
int appc_pgzip_finish(struct appc_pgzip *z, appc_error_t *err);
void appc_pgzip_free(struct appc_pgzip *z);

/* appc_write_all: common/fs.h. */

/* ---- pax extended header records (aci/tarhdr.c) ---- */

/* The size a tar header block gives, when it is one a special header
 * (whose body libarchive reads whole, at most 1 MiB) can have: octal, not
 * negative, not over 1 MiB.  false otherwise. */
bool appc_tar_special_size(const unsigned char block[512], uint64_t *size);

/* The records that name an entry or its link target, and those that make
 * it a GNU sparse file; the first three index appc_pax_result.has. */
enum appc_pax_key {
  APPC_PAX_OTHER,
  APPC_PAX_PATH,
  APPC_PAX_LINKPATH,
  APPC_PAX_SPARSE_NAME,
  APPC_PAX_SPARSE_MAJOR,
  APPC_PAX_SPARSE_MINOR,
  APPC_PAX_SPARSE_MAP,
};
enum appc_pax_value {
  APPC_PAX_VALUE_NONE,
  APPC_PAX_VALUE_0,
  APPC_PAX_VALUE_1,
  APPC_PAX_VALUE_OTHER
};

/* What a pax extended header's records say about names. */
struct appc_pax_result {
  bool read;    /* the body was read whole, its records well formed */
  bool sparse;  /* its GNU sparse records are ones Go's reader acts on */
  bool has[4];  /* a path, linkpath, GNU.sparse.name record */
  uint8_t bad;  /* the first of those whose value is empty or holds a NUL */
  bool bad_nul; /* ... holds a NUL (else: is empty) */
};

/* Reading one body as it streams by, a few bytes of it kept. */
struct appc_pax_scan {
  int state;
  uint32_t length, used; /* the record's length, and how much of it is read */
  char key_buf[16];      /* the key's first bytes */
  uint32_t key_len, value_len;
  char value[2]; /* the value's first bytes */
  bool value_nul;
  enum appc_pax_key key;
  enum appc_pax_value major, minor;
  bool map;
  struct appc_pax_result result;
};

void appc_pax_scan_start(struct appc_pax_scan *s);
void appc_pax_scan_feed(struct appc_pax_scan *s, const unsigned char *p, size_t n);
/* After the body's last byte. */
struct appc_pax_result appc_pax_scan_end(struct appc_pax_scan *s);

/* ---- tar writing (aci/writer.c) ---- */

/* What a NULL appc_build_options means: gzip, all CPUs, no overwrite. */
extern const struct appc_build_options appc_build_defaults;

/* Cleanup helpers for this module's types. */
static inline void appc_hash_freep(struct appc_hash **h)
{
  appc_hash_free(*h);
}
static inline void appc_sink_freep(struct appc_sink **s)
{
  appc_sink_free(*s);
}
#define cleanup_hash __attribute__((cleanup(appc_hash_freep)))
#define cleanup_sink __attribute__((cleanup(appc_sink_freep)))

#endif
