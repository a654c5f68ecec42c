/* SPDX-License-Identifier: Apache-2.0 */
/* The struct appc_callbacks every long library operation gets from actool:
 * cancelled by SIGINT, SIGTERM and SIGHUP (actool_cancel_begin), --debug
 * lines, and a progress line on a terminal. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actool/actool.h"
#include "appc/callbacks.h"

struct progress_line {
  const struct actool_globals *g;
  bool tty;             /* stderr is a terminal: draw a progress line */
  bool drawn;           /* a progress line is on screen */
  struct timespec last; /* when it was last drawn */
  const char *what;     /* what it showed last, and how far */
  uint64_t done, total;
};

static struct progress_line line;

void actool_progress_clear(void)
{
  if (line.drawn)
    fputs("\r\033[K", stderr);
  line.drawn = false;
}

static void log_line(void *data, const char *msg)
{
  struct progress_line *l = data;

  if (!l->g->debug)
    return;
  actool_progress_clear();
  actool_debug(l->g, "%s", msg);
}

static void human(char *buf, size_t size, uint64_t n)
{
  if (n >= 10u << 20)
    snprintf(buf, size, "%.1f MiB", (double) n / (1 << 20));
  else
    snprintf(buf, size, "%.1f KiB", (double) n / 1024);
}

static bool too_soon(const struct progress_line *l, const struct timespec *now)
{
  return l->drawn &&
         (now->tv_sec - l->last.tv_sec) * 1000000000L + (now->tv_nsec - l->last.tv_nsec) <
             100000000L;
}

/* "Downloading NAME: 12.0 MiB / 200.0 MiB (6%)", redrawn at most ten times
 * a second (and the end at once), on a terminal only; never the same twice
 * (a download reports its end more than once). */
static void draw_progress(void *data, const char *what, uint64_t done, uint64_t total)
{
  struct progress_line *l = data;
  struct timespec now;
  char a[32], b[32];

  if (!l->tty)
    return;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (l->drawn && what == l->what && done == l->done && total == l->total)
    return;
  if (too_soon(l, &now) && (done != total || total == 0))
    return;
  l->last = now;
  l->drawn = true;
  l->what = what;
  l->done = done;
  l->total = total;
  human(a, sizeof a, done);
  const char *base = strrchr(what, '/');
  base = base != NULL && base[1] != '\0' ? base + 1 : what;
  if (total > 0) {
    human(b, sizeof b, total);
    fprintf(stderr, "\r\033[KDownloading %s: %s / %s (%u%%)", base, a, b,
            (unsigned) (done * 100 / total));
  } else {
    fprintf(stderr, "\r\033[KDownloading %s: %s", base, a);
  }
}

const struct appc_callbacks *actool_callbacks(const struct actool_globals *g)
{
  static struct appc_callbacks cb = {
      .data = &line, .cancelled = actool_cancelled, .progress = draw_progress, .log = log_line};

  line.g = g;
  line.tty = isatty(STDERR_FILENO) == 1;
  return &cb;
}
