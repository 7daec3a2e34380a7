/*
 * libFuzzer target for the generic extractor (src/core/generic_html.c and
 * generic_text.c). The first byte picks the path: even, the rest is an HTML
 * page for gx_from_html; odd, a text rendering read by bl_from_text for
 * gx_from_lines. Small limits keep runs fast and make the limit paths
 * reachable. Besides what the sanitizers catch, it checks what callers rely
 * on: every field is valid UTF-8, the body fits its limit, and a canonical
 * url is absolute http(s).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/blocks.h"
#include "core/generic.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const gx_limits limits = {.max_nodes = 20000, .max_depth = 48, .max_body_bytes = 4096};
static const bl_limits text_limits = {.max_lines = 2000, .max_depth = 48, .max_nodes = 20000};

static void check_text(const char *text)
{
    size_t bad;
    if (text && !sd_utf8_valid(text, strlen(text), &bad))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool html = (data[0] & 1) == 0;
    const char *page = (const char *)data + 1;
    size_t len = size - 1;
    gx_article *a = NULL;
    char err[128];
    int rc;
    if (html) {
        rc = gx_from_html(page, len, "https://news.invalid/a/1", &limits, &a, err, sizeof(err));
    } else {
        /* The text reader wants valid UTF-8, as the charset layer gives it. */
        size_t bad;
        if (!sd_utf8_valid(page, len, &bad))
            len = bad;
        bl_doc *doc = bl_from_text(page, len, &text_limits);
        if (!doc)
            return 0;
        rc = gx_from_lines(doc, &a, err, sizeof(err));
        bl_free(doc);
    }
    if (rc != GX_OK) {
        if (a)
            __builtin_trap();
        return 0;
    }
    const char *fields[] = {a->title,     a->deck,     a->byline,    a->author, a->body,
                            a->published, a->modified, a->canonical, a->lang};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        check_text(fields[i]);
    if (html && a->body && strlen(a->body) > limits.max_body_bytes)
        __builtin_trap();
    if (html && a->canonical && strncasecmp(a->canonical, "http", 4) != 0)
        __builtin_trap();
    int64_t ms;
    (void)gx_parse_date(a->published, 540, &ms);
    gx_article_free(a);
    return 0;
}
