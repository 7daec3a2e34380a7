/*
 * The HTML reader (bl_from_html): renders a page parsed by libxml2's HTML
 * parser into the lines the crawler's text renderings give (see blocks.h), so
 * one set of extraction rules reads both. A list item becomes a bullet line
 * at indent 2 x list depth and its later lines are indented 2 more; headings
 * keep their level; a line mostly made of one link's text carries that link.
 *
 * The DOM is walked with parent pointers and a heap stack of frames, never by
 * recursion: libxml2 builds trees as deep as the page nests (see html_parse.c), and
 * a page nested 100,000 deep must not overflow the C stack. Elements deeper
 * than limits->max_depth get no frame: their text is still read and block
 * boundaries still end lines, but lists, links and headings there no longer
 * change the rendering, which keeps the frame stack bounded.
 */
#include "core/blocks.h"
#include "core/html_parse.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "core/url.h"
#include "core/utf8.h"

/* ---- Element kinds ---------------------------------------------------------------------- */

enum {
    EL_BLOCK = 1 << 0, /* ends the current line on entry and on exit */
    EL_SKIP = 1 << 1,  /* neither the element nor its content is rendered */
    EL_LIST = 1 << 2,  /* ul, ol: items inside are one level deeper */
    EL_ITEM = 1 << 3,  /* li: a bullet line, then lines indented 2 more */
    EL_CELL = 1 << 4,  /* td, th: joined to the row's previous cell with " | " */
    EL_PRE = 1 << 5,   /* keeps its whitespace and newlines */
    EL_BREAK = 1 << 6, /* br */
    EL_LINK = 1 << 7,  /* a */
    EL_HEAD = 1 << 8,  /* head: only its metadata is read */
    EL_META = 1 << 9,  /* title, meta, link, base, script: read for metadata, never rendered */
    EL_ROOT = 1 << 10, /* html: carries the page language */
};

typedef struct el_kind {
    const char *name;
    uint16_t flags;
    uint8_t heading;
} el_kind;

/*
 * Sorted by name for bsearch; kept out of clang-format, which would give each entry a line.
 * Elements not listed are inline: their text joins the current line.
 */
/* clang-format off */
static const el_kind el_kinds[] = {
    {"a", EL_LINK, 0}, {"address", EL_BLOCK, 0}, {"article", EL_BLOCK, 0}, {"aside", EL_BLOCK, 0},
    {"audio", EL_SKIP, 0}, {"base", EL_META, 0}, {"blockquote", EL_BLOCK, 0}, {"body", EL_BLOCK, 0},
    {"br", EL_BREAK, 0}, {"button", EL_SKIP, 0}, {"canvas", EL_SKIP, 0}, {"caption", EL_BLOCK, 0},
    {"center", EL_BLOCK, 0}, {"datalist", EL_SKIP, 0}, {"dd", EL_BLOCK, 0},
    {"details", EL_BLOCK, 0}, {"dir", EL_BLOCK | EL_LIST, 0}, {"div", EL_BLOCK, 0},
    {"dl", EL_BLOCK, 0}, {"dt", EL_BLOCK, 0}, {"embed", EL_SKIP, 0}, {"fieldset", EL_BLOCK, 0},
    {"figcaption", EL_BLOCK, 0}, {"figure", EL_BLOCK, 0}, {"footer", EL_BLOCK, 0},
    {"form", EL_BLOCK, 0}, {"h1", EL_BLOCK, 1}, {"h2", EL_BLOCK, 2}, {"h3", EL_BLOCK, 3},
    {"h4", EL_BLOCK, 4}, {"h5", EL_BLOCK, 5}, {"h6", EL_BLOCK, 6}, {"head", EL_HEAD, 0},
    {"header", EL_BLOCK, 0}, {"hgroup", EL_BLOCK, 0}, {"hr", EL_BLOCK, 0},
    {"html", EL_BLOCK | EL_ROOT, 0}, {"iframe", EL_SKIP, 0}, {"input", EL_SKIP, 0},
    {"legend", EL_BLOCK, 0}, {"li", EL_BLOCK | EL_ITEM, 0}, {"link", EL_META, 0},
    {"listing", EL_BLOCK | EL_PRE, 0}, {"main", EL_BLOCK, 0}, {"math", EL_SKIP, 0},
    {"menu", EL_BLOCK | EL_LIST, 0}, {"meta", EL_META, 0}, {"nav", EL_BLOCK, 0},
    {"noscript", EL_SKIP, 0}, {"object", EL_SKIP, 0}, {"ol", EL_BLOCK | EL_LIST, 0},
    {"optgroup", EL_SKIP, 0}, {"option", EL_SKIP, 0}, {"p", EL_BLOCK, 0},
    {"plaintext", EL_BLOCK | EL_PRE, 0}, {"pre", EL_BLOCK | EL_PRE, 0}, {"script", EL_META, 0},
    {"section", EL_BLOCK, 0}, {"select", EL_SKIP, 0}, {"style", EL_SKIP, 0},
    {"summary", EL_BLOCK, 0}, {"svg", EL_SKIP, 0}, {"table", EL_BLOCK, 0}, {"td", EL_CELL, 0},
    {"template", EL_SKIP, 0}, {"textarea", EL_SKIP, 0}, {"th", EL_CELL, 0}, {"title", EL_META, 0},
    {"tr", EL_BLOCK, 0}, {"ul", EL_BLOCK | EL_LIST, 0}, {"video", EL_SKIP, 0},
    {"xmp", EL_BLOCK | EL_PRE, 0},
};
/* clang-format on */

static int el_kind_cmp(const void *key, const void *entry)
{
    return strcmp(key, ((const el_kind *)entry)->name);
}

/* The kind of an element (libxml2 lower-cases HTML names), or NULL for an inline one. */
static const el_kind *kind_of(const xmlNode *node)
{
    return bsearch(node->name, el_kinds, sizeof(el_kinds) / sizeof(el_kinds[0]),
                   sizeof(el_kinds[0]), el_kind_cmp);
}

/* ---- Reader state ----------------------------------------------------------------------- */

/* What the walk is inside of; each frame keeps the copy to restore when its element ends. */
typedef struct walk_ctx {
    const xmlChar *href; /* raw href of the innermost usable <a>, borrowed from the DOM */
    size_t item;         /* 1 + frame index of the innermost <li>, 0 outside items */
    size_t lists;        /* list nesting depth */
    uint8_t heading;     /* level of the enclosing h1..h6, 0 outside */
    bool pre;            /* inside <pre>: whitespace and newlines are kept */
} walk_ctx;

typedef struct frame {
    const xmlNode *node;
    walk_ctx saved;
    size_t item_lists; /* li: the list depth its lines are indented by */
    bool started;      /* li: its bullet line has been emitted */
} frame;

/* Links seen in the current line and how many characters each contributed. A line with more
 * distinct links than this has none that covers half of it in practice. */
#define LINE_LINKS 8

typedef struct line_buf {
    char *text; /* not NUL-terminated; owned by the reader */
    size_t len, cap;
    bool space;   /* a whitespace run waits to become one space before the next character */
    bool sep;     /* a cell boundary waits to become " | " before the next character */
    size_t chars; /* code points other than ASCII whitespace: the base of link attribution */
    struct {
        const xmlChar *href;
        size_t chars;
    } links[LINE_LINKS];
    size_t n_links;
    uint16_t indent; /* fixed when the line's first character arrives */
    bool bullet;
    uint8_t heading;
} line_buf;

/* JSON-LD values, held until the walk ends so that <meta> tags take precedence; owned. */
typedef struct ld_values {
    char *published, *modified, *headline;
} ld_values;

typedef struct reader {
    bl_doc *doc;
    bl_limits limits;
    const char *base_url; /* borrowed from the caller, may be NULL */
    char *base_tag;       /* the page's <base href> resolved, owned, or NULL */
    walk_ctx cx;
    frame *frames; /* owned; at most max_depth entries */
    size_t n_frames, cap_frames;
    line_buf line;
    ld_values ld_article, ld_other; /* from objects typed as articles, and from the rest */
    size_t nodes;
    bool stop;   /* a limit was reached or memory ran out: visit no more nodes */
    bool failed; /* memory ran out */
} reader;

static void fail(reader *r)
{
    r->failed = true;
    r->stop = true;
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* ---- Small helpers ---------------------------------------------------------------------- */

/*
 * Returns text when it is valid UTF-8 without NULs, else a copy (stored in *owned for the
 * caller to free) with each bad byte replaced by U+FFFD: libxml2 copies the bytes of a page
 * that lied about its charset straight into the tree, and PostgreSQL would reject them later.
 * *len is updated. Returns NULL when out of memory.
 */
static const char *valid_utf8(const char *text, size_t *len, char **owned)
{
    size_t bad, left = *len;
    *owned = NULL;
    if (sd_utf8_valid(text, left, &bad))
        return text;
    char *out = malloc(left * 3 + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    for (;;) {
        memcpy(out + n, text, bad);
        n += bad;
        memcpy(out + n, "\xef\xbf\xbd", 3);
        n += 3;
        text += bad + 1;
        left -= bad + 1;
        if (sd_utf8_valid(text, left, &bad)) {
            memcpy(out + n, text, left);
            n += left;
            break;
        }
    }
    out[n] = '\0';
    *owned = out;
    *len = n;
    return out;
}

/* A copy of s with ASCII whitespace runs collapsed to one space and trimmed; NULL on OOM. */
static char *collapse_ws(const char *s)
{
    char *out = malloc(strlen(s) + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    bool space = false;
    for (; *s; s++) {
        if (is_space((unsigned char)*s)) {
            space = n > 0;
            continue;
        }
        if (space)
            out[n++] = ' ';
        space = false;
        out[n++] = *s;
    }
    out[n] = '\0';
    return out;
}

/* Sets a metadata field from page text, whitespace-collapsed and valid UTF-8. */
static void set_meta(reader *r, bl_meta_field field, const char *value)
{
    if (!value)
        return;
    char *collapsed = collapse_ws(value), *fixed = NULL;
    size_t len = collapsed ? strlen(collapsed) : 0;
    const char *clean = collapsed ? valid_utf8(collapsed, &len, &fixed) : NULL;
    if (!clean || (*clean && bl_doc_set_meta(r->doc, field, clean) < 0))
        fail(r);
    free(fixed);
    free(collapsed);
}

/* The value of an attribute ("" for a bare one like `hidden`), or NULL when absent. */
static const char *attr(const xmlNode *node, const char *name)
{
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        if (strcmp((const char *)a->name, name) != 0)
            continue;
        /* The HTML parser stores a value as a single text child. */
        if (a->children && a->children->type == XML_TEXT_NODE && a->children->content)
            return (const char *)a->children->content;
        return "";
    }
    return NULL;
}

/* True when value, trimmed, equals word ignoring ASCII case. */
static bool value_is(const char *value, const char *word)
{
    while (is_space((unsigned char)*value))
        value++;
    size_t n = strlen(word);
    if (strncasecmp(value, word, n) != 0)
        return false;
    for (value += n; *value; value++)
        if (!is_space((unsigned char)*value))
            return false;
    return true;
}

/* True when an inline style hides the element; only its first 255 non-space bytes are read. */
static bool style_hides(const char *style)
{
    char compact[256];
    size_t n = 0;
    for (; *style && n < sizeof(compact) - 1; style++)
        if (!is_space((unsigned char)*style))
            compact[n++] = (char)((*style >= 'A' && *style <= 'Z') ? *style + 32 : *style);
    compact[n] = '\0';
    return strstr(compact, "display:none") || strstr(compact, "visibility:hidden");
}

/* Browsers do not render these, and the crawler's text renderings do not show them either. */
static bool is_hidden(const xmlNode *node)
{
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        const char *name = (const char *)a->name;
        if (strcmp(name, "hidden") == 0)
            return true;
        if (strcmp(name, "aria-hidden") == 0 && value_is(attr(node, name), "true"))
            return true;
        if (strcmp(name, "style") == 0 && style_hides(attr(node, name)))
            return true;
    }
    return false;
}

/* True for the C0 controls and space that browsers strip from both ends of a url. */
/*
 * Teaser boxes often put a title and its lead inside one link of one list
 * item: <li><a><strong>title</strong><span class="lead">lead...</span></a>.
 * A browser shows them on two lines through CSS the reader does not see; an
 * inline element of an item whose class names a lead, summary, description
 * or excerpt ends the line before and after it, so the lead becomes the
 * item's second line, as in the text renderings.
 */
static bool lead_in_item(const reader *r, const xmlNode *node, const el_kind *kind)
{
    if (kind || !r->cx.item)
        return false;
    const char *cls = attr(node, "class");
    if (!cls)
        return false;
    static const char *const words[] = {"lead", "summary", "desc", "excerpt", "teaser"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcasestr(cls, words[i]))
            return true;
    }
    return false;
}

static bool is_url_trim(unsigned char c)
{
    return c != '\0' && c <= ' ';
}

static bool has_http_scheme(const char *url, size_t scheme_len)
{
    return (scheme_len == 4 && strncasecmp(url, "http", 4) == 0) ||
           (scheme_len == 5 && strncasecmp(url, "https", 5) == 0);
}

/*
 * True for a link that can lead to a story: http(s) or relative. javascript:, mailto:, tel:
 * and the like lead nowhere we crawl, and a fragment or an empty href points back at the page.
 */
static bool href_usable(const char *href)
{
    while (is_url_trim((unsigned char)*href))
        href++;
    if (*href == '\0' || *href == '#')
        return false;
    size_t i = 0;
    while ((href[i] >= 'a' && href[i] <= 'z') || (href[i] >= 'A' && href[i] <= 'Z') ||
           (i > 0 && ((href[i] >= '0' && href[i] <= '9') || href[i] == '+' || href[i] == '-' ||
                      href[i] == '.')))
        i++;
    return i == 0 || href[i] != ':' || has_http_scheme(href, i);
}

/*
 * Resolves a usable href against the page's <base href>, else the caller's base url. Returns
 * a new string (free()) or NULL when the href is unusable or cannot be made an absolute http(s)
 * url. Out of memory also gives NULL (cu_resolve does not tell it apart); the line then has
 * no link.
 */
static char *resolve(const reader *r, const char *href)
{
    if (!href || !href_usable(href))
        return NULL;
    while (is_url_trim((unsigned char)*href))
        href++;
    size_t len = strlen(href);
    while (len && is_url_trim((unsigned char)href[len - 1]))
        len--;
    char *ref = strndup(href, len);
    if (!ref)
        return NULL;
    const char *base = r->base_tag ? r->base_tag : r->base_url;
    /* Without a base only an absolute href can resolve; resolving it against itself
     * normalizes its path. */
    char *out = cu_resolve(base ? base : ref, ref);
    free(ref);
    /* The resolver follows the URL standard, which also drops tabs and newlines inside the
     * scheme ("java\nscript:"), so the scheme is checked again on the result. */
    if (out && !has_http_scheme(out, strcspn(out, ":"))) {
        free(out);
        out = NULL;
    }
    return out;
}

/* ---- Lines ------------------------------------------------------------------------------ */

static void line_put(reader *r, const char *s, size_t n)
{
    line_buf *ln = &r->line;
    if (ln->len + n > ln->cap) {
        size_t cap = ln->cap ? ln->cap : 256;
        while (cap < ln->len + n)
            cap *= 2;
        char *grown = realloc(ln->text, cap);
        if (!grown) {
            fail(r);
            return;
        }
        ln->text = grown;
        ln->cap = cap;
    }
    memcpy(ln->text + ln->len, s, n);
    ln->len += n;
}

static uint16_t indent_for(size_t lists, size_t extra)
{
    size_t indent = lists > UINT16_MAX / 2 ? UINT16_MAX : 2 * lists + extra;
    return indent > UINT16_MAX ? UINT16_MAX : (uint16_t)indent;
}

/* Fixes the line's indent, bullet and heading when its first character arrives. */
static void line_start(reader *r)
{
    line_buf *ln = &r->line;
    ln->heading = r->cx.heading;
    ln->bullet = false;
    if (!r->cx.item) {
        ln->indent = indent_for(r->cx.lists, 0);
        return;
    }
    frame *item = &r->frames[r->cx.item - 1];
    if (item->started) {
        ln->indent = indent_for(item->item_lists, 2);
        return;
    }
    ln->bullet = true;
    ln->indent = indent_for(item->item_lists, 0);
    /* Enclosing items count as started too, so text after a nested list is not a bullet. */
    for (size_t k = r->cx.item; k && !r->frames[k - 1].started; k = r->frames[k - 1].saved.item)
        r->frames[k - 1].started = true;
}

/* Credits chars characters of the current line to the enclosing link, if any. */
static void tally_link(reader *r, size_t chars)
{
    line_buf *ln = &r->line;
    const xmlChar *href = r->cx.href;
    if (!href)
        return;
    for (size_t i = 0; i < ln->n_links; i++) {
        if (ln->links[i].href == href || xmlStrEqual(ln->links[i].href, href)) {
            ln->links[i].chars += chars;
            return;
        }
    }
    if (ln->n_links < LINE_LINKS) {
        ln->links[ln->n_links].href = href;
        ln->links[ln->n_links++].chars = chars;
    }
}

/*
 * Emits the current line, trimmed of ASCII whitespace and U+00A0 at both ends, and starts an
 * empty one. The line carries the link that contributed at least half of its characters.
 */
static void end_line(reader *r)
{
    line_buf *ln = &r->line;
    size_t len = ln->len;
    for (;;) {
        if (len && is_space((unsigned char)ln->text[len - 1]))
            len--;
        else if (len >= 2 && memcmp(ln->text + len - 2, "\xc2\xa0", 2) == 0)
            len -= 2;
        else
            break;
    }
    if (len && !r->failed) {
        size_t best = LINE_LINKS;
        for (size_t i = 0; i < ln->n_links; i++)
            if (best == LINE_LINKS || ln->links[i].chars > ln->links[best].chars)
                best = i;
        char *href = NULL, *fixed_text = NULL, *fixed_href = NULL;
        if (best < LINE_LINKS && ln->links[best].chars * 2 >= ln->chars)
            href = resolve(r, (const char *)ln->links[best].href);
        size_t href_len = href ? strlen(href) : 0;
        const char *text = valid_utf8(ln->text, &len, &fixed_text);
        const char *clean_href = href ? valid_utf8(href, &href_len, &fixed_href) : NULL;
        int rc = (!text || (href && !clean_href)) ? -1
                                                  : bl_doc_add(r->doc, text, len, ln->indent,
                                                               ln->bullet, ln->heading, clean_href);
        if (rc < 0)
            fail(r);
        else if (rc > 0)
            r->stop = true; /* max_lines: the doc marked itself truncated */
        free(fixed_text);
        free(fixed_href);
        free(href);
    }
    ln->len = 0;
    ln->chars = 0;
    ln->n_links = 0;
    ln->space = ln->sep = false;
}

/*
 * Adds a text node's content to the current line. Outside <pre>, runs of ASCII whitespace
 * become one space (none at the start of a line); inside, whitespace is kept and a newline
 * ends the line. U+00A0 is kept except at the start of a line, where it would only indent.
 */
static void add_text(reader *r, const char *s, size_t n)
{
    line_buf *ln = &r->line;
    size_t i = 0;
    while (i < n && !r->failed) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' && r->cx.pre) {
            end_line(r);
            i++;
            continue;
        }
        if (is_space(c)) {
            if (r->cx.pre && ln->len && c != '\r')
                line_put(r, s + i, 1);
            else
                ln->space = true;
            i++;
            continue;
        }
        if (!ln->len && c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] == 0xa0) {
            i += 2;
            continue;
        }
        size_t j = i + 1;
        while (j < n && !is_space((unsigned char)s[j]))
            j++;
        if (!ln->len)
            line_start(r);
        else if (ln->sep)
            line_put(r, " | ", 3);
        else if (ln->space)
            line_put(r, " ", 1);
        ln->space = ln->sep = false;
        line_put(r, s + i, j - i);
        size_t chars = 0;
        for (size_t k = i; k < j; k++)
            chars += ((unsigned char)s[k] & 0xc0) != 0x80;
        ln->chars += chars;
        tally_link(r, chars);
        i = j;
    }
}

/* ---- Metadata --------------------------------------------------------------------------- */

static void ld_take(reader *r, char **slot, json_t *value)
{
    if (*slot || !json_is_string(value))
        return;
    *slot = strdup(json_string_value(value));
    if (!*slot)
        fail(r);
}

/* True for schema.org types that describe the article itself (NewsArticle, BlogPosting, ...). */
static bool ld_is_article(json_t *object)
{
    json_t *type = json_object_get(object, "@type");
    json_t *one;
    size_t i;
    if (json_is_string(type))
        return strstr(json_string_value(type), "Article") ||
               strstr(json_string_value(type), "BlogPosting");
    json_array_foreach(type, i, one)
    {
        if (json_is_string(one) && (strstr(json_string_value(one), "Article") ||
                                    strstr(json_string_value(one), "BlogPosting")))
            return true;
    }
    return false;
}

/*
 * Collects values from a JSON-LD object, the objects of a top-level array, and those of an
 * @graph. The recursion follows the JSON, which jansson caps at 2048 levels; we stop at 4.
 */
static void ld_scan(reader *r, json_t *value, int depth)
{
    if (depth > 4)
        return;
    if (json_is_array(value)) {
        size_t i;
        json_t *one;
        json_array_foreach(value, i, one) ld_scan(r, one, depth + 1);
        return;
    }
    if (!json_is_object(value))
        return;
    ld_values *into = ld_is_article(value) ? &r->ld_article : &r->ld_other;
    ld_take(r, &into->published, json_object_get(value, "datePublished"));
    ld_take(r, &into->modified, json_object_get(value, "dateModified"));
    ld_take(r, &into->headline, json_object_get(value, "headline"));
    json_t *graph = json_object_get(value, "@graph");
    if (graph)
        ld_scan(r, graph, depth + 1);
}

/* Sets fields <meta> tags left empty: article-typed objects first, then any other object. */
static void ld_apply(reader *r)
{
    ld_values *tiers[] = {&r->ld_article, &r->ld_other};
    for (size_t i = 0; i < 2; i++) {
        set_meta(r, BL_META_PUBLISHED, tiers[i]->published);
        set_meta(r, BL_META_MODIFIED, tiers[i]->modified);
        set_meta(r, BL_META_OG_TITLE, tiers[i]->headline);
    }
}

static void ld_free(ld_values *v)
{
    free(v->published);
    free(v->modified);
    free(v->headline);
}

/* Sets a field from a url-valued attribute, resolved against the base. */
static void set_meta_url(reader *r, bl_meta_field field, const char *href)
{
    char *url = resolve(r, href);
    if (url)
        set_meta(r, field, url);
    free(url);
}

static void read_meta_tag(reader *r, const xmlNode *node)
{
    static const struct {
        const char *key;
        bl_meta_field field;
    } keys[] = {
        {"og:url", BL_META_OG_URL},
        {"og:title", BL_META_OG_TITLE},
        {"article:published_time", BL_META_PUBLISHED},
        {"article:modified_time", BL_META_MODIFIED},
        {"author", BL_META_AUTHOR},
        {"article:author", BL_META_AUTHOR},
        {"description", BL_META_DESCRIPTION},
        {"og:description", BL_META_DESCRIPTION},
    };
    const char *content = attr(node, "content");
    if (!content)
        return;
    /* Sites mix up property= and name=, so both are read. */
    const char *names[] = {attr(node, "property"), attr(node, "name")};
    for (size_t n = 0; n < 2; n++) {
        for (size_t k = 0; names[n] && k < sizeof(keys) / sizeof(keys[0]); k++) {
            if (!value_is(names[n], keys[k].key))
                continue;
            if (keys[k].field == BL_META_OG_URL)
                set_meta_url(r, keys[k].field, content);
            else
                set_meta(r, keys[k].field, content);
        }
    }
}

/* True when a rel attribute's space-separated tokens include "canonical". */
static bool rel_is_canonical(const char *rel)
{
    while (*rel) {
        while (is_space((unsigned char)*rel))
            rel++;
        size_t n = 0;
        while (rel[n] && !is_space((unsigned char)rel[n]))
            n++;
        if (n == 9 && strncasecmp(rel, "canonical", 9) == 0)
            return true;
        rel += n;
    }
    return false;
}

/* Reads a metadata element: title, meta, link, base or script (only JSON-LD is read). */
static void read_metadata(reader *r, const xmlNode *node)
{
    const char *name = (const char *)node->name;
    if (strcmp(name, "title") == 0) {
        if (bl_meta_of(r->doc)->title)
            return;
        xmlChar *text = xmlNodeGetContent(node);
        set_meta(r, BL_META_TITLE, (const char *)text);
        xmlFree(text);
    } else if (strcmp(name, "meta") == 0) {
        read_meta_tag(r, node);
    } else if (strcmp(name, "link") == 0) {
        const char *rel = attr(node, "rel");
        if (rel && rel_is_canonical(rel))
            set_meta_url(r, BL_META_CANONICAL, attr(node, "href"));
    } else if (strcmp(name, "base") == 0) {
        /* Browsers use the first <base href>; links resolve against it from then on. */
        if (!r->base_tag)
            r->base_tag = resolve(r, attr(node, "href"));
    } else if (strcmp(name, "script") == 0) {
        const char *type = attr(node, "type");
        if (!type || !value_is(type, "application/ld+json"))
            return;
        xmlChar *text = xmlNodeGetContent(node);
        /* Malformed JSON-LD is common and harmless: it is ignored. */
        json_t *root = text ? json_loads((const char *)text, 0, NULL) : NULL;
        if (root)
            ld_scan(r, root, 0);
        json_decref(root);
        xmlFree(text);
    }
}

/* <head> holds only metadata elements, one level deep; its other content is not rendered. */
static void read_head(reader *r, const xmlNode *head)
{
    for (const xmlNode *child = head->children; child && !r->stop; child = child->next) {
        if (++r->nodes > r->limits.max_nodes) {
            bl_doc_set_limit(r->doc, "max_nodes");
            r->stop = true;
            break;
        }
        const el_kind *kind = child->type == XML_ELEMENT_NODE ? kind_of(child) : NULL;
        if (kind && (kind->flags & EL_META))
            read_metadata(r, child);
    }
}

/* ---- The walk --------------------------------------------------------------------------- */

enum visit { VISIT_SKIP, VISIT_CHILDREN };

/* Handles entering a node at the given element depth; says whether to visit its children. */
static enum visit enter(reader *r, const xmlNode *node, size_t depth)
{
    if (++r->nodes > r->limits.max_nodes) {
        bl_doc_set_limit(r->doc, "max_nodes");
        r->stop = true;
        return VISIT_SKIP;
    }
    if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
        if (node->content)
            add_text(r, (const char *)node->content, strlen((const char *)node->content));
        return VISIT_SKIP;
    }
    if (node->type != XML_ELEMENT_NODE)
        return VISIT_SKIP; /* comments, processing instructions, the DTD */
    const el_kind *kind = kind_of(node);
    unsigned flags = kind ? kind->flags : 0;
    if (flags & EL_META) {
        read_metadata(r, node);
        return VISIT_SKIP;
    }
    if (flags & EL_HEAD) {
        read_head(r, node);
        return VISIT_SKIP;
    }
    if ((flags & EL_SKIP) || is_hidden(node))
        return VISIT_SKIP;
    if (flags & EL_ROOT)
        set_meta(r, BL_META_LANG, attr(node, "lang"));
    if ((flags & (EL_BLOCK | EL_BREAK)) || lead_in_item(r, node, kind))
        end_line(r);
    if ((flags & EL_CELL) && r->line.len)
        r->line.sep = true;
    if (depth >= r->limits.max_depth) {
        /* Flattened: no frame, so no list, link or heading state; the page is marked. */
        bl_doc_set_limit(r->doc, "max_depth");
        return VISIT_CHILDREN;
    }
    if (r->n_frames == r->cap_frames) {
        size_t cap = r->cap_frames ? r->cap_frames * 2 : 64;
        frame *grown = realloc(r->frames, cap * sizeof(*grown));
        if (!grown) {
            fail(r);
            return VISIT_SKIP;
        }
        r->frames = grown;
        r->cap_frames = cap;
    }
    frame *f = &r->frames[r->n_frames++];
    *f = (frame){.node = node, .saved = r->cx};
    if (flags & EL_LINK) {
        const char *href = attr(node, "href");
        if (href && href_usable(href))
            r->cx.href = (const xmlChar *)href;
    }
    if (flags & EL_LIST)
        r->cx.lists++;
    if (flags & EL_ITEM) {
        /* An <li> outside any list still renders as a first-level item. */
        f->item_lists = r->cx.lists ? r->cx.lists : 1;
        r->cx.item = r->n_frames;
    }
    if (kind && kind->heading)
        r->cx.heading = kind->heading;
    if (flags & EL_PRE)
        r->cx.pre = true;
    return VISIT_CHILDREN;
}

/* Handles leaving an element whose children were visited (or that had none). */
static void leave(reader *r, const xmlNode *node)
{
    if (node->type != XML_ELEMENT_NODE)
        return;
    const el_kind *kind = kind_of(node);
    if ((kind && (kind->flags & EL_BLOCK)) || lead_in_item(r, node, kind))
        end_line(r);
    if (r->n_frames && r->frames[r->n_frames - 1].node == node)
        r->cx = r->frames[--r->n_frames].saved;
}

/* Visits the tree in document order using parent pointers; the C stack stays flat. */
static void walk(reader *r, const xmlDoc *dom)
{
    const xmlNode *top = (const xmlNode *)dom;
    const xmlNode *cur = dom->children;
    size_t depth = 0;
    while (cur && !r->stop) {
        if (enter(r, cur, depth) == VISIT_CHILDREN) {
            if (cur->children) {
                cur = cur->children;
                depth++;
                continue;
            }
            leave(r, cur);
        }
        while (cur && !cur->next && !r->stop) {
            cur = cur->parent;
            if (!cur || cur == top) {
                cur = NULL;
                break;
            }
            depth--;
            leave(r, cur);
        }
        if (cur)
            cur = cur->next;
    }
    end_line(r);
}

/* ---- Parsing ---------------------------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

bl_doc *bl_from_html(const char *html, size_t len, const char *base_url, const bl_limits *limits,
                     char *err, size_t errlen)
{
    bl_doc *doc = bl_doc_new(limits);
    if (!doc) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    /* A blank page renders to nothing; libxml2 would refuse it as an empty document. */
    size_t first = 0;
    while (first < len && is_space((unsigned char)html[first]))
        first++;
    if (first == len)
        return doc;
    if (len > INT_MAX) {
        set_err(err, errlen, "page too large for the HTML parser");
        bl_free(doc);
        return NULL;
    }
    xmlDoc *dom = sd_html_parse(html, len);
    if (!dom) {
        set_err(err, errlen, "the HTML parser could not read the page");
        bl_free(doc);
        return NULL;
    }
    reader r = {
        .doc = doc,
        .limits = limits ? *limits : bl_default_limits,
        .base_url = base_url,
    };
    walk(&r, dom);
    ld_apply(&r);
    xmlFreeDoc(dom);
    free(r.frames);
    free(r.line.text);
    free(r.base_tag);
    ld_free(&r.ld_article);
    ld_free(&r.ld_other);
    if (r.failed) {
        set_err(err, errlen, "out of memory");
        bl_free(doc);
        return NULL;
    }
    return doc;
}
