/* SPDX-License-Identifier: Apache-2.0 */
/* The one error type of libappc.
 *
 * Library functions return 0 on success and a negative value on failure, in
 * which case they have stored an error in *err.  The message names what the
 * error is about (a file, a JSON field path, a URL) and the rule that was
 * broken; callers add outer context with appc_error_prefix().  The library
 * never prints and never exits: the CLI decides what to do with the error.
 *
 * errnum tells conditions a caller may handle apart, without reading the
 * message; a command line adds which of its options changes them:
 * - EEXIST from an operation that writes an output (appc_aci_build,
 *   appc_aci_rewrite_manifest, appc_store_export, appc_store_render and
 *   _extract, appc_oci_bundle): the output exists and replacing it was not
 *   asked for;
 * - EKEYREJECTED from an HTTPS transfer (appc_http_*, appc_discover,
 *   appc_fetch, appc_trust_*): the server's certificate is not trusted (give
 *   its CA: appc_http_options.cacert);
 * - EPROTONOSUPPORT from the same: plain http (or a redirect to it), which
 *   appc_http_options.allow_http allows;
 * - ENOKEY from appc_fetch: the image has no signature to check (an OCI or
 *   Docker image, a file without FILE.asc, a URL whose .asc is missing),
 *   which appc_fetch_options.insecure_image accepts;
 * - EMSGSIZE from an HTTP download (appc_http_*, and what downloads
 *   through it: appc_fetch, registry pulls, Debian packages): a download
 *   whose size nobody declared went past appc_http_options.download_max,
 *   or one declared larger than that was refused before it began (the
 *   fixed limits of what is read are not tagged so);
 * - ETIMEDOUT from appc_fetch and the requests of an operation
 *   (appc_http_operation_begin): the fetch of the image was not done
 *   within appc_http_options.operation_deadline;
 * - ENONET from appc_fetch and appc_fetch_dependencies with
 *   appc_fetch_options.store_only: the image is not in the store (or is a
 *   URL), and the network is ruled out;
 * - EEXIST from appc_ace_reify and appc_ace_pod_build: two apps of the pod
 *   have the same name;
 * - ENOEXEC from appc_ace_pod_build: an app has no command to run (its
 *   image has none and its request gives no exec);
 * - EOPNOTSUPP from appc_ace_run with private_users_ownership
 *   APPC_ACE_OWNERSHIP_MAP: the file system of the image's tree gives no
 *   idmapped mounts (APPC_ACE_OWNERSHIP_COPY copies the tree instead);
 * - ENOTUNIQ from appc_ace_enter: the pod has several apps and none was
 *   named.
 */
#ifndef APPC_ERROR_H
#define APPC_ERROR_H

#include <stdarg.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

typedef struct appc_error_s {
  int errnum; /* errno value behind the failure, or 0 for a rule violation */
  char *msg;
} appc_error;

typedef appc_error *appc_error_t;

/* Store a new error in *err (which must be NULL) and return -1.  When
 * errnum is non-zero, ": strerror(errnum)" is appended to the message. */
int appc_error_make(appc_error_t *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int appc_error_makev(appc_error_t *err, int errnum, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Prepend "PREFIX: " to the message of *err; returns -1 so that callers can
 * write `return appc_error_prefix(err, "%s", path);`. */
int appc_error_prefix(appc_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Release *err and set it to NULL.  Safe on NULL. */
void appc_error_release(appc_error_t *err);

/* Cleanup helper: `cleanup_error appc_error_t err = NULL;` */
#define cleanup_error __attribute__((cleanup(appc_error_release)))

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
