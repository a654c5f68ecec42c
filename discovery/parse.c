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

static const char *known_rel(const char *rel, size_t len)
{
  if (len == strlen(REL_ACI) && strncasecmp(rel, REL_ACI, len) == 0)
    return REL_ACI;
  if (len == strlen(REL_PUBKEYS) && strncasecmp(rel, REL_PUBKEYS, len) == 0)
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

/* ---- what an HTML5 parser would see ------------------------------------
 *
 * libxml2's HTML parser (2.9) builds elements where an HTML5 parser sees
 * text (tests/unit/test-discovery.c holds a page for each case):
 *
 * - in the content of <title>, <textarea> (RCDATA), <script>, <style>,
 *   <xmp>, <iframe>, <noembed>, <noframes> (raw text): it nests them in
 *   the element, so the walk does not enter these;
 * - after <plaintext>, where everything is text: the walk stops there;
 * - in "<![CDATA[...": in HTML a bogus comment up to the first '>';
 * - in a tag cut off by the end of the page, which HTML5 drops;
 *
 * and hides elements where an HTML5 parser sees them: after "<!-->",
 * "<!--->" (whole empty comments) or a comment closed by "--!>", it looks
 * on for "-->".
 *
 * The last three are corrected on a copy of the page before parsing: a '<'
 * inside a bogus comment becomes a space, a comment becomes spaces, and
 * the page ends before a tag that the end cuts off. */

/* As the reference's tokenizer (golang.org/x/net/html) reads them: its
 * raw tags, <noscript> among them (what a browser with scripts shows). */
static const char *const raw_text_elements[] = {"title",    "textarea", "script",  "style",
                                                "xmp",      "iframe",   "noembed", "noframes",
                                                "noscript", "plaintext"};

static bool is_raw_text_element(const char *name, size_t len)
{
  for (size_t i = 0; i < ARRAY_SIZE(raw_text_elements); i++)
    if (strlen(raw_text_elements[i]) == len && strncasecmp(name, raw_text_elements[i], len) == 0)
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

/* The most attributes a start tag keeps: libxml2 compares each attribute
 * with every earlier one of its tag, so a tag of 120,000 of them took 36 s
 * (a 4 MiB page, minutes).  A meta tag needs three. */
#define TAG_ATTRIBUTES_MAX 64

/* The attributes of the start tag from S[FROM] (after its name) to S[END]
 * (its '>') past the first TAG_ATTRIBUTES_MAX are blanked out, and a '/'
 * between attributes becomes a space: HTML5's tokenizer (and the
 * reference's) reads <meta/name="a"/content="b"> as <meta name="a"
 * content="b"> ("self-closing start tag state"), where libxml2 (2.9) drops
 * what follows the '/'.  A '/' just before the '>' stays (<meta ... />),
 * and so does one inside a value, quoted or not (<a href=/x/y>). */
static void fix_attributes(char *s, size_t from, size_t end)
{
  size_t count = 0, j = from;

  while (j < end) {
    if (is_space(s[j]) || s[j] == '/') {
      if (s[j] == '/' && j + 1 < end)
        s[j] = ' ';
      j++;
    } else if (s[j] == '=') {
      /* the value of the attribute before: quoted, or up to a space */
      for (j++; j < end && is_space(s[j]); j++)
        ;
      if (j < end && (s[j] == '"' || s[j] == '\'')) {
        const char *q = memchr(s + j + 1, s[j], end - j - 1);
        j = q != NULL ? (size_t) (q - s) + 1 : end;
      } else {
        while (j < end && !is_space(s[j]))
          j++;
      }
    } else if (++count > TAG_ATTRIBUTES_MAX) {
      memset(s + j, ' ', end - j);
      return;
    } else {
      while (j < end && !is_space(s[j]) && s[j] != '=' && s[j] != '/')
        j++;
    }
  }
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

/* Correct PAGE (LEN bytes, a copy) as above; returns the length to parse. */
static size_t html5_fixup(char *page, size_t len)
{
  size_t i = 0;

  while (i < len) {
    const char *lt = memchr(page + i, '<', len - i);
    if (lt == NULL)
      break;
    i = (size_t) (lt - page);
    if (i + 4 <= len && strncmp(page + i, "<!--", 4) == 0) {
      /* Blanked out: libxml2 (2.9) reads "<!-->" and "--!>" as no end of
       * a comment, and would hide the meta tags after them. */
      size_t end = comment_end(page, i, len);
      memset(page + i, ' ', end - i);
      i = end;
    } else if (i + 1 < len && (page[i + 1] == '!' || page[i + 1] == '?' ||
                               (page[i + 1] == '/' && (i + 2 >= len || !is_alpha(page[i + 2]))))) {
      /* A bogus comment (or a doctype): up to the first '>'. */
      const char *gt = memchr(page + i + 1, '>', len - i - 1);
      size_t end = gt != NULL ? (size_t) (gt - page) : len;
      for (size_t j = i + 1; j < end; j++)
        if (page[j] == '<')
          page[j] = ' ';
      i = end;
    } else if (i + 1 < len && (is_alpha(page[i + 1]) || page[i + 1] == '/')) {
      size_t end = tag_end(page, i, len);
      if (end == len)
        return i; /* cut off by the end of the page */
      bool start_tag = page[i + 1] != '/';
      size_t name = i + (start_tag ? 1 : 2), n = 0;
      while (name + n < end && is_alpha(page[name + n]))
        n++;
      if (start_tag)
        fix_attributes(page, name + n, end);
      i = end + 1;
      if (start_tag && n == 9 && strncasecmp(page + name, "plaintext", 9) == 0)
        break; /* the rest is text: the walk stops there */
      if (start_tag && is_raw_text_element(page + name, n))
        i = raw_text_end(page, end + 1, len, page + name, n);
    } else {
      i++;
    }
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

/* Every element of the document, depth first, without recursion: a hostile
 * page nests as deep as the parser lets it. */
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

/* CHARSET when it may be handed to the HTML parser: a name as IANA's
 * charset registry spells them, and no byte order mark in HTML (which
 * wins, and which the parser finds itself); else NULL. */
static const char *usable_charset(const char *html, size_t len, const char *charset)
{
  static const char *const boms[] = {"\xEF\xBB\xBF", "\xFF\xFE", "\xFE\xFF"};
  size_t n = charset != NULL ? strlen(charset) : 0;

  if (n == 0 || n > 40 ||
      strspn(charset, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                      "0123456789-_.:+()") != n)
    return NULL;
  for (size_t i = 0; i < ARRAY_SIZE(boms); i++)
    if (len >= strlen(boms[i]) && memcmp(html, boms[i], strlen(boms[i])) == 0)
      return NULL;
  return charset;
}

int appc_discovery_parse_html(const char *html, size_t len, struct appc_discovery_metas *out,
                              appc_error_t *err)
{
  return appc_discovery_parse_html_charset(html, len, NULL, out, err);
}

int appc_discovery_parse_html_charset(const char *html, size_t len, const char *charset,
                                      struct appc_discovery_metas *out, appc_error_t *err)
{
  htmlDocPtr doc;
  int r;

  if (len == 0)
    return 0;
  if (len > (size_t) INT32_MAX)
    return appc_error_make(err, 0, "HTML document too large");
  if (appc_lazy_bind(APPC_LAZY_XML2, err) < 0)
    return appc_error_prefix(err, "HTML parser");
  cleanup_free char *page = malloc(len);
  if (page == NULL)
    return appc_error_make(err, ENOMEM, "HTML document");
  memcpy(page, html, len);
  len = html5_fixup(page, len);
  if (len == 0)
    return 0;
  struct xml_handlers saved;
  xml_quiet(&saved);
  /* (a name the parser does not know is ignored: it sniffs as without) */
  doc = htmlReadMemory(page, (int) len, NULL, usable_charset(page, len, charset),
                       HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                           HTML_PARSE_NONET | HTML_PARSE_COMPACT);
  xml_restore(&saved);
  if (doc == NULL)
    return 0; /* nothing parseable: no meta tags */
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
