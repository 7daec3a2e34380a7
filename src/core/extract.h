/*
 * Extraction: one page event in, the page's story items out. Pure.
 *
 * The body is converted to UTF-8 (charset.h), read into lines (blocks.h,
 * from the text rendering or from HTML), and walked with the rules of the
 * site profile that serves the page's host: the article (title, body,
 * byline and dates kept apart), then every list (BEST 뉴스 teasers,
 * 실시간뉴스/추천뉴스 headlines, listing entries). Items come out with display
 * text and match keys (normalize.h).
 */
#ifndef SD_CORE_EXTRACT_H
#define SD_CORE_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "core/blocks.h"
#include "core/item.h"
#include "core/profile.h"

typedef struct ex_input {
    const char *url;          /* as fetched; required */
    const char *content_type; /* may be NULL */
    const uint8_t *body;
    size_t len;
} ex_input;

typedef struct ex_limits {
    size_t max_page_bytes; /* after charset conversion; larger is an error */
    size_t max_items;      /* further items are dropped and the page marked truncated */
    size_t max_item_bytes; /* longer item text is cut at a character boundary */
    bl_limits blocks;
} ex_limits;

/* 16 MiB pages, 2,000 items, 256 KiB per item, 200,000 lines, depth 512, 2,000,000 nodes. */
extern const ex_limits ex_default_limits;

typedef enum {
    EX_OK = 0,
    EX_ERR_URL = -1,       /* the url is missing */
    EX_ERR_CHARSET = -2,   /* the body cannot be converted */
    EX_ERR_TOO_LARGE = -3, /* over max_page_bytes */
    EX_ERR_PARSE = -4,     /* the HTML parser gave up */
    EX_ERR_NOMEM = -5,
    EX_ERR_CONTENT_TYPE = -6, /* the content type is not a page: an image, a PDF, a binary */
} ex_status;

/*
 * Extracts the items of one page. profiles (n of them, borrowed) are tried
 * by host; a page no profile serves gets its page-level facts and one
 * article item from the generic extractor (generic.h), when it finds a
 * body. On EX_OK *out is a new page (ex_page_free); otherwise *out is NULL
 * and err says what failed.
 */
ex_status ex_extract(const sp_profile *const *profiles, size_t n_profiles, const ex_input *input,
                     const ex_limits *limits, ex_page **out, char *err, size_t errlen);

const char *ex_status_name(ex_status status);

/*
 * Parses a KST date written "2025.08.18 13:33", "2025-08-18 13:33",
 * "2025.08.18" or "2024-05-23" (optionally followed by "(목)" or other
 * text) at the start of text. Returns the precision (NONE when it is no
 * date) and the instant in *epoch_ms (midnight KST for days).
 */
ex_precision ex_parse_kst_date(const char *text, int64_t *epoch_ms);

#endif
