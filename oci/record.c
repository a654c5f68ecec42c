/* SPDX-License-Identifier: Apache-2.0 */
/* What this store's OCI imports made (cache/oci/): a file per layer made
 * on a given layer below, and per registry manifest pulled, holding the
 * image ID made of it.  Only the importer writes them, once the content
 * was checked against its digests.  An image's own annotations
 * (appc.io/oci/diff-id, appc.io/oci/manifest...) vouch for nothing: any
 * ACI imported with --insecure-options=image can carry them, and an image
 * found by them would stand in for a layer or a manifest pulled by digest
 * (docs/oci.md). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "oci/internal.h"

#define RECORD_MAX (APPC_IMAGE_ID_LEN + 1)

/* The record's file name: KIND-SHA256(the parts, each ended by a NUL). */
static int record_name(const char *kind, const char *const *parts, size_t n,
                       char name[OCI_RECORD_NAME_MAX], appc_error_t *err)
{
  cleanup_digest struct appc_digest *d = NULL;
  char hex[APPC_DIGEST_HEX_MAX];

  if (appc_digest_new(APPC_DIGEST_SHA256, &d, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    const char *part = parts[i] != NULL ? parts[i] : "";
    appc_digest_update(d, part, strlen(part) + 1);
  }
  if (appc_digest_final(d, hex, err) < 0)
    return -1;
  snprintf(name, OCI_RECORD_NAME_MAX, "%s-%s", kind, hex);
  return 0;
}

int oci_record_put(struct appc_store *s, const char *kind, const char *const *parts, size_t n,
                   const char *id, appc_error_t *err)
{
  char name[OCI_RECORD_NAME_MAX], text[RECORD_MAX + 1];
  cleanup_close int dir = -1;

  if (record_name(kind, parts, n, name, err) < 0)
    return -1;
  if ((dir = appc_store_area_open(s, APPC_STORE_AREA_OCI_CACHE, true, err)) < 0)
    return -1;
  snprintf(text, sizeof text, "%s\n", id);
  return appc_atomic_write_at(dir, name, text, strlen(text), 0644, 0, err);
}

bool oci_record_get(struct appc_store *s, const char *kind, const char *const *parts, size_t n,
                    char id[APPC_IMAGE_ID_LEN + 1])
{
  char name[OCI_RECORD_NAME_MAX];
  cleanup_free char *text = NULL;
  cleanup_close int dir = -1;
  struct appc_store_image img = {0};
  appc_error_t e = NULL;
  size_t len = 0;
  bool found = false;

  if (record_name(kind, parts, n, name, &e) == 0 &&
      (dir = appc_store_area_open(s, APPC_STORE_AREA_OCI_CACHE, false, &e)) >= 0 &&
      appc_read_file_at(dir, name, RECORD_MAX, APPC_READ_REGULAR | APPC_READ_NOFOLLOW, &text, &len,
                        &e) == 0 &&
      len == RECORD_MAX && text[APPC_IMAGE_ID_LEN] == '\n') {
    text[APPC_IMAGE_ID_LEN] = '\0';
    /* the image may have been removed since */
    if (appc_store_lookup(s, text, &img, &e) == 0 && strcmp(img.id, text) == 0) {
      memcpy(id, img.id, APPC_IMAGE_ID_LEN + 1);
      found = true;
    }
  }
  appc_store_image_clear(&img);
  appc_error_release(&e);
  return found;
}
