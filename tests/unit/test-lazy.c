/* SPDX-License-Identifier: Apache-2.0 */
/* Libraries bound at first use (common/lazy.h). */
#include "config.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>

#define APPC_LAZY_NO_REDIRECT
#include "common/lazy-archive.h"
#include "common/lazy-cap.h"
#include "common/lazy-crypto.h"
#include "common/lazy-curl.h"
#include "common/lazy-deflate.h"
#include "common/lazy-gpgme.h"
#include "common/lazy-isal.h"
#include "common/lazy-mhd.h"
#include "common/lazy-seccomp.h"
#include "common/lazy-xml2.h"
#include "tests/unit/test-util.h"
#include "common/macros.h"

/* This program links the libraries itself, so the table must hold the very
 * functions the dynamic linker bound here. */
static void test_every_library_binds(void **state)
{
  appc_error_t err = NULL;
  (void) state;

  assert_ok(appc_lazy_bind(&appc_lazy_archive_lib, &err), &err);
  assert_ptr_equal(appc_lazy_archive.archive_read_new, &archive_read_new);
  assert_ok(appc_lazy_bind(&appc_lazy_crypto_lib, &err), &err);
  assert_ptr_equal(appc_lazy_crypto.EVP_MD_CTX_new, &EVP_MD_CTX_new);
  assert_ok(appc_lazy_bind(&appc_lazy_curl_lib, &err), &err);
  assert_ptr_equal(appc_lazy_curl.curl_easy_init, &curl_easy_init);
  assert_ok(appc_lazy_bind(&appc_lazy_deflate_lib, &err), &err);
  assert_ptr_equal(appc_lazy_deflate.libdeflate_alloc_compressor, &libdeflate_alloc_compressor);
  assert_ok(appc_lazy_bind(&appc_lazy_gpgme_lib, &err), &err);
  assert_ptr_equal(appc_lazy_gpgme.gpgme_new, &gpgme_new);
  assert_ok(appc_lazy_bind(&appc_lazy_isal_lib, &err), &err);
  assert_ptr_equal(appc_lazy_isal.isal_inflate, &isal_inflate);
  assert_ok(appc_lazy_bind(&appc_lazy_mhd_lib, &err), &err);
  assert_ptr_equal(appc_lazy_mhd.MHD_start_daemon, &MHD_start_daemon);
  assert_ok(appc_lazy_bind(&appc_lazy_cap_lib, &err), &err);
  assert_ptr_equal(appc_lazy_cap.cap_from_name, &cap_from_name);
  assert_ok(appc_lazy_bind(&appc_lazy_seccomp_lib, &err), &err);
  assert_ptr_equal(appc_lazy_seccomp.seccomp_init, &seccomp_init);
  assert_ok(appc_lazy_bind(&appc_lazy_xml2_lib, &err), &err);
  assert_ptr_equal(appc_lazy_xml2.htmlReadMemory, &htmlReadMemory);
  /* A data symbol: the table holds the library's own variable (this program
   * has a copy of it, made at start-up), which holds the same function. */
  assert_ptr_equal(*appc_lazy_xml2.xmlFree, xmlFree);
}

/* Every pointer of every table is filled once bound. */
static void test_tables_complete(void **state)
{
  struct appc_lazy_lib *libs[] = {
      &appc_lazy_archive_lib, &appc_lazy_crypto_lib, &appc_lazy_curl_lib, &appc_lazy_deflate_lib,
      &appc_lazy_gpgme_lib,   &appc_lazy_isal_lib,   &appc_lazy_mhd_lib,  &appc_lazy_xml2_lib};
  appc_error_t err = NULL;
  (void) state;

  for (size_t i = 0; i < ARRAY_SIZE(libs); i++) {
    assert_ok(appc_lazy_bind(libs[i], &err), &err);
    assert_true(libs[i]->count > 0);
    void *handle = dlopen(libs[i]->soname, RTLD_NOLOAD | RTLD_LAZY);
    assert_non_null(handle);
    for (size_t k = 0; k < libs[i]->count; k++) {
      void *slot;
      memcpy(&slot, (char *) libs[i]->table + libs[i]->symbols[k].offset, sizeof slot);
      assert_non_null(slot);
      assert_ptr_equal(slot, dlsym(handle, libs[i]->symbols[k].name));
    }
    dlclose(handle);
  }
}

struct fake_table {
  void *first;
  void *second;
};

static void test_missing_library(void **state)
{
  static const struct appc_lazy_symbol syms[] = {{"first", offsetof(struct fake_table, first)}};
  struct fake_table table = {0};
  struct appc_lazy_lib lib = {.soname = "libappc-no-such-library.so.7",
                              .symbols = syms,
                              .count = 1,
                              .table = &table,
                              .lock = PTHREAD_MUTEX_INITIALIZER};
  appc_error_t err = NULL;
  (void) state;

  assert_int_equal(appc_lazy_bind(&lib, &err), -1);
  assert_non_null(strstr(err->msg, "cannot load libappc-no-such-library.so.7"));
  appc_error_release(&err);
  /* the failure is remembered, not retried, and reported again */
  assert_int_equal(appc_lazy_bind(&lib, &err), -1);
  assert_non_null(strstr(err->msg, "libappc-no-such-library.so.7"));
  appc_error_release(&err);
  assert_false(lib.ready);
  assert_null(table.first);
}

static void test_missing_symbol(void **state)
{
  static const struct appc_lazy_symbol syms[] = {
      {"EVP_MD_CTX_new", offsetof(struct fake_table, first)},
      {"EVP_no_such_function", offsetof(struct fake_table, second)}};
  struct fake_table table = {0};
  struct appc_lazy_lib lib = {.soname = APPC_SONAME_CRYPTO,
                              .symbols = syms,
                              .count = 2,
                              .table = &table,
                              .lock = PTHREAD_MUTEX_INITIALIZER};
  appc_error_t err = NULL;
  (void) state;

  assert_int_equal(appc_lazy_bind(&lib, &err), -1);
  assert_non_null(strstr(err->msg, APPC_SONAME_CRYPTO ": no symbol EVP_no_such_function"));
  appc_error_release(&err);
  assert_false(lib.ready);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_library_binds),
      cmocka_unit_test(test_tables_complete),
      cmocka_unit_test(test_missing_library),
      cmocka_unit_test(test_missing_symbol),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
