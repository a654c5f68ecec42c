/* SPDX-License-Identifier: Apache-2.0 */
/* A socket-activated test server for tests/integration/run.sh, built there
 * statically and run in a pod.  It checks systemd's protocol (LISTEN_PID is
 * its PID, LISTEN_FDS the number of sockets from descriptor 3 on,
 * LISTEN_FDNAMES their names) and prints what it found, then serves every
 * socket once: a stream socket answers one connection, a datagram socket
 * one datagram, with "served by NAME".  With "self" as its argument it is
 * its own client (a child connects to each socket on 127.0.0.1 and prints
 * the answer), for pods whose network the test cannot reach; "self
 * ADDR:PORT..." connects to those instead, one per socket (run-net.sh: a
 * pod reaching its own published ports through the host's address).  A
 * client that gets no answer within 5 s says so and ends the server, which
 * would otherwise wait for it forever. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
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

/* A client's failure: said, and the server (its parent) ended. */
static void client_fail(const char *what)
{
  fail(what);
  kill(getppid(), SIGTERM);
  _exit(1);
}

/* The client side of "self": one exchange with the socket FD listens on,
 * through TARGET ("ADDR:PORT") when given, else on 127.0.0.1. */
static void client(int fd, const char *target)
{
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port_of(fd))};
  struct timeval limit = {.tv_sec = 5};
  int type = sock_type(fd);
  int c = socket(AF_INET, type, 0);
  char buf[128] = "", addr[64] = "127.0.0.1";
  ssize_t n;

  if (target != NULL) {
    const char *colon = strrchr(target, ':');
    if (colon == NULL || (size_t) (colon - target) >= sizeof addr) {
      errno = EINVAL;
      client_fail(target);
    }
    snprintf(addr, sizeof addr, "%.*s", (int) (colon - target), target);
    a.sin_port = htons((uint16_t) atoi(colon + 1));
  }
  if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
    errno = EINVAL;
    client_fail(addr);
  }
  /* SO_SNDTIMEO bounds a TCP connect too */
  if (c < 0 || setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) < 0 ||
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) < 0 ||
      connect(c, (struct sockaddr *) &a, sizeof a) < 0)
    client_fail("client connect");
  if (type == SOCK_DGRAM && send(c, "ping", 4, 0) < 0)
    client_fail("client send");
  if ((n = recv(c, buf, sizeof buf - 1, 0)) < 0)
    client_fail("client recv");
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
      client(3 + i, 2 + i < argc ? argv[2 + i] : NULL);
    if (serve(3 + i, name != NULL ? name : "?") != 0)
      return 1;
    if (child > 0)
      waitpid(child, NULL, 0);
  }
  return 0;
}
