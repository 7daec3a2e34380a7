/*
 * Story items and the page they come from: what extraction produces. Pure data.
 */
#ifndef SD_CORE_ITEM_H
#define SD_CORE_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/profile.h"

typedef enum {
    EX_ARTICLE,  /* the page's own story */
    EX_TEASER,   /* a title with a lead, in a list */
    EX_HEADLINE, /* a bare title, in a list */
} ex_kind;

typedef enum {
    EX_CUT_NONE,
    EX_CUT_SITE,     /* the site shortened the lead ("...", "…", "... -") */
    EX_CUT_PAGE_END, /* the rendering stops inside the item */
} ex_cut;

typedef enum {
    EX_TIME_NONE,
    EX_TIME_DAY,    /* the page gives the date only */
    EX_TIME_MINUTE, /* the page gives date and time */
} ex_precision;

typedef struct ex_item {
    ex_kind kind;
    char *title;   /* display text, or NULL (body-first article renderings have none) */
    char *text;    /* lead or body, display text with '\n' between paragraphs; NULL for headlines */
    char *brand;   /* "동포투데이", "인터내셔널포커스", another publisher, or NULL */
    char *section; /* "국제뉴스 > 아시아", or NULL */
    char *url;     /* the item's own url where the page gives one, or NULL */
    int64_t published_at_ms; /* Unix epoch ms (from KST on the page); valid unless precision NONE */
    ex_precision precision;
    ex_cut cut;
    int position;    /* 0-based order of the item on its page */
    char *title_key; /* match key of the title, or NULL */
    char *text_key;  /* match key of the text, or NULL */
} ex_item;

typedef struct ex_page {
    sp_page_kind kind;
    char *canonical_url;         /* NULL when the url is not http(s) */
    char *footer_brand;          /* the brand the copyright footer names, or NULL */
    const char *profile_name;    /* borrowed from the profile, NULL when none served the page */
    const char *profile_version; /* borrowed from the profile */
    int64_t edited_at_ms;        /* "최종편집": the page's edit date (day precision), or -1 */
    char charset[32];            /* what the body was read as */
    size_t replaced_bytes;       /* invalid bytes turned into U+FFFD */
    bool truncated;              /* a limit cut the page short... */
    const char *limit;           /* ...the first one that did (ex_limits' field name), or NULL */
    bool is_html;
    ex_item *items;
    size_t n_items;
    size_t cap_items;
} ex_page;

/* Appends an empty item (zeroed, position set) and returns it, or NULL when out of memory. */
ex_item *ex_page_add_item(ex_page *page, ex_kind kind);
/* Removes the last item (used when a rule takes an entry back). */
void ex_page_drop_last(ex_page *page);
void ex_page_free(ex_page *page);

const char *ex_kind_name(ex_kind kind);
const char *ex_cut_name(ex_cut cut);
const char *ex_precision_name(ex_precision precision);

#endif
