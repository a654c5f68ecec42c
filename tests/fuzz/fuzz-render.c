/* SPDX-License-Identifier: Apache-2.0 */
/* Rendering: the tar reader and the pathWhitelist and layering rules of
 * store/render.c, applied to hostile archives.
 *
 * Input: a flags byte, a byte giving where the archives split (in 512-byte
 * blocks), a byte N, N NUL-terminated pathWhitelist entries, then the
 * archive bytes: the upper layer up to the split, the lower one after it
 * (each any compression).  Properties: rendering never creates anything
 * outside its target directory, whatever the archives hold (a sentinel
 * directory beside the target stays empty) and nothing beside it; and the
 * digest of a finished render, taken from the content hashes it made while
 * writing (holes counted, not read), is the one `image verify` computes by
 * reading the tree back. */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "store/internal.h"
#include "tests/fuzz/fuzz.h"

#define MAX_WHITELIST 4

static void render(const uint8_t *upper, size_t upper_len, const uint8_t *lower, size_t lower_len,
                   struct appc_whitelist *wl, bool as_root, const char *target)
{
  cleanup_error appc_error_t err = NULL;
  cleanup_close int root_fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct appc_render *r = NULL;
  const struct appc_whitelist *filters[] = {wl};
  const struct appc_render_options opts = {.as_root = as_root};
  char upper_path[64], lower_path[64], digest[APPC_TREE_DIGEST_LEN + 1];
  int upper_fd = fuzz_memfd(upper, upper_len, upper_path);
  int lower_fd = fuzz_memfd(lower, lower_len, lower_path);

  if (root_fd < 0)
    fuzz_fail("open %s: %m", target);
  if (appc_render_new(&r, root_fd, &opts, &err) < 0)
    fuzz_fail("appc_render_new: %s", err->msg);
  const struct appc_render_layer top = {upper_path, filters, 1, NULL};
  const struct appc_render_layer bottom = {lower_path, NULL, 0, NULL};
  if (appc_render_layer(r, &top, &err) == 0 && lower_len > 0)
    (void) appc_render_layer(r, &bottom, &err);
  if (err == NULL && appc_render_finish(r, digest, &err) == 0) {
    char again[APPC_TREE_DIGEST_LEN + 1];
    if (appc_tree_digest(root_fd, NULL, NULL, again, &err) < 0)
      fuzz_fail("the digest of a finished render: %s", err->msg);
    if (strcmp(digest, again) != 0)
      fuzz_fail("render digest %s, read back %s", digest, again);
  }
  appc_render_free(r);
  close(upper_fd);
  close(lower_fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *scratch = fuzz_scratch_dir();
  char target[4096], sentinel[4096];
  struct appc_string_list paths = {0};
  char *items[MAX_WHITELIST];
  cleanup_error appc_error_t err = NULL;
  struct appc_whitelist wl;
  size_t split, n;
  bool as_root;

  if (size < 3 || size > (1u << 20))
    return 0;
  as_root = data[0] & 1;
  split = (size_t) data[1] * 512;
  n = data[2] % (MAX_WHITELIST + 1);
  data += 3;
  size -= 3;
  for (size_t i = 0; i < n; i++) {
    const uint8_t *nul = memchr(data, '\0', size);
    if (nul == NULL)
      return 0;
    items[i] = (char *) data;
    size -= (size_t) (nul - data) + 1;
    data = nul + 1;
  }
  paths.items = items;
  paths.len = n;
  if (appc_whitelist_init(&wl, &paths, &err) < 0)
    return 0;
  if (split > size)
    split = size;

  snprintf(target, sizeof target, "%s/rootfs", scratch);
  snprintf(sentinel, sizeof sentinel, "%s/beside", scratch);
  if (mkdir(target, 0755) < 0 || mkdir(sentinel, 0755) < 0)
    fuzz_fail("mkdir in %s: %m", scratch);
  render(data, split, data + split, size - split, &wl, as_root, target);
  if (fuzz_count_entries(sentinel) != 0)
    fuzz_fail("rendering wrote into %s, beside its target", sentinel);
  if (fuzz_count_entries(scratch) != 2)
    fuzz_fail("rendering created something beside its target in %s", scratch);
  fuzz_empty_dir(scratch);
  appc_whitelist_clear(&wl);
  return 0;
}
