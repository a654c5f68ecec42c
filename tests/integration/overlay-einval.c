/* SPDX-License-Identifier: Apache-2.0 */
/* An LD_PRELOAD shim for the tests: a kernel whose overlayfs knows none of
 * the optional options (redirect_dir, metacopy, index, volatile), as
 * before Linux 4.10.  fsconfig(2) refuses each of those keys with EINVAL,
 * and mount(2) of an overlay whose options name one of them; everything
 * else goes to the kernel.  Each overlay mount(2) is logged, "refused
 * OPTIONS" or "mounted OPTIONS", one line each, to the file
 * $OVERLAY_EINVAL_LOG (when set), so that a test sees the executor's
 * fallback happen. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const optional[] = {"redirect_dir", "metacopy", "index", "volatile"};

static int is_optional(const char *key)
{
  for (size_t i = 0; i < sizeof optional / sizeof *optional; i++)
    if (key != NULL && strcmp(key, optional[i]) == 0)
      return 1;
  return 0;
}

/* Whether the comma-separated OPTS name an optional option. */
static int names_optional(const char *opts)
{
  char buf[4096];
  char *save = NULL;

  snprintf(buf, sizeof buf, "%s", opts);
  for (char *o = strtok_r(buf, ",", &save); o != NULL; o = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(o, '=');
    if (eq != NULL)
      *eq = '\0';
    if (is_optional(o))
      return 1;
  }
  return 0;
}

static void note(const char *what, const char *opts)
{
  const char *path = getenv("OVERLAY_EINVAL_LOG");
  char line[4200];
  int fd;

  if (path == NULL || (fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
    return;
  int n = snprintf(line, sizeof line, "%s %s\n", what, opts);
  if (n > 0)
    (void) write(fd, line, (size_t) n < sizeof line ? (size_t) n : sizeof line - 1);
  close(fd);
}

int fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux)
{
  if (is_optional(key)) {
    errno = EINVAL;
    return -1;
  }
  return (int) syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}

int mount(const char *source, const char *target, const char *type, unsigned long flags,
          const void *data)
{
  if (type != NULL && strcmp(type, "overlay") == 0 && data != NULL) {
    int refuse = names_optional(data);
    note(refuse ? "refused" : "mounted", data);
    if (refuse) {
      errno = EINVAL;
      return -1;
    }
  }
  return (int) syscall(SYS_mount, source, target, type, flags, data);
}
