/* SPDX-License-Identifier: Apache-2.0 */
/* A hostile image's ELF interpreter (its /lib64/ld-linux-x86-64.so.2) for
 * run-selfexe.sh: static, without the C library.  It says what its
 * /proc/self/exe is, and tries to chmod it o+w (argv[1] "chmod") or chown
 * it to 4242:4242 ("chown"): on a host binary, runc's CVE-2019-5736. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static long sc(long n, long a, long b, long c)
{
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}

static void out(const char *s)
{
  long n = 0;
  while (s[n] != '\0')
    n++;
  sc(SYS_write, 1, (long) s, n);
}

__attribute__((used)) void interp_main(long *sp)
{
  char **argv = (char **) (sp + 1);
  char link[512];
  long n = sc(SYS_readlink, (long) "/proc/self/exe", (long) link, sizeof link - 1);
  long fd = sc(SYS_open, (long) "/proc/self/exe", O_RDONLY, 0);

  link[n > 0 ? n : 0] = '\0';
  out("exe: ");
  out(link);
  out("\n");
  if (sp[0] > 1 && argv[1][2] == 'm')
    out(sc(SYS_fchmod, fd, 0777, 0) == 0 ? "chmod done\n" : "chmod refused\n");
  if (sp[0] > 1 && argv[1][2] == 'o')
    out(sc(SYS_fchown, fd, 4242, 4242) == 0 ? "chown done\n" : "chown refused\n");
  sc(SYS_exit_group, 0, 0, 0);
}

__asm__(".globl _start\n_start:\n mov %rsp, %rdi\n and $-16, %rsp\n call interp_main\n hlt\n");
