/* SPDX-License-Identifier: Apache-2.0 */
/* Libraries bound at first use.
 *
 * Most commands touch a fraction of what actool can do: `validate` of a
 * manifest needs json-c, `run` of a cached image needs no archive, HTTP,
 * gpg or TLS code.  Linking libcurl, gpgme, libxml2, libmicrohttpd,
 * libarchive and libcrypto at start-up would map some fifty shared objects
 * into every process (17 ms of a 20 ms start here, more than a whole
 * validation or most of a container start); libcap and libseccomp serve
 * `run` alone.  Instead each of those libraries is opened with dlopen(3) by
 * its SONAME, found at configure time, the first time it is needed.
 *
 * The code calls the libraries as it would had they been linked: their own
 * headers, their own names, their own type checks (libcurl's on setopt
 * too).  Those names resolve, inside libappc, to small entry points that
 * jump through a slot, as the dynamic linker's PLT does; a slot first leads
 * to the binding of its library.  common/gen-lazy generates the entry
 * points from what libappc's objects call (nothing is listed by hand);
 * common/lazy.libs says which headers declare those functions and what
 * each returns when its library cannot be loaded.
 *
 * Entry points of libappc bind the libraries they need explicitly
 * (appc_lazy_bind), which reports a missing library as an error naming it.
 * A call on a path that did not bind first binds then; if the library
 * cannot be loaded, the function fails as the library's own functions fail
 * (NULL, CURLE_FAILED_INIT, ARCHIVE_FATAL, ...; errno ELIBACC) and the
 * caller's error path reports it: nothing aborts.
 *
 * The slots are the one piece of process-wide state in libappc: written
 * once, under a lock, and read-only afterwards, like the dynamic linker's
 * own relocation tables.  Configured with --disable-lazy-libraries (and on
 * machines without entry points written for them), the libraries are
 * linked as usual and binding always succeeds. */
#ifndef APPC_COMMON_LAZY_H
#define APPC_COMMON_LAZY_H

#include "appc/error.h"

/* The libraries, as common/lazy.libs names them in lower case. */
enum appc_lazy_library {
  APPC_LAZY_ARCHIVE,
  APPC_LAZY_CAP,
  APPC_LAZY_CRYPTO,
  APPC_LAZY_CURL,
  APPC_LAZY_DEFLATE,
  APPC_LAZY_GPGME,
  APPC_LAZY_ISAL,
  APPC_LAZY_MHD,
  APPC_LAZY_SECCOMP,
  APPC_LAZY_XML2,
  APPC_LAZY_YAML,
  APPC_LAZY_MNL,
  APPC_LAZY_NFTABLES,
  APPC_LAZY_NLIBS
};

/* Opens LIB and binds every function libappc calls in it, once per
 * process; returns 0, or -1 with an error naming the library when it
 * cannot be loaded or lacks one of them (not retried). */
int appc_lazy_bind(enum appc_lazy_library lib, appc_error_t *err);

#endif
