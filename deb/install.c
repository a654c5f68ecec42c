/* SPDX-License-Identifier: Apache-2.0 */
/* actool layout debian: Debian packages into a layout's rootfs (see
 * <appc/debian.h>).  The order is what keeps a failure from leaving a
 * half-made rootfs: index, signature, Packages, resolution, every .deb
 * downloaded and checked, and only then unpacking (staged: all the
 * packages' files take their names only once all are in) and the dpkg
 * records. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "aci/stream.h"
#include "common/abi.h"
#include "common/archive-error.h"
#include "common/error.h"
#include "common/arch.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "common/lazy.h"
#include "common/macros.h"
#include "common/workqueue.h"
#include "appc/discovery.h"
#include "appc/layout.h"
#include "appc/store.h"
#include "appc/trust.h"
#include "deb/internal.h"

#define RELEASE_MAX (64u << 20)
/* Debian's largest index (main, amd64) is some 50 MB; parsed, an index
 * takes a few times its size. */
#define PACKAGES_MAX (256u << 20)
/* The control files of all the packages of one install, in memory until
 * they are recorded. */
#define CONTROL_BUDGET ((size_t) 256 << 20)
#define STATUS_MAX (256u << 20)

struct job {
  const struct appc_debian_options *o;
  const char *mirror, *suite, *component, *arch, *keyring;
  char *work;          /* the temporary directory */
  size_t control_left; /* of CONTROL_BUDGET */
  appc_error_t *err;
};

const char *appc_debian_host_arch(void)
{
  return appc_arch_host()->debian;
}

void appc_debian_packages_clear(struct appc_debian_packages *p)
{
  for (size_t i = 0; i < p->n; i++) {
    free(p->v[i].name);
    free(p->v[i].version);
    free(p->v[i].arch);
  }
  free(p->v);
  memset(p, 0, sizeof *p);
}

/* ---- the index ---- */

static int get(struct job *j, const char *path, size_t max, char **body, size_t *len, long *status)
{
  cleanup_free char *url = NULL;

  if (asprintf(&url, "%s/dists/%s/%s", j->mirror, j->suite, path) < 0)
    return appc_error_make(j->err, ENOMEM, "%s", path);
  appc_cb_log(j->o->cb, "GET %s", url);
  return appc_http_get(j->o->http, url, max, body, len, status, j->err);
}

/* The signed text of the suite's Release: InRelease, else Release with
 * Release.gpg. */
static int fetch_release(struct job *j, char **out, appc_error_t *err)
{
  cleanup_free char *body = NULL;
  cleanup_free char *sig = NULL;
  cleanup_free char *what = NULL;
  size_t len = 0, sig_len = 0, plain_len;
  long status = 0;

  if (asprintf(&what, "%s/dists/%s/InRelease", j->mirror, j->suite) < 0)
    return appc_error_make(err, ENOMEM, "%s", j->suite);
  if (get(j, "InRelease", RELEASE_MAX, &body, &len, &status) == 0)
    return appc_trust_verify_keyring(j->keyring, j->o->tmpdir, what, body, len, NULL, 0, out,
                                     &plain_len, err);
  if (status != 404 && status != 410)
    return -1;
  appc_error_release(err);
  free(what);
  if (asprintf(&what, "%s/dists/%s/Release", j->mirror, j->suite) < 0)
    return appc_error_make(err, ENOMEM, "%s", j->suite);
  if (get(j, "Release", RELEASE_MAX, &body, &len, NULL) < 0)
    return appc_error_prefix(err, "%s/dists/%s: neither InRelease nor Release", j->mirror,
                             j->suite);
  if (get(j, "Release.gpg", 1u << 20, &sig, &sig_len, NULL) < 0)
    return appc_error_prefix(err, "%s: no InRelease, and Release is not signed", what);
  if (appc_trust_verify_keyring(j->keyring, j->o->tmpdir, what, body, len, sig, sig_len, NULL, NULL,
                                err) < 0)
    return -1;
  *out = steal_pointer(&body);
  return 0;
}

/* The SHA256 and size Release gives PATH, from its SHA256 field. */
static bool release_entry(const char *sha256, const char *path, char hex[65],
                          unsigned long long *size)
{
  const char *p = sha256;

  while (p != NULL && *p != '\0') {
    char h[65], name[512];
    unsigned long long sz;
    if (sscanf(p, " %64s %llu %511s", h, &sz, name) == 3 && strcmp(name, path) == 0 &&
        strlen(h) == 64) {
      memcpy(hex, h, 65);
      *size = sz;
      return true;
    }
    p = strchr(p, '\n');
    p = p != NULL ? p + 1 : NULL;
  }
  return false;
}

static int hash_fd(int fd, const char *what, char hex[APPC_DIGEST_HEX_MAX], off_t *size,
                   appc_error_t *err)
{
  cleanup_digest struct appc_digest *d = NULL;
  char buf[65536];
  ssize_t n;

  *size = 0;
  if (appc_digest_new(APPC_DIGEST_SHA256, &d, err) < 0)
    return -1;
  if (lseek(fd, 0, SEEK_SET) < 0)
    return appc_error_make(err, errno, "%s", what);
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    appc_digest_update(d, buf, (size_t) n);
    *size += n;
  }
  if (n < 0)
    return appc_error_make(err, errno, "%s", what);
  return appc_digest_final(d, hex, err);
}

/* URL into the work directory as NAME, through H, checked against SIZE and
 * SHA256; its path in *PATH_OUT (may be NULL).  Errors in *ERR; when the
 * download itself failed (the mirror lacks the file: 404, 410, or could not
 * be reached), and not a check of what came, *UNAVAILABLE (may be NULL) is
 * set. */
static int download_with(const struct job *j, struct appc_http *h, const char *url,
                         const char *name, const char *sha256, unsigned long long size,
                         char **path_out, bool *unavailable, appc_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_close int fd = -1;
  struct appc_http_download d = {.url = url, .max_size = size};
  char hex[APPC_DIGEST_HEX_MAX];
  off_t got;

  if (asprintf(&path, "%s/%s", j->work, name) < 0)
    return appc_error_make(err, ENOMEM, "%s", url);
  if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
    return appc_error_make(err, errno, "%s", path);
  d.fd = fd;
  appc_cb_log(j->o->cb, "GET %s", url);
  int r = appc_http_download(h, &d, err);
  bool oversized = d.oversized;
  long status = d.status;
  appc_http_download_clear(&d);
  if (r < 0 && oversized) {
    appc_error_release(err);
    return appc_error_make(err, 0, "%s: larger than the %llu bytes the index gives", url, size);
  }
  if (r < 0 && unavailable != NULL)
    *unavailable = status == 404 || status == 410 || status == 0;
  if (r < 0)
    return -1;
  if (hash_fd(fd, path, hex, &got, err) < 0)
    return -1;
  if ((unsigned long long) got != size)
    return appc_error_make(err, 0, "%s: %lld bytes, but the index gives %llu", url, (long long) got,
                           size);
  if (strcasecmp(hex, sha256) != 0)
    return appc_error_make(err, 0, "%s: SHA256 %s does not match the index's %s", url, hex, sha256);
  if (path_out != NULL)
    *path_out = steal_pointer(&path);
  return 0;
}

/* The content of the (possibly compressed) file PATH, decompressed. */
static int decompress(const char *path, const char *what, char **out, appc_error_t *err)
{
  struct archive *a;
  struct archive_entry *e;
  size_t cap = 1u << 20, len = 0;
  cleanup_free char *buf = NULL;
  la_ssize_t n = 0;

  if (appc_lazy_bind(APPC_LAZY_ARCHIVE, err) < 0)
    return -1;
  if ((a = archive_read_new()) == NULL || (buf = malloc(cap)) == NULL) {
    if (a != NULL)
      archive_read_free(a);
    return appc_error_make(err, ENOMEM, "%s", what);
  }
  archive_read_support_format_raw(a);
  /* an empty index (an empty component's), compressed or not, is no
   * format the raw reader knows */
  archive_read_support_format_empty(a);
  if (appc_archive_support_compression(a) != ARCHIVE_OK ||
      archive_read_open_filename(a, path, 65536) != ARCHIVE_OK)
    goto bad;
  int r = archive_read_next_header(a, &e);
  if (r != ARCHIVE_OK && r != ARCHIVE_EOF)
    goto bad;
  while (r == ARCHIVE_OK && (n = archive_read_data(a, buf + len, cap - len - 1)) > 0) {
    len += (size_t) n;
    if (len + 1 == cap) {
      char *bigger = cap >= PACKAGES_MAX ? NULL : realloc(buf, cap * 2);
      if (bigger == NULL) {
        archive_read_free(a);
        return appc_error_make(err, EFBIG, "%s: larger than %u bytes", what, PACKAGES_MAX);
      }
      buf = bigger;
      cap *= 2;
    }
  }
  if (n < 0)
    goto bad;
  archive_read_free(a);
  buf[len] = '\0';
  if (memchr(buf, '\0', len) != NULL)
    return appc_error_make(err, 0, "%s: holds a NUL byte: not a Packages file", what);
  *out = steal_pointer(&buf);
  return 0;
bad:
  appc_error_make(err, 0, "%s: %s", what, appc_archive_message(a));
  archive_read_free(a);
  return -1;
}

/* A Release past its Valid-Until is refused, as apt refuses it: a mirror
 * could otherwise keep serving an old signed index (with the packages it
 * had then) for ever. */
static int check_valid_until(struct job *j, const struct deb_stanza *release)
{
  const char *value = deb_field(release, "Valid-Until");
  struct tm tm = {0};
  const char *end;

  if (value == NULL)
    return 0;
  end = strptime(value, "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == NULL || (strcmp(end, " UTC") != 0 && strcmp(end, " GMT") != 0 &&
                      strcmp(end, " +0000") != 0 && strcmp(end, " Z") != 0))
    return appc_error_make(j->err, 0, "%s/dists/%s/Release: Valid-Until \"%s\" is not a UTC date",
                           j->mirror, j->suite, value);
  if (timegm(&tm) < time(NULL))
    return appc_error_make(j->err, 0,
                           "%s/dists/%s/Release: expired (Valid-Until %s): the mirror serves an "
                           "outdated index",
                           j->mirror, j->suite, value);
  return 0;
}

/* A Release names its suite (Suite: stable, Codename: bookworm): one that
 * names another is refused, where apt only warns ("Conflicting
 * distribution"): a mirror could otherwise serve the signed index of an
 * older suite, with its older packages, under the name asked for.  A suite
 * given as a path (bookworm/updates) is compared by its first part, as
 * such a Release names it; a Release naming none is taken. */
static int check_suite(struct job *j, const struct deb_stanza *release)
{
  const char *suite = deb_field(release, "Suite");
  const char *codename = deb_field(release, "Codename");
  size_t first = strcspn(j->suite, "/");

  if (suite == NULL && codename == NULL)
    return 0;
  for (int i = 0; i < 2; i++) {
    const char *v = i == 0 ? suite : codename;
    if (v != NULL && (strcmp(v, j->suite) == 0 || (j->suite[first] == '/' && strlen(v) == first &&
                                                   strncmp(v, j->suite, first) == 0)))
      return 0;
  }
  return appc_error_make(j->err, 0,
                         "%s/dists/%s/Release: the index of suite \"%.100s\" (codename "
                         "\"%.100s\"), not of %s: the mirror serves another suite's index",
                         j->mirror, j->suite, suite != NULL ? suite : "",
                         codename != NULL ? codename : "", j->suite);
}

/* The Packages file Release lists for COMPONENT/binary-ARCH, checked and
 * decompressed.  Where the mirror lacks one that Release lists (a 404, or
 * it cannot be reached), the next compression listed is tried, as apt's
 * pkgAcqIndex tries it; never where what came is not what Release says:
 * that is no missing file but another one, an attack. */
static int fetch_packages(struct job *j, const struct deb_stanza *release, char **out)
{
  static const char *const exts[] = {".xz", ".gz", ""};
  const char *sha256 = deb_field(release, "SHA256");
  cleanup_free char *release_url = NULL;
  bool listed = false;

  if (asprintf(&release_url, "%s/dists/%s/Release", j->mirror, j->suite) < 0)
    return appc_error_make(j->err, ENOMEM, "%s", j->suite);
  if (sha256 == NULL)
    return appc_error_make(j->err, 0, "%s: no SHA256 field: the index files cannot be checked",
                           release_url);
  for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
    cleanup_free char *rel = NULL;
    cleanup_free char *url = NULL;
    cleanup_free char *path = NULL;
    char hex[65], name[32];
    unsigned long long size;
    bool unavailable = false;
    if (asprintf(&rel, "%s/binary-%s/Packages%s", j->component, j->arch, exts[i]) < 0)
      return appc_error_make(j->err, ENOMEM, "%s", j->suite);
    if (!release_entry(sha256, rel, hex, &size))
      continue;
    /* an earlier one was unavailable: its error goes (said in the log),
     * its file is left to the work directory's removal */
    if (listed) {
      appc_cb_log(j->o->cb, "%s; trying the next compression Release lists", (*j->err)->msg);
      appc_error_release(j->err);
      if (appc_cb_cancelled(j->o->cb))
        return appc_error_make(j->err, ECANCELED, "%s", release_url);
    }
    listed = true;
    snprintf(name, sizeof name, "Packages%s", exts[i]);
    if (asprintf(&url, "%s/dists/%s/%s", j->mirror, j->suite, rel) < 0)
      return appc_error_make(j->err, ENOMEM, "%s", j->suite);
    if (download_with(j, j->o->http, url, name, hex, size, &path, &unavailable, j->err) == 0)
      return decompress(path, url, out, j->err);
    if (!unavailable)
      return -1;
  }
  if (listed)
    return -1; /* the last one's failure */
  return appc_error_make(j->err, 0,
                         "%s: lists no %s/binary-%s/Packages (.xz, .gz or plain) in its SHA256 "
                         "field: the suite has no such component or architecture",
                         release_url, j->component, j->arch);
}

/* ---- the rootfs's dpkg database ---- */

static const char dpkg_dir[] = "var/lib/dpkg";

/* The rootfs's dpkg status, "" when it has none. */
static int read_status(int root_fd, char **out, appc_error_t *err)
{
  cleanup_close int dir = appc_open_in_root(root_fd, dpkg_dir, O_RDONLY | O_DIRECTORY);
  size_t len;

  if (dir < 0 && errno != ENOENT)
    return appc_error_make(err, errno, "/%s", dpkg_dir);
  if (dir >= 0 &&
      appc_read_file_at(dir, "status", STATUS_MAX, APPC_READ_NOFOLLOW, out, &len, err) == 0)
    return 0;
  if (dir >= 0 && errno != ENOENT)
    return appc_error_prefix(err, "rootfs /%s/status", dpkg_dir);
  appc_error_release(err);
  *out = strdup("");
  return *out != NULL ? 0 : appc_error_make(err, ENOMEM, "status");
}

struct textbuf {
  char *s;
  size_t len, cap;
};

static int text_add(struct textbuf *b, const char *a, const char *c, const char *d)
{
  size_t n = strlen(a) + strlen(c) + strlen(d);

  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap * 2 + n + 4096;
    char *bigger = realloc(b->s, cap);
    if (bigger == NULL)
      return -1;
    b->s = bigger;
    b->cap = cap;
  }
  b->len += (size_t) sprintf(b->s + b->len, "%s%s%s", a, c, d);
  return 0;
}

/* The fields of ST but those named SKIP1 and SKIP2. */
static int stanza_add(struct textbuf *b, const struct deb_stanza *st, const char *skip1,
                      const char *skip2)
{
  for (size_t i = 0; i < st->n; i++) {
    if (strcasecmp(st->f[i].name, skip1) == 0 || strcasecmp(st->f[i].name, skip2) == 0)
      continue;
    if (text_add(b, st->f[i].name, st->f[i].value[0] == '\n' ? ":" : ": ", st->f[i].value) < 0 ||
        text_add(b, "\n", "", "") < 0)
      return -1;
  }
  return 0;
}

struct unpacked {
  const struct deb_package *pkg;
  char *path; /* the downloaded .deb */
  struct deb_control control;
  char *control_text; /* parsed into stanzas */
  struct deb_stanzas stanzas;
  char *list;
};

static void unpacked_clear(struct unpacked *u)
{
  free(u->path);
  deb_control_clear(&u->control);
  deb_stanzas_clear(&u->stanzas);
  free(u->control_text);
  free(u->list);
}

static bool replaced(const struct unpacked *v, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i].pkg->name, name) == 0)
      return true;
  return false;
}

static int info_name(const struct unpacked *u, const char *ext, char **out)
{
  const char *ma = deb_field(&u->stanzas.v[0], "Multi-Arch");
  bool same = ma != NULL && strcmp(ma, "same") == 0;

  return asprintf(out, "%s%s%s.%s", u->pkg->name, same ? ":" : "", same ? u->pkg->arch : "", ext);
}

static int write_info(int info, const struct unpacked *u, const char *ext, const char *text,
                      appc_error_t *err)
{
  cleanup_free char *name = NULL;
  /* the scripts are run by dpkg, the rest read */
  bool script =
      strcmp(ext, "config") == 0 || strstr(ext, "inst") != NULL || strstr(ext, "rm") != NULL;

  if (info_name(u, ext, &name) < 0)
    return appc_error_make(err, ENOMEM, "%s", u->pkg->name);
  return appc_atomic_write_at(info, name, text, strlen(text), script ? 0755 : 0644, 0, err);
}

/* info/PKG.postinst and the others, for dpkg --configure. */
static int write_scripts(int info, const struct unpacked *u, appc_error_t *err)
{
  for (size_t k = 0; k < DEB_N_SCRIPTS; k++)
    if (u->control.scripts[k] != NULL &&
        write_info(info, u, deb_script_names[k], u->control.scripts[k], err) < 0)
      return -1;
  return 0;
}

/* info/PKG.list and .md5sums of each package, then the status with them
 * (replacing their earlier entries), written atomically. */
static int record(int root_fd, const struct deb_stanzas *old, const struct unpacked *v, size_t n,
                  bool scripts, appc_error_t *err)
{
  cleanup_close int dir = appc_mkdirs_in_root(root_fd, dpkg_dir, 0755);
  cleanup_close int info = dir >= 0 ? appc_mkdirs_in_root(root_fd, "var/lib/dpkg/info", 0755) : -1;
  cleanup_close int updates =
      info >= 0 ? appc_mkdirs_in_root(root_fd, "var/lib/dpkg/updates", 0755) : -1;
  struct textbuf b = {0};
  struct stat st;
  int r = 0;

  if (updates < 0)
    return appc_error_make(err, errno, "rootfs /%s", dpkg_dir);
  /* info/ in dpkg's multiarch format (1): PKG:ARCH.list for Multi-Arch:
   * same, as dpkg reads them only then */
  if (fstatat(info, "format", &st, AT_SYMLINK_NOFOLLOW) < 0 &&
      appc_atomic_write_at(info, "format", "1\n", 2, 0644, 0, err) < 0)
    return appc_error_prefix(err, "rootfs /%s/info", dpkg_dir);
  for (size_t i = 0; i < n; i++)
    if (write_info(info, &v[i], "list", v[i].list, err) < 0 ||
        (v[i].control.md5sums != NULL &&
         write_info(info, &v[i], "md5sums", v[i].control.md5sums, err) < 0) ||
        (scripts && write_scripts(info, &v[i], err) < 0))
      return -1;
  for (size_t i = 0; r == 0 && i < old->n; i++) {
    const char *name = deb_field(&old->v[i], "Package");
    if (name != NULL && replaced(v, n, name))
      continue;
    r = stanza_add(&b, &old->v[i], "", "") < 0 || text_add(&b, "\n", "", "") < 0 ? -1 : 0;
  }
  for (size_t i = 0; r == 0 && i < n; i++)
    r = text_add(&b, "Package: ", v[i].pkg->name,
                 scripts ? "\nStatus: install ok unpacked\n" : "\nStatus: install ok installed\n") <
                    0 ||
                stanza_add(&b, &v[i].stanzas.v[0], "Package", "Status") < 0 ||
                text_add(&b, "\n", "", "") < 0
            ? -1
            : 0;
  if (r < 0) {
    free(b.s);
    return appc_error_make(err, ENOMEM, "rootfs /%s/status", dpkg_dir);
  }
  r = appc_atomic_write_at(dir, "status", b.s != NULL ? b.s : "", b.len, 0644, 0, err);
  free(b.s);
  if (r == 0 && fstatat(dir, "available", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
    r = appc_atomic_write_at(dir, "available", "", 0, 0644, 0, err);
  return r < 0 ? appc_error_prefix(err, "rootfs /%s", dpkg_dir) : 0;
}

/* ---- the packages ---- */

/* A Filename of the index: relative, no "..", no scheme, no query (what
 * it leads to on the mirror is checked against the index anyway). */
static bool safe_filename(const char *f)
{
  if (f == NULL || f[0] == '/' || strpbrk(f, "?#\\ \t\n") != NULL || strstr(f, "://") != NULL)
    return false;
  for (const char *p = f; *p != '\0';) {
    size_t len = strcspn(p, "/");
    if (len == 0 || (len == 2 && p[0] == '.' && p[1] == '.') || (len == 1 && p[0] == '.'))
      return false;
    p += len;
    p += *p == '/';
  }
  return strlen(f) < 4096;
}

struct state {
  char *release, *packages, *status;
  struct deb_stanzas release_st, packages_st, status_st;
  struct deb_index ix;
  size_t *chosen;
  size_t n;
  struct unpacked *debs;
  bool merge_usr; /* the rootfs gets a merged /usr before the unpacking */
};

/* What a package's download needs from the index, checked: its URL on the
 * mirror, SHA256 and size. */
struct deb_download {
  const struct job *j;
  struct appc_http **clients; /* by worker (appc_wq_fn), the owner's last */
  struct unpacked *u;
  char *url, name[32];
  const char *sha256;
  unsigned long long size;
};

static int plan_download(struct job *j, size_t k, struct unpacked *u, struct deb_download *d)
{
  const struct deb_package *p = u->pkg;
  const char *filename = deb_field(p->st, "Filename");
  const char *size_s = deb_field(p->st, "Size");
  char *end = NULL;

  d->j = j;
  d->u = u;
  d->sha256 = deb_field(p->st, "SHA256");
  errno = 0;
  d->size = size_s != NULL ? strtoull(size_s, &end, 10) : 0;
  if (!safe_filename(filename))
    return appc_error_make(j->err, 0,
                           "package %s %s: Filename \"%s\" is not a relative path in the mirror",
                           p->name, p->version, filename != NULL ? filename : "");
  if (d->sha256 == NULL || strlen(d->sha256) != 64 ||
      strspn(d->sha256, "0123456789abcdefABCDEF") != 64)
    return appc_error_make(j->err, 0, "package %s %s: no SHA256 of 64 hex digits in the index",
                           p->name, p->version);
  if (size_s == NULL || end == size_s || *end != '\0' || !isdigit((unsigned char) size_s[0]))
    return appc_error_make(j->err, 0, "package %s %s: no Size in the index", p->name, p->version);
  if (errno == ERANGE)
    return appc_error_make(j->err, 0, "package %s %s: Size \"%s\" in the index is out of range",
                           p->name, p->version, size_s);
  snprintf(d->name, sizeof d->name, "%zu.deb", k);
  if (asprintf(&d->url, "%s/%s", j->mirror, filename) < 0) {
    d->url = NULL;
    return appc_error_make(j->err, ENOMEM, "%s", p->name);
  }
  return 0;
}

/* A work item: one package's download, by the worker's own client. */
static int run_download(void *data, unsigned worker, appc_error_t *err)
{
  struct deb_download *d = data;

  if (appc_cb_cancelled(d->j->o->cb))
    return appc_error_make(err, ECANCELED, "debian: downloading");
  return download_with(d->j, d->clients[worker], d->url, d->name, d->sha256, d->size, &d->u->path,
                       NULL, err);
}

/* The downloaded package U checked (deb_check), its control file read. */
static int check_deb(struct job *j, const struct deb_download *d)
{
  struct unpacked *u = d->u;
  const struct deb_package *p = u->pkg;
  const char *size = deb_field(p->st, "Installed-Size");
  /* (without the index's, the control file's bounds the data) */
  const struct deb_check_opts co = {.cb = j->o->cb,
                                    .scripts = j->o->scripts,
                                    .control_left = &j->control_left,
                                    .data_max = size != NULL ? deb_data_max(size) : 0};

  if (deb_check(u->path, d->url, &co, &u->control, j->err) < 0)
    return -1;
  /* parsed in place: what the stanzas point into */
  u->control_text = steal_pointer(&u->control.control);
  if (deb_parse_control(u->control_text, d->url, &u->stanzas, j->err) < 0)
    return appc_error_prefix(j->err, "control");
  const char *cname = u->stanzas.n == 1 ? deb_field(&u->stanzas.v[0], "Package") : NULL;
  const char *cversion = u->stanzas.n == 1 ? deb_field(&u->stanzas.v[0], "Version") : NULL;
  if (cname == NULL || cversion == NULL || strcmp(cname, p->name) != 0 ||
      strcmp(cversion, p->version) != 0)
    return appc_error_make(j->err, 0, "%s: its control file is not that of %s %s", d->url, p->name,
                           p->version);
  return 0;
}

/* Downloads from the mirror at once: as many connections as skopeo opens
 * to a registry (apt pipelines on one).  The packages are checked one by
 * one, in order, as they arrive. */
#define DEB_DOWNLOADS 4
/* Packages downloading or waiting for a worker, at most. */
#define DEB_IN_FLIGHT (2 * DEB_DOWNLOADS)

struct downloads {
  struct appc_wq *wq;
  struct appc_http *clients[DEB_DOWNLOADS + 1];
  struct deb_download *items;
  size_t n;
  /* The workers' callbacks: the caller's, and a download that failed
   * (the queue cancelled) stops the others at once. */
  const struct appc_callbacks *outer;
  struct appc_callbacks cb;
};

static bool downloads_cancelled(void *data)
{
  const struct downloads *dl = data;
  return appc_wq_cancelled(dl->wq) || appc_cb_cancelled(dl->outer);
}

static void downloads_log(void *data, const char *msg)
{
  appc_cb_log(((const struct downloads *) data)->outer, "%s", msg);
}

static void downloads_progress(void *data, enum appc_progress_op op, const char *what,
                               uint64_t done, uint64_t total)
{
  appc_cb_progress(((const struct downloads *) data)->outer, op, what, done, total);
}

static void downloads_clear(struct downloads *dl)
{
  appc_wq_free(dl->wq); /* what waits is discarded, running items finish */
  for (size_t i = 0; i < DEB_DOWNLOADS; i++)
    appc_http_free(dl->clients[i]);
  for (size_t i = 0; dl->items != NULL && i < dl->n; i++)
    free(dl->items[i].url);
  free(dl->items);
}

/* Every package of S downloaded (DEB_DOWNLOADS at a time) and checked. */
static int fetch_debs(struct job *j, struct state *s)
{
  const struct appc_wq_options wo = {.threads = DEB_DOWNLOADS, .max_pending = DEB_IN_FLIGHT};
  __attribute__((cleanup(downloads_clear))) struct downloads dl = {0};
  appc_error_t *err = j->err;
  unsigned threads;

  if ((dl.items = calloc(s->n + 1, sizeof *dl.items)) == NULL)
    return appc_error_make(err, ENOMEM, "packages");
  dl.n = s->n;
  for (size_t i = 0; i < s->n; i++)
    if (plan_download(j, i, &s->debs[i], &dl.items[i]) < 0)
      return -1;
  if (appc_wq_new(&dl.wq, &wo, err) < 0)
    return -1;
  threads = appc_wq_threads(dl.wq);
  dl.outer = j->o->cb;
  dl.cb = (struct appc_callbacks){.data = &dl,
                                  .cancelled = downloads_cancelled,
                                  .log = downloads_log,
                                  .progress_op = downloads_progress};
  for (unsigned w = 0; w < threads; w++)
    if (appc_http_dup(j->o->http, &dl.cb, &dl.clients[w], err) < 0)
      return -1;
  dl.clients[threads] = j->o->http;
  size_t checked = 0;
  for (size_t i = 0; i < s->n; i++) {
    dl.items[i].clients = dl.clients;
    if (appc_wq_submit(dl.wq, run_download, &dl.items[i]) < 0)
      break;
    /* Once as many are under way as the queue holds, the oldest is
     * checked (waited for first) while the workers download the rest. */
    if (i + 1 - checked >= DEB_IN_FLIGHT) {
      if (appc_wq_wait_item(dl.wq, checked, err) < 0 || check_deb(j, &dl.items[checked]) < 0)
        return -1; /* (downloads_clear discards the rest) */
      checked++;
    }
  }
  if (appc_wq_wait(dl.wq, err) < 0)
    return -1;
  for (; checked < s->n; checked++)
    if (check_deb(j, &dl.items[checked]) < 0)
      return -1;
  return 0;
}

static int output(struct appc_debian_packages *out, const struct unpacked *v, size_t n,
                  appc_error_t *err)
{
  if (out == NULL)
    return 0;
  if ((out->v = calloc(n + 1, sizeof *out->v)) == NULL)
    return appc_error_make(err, ENOMEM, "packages");
  for (size_t i = 0; i < n; i++, out->n++) {
    out->v[i].name = strdup(v[i].pkg->name);
    out->v[i].version = strdup(v[i].pkg->version);
    out->v[i].arch = strdup(v[i].pkg->arch != NULL ? v[i].pkg->arch : "");
    if (out->v[i].name == NULL || out->v[i].version == NULL || out->v[i].arch == NULL)
      return appc_error_make(err, ENOMEM, "packages");
  }
  return 0;
}

static void state_clear(struct state *s)
{
  for (size_t i = 0; s->debs != NULL && i < s->n; i++)
    unpacked_clear(&s->debs[i]);
  free(s->debs);
  free(s->chosen);
  deb_index_clear(&s->ix);
  deb_stanzas_clear(&s->release_st);
  deb_stanzas_clear(&s->packages_st);
  deb_stanzas_clear(&s->status_st);
  free(s->release);
  free(s->packages);
  free(s->status);
}

static void work_removep(char **work)
{
  char *slash = *work != NULL ? strrchr(*work, '/') : NULL;

  if (slash != NULL) {
    appc_error_t ignored = NULL;
    *slash = '\0';
    cleanup_close int parent =
        open(slash == *work ? "/" : *work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent >= 0)
      (void) appc_remove_tree(parent, slash + 1, &ignored);
    appc_error_release(&ignored);
  }
  free(*work);
}

/* ---- what is asked for ---- */

#define USR_IS_MERGED "usr-is-merged"

/* The top directories a merged /usr makes symlinks of on ARCH, into OUT:
 * bin, sbin, lib and the architecture's other library directories, as
 * debootstrap makes them. */
static size_t merged_usr_dirs(const char *arch, const char *out[static 6])
{
  static const struct {
    const char *arch;
    const char *dirs[3];
  } more[] = {
      {"amd64", {"lib32", "lib64", "libx32"}},
      {"i386", {"lib64", "libx32"}},
      {"x32", {"lib32", "lib64", "libx32"}},
      {"mips64el", {"lib32", "lib64", "libo32"}},
      {"mipsel", {"lib32", "lib64"}},
      {"ppc64", {"lib32", "lib64"}},
      {"ppc64el", {"lib64"}},
      {"powerpc", {"lib64"}},
      {"s390x", {"lib32"}},
      {"sparc64", {"lib32", "lib64"}},
  };
  size_t n = 0;

  out[n++] = "bin";
  out[n++] = "sbin";
  out[n++] = "lib";
  for (size_t i = 0; i < ARRAY_SIZE(more); i++)
    if (strcmp(more[i].arch, arch) == 0)
      for (size_t k = 0; k < 3 && more[i].dirs[k] != NULL; k++)
        out[n++] = more[i].dirs[k];
  return n;
}

/* A rootfs nothing was installed into yet: no /bin, /sbin or /lib. */
static bool rootfs_unlaid(int root_fd)
{
  static const char *const top[] = {"bin", "sbin", "lib"};
  struct stat st;

  for (size_t i = 0; i < ARRAY_SIZE(top); i++)
    if (fstatat(root_fd, top[i], &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
      return false;
  return true;
}

/* Whether the index (not the rootfs's status) has a package NAME. */
static bool index_offers(const struct deb_index *ix, const char *name)
{
  for (size_t i = 0; i < ix->n; i++)
    if (!ix->v[i].installed && strcmp(ix->v[i].name, name) == 0)
      return true;
  return false;
}

/* The version-2 member: read only from callers that have it. */
static bool want_essential(const struct appc_debian_options *opts)
{
  return opts->version >= 2 && opts->essential;
}

static bool essential(const struct deb_package *p)
{
  const char *e = deb_field(p->st, "Essential");
  return !p->installed && e != NULL && strcasecmp(e, "yes") == 0;
}

/* The names to resolve, in order: usr-is-merged for a merged /usr (first,
 * so that "usrmerge | usr-is-merged" finds it chosen and does not convert
 * the rootfs), the index's Essential packages when asked for, then NAMES.
 * *ALL points into NAMES and the index. */
static int wanted(const struct job *j, const struct state *s, char *const *names, size_t n,
                  char ***all, size_t *n_all)
{
  struct appc_strset seen = {0};
  size_t k = 0;
  int r = 0;

  if ((*all = calloc(n + s->ix.n + 2, sizeof **all)) == NULL)
    return appc_error_make(j->err, ENOMEM, "packages");
  if (s->merge_usr)
    (*all)[k++] = (char *) USR_IS_MERGED;
  for (size_t i = 0; want_essential(j->o) && r == 0 && i < s->ix.n; i++) {
    const struct deb_package *p = &s->ix.v[i];
    int added = essential(p) ? appc_strset_add(&seen, p->name) : 0;
    if (added < 0)
      r = appc_error_make(j->err, ENOMEM, "packages");
    else if (added > 0)
      (*all)[k++] = (char *) p->name;
  }
  appc_strset_clear(&seen);
  memcpy(*all + k, names, n * sizeof *names);
  *n_all = k + n;
  return r;
}

static int prepare(struct job *j, int root_fd, char *const *names, size_t n, struct state *s)
{
  appc_error_t *err = j->err;

  if (fetch_release(j, &s->release, err) < 0 ||
      deb_parse_control(s->release, "Release", &s->release_st, err) < 0)
    return -1;
  if (s->release_st.n != 1)
    return appc_error_make(err, 0, "%s/dists/%s: the Release text is not one stanza", j->mirror,
                           j->suite);
  if (check_suite(j, &s->release_st.v[0]) < 0 || check_valid_until(j, &s->release_st.v[0]) < 0 ||
      fetch_packages(j, &s->release_st.v[0], &s->packages) < 0 ||
      deb_parse_control(s->packages, "Packages", &s->packages_st, err) < 0 ||
      read_status(root_fd, &s->status, err) < 0 ||
      deb_parse_control(s->status, "rootfs /var/lib/dpkg/status", &s->status_st, err) < 0)
    return -1;
  deb_index_init(&s->ix);
  if (deb_index_add(&s->ix, &s->status_st, j->arch, true, "rootfs /var/lib/dpkg/status", err) < 0 ||
      deb_index_add(&s->ix, &s->packages_st, j->arch, false, "Packages", err) < 0)
    return -1;
  s->merge_usr = rootfs_unlaid(root_fd) && index_offers(&s->ix, USR_IS_MERGED);
  cleanup_free char **all = NULL;
  size_t n_all = 0;
  if (wanted(j, s, names, n, &all, &n_all) < 0 ||
      deb_resolve(&s->ix, all, n_all, j->o->cb, &s->chosen, &s->n, err) < 0)
    return -1;
  if ((s->debs = calloc(s->n + 1, sizeof *s->debs)) == NULL)
    return appc_error_make(err, ENOMEM, "packages");
  for (size_t i = 0; i < s->n; i++)
    s->debs[i].pkg = &s->ix.v[s->chosen[i]];
  return fetch_debs(j, s);
}

static int install(struct appc_layout *l, char *const *names, size_t n,
                   const struct appc_debian_options *opts, struct appc_debian_packages *out,
                   appc_error_t *err)
{
  const char *tmpdir = NULL;
  struct job j = {
      .o = opts,
      .mirror = opts->mirror != NULL ? opts->mirror : APPC_DEBIAN_DEFAULT_MIRROR,
      .suite = opts->suite != NULL ? opts->suite : APPC_DEBIAN_DEFAULT_SUITE,
      .component = opts->component != NULL ? opts->component : "main",
      .arch = opts->arch != NULL ? opts->arch : appc_debian_host_arch(),
      .keyring = opts->keyring != NULL ? opts->keyring : APPC_DEBIAN_DEFAULT_KEYRING,
      .control_left = CONTROL_BUDGET,
      .err = err,
  };
  __attribute__((cleanup(work_removep))) char *work = NULL;
  cleanup_free char *mirror = NULL;
  __attribute__((cleanup(state_clear))) struct state s = {0};
  cleanup_close int root_fd =
      open(appc_layout_rootfs(l), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  /* (after root_fd: cleared, and what it staged removed, before it closes) */
  __attribute__((cleanup(deb_stage_clear))) struct deb_stage stage = {.root_fd = -1};

  if (n == 0 && !want_essential(opts))
    return appc_error_tag(err, EINVAL, "debian: no package named");
  if (opts->http == NULL)
    return appc_error_tag(err, EINVAL, "debian: no HTTP client");
  if (root_fd < 0)
    return appc_error_make(err, errno, "%s", appc_layout_rootfs(l));
  if (!deb_name_valid(j.arch))
    return appc_error_tag(err, EINVAL, "debian: \"%s\" is not an architecture name", j.arch);
  size_t mlen = strlen(j.mirror);
  while (mlen > 1 && j.mirror[mlen - 1] == '/')
    mlen--;
  if ((mirror = strndup(j.mirror, mlen)) == NULL)
    return appc_error_make(err, ENOMEM, "mirror");
  j.mirror = mirror;
  if ((work = appc_mkdtemp(opts->tmpdir, "actool-debian", &tmpdir)) == NULL)
    return appc_error_make(err, errno, "a temporary directory in %s", tmpdir);
  j.work = work;
  if (appc_trust_init(err) < 0 || prepare(&j, root_fd, names, n, &s) < 0)
    return -1;
  /* Everything is checked: the rootfs changes from here on, staged (what
   * cannot be checked, a full disk, may still stop the unpacking): until
   * the commit, a failure or a cancel leaves it as it was. */
  deb_stage_init(&stage, root_fd);
  if (s.merge_usr) {
    const char *dirs[6];
    if (deb_stage_merge_usr(&stage, dirs, merged_usr_dirs(j.arch, dirs), err) < 0)
      return -1;
  }
  for (size_t i = 0; i < s.n; i++) {
    if (appc_cb_cancelled(opts->cb))
      return appc_error_make(err, ECANCELED, "debian: unpacking");
    appc_cb_log(opts->cb, "unpacking %s %s", s.debs[i].pkg->name, s.debs[i].pkg->version);
    if (deb_unpack(&stage, s.debs[i].path, s.debs[i].pkg->name, &s.debs[i].list, err) < 0)
      return -1;
  }
  /* (no package can have made the dpkg database's directories anything
   * else, which would fail the records after the commit: deb_check) */
  if (deb_stage_commit(&stage, err) < 0 ||
      record(root_fd, &s.status_st, s.debs, s.n, opts->scripts, err) < 0)
    return -1;
  return output(out, s.debs, s.n, err);
}

int appc_layout_debian_install(struct appc_layout *l, char *const *names, size_t n,
                               const struct appc_debian_options *opts,
                               struct appc_debian_packages *out, appc_error_t *err)
{
  static const struct appc_abi_member members[] = {
      APPC_ABI_MEMBER(appc_debian_options, essential, 2),
  };

  if (out != NULL)
    memset(out, 0, sizeof *out);
  if (APPC_ABI_CHECK_MEMBERS(opts, appc_debian_options, APPC_DEBIAN_OPTIONS_VERSION, members, err) <
      0)
    return -1;
  /* No defaults: the caller's HTTP client is needed. */
  if (opts == NULL)
    return appc_error_tag(err, EINVAL, "debian: no options (struct appc_debian_options)");
  return install(l, names, n, opts, out, err);
}
