/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <string.h>

#include "common/kv.h"

const char *appc_kv_get(const struct appc_kv_list *kv, const char *name)
{
  for (size_t i = 0; kv != NULL && i < kv->len; i++)
    if (kv->items[i].name != NULL && strcmp(kv->items[i].name, name) == 0)
      return kv->items[i].value;
  return NULL;
}
