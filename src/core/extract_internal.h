/*
 * Shared between the parts of the extractor (extract.c, extract_article.c,
 * extract_lists.c). Not part of the public API.
 */
#ifndef SD_CORE_EXTRACT_INTERNAL_H
#define SD_CORE_EXTRACT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "core/blocks.h"
#include "core/extract.h"
#include "core/item.h"
#include "core/profile.h"

/* The longest section path kept ("국제뉴스 > 아시아"). */
#define EX_SECTION_MAX 256

typedef struct ex_ctx {
    const sp_profile *profile; /* never NULL inside the rules */
    const bl_doc *doc;
    size_t n; /* line count */
    ex_page *page;
    const ex_limits *limits;
    const char *page_section; /* from the breadcrumb (points into page_section_buf) or NULL */
    char page_section_buf[EX_SECTION_MAX];
    bool nomem;
} ex_ctx;

static inline const bl_line *ex_line(const ex_ctx *ctx, size_t i)
{
    return bl_at(ctx->doc, i);
}

/* True when line i is blank (only spaces, including U+00A0 and U+3000). */
bool ex_blank(const ex_ctx *ctx, size_t i);
/* The next non-blank line at or after i, or ctx->n. */
size_t ex_skip_blank(const ex_ctx *ctx, size_t i);
/* True when line i opens a list (a teaser, headline or listing header of the profile). */
bool ex_is_list_header(const ex_ctx *ctx, size_t i);
/* True when line i is the copyright footer; *brand gets the brand it names (or NULL). */
bool ex_is_footer(const ex_ctx *ctx, size_t i);
/* True when line i is the last line and the rendering stops inside it. */
bool ex_is_cut_line(const ex_ctx *ctx, size_t i);
/* True for lines that never carry story text: image file names, photo captions. */
bool ex_is_media_line(const ex_ctx *ctx, const char *text);

/*
 * For a caption line with the story glued after it ("▲ 사진=… [동포투데이] …"),
 * returns where the brand tag starts; NULL when the line is a caption only.
 */
const char *ex_after_caption(const ex_ctx *ctx, const char *text);

/*
 * Appends an item from raw (un-normalized) strings: normalizes them, moves a
 * leading brand tag to brand, strips a photo caption glued in front of the
 * tag, computes match keys. Takes none of the arguments' ownership. Returns
 * the item or NULL (out of memory, or the item limit was reached).
 */
ex_item *ex_emit(ex_ctx *ctx, ex_kind kind, const char *title, const char *text,
                 const char *section, const char *url, ex_cut cut);

/* The article rules; returns the index of the first line after the article. */
size_t ex_article(ex_ctx *ctx);
/* The list rules from line `from` to the end. */
void ex_lists(ex_ctx *ctx, size_t from);

#endif
