/* SPDX-License-Identifier: Apache-2.0 */
/* libxml2: the HTML of discovery pages, bound at first use (see common/lazy.h). */
#ifndef APPC_COMMON_LAZY_XML2_H
#define APPC_COMMON_LAZY_XML2_H

#include <libxml/HTMLparser.h>

#include "common/lazy.h"

#define APPC_LAZY_XML2(X)                                                                          \
  X(htmlReadMemory)                                                                                \
  X(xmlDocGetRootElement)                                                                          \
  X(xmlFree)                                                                                       \
  X(xmlFreeDoc)                                                                                    \
  X(xmlGetProp)

APPC_LAZY_DECLARE(xml2, APPC_LAZY_XML2)

#ifndef APPC_LAZY_NO_REDIRECT
#define htmlReadMemory APPC_LAZY_CALL(xml2, htmlReadMemory)
#define xmlDocGetRootElement APPC_LAZY_CALL(xml2, xmlDocGetRootElement)
#define xmlFree APPC_LAZY_CALL(xml2, xmlFree)
#define xmlFreeDoc APPC_LAZY_CALL(xml2, xmlFreeDoc)
#define xmlGetProp APPC_LAZY_CALL(xml2, xmlGetProp)
#endif

#endif
