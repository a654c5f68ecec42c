/* SPDX-License-Identifier: Apache-2.0 */
/* Where discovery data comes from: meta tags of an HTML page (libxml2's
 * tolerant HTML parser) and Link headers (RFC 8288). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/HTMLparser.h>
#include <libxml/xmlerror.h>

#include "common/array.h"
#include "common/lazy.h"

#include "common/cleanup.h"
#include "common/header.h"
#include "appc/discovery.h"
#include "common/macros.h"
#include "common/utf8.h"

#define REL_ACI "ac-discovery"
#define REL_PUBKEYS "ac-discovery-pubkeys"

void appc_discovery_metas_clear(struct appc_discovery_metas *m)
{
  for (size_t i = 0; i < m->n; i++) {
    free(m->v[i].rel);
    free(m->v[i].prefix);
    free(m->v[i].url);
  }
  free(m->v);
  m->v = NULL;
  m->n = 0;
}

static int add_meta(struct appc_discovery_metas *out, const char *rel, const char *prefix,
                    size_t prefix_len, const char *url, size_t url_len, appc_error_t *err)
{
  if (APPC_ARRAY_EXTEND(out->v, out->n, 1) < 0)
    return appc_error_make(err, ENOMEM, "discovery data");
  struct appc_discovery_meta *m = &out->v[out->n];
  m->rel = strdup(rel);
  m->prefix = strndup(prefix, prefix_len);
  m->url = strndup(url, url_len);
  out->n++;
  if (m->rel == NULL || m->prefix == NULL || m->url == NULL)
    return appc_error_make(err, ENOMEM, "discovery data");
  return 0;
}

/* Whether S (LEN bytes) is WORD, in any case. */
static bool is_word(const char *s, size_t len, const char *word)
{
  return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

static const char *known_rel(const char *rel, size_t len)
{
  if (is_word(rel, len, REL_ACI))
    return REL_ACI;
  if (is_word(rel, len, REL_PUBKEYS))
    return REL_PUBKEYS;
  return NULL;
}

static bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* content="PREFIX URL": split at the first run of white space. */
static int add_content(struct appc_discovery_metas *out, const char *rel, const char *content,
                       appc_error_t *err)
{
  const char *p = content, *prefix, *url;
  size_t prefix_len, url_len;

  while (is_space(*p))
    p++;
  prefix = p;
  while (*p != '\0' && !is_space(*p))
    p++;
  prefix_len = (size_t) (p - prefix);
  while (is_space(*p))
    p++;
  url = p;
  url_len = strlen(url);
  while (url_len > 0 && is_space(url[url_len - 1]))
    url_len--;
  if (prefix_len == 0 || url_len == 0)
    return 0; /* incomplete: not discovery data */
  return add_meta(out, rel, prefix, prefix_len, url, url_len, err);
}

/* The value of attribute NAME of NODE, or NULL when it has none: the text
 * of its children, as xmlGetProp gives it, but in memory of our own
 * (xmlGetProp's must go to xmlFree, a variable of libxml2's, which cannot
 * be bound at first use).  The HTML parser lower-cases attribute names and
 * gives each value as one text node, entities decoded. */
static char *attr(xmlNode *node, const char *name)
{
  for (xmlAttr *a = node->properties; a != NULL; a = a->next) {
    if (a->name == NULL || strcmp((const char *) a->name, name) != 0)
      continue;
    size_t len = 0;
    for (xmlNode *t = a->children; t != NULL; t = t->next)
      if (t->type == XML_TEXT_NODE && t->content != NULL)
        len += strlen((const char *) t->content);
    char *value = malloc(len + 1), *p = value;
    if (value == NULL)
      return NULL;
    for (xmlNode *t = a->children; t != NULL; t = t->next)
      if (t->type == XML_TEXT_NODE && t->content != NULL)
        p = stpcpy(p, (const char *) t->content);
    *p = '\0';
    return value;
  }
  return NULL;
}

static int visit_meta(xmlNode *node, struct appc_discovery_metas *out, appc_error_t *err)
{
  char *name = attr(node, "name");
  char *content = attr(node, "content");
  const char *rel = name != NULL ? known_rel(name, strlen(name)) : NULL;
  int r = 0;

  if (rel != NULL && content != NULL)
    r = add_content(out, rel, content, err);
  free(name);
  free(content);
  return r;
}

/* ---- what an HTML5 tokenizer would see ---------------------------------
 *
 * Only meta tags count, wherever they are: the reference reads the page
 * with the tokenizer of golang.org/x/net/html and takes every meta start
 * tag, however deep.  libxml2's HTML parser (2.9) builds a tree, and
 *
 * - stops at an element nested 256 deep (a fatal error), losing every meta
 *   tag after it.  XML_PARSE_HUGE lifts that limit, but then 800,000 nested
 *   <div>s overflow its stack, and every end tag that closes nothing
 *   searches all open elements (10,000 <div>s and a million </b>s: 72 s);
 * - builds elements where an HTML5 parser sees text: in the content of
 *   <title>, <textarea> (RCDATA), <script>, <style>, <xmp>, <iframe>,
 *   <noembed>, <noframes> (raw text), after <plaintext>, in "<![CDATA[..."
 *   (in HTML a bogus comment up to the first '>'), and in a tag cut off by
 *   the end of the page, which HTML5 drops;
 * - hides elements where an HTML5 parser sees them: after "<!-->",
 *   "<!--->" (whole empty comments) or a comment closed by "--!>", it looks
 *   on for "-->".
 *
 * So the page is tokenized here first, on a copy, as far as finding its
 * tags, comments and text goes, and the parser gets its meta tags and text
 * only: every other tag, comment, doctype and raw text becomes spaces, and
 * the page ends where <plaintext>, or a tag that the end cuts off, begins.
 * The tree it builds is flat; it still reads the meta tags' attributes
 * (quotes, character references) and decodes the charset.
 * tests/unit/test-discovery.c holds a page for each case. */

/* As the reference's tokenizer (golang.org/x/net/html) reads them: its
 * raw tags, <noscript> among them (what a browser with scripts shows). */
static const char *const raw_text_elements[] = {"title",    "textarea", "script",  "style",
                                                "xmp",      "iframe",   "noembed", "noframes",
                                                "noscript", "plaintext"};

static bool is_raw_text_element(const char *name, size_t len)
{
  for (size_t i = 0; i < ARRAY_SIZE(raw_text_elements); i++)
    if (is_word(name, len, raw_text_elements[i]))
      return true;
  return false;
}

static bool is_alpha(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Where S[FROM..LEN) holds NEEDLE (any case), or LEN. */
static size_t find_ci(const char *s, size_t from, size_t len, const char *needle)
{
  size_t n = strlen(needle);

  for (size_t i = from; i + n <= len; i++)
    if (strncasecmp(s + i, needle, n) == 0)
      return i;
  return len;
}

/* The end of the tag opening at S[I] ('<' and a letter): the index of its
 * '>', or LEN when the page ends first.  A quoted attribute value may hold
 * '>' (HTML5's tag states, reduced to what finds the end). */
static size_t tag_end(const char *s, size_t i, size_t len)
{
  bool after_eq = false;

  for (size_t j = i + 1; j < len; j++) {
    char c = s[j];
    if (c == '>')
      return j;
    if (after_eq && (c == '"' || c == '\'')) {
      const char *q = memchr(s + j + 1, c, len - j - 1);
      if (q == NULL)
        return len;
      j = (size_t) (q - s);
      after_eq = false;
    } else if (c == '=') {
      after_eq = true;
    } else if (!is_space(c)) {
      after_eq = false;
    }
  }
  return len;
}

/* The length of the tag name at S[FROM], before the tag's '>' at S[END]:
 * up to white space or '/', as HTML5's "tag name state" reads it. */
static size_t tag_name_len(const char *s, size_t from, size_t end)
{
  size_t j = from;

  while (j < end && !is_space(s[j]) && s[j] != '/')
    j++;
  return j - from;
}

/* An attribute of a start tag, as offsets into the page; VALUE_LEN is 0
 * when it has no value. */
struct attribute {
  size_t name, name_len, value, value_len;
};

/* The next attribute of a start tag, from S[*AT] to the tag's '>' at
 * S[END] (HTML5's attribute states, reduced to where names and values
 * are): false when none is left, else *AT moves past it.  A '/' between
 * attributes separates them ("self-closing start tag state"); one inside
 * a value, quoted or not, is the value's. */
static bool next_attribute(const char *s, size_t *at, size_t end, struct attribute *a)
{
  size_t j = *at;

  while (j < end && (is_space(s[j]) || s[j] == '/'))
    j++;
  if (j >= end)
    return false;
  a->name = j++; /* the first character, '=' even, is the name's */
  while (j < end && !is_space(s[j]) && s[j] != '/' && s[j] != '=')
    j++;
  a->name_len = j - a->name;
  a->value = a->value_len = 0;
  size_t k = j;
  while (k < end && is_space(s[k]))
    k++;
  if (k < end && s[k] == '=') {
    for (k++; k < end && is_space(s[k]); k++)
      ;
    if (k < end && (s[k] == '"' || s[k] == '\'')) {
      const char *q = memchr(s + k + 1, s[k], end - k - 1);
      size_t close = q != NULL ? (size_t) (q - s) : end;
      a->value = k + 1;
      a->value_len = close - a->value;
      j = close < end ? close + 1 : end;
    } else {
      for (a->value = k; k < end && !is_space(s[k]); k++)
        ;
      a->value_len = k - a->value;
      j = k;
    }
  }
  *at = j;
  return true;
}

/* The most attributes a start tag keeps: libxml2 compares each attribute
 * with every earlier one of its tag, so a tag of 120,000 of them took 36 s
 * (a 4 MiB page, minutes).  A meta tag needs three. */
#define TAG_ATTRIBUTES_MAX 64

/* The attributes of the start tag from S[FROM] (after its name) to S[END]
 * (its '>') past the first TAG_ATTRIBUTES_MAX are blanked out, and a '/'
 * between attributes becomes a space: HTML5's tokenizer (and the
 * reference's) reads <meta/name="a"/content="b"> as <meta name="a"
 * content="b">, where libxml2 (2.9) drops what follows the '/'.  A '/'
 * after the last attribute stays (<meta ... />). */
static void fix_attributes(char *s, size_t from, size_t end)
{
  size_t count = 0, at = from;
  struct attribute a;

  for (size_t gap = from; next_attribute(s, &at, end, &a); gap = at) {
    for (size_t j = gap; j < a.name; j++)
      if (s[j] == '/')
        s[j] = ' ';
    if (++count > TAG_ATTRIBUTES_MAX) {
      memset(s + a.name, ' ', end - a.name);
      return;
    }
  }
}

/* Where the content of a <meta http-equiv="content-type"> (S, LEN bytes)
 * names a charset, as HTML's "algorithm for extracting a character
 * encoding from a meta element" finds it: *AT and *N; false when it names
 * none. */
static bool charset_in_content(const char *s, size_t len, size_t *at, size_t *n)
{
  for (size_t i = find_ci(s, 0, len, "charset"); i < len; i = find_ci(s, i, len, "charset")) {
    for (i += strlen("charset"); i < len && is_space(s[i]); i++)
      ;
    if (i >= len || s[i] != '=')
      continue;
    for (i++; i < len && is_space(s[i]); i++)
      ;
    if (i < len && (s[i] == '"' || s[i] == '\'')) {
      const char *q = memchr(s + i + 1, s[i], len - i - 1);
      if (q == NULL)
        return false;
      *at = i + 1;
      *n = (size_t) (q - s) - *at;
      return true;
    }
    for (*at = i; i < len && !is_space(s[i]) && s[i] != ';'; i++)
      ;
    *n = i - *at;
    return *n > 0;
  }
  return false;
}

/* The charset a meta tag declares (its attributes from S[FROM] to its '>'
 * at S[END]), as HTML's prescan reads it: its charset attribute, else with
 * http-equiv="content-type" what its content names; the first of each
 * attribute counts.  Offsets in *AT, *N (white space trimmed); false when
 * it declares none. */
static bool meta_charset(const char *s, size_t from, size_t end, size_t *at, size_t *n)
{
  struct attribute a, charset = {0}, equiv = {0}, content = {0};

  while (next_attribute(s, &from, end, &a)) {
    const char *name = s + a.name;
    struct attribute *slot = is_word(name, a.name_len, "charset")      ? &charset
                             : is_word(name, a.name_len, "http-equiv") ? &equiv
                             : is_word(name, a.name_len, "content")    ? &content
                                                                       : NULL;
    if (slot != NULL && slot->name_len == 0)
      *slot = a;
  }
  if (charset.name_len > 0) {
    *at = charset.value;
    *n = charset.value_len;
  } else if (is_word(s + equiv.value, equiv.value_len, "content-type") &&
             charset_in_content(s + content.value, content.value_len, at, n)) {
    *at += content.value;
  } else {
    return false;
  }
  for (; *n > 0 && is_space(s[*at]); --*n)
    ++*at;
  while (*n > 0 && is_space(s[*at + *n - 1]))
    --*n;
  return *n > 0;
}

/* The end of the raw text after the start tag NAME (closing at S[END]). */
static size_t raw_text_end(const char *s, size_t end, size_t len, const char *name, size_t n)
{
  char close[16];

  if (n + 3 > sizeof close)
    return len;
  snprintf(close, sizeof close, "</%.*s", (int) n, name);
  for (size_t at = find_ci(s, end, len, close); at < len; at = find_ci(s, at + 1, len, close)) {
    char after = at + n + 2 < len ? s[at + n + 2] : '>';
    if (after == '>' || after == '/' || is_space(after))
      return at;
  }
  return len;
}

/* The end of the comment opening at S[I] ("<!--"): just past its '>', or
 * LEN when the page ends first.  As HTML5's comment states (and the
 * reference's tokenizer) read it: "<!-->" and "<!--->" are whole (empty)
 * comments, "--!>" closes one as "-->" does, and "<!--!>" is no end. */
static size_t comment_end(const char *s, size_t i, size_t len)
{
  size_t dashes = 0;
  bool beginning = true;

  for (size_t j = i + 4; j < len; j++) {
    if (s[j] == '-') {
      dashes++;
      continue;
    }
    if (s[j] == '>' && (dashes >= 2 || beginning))
      return j + 1;
    if (s[j] == '!' && dashes >= 2 && j + 1 < len && s[j + 1] == '>')
      return j + 2;
    dashes = 0;
    beginning = false;
  }
  return len;
}

enum charset_kind { CHARSET_UNKNOWN, CHARSET_UTF8, CHARSET_UTF16, CHARSET_OTHER };

/* The longest charset name taken: IANA's registry has none longer. */
#define CHARSET_NAME_MAX 40

/* A charset, as the HTML parser is to be told it. */
struct charset {
  enum charset_kind kind; /* CHARSET_UNKNOWN: none the parser knows */
  char name[CHARSET_NAME_MAX + 1];
};

/* The labels of UTF-8 and UTF-16 in the WHATWG Encoding Standard, the
 * charsets HTML treats apart: the parser knows some of them only. */
static const char *const utf8_labels[] = {
    "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"};
static const char *const utf16le_labels[] = {"csunicode",   "iso-10646-ucs-2", "ucs-2",   "unicode",
                                             "unicodefeff", "utf-16",          "utf-16le"};
static const char *const utf16be_labels[] = {"unicodefffe", "utf-16be"};

static bool is_label(const char *name, size_t n, const char *const *labels, size_t count)
{
  for (size_t i = 0; i < count; i++)
    if (is_word(name, n, labels[i]))
      return true;
  return false;
}

/* The charset NAME (N bytes) names, in *OUT: UTF-8 or UTF-16 (as the
 * Encoding Standard's labels name them), another that the parser knows,
 * or none (a charset it does not know, or a name not spelled as IANA's
 * registry spells them).  The caller holds libxml2's error handlers
 * quiet. */
static void charset_lookup(const char *name, size_t n, struct charset *out)
{
  out->kind = CHARSET_UNKNOWN;
  if (n == 0 || n > CHARSET_NAME_MAX)
    return;
  memcpy(out->name, name, n);
  out->name[n] = '\0';
  if (strspn(out->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789-_.:+()") != n)
    return;
  if (is_label(name, n, utf8_labels, ARRAY_SIZE(utf8_labels))) {
    out->kind = CHARSET_UTF8;
    strcpy(out->name, "UTF-8");
  } else if (is_label(name, n, utf16le_labels, ARRAY_SIZE(utf16le_labels))) {
    out->kind = CHARSET_UTF16;
    strcpy(out->name, "UTF-16LE");
  } else if (is_label(name, n, utf16be_labels, ARRAY_SIZE(utf16be_labels))) {
    out->kind = CHARSET_UTF16;
    strcpy(out->name, "UTF-16BE");
  } else {
    xmlCharEncodingHandler *handler = xmlFindCharEncodingHandler(out->name);
    if (handler == NULL)
      return;
    xmlCharEncCloseFunc(handler);
    out->kind = CHARSET_OTHER;
  }
}

/* Notes in *DECLARED the charset that a meta tag (its attributes from
 * PAGE[FROM] to its '>' at PAGE[END]) declares, unless one is noted: the
 * page's is that of its first meta tag declaring one the parser knows
 * (HTML's prescan passes over the others). */
static void note_charset(const char *page, size_t from, size_t end, struct charset *declared)
{
  size_t at, n;

  if (declared->kind == CHARSET_UNKNOWN && meta_charset(page, from, end, &at, &n))
    charset_lookup(page + at, n, declared);
}

/* Where what follows the tag at PAGE[I] ("<" or "</" and a letter, its '>'
 * at PAGE[END]) ends: past the tag, or past the raw text of a start tag
 * such as <script>; I when the tag is a meta start tag, which stays (its
 * attributes fixed, a charset it declares noted in *DECLARED). */
static size_t tag_span(char *page, size_t i, size_t end, size_t len, struct charset *declared)
{
  bool start_tag = page[i + 1] != '/';
  size_t name = i + (start_tag ? 1 : 2), n = tag_name_len(page, name, end);

  if (!start_tag)
    return end + 1;
  if (is_word(page + name, n, "meta")) {
    fix_attributes(page, name + n, end);
    note_charset(page, name + n, end, declared);
    return i;
  }
  if (is_raw_text_element(page + name, n))
    return raw_text_end(page, end + 1, len, page + name, n);
  return end + 1;
}

/* PAGE (LEN bytes, a copy) reduced to its meta tags and text, as above;
 * returns the length to parse.  The caller holds libxml2's error handlers
 * quiet. */
static size_t flatten(char *page, size_t len, struct charset *declared)
{
  size_t i = 0;

  while (i < len) {
    const char *lt = memchr(page + i, '<', len - i);
    if (lt == NULL)
      break;
    i = (size_t) (lt - page);
    size_t end;
    if (i + 4 <= len && strncmp(page + i, "<!--", 4) == 0) {
      end = comment_end(page, i, len);
    } else if (i + 1 < len && (page[i + 1] == '!' || page[i + 1] == '?' ||
                               (page[i + 1] == '/' && (i + 2 >= len || !is_alpha(page[i + 2]))))) {
      /* A bogus comment (or a doctype): up to the first '>'. */
      const char *gt = memchr(page + i + 1, '>', len - i - 1);
      end = gt != NULL ? (size_t) (gt - page) + 1 : len;
    } else if (i + 1 < len && (is_alpha(page[i + 1]) || page[i + 1] == '/')) {
      size_t gt = tag_end(page, i, len);
      if (gt == len)
        return i; /* cut off by the end of the page */
      if (page[i + 1] != '/' && is_word(page + i + 1, tag_name_len(page, i + 1, gt), "plaintext"))
        return i; /* the rest is text */
      end = tag_span(page, i, gt, len, declared);
      if (end == i) {
        i = gt + 1; /* a meta tag */
        continue;
      }
    } else {
      i++;
      continue;
    }
    memset(page + i, ' ', end - i);
    i = end;
  }
  return len;
}

static bool is_element(const xmlNode *n, const char *name)
{
  return n->type == XML_ELEMENT_NODE && n->name != NULL &&
         strcasecmp((const char *) n->name, name) == 0;
}

static bool holds_text_only(const xmlNode *n)
{
  return n->type == XML_ELEMENT_NODE && n->name != NULL &&
         is_raw_text_element((const char *) n->name, strlen((const char *) n->name));
}

/* Every element of the document, depth first, without recursion.  The
 * tree of a flattened page holds meta tags only; that of a page in UTF-16,
 * whose bytes flatten does not read, may hold any, and the walk skips what
 * HTML5 reads as text there. */
static int walk(xmlNode *root, struct appc_discovery_metas *out, appc_error_t *err)
{
  xmlNode *n = root;

  while (n != NULL) {
    if (is_element(n, "plaintext"))
      return 0; /* the rest of the page is text */
    if (is_element(n, "meta") && visit_meta(n, out, err) < 0)
      return -1;
    if (n->children != NULL && !holds_text_only(n)) {
      n = n->children;
      continue;
    }
    while (n != NULL && n->next == NULL)
      n = n->parent == root->parent ? NULL : n->parent;
    if (n != NULL)
      n = n->next;
  }
  return 0;
}

/* libxml2 reports some errors, bytes not in the page's declared charset
 * among them, through its generic handler whatever HTML_PARSE_NOERROR
 * says, and that handler prints on stderr: the library never prints.
 * Around a parse both handlers do nothing; they are the calling thread's
 * own (libxml2 keeps them per thread), restored after. */
struct xml_handlers {
  xmlGenericErrorFunc generic;
  void *generic_ctx;
  xmlStructuredErrorFunc structured;
  void *structured_ctx;
};

static void xml_ignore(void *ctx, const char *msg, ...)
{
  (void) ctx;
  (void) msg;
}

#if LIBXML_VERSION >= 21200
static void xml_ignore_structured(void *ctx, const xmlError *e)
#else
static void xml_ignore_structured(void *ctx, xmlErrorPtr e)
#endif
{
  (void) ctx;
  (void) e;
}

static void xml_quiet(struct xml_handlers *saved)
{
  saved->generic = xmlGenericError;
  saved->generic_ctx = xmlGenericErrorContext;
  saved->structured = xmlStructuredError;
  saved->structured_ctx = xmlStructuredErrorContext;
  xmlSetGenericErrorFunc(NULL, xml_ignore);
  xmlSetStructuredErrorFunc(NULL, xml_ignore_structured);
}

static void xml_restore(const struct xml_handlers *saved)
{
  xmlSetGenericErrorFunc(saved->generic_ctx, saved->generic);
  xmlSetStructuredErrorFunc(saved->structured_ctx, saved->structured);
}

static bool starts_with(const char *page, size_t len, const char *bom)
{
  return len >= strlen(bom) && memcmp(page, bom, strlen(bom)) == 0;
}

/* The charset the HTML parser is to read PAGE in, as HTML's encoding
 * sniffing chooses it: a byte order mark (NULL for UTF-16's: the parser
 * finds those itself), then the SERVER's charset, then the one the page
 * DECLARES (a UTF-16 one means UTF-8 there, as HTML's prescan says: it was
 * read as ASCII), else UTF-8.  *UTF8 says whether it is UTF-8. */
static const char *page_charset(const char *page, size_t len, const struct charset *server,
                                const struct charset *declared, bool *utf8)
{
  const struct charset *chosen = server->kind != CHARSET_UNKNOWN ? server : declared;

  *utf8 = false;
  if (starts_with(page, len, "\xFF\xFE") || starts_with(page, len, "\xFE\xFF"))
    return NULL;
  if (!starts_with(page, len, "\xEF\xBB\xBF") &&
      (chosen->kind == CHARSET_OTHER || (chosen->kind == CHARSET_UTF16 && chosen == server)))
    return chosen->name;
  *utf8 = true;
  return "UTF-8";
}

/* PAGE (LEN bytes, flattened; DECLARED the charset it declares) read by
 * the HTML parser, in the charset chosen.  When that is UTF-8, it gets the
 * page as a browser decodes it: each invalid sequence, and each NUL, as
 * U+FFFD.  Left to the parser, the first invalid byte made it read the rest
 * of the page as ISO-8859-1, and a NUL ended the attribute it was in and
 * every tag after. */
static int read_page(const char *page, size_t len, const char *charset,
                     const struct charset *declared, htmlDocPtr *doc, appc_error_t *err)
{
  struct charset server;
  bool utf8;

  charset_lookup(charset, charset != NULL ? strlen(charset) : 0, &server);
  const char *encoding = page_charset(page, len, &server, declared, &utf8);
  cleanup_free char *decoded = NULL;

  if (utf8) {
    decoded = appc_utf8_decode_lossy(page, len, true, &len);
    if (decoded == NULL)
      return appc_error_make(err, ENOMEM, "HTML document");
    page = decoded;
  }
  /* The charset is chosen: a meta tag does not change it. */
  *doc = htmlReadMemory(page, (int) len, NULL, encoding,
                        HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                            HTML_PARSE_NONET | HTML_PARSE_COMPACT | HTML_PARSE_IGNORE_ENC);
  return 0;
}

int appc_discovery_parse_html(const char *html, size_t len, struct appc_discovery_metas *out,
                              appc_error_t *err)
{
  return appc_discovery_parse_html_charset(html, len, NULL, out, err);
}

int appc_discovery_parse_html_charset(const char *html, size_t len, const char *charset,
                                      struct appc_discovery_metas *out, appc_error_t *err)
{
  struct charset declared = {.kind = CHARSET_UNKNOWN};
  htmlDocPtr doc = NULL;
  struct xml_handlers saved;
  int r;

  if (len == 0)
    return 0;
  /* (decoded as UTF-8, a page may grow threefold: parsed, its length is an int) */
  if (len > (size_t) INT32_MAX / 3)
    return appc_error_make(err, 0, "HTML document too large");
  if (appc_lazy_bind(APPC_LAZY_XML2, err) < 0)
    return appc_error_prefix(err, "HTML parser");
  cleanup_free char *page = malloc(len);
  if (page == NULL)
    return appc_error_make(err, ENOMEM, "HTML document");
  memcpy(page, html, len);
  xml_quiet(&saved);
  len = flatten(page, len, &declared);
  r = len > 0 ? read_page(page, len, charset, &declared, &doc, err) : 0;
  xml_restore(&saved);
  if (r < 0 || doc == NULL)
    return r; /* no document: nothing parseable, no meta tags */
  r = walk(xmlDocGetRootElement(doc), out, err);
  xmlFreeDoc(doc);
  return r;
}

/* ---- Link headers (RFC 8288, section 3) -------------------------------- */

struct cursor {
  const char *p;
};

static void skip_ows(struct cursor *c)
{
  c->p = appc_header_skip_ows(c->p);
}

/* Skip to just after the next ',' that is not inside <> or quotes. */
static void skip_link(struct cursor *c)
{
  bool quoted = false, angled = false;

  for (; *c->p != '\0'; c->p++) {
    if (quoted && *c->p == '\\' && c->p[1] != '\0')
      c->p++;
    else if (*c->p == '"' && !angled)
      quoted = !quoted;
    else if (*c->p == '<' && !quoted)
      angled = true;
    else if (*c->p == '>' && !quoted)
      angled = false;
    else if (*c->p == ',' && !quoted && !angled) {
      c->p++;
      return;
    }
  }
}

struct link {
  char *target;
  char *rel;
  char *prefix;
};

static void link_clear(struct link *l)
{
  free(l->target);
  free(l->rel);
  free(l->prefix);
}

/* One link-value; false when it is malformed. */
static bool parse_one_link(struct cursor *c, struct link *l)
{
  const char *end;

  skip_ows(c);
  if (*c->p != '<')
    return false;
  end = strchr(c->p + 1, '>');
  if (end == NULL)
    return false;
  l->target = strndup(c->p + 1, (size_t) (end - c->p - 1));
  c->p = end + 1;
  for (;;) {
    skip_ows(c);
    if (*c->p == '\0' || *c->p == ',')
      return l->target != NULL;
    if (*c->p != ';')
      return false;
    c->p++;
    skip_ows(c);
    const char *name = c->p;
    while (appc_header_is_tchar(*c->p))
      c->p++;
    size_t name_len = (size_t) (c->p - name);
    if (name_len == 0)
      return false;
    skip_ows(c);
    if (*c->p != '=')
      continue; /* a parameter without a value */
    c->p++;
    skip_ows(c);
    char *value = appc_header_param_value(&c->p);
    if (value == NULL)
      return false;
    /* "The rel parameter MUST NOT appear more than once": the first wins. */
    if (name_len == 3 && strncasecmp(name, "rel", 3) == 0 && l->rel == NULL)
      l->rel = value;
    else if (name_len == 6 && strncasecmp(name, "prefix", 6) == 0 && l->prefix == NULL)
      l->prefix = value;
    else
      free(value);
  }
}

/* A rel holds space-separated relation types. */
static int add_link(const struct link *l, struct appc_discovery_metas *out, appc_error_t *err)
{
  const char *p = l->rel;

  if (l->rel == NULL || l->prefix == NULL || l->prefix[0] == '\0' || l->target[0] == '\0')
    return 0;
  while (*p != '\0') {
    while (is_space(*p))
      p++;
    const char *start = p;
    while (*p != '\0' && !is_space(*p))
      p++;
    const char *rel = known_rel(start, (size_t) (p - start));
    if (rel != NULL &&
        add_meta(out, rel, l->prefix, strlen(l->prefix), l->target, strlen(l->target), err) < 0)
      return -1;
  }
  return 0;
}

int appc_discovery_parse_link(const char *value, struct appc_discovery_metas *out,
                              appc_error_t *err)
{
  struct cursor c = {.p = value};

  while (*c.p != '\0') {
    struct link l = {0};
    const char *before = c.p;
    bool good = parse_one_link(&c, &l);
    int r = good ? add_link(&l, out, err) : 0;

    link_clear(&l);
    if (r < 0)
      return -1;
    if (!good || *c.p == ',')
      skip_link(&c);
    if (c.p == before)
      c.p++; /* never loop in place */
  }
  return 0;
}
