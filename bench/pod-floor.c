// SPDX-License-Identifier: Apache-2.0
/* pod-floor: what issue 17 asks of a pod under `actool run --net=private`,
 * with none of the rest: no store, no bookkeeping, one process and its
 * child.  bench/run sets it beside `actool run` and the `unshare` +
 * `chroot` floor: what the requirements themselves cost on the machine,
 * and so how near the floor any executor meeting them can come.
 *
 *   pod-floor ROOTFS WORKDIR CMD [ARG...]
 *
 * WORKDIR is on the store's file system (the pod's writable layer lives
 * there, as actool's does).  What it does:
 *   - a directory in every cgroup hierarchy the host has but cpuset (the
 *     issue places apps in each, actool in all but cpuset), removed at
 *     the end; the child is cloned into the cgroup2 one (CLONE_INTO_CGROUP)
 *     and moves itself into the v1 ones through their `tasks` files: the
 *     two ways actool uses that spare the kernel's threadgroup lock, whose
 *     taking waits for an RCU grace period (POD_FLOOR_PROCS=1 writes
 *     every `cgroup.procs` instead, as the man pages show, to see it);
 *   - the child in new PID, mount, UTS, IPC, network and cgroup namespaces,
 *     its loopback up;
 *   - an overlay of ROOTFS with its upper and work directories in WORKDIR;
 *   - /proc, /sys (read-only), a /dev tmpfs with the ACE's device nodes
 *     bound from the host, /dev/pts, /dev/shm, and the masks the issue
 *     names (kcore, keys, timer_list, sched_debug, acpi, scsi,
 *     /sys/firmware);
 *   - pivot_root, a hostname, and CMD executed as the child (PID 1);
 *   - after CMD ends: the cgroups and the pod's directory removed.
 * Left out, though actool does them: capabilities, seccomp, no_new_privs,
 * users and groups, the /etc files (hosts, resolv.conf, hostname), an init
 * that reaps, the metadata service, locks, the pod's state and log, and
 * error reports.
 *
 * POD_FLOOR_SKIP leaves parts out, to see what each costs: c the cgroups,
 * o the overlay (a bind of ROOTFS instead), m the mounts in the root, n
 * the network namespace.
 *
 * A bench tool: it exits on the first failure with a message. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <ftw.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CGROUPS 32

static char cgroups[MAX_CGROUPS][512];
static bool cgroup_v2[MAX_CGROUPS];
static const char *skip = "";
#define SKIP(c) (strchr(skip, (c)) != NULL)
static bool plain_cgroups;
static int n_cgroups;

static void die(const char *what)
{
  fprintf(stderr, "pod-floor: %s: %s\n", what, strerror(errno));
  _exit(125);
}

/* snprintf into BUF of N bytes, or die when it does not fit. */
static void __attribute__((format(printf, 3, 4))) fmt(char *buf, size_t n, const char *f, ...)
{
  va_list ap;
  va_start(ap, f);
  int r = vsnprintf(buf, n, f, ap);
  va_end(ap);
  if (r < 0 || (size_t) r >= n) {
    errno = ENAMETOOLONG;
    die(f);
  }
}

/* Every cgroup hierarchy mounted on the host (v1 and v2), once each. */
static void find_cgroups(void)
{
  FILE *f = fopen("/proc/self/mountinfo", "re");
  char line[4096];

  if (f == NULL)
    die("/proc/self/mountinfo");
  while (fgets(line, sizeof line, f) != NULL && n_cgroups < MAX_CGROUPS) {
    char mnt[400], *sep = strstr(line, " - ");
    if (sep == NULL ||
        (strncmp(sep, " - cgroup ", 10) != 0 && strncmp(sep, " - cgroup2 ", 11) != 0))
      continue;
    /* (not cpuset, whose cgroups need their CPUs and memory nodes set
     * before they take a process: actool leaves it, as the issue does) */
    if (strstr(sep, ",cpuset") != NULL)
      continue;
    if (sscanf(line, "%*s %*s %*s %*s %399s", mnt) != 1)
      continue;
    cgroup_v2[n_cgroups] = strncmp(sep, " - cgroup2 ", 11) == 0;
    fmt(cgroups[n_cgroups++], sizeof cgroups[0], "%s/pod-floor-%d", mnt, (int) getpid());
  }
  fclose(f);
}

static void write_file(const char *path, const char *text)
{
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, strlen(text)) < 0)
    die(path);
  close(fd);
}

static void mount_or_die(const char *src, const char *dst, const char *type, unsigned long flags,
                         const char *data)
{
  if (mount(src, dst, type, flags, data) < 0)
    die(dst);
}

/* A bind of the host's SRC at DST (made as an empty file first). */
static void bind_node(const char *src, const char *dst)
{
  int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0)
    die(dst);
  close(fd);
  mount_or_die(src, dst, NULL, MS_BIND, NULL);
}

static void mask(const char *path, bool dir)
{
  if (access(path, F_OK) < 0)
    return;
  if (dir)
    mount_or_die("tmpfs", path, "tmpfs", MS_RDONLY, NULL);
  else
    mount_or_die("/dev/null", path, NULL, MS_BIND, NULL);
}

static void loopback_up(void)
{
  struct ifreq ifr = {0};
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  strcpy(ifr.ifr_name, "lo");
  if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
    die("lo");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
    die("lo up");
  close(fd);
}

static void child(const char *rootfs, const char *pod, char **argv)
{
  char path[4096], opts[4096];
  static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

  for (int i = 0; i < n_cgroups; i++) {
    if (cgroup_v2[i] && !plain_cgroups) /* (cloned into it) */
      continue;
    fmt(path, sizeof path, "%s/%s", cgroups[i], plain_cgroups ? "cgroup.procs" : "tasks");
    write_file(path, "0");
  }
  if (unshare(CLONE_NEWCGROUP) < 0)
    die("unshare(CLONE_NEWCGROUP)");
  if (!SKIP('n'))
    loopback_up();
  mount_or_die(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  fmt(opts, sizeof opts, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", rootfs, pod, pod);
  fmt(path, sizeof path, "%s/merged", pod);
  if (SKIP('o'))
    mount_or_die(rootfs, path, NULL, MS_BIND, NULL);
  else
    mount_or_die("overlay", path, "overlay", MS_NODEV, opts);
  if (chdir(path) < 0)
    die(path);
  if (!SKIP('m')) {
    mkdir("proc", 0555), mkdir("sys", 0555), mkdir("dev", 0755);
    mount_or_die("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_die("sysfs", "sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_die("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
      char src[64], dst[64];
      fmt(src, sizeof src, "/dev/%s", nodes[i]);
      fmt(dst, sizeof dst, "dev/%s", nodes[i]);
      bind_node(src, dst);
    }
    mkdir("dev/pts", 0755), mkdir("dev/shm", 01777);
    mount_or_die("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                 "newinstance,ptmxmode=0666,mode=620");
    mount_or_die("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 "mode=1777,size=65536k");
    if (symlink("pts/ptmx", "dev/ptmx") < 0)
      die("dev/ptmx");
    mask("proc/kcore", false), mask("proc/keys", false), mask("proc/timer_list", false);
    mask("proc/sched_debug", false), mask("proc/acpi", true), mask("proc/scsi", true);
    mask("sys/firmware", true);
  }
  if (syscall(SYS_pivot_root, ".", ".") < 0)
    die("pivot_root");
  if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
    die("old root");
  if (sethostname("pod-floor", 9) < 0)
    die("sethostname");
  execv(argv[0], argv);
  die(argv[0]);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  (void) st, (void) type, (void) ftw;
  return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int main(int argc, char **argv)
{
  char pod[4096], path[4200];
  int status;
  pid_t pid;

  if (argc < 4) {
    fprintf(stderr, "usage: pod-floor ROOTFS WORKDIR CMD [ARG...]\n");
    return 2;
  }
  fmt(pod, sizeof pod, "%s/pod-%d", argv[2], (int) getpid());
  if (mkdir(pod, 0700) < 0)
    die(pod);
  for (const char *d = "upper\0work\0merged\0"; *d; d += strlen(d) + 1) {
    fmt(path, sizeof path, "%s/%s", pod, d);
    if (mkdir(path, 0755) < 0)
      die(path);
  }
  if (getenv("POD_FLOOR_SKIP"))
    skip = getenv("POD_FLOOR_SKIP");
  plain_cgroups = getenv("POD_FLOOR_PROCS") != NULL;
  if (!SKIP('c'))
    find_cgroups();
  for (int i = 0; i < n_cgroups; i++)
    if (mkdir(cgroups[i], 0755) < 0)
      die(cgroups[i]);

  int v2 = -1;
  for (int i = 0; i < n_cgroups && !plain_cgroups; i++)
    if (cgroup_v2[i] && (v2 = open(cgroups[i], O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
      die(cgroups[i]);
  struct clone_args args = {.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                                     (SKIP('n') ? 0 : CLONE_NEWNET) |
                                     (v2 >= 0 ? CLONE_INTO_CGROUP : 0),
                            .exit_signal = SIGCHLD,
                            .cgroup = (uint64_t) (v2 >= 0 ? v2 : 0)};
  pid = (pid_t) syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0)
    die("clone");
  if (pid == 0)
    child(argv[1], pod, argv + 3);
  if (waitpid(pid, &status, 0) < 0)
    die("waitpid");

  for (int i = 0; i < n_cgroups; i++)
    if (rmdir(cgroups[i]) < 0)
      die(cgroups[i]);
  if (nftw(pod, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
    die(pod);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
