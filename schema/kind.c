/* SPDX-License-Identifier: Apache-2.0 */
/* Peek at a manifest's kind, as the reference's schema.Kind does before it
 * picks the manifest type: acKind must be a known kind and acVersion, when
 * present, a valid non-zero SemVer. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "schema/internal.h"
#include "appc/schema.h"

struct kind_fields {
  char *ac_version;
  char *ac_kind;
};

int appc_manifest_kind(const char *json, size_t len, enum appc_manifest_kind *kind,
                       appc_error_t *err)
{
  static const struct appc_jfield fields[] = {
      {"acVersion", appc_jdecode_semver, offsetof(struct kind_fields, ac_version)},
      {"acKind", appc_jdecode_ackind, offsetof(struct kind_fields, ac_kind)},
  };
  cleanup_jtree struct appc_jtree *tree = NULL;
  struct kind_fields k = {NULL, NULL};
  struct appc_jctx c = {.err = err};
  int r;

  if (appc_json_parse(json, len, &tree, err) < 0)
    return -1;
  r = appc_jdecode_fields(&c, tree->root, fields, &k);
  if (r == 0 && k.ac_kind == NULL)
    r = appc_error_make(err, 0, "acKind: must be set");
  if (r == 0)
    *kind = strcmp(k.ac_kind, "ImageManifest") == 0 ? APPC_MANIFEST_IMAGE : APPC_MANIFEST_POD;
  free(k.ac_version);
  free(k.ac_kind);
  return r;
}
