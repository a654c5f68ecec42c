/* SPDX-License-Identifier: Apache-2.0 */
/* Internal JSON layer of the schema module (not part of the public API).
 *
 * Parsing (json-scan.c) is one linear pass that follows Go's encoding/json
 * grammar and nesting limit (plus UTF-8 validation, which the spec asks for
 * and Go does not do) and builds a small tree of its own that keeps what
 * Go's decoder sees: every member of an object in document order, repeated
 * keys included, and the source text of every value.  Decoding the tree into
 * C structures (json-decode.c) then mimics how Go's encoding/json fills the
 * reference's structs: keys match field names exactly or else
 * case-insensitively, unknown keys are ignored, null leaves the zero value,
 * and a wrong JSON type is an error.  Writing (json-write.c) produces Go's
 * json.Marshal or json.MarshalIndent text.
 */
#ifndef APPC_SCHEMA_JSON_H
#define APPC_SCHEMA_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "appc/error.h"
#include "common/macros.h"
#include "appc/manifest.h"
#include "appc/schema.h"

/* Nesting limit for arrays and objects.  Go's encoding/json allows 10000,
 * but its goroutine stacks grow; ours do not.  Parsing, decoding and
 * writing all recurse once per level, so the limit must fit in every build
 * (ASan frames are several times larger) under a 1 MiB stack (`ulimit -s
 * 1024`): at 512 levels an ASan build uses about a third of it.  Manifests
 * need a handful of levels; a deeper text is refused with an error naming
 * this limit (docs/conformance.md). */
#define APPC_JSON_MAX_DEPTH 512

/* json-c trees (built outside the schema module, see appc_json_render()). */
static inline void appc_json_putp(struct json_object **o)
{
  if (*o != NULL)
    json_object_put(*o);
}
#define cleanup_json __attribute__((cleanup(appc_json_putp)))

/* ---- the parsed tree (json-scan.c) */

enum appc_jkind { APPC_JNULL, APPC_JBOOL, APPC_JNUMBER, APPC_JSTRING, APPC_JARRAY, APPC_JOBJECT };

/* One value of a parsed text.  Its pointers point into the tree's arena or
 * into the parsed text, which must outlive the tree. */
struct appc_jnode {
  enum appc_jkind kind;
  bool boolean; /* APPC_JBOOL: its value */
  bool escaped; /* APPC_JSTRING: the source has escapes */
  bool nul;     /* APPC_JSTRING: TEXT holds U+0000, which no C string can */
  bool key_nul; /* the same for KEY */
  /* APPC_JSTRING: the decoded text; APPC_JNUMBER: the literal, which Go's
   * decoder reads as it was written.  NUL-terminated. */
  const char *text;
  size_t len;      /* bytes of TEXT; for an array or object, its members */
  const char *src; /* the value's source text (a string's with its quotes) */
  size_t src_len;
  /* A member of an object: its key, decoded and NUL-terminated, and the
   * key's source text; NULL otherwise. */
  const char *key;
  const char *key_src;
  size_t key_src_len;
  struct appc_jnode *first; /* an array's or object's first member */
  struct appc_jnode *next;  /* the next member of the same array or object */
};

/* JSON null reads as NULL: what the decoders take for it. */
static inline const struct appc_jnode *appc_jvalue(const struct appc_jnode *v)
{
  return v->kind == APPC_JNULL ? NULL : v;
}

struct appc_jchunk;
struct appc_jtree {
  const struct appc_jnode *root;
  struct appc_jchunk *chunks; /* the arena holding the tree, newest chunk first */
};

void appc_jtree_free(struct appc_jtree *t);
static inline void appc_jtree_freep(struct appc_jtree **t)
{
  appc_jtree_free(*t);
}
#define cleanup_jtree __attribute__((cleanup(appc_jtree_freep)))

/* Check BUF against the JSON grammar and parse it; BUF must outlive *OUT.
 * The top-level value must be an object.  Errors say "invalid JSON at line
 * L, column C: ...". */
int appc_json_parse(const char *buf, size_t len, struct appc_jtree **out, appc_error_t *err);
/* The same for a NUL-terminated JSON text whose value may be of any type. */
int appc_json_parse_value(const char *text, struct appc_jtree **out, appc_error_t *err);

/* ---- JSON path of the value being decoded, for error messages */

#define APPC_JPATH_MAX 256

struct appc_jctx {
  char path[APPC_JPATH_MAX];
  size_t len;
  appc_error_t *err;
  /* Called for each key of an object that its decoder does not know (Go
   * ignores them): see appc_unknown_key_fn.  May be NULL. */
  appc_unknown_key_fn unknown;
  void *unknown_data;
};

size_t appc_jpath_key(struct appc_jctx *c, const char *key);
size_t appc_jpath_index(struct appc_jctx *c, size_t index);
void appc_jpath_restore(struct appc_jctx *c, size_t mark);
/* Append a path suffix such as ".ports[2].count" (FMT includes its leading
 * '.' or '['); returns the mark to restore. */
size_t appc_jpath_add(struct appc_jctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Store "PATH: MESSAGE" in *c->err and return -1. */
int appc_jerr(struct appc_jctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* appc_jerr() on the member KEY of the current value: "PATH.KEY: MESSAGE". */
int appc_jerr_at(struct appc_jctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix the error a validator stored with the current path; returns -1. */
int appc_jfail(struct appc_jctx *c);

/* ---- decoding */

/* Decode a JSON value (NULL for JSON null, see appc_jvalue()) into TARGET. */
typedef int (*appc_jdecode_fn)(struct appc_jctx *c, const struct appc_jnode *v, void *target);
typedef void (*appc_jfree_fn)(void *elem);

struct appc_jfield {
  const char *name; /* the reference's JSON field name */
  appc_jdecode_fn decode;
  size_t offset; /* of the C member within the target structure */
};

/* Decode the object V into TARGET field by field, in document order, as Go
 * does: every occurrence of a repeated key (exact or case variant) is
 * decoded and validated, and the last one wins.  Decoders walk the members;
 * they must not look keys up. */
int appc_jdecode_object(struct appc_jctx *c, const struct appc_jnode *v,
                        const struct appc_jfield *fields, size_t n_fields, void *target);
/* The same over the whole array FIELDS, so that a field added to a table
 * cannot be left out of its count. */
#define appc_jdecode_fields(c, v, fields, target)                                                  \
  appc_jdecode_object((c), (v), (fields), ARRAY_SIZE(fields), (target))

/* Decode an array: null empties the list and leaves *ITEMS NULL (Go's nil
 * slice), an empty array leaves a non-NULL *ITEMS and *LEN 0; each element is
 * appended zeroed and decoded by DECODE (which gets NULL for a null element). */
int appc_jdecode_array(struct appc_jctx *c, const struct appc_jnode *v, void **items, size_t *len,
                       size_t elem_size, appc_jdecode_fn decode, appc_jfree_fn free_elem);
void appc_jfree_array(void **items, size_t *len, size_t elem_size, appc_jfree_fn free_elem);

/* Go's name for the JSON type of V, for "expected a string, got number". */
const char *appc_jtype_name(const struct appc_jnode *v);

/* Scalars.  null leaves the target unchanged. */
int appc_jdecode_string(struct appc_jctx *c, const struct appc_jnode *v,
                        void *target /* char ** */);
int appc_jdecode_bool(struct appc_jctx *c, const struct appc_jnode *v, void *target /* bool * */);
int appc_jdecode_int64(struct appc_jctx *c, const struct appc_jnode *v,
                       void *target /* int64_t * */);
int appc_jdecode_uint64(struct appc_jctx *c, const struct appc_jnode *v,
                        void *target /* uint64_t * */);
/* Read V as a string that must be present (null gives ""), then check it with
 * VALIDATE; used for the reference's types that validate on unmarshalling. */
int appc_jdecode_checked(struct appc_jctx *c, const struct appc_jnode *v, char **target,
                         int (*validate)(const char *, appc_error_t *));
int appc_jdecode_acidentifier(struct appc_jctx *c, const struct appc_jnode *v, void *target);
int appc_jdecode_acname(struct appc_jctx *c, const struct appc_jnode *v, void *target);
int appc_jdecode_semver(struct appc_jctx *c, const struct appc_jnode *v, void *target);
int appc_jdecode_hash(struct appc_jctx *c, const struct appc_jnode *v, void *target);
int appc_jdecode_ackind(struct appc_jctx *c, const struct appc_jnode *v, void *target);

/* Lists and maps. */
int appc_jdecode_string_list(struct appc_jctx *c, const struct appc_jnode *v, void *target);
int appc_jdecode_int64_list(struct appc_jctx *c, const struct appc_jnode *v, int64_t **items,
                            size_t *len);
int appc_jdecode_string_map(struct appc_jctx *c, const struct appc_jnode *v, void *target);
int appc_jdecode_labels(struct appc_jctx *c, const struct appc_jnode *v, void *target);
int appc_jdecode_annotations(struct appc_jctx *c, const struct appc_jnode *v, void *target);
int appc_jdecode_environment(struct appc_jctx *c, const struct appc_jnode *v, void *target);

/* Read the raw text a Go json.RawMessage would hold for a quantity: the
 * source text between the quotes of a string (escapes not decoded) or the
 * literal of a number.  Returns NULL for other types.  *ESCAPED tells
 * whether a string was written with escapes. */
char *appc_jraw_scalar(const struct appc_jnode *v, bool *escaped);

/* Parse the JSON object TEXT[0..LEN) and decode it into TARGET. */
int appc_jdecode_text(struct appc_jctx *c, const char *text, size_t len, appc_jdecode_fn decode,
                      void *target);

/* ---- releasing */

void appc_string_list_clear(struct appc_string_list *l);
void appc_kv_list_clear(struct appc_kv_list *l);
char *appc_strdup_or_null(const char *s);
int appc_string_list_dup(struct appc_string_list *dst, const struct appc_string_list *src);

/* ---- writing (json-write.c) */

/* Text as Go's json.Marshal, or json.MarshalIndent(v, "", "    ") with
 * APPC_JSON_PRETTY, writes it, built call by call: keys and values in
 * order, the commas and indentation added here.  Out of memory is
 * remembered and reported once, by appc_jw_finish(). */
struct appc_jw {
  char *s;
  size_t len, cap;
  int depth;
  bool pretty;
  bool first;     /* nothing written yet in the innermost open container */
  bool after_key; /* a key was written: its value comes next */
  bool failed;
};

/* FLAGS are APPC_JSON_* of schema.h. */
void appc_jw_init(struct appc_jw *w, int flags);
/* Hand the text to *OUT (its length to *OUT_LEN unless NULL), or fail with
 * ENOMEM and the message WHAT. */
int appc_jw_finish(struct appc_jw *w, char **out, size_t *out_len, const char *what,
                   appc_error_t *err);
void appc_jw_begin_object(struct appc_jw *w);
void appc_jw_end_object(struct appc_jw *w);
void appc_jw_begin_array(struct appc_jw *w);
void appc_jw_end_array(struct appc_jw *w);
void appc_jw_key(struct appc_jw *w, const char *key);
void appc_jw_string(struct appc_jw *w, const char *s);
void appc_jw_int(struct appc_jw *w, int64_t n);
void appc_jw_uint(struct appc_jw *w, uint64_t n);
void appc_jw_bool(struct appc_jw *w, bool b);
void appc_jw_null(struct appc_jw *w);
/* KEY and the string S; nothing when S is NULL (an absent optional value). */
void appc_jw_field_string(struct appc_jw *w, const char *key, const char *s);
/* KEY and the SemVer S (validated) as Go's SemVer marshals it: the three
 * numbers without leading zeros, an empty pre-release or build part
 * dropped ("00.08.011+" is "0.8.11"). */
void appc_jw_field_semver(struct appc_jw *w, const char *key, const char *s);

/* The array of the N elements of SIZE bytes at ITEMS, each written by ELEM,
 * or null when ITEMS is NULL: a Go nil slice, which a field without
 * omitempty serialises as null.  See manifest.h on NULL and empty lists. */
typedef void (*appc_jw_elem_fn)(struct appc_jw *w, const void *elem);
void appc_jw_array(struct appc_jw *w, const void *items, size_t n, size_t size,
                   appc_jw_elem_fn elem);
void appc_jw_string_list(struct appc_jw *w, const struct appc_string_list *l);
void appc_jw_kv_list(struct appc_jw *w, const struct appc_kv_list *l);
/* A Go map[string]string: an object. */
void appc_jw_string_map(struct appc_jw *w, const struct appc_kv_list *l);
/* KEY and the array or object, for an omitempty field: nothing when there
 * are no elements. */
void appc_jw_field_array(struct appc_jw *w, const char *key, const void *items, size_t n,
                         size_t size, appc_jw_elem_fn elem);
void appc_jw_field_kv_list(struct appc_jw *w, const char *key, const struct appc_kv_list *l);
void appc_jw_field_string_map(struct appc_jw *w, const char *key, const struct appc_kv_list *l);

/* The parsed value V as a json.RawMessage holding its source would be
 * written (an isolator value): numbers and strings as in the source, keys
 * as Go writes them (but for one holding U+0000, written as it was). */
void appc_jw_raw(struct appc_jw *w, const struct appc_jnode *v);
/* Render OBJ, a json-c tree built by the caller, as Go would (FLAGS are
 * APPC_JSON_* of schema.h). */
int appc_json_render(struct json_object *obj, int flags, char **out, size_t *out_len,
                     appc_error_t *err);

/* Builders of json-c trees, for text that is not a manifest (patch-manifest's
 * isolator values, the metadata service).  They return -1 (or NULL) only
 * when out of memory. */
int appc_jput(struct json_object *obj, const char *key, struct json_object *val);
int appc_jput_string(struct json_object *obj, const char *key, const char *s);
struct json_object *appc_jstring_list(const struct appc_string_list *l);
struct json_object *appc_jkv_list(const struct appc_kv_list *l);

#endif
