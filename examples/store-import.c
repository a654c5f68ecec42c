/* SPDX-License-Identifier: Apache-2.0 */
/* store-import: an ACI into an image store, through libappc.
 *
 *   cc -o store-import store-import.c $(pkg-config --cflags --libs libappc)
 *   ./store-import IMAGE.aci STORE-DIR
 *
 * Imports the image (one pass that decompresses, hashes and validates it
 * while it is stored), then looks it up again by the name in its manifest
 * and lists the store.  STORE-DIR is created when missing; `actool
 * --dir=STORE-DIR image list` shows the same store. */
#include <stdbool.h>
#include <stdio.h>

#include <appc/appc.h>

static int fail(const char *what, appc_error_t *err)
{
  fprintf(stderr, "store-import: %s: %s\n", what, (*err)->msg);
  appc_error_release(err);
  return 1;
}

static void print_image(const char *prefix, const struct appc_store_image *img)
{
  printf("%s%s %s (%llu bytes)\n", prefix, img->id, img->name, img->size);
}

static int list_store(struct appc_store *s, appc_error_t *err)
{
  struct appc_store_image *imgs = NULL;
  size_t n = 0;

  if (appc_store_list(s, NULL, NULL, &imgs, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    print_image("in store: ", &imgs[i]);
  appc_store_images_free(imgs, n);
  return 0;
}

int main(int argc, char **argv)
{
  appc_error_t err = NULL;
  struct appc_store *s = NULL;
  struct appc_store_image imported = {0}, found = {0};
  bool already = false;
  int status = 1;

  if (argc != 3) {
    fprintf(stderr, "usage: store-import IMAGE.aci STORE-DIR\n");
    return 2;
  }
  if (appc_store_open(&s, argv[2], &err) < 0) {
    status = fail(argv[2], &err);
    goto out;
  }
  if (appc_store_import(s, argv[1], NULL, &imported, &already, &err) < 0) {
    status = fail("import", &err);
    goto out;
  }
  printf("image ID: %s\n", imported.id);
  printf("%s\n", already ? "already in the store" : "imported");
  /* Found again by name, as `actool run NAME` would. */
  if (appc_store_lookup(s, imported.name, &found, &err) < 0) {
    status = fail(imported.name, &err);
    goto out;
  }
  print_image("by name: ", &found);
  if (list_store(s, &err) < 0) {
    status = fail("list", &err);
    goto out;
  }
  status = 0;
out:
  appc_store_image_clear(&imported);
  appc_store_image_clear(&found);
  appc_store_close(s);
  return status;
}
