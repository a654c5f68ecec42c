/* SPDX-License-Identifier: Apache-2.0 */
/* libappc containerfile: an ACI built from a Containerfile (Dockerfile)
 * through the layout steps (<appc/layout.h>), each step's result cached in
 * the store (docs/authoring.md, "Containerfiles").  Nothing here prints or
 * exits. */
#ifndef APPC_CONTAINERFILE_H
#define APPC_CONTAINERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include <appc/aci.h>
#include <appc/error.h>
#include <appc/store.h>
#include <appc/types.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

#define APPC_CONTAINERFILE_OPTIONS_VERSION 1
struct appc_containerfile_options {
  unsigned version; /* 0, or APPC_CONTAINERFILE_OPTIONS_VERSION (<appc/appc.h>) */
  const char *name; /* the image's name; NULL: the context directory's name */
  const struct appc_kv_list *build_args; /* --build-arg NAME=VALUE; may be NULL */
  bool no_cache;                         /* run every step, use no cached one */
  /* FROM's IMAGE (anything but "scratch") to an image ID of the store,
   * fetched as the caller's policy says (trust, insecure options). */
  int (*resolve)(void *data, struct appc_store *s, const char *image,
                 char id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err);
  void *resolve_data;
  /* One line per step ("STEP 2/7: RUN make", "--> cached"); may be NULL. */
  void (*progress)(void *data, const char *line);
  void (*notify)(void *data, bool warn, const char *msg); /* the executor's notes; may be NULL */
  void *data;                                             /* for progress and notify */
  const struct appc_build_options *build; /* how OUT is written (compression...); may be NULL */
  void *reserved[4];                      /* zero; taken by members of later releases */
};

/* Build the Containerfile FILE with the build context CONTEXT (a directory:
 * COPY and ADD sources are paths in it, .containerignore or .dockerignore
 * there leaves files out) into the ACI OUT, and its image ID.  FROM, RUN,
 * COPY, ADD (local files; local tar archives are unpacked), ENV, ARG,
 * WORKDIR, USER, ENTRYPOINT, CMD, EXPOSE, VOLUME, LABEL and MAINTAINER are
 * done; anything else is refused with its line.  Needs root (RUN runs
 * under the executor).  Errors name FILE:LINE. */
int appc_containerfile_build(struct appc_store *s, const char *file, const char *context,
                             const char *out, const struct appc_containerfile_options *o,
                             char image_id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
