/* SPDX-License-Identifier: Apache-2.0 */
/* Manifests written in YAML: the document is loaded by libyaml and mapped
 * onto exactly the JSON document it stands for, which the JSON schema code
 * then judges, so that a YAML manifest and its JSON form are one manifest
 * (and build gives one image ID).  Plain scalars are typed by the YAML 1.2
 * core schema (null, true/false, integers, floats; anything else a
 * string); quoted and block scalars are strings.  While mapping, the line
 * of every field is noted, so that a schema error naming a field path
 * ("labels[0].value") names the YAML line too. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <yaml.h>

#include "appc/schema.h"
#include "common/array.h"
#include "common/cleanup.h"
#include "common/hashmap.h"
#include "common/lazy.h"

/* Aliases let a small document stand for a huge one ("billion laughs") or
 * for an endless one (an alias of its own ancestor): both are bounded.  The
 * document as written is bounded too, before libyaml loads it (shape_ok):
 * its scanner takes time quadratic in the depth of flow nesting, its
 * loader time quadratic in the number of anchors, and its tree of a 16 MiB
 * file of values ("[a,a,...]") takes over a gigabyte. */
#define YAML_MAX_DEPTH 64
#define YAML_MAX_NODES 200000
/* Far more than any manifest has any use for.  libyaml's loader looks each
 * anchor and alias up in a list of the anchors: 200,000 aliases of the last
 * of 256 anchors cost 50 million string comparisons, a tenth of a second. */
#define YAML_MAX_ANCHORS 256
/* The text of the values and keys once aliases are expanded: no manifest
 * is larger (APPC_MANIFEST_MAX), while 1,000 aliases of one 1 MiB string
 * are a 1 MB file that would take gigabytes.  Nor is the file. */
#define YAML_MAX_BYTES APPC_MANIFEST_MAX
#define YAML_MAX_INPUT APPC_MANIFEST_MAX

struct field_line {
  char *path;
  unsigned long line;
};

struct line_map {
  struct field_line *v;
  size_t n, cap;
};

struct mapper {
  yaml_document_t *doc;
  const char *where;
  size_t nodes;
  size_t bytes;          /* of scalars and keys, aliases expanded */
  struct line_map lines; /* of each field's value, for errors */
  struct line_map keys;  /* of each mapping key, for unknown-key warnings */
  bool want_lines, want_keys;
  appc_error_t *err;
};

static void map_clear(struct line_map *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i].path);
  free(l->v);
  *l = (struct line_map){0};
}

static void lines_clear(struct mapper *m)
{
  map_clear(&m->lines);
  map_clear(&m->keys);
}

static int note_in(struct mapper *m, struct line_map *l, const char *path, const yaml_node_t *node)
{
  char *copy;

  if ((copy = strdup(path)) == NULL || APPC_ARRAY_RESERVE(l->v, l->cap, l->n + 1) < 0) {
    free(copy);
    return appc_error_make(m->err, ENOMEM, "%s", m->where);
  }
  l->v[l->n].path = copy;
  l->v[l->n++].line = (unsigned long) node->start_mark.line + 1;
  return 0;
}

static int note_line(struct mapper *m, const char *path, const yaml_node_t *node)
{
  if (!m->want_lines || *path == '\0')
    return 0;
  return note_in(m, &m->lines, path, node);
}

static int fail_at(struct mapper *m, const yaml_node_t *node, const char *why)
{
  return appc_error_make(m->err, 0, "%s:%lu:%lu: %s", m->where,
                         (unsigned long) node->start_mark.line + 1,
                         (unsigned long) node->start_mark.column + 1, why);
}

/* ---- scalars ---- */

/* The core schema's forms, scanned rather than matched by a regular
 * expression (a regcomp per scalar would cost more than the rest). */
static bool one_of(const char *s, const char *a, const char *b, const char *c)
{
  return strcmp(s, a) == 0 || strcmp(s, b) == 0 || strcmp(s, c) == 0;
}

static size_t digits(const char *s, const char *set)
{
  return strspn(s, set);
}

/* [-+]?[0-9]+ */
static bool is_decimal(const char *s)
{
  s += *s == '-' || *s == '+';
  size_t n = digits(s, "0123456789");
  return n > 0 && s[n] == '\0';
}

/* PREFIX followed by one or more of SET */
static bool is_based(const char *s, const char *prefix, const char *set)
{
  size_t p = strlen(prefix);
  return strncmp(s, prefix, p) == 0 && digits(s + p, set) > 0 && s[p + digits(s + p, set)] == '\0';
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *s)
{
  static const char dec[] = "0123456789";
  size_t n;

  s += *s == '-' || *s == '+';
  if (*s == '.') {
    if ((n = digits(s + 1, dec)) == 0)
      return false;
    s += 1 + n;
  } else {
    if ((n = digits(s, dec)) == 0)
      return false;
    s += n;
    if (*s == '.')
      s += 1 + digits(s + 1, dec);
  }
  if (*s == 'e' || *s == 'E') {
    s++;
    s += *s == '-' || *s == '+';
    if ((n = digits(s, dec)) == 0)
      return false;
    s += n;
  }
  return *s == '\0';
}

static bool is_special_float(const char *s)
{
  const char *t = s + (*s == '-' || *s == '+');
  return one_of(t, ".inf", ".Inf", ".INF") || one_of(s, ".nan", ".NaN", ".NAN");
}

static json_object *integer(const char *s, int base, bool *range)
{
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, base);

  *range = errno == ERANGE || *end != '\0';
  return *range ? NULL : json_object_new_int64(v);
}

/* The JSON value of a plain scalar, by the YAML 1.2 core schema. */
static int plain_scalar(struct mapper *m, const yaml_node_t *node, const char *s, json_object **out)
{
  bool bad = false;

  *out = NULL;
  if (*s == '\0' || strcmp(s, "~") == 0 || one_of(s, "null", "Null", "NULL"))
    return 0; /* JSON null */
  if (one_of(s, "true", "True", "TRUE")) {
    *out = json_object_new_boolean(1);
  } else if (one_of(s, "false", "False", "FALSE")) {
    *out = json_object_new_boolean(0);
  } else if (is_decimal(s)) {
    *out = integer(s, 10, &bad);
  } else if (is_based(s, "0o", "01234567")) {
    *out = integer(s + 2, 8, &bad);
  } else if (is_based(s, "0x", "0123456789abcdefABCDEF")) {
    *out = integer(s + 2, 16, &bad);
  } else if (is_float(s)) {
    double d = strtod(s, NULL);
    if (!isfinite(d))
      bad = true;
    else
      *out = json_object_new_double(d);
  } else if (is_special_float(s)) {
    return fail_at(m, node, "infinity and NaN have no JSON form");
  } else {
    *out = json_object_new_string(s);
  }
  if (bad)
    return fail_at(m, node, "a number out of range");
  if (*out == NULL)
    return appc_error_make(m->err, ENOMEM, "%s", m->where);
  return 0;
}

/* LEN more bytes of text, aliases expanded: within YAML_MAX_BYTES? */
static int count_bytes(struct mapper *m, const yaml_node_t *node, size_t len)
{
  m->bytes += len;
  if (m->bytes > YAML_MAX_BYTES)
    return fail_at(m, node, "too much text once aliases are expanded (more than 16 MiB)");
  return 0;
}

static int scalar(struct mapper *m, const yaml_node_t *node, json_object **out)
{
  const char *s = (const char *) node->data.scalar.value;

  if (count_bytes(m, node, node->data.scalar.length) < 0)
    return -1;
  if (strlen(s) != node->data.scalar.length)
    return fail_at(m, node, "a NUL character in a scalar");
  /* Quoted and block scalars are strings.  (libyaml's loader gives every
   * untagged scalar the tag !!str, so a tag tells nothing: quote a string
   * that looks like a number.) */
  if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
    if ((*out = json_object_new_string_len(s, (int) node->data.scalar.length)) == NULL)
      return appc_error_make(m->err, ENOMEM, "%s", m->where);
    return 0;
  }
  return plain_scalar(m, node, s, out);
}

/* ---- the tree ---- */

static int map_node(struct mapper *m, const yaml_node_t *node, const char *path, unsigned depth,
                    json_object **out);

static int sequence(struct mapper *m, const yaml_node_t *node, const char *path, unsigned depth,
                    json_object **out)
{
  json_object *a = json_object_new_array();
  size_t i = 0;

  if (a == NULL)
    return appc_error_make(m->err, ENOMEM, "%s", m->where);
  for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top;
       it++, i++) {
    cleanup_free char *sub = NULL;
    json_object *v = NULL;
    if (asprintf(&sub, "%s[%zu]", path, i) < 0) {
      sub = NULL;
      json_object_put(a);
      return appc_error_make(m->err, ENOMEM, "%s", m->where);
    }
    if (map_node(m, yaml_document_get_node(m->doc, *it), sub, depth + 1, &v) < 0 ||
        json_object_array_add(a, v) < 0) {
      json_object_put(a);
      return -1;
    }
  }
  *out = a;
  return 0;
}

static int mapping(struct mapper *m, const yaml_node_t *node, const char *path, unsigned depth,
                   json_object **out)
{
  json_object *o = json_object_new_object();

  if (o == NULL)
    return appc_error_make(m->err, ENOMEM, "%s", m->where);
  for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
       p++) {
    const yaml_node_t *k = yaml_document_get_node(m->doc, p->key);
    cleanup_free char *sub = NULL;
    json_object *v = NULL;
    if (k == NULL || k->type != YAML_SCALAR_NODE) {
      json_object_put(o);
      return fail_at(m, k != NULL ? k : node, "a mapping key must be a string");
    }
    const char *key = (const char *) k->data.scalar.value;
    if (count_bytes(m, k, k->data.scalar.length) < 0) {
      json_object_put(o);
      return -1;
    }
    if (json_object_object_get_ex(o, key, NULL)) {
      json_object_put(o);
      return fail_at(m, k, "a key given twice in one mapping");
    }
    if (asprintf(&sub, "%s%s%s", path, *path != '\0' ? "." : "", key) < 0) {
      sub = NULL;
      json_object_put(o);
      return appc_error_make(m->err, ENOMEM, "%s", m->where);
    }
    if (m->want_keys && note_in(m, &m->keys, sub, k) < 0) {
      json_object_put(o);
      return -1;
    }
    if (map_node(m, yaml_document_get_node(m->doc, p->value), sub, depth + 1, &v) < 0 ||
        json_object_object_add(o, key, v) < 0) {
      json_object_put(o);
      return -1;
    }
  }
  *out = o;
  return 0;
}

static int map_node(struct mapper *m, const yaml_node_t *node, const char *path, unsigned depth,
                    json_object **out)
{
  *out = NULL;
  if (node == NULL)
    return appc_error_make(m->err, 0, "%s: a broken YAML document", m->where);
  if (depth > YAML_MAX_DEPTH)
    return fail_at(m, node, "nested too deeply (an alias of its own ancestor?)");
  if (++m->nodes > YAML_MAX_NODES)
    return fail_at(m, node, "too many values (aliases expanding without end?)");
  if (note_line(m, path, node) < 0)
    return -1;
  switch (node->type) {
  case YAML_SCALAR_NODE:
    return scalar(m, node, out);
  case YAML_SEQUENCE_NODE:
    return sequence(m, node, path, depth, out);
  case YAML_MAPPING_NODE:
    return mapping(m, node, path, depth, out);
  default:
    return fail_at(m, node, "an empty node");
  }
}

/* ---- the document ---- */

static int parse_error(const yaml_parser_t *p, const char *where, appc_error_t *err)
{
  return appc_error_make(
      err, 0, "%s:%lu:%lu: %s%s%s", where, (unsigned long) p->problem_mark.line + 1,
      (unsigned long) p->problem_mark.column + 1, p->problem != NULL ? p->problem : "not YAML",
      p->context != NULL ? " " : "", p->context != NULL ? p->context : "");
}

/* The open collections while the events go by: whether each is a mapping
 * and, if so, whether its next node is a key (keys are not values, as
 * map_node counts them). */
struct shape {
  unsigned open;
  bool too_deep; /* a node inside more than YAML_MAX_DEPTH collections */
  bool mapping[YAML_MAX_DEPTH + 1], key_next[YAML_MAX_DEPTH + 1];
  size_t values, anchors;
};

/* Is S out of bounds?  Say so at MARK. */
static int shape_error(const struct shape *s, const char *where, yaml_mark_t mark,
                       appc_error_t *err)
{
  unsigned long line = (unsigned long) mark.line + 1, column = (unsigned long) mark.column + 1;

  if (s->too_deep)
    return appc_error_make(err, 0, "%s:%lu:%lu: nested deeper than %d levels", where, line, column,
                           YAML_MAX_DEPTH);
  if (s->values > YAML_MAX_NODES)
    return appc_error_make(err, 0, "%s:%lu:%lu: more than %d values", where, line, column,
                           YAML_MAX_NODES);
  if (s->anchors > YAML_MAX_ANCHORS)
    return appc_error_make(err, 0, "%s:%lu:%lu: more than %d anchors", where, line, column,
                           YAML_MAX_ANCHORS);
  return 0;
}

/* Account for event E, in S.  The same bounds as map_node's, on the
 * document as written (no node inside more than 64 collections, at most
 * 200,000 values), so that what is refused here the mapper would have
 * refused, only later. */
static void shape_event(struct shape *s, const yaml_event_t *e)
{
  const yaml_char_t *anchor = NULL;

  switch (e->type) {
  case YAML_SEQUENCE_END_EVENT:
  case YAML_MAPPING_END_EVENT:
    s->open--;
    return;
  case YAML_SCALAR_EVENT:
    anchor = e->data.scalar.anchor;
    break;
  case YAML_SEQUENCE_START_EVENT:
    anchor = e->data.sequence_start.anchor;
    break;
  case YAML_MAPPING_START_EVENT:
    anchor = e->data.mapping_start.anchor;
    break;
  case YAML_ALIAS_EVENT:
    break;
  default:
    return;
  }
  /* a node of the innermost open collection: in a mapping, key and value
   * by turns */
  bool in_mapping = s->open > 0 && s->open <= YAML_MAX_DEPTH && s->mapping[s->open - 1];
  if (in_mapping)
    s->key_next[s->open - 1] = !s->key_next[s->open - 1];
  s->values += !in_mapping || s->key_next[s->open - 1];
  s->anchors += anchor != NULL;
  s->too_deep |= s->open > YAML_MAX_DEPTH;
  if (s->open <= YAML_MAX_DEPTH &&
      (e->type == YAML_SEQUENCE_START_EVENT || e->type == YAML_MAPPING_START_EVENT)) {
    s->mapping[s->open] = e->type == YAML_MAPPING_START_EVENT;
    s->key_next[s->open] = true;
  }
  s->open += e->type == YAML_SEQUENCE_START_EVENT || e->type == YAML_MAPPING_START_EVENT;
}

/* Is the text of P within the bounds?  Checked event by event, so that a
 * hostile document is refused after a few of them. */
static int shape_ok(yaml_parser_t *p, const char *where, appc_error_t *err)
{
  struct shape s = {0};
  yaml_event_t e;

  for (;;) {
    if (!yaml_parser_parse(p, &e))
      return parse_error(p, where, err);
    bool end = e.type == YAML_STREAM_END_EVENT;
    yaml_mark_t mark = e.start_mark;
    shape_event(&s, &e);
    yaml_event_delete(&e);
    if (shape_error(&s, where, mark, err) < 0)
      return -1;
    if (end)
      return 0;
  }
}

static int load(yaml_parser_t *p, yaml_document_t *doc, const char *where, appc_error_t *err)
{
  yaml_document_t extra;

  if (!yaml_parser_load(p, doc))
    return parse_error(p, where, err);
  if (yaml_document_get_root_node(doc) == NULL) {
    yaml_document_delete(doc);
    return appc_error_make(err, 0, "%s: no YAML document", where);
  }
  if (!yaml_parser_load(p, &extra)) {
    yaml_document_delete(doc);
    return appc_error_make(err, 0, "%s:%lu: after the document: %s", where,
                           (unsigned long) p->problem_mark.line + 1,
                           p->problem != NULL ? p->problem : "not YAML");
  }
  bool more = yaml_document_get_root_node(&extra) != NULL;
  yaml_document_delete(&extra);
  if (more) {
    yaml_document_delete(doc);
    return appc_error_make(err, 0, "%s: more than one YAML document", where);
  }
  return 0;
}

static int yaml_to_json(struct mapper *m, const char *yaml, size_t len, char **json,
                        size_t *json_len)
{
  yaml_parser_t parser;
  yaml_document_t doc;
  json_object *root = NULL;
  int r;

  if (len > YAML_MAX_INPUT)
    return appc_error_make(m->err, EFBIG, "%s: larger than %u bytes", m->where, YAML_MAX_INPUT);
  if (appc_lazy_bind(APPC_LAZY_YAML, m->err) < 0)
    return appc_error_prefix(m->err, "%s", m->where);
  /* Two passes over the text: the events, to refuse what is out of bounds
   * cheaply, then the loader's. */
  for (int pass = 0; pass < 2; pass++) {
    if (!yaml_parser_initialize(&parser))
      return appc_error_make(m->err, ENOMEM, "%s", m->where);
    yaml_parser_set_input_string(&parser, (const unsigned char *) yaml, len);
    r = pass == 0 ? shape_ok(&parser, m->where, m->err) : load(&parser, &doc, m->where, m->err);
    yaml_parser_delete(&parser);
    if (r < 0)
      return -1;
  }
  m->doc = &doc;
  r = map_node(m, yaml_document_get_root_node(&doc), "", 0, &root);
  yaml_document_delete(&doc);
  m->doc = NULL;
  if (r < 0)
    return -1;
  const char *text =
      json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  *json = text != NULL ? strdup(text) : NULL;
  json_object_put(root);
  if (*json == NULL)
    return appc_error_make(m->err, ENOMEM, "%s", m->where);
  *json_len = strlen(*json);
  return 0;
}

int appc_yaml_to_json(const char *yaml, size_t len, const char *where, char **json,
                      size_t *json_len, appc_error_t *err)
{
  struct mapper m = {.where = where, .err = err};

  *json = NULL;
  *json_len = 0;
  return yaml_to_json(&m, yaml, len, json, json_len);
}

/* ---- schema errors, by line ---- */

/* Does MSG name PATH as a field: at its start or after a space, followed by
 * ':' or a space? */
static bool names_field(const char *msg, const char *path)
{
  size_t n = strlen(path);

  for (const char *p = strstr(msg, path); p != NULL; p = strstr(p + 1, path))
    if ((p == msg || p[-1] == ' ') && (p[n] == ':' || p[n] == ' '))
      return true;
  return false;
}

/* Prefix *ERR with WHERE and the line of the longest field path it names. */
static void blame_line(const struct mapper *m, appc_error_t *err)
{
  const struct field_line *best = NULL;

  for (size_t i = 0; i < m->lines.n; i++)
    if ((best == NULL || strlen(m->lines.v[i].path) > strlen(best->path)) &&
        names_field((*err)->msg, m->lines.v[i].path))
      best = &m->lines.v[i];
  if (best != NULL)
    appc_error_prefix(err, "%s:%lu", m->where, best->line);
  else
    appc_error_prefix(err, "%s", m->where);
}

/* ---- unknown keys, by line ---- */

struct yaml_warn {
  const struct mapper *m;
  appc_yaml_unknown_key_fn fn;
  void *data;
  /* the keys' paths to their index in m->keys, made at the first unknown
   * key: a look-up each, not a walk over 200,000 keys for each of them */
  struct appc_strindex index;
  bool indexed;
};

static unsigned long key_line(struct yaml_warn *w, const char *path)
{
  if (!w->indexed) {
    w->indexed = true;
    for (size_t i = 0; i < w->m->keys.n; i++)
      if (appc_strindex_add(&w->index, w->m->keys.v[i].path, i) < 0)
        break; /* out of memory: the keys not indexed have no line */
  }
  ssize_t i = appc_strindex_find(&w->index, path);
  return i >= 0 ? w->m->keys.v[i].line : 0;
}

/* The JSON parser's report of an unknown key, passed on with its line. */
static void warn_at_line(void *data, const char *path, const char *suggestion)
{
  struct yaml_warn *w = data;

  w->fn(w->data, path, key_line(w, path), suggestion);
}

int appc_image_manifest_parse_yaml(const char *yaml, size_t len, const char *where,
                                   struct appc_image_manifest **out, char **json, size_t *json_len,
                                   appc_error_t *err)
{
  return appc_image_manifest_parse_yaml_warn(yaml, len, where, out, json, json_len, NULL, NULL,
                                             err);
}

int appc_image_manifest_parse_yaml_warn(const char *yaml, size_t len, const char *where,
                                        struct appc_image_manifest **out, char **json,
                                        size_t *json_len, appc_yaml_unknown_key_fn fn, void *data,
                                        appc_error_t *err)
{
  struct mapper m = {.where = where, .err = err, .want_lines = true, .want_keys = fn != NULL};
  struct yaml_warn w = {.m = &m, .fn = fn, .data = data};
  cleanup_free char *text = NULL;
  size_t n = 0;
  int r;

  *out = NULL;
  if (json != NULL)
    *json = NULL;
  r = yaml_to_json(&m, yaml, len, &text, &n);
  /* The unknown-key check of JSON manifests, on the document the YAML
   * stands for: the same field paths, and the line of each key. */
  if (r == 0 &&
      appc_image_manifest_parse_warn(text, n, out, fn != NULL ? warn_at_line : NULL, &w, err) < 0) {
    blame_line(&m, err);
    r = -1;
  }
  appc_strindex_clear(&w.index);
  lines_clear(&m);
  /* The canonical form: what the manifest says, not how YAML spelled it. */
  if (r == 0 && json != NULL && appc_image_manifest_serialize(*out, 0, json, json_len, err) < 0) {
    appc_image_manifest_free(*out);
    *out = NULL;
    r = -1;
  }
  return r;
}
