/* SPDX-License-Identifier: Apache-2.0 */
/* How `actool run` would run an image's app, told to a runtime that is not
 * this executor (an OCI runtime bundle, <appc/oci.h>): computed by the same
 * functions the executor calls (identity.c, env.c, security.c, cgroup.c),
 * so that a rule changed there changes here too. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "ace/internal.h"
#include "ace/rootfs.h"
#include "appc/ace.h"
#include "common/abi.h"
#include "common/cleanup.h"

void appc_ace_app_plan_clear(struct appc_ace_app_plan *p)
{
  free(p->app_name);
  for (char **a = p->argv; a != NULL && *a != NULL; a++)
    free(*a);
  free(p->argv);
  ace_env_free(p->env);
  free(p->cwd);
  free(p->groups);
  for (size_t i = 0; i < p->n_syscall_rules; i++) {
    free(p->syscall_rules[i].name);
    free(p->syscall_rules[i].args);
  }
  free(p->syscall_rules);
  free(p->hostname);
  free(p->block_limits);
  memset(p, 0, sizeof *p);
}

static int copy_argv(const struct appc_app *app, struct appc_ace_app_plan *p, appc_error_t *err)
{
  /* the executor's default when an image has no app or no exec */
  static const char *const init[] = {"/sbin/init"};
  bool own = app != NULL && app->exec.len > 0;
  size_t n = own ? app->exec.len : 1;

  p->argv = calloc(n + 1, sizeof *p->argv);
  if (p->argv == NULL)
    return appc_error_make(err, ENOMEM, "exec");
  for (size_t i = 0; i < n; i++)
    if ((p->argv[i] = strdup(own ? app->exec.items[i] : init[i])) == NULL)
      return appc_error_make(err, ENOMEM, "exec");
  return 0;
}

/* The app's user, group and groups into P; ID keeps its HOME. */
static int identity(const struct appc_app *app, const char *rootfs, struct appc_ace_app_plan *p,
                    struct ace_identity *id, appc_error_t *err)
{
  if (ace_identity_resolve(rootfs, app, id, err) < 0)
    return -1;
  p->uid = id->uid;
  p->gid = id->gid;
  p->groups = steal_pointer(&id->groups);
  p->n_groups = id->n_groups;
  id->n_groups = 0;
  return 0;
}

/* The capabilities and OOM score are refused as appc_ace_run refuses them
 * without the operator's consent (ALLOWED). */
static int security(const struct appc_app *app, uint64_t allowed, struct appc_ace_app_plan *p,
                    appc_error_t *err)
{
  struct ace_notes quiet = {0};
  struct ace_security *sec = NULL;
  int r;

  if (ace_security_prepare(app, p->app_name, 0, &quiet, &sec, err) < 0)
    return -1;
  r = ace_security_check_caps(sec, allowed, p->app_name, err) < 0
          ? -1
          : ace_security_describe(sec, p, err);
  ace_security_free(sec);
  return r;
}

/* The working directory must be in the image, as the executor's chdir
 * wants it (resolved inside ROOTFS); a mount point, which the runtime
 * makes, may be it. */
static int working_directory(const struct appc_app *app, const char *rootfs, const char *cwd,
                             const char *app_name, appc_error_t *err)
{
  for (size_t i = 0; app != NULL && i < app->n_mount_points; i++)
    if (strcmp(app->mount_points[i].path, cwd) == 0)
      return 0;
  cleanup_close int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return appc_error_make(err, errno, "%s", rootfs);
  cleanup_close int fd = ace_workdir_open(root, cwd, err);
  return fd < 0 ? appc_error_prefix(err, "app %s", app_name) : 0;
}

int appc_ace_app_plan_with(struct appc_store *s, const char *image_id, const char *rootfs,
                           const struct appc_ace_plan_options *opts, struct appc_ace_app_plan *out,
                           appc_error_t *err)
{
  static const struct appc_ace_plan_options defaults;
  struct appc_image_manifest *m = NULL;
  struct ace_identity id = {0};
  struct ace_notes quiet = {0};
  const struct appc_app *app;
  uint64_t allowed = 0;
  int r = -1;

  memset(out, 0, sizeof *out);
  if (APPC_ABI_CHECK(opts, appc_ace_plan_options, APPC_ACE_PLAN_OPTIONS_VERSION, err) < 0)
    return -1;
  if (opts == NULL)
    opts = &defaults;
  if (ace_caps_parse(opts->allow_caps, opts->n_allow_caps, &allowed, err) < 0 ||
      appc_store_load_manifest(s, image_id, &m, err) < 0)
    return -1;
  app = m->app;
  out->app_name = ace_app_name_from_image(m->name);
  out->hostname = out->app_name != NULL ? ace_hostname_of_app(out->app_name) : NULL;
  out->cwd = strdup(app != NULL && app->working_directory != NULL && app->working_directory[0]
                        ? app->working_directory
                        : "/");
  if (out->app_name == NULL || out->hostname == NULL || out->cwd == NULL) {
    appc_error_make(err, ENOMEM, "%s", image_id);
    goto done;
  }
  if (copy_argv(app, out, err) < 0 || identity(app, rootfs, out, &id, err) < 0 ||
      working_directory(app, rootfs, out->cwd, out->app_name, err) < 0 ||
      ace_env_build(app, out->app_name, NULL, id.home, opts->env, &out->env, err) < 0 ||
      security(app, allowed, out, err) < 0 ||
      ace_cgroup_limits(app != NULL ? &app->isolators : NULL, out->app_name, &quiet, out, err) < 0)
    goto done;
  r = 0;
done:
  ace_identity_clear(&id);
  appc_image_manifest_free(m);
  if (r < 0)
    appc_ace_app_plan_clear(out);
  return r;
}

/* The rules that test arguments (appc_ace_syscall_rule.args) came after
 * appc_ace_app_plan: its callers know rules without conditions only, and
 * would take such a rule (clone: EPERM) for one on every call. */
static void drop_argument_rules(struct appc_ace_app_plan *p)
{
  size_t kept = 0;

  for (size_t i = 0; i < p->n_syscall_rules; i++) {
    struct appc_ace_syscall_rule *r = &p->syscall_rules[i];
    if (r->args == NULL) {
      p->syscall_rules[kept++] = *r;
      continue;
    }
    free(r->name);
    free(r->args);
  }
  p->n_syscall_rules = kept;
}

int appc_ace_app_plan(struct appc_store *s, const char *image_id, const char *rootfs,
                      const struct appc_kv_list *extra_env, struct appc_ace_app_plan *out,
                      appc_error_t *err)
{
  const struct appc_ace_plan_options o = {.version = APPC_ACE_PLAN_OPTIONS_VERSION,
                                          .env = extra_env};

  if (appc_ace_app_plan_with(s, image_id, rootfs, &o, out, err) < 0)
    return -1;
  drop_argument_rules(out);
  return 0;
}
