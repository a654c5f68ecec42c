/* SPDX-License-Identifier: Apache-2.0 */
/* Pieces shared by the commands that read manifests and write ACIs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aci/aci.h"
#include "actool/actool.h"
#include "common/cleanup.h"

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
  cleanup_free char *buf = NULL;
  size_t len = 0;

  if (fstat(fd, &st) < 0)
    return appc_error_make(err, errno, "%s: stat", path);
  if (!S_ISREG(st.st_mode))
    return appc_error_make(err, 0, "%s: not a regular file", path);
  if (st.st_size > (off_t) ACTOOL_MANIFEST_MAX_BYTES)
    return appc_error_make(err, 0, "%s: manifest is %lld bytes, more than the limit of %u", path,
                           (long long) st.st_size, ACTOOL_MANIFEST_MAX_BYTES);
  buf = malloc((size_t) st.st_size + 1);
  if (buf == NULL)
    return appc_error_make(err, ENOMEM, "%s", path);
  /* Read one byte more than stat promised, to notice a file that grows. */
  while (len <= (size_t) st.st_size) {
    ssize_t n = pread(fd, buf + len, (size_t) st.st_size + 1 - len, (off_t) len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return appc_error_make(err, errno, "%s: read", path);
    if (n == 0)
      break;
    len += (size_t) n;
  }
  if (len > (size_t) st.st_size)
    return appc_error_make(err, 0, "%s: file grew while being read", path);
  *out = steal_pointer(&buf);
  *out_len = len;
  return 0;
}

int actool_read_manifest_file(const char *path, char **out, size_t *out_len, appc_error_t *err)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

  if (fd < 0)
    return appc_error_make(err, errno, "%s", path);
  return actool_read_manifest_fd(fd, path, out, out_len, err);
}
