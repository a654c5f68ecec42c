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

int ace_pty_open(uid_t owner, const struct winsize *size, int *master_out, int *slave_out,
                 appc_error_t *err)
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
   * in the pod's /dev/pts, which the app could have replaced. */
  int slave = -1;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0 ||
      (slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
    appc_error_make(err, errno, "the pod's pseudo-terminal");
    close(master);
    return -1;
  }
  /* grantpt's rule: the user's own, writable by the group only */
  if (fchown(slave, owner, (gid_t) -1) < 0 || fchmod(slave, 0620) < 0 ||
      (size != NULL && size->ws_row > 0 && ioctl(slave, TIOCSWINSZ, size) < 0)) {
    appc_error_make(err, errno, "the pod's pseudo-terminal");
    close(slave);
    close(master);
    return -1;
  }
  *master_out = master;
  *slave_out = slave;
  return 0;
}

int ace_pty_become_controlled(int slave)
{
  if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
    return -1;
  for (int fd = 0; fd <= 2; fd++)
    if (dup2(slave, fd) < 0)
      return -1;
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

struct pty_relay {
  int in, out, master;
  bool in_open;
  int64_t next_eof;     /* once IN has ended: when the next end-of-file character may go */
  struct termios saved; /* IN's modes, when IN is a terminal put in raw mode */
  bool raw;
  struct pty_flow to_pod, to_caller;
};

static void relay_raw_on(struct pty_relay *r)
{
  struct termios t;

  if (!r->raw || tcgetattr(r->in, &t) < 0)
    return;
  cfmakeraw(&t);
  (void) tcsetattr(r->in, TCSADRAIN, &t);
}

static void relay_raw_off(struct pty_relay *r)
{
  if (r->raw)
    (void) tcsetattr(r->in, TCSADRAIN, &r->saved);
}

/* The caller's window size onto the pod's terminal (its foreground job
 * gets a SIGWINCH from the kernel). */
static void relay_resize(struct pty_relay *r)
{
  struct winsize ws;

  if (ace_pty_caller_size(r->in, r->out, &ws))
    (void) ioctl(r->master, TIOCSWINSZ, &ws);
}

bool ace_pty_caller_size(int in, int out, struct winsize *ws)
{
  return (ioctl(in, TIOCGWINSZ, ws) == 0 || ioctl(out, TIOCGWINSZ, ws) == 0) && ws->ws_row > 0;
}

/* How often, once the caller's input has ended, the pod's terminal is
 * checked for a reader that has taken the last end-of-file character. */
#define PTY_EOF_EVERY_MS 50

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
 * end-of-file character is how a terminal's input ends, and the pod's
 * terminal gets one whenever its reader has taken everything, the last
 * one included, so that every read from now on ends (a command reading
 * lines, then the shell that ran it, whose line editor takes the
 * character in its raw mode), as reads from a closed pipe would. */
static void relay_send_eof(struct pty_relay *r)
{
  struct termios t;
  cc_t eof = 4; /* ^D, the default */

  if (r->in_open || r->to_pod.len > 0 || appc_monotonic_ms() < r->next_eof)
    return;
  r->next_eof = appc_monotonic_ms() + PTY_EOF_EVERY_MS;
  if (input_pending(r->master))
    return;
  if (tcgetattr(r->master, &t) == 0 && t.c_cc[VEOF] != _POSIX_VDISABLE)
    eof = t.c_cc[VEOF];
  r->to_pod.data[r->to_pod.len++] = (char) eof;
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

/* How long, after the helper's exit, output still on its way from the
 * pod's terminal is waited for, when a process left in the pod holds the
 * terminal open (otherwise its hang-up ends the wait at once). */
#define PTY_LINGER_MS 200

/* One signal taken from SIGFD: passed on to the helper, or acted on here. */
static void relay_signal(struct pty_relay *r, int sigfd, pid_t helper)
{
  struct signalfd_siginfo si;

  if (read(sigfd, &si, sizeof si) != (ssize_t) sizeof si)
    return;
  switch (si.ssi_signo) {
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
    (void) kill(helper, (int) si.ssi_signo);
  }
}

/* Wait for HELPER's exit; its status into *STATUS.  true once it is known. */
static bool helper_exited(pid_t helper, int *status)
{
  int w;
  pid_t got = waitpid(helper, &w, WNOHANG);

  if (got == 0 || (got < 0 && errno == EINTR))
    return false;
  if (got < 0)
    *status = 1;
  else
    *status = WIFEXITED(w) ? WEXITSTATUS(w) : 128 + WTERMSIG(w);
  return true;
}

/* The master closed: the kernel hangs the pod's terminal up (SIGHUP to
 * its session) once no descriptor of it is left. */
static void relay_hang_up(struct pty_relay *r)
{
  if (r->master >= 0)
    close(r->master);
  r->master = -1;
}

static void relay_poll_set(const struct pty_relay *r, struct pollfd *p)
{
  p[0] = (struct pollfd){.fd = r->in_open && r->to_pod.len == 0 ? r->in : -1, .events = POLLIN};
  p[1] = (struct pollfd){
      .fd = r->master,
      .events = (short) ((r->to_caller.len == 0 ? POLLIN : 0) | (r->to_pod.len > 0 ? POLLOUT : 0))};
  p[2] = (struct pollfd){.fd = r->to_caller.len > 0 ? r->out : -1, .events = POLLOUT};
}

/* One round of copying after poll said which descriptors are ready. */
static void relay_step(struct pty_relay *r, const struct pollfd *p)
{
  if (p[0].revents != 0 && !flow_fill(&r->to_pod, r->in)) {
    r->in_open = false;
  }
  if ((p[1].revents & POLLOUT) && !flow_drain(&r->to_pod, r->master))
    r->to_pod.len = r->to_pod.off = 0;
  if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && r->to_caller.len == 0 &&
      !flow_fill(&r->to_caller, r->master))
    relay_hang_up(r);
  if (p[2].revents != 0 && !flow_drain(&r->to_caller, r->out)) {
    /* The caller's output is gone (enter -t ... | head): the terminal
     * hangs up, which ends what runs on it, as a closed pipe would. */
    r->to_caller.len = r->to_caller.off = 0;
    relay_hang_up(r);
  }
}

int ace_pty_relay(int master, int in, int out, pid_t helper, const sigset_t *signals, int *status,
                  appc_error_t *err)
{
  struct pty_relay r = {
      .in = in,
      .out = out,
      .master = master,
      .in_open = true,
  };
  sigset_t set = *signals;
  int64_t linger_until = -1;
  int failed = 0;

  sigaddset(&set, SIGWINCH);
  sigaddset(&set, SIGCHLD);
  (void) sigprocmask(SIG_BLOCK, &set, NULL);
  /* A caller's output gone (enter -t | head) must not kill it with its
   * terminal still raw: the signal waits until the caller's mask is back,
   * after the terminal's modes are. */
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  (void) sigprocmask(SIG_BLOCK, &pipe_set, NULL);
  int sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
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
    int timeout = -1;
    if (linger_until < 0 && helper_exited(helper, status))
      linger_until = appc_monotonic_ms() + PTY_LINGER_MS;
    if (linger_until >= 0) {
      /* done: the helper gone, and the terminal's last output with it */
      int64_t left = linger_until - appc_monotonic_ms();
      if ((r.master < 0 && r.to_caller.len == 0) || left <= 0)
        break;
      timeout = (int) left;
    }
    relay_send_eof(&r);
    if (!r.in_open && (timeout < 0 || timeout > PTY_EOF_EVERY_MS))
      timeout = PTY_EOF_EVERY_MS;
    relay_poll_set(&r, p);
    p[3] = (struct pollfd){.fd = sigfd, .events = POLLIN};
    if (poll(p, 4, timeout) < 0 && errno != EINTR) {
      failed = errno;
      break;
    }
    if (p[3].revents & POLLIN)
      relay_signal(&r, sigfd, helper);
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
