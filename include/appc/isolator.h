/* SPDX-License-Identifier: Apache-2.0 */
/* Isolators (ace.md, and types/isolator*.go of the reference).
 *
 * Recognised names and their values:
 *   resource/cpu, resource/memory          {"default": false, "request": Q, "limit": Q}
 *   resource/block-bandwidth, block-iops,
 *   resource/network-bandwidth             {"default": true, "limit": Q} (no request)
 *   os/linux/capabilities-retain-set,
 *   os/linux/capabilities-remove-set       {"set": ["CAP_...", ...]} non-empty
 *   os/linux/seccomp-retain-set,
 *   os/linux/seccomp-remove-set            {"set": [...] non-empty, "errno": "E..."}
 *   os/linux/no-new-privileges             true | false
 *   os/linux/selinux-context               {"user", "role", "type", "level"}
 *   os/linux/oom-score-adj                 integer -1000..1000
 *   os/linux/cpu-shares                    integer 2..262144
 *   os/unix/sysctl                         {"key": "value", ...}
 * Q is a quantity string or number.  Other names (os/linux/apparmor-profile
 * among them: it is not part of v0.8.11) are "unknown": an app rejects them,
 * a pod keeps them verbatim, as the reference does.
 */
#ifndef APPC_ISOLATOR_H
#define APPC_ISOLATOR_H

#include <appc/error.h>
#include <appc/manifest.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

/* The isolator name of KIND ("resource/cpu"), or NULL for UNKNOWN. */
const char *appc_isolator_kind_name(enum appc_isolator_kind kind);
/* The kind of a name; APPC_ISOLATOR_UNKNOWN when not recognised. */
enum appc_isolator_kind appc_isolator_kind_from_name(const char *name);

/* Replace *ISO with the isolator NAME whose value is the JSON text
 * VALUE_JSON (NULL for no value), validating both; on failure *ISO is left
 * unchanged. */
int appc_isolator_set(struct appc_isolator *iso, const char *name, const char *value_json,
                      appc_error_t *err);
void appc_isolator_clear(struct appc_isolator *iso);

/* Append a copy of ISO to L. */
int appc_isolator_list_append(struct appc_isolator_list *l, const struct appc_isolator *iso,
                              appc_error_t *err);
/* Remove every isolator of kind KIND from L. */
void appc_isolator_list_remove_kind(struct appc_isolator_list *l, enum appc_isolator_kind kind);
void appc_isolator_list_clear(struct appc_isolator_list *l);

/* The rules on an app's isolator set: every name recognised, at most one of
 * each kind that does not allow several, and not both seccomp retain and
 * remove sets.  PATH names the list in messages ("app.isolators"). */
int appc_isolators_validate(const struct appc_isolator_list *l, const char *path,
                            appc_error_t *err);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
