/*
 * The block structure every page rendering is read into: a sequence of lines,
 * each with its indentation, whether it is a list bullet, the link it comes
 * from and its heading level, plus page metadata. Text renderings
 * (bl_from_text) and HTML (bl_from_html, libxml2's HTML parser) produce the
 * same structure, so one set of extraction rules serves both. Pure.
 *
 * Conventions, taken from the crawler's text renderings of dspdaily.com:
 * a bullet item is "  • title" (indent 2 per list depth, then "• "), its
 * further lines are indented 2 more; a lone "-" line separates entries of
 * some lists; everything else is a plain line.
 */
#ifndef SD_CORE_BLOCKS_H
#define SD_CORE_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bl_line {
    const char *text; /* UTF-8, NUL-terminated; indent and bullet removed; owned by the doc */
    size_t len;
    uint16_t indent;  /* leading spaces (text) or 2 x list depth (+2 for an item's later lines) */
    bool bullet;      /* the line was "• ..." (text) or the first line of an <li> (HTML) */
    bool dash;        /* the line is a lone "-" (an entry separator) */
    uint8_t heading;  /* 1..6 for <h1>..<h6>, 0 otherwise */
    const char *href; /* absolute link the line's text comes from, or NULL; owned by the doc */
} bl_line;

/* Page metadata found in HTML head (NULL when absent); all owned by the doc. */
typedef struct bl_meta {
    const char *title;          /* <title> */
    const char *canonical;      /* <link rel=canonical href> */
    const char *og_url;         /* <meta property=og:url> */
    const char *og_title;       /* <meta property=og:title>, or a JSON-LD headline */
    const char *published_time; /* article:published_time, or a JSON-LD datePublished */
    const char *modified_time;  /* article:modified_time, or a JSON-LD dateModified */
    const char *author;         /* <meta name=author>, article:author */
    const char *lang;           /* <html lang> */
    const char *description;    /* <meta name=description> or og:description */
} bl_meta;

typedef enum {
    BL_META_TITLE,
    BL_META_CANONICAL,
    BL_META_OG_URL,
    BL_META_OG_TITLE,
    BL_META_PUBLISHED,
    BL_META_MODIFIED,
    BL_META_AUTHOR,
    BL_META_LANG,
    BL_META_DESCRIPTION,
} bl_meta_field;

/* Limits that keep a hostile page from exhausting memory or time. */
typedef struct bl_limits {
    size_t max_lines; /* further lines are dropped and `truncated` is set */
    size_t max_depth; /* HTML nesting deeper than this is flattened */
    size_t max_nodes; /* HTML nodes beyond this are not visited */
} bl_limits;

/* Defaults: 200,000 lines, depth 256, 2,000,000 nodes. */
extern const bl_limits bl_default_limits;

typedef struct bl_doc bl_doc;

/*
 * Splits a text rendering (valid UTF-8) into lines. Returns NULL only when
 * out of memory. The caller owns the doc (bl_free).
 */
bl_doc *bl_from_text(const char *text, size_t len, const bl_limits *limits);

/*
 * Parses HTML (valid UTF-8; charset conversion happens before) with libxml2's
 * HTML parser and renders it into lines and metadata. base_url resolves
 * relative links (may be NULL). Returns NULL with err filled when the parser
 * gives up or memory runs out. The caller owns the doc.
 */
bl_doc *bl_from_html(const char *html, size_t len, const char *base_url, const bl_limits *limits,
                     char *err, size_t errlen);

size_t bl_count(const bl_doc *doc);
/* The i-th line, borrowed from the doc; i < bl_count(doc). */
const bl_line *bl_at(const bl_doc *doc, size_t i);
const bl_meta *bl_meta_of(const bl_doc *doc);
/* True when the rendering stops in the middle of its last line (no final newline). */
bool bl_ends_mid_line(const bl_doc *doc);
/* True when a limit cut the document short. */
bool bl_truncated(const bl_doc *doc);
/* The limit that cut it short ("max_lines", "max_nodes", "max_depth"), or NULL. Static. */
const char *bl_limit(const bl_doc *doc);
void bl_free(bl_doc *doc);

/* ---- Building a doc (for the readers) ------------------------------------------------------ */

/* Returns an empty doc or NULL when out of memory. */
bl_doc *bl_doc_new(const bl_limits *limits);
/*
 * Appends a line; text (len bytes, need not be NUL-terminated) and href are
 * copied. Returns 0, 1 when a limit dropped the line, -1 when out of memory.
 */
int bl_doc_add(bl_doc *doc, const char *text, size_t len, uint16_t indent, bool bullet,
               uint8_t heading, const char *href);
/* Sets a metadata field (copied; the first value set wins). Returns 0 or -1. */
int bl_doc_set_meta(bl_doc *doc, bl_meta_field field, const char *value);
void bl_doc_set_ends_mid_line(bl_doc *doc, bool value);
/*
 * Marks the doc as cut short by a limit the reader enforces itself (the HTML
 * reader's max_nodes); bl_doc_add marks max_lines on its own.
 */
void bl_doc_set_limit(bl_doc *doc, const char *limit);

#endif
