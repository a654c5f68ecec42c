/* SPDX-License-Identifier: Apache-2.0 */
/* actool layout port add NAME PROTO PORT [--count=N] [--socket-activated] | rm NAME */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "actool/layout-cli.h"

struct port_options {
  const char *layout;
  const char *count;
  bool socket_activated;
};

static const struct actool_option port_option_table[] = {
    ACTOOL_LAYOUT_OPTION(struct port_options),
    {"count", ACTOOL_OPT_STRING, offsetof(struct port_options, count), "N",
     "A range of N ports from PORT on", NULL},
    {"socket-activated", ACTOOL_OPT_BOOL, offsetof(struct port_options, socket_activated), NULL,
     "The executor binds the port and passes it to the app", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

struct port_edit {
  bool add;
  const char *name, *protocol;
  unsigned port, count;
  bool socket_activated;
};

static int apply_port(struct appc_layout *l, void *data, appc_error_t *err)
{
  const struct port_edit *e = data;

  if (!e->add)
    return appc_layout_remove(l, APPC_LAYOUT_PORTS, e->name, err);
  return appc_layout_port_add(l, e->name, e->protocol, e->port, e->count, e->socket_activated, err);
}

/* A decimal number; the schema judges its range at commit. */
static int parse_number(const char *what, const char *s, unsigned *out)
{
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);

  if (*s < '0' || *s > '9' || *end != '\0')
    return actool_usage_error("layout port", "%s \"%s\": not a number", what, s);
  if (errno != 0 || v > 0xffffffffUL)
    return actool_usage_error("layout port", "%s \"%s\": out of range", what, s);
  *out = (unsigned) v;
  return ACTOOL_EXIT_OK;
}

static int run_layout_port(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct port_options *o = opaque;
  struct port_edit e = {.socket_activated = o->socket_activated};
  int r = actool_layout_add_or_rm("layout port", argc, argv, 3, 1, &e.add);

  (void) g;
  if (r != ACTOOL_EXIT_OK)
    return r;
  e.name = argv[1];
  if (e.add) {
    e.protocol = argv[2];
    if ((r = parse_number("PORT", argv[3], &e.port)) != ACTOOL_EXIT_OK ||
        (o->count != NULL && (r = parse_number("--count", o->count, &e.count)) != ACTOOL_EXIT_OK))
      return r;
  }
  return actool_layout_edit(actool_layout_dir(o->layout), apply_port, &e);
}

const struct actool_command actool_cmd_layout_port = {
    .name = "layout port",
    .summary = "Add or remove a port the app listens on",
    .usage = "[--layout=DIR] add NAME PROTOCOL PORT [--count=N] [--socket-activated]\n"
             "       actool layout port [--layout=DIR] rm NAME",
    .description = "add replaces a port of that name.  PORT is 1 to 65535; the protocol is\n"
                   "tcp, udp or another the executor knows.",
    .options = port_option_table,
    .options_size = sizeof(struct port_options),
    .run = run_layout_port,
};
