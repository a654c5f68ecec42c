/* SPDX-License-Identifier: Apache-2.0 */
/* Pieces shared by the commands that read manifests and write ACIs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appc/aci.h"
#include "actool/actool.h"
#include "common/cleanup.h"
#include "common/fs.h"

int actool_check_aci_name(const char *command, const char *path)
{
  size_t len = strlen(path);
  if (len >= 4 && strcmp(path + len - 4, ".aci") == 0)
    return 0;
  return actool_usage_error(command, "%s: the output file name must end in .aci", path);
}

int actool_output_compression(const char *command, const char *name, bool no_compression,
                              enum appc_compression *out)
{
  if (appc_compression_from_string(name, out) < 0)
    return actool_usage_error(command, "unknown compression \"%s\" (gzip, bzip2, xz, none)", name);
  if (no_compression)
    *out = APPC_COMPRESSION_NONE;
  return 0;
}

int actool_read_manifest_fd(int fd, const char *path, char **out, size_t *out_len,
                            appc_error_t *err)
{
  struct stat st;

  if (fstat(fd, &st) < 0)
    return appc_error_make(err, errno, "%s: stat", path);
  if (!S_ISREG(st.st_mode))
    return appc_error_make(err, 0, "%s: not a regular file", path);
  return appc_read_fd(fd, path, ACTOOL_MANIFEST_MAX_BYTES, out, out_len, err);
}

int actool_read_manifest_file(const char *path, char **out, size_t *out_len, appc_error_t *err)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

  if (fd < 0)
    return appc_error_make(err, errno, "%s", path);
  return actool_read_manifest_fd(fd, path, out, out_len, err);
}
