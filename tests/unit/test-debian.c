/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of deb/: control files, relation fields, dpkg's order of
 * versions and the choice of packages (alternatives, virtual packages,
 * versioned Provides, cycles, what is installed).  Downloads, signatures
 * and unpacking are tests/integration/layout-debian.sh's. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appc/debian.h"
#include "appc/layout.h"
#include "deb/internal.h"
#define SCRATCH_PREFIX "test-debian"
#include "tests/unit/test-scratch.h"
#include "tests/unit/test-util.h"

static void test_control(void **state)
{
  char text[] = "# a comment\n"
                "Package: a\n"
                "Depends: b,\n"
                " c (>= 1)\n"
                "Description: short\n"
                " long\n"
                " .\n"
                " more\n"
                "\n\n"
                "Package: z\r\n"
                "Version:   2  \n"
                "Conffiles:\n"
                " /etc/x 123\n";
  struct deb_stanzas s;
  appc_error_t err = NULL;

  (void) state;
  assert_ok(deb_parse_control(text, "t", &s, &err), &err);
  assert_int_equal(s.n, 2);
  assert_int_equal(s.v[0].n, 3);
  assert_string_equal(deb_field(&s.v[0], "package"), "a");
  assert_string_equal(deb_field(&s.v[0], "Depends"), "b,\n c (>= 1)");
  assert_string_equal(deb_field(&s.v[0], "Description"), "short\n long\n .\n more");
  assert_string_equal(deb_field(&s.v[1], "Package"), "z");
  assert_string_equal(deb_field(&s.v[1], "Version"), "2");
  assert_string_equal(deb_field(&s.v[1], "Conffiles"), "\n /etc/x 123");
  assert_null(deb_field(&s.v[1], "Depends"));
  assert_int_equal(s.v[1].line, 11);
  deb_stanzas_clear(&s);

  char empty[] = "\n \n";
  assert_ok(deb_parse_control(empty, "t", &s, &err), &err);
  assert_int_equal(s.n, 0);
  deb_stanzas_clear(&s);
}

static void test_control_errors(void **state)
{
  static const struct {
    const char *text, *msg;
  } cases[] = {
      {" lonely\n", "t: line 1: a continuation line without a field"},
      {"A: 1\nno colon here\n", "t: line 2: not a field"},
      {"A: 1\na: 2\n", "t: line 2: field a given twice in one stanza"},
      {": x\n", "t: line 1: not a field"},
      {"A B: x\n", "t: line 1: a field name holds a space"},
      {"-A: x\n", "starts with '-'"},
  };
  struct deb_stanzas s;
  appc_error_t err = NULL;

  (void) state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *t = strdup(cases[i].text);
    assert_error_contains(deb_parse_control(t, "t", &s, &err), &err, cases[i].msg);
    assert_int_equal(s.n, 0);
    free(t);
  }
  /* A stanza of 200,000 fields whose last repeats the first, in another
   * case; then the same name in the next stanza, which is allowed. */
  size_t n = 200000, len = 0;
  char *big = malloc(n * 16 + 64);
  assert_non_null(big);
  for (size_t i = 0; i < n; i++)
    len += (size_t) sprintf(big + len, "F%zu: v\n", i);
  strcpy(big + len, "f0: again\n");
  char *copy = strdup(big);
  assert_non_null(copy);
  assert_error_contains(deb_parse_control(copy, "t", &s, &err), &err,
                        "t: line 200001: field f0 given twice in one stanza");
  strcpy(big + len, "\nF0: next stanza\n");
  assert_int_equal(deb_parse_control(big, "t", &s, &err), 0);
  assert_int_equal(s.n, 2);
  assert_int_equal(s.v[0].n, n);
  deb_stanzas_clear(&s);
  free(copy);
  free(big);
}

static void test_versions(void **state)
{
  static const struct {
    const char *a, *b;
    int cmp;
  } cases[] = {
      {"1.0", "1.0", 0},
      {"1.0", "1.1", -1},
      {"1.10", "1.9", 1},
      {"1:0.1", "2.0", 1},
      {"0:1.0", "1.0", 0},
      {"1.0~rc1", "1.0", -1},
      {"1.0~~", "1.0~", -1},
      {"1.0-1", "1.0-2", -1},
      {"1.0-10", "1.0-9", 1},
      {"1.0a", "1.0", 1},
      {"1.0+b1", "1.0", 1},
      {"1.0.1", "1.0+x", 1},
      {"2.36-9+deb12u4", "2.36-9", 1},
      {"007", "7", 0},
      {"1.0-1", "1.0", 1},
      {"a:b", "1", 0}, /* not valid, compared anyway without a crash */
  };

  (void) state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int c = deb_version_compare(cases[i].a, cases[i].b);
    int r = deb_version_compare(cases[i].b, cases[i].a);
    if (i + 1 == sizeof cases / sizeof cases[0])
      continue;
    if ((c > 0) - (c < 0) != cases[i].cmp || (r > 0) - (r < 0) != -cases[i].cmp)
      fail_msg("%s vs %s: %d, wanted %d", cases[i].a, cases[i].b, c, cases[i].cmp);
  }
  assert_true(deb_version_valid("1:2.0-1+b1"));
  assert_true(deb_version_valid("2.0~rc1"));
  assert_true(deb_version_valid("1.2-3-4"));
  assert_false(deb_version_valid(""));
  assert_false(deb_version_valid("a1"));
  assert_false(deb_version_valid("x:1"));
  assert_false(deb_version_valid("1.0-"));
  assert_false(deb_version_valid("1 0"));
  assert_true(deb_version_satisfies("1.2", DEB_GE, "1.0"));
  assert_false(deb_version_satisfies("1.2", DEB_LT, "1.2"));
  assert_true(deb_version_satisfies("1.2", DEB_LE, "1.2"));
  assert_true(deb_version_satisfies("1.2", DEB_ANY, NULL));
  assert_false(deb_version_satisfies(NULL, DEB_EQ, "1"));
}

static void test_relations(void **state)
{
  struct deb_relations r;
  appc_error_t err = NULL;

  (void) state;
  assert_ok(deb_parse_relations("a (>= 1.0) | b:any, c [amd64 !i386] <!nocheck>,\n d (<< 2~)", "t",
                                &r, &err),
            &err);
  assert_int_equal(r.n, 3);
  assert_int_equal(r.v[0].n, 2);
  assert_string_equal(r.v[0].alts[0].name, "a");
  assert_int_equal(r.v[0].alts[0].op, DEB_GE);
  assert_string_equal(r.v[0].alts[0].version, "1.0");
  assert_string_equal(r.v[0].alts[1].name, "b");
  assert_int_equal(r.v[0].alts[1].op, DEB_ANY);
  assert_string_equal(r.v[1].alts[0].name, "c");
  assert_int_equal(r.v[2].alts[0].op, DEB_LT);
  char *s = deb_alt_string(&r.v[2].alts[0]);
  assert_string_equal(s, "d (<< 2~)");
  free(s);
  deb_relations_clear(&r);

  assert_ok(deb_parse_relations("x (> 1), y (< 2), z (= 3)", "t", &r, &err), &err);
  assert_int_equal(r.v[0].alts[0].op, DEB_GE); /* obsolete spellings */
  assert_int_equal(r.v[1].alts[0].op, DEB_LE);
  assert_int_equal(r.v[2].alts[0].op, DEB_EQ);
  deb_relations_clear(&r);

  assert_error_contains(deb_parse_relations("a (~ 1)", "t", &r, &err), &err, "a relation");
  assert_error_contains(deb_parse_relations("a (>= 1", "t", &r, &err), &err, "not a version");
  assert_error_contains(deb_parse_relations("a, , b", "t", &r, &err), &err,
                        "a package name is expected");
  assert_error_contains(deb_parse_relations("a | ", "t", &r, &err), &err, "a package name");
  assert_error_contains(deb_parse_relations("a b", "t", &r, &err), &err, "',' or '|' expected");
  assert_error_contains(deb_parse_relations("a [amd64", "t", &r, &err), &err, "unterminated");
}

/* ---- the resolver ---- */

#define PKG(name, version, rest)                                                                   \
  "Package: " name "\nVersion: " version "\nArchitecture: amd64\n" rest "\n\n"

/* clang-format off */
static const char repo[] =
    PKG("app", "1", "Depends: libx (>= 2) | liby, virt, mta")
    PKG("libx", "1", "")
    PKG("libx", "3", "Pre-Depends: libc")
    PKG("libx", "2", "")
    PKG("liby", "1", "")
    PKG("libc", "2.36", "Depends: app")
    PKG("prov", "1", "Provides: virt")
    PKG("exim", "4", "Provides: mta (= 4), mail-transport-agent")
    "Package: other-arch\nVersion: 1\nArchitecture: arm64\n\n"
    PKG("broken", "1", "Depends: libx (>= 9) | nothing")
    PKG("wants-v", "1", "Depends: virt (>= 1)")
    PKG("wants-mta", "1", "Depends: mta (>= 4)")
    "Package: alltheway\nVersion: 1\nArchitecture: all\n";
/* clang-format on */

struct fixture {
  char *text, *status_text;
  struct deb_stanzas st, status;
  struct deb_index ix;
};

static void fixture_open_index(struct fixture *f, const char *packages, const char *status)
{
  appc_error_t err = NULL;

  memset(f, 0, sizeof *f);
  f->text = strdup(packages);
  f->status_text = strdup(status);
  assert_ok(deb_parse_control(f->text, "Packages", &f->st, &err), &err);
  assert_ok(deb_parse_control(f->status_text, "status", &f->status, &err), &err);
  deb_index_init(&f->ix);
  assert_ok(deb_index_add(&f->ix, &f->status, "amd64", true, "status", &err), &err);
  assert_ok(deb_index_add(&f->ix, &f->st, "amd64", false, "Packages", &err), &err);
}

static void fixture_open(struct fixture *f, const char *status)
{
  fixture_open_index(f, repo, status);
}

static void fixture_close(struct fixture *f)
{
  deb_index_clear(&f->ix);
  deb_stanzas_clear(&f->st);
  deb_stanzas_clear(&f->status);
  free(f->text);
  free(f->status_text);
}

/* The names and versions chosen for NAMES, "a=1 b=2", or the error. */
static char *resolve(struct fixture *f, const char *names)
{
  char *copy = strdup(names), *save = NULL, *args[8];
  size_t n = 0, *order = NULL, n_order = 0;
  appc_error_t err = NULL;
  char *out = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&out, &len);

  for (char *t = strtok_r(copy, " ", &save); t != NULL && n < 8; t = strtok_r(NULL, " ", &save))
    args[n++] = t;
  if (deb_resolve(&f->ix, args, n, NULL, &order, &n_order, &err) < 0) {
    fprintf(m, "error: %s", err->msg);
    appc_error_release(&err);
  }
  for (size_t i = 0; i < n_order; i++)
    fprintf(m, "%s%s=%s", i > 0 ? " " : "", f->ix.v[order[i]].name, f->ix.v[order[i]].version);
  fclose(m);
  free(order);
  free(copy);
  return out;
}

static void assert_resolves(struct fixture *f, const char *names, const char *want)
{
  char *got = resolve(f, names);

  if (strcmp(got, want) != 0)
    fail_msg("%s: got \"%s\", want \"%s\"", names, got, want);
  free(got);
}

static void test_resolve(void **state)
{
  struct fixture f;

  (void) state;
  fixture_open(&f, "");
  /* the highest libx meeting >= 2; virt through prov; mta through exim;
   * libc's Depends on app is a cycle that ends */
  assert_resolves(&f, "app", "app=1 libx=3 prov=1 exim=4 libc=2.36");
  assert_resolves(&f, "libx=2", "libx=2");
  assert_resolves(&f, "libx:amd64=2 liby:any", "libx=2 liby=1");
  assert_resolves(&f, "liby libx", "liby=1 libx=3 libc=2.36 app=1 prov=1 exim=4");
  assert_resolves(&f, "alltheway", "alltheway=1");
  assert_resolves(&f, "mail-transport-agent", "exim=4");
  assert_resolves(&f, "wants-mta", "wants-mta=1 exim=4");
  assert_resolves(&f, "broken",
                  "error: package broken 1: Depends: libx (>= 9) | nothing: unresolvable "
                  "dependency: the index has the package, but not a version that satisfies it");
  assert_resolves(&f, "wants-v",
                  "error: package wants-v 1: Depends: virt (>= 1): unresolvable dependency: no "
                  "package in the index satisfies it");
  assert_resolves(&f, "nosuch",
                  "error: package nosuch: not in the index, and no package "
                  "provides it");
  assert_resolves(&f, "other-arch",
                  "error: package other-arch: not in the index, and no "
                  "package provides it");
  assert_resolves(&f, "libx=7",
                  "error: package libx=7: the index has no version of it (7) that "
                  "can be installed");
  fixture_close(&f);
}

/* Each relation against the versions of a name, dpkg's equal ones ("2",
 * "02") alike: installed, chosen, or provided. */
static void test_resolve_relations(void **state)
{
  /* clang-format off */
  static const char index[] =
      PKG("libz", "1", "") PKG("libz", "3", "") PKG("libz", "2", "")
      PKG("vp1", "1", "Provides: vz (= 1)") PKG("vp3", "1", "Provides: vz (= 3)")
      PKG("vp5", "1", "Provides: vz (= 5)") PKG("vpu", "1", "Provides: vz")
      PKG("w-eq", "1", "Depends: libz (= 02), libz (<= 2), libz (>= 2)")
      PKG("w-lt", "1", "Depends: libz (<< 2)")
      PKG("w-gt", "1", "Depends: libz (>> 2)")
      PKG("w-two", "1", "Depends: vz (<< 5), vz (= 01), vz (>= 1), vz (= 3), vz (= 03)")
      PKG("w-high", "1", "Depends: vz (>= 2)")
      PKG("w-none", "1", "Depends: vz (<< 1) | vz (>> 5) | vz (= 2)");
  /* clang-format on */
  struct fixture f;

  (void) state;
  fixture_open_index(&f, index, PKG("libz", "2", "Status: install ok installed"));
  assert_resolves(&f, "w-eq", "w-eq=1");
  assert_resolves(&f, "w-lt",
                  "error: package w-lt 1: Depends: libz (<< 2): unresolvable dependency: another "
                  "version of the package is installed or chosen");
  assert_resolves(&f, "w-gt",
                  "error: package w-gt 1: Depends: libz (>> 2): unresolvable dependency: another "
                  "version of the package is installed or chosen");
  /* the highest provided version that meets it; an unversioned name is
   * met by the first provider in the index */
  assert_resolves(&f, "w-two", "w-two=1 vp3=1 vp1=1");
  assert_resolves(&f, "w-high", "w-high=1 vp5=1");
  assert_resolves(&f, "vz", "vp1=1");
  assert_resolves(&f, "vz w-high", "vp1=1 w-high=1 vp5=1");
  assert_resolves(&f, "w-none",
                  "error: package w-none 1: Depends: vz (<< 1) | vz (>> 5) | vz (= 2): "
                  "unresolvable dependency: no package in the index satisfies it");
  fixture_close(&f);
}

static bool cancel_now(void *data)
{
  (*(int *) data)++;
  return true;
}

/* Resolving NAME in F with CANCELLED (counting its calls) is cancelled
 * after ASKED calls. */
static void assert_cancelled(struct fixture *f, const char *name, bool (*cancelled)(void *),
                             int asked)
{
  char *names[] = {(char *) name};
  size_t *order = NULL, n_order = 0;
  appc_error_t err = NULL;
  int calls = 0;
  const struct appc_callbacks cb = {.cancelled = cancelled, .data = &calls};

  assert_int_equal(deb_resolve(&f->ix, names, 1, &cb, &order, &n_order, &err), -1);
  assert_non_null(err);
  assert_int_equal(err->errnum, ECANCELED);
  assert_int_equal(calls, asked);
  appc_error_release(&err);
  free(order);
}

/* A cancelled resolution stops at the first group it looks at. */
static void test_resolve_cancelled(void **state)
{
  struct fixture f;

  (void) state;
  fixture_open(&f, "");
  assert_cancelled(&f, "app", cancel_now, 1);
  fixture_close(&f);
}

static void test_resolve_installed(void **state)
{
  struct fixture f;

  (void) state;
  /* an installed libx 2 satisfies >= 2, and no other libx may come */
  fixture_open(&f, PKG("libx", "2", "Status: install ok installed")
                       PKG("prov", "1", "Status: deinstall ok config-files"));
  assert_resolves(&f, "app", "app=1 prov=1 exim=4");
  assert_resolves(&f, "libx", "");
  /* the index has libx 3: what stands in its way is the installed 2 */
  assert_resolves(&f, "libx=3",
                  "error: package libx=3: another version of the package is installed (2)");
  assert_resolves(&f, "libx=7",
                  "error: package libx=7: the index has no version of it (7) that "
                  "can be installed");
  fixture_close(&f);
}

/* Every version comparison made, counted (-Wl,--wrap: tests/unit/local.mk). */
static size_t comparisons;
int __real_deb_version_compare(const char *a, const char *b);
bool __real_deb_version_satisfies(const char *version, enum deb_op op, const char *constraint);

int __wrap_deb_version_compare(const char *a, const char *b)
{
  comparisons++;
  return __real_deb_version_compare(a, b);
}

bool __wrap_deb_version_satisfies(const char *version, enum deb_op op, const char *constraint)
{
  comparisons++;
  return __real_deb_version_satisfies(version, op, constraint);
}

/* A hostile index, of some thousands rather than the millions a Packages
 * file of 256 MiB holds: N versions of foo; N packages providing bar, each
 * at a version of its own; "root" and "root2" each with a group of N
 * alternatives that nothing meets ("foo (>> BIG)", "bar (>> BIG)") before
 * "leaf", root2 choosing every provider of bar first; "unmet", the group
 * without "leaf". */
#define HOSTILE_N 2000
static char *hostile_index(void)
{
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);

  assert_non_null(m);
  fprintf(m, PKG("leaf", "1", ""));
  for (int i = 0; i < HOSTILE_N; i++)
    fprintf(m, PKG("foo", "%d", "") PKG("p%d", "1", "Provides: bar (= %d)"), i + 1, i, i + 1);
  fprintf(m, "Package: root\nVersion: 1\nDepends:");
  for (int i = 0; i < HOSTILE_N; i++)
    fprintf(m, " foo (>> %d) |", 10000000 + i);
  fprintf(m, " leaf\n\nPackage: root2\nVersion: 1\nDepends:");
  for (int i = 0; i < HOSTILE_N; i++)
    fprintf(m, " p%d,", i);
  for (int i = 0; i < HOSTILE_N; i++)
    fprintf(m, " bar (>> %d) |", 10000000 + i);
  fprintf(m, " leaf\n\nPackage: unmet\nVersion: 1\nDepends: foo (>> 10000000)");
  for (int i = 1; i < HOSTILE_N; i++)
    fprintf(m, " | foo (>> %d)", 10000000 + i);
  fprintf(m, "\n");
  assert_int_equal(fclose(m), 0);
  return text;
}

/* Resolving an alternative costs a binary search among the versions of
 * its name, sorted once, not a look at each version (or each provider, or
 * each package chosen under the name): the index's sorting and the
 * resolution make some tens of comparisons per version and alternative
 * (n log n), where looking at each made one per version for each
 * alternative, millions at this size and hours at 256 MiB. */
static void test_resolve_hostile(void **state)
{
  char *text = hostile_index();
  struct fixture f;
  char *got;

  (void) state;
  comparisons = 0;
  fixture_open_index(&f, text, "");
  assert_resolves(&f, "root", "root=1 leaf=1");
  got = resolve(&f, "root2");
  assert_non_null(strstr(got, "root2=1 p0=1 p1=1 "));
  assert_non_null(strstr(got, " p1999=1 leaf=1"));
  free(got);
  got = resolve(&f, "unmet");
  assert_string_equal(got, "error: package unmet 1: Depends: foo (>> 10000000) | foo (>> "
                           "10000001) | foo (>> 10000002) | foo (>> 10000003) | foo (>> "
                           "10000004) | foo (>> 10000005) | foo (>> 10000006) | foo (>> "
                           "10000007) | ... (2000 alternatives): unresolvable dependency: the "
                           "index has the package, but not a version that satisfies it");
  free(got);
  fixture_close(&f);
  free(text);
  if (comparisons > 100 * 3 * HOSTILE_N)
    fail_msg("%zu version comparisons for %d versions, providers and alternatives", comparisons,
             HOSTILE_N);
}

static bool cancel_second(void *data)
{
  return ++*(int *) data >= 2;
}

/* Cancelling stops a group of thousands of alternatives at the next one,
 * not after the group. */
static void test_resolve_cancelled_in_group(void **state)
{
  char *text = hostile_index();
  struct fixture f;

  (void) state;
  fixture_open_index(&f, text, "");
  assert_cancelled(&f, "unmet", cancel_second, 2);
  fixture_close(&f);
  free(text);
}

static void test_index_errors(void **state)
{
  static const struct {
    const char *text, *msg;
  } cases[] = {
      {"Version: 1\n", "Packages: the entry at line 1 has no Package field"},
      {"Package: a\n", "has no Version field"},
      {"Package: a\nVersion: x\n", "package a: \"x\" is not a valid version"},
      {"Package: ../../etc/x\nVersion: 1\n", "\"../../etc/x\" is not a package name"},
      {"Package: a\nVersion: 1\nArchitecture: ../x\n", "is not an architecture name"},
      {"Package: a\nVersion: 1\nProvides: b | c\n", "only \"name\" or \"name (= version)\""},
      {"Package: a\nVersion: 1\nProvides: b (>= 1)\n", "may be provided"},
      {"Package: a\nVersion: 1\nProvides: (\n", "a package name is expected"},
  };
  appc_error_t err = NULL;

  (void) state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *t = strdup(cases[i].text);
    struct deb_stanzas s;
    struct deb_index ix;
    assert_ok(deb_parse_control(t, "Packages", &s, &err), &err);
    deb_index_init(&ix);
    assert_error_contains(deb_index_add(&ix, &s, "amd64", false, "Packages", &err), &err,
                          cases[i].msg);
    deb_index_clear(&ix);
    deb_stanzas_clear(&s);
    free(t);
  }
}

/* appc_layout_debian_install keeps the ABI rules: a newer structure is
 * refused, `essential` (version 2) is not read from a version-1 caller,
 * and no options are refused, not dereferenced.  All before any download. */
static void test_install_options_abi(void **state)
{
  char *names[] = {"hello"};
  char *dir = scratch_new();
  char *layout = NULL;
  struct appc_layout *l = NULL;
  appc_error_t err = NULL;

  (void) state;
  assert_true(asprintf(&layout, "%s/layout", dir) > 0);
  assert_ok(appc_layout_create(layout, "example.com/deb", &err), &err);
  assert_ok(appc_layout_open(layout, &l, &err), &err);
  struct appc_debian_options o = {.version = APPC_DEBIAN_OPTIONS_VERSION + 1};
  assert_tagged_error(appc_layout_debian_install(l, names, 1, &o, NULL, &err), &err, EINVAL,
                      "struct appc_debian_options: version 3 is newer than this libappc");
  o = (struct appc_debian_options){.version = 1, .essential = true};
  assert_tagged_error(appc_layout_debian_install(l, names, 0, &o, NULL, &err), &err, EINVAL,
                      "appc_debian_options.essential needs version >= 2, the caller gave 1");
  o = (struct appc_debian_options){.version = APPC_DEBIAN_OPTIONS_VERSION, .essential = true};
  assert_tagged_error(appc_layout_debian_install(l, names, 0, &o, NULL, &err), &err, EINVAL,
                      "debian: no HTTP client");
  assert_tagged_error(appc_layout_debian_install(l, names, 1, NULL, NULL, &err), &err, EINVAL,
                      "debian: no options");
  appc_layout_close(l);
  free(layout);
  scratch_remove(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_control),           cmocka_unit_test(test_control_errors),
      cmocka_unit_test(test_versions),          cmocka_unit_test(test_relations),
      cmocka_unit_test(test_resolve),           cmocka_unit_test(test_resolve_installed),
      cmocka_unit_test(test_resolve_relations), cmocka_unit_test(test_resolve_cancelled),
      cmocka_unit_test(test_resolve_hostile),   cmocka_unit_test(test_resolve_cancelled_in_group),
      cmocka_unit_test(test_index_errors),      cmocka_unit_test(test_install_options_abi),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
