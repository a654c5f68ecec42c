/* SPDX-License-Identifier: Apache-2.0 */
/* The store's image records (images/ID/info.json), which anything with write
 * access to the store directory can damage.  The input is one record, put
 * in a store beside an intact one.  Properties: listing reports exactly one
 * damaged record or lists it (with its own ID); the intact image is always
 * listed; lookups by name, ID and prefix answer or fail, never crash. */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "store/private.h"
#include "appc/store.h"
#include "tests/fuzz/fuzz.h"

#define ID_FUZZ                                                                                    \
  "sha512-"                                                                                        \
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
  "aa"                                                                                             \
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_GOOD                                                                                    \
  "sha512-"                                                                                        \
  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" \
  "bb"                                                                                             \
  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static struct appc_store *store;
static char fuzz_dir[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  static const char good[] = "{\"id\":\"" ID_GOOD "\",\"name\":\"example.com/good\","
                             "\"labels\":[{\"name\":\"version\",\"value\":\"1\"}],"
                             "\"size\":1,\"importTime\":1}";
  cleanup_error appc_error_t err = NULL;
  char dir[2048], good_dir[4096];

  (void) argc;
  (void) argv;
  snprintf(dir, sizeof dir, "%.1000s/store", fuzz_scratch_dir());
  if (appc_store_open(&store, dir, &err) < 0)
    fuzz_fail("opening the store: %s", err->msg);
  snprintf(good_dir, sizeof good_dir, "%s/images/%s", dir, ID_GOOD);
  snprintf(fuzz_dir, sizeof fuzz_dir, "%s/images/%s", dir, ID_FUZZ);
  if (mkdir(good_dir, 0755) < 0 || mkdir(fuzz_dir, 0755) < 0)
    fuzz_fail("mkdir in %s: %m", dir);
  fuzz_write_file(good_dir, "info.json", (const uint8_t *) good, strlen(good));
  return 0;
}

static void count_problem(const char *msg, void *data)
{
  (void) msg;
  (*(unsigned *) data)++;
}

static void lookup(const char *spec)
{
  cleanup_error appc_error_t err = NULL;
  struct appc_store_image img;

  if (appc_store_lookup(store, spec, &img, &err) == 0)
    appc_store_image_clear(&img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cleanup_error appc_error_t err = NULL;
  struct appc_store_image *imgs = NULL;
  size_t n = 0;
  unsigned problems = 0;
  bool good = false, fuzzed = false;

  fuzz_write_file(fuzz_dir, "info.json", data, size);
  if (appc_store_list(store, count_problem, &problems, &imgs, &n, &err) < 0)
    fuzz_fail("listing failed: %s", err->msg);
  for (size_t i = 0; i < n; i++) {
    if (strcmp(imgs[i].id, ID_GOOD) == 0)
      good = true;
    else if (strcmp(imgs[i].id, ID_FUZZ) == 0)
      fuzzed = true;
    else
      fuzz_fail("a record listed with ID %s", imgs[i].id);
    if (imgs[i].name == NULL)
      fuzz_fail("a record listed without a name");
  }
  if (!good)
    fuzz_fail("one damaged record hid the intact one");
  if (fuzzed + problems != 1)
    fuzz_fail("the record was listed %d times and reported %u times", fuzzed, problems);
  appc_store_images_free(imgs, n);

  lookup(ID_FUZZ);
  lookup("sha512-aaaaaaaaaaaa");
  lookup("example.com/good,version=1");
  if (fuzzed && size < 4096) {
    /* Find the fuzzed record by its own name, whatever it holds. */
    cleanup_free char *spec = NULL;
    struct appc_store_image img;
    appc_store_read_record(store, ID_FUZZ, &img, &err);
    if (err == NULL) {
      spec = strdup(img.name);
      appc_store_image_clear(&img);
      lookup(spec);
    }
  }
  return 0;
}
