/* SPDX-License-Identifier: Apache-2.0 */
/* Open-addressing hash table (see hashmap.h). */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/hashmap.h"

/* A slot: the entry's hash (never 0 once stored), then the entry, aligned
 * as any entry needs. */
#define SLOT_HEAD sizeof(uint64_t)

static size_t slot_size(const struct appc_hashmap *m)
{
  size_t align = _Alignof(max_align_t);
  return (SLOT_HEAD + m->entry_size + align - 1) / align * align;
}

static unsigned char *slot(const struct appc_hashmap *m, unsigned char *slots, size_t i)
{
  return slots + i * slot_size(m);
}

static uint64_t slot_hash(const unsigned char *s)
{
  uint64_t h;
  memcpy(&h, s, sizeof h);
  return h;
}

/* 0 marks an empty slot, so a hash of 0 is stored as 1. */
static uint64_t stored_hash(uint64_t hash)
{
  return hash != 0 ? hash : 1;
}

void appc_hashmap_init(struct appc_hashmap *m, size_t entry_size, size_t min_cap)
{
  size_t cap = 16;

  while (cap < min_cap)
    cap *= 2;
  *m = (struct appc_hashmap){.entry_size = entry_size, .min_cap = cap};
}

/* The slot holding KEY, or the empty slot where it would go. */
static unsigned char *probe(const struct appc_hashmap *m, uint64_t hash, appc_hashmap_eq_fn eq,
                            const void *key)
{
  size_t i = (size_t) hash & (m->cap - 1);

  for (;;) {
    unsigned char *s = slot(m, m->slots, i);
    uint64_t h = slot_hash(s);
    if (h == 0 || (h == hash && eq(s + SLOT_HEAD, key)))
      return s;
    i = (i + 1) & (m->cap - 1);
  }
}

void *appc_hashmap_find(const struct appc_hashmap *m, uint64_t hash, appc_hashmap_eq_fn eq,
                        const void *key)
{
  unsigned char *s;

  if (m->cap == 0)
    return NULL;
  s = probe(m, stored_hash(hash), eq, key);
  return slot_hash(s) != 0 ? s + SLOT_HEAD : NULL;
}

static int grow(struct appc_hashmap *m)
{
  size_t cap = m->cap == 0 ? m->min_cap : m->cap * 2;
  unsigned char *slots = calloc(cap, slot_size(m));

  if (slots == NULL)
    return -1;
  for (size_t i = 0; i < m->cap; i++) {
    unsigned char *old = slot(m, m->slots, i);
    uint64_t h = slot_hash(old);
    if (h == 0)
      continue;
    size_t j = (size_t) h & (cap - 1);
    while (slot_hash(slot(m, slots, j)) != 0)
      j = (j + 1) & (cap - 1);
    memcpy(slot(m, slots, j), old, slot_size(m));
  }
  free(m->slots);
  m->slots = slots;
  m->cap = cap;
  return 0;
}

void *appc_hashmap_insert(struct appc_hashmap *m, uint64_t hash, appc_hashmap_eq_fn eq,
                          const void *key, bool *added)
{
  unsigned char *s;

  hash = stored_hash(hash);
  *added = false;
  /* Keep the load under one half, so that probe sequences stay short. */
  if ((m->len + 1) * 2 > m->cap && grow(m) < 0)
    return NULL;
  s = probe(m, hash, eq, key);
  if (slot_hash(s) == 0) {
    memcpy(s, &hash, sizeof hash);
    m->len++;
    *added = true;
  }
  return s + SLOT_HEAD;
}

void *appc_hashmap_next(const struct appc_hashmap *m, size_t *pos)
{
  for (; *pos < m->cap; (*pos)++) {
    unsigned char *s = slot(m, m->slots, *pos);
    if (slot_hash(s) != 0) {
      (*pos)++;
      return s + SLOT_HEAD;
    }
  }
  return NULL;
}

void appc_hashmap_clear(struct appc_hashmap *m, void (*free_entry)(void *entry))
{
  size_t pos = 0;
  void *e;

  if (free_entry != NULL)
    while ((e = appc_hashmap_next(m, &pos)) != NULL)
      free_entry(e);
  free(m->slots);
  m->slots = NULL;
  m->cap = m->len = 0;
}

/* ---- string sets ---- */

static uint64_t hash_seed(void);

/* appc_hash_bytes is FNV-1a from a seed of the process's, then mixed: its
 * state after a prefix is the start of the next byte's step. */
static inline uint64_t fnv_start(void)
{
  return 14695981039346656037ull ^ hash_seed();
}

static inline uint64_t fnv_step(uint64_t h, unsigned char byte)
{
  return (h ^ byte) * 1099511628211ull;
}

uint64_t appc_hash_stable(uint64_t h, const void *p, size_t len)
{
  const unsigned char *b = p;
  for (size_t i = 0; i < len; i++)
    h = fnv_step(h, b[i]);
  return h;
}

/* An entry whose copy could not be made holds NULL and matches nothing. */
static bool str_eq(const void *entry, const void *key)
{
  const char *s = *(char *const *) entry;
  return s != NULL && strcmp(s, key) == 0;
}

static uint64_t str_hash(const char *s)
{
  return appc_hash_bytes(s, strlen(s));
}

int appc_strset_add(struct appc_strset *set, const char *s)
{
  bool added;
  char **e;

  if (set->map.entry_size == 0)
    appc_hashmap_init(&set->map, sizeof(char *), 64);
  e = appc_hashmap_insert(&set->map, str_hash(s), str_eq, s, &added);
  if (e == NULL)
    return -1;
  if (!added)
    return 0;
  *e = strdup(s);
  return *e != NULL ? 1 : -1;
}

bool appc_strset_contains(const struct appc_strset *set, const char *s)
{
  return set->map.len > 0 && appc_hashmap_find(&set->map, str_hash(s), str_eq, s) != NULL;
}

struct str_part {
  const char *s;
  size_t len;
};

static bool str_part_eq(const void *entry, const void *key)
{
  const char *s = *(char *const *) entry;
  const struct str_part *k = key;
  return s != NULL && strncmp(s, k->s, k->len) == 0 && s[k->len] == '\0';
}

size_t appc_strset_find_ancestor(const struct appc_strset *set, const char *path)
{
  /* Each prefix's hash is the one before it and one byte more
   * (appc_hash_bytes): hashing each prefix anew was quadratic in the
   * depth. */
  uint64_t h = fnv_start();

  if (set->map.len == 0)
    return 0;
  for (size_t i = 0; path[i] != '\0'; h = fnv_step(h, (unsigned char) path[i]), i++) {
    const struct str_part k = {path, i};
    if (path[i] == '/' && i > 0 &&
        appc_hashmap_find(&set->map, appc_hash_u64(h), str_part_eq, &k) != NULL)
      return i;
  }
  return 0;
}

static void free_str(void *entry)
{
  free(*(char **) entry);
}

void appc_strset_clear(struct appc_strset *set)
{
  appc_hashmap_clear(&set->map, free_str);
}

/* ---- names to their first index ---- */

struct strindex_entry {
  const char *name;
  size_t index;
};

static bool strindex_eq(const void *entry, const void *key)
{
  return strcmp(((const struct strindex_entry *) entry)->name, key) == 0;
}

ssize_t appc_strindex_add(struct appc_strindex *x, const char *name, size_t i)
{
  struct strindex_entry *e;
  bool added;

  if (x->map.entry_size == 0)
    appc_hashmap_init(&x->map, sizeof *e, 64);
  e = appc_hashmap_insert(&x->map, str_hash(name), strindex_eq, name, &added);
  if (e == NULL)
    return -1;
  if (added)
    *e = (struct strindex_entry){.name = name, .index = i};
  return (ssize_t) e->index;
}

ssize_t appc_strindex_find(const struct appc_strindex *x, const char *name)
{
  const struct strindex_entry *e = appc_hashmap_find(&x->map, str_hash(name), strindex_eq, name);

  return e != NULL ? (ssize_t) e->index : -1;
}

void appc_strindex_clear(struct appc_strindex *x)
{
  appc_hashmap_clear(&x->map, NULL);
}

ssize_t appc_first_repeat(size_t n, const char *(*name_at)(const void *list, size_t i),
                          const void *list, size_t *earlier)
{
  struct appc_strindex x = {0};
  size_t i;

  for (i = 0; i < n; i++) {
    ssize_t first = appc_strindex_add(&x, name_at(list, i), i);
    if (first < 0) {
      appc_strindex_clear(&x);
      return -1;
    }
    if ((size_t) first != i) {
      *earlier = (size_t) first;
      break;
    }
  }
  appc_strindex_clear(&x);
  return (ssize_t) i;
}

/* ---- (dev, ino) keys ---- */

uint64_t appc_hash_inode(const struct appc_inode *key)
{
  return appc_hash_u64((uint64_t) key->ino ^ appc_hash_u64((uint64_t) key->dev));
}

bool appc_inode_eq(const void *entry, const void *key)
{
  const struct appc_inode *a = entry, *b = key;
  return a->dev == b->dev && a->ino == b->ino;
}

/* The process's own start for appc_hash_bytes, drawn once (never 0 once
 * drawn). */
static uint64_t hash_seed(void)
{
  static _Atomic uint64_t seed;
  uint64_t s = atomic_load_explicit(&seed, memory_order_relaxed);

  if (s == 0) {
    uint64_t drawn = 0, expected = 0;
    if (getrandom(&drawn, sizeof drawn, GRND_NONBLOCK) != (ssize_t) sizeof drawn)
      drawn = (uint64_t) time(NULL) ^ ((uint64_t) getpid() << 32) ^ (uint64_t) (uintptr_t) &seed;
    drawn |= 1;
    atomic_compare_exchange_strong(&seed, &expected, drawn);
    s = atomic_load_explicit(&seed, memory_order_relaxed);
  }
  return s;
}

uint64_t appc_hash_bytes(const void *p, size_t len)
{
  const unsigned char *b = p;
  uint64_t h = fnv_start();

  for (size_t i = 0; i < len; i++)
    h = fnv_step(h, b[i]);
  /* the slot is the low bits: mixed, they depend on every bit of h */
  return appc_hash_u64(h);
}

uint64_t appc_hash_u64(uint64_t x)
{
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}
