/* SPDX-License-Identifier: Apache-2.0 */
/* The exec shim: a tiny static program, without the C library, through
 * which the executor starts every command of a pod (ace/exec.c runs it
 * from a sealed memfd, embedded in libappc).
 *
 * Why: the process that starts an app's command is actool itself (a
 * supervisor forked from actool, or enter's helper), so until its execve
 * is done its /proc/self/exe is the host's actool binary.  A command path
 * that leads there (/proc/self/exe itself, a symlink to it, a script's
 * "#!/proc/self/exe", an ELF whose interpreter is /proc/self/exe: the
 * kernel resolves each of these in the caller) would start the host's
 * binary inside the pod with the image's own loader, which could then
 * chmod or chown that binary through /proc/self/exe (runc's CVE-2019-5736).
 * The shim's own /proc/self/exe is an anonymous sealed memfd: whatever the
 * path leads to from here, nothing of the host's is reachable that way.
 *
 *   argv: MARKER REPORT_FD PREFIX SUFFIX PATH ARGV0 ARGV1 ... (exec-shim.h)
 *
 * The shim sets FD_CLOEXEC on REPORT_FD (-1: none), executes PATH with
 * ARGV0... and the environment it was given; if that fails it writes
 * PREFIX, the reason and SUFFIX to REPORT_FD and exits with 127 (not
 * found) or 126, as a shell does.  Started any other way (a script naming
 * it as its interpreter, say), it exits with 126.
 *
 * Built with -nostdlib -static (ace/local.mk): no allocation, no library,
 * only the system calls the pod's seccomp filter always lets through
 * (ace/security.c's lifecycle list). */
#include <asm/unistd.h>

#include "exec-shim.h"

#define F_SETFD 2
#define FD_CLOEXEC 1
#define ENOENT 2

#if defined(__x86_64__)
__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call shim_main\n"
        "  hlt\n");

static long sys3(long n, long a, long b, long c)
{
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}
#elif defined(__aarch64__)
__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "  mov x0, sp\n"
        "  bl shim_main\n"
        "  brk #0\n");

static long sys3(long n, long a, long b, long c)
{
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
}
#else
#error "the exec shim knows x86_64 and aarch64 only"
#endif

static __attribute__((noreturn)) void leave(int code)
{
  for (;;)
    sys3(__NR_exit_group, code, 0, 0);
}

static unsigned long length(const char *s)
{
  unsigned long n = 0;
  while (s[n] != '\0')
    n++;
  return n;
}

static int same(const char *a, const char *b)
{
  while (*a != '\0' && *a == *b)
    a++, b++;
  return *a == *b;
}

/* PREFIX, TEXT and SUFFIX to FD in one write, as much as fits in a pipe's
 * atomic size: other processes write lines to the same pipe. */
static void say(long fd, const char *prefix, const char *text, const char *suffix)
{
  static char line[4096];
  const char *parts[] = {prefix, text, suffix};
  unsigned long n = 0;

  for (int i = 0; i < 3; i++)
    for (const char *p = parts[i]; *p != '\0' && n < sizeof line; p++)
      line[n++] = *p;
  if (n == sizeof line) /* (cut: still one line) */
    line[n - 1] = suffix[0] != '\0' ? suffix[length(suffix) - 1] : line[n - 1];
  sys3(__NR_write, fd, (long) line, (long) n);
}

/* The reasons an execve gives most, as strerror words them. */
static const struct {
  long errnum;
  const char *text;
} reasons[] = {
    {1, "Operation not permitted"},
    {2, "No such file or directory"},
    {7, "Argument list too long"},
    {8, "Exec format error"},
    {12, "Cannot allocate memory"},
    {13, "Permission denied"},
    {20, "Not a directory"},
    {21, "Is a directory"},
    {22, "Invalid argument"},
    {26, "Text file busy"},
    {36, "File name too long"},
    {40, "Too many levels of symbolic links"},
    {80, "Accessing a corrupted shared library"},
};

static const char *reason(long e)
{
  for (unsigned long i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
    if (reasons[i].errnum == e)
      return reasons[i].text;
  return "Cannot execute";
}

__attribute__((noreturn, used)) void shim_main(long *sp)
{
  long argc = sp[0];
  char **argv = (char **) (sp + 1);
  char **envp = argv + argc + 1;
  long fd = -1;

  if (argc <= ACE_EXEC_SHIM_FIXED_ARGS || !same(argv[0], ACE_EXEC_SHIM_MARKER))
    leave(126);
  if (argv[1][0] != '-') {
    fd = 0;
    for (const char *q = argv[1]; *q >= '0' && *q <= '9'; q++)
      fd = fd * 10 + (*q - '0');
  }
  if (fd >= 0)
    sys3(__NR_fcntl, fd, F_SETFD, FD_CLOEXEC);
  long r = sys3(__NR_execve, (long) argv[4], (long) (argv + ACE_EXEC_SHIM_FIXED_ARGS), (long) envp);
  if (fd >= 0)
    say(fd, argv[2], reason(-r), argv[3]);
  leave(r == -ENOENT ? 127 : 126);
}
