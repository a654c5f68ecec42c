/* SPDX-License-Identifier: Apache-2.0 */
/* What a long operation (import, render, build, validate, fetch, download)
 * tells its caller while it runs, and how the caller stops it.
 *
 * Every operation that can take long takes the same structure in the same
 * place of its options, with the one DATA pointer that each callback gets,
 * so a program writes its cancel flag, progress line and log once.  Every
 * member may be NULL.  The library may call them from several threads at
 * once (its worker threads: parallel downloads), so a callback that keeps
 * state (a progress line) locks it. */
#ifndef APPC_CALLBACKS_H
#define APPC_CALLBACKS_H

#include <stdbool.h>
#include <stdint.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

/* What a step reported through progress_op does with its bytes. */
enum appc_progress_op {
  APPC_PROGRESS_READ = 0, /* a file read: validated, imported, signed */
  APPC_PROGRESS_DOWNLOAD, /* a URL or a registry blob downloaded */
  APPC_PROGRESS_BUILD,    /* a layout's files read into an ACI */
  APPC_PROGRESS_RENDER,   /* an image's layer unpacked into a tree */
  APPC_PROGRESS_VERIFY,   /* a blob of the store checked against its ID */
  APPC_PROGRESS_EXPORT,   /* an image written out of the store */
  APPC_PROGRESS_CONVERT,  /* an OCI or Docker layer converted to an ACI */
};

struct appc_callbacks {
  void *data; /* passed to each callback */
  /* Polled while the operation runs; returning true abandons it: it cleans
   * up what it had begun and fails with ECANCELED.  This is how a command
   * line honours SIGINT without the library handling signals. */
  bool (*cancelled)(void *data);
  /* DONE of TOTAL units (bytes) of the step WHAT (a URL, a file) are
   * through; TOTAL is 0 when unknown.  Called often: a caller drawing a
   * progress line limits its own rate. */
  void (*progress)(void *data, const char *what, uint64_t done, uint64_t total);
  /* A line worth showing to a user who asked for details (--debug): what
   * was decided and why. */
  void (*log)(void *data, const char *msg);
  /* As progress, with what the step does (OP), so that a progress line can
   * say "Downloading", "Rendering" ...; when set, it is called instead of
   * progress. */
  void (*progress_op)(void *data, enum appc_progress_op op, const char *what, uint64_t done,
                      uint64_t total);
  /* A line worth showing to every user, asked for details or not: a wait
   * (for a lock another process holds), a fallback.  Rare: a few per
   * operation at most.  When NULL, the line goes to log. */
  void (*notice)(void *data, const char *msg);
  void *reserved[2]; /* zero; taken by members of later releases (<appc/appc.h>) */
};

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
