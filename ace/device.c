/* SPDX-License-Identifier: Apache-2.0 */
/* Device nodes a pod may use: the executor's own /dev set and the host
 * devices given with --device=HOSTPATH[:PODPATH][:rwm] (seed 004).
 *
 * The nodes themselves are bind mounts of the host's (ace/rootfs.c); what
 * the pod may do with a node is the devices cgroup's business: the v1
 * controller's allow list, or on the unified hierarchy a
 * BPF_PROG_TYPE_CGROUP_DEVICE program generated here from the same rules,
 * as runc and crun do (the kernel has no other interface on v2). */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ace/internal.h"
#include "common/error.h"
#include "common/cleanup.h"
#include "common/macros.h"

/* What the executor's /dev holds (ace/rootfs.c): null, zero, full, random,
 * urandom, tty, the console (5:1), ptmx (5:2) and the pod's pts; making any
 * node stays allowed (opening it does not). */
static const struct ace_device_rule default_rules[] = {
    {'c', -1, -1, ACE_DEV_MKNOD}, {'b', -1, -1, ACE_DEV_MKNOD}, {'c', 1, 3, ACE_DEV_ALL},
    {'c', 1, 5, ACE_DEV_ALL},     {'c', 1, 7, ACE_DEV_ALL},     {'c', 1, 8, ACE_DEV_ALL},
    {'c', 1, 9, ACE_DEV_ALL},     {'c', 5, 0, ACE_DEV_ALL},     {'c', 5, 1, ACE_DEV_ALL},
    {'c', 5, 2, ACE_DEV_ALL},     {'c', 136, -1, ACE_DEV_ALL},
};

/* Names the executor puts in /dev itself: a device may not take their
 * place nor go beneath them (fd is a link into /proc, pts and shm are
 * mounts). */
static const char *const reserved_names[] = {"null", "zero",    "full",   "random", "urandom",
                                             "tty",  "console", "ptmx",   "pts",    "shm",
                                             "fd",   "stdin",   "stdout", "stderr", "mqueue"};

static bool is_access_spec(const char *s)
{
  unsigned seen = 0;

  if (*s == '\0')
    return false;
  for (; *s != '\0'; s++) {
    const char *at = strchr("rwm", *s);
    if (at == NULL || (seen & (1u << (at - "rwm"))))
      return false;
    seen |= 1u << (at - "rwm");
  }
  return true;
}

static unsigned access_bits(const char *s)
{
  unsigned bits = 0;
  for (; *s != '\0'; s++)
    bits |= *s == 'r' ? ACE_DEV_READ : *s == 'w' ? ACE_DEV_WRITE : ACE_DEV_MKNOD;
  return bits;
}

/* PODPATH: /dev/NAME[/NAME...], plain components only, none of them the
 * executor's (see reserved_names). */
static int check_pod_path(const char *spec, const char *path, appc_error_t *err)
{
  static const char allowed[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-";
  const char *p;

  /* P only once PATH is known to start with "/dev/" (a shorter one would
   * put it past the end). */
  if (strncmp(path, "/dev/", 5) != 0 || *(p = path + 5) == '\0')
    return appc_error_tag(err, EINVAL,
                          "device \"%s\": the path in the pod must be under /dev/ (it is \"%s\")",
                          spec, path);
  if (strlen(path) >= 256)
    return appc_error_make(err, ENAMETOOLONG, "device \"%s\": the path in the pod is too long",
                           spec);
  size_t first = strcspn(p, "/");
  for (size_t i = 0; i < ARRAY_SIZE(reserved_names); i++)
    if (strlen(reserved_names[i]) == first && strncmp(p, reserved_names[i], first) == 0)
      return appc_error_tag(err, EINVAL,
                            "device \"%s\": /dev/%s is the executor's own (null, zero, full, "
                            "random, urandom, tty, console, ptmx, pts, shm, fd and the std "
                            "streams are provided to every pod)",
                            spec, reserved_names[i]);
  while (*p != '\0') {
    size_t len = strcspn(p, "/");
    if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.') ||
        strspn(p, allowed) < len)
      return appc_error_tag(err, EINVAL,
                            "device \"%s\": \"%s\" is not a plain path (letters, digits, '.', "
                            "'_', '+' and '-' between single slashes; no \".\" or \"..\")",
                            spec, path);
    p += len;
    if (*p == '/')
      p++;
    if (*p == '\0' && p[-1] == '/')
      return appc_error_tag(err, EINVAL, "device \"%s\": \"%s\" ends in a slash", spec, path);
  }
  return 0;
}

/* SPEC's fields, in COPY (SPEC's copy, cut at its colons): whatever can
 * be said of them without looking at the host. */
static int split_spec(const char *spec, char *copy, const char **host_out, const char **pod_out,
                      const char **access_out, appc_error_t *err)
{
  const char *host, *pod = NULL, *access = "rwm";

  /* HOST, HOST:POD, HOST:ACCESS or HOST:POD:ACCESS, as docker reads it:
   * a last field made of r, w and m is the access. */
  host = copy;
  char *c1 = strchr(copy, ':');
  if (c1 != NULL) {
    *c1 = '\0';
    char *c2 = strchr(c1 + 1, ':');
    if (c2 != NULL) {
      *c2 = '\0';
      pod = c1 + 1;
      access = c2 + 1;
      if (strchr(access, ':') != NULL || !is_access_spec(access))
        return appc_error_tag(err, EINVAL,
                              "device \"%s\": not HOSTPATH[:PODPATH][:ACCESS] (ACCESS is made of "
                              "r, w and m, each once)",
                              spec);
    } else if (is_access_spec(c1 + 1)) {
      access = c1 + 1;
    } else {
      pod = c1 + 1;
    }
  }
  if (host[0] != '/')
    return appc_error_tag(err, EINVAL, "device \"%s\": the host path must be absolute", spec);
  if (pod == NULL)
    pod = host;
  if (check_pod_path(spec, pod, err) < 0)
    return -1;
  *host_out = host;
  *pod_out = pod;
  *access_out = access;
  return 0;
}

int ace_device_check_syntax(const char *spec, appc_error_t *err)
{
  cleanup_free char *copy = strdup(spec);
  const char *host, *pod, *access;

  if (copy == NULL)
    return appc_error_make(err, ENOMEM, "device \"%s\"", spec);
  return split_spec(spec, copy, &host, &pod, &access, err);
}

int ace_device_parse(const char *spec, struct ace_device *out, appc_error_t *err)
{
  cleanup_free char *copy = strdup(spec);
  const char *host, *pod, *access;
  struct stat st;

  memset(out, 0, sizeof *out);
  if (copy == NULL)
    return appc_error_make(err, ENOMEM, "device \"%s\"", spec);
  if (split_spec(spec, copy, &host, &pod, &access, err) < 0)
    return -1;
  /* The host's node, symlinks followed (/dev/disk/by-id/... are links). */
  if (stat(host, &st) < 0)
    return appc_error_make(err, errno, "device \"%s\": %s", spec, host);
  if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
    return appc_error_tag(err, EINVAL, "device \"%s\": %s is not a character or block device", spec,
                          host);
  out->rule = (struct ace_device_rule){
      .type = S_ISCHR(st.st_mode) ? 'c' : 'b',
      .major = major(st.st_rdev),
      .minor = minor(st.st_rdev),
      .access = access_bits(access),
  };
  out->host_path = strdup(host);
  out->pod_path = strdup(pod);
  if (out->host_path == NULL || out->pod_path == NULL) {
    ace_device_clear(out);
    return appc_error_make(err, ENOMEM, "device \"%s\"", spec);
  }
  return 0;
}

int ace_device_check_opened(const struct ace_device *d, int fd, appc_error_t *err)
{
  struct stat st;

  if (fstat(fd, &st) < 0)
    return appc_error_make(err, errno, "device %s", d->host_path);
  bool same = (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) &&
              (S_ISCHR(st.st_mode) ? 'c' : 'b') == d->rule.type &&
              (int64_t) major(st.st_rdev) == d->rule.major &&
              (int64_t) minor(st.st_rdev) == d->rule.minor;
  if (!same)
    return appc_error_tag(err, EINVAL,
                          "device %s: it changed while the pod was made (no longer the %s "
                          "device %" PRId64 ":%" PRId64 " it was)",
                          d->host_path, d->rule.type == 'c' ? "character" : "block", d->rule.major,
                          d->rule.minor);
  return 0;
}

void ace_device_clear(struct ace_device *d)
{
  free(d->host_path);
  free(d->pod_path);
  d->host_path = d->pod_path = NULL;
}

int ace_device_check_unique(const struct ace_device *devices, size_t n, appc_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++) {
      const char *a = devices[i].pod_path, *b = devices[j].pod_path;
      size_t la = strlen(a), lb = strlen(b);
      /* The same node twice, or one beneath the other (a node is a file). */
      if (strcmp(a, b) == 0 || (la > lb && strncmp(a, b, lb) == 0 && a[lb] == '/') ||
          (lb > la && strncmp(a, b, la) == 0 && b[la] == '/'))
        return appc_error_tag(err, EINVAL, "devices: %s and %s cannot both be in the pod", b, a);
    }
  return 0;
}

size_t ace_device_rules(const struct ace_device *devices, size_t n, struct ace_device_rule **out)
{
  size_t total = ARRAY_SIZE(default_rules) + n;
  struct ace_device_rule *r = malloc(total * sizeof *r);

  *out = r;
  if (r == NULL)
    return 0;
  memcpy(r, default_rules, sizeof default_rules);
  for (size_t i = 0; i < n; i++)
    r[ARRAY_SIZE(default_rules) + i] = devices[i].rule;
  return total;
}

void ace_device_rule_format(const struct ace_device_rule *rule, char out[ACE_DEV_RULE_MAX])
{
  char maj[24] = "*", min[24] = "*", acc[4] = "";
  size_t n = 0;

  if (rule->major >= 0)
    snprintf(maj, sizeof maj, "%lld", (long long) rule->major);
  if (rule->minor >= 0)
    snprintf(min, sizeof min, "%lld", (long long) rule->minor);
  if (rule->access & ACE_DEV_READ)
    acc[n++] = 'r';
  if (rule->access & ACE_DEV_WRITE)
    acc[n++] = 'w';
  if (rule->access & ACE_DEV_MKNOD)
    acc[n++] = 'm';
  acc[n] = '\0';
  snprintf(out, ACE_DEV_RULE_MAX, "%c %s:%s %s", rule->type, maj, min, acc);
}

/* ---- the v2 program ------------------------------------------------------- */

/* The kernel hands the program a struct bpf_cgroup_dev_ctx: access_type
 * (the device type in the low 16 bits, the access asked for above them),
 * major and minor.  The program returns 1 (allow) at the first rule that
 * covers the request, else 0; registers: r2 type, r3 access, r4 major,
 * r5 minor, r1 scratch. */
struct insns {
  struct bpf_insn *v;
  size_t n, cap;
};

static void emit(struct insns *p, struct bpf_insn insn)
{
  if (p->n < p->cap)
    p->v[p->n] = insn;
  p->n++;
}

static struct bpf_insn ldx_w(int dst, int src, short off)
{
  return (struct bpf_insn){
      .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = dst, .src_reg = src, .off = off};
}

static struct bpf_insn alu_imm(int op, int dst, int imm)
{
  return (struct bpf_insn){.code = BPF_ALU64 | op | BPF_K, .dst_reg = dst, .imm = imm};
}

static struct bpf_insn mov_reg(int dst, int src)
{
  return (struct bpf_insn){.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = dst, .src_reg = src};
}

static struct bpf_insn jne_imm(int dst, int imm, short off)
{
  return (struct bpf_insn){
      .code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = dst, .off = off, .imm = imm};
}

static struct bpf_insn exit_insn(void)
{
  return (struct bpf_insn){.code = BPF_JMP | BPF_EXIT};
}

/* Instructions for one rule: tests that jump past the rule when they fail,
 * then "return 1". */
static size_t rule_length(const struct ace_device_rule *r, unsigned deny)
{
  return (r->type != 'a') + (deny != 0 ? 3 : 0) + (r->major >= 0) + (r->minor >= 0) + 2;
}

static void emit_rule(struct insns *p, const struct ace_device_rule *r)
{
  unsigned deny = ~r->access & ACE_DEV_ALL;
  size_t start = p->n, len = rule_length(r, deny);
  /* From the instruction about to be emitted to the one after the rule. */
#define SKIP ((short) (len - (p->n - start) - 1))
  if (r->type != 'a')
    emit(p, jne_imm(2, r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, SKIP));
  if (deny != 0) { /* asked for anything the rule does not give */
    emit(p, mov_reg(1, 3));
    emit(p, alu_imm(BPF_AND, 1, (int) deny));
    emit(p, jne_imm(1, 0, SKIP));
  }
  if (r->major >= 0)
    emit(p, jne_imm(4, (int) r->major, SKIP));
  if (r->minor >= 0)
    emit(p, jne_imm(5, (int) r->minor, SKIP));
  emit(p, alu_imm(BPF_MOV, 0, 1));
  emit(p, exit_insn());
#undef SKIP
}

static void emit_program(struct insns *p, const struct ace_device_rule *rules, size_t n)
{
  emit(p, ldx_w(2, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type)));
  emit(p, mov_reg(3, 2));
  emit(p, alu_imm(BPF_AND, 2, 0xffff));
  emit(p, alu_imm(BPF_RSH, 3, 16));
  emit(p, ldx_w(4, 1, offsetof(struct bpf_cgroup_dev_ctx, major)));
  emit(p, ldx_w(5, 1, offsetof(struct bpf_cgroup_dev_ctx, minor)));
  for (size_t i = 0; i < n; i++)
    emit_rule(p, &rules[i]);
  emit(p, alu_imm(BPF_MOV, 0, 0));
  emit(p, exit_insn());
}

int ace_device_bpf_load(const struct ace_device_rule *rules, size_t n, appc_error_t *err)
{
  struct insns count = {0}, prog = {0};
  char log[4096] = "";

  emit_program(&count, rules, n);
  prog.cap = count.n;
  prog.v = calloc(prog.cap, sizeof *prog.v);
  if (prog.v == NULL)
    return appc_error_make(err, ENOMEM, "device program");
  emit_program(&prog, rules, n);
  union bpf_attr attr = {
      .prog_type = BPF_PROG_TYPE_CGROUP_DEVICE,
      .insns = (uintptr_t) prog.v,
      .insn_cnt = (unsigned) prog.n,
      .license = (uintptr_t) "Apache-2.0",
  };
  int fd = (int) syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  int saved = errno;
  if (fd < 0 && saved != EPERM && saved != ENOMEM) {
    /* Refused by the verifier: load again for its reason (a log of the
     * whole program fills any buffer: ENOSPC, with what fits kept). */
    attr.log_buf = (uintptr_t) log;
    attr.log_size = sizeof log;
    attr.log_level = 1;
    (void) syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
    log[sizeof log - 1] = '\0';
  }
  free(prog.v);
  if (fd < 0)
    return appc_error_make(err, saved, "cannot load the devices program (%zu instructions)%s%s",
                           prog.n, log[0] ? ": " : "", log);
  return fd;
}

int ace_device_bpf_attach(int prog_fd, int cgroup_fd, appc_error_t *err)
{
  union bpf_attr attr = {
      .target_fd = (unsigned) cgroup_fd,
      .attach_bpf_fd = (unsigned) prog_fd,
      .attach_type = BPF_CGROUP_DEVICE,
      .attach_flags = BPF_F_ALLOW_MULTI,
  };
  if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof attr) < 0)
    return appc_error_make(err, errno, "cannot attach the devices program");
  return 0;
}
