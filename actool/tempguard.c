/* SPDX-License-Identifier: Apache-2.0 */
/* Remove a build's temporary output file when actool is interrupted.
 *
 * The library writes through O_TMPFILE where it can, so an interrupted build
 * leaves nothing behind; where it has to use a named temporary file it tells
 * us the name (appc_build_options.temp_notify), and this handler unlinks it
 * before the signal takes its default course.  The CLI, not the library, owns
 * signal dispositions, hence this small piece of process-global state. */
#include "config.h"

#include <limits.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "actool/actool.h"
#include "common/macros.h"

static char guarded_path[PATH_MAX];
static volatile sig_atomic_t guarded;
static volatile sig_atomic_t cancellable;
static volatile sig_atomic_t cancel_signal;

static void unlink_and_reraise(int sig)
{
  if (cancellable) {
    if (cancel_signal == 0)
      cancel_signal = sig;
    return;
  }
  if (guarded)
    unlink(guarded_path);
  signal(sig, SIG_DFL);
  raise(sig);
}

void actool_cancel_begin(void)
{
  cancel_signal = 0;
  cancellable = 1;
}

bool actool_cancelled(void *data)
{
  (void) data;
  return cancel_signal != 0;
}

void actool_cancel_end(void)
{
  int sig = cancel_signal;

  cancellable = 0;
  if (sig != 0) {
    signal(sig, SIG_DFL);
    raise(sig);
  }
}

static void block_signals(sigset_t *old)
{
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, old);
}

void actool_temp_notify(const char *tmp_path, void *data)
{
  sigset_t old;

  block_signals(&old);
  guarded = 0;
  if (tmp_path != NULL && strlen(tmp_path) < sizeof guarded_path) {
    strcpy(guarded_path, tmp_path);
    guarded = 1;
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
}

void actool_install_temp_guard(void)
{
  static const int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  struct sigaction sa;

  memset(&sa, 0, sizeof sa);
  sa.sa_handler = unlink_and_reraise;
  sigfillset(&sa.sa_mask);
  for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
    sigaction(signals[i], &sa, NULL);
}
