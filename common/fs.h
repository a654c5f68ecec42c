/* SPDX-License-Identifier: Apache-2.0 */
/* Files: writing all of a buffer, reading a whole file under a limit, and
 * replacing a file atomically.  One copy of each for every module, in the
 * way git's write_in_full, strbuf_read_file and lockfile serve git. */
#ifndef APPC_COMMON_FS_H
#define APPC_COMMON_FS_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "appc/callbacks.h"
#include "appc/error.h"

struct appc_callbacks;

/* Write all LEN bytes of BUF to FD, through short writes and EINTR.  0, or
 * -1 with errno set (no error object: callers name the file). */
int appc_write_all(int fd, const void *buf, size_t len);
/* The same at OFFSET (pwrite): a short write (a disk filling up) goes on
 * until one fails with the reason (ENOSPC) in errno. */
int appc_pwrite_all(int fd, const void *buf, size_t len, off_t offset);

/* Read LEN bytes from FD into BUF, through short reads (a pipe's) and
 * EINTR, or fewer at its end: how many, or -1 with errno set. */
ssize_t appc_read_in_full(int fd, void *buf, size_t len);

/* Flags for the readers. */
enum {
  APPC_READ_NOFOLLOW = 1 << 0, /* refuse a symlink as NAME (ELOOP) */
  APPC_READ_REGULAR = 1 << 1,  /* refuse anything but a regular file */
};

/* Read what FD holds from its current offset to its end into *OUT,
 * malloc'ed and NUL-terminated, *LEN bytes (LEN may be NULL).  More than MAX
 * bytes is an error (EFBIG), also from a pipe or a file that grows while it
 * is read.  Errors name WHAT. */
int appc_read_fd(int fd, const char *what, size_t max, char **out, size_t *len, appc_error_t *err);

/* Open NAME relative to DIRFD (AT_FDCWD or an absolute NAME for a path)
 * for reading; FLAGS from the enum above.  The descriptor (close-on-exec)
 * blocks on reads; errors name NAME. */
int appc_open_file_at(int dirfd, const char *name, unsigned flags, appc_error_t *err);

/* Open NAME relative to DIRFD (AT_FDCWD or an absolute NAME for a path)
 * and read it whole as appc_read_fd does; FLAGS from the enum above.
 * Errors name NAME. */
int appc_read_file_at(int dirfd, const char *name, size_t max, unsigned flags, char **out,
                      size_t *len, appc_error_t *err);

/* flock(FD, OP) waiting through signals: 0, or -1 with errno set. */
int appc_flock(int fd, int op);

/* Open (creating it, mode 0600) the lock file NAME in DIRFD and take an
 * exclusive flock on it, waiting for it: the descriptor (close-on-exec;
 * closing it releases the lock), or -1 with an error naming NAME. */
int appc_lock_at(int dirfd, const char *name, appc_error_t *err);

/* An unnamed file in the directory DIRFD, open for reading and writing:
 * O_TMPFILE, or where the file system lacks it a hidden name unlinked at
 * once; either way nothing is left behind however the process ends.  A
 * descriptor, or -1 with errno set. */
int appc_tmpfile_at(int dirfd);

/* Is NAME (relative to PARENT_FD, which may be AT_FDCWD) a directory
 * holding nothing?  False when it is anything else or cannot be read. */
bool appc_dir_is_empty(int parent_fd, const char *name);

/* A stream reading the directory DIR_FD (which stays the caller's, open),
 * from its start; NULL with errno set.  closedir() it. */
DIR *appc_dir_stream(int dir_fd);

/* What appc_copy_fd reports as it goes: CB's progress after each step
 * (WHAT done of TOTAL bytes), and CB's cancelled between steps. */
struct appc_copy_report {
  const struct appc_callbacks *cb;
  enum appc_progress_op op; /* what the copy is part of, for the progress line */
  const char *what;
  uint64_t total;
};

/* Copy what IN holds from its offset to its end to OUT (copy_file_range,
 * else read and write), reporting through REPORT (may be NULL) in steps of
 * at most 16 MiB.  Bytes copied, or -1 with errno set (ECANCELED when
 * REPORT's callbacks cancelled it). */
long long appc_copy_fd(int in, int out, const struct appc_copy_report *report);

/* Copying regular files' data between descriptors at the same offsets,
 * holes kept: what a caller keeps from one file to the next (a buffer, and
 * whether copy_file_range works between the two file systems). */
struct appc_file_copier {
  char *buf;   /* allocated when copy_file_range first fails */
  bool no_cfr; /* copy_file_range does not work here */
};
#define APPC_FILE_COPIER_INIT                                                                      \
  {                                                                                                \
    NULL, false                                                                                    \
  }
/* Copy the data of SRC, a regular file of metadata ST, into DST (empty,
 * open for writing) at the same offsets: a file with holes (fewer blocks
 * than its size) by its data extents alone (SEEK_DATA, SEEK_HOLE), so that
 * the copy is as sparse and its holes are never read; else to its end,
 * whatever ST's size says (a file of /proc says 0).  copy_file_range, else
 * pread and pwrite.  A source that shrinks meanwhile is copied as far as it
 * goes.  0, or -1 with errno set. */
int appc_file_copy_data(struct appc_file_copier *c, int src, int dst, const struct stat *st);
void appc_file_copier_clear(struct appc_file_copier *c);

/* Flags for appc_atomic_write_at and appc_tempfile_install. */
enum {
  /* fsync the file before it takes NAME and the directory after: once the
   * call returns, a crash leaves the new content.  Without it the content
   * may be lost in a crash, but never seen in part. */
  APPC_WRITE_DURABLE = 1 << 0,
  /* Fail with EEXIST when NAME exists (link(2), not rename(2)): of
   * concurrent writers exactly one installs its content. */
  APPC_WRITE_NOREPLACE = 1 << 1,
};

/* Give NAME (relative to DIRFD, which may be AT_FDCWD; it may contain
 * slashes) the content DATA with mode MODE (umask not applied), atomically:
 * the bytes go to a hidden temporary ".BASE.tmp-RANDOM" beside it, which is
 * then renamed (or linked) to NAME.  Readers see the old file or the new one,
 * never a part of it, and no temporary is left behind on any failure.
 * Errors name NAME and keep the errno of the step that failed. */
int appc_atomic_write_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                         unsigned flags, appc_error_t *err);

/* A file that takes its name only when complete (git's tempfile): an
 * unnamed O_TMPFILE in the directory it will be installed in, or where the
 * file system lacks O_TMPFILE, a hidden ".BASE.tmp-RANDOM" made with O_EXCL
 * and removed on discard.  A process killed half-way leaves nothing, or a
 * hidden name, behind; never a part of the file under its name. */
struct appc_tempfile {
  int fd;         /* open for reading and writing, -1 when none */
  int dirfd;      /* the directory: the caller's, not closed here */
  char name[256]; /* its hidden name while it has one, else "" */
  /* Told each time a hidden name appears (NAME) and goes (NULL), so that a
   * program can remove it if it is killed (actool/tempguard.c); optional. */
  void (*named)(const char *name, void *data);
  void *data;
  /* Asked once more at install, after the fsync and before the name: a
   * cancel heard during a long last flush still leaves no file; optional. */
  const struct appc_callbacks *cb;
};
#define APPC_TEMPFILE_INIT                                                                         \
  {                                                                                                \
    .fd = -1, .dirfd = -1                                                                          \
  }

/* Opens T in DIRFD for a file that will be called BASE, mode MODE (the
 * umask applies).  0, or -1 with errno set. */
int appc_tempfile_open(struct appc_tempfile *t, int dirfd, const char *base, mode_t mode);

/* Gives T the name NAME in its directory: replacing a file of that name,
 * or with APPC_WRITE_NOREPLACE failing with EEXIST if there is one; with
 * APPC_WRITE_DURABLE the content is on disk before it takes the name and
 * the directory entry after.  T's descriptor stays open.  0, or -1 with
 * errno set (ECANCELED: T's callbacks cancelled) and T still discardable. */
int appc_tempfile_install(struct appc_tempfile *t, const char *name, unsigned flags);

/* Removes T's hidden name, if it has one, and closes it. */
void appc_tempfile_discard(struct appc_tempfile *t);

/* PATH (leading '/'s ignored; "" is the root) in the tree ROOT_FD,
 * resolved as if ROOT_FD were '/' (openat2 RESOLVE_IN_ROOT): its symlinks,
 * absolute or not, and its ".." never lead out.  An fd, or -1 with errno. */
int appc_open_in_root(int root_fd, const char *path, int flags);

/* The directory PATH in the tree ROOT_FD (resolved as appc_open_in_root
 * does), made with its missing parents (MODE) first.  An fd, or -1 with
 * errno. */
int appc_mkdirs_in_root(int root_fd, const char *path, mode_t mode);
/* The same, telling MADE (when not NULL) the path of each directory it
 * makes, parents first, so that a caller can remove them again if what it
 * is doing fails.  A directory MADE fails for (it sets errno) is removed,
 * and -1 returned. */
int appc_mkdirs_in_root_noting(int root_fd, const char *path, mode_t mode,
                               int (*made)(const char *path, void *data), void *data);

/* A new private directory DIR/PREFIX-XXXXXX (mkdtemp), DIR NULL or "":
 * $TMPDIR, else /tmp.  Its malloc'd path, or NULL with errno set; *USED
 * (may be NULL) is the directory it was made in, for messages. */
char *appc_mkdtemp(const char *dir, const char *prefix, const char **used);

/* Hand the descriptor FD to the other end of the Unix socket SOCK
 * (SCM_RIGHTS).  0, or -1 with errno. */
int appc_send_fd(int sock, int fd);
/* A descriptor the other end handed over (close-on-exec), or -1 with
 * errno (EAGAIN with FLAGS MSG_DONTWAIT and nothing there; EBADMSG when
 * what came holds none; EPIPE when the other end closed a stream or
 * seqpacket socket). */
int appc_recv_fd(int sock, int flags);

/* Close every descriptor from FIRST up but the N of KEEP (sorted here): what
 * a process does before it becomes, or hands on to, what must not see the
 * caller's files. */
void appc_close_fds_except(unsigned first, int *keep, size_t n);

/* Is the directory of metadata AT the directory DIR_FD or one above it,
 * climbing ".." a directory at a time to the root (so that bind mounts and
 * symlinked paths are seen through)? */
bool appc_dir_is_or_above(int dir_fd, const struct stat *at);
/* The same for N directories: the index of the first of AT met climbing
 * from DIR_FD (DIR_FD itself first), or -1 when none is. */
int appc_dir_chain_find(int dir_fd, const struct stat *at, size_t n);

/* The directory DIR_FD opened again (O_PATH) through the mount of
 * MOUNT_FD, a directory of the same file system, by its file handle: a
 * climb of ".." from there follows the file system's own parents, where
 * one from a bind mount of a deeper directory leaves it at the mount's
 * root.  -1 and errno when it cannot be: another file system, one without
 * file handles, or a caller not allowed to open by handle
 * (CAP_DAC_READ_SEARCH). */
int appc_dir_reopen_in_mount(int dir_fd, int mount_fd);

/* Are the directories A and B on one mount, so that rename(2) works
 * between them? */
bool appc_same_mount(int a, int b);

/* Does PATH have a "." or ".." component ("/a/./b", "../c", "d/..")? */
bool appc_path_has_dot_component(const char *path);

/* CLOCK_MONOTONIC in milliseconds: for deadlines. */
int64_t appc_monotonic_ms(void);
/* Wait until FD is readable (or at its end, or a pidfd's process ended) or
 * DEADLINE (appc_monotonic_ms) passes, through signals: 1, 0 when it
 * passed, -1 with errno. */
int appc_wait_readable(int fd, int64_t deadline);

#endif
