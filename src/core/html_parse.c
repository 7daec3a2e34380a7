#include "core/html_parse.h"

#include <libxml/parser.h>
#include <limits.h>
#include <stdbool.h>
#include <pthread.h>

#if LIBXML_VERSION >= 21200
static void quiet(void *ctx, const xmlError *error)
#else
static void quiet(void *ctx, xmlErrorPtr error)
#endif
{
    (void)ctx;
    (void)error;
}

#define SD_HTML_OPTIONS                                                                            \
    (HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |           \
     HTML_PARSE_COMPACT | HTML_PARSE_IGNORE_ENC | XML_PARSE_HUGE)

/* xmlInitParser must run once before threads parse concurrently. */
static pthread_once_t libxml_once = PTHREAD_ONCE_INIT;

/*
 * A context of our own per parse, so silencing libxml2's error reports touches no other thread
 * (xmlSetStructuredErrorFunc would). XML_PARSE_HUGE lifts libxml2's nesting limit of 256:
 * without it the parser stops at that depth and drops the rest of the page, which pages with
 * thousands of unclosed <font> tags reach; our walks are iterative and apply their own depth
 * limits. The input is UTF-8 already, so <meta charset> is ignored. Not HTML_PARSE_NOBLANKS:
 * it drops the blank text between inline elements ("<b>a</b> <i>b</i>"), and the readers
 * collapse whitespace themselves. With handlers (NULL: libxml2's tree builder), the parse
 * reports to them instead, and a document they make none of stays NULL.
 */
static xmlDoc *parse(const char *html, size_t len, const htmlSAXHandler *handlers, void *user,
                     bool *started)
{
    pthread_once(&libxml_once, xmlInitParser);
    *started = false;
    if (len > (size_t)INT_MAX)
        return NULL;
    htmlParserCtxtPtr ctxt = htmlNewParserCtxt();
    if (!ctxt)
        return NULL;
    if (handlers) {
        *ctxt->sax = *handlers;
        ctxt->_private = user;
    }
    ctxt->sax->serror = quiet;
    *started = true;
    xmlDoc *dom = htmlCtxtReadMemory(ctxt, html, (int)len, NULL, "UTF-8", SD_HTML_OPTIONS);
    htmlFreeParserCtxt(ctxt);
    return dom;
}

xmlDoc *sd_html_parse(const char *html, size_t len)
{
    bool started;
    return parse(html, len, NULL, NULL, &started);
}

int sd_html_sax(const char *html, size_t len, const htmlSAXHandler *handlers, void *user)
{
    bool started;
    xmlFreeDoc(parse(html, len, handlers, user, &started)); /* NULL: no startDocument */
    return started ? 0 : -1;
}
