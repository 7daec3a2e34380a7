#include "core/extract.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <utf8proc.h>

#include "core/charset.h"
#include "core/extract_internal.h"
#include "core/generic.h"
#include "core/normalize.h"
#include "core/url.h"

const ex_limits ex_default_limits = {
    .max_page_bytes = 16u << 20,
    .max_items = 2000,
    .max_item_bytes = 256u << 10,
    .blocks = {.max_lines = 200000, .max_depth = 512, .max_nodes = 2000000},
};

const char *ex_status_name(ex_status status)
{
    switch (status) {
    case EX_OK:
        return "ok";
    case EX_ERR_URL:
        return "url";
    case EX_ERR_CHARSET:
        return "charset";
    case EX_ERR_TOO_LARGE:
        return "too_large";
    case EX_ERR_PARSE:
        return "parse";
    case EX_ERR_NOMEM:
        return "out_of_memory";
    case EX_ERR_CONTENT_TYPE:
        return "content_type";
    }
    return "unknown";
}

/* ---- Dates ----------------------------------------------------------------------------------- */

static int read_number(const char **p, int digits)
{
    int value = 0;
    for (int i = 0; i < digits; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        value = value * 10 + ((*p)[i] - '0');
    }
    *p += digits;
    return value;
}

ex_precision ex_parse_kst_date(const char *text, int64_t *epoch_ms)
{
    const char *p = text;
    int year = read_number(&p, 4);
    if (year < 1900 || (*p != '.' && *p != '-'))
        return EX_TIME_NONE;
    char separator = *p++;
    int month = read_number(&p, 2);
    if (month < 1 || month > 12 || *p++ != separator)
        return EX_TIME_NONE;
    int day = read_number(&p, 2);
    if (day < 1 || day > 31)
        return EX_TIME_NONE;
    /* "2024-05-23(목)" and "2024.05.23 14:11" both occur; anything else ends the date. */
    int hour = -1, minute = -1;
    /* " HH:MM", each byte checked before the next is read: the text may end anywhere (fuzzing
     * found "2024.05.23 1" at the end of a line reading past it). A time cut short leaves the
     * day. */
    bool has_time = *p == ' ';
    for (int i = 1; has_time && i <= 5; i++)
        has_time = i == 3 ? p[i] == ':' : p[i] >= '0' && p[i] <= '9';
    if (has_time) {
        p++;
        hour = read_number(&p, 2);
        p++;
        minute = read_number(&p, 2);
        if (hour < 0 || hour > 23 || minute < 0 || minute > 59)
            return EX_TIME_NONE;
    } else if (*p >= '0' && *p <= '9') {
        return EX_TIME_NONE;
    }
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = month - 1,
                    .tm_mday = day,
                    .tm_hour = hour < 0 ? 0 : hour,
                    .tm_min = minute < 0 ? 0 : minute};
    time_t seconds = timegm(&tm);
    /* timegm rolls 2025.02.30 into March; a date that does not exist is no date. */
    struct tm check;
    if (!gmtime_r(&seconds, &check) || check.tm_mday != day || check.tm_mon != month - 1)
        return EX_TIME_NONE;
    /* Pages give Korea Standard Time (UTC+9, no daylight saving since 1988). */
    *epoch_ms = ((int64_t)seconds - 9 * 3600) * 1000;
    return hour < 0 ? EX_TIME_DAY : EX_TIME_MINUTE;
}

/* ---- Line helpers ---------------------------------------------------------------------------- */

bool ex_blank(const ex_ctx *ctx, size_t i)
{
    const char *t = ex_line(ctx, i)->text;
    while (*t) {
        if (*t == ' ')
            t++;
        else if ((unsigned char)t[0] == 0xc2 && (unsigned char)t[1] == 0xa0)
            t += 2; /* U+00A0 */
        else if ((unsigned char)t[0] == 0xe3 && (unsigned char)t[1] == 0x80 &&
                 (unsigned char)t[2] == 0x80)
            t += 3; /* U+3000 */
        else
            return false;
    }
    return true;
}

size_t ex_skip_blank(const ex_ctx *ctx, size_t i)
{
    while (i < ctx->n && ex_blank(ctx, i))
        i++;
    return i;
}

bool ex_is_list_header(const ex_ctx *ctx, size_t i)
{
    const bl_line *line = ex_line(ctx, i);
    if (line->bullet || line->indent > 0)
        return false;
    const sp_profile *p = ctx->profile;
    if (sp_list_has(&p->teaser_lists, line->text) || sp_list_has(&p->headline_lists, line->text) ||
        sp_list_has(&p->listing_headers, line->text))
        return true;
    for (size_t k = 0; k < p->section_header_suffixes.count; k++) {
        const char *suffix = p->section_header_suffixes.items[k];
        size_t sl = strlen(suffix);
        if (line->len > sl && line->len < sl + 60 &&
            strcmp(line->text + line->len - sl, suffix) == 0)
            return true;
    }
    return false;
}

bool ex_is_footer(const ex_ctx *ctx, size_t i)
{
    const char *text = ex_line(ctx, i)->text;
    return sp_list_in(&ctx->profile->footer_markers, text) && strstr(text, "\xe2\x93\x92") != NULL;
}

bool ex_is_cut_line(const ex_ctx *ctx, size_t i)
{
    return i + 1 == ctx->n && bl_ends_mid_line(ctx->doc);
}

bool ex_is_media_line(const ex_ctx *ctx, const char *text)
{
    const sp_profile *p = ctx->profile;
    for (size_t k = 0; k < p->caption_prefixes.count; k++) {
        if (strncmp(text, p->caption_prefixes.items[k], strlen(p->caption_prefixes.items[k])) == 0)
            return true;
    }
    /* "1000024144.jpg", "화면 캡처 2026-02-13 130358.png": a short line ending in an image name. */
    size_t len = strlen(text);
    const char *dot = strrchr(text, '.');
    if (!dot || len > 160)
        return false;
    for (size_t k = 0; k < p->image_extensions.count; k++) {
        if (strcasecmp(dot + 1, p->image_extensions.items[k]) == 0)
            return true;
    }
    return false;
}

/* ---- Items ----------------------------------------------------------------------------------- */

/* Cuts s to at most max bytes at a UTF-8 character boundary. */
/* Cuts s to at most max bytes at a character boundary; returns whether it cut. */
static bool cap_utf8(char *s, size_t max)
{
    size_t len = strlen(s);
    if (len <= max)
        return false;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    s[max] = '\0';
    return true;
}

/* Records that a limit cut the page short; the first one named is the one reported. */
static void page_limit(ex_page *page, const char *limit)
{
    page->truncated = true;
    if (!page->limit)
        page->limit = limit;
}

/* True when tag (the text inside a leading [..]) names a brand or a publisher; sets *brand. */
static bool brand_of_tag(const sp_profile *p, const char *tag, size_t len, char **brand)
{
    for (size_t k = 0; k < p->brand_tags.count; k++) {
        const char *name = p->brand_tags.items[k];
        size_t nl = strlen(name);
        if (len >= nl && memcmp(tag, name, nl) == 0) {
            *brand = strdup(name);
            return true;
        }
    }
    for (size_t k = 0; k < p->publisher_suffixes.count; k++) {
        const char *suffix = p->publisher_suffixes.items[k];
        size_t sl = strlen(suffix);
        if (len > sl && memcmp(tag + len - sl, suffix, sl) == 0 && !memchr(tag, ' ', len)) {
            *brand = strndup(tag, len);
            return true;
        }
    }
    return false;
}

const char *ex_after_caption(const ex_ctx *ctx, const char *text)
{
    for (const char *open = strstr(text, " ["); open; open = strstr(open + 1, " [")) {
        const char *close = strchr(open + 2, ']');
        char *brand = NULL;
        if (close && close - open < 80 &&
            brand_of_tag(ctx->profile, open + 2, (size_t)(close - open - 2), &brand)) {
            free(brand);
            return open + 1;
        }
    }
    return NULL;
}

/*
 * Splits a leading brand tag off a lead: "[동포투데이] text" gives brand
 * 동포투데이 and "text". A photo caption glued in front of the tag
 * ("▲ 사진=신화통신 [동포투데이] ...") goes too. Returns where the text starts.
 */
static const char *take_brand(ex_ctx *ctx, const char *text, char **brand)
{
    const char *start = text;
    while (*start == ' ')
        start++;
    const char *bracket = start;
    for (size_t k = 0; k < ctx->profile->caption_prefixes.count; k++) {
        const char *prefix = ctx->profile->caption_prefixes.items[k];
        if (strncmp(start, prefix, strlen(prefix)) == 0) {
            const char *open = strstr(start, " [");
            bracket = open && open - start < 200 ? open + 1 : start;
            break;
        }
    }
    if (*bracket != '[')
        return text;
    const char *close = strchr(bracket, ']');
    if (!close || close - bracket > 80)
        return text;
    if (!brand_of_tag(ctx->profile, bracket + 1, (size_t)(close - bracket - 1), brand))
        return text;
    if (!*brand) {
        ctx->nomem = true;
        return text;
    }
    close++;
    while (*close == ' ')
        close++;
    return close;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t sl = strlen(s), xl = strlen(suffix);
    return sl >= xl && strcmp(s + sl - xl, suffix) == 0;
}

ex_item *ex_emit(ex_ctx *ctx, ex_kind kind, const char *title, const char *text,
                 const char *section, const char *url, ex_cut cut)
{
    ex_page *page = ctx->page;
    if (page->n_items >= ctx->limits->max_items) {
        page_limit(page, "max_items");
        return NULL;
    }
    ex_item *item = ex_page_add_item(page, kind);
    if (!item) {
        ctx->nomem = true;
        return NULL;
    }
    unsigned entity_flag = page->is_html ? 0 : NZ_DECODE_ENTITIES;
    if (title) {
        item->title = nz_display(title, strlen(title), entity_flag, NULL);
        if (!item->title)
            goto nomem;
        if (!item->title[0]) {
            free(item->title);
            item->title = NULL;
        }
    }
    if (text) {
        const char *body = take_brand(ctx, text, &item->brand);
        item->text = nz_display(body, strlen(body), entity_flag | NZ_KEEP_NEWLINES, NULL);
        if (!item->text)
            goto nomem;
        if (!item->text[0]) {
            free(item->text);
            item->text = NULL;
        } else if (cap_utf8(item->text, ctx->limits->max_item_bytes)) {
            page_limit(page, "max_item_bytes");
        }
    }
    if (cut == EX_CUT_NONE && item->text) {
        for (size_t k = 0; k < ctx->profile->site_cut_markers.count; k++) {
            if (ends_with(item->text, ctx->profile->site_cut_markers.items[k]))
                cut = EX_CUT_SITE;
        }
    }
    item->cut = cut;
    if (section && !(item->section = strdup(section)))
        goto nomem;
    if (url) {
        /* The item's link in canonical form, so that dedup can compare it with page urls. */
        cu_rules rules = ctx->profile ? sp_url_rules(ctx->profile) : (cu_rules){0};
        char url_err[64];
        item->url = cu_canonical(url, &rules, url_err, sizeof(url_err));
        if (!item->url && !(item->url = strdup(url)))
            goto nomem;
    }
    if (item->title && !(item->title_key = nz_match_key(item->title, strlen(item->title), NULL)))
        goto nomem;
    if (item->text && !(item->text_key = nz_match_key(item->text, strlen(item->text), NULL)))
        goto nomem;
    if (!item->title && !item->text) {
        ex_page_drop_last(page);
        return NULL;
    }
    return item;
nomem:
    ctx->nomem = true;
    ex_page_drop_last(page);
    return NULL;
}

/* ---- The driver ------------------------------------------------------------------------------ */

/* "• 최종편집 2024-05-23(목)" near the top: the page's edit date, never a story's. */
static void note_page_edit(ex_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n && i < 12; i++) {
        const char *text = ex_line(ctx, i)->text;
        for (size_t k = 0; k < ctx->profile->page_edit_markers.count; k++) {
            const char *marker = ctx->profile->page_edit_markers.items[k];
            size_t ml = strlen(marker);
            if (strncmp(text, marker, ml) != 0)
                continue;
            const char *date = text + ml;
            while (*date == ' ')
                date++;
            int64_t when;
            if (ex_parse_kst_date(date, &when) != EX_TIME_NONE)
                ctx->page->edited_at_ms = when;
            return;
        }
    }
}

static const sp_profile *profile_for(const sp_profile *const *profiles, size_t n, const char *url)
{
    char host[256];
    if (cu_host(url, host, sizeof(host)) != 0)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (sp_serves_host(profiles[i], host))
            return profiles[i];
    }
    return NULL;
}

/*
 * True when text holds conjoining Hangul jamo or combining marks, the only
 * things NFC changes in practice. Composing a whole page costs more than this
 * scan, and almost every page is NFC already.
 */
static bool needs_nfc(const char *text, size_t len)
{
    size_t at = 0;
    while (at < len) {
        unsigned char c = (unsigned char)text[at];
        if (c < 0x80) {
            at++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t step = utf8proc_iterate((const utf8proc_uint8_t *)text + at,
                                                 (utf8proc_ssize_t)(len - at), &cp);
        if (step <= 0)
            return true;
        if ((cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0xa960 && cp <= 0xa97f) ||
            (cp >= 0xd7b0 && cp <= 0xd7ff) || utf8proc_get_property(cp)->combining_class != 0)
            return true;
        at += (size_t)step;
    }
    return false;
}

/*
 * Whether a content type can be a page: text of any kind, XHTML or XML, or none at all (the
 * bytes decide then). An image, a PDF or a binary is not read as text: junk would become items.
 */
static bool content_is_page(const char *content_type)
{
    if (!content_type)
        return true;
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    return !*content_type || *content_type == ';' || strncasecmp(content_type, "text/", 5) == 0 ||
           strncasecmp(content_type, "application/xhtml+xml", 21) == 0 ||
           strncasecmp(content_type, "application/xml", 15) == 0;
}

static bool content_is_html(const char *content_type, const uint8_t *body, size_t len)
{
    if (content_type) {
        if (strncasecmp(content_type, "text/html", 9) == 0 ||
            strncasecmp(content_type, "application/xhtml", 17) == 0)
            return true;
        if (strncasecmp(content_type, "text/plain", 10) == 0)
            return false;
    }
    /* No usable type: sniff the first bytes like browsers do. */
    size_t i = 0;
    while (i < len && i < 512 &&
           (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t' ||
            body[i] == 0xef || body[i] == 0xbb || body[i] == 0xbf))
        i++;
    return len - i >= 5 && (strncasecmp((const char *)body + i, "<!doc", 5) == 0 ||
                            strncasecmp((const char *)body + i, "<html", 5) == 0);
}

/*
 * A page no profile serves: the generic extractor finds its one story (HTML from the page's
 * UTF-8 text, a text rendering from its lines). A page where it finds no body gets no item;
 * an HTML page the generic parser refuses keeps its page facts, as before. Returns -1 only
 * when memory runs out.
 */
static int emit_generic(ex_page *page, const bl_doc *doc, const char *html, size_t len,
                        const char *url, const ex_limits *limits)
{
    gx_article *article = NULL;
    char gx_err[128];
    gx_limits gl = gx_default_limits;
    gl.max_nodes = limits->blocks.max_nodes;
    gl.max_body_bytes = limits->max_item_bytes;
    gl.max_depth = limits->blocks.max_depth;
    int rc = page->is_html ? gx_from_html(html, len, url, &gl, &article, gx_err, sizeof(gx_err))
                           : gx_from_lines(doc, &article, gx_err, sizeof(gx_err));
    if (rc == GX_ERR_NOMEM)
        return -1;
    if (rc != GX_OK || !article->body) {
        gx_article_free(article);
        return 0;
    }
    if (article->limit)
        page_limit(page, article->limit);
    if (page->n_items >= limits->max_items) {
        page_limit(page, "max_items");
        gx_article_free(article);
        return 0;
    }
    ex_item *item = ex_page_add_item(page, EX_ARTICLE);
    if (!item) {
        gx_article_free(article);
        return -1;
    }
    unsigned entities = page->is_html ? 0 : NZ_DECODE_ENTITIES;
    if (article->title &&
        !(item->title = nz_display(article->title, strlen(article->title), entities, NULL)))
        goto nomem;
    item->text =
        nz_display(article->body, strlen(article->body), entities | NZ_KEEP_NEWLINES, NULL);
    if (!item->text)
        goto nomem;
    if (cap_utf8(item->text, limits->max_item_bytes))
        page_limit(page, "max_item_bytes");
    if (item->title && !item->title[0]) {
        free(item->title);
        item->title = NULL;
    }
    char url_err[128];
    item->url = article->canonical
                    ? cu_canonical(article->canonical, NULL, url_err, sizeof(url_err))
                    : NULL;
    if (!item->url && page->canonical_url && !(item->url = strdup(page->canonical_url)))
        goto nomem;
    /* Text renderings write local times without a zone, and storyd's pages are Korean: KST.
     * Metadata in HTML carries its zone; without one it is read as UTC. */
    int64_t when;
    gx_precision precision = gx_parse_date(article->published, page->is_html ? 0 : 540, &when);
    if (precision != GX_TIME_NONE) {
        item->published_at_ms = when;
        item->precision = precision == GX_TIME_DAY ? EX_TIME_DAY : EX_TIME_MINUTE;
    }
    if (item->title && !(item->title_key = nz_match_key(item->title, strlen(item->title), NULL)))
        goto nomem;
    if (!(item->text_key = nz_match_key(item->text, strlen(item->text), NULL)))
        goto nomem;
    gx_article_free(article);
    return 0;
nomem:
    gx_article_free(article);
    ex_page_drop_last(page);
    return -1;
}

ex_status ex_extract(const sp_profile *const *profiles, size_t n_profiles, const ex_input *input,
                     const ex_limits *limits, ex_page **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!limits)
        limits = &ex_default_limits;
    if (!input->url || !input->url[0]) {
        snprintf(err, errlen, "the page event has no url");
        return EX_ERR_URL;
    }
    ex_page *page = calloc(1, sizeof(*page));
    if (!page)
        goto nomem_early;
    page->edited_at_ms = -1;
    page->kind = SP_PAGE_OTHER;
    const sp_profile *profile = profile_for(profiles, n_profiles, input->url);
    cu_rules rules = profile ? sp_url_rules(profile) : (cu_rules){0};
    char url_err[128];
    page->canonical_url = cu_canonical(input->url, &rules, url_err, sizeof(url_err));
    if (profile) {
        page->kind = sp_page_kind_of(profile, input->url);
        page->profile_name = profile->name;
        page->profile_version = profile->version;
    }

    if (!content_is_page(input->content_type)) {
        snprintf(err, errlen, "%.100s is not a text or HTML page", input->content_type);
        ex_page_free(page);
        return EX_ERR_CONTENT_TYPE;
    }
    page->is_html = content_is_html(input->content_type, input->body, input->len);
    char label[64];
    bool declared = cs_declared(input->content_type, input->body, input->len, page->is_html, label,
                                sizeof(label));
    cs_result text;
    char cs_err[256];
    if (cs_to_utf8(input->body, input->len, declared ? label : NULL, limits->max_page_bytes, &text,
                   cs_err, sizeof(cs_err)) != 0) {
        bool too_large = input->len > limits->max_page_bytes / 4;
        if (too_large)
            snprintf(err, errlen, "max_page_bytes (%zu) exceeded: %s", limits->max_page_bytes,
                     cs_err);
        else
            snprintf(err, errlen, "%s", cs_err);
        ex_page_free(page);
        return too_large ? EX_ERR_TOO_LARGE : EX_ERR_CHARSET;
    }
    snprintf(page->charset, sizeof(page->charset), "%s", text.charset);
    page->replaced_bytes = text.replaced;
    /* Template markers are compared byte for byte: NFD pages must be composed first. The
     * generic HTML extractor matches no Korean markers and composes what it keeps. */
    if ((profile || !page->is_html) && needs_nfc(text.text, text.len)) {
        utf8proc_uint8_t *composed = NULL;
        utf8proc_ssize_t composed_len =
            utf8proc_map((const utf8proc_uint8_t *)text.text, (utf8proc_ssize_t)text.len, &composed,
                         UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (composed_len < 0) {
            free(text.text);
            goto nomem;
        }
        free(text.text);
        text.text = (char *)composed;
        text.len = (size_t)composed_len;
    }

    /* An HTML page no profile serves goes to the generic extractor, which parses it itself:
     * rendering it into lines as well would parse every such page twice. */
    if (!profile && page->is_html) {
        int rc = emit_generic(page, NULL, text.text, text.len, input->url, limits);
        free(text.text);
        if (rc != 0)
            goto nomem;
        *out = page;
        return EX_OK;
    }
    bl_doc *doc;
    if (page->is_html) {
        char parse_err[256];
        doc = bl_from_html(text.text, text.len, input->url, &limits->blocks, parse_err,
                           sizeof(parse_err));
        if (!doc) {
            snprintf(err, errlen, "HTML: %s", parse_err);
            free(text.text);
            ex_page_free(page);
            return EX_ERR_PARSE;
        }
    } else {
        doc = bl_from_text(text.text, text.len, &limits->blocks);
    }
    if (!doc) {
        free(text.text);
        goto nomem;
    }
    if (bl_limit(doc))
        page_limit(page, bl_limit(doc));

    if (profile) {
        ex_ctx ctx = {
            .profile = profile, .doc = doc, .n = bl_count(doc), .page = page, .limits = limits};
        note_page_edit(&ctx);
        size_t after = page->kind == SP_PAGE_ARTICLE ? ex_article(&ctx) : 0;
        ex_lists(&ctx, after);
        if (ctx.nomem) {
            free(text.text);
            bl_free(doc);
            goto nomem;
        }
    } else if (emit_generic(page, doc, text.text, text.len, input->url, limits) != 0) {
        free(text.text);
        bl_free(doc);
        goto nomem;
    }
    free(text.text);
    bl_free(doc);
    *out = page;
    return EX_OK;

nomem:
    ex_page_free(page);
nomem_early:
    snprintf(err, errlen, "out of memory");
    return EX_ERR_NOMEM;
}
