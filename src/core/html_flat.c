/*
 * The light DOM of html_flat.h, built from SAX events.
 *
 * libxml2's HTML parser reports the same events whether it builds a tree or not: implied
 * elements (html, body, p) and end tags implied by auto-closing arrive through startElement
 * and endElement. What the tree builder (xmlSAX2StartElement, xmlSAX2Text, xmlSAX2Comment in
 * libxml2 2.9) adds is where each node goes, and that is copied here rule for rule, so the
 * reader walks exactly the tree it walked before:
 *  - the current node is the top of a stack of open elements (nodePush/nodePop), not the
 *    last element's parent;
 *  - an element opened while no element is open goes under the document's first child when
 *    that is an element, else (a doctype, a comment) after the document's last node;
 *  - text with no open element is dropped; text right after text of the same kind (text or
 *    CDATA) in the same element extends it;
 *  - comments and processing instructions are nodes of their own, at the top level when no
 *    element is open.
 * The doctype's node is not kept: it never has children, and the reader counts it itself.
 */
#include "core/html_flat.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/parser.h>

#include "core/html_parse.h"

typedef struct builder {
    hf_doc *d;
    int32_t *stack; /* the open elements, innermost last; owned */
    size_t depth, stack_cap;
    size_t max_nodes;
    bool has_dtd; /* a doctype came: the tree's first child is not an element */
    bool failed;  /* out of memory: the parse was stopped */
    bool full;    /* max_nodes reached: the parse was stopped */
    htmlParserCtxtPtr ctxt;
} builder;

static void stop(builder *b)
{
    xmlStopParser(b->ctxt);
}

/* Grows an array of elements of size `size` to hold `need`; false when memory ran out. */
static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t cap2 = *cap ? *cap : 64;
    while (cap2 < need)
        cap2 *= 2;
    void *grown = realloc(*p, cap2 * size);
    if (!grown)
        return false;
    *p = grown;
    *cap = cap2;
    return true;
}

/*
 * Appends bytes to an arena, and a NUL after them when nul is set. Returns the offset, or
 * UINT32_MAX when memory ran out or offsets would not fit 32 bits.
 */
static uint32_t arena_put(char **a, size_t *len, size_t *cap, const char *s, size_t n, bool nul)
{
    size_t need = *len + n + (nul ? 1 : 0);
    if (need >= UINT32_MAX || !grow((void **)a, cap, need, 1))
        return UINT32_MAX;
    uint32_t at = (uint32_t)*len;
    memcpy(*a + *len, s, n);
    *len += n;
    if (nul)
        (*a)[(*len)++] = '\0';
    return at;
}

static uint32_t str_put(builder *b, const char *s)
{
    hf_doc *d = b->d;
    uint32_t at = arena_put(&d->strs, &d->strs_len, &d->strs_cap, s, strlen(s), true);
    if (at == UINT32_MAX)
        b->failed = true;
    return at;
}

static int32_t current(const builder *b)
{
    return b->depth ? b->stack[b->depth - 1] : -1;
}

/* A new node of the given type, linked nowhere yet; -1 (and the parse stopped) when out. */
static int32_t new_node(builder *b, uint8_t type)
{
    hf_doc *d = b->d;
    if (b->failed || b->full)
        return -1;
    d->n_nodes_seen++;
    if (d->n >= b->max_nodes) {
        b->full = true;
        stop(b);
        return -1;
    }
    if (d->n >= INT32_MAX - 1 || !grow((void **)&d->nodes, &d->cap, d->n + 1, sizeof(hf_node))) {
        b->failed = true;
        stop(b);
        return -1;
    }
    int32_t i = (int32_t)d->n++;
    d->nodes[i] =
        (hf_node){.parent = -1, .children = -1, .last = -1, .next = -1, .type = type, .user = -1};
    return i;
}

/* Links node i as the last child of parent (-1: the document). */
static void append(hf_doc *d, int32_t parent, int32_t i)
{
    d->nodes[i].parent = parent;
    int32_t *first = parent >= 0 ? &d->nodes[parent].children : &d->first;
    int32_t *last = parent >= 0 ? &d->nodes[parent].last : &d->last;
    if (*last >= 0)
        d->nodes[*last].next = i;
    else
        *first = i;
    *last = i;
}

/* The callbacks get the parser context; the builder rides in its _private field. */
static builder *of(void *ctx)
{
    builder *b = ((htmlParserCtxtPtr)ctx)->_private;
    b->ctxt = ctx;
    return b;
}

static void on_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    builder *b = of(ctx);
    hf_doc *d = b->d;
    int32_t i = new_node(b, HF_ELEMENT);
    if (i < 0)
        return;
    d->nodes[i].off = str_put(b, (const char *)name);
    d->nodes[i].len = (uint32_t)d->n_attrs;
    for (size_t k = 0; atts && atts[k] && !b->failed; k += 2) {
        if (d->n_attrs >= UINT32_MAX ||
            !grow((void **)&d->attrs, &d->attrs_cap, d->n_attrs + 1, sizeof(hf_attr))) {
            b->failed = true;
            break;
        }
        hf_attr *a = &d->attrs[d->n_attrs];
        a->name = str_put(b, (const char *)atts[k]);
        /* A bare attribute has no value node; a boolean one gets its name as its value. */
        const xmlChar *value = atts[k + 1];
        if (!value && htmlIsBooleanAttr(atts[k]))
            value = atts[k];
        a->value = str_put(b, value ? (const char *)value : "");
        d->n_attrs++;
        d->nodes[i].n_attrs++;
    }
    if (b->failed) {
        stop(b);
        return;
    }
    int32_t parent = current(b);
    if (parent < 0 && (b->has_dtd || d->first >= 0)) {
        /* xmlSAX2StartElement: the document's first child is the parent, or its sibling. */
        if (!b->has_dtd && d->nodes[d->first].type == HF_ELEMENT)
            parent = d->first;
    }
    append(d, parent, i);
    if (!grow((void **)&b->stack, &b->stack_cap, b->depth + 1, sizeof(int32_t))) {
        b->failed = true;
        stop(b);
        return;
    }
    b->stack[b->depth++] = i;
}

static void on_end(void *ctx, const xmlChar *name)
{
    (void)name;
    builder *b = of(ctx);
    if (b->depth)
        b->depth--;
}

static void on_text(builder *b, const xmlChar *ch, int len, uint8_t type)
{
    hf_doc *d = b->d;
    int32_t parent = current(b);
    if (parent < 0 || len <= 0 || b->failed || b->full)
        return;
    int32_t last = d->nodes[parent].last;
    if (last >= 0 && d->nodes[last].type == type) {
        hf_node *t = &d->nodes[last];
        if (t->off + t->len != d->text_len) {
            /* Not at the arena's end (never seen): move it there so it stays in one piece. */
            uint32_t at =
                arena_put(&d->text, &d->text_len, &d->text_cap, d->text + t->off, t->len, false);
            if (at == UINT32_MAX)
                goto nomem;
            t = &d->nodes[last];
            t->off = at;
        }
        if (arena_put(&d->text, &d->text_len, &d->text_cap, (const char *)ch, (size_t)len, false) ==
            UINT32_MAX)
            goto nomem;
        d->nodes[last].len += (uint32_t)len;
        return;
    }
    int32_t i = new_node(b, type);
    if (i < 0)
        return;
    uint32_t at =
        arena_put(&d->text, &d->text_len, &d->text_cap, (const char *)ch, (size_t)len, false);
    if (at == UINT32_MAX)
        goto nomem;
    d->nodes[i].off = at;
    d->nodes[i].len = (uint32_t)len;
    append(d, parent, i);
    return;
nomem:
    b->failed = true;
    stop(b);
}

static void on_characters(void *ctx, const xmlChar *ch, int len)
{
    on_text(of(ctx), ch, len, HF_TEXT);
}

static void on_cdata(void *ctx, const xmlChar *ch, int len)
{
    on_text(of(ctx), ch, len, HF_CDATA);
}

static void on_other(builder *b)
{
    int32_t i = new_node(b, HF_OTHER);
    if (i >= 0)
        append(b->d, current(b), i);
}

static void on_comment(void *ctx, const xmlChar *value)
{
    (void)value;
    on_other(of(ctx));
}

static void on_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
    (void)target;
    (void)data;
    on_other(of(ctx));
}

static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *external,
                       const xmlChar *system)
{
    (void)name;
    (void)external;
    (void)system;
    of(ctx)->has_dtd = true;
}

void hf_free(hf_doc *doc)
{
    free(doc->nodes);
    free(doc->attrs);
    free(doc->text);
    free(doc->strs);
    *doc = (hf_doc){.first = -1, .last = -1};
}

int hf_parse(const char *html, size_t len, size_t max_nodes, hf_doc *doc)
{
    *doc = (hf_doc){.first = -1, .last = -1};
    builder b = {.d = doc, .max_nodes = max_nodes};
    /* Text is about a third of what the slimmer leaves; the arena is sized once for most pages. */
    doc->text_cap = len / 2 + 64;
    doc->text = malloc(doc->text_cap);
    doc->strs_cap = len / 4 + 64;
    doc->strs = malloc(doc->strs_cap);
    if (!doc->text || !doc->strs) {
        hf_free(doc);
        return HF_ERR_NOMEM;
    }
    htmlSAXHandler sax;
    memset(&sax, 0, sizeof(sax));
    sax.initialized = 1; /* SAX1, as libxml2's own HTML handler */
    /* No startDocument: libxml2 makes no document, and the parse does not depend on one. */
    sax.startElement = on_start;
    sax.endElement = on_end;
    sax.characters = on_characters;
    /* Only called for HTML_PARSE_NOBLANKS, which is not set; blanks are text all the same. */
    sax.ignorableWhitespace = on_characters;
    sax.cdataBlock = on_cdata;
    sax.comment = on_comment;
    sax.processingInstruction = on_pi;
    sax.internalSubset = on_doctype;
    int rc = sd_html_sax(html, len, &sax, &b);
    free(b.stack);
    if (rc != 0 || b.failed) {
        hf_free(doc);
        return rc != 0 ? HF_ERR_PARSE : HF_ERR_NOMEM;
    }
    return HF_OK;
}

const char *hf_attr_value(const hf_doc *d, int32_t i, const char *name)
{
    const hf_node *n = &d->nodes[i];
    for (uint32_t k = 0; k < n->n_attrs; k++) {
        const hf_attr *a = &d->attrs[n->len + k];
        if (strcasecmp(d->strs + a->name, name) == 0)
            return d->strs + a->value;
    }
    return NULL;
}

char *hf_content(const hf_doc *d, int32_t i)
{
    size_t total = 0;
    /* Two walks over the subtree (parent links, no recursion): the length, then the copy. */
    for (int pass = 0; pass < 2; pass++) {
        char *out = NULL;
        if (pass == 1) {
            out = malloc(total + 1);
            if (!out)
                return NULL;
        }
        size_t at = 0;
        int32_t cur = d->nodes[i].children;
        while (cur >= 0) {
            const hf_node *n = &d->nodes[cur];
            if (n->type == HF_TEXT || n->type == HF_CDATA) {
                if (out)
                    memcpy(out + at, d->text + n->off, n->len);
                at += n->len;
            }
            if (n->type == HF_ELEMENT && n->children >= 0) {
                cur = n->children;
                continue;
            }
            while (cur >= 0 && cur != i && d->nodes[cur].next < 0)
                cur = d->nodes[cur].parent;
            cur = (cur < 0 || cur == i) ? -1 : d->nodes[cur].next;
        }
        if (out) {
            out[at] = '\0';
            return out;
        }
        total = at;
    }
    return NULL;
}
