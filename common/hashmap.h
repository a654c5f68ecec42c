/* SPDX-License-Identifier: Apache-2.0 */
/* One hash table for every module: open addressing with linear probing,
 * entries stored in the slots themselves (no allocation per entry), grown
 * to keep the load under one half.  The caller gives each key's 64-bit
 * hash (appc_hash_bytes, appc_hash_u64) and an equality test between an
 * entry and a key, as git's hashmap does, so one implementation serves
 * string sets, path indexes and (dev, ino) maps alike. */
#ifndef APPC_COMMON_HASHMAP_H
#define APPC_COMMON_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Whether ENTRY (stored) is the one KEY names. */
typedef bool (*appc_hashmap_eq_fn)(const void *entry, const void *key);

struct appc_hashmap {
  unsigned char *slots; /* cap slots of slot_size bytes: the hash (0: empty), then the entry */
  size_t cap;           /* a power of two, or 0 */
  size_t len;
  size_t entry_size;
  size_t min_cap; /* the first allocation */
};

/* An empty map of ENTRY_SIZE-byte entries; MIN_CAP slots at first use
 * (rounded up to a power of two, at least 16). */
void appc_hashmap_init(struct appc_hashmap *m, size_t entry_size, size_t min_cap);

/* The entry KEY names (HASH its hash), or NULL. */
void *appc_hashmap_find(const struct appc_hashmap *m, uint64_t hash, appc_hashmap_eq_fn eq,
                        const void *key);

/* The entry KEY names, or a new zero-filled one for the caller to fill
 * (*ADDED set); NULL when out of memory.  The pointer is valid until the
 * next insertion. */
void *appc_hashmap_insert(struct appc_hashmap *m, uint64_t hash, appc_hashmap_eq_fn eq,
                          const void *key, bool *added);

/* Iterate: start with *POS = 0; NULL after the last entry. */
void *appc_hashmap_next(const struct appc_hashmap *m, size_t *pos);

/* Release the slots (FREE_ENTRY, if not NULL, is called on each entry). */
void appc_hashmap_clear(struct appc_hashmap *m, void (*free_entry)(void *entry));

/* A set of strings (copied in), on the map above.  Zero-initialised is
 * empty. */
struct appc_strset {
  struct appc_hashmap map;
};
/* Insert S.  1 if added, 0 if already present, -1 when out of memory. */
int appc_strset_add(struct appc_strset *set, const char *s);
bool appc_strset_contains(const struct appc_strset *set, const char *s);
/* The length of the shortest PATH[0, n) in SET that ends before a '/' of
 * PATH (an ancestor of PATH, as "a/b" is of "a/b/c"), or 0 when none is.
 * One pass over PATH, however deep it is. */
size_t appc_strset_find_ancestor(const struct appc_strset *set, const char *path);
static inline size_t appc_strset_size(const struct appc_strset *set)
{
  return set->map.len;
}
void appc_strset_clear(struct appc_strset *set);

/* Names to the index each was first added at, to find a list's repeats in
 * one pass.  The names are not copied: they must outlive the index.
 * Zero-initialised is empty. */
struct appc_strindex {
  struct appc_hashmap map;
};
/* Add NAME, found at index I: the index NAME was first added at (I when it
 * is new), or -1 when out of memory. */
ssize_t appc_strindex_add(struct appc_strindex *x, const char *name, size_t i);
/* The index NAME was first added at, or -1 when it never was. */
ssize_t appc_strindex_find(const struct appc_strindex *x, const char *name);
void appc_strindex_clear(struct appc_strindex *x);
/* The first index of a list of N names (NAME_AT gives the I-th of LIST)
 * whose name an earlier index has, that earlier index in *EARLIER; N when
 * no name repeats; -1 when out of memory.  One pass, not N * N / 2
 * comparisons: lists come from hostile manifests and indexes. */
ssize_t appc_first_repeat(size_t n, const char *(*name_at)(const void *list, size_t i),
                          const void *list, size_t *earlier);

/* Maps keyed by a file's identity: their entries start with this. */
struct appc_inode {
  dev_t dev;
  ino_t ino;
};
uint64_t appc_hash_inode(const struct appc_inode *key);
/* Equality of an entry that starts with a struct appc_inode and a key. */
bool appc_inode_eq(const void *entry, const void *key);

/* FNV-1a over LEN bytes, from a start drawn at random once per process,
 * then mixed: small and fast, and names from a hostile manifest or archive
 * cannot be chosen to fall into one slot (which would make every insertion
 * a walk over the others).  Equal bytes hash equal within a process only:
 * never store a hash. */
uint64_t appc_hash_bytes(const void *p, size_t len);
/* FNV-1a over LEN bytes, continuing from H (APPC_HASH_STABLE_START at
 * first), with no seed: the same in every process, for a value that
 * outlives the process (a cache file's name), never for a table that
 * untrusted keys fill. */
#define APPC_HASH_STABLE_START UINT64_C(14695981039346656037)
uint64_t appc_hash_stable(uint64_t h, const void *p, size_t len);
/* A 64-bit mix of X (SplitMix64's finaliser), for integer keys. */
uint64_t appc_hash_u64(uint64_t x);

#endif
