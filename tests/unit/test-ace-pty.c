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

  assert_ok(ace_pty_open(getuid(), NULL, &p->master, &p->slave, &err), &err);
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

  if (geteuid() != 0)
    skip();
  assert_ok(ace_pty_open(1234, &size, &master, &slave, &err), &err);
  assert_int_equal(fstat(slave, &st), 0);
  assert_int_equal(st.st_uid, 1234);
  assert_int_equal(st.st_mode & 07777, 0620);
  assert_int_equal(ioctl(slave, TIOCGWINSZ, &seen), 0);
  assert_int_equal(seen.ws_row, 33);
  assert_int_equal(seen.ws_col, 101);
  assert_true(isatty(slave));
  assert_int_equal(fcntl(master, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  assert_int_equal(fcntl(slave, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  close(master);
  close(slave);
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
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC), out = output_file();

  open_pty(&p);
  pid_t helper = fork();
  if (helper == 0) {
    close(p.master);
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
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC), out = output_file();

  open_pty(&p);
  pid_t helper = fork();
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

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_terminal_made),
      cmocka_unit_test(test_both_ways_and_end_of_input),
      cmocka_unit_test(test_last_output_delivered),
      cmocka_unit_test(test_status_of_a_signal),
      cmocka_unit_test(test_terminal_kept_open),
      cmocka_unit_test(test_output_gone),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
