/* SPDX-License-Identifier: Apache-2.0 */
/* The CLI's table printer (actool/table.h) on libsmartcols. */
#include "config.h"

#include <errno.h>
#include <libsmartcols/libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actool/actool.h"
#include "actool/table.h"

#define MAX_COLUMNS 32
#define COLUMN_GAP "  "

struct actool_table {
  struct libscols_table *tb;
  bool legend, raw;
  size_t lines;
  /* The command column each table column shows: one may be shown twice
   * (--output=ID,ID), as ps -o pid,pid does. */
  size_t count;
  int order[MAX_COLUMNS];
};

void actool_table_column_names(const struct actool_column *cols, size_t n, char *buf, size_t size)
{
  size_t used = 0;

  buf[0] = '\0';
  for (size_t i = 0; i < n && used < size; i++)
    used += (size_t) snprintf(buf + used, size - used, "%s%s", i ? ", " : "", cols[i].name);
}

static int find_column(const struct actool_column *cols, size_t n, const char *name, size_t len)
{
  for (size_t i = 0; i < n; i++)
    if (strlen(cols[i].name) == len && strncasecmp(cols[i].name, name, len) == 0)
      return (int) i;
  return -1;
}

int actool_table_alone(const char *command, const struct actool_table_options *o,
                       const char *alternative)
{
  const char *shaping = o->output != NULL ? "--output"
                        : o->raw          ? "--raw"
                        : o->no_legend    ? "--no-legend"
                                          : NULL;

  if (alternative == NULL || shaping == NULL)
    return 0;
  return actool_usage_error(command, "%s shapes a table: not with %s", shaping, alternative);
}

/* The order of the columns to show: ORDER[k] is a command column. */
static int choose_columns(const char *command, const struct actool_column *cols, size_t n,
                          const char *output, int order[MAX_COLUMNS], size_t *count)
{
  *count = 0;
  if (output == NULL) {
    for (size_t i = 0; i < n; i++)
      order[(*count)++] = (int) i;
    return 0;
  }
  for (const char *p = output;;) {
    size_t len = strcspn(p, ",");
    int c = find_column(cols, n, p, len);
    if (c >= 0 && *count == MAX_COLUMNS)
      return actool_usage_error(command, "--output: more than %d columns", MAX_COLUMNS);
    if (c < 0) {
      char known[512];
      actool_table_column_names(cols, n, known, sizeof known);
      return actool_usage_error(command, "--output: no column \"%.*s\" (the columns: %s)",
                                (int) len, p, known);
    }
    order[(*count)++] = c;
    if (p[len] == '\0')
      break;
    p += len + 1;
  }
  return 0;
}

int actool_table_new(const char *command, const struct actool_column *cols, size_t n,
                     const struct actool_table_options *o, struct actool_table **out)
{
  struct actool_table *t;
  int r;

  *out = NULL;
  if (n > MAX_COLUMNS)
    return ACTOOL_EXIT_FAILURE;
  if ((t = calloc(1, sizeof *t)) == NULL) {
    actool_error("%s: out of memory", command);
    return ACTOOL_EXIT_FAILURE;
  }
  if ((r = choose_columns(command, cols, n, o->output, t->order, &t->count)) != 0) {
    free(t);
    return r;
  }
  if ((t->tb = scols_new_table()) == NULL) {
    free(t);
    actool_error("%s: out of memory", command);
    return ACTOOL_EXIT_FAILURE;
  }
  scols_table_enable_raw(t->tb, o->raw);
  /* Two spaces between aligned columns, as docker's and our earlier tables. */
  if (!o->raw && scols_table_set_column_separator(t->tb, COLUMN_GAP) < 0) {
    actool_table_free(t);
    actool_error("%s: out of memory", command);
    return ACTOOL_EXIT_FAILURE;
  }
  t->raw = o->raw;
  scols_table_enable_noheadings(t->tb, o->no_legend);
  t->legend = !o->no_legend;
  for (size_t k = 0; k < t->count; k++) {
    const struct actool_column *c = &cols[t->order[k]];
    int flags = (c->flags & ACTOOL_COL_RIGHT ? SCOLS_FL_RIGHT : 0) |
                (c->flags & ACTOOL_COL_WIDE ? SCOLS_FL_NOEXTREMES : 0);
    /* Nothing is truncated or wrapped: a row is one line, whole. */
    if (scols_table_new_column(t->tb, c->name, 0, flags) == NULL) {
      actool_table_free(t);
      actool_error("%s: out of memory", command);
      return ACTOOL_EXIT_FAILURE;
    }
  }
  *out = t;
  return 0;
}

int actool_table_add(struct actool_table *t, const char *const *cells)
{
  struct libscols_line *ln = scols_table_new_line(t->tb, NULL);

  if (ln == NULL)
    return -1;
  t->lines++;
  for (size_t k = 0; k < t->count; k++) {
    const char *cell = cells[t->order[k]];
    if (scols_line_set_data(ln, k, cell != NULL ? cell : "") < 0)
      return -1;
  }
  return 0;
}

/* libsmartcols prints nothing of a table without lines; an empty listing
 * still shows its header, as `docker ps` does. */
static int print_header_only(struct actool_table *t)
{
  size_t n = scols_table_get_ncols(t->tb);

  for (size_t i = 0; i < n; i++) {
    struct libscols_column *c = scols_table_get_column(t->tb, i);
    struct libscols_cell *h = c != NULL ? scols_column_get_header(c) : NULL;
    const char *name = h != NULL ? scols_cell_get_data(h) : NULL;
    printf("%s%s", i > 0 ? (t->raw ? " " : COLUMN_GAP) : "", name != NULL ? name : "");
  }
  putchar('\n');
  return ferror(stdout) ? -1 : 0;
}

int actool_table_print(struct actool_table *t)
{
  int r = t->lines == 0 ? (t->legend ? print_header_only(t) : 0)
                        : (scols_print_table(t->tb) < 0 ? -1 : 0);
  actool_table_free(t);
  return r;
}

void actool_table_free(struct actool_table *t)
{
  if (t == NULL)
    return;
  scols_unref_table(t->tb);
  free(t);
}
