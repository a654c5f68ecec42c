/* SPDX-License-Identifier: Apache-2.0 */
/* Validators for the appc value types (types.md, ace.md), usable on their own.
 *
 * Each returns 0 when S is valid, or -1 with an error that states the rule,
 * e.g. `"Foo" is not a valid AC Identifier: ...`.  The message carries no
 * JSON path: the manifest parser prefixes it.  The rules are those of the
 * reference implementation (appc/spec v0.8.11 Go package), which is what a
 * manifest verdict must agree with; see docs/conformance.md.
 */
#ifndef APPC_TYPES_H
#define APPC_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <appc/error.h>
#include <appc/manifest.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

/* AC Identifier: [a-z0-9]+([-._~/][a-z0-9]+)*  (image names, label names) */
int appc_validate_acidentifier(const char *s, appc_error_t *err);
/* AC Name: [a-z0-9]+(-[a-z0-9]+)*  (app, volume, port, mount names) */
int appc_validate_acname(const char *s, appc_error_t *err);
/* An AC Name made of TEXT (malloc'd; NULL: out of memory): lower case,
 * each run of other characters one '-', none at either end; FALLBACK when
 * nothing is left ("My_App.v2" gives "my-app-v2"). */
char *appc_acname_make(const char *text, const char *fallback);
/* AC Kind: "ImageManifest" or "PodManifest". */
int appc_validate_ackind(const char *s, appc_error_t *err);
/* SemVer 2.0.0 as coreos/go-semver reads it, and not 0.0.0. */
int appc_validate_semver(const char *s, appc_error_t *err);
/* Image ID as the reference's types.NewHash accepts it: "sha512-" followed by
 * a non-empty value without '-'.  The value is not checked further. */
int appc_validate_hash(const char *s, appc_error_t *err);
/* A full image ID: "sha512-" followed by exactly 128 lower-case hex digits
 * (what the ACI module computes; stricter than manifests require). */
int appc_validate_image_id_full(const char *s, appc_error_t *err);
/* Environment variable name: [A-Za-z_][A-Za-z_0-9.-]* */
int appc_validate_env_name(const char *s, appc_error_t *err);
/* Absolute http or https URL, as Go's url.Parse plus a scheme check. */
int appc_validate_url(const char *s, appc_error_t *err);
/* RFC 3339 date-time, as Go's time.Parse(time.RFC3339, s). */
int appc_validate_date(const char *s, appc_error_t *err);
/* UUID: 32 hex digits once the '-' are removed, and not all zero. */
int appc_validate_uuid(const char *s, appc_error_t *err);
/* IPv4 dotted quad or IPv6 text (Go's net.ParseIP). */
int appc_validate_ip(const char *s, appc_error_t *err);
/* Port 1..65535 and port+count <= 65536, without wrap-around (unlike the
 * reference); a count of 0 means 1. */
int appc_validate_port_range(uint64_t port, uint64_t count, appc_error_t *err);
/* Resource quantity: "500m", "1G", "123Mi", "1.5e3" (resource/quantity.go). */
int appc_validate_quantity(const char *s, appc_error_t *err);
/* The value of the quantity TEXT times 10^SCALE_EXP, rounded up to an
 * integer: "500m" at scale 3 is 500 (millicores), "1Gi" at 0 is 2^30.
 * Errors: an invalid quantity, a negative one, one above INT64_MAX, one with
 * more than 38 significant digits.  The exponent of "1e<int>" is the int32
 * the reference keeps of it. */
int appc_quantity_value(const char *text, int scale_exp, int64_t *out, appc_error_t *err);
/* Seccomp errno: "" or E[A-Z0-9]* (ASCII only, unlike the reference). */
int appc_validate_seccomp_errno(const char *s, appc_error_t *err);

/* Informational checks that manifests do not require (the reference accepts
 * any string in these places); later modules may use them to warn. */
bool appc_is_linux_capability(const char *s); /* "CAP_SYS_ADMIN", ... */
int appc_errno_value(const char *name);       /* "EPERM" -> EPERM; -1 if not an errno name */
bool appc_is_seccomp_wildcard(const char *s); /* "@appc.io/all", ... */
bool appc_is_octal_mode(const char *s);       /* "0755" */

/* The collection validators name the failing element under PATH, e.g.
 * `labels[2].name: duplicate label "os"`.
 *
 * Labels: unique names, not "name", and os/arch from the whitelist
 * (linux, freebsd, darwin and their architectures). */
int appc_validate_labels(const struct appc_kv_list *labels, const char *path, appc_error_t *err);
/* Annotations: unique names; "created" a date; "homepage" and
 * "documentation" URLs. */
int appc_validate_annotations(const struct appc_kv_list *annotations, const char *path,
                              appc_error_t *err);
/* Environment: valid and unique names. */
int appc_validate_environment(const struct appc_kv_list *env, const char *path, appc_error_t *err);
/* Volume: name set; kind "empty" (no source; mode, uid, gid set) or "host"
 * (absolute source; no mode, uid, gid). */
int appc_validate_volume(const struct appc_volume *v, const char *path, appc_error_t *err);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
