/* SPDX-License-Identifier: Apache-2.0 */
/* Garbage collection: what no index record reaches, and what interrupted
 * processes left behind.
 *
 * gc holds the store lock exclusively, so no import, render or removal is
 * in flight: every temporary it finds is debris (except partial downloads,
 * kept for resuming until they are older than the grace period).  A cached
 * tree is removed when an image it was made from is gone or when it has not
 * been used within the grace period, but never while someone holds it. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "appc/types.h"
#include "store/private.h"

#define HTTP_RECORD_MAX (64u << 10)

/* Downloads being resumed (issue: fetch) live in tmp/ under this prefix. */
#define DOWNLOAD_PREFIX "download-"

struct gc {
  struct appc_store *s;
  double grace;
  struct timespec now;
  struct appc_store_gc_report *rep;
};

static double age(const struct gc *g, const struct timespec *t)
{
  return (double) (g->now.tv_sec - t->tv_sec) + (double) (g->now.tv_nsec - t->tv_nsec) / 1e9;
}

static _Thread_local unsigned long long walked_bytes; /* nftw passes no data */

static int add_file_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) path;
  (void) ftw;
  if (flag == FTW_F && S_ISREG(st->st_mode))
    walked_bytes += (unsigned long long) st->st_size;
  return 0;
}

/* The size of the regular files at NAME in tmp/, a file or a tree (never
 * through a symlink), for the report's bytes: what cannot be read counts
 * nothing. */
static unsigned long long tmp_bytes(const struct gc *g, const char *name)
{
  cleanup_free char *path = NULL;

  if (asprintf(&path, "%s/%s/%s", g->s->path, STORE_TMP, name) < 0)
    return 0;
  walked_bytes = 0;
  (void) nftw(path, add_file_size, 16, FTW_PHYS | FTW_MOUNT);
  return walked_bytes;
}

static int gc_temporary(const char *name, void *data, appc_error_t *err)
{
  struct gc *g = data;
  struct stat st;

  if (fstatat(g->s->tmp_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  if (strncmp(name, DOWNLOAD_PREFIX, sizeof DOWNLOAD_PREFIX - 1) == 0 &&
      age(g, &st.st_mtim) < g->grace)
    return 0;
  unsigned long long bytes = tmp_bytes(g, name);
  if (appc_remove_tree(g->s->tmp_fd, name, err) < 0)
    return -1;
  g->rep->temporaries++;
  g->rep->bytes += bytes;
  return 0;
}

static int gc_blob(const char *name, void *data, appc_error_t *err)
{
  struct gc *g = data;
  struct stat st;
  bool debris = name[0] == '.'; /* a named temporary of an interrupted import */

  if (!debris && (!appc_store_is_image_id(name) ||
                  faccessat(g->s->images_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0))
    return 0;
  if (fstatat(g->s->blobs_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  if (unlinkat(g->s->blobs_fd, name, 0) < 0 && errno != ENOENT)
    return appc_error_make(err, errno, "%s/%s/%s", g->s->path, STORE_BLOBS, name);
  if (debris)
    g->rep->temporaries++;
  else
    g->rep->blobs++;
  g->rep->bytes += (unsigned long long) st.st_size;
  return 0;
}

/* Are all the images TREE was rendered from still indexed? */
static bool tree_layers_present(struct gc *g, const char *tree)
{
  cleanup_free char *ids = NULL;
  cleanup_close int tfd = appc_store_tree_open(g->s, tree);
  appc_error_t ignored = NULL;

  if (tfd < 0 ||
      appc_read_file_at(tfd, TREE_LAYERS, 1u << 20, APPC_READ_NOFOLLOW | APPC_READ_REGULAR, &ids,
                        NULL, &ignored) < 0) {
    appc_error_release(&ignored);
    return false;
  }
  char *save = NULL; /* strtok_r: two stores may be used from two threads */
  for (char *line = strtok_r(ids, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
    if (!appc_store_is_image_id(line) ||
        faccessat(g->s->images_fd, line, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
      return false;
  return true;
}

static int gc_tree(const char *name, void *data, appc_error_t *err)
{
  struct gc *g = data;
  char tmp[64];
  struct stat st;
  cleanup_close int tfd = appc_store_tree_open(g->s, name);
  cleanup_close int lock = -1;

  /* a tree that is not a directory (a symlink) is damage: stale */
  if (tfd >= 0)
    lock = openat(tfd, TREE_LOCK, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  bool stale = lock < 0 || fstat(lock, &st) < 0 || age(g, &st.st_mtim) >= g->grace ||
               appc_store_tree_format(g->s, name) < TREE_FORMAT_NUM;
  if (!stale && tree_layers_present(g, name))
    return 0;
  if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) < 0) {
    g->rep->trees_in_use++;
    return 0;
  }
  /* Out of trees/ in one step, then removed at leisure. */
  if (appc_store_temp_name(tmp, sizeof tmp, "gc-tree") < 0 ||
      renameat(g->s->trees_fd, name, g->s->tmp_fd, tmp) < 0)
    return appc_error_make(err, errno, "%s/%s/%s", g->s->path, STORE_TREES, name);
  unsigned long long bytes = tmp_bytes(g, tmp);
  if (appc_remove_tree(g->s->tmp_fd, tmp, err) < 0)
    return -1;
  g->rep->trees++;
  g->rep->bytes += bytes;
  return 0;
}

/* The image ID an HTTP cache record points at, or NULL. */
static char *http_record_image(int dirfd, const char *name)
{
  cleanup_free char *text = NULL;
  cleanup_error appc_error_t ignored = NULL;
  size_t len = 0;
  json_object *o, *v;
  char *id = NULL;

  if (appc_read_file_at(dirfd, name, HTTP_RECORD_MAX, APPC_READ_NOFOLLOW | APPC_READ_REGULAR, &text,
                        &len, &ignored) < 0)
    return NULL;
  o = json_tokener_parse(text);
  if (o != NULL && json_object_object_get_ex(o, "image", &v) &&
      json_object_is_type(v, json_type_string) &&
      appc_validate_image_id_full(json_object_get_string(v), &ignored) == 0)
    id = strdup(json_object_get_string(v));
  json_object_put(o);
  return id;
}

/* The image ID on the first line of a record of cache/build or cache/oci,
 * or NULL.  Only that line is read: a build step's record goes on with its
 * manifest, of any size. */
static char *first_line_image(int dirfd, const char *name)
{
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  cleanup_error appc_error_t ignored = NULL;
  char line[APPC_IMAGE_ID_LEN + 2] = "";
  struct stat st;

  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
      pread(fd, line, sizeof line - 1, 0) < (ssize_t) APPC_IMAGE_ID_LEN)
    return NULL;
  line[strcspn(line, "\n")] = '\0';
  return appc_validate_image_id_full(line, &ignored) == 0 ? strdup(line) : NULL;
}

/* A cache record (AREA: what a URL gave, a build step, an OCI layer or
 * pull) is worth keeping while its image, as IMAGE_OF reads it, is in the
 * store. */
static int gc_records(struct gc *g, enum appc_store_area area,
                      char *(*image_of)(int dirfd, const char *name), appc_error_t *err)
{
  cleanup_close int fd = appc_store_area_open(g->s, area, false, err);
  DIR *d;
  struct dirent *de;

  if (fd < 0)
    return errno == ENOENT && *err == NULL ? 0 : -1;
  d = fdopendir(fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (d == NULL)
    return appc_error_make(err, errno, "%s/%s", g->s->path, appc_store_area_name(area));
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    cleanup_free char *id = image_of(fd, de->d_name);
    if (id != NULL && faccessat(g->s->images_fd, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
      continue;
    if (unlinkat(fd, de->d_name, 0) == 0)
      g->rep->temporaries++;
  }
  closedir(d);
  return 0;
}

int appc_store_gc(struct appc_store *s, double grace_seconds, struct appc_store_gc_report *report,
                  appc_error_t *err)
{
  struct appc_store_gc_report dummy;
  struct gc g = {.s = s, .grace = grace_seconds, .rep = report != NULL ? report : &dummy};
  int r;

  memset(g.rep, 0, sizeof *g.rep);
  clock_gettime(CLOCK_REALTIME, &g.now);
  if (appc_store_lock(s, true, err) < 0)
    return -1;
  r = appc_store_each_entry(s, s->tmp_fd, STORE_TMP, gc_temporary, &g, err);
  if (r == 0)
    r = appc_store_each_entry(s, s->blobs_fd, STORE_BLOBS, gc_blob, &g, err);
  if (r == 0)
    r = appc_store_each_entry(s, s->trees_fd, STORE_TREES, gc_tree, &g, err);
  if (r == 0)
    r = gc_records(&g, APPC_STORE_AREA_HTTP_CACHE, http_record_image, err);
  if (r == 0)
    r = gc_records(&g, APPC_STORE_AREA_BUILD_CACHE, first_line_image, err);
  if (r == 0)
    r = gc_records(&g, APPC_STORE_AREA_OCI_CACHE, first_line_image, err);
  appc_store_unlock(s);
  return r;
}
