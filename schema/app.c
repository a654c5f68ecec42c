/* SPDX-License-Identifier: Apache-2.0 */
/* The app section shared by image manifests and pod app overrides. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/hashmap.h"
#include "schema/internal.h"
#include "appc/schema.h"
#include "appc/isolator.h"
#include "appc/types.h"

/* ---- ports */

void appc_port_clear(struct appc_port *p)
{
  free(p->name);
  free(p->protocol);
  memset(p, 0, sizeof *p);
}

static void port_free_elem(void *elem)
{
  appc_port_clear(elem);
}

/* The rules of appc_validate_port_range(), naming the member at fault:
 * "port" when it is out of range, else "count" when the range runs past
 * 65535. */
int appc_jcheck_port_range(struct appc_jctx *c, uint64_t port, uint64_t count)
{
  if (port < 1 || port > 65535)
    return appc_jerr_at(c, "port", "%llu is not in the 1-65535 range", (unsigned long long) port);
  /* port <= 65535 here, so this cannot wrap around as the reference's
   * port + count does (a deviation, see docs/conformance.md). */
  if (count > 65536 - port)
    return appc_jerr_at(c, "count", "a range of %llu ports from %llu runs past port 65535",
                        (unsigned long long) count, (unsigned long long) port);
  return 0;
}

int appc_jdecode_port(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  static const struct appc_jfield fields[] = {
      {"name", appc_jdecode_acname, offsetof(struct appc_port, name)},
      {"protocol", appc_jdecode_string, offsetof(struct appc_port, protocol)},
      {"port", appc_jdecode_uint64, offsetof(struct appc_port, port)},
      {"count", appc_jdecode_uint64, offsetof(struct appc_port, count)},
      {"socketActivated", appc_jdecode_bool, offsetof(struct appc_port, socket_activated)},
  };
  struct appc_port *p = target;

  if (appc_jdecode_fields(c, v, fields, p) < 0)
    return -1;
  if (p->protocol == NULL && appc_jdecode_string(c, NULL, &p->protocol) < 0)
    return -1;
  if (appc_jcheck_port_range(c, p->port, p->count) < 0)
    return -1;
  if (p->count == 0)
    p->count = 1; /* a count of 0 means a single port */
  return 0;
}

static int decode_ports(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  struct appc_app *app = target;
  return appc_jdecode_array(c, v, (void **) &app->ports, &app->n_ports, sizeof *app->ports,
                            appc_jdecode_port, port_free_elem);
}

void appc_jw_port(struct appc_jw *w, const struct appc_port *p)
{
  appc_jw_begin_object(w);
  appc_jw_field_string(w, "name", p->name);
  appc_jw_field_string(w, "protocol", p->protocol);
  appc_jw_key(w, "port");
  appc_jw_uint(w, p->port);
  appc_jw_key(w, "count");
  appc_jw_uint(w, p->count);
  appc_jw_key(w, "socketActivated");
  appc_jw_bool(w, p->socket_activated);
  appc_jw_end_object(w);
}

/* ---- event handlers and mount points */

static void event_handler_free_elem(void *elem)
{
  struct appc_event_handler *h = elem;
  free(h->name);
  appc_string_list_clear(&h->exec);
}

static int decode_event_handler(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  static const struct appc_jfield fields[] = {
      {"name", appc_jdecode_string, offsetof(struct appc_event_handler, name)},
      {"exec", appc_jdecode_string_list, offsetof(struct appc_event_handler, exec)},
  };
  struct appc_event_handler *h = target;

  if (appc_jdecode_fields(c, v, fields, h) < 0)
    return -1;
  if (h->name == NULL && appc_jdecode_string(c, NULL, &h->name) < 0)
    return -1;
  if (strcmp(h->name, "pre-start") != 0 && strcmp(h->name, "post-stop") != 0)
    return appc_jerr_at(
        c, "name", "\"%s\" is not an eventHandler name (must be \"pre-start\" or \"post-stop\")",
        h->name);
  return 0;
}

static int decode_event_handlers(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  struct appc_app *app = target;
  return appc_jdecode_array(c, v, (void **) &app->event_handlers, &app->n_event_handlers,
                            sizeof *app->event_handlers, decode_event_handler,
                            event_handler_free_elem);
}

static void mount_point_free_elem(void *elem)
{
  struct appc_mount_point *m = elem;
  free(m->name);
  free(m->path);
}

static int decode_mount_point(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  static const struct appc_jfield fields[] = {
      {"name", appc_jdecode_acname, offsetof(struct appc_mount_point, name)},
      {"path", appc_jdecode_string, offsetof(struct appc_mount_point, path)},
      {"readOnly", appc_jdecode_bool, offsetof(struct appc_mount_point, read_only)},
  };
  struct appc_mount_point *m = target;

  if (appc_jdecode_fields(c, v, fields, m) < 0)
    return -1;
  return m->path == NULL ? appc_jdecode_string(c, NULL, &m->path) : 0;
}

static int decode_mount_points(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  struct appc_app *app = target;
  return appc_jdecode_array(c, v, (void **) &app->mount_points, &app->n_mount_points,
                            sizeof *app->mount_points, decode_mount_point, mount_point_free_elem);
}

static int decode_gids(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  struct appc_app *app = target;
  return appc_jdecode_int64_list(c, v, &app->supplementary_gids, &app->n_supplementary_gids);
}

/* ---- the app */

void appc_app_free(struct appc_app *app)
{
  if (app == NULL)
    return;
  appc_string_list_clear(&app->exec);
  appc_jfree_array((void **) &app->event_handlers, &app->n_event_handlers,
                   sizeof *app->event_handlers, event_handler_free_elem);
  free(app->user);
  free(app->group);
  free(app->supplementary_gids);
  free(app->working_directory);
  appc_kv_list_clear(&app->environment);
  appc_jfree_array((void **) &app->mount_points, &app->n_mount_points, sizeof *app->mount_points,
                   mount_point_free_elem);
  appc_jfree_array((void **) &app->ports, &app->n_ports, sizeof *app->ports, port_free_elem);
  appc_isolator_list_clear(&app->isolators);
  appc_kv_list_clear(&app->user_annotations);
  appc_kv_list_clear(&app->user_labels);
  free(app);
}

static const char *handler_name_at(const void *list, size_t i)
{
  return ((const struct appc_event_handler *) list)[i].name;
}

/* App-wide rules, checked once all fields are read (App.assertValid). */
static int app_check(struct appc_jctx *c, struct appc_app *app)
{
  if (*app->user == '\0')
    return appc_jerr_at(c, "user", "must be set (a non-empty user name or UID)");
  if (*app->group == '\0')
    return appc_jerr_at(c, "group", "must be set (a non-empty group name or GID)");
  if (*app->working_directory != '\0' && *app->working_directory != '/')
    return appc_jerr_at(c, "workingDirectory", "\"%s\" must be an absolute path",
                        app->working_directory);
  size_t j;
  ssize_t i = appc_first_repeat(app->n_event_handlers, handler_name_at, app->event_handlers, &j);
  if (i < 0)
    return appc_jerr(c, "out of memory");
  if ((size_t) i < app->n_event_handlers) {
    appc_jpath_add(c, ".eventHandlers[%zd]", i);
    return appc_jerr_at(c, "name",
                        "only one eventHandler named \"%s\" is allowed (also "
                        "eventHandlers[%zu])",
                        app->event_handlers[i].name, j);
  }
  size_t mark = appc_jpath_key(c, "isolators");
  if (appc_isolators_validate(&app->isolators, c->path, c->err) < 0)
    return -1;
  appc_jpath_restore(c, mark);
  return 0;
}

static int fill_defaults(struct appc_jctx *c, struct appc_app *app)
{
  char **strings[] = {&app->user, &app->group, &app->working_directory};

  for (size_t i = 0; i < 3; i++) {
    if (*strings[i] == NULL && appc_jdecode_string(c, NULL, strings[i]) < 0)
      return -1;
  }
  return 0;
}

int appc_jdecode_app(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  static const struct appc_jfield fields[] = {
      {"exec", appc_jdecode_string_list, offsetof(struct appc_app, exec)},
      {"eventHandlers", decode_event_handlers, 0},
      {"user", appc_jdecode_string, offsetof(struct appc_app, user)},
      {"group", appc_jdecode_string, offsetof(struct appc_app, group)},
      {"supplementaryGIDs", decode_gids, 0},
      {"workingDirectory", appc_jdecode_string, offsetof(struct appc_app, working_directory)},
      {"environment", appc_jdecode_environment, offsetof(struct appc_app, environment)},
      {"mountPoints", decode_mount_points, 0},
      {"ports", decode_ports, 0},
      {"isolators", appc_jdecode_isolators, offsetof(struct appc_app, isolators)},
      {"userAnnotations", appc_jdecode_string_map, offsetof(struct appc_app, user_annotations)},
      {"userLabels", appc_jdecode_string_map, offsetof(struct appc_app, user_labels)},
  };
  struct appc_app **out = target;

  if (v == NULL) {
    appc_app_free(*out); /* null sets a Go pointer to nil */
    *out = NULL;
    return 0;
  }
  if (v->kind != APPC_JOBJECT)
    return appc_jerr(c, "expected an object, got %s", appc_jtype_name(v));
  /* A repeated "app" key decodes into the same App, as in Go. */
  if (*out == NULL && (*out = calloc(1, sizeof **out)) == NULL)
    return appc_error_make(c->err, ENOMEM, "%s", c->path);
  if (appc_jdecode_fields(c, v, fields, *out) < 0 || fill_defaults(c, *out) < 0)
    return -1;
  return app_check(c, *out);
}

int appc_app_validate(const struct appc_app *app, const char *path, appc_error_t *err)
{
  struct appc_jctx c = {.err = err};
  struct appc_app copy = *app;
  char empty[] = "";

  appc_jpath_key(&c, path);
  /* Unset strings read as "", as after parsing. */
  copy.user = app->user != NULL ? app->user : empty;
  copy.group = app->group != NULL ? app->group : empty;
  copy.working_directory = app->working_directory != NULL ? app->working_directory : empty;
  if (appc_validate_environment(&app->environment, "environment", err) < 0)
    return appc_error_prefix(err, "%s", path);
  return app_check(&c, &copy);
}

/* ---- serialising */

static void event_handler_elem(struct appc_jw *w, const void *elem)
{
  const struct appc_event_handler *h = elem;

  appc_jw_begin_object(w);
  appc_jw_field_string(w, "name", h->name);
  appc_jw_key(w, "exec");
  appc_jw_string_list(w, &h->exec);
  appc_jw_end_object(w);
}

static void mount_point_elem(struct appc_jw *w, const void *elem)
{
  const struct appc_mount_point *m = elem;

  appc_jw_begin_object(w);
  appc_jw_field_string(w, "name", m->name);
  appc_jw_field_string(w, "path", m->path);
  if (m->read_only) {
    appc_jw_key(w, "readOnly");
    appc_jw_bool(w, true);
  }
  appc_jw_end_object(w);
}

static void port_elem(struct appc_jw *w, const void *elem)
{
  appc_jw_port(w, elem);
}

static void gid_elem(struct appc_jw *w, const void *elem)
{
  appc_jw_int(w, *(const int64_t *) elem);
}

void appc_jw_app(struct appc_jw *w, const struct appc_app *app)
{
  appc_jw_begin_object(w);
  /* Go struct order; the omitempty fields only when non-empty. */
  appc_jw_key(w, "exec");
  appc_jw_string_list(w, &app->exec);
  appc_jw_field_array(w, "eventHandlers", app->event_handlers, app->n_event_handlers,
                      sizeof *app->event_handlers, event_handler_elem);
  appc_jw_field_string(w, "user", app->user);
  appc_jw_field_string(w, "group", app->group);
  appc_jw_field_array(w, "supplementaryGIDs", app->supplementary_gids, app->n_supplementary_gids,
                      sizeof *app->supplementary_gids, gid_elem);
  if (app->working_directory != NULL && *app->working_directory != '\0')
    appc_jw_field_string(w, "workingDirectory", app->working_directory);
  appc_jw_field_kv_list(w, "environment", &app->environment);
  appc_jw_field_array(w, "mountPoints", app->mount_points, app->n_mount_points,
                      sizeof *app->mount_points, mount_point_elem);
  appc_jw_field_array(w, "ports", app->ports, app->n_ports, sizeof *app->ports, port_elem);
  if (app->isolators.len > 0) {
    appc_jw_key(w, "isolators");
    appc_jw_isolators(w, &app->isolators);
  }
  appc_jw_field_string_map(w, "userAnnotations", &app->user_annotations);
  appc_jw_field_string_map(w, "userLabels", &app->user_labels);
  appc_jw_end_object(w);
}

/* A deep copy through the JSON form, which is the one representation every
 * field already round-trips through (parse -> serialise -> parse). */
int appc_app_copy(const struct appc_app *src, struct appc_app **out, appc_error_t *err)
{
  struct appc_jctx c = {.err = err};
  cleanup_free char *text = NULL;
  size_t len = 0;
  struct appc_jw w;

  *out = NULL;
  appc_jw_init(&w, 0);
  appc_jw_app(&w, src);
  if (appc_jw_finish(&w, &text, &len, "app", err) < 0)
    return -1;
  appc_jpath_key(&c, "app");
  return appc_jdecode_text(&c, text, len, appc_jdecode_app, out);
}

void appc_app_release(struct appc_app *app)
{
  appc_app_free(app);
}
