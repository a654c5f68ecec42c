/* SPDX-License-Identifier: Apache-2.0 */
/* `layout run`: a command in the layout's rootfs, under the executor in its
 * build mode (<appc/ace.h>): the rootfs is the lower layer of an overlay
 * whose upper layer is made in the layout directory (LAYOUT/.run, so that
 * the changes move into rootfs/ by rename, on one file system), and what the
 * command changed goes into rootfs/ when it ends, whether it failed or not.
 *
 * The command runs as the layout's app would (user, group, working
 * directory, environment), but as a build step, which `docker build`'s RUN
 * is too: none of the app's ports (socket activation), mount points,
 * isolators or event handlers.  The pod is a one-app pod of the executor
 * like any other (`actool list` shows it while it runs, `gc` cleans up after
 * a killed actool); its image ID is a stand-in, the SHA-512 of the manifest,
 * since the layout is no image yet. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "appc/ace.h"
#include "appc/schema.h"
#include "common/error.h"
#include "common/abi.h"
#include "common/cleanup.h"
#include "common/digest.h"
#include "common/kv.h"
#include "layout/internal.h"

/* The app's name in the pod: AC_APP_NAME, what `actool list` shows. */
#define RUN_APP_NAME "layout-run"

static int add_string(json_object *o, const char *key, const char *value)
{
  json_object *v = json_object_new_string(value);

  if (v == NULL || json_object_object_add(o, key, v) < 0) {
    json_object_put(v);
    return -1;
  }
  return 0;
}

/* {"name": NAME, "value": VALUE} appended to the array A. */
static int add_pair(json_object *a, const char *name, const char *value)
{
  json_object *e = json_object_new_object();

  if (e == NULL || add_string(e, "name", name) < 0 || add_string(e, "value", value) < 0 ||
      json_object_array_add(a, e) < 0) {
    json_object_put(e);
    return -1;
  }
  return 0;
}

/* The app of the pod: the image's user, group, working directory and
 * environment, with ARGV as its command.  EXTRA_ENV replaces the app's
 * variables of its names (as run --set-env does): a pod's app may name a
 * variable only once. */
static json_object *run_app(const struct appc_app *app, char *const *argv, size_t argc,
                            const struct appc_kv_list *extra_env)
{
  json_object *o = json_object_new_object(), *exec = json_object_new_array(),
              *env = json_object_new_array();
  bool ok = o != NULL && exec != NULL && env != NULL;

  for (size_t i = 0; ok && i < argc; i++)
    ok = json_object_array_add(exec, json_object_new_string(argv[i])) == 0;
  for (size_t i = 0; ok && app != NULL && i < app->environment.len; i++)
    if (appc_kv_get(extra_env, app->environment.items[i].name) == NULL)
      ok = add_pair(env, app->environment.items[i].name, app->environment.items[i].value) == 0;
  for (size_t i = 0; ok && extra_env != NULL && i < extra_env->len; i++)
    ok = add_pair(env, extra_env->items[i].name, extra_env->items[i].value) == 0;
  ok = ok && json_object_object_add(o, "exec", exec) == 0;
  if (!ok)
    json_object_put(exec);
  exec = NULL;
  ok = ok && json_object_object_add(o, "environment", env) == 0;
  if (!ok)
    json_object_put(env);
  ok = ok && add_string(o, "user", app != NULL ? app->user : "0") == 0 &&
       add_string(o, "group", app != NULL ? app->group : "0") == 0;
  if (ok && app != NULL && app->working_directory != NULL && app->working_directory[0] != '\0')
    ok = add_string(o, "workingDirectory", app->working_directory) == 0;
  if (!ok) {
    json_object_put(o);
    return NULL;
  }
  return o;
}

/* The one-app pod that runs ARGV for the image M, whose stand-in ID is ID. */
static int run_pod(const struct appc_image_manifest *m, const char *id, char *const *argv,
                   size_t argc, const struct appc_kv_list *extra_env,
                   struct appc_pod_manifest **out, appc_error_t *err)
{
  json_object *pod = json_object_new_object(), *apps = json_object_new_array(),
              *ra = json_object_new_object(), *image = json_object_new_object();
  json_object *app = run_app(m->app, argv, argc, extra_env);
  bool ok = pod != NULL && apps != NULL && ra != NULL && image != NULL && app != NULL &&
            add_string(pod, "acVersion", APPC_SPEC_VERSION_STRING) == 0 &&
            add_string(pod, "acKind", "PodManifest") == 0 &&
            add_string(image, "name", m->name) == 0 && add_string(image, "id", id) == 0 &&
            add_string(ra, "name", RUN_APP_NAME) == 0;
  const char *text;
  int r;

  /* Each object is owned by its parent once added. */
  if (ok && json_object_object_add(ra, "image", image) == 0)
    image = NULL;
  if (ok && image == NULL && json_object_object_add(ra, "app", app) == 0)
    app = NULL;
  if (ok && app == NULL && json_object_array_add(apps, ra) == 0)
    ra = NULL;
  if (ok && ra == NULL && json_object_object_add(pod, "apps", apps) == 0)
    apps = NULL;
  json_object_put(image);
  json_object_put(app);
  json_object_put(ra);
  json_object_put(apps);
  text = ok && apps == NULL ? json_object_to_json_string_ext(pod, JSON_C_TO_STRING_PLAIN) : NULL;
  r = text != NULL ? appc_pod_manifest_parse(text, strlen(text), out, err)
                   : appc_error_make(err, ENOMEM, "layout run: the pod");
  json_object_put(pod);
  if (r < 0)
    appc_error_prefix(err, "layout run: the pod for the command");
  return r;
}

/* A mount point of mountinfo's (its field, octal escapes such as \040
 * for a space undone) into OUT. */
static void unescape_mount_point(const char *field, char out[PATH_MAX])
{
  size_t n = 0;

  for (const char *p = field; *p != '\0' && n + 1 < PATH_MAX; n++) {
    if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
        p[3] <= '7') {
      out[n] = (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
      p += 4;
    } else {
      out[n] = *p++;
    }
  }
  out[n] = '\0';
}

/* The command's changes go into ROOTFS (absolute) by rename from CHANGES,
 * in the layout directory (ace/commit.c), and no rename crosses from one
 * mount to another: a rootfs that is a mount point (a tmpfs, a volume of
 * its own), or holds one, is refused before the command runs rather than
 * after, its work lost. */
static int check_one_mount(const char *rootfs, const char *changes, appc_error_t *err)
{
  static const char why[] = "layout run moves the command's changes into the rootfs by rename, "
                            "which cannot cross from one mount to another; nothing was run";
  cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0, len = strlen(rootfs);
  struct stat a, b;

  if (stat(rootfs, &a) < 0 || stat(changes, &b) < 0)
    return appc_error_make(err, errno, "%s", rootfs);
  if (a.st_dev != b.st_dev)
    return appc_error_make(err, 0, "%s: on another file system than the layout's directory: %s",
                           rootfs, why);
  while (f != NULL && getline(&line, &cap, f) > 0) {
    char field[PATH_MAX], mnt[PATH_MAX];
    if (sscanf(line, "%*s %*s %*s %*s %4095s", field) != 1)
      continue;
    unescape_mount_point(field, mnt);
    if (strncmp(mnt, rootfs, len) == 0 && (mnt[len] == '\0' || mnt[len] == '/'))
      return appc_error_make(err, 0, "%s: a mount point%s: %s", mnt,
                             mnt[len] == '\0' ? "" : " in the rootfs", why);
  }
  return 0;
}

int appc_layout_run(struct appc_layout *l, struct appc_store *s, char *const *argv, size_t argc,
                    const struct appc_layout_run_options *o, int *status, appc_error_t *err)
{
  static const struct appc_layout_run_options defaults = {0};
  cleanup_free char *text = NULL, *changes = NULL, *rootfs = NULL, *changes_abs = NULL;
  struct appc_image_manifest *m = NULL;
  struct appc_pod_manifest *pod = NULL;
  char hex[APPC_DIGEST_HEX_MAX], id[APPC_DIGEST_HEX_MAX + 8];
  size_t len = 0;
  struct stat st;
  int r = -1;

  *status = 1;
  if (APPC_ABI_CHECK(o, appc_layout_run_options, APPC_LAYOUT_RUN_OPTIONS_VERSION, err) < 0)
    return -1;
  if (o == NULL)
    o = &defaults;
  if (argc == 0)
    return appc_error_tag(err, EINVAL, "layout run: no command");
  if (stat(appc_layout_rootfs(l), &st) < 0 || !S_ISDIR(st.st_mode))
    return appc_error_make(err, errno ? errno : ENOTDIR, "%s", appc_layout_rootfs(l));
  if (layout_manifest_text(l, &text, &len, err) < 0 ||
      appc_image_manifest_parse(text, len, &m, err) < 0)
    return -1;
  if (appc_digest_buffer(APPC_DIGEST_SHA512, text, len, hex, err) < 0)
    goto out;
  snprintf(id, sizeof id, "sha512-%s", hex);
  if (run_pod(m, id, argv, argc, o->env, &pod, err) < 0 || layout_changes_dir(l, &changes, err) < 0)
    goto out;
  /* The executor's processes change directory: a layout given as "." or
   * "dir" must reach them as an absolute path. */
  if ((rootfs = realpath(appc_layout_rootfs(l), NULL)) == NULL ||
      (changes_abs = realpath(changes, NULL)) == NULL) {
    appc_error_make(err, errno, "%s", rootfs == NULL ? appc_layout_rootfs(l) : changes);
    layout_changes_remove(l, NULL);
    goto out;
  }
  if (check_one_mount(rootfs, changes_abs, err) < 0) {
    appc_error_prefix(err, "layout run");
    layout_changes_remove(l, NULL);
    goto out;
  }
  struct appc_ace_options ao = {
      .version = APPC_ACE_OPTIONS_VERSION,
      .net = o->host_net ? APPC_ACE_NET_HOST : APPC_ACE_NET_PRIVATE,
      .notify = o->notify,
      .notify_data = o->notify_data,
      .rootfs_dir = rootfs,
      .changes_dir = changes_abs,
      .image_manifest = text,
  };
  if ((r = appc_ace_run(s, pod, &ao, status, err)) < 0)
    appc_error_prefix(err, "layout run");
  if (layout_changes_remove(l, r < 0 ? NULL : err) < 0)
    r = -1;
out:
  appc_pod_manifest_free(pod);
  appc_image_manifest_free(m);
  return r;
}
