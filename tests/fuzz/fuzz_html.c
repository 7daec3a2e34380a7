/*
 * libFuzzer target for the HTML reader (src/core/blocks_html.c). The input
 * is a page; small limits keep each run fast and make the limit paths
 * reachable. Besides what the sanitizers catch, it checks what the
 * extraction rules rely on: every line is non-empty, trimmed, valid UTF-8,
 * within the limits, and a link is an absolute http(s) url.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/blocks.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const bl_limits limits = {.max_lines = 2000, .max_depth = 48, .max_nodes = 20000};

static void check_text(const char *text, size_t len)
{
    size_t bad;
    if (strlen(text) != len || !sd_utf8_valid(text, len, &bad))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The low bit of the first byte chooses whether there is a base url to resolve against. */
    const char *base = size && (data[0] & 1) ? NULL : "https://www.dspdaily.com/news/index.php";
    char err[128];
    bl_doc *doc = bl_from_html((const char *)data, size, base, &limits, err, sizeof(err));
    if (!doc)
        return 0;
    if (bl_count(doc) > limits.max_lines || bl_ends_mid_line(doc))
        __builtin_trap();
    for (size_t i = 0; i < bl_count(doc); i++) {
        const bl_line *line = bl_at(doc, i);
        check_text(line->text, line->len);
        if (line->len == 0 || line->text[0] == ' ' || line->text[line->len - 1] == ' ' ||
            line->indent > 2 * limits.max_depth + 2 || line->heading > 6)
            __builtin_trap();
        if (line->href) {
            check_text(line->href, strlen(line->href));
            if (strncasecmp(line->href, "http", 4) != 0)
                __builtin_trap();
        }
    }
    const bl_meta *meta = bl_meta_of(doc);
    const char *fields[] = {meta->title,    meta->canonical,      meta->og_url,
                            meta->og_title, meta->published_time, meta->modified_time,
                            meta->author,   meta->lang,           meta->description};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (fields[i])
            check_text(fields[i], strlen(fields[i]));
    bl_free(doc);
    return 0;
}
