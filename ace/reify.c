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

int appc_ace_reify(struct appc_store *s, struct appc_pod_manifest *pod, appc_error_t *err)
{
  char path[64];

  if (pod->n_apps == 0)
    return appc_error_make(err, 0, "apps: a pod needs at least one app");
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
    if (appc_validate_acname(ra->name, err) < 0)
      return appc_error_prefix(err, "apps[%zu].name", i);
    if (check_mounts(pod, i, err) < 0)
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
