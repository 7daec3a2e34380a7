/*
 * Shared between the parts of the generic HTML extractor (generic_html.c: the
 * DOM walk, scores and rendering; generic_meta.c: class/id hints and page
 * metadata). Not part of the public API.
 */
#ifndef SD_CORE_GENERIC_INTERNAL_H
#define SD_CORE_GENERIC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/generic.h"
#include "core/html_flat.h"

/* ---- The flat DOM ----------------------------------------------------------------------- */

enum {
    N_REMOVED = 1 << 0,  /* boilerplate: left out of the sums and the rendering */
    N_IN_LINK = 1 << 1,  /* inside an <a> */
    N_BODY = 1 << 2,     /* itemprop=articleBody */
    N_NEG_WORD = 1 << 3, /* class/id names boilerplate */
    N_DROPPED = 1 << 4,  /* cleaned out of the chosen container */
    N_HIDDEN = 1 << 5,
    N_SCORED = 1 << 6, /* has a candidate score */
    N_BLOCKS = 1 << 7, /* has block children left after boilerplate removal */
    N_GONE = 1 << 8,   /* removed, or inside a removed element */
};

typedef struct gnode {
    int32_t node;   /* the element in gx_ctx.doc */
    int32_t parent; /* index, -1 for the root */
    uint32_t end;   /* one past the last descendant */
    uint16_t tflags;
    uint16_t flags;
    int8_t init;
    int16_t weight; /* class/id hint */
    /* Counted from the text directly under the element. */
    uint32_t own_chars, own_link, own_commas;
    /* Sums over the subtree; "raw" ignores boilerplate marks, the others leave it out. */
    uint32_t raw_chars;
    uint32_t chars, link_chars, commas;
    uint32_t inline_chars, inline_link, inline_commas; /* through inline descendants only */
    uint32_t n_p, n_li, n_img, n_input;
    float score;
} gnode;

typedef struct gx_ctx {
    gx_limits limits;
    const char *url;
    hf_doc *doc; /* the parsed page; the caller's */
    gnode *nodes;
    size_t n, cap;
    int32_t *entry; /* per node of doc: its index in nodes, or -1; owned */
    int32_t body;   /* index of <body>, or -1 */
    bool failed;
    const char *limit; /* the first limit that cut the page short (static), or NULL */
    /* Metadata, owned. */
    char *title, *og_title, *h1, *canonical, *og_url, *lang, *og_locale;
    char *published, *modified, *author;
    char *ld_headline, *ld_published, *ld_modified, *ld_author, *ld_body, *ld_lang;
} gx_ctx;

/* Sets *slot to a copy of value (trimmed at the start) unless it is set or value is empty. */
void gx__take(gx_ctx *c, char **slot, const char *value);
/* The attributes every element is read for, in one pass (NULL when absent; "" when bare). */
typedef struct gx_attrs {
    const char *cls, *id, *prop, *role, *style, *aria_hidden, *hidden;
} gx_attrs;
void gx__read_attrs(const hf_doc *d, int32_t node, gx_attrs *out);
/* Reads class, id, itemprop and role: sets the hint weight and the boilerplate flag. */
void gx__class_hints(gnode *g, const gx_attrs *attrs);
/* Reads a metadata element anywhere in the page: title, meta, link, JSON-LD script. */
void gx__read_meta(gx_ctx *c, int32_t node);

/* A growing string; failed after an allocation failed. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
    bool failed;
} sbuf;
void gx__sb_put(sbuf *b, const char *s, size_t n);

/* Paragraph and field cleaning (generic_meta.c). */
char *gx__filter_paragraphs(const char *body, const char *title); /* labels, repeated title */
void gx__fix_utf8(char *s, size_t len);                           /* invalid bytes -> '?' */
char *gx__clean_field(const char *s);   /* whitespace collapsed, UTF-8 fixed; NULL for NULL */
size_t gx__word_count(const char *s);   /* runs of letters and digits */
void gx__cap_utf8(char *s, size_t max); /* cut at a character boundary */

/*
 * A copy of a page for the parser without what the extractor never reads (script and style
 * bodies, comment text, unread attributes); same elements and text. NULL when the page has a
 * NUL byte or memory ran out: parse the page itself then. Sets *out_len.
 */
char *gx__slim(const char *html, size_t len, size_t *out_len);

#endif
