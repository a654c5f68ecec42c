/* SPDX-License-Identifier: Apache-2.0 */
/* Scope-bound cleanup, in the style of crun and systemd: a variable declared
 * with one of these attributes is released when it goes out of scope, so every
 * function has one obvious owner for each resource and no exit path leaks. */
#ifndef APPC_COMMON_CLEANUP_H
#define APPC_COMMON_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void appc_cleanup_freep(void *p)
{
  free(*(void **) p);
}

/* Close *FD if it is open, and mark it closed. */
static inline void appc_cleanup_closep(int *fd)
{
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

static inline void appc_cleanup_fclosep(FILE **f)
{
  if (*f != NULL)
    fclose(*f);
}

#define cleanup_free __attribute__((cleanup(appc_cleanup_freep)))
#define cleanup_close __attribute__((cleanup(appc_cleanup_closep)))
#define cleanup_fclose __attribute__((cleanup(appc_cleanup_fclosep)))

/* Hand ownership out of a cleanup-managed variable. */
#define steal_pointer(pp)                                                                          \
  ({                                                                                               \
    __typeof__(*(pp)) _tmp = *(pp);                                                                \
    *(pp) = NULL;                                                                                  \
    _tmp;                                                                                          \
  })

#define steal_fd(fdp)                                                                              \
  ({                                                                                               \
    int _tmp = *(fdp);                                                                             \
    *(fdp) = -1;                                                                                   \
    _tmp;                                                                                          \
  })

#endif
