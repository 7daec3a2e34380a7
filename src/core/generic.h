/*
 * The generic article extractor: the story of a page from a site no profile
 * describes. Pure: no I/O, no globals besides libxml2's one-time init.
 *
 * HTML (gx_from_html) is parsed with libxml2's HTML parser and its main
 * content found in the spirit of readability and trafilatura: boilerplate
 * elements (nav, aside, footer, forms, share, related, comment and ad
 * blocks, by tag and by class/id words) are set aside, paragraphs score
 * their ancestors by text length and commas, containers are weighed by
 * class/id hints and link density, and the best one is rendered with its
 * article-like siblings into paragraphs. schema.org JSON-LD and OpenGraph
 * give the title, dates, author and canonical url, and a JSON-LD
 * articleBody stands in when the page's markup hides the story.
 *
 * Text renderings (gx_from_lines) have no markup left: the article is the
 * densest run of long, sentence-like lines, trimmed of the title, deck,
 * date lines and dateline before it and of share, related and footer
 * blocks after it; title, deck and byline are kept as fields.
 */
#ifndef SD_CORE_GENERIC_H
#define SD_CORE_GENERIC_H

#include <stddef.h>
#include <stdint.h>

#include "core/blocks.h"

/* Every field is a NUL-terminated UTF-8 string owned by the article, or NULL when not found. */
typedef struct gx_article {
    char *title;       /* headline: og:title, JSON-LD headline, the page's h1, or <title> */
    char *deck;        /* the subtitle under the headline (text renderings) */
    char *byline;      /* the byline as written ("홍길동 기자", "By Jane Roe") */
    char *author;      /* the author's name (metadata, or the byline without its words) */
    char *body;        /* the story, paragraphs joined by '\n'; NULL when none was found */
    char *published;   /* as found, ISO 8601 when the page gives it so */
    char *modified;    /* as found */
    char *canonical;   /* link rel=canonical, else og:url, resolved against the page url */
    char *lang;        /* <html lang>, og:locale or JSON-LD inLanguage */
    const char *limit; /* the gx_limits field that cut the page short (static), or NULL */
} gx_article;

/* Limits that keep a hostile page within bounds; NULL means gx_default_limits. */
typedef struct gx_limits {
    size_t max_nodes;      /* DOM nodes beyond this are not read */
    size_t max_depth;      /* deeper elements count as their ancestor at this depth */
    size_t max_body_bytes; /* the body is cut at a character boundary beyond this */
} gx_limits;

/* 2,000,000 nodes, depth 512, 1 MiB of body. */
extern const gx_limits gx_default_limits;

enum {
    GX_OK = 0,
    GX_ERR_PARSE = -1, /* the HTML parser gave up */
    GX_ERR_NOMEM = -2,
};

/*
 * Extracts the article of an HTML page (valid UTF-8; charset conversion
 * happens before). url (may be NULL) resolves relative canonical urls.
 * Returns GX_OK with *out a new article (gx_article_free) whose fields may
 * all be NULL on a page with no story, or a negative GX_ERR_* with *out NULL
 * and err filled.
 */
int gx_from_html(const char *html, size_t len, const char *url, const gx_limits *limits,
                 gx_article **out, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Extracts the article of a text rendering read into lines (bl_from_text),
 * or of any doc: the doc's metadata fills the fields it has. Same return
 * convention as gx_from_html; the doc stays the caller's.
 */
int gx_from_lines(const bl_doc *doc, gx_article **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

void gx_article_free(gx_article *article);

typedef enum {
    GX_TIME_NONE,
    GX_TIME_DAY,    /* a date without a time */
    GX_TIME_MINUTE, /* a date and a time */
} gx_precision;

/*
 * Parses the dates pages write: ISO 8601 ("2024-05-23", "2024-05-23T14:11",
 * with seconds, fractions and a zone "Z", "+09:00", "+0900"), and the
 * Korean "2024.05.23 14:11" and "2024-05-23 14:11". A time without a zone
 * is read in the zone default_offset_min minutes east of UTC (540 for KST).
 * Returns the precision (NONE when text is no date) and the instant in
 * *epoch_ms.
 */
gx_precision gx_parse_date(const char *text, int default_offset_min, int64_t *epoch_ms);

#endif
