/* SPDX-License-Identifier: Apache-2.0 */
/* Internal plumbing of the aci module, shared by its translation units but not
 * part of the public API in aci/aci.h. */
#ifndef APPC_ACI_INTERNAL_H
#define APPC_ACI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "aci/aci.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/hashmap.h"

/* A manifest larger than this is refused rather than read into memory: real
 * manifests are a few KiB, so 16 MiB leaves ample room. */
#define APPC_MANIFEST_MAX (16u * 1024 * 1024)

/* ---- SHA-512 image IDs (aci/hash.c) ---- */

struct appc_hash; /* opaque wrapper over an OpenSSL EVP SHA-512 context */

int appc_hash_new(struct appc_hash **out, appc_error_t *err);
void appc_hash_update(struct appc_hash *h, const void *buf, size_t len);
/* Finish and write "sha512-<hex>" into id. */
int appc_hash_final(struct appc_hash *h, char id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err);
void appc_hash_free(struct appc_hash *h);

/* ---- compression detection (aci/compression.c) ---- */

/* Classify the first bytes of a file; returns -1 when no ACI format matches. */
int appc_compression_detect(const unsigned char *head, size_t len, enum appc_compression *out);

/* ---- copying the raw bytes being read (aci/tee.c) ---- */

/* Receives the file's bytes exactly as read (still compressed), so that an
 * image can be stored while it is validated, without a second read.  Write
 * errors are kept until appc_tee_check.  Writeback is started every few MiB
 * so that the final fsync has little left to do. */
struct appc_tee {
  int fd;
  int errnum; /* first write error */
  unsigned long long written;
  unsigned long long flushed; /* bytes handed to writeback */
};
void appc_tee_init(struct appc_tee *t, int fd);
void appc_tee_write(struct appc_tee *t, const void *buf, size_t len);
/* Fail if a write went wrong; NAME is the file written, for the message. */
int appc_tee_check(const struct appc_tee *t, const char *name, appc_error_t *err);

/* ---- gzip decompression (aci/inflate.c) ---- */

/* Streaming multi-member gzip decompression with ISA-L, reading the file at
 * FD in large chunks.  HEAD holds the HEAD_LEN bytes already read from the
 * start of the file (for detection); it must stay valid while the
 * decompressor lives.  Every member's CRC-32 and length are
 * checked; bytes after the last member that do not start a new one are
 * ignored, as libarchive and GNU gzip do. */
struct appc_gunzip;
struct appc_tee;

/* TEE, which may be NULL, receives every byte read from FD after HEAD. */
int appc_gunzip_new(struct appc_gunzip **out, int fd, const void *head, size_t head_len,
                    struct appc_tee *tee, appc_error_t *err);
/* Point *buf at the next chunk of uncompressed data (valid until the next
 * call) and return its length: 0 at the end of the stream, -1 on error. */
ssize_t appc_gunzip_read(struct appc_gunzip *z, const void **buf, appc_error_t *err);
void appc_gunzip_free(struct appc_gunzip *z);

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

/* Parallel inflate of such members, read in order from FD after HEAD (bytes
 * already read from the file's start; TEE, if not NULL, receives every byte
 * read from FD), with WORKERS threads besides the caller's.  A member is used
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
int appc_gzsized_new(struct appc_gzsized **out, int fd, const void *head, size_t head_len,
                     struct appc_tee *tee, unsigned workers, appc_error_t *err);
/* Point *buf at the next member's data (valid until the next call) and return
 * its length; -1 on a read error; APPC_GZSIZED_REST when the rest of the file
 * is for the sequential inflater, described by *rest.  Not to be called again
 * after either. */
ssize_t appc_gzsized_read(struct appc_gzsized *b, const void **buf, struct appc_gzsized_rest *rest,
                          appc_error_t *err);
void appc_gzsized_free(struct appc_gzsized *b);

/* ---- archive entry names (aci/names.c) ---- */

/* Canonicalise a tar member name: drop "./" and empty components and a
 * trailing slash.  Fails (with a message naming RAW) on absolute names and on
 * ".." components.  An empty result ("." or "./") is returned as "". */
int appc_entry_name_canon(const char *raw, char **out, appc_error_t *err);

/* appc_strset: common/hashmap.h. */

/* ---- output files (aci/outfile.c) ---- */

/* A file being written next to its final path and installed only on success.
 * O_TMPFILE is used where the file system supports it, so that an interrupted
 * process leaves nothing behind; otherwise a uniquely named hidden temporary
 * file is created with O_EXCL and its path kept in tmp_path. */
struct appc_outfile {
  int fd;
  int dirfd;
  char *base;     /* final name inside dirfd */
  char *path;     /* final path as given, for messages */
  char *tmp_path; /* name of the named temporary inside dirfd, or NULL */
  bool overwrite;
  void (*notify)(const char *tmp_path, void *data); /* see appc_build_options */
  void *notify_data;
};

/* SAME_AS may name a file that OUT is allowed to replace even without
 * overwrite (an in-place rewrite); it may be NULL. */
int appc_outfile_open(struct appc_outfile *of, const char *path,
                      const struct appc_build_options *opts, const char *same_as,
                      appc_error_t *err);
/* fsync and install at the final path. */
int appc_outfile_commit(struct appc_outfile *of, appc_error_t *err);
/* Remove whatever has not been committed and release resources.  Safe to
 * call after commit and more than once. */
void appc_outfile_abort(struct appc_outfile *of);

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

/* ---- tar writing (aci/writer.c) ---- */

/* What a NULL appc_build_options means: gzip, all CPUs, no overwrite. */
extern const struct appc_build_options appc_build_defaults;

struct archive_entry;
struct appc_tar_writer;

int appc_tar_writer_new(struct appc_tar_writer **out, int fd, const char *name,
                        const struct appc_build_options *opts, appc_error_t *err);
/* Write ENTRY's header; build-time metadata (atime, ctime, birth time) is
 * stripped and owner_root applied first. */
int appc_tar_writer_header(struct appc_tar_writer *w, struct archive_entry *entry,
                           appc_error_t *err);
int appc_tar_writer_data(struct appc_tar_writer *w, const void *buf, size_t len, appc_error_t *err);
/* Finish the archive and the compression; returns the image ID. */
int appc_tar_writer_close(struct appc_tar_writer *w, char image_id[APPC_IMAGE_ID_LEN + 1],
                          appc_error_t *err);
void appc_tar_writer_free(struct appc_tar_writer *w);

/* ---- tar reading (aci/reader.c) ---- */

struct appc_tar_reader;

/* Open PATH, detect its compression and prepare to read tar entries.  With
 * HASH, every uncompressed byte is hashed (see appc_tar_reader_finish). */
int appc_tar_reader_open(struct appc_tar_reader **out, const char *path, bool hash,
                         appc_error_t *err);
/* The same, with every byte read from the file also written to TEE (see
 * struct appc_tee); appc_tar_reader_finish then copies the file to its end. */
int appc_tar_reader_open_tee(struct appc_tar_reader **out, const char *path, bool hash,
                             struct appc_tee *tee, appc_error_t *err);
struct archive *appc_tar_reader_archive(struct appc_tar_reader *r);
enum appc_compression appc_tar_reader_compression(struct appc_tar_reader *r);
/* Next entry, or 0 at the end of the archive (*entry NULL).  Errors are not
 * yet prefixed with the path. */
int appc_tar_reader_next(struct appc_tar_reader *r, struct archive_entry **entry,
                         appc_error_t *err);
/* Skip the current entry's data (still hashing it).  On failure the
 * message names the real cause (e.g. corrupt gzip data), prefixed by NAME,
 * where archive_read_data_skip() would only say "Truncated input file". */
int appc_tar_reader_skip(struct appc_tar_reader *r, const char *name, appc_error_t *err);
/* Read the current entry's data (at most APPC_MANIFEST_MAX bytes). */
int appc_tar_reader_slurp(struct appc_tar_reader *r, const char *name, char **buf, size_t *len,
                          appc_error_t *err);
/* Drain the rest of the uncompressed stream into the hash and report it. */
int appc_tar_reader_finish(struct appc_tar_reader *r, char image_id[APPC_IMAGE_ID_LEN + 1],
                           unsigned long long *size, appc_error_t *err);
void appc_tar_reader_free(struct appc_tar_reader *r);

/* The per-entry archive rules, applied while reading (validation) or copying
 * (rewrite). */
struct appc_aci_checker {
  struct appc_strset seen;
  bool have_manifest;
  bool have_rootfs;
};
enum appc_entry_role {
  APPC_ENTRY_IGNORED,  /* the top-level "." directory */
  APPC_ENTRY_MANIFEST, /* the manifest file */
  APPC_ENTRY_ROOTFS,   /* rootfs and anything below it */
};
/* Check one entry; on success *canon holds the canonical name (caller frees). */
int appc_aci_check_entry(struct appc_aci_checker *c, struct archive_entry *entry,
                         enum appc_entry_role *role, char **canon, appc_error_t *err);
/* Check what can only be checked at the end (manifest and rootfs present). */
int appc_aci_check_end(const struct appc_aci_checker *c, appc_error_t *err);
void appc_aci_checker_clear(struct appc_aci_checker *c);

/* The whole validation pass over an open reader (a full image ID needs the
 * reader opened with hashing): every entry checked against the archive rules
 * and then, when HOOK is not NULL, against HOOK's (which returns -1 with an
 * error to refuse the entry); the manifest read and parsed; the stream
 * drained into the hash.  INFO is filled as by appc_aci_validate. */
typedef int (*appc_aci_entry_hook)(struct archive_entry *e, const char *canon, void *data,
                                   appc_error_t *err);
int appc_aci_validate_stream(struct appc_tar_reader *r, struct appc_aci_info *info,
                             appc_aci_entry_hook hook, void *data, appc_error_t *err);

/* Cleanup helpers for this module's types. */
static inline void appc_hash_freep(struct appc_hash **h)
{
  appc_hash_free(*h);
}
static inline void appc_sink_freep(struct appc_sink **s)
{
  appc_sink_free(*s);
}
static inline void appc_tar_writer_freep(struct appc_tar_writer **w)
{
  appc_tar_writer_free(*w);
}
static inline void appc_tar_reader_freep(struct appc_tar_reader **r)
{
  appc_tar_reader_free(*r);
}
#define cleanup_hash __attribute__((cleanup(appc_hash_freep)))
#define cleanup_sink __attribute__((cleanup(appc_sink_freep)))
#define cleanup_tar_writer __attribute__((cleanup(appc_tar_writer_freep)))
#define cleanup_tar_reader __attribute__((cleanup(appc_tar_reader_freep)))

#endif
