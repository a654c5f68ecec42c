/* SPDX-License-Identifier: Apache-2.0 */
/* The aci module's API for modules that read and write ACIs entry by entry
 * (the store's import and render): the tar reader with its tee, the archive
 * rules applied per entry, entry-name canonicalisation and output files
 * installed only on success.  Not part of the installable API (<appc/aci.h>);
 * declared here so that no other module includes aci/internal.h. */
#ifndef APPC_ACI_STREAM_H
#define APPC_ACI_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fs.h"
#include "appc/aci.h"
#include "appc/callbacks.h"
#include "appc/error.h"
#include "appc/schema.h" /* APPC_MANIFEST_MAX */
#include "common/hashmap.h"

struct archive;
struct archive_entry;

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
 * SRC in large chunks.  HEAD holds the HEAD_LEN bytes already read from the
 * start of the file (for detection); it must stay valid while the
 * decompressor lives.  Every member's CRC-32 and length are
 * checked; bytes after the last member that do not start a new one are
 * ignored, as libarchive and GNU gzip do. */
struct appc_gunzip;
/* TEE, which may be NULL, receives every byte read from SRC after HEAD. */
int appc_gunzip_new(struct appc_gunzip **out, struct appc_source *src, const void *head,
                    size_t head_len, struct appc_tee *tee, appc_error_t *err);
/* Point *buf at the next chunk of uncompressed data (valid until the next
 * call) and return its length: 0 at the end of the stream, -1 on error. */
ssize_t appc_gunzip_read(struct appc_gunzip *z, const void **buf, appc_error_t *err);
void appc_gunzip_free(struct appc_gunzip *z);

/* ---- sources (aci/source.c) ---- */

/* Report the bytes read from SRC from now on through CB's progress as the
 * step OP (WHAT: the source's name; the total: what is left of a regular
 * file or memory, else 0), and let CB cancel: once it says so, reads fail
 * with ECANCELED.  CB may be NULL: no reports, no cancelling. */
void appc_source_progress(struct appc_source *src, const struct appc_callbacks *cb,
                          enum appc_progress_op op);
/* The same, the progress showing SHOWN (which must outlive the reading)
 * rather than the source's name: an export shows what it writes. */
void appc_source_progress_as(struct appc_source *src, const struct appc_callbacks *cb,
                             enum appc_progress_op op, const char *shown);
/* Whether the callbacks given to appc_source_progress cancel the reading
 * (for readers that turn one read into much more: decompression). */
bool appc_source_cancelled(const struct appc_source *src);

/* appc_aci_validate_source, its reading reported as the step OP (image
 * verify: APPC_PROGRESS_VERIFY). */
int appc_aci_validate_source_op(struct appc_source *src, const struct appc_callbacks *cb,
                                enum appc_progress_op op, struct appc_aci_info *info,
                                appc_error_t *err);

/* The descriptor a source made by appc_source_open_fd reads, not read from
 * yet; -1 for any other source. */
int appc_source_fd(const struct appc_source *src);

/* ---- decompressors (aci/compression.c) ---- */

/* Let A read what untrusted archives come compressed with: gzip, bzip2,
 * xz, lzma and zstd, each decompressed in the process.  (libarchive's
 * "all" would also hand lrzip, lzop, grzip or lz4 data to an external
 * program, whatever the machine has installed, and read uuencoded and rpm
 * wrappers.)  ARCHIVE_OK or libarchive's error. */
int appc_archive_support_compression(struct archive *a);
/* Whether BLOCK's header checksum is right, by libarchive's rule (either
 * the unsigned or the signed sum): the blocks libarchive takes for headers. */
bool appc_tar_checksum_ok(const unsigned char block[512]);

/* ---- archive entry names (aci/names.c) ---- */

/* Canonicalise a tar member name: drop "./" and empty components and a
 * trailing slash.  Fails (with a message naming RAW) on absolute names and on
 * ".." components.  An empty result ("." or "./") is returned as "". */
int appc_entry_name_canon(const char *raw, char **out, appc_error_t *err);

/* ---- output files (aci/outfile.c) ---- */

/* A file being written next to its final path and installed only on
 * success: a common/fs tempfile in the output's directory (tmp.fd is the
 * descriptor to write), which a notify callback hears of while it has a
 * name. */
struct appc_outfile {
  struct appc_tempfile tmp;
  int dirfd;
  char *base; /* final name inside dirfd */
  char *path; /* final path as given, for messages */
  bool overwrite;
  void (*notify)(const char *tmp_path, void *data); /* see appc_build_options */
  void *notify_data;
};
#define APPC_OUTFILE_INIT                                                                          \
  {                                                                                                \
    .tmp = APPC_TEMPFILE_INIT, .dirfd = -1                                                         \
  }

/* SAME_AS may name a file that OUT is allowed to replace even without
 * overwrite (an in-place rewrite); it may be NULL. */
int appc_outfile_open(struct appc_outfile *of, const char *path,
                      const struct appc_build_options *opts, const char *same_as,
                      appc_error_t *err);
/* Whether PATH may be written, as appc_outfile_open would judge it now:
 * for a caller whose work before the write is long (a Containerfile's
 * steps), which should not be done for an output refused at its end. */
int appc_outfile_check(const char *path, const struct appc_build_options *opts, appc_error_t *err);
/* fsync and install at the final path, unless OPTS's callbacks cancelled
 * by then (ECANCELED): the compressor's last flush and the fsync can take
 * seconds, and an interrupt heard during them must still leave no OUT. */
int appc_outfile_commit(struct appc_outfile *of, appc_error_t *err);
/* Remove whatever has not been committed and release resources.  Safe to
 * call after commit and more than once. */
void appc_outfile_abort(struct appc_outfile *of);

/* ---- tar writing (aci/writer.c) ---- */

/* What a tar writer keeps of the headers it is given. */
enum appc_tar_writer_mode {
  /* A new image (build, OCI layers): atime, ctime and birth time are
   * dropped, and the mtime kept to the second unless the entry needs a pax
   * header anyway, so that the same tree always gives the same bytes. */
  APPC_TAR_WRITER_BUILD,
  /* A copy of an image's entries (patch-manifest): every time is kept as
   * the input had it, to the nanosecond.  An entry that has no time beyond
   * a whole-second mtime is written as in BUILD, so a rewrite of a built
   * image keeps its bytes. */
  APPC_TAR_WRITER_COPY,
};

/* An ACI written entry by entry to FD (NAME in messages), compressed as
 * OPTS says, its image ID computed on the way. */
struct appc_tar_writer;
int appc_tar_writer_new(struct appc_tar_writer **out, int fd, const char *name,
                        const struct appc_build_options *opts, enum appc_tar_writer_mode mode,
                        appc_error_t *err);
/* Write ENTRY's header; in BUILD mode, build-time metadata (atime, ctime,
 * birth time) is stripped first; owner_root is applied in both. */
int appc_tar_writer_header(struct appc_tar_writer *w, struct archive_entry *entry,
                           appc_error_t *err);
int appc_tar_writer_data(struct appc_tar_writer *w, const void *buf, size_t len, appc_error_t *err);
/* LEN zeros of the entry being written, in a hole of the sparse map its
 * header gave: the writer leaves them out, so a hole of a terabyte costs a
 * thousand calls, none of them reading memory.  (Cancelled through CB;
 * WHAT names the entry in errors.) */
int appc_tar_writer_hole(struct appc_tar_writer *w, uint64_t len, const char *what,
                         const struct appc_callbacks *cb, appc_error_t *err);
/* Copy the data of ENTRY, whose header IN just read and W just wrote
 * (appc_tar_data_walk): the holes of its sparse map are passed on as such,
 * and the writer, which has the map, leaves them out again.  Holes are
 * passed a gigabyte at a time, so an entry may be at most
 * APPC_TAR_COPY_MAX bytes, what ext4 holds in one file: one of 2^62 is
 * refused, not walked. */
#define APPC_TAR_COPY_MAX (1ULL << 44)
int appc_tar_writer_copy(struct appc_tar_writer *w, struct archive *in, struct archive_entry *entry,
                         const char *what, const struct appc_callbacks *cb, appc_error_t *err);
/* Finish the archive and the compression; returns the image ID. */
int appc_tar_writer_close(struct appc_tar_writer *w, char image_id[APPC_IMAGE_ID_LEN + 1],
                          appc_error_t *err);
void appc_tar_writer_free(struct appc_tar_writer *w);
static inline void appc_tar_writer_freep(struct appc_tar_writer **w)
{
  appc_tar_writer_free(*w);
}
#define cleanup_tar_writer __attribute__((cleanup(appc_tar_writer_freep)))

/* Flags of appc_tar_write_tree. */
enum {
  /* Refuse a file whose name begins with ".wh.": an OCI layer reserves the
   * prefix for whiteouts (image-spec, layer.md), so a reader would delete
   * the file, or what it names, instead of unpacking it. */
  APPC_TAR_TREE_NO_WHITEOUT_NAMES = 1u << 0,
  /* Write each file's data whole, its holes as zeros, with no sparse map
   * (no GNU.sparse pax records): image-spec (layer.md) says an OCI layer
   * should not hold sparse entries, and readers (umoci) unpack them wrong. */
  APPC_TAR_TREE_NO_SPARSE = 1u << 1,
  /* Write the directory itself first, as "./" (mode, owner, times,
   * xattrs): an OCI layer's readers (umoci, podman) give the root of what
   * they unpack that entry's metadata, and 0755 root's without one. */
  APPC_TAR_TREE_ROOT = 1u << 2,
};

/* Write what the directory DIRFD holds (SRC in messages) into W, each
 * entry under its name relative to DIRFD, as `actool build` writes a
 * rootfs (aci/build.c): names sorted byte-wise, metadata and xattrs as
 * libarchive reads them, hard links resolved, sockets skipped; OPTS's cb
 * and owner_root apply, and FLAGS (APPC_TAR_TREE_*).  The directory itself
 * is written only with APPC_TAR_TREE_ROOT. */
int appc_tar_write_tree(struct appc_tar_writer *w, int dirfd, const char *src,
                        const struct appc_build_options *opts, unsigned flags, appc_error_t *err);

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
/* appc_tar_reader_open, the bytes read reported through CB's progress
 * (may be NULL). */
int appc_tar_reader_open_progress(struct appc_tar_reader **out, const char *path, bool hash,
                                  const struct appc_callbacks *cb, enum appc_progress_op op,
                                  appc_error_t *err);
/* The same on SRC (see <appc/aci.h>), which stays the caller's; TEE may be
 * NULL. */
int appc_tar_reader_open_source(struct appc_tar_reader **out, struct appc_source *src, bool hash,
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
/* The same, checking the data against ENTRY's header (appc_tar_data_walk):
 * what validation does with each entry. */
int appc_tar_reader_check_data(struct appc_tar_reader *r, struct archive_entry *entry,
                               const char *name, appc_error_t *err);

/* ---- an entry's data, as its header maps it (aci/reader.c) ---- */

struct appc_tar_data_ops {
  /* a block of data, in order; NULL: read and dropped */
  int (*data)(void *ctx, const void *buf, size_t len, appc_error_t *err);
  /* LEN bytes of a hole of the entry's sparse map, in order; may be NULL */
  int (*hole)(void *ctx, uint64_t len, appc_error_t *err);
  void *ctx;
  const struct appc_callbacks *cb; /* may cancel between blocks; may be NULL */
};
/* Read the data of ENTRY, whose header IN just read, as its header maps
 * it: the blocks IN holds, and the holes of its sparse map between them.
 * Bytes missing from a region the header says holds data are an error,
 * never zeros (libarchive's archive_read_data gives zeros): a 512-byte
 * entry that claims a terabyte is refused, not a terabyte long.  WHAT
 * names the entry in messages (NULL: the caller names it). */
int appc_tar_data_walk(struct archive *in, struct archive_entry *entry, const char *what,
                       const struct appc_tar_data_ops *ops, appc_error_t *err);
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
  struct appc_strset dirs; /* those of SEEN that are directories */
  bool have_manifest;
  bool have_rootfs;
};
enum appc_entry_role {
  APPC_ENTRY_IGNORED,  /* the top-level "." directory */
  APPC_ENTRY_MANIFEST, /* the manifest file */
  APPC_ENTRY_ROOTFS,   /* rootfs and anything below it */
};
/* Can ENTRY's owner be given to a file: uid and gid from 0 to 2^32 - 2
 * ((uid_t) -1 means "leave unchanged" to chown)? */
bool appc_aci_owner_valid(struct archive_entry *entry);
/* Check one entry; on success *canon holds the canonical name (caller frees). */
int appc_aci_check_entry(struct appc_aci_checker *c, struct archive_entry *entry,
                         enum appc_entry_role *role, char **canon, appc_error_t *err);
/* Check what can only be checked at the end (manifest and rootfs present). */
int appc_aci_check_end(const struct appc_aci_checker *c, appc_error_t *err);
void appc_aci_checker_clear(struct appc_aci_checker *c);
/* The data of E, the manifest entry R just read (at most APPC_MANIFEST_MAX
 * bytes, as stored). */
int appc_aci_read_manifest_entry(struct appc_tar_reader *r, struct archive_entry *e, char **json,
                                 size_t *len, appc_error_t *err);

/* The whole validation pass over an open reader (a full image ID needs the
 * reader opened with hashing): every entry checked against the archive rules
 * and then, when HOOK is not NULL, against HOOK's (which returns -1 with an
 * error to refuse the entry); the manifest read and parsed; the stream
 * drained into the hash.  INFO is filled as by appc_aci_validate. */
typedef int (*appc_aci_entry_hook)(struct archive_entry *e, const char *canon, void *data,
                                   appc_error_t *err);
int appc_aci_validate_stream(struct appc_tar_reader *r, struct appc_aci_info *info,
                             appc_aci_entry_hook hook, void *data, appc_error_t *err);

static inline void appc_tar_reader_freep(struct appc_tar_reader **r)
{
  appc_tar_reader_free(*r);
}
#define cleanup_tar_reader __attribute__((cleanup(appc_tar_reader_freep)))

#endif
