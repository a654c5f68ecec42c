/* SPDX-License-Identifier: Apache-2.0 */
/* ASCII armor (RFC 4880, section 6), decoded for the packet check
 * (packets.c) exactly as gpg will decode it: the check is worth only as
 * much as the packets it reads are the packets gpg reads.  gpg's reader
 * (g10/armor.c of GnuPG 2.2, as of 2.4 much the same) is lenient in ways
 * that let one file show a strict reader some packets and gpg more:
 *  - in the base64 it skips any byte that is not base64 (a line of dashes
 *    too, and the lines after it) and reads "=XX" followed by "=", a blank
 *    or the line's end as a quoted-printable base64 character ("buggy
 *    MTAs");
 *  - base64 ends only at a '=': padding or the checksum line.  Without
 *    either, gpg 2.2 reads on into the END line and past it;
 *  - it reads the line after the checksum (or, without one, after the END
 *    line) afresh, and takes it for the start of binary packets when its
 *    first byte is a packet header's;
 *  - it reads a header line that lacks ": " (before any NUL) as base64;
 *  - a clearsigned text ends at the first line of five dashes, whatever
 *    follows them, and the signature's armor is read from there;
 *  - it cuts a line longer than MAX_LINELEN and reads a first line so long
 *    as binary packets; a NUL byte ends its string comparisons.
 * Rather than imitate each, only the armor that both read alike is
 * accepted, and the rest refused, naming the line:
 *  - no line longer than gpg reads whole, no NUL byte in a line of dashes;
 *  - a block: its BEGIN line as gpg recognises one, header lines "Key:
 *    value" up to an empty line, lines of base64 (blanks allowed, which
 *    gpg skips too) with '=' only as the padding at the end of the last,
 *    then an optional checksum line "=XXXX", then the END line.  No other
 *    line of dashes, and no line without padding or checksum before END;
 *  - without a checksum line, the line after END not one gpg would take
 *    for binary packets;
 *  - in a clearsigned text, the first line of five dashes is the BEGIN
 *    line of its signature.
 * Text around the blocks is skipped, as gpg skips it; so are the lines of
 * a clearsigned text. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "common/cleanup.h"
#include "common/lazy.h"
#include "common/macros.h"
#include "trust/internal.h"

/* gpg's MAX_LINELEN (g10/armor.c): iobuf_read_line keeps room for a "\n"
 * and a NUL in it, so a line of more bytes than LINE_MAX_BYTES before its
 * "\n" is cut short. */
#define GPG_MAX_LINELEN 20000
#define LINE_MAX_BYTES (GPG_MAX_LINELEN - 2)

#define DASHES "-----"
#define ARMOR_END "-----END PGP "

/* The armor lines gpg knows (head_strings of g10/armor.c), in its order. */
static const char *const armor_names[] = {
    "BEGIN PGP MESSAGE",          "BEGIN PGP PUBLIC KEY BLOCK", "BEGIN PGP SIGNATURE",
    "BEGIN PGP SIGNED MESSAGE",   "BEGIN PGP ARMORED FILE",     "BEGIN PGP PRIVATE KEY BLOCK",
    "BEGIN PGP SECRET KEY BLOCK",
};
enum { ARMOR_SIGNATURE = 2, ARMOR_SIGNED_MESSAGE = 3 };

struct armor {
  const char *data, *end;
  const char *what, *refusal;
  appc_openpgp_block_fn *fn;
  void *arg;
};

/* The end of the line from P (its '\n', or END). */
static const char *line_end(const char *p, const char *end)
{
  const char *nl = memchr(p, '\n', (size_t) (end - p));
  return nl != NULL ? nl : end;
}

static const char *next_line(const char *p, const char *end)
{
  const char *e = line_end(p, end);
  return e < end ? e + 1 : end;
}

/* Whether the line [P, E) starts with S. */
static bool starts_with(const char *p, const char *e, const char *s)
{
  size_t n = strlen(s);
  return (size_t) (e - p) >= n && memcmp(p, s, n) == 0;
}

static bool blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r';
}

static bool blank_line(const char *p, const char *e)
{
  for (; p < e; p++)
    if (!blank(*p))
      return false;
  return true;
}

static bool base64_char(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

/* "WHAT: REFUSAL: line N: ...", N the line of AT. */
__attribute__((format(printf, 4, 5))) static int refuse(const struct armor *a, const char *at,
                                                        appc_error_t *err, const char *fmt, ...)
{
  size_t line = 1;
  va_list ap;

  for (const char *p = a->data; (p = memchr(p, '\n', (size_t) (at - p))) != NULL; p++)
    line++;
  va_start(ap, fmt);
  appc_error_makev(err, 0, fmt, ap);
  va_end(ap);
  return appc_error_prefix(err, "%s: %s: line %zu", a->what, a->refusal, line);
}

/* Every line gpg reads whole, and no NUL byte in a line of dashes: gpg
 * compares a line with the armor lines as a string, to its first NUL. */
static int check_lines(const struct armor *a, appc_error_t *err)
{
  for (const char *p = a->data; p < a->end; p = next_line(p, a->end)) {
    const char *e = line_end(p, a->end);
    if (e - p > LINE_MAX_BYTES)
      return refuse(a, p, err, "longer than the %d bytes gpg reads of a line", LINE_MAX_BYTES);
    if (starts_with(p, e, DASHES) && memchr(p, '\0', (size_t) (e - p)) != NULL)
      return refuse(a, p, err,
                    "a line of dashes holding a NUL byte, where gpg's comparison "
                    "with the armor lines ends");
  }
  return 0;
}

/* The index in armor_names of the armor line [P, E), or -1: five dashes,
 * a name gpg knows, five dashes and nothing but blanks (is_armor_header of
 * g10/armor.c). */
static int armor_line(const char *p, const char *e)
{
  if (!starts_with(p, e, DASHES))
    return -1;
  const char *name = p + strlen(DASHES);
  const char *close = memmem(name, (size_t) (e - name), DASHES, strlen(DASHES));
  if (close == NULL || !blank_line(close + strlen(DASHES), e))
    return -1;
  for (size_t i = 0; i < ARRAY_SIZE(armor_names); i++)
    if (strlen(armor_names[i]) == (size_t) (close - name) &&
        memcmp(armor_names[i], name, (size_t) (close - name)) == 0)
      return (int) i;
  return -1;
}

/* A header line as gpg takes one (parse_header_line): its first ':',
 * before any NUL, followed by a blank or the line's end.  Any other line
 * gpg reads as base64. */
static bool header_line(const char *p, const char *e)
{
  const char *colon = memchr(p, ':', (size_t) (e - p));
  return colon != NULL && memchr(p, '\0', (size_t) (colon - p)) == NULL &&
         (colon + 1 == e || colon[1] == ' ' || colon[1] == '\r');
}

/* The line after the header lines of the block whose BEGIN line ends
 * before P and the empty line after them, or NULL. */
static const char *after_header_lines(const struct armor *a, const char *p, appc_error_t *err)
{
  for (; p < a->end; p = next_line(p, a->end)) {
    const char *e = line_end(p, a->end);
    if (blank_line(p, e))
      return next_line(p, a->end);
    if (starts_with(p, e, DASHES) || !header_line(p, e)) {
      refuse(a, p, err,
             "neither an armor header line (\"Key: value\") nor the empty line after "
             "them, which gpg would read as base64");
      return NULL;
    }
  }
  refuse(a, p, err, "an armored block that ends in its header lines");
  return NULL;
}

/* The checksum line: '=' and four base64 characters.  (gpg reads the
 * quoted-printable "=XX" only when a '=' or a blank follows the two
 * digits, which a base64 character never is.) */
static bool checksum_line(const char *p, const char *e)
{
  if (e - p < 5 || p[0] != '=' || !blank_line(p + 5, e))
    return false;
  for (int i = 1; i < 5; i++)
    if (!base64_char(p[i]))
      return false;
  return true;
}

struct base64 {
  char *text; /* the base64 characters, the padding then added */
  size_t n, pad;
};

/* The base64 line [P, E) into B64: '=' only as the padding at its end. */
static int base64_line(const struct armor *a, const char *p, const char *e, struct base64 *b64,
                       appc_error_t *err)
{
  for (const char *c = p; c < e; c++) {
    if (base64_char(*c) && b64->pad == 0)
      b64->text[b64->n++] = *c;
    else if (*c == '=' && b64->pad < 2)
      b64->pad++;
    else if (*c == '=' || base64_char(*c))
      return refuse(a, p, err,
                    "base64 after a '=', which gpg reads on (\"=XX\" being a quoted-printable "
                    "character to it)");
    else if (!blank(*c))
      return refuse(a, p, err, "a byte 0x%02x in base64, which gpg would skip to read on",
                    (unsigned char) *c);
  }
  return 0;
}

/* The packets of the block from P (the line after its BEGIN line) decoded
 * and given to A's function; *NEXT: the line after the block's END line. */
static int read_block(const struct armor *a, const char *p, const char **next, appc_error_t *err)
{
  cleanup_free char *text = malloc((size_t) (a->end - p) + 3);
  cleanup_free unsigned char *bin = NULL;
  struct base64 b64 = {.text = text};
  const char *e;

  if (text == NULL)
    return appc_error_make(err, ENOMEM, "%s", a->what);
  if ((p = after_header_lines(a, p, err)) == NULL)
    return -1;
  for (; p < a->end; p = next_line(p, a->end)) {
    e = line_end(p, a->end);
    if (starts_with(p, e, DASHES) || checksum_line(p, e))
      break;
    if (b64.pad > 0)
      return refuse(a, p, err,
                    "a line after the base64's padding other than the checksum and END lines");
    if (base64_line(a, p, e, &b64, err) < 0)
      return -1;
  }
  bool checksum = p < a->end && checksum_line(p, line_end(p, a->end));
  if (checksum)
    p = next_line(p, a->end);
  if (p == a->end)
    return refuse(a, p, err, "an armored block without its END line");
  e = line_end(p, a->end);
  if (!starts_with(p, e, ARMOR_END))
    return refuse(a, p, err,
                  checksum ? "not the END line after the checksum line: gpg would read it as "
                             "the next data, maybe binary packets"
                           : "a line of dashes in the base64 of a block, which gpg would skip "
                             "to read on");
  if (!checksum && b64.pad == 0)
    return refuse(a, p, err,
                  "the END line after base64 that has neither padding nor a checksum line: "
                  "gpg would read the END line and the lines after it as base64");
  *next = next_line(p, a->end);
  if (!checksum && *next < a->end && ((unsigned char) **next & 0x80))
    return refuse(a, *next, err,
                  "after a block without a checksum line, a line gpg would read as binary "
                  "packets (its first byte is 0x%02x)",
                  (unsigned char) **next);
  /* EVP_DecodeBlock wants whole groups of four, the padding included */
  for (size_t k = 0; k < b64.pad; k++)
    text[b64.n + k] = '=';
  size_t n = b64.n + b64.pad;
  if (b64.n == 0 || n % 4 != 0)
    return refuse(a, p, err, "an armored block whose base64 is %s",
                  b64.n == 0 ? "empty" : "not whole groups of four characters");
  if ((bin = malloc(n / 4 * 3)) == NULL)
    return appc_error_make(err, ENOMEM, "%s", a->what);
  int got = EVP_DecodeBlock(bin, (const unsigned char *) text, (int) n);
  if (got < 0 || (size_t) got < b64.pad)
    return refuse(a, p, err, "an armored block that is not base64");
  return a->fn(bin, (size_t) got - b64.pad, a->arg, err);
}

/* The signature's BEGIN line after the clearsigned text from P (its BEGIN
 * line), or END when there is none.  gpg takes the line that ends the
 * text's header lines ("Hash: SHA256") for the empty line and skips it,
 * whatever it is, and ends the text at the first line of five dashes. */
static const char *after_clear_text(const struct armor *a, const char *p, appc_error_t *err)
{
  bool headers = true;

  for (p = next_line(p, a->end); p < a->end; p = next_line(p, a->end)) {
    const char *e = line_end(p, a->end);
    if (headers && blank_line(p, e)) {
      headers = false;
      continue;
    }
    if (!starts_with(p, e, DASHES))
      continue;
    if (!headers && armor_line(p, e) == ARMOR_SIGNATURE)
      return p;
    refuse(a, p, err,
           headers ? "a line of dashes among the header lines of a clearsigned text, which gpg "
                     "would skip as their end"
                   : "a line of dashes in a clearsigned text, where gpg ends the text; only the "
                     "signature's BEGIN line may be there (the text's own are dash-escaped: "
                     "\"- -----\")");
    return NULL;
  }
  return p;
}

int appc_openpgp_armored_blocks(const char *data, size_t len, const char *what, const char *refusal,
                                appc_openpgp_block_fn *fn, void *arg, appc_error_t *err)
{
  const struct armor a = {data, data + len, what, refusal, fn, arg};
  const char *p = data;
  int blocks = 0;

  if (check_lines(&a, err) < 0)
    return -1;
  if (appc_lazy_bind(APPC_LAZY_CRYPTO, err) < 0)
    return appc_error_prefix(err, "%s", what);
  while (p < a.end) {
    int kind = armor_line(p, line_end(p, a.end));
    if (kind < 0) {
      p = next_line(p, a.end); /* text around the armor, which gpg skips too */
    } else if (kind == ARMOR_SIGNED_MESSAGE) {
      /* a clearsigned text: its lines are not packets; the signature's
       * block follows it */
      if ((p = after_clear_text(&a, p, err)) == NULL)
        return -1;
    } else {
      if (read_block(&a, next_line(p, a.end), &p, err) < 0)
        return -1;
      blocks++;
    }
  }
  return blocks;
}
