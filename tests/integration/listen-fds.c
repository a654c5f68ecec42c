/* SPDX-License-Identifier: Apache-2.0 */
/* A socket-activated test server for tests/integration/run.sh, built there
 * statically and run in a pod.  It checks systemd's protocol (LISTEN_PID is
 * its PID, LISTEN_FDS the number of sockets from descriptor 3 on,
 * LISTEN_FDNAMES their names) and prints what it found, then serves every
 * socket once: a stream socket answers one connection, a datagram socket
 * one datagram, with "served by NAME".  With "self" as its argument it is
 * its own client (a child connects to each socket on 127.0.0.1 and prints
 * the answer), for pods whose network the test cannot reach. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char *what)
{
  printf("error: %s: %s\n", what, strerror(errno));
  fflush(stdout);
  return 1;
}

static int sock_type(int fd)
{
  int type = 0;
  socklen_t len = sizeof type;

  return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ? -1 : type;
}

static int port_of(int fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;

  if (getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
    return -1;
  if (ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *) &ss)->sin6_port);
  return ntohs(((struct sockaddr_in *) &ss)->sin_port);
}

/* The client side of "self": one exchange with the socket FD listens on. */
static void client(int fd)
{
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port_of(fd))};
  int type = sock_type(fd);
  int c = socket(AF_INET, type, 0);
  char buf[128] = "";
  ssize_t n;

  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (c < 0 || connect(c, (struct sockaddr *) &a, sizeof a) < 0)
    _exit(fail("client connect"));
  if (type == SOCK_DGRAM && send(c, "ping", 4, 0) < 0)
    _exit(fail("client send"));
  if ((n = recv(c, buf, sizeof buf - 1, 0)) < 0)
    _exit(fail("client recv"));
  buf[n] = '\0';
  printf("client got: %s", buf);
  fflush(stdout);
  _exit(0);
}

static int serve(int fd, const char *name)
{
  char reply[128];
  int type = sock_type(fd);

  snprintf(reply, sizeof reply, "served by %s\n", name);
  if (type == SOCK_STREAM) {
    int c = accept(fd, NULL, NULL);
    if (c < 0 || write(c, reply, strlen(reply)) < 0)
      return fail("accept");
    close(c);
    return 0;
  }
  if (type == SOCK_DGRAM) {
    struct sockaddr_storage from;
    socklen_t len = sizeof from;
    char buf[64];
    if (recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *) &from, &len) < 0 ||
        sendto(fd, reply, strlen(reply), 0, (struct sockaddr *) &from, len) < 0)
      return fail("recvfrom");
    return 0;
  }
  errno = ENOTSOCK;
  return fail("descriptor");
}

int main(int argc, char **argv)
{
  const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
  const char *names = getenv("LISTEN_FDNAMES");
  bool self = argc > 1 && strcmp(argv[1], "self") == 0;
  int n = fds != NULL ? atoi(fds) : 0;
  char name_list[256];

  printf("fds=%d pid=%s names=%s\n", n,
         pid != NULL && atol(pid) == (long) getpid() ? "ok" : "wrong", names ? names : "(none)");
  for (int i = 0; i < n; i++)
    printf("fd %d: %s port %d\n", 3 + i, sock_type(3 + i) == SOCK_STREAM ? "stream" : "datagram",
           port_of(3 + i));
  fflush(stdout);
  snprintf(name_list, sizeof name_list, "%s", names != NULL ? names : "");
  char *save = NULL, *name = strtok_r(name_list, ":", &save);
  for (int i = 0; i < n; i++, name = strtok_r(NULL, ":", &save)) {
    pid_t child = -1;
    if (self && (child = fork()) == 0)
      client(3 + i);
    if (serve(3 + i, name != NULL ? name : "?") != 0)
      return 1;
    if (child > 0)
      waitpid(child, NULL, 0);
  }
  return 0;
}
