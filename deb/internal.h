/* SPDX-License-Identifier: Apache-2.0 */
/* deb/: what the module's files share and nothing else uses. */
#ifndef APPC_DEBIAN_INTERNAL_H
#define APPC_DEBIAN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/hashmap.h"
#include "appc/debian.h"
#include "appc/error.h"

/* ---- control files (deb822: Packages, Release, control, status) ---- */

/* One field; NAME and VALUE point into the parsed text, which the parser
 * cut up in place.  A value keeps its continuation lines ("\n ..."). */
struct deb_field {
  const char *name;
  const char *value;
};
struct deb_stanza {
  struct deb_field *f;
  size_t n;
  size_t line; /* where it starts, for messages */
};
struct deb_stanzas {
  struct deb_stanza *v;
  size_t n, cap;
};
void deb_stanzas_clear(struct deb_stanzas *s);

/* Parse TEXT (NUL-terminated, changed in place and referred to by OUT: keep
 * it as long as OUT) into stanzas.  Errors name WHAT and the line. */
int deb_parse_control(char *text, const char *what, struct deb_stanzas *out, appc_error_t *err);

/* The value of the field NAME (any case), or NULL. */
const char *deb_field(const struct deb_stanza *s, const char *name);

/* dpkg's order of versions: <0, 0, >0 as A sorts before, with, after B. */
int deb_version_compare(const char *a, const char *b);
/* Whether VERSION is well formed ([EPOCH:]UPSTREAM[-REVISION]). */
bool deb_version_valid(const char *version);

/* ---- relations (Depends, Pre-Depends, Provides) ---- */

enum deb_op { DEB_ANY, DEB_LT, DEB_LE, DEB_EQ, DEB_GE, DEB_GT };
struct deb_alt {
  char *name; /* the architecture qualifier (":any") dropped */
  enum deb_op op;
  char *version; /* NULL with DEB_ANY */
};
struct deb_group {
  struct deb_alt *alts; /* "a | b": either */
  size_t n;
};
struct deb_relations {
  struct deb_group *v;
  size_t n, cap;
};
void deb_relations_clear(struct deb_relations *r);
/* Parse a relation field's VALUE ("a (>= 1) | b:any, c [amd64] <!nocheck>");
 * architecture lists and build profiles are read and ignored.  Errors name
 * WHAT. */
int deb_parse_relations(const char *value, const char *what, struct deb_relations *out,
                        appc_error_t *err);
/* Whether VERSION satisfies OP CONSTRAINT. */
bool deb_version_satisfies(const char *version, enum deb_op op, const char *constraint);
/* "name (op version)" of ALT, for messages; malloc'ed or NULL. */
char *deb_alt_string(const struct deb_alt *alt);

/* ---- the index and the resolver ---- */

/* A package or architecture name: a letter or digit, then letters, digits,
 * '+', '-', '.' (Policy 5.6.1; never a '/' to lead out of info/). */
bool deb_name_valid(const char *name);

/* A package of an index (a Packages file, or the rootfs's dpkg status). */
struct deb_package {
  const struct deb_stanza *st;
  const char *name, *version, *arch;
  bool installed; /* from the rootfs's status: satisfies, never downloaded */
  struct deb_relations provides;
};
struct deb_index {
  struct deb_package *v;
  size_t n, cap;
  struct appc_hashmap names; /* name -> its versions (sorted) and providers */
  size_t n_names;
};
void deb_index_init(struct deb_index *ix);
void deb_index_clear(struct deb_index *ix);
/* Add the packages of STANZAS for ARCH (and "all"); INSTALLED for a dpkg
 * status, whose entries count when their package is in the rootfs
 * (installed, or unpacked and not configured; on hold or not), and which
 * must hold no package half-installed or to reinstall.  The stanzas must
 * outlive IX.  Each name's versions are sorted again when it has new ones,
 * for deb_resolve to search.  Errors name WHAT. */
int deb_index_add(struct deb_index *ix, const struct deb_stanzas *stanzas, const char *arch,
                  bool installed, const char *what, appc_error_t *err);
/* The packages to install for NAMES: each, and what it depends on
 * (Pre-Depends, Depends; alternatives in order, virtual packages through
 * Provides), less what is installed; indices into IX->v in the order they
 * were chosen.  Always terminates (each package is chosen once); CB
 * (may be NULL) cancels it. */
int deb_resolve(const struct deb_index *ix, char *const *names, size_t n,
                const struct appc_callbacks *cb, size_t **out, size_t *n_out, appc_error_t *err);

/* ---- .deb files ---- */

/* What a check of a .deb gives: its control stanza text and md5sums. */
/* The maintainer scripts and files dpkg keeps in info/ (deb(5)). */
#define DEB_N_SCRIPTS 8
extern const char *const deb_script_names[DEB_N_SCRIPTS];
struct deb_control {
  char *control;                /* the control file */
  char *md5sums;                /* NULL when the package has none */
  char *scripts[DEB_N_SCRIPTS]; /* by deb_script_names; NULL when absent */
};
void deb_control_clear(struct deb_control *c);
/* What deb_check may read and take: a hostile package's control files and
 * data would otherwise cost what they claim, in memory and on disk. */
struct deb_check_opts {
  const struct appc_callbacks *cb; /* cancels the check; may be NULL */
  bool scripts;                    /* read the scripts and info files, else only the rest */
  size_t *control_left; /* bytes the control files of all packages may still take; NULL: any */
  /* bytes data.tar's files may hold in all, and KiB its entries may
   * count at 1 KiB each (deb_data_max of the index's Installed-Size); 0:
   * deb_data_max of the package's control file's */
  uint64_t data_max;
};
/* The most a package's files may hold when it says it installs
 * INSTALLED_SIZE KiB (its Installed-Size): twice that and 16 MiB more, as
 * a package's files hold about what it says; that of 0 (16 MiB) when it is
 * NULL or no number. */
uint64_t deb_data_max(const char *installed_size);
/* Check the .deb at PATH (named WHAT): an ar archive of debian-binary 2.x,
 * control.tar.* and data.tar.*, every data.tar entry a file, directory,
 * symlink or hard link with a relative path without "..", its files'
 * bytes and its entries (1 KiB each) within the data bound.  Reads its
 * control files into OUT. */
int deb_check(const char *path, const char *what, const struct deb_check_opts *o,
              struct deb_control *out, appc_error_t *err);
/* The unpacking of the packages of one install into a rootfs, staged
 * (deb/deb.c): their files go in as PATH.dpkg-new, and take their names
 * only at deb_stage_commit, when every package is in. */
struct deb_staged {
  char *path;          /* the final path, relative to the root */
  bool over_empty_dir; /* an empty directory of the rootfs goes at the commit */
};
struct deb_stage {
  int root_fd;
  struct deb_staged *files; /* in the order they were unpacked */
  size_t n_files, files_cap;
  struct appc_strset staged; /* their paths */
  char **dirs;               /* the directories made, parents first */
  struct appc_strset made;   /* their paths */
  size_t n_dirs, dirs_cap;
  char **aside; /* what the rootfs had where a directory was made (PATH.dpkg-tmp) */
  size_t n_aside, aside_cap;
  char **links; /* the merged /usr's symlinks made (deb_stage_merge_usr) */
  size_t n_links, links_cap;
  bool committed;
};
/* An empty stage into the tree ROOT_FD (the caller's, not closed here). */
void deb_stage_init(struct deb_stage *s, int root_fd);
/* Unpack the data.tar of the .deb at PATH into S (paths resolved in its
 * root, as if it were '/'); the paths written into *LIST
 * ("/.\n/usr\n...").  On failure the stage holds what was made so far,
 * for deb_stage_clear to remove. */
int deb_unpack(struct deb_stage *s, const char *path, const char *what, char **list,
               appc_error_t *err);
/* Lay out S's root with a merged /usr before anything is unpacked, as
 * debootstrap does: each of NAMES ("bin", "sbin", "lib", ...) a symlink to
 * usr/NAME, a directory made.  None of NAMES may exist in the root.  Undone
 * with the stage, unless committed. */
int deb_stage_merge_usr(struct deb_stage *s, const char *const *names, size_t n, appc_error_t *err);
/* Rename every staged file over its final name.  A rename that fails
 * leaves the ones before it in place and the rest not (said in the error). */
int deb_stage_commit(struct deb_stage *s, appc_error_t *err);
/* Free S; uncommitted, first remove what it staged and made and put back
 * what it set aside: the rootfs is as it was before the stage. */
void deb_stage_clear(struct deb_stage *s);

#endif
