/* SPDX-License-Identifier: Apache-2.0 */
/* Libraries bound at first use (common/lazy.h): the entry points that
 * common/gen-lazy generates, their binding, and what they do when a
 * library cannot be loaded.  The tests run in order: the first ones stand
 * a missing library in for real ones, then put everything back. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <libdeflate.h>
#include <libxml/HTMLparser.h>
#include <microhttpd.h>

#include "common/lazy-table.h"
#include "common/macros.h"
#include "tests/unit/test-util.h"

#define NO_SUCH_LIBRARY "libappc-no-such-library.so.7"

/* The index of NAME in the generated table, failing the test without. */
static size_t symbol_index(const char *name)
{
  for (size_t i = 0; i < appc_lazy_nsymbols; i++)
    if (strcmp(appc_lazy_symbols[i].name, name) == 0)
      return i;
  fail_msg("%s is not in the table of functions bound at first use", name);
  return 0;
}

/* What the library state and slots of LIB were before a test changed them. */
struct saved_library {
  enum appc_lazy_library lib;
  struct appc_lazy_library_state state;
  void **slots;
};

static struct saved_library stand_in(enum appc_lazy_library lib, const char *soname)
{
  struct saved_library saved = {.lib = lib, .state = appc_lazy_libraries[lib]};

  assert_false(appc_lazy_libraries[lib].ready); /* nothing bound it yet */
  saved.slots = calloc(appc_lazy_nsymbols, sizeof *saved.slots);
  assert_non_null(saved.slots);
  memcpy(saved.slots, appc_lazy_slots, appc_lazy_nsymbols * sizeof *saved.slots);
  appc_lazy_libraries[lib].soname = soname;
  return saved;
}

static void put_back(struct saved_library *saved)
{
  for (size_t i = 0; i < appc_lazy_nsymbols; i++)
    if (appc_lazy_symbols[i].lib == saved->lib)
      appc_lazy_slots[i] = saved->slots[i];
  appc_lazy_libraries[saved->lib] = saved->state;
  free(saved->slots);
}

/* A call on a path that bound nothing, to a library that is missing: the
 * function fails as the library's own would, the program goes on, and an
 * explicit bind then reports the library by name. */
static void test_missing_library(void **state)
{
  struct saved_library xml2 = stand_in(APPC_LAZY_XML2, NO_SUCH_LIBRARY);
  struct saved_library curl = stand_in(APPC_LAZY_CURL, NO_SUCH_LIBRARY);
  appc_error_t err = NULL;
  (void) state;

  errno = 0;
  assert_null(htmlReadMemory("<p>x</p>", 8, NULL, NULL, 0));
  assert_int_equal(errno, ELIBACC);
  assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_FAILED_INIT);
  assert_null(curl_easy_init());
  curl_easy_cleanup(NULL); /* a void function returns */
  assert_int_equal(curl_easy_setopt(NULL, CURLOPT_VERBOSE, 1L), CURLE_FAILED_INIT);
  assert_ptr_equal(appc_lazy_slots[symbol_index("htmlReadMemory")],
                   appc_lazy_symbols[symbol_index("htmlReadMemory")].failure);

  assert_int_equal(appc_lazy_bind(APPC_LAZY_XML2, &err), -1);
  assert_non_null(strstr(err->msg, "cannot load " NO_SUCH_LIBRARY));
  appc_error_release(&err);
  /* remembered, not retried, and reported again */
  assert_int_equal(appc_lazy_bind(APPC_LAZY_CURL, &err), -1);
  assert_non_null(strstr(err->msg, "cannot load " NO_SUCH_LIBRARY));
  appc_error_release(&err);
  assert_int_equal(appc_lazy_bind(APPC_LAZY_CURL, &err), -1);
  appc_error_release(&err);

  put_back(&xml2);
  put_back(&curl);
}

/* A library that loads but lacks a function: none of its slots leads
 * into it, and the bind names the function. */
static void test_missing_symbol(void **state)
{
  struct saved_library mhd = stand_in(APPC_LAZY_MHD, APPC_SONAME_CRYPTO);
  appc_error_t err = NULL;
  (void) state;

  assert_int_equal(appc_lazy_bind(APPC_LAZY_MHD, &err), -1);
  assert_non_null(strstr(err->msg, "cannot load " APPC_SONAME_CRYPTO ": " APPC_SONAME_CRYPTO
                                   ": no symbol MHD_"));
  appc_error_release(&err);
  for (size_t i = 0; i < appc_lazy_nsymbols; i++)
    if (appc_lazy_symbols[i].lib == APPC_LAZY_MHD)
      assert_ptr_equal(appc_lazy_slots[i], appc_lazy_symbols[i].failure);
  assert_null(
      MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, NULL, NULL, MHD_OPTION_END));
  put_back(&mhd);
}

static void *crc_of_abc(void *arg)
{
  (void) arg;
  return (void *) (uintptr_t) libdeflate_crc32(0, "abc", 3);
}

/* Threads that all make the first call at once all reach the library. */
static void test_first_calls_at_once(void **state)
{
  pthread_t threads[8];
  (void) state;

  assert_false(appc_lazy_libraries[APPC_LAZY_DEFLATE].ready);
  for (size_t i = 0; i < ARRAY_SIZE(threads); i++)
    assert_int_equal(pthread_create(&threads[i], NULL, crc_of_abc, NULL), 0);
  for (size_t i = 0; i < ARRAY_SIZE(threads); i++) {
    void *crc;
    assert_int_equal(pthread_join(threads[i], &crc), 0);
    assert_int_equal((uintptr_t) crc, 0x352441c2u);
  }
  assert_true(appc_lazy_libraries[APPC_LAZY_DEFLATE].ready);
}

/* Every library binds, every slot then holds the library's own function,
 * and the names the code calls are the entry points, not the library's. */
static void test_every_library_binds(void **state)
{
  size_t per_library[APPC_LAZY_NLIBS] = {0};
  appc_error_t err = NULL;
  (void) state;

  for (int lib = 0; lib < APPC_LAZY_NLIBS; lib++)
    assert_ok(appc_lazy_bind(lib, &err), &err);
  for (size_t i = 0; i < appc_lazy_nsymbols; i++) {
    const struct appc_lazy_symbol *s = &appc_lazy_symbols[i];
    void *handle = dlopen(appc_lazy_libraries[s->lib].soname, RTLD_NOLOAD | RTLD_LAZY);

    assert_non_null(handle);
    assert_ptr_equal(appc_lazy_slots[i], dlsym(handle, s->name));
    dlclose(handle);
    per_library[s->lib]++;
  }
  for (int lib = 0; lib < APPC_LAZY_NLIBS; lib++)
    assert_true(per_library[lib] > 0);
  assert_ptr_not_equal((void *) &curl_easy_init, appc_lazy_slots[symbol_index("curl_easy_init")]);
  assert_string_equal(curl_easy_strerror(CURLE_OK), "No error");
  assert_int_equal(appc_lazy_bind(APPC_LAZY_NLIBS, &err), -1);
  appc_error_release(&err);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_missing_library),
      cmocka_unit_test(test_missing_symbol),
      cmocka_unit_test(test_first_calls_at_once),
      cmocka_unit_test(test_every_library_binds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
