/* SPDX-License-Identifier: Apache-2.0 */
/* Socket activation (ACE: ports with "socketActivated": true).  The
 * executor binds the app's socket-activated ports in the pod's network
 * namespace before anything of the pod runs, and hands them to the app by
 * systemd's protocol (sd_listen_fds(3)): the sockets as descriptors 3, 4,
 * ..., and LISTEN_FDS (their number), LISTEN_PID (the app's PID) and
 * LISTEN_FDNAMES (the ports' names, ':'-separated) in its environment.
 * A client that connects before the app runs waits in the listen backlog
 * and is served once the app accepts. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ace/internal.h"
#include "common/array.h"
#include "common/cleanup.h"

void ace_listen_clear(struct ace_listen *l)
{
  for (size_t i = 0; i < l->n; i++)
    if (l->fds[i] >= 0)
      close(l->fds[i]);
  free(l->fds);
  free(l->names);
  memset(l, 0, sizeof *l);
}

/* A socket of TYPE bound to every address at PORT: IPv6 and IPv4 at once
 * where the namespace has IPv6, else IPv4. */
static int bind_any(int type, unsigned port, appc_error_t *err, const char *what)
{
  int fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0);
  int one = 1, zero = 0;

  if (fd >= 0) {
    struct sockaddr_in6 a = {
        .sin6_family = AF_INET6, .sin6_port = htons((uint16_t) port), .sin6_addr = in6addr_any};
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *) &a, sizeof a) == 0)
      return fd;
    int e = errno;
    close(fd);
    if (e != EADDRNOTAVAIL && e != EAFNOSUPPORT)
      return appc_error_make(err, e, "%s: bind", what);
  }
  fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return appc_error_make(err, errno, "%s: socket", what);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t) port),
                          .sin_addr.s_addr = htonl(INADDR_ANY)};
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *) &a, sizeof a) < 0) {
    int e = errno;
    close(fd);
    return appc_error_make(err, e, "%s: bind", what);
  }
  return fd;
}

static int add_socket(struct ace_listen *l, const struct appc_port *p, unsigned port,
                      const char *app_name, appc_error_t *err)
{
  char what[160];
  int type, fd;

  snprintf(what, sizeof what, "app %s: port %s (%s %u, socket-activated)", app_name, p->name,
           p->protocol, port);
  if (strcmp(p->protocol, "tcp") == 0)
    type = SOCK_STREAM;
  else if (strcmp(p->protocol, "udp") == 0)
    type = SOCK_DGRAM;
  else
    return appc_error_make(err, 0, "%s: only tcp and udp ports can be socket-activated", what);
  if ((fd = bind_any(type, port, err, what)) < 0)
    return -1;
  if (type == SOCK_STREAM && listen(fd, SOMAXCONN) < 0) {
    int e = errno;
    close(fd);
    return appc_error_make(err, e, "%s: listen", what);
  }
  if (APPC_ARRAY_EXTEND(l->fds, l->n, 1) < 0) {
    close(fd);
    return appc_error_make(err, ENOMEM, "%s", what);
  }
  l->fds[l->n++] = fd;
  /* systemd's names: one per descriptor, ':'-separated */
  size_t used = l->names != NULL ? strlen(l->names) : 0;
  char *names = realloc(l->names, used + strlen(p->name) + 2);
  if (names == NULL)
    return appc_error_make(err, ENOMEM, "%s", what);
  snprintf(names + used, strlen(p->name) + 2, "%s%s", used > 0 ? ":" : "", p->name);
  l->names = names;
  return 0;
}

static int open_all(const struct appc_app *app, const char *app_name, struct ace_listen *out,
                    appc_error_t *err)
{
  for (size_t i = 0; app != NULL && i < app->n_ports; i++) {
    const struct appc_port *p = &app->ports[i];
    uint64_t count = p->count > 0 ? p->count : 1;
    if (!p->socket_activated)
      continue;
    for (uint64_t k = 0; k < count; k++)
      if (add_socket(out, p, (unsigned) (p->port + k), app_name, err) < 0)
        return -1;
  }
  return 0;
}

int ace_listen_open(const struct appc_app *app, const char *app_name, int netns_fd,
                    struct ace_listen *out, appc_error_t *err)
{
  cleanup_close int host = -1;
  int r;

  memset(out, 0, sizeof *out);
  if (netns_fd >= 0) {
    host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (host < 0 || setns(netns_fd, CLONE_NEWNET) < 0)
      return appc_error_make(err, errno, "app %s: the pod's network namespace", app_name);
  }
  r = open_all(app, app_name, out, err);
  if (host >= 0 && setns(host, CLONE_NEWNET) < 0 && r == 0)
    r = appc_error_make(err, errno, "back to the host's network namespace");
  if (r < 0)
    ace_listen_clear(out);
  return r;
}

/* ENV without LISTEN_* entries, plus those of L for the process PID. */
static char **listen_env(const struct ace_listen *l, char *const *env, pid_t pid)
{
  size_t n = 0;

  while (env != NULL && env[n] != NULL)
    n++;
  char **out = calloc(n + 4, sizeof *out);
  size_t k = 0;
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if (strncmp(env[i], "LISTEN_", 7) != 0)
      out[k++] = env[i];
  if (asprintf(&out[k++], "LISTEN_FDS=%zu", l->n) < 0 ||
      asprintf(&out[k++], "LISTEN_PID=%ld", (long) pid) < 0 ||
      asprintf(&out[k++], "LISTEN_FDNAMES=%s", l->names != NULL ? l->names : "") < 0)
    return NULL;
  return out;
}

int ace_listen_pass(const struct ace_listen *l, char *const *env, char ***new_env,
                    appc_error_t *err)
{
  int high[64];

  *new_env = (char **) env;
  if (l == NULL || l->n == 0)
    return 0;
  if (l->n > sizeof high / sizeof high[0])
    return appc_error_make(err, EMFILE, "more than %zu socket-activated ports",
                           sizeof high / sizeof high[0]);
  /* Above every target first, so that placing one cannot close another. */
  for (size_t i = 0; i < l->n; i++)
    if ((high[i] = fcntl(l->fds[i], F_DUPFD_CLOEXEC, 3 + (int) l->n)) < 0)
      return appc_error_make(err, errno, "socket activation: dup");
  for (size_t i = 0; i < l->n; i++)
    if (dup2(high[i], 3 + (int) i) < 0) /* dup2 clears FD_CLOEXEC on the copy */
      return appc_error_make(err, errno, "socket activation: dup2");
  for (size_t i = 0; i < l->n; i++)
    close(high[i]);
  if ((*new_env = listen_env(l, env, getpid())) == NULL)
    return appc_error_make(err, ENOMEM, "socket activation: environment");
  return 0;
}
