/* SPDX-License-Identifier: Apache-2.0 */
/* Shared pieces of the fuzz targets (tests/fuzz/fuzz-*.c).
 *
 * Each target defines LLVMFuzzerTestOneInput and is linked either with
 * libFuzzer (clang -fsanitize=fuzzer, `scripts/fuzz`) or with standalone.c,
 * which replays files through it (`make check`: the seeds and every
 * regression input, under GCC's plain and sanitizer builds).
 *
 * A target checks properties, not only the absence of crashes: a property
 * that does not hold calls fuzz_fail(), which aborts so that libFuzzer
 * records the input. */
#ifndef APPC_TESTS_FUZZ_FUZZ_H
#define APPC_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Print a message and abort: a property the target asserts does not hold. */
void fuzz_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* DATA as a NUL-terminated string (malloc'ed; never NULL). */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* A memfd holding DATA, rewound; its path "/proc/self/fd/N" in PATH. */
int fuzz_memfd(const uint8_t *data, size_t size, char path[64]);

/* A private directory for the whole run (created once, removed at exit). */
const char *fuzz_scratch_dir(void);

/* Write DATA to the file DIR/NAME, replacing it. */
void fuzz_write_file(const char *dir, const char *name, const uint8_t *data, size_t size);

/* Remove everything inside DIR (not DIR itself). */
void fuzz_empty_dir(const char *dir);

/* How many entries DIR holds, but "." and "..". */
int fuzz_count_entries(const char *dir);

/* Split DATA at each SEP into at most MAX NUL-terminated pieces, copied
 * into one allocation *BUF (freed by the caller); returns the count. */
size_t fuzz_split(const uint8_t *data, size_t size, char sep, char **pieces, size_t max,
                  char **buf);

/* Every entry of M (found in WHAT) has one of the two discovery rels, a
 * prefix and a URL. */
struct appc_discovery_metas;
void fuzz_check_metas(const struct appc_discovery_metas *m, const char *what);

#endif
