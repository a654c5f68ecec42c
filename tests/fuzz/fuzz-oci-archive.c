/* SPDX-License-Identifier: Apache-2.0 */
/* `docker save` archives (oci/archive.c): the input is the archive.
 * Properties: the import fails with a message or gives an image in the
 * store; either way the store's tmp/ is left empty. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "appc/oci.h"
#include "appc/store.h"
#include "common/cleanup.h"
#include "tests/fuzz/fuzz.h"

static struct appc_store *store;
static char tmp_dir[2100];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  cleanup_error appc_error_t err = NULL;
  char dir[2048];

  (void) argc;
  (void) argv;
  snprintf(dir, sizeof dir, "%.1000s/store", fuzz_scratch_dir());
  if (appc_store_open(&store, dir, &err) < 0)
    fuzz_fail("opening the store: %s", err->msg);
  snprintf(tmp_dir, sizeof tmp_dir, "%s/tmp", dir);
  return 0;
}

static size_t entries(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  size_t n = 0;

  if (d == NULL)
    return 0;
  while ((e = readdir(d)) != NULL)
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct appc_oci_import_options opts = {.name = "example.com/fuzz"};
  struct appc_store_image img;
  appc_error_t err = NULL;
  char path[64];
  cleanup_close int fd = fuzz_memfd(data, size, path);

  if (fd < 0)
    fuzz_fail("a memfd for the input: %m");
  if (appc_oci_import_docker_archive(store, path, NULL, &opts, &img, &err) < 0) {
    if (err == NULL || err->msg[0] == '\0')
      fuzz_fail("an archive was refused without a message");
    appc_error_release(&err);
  } else {
    if (strncmp(img.id, "sha512-", 7) != 0)
      fuzz_fail("an import gave no image ID");
    appc_store_image_clear(&img);
  }
  if (entries(tmp_dir) != 0)
    fuzz_fail("the store's tmp/ holds something after an import");
  return 0;
}
