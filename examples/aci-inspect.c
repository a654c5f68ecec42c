/* SPDX-License-Identifier: Apache-2.0 */
/* aci-inspect: what an ACI holds, read through libappc.
 *
 *   cc -o aci-inspect aci-inspect.c $(pkg-config --cflags --libs libappc)
 *   ./aci-inspect IMAGE.aci
 *
 * Reads the manifest alone first (no validation: the fast path that
 * `actool cat-manifest` takes), checks that it is a valid image manifest,
 * then validates the whole archive in one pass, which yields the image ID
 * (the SHA-512 of the uncompressed tar), and prints what it found. */
#include <stdio.h>
#include <stdlib.h>

#include <appc/appc.h>

/* Print the error, release it, and give the exit status for a failure. */
static int fail(const char *what, appc_error_t *err)
{
  fprintf(stderr, "aci-inspect: %s: %s\n", what, (*err)->msg);
  appc_error_release(err);
  return 1;
}

static void print_app(const struct appc_app *app)
{
  printf("exec:");
  for (size_t i = 0; i < app->exec.len; i++)
    printf(" %s", app->exec.items[i]);
  printf("\nuser: %s\ngroup: %s\n", app->user, app->group);
}

static void print_manifest(const struct appc_image_manifest *m)
{
  printf("name: %s\n", m->name);
  for (size_t i = 0; i < m->labels.len; i++)
    printf("label: %s=%s\n", m->labels.items[i].name, m->labels.items[i].value);
  for (size_t i = 0; i < m->n_dependencies; i++)
    printf("dependency: %s\n", m->dependencies[i].image_name);
  if (m->app != NULL)
    print_app(m->app);
}

int main(int argc, char **argv)
{
  appc_error_t err = NULL;
  struct appc_aci_info info = {0};
  struct appc_image_manifest *parsed = NULL;
  char *json = NULL;
  size_t len = 0;
  int status = 1;

  if (argc != 2) {
    fprintf(stderr, "usage: aci-inspect IMAGE.aci\n");
    return 2;
  }
  /* The manifest as stored, checked on its own against the schema. */
  if (appc_aci_read_manifest(argv[1], &json, &len, &err) < 0) {
    status = fail("reading the manifest", &err);
    goto out;
  }
  if (appc_image_manifest_parse(json, len, &parsed, &err) < 0) {
    status = fail("the manifest", &err);
    goto out;
  }
  /* The whole archive: every rule of the spec's image format. */
  if (appc_aci_validate(argv[1], &info, &err) < 0) {
    status = fail("validating", &err);
    goto out;
  }
  printf("libappc %s\n", appc_version());
  printf("image ID: %s\n", info.image_id);
  printf("compression: %s\n", appc_compression_name(info.compression));
  printf("uncompressed size: %llu\n", info.uncompressed_size);
  print_manifest(info.manifest);
  status = 0;
out:
  appc_aci_info_clear(&info);
  appc_image_manifest_free(parsed);
  free(json);
  return status;
}
