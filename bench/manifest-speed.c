/* SPDX-License-Identifier: Apache-2.0 */
/* In-process cost of parsing and validating one manifest: reads FILE once,
 * then parses it N times and prints the mean in microseconds.  Separates the
 * work actool does from the cost of starting a process on this machine. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "actool/actool.h"
#include "common/cleanup.h"
#include "appc/schema.h"

static double now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
  cleanup_free char *json = NULL;
  cleanup_error appc_error_t err = NULL;
  size_t len = 0;
  long n = argc > 2 ? strtol(argv[2], NULL, 10) : 10000;
  double start;

  if (argc < 2 || n <= 0) {
    fprintf(stderr, "usage: manifest-speed MANIFEST [ITERATIONS]\n");
    return 2;
  }
  if (actool_read_manifest_file(argv[1], &json, &len, &err) < 0) {
    fprintf(stderr, "%s\n", err->msg);
    return 1;
  }
  start = now_seconds();
  for (long i = 0; i < n; i++) {
    struct appc_image_manifest *m = NULL;
    if (appc_image_manifest_parse(json, len, &m, &err) < 0) {
      fprintf(stderr, "%s\n", err->msg);
      return 1;
    }
    appc_image_manifest_free(m);
  }
  printf("%.2f\n", (now_seconds() - start) / (double) n * 1e6);
  return 0;
}
