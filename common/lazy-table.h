/* SPDX-License-Identifier: Apache-2.0 */
/* What common/gen-lazy generates and common/lazy.c reads: the functions
 * libappc calls in the libraries it opens at first use (common/lazy.h). */
#ifndef APPC_COMMON_LAZY_TABLE_H
#define APPC_COMMON_LAZY_TABLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/lazy.h"

struct appc_lazy_symbol {
  const char *name;
  enum appc_lazy_library lib;
  void *failure; /* what the slot holds when LIB cannot be loaded */
};

struct appc_lazy_library_state {
  const char *soname;
  pthread_mutex_t lock;
  bool ready;        /* set (release) once every slot of the library is filled */
  char failure[512]; /* why binding failed, when it did: not retried */
};

/* Indexed by enum appc_lazy_library (common/lazy.c); not const, so that the
 * unit test can stand a missing library in for one. */
extern struct appc_lazy_library_state appc_lazy_libraries[];

extern const struct appc_lazy_symbol appc_lazy_symbols[];
extern const size_t appc_lazy_nsymbols;

/* The slot of each symbol, in the same order: where its entry point jumps
 * (defined in the generated assembly). */
extern void *appc_lazy_slots[];

/* Called by the entry point of symbol INDEX while its slot is unbound:
 * binds its library and returns what the slot now holds. */
void *appc_lazy_resolve(size_t index);

#endif
