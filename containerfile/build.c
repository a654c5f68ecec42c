/* SPDX-License-Identifier: Apache-2.0 */
/* A Containerfile built through the layout steps (<appc/containerfile.h>).
 *
 * The work is an image layout in the store's tmp/ (so `layout run`'s upper
 * layer moves into it by rename): FROM makes it (`layout init [--from]`),
 * RUN is `layout run`, COPY and ADD are `layout copy` from the context,
 * the others edit the manifest, each step committed (validated) at once so
 * that an error names its line.  The app is what docker2aci makes of a
 * Docker config (<appc/oci.h>'s names): exec is ENTRYPOINT + CMD, a port is
 * "PORT-PROTO", a volume a mount point named after its path, LABELs are
 * annotations, USER without a group runs with group 0.
 *
 * The cache: each step has a key, the SHA-256 of the previous step's key
 * and of the step (step_text: the instruction as written and every
 * variable as it stands; for COPY and ADD also the names, types, modes and
 * content hashes, common/contenthash.h, of the files it copies), the first
 * key being the base image's ID and the image name.  After a step, the
 * store keeps, in its cache/build/ area, a file named by the key holding
 * the ID of an image with the layout's rootfs and the manifest's text: a
 * step that changed the rootfs (RUN, COPY, ADD, WORKDIR) builds and
 * imports an image (named actool.local/build-cache, which FROM refuses),
 * the others reuse the previous step's.  A build walks its steps while
 * their keys are found, and makes its layout from the last one found: an
 * unchanged Containerfile runs nothing, a change re-runs from the first
 * changed step on.  An entry whose image is gone (image rm, gc) is a
 * miss. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "appc/aci.h"
#include "appc/layout.h"
#include "appc/oci.h"
#include "appc/types.h"
#include "appc/schema.h"
#include "aci/layout.h"
#include "aci/stream.h"
#include "common/abi.h"
#include "common/array.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/contenthash.h"
#include "common/digest.h"
#include "common/fs.h"
#include "common/kv.h"
#include "common/suggest.h"
#include "containerfile/internal.h"

#define CACHE_NAME "actool.local/build-cache"
#define IGNORE_MAX (1024 * 1024)
#define CACHE_ENTRY_MAX (4 * 1024 * 1024 + 256)

struct builder {
  struct appc_store *s;
  const struct appc_containerfile_options *o;
  const char *file;
  char *context; /* real path */
  struct cf_file cf;
  struct cf_ignore ign;
  char *name;
  /* what the steps so far made of the variables and the app */
  struct appc_kv_list env, args;
  struct appc_kv_list meta_args; /* the ARGs before FROM: FROM's alone */
  char *workdir;
  char **entrypoint, **cmd; /* the base image's, then the file's */
  size_t n_entrypoint, n_cmd;
  bool exec_written;     /* the file has ENTRYPOINT or CMD */
  bool cmd_set;          /* a CMD of the file came first: ENTRYPOINT keeps it */
  bool entrypoint_shell; /* ENTRYPOINT's shell form, which takes no CMD */
  /* the work */
  char *tmp;    /* tmp/containerfile-XXXXXX */
  char *layout; /* tmp/.../layout */
  struct appc_layout *l;
  char key[APPC_DIGEST_HEX_MAX];
  char image[APPC_IMAGE_ID_LEN + 1]; /* the image holding the rootfs as it is */
  bool layout_made;                  /* else the cache still stands for it */
  size_t untaken_keys;               /* of the base image's manifest */
  char *cached_manifest;             /* the manifest of the last cache hit */
  unsigned step, steps;
  char where[PATH_MAX + 32]; /* "FILE:LINE" */
  size_t expand_left;        /* of CF_EXPANDED_MAX */
  appc_error_t *err;
};

static void __attribute__((format(printf, 2, 3))) say(struct builder *b, const char *fmt, ...)
{
  char line[1024];
  va_list ap;

  if (b->o->progress == NULL)
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  b->o->progress(b->o->data, line);
}

static int __attribute__((format(printf, 3, 4)))
fail(struct builder *b, int e, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  appc_error_makev(b->err, e, fmt, ap);
  va_end(ap);
  return appc_error_prefix(b->err, "%s", b->where);
}

/* ---- variables ---- */

static int kv_set(struct appc_kv_list *kv, const char *name, const char *value)
{
  for (size_t i = 0; i < kv->len; i++)
    if (strcmp(kv->items[i].name, name) == 0) {
      char *v = strdup(value);
      if (v == NULL)
        return -1;
      free(kv->items[i].value);
      kv->items[i].value = v;
      return 0;
    }
  if (APPC_ARRAY_EXTEND(kv->items, kv->len, 1) < 0)
    return -1;
  kv->items[kv->len].name = strdup(name);
  kv->items[kv->len].value = strdup(value);
  kv->len++;
  return kv->items[kv->len - 1].name != NULL && kv->items[kv->len - 1].value != NULL ? 0 : -1;
}

static int words(struct builder *b, const struct cf_instr *in, bool split, char ***out, size_t *n)
{
  struct cf_vars v = {.env = &b->env, .args = &b->args, .left = &b->expand_left};

  return cf_words(in->args, b->cf.escape, &v, split, b->where, out, n, b->err);
}

/* One word, expanded (not split). */
static int word(struct builder *b, const char *text, char **out)
{
  struct cf_vars v = {.env = &b->env, .args = &b->args, .left = &b->expand_left};
  char **w = NULL;
  size_t n = 0;

  if (cf_words(text, b->cf.escape, &v, false, b->where, &w, &n, b->err) < 0)
    return -1;
  *out = w[0];
  w[0] = NULL;
  cf_words_free(w, n);
  return 0;
}

/* IN's exec-form words, each expanded as one word: Docker expands those of
 * COPY, ADD and VOLUME (not RUN's, CMD's or ENTRYPOINT's). */
static int json_words(struct builder *b, const struct cf_instr *in, char ***out, size_t *n)
{
  *n = 0;
  *out = calloc(in->n_words + 1, sizeof **out);
  if (*out == NULL)
    return appc_error_make(b->err, ENOMEM, "%s", b->where);
  for (; *n < in->n_words; (*n)++)
    if (word(b, in->words[*n], &(*out)[*n]) < 0)
      return -1;
  return 0;
}

/* What pairs() does with each NAME and VALUE (NULL: none was written). */
typedef int (*pair_fn)(struct builder *b, const char *name, const char *value);

/* The NAME=VALUE word RAW, NAME and VALUE expanded (*VALUE NULL for a
 * NAME alone, where NAME_ONLY allows it). */
static int one_pair(struct builder *b, const struct cf_instr *in, char *raw, bool name_only,
                    char **name, char **value)
{
  char *eq = strchr(raw, '=');

  if ((eq == NULL && !name_only) || eq == raw)
    return fail(b, 0, "%s: \"%s\" is not NAME=VALUE", in->keyword, raw);
  if (eq != NULL)
    *eq = '\0';
  if (word(b, raw, name) < 0 || (eq != NULL && word(b, eq + 1, value) < 0))
    return -1;
  if ((*name)[0] == '\0')
    return fail(b, 0, "%s: an empty name", in->keyword);
  return 0;
}

/* NAME=VALUE words (ENV, LABEL, ARG), each value expanded whole, given to
 * TAKE; or ENV's old "NAME VALUE..." form (LEGACY), the rest of the line
 * the value.  A word without '=' is a NAME with no value where NAME_ONLY
 * allows it (ARG).  Every word is expanded before TAKE sees the first, as
 * Docker does: "ENV a=2 b=$a" gives b the value a had before. */
static int pairs(struct builder *b, const struct cf_instr *in, bool legacy, bool name_only,
                 pair_fn take)
{
  char **raw = NULL, **names = NULL, **values = NULL;
  size_t n = 0;
  int r = 0;

  if (cf_split_raw(in->args, b->cf.escape, &raw, &n) < 0)
    return appc_error_make(b->err, ENOMEM, "%s", b->where);
  if (legacy && n > 0 && strchr(raw[0], '=') == NULL) {
    const char *after = in->args + strcspn(in->args, " \t");
    char *value = NULL;
    if (n < 2)
      r = fail(b, 0, "%s: \"%s\" is not NAME=VALUE", in->keyword, raw[0]);
    else if (word(b, after + strspn(after, " \t"), &value) < 0)
      r = -1;
    else
      r = take(b, raw[0], value);
    free(value);
    cf_words_free(raw, n);
    return r;
  }
  names = calloc(n + 1, sizeof *names);
  values = calloc(n + 1, sizeof *values);
  if (names == NULL || values == NULL) {
    free(names);
    free(values);
    cf_words_free(raw, n);
    return appc_error_make(b->err, ENOMEM, "%s", b->where);
  }
  for (size_t i = 0; r == 0 && i < n; i++)
    r = one_pair(b, in, raw[i], name_only, &names[i], &values[i]);
  for (size_t i = 0; r == 0 && i < n; i++)
    r = take(b, names[i], values[i]);
  cf_words_free(names, n);
  cf_words_free(values, n);
  cf_words_free(raw, n);
  return r;
}

/* ---- .containerignore ---- */

static int read_ignore(struct builder *b)
{
  static const char *const names[] = {".containerignore", ".dockerignore"};
  cleanup_close int dir = open(b->context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_free char *text = NULL;
  size_t len = 0;

  if (dir < 0)
    return appc_error_make(b->err, errno, "%s: the build context", b->context);
  for (size_t i = 0; i < 2; i++) {
    if (faccessat(dir, names[i], F_OK, AT_SYMLINK_NOFOLLOW) != 0)
      continue;
    if (appc_read_file_at(dir, names[i], IGNORE_MAX, APPC_READ_REGULAR | APPC_READ_NOFOLLOW, &text,
                          &len, b->err) < 0)
      return appc_error_prefix(b->err, "%s", b->context);
    for (size_t off = 0; off < len;) {
      const char *nl = memchr(text + off, '\n', len - off);
      size_t l = nl != NULL ? (size_t) (nl - (text + off)) : len - off;
      if (cf_ignore_add(&b->ign, text + off, l) < 0)
        return appc_error_make(b->err, ENOMEM, "%s", names[i]);
      off += l + 1;
    }
    break;
  }
  return 0;
}

/* Whether REL, the context's path PATH, is left out by the ignore file: a
 * directory left out is still walked when an exception may take back
 * something below it ("dir", then "!dir/keep"). */
static bool left_out(const struct builder *b, const char *path, const char *rel)
{
  struct stat st;

  if (!cf_ignored(&b->ign, rel))
    return false;
  return !(cf_ignore_reincludes_below(&b->ign, rel) && lstat(path, &st) == 0 &&
           S_ISDIR(st.st_mode));
}

static bool skip_source(void *data, const char *path)
{
  const struct builder *b = data;
  size_t n = strlen(b->context);

  if (strncmp(path, b->context, n) != 0 || (path[n] != '/' && path[n] != '\0'))
    return false;
  return path[n] == '/' && left_out(b, path, path + n + 1);
}

/* ---- sources of COPY and ADD ---- */

struct sources {
  char **paths; /* absolute, inside the context, symlinks resolved */
  char **names; /* the last component of each as written: what it is copied as */
  size_t len, cap, names_cap;
};

static void sources_clear(struct sources *s)
{
  cf_words_free(s->paths, s->len);
  cf_words_free(s->names, s->len);
  memset(s, 0, sizeof *s);
}

/* PATH, a source: NAMED when the file named it (no wildcard), and then
 * one the ignore file leaves out is not found, as Docker has it (its
 * context does not hold it); a wildcard's match is only skipped. */
static int add_source(struct builder *b, struct sources *s, const char *path, bool named)
{
  char real[PATH_MAX];
  size_t n = strlen(b->context);
  const char *rel = path + (strncmp(path, b->context, n) == 0 ? n + 1 : 0);

  if (realpath(path, real) == NULL)
    return fail(b, errno, "%s", rel);
  if (strncmp(real, b->context, n) != 0 || (real[n] != '/' && real[n] != '\0'))
    return fail(b, 0, "%s: outside the build context %s", path, b->context);
  if (real[n] == '/' && left_out(b, real, real + n + 1))
    return named ? fail(b, 0, "%s: not found in the build context (the ignore file leaves it out)",
                        rel)
                 : 0;
  const char *slash = strrchr(path, '/');
  if (APPC_ARRAY_RESERVE(s->paths, s->cap, s->len + 2) < 0 ||
      APPC_ARRAY_RESERVE(s->names, s->names_cap, s->len + 2) < 0 ||
      (s->paths[s->len] = strdup(real)) == NULL)
    return appc_error_make(b->err, ENOMEM, "%s", b->where);
  /* a symlink is copied as what it leads to, under its own name, as
   * Docker copies it */
  if ((s->names[s->len] = strdup(slash != NULL ? slash + 1 : path)) == NULL) {
    free(s->paths[s->len]);
    return appc_error_make(b->err, ENOMEM, "%s", b->where);
  }
  s->paths[++s->len] = NULL;
  s->names[s->len] = NULL;
  return 0;
}

/* PATH (relative) does not climb above its start with "..". */
static bool stays_inside(const char *path)
{
  long depth = 0;

  for (const char *p = path; *p != '\0';) {
    size_t n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.')
      depth--;
    else if (n > 0 && !(n == 1 && p[0] == '.'))
      depth++;
    if (depth < 0)
      return false;
    p += n;
    p += strspn(p, "/");
  }
  return true;
}

/* DIR "/" PATTERN, DIR's glob characters (and backslashes) escaped. */
static char *glob_escaped(const char *dir, const char *pattern)
{
  size_t n = strlen(dir), k = 0;
  char *out = malloc(2 * n + strlen(pattern) + 2);

  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    if (strchr("*?[]\\", dir[i]) != NULL)
      out[k++] = '\\';
    out[k++] = dir[i];
  }
  out[k++] = '/';
  strcpy(out + k, pattern);
  return out;
}

/* Whether REL has a "." or ".." component. */
static bool has_dot_component(const char *rel)
{
  for (const char *p = rel; *p != '\0';) {
    size_t n = strcspn(p, "/");
    if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
      return true;
    p += n;
    p += strspn(p, "/");
  }
  return false;
}

/* The wildcard SRC (relative, cleaned) matched in the context.  A match
 * with a "." or ".." component was made by the glob (".*", ".[.]"), since
 * SRC has none: Docker's walk of the context meets no such entry, and one
 * leads outside it, whose names no message may give away. */
static int glob_source(struct builder *b, struct sources *s, const char *src)
{
  size_t n = strlen(b->context), taken = 0;
  /* The context's own path is no pattern: its *, ? and [ are escaped. */
  cleanup_free char *path = glob_escaped(b->context, src);
  glob_t g;
  int r = 0;

  if (path == NULL)
    return appc_error_make(b->err, ENOMEM, "%s", b->where);
  /* GLOB_PERIOD: Go's filepath.Match, Docker's, has "*" match a leading '.' */
  int gr = glob(path, GLOB_PERIOD, NULL, &g);
  if (gr == GLOB_NOMATCH)
    return fail(b, 0, "%s: no file in the build context matches", src);
  if (gr != 0)
    return fail(b, EIO, "%s: cannot expand", src);
  for (size_t i = 0; r == 0 && i < g.gl_pathc; i++) {
    if (strlen(g.gl_pathv[i]) <= n || has_dot_component(g.gl_pathv[i] + n + 1))
      continue;
    r = add_source(b, s, g.gl_pathv[i], false);
    taken++;
  }
  globfree(&g);
  if (r == 0 && taken == 0)
    return fail(b, 0, "%s: no file in the build context matches", src);
  return r;
}

/* SRC of COPY/ADD: a path in the context ('/' is the context's root),
 * wildcards expanded as Docker does. */
static int expand_source(struct builder *b, struct sources *s, const char *src)
{
  cleanup_free char *path = NULL, *clean = NULL;

  while (*src == '/')
    src++;
  if (!stays_inside(src))
    return fail(b, 0, "%s: outside the build context", src);
  if (strpbrk(src, "*?[") != NULL && (clean = cf_path_clean(src, strlen(src))) == NULL)
    return appc_error_make(b->err, ENOMEM, "%s", b->where);
  /* cleaned, it may hold no wildcard any more: a "*" followed by ".." */
  if (clean != NULL && strpbrk(clean, "*?[") != NULL)
    return glob_source(b, s, clean);
  if (asprintf(&path, "%s/%s", b->context, clean != NULL ? clean : src) < 0) {
    path = NULL;
    return appc_error_make(b->err, ENOMEM, "%s", b->where);
  }
  return add_source(b, s, path, true);
}

/* ---- the cache's view of a source tree ---- */

static void digest_str(struct appc_digest *d, const char *s)
{
  appc_digest_update(d, s, strlen(s) + 1);
}

/* What cancels the build's long loops (actool's SIGINT, SIGTERM). */
static const struct appc_callbacks *cancel_cb(const struct builder *b)
{
  return b->o->build != NULL ? b->o->build->cb : NULL;
}

/* A source file's content hash (common/contenthash.h): its holes are not
 * read, so a sparse file costs what its data costs.  ST is what lstat said:
 * a file replaced since (by a fifo, whose open would wait) is an error. */
static int digest_content(struct builder *b, const char *path, const struct stat *st,
                          unsigned char content[32])
{
  cleanup_close int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  unsigned char buf[65536];
  struct stat now;

  if (fd < 0 || fstat(fd, &now) < 0)
    return fail(b, errno, "%s", path);
  if (now.st_dev != st->st_dev || now.st_ino != st->st_ino)
    return fail(b, 0, "%s: replaced while being read", path);
  if (appc_content_hash_fd(fd, st->st_size, buf, sizeof buf, cancel_cb(b), content, b->err) < 0) {
    appc_error_prefix(b->err, "%s", path);
    return appc_error_prefix(b->err, "%s", b->where);
  }
  return 0;
}

static int digest_tree(struct builder *b, struct appc_digest *d, const char *path, unsigned depth);

static int digest_entry(struct builder *b, struct appc_digest *d, const char *path, unsigned depth)
{
  struct stat st;
  char meta[64];

  if (skip_source(b, path))
    return 0;
  if (appc_cb_cancelled(cancel_cb(b)))
    return fail(b, ECANCELED, "%s: cancelled", path);
  if (lstat(path, &st) < 0)
    return fail(b, errno, "%s", path);
  digest_str(d, path + strlen(b->context));
  snprintf(meta, sizeof meta, "%o %lld", (unsigned) st.st_mode, (long long) st.st_size);
  digest_str(d, meta);
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0)
      return fail(b, errno, "%s", path);
    target[n] = '\0';
    digest_str(d, target);
  } else if (S_ISREG(st.st_mode)) {
    unsigned char content[32];
    if (digest_content(b, path, &st, content) < 0)
      return -1;
    appc_digest_update(d, content, sizeof content);
  } else if (S_ISDIR(st.st_mode)) {
    return digest_tree(b, d, path, depth + 1);
  }
  return 0;
}

static int digest_tree(struct builder *b, struct appc_digest *d, const char *path, unsigned depth)
{
  struct dirent **list = NULL;
  int n, r = 0;

  if (depth > 256)
    return fail(b, ELOOP, "%s: nested too deep", path);
  n = scandir(path, &list, NULL, alphasort);
  if (n < 0)
    return fail(b, errno, "%s", path);
  for (int i = 0; i < n; i++) {
    const char *e = list[i]->d_name;
    if (r == 0 && strcmp(e, ".") != 0 && strcmp(e, "..") != 0) {
      cleanup_free char *sub = NULL;
      if (asprintf(&sub, "%s/%s", path, e) < 0) {
        sub = NULL;
        r = appc_error_make(b->err, ENOMEM, "%s", path);
      } else {
        r = digest_entry(b, d, sub, depth);
      }
    }
    free(list[i]);
  }
  free(list);
  return r;
}

/* ---- the layout ---- */

static int commit(struct builder *b)
{
  if (appc_layout_commit(b->l, b->err) < 0)
    return appc_error_prefix(b->err, "%s", b->where);
  return 0;
}

/* A key of the base image's manifest that the schema does not define,
 * which the layout leaves out: said, as `layout init --from` says it (the
 * first APPC_UNKNOWN_KEYS_SHOWN, then how many more). */
static void say_untaken_key(void *data, const char *path, const char *suggestion)
{
  struct builder *b = data;

  if (++b->untaken_keys > APPC_UNKNOWN_KEYS_SHOWN)
    return;
  if (suggestion != NULL)
    say(b, "warning: %s: %s: unknown key, not taken into the image (did you mean \"%s\"?)",
        b->image, path, suggestion);
  else
    say(b, "warning: %s: %s: unknown key, not taken into the image", b->image, path);
}

/* The layout, made from the cache's image and manifest at the first step
 * that must run. */
static int make_layout(struct builder *b)
{
  if (b->layout_made)
    return 0;
  if (b->image[0] == '\0' ? appc_layout_create(b->layout, b->name, b->err) < 0
                          : appc_layout_create_from_warn(b->s, b->image, b->layout, b->name,
                                                         say_untaken_key, b, b->err) < 0)
    return -1;
  if (b->untaken_keys > APPC_UNKNOWN_KEYS_SHOWN)
    say(b, "warning: %s: ... and %zu more unknown keys, not taken into the image", b->image,
        b->untaken_keys - APPC_UNKNOWN_KEYS_SHOWN);
  if (b->cached_manifest != NULL) {
    cleanup_close int fd = open(b->layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || appc_atomic_write_at(fd, "manifest", b->cached_manifest,
                                       strlen(b->cached_manifest), 0644, 0, b->err) < 0)
      return fd < 0 ? appc_error_make(b->err, errno, "%s", b->layout) : -1;
  }
  if (appc_layout_open(b->layout, &b->l, b->err) < 0)
    return -1;
  b->layout_made = true;
  return 0;
}

/* ---- the cache ---- */

static int next_key(struct builder *b, const char *what, size_t len)
{
  cleanup_digest struct appc_digest *d = NULL;

  if (appc_digest_new(APPC_DIGEST_SHA256, &d, b->err) < 0)
    return -1;
  digest_str(d, b->key);
  appc_digest_update(d, what, len);
  return appc_digest_final(d, b->key, b->err);
}

/* The cache entry of the current key: its image, if the store still has
 * it, and the manifest's text. */
static bool cache_find(struct builder *b, char id[APPC_IMAGE_ID_LEN + 1], char **manifest)
{
  appc_error_t ignored = NULL;
  cleanup_free char *text = NULL;
  cleanup_close int dir = -1;
  struct appc_store_image img = {0};
  size_t len = 0;
  bool found = false;

  if (b->o->no_cache)
    return false;
  dir = appc_store_area_open(b->s, APPC_STORE_AREA_BUILD_CACHE, false, &ignored);
  if (dir >= 0 &&
      appc_read_file_at(dir, b->key, CACHE_ENTRY_MAX, APPC_READ_REGULAR | APPC_READ_NOFOLLOW, &text,
                        &len, &ignored) == 0) {
    char *nl = memchr(text, '\n', len);
    if (nl != NULL && (size_t) (nl - text) == APPC_IMAGE_ID_LEN) {
      *nl = '\0';
      if (appc_store_lookup(b->s, text, &img, &ignored) == 0 && strcmp(img.id, text) == 0 &&
          (*manifest = strdup(nl + 1)) != NULL) {
        memcpy(id, img.id, APPC_IMAGE_ID_LEN + 1);
        found = true;
      }
      appc_store_image_clear(&img);
    }
  }
  appc_error_release(&ignored);
  return found;
}

/* The layout's rootfs as an image of the store, named CACHE_NAME. */
static int cache_image(struct builder *b, const char *manifest, size_t len)
{
  json_object *doc = json_tokener_parse(manifest);
  cleanup_free char *aci = NULL;
  cleanup_close int dir = open(b->layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct appc_build_options bo = {.compression = APPC_COMPRESSION_NONE, .overwrite = true};
  struct appc_store_image img = {0};
  char id[APPC_IMAGE_ID_LEN + 1];
  int r = -1;

  if (doc == NULL || dir < 0 || asprintf(&aci, "%s/step.aci", b->tmp) < 0) {
    aci = NULL;
    json_object_put(doc);
    return appc_error_make(b->err, ENOMEM, "%s", b->layout);
  }
  json_object_object_add(doc, "name", json_object_new_string(CACHE_NAME));
  const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY);
  if (text != NULL &&
      appc_atomic_write_at(dir, "manifest", text, strlen(text), 0644, 0, b->err) == 0 &&
      appc_aci_build_locked(b->layout, aci, &bo, id, b->err) == 0 &&
      appc_store_import(b->s, aci, NULL, &img, NULL, b->err) == 0) {
    memcpy(b->image, img.id, sizeof b->image);
    r = 0;
  }
  appc_store_image_clear(&img);
  json_object_put(doc);
  unlink(aci);
  /* the layout's own manifest back */
  appc_error_t ignored = NULL;
  if (appc_atomic_write_at(dir, "manifest", manifest, len, 0644, 0, r == 0 ? b->err : &ignored) <
          0 &&
      r == 0)
    r = -1;
  appc_error_release(&ignored);
  return r;
}

/* After a step that ran: the cache learns the layout as it is now
 * (ROOTFS_CHANGED: a new image of it, else the last one). */
static int cache_store(struct builder *b, bool rootfs_changed)
{
  cleanup_free char *manifest = NULL, *entry = NULL;
  cleanup_close int dir = -1;
  size_t len = 0;

  if (b->o->no_cache)
    return 0;
  cleanup_close int ldir = open(b->layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (ldir < 0 || appc_read_file_at(ldir, "manifest", CACHE_ENTRY_MAX - 256, APPC_READ_REGULAR,
                                    &manifest, &len, b->err) < 0)
    return ldir < 0 ? appc_error_make(b->err, errno, "%s", b->layout) : -1;
  if (rootfs_changed && cache_image(b, manifest, len) < 0)
    return -1;
  if (asprintf(&entry, "%s\n%s", b->image, manifest) < 0) {
    entry = NULL;
    return appc_error_make(b->err, ENOMEM, "%s", b->where);
  }
  dir = appc_store_area_open(b->s, APPC_STORE_AREA_BUILD_CACHE, true, b->err);
  if (dir < 0)
    return -1;
  return appc_atomic_write_at(dir, b->key, entry, strlen(entry), 0644, 0, b->err);
}

/* ---- the instructions ---- */

/* ARG NAME[=DEFAULT]: --build-arg's value, else the default; a name with
 * neither stays unset.  In the stage, a NAME without a default takes the
 * value an ARG before FROM gave it, as Docker's does. */
static int take_arg(struct builder *b, const char *name, const char *value)
{
  if (value == NULL)
    value = appc_kv_get(&b->meta_args, name);
  for (size_t k = 0; b->o->build_args != NULL && k < b->o->build_args->len; k++)
    if (strcmp(b->o->build_args->items[k].name, name) == 0)
      value = b->o->build_args->items[k].value;
  if (value != NULL && kv_set(&b->args, name, value) < 0)
    return appc_error_make(b->err, ENOMEM, "%s", b->where);
  return 0;
}

static int do_arg(struct builder *b, const struct cf_instr *in)
{
  return pairs(b, in, false, true, take_arg);
}

static int argv_of(struct builder *b, const struct cf_instr *in, char ***out, size_t *n)
{
  if (in->json) {
    *out = calloc(in->n_words + 1, sizeof **out);
    for (size_t i = 0; *out != NULL && i < in->n_words; i++)
      if (((*out)[i] = strdup(in->words[i])) == NULL) {
        cf_words_free(*out, i);
        *out = NULL;
      }
    *n = in->n_words;
  } else {
    *out = calloc(4, sizeof **out);
    if (*out != NULL &&
        (((*out)[0] = strdup("/bin/sh")) == NULL || ((*out)[1] = strdup("-c")) == NULL ||
         ((*out)[2] = strdup(in->args)) == NULL)) {
      cf_words_free(*out, 3);
      *out = NULL;
    }
    *n = 3;
  }
  return *out != NULL ? 0 : appc_error_make(b->err, ENOMEM, "%s", b->where);
}

/* The ARGs a RUN sees besides the app's environment: those no ENV of the
 * same name hides, as Docker's ENV overrides an ARG.  The items are
 * B's, borrowed: free only OUT->items. */
static int run_args(struct builder *b, struct appc_kv_list *out)
{
  out->len = 0;
  out->items = calloc(b->args.len + 1, sizeof *out->items);
  if (out->items == NULL)
    return appc_error_make(b->err, ENOMEM, "%s", b->where);
  for (size_t i = 0; i < b->args.len; i++)
    if (appc_kv_get(&b->env, b->args.items[i].name) == NULL)
      out->items[out->len++] = b->args.items[i];
  return 0;
}

static int do_run(struct builder *b, const struct cf_instr *in)
{
  struct appc_kv_list args = {0};
  struct appc_layout_run_options ro = {
      .version = APPC_LAYOUT_RUN_OPTIONS_VERSION,
      .host_net = true, /* as RUN has the network under docker build */
      .env = &args,
      .notify = b->o->notify,
      .notify_data = b->o->data,
  };
  char **argv = NULL;
  size_t n = 0;
  int status = 1, r;

  if (run_args(b, &args) < 0 || argv_of(b, in, &argv, &n) < 0) {
    free(args.items);
    return -1;
  }
  r = appc_layout_run(b->l, b->s, argv, n, &ro, &status, b->err);
  cf_words_free(argv, n);
  free(args.items);
  if (r < 0)
    return appc_error_prefix(b->err, "%s", b->where);
  if (status != 0)
    return fail(b, 0, "RUN exited with status %d", status);
  return 0;
}

/* COPY/ADD flags: --chown=UID[:GID] (numeric); others are refused. */
static int copy_flags(struct builder *b, const struct cf_instr *in, uid_t *uid, gid_t *gid)
{
  for (size_t i = 0; i < in->n_flags; i++) {
    const char *f = in->flags[i];
    unsigned long u, g;
    char *end;
    if (strncmp(f, "--chown=", 8) != 0)
      return fail(b, 0, "%s %s is not supported (multi-stage builds and --chmod are not)",
                  in->keyword, f);
    u = strtoul(f + 8, &end, 10);
    g = u;
    if (*end == ':')
      g = strtoul(end + 1, &end, 10);
    if (end == f + 8 || *end != '\0' || u > 65535 * 65536UL || g > 65535 * 65536UL)
      return fail(b, 0, "%s %s: numeric UID[:GID] only", in->keyword, f);
    *uid = (uid_t) u;
    *gid = (gid_t) g;
  }
  return 0;
}

/* PATH relative to WORKDIR, as COPY takes DEST and WORKDIR a path. */
static char *in_workdir(const struct builder *b, const char *dest)
{
  char *out = NULL;

  if (dest[0] == '/')
    return strdup(dest);
  if (asprintf(&out, "%s%s%s", b->workdir, strcmp(b->workdir, "/") == 0 ? "" : "/", dest) < 0)
    return NULL;
  return out;
}

/* ADD's remote sources are refused (a download belongs in a RUN step,
 * where its result is checked). */
static int check_add_source(struct builder *b, const char *src)
{
  if (strstr(src, "://") != NULL)
    return fail(b, 0, "ADD %s: remote sources are not supported (RUN curl or wget)", src);
  return 0;
}

static int copy_key(struct builder *b, const struct sources *s, const char *dest,
                    const struct cf_instr *in, struct appc_digest *d)
{
  digest_str(d, in->keyword);
  for (size_t i = 0; i < in->n_flags; i++)
    digest_str(d, in->flags[i]);
  digest_str(d, dest);
  for (size_t i = 0; i < s->len; i++) {
    digest_str(d, s->names[i]);
    if (digest_entry(b, d, s->paths[i], 0) < 0)
      return -1;
  }
  return 0;
}

/* COPY/ADD: the sources and DEST (*DEST), and the step's key text. */
static int copy_prepare(struct builder *b, const struct cf_instr *in, struct sources *s,
                        char **dest, char key[APPC_DIGEST_HEX_MAX])
{
  char **w = NULL;
  size_t n = 0;
  cleanup_digest struct appc_digest *d = NULL;
  int r = 0;

  r = in->json ? json_words(b, in, &w, &n) : words(b, in, true, &w, &n);
  if (r == 0 && n < 2)
    r = fail(b, 0, "%s needs SRC... DEST", in->keyword);
  for (size_t i = 0; r == 0 && i + 1 < n; i++)
    r = in->kind == CF_ADD ? check_add_source(b, w[i]) : 0;
  for (size_t i = 0; r == 0 && i + 1 < n; i++)
    r = expand_source(b, s, w[i]);
  if (r == 0 && s->len == 0)
    r = fail(b, 0, "%s: every source is left out by the ignore file", in->keyword);
  if (r == 0 && (*dest = in_workdir(b, w[n - 1])) == NULL)
    r = appc_error_make(b->err, ENOMEM, "%s", b->where);
  if (r == 0 && (appc_digest_new(APPC_DIGEST_SHA256, &d, b->err) < 0 ||
                 copy_key(b, s, *dest, in, d) < 0 || appc_digest_final(d, key, b->err) < 0))
    r = -1;
  cf_words_free(w, n);
  return r;
}

/* ADD of the archive SRC: unpacked in tmp/, its contents copied into
 * DEST with their owners; *DONE false when SRC is no archive. */
static int add_archive(struct builder *b, const char *src, const char *dest, bool *done)
{
  cleanup_free char *dir = NULL, *into = NULL;
  struct appc_layout_copy_options co = {.cb = cancel_cb(b), .keep_owner = true};
  char *paths[] = {NULL, NULL};
  int r;

  if (asprintf(&dir, "%s/add", b->tmp) < 0 ||
      asprintf(&into, "%s%s", dest, dest[strlen(dest) - 1] == '/' ? "" : "/") < 0) {
    dir = into = NULL;
    return appc_error_make(b->err, ENOMEM, "%s", b->where);
  }
  if (mkdir(dir, 0700) < 0)
    return appc_error_make(b->err, errno, "%s", dir);
  r = cf_unpack(src, dir, done, b->err);
  paths[0] = dir;
  if (r == 0 && *done && appc_layout_copy_ex(b->l, paths, 1, into, &co, b->err) < 0)
    r = -1;
  appc_error_t ignored = NULL;
  cleanup_close int tmp = open(b->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tmp < 0 || appc_remove_tree(tmp, "add", r == 0 ? b->err : &ignored) < 0)
    r = r == 0 && tmp < 0 ? appc_error_make(b->err, errno, "%s", b->tmp) : -1;
  appc_error_release(&ignored);
  return r < 0 ? appc_error_prefix(b->err, "%s: ADD", b->where) : 0;
}

static int do_copy(struct builder *b, const struct cf_instr *in, const struct sources *s,
                   const char *dest)
{
  struct appc_layout_copy_options co = {.cb = cancel_cb(b), .skip = skip_source, .skip_data = b};
  cleanup_free char **files = calloc(s->len + 1, sizeof *files);
  cleanup_free char **names = calloc(s->len + 1, sizeof *names);
  cleanup_free char *into = NULL;
  size_t n = 0;

  if (files == NULL || names == NULL)
    return appc_error_make(b->err, ENOMEM, "%s", b->where);
  co.names = names;
  if (copy_flags(b, in, &co.uid, &co.gid) < 0)
    return -1;
  for (size_t i = 0; i < s->len; i++) {
    bool done = false;
    if (in->kind == CF_ADD && add_archive(b, s->paths[i], dest, &done) < 0)
      return -1;
    if (!done) {
      names[n] = s->names[i];
      files[n++] = s->paths[i];
    }
  }
  /* several sources go into the directory DEST, archives among them */
  if (n == 1 && s->len > 1 &&
      asprintf(&into, "%s%s", dest, dest[strlen(dest) - 1] == '/' ? "" : "/") < 0) {
    into = NULL;
    return appc_error_make(b->err, ENOMEM, "%s", b->where);
  }
  if (n > 0 && appc_layout_copy_ex(b->l, files, n, into != NULL ? into : dest, &co, b->err) < 0)
    return appc_error_prefix(b->err, "%s", b->where);
  return 0;
}

static int do_workdir(struct builder *b, const struct cf_instr *in, bool apply)
{
  char **w = NULL;
  size_t n = 0;
  cleanup_free char *path = NULL;
  int r = 0;

  if (words(b, in, false, &w, &n) < 0)
    return -1;
  if ((path = in_workdir(b, w[0])) == NULL)
    r = appc_error_make(b->err, ENOMEM, "%s", b->where);
  cf_words_free(w, n);
  if (r < 0)
    return r;
  for (size_t len = strlen(path); len > 1 && path[len - 1] == '/'; len--)
    path[len - 1] = '\0';
  free(b->workdir);
  b->workdir = steal_pointer(&path);
  if (!apply)
    return 0;
  if (appc_layout_set(b->l, "workingDirectory", b->workdir, b->err) < 0 ||
      appc_layout_mkdir(b->l, b->workdir, b->err) < 0)
    return appc_error_prefix(b->err, "%s", b->where);
  return 0;
}

static int do_user(struct builder *b, const struct cf_instr *in)
{
  char **w = NULL;
  size_t n = 0;
  int r = 0;

  if (words(b, in, false, &w, &n) < 0)
    return -1;
  char *colon = strchr(w[0], ':');
  if (colon != NULL)
    *colon = '\0';
  if (w[0][0] == '\0')
    r = fail(b, 0, "USER needs a user");
  else if (appc_layout_set(b->l, "user", w[0], b->err) < 0 ||
           appc_layout_set(b->l, "group", colon != NULL && colon[1] ? colon + 1 : "0", b->err) < 0)
    r = appc_error_prefix(b->err, "%s", b->where);
  cf_words_free(w, n);
  return r;
}

/* The ports one range of EXPOSE may name: each becomes an entry of
 * app.ports, and a word of eleven bytes would otherwise make 65,535. */
#define EXPOSE_RANGE_MAX 1025

static int do_expose(struct builder *b, const struct cf_instr *in)
{
  char **w = NULL;
  size_t n = 0;
  int r = 0;

  if (words(b, in, true, &w, &n) < 0)
    return -1;
  for (size_t i = 0; r == 0 && i < n; i++) {
    char proto[8] = "tcp"; /* longer than the known ones: unknown */
    char *end;
    unsigned long lo = strtoul(w[i], &end, 10), hi = lo;
    bool ok = end != w[i] && w[i][0] != '-' && w[i][0] != '+';
    if (ok && *end == '-') {
      const char *p = end + 1;
      hi = strtoul(p, &end, 10);
      ok = end != p && *p != '-' && *p != '+';
    }
    if (ok && *end == '/') {
      /* in any case: Docker's nat.ParsePort lowers it */
      size_t len = strlen(end + 1);
      ok = len < sizeof proto;
      for (size_t k = 0; ok && k <= len; k++)
        proto[k] = (char) tolower((unsigned char) end[1 + k]);
    } else if (*end != '\0') {
      ok = false;
    }
    if (!ok || lo == 0 || hi < lo || hi > 65535 || !appc_oci_port_protocol_known(proto)) {
      r = fail(b, 0, "EXPOSE %s: not PORT[-PORT][/tcp|/udp|/sctp]", w[i]);
      break;
    }
    if (hi - lo + 1 > EXPOSE_RANGE_MAX) {
      r = fail(b, 0, "EXPOSE %s: a range of %lu ports, more than the %d one range may name", w[i],
               hi - lo + 1, EXPOSE_RANGE_MAX);
      break;
    }
    for (unsigned p = (unsigned) lo; r == 0 && p <= hi; p++) {
      char name[APPC_OCI_PORT_NAME_MAX];
      appc_oci_port_name(name, p, proto);
      if (appc_layout_port_add(b->l, name, proto, p, 0, false, b->err) < 0)
        r = appc_error_prefix(b->err, "%s", b->where);
    }
  }
  cf_words_free(w, n);
  return r;
}

static int do_volume(struct builder *b, const struct cf_instr *in)
{
  char **w = NULL;
  size_t n = 0;
  int r = 0;

  if ((in->json ? json_words(b, in, &w, &n) : words(b, in, true, &w, &n)) < 0) {
    cf_words_free(w, n);
    return -1;
  }
  for (size_t i = 0; r == 0 && i < n; i++) {
    cleanup_free char *name = appc_oci_volume_name(w[i]);
    if (w[i][0] != '/' || name == NULL || name[0] == '\0')
      r = fail(b, 0, "VOLUME %s: not an absolute path", w[i]);
    else if (appc_layout_mount_add(b->l, name, w[i], false, b->err) < 0)
      r = appc_error_prefix(b->err, "%s", b->where);
  }
  cf_words_free(w, n);
  return r;
}

/* ENV: a variable of the steps after it, and the app's (once the layout
 * is made; a cached step only sets the variable). */
static int take_env(struct builder *b, const char *name, const char *value)
{
  if (kv_set(&b->env, name, value) < 0)
    return appc_error_make(b->err, ENOMEM, "%s", b->where);
  if (b->l != NULL && appc_layout_kv_add(b->l, APPC_LAYOUT_ENVIRONMENT, name, value, b->err) < 0)
    return appc_error_prefix(b->err, "%s", b->where);
  return 0;
}

/* LABEL: an annotation, its key made an AC Identifier as the importer
 * makes a Docker label's ("Maintainer" is "maintainer"); a key that gives
 * none is refused here, with the line, rather than by the manifest's
 * validation later. */
static int take_label(struct builder *b, const char *name, const char *value)
{
  cleanup_free char *key = appc_oci_label_annotation(name);
  appc_error_t ignored = NULL;

  if (key == NULL || appc_validate_acidentifier(key, &ignored) < 0) {
    appc_error_release(&ignored);
    return fail(b, 0,
                "LABEL \"%.80s\": no annotation name (an AC Identifier, not appc.io/...) "
                "can be made of it",
                name);
  }
  if (appc_layout_kv_add(b->l, APPC_LAYOUT_ANNOTATIONS, key, value, b->err) < 0)
    return appc_error_prefix(b->err, "%s", b->where);
  return 0;
}

/* ENTRYPOINT and CMD as Docker's builder keeps them (moby's
 * dispatchEntrypoint): an ENTRYPOINT drops the CMD the base image gave,
 * not one the file set before it. */
static int do_exec_part(struct builder *b, const struct cf_instr *in)
{
  char **argv = NULL;
  size_t n = 0;

  if (argv_of(b, in, &argv, &n) < 0)
    return -1;
  b->exec_written = true;
  if (in->kind == CF_ENTRYPOINT) {
    cf_words_free(b->entrypoint, b->n_entrypoint);
    b->entrypoint = argv;
    b->n_entrypoint = n;
    b->entrypoint_shell = !in->json;
    if (!b->cmd_set) {
      cf_words_free(b->cmd, b->n_cmd);
      b->cmd = NULL;
      b->n_cmd = 0;
    }
  } else {
    cf_words_free(b->cmd, b->n_cmd);
    b->cmd = argv;
    b->n_cmd = n;
    b->cmd_set = true;
  }
  return 0;
}

/* V (N words) as the text of a JSON array, in *OUT. */
static int strings_json_text(struct builder *b, char *const *v, size_t n, char **out)
{
  json_object *a = json_object_new_array();
  const char *text = NULL;

  for (size_t i = 0; a != NULL && i < n; i++)
    if (json_object_array_add(a, json_object_new_string(v[i])) < 0)
      break;
  if (a != NULL && json_object_array_length(a) == n)
    text =
        json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  *out = text != NULL ? strdup(text) : NULL;
  json_object_put(a);
  return *out != NULL ? 0 : appc_error_make(b->err, ENOMEM, "%s", b->file);
}

/* Entrypoint and Cmd recorded as an imported image's are, so that a FROM
 * of this image (and its export) splits exec again. */
static int record_exec(struct builder *b, size_t n_cmd)
{
  cleanup_free char *ep = NULL, *cmd = NULL;

  if (strings_json_text(b, b->entrypoint, b->n_entrypoint, &ep) < 0 ||
      strings_json_text(b, b->cmd, n_cmd, &cmd) < 0)
    return -1;
  if (appc_layout_kv_add(b->l, APPC_LAYOUT_ANNOTATIONS, APPC_OCI_ENTRYPOINT_ANNOTATION, ep,
                         b->err) < 0 ||
      appc_layout_kv_add(b->l, APPC_LAYOUT_ANNOTATIONS, APPC_OCI_CMD_ANNOTATION, cmd, b->err) < 0)
    return appc_error_prefix(b->err, "%s: ENTRYPOINT/CMD", b->file);
  return 0;
}

/* app.exec: ENTRYPOINT + CMD (a shell-form ENTRYPOINT takes no CMD), when
 * the file set either; else the base image's stays.  Both empty (an
 * ENTRYPOINT [] that dropped the base's CMD) leave the app no exec, as
 * Docker's image has no command then. */
static int finish_exec(struct builder *b)
{
  cleanup_free char **argv = NULL;
  size_t n = 0, n_cmd = b->entrypoint_shell ? 0 : b->n_cmd;

  if (!b->exec_written)
    return 0;
  argv = calloc(b->n_entrypoint + n_cmd + 1, sizeof *argv);
  if (argv == NULL)
    return appc_error_make(b->err, ENOMEM, "exec");
  for (size_t i = 0; i < b->n_entrypoint; i++)
    argv[n++] = b->entrypoint[i];
  for (size_t i = 0; i < n_cmd; i++)
    argv[n++] = b->cmd[i];
  if (appc_layout_set_exec(b->l, argv, n, b->err) < 0)
    return appc_error_prefix(b->err, "%s: ENTRYPOINT/CMD", b->file);
  return record_exec(b, n_cmd);
}

/* ---- the steps ---- */

/* A string of the key, its length first: no two lists of strings make
 * the same text. */
static void key_string(FILE *f, const char *s)
{
  if (s == NULL) {
    fputs("-;", f); /* a name without a value */
    return;
  }
  fprintf(f, "%zu:", strlen(s));
  fwrite(s, 1, strlen(s), f);
}

static void key_strings(FILE *f, char *const *v, size_t n)
{
  fprintf(f, "%zu[", n);
  for (size_t i = 0; i < n; i++)
    key_string(f, v[i]);
  fputc(']', f);
}

static void key_vars(FILE *f, char tag, const struct appc_kv_list *kv)
{
  fprintf(f, "%c%zu[", tag, kv->len);
  for (size_t i = 0; i < kv->len; i++) {
    key_string(f, kv->items[i].name);
    key_string(f, kv->items[i].value);
  }
  fputc(']', f);
}

/* The text a step adds to the key: the instruction as written (keyword,
 * form, flags, words or text) and every variable as it stands.  What a
 * step does is a function of both, however its words are read (ENV's two
 * forms, LABEL's pairs, WORKDIR's one word), and what RUN sees of them. */
static int step_text(struct builder *b, const struct cf_instr *in, char **out, size_t *len)
{
  FILE *f = open_memstream(out, len);

  if (f == NULL)
    return appc_error_make(b->err, ENOMEM, "%s", b->where);
  key_string(f, in->keyword);
  fputc(in->json ? 'J' : 'S', f);
  key_strings(f, in->flags, in->n_flags);
  if (in->json)
    key_strings(f, in->words, in->n_words);
  else
    key_string(f, in->args);
  key_vars(f, 'E', &b->env);
  key_vars(f, 'A', &b->args);
  if (fclose(f) != 0 || *out == NULL)
    return appc_error_make(b->err, ENOMEM, "%s", b->where);
  return 0;
}

static bool changes_rootfs(enum cf_kind k)
{
  return k == CF_RUN || k == CF_COPY || k == CF_ADD || k == CF_WORKDIR;
}

/* What a skipped (cached) step still does: the variables and WORKDIR it
 * sets, for the steps after it. */
static int replay_state(struct builder *b, const struct cf_instr *in)
{
  switch (in->kind) {
  case CF_ENV:
    return pairs(b, in, true, false, take_env);
  case CF_ARG:
    return do_arg(b, in);
  case CF_WORKDIR:
    return do_workdir(b, in, false);
  case CF_ENTRYPOINT:
  case CF_CMD:
    return do_exec_part(b, in);
  default:
    return 0;
  }
}

static int run_step(struct builder *b, const struct cf_instr *in, const struct sources *s,
                    const char *dest)
{
  switch (in->kind) {
  case CF_RUN:
    return do_run(b, in);
  case CF_COPY:
  case CF_ADD:
    return do_copy(b, in, s, dest);
  case CF_ENV:
    return pairs(b, in, true, false, take_env);
  case CF_ARG:
    return do_arg(b, in);
  case CF_WORKDIR:
    return do_workdir(b, in, true);
  case CF_USER:
    return do_user(b, in);
  case CF_ENTRYPOINT:
  case CF_CMD:
    return do_exec_part(b, in);
  case CF_EXPOSE:
    return do_expose(b, in);
  case CF_VOLUME:
    return do_volume(b, in);
  case CF_LABEL:
    return pairs(b, in, false, false, take_label);
  case CF_MAINTAINER:
    if (appc_layout_kv_add(b->l, APPC_LAYOUT_ANNOTATIONS, "authors", in->args, b->err) < 0)
      return appc_error_prefix(b->err, "%s", b->where);
    return 0;
  case CF_FROM:
    break;
  }
  return fail(b, 0, "%s: not a step", in->keyword);
}

static int step(struct builder *b, const struct cf_instr *in, bool *hitting)
{
  cleanup_free char *text = NULL;
  struct sources s = {0};
  cleanup_free char *dest = NULL;
  char content[APPC_DIGEST_HEX_MAX] = "";
  size_t len = 0;
  int r;

  say(b, "STEP %u/%u: %s %s", ++b->step, b->steps, in->keyword, in->args);
  if (step_text(b, in, &text, &len) < 0)
    return -1;
  if ((in->kind == CF_COPY || in->kind == CF_ADD) && copy_prepare(b, in, &s, &dest, content) < 0) {
    sources_clear(&s);
    return -1;
  }
  r = next_key(b, text, len) == 0 ? next_key(b, content, strlen(content)) : -1;
  if (r == 0 && *hitting) {
    char id[APPC_IMAGE_ID_LEN + 1];
    char *manifest = NULL;
    if (cache_find(b, id, &manifest)) {
      memcpy(b->image, id, sizeof b->image);
      free(b->cached_manifest);
      b->cached_manifest = manifest;
      say(b, "--> cached");
      r = replay_state(b, in);
      sources_clear(&s);
      return r;
    }
    *hitting = false;
  }
  if (r == 0)
    r = make_layout(b);
  if (r == 0)
    r = run_step(b, in, &s, dest);
  if (r == 0)
    r = commit(b);
  if (r == 0)
    r = cache_store(b, changes_rootfs(in->kind));
  sources_clear(&s);
  return r;
}

/* ---- FROM ---- */

static int do_from(struct builder *b, const struct cf_instr *in)
{
  char **w = NULL;
  size_t n = 0;
  int r = 0;

  if (in->n_flags > 0)
    return fail(b, 0, "FROM %s is not supported", in->flags[0]);
  if (words(b, in, true, &w, &n) < 0)
    return -1;
  if (n != 1 && !(n == 3 && strcasecmp(w[1], "AS") == 0))
    r = fail(b, 0, "FROM takes IMAGE [AS NAME]");
  say(b, "STEP %u/%u: FROM %s", ++b->step, b->steps, n > 0 ? w[0] : "");
  if (r == 0 && strcmp(w[0], "scratch") == 0) {
    snprintf(b->key, sizeof b->key, "scratch"); /* b->image stays "": an empty layout */
  } else if (r == 0) {
    if (b->o->resolve == NULL)
      r = fail(b, 0, "FROM %s: no way to fetch images was given", w[0]);
    else if (b->o->resolve(b->o->resolve_data, b->s, w[0], b->image, b->err) < 0)
      r = appc_error_prefix(b->err, "%s: FROM %s", b->where, w[0]);
    else if (snprintf(b->key, sizeof b->key, "FROM") < 0 ||
             next_key(b, b->image, strlen(b->image) + 1) < 0)
      r = -1;
  }
  cf_words_free(w, n);
  if (r == 0)
    r = next_key(b, b->name, strlen(b->name) + 1);
  return r;
}

/* WORDS[FROM..TO) copied into *OUT (NULL-terminated), *N of them. */
static int copy_words(char *const *words, size_t from, size_t to, char ***out, size_t *n)
{
  *n = 0;
  *out = calloc(to - from + 1, sizeof **out);
  for (size_t i = from; *out != NULL && i < to; i++, (*n)++)
    if (((*out)[*n] = strdup(words[i])) == NULL)
      return -1;
  return *out != NULL ? 0 : -1;
}

/* The base image's exec as Docker's Entrypoint and Cmd, as its
 * annotations split it (an image imported from Docker, or built from a
 * Containerfile); without them, or when exec changed since, all of exec
 * is Cmd: what a CMD replaces and an ENTRYPOINT drops. */
static int seed_exec(struct builder *b, const struct appc_image_manifest *m)
{
  const struct appc_string_list *exec = m->app != NULL ? &m->app->exec : NULL;
  long ep = appc_oci_exec_entrypoint(m);
  size_t split = ep > 0 ? (size_t) ep : 0;

  if (exec == NULL || exec->len == 0)
    return 0;
  if (copy_words(exec->items, 0, split, &b->entrypoint, &b->n_entrypoint) < 0 ||
      copy_words(exec->items, split, exec->len, &b->cmd, &b->n_cmd) < 0)
    return -1;
  return 0;
}

/* The base image's environment and working directory seed the variables
 * (ENV of a base image is visible to the steps), its exec ENTRYPOINT and
 * CMD. */
static int seed_from_base(struct builder *b)
{
  struct appc_image_manifest *m = NULL;

  b->workdir = strdup("/");
  if (b->workdir == NULL)
    return appc_error_make(b->err, ENOMEM, "%s", b->file);
  if (b->image[0] == '\0')
    return 0;
  if (appc_store_load_manifest(b->s, b->image, &m, b->err) < 0)
    return -1;
  /* The cache's images hold other builds' steps (a file one copied, an
   * ARG it was given): a step of a build, never a base. */
  if (m->name != NULL && strcmp(m->name, CACHE_NAME) == 0) {
    appc_image_manifest_free(m);
    return appc_error_make(b->err, EPERM, "%s: FROM %s: an image of the build cache, not a base",
                           b->where, b->image);
  }
  for (size_t i = 0; m->app != NULL && i < m->app->environment.len; i++)
    if (kv_set(&b->env, m->app->environment.items[i].name, m->app->environment.items[i].value) <
        0) {
      appc_image_manifest_free(m);
      return appc_error_make(b->err, ENOMEM, "%s", b->file);
    }
  if (m->app != NULL && m->app->working_directory != NULL && m->app->working_directory[0]) {
    free(b->workdir);
    b->workdir = strdup(m->app->working_directory);
  }
  int r = b->workdir != NULL && seed_exec(b, m) == 0
              ? 0
              : appc_error_make(b->err, ENOMEM, "%s", b->file);
  appc_image_manifest_free(m);
  return r;
}

/* ---- the whole ---- */

/* The ACI's manifest entry has the layout's file's time: the
 * Containerfile's, so that a build whose steps all come from the cache
 * gives the image ID the first build gave. */
static int stamp_manifest(struct builder *b)
{
  struct stat st;
  cleanup_free char *path = NULL;

  if (stat(b->file, &st) < 0)
    return appc_error_make(b->err, errno, "%s", b->file);
  if (asprintf(&path, "%s/manifest", b->layout) < 0) {
    path = NULL;
    return appc_error_make(b->err, ENOMEM, "%s", b->layout);
  }
  struct timespec times[2] = {st.st_mtim, st.st_mtim};
  if (utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) < 0)
    return appc_error_make(b->err, errno, "%s", path);
  return 0;
}

static int default_name(struct builder *b)
{
  const char *base = strrchr(b->context, '/');

  if (b->o->name != NULL) {
    b->name = strdup(b->o->name);
  } else {
    /* the context directory's name as an AC Name */
    b->name = appc_acname_make(base != NULL && base[1] ? base + 1 : "image", "image");
  }
  return b->name != NULL ? 0 : appc_error_make(b->err, ENOMEM, "name");
}

static int build_all(struct builder *b, const char *out, char image_id[APPC_IMAGE_ID_LEN + 1])
{
  bool hitting = true;
  size_t i = 0;

  b->steps = (unsigned) b->cf.len;
  for (; i < b->cf.len && b->cf.items[i].kind == CF_ARG; i++) {
    snprintf(b->where, sizeof b->where, "%s:%u", b->file, b->cf.items[i].line);
    say(b, "STEP %u/%u: ARG %s", ++b->step, b->steps, b->cf.items[i].args);
    if (do_arg(b, &b->cf.items[i]) < 0)
      return -1;
  }
  snprintf(b->where, sizeof b->where, "%s:%u", b->file, b->cf.items[i].line);
  if (do_from(b, &b->cf.items[i]) < 0)
    return -1;
  /* ARGs before FROM are FROM's: the stage sees them only through an ARG
   * NAME of its own (take_arg) */
  b->meta_args = b->args;
  b->args = (struct appc_kv_list){0};
  if (seed_from_base(b) < 0)
    return -1;
  for (i++; i < b->cf.len; i++) {
    snprintf(b->where, sizeof b->where, "%s:%u", b->file, b->cf.items[i].line);
    if (appc_cb_cancelled(cancel_cb(b)))
      return fail(b, ECANCELED, "build cancelled");
    if (step(b, &b->cf.items[i], &hitting) < 0)
      return -1;
  }
  snprintf(b->where, sizeof b->where, "%s", b->file);
  if (make_layout(b) < 0 || finish_exec(b) < 0 || commit(b) < 0 || stamp_manifest(b) < 0)
    return -1;
  return appc_aci_build_locked(b->layout, out, b->o->build, image_id, b->err);
}

static void builder_clear(struct builder *b)
{
  appc_error_t ignored = NULL;

  if (b->l != NULL)
    appc_layout_close(b->l);
  if (b->tmp != NULL) {
    cleanup_close int tmp = appc_store_area_open(b->s, APPC_STORE_AREA_TMP, false, &ignored);
    if (tmp >= 0)
      (void) appc_remove_tree(tmp, strrchr(b->tmp, '/') + 1, &ignored);
  }
  appc_error_release(&ignored);
  cf_file_clear(&b->cf);
  cf_ignore_clear(&b->ign);
  appc_kv_list_clear(&b->env);
  appc_kv_list_clear(&b->args);
  appc_kv_list_clear(&b->meta_args);
  cf_words_free(b->entrypoint, b->n_entrypoint);
  cf_words_free(b->cmd, b->n_cmd);
  free(b->workdir);
  free(b->name);
  free(b->tmp);
  free(b->layout);
  free(b->context);
  free(b->cached_manifest);
}

int appc_containerfile_build(struct appc_store *s, const char *file, const char *context,
                             const char *out, const struct appc_containerfile_options *o,
                             char image_id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err)
{
  static const struct appc_containerfile_options defaults = {0};
  static const struct appc_build_options no_build = {0};
  struct builder b = {.s = s,
                      .o = o != NULL ? o : &defaults,
                      .file = file,
                      .expand_left = CF_EXPANDED_MAX,
                      .err = err};
  cleanup_free char *text = NULL;
  size_t len = 0;
  int r = -1;

  if (APPC_ABI_CHECK(o, appc_containerfile_options, APPC_CONTAINERFILE_OPTIONS_VERSION, err) < 0)
    return -1;
  /* an OUT refused only after the steps ran would waste them all */
  if (appc_store_check_dest(s, out, err) < 0 ||
      appc_outfile_check(out, b.o->build != NULL ? b.o->build : &no_build, err) < 0)
    return -1;
  if (appc_read_file_at(AT_FDCWD, file, CF_MAX_BYTES, APPC_READ_REGULAR, &text, &len, err) < 0)
    return -1;
  if ((b.context = realpath(context, NULL)) == NULL)
    return appc_error_make(err, errno, "%s: the build context", context);
  if (cf_parse(text, len, file, &b.cf, err) < 0 || read_ignore(&b) < 0 || default_name(&b) < 0 ||
      appc_store_lock(s, false, err) < 0) {
    builder_clear(&b);
    return -1;
  }
  if (appc_store_tmpdir(s, "containerfile", &b.tmp, err) == 0 &&
      asprintf(&b.layout, "%s/layout", b.tmp) >= 0)
    r = build_all(&b, out, image_id);
  else if (b.tmp != NULL)
    appc_error_make(err, ENOMEM, "%s", file);
  builder_clear(&b);
  appc_store_unlock(s);
  return r;
}
