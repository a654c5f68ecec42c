/* SPDX-License-Identifier: Apache-2.0 */
/* Validators for the appc value types.  The rules follow what the reference
 * implementation accepts, because a manifest verdict must agree with it; the
 * comments say where that differs from a plain reading of the spec. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "appc/types.h"
#include "common/hashmap.h"
#include "common/macros.h"

static bool is_lower_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_alpha(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Shared by AC Identifier and AC Name: lower-case alphanumerics separated
 * by single characters of SEPARATORS, checked as the reference does (first
 * any foreign character, then the edges). */
static int validate_name(const char *s, const char *what, const char *separators, appc_error_t *err)
{
  size_t len = strlen(s);

  if (len == 0)
    return appc_error_make(err, 0, "%s cannot be empty", what);
  for (size_t i = 0; i < len; i++) {
    if (!is_lower_alnum(s[i]) && strchr(separators, s[i]) == NULL)
      return appc_error_make(err, 0,
                             "\"%s\" is not a valid %s: only lower case alphanumeric characters "
                             "plus \"%s\" are allowed",
                             s, what, separators);
  }
  if (!is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
    return appc_error_make(err, 0,
                           "\"%s\" is not a valid %s: it must start and end with a lower case "
                           "alphanumeric character",
                           s, what);
  return 0;
}

int appc_validate_acidentifier(const char *s, appc_error_t *err)
{
  return validate_name(s, "AC Identifier", "-._~/", err);
}

int appc_validate_acname(const char *s, appc_error_t *err)
{
  return validate_name(s, "AC Name", "-", err);
}

char *appc_acname_make(const char *text, const char *fallback)
{
  char *out = malloc(strlen(text) + 1);
  size_t n = 0;

  if (out == NULL)
    return NULL;
  for (const char *p = text; *p != '\0'; p++) {
    char c = (char) tolower((unsigned char) *p);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
      out[n++] = c;
    else if (n > 0 && out[n - 1] != '-')
      out[n++] = '-';
  }
  while (n > 0 && out[n - 1] == '-')
    n--;
  out[n] = '\0';
  if (n == 0) {
    free(out);
    return strdup(fallback);
  }
  return out;
}

int appc_validate_ackind(const char *s, appc_error_t *err)
{
  if (strcmp(s, "ImageManifest") == 0 || strcmp(s, "PodManifest") == 0)
    return 0;
  if (*s == '\0')
    return appc_error_make(err, 0, "acKind must be set");
  return appc_error_make(err, 0, "bad acKind \"%s\": must be \"ImageManifest\" or \"PodManifest\"",
                         s);
}

/* strconv.ParseInt(s, 10, 64): optional sign, at least one digit, in range. */
static bool go_parse_int64(const char *s, size_t len, int64_t *out)
{
  bool neg = false;
  uint64_t v = 0;
  size_t i = 0;

  if (len > 0 && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    i++;
  }
  if (i == len)
    return false;
  for (; i < len; i++) {
    if (!is_digit(s[i]))
      return false;
    if (v > (UINT64_MAX - 9) / 10)
      return false;
    v = v * 10 + (uint64_t) (s[i] - '0');
    if (v > (uint64_t) INT64_MAX + (neg ? 1 : 0))
      return false;
  }
  if (out != NULL)
    *out = neg ? (int64_t) (0 - v) : (int64_t) v;
  return true;
}

/* A SemVer pre-release or build identifier list: dot-separated non-empty
 * runs of [0-9A-Za-z-].  Empty is accepted, as go-semver does. */
static bool semver_identifiers_valid(const char *s, size_t len)
{
  bool run_empty = true;

  if (len == 0)
    return true;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '.') {
      if (run_empty)
        return false;
      run_empty = true;
    } else if (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '-') {
      run_empty = false;
    } else {
      return false;
    }
  }
  return !run_empty;
}

int appc_validate_semver(const char *s, appc_error_t *err)
{
  /* go-semver splits off build metadata at the first '+', then the
   * pre-release at the first '-', then needs exactly three numbers. */
  const char *plus = strchr(s, '+');
  size_t core_len = plus != NULL ? (size_t) (plus - s) : strlen(s);
  const char *dash = memchr(s, '-', core_len);
  size_t num_len = dash != NULL ? (size_t) (dash - s) : core_len;
  const char *p = s;
  int64_t parts[3] = {0, 0, 0};
  bool zero = true;

  if (plus != NULL && !semver_identifiers_valid(plus + 1, strlen(plus + 1)))
    return appc_error_make(err, 0, "\"%s\" is not a valid SemVer: bad build metadata", s);
  if (dash != NULL && !semver_identifiers_valid(dash + 1, core_len - num_len - 1))
    return appc_error_make(err, 0, "\"%s\" is not a valid SemVer: bad pre-release", s);
  for (int i = 0; i < 3; i++) {
    const char *end = s + num_len;
    const char *dot = i < 2 ? memchr(p, '.', (size_t) (end - p)) : NULL;
    const char *stop = dot != NULL ? dot : end;

    if (i < 2 && dot == NULL)
      return appc_error_make(err, 0, "\"%s\" is not a valid SemVer: not in dotted-tri format", s);
    if (!go_parse_int64(p, (size_t) (stop - p), &parts[i]))
      return appc_error_make(err, 0, "\"%s\" is not a valid SemVer: bad version number", s);
    if (parts[i] != 0)
      zero = false;
    p = stop + 1;
  }
  if (zero && (dash == NULL || dash + 1 == s + core_len) && (plus == NULL || plus[1] == '\0'))
    return appc_error_make(err, 0, "\"%s\" is not a valid SemVer: it cannot be zero", s);
  return 0;
}

int appc_validate_hash(const char *s, appc_error_t *err)
{
  const char *dash = strchr(s, '-');

  if (dash == NULL || strchr(dash + 1, '-') != NULL)
    return appc_error_make(err, 0, "\"%s\" is not a valid image ID: badly formatted hash", s);
  if (dash == s)
    return appc_error_make(err, 0, "\"%s\" is not a valid image ID: empty hash type", s);
  if (strncmp(s, "sha512-", 7) != 0)
    return appc_error_make(err, 0,
                           "\"%s\" is not a valid image ID: unrecognized hash type (must be "
                           "sha512)",
                           s);
  if (dash[1] == '\0')
    return appc_error_make(err, 0, "\"%s\" is not a valid image ID: empty hash value", s);
  return 0;
}

int appc_validate_image_id_full(const char *s, appc_error_t *err)
{
  if (strncmp(s, "sha512-", 7) != 0 || strlen(s) != 7 + 128)
    return appc_error_make(err, 0, "\"%s\" is not a full image ID (sha512- and 128 hex digits)", s);
  for (const char *p = s + 7; *p != '\0'; p++) {
    if (!is_digit(*p) && !(*p >= 'a' && *p <= 'f'))
      return appc_error_make(err, 0, "\"%s\" is not a full image ID: non-hex digit", s);
  }
  return 0;
}

int appc_validate_env_name(const char *s, appc_error_t *err)
{
  if (*s == '\0')
    return appc_error_make(err, 0, "environment variable name must not be empty");
  if (!is_alpha(s[0]) && s[0] != '_')
    goto bad;
  for (const char *p = s + 1; *p != '\0'; p++) {
    if (!is_alpha(*p) && !is_digit(*p) && strchr("_.-", *p) == NULL)
      goto bad;
  }
  return 0;
bad:
  return appc_error_make(err, 0, "\"%s\" is not a valid environment variable name", s);
}

/* ---- URLs: the checks of Go's url.Parse that can fail on an http(s) URL */

enum url_part { URL_PATH, URL_FRAGMENT, URL_USERINFO, URL_HOST, URL_ZONE };

static int hexval(char c)
{
  if (is_digit(c))
    return c - '0';
  return (c | 0x20) - 'a' + 10;
}

/* Characters a host may hold literally (everything else must be escaped). */
static bool host_char_ok(unsigned char c)
{
  return (unsigned char) c >= 0x80 || is_alpha((char) c) || is_digit((char) c) ||
         strchr("!$&'()*+,;=:[]<>\"-_.~", c) != NULL;
}

/* Percent-escapes must be well formed everywhere; in a host they may only
 * encode non-ASCII bytes (or %25), as RFC 3986 and RFC 6874 say. */
static bool url_unescape_ok(const char *s, size_t len, enum url_part part)
{
  for (size_t i = 0; i < len;) {
    if (s[i] == '%') {
      if (i + 2 >= len || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
        return false;
      bool pct25 = s[i + 1] == '2' && s[i + 2] == '5';
      int v = hexval(s[i + 1]) << 4 | hexval(s[i + 2]);
      if (part == URL_HOST && hexval(s[i + 1]) < 8 && !pct25)
        return false;
      if (part == URL_ZONE && !pct25 && v != ' ' && !host_char_ok((unsigned char) v))
        return false;
      i += 3;
      continue;
    }
    if ((part == URL_HOST || part == URL_ZONE) && !host_char_ok((unsigned char) s[i]))
      return false;
    i++;
  }
  return true;
}

static bool port_ok(const char *s, size_t len)
{
  if (len == 0)
    return true;
  if (s[0] != ':')
    return false;
  for (size_t i = 1; i < len; i++) {
    if (!is_digit(s[i]))
      return false;
  }
  return true;
}

static const char *memrchr_n(const char *s, size_t len, char c)
{
  for (size_t i = len; i > 0; i--) {
    if (s[i - 1] == c)
      return s + i - 1;
  }
  return NULL;
}

static bool url_host_ok(const char *h, size_t len)
{
  if (len > 0 && h[0] == '[') {
    const char *close = memrchr_n(h, len, ']');
    if (close == NULL)
      return false;
    size_t i = (size_t) (close - h);
    if (!port_ok(close + 1, len - i - 1))
      return false;
    const char *zone = memmem(h, i, "%25", 3);
    if (zone != NULL) {
      size_t z = (size_t) (zone - h);
      return url_unescape_ok(h, z, URL_HOST) && url_unescape_ok(zone, i - z, URL_ZONE) &&
             url_unescape_ok(close, len - i, URL_HOST);
    }
  } else {
    const char *colon = memrchr_n(h, len, ':');
    if (colon != NULL && !port_ok(colon, len - (size_t) (colon - h)))
      return false;
  }
  return url_unescape_ok(h, len, URL_HOST);
}

static bool userinfo_ok(const char *u, size_t len)
{
  for (size_t i = 0; i < len; i++) {
    if (!is_alpha(u[i]) && !is_digit(u[i]) && strchr("-._:~!$&'()*+,;=%@", u[i]) == NULL)
      return false;
  }
  return url_unescape_ok(u, len, URL_USERINFO);
}

static bool url_authority_ok(const char *a, size_t len)
{
  const char *at = memrchr_n(a, len, '@');
  if (at == NULL)
    return url_host_ok(a, len);
  size_t i = (size_t) (at - a);
  return url_host_ok(at + 1, len - i - 1) && userinfo_ok(a, i);
}

static bool url_rest_ok(const char *rest, size_t len)
{
  const char *q = memchr(rest, '?', len);
  if (q != NULL)
    len = (size_t) (q - rest);
  if (len == 0 || rest[0] != '/')
    return true; /* opaque form such as "http:foo": never checked further */
  if (len >= 2 && rest[1] == '/') {
    const char *slash = memchr(rest + 2, '/', len - 2);
    size_t alen = slash != NULL ? (size_t) (slash - rest - 2) : len - 2;
    if (!url_authority_ok(rest + 2, alen))
      return false;
    rest += 2 + alen;
    len -= 2 + alen;
  }
  return url_unescape_ok(rest, len, URL_PATH);
}

int appc_validate_url(const char *s, appc_error_t *err)
{
  const char *hash = strchr(s, '#');
  size_t len = hash != NULL ? (size_t) (hash - s) : strlen(s);
  const char *colon = memchr(s, ':', len);
  size_t slen = colon != NULL ? (size_t) (colon - s) : 0;

  for (size_t i = 0; i < len; i++) {
    if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
      return appc_error_make(err, 0, "\"%s\" is not a valid URL: control character", s);
  }
  if (!((slen == 4 && strncasecmp(s, "http", 4) == 0) ||
        (slen == 5 && strncasecmp(s, "https", 5) == 0)))
    return appc_error_make(err, 0, "\"%s\" is not a valid URL: the scheme must be http or https",
                           s);
  if (!url_rest_ok(colon + 1, len - slen - 1) ||
      (hash != NULL && !url_unescape_ok(hash + 1, strlen(hash + 1), URL_FRAGMENT)))
    return appc_error_make(err, 0, "\"%s\" is not a valid URL: malformed host, port or escape", s);
  return 0;
}

/* ---- RFC 3339 dates, as Go's time.Parse(time.RFC3339, s) reads them */

static bool two_digits(const char *p, int *out)
{
  if (!is_digit(p[0]) || !is_digit(p[1]))
    return false;
  *out = (p[0] - '0') * 10 + (p[1] - '0');
  return true;
}

/* Go's time.atoi on a two-character field: an optional sign then digits. */
static bool signed_two(const char *p)
{
  if (is_digit(p[0]))
    return is_digit(p[1]);
  return (p[0] == '+' || p[0] == '-') && is_digit(p[1]);
}

static int days_in_month(int month, int year)
{
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  return month == 2 && leap ? 29 : days[month - 1];
}

static bool date_time_ok(const char *s)
{
  int year, month, day, hour, minute, second;
  const char *p = s;

  if (!is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]) || !is_digit(p[3]))
    return false;
  year = ((p[0] - '0') * 10 + (p[1] - '0')) * 100 + (p[2] - '0') * 10 + (p[3] - '0');
  p += 4;
  if (*p++ != '-' || !two_digits(p, &month) || month < 1 || month > 12)
    return false;
  p += 2;
  if (*p++ != '-' || !two_digits(p, &day))
    return false;
  p += 2;
  if (*p++ != 'T' || !is_digit(p[0]))
    return false;
  /* The hour may have one digit: Go reads it with a non-fixed width. */
  hour = p[0] - '0';
  p++;
  if (is_digit(*p))
    hour = hour * 10 + (*p++ - '0');
  if (hour > 23 || *p++ != ':' || !two_digits(p, &minute) || minute > 59)
    return false;
  p += 2;
  if (*p++ != ':' || !two_digits(p, &second) || second > 59)
    return false;
  p += 2;
  /* Go accepts a fraction after the seconds even though RFC3339 has none. */
  if ((p[0] == '.' || p[0] == ',') && is_digit(p[1])) {
    p++;
    while (is_digit(*p))
      p++;
  }
  if (p[0] == 'Z') {
    p++;
  } else {
    if (strlen(p) < 6 || (p[0] != '+' && p[0] != '-') || p[3] != ':' || !signed_two(p + 1) ||
        !signed_two(p + 4))
      return false;
    p += 6;
  }
  return *p == '\0' && day >= 1 && day <= days_in_month(month, year);
}

int appc_validate_date(const char *s, appc_error_t *err)
{
  if (!date_time_ok(s))
    return appc_error_make(err, 0, "\"%s\" is not a valid RFC 3339 date", s);
  return 0;
}

int appc_validate_uuid(const char *s, appc_error_t *err)
{
  size_t digits = 0;
  bool zero = true;

  for (const char *p = s; *p != '\0'; p++) {
    if (*p == '-')
      continue;
    if (!is_hex(*p))
      return appc_error_make(err, 0, "\"%s\" is not a valid UUID: non-hex character", s);
    if (*p != '0')
      zero = false;
    digits++;
  }
  if (digits != 32)
    return appc_error_make(err, 0, "\"%s\" is not a valid UUID: length is not 32 hex digits", s);
  if (zero)
    return appc_error_make(err, 0, "UUID cannot be empty");
  return 0;
}

int appc_validate_ip(const char *s, appc_error_t *err)
{
  unsigned char buf[16];

  if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
    return 0;
  return appc_error_make(err, 0, "\"%s\" is not a valid IP address", s);
}

int appc_validate_port_range(uint64_t port, uint64_t count, appc_error_t *err)
{
  if (port < 1 || port > 65535)
    return appc_error_make(err, 0, "port %llu must be in the 1-65535 range",
                           (unsigned long long) port);
  /* port <= 65535 here, so this cannot wrap around as the reference's
   * port + count does (a deviation, see docs/conformance.md). */
  if (count > 65536 - port)
    return appc_error_make(err, 0, "end of port range %llu+%llu must be in the 1-65535 range",
                           (unsigned long long) port, (unsigned long long) count);
  return 0;
}

/* ---- Resource quantities (resource/quantity.go of the reference) */

/* Unicode white space as Go's strings.TrimSpace sees it, at P; returns its
 * length in bytes or 0. */
static size_t space_len(const unsigned char *p, size_t avail)
{
  static const char *const wide[] = {"\xc2\x85",     "\xc2\xa0",     "\xe1\x9a\x80",
                                     "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xaf",
                                     "\xe2\x81\x9f", "\xe3\x80\x80"};
  if (avail > 0 && (*p == ' ' || (*p >= '\t' && *p <= '\r')))
    return 1;
  for (size_t i = 0; i < ARRAY_SIZE(wide); i++) {
    size_t n = strlen(wide[i]);
    if (avail >= n && memcmp(p, wide[i], n) == 0)
      return n;
  }
  if (avail >= 3 && p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0x80 && p[2] <= 0x8a)
    return 3; /* U+2000..U+200A */
  return 0;
}

static size_t trailing_space_len(const unsigned char *s, size_t len)
{
  for (size_t n = 1; n <= 3 && n <= len; n++) {
    if (space_len(s + len - n, n) == n)
      return n;
  }
  return 0;
}

struct quantity_parts {
  const char *num;
  size_t num_len; /* digits before the point, leading zeros dropped */
  size_t denom_len;
  bool value_has_digit;
  const char *suffix;
  size_t suffix_len;
};

static size_t span_digits(const char *s, size_t i, size_t end)
{
  while (i < end && is_digit(s[i]))
    i++;
  return i;
}

/* Split S as the reference does: sign, number, fraction, then a suffix made
 * of [eEinumkKMGTP]*, an optional sign and digits.  False on trailing junk. */
static bool quantity_split(const char *s, size_t end, struct quantity_parts *q)
{
  size_t pos = 0, i;

  memset(q, 0, sizeof *q);
  if (pos < end && (s[pos] == '+' || s[pos] == '-'))
    pos++;
  while (pos < end && s[pos] == '0') {
    pos++;
    q->value_has_digit = true;
  }
  if (pos == end)
    return true; /* only zeros: the value is "0" */
  i = span_digits(s, pos, end);
  q->num = s + pos;
  q->num_len = i - pos;
  q->value_has_digit = q->value_has_digit || i > pos;
  pos = i;
  if (pos < end && s[pos] == '.') {
    i = span_digits(s, pos + 1, end);
    q->denom_len = i - pos - 1;
    q->value_has_digit = q->value_has_digit || q->denom_len > 0;
    pos = i;
  }
  q->suffix = s + pos;
  while (pos < end && strchr("eEinumkKMGTP", s[pos]) != NULL)
    pos++;
  if (pos < end && (s[pos] == '+' || s[pos] == '-'))
    pos++;
  pos = span_digits(s, pos, end);
  q->suffix_len = (size_t) (s + pos - q->suffix);
  return pos == end;
}

/* Interpret the suffix: base 10 or 2, exponent, and whether it is binary. */
static bool quantity_suffix(const char *s, size_t len, int32_t *exponent, bool *binary)
{
  static const struct {
    const char *text;
    int32_t exp;
    bool binary;
  } table[] = {
      {"", 0, false},   {"n", -9, false}, {"u", -6, false}, {"m", -3, false},
      {"k", 3, false},  {"M", 6, false},  {"G", 9, false},  {"T", 12, false},
      {"P", 15, false}, {"E", 18, false}, {"Ki", 10, true}, {"Mi", 20, true},
      {"Gi", 30, true}, {"Ti", 40, true}, {"Pi", 50, true}, {"Ei", 60, true},
  };
  int64_t e;

  for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
    /* S is NULL when there is no suffix at all. */
    if (strlen(table[i].text) == len && (len == 0 || strncmp(s, table[i].text, len) == 0)) {
      *exponent = table[i].exp;
      *binary = table[i].binary;
      return true;
    }
  }
  if (len > 1 && (s[0] == 'e' || s[0] == 'E') && go_parse_int64(s + 1, len - 1, &e)) {
    *exponent = (int32_t) (uint32_t) (uint64_t) e; /* Go truncates to int32 */
    *binary = false;
    return true;
  }
  return false;
}

static bool quantity_ok(const char *s, size_t len)
{
  struct quantity_parts q;
  int32_t exponent, precision, scale;
  bool binary;

  if (len == 0)
    return false;
  if (len == 1 && s[0] == '0')
    return true;
  if (!quantity_split(s, len, &q) || !quantity_suffix(q.suffix, q.suffix_len, &exponent, &binary))
    return false;
  /* The reference has a fast int64 path that cannot fail; otherwise it
   * parses the number with inf.Dec, which needs at least one digit. */
  size_t num_len = q.num_len == 0 ? 1 : q.num_len;
  if (!binary) {
    scale = exponent;
    precision = 18 - (int32_t) (num_len + q.denom_len);
  } else {
    scale = 0;
    precision = q.denom_len == 0 ? 15 - (int32_t) num_len - exponent * 3 / 10 - 1 : -1;
  }
  if (precision >= 0 && (int32_t) ((uint32_t) scale - (uint32_t) q.denom_len) >= -9)
    return true;
  return q.value_has_digit;
}

int appc_validate_quantity(const char *s, appc_error_t *err)
{
  const unsigned char *u = (const unsigned char *) s;
  size_t len = strlen(s), n;

  while ((n = space_len(u, len)) > 0) {
    u += n;
    len -= n;
  }
  while ((n = trailing_space_len(u, len)) > 0)
    len -= n;
  if (!quantity_ok((const char *) u, len))
    return appc_error_make(err, 0,
                           "\"%s\" is not a valid quantity (such as 500m, 1G, 128Mi or 1.5e3)", s);
  return 0;
}

/* ---- quantity values (the executor's cgroup limits) */

typedef unsigned __int128 u128;
#define U128_MAX (~(u128) 0)
#define QUANTITY_MAX_DIGITS 38 /* 10^38 < 2^128 */

/* digits * 10^exp10 * 2^exp2 */
struct quantity_value {
  u128 digits; /* significant digits, trailing zeros dropped */
  int64_t exp10;
  int exp2;
};

/* The significant digits of P's number (integer digits, then fraction
 * digits) and the power of ten they need.  False past 38 of them. */
static bool quantity_digits(const struct quantity_parts *p, struct quantity_value *v)
{
  /* The fraction's digits follow the point after the integer digits. */
  const char *frac = p->num + p->num_len + 1;
  size_t n = p->num_len + p->denom_len, last_nz = SIZE_MAX, sig = 0;
  bool started = false;

  v->digits = 0;
  v->exp10 = -(int64_t) p->denom_len;
  for (size_t i = 0; i < n; i++) {
    char d = i < p->num_len ? p->num[i] : frac[i - p->num_len];
    if (d != '0')
      last_nz = i;
  }
  if (last_nz == SIZE_MAX)
    return true; /* zero */
  v->exp10 += (int64_t) (n - 1 - last_nz);
  for (size_t i = 0; i <= last_nz; i++) {
    char d = i < p->num_len ? p->num[i] : frac[i - p->num_len];
    started = started || d != '0';
    if (started && ++sig > QUANTITY_MAX_DIGITS)
      return false;
    v->digits = v->digits * 10 + (u128) (d - '0');
  }
  return true;
}

/* V rounded up to an integer, or false above INT64_MAX. */
static bool quantity_eval(const struct quantity_value *v, int64_t *out)
{
  u128 x = v->digits;

  if (x == 0) {
    *out = 0;
    return true;
  }
  if (x > (U128_MAX >> v->exp2))
    return false;
  x <<= v->exp2;
  for (int64_t e = v->exp10; e > 0; e--) {
    if (x > INT64_MAX)
      return false;
    x *= 10;
  }
  if (v->exp10 < -QUANTITY_MAX_DIGITS) {
    x = 1; /* 0 < value < 1 */
  } else if (v->exp10 < 0) {
    u128 p = 1;
    for (int64_t e = v->exp10; e < 0; e++)
      p *= 10;
    x = x / p + (x % p != 0);
  }
  if (x > INT64_MAX)
    return false;
  *out = (int64_t) x;
  return true;
}

int appc_quantity_value(const char *text, int scale_exp, int64_t *out, appc_error_t *err)
{
  const unsigned char *u = (const unsigned char *) text;
  size_t len = strlen(text), n;
  struct quantity_parts p;
  struct quantity_value v = {0};
  int32_t exponent = 0;
  bool binary = false;

  if (appc_validate_quantity(text, err) < 0)
    return -1;
  while ((n = space_len(u, len)) > 0) {
    u += n;
    len -= n;
  }
  while ((n = trailing_space_len(u, len)) > 0)
    len -= n;
  if (!quantity_split((const char *) u, len, &p) ||
      !quantity_suffix(p.suffix, p.suffix_len, &exponent, &binary))
    p.num = NULL; /* "0": nothing but zeros */
  if (p.num != NULL && !quantity_digits(&p, &v))
    return appc_error_make(err, 0, "quantity \"%s\" has more than %d significant digits", text,
                           QUANTITY_MAX_DIGITS);
  if (len > 0 && u[0] == '-' && v.digits != 0)
    return appc_error_make(err, 0, "quantity \"%s\" must not be negative", text);
  if (binary)
    v.exp2 = exponent;
  else
    v.exp10 += exponent;
  /* Exponents past what any int64 holds either way need not be exact. */
  v.exp10 += scale_exp;
  if (v.exp10 > 10000)
    v.exp10 = 10000;
  if (v.exp10 < -10000)
    v.exp10 = -10000;
  if (!quantity_eval(&v, out))
    return appc_error_make(err, 0, "quantity \"%s\" is too large", text);
  return 0;
}

/* ---- seccomp errno */

/* ace.md: errno is "the all-uppercase name of a single errno code", so
 * E[A-Z0-9]* in ASCII.  The reference accepts any Unicode upper-case letter
 * or number after the E (a deviation, see docs/conformance.md). */
int appc_validate_seccomp_errno(const char *s, appc_error_t *err)
{
  if (*s == '\0')
    return 0;
  if (*s != 'E')
    return appc_error_make(err, 0, "errno \"%s\" must start with an 'E' character", s);
  for (const char *p = s + 1; *p != '\0'; p++) {
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
      return appc_error_make(err, 0,
                             "errno \"%s\" can only contain upper-case ASCII letters and digits "
                             "(E[A-Z0-9]*)",
                             s);
  }
  return 0;
}

/* ---- informational name lists */

static bool in_list(const char *s, const char *const *list, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (strcmp(s, list[i]) == 0)
      return true;
  }
  return false;
}

#define IN_LIST(s, list) in_list((s), (list), ARRAY_SIZE(list))

bool appc_is_linux_capability(const char *s)
{
  static const char *const caps[] = {
      "CAP_AUDIT_CONTROL",   "CAP_AUDIT_READ",   "CAP_AUDIT_WRITE",
      "CAP_BLOCK_SUSPEND",   "CAP_BPF",          "CAP_CHECKPOINT_RESTORE",
      "CAP_CHOWN",           "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH",
      "CAP_FOWNER",          "CAP_FSETID",       "CAP_IPC_LOCK",
      "CAP_IPC_OWNER",       "CAP_KILL",         "CAP_LEASE",
      "CAP_LINUX_IMMUTABLE", "CAP_MAC_ADMIN",    "CAP_MAC_OVERRIDE",
      "CAP_MKNOD",           "CAP_NET_ADMIN",    "CAP_NET_BIND_SERVICE",
      "CAP_NET_BROADCAST",   "CAP_NET_RAW",      "CAP_PERFMON",
      "CAP_SETFCAP",         "CAP_SETGID",       "CAP_SETPCAP",
      "CAP_SETUID",          "CAP_SYS_ADMIN",    "CAP_SYS_BOOT",
      "CAP_SYS_CHROOT",      "CAP_SYS_MODULE",   "CAP_SYS_NICE",
      "CAP_SYS_PACCT",       "CAP_SYS_PTRACE",   "CAP_SYS_RAWIO",
      "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",     "CAP_SYS_TTY_CONFIG",
      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
  };
  return IN_LIST(s, caps);
}

/* Every errno name of Linux's <errno.h> with its number: seccomp isolators
 * name the errno a blocked call returns, and the filter needs the number. */
static const struct {
  const char *name;
  int value;
} errno_names[] = {
#define E(x)                                                                                       \
  {                                                                                                \
#x, x                                                                                          \
  }
    E(EPERM),           E(ENOENT),       E(ESRCH),
    E(EINTR),           E(EIO),          E(ENXIO),
    E(E2BIG),           E(ENOEXEC),      E(EBADF),
    E(ECHILD),          E(EAGAIN),       E(ENOMEM),
    E(EACCES),          E(EFAULT),       E(ENOTBLK),
    E(EBUSY),           E(EEXIST),       E(EXDEV),
    E(ENODEV),          E(ENOTDIR),      E(EISDIR),
    E(EINVAL),          E(ENFILE),       E(EMFILE),
    E(ENOTTY),          E(ETXTBSY),      E(EFBIG),
    E(ENOSPC),          E(ESPIPE),       E(EROFS),
    E(EMLINK),          E(EPIPE),        E(EDOM),
    E(ERANGE),          E(EDEADLK),      E(ENAMETOOLONG),
    E(ENOLCK),          E(ENOSYS),       E(ENOTEMPTY),
    E(ELOOP),           E(EWOULDBLOCK),  E(ENOMSG),
    E(EIDRM),           E(ECHRNG),       E(EL2NSYNC),
    E(EL3HLT),          E(EL3RST),       E(ELNRNG),
    E(EUNATCH),         E(ENOCSI),       E(EL2HLT),
    E(EBADE),           E(EBADR),        E(EXFULL),
    E(ENOANO),          E(EBADRQC),      E(EBADSLT),
    E(EDEADLOCK),       E(EBFONT),       E(ENOSTR),
    E(ENODATA),         E(ETIME),        E(ENOSR),
    E(ENONET),          E(ENOPKG),       E(EREMOTE),
    E(ENOLINK),         E(EADV),         E(ESRMNT),
    E(ECOMM),           E(EPROTO),       E(EMULTIHOP),
    E(EDOTDOT),         E(EBADMSG),      E(EOVERFLOW),
    E(ENOTUNIQ),        E(EBADFD),       E(EREMCHG),
    E(ELIBACC),         E(ELIBBAD),      E(ELIBSCN),
    E(ELIBMAX),         E(ELIBEXEC),     E(EILSEQ),
    E(ERESTART),        E(ESTRPIPE),     E(EUSERS),
    E(ENOTSOCK),        E(EDESTADDRREQ), E(EMSGSIZE),
    E(EPROTOTYPE),      E(ENOPROTOOPT),  E(EPROTONOSUPPORT),
    E(ESOCKTNOSUPPORT), E(EOPNOTSUPP),   E(ENOTSUP),
    E(EPFNOSUPPORT),    E(EAFNOSUPPORT), E(EADDRINUSE),
    E(EADDRNOTAVAIL),   E(ENETDOWN),     E(ENETUNREACH),
    E(ENETRESET),       E(ECONNABORTED), E(ECONNRESET),
    E(ENOBUFS),         E(EISCONN),      E(ENOTCONN),
    E(ESHUTDOWN),       E(ETOOMANYREFS), E(ETIMEDOUT),
    E(ECONNREFUSED),    E(EHOSTDOWN),    E(EHOSTUNREACH),
    E(EALREADY),        E(EINPROGRESS),  E(ESTALE),
    E(EUCLEAN),         E(ENOTNAM),      E(ENAVAIL),
    E(EISNAM),          E(EREMOTEIO),    E(EDQUOT),
    E(ENOMEDIUM),       E(EMEDIUMTYPE),  E(ECANCELED),
    E(ENOKEY),          E(EKEYEXPIRED),  E(EKEYREVOKED),
    E(EKEYREJECTED),    E(EOWNERDEAD),   E(ENOTRECOVERABLE),
    E(ERFKILL),         E(EHWPOISON),
#undef E
};

int appc_errno_value(const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE(errno_names); i++) {
    if (strcmp(errno_names[i].name, name) == 0)
      return errno_names[i].value;
  }
  return -1;
}

bool appc_is_seccomp_wildcard(const char *s)
{
  static const char *const sets[] = {
      "@appc.io/all",
      "@appc.io/empty",
      "@docker/default-blacklist",
      "@docker/default-whitelist",
      "@rkt/default-blacklist",
      "@rkt/default-whitelist",
      "@systemd/clock",
      "@systemd/default-whitelist",
      "@systemd/mount",
      "@systemd/network-io",
      "@systemd/obsolete",
      "@systemd/privileged",
      "@systemd/process",
      "@systemd/raw-io",
  };
  return IN_LIST(s, sets);
}

bool appc_is_octal_mode(const char *s)
{
  size_t n = strlen(s);

  if (n < 3 || n > 4)
    return false;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '7')
      return false;
  }
  return true;
}

/* ---- collections */

static const char *kv_name(const struct appc_kv *kv)
{
  return kv->name != NULL ? kv->name : "";
}

static const struct appc_kv *kv_find(const struct appc_kv_list *l, size_t upto, const char *name)
{
  for (size_t i = 0; i < upto; i++) {
    if (strcmp(kv_name(&l->items[i]), name) == 0)
      return &l->items[i];
  }
  return NULL;
}

static const char *kv_name_at(const void *list, size_t i)
{
  return kv_name(&((const struct appc_kv_list *) list)->items[i]);
}

/* The first entry of L whose name an earlier one has (L->len: none), the
 * earlier one in *EARLIER; -1, with an error, when out of memory. */
static ssize_t kv_first_repeat(const struct appc_kv_list *l, size_t *earlier, const char *path,
                               appc_error_t *err)
{
  ssize_t r = appc_first_repeat(l->len, kv_name_at, l, earlier);

  if (r < 0)
    appc_error_make(err, ENOMEM, "%s", path);
  return r;
}

static bool word_in(const char *word, const char *const *list)
{
  for (; *list != NULL; list++) {
    if (strcmp(word, *list) == 0)
      return true;
  }
  return false;
}

/* The os/arch whitelist of the reference: an unknown os is an error, and
 * arch is only checked once os is known. */
static int validate_os_arch(const struct appc_kv_list *labels, const char *path, appc_error_t *err)
{
  static const char *const linux_archs[] = {"amd64",   "i386",   "aarch64", "aarch64_be",
                                            "armv6l",  "armv7l", "armv7b",  "ppc64",
                                            "ppc64le", "s390x",  NULL};
  static const char *const freebsd_archs[] = {"amd64", "i386", "arm", NULL};
  static const char *const darwin_archs[] = {"x86_64", "i386", NULL};
  static const struct {
    const char *os;
    const char *const *archs;
    const char *text;
  } table[] = {
      {"linux", linux_archs,
       "amd64 i386 aarch64 aarch64_be armv6l armv7l armv7b ppc64 ppc64le s390x"},
      {"freebsd", freebsd_archs, "amd64 i386 arm"},
      {"darwin", darwin_archs, "x86_64 i386"},
  };
  const struct appc_kv *os = kv_find(labels, labels->len, "os");
  const struct appc_kv *arch = kv_find(labels, labels->len, "arch");

  if (os == NULL)
    return 0;
  for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
    if (strcmp(os->value, table[i].os) != 0)
      continue;
    if (arch == NULL || word_in(arch->value, table[i].archs))
      return 0;
    return appc_error_make(err, 0, "%s[%zu].value: bad arch \"%s\" for os %s (must be one of: %s)",
                           path, (size_t) (arch - labels->items), arch->value, table[i].os,
                           table[i].text);
  }
  return appc_error_make(err, 0,
                         "%s[%zu].value: bad os \"%s\" (must be one of: darwin freebsd linux)",
                         path, (size_t) (os - labels->items), os->value);
}

int appc_validate_labels(const struct appc_kv_list *labels, const char *path, appc_error_t *err)
{
  size_t earlier;
  ssize_t repeat = kv_first_repeat(labels, &earlier, path, err);

  if (repeat < 0)
    return -1;
  /* the first problem in the list's order is the one reported */
  for (size_t i = 0; i <= (size_t) repeat && i < labels->len; i++) {
    const char *name = kv_name(&labels->items[i]);
    if (strcmp(name, "name") == 0)
      return appc_error_make(err, 0, "%s[%zu].name: invalid label name \"name\"", path, i);
    if (i == (size_t) repeat)
      return appc_error_make(err, 0, "%s[%zu].name: duplicate label \"%s\"", path, i, name);
  }
  return validate_os_arch(labels, path, err);
}

int appc_validate_annotations(const struct appc_kv_list *annotations, const char *path,
                              appc_error_t *err)
{
  static const char *const keys[] = {"created", "homepage", "documentation"};

  size_t earlier;
  ssize_t repeat = kv_first_repeat(annotations, &earlier, path, err);

  if (repeat < 0)
    return -1;
  if ((size_t) repeat < annotations->len)
    return appc_error_make(err, 0, "%s[%zd].name: duplicate annotation \"%s\"", path, repeat,
                           kv_name(&annotations->items[repeat]));
  for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
    const struct appc_kv *a = kv_find(annotations, annotations->len, keys[k]);
    if (a == NULL)
      continue;
    int r = k == 0 ? appc_validate_date(a->value, err) : appc_validate_url(a->value, err);
    if (r < 0)
      return appc_error_prefix(err, "%s[%zu].value", path, (size_t) (a - annotations->items));
  }
  return 0;
}

int appc_validate_environment(const struct appc_kv_list *env, const char *path, appc_error_t *err)
{
  size_t earlier;
  ssize_t repeat = kv_first_repeat(env, &earlier, path, err);

  if (repeat < 0)
    return -1;
  /* the first problem in the list's order is the one reported */
  for (size_t i = 0; i < env->len; i++) {
    const char *name = kv_name(&env->items[i]);
    if (appc_validate_env_name(name, err) < 0)
      return appc_error_prefix(err, "%s[%zu].name", path, i);
    if (i == (size_t) repeat)
      return appc_error_make(err, 0, "%s[%zu].name: duplicate environment variable \"%s\"", path, i,
                             name);
  }
  return 0;
}

int appc_validate_volume(const struct appc_volume *v, const char *path, appc_error_t *err)
{
  const char *source = v->source != NULL ? v->source : "";
  const char *kind = v->kind != NULL ? v->kind : "";

  if (v->name == NULL || *v->name == '\0')
    return appc_error_make(err, 0, "%s.name: must be set", path);
  if (strcmp(kind, "empty") == 0) {
    if (*source != '\0')
      return appc_error_make(err, 0, "%s.source: must be empty for an empty volume", path);
    if (v->mode == NULL || !v->has_uid || !v->has_gid)
      return appc_error_make(err, 0, "%s: mode, uid and gid must be set for an empty volume", path);
    return 0;
  }
  if (strcmp(kind, "host") == 0) {
    if (*source == '\0')
      return appc_error_make(err, 0, "%s.source: must be set for a host volume", path);
    if (v->mode != NULL)
      return appc_error_make(err, 0, "%s.mode: cannot be set for a host volume", path);
    if (v->has_uid)
      return appc_error_make(err, 0, "%s.uid: cannot be set for a host volume", path);
    if (v->has_gid)
      return appc_error_make(err, 0, "%s.gid: cannot be set for a host volume", path);
    if (*source != '/')
      return appc_error_make(err, 0, "%s.source: \"%s\" must be an absolute path", path, source);
    return 0;
  }
  return appc_error_make(
      err, 0, "%s.kind: \"%s\" is not a volume kind (must be \"empty\" or \"host\")", path, kind);
}
