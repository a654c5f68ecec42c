/* SPDX-License-Identifier: Apache-2.0 */
/* Completing a pod manifest for running ("reifying" it, pods.md): image IDs,
 * app names and apps filled in from the store, mounts checked. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appc/ace.h"
#include "ace/internal.h"
#include "common/error.h"
#include "common/cleanup.h"
#include "appc/store.h"
#include "appc/schema.h"
#include "appc/types.h"

/* The app name an image gets in a pod: the last element of its name, made
 * an AC Name. */
char *ace_app_name_from_image(const char *image)
{
  const char *last = strrchr(image, '/');

  return appc_acname_make(last != NULL ? last + 1 : image, "app");
}

static int resolve_image(struct appc_store *s, struct appc_runtime_image *img, const char *path,
                         appc_error_t *err)
{
  struct appc_store_image found = {0};
  int r;

  if (img->id != NULL)
    r = appc_store_lookup(s, img->id, &found, err);
  else if (img->name != NULL)
    r = appc_store_find(s, img->name, &img->labels, &found, err);
  else
    return appc_error_make(err, 0, "%s: neither an image id nor a name is given", path);
  if (r < 0)
    return appc_error_prefix(err, "%s", path);
  if (img->name != NULL && strcmp(img->name, found.name) != 0) {
    appc_error_make(err, 0, "%s: image %s is named \"%s\", not \"%s\"", path, found.id, found.name,
                    img->name);
    appc_store_image_clear(&found);
    return -1;
  }
  free(img->id);
  img->id = strdup(found.id);
  if (img->name == NULL)
    img->name = strdup(found.name);
  appc_store_image_clear(&found);
  if (img->id == NULL || img->name == NULL)
    return appc_error_make(err, ENOMEM, "%s", path);
  return 0;
}

static int fill_app(struct appc_store *s, struct appc_runtime_app *ra, const char *path,
                    appc_error_t *err)
{
  struct appc_image_manifest *m = NULL;
  int r = 0;

  if (ra->app != NULL)
    return appc_app_validate(ra->app, path, err);
  if (appc_store_load_manifest(s, ra->image.id, &m, err) < 0)
    return appc_error_prefix(err, "%s", path);
  if (m->app != NULL)
    r = appc_app_copy(m->app, &ra->app, err);
  appc_image_manifest_free(m);
  return r;
}

static int check_unique_names(const struct appc_pod_manifest *pod, appc_error_t *err)
{
  for (size_t i = 0; i < pod->n_apps; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp(pod->apps[i].name, pod->apps[j].name) == 0)
        return appc_error_tag(err, EEXIST,
                              "apps[%zu].name: \"%s\" is already the name of apps[%zu]", i,
                              pod->apps[i].name, j);
  return 0;
}

static const struct appc_volume *find_volume(const struct appc_pod_manifest *pod, const char *name)
{
  for (size_t i = 0; i < pod->n_volumes; i++)
    if (strcmp(pod->volumes[i].name, name) == 0)
      return &pod->volumes[i];
  return NULL;
}

static int check_mounts(const struct appc_pod_manifest *pod, size_t i, appc_error_t *err)
{
  const struct appc_runtime_app *ra = &pod->apps[i];

  for (size_t j = 0; j < ra->n_mounts; j++) {
    const struct appc_mount *m = &ra->mounts[j];
    if (m->app_volume == NULL && (m->volume == NULL || find_volume(pod, m->volume) == NULL))
      return appc_error_make(err, 0, "apps[%zu].mounts[%zu].volume: no volume \"%s\" in the pod", i,
                             j, m->volume != NULL ? m->volume : "");
    if (m->path == NULL || m->path[0] != '/')
      return appc_error_make(err, 0, "apps[%zu].mounts[%zu].path: \"%s\" is not absolute", i, j,
                             m->path != NULL ? m->path : "");
  }
  return 0;
}

/* The name at PATH (then FIELD) is an AC Name.  The names of apps, volumes and mount
 * points become path components (DIR/pods/UUID/apps/NAME, volumes/NAME,
 * the apps' cgroups): "../x" would lead out of the pod. */
static int check_name(const char *name, const char *path, const char *field, appc_error_t *err)
{
  if (name == NULL)
    return appc_error_make(err, 0, "%s%s: must be set (an AC Name)", path, field);
  if (appc_validate_acname(name, err) < 0)
    return appc_error_prefix(err, "%s%s", path, field);
  return 0;
}

/* The volume at PATH: an AC Name, and what the schema requires of it. */
static int check_volume(const struct appc_volume *v, const char *path, appc_error_t *err)
{
  if (check_name(v->name, path, ".name", err) < 0)
    return -1;
  return appc_validate_volume(v, path, err);
}

static int check_volumes(const struct appc_pod_manifest *pod, appc_error_t *err)
{
  char path[64];

  for (size_t i = 0; i < pod->n_volumes; i++) {
    snprintf(path, sizeof path, "volumes[%zu]", i);
    if (check_volume(&pod->volumes[i], path, err) < 0)
      return -1;
  }
  return 0;
}

/* The app's name, the volumes its mounts name or bring, the names of its
 * mount points (an implicit volume each when no volume has the name), and
 * that each mount has its volume and an absolute path. */
static int check_app(const struct appc_pod_manifest *pod, size_t i, appc_error_t *err)
{
  const struct appc_runtime_app *ra = &pod->apps[i];
  const struct appc_app *app = ra->app;
  char path[96];

  snprintf(path, sizeof path, "apps[%zu].name", i);
  if (check_name(ra->name, path, "", err) < 0)
    return -1;
  for (size_t j = 0; j < ra->n_mounts; j++) {
    const struct appc_mount *m = &ra->mounts[j];
    snprintf(path, sizeof path, "apps[%zu].mounts[%zu].volume", i, j);
    if (m->volume != NULL && check_name(m->volume, path, "", err) < 0)
      return -1;
    snprintf(path, sizeof path, "apps[%zu].mounts[%zu].appVolume", i, j);
    if (m->app_volume != NULL && check_volume(m->app_volume, path, err) < 0)
      return -1;
  }
  for (size_t j = 0; app != NULL && j < app->n_mount_points; j++) {
    snprintf(path, sizeof path, "apps[%zu].app.mountPoints[%zu].name", i, j);
    if (check_name(app->mount_points[j].name, path, "", err) < 0)
      return -1;
  }
  return check_mounts(pod, i, err);
}

int ace_pod_check(const struct appc_pod_manifest *pod, appc_error_t *err)
{
  if (check_volumes(pod, err) < 0)
    return -1;
  for (size_t i = 0; i < pod->n_apps; i++)
    if (check_app(pod, i, err) < 0)
      return -1;
  return check_unique_names(pod, err);
}

int appc_ace_reify(struct appc_store *s, struct appc_pod_manifest *pod, appc_error_t *err)
{
  char path[64];

  if (pod->n_apps == 0)
    return appc_error_make(err, 0, "apps: a pod needs at least one app");
  if (check_volumes(pod, err) < 0)
    return -1;
  for (size_t i = 0; i < pod->n_apps; i++) {
    struct appc_runtime_app *ra = &pod->apps[i];
    snprintf(path, sizeof path, "apps[%zu].image", i);
    if (resolve_image(s, &ra->image, path, err) < 0)
      return -1;
    snprintf(path, sizeof path, "apps[%zu].app", i);
    if (fill_app(s, ra, path, err) < 0)
      return -1;
    if (ra->name == NULL && (ra->name = ace_app_name_from_image(ra->image.name)) == NULL)
      return appc_error_make(err, ENOMEM, "apps[%zu].name", i);
    if (check_app(pod, i, err) < 0)
      return -1;
  }
  /* The metadata service answers pod/annotations with a JSON array, and
   * serves this manifest as pod/manifest: it must say [] too, not null (no
   * annotations given), for the two to agree (the ACE validator compares
   * them). */
  if (pod->annotations.items == NULL &&
      (pod->annotations.items = calloc(1, sizeof *pod->annotations.items)) == NULL)
    return appc_error_make(err, ENOMEM, "annotations");
  return check_unique_names(pod, err);
}
