/* SPDX-License-Identifier: Apache-2.0 */
/* appc's arch labels as OCI spells them, both ways, and which entry of an
 * index a wanted platform takes. */
#include "config.h"

#include <string.h>

#include "common/macros.h"
#include "oci/internal.h"

/* appc's arch labels (spec/types.md, the table schema/types.c checks) as
 * OCI spells them (image-spec config.md: Go's GOARCH, and the variants of
 * image-index.md).  Where two appc labels give one OCI platform, the first
 * is the one an import labels with. */
static const struct oci_arch archs[] = {
    {"amd64", "amd64", NULL},   {"x86_64", "amd64", NULL},       {"i386", "386", NULL},
    {"aarch64", "arm64", NULL}, {"aarch64_be", "arm64be", NULL}, {"armv6l", "arm", "v6"},
    {"armv7l", "arm", "v7"},    {"armv7b", "armbe", "v7"},       {"arm", "arm", NULL},
    {"ppc64", "ppc64", NULL},   {"ppc64le", "ppc64le", NULL},    {"s390x", "s390x", NULL},
};

const struct oci_arch *oci_arch_of_appc(const char *appc)
{
  for (size_t i = 0; i < ARRAY_SIZE(archs); i++)
    if (strcmp(appc, archs[i].appc) == 0)
      return &archs[i];
  return NULL;
}

/* VARIANT as containerd's platform matcher reads it: arm without one is
 * v7 (what Docker took arm to mean before variants), arm64's only one is
 * v8, so an entry of arm64 and one of arm64/v8 are the same platform. */
static const char *normal_variant(const char *arch, const char *variant)
{
  if (strcmp(arch, "arm") == 0 && variant == NULL)
    return "v7";
  if (strcmp(arch, "arm64") == 0 && variant != NULL && strcmp(variant, "v8") == 0)
    return NULL;
  return variant;
}

static bool same(const char *a, const char *b)
{
  return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

const char *oci_appc_arch(const char *arch, const char *variant)
{
  if (arch == NULL)
    return NULL;
  variant = normal_variant(arch, variant);
  for (size_t i = 0; i < ARRAY_SIZE(archs); i++)
    if (strcmp(arch, archs[i].oci) == 0 && same(variant, normal_variant(arch, archs[i].variant)))
      return archs[i].appc;
  return arch; /* riscv64 and others appc has no name for stay as OCI spells them */
}

int oci_platform_split(const char *platform, char *arch, size_t size, const char **variant)
{
  const char *slash = strchr(platform, '/');
  size_t len = slash != NULL ? (size_t) (slash - platform) : strlen(platform);

  if (len >= size)
    return -1;
  memcpy(arch, platform, len);
  arch[len] = '\0';
  *variant = slash != NULL ? slash + 1 : NULL;
  return 0;
}

const char *oci_appc_arch_of(const char *platform)
{
  char arch[OCI_ARCH_MAX];
  const char *variant;

  if (oci_platform_split(platform, arch, sizeof arch, &variant) < 0)
    return platform;
  const char *appc = oci_appc_arch(arch, variant);
  /* ARCH lives in this frame: an arch appc has no name for is PLATFORM's */
  return appc == arch ? platform : appc;
}

bool oci_platform_match(const char *want, const char *arch, const char *variant)
{
  char want_arch[OCI_ARCH_MAX];
  const char *want_variant;

  if (arch == NULL)
    return true;
  if (oci_platform_split(want, want_arch, sizeof want_arch, &want_variant) < 0 ||
      strcmp(want_arch, arch) != 0)
    return false;
  return want_variant == NULL ||
         same(normal_variant(arch, want_variant), normal_variant(arch, variant));
}
