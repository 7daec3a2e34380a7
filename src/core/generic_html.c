/*
 * The generic extractor for HTML (gx_from_html); see generic.h.
 *
 * The page is parsed into a light DOM (html_flat.c: libxml2's SAX events
 * placed as its tree builder would place them, with no malloc per node and at
 * most max_nodes nodes). It is read once, iteratively (parent links, no
 * recursion: the DOM is as deep as the page nests), into a flat array of
 * elements in document order, so that a subtree is a contiguous range and every sum
 * over descendants is one backward pass. Each element gets its text and
 * link-text length, commas and paragraph counts; metadata (<meta>, <link>,
 * <title>, JSON-LD) is read on the way.
 *
 * Then, in passes over the array: boilerplate is marked (by tag, ARIA role
 * and class/id words, but never an element holding most of the page's
 * text, which is a wrapper whatever its name); the clean sums are
 * recomputed without it; paragraphs (elements with at least 25 characters
 * of their own inline text) score their ancestors as readability does; the
 * best container, weighed by class/id hints and link density, is rendered
 * together with its siblings that look like more of the story, leaving out
 * link lists and small negative blocks inside it. A page where this finds
 * little is read again without the class/id rules, and a JSON-LD
 * articleBody longer than what the markup gave replaces it.
 */
#include "core/generic.h"
#include "core/generic_internal.h"
#include "core/html_flat.h"

#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "core/url.h"
#include "core/utf8.h"

const gx_limits gx_default_limits = {
    .max_nodes = 2000000, .max_depth = 512, .max_body_bytes = 1u << 20};

/* ---- Tags ------------------------------------------------------------------------------- */

enum {
    T_BLOCK = 1 << 0, /* starts and ends a paragraph when rendered */
    T_SKIP = 1 << 1,  /* never rendered, never counted (scripts, media, controls) */
    T_META = 1 << 2,  /* read for metadata, never rendered */
    T_NAV = 1 << 3,   /* boilerplate by its tag: nav, aside */
    T_FRAME = 1 << 4, /* page header and footer: boilerplate unless it holds the page */
    T_LINK = 1 << 5,  /* a */
    T_BREAK = 1 << 6, /* br */
    T_PARA = 1 << 7,  /* p: a paragraph whatever its length */
    T_LIST = 1 << 8,  /* ul, ol, dl */
    T_ITEM = 1 << 9,  /* li, dt, dd */
    T_HEADING = 1 << 10,
    T_CELL = 1 << 11, /* td, th: separated by a space */
    T_CAPTION = 1 << 12,
    T_IMG = 1 << 13,
    T_INPUT = 1 << 14,
    T_PRE = 1 << 15,
};

typedef struct tag_info {
    const char *name;
    uint16_t flags;
    int8_t init; /* readability's initial score for a candidate with this tag */
} tag_info;

/* Sorted by name for bsearch; kept out of clang-format, which would give each entry a line. */
/* clang-format off */
static const tag_info tags[] = {
    {"a", T_LINK, 0}, {"address", T_BLOCK, -3}, {"article", T_BLOCK, 5}, {"aside", T_BLOCK | T_NAV, -3},
    {"audio", T_SKIP, 0}, {"base", T_META, 0}, {"blockquote", T_BLOCK, 3}, {"body", T_BLOCK, 0},
    {"br", T_BREAK, 0}, {"button", T_SKIP, 0}, {"canvas", T_SKIP, 0}, {"caption", T_BLOCK, 0},
    {"center", T_BLOCK, 0}, {"datalist", T_SKIP, 0}, {"dd", T_BLOCK | T_ITEM, -3},
    {"details", T_BLOCK, 0}, {"dialog", T_SKIP, 0}, {"div", T_BLOCK, 5}, {"dl", T_BLOCK | T_LIST, -3},
    {"dt", T_BLOCK | T_ITEM, -3}, {"embed", T_SKIP, 0}, {"fieldset", T_BLOCK, 0},
    {"figcaption", T_BLOCK | T_CAPTION, 0}, {"figure", T_BLOCK, 0}, {"footer", T_BLOCK | T_FRAME, -3},
    {"form", T_BLOCK, -3}, {"frameset", T_SKIP, 0}, {"h1", T_BLOCK | T_HEADING, -5},
    {"h2", T_BLOCK | T_HEADING, -5}, {"h3", T_BLOCK | T_HEADING, -5}, {"h4", T_BLOCK | T_HEADING, -5},
    {"h5", T_BLOCK | T_HEADING, -5}, {"h6", T_BLOCK | T_HEADING, -5}, {"head", T_META, 0},
    {"header", T_BLOCK | T_FRAME, -3}, {"hgroup", T_BLOCK, 0}, {"hr", T_BLOCK, 0}, {"html", T_BLOCK, 0},
    {"iframe", T_SKIP, 0}, {"img", T_IMG, 0}, {"input", T_SKIP | T_INPUT, 0}, {"legend", T_BLOCK, 0},
    {"li", T_BLOCK | T_ITEM, -3}, {"link", T_META, 0}, {"listing", T_BLOCK | T_PRE, 3},
    {"main", T_BLOCK, 5}, {"map", T_SKIP, 0}, {"math", T_SKIP, 0}, {"menu", T_BLOCK | T_NAV, -3},
    {"meta", T_META, 0}, {"nav", T_BLOCK | T_NAV, -3}, {"noscript", T_SKIP, 0},
    {"object", T_SKIP, 0}, {"ol", T_BLOCK | T_LIST, -3}, {"optgroup", T_SKIP, 0},
    {"option", T_SKIP, 0}, {"p", T_BLOCK | T_PARA, 0}, {"picture", T_IMG, 0},
    {"pre", T_BLOCK | T_PRE, 3}, {"script", T_META, 0}, {"section", T_BLOCK, 5},
    {"select", T_SKIP, 0}, {"source", T_SKIP, 0}, {"style", T_SKIP, 0}, {"summary", T_BLOCK, 0},
    {"svg", T_SKIP, 0}, {"table", T_BLOCK, 0}, {"tbody", T_BLOCK, 0}, {"td", T_BLOCK | T_CELL, 3},
    {"template", T_SKIP, 0}, {"textarea", T_SKIP, 0}, {"tfoot", T_BLOCK, 0},
    {"th", T_BLOCK | T_CELL, -5}, {"thead", T_BLOCK, 0}, {"title", T_META, 0}, {"tr", T_BLOCK, 0},
    {"ul", T_BLOCK | T_LIST, -3}, {"video", T_SKIP, 0},
};
/* clang-format on */

static int tag_cmp(const void *key, const void *entry)
{
    return strcmp(key, ((const tag_info *)entry)->name);
}

/* The tag of an element, looked up once and kept in its node's user field (-2: unknown). */
static const tag_info *tag_of(hf_doc *d, int32_t i)
{
    hf_node *n = &d->nodes[i];
    if (n->user == -1) {
        const tag_info *t =
            bsearch(hf_name(d, i), tags, sizeof(tags) / sizeof(tags[0]), sizeof(tags[0]), tag_cmp);
        n->user = t ? (int16_t)(t - tags) : -2;
    }
    return n->user >= 0 ? &tags[n->user] : NULL;
}

/* ---- Growing strings -------------------------------------------------------------------- */

void gx__sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->s, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Counts characters other than whitespace (code points) and commas of len bytes of text. */
static void count_text(const char *s, size_t len, uint32_t *chars, uint32_t *commas)
{
    uint32_t n = 0, k = 0;
    const unsigned char *end = (const unsigned char *)s + len;
    for (const unsigned char *p = (const unsigned char *)s; p < end; p++) {
        if (is_ws(*p) || (*p & 0xc0) == 0x80)
            continue;
        n++;
        if (*p == ',')
            k++;
        else if (end - p >= 3 && p[0] == 0xef && p[1] == 0xbc &&
                 p[2] == 0x8c) /* U+FF0C fullwidth comma */
            k++;
        else if (end - p >= 3 && p[0] == 0xe3 && p[1] == 0x80 &&
                 p[2] == 0x81) /* U+3001 ideographic comma */
            k++;
    }
    *chars = n;
    *commas = k;
}

/* ---- Reading the DOM into the array ----------------------------------------------------- */

static bool style_hides(const char *style)
{
    char compact[256];
    size_t n = 0;
    for (; *style && n < sizeof(compact) - 1; style++)
        if (!is_ws((unsigned char)*style))
            compact[n++] = (char)tolower((unsigned char)*style);
    compact[n] = '\0';
    return strstr(compact, "display:none") || strstr(compact, "visibility:hidden");
}

static bool is_hidden(const gx_attrs *a)
{
    return a->hidden || (a->aria_hidden && strcasecmp(a->aria_hidden, "true") == 0) ||
           (a->style && style_hides(a->style));
}

/* Adds an element to the array; returns its index or -1 (limit or out of memory). */
static int32_t add_node(gx_ctx *c, int32_t node, const tag_info *tag, int32_t parent)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        gnode *grown = realloc(c->nodes, cap * sizeof(*grown));
        if (!grown) {
            c->failed = true;
            return -1;
        }
        c->nodes = grown;
        c->cap = cap;
    }
    gnode *g = &c->nodes[c->n];
    *g = (gnode){.node = node, .parent = parent};
    if (tag) {
        g->tflags = tag->flags;
        g->init = tag->init;
    }
    if (parent >= 0 && (c->nodes[parent].flags & N_IN_LINK))
        g->flags |= N_IN_LINK;
    if (g->tflags & T_LINK)
        g->flags |= N_IN_LINK;
    gx_attrs attrs;
    gx__read_attrs(c->doc, node, &attrs);
    gx__class_hints(g, &attrs);
    if (is_hidden(&attrs))
        g->flags |= N_HIDDEN;
    return (int32_t)c->n++;
}

/*
 * Walks the DOM in document order with parent pointers. Elements deeper than max_depth get
 * no entry: their text counts for the nearest ancestor that has one. An element's entry is
 * kept in its node (at[node]) for the renderer.
 */
static void read_dom(gx_ctx *c, int32_t *at)
{
    hf_doc *d = c->doc;
    int32_t cur = d->first;
    size_t depth = 0, visited = 1; /* libxml2's tree had a doctype node first */
    int32_t el = -1;               /* the innermost element with an entry */
    if (visited > c->limits.max_nodes)
        cur = -1;
    while (cur >= 0 && !c->failed) {
        bool descend = false;
        if (++visited > c->limits.max_nodes) {
            if (!c->limit)
                c->limit = "max_nodes";
            break;
        }
        const hf_node *n = &d->nodes[cur];
        if (n->type == HF_TEXT || n->type == HF_CDATA) {
            if (el >= 0) {
                uint32_t chars, commas;
                count_text(hf_text(d, cur), n->len, &chars, &commas);
                gnode *g = &c->nodes[el];
                g->own_chars += chars;
                g->own_commas += commas;
                if (g->flags & N_IN_LINK)
                    g->own_link += chars;
            }
        } else if (n->type == HF_ELEMENT) {
            const tag_info *tag = tag_of(d, cur);
            uint16_t tf = tag ? tag->flags : 0;
            const char *name = hf_name(d, cur);
            if (tf & T_META) {
                if (strcmp(name, "head") == 0)
                    descend = true;
                else
                    gx__read_meta(c, cur);
            } else if (tf & T_SKIP) {
                if ((tf & T_INPUT) && el >= 0)
                    c->nodes[el].n_input++;
            } else if (depth < c->limits.max_depth) {
                int32_t idx = add_node(c, cur, tag, el);
                if (idx < 0)
                    break;
                at[cur] = idx;
                if (strcmp(name, "body") == 0 && c->body < 0)
                    c->body = idx;
                if (strcmp(name, "html") == 0)
                    gx__take(c, &c->lang, hf_attr_value(d, cur, "lang"));
                if ((tf & T_IMG) && el >= 0)
                    c->nodes[el].n_img++;
                el = idx;
                descend = true;
            } else {
                if (!c->limit)
                    c->limit = "max_depth";
                descend = true;
            }
        }
        if (descend && n->children >= 0) {
            cur = n->children;
            depth++;
            continue;
        }
        /* Leaving cur (and every ancestor whose last child it is). */
        for (;;) {
            if (d->nodes[cur].type == HF_ELEMENT && el >= 0 && c->nodes[el].node == cur) {
                c->nodes[el].end = (uint32_t)c->n;
                el = c->nodes[el].parent;
            }
            if (d->nodes[cur].next >= 0) {
                cur = d->nodes[cur].next;
                break;
            }
            cur = d->nodes[cur].parent;
            if (cur < 0)
                break;
            depth--;
        }
    }
    /* A walk cut short by the node limit leaves open elements: close them at the end. */
    for (; el >= 0; el = c->nodes[el].parent)
        c->nodes[el].end = (uint32_t)c->n;
}

/* ---- Sums, boilerplate and scores ------------------------------------------------------- */

static void sum_raw(gx_ctx *c)
{
    for (size_t i = 0; i < c->n; i++)
        c->nodes[i].raw_chars = c->nodes[i].own_chars;
    for (size_t i = c->n; i-- > 0;) {
        gnode *g = &c->nodes[i];
        if (g->parent >= 0 && !(g->flags & N_HIDDEN))
            c->nodes[g->parent].raw_chars += g->raw_chars;
    }
}

/*
 * Marks boilerplate. An element holding most of the page's text is kept whatever its tag or
 * name says: sites wrap whole pages in <header>, class="has-sidebar" or a giant <form>.
 */
static void mark_boilerplate(gx_ctx *c, bool use_classes)
{
    uint32_t page = c->body >= 0 ? c->nodes[c->body].raw_chars : 0;
    for (size_t i = 0; i < c->n; i++) {
        gnode *g = &c->nodes[i];
        g->flags &= (uint16_t) ~(N_REMOVED | N_DROPPED | N_SCORED | N_GONE);
        g->score = 0;
        if (g->flags & N_HIDDEN) {
            g->flags |= N_REMOVED;
            continue;
        }
        if (g->flags & N_BODY)
            continue;
        bool wrapper = (uint64_t)g->raw_chars * 2 > page;
        if ((g->tflags & T_NAV) && !wrapper)
            g->flags |= N_REMOVED;
        else if ((g->tflags & (T_FRAME | T_CAPTION)) && !wrapper)
            g->flags |= N_REMOVED;
        else if (use_classes && (g->flags & N_NEG_WORD) && !wrapper &&
                 strcmp(hf_name(c->doc, g->node), "body") != 0)
            g->flags |= N_REMOVED;
    }
    for (size_t i = 0; i < c->n; i++) {
        gnode *g = &c->nodes[i];
        if ((g->flags & N_REMOVED) || (g->parent >= 0 && (c->nodes[g->parent].flags & N_GONE)))
            g->flags |= N_GONE;
    }
}

/* Clean sums: boilerplate and whatever lies inside it count for nothing. */
static void sum_clean(gx_ctx *c)
{
    for (size_t i = 0; i < c->n; i++) {
        gnode *g = &c->nodes[i];
        g->chars = g->inline_chars = g->own_chars;
        g->link_chars = g->inline_link = g->own_link;
        g->commas = g->inline_commas = g->own_commas;
        g->n_p = (g->tflags & T_PARA) ? 1 : 0;
        g->n_li = (g->tflags & T_ITEM) ? 1 : 0;
        g->flags &= (uint16_t)~N_BLOCKS;
    }
    for (size_t i = c->n; i-- > 0;) {
        gnode *g = &c->nodes[i];
        if (g->parent < 0 || (g->flags & N_REMOVED))
            continue;
        gnode *p = &c->nodes[g->parent];
        p->chars += g->chars;
        p->link_chars += g->link_chars;
        p->commas += g->commas;
        p->n_p += g->n_p;
        p->n_li += g->n_li;
        p->n_img += 0;
        if (g->tflags & T_BLOCK)
            p->flags |= N_BLOCKS;
        if (!(g->tflags & T_BLOCK)) {
            p->inline_chars += g->inline_chars;
            p->inline_link += g->inline_link;
            p->inline_commas += g->inline_commas;
        }
    }
}

/* Removed here or above: marked once, parents coming before their children. */
static bool removed_above(const gx_ctx *c, int32_t i)
{
    return (c->nodes[i].flags & N_GONE) != 0;
}

static float link_density(const gnode *g)
{
    return g->chars ? (float)g->link_chars / (float)g->chars : 0.0f;
}

static void credit(gx_ctx *c, int32_t i, float score)
{
    gnode *g = &c->nodes[i];
    if (!(g->flags & N_SCORED)) {
        g->flags |= N_SCORED;
        g->score = (float)g->init + (float)g->weight;
    }
    g->score += score;
}

/*
 * Readability's scoring: every paragraph (a block with 25 or more characters of its own
 * inline text outside links) gives 1 + commas + up to 3 for its length to its parent, half
 * of that to its grandparent and a third per level to the three above. Text standing loose
 * in a block that also has block children is a paragraph of that block (readability wraps
 * such runs in a <p>), so the block itself is credited first.
 */
static void score_paragraphs(gx_ctx *c)
{
    for (size_t i = 0; i < c->n; i++) {
        gnode *g = &c->nodes[i];
        if (!(g->tflags & T_BLOCK) || (g->tflags & (T_HEADING | T_LIST)))
            continue;
        uint32_t text = g->inline_chars - g->inline_link;
        if (text < 25 || g->flags & N_REMOVED || removed_above(c, (int32_t)i))
            continue;
        float score = 1.0f + (float)g->inline_commas + (float)(text / 100 > 3 ? 3 : text / 100);
        bool loose = !(g->tflags & (T_PARA | T_CELL | T_ITEM | T_PRE)) && (g->flags & N_BLOCKS);
        int32_t a = loose ? (int32_t)i : g->parent;
        for (int level = 0; a >= 0 && level < 5; level++, a = c->nodes[a].parent) {
            float divider = level == 0 ? 1.0f : level == 1 ? 2.0f : (float)level * 3.0f;
            credit(c, a, score / divider);
        }
    }
    for (size_t i = 0; i < c->n; i++) {
        gnode *g = &c->nodes[i];
        if (g->flags & N_SCORED)
            g->score *= 1.0f - link_density(g);
    }
}

static bool is_ancestor(const gx_ctx *c, int32_t a, int32_t d)
{
    return a >= 0 && (uint32_t)d > (uint32_t)a && (uint32_t)d < c->nodes[a].end;
}

/* Picks the best container; -1 when no paragraph scored anything. */
static int32_t top_candidate(gx_ctx *c)
{
    enum { TOP = 5 };
    int32_t best[TOP];
    size_t nb = 0;
    for (size_t i = 0; i < c->n; i++) {
        gnode *g = &c->nodes[i];
        if (!(g->flags & N_SCORED) || (g->flags & N_REMOVED) || removed_above(c, (int32_t)i))
            continue;
        size_t at = nb < TOP ? nb++ : TOP;
        if (at == TOP && g->score <= c->nodes[best[TOP - 1]].score)
            continue;
        if (at == TOP)
            at = TOP - 1;
        while (at > 0 && c->nodes[best[at - 1]].score < g->score) {
            best[at] = best[at - 1];
            at--;
        }
        best[at] = (int32_t)i;
    }
    if (nb == 0)
        return -1;
    int32_t top = best[0];
    float top_score = c->nodes[top].score;
    /* Several strong candidates under one ancestor: the story is split, take the ancestor. */
    size_t alternatives = 0;
    for (size_t k = 1; k < nb; k++)
        if (c->nodes[best[k]].score >= top_score * 0.75f)
            alternatives++;
    if (alternatives >= 2) {
        for (int32_t a = c->nodes[top].parent; a >= 0 && a != c->body; a = c->nodes[a].parent) {
            size_t inside = 0;
            for (size_t k = 1; k < nb; k++)
                if (c->nodes[best[k]].score >= top_score * 0.75f && is_ancestor(c, a, best[k]))
                    inside++;
            if (inside >= 2) {
                top = a;
                break;
            }
        }
    }
    /* Climb while a parent scores better, as readability does. */
    float last = c->nodes[top].score;
    float threshold = last / 3.0f;
    for (int32_t a = c->nodes[top].parent; a >= 0 && a != c->body; a = c->nodes[a].parent) {
        if (!(c->nodes[a].flags & N_SCORED))
            continue;
        if (c->nodes[a].score < threshold)
            break;
        if (c->nodes[a].score > last) {
            top = a;
            break;
        }
        last = c->nodes[a].score;
    }
    /* A lone child adds nothing: its parent may hold the story's other parts. */
    for (int32_t p = c->nodes[top].parent; p >= 0 && p != c->body; p = c->nodes[p].parent) {
        if (c->nodes[p].chars != c->nodes[top].chars || (c->nodes[p].flags & N_REMOVED))
            break;
        top = p;
    }
    return top;
}

/* True for text that ends like a sentence, in any script readability knows. */
static bool has_sentence(gx_ctx *c, int32_t node)
{
    char *text = hf_content(c->doc, node);
    if (!text)
        c->failed = true;
    bool yes = text && (strstr(text, ". ") || strstr(text, ".\n"));
    if (text) {
        size_t len = strlen(text);
        while (len && is_ws((unsigned char)text[len - 1]))
            len--;
        if (len && text[len - 1] == '.')
            yes = true;
    }
    free(text);
    return yes;
}

/* Readability's conditional cleaning: link lists and small negative blocks inside the story. */
static bool clean_out(const gx_ctx *c, const gnode *g)
{
    if (g->tflags & (T_PARA | T_HEADING | T_PRE))
        return g->chars > 0 && link_density(g) > 0.8f && g->chars < 200;
    bool list = (g->tflags & T_LIST) != 0;
    const char *name = hf_name(c->doc, g->node);
    bool container = list || strcmp(name, "div") == 0 || strcmp(name, "section") == 0 ||
                     strcmp(name, "table") == 0 || strcmp(name, "form") == 0 ||
                     strcmp(name, "aside") == 0 || strcmp(name, "figure") == 0 ||
                     strcmp(name, "span") == 0 || (g->tflags & T_ITEM);
    if (!container)
        return false;
    if (g->weight < 0 && g->score + (float)g->weight < 0)
        return true;
    /* A list item that opens with a link and goes on in words is a story point. */
    if ((g->tflags & T_ITEM) && g->chars - g->link_chars >= 40)
        return link_density(g) > 0.6f;
    if (g->commas >= 10)
        return false;
    float ld = link_density(g);
    if (g->n_input > 1 && g->n_input * 3 > g->n_p)
        return true;
    if (g->chars == 0)
        return false;
    /* Much text of its own between the links: a list of story points, not a link list. */
    if (g->chars - g->link_chars >= 500 && ld < 0.5f)
        return false;
    if (g->weight < 25 && ld > 0.33f)
        return true;
    if (g->weight >= 25 && ld > 0.5f)
        return true;
    return false;
}

/* Collects the chosen container and its siblings that read like more of the story. */
static size_t choose(gx_ctx *c, int32_t top, int32_t *out, size_t max)
{
    gnode *t = &c->nodes[top];
    int32_t parent = t->parent;
    if (parent < 0 || top == c->body) {
        out[0] = top;
        return 1;
    }
    float threshold = t->score * 0.2f > 10.0f ? t->score * 0.2f : 10.0f;
    size_t n = 0;
    const char *top_class = hf_attr_value(c->doc, t->node, "class");
    for (uint32_t i = (uint32_t)parent + 1;
         i < c->nodes[parent].end && n<max; i = c->nodes[i].end> i ? c->nodes[i].end : i + 1) {
        gnode *s = &c->nodes[i];
        if ((int32_t)i == top) {
            out[n++] = (int32_t)i;
            continue;
        }
        if (s->flags & N_REMOVED)
            continue;
        float bonus = 0;
        const char *cls = hf_attr_value(c->doc, s->node, "class");
        if (top_class && cls && *cls && strcmp(cls, top_class) == 0)
            bonus = t->score * 0.2f;
        bool keep = false;
        if ((s->flags & N_SCORED) && s->score + bonus >= threshold)
            keep = true;
        else if (s->tflags & (T_PARA | T_PRE)) {
            float ld = link_density(s);
            if (s->chars > 80 && ld < 0.25f)
                keep = true;
            else if (s->chars > 0 && s->chars <= 80 && ld == 0 && has_sentence(c, s->node))
                keep = true;
        }
        if (keep)
            out[n++] = (int32_t)i;
    }
    return n;
}

/* ---- Rendering -------------------------------------------------------------------------- */

typedef struct render {
    sbuf out;
    bool space; /* a space waits before the next word */
    bool para;  /* a paragraph break waits before the next word */
} render;

static void r_break(render *r)
{
    if (r->out.len)
        r->para = true;
}

static void r_text(render *r, const char *s, size_t len, bool pre)
{
    const char *end = s + len;
    for (const char *p = s; p < end;) {
        if (is_ws((unsigned char)*p)) {
            if (pre && *p == '\n')
                r_break(r);
            else if (r->out.len)
                r->space = true;
            p++;
            continue;
        }
        size_t n = 0;
        while (p + n < end && !is_ws((unsigned char)p[n]))
            n++;
        if (r->para)
            gx__sb_put(&r->out, "\n", 1);
        else if (r->space)
            gx__sb_put(&r->out, " ", 1);
        r->para = r->space = false;
        gx__sb_put(&r->out, p, n);
        p += n;
    }
}

static bool skip_in_render(const gx_ctx *c, int32_t node)
{
    const hf_node *n = &c->doc->nodes[node];
    if (n->type != HF_ELEMENT)
        return n->type != HF_TEXT && n->type != HF_CDATA;
    const tag_info *tag = tag_of(c->doc, node);
    if (tag && (tag->flags & (T_SKIP | T_META)))
        return true;
    int32_t i = c->entry[node];
    return i >= 0 && (c->nodes[i].flags & (N_REMOVED | N_DROPPED | N_HIDDEN));
}

/* Renders a subtree into paragraphs, iteratively. */
static void render_node(const gx_ctx *c, render *r, int32_t root)
{
    hf_doc *d = c->doc;
    int32_t cur = root;
    size_t pre = 0;
    while (cur >= 0) {
        bool descend = false;
        const hf_node *n = &d->nodes[cur];
        if (!skip_in_render(c, cur)) {
            if (n->type != HF_ELEMENT) {
                r_text(r, hf_text(d, cur), n->len, pre > 0);
            } else {
                const tag_info *tag = tag_of(d, cur);
                uint16_t tf = tag ? tag->flags : 0;
                if (tf & (T_BLOCK | T_BREAK))
                    r_break(r);
                else if (tf & T_CELL)
                    r->space = r->out.len > 0;
                if (tf & T_PRE)
                    pre++;
                descend = true;
            }
        }
        if (descend && n->children >= 0) {
            cur = n->children;
            continue;
        }
        for (;;) {
            if (d->nodes[cur].type == HF_ELEMENT && !skip_in_render(c, cur)) {
                const tag_info *tag = tag_of(d, cur);
                if (tag && (tag->flags & T_BLOCK))
                    r_break(r);
                if (tag && (tag->flags & T_PRE) && pre)
                    pre--;
            }
            if (cur == root) {
                cur = -1;
                break;
            }
            if (d->nodes[cur].next >= 0) {
                cur = d->nodes[cur].next;
                break;
            }
            cur = d->nodes[cur].parent;
            if (cur < 0) /* cannot happen inside root's subtree; kept for safety */
                break;
        }
    }
}

/* Marks what conditional cleaning leaves out inside the chosen containers. */
static void clean_inside(gx_ctx *c, int32_t root)
{
    for (uint32_t i = (uint32_t)root + 1; i < c->nodes[root].end; i++) {
        gnode *g = &c->nodes[i];
        if (g->flags & N_REMOVED) {
            i = g->end - 1; /* the whole subtree is out already */
            continue;
        }
        if (clean_out(c, g)) {
            g->flags |= N_DROPPED;
            i = g->end - 1;
        }
    }
}

/* ---- Putting it together ---------------------------------------------------------------- */

/* Runs boilerplate marking, scoring and rendering once; returns the body (owned) or NULL. */
static char *extract_body(gx_ctx *c, bool use_classes)
{
    mark_boilerplate(c, use_classes);
    sum_clean(c);
    score_paragraphs(c);
    int32_t top = top_candidate(c);
    if (top < 0)
        return NULL;
    int32_t chosen[512];
    size_t n = choose(c, top, chosen, sizeof(chosen) / sizeof(chosen[0]));
    render r = {0};
    for (size_t k = 0; k < n; k++) {
        clean_inside(c, chosen[k]);
        r_break(&r);
        render_node(c, &r, c->nodes[chosen[k]].node);
    }
    if (r.out.failed) {
        free(r.out.s);
        c->failed = true;
        return NULL;
    }
    return r.out.s;
}

static void ctx_free(gx_ctx *c)
{
    free(c->nodes);
    free(c->entry);
    char **fields[] = {&c->title,       &c->og_title,  &c->h1,          &c->canonical,
                       &c->og_url,      &c->lang,      &c->og_locale,   &c->published,
                       &c->modified,    &c->author,    &c->ld_headline, &c->ld_published,
                       &c->ld_modified, &c->ld_author, &c->ld_body,     &c->ld_lang};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        free(*fields[i]);
}

/* Body text from JSON-LD keeps its own line breaks; only runs of spaces are collapsed. */
static char *clean_body(const char *s)
{
    render r = {0};
    for (const char *p = s; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        r_break(&r);
        r_text(&r, p, n, false);
        p += n + (nl ? 1 : 0);
    }
    if (r.out.failed) {
        free(r.out.s);
        return NULL;
    }
    return r.out.s;
}

static char *resolved(const char *url, const char *href)
{
    if (!href)
        return NULL;
    char *out = cu_resolve(url ? url : href, href);
    if (out && strncasecmp(out, "http", 4) != 0) {
        free(out);
        out = NULL;
    }
    return out;
}

int gx_from_html(const char *html, size_t len, const char *url, const gx_limits *limits,
                 gx_article **out, char *err, size_t errlen)
{
    *out = NULL;
    gx_article *a = calloc(1, sizeof(*a));
    if (!a)
        goto nomem_early;
    size_t first = 0;
    while (first < len && is_ws((unsigned char)html[first]))
        first++;
    if (first == len) {
        *out = a;
        return GX_OK;
    }
    if (len > INT_MAX) {
        snprintf(err, errlen, "page too large for the HTML parser");
        free(a);
        return GX_ERR_PARSE;
    }
    gx_limits lim = limits ? *limits : gx_default_limits;
    size_t slim_len = 0;
    char *slim = gx__slim(html, len, &slim_len);
    hf_doc dom;
    int parsed = slim ? hf_parse(slim, slim_len, lim.max_nodes, &dom)
                      : hf_parse(html, len, lim.max_nodes, &dom);
    /* About one element per two '<' (start and end tags): the array is sized once. */
    size_t n_lt = 0;
    const char *text = slim ? slim : html, *text_end = text + (slim ? slim_len : len);
    for (const char *p = text; (p = memchr(p, '<', (size_t)(text_end - p))) != NULL; p++)
        n_lt++;
    free(slim);
    if (parsed != HF_OK) {
        free(a);
        if (parsed == HF_ERR_NOMEM)
            goto nomem_early;
        snprintf(err, errlen, "the HTML parser could not read the page");
        return GX_ERR_PARSE;
    }
    size_t nodes_seen = dom.n_nodes_seen;
    gx_ctx c = {.limits = lim, .url = url, .doc = &dom, .body = -1};
    c.cap = n_lt / 2 + 64 < c.limits.max_nodes ? n_lt / 2 + 64 : c.limits.max_nodes;
    c.nodes = malloc(c.cap * sizeof(*c.nodes));
    if (!c.nodes)
        c.cap = 0;
    c.entry = malloc((dom.n ? dom.n : 1) * sizeof(*c.entry));
    if (!c.entry)
        c.failed = true;
    for (size_t i = 0; c.entry && i < dom.n; i++)
        c.entry[i] = -1;
    if (!c.failed)
        read_dom(&c, c.entry);
    char *body = NULL;
    if (!c.failed && c.n) {
        sum_raw(&c);
        body = extract_body(&c, true);
        /* The class/id rules can be wrong about a whole site: try again without them. */
        if (!c.failed && gx__word_count(body) < 50) {
            char *second = extract_body(&c, false);
            if (gx__word_count(second) > gx__word_count(body)) {
                free(body);
                body = second;
            } else {
                free(second);
            }
        }
    }
    /* The page's own h1 is a title when the metadata gives none. */
    for (size_t i = 0; i < c.n && !c.h1 && !c.failed; i++) {
        if (strcmp(hf_name(&dom, c.nodes[i].node), "h1") == 0 && !(c.nodes[i].flags & N_HIDDEN)) {
            char *h1 = hf_content(&dom, c.nodes[i].node);
            if (!h1)
                c.failed = true;
            gx__take(&c, &c.h1, h1);
            free(h1);
        }
    }
    hf_free(&dom);
    if (c.failed)
        goto nomem;

    /* JSON-LD articleBody is what the publisher says the story is; it wins when longer. */
    /* Some sites put escaped markup there ("&lt;div ..."): its words are not the story's. */
    bool ld_markup = c.ld_body && (strstr(c.ld_body, "&lt;") || strstr(c.ld_body, "<p") ||
                                   strstr(c.ld_body, "<div") || strstr(c.ld_body, "<a "));
    if (c.ld_body && !ld_markup && gx__word_count(c.ld_body) > gx__word_count(body) * 5 / 4 + 10) {
        char *ld = clean_body(c.ld_body);
        if (!ld)
            goto nomem;
        free(body);
        body = ld;
    }
    a->title = gx__clean_field(c.og_title      ? c.og_title
                               : c.ld_headline ? c.ld_headline
                               : c.h1          ? c.h1
                                               : c.title);
    if (body) {
        char *h1 = gx__clean_field(c.h1);
        a->body = gx__filter_paragraphs(body, h1 ? h1 : a->title);
        free(h1);
        free(body);
        body = NULL;
        if (!a->body)
            goto nomem;
        if (!a->body[0]) {
            free(a->body);
            a->body = NULL;
        } else
            gx__fix_utf8(a->body, strlen(a->body));
        if (a->body && strlen(a->body) > c.limits.max_body_bytes) {
            gx__cap_utf8(a->body, c.limits.max_body_bytes);
            a->limit = "max_body_bytes";
        }
    }
    a->published = gx__clean_field(c.ld_published ? c.ld_published : c.published);
    a->modified = gx__clean_field(c.ld_modified ? c.ld_modified : c.modified);
    a->author = gx__clean_field(c.ld_author ? c.ld_author : c.author);
    char *canon = resolved(url, c.canonical);
    if (!canon)
        canon = resolved(url, c.og_url);
    a->canonical = gx__clean_field(canon);
    free(canon);
    a->lang = gx__clean_field(c.lang ? c.lang : c.ld_lang ? c.ld_lang : c.og_locale);
    /* The parser stops keeping nodes at max_nodes; the walk marks what it cut itself. */
    if (!a->limit)
        a->limit = nodes_seen > lim.max_nodes ? "max_nodes" : c.limit;
    ctx_free(&c);
    *out = a;
    return GX_OK;

nomem:
    free(body);
    ctx_free(&c);
    gx_article_free(a);
nomem_early:
    snprintf(err, errlen, "out of memory");
    return GX_ERR_NOMEM;
}
