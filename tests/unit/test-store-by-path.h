/* SPDX-License-Identifier: Apache-2.0 */
/* The trust API takes an opened store; the trust tests name their stores by
 * path.  store_at(DIR) opens (creating if need be) the store at DIR, once
 * per path, and keeps it open until the program exits. */
#ifndef APPC_TESTS_TEST_STORE_BY_PATH_H
#define APPC_TESTS_TEST_STORE_BY_PATH_H

#include <stdlib.h>
#include <string.h>

#include "appc/store.h"
#include "tests/unit/test-util.h"

static struct {
  char *path;
  struct appc_store *store;
} opened_stores[256];
static size_t n_opened_stores;

static void close_opened_stores(void)
{
  for (size_t i = 0; i < n_opened_stores; i++) {
    appc_store_close(opened_stores[i].store);
    free(opened_stores[i].path);
  }
  n_opened_stores = 0;
}

static inline struct appc_store *store_at(const char *dir)
{
  appc_error_t err = NULL;
  struct appc_store *s = NULL;

  for (size_t i = 0; i < n_opened_stores; i++)
    if (strcmp(opened_stores[i].path, dir) == 0)
      return opened_stores[i].store;
  assert_true(n_opened_stores < sizeof opened_stores / sizeof opened_stores[0]);
  assert_ok(appc_store_open(&s, dir, &err), &err);
  if (n_opened_stores == 0)
    atexit(close_opened_stores);
  opened_stores[n_opened_stores].path = strdup(dir);
  opened_stores[n_opened_stores++].store = s;
  return s;
}

#endif
