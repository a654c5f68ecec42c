/* SPDX-License-Identifier: Apache-2.0 */
/* The records of a pax extended header ('x'), read as its bytes stream by.
 *
 * The tar reader (aci/reader.c) notes every block that would be an
 * extension header; for an 'x' one it feeds the body that follows to a
 * scan, which keeps no more than a few bytes of it: which records give the
 * entry a name or a link target, whether such a value is empty or holds a
 * NUL, and whether the GNU sparse records mark the entry as Go's
 * archive/tar recognises it.  The records are cut as libarchive's
 * pax_header() cuts them (3.6): "LENGTH KEY=VALUE\n", LENGTH in decimal
 * counting the whole record, the key up to the first '=', the value up to
 * the record's last byte, which must be a newline.  A body libarchive
 * would refuse is reported as not read. */
#include "config.h"

#include <string.h>

#include "aci/internal.h"

/* libarchive's limits: a special header's body at most 1 MiB (more is a
 * fatal error), a record's length at most six digits. */
#define BODY_MAX (1024 * 1024)
#define RECORD_MAX 999999

enum { ST_LENGTH, ST_KEY, ST_VALUE, ST_BAD };

static const struct {
  enum appc_pax_key key;
  const char *name;
} keys[] = {
    {APPC_PAX_PATH, "path"},
    {APPC_PAX_LINKPATH, "linkpath"},
    {APPC_PAX_SPARSE_NAME, "GNU.sparse.name"},
    {APPC_PAX_SPARSE_MAJOR, "GNU.sparse.major"},
    {APPC_PAX_SPARSE_MINOR, "GNU.sparse.minor"},
    {APPC_PAX_SPARSE_MAP, "GNU.sparse.map"},
};

bool appc_tar_special_size(const unsigned char block[512], uint64_t *size)
{
  const unsigned char *p = block + 124, *end = block + 136;
  uint64_t v = 0;

  /* tar_atol(): base-256 when the top bit is set (no writer uses it for a
   * header this small: not read), else octal after blanks, up to the
   * first other byte.  A '-' is a negative size, fatal to libarchive (but
   * for -0): not read either. */
  if (*p & 0x80)
    return false;
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  if (p < end && *p == '-')
    return false;
  for (; p < end && *p >= '0' && *p <= '7'; p++) {
    v = v * 8 + (uint64_t) (*p - '0');
    if (v > BODY_MAX)
      return false;
  }
  *size = v;
  return true;
}

void appc_pax_scan_start(struct appc_pax_scan *s)
{
  *s = (struct appc_pax_scan){.state = ST_LENGTH};
}

static bool is_name_key(enum appc_pax_key key)
{
  return key == APPC_PAX_PATH || key == APPC_PAX_LINKPATH || key == APPC_PAX_SPARSE_NAME;
}

/* Go's archive/tar compares these values as strings: "1" is 1, "01" is not. */
static enum appc_pax_value value_of(const struct appc_pax_scan *s)
{
  if (s->value_len == 1 && s->value[0] == '0')
    return APPC_PAX_VALUE_0;
  if (s->value_len == 1 && s->value[0] == '1')
    return APPC_PAX_VALUE_1;
  return APPC_PAX_VALUE_OTHER;
}

/* A record read whole: note what it says (of a key given twice, the last
 * value is the one every reader takes). */
static void record_end(struct appc_pax_scan *s)
{
  struct appc_pax_result *res = &s->result;

  if (is_name_key(s->key)) {
    res->has[s->key] = true;
    if (res->bad == APPC_PAX_OTHER && (s->value_len == 0 || s->value_nul)) {
      res->bad = s->key;
      res->bad_nul = s->value_nul;
    }
  } else if (s->key == APPC_PAX_SPARSE_MAJOR) {
    s->major = value_of(s);
  } else if (s->key == APPC_PAX_SPARSE_MINOR) {
    s->minor = value_of(s);
  } else if (s->key == APPC_PAX_SPARSE_MAP) {
    s->map = s->value_len > 0;
  }
  s->state = ST_LENGTH;
  s->length = s->used = s->key_len = s->value_len = 0;
  s->value_nul = false;
  s->key = APPC_PAX_OTHER;
}

static void length_byte(struct appc_pax_scan *s, unsigned char c)
{
  s->used++;
  if (c == ' ')
    /* the newline must come after the key's first byte and its '=' */
    s->state = s->length > s->used + 1 ? ST_KEY : ST_BAD;
  else if (c >= '0' && c <= '9' && (s->length = s->length * 10 + (c - '0')) <= RECORD_MAX)
    return;
  else
    s->state = ST_BAD;
}

static void key_end(struct appc_pax_scan *s)
{
  s->key = APPC_PAX_OTHER;
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (s->key_len == strlen(keys[i].name) && memcmp(s->key_buf, keys[i].name, s->key_len) == 0)
      s->key = keys[i].key;
  s->state = ST_VALUE;
}

/* libarchive reads the key up to a '=' or a NUL, within the record: an
 * empty key, a NUL or the record's end before the '=' is an error. */
static void key_byte(struct appc_pax_scan *s, unsigned char c)
{
  bool last = s->used == s->length - 1;

  s->used++;
  if (c == '=' && s->key_len > 0 && !last)
    key_end(s);
  else if (c == '=' || c == '\0' || last)
    s->state = ST_BAD;
  else if (s->key_len++ < sizeof s->key_buf)
    s->key_buf[s->key_len - 1] = (char) c;
}

/* Up to N bytes of the value; returns how many were taken. */
static size_t value_bytes(struct appc_pax_scan *s, const unsigned char *p, size_t n)
{
  size_t left = s->length - 1 - s->used;

  if (left == 0) {
    if (*p == '\n')
      record_end(s);
    else
      s->state = ST_BAD;
    return 1;
  }
  if (n > left)
    n = left;
  if (is_name_key(s->key) && memchr(p, '\0', n) != NULL)
    s->value_nul = true;
  for (size_t i = 0; i < n && s->value_len + i < sizeof s->value; i++)
    s->value[s->value_len + i] = (char) p[i];
  s->value_len += n;
  s->used += n;
  return n;
}

void appc_pax_scan_feed(struct appc_pax_scan *s, const unsigned char *p, size_t n)
{
  while (n > 0 && s->state != ST_BAD) {
    size_t took = 1;
    switch (s->state) {
    case ST_LENGTH:
      length_byte(s, *p);
      break;
    case ST_KEY:
      key_byte(s, *p);
      break;
    default:
      took = value_bytes(s, p, n);
      break;
    }
    p += took;
    n -= took;
  }
}

struct appc_pax_result appc_pax_scan_end(struct appc_pax_scan *s)
{
  struct appc_pax_result res = s->result;

  /* A record cut by the body's end is one libarchive refuses. */
  if (s->state != ST_LENGTH || s->used != 0)
    return (struct appc_pax_result){0};
  res.read = true;
  /* readGNUSparsePAXHeaders(): only then does Go take GNU.sparse.name. */
  res.sparse = (s->major == APPC_PAX_VALUE_1 && s->minor == APPC_PAX_VALUE_0) ||
               (s->major == APPC_PAX_VALUE_NONE && s->minor == APPC_PAX_VALUE_NONE && s->map);
  return res;
}
