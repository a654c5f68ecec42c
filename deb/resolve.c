/* SPDX-License-Identifier: Apache-2.0 */
/* An index of packages (a mirror's Packages file and the rootfs's dpkg
 * status) and the choice of what to install: the packages asked for and,
 * breadth first, what their Pre-Depends and Depends need.  Of a group of
 * alternatives "a | b", one already chosen or installed satisfies it, else
 * the first that the index can satisfy is chosen: a real package (its
 * highest version that meets the constraint), else a package providing the
 * name (an unversioned Provides meets no versioned constraint, as in
 * Policy 7.5).  Each package is chosen at most once, so cycles end. */
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

struct provider {
  size_t pkg;
  const char *version; /* NULL: unversioned */
};

struct name_entry {
  const char *name;
  size_t *real;
  size_t n_real, cap_real;
  struct provider *prov;
  size_t n_prov, cap_prov;
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
    *e = (struct name_entry){.name = name};
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

  free(e->real);
  free(e->prov);
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

static int index_names(struct deb_index *ix, size_t i, appc_error_t *err)
{
  struct deb_package *p = &ix->v[i];
  struct name_entry *e = entry_for(ix, p->name);

  if (e == NULL || APPC_ARRAY_RESERVE(e->real, e->cap_real, e->n_real + 1) < 0)
    return appc_error_make(err, ENOMEM, "%s", p->name);
  e->real[e->n_real++] = i;
  for (size_t g = 0; g < p->provides.n; g++) {
    const struct deb_alt *a = &p->provides.v[g].alts[0];
    if ((e = entry_for(ix, a->name)) == NULL ||
        APPC_ARRAY_RESERVE(e->prov, e->cap_prov, e->n_prov + 1) < 0)
      return appc_error_make(err, ENOMEM, "%s", p->name);
    e->prov[e->n_prov++] = (struct provider){i, a->op == DEB_EQ ? a->version : NULL};
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

int deb_index_add(struct deb_index *ix, const struct deb_stanzas *stanzas, const char *arch,
                  bool installed, const char *what, appc_error_t *err)
{
  for (size_t i = 0; i < stanzas->n; i++)
    if (add_package(ix, &stanzas->v[i], arch, installed, what, err) < 0)
      return -1;
  return 0;
}

/* ---- the choice ---- */

/* What the chosen (or installed) packages are under one name: the
 * package of that name, and those that provide it.  Looked up instead of
 * the index's every package and provider of the name, which a hostile
 * index makes tens of thousands. */
struct taker {
  size_t pkg;
  const char *version; /* its own, or what it provides (NULL: unversioned) */
  bool real;           /* the package of that name, not a provider */
};
struct taken {
  const char *name;
  bool real; /* a package of this name is chosen or installed */
  struct taker *v;
  size_t n, cap;
};

struct resolver {
  const struct deb_index *ix;
  const struct appc_callbacks *cb;
  bool *chosen;              /* per package of the index; installed ones too */
  struct appc_hashmap taken; /* of struct taken, by name */
  /* Alternatives for which no package could be chosen: choosing only
   * takes names, so that stays true; each is looked for once. */
  struct appc_strset hopeless;
  size_t *order;
  size_t n, cap;
  appc_error_t *err;
};

static bool taken_eq(const void *entry, const void *key)
{
  return strcmp(((const struct taken *) entry)->name, key) == 0;
}

static const struct taken *taken_by(const struct resolver *r, const char *name)
{
  return r->taken.len == 0 ? NULL : appc_hashmap_find(&r->taken, name_hash(name), taken_eq, name);
}

static int take(struct resolver *r, const char *name, size_t pkg, const char *version, bool real)
{
  bool added;
  struct taken *t = appc_hashmap_insert(&r->taken, name_hash(name), taken_eq, name, &added);

  if (t != NULL && added)
    *t = (struct taken){.name = name};
  if (t == NULL || APPC_ARRAY_RESERVE(t->v, t->cap, t->n + 1) < 0)
    return appc_error_make(r->err, ENOMEM, "%s", name);
  t->v[t->n++] = (struct taker){pkg, version, real};
  t->real |= real;
  return 0;
}

/* PKG is chosen or installed: under its name and those it provides. */
static int mark_taken(struct resolver *r, size_t pkg)
{
  const struct deb_package *p = &r->ix->v[pkg];

  r->chosen[pkg] = true;
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
  const struct taken *t = taken_by(r, name);
  return t != NULL && t->real;
}

static bool provider_meets(const struct provider *p, const struct deb_alt *alt)
{
  return alt->op == DEB_ANY ||
         (p->version != NULL && deb_version_satisfies(p->version, alt->op, alt->version));
}

static bool satisfied(const struct resolver *r, const struct deb_alt *alt)
{
  const struct taken *t = taken_by(r, alt->name);

  for (size_t i = 0; t != NULL && i < t->n; i++) {
    const struct taker *k = &t->v[i];
    /* the package of that name by its own version, a provider by its Provides */
    if (k->real ? deb_version_satisfies(k->version, alt->op, alt->version)
                : provider_meets(&(struct provider){k->pkg, k->version}, alt))
      return true;
  }
  return false;
}

/* The highest version of the index's (not the rootfs's) packages named
 * by E that meets ALT, or -1. */
static long best_real(const struct resolver *r, const struct name_entry *e,
                      const struct deb_alt *alt)
{
  long best = -1;

  for (size_t i = 0; e != NULL && i < e->n_real; i++) {
    const struct deb_package *p = &r->ix->v[e->real[i]];
    if (!p->installed && deb_version_satisfies(p->version, alt->op, alt->version) &&
        (best < 0 || deb_version_compare(p->version, r->ix->v[best].version) > 0))
      best = (long) e->real[i];
  }
  return best;
}

/* The package to choose for ALT, or -1. */
static long find_candidate(const struct resolver *r, const struct deb_alt *alt)
{
  const struct name_entry *e = lookup(r->ix, alt->name);
  long best = -1;

  if (e == NULL)
    return -1;
  if (!name_taken(r, alt->name))
    best = best_real(r, e, alt);
  if (best >= 0)
    return best;
  for (size_t i = 0; i < e->n_prov; i++) {
    const struct deb_package *p = &r->ix->v[e->prov[i].pkg];
    if (!p->installed && provider_meets(&e->prov[i], alt) && !name_taken(r, p->name))
      return (long) e->prov[i].pkg;
  }
  return -1;
}

/* find_candidate, remembering the alternatives it found nothing for:
 * -1 none, -2 out of memory. */
static long candidate(struct resolver *r, const struct deb_alt *alt)
{
  cleanup_free char *key = NULL;
  long c;

  if (asprintf(&key, "%s\n%d\n%s", alt->name, (int) alt->op,
               alt->version != NULL ? alt->version : "") < 0)
    return -2;
  if (appc_strset_contains(&r->hopeless, key))
    return -1;
  c = find_candidate(r, alt);
  if (c < 0 && appc_strset_add(&r->hopeless, key) < 0)
    return -2;
  return c;
}

static int choose(struct resolver *r, size_t pkg)
{
  if (APPC_ARRAY_RESERVE(r->order, r->cap, r->n + 1) < 0)
    return appc_error_make(r->err, ENOMEM, "%s", r->ix->v[pkg].name);
  r->order[r->n++] = pkg;
  return mark_taken(r, pkg);
}

static char *group_string(const struct deb_group *g)
{
  char *s = strdup("");

  for (size_t i = 0; s != NULL && i < g->n; i++) {
    cleanup_free char *alt = deb_alt_string(&g->alts[i]);
    char *t = NULL;
    if (alt == NULL || asprintf(&t, "%s%s%s", s, i > 0 ? " | " : "", alt) < 0)
      t = NULL;
    free(s);
    s = t;
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
    for (size_t g = 0; rc == 0 && g < rel.n; g++) {
      bool done = false;
      if (appc_cb_cancelled(r->cb)) {
        rc = appc_error_make(r->err, ECANCELED, "resolving dependencies");
        break;
      }
      for (size_t a = 0; !done && a < rel.v[g].n; a++)
        done = satisfied(r, &rel.v[g].alts[a]);
      for (size_t a = 0; rc == 0 && !done && a < rel.v[g].n; a++) {
        long c = candidate(r, &rel.v[g].alts[a]);
        if (c == -2)
          rc = appc_error_make(r->err, ENOMEM, "resolving dependencies");
        if (c >= 0) {
          rc = choose(r, (size_t) c);
          done = true;
        }
      }
      if (rc == 0 && !done)
        rc = unresolvable(r, p, fields[f], &rel.v[g]);
    }
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
  const struct taken *t = taken_by(r, name);
  size_t k = 0;

  while (!t->v[k].real)
    k++;
  return appc_error_make(r->err, 0, "package %s: another version of the package is %s (%s)", arg,
                         r->ix->v[t->v[k].pkg].installed ? "installed" : "chosen", t->v[k].version);
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
  if (name_taken(r, name) && best_real(r, lookup(r->ix, name), &alt) >= 0)
    return another_version(r, arg, name);
  return appc_error_make(r->err, 0,
                         "package %s: the index has no version of it%s%s%s "
                         "that can be installed",
                         arg, eq != NULL ? " (" : "", eq != NULL ? eq + 1 : "",
                         eq != NULL ? ")" : "");
}

static void taken_free(void *entry)
{
  free(((struct taken *) entry)->v);
}

int deb_resolve(const struct deb_index *ix, char *const *names, size_t n,
                const struct appc_callbacks *cb, size_t **out, size_t *n_out, appc_error_t *err)
{
  struct resolver r = {.ix = ix, .cb = cb, .err = err};
  int rc = 0;

  if ((r.chosen = calloc(ix->n + 1, sizeof *r.chosen)) == NULL)
    return appc_error_make(err, ENOMEM, "resolving dependencies");
  appc_hashmap_init(&r.taken, sizeof(struct taken), 1024);
  for (size_t i = 0; rc == 0 && i < ix->n; i++)
    if (ix->v[i].installed)
      rc = mark_taken(&r, i);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = request(&r, names[i]);
  for (size_t k = 0; rc == 0 && k < r.n; k++)
    rc = resolve_package(&r, r.order[k]);
  free(r.chosen);
  appc_hashmap_clear(&r.taken, taken_free);
  appc_strset_clear(&r.hopeless);
  if (rc < 0) {
    free(r.order);
    return -1;
  }
  *out = r.order;
  *n_out = r.n;
  return 0;
}
