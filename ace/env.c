/* SPDX-License-Identifier: Apache-2.0 */
/* The app's environment: environment files (--env-file), the array handed
 * to execve, and the PATH search for the app's exec[0]. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array.h"
#include "ace/internal.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "schema/json.h"
#include "appc/types.h"

/* The PATH ace.md says the executor sets. */
#define SPEC_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* An environment larger than this could not be passed to execve anyway. */
#define ENV_FILE_MAX (4u << 20)

/* ---- lists of name/value pairs ---- */

/* Append NAME=VALUE (taken over) to L. */
static int kv_push(struct appc_kv_list *l, char *name, char *value)
{
  if (APPC_ARRAY_EXTEND(l->items, l->len, 1) < 0)
    return -1;
  l->items[l->len++] = (struct appc_kv){.name = name, .value = value};
  return 0;
}

struct slot {
  const char *name;
  size_t first, last; /* positions in the list */
};

static int slot_by_name(const void *a, const void *b)
{
  const struct slot *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c != 0)
    return c;
  return x->first < y->first ? -1 : x->first > y->first;
}

static int slot_by_first(const void *a, const void *b)
{
  const struct slot *x = a, *y = b;
  return x->first < y->first ? -1 : x->first > y->first;
}

/* For each distinct name of ITEMS (none NULL), in the order names first
 * appear: the position of its last entry, the one that wins.  Sorting keeps
 * this O(n log n) on environment files of any size. */
static struct slot *kv_winners(const struct appc_kv *items, size_t n, size_t *n_out)
{
  struct slot *s = calloc(n + 1, sizeof *s);
  size_t k = 0;

  if (s == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    s[i] = (struct slot){.name = items[i].name, .first = i, .last = i};
  qsort(s, n, sizeof *s, slot_by_name);
  for (size_t i = 0; i < n; i++) {
    if (k > 0 && strcmp(s[k - 1].name, s[i].name) == 0)
      s[k - 1].last = s[i].first;
    else
      s[k++] = s[i];
  }
  qsort(s, k, sizeof *s, slot_by_first);
  *n_out = k;
  return s;
}

/* Keep in L only the last entry of each name, where the name first was. */
static int kv_dedupe(struct appc_kv_list *l)
{
  size_t n = 0;
  cleanup_free struct slot *win = kv_winners(l->items, l->len, &n);
  cleanup_free bool *keep = calloc(l->len + 1, sizeof *keep);
  cleanup_free struct appc_kv *items = calloc(n + 1, sizeof *items);

  if (win == NULL || keep == NULL || items == NULL)
    return -1;
  for (size_t k = 0; k < n; k++) {
    items[k] = l->items[win[k].last];
    keep[win[k].last] = true;
  }
  for (size_t i = 0; i < l->len; i++) {
    if (!keep[i]) {
      free(l->items[i].name);
      free(l->items[i].value);
    }
  }
  free(l->items);
  l->items = steal_pointer(&items);
  l->len = n;
  return 0;
}

/* Move the entries of FROM to the end of TO. */
static int kv_move_all(struct appc_kv_list *to, struct appc_kv_list *from)
{
  if (from->len == 0)
    return 0;
  if (APPC_ARRAY_EXTEND(to->items, to->len, from->len) < 0)
    return -1;
  memcpy(to->items + to->len, from->items, from->len * sizeof *to->items);
  to->len += from->len;
  free(from->items);
  *from = (struct appc_kv_list){0};
  return 0;
}

/* ---- environment files ---- */

/* The states of systemd's parser (parse_env_file_internal), whose syntax
 * this follows, quirks included: a quoted part ends in PRE_VALUE, so
 * `"a" 'b'` is "ab"; and a backslash at the end of a comment continues it. */
enum env_state {
  PRE_KEY,
  KEY,
  PRE_VALUE,
  VALUE,
  VALUE_ESCAPE,
  SINGLE_QUOTE,
  DOUBLE_QUOTE,
  DOUBLE_QUOTE_ESCAPE,
  COMMENT,
  COMMENT_ESCAPE,
};

struct env_parser {
  const char *path;
  enum env_state state;
  unsigned line;     /* of the character being read */
  unsigned key_line; /* where the entry being read started */
  char *key, *value; /* each as large as the file */
  size_t n_key, n_value;
  size_t key_end;   /* n_key without trailing blanks */
  size_t value_end; /* n_value without trailing blanks */
  struct appc_kv_list entries;
  const struct ace_notes *notes; /* where skipped lines are reported */
};

static bool is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_newline(char c)
{
  return c == '\n' || c == '\r';
}

/* An entry systemd ignores (a bad name such as "export X", or no '='):
 * skipped with a warning as systemd does, rather than failing the run. */
static int env_skip(struct env_parser *ps, appc_error_t *why)
{
  ace_note(ps->notes, ACE_NOTE_WARN, "%s: line ignored", (*why)->msg);
  appc_error_release(why);
  ps->state = PRE_KEY;
  return 0;
}

/* The entry just read is complete: check the name and keep it. */
static int env_push(struct env_parser *ps, appc_error_t *err)
{
  cleanup_free char *name = strndup(ps->key, ps->key_end);
  cleanup_free char *value = strndup(ps->value, ps->value_end);
  appc_error_t why = NULL;

  if (name == NULL || value == NULL)
    return appc_error_make(err, ENOMEM, "%s", ps->path);
  if (appc_validate_env_name(name, &why) < 0) {
    appc_error_prefix(&why, "%s:%u", ps->path, ps->key_line);
    return env_skip(ps, &why);
  }
  if (kv_push(&ps->entries, name, value) < 0)
    return appc_error_make(err, ENOMEM, "%s", ps->path);
  name = value = NULL;
  ps->state = PRE_KEY;
  return 0;
}

static int env_no_equals(struct env_parser *ps)
{
  appc_error_t why = NULL;

  appc_error_make(&why, 0, "%s:%u: \"%.*s\" is not of the form KEY=VALUE", ps->path, ps->key_line,
                  (int) ps->key_end, ps->key);
  return env_skip(ps, &why);
}

static void value_add(struct env_parser *ps, char c, bool verbatim)
{
  ps->value[ps->n_value++] = c;
  /* Blanks at the end of an unquoted value are dropped, unless escaped. */
  if (verbatim || !is_blank(c))
    ps->value_end = ps->n_value;
}

static int env_pre_key(struct env_parser *ps, char c)
{
  if (c == '#' || c == ';') {
    ps->state = COMMENT;
  } else if (c == '=') {
    /* "=VALUE": an empty name, which env_push reports as such. */
    ps->key_line = ps->line;
    ps->n_key = ps->key_end = 0;
    ps->state = PRE_VALUE;
    ps->n_value = ps->value_end = 0;
  } else if (!is_blank(c)) {
    ps->state = KEY;
    ps->key_line = ps->line;
    ps->key[0] = c;
    ps->n_key = ps->key_end = 1;
  }
  return 0;
}

static int env_key(struct env_parser *ps, char c, appc_error_t *err)
{
  (void) err;
  if (is_newline(c))
    return env_no_equals(ps);
  if (c == '=') {
    ps->state = PRE_VALUE;
    ps->n_value = ps->value_end = 0;
    return 0;
  }
  ps->key[ps->n_key++] = c;
  if (!is_blank(c))
    ps->key_end = ps->n_key;
  return 0;
}

static int env_value(struct env_parser *ps, char c, appc_error_t *err)
{
  if (is_newline(c))
    return env_push(ps, err);
  if (ps->state == PRE_VALUE && c == '\'')
    ps->state = SINGLE_QUOTE;
  else if (ps->state == PRE_VALUE && c == '"')
    ps->state = DOUBLE_QUOTE;
  else if (c == '\\')
    ps->state = VALUE_ESCAPE;
  else if (ps->state == VALUE || !is_blank(c)) {
    ps->state = VALUE;
    value_add(ps, c, false);
  }
  return 0;
}

static void env_double_quote_escape(struct env_parser *ps, char c)
{
  ps->state = DOUBLE_QUOTE;
  if (c == '\n')
    return; /* a continued line */
  /* As in the shell: the backslash stays unless it escapes one of these. */
  if (strchr("\"\\`$", c) == NULL)
    value_add(ps, '\\', true);
  value_add(ps, c, true);
}

static int env_step(struct env_parser *ps, char c, appc_error_t *err)
{
  switch (ps->state) {
  case PRE_KEY:
    return env_pre_key(ps, c);
  case KEY:
    return env_key(ps, c, err);
  case PRE_VALUE:
  case VALUE:
    return env_value(ps, c, err);
  case VALUE_ESCAPE:
    ps->state = VALUE;
    if (!is_newline(c))
      value_add(ps, c, true);
    return 0;
  case SINGLE_QUOTE:
    if (c == '\'')
      ps->state = PRE_VALUE;
    else
      value_add(ps, c, true);
    return 0;
  case DOUBLE_QUOTE:
    if (c == '"')
      ps->state = PRE_VALUE;
    else if (c == '\\')
      ps->state = DOUBLE_QUOTE_ESCAPE;
    else
      value_add(ps, c, true);
    return 0;
  case DOUBLE_QUOTE_ESCAPE:
    env_double_quote_escape(ps, c);
    return 0;
  case COMMENT:
    if (c == '\\')
      ps->state = COMMENT_ESCAPE;
    else if (is_newline(c))
      ps->state = PRE_KEY;
    return 0;
  case COMMENT_ESCAPE:
    ps->state = COMMENT;
    return 0;
  }
  return 0;
}

/* The end of the file ends the last entry, but not an open quote. */
static int env_finish(struct env_parser *ps, appc_error_t *err)
{
  switch (ps->state) {
  case KEY:
    return env_no_equals(ps);
  case PRE_VALUE:
  case VALUE:
  case VALUE_ESCAPE:
    return env_push(ps, err);
  case SINGLE_QUOTE:
  case DOUBLE_QUOTE:
  case DOUBLE_QUOTE_ESCAPE:
    return appc_error_make(err, 0, "%s:%u: the value of %.*s has no closing quote", ps->path,
                           ps->key_line, (int) ps->key_end, ps->key);
  default:
    return 0;
  }
}

static int env_parse_text(struct env_parser *ps, const char *text, size_t len, appc_error_t *err)
{
  ps->key = malloc(len + 1);
  ps->value = malloc(len + 1);
  if (ps->key == NULL || ps->value == NULL)
    return appc_error_make(err, ENOMEM, "%s", ps->path);
  for (size_t i = 0; i < len; i++) {
    if (text[i] == '\0')
      return appc_error_make(err, 0, "%s:%u: contains a NUL byte", ps->path, ps->line);
    if (env_step(ps, text[i], err) < 0)
      return -1;
    if (text[i] == '\n')
      ps->line++;
  }
  return env_finish(ps, err);
}

int ace_env_file_parse(const char *path, struct appc_kv_list *out, const struct ace_notes *notes,
                       appc_error_t *err)
{
  cleanup_free char *text = NULL;
  struct env_parser ps = {.path = path, .state = PRE_KEY, .line = 1, .notes = notes};
  size_t len = 0;
  int r;

  if (appc_read_file_at(AT_FDCWD, path, ENV_FILE_MAX, 0, &text, &len, err) < 0)
    return -1;
  r = env_parse_text(&ps, text, len, err);
  free(ps.key);
  free(ps.value);
  /* OUT changes only when the whole file is good. */
  if (r == 0 && (kv_move_all(out, &ps.entries) < 0 || kv_dedupe(out) < 0))
    r = appc_error_make(err, ENOMEM, "%s", path);
  appc_kv_list_clear(&ps.entries);
  return r;
}

/* ---- the array for execve ---- */

/* Append the pairs of L, checking their names, to ALL (borrowed pointers). */
static int env_gather(struct appc_kv *all, size_t *n, const struct appc_kv_list *l,
                      const char *what, appc_error_t *err)
{
  for (size_t i = 0; l != NULL && i < l->len; i++) {
    const char *name = l->items[i].name != NULL ? l->items[i].name : "";
    if (appc_validate_env_name(name, err) < 0)
      return appc_error_prefix(err, "%s[%zu].name", what, i);
    all[(*n)++] = (struct appc_kv){.name = (char *) name, .value = l->items[i].value};
  }
  return 0;
}

static char **env_render(const struct appc_kv *all, size_t n)
{
  size_t n_win = 0;
  cleanup_free struct slot *win = kv_winners(all, n, &n_win);
  char **env = win != NULL ? calloc(n_win + 1, sizeof *env) : NULL;

  if (env == NULL)
    return NULL;
  for (size_t k = 0; k < n_win; k++) {
    const struct appc_kv *kv = &all[win[k].last];
    if (asprintf(&env[k], "%s=%s", kv->name, kv->value != NULL ? kv->value : "") < 0) {
      env[k] = NULL;
      ace_env_free(env);
      return NULL;
    }
  }
  return env;
}

int ace_env_build(const struct appc_app *app, const char *app_name, const char *metadata_url,
                  const char *home, const struct appc_kv_list *extra, char ***out,
                  appc_error_t *err)
{
  size_t n_app = app != NULL ? app->environment.len : 0;
  size_t n_extra = extra != NULL ? extra->len : 0;
  cleanup_free struct appc_kv *all = calloc(5 + n_app + n_extra, sizeof *all);
  size_t n = 0;

  *out = NULL;
  if (all == NULL)
    return appc_error_make(err, ENOMEM, "environment");
  all[n++] = (struct appc_kv){.name = "PATH", .value = SPEC_PATH};
  all[n++] = (struct appc_kv){.name = "container", .value = "actool"};
  /* Not the spec's, but every runtime's (runc, docker, rkt): programs look
   * for their files under it, and some (debconf, git, pip) fail without. */
  if (home != NULL)
    all[n++] = (struct appc_kv){.name = "HOME", .value = (char *) home};
  if (env_gather(all, &n, app != NULL ? &app->environment : NULL, "app.environment", err) < 0 ||
      env_gather(all, &n, extra, "environment", err) < 0)
    return -1;
  /* The ACE's own, last: the spec has the executor set them for every app,
   * and an image's value would point the app at another metadata service
   * (rkt sets them after the app's environment too). */
  if (app_name != NULL)
    all[n++] = (struct appc_kv){.name = "AC_APP_NAME", .value = (char *) app_name};
  if (metadata_url != NULL)
    all[n++] = (struct appc_kv){.name = "AC_METADATA_URL", .value = (char *) metadata_url};
  *out = env_render(all, n);
  if (*out == NULL)
    return appc_error_make(err, ENOMEM, "environment");
  return 0;
}

void ace_env_free(char **env)
{
  if (env == NULL)
    return;
  for (char **e = env; *e != NULL; e++)
    free(*e);
  free(env);
}

const char *ace_env_get(char *const *env, const char *name)
{
  size_t len = strlen(name);

  for (char *const *e = env; e != NULL && *e != NULL; e++) {
    if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
      return *e + len + 1;
  }
  return NULL;
}

/* ---- PATH search ---- */

/* FILE in the directory DIR (LEN bytes of PATH); an empty entry means the
 * current directory, as for execvp.  NULL when out of memory or too long. */
static char *path_candidate(const char *dir, size_t len, const char *file)
{
  char *cand = NULL;

  if (len == 0) {
    dir = ".";
    len = 1;
  }
  if (asprintf(&cand, "%.*s/%s", (int) len, dir, file) < 0)
    return NULL;
  return cand;
}

/* 0 for an executable regular file; EACCES for something that is there but
 * cannot be run; ENOENT otherwise. */
static int check_executable(const char *cand)
{
  struct stat st;

  if (stat(cand, &st) < 0)
    return errno == EACCES ? EACCES : ENOENT;
  if (!S_ISREG(st.st_mode) || faccessat(AT_FDCWD, cand, X_OK, AT_EACCESS) < 0)
    return EACCES;
  return 0;
}

int ace_exec_lookup(const char *file, char *const *env, char **out, appc_error_t *err)
{
  const char *path = ace_env_get(env, "PATH");
  int found = ENOENT;

  *out = NULL;
  if (file == NULL || file[0] == '\0')
    return appc_error_make(err, ENOENT, "the empty command");
  if (strchr(file, '/') != NULL) {
    *out = strdup(file);
    return *out != NULL ? 0 : appc_error_make(err, ENOMEM, "%s", file);
  }
  if (path == NULL)
    path = SPEC_PATH;
  for (const char *p = path;; p++) {
    size_t len = strcspn(p, ":");
    cleanup_free char *cand = path_candidate(p, len, file);
    if (cand == NULL)
      return appc_error_make(err, ENOMEM, "%s", file);
    int r = check_executable(cand);
    if (r == 0) {
      *out = steal_pointer(&cand);
      return 0;
    }
    if (r == EACCES)
      found = EACCES;
    p += len;
    if (*p == '\0')
      break;
  }
  if (found == EACCES)
    return appc_error_make(err, EACCES, "%s: found in PATH=%s but not executable", file, path);
  return appc_error_make(err, ENOENT, "%s: not found in PATH=%s", file, path);
}
