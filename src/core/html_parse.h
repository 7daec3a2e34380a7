/*
 * libxml2's HTML parser, set up once for every reader of storyd (blocks_html.c, the generic
 * extractor): quiet, tolerant, no network, input already UTF-8. Pure.
 */
#ifndef SD_CORE_HTML_PARSE_H
#define SD_CORE_HTML_PARSE_H

#include <libxml/HTMLparser.h>
#include <stddef.h>

/*
 * Parses len bytes of UTF-8 HTML into a new tree (free with xmlFreeDoc), or returns NULL when
 * libxml2 gives up or memory runs out. Safe to call from several threads.
 */
xmlDoc *sd_html_parse(const char *html, size_t len);

/*
 * The same parse, reported to handlers (copied; serror is replaced by a quiet one) instead of
 * built into a tree. The callbacks get the parser context as their ctx argument, with user in
 * its _private field (they may call xmlStopParser on it). Returns 0, or -1 when libxml2 could
 * not start. Safe to call from several threads.
 */
int sd_html_sax(const char *html, size_t len, const htmlSAXHandler *handlers, void *user);

#endif
