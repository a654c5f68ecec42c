/* SPDX-License-Identifier: Apache-2.0 */
/* Libraries bound at first use: see common/lazy.h. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/lazy-table.h"

#ifndef APPC_LAZY_LIBRARIES

/* Configured to link the libraries: there is nothing to bind. */
int appc_lazy_bind(enum appc_lazy_library lib, appc_error_t *err)
{
  (void) lib;
  (void) err;
  return 0;
}

#else

/* ---- the libraries ---- */

/* Indexed by enum appc_lazy_library; not const, so that the unit test can
 * stand a missing library in for one (tests/unit/test-lazy.c). */
struct appc_lazy_library_state appc_lazy_libraries[APPC_LAZY_NLIBS] = {
    [APPC_LAZY_ARCHIVE] = {APPC_SONAME_ARCHIVE, PTHREAD_MUTEX_INITIALIZER, false, ""},
    [APPC_LAZY_CAP] = {APPC_SONAME_CAP, PTHREAD_MUTEX_INITIALIZER, false, ""},
    [APPC_LAZY_CRYPTO] = {APPC_SONAME_CRYPTO, PTHREAD_MUTEX_INITIALIZER, false, ""},
    [APPC_LAZY_CURL] = {APPC_SONAME_CURL, PTHREAD_MUTEX_INITIALIZER, false, ""},
    [APPC_LAZY_DEFLATE] = {APPC_SONAME_DEFLATE, PTHREAD_MUTEX_INITIALIZER, false, ""},
    [APPC_LAZY_GPGME] = {APPC_SONAME_GPGME, PTHREAD_MUTEX_INITIALIZER, false, ""},
    [APPC_LAZY_ISAL] = {APPC_SONAME_ISAL, PTHREAD_MUTEX_INITIALIZER, false, ""},
    [APPC_LAZY_MHD] = {APPC_SONAME_MHD, PTHREAD_MUTEX_INITIALIZER, false, ""},
    [APPC_LAZY_SECCOMP] = {APPC_SONAME_SECCOMP, PTHREAD_MUTEX_INITIALIZER, false, ""},
    [APPC_LAZY_XML2] = {APPC_SONAME_XML2, PTHREAD_MUTEX_INITIALIZER, false, ""},
    [APPC_LAZY_YAML] = {APPC_SONAME_YAML, PTHREAD_MUTEX_INITIALIZER, false, ""},
    [APPC_LAZY_MNL] = {APPC_SONAME_MNL, PTHREAD_MUTEX_INITIALIZER, false, ""},
    [APPC_LAZY_NFTABLES] = {APPC_SONAME_NFTABLES, PTHREAD_MUTEX_INITIALIZER, false, ""},
};

/* ---- the libraries named for packaging tools ---- */

/* ldd and dpkg-shlibdeps see none of the libraries above.  Each is declared
 * in an ELF note as systemd's "dlopen metadata" specifies
 * (https://systemd.io/ELF_DLOPEN_METADATA/): section .note.dlopen, owner
 * "FDO", type 0x407c0c0a, a JSON array describing the dependency.  Tools
 * that know it (dlopen-notes, dh-dlopenlibdeps, rpm's generators) read
 * them; `readelf -p .note.dlopen actool` shows them. */
#define DLOPEN_NOTE_OWNER "FDO"
#define DLOPEN_NOTE_TYPE 0x407c0c0au
#define DLOPEN_JSON(feature, description, priority, soname)                                        \
  "[{\"feature\":\"" feature "\",\"description\":\"" description "\",\"priority\":\"" priority     \
  "\",\"soname\":[\"" soname "\"]}]"
#define DLOPEN_NOTE(name, json)                                                                    \
  /* _Alignas on the variable: GCC would otherwise align a large object to                         \
   * 32 bytes, and a note section must be 4-aligned. */                                            \
  __attribute__((used, section(".note.dlopen"))) _Alignas(4) static const struct {                 \
    _Alignas(4) uint32_t namesz, descsz, type;                                                     \
    char owner[sizeof DLOPEN_NOTE_OWNER];                                                          \
    _Alignas(4) char desc[sizeof json];                                                            \
  } dlopen_note_##name = {sizeof DLOPEN_NOTE_OWNER, sizeof json, DLOPEN_NOTE_TYPE,                 \
                          DLOPEN_NOTE_OWNER, json}

DLOPEN_NOTE(archive, DLOPEN_JSON("archive", "reading and writing ACIs (build, validate, import)",
                                 "required", APPC_SONAME_ARCHIVE));
DLOPEN_NOTE(crypto, DLOPEN_JSON("crypto", "image IDs (SHA-512), tree digests, HMAC signatures",
                                "required", APPC_SONAME_CRYPTO));
DLOPEN_NOTE(deflate, DLOPEN_JSON("deflate", "compressing gzip images (build)", "required",
                                 APPC_SONAME_DEFLATE));
DLOPEN_NOTE(isal, DLOPEN_JSON("isal", "reading gzip images", "required", APPC_SONAME_ISAL));
DLOPEN_NOTE(curl,
            DLOPEN_JSON("curl", "discovery and fetch over HTTPS", "recommended", APPC_SONAME_CURL));
DLOPEN_NOTE(xml2, DLOPEN_JSON("xml2", "discovery pages (HTML meta tags)", "recommended",
                              APPC_SONAME_XML2));
DLOPEN_NOTE(gpgme, DLOPEN_JSON("gpgme", "signature checks and the trust store", "recommended",
                               APPC_SONAME_GPGME));
DLOPEN_NOTE(cap, DLOPEN_JSON("cap", "the executor's capability isolators", "recommended",
                             APPC_SONAME_CAP));
DLOPEN_NOTE(seccomp, DLOPEN_JSON("seccomp", "the executor's seccomp isolators", "recommended",
                                 APPC_SONAME_SECCOMP));
DLOPEN_NOTE(mhd,
            DLOPEN_JSON("mhd", "the executor's metadata service", "recommended", APPC_SONAME_MHD));
DLOPEN_NOTE(yaml, DLOPEN_JSON("yaml", "manifests written in YAML", "suggested", APPC_SONAME_YAML));
DLOPEN_NOTE(mnl, DLOPEN_JSON("mnl", "the executor's default network (netlink)", "suggested",
                             APPC_SONAME_MNL));
DLOPEN_NOTE(nftables, DLOPEN_JSON("nftables", "the executor's NAT and published ports", "suggested",
                                  APPC_SONAME_NFTABLES));

/* dlopen LIB and check that it has each of its symbols; on failure, the
 * reason in failure and NULL (the handle closed). */
static void *open_library(enum appc_lazy_library lib)
{
  struct appc_lazy_library_state *l = &appc_lazy_libraries[lib];
  /* RTLD_LAZY: the library's own calls are resolved as they are made, as
   * they would be had it been linked; RTLD_LOCAL: its symbols stay out of
   * the global scope, where they could interpose on another library's. */
  void *handle = dlopen(l->soname, RTLD_LAZY | RTLD_LOCAL);

  if (handle == NULL) {
    snprintf(l->failure, sizeof l->failure, "%s", dlerror());
    (void) dlerror(); /* frees the message glibc kept */
    return NULL;
  }
  for (size_t i = 0; i < appc_lazy_nsymbols; i++) {
    if (appc_lazy_symbols[i].lib == lib && dlsym(handle, appc_lazy_symbols[i].name) == NULL) {
      snprintf(l->failure, sizeof l->failure, "%s: no symbol %s", l->soname,
               appc_lazy_symbols[i].name);
      (void) dlerror();
      dlclose(handle);
      return NULL;
    }
  }
  return handle;
}

/* Fills every slot of LIB, with its function or, when the library cannot
 * be loaded, with what stands in for it: once, and only once every symbol
 * is known to be there, so that no slot leads into a half-bound library. */
static void bind_locked(enum appc_lazy_library lib)
{
  void *handle = open_library(lib);

  for (size_t i = 0; i < appc_lazy_nsymbols; i++) {
    if (appc_lazy_symbols[i].lib != lib)
      continue;
    void *target =
        handle != NULL ? dlsym(handle, appc_lazy_symbols[i].name) : appc_lazy_symbols[i].failure;
    __atomic_store_n(&appc_lazy_slots[i], target, __ATOMIC_RELEASE);
  }
  /* The handle is never closed: the slots point into the library. */
  __atomic_store_n(&appc_lazy_libraries[lib].ready, true, __ATOMIC_RELEASE);
}

/* Binds LIB once per process; returns why it could not be, or NULL. */
static const char *bind_library(enum appc_lazy_library lib)
{
  struct appc_lazy_library_state *l = &appc_lazy_libraries[lib];

  if (!__atomic_load_n(&l->ready, __ATOMIC_ACQUIRE)) {
    pthread_mutex_lock(&l->lock);
    if (!l->ready)
      bind_locked(lib);
    pthread_mutex_unlock(&l->lock);
  }
  /* failure is written before ready is set, and never after */
  return l->failure[0] != '\0' ? l->failure : NULL;
}

int appc_lazy_bind(enum appc_lazy_library lib, appc_error_t *err)
{
  if ((unsigned) lib >= APPC_LAZY_NLIBS)
    return appc_error_tag(err, EINVAL, "no library number %d to bind", (int) lib);
  const char *failure = bind_library(lib);
  if (failure == NULL)
    return 0;
  return appc_error_make(err, 0, "cannot load %s: %s", appc_lazy_libraries[lib].soname, failure);
}

void *appc_lazy_resolve(size_t index)
{
  (void) bind_library(appc_lazy_symbols[index].lib);
  return __atomic_load_n(&appc_lazy_slots[index], __ATOMIC_ACQUIRE);
}

#endif
