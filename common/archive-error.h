/* SPDX-License-Identifier: Apache-2.0 */
/* libarchive's failures as appc_error_t. */
#ifndef APPC_COMMON_ARCHIVE_ERROR_H
#define APPC_COMMON_ARCHIVE_ERROR_H

#include "appc/error.h"

struct archive;

/* A failure of libarchive's A with WHAT (a file, an archive): its message,
 * and its errno where a system call's lies behind it; where none does (a
 * truncated archive, an unknown format) archive_errno() is -1 or a stand-in
 * whose strerror misleads ("Unknown error -1").  Returns -1. */
int appc_archive_fail(struct archive *a, const char *what, appc_error_t *err);
/* A's error message, or a stand-in where libarchive gives none (NULL: a
 * reader's callback that failed without a word, for one): never NULL, for
 * a "%s". */
const char *appc_archive_message(struct archive *a);

#endif
