/* SPDX-License-Identifier: Apache-2.0 */
/* One OCI layer into an ACI (oci/convert.c): the input is an uncompressed
 * layer tar, given the digest and diff_id it has.  Properties: the
 * conversion fails with a message, or gives an ACI that validates (every
 * entry under rootfs/, a valid manifest, no name that leaves the rootfs)
 * and whose whitelist, when the layer had whiteouts, is present. */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appc/aci.h"
#include "common/cleanup.h"
#include "common/digest.h"
#include "oci/internal.h"
#include "tests/fuzz/fuzz.h"

static int tmp_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void) argc;
  (void) argv;
  tmp_fd = open(fuzz_scratch_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tmp_fd < 0)
    fuzz_fail("opening %s: %m", fuzz_scratch_dir());
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct appc_digest *d = NULL;
  appc_error_t err = NULL;
  char hex[APPC_DIGEST_HEX_MAX], digest[8 + APPC_DIGEST_HEX_MAX], path[64],
      id[APPC_IMAGE_ID_LEN + 1];
  struct oci_paths paths = {0};
  int aci_fd = -1;

  if (appc_digest_new(APPC_DIGEST_SHA256, &d, &err) < 0)
    fuzz_fail("sha256: %s", err->msg);
  appc_digest_update(d, data, size);
  if (appc_digest_final(d, hex, &err) < 0)
    fuzz_fail("sha256: %s", err->msg);
  appc_digest_free(d);
  snprintf(digest, sizeof digest, "sha256:%s", hex);
  struct oci_descriptor desc = {.media_type = (char *) "application/vnd.oci.image.layer.v1.tar",
                                .digest = digest,
                                .size = (int64_t) size};
  struct oci_layer_aci a = {.name = "example.com/fuzz", .tmp_dirfd = tmp_fd};
  cleanup_close int fd = fuzz_memfd(data, size, path);

  if (oci_layer_convert(fd, &desc, digest, &a, &paths, &aci_fd, id, NULL, &err) < 0) {
    if (err == NULL || err->msg[0] == '\0')
      fuzz_fail("a layer was refused without a message");
    appc_error_release(&err);
    oci_paths_clear(&paths);
    return 0;
  }
  struct appc_source *src = NULL;
  struct appc_aci_info info;
  if (appc_source_open_fd(&src, aci_fd, "converted", &err) < 0 ||
      appc_aci_validate_source(src, NULL, &info, &err) < 0)
    fuzz_fail("the ACI made of a layer does not validate: %s", err->msg);
  if (strcmp(info.image_id, id) != 0)
    fuzz_fail("the converter's image ID %s is not the ACI's %s", id, info.image_id);
  if (paths.whited_out && info.manifest->path_whitelist.len == 0 && paths.n > 0)
    fuzz_fail("whiteouts, and no pathWhitelist");
  appc_aci_info_clear(&info);
  appc_source_free(src);
  close(aci_fd);
  oci_paths_clear(&paths);
  return 0;
}
