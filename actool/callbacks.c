/* SPDX-License-Identifier: Apache-2.0 */
/* The struct appc_callbacks every long library operation gets from actool:
 * cancelled by SIGINT, SIGTERM and SIGHUP (actool_cancel_begin), --debug
 * lines, notices on stderr, and a progress line on a terminal. */
#include "config.h"

#include <pthread.h>
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
  struct timespec start; /* when WHAT began, and how far it was then */
  uint64_t start_done;
};

static struct progress_line line;
/* The library calls back from its worker threads too (parallel downloads):
 * one line at a time. */
static pthread_mutex_t line_lock = PTHREAD_MUTEX_INITIALIZER;

static void progress_clear_locked(void)
{
  if (line.drawn)
    fputs("\r\033[K", stderr);
  line.drawn = false;
}

void actool_progress_clear(void)
{
  pthread_mutex_lock(&line_lock);
  progress_clear_locked();
  pthread_mutex_unlock(&line_lock);
}

static void log_line(void *data, const char *msg)
{
  struct progress_line *l = data;

  if (!l->g->debug)
    return;
  pthread_mutex_lock(&line_lock);
  progress_clear_locked();
  actool_debug(l->g, "%s", msg);
  pthread_mutex_unlock(&line_lock);
}

/* A notice (a wait for another process's lock) reaches every user, asked
 * for details or not: a command that waits without a word looks hung. */
static void notice_line(void *data, const char *msg)
{
  (void) data;
  pthread_mutex_lock(&line_lock);
  progress_clear_locked();
  actool_error("%s", msg);
  pthread_mutex_unlock(&line_lock);
}

/* N bytes in B, KiB, MiB or GiB: "512 B", "12.0 MiB". */
static void human(char *buf, size_t size, uint64_t n)
{
  static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = (double) n / 1024;
  size_t u = 0;

  if (n < 1024) {
    snprintf(buf, size, "%u B", (unsigned) n);
    return;
  }
  while (v >= 1024 && u + 1 < sizeof units / sizeof *units) {
    v /= 1024;
    u++;
  }
  snprintf(buf, size, "%.1f %s", v, units[u]);
}

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
  return (double) (b->tv_sec - a->tv_sec) + (double) (b->tv_nsec - a->tv_nsec) / 1e9;
}

/* ", 3.2 MiB/s, 0:58 left" once a rate can be told (after half a second),
 * without the time left when the total is unknown or reached. */
static void rate_text(char *buf, size_t size, const struct progress_line *l,
                      const struct timespec *now, uint64_t done, uint64_t total)
{
  double secs = seconds_between(&l->start, now);
  char r[32];

  buf[0] = '\0';
  if (secs < 0.5 || done <= l->start_done)
    return;
  double rate = (double) (done - l->start_done) / secs;
  human(r, sizeof r, (uint64_t) rate);
  if (total > done) {
    unsigned long left = (unsigned long) ((double) (total - done) / rate + 0.5);
    char t[48];
    if (left >= 3600)
      snprintf(t, sizeof t, "%lu:%02lu:%02lu", left / 3600, left / 60 % 60, left % 60);
    else
      snprintf(t, sizeof t, "%lu:%02lu", left / 60, left % 60);
    if ((size_t) snprintf(buf, size, ", %s/s, %s left", r, t) >= size)
      buf[0] = '\0';
  } else if ((size_t) snprintf(buf, size, ", %s/s", r) >= size) {
    buf[0] = '\0';
  }
}

static bool too_soon(const struct progress_line *l, const struct timespec *now)
{
  return l->drawn &&
         (now->tv_sec - l->last.tv_sec) * 1000000000L + (now->tv_nsec - l->last.tv_nsec) <
             100000000L;
}

/* "Downloading NAME: 12.0 MiB / 200.0 MiB (6%), 3.2 MiB/s, 0:58 left"
 * (VERB NAME), redrawn at most ten times a second (and the end at once), on
 * a terminal only and not with --quiet; never the same twice (a download
 * reports its end more than once). */
static void draw_progress(struct progress_line *l, const char *verb, const char *what,
                          uint64_t done, uint64_t total)
{
  struct timespec now;
  char a[32], b[32];

  if (!l->tty)
    return;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (l->drawn && what == l->what && done == l->done && total == l->total)
    return;
  if (what != l->what) {
    l->start = now;
    l->start_done = done;
  }
  if (too_soon(l, &now) && (done != total || total == 0))
    return;
  char rate[128];
  rate_text(rate, sizeof rate, l, &now, done, total);
  l->last = now;
  l->drawn = true;
  l->what = what;
  l->done = done;
  l->total = total;
  human(a, sizeof a, done);
  const char *base = strrchr(what, '/');
  base = base != NULL && base[1] != '\0' ? base + 1 : what;
  /* An image's blob by its short ID, as image list shows it. */
  int len = strncmp(base, "sha512-", 7) == 0 ? 19 : (int) strlen(base);
  if (total > 0) {
    human(b, sizeof b, total);
    fprintf(stderr, "\r\033[K%s %.*s: %s / %s (%u%%)%s", verb, len, base, a, b,
            (unsigned) (done * 100 / total), rate);
  } else {
    fprintf(stderr, "\r\033[K%s %.*s: %s%s", verb, len, base, a, rate);
  }
}

/* The verb of a progress line: what the library says the step does. */
static const char *progress_verb(enum appc_progress_op op)
{
  switch (op) {
  case APPC_PROGRESS_DOWNLOAD:
    return "Downloading";
  case APPC_PROGRESS_BUILD:
    return "Building";
  case APPC_PROGRESS_RENDER:
    return "Rendering";
  case APPC_PROGRESS_VERIFY:
    return "Verifying";
  case APPC_PROGRESS_EXPORT:
    return "Exporting";
  case APPC_PROGRESS_CONVERT:
    return "Converting";
  case APPC_PROGRESS_READ:
    break;
  }
  return "Reading";
}

static void library_progress(void *data, enum appc_progress_op op, const char *what, uint64_t done,
                             uint64_t total)
{
  pthread_mutex_lock(&line_lock);
  draw_progress(data, progress_verb(op), what, done, total);
  pthread_mutex_unlock(&line_lock);
}

void actool_progress(const char *verb, const char *what, uint64_t done, uint64_t total)
{
  if (line.g == NULL)
    return;
  pthread_mutex_lock(&line_lock);
  draw_progress(&line, verb, what, done, total);
  pthread_mutex_unlock(&line_lock);
}

const struct appc_callbacks *actool_callbacks(const struct actool_globals *g)
{
  static struct appc_callbacks cb = {.data = &line,
                                     .cancelled = actool_cancelled,
                                     .progress_op = library_progress,
                                     .log = log_line,
                                     .notice = notice_line};

  line.g = g;
  line.tty = isatty(STDERR_FILENO) == 1 && !g->quiet;
  return &cb;
}
