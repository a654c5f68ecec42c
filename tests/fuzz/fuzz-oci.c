/* SPDX-License-Identifier: Apache-2.0 */
/* OCI image indexes, manifests and configs (oci/image.c), which come from
 * whoever made the image.  The input is parsed as each of the three.
 * Properties: a parsed index's descriptors all carry a digest this reads
 * and a size; a parsed manifest has at most OCI_MAX_LAYERS layers, each
 * with such a digest; a config parsed after it has one diff_id per layer. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "oci/internal.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void) argc;
  (void) argv;
  return 0;
}

static void check_descriptor(const struct oci_descriptor *d, const char *what)
{
  enum appc_digest_alg alg;
  const char *hex;

  if (d->digest == NULL || !appc_digest_parse(d->digest, &alg, &hex) || d->size < 0)
    fuzz_fail("%s: a descriptor without a digest or size was accepted", what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *json = (const char *) data;
  struct oci_descriptor *v = NULL;
  struct oci_image img = {0};
  appc_error_t err = NULL;
  size_t n = 0;

  if (oci_index_parse(json, size, "index", &v, &n, &err) == 0) {
    for (size_t i = 0; i < n; i++) {
      check_descriptor(&v[i], "index");
      oci_descriptor_clear(&v[i]);
    }
    free(v);
  } else if (err == NULL || err->msg[0] == '\0') {
    fuzz_fail("an index was refused without a message");
  }
  appc_error_release(&err);

  if (oci_manifest_parse(json, size, "manifest", &img, &err) == 0) {
    if (img.n_layers > OCI_MAX_LAYERS)
      fuzz_fail("%zu layers accepted", img.n_layers);
    check_descriptor(&img.config, "config");
    for (size_t i = 0; i < img.n_layers; i++)
      check_descriptor(&img.layers[i], "layer");
    if (oci_config_parse(json, size, "config", &img, &err) == 0) {
      size_t ids = 0;
      while (img.diff_ids != NULL && img.diff_ids[ids] != NULL)
        ids++;
      if (ids != img.n_layers)
        fuzz_fail("%zu diff_ids accepted for %zu layers", ids, img.n_layers);
    }
  }
  appc_error_release(&err);
  oci_image_clear(&img);

  /* A config alone: parsed or refused, never a crash. */
  struct oci_image alone = {0};
  (void) oci_config_parse(json, size, "config", &alone, &err);
  appc_error_release(&err);
  oci_image_clear(&alone);
  return 0;
}
