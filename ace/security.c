/* SPDX-License-Identifier: Apache-2.0 */
/* Capabilities, no_new_privs and seccomp for an app (ace.md "Linux
 * Isolators"), and the pod's os/unix/sysctl.
 *
 * Everything that can fail on a name is resolved in P by
 * ace_security_prepare: the capability mask, and the seccomp filter compiled
 * to BPF.  ace_security_enter then runs in the child with plain system calls
 * only: once a retain-set filter is loaded, a malloc that reaches brk or mmap
 * would be killed by it, so the child allocates nothing. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/capability.h>
#include <seccomp.h>

#include "ace/internal.h"
#include "ace/pod.h"
#include "appc/ace.h"
#include "common/error.h"
#include "common/array.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/hashmap.h"
#include "common/lazy.h"
#include "appc/isolator.h"
#include "appc/types.h"
#include "common/macros.h"

/* A rule of the seccomp filter, kept to describe it (ace_security_describe). */
struct seccomp_rule {
  char *name;
  uint32_t action;
};

struct ace_security {
  uint64_t caps;           /* capabilities kept: bit N is capability N */
  bool no_new_privs;       /* os/linux/no-new-privileges */
  struct sock_filter *bpf; /* the seccomp isolator's filter; NULL: none */
  size_t bpf_len;          /* instructions in BPF */
  /* The default filter (NULL: none), loaded first: an isolator's filter
   * can only narrow it.  DEFAULT_LIFTED: the capabilities kept that lift
   * parts of it. */
  struct sock_filter *default_bpf;
  size_t default_bpf_len;
  uint64_t default_lifted;
  bool oom_set; /* os/linux/oom-score-adj given */
  int oom_score_adj;
  uint32_t default_action; /* the filter's, when bpf is set */
  struct seccomp_rule *rules;
  size_t n_rules;
};

/* ---- names ---------------------------------------------------------------- */

/* ace.md: "the default set of capabilities" an app gets without a
 * capabilities isolator. */
/* The kernel's numbers: libcap (loaded at first use) maps the names that
 * isolators give, and most apps give none. */
static const int default_caps[] = {
    CAP_AUDIT_WRITE, CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
    CAP_KILL,        CAP_MKNOD,   CAP_NET_RAW,      CAP_NET_BIND_SERVICE, CAP_SETUID,
    CAP_SETGID,      CAP_SETPCAP, CAP_SETFCAP,      CAP_SYS_CHROOT,
};
#define N_DEFAULT_CAPS (ARRAY_SIZE(default_caps))

/* The number of a capability name as the spec writes it (upper case; libcap
 * alone would also take "cap_chown" or "7"), or -1. */
static int cap_number(const char *name)
{
  cap_value_t v;

  if (!appc_is_linux_capability(name) || cap_from_name(name, &v) < 0 || v < 0 || v >= 64)
    return -1;
  return v;
}

static uint64_t default_mask(void)
{
  uint64_t mask = 0;
  for (size_t i = 0; i < N_DEFAULT_CAPS; i++)
    mask |= UINT64_C(1) << default_caps[i];
  return mask;
}

/* ---- capabilities ------------------------------------------------------- */

static int cap_set_mask(const struct appc_isolator *iso, size_t i, uint64_t *out, appc_error_t *err)
{
  uint64_t mask = 0;

  if (appc_lazy_bind(APPC_LAZY_CAP, err) < 0)
    return appc_error_prefix(err, "app.isolators[%zu]", i);
  for (size_t j = 0; j < iso->set.len; j++) {
    int v = cap_number(iso->set.items[j]);
    if (v < 0)
      return appc_error_make(err, 0,
                             "app.isolators[%zu].value.set[%zu]: \"%s\" is not a Linux capability",
                             i, j, iso->set.items[j]);
    mask |= UINT64_C(1) << v;
  }
  *out = mask;
  return 0;
}

/* A capability that actool itself lacks (not in its bounding set) cannot be
 * given: capset would fail.  Say so rather than fail the pod. */
static uint64_t host_caps(uint64_t want, const char *app_name, const struct ace_notes *notes)
{
  for (int v = 0; v < 64; v++) {
    if ((want & (UINT64_C(1) << v)) == 0 ||
        prctl(PR_CAPBSET_READ, (unsigned long) v, 0L, 0L, 0L) == 1)
      continue;
    want &= ~(UINT64_C(1) << v);
    char *name = cap_to_name((cap_value_t) v); /* libcap's: cap_free */
    ace_note(notes, ACE_NOTE_WARN,
             "app %s: capability %s not granted: actool's own bounding set lacks it", app_name,
             name != NULL ? name : "?");
    cap_free(name);
  }
  return want;
}

static void note_enforced(const struct ace_notes *notes, const char *app_name,
                          const struct appc_isolator *iso)
{
  ace_note(notes, ACE_NOTE_INFO, "app %s: isolator %s enforced: %s", app_name,
           appc_isolator_kind_name(iso->kind), iso->value_json != NULL ? iso->value_json : "");
}

/* ---- seccomp -------------------------------------------------------------- */

/* What ace_security_enter does after loading the filter; a retain set always
 * allows these, a remove set cannot block them (each named in a warning).
 * After execve the app keeps them too, as seccomp filters cannot be lifted. */
static const char *const lifecycle_syscalls[] = {
    "setgroups",                  /* supplementary groups of the app's identity */
    "setresgid",                  /* its gid (glibc's setresgid), before the uid */
    "setresuid",                  /* its uid */
    "capset",                     /* permitted/effective/inheritable sets, last step */
    "execve",                     /* the exec shim starting the app */
    "execveat",                   /* the caller starting the exec shim (ace/exec.c) */
    "fcntl",                      /* the shim closing its report at the app's execve */
    "write",                      /* the caller (or the shim) reporting a failure */
    "exit_group",                 /* ... and then exiting */
    "exit",       "rt_sigreturn", /* a signal handler returning during these steps */
};
#define N_LIFECYCLE (ARRAY_SIZE(lifecycle_syscalls))

static bool is_lifecycle(const char *name)
{
  for (size_t k = 0; k < N_LIFECYCLE; k++) {
    if (strcmp(name, lifecycle_syscalls[k]) == 0)
      return true;
  }
  return false;
}

/* ace.md: without errno, a blocked call means "app termination via SIGSYS".
 * SCMP_ACT_KILL_PROCESS kills the whole process with SIGSYS (SCMP_ACT_TRAP
 * would only send a SIGSYS the app can catch and carry on; SCMP_ACT_KILL
 * kills one thread only).  Kernels before 4.14 lack it: fall back. */
static uint32_t kill_action(void)
{
  return seccomp_api_get() >= 3 ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_KILL;
}

struct seccomp_plan {
  bool retain;     /* allow-list */
  bool all;        /* the set contains @appc.io/all */
  uint32_t action; /* what a blocked call gets */
};

static int seccomp_plan(const struct appc_isolator *iso, size_t i, struct seccomp_plan *p,
                        appc_error_t *err)
{
  p->retain = iso->kind == APPC_ISOLATOR_SECCOMP_RETAIN;
  p->all = false;
  p->action = kill_action();
  if (iso->errno_name != NULL && *iso->errno_name != '\0') {
    int e = appc_errno_value(iso->errno_name);
    if (e < 0)
      return appc_error_make(err, 0, "app.isolators[%zu].value.errno: \"%s\" is not an errno name",
                             i, iso->errno_name);
    p->action = SCMP_ACT_ERRNO((uint16_t) e);
  }
  for (size_t j = 0; j < iso->set.len; j++) {
    const char *name = iso->set.items[j];
    if (strcmp(name, "@appc.io/all") == 0)
      p->all = true;
    else if (strcmp(name, "@appc.io/empty") == 0)
      continue;
    else if (name[0] == '@')
      return appc_error_make(err, 0,
                             "app.isolators[%zu].value.set[%zu]: \"%s\" is not a syscall group "
                             "actool supports (@appc.io/all, @appc.io/empty)",
                             i, j, name);
    else if (seccomp_syscall_resolve_name(name) == __NR_SCMP_ERROR)
      return appc_error_make(
          err, 0, "app.isolators[%zu].value.set[%zu]: \"%s\" is not a system call", i, j, name);
  }
  return 0;
}

/* A remove set of nothing or a retain set of everything filters nothing. */
static bool seccomp_is_noop(const struct appc_isolator *iso, const struct seccomp_plan *p)
{
  if (p->retain)
    return p->all;
  for (size_t j = 0; j < iso->set.len; j++) {
    if (strcmp(iso->set.items[j], "@appc.io/empty") != 0)
      return false;
  }
  return true;
}

static void filter_releasep(scmp_filter_ctx *ctx)
{
  if (*ctx != NULL)
    seccomp_release(*ctx);
}

/* x86_64 also runs i386 and x32 code, arm64 arm code: give those ABIs the same
 * rules.  Without them the filter kills any call from them (libseccomp's
 * bad-arch action), which is safe but breaks 32-bit apps.  The rules are
 * laid out as a binary tree: the kernel runs the filter for every system
 * call number of every ABI when it is loaded (to cache the calls it always
 * allows), and a list of 60 rules took it 0.38 ms, a tree 0.09. */
static int add_compat_arches(scmp_filter_ctx ctx)
{
  uint32_t native = seccomp_arch_native();
  uint32_t extra[2] = {0, 0};
  int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

  if (r < 0)
    return r;

  if (native == SCMP_ARCH_X86_64) {
    extra[0] = SCMP_ARCH_X86;
    extra[1] = SCMP_ARCH_X32;
  } else if (native == SCMP_ARCH_AARCH64) {
    extra[0] = SCMP_ARCH_ARM;
  }
  for (size_t k = 0; k < 2 && extra[k] != 0; k++) {
    r = seccomp_arch_add(ctx, extra[k]);
    if (r < 0 && r != -EEXIST)
      return r;
  }
  return 0;
}

static int rule_add(struct ace_security *sec, scmp_filter_ctx ctx, uint32_t action,
                    const char *name)
{
  int r = seccomp_rule_add(ctx, action, seccomp_syscall_resolve_name(name), 0);
  if (r == -EEXIST)
    return 0; /* a name listed twice */
  if (r < 0)
    return r;
  if (APPC_ARRAY_EXTEND(sec->rules, sec->n_rules, 1) < 0 ||
      (sec->rules[sec->n_rules].name = strdup(name)) == NULL)
    return -ENOMEM;
  sec->rules[sec->n_rules++].action = action;
  return 0;
}

static int seccomp_rules(struct ace_security *sec, scmp_filter_ctx ctx,
                         const struct appc_isolator *iso, const struct seccomp_plan *p,
                         const char *app_name, const struct ace_notes *notes)
{
  int r;

  if (p->retain || p->all) {
    for (size_t k = 0; k < N_LIFECYCLE; k++) {
      if ((r = rule_add(sec, ctx, SCMP_ACT_ALLOW, lifecycle_syscalls[k])) < 0)
        return r;
    }
  }
  if (p->all)
    return 0; /* remove @appc.io/all: everything but the lifecycle */
  /* A name listed again is skipped here: libseccomp would look for it
   * among the rules so far each time (a set of 40,000 took 11 s). */
  struct appc_strset seen = {0};
  r = 0;
  for (size_t j = 0; j < iso->set.len && r == 0; j++) {
    const char *name = iso->set.items[j];
    int added = appc_strset_add(&seen, name);
    if (added < 0)
      r = -ENOMEM;
    if (added <= 0 || name[0] == '@' || (p->retain && is_lifecycle(name)))
      continue;
    if (!p->retain && is_lifecycle(name)) {
      ace_note(notes, ACE_NOTE_WARN,
               "app %s: os/linux/seccomp-remove-set: %s not blocked: actool needs it to start "
               "the app",
               app_name, name);
      continue;
    }
    r = rule_add(sec, ctx, p->retain ? SCMP_ACT_ALLOW : p->action, name);
  }
  appc_strset_clear(&seen);
  return r;
}

/* libseccomp writes the program to a file descriptor: a memfd, read back. */
static int export_bpf(scmp_filter_ctx ctx, struct sock_filter **out, size_t *out_len,
                      appc_error_t *err)
{
  cleanup_close int fd = memfd_create("actool-seccomp", MFD_CLOEXEC);
  struct stat st;
  int r;

  if (fd < 0)
    return appc_error_make(err, errno, "seccomp: memfd_create");
  if ((r = seccomp_export_bpf(ctx, fd)) < 0)
    return appc_error_make(err, -r, "seccomp: cannot compile the filter");
  if (fstat(fd, &st) < 0)
    return appc_error_make(err, errno, "seccomp: fstat");
  size_t len = (size_t) st.st_size;
  if (len == 0 || len % sizeof(struct sock_filter) != 0 ||
      len / sizeof(struct sock_filter) > USHRT_MAX)
    return appc_error_make(err, 0, "seccomp: the compiled filter has a bad size (%zu bytes)", len);
  cleanup_free struct sock_filter *bpf = malloc(len);
  if (bpf == NULL)
    return appc_error_make(err, errno, "seccomp: out of memory");
  ssize_t n = pread(fd, bpf, len, 0);
  if (n < 0 || (size_t) n != len)
    return appc_error_make(err, n < 0 ? errno : EIO, "seccomp: reading the compiled filter");
  *out = steal_pointer(&bpf);
  *out_len = len / sizeof(struct sock_filter);
  return 0;
}

static int seccomp_prepare(struct ace_security *sec, const struct appc_isolator *iso, size_t i,
                           const char *app_name, const struct ace_notes *notes, appc_error_t *err)
{
  struct seccomp_plan p;
  __attribute__((cleanup(filter_releasep))) scmp_filter_ctx ctx = NULL;
  int r;

  if (appc_lazy_bind(APPC_LAZY_SECCOMP, err) < 0)
    return appc_error_prefix(err, "app.isolators[%zu]", i);
  if (seccomp_plan(iso, i, &p, err) < 0)
    return -1;
  if (seccomp_is_noop(iso, &p)) {
    ace_note(notes, ACE_NOTE_INFO, "app %s: isolator %s: %s filters nothing: no filter", app_name,
             appc_isolator_kind_name(iso->kind), iso->value_json != NULL ? iso->value_json : "");
    return 0;
  }
  sec->default_action = p.retain || p.all ? p.action : SCMP_ACT_ALLOW;
  ctx = seccomp_init(sec->default_action);
  if (ctx == NULL)
    return appc_error_make(err, ENOMEM, "app.isolators[%zu]: seccomp_init", i);
  /* no_new_privs is the no-new-privileges isolator's business: the filter
   * is loaded while the child still holds CAP_SYS_ADMIN. */
  if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0 || (r = add_compat_arches(ctx)) < 0 ||
      (r = seccomp_rules(sec, ctx, iso, &p, app_name, notes)) < 0)
    return appc_error_make(err, -r, "app.isolators[%zu]: cannot build the seccomp filter", i);
  if (export_bpf(ctx, &sec->bpf, &sec->bpf_len, err) < 0)
    return appc_error_prefix(err, "app.isolators[%zu]", i);
  note_enforced(notes, app_name, iso);
  return 0;
}

/* ---- the default filter ---------------------------------------------------- */

/* An app without a seccomp isolator gets a filter as docker's and rkt's apps
 * do: a block list of calls that reach what a pod does not own (the
 * kernel's keyrings, modules and clocks, mounts, other namespaces, other
 * processes' memory), answered EPERM as docker answers them.  A call the
 * kernel lets through with a capability stays open to an app that keeps
 * that capability (--caps-allow), as docker's profile leaves mount(2) to a
 * container given CAP_SYS_ADMIN.  A block list rather than rkt's allow list
 * of 2016, which kills an app using a call added since (statx, openat2). */
#define CAP(c) (UINT64_C(1) << (c))
#define ALWAYS 0
static const struct default_block {
  const char *name;
  uint64_t lift; /* the capabilities that lift the block (any of them), or ALWAYS */
} default_blocks[] = {
    /* the kernel's keyrings are not namespaced */
    {"add_key", ALWAYS},
    {"keyctl", ALWAYS},
    {"request_key", ALWAYS},
    /* io_uring's operations pass by seccomp (docker blocks it since 25.0) */
    {"io_uring_setup", ALWAYS},
    {"io_uring_enter", ALWAYS},
    {"io_uring_register", ALWAYS},
    /* obsolete */
    {"nfsservctl", ALWAYS},
    {"sysfs", ALWAYS},
    {"_sysctl", ALWAYS},
    {"uselib", ALWAYS},
    {"ustat", ALWAYS},
    {"vm86", ALWAYS},
    {"vm86old", ALWAYS},
    /* mounts and namespaces */
    {"mount", CAP(CAP_SYS_ADMIN)},
    {"umount", CAP(CAP_SYS_ADMIN)},
    {"umount2", CAP(CAP_SYS_ADMIN)},
    {"pivot_root", CAP(CAP_SYS_ADMIN)},
    {"fsopen", CAP(CAP_SYS_ADMIN)},
    {"fsconfig", CAP(CAP_SYS_ADMIN)},
    {"fsmount", CAP(CAP_SYS_ADMIN)},
    {"fspick", CAP(CAP_SYS_ADMIN)},
    {"move_mount", CAP(CAP_SYS_ADMIN)},
    {"open_tree", CAP(CAP_SYS_ADMIN)},
    {"mount_setattr", CAP(CAP_SYS_ADMIN)},
    {"setns", CAP(CAP_SYS_ADMIN)},
    {"unshare", CAP(CAP_SYS_ADMIN)},
    {"swapon", CAP(CAP_SYS_ADMIN)},
    {"swapoff", CAP(CAP_SYS_ADMIN)},
    {"quotactl", CAP(CAP_SYS_ADMIN)},
    {"quotactl_fd", CAP(CAP_SYS_ADMIN)},
    {"lookup_dcookie", CAP(CAP_SYS_ADMIN)},
    {"fanotify_init", CAP(CAP_SYS_ADMIN)},
    {"bpf", CAP(CAP_SYS_ADMIN) | CAP(CAP_BPF)},
    {"perf_event_open", CAP(CAP_SYS_ADMIN) | CAP(CAP_PERFMON)},
    /* a file handle opens files outside the pod's root (the "shocker"
     * escape); making one (name_to_handle_at) is harmless, as docker has it */
    {"open_by_handle_at", CAP(CAP_DAC_READ_SEARCH)},
    /* the host's clocks (clock_adjtime stays open: it also reads the NTP
     * state, as adjtimex does, and the kernel wants CAP_SYS_TIME to set) */
    {"clock_settime", CAP(CAP_SYS_TIME)},
    {"clock_settime64", CAP(CAP_SYS_TIME)},
    {"settimeofday", CAP(CAP_SYS_TIME)},
    {"stime", CAP(CAP_SYS_TIME)},
    /* kernel modules */
    {"create_module", CAP(CAP_SYS_MODULE)},
    {"delete_module", CAP(CAP_SYS_MODULE)},
    {"finit_module", CAP(CAP_SYS_MODULE)},
    {"init_module", CAP(CAP_SYS_MODULE)},
    {"get_kernel_syms", CAP(CAP_SYS_MODULE)},
    {"query_module", CAP(CAP_SYS_MODULE)},
    /* the host's memory placement */
    {"get_mempolicy", CAP(CAP_SYS_NICE)},
    {"set_mempolicy", CAP(CAP_SYS_NICE)},
    {"mbind", CAP(CAP_SYS_NICE)},
    {"move_pages", CAP(CAP_SYS_NICE)},
    {"set_mempolicy_home_node", CAP(CAP_SYS_NICE)},
    /* other processes' memory and files */
    {"kcmp", CAP(CAP_SYS_PTRACE)},
    {"pidfd_getfd", CAP(CAP_SYS_PTRACE)},
    {"process_madvise", CAP(CAP_SYS_PTRACE)},
    {"userfaultfd", CAP(CAP_SYS_PTRACE)},
    /* the host's hardware, kernel log, accounting and boot */
    {"ioperm", CAP(CAP_SYS_RAWIO)},
    {"iopl", CAP(CAP_SYS_RAWIO)},
    {"syslog", CAP(CAP_SYSLOG)},
    {"acct", CAP(CAP_SYS_PACCT)},
    {"vhangup", CAP(CAP_SYS_TTY_CONFIG)},
    {"kexec_file_load", CAP(CAP_SYS_BOOT)},
    {"kexec_load", CAP(CAP_SYS_BOOT)},
    {"reboot", CAP(CAP_SYS_BOOT)},
};

/* clone3 passes its flags in memory, out of the filter's sight: ENOSYS makes
 * the C library fall back to clone, whose flags the filter sees (as docker
 * does).  clone with CLONE_NEWUSER (the one namespace an app may make
 * without a capability, and in which it gets them all) is refused; the
 * flags are clone's first argument on the x86 and arm ABIs.  Sockets of
 * two families are refused too, as docker refuses them: AF_VSOCK reaches
 * the hypervisor of a virtual machine (and its other guests), AF_ALG the
 * kernel's crypto code.  (i386 programs that make sockets through
 * socketcall pass its arguments in memory; docker blocks socketcall, which
 * breaks every such program's sockets: not done.) */
#define DEFAULT_ERRNO EPERM
/* The calls blocked for some values of an argument, and the capabilities
 * that lift each block: one comparison each, the blocks of one call on one
 * argument, all EQ or one MASKED_EQ of a single bit, so that what they
 * leave open can be told to a runtime (describe_arg_blocks): a runtime
 * bundle's filter has them too. */
static const struct default_arg_block {
  const char *name;
  uint64_t lift;
  struct scmp_arg_cmp cmp;
} default_arg_blocks[] = {
    {"clone",
     CAP(CAP_SYS_ADMIN),
     {.arg = 0, .op = SCMP_CMP_MASKED_EQ, .datum_a = CLONE_NEWUSER, .datum_b = CLONE_NEWUSER}},
    {"socket", ALWAYS, {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = 40 /* AF_VSOCK */}},
    {"socket", ALWAYS, {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = 38 /* AF_ALG */}},
};

/* The capabilities among SEC's that lift a block. */
static uint64_t default_lifted(const struct ace_security *sec)
{
  uint64_t mask = 0;
  for (size_t i = 0; i < ARRAY_SIZE(default_blocks); i++)
    mask |= default_blocks[i].lift;
  for (size_t i = 0; i < ARRAY_SIZE(default_arg_blocks); i++)
    mask |= default_arg_blocks[i].lift;
  return sec->caps & mask;
}

static bool default_blocked(const struct default_block *b, uint64_t lifted)
{
  return (lifted & b->lift) == 0;
}

static bool arg_blocked(const struct default_arg_block *b, uint64_t lifted)
{
  return (lifted & b->lift) == 0;
}

struct default_rule {
  const char *name;
  uint32_t action;
};
#define N_DEFAULT_RULES (ARRAY_SIZE(default_blocks) + 1)

/* The default filter's rules when LIFTED is kept, into OUT: their number.
 * The rules that test an argument (default_arg_blocks) are not among
 * them. */
static size_t default_rules(uint64_t lifted, struct default_rule out[N_DEFAULT_RULES])
{
  size_t n = 0;

  for (size_t i = 0; i < ARRAY_SIZE(default_blocks); i++)
    if (default_blocked(&default_blocks[i], lifted))
      out[n++] = (struct default_rule){default_blocks[i].name, SCMP_ACT_ERRNO(DEFAULT_ERRNO)};
  if ((lifted & CAP(CAP_SYS_ADMIN)) == 0)
    out[n++] = (struct default_rule){"clone3", SCMP_ACT_ERRNO(ENOSYS)};
  return n;
}

/* Add a rule for NAME, which libseccomp may not know (a call newer than
 * it), or know on the compat ABIs only (vm86). */
static int default_rule_add(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n_args,
                            const struct scmp_arg_cmp *args)
{
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR)
    return 0;
  int r = seccomp_rule_add_array(ctx, action, nr, n_args, args);
  return r == -EEXIST ? 0 : r;
}

static int default_compile(struct ace_security *sec, appc_error_t *err)
{
  __attribute__((cleanup(filter_releasep))) scmp_filter_ctx ctx = NULL;
  struct default_rule rules[N_DEFAULT_RULES];
  size_t n = default_rules(sec->default_lifted, rules);
  int r = 0;

  if (appc_lazy_bind(APPC_LAZY_SECCOMP, err) < 0)
    return appc_error_prefix(err, "the default seccomp filter");
  if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
    return appc_error_make(err, ENOMEM, "the default seccomp filter: seccomp_init");
  if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0 || (r = add_compat_arches(ctx)) < 0)
    return appc_error_make(err, -r, "the default seccomp filter");
  for (size_t i = 0; i < n && r == 0; i++)
    r = default_rule_add(ctx, rules[i].action, rules[i].name, 0, NULL);
  for (size_t i = 0; i < ARRAY_SIZE(default_arg_blocks) && r == 0; i++)
    if (arg_blocked(&default_arg_blocks[i], sec->default_lifted))
      r = default_rule_add(ctx, SCMP_ACT_ERRNO(DEFAULT_ERRNO), default_arg_blocks[i].name, 1,
                           &default_arg_blocks[i].cmp);
  if (r < 0)
    return appc_error_make(err, -r, "the default seccomp filter: cannot build it");
  return export_bpf(ctx, &sec->default_bpf, &sec->default_bpf_len, err);
}

/* Compiling the filter takes libseccomp about 0.7 ms, an eighth of a pod's
 * start: the program is kept in the runtime directory (a tmpfs, root's
 * only), named by a hash of what it is made of, and read back by the next
 * pods.  Failing to keep it costs only time.  FILTER_REVISION changes with
 * what the tables above do not say: the way the program is compiled
 * (add_compat_arches).  The program is followed by a hash of it, so that
 * a file damaged in part is compiled again rather than refused by the
 * kernel at every pod's start. */
#define FILTER_CACHE ACE_RUNTIME_ROOT "/seccomp"
#define FILTER_REVISION 4

static uint64_t default_cache_key(uint64_t lifted)
{
  const int revision = FILTER_REVISION;
  uint64_t h = appc_hash_stable(APPC_HASH_STABLE_START, &revision, sizeof revision);
  h = appc_hash_stable(h, &lifted, sizeof lifted);
  for (size_t i = 0; i < ARRAY_SIZE(default_blocks); i++) {
    h = appc_hash_stable(h, default_blocks[i].name, strlen(default_blocks[i].name) + 1);
    h = appc_hash_stable(h, &default_blocks[i].lift, sizeof default_blocks[i].lift);
  }
  for (size_t i = 0; i < ARRAY_SIZE(default_arg_blocks); i++) {
    const struct default_arg_block *b = &default_arg_blocks[i];
    uint64_t cmp[4] = {b->cmp.arg, b->cmp.op, b->cmp.datum_a, b->cmp.datum_b};
    h = appc_hash_stable(h, b->name, strlen(b->name) + 1);
    h = appc_hash_stable(h, &b->lift, sizeof b->lift);
    h = appc_hash_stable(h, cmp, sizeof cmp);
  }
  return h;
}

/* The hash that follows LEN instructions at BPF in the file of KEY. */
static uint64_t default_cache_check(uint64_t key, const struct sock_filter *bpf, size_t len)
{
  return appc_hash_stable(key, bpf, len * sizeof *bpf);
}

static bool default_cache_read(struct ace_security *sec, uint64_t key, const char *name)
{
  cleanup_close int dir = open(FILTER_CACHE, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  cleanup_close int fd = dir < 0 ? -1 : openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  uint64_t check;

  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
      (st.st_mode & 022) != 0 || st.st_size <= (off_t) sizeof check ||
      (st.st_size - sizeof check) % sizeof(struct sock_filter) != 0 ||
      (st.st_size - sizeof check) / sizeof(struct sock_filter) > BPF_MAXINSNS)
    return false;
  size_t len = ((size_t) st.st_size - sizeof check) / sizeof(struct sock_filter);
  cleanup_free struct sock_filter *bpf = malloc(len * sizeof *bpf);
  if (bpf == NULL || read(fd, bpf, len * sizeof *bpf) != (ssize_t) (len * sizeof *bpf) ||
      read(fd, &check, sizeof check) != (ssize_t) sizeof check ||
      check != default_cache_check(key, bpf, len))
    return false;
  sec->default_bpf = steal_pointer(&bpf);
  sec->default_bpf_len = len;
  return true;
}

static void default_cache_write(const struct ace_security *sec, uint64_t key, const char *name)
{
  appc_error_t ignored = NULL;
  size_t size = sec->default_bpf_len * sizeof *sec->default_bpf;
  uint64_t check = default_cache_check(key, sec->default_bpf, sec->default_bpf_len);

  if (access(ACE_RUNTIME_ROOT, F_OK) < 0 || (mkdir(FILTER_CACHE, 0700) < 0 && errno != EEXIST))
    return;
  cleanup_free unsigned char *data = malloc(size + sizeof check);
  cleanup_close int dir = open(FILTER_CACHE, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (data == NULL || dir < 0)
    return;
  memcpy(data, sec->default_bpf, size);
  memcpy(data + size, &check, sizeof check);
  if (appc_atomic_write_at(dir, name, data, size + sizeof check, 0600, 0, &ignored) < 0)
    appc_error_release(&ignored);
}

static int default_filter(struct ace_security *sec, const char *app_name,
                          const struct ace_notes *notes, appc_error_t *err)
{
  struct default_rule rules[N_DEFAULT_RULES];
  char name[64];

  sec->default_lifted = default_lifted(sec);
  uint64_t key = default_cache_key(sec->default_lifted);
  snprintf(name, sizeof name, "default-%d-%016llx.bpf", DEFAULT_ERRNO, (unsigned long long) key);
  if (!default_cache_read(sec, key, name)) {
    if (default_compile(sec, err) < 0)
      return appc_error_prefix(err, "app %s", app_name);
    default_cache_write(sec, key, name);
  }
  bool admin = (sec->default_lifted & CAP(CAP_SYS_ADMIN)) != 0;
  ace_note(notes, ACE_NOTE_INFO,
           "app %s: the default seccomp filter (%zu calls answered EPERM%s)%s", app_name,
           default_rules(sec->default_lifted, rules) - !admin, admin ? "" : ", clone3 ENOSYS",
           sec->bpf != NULL ? ", beneath the isolator's" : "");
  return 0;
}

/* ---- prepare ---------------------------------------------------------------- */

/* SELinux contexts are not implemented; say why the isolator does nothing. */
static void note_selinux(const char *app_name, const struct ace_notes *notes)
{
  bool enabled = access("/sys/fs/selinux/enforce", F_OK) == 0;
  ace_note(notes, ACE_NOTE_WARN, "app %s: isolator os/linux/selinux-context ignored: %s", app_name,
           enabled ? "actool does not set SELinux contexts"
                   : "SELinux is not enabled on this host");
}

struct prepare_state {
  bool caps_seen, seccomp_seen;
};

static int prepare_one(struct ace_security *sec, const struct appc_isolator *iso, size_t i,
                       const char *app_name, unsigned flags, const struct ace_notes *notes,
                       struct prepare_state *st, appc_error_t *err)
{
  uint64_t mask = 0;

  switch (iso->kind) {
  case APPC_ISOLATOR_CAPABILITIES_RETAIN:
  case APPC_ISOLATOR_CAPABILITIES_REMOVE:
    if (st->caps_seen)
      return appc_error_make(err, 0,
                             "app.isolators[%zu]: only one capabilities isolator is allowed", i);
    st->caps_seen = true;
    if (cap_set_mask(iso, i, &mask, err) < 0)
      return -1;
    /* Names outside the default set have no effect on a remove set. */
    sec->caps = iso->kind == APPC_ISOLATOR_CAPABILITIES_RETAIN ? mask : default_mask() & ~mask;
    note_enforced(notes, app_name, iso);
    return 0;
  case APPC_ISOLATOR_NO_NEW_PRIVILEGES:
    sec->no_new_privs = iso->flag;
    note_enforced(notes, app_name, iso);
    return 0;
  case APPC_ISOLATOR_SECCOMP_RETAIN:
  case APPC_ISOLATOR_SECCOMP_REMOVE:
    if (st->seccomp_seen)
      return appc_error_make(err, 0, "app.isolators[%zu]: only one seccomp isolator is allowed", i);
    st->seccomp_seen = true;
    if (flags & ACE_SECURITY_NO_SECCOMP) {
      ace_note(notes, ACE_NOTE_WARN, "app %s: isolator %s ignored: --insecure-options=seccomp",
               app_name, appc_isolator_kind_name(iso->kind));
      return 0;
    }
    return seccomp_prepare(sec, iso, i, app_name, notes, err);
  case APPC_ISOLATOR_SELINUX_CONTEXT:
    note_selinux(app_name, notes);
    return 0;
  case APPC_ISOLATOR_OOM_SCORE_ADJ:
    sec->oom_set = true;
    sec->oom_score_adj = (int) iso->number; /* -1000..1000, checked by the schema */
    note_enforced(notes, app_name, iso);
    return 0;
  default:
    return 0; /* resources, sysctl, ...: other modules' */
  }
}

int ace_security_prepare(const struct appc_app *app, const char *app_name, unsigned flags,
                         const struct ace_notes *notes, struct ace_security **out,
                         appc_error_t *err)
{
  struct ace_security *sec = calloc(1, sizeof *sec);
  struct prepare_state st = {false, false};

  if (sec == NULL)
    return appc_error_make(err, errno, "out of memory");
  sec->caps = default_mask();
  for (size_t i = 0; app != NULL && i < app->isolators.len; i++) {
    if (prepare_one(sec, &app->isolators.items[i], i, app_name, flags, notes, &st, err) < 0) {
      ace_security_free(sec);
      return -1;
    }
  }
  if (!st.caps_seen)
    ace_note(notes, ACE_NOTE_INFO, "app %s: no capabilities isolator: the default set of %zu",
             app_name, N_DEFAULT_CAPS);
  sec->caps = host_caps(sec->caps, app_name, notes);
  if (flags & ACE_SECURITY_NO_SECCOMP)
    ace_note(notes, ACE_NOTE_INFO, "app %s: no seccomp filter: --insecure-options=seccomp",
             app_name);
  else if (default_filter(sec, app_name, notes, err) < 0) {
    ace_security_free(sec);
    return -1;
  }
  *out = sec;
  return 0;
}

int ace_caps_parse(const char *const *names, size_t n, uint64_t *mask, appc_error_t *err)
{
  *mask = 0;
  for (size_t i = 0; i < n; i++)
    for (const char *p = names[i]; *p != '\0'; p += *p == ',') {
      size_t len = strcspn(p, ",");
      char word[64];
      if (len == 0)
        continue; /* "A,,B" or a trailing comma */
      snprintf(word, sizeof word, "%.*s", (int) len, p);
      p += len;
      if (strcmp(word, "all") == 0) {
        *mask = ~UINT64_C(0);
        continue;
      }
      if (appc_lazy_bind(APPC_LAZY_CAP, err) < 0)
        return -1;
      int v = len < sizeof word ? cap_number(word) : -1;
      if (v < 0)
        return appc_error_tag(err, EINVAL,
                              "allowed capability \"%s\": not a Linux capability "
                              "(CAP_NET_ADMIN, say, or all)",
                              word);
      *mask |= UINT64_C(1) << v;
    }
  return 0;
}

bool ace_security_may_trace(const struct ace_security *sec)
{
  return (sec->caps & (UINT64_C(1) << CAP_SYS_PTRACE)) != 0;
}

int ace_security_check_caps(const struct ace_security *sec, uint64_t allowed, const char *app_name,
                            appc_error_t *err)
{
  uint64_t extra = sec->caps & ~default_mask() & ~allowed;

  /* Lowering oom_score_adj takes CAP_SYS_RESOURCE, which the executor has
   * and the app need not: -1000 makes an app the host's OOM killer spares,
   * the operator's decision as docker's --oom-score-adj is. */
  if (sec->oom_set && sec->oom_score_adj < 0 && !(allowed & (UINT64_C(1) << CAP_SYS_RESOURCE)))
    return appc_error_make(
        err, 0,
        "app %s: its isolator os/linux/oom-score-adj lowers oom_score_adj to %d, "
        "which takes CAP_SYS_RESOURCE: allow it with "
        "--caps-allow=CAP_SYS_RESOURCE if the image is to be trusted with it",
        app_name, sec->oom_score_adj);

  if (extra == 0)
    return 0;
  int v = __builtin_ctzll(extra);
  char *name = cap_to_name((cap_value_t) v); /* libcap's, lower case: cap_free */
  char upper[64] = "CAP_?";
  for (size_t i = 0; name != NULL && name[i] != '\0' && i + 1 < sizeof upper; i++)
    upper[i] = (char) toupper((unsigned char) name[i]), upper[i + 1] = '\0';
  cap_free(name);
  return appc_error_make(err, 0,
                         "app %s: its isolators retain %s, beyond the ACE's default "
                         "capabilities: allow it with --caps-allow=%s if the image is to be "
                         "trusted with it",
                         app_name, upper, upper);
}

void ace_security_free(struct ace_security *sec)
{
  if (sec == NULL)
    return;
  for (size_t i = 0; i < sec->n_rules; i++)
    free(sec->rules[i].name);
  free(sec->rules);
  free(sec->bpf);
  free(sec->default_bpf);
  free(sec);
}

/* ---- enter (child) -------------------------------------------------------- */

/* Drop every capability outside the set from the bounding set (needs
 * CAP_SETPCAP, so first).  Dropping one already dropped does no harm, so
 * the set is not read first; the kernel's EINVAL marks the first
 * capability past those it knows, which need not be dropped. */
static int drop_bounding(uint64_t keep, appc_error_t *err)
{
  for (int v = 0;; v++) {
    if (v < 64 && (keep & (UINT64_C(1) << v)) != 0)
      continue;
    if (prctl(PR_CAPBSET_DROP, (unsigned long) v, 0L, 0L, 0L) < 0)
      return errno == EINVAL
                 ? 0
                 : appc_error_make(err, errno, "cannot drop capability %d from the bounding set",
                                   v);
  }
}

/* Set permitted and effective to MASK, and inheritable to none, with the raw
 * system call: libcap's cap_t lives on the heap (see the file comment).  An
 * inheritable set would let an app that dropped root to a user regain its
 * capabilities through a program with inheritable file capabilities (runc
 * and moby empty it too since CVE-2022-24769). */
static int set_caps(uint64_t mask)
{
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

  memset(data, 0, sizeof data);
  for (size_t k = 0; k < _LINUX_CAPABILITY_U32S_3; k++) {
    uint32_t part = (uint32_t) (mask >> (32 * k));
    data[k].effective = part;
    data[k].permitted = part;
  }
  return (int) syscall(SYS_capset, &hdr, data);
}

int ace_security_keep_only(uint64_t caps, appc_error_t *err)
{
  if (drop_bounding(caps, err) < 0)
    return -1;
  if ((prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L) < 0 && errno != EINVAL) ||
      set_caps(caps) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0)
    return appc_error_make(err, errno, "cannot drop capabilities");
  return 0;
}

int ace_security_drop_all(appc_error_t *err)
{
  return ace_security_keep_only(0, err);
}

static int load_filter(struct sock_filter *bpf, size_t len, appc_error_t *err)
{
  struct sock_fprog prog = {(unsigned short) len, bpf};

  if (bpf == NULL)
    return 0;
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
    return appc_error_make(err, errno, "cannot load the seccomp filter");
  return 0;
}

int ace_security_enter(const struct ace_security *sec, const struct ace_identity *id,
                       appc_error_t *err)
{
  if (id->n_groups > (size_t) sysconf(_SC_NGROUPS_MAX))
    return appc_error_make(err, 0, "%zu supplementary groups: more than this host allows",
                           id->n_groups);
  if (drop_bounding(sec->caps, err) < 0)
    return -1;
  /* Ambient capabilities would survive the execve of a non-root app. */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L) < 0 && errno != EINVAL)
    return appc_error_make(err, errno, "cannot clear the ambient capabilities");
  if (sec->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0)
    return appc_error_make(err, errno, "cannot set no_new_privs");
  /* The default filter first: of two answers of the same kind (two
   * errnos) the kernel takes the later filter's, the isolator's. */
  if (load_filter(sec->default_bpf, sec->default_bpf_len, err) < 0 ||
      load_filter(sec->bpf, sec->bpf_len, err) < 0)
    return -1;
  /* From here on only the lifecycle system calls above. */
  if (setgroups(id->n_groups, id->groups) < 0)
    return appc_error_make(err, errno, "setgroups");
  if (setresgid(id->gid, id->gid, id->gid) < 0)
    return appc_error_make(err, errno, "setgid %u", (unsigned) id->gid);
  if (setresuid(id->uid, id->uid, id->uid) < 0)
    return appc_error_make(err, errno, "setuid %u", (unsigned) id->uid);
  /* setuid to a non-root uid has emptied the sets (no SECBIT_KEEP_CAPS):
   * make that explicit. */
  if (set_caps(id->uid == 0 ? sec->caps : 0) < 0)
    return appc_error_make(err, errno, "cannot set the app's capabilities");
  return 0;
}

bool ace_security_allows(const struct ace_security *sec, const char *name)
{
  if (sec == NULL || sec->bpf == NULL)
    return true;
  for (size_t i = 0; i < sec->n_rules; i++) {
    if (strcmp(sec->rules[i].name, name) == 0)
      return sec->rules[i].action == SCMP_ACT_ALLOW;
  }
  return sec->default_action == SCMP_ACT_ALLOW;
}

int ace_security_oom_adjust(const struct ace_security *sec, appc_error_t *err)
{
  char text[16];
  cleanup_close int fd = -1;

  if (sec == NULL || !sec->oom_set)
    return 0;
  snprintf(text, sizeof text, "%d\n", sec->oom_score_adj);
  fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text))
    return appc_error_make(err, errno, "os/linux/oom-score-adj: /proc/self/oom_score_adj");
  return 0;
}

/* ---- os/unix/sysctl ----------------------------------------------------- */

/* Only net.* is namespaced (to the pod's network namespace); the key becomes
 * a path under /proc/sys, so it must not be able to leave net/. */
static bool sysctl_key_ok(const char *key)
{
  if (strncmp(key, "net.", 4) != 0 || key[4] == '\0' || strstr(key, "..") != NULL ||
      key[strlen(key) - 1] == '.')
    return false;
  for (const char *p = key; *p != '\0'; p++) {
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("_.-", *p) != NULL))
      return false;
  }
  return true;
}

static const char *const pod_only_ok[] = {"resource/", "os/unix/sysctl"};

static bool pod_scope_ok(const struct appc_isolator *iso)
{
  if (iso->name == NULL)
    return false;
  for (size_t k = 0; k < ARRAY_SIZE(pod_only_ok); k++) {
    if (strncmp(iso->name, pod_only_ok[k], strlen(pod_only_ok[k])) == 0)
      return true;
  }
  return false;
}

int ace_sysctl_check(const struct appc_isolator_list *pod_isolators, const struct ace_notes *notes,
                     appc_error_t *err)
{
  for (size_t i = 0; i < pod_isolators->len; i++) {
    const struct appc_isolator *iso = &pod_isolators->items[i];
    if (!pod_scope_ok(iso)) {
      ace_note(notes, ACE_NOTE_WARN, "pod isolator %s ignored: %s",
               iso->name != NULL ? iso->name : "(unnamed)",
               iso->kind == APPC_ISOLATOR_UNKNOWN ? "not supported by actool"
                                                  : "it applies to apps only");
      continue;
    }
    if (iso->kind != APPC_ISOLATOR_UNIX_SYSCTL)
      continue;
    for (size_t k = 0; k < iso->sysctl.len; k++) {
      const char *key = iso->sysctl.items[k].name;
      if (!sysctl_key_ok(key))
        return appc_error_make(err, 0,
                               "isolators[%zu].value: sysctl \"%s\" is not allowed: only net.* "
                               "keys ([a-z0-9_.-]) are namespaced to the pod",
                               i, key);
    }
    ace_note(notes, ACE_NOTE_INFO, "pod isolator os/unix/sysctl enforced: %s",
             iso->value_json != NULL ? iso->value_json : "");
  }
  return 0;
}

static int sysctl_write(const char *key, const char *value, appc_error_t *err)
{
  char path[PATH_MAX];
  size_t len = strlen(value);

  if (snprintf(path, sizeof path, "/proc/sys/%s", key) >= (int) sizeof path)
    return appc_error_make(err, 0, "sysctl \"%s\": key too long", key);
  for (char *p = path + strlen("/proc/sys/"); *p != '\0'; p++) {
    if (*p == '.')
      *p = '/';
  }
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return appc_error_make(err, errno, "sysctl \"%s\": cannot open %s", key, path);
  ssize_t n = write(fd, value, len);
  if (n < 0 || (size_t) n != len)
    return appc_error_make(err, n < 0 ? errno : EIO, "sysctl \"%s\": cannot write \"%s\" to %s",
                           key, value, path);
  return 0;
}

int ace_sysctl_apply(const struct appc_isolator_list *pod_isolators, appc_error_t *err)
{
  for (size_t i = 0; i < pod_isolators->len; i++) {
    const struct appc_isolator *iso = &pod_isolators->items[i];
    if (iso->kind != APPC_ISOLATOR_UNIX_SYSCTL)
      continue;
    for (size_t k = 0; k < iso->sysctl.len; k++) {
      const struct appc_kv *kv = &iso->sysctl.items[k];
      /* Checked again: apply must be safe even if check was skipped. */
      if (!sysctl_key_ok(kv->name))
        return appc_error_make(err, 0, "isolators[%zu].value: sysctl \"%s\" is not allowed", i,
                               kv->name);
      if (sysctl_write(kv->name, kv->value, err) < 0)
        return appc_error_prefix(err, "isolators[%zu].value", i);
    }
  }
  return 0;
}

/* ---- describing (runtime bundles) ----------------------------------------- */

static void describe_action(uint32_t action, bool *allow, int *errnum)
{
  *allow = action == SCMP_ACT_ALLOW;
  *errnum = (action & 0xffff0000u) == SCMP_ACT_ERRNO(0) ? (int) (action & 0xffffu) : 0;
}

/* A rule for NAME doing ACTION appended to PLAN's, with room for N_ARGS
 * conditions: NULL when out of memory. */
static struct appc_ace_syscall_rule *describe_rule(struct appc_ace_app_plan *plan, const char *name,
                                                   uint32_t action, size_t n_args)
{
  struct appc_ace_syscall_rule *rules =
      realloc(plan->syscall_rules, (plan->n_syscall_rules + 1) * sizeof *rules);

  if (rules == NULL)
    return NULL;
  plan->syscall_rules = rules;
  struct appc_ace_syscall_rule *r = &rules[plan->n_syscall_rules];
  memset(r, 0, sizeof *r);
  if ((r->name = strdup(name)) == NULL ||
      (n_args > 0 && (r->args = calloc(n_args + 1, sizeof *r->args)) == NULL)) {
    free(r->name);
    return NULL;
  }
  describe_action(action, &r->allow, &r->errnum);
  plan->n_syscall_rules++;
  return r;
}

/* A rule for NAME doing ACTION when argument ARG compares OP with A (and
 * B). */
static int describe_arg_rule(struct appc_ace_app_plan *plan, const char *name, uint32_t action,
                             unsigned arg, enum scmp_compare op, uint64_t a, uint64_t b,
                             appc_error_t *err)
{
  struct appc_ace_syscall_rule *r = describe_rule(plan, name, action, 1);

  if (r == NULL)
    return appc_error_make(err, ENOMEM, "seccomp");
  /* libseccomp's numbers are the header's (enum appc_ace_syscall_op) */
  r->args[0] = (struct appc_ace_syscall_arg){
      .index = arg, .op = (enum appc_ace_syscall_op) op, .value = a, .value_two = b};
  return 0;
}

static int u64_order(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
  return (x > y) - (x < y);
}

/* Allow NAME whenever argument ARG is none of VALUES (N of them, sorted,
 * distinct): below the first, above the last, and each gap between two as
 * aligned blocks of 2^k values (MASKED_EQ), one comparison per rule as
 * libseccomp wants them. */
static int describe_open_values(struct appc_ace_app_plan *plan, const char *name, unsigned arg,
                                const uint64_t *values, size_t n, appc_error_t *err)
{
  if (values[0] > 0 &&
      describe_arg_rule(plan, name, SCMP_ACT_ALLOW, arg, SCMP_CMP_LT, values[0], 0, err) < 0)
    return -1;
  for (size_t k = 0; k + 1 < n; k++) {
    for (uint64_t lo = values[k] + 1, hi = values[k + 1] - 1; lo <= hi && lo > values[k];) {
      unsigned bits = 0;
      while (bits < 63 && (lo & ((UINT64_C(2) << bits) - 1)) == 0 &&
             lo + ((UINT64_C(2) << bits) - 1) <= hi)
        bits++;
      uint64_t size = UINT64_C(1) << bits;
      int r = size == 1
                  ? describe_arg_rule(plan, name, SCMP_ACT_ALLOW, arg, SCMP_CMP_EQ, lo, 0, err)
                  : describe_arg_rule(plan, name, SCMP_ACT_ALLOW, arg, SCMP_CMP_MASKED_EQ,
                                      ~(size - 1), lo, err);
      if (r < 0)
        return -1;
      if (lo + (size - 1) >= hi)
        break;
      lo += size;
    }
  }
  if (values[n - 1] < UINT64_MAX &&
      describe_arg_rule(plan, name, SCMP_ACT_ALLOW, arg, SCMP_CMP_GT, values[n - 1], 0, err) < 0)
    return -1;
  return 0;
}

/* The default filter's argument blocks of NAME that LIFTED leaves, as
 * rules: each a block, and, when OPEN, rules that allow every other call
 * of NAME (a retain set that allows NAME: its default would block
 * them). */
static int describe_arg_blocks(struct appc_ace_app_plan *plan, const char *name, uint64_t lifted,
                               bool open, appc_error_t *err)
{
  uint64_t values[ARRAY_SIZE(default_arg_blocks)];
  const struct default_arg_block *masked = NULL;
  size_t n = 0, n_masked = 0;
  unsigned arg = 0;

  for (size_t i = 0; i < ARRAY_SIZE(default_arg_blocks); i++) {
    const struct default_arg_block *b = &default_arg_blocks[i];
    if (strcmp(b->name, name) != 0 || !arg_blocked(b, lifted))
      continue;
    if (describe_arg_rule(plan, name, SCMP_ACT_ERRNO(DEFAULT_ERRNO), b->cmp.arg, b->cmp.op,
                          b->cmp.datum_a, b->cmp.datum_b, err) < 0)
      return -1;
    arg = b->cmp.arg;
    if (b->cmp.op == SCMP_CMP_EQ)
      values[n++] = b->cmp.datum_a;
    else
      masked = b, n_masked++;
  }
  if (!open || n + n_masked == 0)
    return 0;
  if (masked != NULL && n == 0 && n_masked == 1 && __builtin_popcountll(masked->cmp.datum_a) == 1)
    return describe_arg_rule(plan, name, SCMP_ACT_ALLOW, arg, SCMP_CMP_MASKED_EQ,
                             masked->cmp.datum_a, masked->cmp.datum_b ^ masked->cmp.datum_a, err);
  if (n_masked > 0) /* default_arg_blocks says what it may hold */
    return appc_error_make(err, EINVAL, "seccomp: %s: the default filter's blocks cannot be told",
                           name);
  qsort(values, n, sizeof values[0], u64_order);
  return describe_open_values(plan, name, arg, values, n, err);
}

static bool has_arg_blocks(const char *name, uint64_t lifted)
{
  for (size_t i = 0; i < ARRAY_SIZE(default_arg_blocks); i++)
    if (strcmp(default_arg_blocks[i].name, name) == 0 &&
        arg_blocked(&default_arg_blocks[i], lifted))
      return true;
  return false;
}

/* The isolator's rule for NAME, or NULL. */
static const struct seccomp_rule *isolator_rule(const struct ace_security *sec, const char *name)
{
  for (size_t i = 0; i < sec->n_rules; i++)
    if (strcmp(sec->rules[i].name, name) == 0)
      return &sec->rules[i];
  return NULL;
}

/* A runtime bundle has one filter: the isolator's and the default one
 * merged, as the kernel would answer with both loaded.  A call the default
 * blocks keeps the isolator's answer when the isolator blocks it too, and
 * gets the default's where the isolator allows it, by a rule (a retain
 * set) or by its default action (a remove set).  A call the default
 * blocks for some values of an argument (clone with CLONE_NEWUSER) gets
 * those blocks, and where a retain set's rule allows it, rules that allow
 * the other values: libseccomp lets a rule without conditions take over
 * those of the call that have some. */
int ace_security_describe(const struct ace_security *sec, struct appc_ace_app_plan *plan,
                          appc_error_t *err)
{
  struct default_rule defaults[N_DEFAULT_RULES];
  bool with_default = sec->default_bpf != NULL;
  size_t n_defaults = with_default ? default_rules(sec->default_lifted, defaults) : 0;
  bool isolator_allows = sec->bpf == NULL || sec->default_action == SCMP_ACT_ALLOW;
  uint64_t lifted = sec->default_lifted;

  plan->caps = sec->caps;
  plan->no_new_privs = sec->no_new_privs;
  plan->has_oom_score_adj = sec->oom_set;
  plan->oom_score_adj = sec->oom_score_adj;
  plan->seccomp = sec->bpf != NULL || with_default;
  if (!plan->seccomp)
    return 0;
  describe_action(sec->bpf != NULL ? sec->default_action : SCMP_ACT_ALLOW,
                  &plan->seccomp_default_allow, &plan->seccomp_default_errno);
  for (size_t i = 0; i < sec->n_rules; i++) {
    const struct seccomp_rule *r = &sec->rules[i];
    uint32_t action = r->action;
    for (size_t k = 0; k < n_defaults && action == SCMP_ACT_ALLOW; k++)
      if (strcmp(defaults[k].name, r->name) == 0)
        action = defaults[k].action;
    if (action == SCMP_ACT_ALLOW && with_default && has_arg_blocks(r->name, lifted)) {
      if (describe_arg_blocks(plan, r->name, lifted, true, err) < 0)
        return -1;
    } else if (describe_rule(plan, r->name, action, 0) == NULL) {
      return appc_error_make(err, ENOMEM, "seccomp");
    }
  }
  for (size_t k = 0; k < n_defaults && isolator_allows; k++)
    if (isolator_rule(sec, defaults[k].name) == NULL &&
        describe_rule(plan, defaults[k].name, defaults[k].action, 0) == NULL)
      return appc_error_make(err, ENOMEM, "seccomp");
  for (size_t k = 0; with_default && isolator_allows && k < ARRAY_SIZE(default_arg_blocks); k++) {
    const char *name = default_arg_blocks[k].name;
    bool first = true;
    for (size_t j = 0; j < k; j++)
      first &= strcmp(default_arg_blocks[j].name, name) != 0;
    if (first && isolator_rule(sec, name) == NULL &&
        describe_arg_blocks(plan, name, lifted, false, err) < 0)
      return -1;
  }
  return 0;
}
