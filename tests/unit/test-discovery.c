/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of discovery/: meta tags in messy HTML, Link headers, template
 * rendering and the best-matching rule, and credential files.  The walk
 * itself talks to a real server in tests/integration/discover.sh. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#define SCRATCH_PREFIX "test-discovery"
#include "tests/unit/test-scratch.h"

#include "appc/discovery.h"
#include "discovery/internal.h"
#include "schema/json.h"
#include "appc/manifest.h"
#include "common/fs.h"
#include "common/header.h"
#include "common/macros.h"

static void put(const char *dir, const char *rel, const char *text)
{
  write_file(dir, rel, text, strlen(text));
}

/* ---- HTML ---------------------------------------------------------------- */

static struct appc_discovery_metas parse_html(const char *html)
{
  struct appc_discovery_metas m = {0};
  appc_error_t err = NULL;
  int r = appc_discovery_parse_html(html, strlen(html), &m, &err);

  assert_ok(r, &err);
  return m;
}

static void assert_meta(const struct appc_discovery_metas *m, size_t i, const char *rel,
                        const char *prefix, const char *url)
{
  assert_true(i < m->n);
  assert_string_equal(m->v[i].rel, rel);
  assert_string_equal(m->v[i].prefix, prefix);
  assert_string_equal(m->v[i].url, url);
}

static void test_html_plain(void **state)
{
  (void) state;
  struct appc_discovery_metas m = parse_html(
      "<!DOCTYPE html><html><head>"
      "<meta name=\"ac-discovery\" content=\"example.com https://e.com/{name}.{ext}\">"
      "<meta name=\"ac-discovery-pubkeys\" content=\"example.com https://e.com/keys.gpg\">"
      "</head></html>");
  assert_int_equal(m.n, 2);
  assert_meta(&m, 0, "ac-discovery", "example.com", "https://e.com/{name}.{ext}");
  assert_meta(&m, 1, "ac-discovery-pubkeys", "example.com", "https://e.com/keys.gpg");
  appc_discovery_metas_clear(&m);
}

/* A start tag keeps its first 64 attributes: a meta tag whose own come
 * first is read whatever follows them; one whose come after 64 others is
 * not (and a page of 200,000 attributes in one tag parses at once). */
static void test_html_attribute_limit(void **state)
{
  (void) state;
  const char *meta = "name=\"ac-discovery\" content=\"example.com https://e.com/{name}.{ext}\" ";
  size_t n = 200000, cap = n * 12 + 1024, len = 0;
  char *page = malloc(cap);
  assert_non_null(page);
  len += (size_t) sprintf(page + len, "<html><head><meta %s", meta);
  for (size_t i = 0; i < n; i++)
    len += (size_t) sprintf(page + len, "a%zu='>' ", i);
  strcpy(page + len, "></head></html>");
  struct appc_discovery_metas m = parse_html(page);
  assert_int_equal(m.n, 1);
  assert_meta(&m, 0, "ac-discovery", "example.com", "https://e.com/{name}.{ext}");
  appc_discovery_metas_clear(&m);

  len = (size_t) sprintf(page, "<html><head><meta ");
  for (size_t i = 0; i < 64; i++)
    len += (size_t) sprintf(page + len, "x%zu=1 ", i);
  sprintf(page + len, "%s></head></html>", meta);
  m = parse_html(page);
  assert_int_equal(m.n, 0);
  appc_discovery_metas_clear(&m);
  free(page);
}

static void test_html_messy(void **state)
{
  (void) state;
  struct appc_discovery_metas m = parse_html(
      "<html><HEAD><META CONTENT='a.com   https://a.com/{name}.{ext}  ' NAME=\"AC-Discovery\">"
      "<meta name=ac-discovery-pubkeys content=\"a.com https://a.com/k\"\n"
      "<!-- <meta name=\"ac-discovery\" content=\"evil.com https://evil/{name}.{ext}\"> -->"
      "<body><p>text<table><tr><td><meta name=\"ac-discovery\" content=\"\ta.com\t"
      "https://b.com/{name}.{ext}\">"
      "<meta name=\"ac-discovery\" content=\"only-a-prefix\">"
      "<meta name=\"other\" content=\"a.com https://c.com/\">");
  assert_int_equal(m.n, 3);
  assert_meta(&m, 0, "ac-discovery", "a.com", "https://a.com/{name}.{ext}");
  assert_meta(&m, 1, "ac-discovery-pubkeys", "a.com", "https://a.com/k");
  assert_meta(&m, 2, "ac-discovery", "a.com", "https://b.com/{name}.{ext}");
  appc_discovery_metas_clear(&m);
}

/* A '/' between attributes is white space to HTML5's tokenizer (and the
 * reference's): <meta/name=.../content=...> is a meta tag.  One just
 * before the '>' closes the tag; one inside a value is the value's. */
static void test_html_slash_between_attributes(void **state)
{
  (void) state;
  struct appc_discovery_metas m = parse_html(
      "<html><head><meta/name=\"ac-discovery\"/content=\"a.com https://a.com/{name}.{ext}\">"
      "<meta/name='ac-discovery-pubkeys'/content='a.com https://a.com/k'/>"
      "<meta / name=ac-discovery / content=\"b.com https://b.com/x/{name}.{ext}\" />"
      "<META//CONTENT=\"c.com https://c.com//{name}.{ext}\"//NAME=\"ac-discovery\"//>"
      "</head><body></body></html>");
  assert_int_equal(m.n, 4);
  assert_meta(&m, 0, "ac-discovery", "a.com", "https://a.com/{name}.{ext}");
  assert_meta(&m, 1, "ac-discovery-pubkeys", "a.com", "https://a.com/k");
  assert_meta(&m, 2, "ac-discovery", "b.com", "https://b.com/x/{name}.{ext}");
  assert_meta(&m, 3, "ac-discovery", "c.com", "https://c.com//{name}.{ext}");
  appc_discovery_metas_clear(&m);
}

static void test_html_garbage(void **state)
{
  (void) state;
  const char *inputs[] = {"",         "\x01\x02\xff\xfe",
                          "<<<<>>>>", "{\"json\": true}",
                          "<meta",    "<meta name=\"ac-discovery\" content=\""};
  for (size_t i = 0; i < ARRAY_SIZE(inputs); i++) {
    struct appc_discovery_metas m = parse_html(inputs[i]);
    assert_int_equal(m.n, 0);
    appc_discovery_metas_clear(&m);
  }
}

/* The library never prints: libxml2 reports a page's bytes that are not
 * in its declared charset ("encoding error : input conversion failed")
 * through its generic error handler whatever the parse options say, and
 * that handler wrote to stderr.  A server chooses the page. */
static void test_html_encoding_error_quiet(void **state)
{
  static const char page[] = "<html><head><meta charset=\"EUC-JP\"><meta name=\"ac-discovery\" "
                             "content=\"example.com https://example.com/{name}.{ext}\">"
                             "\xff\xfe\x80</head><body>\xff\xfe\x80</body></html>";
  char path[] = "/tmp/test-discovery-stderr-XXXXXX";
  int fd = mkstemp(path);
  int saved = dup(2);
  struct stat st;

  (void) state;
  assert_true(fd >= 0 && saved >= 0);
  unlink(path);
  fflush(stderr);
  assert_int_equal(dup2(fd, 2), 2);
  for (int i = 0; i < 3; i++) {
    struct appc_discovery_metas m = parse_html(page);
    assert_int_equal(m.n, 1);
    appc_discovery_metas_clear(&m);
  }
  fflush(stderr);
  assert_int_equal(dup2(saved, 2), 2);
  close(saved);
  assert_int_equal(fstat(fd, &st), 0);
  assert_int_equal(st.st_size, 0);
  close(fd);
}

/* Tags that an HTML5 parser reads as text are no meta elements: the
 * content of <title> and <textarea> (RCDATA), of <script>, <style>, <xmp>,
 * <iframe>, <noembed>, <noframes>, <noscript> (raw text, as the reference's
 * tokenizer reads them) and everything after
 * <plaintext>; "<![CDATA[" in HTML, a bogus comment up to the first '>';
 * a tag cut off by the end of the page. */
static void test_html_text_is_not_meta(void **state)
{
  (void) state;
#define EVIL "<meta name=\"ac-discovery\" content=\"evil.com https://evil/{name}.{ext}\">"
  const char *pages[] = {
      "<html><head><title>" EVIL "</title></head></html>",
      "<html><head><title>a " EVIL " b</title>",
      "<html><body><textarea>" EVIL "</textarea></body></html>",
      "<html><body><textarea>" EVIL,
      "<html><head><script>var s = '" EVIL "';</script></head></html>",
      "<html><head><style>/* " EVIL " */</style></head></html>",
      "<html><body><xmp>" EVIL "</xmp></body></html>",
      "<html><body><iframe>" EVIL "</iframe></body></html>",
      "<html><body><noembed>" EVIL "</noembed></body></html>",
      "<html><body><noframes>" EVIL "</noframes></body></html>",
      "<html><head><noscript>" EVIL "</noscript></head></html>",
      "<html><body><plaintext>" EVIL "</plaintext>" EVIL,
      "<html><body><![CDATA[" EVIL "]]></body></html>",
      "<html><head><script>//<![CDATA[\n</script><![CDATA[" EVIL "]]>",
      "<html><head><meta name=\"ac-discovery\" content=\"evil.com https://evil/{name}.{ext}\"",
      "<html><head><meta name=\"ac-discovery\" content=\"evil.com https://evil/{name}.{ext}\" ",
      "<html><head><meta name=\"ac-discovery\" content=\"evil.com https://evil/{name}.{ext}",
      "<html><head><meta name=ac-discovery content=evil.com",
  };
#undef EVIL
  size_t bad = 0;
  for (size_t i = 0; i < ARRAY_SIZE(pages); i++) {
    struct appc_discovery_metas m = parse_html(pages[i]);
    if (m.n != 0) {
      print_error("page %zu gave %zu meta tags: %s\n", i, m.n, pages[i]);
      bad++;
    }
    appc_discovery_metas_clear(&m);
  }
  assert_int_equal(bad, 0);
}

/* What the text elements above must not hide: a meta tag after them. */
static void test_html_meta_after_text(void **state)
{
  (void) state;
  struct appc_discovery_metas m =
      parse_html("<html><head><title>t</title><script>x</script>"
                 "<meta name=\"ac-discovery\" content=\"a.com https://a/{name}.{ext}\">"
                 "</head><body><textarea>y</textarea><!-- c --><![CDATA[x]]>"
                 "<meta name=\"ac-discovery\" content=\"a.com https://b/{name}.{ext}\"></body>");
  assert_int_equal(m.n, 2);
  assert_meta(&m, 0, "ac-discovery", "a.com", "https://a/{name}.{ext}");
  assert_meta(&m, 1, "ac-discovery", "a.com", "https://b/{name}.{ext}");
  appc_discovery_metas_clear(&m);
  /* A CDATA section in a script is the script's text, not a comment. */
  m = parse_html("<script>//<![CDATA[\nx = 1;\n//]]></script>"
                 "<meta name=\"ac-discovery\" content=\"a.com https://c/{name}.{ext}\">");
  assert_int_equal(m.n, 1);
  assert_meta(&m, 0, "ac-discovery", "a.com", "https://c/{name}.{ext}");
  appc_discovery_metas_clear(&m);
}

/* Where a comment ends, as HTML5's comment states (and the reference's
 * tokenizer) find it: "<!-->" and "<!--->" are whole empty comments and
 * "--!>" closes one, so the meta tag after them counts; "<!--!>", "-- >"
 * and "--!->" close nothing, so the meta tag after them is comment. */
/* ---- the server's charset (Content-Type) ---- */

#define CHARSET_META                                                                               \
  "<meta name=\"ac-discovery\" content=\"example.com https://e.com/{name}.{ext}\">"

/* TEXT (ASCII) as UTF-16LE, with no byte order mark: its length in *LEN. */
static char *utf16le(const char *text, size_t *len)
{
  size_t n = strlen(text);
  char *out = malloc(2 * n);

  assert_non_null(out);
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = text[i];
    out[2 * i + 1] = '\0';
  }
  *len = 2 * n;
  return out;
}

static size_t count_metas(const char *html, size_t len, const char *charset)
{
  struct appc_discovery_metas m = {0};
  appc_error_t err = NULL;
  int r = appc_discovery_parse_html_charset(html, len, charset, &m, &err);

  assert_ok(r, &err);
  size_t n = m.n;
  if (n > 0)
    assert_meta(&m, 0, "ac-discovery", "example.com", "https://e.com/{name}.{ext}");
  appc_discovery_metas_clear(&m);
  return n;
}

static void test_html_charset_from_the_server(void **state)
{
  (void) state;
  size_t len;
  char *page = utf16le("<html><head>" CHARSET_META "</head></html>", &len);

  /* UTF-16 without a byte order mark: only the server's word says so */
  assert_int_equal(count_metas(page, len, "utf-16le"), 1);
  assert_int_equal(count_metas(page, len, "UTF-16LE"), 1);
  assert_int_equal(count_metas(page, len, NULL), 0);
  /* a name the parser does not know, or not a charset name, is ignored */
  assert_int_equal(count_metas(page, len, "x-no-such-charset"), 0);
  assert_int_equal(count_metas(page, len, "utf-16le\"; x=<"), 0);
  free(page);
  const char *ascii = "<html><head>" CHARSET_META "</head></html>";
  assert_int_equal(count_metas(ascii, strlen(ascii), "x-no-such-charset"), 1);
  assert_int_equal(count_metas(ascii, strlen(ascii), ""), 1);
}

static void test_html_charset_order(void **state)
{
  (void) state;
  appc_error_t err = NULL;

  /* a byte order mark wins over the server's charset */
  const char *bom = "\xEF\xBB\xBF<html><head>" CHARSET_META "</head></html>";
  assert_int_equal(count_metas(bom, strlen(bom), "utf-16le"), 1);
  /* the server's charset wins over the page's own <meta charset> */
  const char *latin1 = "<html><head><meta charset=\"utf-8\">"
                       "<meta name=\"ac-discovery\" content=\"example.com https://e.com/caf\xE9\">"
                       "</head></html>";
  struct appc_discovery_metas m = {0};
  assert_ok(appc_discovery_parse_html_charset(latin1, strlen(latin1), "iso-8859-1", &m, &err),
            &err);
  assert_meta(&m, 0, "ac-discovery", "example.com", "https://e.com/caf\xC3\xA9");
  appc_discovery_metas_clear(&m);
  /* without it, the page's <meta charset> is followed */
  const char *declared =
      "<html><head><meta charset=\"iso-8859-1\">"
      "<meta name=\"ac-discovery\" content=\"example.com https://e.com/caf\xE9\">"
      "</head></html>";
  assert_ok(appc_discovery_parse_html_charset(declared, strlen(declared), NULL, &m, &err), &err);
  assert_meta(&m, 0, "ac-discovery", "example.com", "https://e.com/caf\xC3\xA9");
  appc_discovery_metas_clear(&m);
}

static void test_content_type_charset(void **state)
{
  (void) state;
  static const struct {
    const char *value, *charset;
  } cases[] = {
      {"text/html; charset=utf-16le", "utf-16le"},
      {"text/html;charset=\"ISO-8859-1\"", "ISO-8859-1"},
      {"text/html; q=1; CHARSET = \"a\\\"b\"", "a\"b"},
      {"text/html", NULL},
      {"text/html; charset", NULL},
      {"text/html; x=\"unterminated; charset=utf-8", NULL},
      {"text/html; xcharset=utf-8", NULL},
      {NULL, NULL},
  };

  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    char *got = appc_header_media_param(cases[i].value, "charset");
    if (cases[i].charset == NULL)
      assert_null(got);
    else
      assert_string_equal(got, cases[i].charset);
    free(got);
  }
}

static void test_html_comment_ends(void **state)
{
  (void) state;
#define META "<meta name=\"ac-discovery\" content=\"a.com https://a/{name}.{ext}\">"
  const char *closed[] = {
      "<!-- x -->" META, "<!-->" META,           "<!--->" META,   "<!---->" META,
      "<!----->" META,   "<!-- x --!>" META,     "<!----!>" META, "<!-- x --!-->" META,
      "<!--x--->" META,  "<!-- <!-- x -->" META, "<!-->-->" META, "<!--->-->" META,
  };
  const char *open[] = {
      "<!--!>" META,     "<!---!>" META,   "<!-- x -- >" META, "<!-- x --!->" META,
      "<!-- x -!>" META, "<!-- x ->" META, "<!-- x --!" META,  "<!--" META,
  };
#undef META
  size_t bad = 0;
  for (size_t i = 0; i < ARRAY_SIZE(closed) + ARRAY_SIZE(open); i++) {
    bool is_closed = i < ARRAY_SIZE(closed);
    const char *page = is_closed ? closed[i] : open[i - ARRAY_SIZE(closed)];
    struct appc_discovery_metas m = parse_html(page);
    if (m.n != (is_closed ? 1 : 0)) {
      print_error("%zu meta tags, not %d: %s\n", m.n, is_closed, page);
      bad++;
    }
    appc_discovery_metas_clear(&m);
  }
  assert_int_equal(bad, 0);
}

static void test_html_deep_nesting(void **state)
{
  (void) state;
  size_t depth = 100000;
  char *html = malloc(depth * 5 + 200);
  size_t n = 0;
  for (size_t i = 0; i < depth; i++) {
    memcpy(html + n, "<div>", 5);
    n += 5;
  }
  strcpy(html + n, "<meta name=\"ac-discovery\" content=\"a https://a/{name}.{ext}\">");
  struct appc_discovery_metas m = parse_html(html);
  /* Nothing crashes or recurses without bound, and the tag counts. */
  assert_int_equal(m.n, 1);
  appc_discovery_metas_clear(&m);
  free(html);
}

/* libxml2 (2.9) stops at an element nested 256 deep, and lost every meta
 * tag after it: a browser, and the reference, read on. */
static void test_html_deep_then_closed(void **state)
{
  (void) state;
  static const char meta[] = "<meta name=\"ac-discovery\" content=\"a https://a/{name}.{ext}\">";
  size_t depth = 300;
  char *html = malloc(depth * 11 + sizeof meta);
  size_t n = 0;

  assert_non_null(html);
  for (size_t i = 0; i < depth; i++, n += 5)
    memcpy(html + n, "<div>", 5);
  for (size_t i = 0; i < depth; i++, n += 6)
    memcpy(html + n, "</div>", 6);
  memcpy(html + n, meta, sizeof meta);
  struct appc_discovery_metas m = parse_html(html);
  assert_int_equal(m.n, 1);
  assert_meta(&m, 0, "ac-discovery", "a", "https://a/{name}.{ext}");
  appc_discovery_metas_clear(&m);
  free(html);
}

#define FFFD "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */

static struct appc_discovery_metas parse_bytes(const char *html, size_t len, const char *charset)
{
  struct appc_discovery_metas m = {0};
  appc_error_t err = NULL;
  int r = appc_discovery_parse_html_charset(html, len, charset, &m, &err);

  assert_ok(r, &err);
  return m;
}

/* HTML5 reads a NUL as U+FFFD (in an attribute value, as anywhere) and
 * reads on: it ended the value, and hid every meta tag after it. */
static void test_html_nul(void **state)
{
  (void) state;
  static const char page[] =
      "<meta name=\"ac-discovery\" content=\"a https://a/{name}\0x.{ext}\">"
      "<me\0ta name=\"ac-discovery\" content=\"a https://evil/{name}.{ext}\">"
      "<meta name=\"ac-discovery\" content=\"a https://b/{name}.{ext}\">";
  struct appc_discovery_metas m = parse_bytes(page, sizeof page - 1, NULL);

  assert_int_equal(m.n, 2);
  assert_meta(&m, 0, "ac-discovery", "a", "https://a/{name}" FFFD "x.{ext}");
  assert_meta(&m, 1, "ac-discovery", "a", "https://b/{name}.{ext}");
  appc_discovery_metas_clear(&m);
}

/* A page read as UTF-8 is decoded as a browser decodes it: each invalid
 * sequence (its maximal subpart, WHATWG's UTF-8 decoder) is one U+FFFD,
 * and what follows is still UTF-8.  libxml2 read all after the first
 * invalid byte as ISO-8859-1: "caf\xC3\xA9" came out as "caf\xC3\x83\xC2\xA9". */
static void test_html_invalid_utf8(void **state)
{
  (void) state;
  static const char *const before[] = {
      "",
      "<meta charset=\"utf-8\">",
      "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\">",
      "\xEF\xBB\xBF",
      /* a meta tag declaring UTF-16 was read as ASCII: HTML reads UTF-8 */
      "<meta charset=\"utf-16le\">",
  };
  static const char *const charsets[] = {NULL, "utf-8", "UTF8", "x-unknown"};
  char page[512];
  size_t bad = 0;

  for (size_t i = 0; i < ARRAY_SIZE(before); i++) {
    for (size_t j = 0; j < ARRAY_SIZE(charsets); j++) {
      int len = snprintf(page, sizeof page,
                         "%s<p>caf\xE9 \xFF</p><meta name=\"ac-discovery\" content=\"a "
                         "https://a/caf\xC3\xA9/\xE2\x82|\xE0\x80|\xED\xA0\x80|\xF0\x9F\x98\">",
                         before[i]);
      struct appc_discovery_metas m = parse_bytes(page, (size_t) len, charsets[j]);
      const char *want = "https://a/caf\xC3\xA9/" FFFD "|" FFFD FFFD "|" FFFD FFFD FFFD "|" FFFD;
      if (m.n != 1 || strcmp(m.v[0].url, want) != 0) {
        print_error("before %zu, charset %s: %zu tags, %s\n", i, charsets[j] ? charsets[j] : "-",
                    m.n, m.n > 0 ? m.v[0].url : "");
        bad++;
      }
      appc_discovery_metas_clear(&m);
    }
  }
  assert_int_equal(bad, 0);
}

/* A charset other than UTF-8 is left to the parser, for the whole page:
 * from the page's first meta tag declaring one it knows, however late
 * (libxml2 read the bytes before it as UTF-8, and the first that was not
 * made it read the rest as ISO-8859-1, the declaration unheard). */
static void test_html_declared_charset(void **state)
{
  (void) state;
  static const char *const pages[] = {
      "<title>caf\xE9</title><meta charset=\"windows-1252\">"
      "<meta name=\"ac-discovery\" content=\"a https://a/caf\xE9\x80\">",
      "<title>caf\xE9</title><meta http-equiv=content-type content='text/html;charset=cp1252'>"
      "<meta name=\"ac-discovery\" content=\"a https://a/caf\xE9\x80\">",
      "<meta charset=\"x-no-such-charset\"><title>caf\xE9</title><meta charset=\" cp1252 \">"
      "<meta name=\"ac-discovery\" content=\"a https://a/caf\xE9\x80\">",
  };
  size_t bad = 0;

  for (size_t i = 0; i < ARRAY_SIZE(pages); i++) {
    struct appc_discovery_metas m = parse_html(pages[i]);
    if (m.n != 1 || strcmp(m.v[0].url, "https://a/caf\xC3\xA9\xE2\x82\xAC") != 0) {
      print_error("page %zu: %zu tags, %s\n", i, m.n, m.n > 0 ? m.v[0].url : "");
      bad++;
    }
    appc_discovery_metas_clear(&m);
  }
  assert_int_equal(bad, 0);
  /* Not one that a declaration inside a comment or a script names. */
  struct appc_discovery_metas m =
      parse_html("<!-- <meta charset=\"windows-1252\"> --><script>'<meta charset=cp1252>'</script>"
                 "<meta name=\"ac-discovery\" content=\"a https://a/caf\xC3\xA9\">");
  assert_int_equal(m.n, 1);
  assert_meta(&m, 0, "ac-discovery", "a", "https://a/caf\xC3\xA9");
  appc_discovery_metas_clear(&m);
}

/* ---- Link headers ------------------------------------------------------- */

static struct appc_discovery_metas parse_link(const char *value)
{
  struct appc_discovery_metas m = {0};
  appc_error_t err = NULL;
  int r = appc_discovery_parse_link(value, &m, &err);

  assert_ok(r, &err);
  return m;
}

static void test_link_two_in_one(void **state)
{
  (void) state;
  struct appc_discovery_metas m =
      parse_link("<https://a.com/{name}-{version}.{ext}>; rel=\"ac-discovery\"; prefix=\"a.com\", "
                 "<https://a.com/keys.gpg>; rel=ac-discovery-pubkeys; prefix=a.com");
  assert_int_equal(m.n, 2);
  assert_meta(&m, 0, "ac-discovery", "a.com", "https://a.com/{name}-{version}.{ext}");
  assert_meta(&m, 1, "ac-discovery-pubkeys", "a.com", "https://a.com/keys.gpg");
  appc_discovery_metas_clear(&m);
}

static void test_link_params(void **state)
{
  (void) state;
  /* prefix before rel, odd spacing, a quoted value with an escape and a
   * comma, several rel types, unrelated links and parameters. */
  struct appc_discovery_metas m =
      parse_link("<https://x/style.css>; rel=stylesheet,"
                 "<https://a.com/{name}.{ext}>;prefix=\"a.com\" ;  REL=\"next "
                 "AC-DISCOVERY\";title=\"a, \\\"b\\\"\","
                 "<https://k/>; rel=\"ac-discovery-pubkeys ac-discovery\"; prefix=\"k\"");
  assert_int_equal(m.n, 3);
  assert_meta(&m, 0, "ac-discovery", "a.com", "https://a.com/{name}.{ext}");
  assert_meta(&m, 1, "ac-discovery-pubkeys", "k", "https://k/");
  assert_meta(&m, 2, "ac-discovery", "k", "https://k/");
  appc_discovery_metas_clear(&m);
}

static void test_link_malformed(void **state)
{
  (void) state;
  /* No prefix, no rel, no <>, unterminated pieces: skipped; the good link
   * after a bad one still counts. */
  struct appc_discovery_metas m =
      parse_link("<https://n/>; rel=ac-discovery, https://bare; rel=ac-discovery; prefix=a, "
                 "<https://u/; rel=ac-discovery; prefix=a, <https://q/>; rel=\"ac-discovery; "
                 "prefix=a");
  assert_int_equal(m.n, 0);
  appc_discovery_metas_clear(&m);
  m = parse_link("garbage;;;, <https://ok/{name}.{ext}>; rel=ac-discovery; prefix=ok");
  assert_int_equal(m.n, 1);
  assert_meta(&m, 0, "ac-discovery", "ok", "https://ok/{name}.{ext}");
  appc_discovery_metas_clear(&m);
  const char *junk[] = {"", ",,,", "<", ">", ";", "\"", "<a>;", "<a>; rel", "<a>; =x", "<a>;rel="};
  for (size_t i = 0; i < ARRAY_SIZE(junk); i++) {
    m = parse_link(junk[i]);
    assert_int_equal(m.n, 0);
    appc_discovery_metas_clear(&m);
  }
}

/* ---- templates ----------------------------------------------------------- */

static void add_label(struct appc_kv_list *l, const char *name, const char *value)
{
  l->items = realloc(l->items, (l->len + 1) * sizeof *l->items);
  l->items[l->len].name = strdup(name);
  l->items[l->len].value = strdup(value);
  l->len++;
}

static void assert_render(const char *tmpl, const struct appc_kv_list *labels, const char *aci,
                          unsigned score)
{
  appc_error_t err = NULL;
  char *a = NULL, *s = NULL;
  unsigned got = 99;
  int r = appc_discovery_render(tmpl, "example.com/app", labels, &a, &s, &got, &err);

  assert_ok(r, &err);
  if (aci == NULL) {
    assert_int_equal(r, 0);
    return;
  }
  assert_int_equal(r, 1);
  assert_string_equal(a, aci);
  assert_int_equal(strlen(s), strlen(aci) + 4);
  assert_memory_equal(s, aci, strlen(aci));
  assert_string_equal(s + strlen(aci), ".asc");
  assert_int_equal(got, score);
  free(a);
  free(s);
}

static void test_render(void **state)
{
  (void) state;
  struct appc_kv_list none = {0};
  struct appc_kv_list l = {0};
  char os_arch[64];

  snprintf(os_arch, sizeof os_arch, "%s-%s", appc_host_os(), appc_host_arch());
  char want[256];
  snprintf(want, sizeof want, "https://s/example.com/app-latest-%s.aci", os_arch);
  /* version defaults to latest (not counted); os and arch to the host's
   * (counted as given). */
  assert_render("https://s/{name}-{version}-{os}-{arch}.{ext}", &none, want, 2);
  assert_render("https://s/{name}.{ext}", &none, "https://s/example.com/app.aci", 0);
  add_label(&l, "version", "1.0.0");
  add_label(&l, "channel", "beta");
  assert_render("https://s/{channel}/{name}-{version}.{ext}", &l,
                "https://s/beta/example.com/app-1.0.0.aci", 2);
  /* a label used twice counts once */
  assert_render("https://s/{version}/{name}-{version}.{ext}", &l,
                "https://s/1.0.0/example.com/app-1.0.0.aci", 1);
  /* an unknown variable drops the template */
  assert_render("https://s/{name}-{flavor}.{ext}", &l, NULL, 0);
  assert_render("https://s/{}.{ext}", &l, NULL, 0);
  /* a lone brace is text */
  assert_render("https://s/{name.{ext}", &none, NULL, 0);
  assert_render("https://s/name}.{ext}", &none, "https://s/name}.aci", 0);
  /* values are not substituted again */
  struct appc_kv_list tricky = {0};
  add_label(&tricky, "version", "{name}");
  assert_render("https://s/{version}.{ext}", &tricky, "https://s/{name}.aci", 1);
  /* an empty version is none: {version} is latest (the reference's
   * doDiscover), not counted */
  struct appc_kv_list empty = {0};
  add_label(&empty, "version", "");
  assert_render("https://s/{name}-{version}.{ext}", &empty, "https://s/example.com/app-latest.aci",
                0);
  /* another empty label stays empty */
  add_label(&empty, "channel", "");
  assert_render("https://s/{name}-{channel}.{ext}", &empty, "https://s/example.com/app-.aci", 1);
  appc_kv_list_clear(&l);
  appc_kv_list_clear(&tricky);
  appc_kv_list_clear(&empty);
}

/* Many '{' with no '}' after them (a 4 MiB page's worth) are text, found so
 * in linear time: the old search for a '}' from every '{' took minutes. */
static void test_render_lone_braces(void **state)
{
  (void) state;
  const size_t n = 4u << 20;
  const char *head = "https://s/{name}.{ext}/";
  const char *want = "https://s/example.com/app.aci/";
  char *tmpl = malloc(strlen(head) + n + 1);
  appc_error_t err = NULL;
  char *a = NULL, *s = NULL;
  unsigned score = 99;
  int r;

  assert_non_null(tmpl);
  strcpy(tmpl, head);
  memset(tmpl + strlen(head), '{', n);
  tmpl[strlen(head) + n] = '\0';
  alarm(10);
  r = appc_discovery_render(tmpl, "example.com/app", NULL, &a, &s, &score, &err);
  alarm(0);
  assert_ok(r, &err);
  assert_int_equal(r, 1);
  assert_int_equal(strlen(a), strlen(want) + n);
  assert_memory_equal(a, want, strlen(want));
  assert_int_equal(strspn(a + strlen(want), "{"), n);
  assert_int_equal(strncmp(s, "https://s/example.com/app.aci.asc/{", 35), 0);
  assert_int_equal(strlen(s), strlen(want) + 4 + n);
  assert_int_equal(score, 0);
  free(tmpl);
  free(a);
  free(s);
}

/* ---- credentials ------------------------------------------------------- */

static void test_auth(void **state)
{
  (void) state;
  char *dir = scratch_new();
  struct appc_auth_config c = {0};
  appc_error_t err = NULL;

  put(dir, "auth.d/10-basic.json",
      "{\"actoolKind\":\"auth\",\"actoolVersion\":\"v1\",\"domains\":[\"a.com\","
      "\"b.com:8443\"],\"type\":\"basic\",\"credentials\":{\"user\":\"u\",\"password\":\"p\"}}");
  put(dir, "auth.d/20-rkt.json",
      "{\"rktKind\":\"auth\",\"rktVersion\":\"v1\",\"domains\":[\"c.com\"],\"type\":\"oauth\","
      "\"credentials\":{\"token\":\"T\"}}");
  put(dir, "auth.d/README", "not json, not read");
  char *auth = path_join(dir, "auth.d");
  int r = appc_auth_load(auth, &c, &err);
  assert_ok(r, &err);
  assert_int_equal(c.n, 2);
  const struct appc_auth_entry *e = appc_auth_find(&c, "A.com", "a.com:443");
  assert_non_null(e);
  assert_int_equal(e->type, APPC_AUTH_BASIC);
  assert_string_equal(e->user, "u");
  assert_null(appc_auth_find(&c, "b.com", "b.com:443"));
  assert_non_null(appc_auth_find(&c, "b.com", "b.com:8443"));
  e = appc_auth_find(&c, "c.com", NULL);
  assert_non_null(e);
  assert_int_equal(e->type, APPC_AUTH_BEARER);
  assert_string_equal(e->token, "T");
  assert_null(appc_auth_find(&c, "d.com", NULL));
  appc_auth_clear(&c);

  /* a missing directory holds no credentials */
  char *missing = path_join(dir, "nope");
  r = appc_auth_load(missing, &c, &err);
  assert_ok(r, &err);
  assert_int_equal(c.n, 0);

  const char *bad[][2] = {
      {"{", "not valid JSON"},
      {"{\"actoolKind\":\"pod\",\"actoolVersion\":\"v1\"}", "actoolKind"},
      {"{\"actoolKind\":\"auth\",\"actoolVersion\":\"v2\"}", "actoolVersion"},
      {"{\"actoolKind\":\"auth\",\"actoolVersion\":\"v1\",\"domains\":[]}", "domains"},
      {"{\"actoolKind\":\"auth\",\"actoolVersion\":\"v1\",\"domains\":[\"a\"],\"type\":\"basic\","
       "\"credentials\":{\"user\":\"u\"}}",
       "credentials.password"},
      {"{\"actoolKind\":\"auth\",\"actoolVersion\":\"v1\",\"domains\":[\"a\"],\"type\":\"digest\","
       "\"credentials\":{}}",
       "type"},
      /* U+0000 would cut the name: credentials for "exa" (found by fuzzing). */
      {"{\"actoolKind\":\"auth\",\"actoolVersion\":\"v1\",\"domains\":[\"exa\\u0000mple.com\"],"
       "\"type\":\"basic\",\"credentials\":{\"user\":\"u\",\"password\":\"p\"}}",
       "domains[0]: a host name is required"},
      {"{\"actoolKind\":\"auth\",\"actoolVersion\":\"v1\",\"domains\":[\"a\"],\"type\":\"basic\","
       "\"credentials\":{\"user\":\"u\",\"password\":\"p\\u0000q\"}}",
       "credentials.password: must not contain U+0000"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    char *d2 = path_join(dir, "bad");
    put(dir, "bad/x.json", bad[i][0]);
    r = appc_auth_load(d2, &c, &err);
    if (r == 0)
      fail_msg("case %zu accepted", i);
    assert_error_contains(r, &err, bad[i][1]);
    assert_int_equal(c.n, 0);
    scratch_remove(d2);
  }

  /* A FIFO named *.json is refused at once, naming it: opened to be read,
   * it would wait for a writer for ever (the alarm ends a test that
   * hangs). */
  char *d3 = path_join(dir, "fifo");
  char *fifo = path_join(dir, "fifo/a.json");
  assert_int_equal(mkdir(d3, 0700), 0);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  alarm(20);
  r = appc_auth_load(d3, &c, &err);
  alarm(0);
  assert_error_contains(r, &err, "fifo/a.json: not a regular file");
  assert_int_equal(c.n, 0);
  free(fifo);
  free(d3);
  free(missing);
  free(auth);
  scratch_remove(dir);
}

/* ---- HTTP client options ------------------------------------------------- */

static void test_cacert_refused(void **state)
{
  (void) state;
  char *dir = scratch_new();
  struct appc_http *h = NULL;
  appc_error_t err = NULL;

  put(dir, "notpem", "hello");
  char *notpem = path_join(dir, "notpem");
  char *missing = path_join(dir, "missing.pem");
  struct appc_http_options o = {.cacert = notpem};
  int r = appc_http_new(&o, &h, &err);
  assert_error_contains(r, &err, "no PEM certificate");
  o.cacert = missing;
  r = appc_http_new(&o, &h, &err);
  assert_error_contains(r, &err, "missing.pem");
  /* A CERTIFICATE block that is none: the file's fault, said up front (not
   * every request's certificate "not trusted"). */
  put(dir, "bad.pem", "-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n");
  char *bad = path_join(dir, "bad.pem");
  o.cacert = bad;
  r = appc_http_new(&o, &h, &err);
  assert_error_contains(r, &err, "bad.pem: a PEM block that is not a readable certificate");
  free(bad);
  o.cacert = NULL;
  r = appc_http_new(&o, &h, &err);
  assert_ok(r, &err);
  /* Plain http is refused before any connection, as a condition callers
   * can tell (EPROTONOSUPPORT); the message names no option of actool's. */
  char *body = NULL;
  size_t len = 0;
  long status = 0;
  assert_tagged_error(appc_http_get(h, "http://127.0.0.1:9/x", 1024, &body, &len, &status, &err),
                      &err, EPROTONOSUPPORT, "http://127.0.0.1:9/x: plain http is not allowed");
  free(body);
  appc_http_free(h);
  free(notpem);
  free(missing);
  scratch_remove(dir);
}

/* download_max and download_deadline came with version 2: set with
 * version 0 they were silently dropped (an endless body was not cut);
 * operation_deadline came with version 3.  No options at all are the
 * defaults, not a crash. */
static void test_http_options_abi(void **state)
{
  struct appc_http *h = NULL;
  appc_error_t err = NULL;

  (void) state;
  struct appc_http_options o = {.download_max = 100};
  assert_tagged_error(appc_http_new(&o, &h, &err), &err, EINVAL,
                      "appc_http_options.download_max needs version >= 2, the caller gave 0");
  assert_null(h);
  o = (struct appc_http_options){.version = 1, .download_deadline = 5};
  assert_tagged_error(appc_http_new(&o, &h, &err), &err, EINVAL,
                      "appc_http_options.download_deadline needs version >= 2, the caller gave 1");
  o = (struct appc_http_options){.version = 2, .operation_deadline = 5};
  assert_tagged_error(appc_http_new(&o, &h, &err), &err, EINVAL,
                      "appc_http_options.operation_deadline needs version >= 3, the caller gave 2");
  o = (struct appc_http_options){
      .version = APPC_HTTP_OPTIONS_VERSION, .download_max = 100, .operation_deadline = 5};
  assert_ok(appc_http_new(&o, &h, &err), &err);
  appc_http_free(h);
  h = NULL;
  assert_ok(appc_http_new(NULL, &h, &err), &err);
  assert_non_null(h);
  appc_http_free(h);
}

/* A loopback port that takes connections (the kernel's backlog) and
 * never answers; its socket in *FD. */
static unsigned silent_port(int *fd)
{
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;

  *fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(*fd >= 0);
  assert_int_equal(bind(*fd, (struct sockaddr *) &a, sizeof a), 0);
  assert_int_equal(listen(*fd, 8), 0);
  assert_int_equal(getsockname(*fd, (struct sockaddr *) &a, &len), 0);
  return ntohs(a.sin_port);
}

/* An operation's deadline bounds every request made within it, whatever
 * the request's own limits (30 s here): one that gets no answer is cut
 * there, tagged ETIMEDOUT and naming the operation, and not retried.  An
 * inner begin and end (a dependency's fetch) neither extends nor lifts
 * it; the outer end does. */
static void test_http_operation_deadline(void **state)
{
  struct appc_http_options o = {.version = APPC_HTTP_OPTIONS_VERSION,
                                .allow_http = true,
                                .timeout = 30,
                                .retries = 3,
                                .operation_deadline = 1};
  struct appc_http *h = NULL;
  appc_error_t err = NULL;
  char *body = NULL, url[64];
  size_t len = 0;
  long status = 0;
  int fd;

  (void) state;
  snprintf(url, sizeof url, "http://127.0.0.1:%u/x.aci.asc", silent_port(&fd));
  assert_ok(appc_http_new(&o, &h, &err), &err);
  assert_false(appc_http_operation_expired(h));
  appc_http_operation_begin(h, "the fetch of example.com/app");
  appc_http_operation_begin(h, "the fetch of example.com/dependency");
  appc_http_operation_end(h);
  int64_t t0 = appc_monotonic_ms();
  assert_tagged_error(appc_http_get(h, url, 1024, &body, &len, &status, &err), &err, ETIMEDOUT,
                      "(the fetch of example.com/app not done within its 1 s deadline)");
  assert_true(appc_monotonic_ms() - t0 < 5000);
  assert_true(appc_http_operation_expired(h));
  appc_http_operation_end(h);
  assert_false(appc_http_operation_expired(h));
  appc_http_operation_end(h); /* one too many: nothing to end */
  assert_false(appc_http_operation_expired(h));
  appc_http_free(h);
  close(fd);
}

/* A download declared larger than the client's download_max is refused
 * before any request (no connection is tried: port 9 would refuse it),
 * tagged as the cap a caller can raise; one declared at the cap is tried. */
static void test_http_declared_size_capped(void **state)
{
  struct appc_http_options o = {.version = APPC_HTTP_OPTIONS_VERSION, .download_max = 100};
  struct appc_http *h = NULL;
  appc_error_t err = NULL;
  char *dir = scratch_new();
  char *path = NULL;

  (void) state;
  assert_ok(appc_http_new(&o, &h, &err), &err);
  assert_true(asprintf(&path, "%s/blob", dir) > 0);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  struct appc_http_download d = {.url = "https://127.0.0.1:9/blob", .fd = fd, .max_size = 101};
  assert_tagged_error(appc_http_download(h, &d, &err), &err, EMSGSIZE,
                      "https://127.0.0.1:9/blob: declared to be 101 bytes, more than 100, the most "
                      "a download may be");
  assert_int_equal(d.status, 0);
  appc_http_download_clear(&d);
  d = (struct appc_http_download){.url = "https://127.0.0.1:9/blob", .fd = fd, .max_size = 100};
  assert_int_equal(appc_http_download(h, &d, &err), -1);
  assert_non_null(err);
  assert_int_not_equal(err->errnum, EMSGSIZE);
  appc_error_release(&err);
  appc_http_download_clear(&d);
  close(fd);
  appc_http_free(h);
  free(path);
  scratch_remove(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_html_plain),
      cmocka_unit_test(test_html_messy),
      cmocka_unit_test(test_html_slash_between_attributes),
      cmocka_unit_test(test_html_garbage),
      cmocka_unit_test(test_html_encoding_error_quiet),
      cmocka_unit_test(test_html_deep_nesting),
      cmocka_unit_test(test_html_deep_then_closed),
      cmocka_unit_test(test_html_nul),
      cmocka_unit_test(test_html_invalid_utf8),
      cmocka_unit_test(test_html_declared_charset),
      cmocka_unit_test(test_html_text_is_not_meta),
      cmocka_unit_test(test_html_meta_after_text),
      cmocka_unit_test(test_html_comment_ends),
      cmocka_unit_test(test_html_charset_from_the_server),
      cmocka_unit_test(test_html_charset_order),
      cmocka_unit_test(test_content_type_charset),
      cmocka_unit_test(test_html_attribute_limit),
      cmocka_unit_test(test_link_two_in_one),
      cmocka_unit_test(test_link_params),
      cmocka_unit_test(test_link_malformed),
      cmocka_unit_test(test_render),
      cmocka_unit_test(test_render_lone_braces),
      cmocka_unit_test(test_auth),
      cmocka_unit_test(test_cacert_refused),
      cmocka_unit_test(test_http_options_abi),
      cmocka_unit_test(test_http_operation_deadline),
      cmocka_unit_test(test_http_declared_size_capped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
