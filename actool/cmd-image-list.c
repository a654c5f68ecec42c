/* SPDX-License-Identifier: Apache-2.0 */
/* actool image list [--json | -q | [--no-legend] [--raw] [--output=COLS]] [--full] ... */
#include "config.h"

#include <fnmatch.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "actool/actool.h"
#include "actool/table.h"
#include "common/cleanup.h"
#include "schema/json.h"
#include "appc/store.h"
#include "common/macros.h"

struct list_options {
  bool json;
  bool no_legend;
  bool raw;
  const char *output;
  bool full;
  bool quiet;
  struct actool_list filters;
};

static const struct actool_column columns[] = {
    {"ID", 0},       {"NAME", 0},      {"LABELS", ACTOOL_COL_WIDE}, {"SIZE", ACTOOL_COL_RIGHT},
    {"IMPORTED", 0}, {"LAST-USED", 0},
};

static const struct actool_option list_option_table[] = {
    {"json", ACTOOL_OPT_BOOL, offsetof(struct list_options, json), NULL,
     "Print a JSON array (sizes in bytes, times in RFC 3339)", NULL},
    {"no-legend", ACTOOL_OPT_BOOL, offsetof(struct list_options, no_legend), NULL,
     "Leave out the header line", NULL},
    {"output", ACTOOL_OPT_STRING, offsetof(struct list_options, output), "COL[,COL]...",
     "The columns to show, in that order (ID, NAME, LABELS, SIZE, IMPORTED, LAST-USED)", NULL},
    {"raw", ACTOOL_OPT_BOOL, offsetof(struct list_options, raw), NULL,
     "Columns separated by one space, unaligned, special characters escaped", NULL},
    {"full", ACTOOL_OPT_BOOL, offsetof(struct list_options, full), NULL,
     "Print full image IDs instead of their first 12 hex digits", NULL},
    {"q", ACTOOL_OPT_BOOL, offsetof(struct list_options, quiet), NULL,
     "Print full image IDs only, one per line", NULL},
    {"filter", ACTOOL_OPT_LIST, offsetof(struct list_options, filters), "KEY=VALUE",
     "Only images with name=GLOB, or label=NAME[=VALUE] (repeatable: all must hold)", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

#define SHORT_ID_LEN (sizeof "sha512-" - 1 + 12)

static void rfc3339(const struct timespec *t, char *buf, size_t size)
{
  struct tm tm;
  char base[32];

  gmtime_r(&t->tv_sec, &tm);
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf, size, "%s.%09ldZ", base, t->tv_nsec);
}

static void local_time(const struct timespec *t, char *buf, size_t size)
{
  struct tm tm;

  localtime_r(&t->tv_sec, &tm);
  strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

static void human_size(unsigned long long n, char *buf, size_t size)
{
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double) n;
  size_t u = 0;

  while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
    v /= 1024;
    u++;
  }
  if (u == 0)
    snprintf(buf, size, "%llu B", n);
  else
    snprintf(buf, size, "%.1f %s", v, units[u]);
}

static void labels_text(const struct appc_kv_list *labels, char *buf, size_t size)
{
  size_t used = 0;

  buf[0] = '\0';
  for (size_t i = 0; i < labels->len && used < size; i++)
    used += (size_t) snprintf(buf + used, size - used, "%s%s=%s", i ? "," : "",
                              labels->items[i].name, labels->items[i].value);
}

static int print_json(const struct appc_store_image *imgs, size_t n)
{
  cleanup_json json_object *a = json_object_new_array();
  char t[64];

  for (size_t i = 0; a != NULL && i < n; i++) {
    json_object *o = json_object_new_object(), *l = json_object_new_object();
    for (size_t k = 0; k < imgs[i].labels.len; k++)
      json_object_object_add(l, imgs[i].labels.items[k].name,
                             json_object_new_string(imgs[i].labels.items[k].value));
    json_object_object_add(o, "id", json_object_new_string(imgs[i].id));
    json_object_object_add(o, "name", json_object_new_string(imgs[i].name));
    json_object_object_add(o, "labels", l);
    json_object_object_add(o, "size", json_object_new_int64((int64_t) imgs[i].size));
    json_object_object_add(o, "blobSize", json_object_new_int64((int64_t) imgs[i].blob_size));
    rfc3339(&imgs[i].import_time, t, sizeof t);
    json_object_object_add(o, "importTime", json_object_new_string(t));
    rfc3339(&imgs[i].last_use, t, sizeof t);
    json_object_object_add(o, "lastUsed", json_object_new_string(t));
    json_object_array_add(a, o);
  }
  if (a == NULL)
    return -1;
  actool_print_json(a);
  return 0;
}

static int print_table(struct actool_table *t, const struct appc_store_image *imgs, size_t n,
                       const struct list_options *o)
{
  for (size_t i = 0; i < n; i++) {
    char id[APPC_IMAGE_ID_LEN + 1], labels[1024], size[32], imported[32], used[32];
    snprintf(id, sizeof id, "%.*s", o->full ? (int) APPC_IMAGE_ID_LEN : (int) SHORT_ID_LEN,
             imgs[i].id);
    labels_text(&imgs[i].labels, labels, sizeof labels);
    human_size(imgs[i].size, size, sizeof size);
    local_time(&imgs[i].import_time, imported, sizeof imported);
    local_time(&imgs[i].last_use, used, sizeof used);
    const char *cells[] = {id, imgs[i].name, labels, size, imported, used};
    if (actool_table_add(t, cells) < 0) {
      actool_table_free(t);
      actool_error("image list: out of memory");
      return -1;
    }
  }
  return actool_table_print(t);
}

/* --filter and NAME patterns, as docker and podman take them: an image is
 * listed when it passes every --filter and matches one of the patterns (if
 * any are given). */
static int check_filters(const struct actool_list *filters)
{
  for (size_t i = 0; i < filters->n; i++) {
    const char *f = filters->v[i];
    if (strncmp(f, "name=", 5) != 0 && strncmp(f, "label=", 6) != 0)
      return actool_usage_error("image list", "--filter=%s: takes name=GLOB or label=NAME[=VALUE]",
                                f);
    if (strcmp(f, "label=") == 0 || strncmp(f, "label==", 7) == 0)
      return actool_usage_error("image list", "--filter=%s: the label's NAME is missing", f);
    if (strncmp(f, "name==", 6) == 0)
      return actool_usage_error("image list", "--filter=%s: the value is missing", f);
    if (strcmp(f, "name=") == 0)
      return actool_usage_error("image list", "--filter=%s: the GLOB is missing", f);
  }
  return 0;
}

static bool has_label(const struct appc_store_image *img, const char *spec)
{
  const char *eq = strchr(spec, '=');
  size_t n = eq != NULL ? (size_t) (eq - spec) : strlen(spec);

  for (size_t k = 0; k < img->labels.len; k++) {
    const struct appc_kv *l = &img->labels.items[k];
    if (l->name != NULL && strlen(l->name) == n && strncmp(l->name, spec, n) == 0 &&
        (eq == NULL || strcmp(l->value, eq + 1) == 0))
      return true;
  }
  return false;
}

static bool selected(const struct appc_store_image *img, const struct actool_list *filters,
                     int npatterns, char **patterns)
{
  for (size_t i = 0; i < filters->n; i++) {
    const char *f = filters->v[i];
    if (strncmp(f, "name=", 5) == 0 ? fnmatch(f + 5, img->name, 0) != 0 : !has_label(img, f + 6))
      return false;
  }
  for (int i = 0; i < npatterns; i++)
    if (fnmatch(patterns[i], img->name, 0) == 0)
      return true;
  return npatterns == 0;
}

/* A damaged record is named on stderr; the listing goes on without it. */
static void print_damaged(const char *msg, void *data)
{
  actool_error("%s", msg);
  *(bool *) data = true;
}

static int run_image_list(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct list_options *o = opaque;
  cleanup_error appc_error_t err = NULL;
  struct appc_store *s = NULL;
  struct appc_store_image *imgs = NULL;
  size_t n = 0;
  bool damaged = false;
  int r;

  if ((r = check_filters(&o->filters)) != 0)
    return r;
  if (o->json && o->quiet)
    return actool_usage_error("image list", "--json and -q: say one");
  struct actool_table_options to = {.output = o->output, .no_legend = o->no_legend, .raw = o->raw};
  struct actool_table *t = NULL;
  if ((r = actool_table_alone("image list", &to, o->json ? "--json" : o->quiet ? "-q" : NULL)) != 0)
    return r;
  if (!o->json && !o->quiet &&
      (r = actool_table_new("image list", columns, ARRAY_SIZE(columns), &to, &t)) != 0)
    return r;
  if ((r = actool_open_store(g, &s)) != 0) {
    actool_table_free(t);
    return r;
  }
  r = appc_store_list(s, print_damaged, &damaged, &imgs, &n, &err);
  appc_store_close(s);
  if (r < 0) {
    actool_table_free(t);
    return actool_fail(&err);
  }
  /* What the filters leave, in place. */
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    if (selected(&imgs[i], &o->filters, argc, argv)) {
      struct appc_store_image swap = imgs[kept];
      imgs[kept++] = imgs[i];
      imgs[i] = swap;
    }
  }
  /* (the rest are still freed: appc_store_images_free gets every one) */
  if (o->quiet) {
    for (size_t i = 0; i < kept; i++)
      printf("%s\n", imgs[i].id);
  } else if (o->json) {
    r = print_json(imgs, kept);
  } else {
    r = print_table(t, imgs, kept, o);
  }
  appc_store_images_free(imgs, n);
  return r == 0 && !damaged ? ACTOOL_EXIT_OK : ACTOOL_EXIT_FAILURE;
}

const struct actool_command actool_cmd_image_list = {
    .name = "image list",
    .summary = "List the images in the store",
    .usage = "[--json | -q | [--no-legend] [--raw] [--output=COL[,COL]...]] [--full] "
             "[--filter=name=GLOB|label=NAME[=VALUE]]... [NAME-GLOB...]",
    .description = "Lists every image, or those whose name matches one of the NAME-GLOBs\n"
                   "(shell patterns: example.com/*) and that pass every --filter:\n"
                   "name=GLOB, label=NAME (the label is set) or label=NAME=VALUE.  -q prints\n"
                   "full image IDs only, one per line, for scripts (`actool image rm $(actool\n"
                   "image list -q --filter=label=arch=arm64)`).",
    .options = list_option_table,
    .options_size = sizeof(struct list_options),
    .run = run_image_list,
};
