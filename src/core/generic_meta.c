/*
 * The generic HTML extractor's knowledge of pages (see generic_html.c): the
 * class and id words that name boilerplate or story containers on sites
 * everywhere, and the page metadata (<title>, <meta>, <link rel=canonical>,
 * schema.org JSON-LD) read during the DOM walk.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "core/generic_internal.h"

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

const char *gx__attr(const xmlNode *node, const char *name)
{
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        if (strcasecmp((const char *)a->name, name) != 0)
            continue;
        if (a->children && a->children->type == XML_TEXT_NODE && a->children->content)
            return (const char *)a->children->content;
        return "";
    }
    return NULL;
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

static bool has_token(const char *names, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = names; (p = strstr(p, word)) != NULL; p++) {
        bool left = p == names || !isalnum((unsigned char)p[-1]);
        bool right = !isalnum((unsigned char)p[wl]);
        if (left && right)
            return true;
    }
    return false;
}

/* Reads class, id and role; sets the hint weight and the negative-word flag. */
void gx__class_hints(gnode *g)
{
    const char *cls = gx__attr(g->node, "class"), *id = gx__attr(g->node, "id");
    const char *prop = gx__attr(g->node, "itemprop"), *role = gx__attr(g->node, "role");
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
    char names[320];
    snprintf(names, sizeof(names), "%.150s %.150s", cls ? cls : "", id ? id : "");
    for (char *p = names; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    bool neg = false, pos = false;
    for (size_t i = 0; i < sizeof(negative_words) / sizeof(negative_words[0]) && !neg; i++)
        neg = strstr(names, negative_words[i]) != NULL;
    for (size_t i = 0; i < sizeof(negative_tokens) / sizeof(negative_tokens[0]) && !neg; i++)
        neg = has_token(names, negative_tokens[i]);
    for (size_t i = 0; i < sizeof(positive_words) / sizeof(positive_words[0]) && !pos; i++)
        pos = strstr(names, positive_words[i]) != NULL;
    for (size_t i = 0; i < sizeof(body_words) / sizeof(body_words[0]); i++) {
        if (strstr(names, body_words[i])) {
            g->weight += 25;
            break;
        }
    }
    if (neg) {
        g->weight -= 25;
        g->flags |= N_NEG_WORD;
    }
    if (pos)
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

void gx__read_meta(gx_ctx *c, const xmlNode *node)
{
    const char *name = (const char *)node->name;
    if (strcmp(name, "title") == 0) {
        if (!c->title) {
            xmlChar *text = xmlNodeGetContent(node);
            gx__take(c, &c->title, (const char *)text);
            xmlFree(text);
        }
    } else if (strcmp(name, "meta") == 0) {
        const char *content = gx__attr(node, "content");
        const char *key = gx__attr(node, "property");
        if (!key || !*key)
            key = gx__attr(node, "name");
        if (!key || !*key)
            key = gx__attr(node, "itemprop");
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
        const char *rel = gx__attr(node, "rel");
        if (rel && strcasestr(rel, "canonical"))
            gx__take(c, &c->canonical, gx__attr(node, "href"));
    } else if (strcmp(name, "script") == 0) {
        const char *type = gx__attr(node, "type");
        if (!type || !strcasestr(type, "ld+json"))
            return;
        xmlChar *text = xmlNodeGetContent(node);
        /* Malformed JSON-LD is common and harmless: it is ignored. */
        json_t *root = text ? json_loads((const char *)text, JSON_DECODE_ANY, NULL) : NULL;
        if (root)
            ld_scan(c, root, 0);
        json_decref(root);
        xmlFree(text);
    }
}
