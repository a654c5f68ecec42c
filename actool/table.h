/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to the CLI: the one table printer behind every listing (image
 * list, list, trust --list), on libsmartcols (util-linux): aligned columns
 * or raw ones, the header or not, and the columns --output chooses. */
#ifndef ACTOOL_TABLE_H
#define ACTOOL_TABLE_H

#include <stdbool.h>
#include <stddef.h>

enum {
  ACTOOL_COL_RIGHT = 1 << 0, /* numbers: right-aligned */
  ACTOOL_COL_WIDE = 1 << 1,  /* may be long (labels, lists): the last to shrink */
};

struct actool_column {
  const char *name; /* as --output takes it and the header shows it */
  unsigned flags;   /* ACTOOL_COL_* */
};

/* How a command's options shape its table. */
struct actool_table_options {
  const char *output; /* NULL, or COL[,COL]... (names case-insensitive) */
  bool no_legend;
  bool raw; /* columns separated by one space, values escaped, no alignment */
};

struct actool_table;

/* A table of COLS (N of them) for COMMAND, showing the columns O->output
 * names in that order (all, in COLS' order, without it).  0, or the exit
 * status of a usage error (an unknown column, named with the known ones). */
int actool_table_new(const char *command, const struct actool_column *cols, size_t n,
                     const struct actool_table_options *o, struct actool_table **out);
/* 0, or the exit status of a usage error when O shapes a table (--output,
 * --raw, --no-legend) and ALTERNATIVE, an option given instead of a table
 * ("--json", "-q"; NULL: none), prints something else: the usage lists
 * them as alternatives, and one would be dropped unsaid. */
int actool_table_alone(const char *command, const struct actool_table_options *o,
                       const char *alternative);
/* Add a row: CELLS holds a value for every column of COLS, in COLS' order
 * (NULL: empty). */
int actool_table_add(struct actool_table *t, const char *const *cells);
/* Print the table on stdout and free it: 0, or -1 when printing failed. */
int actool_table_print(struct actool_table *t);
void actool_table_free(struct actool_table *t);

/* The columns of COLS as a help text lists them: "ID, NAME, ...". */
void actool_table_column_names(const struct actool_column *cols, size_t n, char *buf, size_t size);

#endif
