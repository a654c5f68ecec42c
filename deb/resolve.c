/* SPDX-License-Identifier: Apache-2.0 */
/* An index of packages (a mirror's Packages file and the rootfs's dpkg
 * status) and the choice of what to install: the packages asked for and,
 * breadth first, what their Pre-Depends and Depends need.  Of a group of
 * alternatives "a | b", one already chosen or installed satisfies it, else
 * the first that the index can satisfy is chosen: a real package (its
 * highest version that meets the constraint), else a package providing the
 * name (for a versioned constraint, the one providing the highest version
 * that meets it: an unversioned Provides meets no versioned constraint, as
 * in Policy 7.5; for an unversioned one, the first in the index).  Each
 * package is chosen at most once, so cycles end.
 *
 * A hostile index has tens of thousands of versions and providers of one
 * name, and groups of tens of thousands of alternatives naming it: the
 * versions of each name (its packages' own and those provided) are sorted
 * once, so that an alternative is answered by a binary search, never by a
 * look at each version, and a provider found unusable is not looked at
 * again. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/hashmap.h"
#include "deb/internal.h"

/* A version under a name: a package's own, or the one a package provides
 * the name at ("Provides: NAME (= VERSION)"). */
struct version_of {
  const char *version;
  size_t pkg;
  bool provided;
};

/* The versions of a name that are equal in dpkg's order ("1.0", "1.00",
 * "0:1.0") are one class; the classes are in ascending order. */
struct version_class {
  size_t start;    /* its first version in the name's sorted versions */
  long real;       /* the first package of the index (not the rootfs's) at it, or -1 */
  long real_below; /* the highest class up to this one that has one, or -1 */
};

struct name_entry {
  const char *name;
  size_t id;     /* 0, 1, ... in the order the names came: the resolver's state */
  size_t n_real; /* packages of the name, the rootfs's too */
  size_t *prov;  /* the packages providing it, in the index's order */
  size_t n_prov, cap_prov;
  struct version_of *vers; /* by version, then in the index's order, once sorted */
  size_t n_vers, cap_vers;
  struct version_class *cls;
  size_t n_cls;
  bool sorted;
};

static uint64_t name_hash(const char *s)
{
  return appc_hash_bytes(s, strlen(s));
}

static bool name_eq(const void *entry, const void *key)
{
  return strcmp(((const struct name_entry *) entry)->name, key) == 0;
}

static const struct name_entry *lookup(const struct deb_index *ix, const char *name)
{
  if (ix->names.entry_size == 0)
    return NULL;
  return appc_hashmap_find(&ix->names, name_hash(name), name_eq, name);
}

static struct name_entry *entry_for(struct deb_index *ix, const char *name)
{
  bool added;
  struct name_entry *e = appc_hashmap_insert(&ix->names, name_hash(name), name_eq, name, &added);

  if (e != NULL && added)
    *e = (struct name_entry){.name = name, .id = ix->n_names++};
  return e;
}

void deb_index_init(struct deb_index *ix)
{
  memset(ix, 0, sizeof *ix);
  appc_hashmap_init(&ix->names, sizeof(struct name_entry), 1024);
}

static void entry_free(void *p)
{
  struct name_entry *e = p;

  free(e->prov);
  free(e->vers);
  free(e->cls);
}

void deb_index_clear(struct deb_index *ix)
{
  for (size_t i = 0; i < ix->n; i++)
    deb_relations_clear(&ix->v[i].provides);
  free(ix->v);
  appc_hashmap_clear(&ix->names, entry_free);
  memset(ix, 0, sizeof *ix);
}

/* Whether WORD is one of WORDS (NULL-terminated). */
static bool word_in(const char *word, const char *const *words)
{
  for (; *words != NULL; words++)
    if (strcmp(word, *words) == 0)
      return true;
  return false;
}

/* Whether the package of a status entry is in the rootfs, by its Status
 * "WANT FLAG STATE" (dpkg-query(1)): 1 yes, 0 no, -1 an error.  Its
 * selection (WANT: install, hold, deinstall, purge) does not matter: dpkg
 * and apt count a held package's version as installed, and apt never
 * replaces it.  A package unpacked and not yet configured (unpacked,
 * half-configured, triggers pending) is in the rootfs too: installed here,
 * never replaced (what --configure's dpkg --configure --pending configures,
 * as apt would).  One whose files are gone (not-installed, config-files)
 * is not.  One half-installed, or flagged for reinstallation (reinstreq),
 * is refused: what of it the rootfs holds is unknown, and installing over
 * it would be a guess. */
static int status_installed(const struct deb_stanza *st, const char *what, appc_error_t *err)
{
  static const char *const wants[] = {"unknown", "install", "hold", "deinstall", "purge", NULL};
  static const char *const flags[] = {"ok", "reinstreq", NULL};
  static const char *const present[] = {"installed",        "unpacked",         "half-configured",
                                        "triggers-awaited", "triggers-pending", NULL};
  static const char *const absent[] = {"not-installed", "config-files", NULL};
  const char *status = deb_field(st, "Status");
  const char *name = deb_field(st, "Package");
  char want[20], flag[20], state[20], more;

  if (status == NULL)
    return 0;
  if (sscanf(status, "%19s %19s %19s %c", want, flag, state, &more) != 3 || !word_in(want, wants) ||
      !word_in(flag, flags) ||
      (!word_in(state, present) && !word_in(state, absent) && strcmp(state, "half-installed") != 0))
    return appc_error_make(err, 0,
                           "%s: package %s (line %zu): \"%s\" is not a dpkg status (WANT FLAG "
                           "STATE)",
                           what, name != NULL ? name : "?", st->line, status);
  if (strcmp(flag, "reinstreq") == 0 || strcmp(state, "half-installed") == 0)
    return appc_error_make(err, 0,
                           "%s: package %s: status \"%s\": it must be reinstalled first, with "
                           "dpkg (what of it the rootfs holds is unknown)",
                           what, name != NULL ? name : "?", status);
  return word_in(state, present);
}

static int add_version(struct name_entry *e, const char *version, size_t pkg, bool provided)
{
  if (APPC_ARRAY_RESERVE(e->vers, e->cap_vers, e->n_vers + 1) < 0)
    return -1;
  e->vers[e->n_vers++] = (struct version_of){version, pkg, provided};
  e->sorted = false;
  return 0;
}

static int index_names(struct deb_index *ix, size_t i, appc_error_t *err)
{
  struct deb_package *p = &ix->v[i];
  struct name_entry *e = entry_for(ix, p->name);

  if (e == NULL || add_version(e, p->version, i, false) < 0)
    return appc_error_make(err, ENOMEM, "%s", p->name);
  e->n_real++;
  for (size_t g = 0; g < p->provides.n; g++) {
    const struct deb_alt *a = &p->provides.v[g].alts[0];
    if ((e = entry_for(ix, a->name)) == NULL ||
        APPC_ARRAY_RESERVE(e->prov, e->cap_prov, e->n_prov + 1) < 0 ||
        (a->op == DEB_EQ && add_version(e, a->version, i, true) < 0))
      return appc_error_make(err, ENOMEM, "%s", p->name);
    e->prov[e->n_prov++] = i;
  }
  return 0;
}

bool deb_name_valid(const char *name)
{
  if (name == NULL || !isalnum((unsigned char) name[0]) || strlen(name) > 255)
    return false;
  for (const char *c = name; *c != '\0'; c++)
    if (!isalnum((unsigned char) *c) && *c != '+' && *c != '-' && *c != '.')
      return false;
  return true;
}

static int add_package(struct deb_index *ix, const struct deb_stanza *st, const char *arch,
                       bool installed, const char *what, appc_error_t *err)
{
  struct deb_package p = {.st = st, .installed = installed};
  const char *provides = deb_field(st, "Provides");
  cleanup_free char *where = NULL;
  int r;

  p.name = deb_field(st, "Package");
  p.version = deb_field(st, "Version");
  p.arch = deb_field(st, "Architecture");
  if (installed && (r = status_installed(st, what, err)) <= 0)
    return r;
  if (p.name == NULL || p.version == NULL)
    return appc_error_make(err, 0, "%s: the entry at line %zu has no %s field", what, st->line,
                           p.name == NULL ? "Package" : "Version");
  if (!deb_name_valid(p.name))
    return appc_error_make(err, 0,
                           "%s: the entry at line %zu: \"%s\" is not a package name (letters, "
                           "digits, '+', '-', '.')",
                           what, st->line, p.name);
  if (p.arch != NULL && !deb_name_valid(p.arch))
    return appc_error_make(err, 0, "%s: package %s: \"%s\" is not an architecture name", what,
                           p.name, p.arch);
  if (!deb_version_valid(p.version))
    return appc_error_make(err, 0, "%s: package %s: \"%s\" is not a valid version", what, p.name,
                           p.version);
  if (!installed && p.arch != NULL && strcmp(p.arch, arch) != 0 && strcmp(p.arch, "all") != 0)
    return 0;
  if (asprintf(&where, "%s: package %s: Provides", what, p.name) < 0)
    return appc_error_make(err, ENOMEM, "%s", what);
  if (provides != NULL && deb_parse_relations(provides, where, &p.provides, err) < 0)
    return -1;
  for (size_t g = 0; g < p.provides.n; g++)
    if (p.provides.v[g].n != 1 ||
        (p.provides.v[g].alts[0].op != DEB_ANY && p.provides.v[g].alts[0].op != DEB_EQ)) {
      deb_relations_clear(&p.provides);
      return appc_error_make(err, 0, "%s: only \"name\" or \"name (= version)\" may be provided",
                             where);
    }
  if (APPC_ARRAY_RESERVE(ix->v, ix->cap, ix->n + 1) < 0) {
    deb_relations_clear(&p.provides);
    return appc_error_make(err, ENOMEM, "%s", what);
  }
  ix->v[ix->n++] = p;
  return index_names(ix, ix->n - 1, err);
}

static int version_order(const void *a, const void *b)
{
  const struct version_of *x = a, *y = b;
  int c = deb_version_compare(x->version, y->version);

  return c != 0 ? c : (x->pkg > y->pkg) - (x->pkg < y->pkg);
}

/* Sort E's versions and group them into classes. */
static int sort_versions(const struct deb_index *ix, struct name_entry *e)
{
  long below = -1;

  if (e->n_vers > 1) /* (a name only provided unversioned has none: NULL) */
    qsort(e->vers, e->n_vers, sizeof *e->vers, version_order);
  free(e->cls);
  e->n_cls = 0;
  if ((e->cls = calloc(e->n_vers + 1, sizeof *e->cls)) == NULL)
    return -1;
  for (size_t i = 0; i < e->n_vers; i++) {
    const struct version_of *v = &e->vers[i];
    if (i == 0 || deb_version_compare(e->vers[i - 1].version, v->version) != 0)
      e->cls[e->n_cls++] = (struct version_class){.start = i, .real = -1};
    struct version_class *k = &e->cls[e->n_cls - 1];
    if (k->real < 0 && !v->provided && !ix->v[v->pkg].installed)
      k->real = (long) v->pkg;
  }
  for (size_t k = 0; k < e->n_cls; k++) {
    if (e->cls[k].real >= 0)
      below = (long) k;
    e->cls[k].real_below = below;
  }
  e->sorted = true;
  return 0;
}

int deb_index_add(struct deb_index *ix, const struct deb_stanzas *stanzas, const char *arch,
                  bool installed, const char *what, appc_error_t *err)
{
  struct name_entry *e;
  size_t pos = 0;

  for (size_t i = 0; i < stanzas->n; i++)
    if (add_package(ix, &stanzas->v[i], arch, installed, what, err) < 0)
      return -1;
  while ((e = appc_hashmap_next(&ix->names, &pos)) != NULL)
    if (!e->sorted && sort_versions(ix, e) < 0)
      return appc_error_make(err, ENOMEM, "%s", what);
  return 0;
}

/* ---- the choice ---- */

/* The first class of E whose version is above C (ABOVE), or at least C. */
static size_t class_bound(const struct name_entry *e, const char *c, bool above)
{
  size_t lo = 0, hi = e->n_cls;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int cmp = deb_version_compare(e->vers[e->cls[mid].start].version, c);
    if (cmp > 0 || (cmp == 0 && !above))
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

/* The classes [*LO, *END) of E whose versions meet ALT: all of them, the
 * lowest ones (<<, <=), the highest ones (>=, >>) or one (=). */
static void classes_meeting(const struct name_entry *e, const struct deb_alt *alt, size_t *lo,
                            size_t *end)
{
  *lo = 0;
  *end = e->n_cls;
  if (alt->op == DEB_LT || alt->op == DEB_EQ || alt->op == DEB_GE)
    *lo = class_bound(e, alt->version, false);
  if (alt->op == DEB_LE || alt->op == DEB_EQ || alt->op == DEB_GT)
    *end = class_bound(e, alt->version, true);
  if (alt->op == DEB_LT)
    *end = *lo, *lo = 0;
  if (alt->op == DEB_GT)
    *lo = *end, *end = e->n_cls;
}

/* What is chosen or installed under one name, and which of its providers
 * are still worth a look (their names are not taken: that stays true,
 * as choosing only takes names). */
struct name_state {
  bool any;               /* a package of the name, or one providing it */
  bool real;              /* a package of the name (another version cannot be) */
  size_t real_pkg;        /* the first of those */
  bool *at;               /* per class: one has a version of it; NULL: none has */
  size_t lowest, highest; /* the lowest and highest of those classes */
  size_t next_prov;       /* the first provider (the entry's prov) not ruled out */
  size_t *cursor;         /* per class: its first version not ruled out */
  size_t *live;           /* per class + 1: a union-find to the highest class not used up */
};

struct resolver {
  const struct deb_index *ix;
  const struct appc_callbacks *cb;
  struct name_state *names; /* by the index's name_entry id */
  size_t *order;
  size_t n, cap;
  appc_error_t *err;
};

static struct name_state *state_of(const struct resolver *r, const struct name_entry *e)
{
  return &r->names[e->id];
}

/* The class of E that VERSION (one of E's versions) is in. */
static size_t class_of(const struct name_entry *e, const char *version)
{
  size_t above = class_bound(e, version, true);
  return above > 0 ? above - 1 : 0;
}

static int take(struct resolver *r, const char *name, size_t pkg, const char *version, bool real)
{
  const struct name_entry *e = lookup(r->ix, name);
  struct name_state *s;

  if (e == NULL)
    return 0; /* (every name of the index has an entry) */
  s = state_of(r, e);
  if (real && !s->real)
    s->real_pkg = pkg;
  s->real |= real;
  s->any = true;
  if (version == NULL || e->n_cls == 0)
    return 0;
  size_t k = class_of(e, version);
  if (s->at == NULL) {
    if ((s->at = calloc(e->n_cls, sizeof *s->at)) == NULL)
      return appc_error_make(r->err, ENOMEM, "%s", name);
    s->lowest = s->highest = k;
  }
  s->at[k] = true;
  s->lowest = k < s->lowest ? k : s->lowest;
  s->highest = k > s->highest ? k : s->highest;
  return 0;
}

/* PKG is chosen or installed: under its name and those it provides. */
static int mark_taken(struct resolver *r, size_t pkg)
{
  const struct deb_package *p = &r->ix->v[pkg];

  if (take(r, p->name, pkg, p->version, true) < 0)
    return -1;
  for (size_t g = 0; g < p->provides.n; g++) {
    const struct deb_alt *a = &p->provides.v[g].alts[0];
    if (take(r, a->name, pkg, a->op == DEB_EQ ? a->version : NULL, false) < 0)
      return -1;
  }
  return 0;
}

/* Whether a package named NAME is chosen or installed (another version
 * cannot be). */
static bool name_taken(const struct resolver *r, const char *name)
{
  const struct name_entry *e = lookup(r->ix, name);
  return e != NULL && state_of(r, e)->real;
}

static bool satisfied(const struct resolver *r, const struct deb_alt *alt)
{
  const struct name_entry *e = lookup(r->ix, alt->name);
  const struct name_state *s = e != NULL ? state_of(r, e) : NULL;
  size_t lo, end;

  if (s == NULL || alt->op == DEB_ANY)
    return s != NULL && s->any;
  if (s->at == NULL)
    return false; /* an unversioned Provides meets no versioned constraint */
  classes_meeting(e, alt, &lo, &end);
  if (lo >= end)
    return false;
  if (lo == 0)
    return s->lowest < end;
  if (end == e->n_cls)
    return s->highest >= lo;
  return s->at[lo]; /* "=": one class */
}

/* The highest version of the index's (not the rootfs's) packages named
 * by E that meets ALT, or -1. */
static long best_real(const struct name_entry *e, const struct deb_alt *alt)
{
  size_t lo, end;
  long k;

  classes_meeting(e, alt, &lo, &end);
  if (lo >= end || (k = e->cls[end - 1].real_below) < 0 || (size_t) k < lo)
    return -1;
  return e->cls[k].real;
}

/* Whether PKG, providing a name, may be chosen for it. */
static bool provider_usable(const struct resolver *r, size_t pkg)
{
  const struct deb_package *p = &r->ix->v[pkg];
  return !p->installed && !name_taken(r, p->name);
}

/* For an unversioned alternative: the first provider in the index's
 * order that may be chosen, or -1. */
static long any_provider(const struct resolver *r, const struct name_entry *e, struct name_state *s)
{
  while (s->next_prov < e->n_prov && !provider_usable(r, e->prov[s->next_prov]))
    s->next_prov++;
  return s->next_prov < e->n_prov ? (long) e->prov[s->next_prov] : -1;
}

/* Of the classes up to X - 1, the highest one not used up, plus 1; 0 when
 * all are (LIVE[K + 1] is K + 1 while class K is not used up, else lower:
 * a union-find, its paths halved as they are walked). */
static size_t live_class(size_t *live, size_t x)
{
  while (live[x] != x) {
    live[x] = live[live[x]];
    x = live[x];
  }
  return x;
}

static int provider_search_init(const struct name_entry *e, struct name_state *s)
{
  if ((s->cursor = calloc(e->n_cls, sizeof *s->cursor)) == NULL ||
      (s->live = calloc(e->n_cls + 1, sizeof *s->live)) == NULL)
    return -1;
  for (size_t k = 0; k < e->n_cls; k++)
    s->cursor[k] = e->cls[k].start;
  for (size_t x = 0; x <= e->n_cls; x++)
    s->live[x] = x;
  return 0;
}

/* For a versioned alternative: the provider of the highest version that
 * meets it and may be chosen, or -1; -2 out of memory.  A version looked
 * at and ruled out is not looked at again, nor is a class used up. */
static long versioned_provider(const struct resolver *r, const struct name_entry *e,
                               struct name_state *s, const struct deb_alt *alt)
{
  size_t lo, end;

  classes_meeting(e, alt, &lo, &end);
  if (lo >= end)
    return -1;
  if (s->live == NULL && provider_search_init(e, s) < 0)
    return -2;
  for (size_t x = live_class(s->live, end); x > lo; x = live_class(s->live, x)) {
    size_t k = x - 1, stop = k + 1 < e->n_cls ? e->cls[k + 1].start : e->n_vers;
    while (s->cursor[k] < stop &&
           (!e->vers[s->cursor[k]].provided || !provider_usable(r, e->vers[s->cursor[k]].pkg)))
      s->cursor[k]++;
    if (s->cursor[k] < stop)
      return (long) e->vers[s->cursor[k]].pkg;
    s->live[x] = k; /* used up: on to the classes below */
  }
  return -1;
}

/* The package to choose for ALT: -1 none, -2 out of memory. */
static long candidate(const struct resolver *r, const struct deb_alt *alt)
{
  const struct name_entry *e = lookup(r->ix, alt->name);
  struct name_state *s = e != NULL ? state_of(r, e) : NULL;
  long c;

  if (s == NULL)
    return -1;
  if (!s->real && (c = best_real(e, alt)) >= 0)
    return c;
  return alt->op == DEB_ANY ? any_provider(r, e, s) : versioned_provider(r, e, s, alt);
}

static int choose(struct resolver *r, size_t pkg)
{
  if (APPC_ARRAY_RESERVE(r->order, r->cap, r->n + 1) < 0)
    return appc_error_make(r->err, ENOMEM, "%s", r->ix->v[pkg].name);
  r->order[r->n++] = pkg;
  return mark_taken(r, pkg);
}

/* G for a message: its first alternatives, and how many it has when they
 * are more (a hostile group has millions, which copied one by one into a
 * growing string took time quadratic in them); malloc'ed or NULL. */
#define GROUP_SHOWN 8
static char *group_string(const struct deb_group *g)
{
  char *s = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&s, &len);

  if (m == NULL)
    return NULL;
  for (size_t i = 0; i < g->n && i < GROUP_SHOWN; i++) {
    cleanup_free char *alt = deb_alt_string(&g->alts[i]);
    fprintf(m, "%s%s", i > 0 ? " | " : "", alt != NULL ? alt : "?");
  }
  if (g->n > GROUP_SHOWN)
    fprintf(m, " | ... (%zu alternatives)", g->n);
  if (fclose(m) != 0) {
    free(s);
    return NULL;
  }
  return s;
}

static int unresolvable(struct resolver *r, const struct deb_package *p, const char *field,
                        const struct deb_group *g)
{
  cleanup_free char *text = group_string(g);
  const struct name_entry *e = lookup(r->ix, g->alts[0].name);
  const char *why = "no package in the index satisfies it";

  if (e != NULL && e->n_real > 0)
    why = "the index has the package, but not a version that satisfies it";
  if (e != NULL && name_taken(r, g->alts[0].name))
    why = "another version of the package is installed or chosen";
  return appc_error_make(r->err, 0, "package %s %s: %s: %s: unresolvable dependency: %s", p->name,
                         p->version, field, text != NULL ? text : "?", why);
}

static int cancelled(const struct resolver *r)
{
  if (!appc_cb_cancelled(r->cb))
    return 0;
  return appc_error_make(r->err, ECANCELED, "resolving dependencies");
}

/* The group G of P's FIELD: satisfied, or its first alternative that can
 * be chosen.  Cancellable at each alternative: a group may have tens of
 * thousands. */
static int resolve_group(struct resolver *r, const struct deb_package *p, const char *field,
                         const struct deb_group *g)
{
  for (size_t a = 0; a < g->n; a++) {
    if (cancelled(r) < 0)
      return -1;
    if (satisfied(r, &g->alts[a]))
      return 0;
  }
  for (size_t a = 0; a < g->n; a++) {
    long c;
    if (cancelled(r) < 0)
      return -1;
    if ((c = candidate(r, &g->alts[a])) == -2)
      return appc_error_make(r->err, ENOMEM, "resolving dependencies");
    if (c >= 0)
      return choose(r, (size_t) c);
  }
  return unresolvable(r, p, field, g);
}

static int resolve_package(struct resolver *r, size_t pkg)
{
  static const char *const fields[] = {"Pre-Depends", "Depends"};
  const struct deb_package *p = &r->ix->v[pkg];

  for (size_t f = 0; f < 2; f++) {
    const char *value = deb_field(p->st, fields[f]);
    cleanup_free char *what = NULL;
    struct deb_relations rel;
    int rc = 0;
    if (value == NULL)
      continue;
    if (asprintf(&what, "package %s %s: %s", p->name, p->version, fields[f]) < 0)
      return appc_error_make(r->err, ENOMEM, "%s", p->name);
    if (deb_parse_relations(value, what, &rel, r->err) < 0)
      return -1;
    for (size_t g = 0; rc == 0 && g < rel.n; g++)
      rc = resolve_group(r, p, fields[f], &rel.v[g]);
    deb_relations_clear(&rel);
    if (rc < 0)
      return -1;
  }
  return 0;
}

/* ARG asked for a version of NAME other than the one installed or chosen
 * (of which there is one: name_taken). */
static int another_version(const struct resolver *r, const char *arg, const char *name)
{
  const struct deb_package *p = &r->ix->v[state_of(r, lookup(r->ix, name))->real_pkg];

  return appc_error_make(r->err, 0, "package %s: another version of the package is %s (%s)", arg,
                         p->installed ? "installed" : "chosen", p->version);
}

/* A name asked for: "NAME" or "NAME=VERSION", NAME perhaps with ":ARCH". */
static int request(struct resolver *r, const char *arg)
{
  const char *eq = strchr(arg, '=');
  size_t len = eq != NULL ? (size_t) (eq - arg) : strlen(arg);
  const char *colon = memchr(arg, ':', len); /* NAME:ARCH, NAME:any: the arch is --arch's */
  cleanup_free char *name = strndup(arg, colon != NULL ? (size_t) (colon - arg) : len);
  struct deb_alt alt = {.name = name,
                        .op = eq != NULL ? DEB_EQ : DEB_ANY,
                        .version = eq != NULL ? (char *) eq + 1 : NULL};

  if (name == NULL)
    return appc_error_make(r->err, ENOMEM, "%s", arg);
  if (satisfied(r, &alt))
    return 0;
  long c = candidate(r, &alt);
  if (c == -2)
    return appc_error_make(r->err, ENOMEM, "%s", arg);
  if (c >= 0)
    return choose(r, (size_t) c);
  if (lookup(r->ix, name) == NULL)
    return appc_error_make(r->err, 0, "package %s: not in the index, and no package provides it",
                           name);
  /* (what stands in the way of a version the index has) */
  if (name_taken(r, name) && best_real(lookup(r->ix, name), &alt) >= 0)
    return another_version(r, arg, name);
  return appc_error_make(r->err, 0,
                         "package %s: the index has no version of it%s%s%s "
                         "that can be installed",
                         arg, eq != NULL ? " (" : "", eq != NULL ? eq + 1 : "",
                         eq != NULL ? ")" : "");
}

static void states_free(struct name_state *states, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(states[i].at);
    free(states[i].cursor);
    free(states[i].live);
  }
  free(states);
}

int deb_resolve(const struct deb_index *ix, char *const *names, size_t n,
                const struct appc_callbacks *cb, size_t **out, size_t *n_out, appc_error_t *err)
{
  struct resolver r = {.ix = ix, .cb = cb, .err = err};
  int rc = 0;

  if ((r.names = calloc(ix->n_names + 1, sizeof *r.names)) == NULL)
    return appc_error_make(err, ENOMEM, "resolving dependencies");
  for (size_t i = 0; rc == 0 && i < ix->n; i++)
    if (ix->v[i].installed)
      rc = mark_taken(&r, i);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = request(&r, names[i]);
  for (size_t k = 0; rc == 0 && k < r.n; k++)
    rc = resolve_package(&r, r.order[k]);
  states_free(r.names, ix->n_names);
  if (rc < 0) {
    free(r.order);
    return -1;
  }
  *out = r.order;
  *n_out = r.n;
  return 0;
}
