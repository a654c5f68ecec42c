/* SPDX-License-Identifier: Apache-2.0 */
/* pathWhitelist matching.
 *
 * A whitelist is held as two string sets of rootfs-relative paths: the
 * listed paths themselves and every proper ancestor directory of them, so
 * that a check is one or two hash lookups whatever the list's length. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "store/internal.h"

/* Turn "/usr//bin/./sh/" into "usr/bin/sh"; "/" becomes "".  Fails on a
 * relative path or a ".." component, either of which would make the list
 * name something other than what its author can have meant. */
static int whitelist_canon(const char *raw, char **out, appc_error_t *err)
{
  size_t len = 0;
  cleanup_free char *canon = malloc(strlen(raw) + 1);

  if (canon == NULL)
    return appc_error_make(err, ENOMEM, "pathWhitelist");
  if (raw[0] != '/')
    return appc_error_make(err, 0, "pathWhitelist: \"%s\": not an absolute path", raw);
  for (const char *p = raw; *p != '\0';) {
    size_t n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return appc_error_make(err, 0, "pathWhitelist: \"%s\": \"..\" is not allowed", raw);
    if (n > 0 && !(n == 1 && p[0] == '.')) {
      if (len > 0)
        canon[len++] = '/';
      memcpy(canon + len, p, n);
      len += n;
    }
    p += n;
    if (*p == '/')
      p++;
  }
  canon[len] = '\0';
  *out = steal_pointer(&canon);
  return 0;
}

/* Record every proper ancestor of PATH ("a" and "a/b" for "a/b/c"). */
static int add_ancestors(struct appc_whitelist *wl, char *path, appc_error_t *err)
{
  for (char *slash = strchr(path, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    int added = appc_strset_add(&wl->ancestors, path);
    *slash = '/';
    if (added < 0)
      return appc_error_make(err, ENOMEM, "pathWhitelist");
  }
  return 0;
}

int appc_whitelist_init(struct appc_whitelist *wl, const struct appc_string_list *paths,
                        appc_error_t *err)
{
  memset(wl, 0, sizeof *wl);
  for (size_t i = 0; i < paths->len; i++) {
    cleanup_free char *canon = NULL;
    if (whitelist_canon(paths->items[i], &canon, err) < 0 || add_ancestors(wl, canon, err) < 0) {
      appc_whitelist_clear(wl);
      return -1;
    }
    if (appc_strset_add(&wl->paths, canon) < 0) {
      appc_whitelist_clear(wl);
      return appc_error_make(err, ENOMEM, "pathWhitelist");
    }
  }
  return 0;
}

bool appc_whitelist_allows(const struct appc_whitelist *wl, const char *path, bool is_dir)
{
  /* The spec: an empty list is equivalent to an absent one. */
  if (appc_strset_size(&wl->paths) == 0)
    return true;
  if (appc_strset_contains(&wl->paths, path))
    return true;
  return is_dir && appc_strset_contains(&wl->ancestors, path);
}

void appc_whitelist_clear(struct appc_whitelist *wl)
{
  appc_strset_clear(&wl->paths);
  appc_strset_clear(&wl->ancestors);
}
