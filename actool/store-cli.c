/* SPDX-License-Identifier: Apache-2.0 */
/* What the store commands share: finding and opening the store. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actool/actool.h"
#include "actool/options.h"
#include "common/cleanup.h"
#include "appc/ace.h"
#include "appc/store.h"
#include "common/macros.h"

/* --dir, else ACTOOL_DIR (applied to g->dir by main), else /var/lib/actool
 * as root and ${XDG_DATA_HOME:-~/.local/share}/actool otherwise. */
static int default_dir(char **out)
{
  const char *xdg = getenv("XDG_DATA_HOME");
  const char *home = getenv("HOME");

  if (geteuid() == 0)
    return (*out = strdup("/var/lib/actool")) != NULL ? 0 : -1;
  if (xdg != NULL && xdg[0] == '/')
    return asprintf(out, "%s/actool", xdg) < 0 ? -1 : 0;
  if (home == NULL || home[0] == '\0')
    return -1;
  return asprintf(out, "%s/.local/share/actool", home) < 0 ? -1 : 0;
}

int actool_store_dir(const struct actool_globals *g, char **out)
{
  *out = NULL;
  if (g->dir != NULL)
    *out = strdup(g->dir);
  else if (default_dir(out) < 0) {
    actool_error("cannot tell where the store is: set --dir, ACTOOL_DIR or HOME");
    return ACTOOL_EXIT_FAILURE;
  }
  if (*out == NULL) {
    actool_error("out of memory");
    return ACTOOL_EXIT_FAILURE;
  }
  return ACTOOL_EXIT_OK;
}

int actool_open_store(const struct actool_globals *g, struct appc_store **out)
{
  cleanup_free char *dir = NULL;
  cleanup_error appc_error_t err = NULL;

  if (actool_store_dir(g, &dir) != ACTOOL_EXIT_OK)
    return ACTOOL_EXIT_FAILURE;
  actool_debug(g, "store: %s", dir);
  /* with actool's callbacks from the start: the opening and every
   * operation tell when they wait for another process's lock */
  if (appc_store_open_with(out, dir, actool_callbacks(g), &err) < 0)
    return actool_fail(&err);
  return ACTOOL_EXIT_OK;
}

int actool_fail(appc_error_t *err)
{
  actool_report(err);
  return ACTOOL_EXIT_FAILURE;
}

int actool_fail_hint(appc_error_t *err, int errnum, const char *hint)
{
  if (*err == NULL || hint == NULL || (*err)->errnum != errnum)
    return actool_fail(err);
  actool_error("%s (%s)", (*err)->msg, hint);
  appc_error_release(err);
  return ACTOOL_EXIT_FAILURE;
}

int actool_fail_output(appc_error_t *err, const char *flag)
{
  char hint[64];

  snprintf(hint, sizeof hint, "use %s to replace it", flag != NULL ? flag : "");
  return actool_fail_hint(err, EEXIST, flag != NULL ? hint : NULL);
}

int actool_fail_net(appc_error_t *err)
{
  static const struct {
    int errnum;
    const char *hint;
  } hints[] = {
      {EKEYREJECTED, "use --cacert=FILE to trust its CA"},
      {EPROTONOSUPPORT, "--insecure-options=http allows plain http"},
      {ENOKEY, "use --insecure-options=image to import it unverified"},
      {ENONET, "--store-only"},
      {EMSGSIZE, "ACTOOL_FETCH_MAX_SIZE allows more"},
      {ETIMEDOUT, "ACTOOL_FETCH_DEADLINE allows more time"},
  };

  for (size_t i = 0; *err != NULL && i < ARRAY_SIZE(hints); i++)
    if ((*err)->errnum == hints[i].errnum)
      return actool_fail_hint(err, hints[i].errnum, hints[i].hint);
  return actool_fail(err);
}

int actool_set_env(const char *command, struct appc_kv_list *env,
                   const struct actool_list *assignments)
{
  cleanup_error appc_error_t err = NULL;

  for (size_t i = 0; i < assignments->n; i++)
    if (appc_ace_env_add(env, assignments->v[i], &err) < 0)
      return actool_usage_error(command, "--set-env: %s", err->msg);
  return ACTOOL_EXIT_OK;
}

const struct actool_command *actool_find_subcommand(const struct actool_command *cmd,
                                                    const char *name)
{
  for (size_t i = 0; cmd->subcommands != NULL && cmd->subcommands[i] != NULL; i++) {
    const char *word = strrchr(cmd->subcommands[i]->name, ' ');
    if (strcmp(word != NULL ? word + 1 : cmd->subcommands[i]->name, name) == 0)
      return cmd->subcommands[i];
  }
  return NULL;
}

int actool_lookup_image(struct appc_store *s, const char *spec, struct appc_store_image *img)
{
  cleanup_error appc_error_t err = NULL;

  if (appc_store_lookup(s, spec, img, &err) < 0) {
    /* Where to look next: what the store has, or how to add a name. */
    if (err->errnum == ENOENT && strncmp(spec, "sha512-", 7) == 0)
      actool_error("%s (see 'actool image list')", err->msg);
    else if (err->errnum == ENOENT)
      actool_error("%s (see 'actool image list'; 'actool fetch %s' adds it)", err->msg, spec);
    else
      return actool_fail(&err);
    return ACTOOL_EXIT_FAILURE;
  }
  return ACTOOL_EXIT_OK;
}

/* Go's time.ParseDuration syntax, which rkt's --grace-period takes: a
 * sequence of decimal numbers with units ns, us (or µs), ms, s, m, h. */
int actool_parse_duration(const char *s, double *seconds)
{
  static const struct {
    const char *unit;
    double scale;
  } units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6}, {"ms", 1e-3},
               {"s", 1.0},   {"m", 60.0},  {"h", 3600.0}};
  double total = 0;

  if (strcmp(s, "0") == 0) {
    *seconds = 0;
    return 0;
  }
  if (*s == '\0')
    return -1;
  while (*s != '\0') {
    /* DIGITS[.DIGITS] as Go has it, not all strtod reads (hex, exponents,
     * inf): its digits alone are handed to strtod */
    size_t whole = strspn(s, "0123456789"), frac = 0, best = 0, best_len = 0;
    if (s[whole] == '.')
      frac = 1 + strspn(s + whole + 1, "0123456789");
    if (whole + frac == 0 || whole + (frac > 0 ? frac - 1 : 0) == 0 || whole + frac >= 64)
      return -1;
    char digits[64];
    memcpy(digits, s, whole + frac);
    digits[whole + frac] = '\0';
    double v = strtod(digits, NULL);
    s += whole + frac;
    for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
      size_t len = strlen(units[i].unit);
      if (strncmp(s, units[i].unit, len) == 0 && len > best_len) {
        best = i;
        best_len = len;
      }
    }
    if (best_len == 0)
      return -1;
    total += v * units[best].scale;
    s += best_len;
  }
  /* Go's limit: a duration is a 64-bit count of nanoseconds (292 years) */
  if (total > 9223372036.854775807)
    return -1;
  *seconds = total;
  return 0;
}

const struct actool_option actool_render_option_table[] = {
    {"rootfs", ACTOOL_OPT_BOOL, offsetof(struct actool_render_options, rootfs), NULL,
     "Write only the rootfs contents into DEST (no manifest)", NULL},
    {"overwrite", ACTOOL_OPT_BOOL, offsetof(struct actool_render_options, overwrite), NULL,
     "Replace DEST if it exists", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

int actool_render_command(const struct actool_globals *g, const char *command, actool_render_fn fn,
                          const struct actool_render_options *o, int argc, char **argv)
{
  struct appc_store_render_options ro = {.cb = actool_callbacks(g)};
  cleanup_error appc_error_t err = NULL;
  struct appc_store *s = NULL;
  struct appc_store_image img;
  int r;

  if (argc != 2)
    return actool_usage_error(command, "needs IMAGE and DEST");
  ro.flags = (o->rootfs ? APPC_STORE_ROOTFS_ONLY : 0) | (o->overwrite ? APPC_STORE_OVERWRITE : 0);
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  r = actool_lookup_image(s, argv[0], &img);
  if (r == 0) {
    actool_cancel_begin();
    int ret = fn(s, img.id, argv[1], &ro, &err);
    actool_cancel_end();
    if (ret < 0)
      r = actool_fail_output(&err, o->overwrite ? NULL : "--overwrite");
    appc_store_image_clear(&img);
  }
  appc_store_close(s);
  return r;
}
