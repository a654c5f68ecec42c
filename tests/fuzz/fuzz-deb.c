/* SPDX-License-Identifier: Apache-2.0 */
/* A .deb as a mirror hands it over (deb/deb.c): the ar archive, the
 * control.tar read by deb_check, and the data.tar that deb_unpack writes
 * into a rootfs.  Input: the .deb's bytes.  Properties: deb_check fails
 * with a message or gives a control file; a .deb deb_check took unpacks
 * or fails with a message, never creating anything outside its rootfs (a
 * sentinel directory beside it stays empty, and nothing else appears
 * beside it), leaving the rootfs empty when it fails (the unpacking is
 * staged), and the list of what it wrote names only paths under "/". */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "deb/internal.h"
#include "tests/fuzz/fuzz.h"

static void check_list(const char *list)
{
  for (const char *line = list; *line != '\0';) {
    const char *end = strchr(line, '\n');
    if (end == NULL)
      fuzz_fail("the list of unpacked paths does not end with a newline");
    if (line[0] != '/' || strstr(line, "/../") != NULL)
      fuzz_fail("unpacked path \"%.*s\" is not under /", (int) (end - line), line);
    line = end + 1;
  }
}

static void unpack(const char *path, const char *root)
{
  cleanup_error appc_error_t err = NULL;
  cleanup_close int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_free char *list = NULL;

  if (root_fd < 0)
    fuzz_fail("open %s: %m", root);
  struct deb_stage stage;

  deb_stage_init(&stage, root_fd);
  if (deb_unpack(&stage, path, "fuzz.deb", &list, &err) < 0) {
    if (err == NULL || err->msg[0] == '\0')
      fuzz_fail("deb_unpack failed without a message");
    deb_stage_clear(&stage);
    if (fuzz_count_entries(root) != 0)
      fuzz_fail("a failed unpacking left something in the rootfs");
    return;
  }
  if (deb_stage_commit(&stage, &err) < 0)
    fuzz_fail("the commit failed: %s", err != NULL ? err->msg : "");
  deb_stage_clear(&stage);
  check_list(list != NULL ? list : "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *scratch = fuzz_scratch_dir();
  cleanup_error appc_error_t err = NULL;
  struct deb_control control = {0};
  char path[64], root[4096], sentinel[4096];

  if (size > (1u << 20))
    return 0;
  cleanup_close int fd = fuzz_memfd(data, size, path);
  if (fd < 0)
    fuzz_fail("a memfd for the input: %m");
  /* scripts read, and a budget and a bound that an input may exceed */
  size_t control_left = 256 << 10;
  const struct deb_check_opts co = {
      .scripts = true, .control_left = &control_left, .data_max = 64 << 20};
  if (deb_check(path, "fuzz.deb", &co, &control, &err) < 0) {
    if (err == NULL || err->msg[0] == '\0')
      fuzz_fail("deb_check failed without a message");
    return 0;
  }
  if (control.control == NULL)
    fuzz_fail("deb_check took a .deb without a control file");
  deb_control_clear(&control);

  snprintf(root, sizeof root, "%s/rootfs", scratch);
  snprintf(sentinel, sizeof sentinel, "%s/beside", scratch);
  if (mkdir(root, 0755) < 0 || mkdir(sentinel, 0755) < 0)
    fuzz_fail("mkdir in %s: %m", scratch);
  unpack(path, root);
  if (fuzz_count_entries(sentinel) != 0)
    fuzz_fail("unpacking wrote into %s, beside its rootfs", sentinel);
  if (fuzz_count_entries(scratch) != 2)
    fuzz_fail("unpacking created something beside its rootfs in %s", scratch);
  fuzz_empty_dir(scratch);
  return 0;
}
