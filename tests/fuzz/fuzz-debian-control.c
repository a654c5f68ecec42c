/* SPDX-License-Identifier: Apache-2.0 */
/* Debian control files as a mirror or a .deb hands them over (Packages,
 * Release, control, a rootfs's dpkg status): the deb822 parser, the
 * relation fields, dpkg's order of versions and the resolver over what was
 * parsed.  Properties: every field parsed has a non-empty name without ':'
 * or white space; versions compare antisymmetrically and equal to
 * themselves; a resolution ends and chooses each package at most once. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "deb/internal.h"
#include "tests/fuzz/fuzz.h"

static int sign(int x)
{
  return (x > 0) - (x < 0);
}

static void check_relations(const struct deb_stanza *st)
{
  static const char *const fields[] = {"Depends", "Pre-Depends", "Provides"};

  for (size_t f = 0; f < 3; f++) {
    const char *value = deb_field(st, fields[f]);
    cleanup_error appc_error_t err = NULL;
    struct deb_relations r;
    if (value == NULL || deb_parse_relations(value, "f", &r, &err) < 0)
      continue;
    for (size_t g = 0; g < r.n; g++) {
      if (r.v[g].n == 0)
        fuzz_fail("an empty group of alternatives");
      for (size_t a = 0; a < r.v[g].n; a++) {
        const struct deb_alt *alt = &r.v[g].alts[a];
        if (alt->name == NULL || alt->name[0] == '\0')
          fuzz_fail("an alternative without a name");
        if ((alt->op == DEB_ANY) != (alt->version == NULL))
          fuzz_fail("%s: a relation without a version, or the reverse", alt->name);
        if (alt->version != NULL && !deb_version_valid(alt->version))
          fuzz_fail("%s: the invalid version \"%s\" was accepted", alt->name, alt->version);
      }
    }
    deb_relations_clear(&r);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cleanup_error appc_error_t err = NULL;
  cleanup_free char *text = malloc(size + 1);
  struct deb_stanzas s;
  struct deb_index ix;
  const char *versions[8];
  size_t nv = 0;

  if (text == NULL || memchr(data, '\0', size) != NULL)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  if (deb_parse_control(text, "fuzz", &s, &err) < 0)
    return 0;
  for (size_t i = 0; i < s.n; i++) {
    if (s.v[i].n == 0)
      fuzz_fail("stanza %zu has no field", i);
    for (size_t f = 0; f < s.v[i].n; f++) {
      const char *name = s.v[i].f[f].name;
      if (name[0] == '\0' || strpbrk(name, ": \t\n") != NULL)
        fuzz_fail("the field name \"%s\"", name);
    }
    check_relations(&s.v[i]);
    const char *v = deb_field(&s.v[i], "Version");
    if (v != NULL && nv < 8)
      versions[nv++] = v;
  }
  for (size_t a = 0; a < nv; a++)
    for (size_t b = 0; b < nv; b++) {
      int ab = deb_version_compare(versions[a], versions[b]);
      int ba = deb_version_compare(versions[b], versions[a]);
      if (sign(ab) != -sign(ba) || (a == b && ab != 0))
        fuzz_fail("\"%s\" vs \"%s\": %d and %d", versions[a], versions[b], ab, ba);
    }
  deb_index_init(&ix);
  if (deb_index_add(&ix, &s, "amd64", false, "fuzz", &err) == 0) {
    char *names[4];
    size_t n = 0, *order = NULL, n_order = 0;
    for (size_t i = 0; i < ix.n && n < 4; i++)
      names[n++] = (char *) ix.v[i].name;
    appc_error_release(&err);
    if (n > 0 && deb_resolve(&ix, names, n, NULL, &order, &n_order, &err) == 0) {
      for (size_t i = 0; i < n_order; i++)
        for (size_t j = 0; j < i; j++)
          if (order[i] == order[j])
            fuzz_fail("package %s chosen twice", ix.v[order[i]].name);
      if (n_order > ix.n)
        fuzz_fail("more packages chosen than the index has");
    }
    free(order);
  }
  deb_index_clear(&ix);
  deb_stanzas_clear(&s);
  return 0;
}
