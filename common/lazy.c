/* SPDX-License-Identifier: Apache-2.0 */
/* Libraries bound at first use: see common/lazy.h. */
#include "config.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APPC_LAZY_NO_REDIRECT
#include "common/lazy-archive.h"
#include "common/lazy-cap.h"
#include "common/lazy-crypto.h"
#include "common/lazy-curl.h"
#include "common/lazy-deflate.h"
#include "common/lazy-gpgme.h"
#include "common/lazy-isal.h"
#include "common/lazy-mhd.h"
#include "common/lazy-seccomp.h"
#include "common/lazy-xml2.h"

/* Defines the table of library LIB (symbols listed by LIST, entries made by
 * ENTRY) and its binding state. */
#define LAZY_DEFINE(lib, LIST, ENTRY, so)                                                          \
  struct appc_lazy_##lib appc_lazy_##lib;                                                          \
  static const struct appc_lazy_symbol lib##_symbols[] = {LIST(ENTRY)};                            \
  struct appc_lazy_lib appc_lazy_##lib##_lib = {                                                   \
      .soname = so,                                                                                \
      .symbols = lib##_symbols,                                                                    \
      .count = sizeof lib##_symbols / sizeof lib##_symbols[0],                                     \
      .table = &appc_lazy_##lib,                                                                   \
      .lock = PTHREAD_MUTEX_INITIALIZER,                                                           \
  };

#define ARCHIVE_ENTRY(f) APPC_LAZY_ENTRY(appc_lazy_archive, f)
#define CAP_ENTRY(f) APPC_LAZY_ENTRY(appc_lazy_cap, f)
#define CRYPTO_ENTRY(f) APPC_LAZY_ENTRY(appc_lazy_crypto, f)
#define CURL_ENTRY(f) APPC_LAZY_ENTRY(appc_lazy_curl, f)
#define DEFLATE_ENTRY(f) APPC_LAZY_ENTRY(appc_lazy_deflate, f)
#define GPGME_ENTRY(f) APPC_LAZY_ENTRY(appc_lazy_gpgme, f)
#define ISAL_ENTRY(f) APPC_LAZY_ENTRY(appc_lazy_isal, f)
#define MHD_ENTRY(f) APPC_LAZY_ENTRY(appc_lazy_mhd, f)
#define SECCOMP_ENTRY(f) APPC_LAZY_ENTRY(appc_lazy_seccomp, f)
#define XML2_ENTRY(f) APPC_LAZY_ENTRY(appc_lazy_xml2, f)

LAZY_DEFINE(archive, APPC_LAZY_ARCHIVE, ARCHIVE_ENTRY, APPC_SONAME_ARCHIVE)
LAZY_DEFINE(cap, APPC_LAZY_CAP, CAP_ENTRY, APPC_SONAME_CAP)
LAZY_DEFINE(crypto, APPC_LAZY_CRYPTO, CRYPTO_ENTRY, APPC_SONAME_CRYPTO)
LAZY_DEFINE(curl, APPC_LAZY_CURL, CURL_ENTRY, APPC_SONAME_CURL)
LAZY_DEFINE(deflate, APPC_LAZY_DEFLATE, DEFLATE_ENTRY, APPC_SONAME_DEFLATE)
LAZY_DEFINE(gpgme, APPC_LAZY_GPGME, GPGME_ENTRY, APPC_SONAME_GPGME)
LAZY_DEFINE(isal, APPC_LAZY_ISAL, ISAL_ENTRY, APPC_SONAME_ISAL)
LAZY_DEFINE(mhd, APPC_LAZY_MHD, MHD_ENTRY, APPC_SONAME_MHD)
LAZY_DEFINE(seccomp, APPC_LAZY_SECCOMP, SECCOMP_ENTRY, APPC_SONAME_SECCOMP)
LAZY_DEFINE(xml2, APPC_LAZY_XML2, XML2_ENTRY, APPC_SONAME_XML2)

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

/* dlopen and dlsym every symbol; on failure, the reason in lib->failure and
 * the handle closed, so that nothing of a half-bound library is used. */
static void bind_locked(struct appc_lazy_lib *lib)
{
  /* RTLD_LAZY: the library's own calls are resolved as they are made, as
   * they would be had it been linked; RTLD_LOCAL: its symbols stay out of
   * the global scope, where they could interpose on another library's. */
  void *handle = dlopen(lib->soname, RTLD_LAZY | RTLD_LOCAL);

  if (handle == NULL) {
    snprintf(lib->failure, sizeof lib->failure, "%s", dlerror());
    (void) dlerror(); /* frees the message glibc kept for the first call */
    return;
  }
  for (size_t i = 0; i < lib->count; i++) {
    void *sym = dlsym(handle, lib->symbols[i].name);

    if (sym == NULL) {
      snprintf(lib->failure, sizeof lib->failure, "%s: no symbol %s", lib->soname,
               lib->symbols[i].name);
      dlclose(handle);
      return;
    }
    memcpy((char *) lib->table + lib->symbols[i].offset, &sym, sizeof sym);
  }
  /* The handle is never closed: the table points into the library. */
  __atomic_store_n(&lib->ready, true, __ATOMIC_RELEASE);
}

int appc_lazy_bind(struct appc_lazy_lib *lib, appc_error_t *err)
{
  if (__atomic_load_n(&lib->ready, __ATOMIC_ACQUIRE))
    return 0;
  pthread_mutex_lock(&lib->lock);
  if (!lib->ready && lib->failure[0] == '\0')
    bind_locked(lib);
  bool ready = lib->ready;
  pthread_mutex_unlock(&lib->lock);
  if (ready)
    return 0;
  /* failure is written once, before the unlock above. */
  return appc_error_make(err, 0, "cannot load %s: %s", lib->soname, lib->failure);
}

void appc_lazy_need_slow(struct appc_lazy_lib *lib)
{
  cleanup_error appc_error_t err = NULL;

  if (appc_lazy_bind(lib, &err) == 0)
    return;
  /* A call on a path that did not bind its library first, and the library
   * is missing: there is no function to call and no error to return. */
  fprintf(stderr, "libappc: %s\n", err->msg);
  abort();
}
