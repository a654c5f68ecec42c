/* SPDX-License-Identifier: Apache-2.0 */
/* A pseudo-terminal for a command entered into a pod (`enter --tty`), as
 * `docker exec -t`, `ssh -t` and runc's console socket give one: the
 * terminal is the pod's (opened from the pod's own devpts, owned by the
 * command's user), the command its session leader, and the caller relays
 * bytes between its own terminal, put in raw mode for the while, and the
 * pseudo-terminal's master side.  So the command has job control, line
 * editing and window size, and the operator's terminal stays out of the
 * pod's reach (no TIOCSTI into the host's shell). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "ace/internal.h"
#include "common/error.h"
#include "common/fs.h"

/* The slave of MASTER (locked) made its opener's alone (0600) before it
 * can be opened: an app's process in the terminal's group (gid 0 is
 * common) would otherwise open it before the command, and a session
 * leader's open without O_NOCTTY would take it as its controlling
 * terminal, which the command then could not.  By its path in the pod's
 * devpts, which the app cannot replace (a mount point) nor add to. */
static int slave_private(int master)
{
  char path[32];
  int n;

  if (ioctl(master, TIOCGPTN, &n) < 0)
    return -1;
  snprintf(path, sizeof path, "/dev/pts/%d", n);
  return fchmodat(AT_FDCWD, path, 0600, 0);
}

int ace_pty_open(const struct winsize *size, int *master_out, int *slave_out, appc_error_t *err)
{
  int unlock = 0;
  struct statfs fs;
  /* The pod's devpts instance's own ptmx, not its /dev/ptmx symlink nor
   * anything else the app (root in its root) may have put there: a FIFO
   * would not block this open, nor pass for a devpts file. */
  int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

  if (master < 0)
    return appc_error_make(err, errno, "the pod's /dev/pts/ptmx");
  if (fstatfs(master, &fs) < 0 || fs.f_type != DEVPTS_SUPER_MAGIC) {
    close(master);
    return appc_error_make(err, ENOTTY, "the pod's /dev/pts/ptmx: not its devpts instance's");
  }
  /* TIOCGPTPEER opens the peer through the master itself, not by a path
   * in the pod's /dev/pts. */
  int slave = -1;
  if (slave_private(master) < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0 ||
      (slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
      (size != NULL && size->ws_row > 0 && ioctl(slave, TIOCSWINSZ, size) < 0)) {
    appc_error_make(err, errno, "the pod's pseudo-terminal");
    if (slave >= 0)
      close(slave);
    close(master);
    return -1;
  }
  *master_out = master;
  *slave_out = slave;
  return 0;
}

int ace_pty_become_controlled(int slave, uid_t owner, appc_error_t *err)
{
  /* A session leader of the pod's root that opened the slave (without
   * O_NOCTTY) has it as its controlling terminal: taken back, as root of
   * the host may (TIOCSCTTY's force, CAP_SYS_ADMIN); else refused. */
  if (setsid() < 0 || (ioctl(slave, TIOCSCTTY, 0) < 0 && ioctl(slave, TIOCSCTTY, 1) < 0))
    return appc_error_make(err, errno,
                           "the pod's pseudo-terminal: another session of the pod has it as its "
                           "controlling terminal");
  /* grantpt's rule, now that it is the command's: its user's, writable by
   * the group only */
  if (fchown(slave, owner, (gid_t) -1) < 0 || fchmod(slave, 0620) < 0)
    return appc_error_make(err, errno, "the pod's pseudo-terminal");
  for (int fd = 0; fd <= 2; fd++)
    if (dup2(slave, fd) < 0)
      return appc_error_make(err, errno, "the pod's pseudo-terminal");
  if (slave > 2)
    close(slave);
  return 0;
}

/* ---- the caller's side ------------------------------------------------------------------- */

/* Bytes on their way from one descriptor to another.  Nothing is read into
 * a buffer before it is empty again, so a side that does not read holds up
 * only its own direction. */
struct pty_flow {
  char data[8192];
  size_t off, len;
};

/* After the helper's exit, what the pod's terminal still holds is relayed
 * until it hangs up (every slave descriptor closed), or until it has been
 * silent for PTY_LINGER_MS while enter had nothing left to write (a
 * process left in the pod keeps it open), or PTY_DRAIN_MAX_MS at most (one
 * that keeps writing). */
#define PTY_LINGER_MS 200
#define PTY_DRAIN_MAX_MS 5000

/* A SIGTERM, SIGHUP, SIGINT or SIGQUIT sent to enter (with a terminal, its
 * own keys go to the pod: a signal comes from someone who wants enter to
 * end) goes to the command; if the helper has not ended PTY_LEAVE_MS later,
 * the pod's terminal hangs up (SIGHUP and SIGCONT to the command's session,
 * which a stopped command gets too); PTY_LEAVE_MS after that, enter ends
 * without it, as ssh does: the operator gets the terminal back whatever
 * the pod does. */
#define PTY_LEAVE_MS 2000

/* The operator's way out when the pod's side answers nothing (enter's
 * keys all go to the pod): Ctrl-] three times within PTY_ESCAPE_MS, as
 * machinectl shell and systemd-nspawn take it; enter then hangs the pod's
 * terminal up and ends as for a SIGHUP. */
#define PTY_ESCAPE_CHAR 0x1d
#define PTY_ESCAPE_TIMES 3
#define PTY_ESCAPE_MS 1000

/* Once the caller's input has ended, the pod's terminal gets its
 * end-of-file character whenever its reader has taken everything before
 * it (checked every PTY_EOF_EVERY_MS), PTY_EOF_MAX times at most. */
#define PTY_EOF_EVERY_MS 50
#define PTY_EOF_MAX 3

struct pty_relay {
  int in, out, master;
  pid_t helper; /* -1 once reaped: its pid may be another process's */
  int *status;
  bool in_open;
  bool master_hup;    /* POLLHUP seen: the slave side is closed */
  unsigned eof_sent;  /* end-of-file characters sent since IN ended */
  int64_t next_eof;   /* when the next one may go */
  int64_t ended_at;   /* when the helper was reaped, or -1 */
  int64_t last_moved; /* when bytes last came from the master or went to OUT */
  int leave_signal;   /* the signal that asked enter to end, or 0 */
  int64_t leave_at;   /* when the terminal hangs up, then when enter gives up */
  unsigned escapes;   /* Ctrl-] typed in a row, the first at ESCAPE_AT */
  int64_t escape_at;
  struct termios saved; /* IN's modes, when IN is a terminal (RAW) */
  bool raw, raw_set;    /* ... put in raw mode (RAW_SET: now) */
  struct pty_flow to_pod, to_caller;
};

/* IN in raw mode, if IN is a terminal whose foreground job enter is: in a
 * background job (enter -t ... &) it leaves the terminal to the shell,
 * and is stopped by the terminal (SIGTTIN) when it reads, as ssh is,
 * until `fg` continues it (SIGCONT, and raw mode then). */
static void relay_raw_on(struct pty_relay *r)
{
  struct termios t;

  if (!r->raw || r->raw_set || tcgetpgrp(r->in) != getpgrp() || tcgetattr(r->in, &t) < 0)
    return;
  cfmakeraw(&t);
  r->raw_set = tcsetattr(r->in, TCSADRAIN, &t) == 0;
}

/* IN's modes back, even if enter has been put in the background since
 * (SIGTTOU blocked: the terminal lets the change through). */
static void relay_raw_off(struct pty_relay *r)
{
  sigset_t ttou, old;

  if (!r->raw_set)
    return;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  (void) sigprocmask(SIG_BLOCK, &ttou, &old);
  (void) tcsetattr(r->in, TCSADRAIN, &r->saved);
  (void) sigprocmask(SIG_SETMASK, &old, NULL);
  r->raw_set = false;
}

bool ace_pty_caller_size(int in, int out, struct winsize *ws)
{
  return (ioctl(in, TIOCGWINSZ, ws) == 0 || ioctl(out, TIOCGWINSZ, ws) == 0) && ws->ws_row > 0;
}

/* The caller's window size onto the pod's terminal (its foreground job
 * gets a SIGWINCH from the kernel). */
static void relay_resize(struct pty_relay *r)
{
  struct winsize ws;

  if (r->master >= 0 && ace_pty_caller_size(r->in, r->out, &ws))
    (void) ioctl(r->master, TIOCSWINSZ, &ws);
}

/* The master closed: the kernel hangs the pod's terminal up (SIGHUP and
 * SIGCONT to its session) once no descriptor of it is left. */
static void relay_hang_up(struct pty_relay *r)
{
  if (r->master >= 0)
    close(r->master);
  r->master = -1;
  r->to_pod.len = r->to_pod.off = 0;
}

/* Has the pod's terminal input for its reader (an end-of-file mark too)?
 * Asked through a descriptor of the slave opened from the master for the
 * while, not by a path in the pod. */
static bool input_pending(int master)
{
  struct pollfd p = {.events = POLLIN};

  p.fd = ioctl(master, TIOCGPTPEER, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (p.fd < 0)
    return true;
  bool pending = poll(&p, 1, 0) != 0;
  close(p.fd);
  return pending;
}

/* The caller's input has ended.  A pseudo-terminal has no half-close: its
 * end-of-file character is how a terminal's input ends.  A command reading
 * lines ends at the first; the shell that ran it, whose line editor reads
 * in raw mode, at the next (the first reached it as a NUL when the mode
 * changed); a few suffice, and a program reading raw bytes gets no more
 * than PTY_EOF_MAX of them, as script(1) sends one. */
static void relay_send_eof(struct pty_relay *r)
{
  struct termios t;
  cc_t eof = 4; /* ^D, the default */

  if (r->in_open || r->master < 0 || r->to_pod.len > 0 || r->eof_sent >= PTY_EOF_MAX ||
      appc_monotonic_ms() < r->next_eof)
    return;
  r->next_eof = appc_monotonic_ms() + PTY_EOF_EVERY_MS;
  if (input_pending(r->master))
    return;
  if (tcgetattr(r->master, &t) == 0 && t.c_cc[VEOF] != _POSIX_VDISABLE)
    eof = t.c_cc[VEOF];
  r->to_pod.data[r->to_pod.len++] = (char) eof;
  r->eof_sent++;
}

/* Read from FD into F (empty); false at the end (or an error: EIO is how a
 * master tells that every slave descriptor is closed). */
static bool flow_fill(struct pty_flow *f, int fd)
{
  ssize_t n = read(fd, f->data, sizeof f->data);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (n <= 0)
    return false;
  f->off = 0;
  f->len = (size_t) n;
  return true;
}

/* Write what F holds to FD, as much as it takes; false when FD is gone. */
static bool flow_drain(struct pty_flow *f, int fd)
{
  ssize_t n = write(fd, f->data + f->off, f->len - f->off);

  if (n < 0)
    return errno == EINTR || errno == EAGAIN;
  f->off += (size_t) n;
  if (f->off == f->len)
    f->off = f->len = 0;
  return true;
}

/* Ask enter to end as a signal SIG sent to it would (relay_due). */
static void relay_leave(struct pty_relay *r, int sig)
{
  if (r->leave_signal == 0) {
    r->leave_signal = sig;
    r->leave_at = appc_monotonic_ms() + PTY_LEAVE_MS;
  }
}

/* The operator's escape among the bytes just read from their terminal:
 * the pod's terminal hangs up at once. */
static void relay_watch_escape(struct pty_relay *r, const char *bytes, size_t n)
{
  int64_t now = appc_monotonic_ms();

  for (size_t i = 0; r->raw && i < n; i++) {
    if (bytes[i] != PTY_ESCAPE_CHAR) {
      r->escapes = 0;
      continue;
    }
    if (r->escapes == 0 || now - r->escape_at > PTY_ESCAPE_MS) {
      r->escapes = 0;
      r->escape_at = now;
    }
    if (++r->escapes == PTY_ESCAPE_TIMES) {
      relay_leave(r, SIGHUP);
      r->leave_at = now; /* the hang-up now, the end PTY_LEAVE_MS later */
    }
  }
}

bool ace_signal_ends_command(int sig)
{
  return sig == SIGTERM || sig == SIGHUP || sig == SIGINT || sig == SIGQUIT;
}

/* One signal taken from SIGFD: passed on to the helper, or acted on here. */
static void relay_signal(struct pty_relay *r, int sigfd)
{
  struct signalfd_siginfo si;

  if (read(sigfd, &si, sizeof si) != (ssize_t) sizeof si)
    return;
  int sig = (int) si.ssi_signo;
  switch (sig) {
  case SIGCHLD:
    return;
  case SIGWINCH:
    relay_resize(r);
    return;
  case SIGTSTP:
    /* The pod's jobs have a terminal of their own (Ctrl-Z there stops
     * them); a stop of enter itself stops only enter, as ssh's ~^Z. */
    relay_raw_off(r);
    (void) raise(SIGSTOP);
    return;
  case SIGCONT:
    relay_raw_on(r);
    relay_resize(r);
    return;
  default:
    if (r->helper > 0)
      (void) kill(r->helper, sig);
    if (ace_signal_ends_command(sig))
      relay_leave(r, sig);
  }
}

/* Reap the helper if it has exited: its status into *R->STATUS. */
static void relay_reap(struct pty_relay *r)
{
  int w;

  if (r->helper <= 0)
    return;
  pid_t got = waitpid(r->helper, &w, WNOHANG);
  if (got == 0 || (got < 0 && errno == EINTR))
    return;
  *r->status = got < 0 ? 1 : WIFEXITED(w) ? WEXITSTATUS(w) : 128 + WTERMSIG(w);
  r->helper = -1;
  r->ended_at = appc_monotonic_ms();
}

/* The poll timeout until the next thing due, or 0 when the relay is done. */
static int relay_due(struct pty_relay *r, int64_t now, bool *done)
{
  int64_t next = INT64_MAX;

  *done = false;
  if (r->helper <= 0) {
    /* the helper gone: the terminal's last output, then the end */
    int64_t idle_until = (r->to_caller.len > 0 ? now : r->last_moved) + PTY_LINGER_MS;
    if (idle_until < r->ended_at + PTY_LINGER_MS)
      idle_until = r->ended_at + PTY_LINGER_MS;
    int64_t until =
        idle_until < r->ended_at + PTY_DRAIN_MAX_MS ? idle_until : r->ended_at + PTY_DRAIN_MAX_MS;
    if ((r->master < 0 && r->to_caller.len == 0) || now >= until) {
      *done = true;
      return 0;
    }
    next = until;
  } else if (r->leave_signal != 0) {
    if (now >= r->leave_at && r->master >= 0) {
      relay_hang_up(r);
      r->leave_at = now + PTY_LEAVE_MS;
    } else if (now >= r->leave_at) {
      /* the command outlives its terminal's hang-up: enter ends anyway */
      *r->status = 128 + r->leave_signal;
      *done = true;
      return 0;
    }
    next = r->leave_at;
  }
  if (!r->in_open && r->eof_sent < PTY_EOF_MAX && r->master >= 0 && next > now + PTY_EOF_EVERY_MS)
    next = now + PTY_EOF_EVERY_MS;
  return next == INT64_MAX ? -1 : (int) (next - now);
}

static void relay_poll_set(const struct pty_relay *r, struct pollfd *p)
{
  short master_events = 0;

  /* nothing asked of a hung-up master while its bytes cannot go on, which
   * poll would report at once, again and again */
  if (r->to_caller.len == 0)
    master_events |= POLLIN;
  if (r->to_pod.len > 0 && !r->master_hup)
    master_events |= POLLOUT;
  p[0] = (struct pollfd){.fd = r->in_open && r->to_pod.len == 0 ? r->in : -1, .events = POLLIN};
  p[1] = (struct pollfd){.fd = master_events != 0 ? r->master : -1, .events = master_events};
  p[2] = (struct pollfd){.fd = r->to_caller.len > 0 ? r->out : -1, .events = POLLOUT};
}

/* One round of copying after poll said which descriptors are ready. */
static void relay_step(struct pty_relay *r, const struct pollfd *p)
{
  if (p[0].revents != 0) {
    if (!flow_fill(&r->to_pod, r->in))
      r->in_open = false;
    else
      relay_watch_escape(r, r->to_pod.data, r->to_pod.len);
  }
  if (p[1].revents & POLLHUP)
    r->master_hup = true;
  if ((p[1].revents & POLLOUT) && !flow_drain(&r->to_pod, r->master))
    r->to_pod.len = r->to_pod.off = 0;
  if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && r->to_caller.len == 0) {
    if (!flow_fill(&r->to_caller, r->master))
      relay_hang_up(r);
    else if (r->to_caller.len > 0)
      r->last_moved = appc_monotonic_ms();
  }
  if (p[2].revents != 0) {
    if (!flow_drain(&r->to_caller, r->out)) {
      /* The caller's output is gone (enter -t ... | head): the terminal
       * hangs up, which ends what runs on it, as a closed pipe would. */
      r->to_caller.len = r->to_caller.off = 0;
      relay_hang_up(r);
    }
    r->last_moved = appc_monotonic_ms();
  }
}

/* The signals the relay takes (SIGNALS, SIGCHLD, SIGWINCH) through a
 * signalfd, and SIGPIPE blocked: a caller's output gone (enter -t | head)
 * must not kill it with its terminal still raw; the signal waits until the
 * caller's mask is back, after the terminal's modes are. */
static int relay_signals(const sigset_t *signals)
{
  sigset_t set = *signals, pipe_set;

  sigaddset(&set, SIGWINCH);
  sigaddset(&set, SIGCHLD);
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  (void) sigprocmask(SIG_BLOCK, &set, NULL);
  (void) sigprocmask(SIG_BLOCK, &pipe_set, NULL);
  return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int ace_pty_relay(int master, int in, int out, pid_t helper, const sigset_t *signals, int *status,
                  appc_error_t *err)
{
  struct pty_relay r = {
      .in = in,
      .out = out,
      .master = master,
      .helper = helper,
      .status = status,
      .in_open = true,
      .ended_at = -1,
  };
  int failed = 0;
  int sigfd = relay_signals(signals);

  if (sigfd < 0 || fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK) < 0) {
    appc_error_make(err, errno, sigfd < 0 ? "signalfd" : "the pod's pseudo-terminal");
    relay_hang_up(&r);
    if (sigfd >= 0)
      close(sigfd);
    return -1;
  }
  r.raw = isatty(in) && tcgetattr(in, &r.saved) == 0;
  relay_raw_on(&r);
  relay_resize(&r);
  for (;;) {
    struct pollfd p[4];
    bool done;
    relay_reap(&r);
    relay_send_eof(&r);
    int timeout = relay_due(&r, appc_monotonic_ms(), &done);
    if (done)
      break;
    relay_poll_set(&r, p);
    p[3] = (struct pollfd){.fd = sigfd, .events = POLLIN};
    if (poll(p, 4, timeout) < 0 && errno != EINTR) {
      failed = errno;
      break;
    }
    if (p[3].revents & POLLIN)
      relay_signal(&r, sigfd);
    relay_step(&r, p);
  }
  if (r.to_caller.len > 0)
    (void) appc_write_all(out, r.to_caller.data + r.to_caller.off,
                          r.to_caller.len - r.to_caller.off);
  relay_raw_off(&r);
  relay_hang_up(&r);
  close(sigfd);
  return failed == 0 ? 0 : appc_error_make(err, failed, "relaying the pod's terminal");
}
