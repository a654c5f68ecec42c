/* SPDX-License-Identifier: Apache-2.0 */
/* actool validate [--type=appimage|layout|manifest] PATH... */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appc/aci.h"
#include "actool/actool.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/macros.h"

enum input_type { TYPE_DETECT, TYPE_APPIMAGE, TYPE_LAYOUT, TYPE_MANIFEST, TYPE_NEITHER };

struct validate_options {
  const char *type;
  bool json;
};

static const struct actool_option validate_option_table[] = {
    {"type", ACTOOL_OPT_STRING, offsetof(struct validate_options, type), "TYPE",
     "Type of the inputs: appimage, layout or manifest (default: detected)", NULL},
    {"json", ACTOOL_OPT_BOOL, offsetof(struct validate_options, json), NULL,
     "Print a JSON array on stdout: each input's path, type, whether it is valid, why not, "
     "and its warnings",
     NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int parse_type(const char *s, enum input_type *out)
{
  static const char *const names[] = {"", "appimage", "layout", "manifest"};
  for (size_t i = 0; i < ARRAY_SIZE(names); i++)
    if (strcmp(s == NULL ? "" : s, names[i]) == 0) {
      *out = (enum input_type) i;
      return 0;
    }
  return -1;
}

/* The first bytes of an input, from which its type is detected.  A pipe
 * gives them only once, so its readers get them back first. */
struct input_head {
  int fd;
  unsigned char buf[512];
  size_t len, pos;
  bool consumed; /* read from a pipe: FD's readers must start at BUF */
};

/* Reads from a pipe block from here on, as its writer writes. */
static int set_blocking(int fd, const char *path, appc_error_t *err)
{
  int flags = fcntl(fd, F_GETFL);

  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
    return appc_error_make(err, errno, "%s", path);
  return 0;
}

/* A file is looked at with pread and stays at its start; a pipe (or a
 * socket, a terminal) cannot, so its first bytes are read and kept. */
static int read_head(struct input_head *h, const char *path, appc_error_t *err)
{
  ssize_t n = pread(h->fd, h->buf, sizeof h->buf, 0);

  if (n >= 0) {
    h->len = (size_t) n;
    return 0;
  }
  if (errno != ESPIPE)
    return appc_error_make(err, errno, "%s", path);
  if (set_blocking(h->fd, path, err) < 0)
    return -1;
  h->consumed = true;
  n = appc_read_in_full(h->fd, h->buf, sizeof h->buf);
  if (n < 0)
    return appc_error_make(err, errno, "%s", path);
  h->len = (size_t) n;
  return 0;
}

/* appc_read_fn over a pipe whose head was read: the head, then the rest. */
static ssize_t head_then_fd_read(void *data, void *buf, size_t len)
{
  struct input_head *h = data;

  if (h->pos < h->len) {
    size_t n = h->len - h->pos < len ? h->len - h->pos : len;
    memcpy(buf, h->buf + h->pos, n);
    h->pos += n;
    return (ssize_t) n;
  }
  ssize_t n;
  do
    n = read(h->fd, buf, len);
  while (n < 0 && errno == EINTR);
  return n;
}

/* Compressed or tar content is an image, JSON text (or a *.yaml file) a
 * manifest whose parser then says what is wrong with it; anything else is
 * neither. */
static enum input_type sniff_type(const struct input_head *h, const char *path)
{
  size_t n = h->len;
  enum appc_compression compression;

  if (n > 0 && appc_compression_detect(h->buf, n, &compression) == 0)
    return TYPE_APPIMAGE;
  /* A JSON manifest begins with '{' (after white space), whatever the
   * file's name (*.aci too, as the reference finds it); a YAML one is
   * known by its name. */
  size_t i = 0;
  while (i < n && strchr(" \t\r\n", h->buf[i]) != NULL)
    i++;
  if (actool_is_yaml_name(path) || (i < n && h->buf[i] == '{'))
    return TYPE_MANIFEST;
  return TYPE_NEITHER;
}

/* A manifest read from a pipe: its head, then the rest, within the limit a
 * file has. */
static int read_piped_manifest(const struct input_head *h, const char *path, char **out,
                               size_t *out_len, appc_error_t *err)
{
  cleanup_free char *rest = NULL;
  size_t rest_len = 0, max = APPC_MANIFEST_MAX;

  if (h->len == sizeof h->buf && appc_read_fd(h->fd, path, max, &rest, &rest_len, err) < 0)
    return -1;
  if (h->len + rest_len > max)
    return appc_error_make(err, EFBIG, "%s: larger than the limit of %zu bytes", path, max);
  char *all = malloc(h->len + rest_len + 1);
  if (all == NULL)
    return appc_error_make(err, ENOMEM, "%s", path);
  memcpy(all, h->buf, h->len);
  if (rest_len > 0)
    memcpy(all + h->len, rest, rest_len);
  all[h->len + rest_len] = '\0';
  *out = all;
  *out_len = h->len + rest_len;
  return 0;
}

/* An image manifest written in YAML: errors name the line of the field,
 * unknown keys are warned of as in JSON (added to WARNINGS, if not NULL). */
static int validate_yaml(const char *path, const char *yaml, size_t len, const char **kind_name,
                         struct json_object *warnings, appc_error_t *err)
{
  cleanup_free char *json = NULL;
  size_t json_len = 0;
  enum appc_manifest_kind kind;
  struct appc_image_manifest *im = NULL;

  if (appc_yaml_to_json(yaml, len, path, &json, &json_len, err) < 0)
    return -1;
  bool kind_known = appc_manifest_kind(json, json_len, &kind, err) == 0;
  if (kind_known && kind == APPC_MANIFEST_POD)
    return appc_error_make(err, 0, "%s: a PodManifest in YAML (only image manifests are)", path);
  /* as in JSON, also when acKind is missing ("acKnd": did you mean ...) */
  actool_warn_unknown_yaml_keys(path, yaml, len, warnings);
  if (!kind_known)
    return appc_error_prefix(err, "%s", path);
  *kind_name = "ImageManifest";
  if (appc_image_manifest_parse_yaml(yaml, len, path, &im, NULL, NULL, err) < 0)
    return appc_error_prefix(err, "invalid ImageManifest");
  appc_image_manifest_free(im);
  return 0;
}

/* Validate a manifest file of either kind; *kind_name receives its kind. */
static int validate_manifest(const struct input_head *h, const char *path, const char **kind_name,
                             struct json_object *warnings, appc_error_t *err)
{
  cleanup_free char *json = NULL;
  size_t len = 0;
  enum appc_manifest_kind kind;

  if ((h->consumed ? read_piped_manifest(h, path, &json, &len, err)
                   : actool_read_manifest_fd(h->fd, path, &json, &len, err)) < 0)
    return -1;
  if (actool_is_yaml_name(path))
    return validate_yaml(path, json, len, kind_name, warnings, err);
  actool_warn_unknown_keys(path, json, len, warnings);
  if (appc_manifest_kind(json, len, &kind, err) < 0)
    return appc_error_prefix(err, "%s", path);
  if (kind == APPC_MANIFEST_POD) {
    struct appc_pod_manifest *pm = NULL;
    *kind_name = "PodManifest";
    if (appc_pod_manifest_parse(json, len, &pm, err) < 0)
      return appc_error_prefix(err, "%s: invalid PodManifest", path);
    appc_pod_manifest_free(pm);
    return 0;
  }
  struct appc_image_manifest *im = NULL;
  *kind_name = "ImageManifest";
  if (appc_image_manifest_parse(json, len, &im, err) < 0)
    return appc_error_prefix(err, "%s: invalid ImageManifest", path);
  appc_image_manifest_free(im);
  return 0;
}

/* *WHAT receives the kind of input found, once known; WARNINGS, if not
 * NULL, the warnings (unknown manifest keys) printed. */
static int validate_path(const struct actool_globals *g, enum input_type type, const char *path,
                         const char **what, struct json_object *warnings, appc_error_t *err)
{
  cleanup_close int fd = -1;
  struct stat st;

  if (stat(path, &st) < 0)
    return appc_error_make(err, errno, "%s", path);
  if (S_ISDIR(st.st_mode)) {
    if (type != TYPE_DETECT && type != TYPE_LAYOUT)
      return appc_error_make(err, 0, "%s: is a directory (wrong --type?)", path);
    *what = "image layout";
    actool_layout_lock_notice(path);
    if (appc_layout_validate(path, NULL, err) < 0)
      return -1;
    actool_warn_unknown_layout_keys(path, warnings);
    actool_debug(g, "%s: valid image layout", path);
    return 0;
  }
  if (type == TYPE_LAYOUT)
    return appc_error_make(err, 0, "%s: not a directory, so not an image layout", path);
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return appc_error_make(err, errno, "%s", path);
  struct input_head head = {.fd = fd};
  if (read_head(&head, path, err) < 0)
    return -1;
  if (type == TYPE_DETECT)
    type = sniff_type(&head, path);
  if (type == TYPE_NEITHER)
    return appc_error_make(err, 0,
                           "%s: not an ACI (neither a tar archive nor gzip, bzip2 or xz "
                           "compressed) nor a JSON manifest",
                           path);
  if (type == TYPE_APPIMAGE) {
    struct appc_aci_info info = {0};
    *what = "app container image";
    cleanup_source struct appc_source *src = NULL;
    /* The file already open (sniffed with pread, so still at its start),
     * read blocking from here on: one open, no second lookup of PATH.  A
     * pipe's head, already read, is read again from HEAD. */
    if (set_blocking(fd, path, err) < 0 ||
        (head.consumed ? appc_source_open_callback(&src, head_then_fd_read, &head, path, err)
                       : appc_source_open_fd(&src, fd, path, err)) < 0)
      return -1;
    actool_cancel_begin();
    int r = appc_aci_validate_source(src, actool_callbacks(g), &info, err);
    actool_cancel_end();
    actool_progress_clear();
    if (r == 0)
      actool_warn_unknown_keys(path, info.manifest_json, info.manifest_len, warnings);
    appc_aci_info_clear(&info);
    if (r < 0)
      return -1;
    actool_debug(g, "%s: valid app container image", path);
    return 0;
  }
  if (validate_manifest(&head, path, what, warnings, err) < 0)
    return -1;
  actool_debug(g, "%s: valid %s", path, *what);
  return 0;
}

/* --json names the types as --type does, and a manifest by its acKind. */
static const char *input_json_type(const char *what)
{
  if (strcmp(what, "app container image") == 0)
    return "appimage";
  if (strcmp(what, "image layout") == 0)
    return "layout";
  return what;
}

static int run_validate(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct validate_options *o = opaque;
  enum input_type type;
  int status = ACTOOL_EXIT_OK;

  if (parse_type(o->type, &type) < 0)
    return actool_usage_error("validate", "unknown --type \"%s\" (appimage, layout, manifest)",
                              o->type);
  if (argc < 1)
    return actool_usage_error("validate", "needs one or more files");
  /* Every input is checked, so one run reports every invalid file. */
  struct json_object *a = o->json ? json_object_new_array() : NULL;
  for (int i = 0; i < argc; i++) {
    cleanup_error appc_error_t err = NULL;
    const char *what = NULL;
    struct json_object *warnings = a != NULL ? json_object_new_array() : NULL;
    int r = validate_path(g, type, argv[i], &what, warnings, &err);
    if (a != NULL) {
      struct json_object *j = json_object_new_object();
      json_object_object_add(j, "path", json_object_new_string(argv[i]));
      json_object_object_add(j, "type",
                             what != NULL ? json_object_new_string(input_json_type(what)) : NULL);
      json_object_object_add(j, "valid", json_object_new_boolean(r == 0));
      if (r < 0 && err != NULL)
        json_object_object_add(j, "error", json_object_new_string(err->msg));
      json_object_object_add(j, "warnings", warnings);
      json_object_array_add(a, j);
    }
    if (r < 0) {
      actool_report(&err);
      status = ACTOOL_EXIT_FAILURE;
    }
  }
  if (a != NULL) {
    actool_print_json(a);
    json_object_put(a);
  }
  return status;
}

const struct actool_command actool_cmd_validate = {
    .name = "validate",
    .summary = "Validate images, image layouts and manifests against the appc specification",
    .usage = "[--type=appimage|layout|manifest] [--json] PATH...",
    .description = "Each PATH is an ACI (tar, optionally gzip, bzip2 or xz compressed), an\n"
                   "image layout directory, or an ImageManifest or PodManifest file; the\n"
                   "type is detected from the content (of a pipe such as /dev/stdin too)\n"
                   "unless --type is given.  With --debug, one line per valid input is\n"
                   "printed on stderr.",
    .options = validate_option_table,
    .options_size = sizeof(struct validate_options),
    .run = run_validate,
    .operands_nonempty = true,
};
