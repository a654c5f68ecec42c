/* SPDX-License-Identifier: Apache-2.0 */
/* actool trust [--prefix=PREFIX | --root] [--skip-fingerprint-review] [KEYFILE|URL ...]
 * actool trust --list [--prefix=PREFIX | --root] [--json | [--no-legend] [--raw] [--output=COLS]]
 * actool trust --rm FINGERPRINT [--prefix=PREFIX | --root]
 *
 * Manages the keys of DIR/trust (docs/trust.md), as `rkt trust` does: a key
 * is shown for review (fingerprint and user IDs) and trusted only on "yes",
 * unless --skip-fingerprint-review. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "actool/actool.h"
#include "actool/table.h"
#include "actool/net-cli.h"
#include "common/cleanup.h"
#include "common/macros.h"
#include "appc/discovery.h"
#include "schema/json.h"
#include "appc/store.h"
#include "appc/trust.h"

struct trust_options {
  const char *prefix;
  bool root;
  bool skip_review;
  bool list;
  const char *rm;
  bool json;
  bool no_legend;
  bool raw;
  const char *output;
};

static const struct actool_option trust_option_table[] = {
    {"prefix", ACTOOL_OPT_STRING, offsetof(struct trust_options, prefix), "PREFIX",
     "The image name prefix the keys are trusted for", NULL},
    {"root", ACTOOL_OPT_BOOL, offsetof(struct trust_options, root), NULL,
     "Trust the keys for every image name (root keys)", NULL},
    {"skip-fingerprint-review", ACTOOL_OPT_BOOL, offsetof(struct trust_options, skip_review), NULL,
     "Trust the keys without showing them for review first", NULL},
    {"list", ACTOOL_OPT_BOOL, offsetof(struct trust_options, list), NULL,
     "List the trusted keys (of PREFIX, or the root keys, when given)", NULL},
    {"rm", ACTOOL_OPT_STRING, offsetof(struct trust_options, rm), "FINGERPRINT",
     "Stop trusting the key FINGERPRINT (all of its hex digits)", NULL},
    {"json", ACTOOL_OPT_BOOL, offsetof(struct trust_options, json), NULL,
     "With --list: print a JSON array", NULL},
    {"no-legend", ACTOOL_OPT_BOOL, offsetof(struct trust_options, no_legend), NULL,
     "With --list: leave out the header line", NULL},
    {"output", ACTOOL_OPT_STRING, offsetof(struct trust_options, output), "COL[,COL]...",
     "With --list: the columns to show, in that order (PREFIX, FINGERPRINT, USER-ID)", NULL},
    {"raw", ACTOOL_OPT_BOOL, offsetof(struct trust_options, raw), NULL,
     "With --list: columns separated by one space, unaligned, special characters escaped", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

/* What the steps of one invocation share. */
struct trust_ctx {
  const struct actool_globals *g;
  const struct trust_options *o;
  struct appc_store *store;
  const char *store_dir;  /* its path, for messages */
  struct appc_http *http; /* made on first use: it reads the credentials */
};

static int out_of_memory(void)
{
  actool_error("out of memory");
  return ACTOOL_EXIT_FAILURE;
}

/* ---- reading keys ---- */

static bool is_url(const char *arg)
{
  return strncasecmp(arg, "https://", 8) == 0 || strncasecmp(arg, "http://", 7) == 0;
}

/* At most APPC_TRUST_KEY_MAX_BYTES of FD: a bigger file is no public key,
 * and is refused before it fills memory. */
static int read_bounded(int fd, const char *name, char **out, size_t *len)
{
  size_t max = APPC_TRUST_KEY_MAX_BYTES, got = 0;
  cleanup_free char *buf = malloc(max + 1);
  ssize_t n;

  if (buf == NULL)
    return out_of_memory();
  while (got <= max && (n = read(fd, buf + got, max + 1 - got)) != 0) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      actool_error("%s: %s", name, strerror(errno));
      return ACTOOL_EXIT_FAILURE;
    }
    got += (size_t) n;
  }
  if (got > max) {
    actool_error("%s: larger than %zu bytes: not a public key", name, max);
    return ACTOOL_EXIT_FAILURE;
  }
  *out = steal_pointer(&buf);
  *len = got;
  return ACTOOL_EXIT_OK;
}

static int read_key_file(const char *path, char **out, size_t *len)
{
  cleanup_close int fd = -1;

  if (strcmp(path, "-") == 0)
    return read_bounded(STDIN_FILENO, "standard input", out, len);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
    actool_error("%s: %s", path, strerror(errno));
    return ACTOOL_EXIT_FAILURE;
  }
  return read_bounded(fd, path, out, len);
}

static int http_client(struct trust_ctx *c)
{
  if (c->http != NULL)
    return ACTOOL_EXIT_OK;
  return actool_http_client(c->g, c->store_dir, &c->http);
}

static int fetch_key(struct trust_ctx *c, const char *url, char **out, size_t *len)
{
  cleanup_error appc_error_t err = NULL;
  int r = http_client(c);

  if (r != ACTOOL_EXIT_OK)
    return r;
  actool_debug(c->g, "fetching the key at %s", url);
  actool_cancel_begin();
  r = appc_http_get(c->http, url, APPC_TRUST_KEY_MAX_BYTES, out, len, NULL, &err);
  actool_cancel_end();
  return r < 0 ? actool_fail_net(&err) : ACTOOL_EXIT_OK;
}

/* ---- fingerprint review ---- */

/* Grouped as gpg shows it: "3A8F 1234 ... 9ABC  DEF0 ...". */
static void print_fingerprint(FILE *f, const char *fpr)
{
  size_t len = strlen(fpr);

  for (size_t i = 0; i < len; i += 4) {
    if (i > 0)
      fputs(i == len / 2 ? "  " : " ", f);
    fprintf(f, "%.4s", fpr + i);
  }
}

static void format_date(long long t, char *buf, size_t size)
{
  time_t tt = (time_t) t;
  struct tm tm;

  if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
    snprintf(buf, size, "unknown");
  else
    strftime(buf, size, "%Y-%m-%d", &tm);
}

static void print_key(FILE *f, const struct appc_trust_keyinfo *k)
{
  char created[32], expires[32];

  fputs("gpg key fingerprint is: ", f);
  print_fingerprint(f, k->fingerprint);
  fputc('\n', f);
  /* A user ID is the key's maker's text: an escape sequence in it could
   * rewrite the fingerprint line above on the reviewer's terminal. */
  for (size_t i = 0; i < k->n_user_ids; i++) {
    fputc('\t', f);
    actool_put_safe(k->user_ids[i], f);
    fputc('\n', f);
  }
  format_date(k->created, created, sizeof created);
  format_date(k->expires, expires, sizeof expires);
  fprintf(f, "\t(%s, created %s%s%s)\n", k->algorithm, created, k->expires > 0 ? ", expires " : "",
          k->expires > 0 ? expires : "");
}

/* Warnings about a key that verification would never accept. */
static void warn_unusable(const struct appc_trust_keyinfo *k)
{
  if (k->revoked)
    actool_error("warning: key %s has been revoked: no signature by it will verify",
                 k->fingerprint);
  else if (k->expired)
    actool_error("warning: key %s has expired: no signature by it will verify", k->fingerprint);
  else if (!k->can_sign)
    actool_error("warning: key %s has no key that can sign: no signature by it will verify",
                 k->fingerprint);
}

static bool ask_yes_no(void)
{
  cleanup_free char *line = NULL;
  size_t size = 0;
  ssize_t n;

  fputs("Are you sure you want to trust this key (yes/no)? ", stderr);
  fflush(stderr);
  if ((n = getline(&line, &size, stdin)) < 0)
    return false;
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
    line[--n] = '\0';
  return strcasecmp(line, "yes") == 0 || strcasecmp(line, "y") == 0;
}

/* Show the key in DATA and ask; true when the user said yes. */
static int review(struct trust_ctx *c, const char *origin, const char *data, size_t len,
                  bool *accepted)
{
  cleanup_error appc_error_t err = NULL;
  struct appc_trust_keyinfo k;

  if (appc_trust_read_key(c->store, data, len, origin, &k, &err) < 0)
    return actool_fail_net(&err);
  if (c->o->prefix != NULL)
    actool_say("prefix: \"%s\"", c->o->prefix);
  else
    actool_say("root key: trusted for every image name");
  /* ORIGIN may be a URL a discovery page gave: made safe, as the user
   * IDs are. */
  actool_say("key: \"%s\"", origin);
  print_key(stderr, &k);
  warn_unusable(&k);
  appc_trust_keyinfo_clear(&k);
  *accepted = ask_yes_no();
  return ACTOOL_EXIT_OK;
}

/* ---- adding ---- */

static void report_added(struct trust_ctx *c, const char *origin, const struct appc_trust_added *a)
{
  const char *p = c->o->prefix;
  const char *review = c->o->skip_review ? "without" : "after";
  cleanup_free char *what = NULL;

  if (p != NULL)
    actool_say("Trusting \"%s\" for prefix \"%s\" %s fingerprint review.", origin, p, review);
  else
    actool_say("Trusting \"%s\" as a root key %s fingerprint review.", origin, review);
  if (p == NULL)
    what = strdup("root key");
  else if (asprintf(&what, "key for prefix \"%s\"", p) < 0)
    what = NULL;
  if (a->outcome == APPC_TRUST_KEY_UNCHANGED)
    fprintf(stderr, "Already trusted: %s at \"%s/%s\"\n", what != NULL ? what : "key", c->store_dir,
            a->path);
  else
    fprintf(stderr, "%s %s at \"%s/%s\"\n",
            a->outcome == APPC_TRUST_KEY_ADDED ? "Added" : "Updated", what != NULL ? what : "key",
            c->store_dir, a->path);
  warn_unusable(&a->key);
  printf("%s\n", a->key.fingerprint);
}

static int trust_data(struct trust_ctx *c, const char *origin, const char *data, size_t len)
{
  cleanup_error appc_error_t err = NULL;
  struct appc_trust_added added;
  bool accepted = true;
  int r;

  if (!c->o->skip_review && (r = review(c, origin, data, len, &accepted)) != ACTOOL_EXIT_OK)
    return r;
  if (!accepted) {
    actool_say("Not trusting \"%s\"", origin);
    return ACTOOL_EXIT_FAILURE;
  }
  if (appc_trust_add(c->store, c->o->prefix, data, len, origin, &added, &err) < 0)
    return actool_fail_net(&err);
  report_added(c, origin, &added);
  appc_trust_added_clear(&added);
  return ACTOOL_EXIT_OK;
}

/* One KEYFILE, "-" or URL argument. */
static int trust_source(struct trust_ctx *c, const char *arg)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  int r = is_url(arg) ? fetch_key(c, arg, &data, &len) : read_key_file(arg, &data, &len);

  if (r != ACTOOL_EXIT_OK)
    return r;
  return trust_data(c, strcmp(arg, "-") == 0 ? "standard input" : arg, data, len);
}

/* The most keys one discovery is taken at its word for, as fetch tries at
 * most 16 endpoints: a page may list thousands. */
#define DISCOVERED_KEYS_MAX 16

/* A key URL a discovery named, fetched before any key is reviewed. */
struct discovered_key {
  const char *url; /* the discovery's */
  char *data;      /* the key, when it came */
  size_t len;
  appc_error_t err; /* why it did not */
  bool untried;     /* the deadline had passed before its turn */
};

static void discovered_keys_clear(struct discovered_key *keys, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(keys[i].data);
    appc_error_release(&keys[i].err);
  }
}

/* Discover the prefix's public keys and fetch them (the first
 * DISCOVERED_KEYS_MAX http(s) URLs, into KEYS, *N of them) as one
 * operation: the walk and every key end within ACTOOL_FETCH_DEADLINE, as a
 * fetch's endpoints do, however each trickles within its own deadline.
 * The reviews come after it: their time is the user's. */
static int fetch_discovered_keys(struct trust_ctx *c, struct appc_discovery *d,
                                 struct discovered_key *keys, size_t *n, appc_error_t *err)
{
  cleanup_free char *what = NULL;

  if (asprintf(&what, "the fetch of the public keys of %s", c->o->prefix) < 0) {
    what = NULL;
    return appc_error_make(err, ENOMEM, "%s", c->o->prefix);
  }
  actool_cancel_begin();
  appc_http_operation_begin(c->http, what);
  int r = appc_discover(c->http, c->o->prefix, NULL, APPC_DISCOVER_PUBKEYS, d, err);
  for (*n = 0; r == 0 && *n < d->n_pubkeys && *n < DISCOVERED_KEYS_MAX; (*n)++) {
    struct discovered_key *k = &keys[*n];
    k->url = d->pubkeys[*n];
    if (actool_cancelled(NULL))
      break; /* actool_cancel_end dies of the signal */
    if (!is_url(k->url))
      continue;
    if (appc_http_operation_expired(c->http)) {
      k->untried = true;
      continue;
    }
    actool_debug(c->g, "fetching the key at %s", k->url);
    (void) appc_http_get(c->http, k->url, APPC_TRUST_KEY_MAX_BYTES, &k->data, &k->len, NULL,
                         &k->err);
  }
  appc_http_operation_end(c->http);
  actool_cancel_end();
  return r;
}

/* The keys fetched, reviewed and trusted in the discovery's order; every
 * refusal or failure said, one line each. */
static int trust_fetched_keys(struct trust_ctx *c, struct discovered_key *keys, size_t n)
{
  int status = ACTOOL_EXIT_OK;
  size_t untried = 0;

  for (size_t i = 0; i < n; i++) {
    if (!is_url(keys[i].url)) {
      actool_error("%s: discovery names the public key \"%.200s\", which is not an http(s) URL: "
                   "refused",
                   c->o->prefix, keys[i].url);
      status = ACTOOL_EXIT_FAILURE;
    } else if (keys[i].untried) {
      untried++;
    } else if (keys[i].err != NULL) {
      status = actool_fail_net(&keys[i].err);
    } else if (keys[i].data == NULL) {
      status = out_of_memory();
    } else if (trust_data(c, keys[i].url, keys[i].data, keys[i].len) != ACTOOL_EXIT_OK) {
      status = ACTOOL_EXIT_FAILURE;
    }
  }
  if (untried > 0) {
    actool_error("%s: the deadline of the fetch of its public keys has passed, %zu of %zu not "
                 "fetched (ACTOOL_FETCH_DEADLINE allows more time)",
                 c->o->prefix, untried, n);
    status = ACTOOL_EXIT_FAILURE;
  }
  return status;
}

/* No KEYFILE: the keys the prefix's discovery names (ac-discovery-pubkeys),
 * one key per URL, as the key store holds one key per file.  Only http(s)
 * URLs: a page naming a path ("/etc/x.key", "/dev/stdin", a fifo) would
 * otherwise have this machine's files read and trusted. */
static int trust_discovered(struct trust_ctx *c)
{
  cleanup_error appc_error_t err = NULL;
  struct appc_discovery d = {0};
  struct discovered_key keys[DISCOVERED_KEYS_MAX] = {0};
  size_t n = 0;
  int r = http_client(c), status = ACTOOL_EXIT_OK;

  if (r != ACTOOL_EXIT_OK)
    return r;
  if (fetch_discovered_keys(c, &d, keys, &n, &err) < 0) {
    discovered_keys_clear(keys, n);
    appc_discovery_clear(&d); /* the attempts made before the failure */
    return actool_fail_net(&err);
  }
  if (d.n_pubkeys == 0) {
    actool_error("%s: discovery found no public keys (ac-discovery-pubkeys)", c->o->prefix);
    status = ACTOOL_EXIT_FAILURE;
  }
  if (d.n_pubkeys > DISCOVERED_KEYS_MAX)
    actool_error("%s: discovery names %zu public keys; only the first %d are fetched", c->o->prefix,
                 d.n_pubkeys, DISCOVERED_KEYS_MAX);
  if (trust_fetched_keys(c, keys, n) != ACTOOL_EXIT_OK)
    status = ACTOOL_EXIT_FAILURE;
  discovered_keys_clear(keys, n);
  appc_discovery_clear(&d);
  return status;
}

static int check_add_usage(const struct trust_options *o, int argc, char **argv)
{
  bool from_stdin = false;

  if ((o->prefix == NULL) == !o->root)
    return actool_usage_error("trust", "give exactly one of --prefix=PREFIX and --root");
  if (o->root && argc == 0)
    return actool_usage_error("trust", "--root needs KEYFILE or URL (only a prefix's keys can "
                                       "be discovered)");
  for (int i = 0; i < argc; i++)
    from_stdin = from_stdin || strcmp(argv[i], "-") == 0;
  if (from_stdin && !o->skip_review)
    return actool_usage_error("trust", "a key read from standard input (-) cannot be reviewed "
                                       "there; use --skip-fingerprint-review");
  if (!o->skip_review && !isatty(STDIN_FILENO)) {
    actool_error("trust: standard input is not a terminal, so the key's fingerprint cannot be "
                 "reviewed; use --skip-fingerprint-review to trust it without review");
    return ACTOOL_EXIT_FAILURE;
  }
  return ACTOOL_EXIT_OK;
}

static int run_add(struct trust_ctx *c, int argc, char **argv)
{
  cleanup_error appc_error_t err = NULL;
  int status = ACTOOL_EXIT_OK;

  /* A prefix no key can be trusted for is refused before any key is read
   * or downloaded, and before discovery asks a host about it (as a URL,
   * it would make one of its scheme). */
  if (c->o->prefix != NULL && appc_trust_validate_prefix(c->o->prefix, &err) < 0)
    return actool_fail(&err);
  if (argc == 0)
    return trust_discovered(c);
  for (int i = 0; i < argc; i++)
    if (trust_source(c, argv[i]) != ACTOOL_EXIT_OK)
      status = ACTOOL_EXIT_FAILURE;
  return status;
}

/* ---- listing ---- */

static const char *prefix_column(const struct appc_trust_listed *k)
{
  if (k->prefix == NULL)
    return "(root)";
  return k->prefix[0] != '\0' ? k->prefix : "(none)";
}

static const char *fingerprint_column(const struct appc_trust_listed *k)
{
  const char *slash = strrchr(k->path, '/');

  return k->fingerprint != NULL ? k->fingerprint : slash + 1;
}

static const char *user_id_column(const struct appc_trust_listed *k)
{
  if (k->problem != NULL)
    return "?"; /* named on stderr */
  return k->user_id != NULL ? k->user_id : "";
}

static const struct actool_column columns[] = {
    {"PREFIX", 0}, {"FINGERPRINT", 0}, {"USER-ID", ACTOOL_COL_WIDE}};

static int print_table(struct actool_table *t, const struct appc_trust_listing *l)
{
  for (size_t i = 0; i < l->n; i++) {
    const struct appc_trust_listed *k = &l->v[i];
    const char *cells[] = {prefix_column(k), fingerprint_column(k), user_id_column(k)};
    if (actool_table_add(t, cells) < 0) {
      actool_table_free(t);
      return -1;
    }
  }
  return actool_table_print(t);
}

static json_object *json_string_or_null(const char *s)
{
  return s != NULL ? json_object_new_string(s) : NULL;
}

static int print_json(const struct trust_ctx *c, const struct appc_trust_listing *l)
{
  cleanup_json json_object *a = json_object_new_array();

  for (size_t i = 0; a != NULL && i < l->n; i++) {
    const struct appc_trust_listed *k = &l->v[i];
    cleanup_free char *file = NULL;
    json_object *o = json_object_new_object();
    if (o == NULL || asprintf(&file, "%s/%s", c->store_dir, k->path) < 0)
      return -1;
    json_object_object_add(o, "prefix", json_string_or_null(k->prefix));
    json_object_object_add(o, "fingerprint", json_string_or_null(k->fingerprint));
    json_object_object_add(o, "userID", json_string_or_null(k->user_id));
    json_object_object_add(o, "file", json_object_new_string(file));
    json_object_object_add(o, "problem", json_string_or_null(k->problem));
    json_object_array_add(a, o);
  }
  if (a == NULL)
    return -1;
  actool_print_json(a);
  return 0;
}

/* Listed entries that verification would refuse, on stderr: exit 1. */
static int report_problems(const struct trust_ctx *c, const struct appc_trust_listing *l)
{
  int status = ACTOOL_EXIT_OK;

  for (size_t i = 0; i < l->n; i++) {
    const char *problem = l->v[i].problem;
    if (problem == NULL)
      continue;
    /* A key file's own message names it already. */
    if (strstr(problem, l->v[i].path) != NULL)
      actool_error("%s", problem);
    else
      actool_error("%s/%s: %s", c->store_dir, l->v[i].path, problem);
    status = ACTOOL_EXIT_FAILURE;
  }
  return status;
}

static int run_list(struct trust_ctx *c, int argc)
{
  cleanup_error appc_error_t err = NULL;
  struct appc_trust_listing l;
  int status;

  if (argc != 0)
    return actool_usage_error("trust", "--list takes no KEYFILE or URL");
  struct actool_table_options to = {
      .output = c->o->output, .no_legend = c->o->no_legend, .raw = c->o->raw};
  struct actool_table *t = NULL;
  if (!c->o->json &&
      (status = actool_table_new("trust", columns, ARRAY_SIZE(columns), &to, &t)) != 0)
    return status;
  if (appc_trust_list(c->store, c->o->prefix, c->o->root, &l, &err) < 0) {
    actool_table_free(t);
    return actool_fail_net(&err);
  }
  if (c->o->json) {
    if (print_json(c, &l) < 0)
      out_of_memory();
  } else if (print_table(t, &l) < 0) {
    appc_trust_listing_clear(&l);
    actool_error("trust: cannot print the list");
    return ACTOOL_EXIT_FAILURE;
  }
  status = report_problems(c, &l);
  appc_trust_listing_clear(&l);
  return status;
}

/* ---- removing ---- */

static int run_rm(struct trust_ctx *c, int argc)
{
  cleanup_error appc_error_t err = NULL;
  struct appc_trust_keys removed;
  int r;

  if (argc != 0)
    return actool_usage_error("trust", "--rm takes one FINGERPRINT and no KEYFILE or URL");
  r = appc_trust_remove(c->store, c->o->prefix, c->o->root, c->o->rm, &removed, &err);
  for (size_t i = 0; i < removed.n; i++) {
    const struct appc_trust_key *k = &removed.v[i];
    if (k->prefix != NULL)
      fprintf(stderr, "Removed key %s for prefix \"%s\" (\"%s/%s\")\n", k->fingerprint, k->prefix,
              c->store_dir, k->path);
    else
      fprintf(stderr, "Removed root key %s (\"%s/%s\")\n", k->fingerprint, c->store_dir, k->path);
  }
  appc_trust_keys_clear(&removed);
  /* Not a fingerprint at all: the command line's error. */
  if (r < 0 && err != NULL && err->errnum == EINVAL)
    return actool_usage_error("trust", "--rm: %s", err->msg);
  return r < 0 ? actool_fail_net(&err) : ACTOOL_EXIT_OK;
}

/* ---- the command ---- */

static int check_usage(const struct trust_options *o, int argc, char **argv)
{
  if (o->prefix != NULL && o->prefix[0] == '\0')
    return actool_usage_error("trust", "--prefix needs a non-empty PREFIX");
  if (o->list && o->rm != NULL)
    return actool_usage_error("trust", "--list and --rm cannot be combined");
  if ((o->list || o->rm != NULL) && o->prefix != NULL && o->root)
    return actool_usage_error("trust", "give at most one of --prefix=PREFIX and --root");
  if ((o->json || o->no_legend || o->raw || o->output != NULL) && !o->list)
    return actool_usage_error("trust", "--json, --no-legend, --raw and --output go with --list");
  struct actool_table_options to = {.output = o->output, .no_legend = o->no_legend, .raw = o->raw};
  int r = actool_table_alone("trust", &to, o->json ? "--json" : NULL);
  if (r != 0)
    return r;
  if (o->list || o->rm != NULL)
    return ACTOOL_EXIT_OK;
  return check_add_usage(o, argc, argv);
}

static int run_trust(const struct actool_globals *g, void *options, int argc, char **argv)
{
  const struct trust_options *o = options;
  struct trust_ctx c = {.g = g, .o = o};
  struct appc_store *s = NULL;
  cleanup_error appc_error_t err = NULL;
  int r = check_usage(o, argc, argv);

  if (r != ACTOOL_EXIT_OK)
    return r;
  if (appc_trust_init(&err) < 0)
    return actool_fail_net(&err);
  if ((r = actool_open_store(g, &s)) != ACTOOL_EXIT_OK)
    return r;
  c.store = s;
  c.store_dir = appc_store_path(s);
  if (o->list)
    r = run_list(&c, argc);
  else if (o->rm != NULL)
    r = run_rm(&c, argc);
  else
    r = run_add(&c, argc, argv);
  if (c.http != NULL)
    appc_http_free(c.http);
  appc_store_close(s);
  return r;
}

const struct actool_command actool_cmd_trust = {
    .name = "trust",
    .summary = "Manage the keys trusted to sign images",
    .usage =
        "[--prefix=PREFIX | --root] [--skip-fingerprint-review] [KEYFILE|URL ...]\n"
        "       actool trust --list [--prefix=PREFIX | --root] [--json | [--no-legend] [--raw]\n"
        "                    [--output=COL[,COL]...]]\n"
        "       actool trust --rm FINGERPRINT [--prefix=PREFIX | --root]",
    .description =
        "Trusts each public key (a file, - for standard input, or an https:// URL) for the\n"
        "image names under PREFIX, or with --root for every name.  With --prefix and no key,\n"
        "the keys are discovered from PREFIX's ac-discovery-pubkeys (one key per URL).\n"
        "Each key is shown (fingerprint, user IDs) and trusted only when the answer is\n"
        "\"yes\"; without a terminal on standard input, --skip-fingerprint-review is needed.\n"
        "Progress goes to stderr; stdout gets the fingerprint of each key trusted, one per\n"
        "line.  Adding a key that is trusted already merges in what it brings (a revocation).\n"
        "\n"
        "--list prints PREFIX, FINGERPRINT and USER-ID of each key file (root keys show\n"
        "\"(root)\"), and exits 1 after naming any file that verification would refuse.\n"
        "--rm removes the key files of FINGERPRINT (all 40 hex digits) from PREFIX, the\n"
        "root keys, or when neither is given, everywhere.  Keys live in DIR/trust\n"
        "(actool-trust(1), actool-store(5)).",
    .options = trust_option_table,
    .options_size = sizeof(struct trust_options),
    .run = run_trust,
    .operands_nonempty = true,
};
