/* SPDX-License-Identifier: Apache-2.0 */
/* `run --device=HOSTPATH[:PODPATH][:ACCESS]` values, one a line (at most
 * eight), then the check that no two share a pod path.  The host paths are
 * looked up (stat) on this machine, so /dev/null, /dev/zero and the like
 * reach the rules.  Properties: a refusal names the value as given
 * (device "VALUE", no command-line flag) and leaves nothing behind; a device parsed has an absolute
 * host path (the spec's first field), a plain pod path under /dev/ that is not the executor's own,
 * a rule for a character or block node with some of r, w and m, and parsing HOST:POD:ACCESS again
 * gives the same; the uniqueness check refuses exactly the sets with a pod path equal to or beneath
 * another. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ace/internal.h"
#include "common/cleanup.h"
#include "tests/fuzz/fuzz.h"

#define MAX_DEVICES 8

static const char *const executors[] = {"null", "zero",    "full",   "random", "urandom",
                                        "tty",  "console", "ptmx",   "pts",    "shm",
                                        "fd",   "stdin",   "stdout", "stderr", "mqueue"};

static void check_pod_path(const char *spec, const char *pod)
{
  static const char allowed[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-/";
  const char *rest = pod + strlen("/dev/");

  if (strncmp(pod, "/dev/", 5) != 0 || *rest == '\0' || strlen(pod) >= 256)
    fuzz_fail("\"%s\" gave the pod path \"%s\"", spec, pod);
  if (strspn(pod, allowed) != strlen(pod) || strstr(pod, "//") != NULL ||
      pod[strlen(pod) - 1] == '/')
    fuzz_fail("\"%s\" gave the pod path \"%s\", not a plain one", spec, pod);
  for (const char *c = rest; c != NULL; c = strchr(c, '/')) {
    c += *c == '/';
    size_t len = strcspn(c, "/");
    if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
      fuzz_fail("\"%s\" gave the pod path \"%s\", with a dot component", spec, pod);
  }
  size_t first = strcspn(rest, "/");
  for (size_t i = 0; i < sizeof executors / sizeof executors[0]; i++)
    if (strlen(executors[i]) == first && strncmp(rest, executors[i], first) == 0)
      fuzz_fail("\"%s\" takes the executor's /dev/%s", spec, executors[i]);
}

static void check_device(const char *spec, const struct ace_device *d)
{
  const struct ace_device_rule *r = &d->rule;
  size_t host_len = strcspn(spec, ":");
  char rule[ACE_DEV_RULE_MAX], again_rule[ACE_DEV_RULE_MAX];

  if (d->host_path == NULL || d->pod_path == NULL)
    fuzz_fail("\"%s\" parsed without paths", spec);
  if (d->host_path[0] != '/' || strlen(d->host_path) != host_len ||
      strncmp(d->host_path, spec, host_len) != 0)
    fuzz_fail("\"%s\" gave the host path \"%s\"", spec, d->host_path);
  if (strchr(spec, ':') == NULL && strcmp(d->pod_path, d->host_path) != 0)
    fuzz_fail("\"%s\" gave the pod path \"%s\" of its own", spec, d->pod_path);
  check_pod_path(spec, d->pod_path);
  if ((r->type != 'c' && r->type != 'b') || r->major < 0 || r->minor < 0 || r->access == 0 ||
      (r->access & ~ACE_DEV_ALL) != 0)
    fuzz_fail("\"%s\" gave the rule %c %lld:%lld access %u", spec, r->type, (long long) r->major,
              (long long) r->minor, r->access);

  /* The same device, written out whole, parses to the same. */
  ace_device_rule_format(r, rule);
  cleanup_free char *whole = NULL;
  if (asprintf(&whole, "%s:%s:%s", d->host_path, d->pod_path, strrchr(rule, ' ') + 1) < 0)
    abort();
  cleanup_error appc_error_t err = NULL;
  struct ace_device again;
  if (ace_device_parse(whole, &again, &err) < 0)
    fuzz_fail("\"%s\" parsed, \"%s\" did not: %s", spec, whole, err->msg);
  ace_device_rule_format(&again.rule, again_rule);
  if (strcmp(again.host_path, d->host_path) != 0 || strcmp(again.pod_path, d->pod_path) != 0 ||
      strcmp(rule, again_rule) != 0)
    fuzz_fail("\"%s\" gave %s %s (%s), \"%s\" %s %s (%s)", spec, d->host_path, d->pod_path, rule,
              whole, again.host_path, again.pod_path, again_rule);
  ace_device_clear(&again);
}

/* Is one of A and B the other or beneath it? */
static bool clash(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);

  if (la > lb)
    return clash(b, a);
  return strncmp(a, b, la) == 0 && (b[la] == '\0' || b[la] == '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *specs[MAX_DEVICES];
  cleanup_free char *buf = NULL;
  struct ace_device devices[MAX_DEVICES];
  size_t n_specs = fuzz_split(data, size, '\n', specs, MAX_DEVICES, &buf), n = 0;

  for (size_t i = 0; i < n_specs; i++) {
    cleanup_error appc_error_t err = NULL;
    struct ace_device *d = &devices[n];
    if (ace_device_parse(specs[i], d, &err) < 0) {
      cleanup_free char *named = NULL;
      if (asprintf(&named, "device \"%s\"", specs[i]) < 0)
        abort();
      if (err == NULL || strncmp(err->msg, named, strlen(named)) != 0)
        fuzz_fail("\"%s\" was refused with \"%s\"", specs[i], err ? err->msg : "(no error)");
      if (d->host_path != NULL || d->pod_path != NULL)
        fuzz_fail("\"%s\" was refused but left paths behind", specs[i]);
      continue;
    }
    check_device(specs[i], d);
    n++;
  }

  bool clashes = false;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++)
      clashes = clashes || clash(devices[i].pod_path, devices[j].pod_path);
  cleanup_error appc_error_t err = NULL;
  if ((ace_device_check_unique(devices, n, &err) < 0) != clashes)
    fuzz_fail("%zu devices, %s: the uniqueness check says %s", n,
              clashes ? "two clash" : "none clash", err ? err->msg : "nothing");

  struct ace_device_rule *rules = NULL;
  size_t n_rules = ace_device_rules(devices, n, &rules);
  if (rules == NULL || n_rules < n)
    fuzz_fail("%zu devices gave %zu rules", n, n_rules);
  for (size_t i = 0; i < n; i++) {
    const struct ace_device_rule *a = &rules[n_rules - n + i], *b = &devices[i].rule;
    if (a->type != b->type || a->major != b->major || a->minor != b->minor ||
        a->access != b->access)
      fuzz_fail("device %zu's rule is not among the last rules", i);
  }
  free(rules);
  for (size_t i = 0; i < n; i++)
    ace_device_clear(&devices[i]);
  return 0;
}
