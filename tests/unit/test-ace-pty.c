/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of ace/pty.c, the pseudo-terminal of `enter --tty`: the
 * terminal made (owner, mode, window size), and the caller's relay with a
 * forked process standing for the helper: bytes both ways, the end of the
 * caller's input as the terminal's end-of-file (again for each reader),
 * everything the terminal holds when the helper ends delivered, the
 * helper's status (a signal's too), no wait on a terminal that a
 * process left behind keeps open, and a hang-up when the caller's output
 * is gone. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ace/internal.h"
#include "common/fs.h"
#include "tests/unit/test-util.h"

struct pty {
  int master, slave;
};

static void open_pty(struct pty *p)
{
  appc_error_t err = NULL;

  assert_ok(ace_pty_open(NULL, &p->master, &p->slave, &err), &err);
}

/* What FD (a file) holds, NUL-terminated; free it. */
static char *file_text(int fd, size_t *len)
{
  off_t size = lseek(fd, 0, SEEK_END);
  char *text = calloc(1, (size_t) size + 1);

  assert_non_null(text);
  assert_int_equal(pread(fd, text, (size_t) size, 0), size);
  if (len != NULL)
    *len = (size_t) size;
  return text;
}

static int output_file(void)
{
  int fd = memfd_create("relay-out", MFD_CLOEXEC);

  assert_true(fd >= 0);
  return fd;
}

/* A new terminal P, IN (/dev/null) and OUT (a file), and the helper's
 * stand-in forked: 0 in it (the master closed, as the helper hands its
 * copy over), its pid here. */
static pid_t fork_standin(struct pty *p, int *in, int *out)
{
  *in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  *out = output_file();
  assert_true(*in >= 0);
  open_pty(p);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    close(p->master);
  return pid;
}

/* Relay P's master between IN and OUT while HELPER runs; its status. */
static int relay(struct pty *p, int in, int out, pid_t helper)
{
  appc_error_t err = NULL;
  sigset_t none;
  int status = -1;

  sigemptyset(&none);
  close(p->slave); /* the helper's copy is the terminal's */
  assert_ok(ace_pty_relay(p->master, in, out, helper, &none, &status, &err), &err);
  assert_int_equal(fcntl(p->master, F_GETFD), -1); /* closed */
  return status;
}

/* A line read from the terminal (canonical mode), "" at its end. */
static void read_line(int fd, char *buf, size_t size)
{
  ssize_t n = read(fd, buf, size - 1);
  buf[n > 0 ? n : 0] = '\0';
}

static void test_terminal_made(void **state)
{
  (void) state;
  const struct winsize size = {.ws_row = 33, .ws_col = 101};
  appc_error_t err = NULL;
  struct winsize seen;
  struct stat st;
  int master, slave;

  assert_ok(ace_pty_open(&size, &master, &slave, &err), &err);
  /* its opener's alone until the command has it */
  assert_int_equal(fstat(slave, &st), 0);
  assert_int_equal(st.st_uid, geteuid());
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_int_equal(ioctl(slave, TIOCGWINSZ, &seen), 0);
  assert_int_equal(seen.ws_row, 33);
  assert_int_equal(seen.ws_col, 101);
  assert_true(isatty(slave));
  assert_int_equal(fcntl(master, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  assert_int_equal(fcntl(slave, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  close(master);
  close(slave);
}

/* Child: SLAVE taken as the command takes it, for OWNER; exits 0 when it
 * is this session's controlling terminal, OWNER's, mode 0620, and the
 * standard streams. */
static void __attribute__((noreturn)) take_terminal(int slave, uid_t owner)
{
  appc_error_t err = NULL;
  struct stat st;

  if (ace_pty_become_controlled(slave, owner, &err) < 0)
    _exit(10);
  if (tcgetsid(0) != getsid(0) || fstat(1, &st) < 0 || !isatty(2))
    _exit(11);
  _exit(st.st_uid == owner && (st.st_mode & 07777) == 0620 ? 0 : 12);
}

static int exit_status(pid_t pid)
{
  int w;

  assert_int_equal(waitpid(pid, &w, 0), pid);
  return WIFEXITED(w) ? WEXITSTATUS(w) : 128 + WTERMSIG(w);
}

static void test_terminal_taken(void **state)
{
  (void) state;
  struct pty p;

  if (geteuid() != 0)
    skip();
  open_pty(&p);
  pid_t child = fork();
  if (child == 0)
    take_terminal(p.slave, 1234);
  assert_int_equal(exit_status(child), 0);
  close(p.master);
  close(p.slave);
}

/* Another session took the terminal first (a process of the pod's root
 * that opened it without O_NOCTTY): the command takes it back. */
static void test_terminal_taken_back(void **state)
{
  (void) state;
  struct pty p;
  int ready[2];

  if (geteuid() != 0)
    skip();
  open_pty(&p);
  assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
  pid_t thief = fork();
  if (thief == 0) {
    char path[64];
    int n;
    if (setsid() < 0 || ioctl(p.master, TIOCGPTN, &n) < 0)
      _exit(1);
    snprintf(path, sizeof path, "/dev/pts/%d", n);
    int fd = open(path, O_RDWR); /* its controlling terminal from now */
    char ok = fd >= 0 && tcgetsid(fd) == getsid(0) ? 'y' : 'n';
    (void) appc_write_all(ready[1], &ok, 1);
    pause();
    _exit(0);
  }
  char ok = 0;
  assert_int_equal(read(ready[0], &ok, 1), 1);
  assert_int_equal(ok, 'y');
  pid_t child = fork();
  if (child == 0)
    take_terminal(p.slave, 0);
  int status = exit_status(child);
  kill(thief, SIGKILL);
  (void) exit_status(thief);
  assert_int_equal(status, 0);
  close(ready[0]);
  close(ready[1]);
  close(p.master);
  close(p.slave);
}

/* The helper's stand-in: each line read comes back as "got:LINE", each
 * end of input as "eof", twice (a second reader after the first), then
 * exit 5. */
static void __attribute__((noreturn)) echo_lines(int master, int slave)
{
  char line[256], reply[300];
  int ends = 0;

  close(master); /* as the helper, which hands its copy over */

  while (ends < 2) {
    read_line(slave, line, sizeof line);
    if (line[0] == '\0')
      ends++;
    snprintf(reply, sizeof reply, "%s\n", line[0] == '\0' ? "eof" : line);
    if (line[0] != '\0')
      snprintf(reply, sizeof reply, "got:%s", line);
    (void) appc_write_all(slave, reply, strlen(reply));
  }
  _exit(5);
}

static void test_both_ways_and_end_of_input(void **state)
{
  (void) state;
  struct pty p;
  int in[2], out = output_file();

  open_pty(&p);
  struct termios t;
  assert_int_equal(tcgetattr(p.slave, &t), 0);
  t.c_lflag &= ~(tcflag_t) ECHO; /* only the replies */
  assert_int_equal(tcsetattr(p.slave, TCSANOW, &t), 0);
  assert_int_equal(pipe(in), 0);
  assert_int_equal(appc_write_all(in[1], "ping\n", 5), 0);
  close(in[1]); /* the caller's input ends after one line */
  pid_t helper = fork();
  if (helper == 0)
    echo_lines(p.master, p.slave);
  assert_int_equal(relay(&p, in[0], out, helper), 5);
  char *text = file_text(out, NULL);
  assert_string_equal(text, "got:ping\r\neof\r\neof\r\n");
  free(text);
  close(in[0]);
  close(out);
}

/* All the output the helper's command wrote reaches the caller, however
 * much of it the terminal still held when the helper ended. */
static void test_last_output_delivered(void **state)
{
  (void) state;
  enum { BYTES = 200000 };
  struct pty p;
  int in, out;

  pid_t helper = fork_standin(&p, &in, &out);
  if (helper == 0) {
    char *block = malloc(BYTES);
    memset(block, 'x', BYTES);
    _exit(appc_write_all(p.slave, block, BYTES) == 0 ? 0 : 9);
  }
  assert_int_equal(relay(&p, in, out, helper), 0);
  size_t len;
  char *text = file_text(out, &len);
  assert_int_equal(len, BYTES);
  assert_int_equal(strspn(text, "x"), BYTES);
  free(text);
  close(in);
  close(out);
}

static void test_status_of_a_signal(void **state)
{
  (void) state;
  struct pty p;
  int in, out;

  pid_t helper = fork_standin(&p, &in, &out);
  if (helper == 0) {
    raise(SIGKILL);
    _exit(1);
  }
  assert_int_equal(relay(&p, in, out, helper), 128 + SIGKILL);
  close(in);
  close(out);
}

/* A process the command left behind keeps the terminal open and says
 * nothing: the relay ends soon after the helper all the same. */
static void test_terminal_kept_open(void **state)
{
  (void) state;
  struct pty p;
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC), out = output_file();
  int ready[2];

  assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
  open_pty(&p);
  pid_t helper = fork();
  if (helper == 0) {
    close(p.master);
    pid_t left = fork();
    if (left == 0) {
      sleep(30); /* holds the slave */
      _exit(0);
    }
    (void) appc_write_all(ready[1], &left, sizeof left);
    _exit(3);
  }
  close(ready[1]);
  pid_t left = 0;
  assert_int_equal(read(ready[0], &left, sizeof left), sizeof left);
  time_t started = time(NULL);
  int status = relay(&p, in, out, helper);
  kill(left, SIGKILL);
  assert_int_equal(status, 3);
  assert_true(time(NULL) - started < 10);
  close(ready[0]);
  close(in);
  close(out);
}

/* The caller's output gone (enter -t ... | head): the terminal hangs up,
 * and a command writing to it learns so, as from a closed pipe. */
static void test_output_gone(void **state)
{
  (void) state;
  struct pty p;
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC), out[2];

  assert_int_equal(pipe2(out, O_CLOEXEC), 0);
  close(out[0]);
  open_pty(&p);
  pid_t helper = fork();
  if (helper == 0) {
    close(p.master);
    for (;;)
      if (write(p.slave, "y\n", 2) < 0)
        _exit(7); /* EIO: hung up */
  }
  assert_int_equal(relay(&p, in, out[1], helper), 7);
  close(out[1]);
  close(in);
}

/* A program reading raw bytes, once the caller's input has ended, gets a
 * few end-of-file characters, not one every moment. */
static void test_end_of_input_to_a_raw_reader(void **state)
{
  (void) state;
  struct pty p;
  int in, out;

  pid_t helper = fork_standin(&p, &in, &out);
  if (helper == 0) {
    struct termios t;
    char buf[64], reply[32];
    int eofs = 0;
    if (tcgetattr(p.slave, &t) < 0)
      _exit(9);
    cfmakeraw(&t);
    (void) tcsetattr(p.slave, TCSANOW, &t);
    for (time_t until = time(NULL) + 2; time(NULL) < until;) {
      struct pollfd pf = {.fd = p.slave, .events = POLLIN};
      if (poll(&pf, 1, 100) > 0) {
        ssize_t n = read(p.slave, buf, sizeof buf);
        for (ssize_t i = 0; i < n; i++)
          eofs += buf[i] == 4 || buf[i] == 0; /* (a NUL: one queued before raw mode) */
      }
    }
    snprintf(reply, sizeof reply, "eofs=%d\n", eofs);
    (void) appc_write_all(p.slave, reply, strlen(reply));
    _exit(0);
  }
  assert_int_equal(relay(&p, in, out, helper), 0);
  char *text = file_text(out, NULL);
  int eofs = -1;
  assert_int_equal(sscanf(text, "eofs=%d", &eofs), 1);
  assert_in_range(eofs, 1, 3);
  free(text);
  close(in);
  close(out);
}

/* Output still coming when the helper ends reaches a caller that takes it
 * slowly: the wait for the terminal's last bytes counts only while enter
 * has nothing left to write. */
static void test_slow_caller_gets_everything(void **state)
{
  (void) state;
  enum { BYTES = 120000 };
  struct pty p;
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC), out[2], counted[2];

  assert_int_equal(pipe2(out, O_CLOEXEC), 0);
  assert_int_equal(pipe2(counted, O_CLOEXEC), 0);
  /* a pipe that holds little: the terminal holds the rest at the end */
  assert_true(fcntl(out[1], F_SETPIPE_SZ, 4096) > 0);
  pid_t reader = fork();
  if (reader == 0) {
    char buf[1024];
    long total = 0;
    ssize_t n;
    close(out[1]);
    while ((n = read(out[0], buf, sizeof buf)) > 0) {
      /* a pause near the end, while the terminal holds the rest */
      if (total < BYTES - 16384 && total + n >= BYTES - 16384)
        sleep(1);
      total += n;
    }
    (void) appc_write_all(counted[1], &total, sizeof total);
    _exit(0);
  }
  close(out[0]);
  open_pty(&p);
  pid_t helper = fork();
  if (helper == 0) {
    close(p.master);
    char *block = malloc(BYTES);
    memset(block, 'x', BYTES);
    _exit(appc_write_all(p.slave, block, BYTES) == 0 ? 0 : 9);
  }
  assert_int_equal(relay(&p, in, out[1], helper), 0);
  close(out[1]);
  long total = -1;
  assert_int_equal(read(counted[0], &total, sizeof total), sizeof total);
  assert_int_equal(exit_status(reader), 0);
  assert_int_equal(total, BYTES);
  close(counted[0]);
  close(counted[1]);
  close(in);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_terminal_made),
      cmocka_unit_test(test_terminal_taken),
      cmocka_unit_test(test_terminal_taken_back),
      cmocka_unit_test(test_both_ways_and_end_of_input),
      cmocka_unit_test(test_last_output_delivered),
      cmocka_unit_test(test_status_of_a_signal),
      cmocka_unit_test(test_terminal_kept_open),
      cmocka_unit_test(test_output_gone),
      cmocka_unit_test(test_end_of_input_to_a_raw_reader),
      cmocka_unit_test(test_slow_caller_gets_everything),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
