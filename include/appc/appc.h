/* SPDX-License-Identifier: Apache-2.0 */
/* libappc: the App Container (appc v0.8.11) image toolchain as a library.
 *
 * Include this header for the whole API, or the parts one by one:
 *   <appc/error.h>      the one error type every function reports through
 *   <appc/callbacks.h>  cancel, progress and log of long operations
 *   <appc/schema.h>     image and pod manifests: parse, validate, serialise, patch
 *   <appc/aci.h>        ACIs and image layouts: validate, read, build, rewrite
 *   <appc/store.h>      the content-addressed image store and its rendered trees
 *   <appc/trust.h>      the keys trusted for image name prefixes; signature checks
 *   <appc/discovery.h>  appc discovery over HTTP(S) and the HTTP transport
 *   <appc/fetch.h>      images into the store by name or URL, signatures checked
 *   <appc/ace.h>        the executor: pods run from the store (root only)
 *   <appc/oci.h>        OCI and Docker images in and out of the store
 *   <appc/layout.h>     image layouts edited step by step (authoring)
 *   <appc/containerfile.h> images built from Containerfiles (authoring)
 * Structures a caller fills and passes in (options) start with a member
 * `version`: 0, or the header's APPC_..._VERSION; a later release that adds
 * members ("(version N)") bumps that number and reads them only from
 * callers that say they have them.  A member the caller's version does not
 * cover must be zero, else EINVAL: set `version` to the macro when setting
 * one.  A NULL options pointer means the defaults.  Structures the library
 * fills (results) end in reserved space that later members take, so their
 * size never changes within soname 0.  docs/api.md introduces them with an
 * example; `pkg-config --cflags --libs libappc` gives what a program needs
 * to build against the library.
 */
#ifndef APPC_APPC_H
#define APPC_APPC_H

#include <appc/ace.h>
#include <appc/aci.h>
#include <appc/callbacks.h>
#include <appc/debian.h>
#include <appc/discovery.h>
#include <appc/error.h>
#include <appc/fetch.h>
#include <appc/layout.h>
#include <appc/containerfile.h>
#include <appc/oci.h>
#include <appc/schema.h>
#include <appc/store.h>
#include <appc/trust.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

/* The release of libappc in use ("0.1.0"): the library's, which may be newer
 * than the headers a program was built with. */
const char *appc_version(void);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
