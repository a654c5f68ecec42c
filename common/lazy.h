/* SPDX-License-Identifier: Apache-2.0 */
/* Libraries bound at first use.
 *
 * Most commands touch a fraction of what actool can do: `validate` of a
 * manifest needs json-c, `run` of a cached image needs no archive, HTTP,
 * gpg or TLS code.  Linking libcurl, gpgme, libxml2, libmicrohttpd,
 * libarchive and libcrypto at start-up would map some fifty shared objects
 * into every process (20 ms of page faults here, more than a whole
 * validation or most of a container start); libcap and libseccomp serve
 * `run` alone.  Instead each of those libraries is opened with dlopen(3) by
 * its SONAME, found at configure time, the first time one of its functions
 * is called.
 *
 * A module's header (common/lazy-curl.h, ...) lists the functions used
 * (APPC_LAZY_<LIB>(X)), declares a table of pointers to them, and redirects
 * each name to the table, so that call sites read as ordinary calls.  Entry
 * points bind their library explicitly (appc_lazy_bind) to report a missing
 * library as an error; every call also checks, so a call on a path that did
 * not bind binds then, and only aborts if the library cannot be loaded.
 *
 * The tables are the one piece of process-wide state in libappc: written
 * once, under a lock, and read-only afterwards, like the dynamic
 * linker's own relocation tables. */
#ifndef APPC_COMMON_LAZY_H
#define APPC_COMMON_LAZY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "appc/error.h"

struct appc_lazy_symbol {
  const char *name;
  size_t offset; /* of its pointer in the library's table */
};

struct appc_lazy_lib {
  const char *soname;
  const struct appc_lazy_symbol *symbols;
  size_t count;
  void *table;
  pthread_mutex_t lock;
  bool ready;        /* set (release) once every symbol is in the table */
  char failure[512]; /* why binding failed, when it did: not retried */
};

/* Open LIB and fill its table, once per process; returns 0, or -1 with an
 * error naming the library when it cannot be loaded. */
int appc_lazy_bind(struct appc_lazy_lib *lib, appc_error_t *err);

/* The slow path of appc_lazy_need(): bind, or abort when the library is
 * missing on a path that did not bind it first. */
void appc_lazy_need_slow(struct appc_lazy_lib *lib);

static inline void appc_lazy_need(struct appc_lazy_lib *lib)
{
  if (!__atomic_load_n(&lib->ready, __ATOMIC_ACQUIRE))
    appc_lazy_need_slow(lib);
}

/* The table member for symbol F, as a pointer of F's own type. */
#define APPC_LAZY_MEMBER(f) __typeof__(&f) f;
/* The table entry of symbol F in struct T. */
#define APPC_LAZY_ENTRY(T, f) {#f, offsetof(struct T, f)},

/* `(*APPC_LAZY_CALL(curl, curl_easy_init))()` calls through the table. */
#define APPC_LAZY_CALL(lib, f) (*(appc_lazy_need(&appc_lazy_##lib##_lib), appc_lazy_##lib.f))

/* Declares the table of library LIB, whose symbols the X-macro LIST lists,
 * and appc_lazy_bind_LIB(err). */
#define APPC_LAZY_DECLARE(lib, LIST)                                                               \
  struct appc_lazy_##lib {                                                                         \
    LIST(APPC_LAZY_MEMBER)                                                                         \
  };                                                                                               \
  extern struct appc_lazy_##lib appc_lazy_##lib;                                                   \
  extern struct appc_lazy_lib appc_lazy_##lib##_lib;                                               \
  static inline int appc_lazy_bind_##lib(appc_error_t *err)                                        \
  {                                                                                                \
    return appc_lazy_bind(&appc_lazy_##lib##_lib, err);                                            \
  }

#endif
