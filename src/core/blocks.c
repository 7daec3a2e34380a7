#include "core/blocks.h"

#include <stdlib.h>
#include <string.h>

const bl_limits bl_default_limits = {
    .max_lines = 200000,
    .max_depth = 256,
    .max_nodes = 2000000,
};

struct bl_doc {
    bl_line *lines;
    size_t count, cap;
    bl_meta meta;
    bl_limits limits;
    bool ends_mid_line;
    const char *limit; /* the first limit that cut the document short (a static name), or NULL */
};

bl_doc *bl_doc_new(const bl_limits *limits)
{
    bl_doc *doc = calloc(1, sizeof(*doc));
    if (!doc)
        return NULL;
    doc->limits = limits ? *limits : bl_default_limits;
    return doc;
}

static char *copy_text(const char *text, size_t len)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    if (len)
        memcpy(out, text, len);
    out[len] = '\0';
    return out;
}

int bl_doc_add(bl_doc *doc, const char *text, size_t len, uint16_t indent, bool bullet,
               uint8_t heading, const char *href)
{
    if (doc->count >= doc->limits.max_lines) {
        if (!doc->limit)
            doc->limit = "max_lines";
        return 1;
    }
    if (doc->count == doc->cap) {
        size_t cap = doc->cap ? doc->cap * 2 : 64;
        bl_line *grown = realloc(doc->lines, cap * sizeof(*grown));
        if (!grown)
            return -1;
        doc->lines = grown;
        doc->cap = cap;
    }
    char *copy = copy_text(text, len);
    char *href_copy = href ? copy_text(href, strlen(href)) : NULL;
    if (!copy || (href && !href_copy)) {
        free(copy);
        free(href_copy);
        return -1;
    }
    doc->lines[doc->count++] = (bl_line){
        .text = copy,
        .len = len,
        .indent = indent,
        .bullet = bullet,
        .dash = !bullet && len == 1 && text[0] == '-',
        .heading = heading,
        .href = href_copy,
    };
    return 0;
}

int bl_doc_set_meta(bl_doc *doc, bl_meta_field field, const char *value)
{
    const char **slot = NULL;
    switch (field) {
    case BL_META_TITLE:
        slot = &doc->meta.title;
        break;
    case BL_META_CANONICAL:
        slot = &doc->meta.canonical;
        break;
    case BL_META_OG_URL:
        slot = &doc->meta.og_url;
        break;
    case BL_META_OG_TITLE:
        slot = &doc->meta.og_title;
        break;
    case BL_META_PUBLISHED:
        slot = &doc->meta.published_time;
        break;
    case BL_META_MODIFIED:
        slot = &doc->meta.modified_time;
        break;
    case BL_META_AUTHOR:
        slot = &doc->meta.author;
        break;
    case BL_META_LANG:
        slot = &doc->meta.lang;
        break;
    case BL_META_DESCRIPTION:
        slot = &doc->meta.description;
        break;
    }
    if (!slot || *slot || !value)
        return 0;
    char *copy = copy_text(value, strlen(value));
    if (!copy)
        return -1;
    *slot = copy;
    return 0;
}

void bl_doc_set_ends_mid_line(bl_doc *doc, bool value)
{
    doc->ends_mid_line = value;
}

void bl_doc_set_limit(bl_doc *doc, const char *limit)
{
    if (!doc->limit)
        doc->limit = limit;
}

/* The bullet "•" (U+2022) in UTF-8. */
static const char bullet_utf8[] = "\xe2\x80\xa2";

bl_doc *bl_from_text(const char *text, size_t len, const bl_limits *limits)
{
    bl_doc *doc = bl_doc_new(limits);
    if (!doc)
        return NULL;
    const char *cursor = text;
    const char *end = text + len;
    while (cursor < end) {
        const char *eol = memchr(cursor, '\n', (size_t)(end - cursor));
        const char *line_end = eol ? eol : end;
        const char *start = cursor;
        cursor = eol ? eol + 1 : end;
        /* Indentation counts spaces; a tab counts as the 4 spaces renderers use. */
        uint16_t indent = 0;
        while (start < line_end && (*start == ' ' || *start == '\t')) {
            indent = (uint16_t)(indent + (*start == '\t' ? 4 : 1));
            start++;
        }
        while (line_end > start &&
               (line_end[-1] == '\r' || line_end[-1] == ' ' || line_end[-1] == '\t'))
            line_end--;
        bool bullet = false;
        if ((size_t)(line_end - start) >= 3 && memcmp(start, bullet_utf8, 3) == 0) {
            bullet = true;
            start += 3;
            while (start < line_end && *start == ' ')
                start++;
        }
        if (bl_doc_add(doc, start, (size_t)(line_end - start), indent, bullet, 0, NULL) < 0) {
            bl_free(doc);
            return NULL;
        }
    }
    doc->ends_mid_line = len > 0 && text[len - 1] != '\n';
    return doc;
}

size_t bl_count(const bl_doc *doc)
{
    return doc->count;
}

const bl_line *bl_at(const bl_doc *doc, size_t i)
{
    return &doc->lines[i];
}

const bl_meta *bl_meta_of(const bl_doc *doc)
{
    return &doc->meta;
}

bool bl_ends_mid_line(const bl_doc *doc)
{
    return doc->ends_mid_line;
}

bool bl_truncated(const bl_doc *doc)
{
    return doc->limit != NULL;
}

const char *bl_limit(const bl_doc *doc)
{
    return doc->limit;
}

void bl_free(bl_doc *doc)
{
    if (!doc)
        return;
    for (size_t i = 0; i < doc->count; i++) {
        free((char *)doc->lines[i].text);
        free((char *)doc->lines[i].href);
    }
    free(doc->lines);
    const char *fields[] = {doc->meta.title,    doc->meta.canonical,      doc->meta.og_url,
                            doc->meta.og_title, doc->meta.published_time, doc->meta.modified_time,
                            doc->meta.author,   doc->meta.lang,           doc->meta.description};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        free((char *)fields[i]);
    free(doc);
}
