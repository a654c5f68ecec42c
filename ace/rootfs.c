/* SPDX-License-Identifier: Apache-2.0 */
/* An app's filesystem (P opens its host side, the app's supervisor S
 * builds it).
 *
 * P makes an overlay whose lower layer is the store's cached tree (so no
 * file data is copied and every run starts from a clean copy), as a
 * detached mount; S enters a mount namespace of its own, attaches the
 * overlay, pivots into it and builds the OS-SPEC environment:
 * /proc and /sys read-only, a minimal /dev, /etc/hostname, and /etc/hosts,
 * /etc/resolv.conf and /etc/os-release when the image has none (in a layer
 * of their own, etc_layer), and the volumes.
 *
 * Everything that lives on the host (volume sources, device nodes, the
 * terminal) is opened by P, as detached mount trees (open_tree), and so
 * before pivot_root; everything inside the image is handled *after* it,
 * when "/" is the app's root and no path in the image, symlinks included,
 * can lead outside it.  The root and every volume are mounted nodev, and /dev's nodes
 * are bind mounts of the host's: a node the app makes with CAP_MKNOD opens
 * nothing. */
#define _GNU_SOURCE
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ace/internal.h"
#include "ace/pod.h"
#include "ace/rootfs.h"
#include "appc/ace.h"
#include "common/error.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/macros.h"

#define HOST_FILE_MAX (64 * 1024)

static const char *const device_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
#define N_DEVICE_NODES (ARRAY_SIZE(device_nodes))

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#define CGROUP_DIR "/sys/fs/cgroup"
#define MAX_CGROUP_ENTRIES 32

/* An entry of the host's /sys/fs/cgroup, remade in the app's: a v1
 * hierarchy (mounted again with its options, which in the app's cgroup
 * namespace shows the app's own cgroup as its root), the cgroup2 mount, or
 * a symbolic link such as cpu -> cpu,cpuacct. */
struct cgroup_entry {
  enum { CGE_V1, CGE_V2, CGE_LINK } kind;
  char name[64];
  char data[128]; /* v1: the controllers and name=; link: its target */
};

struct ace_rootfs_host {
  int device_fds[N_DEVICE_NODES];
  int *extra_fds; /* spec->devices' nodes */
  int console_fd;
  int *volume_fds;
  bool *volume_is_dir;
  char *resolv_conf; /* the host's, NULL when it has none */
  char *hosts;       /* the host's /etc/hosts (host network only) */
  bool cgroupns;     /* the app has a cgroup namespace: mount its cgroups */
  bool cgroup_v2;    /* the host's /sys/fs/cgroup is the unified hierarchy */
  bool etc_layered;  /* the executor's /etc files are in a layer (etc_layer) */
  struct cgroup_entry cgroups[MAX_CGROUP_ENTRIES];
  size_t n_cgroups;
  int overlay_fd; /* the root's overlay, made by P (detached); -1: S mounts it */
  size_t n_volumes, n_devices;
};

/* Close H's descriptors, keeping its memory: S does so once the root is
 * built, in memory that is a copy of P's (or I's, lent by vfork). */
static void host_close(struct ace_rootfs_host *h)
{
  for (size_t i = 0; i < N_DEVICE_NODES; i++)
    appc_cleanup_closep(&h->device_fds[i]);
  appc_cleanup_closep(&h->console_fd);
  appc_cleanup_closep(&h->overlay_fd);
  for (size_t i = 0; h->volume_fds != NULL && i < h->n_volumes; i++)
    appc_cleanup_closep(&h->volume_fds[i]);
  for (size_t i = 0; h->extra_fds != NULL && i < h->n_devices; i++)
    appc_cleanup_closep(&h->extra_fds[i]);
}

void ace_rootfs_host_free(struct ace_rootfs_host *h)
{
  if (h == NULL)
    return;
  host_close(h);
  free(h->volume_fds);
  free(h->volume_is_dir);
  free(h->extra_fds);
  free(h->resolv_conf);
  free(h->hosts);
  free(h);
}

/* ---- before pivot_root: the host side ------------------------------------- */

static int clone_tree(int dirfd, const char *path, bool recursive, appc_error_t *err,
                      const char *what)
{
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (path[0] == '\0' ? AT_EMPTY_PATH : 0) |
                   (recursive ? AT_RECURSIVE : 0);
  int fd = open_tree(dirfd, path, flags);

  if (fd < 0)
    return appc_error_make(err, errno, "%s: cannot clone the mount", what);
  return fd;
}

/* Make the detached tree FD nodev (and read-only), on every mount in it. */
static int set_tree_attrs(int fd, bool read_only, bool recursive, const char *what,
                          appc_error_t *err)
{
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_NODEV | (read_only ? MOUNT_ATTR_RDONLY : 0)};

  if (mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
    return appc_error_make(err, errno, "%s: cannot set mount attributes", what);
  return 0;
}

/* Open a host volume's source, refusing a symlink anywhere in its path (the
 * spec: a symlinked source or intermediate directory is an error). */
static int open_volume_source(const struct ace_rootfs_volume *v, appc_error_t *err)
{
  struct open_how how = {.flags = O_PATH | O_CLOEXEC,
                         .resolve = v->host ? RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS : 0};
  int fd = (int) syscall(SYS_openat2, AT_FDCWD, v->source, &how, sizeof how);

  if (fd < 0 && errno == ELOOP)
    return appc_error_make(err, 0,
                           "volume \"%s\": source %s: a component of the path is a symlink, "
                           "which host volumes may not have",
                           v->volume, v->source);
  if (fd < 0)
    return appc_error_make(err, errno, "volume \"%s\": source %s", v->volume, v->source);
  return fd;
}

static int open_volume(const struct ace_rootfs_volume *v, int *tree_fd, bool *is_dir,
                       appc_error_t *err)
{
  cleanup_close int src = open_volume_source(v, err);
  struct stat st;
  char what[PATH_MAX + 64];

  if (src < 0)
    return -1;
  if (fstat(src, &st) < 0)
    return appc_error_make(err, errno, "volume \"%s\": source %s", v->volume, v->source);
  *is_dir = S_ISDIR(st.st_mode);
  snprintf(what, sizeof what, "volume \"%s\" (%s)", v->volume, v->source);
  *tree_fd = clone_tree(src, "", v->recursive, err, what);
  if (*tree_fd < 0)
    return -1;
  return set_tree_attrs(*tree_fd, v->read_only, v->recursive, what, err);
}

static char *read_host_file(const char *path)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  char *buf;
  ssize_t n;

  if (fd < 0 || (buf = malloc(HOST_FILE_MAX + 1)) == NULL)
    return NULL;
  n = read(fd, buf, HOST_FILE_MAX);
  if (n < 0) {
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  return buf;
}

/* The mount options of a v1 hierarchy that name it (controllers, name=),
 * from SUPEROPTS: "rw" and release_agent= are not for the app to set. */
static void v1_options(const char *superopts, char *out, size_t size)
{
  cleanup_free char *copy = strdup(superopts);
  char *save = NULL;

  out[0] = '\0';
  for (char *t = copy != NULL ? strtok_r(copy, ",", &save) : NULL; t != NULL;
       t = strtok_r(NULL, ",", &save)) {
    if (strcmp(t, "rw") == 0 || strcmp(t, "ro") == 0 || strncmp(t, "release_agent=", 14) == 0)
      continue;
    size_t len = strlen(out);
    snprintf(out + len, size - len, "%s%s", len > 0 ? "," : "", t);
  }
}

/* What the host's /sys/fs/cgroup holds (its mounts, from mountinfo, and its
 * links), read before pivot_root hides it. */
static void scan_host_cgroups(struct ace_rootfs_host *h)
{
  cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0, pre = strlen(CGROUP_DIR "/");
  struct statfs sf;

  h->cgroup_v2 = statfs(CGROUP_DIR, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
  while (!h->cgroup_v2 && f != NULL && getline(&line, &cap, f) > 0 &&
         h->n_cgroups < MAX_CGROUP_ENTRIES) {
    char mnt[PATH_MAX], fstype[32], opts[256];
    const char *dash = strstr(line, " - ");
    if (dash == NULL || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
        sscanf(dash, " - %31s %*s %255s", fstype, opts) != 2 ||
        strncmp(mnt, CGROUP_DIR "/", pre) != 0 || strchr(mnt + pre, '/') != NULL ||
        strchr(mnt + pre, '\\') != NULL || strlen(mnt + pre) >= sizeof h->cgroups[0].name)
      continue;
    struct cgroup_entry *e = &h->cgroups[h->n_cgroups];
    if (strcmp(fstype, "cgroup") == 0)
      e->kind = CGE_V1;
    else if (strcmp(fstype, "cgroup2") == 0)
      e->kind = CGE_V2;
    else
      continue;
    memcpy(e->name, mnt + pre, strlen(mnt + pre) + 1); /* fits: checked above */
    v1_options(opts, e->data, sizeof e->data);
    h->n_cgroups++;
  }
  DIR *d = h->cgroup_v2 ? NULL : opendir(CGROUP_DIR);
  for (struct dirent *de;
       d != NULL && (de = readdir(d)) != NULL && h->n_cgroups < MAX_CGROUP_ENTRIES;) {
    struct cgroup_entry *e = &h->cgroups[h->n_cgroups];
    if (de->d_type != DT_LNK || strlen(de->d_name) >= sizeof e->name)
      continue;
    ssize_t n = readlinkat(dirfd(d), de->d_name, e->data, sizeof e->data - 1);
    if (n <= 0 || memchr(e->data, '/', (size_t) n) != NULL)
      continue; /* only links to a sibling */
    e->data[n] = '\0';
    e->kind = CGE_LINK;
    memcpy(e->name, de->d_name, strlen(de->d_name) + 1); /* fits: checked above */
    h->n_cgroups++;
  }
  if (d != NULL)
    closedir(d);
}

static int open_host_side(const struct ace_rootfs_spec *spec, struct ace_rootfs_host *h,
                          appc_error_t *err)
{
  char tty[PATH_MAX];

  for (size_t i = 0; i < N_DEVICE_NODES; i++) {
    char path[32];
    snprintf(path, sizeof path, "/dev/%s", device_nodes[i]);
    if ((h->device_fds[i] = clone_tree(AT_FDCWD, path, false, err, path)) < 0)
      return -1;
  }
  if ((h->extra_fds = calloc(spec->n_devices + 1, sizeof *h->extra_fds)) == NULL)
    return appc_error_make(err, ENOMEM, "devices");
  h->n_devices = spec->n_devices;
  for (size_t i = 0; i < spec->n_devices; i++)
    h->extra_fds[i] = -1;
  for (size_t i = 0; i < spec->n_devices; i++) {
    const struct ace_device *d = &spec->devices[i];
    if ((h->extra_fds[i] = clone_tree(AT_FDCWD, d->host_path, false, err, d->host_path)) < 0)
      return appc_error_prefix(err, "device");
    if (ace_device_check_opened(d, h->extra_fds[i], err) < 0)
      return -1;
  }
  if (spec->console && ttyname_r(STDIN_FILENO, tty, sizeof tty) == 0 &&
      (h->console_fd = clone_tree(AT_FDCWD, tty, false, err, tty)) < 0)
    return -1;
  h->volume_fds = calloc(spec->n_volumes + 1, sizeof *h->volume_fds);
  h->volume_is_dir = calloc(spec->n_volumes + 1, sizeof *h->volume_is_dir);
  if (h->volume_fds == NULL || h->volume_is_dir == NULL)
    return appc_error_make(err, ENOMEM, "volumes");
  h->n_volumes = spec->n_volumes;
  for (size_t i = 0; i < spec->n_volumes; i++)
    h->volume_fds[i] = -1;
  for (size_t i = 0; i < spec->n_volumes; i++)
    if (open_volume(&spec->volumes[i], &h->volume_fds[i], &h->volume_is_dir[i], err) < 0)
      return -1;
  h->resolv_conf = read_host_file("/etc/resolv.conf");
  if (spec->host_net)
    h->hosts = read_host_file("/etc/hosts");
  scan_host_cgroups(h); /* used where S gets a cgroup namespace */
  return 0;
}

/* A pod's upper layer goes with the pod (or stays only for a look at an
 * exited pod), so its overlay is volatile: no sync reaches the host's file
 * system through it.  Without, unmounting an overlay syncs the whole file
 * system under the store (overlayfs's sync_fs), which was most of the cost
 * of a pod's end, and an app's fsync of a file in its root waits for a
 * disk that would not keep the file anyway.  A build's changes become a
 * layer afterwards, so they are written out as usual. */
static bool throwaway_upper(const struct ace_rootfs_spec *spec)
{
  return spec->overlay_dir == NULL;
}

/* A build's upper layer is moved into the rootfs (ace/commit.c), so it
 * must hold what changed whole, whatever the kernel's defaults or module
 * parameters say: no metacopy (a chmod would copy up the metadata only,
 * the data staying in the lower layer), no redirect (a renamed directory
 * would be a pointer to the lower one), no index (which those go with). */
#define BUILD_OVERLAY_OPTIONS ",redirect_dir=off,metacopy=off,index=off"

/* The options that end the overlay's: ones a kernel may not know (volatile
 * came with Linux 5.10, metacopy with 4.19, index with 4.13, redirect_dir
 * with 4.10), which mount_overlay drops when the kernel refuses them. */
static const char *optional_overlay_options(const struct ace_rootfs_spec *spec)
{
  return throwaway_upper(spec) ? ",volatile" : BUILD_OVERLAY_OPTIONS;
}

/* ---- /etc ------------------------------------------------------------------ */

/* What the image (its tree IMAGE) has at PATH, its last symlink not
 * followed (a dangling one counts: the image said where it wants the file):
 * *MODE, 0 when nothing. */
static int image_entry(int image, const char *path, mode_t *mode, appc_error_t *err)
{
  cleanup_close int fd = appc_open_in_root(image, path, O_PATH | O_NOFOLLOW);
  struct stat st;

  *mode = 0;
  if (fd < 0)
    return errno == ENOENT || errno == ENOTDIR ? 0 : appc_error_make(err, errno, "/%s", path);
  if (fstat(fd, &st) < 0)
    return appc_error_make(err, errno, "/%s", path);
  *mode = st.st_mode;
  return 0;
}

/* A file the executor puts in /etc (the directory ETC), owned by the pod's
 * root. */
static int write_etc_file(const struct ace_rootfs_spec *spec, int etc, const char *name,
                          const char *text, appc_error_t *err)
{
  cleanup_close int fd =
      openat(etc, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);

  if (fd < 0 || appc_write_all(fd, text, strlen(text)) < 0 ||
      (spec->userns_fd >= 0 && fchown(fd, spec->id_base, spec->id_base) < 0))
    return appc_error_make(err, errno, "/etc/%s", name);
  return 0;
}

/* NAME with TEXT unless the image (IMAGE) has etc/NAME. */
static int provide_etc_file(const struct ace_rootfs_spec *spec, int image, int etc,
                            const char *name, const char *text, appc_error_t *err)
{
  char path[64];
  mode_t mode;

  if (text == NULL)
    return 0;
  snprintf(path, sizeof path, "etc/%s", name);
  if (image_entry(image, path, &mode, err) < 0)
    return -1;
  return mode != 0 ? 0 : write_etc_file(spec, etc, name, text, err);
}

/* The executor's files in /etc (ETC), as what the image (IMAGE) has says:
 * /etc/hostname is the pod's even where the image has its own (the two must
 * agree; a directory there stays); /etc/hosts, /etc/resolv.conf and an
 * empty /etc/os-release (the container RFC wants one in every container)
 * only where the image has none.  LAYERED: ETC is a layer above the
 * image's, whose files it hides; else the root's own /etc, where the
 * image's hostname is replaced (in the app's upper layer, never in the
 * image). */
static int write_etc(const struct ace_rootfs_spec *spec, const struct ace_rootfs_host *h, int image,
                     int etc, bool layered, appc_error_t *err)
{
  cleanup_free char *hostname = NULL;
  cleanup_free char *hosts = NULL;
  mode_t mode, os_release, usr_os_release;

  if (asprintf(&hostname, "%s\n", spec->hostname) < 0 ||
      (!spec->host_net &&
       asprintf(&hosts,
                "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t%s\n",
                spec->hostname) < 0))
    return appc_error_make(err, ENOMEM, "/etc");
  if (image_entry(image, "etc/hostname", &mode, err) < 0 ||
      image_entry(image, "etc/os-release", &os_release, err) < 0 ||
      image_entry(image, "usr/lib/os-release", &usr_os_release, err) < 0)
    return -1;
  if (mode != 0 && !S_ISDIR(mode) && !layered && unlinkat(etc, "hostname", 0) < 0)
    return appc_error_make(err, errno, "/etc/hostname");
  return (!S_ISDIR(mode) && write_etc_file(spec, etc, "hostname", hostname, err) < 0) ||
                 provide_etc_file(spec, image, etc, "hosts", spec->host_net ? h->hosts : hosts,
                                  err) < 0 ||
                 provide_etc_file(spec, image, etc, "resolv.conf", h->resolv_conf, err) < 0 ||
                 (os_release == 0 && usr_os_release == 0 &&
                  write_etc_file(spec, etc, "os-release", "", err) < 0)
             ? -1
             : 0;
}

int appc_ace_provide_etc(const char *rootfs, const char *hostname, appc_error_t *err)
{
  const struct ace_rootfs_spec spec = {.hostname = hostname, .userns_fd = -1};
  struct ace_rootfs_host h = {.resolv_conf = read_host_file("/etc/resolv.conf")};
  cleanup_close int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int etc = -1;
  int r;

  if (root < 0 || appc_mkdirs_in_root(root, "etc", 0755) < 0 ||
      (etc = appc_open_in_root(root, "etc", O_RDONLY | O_DIRECTORY)) < 0)
    r = appc_error_make(err, errno, "%s/etc", rootfs);
  else
    r = write_etc(&spec, &h, root, etc, false, err);
  free(h.resolv_conf);
  return r;
}

/* The layer as a tmpfs of its own, a detached mount (*MNT; left -1 on a
 * kernel without fsopen).  Its close ends the mount, which waits for an RCU
 * grace period (0.1 to 1 ms when the other CPUs are busy in the kernel, as
 * they are while the pod's network namespace is made). */
static int etc_layer_tmpfs(int *mnt, appc_error_t *err)
{
  cleanup_close int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);

  if (fs < 0)
    return 0;
  if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "256k", 0) < 0 ||
      fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
      fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
      (*mnt = fsmount(fs, FSMOUNT_CLOEXEC,
                      MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC)) < 0)
    return appc_error_make(err, errno, "a tmpfs for /etc");
  return 0;
}

/* The layer as the directory etc/APP_NAME of the pod's state directory (a
 * tmpfs that only root reaches, removed with the pod): no mount to end.
 * Named by its path (*PATH) in the overlay's options, which S's mount
 * namespace, a copy of the host's, resolves to its own copy of that tmpfs
 * (overlayfs refuses a layer of another namespace's mount).  One that P
 * made for an overlay that then failed is made afresh by S. */
static int etc_layer_dir(const struct ace_rootfs_spec *spec, int *dir, char path[PATH_MAX],
                         appc_error_t *err)
{
  char layers[PATH_MAX];
  cleanup_close int fd = -1;

  if (snprintf(layers, sizeof layers, "%s/%s", spec->etc_dir, ACE_POD_ETC_LAYERS) >=
          (int) sizeof layers ||
      snprintf(path, PATH_MAX, "%s/%s", layers, spec->app_name) >= PATH_MAX)
    return appc_error_make(err, ENAMETOOLONG, "%s", spec->etc_dir);
  if ((mkdir(layers, 0700) < 0 && errno != EEXIST) ||
      (fd = open(layers, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    return appc_error_make(err, errno, "%s", layers);
  if (faccessat(fd, spec->app_name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
      appc_remove_tree(fd, spec->app_name, err) < 0)
    return appc_error_prefix(err, "%s", layers);
  if (mkdirat(fd, spec->app_name, 0755) < 0 ||
      (*dir = openat(fd, spec->app_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    return appc_error_make(err, errno, "%s", path);
  return 0;
}

/* Where it can, the executor's /etc files go in a small layer laid over the
 * image as the overlay's top lower layer, not in the app's upper layer: on
 * the store's disk each is an inode made now and removed later, which with
 * /etc's copy-up was 0.4 ms of a pod's start.  The app changes them as it
 * would the image's (copied up into its upper layer).  Not in build mode
 * (the upper layer becomes the image, and commit.c finds these files there)
 * nor when the image's /etc is no directory (a layer's directory would hide
 * what a symlink there names), nor where the layer would be a tmpfs of its
 * own on a kernel without fsopen: *LAYER is then -1.  Else the layer
 * (etc_layer_dir, or, with --private-users, whose S reaches no directory of
 * root's, etc_layer_tmpfs), open, PATH naming it for the overlay's options
 * (BY_FD: through /proc/self/fd, short, for P in the host's mount
 * namespace; fsconfig takes at most 256 bytes of lowerdir);
 * its etc/ has the mode and owner of the image's /etc (LOWER, as the
 * overlay will see it). */
static int etc_layer(const struct ace_rootfs_spec *spec, const struct ace_rootfs_host *h,
                     const char *lower, bool by_fd, int *layer, char path[PATH_MAX],
                     appc_error_t *err)
{
  cleanup_close int image = -1;
  cleanup_close int top = -1;
  cleanup_close int etc = -1;
  uid_t owner = spec->userns_fd >= 0 ? spec->id_base : 0;
  struct stat st;
  bool has_etc;

  *layer = -1;
  if (!throwaway_upper(spec))
    return 0;
  if ((image = open(lower, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    return appc_error_make(err, errno, "%s", lower);
  has_etc = fstatat(image, "etc", &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (has_etc ? !S_ISDIR(st.st_mode) : errno != ENOENT)
    return 0;
  if (!has_etc) /* the pod's root owns the /etc it gets */
    st = (struct stat){.st_mode = S_IFDIR | 0755, .st_uid = owner, .st_gid = owner};
  bool in_dir = spec->etc_dir != NULL && spec->userns_fd < 0;
  if ((in_dir ? etc_layer_dir(spec, &top, path, err) : etc_layer_tmpfs(&top, err)) < 0)
    return -1;
  if (top < 0)
    return 0;
  if (by_fd || !in_dir) /* (a detached tmpfs has no path) */
    snprintf(path, PATH_MAX, "/proc/self/fd/%d", top);
  if (mkdirat(top, "etc", st.st_mode & 07777) < 0 ||
      (etc = openat(top, "etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
      fchown(etc, st.st_uid, st.st_gid) < 0 || fchmod(etc, st.st_mode & 07777) < 0)
    return appc_error_make(err, errno, "/etc in the layer of app %s", spec->app_name);
  if (write_etc(spec, h, image, etc, true, err) < 0)
    return -1;
  *layer = steal_fd(&top);
  return 0;
}

/* ---- the overlay and pivot_root -------------------------------------------- */

/* Overlay options are a comma-separated list with ':' between lower layers,
 * so such characters in our own paths cannot be passed through. */
static bool overlay_safe(const char *path)
{
  return strpbrk(path, ",:\\") == NULL;
}

/* The overlay's root shows its upper directory's owner, mode and times:
 * those of the tree's root LOWER.  In build mode too, where the app sees
 * them and may change them, and the commit gives them to the rootfs: a run
 * that changes nothing so leaves the rootfs (and the image built from it)
 * as it was; so with its xattrs (XATTRS), which the commit gives it too. */
static int upper_root_as_lower(const char *lower, const char *upper, bool xattrs, appc_error_t *err)
{
  cleanup_close int from = -1;
  cleanup_close int to = -1;
  struct stat st;

  if (stat(lower, &st) < 0 || chown(upper, st.st_uid, st.st_gid) < 0 ||
      chmod(upper, st.st_mode & 07777) < 0 ||
      utimensat(AT_FDCWD, upper, (const struct timespec[2]){st.st_atim, st.st_mtim}, 0) < 0)
    return appc_error_make(err, errno, "%s", upper);
  if (xattrs && ((from = open(lower, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
                 (to = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
                 ace_copy_dir_xattrs(from, to) < 0))
    return appc_error_make(err, errno, "%s: cannot give it the xattrs of %s", upper, lower);
  return 0;
}

/* --private-users: the overlay's lower layer is an idmapped mount of the
 * store's tree at DIR/lower (the tree itself never changes owner), or the
 * tree's shifted copy (LOWER_SHIFTED), and
 * the upper layer's root takes the tree root's owner as the pod sees it,
 * since an overlay's root shows the upper directory's. */
static int shift_lower(const struct ace_rootfs_spec *spec, const char *dir, char lower[PATH_MAX],
                       const char *upper, appc_error_t *err)
{
  if (snprintf(lower, PATH_MAX, "%s/lower", dir) >= PATH_MAX)
    return appc_error_make(err, ENAMETOOLONG, "%s", dir);
  if (spec->lower_shifted)
    snprintf(lower, PATH_MAX, "%s", spec->lower);
  else if (ace_userns_idmapped_tree(spec->userns_fd, spec->lower, lower, err) < 0)
    return -1;
  return upper_root_as_lower(lower, upper, false, err);
}

/* Where the app's overlay goes: its upper, work and root directories. */
static const char *overlay_dir(const struct ace_rootfs_spec *spec)
{
  return spec->overlay_dir != NULL ? spec->overlay_dir : spec->app_dir;
}

/* The options of the app's overlay over ROOT (DIR itself, which only the
 * app's mount namespace sees: no mount point to make and remove), its upper
 * and work directories made; *LAYER: the executor's /etc layer, which the
 * options name (BY_FD: by its descriptor, for P: etc_layer) and which must
 * stay open until the overlay is made. */
static int overlay_options(const struct ace_rootfs_spec *spec, struct ace_rootfs_host *h,
                           char root[PATH_MAX], bool by_fd, char **opts, int *layer,
                           appc_error_t *err)
{
  const char *dir = overlay_dir(spec);
  char upper[PATH_MAX], work[PATH_MAX], lower[PATH_MAX], etc[PATH_MAX] = "";

  *opts = NULL;
  snprintf(lower, sizeof lower, "%s", spec->lower);
  if (snprintf(upper, sizeof upper, "%s/upper", dir) >= (int) sizeof upper ||
      snprintf(work, sizeof work, "%s/work", dir) >= (int) sizeof work ||
      snprintf(root, PATH_MAX, "%s", dir) >= PATH_MAX)
    return appc_error_make(err, ENAMETOOLONG, "%s", dir);
  if (!overlay_safe(spec->lower) || !overlay_safe(dir))
    return appc_error_make(err, 0,
                           "%s or %s: the path may not contain ',', ':' or "
                           "'\\' (overlayfs options cannot carry them)",
                           spec->lower, dir);
  if ((mkdir(upper, 0755) < 0 && errno != EEXIST) || (mkdir(work, 0700) < 0 && errno != EEXIST))
    return appc_error_make(err, errno, "%s", dir);
  if (spec->userns_fd >= 0 && shift_lower(spec, dir, lower, upper, err) < 0)
    return -1;
  if (spec->userns_fd < 0 && !throwaway_upper(spec) &&
      upper_root_as_lower(lower, upper, true, err) < 0)
    return -1;
  if (etc_layer(spec, h, lower, by_fd, layer, etc, err) < 0)
    return -1;
  if (*layer >= 0 && !overlay_safe(etc))
    return appc_error_make(err, 0, "%s: the path may not contain ',', ':' or '\\'", etc);
  h->etc_layered = *layer >= 0;
  if (asprintf(opts, "lowerdir=%s%s%s,upperdir=%s,workdir=%s%s", etc, *layer >= 0 ? ":" : "", lower,
               upper, work, optional_overlay_options(spec)) < 0) {
    *opts = NULL;
    return appc_error_make(err, ENOMEM, "overlay");
  }
  return 0;
}

/* OPTS (overlay options, no value of which holds a ',': overlay_safe)
 * given to the file system context FS one by one. */
static int fsconfig_options(int fs, char *opts)
{
  char *save = NULL;

  for (char *o = strtok_r(opts, ",", &save); o != NULL; o = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(o, '=');
    if (eq != NULL)
      *eq++ = '\0';
    if (fsconfig(fs, eq != NULL ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, o, eq, 0) < 0)
      return -1;
  }
  return 0;
}

/* P, before the pod starts: the overlay made as a detached mount (fsmount)
 * that S attaches.  Making it (its upper and work directories on the
 * store's disk, and overlayfs's checks of them, which make and remove files
 * there) was the largest part of S's set-up; P does it while the kernel
 * makes the pod's network namespace.  Not with --private-users, whose
 * idmapped lower layer S mounts in its own mount namespace.  Any failure
 * leaves the overlay to S, whose mount says why. */
static void premount_overlay(const struct ace_rootfs_spec *spec, struct ace_rootfs_host *h)
{
  char root[PATH_MAX];
  cleanup_free char *opts = NULL;
  cleanup_close int layer = -1;
  cleanup_close int fs = -1;
  appc_error_t ignored = NULL;

  if (spec->userns_fd < 0 && overlay_options(spec, h, root, true, &opts, &layer, &ignored) == 0 &&
      (fs = fsopen("overlay", FSOPEN_CLOEXEC)) >= 0 && fsconfig_options(fs, opts) == 0 &&
      fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
    h->overlay_fd = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV);
  appc_error_release(&ignored);
}

static int mount_overlay(const struct ace_rootfs_spec *spec, struct ace_rootfs_host *h,
                         char root[PATH_MAX], appc_error_t *err)
{
  cleanup_free char *opts = NULL;
  cleanup_close int layer = -1;

  if (h->overlay_fd >= 0) {
    snprintf(root, PATH_MAX, "%s", overlay_dir(spec)); /* fits: overlay_options checked */
    if (move_mount(h->overlay_fd, "", AT_FDCWD, root, MOVE_MOUNT_F_EMPTY_PATH) < 0)
      return appc_error_make(err, errno, "%s: cannot attach the overlay of %s", root, spec->lower);
    return 0;
  }
  if (overlay_options(spec, h, root, false, &opts, &layer, err) < 0)
    return -1;
  if (mount("overlay", root, "overlay", MS_NODEV, opts) == 0)
    return 0;
  /* A kernel without the optional options: without them, its defaults,
   * which on a kernel that lacks a feature are that feature off (unless a
   * module parameter of redirect_dir's or index's kernels turns it on). */
  if (errno == EINVAL) {
    opts[strlen(opts) - strlen(optional_overlay_options(spec))] = '\0';
    if (mount("overlay", root, "overlay", MS_NODEV, opts) == 0)
      return 0;
  }
  return appc_error_make(err, errno, "%s: cannot mount the overlay over %s", root, spec->lower);
}

static int pivot_into(const char *root, appc_error_t *err)
{
  /* pivot_root(".", ".") stacks the old root on the new one; detaching it
   * leaves only the new root, without needing a directory to put it in. */
  if (chdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 ||
      chdir("/") < 0)
    return appc_error_make(err, errno, "%s: pivot_root", root);
  return 0;
}

/* ---- after pivot_root: inside the app's root ------------------------------- */

/* mkdir -p PATH (absolute, inside the new root) with mode 0755.  Most
 * paths exist, or lack only their last component: one mkdir, then the
 * parents only when it says they are missing. */
static int make_dirs(const char *path, appc_error_t *err)
{
  char parent[PATH_MAX];
  const char *slash = strrchr(path, '/');

  if (mkdir(path, 0755) == 0 || errno == EEXIST)
    return 0;
  if (errno != ENOENT || slash == NULL || slash == path)
    return appc_error_make(err, errno, "%s", path);
  if ((size_t) (slash - path) >= sizeof parent)
    return appc_error_make(err, ENAMETOOLONG, "%s", path);
  memcpy(parent, path, (size_t) (slash - path));
  parent[slash - path] = '\0';
  if (make_dirs(parent, err) < 0)
    return -1;
  if (mkdir(path, 0755) < 0 && errno != EEXIST)
    return appc_error_make(err, errno, "%s", path);
  return 0;
}

static int mount_at(const char *src, const char *target, const char *type, unsigned long flags,
                    const char *data, appc_error_t *err)
{
  if (make_dirs(target, err) < 0)
    return -1;
  if (mount(src, target, type, flags, data) < 0)
    return appc_error_make(err, errno, "%s: cannot mount %s", target, type);
  return 0;
}

static int create_file(const char *path, mode_t mode, appc_error_t *err)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);

  if (fd < 0)
    return appc_error_make(err, errno, "%s", path);
  close(fd);
  return 0;
}

static int attach_tree(int tree_fd, const char *target, appc_error_t *err)
{
  if (move_mount(tree_fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return appc_error_make(err, errno, "%s: cannot attach the mount", target);
  return 0;
}

/* --device: each host node bound at its path in the pod's /dev (checked
 * when parsed: plain names under /dev, none of ours). */
static int attach_devices(const struct ace_rootfs_spec *spec, const struct ace_rootfs_host *h,
                          appc_error_t *err)
{
  char parent[PATH_MAX];

  for (size_t i = 0; i < spec->n_devices; i++) {
    const char *path = spec->devices[i].pod_path;
    snprintf(parent, sizeof parent, "%s", path);
    *strrchr(parent, '/') = '\0';
    if (make_dirs(parent, err) < 0 || create_file(path, 0600, err) < 0 ||
        attach_tree(h->extra_fds[i], path, err) < 0)
      return appc_error_prefix(err, "device %s", spec->devices[i].host_path);
  }
  return 0;
}

/* Options of a tmpfs the executor mounts: owned by the pod's root. */
static const char *tmpfs_options(const struct ace_rootfs_spec *spec, const char *mode, char *buf,
                                 size_t size)
{
  if (spec->userns_fd < 0)
    return mode;
  snprintf(buf, size, "%s,uid=%" PRIu32 ",gid=%" PRIu32, mode, spec->id_base, spec->id_base);
  return buf;
}

static int setup_dev(const struct ace_rootfs_spec *spec, const struct ace_rootfs_host *h,
                     appc_error_t *err)
{
  static const char *const links[][2] = {
      {"/proc/self/fd", "/dev/fd"},       {"/proc/self/fd/0", "/dev/stdin"},
      {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
      {"pts/ptmx", "/dev/ptmx"},
  };
  char opts[128];

  if (mount_at("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV,
               tmpfs_options(spec, "mode=755,size=65536k", opts, sizeof opts), err) < 0)
    return -1;
  for (size_t i = 0; i < N_DEVICE_NODES; i++) {
    char path[32];
    snprintf(path, sizeof path, "/dev/%s", device_nodes[i]);
    if (create_file(path, 0666, err) < 0 || attach_tree(h->device_fds[i], path, err) < 0)
      return -1;
  }
  if (mount_at("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
               "newinstance,ptmxmode=0666,mode=0620", err) < 0 ||
      mount_at("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
               tmpfs_options(spec, "mode=1777", opts, sizeof opts), err) < 0)
    return -1;
  for (size_t i = 0; i < ARRAY_SIZE(links); i++)
    if (symlink(links[i][0], links[i][1]) < 0 ||
        (spec->userns_fd >= 0 && lchown(links[i][1], spec->id_base, spec->id_base) < 0))
      return appc_error_make(err, errno, "%s", links[i][1]);
  if (h->console_fd >= 0 && (create_file("/dev/console", 0600, err) < 0 ||
                             attach_tree(h->console_fd, "/dev/console", err) < 0))
    return -1;
  return 0;
}

/* The executor's /etc files in the root's own /etc, where no layer holds
 * them (etc_layer). */
static int setup_etc(const struct ace_rootfs_spec *spec, const struct ace_rootfs_host *h,
                     appc_error_t *err)
{
  cleanup_close int root = -1;
  cleanup_close int etc = -1;
  struct stat st;

  if (make_dirs("/etc", err) < 0)
    return -1;
  root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  etc = open("/etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* inside the root: any symlink */
  if (root < 0 || etc < 0 || fstat(etc, &st) < 0)
    return appc_error_make(err, errno, "/etc");
  if (write_etc(spec, h, root, etc, false, err) < 0)
    return -1;
  /* A build's commit leaves the executor's files out but gives the rootfs
   * the upper /etc's times: those the image's /etc had, so that a run that
   * changes nothing leaves the rootfs, and the image built from it, as
   * they were. */
  if (!throwaway_upper(spec) &&
      futimens(etc, (const struct timespec[2]){st.st_atim, st.st_mtim}) < 0)
    return appc_error_make(err, errno, "/etc: cannot keep its times");
  return 0;
}

/* Append the component C (LEN bytes) to the absolute path OUT. */
static int path_push(char out[PATH_MAX], const char *c, size_t len)
{
  size_t n = strlen(out);
  size_t sep = n > 1 ? 1 : 0;

  if (n + sep + len >= PATH_MAX)
    return -1;
  if (sep)
    out[n++] = '/';
  memcpy(out + n, c, len);
  out[n + len] = '\0';
  return 0;
}

/* Drop the last component of the absolute path OUT ("/" stays "/"). */
static void path_pop(char out[PATH_MAX])
{
  char *slash = strrchr(out, '/');

  if (slash == out)
    out[1] = '\0';
  else if (slash != NULL)
    *slash = '\0';
}

/* The path TARGET leads to inside the app's root, with every symlink among
 * its existing components followed as the kernel would (this runs after
 * pivot_root, so none leads out of the root) and the components from the
 * first missing one on kept as written.  A dangling symlink in the image (a
 * /data -> /srv/data whose target it does not ship) thus gives the path to
 * create.  ELOOP after 40 links, as the kernel. */
static int resolve_in_root(const char *target, char out[PATH_MAX], appc_error_t *err)
{
  char rest[PATH_MAX], next[PATH_MAX], link[PATH_MAX];
  unsigned links = 0;
  bool missing = false;
  const char *p = rest;

  if (snprintf(rest, sizeof rest, "%s", target) >= (int) sizeof rest)
    return appc_error_make(err, ENAMETOOLONG, "mount target %s", target);
  strcpy(out, "/");
  while (*p != '\0') {
    size_t len;
    struct stat st;
    while (*p == '/')
      p++;
    len = strcspn(p, "/");
    if (len == 0 || (len == 1 && p[0] == '.')) {
      p += len;
      continue;
    }
    if (len == 2 && p[0] == '.' && p[1] == '.') {
      path_pop(out);
      p += len;
      continue;
    }
    if (path_push(out, p, len) < 0)
      return appc_error_make(err, ENAMETOOLONG, "mount target %s", target);
    p += len;
    if (missing)
      continue;
    if (lstat(out, &st) < 0) {
      if (errno != ENOENT)
        return appc_error_make(err, errno, "mount target %s: %s", target, out);
      missing = true;
      continue;
    }
    if (!S_ISLNK(st.st_mode))
      continue;
    ssize_t n = readlink(out, link, sizeof link - 1);
    if (n < 0)
      return appc_error_make(err, errno, "mount target %s: %s", target, out);
    link[n] = '\0';
    if (++links > 40)
      return appc_error_make(err, ELOOP, "mount target %s", target);
    /* Walk the link's target, then what followed the link. */
    if (snprintf(next, sizeof next, "%s/%s", link, p) >= (int) sizeof next)
      return appc_error_make(err, ENAMETOOLONG, "mount target %s", target);
    memcpy(rest, next, sizeof rest);
    p = rest;
    if (link[0] == '/')
      strcpy(out, "/");
    else
      path_pop(out);
  }
  return 0;
}

/* PATH (no ".." or ".", from resolve_in_root) opened beneath DIRFD with no
 * symlink on the way: resolve_in_root followed every one, so one there
 * now was put there since, by an app of the pod racing the supervisor;
 * ELOOP then, never a walk through it (or through /proc's magic links). */
static int open_strict(int dirfd, const char *path, int flags)
{
  struct open_how how = {.flags = (unsigned long long) (flags | O_CLOEXEC),
                         .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};

  while (*path == '/')
    path++;
  return (int) syscall(SYS_openat2, dirfd, *path != '\0' ? path : ".", &how, sizeof how);
}

/* The directory PATH (absolute, resolved), made with its missing parents
 * one component at a time beneath the one before, never through a
 * symlink.  An O_PATH descriptor, or -1 with errno. */
static int mkdirs_strict(const char *path)
{
  char walk[PATH_MAX];
  int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (snprintf(walk, sizeof walk, "%s", path) >= (int) sizeof walk) {
    if (fd >= 0)
      close(fd);
    errno = ENAMETOOLONG;
    return -1;
  }
  char *save = NULL; /* strtok_r: the library may run in many threads */
  for (char *c = strtok_r(walk, "/", &save); c != NULL && fd >= 0; c = strtok_r(NULL, "/", &save)) {
    int next = -1;
    if (mkdirat(fd, c, 0755) == 0 || errno == EEXIST)
      next = open_strict(fd, c, O_PATH | O_DIRECTORY);
    int e = errno;
    close(fd);
    fd = next;
    errno = e;
  }
  return fd;
}

/* Make TARGET (V's mount target, resolved) fit a volume that is a directory
 * (IS_DIR) or a file, replacing what is in the way as the spec says, with
 * a warning; every step beneath a descriptor of its parent, never through
 * a symlink.  An O_PATH descriptor of the target, or -1. */
/* Is DIR on the app's root itself (the overlay of its image), not on a
 * volume or another file system mounted beneath it? */
static bool on_the_root(int dir)
{
  struct statx a, b;

  return statx(dir, "", AT_EMPTY_PATH, STATX_MNT_ID, &a) == 0 &&
         statx(AT_FDCWD, "/", 0, STATX_MNT_ID, &b) == 0 && (a.stx_mask & STATX_MNT_ID) &&
         (b.stx_mask & STATX_MNT_ID) && a.stx_mnt_id == b.stx_mnt_id;
}

static int prepare_target(const struct ace_rootfs_spec *spec, const struct ace_rootfs_volume *v,
                          const char *target, bool is_dir, const struct ace_notes *notes,
                          appc_error_t *err)
{
  char parent[PATH_MAX];
  const char *slash = strrchr(target, '/');
  const char *name = slash != NULL ? slash + 1 : target;
  struct stat st;

  if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
      snprintf(parent, sizeof parent, "%.*s", (int) (slash != NULL ? slash - target : 0), target) >=
          (int) sizeof parent)
    return appc_error_tag(err, EINVAL, "mount target %s: no name to mount on", target);
  cleanup_close int dir =
      open_strict(AT_FDCWD, *parent != '\0' ? parent : "/", O_PATH | O_DIRECTORY);
  if (dir < 0 && errno == ENOENT)
    dir = mkdirs_strict(parent);
  if (dir < 0)
    return appc_error_make(err, errno, "mount target %s", target);
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode))
      return appc_error_make(err, ELOOP, "mount target %s: changed while being prepared", target);
    if (is_dir && S_ISDIR(st.st_mode)) {
      if (!appc_dir_is_empty(dir, name))
        ace_note(notes, ACE_NOTE_WARN, "app %s: volume \"%s\" masks the image's files in %s",
                 spec->app_name, v->volume, target);
    } else if ((is_dir || S_ISDIR(st.st_mode)) && !on_the_root(dir)) {
      /* Inside a volume mounted before (an image's mount point beneath
       * another's, or a symlink into one): that is no file of the image's
       * to replace, but perhaps the host's. */
      return appc_error_make(err, 0,
                             "mount target %s: a %s of another volume, which volume "
                             "\"%s\" would replace",
                             target, S_ISDIR(st.st_mode) ? "directory" : "file", v->volume);
    } else if (is_dir || S_ISDIR(st.st_mode)) {
      ace_note(notes, ACE_NOTE_WARN, "app %s: volume \"%s\" replaces the image's %s %s",
               spec->app_name, v->volume, S_ISDIR(st.st_mode) ? "directory" : "file", target);
      if (unlinkat(dir, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
        return appc_error_make(err, errno, "mount target %s", target);
      st.st_mode = 0;
    }
  } else if (errno != ENOENT) {
    return appc_error_make(err, errno, "mount target %s", target);
  } else {
    st.st_mode = 0;
  }
  if (st.st_mode == 0) {
    int made = is_dir
                   ? mkdirat(dir, name, 0755)
                   : openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (made < 0)
      return appc_error_make(err, errno, "mount target %s", target);
    if (!is_dir)
      close(made);
  }
  int fd = open_strict(dir, name, O_PATH);
  if (fd < 0)
    return appc_error_make(err, errno, "mount target %s", target);
  return fd;
}

/* Attach a volume at the target TARGET_FD (prepare_target's: move_mount()
 * onto the very directory or file prepared). */
static int attach_volume(int tree_fd, int target_fd, const char *target, appc_error_t *err)
{
  if (move_mount(tree_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return appc_error_make(err, errno, "%s: cannot attach the mount", target);
  return 0;
}

static int mount_volumes(const struct ace_rootfs_spec *spec, const struct ace_rootfs_host *h,
                         const struct ace_notes *notes, appc_error_t *err)
{
  for (size_t i = 0; i < spec->n_volumes; i++) {
    const struct ace_rootfs_volume *v = &spec->volumes[i];
    char target[PATH_MAX];
    cleanup_close int target_fd = -1;
    if (resolve_in_root(v->target, target, err) < 0 ||
        (target_fd = prepare_target(spec, v, target, h->volume_is_dir[i], notes, err)) < 0 ||
        attach_volume(h->volume_fds[i], target_fd, target, err) < 0)
      return appc_error_prefix(err, "app %s: volume \"%s\"", spec->app_name, v->volume);
  }
  return 0;
}

/* What runc masks: kernel state a container has no business reading (the
 * host's memory image, its keys, timers, scheduler and firmware tables).
 * A file is covered by /dev/null, a directory by an empty read-only tmpfs;
 * what this kernel lacks is skipped. */
static int mask_kernel_paths(appc_error_t *err)
{
  static const char *const masked[] = {
      "/proc/acpi",
      "/proc/asound",
      "/proc/kcore",
      "/proc/keys",
      "/proc/latency_stats",
      "/proc/timer_list",
      "/proc/timer_stats",
      "/proc/sched_debug",
      "/proc/scsi",
      "/sys/firmware",
      "/sys/devices/virtual/powercap",
  };
  struct stat st;

  for (size_t i = 0; i < ARRAY_SIZE(masked); i++) {
    if (lstat(masked[i], &st) < 0)
      continue;
    if (S_ISDIR(st.st_mode)) {
      if (mount("tmpfs", masked[i], "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "size=0,mode=0555") < 0)
        return appc_error_make(err, errno, "%s: cannot mask it", masked[i]);
    } else if (mount("/dev/null", masked[i], NULL, MS_BIND, NULL) < 0) {
      return appc_error_make(err, errno, "%s: cannot mask it", masked[i]);
    }
  }
  return 0;
}

/* An init's /proc is writable (it sets its services' oom_score_adj, as
 * runc's /proc is), less what runc keeps read-only: the kernel's
 * settings and triggers. */
static int proc_read_only_parts(unsigned long kernel_fs, appc_error_t *err)
{
  static const char *const parts[] = {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus",
                                      "/proc/fs"};
  struct stat st;

  for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
    if (lstat(parts[i], &st) < 0)
      continue;
    if (mount(parts[i], parts[i], NULL, MS_BIND | MS_REC, NULL) < 0 ||
        mount(NULL, parts[i], NULL, MS_REMOUNT | MS_BIND | MS_REC | kernel_fs, NULL) < 0)
      return appc_error_make(err, errno, "%s: cannot make it read-only", parts[i]);
  }
  return 0;
}

/* An init system makes cgroups for its services beneath its own: the
 * hierarchies that hold no controller (v1's name=systemd, cgroup2) are
 * writable to it.  Its cgroup namespace keeps it inside its own, and v2
 * lets no one inside write its root's limits. */
static unsigned long cgroup_flags(const struct ace_rootfs_spec *spec, const struct cgroup_entry *e,
                                  unsigned long kernel_fs)
{
  bool tracking = e == NULL || e->kind == CGE_V2 || strstr(e->data, "name=systemd") != NULL;
  return spec->init_system && tracking ? kernel_fs & ~MS_RDONLY : kernel_fs;
}

/* /sys/fs/cgroup as the app's cgroup namespace shows it, read-only as runc
 * mounts it: the cgroup2 hierarchy, or a tmpfs holding the v1 hierarchies
 * and links the host has. */
static int mount_cgroups(const struct ace_rootfs_spec *spec, const struct ace_rootfs_host *h,
                         unsigned long kernel_fs, appc_error_t *err)
{
  char path[PATH_MAX];

  if (!h->cgroupns)
    return 0;
  if (h->cgroup_v2)
    return mount_at("cgroup2", CGROUP_DIR, "cgroup2", cgroup_flags(spec, NULL, kernel_fs), NULL,
                    err);
  if (h->n_cgroups == 0)
    return 0;
  if (mount_at("tmpfs", CGROUP_DIR, "tmpfs", kernel_fs & ~MS_RDONLY, "mode=0755", err) < 0)
    return -1;
  for (size_t i = 0; i < h->n_cgroups; i++) {
    const struct cgroup_entry *e = &h->cgroups[i];
    snprintf(path, sizeof path, CGROUP_DIR "/%s", e->name); /* names fit (scan) */
    if (e->kind == CGE_LINK) {
      if (symlink(e->data, path) < 0)
        return appc_error_make(err, errno, "%s: cannot link it to %s", path, e->data);
    } else if (mount_at(e->kind == CGE_V2 ? "cgroup2" : "cgroup", path,
                        e->kind == CGE_V2 ? "cgroup2" : "cgroup", cgroup_flags(spec, e, kernel_fs),
                        e->kind == CGE_V2 ? NULL : e->data, err) < 0) {
      return -1;
    }
  }
  if (mount(NULL, CGROUP_DIR, NULL, MS_REMOUNT | kernel_fs, "mode=0755") < 0)
    return appc_error_make(err, errno, "%s: cannot make it read-only", CGROUP_DIR);
  return 0;
}

static int inside_root(const struct ace_rootfs_spec *spec, const struct ace_rootfs_host *h,
                       const struct ace_notes *notes, appc_error_t *err)
{
  const unsigned long kernel_fs = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
  struct stat root;

  if (!throwaway_upper(spec) && stat("/", &root) < 0)
    return appc_error_make(err, errno, "app %s: the root", spec->app_name);
  if (mount_at("proc", "/proc", "proc", spec->init_system ? kernel_fs & ~MS_RDONLY : kernel_fs,
               NULL, err) < 0 ||
      (spec->init_system && proc_read_only_parts(kernel_fs, err) < 0) ||
      mount_at("sysfs", "/sys", "sysfs", kernel_fs, NULL, err) < 0 ||
      mount_cgroups(spec, h, kernel_fs, err) < 0 || setup_dev(spec, h, err) < 0 ||
      attach_devices(spec, h, err) < 0 || mask_kernel_paths(err) < 0 ||
      (!h->etc_layered && setup_etc(spec, h, err) < 0) || mount_volumes(spec, h, notes, err) < 0)
    return -1;
  /* A build's commit leaves out the mount points (and the /etc) made
   * above where the rootfs had none, but gives the rootfs the upper root's
   * times, which making them changed: those the rootfs had, so that a run
   * that changes nothing leaves it, and the image built from it, as it
   * was (setup_etc does the same for /etc). */
  if (!throwaway_upper(spec) &&
      utimensat(AT_FDCWD, "/", (const struct timespec[2]){root.st_atim, root.st_mtim}, 0) < 0)
    return appc_error_make(err, errno, "app %s: the root: cannot keep its times", spec->app_name);
  if (spec->read_only &&
      mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NODEV, NULL) < 0)
    return appc_error_make(err, errno, "app %s: cannot make the root read-only", spec->app_name);
  return 0;
}

void ace_close_dirs(void)
{
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;

  if (d == NULL)
    return;
  while ((e = readdir(d)) != NULL) {
    struct stat st;
    char *end;
    long fd = strtol(e->d_name, &end, 10);
    if (*end != '\0' || end == e->d_name || fd <= STDERR_FILENO || fd == dirfd(d))
      continue;
    if (fstat((int) fd, &st) == 0 && S_ISDIR(st.st_mode))
      close((int) fd);
  }
  closedir(d);
}

int ace_workdir_open(int root, const char *cwd, appc_error_t *err)
{
  struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  const char *rel = cwd;

  while (*rel == '/')
    rel++;
  int fd = (int) syscall(SYS_openat2, root, *rel != '\0' ? rel : ".", &how, sizeof how);
  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
    return appc_error_make(err, 0, "app.workingDirectory: %s does not exist in the image", cwd);
  if (fd < 0)
    return appc_error_make(err, errno, "app.workingDirectory: %s", cwd);
  return fd;
}

int ace_chdir_in_root(const char *cwd, appc_error_t *err)
{
  cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (root < 0)
    return appc_error_make(err, errno, "app.workingDirectory: %s: the root", cwd);
  cleanup_close int fd = ace_workdir_open(root, cwd, err);
  if (fd < 0)
    return -1;
  if (fchdir(fd) < 0)
    return appc_error_make(err, errno, "app.workingDirectory: %s", cwd);
  return 0;
}

int ace_rootfs_host_open(const struct ace_rootfs_spec *spec, struct ace_rootfs_host **out,
                         appc_error_t *err)
{
  struct ace_rootfs_host *h = calloc(1, sizeof *h);

  *out = NULL;
  if (h == NULL)
    return appc_error_make(err, ENOMEM, "app %s", spec->app_name);
  h->console_fd = h->overlay_fd = -1;
  for (size_t i = 0; i < N_DEVICE_NODES; i++)
    h->device_fds[i] = -1;
  if (open_host_side(spec, h, err) < 0) {
    ace_rootfs_host_free(h);
    return strncmp((*err)->msg, "app ", 4) == 0 ? -1
                                                : appc_error_prefix(err, "app %s", spec->app_name);
  }
  premount_overlay(spec, h);
  *out = h;
  return 0;
}

/* ace_rootfs_enter's steps, from the cgroup namespace to "/" being the
 * app's root. */
static int build_root(const struct ace_rootfs_spec *spec, struct ace_rootfs_host *h,
                      const struct ace_notes *notes, appc_error_t *err)
{
  char root[PATH_MAX];

  /* The caller has entered the app's cgroups: they become the root of its
   * cgroup namespace.  A kernel without cgroup namespaces (EINVAL) leaves
   * the app the host's view, without /sys/fs/cgroup. */
  if (unshare(CLONE_NEWCGROUP) == 0)
    h->cgroupns = true;
  else if (errno != EINVAL)
    return appc_error_make(err, errno, "app %s: cgroup namespace", spec->app_name);
  /* Slave propagation: the host's unmounts still reach us, nothing of ours
   * reaches the host. */
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    return appc_error_make(err, errno, "app %s: mount namespace", spec->app_name);
  if (mount_overlay(spec, h, root, err) < 0 || pivot_into(root, err) < 0)
    return -1;
  return inside_root(spec, h, notes, err);
}

int ace_rootfs_enter(const struct ace_rootfs_spec *spec, struct ace_rootfs_host *h,
                     const struct ace_notes *notes, appc_error_t *err)
{
  int r = build_root(spec, h, notes, err);

  host_close(h);
  if (r < 0 && (*err)->msg != NULL && strncmp((*err)->msg, "app ", 4) != 0)
    appc_error_prefix(err, "app %s", spec->app_name);
  return r;
}
