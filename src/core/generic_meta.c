/*
 * The generic HTML extractor's knowledge of pages (see generic_html.c): the
 * class and id words that name boilerplate or story containers on sites
 * everywhere, and the page metadata (<title>, <meta>, <link rel=canonical>,
 * schema.org JSON-LD) read during the DOM walk.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <libxml/HTMLparser.h>

#include "core/generic_internal.h"
#include "core/utf8.h"

void gx__take(gx_ctx *c, char **slot, const char *value)
{
    if (*slot || !value)
        return;
    while (*value && isspace((unsigned char)*value))
        value++;
    if (!*value)
        return;
    *slot = strdup(value);
    if (!*slot)
        c->failed = true;
}

/* ---- Class and id hints ----------------------------------------------------------------- */

/*
 * Words in class and id that name boilerplate on sites everywhere. Matched as substrings of
 * the lower-cased names, so "shareBar", "social-links" and "relatedStories" are caught.
 */
static const char *const negative_words[] = {
    "comment",    "share",         "sharing",      "social",        "related",
    "recommend",  "newsletter",    "subscri",      "signup",        "sign-up",
    "promo",      "advert",        "sponsor",      "sidebar",       "breadcrumb",
    "cookie",     "popup",         "modal",        "footer",        "masthead",
    "navbar",     "navigation",    "menu",         "outbrain",      "taboola",
    "trending",   "popular",       "most-read",    "mostread",      "read-more",
    "readmore",   "more-stories",  "author-bio",   "authorbio",     "byline",
    "dateline",   "tags",          "tag-list",     "taglist",       "disqus",
    "pagination", "pager",         "banner",       "skip-link",     "visually-hidden",
    "sr-only",    "screen-reader", "toolbar",      "widget",        "login",
    "caption",    "credit",        "post-meta",    "entry-meta",    "article-meta",
    "print-only", "hidden-print",  "rss",          "subnav",        "topbar",
    "masthead",   "copyright",     "newsfeed",     "jump-link",     "gallery",
    "slideshow",  "headline-list", "next-article", "prev-article",  "also-read",
    "see-also",   "follow",        "donate",       "paywall-promo", "signin",
    "feedback",   "rating",        "timestamp",    "publish-date",  "header",
    "kicker",     "meta-data",     "metadata",     "sharethis",
};

/* Short words that only count as whole tokens ("ad" must not match "header" or "read"). */
static const char *const negative_tokens[] = {"ad",  "ads", "adv",  "dfp",   "gpt",   "nav",
                                              "tag", "byl", "meta", "tools", "print", "hide"};

static const char *const positive_words[] = {"article", "body",  "content", "entry", "main",
                                             "post",    "story", "text",    "blog",  "prose"};

/* Names that say "this is the story text" outright. */
static const char *const body_words[] = {
    "articlebody",     "article-body",   "article_body", "article__body", "story-body",
    "storybody",       "entry-content",  "post-content", "postcontent",   "post-body",
    "article-content", "articlecontent", "article-text", "story-content", "body-text",
    "news_body",       "newsbody",       "article_txt",  "news-content",  "article_view",
    "view_con"};

enum { W_NEG = 1, W_TOKEN = 2, W_POS = 4, W_BODY = 8 };

/* The four lists above, indexed by their first two letters: built once. */
typedef struct hint_word {
    const char *word;
    uint8_t len, kind;
} hint_word;

static struct {
    hint_word words[160];
    uint8_t from[26 * 27 + 1]; /* words[from[k]..from[k + 1]) start with the pair k */
} hint_index;

static pthread_once_t hint_once = PTHREAD_ONCE_INIT;

static void hint_build(void)
{
    struct {
        const char *const *list;
        size_t n;
        uint8_t kind;
    } lists[] = {
        {negative_words, sizeof(negative_words) / sizeof(negative_words[0]), W_NEG},
        {negative_tokens, sizeof(negative_tokens) / sizeof(negative_tokens[0]), W_TOKEN},
        {positive_words, sizeof(positive_words) / sizeof(positive_words[0]), W_POS},
        {body_words, sizeof(body_words) / sizeof(body_words[0]), W_BODY},
    };
    size_t n = 0;
    /* Pair k: first letter k / 27, second k % 27 (26 for '-' and '_', which no word has). */
    for (int k = 0; k < 26 * 27; k++) {
        hint_index.from[k] = (uint8_t)n;
        for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
            for (size_t i = 0; i < lists[l].n; i++) {
                const char *w = lists[l].list[i];
                if (w[0] == 'a' + k / 27 && w[1] == 'a' + k % 27 &&
                    n < sizeof(hint_index.words) / sizeof(hint_index.words[0]))
                    hint_index.words[n++] = (hint_word){w, (uint8_t)strlen(w), lists[l].kind};
            }
    }
    hint_index.from[26 * 27] = (uint8_t)n;
}

static bool is_alnum_ascii(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
}

/*
 * Which kinds of word the lower-cased names hold: one scan, each position tried against the
 * words that start with its letter (substrings; W_TOKEN words only as whole tokens).
 */
static unsigned hint_kinds(const char *names, size_t len)
{
    pthread_once(&hint_once, hint_build);
    unsigned kinds = 0;
    for (size_t p = 0; p + 1 < len; p++) {
        unsigned char c = (unsigned char)names[p], d = (unsigned char)names[p + 1];
        if (c < 'a' || c > 'z' || d < 'a' || d > 'z')
            continue;
        size_t pair = (size_t)(c - 'a') * 27 + (size_t)(d - 'a');
        for (size_t k = hint_index.from[pair]; k < hint_index.from[pair + 1]; k++) {
            const hint_word *w = &hint_index.words[k];
            if (kinds & w->kind || w->len > len - p ||
                memcmp(names + p + 2, w->word + 2, w->len - 2u) != 0)
                continue;
            if (w->kind == W_TOKEN && ((p > 0 && is_alnum_ascii((unsigned char)names[p - 1])) ||
                                       is_alnum_ascii((unsigned char)names[p + w->len])))
                continue;
            kinds |= w->kind;
        }
    }
    return kinds;
}

void gx__read_attrs(const hf_doc *d, int32_t node, gx_attrs *out)
{
    *out = (gx_attrs){0};
    const hf_node *n = &d->nodes[node];
    for (uint32_t k = 0; k < n->n_attrs; k++) {
        const hf_attr *a = &d->attrs[n->len + k];
        const char *name = d->strs + a->name, *value = d->strs + a->value;
        const char **slot = NULL;
        switch (name[0] | 0x20) {
        case 'c':
            slot = strcasecmp(name, "class") == 0 ? &out->cls : NULL;
            break;
        case 'i':
            slot = strcasecmp(name, "id") == 0         ? &out->id
                   : strcasecmp(name, "itemprop") == 0 ? &out->prop
                                                       : NULL;
            break;
        case 'r':
            slot = strcasecmp(name, "role") == 0 ? &out->role : NULL;
            break;
        case 's':
            slot = strcasecmp(name, "style") == 0 ? &out->style : NULL;
            break;
        case 'a':
            slot = strcasecmp(name, "aria-hidden") == 0 ? &out->aria_hidden : NULL;
            break;
        case 'h':
            slot = strcasecmp(name, "hidden") == 0 ? &out->hidden : NULL;
            break;
        default:
            break;
        }
        if (slot && !*slot) /* the first of duplicates, as hf_attr_value reads */
            *slot = value;
    }
}

/* Reads class, id and role; sets the hint weight and the negative-word flag. */
void gx__class_hints(gnode *g, const gx_attrs *at)
{
    const char *cls = at->cls, *id = at->id, *prop = at->prop, *role = at->role;
    if (prop && strcasestr(prop, "articleBody")) {
        g->flags |= N_BODY;
        g->weight += 50;
    }
    if (role && (strcasecmp(role, "navigation") == 0 || strcasecmp(role, "complementary") == 0 ||
                 strcasecmp(role, "contentinfo") == 0 || strcasecmp(role, "banner") == 0 ||
                 strcasecmp(role, "menu") == 0 || strcasecmp(role, "dialog") == 0))
        g->flags |= N_NEG_WORD;
    if (!cls && !id)
        return;
    /* "class id", each cut at 150 bytes, lower-cased. */
    char names[320];
    size_t n = 0;
    for (const char *p = cls ? cls : ""; *p && n < 150; p++)
        names[n++] = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
    names[n++] = ' ';
    size_t id_from = n;
    for (const char *p = id ? id : ""; *p && n - id_from < 150; p++)
        names[n++] = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
    names[n] = '\0';
    unsigned kinds = hint_kinds(names, n);
    if (kinds & W_BODY)
        g->weight += 25;
    if (kinds & (W_NEG | W_TOKEN)) {
        g->weight -= 25;
        g->flags |= N_NEG_WORD;
    }
    if (kinds & W_POS)
        g->weight += 25;
}

/* ---- Metadata --------------------------------------------------------------------------- */

static bool ld_is_article(json_t *object)
{
    json_t *type = json_object_get(object, "@type"), *one;
    size_t i;
    if (json_is_string(type)) {
        const char *t = json_string_value(type);
        return strstr(t, "Article") || strstr(t, "BlogPosting") || strstr(t, "Report");
    }
    json_array_foreach(type, i, one)
    {
        const char *t = json_is_string(one) ? json_string_value(one) : "";
        if (strstr(t, "Article") || strstr(t, "BlogPosting") || strstr(t, "Report"))
            return true;
    }
    return false;
}

static void ld_author(gx_ctx *c, json_t *value, int depth)
{
    if (c->ld_author || depth > 3)
        return;
    if (json_is_string(value)) {
        gx__take(c, &c->ld_author, json_string_value(value));
    } else if (json_is_object(value)) {
        json_t *name = json_object_get(value, "name");
        if (json_is_string(name))
            gx__take(c, &c->ld_author, json_string_value(name));
    } else if (json_is_array(value)) {
        size_t i;
        json_t *one;
        json_array_foreach(value, i, one) ld_author(c, one, depth + 1);
    }
}

static void ld_string(gx_ctx *c, char **slot, json_t *value)
{
    if (json_is_string(value))
        gx__take(c, slot, json_string_value(value));
}

/* Reads an article object of a JSON-LD block (top-level, in an array or in an @graph). */
static void ld_scan(gx_ctx *c, json_t *value, int depth)
{
    if (depth > 4)
        return;
    if (json_is_array(value)) {
        size_t i;
        json_t *one;
        json_array_foreach(value, i, one) ld_scan(c, one, depth + 1);
        return;
    }
    if (!json_is_object(value))
        return;
    if (ld_is_article(value)) {
        ld_string(c, &c->ld_headline, json_object_get(value, "headline"));
        ld_string(c, &c->ld_published, json_object_get(value, "datePublished"));
        ld_string(c, &c->ld_modified, json_object_get(value, "dateModified"));
        ld_string(c, &c->ld_body, json_object_get(value, "articleBody"));
        ld_string(c, &c->ld_lang, json_object_get(value, "inLanguage"));
        ld_author(c, json_object_get(value, "author"), 0);
    }
    json_t *graph = json_object_get(value, "@graph");
    if (graph)
        ld_scan(c, graph, depth + 1);
}

void gx__read_meta(gx_ctx *c, int32_t node)
{
    const hf_doc *d = c->doc;
    const char *name = hf_name(d, node);
    if (strcmp(name, "title") == 0) {
        if (!c->title) {
            char *text = hf_content(d, node);
            if (!text)
                c->failed = true;
            gx__take(c, &c->title, text);
            free(text);
        }
    } else if (strcmp(name, "meta") == 0) {
        const char *content = hf_attr_value(d, node, "content");
        const char *key = hf_attr_value(d, node, "property");
        if (!key || !*key)
            key = hf_attr_value(d, node, "name");
        if (!key || !*key)
            key = hf_attr_value(d, node, "itemprop");
        if (!content || !key)
            return;
        if (strcasecmp(key, "og:title") == 0)
            gx__take(c, &c->og_title, content);
        else if (strcasecmp(key, "og:url") == 0)
            gx__take(c, &c->og_url, content);
        else if (strcasecmp(key, "og:locale") == 0)
            gx__take(c, &c->og_locale, content);
        else if (strcasecmp(key, "article:published_time") == 0 ||
                 strcasecmp(key, "datePublished") == 0 || strcasecmp(key, "pubdate") == 0 ||
                 strcasecmp(key, "publish-date") == 0 || strcasecmp(key, "parsely-pub-date") == 0 ||
                 strcasecmp(key, "sailthru.date") == 0 || strcasecmp(key, "dc.date") == 0 ||
                 strcasecmp(key, "date") == 0)
            gx__take(c, &c->published, content);
        else if (strcasecmp(key, "article:modified_time") == 0 ||
                 strcasecmp(key, "og:updated_time") == 0 || strcasecmp(key, "dateModified") == 0)
            gx__take(c, &c->modified, content);
        else if ((strcasecmp(key, "author") == 0 || strcasecmp(key, "article:author") == 0 ||
                  strcasecmp(key, "parsely-author") == 0 ||
                  strcasecmp(key, "sailthru.author") == 0) &&
                 strncasecmp(content, "http", 4) != 0)
            gx__take(c, &c->author, content);
    } else if (strcmp(name, "link") == 0) {
        const char *rel = hf_attr_value(d, node, "rel");
        if (rel && strcasestr(rel, "canonical"))
            gx__take(c, &c->canonical, hf_attr_value(d, node, "href"));
    } else if (strcmp(name, "script") == 0) {
        const char *type = hf_attr_value(d, node, "type");
        if (!type || !strcasestr(type, "ld+json"))
            return;
        char *text = hf_content(d, node);
        if (!text)
            c->failed = true;
        /* Malformed JSON-LD is common and harmless: it is ignored. */
        json_t *root = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
        if (root)
            ld_scan(c, root, 0);
        json_decref(root);
        free(text);
    }
}

/* ---- Paragraphs and fields -------------------------------------------------------------- */

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Labels that sites put between paragraphs and that are never the story. */
static bool is_label(const char *p, size_t n)
{
    static const char *const labels[] = {"advertisement",
                                         "advertisement:",
                                         "ad",
                                         "story continues below advertisement",
                                         "continue reading below",
                                         "continue reading",
                                         "scroll to continue with content",
                                         "read more",
                                         "related",
                                         "related:",
                                         "share this article",
                                         "share",
                                         "sponsored",
                                         "click to expand",
                                         "loading...",
                                         "광고",
                                         "(adsbygoogle = window.adsbygoogle || []).push({});"};
    while (n && is_ws((unsigned char)p[n - 1]))
        n--;
    for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
        if (strlen(labels[i]) == n && strncasecmp(p, labels[i], n) == 0)
            return true;
    return false;
}

/* Drops labels and a first paragraph that repeats the title. */
char *gx__filter_paragraphs(const char *body, const char *title)
{
    sbuf out = {0};
    bool first = true;
    for (const char *p = body; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        bool drop = is_label(p, n);
        if (first && title && n == strlen(title) && strncmp(p, title, n) == 0)
            drop = true;
        if (!drop) {
            if (out.len)
                gx__sb_put(&out, "\n", 1);
            gx__sb_put(&out, p, n);
            first = false;
        }
        p += n + (nl ? 1 : 0);
    }
    if (out.failed) {
        free(out.s);
        return NULL;
    }
    if (!out.s)
        out.s = strdup("");
    return out.s;
}

/*
 * Replaces each byte that is not part of valid UTF-8 with '?', in place. The input should be
 * UTF-8 already, but libxml2 copies the bytes of a page that lied about its charset straight
 * into the tree, and what leaves the extractor must be valid.
 */
void gx__fix_utf8(char *s, size_t len)
{
    size_t bad;
    for (size_t i = 0; i < len;) {
        if (sd_utf8_valid(s + i, len - i, &bad))
            break;
        s[i + bad] = '?';
        i += bad + 1;
    }
}

/* A copy of s with whitespace collapsed and invalid UTF-8 replaced; NULL for NULL or OOM. */
char *gx__clean_field(const char *s)
{
    if (!s)
        return NULL;
    sbuf b = {0};
    bool space = false;
    for (const char *p = s; *p; p++) {
        if (is_ws((unsigned char)*p)) {
            space = b.len > 0;
            continue;
        }
        if (space)
            gx__sb_put(&b, " ", 1);
        space = false;
        gx__sb_put(&b, p, 1);
    }
    if (b.failed || !b.s) {
        free(b.s);
        return NULL;
    }
    gx__fix_utf8(b.s, b.len);
    return b.s;
}

/* Words (runs of letters and digits) in s: the unit the story's length is judged in. */
size_t gx__word_count(const char *s)
{
    size_t n = 0;
    bool in = false;
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        bool w = isalnum(*p) || *p >= 0x80;
        if (w && !in)
            n++;
        in = w;
    }
    return n;
}

void gx__cap_utf8(char *s, size_t max)
{
    if (!s || strlen(s) <= max)
        return;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    s[max] = '\0';
}

/* ---- Slimming the page before it is parsed ---------------------------------------------- */

/*
 * libxml2 reads the content of <script> and <style> a character at a time, and every attribute
 * value too, and half the bytes of a page are scripts and styles. What the extractor never
 * reads is left out of the copy the parser gets: script bodies (except JSON-LD), style bodies,
 * comment text (whole comments between two tags), the content of svg and math (see
 * sl_foreign_end), and attributes other than those read here (class, id, itemprop, role, style,
 * hidden, aria-hidden, type; every attribute of meta, link and html). The copy is tokenized as
 * libxml2's HTML parser (2.9) tokenizes: start tags (a letter after '<'), attribute names and
 * values (quoted, or up to a blank or '>'), end tags up to '>', comments up to "-->", raw text
 * in script and style up to "</script" or "</style". The elements, their order and their text
 * stay exactly as they were. Anything it is unsure of (a NUL byte, an unterminated quote or
 * comment, "<?", "<_", a name of 100 characters) ends the slimming: the rest is copied as is.
 */

typedef struct slim {
    const unsigned char *s;
    size_t len;
    char *out;
    size_t n, cap;
    bool failed;
    bool mute;      /* reading ahead: nothing is copied */
    bool empty;     /* the last start tag read ended in "/>" */
    size_t skip_to; /* where reading goes on after a dropped comment, when past its end */
    size_t tag_out; /* the length of the copy after the last tag copied */
} slim;

static void sl_put(slim *w, const void *p, size_t k)
{
    if (w->failed || w->mute)
        return;
    if (w->n + k + 1 > w->cap) {
        size_t cap = w->cap * 2 > w->n + k + 1 ? w->cap * 2 : w->n + k + 1;
        char *grown = realloc(w->out, cap);
        if (!grown) {
            w->failed = true;
            return;
        }
        w->out = grown;
        w->cap = cap;
    }
    memcpy(w->out + w->n, p, k);
    w->n += k;
}

static bool sl_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool sl_letter(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Copies text between tags with each run of blanks made one: '\n' when the run holds one
 * (a line break in <pre>), else ' ' when it holds a space, else its first blank. Rendering
 * collapses blanks the same way, and a run of blanks stays a run of blanks for the parser.
 */
static void sl_text(slim *w, size_t from, size_t to)
{
    const unsigned char *s = w->s;
    size_t span = from;
    for (size_t p = from; p < to; p++) {
        if (!sl_blank(s[p]) || p + 1 >= to || !sl_blank(s[p + 1]))
            continue;
        size_t end = p;
        unsigned char one = s[p];
        while (end < to && sl_blank(s[end])) {
            if (s[end] == '\n' || (s[end] == ' ' && one != '\n'))
                one = s[end];
            end++;
        }
        sl_put(w, s + span, p - span);
        sl_put(w, &one, 1);
        span = end;
        p = end - 1;
    }
    sl_put(w, s + span, to - span);
}

/* Length of the name at s[at..len) as htmlParseHTMLName reads it; 0 when none. */
static size_t sl_name(const slim *w, size_t at)
{
    const unsigned char *s = w->s;
    if (at >= w->len || !(sl_letter(s[at]) || s[at] == '_' || s[at] == ':' || s[at] == '.'))
        return 0;
    size_t k = 0;
    while (at + k < w->len &&
           (sl_letter(s[at + k]) || (s[at + k] >= '0' && s[at + k] <= '9') || s[at + k] == ':' ||
            s[at + k] == '-' || s[at + k] == '_' || s[at + k] == '.'))
        k++;
    return k;
}

static bool sl_is(const slim *w, size_t at, size_t k, const char *name)
{
    return strlen(name) == k && strncasecmp((const char *)w->s + at, name, k) == 0;
}

static size_t sl_skip_blanks(const slim *w, size_t at)
{
    while (at < w->len && sl_blank(w->s[at]))
        at++;
    return at;
}

/* The attributes the extractor reads on any element. */
static bool sl_keep_attr(const slim *w, size_t at, size_t k)
{
    static const char *const keep[] = {"class", "id",          "itemprop", "role",
                                       "style", "aria-hidden", "hidden"};
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
        if (sl_is(w, at, k, keep[i]))
            return true;
    return false;
}

/* Where the raw text of a script or style element that starts at `at` ends: its "</name". */
static size_t sl_raw_end(const slim *w, size_t at, size_t tag, size_t tag_len)
{
    for (size_t p = at; p + 1 < w->len;) {
        const unsigned char *lt = memchr(w->s + p, '<', w->len - p);
        if (!lt)
            return SIZE_MAX;
        p = (size_t)(lt - w->s);
        if (p + 1 < w->len && w->s[p + 1] == '/' && p + 2 + tag_len <= w->len &&
            strncasecmp((const char *)w->s + p + 2, (const char *)w->s + tag, tag_len) == 0)
            return p;
        p++;
    }
    return SIZE_MAX;
}

static size_t sl_start_tag(slim *w, size_t at);

/*
 * Where the content of an svg or math element that starts at `at` ends (its "</svg"), when
 * the content is one the parser keeps inside the element whatever surrounds it: start and end
 * tags that pair up exactly, with names the HTML parser does not know (so no end or start tag
 * can close an element outside; "title" and "style" are known and harmless), comments and
 * text. Else SIZE_MAX, and the content is copied as usual.
 */
static size_t sl_foreign_end(slim *w, size_t at, size_t tag, size_t tag_len)
{
    enum { MAX_OPEN = 32 };
    size_t open[MAX_OPEN], open_len[MAX_OPEN], depth = 0;
    const unsigned char *s = w->s;
    size_t p = at, result = SIZE_MAX;
    w->mute = true;
    for (;;) {
        const unsigned char *lt = memchr(s + p, '<', w->len - p);
        if (!lt)
            break;
        p = (size_t)(lt - s);
        unsigned char c = p + 1 < w->len ? s[p + 1] : 0;
        if (c == '!') {
            if (p + 4 > w->len || memcmp(s + p, "<!--", 4) != 0 ||
                (p + 4 < w->len && (s[p + 4] == '>' || s[p + 4] == '-')))
                break;
            const unsigned char *end = memmem(s + p + 4, w->len - p - 4, "-->", 3);
            if (!end || memmem(s + p + 4, (size_t)(end - s) - p - 4 + 2, "--!>", 4))
                break;
            p = (size_t)(end - s) + 3;
            continue;
        }
        size_t name = p + (c == '/' ? 2 : 1), k = sl_name(w, name);
        if (k == 0 || k >= 100)
            break;
        if (c == '/') {
            const unsigned char *gt = memchr(s + name + k, '>', w->len - name - k);
            if (!gt)
                break;
            if (depth == 0) {
                if (k == tag_len &&
                    strncasecmp((const char *)s + name, (const char *)s + tag, k) == 0)
                    result = p;
                break;
            }
            depth--;
            if (open_len[depth] != k ||
                strncasecmp((const char *)s + name, (const char *)s + open[depth], k) != 0)
                break;
            p = (size_t)(gt - s) + 1;
            continue;
        }
        char lower[100];
        for (size_t i = 0; i < k; i++)
            lower[i] = (char)tolower(s[name + i]);
        lower[k] = '\0';
        bool known = htmlTagLookup((const xmlChar *)lower) != NULL;
        if (known && strcmp(lower, "title") != 0 && strcmp(lower, "style") != 0)
            break;
        size_t next = sl_start_tag(w, p);
        if (next == SIZE_MAX || depth == MAX_OPEN)
            break;
        if (!w->empty) {
            open[depth] = name;
            open_len[depth++] = k;
        }
        p = next;
    }
    w->mute = false;
    return result;
}

/*
 * Copies the start tag at `at` (s[at] is '<', a letter follows) with the attributes kept, and
 * the raw text after a script or style tag when it is kept. Returns where reading goes on, or
 * SIZE_MAX when the tag is not one to be sure of (the caller copies the rest as it is).
 */
static size_t sl_start_tag(slim *w, size_t at)
{
    const unsigned char *s = w->s;
    size_t tag = at + 1, tag_len = sl_name(w, tag);
    if (tag_len == 0 || tag_len >= 100)
        return SIZE_MAX;
    bool keep_all = sl_is(w, tag, tag_len, "meta") || sl_is(w, tag, tag_len, "link") ||
                    sl_is(w, tag, tag_len, "html");
    bool script = sl_is(w, tag, tag_len, "script"), style = sl_is(w, tag, tag_len, "style");
    bool ld_json = false;
    w->empty = false;
    sl_put(w, s + at, 1 + tag_len);
    size_t p = tag + tag_len;
    for (;;) {
        p = sl_skip_blanks(w, p);
        if (p >= w->len)
            return SIZE_MAX;
        if (s[p] == '>') {
            sl_put(w, ">", 1);
            p++;
            break;
        }
        if (s[p] == '/' && p + 1 < w->len && s[p + 1] == '>') {
            sl_put(w, "/>", 2);
            w->empty = true;
            return p + 2; /* an empty element: no raw text follows */
        }
        size_t a = p, a_len = sl_name(w, p);
        if (a_len == 0) { /* junk libxml2 skips up to a blank or the end of the tag */
            while (p < w->len && !sl_blank(s[p]) && s[p] != '>' &&
                   !(s[p] == '/' && p + 1 < w->len && s[p + 1] == '>'))
                p++;
            continue;
        }
        if (a_len >= 100)
            return SIZE_MAX;
        p += a_len;
        size_t q = sl_skip_blanks(w, p), value = 0, value_len = 0;
        if (q < w->len && s[q] == '=') {
            q = sl_skip_blanks(w, q + 1);
            if (q >= w->len)
                return SIZE_MAX;
            if (s[q] == '"' || s[q] == '\'') {
                const unsigned char *close = memchr(s + q + 1, s[q], w->len - q - 1);
                if (!close)
                    return SIZE_MAX;
                value = q + 1;
                value_len = (size_t)(close - s) - value;
                q = (size_t)(close - s) + 1;
            } else {
                value = q;
                while (q < w->len && !sl_blank(s[q]) && s[q] != '>')
                    q++;
                value_len = q - value;
            }
            p = q;
        }
        if (script && sl_is(w, a, a_len, "type") && value_len) {
            char type[64];
            size_t k = value_len < sizeof(type) - 1 ? value_len : sizeof(type) - 1;
            memcpy(type, s + value, k);
            type[k] = '\0';
            ld_json = strcasestr(type, "ld+json") != NULL;
        }
        if (keep_all || sl_keep_attr(w, a, a_len) || (script && sl_is(w, a, a_len, "type"))) {
            sl_put(w, " ", 1);
            sl_put(w, s + a, p - a);
        }
    }
    if (!script && !style) {
        if (!w->mute && (sl_is(w, tag, tag_len, "svg") || sl_is(w, tag, tag_len, "math"))) {
            size_t end = sl_foreign_end(w, p, tag, tag_len);
            if (end != SIZE_MAX)
                return end; /* the content goes: the walk never enters svg or math */
        }
        return p;
    }
    /* Raw text: libxml2 reads an end tag first when the text starts with "</". */
    size_t end = sl_raw_end(w, p, tag, tag_len);
    if (end == SIZE_MAX || (p + 1 < w->len && s[p] == '<' && s[p + 1] == '/' && end != p))
        return SIZE_MAX;
    if (sl_name(w, end + 2) != tag_len) /* "</scripts>" ends nothing */
        return SIZE_MAX;
    if (script && ld_json)
        sl_put(w, s + p, end - p);
    return end;
}

/*
 * A comment between two tags (blanks around it allowed) goes altogether: the parser skips
 * comments when it decides whether blanks are text, and the blanks on its two sides become
 * one run, made one blank as sl_text would. Returns false when the comment must stay (text
 * next to it: it would join two text nodes).
 */
static bool sl_drop_comment(slim *w, size_t after)
{
    size_t n = w->n;
    if (n && sl_blank((unsigned char)w->out[n - 1]))
        n--;
    if (n == 0 || n != w->tag_out)
        return false;
    size_t next = sl_skip_blanks(w, after);
    if (next + 1 >= w->len || w->s[next] != '<' ||
        !(sl_letter(w->s[next + 1]) || w->s[next + 1] == '/' || w->s[next + 1] == '!'))
        return false;
    if (next > after && w->n > n) { /* blanks on both sides: one run */
        unsigned char one = (unsigned char)w->out[n];
        for (size_t p = after; p < next; p++)
            if (w->s[p] == '\n' || (w->s[p] == ' ' && one != '\n'))
                one = w->s[p];
        w->out[n] = (char)one;
        w->n = n + 1;
        /* The main loop copies the blanks after the comment: skip them by copying nothing. */
        w->skip_to = next;
    }
    return true;
}

char *gx__slim(const char *html, size_t len, size_t *out_len)
{
    if (memchr(html, '\0', len))
        return NULL;
    slim w = {.s = (const unsigned char *)html, .len = len, .cap = len + 1024};
    w.out = malloc(w.cap);
    if (!w.out)
        return NULL;
    const unsigned char *s = w.s;
    size_t i = 0;
    while (i < len && !w.failed) {
        const unsigned char *lt = memchr(s + i, '<', len - i);
        size_t at = lt ? (size_t)(lt - s) : len;
        sl_text(&w, i, at);
        i = at;
        if (at >= len)
            break;
        size_t next = SIZE_MAX;
        unsigned char c = at + 1 < len ? s[at + 1] : 0;
        if (c == '/') {
            size_t k = sl_name(&w, at + 2);
            if (k == 0) {
                next = at + 2; /* "</" with no name is dropped by the parser and read on */
                sl_put(&w, "</", 2);
            } else if (k < 100) {
                const unsigned char *gt = memchr(s + at + 2 + k, '>', len - at - 2 - k);
                if (gt) {
                    next = (size_t)(gt - s) + 1;
                    sl_put(&w, s + at, next - at);
                }
            }
        } else if (c == '!' && at + 4 <= len && memcmp(s + at, "<!--", 4) == 0) {
            bool abrupt = at + 4 < len && (s[at + 4] == '>' ||
                                           (s[at + 4] == '-' && at + 5 < len && s[at + 5] == '>'));
            const unsigned char *end = abrupt ? NULL : memmem(s + at + 4, len - at - 4, "-->", 3);
            if (end && !memmem(s + at + 4, (size_t)(end - s) - at - 4 + 2, "--!>", 4)) {
                next = (size_t)(end - s) + 3;
                if (!sl_drop_comment(&w, next))
                    sl_put(&w, "<!---->", 7);
            }
        } else if (c == '!' && at + 9 <= len && strncasecmp(html + at + 2, "doctype", 7) == 0) {
            char quote = 0;
            for (size_t p = at + 9; p < len; p++) {
                if (quote) {
                    if (s[p] == quote)
                        quote = 0;
                } else if (s[p] == '"' || s[p] == '\'') {
                    quote = (char)s[p];
                } else if (s[p] == '>') {
                    next = p + 1;
                    sl_put(&w, s + at, next - at);
                    break;
                }
            }
        } else if (sl_letter(c)) {
            next = sl_start_tag(&w, at);
        } else if (c != '_' && c != ':' && c != '.' && c != '?' && c != '!') {
            next = at + 1; /* a '<' that starts no tag is text */
            sl_put(&w, "<", 1);
        } else if (c == '!') {
            next = at + 1;
            sl_put(&w, "<", 1);
        }
        if (next != SIZE_MAX && (c == '/' || sl_letter(c) || c == '!') && s[next - 1] == '>')
            w.tag_out = w.n; /* a tag, a comment or a doctype was copied */
        if (w.skip_to > next && next != SIZE_MAX)
            next = w.skip_to;
        if (next == SIZE_MAX) { /* not sure: the rest goes as it is */
            sl_put(&w, s + at, len - at);
            break;
        }
        i = next;
    }
    if (w.failed) {
        free(w.out);
        return NULL;
    }
    w.out[w.n] = '\0';
    *out_len = w.n;
    return w.out;
}
