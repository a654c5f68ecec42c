/* SPDX-License-Identifier: Apache-2.0 */
/* Pieces shared by the commands that read manifests and write ACIs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appc/aci.h"
#include "appc/schema.h"
#include "actool/actool.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/macros.h"
#include "common/suggest.h"

int actool_check_aci_name(const char *command, const char *path)
{
  size_t len = strlen(path);
  if (strcmp(path, "-") == 0)
    return 0;
  if (len >= 4 && strcmp(path + len - 4, ".aci") == 0)
    return 0;
  return actool_usage_error(command, "%s: the output file name must end in .aci", path);
}

int actool_output_compression(const char *command, const char *name, bool no_compression,
                              enum appc_compression *out)
{
  if (name == NULL) {
    *out = no_compression ? APPC_COMPRESSION_NONE : APPC_COMPRESSION_GZIP;
    return 0;
  }
  if (appc_compression_from_string(name, out) < 0)
    return actool_usage_error(command, "unknown compression \"%s\" (gzip, bzip2, xz, none)", name);
  if (no_compression && *out != APPC_COMPRESSION_NONE)
    return actool_usage_error(command, "--no-compression and --compression=%s say different things",
                              name);
  return 0;
}

int actool_read_manifest_fd(int fd, const char *path, char **out, size_t *out_len,
                            appc_error_t *err)
{
  struct stat st;

  if (fstat(fd, &st) < 0)
    return appc_error_make(err, errno, "%s: stat", path);
  if (!S_ISREG(st.st_mode))
    return appc_error_make(err, 0, "%s: not a regular file", path);
  return appc_read_fd(fd, path, APPC_MANIFEST_MAX, out, out_len, err);
}

int actool_read_manifest_file(const char *path, char **out, size_t *out_len, appc_error_t *err)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

  if (fd < 0)
    return appc_error_make(err, errno, "%s", path);
  return actool_read_manifest_fd(fd, path, out, out_len, err);
}

/* actool_copy_to_stdout, shown as "VERB SHOWN" (VERB NULL: not shown). */
static int copy_out(int fd, const char *what, const char *verb, const char *shown,
                    appc_error_t *err)
{
  char buf[1 << 16];
  struct stat st;
  uint64_t done = 0, total = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t) st.st_size : 0;
  ssize_t n;
  int r = 0;

  fflush(stdout);
  while ((n = read(fd, buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      r = appc_error_make(err, errno, "%s: read", what);
      break;
    }
    if (appc_write_all(STDOUT_FILENO, buf, (size_t) n) < 0) {
      r = appc_error_make(err, errno, "standard output");
      break;
    }
    done += (uint64_t) n;
    if (verb != NULL)
      actool_progress(verb, shown, done, total);
  }
  if (verb != NULL)
    actool_progress_clear();
  return r;
}

int actool_copy_to_stdout(int fd, const char *what, const char *verb, appc_error_t *err)
{
  return copy_out(fd, what, verb, what, err);
}

int actool_stdout_not_terminal(const char *command)
{
  if (isatty(STDOUT_FILENO) != 1)
    return 0;
  return actool_usage_error(command, "refusing to write an ACI to a terminal (redirect the "
                                     "output, or name a file)");
}

int actool_stdout_output_begin(struct actool_stdout_output *o, appc_error_t *err)
{
  const char *tmp = NULL;
  cleanup_free char *dir = appc_mkdtemp(NULL, "actool-out", &tmp);

  if (dir == NULL)
    return appc_error_make(err, errno, "%s: making a temporary directory", tmp);
  if ((size_t) snprintf(o->dir, sizeof o->dir, "%s", dir) >= sizeof o->dir) {
    rmdir(dir);
    return appc_error_make(err, ENAMETOOLONG, "%s", dir);
  }
  if ((size_t) snprintf(o->path, sizeof o->path, "%s/out.aci", o->dir) >= sizeof o->path) {
    rmdir(o->dir);
    return appc_error_make(err, ENAMETOOLONG, "%s", o->dir);
  }
  return 0;
}

int actool_stdout_output_end(struct actool_stdout_output *o, bool built, appc_error_t *err)
{
  cleanup_close int fd = built ? open(o->path, O_RDONLY | O_CLOEXEC) : -1;
  int r = 0;

  if (built && fd < 0)
    r = appc_error_make(err, errno, "%s", o->path);
  /* Gone from the file system before the copy: an interruption leaves
   * nothing behind. */
  unlink(o->path);
  rmdir(o->dir);
  if (r == 0 && fd >= 0)
    r = copy_out(fd, o->path, "Writing", "standard output", err);
  return r;
}

/* "WHERE[:LINE]: PATH: unknown key, ignored (did you mean ...)" on stderr,
 * and in U's warnings ("ignored": U's fate, if it has one); past the first
 * APPC_UNKNOWN_KEYS_SHOWN only counted, for actool_unknown_keys_end. */
static void report_unknown_key(struct actool_unknown_keys *u, unsigned long line, const char *path,
                               const char *suggestion)
{
  cleanup_free char *msg = NULL;
  char at[32] = "";

  if (++u->seen > APPC_UNKNOWN_KEYS_SHOWN)
    return;
  if (line > 0)
    snprintf(at, sizeof at, ":%lu", line);
  const char *fate = u->fate != NULL ? u->fate : "ignored";
  if (suggestion != NULL
          ? asprintf(&msg, "%s%s: %s: unknown key, %s (did you mean \"%s\"?)", u->where, at, path,
                     fate, suggestion) < 0
          : asprintf(&msg, "%s%s: %s: unknown key, %s", u->where, at, path, fate) < 0)
    return;
  actool_error("warning: %s", msg);
  if (u->warnings != NULL)
    json_object_array_add(u->warnings, json_object_new_string(msg));
}

void actool_unknown_key(void *u, const char *path, const char *suggestion)
{
  report_unknown_key(u, 0, path, suggestion);
}

static void print_unknown_yaml_key(void *data, const char *path, unsigned long line,
                                   const char *suggestion)
{
  report_unknown_key(data, line, path, suggestion);
}

void actool_unknown_keys_end(struct actool_unknown_keys *u)
{
  cleanup_free char *msg = NULL;

  if (u->seen <= APPC_UNKNOWN_KEYS_SHOWN ||
      asprintf(&msg, "%s: ... and %zu more unknown keys, %s", u->where,
               u->seen - APPC_UNKNOWN_KEYS_SHOWN, u->fate != NULL ? u->fate : "ignored") < 0)
    return;
  actool_error("warning: %s", msg);
  if (u->warnings != NULL)
    json_object_array_add(u->warnings, json_object_new_string(msg));
}

void actool_warn_unknown_keys(const char *where, const char *json, size_t len,
                              struct json_object *warnings)
{
  cleanup_error appc_error_t err = NULL;
  struct actool_unknown_keys u = {.where = where, .warnings = warnings};
  enum appc_manifest_kind kind;

  /* An invalid manifest is reported by its validation, not here; one
   * without a valid acKind ("acKnd") is read as an image manifest, whose
   * decoder reports the keys it meets before it fails. */
  if (appc_manifest_kind(json, len, &kind, &err) < 0) {
    appc_error_release(&err);
    kind = APPC_MANIFEST_IMAGE;
  }
  if (kind == APPC_MANIFEST_POD) {
    struct appc_pod_manifest *pm = NULL;
    if (appc_pod_manifest_parse_warn(json, len, &pm, actool_unknown_key, &u, &err) == 0)
      appc_pod_manifest_free(pm);
  } else {
    struct appc_image_manifest *im = NULL;
    if (appc_image_manifest_parse_warn(json, len, &im, actool_unknown_key, &u, &err) == 0)
      appc_image_manifest_free(im);
  }
  actool_unknown_keys_end(&u);
}

void actool_warn_unknown_yaml_keys(const char *where, const char *yaml, size_t len,
                                   struct json_object *warnings)
{
  cleanup_error appc_error_t err = NULL;
  struct actool_unknown_keys u = {.where = where, .warnings = warnings};
  struct appc_image_manifest *im = NULL;

  /* The library runs the JSON check on the document the YAML stands for
   * (the same field paths) and adds each key's line.  Errors are the
   * validation's to report. */
  if (appc_image_manifest_parse_yaml_warn(yaml, len, where, &im, NULL, NULL, print_unknown_yaml_key,
                                          &u, &err) == 0)
    appc_image_manifest_free(im);
  actool_unknown_keys_end(&u);
}

bool actool_is_yaml_name(const char *path)
{
  size_t n = strlen(path);

  return (n > 5 && strcmp(path + n - 5, ".yaml") == 0) ||
         (n > 4 && strcmp(path + n - 4, ".yml") == 0);
}

void actool_warn_unknown_layout_keys(const char *layout, struct json_object *warnings)
{
  static const char *const names[] = {"manifest", "manifest.yaml", "manifest.yml"};

  for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
    cleanup_error appc_error_t err = NULL;
    cleanup_free char *path = NULL, *text = NULL;
    size_t len = 0;
    if (asprintf(&path, "%s/%s", layout, names[i]) < 0)
      return;
    if (actool_read_manifest_file(path, &text, &len, &err) < 0)
      continue;
    if (actool_is_yaml_name(path))
      actool_warn_unknown_yaml_keys(path, text, len, warnings);
    else
      actool_warn_unknown_keys(path, text, len, warnings);
    return; /* a layout has one manifest (two are its validation's to report) */
  }
}

void actool_layout_lock_notice(const char *layout)
{
  cleanup_close int fd = open(layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  /* A probe only: the library takes the lock itself (and reports a failure
   * to open).  Should a layout command take the lock between this probe and
   * the library's, the wait goes untold but for the --debug line. */
  if (fd < 0 || flock(fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK)
    return;
  actool_error("%s: waiting for the layout command that holds its lock", layout);
}
