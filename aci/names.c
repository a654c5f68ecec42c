/* SPDX-License-Identifier: Apache-2.0 */
/* Archive member names: canonical forms and duplicate detection. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aci/internal.h"
#include "common/cleanup.h"

/* Append the component [s, s+n) to the canonical name being built in OUT. */
static void append_component(char *out, size_t *len, const char *s, size_t n)
{
  if (*len > 0)
    out[(*len)++] = '/';
  memcpy(out + *len, s, n);
  *len += n;
  out[*len] = '\0';
}

int appc_entry_name_canon(const char *raw, char **out, appc_error_t *err)
{
  size_t rawlen = strlen(raw);
  size_t len = 0;
  cleanup_free char *canon = malloc(rawlen + 1);

  if (canon == NULL)
    return appc_error_make(err, ENOMEM, "%s", raw);
  canon[0] = '\0';
  /* An absolute name would be extracted outside the image's root. */
  if (raw[0] == '/')
    return appc_error_make(err, 0, "%s: absolute path in image", raw);
  for (const char *p = raw; *p != '\0';) {
    size_t n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return appc_error_make(err, 0, "%s: path escapes the image", raw);
    /* "." and empty components ("a//b", "./a", "a/") name nothing. */
    if (n > 0 && !(n == 1 && p[0] == '.'))
      append_component(canon, &len, p, n);
    p += n;
    if (*p == '/')
      p++;
  }
  *out = steal_pointer(&canon);
  return 0;
}

/* FNV-1a: small, fast and good enough for path names. */
static uint64_t str_hash(const char *s)
{
  uint64_t h = 14695981039346656037ull;
  for (; *s != '\0'; s++) {
    h ^= (unsigned char) *s;
    h *= 1099511628211ull;
  }
  return h;
}

/* Find the slot holding S, or the empty slot where it would go. */
static size_t strset_slot(char **slots, size_t cap, const char *s)
{
  size_t i = (size_t) str_hash(s) & (cap - 1);
  while (slots[i] != NULL && strcmp(slots[i], s) != 0)
    i = (i + 1) & (cap - 1);
  return i;
}

static int strset_grow(struct appc_strset *set)
{
  size_t cap = set->cap == 0 ? 64 : set->cap * 2;
  char **slots = calloc(cap, sizeof *slots);
  if (slots == NULL)
    return -1;
  for (size_t i = 0; i < set->cap; i++) {
    if (set->slots[i] != NULL)
      slots[strset_slot(slots, cap, set->slots[i])] = set->slots[i];
  }
  free(set->slots);
  set->slots = slots;
  set->cap = cap;
  return 0;
}

int appc_strset_add(struct appc_strset *set, const char *s)
{
  size_t i;

  /* Keep the load factor under 1/2 so probe sequences stay short. */
  if ((set->len + 1) * 2 > set->cap && strset_grow(set) < 0)
    return -1;
  i = strset_slot(set->slots, set->cap, s);
  if (set->slots[i] != NULL)
    return 0;
  set->slots[i] = strdup(s);
  if (set->slots[i] == NULL)
    return -1;
  set->len++;
  return 1;
}

bool appc_strset_contains(const struct appc_strset *set, const char *s)
{
  return set->cap > 0 && set->slots[strset_slot(set->slots, set->cap, s)] != NULL;
}

void appc_strset_clear(struct appc_strset *set)
{
  for (size_t i = 0; i < set->cap; i++)
    free(set->slots[i]);
  free(set->slots);
  set->slots = NULL;
  set->cap = set->len = 0;
}
