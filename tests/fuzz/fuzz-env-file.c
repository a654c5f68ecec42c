/* SPDX-License-Identifier: Apache-2.0 */
/* `run --env-file` files (systemd's EnvironmentFile= format).  Every entry
 * parsed has a non-empty name without '=' (it becomes NAME=VALUE in an
 * environment), and lines that are skipped are reported, never fatal. */
#include "config.h"

#include <string.h>

#include "ace/internal.h"
#include "common/cleanup.h"
#include "schema/json.h"
#include "tests/fuzz/fuzz.h"

static void count_note(void *data, enum ace_note_level level, const char *msg)
{
  (void) level;
  if (msg == NULL || msg[0] == '\0')
    fuzz_fail("an empty note");
  (*(unsigned *) data)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cleanup_error appc_error_t err = NULL;
  struct appc_kv_list env = {0};
  unsigned notes = 0;
  const struct ace_notes n = {count_note, &notes};
  char path[4096];

  fuzz_write_file(fuzz_scratch_dir(), "env", data, size);
  snprintf(path, sizeof path, "%s/env", fuzz_scratch_dir());
  if (ace_env_file_parse(path, &env, &n, &err) == 0) {
    for (size_t i = 0; i < env.len; i++) {
      const char *name = env.items[i].name;
      if (name == NULL || name[0] == '\0' || strchr(name, '=') != NULL)
        fuzz_fail("entry %zu has the name \"%s\"", i, name ? name : "(null)");
      if (env.items[i].value == NULL)
        fuzz_fail("entry %s has no value", name);
    }
  } else if (memchr(data, '\0', size) == NULL && memchr(data, '"', size) == NULL &&
             memchr(data, '\'', size) == NULL && size <= 1024) {
    /* Only an open quote, a NUL byte or a size limit may fail a file. */
    fuzz_fail("a file without quotes or NUL bytes failed: %s", err->msg);
  }
  appc_kv_list_clear(&env);
  return 0;
}
