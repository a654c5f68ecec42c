/* SPDX-License-Identifier: Apache-2.0 */
/* Rewriting an ACI with a new manifest (patch-manifest).
 *
 * Entries are streamed from the input's tar reader to a new tar writer:
 * headers are copied as they are and data blocks passed through, nothing is
 * unpacked to disk.  The input is checked against the same archive rules as
 * validation on the way, so an invalid image is never re-emitted.  The output
 * goes to a temporary file renamed over OUT at the end, which is what makes
 * IN == OUT safe.  A manifest made from IN's own is made when the copy
 * reaches it, so that IN is read once (it may be a pipe). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <archive.h>
#include <archive_entry.h>

#include "aci/internal.h"
#include "common/abi.h"
#include "common/cleanup.h"
#include "common/lazy.h"

struct rewrite_ctx {
  struct appc_tar_reader *r;
  struct appc_tar_writer *w;
  const char *manifest; /* the new one; NULL until EDIT made it */
  size_t manifest_len;
  appc_manifest_edit_fn edit;
  void *edit_data;
  char *edited; /* EDIT's manifest, owned */
  const struct appc_callbacks *cb;
};

/* The new manifest, from the old one R is at. */
static int edit_manifest(struct rewrite_ctx *c, struct archive_entry *e, appc_error_t *err)
{
  cleanup_free char *old = NULL;
  size_t len = 0;

  if (appc_aci_read_manifest_entry(c->r, e, &old, &len, err) < 0 ||
      c->edit(c->edit_data, old, len, &c->edited, &c->manifest_len, err) < 0)
    return -1;
  c->manifest = c->edited;
  return 0;
}

static int copy_entry(struct rewrite_ctx *c, struct appc_aci_checker *checker,
                      struct archive_entry *e, appc_error_t *err)
{
  enum appc_entry_role role;
  cleanup_free char *canon = NULL;

  if (appc_aci_check_entry(checker, e, &role, &canon, err) < 0)
    return -1;
  if (role == APPC_ENTRY_MANIFEST) {
    if (c->edit != NULL && edit_manifest(c, e, err) < 0)
      return -1;
    /* Keep the entry's metadata (mode, owner, time), replace the bytes. */
    archive_entry_sparse_clear(e);
    archive_entry_set_size(e, (la_int64_t) c->manifest_len);
    if (appc_tar_writer_header(c->w, e, err) < 0)
      return -1;
    return appc_tar_writer_data(c->w, c->manifest, c->manifest_len, err);
  }
  if (appc_tar_writer_header(c->w, e, err) < 0)
    return -1;
  return appc_tar_writer_copy(c->w, appc_tar_reader_archive(c->r), e, canon, c->cb, err);
}

static int copy_entries(struct rewrite_ctx *c, const char *in, appc_error_t *err)
{
  struct appc_aci_checker checker = {0};
  struct archive_entry *e;
  int ret;

  while ((ret = appc_tar_reader_next(c->r, &e, err)) > 0) {
    if (copy_entry(c, &checker, e, err) < 0)
      break;
  }
  if (ret == 0 && *err == NULL)
    appc_aci_check_end(&checker, err);
  /* To the end of the file, as validation reads it: the compressed
   * stream's trailer (its CRC and length) checked, so that a damaged
   * input is refused rather than re-emitted with a fresh one. */
  char unused[APPC_IMAGE_ID_LEN + 1];
  if (ret == 0 && *err == NULL)
    appc_tar_reader_finish(c->r, unused, NULL, err);
  appc_aci_checker_clear(&checker);
  if (*err != NULL)
    return appc_error_prefix(err, "%s", in);
  return 0;
}

static int rewrite(struct rewrite_ctx *c, const char *in, const char *out, struct appc_outfile *of,
                   const struct appc_build_options *opts, char image_id[], appc_error_t *err)
{
  if (appc_tar_reader_open(&c->r, in, false, err) < 0)
    return appc_error_prefix(err, "%s", in);
  if (appc_outfile_open(of, out, opts, in, err) < 0)
    return -1;
  if (appc_tar_writer_new(&c->w, of->tmp.fd, out, opts, APPC_TAR_WRITER_COPY, err) < 0 ||
      copy_entries(c, in, err) < 0 || appc_tar_writer_close(c->w, image_id, err) < 0)
    return -1;
  return appc_outfile_commit(of, err);
}

static int rewrite_with(struct rewrite_ctx *c, const char *in, const char *out,
                        const struct appc_build_options *opts, char image_id[], appc_error_t *err)
{
  if (APPC_ABI_CHECK(opts, appc_build_options, APPC_BUILD_OPTIONS_VERSION, err) < 0)
    return -1;
  if (opts == NULL)
    opts = &appc_build_defaults;
  struct appc_outfile of = APPC_OUTFILE_INIT;
  c->cb = opts->cb;
  int r = rewrite(c, in, out, &of, opts, image_id, err);
  appc_tar_writer_free(c->w);
  appc_tar_reader_free(c->r);
  appc_outfile_abort(&of);
  free(c->edited);
  return r;
}

int appc_aci_rewrite_manifest(const char *in, const char *out, const char *manifest,
                              size_t manifest_len, const struct appc_build_options *opts,
                              char image_id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err)
{
  struct rewrite_ctx c = {.manifest = manifest, .manifest_len = manifest_len};
  return rewrite_with(&c, in, out, opts, image_id, err);
}

int appc_aci_rewrite_manifest_edit(const char *in, const char *out, appc_manifest_edit_fn edit,
                                   void *data, const struct appc_build_options *opts,
                                   char image_id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err)
{
  struct rewrite_ctx c = {.edit = edit, .edit_data = data};
  return rewrite_with(&c, in, out, opts, image_id, err);
}
